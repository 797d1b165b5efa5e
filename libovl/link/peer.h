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

/* The dump of one kind of entry (neigh, fdb: struct neigh; nexthop,
 * route: struct route). */
struct table {
	void *items;
	size_t count;
	size_t capacity;
	size_t size;
};

struct view {
	struct ovl_link *link;
	int nexthops;			/* the kernel has nexthop objects */
	struct table neighs;		/* ours: dst -> mac */
	struct table fdbs;		/* ours: mac, dst */
	struct table nhs;		/* ours on this link: id, gw */
	struct table routes;		/* ours for this link */
	uint32_t *ids;			/* every nexthop id in the namespace */
	size_t id_count;
	size_t id_capacity;
	int err;
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

/* qsort and bsearch take no NULL array, even of zero items (UBSan). */
static inline void sort(void *items, size_t count, size_t size,
			int (*cmp)(const void *, const void *))
{
	if (count)
		qsort(items, count, size, cmp);
}

static inline void *search(const void *key, const void *items, size_t count, size_t size,
			   int (*cmp)(const void *, const void *))
{
	return count ? bsearch(key, items, count, size, cmp) : NULL;
}

static inline size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* ---- peer-view.c -------------------------------------------------------- */

int peer_prefix_cmp(const struct ovl_prefix *a, const struct ovl_prefix *b);
/* An address for a full-length prefix, else a prefix; "?" when neither. */
const char *peer_prefix_text(const struct ovl_prefix *p, char buf[OVL_PREFIX_STRLEN]);
/* Orders for the view's tables and the plans. */
int peer_cmp_u32(const void *a, const void *b);
int peer_cmp_neigh(const void *a, const void *b);
int peer_cmp_neigh_dst(const void *a, const void *b);
int peer_cmp_route_dst(const void *a, const void *b);
/* What the kernel holds that is ours on this link, each table sorted for
 * lookups.  Only the routes when routes_only (no device to ask about). */
int peer_view_load(struct ovl_link *link, struct view *v, int routes_only);
void peer_view_free(struct view *v);
/* Our nexthop with id, or NULL. */
struct route *peer_view_nexthop(const struct view *v, uint32_t id);
struct neigh *peer_find_neigh(struct table *t, const struct neigh *key,
			      int (*cmp)(const void *, const void *));

/* ---- peer-plan.c -------------------------------------------------------- */

/* Checks peer and fills p.  onlink: the addresses of every device when
 * DirectRouting is on; those of the underlay tell which peers share its
 * link. */
int peer_plan_one(struct ovl_link *link, const struct ovl_peer *peer, size_t index,
		  const struct device_addr *onlink, size_t onlink_count, struct plan *p);
/* All peers checked before anything is sent; *plans sorted by subnet. */
int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		  struct plan **plans);
/* The first nexthop id to try for gw, and the one after id. */
uint32_t peer_nh_id_first(const struct ovl_link *link, const struct ovl_prefix *gw);
uint32_t peer_nh_id_next(uint32_t id);
/* Gives every overlay peer a nexthop id: the one of our nexthops with its
 * gateway when there is one (kept), else a free one. */
int peer_assign_ids(struct view *v, struct plan *plans, size_t count);
/* The requests that turn the view into the plans. */
int peer_plan_sync(struct view *v, struct plan *plans, size_t count, struct run *run);

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
