/*
 * file-async.c - the file store's operations for callers that must not
 * block (the agent).  The document is local, so reading and writing it is
 * quick; only its lock can make a caller wait, for as long as another
 * process holds it.  Here the lock is tried, never waited for: a request
 * runs from store_async_dispatch (never inside the call that started it),
 * and while the lock is held it is tried again every RETRY_MS until its
 * deadline, the store's timeout (file:PATH?timeout=SECONDS, default 5 s).
 *
 * Whether anything changed since the last listing is the file's version
 * (it is only ever replaced, a new inode each time; an edit in place
 * changes its size or times) and the first expiry among the records
 * listed: a resync of an unchanged store lists nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "store/file/store-file.h"

#define RETRY_MS 100

enum op_kind { OP_LIST, OP_CHANGED, OP_RENEW, OP_ACQUIRE };

struct file_op {
	struct file_op *next;
	enum op_kind kind;
	store_list_done list_done;
	store_changed_done changed_done;
	store_lease_done lease_done;
	void *arg;
	struct ovl_lease *lease;	/* renew: the caller's */
	unsigned int ttl;
	const struct ovl_config *config;
	struct lease_request_copy request;
	int64_t deadline;		/* monotonic ms */
};

struct file_async {
	int timer_fd;
	struct file_op *ops, **tail;	/* in the order they were started */
	/* The last listing delivered: the file's version (zeroed: no file)
	 * and the first expiry among its records (0: none expires). */
	int has_listed;
	struct stat listed;
	int64_t listed_expiry;
};

static int64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void arm(struct file_async *fa, long ms)
{
	struct itimerspec when = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000000 + (ms ? 0 : 1) } };

	timerfd_settime(fa->timer_fd, 0, &when, NULL);
}

int file_async_open(struct store_async *async)
{
	struct epoll_event event = { .events = EPOLLIN };
	struct file_async *fa = calloc(1, sizeof(*fa));
	int err;

	if (!fa)
		return ctx_fail(async->store->ctx, -ENOMEM, "out of memory");
	fa->tail = &fa->ops;
	fa->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	event.data.fd = fa->timer_fd;
	if (fa->timer_fd < 0 ||
	    (async->epoll_fd >= 0 &&
	     epoll_ctl(async->epoll_fd, EPOLL_CTL_ADD, fa->timer_fd, &event) < 0)) {
		err = ctx_fail(async->store->ctx, -errno, "file store: %s", ovl_strerror(errno));
		if (fa->timer_fd >= 0)
			close(fa->timer_fd);
		free(fa);
		return err;
	}
	async->state = fa;
	return 0;
}

static void op_free(struct file_op *op)
{
	lease_request_copy_free(&op->request);
	free(op);
}

void file_async_close(struct store_async *async)
{
	struct file_async *fa = async->state;
	struct file_op *op;

	if (!fa)
		return;
	while ((op = fa->ops)) {
		fa->ops = op->next;
		op_free(op);
	}
	close(fa->timer_fd);
	free(fa);
	async->state = NULL;
}

/* The version of the file the cache holds (zeroed when there is none). */
static struct stat cached_version(const struct file_store *fs)
{
	struct stat none;

	if (fs->cache_fd >= 0)
		return fs->cache_stat;
	memset(&none, 0, sizeof(none));
	return none;
}

static void note_listing(struct file_async *fa, const struct file_store *fs,
			 struct ovl_lease **leases, size_t count)
{
	size_t i;

	fa->has_listed = 1;
	fa->listed = cached_version(fs);
	fa->listed_expiry = 0;
	for (i = 0; i < count; i++)
		if (leases[i]->expiration > 0 &&
		    (!fa->listed_expiry || leases[i]->expiration < fa->listed_expiry))
			fa->listed_expiry = leases[i]->expiration;
}

static int changed_since_listing(const struct file_async *fa, const struct file_store *fs)
{
	struct stat now = cached_version(fs);

	return !fa->has_listed || !store_file_same_version(&now, &fa->listed) ||
	       (fa->listed_expiry && fa->listed_expiry <= time(NULL));
}

/* Runs op with the lock tried once: 1 when it ended (done called), 0 when
 * the lock was held and there is time left. */
