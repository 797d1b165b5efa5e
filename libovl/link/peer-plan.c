/*
 * peer-plan.c - the wanted peers as plans: each checked against the link
 * (family, overlap, endpoint address, on-link for DirectRouting and
 * host-gw), given a nexthop id, and diffed against the view into the
 * requests a sync sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/peer.h"

/* Nexthop ids libovl picks: a hash of the gateway into this range, so the
 * same peer gets the same id every time and small foreign ids stay clear. */
#define NH_ID_BASE 0x10000000u
#define NH_ID_SPAN 0x6fffffffu


/* ---- validation ------------------------------------------------------- */

/* Checks peer and fills p.  onlink: the addresses of every device when
 * DirectRouting is on; those of the underlay tell which peers share its
 * link. */
int peer_plan_one(struct ovl_link *link, const struct ovl_peer *peer, size_t index,
		     const struct device_addr *onlink, size_t onlink_count, struct plan *p)
{
	struct ovl_ctx *ctx = link->ctx;
	char trimmed[OVL_PREFIX_STRLEN + 8], text[OVL_PREFIX_STRLEN];
	const char *name = peer->subnet ? peer->subnet : "";
	size_t i;

	memset(p, 0, sizeof(*p));
	p->index = index;
	/* Messages name the subnet as given, cut short when it is no prefix
	 * at all. */
	if (strnlen(name, sizeof(trimmed)) == sizeof(trimmed)) {
		snprintf(trimmed, sizeof(trimmed), "%s", name);
		name = trimmed;
	}
	if (!peer->subnet || ovl_prefix_parse(peer->subnet, &p->subnet) < 0)
		return ctx_fail(ctx, -EINVAL, "peer #%zu: subnet '%s' is not a prefix", index, name);
	if (p->subnet.family != link->family)
		return ctx_fail(ctx, -EINVAL, "peer %s: an %s subnet on %s link %s", name,
				family_name(p->subnet.family), family_name(link->family), link->name);
	if (!ovl_prefix_is_aligned(&p->subnet))
		return ctx_fail(ctx, -EINVAL, "peer %s: the subnet has host bits set", name);
	if (p->subnet.len >= (link->family == AF_INET6 ? 128u : 32u))
		return ctx_fail(ctx, -EINVAL, "peer %s: a subnet needs room for its base address",
				name);
	if (ovl_prefix_overlaps(&p->subnet, &link->subnet))
		return ctx_fail(ctx, -EINVAL, "peer %s: overlaps our own subnet %s", name,
				peer_prefix_text(&link->subnet, text));
	if (link->network.family && !ovl_prefix_contains(&link->network, &p->subnet))
		return ctx_fail(ctx, -EINVAL, "peer %s: outside the cluster network %s", name,
				peer_prefix_text(&link->network, text));
	p->gw = p->subnet;
	p->gw.len = link->family == AF_INET6 ? 128 : 32;
	if (!peer->public_ip || ovl_addr_parse(peer->public_ip, &p->public_ip) < 0 ||
	    !addr_is_endpoint(&p->public_ip))
		return ctx_fail(ctx, -EINVAL, "peer %s: public IP '%s' is not a unicast address",
				name, peer->public_ip ? peer->public_ip : "(none)");
	if (link->local.family && p->public_ip.family != link->local.family)
		return ctx_fail(ctx, -EINVAL, "peer %s: public IP %s is %s but the underlay is %s",
				name, peer->public_ip, family_name(p->public_ip.family),
				family_name(link->local.family));
	if (link->local.family && ovl_prefix_equal(&p->public_ip, &link->local))
		return ctx_fail(ctx, -EINVAL, "peer %s: public IP %s is our own", name,
				peer->public_ip);
	for (i = 0; i < onlink_count; i++) {
		struct ovl_prefix mine = onlink[i].prefix;

		if (onlink[i].ifindex == link->underlay_ifindex &&
		    p->public_ip.family == link->family && ovl_prefix_contains(&mine, &p->public_ip))
			p->direct = 1;
		/* A reopened host-gw link does not know our subnet: an address
		 * of ours inside it (cni0's) tells, before our route replaces
		 * the kernel's. */
		mine.len = prefix_family_bits(mine.family);
		if (link->direct_only && ovl_prefix_contains(&p->subnet, &mine))
			return ctx_fail(ctx, -EINVAL, "peer %s: holds %s, an address of this host",
					name, peer_prefix_text(&mine, text));
	}
	if (peer->mac && mac_parse_unicast(peer->mac, p->mac) < 0)
		return ctx_fail(ctx, -EINVAL, "peer %s: MAC '%s' is not a unicast MAC address",
				name, peer->mac);
	if (link->direct_only && !p->direct)
		return ctx_fail(ctx, -ENETUNREACH,
				"peer %s: public IP %s is not on-link (no address of %s covers it): "
				"a host-gw route via it cannot work",
				name, peer->public_ip, link->underlay);
	if (!peer->mac && !p->direct)
		return ctx_fail(ctx, -EINVAL, "peer %s: the VTEP MAC is missing", name);
	return 0;
}

