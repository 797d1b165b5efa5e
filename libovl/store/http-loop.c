/*
 * http-loop.c - a curl multi handle on an epoll fd (see http-loop.h): curl
 * tells which sockets to watch and when to time out, the caller's event
 * loop says when something is ready, and finished transfers are handed to
 * their finish functions.
 */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "store/http-loop.h"

static void record(struct http_loop *loop, int err)
{
	if (!loop->error)
		loop->error = err;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userdata,
		     void *socketp)
{
	struct http_loop *loop = userdata;
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

void http_timer_arm(int fd, long ms)
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
	struct http_loop *loop = userdata;

	http_timer_arm(loop->timer_fd, timeout_ms);
	return 0;
}

static int http_loop_add_fd(struct http_loop *loop, int fd)
{
	struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
		return ctx_fail(loop->ctx, -errno, "%s: epoll: %s", loop->what,
				ovl_strerror(errno));
	return 0;
}

int http_loop_init(struct http_loop *loop, struct ovl_ctx *ctx, const char *what,
		   int caller_fd, int outer_epoll_fd)
{
	struct epoll_event nest = { .events = EPOLLIN };
	int err;

	loop->ctx = ctx;
	loop->what = what;
	loop->error = 0;
	loop->multi = NULL;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	err = loop->epoll_fd < 0 || loop->timer_fd < 0 ?
	      ctx_fail(ctx, -errno, "%s: %s", what, ovl_strerror(errno)) :
	      http_loop_add_fd(loop, loop->timer_fd);
	if (err < 0) {
		http_loop_cleanup(loop);
		return err;
	}
	loop->multi = curl_multi_init();
	if (!loop->multi) {
		http_loop_cleanup(loop);
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", what);
	}
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	err = caller_fd >= 0 ? http_loop_add_fd(loop, caller_fd) : 0;
	nest.data.fd = loop->epoll_fd;
	if (!err && outer_epoll_fd >= 0 &&
	    epoll_ctl(outer_epoll_fd, EPOLL_CTL_ADD, loop->epoll_fd, &nest) < 0)
		err = ctx_fail(ctx, -errno, "%s: epoll: %s", what, ovl_strerror(errno));
	if (err < 0)
		http_loop_cleanup(loop);
	return err;
}

void http_loop_cleanup(struct http_loop *loop)
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

int http_loop_start(struct http_loop *loop, struct http_transfer *transfer)
{
	CURLMcode code;

	curl_easy_setopt(transfer->easy, CURLOPT_PRIVATE, transfer);
	code = curl_multi_add_handle(loop->multi, transfer->easy);
	if (code != CURLM_OK)
		return ctx_fail(loop->ctx, -ENOMEM, "%s: %s", loop->what,
				curl_multi_strerror(code));
	return 0;
}

void http_loop_stop(struct http_loop *loop, struct http_transfer *transfer)
{
	if (transfer && transfer->easy)
		curl_multi_remove_handle(loop->multi, transfer->easy);
}

int http_loop_run(struct http_loop *loop, int wait_ms, http_loop_fd_fn other, void *arg)
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
	while ((message = curl_multi_info_read(loop->multi, &left))) {
		struct http_transfer *transfer = NULL;

		if (message->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&transfer);
		curl_multi_remove_handle(loop->multi, message->easy_handle);
		transfer->finish(transfer, message->data.result);
	}
	return loop->error;
}

int http_is_connection_error(int err)
{
	return err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -ETIMEDOUT ||
	       err == -ECONNRESET;
}
