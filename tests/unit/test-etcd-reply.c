/* test-etcd-reply.c - parsing etcd 3.4 gateway replies on canned bodies:
 * HTTP errors to errno, int64 strings, omitted zero values, range listings
 * in flannel's layout, TTLs, watch stream lines and events. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/etcd/etcd.h"

#define SUBNETS "/coreos.com/network/subnets/"
/* base64 of SUBNETS "10.244.3.0-24" and of flanneld's exact value for it */
#define KEY3 "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4zLjAtMjQ="
#define VALUE3 "eyJQdWJsaWNJUCI6IjE5Mi4xNjguNjQuMyIsIlB1YmxpY0lQdjYiOm51bGwsIkJhY2tlbmRUeXBlIjoidnhsYW4iLCJCYWNrZW5kRGF0YSI6eyJWTkkiOjEsIlZ0ZXBNQUMiOiJjNjpkMjozMjo2Zjo4Zjo0NCJ9fQ=="
/* SUBNETS "10.244.9.0-24", ours: with NodeName */
#define KEY9 "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC45LjAtMjQ="
#define VALUE9 "eyJQdWJsaWNJUCI6IjE5Mi4xNjguNjQuOSIsIkJhY2tlbmRUeXBlIjoidnhsYW4iLCJCYWNrZW5kRGF0YSI6eyJWTkkiOjEsIlZ0ZXBNQUMiOiJjNjpkMjozMjo2Zjo4Zjo0OSJ9LCJOb2RlTmFtZSI6Im45In0="
/* SUBNETS "junk" and "not json" */
#define KEYJUNK "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzL2p1bms="
#define VALUEJUNK "bm90IGpzb24="
#define HEADER "\"header\":{\"cluster_id\":\"2037210783374497686\",\"member_id\":" \
	"\"13195394291058371180\",\"revision\":\"42\",\"raft_term\":\"2\"}"

static struct ovl_ctx *ctx;

static int parse(long status, const char *body, json_t **reply)
{
	return etcd_reply_parse(ctx, "etcd http://h:2379/v3/x", status, body,
				strlen(body), reply);
}

static void test_http_errors(void)
{
	json_t *reply = (json_t *)1;

	CU_ASSERT_EQUAL(parse(200, "{" HEADER "}", &reply), 0);
	CU_ASSERT_TRUE(json_is_object(reply));
	json_decref(reply);
	CU_ASSERT_EQUAL(parse(200, "{\"header\":", &reply), -EPROTO);
	CU_ASSERT_PTR_NULL(reply);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "malformed reply"));
	CU_ASSERT_EQUAL(parse(200, "[1]", &reply), -EPROTO);
	CU_ASSERT_EQUAL(parse(200, "{\"error\":\"too large lease TTL\"}", &reply), -EIO);
	CU_ASSERT_EQUAL(parse(404, "{\"error\":\"etcdserver: requested lease not found\","
			      "\"message\":\"etcdserver: requested lease not found\",\"code\":5}",
			      &reply), -ENOENT);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "etcd http://h:2379/v3/x: HTTP 404: "
			       "etcdserver: requested lease not found");
	CU_ASSERT_EQUAL(parse(404, "404 page not found\n", &reply), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "no etcd v3 JSON gateway"));
	CU_ASSERT_EQUAL(parse(401, "{\"error\":\"etcdserver: invalid auth token\",\"code\":16}",
			      &reply), -EACCES);
	CU_ASSERT_EQUAL(parse(403, "{\"message\":\"etcdserver: permission denied\",\"code\":7}",
			      &reply), -EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "permission denied"));
	CU_ASSERT_EQUAL(parse(400, "{\"error\":\"mvcc: required revision has been compacted\","
			      "\"code\":11}", &reply), -ERANGE);
	CU_ASSERT_EQUAL(parse(400, "{\"error\":\"unexpected EOF\",\"code\":3}", &reply), -EINVAL);
	CU_ASSERT_EQUAL(parse(412, "{\"error\":\"etcdserver: lease already exists\",\"code\":9}",
			      &reply), -EEXIST);
	CU_ASSERT_EQUAL(parse(503, "{\"error\":\"etcdserver: no leader\",\"code\":14}", &reply),
			-EAGAIN);
	CU_ASSERT_EQUAL(parse(504, "", &reply), -ETIMEDOUT);
	CU_ASSERT_EQUAL(parse(418, "\x01\x02teapot", &reply), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "HTTP 418:   teapot"));
}

