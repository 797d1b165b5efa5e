/*
 * store-etcd.c - the lease store in etcd v3, in flannel's layout: the
 * network config at <prefix>/config, each lease at <prefix>/subnets/<key>
 * holding LeaseAttrs JSON and attached to an etcd lease carrying its TTL.
 * Writes are transactions on the key's revision, so racing writers never
 * overwrite each other (acquire retries, renew and release compare-and-swap).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/etcd/etcd.h"

static struct etcd_store *state_of(struct ovl_store *store)
{
	return store->state;
}

static void recent_drop(struct etcd_store *state);

static int etcd_open(struct ovl_store *store, const char *uri)
{
	struct etcd_store *state;
	int err;

	state = calloc(1, sizeof(*state));
	if (!state)
		return ctx_fail(store->ctx, -ENOMEM, "etcd: out of memory");
	err = etcd_client_open(store->ctx, uri, &state->client);
	if (err < 0) {
		free(state);
		return err;
	}
	if (asprintf(&state->subnets, "%s/subnets/", state->client->prefix) < 0)
		state->subnets = NULL;
	if (asprintf(&state->config_key, "%s/config", state->client->prefix) < 0)
		state->config_key = NULL;
	store->state = state;
	if (!state->subnets || !state->config_key) {
		store->ops->close(store);
		return ctx_fail(store->ctx, -ENOMEM, "etcd: out of memory");
	}
	return 0;
}

static void etcd_close(struct ovl_store *store)
{
	struct etcd_store *state = state_of(store);

	if (!state)
		return;
	etcd_client_close(state->client);
	recent_drop(state);
	free(state->subnets);
	free(state->config_key);
	free(state);
	store->state = NULL;
}

static int etcd_config_get(struct ovl_store *store, char **json)
{
	struct etcd_store *state = state_of(store);
	const json_t *kvs;
	json_t *reply;
	size_t size;
	int err;

	*json = NULL;
	err = etcd_call(state->client, "/v3/kv/range",
			json_pack("{s:o}", "key", etcd_b64(state->config_key)), &reply);
	if (err < 0)
		return err;
	kvs = json_object_get(reply, "kvs");
	if (!json_array_size(kvs))
		err = ctx_fail(store->ctx, -ENOENT, "etcd: no network config at %s",
			       state->config_key);
	else if (etcd_bytes(json_array_get(kvs, 0), "value", json, &size) < 0)
		err = ctx_fail(store->ctx, -EPROTO, "etcd: %s: malformed value",
			       state->config_key);
	json_decref(reply);
	return err;
}

static int etcd_config_put(struct ovl_store *store, const char *json)
{
	struct etcd_store *state = state_of(store);
	json_t *reply;
	int err;

	err = etcd_call(state->client, "/v3/kv/put",
			json_pack("{s:o, s:o}", "key", etcd_b64(state->config_key),
				  "value", etcd_b64(json)), &reply);
	json_decref(reply);
	return err;
}

/* The subnets as etcd holds them now; leased keys are alive (etcd deletes
 * them when their lease expires) with the expiration not yet known. */
static int list_subnets(struct etcd_store *state, struct ovl_lease ***leases,
			size_t *count, int64_t *revision)
{
	json_t *reply = NULL, *request;
	int64_t page_revision;
	int err, more = 1;

	*leases = NULL;
	*count = 0;
	*revision = 0;
	for (err = 0; more && !err; ) {
		request = etcd_page_request(state->subnets, reply, *revision);
		json_decref(reply);
		reply = NULL;
		err = etcd_call(state->client, "/v3/kv/range", request, &reply);
		if (!err)
			err = etcd_listing_append(state->client->ctx, reply, state->subnets,
						  leases, count, &page_revision);
		if (!err && !*revision)
			*revision = page_revision;
		more = !err && etcd_page_more(reply);
	}
	json_decref(reply);
	if (err < 0) {
		ovl_leases_free(*leases, *count);
		*leases = NULL;
		*count = 0;
	}
	return err;
}

static int etcd_list(struct ovl_store *store, struct ovl_lease ***leases,
		     size_t *count, uint64_t *revision)
{
	struct etcd_store *state = state_of(store);
	int64_t listed;
	int err;

	err = list_subnets(state, leases, count, &listed);
	if (!err)
		err = etcd_fill_expirations(state->client, *leases, *count, time(NULL));
	if (err < 0) {
		ovl_leases_free(*leases, *count);
		*leases = NULL;
		*count = 0;
		return err;
	}
	*revision = (uint64_t)listed;
	return 0;
}

void etcd_leases_alive(struct ovl_lease **leases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		leases[i]->expiration = leases[i]->store_id ? INT64_MAX : 0;
}

#define RECENT_MS 1000

