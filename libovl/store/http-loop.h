/*
 * http-loop.h - a curl multi handle driven from an epoll fd (http-loop.c),
 * for store backends whose HTTP requests must never block their caller:
 * curl's sockets, its timer and the backend's own fds live in one epoll
 * set the caller nests in its own.  Each easy handle's CURLOPT_PRIVATE is a
 * struct http_transfer whose finish function runs when curl is done with
 * it.  The etcd and kube stores both run their requests on it.
 */
#ifndef OVL_HTTP_LOOP_H
#define OVL_HTTP_LOOP_H

#include <curl/curl.h>

#include "core/internal.h"

struct http_transfer;
/* curl finished transfer (removed from the multi handle already). */
typedef void (*http_finish_fn)(struct http_transfer *transfer, CURLcode result);
struct http_transfer {
	http_finish_fn finish;
	CURL *easy;
};

struct http_loop {
	struct ovl_ctx *ctx;
	const char *what;		/* "kube watch": the start of messages */
	CURLM *multi;
	int epoll_fd;			/* curl's sockets, its timer, the caller's fds */
	int timer_fd;			/* curl's timeout */
	int error;			/* the first failure inside a curl callback */
};

int http_loop_init(struct http_loop *loop, struct ovl_ctx *ctx, const char *what);
/* Transfers still in the multi handle must have been removed first. */
void http_loop_cleanup(struct http_loop *loop);
/* Adds a caller's fd (EPOLLIN) to the loop's set; http_loop_run hands it
 * to the caller's function. */
int http_loop_add_fd(struct http_loop *loop, int fd);
/* One of the caller's fds is ready: 0 (or -errno to stop), -ENOENT when it
 * is not the caller's. */
typedef int (*http_loop_fd_fn)(void *arg, int fd);
/* Waits up to wait_ms (0: not at all), runs curl on what is ready and
 * finishes the transfers that are done. */
int http_loop_run(struct http_loop *loop, int wait_ms, http_loop_fd_fn other, void *arg);
/* Starts transfer->easy (its CURLOPT_PRIVATE is set here). */
int http_loop_start(struct http_loop *loop, struct http_transfer *transfer);
/* Takes transfer->easy out of the loop without finishing it. */
void http_loop_stop(struct http_loop *loop, struct http_transfer *transfer);
/* Arms a timerfd ms from now (0: at once; negative: disarms). */
void http_timer_arm(int fd, long ms);

/* A libcurl failure as a specific -errno, with "what: reason" in ctx. */
int http_curl_error(struct ovl_ctx *ctx, const char *what, CURLcode code,
		    const char *detail);
/* Errors after which the same request may succeed later. */
int http_is_connection_error(int err);

#endif
