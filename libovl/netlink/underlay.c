/*
 * underlay.c - the one underlay finder: which device the overlay rides on
 * (the one named, else the one holding the given address, else, for the
 * agent, the device of the default route), its MTU (never the default
 * route's own MTU) and its addresses.  Lookups go through device.c on the
 * ctx's netlink socket, so failures carry the kernel's errno and message.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "netlink/device.h"
#include "netlink/nl.h"
#include "netlink/underlay.h"

static const char *addr_text(const struct ovl_prefix *a, char *buf, size_t size)
{
	if (ovl_addr_format(a, buf, size) < 0)
		snprintf(buf, size, "?");
	return buf;
}

static void take_device(const struct device_state *s, struct underlay *out)
{
	snprintf(out->iface, sizeof(out->iface), "%s", s->name);
	out->ifindex = s->ifindex;
	out->mtu = s->mtu;
}

int underlay_find(struct ovl_ctx *ctx, const char *dev, const struct ovl_prefix *local,
		  int must_hold, struct underlay *out)
{
	struct device_state s;
	char text[OVL_PREFIX_STRLEN];
	int err, ifindex = 0;

	memset(out, 0, sizeof(*out));
	if (!dev) {
		err = device_holding(ctx, local, 0, &ifindex);
		if (err < 0)
			return err;
		if (!err)
			return ctx_fail(ctx, -EADDRNOTAVAIL,
					"local: no device holds %s (give the underlay device)",
					addr_text(local, text, sizeof(text)));
	}
	err = device_get(ctx, ifindex, dev, &s);
	if (err == -ENODEV)
		return ctx_fail(ctx, err, "dev: no device '%s'", dev ? dev : "?");
	if (err < 0)
		return err;
	if (dev && must_hold) {
		err = device_holding(ctx, local, s.ifindex, &ifindex);
		if (err < 0)
			return err;
		if (!err)
			return ctx_fail(ctx, -EADDRNOTAVAIL, "local: %s is not an address of %s",
					addr_text(local, text, sizeof(text)), s.name);
	}
	take_device(&s, out);
	return 0;
}

/* ---- the agent's choice ------------------------------------------------ */

static const struct nla_policy route_policy[RTA_MAX + 1] = {
	[RTA_TABLE] = { .type = NLA_U32 },
	[RTA_PRIORITY] = { .type = NLA_U32 },
	[RTA_OIF] = { .type = NLA_U32 },
};

struct default_route {
	int ifindex;			/* 0: none yet */
	uint32_t metric;
};

/* Keeps the main table's default unicast route with the lowest metric. */
static int route_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct default_route *best = arg;
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtnexthop *hop;
	uint32_t table, metric;
	int ifindex = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*rtm), tb, RTA_MAX,
			(struct nla_policy *)route_policy) < 0)
		return 0;
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len ||
	    (best->ifindex && metric >= best->metric))
		return 0;
	if (tb[RTA_OIF]) {
		ifindex = (int)nla_get_u32(tb[RTA_OIF]);
	} else if (tb[RTA_MULTIPATH] &&
		   (size_t)nla_len(tb[RTA_MULTIPATH]) >= sizeof(struct rtnexthop)) {
		/* The first path's device, as for a single-path route. */
		hop = nla_data(tb[RTA_MULTIPATH]);
		ifindex = hop->rtnh_ifindex;
	}
	if (ifindex > 0) {
		best->ifindex = ifindex;
		best->metric = metric;
	}
	return 0;
}

static void route_restart(void *arg)
{
	memset(arg, 0, sizeof(struct default_route));
}

/* The device of the default route with the lowest metric; 0 when none. */
static int default_route_ifindex(struct ovl_ctx *ctx, int family)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)family };
	struct nl_msg *msg = netlink_msg(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	struct default_route best = { 0 };
	int err;

	if (!msg)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	err = netlink_query(ctx, msg, route_reply, route_restart, &best);
	return err < 0 ? ctx_fail_prefix(ctx, err, "reading the default route: ") : best.ifindex;
}

