/*
 * bench-peers.c - times ovl_peer_sync installing N peers on a fresh
 * flannel.1 and removing them again, inside the current network namespace
 * (bench/peers.sh makes one).  Prints one line:
 *   libovl N=<n> add_ms=<ms> del_ms=<ms> add_cpu_ms=<ms> del_cpu_ms=<ms>
 *          resync_cpu_ms=<ms> installed=<peers listed> rss_kb=<peak>
 * resync_cpu_ms is the mean of RESYNCS (argument 3, default 20) syncs of the
 * unchanged set: the kernel half of every periodic resync of an agent.
 * Wall clock and CPU time (user + system: the kernel's work is done in the
 * calling process) of each step; the CPU time is what a busy machine does
 * not distort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "ovl.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
	       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

static int fail(struct ovl_ctx *ctx, const char *what, int err)
{
	fprintf(stderr, "bench-peers: %s: %s\n", what,
		*ovl_ctx_error(ctx) ? ovl_ctx_error(ctx) : ovl_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct ovl_vxlan_options options = OVL_VXLAN_OPTIONS_INIT;
	struct ovl_peer *peers, *listed;
	struct ovl_link *link;
	struct ovl_ctx *ctx;
	struct rusage usage;
	char (*text)[3][48];
	double t0, c0, add_ms, del_ms, add_cpu, del_cpu, resync_cpu;
	size_t i, n, count, resyncs;
	int err;

	if (argc != 3 && argc != 4) {
		fprintf(stderr,
			"usage: bench-peers N LOCAL_IP [RESYNCS]   (run inside a scratch namespace)\n");
		return 2;
	}
	resyncs = argc == 4 ? strtoul(argv[3], NULL, 10) : 20;
	n = strtoul(argv[1], NULL, 10);
	if (!n || n > 60000) {
		fprintf(stderr, "bench-peers: N must be from 1 to 60000\n");
		return 2;
	}
	peers = calloc(n, sizeof(*peers));
	text = calloc(n, sizeof(*text));
	if (!peers || !text || ovl_ctx_new(&ctx) < 0)
		return 1;
	/* Peer i: 10.<hi>.<lo>.0/24 at 172.16.<hi>.<lo> with MAC 0e:..:<hi>:<lo>;
	 * our own lease is 10.0.0.0/24 (i starts at 1). */
	for (i = 0; i < n; i++) {
		unsigned int k = (unsigned int)i + 1;

		snprintf(text[i][0], sizeof(text[i][0]), "10.%u.%u.0/24", k >> 8, k & 255);
		snprintf(text[i][1], sizeof(text[i][1]), "172.16.%u.%u", k >> 8, k & 255);
		snprintf(text[i][2], sizeof(text[i][2]), "0e:00:00:00:%02x:%02x", k >> 8, k & 255);
		peers[i].subnet = text[i][0];
		peers[i].public_ip = text[i][1];
		peers[i].mac = text[i][2];
	}
	options.local = argv[2];
	options.subnet = "10.0.0.0/24";
	options.network = "10.0.0.0/8";
	err = ovl_vxlan_up(ctx, &options, &link);
	if (err < 0)
		return fail(ctx, "vxlan up", err);
	t0 = now_ms();
	c0 = cpu_ms();
	err = ovl_peer_sync(link, peers, n);
	add_ms = now_ms() - t0;
	add_cpu = cpu_ms() - c0;
	if (err < 0)
		return fail(ctx, "sync", err);
	c0 = cpu_ms();
	for (i = 0; i < resyncs && err >= 0; i++)
		err = ovl_peer_sync(link, peers, n);
	resync_cpu = resyncs ? (cpu_ms() - c0) / (double)resyncs : 0;
	if (err < 0)
		return fail(ctx, "resync", err);
	err = ovl_peer_list(link, &listed, &count);
	if (err < 0)
		return fail(ctx, "list", err);
	ovl_peers_free(listed, count);
	t0 = now_ms();
	c0 = cpu_ms();
	err = ovl_peer_sync(link, NULL, 0);
	del_ms = now_ms() - t0;
	del_cpu = cpu_ms() - c0;
	if (err < 0)
		return fail(ctx, "sync to none", err);
	getrusage(RUSAGE_SELF, &usage);
	printf("libovl N=%zu add_ms=%.1f del_ms=%.1f add_cpu_ms=%.1f del_cpu_ms=%.1f resync_cpu_ms=%.2f installed=%zu rss_kb=%ld\n",
	       n, add_ms, del_ms, add_cpu, del_cpu, resync_cpu, count, usage.ru_maxrss);
	err = ovl_link_down(link);
	ovl_link_free(link);
	ovl_ctx_free(ctx);
	free(peers);
	free(text);
	return err < 0;
}
