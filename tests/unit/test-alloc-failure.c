/*
 * test-alloc-failure.c - allocation-failure injection (jansson's chaos test
 * idea): each scenario runs once per allocation it makes, the N-th
 * allocation failing in run N, until a run makes fewer than N.  Every call
 * must then succeed or return -ENOMEM (never another error, never a crash),
 * leave nothing allocated (LeakSanitizer checks after each run in the ASan
 * build) and leave the store usable.
 *
 * The library's calls are redirected here with the linker's --wrap (see
 * Makefile.am), jansson's with json_set_alloc_funcs().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <jansson.h>

#include "harness.h"
#include "lease/lease.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() __lsan_do_recoverable_leak_check()
#else
#define LEAK_CHECK() 0
#endif

/* ---- the injector ------------------------------------------------------- */

static unsigned long calls;	/* allocations seen while armed */
static unsigned long fail_at;	/* the one to fail (0: none) */
static int armed, injected, dry_run;
static unsigned long total_injected;

#define WRAP(type, name, ...) \
	type __real_##name(__VA_ARGS__); \
	type __wrap_##name(__VA_ARGS__)
WRAP(void *, malloc, size_t size);
WRAP(void *, calloc, size_t count, size_t size);
WRAP(void *, realloc, void *memory, size_t size);
WRAP(char *, strdup, const char *text);
WRAP(char *, strndup, const char *text, size_t length);
WRAP(FILE *, fopen, const char *path, const char *mode);
WRAP(ssize_t, getline, char **line, size_t *size, FILE *stream);
WRAP(ssize_t, __getdelim, char **line, size_t *size, int delimiter, FILE *stream);
WRAP(json_t *, json_loadb, const char *text, size_t length, size_t flags, json_error_t *error);
WRAP(json_t *, json_loads, const char *text, size_t flags, json_error_t *error);
WRAP(char *, json_dumps, const json_t *json, size_t flags);

/* 1 when this allocation is the one to fail. */
static int fail_now(void)
{
	if (!armed || ++calls != fail_at || injected || dry_run)
		return 0;
	injected = 1;
	total_injected++;
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
	return fail_now() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *memory, size_t size)
{
	return fail_now() ? NULL : __real_realloc(memory, size);
}

char *__wrap_strdup(const char *text)
{
	return fail_now() ? NULL : __real_strdup(text);
}

char *__wrap_strndup(const char *text, size_t length)
{
	return fail_now() ? NULL : __real_strndup(text, length);
}

/* stdio allocates inside libc, where --wrap does not reach */
FILE *__wrap_fopen(const char *path, const char *mode)
{
	return fail_now() ? NULL : __real_fopen(path, mode);
}

ssize_t __wrap_getline(char **line, size_t *size, FILE *stream)
{
	return fail_now() ? -1 : __real_getline(line, size, stream);
}

/* what getline becomes when glibc inlines it (optimized builds) */
ssize_t __wrap___getdelim(char **line, size_t *size, int delimiter, FILE *stream)
{
	return fail_now() ? -1 : __real___getdelim(line, size, delimiter, stream);
}

static void *json_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

/* jansson 2.14 is not safe against a failed allocation everywhere: its
 * lexer drops a character when growing its token buffer fails (lex_save
 * ignores strbuffer_append_byte's result) and its dumper drops an object
 * key the same way (dump_string's result is ignored for keys), so a parse
 * or a dump can return a wrong document instead of failing, or trip an
 * assert.  That is jansson's to fix; here a parse or a dump whose
 * allocations include the one to fail fails as a whole, with ENOMEM, as it
 * should.  A dry run first counts its allocations; 1 when this call fails. */
static int whole_call_fails(unsigned long before)
{
	if (fail_at <= before || fail_at > calls) {
		calls = before;
		return 0;
	}
	injected = 1;
	total_injected++;
	errno = ENOMEM;
	return 1;
}

static json_t *parse(const char *text, size_t length, size_t flags, json_error_t *error)
{
	unsigned long before = calls;

	if (!armed || injected)
		return __real_json_loadb(text, length, flags, error);
	dry_run = 1;
	json_decref(__real_json_loadb(text, length, flags, NULL));
	dry_run = 0;
	if (!whole_call_fails(before))
		return __real_json_loadb(text, length, flags, error);
	if (error) {
		memset(error, 0, sizeof(*error));
		error->line = error->column = -1;
		snprintf(error->text, sizeof(error->text), "out of memory");
		error->text[JSON_ERROR_TEXT_LENGTH - 1] = json_error_out_of_memory;
	}
	return NULL;
}

