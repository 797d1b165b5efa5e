/*
 * udp-threads.c - the threading rule of the UDP backend, for
 * tests/netns/test-udp-threads.sh (inside a namespace of its own, built
 * normally and with ThreadSanitizer): one link whose loop runs on a second
 * thread (ovl_udp_run, then ovl_link_dispatch in the caller's poll loop)
 * while a third thread sends packets both ways (into the TUN, and
 * encapsulated from a peer's address to the link's port) and reads the
 * counters, and the main thread adds, removes and syncs peers, failing on
 * purpose.  Also loops that fail on their thread (a stop_fd epoll refuses,
 * a link that is down) while the main thread's peer calls fail: each
 * thread's error must stay its own, and the loop's reasons reach the log
 * callback.  Prints PASS/FAIL lines and `TESTS: passed failed`.
 *
 *   udp-threads LOCAL PEER SECONDS   (PEER: a second address of this host,
 *                                     the first peer's; each part runs
 *                                     SECONDS)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ovl.h"

#define PEERS 40
#define PORT 8285

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

struct test {
	struct ovl_ctx *ctx;
	struct ovl_link *link;
	const char *local, *peer;	/* underlay addresses: ours, set[0]'s */
	char subnets[PEERS][32], publics[PEERS][32];
	struct ovl_peer set[PEERS];
	int stop_fd;
	int result;		/* of the loop thread's last call */
	int stop;		/* ends failing loops and traffic (atomic) */
	int runs;		/* failing loops' calls so far (atomic) */
	int logged_run;		/* log lines of each loop call (atomic) */
	int logged_dispatch;
};

static double now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9;
}

static int stopped(struct test *t)
{
	return __atomic_load_n(&t->stop, __ATOMIC_RELAXED);
}

/* Called from whichever thread fails: counts atomically. */
static void log_line(void *userdata, int level, const char *message)
{
	struct test *t = userdata;

	if (level == OVL_LOG_ERR && !strncmp(message, "ovl_udp_run: ", 13))
		__atomic_add_fetch(&t->logged_run, 1, __ATOMIC_RELAXED);
	if (level == OVL_LOG_ERR && !strncmp(message, "ovl_link_dispatch: ", 19))
		__atomic_add_fetch(&t->logged_dispatch, 1, __ATOMIC_RELAXED);
}

static void *run(void *arg)
{
	struct test *t = arg;

	t->result = ovl_udp_run(t->link, t->stop_fd);
	return NULL;
}

/* The caller's own poll loop around ovl_link_dispatch. */
static void *dispatch(void *arg)
{
	struct test *t = arg;
	struct pollfd p[2] = { { ovl_link_fd(t->link), POLLIN, 0 }, { t->stop_fd, POLLIN, 0 } };
	int n;

	t->result = 0;
	while (poll(p, 2, -1) >= 0 && !(p[1].revents & POLLIN)) {
		n = ovl_link_dispatch(t->link);
		if (n < 0) {
			t->result = n;
			break;
		}
	}
	return NULL;
}

/* A loop call that fails (stop_fd -1 cannot be polled; a link that is
 * down), over and over. */
