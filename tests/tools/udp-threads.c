/*
 * udp-threads.c - the threading rule of the UDP backend, for
 * tests/netns/test-udp-threads.sh (inside a namespace of its own, built
 * normally and with ThreadSanitizer): one link, its forwarding loop
 * (ovl_udp_run) on a second thread, a third thread sending packets into
 * the TUN, and the main thread adding, removing and syncing peers, failing
 * on purpose, while packets flow.  Also a loop that fails on its thread
 * while the main thread's peer calls fail: each thread's error must stay
 * its own.  Prints PASS/FAIL lines and `TESTS: passed failed`.
 *
 *   udp-threads LOCAL SECONDS      (each of the two parts runs that long)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ovl.h"

static int passed, failed;

static void check(const char *name, int ok, const char *detail)
{
	if (ok) {
		passed++;
		printf("PASS: %s\n", name);
	} else {
		failed++;
		printf("FAIL: %s%s%s\n", name, detail ? ": " : "", detail ? detail : "");
	}
}

struct loop {
	struct ovl_link *link;
	int stop_fd;
	int result;
	int stop;		/* ends run_failing and traffic (atomic) */
	int runs;		/* run_failing's calls so far (atomic) */
};

static double now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct loop *loop = arg;

	loop->result = ovl_udp_run(loop->link, loop->stop_fd);
	return NULL;
}

/* Runs a failing loop (stop_fd -1 cannot be polled) over and over. */
static void *run_failing(void *arg)
{
	struct loop *loop = arg;

	while (!__atomic_load_n(&loop->stop, __ATOMIC_RELAXED)) {
		loop->result = ovl_udp_run(loop->link, -1);
		__atomic_add_fetch(&loop->runs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Datagrams to pods of the peers' subnets: through the TUN into the loop. */
static void *traffic(void *arg)
{
	struct loop *loop = arg;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char payload[200] = "udp-threads";
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int i;

	if (fd < 0)
		return NULL;
	for (i = 0; !__atomic_load_n(&loop->stop, __ATOMIC_RELAXED); i++) {
		char address[32];

		snprintf(address, sizeof(address), "10.246.%u.2", 2 + i % 40);
		inet_pton(AF_INET, address, &to.sin_addr);
		sendto(fd, payload, sizeof(payload), MSG_DONTWAIT, (struct sockaddr *)&to,
		       sizeof(to));
		if (i % 64 == 0)
			usleep(100);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ovl_udp_options options = OVL_UDP_OPTIONS_INIT;
	struct ovl_link_stats stats = OVL_LINK_STATS_INIT;
	struct ovl_ctx *ctx = NULL;
	struct ovl_link *link = NULL;
	struct loop loop = { 0 };
	pthread_t runner, sender;
	unsigned int round, foreign = 0, wrong_result = 0;
	double seconds, end;
	char subnets[40][32], publics[40][32], detail[256];
	struct ovl_peer set[40];
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: udp-threads LOCAL SECONDS\n");
		return 2;
	}
	seconds = atof(argv[2]);
	if (ovl_ctx_new(&ctx) < 0)
		return 1;
	options.local = argv[1];
	options.subnet = "10.246.1.0/24";
	options.network = "10.246.0.0/16";
	if (ovl_udp_up(ctx, &options, &link) < 0) {
		fprintf(stderr, "udp-threads: ovl_udp_up: %s\n", ovl_ctx_error(ctx));
		return 1;
	}
	loop.link = link;
	for (i = 0; i < 40; i++) {
		snprintf(subnets[i], sizeof(subnets[i]), "10.246.%d.0/24", 2 + i);
		snprintf(publics[i], sizeof(publics[i]), "192.168.89.%d", 20 + i);
		set[i] = (struct ovl_peer){ subnets[i], publics[i], NULL };
	}

	/* A failing loop on its thread, failing peer calls on this one. */
	pthread_create(&runner, NULL, run_failing, &loop);
	end = now_seconds() + seconds;
	for (round = 0; now_seconds() < end || __atomic_load_n(&loop.runs, __ATOMIC_RELAXED) < 100;
	     round++) {
		char subnet[32];
		struct ovl_peer peer = { subnet, "192.168.89.20", NULL };

		snprintf(subnet, sizeof(subnet), "10.%u.0.0/33", 100 + round % 100);
		if (ovl_peer_add(link, &peer) != -EINVAL)
			wrong_result++;
		else if (!strstr(ovl_ctx_error(ctx), subnet))
			foreign++;
	}
	__atomic_store_n(&loop.stop, 1, __ATOMIC_RELAXED);
	pthread_join(runner, NULL);
	snprintf(detail, sizeof(detail), "%u wrong results, %u foreign messages", wrong_result,
		 foreign);
	check("bad peers fail while the loop fails on its thread", !wrong_result, detail);
	check("... and each message is about its own call, not the loop's", !foreign, detail);
	snprintf(detail, sizeof(detail), "%d", loop.result);
	check("the failing loop returned its own error (-EBADF)", loop.result == -EBADF, detail);

	/* Forwarding on its thread, traffic on a third, peers churned here. */
	__atomic_store_n(&loop.stop, 0, __ATOMIC_RELAXED);
	loop.stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&runner, NULL, run, &loop);
	pthread_create(&sender, NULL, traffic, &loop);
	wrong_result = foreign = 0;
	end = now_seconds() + seconds;
	for (round = 0; now_seconds() < end; round++) {
		const struct ovl_peer *peer = &set[round % 40];

		if (ovl_peer_add(link, peer) < 0 || (round % 3 == 0 && ovl_peer_del(link, peer) < 0))
			wrong_result++;
		if (round % 50 == 0 && ovl_peer_sync(link, set, 1 + round % 40) < 0)
			wrong_result++;
		if (round % 7 == 0) {
			char subnet[32];
			struct ovl_peer bad = { subnet, "192.168.89.20", NULL };

			snprintf(subnet, sizeof(subnet), "10.247.%u.0/24", round % 200);
			if (ovl_peer_add(link, &bad) != -EINVAL)
				wrong_result++;
			else if (!strstr(ovl_ctx_error(ctx), subnet))
				foreign++;
		}
		if (round % 100 == 0) {
			ovl_link_stats(link, &stats);
			usleep(1000);	/* time for the packets to find peers */
		}
	}
	eventfd_write(loop.stop_fd, 1);
	pthread_join(runner, NULL);
	__atomic_store_n(&loop.stop, 1, __ATOMIC_RELAXED);
	pthread_join(sender, NULL);
	snprintf(detail, sizeof(detail), "%u failed calls, %u foreign messages", wrong_result,
		 foreign);
	check("peers added, removed and synced while the loop forwards", !wrong_result, detail);
	check("... failures there name their own peer", !foreign, detail);
	check("the loop stopped through stop_fd with 0", loop.result == 0, NULL);
	ovl_link_stats(link, &stats);
	snprintf(detail, sizeof(detail), "%llu packets out, %llu without a peer",
		 (unsigned long long)stats.packets_out, (unsigned long long)stats.drop_no_route);
	check("the loop forwarded packets meanwhile", stats.packets_out > 0, detail);
	close(loop.stop_fd);
	ovl_link_free(link);
	ovl_ctx_free(ctx);
	printf("TESTS: %d %d\n", passed, failed);
	return failed ? 1 : 0;
}
