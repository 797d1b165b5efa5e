/*
 * kube-watch.c - the kube store's watch without blocking, as an informer
 * does it: list the Nodes (paged with limit/continue) and hand the leases
 * to watch_snapshot, then watch from the listing's resourceVersion with
 * bookmarks.  ADDED/MODIFIED of a managed node -> ADDED (watch.c drops
 * updates that change nothing of the lease, such as kubelet heartbeats);
 * DELETED, or a node no longer managed -> REMOVED.  A dropped stream
 * resumes from the last resourceVersion seen after a backoff; 410 Gone
 * (that version was compacted) lists again and watch_snapshot reports the
 * difference.  Everything runs on an http_loop nested in the watch's fd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/http-watch.h"
#include "store/kube/kube.h"

/* The server ends each watch after this long (client-go picks 5-10 min);
 * a silent server is given a minute more before the stream is dropped. */
#define WATCH_SECONDS 300
#define WATCH_GRACE_MS 60000

/* The key each managed node's lease was last reported under. */
struct node_key {
	char *name;
	char key[sizeof(((struct ovl_lease *)0)->key)];
};

struct kube_watch {
	struct http_watch base;		/* first: its ops get it back */
	struct ovl_watch *watch;
	struct kube_store *store;
	struct ovl_ctx *ctx;
	struct kube_request *page, *stream;
	int following;			/* counted in store->watches_following */
	struct ovl_lease **listed;
	size_t listed_count;
	char *continue_token;
	char *resource_version;		/* changes up to here are applied */
	struct node_key *keys;
	size_t key_count, key_cap;
};

/* Counts this watch among the store's followers, whose events keep a
 * listing current (kube_async_changed), from its first listing until it
 * fails or closes. */
static void follow(struct kube_watch *w, int following)
{
	if (w->following == following)
		return;
	w->following = following;
	if (following) {
		w->store->watches_following++;
	} else {
		w->store->watches_following--;
		w->store->watches_stopped++;
	}
}

/* ---- node name -> key --------------------------------------------------- */

static struct node_key *key_find(struct kube_watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->key_count; i++)
		if (!strcmp(w->keys[i].name, name))
			return &w->keys[i];
	return NULL;
}

static void key_drop(struct kube_watch *w, struct node_key *entry)
{
	free(entry->name);
	*entry = w->keys[--w->key_count];
}

static void keys_clear(struct kube_watch *w)
{
	while (w->key_count)
		key_drop(w, &w->keys[w->key_count - 1]);
}

