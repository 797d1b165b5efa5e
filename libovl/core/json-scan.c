/*
 * json-scan.c - a strict one-pass JSON scanner that builds no tree.  It
 * checks a text as strictly as jansson's parser with JSON_REJECT_DUPLICATES
 * (RFC 8259 grammar, UTF-8 without overlong forms or surrogates, escapes and
 * surrogate pairs, no \u0000, integers within 64 bits, reals that do not
 * overflow, depth 2048, no duplicate key in any object), and lets the caller
 * keep spans of the text instead of allocating a value per token: the file
 * store reads 10,000 leases with it in a few milliseconds, where building a
 * jansson tree took 70.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json-scan.h"

#define MAX_DEPTH 2048
/* objects with more keys than this find duplicates through a hash index */
#define LINEAR_KEYS 8

int json_key_is(const struct json_key *key, const char *name)
{
	return key->length == strlen(name) && !memcmp(key->text, name, key->length);
}

/* The key as a C string in buf; 0 when it does not fit.  (It holds no NUL:
 * scan_string refuses raw control characters and \u0000.) */
int json_key_copy(const struct json_key *key, char *buf, size_t size)
{
	if (key->length >= size)
		return 0;
	memcpy(buf, key->text, key->length);
	buf[key->length] = '\0';
	return 1;
}

int json_refuse(struct json_scan *scan, const char *at, const char *reason)
{
	if (!scan->reason) {
		scan->reason = reason;
		scan->reason_at = at;
	}
	return -EBADMSG;
}

static inline void json_skip_space(struct json_scan *scan)
{
	const char *at = scan->at;

	/* the file store writes none between tokens: test that first */
	if (at < scan->end && *at > ' ')
		return;
	while (at < scan->end && (*at == ' ' || *at == '\n' || *at == '\t' || *at == '\r'))
		at++;
	scan->spaces += (size_t)(at - scan->at);
	scan->at = at;
}

