/*
 * test-store-file.c - the file store through the public API on a temporary
 * directory: URIs, acquire/renew/release/list, the document on disk,
 * compare-and-swap renewal, refusal of corrupt and newer stores (bytes
 * untouched), a file truncated and grown in place under open handles,
 * refusal of a store other users can write, the stored config, and the
 * watch (snapshot, changes from another handle, expiry, and the mark of
 * what it knows that a resync compares with the store's), and a resync's
 * question whether the store changed since the last listing.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "harness.h"
#include "core/internal.h"
#include "store/store.h"

static struct ovl_ctx *ctx;
static char dir[64], uri[160], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ovl-store-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* a directory that does not exist yet: the store creates it */
	snprintf(path, sizeof(path), "%s/sub/leases.json", dir);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (!ctx)
		ovl_ctx_new(&ctx);
}

static void teardown(void)
{
	char command[200];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(command), 0);
}

static struct ovl_store *open_store(void)
{
	struct ovl_store *store = NULL;

	CU_ASSERT_EQUAL_FATAL(ovl_store_open(ctx, uri, &store), 0);
	return store;
}

static struct ovl_config *config(void)
{
	struct ovl_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\"}", &cfg), 0);
	return cfg;
}

static int acquire(struct ovl_store *store, const struct ovl_config *cfg, const char *node,
		   const char *ip, const char *preferred, unsigned int ttl,
		   struct ovl_lease **lease)
{
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;

	req.node_name = node;
	req.public_ip = ip;
	req.preferred_subnet = preferred;
	req.ttl_seconds = ttl;
	req.backend_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}";
	return ovl_lease(store, cfg, &req, lease);
}

static char *read_all(const char *file, size_t *length)
{
	FILE *f = fopen(file, "rb");
	char *data;
	long size;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = calloc(1, (size_t)size + 1);
	*length = fread(data, 1, (size_t)size, f);
	fclose(f);
	return data;
}

static void write_all(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void test_uris(void)
{
	static const char *const bad[] = { "nope", "foo:/x", "file:", "file://host/x",
					   "file:/tmp/", ":x" };
	struct ovl_store *store = NULL;
	size_t i;

	if (!ctx)
		ovl_ctx_new(&ctx);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(ovl_store_open(ctx, bad[i], &store), -EINVAL);
		CU_ASSERT_PTR_NULL(store);
		CU_ASSERT(strlen(ovl_ctx_error(ctx)) > 0);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr((ovl_store_open(ctx, "foo:/x", &store),
				       ovl_ctx_error(ctx)), "unknown scheme 'foo'"));
	CU_ASSERT_EQUAL(ovl_store_open(ctx, "file:///tmp/x.json", &store), 0);
	ovl_store_close(store);
	CU_ASSERT_EQUAL(ovl_store_open(ctx, "file://localhost/tmp/x.json", &store), 0);
	ovl_store_close(store);
	CU_ASSERT_EQUAL(ovl_store_open(ctx, NULL, NULL), -EINVAL);
}

