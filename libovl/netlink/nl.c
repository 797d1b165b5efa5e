/*
 * nl.c - the context's netlink socket (libnl-3): opened lazily in the
 * context's network namespace, kernel errno and extended-ack message kept,
 * interrupted dumps retried, requests batched.
 *
 * Replies are read with recvmsg() into one buffer per exchange and walked
 * here rather than through libnl's nl_recv() (a buffer per datagram) and
 * callback chain: libnl folds the kernel's errno into NLE_* codes
 * (ENOBUFS and ENOMEM both become NLE_NOMEM), does not parse extended acks,
 * and its sequence check allows one request in flight.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "core/internal.h"
#include "netlink/nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A stuck kernel reply must not hang the caller forever. */
#define RECEIVE_TIMEOUT_SECONDS 10
/* Room for a whole window of error answers with their extended acks. */
#define RECEIVE_BUFFER (4 << 20)
/* One datagram; the kernel keeps dump datagrams under 32 KiB. */
#define DATAGRAM_BUFFER 65536
/* Requests per sendmsg(): only the last asks for an ack, so a window costs
 * one send and (without failures) one receive. */
#define BATCH_WINDOW 512
#define BATCH_BYTES 65536
/* Room kept free in a batch buffer for the next request. */
#define REQUEST_MAX 2048
#define DUMP_ATTEMPTS 10
#define MESSAGE_ROOM 1024

/* The answers to one send: requests with sequence numbers first ..
 * first + count - 1; the one numbered last ends the exchange. */
struct exchange {
	struct ovl_ctx *ctx;
	uint32_t first;
	uint32_t count;
	uint32_t last;
	int done;
	int interrupted;
	int first_error;
	int *errors;		/* indexed by base + seq - first; may be NULL */
	size_t base;
	netlink_reply_fn fn;
	void *arg;
	int fn_error;
};

struct nl_msg *netlink_msg(int type, int flags, const void *hdr, size_t len)
{
	struct nl_msg *msg = nlmsg_alloc_size(MESSAGE_ROOM + NLMSG_ALIGN(len));
	struct nlmsghdr *nlh;

	if (!msg)
		return NULL;
	nlh = nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, (int)len,
			flags | NLM_F_REQUEST);
	if (!nlh) {
		nlmsg_free(msg);
		return NULL;
	}
	memcpy(nlmsg_data(nlh), hdr, len);
	return msg;
}

int netlink_in_netns(struct ovl_ctx *ctx, int (*fn)(void *arg), void *arg)
{
	int self, err, saved;

	if (ctx->netns_fd < 0)
		return fn(arg);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return ctx_fail(ctx, -errno, "cannot open this thread's network namespace: %s",
				ovl_strerror(errno));
	if (setns(ctx->netns_fd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(self);
		return ctx_fail(ctx, err, "cannot enter the target network namespace: %s%s",
				ovl_strerror(err),
				err == -EPERM ? " (CAP_SYS_ADMIN is required)" : "");
	}
	err = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0) {
		saved = -errno;
		ctx_log(ctx, OVL_LOG_ERR, "cannot return to the thread's network namespace: %s",
			ovl_strerror(saved));
		if (!err)
			err = ctx_fail(ctx, saved, "cannot return to the thread's network namespace: %s",
				       ovl_strerror(saved));
	}
	close(self);
	return err;
}

struct opening {
	struct ovl_ctx *ctx;
	struct nl_sock *sock;
};

static int connect_route(void *arg)
{
	struct opening *o = arg;
	int err;

	errno = 0;
	if (nl_connect(o->sock, NETLINK_ROUTE) >= 0)
		return 0;
	err = errno ? -errno : -EIO;
	return ctx_fail(o->ctx, err, "cannot open a netlink socket: %s", ovl_strerror(err));
}

int netlink_connect(struct ovl_ctx *ctx, struct nl_sock *sock)
{
	struct opening o = { .ctx = ctx, .sock = sock };

	/* Only the socket() call needs the namespace: the socket stays bound
	 * to it after the thread returns. */
	return netlink_in_netns(ctx, connect_route, &o);
}

static void set_int_option(int fd, int level, int name, int value)
{
	/* Each option is an improvement an older kernel may lack. */
	(void)setsockopt(fd, level, name, &value, sizeof(value));
}

static int sock_open(struct ovl_ctx *ctx)
{
	struct timeval timeout = { .tv_sec = RECEIVE_TIMEOUT_SECONDS };
	struct nl_sock *sock;
	int err, fd;

	if (ctx->sock)
		return 0;
	sock = nl_socket_alloc();
	if (!sock)
		return ctx_fail(ctx, -ENOMEM, "cannot allocate a netlink socket");
	err = netlink_connect(ctx, sock);
	if (err < 0) {
		nl_socket_free(sock);
		return err;
	}
	fd = nl_socket_get_fd(sock);
	/* libnl opens it with SOCK_CLOEXEC; make sure of it either way. */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	set_int_option(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	set_int_option(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	/* Dump filters (route protocol, neighbour device) applied by the kernel. */
	set_int_option(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ RECEIVE_BUFFER }, sizeof(int)) < 0)
		set_int_option(fd, SOL_SOCKET, SO_RCVBUF, RECEIVE_BUFFER);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	nl_socket_disable_seq_check(sock);
	nl_socket_disable_auto_ack(sock);
	nl_socket_disable_msg_peek(sock);
	ctx->sock = sock;
	return 0;
}

