/*
 * link.c - every public call on a struct ovl_link (open by name, down,
 * free, accessors, JSON, the ovl_peer_* calls, the loop's fd, dispatch and
 * counters): it checks the arguments and forwards through link->ops, the
 * table its backend filled.  Also the option parsing every backend shares.
 *
 * Adding a backend means one new file that fills a struct link_ops, and
 * one entry in the reopen table below; nothing else is edited.  The
 * ovl_peer_v2_* calls (struct ovl_peer_v2, the successor of the frozen
 * struct ovl_peer) reach every backend: each side's calls are served
 * through the other's ops when a backend fills only one kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/link.h"
#include "netlink/device.h"

/* Backends ovl_link_open() reopens, asked in order whether a name is
 * theirs: host-gw's handles hold a ':', which no device name does;
 * wireguard takes the names of its devices (a UAPI socket, or flannel's
 * names); vxlan takes the other device names.  A udp link lives as long as its TUN fd and is
 * never reopened. */
static const struct link_ops *const reopenable[] = {
	&hostgw_link_ops,
	&wireguard_link_ops,
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
	if (link)
		kernel_peers_forget(link);
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

static struct ovl_peer_v2 peer_to_v2(const struct ovl_peer *peer)
{
	struct ovl_peer_v2 v2 = OVL_PEER_V2_INIT;

	v2.subnet = peer->subnet;
	v2.public_ip = peer->public_ip;
	v2.mac = peer->mac;
	return v2;
}

static struct ovl_peer peer_from_v2(const struct ovl_peer_v2 *v2)
{
	struct ovl_peer peer = { v2->subnet, v2->public_ip, v2->mac };

	return peer;
}

OVL_EXPORT int ovl_peer_add(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct ovl_peer_v2 v2;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_add: NULL peer") : -EINVAL;
	if (link->ops->peer_add)
		return link->ops->peer_add(link, peer);
	v2 = peer_to_v2(peer);
	return link->ops->peer_v2_add(link, &v2);
}

OVL_EXPORT int ovl_peer_del(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct ovl_peer_v2 v2;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_del: NULL peer") : -EINVAL;
	if (link->ops->peer_del)
		return link->ops->peer_del(link, peer);
	v2 = peer_to_v2(peer);
	return link->ops->peer_v2_del(link, &v2);
}

OVL_EXPORT int ovl_peer_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count)
{
	struct ovl_peer_v2 *v2;
	size_t i;
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	if (count && !peers)
		return ctx_fail(link->ctx, -EINVAL, "ovl_peer_sync: NULL array of %zu peers", count);
	if (link->ops->peer_sync)
		return link->ops->peer_sync(link, peers, count);
	v2 = calloc(count ? count : 1, sizeof(*v2));
	if (!v2)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < count; i++)
		v2[i] = peer_to_v2(&peers[i]);
	err = link->ops->peer_v2_sync(link, v2, count);
	free(v2);
	return err;
}

OVL_EXPORT int ovl_peer_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count)
{
	struct ovl_peer_v2 *v2 = NULL;
	size_t n = 0, i;
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peers || !count)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_list: NULL argument") : -EINVAL;
	*peers = NULL;
	*count = 0;
	if (link->ops->peer_list)
		return link->ops->peer_list(link, peers, count);
	err = link->ops->peer_v2_list(link, &v2, &n);
	if (err < 0)
		return err;
	*peers = calloc(n ? n : 1, sizeof(**peers));
	if (!*peers) {
		ovl_peers_v2_free(v2, n);
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	}
	/* The strings move over; the keys are freed with the v2 array. */
	for (i = 0; i < n; i++) {
		(*peers)[i] = peer_from_v2(&v2[i]);
		v2[i].subnet = v2[i].public_ip = v2[i].mac = NULL;
	}
	*count = n;
	ovl_peers_v2_free(v2, n);
	return 0;
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

/* ---- struct ovl_peer_v2 ---------------------------------------------------- */

/* The caller's struct, as long as its size says, in a whole one. */
static int peer_v2_copy(struct ovl_ctx *ctx, const struct ovl_peer_v2 *in,
			struct ovl_peer_v2 *out)
{
	struct ovl_peer_v2 whole = OVL_PEER_V2_INIT;

