/*
 * store-doc.c - reads the file store's document in one pass without building
 * a JSON tree.  jansson spent 70 ms and 100,000 allocations on a store of
 * 10,000 leases, most of it on objects thrown away at once; this scanner
 * checks the text as strictly as jansson's parser with JSON_REJECT_DUPLICATES
 * (RFC 8259 grammar, UTF-8, escapes and surrogates, integer range, depth
 * 2048, duplicate keys in every object) and hands each lease record's
 * members to lease_member_read, so that a cold acquire stays in single
 * milliseconds.  A record it can read but not decode is kept as text and
 * marked unusable instead of failing the whole document.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-doc.h"

#define MAX_DEPTH 2048
/* objects with more keys than this find duplicates through a hash index */
#define LINEAR_KEYS 8

struct scan {
	const char *start, *at, *end;
	int depth;
	size_t spaces;			/* whitespace bytes skipped so far */
	const char *reason;		/* why the text is refused */
	const char *reason_at;
};

enum value_type {
	VALUE_STRING, VALUE_NUMBER, VALUE_OBJECT, VALUE_ARRAY,
	VALUE_TRUE, VALUE_FALSE, VALUE_NULL,
};

struct value {
	enum value_type type;
	const char *start, *end;	/* as written, quotes included */
	int escaped;			/* a string with backslashes */
	int is_integer;
	int64_t integer;
	int spaced;			/* whitespace inside: compact before keeping */
};

/* An object key: the text between the quotes, and decoded when escaped
 * (not NUL-terminated: it may point into the document). */
struct key {
	const char *raw;
	size_t raw_length;
	const char *text;
	size_t length;
	char *owned;
};

typedef int member_reader(struct scan *scan, void *arg, const struct key *key);

static int key_is(const struct key *key, const char *name)
{
	return key->length == strlen(name) && !memcmp(key->text, name, key->length);
}

/* The key as a C string in buf; 0 when it does not fit.  (It holds no NUL:
 * scan_string refuses raw control characters and \u0000.) */
static int key_copy(const struct key *key, char *buf, size_t size)
{
	if (key->length >= size)
		return 0;
	memcpy(buf, key->text, key->length);
	buf[key->length] = '\0';
	return 1;
}

static int refuse(struct scan *scan, const char *at, const char *reason)
{
	if (!scan->reason) {
		scan->reason = reason;
		scan->reason_at = at;
	}
	return -EBADMSG;
}

static inline void skip_space(struct scan *scan)
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

