/*
 * etcd-watch.c - the etcd store's watch without blocking: one curl multi
 * handle whose sockets and timer live in an epoll fd nested in the watch's
 * fd.  It lists the subnets (with each etcd lease's TTL, unless the watch
 * is alive_only: the agent's), hands the listing to watch_snapshot, then
 * streams changes from the listed revision + 1;
 * PUT -> ADDED, DELETE (also TTL expiry) -> REMOVED.  After a lost
 * connection it resumes from the last revision seen, after a backoff; when
 * etcd cancels the watch because that revision was compacted, it lists
 * again and watch_snapshot reports the difference (flannel's resync).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/etcd/etcd.h"
#include "store/http-watch.h"

#define TTL_CACHE_PRUNE 1024

struct queued {			/* an event waiting for its lease's TTL */
	int event;
	struct ovl_lease *lease;
};

struct ttl_entry {
	int64_t id;
	int64_t expiration;	/* 0: lookup in flight; -1: the lease is gone */
};

struct etcd_watch;
struct ttl_lookup {		/* one timetolive request in flight */
	struct etcd_watch *owner;
	int64_t id;
	struct etcd_request *request;
	struct ttl_lookup *next;
};

struct etcd_watch {
	struct http_watch base;		/* first: its ops get it back */
	struct ovl_watch *watch;
	struct etcd_store *store;
	struct ovl_ctx *ctx;
	struct etcd_request *range, *stream;
	struct ttl_lookup *lookups;
	int paging;			/* the listing's first page arrived, more follow */
	struct ovl_lease **listed;	/* the listing, waiting for TTLs */
	size_t listed_count;
	int64_t revision;		/* changes up to here are applied */
	size_t open_tries;
	struct queued *queue;
	size_t queue_head, queue_count, queue_cap;
	struct ttl_entry *ttls;
	size_t ttl_count, ttl_cap;
};

/* ---- events and their TTLs ----------------------------------------- */

static struct ttl_entry *ttl_find(struct etcd_watch *w, int64_t id)
{
	size_t i;

	for (i = 0; i < w->ttl_count; i++)
		if (w->ttls[i].id == id)
			return &w->ttls[i];
	return NULL;
}

static void ttl_done(void *arg, int err, json_t *reply);

