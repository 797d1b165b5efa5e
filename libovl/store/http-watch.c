/*
 * http-watch.c - the restart logic a store's watch over HTTP shares (see
 * http-watch.h): which of list or resume comes next, the pause before it,
 * the retry timer in the loop's set, and opening with or without waiting
 * for the first snapshot.  A failure while the watch is opening is the
 * open call's error, not a retry, unless the watch is non-blocking.
 */
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "store/http-watch.h"

#define BACKOFF_MIN_MS 100
/* Small enough that a lease added while the server was away shows within
 * 5 s of its return. */
#define BACKOFF_MAX_MS 3000

void http_watch_fail(struct http_watch *hw, int err)
{
	if (!hw->fatal)
		hw->fatal = err;
}

void http_watch_list(struct http_watch *hw)
{
	int err;

	hw->ops->cancel(hw);
	if (hw->synced)
		hw->watch->relists++;
	hw->listing = 1;
	hw->need_list = 0;
	err = hw->ops->list(hw);
	if (err == -ENOMEM)
		http_watch_fail(hw, err);
	else if (err < 0)
		http_watch_restart(hw, err);
}

void http_watch_synced(struct http_watch *hw)
{
	hw->listing = 0;
	hw->synced = 1;
}

int http_watch_reconnected(struct http_watch *hw)
{
	if (hw->backoff_ms <= BACKOFF_MIN_MS)
		return 0;
	hw->backoff_ms = BACKOFF_MIN_MS;
	return 1;
}

void http_watch_restart(struct http_watch *hw, int err)
{
	long delay = err == -ESTALE ? 0 : hw->backoff_ms;

	hw->ops->cancel(hw);
	if (err == -ESTALE || err == -ECANCELED || hw->listing || !hw->synced)
		hw->need_list = 1;
	hw->listing = 0;
	if (hw->opening) {
		if (hw->ops->open_again && hw->ops->open_again(hw, err))
			http_watch_list(hw);
		else if (!hw->open_error)
			hw->open_error = err;
		return;
	}
	ctx_log(hw->ctx, OVL_LOG_WARNING, "%s; %s in %ld ms", ovl_ctx_error(hw->ctx),
		hw->need_list ? "listing again" : "resuming", delay);
	http_timer_arm(hw->retry_fd, delay);
	hw->watch->reconnects++;
	hw->backoff_ms = hw->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			 hw->backoff_ms * 2;
}

/* The watch's own fd in its loop: the retry timer. */
static int on_retry(void *arg, int fd)
{
	struct http_watch *hw = arg;
	uint64_t expirations;
	int err;

	if (fd != hw->retry_fd)
		return -ENOENT;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return ctx_fail(hw->ctx, -errno, "%s: timer: %s", hw->what, ovl_strerror(errno));
	if (hw->need_list) {
		http_watch_list(hw);
	} else if ((err = hw->ops->resume(hw)) < 0) {
		if (err == -ENOMEM)
			return err;
		http_watch_restart(hw, err);
	}
	return 0;
}

/* Handles whatever is ready, waiting up to wait_ms. */
static int drive(struct http_watch *hw, int wait_ms)
{
	int err = http_loop_run(&hw->loop, wait_ms, on_retry, hw);

	if (!err)
		err = hw->fatal;
	if (!err && hw->ops->advance)
		err = hw->ops->advance(hw);
	if (err < 0)
		http_watch_fail(hw, err);
	return err;
}

static int64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int http_watch_open(struct http_watch *hw, const struct http_watch_ops *ops,
		    struct ovl_watch *watch, const char *what, long open_timeout_ms)
{
	int64_t deadline;
	int err;

	hw->ops = ops;
	hw->watch = watch;
	hw->ctx = watch->store->ctx;
	hw->what = what;
	hw->backoff_ms = BACKOFF_MIN_MS;
	hw->loop.epoll_fd = hw->loop.timer_fd = -1;
	hw->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (hw->retry_fd < 0)
		return ctx_fail(hw->ctx, -errno, "%s: %s", what, ovl_strerror(errno));
	err = http_loop_init(&hw->loop, hw->ctx, what, hw->retry_fd, watch->epoll_fd);
	if (err < 0)
		return err;
	hw->opening = 1;
	http_watch_list(hw);
	if (watch->nonblocking) {
		hw->opening = 0;
		if (hw->open_error) {	/* could not even start: retry later */
			hw->open_error = 0;
			hw->need_list = 1;
			http_timer_arm(hw->retry_fd, hw->backoff_ms);
		}
		return hw->fatal;
	}
	deadline = now_ms() + open_timeout_ms;
	while (!hw->synced && !hw->open_error && !err) {
		if (now_ms() > deadline) {
			err = ctx_fail(hw->ctx, -ETIMEDOUT, "%s: no listing within %ld ms", what,
				       open_timeout_ms);
			break;
		}
		err = drive(hw, 50);
	}
	hw->opening = 0;
	return err < 0 ? err : hw->open_error;
}

void http_watch_cleanup(struct http_watch *hw)
{
	http_loop_cleanup(&hw->loop);
	if (hw->retry_fd >= 0)
		close(hw->retry_fd);
	hw->retry_fd = -1;
}

int http_watch_poll(struct http_watch *hw)
{
	if (hw->fatal)
		return hw->fatal;
	return drive(hw, 0);
}