json_t *__wrap_json_loadb(const char *text, size_t length, size_t flags, json_error_t *error)
{
	return parse(text, length, flags, error);
}

json_t *__wrap_json_loads(const char *text, size_t flags, json_error_t *error)
{
	return parse(text, strlen(text), flags, error);
}

char *__wrap_json_dumps(const json_t *json, size_t flags)
{
	unsigned long before = calls;

	if (!armed || injected)
		return __real_json_dumps(json, flags);
	dry_run = 1;
	free(__real_json_dumps(json, flags));
	dry_run = 0;
	return whole_call_fails(before) ? NULL : __real_json_dumps(json, flags);
}

/* ---- the driver --------------------------------------------------------- */

static struct ovl_ctx *ctx;
static char dir[64];

/* A scenario returns 0, or the first failure of its calls (it stops there
 * after freeing what it holds). */
typedef int scenario_fn(void);

/* A call's result: 0 and -ENOMEM pass through, anything else is a bug,
 * reported with the call and the run. */
static int step_result;
static const char *step_name;
static int step(const char *name, int err)
{
	if (err < 0 && !step_result) {
		step_result = err;
		step_name = name;
	}
	return err;
}

/* Runs fn with allocation 1, 2, ... failing until a run completes without
 * reaching the failure; after (may be NULL) checks and resets what a run
 * leaves.  Returns the number of failures injected. */
static unsigned long run_scenario(const char *name, scenario_fn *fn, int (*after)(void))
{
	unsigned long n;
	int err, leaks;

	for (n = 1;; n++) {
		calls = 0;
		injected = 0;
		fail_at = n;
		step_result = 0;
		step_name = "";
		armed = 1;
		err = fn();
		armed = 0;
		leaks = LEAK_CHECK();
		if (injected ? err != 0 && err != -ENOMEM : err != 0)
			printf("\n   %s, allocation %lu of %lu failed: %s returned %d (%s)\n",
			       name, n, calls, step_name, err, ovl_ctx_error(ctx));
		CU_ASSERT(injected ? err == 0 || err == -ENOMEM : err == 0);
		if (leaks)
			printf("\n   %s, allocation %lu failed: leaks\n", name, n);
		CU_ASSERT_FALSE(leaks);
		if (after)
			CU_ASSERT_EQUAL(after(), 0);
		if (!injected)
			break;
	}
	printf("\n   %s: %lu allocation failures injected ", name, n - 1);
	CU_ASSERT(n > 1);
	return n - 1;
}

/* ---- scenarios ---------------------------------------------------------- */

static const char *const configs[] = {
	"{\"Network\":\"10.244.0.0/16\",\"SubnetLen\":24,\"SubnetMin\":\"10.244.2.0\","
	"\"Backend\":{\"Type\":\"vxlan\",\"VNI\":7,\"Port\":4789,\"DirectRouting\":true}}",
	"{\"EnableIPv6\":true,\"EnableIPv4\":true,\"Network\":\"10.1.0.0/16\","
	"\"IPv6Network\":\"fd00::/48\",\"IPv6SubnetLen\":64,\"Backend\":{\"Type\":\"host-gw\"}}",
	"{\"network\":\"10.9.0.0/20\",\"backend\":{\"type\":\"udp\",\"port\":8285}}",
	/* refused configs exercise the error paths */
	"{\"Network\":\"10.244.0.0/16\",\"SubnetLen\":31}",
	"{\"Network\":\"10.244.0.0/16\",",
};

static int config_scenario(void)
{
	struct ovl_config *config = NULL;
	size_t i;
	char *json;
	int err;

	for (i = 0; i < ARRAY_SIZE(configs); i++) {
		err = ovl_config_parse(ctx, configs[i], &config);
		if (err == -ENOMEM)
			return step("ovl_config_parse", err);
		if (i >= 3) {
			/* refused, for its own reason and not for lack of memory */
			if (err != -EINVAL)
				return step("ovl_config_parse (invalid)", err ? err : -EPROTO);
			continue;
		}
		if (err < 0)
			return step("ovl_config_parse", err);
		json = ovl_config_to_json(config);
		ovl_config_free(config);
		if (!json)
			return step("ovl_config_to_json", -ENOMEM);
		free(json);
	}
	return 0;
}

#define NOW 1700000000

