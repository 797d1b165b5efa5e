/*
 * peer.c - the kernel state per remote peer on a link: neighbour
 * (subnet base -> VTEP MAC), fdb entry (MAC -> underlay address), nexthop
 * (via subnet base, onlink) and route (subnet via that nexthop); or, for a
 * DirectRouting peer on the underlay's link, one route via its address.
 * Added, removed, listed, and synced against a desired set.
 *
 * Routes use nexthop objects: flannel-style routes (a distinct gateway
 * each) share one bucket of the kernel's fib_info hash, which makes
 * installing N of them quadratic; a nexthop per peer keeps it linear and
 * the packets take the same path.  Messages are built by hand: libnl 3.7's
 * objects cannot send nexthops, RTA_NH_ID or NDA_PROTOCOL.
 *
 * A host-gw link (no device) is a link where every peer is such a direct
 * route and an off-link peer is an error.
 *
 * Ownership: routes and nexthops with protocol OVL_RTPROT, neighbours that
 * are permanent with NDA_PROTOCOL OVL_RTPROT on our device, and permanent
 * "self" fdb entries on our device.  Nothing else is ever changed by sync.
 */
#include <arpa/inet.h>
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
#include "link/link.h"
#include "netlink/device.h"
#include "netlink/nl.h"

/* Nexthop ids libovl picks: a hash of the gateway into this range, so the
 * same peer gets the same id every time and small foreign ids stay clear. */
#define NH_ID_BASE 0x10000000u
#define NH_ID_SPAN 0x6fffffffu
#define NH_PROBES 64

struct plan {
	size_t index;			/* in the caller's array */
	struct ovl_prefix subnet;
	struct ovl_prefix gw;		/* the subnet base: the remote VTEP */
	struct ovl_prefix public_ip;
	unsigned char mac[6];
	int direct;
	uint32_t nh_id;			/* 0: a classic onlink route */
	int failed;
};

struct neigh {
	struct ovl_prefix dst;
	unsigned char mac[6];
	int has_mac;
	int keep;
};

struct route {
	struct ovl_prefix dst;
	struct ovl_prefix gw;
	uint32_t nh_id;
	int oif;
	int keep;
};

/* The dump of one kind of entry (neigh, fdb: struct neigh; nexthop,
 * route: struct route). */
struct table {
	void *items;
	size_t count;
	size_t capacity;
	size_t size;
};

struct view {
	struct ovl_link *link;
	int nexthops;			/* the kernel has nexthop objects */
	struct table neighs;		/* ours: dst -> mac */
	struct table fdbs;		/* ours: mac, dst */
	struct table nhs;		/* ours on this link: id, gw */
	struct table routes;		/* ours for this link */
	uint32_t *ids;			/* every nexthop id in the namespace */
	size_t id_count;
	size_t id_capacity;
	int err;
};

enum op_entry { OP_NEIGH, OP_FDB, OP_NH, OP_ROUTE };

struct op {
	unsigned char entry;		/* enum op_entry */
	unsigned char del;
	struct plan *plan;		/* adds, and deletes of a failed peer */
	const struct neigh *neigh;	/* stale neighbour or fdb entry */
	const struct route *route;	/* stale nexthop or route */
};

struct run {
	struct ovl_link *link;
	struct op *ops;
	size_t count;
	size_t capacity;
};

/* qsort and bsearch take no NULL array, even of zero items (UBSan). */
static void sort(void *items, size_t count, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (count)
		qsort(items, count, size, cmp);
}

static void *search(const void *key, const void *items, size_t count, size_t size,
		    int (*cmp)(const void *, const void *))
{
	return count ? bsearch(key, items, count, size, cmp) : NULL;
}

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int prefix_cmp(const struct ovl_prefix *a, const struct ovl_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_len(a->family));
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static const char *prefix_text(const struct ovl_prefix *p, char buf[OVL_PREFIX_STRLEN])
{
	if ((p->len == (p->family == AF_INET6 ? 128u : 32u)
	     ? ovl_addr_format(p, buf, OVL_PREFIX_STRLEN)
	     : ovl_prefix_format(p, buf, OVL_PREFIX_STRLEN)) < 0)
		snprintf(buf, OVL_PREFIX_STRLEN, "?");
	return buf;
}

/* ---- dumps ------------------------------------------------------------ */

static void *table_add(struct table *t)
{
	void *grown;

	if (t->count == t->capacity) {
		grown = realloc(t->items, (t->capacity * 2 + 64) * t->size);
		if (!grown)
			return NULL;
		t->items = grown;
		t->capacity = t->capacity * 2 + 64;
	}
	memset((char *)t->items + t->count * t->size, 0, t->size);
	return (char *)t->items + t->count++ * t->size;
}

