/*
 * underlay.h - the one underlay finder (underlay.c): which device and
 * address the overlay rides on, for the backends (underlay_find) and the
 * agent (underlay_pick).
 */
#ifndef OVL_NETLINK_UNDERLAY_H
#define OVL_NETLINK_UNDERLAY_H

#include <net/if.h>
#include "core/internal.h"

struct underlay {
	char iface[IFNAMSIZ];
	int ifindex;
	unsigned int mtu;
	char local[46];		/* iface's IPv4 (the VTEP source), "" if none */
	char local6[46];	/* iface's global IPv6, "" if none */
};

/* A backend's underlay: dev, else the device that holds local (never the
 * default route's device, whose MTU may differ).  With must_hold, local
 * must also be an address of dev; local may be NULL with dev and without
 * must_hold.  -EADDRNOTAVAIL when no device (or not dev) holds local.
 * Fills iface, ifindex and mtu. */
int underlay_find(struct ovl_ctx *ctx, const char *dev, const struct ovl_prefix *local,
		  int must_hold, struct underlay *out);

/* The agent's underlay: the interface named iface, else the one holding ip
 * (or ipv6), else the default route's; with its MTU and first global
 * address of each wanted family. */
int underlay_pick(struct ovl_ctx *ctx, const char *iface, const char *ip,
		  const char *ipv6, int want_v4, int want_v6,
		  struct underlay *underlay);

#endif
