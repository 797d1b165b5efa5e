/*
 * kube-async.c - the kube store's listings, acquisitions and renewals as
 * requests that never block: each operation is a short chain of HTTP
 * requests on an http_loop (list: pages; acquire: get the Node, patch its
 * annotations, set its NetworkUnavailable condition; renew: get the Node,
 * restore what differs), one request in flight at a time, moving on from
 * the previous reply.  The blocking store calls run the same chains to
 * their end (store_wait_*), so there is one implementation of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store/kube/kube.h"

enum op_kind { OP_LIST, OP_ACQUIRE, OP_RENEW, OP_CHANGED };
enum op_step { STEP_PAGE, STEP_GET, STEP_PATCH, STEP_CONDITION };

struct kube_op {
	struct kube_async *owner;
	struct kube_op *next;
	enum op_kind kind;
	enum op_step step;
	struct kube_request *request;
	store_list_done list_done;
	store_lease_done lease_done;
	store_changed_done changed_done;
	void *arg;
	/* list */
	struct ovl_lease **leases;
	size_t count;
	char *resource_version, *continue_token;
	int watched;			/* a watch followed when it started */
	uint64_t watches_stopped;	/* the store's count then */
	int changed;			/* changed: the answer */
	/* acquire: the new lease; renew: the caller's */
	struct ovl_lease *lease;
	const struct ovl_config *config;
	struct lease_request_copy request_copy;
	unsigned int ttl;
	char *node_name;
};

struct kube_async {
	struct kube_store *store;
	struct ovl_ctx *ctx;
	struct http_loop loop;
	struct kube_op *ops;
	int wake_fd;			/* answers that need no request */
	/* The store's count of stopped watches when the last listing started
	 * that a watch then followed (or when the async opened). */
	uint64_t watches_stopped;
};

static void on_reply(void *arg, int err, json_t *reply);

static void op_unlink(struct kube_op *op)
{
	struct kube_op **p;

	for (p = &op->owner->ops; *p; p = &(*p)->next)
		if (*p == op) {
			*p = op->next;
			break;
		}
}

static void op_free(struct kube_op *op)
{
	kube_request_cancel(&op->owner->loop, op->request);
	ovl_leases_free(op->leases, op->count);
	free(op->resource_version);
	free(op->continue_token);
	if (op->kind == OP_ACQUIRE)
		ovl_lease_free(op->lease);
	lease_request_copy_free(&op->request_copy);
	free(op->node_name);
	free(op);
}

static struct kube_op *op_new(struct kube_async *async, enum op_kind kind)
{
	struct kube_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->owner = async;
	op->kind = kind;
	op->next = async->ops;
	async->ops = op;
	return op;
}

/* Ends op: its done function runs, then it is gone. */
static void finish(struct kube_op *op, int err)
{
	struct ovl_lease *lease = op->lease, **leases = op->leases;
	size_t count = op->count;

	op_unlink(op);
	if (op->kind == OP_ACQUIRE) {
		op->lease = NULL;	/* the caller's now, or freed */
		if (err < 0) {
			ovl_lease_free(lease);
			lease = NULL;
		}
	}
	if (op->kind == OP_LIST) {
		op->leases = NULL;
		op->count = 0;
		if (err < 0) {
			ovl_leases_free(leases, count);
			leases = NULL;
			count = 0;
		}
		if (!err && op->watched)
			op->owner->watches_stopped = op->watches_stopped;
		op->list_done(op->arg, err, leases, count);
	} else if (op->kind == OP_CHANGED) {
		op->changed_done(op->arg, err, op->changed);
	} else {
		op->lease_done(op->arg, err, lease);
	}
	op_free(op);
}

static int send_step(struct kube_op *op, enum op_step step, const char *method,
		     const char *path, const char *body)
{
	struct kube_async *async = op->owner;

	if (!path)
		return ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
	op->step = step;
	return kube_request_start(&async->store->client, &async->loop, method, path, body,
				  NULL, 0, on_reply, op, &op->request);
}

static int send_page(struct kube_op *op)
{
	char path[4096];

	kube_list_path(op->continue_token, path, sizeof(path));
	return send_step(op, STEP_PAGE, "GET", path, NULL);
}

static int send_node_step(struct kube_op *op, enum op_step step, const char *method,
			  const char *suffix, const char *body)
{
	char *path = kube_node_path(op->node_name, suffix);
	int err = send_step(op, step, method, path, body);

	free(path);
	return err;
}