static void table_restart(void *arg)
{
	((struct table *)arg)->count = 0;
}

static void addr_from_attr(const struct nlattr *a, int family, struct ovl_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (!a || (size_t)nla_len(a) != addr_len(family))
		return;
	p->family = family;
	memcpy(p->addr, nla_data(a), addr_len(family));
	p->len = (unsigned int)addr_len(family) * 8;
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
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*ndm), tb, NDA_MAX, NULL) < 0 ||
	    ndm->ndm_ifindex != link->ifindex || !(ndm->ndm_state & NUD_PERMANENT))
		return 0;
	if (bridge ? !(ndm->ndm_flags & NTF_SELF)
		   : (!tb[NDA_PROTOCOL] || nla_get_u8(tb[NDA_PROTOCOL]) != OVL_RTPROT))
		return 0;
	n = table_add(d->table);
	if (!n)
		return -ENOMEM;
	if (tb[NDA_DST])
		addr_from_attr(tb[NDA_DST], nla_len(tb[NDA_DST]) == 16 ? AF_INET6 : AF_INET,
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
	uint32_t *grown;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*nhm), tb, NHA_MAX, NULL) < 0 ||
	    !tb[NHA_ID])
		return 0;
	if (v->id_count == v->id_capacity) {
		grown = realloc(v->ids, (v->id_capacity * 2 + 64) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		v->ids = grown;
		v->id_capacity = v->id_capacity * 2 + 64;
	}
	v->ids[v->id_count++] = nla_get_u32(tb[NHA_ID]);
	if (nhm->nh_protocol != OVL_RTPROT || !tb[NHA_OIF] ||
	    (int)nla_get_u32(tb[NHA_OIF]) != v->link->ifindex)
		return 0;
	r = table_add(&v->nhs);
	if (!r)
		return -ENOMEM;
	r->nh_id = nla_get_u32(tb[NHA_ID]);
	r->oif = v->link->ifindex;
	addr_from_attr(tb[NHA_GATEWAY], nhm->nh_family, &r->gw);
	return 0;
}

static void nexthop_restart(void *arg)
{
	struct view *v = arg;

	v->id_count = 0;
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
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*rtm), tb, RTA_MAX, NULL) < 0 ||
	    rtm->rtm_protocol != OVL_RTPROT || rtm->rtm_family != v->link->family)
		return 0;
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	r = table_add(&v->routes);
	if (!r)
		return -ENOMEM;
	addr_from_attr(tb[RTA_DST], rtm->rtm_family, &r->dst);
	r->dst.family = rtm->rtm_family;
	r->dst.len = rtm->rtm_dst_len;
	if (tb[RTA_NH_ID])
		r->nh_id = nla_get_u32(tb[RTA_NH_ID]);
	if (tb[RTA_GATEWAY])
		addr_from_attr(tb[RTA_GATEWAY], rtm->rtm_family, &r->gw);
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

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_neigh(const void *a, const void *b)
{
	const struct neigh *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);

	return c ? c : prefix_cmp(&x->dst, &y->dst);
}

static int cmp_neigh_dst(const void *a, const void *b)
{
	return prefix_cmp(&((const struct neigh *)a)->dst, &((const struct neigh *)b)->dst);
}

static int cmp_route_dst(const void *a, const void *b)
{
	return prefix_cmp(&((const struct route *)a)->dst, &((const struct route *)b)->dst);
}

static int cmp_route_id(const void *a, const void *b)
{
	return cmp_u32(&((const struct route *)a)->nh_id, &((const struct route *)b)->nh_id);
}

static void view_free(struct view *v)
{
	free(v->neighs.items);
	free(v->fdbs.items);
	free(v->nhs.items);
	free(v->routes.items);
	free(v->ids);
}

static struct route *find_nh(const struct view *v, uint32_t id)
{
	struct route key = { .nh_id = id };

	return search(&key, v->nhs.items, v->nhs.count, sizeof(key), cmp_route_id);
}

/* What the kernel holds that is ours on this link, each table sorted for
 * lookups.  Only the routes when routes_only (no device to ask about). */
