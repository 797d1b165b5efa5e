/*
 * store-async.c - the store's requests that never block (see store.h):
 * the generic half, which checks arguments and forwards to the backend's
 * async hooks.
 */
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

int store_async_changed(struct store_async *async, store_changed_done done, void *arg)
{
	if (!async->store->ops->async_changed)
		return -EOPNOTSUPP;
	return async->store->ops->async_changed(async, done, arg);
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
