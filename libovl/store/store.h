/*
 * store.h - the store interface every backend (file, etcd, kube) implements, and
 * the generic watch machinery (watch.c) they feed.
 */
#ifndef OVL_STORE_H
#define OVL_STORE_H

#include "lease/lease.h"

struct ovl_watch;
struct store_async;

/* How a non-blocking request ends (store_async_*): done functions run from
 * store_async_dispatch, never from the call that started the request; on
 * failure err < 0 with the reason in the ctx.  A list_done owns the leases
 * (free with ovl_leases_free). */
typedef void (*store_list_done)(void *arg, int err, struct ovl_lease **leases,
				size_t count);
typedef void (*store_lease_done)(void *arg, int err, struct ovl_lease *lease);
/* changed: STORE_CHANGED_SINCE_LISTING when the store differs from the
 * last listing the async delivered, STORE_CHANGED_SINCE_WATCH when it
 * differs from what the caller's watch knew (or there was none),
 * STORE_WATCH_STOPPED when the store's watches stopped following since
 * (kube): what a watch knows is no longer worth waiting for. */
#define STORE_CHANGED_SINCE_LISTING 1
#define STORE_CHANGED_SINCE_WATCH 2
#define STORE_WATCH_STOPPED 4
typedef void (*store_changed_done)(void *arg, int err, int changed);

/* What a store knows of the host an agent starts on (store_host_read;
 * free with store_host_clear). */
struct store_host {
	char node_name[254];		/* "" when the store cannot say */
	char public_ip[46];		/* pinned for the host, "" when not */
	char public_ipv6[46];
	/* own_known: the store read the host's record on the way (kube: its
	 * Node), so own is it (NULL: none) and no listing is needed to find
	 * it. */
	int own_known;
	struct ovl_lease *own;
};

/* Every hook records its reason with ctx_fail(store->ctx, ...) on failure.
 * The generic layer (store.c) has already checked the arguments. */