static int key_set(struct kube_watch *w, const char *name, const char *key)
{
	struct node_key *entry = key_find(w, name), *grown;

	if (!entry) {
		if (w->key_count == w->key_cap) {
			grown = realloc(w->keys, (w->key_cap * 2 + 16) * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			w->keys = grown;
			w->key_cap = w->key_cap * 2 + 16;
		}
		entry = &w->keys[w->key_count];
		entry->name = strdup(name);
		if (!entry->name)
			return -ENOMEM;
		w->key_count++;
	}
	snprintf(entry->key, sizeof(entry->key), "%s", key);
	return 0;
}

/* A REMOVED event for key (watch.c reports the last known record). */
static int removed(struct kube_watch *w, const char *key)
{
	struct ovl_lease *lease = lease_new();

	if (!lease)
		return -ENOMEM;
	if (lease_key_parse(w->ctx, key, lease) < 0) {
		ovl_lease_free(lease);
		return 0;
	}
	return watch_event(w->watch, OVL_WATCH_REMOVED, lease);
}

/* ---- the stream ------------------------------------------------------- */

static int set_version(struct kube_watch *w, const json_t *object)
{
	const char *version = json_string_value(json_object_get(
			json_object_get(object, "metadata"), "resourceVersion"));
	char *copy;

	if (!version)
		return 0;
	copy = strdup(version);
	if (!copy)
		return -ENOMEM;
	free(w->resource_version);
	w->resource_version = copy;
	return 0;
}

/* One node changed: what it means for the leases. */
static int node_event(struct kube_watch *w, const char *type, const json_t *node)
{
	const char *name = kube_node_name(node);
	struct node_key *old = key_find(w, name);
	struct ovl_lease *lease = NULL;
	int err = -ENOENT;

	if (strcmp(type, "DELETED")) {
		err = kube_node_lease(w->ctx, w->store, node, &lease);
		if (err == -ENOMEM)
			return err;
		if (err < 0 && err != -ENOENT)
			ctx_log(w->ctx, OVL_LOG_WARNING, "kube watch: %s", ovl_ctx_error(w->ctx));
	}
	/* Gone, no longer managed, or moved to another pod CIDR: the old
	 * lease goes first. */
	if (old && (err < 0 || strcmp(old->key, lease->key))) {
		int dropped = removed(w, old->key);

		key_drop(w, old);
		if (dropped < 0) {
			ovl_lease_free(lease);
			return dropped;
		}
	}
	if (err < 0)
		return 0;
	err = key_set(w, name, lease->key);
	if (err < 0) {
		ovl_lease_free(lease);
		return err;
	}
	return watch_event(w->watch, OVL_WATCH_ADDED, lease);
}

/* One line of the stream: a watch event.  Runs inside libcurl's write
 * callback: it must not start requests. */
static int on_line(void *arg, const char *text, size_t length)
{
	struct kube_watch *w = arg;
	json_error_t error;
	const json_t *object;
	const char *type;
	json_t *root;
	int err;

	err = ovl_json_parse(text, length, 0, &root, &error);
	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(w->ctx, -EPROTO, "kube watch: malformed event: %s", error.text);
	type = json_string_value(json_object_get(root, "type"));
	object = json_object_get(root, "object");
	if (!type || !json_is_object(object)) {
		err = ctx_fail(w->ctx, -EPROTO, "kube watch: event without type or object");
	} else if (!strcmp(type, "ERROR")) {
		json_int_t code = json_integer_value(json_object_get(object, "code"));
		const char *message = json_string_value(json_object_get(object, "message"));

		err = ctx_fail(w->ctx, code == 410 ? -ESTALE : -EPROTO, "kube watch: %s%s",
			       code == 410 ? "410 Gone: " : "", message ? message : "error event");
	} else {
		if (strcmp(type, "BOOKMARK"))
			err = node_event(w, type, object);
		if (!err)
			err = set_version(w, object);
		if (!err && http_watch_reconnected(&w->base))
			ctx_log(w->ctx, OVL_LOG_NOTICE, "kube watch: reconnected at "
				"resourceVersion %s", w->resource_version);
	}
	json_decref(root);
	return err;
}

/* A stream the server ended on time resumes at once, without a pause. */
static void stream_done(void *arg, int err, json_t *reply)
{
	struct kube_watch *w = arg;

	w->stream = NULL;
	if (err == -ECONNRESET && w->base.synced && !w->base.listing &&
	    strstr(ovl_ctx_error(w->ctx), "stream ended")) {
		ctx_clear_error(w->ctx);
		http_timer_arm(w->base.retry_fd, 0);
		return;
	}
	http_watch_restart(&w->base, err);
}

static int start_stream(struct http_watch *base)
{
	struct kube_watch *w = (struct kube_watch *)base;
	char path[512];

	snprintf(path, sizeof(path), "/api/v1/nodes?watch=1&allowWatchBookmarks=true"
		 "&resourceVersion=%s&timeoutSeconds=%d", w->resource_version, WATCH_SECONDS);
	return kube_request_start(&w->store->client, &base->loop, "GET", path, NULL, on_line,
				  WATCH_SECONDS * 1000L + WATCH_GRACE_MS, stream_done, w,
				  &w->stream);
}

/* ---- the listing ------------------------------------------------------ */

static void listed_free(struct kube_watch *w)
{
	ovl_leases_free(w->listed, w->listed_count);
	w->listed = NULL;
	w->listed_count = 0;
	free(w->continue_token);
	w->continue_token = NULL;
}

static int request_page(struct kube_watch *w);

/* The whole listing is in: it replaces what was known. */
static int listing_complete(struct kube_watch *w)
{
	size_t i;
	int err = 0;

	keys_clear(w);
	for (i = 0; i < w->listed_count && !err; i++)
		if (w->listed[i]->node_name)
			err = key_set(w, w->listed[i]->node_name, w->listed[i]->key);
	if (!err)
		err = watch_snapshot(w->watch, w->listed, w->listed_count, time(NULL));
	else
		ovl_leases_free(w->listed, w->listed_count);
	w->listed = NULL;
	w->listed_count = 0;
	http_watch_synced(&w->base);
	if (err < 0)
		return err;
	follow(w, 1);
	return start_stream(&w->base);
}

static void page_done(void *arg, int err, json_t *reply)
{
	struct kube_watch *w = arg;

	w->page = NULL;
	if (!err) {
		free(w->continue_token);
		w->continue_token = NULL;
		err = kube_listing_page(w->ctx, w->store, reply, &w->listed, &w->listed_count,
					&w->resource_version, &w->continue_token);
	}
	if (!err)
		err = w->continue_token ? request_page(w) : listing_complete(w);
	if (err == -ENOMEM)
		http_watch_fail(&w->base, ctx_fail(w->ctx, err, "kube watch: out of memory"));
	else if (err < 0)
		http_watch_restart(&w->base, err == -ESTALE ? -ECANCELED : err);
}

static int request_page(struct kube_watch *w)
{
	char path[4096];

	kube_list_path(w->continue_token, path, sizeof(path));
	return kube_request_start(&w->store->client, &w->base.loop, "GET", path, NULL, NULL, 0,
				  page_done, w, &w->page);
}

static void cancel_requests(struct http_watch *base)
{
	struct kube_watch *w = (struct kube_watch *)base;

	kube_request_cancel(&base->loop, w->stream);
	w->stream = NULL;
	kube_request_cancel(&base->loop, w->page);
	w->page = NULL;
}

static int start_listing(struct http_watch *base)
{
	struct kube_watch *w = (struct kube_watch *)base;

	listed_free(w);
	return request_page(w);
}

static const struct http_watch_ops kube_watch_ops = {
	.list = start_listing,
	.resume = start_stream,
	.cancel = cancel_requests,
};

/* ---- store_ops hooks ------------------------------------------------ */

void kube_watch_close(struct ovl_watch *watch)
{
	struct kube_watch *w = watch->state;

	if (!w)
		return;
	follow(w, 0);
	cancel_requests(&w->base);
	http_watch_cleanup(&w->base);
	listed_free(w);
	keys_clear(w);
	free(w->keys);
	free(w->resource_version);
	free(w);
	watch->state = NULL;
}

/* Lists before returning (unless non-blocking), so that the first events
 * are the snapshot and an unreachable server is an error here. */
int kube_watch_open(struct ovl_watch *watch)
{
	struct kube_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	watch->state = w;
	w->watch = watch;
	w->store = watch->store->state;
	w->ctx = watch->store->ctx;
	err = http_watch_open(&w->base, &kube_watch_ops, watch, "kube watch",
			      2 * w->store->client.timeout_ms);
	if (err < 0)
		kube_watch_close(watch);
	return err;
}

int kube_watch_poll(struct ovl_watch *watch)
{
	struct kube_watch *w = watch->state;
	int err = http_watch_poll(&w->base);

	if (err < 0)	/* it will not recover: no longer a follower */
		follow(w, 0);
	return err;
}
