/*
 * http-watch.h - what a store's watch over HTTP does whatever the server
 * (http-watch.c): list, hand over the snapshot, follow a stream from
 * there; after a failure resume the stream, or list again, after a pause
 * that doubles up to a cap; open either waiting for the first snapshot or
 * not at all.  The etcd and kube watches embed it and fill its ops with
 * their own requests.
 */
#ifndef OVL_HTTP_WATCH_H
#define OVL_HTTP_WATCH_H

#include "store/http-loop.h"
#include "store/store.h"

struct http_watch;
struct http_watch_ops {
	/* Starts a fresh listing (its first request): the previous one and
	 * the stream were cancelled already.  <0: it could not start. */
	int (*list)(struct http_watch *hw);
	/* Starts the stream from the last change applied. */
	int (*resume)(struct http_watch *hw);
	/* Cancels the stream and the listing's requests, if any. */
	void (*cancel)(struct http_watch *hw);
	/* Optional: runs after each turn of the loop (etcd delivers the
	 * events whose TTLs arrived). */
	int (*advance)(struct http_watch *hw);
	/* Optional: a listing failed while opening with err: 1 if another
	 * one makes sense at once (etcd: the next endpoint). */
	int (*open_again)(struct http_watch *hw, int err);
};

struct http_watch {
	const struct http_watch_ops *ops;
	struct ovl_watch *watch;
	struct ovl_ctx *ctx;
	const char *what;		/* "etcd watch": the start of messages */
	struct http_loop loop;
	int retry_fd;			/* timerfd: the pause before a restart */
	int listing;			/* a listing is under way */
	int need_list;			/* the next restart lists (else resumes) */
	int synced;			/* a snapshot was delivered */
	int opening, open_error;
	long backoff_ms;
	int fatal;			/* an error poll must return */
};

/* Sets up the loop in watch's epoll set and starts listing; unless the
 * watch is non-blocking, waits up to open_timeout_ms for the snapshot.  On
 * failure the caller cleans up (its requests, then http_watch_cleanup). */
int http_watch_open(struct http_watch *hw, const struct http_watch_ops *ops,
		    struct ovl_watch *watch, const char *what, long open_timeout_ms);
/* The caller's requests must have been cancelled first. */
void http_watch_cleanup(struct http_watch *hw);
int http_watch_poll(struct http_watch *hw);
/* Starts a fresh listing now. */
void http_watch_list(struct http_watch *hw);
/* The listing is complete and its snapshot delivered. */
void http_watch_synced(struct http_watch *hw);
/* After a failure err (-ESTALE, -ECANCELED: the position is gone, list
 * again): restart after the pause. */
void http_watch_restart(struct http_watch *hw, int err);
/* The stream works again: 1 when it replaces a failed one (the pause
 * starts over). */
int http_watch_reconnected(struct http_watch *hw);
/* An error the next poll returns (the first one stays). */
void http_watch_fail(struct http_watch *hw, int err);

#endif