static uint32_t plan_subnet_hash(const void *item)
{
	return peer_hash_prefix(&((const struct plan *)item)->subnet);
}

static int plan_has_subnet(const void *item, const void *key)
{
	return !peer_prefix_cmp(&((const struct plan *)item)->subnet, key);
}

struct plan *peer_plan_find(const struct table *plans, const struct ovl_prefix *subnet)
{
	return table_find(plans, peer_hash_prefix(subnet), plan_has_subnet, subnet);
}

static int plan_has_mac(const void *item, const void *key)
{
	return !memcmp(((const struct plan *)item)->mac, key, 6);
}

/* One VTEP MAC is one host: two overlay peers with one MAC must have one
 * public IP. */
static int check_macs(struct ovl_link *link, const struct ovl_peer *peers,
		      const struct table *plans, struct hash_index *macs)
{
	const struct plan *all = plans->items, *first;
	uint32_t hash;
	size_t i;

	if (hash_index_reset(macs, plans->count) < 0)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < plans->count; i++) {
		if (all[i].direct)
			continue;
		hash = peer_hash(0, all[i].mac, 6);
		first = hash_index_find(macs, plans, hash, plan_has_mac, all[i].mac);
		if (!first)
			hash_index_put(macs, hash, i);
		else if (!ovl_prefix_equal(&all[i].public_ip, &first->public_ip))
			return ctx_fail(link->ctx, -EINVAL, "peers %s and %s: one MAC %s at two public IPs",
					peers[first->index].subnet, peers[all[i].index].subnet,
					peers[all[i].index].mac);
	}
	return 0;
}

/* Indexes the plans by subnet and finds two that overlap: a subnet that
 * holds another is the other's subnet cut to one of the lengths the plans
 * have. */
static int check_overlaps(struct ovl_link *link, struct table *plans)
{
	unsigned char lengths[129] = { 0 };
	char a[OVL_PREFIX_STRLEN], b[OVL_PREFIX_STRLEN];
	const struct plan *all = plans->items, *outer;
	struct ovl_prefix cut;
	size_t i, len, cursor;

	if (table_index(plans, plan_subnet_hash) < 0)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < plans->count; i++)
		lengths[all[i].subnet.len] = 1;
	for (i = 0; i < plans->count; i++) {
		for (len = 0; len <= all[i].subnet.len; len++) {
			if (!lengths[len])
				continue;
			cut = all[i].subnet;
			cut.len = (unsigned int)len;
			ovl_prefix_mask(&cut);
			cursor = HASH_START;
			while ((outer = hash_index_next(&plans->index, plans, peer_hash_prefix(&cut),
							&cursor)))
				if (outer != &all[i] && plan_has_subnet(outer, &cut))
					return ctx_fail(link->ctx, -EINVAL, "peers %s and %s overlap",
							peer_prefix_text(&outer->subnet, a),
							peer_prefix_text(&all[i].subnet, b));
		}
	}
	return 0;
}

