/*
 * etcd-ttl.c - the expirations of listed records, for ovl_leases only:
 * etcd has no call that returns many leases' TTLs, so one TimeToLive per
 * distinct etcd lease, IN_FLIGHT at a time on a private http_loop rather
 * than one round trip after another.  The agent never asks (it lists with
 * list_alive and watches with STORE_WATCH_ALIVE_ONLY).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/etcd/etcd.h"

#define IN_FLIGHT 32

struct ttl_batch;
struct ttl_ask {
	struct ttl_batch *batch;
	int64_t id;
	int64_t ttl;			/* seconds left; -1: the lease is gone */
	size_t tries;
	struct etcd_request *request;
};

struct ttl_batch {
	struct etcd_client *client;
	struct http_loop loop;
	struct ttl_ask *asks;		/* sorted by id, distinct */
	size_t count, next, running;
	int err;
};

static int compare_ids(const void *a, const void *b)
{
	int64_t x = ((const struct ttl_ask *)a)->id, y = ((const struct ttl_ask *)b)->id;

	return x < y ? -1 : x > y;
}

static void ask_done(void *arg, int err, json_t *reply);

static int ask_start(struct ttl_ask *ask)
{
	struct ttl_batch *batch = ask->batch;
	char id[24];
	int err;

	snprintf(id, sizeof(id), "%" PRId64, ask->id);
	err = etcd_request_start(batch->client, &batch->loop, "/v3/lease/timetolive",
				 json_pack("{s:s}", "ID", id), 0, NULL, ask_done, ask,
				 &ask->request);
	if (!err)
		batch->running++;
	return err;
}

/* Keeps IN_FLIGHT requests going until every id is asked. */
static void ask_more(struct ttl_batch *batch)
{
	while (!batch->err && batch->running < IN_FLIGHT && batch->next < batch->count)
		batch->err = ask_start(&batch->asks[batch->next++]);
}

static void ask_done(void *arg, int err, json_t *reply)
{
	struct ttl_ask *ask = arg;
	struct ttl_batch *batch = ask->batch;

	ask->request = NULL;
	batch->running--;
	/* the finished request moved on to the next endpoint. */
	if (etcd_is_connection_error(err) && ++ask->tries < batch->client->endpoint_count) {
		err = ask_start(ask);
	} else if (!err) {
		err = etcd_ttl_parse(reply, &ask->ttl);
		if (err == -ENOENT)
			ask->ttl = -1;
		err = err == -EPROTO ? ctx_fail(batch->client->ctx, err, "etcd: timetolive of "
						"lease %" PRId64 ": malformed TTL", ask->id) :
		      0;
	}
	if (err < 0 && !batch->err)
		batch->err = err;
	ask_more(batch);
}

/* The distinct etcd lease ids of the records. */
static int collect_ids(struct ttl_batch *batch, struct ovl_lease **leases, size_t count)
{
	size_t i, n = 0;

	batch->asks = calloc(count ? count : 1, sizeof(*batch->asks));
	if (!batch->asks)
		return ctx_fail(batch->client->ctx, -ENOMEM, "etcd: out of memory");
	for (i = 0; i < count; i++)
		if (leases[i]->store_id)
			batch->asks[n++].id = (int64_t)leases[i]->store_id;
	qsort(batch->asks, n, sizeof(*batch->asks), compare_ids);
	batch->count = 0;
	for (i = 0; i < n; i++)
		if (!batch->count || batch->asks[batch->count - 1].id != batch->asks[i].id)
			batch->asks[batch->count++] = batch->asks[i];
	for (i = 0; i < batch->count; i++)
		batch->asks[i].batch = batch;
	return 0;
}

int etcd_fill_expirations(struct etcd_client *client, struct ovl_lease **leases,
			  size_t count, int64_t now)
{
	struct ttl_batch batch = { .client = client };
	struct ttl_ask key = { 0 }, *ask;
	size_t i;
	int err;

	batch.loop.epoll_fd = batch.loop.timer_fd = -1;
	err = collect_ids(&batch, leases, count);
	if (!err && batch.count)
		err = http_loop_init(&batch.loop, client->ctx, "etcd", -1, -1);
	if (!err && batch.count) {
		ask_more(&batch);
		/* Every request has the client's timeout: this ends. */
		while (batch.running && !batch.err && !err)
			err = http_loop_run(&batch.loop, 100, NULL, NULL);
		if (!err)
			err = batch.err;
		for (i = 0; i < batch.count; i++)
			etcd_request_cancel(&batch.loop, batch.asks[i].request);
	}
	for (i = 0; !err && i < count; i++) {
		key.id = (int64_t)leases[i]->store_id;
		ask = key.id ? bsearch(&key, batch.asks, batch.count, sizeof(key), compare_ids) :
		      NULL;
		leases[i]->expiration = !ask ? 0 : ask->ttl < 0 ? now : now + ask->ttl;
	}
	http_loop_cleanup(&batch.loop);
	free(batch.asks);
	return err;
}
