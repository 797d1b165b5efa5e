/*
 * node-sync.c - the agent's data path: the table of other nodes' leases,
 * store events applied one by one (a burst in one batch), resyncs that make
 * the kernel match the store (ovl_peer_sync) and list the store only when
 * it changed.  The repair of devices is in node-repair.c.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "agent/node-backend.h"

struct peer_rules node_peer_rules(const struct ovl_node *node,
				  const struct node_plane *plane)
{
	struct peer_rules rules = {
		.family = plane->family,
		.network = ovl_config_network(node->config, plane->family),
		.own_subnet = plane->subnet[0] ? &plane->subnet_prefix : NULL,
		.backend_type = node->backend->name,
		.vni = ovl_config_vni(node->config),
	};

	if (node->backend->plane_rules)
		node->backend->plane_rules(node, plane, &rules);
	return rules;
}

const char *node_plane_subnet(const struct ovl_node *node, int family)
{
	int i;

	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].family == family)
			return node->planes[i].subnet;
	return NULL;
}

/* Store events applied to the kernel one at a time, per read, before the
 * rest of a burst is synced in one go: a sync dumps every entry (about a
 * tenth of the cost of adding one per peer of the table), so it pays only
 * for bursts of more than a tenth of the table. */
#define EVENTS_ONE_BY_ONE 32
static size_t events_one_by_one(const struct ovl_node *node)
{
	return node->peers.count / 10 > EVENTS_ONE_BY_ONE ? node->peers.count / 10 :
	       EVENTS_ONE_BY_ONE;
}

/* ------------------------------------------------------------ the table */

static int same_peer(const struct node_peer *a, const struct node_peer *b)
{
	return a->valid == b->valid && !memcmp(a->text, b->text, sizeof(a->text));
}

size_t node_peer_count(const struct ovl_node *node)
{
	size_t i, count = 0;

	for (i = 0; i < node->peers.count; i++)
		count += node->peers.items[i].valid && !node->peers.items[i].refused;
	return count;
}

void node_peers_clear(struct ovl_node *node)
{
	peer_table_clear(&node->peers);
}

/* The lease as a peer of every plane.  A record that fails any check is
 * kept as invalid (so it is logged once), with the reason in why. */
static void evaluate(struct ovl_node *node, const struct ovl_lease *lease,
		     struct node_peer *peer, char *why, size_t size)
{
	int i, err, any = 0;

	memset(peer, 0, sizeof(*peer));
	snprintf(why, size, "no subnet of an enabled family");
	for (i = 0; i < node->nplanes; i++) {
		struct peer_rules rules = node_peer_rules(node, &node->planes[i]);

		err = peer_from_lease(node->ctx, &rules, lease, &peer->text[i]);
		if (err == -ENOENT)
			continue;
		if (err < 0) {
			snprintf(why, size, "%s", ovl_ctx_error(node->ctx));
			ctx_clear_error(node->ctx);
			memset(peer->text, 0, sizeof(peer->text));
			return;
		}
		any = 1;
	}
	peer->valid = any;
}

/* ------------------------------------------------------- kernel changes */

/* The kernel's view of a peer's text (struct ovl_peer_v2 carries the
 * wireguard key); the strings stay text's. */
static struct ovl_peer_v2 kernel_peer(const struct peer_text *text, unsigned int flags)
{
	struct ovl_peer_v2 peer = OVL_PEER_V2_INIT;

	peer.flags = flags;
	peer.subnet = text->subnet;
	peer.public_ip = text->public_ip;
	peer.mac = text->mac[0] ? text->mac : NULL;
	peer.public_key = text->public_key[0] ? text->public_key : NULL;
	peer.port = text->port;
	return peer;
}

/* The peers of every plane the link of plane carries. */
static int plane_peers(const struct ovl_node *node, int plane, unsigned int flags,
		       struct ovl_peer_v2 **out, size_t *count)
{
	struct ovl_peer_v2 *peers;
	size_t i;
	int j;

