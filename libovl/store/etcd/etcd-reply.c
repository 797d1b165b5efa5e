/*
 * etcd-reply.c - defensive parsing of etcd 3.4 gateway replies: HTTP status
 * and error bodies to -errno, int64 fields sent as strings, base64 bytes,
 * omitted zero values, KeyValues to lease records, watch stream lines.
 * Pure: no I/O, so canned replies test all of it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "store/etcd/etcd.h"

/* gRPC status codes that decide the errno where HTTP status is ambiguous. */
enum { GRPC_NOT_FOUND = 5, GRPC_OUT_OF_RANGE = 11 };

static int status_errno(long status, int64_t code, int is_json)
{
	switch (status) {
	case 400:
		return code == GRPC_OUT_OF_RANGE ? -ERANGE : -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		/* Not JSON: no gateway on this path (etcd older than 3.4). */
		return is_json && code == GRPC_NOT_FOUND ? -ENOENT : -EPROTO;
	case 409:
	case 412:
		return -EEXIST;
	case 413:
		return -EMSGSIZE;
	case 429:
		return -EBUSY;
	case 500:
		return -EIO;
	case 503:
		return -EAGAIN;
	case 504:
		return -ETIMEDOUT;
	default:
		return -EPROTO;
	}
}

/* A short printable excerpt of a body that is not JSON. */
static void excerpt(const char *body, size_t size, char *out, size_t out_size)
{
	size_t i, n = 0;

	for (i = 0; i < size && n + 1 < out_size && n < 120; i++)
		out[n++] = isprint((unsigned char)body[i]) ? body[i] : ' ';
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

int etcd_reply_parse(struct ovl_ctx *ctx, const char *what, long status,
		     const char *body, size_t size, json_t **reply)
{
	json_error_t error;
	json_t *root;
	const json_t *message;
	int64_t code = 0;
	char text[128];
	int err;

	*reply = NULL;
	if (ovl_json_parse(body, size, JSON_REJECT_DUPLICATES, &root, &error) == -ENOMEM)
		return -ENOMEM;
	if (root && !json_is_object(root)) {
		json_decref(root);
		root = NULL;
		snprintf(error.text, sizeof(error.text), "not a JSON object");
	}
	if (status >= 200 && status < 300) {
		if (!root)
			return ctx_fail(ctx, -EPROTO, "%s: malformed reply: %s",
					what, error.text);
		message = json_object_get(root, "error");
		if (json_is_string(message) && json_string_length(message)) {
			err = ctx_fail(ctx, -EIO, "%s: %s", what,
				       json_string_value(message));
			json_decref(root);
			return err;
		}
		*reply = root;
		return 0;
	}
	if (root) {
		message = json_object_get(root, "message");
		if (!json_is_string(message))
			message = json_object_get(root, "error");
		if (etcd_int64(root, "code", &code) < 0)
			code = 0;
		snprintf(text, sizeof(text), "%s", json_is_string(message) ?
			 json_string_value(message) : "(no message)");
	} else {
		excerpt(body, size, text, sizeof(text));
	}
	err = status_errno(status, code, root != NULL);
	json_decref(root);
	if (status == 404 && err == -EPROTO)
		return ctx_fail(ctx, err, "%s: HTTP 404 (%s): no etcd v3 JSON gateway "
				"here (etcd 3.4 or newer is required)", what, text);
	return ctx_fail(ctx, err, "%s: HTTP %ld: %s", what, status, text);
}

int etcd_int64(const json_t *object, const char *name, int64_t *value)
{
	const json_t *field = json_object_get(object, name);
	const char *text;
	char *end;
	long long parsed;

	*value = 0;
	if (!field || json_is_null(field))
		return 0;
	if (json_is_integer(field)) {
		*value = json_integer_value(field);
		return 0;
	}
	if (!json_is_string(field))
		return -EPROTO;
	text = json_string_value(field);
	errno = 0;
	parsed = strtoll(text, &end, 10);
	if (errno || end == text || *end || isspace((unsigned char)*text))
		return -EPROTO;
	*value = parsed;
	return 0;
}

int etcd_bytes(const json_t *object, const char *name, char **data,
	       size_t *size)
{
	const json_t *field = json_object_get(object, name);
	int err;

	*data = NULL;
	if (!field || json_is_null(field)) {
		*data = strdup("");
		*size = 0;
		return *data ? 0 : -ENOMEM;
	}
	if (!json_is_string(field))
		return -EPROTO;
	err = base64_decode(json_string_value(field), json_string_length(field),
			    data, size);
	return err == -EINVAL ? -EPROTO : err;
}

int etcd_revision(const json_t *reply, int64_t *revision)
{
	const json_t *header = json_object_get(reply, "header");

	if (!json_is_object(header) || etcd_int64(header, "revision", revision) < 0 ||
	    *revision <= 0)
		return -EPROTO;
	return 0;
}

int etcd_txn_succeeded(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "succeeded"));
}

