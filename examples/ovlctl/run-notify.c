/*
 * run-notify.c - systemd's notification protocol for `ovlctl run` under
 * Type=notify: datagrams to $NOTIFY_SOCKET (a path, or an abstract name
 * after '@') saying READY=1 once the agent is ready, STATUS= whenever its
 * one-line state changes, WATCHDOG=1 at half of $WATCHDOG_USEC, STOPPING=1
 * at the end.  The protocol is documented (sd_notify(3)) and small enough
 * that libsystemd is not needed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ovlctl.h"

struct ovlctl_notify {
	int fd;
	struct sockaddr_un address;
	socklen_t length;
	long long watchdog_ms;		/* ping period; 0: no watchdog */
	long long next_ping;		/* monotonic ms */
	int ready_sent;
	char status[512];
};

/* The watchdog period in ms from WATCHDOG_USEC, 0 when there is none or it
 * is meant for another process (WATCHDOG_PID). */
static long long watchdog_period(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	long long value;

	if (!usec || (pid && strtol(pid, NULL, 10) != (long)getpid()))
		return 0;
	errno = 0;
	value = strtoll(usec, &end, 10);
	if (errno || *end || value <= 0)
		return 0;
	/* Half the period, as sd_watchdog_enabled(3) advises; at least 1 ms. */
	return value / 2000 > 0 ? value / 2000 : 1;
}

struct ovlctl_notify *ovlctl_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct ovlctl_notify *notify;
	size_t length;

	if (!path || !*path)
		return NULL;
	length = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || length >= sizeof(notify->address.sun_path)) {
		fprintf(stderr, "ovlctl: run: NOTIFY_SOCKET=%s is neither a path nor "
			"an abstract name: not notifying\n", path);
		return NULL;
	}
	notify = calloc(1, sizeof(*notify));
	if (!notify)
		return NULL;
	notify->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify->fd < 0) {
		free(notify);
		return NULL;
	}
	notify->address.sun_family = AF_UNIX;
	memcpy(notify->address.sun_path, path, length);
	if (path[0] == '@')
		notify->address.sun_path[0] = '\0';
	notify->length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
	notify->watchdog_ms = watchdog_period();
	notify->next_ping = ovlctl_now_ms();
	return notify;
}

/* A lost datagram is not worth stopping the agent for: systemd notices
 * a missing READY=1 or WATCHDOG=1 by itself. */
static void send_text(struct ovlctl_notify *notify, const char *text)
{
	if (sendto(notify->fd, text, strlen(text), MSG_NOSIGNAL,
		   (const struct sockaddr *)&notify->address, notify->length) < 0)
		fprintf(stderr, "ovlctl: run: NOTIFY_SOCKET: %s\n", strerror(errno));
}

void ovlctl_notify_update(struct ovlctl_notify *notify, int ready, const char *why)
{
	char text[sizeof(notify->status) + 32];
	long long now;

	if (!notify)
		return;
	if (strcmp(notify->status, why) || (ready && !notify->ready_sent)) {
		snprintf(notify->status, sizeof(notify->status), "%s", why);
		snprintf(text, sizeof(text), "%sSTATUS=%s",
			 ready && !notify->ready_sent ? "READY=1\n" : "", notify->status);
		notify->ready_sent |= ready;
		send_text(notify, text);
	}
	now = ovlctl_now_ms();
	if (notify->watchdog_ms && now >= notify->next_ping) {
		send_text(notify, "WATCHDOG=1");
		notify->next_ping = now + notify->watchdog_ms;
	}
}

int ovlctl_notify_timeout_ms(const struct ovlctl_notify *notify)
{
	long long left;

	if (!notify || !notify->watchdog_ms)
		return -1;
	left = notify->next_ping - ovlctl_now_ms();
	return left > 0 ? (int)left : 0;
}

void ovlctl_notify_stopping(struct ovlctl_notify *notify)
{
	if (notify)
		send_text(notify, "STOPPING=1\nSTATUS=stopping");
}

void ovlctl_notify_close(struct ovlctl_notify *notify)
{
	if (!notify)
		return;
	close(notify->fd);
	free(notify);
}