static int expect(struct scan *scan, char c, const char *reason)
{
	skip_space(scan);
	if (scan->at >= scan->end || *scan->at != c)
		return refuse(scan, scan->at, reason);
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
static int scan_string(struct scan *scan, struct value *value)
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
			return refuse(scan, scan->end, "premature end of input in a string");
		if (*at == '"')
			break;
		if (*at < 0x20)
			return refuse(scan, (const char *)at, "control character in a string");
		if (*at >= 0x80) {
			length = utf8_length(at, end);
			if (!length)
				return refuse(scan, (const char *)at, "invalid UTF-8 in a string");
			at += length;
			continue;
		}
		value->escaped = 1;
		if (end - at < 2)
			return refuse(scan, scan->end, "premature end of input in a string");
		if (at[1] == 'u') {
			length = unicode_escape((const char *)at + 2, (const char *)end, &code);
			if (!length)
				return refuse(scan, (const char *)at, "invalid \\u escape (a lone "
					      "surrogate, \\u0000 or not 4 hex digits)");
			at += 2 + length;
		} else if (strchr("\"\\/bfnrt", at[1]) && at[1]) {
			at += 2;
		} else {
			return refuse(scan, (const char *)at, "invalid escape in a string");
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
static char *decode_string(const struct value *value, size_t *length)
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

static int digits(struct scan *scan)
{
	const char *from = scan->at;

	while (scan->at < scan->end && *scan->at >= '0' && *scan->at <= '9')
		scan->at++;
	return scan->at > from ? 0 : refuse(scan, scan->at, "invalid number");
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; integers must fit
 * 64 bits (jansson's json_int_t) and fractions a double. */
static int scan_number(struct scan *scan, struct value *value)
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
		       refuse(scan, value->start, "real number overflow") : 0;
	}
	for (at = value->start + negative; at < value->end; at++) {
		if (magnitude > (limit - (uint64_t)(*at - '0')) / 10)
			return refuse(scan, value->start, "too big integer");
		magnitude = magnitude * 10 + (uint64_t)(*at - '0');
	}
	value->integer = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
	return 0;
}

static int scan_word(struct scan *scan, struct value *value, const char *word,
		     enum value_type type)
{
	size_t length = strlen(word);

	if ((size_t)(scan->end - scan->at) < length || memcmp(scan->at, word, length))
		return refuse(scan, scan->at, "invalid token");
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
static int set_add(struct key_set *set, const struct key *key)
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

static int scan_value(struct scan *scan, struct value *value);

static int read_any_member(struct scan *scan, void *arg, const struct key *key)
{
	struct value value;

	(void)arg;
	(void)key;
	return scan_value(scan, &value);
}

/* An object at scan->at; read_member consumes each member's value. */
static int scan_object(struct scan *scan, member_reader *read_member, void *arg)
{
	struct key_set set;
	struct value name;
	struct key key;
	int err;

	if (++scan->depth > MAX_DEPTH)
		return refuse(scan, scan->at, "maximum parsing depth reached");
	set_init(&set);
	scan->at++;
	skip_space(scan);
	if (scan->at < scan->end && *scan->at == '}') {
		scan->at++;
		scan->depth--;
		return 0;
	}
	for (;;) {
		skip_space(scan);
		if (scan->at >= scan->end || *scan->at != '"') {
			err = refuse(scan, scan->at, "string or '}' expected");
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
			key.owned = decode_string(&name, &key.length);
			if (!key.owned) {
				err = -ENOMEM;
				break;
			}
			key.text = key.owned;
		}
		err = set_add(&set, &key);
		if (err > 0)
			err = refuse(scan, name.start, "duplicate object key");
		if (!err)
			err = expect(scan, ':', "':' expected");
		if (!err) {
			skip_space(scan);
			err = read_member(scan, arg, &key);
		}
		if (!err) {
			skip_space(scan);
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

static int scan_array(struct scan *scan)
{
	struct value element;
	int err;

	if (++scan->depth > MAX_DEPTH)
		return refuse(scan, scan->at, "maximum parsing depth reached");
	scan->at++;
	skip_space(scan);
	if (scan->at < scan->end && *scan->at == ']') {
		scan->at++;
		scan->depth--;
		return 0;
	}
	for (;;) {
		skip_space(scan);
		err = scan_value(scan, &element);
		if (err < 0)
			return err;
		skip_space(scan);
		if (scan->at < scan->end && *scan->at == ',') {
			scan->at++;
			continue;
		}
		err = expect(scan, ']', "',' or ']' expected");
		scan->depth--;
		return err;
	}
}

static int scan_value(struct scan *scan, struct value *value)
{
	size_t spaces = scan->spaces;
	int err;

	memset(value, 0, sizeof(*value));
	value->start = scan->at;
	if (scan->at >= scan->end)
		return refuse(scan, scan->at, "premature end of input");
	switch (*scan->at) {
	case '"':
		return scan_string(scan, value);
	case '{':
		value->type = VALUE_OBJECT;
		err = scan_object(scan, read_any_member, NULL);
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
		return refuse(scan, scan->at, "invalid token");
	}
	value->end = scan->at;
	value->spaced = scan->spaces != spaces;
	return err;
}

/* ---- compact text ------------------------------------------------------- */

/* The value's text without whitespace outside strings (one line). */
static char *compact(const struct value *value, size_t *length)
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

static const char *type_text(const struct value *value)
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

/* ---- lease records ------------------------------------------------------ */

struct record_reading {
	struct ovl_ctx *ctx;
	struct doc_record *record;
	/* being decoded; NULL when only checking the record and taking its
	 * claim, which needs no copies (most members stay in the text) */
	struct ovl_lease *lease;
	const char *key;		/* decoded */
};

struct record_extra *store_doc_extra(struct doc_record *record)
{
	if (!record->extra)
		record->extra = calloc(1, sizeof(*record->extra));
	return record->extra;
}

/* Notes why the record is skipped (the first reason) and clears the ctx. */
static int skip_record(struct ovl_ctx *ctx, struct doc_record *record)
{
	struct record_extra *extra = store_doc_extra(record);

	record->usable = 0;
	if (extra && !extra->reason)
		extra->reason = strdup(ovl_ctx_error(ctx));
	ctx_clear_error(ctx);
	return extra && extra->reason ? 0 : -ENOMEM;
}

/* The claim's part of a member: copied only when decoded (else it stays
 * in the text, which outlives the record). */
static int claim_member(struct record_reading *reading, const struct lease_member *member,
			int decoded)
{
	struct doc_record *record = reading->record;
	struct lease_claim *claim = &record->claim;
	struct lease_member_value value;
	int err = lease_member_check(reading->ctx, reading->key, member, &value);

	if (err < 0)
		return err;
	switch (value.field) {
	case LEASE_PUBLIC_IP:
		claim->has_public_ip = (unsigned char)value.present;
		memcpy(claim->public_ip, value.address.addr, sizeof(claim->public_ip));
		break;
	case LEASE_PUBLIC_IPV6:
		claim->has_public_ipv6 = (unsigned char)value.present;
		memcpy(claim->public_ipv6, value.address.addr, sizeof(claim->public_ipv6));
		break;
	case LEASE_EXPIRATION:
		claim->expiration = value.present ? member->integer : 0;
		break;
	case LEASE_NODE_NAME:
		if (record->extra) {
			free(record->extra->owned_name);
			record->extra->owned_name = NULL;
		}
		claim->node_name = value.present ? member->text : NULL;
		claim->node_name_length = value.present ? (uint32_t)member->length : 0;
		if (value.present && decoded) {
			if (!store_doc_extra(record) ||
			    !(record->extra->owned_name = strndup(member->text, member->length)))
				return -ENOMEM;
			claim->node_name = record->extra->owned_name;
		}
		break;
	default:
		break;
	}
	return 0;
}

static int read_lease_member(struct scan *scan, void *arg, const struct key *key)
{
	struct record_reading *reading = arg;
	struct lease_member member = { 0 };
	char name[32];
	struct value value;
	char *decoded = NULL;
	size_t length;
	int err = scan_value(scan, &value);

	/* a longer name is none that lease_member_read knows */
	if (err < 0 || !reading->record->usable || !key_copy(key, name, sizeof(name)))
		return err;
	member.name = name;
	member.type_text = type_text(&value);
	member.type = value.type == VALUE_STRING ? MEMBER_STRING :
		      value.type == VALUE_OBJECT ? MEMBER_OBJECT :
		      value.type == VALUE_NULL ? MEMBER_NULL :
		      value.type == VALUE_NUMBER && value.is_integer ? MEMBER_INTEGER :
		      MEMBER_OTHER;
	member.integer = value.integer;
	member.text = value.start + (value.type == VALUE_STRING);
	member.length = (size_t)(value.end - value.start) - 2 * (value.type == VALUE_STRING);
	if (value.escaped || value.spaced) {
		decoded = value.escaped ? decode_string(&value, &length) : compact(&value, &length);
		if (!decoded)
			return -ENOMEM;
		member.text = decoded;
		member.length = length;
	}
	err = reading->lease ? lease_member_read(reading->ctx, reading->key, reading->lease,
						 &member) :
	      claim_member(reading, &member, decoded != NULL);
	free(decoded);
	return err == -ENOMEM ? err : err < 0 ? skip_record(reading->ctx, reading->record) : 0;
}

/* The members of the record's value at scan->at into reading->lease, whose
 * subnets lease_key_parse has set; a value that is no object, or members
 * that do not decode, make the record unusable. */
static int read_lease(struct scan *scan, struct record_reading *reading)
{
	const struct lease_claim *claim;
	struct value value;
	int err;

	if (scan->at < scan->end && *scan->at == '{') {
		err = scan_object(scan, read_lease_member, reading);
	} else {
		err = scan_value(scan, &value);
		if (!err && reading->record->usable) {
			ctx_fail(reading->ctx, -EINVAL, "lease %s: expected an object, got %s",
				 reading->key, type_text(&value));
			err = skip_record(reading->ctx, reading->record);
		}
	}
	claim = &reading->record->claim;
	if (!err && reading->record->usable &&
	    (reading->lease ? lease_members_check(reading->ctx, reading->key, reading->lease) :
	     lease_addresses_check(reading->ctx, reading->key, claim->has_ipv4, claim->has_ipv6,
				   claim->has_public_ip, claim->has_public_ipv6)) < 0)
		err = skip_record(reading->ctx, reading->record);
	return err;
}

static int grow_records(struct store_doc *doc, size_t *cap)
{
	struct doc_record *grown;

	if (doc->count < *cap)
		return 0;
	*cap = *cap ? 2 * *cap : 64;
	grown = realloc(doc->records, *cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	doc->records = grown;
	return 0;
}

struct doc_reading {
	struct ovl_ctx *ctx;
	struct store_doc *doc;
	size_t cap;
};

/* One member of "leases": checked and claimed (decoded in full only when
 * asked, see store_doc_decode), kept as text always. */
static int read_record(struct scan *scan, void *arg, const struct key *key)
{
	struct doc_reading *reading = arg;
	struct record_reading record_reading = { reading->ctx, NULL, NULL, NULL };
	struct ovl_lease subnets;	/* what the key says; only that is read */
	/* room for any valid key; a longer one is reported shortened */
	char name[sizeof(subnets.key) + 1];
	struct doc_record *record;
	struct value value = { .start = scan->at };
	size_t spaces = scan->spaces, length;
	int err = grow_records(reading->doc, &reading->cap);

	if (err < 0)
		return err;
	if (!key_copy(key, name, sizeof(name)))
		snprintf(name, sizeof(name), "%.*s...", (int)(sizeof(name) - 4), key->raw);
	record = &reading->doc->records[reading->doc->count++];
	memset(record, 0, sizeof(*record));
	record_reading.record = record;
	record_reading.key = name;
	record->key_text = key->raw;
	record->key_length = (uint32_t)key->raw_length;
	record->usable = 1;
	if (key->owned && (!store_doc_extra(record) ||
			   !(record->extra->owned_key = strdup(name))))
		return -ENOMEM;
	if (lease_key_parse(reading->ctx, name, &subnets) == 0) {
		record->has_claim = 1;
		lease_claim_subnets(&record->claim, &subnets);
	} else {
		err = skip_record(reading->ctx, record);
	}
	if (!err)
		err = read_lease(scan, &record_reading);
	if (err < 0)
		return err;
	if (!record->usable && record->has_claim) {
		/* its subnets stay taken, never expire, belong to no node */
		free(record->extra->owned_name);
		record->extra->owned_name = NULL;
		memset(&record->claim, 0, sizeof(record->claim));
		lease_claim_subnets(&record->claim, &subnets);
	}
	value.end = scan->at;
	record->text = value.start;
	record->length = (uint32_t)(value.end - value.start);
	if (scan->spaces != spaces) {
		if (!store_doc_extra(record) ||
		    !(record->extra->owned = compact(&value, &length)))
			return -ENOMEM;
		record->text = record->extra->owned;
		record->length = (uint32_t)length;
	}
	return 0;
}

int store_doc_decode(struct ovl_ctx *ctx, const struct doc_record *record,
		     struct ovl_lease **lease)
{
	struct scan scan = { record->text, record->text, record->text + record->length,
			     0, 0, NULL, NULL };
	/* reading writes usable and reason only when the record is unusable,
	 * which a record that read well once is not */
	struct doc_record probe = { .usable = 1 };
	struct record_reading reading = { ctx, &probe, NULL, NULL };
	char key[sizeof((*lease)->key) + 1];
	int err;

	*lease = NULL;
	if (!record->usable)
		return -EBADMSG;
	if (record->extra && record->extra->owned_key)
		snprintf(key, sizeof(key), "%s", record->extra->owned_key);
	else
		snprintf(key, sizeof(key), "%.*s", (int)record->key_length, record->key_text);
	reading.key = key;
	reading.lease = lease_new();
	if (!reading.lease)
		return -ENOMEM;
	err = lease_key_parse(ctx, key, reading.lease);
	if (!err)
		err = read_lease(&scan, &reading);
	if (!err && !probe.usable)
		err = -EBADMSG;
	if (probe.extra)
		free(probe.extra->reason);
	free(probe.extra);
	if (err < 0) {
		ovl_lease_free(reading.lease);
		return err;
	}
	*lease = reading.lease;
	return 0;
}

int store_doc_lease(struct ovl_ctx *ctx, struct doc_record *record)
{
	if (!store_doc_extra(record))
		return -ENOMEM;
	return record->extra->lease ? 0 : store_doc_decode(ctx, record, &record->extra->lease);
}

int store_doc_record_is(const struct doc_record *record, const char *key)
{
	size_t length = strlen(key);

	if (!record->usable)
		return 0;
	if (record->extra && record->extra->owned_key)
		return !strcmp(record->extra->owned_key, key);
	return record->key_length == length && !memcmp(record->key_text, key, length);
}

/* Keeps name and value, compact, for rewrites. */
static int keep_other(struct store_doc *doc, const struct key *key, const struct value *value)
{
	size_t old = doc->others ? strlen(doc->others) : 0, length;
	char *text = compact(value, &length), *grown;

	if (!text)
		return -ENOMEM;
	grown = realloc(doc->others, old + key->raw_length + length + 5);
	if (!grown) {
		free(text);
		return -ENOMEM;
	}
	sprintf(grown + old, "%s\"%.*s\":%s", old ? "," : "", (int)key->raw_length, key->raw,
		text);
	free(text);
	doc->others = grown;
	return 0;
}

static int read_top_member(struct scan *scan, void *arg, const struct key *key)
{
	struct doc_reading *reading = arg;
	struct store_doc *doc = reading->doc;
	const char *at = scan->at;
	struct value value;
	size_t length;
	int err;

	if (key_is(key, "leases")) {
		if (scan->at >= scan->end || *scan->at != '{')
			return scan_value(scan, &value) < 0 ? -EBADMSG :
			       refuse(scan, at, "\"leases\": expected an object");
		return scan_object(scan, read_record, reading);
	}
	err = scan_value(scan, &value);
	if (err < 0)
		return err;
	if (key_is(key, "version")) {
		if (value.type != VALUE_NUMBER || !value.is_integer || value.integer < 1)
			return refuse(scan, at, "\"version\": expected an integer >= 1");
		doc->version = value.integer;
	} else if (key_is(key, "revision")) {
		if (value.type != VALUE_NUMBER || !value.is_integer || value.integer < 0)
			return refuse(scan, at, "\"revision\": expected an integer >= 0");
		doc->revision = value.integer;
	} else if (key_is(key, "config")) {
		if (value.type != VALUE_OBJECT)
			return refuse(scan, at, "\"config\": expected an object");
		doc->config = compact(&value, &length);
		return doc->config ? 0 : -ENOMEM;
	} else {
		return keep_other(doc, key, &value);
	}
	return 0;
}

/* ---- the document ------------------------------------------------------- */

static int report(struct ovl_ctx *ctx, const struct scan *scan)
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

void store_doc_record_clear(struct doc_record *record)
{
	if (record->extra) {
		ovl_lease_free(record->extra->lease);
		free(record->extra->owned);
		free(record->extra->owned_key);
		free(record->extra->owned_name);
		free(record->extra->reason);
		free(record->extra);
	}
	memset(record, 0, sizeof(*record));
}

void store_doc_free(struct store_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->count; i++)
		store_doc_record_clear(&doc->records[i]);
	free(doc->records);
	free(doc->config);
	free(doc->others);
	memset(doc, 0, sizeof(*doc));
}

int store_doc_read(struct ovl_ctx *ctx, const char *text, size_t length,
		   struct store_doc *doc)
{
	struct scan scan = { text, text, text + length, 0, 0, NULL, NULL };
	struct doc_reading reading = { ctx, doc, 0 };
	int err;

	memset(doc, 0, sizeof(*doc));
	/* records keep 32-bit lengths */
	if (length > UINT32_MAX)
		return ctx_fail(ctx, -EBADMSG, "larger than 4 GiB");
	/* A usable record takes 35 bytes at least.  Sized once, the array is
	 * not copied as it grows; room it does not use is never touched; and
	 * one large block can come as huge pages, where records allocated one
	 * by one would cost a page fault every 20 of them. */
	reading.cap = length / 32 + 16;
	doc->records = malloc(reading.cap * sizeof(*doc->records));
	if (!doc->records)
		reading.cap = 0;
	skip_space(&scan);
	if (scan.at >= scan.end || *scan.at != '{')
		err = refuse(&scan, scan.at, "not a JSON object");
	else
		err = scan_object(&scan, read_top_member, &reading);
	if (!err) {
		skip_space(&scan);
		if (scan.at < scan.end)
			err = refuse(&scan, scan.at, "end of file expected");
	}
	if (err < 0) {
		store_doc_free(doc);
		return err == -ENOMEM ? err : report(ctx, &scan);
	}
	return 0;
}
