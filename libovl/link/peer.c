/*
 * peer.c - the kernel state per remote peer on a link: neighbour
 * (subnet base -> VTEP MAC), fdb entry (MAC -> underlay address), nexthop
 * (via subnet base, onlink) and route (subnet via that nexthop); or, for a
 * DirectRouting peer on the underlay's link, one route via its address.
 * Added, removed, listed, and synced against a desired set: the peer calls
 * of vxlan.c's and hostgw.c's link_ops.  The kernel's state is
 * peer-view.c's, the checks peer-plan.c's, the diff peer-diff.c's, the
 * requests peer-send.c's.
 *
 * Routes use nexthop objects: flannel-style routes (a distinct gateway
 * each) share one bucket of the kernel's fib_info hash, which makes
 * installing N of them quadratic; a nexthop per peer keeps it linear and
 * the packets take the same path.
 *
 * A host-gw link (direct_only, no device) is a link where every peer is
 * such a direct route and an off-link peer is an error.
 *
 * Ownership: routes and nexthops with protocol OVL_RTPROT, neighbours that
 * are permanent with NDA_PROTOCOL OVL_RTPROT on our device, and permanent
 * "self" fdb entries on our device.  Nothing else is ever changed by sync.
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
#include "netlink/nl.h"

/* Nexthop ids probed one by one before a single add gives up. */
#define NH_PROBES 64

int kernel_peers_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count)
{
	struct run run = { .link = link };
	struct plan_set *set;
	struct diff d;
	int err;

	memset(&d, 0, sizeof(d));
	err = peer_plans_get(link, peers, count, &set);
	if (err < 0)
		return err;
	err = peer_diff(link, set, &run, &d);
	if (!err) {
		ctx_log(link->ctx, OVL_LOG_DEBUG, "%s: sync of %zu peers: %zu requests (%s)",
			link->name, count, run.count,
			d.routes_only ? "routes checked alone" : "nexthops read");
		err = peer_run_send(&run, peers);
		/* Every nexthop of a plan is now in the kernel under its id. */
		set->ids_known = !err && d.nexthops;
	}
	free(run.ops);
	peer_diff_free(&d);
	peer_plans_put(link);
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
	    netlink_attrs(nlh, sizeof(*nhm), tb, NHA_MAX) < 0)
		return 0;
	probe->found = 1;
	netlink_get_addr(tb[NHA_GATEWAY], nhm->nh_family, &gw);
	probe->ours = nhm->nh_protocol == OVL_RTPROT && tb[NHA_OIF] &&
		      (int)nla_get_u32(tb[NHA_OIF]) == probe->link->ifindex &&
		      !peer_prefix_cmp(&gw, probe->gw);
	return 0;
}

/* The id of gw's nexthop, asking the kernel along the same chain of ids
 * peer_assign_ids() walks: 1 and *id when it is ours already, 0 and a free *id
 * (when want_free), or -errno (-EOPNOTSUPP without nexthop objects). */