static void test_int64_fields(void)
{
	json_t *o = json_loads("{\"id\":\"7587868403637063947\",\"n\":12,\"neg\":\"-1\","
			       "\"bad\":\"12x\",\"huge\":\"99999999999999999999\",\"b\":true,"
			       "\"sp\":\" 5\",\"empty\":\"\",\"real\":1.5,\"nul\":null}", 0, NULL);
	int64_t v = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(etcd_int64(o, "id", &v), 0);
	CU_ASSERT_EQUAL(v, INT64_C(7587868403637063947));	/* beyond 2^53 */
	CU_ASSERT_EQUAL(etcd_int64(o, "n", &v), 0);
	CU_ASSERT_EQUAL(v, 12);
	CU_ASSERT_EQUAL(etcd_int64(o, "neg", &v), 0);
	CU_ASSERT_EQUAL(v, -1);
	CU_ASSERT_EQUAL(etcd_int64(o, "missing", &v), 0);	/* omitted zero */
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(etcd_int64(o, "nul", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(etcd_int64(o, "bad", &v), -EPROTO);
	CU_ASSERT_EQUAL(etcd_int64(o, "huge", &v), -EPROTO);
	CU_ASSERT_EQUAL(etcd_int64(o, "b", &v), -EPROTO);
	CU_ASSERT_EQUAL(etcd_int64(o, "sp", &v), -EPROTO);
	CU_ASSERT_EQUAL(etcd_int64(o, "empty", &v), -EPROTO);
	CU_ASSERT_EQUAL(etcd_int64(o, "real", &v), -EPROTO);
	json_decref(o);
}

static void test_bytes_and_helpers(void)
{
	json_t *o = json_loads("{\"k\":\"" KEY3 "\",\"bad\":\"!!!!\",\"n\":3}", 0, NULL);
	char *data, *end;
	size_t size;

	CU_ASSERT_EQUAL(etcd_bytes(o, "k", &data, &size), 0);
	CU_ASSERT_STRING_EQUAL(data, SUBNETS "10.244.3.0-24");
	free(data);
	CU_ASSERT_EQUAL(etcd_bytes(o, "missing", &data, &size), 0);
	CU_ASSERT_STRING_EQUAL(data, "");
	CU_ASSERT_EQUAL(size, 0);
	free(data);
	CU_ASSERT_EQUAL(etcd_bytes(o, "bad", &data, &size), -EPROTO);
	CU_ASSERT_EQUAL(etcd_bytes(o, "n", &data, &size), -EPROTO);
	json_decref(o);

	end = etcd_prefix_end(SUBNETS);
	CU_ASSERT_STRING_EQUAL(end, "/coreos.com/network/subnets0");
	free(end);
	o = etcd_b64(SUBNETS);
	CU_ASSERT_STRING_EQUAL(json_string_value(o), "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLw==");
	json_decref(o);
}

static void test_txn_outcome(void)
{
	json_t *won = json_loads("{" HEADER ",\"succeeded\":true,\"responses\":"
				 "[{\"response_put\":{\"header\":{\"revision\":\"42\"}}}]}", 0, NULL);
	/* a failed compare omits "succeeded" altogether */
	json_t *lost = json_loads("{" HEADER ",\"responses\":[]}", 0, NULL);
	json_t *headless = json_loads("{\"succeeded\":true}", 0, NULL);
	int64_t revision;

	CU_ASSERT_EQUAL(etcd_txn_succeeded(won), 1);
	CU_ASSERT_EQUAL(etcd_txn_succeeded(lost), 0);
	CU_ASSERT_EQUAL(etcd_revision(won, &revision), 0);
	CU_ASSERT_EQUAL(revision, 42);
	CU_ASSERT_EQUAL(etcd_revision(headless, &revision), -EPROTO);
	json_decref(won);
	json_decref(lost);
	json_decref(headless);
}

static void test_listing(void)
{
	json_t *reply = json_loads("{" HEADER ",\"kvs\":["
		"{\"key\":\"" KEY3 "\",\"create_revision\":\"7\",\"mod_revision\":\"9\","
		"\"version\":\"2\",\"value\":\"" VALUE3 "\",\"lease\":\"7587868403637063947\"},"
		"{\"key\":\"" KEYJUNK "\",\"mod_revision\":\"10\",\"value\":\"" VALUEJUNK "\"},"
		"{\"key\":\"" KEY9 "\",\"create_revision\":\"11\",\"mod_revision\":\"11\","
		"\"version\":\"1\",\"value\":\"" VALUE9 "\"}],\"count\":\"3\"}", 0, NULL);
	struct ovl_lease **leases;
	size_t count;
	int64_t revision;

	CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
	CU_ASSERT_EQUAL_FATAL(etcd_listing_parse(ctx, reply, SUBNETS, &leases, &count,
						 &revision), 0);
	CU_ASSERT_EQUAL(revision, 42);
	CU_ASSERT_EQUAL_FATAL(count, 2);	/* the junk one is skipped */
	CU_ASSERT_STRING_EQUAL(leases[0]->key, "10.244.3.0-24");
	CU_ASSERT_STRING_EQUAL(leases[0]->subnet_text, "10.244.3.0/24");
	CU_ASSERT_STRING_EQUAL(leases[0]->public_ip, "192.168.64.3");
	CU_ASSERT_PTR_NULL(leases[0]->public_ipv6);
	CU_ASSERT_STRING_EQUAL(leases[0]->backend_type, "vxlan");
	CU_ASSERT_PTR_NOT_NULL(strstr(leases[0]->backend_data, "c6:d2:32:6f:8f:44"));
	CU_ASSERT_PTR_NULL(leases[0]->node_name);
	CU_ASSERT_EQUAL(leases[0]->store_id, UINT64_C(7587868403637063947));
	CU_ASSERT_EQUAL(leases[0]->revision, 9);
	CU_ASSERT_STRING_EQUAL(leases[1]->node_name, "n9");
	CU_ASSERT_EQUAL(leases[1]->store_id, 0);	/* no lease: a reservation */
	CU_ASSERT_EQUAL(leases[1]->expiration, 0);
	ovl_leases_free(leases, count);
	json_decref(reply);

	/* nothing there: kvs and count omitted */
	reply = json_loads("{" HEADER "}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_listing_parse(ctx, reply, SUBNETS, &leases, &count, &revision), 0);
	CU_ASSERT_EQUAL(count, 0);
	ovl_leases_free(leases, count);
	json_decref(reply);

	reply = json_loads("{" HEADER ",\"kvs\":{}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_listing_parse(ctx, reply, SUBNETS, &leases, &count, &revision),
			-EPROTO);
	json_decref(reply);
	reply = json_loads("{\"kvs\":[]}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_listing_parse(ctx, reply, SUBNETS, &leases, &count, &revision),
			-EPROTO);
	json_decref(reply);
	reply = json_loads("{" HEADER ",\"kvs\":[{\"key\":\"" KEY3 "\",\"mod_revision\":"
			   "\"x\",\"value\":\"" VALUE3 "\"}]}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_listing_parse(ctx, reply, SUBNETS, &leases, &count, &revision),
			-EPROTO);
	json_decref(reply);
}

/* A listing in two pages: the second asks from just after the first's last
 * key at its revision; the pages add up, the mark counts the first's total
 * and the newest mod_revision of all. */
static void test_pages_and_mark(void)
{
	json_t *first = json_loads("{" HEADER ",\"kvs\":[{\"key\":\"" KEY3 "\","
		"\"mod_revision\":\"9\",\"value\":\"" VALUE3 "\"}],\"more\":true,"
		"\"count\":\"2\"}", 0, NULL);
	json_t *second = json_loads("{" HEADER ",\"kvs\":[{\"key\":\"" KEY9 "\","
		"\"mod_revision\":\"11\",\"value\":\"" VALUE9 "\"}],\"count\":\"1\"}",
		0, NULL);
	json_t *request = etcd_page_request(SUBNETS, NULL, 0), *empty;
	struct ovl_lease **leases = NULL;
	struct etcd_mark mark = { 0 };
	size_t count = 0, size;
	int64_t revision;
	char *key;

	CU_ASSERT_PTR_NOT_NULL_FATAL(first);
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(request, "limit")), ETCD_PAGE);
	CU_ASSERT_PTR_NULL(json_object_get(request, "revision"));
	json_decref(request);
	CU_ASSERT_TRUE(etcd_page_more(first));
	CU_ASSERT_FALSE(etcd_page_more(second));
	request = etcd_page_request(SUBNETS, first, 42);
	CU_ASSERT_PTR_NOT_NULL_FATAL(request);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(request, "revision")), 42);
	CU_ASSERT_EQUAL_FATAL(etcd_bytes(request, "key", &key, &size), 0);
	CU_ASSERT_EQUAL(size, strlen(SUBNETS "10.244.3.0-24") + 1);
	CU_ASSERT_STRING_EQUAL(key, SUBNETS "10.244.3.0-24");
	CU_ASSERT_EQUAL(key[size - 1], '\0');
	free(key);
	json_decref(request);
	empty = json_loads("{" HEADER ",\"kvs\":[]}", 0, NULL);
	CU_ASSERT_PTR_NULL(etcd_page_request(SUBNETS, empty, 42));
	json_decref(empty);

	CU_ASSERT_EQUAL(etcd_listing_append(ctx, first, SUBNETS, &leases, &count, &revision), 0);
	CU_ASSERT_EQUAL(etcd_mark_of(ctx, first, &mark), 0);
	CU_ASSERT_EQUAL(etcd_listing_append(ctx, second, SUBNETS, &leases, &count, &revision), 0);
	CU_ASSERT_EQUAL(etcd_mark_of(ctx, second, &mark), 0);
	CU_ASSERT_EQUAL_FATAL(count, 2);
	CU_ASSERT_STRING_EQUAL(leases[0]->key, "10.244.3.0-24");
	CU_ASSERT_STRING_EQUAL(leases[1]->key, "10.244.9.0-24");
	CU_ASSERT_EQUAL(mark.count, 2);
	CU_ASSERT_EQUAL(mark.newest, 11);
	ovl_leases_free(leases, count);
	json_decref(first);
	json_decref(second);
	request = etcd_newest_request(SUBNETS);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(request, "sort_target")), "MOD");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(request, "limit")), 1);
	json_decref(request);
}

