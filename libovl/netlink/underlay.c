/*
 * underlay.c - which interface and address the overlay rides on: the one the
 * caller names, else the one holding the given address, else the interface
 * of the default route; its MTU (never the default route's own MTU) and its
 * addresses.  Also connects netlink sockets inside the ctx's namespace.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <linux/rtnetlink.h>

#include "netlink/nl.h"
#include "netlink/underlay.h"

static int connect_route(void *sock)
{
	return nl_connect(sock, NETLINK_ROUTE) < 0 ? -EIO : 0;
}

int netns_connect(struct ovl_ctx *ctx, struct nl_sock *sock)
{
	int err = netlink_in_netns(ctx, connect_route, sock);

	return err == -EIO ? ctx_fail(ctx, err, "cannot open a netlink socket") : err;
}

/* The interface of the default route with the lowest metric, 0 when none. */
static int default_route_ifindex(struct nl_sock *sock, int family)
{
	struct nl_cache *routes;
	struct nl_object *object;
	uint32_t best_metric = UINT32_MAX;
	int ifindex = 0;

	if (rtnl_route_alloc_cache(sock, family, 0, &routes) < 0)
		return 0;
	for (object = nl_cache_get_first(routes); object;
	     object = nl_cache_get_next(object)) {
		struct rtnl_route *route = (struct rtnl_route *)object;
		struct nl_addr *dst = rtnl_route_get_dst(route);
		struct rtnl_nexthop *hop;

		if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
		    rtnl_route_get_type(route) != RTN_UNICAST ||
		    (dst && nl_addr_get_prefixlen(dst) != 0) ||
		    rtnl_route_get_nnexthops(route) < 1 ||
		    rtnl_route_get_priority(route) >= best_metric)
			continue;
		hop = rtnl_route_nexthop_n(route, 0);
		if (rtnl_route_nh_get_ifindex(hop) > 0) {
			ifindex = rtnl_route_nh_get_ifindex(hop);
			best_metric = rtnl_route_get_priority(route);
		}
	}
	nl_cache_free(routes);
	return ifindex;
}

/* The ifindex holding address text, 0 when none. */
static int ifindex_of_address(struct nl_cache *addrs, const char *text)
{
	struct nl_object *object;
	char buf[64];

	for (object = nl_cache_get_first(addrs); object;
	     object = nl_cache_get_next(object)) {
		struct rtnl_addr *addr = (struct rtnl_addr *)object;
		struct nl_addr *local = rtnl_addr_get_local(addr);

		if (local && inet_ntop(nl_addr_get_family(local),
				       nl_addr_get_binary_addr(local), buf,
				       sizeof(buf)) && !strcmp(buf, text))
			return rtnl_addr_get_ifindex(addr);
	}
	return 0;
}

/* The first global, non-secondary, non-tentative address of a family. */
static void first_address(struct nl_cache *addrs, int ifindex, int family,
			  char *out, size_t size)
{
	struct nl_object *object;

	out[0] = '\0';
	for (object = nl_cache_get_first(addrs); object;
	     object = nl_cache_get_next(object)) {
		struct rtnl_addr *addr = (struct rtnl_addr *)object;
		struct nl_addr *local = rtnl_addr_get_local(addr);

		if (rtnl_addr_get_ifindex(addr) != ifindex || !local ||
		    nl_addr_get_family(local) != family ||
		    rtnl_addr_get_scope(addr) != RT_SCOPE_UNIVERSE ||
		    (rtnl_addr_get_flags(addr) &
		     (IFA_F_SECONDARY | IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		if (inet_ntop(family, nl_addr_get_binary_addr(local), out, size))
			return;
		out[0] = '\0';
	}
}

static int resolve_ifindex(struct ovl_ctx *ctx, struct nl_sock *sock,
			   struct nl_cache *links, struct nl_cache *addrs,
			   const char *iface, const char *ip, const char *ipv6,
			   int want_v4)
{
	int ifindex;

	if (iface) {
		ifindex = rtnl_link_name2i(links, iface);
		return ifindex > 0 ? ifindex :
			ctx_fail(ctx, -ENODEV, "underlay interface %s does not exist", iface);
	}
	if (ip || ipv6) {
		ifindex = ifindex_of_address(addrs, ip ? ip : ipv6);
		return ifindex > 0 ? ifindex :
			ctx_fail(ctx, -EADDRNOTAVAIL,
				 "public IP %s is on no interface: name the underlay interface",
				 ip ? ip : ipv6);
	}
	ifindex = default_route_ifindex(sock, want_v4 ? AF_INET : AF_INET6);
	return ifindex > 0 ? ifindex :
		ctx_fail(ctx, -ENETUNREACH,
			 "no default %s route to pick the underlay from: name the interface or the public IP",
			 want_v4 ? "IPv4" : "IPv6");
}

int underlay_pick(struct ovl_ctx *ctx, const char *iface, const char *ip,
		  const char *ipv6, int want_v4, int want_v6,
		  struct underlay *underlay)
{
	struct nl_sock *sock;
	struct nl_cache *links = NULL, *addrs = NULL;
	struct rtnl_link *link;
	int err;

	memset(underlay, 0, sizeof(*underlay));
	sock = nl_socket_alloc();
	if (!sock)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	err = netns_connect(ctx, sock);
	if (err < 0)
		goto out;
	if (rtnl_link_alloc_cache(sock, AF_UNSPEC, &links) < 0 ||
	    rtnl_addr_alloc_cache(sock, &addrs) < 0) {
		err = ctx_fail(ctx, -EIO, "cannot list interfaces and addresses");
		goto out;
	}
	err = resolve_ifindex(ctx, sock, links, addrs, iface, ip, ipv6, want_v4);
	if (err < 0)
		goto out;
	underlay->ifindex = err;
	err = 0;
	link = rtnl_link_get(links, underlay->ifindex);
	if (!link) {
		err = ctx_fail(ctx, -ENODEV, "underlay interface %d vanished",
			       underlay->ifindex);
		goto out;
	}
	snprintf(underlay->iface, sizeof(underlay->iface), "%s",
		 rtnl_link_get_name(link));
	underlay->mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	if (underlay->mtu == 0) {
		err = ctx_fail(ctx, -EINVAL, "underlay interface %s has MTU 0",
			       underlay->iface);
		goto out;
	}
	if (want_v4)
		first_address(addrs, underlay->ifindex, AF_INET, underlay->local,
			      sizeof(underlay->local));
	if (want_v6)
		first_address(addrs, underlay->ifindex, AF_INET6, underlay->local6,
			      sizeof(underlay->local6));
	if (want_v4 && !underlay->local[0])
		err = ctx_fail(ctx, -EADDRNOTAVAIL,
			       "underlay interface %s has no global IPv4 address",
			       underlay->iface);
	else if (want_v6 && !underlay->local6[0])
		err = ctx_fail(ctx, -EADDRNOTAVAIL,
			       "underlay interface %s has no global IPv6 address",
			       underlay->iface);
out:
	if (addrs)
		nl_cache_free(addrs);
	if (links)
		nl_cache_free(links);
	nl_socket_free(sock);
	return err;
}
