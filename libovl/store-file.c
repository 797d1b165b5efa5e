/*
 * store-file.c - the embedded default store: one JSON document
 *   {"version":1,"revision":N,"config":{...},"leases":{"10.244.3.0-24":{...}}}
 * changed under an exclusive flock on "<file>.lock" (read, modify, write a
 * temporary file, fsync, rename over, fsync the directory), read without a
 * lock (a rename is atomic), and watched with inotify on the directory plus
 * a timer for the next expiry.  Safe for many processes, also in different
 * network namespaces, that share the file system.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "fileio.h"
#include "store.h"

#define FORMAT_VERSION 1
/* Expired records stay this long (the allocator treats them as free, but a
 * node coming back soon gets its old subnet), then the next write drops
 * them so that churn does not grow the file forever. */
#define EXPIRED_KEPT LEASE_DEFAULT_TTL

struct file_store {
	char path[PATH_MAX], dir[PATH_MAX], base[NAME_MAX + 1];
	char lock_path[PATH_MAX], tmp_path[PATH_MAX];
	int lock_fd;
	/* The version last read or written.  cache_fd pins its inode, so a
	 * path whose stat still matches cache_stat is that very version (we
	 * only ever replace the file, never rewrite it in place). */
	int cache_fd;
	struct stat cache_stat;
	json_t *doc;			/* NULL: nothing cached */
	json_t *leases;			/* doc's "leases" object (borrowed) */
	struct ovl_lease **records;	/* parsed "leases" */
	/* Each record's compact JSON as the file holds it (NULL: not yet
	 * known), so that a write re-serializes only what changed. */
	char **texts;
	size_t count, cap;
	uint64_t revision;
};

struct file_watch {
	int inotify_fd, timer_fd;
	int dirty;			/* a change seen but not yet listed */
};

static struct file_store *state_of(struct ovl_store *store)
{
	return store->state;
}

static void cache_drop(struct file_store *fs)
{
	size_t i;

	for (i = 0; i < fs->count; i++) {
		ovl_lease_free(fs->records[i]);
		free(fs->texts[i]);
	}
	free(fs->records);
	free(fs->texts);
	fs->records = NULL;
	fs->texts = NULL;
	fs->count = fs->cap = 0;
	json_decref(fs->doc);
	fs->doc = fs->leases = NULL;
	if (fs->cache_fd >= 0)
		close(fs->cache_fd);
	fs->cache_fd = -1;
	fs->revision = 0;
}

/* Appends a record and its text (NULL: unknown); takes both. */
static int add_record(struct file_store *fs, struct ovl_lease *lease, char *text)
{
	struct ovl_lease **grown;
	char **grown_texts;
	size_t cap = fs->cap ? 2 * fs->cap : 64;

	if (fs->count == fs->cap) {
		grown = realloc(fs->records, cap * sizeof(*grown));
		if (grown)
			fs->records = grown;
		grown_texts = grown ? realloc(fs->texts, cap * sizeof(*grown_texts)) : NULL;
		if (!grown_texts) {
			ovl_lease_free(lease);
			free(text);
			return -ENOMEM;
		}
		fs->texts = grown_texts;
		fs->cap = cap;
	}
	fs->records[fs->count] = lease;
	fs->texts[fs->count++] = text;
	return 0;
}

static int corrupt(struct ovl_store *store, const char *format, const char *detail)
{
	return ctx_fail(store->ctx, -EBADMSG, "store %s: %s%s (the file is left as "
			"it is)", state_of(store)->path, format, detail);
}