	*count = 0;
	peers = calloc(node->peers.count ? node->peers.count * node->nplanes : 1,
		       sizeof(*peers));
	if (!peers)
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < node->peers.count; i++) {
		const struct node_peer *peer = &node->peers.items[i];

		for (j = 0; j < node->nplanes; j++) {
			const struct peer_text *text = &peer->text[j];

			if (node->planes[j].carrier != plane || !peer->valid ||
			    !text->subnet[0] || peer->refused & 1u << j)
				continue;
			peers[(*count)++] = kernel_peer(text, flags);
		}
	}
	*out = peers;
	return 0;
}

static int compare_texts(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Before the first sync: name the entries of hosts that left while we were
 * not running, which the sync is about to remove. */
static void log_stale(struct ovl_node *node, int plane, const struct ovl_peer_v2 *peers,
		      size_t count)
{
	struct ovl_peer *installed;
	const char **subnets;
	size_t n, i;

	if (ovl_peer_list(node->planes[plane].link, &installed, &n) < 0) {
		ctx_clear_error(node->ctx);
		return;
	}
	subnets = calloc(count ? count : 1, sizeof(*subnets));
	for (i = 0; subnets && i < count; i++)
		subnets[i] = peers[i].subnet;
	if (subnets)
		qsort(subnets, count, sizeof(*subnets), compare_texts);
	for (i = 0; subnets && i < n; i++)
		if (!bsearch(&installed[i].subnet, subnets, count, sizeof(*subnets),
			     compare_texts))
			ctx_log(node->ctx, OVL_LOG_NOTICE,
				"stale peer %s via %s removed: no lease holds it", installed[i].subnet,
				installed[i].public_ip ? installed[i].public_ip : "-");
	free(subnets);
	ovl_peers_free(installed, n);
}

int node_sync_plane(struct ovl_node *node, int plane, unsigned int flags)
{
	struct ovl_peer_v2 *peers = NULL;
	size_t count;
	int err;

	/* A carried plane's peers are its carrier's sync. */
	if (node->planes[plane].carrier != plane)
		return 0;
	err = plane_peers(node, plane, flags, &peers, &count);
	if (err < 0)
		return err;
	if (!node->last_sync)
		log_stale(node, plane, peers, count);
	err = ovl_peer_v2_sync(node->planes[plane].link, peers, count);
	free(peers);
	return err;
}

static void refuse(struct ovl_node *node, struct node_peer *peer, const char *key,
		   int plane, int err);
static int is_refusal(const struct ovl_node *node, int err);

/* Adds (add != 0, with flags) or deletes a peer's entries on every plane;
 * a plane the backend refuses the peer on is marked, not an error. */
static int apply_peer(struct ovl_node *node, struct node_peer *peer, const char *key,
		      int add, unsigned int flags)
{
	int i, err, first = 0;

	if (node->batching) {
		node->kernel_behind = 1;
		return 0;
	}
	for (i = 0; i < node->nplanes; i++) {
		const struct peer_text *text = &peer->text[i];
		struct ovl_peer_v2 kernel = kernel_peer(text, flags);
		struct ovl_link *link = node_plane_link(node, i);

		if (!peer->valid || !text->subnet[0] || !link || peer->refused & 1u << i)
			continue;
		err = add ? ovl_peer_v2_add(link, &kernel) : ovl_peer_v2_del(link, &kernel);
		if (add && is_refusal(node, err))
			refuse(node, peer, key, i, err);
		else if (err < 0 && !first)
			first = err;
	}
	return first;
}

static void describe(const struct ovl_node *node, const struct node_peer *peer,
		     char *out, size_t size)
{
	int i, used = 0;

	out[0] = '\0';
	for (i = 0; i < node->nplanes && used >= 0 && (size_t)used < size; i++)
		if (peer->text[i].subnet[0])
			used += snprintf(out + used, size - used, "%s%s via %s%s%s%s%s",
					 used ? ", " : "", peer->text[i].subnet,
					 peer->text[i].public_ip, peer->text[i].mac[0] ? " mac " : "",
					 peer->text[i].mac,
					 peer->text[i].public_key[0] ? " key " : "",
					 peer->text[i].public_key);
}

/* A kernel change failed: resync soon instead of trusting the table. */
static void kernel_failed(struct ovl_node *node, int err, const char *what)
{
	node->metrics.netlink_errors++;
	node_error(node, err, what);
	node->resync_at = node_now_ms() + node_backoff(&node->resync_backoff_ms);
}

/* A valid record the backend refuses (host-gw: its public IP is not
 * on-link, or its subnet holds an address of ours) is skipped like a bad
 * record: logged with its key once, counted as skipped, retried on every
 * resync in case the underlay changed. */
static int is_refusal(const struct ovl_node *node, int err)
{
	return node->backend->refuses_peer && node->backend->refuses_peer(err);
}

static void refuse(struct ovl_node *node, struct node_peer *peer, const char *key,
		   int plane, int err)
{
	if (!((peer->refused | peer->was_refused) & 1u << plane))
		ctx_log(node->ctx, OVL_LOG_WARNING, "skipping lease %s: %s", key,
			*ovl_ctx_error(node->ctx) ? ovl_ctx_error(node->ctx) :
			ovl_strerror(err));
	ctx_clear_error(node->ctx);
	peer->refused |= 1u << plane;
}

/* After ovl_peer_sync refused the set: adds peer by peer to find those the
 * backend refuses; the number refused. */
static int refuse_bad_peers(struct ovl_node *node, int plane)
{
	int refused = 0, err;
	size_t i;

	ctx_clear_error(node->ctx);
	for (i = 0; i < node->peers.count; i++) {
		struct node_peer *peer = &node->peers.items[i];
		const struct peer_text *text = &peer->text[plane];
		struct ovl_peer_v2 kernel = kernel_peer(text, 0);

		if (!peer->valid || !text->subnet[0] || peer->refused & 1u << plane)
			continue;
		err = ovl_peer_v2_add(node->planes[plane].link, &kernel);
		if (is_refusal(node, err)) {
			refuse(node, peer, peer->key, plane, err);
			refused++;
		}
		ctx_clear_error(node->ctx);
	}
	return refused;
}

/* ---------------------------------------------------------- store events */

static void own_record_changed(struct ovl_node *node, const struct ovl_lease *lease)
{
	char why[160];

	if (node->lease_lost || node_is_own_record(node, lease))
		return;
	snprintf(why, sizeof(why), "taken by %s %s",
		 ovl_lease_node_name(lease) ? "node" : "public IP",
		 ovl_lease_node_name(lease) ? ovl_lease_node_name(lease) :
		 ovl_lease_public_ip(lease, AF_INET) ? ovl_lease_public_ip(lease, AF_INET) : "?");
	node_lease_lost(node, why);
}

static int key_changed(const struct ovl_node *node, const struct node_peer *old,
		       const struct node_peer *fresh)
{
	int i;

	for (i = 0; i < node->nplanes; i++)
		if (old->text[i].public_key[0] && fresh->text[i].public_key[0] &&
		    strcmp(old->text[i].public_key, fresh->text[i].public_key))
			return 1;
	return 0;
}

static void on_added(struct ovl_node *node, const struct ovl_lease *lease)
{
	const char *key = ovl_lease_key(lease);
	struct node_peer fresh, *old;
	char why[512], text[256];
	int err;

	if (!strcmp(key, ovl_lease_key(node->lease))) {
		own_record_changed(node, lease);
		return;
	}
	if (node_is_own_record(node, lease))
		return;		/* an older record of ours: not a peer */
	evaluate(node, lease, &fresh, why, sizeof(why));
	old = peer_table_find(&node->peers, key);
	if (old && old->refused && !memcmp(old->text, fresh.text, sizeof(fresh.text)))
		return;		/* refused as it is: the resyncs retry it */
	if (old && same_peer(old, &fresh))
		return;
	if (!fresh.valid)
		ctx_log(node->ctx, OVL_LOG_WARNING, "skipping lease %s: %s", key, why);
	/* A changed subnet or MAC leaves entries the new ones do not replace. */
	if (old && old->valid && apply_peer(node, old, key, 0, 0) < 0)
		kernel_failed(node, -EIO, "removing the old entries of a changed peer");
	if (fresh.valid) {
		/* A new key (rotated): the peer's side has traffic for us held
		 * back and cannot handshake again for 5 s; ours starts it. */
		err = apply_peer(node, &fresh, key, 1,
				 old && old->valid && key_changed(node, old, &fresh) ?
				 OVL_PEER_HANDSHAKE : 0);
		describe(node, &fresh, text, sizeof(text));
		if (err < 0)
			kernel_failed(node, err, "adding a peer");
		else if (!fresh.refused)
			ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s %s: %s", key,
				old && old->valid ? "changed" : "added", text);
	}
	if (old) {
		fresh.key = old->key;
		*old = fresh;
	} else if (peer_table_add(&node->peers, &fresh, key) < 0) {
		kernel_failed(node, -ENOMEM, "peer table");
	}
}

