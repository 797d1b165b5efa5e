/*
 * node-peer.c - the gate between the store and the kernel: a remote lease
 * becomes a peer only when its subnet lies in our network and is not ours,
 * its public IP can carry traffic, its backend is one ours takes, its
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

static int check_address(struct ovl_ctx *ctx, const struct peer_rules *rules,
			 const char *text, struct peer_text *peer)
{
	struct ovl_prefix addr;
	const char *why;

	if (!text)
		return ctx_fail(ctx, -EINVAL, "no %s", rules->family == AF_INET ?
				"PublicIP" : "PublicIPv6");
	if (ovl_addr_parse(text, &addr) < 0 || addr.family != rules->family)
		return ctx_fail(ctx, -EINVAL, "public IP '%s' is not an IPv%d address",
				text, rules->family == AF_INET ? 4 : 6);
	why = addr_endpoint_problem(&addr);
	if (why)
		return ctx_fail(ctx, -EINVAL, "public IP %s is %s", text, why);
	snprintf(peer->public_ip, sizeof(peer->public_ip), "%s", text);
	return 0;
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
	int err;

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
	err = check_address(ctx, rules, ovl_lease_public_ip(lease, rules->family), peer);
	if (err < 0 || !backend->peer_data)
		return err;
	return backend->peer_data(ctx, rules, ovl_lease_backend_data(lease, rules->family),
				  peer);
}
