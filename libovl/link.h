/*
 * link.h - struct ovl_link: what vxlan.c learns about a device and peer.c
 * needs to program peers on it; and the helpers the two share.
 */
#ifndef OVL_LINK_H
#define OVL_LINK_H

#include <net/if.h>
#include <stdint.h>

#include "ovl.h"

struct ovl_link {
	struct ovl_ctx *ctx;
	int ifindex;
	char name[IF_NAMESIZE];
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

/* An address on a device (prefix keeps the host bits). */
struct link_addr {
	int ifindex;
	struct ovl_prefix prefix;
};

/* vxlan.c: "0e:2a:..:ff" to bytes; 0 or -EINVAL. */
int mac_parse(const char *text, unsigned char mac[6]);
void mac_format(const unsigned char mac[6], char text[18]);
/* 1 when mac is a unicast address other than 00:00:00:00:00:00. */
int mac_is_unicast(const unsigned char mac[6]);
/* 1 when addr can be a tunnel endpoint: not unspecified, loopback,
 * multicast or broadcast. */
int addr_is_unicast(const struct ovl_prefix *addr);

/* vxlan.c: the addresses of family (AF_INET/AF_INET6) on ifindex (0: on
 * every device); free *addrs with free(). */
int link_addresses(struct ovl_ctx *ctx, int family, int ifindex,
		   struct link_addr **addrs, size_t *count);

/* peer.c: removes the libovl routes of link that do not go away with its
 * device (DirectRouting routes on the underlay device). */
int peer_flush_underlay(struct ovl_link *link);

#endif
