/*
 * etcd-client.c - HTTP to etcd's v3 JSON gateway with libcurl: the URI and
 * its options, TLS and auth, blocking calls that fail over between
 * endpoints, and requests (unary or line-streamed) on a caller's multi
 * handle.  Every libcurl failure becomes a specific -errno and message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/etcd/etcd.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_CONNECT_TIMEOUT_MS 2000

struct etcd_request {
	struct http_transfer transfer;	/* first: the loop hands it back */
	struct etcd_client *client;
	size_t endpoint;		/* index the request went to */
	struct curl_slist *headers;
	char *body;
	char what[600];			/* "http://h:p/v3/kv/range", for messages */
	etcd_done_fn done;
	void *arg;
};

/* ---- URI ------------------------------------------------------------ */

static int add_endpoint(struct etcd_client *client, const char *scheme,
			const char *text, size_t length)
{
	char host[256], url[300], **grown;
	const char *port_text = NULL, *end = text + length;
	unsigned long port = ETCD_DEFAULT_PORT;
	size_t host_length;
	char *stop;

	if (length && text[0] == '[') {
		const char *close = memchr(text, ']', length);

		if (!close || (close + 1 < end && close[1] != ':'))
			goto bad;
		host_length = (size_t)(close + 1 - text);
		if (close + 1 < end)
			port_text = close + 2;
	} else {
		const char *colon = memchr(text, ':', length);

		host_length = colon ? (size_t)(colon - text) : length;
		if (colon)
			port_text = colon + 1;
	}
	if (!host_length || host_length >= sizeof(host))
		goto bad;
	if (port_text) {
		if (port_text == end || *port_text < '0' || *port_text > '9')
			goto bad;
		port = strtoul(port_text, &stop, 10);
		if (stop != end || !port || port > 65535)
			goto bad;
	}
	memcpy(host, text, host_length);
	host[host_length] = '\0';
	if (strpbrk(host, "@/?#%"))
		goto bad;
	snprintf(url, sizeof(url), "%s://%s:%lu", scheme, host, port);
	grown = realloc(client->endpoints,
			(client->endpoint_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	client->endpoints = grown;
	grown[client->endpoint_count] = strdup(url);
	if (!grown[client->endpoint_count])
		return -ENOMEM;
	client->endpoint_count++;
	return 0;
bad:
	return ctx_fail(client->ctx, -EINVAL,
			"etcd URI: bad endpoint '%.*s' (want HOST[:PORT] or [IPV6][:PORT])",
			(int)length, text);
}

static int parse_seconds(struct etcd_client *client, const char *name,
			 const char *text, long *ms)
{
	char *end;
	double seconds = strtod(text, &end);

	if (end == text || *end || !(seconds > 0) || seconds > 3600)
		return ctx_fail(client->ctx, -EINVAL,
				"etcd URI: %s=%s: want seconds in (0, 3600]", name, text);
	*ms = (long)(seconds * 1000 + 0.5);
	if (!*ms)
		*ms = 1;
	return 0;
}

static int set_option(struct etcd_client *client, const char *name,
		      size_t name_length, char *value)
{
	static const char *const names[] = { "cacert", "cert", "key", "username",
					     "password" };
	char **slots[] = { &client->cacert, &client->cert, &client->key,
			   &client->username, &client->password };
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strlen(names[i]) != name_length || strncmp(name, names[i], name_length))
			continue;
		free(*slots[i]);
		*slots[i] = value;
		return 0;
	}
	if (name_length == 7 && !strncmp(name, "timeout", 7))
		err = parse_seconds(client, "timeout", value, &client->timeout_ms);
	else if (name_length == 15 && !strncmp(name, "connect_timeout", 15))
		err = parse_seconds(client, "connect_timeout", value,
				    &client->connect_timeout_ms);
	else
		err = ctx_fail(client->ctx, -EINVAL,
			       "etcd URI: unknown option '%.*s' (known: cacert, cert, key, "
			       "username, password, timeout, connect_timeout)",
			       (int)name_length, name);
	free(value);
	return err;
}

static int parse_query(struct etcd_client *client, const char *query)
{
	while (*query) {
		size_t length = strcspn(query, "&");
		const char *equals = memchr(query, '=', length);
		char *value;
		int err;

		if (!equals)
			return ctx_fail(client->ctx, -EINVAL,
					"etcd URI: option '%.*s' has no value", (int)length, query);
		value = http_uri_unescape(equals + 1, length - (size_t)(equals + 1 - query));
		if (!value)
			return ctx_fail(client->ctx, -EINVAL,
					"etcd URI: bad %%-escape in '%.*s'", (int)length, query);
		err = set_option(client, query, (size_t)(equals - query), value);
		if (err < 0)
			return err;
		query += length;
		if (*query == '&')
			query++;
	}
	return 0;
}

