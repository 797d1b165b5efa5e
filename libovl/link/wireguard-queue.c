/*
 * wireguard-queue.c - a userspace WireGuard implementation's UAPI socket
 * spoken to without ever waiting for it: requests queue up and go out one
 * at a time, in order, on a non-blocking socket in the queue's epoll set;
 * answers are read as they come.  A program that is stopped (SIGSTOP) or
 * busy only makes its request overdue, which the queue reports while it
 * keeps the connection: the answer comes when the program runs again.
 * Starting the program is polled on the queue's timer the same way.
 *
 * Consecutive set requests are merged into one (the protocol applies a
 * request's lines in order, so one request is both applied in turn); a
 * sync makes the peers queued before it pointless and drops them.  The
 * blocking calls of the link run the same queue to its end.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "link/wireguard.h"

/* How often a starting program is looked at. */
#define START_POLL_MS 20
/* A socket that refused a connection is tried again after this, doubling. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000
/* The state of thousands of peers, with room to spare. */
#define ANSWER_MAX (16u << 20)

enum job_kind { JOB_SET, JOB_SYNC, JOB_GET };

struct job {
	struct job *next;
	enum job_kind kind;
	/* SET: the change; SYNC: the desired peers, then (planned) the
	 * change that makes them so */
	struct wg_device device;
	int planned;
};

struct wg_queue {
	struct ovl_ctx *ctx;
	char path[108];
	int epoll_fd, timer_fd;
	struct job *head, *tail;	/* head is the one in flight, if any */
	size_t count;

	/* the exchange in flight: fd -1 when none */
	int fd;
	char *request;
	size_t length, sent;
	char *answer;
	size_t used, size;
	int64_t deadline;		/* overdue from then */
	int overdue;
	int64_t retry_at;		/* after a failed connection; 0: none */
	unsigned int backoff_ms;

	/* the program while it starts */
	char *program, *name;
	pid_t child;			/* -1: none to reap */
	int starting;
	int64_t start_deadline;
	wg_ready_fn ready;
	void *ready_arg;
	int start_err;			/* the start failed: every dispatch says so */
	char start_reason[256];

	struct wg_device view;		/* the last get's answer */
	int64_t view_at;
};

static int64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int wg_queue_open(struct ovl_ctx *ctx, const char *path, struct wg_queue **out)
{
	struct epoll_event event = { .events = EPOLLIN };
	struct wg_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	q->ctx = ctx;
	q->fd = -1;
	q->child = -1;
	snprintf(q->path, sizeof(q->path), "%s", path);
	q->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	q->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	event.data.fd = q->timer_fd;
	if (q->epoll_fd < 0 || q->timer_fd < 0 ||
	    epoll_ctl(q->epoll_fd, EPOLL_CTL_ADD, q->timer_fd, &event) < 0) {
		int err = -errno;

		wg_queue_close(q);
		return ctx_fail(ctx, err, "epoll/timerfd: %s", ovl_strerror(err));
	}
	*out = q;
	return 0;
}

static void job_free(struct job *job)
{
	wg_device_clear(&job->device);
	free(job);
}

static void end_exchange(struct wg_queue *q)
{
	if (q->fd >= 0) {
		epoll_ctl(q->epoll_fd, EPOLL_CTL_DEL, q->fd, NULL);
		close(q->fd);
	}
	q->fd = -1;
	/* A set request holds the private key. */
	if (q->request)
		explicit_bzero(q->request, q->length);
	free(q->request);
	if (q->answer)
		explicit_bzero(q->answer, q->used);
	free(q->answer);
	q->request = q->answer = NULL;
	q->length = q->sent = q->used = q->size = 0;
	q->overdue = 0;
}

/* Drops every request, the one in flight too. */
static void drop_all(struct wg_queue *q)
{
	struct job *job;

	end_exchange(q);
	while ((job = q->head)) {
		q->head = job->next;
		job_free(job);
	}
	q->tail = NULL;
	q->count = 0;
}

void wg_queue_close(struct wg_queue *q)
{
	if (!q)
		return;
	drop_all(q);
	/* A forking program's first process is gone by now; a foreground
	 * one is the device's and keeps running. */
	if (q->child > 0)
		waitpid(q->child, NULL, WNOHANG);
	if (q->timer_fd >= 0)
		close(q->timer_fd);
	if (q->epoll_fd >= 0)
		close(q->epoll_fd);
	wg_device_clear(&q->view);
	free(q->program);
	free(q->name);
	free(q);
}