static void test_lifecycle(void)
{
	struct ovl_store *store, *other;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, *again = NULL, **list = NULL;
	json_t *doc, *record;
	struct stat st;
	size_t count, length;
	char *text;
	int64_t first;

	setup();
	store = open_store();
	cfg = config();
	/* reading an absent store: empty, and nothing created */
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	ovl_leases_free(list, count);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);

	CU_ASSERT_EQUAL_FATAL(acquire(store, cfg, "node-a", "192.168.1.10", "10.244.42.1/24",
				      60, &lease), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.244.42.0/24");
	CU_ASSERT_STRING_EQUAL(ovl_lease_key(lease), "10.244.42.0-24");
	first = ovl_lease_expiration(lease);
	CU_ASSERT(first >= time(NULL) + 60 && first <= time(NULL) + 61);
	/* the document on disk, its mode and its directory's */
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	text = strrchr(path, '/');
	*text = '\0';
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);
	*text = '/';
	text = read_all(path, &length);
	doc = json_loads(text, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "version")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "revision")), 1);
	record = json_object_get(json_object_get(doc, "leases"), "10.244.42.0-24");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(record, "NodeName")), "node-a");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(record, "PublicIP")),
			       "192.168.1.10");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(record, "BackendType")), "vxlan");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(record, "Expiration")), first);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(record, "BackendData"),
							   "VNI")), 1);
	json_decref(doc);
	free(text);

	/* idempotent, also from another handle (another process's view) */
	other = open_store();
	CU_ASSERT_EQUAL(acquire(other, cfg, "node-a", "192.168.1.10", NULL, 60, &again), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_key(again), "10.244.42.0-24");
	ovl_lease_free(again);
	/* the first handle sees what the other wrote */
	CU_ASSERT_EQUAL(acquire(other, cfg, "node-b", "192.168.1.11", NULL, 60, &again), 0);
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 2);
	if (count == 2) {
		CU_ASSERT(!strcmp(ovl_lease_node_name(list[0]), "node-a") ||
			  !strcmp(ovl_lease_node_name(list[1]), "node-a"));
		/* sorted by subnet */
		CU_ASSERT(atoi(ovl_lease_subnet(list[0], AF_INET) + 7) <
			  atoi(ovl_lease_subnet(list[1], AF_INET) + 7));
	}
	ovl_leases_free(list, count);
	ovl_lease_free(again);

	/* renew, with another TTL */
	CU_ASSERT_EQUAL(ovl_lease_renew(store, lease, 3600), 0);
	CU_ASSERT(ovl_lease_expiration(lease) >= time(NULL) + 3600);
	CU_ASSERT_FALSE(ovl_lease_is_lost(lease));
	/* release, twice */
	CU_ASSERT_EQUAL(ovl_lease_release(store, lease), 0);
	CU_ASSERT_EQUAL(ovl_lease_release(store, lease), 0);
	CU_ASSERT_EQUAL(ovl_leases(other, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	ovl_leases_free(list, count);
	/* gone: renewing is stale */
	CU_ASSERT_EQUAL(ovl_lease_renew(store, lease, 0), -ESTALE);
	CU_ASSERT(ovl_lease_is_lost(lease));
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "gone"));
	ovl_lease_free(lease);
	ovl_store_close(other);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* Renewal is compare-and-swap: a lease taken by another node after it
 * expired is not ours to renew or release. */
static void test_renew_cas(void)
{
	struct ovl_store *store;
	struct ovl_config *cfg;
	struct ovl_lease *mine = NULL, *theirs = NULL, **list = NULL;
	size_t count;

	setup();
	store = open_store();
	cfg = config();
	CU_ASSERT_EQUAL_FATAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 1, &mine), 0);
	/* wait for it to expire (a TTL of 1 s lives 1 to 2 s) */
	while (time(NULL) < ovl_lease_expiration(mine))
		usleep(50000);
	CU_ASSERT_EQUAL_FATAL(acquire(store, cfg, "node-b", "192.168.1.11",
				      ovl_lease_subnet(mine, AF_INET), 60, &theirs), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_key(theirs), ovl_lease_key(mine));
	CU_ASSERT_EQUAL(ovl_lease_renew(store, mine, 60), -ESTALE);
	CU_ASSERT(ovl_lease_is_lost(mine));
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "node-b"));
	/* releasing ours does not remove theirs */
	CU_ASSERT_EQUAL(ovl_lease_release(store, mine), 0);
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	if (count)
		CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(list[0]), "node-b");
	ovl_leases_free(list, count);
	ovl_lease_free(mine);
	ovl_lease_free(theirs);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* A store that does not parse, or is newer, is refused and never touched. */
