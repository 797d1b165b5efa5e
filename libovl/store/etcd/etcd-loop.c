/*
 * etcd-loop.c - a curl multi handle driven from an epoll fd, for the etcd
 * requests that must never block their caller (the watch, the agent's
 * renewals and listings): curl's sockets and its timer live in one epoll
 * set that the caller nests in its own; etcd_loop_run handles what is
 * ready and finishes the requests that are done.
 */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "store/etcd/etcd.h"

static void record(struct etcd_loop *loop, int err)
{
	if (!loop->error)
		loop->error = err;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata,
		     void *socketp)
{
	struct etcd_loop *loop = userdata;
	struct epoll_event event = { 0 };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
		       (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	event.data.fd = fd;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &event) < 0 &&
	    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
		record(loop, ctx_fail(loop->ctx, -errno, "%s: epoll: %s", loop->what,
				      ovl_strerror(errno)));
	return 0;
}

void etcd_timer_arm(int fd, long ms)
{
	struct itimerspec when = { { 0, 0 }, { 0, 0 } };

	if (ms >= 0) {
		when.it_value.tv_sec = ms / 1000;
		/* 0 would disarm: "now" is one nanosecond away */
		when.it_value.tv_nsec = (ms % 1000) * 1000000 + (ms ? 0 : 1);
	}
	timerfd_settime(fd, 0, &when, NULL);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userdata)
{
	struct etcd_loop *loop = userdata;

	etcd_timer_arm(loop->timer_fd, timeout_ms);
	return 0;
}

int etcd_loop_add_fd(struct etcd_loop *loop, int fd)
{
	struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
		return ctx_fail(loop->ctx, -errno, "%s: epoll: %s", loop->what,
				ovl_strerror(errno));
	return 0;
}

int etcd_loop_init(struct etcd_loop *loop, struct ovl_ctx *ctx, const char *what)
{
	int err;

	loop->ctx = ctx;
	loop->what = what;
	loop->error = 0;
	loop->multi = NULL;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	err = loop->epoll_fd < 0 || loop->timer_fd < 0 ?
	      ctx_fail(ctx, -errno, "%s: %s", what, ovl_strerror(errno)) :
	      etcd_loop_add_fd(loop, loop->timer_fd);
	if (err < 0) {
		etcd_loop_cleanup(loop);
		return err;
	}
	loop->multi = curl_multi_init();
	if (!loop->multi) {
		etcd_loop_cleanup(loop);
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", what);
	}
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	/* Many small requests (a big listing's TTL lookups) queue up instead
	 * of opening hundreds of connections; a watch stream takes one. */
	curl_multi_setopt(loop->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	return 0;
}

/* Requests still in the multi handle must have been cancelled first. */
void etcd_loop_cleanup(struct etcd_loop *loop)
{
	if (loop->multi)
		curl_multi_cleanup(loop->multi);
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	if (loop->timer_fd >= 0)
		close(loop->timer_fd);
	loop->multi = NULL;
	loop->epoll_fd = loop->timer_fd = -1;
}

int etcd_loop_run(struct etcd_loop *loop, int wait_ms, etcd_loop_fd_fn other, void *arg)
{
	struct epoll_event events[16];
	uint64_t expirations;
	CURLMsg *message;
	int n, i, running, left, err;

	n = epoll_wait(loop->epoll_fd, events, ARRAY_SIZE(events), wait_ms);
	if (n < 0 && errno != EINTR)
		return ctx_fail(loop->ctx, -errno, "%s: epoll: %s", loop->what,
				ovl_strerror(errno));
	for (i = 0; i < n; i++) {
		int fd = events[i].data.fd, flags = 0;

		if (fd == loop->timer_fd) {
			if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				return ctx_fail(loop->ctx, -errno, "%s: timer: %s", loop->what,
						ovl_strerror(errno));
			curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			continue;
		}
		if (other && (err = other(arg, fd)) != -ENOENT) {
			if (err < 0)
				return err;
			continue;
		}
		if (events[i].events & EPOLLIN)
			flags |= CURL_CSELECT_IN;
		if (events[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (events[i].events & (EPOLLERR | EPOLLHUP))
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(loop->multi, fd, flags, &running);
	}
	while ((message = curl_multi_info_read(loop->multi, &left)))
		if (message->msg == CURLMSG_DONE)
			etcd_request_finish(loop->multi, message->easy_handle,
					    message->data.result);
	return loop->error;
}