int wg_queue_fd(const struct wg_queue *q)
{
	return q->epoll_fd;
}

int wg_queue_starting(const struct wg_queue *q)
{
	return q->starting;
}

const struct wg_device *wg_queue_view(const struct wg_queue *q, int64_t *age_ms)
{
	if (age_ms)
		*age_ms = q->view_at ? now_ms() - q->view_at : -1;
	return &q->view;
}

/* ---- queueing ----------------------------------------------------------- */

static int in_flight(const struct wg_queue *q, const struct job *job)
{
	return job == q->head && q->fd >= 0;
}

/* The queue's fd turns readable at once: whoever polls it dispatches the
 * request just queued. */
static void wake(struct wg_queue *q)
{
	struct itimerspec soon = { { 0, 0 }, { 0, 1 } };

	if (q->fd < 0 && !q->starting && !q->retry_at)
		timerfd_settime(q->timer_fd, 0, &soon, NULL);
}

static struct job *push(struct wg_queue *q, enum job_kind kind, struct wg_device *device)
{
	struct job *job = calloc(1, sizeof(*job));

	wake(q);
	if (!job)
		return NULL;
	job->kind = kind;
	if (device) {
		job->device = *device;
		memset(device, 0, sizeof(*device));
	}
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	q->count++;
	return job;
}

int wg_queue_set(struct wg_queue *q, struct wg_device *change)
{
	struct job *tail = q->tail;

	if (tail && tail->kind == JOB_SET && !in_flight(q, tail)) {
		wake(q);
		return wg_device_append(&tail->device, change) < 0 ?
			ctx_fail(q->ctx, -ENOMEM, "out of memory") : 0;
	}
	return push(q, JOB_SET, change) ? 0 : ctx_fail(q->ctx, -ENOMEM, "out of memory");
}

/* Unlinks job (not in flight) and frees it; prev is the one before it. */
static void unlink_job(struct wg_queue *q, struct job *prev, struct job *job)
{
	if (prev)
		prev->next = job->next;
	else
		q->head = job->next;
	if (q->tail == job)
		q->tail = prev;
	q->count--;
	job_free(job);
}

/* The handshakes a dropped set asked for, asked of the sync's peers. */
static void keep_handshakes(const struct wg_device *dropped, struct wg_device *desired)
{
	size_t i, j;

	for (i = 0; i < dropped->peer_count; i++)
		for (j = 0; dropped->peers[i].handshake && j < desired->peer_count; j++)
			if (!memcmp(dropped->peers[i].public_key, desired->peers[j].public_key,
				    WG_KEY_LEN))
				desired->peers[j].handshake = 1;
}

int wg_queue_sync(struct wg_queue *q, struct wg_device *desired)
{
	struct job *job, *prev = NULL, *next;

	/* What the queued peers would do, the sync does; their device's key
	 * and port stay. */
	for (job = q->head; job; job = next) {
		next = job->next;
		if (!in_flight(q, job) && job->kind == JOB_SET)
			keep_handshakes(&job->device, desired);
		if (in_flight(q, job) ||
		    (job->kind == JOB_SET && (job->device.has_private_key ||
					      job->device.listen_port))) {
			if (!in_flight(q, job) && job->kind == JOB_SET) {
				struct wg_device keep = job->device;

				keep.peers = NULL;
				keep.peer_count = 0;
				wg_device_clear(&job->device);
				job->device = keep;
			}
			prev = job;
			continue;
		}
		unlink_job(q, prev, job);
	}
	return push(q, JOB_SYNC, desired) ? 0 : ctx_fail(q->ctx, -ENOMEM, "out of memory");
}

int wg_queue_refresh(struct wg_queue *q)
{
	const struct job *job;

	for (job = q->head; job; job = job->next)
		if (job->kind == JOB_GET || (job->kind == JOB_SYNC && !job->planned))
			return 0;
	return push(q, JOB_GET, NULL) ? 0 : ctx_fail(q->ctx, -ENOMEM, "out of memory");
}

/* ---- the program ---------------------------------------------------------- */

int wg_queue_start(struct wg_queue *q, const char *program, const char *name,
		   wg_ready_fn ready, void *arg)
{
	int err;

	free(q->program);
	free(q->name);
	q->program = strdup(program);
	q->name = strdup(name);
	if (!q->program || !q->name)
		return ctx_fail(q->ctx, -ENOMEM, "out of memory");
	err = wg_uapi_spawn(q->ctx, program, name, &q->child);
	if (err < 0)
		return err;
	q->starting = 1;
	q->start_deadline = now_ms() + WG_START_MS;
	q->ready = ready;
	q->ready_arg = arg;
	return 0;
}

