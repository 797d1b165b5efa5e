/*
 * node-backend.h - what a backend (a data path: vxlan, host-gw, udp) is to
 * the agent: one const struct node_backend_ops per backend, each in its own
 * file (backend-vxlan.c, backend-hostgw.c, backend-udp.c), found by the
 * config's Backend.Type in node-backend.c's table.  The agent's other files
 * ask node->backend and never name a backend.
 */
#ifndef OVL_NODE_BACKEND_H
#define OVL_NODE_BACKEND_H

#include "agent/node.h"

struct node_backend_ops {
	/* The config's Backend.Type, and the BackendType of our lease. */
	const char *name;
	/* The BackendTypes of the leases it takes as peers, NULL-terminated
	 * (a backend may accept what another implementation writes). */
	const char *const *peer_types;
	/* Refuses a config that enables IPv6. */
	int ipv4_only;
	/* The plane is a device the node repairs when it is deleted, replaced
	 * or set down; 0: routes on the underlay, reinstalled by a resync
	 * when the underlay comes back up. */
	int has_device;
	/* The data path stays in the kernel after a stop without teardown
	 * (0: it lives in this process and goes with it). */
	int outlives_node;
	/* Its links list peers with counters (ovl_node_peers adds them). */
	int peer_counters;

	/* plane->device: the device's name, or the link name ovl_link_open
	 * takes for a backend without a device. */
	void (*plane_name)(const struct ovl_node *node, struct node_plane *plane);
	/* What a previous run left of the plane, before the lease is acquired
	 * (leases: the store's records, maybe none): plane->existed when its
	 * data path is there (a failed start then leaves it), and whatever the
	 * plane keeps across restarts (vxlan: its MAC).  NULL: nothing stays. */
	int (*plane_previous)(struct ovl_node *node, struct node_plane *plane,
			      struct ovl_lease *const *leases, size_t count);
	/* Adjusts the rules a lease must pass to be the plane's peer (the
	 * generic ones filled).  NULL: none. */
	void (*plane_rules)(const struct ovl_node *node, const struct node_plane *plane,
			    struct peer_rules *rules);
	/* The plane's BackendData for our lease, malloc'ed into text.  NULL:
	 * the backend publishes none. */
	int (*backend_data)(const struct ovl_node *node, const struct node_plane *plane,
			    char **text);
	/* Checks the lease's BackendData of the plane's family (maybe none)
	 * and fills what the plane needs from it (vxlan: peer->mac); -EINVAL
	 * with the reason in ctx to skip the record.  NULL: the backend
	 * reads none. */
	int (*peer_data)(struct ovl_ctx *ctx, const struct peer_rules *rules,
			 const struct ovl_lease *lease, struct peer_text *peer);
	/* Brings the plane's link up for plane->subnet in network and returns
	 * it in link, with its fds in the node's epoll set if it has any; the
	 * caller then frees the plane's old link (unless plane_up did). */
	int (*plane_up)(struct ovl_node *node, struct node_plane *plane,
			const char *network, struct ovl_link **link);
	/* Undoes what plane_up did beyond the link (udp: its fd leaves the
	 * epoll set), before the link is freed.  NULL: nothing. */
	void (*plane_free)(struct ovl_node *node, struct node_plane *plane);
	/* Whether err from adding a valid peer means the backend refuses that
	 * peer (skipped and retried on resyncs) rather than a failure.  NULL:
	 * it refuses none. */
	int (*refuses_peer)(int err);
	/* Work on the node's readable fd beyond store, link and timer events
	 * (udp: forwarding packets; wireguard: its programs' answers).  NULL:
	 * none. */
	void (*dispatch)(struct ovl_node *node);
	/* ovl_node_start only: waits (bounded) until the plane's link has done
	 * what it was asked.  NULL: its changes are made at once. */
	int (*plane_settle)(struct ovl_node *node, struct node_plane *plane);
	/* ovl_node_rotate_key: a new key for the node.  NULL: the backend has
	 * none (-EOPNOTSUPP). */
	int (*rotate_key)(struct ovl_node *node);
};

/* The backend called name, NULL when there is none. */
const struct node_backend_ops *node_backend_find(const char *name);

#endif
