/*
 * store-file.c - the embedded default store: one JSON document
 *   {"version":1,"revision":N,"config":{...},"leases":{"10.244.3.0-24":{...}}}
 * changed under an exclusive lock and read without one (a rename is
 * atomic; store-file-document.c), watched with inotify
 * (store-file-watch.c).  Safe for many processes, also in different network
 * namespaces, that share the file system.  This file: the store operations
 * (open, config, list, acquire, renew, release) on the cached document.
 *
 * Fast at 10,000 leases for a handle that has read nothing yet (a node
 * starting): store-doc.c keeps per record only its place in the text and its
 * claim (what the allocator needs), decoding a whole record only when it is
 * listed or renewed.  Records that do not decode are skipped and kept
 * (ovl_store_open(3)).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "store/file/store-file.h"

static long find_record(const struct file_store *fs, const char *key)
{
	size_t i;

	for (i = 0; i < fs->doc.count; i++)
		if (store_doc_record_is(&fs->doc.records[i], key))
			return (long)i;
	return -1;
}

/* A record for lease (a copy) replacing the one under its key, or added. */
static int put_record(struct file_store *fs, const struct ovl_lease *lease)
{
	json_t *object = lease_attrs_to_object(lease);
	struct doc_record record = { .usable = 1 };
	long index;

	if (!object || (lease->expiration &&
			json_object_set_new(object, "Expiration",
					    json_integer(lease->expiration)) < 0)) {
		json_decref(object);
		return -ENOMEM;
	}
	if (store_doc_extra(&record)) {
		record.extra->owned = json_dumps(object, JSON_COMPACT);
		record.extra->lease = lease_copy(lease);
	}
	json_decref(object);
	if (!record.extra || !record.extra->owned || !record.extra->lease) {
		store_doc_record_clear(&record);
		return -ENOMEM;
	}
	record.text = record.extra->owned;
	record.length = (uint32_t)strlen(record.extra->owned);
	lease_claim_of(record.extra->lease, &record.claim);
	record.key_text = record.extra->lease->key;
	record.key_length = (uint32_t)strlen(record.extra->lease->key);
	index = find_record(fs, lease->key);
	if (index >= 0) {
		store_doc_record_clear(&fs->doc.records[index]);
		fs->doc.records[index] = record;
		return 0;
	}
	if (!store_doc_add(&fs->doc, &record)) {
		store_doc_record_clear(&record);
		return -ENOMEM;
	}
	return 0;
}

/* ---- store_ops ---------------------------------------------------------- */

/* "?timeout=SECONDS" after the path: how long a change waits for the lock
 * (default 5 s, as etcd's requests; fractions allowed). */
static int parse_query(struct ovl_store *store, const char *uri, const char *query,
		       long *timeout_ms)
{
	char *end;
	double seconds;

	*timeout_ms = STORE_FILE_DEFAULT_TIMEOUT_MS;
	if (!query)
		return 0;
	if (strncmp(query, "?timeout=", 9))
		return ctx_fail(store->ctx, -EINVAL, "store '%s': the only option of a file "
				"store is ?timeout=SECONDS", uri);
	errno = 0;
	seconds = strtod(query + 9, &end);
	if (end == query + 9 || *end || errno || !(seconds > 0) || seconds > 86400)
		return ctx_fail(store->ctx, -EINVAL, "store '%s': timeout '%s' is not a number "
				"of seconds between 0 and 86400", uri, query + 9);
	*timeout_ms = (long)(seconds * 1000 + 0.5);
	if (!*timeout_ms)
		*timeout_ms = 1;
	return 0;
}

