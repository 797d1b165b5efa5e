/*
 * underlay.h - the agent's choice of the interface the overlay rides on
 * (underlay.c), and connecting a libnl socket inside the ctx's namespace.
 */
#ifndef OVL_NETLINK_UNDERLAY_H
#define OVL_NETLINK_UNDERLAY_H

#include <net/if.h>
#include "core/internal.h"

struct nl_sock;

struct underlay {
	char iface[IFNAMSIZ];
	int ifindex;
	unsigned int mtu;
	char local[46];		/* iface's IPv4 (the VTEP source), "" if none */
	char local6[46];	/* iface's global IPv6, "" if none */
};

/* Connects sock (NETLINK_ROUTE) inside the ctx's network namespace. */
int netns_connect(struct ovl_ctx *ctx, struct nl_sock *sock);

/* The interface named iface, else the one holding ip (or ipv6), else the
 * default route's; with its MTU and addresses of the wanted families. */
int underlay_pick(struct ovl_ctx *ctx, const char *iface, const char *ip,
		  const char *ipv6, int want_v4, int want_v6,
		  struct underlay *underlay);

#endif