static int view_load(struct ovl_link *link, struct view *v, int routes_only)
{
	struct ovl_ctx *ctx = link->ctx;
	struct ndmsg ndm = { .ndm_family = (unsigned char)link->family };
	struct ndmsg fdb = { .ndm_family = AF_BRIDGE, .ndm_ifindex = link->ifindex };
	struct nhmsg nhm = { .nh_family = AF_UNSPEC };
	struct rtmsg rtm = { .rtm_family = (unsigned char)link->family, .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = OVL_RTPROT };
	struct dump neighs = { v, &v->neighs }, fdbs = { v, &v->fdbs };
	struct route *r;
	size_t i, kept = 0;
	int err = 0;

	memset(v, 0, sizeof(*v));
	v->link = link;
	v->neighs.size = v->fdbs.size = sizeof(struct neigh);
	v->nhs.size = v->routes.size = sizeof(struct route);
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
	if (err < 0) {
		view_free(v);
		return err == -ENOMEM ? ctx_fail(ctx, err, "out of memory")
				      : ctx_fail_prefix(ctx, err, "%s: reading peers: ", link->name);
	}
	sort(v->nhs.items, v->nhs.count, sizeof(struct route), cmp_route_id);
	sort(v->ids, v->id_count, sizeof(*v->ids), cmp_u32);
	/* Keep the routes of this link: via our nexthops, onlink on the
	 * device, or direct on the underlay. */
	for (i = 0; i < v->routes.count; i++) {
		r = (struct route *)v->routes.items + i;
		if (r->nh_id ? find_nh(v, r->nh_id) != NULL
			     : (link->ifindex && r->oif == link->ifindex) ||
				       (r->oif && r->oif == link->underlay_ifindex &&
					(!link->network.family ||
					 ovl_prefix_contains(&link->network, &r->dst))))
			((struct route *)v->routes.items)[kept++] = *r;
	}
	v->routes.count = kept;
	sort(v->routes.items, kept, sizeof(struct route), cmp_route_dst);
	sort(v->neighs.items, v->neighs.count, sizeof(struct neigh), cmp_neigh_dst);
	sort(v->fdbs.items, v->fdbs.count, sizeof(struct neigh), cmp_neigh);
	return 0;
}

/* ---- requests --------------------------------------------------------- */

