/*
 * store-file.c - the embedded default store: one JSON document
 *   {"version":1,"revision":N,"config":{...},"leases":{"10.244.3.0-24":{...}}}
 * changed under an exclusive flock on "<file>.lock" (read, modify, write a
 * temporary file, fsync, rename over, fsync the directory), read without a
 * lock (a rename is atomic), and watched with inotify on the directory plus
 * a timer for the next expiry.  Safe for many processes, also in different
 * network namespaces, that share the file system.
 *
 * Fast at 10,000 leases for a handle that has read nothing yet (a node
 * starting): the file is read with one call into one buffer; store-doc.c
 * checks it and keeps per record only its place in that text and its claim
 * (what the allocator needs), decoding a whole record only when it is listed
 * or renewed; and a write hands the kernel the unchanged runs of the old
 * text where they lie in the buffer.  The file is never mapped: any process
 * that can write it could truncate it, and touching a mapped page past the
 * new end raises SIGBUS in the embedding program.
 * Records that do not decode are skipped and kept (ovl_store_open(3)).
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "core/fileio.h"
#include "store/file/store-doc.h"
#include "store/store.h"

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
	int loaded;			/* 0: nothing cached */
	/* The file's text as read, which records borrow until cache_drop. */
	char *text;
	size_t text_length;
	struct store_doc doc;
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
	store_doc_free(&fs->doc);
	free(fs->text);
	fs->text = NULL;
	fs->text_length = 0;
	fs->loaded = 0;
	if (fs->cache_fd >= 0)
		close(fs->cache_fd);
	fs->cache_fd = -1;
}

static int corrupt(struct ovl_store *store, const char *format, const char *detail)
{
	return ctx_fail(store->ctx, -EBADMSG, "store %s: %s%s (the file is left as "
			"it is)", state_of(store)->path, format, detail);
}

/* Takes the text and doc as the cache after checking the format version. */
static int adopt_document(struct ovl_store *store, char *text, size_t length,
			  struct store_doc *doc)
{
	struct file_store *fs = state_of(store);
	size_t i, skipped = 0;

