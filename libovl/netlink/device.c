/*
 * device.c - device and address lookups: one device's state (name, MTU,
 * MAC, alias, and its VXLAN settings when it is one), the addresses of a
 * family, and which device holds an address.  Requests go over the ctx's
 * one netlink socket; replies are read with nlmsg_parse and policies.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/internal.h"
#include "netlink/device.h"
#include "netlink/nl.h"

static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_IFALIAS] = { .type = NLA_STRING },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

static const struct nla_policy info_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_DATA] = { .type = NLA_NESTED },
};

static const struct nla_policy vxlan_policy[IFLA_VXLAN_MAX + 1] = {
	[IFLA_VXLAN_ID] = { .type = NLA_U32 },
	[IFLA_VXLAN_LINK] = { .type = NLA_U32 },
	[IFLA_VXLAN_PORT] = { .type = NLA_U16 },
	[IFLA_VXLAN_LEARNING] = { .type = NLA_U8 },
	[IFLA_VXLAN_GBP] = { .type = NLA_FLAG },
};

static const struct nla_policy addr_policy[IFA_MAX + 1] = {
	[IFA_FLAGS] = { .type = NLA_U32 },
};

static void take_vxlan(struct nlattr *data, struct device_state *s)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];

	s->is_vxlan = 1;
	if (!data || nla_parse_nested(tb, IFLA_VXLAN_MAX, data, (struct nla_policy *)vxlan_policy) < 0)
		return;
	if (tb[IFLA_VXLAN_ID])
		s->vni = nla_get_u32(tb[IFLA_VXLAN_ID]);
	if (tb[IFLA_VXLAN_LINK])
		s->underlay_ifindex = nla_get_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_PORT])
		s->port = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
	if (tb[IFLA_VXLAN_LOCAL])
		netlink_get_addr(tb[IFLA_VXLAN_LOCAL], AF_INET, &s->local);
	else if (tb[IFLA_VXLAN_LOCAL6])
		netlink_get_addr(tb[IFLA_VXLAN_LOCAL6], AF_INET6, &s->local);
	if (tb[IFLA_VXLAN_LEARNING])
		s->learning = nla_get_u8(tb[IFLA_VXLAN_LEARNING]) > 0;
	s->gbp = tb[IFLA_VXLAN_GBP] != NULL;
}

struct device_reply {
	struct device_state *state;
	int found;
};

static int link_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct device_reply *reply = arg;
	struct device_state *s = reply->state;
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*ifi), tb, IFLA_MAX,
			(struct nla_policy *)link_policy) < 0)
		return 0;
	memset(s, 0, sizeof(*s));
	reply->found = 1;
	s->ifindex = ifi->ifi_index;
	s->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(s->name, sizeof(s->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		s->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(s->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_IFALIAS])
		snprintf(s->alias, sizeof(s->alias), "%s", nla_get_string(tb[IFLA_IFALIAS]));
	if (!tb[IFLA_LINKINFO] ||
	    nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO],
			     (struct nla_policy *)info_policy) < 0 || !info[IFLA_INFO_KIND])
		return 0;
	snprintf(s->type, sizeof(s->type), "%s", nla_get_string(info[IFLA_INFO_KIND]));
	if (!strcmp(s->type, "vxlan"))
		take_vxlan(info[IFLA_INFO_DATA], s);
	return 0;
}

int device_get(struct ovl_ctx *ctx, int ifindex, const char *name, struct device_state *s)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = netlink_msg(RTM_GETLINK, 0, &ifi, sizeof(ifi));
	struct device_reply reply = { .state = s };
	int err;

	memset(s, 0, sizeof(*s));
	if (!msg || (!ifindex && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	err = netlink_query(ctx, msg, link_reply, NULL, &reply);
	if (!err && !reply.found)
		err = -ENODEV;
	return err;
}

struct addr_list {
	int family;
	int ifindex;
	struct device_addr *items;
	size_t count;
	size_t capacity;
};

static int addr_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_list *list = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	struct nlattr *tb[IFA_MAX + 1];
	struct device_addr *grown, *a;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*ifa), tb, IFA_MAX,
			(struct nla_policy *)addr_policy) < 0 ||
	    ifa->ifa_family != list->family ||
	    (list->ifindex && (int)ifa->ifa_index != list->ifindex))
		return 0;
	/* IPv6 addresses come with IFA_ADDRESS only; on a point-to-point
	 * device IFA_ADDRESS is the peer and IFA_LOCAL ours. */
	if (!tb[IFA_LOCAL] && !tb[IFA_ADDRESS])
		return 0;
	if (list->count == list->capacity) {
		grown = realloc(list->items, (list->capacity * 2 + 8) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		list->items = grown;
		list->capacity = list->capacity * 2 + 8;
	}
	a = &list->items[list->count];
	netlink_get_addr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], list->family, &a->prefix);
	if (!a->prefix.family)
		return 0;
	a->prefix.len = ifa->ifa_prefixlen;
	a->ifindex = (int)ifa->ifa_index;
	a->scope = ifa->ifa_scope;
	a->flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	list->count++;
	return 0;
}

static void addr_restart(void *arg)
{
	((struct addr_list *)arg)->count = 0;
}

int device_addresses(struct ovl_ctx *ctx, int family, int ifindex, struct device_addr **addrs,
		     size_t *count)
{
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)family, .ifa_index = (unsigned)ifindex };
	struct addr_list list = { .family = family, .ifindex = ifindex };
	struct nl_msg *msg = netlink_msg(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	int err;

	if (!msg)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	err = netlink_query(ctx, msg, addr_reply, addr_restart, &list);
	if (err == -ENOMEM)
		err = ctx_fail(ctx, err, "out of memory");
	if (err < 0) {
		free(list.items);
		return err;
	}
	*addrs = list.items;
	*count = list.count;
	return 0;
}

int device_holding(struct ovl_ctx *ctx, const struct ovl_prefix *local, int ifindex,
		   int *holder)
{
	struct device_addr *addrs;
	size_t i, count;
	int err;

	*holder = 0;
	err = device_addresses(ctx, local->family, ifindex, &addrs, &count);
	if (err < 0)
		return err;
	for (i = 0; i < count && !*holder; i++) {
		struct ovl_prefix a = addrs[i].prefix;

		a.len = local->len;
		if (ovl_prefix_equal(&a, local))
			*holder = addrs[i].ifindex;
	}
	free(addrs);
	return *holder != 0;
}