static int file_open(struct ovl_store *store, const char *uri)
{
	const char *path = uri + strlen("file:"), *slash, *query = strchr(uri, '?');
	size_t path_length;
	struct file_store *fs;
	long timeout_ms;
	int err;

	/* file:/p, file:///p and file://localhost/p name the same file */
	if (!strncmp(path, "//", 2)) {
		path += 2;
		if (!strncmp(path, "localhost/", 10))
			path += 9;
		else if (*path != '/')
			return ctx_fail(store->ctx, -EINVAL, "store '%s': a file URI names "
					"no host other than localhost", uri);
	}
	path_length = query ? (size_t)(query - path) : strlen(path);
	if (!path_length || path[path_length - 1] == '/')
		return ctx_fail(store->ctx, -EINVAL, "store '%s': no file name", uri);
	if (path_length + 8 >= PATH_MAX)
		return ctx_fail(store->ctx, -ENAMETOOLONG, "store '%s': path too long", uri);
	err = parse_query(store, uri, query, &timeout_ms);
	if (err < 0)
		return err;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->lock_fd = fs->cache_fd = -1;
	fs->timeout_ms = timeout_ms;
	snprintf(fs->path, sizeof(fs->path), "%.*s", (int)path_length, path);
	slash = memrchr(path, '/', path_length);
	if (!slash)
		snprintf(fs->dir, sizeof(fs->dir), ".");
	else
		snprintf(fs->dir, sizeof(fs->dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	snprintf(fs->base, sizeof(fs->base), "%.*s",
		 (int)(slash ? path_length - (size_t)(slash + 1 - path) : path_length),
		 slash ? slash + 1 : path);
	snprintf(fs->lock_path, sizeof(fs->lock_path), "%.*s.lock", (int)path_length, path);
	snprintf(fs->tmp_path, sizeof(fs->tmp_path), "%.*s.tmp", (int)path_length, path);
	store->state = fs;
	/* refuse an untrusted store now rather than at its first use */
	err = store_file_check_path(store, fs->dir);
	if (!err)
		err = store_file_check_path(store, fs->path);
	if (!err)
		err = store_file_check_path(store, fs->lock_path);
	if (err < 0) {
		free(fs);
		store->state = NULL;
	}
	return err;
}

static void file_close(struct ovl_store *store)
{
	struct file_store *fs = store_file_state(store);

	store_file_cache_drop(fs);
	if (fs->lock_fd >= 0)
		close(fs->lock_fd);
	free(fs);
}

static int file_config_get(struct ovl_store *store, char **json)
{
	const char *config;
	int err = store_file_load(store);

	if (err < 0)
		return err;
	config = store_file_state(store)->doc.config;
	if (!config)
		return ctx_fail(store->ctx, -ENOENT, "store %s holds no network config",
				store_file_state(store)->path);
	*json = strdup(config);
	return *json ? 0 : -ENOMEM;
}

static int file_config_put(struct ovl_store *store, const char *json)
{
	struct file_store *fs = store_file_state(store);
	json_error_t error;
	json_t *config;
	char *compact;
	int err = ovl_json_parse(json, strlen(json), 0, &config, &error);

	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(store->ctx, err, "config: not JSON");
	compact = json_dumps(config, JSON_COMPACT);
	json_decref(config);
	if (!compact)
		return -ENOMEM;
	err = store_file_begin_change(store);
	if (err < 0) {
		free(compact);
		return err;
	}
	free(fs->doc.config);
	fs->doc.config = compact;
	return store_file_end_change(fs, store_file_commit(store, time(NULL)));
}

int store_file_list(struct ovl_store *store, struct ovl_lease ***leases,
		     size_t *count, uint64_t *revision)
{
	struct file_store *fs = store_file_state(store);
	struct ovl_lease **copy;
	size_t i, n = 0;
	int err = store_file_load(store);

	if (err < 0)
		return err;
	copy = calloc(fs->doc.count ? fs->doc.count : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < fs->doc.count; i++) {
		if (!fs->doc.records[i].usable)
			continue;
		if (fs->doc.records[i].extra && fs->doc.records[i].extra->lease)
			copy[n] = lease_copy(fs->doc.records[i].extra->lease);
		else
			err = store_doc_decode(store->ctx, &fs->doc.records[i], &copy[n]);
		if (!copy[n]) {
			ovl_leases_free(copy, n);
			return err < 0 ? err : -ENOMEM;
		}
		copy[n++]->revision = (uint64_t)fs->doc.revision;
	}
	*leases = copy;
	*count = n;
	*revision = (uint64_t)fs->doc.revision;
	return 0;
}

static int file_acquire(struct ovl_store *store, const struct ovl_config *config,
			const struct ovl_lease_request *request, struct ovl_lease **lease)
{
	struct file_store *fs = store_file_state(store);
	const struct lease_claim **existing;
	struct ovl_lease *chosen = NULL;
	int64_t now = time(NULL);
	size_t i, count = 0, *where;
	long dropped;
	int err = store_file_begin_change(store);

	if (err < 0)
		return err;
	/* unusable records too: their subnets are taken, by nobody */
	existing = malloc((fs->doc.count ? fs->doc.count : 1) * sizeof(*existing));
	where = malloc((fs->doc.count ? fs->doc.count : 1) * sizeof(*where));
	if (!existing || !where) {
		free(existing);
		free(where);
		return store_file_end_change(fs, -ENOMEM);
	}
	for (i = 0; i < fs->doc.count; i++)
		if (store_doc_claims(&fs->doc.records[i])) {
			where[count] = i;
			existing[count++] = &fs->doc.records[i].claim;
		}
	err = lease_choose_claims(store->ctx, config, existing, count, request, now, &chosen,
				  &dropped);
	if (!err && dropped >= 0 && !store_doc_record_is(&fs->doc.records[where[dropped]],
							 chosen->key))
		store_file_drop_record(fs, where[dropped]);
	free(existing);
	free(where);
	if (!err)
		err = put_record(fs, chosen);
	if (!err)
		err = store_file_commit(store, now);
	err = store_file_end_change(fs, err);
	if (err < 0) {
		ovl_lease_free(chosen);
		return err;
	}
	chosen->revision = (uint64_t)fs->doc.revision;
	*lease = chosen;
	return 0;
}

/* The stored record of lease while it is still ours, else -ESTALE. */
static int find_ours(struct ovl_store *store, const struct ovl_lease *lease,
		     long *index)
{
	struct file_store *fs = store_file_state(store);
	const struct ovl_lease *record;
	int err;

	*index = find_record(fs, lease->key);
	if (*index < 0)
		return ctx_fail(store->ctx, -ESTALE, "lease %s: gone from the store "
				"(released, or expired and removed)", lease->key);
	err = store_doc_lease(store->ctx, &fs->doc.records[*index]);
	if (err < 0)
		return err;
	record = fs->doc.records[*index].extra->lease;
	if (!lease_same_owner(lease, record))
		return ctx_fail(store->ctx, -ESTALE, "lease %s: now held by %s", lease->key,
				record->node_name ? record->node_name :
				record->public_ip ? record->public_ip :
				record->public_ipv6 ? record->public_ipv6 : "another node");
	return 0;
}

static int file_renew(struct ovl_store *store, struct ovl_lease *lease,
		      unsigned int ttl_seconds)
{
	struct file_store *fs = store_file_state(store);
	struct ovl_lease *renewed = NULL;
	int64_t now = time(NULL);
	long index;
	int err = store_file_begin_change(store);

	if (err < 0)
		return err;
	err = find_ours(store, lease, &index);
	if (err == -ESTALE)
		lease->lost = 1;
	if (!err) {
		renewed = lease_copy(fs->doc.records[index].extra->lease);
		err = renewed ? 0 : -ENOMEM;
	}
	if (!err) {
		if (renewed->expiration)
			renewed->expiration = lease_expiration_after(now, ttl_seconds);
		err = put_record(fs, renewed);
		if (!err)
			err = store_file_commit(store, now);
	}
	err = store_file_end_change(fs, err);
	if (!err) {
		lease->expiration = renewed->expiration;
		lease->revision = (uint64_t)fs->doc.revision;
		lease->lost = 0;
	}
	ovl_lease_free(renewed);
	return err;
}

static int file_release(struct ovl_store *store, const struct ovl_lease *lease)
{
	struct file_store *fs = store_file_state(store);
	long index;
	int err = store_file_begin_change(store);

	if (err < 0)
		return err;
	err = find_ours(store, lease, &index);
	if (!err) {
		store_file_drop_record(fs, (size_t)index);
		err = store_file_commit(store, time(NULL));
	} else if (err == -ESTALE) {
		/* not ours (any more): nothing of ours to remove */
		ctx_log(store->ctx, OVL_LOG_INFO, "release: %s", ovl_ctx_error(store->ctx));
		ctx_clear_error(store->ctx);
		err = 0;
	}
	return store_file_end_change(fs, err);
}


const struct store_ops store_file_ops = {
	.scheme = "file",
	.open = file_open,
	.close = file_close,
	.config_get = file_config_get,
	.config_put = file_config_put,
	.list = store_file_list,
	.acquire = file_acquire,
	.renew = file_renew,
	.release = file_release,
	.watch_open = store_file_watch_open,
	.watch_poll = store_file_watch_poll,
	.watch_close = store_file_watch_close,
	.async_open = file_async_open,
	.async_close = file_async_close,
	.async_dispatch = file_async_dispatch,
	.async_list = file_async_list,
	.async_changed = file_async_changed,
	.async_renew = file_async_renew,
	.async_acquire = file_async_acquire,
};
