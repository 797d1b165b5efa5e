/*
 * etcd-tool.c - drives the store API for tests/netns/test-etcd.sh and
 * bench/lease-etcd.sh: one call per command, results on stdout, the
 * library's message and errno name on failure (exit 1).
 *
 *   etcd-tool URI acquire CONFIG NODE IP [TTL]    prints the lease key
 *   etcd-tool URI list                            key node expiration-in
 *   etcd-tool URI renew-after CONFIG NODE IP CMD  acquire, run CMD, renew
 *   etcd-tool URI release NODE
 *   etcd-tool URI watch SECONDS                   ADDED/REMOVED lines
 *   etcd-tool URI config-put FILE | config-get
 *   etcd-tool URI bench CONFIG N BASE             latencies in us (BASE:
 *                                                 http://HOST:PORT for bare puts)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ovl.h"

static struct ovl_ctx *ctx;

static int fail(const char *what, int err)
{
	fprintf(stderr, "etcd-tool: %s: %s (%s)\n", what, ovl_ctx_error(ctx),
		strerrorname_np(-err) ? strerrorname_np(-err) : "?");
	return 1;
}

static void log_stderr(void *userdata, int level, const char *message)
{
	fprintf(stderr, "etcd-tool: log %d: %s\n", level, message);
}

static char *slurp(const char *path)
{
	FILE *file = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;

	if (!file)
		return NULL;
	if (getdelim(&text, &size, '\0', file) < 0) {
		free(text);
		text = NULL;
	}
	fclose(file);
	return text;
}

static int acquire(struct ovl_store *store, const char *config_path, const char *node,
		   const char *ip, unsigned int ttl, struct ovl_lease **lease)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_config *config;
	int err;

	err = ovl_config_load(ctx, config_path, &config);
	if (err < 0)
		return err;
	request.node_name = node;
	request.public_ip = ip;
	request.ttl_seconds = ttl;
	request.backend_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}";
	err = ovl_lease(store, config, &request, lease);
	ovl_config_free(config);
	return err;
}

static int find_node(struct ovl_store *store, const char *node, struct ovl_lease **out)
{
	struct ovl_lease **leases;
	size_t count, i;
	int err = ovl_leases(store, &leases, &count);

	*out = NULL;
	if (err < 0)
		return err;
	for (i = 0; i < count; i++) {
		const char *name = ovl_lease_node_name(leases[i]);

		if (name && !strcmp(name, node) && !*out) {
			*out = leases[i];
			leases[i] = NULL;
		}
	}
	ovl_leases_free(leases, count);
	return *out ? 0 : -ENOENT;
}

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int watch(struct ovl_store *store, int seconds)
{
	int64_t deadline = now_us() + (int64_t)seconds * 1000000;
	struct ovl_watch *watch;
	struct ovl_lease *lease;
	int err, event;

	err = ovl_watch_open(store, &watch);
	if (err < 0)
		return fail("watch", err);
	printf("READY\n");
	fflush(stdout);
	while (now_us() < deadline) {
		struct pollfd pfd = { .fd = ovl_watch_fd(watch), .events = POLLIN };

		poll(&pfd, 1, 100);
		while ((err = ovl_watch_next(watch, &event, &lease)) == 0) {
			printf("%s %s %s\n", event == OVL_WATCH_ADDED ? "ADDED" : "REMOVED",
			       ovl_lease_key(lease), ovl_lease_node_name(lease) ?
			       ovl_lease_node_name(lease) : "-");
			fflush(stdout);
			ovl_lease_free(lease);
		}
		if (err != -EAGAIN) {
			ovl_watch_close(watch);
			return fail("watch next", err);
		}
	}
	ovl_watch_close(watch);
	return 0;
}

static int ctx_fail_test(int err)
{
	fprintf(stderr, "etcd-tool: the watcher did not report the lease within 5 s\n");
	return err;
}

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void print_latency(const char *name, int64_t *samples, int n)
{
	qsort(samples, (size_t)n, sizeof(*samples), compare_int64);
	printf("%s_us_median %lld\n%s_us_p99 %lld\n", name, (long long)samples[n / 2],
	       name, (long long)samples[(n * 99 + 99) / 100 - 1]);
}

/* The baseline: one bare put through the gateway, on a kept connection. */
static int raw_puts(const char *base, int n, int64_t *took)
{
	const char *body = "{\"key\":\"L292bC1iZW5jaC9wdXQ=\",\"value\":\"eA==\"}";
	CURL *easy = curl_easy_init();
	FILE *sink = fopen("/dev/null", "w");
	char url[256];
	int i, err = 0;

	snprintf(url, sizeof(url), "%s/v3/kv/put", base);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, sink);
	for (i = 0; i < n && !err; i++) {
		int64_t start = now_us();

		err = curl_easy_perform(easy) != CURLE_OK;
		took[i] = now_us() - start;
	}
	curl_easy_cleanup(easy);
	fclose(sink);
	return err;
}

