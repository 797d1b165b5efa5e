/*
 * etcd.h - the etcd v3 JSON gateway as store-etcd.c and etcd-watch.c use it:
 * the client (endpoints, TLS, auth, blocking and multi-interface requests,
 * etcd-client.c) and the defensive reply parsing (etcd-reply.c).
 */
#ifndef OVL_ETCD_H
#define OVL_ETCD_H

#include <stdint.h>
#include <curl/curl.h>
#include <jansson.h>

#include "store/http-loop.h"
#include "store/store.h"

#define ETCD_DEFAULT_PREFIX "/coreos.com/network"
#define ETCD_DEFAULT_PORT 2379
/* A reply (or one watch line) larger than this is refused: -EMSGSIZE. */
#define ETCD_REPLY_MAX (64u << 20)

struct etcd_client {
	struct ovl_ctx *ctx;
	char **endpoints;		/* "http://127.0.0.1:2379" */
	size_t endpoint_count;
	size_t current;			/* the endpoint in use */
	char *prefix;			/* "/coreos.com/network", no trailing '/' */
	char *cacert, *cert, *key;
	char *username, *password;
	char *token;			/* from auth/authenticate */
	long timeout_ms, connect_timeout_ms;
	CURL *easy;			/* blocking calls; keeps the connection */
};

/* Parses the URI (see ovl_store_open(3)); authenticates when a username
 * is given. */
int etcd_client_open(struct ovl_ctx *ctx, const char *uri,
		     struct etcd_client **client);
void etcd_client_close(struct etcd_client *client);

/* POST request (stolen, may be NULL for ENOMEM) to path ("/v3/kv/range") and
 * return the reply object.  Fails over to the next endpoint on connection
 * errors, re-authenticates once on 401. */
int etcd_call(struct etcd_client *client, const char *path, json_t *request,
	      json_t **reply);

/* Requests driven by a caller's curl multi handle. */
struct etcd_request;
/* reply is borrowed; err < 0 with the reason in the client's ctx. */
typedef void (*etcd_done_fn)(void *arg, int err, json_t *reply);
/* line (may be NULL) makes it a stream; timeout_ms bounds a request that
 * is not one (0: the client's timeout). */
int etcd_request_start(struct etcd_client *client, struct http_loop *loop,
		       const char *path, json_t *request, long timeout_ms, http_line_fn line,
		       etcd_done_fn done, void *arg, struct etcd_request **out);
/* Removes and frees without calling done. */
void etcd_request_cancel(struct http_loop *loop, struct etcd_request *request);


/* The etcd store's state (store-etcd.c), shared with its watch. */
struct etcd_store {
	struct etcd_client *client;
	char *subnets;			/* "<prefix>/subnets/" */
	char *config_key;		/* "<prefix>/config" */
	/* The last list_alive's records, for an acquisition that follows at
	 * once (a node starting lists, then acquires): its writes compare
	 * revisions, so a stale choice costs only a fresh listing. */
	struct ovl_lease **recent;
	size_t recent_count;
	int64_t recent_ms;		/* monotonic */
	int64_t recent_revision;	/* the etcd revision it was read at */
	int recent_lent;		/* to an acquisition already */
};
/* The recent listing (1 when there is one younger than a second, not lent
 * before), lent: it stays the store's. */
int etcd_recent_borrow(struct etcd_store *store, struct ovl_lease ***leases, size_t *count);
/* Takes the recent listing and its revision: an agent's watch opening
 * right after the start's listing begins from it instead of listing every
 * record again (0 when there is none). */
int etcd_recent_take(struct etcd_store *store, struct ovl_lease ***leases, size_t *count,
		     int64_t *revision);

/* Errors after which another endpoint may do better (and a retry may do
 * better later: a cluster electing a leader answers 503, -EAGAIN). */