static void test_refuse(void)
{
	static const struct {
		const char *text, *why;
		int err;
	} bad[] = {
		{ "{\"version\":1,\"leases\":{", "line 1", -EBADMSG },
		{ "[]", "not a JSON object", -EBADMSG },
		{ "{\"version\":\"1\"}", "version", -EBADMSG },
		{ "{\"version\":2,\"leases\":{}}", "format version 2 is newer", -ENOTSUP },
		{ "{\"leases\":[]}", "\"leases\"", -EBADMSG },
		{ "{\"leases\":{\"10.244.1.0-24\":{\"PublicIP\":\"1.2.3.4\",}}}",
		  "line 1 column 50: string or '}' expected", -EBADMSG },
		{ "{\"leases\":{\"10.244.1.0-24\":{\"PublicIP\":\"1.2.\x03" "3\"}}}",
		  "control character", -EBADMSG },
		{ "{\"leases\":{\"k\":{\"a\":{\"b\":1,\"b\":2}}}}", "duplicate object key",
		  -EBADMSG },
		{ "{\"leases\":{\"k\":[1e999]}}", "real number overflow", -EBADMSG },
		{ "{\"revision\":99999999999999999999}", "too big integer", -EBADMSG },
		{ "{\"leases\":{}} x", "end of file expected", -EBADMSG },
		{ "{\"leases\":{\"k\":\"\\ud800\"}}", "lone surrogate", -EBADMSG },
		{ "{\"leases\":{\"k\":\"\xc0\xaf\"}}", "invalid UTF-8", -EBADMSG },
		{ "{\"leases\":{\"10.244.1.0-24\":{\"PublicIP\":\"1.2.3.4\"},"
		  "\"10.244.1.0-24\":{\"PublicIP\":\"1.2.3.5\"}}}", "duplicate", -EBADMSG },
	};
	struct ovl_store *store;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	size_t i, count, length;
	char *before, *after, sub[128];

	setup();
	cfg = config();
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		write_all(path, bad[i].text);
		before = read_all(path, &length);
		store = open_store();
		CU_ASSERT_EQUAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 60, &lease),
				bad[i].err);
		CU_ASSERT_PTR_NULL(lease);
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), path));
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), bad[i].why));
		if (!strstr(ovl_ctx_error(ctx), bad[i].why))
			printf("\n   %s -> %s\n", bad[i].text, ovl_ctx_error(ctx));
		CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), bad[i].err);
		CU_ASSERT_EQUAL(ovl_store_config_put(store, "{\"Network\":\"10.1.0.0/16\"}"),
				bad[i].err);
		after = read_all(path, &length);
		CU_ASSERT_STRING_EQUAL(before, after);
		free(before);
		free(after);
		ovl_store_close(store);
	}
	/* an empty file holds nothing to lose: it is a new store */
	write_all(path, "");
	store = open_store();
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 60, &lease), 0);
	ovl_lease_free(lease);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* A file changed in place under open handles (which the store never does,
 * but anyone who can write the file may): truncated, it is refused as not
 * parsing, by a handle that had read it too; grown back, it is read again;
 * and a write from the text read (its unchanged runs) keeps every record. */
static void test_changed_in_place(void)
{
	struct ovl_store *writer, *reader;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	char *original, node[16], ip[32];
	size_t count, length, i;
	FILE *f;

	setup();
	cfg = config();
	writer = open_store();
	reader = open_store();
	for (i = 0; i < 3; i++) {
		snprintf(node, sizeof(node), "node-%zu", i);
		snprintf(ip, sizeof(ip), "192.168.1.%zu", 10 + i);
		CU_ASSERT_EQUAL(acquire(writer, cfg, node, ip, NULL, 60, &lease), 0);
		ovl_lease_free(lease);
	}
	CU_ASSERT_EQUAL(ovl_leases(reader, &list, &count), 0);
	ovl_leases_free(list, count);
	original = read_all(path, &length);
	CU_ASSERT_PTR_NOT_NULL_FATAL(original);
	CU_ASSERT_EQUAL(truncate(path, (off_t)length / 2), 0);
	CU_ASSERT_EQUAL(ovl_leases(reader, &list, &count), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "does not parse"));
	CU_ASSERT_EQUAL(acquire(writer, cfg, "node-3", "192.168.1.13", NULL, 60, &lease),
			-EBADMSG);
	/* back to its full length, in place (the same inode) */
	f = fopen(path, "r+");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(original, 1, length, f), length);
	fclose(f);
	CU_ASSERT_EQUAL(ovl_leases(reader, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 3);
	ovl_leases_free(list, count);
	CU_ASSERT_EQUAL(acquire(writer, cfg, "node-3", "192.168.1.13", NULL, 60, &lease), 0);
	ovl_lease_free(lease);
	CU_ASSERT_EQUAL(ovl_leases(reader, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 4);
	for (i = 0; i < count; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_lease_node_name(list[i]), "node-"));
	ovl_leases_free(list, count);
	free(original);
	ovl_store_close(reader);
	ovl_store_close(writer);
	ovl_config_free(cfg);
	teardown();
}

/* A record that parses as JSON but cannot be decoded (a bad address, a key
 * that is no subnet key, a key its value contradicts) is skipped alone:
 * not listed, its subnet never handed out, its bytes kept by rewrites. */
