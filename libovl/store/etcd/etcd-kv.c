/*
 * etcd-kv.c - the requests the etcd store sends, as JSON bodies, and what
 * their replies mean: the range of the subnets, lease grant and revoke, the
 * compare-and-swap transaction, and the choice of a subnet from a listing.
 * Pure (no I/O), so the blocking calls (store-etcd.c) and the non-blocking
 * ones (etcd-async.c) send the same requests and read them the same way.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "store/etcd/etcd.h"

static void id_text(int64_t id, char buf[24])
{
	snprintf(buf, 24, "%" PRId64, id);
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

json_t *etcd_page_request(const char *prefix, const json_t *after, int64_t revision)
{
	json_t *request = etcd_prefix_range(prefix), *kvs = json_object_get(after, "kvs");
	char *key = NULL, *next = NULL;
	size_t size;
	int err;

	if (!request || json_object_set_new(request, "limit", json_integer(ETCD_PAGE)) < 0)
		goto fail;
	if (!after)
		return request;
	if (!json_array_size(kvs) ||
	    etcd_bytes(json_array_get(kvs, json_array_size(kvs) - 1), "key", &key, &size) < 0)
		goto fail;
	/* The first key after the last one listed: it with a zero byte added
	 * (etcd_bytes ends it with one). */
	next = base64_encode(key, size + 1);
	err = !next || json_object_set_new(request, "key", json_string(next)) < 0 ||
	      json_object_set_new(request, "revision", json_integer(revision)) < 0;
	free(key);
	free(next);
	if (!err)
		return request;
fail:
	json_decref(request);
	return NULL;
}

int etcd_page_more(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "more"));
}

json_t *etcd_newest_request(const char *prefix)
{
	char *end = etcd_prefix_end(prefix);
	json_t *request;

	if (!end)
		return NULL;
	request = json_pack("{s:o, s:o, s:i, s:s, s:s, s:b}", "key", etcd_b64(prefix),
			    "range_end", etcd_b64(end), "limit", 1, "sort_order", "DESCEND",
			    "sort_target", "MOD", "keys_only", 1);
	free(end);
	return request;
}

int etcd_mark_of(struct ovl_ctx *ctx, const json_t *reply, struct etcd_mark *mark)
{
	const json_t *kv;
	int64_t revision, count;
	size_t i;

	if (etcd_int64(reply, "count", &count) < 0)
		return ctx_fail(ctx, -EPROTO, "etcd: range reply: malformed count");
	/* A later page counts only the keys from its own start on. */
	if (!mark->count)
		mark->count = count;
	json_array_foreach(json_object_get(reply, "kvs"), i, kv) {
		if (etcd_int64(kv, "mod_revision", &revision) < 0)
			return ctx_fail(ctx, -EPROTO, "etcd: range reply: malformed mod_revision");
		if (revision > mark->newest)
			mark->newest = revision;
	}
	return 0;
}

json_t *etcd_grant_request(unsigned int ttl)
{
	return json_pack("{s:I}", "TTL", (json_int_t)ttl);
}

int etcd_grant_reply(struct ovl_ctx *ctx, const json_t *reply, int64_t *id)
{
	int64_t granted = 0;

	if (etcd_int64(reply, "ID", id) < 0 || *id <= 0 ||
	    etcd_int64(reply, "TTL", &granted) < 0 || granted <= 0)
		return ctx_fail(ctx, -EPROTO, "etcd: lease grant reply without an ID and TTL");
	return 0;
}

json_t *etcd_revoke_request(int64_t id)
{
	char text[24];

	id_text(id, text);
	return json_pack("{s:s}", "ID", text);
}

json_t *etcd_txn_request(const char *key, const char *value, int64_t mod_revision,
			 int64_t lease_id)
{
	char rev_text[24], id[24];
	json_t *compare, *op;

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
	return json_pack("{s:[o], s:[o]}", "compare", compare, "success", op);
}

int etcd_txn_reply(struct ovl_ctx *ctx, const char *key, const json_t *reply, int *done,
		   int64_t *revision)
{
	*done = 0;
	if (etcd_revision(reply, revision) < 0)
		return ctx_fail(ctx, -EPROTO, "etcd: txn on %s: reply without a revision", key);
	*done = etcd_txn_succeeded(reply);
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

int etcd_acquire_choose(struct ovl_ctx *ctx, const struct ovl_config *config,
			const struct ovl_lease_request *request, struct ovl_lease **leases,
			size_t count, int64_t now, struct etcd_choice *choice)
{
	size_t i;
	int err;

	memset(choice, 0, sizeof(*choice));
	/* Alive until etcd deletes them; the allocator needs no more. */
	for (i = 0; i < count; i++)
		if (leases[i]->store_id)
			leases[i]->expiration = INT64_MAX;
	err = lease_choose(ctx, config, leases, count, request, now, &choice->chosen,
			   &choice->dropped);
	if (err < 0)
		return err;
	choice->existing = find_key(leases, count, choice->chosen->key);
	return 0;
}
