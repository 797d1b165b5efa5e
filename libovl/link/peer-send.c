/*
 * peer-send.c - the requests for a peer's entries (neighbour, fdb entry,
 * nexthop, route), built by hand (libnl 3.7's objects cannot send
 * nexthops, RTA_NH_ID or NDA_PROTOCOL) and sent as one batch; a peer with a
 * failed request is removed again.
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

int peer_run_add(struct run *run, int entry, int del, struct plan *p, const struct neigh *n,
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
	int err = peer_run_add(run, OP_ROUTE, 1, p, NULL, NULL);

	if (!err && !p->direct && p->nh_id)
		err = peer_run_add(run, OP_NH, 1, p, NULL, NULL);
	if (!err && !p->direct)
		err = peer_run_add(run, OP_NEIGH, 1, p, NULL, NULL);
	if (!err && !p->direct)
		err = peer_run_add(run, OP_FDB, 1, p, NULL, NULL);
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
	snprintf(buf, OVL_PREFIX_STRLEN, "#%u", p->index);
	return buf;
}

/* Sends run's requests.  A peer with a failed request is removed again (no
 * half-made peers); the first failure is returned, naming its peer or
 * entry. */
int peer_run_send(struct run *run, const struct ovl_peer *peers)
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
					      peer_prefix_text(op->entry == OP_ROUTE ? &op->route->dst
										: &op->neigh->dst, name));
	} else if (err < 0) {
		ctx_fail_prefix(ctx, err, "%s: ", run->link->name);
	}
	free(undo.ops);
	free(errors);
	return err;
}