static int check_file(struct etcd_client *client, const char *option,
		      const char *path)
{
	if (path && access(path, R_OK) < 0)
		return ctx_fail(client->ctx, -errno, "etcd URI: %s %s: %s", option,
				path, ovl_strerror(errno));
	return 0;
}

static int check_options(struct etcd_client *client, int tls)
{
	int err;

	if (!tls && (client->cacert || client->cert || client->key))
		return ctx_fail(client->ctx, -EINVAL,
				"etcd URI: cacert, cert and key need etcds:// (TLS)");
	if (client->key && !client->cert)
		return ctx_fail(client->ctx, -EINVAL, "etcd URI: key given without cert");
	if (!client->username != !client->password)
		return ctx_fail(client->ctx, -EINVAL,
				"etcd URI: username and password go together");
	if ((err = check_file(client, "cacert", client->cacert)) < 0 ||
	    (err = check_file(client, "cert", client->cert)) < 0 ||
	    (err = check_file(client, "key", client->key)) < 0)
		return err;
	return 0;
}

static int parse_uri(struct etcd_client *client, const char *uri)
{
	const char *scheme, *rest, *path, *query;
	size_t length;
	int tls, err;

	if (!strncmp(uri, "etcd://", 7)) {
		tls = 0;
		rest = uri + 7;
	} else if (!strncmp(uri, "etcds://", 8)) {
		tls = 1;
		rest = uri + 8;
	} else {
		return ctx_fail(client->ctx, -EINVAL,
				"etcd URI '%s': want etcd:// or etcds://", uri);
	}
	scheme = tls ? "https" : "http";
	length = strcspn(rest, "/?");
	if (!length)
		return ctx_fail(client->ctx, -EINVAL, "etcd URI '%s': no endpoint", uri);
	while (length) {
		size_t part = strcspn(rest, ",/?");

		if (part > length)
			part = length;
		err = add_endpoint(client, scheme, rest, part);
		if (err < 0)
			return err;
		rest += part;
		length -= part;
		if (length) {
			rest++;
			length--;
			if (!length)
				return ctx_fail(client->ctx, -EINVAL,
						"etcd URI '%s': empty endpoint", uri);
		}
	}
	path = rest;
	query = strchr(path, '?');
	length = query ? (size_t)(query - path) : strlen(path);
	while (length && path[length - 1] == '/')
		length--;
	client->prefix = length ? http_uri_unescape(path, length) :
			 strdup(ETCD_DEFAULT_PREFIX);
	if (!client->prefix)
		return ctx_fail(client->ctx, -EINVAL, "etcd URI '%s': bad prefix", uri);
	if (query && (err = parse_query(client, query + 1)) < 0)
		return err;
	return check_options(client, tls);
}

/* ---- requests ------------------------------------------------------- */

int etcd_is_connection_error(int err)
{
	/* -EAGAIN is HTTP 503: a member without a leader, or one whose request
	 * timed out while the cluster elected one. */
	return http_is_connection_error(err) || err == -EAGAIN;
}

static void request_free(struct etcd_request *request)
{
	if (!request)
		return;
	http_transfer_release(&request->transfer);
	curl_slist_free_all(request->headers);
	free(request->body);
	free(request);
}

/* A request to the current endpoint on easy (reset) or a new handle;
 * body stolen from the JSON. */
static int request_new(struct etcd_client *client, const char *path,
		       json_t *body, int use_token, CURL *easy,
		       struct etcd_request **out)
{
	struct etcd_request *request;
	char url[512], auth[1024];