/* After a failed send or receive the socket may hold half an exchange:
 * drop it, the next call opens a fresh one. */
static void netlink_close(struct ovl_ctx *ctx)
{
	nl_socket_free(ctx->sock);
	ctx->sock = NULL;
}

int netlink_fd(struct ovl_ctx *ctx)
{
	int err = sock_open(ctx);

	return err < 0 ? err : nl_socket_get_fd(ctx->sock);
}

/* The kernel's own words for a failure (NETLINK_EXT_ACK), or NULL. */
static const char *ext_ack_text(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t offset = sizeof(*e), total = nlh->nlmsg_len - NLMSG_HDRLEN;
	const char *text;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
	offset = NLMSG_ALIGN(offset);
	if (offset >= total)
		return NULL;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + offset),
		      (int)(total - offset), NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return NULL;
	text = nla_data(tb[NLMSGERR_ATTR_MSG]);
	return memchr(text, '\0', (size_t)nla_len(tb[NLMSGERR_ATTR_MSG])) ? text : NULL;
}

static void record_error(struct exchange *x, uint32_t seq, int err, const char *text)
{
	if (x->errors)
		x->errors[x->base + (seq - x->first)] = err;
	if (x->first_error)
		return;
	x->first_error = err;
	if (err == -EPERM)
		ctx_fail(x->ctx, err, "%s%s%s (CAP_NET_ADMIN is required in the network namespace)",
			 text ? text : "", text ? ": " : "", ovl_strerror(err));
	else if (text && *text)
		ctx_fail(x->ctx, err, "%s (%s)", text, ovl_strerror(err));
	else
		ctx_fail(x->ctx, err, "%s", ovl_strerror(err));
}

/* Deleting what is not there is success: every call is idempotent. */
static int already_gone(const struct nlmsgerr *e)
{
	int err = e->error > 0 ? e->error : -e->error;

	switch (e->msg.nlmsg_type) {
	case RTM_DELNEIGH:
	case RTM_DELROUTE:
	case RTM_DELNEXTHOP:
		return err == ENOENT || err == ESRCH;
	case RTM_DELADDR:
		return err == EADDRNOTAVAIL;
	default:
		return 0;
	}
}

static void handle_message(struct exchange *x, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e;
	uint32_t seq = nlh->nlmsg_seq;

	/* A late answer to an abandoned exchange is not ours. */
	if (seq - x->first >= x->count)
		return;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		x->interrupted = 1;
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return;
	case NLMSG_DONE:
		/* A dump that failed half-way says so in NLMSG_DONE. */
		if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
		    *(const int *)NLMSG_DATA(nlh) < 0)
			record_error(x, seq, *(const int *)NLMSG_DATA(nlh), NULL);
		if (seq == x->last)
			x->done = 1;
		return;
	case NLMSG_ERROR:
		e = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			record_error(x, seq, -EBADMSG, "truncated netlink error message");
		else if (e->error && !already_gone(e))
			record_error(x, seq, e->error > 0 ? -e->error : e->error,
				     ext_ack_text(nlh));
		if (seq == x->last)
			x->done = 1;
		return;
	default:
		if (x->fn && !x->fn_error)
			x->fn_error = x->fn(nlh, x->arg);
	}
}

/* One datagram into buf (DATAGRAM_BUFFER bytes): its length, or -errno. */
static int receive(struct ovl_ctx *ctx, void *buf)
{
	struct iovec iov = { .iov_base = buf, .iov_len = DATAGRAM_BUFFER };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(nl_socket_get_fd(ctx->sock), &msg, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -EAGAIN;
	return msg.msg_flags & MSG_TRUNC ? -EMSGSIZE : (int)n;
}

/* Sends len bytes of requests and reads until the last one is answered,
 * every datagram into one buffer (a dump of 10,000 entries is a hundred of
 * them). */
static int transact(struct exchange *x, void *buf, size_t len)
{
	struct ovl_ctx *ctx = x->ctx;
	struct nlmsghdr *nlh;
	void *data = malloc(DATAGRAM_BUFFER);
	int n, err;

	if (!data)
		return ctx_fail(ctx, -ENOMEM, "out of memory for netlink answers");
	if (nl_sendto(ctx->sock, buf, len) < 0) {
		err = errno ? -errno : -EIO;
		netlink_close(ctx);
		free(data);
		return ctx_fail(ctx, err, "netlink send: %s", ovl_strerror(err));
	}
	while (!x->done) {
		n = receive(ctx, data);
		if (n < 0) {
			/* The socket may still get the rest; never reuse it. */
			netlink_close(ctx);
			free(data);
			if (n == -EAGAIN)
				return ctx_fail(ctx, -ETIMEDOUT, "no answer from the kernel within %d s",
						RECEIVE_TIMEOUT_SECONDS);
			/* Answers overflowed the receive buffer: when failures
			 * came first, they are the news. */
			if (n == -ENOBUFS && x->first_error)
				return x->first_error;
			return ctx_fail(ctx, n, "netlink receive: %s", ovl_strerror(n));
		}
		for (nlh = data; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n))
			handle_message(x, nlh);
	}
	free(data);
	return 0;
}