static int64_t monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void recent_drop(struct etcd_store *state)
{
	ovl_leases_free(state->recent, state->recent_count);
	state->recent = NULL;
	state->recent_count = 0;
}

/* The recent listing if it is young enough (else it goes). */
static int recent_fresh(struct etcd_store *state, struct ovl_lease ***leases, size_t *count)
{
	if (!state->recent || monotonic_ms() - state->recent_ms > RECENT_MS) {
		recent_drop(state);
		return 0;
	}
	*leases = state->recent;
	*count = state->recent_count;
	return 1;
}

/* Lent once: an acquisition that lost a race and tries again must see the
 * winner's record, so it lists afresh. */
int etcd_recent_borrow(struct etcd_store *state, struct ovl_lease ***leases, size_t *count)
{
	if (state->recent_lent || !recent_fresh(state, leases, count))
		return 0;
	state->recent_lent = 1;
	return 1;
}

int etcd_recent_take(struct etcd_store *state, struct ovl_lease ***leases, size_t *count,
		     int64_t *revision)
{
	if (!recent_fresh(state, leases, count))
		return 0;
	*revision = state->recent_revision;
	state->recent = NULL;
	state->recent_count = 0;
	return 1;
}

/* Kept for an acquisition and an agent's watch that may follow; without
 * memory, not kept. */
static void recent_keep(struct etcd_store *state, struct ovl_lease **leases, size_t count,
			int64_t revision)
{
	size_t i;

	recent_drop(state);
	state->recent = calloc(count ? count : 1, sizeof(*state->recent));
	for (i = 0; state->recent && i < count; i++) {
		state->recent[i] = lease_copy(leases[i]);
		if (!state->recent[i]) {
			ovl_leases_free(state->recent, i);
			state->recent = NULL;
		}
	}
	state->recent_count = state->recent ? count : 0;
	state->recent_ms = monotonic_ms();
	state->recent_revision = revision;
	state->recent_lent = 0;
}

/* Paged range requests: etcd deletes expired keys, so what it lists is
 * alive and nobody here needs to know for how long. */
static int etcd_list_alive(struct ovl_store *store, struct ovl_lease ***leases,
			   size_t *count)
{
	int64_t listed;
	int err = list_subnets(state_of(store), leases, count, &listed);

	if (!err) {
		etcd_leases_alive(*leases, *count);
		recent_keep(state_of(store), *leases, *count, listed);
	}
	return err;
}

/* Best effort: an etcd lease left behind only lives out its TTL. */
static void revoke(struct etcd_store *state, int64_t id)
{
	json_t *reply;
	int err;

	if (id <= 0)
		return;
	err = etcd_call(state->client, "/v3/lease/revoke", etcd_revoke_request(id), &reply);
	json_decref(reply);
	if (err < 0 && err != -ENOENT)
		ctx_log(state->client->ctx, OVL_LOG_WARNING, "etcd: revoking lease %" PRId64 ": %s",
			id, ovl_ctx_error(state->client->ctx));
}

/* Deletes our record (if nobody changed it) and its etcd lease. */
static int drop_lease(struct etcd_store *state, const struct ovl_lease *old)
{
	char key[512];
	json_t *reply;
	int64_t revision;
	int err, done;

	snprintf(key, sizeof(key), "%s%s", state->subnets, old->key);
	err = etcd_call(state->client, "/v3/kv/txn",
			etcd_txn_request(key, NULL, (int64_t)old->revision, 0), &reply);
	if (!err)
		err = etcd_txn_reply(state->client->ctx, key, reply, &done, &revision);
	json_decref(reply);
	if (!err && done)
		revoke(state, (int64_t)old->store_id);
	return err;
}

/* Gone already, or rewritten by another writer since we read it, both
 * leave nothing of ours to remove. */
static int etcd_release(struct ovl_store *store, const struct ovl_lease *lease)
{
	if (!lease->revision)
		return ctx_fail(store->ctx, -EINVAL, "lease %s: not read from this store",
				lease->key);
	return drop_lease(state_of(store), lease);
}

const struct store_ops store_etcd_ops = {
	.scheme = "etcd",
	.open = etcd_open,
	.close = etcd_close,
	.config_get = etcd_config_get,
	.config_put = etcd_config_put,
	.list = etcd_list,
	.list_alive = etcd_list_alive,
	.acquire = etcd_acquire_wait,
	.renew = etcd_renew_wait,
	.release = etcd_release,
	.watch_open = etcd_watch_open,
	.watch_poll = etcd_watch_poll,
	.watch_close = etcd_watch_close,
	.async_open = etcd_async_open,
	.async_close = etcd_async_close,
	.async_dispatch = etcd_async_dispatch,
	.async_list = etcd_async_list,
	.async_changed = etcd_async_changed,
	.async_renew = etcd_async_renew,
	.async_acquire = etcd_async_acquire,
};