static int send_condition(struct kube_op *op)
{
	char *patch;
	int err;

	if (!op->owner->store->set_network_unavailable || op->kind != OP_ACQUIRE) {
		finish(op, 0);
		return 0;
	}
	patch = kube_condition_patch(time(NULL));
	if (!patch)
		return ctx_fail(op->owner->ctx, -ENOMEM, "kube: out of memory");
	err = send_node_step(op, STEP_CONDITION, "PATCH", "/status", patch);
	free(patch);
	return err;
}

/* The Node is read: what acquire or renew does with it. */
static int node_read(struct kube_op *op, const json_t *node)
{
	struct kube_async *async = op->owner;
	struct kube_store *store = async->store;
	char *patch = NULL;
	int err;

	if (op->kind == OP_ACQUIRE) {
		err = kube_node_claim(async->ctx, store, op->config, &op->request_copy.request,
				      node, &op->lease, &patch);
		if (err < 0)
			return err;
		/* Leases the store lists from now on have the config's families. */
		store->ipv4 = op->lease->has_ipv4;
		store->ipv6 = op->lease->has_ipv6;
		store->families_known = 1;
		op->lease->expiration = lease_expiration_after(time(NULL), op->ttl);
	} else {
		err = kube_node_recheck(async->ctx, store, node, op->lease, &patch);
		if (err == -ESTALE)
			op->lease->lost = 1;
		if (err < 0)
			return err;
		if (op->lease->expiration)
			op->lease->expiration = lease_expiration_after(time(NULL), op->ttl);
	}
	if (!patch)
		return send_condition(op);
	ctx_log(async->ctx, OVL_LOG_INFO, "kube: node %s: setting annotations %s",
		op->node_name, patch);
	/* Through the status subresource, as flanneld: a node's kubelet
	 * credentials (and flannel's ClusterRole) allow nodes/status. */
	err = send_node_step(op, STEP_PATCH, "PATCH", "/status", patch);
	free(patch);
	return err;
}

static int step_done(struct kube_op *op, json_t *reply)
{
	struct kube_async *async = op->owner;
	int err;

	switch (op->step) {
	case STEP_PAGE:
		free(op->continue_token);
		op->continue_token = NULL;
		err = kube_listing_page(async->ctx, async->store, reply, &op->leases, &op->count,
					&op->resource_version, &op->continue_token);
		if (err < 0)
			return err == -ENOMEM ? ctx_fail(async->ctx, err, "kube: out of memory") :
			       err;
		if (op->continue_token)
			return send_page(op);
		finish(op, 0);
		return 0;
	case STEP_GET:
		return node_read(op, reply);
	case STEP_PATCH:
		return send_condition(op);
	case STEP_CONDITION:
		finish(op, 0);
		return 0;
	}
	return -EINVAL;
}

static void on_reply(void *arg, int err, json_t *reply)
{
	struct kube_op *op = arg;

	op->request = NULL;	/* freed by the client */
	if (err == -ENOENT && op->step == STEP_GET)
		err = ctx_fail(op->owner->ctx, op->kind == OP_RENEW ? -ESTALE : -ENOENT,
			       "kube: node %s not found (--node or NODE_NAME must be this "
			       "host's Node object)", op->node_name);
	if (err == -ESTALE && op->kind == OP_RENEW)
		op->lease->lost = 1;
	if (err == -ESTALE && op->step == STEP_PAGE)	/* the continue token expired */
		err = ctx_fail(op->owner->ctx, -EAGAIN, "kube: listing expired between pages; "
			       "list again");
	if (!err)
		err = step_done(op, reply);
	if (err < 0)
		finish(op, err);
}

/* ---- store_ops hooks ------------------------------------------------ */

int kube_async_open(struct store_async *store_async)
{
	struct kube_async *async = calloc(1, sizeof(*async));
	int err;

	if (!async)
		return ctx_fail(store_async->store->ctx, -ENOMEM, "kube: out of memory");
	async->store = store_async->store->state;
	async->ctx = store_async->store->ctx;
	async->watches_stopped = async->store->watches_stopped;
	async->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (async->wake_fd < 0) {
		err = ctx_fail(async->ctx, -errno, "kube: eventfd: %s", ovl_strerror(errno));
		free(async);
		return err;
	}
	err = http_loop_init(&async->loop, async->ctx, "kube", async->wake_fd,
			     store_async->epoll_fd);
	if (err < 0) {
		close(async->wake_fd);
		free(async);
		return err;
	}
	store_async->state = async;
	return 0;
}

