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
	char name[OVL_PREFIX_STRLEN + 8], text[OVL_PREFIX_STRLEN];
	size_t i;

	memset(p, 0, sizeof(*p));
	p->index = index;
	snprintf(name, sizeof(name), "%s", peer->subnet ? peer->subnet : "");
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

static int cmp_plan_subnet(const void *a, const void *b)
{
	return peer_prefix_cmp(&((const struct plan *)a)->subnet, &((const struct plan *)b)->subnet);
}

static int cmp_plan_mac(const void *a, const void *b)
{
	const struct plan *x = a, *y = b;
	int c = x->direct - y->direct;

	return c ? c : memcmp(x->mac, y->mac, 6);
}

/* All peers checked before anything is sent; *plans sorted by subnet. */
int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		    struct plan **plans)
{
	struct ovl_ctx *ctx = link->ctx;
	struct device_addr *onlink = NULL;
	size_t i, onlink_count = 0;
	struct plan *p;
	char a[OVL_PREFIX_STRLEN], b[OVL_PREFIX_STRLEN];
	int err = 0;

	*plans = NULL;
	if (link->direct_routing) {
		err = device_addresses(ctx, link->family, 0, &onlink, &onlink_count);
		if (err < 0)
			return err;
	}
	p = calloc(count ? count : 1, sizeof(*p));
	if (!p)
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	for (i = 0; i < count && !err; i++)
		err = peer_plan_one(link, &peers[i], i, onlink, onlink_count, &p[i]);
	free(onlink);
	if (!err) {
		sort(p, count, sizeof(*p), cmp_plan_mac);
		for (i = 1; i < count && !err; i++)
			if (!p[i].direct && !memcmp(p[i].mac, p[i - 1].mac, 6) &&
			    !ovl_prefix_equal(&p[i].public_ip, &p[i - 1].public_ip))
				err = ctx_fail(ctx, -EINVAL, "peers %s and %s: one MAC %s at two public IPs",
					       peers[p[i - 1].index].subnet, peers[p[i].index].subnet,
					       peers[p[i].index].mac);
	}
	if (!err) {
		/* Sorted, a prefix that contains others comes right before
		 * the first of them. */
		sort(p, count, sizeof(*p), cmp_plan_subnet);
		for (i = 1; i < count && !err; i++)
			if (ovl_prefix_overlaps(&p[i].subnet, &p[i - 1].subnet))
				err = ctx_fail(ctx, -EINVAL, "peers %s and %s overlap",
					       peer_prefix_text(&p[i - 1].subnet, a),
					       peer_prefix_text(&p[i].subnet, b));
	}
	if (err < 0) {
		free(p);
		return err;
	}
	*plans = p;
	return 0;
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

/* A set of ids in use (open addressing; 0 is never an id). */
struct id_set {
	uint32_t *slots;
	size_t mask;
};

static int id_set_init(struct id_set *s, size_t count)
{
	size_t size = 64;

	while (size < count * 2)
		size *= 2;
	s->slots = calloc(size, sizeof(*s->slots));
	s->mask = size - 1;
	return s->slots ? 0 : -ENOMEM;
}

/* Adds id; 1 when it was there already. */
static int id_set_add(struct id_set *s, uint32_t id)
{
	size_t i = (id * 2654435761u) & s->mask;

	while (s->slots[i]) {
		if (s->slots[i] == id)
			return 1;
		i = (i + 1) & s->mask;
	}
	s->slots[i] = id;
	return 0;
}

static int cmp_nh_gw(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	int c = peer_prefix_cmp(&x->gw, &y->gw);

	return c ? c : peer_cmp_u32(&x->nh_id, &y->nh_id);
}

/* Gives every overlay peer a nexthop id: the one of our nexthops with its
 * gateway when there is one (kept), else a free one. */
int peer_assign_ids(struct view *v, struct plan *plans, size_t count)
{
	struct route *by_gw, key, *hit;
	struct id_set used;
	size_t i, lo, hi, mid;

	if (!v->nexthops)
		return 0;
	if (id_set_init(&used, v->id_count + count) < 0)
		return -ENOMEM;
	by_gw = malloc((v->nhs.count ? v->nhs.count : 1) * sizeof(*by_gw));
	if (!by_gw) {
		free(used.slots);
		return -ENOMEM;
	}
	if (v->nhs.count)	/* items is NULL when empty: memcpy's is nonnull */
		memcpy(by_gw, v->nhs.items, v->nhs.count * sizeof(*by_gw));
	sort(by_gw, v->nhs.count, sizeof(*by_gw), cmp_nh_gw);
	for (i = 0; i < v->id_count; i++)
		id_set_add(&used, v->ids[i]);
	for (i = 0; i < count; i++) {
		if (plans[i].direct)
			continue;
		/* The lowest id among our nexthops with this gateway. */
		key.gw = plans[i].gw;
		lo = 0;
		hi = v->nhs.count;
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (peer_prefix_cmp(&by_gw[mid].gw, &key.gw) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		hit = lo < v->nhs.count && !peer_prefix_cmp(&by_gw[lo].gw, &key.gw) ? &by_gw[lo] : NULL;
		if (hit && !hit->keep) {
			hit->keep = 1;
			plans[i].nh_id = hit->nh_id;
			continue;
		}
		plans[i].nh_id = peer_nh_id_first(v->link, &plans[i].gw);
		while (id_set_add(&used, plans[i].nh_id))
			plans[i].nh_id = peer_nh_id_next(plans[i].nh_id);
	}
	free(by_gw);
	free(used.slots);
	return 0;
}

/* ---- sync --------------------------------------------------------------- */

static int plan_find_subnet(const struct plan *plans, size_t count,
			    const struct ovl_prefix *dst)
{
	struct plan key = { .subnet = *dst };

	return search(&key, plans, count, sizeof(key), cmp_plan_subnet) != NULL;
}

/* The requests that turn the view into the plans: stale routes out, then
 * neighbours, fdb entries, nexthops and routes in (a peer's route last, so
 * the kernel never has to resolve its gateway), then the remaining stale
 * entries out. */
int peer_plan_sync(struct view *v, struct plan *plans, size_t count, struct run *run)
{
	struct neigh key, *n;
	struct route rkey, *r;
	struct plan *p;
	size_t i;
	int err = 0;

	for (i = 0; i < v->routes.count && !err; i++) {
		r = (struct route *)v->routes.items + i;
		if (!plan_find_subnet(plans, count, &r->dst))
			err = peer_run_add(run, OP_ROUTE, 1, NULL, NULL, r);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct)
			continue;
		memset(&key, 0, sizeof(key));
		key.dst = p->gw;
		n = peer_find_neigh(&v->neighs, &key, peer_cmp_neigh_dst);
		if (n)
			n->keep = 1;
		if (!n || !n->has_mac || memcmp(n->mac, p->mac, 6))
			err = peer_run_add(run, OP_NEIGH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct)
			continue;
		memcpy(key.mac, p->mac, 6);
		key.dst = p->public_ip;
		n = peer_find_neigh(&v->fdbs, &key, peer_cmp_neigh);
		if (n)
			n->keep = 1;
		else
			err = peer_run_add(run, OP_FDB, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct || !p->nh_id)
			continue;
		r = peer_view_nexthop(v, p->nh_id);
		if (r && !peer_prefix_cmp(&r->gw, &p->gw))
			r->keep = 1;
		else
			err = peer_run_add(run, OP_NH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		rkey.dst = p->subnet;
		r = search(&rkey, v->routes.items, v->routes.count, sizeof(rkey), peer_cmp_route_dst);
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

