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

/* Lost create races tolerated before acquire gives up. */
#define ACQUIRE_ATTEMPTS 16

static struct etcd_store *state_of(struct ovl_store *store)
{
	return store->state;
}

static void id_text(int64_t id, char buf[24])
{
	snprintf(buf, 24, "%" PRId64, id);
}

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

json_t *etcd_prefix_range(const char *prefix)
{
	char *end = etcd_prefix_end(prefix);
	json_t *request;

	if (!end)
		return NULL;
	request = json_pack("{s:o, s:o}", "key", etcd_b64(prefix),
			    "range_end", etcd_b64(end));
	free(end);
	return request;
}

/* The subnets as etcd holds them now; leased keys are alive (etcd deletes
 * them when their lease expires) with the expiration not yet known. */
static int list_subnets(struct etcd_store *state, struct ovl_lease ***leases,
			size_t *count, int64_t *revision)
{
	json_t *reply;
	int err;

	err = etcd_call(state->client, "/v3/kv/range",
			etcd_prefix_range(state->subnets), &reply);
	if (err < 0)
		return err;
	err = etcd_listing_parse(state->client->ctx, reply, state->subnets, leases,
				 count, revision);
	json_decref(reply);
	return err;
}

int etcd_fill_expirations(struct etcd_store *state, struct ovl_lease **leases,
			  size_t count, int64_t now)
{
	char id[24];
	json_t *reply;
	int64_t ttl;
	size_t i;
	int err;

	for (i = 0; i < count; i++) {
		if (!leases[i]->store_id) {
			leases[i]->expiration = 0;
			continue;
		}
		id_text((int64_t)leases[i]->store_id, id);
		err = etcd_call(state->client, "/v3/lease/timetolive",
				json_pack("{s:s}", "ID", id), &reply);
		if (err < 0)
			return err;
		err = etcd_ttl_parse(reply, &ttl);
		json_decref(reply);
		if (err == -EPROTO)
			return ctx_fail(state->client->ctx, err,
					"etcd: timetolive of lease %s: malformed TTL", id);
		leases[i]->expiration = err ? now : now + ttl;
	}
	return 0;
}

static int etcd_list(struct ovl_store *store, struct ovl_lease ***leases,
		     size_t *count, uint64_t *revision)
{
	struct etcd_store *state = state_of(store);
	int64_t listed;
	int err;

	err = list_subnets(state, leases, count, &listed);
	if (!err)
		err = etcd_fill_expirations(state, *leases, *count, time(NULL));
	if (err < 0) {
		ovl_leases_free(*leases, *count);
		*leases = NULL;
		*count = 0;
		return err;
	}
	*revision = (uint64_t)listed;
	return 0;
}

static int grant(struct etcd_store *state, unsigned int ttl, int64_t *id)
{
	json_t *reply;
	int64_t granted = 0;
	int err;

	err = etcd_call(state->client, "/v3/lease/grant",
			json_pack("{s:I}", "TTL", (json_int_t)ttl), &reply);
	if (err < 0)
		return err;
	if (etcd_int64(reply, "ID", id) < 0 || *id <= 0 ||
	    etcd_int64(reply, "TTL", &granted) < 0 || granted <= 0)
		err = ctx_fail(state->client->ctx, -EPROTO,
			       "etcd: lease grant reply without an ID and TTL");
	json_decref(reply);
	return err;
}

/* Best effort: an etcd lease left behind only lives out its TTL. */
static void revoke(struct etcd_store *state, int64_t id)
{
	json_t *reply;
	char text[24];
	int err;

	if (id <= 0)
		return;
	id_text(id, text);
	err = etcd_call(state->client, "/v3/lease/revoke",
			json_pack("{s:s}", "ID", text), &reply);
	json_decref(reply);
	if (err < 0 && err != -ENOENT)
		ctx_log(state->client->ctx, OVL_LOG_WARNING, "etcd: revoking lease %s: %s",
			text, ovl_ctx_error(state->client->ctx));
}

/* Writes value (NULL: deletes) at key when the key is still at
 * mod_revision (0: when it does not exist).  *done 0 when the compare
 * failed; *revision the store's revision after the write. */
static int txn(struct etcd_store *state, const char *key, const char *value,
	       int64_t mod_revision, int64_t lease_id, int *done, int64_t *revision)
{
	char rev_text[24], id[24];
	json_t *compare, *op, *reply;
	int err;

	*done = 0;
	id_text(mod_revision, rev_text);
	id_text(lease_id, id);
	compare = mod_revision ?
		  json_pack("{s:o, s:s, s:s, s:s}", "key", etcd_b64(key), "result", "EQUAL",
			    "target", "MOD", "mod_revision", rev_text) :
		  json_pack("{s:o, s:s, s:s, s:s}", "key", etcd_b64(key), "result", "EQUAL",
			    "target", "CREATE", "create_revision", "0");
	if (!value)
		op = json_pack("{s:{s:o}}", "request_delete_range", "key", etcd_b64(key));
	else if (lease_id)
		op = json_pack("{s:{s:o, s:o, s:s}}", "request_put", "key", etcd_b64(key),
			       "value", etcd_b64(value), "lease", id);
	else
		op = json_pack("{s:{s:o, s:o}}", "request_put", "key", etcd_b64(key),
			       "value", etcd_b64(value));
	err = etcd_call(state->client, "/v3/kv/txn",
			json_pack("{s:[o], s:[o]}", "compare", compare, "success", op), &reply);
	if (err < 0)
		return err;
	if (etcd_revision(reply, revision) < 0)
		err = ctx_fail(state->client->ctx, -EPROTO,
			       "etcd: txn on %s: reply without a revision", key);
	*done = etcd_txn_succeeded(reply);
	json_decref(reply);
	return err;
}