static void on_removed(struct ovl_node *node, const struct ovl_lease *lease)
{
	const char *key = ovl_lease_key(lease);
	struct node_peer *old;
	char text[256];
	int err;

	if (!strcmp(key, ovl_lease_key(node->lease))) {
		if (!node->lease_lost)
			node_lease_lost(node, "its record was deleted or expired");
		return;
	}
	old = peer_table_find(&node->peers, key);
	if (!old)
		return;
	if (old->valid) {
		err = apply_peer(node, old, key, 0, 0);
		describe(node, old, text, sizeof(text));
		if (err < 0)
			kernel_failed(node, err, "removing a peer");
		else
			ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s removed: %s", key, text);
	}
	peer_table_remove(&node->peers, old);
}

static int kernel_sync(struct ovl_node *node);

/* Applies the watch's pending events: the first one_by_one to the kernel
 * each, the rest of a burst (many nodes joining or leaving at once) to the
 * table only, leaving kernel_behind set for one batched sync. */
static void read_events(struct ovl_node *node, size_t one_by_one)
{
	struct ovl_lease *lease;
	size_t applied = 0;
	int event, err;

	while (node->watch) {
		err = ovl_watch_next(node->watch, &event, &lease);
		if (err == -EAGAIN)
			break;
		if (err < 0) {
			/* The data path stays; the next resync reopens the watch. */
			node_metrics_watch_failed(node, err);
			node_error(node, err, "store watch");
			ovl_watch_close(node->watch);
			node->watch = NULL;
			node->table_watch = 0;
			node->resync_at = node_now_ms() + node_backoff(&node->resync_backoff_ms);
			break;
		}
		node->batching = ++applied > one_by_one;
		if (event == OVL_WATCH_ADDED)
			on_added(node, lease);
		else if (event == OVL_WATCH_REMOVED)
			on_removed(node, lease);
		ovl_lease_free(lease);
	}
	node->batching = 0;
}

