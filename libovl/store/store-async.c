/*
 * store-async.c - the store's requests that never block (see store.h):
 * the generic half, which checks arguments and forwards to the backend's
 * async hooks; and the blocking calls made of them (store_wait_*), for
 * backends whose every operation is a chain of requests.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "store/store.h"

int store_async_open(struct ovl_store *store, struct store_async **out)
{
	struct store_async *async;
	int err;

	*out = NULL;
	if (!store->ops->async_open)
		return ctx_fail(store->ctx, -EOPNOTSUPP, "%s store: no non-blocking requests",
				store->ops->scheme);
	async = calloc(1, sizeof(*async));
	if (!async)
		return ctx_fail(store->ctx, -ENOMEM, "out of memory");
	async->store = store;
	async->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (async->epoll_fd < 0) {
		err = ctx_fail(store->ctx, -errno, "store: epoll: %s", ovl_strerror(errno));
		free(async);
		return err;
	}
	err = store->ops->async_open(async);
	if (err < 0) {
		close(async->epoll_fd);
		free(async);
		return err;
	}
	*out = async;
	return 0;
}

int store_async_fd(const struct store_async *async)
{
	return async->epoll_fd;
}

int store_async_dispatch(struct store_async *async)
{
	return async->store->ops->async_dispatch(async);
}

void store_async_close(struct store_async *async)
{
	if (!async)
		return;
	async->store->ops->async_close(async);
	close(async->epoll_fd);
	free(async);
}

int store_async_list(struct store_async *async, store_list_done done, void *arg)
{
	return async->store->ops->async_list(async, done, arg);
}

int store_async_changed(struct store_async *async, const struct ovl_watch *watch,
			store_changed_done done, void *arg)
{
	if (!async->store->ops->async_changed)
		return -EOPNOTSUPP;
	return async->store->ops->async_changed(async, watch, done, arg);
}

int store_async_renew(struct store_async *async, struct ovl_lease *lease,
		      unsigned int ttl_seconds, store_lease_done done, void *arg)
{
	return async->store->ops->async_renew(async, lease, ttl_seconds, done, arg);
}

int store_async_acquire(struct store_async *async, const struct ovl_config *config,
			const struct ovl_lease_request *request, store_lease_done done,
			void *arg)
{
	if (request->size < sizeof(request->size))
		return ctx_fail(async->store->ctx, -EINVAL, "lease request: size not set "
				"(use OVL_LEASE_REQUEST_INIT)");
	return async->store->ops->async_acquire(async, config, request, done, arg);
}

/* ---- blocking calls over the async hooks ---------------------------- */

struct wait {
	int finished, err;
	struct ovl_lease *lease;
	struct ovl_lease **leases;
	size_t count;
};

static void wait_lease_done(void *arg, int err, struct ovl_lease *lease)
{
	struct wait *wait = arg;

	wait->finished = 1;
	wait->err = err;
	wait->lease = lease;
}

static void wait_list_done(void *arg, int err, struct ovl_lease **leases, size_t count)
{
	struct wait *wait = arg;

	wait->finished = 1;
	wait->err = err;
	wait->leases = leases;
	wait->count = count;
}

/* Dispatches async until its one request ended (every request has a
 * deadline, so this ends too), then closes it. */
static int wait_for(struct store_async *async, int err, struct wait *wait)
{
	struct pollfd ready = { .fd = async->epoll_fd, .events = POLLIN };

	while (!err && !wait->finished) {
		if (poll(&ready, 1, 100) < 0 && errno != EINTR)
			err = ctx_fail(async->store->ctx, -errno, "store: poll: %s",
				       ovl_strerror(errno));
		else
			err = store_async_dispatch(async);
	}
	store_async_close(async);
	return wait->finished ? wait->err : err;
}

int store_wait_acquire(struct ovl_store *store, const struct ovl_config *config,
		       const struct ovl_lease_request *request, struct ovl_lease **lease)
{
	struct store_async *async;
	struct wait wait = { 0 };
	int err = store_async_open(store, &async);

	*lease = NULL;
	if (err < 0)
		return err;
	err = wait_for(async, store_async_acquire(async, config, request, wait_lease_done, &wait),
		       &wait);
	if (err < 0)
		ovl_lease_free(wait.lease);
	*lease = err < 0 ? NULL : wait.lease;
	return err;
}

int store_wait_renew(struct ovl_store *store, struct ovl_lease *lease, unsigned int ttl_seconds)
{
	struct store_async *async;
	struct wait wait = { 0 };
	int err = store_async_open(store, &async);

	if (err < 0)
		return err;
	return wait_for(async, store_async_renew(async, lease, ttl_seconds, wait_lease_done, &wait),
			&wait);
}

int store_wait_list(struct ovl_store *store, struct ovl_lease ***leases, size_t *count,
		    uint64_t *revision)
{
	struct store_async *async;
	struct wait wait = { 0 };
	int err = store_async_open(store, &async);

	*leases = NULL;
	*count = 0;
	*revision = 0;
	if (err < 0)
		return err;
	err = wait_for(async, store_async_list(async, wait_list_done, &wait), &wait);
	if (err < 0)
		ovl_leases_free(wait.leases, wait.count);
	*leases = err < 0 ? NULL : wait.leases;
	*count = err < 0 ? 0 : wait.count;
	return err;
}