static struct nl_msg *neigh_msg(const struct ovl_link *link, int del, int bridge,
				const unsigned char *mac, const struct ovl_prefix *dst)
{
	struct ndmsg ndm = { .ndm_family = (unsigned char)(bridge ? AF_BRIDGE : link->family),
			     .ndm_ifindex = link->ifindex,
			     .ndm_flags = bridge ? NTF_SELF : 0,
			     .ndm_state = del ? 0 : NUD_PERMANENT,
			     .ndm_type = del ? 0 : RTN_UNICAST };
	struct nl_msg *msg = netlink_msg(del ? RTM_DELNEIGH : RTM_NEWNEIGH,
					 del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &ndm, sizeof(ndm));

	if (!msg)
		return NULL;
	if ((dst && dst->family &&
	     nla_put(msg, NDA_DST, (int)addr_len(dst->family), dst->addr) < 0) ||
	    (mac && nla_put(msg, NDA_LLADDR, 6, mac) < 0) ||
	    (!bridge && !del && nla_put_u8(msg, NDA_PROTOCOL, OVL_RTPROT) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *nexthop_msg(const struct ovl_link *link, int del, uint32_t id,
				  const struct ovl_prefix *gw)
{
	struct nhmsg nhm = { .nh_family = (unsigned char)(del ? AF_UNSPEC : gw->family),
			     .nh_protocol = del ? 0 : OVL_RTPROT,
			     .nh_flags = del ? 0 : RTNH_F_ONLINK };
	struct nl_msg *msg = netlink_msg(del ? RTM_DELNEXTHOP : RTM_NEWNEXTHOP,
					 del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &nhm, sizeof(nhm));

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, NHA_ID, id) < 0 ||
	    (!del && (nla_put_u32(msg, NHA_OIF, (uint32_t)link->ifindex) < 0 ||
		      nla_put(msg, NHA_GATEWAY, (int)addr_len(gw->family), gw->addr) < 0))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* A route to dst: via nexthop nh_id, else via gw on oif (onlink when oif is
 * our device); a delete names only dst and our protocol. */
static struct nl_msg *route_msg(const struct ovl_link *link, int del,
				const struct ovl_prefix *dst, uint32_t nh_id,
				const struct ovl_prefix *gw, int oif)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)link->family,
			     .rtm_dst_len = (unsigned char)dst->len,
			     .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = OVL_RTPROT,
			     .rtm_scope = del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE,
			     .rtm_type = RTN_UNICAST,
			     .rtm_flags = !del && !nh_id && oif == link->ifindex ? RTNH_F_ONLINK : 0 };
	struct nl_msg *msg = netlink_msg(del ? RTM_DELROUTE : RTM_NEWROUTE,
					 del ? 0 : NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof(rtm));

	if (!msg)
		return NULL;
	if (nla_put(msg, RTA_DST, (int)addr_len(dst->family), dst->addr) < 0 ||
	    (!del && nh_id && nla_put_u32(msg, RTA_NH_ID, nh_id) < 0) ||
	    (!del && !nh_id &&
	     (nla_put(msg, RTA_GATEWAY, (int)addr_len(gw->family), gw->addr) < 0 ||
	      nla_put_u32(msg, RTA_OIF, (uint32_t)oif) < 0))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int build_op(void *arg, size_t index, struct nl_msg **msg)
{
	struct run *run = arg;
	const struct op *op = &run->ops[index];
	const struct ovl_link *link = run->link;
	const struct plan *p = op->plan;

	switch (op->entry) {
	case OP_NEIGH:
		*msg = p ? neigh_msg(link, op->del, 0, op->del ? NULL : p->mac, &p->gw)
			 : neigh_msg(link, 1, 0, NULL, &op->neigh->dst);
		break;
	case OP_FDB:
		*msg = p ? neigh_msg(link, op->del, 1, p->mac, &p->public_ip)
			 : neigh_msg(link, 1, 1, op->neigh->mac, &op->neigh->dst);
		break;
	case OP_NH:
		*msg = nexthop_msg(link, op->del, p ? p->nh_id : op->route->nh_id, p ? &p->gw : NULL);
		break;
	default:
		if (!p)
			*msg = route_msg(link, 1, &op->route->dst, 0, NULL, 0);
		else if (p->direct)
			*msg = route_msg(link, op->del, &p->subnet, 0, &p->public_ip,
					 link->underlay_ifindex);
		else
			*msg = route_msg(link, op->del, &p->subnet, p->nh_id, &p->gw, link->ifindex);
	}
	return *msg ? 0 : ctx_fail(link->ctx, -ENOMEM, "out of memory");
}

static int run_add(struct run *run, int entry, int del, struct plan *p, const struct neigh *n,
		   const struct route *r)
{
	struct op *grown;

	if (run->count == run->capacity) {
		grown = realloc(run->ops, (run->capacity * 2 + 64) * sizeof(*grown));
		if (!grown)
			return ctx_fail(run->link->ctx, -ENOMEM, "out of memory");
		run->ops = grown;
		run->capacity = run->capacity * 2 + 64;
	}
	run->ops[run->count++] = (struct op){ (unsigned char)entry, (unsigned char)del, p, n, r };
	return 0;
}

/* Every entry of peer p, removed (the order undoes an add). */
static int run_remove_peer(struct run *run, struct plan *p)
{
	int err = run_add(run, OP_ROUTE, 1, p, NULL, NULL);

	if (!err && !p->direct && p->nh_id)
		err = run_add(run, OP_NH, 1, p, NULL, NULL);
	if (!err && !p->direct)
		err = run_add(run, OP_NEIGH, 1, p, NULL, NULL);
	if (!err && !p->direct)
		err = run_add(run, OP_FDB, 1, p, NULL, NULL);
	return err;
}

static const char *op_name(const struct op *op)
{
	static const char *const names[] = { "neighbour", "fdb entry", "nexthop", "route" };

	return names[op->entry];
}

static const char *peer_name(const struct ovl_peer *peers, const struct plan *p,
			     char buf[OVL_PREFIX_STRLEN])
{
	if (peers[p->index].subnet)
		return peers[p->index].subnet;
	snprintf(buf, OVL_PREFIX_STRLEN, "#%zu", p->index);
	return buf;
}

/* Sends run's requests.  A peer with a failed request is removed again (no
 * half-made peers); the first failure is returned, naming its peer or
 * entry. */
static int run_send(struct run *run, const struct ovl_peer *peers)
{
	struct ovl_ctx *ctx = run->link->ctx;
	struct run undo = { .link = run->link };
	char name[OVL_PREFIX_STRLEN], reason[sizeof(ctx->error)];
	const struct op *op;
	size_t i;
	int *errors, err, first = -1;

	if (!run->count)
		return 0;
	errors = malloc(run->count * sizeof(*errors));
	if (!errors)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	err = netlink_batch(ctx, run->count, build_op, run, errors);
	for (i = 0; i < run->count; i++) {
		if (!errors[i])
			continue;
		if (first < 0)
			first = (int)i;
		op = &run->ops[i];
		if (op->plan && !op->del && !op->plan->failed) {
			op->plan->failed = 1;
			if (run_remove_peer(&undo, op->plan) < 0)
				break;
		}
	}
	if (first >= 0) {
		op = &run->ops[first];
		memcpy(reason, ctx->error, sizeof(reason));
		if (undo.count && netlink_batch(ctx, undo.count, build_op, &undo, NULL) < 0)
			ctx_log(ctx, OVL_LOG_WARNING, "%s: removing failed peers: %s",
				run->link->name, ctx->error);
		memcpy(ctx->error, reason, sizeof(reason));
		if (op->plan)
			err = ctx_fail_prefix(ctx, errors[first], "%s: peer %s: %s %s: ",
					      run->link->name, peer_name(peers, op->plan, name),
					      op->del ? "removing" : "adding", op_name(op));
		else
			err = ctx_fail_prefix(ctx, errors[first], "%s: removing stale %s %s: ",
					      run->link->name, op_name(op),
					      op->entry == OP_NH ? "" :
					      prefix_text(op->entry == OP_ROUTE ? &op->route->dst
										: &op->neigh->dst, name));
	} else if (err < 0) {
		ctx_fail_prefix(ctx, err, "%s: ", run->link->name);
	}
	free(undo.ops);
	free(errors);
	return err;
}

/* ---- validation ------------------------------------------------------- */

/* Checks peer and fills p.  onlink: the addresses of every device when
 * DirectRouting is on; those of the underlay tell which peers share its
 * link. */
static int plan_peer(struct ovl_link *link, const struct ovl_peer *peer, size_t index,
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
				prefix_text(&link->subnet, text));
	if (link->network.family && !ovl_prefix_contains(&link->network, &p->subnet))
		return ctx_fail(ctx, -EINVAL, "peer %s: outside the cluster network %s", name,
				prefix_text(&link->network, text));
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
					name, prefix_text(&mine, text));
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
	return prefix_cmp(&((const struct plan *)a)->subnet, &((const struct plan *)b)->subnet);
}

