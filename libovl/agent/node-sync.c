/*
 * node-sync.c - the agent's data path: the table of other nodes' leases,
 * store events applied one by one, full resyncs that make the kernel match
 * the store (ovl_peer_sync), and the repair of a device that was deleted,
 * replaced or flapped (recreated with the same MAC, every peer replayed).
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

/* ------------------------------------------------------------ the table */

static struct node_peer *find_peer(struct ovl_node *node, const char *key)
{
	size_t i;

	for (i = 0; i < node->npeers; i++)
		if (!strcmp(node->peers[i].key, key))
			return &node->peers[i];
	return NULL;
}

static int same_peer(const struct node_peer *a, const struct node_peer *b)
{
	return a->valid == b->valid && !memcmp(a->text, b->text, sizeof(a->text));
}

size_t node_peer_count(const struct ovl_node *node)
{
	size_t i, count = 0;

	for (i = 0; i < node->npeers; i++)
		count += node->peers[i].valid && !node->peers[i].refused;
	return count;
}

size_t node_skipped_count(const struct ovl_node *node)
{
	return node->npeers - node_peer_count(node);
}

static void free_peers(struct node_peer *peers, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(peers[i].key);
	free(peers);
}

void node_peers_clear(struct ovl_node *node)
{
	free_peers(node->peers, node->npeers);
	node->peers = NULL;
	node->npeers = node->peers_size = 0;
}

static int append_peer(struct node_peer **peers, size_t *count, size_t *size,
		       const struct node_peer *peer, const char *key)
{
	struct node_peer *grown;

	if (*count == *size) {
		grown = realloc(*peers, (*size ? *size * 2 : 16) * sizeof(**peers));
		if (!grown)
			return -ENOMEM;
		*peers = grown;
		*size = *size ? *size * 2 : 16;
	}
	(*peers)[*count] = *peer;
	(*peers)[*count].key = strdup(key);
	if (!(*peers)[*count].key)
		return -ENOMEM;
	(*count)++;
	return 0;
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

static int plane_peers(const struct ovl_node *node, int plane,
		       struct ovl_peer **out, size_t *count)
{
	struct ovl_peer *peers;
	size_t i;

	*count = 0;
	peers = calloc(node->npeers ? node->npeers : 1, sizeof(*peers));
	if (!peers)
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	for (i = 0; i < node->npeers; i++) {
		const struct peer_text *text = &node->peers[i].text[plane];

		if (!node->peers[i].valid || !text->subnet[0] ||
		    node->peers[i].refused & 1u << plane)
			continue;
		peers[*count].subnet = text->subnet;
		peers[*count].public_ip = text->public_ip;
		peers[*count].mac = text->mac[0] ? text->mac : NULL;
		(*count)++;
	}
	*out = peers;
	return 0;
}

/* Before the first sync: name the entries of hosts that left while we were
 * not running, which the sync is about to remove. */
static void log_stale(struct ovl_node *node, int plane, const struct ovl_peer *peers,
		      size_t count)
{
	struct ovl_peer *installed;
	size_t n, i, j;

	if (ovl_peer_list(node->planes[plane].link, &installed, &n) < 0) {
		ctx_clear_error(node->ctx);
		return;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < count && strcmp(peers[j].subnet, installed[i].subnet); j++)
			;
		if (j == count)
			ctx_log(node->ctx, OVL_LOG_NOTICE,
				"stale peer %s via %s removed: no lease holds it", installed[i].subnet,
				installed[i].public_ip ? installed[i].public_ip : "-");
	}
	ovl_peers_free(installed, n);
}

static int sync_plane(struct ovl_node *node, int plane)
{
	struct ovl_peer *peers = NULL;
	size_t count;
	int err;

	err = plane_peers(node, plane, &peers, &count);
	if (err < 0)
		return err;
	if (!node->last_sync)
		log_stale(node, plane, peers, count);
	err = ovl_peer_sync(node->planes[plane].link, peers, count);
	free(peers);
	return err;
}

static void refuse(struct ovl_node *node, struct node_peer *peer, const char *key,
		   int plane, int err);
static int is_refusal(const struct ovl_node *node, int err);

/* Adds (add != 0) or deletes a peer's entries on every plane; a plane
 * the backend refuses the peer on is marked, not an error. */
