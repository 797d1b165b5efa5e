/*
 * peer-view.c - what the kernel holds that is ours on a link: our
 * neighbours, fdb entries, nexthops (and every nexthop id in use) and
 * routes, dumped into hash-indexed tables for the plan's diff and the
 * listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/internal.h"
#include "link/peer.h"
#include "netlink/nl.h"

int peer_prefix_cmp(const struct ovl_prefix *a, const struct ovl_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_len(a->family));
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

const char *peer_prefix_text(const struct ovl_prefix *p, char buf[OVL_PREFIX_STRLEN])
{
	if ((p->len == (p->family == AF_INET6 ? 128u : 32u)
	     ? ovl_addr_format(p, buf, OVL_PREFIX_STRLEN)
	     : ovl_prefix_format(p, buf, OVL_PREFIX_STRLEN)) < 0)
		snprintf(buf, OVL_PREFIX_STRLEN, "?");
	return buf;
}

/* ---- dumps ------------------------------------------------------------ */

static void table_restart(void *arg)
{
	((struct table *)arg)->count = 0;
}

struct dump {
	struct view *view;
	struct table *table;
};

static int neigh_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct ovl_link *link = d->view->link;
	const struct ndmsg *ndm = NLMSG_DATA(nlh);
	struct nlattr *tb[NDA_MAX + 1];
	struct neigh *n;
	int bridge = d->table == &d->view->fdbs;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    netlink_attrs(nlh, sizeof(*ndm), tb, NDA_MAX) < 0 ||
	    ndm->ndm_ifindex != link->ifindex || !(ndm->ndm_state & NUD_PERMANENT))
		return 0;
	if (bridge ? !(ndm->ndm_flags & NTF_SELF)
		   : (!tb[NDA_PROTOCOL] || nla_get_u8(tb[NDA_PROTOCOL]) != OVL_RTPROT))
		return 0;
	n = table_add(d->table);
	if (!n)
		return -ENOMEM;
	if (tb[NDA_DST])
		netlink_get_addr(tb[NDA_DST], nla_len(tb[NDA_DST]) == 16 ? AF_INET6 : AF_INET,
			       &n->dst);
	if (tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6) {
		memcpy(n->mac, nla_data(tb[NDA_LLADDR]), 6);
		n->has_mac = 1;
	}
	return 0;
}

static int nexthop_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct view *v = arg;
	const struct nhmsg *nhm = NLMSG_DATA(nlh);
	struct nlattr *tb[NHA_MAX + 1];
	struct route *r;
	uint32_t *id;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP ||
	    netlink_attrs(nlh, sizeof(*nhm), tb, NHA_MAX) < 0 ||
	    !tb[NHA_ID])
		return 0;
	id = table_add(&v->ids);
	if (!id)
		return -ENOMEM;
	*id = nla_get_u32(tb[NHA_ID]);
	if (nhm->nh_protocol != OVL_RTPROT || !tb[NHA_OIF] ||
	    (int)nla_get_u32(tb[NHA_OIF]) != v->link->ifindex)
		return 0;
	r = table_add(&v->nhs);
	if (!r)
		return -ENOMEM;
	r->nh_id = nla_get_u32(tb[NHA_ID]);
	r->oif = v->link->ifindex;
	netlink_get_addr(tb[NHA_GATEWAY], nhm->nh_family, &r->gw);
	return 0;
}

static void nexthop_restart(void *arg)
{
	struct view *v = arg;

	v->ids.count = 0;
	v->nhs.count = 0;
}

static int route_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct view *v = arg;
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	struct nlattr *tb[RTA_MAX + 1];
	struct route *r;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    netlink_attrs(nlh, sizeof(*rtm), tb, RTA_MAX) < 0 ||
	    rtm->rtm_protocol != OVL_RTPROT || rtm->rtm_family != v->link->family)
		return 0;
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	r = table_add(&v->routes);
	if (!r)
		return -ENOMEM;
	netlink_get_addr(tb[RTA_DST], rtm->rtm_family, &r->dst);
	r->dst.family = rtm->rtm_family;
	r->dst.len = rtm->rtm_dst_len;
	if (tb[RTA_NH_ID])
		r->nh_id = nla_get_u32(tb[RTA_NH_ID]);
	if (tb[RTA_GATEWAY])
		netlink_get_addr(tb[RTA_GATEWAY], rtm->rtm_family, &r->gw);
	if (tb[RTA_OIF])
		r->oif = (int)nla_get_u32(tb[RTA_OIF]);
	return 0;
}

