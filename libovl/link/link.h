/*
 * link.h - struct ovl_link and struct link_ops, the interface every backend
 * (vxlan.c, hostgw.c, udp/udp.c, wireguard.c) fills and link.c calls through; the option
 * parsing they share (link.c) and the kernel peers vxlan and host-gw share
 * (peer.c).
 */
#ifndef OVL_LINK_H
#define OVL_LINK_H

#include <net/if.h>
#include <stdint.h>

#include "ovl.h"

/* Room for "host-gw-v6:" and a device name. */
#define LINK_NAMESIZE 32

struct ovl_link;

/* What a backend does; link.c checks the public calls' arguments and
 * forwards them here.  An op left NULL is a call the backend does not
 * support (-EOPNOTSUPP), except free: NULL frees the struct ovl_link. */
struct link_ops {
	const char *name;		/* "vxlan", "host-gw", "udp", "wireguard":
					 * JSON "backend" */
	/* Reopening a link by the name ovl_link_name() gave (in link.c's
	 * table): 1 when name is this backend's, then open makes the handle. */
	int (*claims)(const char *name);
	int (*open)(struct ovl_ctx *ctx, const char *name, struct ovl_link **link);
	int (*down)(struct ovl_link *link);
	void (*free)(struct ovl_link *link);
	/* peer and peers are not NULL (but count may be 0); *peers and
	 * *count of peer_list are cleared already. */
	int (*peer_add)(struct ovl_link *link, const struct ovl_peer *peer);
	int (*peer_del)(struct ovl_link *link, const struct ovl_peer *peer);
	int (*peer_sync)(struct ovl_link *link, const struct ovl_peer *peers, size_t count);
	int (*peer_list)(struct ovl_link *link, struct ovl_peer **peers, size_t *count);
	/* A backend whose peers need more than struct ovl_peer carries
	 * (wireguard) fills these instead of the four above; link.c hands
	 * them whole struct ovl_peer_v2 (the caller's shorter ones copied
	 * out) and serves the old calls through them.  peer_v2_list returns
	 * whole structs too. */
	int (*peer_v2_add)(struct ovl_link *link, const struct ovl_peer_v2 *peer);
	int (*peer_v2_del)(struct ovl_link *link, const struct ovl_peer_v2 *peer);
	int (*peer_v2_sync)(struct ovl_link *link, const struct ovl_peer_v2 *peers, size_t count);
	int (*peer_v2_list)(struct ovl_link *link, struct ovl_peer_v2 **peers, size_t *count);
	/* A backend with a loop in libovl (udp): its epoll fd, one round of
	 * it, its counters (stats->size checked already). */
	int (*fd)(const struct ovl_link *link);
	int (*dispatch)(struct ovl_link *link);
	int (*stats)(const struct ovl_link *link, struct ovl_link_stats *stats);
};

struct ovl_link {
	struct ovl_ctx *ctx;
	const struct link_ops *ops;
	int ifindex;			/* 0: no device of its own (host-gw) */
	char name[LINK_NAMESIZE];
	int family;			/* of the overlay: AF_INET or AF_INET6 */
	struct ovl_prefix subnet;	/* our lease */
	struct ovl_prefix network;	/* the cluster network; family 0: unknown */
	int direct_routing;
	/* Every peer is a route via its public IP on the underlay and must be
	 * on-link (host-gw); there are no neighbours, fdb entries or nexthops. */
	int direct_only;
	int underlay_ifindex;
	char underlay[IF_NAMESIZE];
	struct ovl_prefix local;	/* our underlay address */
	char mac[18];
	unsigned int mtu;
	uint32_t vni;
	unsigned int port;
	int learning;
	int gbp;
	/* peer-cache.c's: the plans of the last sync of peers (kernel-routed
	 * links); NULL until then. */
	struct peer_cache *peer_cache;
};

/* The backends link.c's ovl_link_open() can reopen. */
extern const struct link_ops vxlan_link_ops;
extern const struct link_ops hostgw_link_ops;
extern const struct link_ops wireguard_link_ops;

/* link.c: the options every backend takes: local (an endpoint address,
 * required), subnet (required; host bits dropped, as in FLANNEL_SUBNET's
 * "10.244.3.1/24") and network (optional: family 0; must hold subnet). */
int link_parse_addresses(struct ovl_ctx *ctx, const char *local, const char *subnet,
			 const char *network, struct ovl_prefix *local_addr,
			 struct ovl_prefix *subnet_prefix, struct ovl_prefix *network_prefix);

/* link.c: the alias libovl gives the devices it makes, "libovl subnet=S
 * [network=N] MORE", so that ovl_link_open in another process learns the
 * lease; parsing fills link->subnet and link->network (family 0 when
 * absent) and hands every other token to more (may be NULL).  -EINVAL
 * unless the alias is libovl's with a subnet. */
#define LINK_ALIAS_SIZE 256
void link_alias_format(const struct ovl_prefix *subnet, const struct ovl_prefix *network,
		       const char *more, char alias[LINK_ALIAS_SIZE]);
int link_alias_parse(const char *alias, struct ovl_link *link,
		     void (*more)(void *arg, const char *token), void *arg);
/* link.c: a device of ours to reopen by name: -EINVAL for a bad name,
 * -ENODEV when there is none (both with a message naming it). */
struct device_state;
int link_device_find(struct ovl_ctx *ctx, const char *name, struct device_state *state);

/* peer.c: the peers of a kernel-routed link (vxlan, host-gw) as the
 * kernel's neighbours, fdb entries, nexthops and routes; the link_ops peer
 * calls of both backends. */
int kernel_peer_add(struct ovl_link *link, const struct ovl_peer *peer);
int kernel_peer_del(struct ovl_link *link, const struct ovl_peer *peer);
int kernel_peers_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count);
int kernel_peers_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count);
/* peer-cache.c: frees link's peer_cache (ovl_link_free). */
void kernel_peers_forget(struct ovl_link *link);
/* peer.c: removes the libovl routes of link that do not go away with its
 * device (DirectRouting and host-gw routes on the underlay device). */
int kernel_peers_flush_underlay(struct ovl_link *link);

#endif
