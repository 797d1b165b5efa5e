/*
 * node.h - what the agent's files share: the agent's state, the check that
 * turns a lease into a peer, and the functions its files call across.
 * The files: node.c (life cycle: start, the pollable fd, dispatch, status,
 * stop), node-lease.c (our lease and subnet.env), node-sync.c (peers),
 * node-repair.c (devices deleted or flapped), node-peer.c (which lease
 * records are peers),
 * node-backend.c with node-backend.h (the backends' table; one file per
 * backend: backend-vxlan.c, backend-hostgw.c, backend-udp.c,
 * backend-wireguard.c), node-masq.c (--ip-masq and
 * the forward rules), peer-table.c (the peers
 * by lease key), node-metrics.c (the counters and ovl_node_metrics).
 *
 * The agent is the top layer: it uses only the public API (include/ovl.h)
 * and what the layers below export through their headers (core/internal.h,
 * core/fileio.h for the WireGuard key file, netlink/underlay.h,
 * netlink/linkwatch.h, and store/store.h for the store requests that never
 * block), never the internals of link/, store/ or lease/.  The links it
 * runs never block either: a userspace WireGuard program is spoken to
 * through OVL_WIREGUARD_NONBLOCKING links whose fds join the node's.
 *
 * ovl_node_dispatch never blocks: the store is reached only through
 * store_async requests (renewal, re-acquisition, the resync's listing),
 * whose answers arrive in later dispatches, and a watch reopened there does
 * not wait for its listing.  Only ovl_node_start and ovl_node_stop wait.
 */
#ifndef OVL_NODE_H
#define OVL_NODE_H

#include <net/if.h>
#include "core/address.h"	/* mac_parse_unicast: the rule ovl_peer_add applies */
#include "core/internal.h"
#include "netlink/linkwatch.h"
#include "netlink/underlay.h"
#include "store/store.h"


/* ----------------------------------------------------------- node-peer.c */

/* What a remote lease must match to become a peer of this node. */
struct peer_rules {
	int family;				/* AF_INET or AF_INET6 */
	const struct ovl_prefix *network;	/* the cluster network */
	const struct ovl_prefix *own_subnet;	/* ours, never a peer */
	const char *backend_type;		/* the name of our backend */
	uint32_t vni;
	/* One device for both families (wireguard's Mode "auto", "ipv4",
	 * "ipv6"): the family of the public IP a peer is reached at is
	 * chosen per lease, as flannel's selectMode does; NULL: the plane's. */
	const char *endpoint_mode;
	int have_ipv4;				/* we have an IPv4 underlay address */
	int have_public_ipv6;			/* ... and an IPv6 one outside fc00::/7 */
};

/* A remote lease as a peer: subnet and public IP of the family and the
 * VtepMAC (vxlan) or PublicKey and Port (wireguard) from its backend
 * data, in the caller's buffers.  0 when valid;
 * -EINVAL (with the reason in ctx) when the record must be skipped;
 * -ENOENT when the lease has no subnet of that family. */
struct peer_text {
	char subnet[OVL_PREFIX_STRLEN];
	char public_ip[46];
	char mac[18];
	char public_key[OVL_WIREGUARD_KEY_STRLEN];	/* wireguard */
	unsigned int port;				/* wireguard; 0: ours */
};
int peer_from_lease(struct ovl_ctx *ctx, const struct peer_rules *rules,
		    const struct ovl_lease *lease, struct peer_text *peer);
/* RFC 1918 and RFC 4193 addresses (flannel's IsPrivate): 1 or 0. */
int peer_address_is_private(const char *address);
/* The family of the public IP a lease is reached at under
 * rules->endpoint_mode. */
int peer_endpoint_family(const struct peer_rules *rules, const struct ovl_lease *lease);

/* ---------------------------------------------------- node.c, node-sync.c */