void node_store_events_read(struct ovl_node *node)
{
	read_events(node, events_one_by_one(node));
	if (node->kernel_behind) {
		node->kernel_behind = 0;
		/* kernel_sync logged why; the table is right, retry soon. */
		if (kernel_sync(node) < 0)
			node->resync_at = node_now_ms() + node_backoff(&node->resync_backoff_ms);
	}
}

/* --------------------------------------------------------------- resync */

/* Logs what a resync changed compared with the table we had. */
static void log_changes(struct ovl_node *node, const struct peer_table *fresh)
{
	const struct node_peer *peer, *old;
	char text[256];
	size_t i;

	for (i = 0; i < fresh->count; i++) {
		peer = &fresh->items[i];
		old = peer_table_find(&node->peers, peer->key);
		if ((old && same_peer(old, peer)) || peer->was_refused || !peer->valid)
			continue;
		describe(node, peer, text, sizeof(text));
		ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s %s: %s", peer->key,
			old && old->valid ? "changed" : "added", text);
	}
	for (i = 0; i < node->peers.count; i++) {
		old = &node->peers.items[i];
		if (!old->valid || peer_table_find(fresh, old->key))
			continue;
		describe(node, old, text, sizeof(text));
		ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s removed: %s", old->key, text);
	}
}

/* The store's listing as a new table; our own record checked on the way. */
static int listing_table(struct ovl_node *node, struct ovl_lease **leases,
			 size_t count, struct peer_table *table)
{
	struct node_peer fresh, *old;
	char why[512];
	int own_seen = 0;
	size_t i;

	if (peer_table_reserve(table, count) < 0)
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		const char *key = ovl_lease_key(leases[i]);

		if (!strcmp(key, ovl_lease_key(node->lease))) {
			own_seen = 1;
			own_record_changed(node, leases[i]);
			continue;
		}
		if (node_is_own_record(node, leases[i]) || peer_table_find(table, key))
			continue;
		evaluate(node, leases[i], &fresh, why, sizeof(why));
		old = peer_table_find(&node->peers, key);
		/* Tried again: the underlay may have changed. */
		fresh.was_refused = old && !memcmp(old->text, fresh.text, sizeof(fresh.text)) ?
			old->refused : 0;
		if (!fresh.valid && (!old || old->valid))
			ctx_log(node->ctx, OVL_LOG_WARNING, "skipping lease %s: %s", key, why);
		if (peer_table_add(table, &fresh, key) < 0) {
			peer_table_clear(table);
			return ctx_fail(node->ctx, -ENOMEM, "out of memory");
		}
	}
	if (!own_seen && !node->lease_lost)
		node_lease_lost(node, "its record is no longer in the store");
	return 0;
}