static void test_undecodable_records(void)
{
	static const char *const kept[] = {
		"\"10.244.1.0-24\":{\"PublicIP\":\"1.2.3\",\"NodeName\":\"node-a\"}",
		"\"10.244.2.0/24\":{\"PublicIP\":\"1.2.3.4\"}",
		"\"10.244.3.0-24&fd00::-64\":{\"PublicIP\":\"1.2.3.4\"}",
		"\"10.244.4.0-24\":{\"PublicIP\":\"0.0.0.0\",\"NodeName\":\"node-b\"}",
		"\"10.244.5.0-24\":[1,2]",
	};
	struct ovl_store *store;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	char text[1024], *after, sub[128];
	size_t i, count, length;

	setup();
	cfg = config();
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	snprintf(text, sizeof(text), "{\"version\":1,\"leases\":{\"10.244.9.0-24\":"
		 "{\"PublicIP\":\"1.2.3.9\",\"NodeName\":\"node-c\"}");
	for (i = 0; i < ARRAY_SIZE(kept); i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), ",%s", kept[i]);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "}}");
	write_all(path, text);
	store = open_store();
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	if (count == 1)
		CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(list[0]), "node-c");
	ovl_leases_free(list, count);
	/* node-a's own record is unusable: it is not reused, and the subnet
	 * it names is not free, preferred or not */
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-a", "192.168.1.10", "10.244.1.0/24", 60,
				&lease), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_STRING_NOT_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.244.1.0/24");
	ovl_lease_free(lease);
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-d", "192.168.1.11", "10.244.4.0/24", 60,
				&lease), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_STRING_NOT_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.244.4.0/24");
	ovl_lease_free(lease);
	after = read_all(path, &length);
	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(after, kept[i]));
		if (!strstr(after, kept[i]))
			printf("\n   lost: %s\n", kept[i]);
	}
	free(after);
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 3);
	ovl_leases_free(list, count);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* Escapes where the file store keeps text as it lies: a key and a node name
 * written with \u escapes are the same as plain ones (reused, renewed and
 * released by that name and key), and the file keeps the record's spelling
 * until the record is rewritten. */
static void test_escaped_record(void)
{
	struct ovl_store *store;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	char text[512], sub[128], *after;
	size_t count, length;

	setup();
	cfg = config();
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	snprintf(text, sizeof(text), "{\"leases\":{\"10.244.7.0\\u002d24\": {\"PublicIP\":"
		 "\"1.2.3.7\", \"NodeName\":\"node\\u002de\",\"Expiration\":%lld},"
		 "\"10.244.8.0-24\":{\"PublicIP\":\"1.2.3.8\",\"NodeName\":\"node-f\"}}}",
		 (long long)time(NULL) + 3600);
	write_all(path, text);
	store = open_store();
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 2);
	CU_ASSERT_STRING_EQUAL(ovl_lease_key(list[0]), "10.244.7.0-24");
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(list[0]), "node-e");
	ovl_leases_free(list, count);
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-e", "192.168.1.7", NULL, 60, &lease), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.244.7.0/24");
	CU_ASSERT_EQUAL(ovl_lease_renew(store, lease, 60), 0);
	CU_ASSERT_EQUAL(ovl_lease_release(store, lease), 0);
	ovl_lease_free(lease);
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	ovl_leases_free(list, count);
	after = read_all(path, &length);
	CU_ASSERT_PTR_NULL(strstr(after, "10.244.7.0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(after, "\"10.244.8.0-24\":{\"PublicIP\":\"1.2.3.8\""));
	free(after);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* Found by tests/fuzz (fuzz-store): a file in commit()'s layout except that
 * the closing braces follow the last lease on its line.  Its text was
 * reused with those braces, and the next write made the store unreadable. */
static void test_hand_edited_layout(void)
{
	struct ovl_store *store;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	size_t count = 0, length;
	char sub[128], *text;
	json_t *doc;

	setup();
	cfg = config();
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	write_all(path, "{\"version\":1,\"revision\":4,\"leases\":{\n"
		  "\"10.244.24.0-24\":{\"PublicIP\":\"192.168.1.1\",\"NodeName\":\"n1\"},\n"
		  "\"10.244.25.0-24\":{\"PublicIP\":\"192.168.1.2\",\"NodeName\":\"n2\"}}\n}\n");
	store = open_store();
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 60, &lease), 0);
	ovl_store_close(store);
	text = read_all(path, &length);
	doc = json_loads(text, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(doc);
	CU_ASSERT_EQUAL(json_object_size(json_object_get(doc, "leases")), 3);
	json_decref(doc);
	free(text);
	store = open_store();
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 3);
	ovl_leases_free(list, count);
	ovl_lease_free(lease);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

