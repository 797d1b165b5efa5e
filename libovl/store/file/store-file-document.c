/*
 * store-file-document.c - the file store's document on disk: read into the
 * cache (checked for trusted owners and modes, read again only when the
 * file changed), locked for a change (flock on "<file>.lock"), and written
 * as the next revision (a temporary file, fsync, rename over, fsync the
 * directory) from the unchanged runs of the old text where they lie.
 *
 * The file is read with one call into one buffer which records borrow
 * (store-doc.c keeps per record only its place in the text), never mapped:
 * any process that can write the file could truncate it, and touching a
 * mapped page past the new end raises SIGBUS in the embedding program.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "store/file/store-file.h"

#define FORMAT_VERSION 1
/* Expired records stay this long (the allocator treats them as free, but a
 * node coming back soon gets its old subnet), then the next write drops
 * them so that churn does not grow the file forever. */
#define EXPIRED_KEPT LEASE_DEFAULT_TTL

void store_file_cache_drop(struct file_store *fs)
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
			"it is)", store_file_state(store)->path, format, detail);
}

/* Takes the text and doc as the cache after checking the format version. */
static int adopt_document(struct ovl_store *store, char *text, size_t length,
			  struct store_doc *doc)
{
	struct file_store *fs = store_file_state(store);
	size_t i, skipped = 0;

	if (doc->version > FORMAT_VERSION) {
		ctx_fail(store->ctx, -ENOTSUP, "store %s: format version %lld is newer than "
			 "this libovl's (%d); refusing to use or downgrade it", fs->path,
			 (long long)doc->version, FORMAT_VERSION);
		store_doc_free(doc);
		free(text);
		return -ENOTSUP;
	}
	store_file_cache_drop(fs);
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
	const struct file_store *fs = store_file_state(store);
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
int store_file_check_path(struct ovl_store *store, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		       ctx_fail(store->ctx, -errno, "store %s: %s: %s",
				store_file_state(store)->path, path, ovl_strerror(errno));
	return check_trusted(store, path, &st);
}

int store_file_same_version(const struct stat *a, const struct stat *b)
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
	const char *path = store_file_state(store)->path;
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
		if (used == size && store_file_same_version(st, &after)) {
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
int store_file_load(struct ovl_store *store)
{
	struct file_store *fs = store_file_state(store);
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
		store_file_cache_drop(fs);
		fs->loaded = 1;
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = ctx_fail(store->ctx, -errno, "store %s: %s", fs->path, ovl_strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (fs->loaded && fs->cache_fd >= 0 && store_file_same_version(&st, &fs->cache_stat)) {
		close(fd);
		return 0;
	}
	err = check_trusted(store, fs->path, &st);
	if (!err)
		err = store_file_check_path(store, fs->dir);
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

void store_file_drop_record(struct file_store *fs, size_t index)
{
	store_doc_record_clear(&fs->doc.records[index]);
	fs->doc.records[index] = fs->doc.records[--fs->doc.count];
}


static int64_t monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int lock_store(struct ovl_store *store)
{
	struct file_store *fs = store_file_state(store);
	int64_t started = monotonic_ms();
	unsigned int pause_ms = 1;
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
	/* Tried, never waited for without a limit: the blocking calls poll it
	 * (1 ms doubling to 32 ms) until the store's timeout. */
	for (;;) {
		if (flock(fs->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return ctx_fail(store->ctx, -errno, "store %s: cannot lock %s: %s",
					fs->path, fs->lock_path, ovl_strerror(errno));
		if (fs->lock_nonblocking)
			return ctx_fail(store->ctx, -EWOULDBLOCK, "store %s: %s is held by "
					"another process", fs->path, fs->lock_path);
		if (monotonic_ms() - started >= fs->timeout_ms)
			return ctx_fail(store->ctx, -ETIMEDOUT, "store %s: %s held by another "
					"process for %ld ms (the store's timeout)", fs->path,
					fs->lock_path, fs->timeout_ms);
		usleep((useconds_t)pause_ms * 1000);
		pause_ms = pause_ms < 32 ? pause_ms * 2 : 32;
	}
}

static void unlock_store(struct file_store *fs)
{
	flock(fs->lock_fd, LOCK_UN);
}

/* Starts a change: the lock, and the cache up to date.  On failure no
 * lock is held. */
int store_file_begin_change(struct ovl_store *store)
{
	int err = lock_store(store);

	if (err < 0)
		return err;
	err = store_file_load(store);
	if (err < 0)
		unlock_store(store_file_state(store));
	return err;
}

/* Ends a change; after a failure the cache no longer matches the file. */
int store_file_end_change(struct file_store *fs, int err)
{
	if (err < 0)
		store_file_cache_drop(fs);
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
int store_file_commit(struct ovl_store *store, int64_t now)
{
	struct file_store *fs = store_file_state(store);
	const struct doc_record *record;
	struct iovec *pieces;
	size_t i, count, head_size;
	char *head;
	int fd, err;

	for (i = fs->doc.count; i-- > 0;) {
		record = &fs->doc.records[i];
		if (record->usable && record->claim.expiration &&
		    record->claim.expiration + EXPIRED_KEPT <= now)
			store_file_drop_record(fs, i);
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