/* Refused records the kernel took this time (the underlay changed).  Only
 * a backend that refuses peers has any: the others skip a pass over the
 * table (10,000 cold records on every resync). */
static void log_accepted(struct ovl_node *node)
{
	char text[256];
	size_t i;

	for (i = 0; node->backend->refuses_peer && i < node->peers.count; i++) {
		struct node_peer *peer = &node->peers.items[i];

		if (!peer->valid || !peer->was_refused || peer->refused)
			continue;
		peer->was_refused = 0;
		describe(node, peer, text, sizeof(text));
		ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s added: %s", peer->key, text);
	}
}

/* Makes the kernel hold the table's valid peers (one dump and diff per
 * plane, sent in batches), retrying the peers the backend refused. */
static int kernel_sync(struct ovl_node *node)
{
	int err, i;

	for (i = 0; i < node->nplanes; i++) {
		if (!node->planes[i].link)
			continue;
		err = node_sync_plane(node, i, 0);
		/* Without the peers the backend refuses, the rest goes in. */
		if (is_refusal(node, err) && refuse_bad_peers(node, i) > 0)
			err = node_sync_plane(node, i, 0);
		if (err < 0) {
			node->metrics.netlink_errors++;
			node_error(node, err, "syncing peers");
			return err;
		}
	}
	log_accepted(node);
	return 0;
}

/* The kernel side of a resync, once the table is right. */
static int resync_kernel(struct ovl_node *node)
{
	int err = kernel_sync(node);
	size_t installed;

	if (err < 0)
		return err;
	node->last_sync = time(NULL);
	node_metrics_resync_done(node);
	node->resync_backoff_ms = 0;
	installed = node_peer_count(node);
	ctx_log(node->ctx, OVL_LOG_DEBUG, "resync: %zu peers, %zu skipped", installed,
		node->peers.count - installed);
	return 0;
}

/* The rest of a resync, once the store listed its records. */
static int resync_listed(struct ovl_node *node, struct ovl_lease **leases, size_t count)
{
	struct peer_table fresh = { 0 };
	int err;

	err = listing_table(node, leases, count, &fresh);
	ovl_leases_free(leases, count);
	if (err < 0)
		return err;
	/* Events read before the listing came may be newer than it and are
	 * gone with the old table: the watch no longer vouches for it. */
	node->table_watch = 0;
	node->watch_behind = 0;
	node->metrics.listings++;
	log_changes(node, &fresh);
	peer_table_clear(&node->peers);
	node->peers = fresh;
	return resync_kernel(node);
}