static void test_ttl(void)
{
	json_t *alive = json_loads("{" HEADER ",\"ID\":\"5\",\"TTL\":\"29\",\"grantedTTL\":\"30\"}",
				   0, NULL);
	json_t *gone = json_loads("{" HEADER ",\"ID\":\"5\",\"TTL\":\"-1\"}", 0, NULL);
	json_t *keepalive_gone = json_loads("{" HEADER ",\"ID\":\"5\"}", 0, NULL);
	json_t *bad = json_loads("{\"TTL\":\"soon\"}", 0, NULL);
	int64_t ttl;

	CU_ASSERT_EQUAL(etcd_ttl_parse(alive, &ttl), 0);
	CU_ASSERT_EQUAL(ttl, 29);
	CU_ASSERT_EQUAL(etcd_ttl_parse(gone, &ttl), -ENOENT);
	CU_ASSERT_EQUAL(etcd_ttl_parse(keepalive_gone, &ttl), -ENOENT);
	CU_ASSERT_EQUAL(etcd_ttl_parse(bad, &ttl), -EPROTO);
	json_decref(alive);
	json_decref(gone);
	json_decref(keepalive_gone);
	json_decref(bad);
}

static void test_watch_lines(void)
{
	struct etcd_watch_line line;
	const json_t *kv, *prev;
	json_t *o;
	int deleted;

	o = json_loads("{\"result\":{" HEADER ",\"created\":true}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), 0);
	CU_ASSERT_EQUAL(line.kind, ETCD_LINE_CREATED);
	CU_ASSERT_EQUAL(line.revision, 42);
	json_decref(o);

	o = json_loads("{\"result\":{" HEADER ",\"events\":["
		       "{\"kv\":{\"key\":\"" KEY3 "\",\"mod_revision\":\"42\",\"value\":\"" VALUE3 "\"}},"
		       "{\"type\":\"DELETE\",\"kv\":{\"key\":\"" KEY9 "\",\"mod_revision\":\"42\"},"
		       "\"prev_kv\":{\"key\":\"" KEY9 "\",\"value\":\"" VALUE9 "\"}},"
		       "{\"type\":1,\"kv\":{\"key\":\"" KEY9 "\"}},"
		       "{\"type\":\"BOGUS\",\"kv\":{}},{\"type\":\"PUT\"}]}}", 0, NULL);
	CU_ASSERT_EQUAL_FATAL(etcd_watch_line_parse(ctx, o, &line), 0);
	CU_ASSERT_EQUAL(line.kind, ETCD_LINE_EVENTS);
	CU_ASSERT_EQUAL_FATAL(json_array_size(line.events), 5);
	CU_ASSERT_EQUAL(etcd_event_parse(ctx, json_array_get(line.events, 0), &deleted, &kv,
					 &prev), 0);
	CU_ASSERT_EQUAL(deleted, 0);	/* PUT: "type" omitted */
	CU_ASSERT_PTR_NULL(prev);
	CU_ASSERT_EQUAL(etcd_event_parse(ctx, json_array_get(line.events, 1), &deleted, &kv,
					 &prev), 0);
	CU_ASSERT_EQUAL(deleted, 1);
	CU_ASSERT_PTR_NOT_NULL(prev);
	CU_ASSERT_EQUAL(etcd_event_parse(ctx, json_array_get(line.events, 2), &deleted, &kv,
					 &prev), 0);
	CU_ASSERT_EQUAL(deleted, 1);	/* enum as a number */
	CU_ASSERT_EQUAL(etcd_event_parse(ctx, json_array_get(line.events, 3), &deleted, &kv,
					 &prev), -EPROTO);
	CU_ASSERT_EQUAL(etcd_event_parse(ctx, json_array_get(line.events, 4), &deleted, &kv,
					 &prev), -EPROTO);	/* no kv */
	json_decref(o);

	/* progress notification: no events, just a revision */
	o = json_loads("{\"result\":{" HEADER "}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), 0);
	CU_ASSERT_EQUAL(line.kind, ETCD_LINE_EVENTS);
	CU_ASSERT_PTR_NULL(line.events);
	json_decref(o);

	/* compaction: the header even lacks a revision */
	o = json_loads("{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},"
		       "\"canceled\":true,\"compact_revision\":\"8\"}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), 0);
	CU_ASSERT_EQUAL(line.kind, ETCD_LINE_CANCELED);
	CU_ASSERT_EQUAL(line.compact_revision, 8);
	CU_ASSERT_EQUAL(line.revision, 0);
	json_decref(o);

	o = json_loads("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
		       "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), -ECONNABORTED);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "no leader"));
	json_decref(o);
	o = json_loads("{\"something\":1}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), -EPROTO);
	json_decref(o);
	o = json_loads("{\"result\":{\"events\":{}}}", 0, NULL);
	CU_ASSERT_EQUAL(etcd_watch_line_parse(ctx, o, &line), -EPROTO);
	json_decref(o);
}

static CU_TestInfo tests[] = {
	{ "HTTP status and error bodies map to errno", test_http_errors },
	{ "int64 fields as strings, omitted zeros", test_int64_fields },
	{ "base64 bytes fields, prefix range end", test_bytes_and_helpers },
	{ "txn outcome without \"succeeded\"", test_txn_outcome },
	{ "range listing in flannel's layout", test_listing },
	{ "a listing in pages, the mark of a listing", test_pages_and_mark },
	{ "timetolive and keepalive TTLs", test_ttl },
	{ "watch stream lines and events", test_watch_lines },
	CU_TEST_INFO_NULL,
};

void register_tests(void)
{
	/* One context for the run; still reachable at exit, not a leak. */
	if (ovl_ctx_new(&ctx) < 0)
		exit(2);
	harness_add_suite("etcd replies", tests);
}