static int cmp_plan_mac(const void *a, const void *b)
{
	const struct plan *x = a, *y = b;
	int c = x->direct - y->direct;

	return c ? c : memcmp(x->mac, y->mac, 6);
}

/* All peers checked before anything is sent; *plans sorted by subnet. */
static int plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
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
		err = plan_peer(link, &peers[i], i, onlink, onlink_count, &p[i]);
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
					       prefix_text(&p[i - 1].subnet, a),
					       prefix_text(&p[i].subnet, b));
	}
	if (err < 0) {
		free(p);
		return err;
	}
	*plans = p;
	return 0;
}

/* ---- nexthop ids -------------------------------------------------------- */

static uint32_t nh_id_first(const struct ovl_link *link, const struct ovl_prefix *gw)
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

static uint32_t nh_id_next(uint32_t id)
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
	int c = prefix_cmp(&x->gw, &y->gw);

	return c ? c : cmp_u32(&x->nh_id, &y->nh_id);
}

/* Gives every overlay peer a nexthop id: the one of our nexthops with its
 * gateway when there is one (kept), else a free one. */
static int assign_ids(struct view *v, struct plan *plans, size_t count)
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
			if (prefix_cmp(&by_gw[mid].gw, &key.gw) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		hit = lo < v->nhs.count && !prefix_cmp(&by_gw[lo].gw, &key.gw) ? &by_gw[lo] : NULL;
		if (hit && !hit->keep) {
			hit->keep = 1;
			plans[i].nh_id = hit->nh_id;
			continue;
		}
		plans[i].nh_id = nh_id_first(v->link, &plans[i].gw);
		while (id_set_add(&used, plans[i].nh_id))
			plans[i].nh_id = nh_id_next(plans[i].nh_id);
	}
	free(by_gw);
	free(used.slots);
	return 0;
}

/* ---- sync --------------------------------------------------------------- */

