/*
 * etcd-async.c - the etcd store's listings, renewals and acquisitions as
 * requests that never block: each operation is a short chain of steps
 * (range, drop, grant, write, revoke; or one probe: did the subnets change
 * since the last listing?), one HTTP request in flight at a time
 * on an http_loop (store/http-loop.c), moving on from the previous reply.  A step that fails
 * with a connection error is sent again to the next endpoint, a refused
 * token is renewed once; every request has the client's timeout.
 *
 * The blocking ovl_lease and ovl_lease_renew run the same chains to their
 * end (etcd-wait.c), so there is one implementation of each operation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "store/etcd/etcd.h"

/* Lost create races tolerated before acquire gives up. */
#define ACQUIRE_ATTEMPTS 16
/* One try of a step: a member that lost its leader may hold a request for
 * ~7 s before it answers; another member answers within ~1.5 s of an
 * election.  A step retries within the client's timeout. */
#define ATTEMPT_MS 2000
/* Pauses between tries once every endpoint failed: 100 ms doubling to 1 s,
 * so that a dead cluster is not asked in a loop. */
#define PAUSE_FIRST_MS 100
#define PAUSE_MAX_MS 1000

enum op_kind { OP_LIST, OP_CHANGED, OP_RENEW, OP_ACQUIRE, OP_REVOKE };
enum op_step { STEP_RANGE, STEP_PROBE, STEP_DROP, STEP_GRANT, STEP_WRITE, STEP_REVOKE,
	       STEP_AUTH };

struct etcd_op {
	struct etcd_async *owner;
	struct etcd_op *next;
	enum op_kind kind;
	enum op_step step;
	/* the request in flight and what it takes to send it again */
	struct etcd_request *request;
	const char *path;
	json_t *body;
	enum op_step resume;		/* the step an authentication interrupted */
	size_t tries;
	int64_t deadline;		/* monotonic ms: the step's last try ends here */
	int64_t resend_at;		/* monotonic ms of the next try; 0: none waits */
	int authenticated;
	/* the caller's */
	store_list_done list_done;
	store_lease_done lease_done;
	store_changed_done changed_done;
	int changed;
	void *arg;
	/* renew: the caller's lease; acquire: the chosen one */
	struct ovl_lease *lease;
	unsigned int ttl;
	int64_t granted;		/* the etcd lease of the write under way */
	int64_t write_revision;		/* the write's compare: 0 = absent */
	int64_t old_id;			/* the etcd lease the write replaces */
	int64_t dropped_id;		/* acquire: etcd lease of a dropped record */
	char *key, *value;
	/* list and acquire: the pages so far */
	struct ovl_lease **listed;
	size_t listed_count;
	int64_t listed_revision;	/* the first page's: the rest read there */
	struct etcd_mark mark;
	/* changed: what the caller's watch knew when asked (count -1: no
	 * watch) */
	struct etcd_mark watched;
	/* acquire */
	const struct ovl_config *config;
	struct lease_request_copy request_copy;
	int attempt;
};

struct etcd_async {
	struct etcd_store *store;
	struct ovl_ctx *ctx;
	struct http_loop loop;
	int retry_fd;			/* wakes the steps waiting to be tried again */
	struct etcd_op *ops;
	struct etcd_mark listed;	/* of the last listing delivered */
	int has_listed;
};

static int step_start(struct etcd_op *op);
static void on_reply(void *arg, int err, json_t *reply);
static void finish(struct etcd_op *op, int err, struct ovl_lease **leases, size_t count);

/* ---- the chain of one operation ------------------------------------- */

static void op_unlink(struct etcd_op *op)
{
	struct etcd_op **p;

	for (p = &op->owner->ops; *p; p = &(*p)->next)
		if (*p == op) {
			*p = op->next;
			break;
		}
}

static void op_free(struct etcd_op *op)
{
	etcd_request_cancel(&op->owner->loop, op->request);
	json_decref(op->body);
	free(op->key);
	free(op->value);
	if (op->kind == OP_ACQUIRE)
		ovl_lease_free(op->lease);
	ovl_leases_free(op->listed, op->listed_count);
	lease_request_copy_free(&op->request_copy);
	free(op);
}

static struct etcd_op *op_new(struct etcd_async *async, enum op_kind kind)
{
	struct etcd_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->owner = async;
	op->kind = kind;
	op->next = async->ops;
	async->ops = op;
	return op;
}

static int64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* One try of the op's request, limited by ATTEMPT_MS and what is left of
 * the step's deadline. */