/* Starts the lookup of id's TTL unless known or under way. */
static int ttl_request(struct etcd_watch *w, int64_t id)
{
	struct ttl_lookup *lookup;
	struct ttl_entry *grown;
	char text[24];
	int64_t now = time(NULL);
	size_t i, n = 0;
	int err;

	if (ttl_find(w, id))
		return 0;
	if (w->ttl_count >= TTL_CACHE_PRUNE) {
		for (i = 0; i < w->ttl_count; i++)
			if (!w->ttls[i].expiration || w->ttls[i].expiration > now)
				w->ttls[n++] = w->ttls[i];
		w->ttl_count = n;
	}
	if (w->ttl_count == w->ttl_cap) {
		grown = realloc(w->ttls, (w->ttl_cap * 2 + 16) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		w->ttls = grown;
		w->ttl_cap = w->ttl_cap * 2 + 16;
	}
	lookup = calloc(1, sizeof(*lookup));
	if (!lookup)
		return -ENOMEM;
	lookup->owner = w;
	lookup->id = id;
	snprintf(text, sizeof(text), "%lld", (long long)id);
	err = etcd_request_start(w->store->client, &w->base.loop, "/v3/lease/timetolive",
				 json_pack("{s:s}", "ID", text), 0, NULL, ttl_done, lookup,
				 &lookup->request);
	if (err < 0) {
		free(lookup);
		return err;
	}
	lookup->next = w->lookups;
	w->lookups = lookup;
	w->ttls[w->ttl_count].id = id;
	w->ttls[w->ttl_count].expiration = 0;
	w->ttl_count++;
	return 0;
}

/* 1 when lease's expiration is settled (set), 0 while its TTL is looked up,
 * -1 when its etcd lease is already gone. */
static int settle(struct etcd_watch *w, struct ovl_lease *lease)
{
	const struct ttl_entry *entry;

	if (!lease->store_id || w->watch->alive_only) {
		etcd_leases_alive(&lease, 1);
		return 1;
	}
	entry = ttl_find(w, (int64_t)lease->store_id);
	if (!entry || !entry->expiration)
		return 0;
	if (entry->expiration < 0)
		return -1;
	/* Past it yet the key lives: extended by a keepalive; ask again. */
	if (entry->expiration <= time(NULL)) {
		w->ttls[entry - w->ttls] = w->ttls[--w->ttl_count];
		return 0;
	}
	lease->expiration = entry->expiration;
	return 1;
}

static int enqueue(struct etcd_watch *w, int event, struct ovl_lease *lease)
{
	struct queued *grown;

	if (w->queue_head == w->queue_count)
		w->queue_head = w->queue_count = 0;
	if (w->queue_count == w->queue_cap) {
		grown = realloc(w->queue, (w->queue_cap * 2 + 16) * sizeof(*grown));
		if (!grown) {
			ovl_lease_free(lease);
			return -ENOMEM;
		}
		w->queue = grown;
		w->queue_cap = w->queue_cap * 2 + 16;
	}
	w->queue[w->queue_count].event = event;
	w->queue[w->queue_count].lease = lease;
	w->queue_count++;
	return 0;
}

static void queue_clear(struct etcd_watch *w)
{
	while (w->queue_head < w->queue_count)
		ovl_lease_free(w->queue[w->queue_head++].lease);
	w->queue_head = w->queue_count = 0;
}

/* One event of the stream into the queue.  Called inside libcurl's write
 * callback: it must not start requests. */
static int take_event(struct etcd_watch *w, const json_t *event)
{
	const json_t *kv, *prev_kv;
	struct ovl_lease *lease;
	char *key;
	size_t size, length = strlen(w->store->subnets);
	int deleted, err;

	err = etcd_event_parse(w->ctx, event, &deleted, &kv, &prev_kv);
	if (err < 0)
		return err;
	if (!deleted) {
		err = etcd_kv_lease(w->ctx, kv, w->store->subnets, &lease);
		if (!err)
			return enqueue(w, OVL_WATCH_ADDED, lease);
		if (err != -EINVAL)
			return err == -ENOENT ? 0 : err;
		/* No longer a valid lease: as good as removed. */
		ctx_log(w->ctx, OVL_LOG_WARNING, "etcd watch: %s", ovl_ctx_error(w->ctx));
	}
	err = etcd_bytes(kv, "key", &key, &size);
	if (err < 0)
		return ctx_fail(w->ctx, -EPROTO, "etcd watch: an event has a malformed key");
	lease = NULL;
	if (size > length && !strncmp(key, w->store->subnets, length)) {
		lease = lease_new();
		if (!lease) {
			free(key);
			return -ENOMEM;
		}
		/* watch_event reports a removal with the last known record, so
		 * the key is all it needs. */
		if (lease_key_parse(w->ctx, key + length, lease) < 0) {
			ovl_lease_free(lease);
			lease = NULL;
		}
	}
	free(key);
	return lease ? enqueue(w, OVL_WATCH_REMOVED, lease) : 0;
}


static int on_line(void *arg, const char *text, size_t length)
{
	struct etcd_watch *w = arg;
	struct etcd_watch_line line;
	json_error_t error;
	const json_t *event;
	json_t *root;
	size_t i;
	int err;

	err = ovl_json_parse(text, length, 0, &root, &error);
	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(w->ctx, -EPROTO, "etcd watch: malformed line: %s",
				error.text);
	err = etcd_watch_line_parse(w->ctx, root, &line);
	if (!err && line.kind == ETCD_LINE_CANCELED)
		err = ctx_fail(w->ctx, -ECANCELED, "etcd watch: cancelled by etcd "
			       "(compacted at revision %lld)", (long long)line.compact_revision);
	/* A stream created after a pause replaces a failed one. */
	if (!err && line.kind == ETCD_LINE_CREATED && http_watch_reconnected(&w->base))
		ctx_log(w->ctx, OVL_LOG_NOTICE, "etcd watch: reconnected, "
			"changes after revision %lld follow", (long long)w->revision);
	json_array_foreach(err ? NULL : line.events, i, event) {
		err = take_event(w, event);
		if (err < 0)
			break;
	}
	if (!err && line.revision > w->revision)
		w->revision = line.revision;
	json_decref(root);
	return err;
}

/* ---- the cycle: list, settle TTLs, snapshot, stream ------------------ */

static void listed_free(struct etcd_watch *w)
{
	ovl_leases_free(w->listed, w->listed_count);
	w->listed = NULL;
	w->listed_count = 0;
}

static void stream_done(void *arg, int err, json_t *reply)
{
	struct etcd_watch *w = arg;

	w->stream = NULL;
	http_watch_restart(&w->base, err);
}

static int start_stream(struct http_watch *base)
{
	struct etcd_watch *w = (struct etcd_watch *)base;
	char *end = etcd_prefix_end(w->store->subnets), from[24];
	json_t *request;

	if (!end)
		return -ENOMEM;
	snprintf(from, sizeof(from), "%lld", (long long)(w->revision + 1));
	request = json_pack("{s:{s:o, s:o, s:s, s:b, s:b}}", "create_request",
			    "key", etcd_b64(w->store->subnets), "range_end", etcd_b64(end),
			    "start_revision", from, "prev_kv", 1, "progress_notify", 1);
	free(end);
	return etcd_request_start(w->store->client, &w->base.loop, "/v3/watch", request, 0,
				  on_line, stream_done, w, &w->stream);
}

/* Delivers what is settled: the listing once all its TTLs are known, then
 * queued events in order up to the first still waiting for its TTL. */
static int advance(struct http_watch *base)
{
	struct etcd_watch *w = (struct etcd_watch *)base;
	size_t i, n;
	int err, settled;

	if (base->listing) {
		if (w->range)
			return 0;
		for (i = 0; i < w->listed_count; i++)
			if (!settle(w, w->listed[i]))
				return ttl_request(w, (int64_t)w->listed[i]->store_id);
		for (i = n = 0; i < w->listed_count; i++) {
			if (settle(w, w->listed[i]) < 0)
				ovl_lease_free(w->listed[i]);
			else
				w->listed[n++] = w->listed[i];
		}
		err = watch_snapshot(w->watch, w->listed, n, time(NULL));
		w->listed = NULL;
		w->listed_count = 0;
		http_watch_synced(base);
		if (err < 0)
			return err;
		err = start_stream(base);
		if (err < 0)
			return err;
	}
	while (w->queue_head < w->queue_count) {
		struct queued *next = &w->queue[w->queue_head];

		if (next->event == OVL_WATCH_ADDED) {
			settled = settle(w, next->lease);
			if (!settled) {
				err = ttl_request(w, (int64_t)next->lease->store_id);
				if (err < 0)
					return err;
				return 0;
			}
			if (settled < 0) {	/* expired already; DELETE follows */
				ovl_lease_free(next->lease);
				w->queue_head++;
				continue;
			}
		}
		w->queue_head++;
		err = watch_event(w->watch, next->event, next->lease);
		if (err < 0)
			return err;
	}
	return 0;
}

static void range_done(void *arg, int err, json_t *reply)
{
	struct etcd_watch *w = arg;
	int64_t revision;
	size_t i;

	w->range = NULL;
	if (!err)
		err = etcd_listing_append(w->ctx, reply, w->store->subnets, &w->listed,
					  &w->listed_count, &revision);
	/* The pages after the first are read at its revision: the stream
	 * follows from there. */
	if (!err && !w->paging)
		w->revision = revision;
	w->paging = !err && etcd_page_more(reply);
	if (w->paging) {
		err = etcd_request_start(w->store->client, &w->base.loop, "/v3/kv/range",
					 etcd_page_request(w->store->subnets, reply, w->revision),
					 0, NULL, range_done, w, &w->range);
		if (!err)
			return;
		w->paging = 0;
	}
	for (i = 0; !err && !w->watch->alive_only && i < w->listed_count; i++)
		if (w->listed[i]->store_id)
			err = ttl_request(w, (int64_t)w->listed[i]->store_id);
	if (err == -ENOMEM)
		http_watch_fail(&w->base, err);
	else if (err < 0)
		http_watch_restart(&w->base, err);
}

static void ttl_done(void *arg, int err, json_t *reply)
{
	struct ttl_lookup *lookup = arg, **link;
	struct etcd_watch *w = lookup->owner;
	struct ttl_entry *entry = ttl_find(w, lookup->id);
	int64_t ttl;

	for (link = &w->lookups; *link != lookup; link = &(*link)->next)
		;
	*link = lookup->next;
	if (!err) {
		err = etcd_ttl_parse(reply, &ttl);
		if (entry && (!err || err == -ENOENT))
			entry->expiration = err ? -1 : time(NULL) + ttl;
		if (err == -EPROTO)
			ctx_fail(w->ctx, err, "etcd watch: timetolive: malformed TTL");
	}
	if (err < 0 && err != -ENOENT) {
		/* Forget it so that the next listing asks again. */
		if (entry)
			*entry = w->ttls[--w->ttl_count];
		http_watch_restart(&w->base, err);
	}
	free(lookup);
}

static void cancel_requests(struct http_watch *base)
{
	struct etcd_watch *w = (struct etcd_watch *)base;

	etcd_request_cancel(&base->loop, w->stream);
	w->stream = NULL;
	etcd_request_cancel(&base->loop, w->range);
	w->range = NULL;
}

/* A fresh listing drops whatever the stream had queued.  An agent's watch
 * (alive only) opening right after the start listed the store takes that
 * listing and streams from its revision: at 10,000 records, one listing
 * less before the node is ready.  Its own acquisition since arrives as an
 * event. */
static int start_listing(struct http_watch *base)
{
	struct etcd_watch *w = (struct etcd_watch *)base;

	queue_clear(w);
	listed_free(w);
	w->paging = 0;
	if (!base->synced && w->watch->alive_only &&
	    etcd_recent_take(w->store, &w->listed, &w->listed_count, &w->revision))
		return advance(base);
	return etcd_request_start(w->store->client, &base->loop, "/v3/kv/range",
				  etcd_page_request(w->store->subnets, NULL, 0), 0, NULL, range_done,
				  w, &w->range);
}

/* The client moved on to the next endpoint: while opening, each is tried
 * once. */
static int open_again(struct http_watch *base, int err)
{
	struct etcd_watch *w = (struct etcd_watch *)base;

	return http_is_connection_error(err) &&
	       ++w->open_tries < w->store->client->endpoint_count;
}

static const struct http_watch_ops etcd_watch_ops = {
	.list = start_listing,
	.resume = start_stream,
	.cancel = cancel_requests,
	.advance = advance,
	.open_again = open_again,
};

/* ---- store_ops hooks ------------------------------------------------ */

void etcd_watch_close(struct ovl_watch *watch)
{
	struct etcd_watch *w = watch->state;
	struct ttl_lookup *lookup;

	if (!w)
		return;
	while ((lookup = w->lookups)) {
		w->lookups = lookup->next;
		etcd_request_cancel(&w->base.loop, lookup->request);
		free(lookup);
	}
	cancel_requests(&w->base);
	http_watch_cleanup(&w->base);
	queue_clear(w);
	free(w->queue);
	listed_free(w);
	free(w->ttls);
	free(w);
	watch->state = NULL;
}

/* Lists before returning, so that the first events are the snapshot and an
 * unreachable etcd is an error here rather than silence later. */
int etcd_watch_open(struct ovl_watch *watch)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	watch->state = w;
	w->watch = watch;
	w->store = watch->store->state;
	w->ctx = watch->store->ctx;
	err = http_watch_open(&w->base, &etcd_watch_ops, watch, "etcd watch",
			      2 * w->store->client->timeout_ms);
	if (err < 0)
		etcd_watch_close(watch);	/* store.c frees only its part */
	return err;
}

int etcd_watch_poll(struct ovl_watch *watch)
{
	struct etcd_watch *w = watch->state;

	return http_watch_poll(&w->base);
}
