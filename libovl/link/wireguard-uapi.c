/*
 * wireguard-uapi.c - a userspace WireGuard implementation (wireguard-go,
 * boringtun) as libovl speaks to it: its cross-platform UAPI text protocol
 * ("set=1" / "get=1", keys in hex, one key=value per line, an empty line
 * ends a message) on the UNIX socket /var/run/wireguard/NAME.sock, every
 * exchange bounded in time and free of SIGPIPE; and starting the program
 * the way wg-quick does ("PROGRAM NAME": it forks once the device is up).
 */
#include <arpa/inet.h>
#include <poll.h>
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

/* wireguard-go answers in microseconds; a stuck one must not hang us. */
#define EXCHANGE_MS 2000
/* wg-quick gives its program no limit; a TUN device and a socket take
 * well under a second. */
#define START_MS 10000
#define GONE_MS 2000
/* The state of thousands of peers, with room to spare. */
#define ANSWER_MAX (16u << 20)

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
			err = parse_number(value, &number) < 0 ? -EPROTO : -(int)(number & 0xffff);
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

static int socket_path(const char *name, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if ((size_t)snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s.sock", WG_SOCKET_DIR,
			     name) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int connect_to(const char *path)
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
	struct sockaddr_un addr;
	int fd;

	if (socket_path(name, &addr) < 0)
		return 0;
	fd = connect_to(addr.sun_path);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_for(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(int fd, const char *data, size_t length, int64_t deadline)
{
	ssize_t sent;
	int err;

	while (length) {
		sent = send(fd, data, length, MSG_NOSIGNAL);
		if (sent < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (sent < 0) {
			err = wait_for(fd, POLLOUT, deadline);
			if (err < 0)
				return err;
			continue;
		}
		data += sent;
		length -= (size_t)sent;
	}
	return 0;
}

/* Reads up to the empty line that ends every answer. */
static int receive_answer(int fd, char **answer, int64_t deadline)
{
	size_t used = 0, size = 4096;
	char *buffer = malloc(size), *grown;
	ssize_t got;
	int err = 0;

	while (buffer && !err) {
		if (used + 1 >= size) {
			grown = size * 2 > ANSWER_MAX ? NULL : realloc(buffer, size * 2);
			if (!grown) {
				err = size * 2 > ANSWER_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buffer = grown;
			size *= 2;
		}
		got = recv(fd, buffer + used, size - used - 1, 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = wait_for(fd, POLLIN, deadline);
			continue;
		}
		if (got < 0) {
			err = -errno;
			break;
		}
		if (got == 0) {
			err = -ECONNRESET;
			break;
		}
		used += (size_t)got;
		buffer[used] = '\0';
		if ((used == 1 && buffer[0] == '\n') ||
		    (used >= 2 && !strcmp(buffer + used - 2, "\n\n")))
			break;
	}
	if (!buffer)
		return -ENOMEM;
	if (err < 0) {
		free(buffer);
		return err;
	}
	*answer = buffer;
	return 0;
}

int wg_uapi_exchange(struct ovl_ctx *ctx, const char *path, const char *request,
		     char **answer)
{
	int64_t deadline = now_ms() + EXCHANGE_MS;
	int fd, err;

	*answer = NULL;
	fd = connect_to(path);
	if (fd < 0)
		return ctx_fail(ctx, fd, "%s: %s", path, ovl_strerror(fd));
	err = send_all(fd, request, strlen(request), deadline);
	if (err == 0)
		err = receive_answer(fd, answer, deadline);
	close(fd);
	if (err < 0)
		return ctx_fail(ctx, err, "%s: %s", path, err == -ETIMEDOUT ?
				"no answer within 2 s" : ovl_strerror(err));
	return 0;
}

int wg_uapi_set(struct ovl_ctx *ctx, const char *name, const struct wg_device *device)
{
	struct sockaddr_un addr;
	char *request, *answer;
	struct wg_device none = { 0 };
	int err;

	err = socket_path(name, &addr);
	if (err < 0)
		return ctx_fail(ctx, err, "%s: name too long for a UAPI socket", name);
	err = wg_uapi_format_set(device, &request);
	if (err < 0)
		return ctx_fail(ctx, err, "out of memory");
	err = wg_uapi_exchange(ctx, addr.sun_path, request, &answer);
	/* The request held the private key. */
	explicit_bzero(request, strlen(request));
	free(request);
	if (err < 0)
		return err;
	err = wg_uapi_parse_get(answer, &none);
	free(answer);
	wg_device_clear(&none);
	if (err == -EPROTO)
		return ctx_fail(ctx, err, "%s: the UAPI socket's answer is not errno=N", name);
	if (err < 0)
		return ctx_fail(ctx, err, "%s: the userspace WireGuard refused the change: %s",
				name, ovl_strerror(err));
	return 0;
}

int wg_uapi_get(struct ovl_ctx *ctx, const char *name, struct wg_device *device)
{
	struct sockaddr_un addr;
	char *answer;
	int err;

	err = socket_path(name, &addr);
	if (err < 0)
		return ctx_fail(ctx, err, "%s: name too long for a UAPI socket", name);
	err = wg_uapi_exchange(ctx, addr.sun_path, "get=1\n\n", &answer);
	if (err < 0)
		return err;
	err = wg_uapi_parse_get(answer, device);
	explicit_bzero(answer, strlen(answer));
	free(answer);
	if (err < 0) {
		wg_device_clear(device);
		return ctx_fail(ctx, err, "%s: the UAPI socket's state: %s", name,
				err == -EPROTO ? "malformed" : ovl_strerror(err));
	}
	return 0;
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

int wg_uapi_start(struct ovl_ctx *ctx, const char *program, const char *name)
{
	struct spawn s = { program, name, -1, 0 };
	int64_t deadline = now_ms() + START_MS;
	int status, exited = 0, err;
	pid_t done;

	err = netlink_in_netns(ctx, spawn_in_netns, &s);
	if (err == 0)
		err = s.err;
	if (err < 0)
		return ctx_fail(ctx, err, "starting %s: %s", program, ovl_strerror(err));
	/* A forking program (wireguard-go, as wg-quick runs it) exits 0 once
	 * its device and socket exist; a foreground one is up once its socket
	 * answers. */
	while (now_ms() < deadline) {
		if (!exited) {
			done = waitpid(s.pid, &status, WNOHANG);
			if (done == s.pid) {
				exited = 1;
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					return ctx_fail(ctx, -EIO, "%s %s: %s %d", program, name,
							WIFEXITED(status) ? "exited with status" :
							"killed by signal", WIFEXITED(status) ?
							WEXITSTATUS(status) : WTERMSIG(status));
			}
		}
		if (wg_uapi_answers(name))
			return 0;
		sleep_ms(10);
	}
	if (!exited) {
		kill(s.pid, SIGTERM);
		waitpid(s.pid, &status, 0);
	}
	return ctx_fail(ctx, -ETIMEDOUT, "%s %s: no UAPI socket %s/%s.sock after %d s",
			program, name, WG_SOCKET_DIR, name, START_MS / 1000);
}

void wg_uapi_wait_gone(const char *name)
{
	int64_t deadline = now_ms() + GONE_MS;
	struct sockaddr_un addr;
	struct stat st;

	if (socket_path(name, &addr) < 0)
		return;
	while (now_ms() < deadline && stat(addr.sun_path, &st) == 0)
		sleep_ms(10);
}