static int try_step(struct etcd_op *op)
{
	int64_t left = op->deadline - now_ms();

	if (left <= 0)
		return -ETIMEDOUT;
	return etcd_request_start(op->owner->store->client, &op->owner->loop, op->path,
				  json_incref(op->body), left < ATTEMPT_MS ? (long)left : ATTEMPT_MS,
				  NULL, on_reply, op, &op->request);
}

/* Sends body (stolen) to path as the op's step. */
static int send_step(struct etcd_op *op, enum op_step step, const char *path, json_t *body)
{
	struct etcd_async *async = op->owner;

	if (!body)
		return ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
	json_decref(op->body);
	op->body = body;
	op->path = path;
	op->step = step;
	op->tries = 0;
	op->deadline = now_ms() + async->store->client->timeout_ms;
	return try_step(op);
}

static void arm_retry(struct etcd_async *async)
{
	int64_t next = INT64_MAX, now = now_ms();
	struct etcd_op *op;

	for (op = async->ops; op; op = op->next)
		if (op->resend_at && op->resend_at < next)
			next = op->resend_at;
	http_timer_arm(async->retry_fd, next == INT64_MAX ? -1 : next > now ? next - now : 0);
}

/* A try failed in a way another endpoint or a later try may not: the next
 * endpoint at once until each was tried, then after a pause; 1 when the
 * try is scheduled, 0 when the step's time is up. */
static int retry_later(struct etcd_op *op)
{
	struct etcd_async *async = op->owner;
	size_t endpoints = async->store->client->endpoint_count;
	int64_t now = now_ms(), pause;

	if (now >= op->deadline)
		return 0;
	op->tries++;
	ctx_log(async->ctx, OVL_LOG_WARNING, "%s (trying again)", ovl_ctx_error(async->ctx));
	pause = op->tries < endpoints ? 0 :
		(int64_t)PAUSE_FIRST_MS << (op->tries - endpoints < 4 ? op->tries - endpoints : 4);
	if (pause > PAUSE_MAX_MS)
		pause = PAUSE_MAX_MS;
	if (now + pause >= op->deadline)
		return 0;
	op->resend_at = now + pause;
	arm_retry(async);
	return 1;
}

/* The retry timer: the steps whose pause is over are tried again. */
static int on_retry_timer(void *arg, int fd)
{
	struct etcd_async *async = arg;
	struct etcd_op *op, *next;
	uint64_t expirations;
	int64_t now = now_ms();
	int err;

	if (fd != async->retry_fd)
		return -ENOENT;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return ctx_fail(async->ctx, -errno, "etcd: timer: %s", ovl_strerror(errno));
	for (op = async->ops; op; op = next) {
		next = op->next;
		if (!op->resend_at || op->resend_at > now)
			continue;
		op->resend_at = 0;
		err = try_step(op);
		if (err < 0)
			finish(op, err, NULL, 0);
	}
	arm_retry(async);
	return 0;
}

/* A revoke nobody waits for: an etcd lease left behind only lives out its
 * TTL. */
static void revoke_later(struct etcd_async *async, int64_t id)
{
	struct etcd_op *op;

	if (id <= 0)
		return;
	op = op_new(async, OP_REVOKE);
	if (!op || send_step(op, STEP_REVOKE, "/v3/lease/revoke", etcd_revoke_request(id)) < 0) {
		if (op) {
			op_unlink(op);
			op_free(op);
		}
		ctx_log(async->ctx, OVL_LOG_WARNING, "etcd: revoking lease %" PRId64 ": %s",
			id, ovl_ctx_error(async->ctx));
	}
}

/* Ends op: its done function runs, then it is gone. */
static void finish(struct etcd_op *op, int err, struct ovl_lease **leases, size_t count)
{
	struct ovl_lease *lease = op->lease;

	op_unlink(op);
	if (err < 0)
		revoke_later(op->owner, op->granted);
	if (op->kind == OP_ACQUIRE) {
		op->lease = NULL;	/* the caller's now, or freed */
		if (err < 0) {
			ovl_lease_free(lease);
			lease = NULL;
		}
	}
	if (op->list_done)
		op->list_done(op->arg, err, leases, count);
	else if (op->lease_done)
		op->lease_done(op->arg, err, lease);
	else if (op->changed_done)
		op->changed_done(op->arg, err, op->changed);
	op_free(op);
}

/* The first page of a listing (list, acquire). */
static int start_listing(struct etcd_op *op)
{
	memset(&op->mark, 0, sizeof(op->mark));
	op->listed_revision = 0;
	return send_step(op, STEP_RANGE, "/v3/kv/range",
			 etcd_page_request(op->owner->store->subnets, NULL, 0));
}