/* Writes lease at its key with a fresh etcd lease of ttl seconds (none for
 * a reservation), if the key is still at mod_revision (0: absent).
 * -EAGAIN when another writer got there first. */
static int write_lease(struct etcd_store *state, struct ovl_lease *lease,
		       int64_t mod_revision, unsigned int ttl)
{
	char key[512], *value;
	int64_t id = 0, revision;
	int err, done;

	snprintf(key, sizeof(key), "%s%s", state->subnets, lease->key);
	value = lease_attrs_to_json(lease);
	if (!value)
		return ctx_fail(state->client->ctx, -ENOMEM, "etcd: out of memory");
	err = lease->expiration ? grant(state, ttl, &id) : 0;
	if (!err)
		err = txn(state, key, value, mod_revision, id, &done, &revision);
	free(value);
	if (err < 0 || !done) {
		revoke(state, id);
		return err < 0 ? err : -EAGAIN;
	}
	lease->store_id = (uint64_t)id;
	lease->revision = (uint64_t)revision;
	lease->lost = 0;
	return 0;
}

static const struct ovl_lease *find_key(struct ovl_lease **leases, size_t count,
					const char *key)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(leases[i]->key, key))
			return leases[i];
	return NULL;
}

/* Deletes an incompatible old lease of ours (if nobody changed it). */
static int drop_lease(struct etcd_store *state, const struct ovl_lease *old)
{
	char key[512];
	int64_t revision;
	int err, done;

	snprintf(key, sizeof(key), "%s%s", state->subnets, old->key);
	err = txn(state, key, NULL, (int64_t)old->revision, 0, &done, &revision);
	if (!err && done)
		revoke(state, (int64_t)old->store_id);
	return err;
}

static int etcd_acquire(struct ovl_store *store, const struct ovl_config *config,
			const struct ovl_lease_request *request,
			struct ovl_lease **lease)
{
	struct etcd_store *state = state_of(store);
	unsigned int ttl = request->ttl_seconds ? request->ttl_seconds : LEASE_DEFAULT_TTL;
	struct ovl_lease **leases = NULL, *chosen = NULL;
	const struct ovl_lease *existing;
	int64_t revision, old_id;
	size_t count = 0, i;
	int attempt, err = 0;
	long dropped;

	*lease = NULL;
	for (attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
		err = list_subnets(state, &leases, &count, &revision);
		if (err < 0)
			return err;
		/* Alive until etcd deletes them; the allocator needs no more. */
		for (i = 0; i < count; i++)
			if (leases[i]->store_id)
				leases[i]->expiration = INT64_MAX;
		err = lease_choose(store->ctx, config, leases, count, request,
				   time(NULL), &chosen, &dropped);
		if (!err && dropped >= 0)
			err = drop_lease(state, leases[dropped]);
		existing = err ? NULL : find_key(leases, count, chosen->key);
		old_id = existing ? (int64_t)existing->store_id : 0;
		if (!err)
			err = write_lease(state, chosen, existing ? (int64_t)existing->revision : 0,
					  ttl);
		ovl_leases_free(leases, count);
		if (!err) {
			/* Renewed by a fresh etcd lease: the old one may go. */
			if (old_id && (uint64_t)old_id != chosen->store_id)
				revoke(state, old_id);
			*lease = chosen;
			return 0;
		}
		ovl_lease_free(chosen);
		chosen = NULL;
		if (err != -EAGAIN)
			return err;
		ctx_log(store->ctx, OVL_LOG_DEBUG, "etcd: lost a create race, choosing again");
	}
	return ctx_fail(store->ctx, -EAGAIN, "etcd: lost the race for a subnet %d times "
			"in a row (too many nodes acquiring at once?)", ACQUIRE_ATTEMPTS);
}

static int etcd_renew(struct ovl_store *store, struct ovl_lease *lease,
		      unsigned int ttl_seconds)
{
	struct etcd_store *state = state_of(store);
	unsigned int ttl = ttl_seconds ? ttl_seconds : LEASE_DEFAULT_TTL;
	int64_t old_id = (int64_t)lease->store_id;
	int64_t now = time(NULL);
	int err;

	if (!lease->revision)
		return ctx_fail(store->ctx, -EINVAL, "lease %s: not read from this store",
				lease->key);
	/* A reservation stays one; rewriting it checks it is still ours. */
	err = write_lease(state, lease, (int64_t)lease->revision, ttl);
	if (err == -EAGAIN) {
		lease->lost = 1;
		return ctx_fail(store->ctx, -ESTALE, "lease %s: gone from etcd or taken "
				"by another writer since revision %" PRIu64, lease->key,
				lease->revision);
	}
	if (err < 0)
		return err;
	if (lease->expiration)
		lease->expiration = lease_expiration_after(now, ttl);
	if (old_id != (int64_t)lease->store_id)
		revoke(state, old_id);
	return 0;
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
	.acquire = etcd_acquire,
	.renew = etcd_renew,
	.release = etcd_release,
	.watch_open = etcd_watch_open,
	.watch_poll = etcd_watch_poll,
	.watch_close = etcd_watch_close,
};
