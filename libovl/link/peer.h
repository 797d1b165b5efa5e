/*
 * peer.h - what the files of the kernel peers share (peer.c the calls,
 * peer-view.c the kernel's state, peer-plan.c the checks and the diff,
 * peer-send.c the requests): a peer's plan, the view of what the kernel
 * holds, and a run of requests.
 */
#ifndef OVL_LINK_PEER_H
#define OVL_LINK_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "link/link.h"
#include "netlink/device.h"

struct plan {
	size_t index;			/* in the caller's array */
	struct ovl_prefix subnet;
	struct ovl_prefix gw;		/* the subnet base: the remote VTEP */
	struct ovl_prefix public_ip;
	unsigned char mac[6];
	int direct;
	uint32_t nh_id;			/* 0: a classic onlink route */
	int failed;
};

struct neigh {
	struct ovl_prefix dst;
	unsigned char mac[6];
	int has_mac;
	int keep;
};

struct route {
	struct ovl_prefix dst;
	struct ovl_prefix gw;
	uint32_t nh_id;
	int oif;
	int keep;
};

/* A hash index of a table's items (peer-index.c): each slot holds an item
 * number + 1 (0: empty) and the hash of its key; the lookups compare the
 * keys of the items whose hash matches. */
struct hash_slot {
	uint32_t item;
	uint32_t hash;
};

struct hash_index {
	struct hash_slot *slots;
	size_t capacity;
	size_t mask;
	size_t count;			/* items put since the reset */
};

/* A table of entries of one kind (the dumps: struct neigh, struct route;
 * the plans), indexed by its main key. */
struct table {
	void *items;
	size_t count;
	size_t capacity;
	size_t size;
	struct hash_index index;
};

struct view {
	struct ovl_link *link;
	int nexthops;			/* the kernel has nexthop objects */
	struct table neighs;		/* ours: dst -> mac; indexed by dst */
	struct table fdbs;		/* ours: mac, dst; by both */
	struct table nhs;		/* ours on this link: id, gw; by id */
	struct table routes;		/* ours for this link; by dst */
	struct table ids;		/* every nexthop id in the namespace
					 * (uint32_t); indexed when a new id
					 * is picked */
};

enum op_entry { OP_NEIGH, OP_FDB, OP_NH, OP_ROUTE };

struct op {
	unsigned char entry;		/* enum op_entry */
	unsigned char del;
	struct plan *plan;		/* adds, and deletes of a failed peer */
	const struct neigh *neigh;	/* stale neighbour or fdb entry */
	const struct route *route;	/* stale nexthop or route */
};

struct run {
	struct ovl_link *link;
	struct op *ops;
	size_t count;
	size_t capacity;
};

/* The memory of one sync: the view, the plans, their extra indexes and
 * the requests.  (Kept on the link from one sync to the next, it saved no
 * measurable time at 10,000 peers, malloc reuses the same pages, and
 * cost the agent 2 MiB of RSS.) */
struct sync_state {
	struct view view;
	struct table plans;
	struct hash_index plan_macs;	/* the plans by MAC */
	struct hash_index nexthop_gateways; /* the view's nexthops by gateway */
	struct run run;
};

static inline size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* ---- peer-index.c ------------------------------------------------------- */

/* Hashes of keys: bytes (seed tells kinds of key apart), a prefix. */
uint32_t peer_hash(uint32_t seed, const void *data, size_t len);
uint32_t peer_hash_prefix(const struct ovl_prefix *p);
/* A new zeroed item at the end of t (its index is not updated); NULL when
 * out of memory. */
void *table_add(struct table *t);
/* Empties x, sized for count items (its memory kept); 0 or -ENOMEM. */
int hash_index_reset(struct hash_index *x, size_t count);
/* Indexes item number item under hash (room reserved by the reset). */
void hash_index_put(struct hash_index *x, uint32_t hash, size_t item);
/* The items of t that x holds under hash, in the order they were put:
 * *cursor starts as HASH_START; NULL after the last. */
#define HASH_START ((size_t)-1)
void *hash_index_next(const struct hash_index *x, const struct table *t, uint32_t hash,
		      size_t *cursor);
/* The first of them for which same(item, key), or NULL. */
void *hash_index_find(const struct hash_index *x, const struct table *t, uint32_t hash,
		      int (*same)(const void *item, const void *key), const void *key);
void hash_index_free(struct hash_index *x);
/* Indexes every item of t by hash(item) in t->index; 0 or -ENOMEM. */
int table_index(struct table *t, uint32_t (*hash)(const void *item));
/* hash_index_find() in t's own index. */
void *table_find(const struct table *t, uint32_t hash,
		 int (*same)(const void *item, const void *key), const void *key);
/* Frees t's items and index. */
void table_free(struct table *t);

/* ---- peer-view.c -------------------------------------------------------- */

int peer_prefix_cmp(const struct ovl_prefix *a, const struct ovl_prefix *b);
/* An address for a full-length prefix, else a prefix; "?" when neither. */
const char *peer_prefix_text(const struct ovl_prefix *p, char buf[OVL_PREFIX_STRLEN]);
/* What the kernel holds that is ours on this link, each table indexed.
 * Only the routes when routes_only (no device to ask about). */
int peer_view_load(struct ovl_link *link, struct view *v, int routes_only);
void peer_view_free(struct view *v);
/* Our nexthop with id, neighbour for dst, fdb entry for mac and dst, route
 * to dst; or NULL. */
struct route *peer_view_nexthop(const struct view *v, uint32_t id);
struct neigh *peer_view_neigh(const struct view *v, const struct ovl_prefix *dst);
struct neigh *peer_view_fdb(const struct view *v, const unsigned char mac[6],
			    const struct ovl_prefix *dst);
struct route *peer_view_route(const struct view *v, const struct ovl_prefix *dst);

/* ---- peer-plan.c -------------------------------------------------------- */

/* Checks peer and fills p.  onlink: the addresses of every device when
 * DirectRouting is on; those of the underlay tell which peers share its
 * link. */
int peer_plan_one(struct ovl_link *link, const struct ovl_peer *peer, size_t index,
		  const struct device_addr *onlink, size_t onlink_count, struct plan *p);
/* All peers checked before anything is sent: plans holds one struct plan
 * per peer, in their order, indexed by subnet; macs is room for an index
 * of them by MAC. */
int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		  struct table *plans, struct hash_index *macs);
/* The plan for subnet, or NULL. */
struct plan *peer_plan_find(const struct table *plans, const struct ovl_prefix *subnet);
/* The first nexthop id to try for gw, and the one after id. */
uint32_t peer_nh_id_first(const struct ovl_link *link, const struct ovl_prefix *gw);
uint32_t peer_nh_id_next(uint32_t id);
/* Gives every overlay peer a nexthop id: the one of our nexthops with its
 * gateway when there is one (kept), else a free one; gateways is room for
 * an index of our nexthops by gateway.  0 or -ENOMEM. */
int peer_assign_ids(struct view *v, struct table *plans, struct hash_index *gateways);
/* The requests that turn the view into the plans. */
int peer_plan_sync(struct view *v, struct table *plans, struct run *run);

/* ---- peer-send.c -------------------------------------------------------- */

/* Appends a request: entry (enum op_entry) added or deleted, for plan p, or
 * the stale neighbour n or route r. */
int peer_run_add(struct run *run, int entry, int del, struct plan *p, const struct neigh *n,
		 const struct route *r);
/* Sends run's requests.  A peer with a failed request is removed again (no
 * half-made peers); the first failure is returned, naming its peer or
 * entry. */
int peer_run_send(struct run *run, const struct ovl_peer *peers);

#endif
