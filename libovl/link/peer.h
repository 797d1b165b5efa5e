/*
 * peer.h - what the files of the kernel peers share (peer.c the calls,
 * peer-plan.c the checks, peer-cache.c the plans kept between syncs,
 * peer-view.c reading the kernel's entries, peer-diff.c a sync's diff,
 * peer-send.c the requests, peer-index.c the tables and hash indexes): a
 * peer's plan, the kernel's entries, and a run of requests.
 */
#ifndef OVL_LINK_PEER_H
#define OVL_LINK_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"
#include "netlink/device.h"
#include "netlink/nl.h"

/* A peer as the kernel entries it needs.  Small: a link keeps 10,000 of
 * them between syncs (peer-cache.c). */
struct plan {
	uint32_t index;			/* in the caller's array */
	uint32_t first_of_mac;		/* the first overlay plan with mac */
	struct ovl_prefix subnet;
	struct ovl_prefix gw;		/* the subnet base: the remote VTEP */
	struct ovl_prefix public_ip;
	unsigned char mac[6];
	unsigned char direct;
	unsigned char failed;
	uint32_t nh_id;			/* 0: a classic onlink route */
	/* What a sync found in the kernel (peer-diff.c). */
	unsigned char neigh_ok;		/* our neighbour for gw, with mac */
	unsigned char fdb_ok;		/* (on the first of its MAC) the fdb
					 * entry mac -> public_ip */
	unsigned char nh_fresh;		/* nh_id is new: add the nexthop */
	unsigned char route_ok;		/* the route as planned */
};

struct neigh {
	struct ovl_prefix dst;
	unsigned char mac[6];
	int has_mac;
};

