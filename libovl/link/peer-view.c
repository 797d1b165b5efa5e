/*
 * peer-view.c - reading what the kernel holds that is ours on a link: the
 * dumps of neighbours, fdb entries, nexthops and routes and their replies
 * read as our entries (for a sync's diff, peer-diff.c), and the view the
 * listing takes them into.
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

int peer_dump(struct ovl_link *link, enum peer_dump what, netlink_reply_fn fn,
	      netlink_restart_fn restart, void *arg)
{
	struct ndmsg ndm = { .ndm_family = (unsigned char)link->family };
	struct ndmsg fdb = { .ndm_family = AF_BRIDGE, .ndm_ifindex = link->ifindex };
	struct nhmsg nhm = { .nh_family = AF_UNSPEC };
	struct rtmsg rtm = { .rtm_family = (unsigned char)link->family, .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = OVL_RTPROT };
	struct nl_msg *msg;

	switch (what) {
	case DUMP_NEIGH:
		msg = netlink_msg(RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm));
		/* The kernel skips other devices' neighbours (strict checking). */
		if (msg && nla_put_u32(msg, NDA_IFINDEX, (uint32_t)link->ifindex) < 0) {
			nlmsg_free(msg);
			msg = NULL;
		}
		break;
	case DUMP_FDB:
		msg = netlink_msg(RTM_GETNEIGH, NLM_F_DUMP, &fdb, sizeof(fdb));
		break;
	case DUMP_NEXTHOP:
		msg = netlink_msg(RTM_GETNEXTHOP, NLM_F_DUMP, &nhm, sizeof(nhm));
		break;
	default:
		msg = netlink_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	}
	if (!msg)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	return netlink_query(link->ctx, msg, fn, restart, arg);
}

int peer_parse_neigh(const struct ovl_link *link, const struct nlmsghdr *nlh, int bridge,
		     struct neigh *n)
{
	const struct ndmsg *ndm = NLMSG_DATA(nlh);
	struct nlattr *tb[NDA_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWNEIGH || netlink_attrs(nlh, sizeof(*ndm), tb, NDA_MAX) < 0 ||
	    ndm->ndm_ifindex != link->ifindex || !(ndm->ndm_state & NUD_PERMANENT))
		return 0;
	if (bridge ? !(ndm->ndm_flags & NTF_SELF)
		   : (!tb[NDA_PROTOCOL] || netlink_attr_u8(tb[NDA_PROTOCOL]) != OVL_RTPROT))
		return 0;
	memset(n, 0, sizeof(*n));
	if (tb[NDA_DST])
		netlink_get_addr(tb[NDA_DST], netlink_attr_len(tb[NDA_DST]) == 16 ? AF_INET6 : AF_INET,
			       &n->dst);
	if (tb[NDA_LLADDR] && netlink_attr_len(tb[NDA_LLADDR]) == 6) {
		memcpy(n->mac, netlink_attr_data(tb[NDA_LLADDR]), 6);
		n->has_mac = 1;
	}
	return 1;
}

int peer_parse_nexthop(const struct ovl_link *link, const struct nlmsghdr *nlh, uint32_t *id,
		       struct route *r)
{
	const struct nhmsg *nhm = NLMSG_DATA(nlh);
	struct nlattr *tb[NHA_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP || netlink_attrs(nlh, sizeof(*nhm), tb, NHA_MAX) < 0 ||
	    !tb[NHA_ID])
		return 0;
	*id = netlink_attr_u32(tb[NHA_ID]);
	memset(r, 0, sizeof(*r));
	if (nhm->nh_protocol != OVL_RTPROT || !tb[NHA_OIF] ||
	    (int)netlink_attr_u32(tb[NHA_OIF]) != link->ifindex)
		return 1;
	r->nh_id = *id;
	r->oif = link->ifindex;
	netlink_get_addr(tb[NHA_GATEWAY], nhm->nh_family, &r->gw);
	return 1;
}

int peer_parse_route(const struct ovl_link *link, const struct nlmsghdr *nlh, struct route *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	struct nlattr *tb[RTA_MAX + 1];
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || netlink_attrs(nlh, sizeof(*rtm), tb, RTA_MAX) < 0 ||
	    rtm->rtm_protocol != OVL_RTPROT || rtm->rtm_family != link->family)
		return 0;
	table = tb[RTA_TABLE] ? netlink_attr_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	memset(r, 0, sizeof(*r));
	netlink_get_addr(tb[RTA_DST], rtm->rtm_family, &r->dst);
	r->dst.family = rtm->rtm_family;
	r->dst.len = rtm->rtm_dst_len;
	if (tb[RTA_NH_ID])
		r->nh_id = netlink_attr_u32(tb[RTA_NH_ID]);
	if (tb[RTA_GATEWAY])
		netlink_get_addr(tb[RTA_GATEWAY], rtm->rtm_family, &r->gw);
	if (tb[RTA_OIF])
		r->oif = (int)netlink_attr_u32(tb[RTA_OIF]);
	r->onlink = !!(rtm->rtm_flags & RTNH_F_ONLINK);
	return 1;
}

