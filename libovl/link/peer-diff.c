/*
 * peer-diff.c - a sync's diff, made while the kernel's entries are read:
 * each neighbour, fdb entry, nexthop and route of ours is matched with the
 * plans as its dump replies come (hash lookups, a batch at a time), so
 * that what is kept costs no copy, no table and no second pass; only the
 * stale entries and our nexthops are kept, for the requests that follow.
 *
 * The nexthop dump is skipped when the last sync of the same plans left
 * every nexthop id known: the route dump shows each route's nexthop (its
 * gateway, device and onlink flag; net.ipv4.nexthop_compat_mode, on by
 * default), so the routes alone prove the nexthops they use.  The first
 * route amiss, a kernel that hides them, or every tenth sync (a nexthop
 * of ours that no route uses shows in no route) reads the nexthops as
 * before.  It was a sixth of a resync at 10,000 peers.
 */
#include <stddef.h>
#include <string.h>

#include "core/internal.h"
#include "link/peer.h"

static int keep(struct table *t, const void *entry)
{
	void *slot = table_add(t);

	if (!slot)
		return -ENOMEM;
	memcpy(slot, entry, t->size);
	return 0;
}

/* ---- batches ------------------------------------------------------------ */

/* What an entry of a dump means once its plan (or NULL) is known. */
typedef int (*apply_fn)(struct diff *d, void *entry, struct plan *p);

/* Syncs in a row that check the routes without reading the nexthops. */
#define ROUTES_ONLY_SYNCS 9

/* How many entries ahead a guessed plan's memory is fetched. */
#define AHEAD 16

/* The waiting entries' plans looked up together, then each applied (and
 * remembered for the next sync's guesses). */
static int flush(struct diff *d, enum plan_key by, apply_fn apply)
{
	struct plan *all = d->set->plans.items, *p;
	size_t i, count = d->batch.count;
	int err = 0;

	peer_plan_resolve(d->set, by, &d->batch);
	d->batch.count = 0;
	for (i = 0; i < count && !err; i++) {
		p = d->batch.found[i];
		d->order->plan[d->waiting[i]] = p ? (uint32_t)(p - all) : NO_PLAN;
		err = apply(d, &d->pending[i], p);
	}
	return err;
}

/* Room in the order for entry number k. */
static int order_room(struct dump_order *o, size_t k)
{
	size_t capacity = o->capacity ? o->capacity : 64;
	uint32_t *grown;

	if (k < o->capacity)
		return 0;
	while (capacity <= k)
		capacity *= 2;
	grown = realloc(o->plan, capacity * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	o->plan = grown;
	o->capacity = capacity;
	return 0;
}

/* The entry parsed into the next pending slot (key is inside it): applied
 * at once when it matches the plan the last sync's entry at its place
 * did, else it waits for a lookup; a full batch is flushed. */
static int queue(struct diff *d, enum plan_key by, const void *key, apply_fn apply)
{
	struct plan *all = d->set->plans.items;
	struct dump_order *o = d->order;
	size_t k = d->seen++;
	uint32_t guess = k < o->count ? o->plan[k] : NO_PLAN;

	if (k + AHEAD < o->count && o->plan[k + AHEAD] != NO_PLAN)
		__builtin_prefetch(&all[o->plan[k + AHEAD]]);
	if (guess != NO_PLAN && peer_plan_is(d->set, by, &all[guess], key))
		return apply(d, &d->pending[d->batch.count], &all[guess]);
	if (order_room(o, k) < 0)
		return -ENOMEM;
	d->waiting[d->batch.count] = k;
	peer_plan_want(d->set, by, &d->batch, key);
	return d->batch.count == LOOKUP_BATCH ? flush(d, by, apply) : 0;
}

/* The next pending slot, for the parser to fill. */
static void *next_pending(struct diff *d)
{
	return &d->pending[d->batch.count];
}

/* A dump, its last batch flushed. */
static int dump(struct diff *d, enum peer_dump what, netlink_reply_fn reply,
		netlink_restart_fn restart, enum plan_key by, apply_fn apply)
{
	int err;

	d->order = &d->set->orders[what];
	d->seen = 0;
	err = peer_dump(d->link, what, reply, restart, d);
	if (!err)
		err = flush(d, by, apply);
	/* Entries past the last dump's were remembered; an error leaves
	 * guesses, which are checked before use anyway. */
	if (!err)
		d->order->count = d->seen;
	return err;
}

/* An interrupted dump starts over: what it found so far is forgotten;
 * field is the plans' flag it set (an offset in struct plan). */
static void forget(struct diff *d, size_t field, struct table *kept)
{
	struct plan *all = d->set->plans.items;
	size_t i;

	for (i = 0; i < d->set->plans.count; i++)
		((unsigned char *)&all[i])[field] = 0;
	kept->count = 0;
	d->batch.count = 0;
	d->seen = 0;
}

/* ---- neighbours and fdb entries ------------------------------------------ */

static int apply_neigh(struct diff *d, void *entry, struct plan *p)
{
	const struct neigh *n = entry;

	if (!p || p->direct)
		return keep(&d->neighs, n);
	/* Another MAC is replaced by the add: not stale either way. */
	if (n->has_mac && !memcmp(n->mac, p->mac, 6))
		p->neigh_ok = 1;
	return 0;
}

static int neigh_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct diff *d = arg;
	struct neigh *n = next_pending(d);

	if (!peer_parse_neigh(d->link, nlh, 0, n))
		return 0;
	return queue(d, PLAN_BY_GATEWAY, &n->dst, apply_neigh);
}