struct route {
	struct ovl_prefix dst;
	struct ovl_prefix gw;
	uint32_t nh_id;
	int oif;
	int onlink;			/* RTNH_F_ONLINK */
	struct plan *plan;		/* a nexthop's, by its gateway (peer-diff.c) */
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

/* The dumps of what a link's peers are made of. */
enum peer_dump { DUMP_NEIGH, DUMP_FDB, DUMP_NEXTHOP, DUMP_ROUTE, DUMP_KINDS };

/* The plans the entries of ours of a dump matched, in the kernel's order:
 * an unchanged kernel dumps them in the same order again, so a sync first
 * checks that guess (its plan's memory fetched ahead) and looks up only
 * the entries it misses. */
#define NO_PLAN UINT32_MAX
struct dump_order {
	uint32_t *plan;			/* a plan's number, or NO_PLAN */
	size_t count;			/* entries of the last dump */
	size_t capacity;
};

/* The plans of a sync: the table in the caller's order, indexed by
 * subnet; the plans by gateway; the overlay plans by MAC (the first of
 * each); what each dump matched last time (peer-diff.c). */
struct plan_set {
	struct table plans;
	struct hash_index gateways;
	struct hash_index macs;
	struct dump_order orders[DUMP_KINDS];
	/* The last sync left each overlay plan's nh_id naming its nexthop
	 * in the kernel, so the next may check the routes alone; how many
	 * syncs did so since the nexthops were last read; whether the
	 * kernel's route dumps leave the nexthop's gateway out
	 * (net.ipv4.nexthop_compat_mode 0), which rules that out. */
	unsigned char ids_known;
	unsigned char routes_hide_nexthops;
	unsigned int routes_only_syncs;
};

/* Lookups made a batch at a time: each added key's slot is fetched at
 * once, the items they name together, so that the memory misses of a
 * batch overlap instead of following one another (a sync's lookups are
 * cold: the kernel's dump went through the caches between them). */
#define LOOKUP_BATCH 32
struct lookup_batch {
	size_t count;
	uint32_t hash[LOOKUP_BATCH];
	const void *key[LOOKUP_BATCH];
	void *found[LOOKUP_BATCH];	/* resolved: the item, or NULL */
};

/* What a sync's diff keeps of the kernel's entries (peer-diff.c): the
 * stale ones, which its requests remove, and our nexthops. */
struct diff {
	struct ovl_link *link;
	struct plan_set *set;
	struct run *run;
	int nexthops;			/* the kernel has nexthop objects */
	struct table neighs;		/* stale neighbours */
	struct table fdbs;		/* stale fdb entries */
	struct table nhs;		/* our nexthops on the link */
	struct table ids;		/* every nexthop id (uint32_t) */
	struct table routes;		/* stale routes */
	int routes_only;		/* this sync skips the nexthop dump */
	int amiss;			/* ...and a route did not match */
	/* The current dump: its order, entries of ours so far, and those
	 * waiting for their plans (with their numbers). */
	struct dump_order *order;
	size_t seen;
	size_t waiting[LOOKUP_BATCH];
	struct lookup_batch batch;
	union {
		struct neigh neigh;
		struct route route;
	} pending[LOOKUP_BATCH];
};

/* What the kernel holds that is ours on a link, for the listing. */
struct view {
	struct ovl_link *link;
	struct table neighs;		/* ours: dst -> mac; indexed by dst */
	struct table fdbs;		/* ours: mac, dst */
	struct table nhs;		/* ours on this link: id, gw; by id */
	struct table routes;		/* ours for this link */
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

static inline size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* peer_prefix_cmp() == 0, with the sizes known to the compiler: the
 * lookups of a sync do this 50,000 times. */
static inline int prefix_same(const struct ovl_prefix *a, const struct ovl_prefix *b)
{
	if (a->family != b->family || a->len != b->len)
		return 0;
	return a->family == AF_INET6 ? !memcmp(a->addr, b->addr, 16) : !memcmp(a->addr, b->addr, 4);
}

/* ---- peer-index.c ------------------------------------------------------- */

/* Hashes of keys: a prefix, a MAC, a nexthop id. */
uint32_t peer_hash_prefix(const struct ovl_prefix *p);
uint32_t peer_hash_mac(const unsigned char mac[6]);
uint32_t peer_hash_id(uint32_t id);
/* Room for count items in t at once (no copies of a growing table); 0 or
 * -ENOMEM. */
int table_reserve(struct table *t, size_t count);
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
/* Adds key (hashed to hash) for a lookup in x; room for it is the caller's
 * to check. */
void lookup_batch_add(struct lookup_batch *b, const struct hash_index *x, uint32_t hash,
		      const void *key);
/* Fills found[] with each key's first item of t in x for which same(). */
void lookup_batch_resolve(struct lookup_batch *b, const struct hash_index *x,
			  const struct table *t, int (*same)(const void *item, const void *key));


/* ---- peer-view.c -------------------------------------------------------- */

int peer_prefix_cmp(const struct ovl_prefix *a, const struct ovl_prefix *b);
/* An address for a full-length prefix, else a prefix; "?" when neither. */
const char *peer_prefix_text(const struct ovl_prefix *p, char buf[OVL_PREFIX_STRLEN]);

/* Asks for dump what (only what can be ours on link) and hands each reply
 * to fn; restart as for netlink_query().  -EOPNOTSUPP, -EINVAL or
 * -EAFNOSUPPORT for nexthops: a kernel before 5.3. */
int peer_dump(struct ovl_link *link, enum peer_dump what, netlink_reply_fn fn,
	      netlink_restart_fn restart, void *arg);
/* A dump's reply as our neighbour (bridge: fdb entry) on link: 1 and *n,
 * else 0. */
int peer_parse_neigh(const struct ovl_link *link, const struct nlmsghdr *nlh, int bridge,
		     struct neigh *n);
/* A nexthop: 1 and its *id, *r filled when it is ours on link (r->oif set),
 * else r->oif 0; 0 when nlh is no nexthop. */
int peer_parse_nexthop(const struct ovl_link *link, const struct nlmsghdr *nlh, uint32_t *id,
		       struct route *r);
/* A route of ours (protocol, family, main table): 1 and *r, else 0. */
int peer_parse_route(const struct ovl_link *link, const struct nlmsghdr *nlh, struct route *r);
/* Whether a route without a nexthop object is link's: onlink on its device,
 * or direct on its underlay (inside the cluster network). */
int peer_route_on_link(const struct ovl_link *link, const struct route *r);
/* Indexes a table of nexthops (struct route) by id; 0 or -ENOMEM. */
int peer_nexthops_index(struct table *nhs);
/* The nexthop with id in an indexed table, or NULL. */
struct route *peer_nexthop_find(const struct table *nhs, uint32_t id);
/* What the kernel holds that is ours on this link, for the listing: each
 * table in dump order, the nexthops indexed by id, the neighbours by dst.
 * Only the routes when routes_only (no device to ask about). */
int peer_view_load(struct ovl_link *link, struct view *v, int routes_only);
void peer_view_free(struct view *v);
/* Our neighbour for dst, or NULL. */
struct neigh *peer_view_neigh(const struct view *v, const struct ovl_prefix *dst);

/* ---- peer-plan.c -------------------------------------------------------- */

/* Checks peer and fills p.  onlink: the addresses of every device when
 * DirectRouting is on; those of the underlay tell which peers share its
 * link. */
int peer_plan_one(struct ovl_link *link, const struct ovl_peer *peer, size_t index,
		  const struct device_addr *onlink, size_t onlink_count, struct plan *p);
/* All peers checked before anything is sent: one plan per peer, in their
 * order, in set (zeroed by the caller; freed with peer_plan_set_free,
 * also after a failure). */
int peer_plan_all(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		  struct plan_set *set);
void peer_plan_set_free(struct plan_set *set);
/* The plans of keys (a subnet, a gateway: struct ovl_prefix; a MAC: 6
 * bytes; the MAC's first overlay plan), a batch at a time: added to b,
 * then resolved. */
enum plan_key { PLAN_BY_SUBNET, PLAN_BY_GATEWAY, PLAN_BY_MAC };
void peer_plan_want(const struct plan_set *set, enum plan_key by, struct lookup_batch *b,
		    const void *key);
void peer_plan_resolve(const struct plan_set *set, enum plan_key by, struct lookup_batch *b);
/* Whether p is the plan a lookup of key would find. */
int peer_plan_is(const struct plan_set *set, enum plan_key by, const struct plan *p,
		 const void *key);
/* The first nexthop id to try for gw, and the one after id. */
uint32_t peer_nh_id_first(const struct ovl_link *link, const struct ovl_prefix *gw);
uint32_t peer_nh_id_next(uint32_t id);

/* ---- peer-cache.c ------------------------------------------------------- */

/* The checked plans of peers for a sync of link: those of its last sync
 * when the peers are the same (what that sync found cleared), else
 * peer_plan_all()'s.  *set belongs to the link (until its next sync or
 * ovl_link_free). */
struct peer_cache;
int peer_plans_get(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		   struct plan_set **set);
/* The sync is done with the set: freed unless the next can reuse it. */
void peer_plans_put(struct ovl_link *link);

/* ---- peer-diff.c -------------------------------------------------------- */

/* Reads what the kernel holds on link, matching each entry of ours with
 * the plans as it comes, and appends to run the requests that turn it
 * into the plans: stale routes out, then neighbours, fdb entries,
 * nexthops and routes in (a peer's route last, so the kernel never has to
 * resolve its gateway), then the other stale entries out.  d (zeroed by
 * the caller) holds the stale entries the requests name until
 * peer_diff_free(d). */
int peer_diff(struct ovl_link *link, struct plan_set *set, struct run *run, struct diff *d);
void peer_diff_free(struct diff *d);

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
