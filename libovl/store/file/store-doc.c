/*
 * store-doc.c - reads the file store's document with json-scan.c, without
 * a JSON tree: per lease record its place in the text and its claim (what
 * the allocator needs), the whole record decoded only when asked.  A record
 * that is JSON but does not decode is kept as text and marked unusable
 * instead of failing the whole document (ovl_store_open(3)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json-scan.h"
#include "store/file/store-doc.h"

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

static int read_lease_member(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct record_reading *reading = arg;
	struct lease_member member = { 0 };
	char name[32];
	struct json_value value;
	char *decoded = NULL;
	size_t length;
	int err = json_scan_value(scan, &value);

	/* a longer name is none that lease_member_read knows */
	if (err < 0 || !reading->record->usable || !json_key_copy(key, name, sizeof(name)))
		return err;
	member.name = name;
	member.type_text = json_value_type(&value);
	member.type = value.type == VALUE_STRING ? MEMBER_STRING :
		      value.type == VALUE_OBJECT ? MEMBER_OBJECT :
		      value.type == VALUE_NULL ? MEMBER_NULL :
		      value.type == VALUE_NUMBER && value.is_integer ? MEMBER_INTEGER :
		      MEMBER_OTHER;
	member.integer = value.integer;
	member.text = value.start + (value.type == VALUE_STRING);
	member.length = (size_t)(value.end - value.start) - 2 * (value.type == VALUE_STRING);
	if (value.escaped || value.spaced) {
		decoded = value.escaped ? json_decode_string(&value, &length) : json_compact(&value, &length);
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
static int read_lease(struct json_scan *scan, struct record_reading *reading)
{
	const struct lease_claim *claim;
	struct json_value value;
	int err;

	if (scan->at < scan->end && *scan->at == '{') {
		err = json_scan_object(scan, read_lease_member, reading);
	} else {
		err = json_scan_value(scan, &value);
		if (!err && reading->record->usable) {
			ctx_fail(reading->ctx, -EINVAL, "lease %s: expected an object, got %s",
				 reading->key, json_value_type(&value));
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

struct doc_record *store_doc_add(struct store_doc *doc, const struct doc_record *record)
{
	struct doc_record *grown;

	if (doc->count == doc->cap) {
		grown = realloc(doc->records, (doc->cap ? 2 * doc->cap : 64) * sizeof(*grown));
		if (!grown)
			return NULL;
		doc->records = grown;
		doc->cap = doc->cap ? 2 * doc->cap : 64;
	}
	doc->records[doc->count] = *record;
	return &doc->records[doc->count++];
}

struct doc_reading {
	struct ovl_ctx *ctx;
	struct store_doc *doc;
};

/* One member of "leases": checked and claimed (decoded in full only when
 * asked, see store_doc_decode), kept as text always. */
static int read_record(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct doc_reading *reading = arg;
	struct record_reading record_reading = { reading->ctx, NULL, NULL, NULL };
	struct ovl_lease subnets;	/* what the key says; only that is read */
	/* room for any valid key; a longer one is reported shortened */
	char name[sizeof(subnets.key) + 1];
	struct doc_record *record;
	struct json_value value = { .start = scan->at };
	size_t spaces = scan->spaces, length;
	int err = 0;

	record = store_doc_add(reading->doc, &(struct doc_record){
		.key_text = key->raw, .key_length = (uint32_t)key->raw_length, .usable = 1 });
	if (!record)
		return -ENOMEM;
	if (!json_key_copy(key, name, sizeof(name)))
		snprintf(name, sizeof(name), "%.*s...", (int)(sizeof(name) - 4), key->raw);
	record_reading.record = record;
	record_reading.key = name;
	if (key->owned && (!store_doc_extra(record) ||
			   !(record->extra->owned_key = strdup(name))))
		return -ENOMEM;
	if (lease_key_parse(reading->ctx, name, &subnets) == 0)
		lease_claim_subnets(&record->claim, &subnets);
	else
		err = skip_record(reading->ctx, record);
	if (!err)
		err = read_lease(scan, &record_reading);
	if (err < 0)
		return err;
	if (!record->usable && store_doc_claims(record)) {
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
		    !(record->extra->owned = json_compact(&value, &length)))
			return -ENOMEM;
		record->text = record->extra->owned;
		record->length = (uint32_t)length;
	}
	return 0;
}

int store_doc_decode(struct ovl_ctx *ctx, const struct doc_record *record,
		     struct ovl_lease **lease)
{
	struct json_scan scan;
	/* reading writes usable and reason only when the record is unusable,
	 * which a record that read well once is not */
	struct doc_record probe = { .usable = 1 };
	struct record_reading reading = { ctx, &probe, NULL, NULL };
	char key[sizeof((*lease)->key) + 1];
	int err;

	*lease = NULL;
	if (!record->usable)
		return -EBADMSG;
	json_scan_init(&scan, record->text, record->length);
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
static int keep_other(struct store_doc *doc, const struct json_key *key, const struct json_value *value)
{
	size_t old = doc->others ? strlen(doc->others) : 0, length;
	char *text = json_compact(value, &length), *grown;

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

static int read_top_member(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct doc_reading *reading = arg;
	struct store_doc *doc = reading->doc;
	const char *at = scan->at;
	struct json_value value;
	size_t length;
	int err;

	if (json_key_is(key, "leases")) {
		if (scan->at >= scan->end || *scan->at != '{')
			return json_scan_value(scan, &value) < 0 ? -EBADMSG :
			       json_refuse(scan, at, "\"leases\": expected an object");
		return json_scan_object(scan, read_record, reading);
	}
	err = json_scan_value(scan, &value);
	if (err < 0)
		return err;
	if (json_key_is(key, "version")) {
		if (value.type != VALUE_NUMBER || !value.is_integer || value.integer < 1)
			return json_refuse(scan, at, "\"version\": expected an integer >= 1");
		doc->version = value.integer;
	} else if (json_key_is(key, "revision")) {
		if (value.type != VALUE_NUMBER || !value.is_integer || value.integer < 0)
			return json_refuse(scan, at, "\"revision\": expected an integer >= 0");
		doc->revision = value.integer;
	} else if (json_key_is(key, "config")) {
		if (value.type != VALUE_OBJECT)
			return json_refuse(scan, at, "\"config\": expected an object");
		doc->config = json_compact(&value, &length);
		return doc->config ? 0 : -ENOMEM;
	} else {
		return keep_other(doc, key, &value);
	}
	return 0;
}

/* ---- the document ------------------------------------------------------- */

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
	struct json_scan scan;
	struct doc_reading reading = { ctx, doc };
	int err;

	memset(doc, 0, sizeof(*doc));
	/* records keep 32-bit lengths */
	if (length > UINT32_MAX)
		return ctx_fail(ctx, -EBADMSG, "larger than 4 GiB");
	/* A usable record takes 35 bytes at least.  Sized once, the array is
	 * not copied as it grows; room it does not use is never touched; and
	 * one large block can come as huge pages, where records allocated one
	 * by one would cost a page fault every 20 of them. */
	doc->cap = length / 32 + 16;
	doc->records = malloc(doc->cap * sizeof(*doc->records));
	if (!doc->records)
		doc->cap = 0;
	json_scan_init(&scan, text, length);
	err = json_scan_document(&scan, read_top_member, &reading);
	if (err < 0) {
		store_doc_free(doc);
		return err == -ENOMEM ? err : json_scan_report(ctx, &scan);
	}
	return 0;
}