	*out = NULL;
	request = calloc(1, sizeof(*request));
	if (!request || !body)
		goto nomem;
	request->client = client;
	request->endpoint = client->current;
	request->body = json_dumps(body, JSON_COMPACT);
	if (easy)
		curl_easy_reset(easy);
	request->transfer.easy = easy ? easy : curl_easy_init();
	if (!request->body || !request->transfer.easy)
		goto nomem;
	snprintf(url, sizeof(url), "%s%s", client->endpoints[client->current], path);
	snprintf(request->what, sizeof(request->what), "etcd %s", url);
	request->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!request->headers)
		goto nomem;
	if (use_token && client->token) {
		struct curl_slist *more;

		/* The gateway wants the bare token, no "Bearer". */
		snprintf(auth, sizeof(auth), "Authorization: %s", client->token);
		more = curl_slist_append(request->headers, auth);
		if (!more)
			goto nomem;
		request->headers = more;
	}
	/* Every handle, the watch's too, is set up here. */
	http_transfer_setup(&request->transfer, ETCD_REPLY_MAX, client->connect_timeout_ms);
	curl_easy_setopt(request->transfer.easy, CURLOPT_URL, url);
	curl_easy_setopt(request->transfer.easy, CURLOPT_POSTFIELDS, request->body);
	curl_easy_setopt(request->transfer.easy, CURLOPT_POSTFIELDSIZE, (long)strlen(request->body));
	curl_easy_setopt(request->transfer.easy, CURLOPT_HTTPHEADER, request->headers);
	if (client->cacert)
		curl_easy_setopt(request->transfer.easy, CURLOPT_CAINFO, client->cacert);
	if (client->cert)
		curl_easy_setopt(request->transfer.easy, CURLOPT_SSLCERT, client->cert);
	if (client->key)
		curl_easy_setopt(request->transfer.easy, CURLOPT_SSLKEY, client->key);
	json_decref(body);
	*out = request;
	return 0;
nomem:
	json_decref(body);
	if (request && request->transfer.easy == easy)
		request->transfer.easy = NULL;	/* the caller's */
	request_free(request);
	return ctx_fail(client->ctx, -ENOMEM, "etcd: out of memory");
}

/* The outcome of a finished request: reply or -errno. */
static int request_result(struct etcd_request *request, CURLcode code,
			  json_t **reply)
{
	struct etcd_client *client = request->client;
	long status = 0;

	*reply = NULL;
	if (code != CURLE_OK) {
		char trust[300];

		snprintf(trust, sizeof(trust), "cacert %s",
			 client->cacert ? client->cacert : "system CAs");
		return http_transfer_error(client->ctx, &request->transfer, request->what,
					   code, trust);
	}
	curl_easy_getinfo(request->transfer.easy, CURLINFO_RESPONSE_CODE, &status);
	if (request->transfer.line && status == 200)
		return ctx_fail(client->ctx, -ECONNRESET, "%s: stream ended",
				request->what);
	return etcd_reply_parse(client->ctx, request->what, status,
				request->transfer.data ? request->transfer.data : "",
				request->transfer.used, reply);
}

/* One blocking exchange with the current endpoint on the kept handle, so
 * the TCP (and TLS) connection is reused. */
static int exchange(struct etcd_client *client, const char *path,
		    const json_t *body, int use_token, json_t **reply)
{
	struct etcd_request *request;
	CURLcode code;
	int err;

	err = request_new(client, path, json_incref((json_t *)body), use_token,
			  client->easy, &request);
	if (err < 0)
		return err;
	client->easy = NULL;
	curl_easy_setopt(request->transfer.easy, CURLOPT_TIMEOUT_MS, client->timeout_ms);
	code = curl_easy_perform(request->transfer.easy);
	err = request_result(request, code, reply);
	client->easy = request->transfer.easy;
	request->transfer.easy = NULL;
	request_free(request);
	return err;
}

/* exchange(), moving on to the next endpoint after a connection error. */
static int exchange_any(struct etcd_client *client, const char *path,
			const json_t *body, int use_token, json_t **reply)
{
	size_t tries;
	int err = 0;

	for (tries = 0; tries < client->endpoint_count; tries++) {
		err = exchange(client, path, body, use_token, reply);
		if (!etcd_is_connection_error(err))
			break;
		ctx_log(client->ctx, OVL_LOG_WARNING, "%s", ovl_ctx_error(client->ctx));
		client->current = (client->current + 1) % client->endpoint_count;
	}
	return err;
}

json_t *etcd_authenticate_request(const struct etcd_client *client)
{
	return json_pack("{s:s, s:s}", "name", client->username, "password", client->password);
}

int etcd_token_take(struct etcd_client *client, const json_t *reply)
{
	const json_t *token = json_object_get(reply, "token");

	free(client->token);
	client->token = json_is_string(token) ? strdup(json_string_value(token)) : NULL;
	if (!client->token)
		return ctx_fail(client->ctx, json_is_string(token) ? -ENOMEM : -EPROTO,
				"etcd: authenticate as %s: %s", client->username,
				json_is_string(token) ? "out of memory" : "reply has no token");
	return 0;
}