/* The time until a watcher on its own connection reports key. */
static int64_t converge(struct ovl_watch *watch, const char *key, int64_t since)
{
	struct ovl_lease *lease;
	int event, err;

	for (;;) {
		struct pollfd pfd = { .fd = ovl_watch_fd(watch), .events = POLLIN };

		if (poll(&pfd, 1, 5000) <= 0)
			return -1;
		while ((err = ovl_watch_next(watch, &event, &lease)) == 0) {
			int match = event == OVL_WATCH_ADDED && !strcmp(ovl_lease_key(lease), key);

			ovl_lease_free(lease);
			if (match)
				return now_us() - since;
		}
		if (err != -EAGAIN)
			return -1;
	}
}

/* N acquires by distinct nodes while another "host" watches; prints the
 * median and p99 of acquire latency, of convergence (acquired on one host,
 * reported on the other) and of N bare puts, all in microseconds. */
static int bench(struct ovl_store *store, const char *uri, const char *base,
		 const char *config_path, int n)
{
	int64_t *took = calloc((size_t)n, sizeof(*took));
	int64_t *seen = calloc((size_t)n, sizeof(*seen));
	struct ovl_lease **leases = calloc((size_t)n, sizeof(*leases));
	struct ovl_ctx *peer_ctx = NULL;
	struct ovl_store *peer = NULL;
	struct ovl_watch *watch = NULL;
	char node[32], ip[32];
	int i, err;

	err = ovl_ctx_new(&peer_ctx);
	if (!err)
		err = ovl_store_open(peer_ctx, uri, &peer);
	if (!err)
		err = ovl_watch_open(peer, &watch);
	for (i = 0; i < n && !err; i++) {
		int64_t start = now_us();

		snprintf(node, sizeof(node), "bench-%d", i);
		snprintf(ip, sizeof(ip), "10.9.%d.%d", i / 250, i % 250 + 1);
		err = acquire(store, config_path, node, ip, 60, &leases[i]);
		took[i] = now_us() - start;
		if (!err && (seen[i] = converge(watch, ovl_lease_key(leases[i]), start + took[i])) < 0)
			err = ctx_fail_test(-ETIMEDOUT);
	}
	if (!err) {
		print_latency("acquire", took, n);
		print_latency("convergence", seen, n);
		err = raw_puts(base, n, took) ? -EIO : 0;
		if (!err)
			print_latency("raw_put", took, n);
	}
	for (i = 0; i < n; i++) {
		if (leases[i])
			ovl_lease_release(store, leases[i]);
		ovl_lease_free(leases[i]);
	}
	ovl_watch_close(watch);
	ovl_store_close(peer);
	ovl_ctx_free(peer_ctx);
	free(took);
	free(seen);
	free(leases);
	return err ? fail("bench", err) : 0;
}