int node_resync(struct ovl_node *node)
{
	struct ovl_lease **leases = NULL;
	size_t count = 0;
	int err;

	/* A watch just opened holds the store's listing as events: taken as
	 * the table, the store is listed once at start, not twice. */
	if (node->watch && !node->last_sync) {
		read_events(node, 0);
		node->kernel_behind = 0;
		node->table_watch = node->watch ? node->watch_number : 0;
		if (node->watch)
			return resync_kernel(node);
	}
	err = store_list_alive(node->store, &leases, &count);
	if (err < 0) {
		node_error(node, err, "listing the store");
		return err;
	}
	return resync_listed(node, leases, count);
}

/* The end of a resync node_resync_start began: the masquerade rules are
 * checked on the same period (flannel: 5 s), and the next resync is due a
 * period from now, unless one was asked for meanwhile. */
static void resync_finished(struct ovl_node *node, int err)
{
	int64_t now = node_now_ms();

	node->listing = 0;
	node_masq_ensure(node, 0);
	if (node->resync_at > node->listing_since)
		return;
	/* Without a watch (its reopening failed) the node is not ready:
	 * try again soon rather than a period from now. */
	node->resync_at = now + (err < 0 || node->masq_failed || !node->watch ?
				 node_backoff(&node->resync_backoff_ms) : node->resync_ms);
}

static void listed(void *arg, int err, struct ovl_lease **leases, size_t count)
{
	struct ovl_node *node = arg;

	node_metrics_store_result(node, STORE_LIST, err);
	if (err < 0)
		node_error(node, err, "listing the store");
	else
		err = resync_listed(node, leases, count);
	resync_finished(node, err);
}

/* Whether the store, as checked() was told, calls for a listing.  The
 * table is the last listing or, once a watch vouched for it, that watch's
 * view (its first listing, or a listing it matched, and every event since):
 * a store that matches either has not changed for the table.  A watch
 * behind the store gets one period to catch up (it lags by the events in
 * flight: a resync during a burst of joins), not two; one the store says
 * stopped following gets none. */
static int must_list(struct ovl_node *node, int changed)
{
	int watch_alive = node->watch && node->asked_watch &&
			  node->asked_watch == node->watch_number;
	int watch_same = watch_alive && !(changed & STORE_CHANGED_SINCE_WATCH);
	int table_is_watch = watch_alive && node->table_watch == node->asked_watch;

	if (changed & STORE_WATCH_STOPPED)
		return 1;
	if (!(changed & STORE_CHANGED_SINCE_LISTING) || (table_is_watch && watch_same)) {
		/* The table is the store now: a watch that matches it too
		 * vouches for it from here on. */
		if (watch_same) {
			node->table_watch = node->asked_watch;
			node->watch_behind = 0;
		}
		return 0;
	}
	return !table_is_watch || node->watch_behind++;
}

/* The store's answer to whether anything changed (see must_list): when
 * not, the table stands and only the kernel is compared with it, refused
 * peers tried again; while the watch keeps up, changes in the store cost
 * no listing of every record. */
static void checked(void *arg, int err, int changed)
{
	struct ovl_node *node = arg;
	size_t i;

	if (!err && must_list(node, changed) &&
	    !(err = store_async_list(node->requests, listed, node)))
		return;
	if (err < 0) {
		node_error(node, err, "listing the store");
	} else {
		for (i = 0; node->backend->refuses_peer && i < node->peers.count; i++) {
			node->peers.items[i].was_refused = node->peers.items[i].refused;
			node->peers.items[i].refused = 0;
		}
		err = resync_kernel(node);
	}
	resync_finished(node, err);
}

int node_resync_start(struct ovl_node *node)
{
	int err;

	if (!node->watch && node_watch_open(node, 1) < 0)
		node_error(node, -EIO, "reopening the store watch");
	node->asked_watch = node->watch ? node->watch_number : 0;
	err = store_async_changed(node->requests, node->watch, checked, node);
	if (err == -EOPNOTSUPP)
		err = store_async_list(node->requests, listed, node);
	if (err < 0) {
		node_error(node, err, "listing the store");
		return err;
	}
	node->listing = 1;
	node->listing_since = node_now_ms();
	return 0;
}
