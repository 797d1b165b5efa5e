/*
 * link.c - every public call on a struct ovl_link (open by name, down,
 * free, accessors, JSON, the ovl_peer_* calls, the loop's fd, dispatch and
 * counters): it checks the arguments and forwards through link->ops, the
 * table its backend filled.  Also the option parsing every backend shares.
 *
 * Adding a backend (WireGuard is next) means one new file that fills a
 * struct link_ops, and one entry in the reopen table below; nothing else is
 * edited.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/link.h"

/* Backends ovl_link_open() reopens, asked in order whether a name is
 * theirs: host-gw's handles hold a ':', which no device name does; vxlan
 * takes device names.  A udp link lives as long as its TUN fd and is
 * never reopened. */
static const struct link_ops *const reopenable[] = {
	&hostgw_link_ops,
	&vxlan_link_ops,
};

OVL_EXPORT int ovl_link_open(struct ovl_ctx *ctx, const char *name, struct ovl_link **link)
{
	size_t i;

	ctx_clear_error(ctx);
	if (!ctx || !name || !link)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_link_open: NULL argument") : -EINVAL;
	*link = NULL;
	for (i = 0; i < ARRAY_SIZE(reopenable); i++)
		if (reopenable[i]->claims(name))
			return reopenable[i]->open(ctx, name, link);
	return ctx_fail(ctx, -EINVAL, "'%s' names no link libovl can open", name);
}

OVL_EXPORT int ovl_link_down(struct ovl_link *link)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	return link->ops->down(link);
}

OVL_EXPORT void ovl_link_free(struct ovl_link *link)
{
	if (link && link->ops->free)
		link->ops->free(link);
	else
		free(link);
}

OVL_EXPORT const char *ovl_link_name(const struct ovl_link *link)
{
	return link ? link->name : NULL;
}

OVL_EXPORT const char *ovl_link_mac(const struct ovl_link *link)
{
	return link ? link->mac : NULL;
}

OVL_EXPORT unsigned int ovl_link_mtu(const struct ovl_link *link)
{
	return link ? link->mtu : 0;
}

OVL_EXPORT int ovl_link_ifindex(const struct ovl_link *link)
{
	return link ? link->ifindex : -EINVAL;
}

static int set_prefix(json_t *object, const char *key, const struct ovl_prefix *p, int addr)
{
	char text[OVL_PREFIX_STRLEN];

	if (!p->family)
		return json_object_set_new(object, key, json_null());
	if ((addr ? ovl_addr_format(p, text, sizeof(text))
		  : ovl_prefix_format(p, text, sizeof(text))) < 0)
		return -1;
	return json_object_set_new(object, key, json_string(text));
}

OVL_EXPORT char *ovl_link_to_json(const struct ovl_link *link)
{
	json_t *o;
	char *text = NULL;

	if (!link)
		return NULL;
	o = json_pack("{s:s, s:s, s:i, s:I, s:i, s:s, s:i, s:i, s:s, s:b, s:b, s:b}",
		      "backend", link->ops->name, "name", link->name, "ifindex",
		      link->ifindex, "vni", (json_int_t)link->vni, "port", (int)link->port,
		      "dev", link->underlay, "dev_ifindex", link->underlay_ifindex, "mtu",
		      (int)link->mtu, "mac", link->mac, "learning", link->learning, "gbp",
		      link->gbp, "direct_routing", link->direct_routing);
	if (o && !set_prefix(o, "local", &link->local, 1) &&
	    !set_prefix(o, "subnet", &link->subnet, 0) &&
	    !set_prefix(o, "network", &link->network, 0))
		text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return text;
}

/* ---- peers ------------------------------------------------------------ */

OVL_EXPORT int ovl_peer_add(struct ovl_link *link, const struct ovl_peer *peer)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_add: NULL peer") : -EINVAL;
	return link->ops->peer_add(link, peer);
}

OVL_EXPORT int ovl_peer_del(struct ovl_link *link, const struct ovl_peer *peer)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_del: NULL peer") : -EINVAL;
	return link->ops->peer_del(link, peer);
}

OVL_EXPORT int ovl_peer_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	if (count && !peers)
		return ctx_fail(link->ctx, -EINVAL, "ovl_peer_sync: NULL array of %zu peers", count);
	return link->ops->peer_sync(link, peers, count);
}

OVL_EXPORT int ovl_peer_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peers || !count)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_list: NULL argument") : -EINVAL;
	*peers = NULL;
	*count = 0;
	return link->ops->peer_list(link, peers, count);
}

OVL_EXPORT void ovl_peers_free(struct ovl_peer *peers, size_t count)
{
	size_t i;

	if (!peers)
		return;
	for (i = 0; i < count; i++) {
		free((char *)peers[i].subnet);
		free((char *)peers[i].public_ip);
		free((char *)peers[i].mac);
	}
	free(peers);
}

/* ---- a loop in libovl (udp) --------------------------------------------- */

static int unsupported(const struct ovl_link *link, const char *call)
{
	return ctx_fail(link->ctx, -EOPNOTSUPP, "%s: %s is a %s link, without a userspace data "
			"path", call, link->name, link->ops->name);
}

OVL_EXPORT int ovl_link_fd(const struct ovl_link *link)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	return link->ops->fd ? link->ops->fd(link) : unsupported(link, "ovl_link_fd");
}

OVL_EXPORT int ovl_link_dispatch(struct ovl_link *link)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	return link->ops->dispatch ? link->ops->dispatch(link) : unsupported(link, "ovl_link_dispatch");
}

OVL_EXPORT int ovl_link_stats(const struct ovl_link *link, struct ovl_link_stats *stats)
{
	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !stats)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_link_stats: NULL stats") : -EINVAL;
	if (output_check(link->ctx, "ovl_link_stats: stats", stats, LINK_STATS_SIZE_0_1,
			 sizeof(*stats)) < 0)
		return -EINVAL;
	return link->ops->stats ? link->ops->stats(link, stats) : unsupported(link, "ovl_link_stats");
}

/* ---- options -------------------------------------------------------------- */

int link_parse_addresses(struct ovl_ctx *ctx, const char *local, const char *subnet,
			 const char *network, struct ovl_prefix *local_addr,
			 struct ovl_prefix *subnet_prefix, struct ovl_prefix *network_prefix)
{
	memset(network_prefix, 0, sizeof(*network_prefix));
	if (!local || ovl_addr_parse(local, local_addr) < 0 || !addr_is_endpoint(local_addr))
		return ctx_fail(ctx, -EINVAL, "local: '%s' is not a unicast IP address",
				local ? local : "(none: required)");
	if (!subnet || ovl_prefix_parse(subnet, subnet_prefix) < 0)
		return ctx_fail(ctx, -EINVAL, "subnet: '%s' is not a prefix",
				subnet ? subnet : "(none: required)");
	/* FLANNEL_SUBNET style "10.244.3.1/24" names the same lease. */
	ovl_prefix_mask(subnet_prefix);
	if (network) {
		if (ovl_prefix_parse(network, network_prefix) < 0)
			return ctx_fail(ctx, -EINVAL, "network: '%s' is not a prefix", network);
		ovl_prefix_mask(network_prefix);
		if (!ovl_prefix_contains(network_prefix, subnet_prefix))
			return ctx_fail(ctx, -EINVAL, "subnet %s is not inside network %s",
					subnet, network);
	}
	return 0;
}