static void test_config(void)
{
	struct ovl_store *store;
	struct ovl_config *cfg = NULL;
	char buf[OVL_PREFIX_STRLEN];

	setup();
	store = open_store();
	CU_ASSERT_EQUAL(ovl_store_config_get(store, &cfg), -ENOENT);
	CU_ASSERT_EQUAL(ovl_store_config_put(store, "{\"Network\":\"10.7.0.0/16\"}"), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_store_config_get(store, &cfg), 0);
	ovl_prefix_format(ovl_config_network(cfg, AF_INET), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "10.7.0.0/16");
	ovl_config_free(cfg);
	CU_ASSERT_EQUAL(ovl_store_config_put(store, "{\"Network\":\"10.7.0.0/33\"}"), -EINVAL);
	CU_ASSERT_EQUAL(ovl_store_config_get(store, &cfg), 0);
	ovl_config_free(cfg);
	ovl_store_close(store);
	teardown();
}

/* err and a message naming path and the fix (NULL: no check) */
static void check_refused(int got, const char *what, const char *fix)
{
	CU_ASSERT_EQUAL(got, -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), what));
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), fix));
}

/* A store another local user can write is refused, whichever part of it
 * (the file, its directory, its lock file) they can write. */
static void test_permissions(void)
{
	struct ovl_store *store, *early;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL, **list = NULL;
	char sub[128], lock[140], fix[200], held[OVL_PREFIX_STRLEN];
	size_t count;

	setup();
	cfg = config();
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	early = open_store();
	CU_ASSERT_EQUAL_FATAL(acquire(early, cfg, "node-a", "192.168.1.10", NULL, 60, &lease), 0);
	snprintf(held, sizeof(held), "%s", ovl_lease_subnet(lease, AF_INET));
	ovl_lease_free(lease);
	lease = NULL;

	/* a world-writable file: refused at open and by a handle opened before */
	CU_ASSERT_EQUAL(chmod(path, 0666), 0);
	snprintf(fix, sizeof(fix), "chmod o-w %s", path);
	check_refused(ovl_store_open(ctx, uri, &store), "world-writable (mode 0666)", fix);
	check_refused(ovl_leases(early, &list, &count), path, fix);
	check_refused(acquire(early, cfg, "node-b", "192.168.1.11", NULL, 60, &lease),
		      path, fix);
	CU_ASSERT_PTR_NULL(lease);
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL(ovl_leases(early, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	ovl_leases_free(list, count);

	/* a world-writable directory, unless sticky like /tmp */
	CU_ASSERT_EQUAL(chmod(sub, 0777), 0);
	snprintf(fix, sizeof(fix), "chmod o-w %s", sub);
	check_refused(ovl_store_open(ctx, uri, &store), "directory", fix);
	CU_ASSERT_EQUAL(chmod(sub, 01777), 0);
	store = open_store();
	CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
	ovl_leases_free(list, count);
	ovl_store_close(store);
	CU_ASSERT_EQUAL(chmod(sub, 0755), 0);

	/* a world-writable lock file */
	CU_ASSERT_EQUAL(chmod(lock, 0666), 0);
	snprintf(fix, sizeof(fix), "chmod o-w %s", lock);
	check_refused(ovl_store_open(ctx, uri, &store), lock, fix);
	store = NULL;
	CU_ASSERT_EQUAL(chmod(lock, 0644), 0);

	/* owned by another user (only root can make that happen) */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(path, 4242, 0), 0);
		snprintf(fix, sizeof(fix), "chown 0 %s", path);
		check_refused(ovl_store_open(ctx, uri, &store), "owned by uid 4242", fix);
		check_refused(ovl_leases(early, &list, &count), "uid 4242", fix);
		CU_ASSERT_EQUAL(chown(path, 0, 0), 0);
		CU_ASSERT_EQUAL(chown(sub, 4242, 0), 0);
		check_refused(ovl_store_open(ctx, uri, &store), "directory", "chown 0");
		CU_ASSERT_EQUAL(chown(sub, 0, 0), 0);
	}
	/* fixed: usable again, the lease still there */
	store = open_store();
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 60, &lease), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), held);
	ovl_lease_free(lease);
	ovl_store_close(store);
	ovl_store_close(early);
	ovl_config_free(cfg);
	teardown();
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Next event within ms, or 0. */
static int next_event(struct ovl_watch *watch, int ms, struct ovl_lease **lease)
{
	int event, err;

	for (;;) {
		err = ovl_watch_next(watch, &event, lease);
		if (!err)
			return event;
		if (err != -EAGAIN || !wait_readable(ovl_watch_fd(watch), ms))
			return 0;
	}
}

