/*
 * test-wireguard-queue.c - the queue that speaks to a userspace WireGuard
 * implementation without waiting for it (link/wireguard-queue.c), against
 * a fake UAPI socket this process listens on and answers by hand, which
 * is what a stopped program looks like until it answers: one exchange
 * read in pieces; a request never answered costs its caller no time and is
 * reported overdue after 2 s, then completes when the answer comes; sets
 * queued behind one in flight go out as one request; a sync reads the
 * device, removes the peers of other keys and keeps the handshakes the
 * sets it drops asked for; a socket nobody listens on; and the keepalive
 * that starts a handshake, as it goes on the wire.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ovl.h"
#include "link/wireguard.h"

#define HEX(b) b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b

static struct ovl_ctx *ctx;
static char dir[] = "/tmp/ovl-wg-queue.XXXXXX";
static char path[108];
static int server = -1;

static int64_t now_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* Reads one request (up to its empty line) from a connection. */
static void read_request(int fd, char *request, size_t size)
{
	size_t used = 0;
	ssize_t got;

	request[0] = '\0';
	while (used + 1 < size && !strstr(request, "\n\n") &&
	       (got = read(fd, request + used, size - used - 1)) > 0) {
		used += (size_t)got;
		request[used] = '\0';
	}
}

/* The fake implementation takes the next connection, reads its request
 * into request and answers with answer. */
static void serve(char *request, size_t size, const char *answer)
{
	int fd = accept(server, NULL, NULL);

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	read_request(fd, request, size);
	CU_ASSERT_EQUAL(write(fd, answer, strlen(answer)), (ssize_t)strlen(answer));
	close(fd);
}

/* Dispatches until the queue's fd has nothing more for timeout_ms. */
static int settle(struct wg_queue *q, int timeout_ms)
{
	struct pollfd p = { .fd = wg_queue_fd(q), .events = POLLIN };
	int result = wg_queue_dispatch(q);

	while (poll(&p, 1, timeout_ms) > 0)
		result = wg_queue_dispatch(q);
	return result;
}

static void one_peer(struct wg_device *d, unsigned char key, const char *subnet)
{
	struct ovl_prefix allowed;
	struct wg_peer *p = wg_device_add_peer(d);

	memset(p->public_key, key, WG_KEY_LEN);
	p->keepalive = 0;
	p->replace_allowed_ips = 1;
	ovl_prefix_parse(subnet, &allowed);
	wg_peer_allow(p, &allowed);
}

static void test_exchange(void)
{
	struct wg_queue *q;
	char request[256];
	int fd;

	CU_ASSERT_EQUAL_FATAL(wg_queue_open(ctx, path, &q), 0);
	CU_ASSERT_EQUAL(wg_queue_refresh(q), 0);
	/* Queued, not sent: the fd wakes the caller to dispatch it. */
	CU_ASSERT_EQUAL(settle(q, 20), 1);
	fd = accept(server, NULL, NULL);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	read_request(fd, request, sizeof(request));
	CU_ASSERT_STRING_EQUAL(request, "get=1\n\n");
	/* The answer in two writes: the reader joins them. */
	CU_ASSERT_EQUAL(write(fd, "listen_port=7\n", 14), 14);
	CU_ASSERT_EQUAL(settle(q, 20), 1);
	CU_ASSERT_EQUAL(write(fd, "errno=0\n\n", 9), 9);
	CU_ASSERT_EQUAL(settle(q, 20), 0);
	CU_ASSERT_EQUAL(wg_queue_view(q, NULL)->listen_port, 7);
	close(fd);
	wg_queue_close(q);
}

/* A program that takes the connection and never answers (stopped): no
 * dispatch waits; after 2 s it is overdue; the late answer completes it. */