/* A page of a listing arrived: asks for the next one, or hands over the
 * whole listing (*leases, *count; the op's no more): 1 when complete. */
static int listing_page(struct etcd_op *op, const json_t *reply, struct ovl_lease ***leases,
			size_t *count)
{
	struct etcd_async *async = op->owner;
	int64_t revision;
	int err;

	err = etcd_listing_append(async->ctx, reply, async->store->subnets, &op->listed,
				  &op->listed_count, &revision);
	if (!err)
		err = etcd_mark_of(async->ctx, reply, &op->mark);
	if (err < 0)
		return err;
	if (!op->listed_revision)
		op->listed_revision = revision;
	if (etcd_page_more(reply)) {
		err = send_step(op, STEP_RANGE, "/v3/kv/range",
				etcd_page_request(async->store->subnets, reply, op->listed_revision));
		return err < 0 ? err : 0;
	}
	*leases = op->listed;
	*count = op->listed_count;
	op->listed = NULL;
	op->listed_count = 0;
	return 1;
}

/* The write of op->lease at op->key: grant first unless it is a
 * reservation, which stays one. */
static int start_write(struct etcd_op *op)
{
	op->granted = 0;
	if (op->lease->expiration)
		return send_step(op, STEP_GRANT, "/v3/lease/grant", etcd_grant_request(op->ttl));
	return send_step(op, STEP_WRITE, "/v3/kv/txn",
			 etcd_txn_request(op->key, op->value, op->write_revision, 0));
}

static int prepare_write(struct etcd_op *op, int64_t write_revision, int64_t old_id)
{
	struct etcd_store *store = op->owner->store;

	free(op->key);
	free(op->value);
	op->value = lease_attrs_to_json(op->lease);
	if (asprintf(&op->key, "%s%s", store->subnets, op->lease->key) < 0)
		op->key = NULL;
	if (!op->key || !op->value)
		return ctx_fail(op->owner->ctx, -ENOMEM, "etcd: out of memory");
	op->write_revision = write_revision;
	op->old_id = old_id;
	return 0;
}

/* acquire, after the listing: choose, drop an incompatible old record of
 * ours, then write the choice. */
/* owned: the leases are the op's to free (else the store's recent ones). */
static int acquire_listed(struct etcd_op *op, struct ovl_lease **leases, size_t count,
			  int owned)
{
	struct etcd_async *async = op->owner;
	struct etcd_choice choice;
	char *key = NULL;
	int err;

	err = etcd_acquire_choose(async->ctx, op->config, &op->request_copy.request, leases,
				  count, time(NULL), &choice);
	if (!err) {
		op->lease = choice.chosen;
		err = prepare_write(op, choice.existing ? (int64_t)choice.existing->revision : 0,
				    choice.existing ? (int64_t)choice.existing->store_id : 0);
	}
	if (!err && choice.dropped >= 0) {
		const struct ovl_lease *old = leases[choice.dropped];

		op->dropped_id = (int64_t)old->store_id;
		if (asprintf(&key, "%s%s", async->store->subnets, old->key) < 0)
			err = ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
		else
			err = send_step(op, STEP_DROP, "/v3/kv/txn",
					etcd_txn_request(key, NULL, (int64_t)old->revision, 0));
		free(key);
	} else if (!err) {
		err = start_write(op);
	}
	if (owned)
		ovl_leases_free(leases, count);
	return err;
}

/* The write's txn answered: done says whether its compare held. */
static void written(struct etcd_op *op, int done, int64_t revision)
{
	struct etcd_async *async = op->owner;
	struct ovl_lease *lease = op->lease;
	int64_t now = time(NULL);

	if (!done) {
		revoke_later(async, op->granted);
		op->granted = 0;
		if (op->kind == OP_RENEW) {
			lease->lost = 1;
			finish(op, ctx_fail(async->ctx, -ESTALE, "lease %s: gone from etcd or taken "
					    "by another writer since revision %" PRIu64,
					    lease->key, lease->revision), NULL, 0);
			return;
		}
		ovl_lease_free(op->lease);
		op->lease = NULL;
		if (++op->attempt >= ACQUIRE_ATTEMPTS) {
			finish(op, ctx_fail(async->ctx, -EAGAIN, "etcd: lost the race for a "
					    "subnet %d times in a row (too many nodes acquiring "
					    "at once?)", ACQUIRE_ATTEMPTS), NULL, 0);
			return;
		}
		ctx_log(async->ctx, OVL_LOG_DEBUG, "etcd: lost a create race, choosing again");
		if (start_listing(op) < 0)
			finish(op, -ENOMEM, NULL, 0);
		return;
	}
	lease->store_id = (uint64_t)op->granted;
	lease->revision = (uint64_t)revision;
	lease->lost = 0;
	if (op->kind == OP_RENEW && lease->expiration)
		lease->expiration = lease_expiration_after(now, op->ttl);
	/* Renewed by a fresh etcd lease: the old one may go. */
	if (op->old_id && op->old_id != op->granted)
		revoke_later(async, op->old_id);
	op->granted = 0;
	finish(op, 0, NULL, 0);
}