/* One address family's overlay: its device and our subnet in it. */
struct node_plane {
	int family;
	char device[32];		/* or the host-gw link name host-gw-v6:IFACE */
	char mac[18];			/* the VTEP MAC we keep */
	char subnet[OVL_PREFIX_STRLEN];	/* our lease's subnet */
	struct ovl_prefix subnet_prefix;
	struct ovl_link *link;		/* NULL for a plane another one carries */
	/* The plane whose link carries this plane's peers: itself, or the
	 * IPv4 plane when one device carries both families (wireguard). */
	int carrier;
	int ifindex;
	int pending;			/* its device is still coming up (a userspace
					 * program starting): its link says when */
	int stalled;			/* its userspace program does not answer */
	int existed;			/* the device was there before start */
	int known_up;			/* last link event said IFF_UP */
	const char *repair;		/* why the device needs repair, or NULL */
	int recreate;			/* the repair deletes the device first */
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

/* The peers by lease key (peer-table.c): items[0..count) in no order;
 * adding may move them, removing moves the last one into the gap. */
struct peer_table {
	struct node_peer *items;
	size_t count, size;
	size_t *slots;			/* item index + 1, 0: empty */
	size_t nslots;			/* a power of two, over twice count */
};
struct node_peer *peer_table_find(const struct peer_table *table, const char *key);
/* Copies peer and key (which must not be in the table yet). */
int peer_table_add(struct peer_table *table, const struct node_peer *peer, const char *key);
/* Room for count records at once (a listing's table: no copies while it
 * grows, which at 10,000 records set the agent's peak memory); 0 or
 * -ENOMEM. */
int peer_table_reserve(struct peer_table *table, size_t count);
void peer_table_remove(struct peer_table *table, struct node_peer *peer);
void peer_table_clear(struct peer_table *table);

struct node_backend_ops;

/* What the store was asked when it failed, and how it failed (node-metrics.c
 * names them in ovl_store_request_errors_total). */
enum node_store_request { STORE_RENEW, STORE_ACQUIRE, STORE_LIST, STORE_WATCH,
			  STORE_REQUESTS };
enum node_store_error { STORE_TIMEOUT, STORE_UNREACHABLE, STORE_BAD_REPLY,
			STORE_DENIED, STORE_OTHER, STORE_ERRORS };
#define NODE_RESYNC_BUCKETS 12

/* Counters since start, for ovl_node_metrics; the gauges come from the
 * node's state when it is asked. */
struct node_metrics {
	uint64_t renewals, renewal_failures, lease_losses, reacquisitions;
	uint64_t store_errors[STORE_REQUESTS][STORE_ERRORS];
	uint64_t watch_reconnects;	/* the agent's reopens and those of
					 * watches closed since */
	uint64_t watch_relists;		/* those of watches closed since */
	uint64_t listings;		/* the table made from a full listing */
	uint64_t netlink_errors;	/* kernel changes that failed */
	uint64_t device_recreations;	/* repairs that brought a device back */
	uint64_t resync_buckets[NODE_RESYNC_BUCKETS + 1];	/* not cumulative; last: +Inf */
	uint64_t resyncs;
	double resync_seconds;
	uint64_t key_rotations;		/* new keys published in the lease */
};

struct ovl_node {
	struct ovl_ctx *ctx;
	struct ovl_store *store;
	const struct ovl_config *config;
	char *node_name;
	char *subnet_file;
	unsigned int ttl, margin;
	int64_t resync_ms;
	int ip_masq;
	char *wireguard_userspace;	/* options: backend-wireguard.c's */
	char *wireguard_key_file;
	char wireguard_key[OVL_WIREGUARD_KEY_STRLEN];	/* our private key */
	int rotating;			/* a new key goes to the devices: the lease
					 * publishes it once they have it */
	int forward_rules;		/* flannel's --iptables-forward-rules */
	const struct node_backend_ops *backend;	/* the config's data path */
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
	/* Watches opened so far (the current one's number); the one whose
	 * first listing and every event since make the table (0: the table
	 * came from a listing of requests); the one a resync asked about. */
	unsigned int watch_number, table_watch, asked_watch;
	unsigned int watch_behind;	/* resyncs in a row it did not match */
	struct store_async *requests;	/* the store, without blocking */
	int renewing, reacquiring, listing;	/* a request of that kind is out */
	int republish;			/* the lease must publish new BackendData */
	int republishing;		/* ... and the acquire doing so is out */
	int64_t listing_since;		/* when the listing under way was asked for */
	struct linkwatch *links;
	int discarding_links;		/* reading our own changes' echo */
	int epoll_fd, timer_fd;

	struct peer_table peers;
	int batching;			/* peer changes go to the table only */
	int kernel_behind;		/* ... and the kernel needs a sync */

	/* monotonic ms deadlines; INT64_MAX: none */
	int64_t renew_at, reacquire_at, resync_at, republish_at;
	unsigned int renew_backoff_ms, reacquire_backoff_ms, resync_backoff_ms;
	unsigned int republish_backoff_ms;

