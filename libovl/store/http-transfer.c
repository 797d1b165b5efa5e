/*
 * http-transfer.c - what every HTTP request of a store shares, whoever
 * sends it (etcd's gateway, the Kubernetes API): gathering the reply, or
 * cutting a streamed one into lines, the curl options that keep a host
 * safe, the one mapping of libcurl failures to errno values, and the %XX
 * decoding of their store URIs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store/http-loop.h"

static size_t on_data(char *chunk, size_t size, size_t count, void *userdata)
{
	struct http_transfer *transfer = userdata;
	size_t bytes = size * count, start = 0, i;
	long status = 0;

	if (bytes > transfer->limit - transfer->used)
		return 0;
	if (transfer->used + bytes + 1 > transfer->allocated) {
		size_t want = (transfer->used + bytes + 1) * 2;
		char *grown = realloc(transfer->data, want);

		if (!grown)
			return 0;
		transfer->data = grown;
		transfer->allocated = want;
	}
	memcpy(transfer->data + transfer->used, chunk, bytes);
	transfer->used += bytes;
	transfer->data[transfer->used] = '\0';
	curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!transfer->line || status != 200)
		return bytes;
	/* A chunk may end inside a line or hold several. */
	for (i = 0; i < transfer->used; i++) {
		if (transfer->data[i] != '\n')
			continue;
		if (i > start) {
			int err = transfer->line(transfer->line_arg, transfer->data + start,
						 i - start);
			if (err < 0) {
				transfer->line_error = err;
				return 0;
			}
		}
		start = i + 1;
	}
	memmove(transfer->data, transfer->data + start, transfer->used - start);
	transfer->used -= start;
	return bytes;
}

void http_transfer_setup(struct http_transfer *transfer, size_t limit, long connect_timeout_ms)
{
	CURL *easy = transfer->easy;

	transfer->limit = limit;
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
	/* No signal may reach the host, neither SIGALRM for resolver timeouts
	 * nor SIGPIPE when a server closes a connection (libcurl then sends
	 * with MSG_NOSIGNAL).  libovl has no stream socket of its own; UDP and
	 * netlink sockets raise no SIGPIPE. */
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
}

void http_transfer_release(struct http_transfer *transfer)
{
	if (transfer->easy)
		curl_easy_cleanup(transfer->easy);
	transfer->easy = NULL;
	free(transfer->data);
	transfer->data = NULL;
	transfer->used = transfer->allocated = 0;
}

int http_transfer_error(struct ovl_ctx *ctx, const struct http_transfer *transfer,
			const char *what, CURLcode code, const char *trust)
{
	const char *why = *transfer->error ? transfer->error : curl_easy_strerror(code);

	switch (code) {
	case CURLE_OK:
		return 0;
	case CURLE_WRITE_ERROR:
		if (transfer->line_error)
			return transfer->line_error;
		return ctx_fail(ctx, -EMSGSIZE, "%s: reply larger than %zu bytes", what,
				transfer->limit);
	case CURLE_COULDNT_CONNECT:
		return ctx_fail(ctx, -ECONNREFUSED, "%s: cannot connect: %s", what, why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return ctx_fail(ctx, -EHOSTUNREACH, "%s: %s", what, why);
	case CURLE_OPERATION_TIMEDOUT:
		return ctx_fail(ctx, -ETIMEDOUT, "%s: timed out: %s", what, why);
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return ctx_fail(ctx, -ECONNRESET, "%s: connection lost: %s", what, why);
	case CURLE_PEER_FAILED_VERIFICATION:
		return ctx_fail(ctx, -EKEYREJECTED, "%s: TLS: server certificate not "
				"trusted (%s): %s", what, trust, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return ctx_fail(ctx, -EKEYREJECTED, "%s: TLS handshake failed: %s", what, why);
	case CURLE_OUT_OF_MEMORY:
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", what);
	default:
		return ctx_fail(ctx, -EIO, "%s: %s", what, why);
	}
}

char *http_uri_unescape(const char *text, size_t length)
{
	char *out = malloc(length + 1), *p = out, hex[3] = { 0 };
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < length; i++) {
		if (text[i] != '%') {
			*p++ = text[i];
			continue;
		}
		if (i + 2 >= length || !isxdigit((unsigned char)text[i + 1]) ||
		    !isxdigit((unsigned char)text[i + 2]))
			goto bad;
		memcpy(hex, text + i + 1, 2);
		*p = (char)strtoul(hex, NULL, 16);
		if (!*p++)
			goto bad;
		i += 2;
	}
	*p = '\0';
	return out;
bad:
	free(out);
	return NULL;
}
