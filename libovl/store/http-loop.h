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
/* One line of a streamed reply (without its newline): 0, or -errno to stop
 * the transfer with that error. */
typedef int (*http_line_fn)(void *arg, const char *line, size_t length);
/* One request of a store: its handle and its reply, gathered whole or, for
 * a stream (line set), handed out line by line while the status is 200. */
struct http_transfer {
	http_finish_fn finish;
	CURL *easy;
	char *data;			/* the reply, or the unfinished line */
	size_t used, allocated;
	size_t limit;			/* the most a reply may hold */
	http_line_fn line;
	void *line_arg;
	int line_error;			/* why the line function stopped it */
	char error[CURL_ERROR_SIZE];
};

struct http_loop {
	struct ovl_ctx *ctx;
	const char *what;		/* "kube watch": the start of messages */
	CURLM *multi;
	int epoll_fd;			/* curl's sockets, its timer, the caller's fds */
	int timer_fd;			/* curl's timeout */
	int error;			/* the first failure inside a curl callback */
};

/* caller_fd (-1: none) joins the loop's set, EPOLLIN, and http_loop_run
 * hands it to the caller's function; outer_epoll_fd (-1: none) is the
 * caller's own set, in which the loop's is nested.  On failure nothing is
 * left to clean up. */
int http_loop_init(struct http_loop *loop, struct ovl_ctx *ctx, const char *what,
		   int caller_fd, int outer_epoll_fd);
/* Transfers still in the multi handle must have been removed first; safe
 * to call twice. */
void http_loop_cleanup(struct http_loop *loop);
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

/* Sets what every store request shares on transfer->easy: the reply
 * goes into transfer (at most limit bytes), curl's message into its error
 * buffer, no signals, no proxy, TCP keepalive, the connect timeout. */
void http_transfer_setup(struct http_transfer *transfer, size_t limit, long connect_timeout_ms);
/* Frees the reply and the handle when the transfer still has one. */
void http_transfer_release(struct http_transfer *transfer);
/* How a finished transfer failed before any HTTP status: a specific -errno
 * with "what: reason" in ctx (trust names the CAs a server certificate was
 * checked against), or 0 when curl got a reply. */
int http_transfer_error(struct ovl_ctx *ctx, const struct http_transfer *transfer,
			const char *what, CURLcode code, const char *trust);
/* A URI part, text[0..length), as a new string with %XX decoded; NULL on a
 * bad escape (or %00, which would cut it short) and when out of memory. */
char *http_uri_unescape(const char *text, size_t length);
/* Errors after which the same request may succeed later. */
int http_is_connection_error(int err);

#endif
