/*
 * lease-codec.c - the lease record: its public accessors, flannel's subnet
 * key ("10.244.3.0-24&fd00::-64") and the LeaseAttrs JSON every store keeps,
 * read with the validation a record from another process deserves.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "lease.h"

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

OVL_EXPORT void ovl_lease_free(struct ovl_lease *lease)
{
	if (!lease)
		return;
	free(lease->public_ip);
	free(lease->public_ipv6);
	free(lease->backend_type);
	free(lease->backend_data);
	free(lease->backend_v6_data);
	free(lease->node_name);
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

/* ---- accessors ------------------------------------------------------ */

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

/* ---- the key ------------------------------------------------------------ */

static int format_part(const struct ovl_prefix *subnet, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (ovl_addr_format(subnet, addr, sizeof(addr)) < 0)
		return -EINVAL;
	n = snprintf(buf, size, "%s-%u", addr, subnet->len);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int lease_key_format(const struct ovl_lease *lease, char *buf, size_t size)
{
	int n = 0, m;

	if (!lease->has_ipv4 && !lease->has_ipv6)
		return -EINVAL;
	if (lease->has_ipv4) {
		n = format_part(&lease->subnet, buf, size);
		if (n < 0)
			return n;
	}
	if (lease->has_ipv6) {
		if (lease->has_ipv4) {
			if ((size_t)n + 1 >= size)
				return -ENOSPC;
			buf[n++] = '&';
		}
		m = format_part(&lease->ipv6_subnet, buf + n, size - n);
		if (m < 0)
			return m;
		n += m;
	}
	return n;
}

/* "addr-len" of the given family, aligned. */
static int parse_part(const char *text, size_t length, int family,
		      struct ovl_prefix *subnet)
{
	char buf[OVL_PREFIX_STRLEN];
	char *dash;

	if (length == 0 || length >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, length);
	buf[length] = '\0';
	dash = strrchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '/';
	if (ovl_prefix_parse(buf, subnet) < 0 || subnet->family != family ||
	    !ovl_prefix_is_aligned(subnet))
		return -EINVAL;
	return 0;
}

int lease_key_parse(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease)
{
	const char *amp = strchr(key, '&');
	size_t first = amp ? (size_t)(amp - key) : strlen(key);
	char canonical[sizeof(lease->key)];
	struct ovl_lease parsed = { 0 };
	int err;

	if (!amp && memchr(key, ':', first)) {
		parsed.has_ipv6 = 1;
		err = parse_part(key, first, AF_INET6, &parsed.ipv6_subnet);
	} else {
		parsed.has_ipv4 = 1;
		err = parse_part(key, first, AF_INET, &parsed.subnet);
		if (!err && amp) {
			parsed.has_ipv6 = 1;
			err = parse_part(amp + 1, strlen(amp + 1), AF_INET6,
					 &parsed.ipv6_subnet);
		}
	}
	if (err < 0)
		return ctx_fail(ctx, -EINVAL, "lease key '%s': not a subnet key like "
				"10.244.3.0-24 or 10.244.3.0-24&fd00::-64", key);
	if (lease_key_format(&parsed, canonical, sizeof(canonical)) < 0 ||
	    strcmp(canonical, key))
		return ctx_fail(ctx, -EINVAL, "lease key '%s': not in canonical form "
				"(want '%s')", key, canonical);
	lease->has_ipv4 = parsed.has_ipv4;
	lease->has_ipv6 = parsed.has_ipv6;
	lease->subnet = parsed.subnet;
	lease->ipv6_subnet = parsed.ipv6_subnet;
	lease->subnet_text[0] = lease->ipv6_subnet_text[0] = '\0';
	if (lease->has_ipv4)
		ovl_prefix_format(&lease->subnet, lease->subnet_text,
				  sizeof(lease->subnet_text));
	if (lease->has_ipv6)
		ovl_prefix_format(&lease->ipv6_subnet, lease->ipv6_subnet_text,
				  sizeof(lease->ipv6_subnet_text));
	memcpy(lease->key, canonical, sizeof(lease->key));
	return 0;
}

/* ---- LeaseAttrs ------------------------------------------------------------ */

static int set_new(json_t *object, const char *name, json_t *value)
{
	return value ? json_object_set_new(object, name, value) : -1;
}

static int set_string(json_t *object, const char *name, const char *text)
{
	return text ? set_new(object, name, json_string(text)) : 0;
}

static int set_raw(json_t *object, const char *name, const char *text)
{
	return text ? set_new(object, name, json_loads(text, JSON_DECODE_ANY, NULL)) : 0;
}

json_t *lease_attrs_to_object(const struct ovl_lease *lease)
{
	json_t *object = json_object();

	if (!object)
		return NULL;
	if (set_string(object, "PublicIP", lease->public_ip) ||
	    set_string(object, "PublicIPv6", lease->public_ipv6) ||
	    set_string(object, "BackendType", lease->backend_type) ||
	    set_raw(object, "BackendData", lease->backend_data) ||
	    set_raw(object, "BackendV6Data", lease->backend_v6_data) ||
	    set_string(object, "NodeName", lease->node_name)) {
		json_decref(object);
		return NULL;
	}
	return object;
}

char *lease_attrs_to_json(const struct ovl_lease *lease)
{
	json_t *object = lease_attrs_to_object(lease);
	char *text;

	if (!object)
		return NULL;
	text = json_dumps(object, JSON_COMPACT);
	json_decref(object);
	return text;
}

/* A string member, NULL when absent, null or empty. */
static int read_string(struct ovl_ctx *ctx, const char *key, const json_t *object,
		       const char *name, char **out)
{
	json_t *value = json_object_get(object, name);

	if (!value || json_is_null(value))
		return 0;
	if (!json_is_string(value))
		return ctx_fail(ctx, -EINVAL, "lease %s: %s: expected a string, got %s",
				key, name, json_type_text(value));
	if (!*json_string_value(value))
		return 0;
	return copy_string(out, json_string_value(value));
}

/* An address member of family, kept in canonical text; "0.0.0.0" (what
 * flannel writes for an IPv4 it does not have) counts as absent. */
static int read_address(struct ovl_ctx *ctx, const char *key, const json_t *object,
			const char *name, int family, char **out)
{
	struct ovl_prefix addr;
	char text[INET6_ADDRSTRLEN];
	char *raw = NULL;
	int err = read_string(ctx, key, object, name, &raw);

	if (err < 0 || !raw)
		return err;
	if (ovl_addr_parse(raw, &addr) < 0 || addr.family != family) {
		err = ctx_fail(ctx, -EINVAL, "lease %s: %s: '%s' is not an %s address",
			       key, name, raw, family == AF_INET ? "IPv4" : "IPv6");
		free(raw);
		return err;
	}
	free(raw);
	if (family == AF_INET && !memcmp(addr.addr, "\0\0\0\0", 4))
		return 0;
	ovl_addr_format(&addr, text, sizeof(text));
	return copy_string(out, text);
}

/* BackendData: an object (kept as compact text) or null. */
static int read_object(struct ovl_ctx *ctx, const char *key, const json_t *object,
		       const char *name, char **out)
{
	json_t *value = json_object_get(object, name);

	if (!value || json_is_null(value))
		return 0;
	if (!json_is_object(value))
		return ctx_fail(ctx, -EINVAL, "lease %s: %s: expected an object, got %s",
				key, name, json_type_text(value));
	*out = json_dumps(value, JSON_COMPACT);
	return *out ? 0 : -ENOMEM;
}

static int read_expiration(struct ovl_ctx *ctx, const char *key, const json_t *object,
			   int64_t *expiration)
{
	json_t *value = json_object_get(object, "Expiration");

	*expiration = 0;
	if (!value || json_is_null(value))
		return 0;
	if (!json_is_integer(value) || json_integer_value(value) < 0)
		return ctx_fail(ctx, -EINVAL, "lease %s: Expiration: expected unix "
				"seconds (an integer >= 0), got %s", key,
				json_is_integer(value) ? "a negative number" : json_type_text(value));
	*expiration = json_integer_value(value);
	return 0;
}

int lease_from_object(struct ovl_ctx *ctx, const char *key, const json_t *object,
		      struct ovl_lease **out)
{
	struct ovl_lease *lease;
	int err;

	*out = NULL;
	lease = lease_new();
	if (!lease)
		return -ENOMEM;
	err = lease_key_parse(ctx, key, lease);
	if (!err && !json_is_object(object))
		err = ctx_fail(ctx, -EINVAL, "lease %s: expected an object, got %s",
			       key, json_type_text(object));
	if (!err)
		err = read_address(ctx, key, object, "PublicIP", AF_INET, &lease->public_ip);
	if (!err)
		err = read_address(ctx, key, object, "PublicIPv6", AF_INET6, &lease->public_ipv6);
	if (!err)
		err = read_string(ctx, key, object, "BackendType", &lease->backend_type);
	if (!err)
		err = read_object(ctx, key, object, "BackendData", &lease->backend_data);
	if (!err)
		err = read_object(ctx, key, object, "BackendV6Data", &lease->backend_v6_data);
	if (!err)
		err = read_string(ctx, key, object, "NodeName", &lease->node_name);
	if (!err)
		err = read_expiration(ctx, key, object, &lease->expiration);
	if (!err && lease->has_ipv4 && !lease->public_ip)
		err = ctx_fail(ctx, -EINVAL, "lease %s: an IPv4 subnet needs a PublicIP", key);
	if (!err && lease->has_ipv6 && !lease->public_ipv6)
		err = ctx_fail(ctx, -EINVAL, "lease %s: an IPv6 subnet needs a PublicIPv6", key);
	if (err < 0) {
		ovl_lease_free(lease);
		return err;
	}
	*out = lease;
	return 0;
}

int lease_from_json(struct ovl_ctx *ctx, const char *key, const char *json,
		    struct ovl_lease **lease)
{
	json_error_t error;
	json_t *object;
	int err;

	*lease = NULL;
	err = json_parse(json, strlen(json), 0, &object, &error);
	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(ctx, err, "lease %s: not JSON: %s (column %d)",
				key, error.text, error.column);
	err = lease_from_object(ctx, key, object, lease);
	json_decref(object);
	return err;
}