static void neigh_restart(void *arg)
{
	struct diff *d = arg;

	forget(d, offsetof(struct plan, neigh_ok), &d->neighs);
}

static int apply_fdb(struct diff *d, void *entry, struct plan *p)
{
	const struct neigh *n = entry;

	/* The plans of one MAC share its public IP (peer_plan_all). */
	if (!p || !prefix_same(&n->dst, &p->public_ip))
		return keep(&d->fdbs, n);
	p->fdb_ok = 1;
	return 0;
}

static int fdb_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct diff *d = arg;
	struct neigh *n = next_pending(d);

	if (!peer_parse_neigh(d->link, nlh, 1, n))
		return 0;
	return queue(d, PLAN_BY_MAC, n->mac, apply_fdb);
}

static void fdb_restart(void *arg)
{
	struct diff *d = arg;

	forget(d, offsetof(struct plan, fdb_ok), &d->fdbs);
}

/* ---- nexthops ----------------------------------------------------------- */

/* A plan keeps the lowest id among our nexthops with its gateway. */
static int apply_nexthop(struct diff *d, void *entry, struct plan *p)
{
	struct route *r = entry;

	r->plan = p && !p->direct ? p : NULL;
	if (r->plan && (!r->plan->nh_id || r->nh_id < r->plan->nh_id))
		r->plan->nh_id = r->nh_id;
	return keep(&d->nhs, r);
}

static int nexthop_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct diff *d = arg;
	struct route *r = next_pending(d);
	uint32_t id;
	int err;

	if (!peer_parse_nexthop(d->link, nlh, &id, r))
		return 0;
	err = keep(&d->ids, &id);
	if (err || !r->oif)
		return err;
	return queue(d, PLAN_BY_GATEWAY, &r->gw, apply_nexthop);
}

static void nexthop_restart(void *arg)
{
	struct diff *d = arg;
	struct plan *all = d->set->plans.items;
	size_t i;

	for (i = 0; i < d->set->plans.count; i++)
		all[i].nh_id = 0;
	d->ids.count = 0;
	d->nhs.count = 0;
	d->batch.count = 0;
	d->seen = 0;
}

static int is_id(const void *item, const void *key)
{
	return *(const uint32_t *)item == *(const uint32_t *)key;
}

/* Our nexthop on the link with id, or NULL; -ENOMEM in *err (the
 * nexthops are indexed at the first question). */