	int ready;
	int subnet_env_stale;
	unsigned int mtu;
	int64_t last_sync;
	int last_error;
	char last_error_text[256];
	struct node_metrics metrics;
};

int64_t node_now_ms(void);
/* Records err with the ctx's reason as the last error and logs it. */
void node_error(struct ovl_node *node, int err, const char *what);
/* The next retry delay in ms: 250 ms doubling up to 30 s. */
unsigned int node_backoff(unsigned int *backoff_ms);
/* Opens the store watch into the node's epoll set; with nonblocking (in
 * dispatch) without waiting for its first listing. */
int node_watch_open(struct ovl_node *node, int nonblocking);
void node_arm_timer(struct ovl_node *node);
int64_t node_next_deadline(const struct ovl_node *node);

struct peer_rules node_peer_rules(const struct ovl_node *node,
				  const struct node_plane *plane);
const char *node_plane_subnet(const struct ovl_node *node, int family);

/* -------------------------------------------------------- node-lease.c */

/* Acquires (or re-acquires) the lease, preferring the subnets we hold or
 * held ("" or NULL: none), with the planes' BackendData. */
int node_lease_acquire(struct ovl_node *node, const char *preferred,
		       const char *preferred6, struct ovl_lease **lease);
/* Takes lease as ours: subnets of the planes, renewal timer. */
void node_lease_adopt(struct ovl_node *node, struct ovl_lease *lease);
/* Renews the lease when due; re-acquires it when lost and due. */
void node_lease_keep(struct ovl_node *node);
int node_is_own_record(const struct ovl_node *node, const struct ovl_lease *lease);
/* Rewrites our lease with the planes' current BackendData (a new key),
 * through the acquire that reuses the record (compare-and-swap), in a
 * dispatch delay_ms from now. */
void node_lease_republish(struct ovl_node *node, unsigned int delay_ms);
void node_lease_lost(struct ovl_node *node, const char *why);
/* Writes subnet.env from the planes; 0 clears subnet_env_stale. */
int node_subnet_env_write(struct ovl_node *node);
/* The subnets of a previous run, from subnet.env ("10.244.3.1/24"). */
void node_previous_subnets(struct ovl_node *node, char *v4, char *v6, size_t size);

/* ------------------------------------------------------ node-backend.c */

/* node->backend from the config: -EOPNOTSUPP for a backend we do not have,
 * -EINVAL for an IPv4-only one with IPv6 enabled. */
int node_backend_pick(struct ovl_node *node);
/* The plane's link from its backend for our subnet on the underlay;
 * replaces plane->link (a carried plane takes its carrier's device). */
int node_plane_up(struct ovl_node *node, struct node_plane *plane);
/* ovl_node_start only: waits (bounded) until the plane's link has done
 * what it was asked (a userspace program started, peers installed). */
int node_plane_settle(struct ovl_node *node, struct node_plane *plane);
/* The link of the plane that carries plane i's peers. */
struct ovl_link *node_plane_link(const struct ovl_node *node, int i);
/* Frees the plane's link and what its backend added to it. */
void node_plane_free(struct ovl_node *node, struct node_plane *plane);

/* --------------------------------------------------------- node-masq.c */

/* --ip-masq and the forward rules: apply the rules of every plane
 * (apply), or check them and restore what is missing; failures are logged
 * and set masq_failed.  node_masq_start applies them, or removes a
 * previous run's when the node wants none; node_masq_teardown removes
 * them when the node has any. */
void node_masq_ensure(struct ovl_node *node, int apply);
void node_masq_start(struct ovl_node *node);
int node_masq_teardown(struct ovl_node *node);

/* --------------------------------------------------------- node-sync.c */

/* Lists the store and makes the kernel hold exactly the valid peers:
 * node_resync waits for the listing (start: the watch's first listing),
 * node_resync_start asks for it
 * and the rest follows in a later dispatch (then resync_at is rescheduled). */
int node_resync(struct ovl_node *node);
int node_resync_start(struct ovl_node *node);
void node_store_events_read(struct ovl_node *node);
/* Makes the plane's kernel entries those of the table's valid peers,
 * each with flags (OVL_PEER_HANDSHAKE after a repair). */
int node_sync_plane(struct ovl_node *node, int plane, unsigned int flags);
size_t node_peer_count(const struct ovl_node *node);
void node_peers_clear(struct ovl_node *node);

/* ------------------------------------------------------- node-repair.c */

void node_link_event(void *userdata, int event, int ifindex, const char *name,
		     unsigned int flags);
void node_link_events_read(struct ovl_node *node);
void node_link_events_discard(struct ovl_node *node);
void node_repair_planes(struct ovl_node *node);
/* A plane needs repair, is still coming up, or its program does not
 * answer: the node is not ready. */
int node_planes_need_repair(const struct ovl_node *node);
/* The pending device of plane i exists now (its link configured it), or
 * could not be started (err): the repair under way ends, or is retried. */
void node_plane_came_up(struct ovl_node *node, int i);
void node_plane_failed(struct ovl_node *node, int i, int err);

/* ------------------------------------------------------ node-metrics.c */

/* Counts a failed store request (err < 0) by its kind; nothing for 0. */
void node_metrics_store_result(struct ovl_node *node, enum node_store_request request,
			       int err);
/* A renewal's end: renewed, or failed (err, or the lease found lost). */
void node_metrics_renewed(struct ovl_node *node, int err);
/* The watch failed and is about to be closed (and reopened later). */
void node_metrics_watch_failed(struct ovl_node *node, int err);
/* A resync ended well: its duration since node->listing_since. */
void node_metrics_resync_done(struct ovl_node *node);

#endif
