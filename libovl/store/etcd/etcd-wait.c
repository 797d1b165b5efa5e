/*
 * etcd-wait.c - the etcd store's blocking acquire and renew: the chains of
 * etcd-async.c run to their end on a private loop, so that a blocking call
 * and the agent's non-blocking one are one implementation.
 */
#include "store/etcd/etcd.h"

struct wait {
	int finished, err;
	struct ovl_lease *lease;
};

static void wait_done(void *arg, int err, struct ovl_lease *lease)
{
	struct wait *wait = arg;

	wait->finished = 1;
	wait->err = err;
	wait->lease = lease;
}

/* Every request has a timeout, so this ends too. */
static int wait_for(struct store_async *async, struct wait *wait)
{
	int err = etcd_async_wait(async, &wait->finished);

	return wait->finished ? wait->err : err;
}

/* A private async (no outer epoll set) for one blocking call. */
static int blocking_open(struct ovl_store *store, struct store_async *async)
{
	async->store = store;
	async->epoll_fd = -1;
	async->state = NULL;
	return etcd_async_open(async);
}

int etcd_acquire_wait(struct ovl_store *store, const struct ovl_config *config,
		      const struct ovl_lease_request *request, struct ovl_lease **lease)
{
	struct store_async async;
	struct wait wait = { 0 };
	int err;

	*lease = NULL;
	err = blocking_open(store, &async);
	if (!err)
		err = etcd_async_acquire(&async, config, request, wait_done, &wait);
	if (!err)
		err = wait_for(&async, &wait);
	if (!err)
		*lease = wait.lease;
	else if (wait.lease)
		ovl_lease_free(wait.lease);
	etcd_async_close(&async);
	return err;
}

int etcd_renew_wait(struct ovl_store *store, struct ovl_lease *lease, unsigned int ttl_seconds)
{
	struct store_async async;
	struct wait wait = { 0 };
	int err;

	err = blocking_open(store, &async);
	if (!err)
		err = etcd_async_renew(&async, lease, ttl_seconds, wait_done, &wait);
	if (!err)
		err = wait_for(&async, &wait);
	etcd_async_close(&async);
	return err;
}