static void test_frozen(void)
{
	struct wg_device change = { 0 };
	struct wg_queue *q;
	int64_t start, worst = 0, took;
	int result = 1;
	char request[512];

	CU_ASSERT_EQUAL_FATAL(wg_queue_open(ctx, path, &q), 0);
	one_peer(&change, 0x22, "10.244.2.0/24");
	CU_ASSERT_EQUAL(wg_queue_set(q, &change), 0);
	start = now_us();
	while (result != -ETIMEDOUT && now_us() - start < 3000000) {
		struct pollfd p = { .fd = wg_queue_fd(q), .events = POLLIN };

		poll(&p, 1, 100);
		took = now_us();
		result = wg_queue_dispatch(q);
		took = now_us() - took;
		worst = took > worst ? took : worst;
	}
	CU_ASSERT_EQUAL(result, -ETIMEDOUT);
	CU_ASSERT_TRUE(now_us() - start >= 1900000);
	CU_ASSERT_TRUE(worst < 5000);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "no answer for"));
	/* The program runs again. */
	serve(request, sizeof(request), "errno=0\n\n");
	CU_ASSERT_EQUAL(settle(q, 50), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(request, "public_key=" HEX("22") "\n"));
	wg_queue_close(q);
}

/* Sets behind one in flight merge; a refused one is dropped with its
 * errno. */
