/*
 * kube-client.c - HTTP to the Kubernetes API server with libcurl: TLS as
 * the kubeconfig says (verification on unless it is turned off there), the
 * bearer token or client certificate, requests on a caller's http_loop
 * (unary, or a watch stream cut into lines) and blocking ones.  Every
 * failure becomes a specific -errno whose message carries the API's own
 * reason (a 403 names the permission that is missing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/kube/kube.h"

struct kube_request {
	struct http_transfer transfer;	/* first: the loop hands it back */
	struct kube_client *client;
	struct http_loop *loop;
	struct curl_slist *headers;
	char *body;
	char what[400];			/* "kube GET https://h/api/v1/nodes" */
	kube_done_fn done;
	void *arg;
};

static void request_free(struct kube_request *request)
{
	if (!request)
		return;
	http_transfer_release(&request->transfer);
	curl_slist_free_all(request->headers);
	free(request->body);
	free(request);
}

static int add_header(struct kube_request *request, const char *header)
{
	struct curl_slist *more = curl_slist_append(request->headers, header);

	if (!more)
		return -ENOMEM;
	request->headers = more;
	return 0;
}

static void set_blob(CURL *easy, CURLoption option, char *data, size_t size)
{
	struct curl_blob blob = { data, size, CURL_BLOB_COPY };

	curl_easy_setopt(easy, option, &blob);
}

/* Sets up easy (reset when reused) for one request. */
static int request_new(struct kube_client *client, const char *method, const char *path,
		       const char *body, CURL *easy, struct kube_request **out)
{
	struct kube_request *request;
	char url[2048], header[4200];
	int err;

	*out = NULL;
	err = kube_token_refresh(client);
	if (err < 0)
		return err;
	request = calloc(1, sizeof(*request));
	if (!request)
		goto nomem;
	request->client = client;
	if (easy)
		curl_easy_reset(easy);
	request->transfer.easy = easy ? easy : curl_easy_init();
	if (!request->transfer.easy || (body && !(request->body = strdup(body))))
		goto nomem;
	easy = request->transfer.easy;
	snprintf(url, sizeof(url), "%s%s", client->server, path);
	snprintf(request->what, sizeof(request->what), "kube %.8s %.360s", method, url);
	if (add_header(request, "Accept: application/json") < 0 ||
	    (body && add_header(request, "Content-Type: application/strategic-merge-patch+json") < 0))
		goto nomem;
	if (client->token) {
		snprintf(header, sizeof(header), "Authorization: Bearer %s", client->token);
		if (add_header(request, header) < 0)
			goto nomem;
	}
	http_transfer_setup(&request->transfer, KUBE_REPLY_MAX, client->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	if (request->body) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(request->body));
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->headers);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	if (client->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (client->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, client->ca_file);
	if (client->ca_data)
		set_blob(easy, CURLOPT_CAINFO_BLOB, client->ca_data, client->ca_size);
	if (client->cert_file)
		curl_easy_setopt(easy, CURLOPT_SSLCERT, client->cert_file);
	if (client->cert_data)
		set_blob(easy, CURLOPT_SSLCERT_BLOB, client->cert_data, client->cert_size);
	if (client->key_file)
		curl_easy_setopt(easy, CURLOPT_SSLKEY, client->key_file);
	if (client->key_data)
		set_blob(easy, CURLOPT_SSLKEY_BLOB, client->key_data, client->key_size);
	*out = request;
	return 0;
nomem:
	if (request && request->transfer.easy == easy)
		request->transfer.easy = NULL;	/* the caller's */
	request_free(request);
	return ctx_fail(client->ctx, -ENOMEM, "kube: out of memory");
}