int etcd_is_connection_error(int err);
/* The body of /v3/auth/authenticate, and taking the token from its reply. */
json_t *etcd_authenticate_request(const struct etcd_client *client);
int etcd_token_take(struct etcd_client *client, const json_t *reply);

/* ---- the store's requests and their replies (pure, etcd-kv.c) ---- */

/* A range request for every key under prefix (stolen by etcd_call). */
json_t *etcd_prefix_range(const char *prefix);
/* Listings come in pages of ETCD_PAGE keys, so that 10,000 records never
 * make one reply of megabytes (and its JSON tree) at once. */
#define ETCD_PAGE 1000
/* The request for the page of keys under prefix that follows the reply
 * after (NULL: the first page), read at revision (the first page's header
 * revision, so the pages make one snapshot).  NULL: out of memory, or
 * after holds no key. */
json_t *etcd_page_request(const char *prefix, const json_t *after, int64_t revision);
/* 1 when a range reply says more keys follow. */
int etcd_page_more(const json_t *reply);
/* What tells whether the keys under a prefix changed: how many there are
 * and the newest mod_revision among them.  Any put raises the newest (etcd's
 * revisions only grow), a delete alone lowers the count: equal marks, same
 * keys and values. */
struct etcd_mark {
	int64_t count, newest;
};
/* A range request for the mark alone: the newest key, without its value,
 * and the count of all (one small reply at any N). */
json_t *etcd_newest_request(const char *prefix);
/* Adds a range reply (that of etcd_newest_request, or a page of a listing)
 * to mark, which starts zeroed: the count is the first reply's. */
int etcd_mark_of(struct ovl_ctx *ctx, const json_t *reply, struct etcd_mark *mark);
json_t *etcd_grant_request(unsigned int ttl);
/* The granted etcd lease's ID; -EPROTO without an ID and TTL. */
int etcd_grant_reply(struct ovl_ctx *ctx, const json_t *reply, int64_t *id);
json_t *etcd_revoke_request(int64_t id);
/* Writes value (NULL: deletes) at key, attached to etcd lease lease_id
 * (0: none), when the key is still at mod_revision (0: when it does not
 * exist). */
json_t *etcd_txn_request(const char *key, const char *value, int64_t mod_revision,
			 int64_t lease_id);
/* *done 0 when the compare failed; *revision the store's after the txn. */
int etcd_txn_reply(struct ovl_ctx *ctx, const char *key, const json_t *reply, int *done,
		   int64_t *revision);
/* acquire's choice from a listing (whose leased records count as alive):
 * the new record, the index of an old record of ours to drop first (-1:
 * none), and the listed record at the chosen key (NULL: none). */
struct etcd_choice {
	struct ovl_lease *chosen;
	long dropped;
	const struct ovl_lease *existing;
};
int etcd_acquire_choose(struct ovl_ctx *ctx, const struct ovl_config *config,
			const struct ovl_lease_request *request, struct ovl_lease **leases,
			size_t count, int64_t now, struct etcd_choice *choice);

/* ---- operations that never block (etcd-async.c): store_ops hooks ---- */
int etcd_async_open(struct store_async *async);
void etcd_async_close(struct store_async *async);
int etcd_async_dispatch(struct store_async *async);
int etcd_async_list(struct store_async *async, store_list_done done, void *arg);
int etcd_async_changed(struct store_async *async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg);
int etcd_async_renew(struct store_async *async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg);
int etcd_async_acquire(struct store_async *async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg);
/* Runs the async's loop until *finished is set and no request of it is
 * left: 0, or the loop's -errno. */
int etcd_async_wait(struct store_async *async, const int *finished);
/* The same operations run to their end (etcd-wait.c): the store's blocking
 * acquire and renew. */
int etcd_acquire_wait(struct ovl_store *store, const struct ovl_config *config,
		      const struct ovl_lease_request *request, struct ovl_lease **lease);