static int apply_peer(struct ovl_node *node, struct node_peer *peer, const char *key,
		      int add)
{
	int i, err, first = 0;

	for (i = 0; i < node->nplanes; i++) {
		const struct peer_text *text = &peer->text[i];
		struct ovl_peer kernel = { text->subnet, text->public_ip,
					   text->mac[0] ? text->mac : NULL };

		if (!peer->valid || !text->subnet[0] || !node->planes[i].link ||
		    peer->refused & 1u << i)
			continue;
		err = add ? ovl_peer_add(node->planes[i].link, &kernel) :
			ovl_peer_del(node->planes[i].link, &kernel);
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
			used += snprintf(out + used, size - used, "%s%s via %s%s%s",
					 used ? ", " : "", peer->text[i].subnet,
					 peer->text[i].public_ip, peer->text[i].mac[0] ? " mac " : "",
					 peer->text[i].mac);
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
	for (i = 0; i < node->npeers; i++) {
		struct node_peer *peer = &node->peers[i];
		const struct peer_text *text = &peer->text[plane];
		struct ovl_peer kernel = { text->subnet, text->public_ip,
					   text->mac[0] ? text->mac : NULL };

		if (!peer->valid || !text->subnet[0] || peer->refused & 1u << plane)
			continue;
		err = ovl_peer_add(node->planes[plane].link, &kernel);
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
	old = find_peer(node, key);
	if (old && old->refused && !memcmp(old->text, fresh.text, sizeof(fresh.text)))
		return;		/* refused as it is: the resyncs retry it */
	if (old && same_peer(old, &fresh))
		return;
	if (!fresh.valid)
		ctx_log(node->ctx, OVL_LOG_WARNING, "skipping lease %s: %s", key, why);
	/* A changed subnet or MAC leaves entries the new ones do not replace. */
	if (old && old->valid && apply_peer(node, old, key, 0) < 0)
		kernel_failed(node, -EIO, "removing the old entries of a changed peer");
	if (fresh.valid) {
		err = apply_peer(node, &fresh, key, 1);
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
	} else if (append_peer(&node->peers, &node->npeers, &node->peers_size,
			       &fresh, key) < 0) {
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
	old = find_peer(node, key);
	if (!old)
		return;
	if (old->valid) {
		err = apply_peer(node, old, key, 0);
		describe(node, old, text, sizeof(text));
		if (err < 0)
			kernel_failed(node, err, "removing a peer");
		else
			ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s removed: %s", key, text);
	}
	free(old->key);
	*old = node->peers[--node->npeers];
}

void node_store_events_read(struct ovl_node *node)
{
	struct ovl_lease *lease;
	int event, err;

	while (node->watch) {
		err = ovl_watch_next(node->watch, &event, &lease);
		if (err == -EAGAIN)
			return;
		if (err < 0) {
			/* The data path stays; the next resync reopens the watch. */
			node_metrics_watch_failed(node, err);
			node_error(node, err, "store watch");
			ovl_watch_close(node->watch);
			node->watch = NULL;
			node->resync_at = node_now_ms() + node_backoff(&node->resync_backoff_ms);
			return;
		}
		if (event == OVL_WATCH_ADDED)
			on_added(node, lease);
		else if (event == OVL_WATCH_REMOVED)
			on_removed(node, lease);
		ovl_lease_free(lease);
	}
}

/* --------------------------------------------------------------- resync */

/* Logs what a resync changed compared with the table we had. */
static void log_changes(struct ovl_node *node, const struct node_peer *peers,
			size_t count)
{
	char text[256];
	size_t i;

	for (i = 0; i < count; i++) {
		struct node_peer *old = find_peer(node, peers[i].key);

		if ((old && same_peer(old, &peers[i])) || peers[i].was_refused)
			continue;
		describe(node, &peers[i], text, sizeof(text));
		if (peers[i].valid)
			ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s %s: %s", peers[i].key,
				old && old->valid ? "changed" : "added", text);
	}
	for (i = 0; i < node->npeers; i++) {
		size_t j;

		for (j = 0; j < count && strcmp(peers[j].key, node->peers[i].key); j++)
			;
		if (j == count && node->peers[i].valid) {
			describe(node, &node->peers[i], text, sizeof(text));
			ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s removed: %s",
				node->peers[i].key, text);
		}
	}
}

/* The store's listing as a new table; our own record checked on the way. */
static int listing_table(struct ovl_node *node, struct ovl_lease **leases,
			 size_t count, struct node_peer **out, size_t *npeers)
{
	struct node_peer *peers = NULL, fresh, *old;
	size_t size = 0, i;
	char why[512];
	int own_seen = 0;

	*npeers = 0;
	for (i = 0; i < count; i++) {
		const char *key = ovl_lease_key(leases[i]);

		if (!strcmp(key, ovl_lease_key(node->lease))) {
			own_seen = 1;
			own_record_changed(node, leases[i]);
			continue;
		}
		if (node_is_own_record(node, leases[i]))
			continue;
		evaluate(node, leases[i], &fresh, why, sizeof(why));
		old = find_peer(node, key);
		/* Tried again: the underlay may have changed. */
		fresh.was_refused = old && !memcmp(old->text, fresh.text, sizeof(fresh.text)) ?
			old->refused : 0;
		if (!fresh.valid && (!old || old->valid))
			ctx_log(node->ctx, OVL_LOG_WARNING, "skipping lease %s: %s", key, why);
		if (append_peer(&peers, npeers, &size, &fresh, key) < 0) {
			free_peers(peers, *npeers);
			return ctx_fail(node->ctx, -ENOMEM, "out of memory");
		}
	}
	if (!own_seen && !node->lease_lost)
		node_lease_lost(node, "its record is no longer in the store");
	*out = peers;
	return 0;
}

/* Refused records the kernel took this time (the underlay changed). */
static void log_accepted(struct ovl_node *node)
{
	char text[256];
	size_t i;

	for (i = 0; i < node->npeers; i++) {
		if (!node->peers[i].valid || !node->peers[i].was_refused ||
		    node->peers[i].refused)
			continue;
		node->peers[i].was_refused = 0;
		describe(node, &node->peers[i], text, sizeof(text));
		ctx_log(node->ctx, OVL_LOG_NOTICE, "peer %s added: %s", node->peers[i].key, text);
	}
}

/* The rest of a resync, once the store listed its records. */
static int resync_listed(struct ovl_node *node, struct ovl_lease **leases, size_t count)
{
	struct node_peer *peers = NULL, *old_peers;
	size_t npeers = 0, old_count;
	int err, i;

	err = listing_table(node, leases, count, &peers, &npeers);
	ovl_leases_free(leases, count);
	if (err < 0)
		return err;
	log_changes(node, peers, npeers);
	old_peers = node->peers;
	old_count = node->npeers;
	node->peers = peers;
	node->npeers = node->peers_size = npeers;
	free_peers(old_peers, old_count);
	for (i = 0; i < node->nplanes; i++) {
		if (!node->planes[i].link)
			continue;
		err = sync_plane(node, i);
		/* Without the peers the backend refuses, the rest goes in. */
		if (is_refusal(node, err) && refuse_bad_peers(node, i) > 0)
			err = sync_plane(node, i);
		if (err < 0) {
			node->metrics.netlink_errors++;
			node_error(node, err, "syncing peers");
			return err;
		}
	}
	log_accepted(node);
	node->last_sync = time(NULL);
	node_metrics_resync_done(node);
	node->resync_backoff_ms = 0;
	ctx_log(node->ctx, OVL_LOG_DEBUG, "resync: %zu peers, %zu skipped",
		node_peer_count(node), node_skipped_count(node));
	return 0;
}

int node_resync(struct ovl_node *node)
{
	struct ovl_lease **leases = NULL;
	size_t count = 0;
	int err = ovl_leases(node->store, &leases, &count);

	if (err < 0) {
		node_error(node, err, "listing the store");
		return err;
	}
	return resync_listed(node, leases, count);
}

/* The store's answer to node_resync_start: the masquerade rules are
 * checked on the same period (flannel: 5 s), and the next resync is due a
 * period from now, unless one was asked for meanwhile. */
static void listed(void *arg, int err, struct ovl_lease **leases, size_t count)
{
	struct ovl_node *node = arg;
	int64_t now = node_now_ms();

	node->listing = 0;
	node_metrics_store_result(node, STORE_LIST, err);
	if (err < 0)
		node_error(node, err, "listing the store");
	else
		err = resync_listed(node, leases, count);
	node_masq_ensure(node, 0);
	if (node->resync_at > node->listing_since)
		return;
	/* Without a watch (its reopening failed) the node is not ready:
	 * try again soon rather than a period from now. */
	node->resync_at = now + (err < 0 || node->masq_failed || !node->watch ?
				 node_backoff(&node->resync_backoff_ms) : node->resync_ms);
}

int node_resync_start(struct ovl_node *node)
{
	int err;

	if (!node->watch && node_watch_open(node, 1) < 0)
		node_error(node, -EIO, "reopening the store watch");
	err = store_async_list(node->requests, listed, node);
	if (err < 0) {
		node_error(node, err, "listing the store");
		return err;
	}
	node->listing = 1;
	node->listing_since = node_now_ms();
	return 0;
}

/* ---------------------------------------------------------- link events */

static void need_repair(struct node_plane *plane, const char *why)
{
	if (!plane->repair) {
		plane->repair = why;
		plane->repair_at = node_now_ms();
		plane->repair_backoff_ms = 0;
	}
}

void node_link_event(void *userdata, int event, int ifindex, const char *name,
		     unsigned int flags)
{
	struct ovl_node *node = userdata;
	int i;

	if (node->discarding_links)
		return;
	if (!node->backend->has_device) {
		/* No device to repair; an underlay set down loses our routes. */
		if (event == LINKWATCH_NEW && ifindex == node->underlay.ifindex) {
			if ((flags & IFF_UP) && !node->underlay_up) {
				ctx_log(node->ctx, OVL_LOG_NOTICE,
					"%s is up again: reinstalling the routes", name);
				node->resync_at = node_now_ms();
			}
			node->underlay_up = (flags & IFF_UP) != 0;
		}
		return;
	}
	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];

		if (event == LINKWATCH_DEL && ifindex == plane->ifindex) {
			need_repair(plane, "deleted");
		} else if (event == LINKWATCH_NEW && ifindex != plane->ifindex &&
			   !strcmp(name, plane->device)) {
			need_repair(plane, "replaced");
		} else if (event == LINKWATCH_NEW && ifindex == plane->ifindex) {
			/* Down and up again wipes the device's routes and
			 * permanent neighbours: a flap needs a replay too. */
			if (!(flags & IFF_UP))
				need_repair(plane, "set down");
			else if (!plane->known_up)
				need_repair(plane, "flapped");
			plane->known_up = (flags & IFF_UP) != 0;
		}
	}
}

