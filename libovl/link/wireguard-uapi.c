/*
 * wireguard-uapi.c - a userspace WireGuard implementation (wireguard-go,
 * boringtun) as libovl speaks to it: its cross-platform UAPI text protocol
 * ("set=1" / "get=1", keys in hex, one key=value per line, an empty line
 * ends a message), its UNIX socket /var/run/wireguard/NAME.sock (the
 * exchanges themselves are wireguard-queue.c's), and starting the program
 * the way wg-quick does ("PROGRAM NAME": it forks once the device is up).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "link/wireguard.h"
#include "netlink/nl.h"

#define GONE_MS 2000

static int64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&pause, NULL);
}

/* ---- the text protocol -------------------------------------------------- */

static void put_hex(FILE *out, const char *key, const unsigned char bytes[WG_KEY_LEN])
{
	int i;

	fprintf(out, "%s=", key);
	for (i = 0; i < WG_KEY_LEN; i++)
		fprintf(out, "%02x", bytes[i]);
	fputc('\n', out);
}

static int get_hex(const char *text, unsigned char bytes[WG_KEY_LEN])
{
	unsigned int byte;
	int i;

	if (strlen(text) != 2 * WG_KEY_LEN)
		return -EPROTO;
	for (i = 0; i < WG_KEY_LEN; i++) {
		if (sscanf(text + 2 * i, "%2x", &byte) != 1)
			return -EPROTO;
		bytes[i] = (unsigned char)byte;
	}
	return 0;
}

static void put_peer(FILE *out, const struct wg_peer *peer)
{
	char text[OVL_PREFIX_STRLEN];
	size_t i;

	put_hex(out, "public_key", peer->public_key);
	if (peer->remove) {
		fputs("remove=true\n", out);
		return;
	}
	if (peer->has_preshared_key)
		put_hex(out, "preshared_key", peer->preshared_key);
	if (peer->endpoint.family) {
		ovl_addr_format(&peer->endpoint, text, sizeof(text));
		fprintf(out, peer->endpoint.family == AF_INET6 ? "endpoint=[%s]:%u\n" :
			"endpoint=%s:%u\n", text, peer->endpoint_port);
	}
	if (peer->keepalive >= 0)
		fprintf(out, "persistent_keepalive_interval=%d\n", peer->keepalive);
	if (peer->replace_allowed_ips)
		fputs("replace_allowed_ips=true\n", out);
	for (i = 0; i < peer->allowed_count; i++) {
		ovl_prefix_format(&peer->allowed_ips[i], text, sizeof(text));
		fprintf(out, "allowed_ip=%s\n", text);
	}
}

int wg_uapi_format_set(const struct wg_device *device, char **text)
{
	size_t size, i;
	FILE *out;

	*text = NULL;
	out = open_memstream(text, &size);
	if (!out)
		return -ENOMEM;
	fputs("set=1\n", out);
	if (device->has_private_key)
		put_hex(out, "private_key", device->private_key);
	if (device->listen_port)
		fprintf(out, "listen_port=%u\n", device->listen_port);
	if (device->replace_peers)
		fputs("replace_peers=true\n", out);
	for (i = 0; i < device->peer_count; i++)
		put_peer(out, &device->peers[i]);
	fputc('\n', out);
	if (fclose(out) != 0 || !*text) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* "1.2.3.4:51820" or "[fd00::1]:51820". */
static int parse_endpoint(char *value, struct wg_peer *peer)
{
	char *colon = strrchr(value, ':');
	char *end;
	unsigned long port;

	if (!colon)
		return -EPROTO;
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535)
		return -EPROTO;
	if (value[0] == '[') {
		size_t length = strlen(value);

		if (length < 2 || value[length - 1] != ']')
			return -EPROTO;
		value[length - 1] = '\0';
		value++;
	}
	if (ovl_addr_parse(value, &peer->endpoint) < 0)
		return -EPROTO;
	peer->endpoint_port = (unsigned int)port;
	return 0;
}

static int parse_number(const char *value, uint64_t *out)
{
	char *end;

	if (!*value || *value == '-')
		return -EPROTO;
	errno = 0;
	*out = strtoull(value, &end, 10);
	return *end || errno ? -EPROTO : 0;
}