static struct neigh *find_neigh(struct table *t, const struct neigh *key,
				int (*cmp)(const void *, const void *))
{
	return search(key, t->items, t->count, sizeof(*key), cmp);
}

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
static int plan_sync(struct view *v, struct plan *plans, size_t count, struct run *run)
{
	struct neigh key, *n;
	struct route rkey, *r;
	struct plan *p;
	size_t i;
	int err = 0;

	for (i = 0; i < v->routes.count && !err; i++) {
		r = (struct route *)v->routes.items + i;
		if (!plan_find_subnet(plans, count, &r->dst))
			err = run_add(run, OP_ROUTE, 1, NULL, NULL, r);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct)
			continue;
		memset(&key, 0, sizeof(key));
		key.dst = p->gw;
		n = find_neigh(&v->neighs, &key, cmp_neigh_dst);
		if (n)
			n->keep = 1;
		if (!n || !n->has_mac || memcmp(n->mac, p->mac, 6))
			err = run_add(run, OP_NEIGH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct)
			continue;
		memcpy(key.mac, p->mac, 6);
		key.dst = p->public_ip;
		n = find_neigh(&v->fdbs, &key, cmp_neigh);
		if (n)
			n->keep = 1;
		else
			err = run_add(run, OP_FDB, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		if (p->direct || !p->nh_id)
			continue;
		r = find_nh(v, p->nh_id);
		if (r && !prefix_cmp(&r->gw, &p->gw))
			r->keep = 1;
		else
			err = run_add(run, OP_NH, 0, p, NULL, NULL);
	}
	for (i = 0; i < count && !err; i++) {
		p = &plans[i];
		rkey.dst = p->subnet;
		r = search(&rkey, v->routes.items, v->routes.count, sizeof(rkey), cmp_route_dst);
		if (r && (p->direct ? !r->nh_id && r->oif == v->link->underlay_ifindex &&
					      !prefix_cmp(&r->gw, &p->public_ip)
				    : p->nh_id ? r->nh_id == p->nh_id
					       : !r->nh_id && r->oif == v->link->ifindex &&
							 !prefix_cmp(&r->gw, &p->gw)))
			continue;
		err = run_add(run, OP_ROUTE, 0, p, NULL, NULL);
	}
	for (i = 0; i < v->nhs.count && !err; i++) {
		r = (struct route *)v->nhs.items + i;
		if (!r->keep)
			err = run_add(run, OP_NH, 1, NULL, NULL, r);
	}
	for (i = 0; i < v->neighs.count && !err; i++) {
		n = (struct neigh *)v->neighs.items + i;
		if (!n->keep)
			err = run_add(run, OP_NEIGH, 1, NULL, n, NULL);
	}
	for (i = 0; i < v->fdbs.count && !err; i++) {
		n = (struct neigh *)v->fdbs.items + i;
		if (!n->keep)
			err = run_add(run, OP_FDB, 1, NULL, n, NULL);
	}
	return err;
}

int kernel_peers_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count)
{
	struct run run = { .link = link };
	struct plan *plans;
	struct view v;
	int err;

	err = plan_all(link, peers, count, &plans);
	if (err < 0)
		return err;
	err = view_load(link, &v, link->direct_only);
	if (err < 0) {
		free(plans);
		return err;
	}
	{
		err = assign_ids(&v, plans, count);
		if (err < 0)
			err = ctx_fail(link->ctx, err, "out of memory");
	}
	if (!err)
		err = plan_sync(&v, plans, count, &run);
	if (!err) {
		ctx_log(link->ctx, OVL_LOG_DEBUG, "%s: sync of %zu peers: %zu requests", link->name,
			count, run.count);
		err = run_send(&run, peers);
	}
	free(run.ops);
	view_free(&v);
	free(plans);
	return err;
}

/* ---- single peers ------------------------------------------------------ */

struct nh_probe {
	const struct ovl_link *link;
	const struct ovl_prefix *gw;
	int found;
	int ours;
};

static int probe_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct nh_probe *probe = arg;
	const struct nhmsg *nhm = NLMSG_DATA(nlh);
	struct nlattr *tb[NHA_MAX + 1];
	struct ovl_prefix gw;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*nhm), tb, NHA_MAX, NULL) < 0)
		return 0;
	probe->found = 1;
	addr_from_attr(tb[NHA_GATEWAY], nhm->nh_family, &gw);
	probe->ours = nhm->nh_protocol == OVL_RTPROT && tb[NHA_OIF] &&
		      (int)nla_get_u32(tb[NHA_OIF]) == probe->link->ifindex &&
		      !prefix_cmp(&gw, probe->gw);
	return 0;
}

/* The id of gw's nexthop, asking the kernel along the same chain of ids
 * assign_ids() walks: 1 and *id when it is ours already, 0 and a free *id
 * (when want_free), or -errno (-EOPNOTSUPP without nexthop objects). */