json_t *etcd_b64(const char *text)
{
	char *encoded = base64_encode(text, strlen(text));
	json_t *string;

	if (!encoded)
		return NULL;
	string = json_string(encoded);
	free(encoded);
	return string;
}

char *etcd_prefix_end(const char *prefix)
{
	size_t length = strlen(prefix);
	char *end = strdup(prefix);

	/* Every prefix we use ends in '/', never in 0xff, so no carry. */
	if (end && length)
		end[length - 1]++;
	return end;
}

int etcd_kv_lease(struct ovl_ctx *ctx, const json_t *kv, const char *subnets,
		  struct ovl_lease **lease)
{
	size_t prefix_length = strlen(subnets), size;
	char *key = NULL, *value = NULL;
	int64_t mod_revision, lease_id;
	struct ovl_lease *record;
	int err;

	*lease = NULL;
	if (!json_is_object(kv))
		return ctx_fail(ctx, -EPROTO, "etcd: a KeyValue is not an object");
	err = etcd_bytes(kv, "key", &key, &size);
	if (err < 0) {
		err = ctx_fail(ctx, err, "etcd: a KeyValue has a malformed key");
		goto out;
	}
	if (size <= prefix_length || strncmp(key, subnets, prefix_length) ||
	    memchr(key, '\0', size)) {
		err = -ENOENT;
		goto out;
	}
	if (etcd_int64(kv, "mod_revision", &mod_revision) < 0 ||
	    etcd_int64(kv, "lease", &lease_id) < 0) {
		err = ctx_fail(ctx, -EPROTO, "etcd: %s: malformed mod_revision or lease",
			       key);
		goto out;
	}
	err = etcd_bytes(kv, "value", &value, &size);
	if (err < 0) {
		err = ctx_fail(ctx, err, "etcd: %s: malformed value", key);
		goto out;
	}
	/* Its messages name the key and the field. */
	err = lease_from_json(ctx, key + prefix_length, value, &record);
	if (err < 0)
		goto out;
	/* The etcd lease decides, not a value's own "Expiration". */
	record->expiration = 0;
	record->revision = (uint64_t)mod_revision;
	record->store_id = (uint64_t)lease_id;
	*lease = record;
out:
	free(key);
	free(value);
	return err;
}

int etcd_listing_parse(struct ovl_ctx *ctx, const json_t *reply,
		       const char *subnets, struct ovl_lease ***leases,
		       size_t *count, int64_t *revision)
{
	int err;

	*leases = NULL;
	*count = 0;
	err = etcd_listing_append(ctx, reply, subnets, leases, count, revision);
	if (err < 0) {
		free(*leases);	/* empty: a failed append keeps no record */
		*leases = NULL;
	}
	return err;
}