static int expect(struct json_scan *scan, char c, const char *reason)
{
	json_skip_space(scan);
	if (scan->at >= scan->end || *scan->at != c)
		return json_refuse(scan, scan->at, reason);
	scan->at++;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The 4 hex digits of a \u escape at at, or -1. */
static long read_hex4(const char *at, const char *end)
{
	long code = 0;
	int i, digit;

	if (end - at < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		digit = hex_value(at[i]);
		if (digit < 0)
			return -1;
		code = code << 4 | digit;
	}
	return code;
}

/* The length of the UTF-8 sequence at at (lead byte >= 0x80), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_length(const unsigned char *at, const unsigned char *end)
{
	unsigned char lead = at[0], low = 0x80, high = 0xbf;
	int length, i;

	if (lead >= 0xc2 && lead <= 0xdf)
		length = 2;
	else if (lead >= 0xe0 && lead <= 0xef)
		length = 3;
	else if (lead >= 0xf0 && lead <= 0xf4)
		length = 4;
	else
		return 0;
	if (end - at < length)
		return 0;
	if (lead == 0xe0)
		low = 0xa0;
	else if (lead == 0xed)
		high = 0x9f;
	else if (lead == 0xf0)
		low = 0x90;
	else if (lead == 0xf4)
		high = 0x8f;
	if (at[1] < low || at[1] > high)
		return 0;
	for (i = 2; i < length; i++)
		if (at[i] < 0x80 || at[i] > 0xbf)
			return 0;
	return length;
}

/* A \u escape at at (after the backslash and 'u'): its length in the
 * text, 0 when invalid (a lone surrogate, or U+0000, which jansson
 * refuses without JSON_ALLOW_NUL); *code the code point. */
static int unicode_escape(const char *at, const char *end, long *code)
{
	long high = read_hex4(at, end), low;

	if (high <= 0)
		return 0;
	if (high >= 0xdc00 && high <= 0xdfff)
		return 0;
	if (high < 0xd800 || high > 0xdbff) {
		*code = high;
		return 4;
	}
	if (end - at < 10 || at[4] != '\\' || at[5] != 'u')
		return 0;
	low = read_hex4(at + 6, end);
	if (low < 0xdc00 || low > 0xdfff)
		return 0;
	*code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
	return 10;
}

/* Bytes a string holds as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
	[' ' ... '!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1, [0x7f] = 1,
};

/* A string at scan->at (on its opening quote). */
static int scan_string(struct json_scan *scan, struct json_value *value)
{
	const unsigned char *at = (const unsigned char *)scan->at + 1;
	const unsigned char *end = (const unsigned char *)scan->end;
	long code;
	int length;

	value->type = VALUE_STRING;
	value->start = scan->at;
	value->escaped = 0;
	for (;;) {
		while (at < end && plain_byte[*at])
			at++;
		if (at >= end)
			return json_refuse(scan, scan->end, "premature end of input in a string");
		if (*at == '"')
			break;
		if (*at < 0x20)
			return json_refuse(scan, (const char *)at, "control character in a string");
		if (*at >= 0x80) {
			length = utf8_length(at, end);
			if (!length)
				return json_refuse(scan, (const char *)at, "invalid UTF-8 in a string");
			at += length;
			continue;
		}
		value->escaped = 1;
		if (end - at < 2)
			return json_refuse(scan, scan->end, "premature end of input in a string");
		if (at[1] == 'u') {
			length = unicode_escape((const char *)at + 2, (const char *)end, &code);
			if (!length)
				return json_refuse(scan, (const char *)at, "invalid \\u escape (a lone "
					      "surrogate, \\u0000 or not 4 hex digits)");
			at += 2 + length;
		} else if (strchr("\"\\/bfnrt", at[1]) && at[1]) {
			at += 2;
		} else {
			return json_refuse(scan, (const char *)at, "invalid escape in a string");
		}
	}
	scan->at = (const char *)at + 1;
	value->end = scan->at;
	return 0;
}

static char *put_utf8(char *out, long code)
{
	if (code < 0x80) {
		*out++ = (char)code;
	} else if (code < 0x800) {
		*out++ = (char)(0xc0 | code >> 6);
		*out++ = (char)(0x80 | (code & 0x3f));
	} else if (code < 0x10000) {
		*out++ = (char)(0xe0 | code >> 12);
		*out++ = (char)(0x80 | (code >> 6 & 0x3f));
		*out++ = (char)(0x80 | (code & 0x3f));
	} else {
		*out++ = (char)(0xf0 | code >> 18);
		*out++ = (char)(0x80 | (code >> 12 & 0x3f));
		*out++ = (char)(0x80 | (code >> 6 & 0x3f));
		*out++ = (char)(0x80 | (code & 0x3f));
	}
	return out;
}

/* The decoded text of a string scan_string accepted (escapes are valid). */
char *json_decode_string(const struct json_value *value, size_t *length)
{
	const char *at = value->start + 1, *end = value->end - 1;
	char *text = malloc((size_t)(end - at) + 1), *out = text;
	static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
	long code = 0;

	if (!text)
		return NULL;
	while (at < end) {
		if (*at != '\\') {
			*out++ = *at++;
		} else if (at[1] == 'u') {
			at += 2 + unicode_escape(at + 2, end, &code);
			out = put_utf8(out, code);
		} else {
			*out++ = meant[strchr(plain, at[1]) - plain];
			at += 2;
		}
	}
	*out = '\0';
	*length = (size_t)(out - text);
	return text;
}

static int digits(struct json_scan *scan)
{
	const char *from = scan->at;

	while (scan->at < scan->end && *scan->at >= '0' && *scan->at <= '9')
		scan->at++;
	return scan->at > from ? 0 : json_refuse(scan, scan->at, "invalid number");
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; integers must fit
 * 64 bits (jansson's json_int_t) and fractions a double. */
static int scan_number(struct json_scan *scan, struct json_value *value)
{
	const char *at;
	int negative = *scan->at == '-';
	uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	char *parsed_end;
	double real;

	value->type = VALUE_NUMBER;
	value->start = scan->at;
	scan->at += negative;
	if (scan->at < scan->end && *scan->at == '0')
		scan->at++;
	else if (digits(scan) < 0)
		return -EBADMSG;
	value->is_integer = 1;
	if (scan->at < scan->end && *scan->at == '.') {
		scan->at++;
		value->is_integer = 0;
		if (digits(scan) < 0)
			return -EBADMSG;
	}
	if (scan->at < scan->end && (*scan->at == 'e' || *scan->at == 'E')) {
		scan->at++;
		value->is_integer = 0;
		if (scan->at < scan->end && (*scan->at == '+' || *scan->at == '-'))
			scan->at++;
		if (digits(scan) < 0)
			return -EBADMSG;
	}
	value->end = scan->at;
	if (!value->is_integer) {
		/* the text is a valid strtod prefix ending where the number
		 * does; like jansson, only overflow is an error.  A number
		 * at the very end leaves the document unfinished anyway (and
		 * strtod would read past a mapped text). */
		if (value->end == scan->end)
			return 0;
		errno = 0;
		real = strtod(value->start, &parsed_end);
		return errno == ERANGE && (real == HUGE_VAL || real == -HUGE_VAL) &&
		       parsed_end == value->end ?
		       json_refuse(scan, value->start, "real number overflow") : 0;
	}
	for (at = value->start + negative; at < value->end; at++) {
		if (magnitude > (limit - (uint64_t)(*at - '0')) / 10)
			return json_refuse(scan, value->start, "too big integer");
		magnitude = magnitude * 10 + (uint64_t)(*at - '0');
	}
	value->integer = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
	return 0;
}

static int scan_word(struct json_scan *scan, struct json_value *value, const char *word,
		     enum json_kind type)
{
	size_t length = strlen(word);

	if ((size_t)(scan->end - scan->at) < length || memcmp(scan->at, word, length))
		return json_refuse(scan, scan->at, "invalid token");
	value->type = type;
	value->start = scan->at;
	scan->at += length;
	value->end = scan->at;
	return 0;
}

/* ---- duplicate keys ----------------------------------------------------- */

/* A decoded key as the set keeps it: 16 bytes, as the "leases" object of
 * a large store holds tens of thousands. */
struct key_entry {
	const char *text;
	uint32_t length;
	uint32_t hash;			/* compared first: the text is far away */
	int owned;			/* text is a decoded copy to free */
};

struct key_set {
	struct key_entry *keys;		/* inline first: most objects are small */
	size_t count, cap;
	uint32_t *index;		/* slot -> key number + 1; 0: empty */
	size_t slots;
	struct key_entry inline_keys[LINEAR_KEYS];
};

static uint32_t key_hash(const struct key_entry *key)
{
	uint32_t hash = 2166136261u;
	size_t i;

	for (i = 0; i < key->length; i++)
		hash = (hash ^ (unsigned char)key->text[i]) * 16777619u;
	return hash;
}

static int same_key(const struct key_entry *a, const struct key_entry *b)
{
	return a->hash == b->hash && a->length == b->length &&
	       !memcmp(a->text, b->text, a->length);
}

static void set_init(struct key_set *set)
{
	set->keys = set->inline_keys;
	set->count = set->slots = 0;
	set->cap = LINEAR_KEYS;
	set->index = NULL;
}

static void set_free(struct key_set *set)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (set->keys[i].owned)
			free((char *)set->keys[i].text);
	if (set->keys != set->inline_keys)
		free(set->keys);
	free(set->index);
}

static int index_key(struct key_set *set, size_t number)
{
	size_t slot = set->keys[number].hash & (set->slots - 1);

	while (set->index[slot]) {
		if (same_key(&set->keys[set->index[slot] - 1], &set->keys[number]))
			return 1;
		slot = (slot + 1) & (set->slots - 1);
	}
	set->index[slot] = (uint32_t)number + 1;
	return 0;
}

static int grow_index(struct key_set *set)
{
	size_t i;

	if (!set->slots)
		for (i = 0; i + 1 < set->count; i++)
			set->keys[i].hash = key_hash(&set->keys[i]);
	free(set->index);
	set->slots = set->slots ? 2 * set->slots : 4 * LINEAR_KEYS;
	set->index = calloc(set->slots, sizeof(*set->index));
	if (!set->index)
		return -ENOMEM;
	for (i = 0; i + 1 < set->count; i++)
		index_key(set, i);
	return 0;
}

static int grow_keys(struct key_set *set)
{
	struct key_entry *grown;

	if (set->keys == set->inline_keys) {
		grown = malloc(2 * set->cap * sizeof(*grown));
		if (grown)
			memcpy(grown, set->keys, set->count * sizeof(*grown));
	} else {
		grown = realloc(set->keys, 2 * set->cap * sizeof(*grown));
	}
	if (!grown)
		return -ENOMEM;
	set->keys = grown;
	set->cap *= 2;
	return 0;
}

/* Adds the key (taking key->owned); 1 when the object already has it. */
static int set_add(struct key_set *set, const struct json_key *key)
{
	struct key_entry entry = { key->text, (uint32_t)key->length, 0, key->owned != NULL };
	size_t i;

	if (key->length > UINT32_MAX || (set->count == set->cap && grow_keys(set) < 0)) {
		free(key->owned);
		return -ENOMEM;
	}
	/* small objects compare keys in a row and need no hash (0 for all) */
	if (set->count >= LINEAR_KEYS)
		entry.hash = key_hash(&entry);
	set->keys[set->count++] = entry;
	if (set->count <= LINEAR_KEYS) {
		for (i = 0; i + 1 < set->count; i++)
			if (same_key(&set->keys[i], &entry))
				return 1;
		return 0;
	}
	if (2 * set->count > set->slots && grow_index(set) < 0)
		return -ENOMEM;
	return index_key(set, set->count - 1);
}

/* ---- values ------------------------------------------------------------- */

static int read_any_member(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct json_value value;

	(void)arg;
	(void)key;
	return json_scan_value(scan, &value);
}

/* An object at scan->at; read_member consumes each member's value. */
int json_scan_object(struct json_scan *scan, json_member_reader *read_member, void *arg)
{
	struct key_set set;
	struct json_value name;
	struct json_key key;
	int err;

	if (++scan->depth > MAX_DEPTH)
		return json_refuse(scan, scan->at, "maximum parsing depth reached");
	set_init(&set);
	scan->at++;
	json_skip_space(scan);
	if (scan->at < scan->end && *scan->at == '}') {
		scan->at++;
		scan->depth--;
		return 0;
	}
	for (;;) {
		json_skip_space(scan);
		if (scan->at >= scan->end || *scan->at != '"') {
			err = json_refuse(scan, scan->at, "string or '}' expected");
			break;
		}
		err = scan_string(scan, &name);
		if (err < 0)
			break;
		key.raw = name.start + 1;
		key.raw_length = (size_t)(name.end - name.start) - 2;
		key.owned = NULL;
		key.text = key.raw;
		key.length = key.raw_length;
		if (name.escaped) {
			key.owned = json_decode_string(&name, &key.length);
			if (!key.owned) {
				err = -ENOMEM;
				break;
			}
			key.text = key.owned;
		}
		err = set_add(&set, &key);
		if (err > 0)
			err = json_refuse(scan, name.start, "duplicate object key");
		if (!err)
			err = expect(scan, ':', "':' expected");
		if (!err) {
			json_skip_space(scan);
			err = read_member(scan, arg, &key);
		}
		if (!err) {
			json_skip_space(scan);
			if (scan->at < scan->end && *scan->at == ',') {
				scan->at++;
				continue;
			}
			err = expect(scan, '}', "',' or '}' expected");
		}
		break;
	}
	set_free(&set);
	scan->depth--;
	return err;
}

static int scan_array(struct json_scan *scan)
{
	struct json_value element;
	int err;

	if (++scan->depth > MAX_DEPTH)
		return json_refuse(scan, scan->at, "maximum parsing depth reached");
	scan->at++;
	json_skip_space(scan);
	if (scan->at < scan->end && *scan->at == ']') {
		scan->at++;
		scan->depth--;
		return 0;
	}
	for (;;) {
		json_skip_space(scan);
		err = json_scan_value(scan, &element);
		if (err < 0)
			return err;
		json_skip_space(scan);
		if (scan->at < scan->end && *scan->at == ',') {
			scan->at++;
			continue;
		}
		err = expect(scan, ']', "',' or ']' expected");
		scan->depth--;
		return err;
	}
}

int json_scan_value(struct json_scan *scan, struct json_value *value)
{
	size_t spaces = scan->spaces;
	int err;

	memset(value, 0, sizeof(*value));
	value->start = scan->at;
	if (scan->at >= scan->end)
		return json_refuse(scan, scan->at, "premature end of input");
	switch (*scan->at) {
	case '"':
		return scan_string(scan, value);
	case '{':
		value->type = VALUE_OBJECT;
		err = json_scan_object(scan, read_any_member, NULL);
		break;
	case '[':
		value->type = VALUE_ARRAY;
		err = scan_array(scan);
		break;
	case 't':
		return scan_word(scan, value, "true", VALUE_TRUE);
	case 'f':
		return scan_word(scan, value, "false", VALUE_FALSE);
	case 'n':
		return scan_word(scan, value, "null", VALUE_NULL);
	default:
		if (*scan->at == '-' || (*scan->at >= '0' && *scan->at <= '9'))
			return scan_number(scan, value);
		return json_refuse(scan, scan->at, "invalid token");
	}
	value->end = scan->at;
	value->spaced = scan->spaces != spaces;
	return err;
}

/* ---- compact text ------------------------------------------------------- */

/* The value's text without whitespace outside strings (one line). */
char *json_compact(const struct json_value *value, size_t *length)
{
	const char *at = value->start;
	char *text = malloc((size_t)(value->end - value->start) + 1), *out = text;
	int in_string = 0;

	if (!text)
		return NULL;
	for (; at < value->end; at++) {
		if (in_string) {
			if (*at == '\\')
				*out++ = *at++;
			else if (*at == '"')
				in_string = 0;
		} else if (*at == ' ' || *at == '\n' || *at == '\t' || *at == '\r') {
			continue;
		} else if (*at == '"') {
			in_string = 1;
		}
		*out++ = *at;
	}
	*out = '\0';
	*length = (size_t)(out - text);
	return text;
}

const char *json_value_type(const struct json_value *value)
{
	static const char *const names[] = {
		[VALUE_STRING] = "a string", [VALUE_OBJECT] = "an object",
		[VALUE_ARRAY] = "an array", [VALUE_TRUE] = "true",
		[VALUE_FALSE] = "false", [VALUE_NULL] = "null",
	};

	if (value->type == VALUE_NUMBER)
		return value->is_integer ? "an integer" : "a fraction";
	return names[value->type];
}

int json_scan_report(struct ovl_ctx *ctx, const struct json_scan *scan)
{
	const char *at;
	int line = 1, column = 1;

	for (at = scan->start; at < scan->reason_at; at++, column++)
		if (*at == '\n') {
			line++;
			column = 0;
		}
	return ctx_fail(ctx, -EBADMSG, "line %d column %d: %s", line, column, scan->reason);
}

void json_scan_init(struct json_scan *scan, const char *text, size_t length)
{
	memset(scan, 0, sizeof(*scan));
	scan->start = scan->at = text;
	scan->end = text + length;
}

int json_scan_document(struct json_scan *scan, json_member_reader *read_member, void *arg)
{
	int err;

	json_skip_space(scan);
	if (scan->at >= scan->end || *scan->at != '{')
		return json_refuse(scan, scan->at, "not a JSON object");
	err = json_scan_object(scan, read_member, arg);
	if (err < 0)
		return err;
	json_skip_space(scan);
	return scan->at < scan->end ? json_refuse(scan, scan->at, "end of file expected") : 0;
}