int main(int argc, char **argv)
{
	struct ovl_store *store = NULL;
	struct ovl_lease *lease = NULL;
	int err, status = 0;
	char *text;

	if (argc < 3) {
		fprintf(stderr, "usage: etcd-tool URI COMMAND ARGS (see the source)\n");
		return 2;
	}
	if (ovl_ctx_new(&ctx) < 0)
		return 1;
	if (getenv("ETCD_TOOL_LOG"))
		ovl_ctx_set_log(ctx, atoi(getenv("ETCD_TOOL_LOG")), log_stderr, NULL);
	err = ovl_store_open(ctx, argv[1], &store);
	if (err < 0) {
		status = fail("open", err);
		goto out;
	}
	if (!strcmp(argv[2], "acquire") && argc >= 6) {
		err = acquire(store, argv[3], argv[4], argv[5],
			      argc > 6 ? (unsigned int)atoi(argv[6]) : 0, &lease);
		if (err < 0)
			status = fail("acquire", err);
		else
			printf("%s\n", ovl_lease_key(lease));
	} else if (!strcmp(argv[2], "list")) {
		struct ovl_lease **leases;
		size_t count, i;

		err = ovl_leases(store, &leases, &count);
		if (err < 0) {
			status = fail("list", err);
			goto out;
		}
		for (i = 0; i < count; i++)
			printf("%s %s %s %lld\n", ovl_lease_key(leases[i]),
			       ovl_lease_node_name(leases[i]) ? ovl_lease_node_name(leases[i]) : "-",
			       ovl_lease_public_ip(leases[i], 2) ? ovl_lease_public_ip(leases[i], 2) : "-",
			       ovl_lease_expiration(leases[i]) ?
			       (long long)(ovl_lease_expiration(leases[i]) - time(NULL)) : -1LL);
		ovl_leases_free(leases, count);
	} else if (!strcmp(argv[2], "renew-after") && argc >= 7) {
		err = acquire(store, argv[3], argv[4], argv[5], 60, &lease);
		if (err < 0) {
			status = fail("acquire", err);
			goto out;
		}
		printf("%s\n", ovl_lease_key(lease));
		fflush(stdout);
		if (system(argv[6]) != 0)
			fprintf(stderr, "etcd-tool: command failed: %s\n", argv[6]);
		err = ovl_lease_renew(store, lease, 60);
		printf("renew %s lost=%d\n", err ? strerrorname_np(-err) : "OK",
		       ovl_lease_is_lost(lease));
		if (err)
			printf("message %s\n", ovl_ctx_error(ctx));
	} else if (!strcmp(argv[2], "release") && argc >= 4) {
		err = find_node(store, argv[3], &lease);
		if (!err)
			err = ovl_lease_release(store, lease);
		if (err < 0)
			status = fail("release", err);
	} else if (!strcmp(argv[2], "watch") && argc >= 4) {
		status = watch(store, atoi(argv[3]));
	} else if (!strcmp(argv[2], "config-put") && argc >= 4) {
		text = slurp(argv[3]);
		err = text ? ovl_store_config_put(store, text) : -errno;
		free(text);
		if (err < 0)
			status = fail("config put", err);
	} else if (!strcmp(argv[2], "config-get")) {
		struct ovl_config *config;

		err = ovl_store_config_get(store, &config);
		if (err < 0) {
			status = fail("config get", err);
			goto out;
		}
		text = ovl_config_to_json(config);
		printf("%s\n", text);
		ovl_free(text);
		ovl_config_free(config);
	} else if (!strcmp(argv[2], "bench") && argc >= 5) {
		status = argc >= 6 ? bench(store, argv[1], argv[5], argv[3], atoi(argv[4])) : 2;
	} else {
		fprintf(stderr, "etcd-tool: unknown command or missing arguments\n");
		status = 2;
	}
out:
	ovl_lease_free(lease);
	ovl_store_close(store);
	ovl_ctx_free(ctx);
	return status;
}