	if (in->size < offsetof(struct ovl_peer_v2, public_ip))
		return ctx_fail(ctx, -EINVAL, "struct ovl_peer_v2: size %zu is too small",
				in->size);
	memcpy((char *)&whole + sizeof(size_t), (const char *)in + sizeof(size_t),
	       (in->size < sizeof(whole) ? in->size : sizeof(whole)) - sizeof(size_t));
	whole.size = sizeof(whole);
	*out = whole;
	return 0;
}

OVL_EXPORT int ovl_peer_v2_add(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct ovl_peer_v2 whole;
	struct ovl_peer old;
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_v2_add: NULL peer") : -EINVAL;
	err = peer_v2_copy(link->ctx, peer, &whole);
	if (err < 0)
		return err;
	if (link->ops->peer_v2_add)
		return link->ops->peer_v2_add(link, &whole);
	old = peer_from_v2(&whole);
	return link->ops->peer_add(link, &old);
}

OVL_EXPORT int ovl_peer_v2_del(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct ovl_peer_v2 whole;
	struct ovl_peer old;
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peer)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_v2_del: NULL peer") : -EINVAL;
	err = peer_v2_copy(link->ctx, peer, &whole);
	if (err < 0)
		return err;
	if (link->ops->peer_v2_del)
		return link->ops->peer_v2_del(link, &whole);
	old = peer_from_v2(&whole);
	return link->ops->peer_del(link, &old);
}

OVL_EXPORT int ovl_peer_v2_sync(struct ovl_link *link, const struct ovl_peer_v2 *peers,
				size_t count)
{
	struct ovl_peer_v2 *whole = NULL;
	struct ovl_peer *old = NULL;
	size_t stride, i;
	int in_place, err = 0;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link)
		return -EINVAL;
	if (count && !peers)
		return ctx_fail(link->ctx, -EINVAL, "ovl_peer_v2_sync: NULL array of %zu peers",
				count);
	/* The array's stride is its first element's size: all must agree.
	 * A backend of struct ovl_peer gets only those, and an array of
	 * structs as large as ours is used as it is (at 10,000 peers on every
	 * resync, each copy was a pass over cold memory too many). */
	stride = count ? peers->size : 0;
	in_place = link->ops->peer_v2_sync && stride == sizeof(*whole);
	if (!link->ops->peer_v2_sync)
		old = calloc(count ? count : 1, sizeof(*old));
	else if (!in_place)
		whole = calloc(count ? count : 1, sizeof(*whole));
	if (!whole && !old && !in_place)
		err = ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < count && !err; i++) {
		const struct ovl_peer_v2 *peer =
			(const struct ovl_peer_v2 *)((const char *)peers + i * stride);
		struct ovl_peer_v2 one;

		if (peer->size != stride)
			err = ctx_fail(link->ctx, -EINVAL,
				       "ovl_peer_v2_sync: peer %zu has size %zu, peer 0 %zu", i,
				       peer->size, stride);
		else if (whole)
			err = peer_v2_copy(link->ctx, peer, &whole[i]);
		else if (old && stride == sizeof(one))
			old[i] = peer_from_v2(peer);
		else if (old && !(err = peer_v2_copy(link->ctx, peer, &one)))
			old[i] = peer_from_v2(&one);
	}
	if (!err)
		err = link->ops->peer_v2_sync
			      ? link->ops->peer_v2_sync(link, whole ? whole : peers, count)
			      : link->ops->peer_sync(link, old, count);
	free(whole);
	free(old);
	return err;
}

OVL_EXPORT int ovl_peer_v2_list(struct ovl_link *link, size_t size, struct ovl_peer_v2 **peers,
				size_t *count)
{
	struct ovl_peer_v2 *whole = NULL;
	struct ovl_peer *old = NULL;
	size_t n = 0, i;
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !peers || !count)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_peer_v2_list: NULL argument") :
			-EINVAL;
	*peers = NULL;
	*count = 0;
	if (size < offsetof(struct ovl_peer_v2, public_ip))
		return ctx_fail(link->ctx, -EINVAL, "ovl_peer_v2_list: size %zu is too small",
				size);
	if (link->ops->peer_v2_list) {
		err = link->ops->peer_v2_list(link, &whole, &n);
	} else {
		err = link->ops->peer_list(link, &old, &n);
		whole = err < 0 ? NULL : calloc(n ? n : 1, sizeof(*whole));
		if (!err && !whole) {
			ovl_peers_free(old, n);
			err = ctx_fail(link->ctx, -ENOMEM, "out of memory");
		}
		for (i = 0; !err && i < n; i++) {
			whole[i] = peer_to_v2(&old[i]);
			old[i].subnet = old[i].public_ip = old[i].mac = NULL;
		}
		if (!err)
			ovl_peers_free(old, n);
	}
	if (err < 0)
		return err;
	err = peers_v2_lay_out(whole, n, size, peers);
	if (err < 0)
		return ctx_fail(link->ctx, err, "out of memory");
	*count = n;
	return 0;
}