void node_link_events_read(struct ovl_node *node)
{
	int err = linkwatch_read(node->links), i;

	if (err == -ENOBUFS && !node->backend->has_device) {
		node->resync_at = node_now_ms();
	} else if (err == -ENOBUFS) {
		for (i = 0; i < node->nplanes; i++)
			need_repair(&node->planes[i], "link events were lost");
	} else if (err < 0) {
		ctx_log(node->ctx, OVL_LOG_WARNING, "reading link events: %s",
			ovl_strerror(err));
	}
}

void node_link_events_discard(struct ovl_node *node)
{
	node->discarding_links = 1;
	linkwatch_read(node->links);
	node->discarding_links = 0;
}

int node_planes_need_repair(const struct ovl_node *node)
{
	int i;

	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].repair)
			return 1;
	return 0;
}

static int repair_plane(struct ovl_node *node, int i)
{
	struct node_plane *plane = &node->planes[i];
	int err, old_ifindex;

	/* A new subnet: start from a clean device rather than leave the old
	 * address (and what routes through it) behind. */
	if (!strcmp(plane->repair, "subnet changed") && plane->link) {
		err = ovl_link_down(plane->link);
		if (err < 0)
			return err;
	}
	old_ifindex = plane->ifindex;
	err = node_plane_up(node, plane);
	/* "down" is announced before a deletion; a new ifindex tells. */
	if (err == 0 && plane->ifindex != old_ifindex && !strcmp(plane->repair, "set down"))
		plane->repair = "deleted";
	if (err == 0)
		err = sync_plane(node, i);
	return err;
}

void node_repair_planes(struct ovl_node *node)
{
	int i, err, repaired = 0;
	int64_t now = node_now_ms();

	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];
		char what[64];

		if (!plane->repair || now < plane->repair_at)
			continue;
		repaired = 1;
		err = repair_plane(node, i);
		if (err < 0) {
			snprintf(what, sizeof(what), "repairing %s (%s)", plane->device,
				 plane->repair);
			node->metrics.netlink_errors++;
			node_error(node, err, what);
			plane->repair_at = node_now_ms() + node_backoff(&plane->repair_backoff_ms);
			continue;
		}
		ctx_log(node->ctx, OVL_LOG_NOTICE,
			"%s %s: brought back with %s%s%ssubnet %s, %zu peers replayed",
			plane->device, plane->repair, plane->mac[0] ? "MAC " : "", plane->mac,
			plane->mac[0] ? ", " : "", plane->subnet,
			node_peer_count(node));
		node->metrics.device_recreations++;
		plane->repair = NULL;
	}
	if (repaired)
		node_link_events_discard(node);
}
