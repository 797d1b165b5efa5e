/*
 * run-http.c - `ovlctl run --listen`: /healthz, /readyz and /metrics over
 * HTTP with libmicrohttpd, inside the agent's own loop.  The daemon runs
 * in MHD's external mode with its epoll fd (MHD_USE_EPOLL, no thread of
 * its own): run-supervise.c polls that fd beside the node's and calls
 * ovlctl_http_dispatch, so an answer is only ever given by the loop that
 * drives the agent, and /healthz answering means that loop turns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "ovlctl.h"

#define MAX_CONNECTIONS 16
#define CONNECTION_TIMEOUT_SECONDS 10

struct ovlctl_http {
	struct MHD_Daemon *daemon;
	const struct ovlctl_run_state *state;
};

/* ADDR:PORT, [ADDR6]:PORT, or PORT alone for 127.0.0.1; 0 or -EINVAL. */
static int parse_listen(const char *text, struct sockaddr_storage *address)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)address;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
	char host[64] = "127.0.0.1";
	const char *port = text, *colon = strrchr(text, ':');
	unsigned long number;
	char *end;

	if (colon && text[0] == '[' && colon > text && colon[-1] == ']') {
		if ((size_t)(colon - text - 2) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text - 2), text + 1);
		port = colon + 1;
	} else if (colon) {
		if (colon == text || (size_t)(colon - text) >= sizeof(host))
			return -EINVAL;	/* ":PORT" would hide which addresses */
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
		port = colon + 1;
	}
	errno = 0;
	number = strtoul(port, &end, 10);
	if (!*port || *end || errno || number < 1 || number > 65535)
		return -EINVAL;
	memset(address, 0, sizeof(*address));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)number);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)number);
		return 0;
	}
	return -EINVAL;
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned int code,
			       const char *type, const char *body, void (*release)(void *))
{
	struct MHD_Response *response;
	enum MHD_Result result;

	/* With a free callback the response owns body, else MHD copies it. */
	response = release ?
		MHD_create_response_from_buffer_with_free_callback(strlen(body), (void *)body,
								   release) :
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!response) {
		if (release)
			release((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	result = MHD_queue_response(connection, code, response);
	MHD_destroy_response(response);
	return result;
}

static enum MHD_Result metrics(struct ovlctl_http *http, struct MHD_Connection *connection)
{
	char *text, why[512];

	if (!http->state->node) {
		ovlctl_readiness(http->state, why, sizeof(why));
		strcat(why, "\n");
		return respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "text/plain; charset=utf-8", why, NULL);
	}
	if (ovl_node_metrics(http->state->node, &text) < 0)
		return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
			       "text/plain; charset=utf-8", "out of memory\n", NULL);
	return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		       text, ovl_free);
}

static enum MHD_Result answer(void *arg, struct MHD_Connection *connection, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **request)
{
	struct ovlctl_http *http = arg;
	char why[512];
	int ready;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)request;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
			       "text/plain; charset=utf-8", "only GET and HEAD\n", NULL);
	if (!strcmp(url, "/healthz"))
		return respond(connection, MHD_HTTP_OK, "text/plain; charset=utf-8",
			       "ok\n", NULL);
	if (!strcmp(url, "/readyz")) {
		ready = ovlctl_readiness(http->state, why, sizeof(why) - 1);
		strcat(why, "\n");
		return respond(connection, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			       "text/plain; charset=utf-8", why, NULL);
	}
	if (!strcmp(url, "/metrics"))
		return metrics(http, connection);
	return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
		       "not found: /healthz, /readyz and /metrics are served\n", NULL);
}

static void log_error(void *arg, const char *format, va_list args)
{
	(void)arg;
	fputs("ovlctl: run: http: ", stderr);
	vfprintf(stderr, format, args);
}

int ovlctl_http_open(struct ovlctl *tool, const char *listen,
		     const struct ovlctl_run_state *state, struct ovlctl_http **out)
{
	struct sockaddr_storage address;
	struct ovlctl_http *http;

	*out = NULL;
	if (parse_listen(listen, &address) < 0)
		return ovlctl_usage_error("run: --listen '%s': want ADDR:PORT, [ADDR6]:PORT "
					  "or PORT (127.0.0.1)", listen);
	http = calloc(1, sizeof(*http));
	if (!http)
		return ovlctl_fail(tool, -ENOMEM, "run: --listen");
	http->state = state;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD starts no thread. */
	http->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
					(address.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
					0, NULL, NULL, answer, http,
					MHD_OPTION_EXTERNAL_LOGGER, log_error, NULL,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
					MHD_OPTION_CONNECTION_TIMEOUT,
					(unsigned int)CONNECTION_TIMEOUT_SECONDS,
					MHD_OPTION_END);
	if (!http->daemon) {
		free(http);
		fprintf(stderr, "ovlctl: run: --listen %s: cannot listen there (see above)\n",
			listen);
		return 1;
	}
	*out = http;
	return 0;
}

int ovlctl_http_fd(const struct ovlctl_http *http)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

int ovlctl_http_timeout_ms(const struct ovlctl_http *http)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	if (MHD_get_timeout(http->daemon, &timeout) != MHD_YES)
		return -1;
	return timeout > 60000 ? 60000 : (int)timeout;
}

void ovlctl_http_dispatch(struct ovlctl_http *http)
{
	MHD_run(http->daemon);
}

void ovlctl_http_close(struct ovlctl_http *http)
{
	if (!http)
		return;
	MHD_stop_daemon(http->daemon);
	free(http);
}