static void stamp(struct ovl_ctx *ctx, struct nlmsghdr *nlh, uint32_t seq, int ack)
{
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = nl_socket_get_local_port(ctx->sock);
	/* libnl-route's builders leave it to nl_send_auto(); without it the
	 * kernel acks and ignores the message. */
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	if (ack)
		nlh->nlmsg_flags |= NLM_F_ACK;
	else
		nlh->nlmsg_flags &= ~NLM_F_ACK;
}

static uint32_t next_seq(struct ovl_ctx *ctx, uint32_t count)
{
	uint32_t seq = ++ctx->nl_seq;

	ctx->nl_seq += count - 1;
	return seq;
}

int netlink_call(struct ovl_ctx *ctx, struct nl_msg *msg)
{
	struct exchange x = { .ctx = ctx, .count = 1 };
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	err = sock_open(ctx);
	if (err < 0) {
		nlmsg_free(msg);
		return err;
	}
	x.first = x.last = next_seq(ctx, 1);
	stamp(ctx, nlh, x.first, 1);
	err = transact(&x, nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
	return err < 0 ? err : x.first_error;
}

int netlink_query(struct ovl_ctx *ctx, struct nl_msg *msg, netlink_reply_fn fn,
		  netlink_restart_fn restart, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct exchange x;
	int attempt, err;

	err = sock_open(ctx);
	for (attempt = 0; !err && attempt < DUMP_ATTEMPTS; attempt++) {
		if (attempt && restart)
			restart(arg);
		x = (struct exchange){ .ctx = ctx, .count = 1, .fn = fn, .arg = arg };
		x.first = x.last = next_seq(ctx, 1);
		stamp(ctx, nlh, x.first, 1);
		err = transact(&x, nlh, nlh->nlmsg_len);
		if (err < 0)
			break;
		err = x.first_error ? x.first_error : x.fn_error;
		if (!x.interrupted || err)
			break;
		ctx_log(ctx, OVL_LOG_DEBUG, "netlink dump interrupted by a change, restarting");
	}
	if (!err && attempt == DUMP_ATTEMPTS)
		err = ctx_fail(ctx, -EAGAIN, "netlink dump interrupted %d times in a row",
			       DUMP_ATTEMPTS);
	nlmsg_free(msg);
	return err;
}

int netlink_batch(struct ovl_ctx *ctx, size_t count, netlink_build_fn build,
		  void *arg, int *errors)
{
	struct exchange x = { .ctx = ctx, .errors = errors };
	struct nlmsghdr *nlh, *last;
	unsigned char *buf;
	size_t i = 0, start, used;
	struct nl_msg *msg;
	int err = sock_open(ctx);

	if (err < 0)
		return err;
	if (errors)
		memset(errors, 0, count * sizeof(*errors));
	buf = malloc(BATCH_BYTES);
	if (!buf)
		return ctx_fail(ctx, -ENOMEM, "out of memory for a netlink batch");
	while (i < count) {
		start = i;
		used = 0;
		last = NULL;
		x.first = next_seq(ctx, BATCH_WINDOW);
		for (; i < count && i - start < BATCH_WINDOW &&
		       used <= BATCH_BYTES - REQUEST_MAX; i++) {
			msg = NULL;
			err = build(arg, i, &msg);
			if (err < 0)
				goto out;
			if (!msg)
				continue;
			nlh = nlmsg_hdr(msg);
			if (nlh->nlmsg_len > REQUEST_MAX) {
				nlmsg_free(msg);
				err = ctx_fail(ctx, -EMSGSIZE, "netlink request of %u bytes is too big",
					       nlh->nlmsg_len);
				goto out;
			}
			last = (struct nlmsghdr *)(buf + used);
			memcpy(last, nlh, nlh->nlmsg_len);
			used += NLMSG_ALIGN(nlh->nlmsg_len);
			nlmsg_free(msg);
			stamp(ctx, last, x.first + (uint32_t)(i - start), 0);
		}
		if (!last)
			continue;
		/* The kernel handles a datagram's requests in order and answers
		 * failures at once: the ack of the last ends the window. */
		last->nlmsg_flags |= NLM_F_ACK;
		x.count = (uint32_t)(i - start);
		x.last = last->nlmsg_seq;
		x.base = start;
		x.done = 0;
		err = transact(&x, buf, used);
		if (err < 0)
			goto out;
	}
	err = x.first_error;
out:
	free(buf);
	return err;
}
