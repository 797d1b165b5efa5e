/*
 * node-peer.c - the gate between the store and the kernel: a remote lease
 * becomes a peer only when its subnet lies in our network and is not ours,
 * its public IP (of the plane's family, or the one flannel's wireguard
 * Mode auto chooses when one device carries both) can carry traffic, its backend is one ours takes, its
 * BackendData is what ours needs (node_backend_ops.peer_data), and its
 * NodeName has the length of a host name.
 * Whatever fails is named so the agent can log and skip that record.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/node-backend.h"
#include "core/address.h"

/* Kubernetes node names are DNS subdomains: a longer name is not a node's,
 * and holding or logging megabytes per record would be the store's doing. */
#define NODE_NAME_MAX 253

static int check_address(struct ovl_ctx *ctx, int family, const char *text,
			 struct peer_text *peer)
{
	struct ovl_prefix addr;
	const char *why;

	if (!text)
		return ctx_fail(ctx, -EINVAL, "no %s", family == AF_INET ?
				"PublicIP" : "PublicIPv6");
	if (ovl_addr_parse(text, &addr) < 0 || addr.family != family)
		return ctx_fail(ctx, -EINVAL, "public IP '%s' is not an IPv%d address",
				text, family == AF_INET ? 4 : 6);
	why = addr_endpoint_problem(&addr);
	if (why)
		return ctx_fail(ctx, -EINVAL, "public IP %s is %s", text, why);
	snprintf(peer->public_ip, sizeof(peer->public_ip), "%s", text);
	return 0;
}

int peer_address_is_private(const char *text)
{
	struct ovl_prefix addr;

	if (!text || ovl_addr_parse(text, &addr) < 0)
		return 0;
	if (addr.family == AF_INET6)
		return (addr.addr[0] & 0xfe) == 0xfc;
	return addr.addr[0] == 10 || (addr.addr[0] == 172 && (addr.addr[1] & 0xf0) == 16) ||
	       (addr.addr[0] == 192 && addr.addr[1] == 168);
}

/* flannel's selectMode for Mode auto: IPv4 unless the lease has no IPv4
 * address, or only IPv6 is public on both sides (flannel would dial
 * 0.0.0.0 for a lease without PublicIP: here it is reached over IPv6). */
int peer_endpoint_family(const struct peer_rules *rules, const struct ovl_lease *lease)
{
	const char *ip4 = ovl_lease_public_ip(lease, AF_INET);
	const char *ip6 = ovl_lease_public_ip(lease, AF_INET6);

	if (!strcmp(rules->endpoint_mode, "ipv4") || !strcmp(rules->endpoint_mode, "ipv6"))
		return rules->endpoint_mode[3] == '4' ? AF_INET : AF_INET6;
	if (!ip6)
		return AF_INET;
	if (!ip4)
		return AF_INET6;
	if (!peer_address_is_private(ip4) && rules->have_ipv4)
		return AF_INET;
	if (!peer_address_is_private(ip6) && rules->have_public_ipv6)
		return AF_INET6;
	return AF_INET;
}

/* Whether backend takes a peer whose lease says type. */
static int takes_type(const struct node_backend_ops *backend, const char *type)
{
	const char *const *name;

	for (name = backend->peer_types; *name; name++)
		if (!strcmp(*name, type))
			return 1;
	return 0;
}

int peer_from_lease(struct ovl_ctx *ctx, const struct peer_rules *rules,
		    const struct ovl_lease *lease, struct peer_text *peer)
{
	const char *subnet_text = ovl_lease_subnet(lease, rules->family);
	const char *type = ovl_lease_backend_type(lease);
	const struct node_backend_ops *backend = node_backend_find(rules->backend_type);
	struct ovl_prefix subnet;
	int err, family;

	memset(peer, 0, sizeof(*peer));
	if (!subnet_text)
		return -ENOENT;
	if (!type)
		type = "";
	if (ovl_lease_node_name(lease) && strlen(ovl_lease_node_name(lease)) > NODE_NAME_MAX)
		return ctx_fail(ctx, -EINVAL, "NodeName of %zu bytes, longer than %d",
				strlen(ovl_lease_node_name(lease)), NODE_NAME_MAX);
	if (!backend || !takes_type(backend, type))
		return ctx_fail(ctx, -EINVAL, "backend type '%s', want '%s'",
				type, rules->backend_type);
	if (ovl_prefix_parse(subnet_text, &subnet) < 0 ||
	    !ovl_prefix_is_aligned(&subnet))
		return ctx_fail(ctx, -EINVAL, "subnet '%s' is not a network prefix",
				subnet_text);
	if (!ovl_prefix_contains(rules->network, &subnet))
		return ctx_fail(ctx, -EINVAL, "subnet %s is outside the network",
				subnet_text);
	if (rules->own_subnet && ovl_prefix_overlaps(rules->own_subnet, &subnet))
		return ctx_fail(ctx, -EINVAL, "subnet %s overlaps ours", subnet_text);
	snprintf(peer->subnet, sizeof(peer->subnet), "%s", subnet_text);
	family = rules->endpoint_mode ? peer_endpoint_family(rules, lease) : rules->family;
	err = check_address(ctx, family, ovl_lease_public_ip(lease, family), peer);
	if (err < 0 || !backend->peer_data)
		return err;
	return backend->peer_data(ctx, rules, lease, peer);
}