static void test_merge(void)
{
	struct wg_device change = { 0 };
	struct wg_queue *q;
	char request[1024];

	CU_ASSERT_EQUAL_FATAL(wg_queue_open(ctx, path, &q), 0);
	one_peer(&change, 0x22, "10.244.2.0/24");
	CU_ASSERT_EQUAL(wg_queue_set(q, &change), 0);
	CU_ASSERT_EQUAL(settle(q, 20), 1);		/* in flight */
	one_peer(&change, 0x33, "10.244.3.0/24");
	CU_ASSERT_EQUAL(wg_queue_set(q, &change), 0);
	one_peer(&change, 0x44, "10.244.4.0/24");
	CU_ASSERT_EQUAL(wg_queue_set(q, &change), 0);
	CU_ASSERT_EQUAL(settle(q, 20), 2);		/* one in flight, one merged */
	serve(request, sizeof(request), "errno=0\n\n");
	CU_ASSERT_EQUAL(settle(q, 20), 1);
	serve(request, sizeof(request), "errno=22\n\n");
	CU_ASSERT_EQUAL(settle(q, 20), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(request, "public_key=" HEX("33") "\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(request, "public_key=" HEX("44") "\n"));
	CU_ASSERT_EQUAL(settle(q, 20), 0);
	wg_queue_close(q);
}

/* A sync drops the peers queued before it, reads the device, sets the
 * wanted peers (new ones kicked) and removes the others. */
static void test_sync(void)
{
	struct wg_device change = { 0 }, desired = { 0 };
	struct wg_queue *q;
	char request[2048];

	CU_ASSERT_EQUAL_FATAL(wg_queue_open(ctx, path, &q), 0);
	CU_ASSERT_EQUAL(wg_queue_refresh(q), 0);
	CU_ASSERT_EQUAL(settle(q, 20), 1);		/* the get in flight */
	one_peer(&change, 0x55, "10.244.5.0/24");
	one_peer(&change, 0x22, "10.244.2.0/24");
	change.peers[1].handshake = 1;
	change.has_private_key = 1;
	memset(change.private_key, 0x11, WG_KEY_LEN);
	CU_ASSERT_EQUAL(wg_queue_set(q, &change), 0);
	one_peer(&desired, 0x22, "10.244.2.0/24");
	one_peer(&desired, 0x33, "10.244.3.0/24");
	CU_ASSERT_EQUAL(wg_queue_sync(q, &desired), 0);
	CU_ASSERT_EQUAL(settle(q, 20), 3);		/* get, the key alone, sync */
	serve(request, sizeof(request), "errno=0\n\n");
	CU_ASSERT_EQUAL(settle(q, 20), 2);
	serve(request, sizeof(request), "errno=0\n\n");
	CU_ASSERT_STRING_EQUAL(request, "set=1\nprivate_key=" HEX("11") "\n\n");
	CU_ASSERT_EQUAL(settle(q, 20), 1);
	serve(request, sizeof(request), "public_key=" HEX("33") "\nallowed_ip=10.244.3.0/24\n"
	      "public_key=" HEX("99") "\nallowed_ip=10.244.9.0/24\nerrno=0\n\n");
	CU_ASSERT_STRING_EQUAL(request, "get=1\n\n");
	CU_ASSERT_EQUAL(settle(q, 20), 1);
	serve(request, sizeof(request), "errno=0\n\n");
	CU_ASSERT_STRING_EQUAL(request,
			       "set=1\n"
			       "public_key=" HEX("22") "\n"
			       "persistent_keepalive_interval=1\n"
			       "replace_allowed_ips=true\nallowed_ip=10.244.2.0/24\n"
			       "public_key=" HEX("33") "\n"
			       "persistent_keepalive_interval=0\n"
			       "replace_allowed_ips=true\nallowed_ip=10.244.3.0/24\n"
			       "public_key=" HEX("99") "\nremove=true\n"
			       "public_key=" HEX("22") "\n"
			       "persistent_keepalive_interval=0\n"
			       "\n");
	CU_ASSERT_EQUAL(settle(q, 20), 0);
	CU_ASSERT_EQUAL(wg_queue_view(q, NULL)->peer_count, 2);
	wg_queue_close(q);
}

static void test_refused(void)
{
	struct wg_queue *q;
	char other[128];

	snprintf(other, sizeof(other), "%s/nobody.sock", dir);
	CU_ASSERT_EQUAL_FATAL(wg_queue_open(ctx, other, &q), 0);
	CU_ASSERT_EQUAL(wg_queue_refresh(q), 0);
	/* Kept and tried again later; the blocking wait gives up. */
	CU_ASSERT_EQUAL(wg_queue_dispatch(q), -ENOENT);
	CU_ASSERT_EQUAL(wg_queue_wait(q, 500), -ENOENT);
	CU_ASSERT_EQUAL(wg_queue_dispatch(q), 0);
	wg_queue_close(q);
}

/* A handshake at once with keepalive 25: turned off, then on; a removal
 * asks for none. */
static void test_kick(void)
{
	struct wg_device change = { 0 }, wire;

	one_peer(&change, 0x22, "10.244.2.0/24");
	change.peers[0].keepalive = 25;
	change.peers[0].handshake = 1;
	one_peer(&change, 0x33, "10.244.3.0/24");
	change.peers[1].remove = 1;
	change.peers[1].handshake = 1;
	CU_ASSERT_EQUAL_FATAL(wg_device_for_wire(&change, &wire), 0);
	CU_ASSERT_EQUAL_FATAL(wire.peer_count, 3);
	CU_ASSERT_EQUAL(wire.peers[0].keepalive, 0);
	CU_ASSERT_EQUAL(wire.peers[2].public_key[0], 0x22);
	CU_ASSERT_EQUAL(wire.peers[2].keepalive, 25);
	CU_ASSERT_EQUAL(wire.peers[2].allowed_count, 0);
	CU_ASSERT_FALSE(wire.peers[2].replace_allowed_ips);
	CU_ASSERT_EQUAL(change.peers[0].keepalive, 25);
	wg_device_clear(&wire);
	wg_device_clear(&change);
}

static void setup(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wg0.sock", dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_EQUAL_FATAL(bind(server, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(server, 8), 0);
}

static void teardown(void)
{
	close(server);
	unlink(path);
	rmdir(dir);
	ovl_ctx_free(ctx);
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "setup", setup },
		{ "one exchange, its answer in pieces", test_exchange },
		{ "a stopped program: no wait, overdue, then answered", test_frozen },
		{ "sets behind one in flight merge; a refused one", test_merge },
		{ "sync: queued peers dropped (their handshakes kept), key kept, others removed", test_sync },
		{ "a socket nobody listens on", test_refused },
		{ "a handshake at once: keepalive off then on", test_kick },
		{ "teardown", teardown },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("wireguard-queue", tests);
}