static int run(struct store_async *async, struct file_op *op)
{
	struct ovl_store *store = async->store;
	struct file_store *fs = store_file_state(store);
	struct ovl_lease **leases = NULL, *lease = NULL;
	size_t count = 0;
	uint64_t revision;
	int err;

	fs->lock_nonblocking = 1;
	switch (op->kind) {
	case OP_LIST:
		err = store->ops->list(store, &leases, &count, &revision);
		if (!err)
			note_listing(async->state, fs, leases, count);
		break;
	case OP_CHANGED:
		/* Reads are never locked: the file is replaced whole. */
		err = store_file_load(store);
		break;
	case OP_RENEW:
		err = store->ops->renew(store, op->lease, op->ttl);
		lease = op->lease;
		break;
	default:
		err = store->ops->acquire(store, op->config, &op->request.request, &lease);
		break;
	}
	fs->lock_nonblocking = 0;
	if (err == -EWOULDBLOCK) {
		if (now_ms() < op->deadline)
			return 0;
		err = ctx_fail_prefix(store->ctx, -ETIMEDOUT, "no lock within %ld ms (the "
				      "store's timeout): ", fs->timeout_ms);
	}
	if (op->list_done)
		op->list_done(op->arg, err, leases, count);
	else if (op->changed_done)
		op->changed_done(op->arg, err,
				 !err && changed_since_listing(async->state, fs)
					 ? STORE_CHANGED_SINCE_LISTING | STORE_CHANGED_SINCE_WATCH
					 : 0);
	else
		op->lease_done(op->arg, err, lease);
	return 1;
}

int file_async_dispatch(struct store_async *async)
{
	struct file_async *fa = async->state;
	struct file_op *pending = fa->ops, *kept = NULL, **kept_tail = &kept, *op;
	uint64_t expirations;

	/* The requests run when the timer says so, not on every wake-up of
	 * the caller's loop (a held lock is tried every RETRY_MS, no more). */
	if (read(fa->timer_fd, &expirations, sizeof(expirations)) < 0)
		return errno == EAGAIN ? 0 : ctx_fail(async->store->ctx, -errno,
						      "file store: timer: %s", ovl_strerror(errno));
	/* Done functions may start new requests: they queue on the emptied
	 * list and run at once, after the ones still waiting for the lock. */
	fa->ops = NULL;
	fa->tail = &fa->ops;
	while ((op = pending)) {
		pending = op->next;
		op->next = NULL;
		if (run(async, op)) {
			op_free(op);
			continue;
		}
		*kept_tail = op;
		kept_tail = &op->next;
	}
	if (fa->ops)
		arm(fa, 0);
	else if (kept)
		arm(fa, RETRY_MS);
	if (kept) {
		*kept_tail = fa->ops;
		if (!fa->ops)
			fa->tail = kept_tail;
		fa->ops = kept;
	}
	return 0;
}

static struct file_op *op_add(struct store_async *async, enum op_kind kind, void *arg)
{
	struct file_async *fa = async->state;
	struct file_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->kind = kind;
	op->arg = arg;
	op->deadline = now_ms() + store_file_state(async->store)->timeout_ms;
	*fa->tail = op;
	fa->tail = &op->next;
	arm(fa, 0);
	return op;
}

int file_async_list(struct store_async *async, store_list_done done, void *arg)
{
	struct file_op *op = op_add(async, OP_LIST, arg);

	if (!op)
		return ctx_fail(async->store->ctx, -ENOMEM, "out of memory");
	op->list_done = done;
	return 0;
}

/* The caller's watch is not needed: the file's version tells. */
int file_async_changed(struct store_async *async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg)
{
	struct file_op *op = op_add(async, OP_CHANGED, arg);

	(void)watch;
	if (!op)
		return ctx_fail(async->store->ctx, -ENOMEM, "out of memory");
	op->changed_done = done;
	return 0;
}

int file_async_renew(struct store_async *async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg)
{
	struct file_op *op = op_add(async, OP_RENEW, arg);

	if (!op)
		return ctx_fail(async->store->ctx, -ENOMEM, "out of memory");
	op->lease_done = done;
	op->lease = lease;
	op->ttl = ttl_seconds;
	return 0;
}

int file_async_acquire(struct store_async *async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg)
{
	struct file_op *op;
	struct lease_request_copy copy;
	int err = lease_request_copy(async->store->ctx, request, &copy);

	if (err < 0)
		return err;
	op = op_add(async, OP_ACQUIRE, arg);
	if (!op) {
		lease_request_copy_free(&copy);
		return ctx_fail(async->store->ctx, -ENOMEM, "out of memory");
	}
	op->lease_done = done;
	op->config = config;
	op->request = copy;
	return 0;
}