/* The API's reason for a refusal: its Status object's message. */
static int status_error(struct kube_client *client, const char *what, long status,
			const char *body, size_t size)
{
	json_t *root = NULL;
	json_error_t error;
	const char *message = NULL;
	int err;

	if (ovl_json_parse(body, size, 0, &root, &error) == 0)
		message = json_string_value(json_object_get(root, "message"));
	switch (status) {
	case 401: err = -EACCES; break;
	case 403: err = -EPERM; break;
	case 404: err = -ENOENT; break;
	case 409: err = -EBUSY; break;
	case 410: err = -ESTALE; break;
	case 422: case 400: err = -EINVAL; break;
	case 429: case 500: case 502: case 503: case 504: err = -EAGAIN; break;
	default: err = -EPROTO; break;
	}
	if (status == 401)
		err = ctx_fail(client->ctx, err, "%s: 401 Unauthorized: %s did not authenticate "
			       "us (token or client certificate refused)", what, client->source);
	else
		err = ctx_fail(client->ctx, err, "%s: HTTP %ld: %s", what, status,
			       message ? message : size ? "(no Status message)" : "empty reply");
	json_decref(root);
	return err;
}

/* The outcome of a finished request: reply or -errno. */
static int request_result(struct kube_request *request, CURLcode code, json_t **reply)
{
	struct kube_client *client = request->client;
	json_error_t error;
	long status = 0;
	int err;

	*reply = NULL;
	if (code != CURLE_OK)
		return http_transfer_error(client->ctx, &request->transfer, request->what, code,
					   client->ca_file ? client->ca_file :
					   client->ca_data ? "the kubeconfig's certificate-authority-data" :
					   "system CAs");
	curl_easy_getinfo(request->transfer.easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return status_error(client, request->what, status,
				    request->transfer.data ? request->transfer.data : "",
				    request->transfer.used);
	if (request->transfer.line)
		return ctx_fail(client->ctx, -ECONNRESET, "%s: stream ended", request->what);
	err = ovl_json_parse(request->transfer.data ? request->transfer.data : "",
			     request->transfer.used, 0, reply, &error);
	if (err == -ENOMEM)
		return ctx_fail(client->ctx, err, "kube: out of memory");
	if (err < 0 || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		return ctx_fail(client->ctx, -EPROTO, "%s: reply is not a JSON object%s%s",
				request->what, err < 0 ? ": " : "", err < 0 ? error.text : "");
	}
	return 0;
}

static void request_finish(struct http_transfer *transfer, CURLcode code)
{
	struct kube_request *request = (struct kube_request *)transfer;
	json_t *reply;
	int err = request_result(request, code, &reply);

	request->done(request->arg, err, reply);
	json_decref(reply);
	request_free(request);
}

int kube_request_start(struct kube_client *client, struct http_loop *loop,
		       const char *method, const char *path, const char *body,
		       http_line_fn line, long timeout_ms, kube_done_fn done, void *arg,
		       struct kube_request **out)
{
	struct kube_request *request;
	int err;

	err = request_new(client, method, path, body, NULL, &request);
	if (err < 0)
		return err;
	request->transfer.finish = request_finish;
	request->loop = loop;
	request->transfer.line = line;
	request->transfer.line_arg = arg;
	request->done = done;
	request->arg = arg;
	curl_easy_setopt(request->transfer.easy, CURLOPT_TIMEOUT_MS,
			 timeout_ms ? timeout_ms : client->timeout_ms);
	err = http_loop_start(loop, &request->transfer);
	if (err < 0) {
		request_free(request);
		return err;
	}
	if (out)
		*out = request;
	return 0;
}

void kube_request_cancel(struct http_loop *loop, struct kube_request *request)
{
	if (!request)
		return;
	http_loop_stop(loop, &request->transfer);
	request_free(request);
}

int kube_call(struct kube_client *client, const char *method, const char *path,
	      const char *body, json_t **reply)
{
	struct kube_request *request;
	CURLcode code;
	int err;

	*reply = NULL;
	err = request_new(client, method, path, body, client->easy, &request);
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

void kube_client_cleanup(struct kube_client *client)
{
	free(client->server);
	free(client->source);
	free(client->ca_file);
	free(client->ca_data);
	free(client->cert_file);
	free(client->cert_data);
	free(client->key_file);
	if (client->key_data)
		memset(client->key_data, 0, client->key_size);
	free(client->key_data);
	if (client->token)
		memset(client->token, 0, strlen(client->token));
	free(client->token);
	free(client->token_file);
	if (client->easy)
		curl_easy_cleanup(client->easy);
}