static int dump(struct ovl_ctx *ctx, int type, const void *hdr, size_t len, int ifindex_attr,
		netlink_reply_fn fn, netlink_restart_fn restart, void *arg)
{
	struct nl_msg *msg = netlink_msg(type, NLM_F_DUMP, hdr, len);

	if (!msg || (ifindex_attr && nla_put_u32(msg, NDA_IFINDEX, (uint32_t)ifindex_attr) < 0)) {
		nlmsg_free(msg);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	return netlink_query(ctx, msg, fn, restart, arg);
}

/* ---- indexes ------------------------------------------------------------ */

/* Seeds of peer_hash() for the kinds of key. */
enum { HASH_FDB = 1, HASH_NEXTHOP };

static uint32_t hash_fdb(const unsigned char mac[6], const struct ovl_prefix *dst)
{
	unsigned char key[6 + 16];
	size_t len = addr_len(dst->family);

	memcpy(key, mac, 6);
	memcpy(key + 6, dst->addr, len);
	return peer_hash(HASH_FDB ^ (uint32_t)dst->family << 8 ^ dst->len << 16, key, 6 + len);
}

static uint32_t hash_id(uint32_t id)
{
	return peer_hash(HASH_NEXTHOP, &id, sizeof(id));
}

static uint32_t neigh_dst_hash(const void *item)
{
	return peer_hash_prefix(&((const struct neigh *)item)->dst);
}

static uint32_t fdb_hash(const void *item)
{
	const struct neigh *n = item;

	return hash_fdb(n->mac, &n->dst);
}

static uint32_t nexthop_hash(const void *item)
{
	return hash_id(((const struct route *)item)->nh_id);
}

static uint32_t route_dst_hash(const void *item)
{
	return peer_hash_prefix(&((const struct route *)item)->dst);
}

static int neigh_has_dst(const void *item, const void *key)
{
	return !peer_prefix_cmp(&((const struct neigh *)item)->dst, key);
}

static int fdb_is(const void *item, const void *key)
{
	const struct neigh *n = item, *k = key;

	return !memcmp(n->mac, k->mac, 6) && !peer_prefix_cmp(&n->dst, &k->dst);
}

static int nexthop_has_id(const void *item, const void *key)
{
	return ((const struct route *)item)->nh_id == *(const uint32_t *)key;
}

static int route_has_dst(const void *item, const void *key)
{
	return !peer_prefix_cmp(&((const struct route *)item)->dst, key);
}

struct route *peer_view_nexthop(const struct view *v, uint32_t id)
{
	return table_find(&v->nhs, hash_id(id), nexthop_has_id, &id);
}

struct neigh *peer_view_neigh(const struct view *v, const struct ovl_prefix *dst)
{
	return table_find(&v->neighs, peer_hash_prefix(dst), neigh_has_dst, dst);
}

struct neigh *peer_view_fdb(const struct view *v, const unsigned char mac[6],
			    const struct ovl_prefix *dst)
{
	struct neigh key;

	memcpy(key.mac, mac, 6);
	key.dst = *dst;
	return table_find(&v->fdbs, hash_fdb(mac, dst), fdb_is, &key);
}

struct route *peer_view_route(const struct view *v, const struct ovl_prefix *dst)
{
	return table_find(&v->routes, peer_hash_prefix(dst), route_has_dst, dst);
}

/* ---- loading ------------------------------------------------------------ */

void peer_view_free(struct view *v)
{
	table_free(&v->neighs);
	table_free(&v->fdbs);
	table_free(&v->nhs);
	table_free(&v->routes);
	table_free(&v->ids);
}

/* Keeps the routes of this link: via our nexthops, onlink on the device,
 * or direct on the underlay. */
static void keep_link_routes(struct view *v)
{
	const struct ovl_link *link = v->link;
	struct route *r, *routes = v->routes.items;
	size_t i, kept = 0;

	for (i = 0; i < v->routes.count; i++) {
		r = &routes[i];
		if (r->nh_id ? peer_view_nexthop(v, r->nh_id) != NULL
			     : (link->ifindex && r->oif == link->ifindex) ||
				       (r->oif && r->oif == link->underlay_ifindex &&
					(!link->network.family ||
					 ovl_prefix_contains(&link->network, &r->dst))))
			routes[kept++] = *r;
	}
	v->routes.count = kept;
}

int peer_view_load(struct ovl_link *link, struct view *v, int routes_only)
{
	struct ovl_ctx *ctx = link->ctx;
	struct ndmsg ndm = { .ndm_family = (unsigned char)link->family };
	struct ndmsg fdb = { .ndm_family = AF_BRIDGE, .ndm_ifindex = link->ifindex };
	struct nhmsg nhm = { .nh_family = AF_UNSPEC };
	struct rtmsg rtm = { .rtm_family = (unsigned char)link->family, .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = OVL_RTPROT };
	struct dump neighs = { v, &v->neighs }, fdbs = { v, &v->fdbs };
	int err = 0;

	memset(v, 0, sizeof(*v));
	v->link = link;
	v->neighs.size = v->fdbs.size = sizeof(struct neigh);
	v->nhs.size = v->routes.size = sizeof(struct route);
	v->ids.size = sizeof(uint32_t);
	if (!routes_only) {
		err = dump(ctx, RTM_GETNEIGH, &ndm, sizeof(ndm), link->ifindex, neigh_reply,
			   table_restart, &neighs);
		if (!err)
			err = dump(ctx, RTM_GETNEIGH, &fdb, sizeof(fdb), 0, neigh_reply,
				   table_restart, &fdbs);
		if (!err) {
			err = dump(ctx, RTM_GETNEXTHOP, &nhm, sizeof(nhm), 0, nexthop_reply,
				   nexthop_restart, v);
			v->nexthops = err == 0;
			/* Kernels before 5.3: classic routes instead. */
			if (err == -EOPNOTSUPP || err == -EINVAL || err == -EAFNOSUPPORT)
				err = 0;
		}
	}
	if (!err)
		err = dump(ctx, RTM_GETROUTE, &rtm, sizeof(rtm), 0, route_reply, table_restart, v);
	if (!err)
		err = table_index(&v->nhs, nexthop_hash);
	if (!err) {
		keep_link_routes(v);
		err = table_index(&v->routes, route_dst_hash);
	}
	if (!err)
		err = table_index(&v->neighs, neigh_dst_hash);
	if (!err)
		err = table_index(&v->fdbs, fdb_hash);
	if (err < 0) {
		peer_view_free(v);
		return err == -ENOMEM ? ctx_fail(ctx, err, "out of memory")
				      : ctx_fail_prefix(ctx, err, "%s: reading peers: ", link->name);
	}
	return 0;
}
