/*
 * lease-record.c - the lease record (struct ovl_lease, lease.h) itself:
 * its life (new, copy, clear, free), the expiry and owner tests the
 * allocator and the stores share, and the public ovl_lease_* accessors.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lease/lease.h"

struct ovl_lease *lease_new(void)
{
	return calloc(1, sizeof(struct ovl_lease));
}

static int copy_string(char **out, const char *text)
{
	*out = NULL;
	if (!text)
		return 0;
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

struct ovl_lease *lease_copy(const struct ovl_lease *lease)
{
	struct ovl_lease *copy = lease_new();

	if (!copy)
		return NULL;
	*copy = *lease;
	copy->public_ip = copy->public_ipv6 = copy->backend_type = NULL;
	copy->backend_data = copy->backend_v6_data = copy->node_name = NULL;
	if (copy_string(&copy->public_ip, lease->public_ip) ||
	    copy_string(&copy->public_ipv6, lease->public_ipv6) ||
	    copy_string(&copy->backend_type, lease->backend_type) ||
	    copy_string(&copy->backend_data, lease->backend_data) ||
	    copy_string(&copy->backend_v6_data, lease->backend_v6_data) ||
	    copy_string(&copy->node_name, lease->node_name)) {
		ovl_lease_free(copy);
		return NULL;
	}
	return copy;
}

void lease_clear(struct ovl_lease *lease)
{
	free(lease->public_ip);
	free(lease->public_ipv6);
	free(lease->backend_type);
	free(lease->backend_data);
	free(lease->backend_v6_data);
	free(lease->node_name);
	memset(lease, 0, sizeof(*lease));
}

OVL_EXPORT void ovl_lease_free(struct ovl_lease *lease)
{
	if (!lease)
		return;
	lease_clear(lease);
	free(lease);
}

OVL_EXPORT void ovl_leases_free(struct ovl_lease **leases, size_t count)
{
	size_t i;

	if (!leases)
		return;
	for (i = 0; i < count; i++)
		ovl_lease_free(leases[i]);
	free(leases);
}

int lease_expired(const struct ovl_lease *lease, int64_t now)
{
	return lease->expiration != 0 && lease->expiration <= now;
}

int64_t lease_expiration_after(int64_t now, unsigned int ttl_seconds)
{
	/* now is truncated to the second: one more keeps the promise "at
	 * least ttl seconds" */
	return now + 1 + (ttl_seconds ? ttl_seconds : LEASE_DEFAULT_TTL);
}

int lease_same_owner(const struct ovl_lease *lease, const struct ovl_lease *other)
{
	if (lease->node_name || other->node_name)
		return lease->node_name && other->node_name &&
		       !strcmp(lease->node_name, other->node_name);
	if (lease->public_ip || other->public_ip)
		return lease->public_ip && other->public_ip &&
		       !strcmp(lease->public_ip, other->public_ip);
	return lease->public_ipv6 && other->public_ipv6 &&
	       !strcmp(lease->public_ipv6, other->public_ipv6);
}

/* ---- the public accessors ----------------------------------------------- */

OVL_EXPORT const char *ovl_lease_key(const struct ovl_lease *lease)
{
	return lease ? lease->key : NULL;
}

OVL_EXPORT const char *ovl_lease_subnet(const struct ovl_lease *lease, int family)
{
	if (!lease)
		return NULL;
	if (family == AF_INET)
		return lease->has_ipv4 ? lease->subnet_text : NULL;
	if (family == AF_INET6)
		return lease->has_ipv6 ? lease->ipv6_subnet_text : NULL;
	return NULL;
}

OVL_EXPORT const char *ovl_lease_public_ip(const struct ovl_lease *lease, int family)
{
	if (!lease)
		return NULL;
	return family == AF_INET ? lease->public_ip :
	       family == AF_INET6 ? lease->public_ipv6 : NULL;
}

OVL_EXPORT const char *ovl_lease_node_name(const struct ovl_lease *lease)
{
	return lease ? lease->node_name : NULL;
}

OVL_EXPORT const char *ovl_lease_backend_type(const struct ovl_lease *lease)
{
	return lease ? lease->backend_type : NULL;
}

OVL_EXPORT const char *ovl_lease_backend_data(const struct ovl_lease *lease, int family)
{
	if (!lease)
		return NULL;
	return family == AF_INET ? lease->backend_data :
	       family == AF_INET6 ? lease->backend_v6_data : NULL;
}

OVL_EXPORT int64_t ovl_lease_expiration(const struct ovl_lease *lease)
{
	return lease ? lease->expiration : 0;
}

OVL_EXPORT int ovl_lease_is_reservation(const struct ovl_lease *lease)
{
	return lease && lease->expiration == 0;
}

OVL_EXPORT int ovl_lease_is_lost(const struct ovl_lease *lease)
{
	return lease && lease->lost;
}