void kube_async_close(struct store_async *store_async)
{
	struct kube_async *async = store_async->state;
	struct kube_op *op;

	if (!async)
		return;
	while ((op = async->ops)) {
		async->ops = op->next;
		op_free(op);
	}
	http_loop_cleanup(&async->loop);
	close(async->wake_fd);
	free(async);
	store_async->state = NULL;
}

/* The wake-up fd: the answers async_changed queued. */
static int on_wake(void *arg, int fd)
{
	struct kube_async *async = arg;
	struct kube_store *store = async->store;
	struct kube_op *op, *next;
	uint64_t count;
	int changed;

	if (fd != async->wake_fd)
		return -ENOENT;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return ctx_fail(async->ctx, -errno, "kube: eventfd: %s", ovl_strerror(errno));
	/* The watch is the informer: what it reported since the last listing
	 * is all there is to know while it follows, as in flanneld, whose
	 * resyncs replay its cache without a request. */
	changed = !store->watches_following || store->watches_stopped != async->watches_stopped;
	for (op = async->ops; op; op = next) {
		next = op->next;
		if (op->kind == OP_CHANGED) {
			op->changed = changed ? STORE_CHANGED_SINCE_LISTING |
							STORE_CHANGED_SINCE_WATCH | STORE_WATCH_STOPPED
					      : 0;
			finish(op, 0);
		}
	}
	return 0;
}

int kube_async_dispatch(struct store_async *store_async)
{
	struct kube_async *async = store_async->state;

	return http_loop_run(&async->loop, 0, on_wake, async);
}

/* Starts op's first step, or frees it (the start failed: no done call). */
static int op_start(struct kube_op *op, int err)
{
	if (!err)
		err = op->kind == OP_LIST ? send_page(op) :
		      send_node_step(op, STEP_GET, "GET", NULL, NULL);
	if (err < 0) {
		op_unlink(op);
		op_free(op);
	}
	return err;
}

int kube_async_list(struct store_async *store_async, store_list_done done, void *arg)
{
	struct kube_async *async = store_async->state;
	struct kube_op *op = op_new(async, OP_LIST);

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
	op->list_done = done;
	op->arg = arg;
	op->watched = async->store->watches_following > 0;
	op->watches_stopped = async->store->watches_stopped;
	return op_start(op, 0);
}

/* Answered without a request (see on_wake), from the next dispatch; the
 * store's own watches tell, so the caller's is not needed. */
int kube_async_changed(struct store_async *store_async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg)
{
	struct kube_async *async = store_async->state;
	struct kube_op *op = op_new(async, OP_CHANGED);
	uint64_t one = 1;

	(void)watch;
	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
	op->changed_done = done;
	op->arg = arg;
	if (write(async->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		op_unlink(op);
		op_free(op);
		return ctx_fail(async->ctx, -errno, "kube: eventfd: %s", ovl_strerror(errno));
	}
	return 0;
}

static int set_node_name(struct kube_op *op, const char *name)
{
	struct kube_async *async = op->owner;
	int err = kube_node_name_check(async->ctx, name);

	if (err < 0)
		return err;
	op->node_name = strdup(name);
	return op->node_name ? 0 : ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
}

int kube_async_renew(struct store_async *store_async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg)
{
	struct kube_async *async = store_async->state;
	struct kube_op *op = op_new(async, OP_RENEW);

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
	op->lease_done = done;
	op->arg = arg;
	op->lease = lease;
	op->ttl = ttl_seconds ? ttl_seconds : LEASE_DEFAULT_TTL;
	return op_start(op, set_node_name(op, async->store->node_name ? async->store->node_name :
					  lease->node_name));
}

int kube_async_acquire(struct store_async *store_async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg)
{
	struct kube_async *async = store_async->state;
	struct kube_op *op = op_new(async, OP_ACQUIRE);
	int err;

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "kube: out of memory");
	op->lease_done = done;
	op->arg = arg;
	op->config = config;
	op->ttl = request->ttl_seconds ? request->ttl_seconds : LEASE_DEFAULT_TTL;
	err = lease_request_copy(async->ctx, request, &op->request_copy);
	if (!err)
		err = set_node_name(op, async->store->node_name ? async->store->node_name :
				    request->node_name);
	return op_start(op, err);
}
