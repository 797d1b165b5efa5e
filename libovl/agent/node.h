/*
 * node.h - what the agent's files share: the underlay it runs on, the link
 * event socket it watches, the check that turns a lease into a peer, and the
 * agent's own state (node.c: life cycle and lease; node-sync.c: peers and
 * device repair).
 */
#ifndef OVL_NODE_H
#define OVL_NODE_H

#include <net/if.h>
#include "core/address.h"	/* mac_parse_unicast: the rule ovl_peer_add applies */
#include "core/internal.h"
#include "netlink/linkwatch.h"
#include "netlink/underlay.h"


/* ----------------------------------------------------------- node-peer.c */

/* What a remote lease must match to become a peer of this node. */
struct peer_rules {
	int family;				/* AF_INET or AF_INET6 */
	const struct ovl_prefix *network;	/* the cluster network */
	const struct ovl_prefix *own_subnet;	/* ours, never a peer */
	const char *backend_type;		/* "vxlan", "host-gw", "udp" */
	uint32_t vni;
};

/* A remote lease as a peer: subnet and public IP of the family and the
 * VtepMAC from its backend data, in the caller's buffers.  0 when valid;
 * -EINVAL (with the reason in ctx) when the record must be skipped;
 * -ENOENT when the lease has no subnet of that family. */
struct peer_text {
	char subnet[OVL_PREFIX_STRLEN];
	char public_ip[46];
	char mac[18];
};
int peer_from_lease(struct ovl_ctx *ctx, const struct peer_rules *rules,
		    const struct ovl_lease *lease, struct peer_text *peer);

/* ---------------------------------------------------- node.c, node-sync.c */

/* One address family's overlay: its device and our subnet in it. */
struct node_plane {
	int family;
	char device[32];		/* or the host-gw link name host-gw-v6:IFACE */
	char mac[18];			/* the VTEP MAC we keep */
	char subnet[OVL_PREFIX_STRLEN];	/* our lease's subnet */
	struct ovl_prefix subnet_prefix;
	struct ovl_link *link;
	int ifindex;
	int existed;			/* the device was there before start */
	int known_up;			/* last link event said IFF_UP */
	const char *repair;		/* why the device needs repair, or NULL */
	int64_t repair_at;		/* monotonic ms */
	unsigned int repair_backoff_ms;
};

/* A lease record of another node, installed or skipped. */
struct node_peer {
	char *key;
	int valid;			/* 0: failed validation, not installed */
	unsigned int refused;		/* bit per plane: the backend refused it */
	unsigned int was_refused;	/* refused before this resync (logged) */
	struct peer_text text[2];	/* per plane; subnet "" when absent */
};

/* The data path the config names. */
enum node_backend { BACKEND_VXLAN, BACKEND_HOSTGW, BACKEND_UDP };

struct ovl_node {
	struct ovl_ctx *ctx;
	struct ovl_store *store;
	const struct ovl_config *config;
	char *node_name;
	char *subnet_file;
	unsigned int ttl, margin;
	int64_t resync_ms;
	int ip_masq;
	enum node_backend backend;
	int masq_failed;		/* the last apply failed: retry */

	struct underlay underlay;
	int underlay_up;		/* last link event of the underlay: IFF_UP */
	char public_ip[46], public_ipv6[46];
	struct node_plane planes[2];
	int nplanes;

	struct ovl_lease *lease;
	int lease_existed;		/* we held a record before start */
	int lease_lost;
	struct ovl_watch *watch;
	struct linkwatch *links;
	int discarding_links;		/* reading our own changes' echo */
	int epoll_fd, timer_fd;

	struct node_peer *peers;
	size_t npeers, peers_size;

	/* monotonic ms deadlines; INT64_MAX: none */
	int64_t renew_at, reacquire_at, resync_at;
	unsigned int renew_backoff_ms, reacquire_backoff_ms, resync_backoff_ms;

	int ready;
	int subnet_env_stale;
	unsigned int mtu;
	int64_t last_sync;
	int last_error;
	char last_error_text[256];
};

int64_t node_now_ms(void);
/* Records err with the ctx's reason as the last error and logs it. */
void node_error(struct ovl_node *node, int err, const char *what);
/* The next retry delay in ms: 250 ms doubling up to 30 s. */
unsigned int node_backoff(unsigned int *backoff_ms);
int node_is_own_record(const struct ovl_node *node, const struct ovl_lease *lease);
void node_lease_lost(struct ovl_node *node, const char *why);
int node_watch_open(struct ovl_node *node);
void node_arm_timer(struct ovl_node *node);
int64_t node_next_deadline(const struct ovl_node *node);

struct peer_rules node_peer_rules(const struct ovl_node *node,
				  const struct node_plane *plane);
const char *node_plane_subnet(const struct ovl_node *node, int family);
/* ------------------------------------------------------ node-backend.c */

/* node->backend from the config: -EOPNOTSUPP for others, -EINVAL for udp
 * with IPv6 (flannel's udp is IPv4 only). */
int node_backend_pick(struct ovl_node *node);
/* plane->device: flannel.VNI, flannel-v6.VNI, host-gw[-v6]:IFACE, flannel0. */
void node_plane_name(struct ovl_node *node, struct node_plane *plane);
/* The plane's BackendData for the lease, NULL (0) when the backend has none. */
int node_backend_data(const struct ovl_node *node, const struct node_plane *plane,
		      char **text);
/* The plane's backend (ovl_vxlan_up with its MAC, ovl_hostgw_up or
 * ovl_udp_up with its fd in the node's epoll set) for our subnet on the
 * underlay; replaces plane->link. */
int node_plane_up(struct ovl_node *node, struct node_plane *plane);
/* Frees the plane's link (a UDP link's fd leaves the epoll set). */
void node_plane_free(struct ovl_node *node, struct node_plane *plane);
/* Runs the UDP loop's bounded dispatch; nothing for the other backends. */
void node_links_dispatch(struct ovl_node *node);
/* --ip-masq: apply the rules of every plane (apply), or check them and
 * restore what is missing; failures are logged and set masq_failed. */
void node_masq_ensure(struct ovl_node *node, int apply);
int node_masq_remove(struct ovl_node *node);
/* Lists the store and makes the kernel hold exactly the valid peers. */
int node_resync(struct ovl_node *node);
void node_store_events_read(struct ovl_node *node);
void node_link_event(void *userdata, int event, int ifindex, const char *name,
		     unsigned int flags);
void node_link_events_read(struct ovl_node *node);
void node_link_events_discard(struct ovl_node *node);
void node_repair_planes(struct ovl_node *node);
int node_planes_need_repair(const struct ovl_node *node);
size_t node_peer_count(const struct ovl_node *node);
size_t node_skipped_count(const struct ovl_node *node);
void node_peers_clear(struct ovl_node *node);

#endif