static int probe_id(struct ovl_link *link, const struct ovl_prefix *gw, int want_free,
		    uint32_t *id)
{
	struct nhmsg nhm = { .nh_family = AF_UNSPEC };
	struct nh_probe probe = { .link = link, .gw = gw };
	struct nl_msg *msg;
	int i, err;

	*id = nh_id_first(link, gw);
	for (i = 0; i < NH_PROBES; i++, *id = nh_id_next(*id)) {
		msg = netlink_msg(RTM_GETNEXTHOP, 0, &nhm, sizeof(nhm));
		if (!msg || nla_put_u32(msg, NHA_ID, *id) < 0) {
			nlmsg_free(msg);
			return ctx_fail(link->ctx, -ENOMEM, "out of memory");
		}
		probe.found = probe.ours = 0;
		err = netlink_query(link->ctx, msg, probe_reply, NULL, &probe);
		if (err == -ENOENT || (!err && !probe.found))
			return want_free ? 0 : -ENOENT;
		if (err < 0)
			return err;
		if (probe.ours)
			return 1;
	}
	return ctx_fail(link->ctx, -ENOSPC, "no free nexthop id after %d tries", NH_PROBES);
}

int kernel_peer_add(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct run run = { .link = link };
	struct device_addr *onlink = NULL;
	size_t onlink_count = 0;
	struct plan p;
	int err = 0;

	if (link->direct_routing)
		err = device_addresses(link->ctx, link->family, 0, &onlink, &onlink_count);
	if (!err)
		err = plan_peer(link, peer, 0, onlink, onlink_count, &p);
	free(onlink);
	if (!err && !p.direct) {
		err = probe_id(link, &p.gw, 1, &p.nh_id);
		if (err == -EOPNOTSUPP || err == -EINVAL || err == -EAFNOSUPPORT)
			err = p.nh_id = 0;
		else if (err > 0)
			err = 0;
	}
	if (err < 0)
		return err;
	if (!p.direct)
		err = run_add(&run, OP_NEIGH, 0, &p, NULL, NULL);
	if (!err && !p.direct)
		err = run_add(&run, OP_FDB, 0, &p, NULL, NULL);
	if (!err && p.nh_id)
		err = run_add(&run, OP_NH, 0, &p, NULL, NULL);
	if (!err)
		err = run_add(&run, OP_ROUTE, 0, &p, NULL, NULL);
	if (!err)
		err = run_send(&run, peer);
	free(run.ops);
	return err;
}

struct neigh_probe {
	unsigned char mac[6];
	int found;
};

static int neigh_probe_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct neigh_probe *probe = arg;
	struct nlattr *tb[NDA_MAX + 1];

	if (nlh->nlmsg_type == RTM_NEWNEIGH &&
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(struct ndmsg), tb, NDA_MAX, NULL) >= 0 &&
	    tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6) {
		memcpy(probe->mac, nla_data(tb[NDA_LLADDR]), 6);
		probe->found = 1;
	}
	return 0;
}

/* The MAC our neighbour entry for gw holds, to find the fdb entry. */
static int neigh_mac(struct ovl_link *link, const struct ovl_prefix *gw, struct plan *p)
{
	struct ndmsg ndm = { .ndm_family = (unsigned char)link->family,
			     .ndm_ifindex = link->ifindex };
	struct neigh_probe probe = { .found = 0 };
	struct nl_msg *msg = netlink_msg(RTM_GETNEIGH, 0, &ndm, sizeof(ndm));
	int err;

	if (!msg || nla_put(msg, NDA_DST, (int)addr_len(gw->family), gw->addr) < 0) {
		nlmsg_free(msg);
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	}
	err = netlink_query(link->ctx, msg, neigh_probe_reply, NULL, &probe);
	if (err == -ENOENT || err == -ENODEV)
		return 0;
	if (!err && probe.found)
		memcpy(p->mac, probe.mac, 6);
	return err < 0 ? err : probe.found;
}