static void test_watch(void)
{
	struct timespec now;
	struct ovl_store *store, *writer;
	struct ovl_config *cfg;
	struct ovl_lease *a = NULL, *b = NULL, *c = NULL, *seen = NULL;
	struct ovl_watch *watch = NULL;
	int event;

	setup();
	store = open_store();
	writer = open_store();
	cfg = config();
	CU_ASSERT_EQUAL_FATAL(acquire(writer, cfg, "node-a", "192.168.1.10", NULL, 60, &a), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_watch_open(store, &watch), 0);
	CU_ASSERT(ovl_watch_fd(watch) >= 0);
	/* the snapshot */
	CU_ASSERT_EQUAL(ovl_watch_next(watch, &event, &seen), 0);
	CU_ASSERT_EQUAL(event, OVL_WATCH_ADDED);
	CU_ASSERT_STRING_EQUAL(ovl_lease_key(seen), ovl_lease_key(a));
	ovl_lease_free(seen);
	CU_ASSERT_EQUAL(ovl_watch_next(watch, &event, &seen), -EAGAIN);
	CU_ASSERT_FALSE(wait_readable(ovl_watch_fd(watch), 0));

	/* changes by another handle, one after the other */
	CU_ASSERT_EQUAL_FATAL(acquire(writer, cfg, "node-b", "192.168.1.11", NULL, 60, &b), 0);
	CU_ASSERT_TRUE(wait_readable(ovl_watch_fd(watch), 2000));
	CU_ASSERT_EQUAL(next_event(watch, 2000, &seen), OVL_WATCH_ADDED);
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(seen), "node-b");
	ovl_lease_free(seen);
	CU_ASSERT_EQUAL(ovl_lease_release(writer, a), 0);
	CU_ASSERT_EQUAL(next_event(watch, 2000, &seen), OVL_WATCH_REMOVED);
	/* a removal carries the last known record */
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(seen), "node-a");
	CU_ASSERT_STRING_EQUAL(ovl_lease_backend_data(seen, AF_INET),
			       "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}");
	ovl_lease_free(seen);

	/* several changes between two reads: none is lost */
	CU_ASSERT_EQUAL(ovl_lease_release(writer, b), 0);
	CU_ASSERT_EQUAL_FATAL(acquire(writer, cfg, "node-c", "192.168.1.12", NULL, 1, &c), 0);
	CU_ASSERT_TRUE(wait_readable(ovl_watch_fd(watch), 2000));
	CU_ASSERT_EQUAL(next_event(watch, 2000, &seen), OVL_WATCH_REMOVED);
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(seen), "node-b");
	ovl_lease_free(seen);
	CU_ASSERT_EQUAL(next_event(watch, 2000, &seen), OVL_WATCH_ADDED);
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(seen), "node-c");
	ovl_lease_free(seen);
	/* node-c's TTL of 1 s runs out: REMOVED without any write */
	CU_ASSERT_EQUAL(next_event(watch, 3000, &seen), OVL_WATCH_REMOVED);
	/* not before its expiry, on the clock the watch's timer runs on
	 * (time() may still say the second before) */
	clock_gettime(CLOCK_REALTIME, &now);
	CU_ASSERT(now.tv_sec >= ovl_lease_expiration(c));
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(seen), "node-c");
	ovl_lease_free(seen);
	CU_ASSERT_EQUAL(ovl_watch_next(watch, &event, &seen), -EAGAIN);

	ovl_watch_close(watch);
	ovl_lease_free(a);
	ovl_lease_free(b);
	ovl_lease_free(c);
	ovl_store_close(writer);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
	ovl_ctx_free(ctx);
	ctx = NULL;
}

/* Another process's lock (a second open file description counts as one):
 * a change gives up after the store's timeout with a message naming the
 * lock; the timeout option is checked. */
