/*
 * json-scan.h - a strict one-pass JSON scanner that builds no tree
 * (json-scan.c): the caller walks objects member by member and keeps what
 * it wants as spans of the text.
 */
#ifndef OVL_JSON_SCAN_H
#define OVL_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "core/internal.h"

struct json_scan {
	const char *start, *at, *end;
	int depth;
	size_t spaces;			/* whitespace bytes skipped so far */
	const char *reason;		/* why the text is refused */
	const char *reason_at;
};

enum json_kind {
	VALUE_STRING, VALUE_NUMBER, VALUE_OBJECT, VALUE_ARRAY,
	VALUE_TRUE, VALUE_FALSE, VALUE_NULL,
};

struct json_value {
	enum json_kind type;
	const char *start, *end;	/* as written, quotes included */
	int escaped;			/* a string with backslashes */
	int is_integer;
	int64_t integer;
	int spaced;			/* whitespace inside: compact before keeping */
};

/* An object key: the text between the quotes, and decoded when escaped
 * (not NUL-terminated: it may point into the document). */
struct json_key {
	const char *raw;
	size_t raw_length;
	const char *text;
	size_t length;
	char *owned;
};

typedef int json_member_reader(struct json_scan *scan, void *arg, const struct json_key *key);

void json_scan_init(struct json_scan *scan, const char *text, size_t length);
/* The text as one object (whitespace around it allowed): read_member is
 * called on each member with scan->at on its value, which it must consume
 * (json_scan_value, json_scan_object or its own).  0, -ENOMEM, or -EBADMSG
 * with the reason kept in scan for json_scan_report. */
int json_scan_document(struct json_scan *scan, json_member_reader *read_member, void *arg);
int json_scan_object(struct json_scan *scan, json_member_reader *read_member, void *arg);
int json_scan_value(struct json_scan *scan, struct json_value *value);
/* Refuses the text for reason at at (the first reason is kept); -EBADMSG. */
int json_refuse(struct json_scan *scan, const char *at, const char *reason);
/* ctx_fail with "line L column C: reason"; -EBADMSG. */
int json_scan_report(struct ovl_ctx *ctx, const struct json_scan *scan);

/* 1 when the key is name. */
int json_key_is(const struct json_key *key, const char *name);
/* The key as a C string in buf; 0 when it does not fit. */
int json_key_copy(const struct json_key *key, char *buf, size_t size);
/* New NUL-terminated copies: a string value decoded, any value without
 * the whitespace outside its strings (one line); NULL when out of memory. */
char *json_decode_string(const struct json_value *value, size_t *length);
char *json_compact(const struct json_value *value, size_t *length);
/* "a string", "an integer", ... as ovl_json_type_text (json.c) says it. */
const char *json_value_type(const struct json_value *value);

#endif
