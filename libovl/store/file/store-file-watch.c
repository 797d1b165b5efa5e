/*
 * store-file-watch.c - the file store's watch: inotify on the directory
 * (the file is replaced by rename, so the file itself cannot be watched)
 * plus a timer for the next expiry; each change is a new listing that the
 * generic watch (store.c) turns into ADDED and REMOVED events.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "store/file/store-file.h"

struct file_watch {
	int inotify_fd, timer_fd;
	int dirty;			/* a change seen but not yet listed */
};

static int watch_relist(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;
	struct itimerspec when = { { 0, 0 }, { 0, 0 } };
	struct ovl_lease **leases;
	uint64_t revision;
	struct timespec now;
	size_t count;
	int err;


	err = store_file_list(watch->store, &leases, &count, &revision);
	if (err < 0)
		return err;
	/* The timer's own clock: time() reads a coarse clock that can still
	 * say the second before the one the timer fired at, and the record
	 * that expires then would re-arm the timer into the past until it
	 * ticks over (a burst of wake-ups). */
	clock_gettime(CLOCK_REALTIME, &now);
	err = watch_snapshot(watch, leases, count, now.tv_sec);
	if (err < 0)
		return err;
	fw->dirty = 0;
	/* the next expiry (0 disarms) */
	when.it_value.tv_sec = watch->next_expiration;
	if (timerfd_settime(fw->timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
		return ctx_fail(watch->store->ctx, -errno, "watch: timerfd: %s",
				ovl_strerror(errno));
	return 0;
}

void store_file_watch_close(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;

	if (!fw)
		return;
	if (fw->inotify_fd >= 0)
		close(fw->inotify_fd);
	if (fw->timer_fd >= 0)
		close(fw->timer_fd);
	free(fw);
	watch->state = NULL;
}

static int watch_add_fd(struct ovl_watch *watch, int fd)
{
	struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(watch->epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int store_file_watch_open(struct ovl_watch *watch)
{
	struct ovl_store *store = watch->store;
	struct file_store *fs = store_file_state(store);
	struct file_watch *fw = calloc(1, sizeof(*fw));
	int err;

	if (!fw)
		return -ENOMEM;
	fw->inotify_fd = fw->timer_fd = -1;
	watch->state = fw;
	/* the directory must exist to be watched; a writer would create it */
	err = file_make_dirs(store->ctx, fs->dir);
	if (err < 0)
		goto fail;
	fw->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fw->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fw->inotify_fd < 0 || fw->timer_fd < 0 ||
	    inotify_add_watch(fw->inotify_fd, fs->dir, IN_CLOSE_WRITE | IN_MOVED_TO |
			      IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0 ||
	    watch_add_fd(watch, fw->inotify_fd) < 0 || watch_add_fd(watch, fw->timer_fd) < 0) {
		err = ctx_fail(store->ctx, -errno, "watch %s: %s", fs->dir, ovl_strerror(errno));
		goto fail;
	}
	/* inotify is armed before the listing, so no change falls between */
	err = watch_relist(watch);
	if (!err)
		return 0;
fail:
	store_file_watch_close(watch);
	return err;
}

/* Drains the inotify fd; 1 when an event concerns the store's file. */
static int drain_inotify(struct file_watch *fw, const char *base)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *event;
	int relevant = 0;
	ssize_t n;
	char *at;

	while ((n = read(fw->inotify_fd, buf, sizeof(buf))) > 0) {
		for (at = buf; at < buf + n; at += sizeof(*event) + event->len) {
			event = (const struct inotify_event *)at;
			if ((event->mask & IN_Q_OVERFLOW) ||
			    (event->len && !strcmp(event->name, base)))
				relevant = 1;
		}
	}
	return relevant;
}

int store_file_watch_poll(struct ovl_watch *watch)
{
	struct file_watch *fw = watch->state;
	uint64_t expirations;

	if (drain_inotify(fw, store_file_state(watch->store)->base))
		fw->dirty = 1;
	if (read(fw->timer_fd, &expirations, sizeof(expirations)) == sizeof(expirations))
		fw->dirty = 1;
	return fw->dirty ? watch_relist(watch) : 0;
}
