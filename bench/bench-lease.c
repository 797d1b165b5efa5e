/*
 * bench-lease.c - acquire latency on the file store holding 1,000 and
 * 10,000 leases (median and p99), beside the cost of just reading and
 * parsing that store once, so that the ratio shows what choosing a subnet
 * and durably writing the store add.  The store lives in a temporary
 * directory under $TMPDIR (default /var/tmp, a real disk: fsync counts).
 *
 *   bench-lease [ITERATIONS]        (default 50)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ovl.h"

#define GOAL_MS 10.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median and p99 of samples (sorted in place) */
static void stats(double *samples, int n, double *median, double *p99)
{
	qsort(samples, (size_t)n, sizeof(*samples), compare_doubles);
	*median = samples[n / 2];
	*p99 = samples[(n * 99 + 99) / 100 - 1];
}

/* A store of count leases in 10.0.0.0/8, as nodes would have written it. */
static int write_store(const char *path, int count)
{
	FILE *file = fopen(path, "w");
	long expiration = (long)time(NULL) + 86400;
	int i;

	if (!file)
		return -errno;
	fprintf(file, "{\"version\":1,\"revision\":%d,\"leases\":{", count);
	for (i = 1; i <= count; i++)
		fprintf(file, "%s\"10.%d.%d.0-24\":{\"PublicIP\":\"192.168.%d.%d\","
			"\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":"
			"\"0e:00:00:00:%02x:%02x\"},\"NodeName\":\"node-%d\",\"Expiration\":%ld}",
			i > 1 ? "," : "", i >> 8, i & 255, (i >> 8) & 255, i & 255,
			(i >> 8) & 255, i & 255, i, expiration);
	fprintf(file, "}}\n");
	return fclose(file) ? -errno : 0;
}

static int fail(struct ovl_ctx *ctx, const char *what, int err)
{
	fprintf(stderr, "bench-lease: %s: %s\n", what,
		*ovl_ctx_error(ctx) ? ovl_ctx_error(ctx) : ovl_strerror(err));
	return 1;
}

/* One size: parse-once baseline, acquire with a fresh handle (what a node
 * starting up pays), acquire on a long-lived handle (what an agent pays). */
static int run(struct ovl_ctx *ctx, const char *dir, int count, int iterations, double *result)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	double *parse = calloc((size_t)iterations, sizeof(double));
	double *fresh = calloc((size_t)iterations, sizeof(double));
	double *warm = calloc((size_t)iterations, sizeof(double));
	double parse_median, parse_p99, fresh_median, fresh_p99, warm_median, warm_p99, t;
	struct ovl_store *store, *kept = NULL;
	struct ovl_config *config = NULL;
	struct ovl_lease **leases, *lease;
	char path[512], uri[600], node[64], ip[32];
	size_t listed;
	int i, err, status = 1;

	snprintf(path, sizeof(path), "%s/leases-%d.json", dir, count);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (!parse || !fresh || !warm || write_store(path, count) < 0)
		goto out;
	err = ovl_config_parse(ctx, "{\"Network\":\"10.0.0.0/8\"}", &config);
	if (err < 0) {
		status = fail(ctx, "config", err);
		goto out;
	}
	request.backend_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:ff:ff\"}";
	request.ttl_seconds = 60;
	/* baseline: open, read, parse and validate the store once */
	for (i = 0; i < iterations; i++) {
		t = now_ms();
		err = ovl_store_open(ctx, uri, &store);
		if (!err)
			err = ovl_leases(store, &leases, &listed);
		parse[i] = now_ms() - t;
		if (err < 0) {
			status = fail(ctx, "list", err);
			goto out;
		}
		ovl_leases_free(leases, listed);
		ovl_store_close(store);
	}
	/* a node starting up: open, read, parse, choose, write durably */
	for (i = 0; i < iterations; i++) {
		snprintf(node, sizeof(node), "bench-fresh-%d", i);
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i >> 8, i & 255);
		request.node_name = node;
		request.public_ip = ip;
		t = now_ms();
		err = ovl_store_open(ctx, uri, &store);
		if (!err)
			err = ovl_lease(store, config, &request, &lease);
		fresh[i] = now_ms() - t;
		if (err < 0) {
			status = fail(ctx, "acquire", err);
			goto out;
		}
		ovl_lease_free(lease);
		ovl_store_close(store);
	}
	/* an agent's long-lived handle, the only writer: no re-read needed */
	err = ovl_store_open(ctx, uri, &kept);
	for (i = 0; !err && i < iterations; i++) {
		snprintf(node, sizeof(node), "bench-warm-%d", i);
		snprintf(ip, sizeof(ip), "172.17.%d.%d", i >> 8, i & 255);
		t = now_ms();
		err = ovl_lease(kept, config, &request, &lease);
		warm[i] = now_ms() - t;
		ovl_lease_free(lease);
	}
	if (err < 0) {
		status = fail(ctx, "acquire", err);
		goto out;
	}
	stats(parse, iterations, &parse_median, &parse_p99);
	stats(fresh, iterations, &fresh_median, &fresh_p99);
	stats(warm, iterations, &warm_median, &warm_p99);
	printf("%7d  %6.2f %6.2f  %6.2f %6.2f %5.2fx  %6.2f %6.2f %5.2fx\n", count,
	       parse_median, parse_p99, fresh_median, fresh_p99, fresh_median / parse_median,
	       warm_median, warm_p99, warm_median / parse_median);
	*result = fresh_median;
	status = 0;
out:
	ovl_store_close(kept);
	ovl_config_free(config);
	unlink(path);
	free(parse);
	free(fresh);
	free(warm);
	return status;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	int iterations = argc > 1 ? atoi(argv[1]) : 50;
	char dir[512], lock[600];
	struct ovl_ctx *ctx;
	double small, large;
	int status;

	if (iterations < 1) {
		fprintf(stderr, "usage: bench-lease [ITERATIONS]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/bench-lease.XXXXXX", tmp);
	if (!mkdtemp(dir) || ovl_ctx_new(&ctx) < 0) {
		perror("bench-lease");
		return 1;
	}
	printf("bench-lease: file store in %s, %d acquisitions per size, milliseconds\n", dir,
	       iterations);
	printf("                read+parse   acquire, fresh handle    acquire, same handle\n");
	printf(" leases  median    p99  median    p99  ratio  median    p99  ratio\n");
	status = run(ctx, dir, 1000, iterations, &small) || run(ctx, dir, 10000, iterations, &large);
	if (!status)
		printf("goal: acquire under %.0f ms at 10000 leases: %s (%.2f ms, fresh handle)\n",
		       GOAL_MS, large < GOAL_MS ? "met" : "NOT met", large);
	snprintf(lock, sizeof(lock), "%s/leases-1000.json.lock", dir);
	unlink(lock);
	snprintf(lock, sizeof(lock), "%s/leases-10000.json.lock", dir);
	unlink(lock);
	rmdir(dir);
	ovl_ctx_free(ctx);
	return status;
}