static struct ovl_lease *make_lease(const char *key, const char *ip, const char *node,
				    int64_t expiration)
{
	char json[256];
	struct ovl_lease *lease = NULL;

	snprintf(json, sizeof(json), "{\"PublicIP\":\"%s\",\"BackendType\":\"vxlan\","
		 "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"},"
		 "\"NodeName\":\"%s\",\"Expiration\":%lld}", ip, node, (long long)expiration);
	CU_ASSERT_EQUAL_FATAL(lease_from_json(ctx, key, json, &lease), 0);
	return lease;
}

static struct ovl_config *choose_config;
static struct ovl_lease *existing[3];

static int choose_scenario(void)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	long dropped;
	int err;

	request.node_name = "b";
	request.public_ip = "192.168.1.2";
	request.backend_data = "{\"VNI\":7,\"VtepMAC\":\"0e:00:00:00:00:02\"}";
	err = lease_choose(ctx, choose_config, existing, 3, &request, NOW, &chosen, &dropped);
	if (err < 0)
		return step("lease_choose (renew)", err);
	ovl_lease_free(chosen);
	request.node_name = "d";
	request.public_ip = "192.168.1.4";
	request.preferred_subnet = "10.244.9.0/24";
	err = lease_choose(ctx, choose_config, existing, 3, &request, NOW, &chosen, &dropped);
	if (err < 0)
		return step("lease_choose (new)", err);
	ovl_lease_free(chosen);
	return 0;
}

static int codec_scenario(void)
{
	static const char *const values[] = {
		"{\"PublicIP\":\"192.168.1.1\",\"PublicIPv6\":\"fd00::1\",\"BackendType\":"
		"\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"},"
		"\"BackendV6Data\":{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"},"
		"\"NodeName\":\"node-a\",\"Expiration\":1700000000,\"Unknown\":[1,2]}",
		"{\"PublicIP\":\"192.168.1.1\"}",
	};
	static const char *const keys[] = { "10.244.3.0-24&fd00:0:0:3::-64", "10.244.3.0-24" };
	struct ovl_lease *lease = NULL, *copy;
	size_t i;
	char *json;
	int err;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		err = lease_from_json(ctx, keys[i], values[i], &lease);
		if (err < 0)
			return step("lease_from_json", err);
		json = lease_attrs_to_json(lease);
		copy = json ? lease_copy(lease) : NULL;
		ovl_lease_free(lease);
		free(json);
		if (!json)
			return step("lease_attrs_to_json", -ENOMEM);
		if (!copy)
			return step("lease_copy", -ENOMEM);
		ovl_lease_free(copy);
	}
	/* a bad record is refused for what it is, not for memory */
	err = lease_from_json(ctx, "10.244.3.0-24", "{\"PublicIP\":7}", &lease);
	if (err != -EINVAL && err != -EBADMSG)
		return step("lease_from_json (invalid)", err == -ENOMEM ? err : -EPROTO);
	return 0;
}

static int subnet_env_scenario(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT, back = OVL_SUBNET_ENV_INIT;
	char path[128];
	int err;

	snprintf(path, sizeof(path), "%s/run/subnet.env", dir);
	snprintf(env.network, sizeof(env.network), "10.244.0.0/16");
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.1/24");
	snprintf(env.ipv6_network, sizeof(env.ipv6_network), "fd00::/48");
	snprintf(env.ipv6_subnet, sizeof(env.ipv6_subnet), "fd00:0:0:3::1/64");
	env.mtu = 1450;
	env.ipmasq = 1;
	err = ovl_subnet_env_write(ctx, path, &env);
	if (err < 0)
		return step("ovl_subnet_env_write", err);
	err = ovl_subnet_env_read(ctx, path, &back);
	if (err < 0)
		return step("ovl_subnet_env_read", err);
	if (strcmp(back.subnet, env.subnet) || back.mtu != 1450 || !back.ipmasq)
		return step("ovl_subnet_env_read (values)", -EPROTO);
	return 0;
}

/* The store after a run: it opens, lists and parses, whatever failed. */
static char store_path[128], store_uri[160];

/* The store after a run: it opens, lists and parses whatever failed; then
 * it is removed for the next run. */
static int store_intact(void)
{
	struct ovl_store *store = NULL;
	struct ovl_lease **list = NULL;
	size_t count = 0;
	int err = ovl_store_open(ctx, store_uri, &store);

	if (!err)
		err = ovl_leases(store, &list, &count);
	if (err < 0)
		printf("\n   store after the run: %s\n", ovl_ctx_error(ctx));
	ovl_leases_free(list, count);
	ovl_store_close(store);
	unlink(store_path);
	return err;
}

