/*
 * link.h - struct ovl_link: what a backend (vxlan.c, hostgw.c, udp.c) learns
 * about its link and peer.c needs to program peers on it; and the helpers
 * they share.
 */
#ifndef OVL_LINK_H
#define OVL_LINK_H

#include <net/if.h>
#include <stdint.h>

#include "ovl.h"

/* LINK_VXLAN is 0: a zeroed link is a vxlan link. */
enum link_kind { LINK_VXLAN, LINK_HOSTGW, LINK_UDP };

/* Room for "host-gw-v6:" and a device name. */
#define LINK_NAMESIZE 32

struct ovl_link {
	struct ovl_ctx *ctx;
	enum link_kind kind;
	int ifindex;			/* 0: no device of its own (host-gw) */
	char name[LINK_NAMESIZE];
	int family;			/* of the overlay: AF_INET or AF_INET6 */
	struct ovl_prefix subnet;	/* our lease */
	struct ovl_prefix network;	/* the cluster network; family 0: unknown */
	int direct_routing;
	int underlay_ifindex;
	char underlay[IF_NAMESIZE];
	struct ovl_prefix local;	/* our underlay address */
	char mac[18];
	unsigned int mtu;
	uint32_t vni;
	unsigned int port;
	int learning;
	int gbp;
};

/* vxlan.c: the options every backend takes: local (a unicast address,
 * required), subnet (required; host bits dropped, as in FLANNEL_SUBNET's
 * "10.244.3.1/24") and network (optional: family 0; must hold subnet). */
int link_parse_addresses(struct ovl_ctx *ctx, const char *local, const char *subnet,
			 const char *network, struct ovl_prefix *local_addr,
			 struct ovl_prefix *subnet_prefix, struct ovl_prefix *network_prefix);

/* hostgw.c: a handle on the host-gw link that ovl_hostgw_up named
 * "host-gw:DEV" or "host-gw-v6:DEV" (a ':' is never in a device name). */
int hostgw_open(struct ovl_ctx *ctx, const char *name, struct ovl_link **link);

/* peer.c: removes the libovl routes of link that do not go away with its
 * device (DirectRouting routes on the underlay device). */
int peer_flush_underlay(struct ovl_link *link);

#endif
