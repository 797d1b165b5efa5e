/*
 * store-doc.h - the file store's document reader (store-doc.c): the whole
 * text checked as strictly as jansson would, lease records decoded straight
 * into struct ovl_lease without a JSON tree.
 */
#ifndef OVL_STORE_DOC_H
#define OVL_STORE_DOC_H

#include <stddef.h>
#include <stdint.h>
#include "lease.h"

/* One member of "leases", in file order. */
struct doc_record {
	/* The key as the file spells it (between the quotes, escapes kept)
	 * and the value as compact one-line JSON: what a rewrite puts back. */
	const char *key_text;
	size_t key_length;
	const char *text;		/* into the document, or owned */
	size_t length;
	char *owned;			/* text's allocation when it is not borrowed */
	char *owned_key;		/* the decoded key when the file escapes it */
	/* What the allocator needs; has_claim is 0 when the key is not a
	 * subnet key.  An unusable record claims its subnet for nobody. */
	int has_claim;
	struct lease_claim claim;
	char *owned_name;		/* claim.node_name's allocation */
	/* The whole record, decoded on demand by store_doc_lease. */
	struct ovl_lease *lease;
	/* 0 when the record cannot be decoded: it is skipped (not listed,
	 * never handed out, kept as it is on rewrites) and reason says why. */
	int usable;
	char *reason;
};

struct store_doc {
	int64_t version;		/* 0 when absent */
	int64_t revision;		/* 0 when absent */
	char *config;			/* "config" as compact JSON; NULL: absent */
	/* Members this version does not know, as compact "name":value pairs
	 * separated by commas, kept for rewrites; NULL when none. */
	char *others;
	struct doc_record *records;
	size_t count;
};

/* Reads text (length bytes, need not be NUL-terminated); records borrow
 * from text, which must outlive them.  -EBADMSG when the text is not one
 * JSON object or the members the store defines have the wrong type, with
 * the reason and the line and column in the ctx message; -ENOMEM. */
int store_doc_read(struct ovl_ctx *ctx, const char *text, size_t length,
		   struct store_doc *doc);
/* A new lease decoded from a usable record (-EBADMSG for another). */
int store_doc_decode(struct ovl_ctx *ctx, const struct doc_record *record,
		     struct ovl_lease **lease);
/* The same kept in record->lease, if not done yet. */
int store_doc_lease(struct ovl_ctx *ctx, struct doc_record *record);
/* 1 when record is usable and its key is key. */
int store_doc_record_is(const struct doc_record *record, const char *key);
void store_doc_record_clear(struct doc_record *record);
void store_doc_free(struct store_doc *doc);

#endif