static void start_failed(struct wg_queue *q, int err)
{
	snprintf(q->start_reason, sizeof(q->start_reason), "%s", ovl_ctx_error(q->ctx));
	q->start_err = err;
	q->starting = 0;
	drop_all(q);
}

/* One look at a starting program: has it exited, does its socket answer? */
static void check_start(struct wg_queue *q, int64_t now)
{
	int fd, err;

	if (q->child > 0) {
		err = wg_uapi_reap(q->ctx, q->program, q->name, q->child);
		if (err != 0)
			q->child = -1;
		if (err < 0) {
			start_failed(q, err);
			return;
		}
	}
	fd = wg_uapi_connect(q->path);
	if (fd >= 0) {
		close(fd);
		q->starting = 0;
		err = q->ready(q->ready_arg);
		if (err < 0)
			start_failed(q, err);
		return;
	}
	if (now < q->start_deadline)
		return;
	if (q->child > 0) {
		kill(q->child, SIGKILL);
		waitpid(q->child, NULL, 0);
		q->child = -1;
	}
	start_failed(q, ctx_fail(q->ctx, -ETIMEDOUT, "%s %s: no UAPI socket %s after %d s",
				 q->program, q->name, q->path, WG_START_MS / 1000));
}

/* ---- the exchange ---------------------------------------------------------- */

static int watch_socket(struct wg_queue *q, int op)
{
	struct epoll_event event = { .events = q->sent < q->length ? EPOLLOUT : EPOLLIN,
				     .data.fd = q->fd };

	return epoll_ctl(q->epoll_fd, op, q->fd, &event) < 0 ? -errno : 0;
}

/* The head's request text. */
static int format_request(const struct job *job, char **text)
{
	struct wg_device wire;
	int err;

	if (job->kind == JOB_GET || (job->kind == JOB_SYNC && !job->planned)) {
		*text = strdup("get=1\n\n");
		return *text ? 0 : -ENOMEM;
	}
	err = wg_device_for_wire(&job->device, &wire);
	if (err == 0)
		err = wg_uapi_format_set(&wire, text);
	wg_device_clear(&wire);
	return err;
}

static int begin_exchange(struct wg_queue *q, int64_t now)
{
	int err;

	err = format_request(q->head, &q->request);
	if (err < 0)
		return ctx_fail(q->ctx, err, "out of memory");
	q->length = strlen(q->request);
	q->fd = wg_uapi_connect(q->path);
	err = q->fd < 0 ? q->fd : watch_socket(q, EPOLL_CTL_ADD);
	if (err < 0) {
		end_exchange(q);
		return ctx_fail(q->ctx, err, "%s: %s", q->path, ovl_strerror(err));
	}
	q->deadline = now + WG_EXCHANGE_MS;
	return 0;
}

/* Sends what the socket takes and reads what it has: 1 once the whole
 * answer (up to its empty line) is in, 0 for more later, -errno. */