static struct route *our_nexthop(struct diff *d, uint32_t id, int *err)
{
	if (!d->nhs.index.capacity && peer_nexthops_index(&d->nhs) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	return peer_nexthop_find(&d->nhs, id);
}

/* An id for p, taken (the ids in use indexed by index_ids): its own when
 * that is a nexthop of ours no plan uses (moved behind our back: replaced
 * in place, so its routes stay), else the first free one. */
static int pick_free_id(struct diff *d, struct plan *p)
{
	struct route *own;
	uint32_t *taken;
	int err = 0;

	p->nh_id = peer_nh_id_first(d->link, &p->gw);
	p->nh_fresh = 1;
	own = our_nexthop(d, p->nh_id, &err);
	if (err || (own && !own->plan)) {
		if (own)
			own->plan = p;
		return err;
	}
	while (table_find(&d->ids, peer_hash_id(p->nh_id), is_id, &p->nh_id))
		p->nh_id = peer_nh_id_next(p->nh_id);
	taken = table_add(&d->ids);
	if (!taken)
		return -ENOMEM;
	*taken = p->nh_id;
	hash_index_put(&d->ids.index, peer_hash_id(p->nh_id), d->ids.count - 1);
	return 0;
}

/* Indexes the ids in use, with room for one more per plan. */
static int index_ids(struct diff *d)
{
	size_t i;

	if (hash_index_reset(&d->ids.index, d->ids.count + d->set->plans.count) < 0)
		return -ENOMEM;
	for (i = 0; i < d->ids.count; i++)
		hash_index_put(&d->ids.index, peer_hash_id(((uint32_t *)d->ids.items)[i]), i);
	return 0;
}

/* Gives a free nexthop id to every overlay plan without one of ours (the
 * nexthop dump gave the others theirs). */
static int assign_ids(struct diff *d)
{
	struct plan *all = d->set->plans.items, *p;
	size_t i, fresh = 0;
	int err = 0;

	if (!d->nexthops)
		return 0;
	for (i = 0; i < d->set->plans.count && !err; i++) {
		p = &all[i];
		if (p->direct || p->nh_id)
			continue;
		/* The ids in use are indexed when the first new one is picked. */
		if (!fresh++)
			err = index_ids(d);
		if (!err)
			err = pick_free_id(d, p);
	}
	return err;
}

/* ---- routes ------------------------------------------------------------- */

/* Whether r, a route of ours with a nexthop object, goes via one of our
 * nexthops on the link: the planned one, else any (looked up by id, the
 * nexthops indexed at the first such question). */
static int via_our_nexthop(struct diff *d, const struct plan *p, const struct route *r)
{
	int err = 0;

	if (p && !p->nh_fresh && p->nh_id == r->nh_id)
		return 1;
	return our_nexthop(d, r->nh_id, &err) ? 1 : err;
}

static int route_is_planned(const struct diff *d, const struct plan *p, const struct route *r)
{
	const struct ovl_link *link = d->link;

	if (p->direct)
		return !r->nh_id && r->oif == link->underlay_ifindex &&
		       prefix_same(&r->gw, &p->public_ip);
	if (p->nh_id)
		return r->nh_id == p->nh_id;
	return !r->nh_id && r->oif == link->ifindex && prefix_same(&r->gw, &p->gw);
}

static int apply_route(struct diff *d, void *entry, struct plan *p)
{
	const struct route *r = entry;
	int ours = r->nh_id ? via_our_nexthop(d, p, r) : peer_route_on_link(d->link, r);

	if (ours <= 0)
		return ours;
	if (!p)
		return keep(&d->routes, r);
	/* A planned subnet's other route is replaced by the add. */
	if (route_is_planned(d, p, r))
		p->route_ok = 1;
	return 0;
}

static int apply_route_only(struct diff *d, void *entry, struct plan *p);

static int route_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct diff *d = arg;
	struct route *r = next_pending(d);

	if (!peer_parse_route(d->link, nlh, r))
		return 0;
	return queue(d, PLAN_BY_SUBNET, &r->dst, d->routes_only ? apply_route_only : apply_route);
}

static void route_restart(void *arg)
{
	struct diff *d = arg;

	forget(d, offsetof(struct plan, route_ok), &d->routes);
	d->amiss = 0;
}

/* A route checked against the nexthop ids the last sync left: one of
 * ours on the link that is not exactly its plan's (or no plan's) sends
 * the sync back to reading the nexthops, which sorts out why. */
static int apply_route_only(struct diff *d, void *entry, struct plan *p)
{
	const struct route *r = entry;
	const struct ovl_link *link = d->link;

	if (r->nh_id && !r->oif) {
		d->set->routes_hide_nexthops = 1;
		d->amiss = 1;
		return 0;
	}
	if (r->nh_id ? r->oif != link->ifindex : !peer_route_on_link(link, r))
		return 0;
	if (p && r->nh_id == p->nh_id && r->onlink && prefix_same(&r->gw, &p->gw))
		p->route_ok = 1;
	else
		d->amiss = 1;
	return 0;
}

/* The routes alone, when the last sync left the nexthop ids known: 1 when
 * each plan's route is there through its nexthop and nothing else of ours
 * is, 0 when the nexthops must be read (the plans' ids and what the routes
 * found are forgotten). */
static int check_routes_only(struct diff *d)
{
	struct plan_set *set = d->set;
	struct plan *all = set->plans.items;
	size_t i;
	int err;

	err = dump(d, DUMP_ROUTE, route_reply, route_restart, PLAN_BY_SUBNET, apply_route_only);
	if (err < 0)
		return err;
	for (i = 0; i < set->plans.count && !d->amiss; i++)
		if (!all[i].route_ok)
			d->amiss = 1;
	if (!d->amiss) {
		set->routes_only_syncs++;
		return 1;
	}
	route_restart(d);
	for (i = 0; i < set->plans.count; i++)
		all[i].nh_id = 0;
	return 0;
}

