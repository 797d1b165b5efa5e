/*
 * device.h - reading devices and their addresses over the ctx's netlink
 * socket (device.c): what the backends and the underlay finder look up.
 */
#ifndef OVL_NETLINK_DEVICE_H
#define OVL_NETLINK_DEVICE_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "ovl.h"

/* A device as the kernel reports it; the vxlan fields only when is_vxlan. */
struct device_state {
	int ifindex;
	char name[IF_NAMESIZE];
	char type[32];			/* IFLA_INFO_KIND: "vxlan", "bridge", "" */
	unsigned int flags;		/* IFF_* */
	unsigned int mtu;
	unsigned char mac[6];
	char alias[256];
	int is_vxlan;
	uint32_t vni;
	uint32_t underlay_ifindex;
	unsigned int port;		/* host order */
	struct ovl_prefix local;	/* family 0: none */
	int learning;
	int gbp;
};

/* By ifindex, or by name when ifindex is 0; -ENODEV when there is none. */
int device_get(struct ovl_ctx *ctx, int ifindex, const char *name, struct device_state *s);

/* An address on a device (prefix keeps the host bits). */
struct device_addr {
	int ifindex;
	struct ovl_prefix prefix;
	unsigned char scope;		/* RT_SCOPE_* */
	unsigned int flags;		/* IFA_F_* */
};

/* The addresses of family (AF_INET/AF_INET6) on ifindex (0: on every
 * device), in the kernel's order; free *addrs with free(). */
int device_addresses(struct ovl_ctx *ctx, int family, int ifindex, struct device_addr **addrs,
		     size_t *count);

/* 1 when an address (of local's family) on ifindex (0: on any device) is
 * local, *holder then says which device; 0 when none is; or -errno. */
int device_holding(struct ovl_ctx *ctx, const struct ovl_prefix *local, int ifindex,
		   int *holder);

#endif