static int same_mark(const struct etcd_mark *a, const struct etcd_mark *b)
{
	return b && a->count == b->count && a->newest == b->newest;
}

/* The reply to the op's current step. */
static int step_done(struct etcd_op *op, json_t *reply)
{
	struct etcd_async *async = op->owner;
	struct ovl_lease **leases = NULL;
	struct etcd_mark mark;
	int64_t revision;
	size_t count = 0;
	int err, done;

	switch (op->step) {
	case STEP_RANGE:
		err = listing_page(op, reply, &leases, &count);
		if (err <= 0)
			return err;
		if (op->kind == OP_ACQUIRE)
			return acquire_listed(op, leases, count, 1);
		async->listed = op->mark;
		async->has_listed = 1;
		/* etcd deletes expired keys: what is listed is alive. */
		etcd_leases_alive(leases, count);
		finish(op, 0, leases, count);
		return 0;
	case STEP_PROBE:
		memset(&mark, 0, sizeof(mark));
		err = etcd_mark_of(async->ctx, reply, &mark);
		if (err < 0)
			return err;
		op->changed = (same_mark(&mark, async->has_listed ? &async->listed : NULL)
				       ? 0 : STORE_CHANGED_SINCE_LISTING) |
			      (same_mark(&mark, op->watched.count >= 0 ? &op->watched : NULL)
				       ? 0 : STORE_CHANGED_SINCE_WATCH);
		finish(op, 0, NULL, 0);
		return 0;
	case STEP_DROP:
		err = etcd_txn_reply(async->ctx, "the old lease", reply, &done, &revision);
		if (err < 0)
			return err;
		if (done)
			revoke_later(async, op->dropped_id);
		return start_write(op);
	case STEP_GRANT:
		err = etcd_grant_reply(async->ctx, reply, &op->granted);
		if (err < 0)
			return err;
		return send_step(op, STEP_WRITE, "/v3/kv/txn",
				 etcd_txn_request(op->key, op->value, op->write_revision,
						  op->granted));
	case STEP_WRITE:
		err = etcd_txn_reply(async->ctx, op->key, reply, &done, &revision);
		if (err < 0)
			return err;
		written(op, done, revision);
		return 0;
	case STEP_AUTH:
		err = etcd_token_take(async->store->client, reply);
		if (err < 0)
			return err;
		return step_start(op);
	case STEP_REVOKE:
		finish(op, 0, NULL, 0);
		return 0;
	}
	return -EINVAL;
}

/* Sends the step op->body belongs to again (after a token renewal). */
static int step_start(struct etcd_op *op)
{
	op->step = op->resume;
	return try_step(op);
}

static void on_reply(void *arg, int err, json_t *reply)
{
	struct etcd_op *op = arg;
	struct etcd_client *client = op->owner->store->client;

	op->request = NULL;	/* freed by its finish */
	/* the finished request moved on to the next endpoint already. */
	if (etcd_is_connection_error(err) && op->step != STEP_AUTH && retry_later(op)) {
		err = 0;
	} else if (err == -EACCES && client->username && !op->authenticated &&
		   op->step != STEP_AUTH) {
		/* Tokens expire: one fresh one, then a refusal stands. */
		op->authenticated = 1;
		op->resume = op->step;
		op->step = STEP_AUTH;
		err = etcd_request_start(client, &op->owner->loop, "/v3/auth/authenticate",
					 etcd_authenticate_request(client), 0, NULL, on_reply, op,
					 &op->request);
	} else if (!err) {
		err = step_done(op, reply);
	} else if (op->kind == OP_REVOKE) {
		if (err != -ENOENT)
			ctx_log(op->owner->ctx, OVL_LOG_WARNING, "etcd: revoking a lease: %s",
				ovl_ctx_error(op->owner->ctx));
		err = 0;
		finish(op, 0, NULL, 0);
	}
	if (err < 0)
		finish(op, err, NULL, 0);
}

/* ---- store_ops hooks ------------------------------------------------ */