static void test_lock_timeout(void)
{
	static const char *const bad[] = { "?timeout=", "?timeout=abc", "?timeout=-1",
					   "?timeout=0", "?timeout=1x", "?timeot=1" };
	struct ovl_store *store = NULL;
	struct ovl_config *cfg;
	struct ovl_lease *lease = NULL;
	struct timespec start, end;
	char lock[140], with_option[200];
	double elapsed;
	size_t i;
	int fd;

	setup();
	cfg = config();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(with_option, sizeof(with_option), "%s%s", uri, bad[i]);
		CU_ASSERT_EQUAL(ovl_store_open(ctx, with_option, &store), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "timeout"));
	}
	snprintf(with_option, sizeof(with_option), "%s?timeout=0.3", uri);
	CU_ASSERT_EQUAL_FATAL(ovl_store_open(ctx, with_option, &store), 0);
	CU_ASSERT_EQUAL_FATAL(acquire(store, cfg, "node-a", "192.168.1.10", NULL, 60, &lease), 0);
	ovl_lease_free(lease);
	lease = NULL;
	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0 && flock(fd, LOCK_EX) == 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-b", "192.168.1.11", NULL, 60, &lease), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &end);
	elapsed = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	CU_ASSERT(elapsed >= 0.3 && elapsed < 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "held by another process"));
	CU_ASSERT_PTR_NULL(lease);
	/* reading needs no lock */
	{
		struct ovl_lease **list = NULL;
		size_t count = 0;

		CU_ASSERT_EQUAL(ovl_leases(store, &list, &count), 0);
		CU_ASSERT_EQUAL(count, 1);
		ovl_leases_free(list, count);
	}
	close(fd);
	CU_ASSERT_EQUAL(acquire(store, cfg, "node-b", "192.168.1.11", NULL, 60, &lease), 0);
	ovl_lease_free(lease);
	ovl_store_close(store);
	ovl_config_free(cfg);
	teardown();
}

/* A record at key with the store's revision (public IP 192.168.1.9, or
 * .10 when moved). */
static struct ovl_lease *record_at(const char *key, uint64_t revision, int moved)
{
	struct ovl_lease *lease = NULL;

	CU_ASSERT_EQUAL_FATAL(lease_from_json(ctx, key,
					      moved ? "{\"PublicIP\":\"192.168.1.10\"}"
						    : "{\"PublicIP\":\"192.168.1.9\"}",
					      &lease), 0);
	lease->revision = revision;
	return lease;
}

static struct ovl_lease *record(const char *key, uint64_t revision)
{
	return record_at(key, revision, 0);
}

static void assert_mark(struct ovl_watch *watch, int64_t count, int64_t newest)
{
	int64_t got_count, got_newest;

	watch_mark(watch, &got_count, &got_newest);
	CU_ASSERT_EQUAL(got_count, count);
	CU_ASSERT_EQUAL(got_newest, newest);
}

/* The mark follows every change: a removal or a replacement of the newest
 * record recounts it, a snapshot replaces it. */
static void test_watch_mark(void)
{
	struct ovl_lease **snapshot = calloc(2, sizeof(*snapshot));
	struct ovl_store *store;
	struct ovl_watch *watch = NULL;

	setup();
	store = open_store();
	CU_ASSERT_EQUAL_FATAL(ovl_watch_open(store, &watch), 0);
	assert_mark(watch, 0, 0);
	snapshot[0] = record("10.244.1.0-24", 7);
	snapshot[1] = record("10.244.2.0-24", 9);
	CU_ASSERT_EQUAL(watch_snapshot(watch, snapshot, 2, time(NULL)), 0);
	assert_mark(watch, 2, 9);
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_ADDED, record("10.244.3.0-24", 12)), 0);
	assert_mark(watch, 3, 12);
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_REMOVED, record("10.244.3.0-24", 0)), 0);
	assert_mark(watch, 2, 9);
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_REMOVED, record("10.244.1.0-24", 0)), 0);
	assert_mark(watch, 1, 9);
	/* the same key again, changed */
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_ADDED, record_at("10.244.2.0-24", 15, 1)), 0);
	assert_mark(watch, 1, 15);
	/* written again unchanged: no event, but a newer revision */
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_ADDED, record_at("10.244.2.0-24", 17, 1)), 0);
	assert_mark(watch, 1, 17);
	/* a removal of a key never known changes nothing */
	CU_ASSERT_EQUAL(watch_event(watch, OVL_WATCH_REMOVED, record("10.244.9.0-24", 0)), 0);
	assert_mark(watch, 1, 17);
	ovl_watch_close(watch);
	ovl_store_close(store);
	teardown();
}