int etcd_renew_wait(struct ovl_store *store, struct ovl_lease *lease, unsigned int ttl_seconds);
/* Sets each record's expiration from its etcd lease (TimeToLive, blocking:
 * one batch of concurrent requests, one per distinct etcd lease, etcd-ttl.c);
 * keys without one are reservations (0); a lease already gone reads as
 * expired at now.  Only ovl_leases asks: the agent never needs them. */
int etcd_fill_expirations(struct etcd_client *client, struct ovl_lease **leases,
			  size_t count, int64_t now);
/* What a listing holds is alive: expiration INT64_MAX (0: reservation). */
void etcd_leases_alive(struct ovl_lease **leases, size_t count);

/* The watch (etcd-watch.c): store_ops hooks. */
int etcd_watch_open(struct ovl_watch *watch);
int etcd_watch_poll(struct ovl_watch *watch);
void etcd_watch_close(struct ovl_watch *watch);

/* ---- reply parsing (pure, etcd-reply.c) ---- */

/* An HTTP exchange's outcome: the reply object, or a specific -errno with
 * the reason in ctx (what names the endpoint and call). */
int etcd_reply_parse(struct ovl_ctx *ctx, const char *what, long status,
		     const char *body, size_t size, json_t **reply);
/* int64 field sent as a string or number; absent means 0. -EPROTO else. */
int etcd_int64(const json_t *object, const char *name, int64_t *value);
/* base64 field, decoded and NUL-terminated; absent means "". */
int etcd_bytes(const json_t *object, const char *name, char **data,
	       size_t *size);
/* The reply header's revision (-EPROTO without one). */
int etcd_revision(const json_t *reply, int64_t *revision);
/* 1 when the txn's compares held, 0 when not (the field is omitted). */
int etcd_txn_succeeded(const json_t *reply);
/* A JSON string holding base64(text). */
json_t *etcd_b64(const char *text);
/* The end of the range of keys starting with prefix (last byte + 1). */
char *etcd_prefix_end(const char *prefix);

/* One KeyValue under subnets (".../subnets/") as a lease record: revision =
 * mod_revision, store_id = etcd lease ID, expiration left 0.  -ENOENT
 * (without a message) when the key is not under subnets. */
int etcd_kv_lease(struct ovl_ctx *ctx, const json_t *kv, const char *subnets,
		  struct ovl_lease **lease);

/* A range reply of the subnets prefix: every parsable lease record (the
 * rest logged and skipped) and the store revision. */
int etcd_listing_parse(struct ovl_ctx *ctx, const json_t *reply,
		       const char *subnets, struct ovl_lease ***leases,
		       size_t *count, int64_t *revision);
/* The same, adding to *leases and *count (a page of a paged listing); on
 * failure they are as they were (the array perhaps moved). */
int etcd_listing_append(struct ovl_ctx *ctx, const json_t *reply,
			const char *subnets, struct ovl_lease ***leases,
			size_t *count, int64_t *revision);
/* The TTL of a timetolive or keepalive reply; -ENOENT when the lease is
 * gone (TTL -1 or omitted), -EPROTO when malformed. */
int etcd_ttl_parse(const json_t *reply, int64_t *ttl);

enum etcd_line_kind {
	ETCD_LINE_CREATED,	/* the watch is in place */
	ETCD_LINE_EVENTS,	/* events (possibly none: progress) */
	ETCD_LINE_CANCELED,	/* compacted or cancelled: re-list */
};
struct etcd_watch_line {
	enum etcd_line_kind kind;
	int64_t revision;
	int64_t compact_revision;
	const json_t *events;	/* borrowed from the line; may be NULL */
};
/* One line of a watch stream; errors carry etcd's message. */
int etcd_watch_line_parse(struct ovl_ctx *ctx, const json_t *line,
			  struct etcd_watch_line *out);
/* One event: *deleted, and its kv / prev_kv (NULL when absent). */
int etcd_event_parse(struct ovl_ctx *ctx, const json_t *event, int *deleted,
		     const json_t **kv, const json_t **prev_kv);

#endif