int etcd_async_open(struct store_async *store_async)
{
	struct etcd_async *async = calloc(1, sizeof(*async));
	int err;

	if (!async)
		return ctx_fail(store_async->store->ctx, -ENOMEM, "etcd: out of memory");
	async->store = store_async->store->state;
	async->ctx = store_async->store->ctx;
	async->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	err = async->retry_fd < 0 ? ctx_fail(async->ctx, -errno, "etcd: %s", ovl_strerror(errno)) :
	      http_loop_init(&async->loop, async->ctx, "etcd", async->retry_fd,
			     store_async->epoll_fd);
	if (err < 0) {
		if (async->retry_fd >= 0)
			close(async->retry_fd);
		free(async);
		return err;
	}
	store_async->state = async;
	return 0;
}

void etcd_async_close(struct store_async *store_async)
{
	struct etcd_async *async = store_async->state;
	struct etcd_op *op;

	if (!async)
		return;
	while ((op = async->ops)) {
		async->ops = op->next;
		op_free(op);
	}
	http_loop_cleanup(&async->loop);
	close(async->retry_fd);
	free(async);
	store_async->state = NULL;
}

int etcd_async_dispatch(struct store_async *store_async)
{
	struct etcd_async *async = store_async->state;

	return http_loop_run(&async->loop, 0, on_retry_timer, async);
}

/* Starts op's first step, or frees it (the start failed: no done call). */
static int op_start(struct etcd_op *op, int err)
{
	const char *subnets = op->owner->store->subnets;
	struct ovl_lease **leases;
	size_t count;

	if (!err && op->kind == OP_RENEW)
		err = start_write(op);
	else if (!err && op->kind == OP_ACQUIRE &&
		 etcd_recent_borrow(op->owner->store, &leases, &count))
		err = acquire_listed(op, leases, count, 0);
	else if (!err && op->kind == OP_CHANGED)
		err = send_step(op, STEP_PROBE, "/v3/kv/range", etcd_newest_request(subnets));
	else if (!err)
		err = start_listing(op);
	if (err < 0) {
		op_unlink(op);
		op_free(op);
	}
	return err;
}

int etcd_async_list(struct store_async *store_async, store_list_done done, void *arg)
{
	struct etcd_async *async = store_async->state;
	struct etcd_op *op = op_new(async, OP_LIST);

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
	op->list_done = done;
	op->arg = arg;
	return op_start(op, 0);
}

/* The watch's mark is taken now, not at the reply (the watch may be gone
 * by then): a change in between shows as one, which costs a listing only. */
int etcd_async_changed(struct store_async *store_async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg)
{
	struct etcd_async *async = store_async->state;
	struct etcd_op *op = op_new(async, OP_CHANGED);

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
	op->changed_done = done;
	op->arg = arg;
	op->watched.count = -1;
	if (watch)
		watch_mark(watch, &op->watched.count, &op->watched.newest);
	return op_start(op, 0);
}

int etcd_async_renew(struct store_async *store_async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg)
{
	struct etcd_async *async = store_async->state;
	struct etcd_op *op;

	if (!lease->revision)
		return ctx_fail(async->ctx, -EINVAL, "lease %s: not read from this store",
				lease->key);
	op = op_new(async, OP_RENEW);
	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
	op->lease_done = done;
	op->arg = arg;
	op->lease = lease;
	op->ttl = ttl_seconds ? ttl_seconds : LEASE_DEFAULT_TTL;
	/* A reservation stays one; rewriting it checks it is still ours. */
	return op_start(op, prepare_write(op, (int64_t)lease->revision,
					  (int64_t)lease->store_id));
}

int etcd_async_acquire(struct store_async *store_async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg)
{
	struct etcd_async *async = store_async->state;
	struct etcd_op *op = op_new(async, OP_ACQUIRE);

	if (!op)
		return ctx_fail(async->ctx, -ENOMEM, "etcd: out of memory");
	op->lease_done = done;
	op->arg = arg;
	op->config = config;
	op->ttl = request->ttl_seconds ? request->ttl_seconds : LEASE_DEFAULT_TTL;
	return op_start(op, lease_request_copy(async->ctx, request, &op->request_copy));
}

int etcd_async_wait(struct store_async *store_async, const int *finished)
{
	struct etcd_async *async = store_async->state;
	int err = 0;

	/* The revokes an operation left behind go out too, as they did when
	 * each request was a blocking call. */
	while ((!*finished || async->ops) && !err)
		err = http_loop_run(&async->loop, 100, on_retry_timer, async);
	return err;
}
