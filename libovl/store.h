/*
 * store.h - the store interface every backend (file, etcd) implements, and
 * the generic watch machinery they feed.
 */
#ifndef OVL_STORE_H
#define OVL_STORE_H

#include "lease.h"

struct ovl_watch;

struct store_ops {
	const char *scheme;	/* "file", "etcd", "etcds" */
	/* uri is the whole URI; state goes into store->state. */
	int (*open)(struct ovl_store *store, const char *uri);
	void (*close)(struct ovl_store *store);
	/* Raw JSON text of the stored network config; -ENOENT when none. */
	int (*config_get)(struct ovl_store *store, char **json);
	int (*config_put)(struct ovl_store *store, const char *json);
	/* Every record including expired ones; *revision the store's revision. */
	int (*list)(struct ovl_store *store, struct ovl_lease ***leases,
		    size_t *count, uint64_t *revision);
	/* Choose (lease_choose) and write atomically against racing writers. */
	int (*acquire)(struct ovl_store *store, const struct ovl_config *config,
		       const struct ovl_lease_request *request,
		       struct ovl_lease **lease);
	int (*renew)(struct ovl_store *store, struct ovl_lease *lease,
		     unsigned int ttl_seconds);
	int (*release)(struct ovl_store *store, const struct ovl_lease *lease);
	/* Watch hooks: open sets watch->fd-facing state; poll reads what is
	 * ready without blocking and feeds watch_snapshot()/watch_event(). */
	int (*watch_open)(struct ovl_watch *watch);
	int (*watch_poll)(struct ovl_watch *watch);
	void (*watch_close)(struct ovl_watch *watch);
};

struct ovl_store {
	const struct store_ops *ops;
	struct ovl_ctx *ctx;
	void *state;
};

extern const struct store_ops store_file_ops;
extern const struct store_ops store_etcd_ops;

/* Generic watch state (store.c): the known set, the pending events. */
struct watch_event_queue;
struct ovl_watch {
	struct ovl_store *store;
	int epoll_fd;			/* what ovl_watch_fd returns */
	void *state;			/* the backend's */
	struct watch_known *known;	/* last known record per key */
	struct watch_pending *pending;	/* events not yet returned */
};

/* A full listing: emit ADDED for new or changed records, REMOVED (with the
 * last known record) for vanished or expired ones.  Takes ownership. */
int watch_snapshot(struct ovl_watch *watch, struct ovl_lease **leases,
		   size_t count, int64_t now);
/* One incremental change.  Takes ownership of lease. */
int watch_event(struct ovl_watch *watch, int event, struct ovl_lease *lease);

#endif