int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		  struct table *plans, struct hash_index *macs)
{
	struct ovl_ctx *ctx = link->ctx;
	struct device_addr *onlink = NULL;
	size_t i, onlink_count = 0;
	struct plan *p;
	int err = 0;

	plans->size = sizeof(struct plan);
	plans->count = 0;
	plans->index.count = 0;
	if (link->direct_routing) {
		err = device_addresses(ctx, link->family, 0, &onlink, &onlink_count);
		if (err < 0)
			return err;
	}
	for (i = 0; i < count && !err; i++) {
		p = table_add(plans);
		err = p ? peer_plan_one(link, &peers[i], i, onlink, onlink_count, p)
			: ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	free(onlink);
	if (!err)
		err = check_macs(link, peers, plans, macs);
	if (!err)
		err = check_overlaps(link, plans);
	return err;
}

/* ---- nexthop ids -------------------------------------------------------- */

uint32_t peer_nh_id_first(const struct ovl_link *link, const struct ovl_prefix *gw)
{
	uint32_t hash = 2166136261u;
	unsigned char key[20];
	size_t i, len = addr_len(gw->family);

	memcpy(key, &link->ifindex, 4);
	memcpy(key + 4, gw->addr, len);
	for (i = 0; i < 4 + len; i++)
		hash = (hash ^ key[i]) * 16777619u;
	return NH_ID_BASE + hash % NH_ID_SPAN;
}

uint32_t peer_nh_id_next(uint32_t id)
{
	return id + 1 < NH_ID_BASE + NH_ID_SPAN ? id + 1 : NH_ID_BASE;
}

static uint32_t nexthop_gateway_hash(const void *item)
{
	return peer_hash_prefix(&((const struct route *)item)->gw);
}

static int has_id(const void *item, const void *key)
{
	return *(const uint32_t *)item == *(const uint32_t *)key;
}

static uint32_t id_hash(uint32_t id)
{
	return peer_hash(0, &id, sizeof(id));
}

/* Indexes every id in use, with room for one more per plan. */
static int index_ids(struct table *ids, size_t more)
{
	size_t i;

	if (hash_index_reset(&ids->index, ids->count + more) < 0)
		return -ENOMEM;
	for (i = 0; i < ids->count; i++)
		hash_index_put(&ids->index, id_hash(((uint32_t *)ids->items)[i]), i);
	return 0;
}

/* A free id for plan p, taken. */
static int pick_free_id(struct view *v, struct plan *p)
{
	uint32_t *taken;

	p->nh_id = peer_nh_id_first(v->link, &p->gw);
	while (table_find(&v->ids, id_hash(p->nh_id), has_id, &p->nh_id))
		p->nh_id = peer_nh_id_next(p->nh_id);
	taken = table_add(&v->ids);
	if (!taken)
		return -ENOMEM;
	*taken = p->nh_id;
	hash_index_put(&v->ids.index, id_hash(p->nh_id), v->ids.count - 1);
	return 0;
}

int peer_assign_ids(struct view *v, struct table *plans, struct hash_index *gateways)
{
	struct plan *all = plans->items, *p;
	struct route *nh, *lowest;
	size_t i, cursor, wanted = 0;
	uint32_t hash;
	int err = 0;

	if (!v->nexthops)
		return 0;
	if (hash_index_reset(gateways, v->nhs.count) < 0)
		return -ENOMEM;
	for (i = 0; i < v->nhs.count; i++)
		hash_index_put(gateways, nexthop_gateway_hash((struct route *)v->nhs.items + i), i);
	for (i = 0; i < plans->count && !err; i++) {
		p = &all[i];
		if (p->direct)
			continue;
		/* The lowest id among our nexthops with this gateway. */
		hash = peer_hash_prefix(&p->gw);
		cursor = HASH_START;
		lowest = NULL;
		while ((nh = hash_index_next(gateways, &v->nhs, hash, &cursor)))
			if (!peer_prefix_cmp(&nh->gw, &p->gw) && (!lowest || nh->nh_id < lowest->nh_id))
				lowest = nh;
		if (lowest && !lowest->keep) {
			lowest->keep = 1;
			p->nh_id = lowest->nh_id;
			continue;
		}
		/* Ids in use are indexed once, when the first is needed. */
		if (!wanted++)
			err = index_ids(&v->ids, plans->count);
		if (!err)
			err = pick_free_id(v, p);
	}
	return err;
}

/* ---- sync --------------------------------------------------------------- */

/* The requests that turn the view into the plans: stale routes out, then
 * neighbours, fdb entries, nexthops and routes in (a peer's route last, so
 * the kernel never has to resolve its gateway), then the remaining stale
 * entries out. */
int peer_plan_sync(struct view *v, struct table *plans, struct run *run)
{
	struct plan *all = plans->items, *p;
	size_t i, count = plans->count;
	struct neigh *n;
	struct route *r;
	int err = 0;

	for (i = 0; i < v->routes.count && !err; i++) {
		r = (struct route *)v->routes.items + i;
		if (!peer_plan_find(plans, &r->dst))
			err = peer_run_add(run, OP_ROUTE, 1, NULL, NULL, r);
	}
	for (i = 0; i < count && !err; i++) {
		p = &all[i];
		if (p->direct)
			continue;
		n = peer_view_neigh(v, &p->gw);
		if (n)
			n->keep = 1;
		if (!n || !n->has_mac || memcmp(n->mac, p->mac, 6))
			err = peer_run_add(run, OP_NEIGH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &all[i];
		if (p->direct)
			continue;
		n = peer_view_fdb(v, p->mac, &p->public_ip);
		if (n)
			n->keep = 1;
		else
			err = peer_run_add(run, OP_FDB, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &all[i];
		if (p->direct || !p->nh_id)
			continue;
		r = peer_view_nexthop(v, p->nh_id);
		if (r && !peer_prefix_cmp(&r->gw, &p->gw))
			r->keep = 1;
		else
			err = peer_run_add(run, OP_NH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &all[i];
		r = peer_view_route(v, &p->subnet);
		if (r && (p->direct ? !r->nh_id && r->oif == v->link->underlay_ifindex &&
					      !peer_prefix_cmp(&r->gw, &p->public_ip)
				    : p->nh_id ? r->nh_id == p->nh_id
					       : !r->nh_id && r->oif == v->link->ifindex &&
							 !peer_prefix_cmp(&r->gw, &p->gw)))
			continue;
		err = peer_run_add(run, OP_ROUTE, 0, p, NULL, NULL);
	}
	for (i = 0; i < v->nhs.count && !err; i++) {
		r = (struct route *)v->nhs.items + i;
		if (!r->keep)
			err = peer_run_add(run, OP_NH, 1, NULL, NULL, r);
	}
	for (i = 0; i < v->neighs.count && !err; i++) {
		n = (struct neigh *)v->neighs.items + i;
		if (!n->keep)
			err = peer_run_add(run, OP_NEIGH, 1, NULL, n, NULL);
	}
	for (i = 0; i < v->fdbs.count && !err; i++) {
		n = (struct neigh *)v->fdbs.items + i;
		if (!n->keep)
			err = peer_run_add(run, OP_FDB, 1, NULL, n, NULL);
	}
	return err;
}