int kernel_peer_del(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct run run = { .link = link };
	struct plan p;
	int err, have_mac;

	memset(&p, 0, sizeof(p));
	if (!peer->subnet || ovl_prefix_parse(peer->subnet, &p.subnet) < 0 ||
	    p.subnet.family != link->family || !ovl_prefix_is_aligned(&p.subnet))
		return ctx_fail(link->ctx, -EINVAL, "peer: subnet '%s' is not an aligned %s prefix",
				peer->subnet ? peer->subnet : "(none)", family_name(link->family));
	if (peer->public_ip && ovl_addr_parse(peer->public_ip, &p.public_ip) < 0)
		return ctx_fail(link->ctx, -EINVAL, "peer %s: public IP '%s' is not an address",
				peer->subnet, peer->public_ip);
	have_mac = peer->mac != NULL;
	if (have_mac && mac_parse(peer->mac, p.mac) < 0)
		return ctx_fail(link->ctx, -EINVAL, "peer %s: MAC '%s' is not a MAC address",
				peer->subnet, peer->mac);
	p.gw = p.subnet;
	p.gw.len = link->family == AF_INET6 ? 128 : 32;
	/* Without a device (host-gw) the route is all there is. */
	p.direct = link->direct_only;
	err = p.direct ? -ENOENT : probe_id(link, &p.gw, 0, &p.nh_id);
	if (err < 0 && err != -ENOENT && err != -EOPNOTSUPP && err != -EINVAL &&
	    err != -EAFNOSUPPORT)
		return err;
	if (err <= 0)
		p.nh_id = 0;
	if (!have_mac && !p.direct) {
		err = neigh_mac(link, &p.gw, &p);
		if (err < 0)
			return err;
		have_mac = err;
	}
	err = run_add(&run, OP_ROUTE, 1, &p, NULL, NULL);
	if (!err && p.nh_id)
		err = run_add(&run, OP_NH, 1, &p, NULL, NULL);
	if (!err && !p.direct)
		err = run_add(&run, OP_NEIGH, 1, &p, NULL, NULL);
	/* Without the public IP, every destination of the MAC goes. */
	if (!err && have_mac && !p.direct)
		err = run_add(&run, OP_FDB, 1, &p, NULL, NULL);
	if (!err)
		err = run_send(&run, peer);
	free(run.ops);
	return err;
}

/* ---- listing ----------------------------------------------------------- */

static char *dup_text(const struct ovl_prefix *p, int as_prefix)
{
	char text[OVL_PREFIX_STRLEN];

	if ((as_prefix ? ovl_prefix_format(p, text, sizeof(text))
		       : ovl_addr_format(p, text, sizeof(text))) < 0)
		return NULL;
	return strdup(text);
}

static char *dup_mac(const unsigned char mac[6])
{
	char text[18];

	mac_format(mac, text);
	return strdup(text);
}

/* One listed peer from a route; 0, or -ENOMEM. */
static int list_one(const struct view *v, const struct route *r, struct ovl_peer *out)
{
	const struct ovl_link *link = v->link;
	struct neigh key, *n, *f;
	const struct route *nh;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&key, 0, sizeof(key));
	out->subnet = dup_text(&r->dst, 1);
	if (!out->subnet)
		return -ENOMEM;
	if (!r->nh_id && r->oif != link->ifindex) {
		out->public_ip = dup_text(&r->gw, 0);
		return out->public_ip ? 0 : -ENOMEM;
	}
	nh = r->nh_id ? find_nh(v, r->nh_id) : r;
	key.dst = nh->gw;
	n = find_neigh((struct table *)&v->neighs, &key, cmp_neigh_dst);
	if (!n || !n->has_mac)
		return 0;
	out->mac = dup_mac(n->mac);
	if (!out->mac)
		return -ENOMEM;
	for (i = 0; i < v->fdbs.count; i++) {
		f = (struct neigh *)v->fdbs.items + i;
		if (!memcmp(f->mac, n->mac, 6) && f->dst.family) {
			out->public_ip = dup_text(&f->dst, 0);
			return out->public_ip ? 0 : -ENOMEM;
		}
	}
	return 0;
}

int kernel_peers_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count)
{
	struct ovl_peer *list;
	struct view v;
	size_t i;
	int err;

	err = view_load(link, &v, link->direct_only);
	if (err < 0)
		return err;
	list = calloc(v.routes.count ? v.routes.count : 1, sizeof(*list));
	for (i = 0; list && i < v.routes.count; i++) {
		if (list_one(&v, (struct route *)v.routes.items + i, &list[i]) < 0) {
			ovl_peers_free(list, i + 1);
			list = NULL;
		}
	}
	if (list) {
		*peers = list;
		*count = v.routes.count;
	}
	view_free(&v);
	return list ? 0 : ctx_fail(link->ctx, -ENOMEM, "out of memory");
}

int kernel_peers_flush_underlay(struct ovl_link *link)
{
	struct run run = { .link = link };
	struct view v;
	size_t i;
	int err;

	if (!link->underlay_ifindex)
		return 0;
	err = view_load(link, &v, 1);
	if (err < 0)
		return err;
	for (i = 0; i < v.routes.count && !err; i++) {
		const struct route *r = (struct route *)v.routes.items + i;

		if (!r->nh_id && r->oif == link->underlay_ifindex)
			err = run_add(&run, OP_ROUTE, 1, NULL, NULL, r);
	}
	if (!err)
		err = run_send(&run, NULL);
	free(run.ops);
	view_free(&v);
	return err;
}
