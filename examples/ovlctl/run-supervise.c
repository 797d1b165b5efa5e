/*
 * run-supervise.c - what `ovlctl run` tells whoever supervises it: its
 * readiness in one line (the same text for /readyz and systemd's STATUS=),
 * and the one wait of its loop, which polls the node's fd, the signals,
 * the HTTP server's fd and the watchdog's period together so that all of
 * them are served by the thread that drives the agent.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ovlctl.h"

struct ovlctl_supervisor {
	struct ovlctl_run_state state;
	struct ovlctl_http *http;
	struct ovlctl_notify *notify;
};

int ovlctl_readiness(const struct ovlctl_run_state *state, char *why, size_t size)
{
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	const char *error;

	if (!state->node) {
		snprintf(why, size, "starting: %s", state->waiting);
		return 0;
	}
	ovl_node_status(state->node, &status);
	error = status.last_error_text[0] ? status.last_error_text : "no error recorded";
	if (status.lease_lost) {
		snprintf(why, size, "lease lost: %s", error);
		return 0;
	}
	/* The store may be away: the lease is ours only until it expires. */
	if (status.lease_expiration && status.lease_expiration <= time(NULL)) {
		snprintf(why, size, "lease expired, not renewed: %s", error);
		return 0;
	}
	if (!status.ready) {
		snprintf(why, size, "not ready: %s", error);
		return 0;
	}
	snprintf(why, size, "ready: subnet %s%s%s, %u peers%s%s", status.subnet,
		 status.ipv6_subnet[0] && status.subnet[0] ? " " : "", status.ipv6_subnet,
		 status.peers, status.last_error ? "; last error: " : "",
		 status.last_error ? status.last_error_text : "");
	return 1;
}

int ovlctl_supervisor_open(struct ovlctl *tool, const char *listen,
			   struct ovlctl_supervisor **out)
{
	struct ovlctl_supervisor *supervisor = calloc(1, sizeof(*supervisor));
	int status;

	*out = NULL;
	if (!supervisor)
		return ovlctl_fail(tool, -ENOMEM, "run");
	snprintf(supervisor->state.waiting, sizeof(supervisor->state.waiting),
		 "loading the config and acquiring the lease");
	if (listen) {
		status = ovlctl_http_open(tool, listen, &supervisor->state, &supervisor->http);
		if (status) {
			free(supervisor);
			return status;
		}
	}
	supervisor->notify = ovlctl_notify_open();
	*out = supervisor;
	return 0;
}

struct ovlctl_run_state *ovlctl_supervisor_state(struct ovlctl_supervisor *supervisor)
{
	return &supervisor->state;
}

static int earliest(int a, int b)
{
	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

long long ovlctl_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int ovlctl_supervisor_wait(struct ovlctl_supervisor *supervisor, int fd, int timeout_ms,
			   int sigfd)
{
	long long deadline = timeout_ms < 0 ? -1 : ovlctl_now_ms() + timeout_ms, now;
	struct signalfd_siginfo info;
	struct pollfd fds[3];
	char why[512];
	int wait, left;

	for (;;) {
		ovlctl_notify_update(supervisor->notify,
				     ovlctl_readiness(&supervisor->state, why, sizeof(why)), why);
		now = ovlctl_now_ms();
		left = deadline < 0 ? -1 : (int)(deadline > now ? deadline - now : 0);
		wait = earliest(left, ovlctl_notify_timeout_ms(supervisor->notify));
		if (supervisor->http)
			wait = earliest(wait, ovlctl_http_timeout_ms(supervisor->http));
		fds[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		fds[1] = (struct pollfd){ fd, POLLIN, 0 };	/* -1 is ignored */
		fds[2] = (struct pollfd){ supervisor->http ? ovlctl_http_fd(supervisor->http) : -1,
					  POLLIN, 0 };
		if (poll(fds, 3, wait) < 0 && errno != EINTR)
			return 0;	/* the caller's loop goes on */
		if (fds[0].revents && read(sigfd, &info, sizeof(info)) == sizeof(info)) {
			/* SIGUSR1 asks for a new key (ovlctl wireguard rotate). */
			if (info.ssi_signo != SIGUSR1)
				ovlctl_notify_stopping(supervisor->notify);
			return (int)info.ssi_signo;
		}
		if (supervisor->http)
			ovlctl_http_dispatch(supervisor->http);
		if (fds[1].revents || (deadline >= 0 && ovlctl_now_ms() >= deadline))
			return 0;
	}
}

void ovlctl_supervisor_close(struct ovlctl_supervisor *supervisor)
{
	if (!supervisor)
		return;
	ovlctl_notify_close(supervisor->notify);
	ovlctl_http_close(supervisor->http);
	free(supervisor);
}