int etcd_listing_append(struct ovl_ctx *ctx, const json_t *reply,
			const char *subnets, struct ovl_lease ***leases,
			size_t *count, int64_t *revision)
{
	const json_t *kvs = json_object_get(reply, "kvs"), *kv;
	struct ovl_lease **records = *leases;
	size_t i, n = *count, first = *count;
	int err;

	if (etcd_revision(reply, revision) < 0)
		return ctx_fail(ctx, -EPROTO, "etcd: range reply without a revision");
	if (kvs && !json_is_array(kvs))
		return ctx_fail(ctx, -EPROTO, "etcd: range reply: kvs is not an array");
	if (json_array_size(kvs)) {
		records = realloc(records, (n + json_array_size(kvs)) * sizeof(*records));
		if (!records)
			return ctx_fail(ctx, -ENOMEM, "etcd: out of memory");
		*leases = records;
	}
	json_array_foreach(kvs, i, kv) {
		err = etcd_kv_lease(ctx, kv, subnets, &records[n]);
		if (err == -ENOMEM || err == -EPROTO) {
			while (n > first)
				ovl_lease_free(records[--n]);
			return err;
		}
		/* Someone else's junk under the prefix must not hide the rest. */
		if (err == -EINVAL)
			ctx_log(ctx, OVL_LOG_WARNING, "etcd: skipping %s", ovl_ctx_error(ctx));
		if (!err)
			n++;
	}
	*count = n;
	return 0;
}

int etcd_ttl_parse(const json_t *reply, int64_t *ttl)
{
	if (etcd_int64(reply, "TTL", ttl) < 0)
		return -EPROTO;
	/* -1 (timetolive) or omitted 0 (keepalive): the lease is gone. */
	return *ttl > 0 ? 0 : -ENOENT;
}

int etcd_watch_line_parse(struct ovl_ctx *ctx, const json_t *line,
			  struct etcd_watch_line *out)
{
	const json_t *result = json_object_get(line, "result");
	const json_t *error = json_object_get(line, "error");
	const json_t *header, *message;

	memset(out, 0, sizeof(*out));
	if (json_is_object(error)) {
		message = json_object_get(error, "message");
		return ctx_fail(ctx, -ECONNABORTED, "etcd watch: stream error: %s",
				json_is_string(message) ? json_string_value(message) :
				"(no message)");
	}
	if (!json_is_object(result))
		return ctx_fail(ctx, -EPROTO, "etcd watch: a line has no result");
	header = json_object_get(result, "header");
	if ((header && etcd_int64(header, "revision", &out->revision) < 0) ||
	    etcd_int64(result, "compact_revision", &out->compact_revision) < 0)
		return ctx_fail(ctx, -EPROTO, "etcd watch: malformed revision");
	out->events = json_object_get(result, "events");
	if (out->events && !json_is_array(out->events))
		return ctx_fail(ctx, -EPROTO, "etcd watch: events is not an array");
	if (json_is_true(json_object_get(result, "canceled")))
		out->kind = ETCD_LINE_CANCELED;
	else if (json_is_true(json_object_get(result, "created")))
		out->kind = ETCD_LINE_CREATED;
	else
		out->kind = ETCD_LINE_EVENTS;
	return 0;
}

int etcd_event_parse(struct ovl_ctx *ctx, const json_t *event, int *deleted,
		     const json_t **kv, const json_t **prev_kv)
{
	const json_t *type;

	if (!json_is_object(event))
		return ctx_fail(ctx, -EPROTO, "etcd watch: an event is not an object");
	type = json_object_get(event, "type");
	/* PUT is 0 and omitted; numbers are legal for enums too. */
	if (!type || json_is_null(type) || (json_is_string(type) &&
					   !strcmp(json_string_value(type), "PUT")) ||
	    (json_is_integer(type) && json_integer_value(type) == 0))
		*deleted = 0;
	else if ((json_is_string(type) && !strcmp(json_string_value(type), "DELETE")) ||
		 (json_is_integer(type) && json_integer_value(type) == 1))
		*deleted = 1;
	else
		return ctx_fail(ctx, -EPROTO, "etcd watch: unknown event type");
	*kv = json_object_get(event, "kv");
	*prev_kv = json_object_get(event, "prev_kv");
	if (!json_is_object(*kv))
		return ctx_fail(ctx, -EPROTO, "etcd watch: an event has no kv");
	if (!json_is_object(*prev_kv))
		*prev_kv = NULL;
	return 0;
}