/* Checks a whole document and fills the cache from it; takes doc. */
static int adopt_document(struct ovl_store *store, json_t *doc)
{
	struct file_store *fs = state_of(store);
	json_t *version = json_object_get(doc, "version");
	json_t *revision = json_object_get(doc, "revision");
	json_t *config = json_object_get(doc, "config");
	json_t *leases = json_object_get(doc, "leases");
	struct ovl_lease *lease;
	const char *key;
	json_t *value;
	int err = 0;

	if (!json_is_object(doc))
		err = corrupt(store, "not a JSON object", "");
	else if (version && (!json_is_integer(version) || json_integer_value(version) < 1))
		err = corrupt(store, "\"version\": expected an integer >= 1", "");
	else if (version && json_integer_value(version) > FORMAT_VERSION)
		err = ctx_fail(store->ctx, -ENOTSUP, "store %s: format version %lld is newer "
			       "than this libovl's (%d); refusing to use or downgrade it",
			       fs->path, (long long)json_integer_value(version), FORMAT_VERSION);
	else if (revision && (!json_is_integer(revision) || json_integer_value(revision) < 0))
		err = corrupt(store, "\"revision\": expected an integer >= 0", "");
	else if (config && !json_is_object(config))
		err = corrupt(store, "\"config\": expected an object", "");
	else if (leases && !json_is_object(leases))
		err = corrupt(store, "\"leases\": expected an object", "");
	else if (!leases && json_object_set_new(doc, "leases", json_object()) < 0)
		err = -ENOMEM;
	if (err < 0) {
		json_decref(doc);
		return err;
	}
	cache_drop(fs);
	fs->doc = doc;
	fs->leases = json_object_get(doc, "leases");
	fs->revision = revision ? (uint64_t)json_integer_value(revision) : 0;
	json_object_foreach(fs->leases, key, value) {
		err = lease_from_object(store->ctx, key, value, &lease);
		if (err < 0)
			err = err == -ENOMEM ? err :
			      ctx_fail_prefix(store->ctx, -EBADMSG, "store %s: ", fs->path);
		if (!err) {
			lease->revision = fs->revision;
			err = add_record(fs, lease, NULL);
		}
		if (err < 0) {
			cache_drop(fs);
			return err;
		}
	}
	return 0;
}

static int empty_document(struct ovl_store *store)
{
	json_t *doc = json_pack("{s:i, s:i, s:{}}", "version", FORMAT_VERSION,
				"revision", 0, "leases");

	return doc ? adopt_document(store, doc) : -ENOMEM;
}

/* The file as commit() lays it out holds one lease per line after
 * "leases":{ in record order, then "}}\n"; taking each record's text from
 * its line spares serializing it again.  A file in any other layout (edited by
 * hand) keeps texts NULL: they are serialized when first written. */
static void harvest_texts(struct file_store *fs, const char *raw, size_t length)
{
	const char *marker = "\"leases\":{\n", *line, *end;
	size_t i, key_length;

	line = memmem(raw, length, marker, strlen(marker));
	if (!line)
		return;
	line += strlen(marker);
	for (i = 0; i < fs->count; i++, line = end + 1) {
		end = memchr(line, '\n', (size_t)(raw + length - line));
		key_length = strlen(fs->records[i]->key);
		if (!end || line[0] != '"' || (size_t)(end - line) < key_length + 4 ||
		    memcmp(line + 1, fs->records[i]->key, key_length) ||
		    memcmp(line + 1 + key_length, "\":", 2))
			break;
		line += key_length + 3;
		fs->texts[i] = strndup(line, (size_t)(end - line) - (end[-1] == ','));
		if (!fs->texts[i])
			break;
	}
	/* only commit()'s exact ending proves that the last line holds the
	 * last record alone (by hand, "}}" may follow it on the line) */
	if (i == fs->count && (size_t)(raw + length - line) == 3 && !memcmp(line, "}}\n", 3))
		return;
	while (i-- > 0) {
		free(fs->texts[i]);
		fs->texts[i] = NULL;
	}
}

/* A store file, its directory or its lock file that another local user
 * can change would let that user inject routes into every node reading the
 * store: only root and the calling user may own them and nobody else may
 * write them (a world-writable directory only with the sticky bit, which
 * keeps others from replacing our files; a file they plant there is caught
 * here by its owner). */