static int store_scenario(void)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_store *store = NULL, *other = NULL;
	struct ovl_config *config = NULL;
	struct ovl_lease *lease = NULL, *theirs = NULL, **list = NULL, *seen = NULL;
	struct ovl_watch *watch = NULL;
	size_t count = 0;
	int err, event;

	err = step("ovl_config_parse", ovl_config_parse(ctx, configs[0], &config));
	if (!err)
		err = step("ovl_store_open", ovl_store_open(ctx, store_uri, &store));
	if (!err)
		err = step("ovl_store_open (2nd)", ovl_store_open(ctx, store_uri, &other));
	if (!err)
		err = step("ovl_store_config_put",
			   ovl_store_config_put(store, configs[1]));
	if (!err) {
		request.node_name = "node-a";
		request.public_ip = "192.168.1.10";
		request.backend_data = "{\"VNI\":7,\"VtepMAC\":\"0e:00:00:00:00:01\"}";
		request.ttl_seconds = 60;
		err = step("ovl_lease", ovl_lease(store, config, &request, &lease));
	}
	if (!err) {
		request.node_name = "node-b";
		request.public_ip = "192.168.1.11";
		err = step("ovl_lease (other)", ovl_lease(other, config, &request, &theirs));
	}
	if (!err)
		err = step("ovl_watch_open", ovl_watch_open(store, &watch));
	if (!err)
		err = step("ovl_leases", ovl_leases(store, &list, &count));
	if (!err)
		err = step("ovl_lease_renew", ovl_lease_renew(store, lease, 120));
	if (!err)
		err = step("ovl_lease_release", ovl_lease_release(other, theirs));
	/* the watch reports the snapshot and then the changes */
	while (!err && !(err = ovl_watch_next(watch, &event, &seen))) {
		ovl_lease_free(seen);
		seen = NULL;
	}
	if (err == -EAGAIN)
		err = 0;
	step("ovl_watch_next", err);
	if (!err)
		err = step("ovl_lease_release", ovl_lease_release(store, lease));
	ovl_watch_close(watch);
	ovl_leases_free(list, count);
	ovl_lease_free(lease);
	ovl_lease_free(theirs);
	ovl_store_close(other);
	ovl_store_close(store);
	ovl_config_free(config);
	return err;
}

/* ---- tests -------------------------------------------------------------- */

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ovl-alloc-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* jansson's objects are all freed with free(): that stays valid */
	json_set_alloc_funcs(json_malloc, free);
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
}

static void teardown(void)
{
	char command[128];

	ovl_ctx_free(ctx);
	ctx = NULL;
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(command), 0);
}

static void test_config(void)
{
	setup();
	run_scenario("config", config_scenario, NULL);
	teardown();
}

static void test_choose(void)
{
	size_t i;

	setup();
	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, configs[0], &choose_config), 0);
	existing[0] = make_lease("10.244.2.0-24", "192.168.1.1", "a", NOW + 60);
	existing[1] = make_lease("10.244.3.0-24", "192.168.1.2", "b", NOW - 60);
	existing[2] = make_lease("10.244.4.0-24", "192.168.1.3", "c", 0);
	run_scenario("lease_choose", choose_scenario, NULL);
	for (i = 0; i < ARRAY_SIZE(existing); i++)
		ovl_lease_free(existing[i]);
	ovl_config_free(choose_config);
	teardown();
}

static void test_codec(void)
{
	setup();
	run_scenario("lease codec", codec_scenario, NULL);
	teardown();
}

static void test_subnet_env(void)
{
	setup();
	run_scenario("subnet.env", subnet_env_scenario, NULL);
	teardown();
}

static void test_store(void)
{
	setup();
	snprintf(store_path, sizeof(store_path), "%s/store/leases.json", dir);
	snprintf(store_uri, sizeof(store_uri), "file:%s", store_path);
	run_scenario("file store", store_scenario, store_intact);
	teardown();
	printf("\n   all: %lu allocation failures injected ", total_injected);
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "net-conf.json parse and to_json", test_config },
		{ "lease_choose", test_choose },
		{ "lease record codecs", test_codec },
		{ "subnet.env write and read", test_subnet_env },
		{ "file store: acquire, list, renew, release, watch", test_store },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("allocation failure", tests);
}
