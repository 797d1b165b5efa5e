/*
 * node-peer.c - the gate between the store and the kernel: a remote lease
 * becomes a peer only when its subnet lies in our network and is not ours,
 * its public IP can carry traffic, its backend is ours, and its VXLAN data
 * (VNI, VtepMAC) match, and its NodeName has the length of a host name.
 * Whatever fails is named so the agent can log and skip that record.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>

#include "agent/node.h"
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

/* {"VNI":1,"VtepMAC":"0e:..."}: the VNI must be ours, the MAC usable. */
static int check_vxlan_data(struct ovl_ctx *ctx, const struct peer_rules *rules,
			    const char *data, struct peer_text *peer)
{
	unsigned char mac[6];
	json_t *root, *vni, *vtep;
	int err = 0;

	root = data ? json_loads(data, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return ctx_fail(ctx, -EINVAL, "no BackendData object");
	}
	vni = json_object_get(root, "VNI");
	vtep = json_object_get(root, "VtepMAC");
	if (!json_is_integer(vni) || json_integer_value(vni) != (json_int_t)rules->vni)
		err = ctx_fail(ctx, -EINVAL, "VNI %lld, want %u",
			       json_is_integer(vni) ? (long long)json_integer_value(vni) : -1LL,
			       rules->vni);
	else if (!json_is_string(vtep) ||
		 mac_parse_unicast(json_string_value(vtep), mac) < 0)
		err = ctx_fail(ctx, -EINVAL, "VtepMAC '%s' is not a unicast MAC",
			       json_is_string(vtep) ? json_string_value(vtep) : "");
	else
		snprintf(peer->mac, sizeof(peer->mac), "%s", json_string_value(vtep));
	json_decref(root);
	return err;
}

int peer_from_lease(struct ovl_ctx *ctx, const struct peer_rules *rules,
		    const struct ovl_lease *lease, struct peer_text *peer)
{
	const char *subnet_text = ovl_lease_subnet(lease, rules->family);
	const char *type = ovl_lease_backend_type(lease);
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
	/* flanneld's udp backend leaves BackendType empty (its lease attrs
	 * set only PublicIP); we write "udp": both are udp peers. */
	if (strcmp(type, rules->backend_type) &&
	    !(!*type && !strcmp(rules->backend_type, "udp")))
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
	if (err < 0 || strcmp(rules->backend_type, "vxlan"))
		return err;
	return check_vxlan_data(ctx, rules,
				ovl_lease_backend_data(lease, rules->family), peer);
}