/* ---- a loop in libovl (udp) --------------------------------------------- */

static int unsupported(const struct ovl_link *link, const char *call)
{
	return ctx_fail(link->ctx, -EOPNOTSUPP, "%s: %s is a %s link, without a userspace data "
			"path", call, link->name, link->ops->name);
}

/* ovl_link_fd, ovl_link_dispatch and ovl_link_stats run beside a UDP
 * link's loop on other threads (ovl_udp_up(3)): they never clear the
 * context's message, and set it only where no loop runs. */
OVL_EXPORT int ovl_link_fd(const struct ovl_link *link)
{
	if (!link)
		return -EINVAL;
	return link->ops->fd ? link->ops->fd(link) : unsupported(link, "ovl_link_fd");
}

OVL_EXPORT int ovl_link_dispatch(struct ovl_link *link)
{
	if (!link)
		return -EINVAL;
	return link->ops->dispatch ? link->ops->dispatch(link) : unsupported(link, "ovl_link_dispatch");
}

OVL_EXPORT int ovl_link_stats(const struct ovl_link *link, struct ovl_link_stats *stats)
{
	if (!link || !stats)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_link_stats: NULL stats") : -EINVAL;
	if (output_check(link->ctx, "ovl_link_stats: stats", stats, LINK_STATS_SIZE_0_1,
			 sizeof(*stats)) < 0)
		return -EINVAL;
	return link->ops->stats ? link->ops->stats(link, stats) : unsupported(link, "ovl_link_stats");
}

/* ---- options -------------------------------------------------------------- */

#define ALIAS_TAG "libovl"

void link_alias_format(const struct ovl_prefix *subnet, const struct ovl_prefix *network,
		       const char *more, char alias[LINK_ALIAS_SIZE])
{
	char subnet_text[OVL_PREFIX_STRLEN], network_text[OVL_PREFIX_STRLEN] = "";

	ovl_prefix_format(subnet, subnet_text, sizeof(subnet_text));
	if (network->family)
		ovl_prefix_format(network, network_text, sizeof(network_text));
	snprintf(alias, LINK_ALIAS_SIZE, "%s subnet=%s%s%s%s%s", ALIAS_TAG, subnet_text,
		 *network_text ? " network=" : "", network_text, more && *more ? " " : "",
		 more ? more : "");
}

int link_alias_parse(const char *alias, struct ovl_link *link,
		     void (*more)(void *arg, const char *token), void *arg)
{
	char copy[LINK_ALIAS_SIZE], *token, *save = NULL;
	int tagged = 0, has_subnet = 0;

	snprintf(copy, sizeof(copy), "%s", alias);
	memset(&link->network, 0, sizeof(link->network));
	for (token = strtok_r(copy, " ", &save); token; token = strtok_r(NULL, " ", &save)) {
		if (!strcmp(token, ALIAS_TAG))
			tagged = 1;
		else if (!strncmp(token, "subnet=", 7))
			has_subnet = ovl_prefix_parse(token + 7, &link->subnet) == 0;
		else if (!strncmp(token, "network=", 8) &&
			 ovl_prefix_parse(token + 8, &link->network) < 0)
			return -EINVAL;
		else if (more)
			more(arg, token);
	}
	return tagged && has_subnet ? 0 : -EINVAL;
}

int link_device_find(struct ovl_ctx *ctx, const char *name, struct device_state *state)
{
	int err;

	if (!*name || strlen(name) >= IF_NAMESIZE)
		return ctx_fail(ctx, -EINVAL, "'%s' is not a device name", name);
	err = device_get(ctx, 0, name, state);
	if (err == -ENODEV)
		return ctx_fail(ctx, err, "%s: no such device", name);
	return err < 0 ? ctx_fail_prefix(ctx, err, "%s: ", name) : 0;
}

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