static int check_trusted(struct ovl_store *store, const char *path, const struct stat *st)
{
	const struct file_store *fs = state_of(store);
	int itself = !strcmp(path, fs->path);
	const char *what = itself ? "" : S_ISDIR(st->st_mode) ? ": directory " :
			   ": lock file ";
	uid_t euid = geteuid();

	if (st->st_uid != 0 && st->st_uid != euid)
		return ctx_fail(store->ctx, -EPERM, "store %s%s%s is owned by uid %u, "
				"not root or this user (uid %u), so that user could inject "
				"routes; fix: chown %u %s", fs->path, what, itself ? "" : path,
				(unsigned int)st->st_uid, (unsigned int)euid,
				(unsigned int)euid, path);
	if ((st->st_mode & S_IWOTH) && !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)))
		return ctx_fail(store->ctx, -EPERM, "store %s%s%s is world-writable "
				"(mode %04o), so any local user could inject routes; fix: "
				"chmod o-w %s", fs->path, what, itself ? "" : path,
				(unsigned int)(st->st_mode & 07777), path);
	return 0;
}

/* check_trusted on path if it exists. */
static int check_path(struct ovl_store *store, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		       ctx_fail(store->ctx, -errno, "store %s: %s: %s",
				state_of(store)->path, path, ovl_strerror(errno));
	return check_trusted(store, path, &st);
}