static int probe_id(struct ovl_link *link, const struct ovl_prefix *gw, int want_free,
		    uint32_t *id)
{
	struct nhmsg nhm = { .nh_family = AF_UNSPEC };
	struct nh_probe probe = { .link = link, .gw = gw };
	struct nl_msg *msg;
	int i, err;

	*id = peer_nh_id_first(link, gw);
	for (i = 0; i < NH_PROBES; i++, *id = peer_nh_id_next(*id)) {
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
		err = peer_plan_one(link, peer, 0, onlink, onlink_count, &p);
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
		err = peer_run_add(&run, OP_NEIGH, 0, &p, NULL, NULL);
	if (!err && !p.direct)
		err = peer_run_add(&run, OP_FDB, 0, &p, NULL, NULL);
	if (!err && p.nh_id)
		err = peer_run_add(&run, OP_NH, 0, &p, NULL, NULL);
	if (!err)
		err = peer_run_add(&run, OP_ROUTE, 0, &p, NULL, NULL);
	if (!err)
		err = peer_run_send(&run, peer);
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
	    netlink_attrs(nlh, sizeof(struct ndmsg), tb, NDA_MAX) >= 0 &&
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
	err = peer_run_add(&run, OP_ROUTE, 1, &p, NULL, NULL);
	if (!err && p.nh_id)
		err = peer_run_add(&run, OP_NH, 1, &p, NULL, NULL);
	if (!err && !p.direct)
		err = peer_run_add(&run, OP_NEIGH, 1, &p, NULL, NULL);
	/* Without the public IP, every destination of the MAC goes. */
	if (!err && have_mac && !p.direct)
		err = peer_run_add(&run, OP_FDB, 1, &p, NULL, NULL);
	if (!err)
		err = peer_run_send(&run, peer);
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

static int fdb_has_mac(const void *item, const void *key)
{
	return !memcmp(((const struct neigh *)item)->mac, key, 6);
}

/* The public IP of mac's fdb entries: the lowest address among them. */
static const struct neigh *fdb_of_mac(const struct view *v, const struct hash_index *macs,
				      const unsigned char mac[6])
{
	const struct neigh *f, *lowest = NULL;
	size_t cursor = HASH_START;
	uint32_t hash = peer_hash_mac(mac);

	while ((f = hash_index_next(macs, &v->fdbs, hash, &cursor)))
		if (fdb_has_mac(f, mac) && (!lowest || peer_prefix_cmp(&f->dst, &lowest->dst) < 0))
			lowest = f;
	return lowest;
}

/* One listed peer from a route; 0, or -ENOMEM. */
static int list_one(const struct view *v, const struct hash_index *macs, const struct route *r,
		    struct ovl_peer *out)
{
	const struct ovl_link *link = v->link;
	const struct neigh *n, *f;
	const struct route *nh;

	memset(out, 0, sizeof(*out));
	out->subnet = dup_text(&r->dst, 1);
	if (!out->subnet)
		return -ENOMEM;
	if (!r->nh_id && r->oif != link->ifindex) {
		out->public_ip = dup_text(&r->gw, 0);
		return out->public_ip ? 0 : -ENOMEM;
	}
	nh = r->nh_id ? peer_nexthop_find(&v->nhs, r->nh_id) : r;
	n = peer_view_neigh(v, &nh->gw);
	if (!n || !n->has_mac)
		return 0;
	out->mac = dup_mac(n->mac);
	if (!out->mac)
		return -ENOMEM;
	f = fdb_of_mac(v, macs, n->mac);
	if (f) {
		out->public_ip = dup_text(&f->dst, 0);
		return out->public_ip ? 0 : -ENOMEM;
	}
	return 0;
}

int kernel_peers_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count)
{
	struct hash_index macs = { 0 };
	struct ovl_peer *list = NULL;
	const struct neigh *f;
	struct view view, *v = &view;
	size_t i;
	int err;

	err = peer_view_load(link, v, link->direct_only);
	if (err < 0)
		return err;
	if (hash_index_reset(&macs, v->fdbs.count) == 0) {
		for (i = 0; i < v->fdbs.count; i++) {
			f = (const struct neigh *)v->fdbs.items + i;
			if (f->dst.family)
				hash_index_put(&macs, peer_hash_mac(f->mac), i);
		}
		list = calloc(v->routes.count ? v->routes.count : 1, sizeof(*list));
	}
	for (i = 0; list && i < v->routes.count; i++) {
		if (list_one(v, &macs, (struct route *)v->routes.items + i, &list[i]) < 0) {
			ovl_peers_free(list, i + 1);
			list = NULL;
		}
	}
	hash_index_free(&macs);
	if (list) {
		*peers = list;
		*count = v->routes.count;
	}
	peer_view_free(v);
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
	err = peer_view_load(link, &v, 1);
	if (err < 0)
		return err;
	for (i = 0; i < v.routes.count && !err; i++) {
		const struct route *r = (struct route *)v.routes.items + i;

		if (!r->nh_id && r->oif == link->underlay_ifindex)
			err = peer_run_add(&run, OP_ROUTE, 1, NULL, NULL, r);
	}
	if (!err)
		err = peer_run_send(&run, NULL);
	free(run.ops);
	peer_view_free(&v);
	return err;
}