/* What an async request answered: -1 until it did. */
struct answer {
	int done, err, changed;
};

static void on_listed(void *arg, int err, struct ovl_lease **leases, size_t count)
{
	struct answer *answer = arg;

	ovl_leases_free(leases, count);
	answer->done = 1;
	answer->err = err;
}

static void on_changed(void *arg, int err, int changed)
{
	struct answer *answer = arg;

	answer->done = 1;
	answer->err = err;
	answer->changed = changed;
}

/* Dispatches the async until the answer came (2 s at most). */
static void wait_answer(struct store_async *async, struct answer *answer)
{
	int rounds;

	for (rounds = 0; !answer->done && rounds < 200; rounds++)
		if (wait_readable(store_async_fd(async), 10))
			CU_ASSERT_EQUAL(store_async_dispatch(async), 0);
	CU_ASSERT_TRUE(answer->done);
	CU_ASSERT_EQUAL(answer->err, 0);
}

/* changed since the last listing: 1, 0, or -1 on a failure. */
static int changed_now(struct store_async *async)
{
	struct answer answer = { 0 };

	CU_ASSERT_EQUAL_FATAL(store_async_changed(async, NULL, on_changed, &answer), 0);
	wait_answer(async, &answer);
	return answer.err ? -1 : !!(answer.changed & STORE_CHANGED_SINCE_LISTING);
}

static void list_now(struct store_async *async)
{
	struct answer answer = { 0 };

	CU_ASSERT_EQUAL_FATAL(store_async_list(async, on_listed, &answer), 0);
	wait_answer(async, &answer);
}

/* A resync's question on the file store: the file's version and the first
 * expiry among what was listed tell, no listing needed. */
static void test_async_changed(void)
{
	struct ovl_store *store, *writer;
	struct store_async *async = NULL;
	struct ovl_config *cfg;
	struct ovl_lease *a = NULL, *b = NULL;
	char command[400];

	setup();
	store = open_store();
	writer = open_store();
	cfg = config();
	CU_ASSERT_EQUAL_FATAL(acquire(writer, cfg, "node-a", "192.168.1.10", NULL, 60, &a), 0);
	CU_ASSERT_EQUAL_FATAL(store_async_open(store, &async), 0);
	CU_ASSERT_EQUAL(changed_now(async), 1);	/* nothing listed yet */
	list_now(async);
	CU_ASSERT_EQUAL(changed_now(async), 0);
	CU_ASSERT_EQUAL(changed_now(async), 0);
	/* another handle writes: a new version of the file */
	CU_ASSERT_EQUAL_FATAL(acquire(writer, cfg, "node-b", "192.168.1.11", NULL, 2, &b), 0);
	CU_ASSERT_EQUAL(changed_now(async), 1);
	list_now(async);
	CU_ASSERT_EQUAL(changed_now(async), 0);
	/* node-b's record expires (2 s): no write, yet a listing tells */
	sleep(3);
	CU_ASSERT_EQUAL(changed_now(async), 1);
	list_now(async);
	/* edited in place, same size: its times tell */
	snprintf(command, sizeof(command), "touch -d '2001-01-01' '%s'", path);
	CU_ASSERT_EQUAL(system(command), 0);
	CU_ASSERT_EQUAL(changed_now(async), 1);
	store_async_close(async);
	ovl_lease_free(a);
	ovl_lease_free(b);
	ovl_config_free(cfg);
	ovl_store_close(writer);
	ovl_store_close(store);
	teardown();
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "URIs", test_uris },
		{ "acquire, renew, release, list", test_lifecycle },
		{ "renewal is compare-and-swap", test_renew_cas },
		{ "corrupt and newer stores refused, untouched", test_refuse },
		{ "changed in place under open handles", test_changed_in_place },
		{ "undecodable records skipped and kept", test_undecodable_records },
		{ "escaped keys and names", test_escaped_record },
		{ "stored config", test_config },
		{ "hand-edited layout rewritten correctly", test_hand_edited_layout },
		{ "writable by others: refused", test_permissions },
		{ "watch", test_watch },
		{ "the mark of what a watch knows", test_watch_mark },
		{ "a resync's question: changed since the listing?", test_async_changed },
		{ "a held lock: the store's timeout", test_lock_timeout },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("file store", tests);
}