int peer_route_on_link(const struct ovl_link *link, const struct route *r)
{
	return (link->ifindex && r->oif == link->ifindex) ||
	       (r->oif && r->oif == link->underlay_ifindex &&
		(!link->network.family || ovl_prefix_contains(&link->network, &r->dst)));
}

/* ---- nexthops by id ------------------------------------------------------ */

static uint32_t nexthop_hash(const void *item)
{
	return peer_hash_id(((const struct route *)item)->nh_id);
}

static int nexthop_has_id(const void *item, const void *key)
{
	return ((const struct route *)item)->nh_id == *(const uint32_t *)key;
}

int peer_nexthops_index(struct table *nhs)
{
	return table_index(nhs, nexthop_hash);
}

struct route *peer_nexthop_find(const struct table *nhs, uint32_t id)
{
	return table_find(nhs, peer_hash_id(id), nexthop_has_id, &id);
}

/* ---- the view of the listing -------------------------------------------- */

struct view_dump {
	struct view *view;
	struct table *table;
};

static void view_dump_restart(void *arg)
{
	((struct view_dump *)arg)->table->count = 0;
}

static void view_nexthop_restart(void *arg)
{
	((struct view *)arg)->nhs.count = 0;
}

static void view_route_restart(void *arg)
{
	((struct view *)arg)->routes.count = 0;
}

static int view_neigh_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct view_dump *d = arg;
	struct neigh n, *slot;

	if (!peer_parse_neigh(d->view->link, nlh, d->table == &d->view->fdbs, &n))
		return 0;
	slot = table_add(d->table);
	if (!slot)
		return -ENOMEM;
	*slot = n;
	return 0;
}

static int view_nexthop_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct view *v = arg;
	struct route r, *slot;
	uint32_t id;

	if (!peer_parse_nexthop(v->link, nlh, &id, &r) || !r.oif)
		return 0;
	slot = table_add(&v->nhs);
	if (!slot)
		return -ENOMEM;
	*slot = r;
	return 0;
}

static int view_route_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct view *v = arg;
	struct route r, *slot;

	if (!peer_parse_route(v->link, nlh, &r))
		return 0;
	slot = table_add(&v->routes);
	if (!slot)
		return -ENOMEM;
	*slot = r;
	return 0;
}

static uint32_t neigh_dst_hash(const void *item)
{
	return peer_hash_prefix(&((const struct neigh *)item)->dst);
}

static int neigh_has_dst(const void *item, const void *key)
{
	return prefix_same(&((const struct neigh *)item)->dst, key);
}

struct neigh *peer_view_neigh(const struct view *v, const struct ovl_prefix *dst)
{
	return table_find(&v->neighs, peer_hash_prefix(dst), neigh_has_dst, dst);
}

void peer_view_free(struct view *v)
{
	table_free(&v->neighs);
	table_free(&v->fdbs);
	table_free(&v->nhs);
	table_free(&v->routes);
}

/* Keeps the routes of this link: via our nexthops, onlink on the device,
 * or direct on the underlay. */
static void keep_link_routes(struct view *v)
{
	struct route *routes = v->routes.items;
	size_t i, kept = 0;

	for (i = 0; i < v->routes.count; i++)
		if (routes[i].nh_id ? peer_nexthop_find(&v->nhs, routes[i].nh_id) != NULL
				    : peer_route_on_link(v->link, &routes[i]))
			routes[kept++] = routes[i];
	v->routes.count = kept;
}

int peer_view_load(struct ovl_link *link, struct view *v, int routes_only)
{
	struct view_dump neighs = { v, &v->neighs }, fdbs = { v, &v->fdbs };
	int err = 0;

	memset(v, 0, sizeof(*v));
	v->link = link;
	v->neighs.size = v->fdbs.size = sizeof(struct neigh);
	v->nhs.size = v->routes.size = sizeof(struct route);
	if (!routes_only) {
		err = peer_dump(link, DUMP_NEIGH, view_neigh_reply, view_dump_restart, &neighs);
		if (!err)
			err = peer_dump(link, DUMP_FDB, view_neigh_reply, view_dump_restart, &fdbs);
		if (!err) {
			err = peer_dump(link, DUMP_NEXTHOP, view_nexthop_reply,
					view_nexthop_restart, v);
			/* Kernels before 5.3: classic routes instead. */
			if (err == -EOPNOTSUPP || err == -EINVAL || err == -EAFNOSUPPORT)
				err = 0;
		}
	}
	if (!err)
		err = peer_dump(link, DUMP_ROUTE, view_route_reply, view_route_restart, v);
	if (!err)
		err = peer_nexthops_index(&v->nhs);
	if (!err) {
		keep_link_routes(v);
		err = table_index(&v->neighs, neigh_dst_hash);
	}
	if (err < 0) {
		peer_view_free(v);
		return err == -ENOMEM ? ctx_fail(link->ctx, err, "out of memory")
				      : ctx_fail_prefix(link->ctx, err, "%s: reading peers: ",
							link->name);
	}
	return 0;
}