	if (doc->version > FORMAT_VERSION) {
		ctx_fail(store->ctx, -ENOTSUP, "store %s: format version %lld is newer than "
			 "this libovl's (%d); refusing to use or downgrade it", fs->path,
			 (long long)doc->version, FORMAT_VERSION);
		store_doc_free(doc);
		free(text);
		return -ENOTSUP;
	}
	cache_drop(fs);
	fs->doc = *doc;
	fs->text = text;
	fs->text_length = length;
	fs->loaded = 1;
	for (i = 0; i < doc->count; i++) {
		/* a few named, the rest counted: an agent re-reads on every change */
		if (!doc->records[i].usable && ++skipped <= 3)
			ctx_log(store->ctx, OVL_LOG_WARNING, "store %s: skipping lease "
				"record \"%.*s\": %s", fs->path, (int)doc->records[i].key_length,
				doc->records[i].key_text, doc->records[i].extra->reason);
	}
	if (skipped > 3)
		ctx_log(store->ctx, OVL_LOG_WARNING, "store %s: skipping %zu more lease "
			"records that cannot be decoded", fs->path, skipped - 3);
	return 0;
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

/* The bytes of the open file fd into a buffer of their own, st its stat
 * (updated).  A file whose size or times change while it is read (written
 * in place, not replaced as writers of the store do) is read again, a few
 * times, then refused with -EAGAIN: what was read may be a torn mix. */
static int read_text(struct ovl_store *store, int fd, struct stat *st, char **text,
		     size_t *length)
{
	const char *path = state_of(store)->path;
	struct stat after;
	size_t size, used;
	char *buffer;
	int attempt;
	ssize_t n;

	for (attempt = 0; attempt < 3; attempt++) {
		size = (size_t)st->st_size;
		/* one byte more than the file had, so that growth shows */
		buffer = malloc(size + 1);
		if (!buffer)
			return -ENOMEM;
		for (used = 0; used <= size; used += (size_t)n) {
			n = pread(fd, buffer + used, size + 1 - used, (off_t)used);
			if (n < 0 && errno == EINTR)
				n = 0;
			else if (n < 0) {
				free(buffer);
				return ctx_fail(store->ctx, -errno, "store %s: cannot read it: %s",
						path, ovl_strerror(errno));
			} else if (n == 0)
				break;
		}
		if (fstat(fd, &after) < 0) {
			free(buffer);
			return ctx_fail(store->ctx, -errno, "store %s: %s", path,
					ovl_strerror(errno));
		}
		if (used == size && same_version(st, &after)) {
			*text = buffer;
			*length = size;
			return 0;
		}
		free(buffer);
		*st = after;
	}
	return ctx_fail(store->ctx, -EAGAIN, "store %s: the file keeps changing while it is "
			"read (something writes it in place instead of replacing it)", path);
}

/* Brings the cache up to the file's current version. */
static int load(struct ovl_store *store)
{
	struct file_store *fs = state_of(store);
	struct store_doc doc = { 0 };
	char detail[400];
	struct stat st;
	char *text = NULL;
	size_t length = 0;
	int fd, err;

	fd = open(fs->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (fs->loaded && fs->cache_fd < 0)
			return 0;		/* still no file: still empty */
		cache_drop(fs);
		fs->loaded = 1;
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = ctx_fail(store->ctx, -errno, "store %s: %s", fs->path, ovl_strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (fs->loaded && fs->cache_fd >= 0 && same_version(&st, &fs->cache_stat)) {
		close(fd);
		return 0;
	}
	err = check_trusted(store, fs->path, &st);
	if (!err)
		err = check_path(store, fs->dir);
	if (!err)
		err = read_text(store, fd, &st, &text, &length);
	/* an empty file holds nothing a rewrite could lose */
	if (!err && length)
		err = store_doc_read(store->ctx, text, length, &doc);
	if (err == -EBADMSG) {
		snprintf(detail, sizeof(detail), "%s", ovl_ctx_error(store->ctx));
		err = corrupt(store, "does not parse: ", detail);
	}
	if (err < 0)
		free(text);
	else
		err = adopt_document(store, text, length, &doc);
	if (err < 0) {
		close(fd);
		return err;
	}
	fs->cache_fd = fd;
	fs->cache_stat = st;
	return 0;
}

static long find_record(const struct file_store *fs, const char *key)
{
	size_t i;

	for (i = 0; i < fs->doc.count; i++)
		if (store_doc_record_is(&fs->doc.records[i], key))
			return (long)i;
	return -1;
}

static void delete_record(struct file_store *fs, size_t index)
{
	store_doc_record_clear(&fs->doc.records[index]);
	fs->doc.records[index] = fs->doc.records[--fs->doc.count];
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

/* The new document as pieces to write. */
struct pieces {
	struct iovec *list;
	size_t count;
};

/* Appends a piece, growing the last one when this one follows it in
 * memory: a document we wrote comes back as a few long pieces of the
 * old text as read (fs->text), not one per lease. */
static void add_piece(struct pieces *pieces, const char *base, size_t length)
{
	struct iovec *last = pieces->count ? &pieces->list[pieces->count - 1] : NULL;

	if (last && (const char *)last->iov_base + last->iov_len == base) {
		last->iov_len += length;
		return;
	}
	pieces->list[pieces->count].iov_base = (void *)base;
	pieces->list[pieces->count++].iov_len = length;
}

/* The literal from the old text at at when it is there, else the static
 * copy, so that add_piece can join it to its neighbours. */
static const char *literal(const struct file_store *fs, const char *at, const char *text,
			   size_t length)
{
	return fs->text && at >= fs->text && at + length <= fs->text + fs->text_length &&
	       !memcmp(at, text, length) ? at : text;
}

/* The document: the top-level members in head, then "leases" with one
 * lease per line (easy to read and diff).  NULL when out of memory. */
static struct iovec *document_pieces(struct file_store *fs, char *head, size_t head_size,
				     size_t *count)
{
	const struct store_doc *doc = &fs->doc;
	const struct doc_record *record;
	struct pieces pieces;
	size_t i;

	/* per record: quote, key, quote and colon, value, separator */
	pieces.list = malloc((5 * doc->count + 2) * sizeof(*pieces.list));
	if (!pieces.list)
		return NULL;
	pieces.count = 0;
	add_piece(&pieces, head, (size_t)snprintf(head, head_size,
			"{\"version\":%d,\"revision\":%lld%s%s%s%s,\"leases\":{\n",
			FORMAT_VERSION, (long long)doc->revision,
			doc->config ? ",\"config\":" : "", doc->config ? doc->config : "",
			doc->others ? "," : "", doc->others ? doc->others : ""));
	for (i = 0; i < doc->count; i++) {
		record = &doc->records[i];
		add_piece(&pieces, literal(fs, record->key_text - 1, "\"", 1), 1);
		add_piece(&pieces, record->key_text, record->key_length);
		add_piece(&pieces, literal(fs, record->key_text + record->key_length, "\":", 2), 2);
		add_piece(&pieces, record->text, record->length);
		if (i + 1 < doc->count)
			add_piece(&pieces, literal(fs, record->text + record->length, ",\n", 2), 2);
		else
			add_piece(&pieces, "\n", 1);
	}
	add_piece(&pieces, "}}\n", 3);
	*count = pieces.count;
	return pieces.list;
}

/* Writes the modified document as the next revision. */
static int commit(struct ovl_store *store, int64_t now)
{
	struct file_store *fs = state_of(store);
	const struct doc_record *record;
	struct iovec *pieces;
	size_t i, count, head_size;
	char *head;
	int fd, err;

	for (i = fs->doc.count; i-- > 0;) {
		record = &fs->doc.records[i];
		if (record->usable && record->claim.expiration &&
		    record->claim.expiration + EXPIRED_KEPT <= now)
			delete_record(fs, i);
	}
	fs->doc.revision++;
	head_size = 96 + (fs->doc.config ? strlen(fs->doc.config) : 0) +
		    (fs->doc.others ? strlen(fs->doc.others) : 0);
	head = malloc(head_size);
	pieces = head ? document_pieces(fs, head, head_size, &count) : NULL;
	err = pieces ? file_replace_pieces(store->ctx, fs->path, fs->tmp_path, pieces,
					   count, &fd) : -ENOMEM;
	free(pieces);
	free(head);
	if (err < 0)
		return err == -ENOMEM ? err : ctx_fail_prefix(store->ctx, err, "store %s: ",
							      fs->path);
	if (fs->cache_fd >= 0)
		close(fs->cache_fd);
	fs->cache_fd = fd;
	if (fstat(fd, &fs->cache_stat) < 0)
		memset(&fs->cache_stat, 0, sizeof(fs->cache_stat));
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
	const char *config;
	int err = load(store);

	if (err < 0)
		return err;
	config = state_of(store)->doc.config;
	if (!config)
		return ctx_fail(store->ctx, -ENOENT, "store %s holds no network config",
				state_of(store)->path);
	*json = strdup(config);
	return *json ? 0 : -ENOMEM;
}

static int file_config_put(struct ovl_store *store, const char *json)
{
	struct file_store *fs = state_of(store);
	json_error_t error;
	json_t *config;
	char *compact;
	int err = json_parse(json, strlen(json), 0, &config, &error);

	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(store->ctx, err, "config: not JSON");
	compact = json_dumps(config, JSON_COMPACT);
	json_decref(config);
	if (!compact)
		return -ENOMEM;
	err = lock_and_load(store);
	if (err < 0) {
		free(compact);
		return err;
	}
	free(fs->doc.config);
	fs->doc.config = compact;
	return finish_change(fs, commit(store, time(NULL)));
}

static int file_list(struct ovl_store *store, struct ovl_lease ***leases,
		     size_t *count, uint64_t *revision)
{
	struct file_store *fs = state_of(store);
	struct ovl_lease **copy;
	size_t i, n = 0;
	int err = load(store);

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
	struct file_store *fs = state_of(store);
	const struct lease_claim **existing;
	struct ovl_lease *chosen = NULL;
	int64_t now = time(NULL);
	size_t i, count = 0, *where;
	long dropped;
	int err = lock_and_load(store);

	if (err < 0)
		return err;
	/* unusable records too: their subnets are taken, by nobody */
	existing = malloc((fs->doc.count ? fs->doc.count : 1) * sizeof(*existing));
	where = malloc((fs->doc.count ? fs->doc.count : 1) * sizeof(*where));
	if (!existing || !where) {
		free(existing);
		free(where);
		return finish_change(fs, -ENOMEM);
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
		delete_record(fs, where[dropped]);
	free(existing);
	free(where);
	if (!err)
		err = put_record(fs, chosen);
	if (!err)
		err = commit(store, now);
	err = finish_change(fs, err);
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
	struct file_store *fs = state_of(store);
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
		renewed = lease_copy(fs->doc.records[index].extra->lease);
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
		lease->revision = (uint64_t)fs->doc.revision;
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
	err = find_ours(store, lease, &index);
	if (!err) {
		delete_record(fs, (size_t)index);
		err = commit(store, time(NULL));
	} else if (err == -ESTALE) {
		/* not ours (any more): nothing of ours to remove */
		ctx_log(store->ctx, OVL_LOG_INFO, "release: %s", ovl_ctx_error(store->ctx));
		ctx_clear_error(store->ctx);
		err = 0;
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
