/*
 * peer-plan.c - the wanted peers as plans: each checked against the link
 * (family, overlap, endpoint address, on-link for DirectRouting and
 * host-gw), the set of them indexed for the diff (by subnet, gateway and
 * MAC), and the nexthop ids libovl picks.
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
	p->index = (uint32_t)index;
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
	return prefix_same(&((const struct plan *)item)->subnet, key);
}

static int plan_has_mac(const void *item, const void *key)
{
	return !memcmp(((const struct plan *)item)->mac, key, 6);
}

/* The first overlay plan with mac, or NULL. */
static struct plan *plan_of_mac(const struct plan_set *set, const unsigned char mac[6])
{
	return hash_index_find(&set->macs, &set->plans, peer_hash_mac(mac), plan_has_mac, mac);
}

static int plan_has_gateway(const void *item, const void *key)
{
	return prefix_same(&((const struct plan *)item)->gw, key);
}

static const struct hash_index *index_by(const struct plan_set *set, enum plan_key by)
{
	return by == PLAN_BY_SUBNET ? &set->plans.index :
	       by == PLAN_BY_GATEWAY ? &set->gateways : &set->macs;
}

void peer_plan_want(const struct plan_set *set, enum plan_key by, struct lookup_batch *b,
		    const void *key)
{
	lookup_batch_add(b, index_by(set, by), by == PLAN_BY_MAC ? peer_hash_mac(key) :
			 peer_hash_prefix(key), key);
}

void peer_plan_resolve(const struct plan_set *set, enum plan_key by, struct lookup_batch *b)
{
	lookup_batch_resolve(b, index_by(set, by), &set->plans,
			     by == PLAN_BY_SUBNET ? plan_has_subnet :
			     by == PLAN_BY_GATEWAY ? plan_has_gateway : plan_has_mac);
}

int peer_plan_is(const struct plan_set *set, enum plan_key by, const struct plan *p,
		 const void *key)
{
	const struct plan *all = set->plans.items;

	if (by == PLAN_BY_SUBNET)
		return plan_has_subnet(p, key);
	if (by == PLAN_BY_GATEWAY)
		return set->gateways.count && plan_has_gateway(p, key);
	/* The MAC index holds the first overlay plan of each MAC. */
	return !p->direct && p->first_of_mac == (size_t)(p - all) && plan_has_mac(p, key);
}

/* Gateways are subnet bases: distinct once no subnets overlap. */
static int index_gateways(struct ovl_link *link, struct plan_set *set)
{
	const struct plan *all = set->plans.items;
	size_t i;

	if (hash_index_reset(&set->gateways, set->plans.count) < 0)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < set->plans.count; i++)
		hash_index_put(&set->gateways, peer_hash_prefix(&all[i].gw), i);
	return 0;
}

/* One VTEP MAC is one host: two overlay peers with one MAC must have one
 * public IP.  Indexes the first overlay plan of each MAC. */
static int check_macs(struct ovl_link *link, const struct ovl_peer *peers,
		      struct plan_set *set)
{
	struct plan *all = set->plans.items, *first;
	size_t i;

	if (hash_index_reset(&set->macs, set->plans.count) < 0)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < set->plans.count; i++) {
		if (all[i].direct)
			continue;
		first = plan_of_mac(set, all[i].mac);
		if (!first) {
			hash_index_put(&set->macs, peer_hash_mac(all[i].mac), i);
			first = &all[i];
		} else if (!ovl_prefix_equal(&all[i].public_ip, &first->public_ip)) {
			return ctx_fail(link->ctx, -EINVAL, "peers %s and %s: one MAC %s at two public IPs",
					peers[first->index].subnet, peers[all[i].index].subnet,
					peers[all[i].index].mac);
		}
		all[i].first_of_mac = (uint32_t)(first - all);
	}
	return 0;
}

/* Indexes the plans by subnet and finds two that overlap: a subnet that
 * holds another is the other's subnet cut to one of the lengths the plans
 * have. */
static int check_overlaps(struct ovl_link *link, struct plan_set *set)
{
	unsigned char used[129] = { 0 }, lengths[129];
	char a[OVL_PREFIX_STRLEN], b[OVL_PREFIX_STRLEN];
	const struct plan *all = set->plans.items, *outer;
	struct ovl_prefix cut;
	size_t i, len, n, cursor, length_count = 0;

	if (table_index(&set->plans, plan_subnet_hash) < 0)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < set->plans.count; i++)
		used[all[i].subnet.len] = 1;
	for (len = 0; len < sizeof(used); len++)
		if (used[len])
			lengths[length_count++] = (unsigned char)len;
	for (i = 0; i < set->plans.count; i++) {
		for (n = 0; n < length_count && lengths[n] <= all[i].subnet.len; n++) {
			cut = all[i].subnet;
			/* Subnets are aligned: cut to its own length, one is itself. */
			if (lengths[n] != cut.len) {
				cut.len = lengths[n];
				ovl_prefix_mask(&cut);
			}
			cursor = HASH_START;
			while ((outer = hash_index_next(&set->plans.index, &set->plans,
							peer_hash_prefix(&cut), &cursor)))
				if (outer != &all[i] && plan_has_subnet(outer, &cut))
					return ctx_fail(link->ctx, -EINVAL, "peers %s and %s overlap",
							peer_prefix_text(&outer->subnet, a),
							peer_prefix_text(&all[i].subnet, b));
		}
	}
	return 0;
}

int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		  struct plan_set *set)
{
	struct ovl_ctx *ctx = link->ctx;
	struct device_addr *onlink = NULL;
	size_t i, onlink_count = 0;
	struct plan *p;
	int err = 0;

	set->plans.size = sizeof(struct plan);
	/* Plans and index slots number peers in 32 bits. */
	if (count >= UINT32_MAX)
		return ctx_fail(ctx, -EINVAL, "%zu peers: too many for one link", count);
	if (table_reserve(&set->plans, count) < 0)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	if (link->direct_routing) {
		err = device_addresses(ctx, link->family, 0, &onlink, &onlink_count);
		if (err < 0)
			return err;
	}
	for (i = 0; i < count && !err; i++) {
		p = table_add(&set->plans);
		err = p ? peer_plan_one(link, &peers[i], i, onlink, onlink_count, p)
			: ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	free(onlink);
	if (!err)
		err = check_macs(link, peers, set);
	if (!err)
		err = check_overlaps(link, set);
	/* A host-gw link has no neighbours or nexthops to look up. */
	if (!err && !link->direct_only)
		err = index_gateways(link, set);
	return err;
}

void peer_plan_set_free(struct plan_set *set)
{
	int i;

	table_free(&set->plans);
	hash_index_free(&set->gateways);
	hash_index_free(&set->macs);
	for (i = 0; i < DUMP_KINDS; i++)
		free(set->orders[i].plan);
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