/* ---- the requests ------------------------------------------------------- */

static int requests(struct diff *d)
{
	struct plan *all = d->set->plans.items, *p;
	size_t i, count = d->set->plans.count;
	struct run *run = d->run;
	struct route *r;
	int err = 0;

	for (i = 0; i < d->routes.count && !err; i++)
		err = peer_run_add(run, OP_ROUTE, 1, NULL, NULL, (struct route *)d->routes.items + i);
	for (i = 0; i < count && !err; i++)
		if (!all[i].direct && !all[i].neigh_ok)
			err = peer_run_add(run, OP_NEIGH, 0, &all[i], NULL, NULL);
	for (i = 0; i < count && !err; i++)
		if (!all[i].direct && !all[all[i].first_of_mac].fdb_ok)
			err = peer_run_add(run, OP_FDB, 0, &all[i], NULL, NULL);
	for (i = 0; i < count && !err; i++)
		if (!all[i].direct && all[i].nh_fresh)
			err = peer_run_add(run, OP_NH, 0, &all[i], NULL, NULL);
	for (i = 0; i < count && !err; i++) {
		p = &all[i];
		if (!p->route_ok)
			err = peer_run_add(run, OP_ROUTE, 0, p, NULL, NULL);
	}
	for (i = 0; i < d->nhs.count && !err; i++) {
		r = (struct route *)d->nhs.items + i;
		if (!r->plan || r->plan->nh_id != r->nh_id)
			err = peer_run_add(run, OP_NH, 1, NULL, NULL, r);
	}
	for (i = 0; i < d->neighs.count && !err; i++)
		err = peer_run_add(run, OP_NEIGH, 1, NULL, (struct neigh *)d->neighs.items + i, NULL);
	for (i = 0; i < d->fdbs.count && !err; i++)
		err = peer_run_add(run, OP_FDB, 1, NULL, (struct neigh *)d->fdbs.items + i, NULL);
	return err;
}

int peer_diff(struct ovl_link *link, struct plan_set *set, struct run *run, struct diff *d)
{
	int err = 0;

	d->link = link;
	d->set = set;
	d->run = run;
	d->neighs.size = d->fdbs.size = sizeof(struct neigh);
	d->nhs.size = d->routes.size = sizeof(struct route);
	d->ids.size = sizeof(uint32_t);
	/* Sized for a nexthop per plan: the usual case, without copies. */
	if (!link->direct_only && (table_reserve(&d->nhs, set->plans.count) < 0 ||
				   table_reserve(&d->ids, set->plans.count) < 0))
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	d->routes_only = set->ids_known && !set->routes_hide_nexthops &&
			 set->routes_only_syncs < ROUTES_ONLY_SYNCS;
	set->ids_known = 0;
	/* A host-gw link has routes only. */
	if (!link->direct_only) {
		err = dump(d, DUMP_NEIGH, neigh_reply, neigh_restart, PLAN_BY_GATEWAY, apply_neigh);
		if (!err)
			err = dump(d, DUMP_FDB, fdb_reply, fdb_restart, PLAN_BY_MAC, apply_fdb);
		if (!err && d->routes_only) {
			err = check_routes_only(d);
			d->nexthops = d->routes_only = err > 0;
			if (d->routes_only)
				return requests(d);
		}
		if (!err) {
			set->routes_only_syncs = 0;
			err = dump(d, DUMP_NEXTHOP, nexthop_reply, nexthop_restart, PLAN_BY_GATEWAY,
				   apply_nexthop);
			d->nexthops = err == 0;
			/* Kernels before 5.3: classic routes instead. */
			if (err == -EOPNOTSUPP || err == -EINVAL || err == -EAFNOSUPPORT)
				err = 0;
		}
	}
	if (!err)
		err = assign_ids(d);
	if (!err)
		err = dump(d, DUMP_ROUTE, route_reply, route_restart, PLAN_BY_SUBNET, apply_route);
	if (err == -ENOMEM)
		return ctx_fail(link->ctx, err, "out of memory");
	if (err < 0)
		return ctx_fail_prefix(link->ctx, err, "%s: reading peers: ", link->name);
	err = requests(d);
	return err;
}

void peer_diff_free(struct diff *d)
{
	table_free(&d->neighs);
	table_free(&d->fdbs);
	table_free(&d->nhs);
	table_free(&d->ids);
	table_free(&d->routes);
}