static void *run_failing(void *arg)
{
	struct test *t = arg;

	while (!stopped(t)) {
		t->result = ovl_udp_run(t->link, -1);
		__atomic_add_fetch(&t->runs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *dispatch_failing(void *arg)
{
	struct test *t = arg;

	while (!stopped(t)) {
		t->result = ovl_link_dispatch(t->link);
		__atomic_add_fetch(&t->runs, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint16_t checksum(const uint8_t *data, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A UDP/IPv4 packet from a pod of the first peer to one of ours, as the
 * peer's loop would send it. */
static size_t inner_packet(uint8_t *pkt, uint8_t ttl)
{
	static const uint8_t src[4] = { 10, 246, 2, 2 }, dst[4] = { 10, 246, 1, 5 };
	size_t len = 20 + 8 + 64;
	uint16_t sum;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = ttl;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	sum = checksum(pkt, 20);
	pkt[10] = (uint8_t)(sum >> 8);
	pkt[11] = (uint8_t)sum;
	pkt[21] = pkt[23] = 9;		/* ports; no UDP checksum */
	pkt[25] = (uint8_t)(len - 20);
	return len;
}

/* Packets both ways while the peers change: datagrams to pods of the
 * peers' subnets and of one nobody owns (net unreachable) through the TUN;
 * encapsulated ones from the first peer's address to the link's port,
 * every fourth expiring (time exceeded back to the peer).  Reads the
 * counters meanwhile, a third thread on the link. */
static void *traffic(void *arg)
{
	struct test *t = arg;
	struct ovl_link_stats stats = OVL_LINK_STATS_INIT;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in port = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	uint8_t payload[200] = "udp-threads", pkt[128];
	int pods = socket(AF_INET, SOCK_DGRAM, 0), peer = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int i;

	inet_pton(AF_INET, t->local, &port.sin_addr);
	inet_pton(AF_INET, t->peer, &from.sin_addr);
	if (pods < 0 || peer < 0 || bind(peer, (struct sockaddr *)&from, sizeof(from)) < 0) {
		perror("udp-threads: traffic sockets");
		goto out;
	}
	for (i = 0; !stopped(t); i++) {
		char address[32];

		snprintf(address, sizeof(address), "10.246.%u.2",
			 i % 8 ? 2 + i % PEERS : 200);
		inet_pton(AF_INET, address, &to.sin_addr);
		sendto(pods, payload, sizeof(payload), MSG_DONTWAIT, (struct sockaddr *)&to,
		       sizeof(to));
		sendto(peer, pkt, inner_packet(pkt, i % 4 ? 64 : 1), MSG_DONTWAIT,
		       (struct sockaddr *)&port, sizeof(port));
		if (i % 64 == 0) {
			ovl_link_stats(t->link, &stats);
			usleep(100);
		}
	}
out:
	if (pods >= 0)
		close(pods);
	if (peer >= 0)
		close(peer);
	return NULL;
}

/* Bad peers, each failing with -EINVAL and a message naming it, for
 * SECONDS and at least until the loop thread failed 100 times. */
static void fail_peers(struct test *t, double seconds, const char *what)
{
	unsigned int round, foreign = 0, wrong_result = 0;
	char detail[256];
	double end = now_seconds() + seconds;

	__atomic_store_n(&t->runs, 0, __ATOMIC_RELAXED);
	for (round = 0; now_seconds() < end || __atomic_load_n(&t->runs, __ATOMIC_RELAXED) < 100;
	     round++) {
		char subnet[32];
		struct ovl_peer peer = { subnet, t->peer, NULL };

		snprintf(subnet, sizeof(subnet), "10.%u.0.0/33", 100 + round % 100);
		if (ovl_peer_add(t->link, &peer) != -EINVAL)
			wrong_result++;
		else if (!strstr(ovl_ctx_error(t->ctx), subnet))
			foreign++;
	}
	snprintf(detail, sizeof(detail), "%u wrong results, %u foreign messages", wrong_result,
		 foreign);
	printf("# %s\n", what);
	check("bad peers fail while the loop fails on its thread", !wrong_result, detail);
	check("... and each message is about its own call, not the loop's", !foreign, detail);
}

/* Peers added, removed and synced (some bad) for SECONDS while the loop
 * forwards. */
static void churn_peers(struct test *t, double seconds)
{
	unsigned int round, foreign = 0, wrong_result = 0;
	char detail[256];
	double end = now_seconds() + seconds;

	for (round = 0; now_seconds() < end; round++) {
		const struct ovl_peer *peer = &t->set[round % PEERS];

		if (ovl_peer_add(t->link, peer) < 0 ||
		    (round % 3 == 0 && ovl_peer_del(t->link, peer) < 0))
			wrong_result++;
		if (round % 50 == 0 && ovl_peer_sync(t->link, t->set, 1 + round % PEERS) < 0)
			wrong_result++;
		if (round % 7 == 0) {
			char subnet[32];
			struct ovl_peer bad = { subnet, t->peer, NULL };

			snprintf(subnet, sizeof(subnet), "10.247.%u.0/24", round % 200);
			if (ovl_peer_add(t->link, &bad) != -EINVAL)
				wrong_result++;
			else if (!strstr(ovl_ctx_error(t->ctx), subnet))
				foreign++;
		}
		if (round % 100 == 0)
			usleep(1000);	/* time for the packets to find peers */
	}
	snprintf(detail, sizeof(detail), "%u failed calls, %u foreign messages", wrong_result,
		 foreign);
	check("peers added, removed and synced while the loop forwards", !wrong_result, detail);
	check("... failures there name their own peer", !foreign, detail);
}

/* The loop (run or dispatch) and traffic on threads of their own while
 * this one churns the peers; stopped through stop_fd. */
static void forward(struct test *t, void *(*loop)(void *), double seconds)
{
	pthread_t runner, sender;

	__atomic_store_n(&t->stop, 0, __ATOMIC_RELAXED);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	t->result = 1;
	pthread_create(&runner, NULL, loop, t);
	pthread_create(&sender, NULL, traffic, t);
	churn_peers(t, seconds);
	eventfd_write(t->stop_fd, 1);
	pthread_join(runner, NULL);
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	pthread_join(sender, NULL);
	close(t->stop_fd);
	check("the loop stopped through stop_fd with 0", t->result == 0, NULL);
}

/* A failing loop call on its thread against failing peer calls here. */
static void fail_both(struct test *t, void *(*loop)(void *), double seconds, const char *what)
{
	pthread_t runner;

	__atomic_store_n(&t->stop, 0, __ATOMIC_RELAXED);
	pthread_create(&runner, NULL, loop, t);
	fail_peers(t, seconds, what);
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	pthread_join(runner, NULL);
}

int main(int argc, char **argv)
{
	struct ovl_udp_options options = OVL_UDP_OPTIONS_INIT;
	struct ovl_link_stats stats = OVL_LINK_STATS_INIT, before;
	struct test t = { .ctx = NULL };
	char detail[256];
	double seconds;
	int i;

	if (argc != 4) {
		fprintf(stderr, "usage: udp-threads LOCAL PEER SECONDS\n");
		return 2;
	}
	t.local = argv[1];
	t.peer = argv[2];
	seconds = atof(argv[3]);
	if (ovl_ctx_new(&t.ctx) < 0)
		return 1;
	/* Set before any thread starts and never changed while one runs. */
	ovl_ctx_set_log(t.ctx, OVL_LOG_ERR, log_line, &t);
	options.local = t.local;
	options.subnet = "10.246.1.0/24";
	options.network = "10.246.0.0/16";
	if (ovl_udp_up(t.ctx, &options, &t.link) < 0) {
		fprintf(stderr, "udp-threads: ovl_udp_up: %s\n", ovl_ctx_error(t.ctx));
		return 1;
	}
	for (i = 0; i < PEERS; i++) {
		snprintf(t.subnets[i], sizeof(t.subnets[i]), "10.246.%d.0/24", 2 + i);
		if (i)
			snprintf(t.publics[i], sizeof(t.publics[i]), "192.168.89.%d", 100 + i);
		else
			snprintf(t.publics[i], sizeof(t.publics[i]), "%s", t.peer);
		t.set[i] = (struct ovl_peer){ t.subnets[i], t.publics[i], NULL };
	}

	fail_both(&t, run_failing, seconds, "ovl_udp_run failing on its thread");
	snprintf(detail, sizeof(detail), "%d", t.result);
	check("the failing loop returned its own error (-EBADF)", t.result == -EBADF, detail);
	snprintf(detail, sizeof(detail), "%d lines", t.logged_run);
	check("... and logged its reasons", t.logged_run >= 100, detail);

	printf("# ovl_udp_run forwarding on its thread\n");
	forward(&t, run, seconds);
	ovl_link_stats(t.link, &stats);
	snprintf(detail, sizeof(detail),
		 "%llu out, %llu in, %llu without a peer, %llu expired, %llu from no peer",
		 (unsigned long long)stats.packets_out, (unsigned long long)stats.packets_in,
		 (unsigned long long)stats.drop_no_route, (unsigned long long)stats.drop_ttl,
		 (unsigned long long)stats.drop_unknown_source);
	printf("# %s\n", detail);
	check("the loop forwarded packets both ways meanwhile",
	      stats.packets_out > 0 && stats.packets_in > 0, detail);
	check("... and answered packets no peer owns and expiring ones",
	      stats.drop_no_route > 0 && stats.drop_ttl > 0, detail);

	printf("# ovl_link_dispatch in a poll loop on its thread\n");
	before = stats;
	forward(&t, dispatch, seconds);
	ovl_link_stats(t.link, &stats);
	snprintf(detail, sizeof(detail), "%llu more out, %llu more in",
		 (unsigned long long)(stats.packets_out - before.packets_out),
		 (unsigned long long)(stats.packets_in - before.packets_in));
	check("the dispatch loop forwarded packets both ways meanwhile",
	      stats.packets_out > before.packets_out && stats.packets_in > before.packets_in,
	      detail);

	/* Down with no loop running, as the rule says; then a loop that
	 * fails because of it. */
	check("ovl_link_down", ovl_link_down(t.link) == 0, ovl_ctx_error(t.ctx));
	fail_both(&t, dispatch_failing, seconds / 4, "ovl_link_dispatch failing on its thread");
	snprintf(detail, sizeof(detail), "%d", t.result);
	check("the failing dispatch returned its own error (-EBADF)", t.result == -EBADF,
	      detail);
	snprintf(detail, sizeof(detail), "%d lines", t.logged_dispatch);
	check("... and logged its reasons", t.logged_dispatch >= 100, detail);

	ovl_link_free(t.link);
	ovl_ctx_free(t.ctx);
	printf("TESTS: %d %d\n", passed, failed);
	return failed ? 1 : 0;
}
