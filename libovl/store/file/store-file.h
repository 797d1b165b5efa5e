/*
 * store-file.h - what the file store's parts share: the handle's state and
 * the document's reading, locking and writing (store-file-document.c) for
 * the operations (store-file.c), the watch (store-file-watch.c) and the
 * operations for callers that must not block (file-async.c).
 */
#ifndef OVL_STORE_FILE_H
#define OVL_STORE_FILE_H

#include <limits.h>
#include <sys/stat.h>

#include "store/file/store-doc.h"
#include "store/store.h"

struct file_store {
	char path[PATH_MAX], dir[PATH_MAX], base[NAME_MAX + 1];
	char lock_path[PATH_MAX], tmp_path[PATH_MAX];
	int lock_fd;
	/* The version last read or written.  cache_fd pins its inode, so a
	 * path whose stat still matches cache_stat is that very version (the
	 * store only ever replaces the file; whoever writes it in place
	 * changes its size or times). */
	int cache_fd;
	struct stat cache_stat;
	int loaded;			/* 0: nothing cached */
	/* The file's text as read, which records borrow until
	 * store_file_cache_drop. */
	char *text;
	size_t text_length;
	struct store_doc doc;
	/* Set by file-async.c around its calls: a held lock is -EWOULDBLOCK,
	 * not a wait. */
	int lock_nonblocking;
	long timeout_ms;		/* the longest wait for the lock */
};

#define STORE_FILE_DEFAULT_TIMEOUT_MS 5000

static inline struct file_store *store_file_state(struct ovl_store *store)
{
	return store->state;
}

/* Forgets the cached document and closes its file. */
void store_file_cache_drop(struct file_store *fs);
/* Path, if it exists, must be owned by root or this user and not be
 * writable by others, else -EPERM (someone else could inject routes). */
int store_file_check_path(struct ovl_store *store, const char *path);
/* Brings the cache up to the file's current version. */
int store_file_load(struct ovl_store *store);
/* 1 when two stats are of the same version of the file. */
int store_file_same_version(const struct stat *a, const struct stat *b);
/* Starts a change: the lock, and the cache up to date.  On failure no lock
 * is held. */
int store_file_begin_change(struct ovl_store *store);
/* Ends a change, returning err; after a failure the cache no longer
 * matches the file and is dropped. */
int store_file_end_change(struct file_store *fs, int err);
/* Writes the modified document as the next revision, dropping records
 * expired long enough. */
int store_file_commit(struct ovl_store *store, int64_t now);
/* Removes the record at index (the last one takes its place). */
void store_file_drop_record(struct file_store *fs, size_t index);

/* The store's list operation, which the watch lists with. */
int store_file_list(struct ovl_store *store, struct ovl_lease ***leases, size_t *count,
		    uint64_t *revision);
int store_file_watch_open(struct ovl_watch *watch);
int store_file_watch_poll(struct ovl_watch *watch);
void store_file_watch_close(struct ovl_watch *watch);

/* store_ops hooks (file-async.c). */
int file_async_open(struct store_async *async);
void file_async_close(struct store_async *async);
int file_async_dispatch(struct store_async *async);
int file_async_list(struct store_async *async, store_list_done done, void *arg);
int file_async_changed(struct store_async *async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg);
int file_async_renew(struct store_async *async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg);
int file_async_acquire(struct store_async *async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg);

#endif