struct store_ops {
	const char *scheme;	/* "file", "etcd", "etcds" */
	/* uri is the whole URI; state goes into store->state. */
	int (*open)(struct ovl_store *store, const char *uri);
	void (*close)(struct ovl_store *store);
	/* Raw JSON text of the stored network config; -ENOENT when none. */
	int (*config_get)(struct ovl_store *store, char **json);
	/* json has been validated by ovl_config_parse already. */
	int (*config_put)(struct ovl_store *store, const char *json);
	/* Every record including expired ones; *revision the store's revision. */
	int (*list)(struct ovl_store *store, struct ovl_lease ***leases,
		    size_t *count, uint64_t *revision);
	/* Optional: the records alive now, in one listing without a request
	 * per record, expiration INT64_MAX when the store deletes expired
	 * records itself (as async_list).  NULL: list, expired ones dropped. */
	int (*list_alive)(struct ovl_store *store, struct ovl_lease ***leases,
			  size_t *count);
	/* Choose (lease_choose) and write atomically against racing writers.
	 * request is always a whole struct (store.c copies short ones). */
	int (*acquire)(struct ovl_store *store, const struct ovl_config *config,
		       const struct ovl_lease_request *request,
		       struct ovl_lease **lease);
	/* Compare-and-swap: -ESTALE (and lease->lost = 1) when the stored
	 * record is gone or held by another node; else lease->expiration is
	 * updated. ttl_seconds 0 means LEASE_DEFAULT_TTL. */
	int (*renew)(struct ovl_store *store, struct ovl_lease *lease,
		     unsigned int ttl_seconds);
	/* Deletes the record only while it is still ours; gone is success. */
	int (*release)(struct ovl_store *store, const struct ovl_lease *lease);
	/* Watch hooks.  watch_open adds the backend's fds to watch->epoll_fd
	 * (EPOLLIN) and feeds the initial listing with watch_snapshot(); on
	 * failure it leaves nothing behind (watch_close is not called).
	 * watch_poll reads whatever is ready without blocking and feeds
	 * watch_snapshot()/watch_event(); ovl_watch_next calls it when no event
	 * is pending.  watch_close frees watch->state. */
	int (*watch_open)(struct ovl_watch *watch);
	int (*watch_poll)(struct ovl_watch *watch);
	void (*watch_close)(struct ovl_watch *watch);
	/* Optional, blocking (the store's timeout): what the store knows of
	 * the host an agent starts on, node_name when the caller knows it:
	 * the name when the caller does not (the kube store's node=, or the
	 * Node its pod= runs on) and the public addresses an operator pinned
	 * for it (the kube store's node-public-ip annotations). */
	int (*host)(struct ovl_store *store, const char *node_name, struct store_host *host);
	/* Non-blocking requests (see store_async_open below).  async_open
	 * adds the backend's fds to async->epoll_fd; async_close cancels
	 * what is under way without calling done functions. */
	int (*async_open)(struct store_async *async);
	void (*async_close)(struct store_async *async);
	int (*async_dispatch)(struct store_async *async);
	/* The records the agent needs: alive ones with expiration INT64_MAX
	 * when the store deletes expired records itself (etcd), else as
	 * list gives them. */
	int (*async_list)(struct store_async *async, store_list_done done, void *arg);
	/* Optional: whether a listing now would tell the caller anything
	 * that the last listing this async delivered and a watch on the store
	 * have not (changed 1 when it cannot tell), in at most one small
	 * request at any number of records; watch (or NULL) is compared
	 * too (see store_async_changed). */
	int (*async_changed)(struct store_async *async, const struct ovl_watch *watch,
			     store_changed_done done, void *arg);
	/* As renew; lease is updated (or marked lost) before done runs and
	 * must stay valid until then. */
	int (*async_renew)(struct store_async *async, struct ovl_lease *lease,
			   unsigned int ttl_seconds, store_lease_done done, void *arg);
	/* As acquire; request is copied. */
	int (*async_acquire)(struct store_async *async, const struct ovl_config *config,
			     const struct ovl_lease_request *request,
			     store_lease_done done, void *arg);
};

struct ovl_store {
	const struct store_ops *ops;
	struct ovl_ctx *ctx;
	void *state;
};

extern const struct store_ops store_file_ops;
extern const struct store_ops store_etcd_ops;
extern const struct store_ops store_kube_ops;

/* Generic watch state (watch.c): the known set, the pending events. */
struct watch_known;
struct watch_pending;
struct ovl_watch {
	struct ovl_store *store;
	int epoll_fd;			/* what ovl_watch_fd returns */
	/* Opened with STORE_WATCH_NONBLOCKING: the open returns at once and
	 * the first listing arrives later as events. */
	int nonblocking;
	/* Opened with STORE_WATCH_ALIVE_ONLY: records carry expiration
	 * INT64_MAX instead of one looked up per record where the store
	 * deletes expired records itself (etcd), as store_list_alive. */
	int alive_only;
	void *state;			/* the backend's */
	struct watch_known *known;	/* last known record per key */
	struct watch_pending *pending;	/* events not yet returned */
	/* Set by watch_snapshot: the earliest expiration among the known
	 * records, 0 when none expires (backends without server-side expiry
	 * arm a timer for it). */
	int64_t next_expiration;
	/* Times the backend lost its connection and resumed (etcd, kube). */
	uint64_t reconnects;
	/* Listings after the first: the store could not resume (etcd's
	 * compaction, kube's 410 Gone) or a listing failed midway. */
	uint64_t relists;
};

/* A full listing: emit ADDED for new or changed records, REMOVED (with the
 * last known record) for vanished or expired ones.  Takes ownership of the
 * records and of the leases array. */
int watch_snapshot(struct ovl_watch *watch, struct ovl_lease **leases,
		   size_t count, int64_t now);
