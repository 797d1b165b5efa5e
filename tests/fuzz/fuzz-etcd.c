/*
 * fuzz-etcd.c - what the etcd v3 gateway sends back: the first byte picks
 * the HTTP status (and whether the rest is a watch stream), the rest is the
 * body.  A reply goes through etcd_reply_parse and every reader of a range,
 * txn or TTL reply; a watch stream is split into lines, each parsed as
 * etcd-watch.c does (etcd_watch_line_parse, etcd_event_parse,
 * etcd_kv_lease on kv and prev_kv).
 */
#include <string.h>

#include "fuzz.h"
#include "store/etcd/etcd.h"

#define SUBNETS "/coreos.com/network/subnets/"

static void take_kv(const json_t *kv)
{
	struct ovl_lease *lease = NULL;
	int err = etcd_kv_lease(fuzz_ctx(), kv, SUBNETS, &lease);

	FUZZ_ASSERT(err < 0 ? !lease : lease && strlen(lease->key));
	ovl_lease_free(lease);
}

static void watch_line(const char *text, size_t length)
{
	struct etcd_watch_line line;
	const json_t *event, *kv, *prev_kv;
	json_error_t error;
	json_t *root;
	int deleted;
	size_t i;

	if (ovl_json_parse(text, length, 0, &root, &error) < 0)
		return;
	if (etcd_watch_line_parse(fuzz_ctx(), root, &line) == 0) {
		json_array_foreach(line.events, i, event) {
			if (etcd_event_parse(fuzz_ctx(), event, &deleted, &kv, &prev_kv) < 0)
				continue;
			take_kv(kv);
			if (prev_kv)
				take_kv(prev_kv);
		}
	}
	json_decref(root);
}

static void reply(long status, const char *body, size_t size)
{
	struct ovl_lease **leases = NULL;
	json_t *root = NULL;
	int64_t revision, ttl;
	size_t count = 0;
	int err;

	err = etcd_reply_parse(fuzz_ctx(), "fuzz", status, body, size, &root);
	FUZZ_ASSERT(err < 0 ? !root : json_is_object(root));
	if (err < 0)
		return;
	if (etcd_listing_parse(fuzz_ctx(), root, SUBNETS, &leases, &count, &revision) == 0)
		ovl_leases_free(leases, count);
	etcd_ttl_parse(root, &ttl);
	etcd_revision(root, &revision);
	etcd_txn_succeeded(root);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 200, 400, 401, 404, 409, 500, 503 };
	const char *body, *end, *newline;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	end = (const char *)data + size;
	if (data[0] & 0x80) {
		for (; body < end; body = newline + 1) {
			newline = memchr(body, '\n', (size_t)(end - body));
			if (!newline)
				newline = end;
			watch_line(body, (size_t)(newline - body));
		}
		return 0;
	}
	reply(statuses[data[0] % 8], body, size - 1);
	return 0;
}