static int move_bytes(struct wg_queue *q)
{
	ssize_t n;
	char *grown;

	while (q->sent < q->length) {
		n = send(q->fd, q->request + q->sent, q->length - q->sent, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		q->sent += (size_t)n;
		if (q->sent == q->length && watch_socket(q, EPOLL_CTL_MOD) < 0)
			return -errno;
	}
	for (;;) {
		if (q->used + 1 >= q->size) {
			if (q->size * 2 > ANSWER_MAX)
				return -EFBIG;
			grown = realloc(q->answer, q->size ? q->size * 2 : 4096);
			if (!grown)
				return -ENOMEM;
			q->answer = grown;
			q->size = q->size ? q->size * 2 : 4096;
		}
		n = recv(q->fd, q->answer + q->used, q->size - q->used - 1, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET;
		q->used += (size_t)n;
		q->answer[q->used] = '\0';
		if ((q->used == 1 && q->answer[0] == '\n') ||
		    (q->used >= 2 && !strcmp(q->answer + q->used - 2, "\n\n")))
			return 1;
	}
}

/* The head's answer is in: 0 when the head is done (removed), 1 when it
 * goes on (a sync's set after its get), or the -errno of its failure
 * (the head is dropped). */
static int finish_head(struct wg_queue *q, int64_t now)
{
	struct job *job = q->head;
	struct wg_device answer = { 0 }, change = { 0 };
	int getting = job->kind == JOB_GET || (job->kind == JOB_SYNC && !job->planned);
	int err = wg_uapi_parse_get(q->answer, &answer);

	end_exchange(q);
	if (err == 0 && getting) {
		/* The view is for peers and counters: no secret of ours. */
		explicit_bzero(answer.private_key, sizeof(answer.private_key));
		answer.has_private_key = 0;
		wg_device_clear(&q->view);
		q->view = answer;
		q->view_at = now;
		memset(&answer, 0, sizeof(answer));
	}
	wg_device_clear(&answer);
	if (err == 0 && job->kind == JOB_SYNC && !job->planned) {
		err = wg_plan_sync(&job->device, &q->view, &change);
		wg_device_clear(&job->device);
		job->device = change;
		job->planned = 1;
		if (err == 0 && change.peer_count)
			return 1;
	}
	q->head = job->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	job_free(job);
	if (err == -ENOMEM)
		return ctx_fail(q->ctx, err, "out of memory");
	if (err == -EPROTO)
		return ctx_fail(q->ctx, err, "%s: the UAPI socket's answer is malformed", q->path);
	if (err < 0)
		return ctx_fail(q->ctx, err, "%s: the userspace WireGuard refused the %s: %s",
				q->path, getting ? "request for its state" : "change",
				ovl_strerror(err));
	return 0;
}

/* The connection broke or was refused: the head is sent again later. */
static int retry_later(struct wg_queue *q, int err, int64_t now)
{
	unsigned int wait = q->backoff_ms ? q->backoff_ms : RETRY_FIRST_MS;

	end_exchange(q);
	q->backoff_ms = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
	q->retry_at = now + wait;
	return ctx_fail(q->ctx, err, "%s: %s (tried again in %u ms)", q->path, ovl_strerror(err),
			wait);
}

static void arm_timer(struct wg_queue *q)
{
	struct itimerspec spec = { { 0, 0 }, { 0, 0 } };
	int64_t next = INT64_MAX;

	if (q->starting)
		next = now_ms() + START_POLL_MS;
	if (q->fd >= 0 && !q->overdue && q->deadline < next)
		next = q->deadline;
	if (q->fd < 0 && q->head && q->retry_at && q->retry_at < next)
		next = q->retry_at;
	if (next != INT64_MAX) {
		if (next < 1)
			next = 1;
		spec.it_value.tv_sec = next / 1000;
		spec.it_value.tv_nsec = (next % 1000) * 1000000;
	}
	timerfd_settime(q->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int wg_queue_dispatch(struct wg_queue *q)
{
	uint64_t expirations;
	int64_t now = now_ms();
	int err = 0, step;

	if (read(q->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		err = ctx_fail(q->ctx, -errno, "timerfd: %s", ovl_strerror(errno));
	if (q->starting)
		check_start(q, now);
	if (q->start_err)
		return ctx_fail(q->ctx, q->start_err, "%s", q->start_reason);
	while (!q->starting && q->head) {
		if (q->fd < 0) {
			if (q->retry_at && now < q->retry_at)
				break;
			q->retry_at = 0;
			step = begin_exchange(q, now);
			if (step < 0) {
				err = retry_later(q, step, now);
				break;
			}
		}
		step = move_bytes(q);
		if (step == 0)
			break;
		if (step < 0) {
			err = retry_later(q, step, now);
			break;
		}
		q->backoff_ms = 0;
		step = finish_head(q, now);
		if (step < 0 && !err)
			err = step;
	}
	if (q->fd >= 0 && now >= q->deadline)
		q->overdue = 1;
	arm_timer(q);
	if (err < 0)
		return err;
	if (q->overdue)
		return ctx_fail(q->ctx, -ETIMEDOUT, "%s: no answer for %lld ms (the program is "
				"stopped or stuck)", q->path, (long long)(now - q->deadline +
									  WG_EXCHANGE_MS));
	return (int)(q->count + (size_t)q->starting);
}

int wg_queue_wait(struct wg_queue *q, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, left;
	struct pollfd p = { .fd = q->epoll_fd, .events = POLLIN };
	int result;

	for (;;) {
		result = wg_queue_dispatch(q);
		if (result == 0)
			return 0;
		left = deadline - now_ms();
		if (result < 0 || left <= 0) {
			if (result >= 0)
				result = ctx_fail(q->ctx, -ETIMEDOUT, "%s: no answer within %d ms",
						  q->path, timeout_ms);
			drop_all(q);
			return result;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			result = ctx_fail(q->ctx, -errno, "poll: %s", ovl_strerror(errno));
			drop_all(q);
			return result;
		}
	}
}