/* One incremental change (OVL_WATCH_ADDED or OVL_WATCH_REMOVED; a removal
 * needs only the key and is reported with the last known record, or not at
 * all when the key was never reported).  Takes ownership of lease. */
int watch_event(struct ovl_watch *watch, int event, struct ovl_lease *lease);
/* What the watch knows, as a store's mark of its records: how many, and
 * the newest revision among them (etcd: what a probe of the store answers
 * when the watch has everything). */
void watch_mark(const struct ovl_watch *watch, int64_t *count, int64_t *newest);

/* ovl_watch_open with flags: STORE_WATCH_NONBLOCKING, without waiting for
 * the first listing (for callers that must not block: an unreachable store
 * shows as no events, and in ovl_watch_next's errors, instead of a failed
 * open); STORE_WATCH_ALIVE_ONLY, for callers that never need other
 * records' expirations (see ovl_watch.alive_only). */
#define STORE_WATCH_NONBLOCKING 1u
#define STORE_WATCH_ALIVE_ONLY 2u
int store_watch_open(struct ovl_store *store, unsigned int flags, struct ovl_watch **watch);

/* What the store knows of this host (store_ops.host; all "" when it has no
 * such hook). */
int store_host_read(struct ovl_store *store, const char *node_name, struct store_host *host);
void store_host_clear(struct store_host *host);

/* The records alive now, with expirations only where they come for free
 * (see store_ops.list_alive): the agent's listing. */
int store_list_alive(struct ovl_store *store, struct ovl_lease ***leases, size_t *count);

/* ---- requests that never block (store-async.c) ----------------------
 * The agent runs inside someone else's event loop: its renewals, listings
 * and re-acquisitions start at once and end in a done function called from
 * store_async_dispatch when the async's fd is readable.  Each request has a
 * deadline (the store's timeout) and fails with -ETIMEDOUT after it; a file
 * store's lock is tried, never waited for. */
struct store_async {
	struct ovl_store *store;
	int epoll_fd;			/* what store_async_fd returns */
	void *state;			/* the backend's */
};
int store_async_open(struct ovl_store *store, struct store_async **async);
int store_async_fd(const struct store_async *async);
/* Handles what is ready, without blocking: 0, or -errno when the async
 * itself broke (its requests have then failed). */
int store_async_dispatch(struct store_async *async);
/* Cancels every request under way: no done function runs after this. */
void store_async_close(struct store_async *async);
int store_async_list(struct store_async *async, store_list_done done, void *arg);
/* Whether a listing would tell more than the last one this async delivered
 * and the watch since: lets a periodic resync skip listing N records.
 * watch (or NULL): the caller's, compared too (its mark is taken at the
 * call): when the caller's table is that watch's first listing and every
 * event since, a store that matches the watch has not changed for it,
 * however much it changed since the last listing.  -EOPNOTSUPP (at once,
 * without a message) when the store cannot tell. */
int store_async_changed(struct store_async *async, const struct ovl_watch *watch,
			store_changed_done done, void *arg);
int store_async_renew(struct store_async *async, struct ovl_lease *lease,
		      unsigned int ttl_seconds, store_lease_done done, void *arg);
int store_async_acquire(struct store_async *async, const struct ovl_config *config,
			const struct ovl_lease_request *request, store_lease_done done,
			void *arg);

/* The blocking acquire, renew and list made of the async hooks (one
 * request on a private async, dispatched until it ends), for backends
 * whose operations are chains of requests; *revision is 0. */
int store_wait_acquire(struct ovl_store *store, const struct ovl_config *config,
		       const struct ovl_lease_request *request, struct ovl_lease **lease);
int store_wait_renew(struct ovl_store *store, struct ovl_lease *lease, unsigned int ttl_seconds);
int store_wait_list(struct ovl_store *store, struct ovl_lease ***leases, size_t *count,
		    uint64_t *revision);

#endif