static int authenticate(struct etcd_client *client)
{
	json_t *body, *reply;
	int err;

	body = etcd_authenticate_request(client);
	if (!body)
		return ctx_fail(client->ctx, -ENOMEM, "etcd: out of memory");
	err = exchange_any(client, "/v3/auth/authenticate", body, 0, &reply);
	json_decref(body);
	if (err < 0)
		return ctx_fail_prefix(client->ctx, err, "authenticating as %s: ",
				       client->username);
	err = etcd_token_take(client, reply);
	json_decref(reply);
	return err;
}

int etcd_call(struct etcd_client *client, const char *path, json_t *request,
	      json_t **reply)
{
	int err;

	*reply = NULL;
	if (!request)
		return ctx_fail(client->ctx, -ENOMEM, "etcd: out of memory");
	err = exchange_any(client, path, request, 1, reply);
	if (err == -EACCES && client->username) {
		/* Tokens expire: one fresh one, then a refusal stands. */
		err = authenticate(client);
		if (!err)
			err = exchange_any(client, path, request, 1, reply);
	}
	json_decref(request);
	return err;
}

static void request_finished(struct http_transfer *transfer, CURLcode result);

int etcd_request_start(struct etcd_client *client, struct http_loop *loop,
		       const char *path, json_t *body, long timeout_ms, http_line_fn line,
		       etcd_done_fn done, void *arg, struct etcd_request **out)
{
	struct etcd_request *request;
	int err;

	err = request_new(client, path, body, 1, NULL, &request);
	if (err < 0)
		return err;
	request->transfer.line = line;
	request->transfer.line_arg = arg;
	request->done = done;
	request->arg = arg;
	if (line) {
		/* Streams run for ever: no total timeout; keepalive probes and
		 * the leader requirement notice a dead peer or a lost leader. */
		struct curl_slist *more = curl_slist_append(request->headers,
							    "Grpc-Metadata-hasleader: true");
		if (!more) {
			request_free(request);
			return ctx_fail(client->ctx, -ENOMEM, "etcd: out of memory");
		}
		request->headers = more;
		curl_easy_setopt(request->transfer.easy, CURLOPT_HTTPHEADER, request->headers);
		curl_easy_setopt(request->transfer.easy, CURLOPT_TCP_KEEPIDLE, 10L);
		curl_easy_setopt(request->transfer.easy, CURLOPT_TCP_KEEPINTVL, 5L);
	} else {
		curl_easy_setopt(request->transfer.easy, CURLOPT_TIMEOUT_MS,
				 timeout_ms > 0 ? timeout_ms : client->timeout_ms);
	}
	request->transfer.finish = request_finished;
	err = http_loop_start(loop, &request->transfer);
	if (err < 0) {
		request_free(request);
		return err;
	}
	if (out)
		*out = request;
	return 0;
}

/* The loop is done with the request: its done function runs, then it goes. */
static void request_finished(struct http_transfer *transfer, CURLcode result)
{
	struct etcd_request *request = (struct etcd_request *)transfer;
	struct etcd_client *client = request->client;
	json_t *reply;
	int err;

	err = request_result(request, result, &reply);
	/* The next request goes to another endpoint. */
	if (etcd_is_connection_error(err) && request->endpoint == client->current)
		client->current = (client->current + 1) % client->endpoint_count;
	if (err == -EACCES && client->token) {
		free(client->token);
		client->token = NULL;
	}
	request->done(request->arg, err, reply);
	json_decref(reply);
	request_free(request);
}

void etcd_request_cancel(struct http_loop *loop, struct etcd_request *request)
{
	if (!request)
		return;
	http_loop_stop(loop, &request->transfer);
	request_free(request);
}

int etcd_client_open(struct ovl_ctx *ctx, const char *uri,
		     struct etcd_client **out)
{
	struct etcd_client *client;
	int err;

	*out = NULL;
	client = calloc(1, sizeof(*client));
	if (!client)
		return ctx_fail(ctx, -ENOMEM, "etcd: out of memory");
	client->ctx = ctx;
	client->timeout_ms = DEFAULT_TIMEOUT_MS;
	client->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	err = parse_uri(client, uri);
	if (!err && client->username)
		err = authenticate(client);
	if (err < 0) {
		etcd_client_close(client);
		return err;
	}
	*out = client;
	return 0;
}

void etcd_client_close(struct etcd_client *client)
{
	size_t i;

	if (!client)
		return;
	for (i = 0; i < client->endpoint_count; i++)
		free(client->endpoints[i]);
	free(client->endpoints);
	free(client->prefix);
	free(client->cacert);
	free(client->cert);
	free(client->key);
	free(client->username);
	if (client->password)
		memset(client->password, 0, strlen(client->password));
	free(client->password);
	free(client->token);
	if (client->easy)
		curl_easy_cleanup(client->easy);
	free(client);
}