/* The device holding text (an address of either family); 0 when none. */
static int holder_of(struct ovl_ctx *ctx, const char *text)
{
	struct ovl_prefix addr;
	int ifindex, err;

	if (ovl_addr_parse(text, &addr) < 0)
		return 0;
	err = device_holding(ctx, &addr, 0, &ifindex);
	return err < 0 ? err : ifindex;
}

static int resolve_ifindex(struct ovl_ctx *ctx, const char *iface, const char *ip,
			   const char *ipv6, int want_v4)
{
	struct device_state s;
	int ifindex;

	if (iface) {
		ifindex = device_get(ctx, 0, iface, &s);
		if (ifindex == -ENODEV)
			return ctx_fail(ctx, -ENODEV, "underlay interface %s does not exist", iface);
		return ifindex < 0 ? ifindex : s.ifindex;
	}
	if (ip || ipv6) {
		ifindex = holder_of(ctx, ip ? ip : ipv6);
		return ifindex ? ifindex :
			ctx_fail(ctx, -EADDRNOTAVAIL,
				 "public IP %s is on no interface: name the underlay interface",
				 ip ? ip : ipv6);
	}
	ifindex = default_route_ifindex(ctx, want_v4 ? AF_INET : AF_INET6);
	return ifindex ? ifindex :
		ctx_fail(ctx, -ENETUNREACH,
			 "no default %s route to pick the underlay from: name the interface or the public IP",
			 want_v4 ? "IPv4" : "IPv6");
}

/* The first global, non-secondary, non-tentative address of a family on
 * ifindex into out ("" when none). */
static int first_address(struct ovl_ctx *ctx, int ifindex, int family, char *out, size_t size)
{
	struct device_addr *addrs;
	size_t i, count;
	int err;

	out[0] = '\0';
	err = device_addresses(ctx, family, ifindex, &addrs, &count);
	if (err < 0)
		return err;
	for (i = 0; i < count; i++) {
		if (addrs[i].scope != RT_SCOPE_UNIVERSE ||
		    (addrs[i].flags & (IFA_F_SECONDARY | IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		if (ovl_addr_format(&addrs[i].prefix, out, size) >= 0)
			break;
		out[0] = '\0';
	}
	free(addrs);
	return 0;
}

int underlay_pick(struct ovl_ctx *ctx, const char *iface, const char *ip,
		  const char *ipv6, int want_v4, int want_v6,
		  struct underlay *underlay)
{
	struct device_state s;
	int ifindex, err;

	memset(underlay, 0, sizeof(*underlay));
	ifindex = resolve_ifindex(ctx, iface, ip, ipv6, want_v4);
	if (ifindex < 0)
		return ifindex;
	err = device_get(ctx, ifindex, NULL, &s);
	if (err == -ENODEV)
		return ctx_fail(ctx, err, "underlay interface %d vanished", ifindex);
	if (err < 0)
		return err;
	take_device(&s, underlay);
	if (underlay->mtu == 0)
		return ctx_fail(ctx, -EINVAL, "underlay interface %s has MTU 0", underlay->iface);
	if (want_v4)
		err = first_address(ctx, underlay->ifindex, AF_INET, underlay->local,
				    sizeof(underlay->local));
	if (!err && want_v6)
		err = first_address(ctx, underlay->ifindex, AF_INET6, underlay->local6,
				    sizeof(underlay->local6));
	if (err < 0)
		return err;
	if (want_v4 && !underlay->local[0])
		return ctx_fail(ctx, -EADDRNOTAVAIL,
				"underlay interface %s has no global IPv4 address", underlay->iface);
	if (want_v6 && !underlay->local6[0])
		return ctx_fail(ctx, -EADDRNOTAVAIL,
				"underlay interface %s has no global IPv6 address", underlay->iface);
	return 0;
}
