/*
 * store-doc.h - the file store's document reader (store-doc.c): the whole
 * text checked as strictly as jansson would, lease records decoded straight
 * into struct ovl_lease without a JSON tree.
 */
#ifndef OVL_STORE_DOC_H
#define OVL_STORE_DOC_H

#include <stddef.h>
#include <stdint.h>
#include "lease/lease.h"

/* What few records need beyond their place in the text: made on first use. */
struct record_extra {
	char *owned;			/* the value's text when not the document's */
	char *owned_key;		/* the decoded key when the file escapes it */
	char *owned_name;		/* claim.node_name's when the file escapes it */
	/* Why the record cannot be decoded: it is skipped (not listed, never
	 * handed out, kept as it is on rewrites). */
	char *reason;
	struct ovl_lease *lease;	/* the whole record, see store_doc_lease */
};

/* One member of "leases", in file order: 112 bytes, as a store of 10,000
 * records keeps 10,000 of them. */
struct doc_record {
	/* The key as the file spells it (between the quotes, escapes kept)
	 * and the value as compact one-line JSON: what a rewrite puts back. */
	const char *key_text;
	const char *text;		/* into the document, or extra->owned */
	uint32_t key_length, length;
	unsigned char usable;		/* 0: see extra->reason */
	struct record_extra *extra;	/* NULL: nothing beyond the text */
	/* What the allocator needs (no subnet: the key is not a subnet key);
	 * an unusable record claims its subnet for nobody. */
	struct lease_claim claim;
};

/* 1 when the record's key claims a subnet. */
static inline int store_doc_claims(const struct doc_record *record)
{
	return record->claim.has_ipv4 || record->claim.has_ipv6;
}

/* The record's extra part, made if needed; NULL when out of memory. */
struct record_extra *store_doc_extra(struct doc_record *record);

struct store_doc {
	int64_t version;		/* 0 when absent */
	int64_t revision;		/* 0 when absent */
	char *config;			/* "config" as compact JSON; NULL: absent */
	/* Members this version does not know, as compact "name":value pairs
	 * separated by commas, kept for rewrites; NULL when none. */
	char *others;
	struct doc_record *records;
	size_t count, cap;
};

/* Appends a copy of record (which the document then owns); NULL when out
 * of memory. */
struct doc_record *store_doc_add(struct store_doc *doc, const struct doc_record *record);
/* Reads text (length bytes, need not be NUL-terminated); records borrow
 * from text, which must outlive them.  -EBADMSG when the text is not one
 * JSON object or the members the store defines have the wrong type, with
 * the reason and the line and column in the ctx message; -ENOMEM. */
int store_doc_read(struct ovl_ctx *ctx, const char *text, size_t length,
		   struct store_doc *doc);
/* A new lease decoded from a usable record (-EBADMSG for another). */
int store_doc_decode(struct ovl_ctx *ctx, const struct doc_record *record,
		     struct ovl_lease **lease);
/* The same kept in record->extra->lease, if not done yet. */
int store_doc_lease(struct ovl_ctx *ctx, struct doc_record *record);
/* 1 when record is usable and its key is key. */
int store_doc_record_is(const struct doc_record *record, const char *key);
void store_doc_record_clear(struct doc_record *record);
void store_doc_free(struct store_doc *doc);

#endif