/* One key=value of a peer's section. */
static int parse_peer_line(const char *key, char *value, struct wg_peer *peer)
{
	struct ovl_prefix prefix;
	uint64_t number;

	if (!strcmp(key, "preshared_key")) {
		peer->has_preshared_key = 1;
		return get_hex(value, peer->preshared_key);
	}
	if (!strcmp(key, "endpoint"))
		return parse_endpoint(value, peer);
	if (!strcmp(key, "allowed_ip")) {
		if (ovl_prefix_parse(value, &prefix) < 0)
			return -EPROTO;
		return wg_peer_allow(peer, &prefix);
	}
	if (!strcmp(key, "last_handshake_time_sec") || !strcmp(key, "rx_bytes") ||
	    !strcmp(key, "tx_bytes") || !strcmp(key, "persistent_keepalive_interval")) {
		if (parse_number(value, &number) < 0)
			return -EPROTO;
		if (key[0] == 'l')
			peer->last_handshake = (int64_t)number;
		else if (key[0] == 'r')
			peer->rx_bytes = number;
		else if (key[0] == 't')
			peer->tx_bytes = number;
		else
			peer->keepalive = number > 65535 ? 65535 : (int)number;
	}
	/* Anything else (protocol_version, the handshake's nanoseconds)
	 * libovl does not need. */
	return 0;
}

int wg_uapi_parse_get(const char *text, struct wg_device *device)
{
	char *copy = strdup(text), *line, *next, *value;
	struct wg_peer *peer = NULL;
	uint64_t number;
	int err = -EPROTO, ended = 0;

	if (!copy)
		return -ENOMEM;
	for (line = copy; line && *line && !ended; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		value = strchr(line, '=');
		if (!value) {
			err = -EPROTO;
			break;
		}
		*value++ = '\0';
		err = 0;
		if (!strcmp(line, "errno")) {
			/* wireguard-go writes its errnos negative (errno=-98),
			 * the protocol's text positive: either is the errno. */
			err = parse_number(value + (*value == '-'), &number) < 0 ? -EPROTO :
				-(int)(number & 0xffff);
			ended = 1;
		} else if (!strcmp(line, "public_key")) {
			peer = wg_device_add_peer(device);
			err = peer ? get_hex(value, peer->public_key) : -ENOMEM;
		} else if (peer) {
			err = parse_peer_line(line, value, peer);
		} else if (!strcmp(line, "private_key")) {
			device->has_private_key = 1;
			err = get_hex(value, device->private_key);
		} else if (!strcmp(line, "listen_port")) {
			err = parse_number(value, &number) < 0 || number > 65535 ? -EPROTO : 0;
			device->listen_port = (unsigned int)number;
		}
		if (err < 0 && !ended)
			break;
	}
	free(copy);
	if (!ended && err == 0)
		err = -EPROTO;	/* the answer must end with errno= */
	return err;
}

/* ---- the socket ------------------------------------------------------- */

int wg_uapi_path(const char *name, char *path, size_t size)
{
	if ((size_t)snprintf(path, size, "%s/%s.sock", WG_SOCKET_DIR, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int wg_uapi_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int wg_uapi_answers(const char *name)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;

	if (wg_uapi_path(name, path, sizeof(path)) < 0)
		return 0;
	fd = wg_uapi_connect(path);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* ---- the program -------------------------------------------------------- */

struct spawn {
	const char *program;
	const char *name;
	pid_t pid;
	int err;
};

/* Forked from a thread inside the ctx's namespace: the child is born
 * there.  Only async-signal-safe calls after fork. */
static int spawn_in_netns(void *arg)
{
	struct spawn *s = arg;

	s->pid = fork();
	if (s->pid < 0) {
		s->err = -errno;
		return 0;
	}
	if (s->pid == 0) {
		sigset_t none;

		/* The caller may block SIGTERM for a signalfd (ovlctl run
		 * does): the program must still die of it. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execlp(s->program, s->program, s->name, (char *)NULL);
		_exit(127);
	}
	return 0;
}

int wg_uapi_spawn(struct ovl_ctx *ctx, const char *program, const char *name, pid_t *pid)
{
	struct spawn s = { program, name, -1, 0 };
	int err;

	err = netlink_in_netns(ctx, spawn_in_netns, &s);
	if (err == 0)
		err = s.err;
	if (err < 0)
		return ctx_fail(ctx, err, "starting %s: %s", program, ovl_strerror(err));
	*pid = s.pid;
	return 0;
}

int wg_uapi_reap(struct ovl_ctx *ctx, const char *program, const char *name, pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	return ctx_fail(ctx, -EIO, "%s %s: %s %d", program, name,
			WIFEXITED(status) ? "exited with status" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void wg_uapi_wait_gone(const char *name)
{
	int64_t deadline = now_ms() + GONE_MS;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (wg_uapi_path(name, path, sizeof(path)) < 0)
		return;
	while (now_ms() < deadline && stat(path, &st) == 0)
		sleep_ms(10);
}