static int same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Brings the cache up to the file's current version. */
static int load(struct ovl_store *store)
{
	struct file_store *fs = state_of(store);
	json_error_t error;
	char detail[300];
	struct stat st;
	size_t length;
	char *text;
	json_t *doc;
	int fd, err;

	fd = open(fs->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (fs->doc && fs->cache_fd < 0)
			return 0;		/* still no file: still empty */
		return empty_document(store);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = ctx_fail(store->ctx, -errno, "store %s: %s", fs->path, ovl_strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (fs->doc && fs->cache_fd >= 0 && same_version(&st, &fs->cache_stat)) {
		close(fd);
		return 0;
	}
	err = check_trusted(store, fs->path, &st);
	if (!err)
		err = check_path(store, fs->dir);
	if (err < 0) {
		close(fd);
		return err;
	}
	err = file_read_fd(store->ctx, fs->path, fd, &text, &length);
	if (err < 0) {
		close(fd);
		return err;
	}
	if (length == 0) {
		/* an empty file holds nothing a rewrite could lose */
		doc = json_pack("{s:i, s:i, s:{}}", "version", FORMAT_VERSION,
				"revision", 0, "leases");
	} else {
		err = json_parse(text, length, JSON_REJECT_DUPLICATES, &doc, &error);
		if (err == -EINVAL) {
			snprintf(detail, sizeof(detail), "line %d column %d: %s",
				 error.line, error.column, error.text);
			free(text);
			close(fd);
			return corrupt(store, "does not parse: ", detail);
		}
	}
	if (!doc) {
		free(text);
		close(fd);
		return -ENOMEM;
	}
	err = adopt_document(store, doc);
	if (err < 0) {
		free(text);
		close(fd);
		return err;
	}
	harvest_texts(fs, text, length);
	free(text);
	fs->cache_fd = fd;
	fs->cache_stat = st;
	return 0;
}

static long find_record(const struct file_store *fs, const char *key)
{
	size_t i;

	for (i = 0; i < fs->count; i++)
		if (!strcmp(fs->records[i]->key, key))
			return (long)i;
	return -1;
}

static void delete_record(struct file_store *fs, size_t index)
{
	json_object_del(fs->leases, fs->records[index]->key);
	ovl_lease_free(fs->records[index]);
	free(fs->texts[index]);
	fs->count--;
	fs->records[index] = fs->records[fs->count];
	fs->texts[index] = fs->texts[fs->count];
}

/* Writes lease into the document and the records (a copy). */
static int put_record(struct file_store *fs, const struct ovl_lease *lease)
{
	json_t *object = lease_attrs_to_object(lease);
	struct ovl_lease *copy;
	char *text;
	long index;

	if (!object || (lease->expiration &&
			json_object_set_new(object, "Expiration",
					    json_integer(lease->expiration)) < 0)) {
		json_decref(object);
		return -ENOMEM;
	}
	text = json_dumps(object, JSON_COMPACT);
	if (!text) {
		json_decref(object);
		return -ENOMEM;
	}
	/* json_object_set_new takes object also when it fails */
	if (json_object_set_new(fs->leases, lease->key, object) < 0) {
		free(text);
		return -ENOMEM;
	}
	copy = lease_copy(lease);
	if (!copy) {
		free(text);
		return -ENOMEM;
	}
	index = find_record(fs, lease->key);
	if (index < 0)
		return add_record(fs, copy, text);
	ovl_lease_free(fs->records[index]);
	free(fs->texts[index]);
	fs->records[index] = copy;
	fs->texts[index] = text;
	return 0;
}

static int lock_store(struct ovl_store *store)
{
	struct file_store *fs = state_of(store);
	struct stat st;
	int err;

	if (fs->lock_fd < 0) {
		err = file_make_dirs(store->ctx, fs->dir);
		if (err < 0)
			return err;
		fs->lock_fd = open(fs->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fs->lock_fd < 0)
			return ctx_fail(store->ctx, -errno, "store %s: cannot open lock file "
					"%s: %s", fs->path, fs->lock_path, ovl_strerror(errno));
		err = fstat(fs->lock_fd, &st) < 0 ?
		      ctx_fail(store->ctx, -errno, "store %s: %s: %s", fs->path,
			       fs->lock_path, ovl_strerror(errno)) :
		      check_trusted(store, fs->lock_path, &st);
		if (err < 0) {
			close(fs->lock_fd);
			fs->lock_fd = -1;
			return err;
		}
	}
	while (flock(fs->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return ctx_fail(store->ctx, -errno, "store %s: cannot lock %s: %s",
					fs->path, fs->lock_path, ovl_strerror(errno));
	return 0;
}

static void unlock_store(struct file_store *fs)
{
	flock(fs->lock_fd, LOCK_UN);
}

/* Starts a change: the lock, and the cache up to date.  On failure no
 * lock is held. */
static int lock_and_load(struct ovl_store *store)
{
	int err = lock_store(store);

	if (err < 0)
		return err;
	err = load(store);
	if (err < 0)
		unlock_store(state_of(store));
	return err;
}

/* Ends a change; after a failure the cache no longer matches the file. */
static int finish_change(struct file_store *fs, int err)
{
	if (err < 0)
		cache_drop(fs);
	unlock_store(fs);
	return err;
}

/* "KEY":TEXT[,] and a newline at text + used; the new length.  (memcpy,
 * not printf: this runs once per lease on every write.) */
static size_t append_line(char *text, size_t used, const char *key, const char *value,
			  int comma)
{
	size_t key_length = strlen(key), value_length = strlen(value);

	text[used++] = '"';
	memcpy(text + used, key, key_length);
	used += key_length;
	memcpy(text + used, "\":", 2);
	used += 2;
	memcpy(text + used, value, value_length);
	used += value_length;
	if (comma)
		text[used++] = ',';
	text[used++] = '\n';
	return used;
}

/* The document as text: the top-level members, then "leases" with one
 * lease per line (easy to read and diff, and see harvest_texts). */
static char *serialize(struct file_store *fs, size_t *length)
{
	size_t i, size, used;
	char *head, *text;

	for (i = 0; i < fs->count; i++)
		if (!fs->texts[i] && !(fs->texts[i] = json_dumps(
			json_object_get(fs->leases, fs->records[i]->key), JSON_COMPACT)))
			return NULL;
	/* the other members, with "leases" taken out for a moment */
	json_incref(fs->leases);
	json_object_del(fs->doc, "leases");
	head = json_dumps(fs->doc, JSON_COMPACT);
	if (json_object_set_new(fs->doc, "leases", fs->leases) < 0 || !head) {
		free(head);
		return NULL;
	}
	size = strlen(head) + 32;
	for (i = 0; i < fs->count; i++)
		size += strlen(fs->records[i]->key) + strlen(fs->texts[i]) + 5;
	text = malloc(size);
	if (!text) {
		free(head);
		return NULL;
	}
	used = strlen(head) - 1;		/* without its closing brace */
	memcpy(text, head, used);
	used += (size_t)sprintf(text + used, "%s\"leases\":{\n", used > 1 ? "," : "");
	for (i = 0; i < fs->count; i++)
		used = append_line(text, used, fs->records[i]->key, fs->texts[i],
				   i + 1 < fs->count);
	used += (size_t)sprintf(text + used, "}}\n");
	free(head);
	*length = used;
	return text;
}

/* Writes the modified document as the next revision. */
static int commit(struct ovl_store *store, int64_t now)
{
	struct file_store *fs = state_of(store);
	size_t i, length;
	char *text;
	int fd, err;

	for (i = fs->count; i-- > 0;)
		if (fs->records[i]->expiration &&
		    fs->records[i]->expiration + EXPIRED_KEPT <= now)
			delete_record(fs, i);
	if (json_object_set_new(fs->doc, "version", json_integer(FORMAT_VERSION)) < 0 ||
	    json_object_set_new(fs->doc, "revision", json_integer((json_int_t)fs->revision + 1)) < 0)
		return -ENOMEM;
	text = serialize(fs, &length);
	if (!text)
		return -ENOMEM;
	err = file_replace(store->ctx, fs->path, fs->tmp_path, text, length, &fd);
	free(text);
	if (err < 0)
		return ctx_fail_prefix(store->ctx, err, "store %s: ", fs->path);
	if (fs->cache_fd >= 0)
		close(fs->cache_fd);
	fs->cache_fd = fd;
	if (fstat(fd, &fs->cache_stat) < 0)
		memset(&fs->cache_stat, 0, sizeof(fs->cache_stat));
	fs->revision++;
	for (i = 0; i < fs->count; i++)
		fs->records[i]->revision = fs->revision;
	return 0;
}

/* ---- store_ops ---------------------------------------------------------- */

static int file_open(struct ovl_store *store, const char *uri)
{
	const char *path = uri + strlen("file:"), *slash;
	struct file_store *fs;
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
	if (!*path || path[strlen(path) - 1] == '/')
		return ctx_fail(store->ctx, -EINVAL, "store '%s': no file name", uri);
	if (strlen(path) + 8 >= PATH_MAX)
		return ctx_fail(store->ctx, -ENAMETOOLONG, "store '%s': path too long", uri);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->lock_fd = fs->cache_fd = -1;
	snprintf(fs->path, sizeof(fs->path), "%s", path);
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(fs->dir, sizeof(fs->dir), ".");
	else
		snprintf(fs->dir, sizeof(fs->dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	snprintf(fs->base, sizeof(fs->base), "%s", slash ? slash + 1 : path);
	snprintf(fs->lock_path, sizeof(fs->lock_path), "%s.lock", path);
	snprintf(fs->tmp_path, sizeof(fs->tmp_path), "%s.tmp", path);
	store->state = fs;
	/* refuse an untrusted store now rather than at its first use */
	err = check_path(store, fs->dir);
	if (!err)
		err = check_path(store, fs->path);
	if (!err)
		err = check_path(store, fs->lock_path);
	if (err < 0) {
		free(fs);
		store->state = NULL;
	}
	return err;
}

static void file_close(struct ovl_store *store)
{
	struct file_store *fs = state_of(store);

	cache_drop(fs);
	if (fs->lock_fd >= 0)
		close(fs->lock_fd);
	free(fs);
}

static int file_config_get(struct ovl_store *store, char **json)
{
	json_t *config;
	int err = load(store);

	if (err < 0)
		return err;
	config = json_object_get(state_of(store)->doc, "config");
	if (!config)
		return ctx_fail(store->ctx, -ENOENT, "store %s holds no network config",
				state_of(store)->path);
	*json = json_dumps(config, JSON_COMPACT);
	return *json ? 0 : -ENOMEM;
}

static int file_config_put(struct ovl_store *store, const char *json)
{
	struct file_store *fs = state_of(store);
	json_error_t error;
	json_t *config;
	int err = json_parse(json, strlen(json), 0, &config, &error);

	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(store->ctx, err, "config: not JSON");
	err = lock_and_load(store);
	if (err < 0) {
		json_decref(config);
		return err;
	}
	err = json_object_set_new(fs->doc, "config", config) < 0 ? -ENOMEM :
	      commit(store, time(NULL));
	return finish_change(fs, err);
}

static int file_list(struct ovl_store *store, struct ovl_lease ***leases,
		     size_t *count, uint64_t *revision)
{
	struct file_store *fs = state_of(store);
	struct ovl_lease **copy;
	size_t i;
	int err = load(store);

	if (err < 0)
		return err;
	copy = calloc(fs->count ? fs->count : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < fs->count; i++) {
		copy[i] = lease_copy(fs->records[i]);
		if (!copy[i]) {
			ovl_leases_free(copy, i);
			return -ENOMEM;
		}
	}
	*leases = copy;
	*count = fs->count;
	*revision = fs->revision;
	return 0;
}

static int file_acquire(struct ovl_store *store, const struct ovl_config *config,
			const struct ovl_lease_request *request, struct ovl_lease **lease)
{
	struct file_store *fs = state_of(store);
	struct ovl_lease *chosen = NULL;
	int64_t now = time(NULL);
	long dropped;
	int err = lock_and_load(store);

	if (err < 0)
		return err;
	err = lease_choose(store->ctx, config, fs->records, fs->count, request, now,
			   &chosen, &dropped);
	if (!err) {
		if (dropped >= 0 && strcmp(fs->records[dropped]->key, chosen->key))
			delete_record(fs, (size_t)dropped);
		err = put_record(fs, chosen);
		if (!err)
			err = commit(store, now);
	}
	err = finish_change(fs, err);
	if (err < 0) {
		ovl_lease_free(chosen);
		return err;
	}
	chosen->revision = fs->revision;
	*lease = chosen;
	return 0;
}

/* The stored record of lease while it is still ours, else -ESTALE. */
static int find_ours(struct ovl_store *store, const struct ovl_lease *lease,
		     long *index)
{
	struct file_store *fs = state_of(store);
	const struct ovl_lease *record;

	*index = find_record(fs, lease->key);
	if (*index < 0)
		return ctx_fail(store->ctx, -ESTALE, "lease %s: gone from the store "
				"(released, or expired and removed)", lease->key);
	record = fs->records[*index];
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
	struct file_store *fs = state_of(store);
	struct ovl_lease *renewed = NULL;
	int64_t now = time(NULL);
	long index;
	int err = lock_and_load(store);

	if (err < 0)
		return err;
	err = find_ours(store, lease, &index);
	if (err == -ESTALE)
		lease->lost = 1;
	if (!err) {
		renewed = lease_copy(fs->records[index]);
		err = renewed ? 0 : -ENOMEM;
	}
	if (!err) {
		if (renewed->expiration)
			renewed->expiration = lease_expiration_after(now, ttl_seconds);
		err = put_record(fs, renewed);
		if (!err)
			err = commit(store, now);
	}
	err = finish_change(fs, err);
	if (!err) {
		lease->expiration = renewed->expiration;
		lease->revision = fs->revision;
		lease->lost = 0;
	}
	ovl_lease_free(renewed);
	return err;
}

static int file_release(struct ovl_store *store, const struct ovl_lease *lease)
{
	struct file_store *fs = state_of(store);
	long index;
	int err = lock_and_load(store);

	if (err < 0)
		return err;
	if (find_ours(store, lease, &index) == 0) {
		delete_record(fs, (size_t)index);
		err = commit(store, time(NULL));
	} else {
		/* not ours (any more): nothing of ours to remove */
		ctx_log(store->ctx, OVL_LOG_INFO, "release: %s", ovl_ctx_error(store->ctx));
		ctx_clear_error(store->ctx);
	}
	return finish_change(fs, err);
}

/* ---- watch -------------------------------------------------------------- */

static int watch_relist(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;
	struct itimerspec when = { { 0, 0 }, { 0, 0 } };
	struct ovl_lease **leases;
	uint64_t revision;
	size_t count;
	int err;

	err = file_list(watch->store, &leases, &count, &revision);
	if (err < 0)
		return err;
	err = watch_snapshot(watch, leases, count, time(NULL));
	if (err < 0)
		return err;
	fw->dirty = 0;
	/* the next expiry (0 disarms) */
	when.it_value.tv_sec = watch->next_expiration;
	if (timerfd_settime(fw->timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
		return ctx_fail(watch->store->ctx, -errno, "watch: timerfd: %s",
				ovl_strerror(errno));
	return 0;
}

static void file_watch_close(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;

	if (!fw)
		return;
	if (fw->inotify_fd >= 0)
		close(fw->inotify_fd);
	if (fw->timer_fd >= 0)
		close(fw->timer_fd);
	free(fw);
	watch->state = NULL;
}

static int watch_add_fd(struct ovl_watch *watch, int fd)
{
	struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(watch->epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

static int file_watch_open(struct ovl_watch *watch)
{
	struct ovl_store *store = watch->store;
	struct file_store *fs = state_of(store);
	struct file_watch *fw = calloc(1, sizeof(*fw));
	int err;

	if (!fw)
		return -ENOMEM;
	fw->inotify_fd = fw->timer_fd = -1;
	watch->state = fw;
	/* the directory must exist to be watched; a writer would create it */
	err = file_make_dirs(store->ctx, fs->dir);
	if (err < 0)
		goto fail;
	fw->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fw->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fw->inotify_fd < 0 || fw->timer_fd < 0 ||
	    inotify_add_watch(fw->inotify_fd, fs->dir, IN_CLOSE_WRITE | IN_MOVED_TO |
			      IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0 ||
	    watch_add_fd(watch, fw->inotify_fd) < 0 || watch_add_fd(watch, fw->timer_fd) < 0) {
		err = ctx_fail(store->ctx, -errno, "watch %s: %s", fs->dir, ovl_strerror(errno));
		goto fail;
	}
	/* inotify is armed before the listing, so no change falls between */
	err = watch_relist(watch);
	if (!err)
		return 0;
fail:
	file_watch_close(watch);
	return err;
}

/* Drains the inotify fd; 1 when an event concerns the store's file. */
static int drain_inotify(struct file_watch *fw, const char *base)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *event;
	int relevant = 0;
	ssize_t n;
	char *at;

	while ((n = read(fw->inotify_fd, buf, sizeof(buf))) > 0) {
		for (at = buf; at < buf + n; at += sizeof(*event) + event->len) {
			event = (const struct inotify_event *)at;
			if ((event->mask & IN_Q_OVERFLOW) ||
			    (event->len && !strcmp(event->name, base)))
				relevant = 1;
		}
	}
	return relevant;
}

static int file_watch_poll(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;
	uint64_t expirations;

	if (drain_inotify(fw, state_of(watch->store)->base))
		fw->dirty = 1;
	if (read(fw->timer_fd, &expirations, sizeof(expirations)) == sizeof(expirations))
		fw->dirty = 1;
	return fw->dirty ? watch_relist(watch) : 0;
}

const struct store_ops store_file_ops = {
	.scheme = "file",
	.open = file_open,
	.close = file_close,
	.config_get = file_config_get,
	.config_put = file_config_put,
	.list = file_list,
	.acquire = file_acquire,
	.renew = file_renew,
	.release = file_release,
	.watch_open = file_watch_open,
	.watch_poll = file_watch_poll,
	.watch_close = file_watch_close,
};
