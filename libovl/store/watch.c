/*
 * watch.c - the generic watch every store backend feeds: it turns full
 * listings (watch_snapshot) and single changes (watch_event) into an
 * ordered ADDED/REMOVED event queue, and the public ovl_watch_* calls
 * around it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "store/store.h"

/* Records sorted by key; the newest revision among them, recounted at the
 * next watch_mark when a change may have lowered it. */
struct watch_known {
	struct ovl_lease **items;
	size_t count;
	uint64_t newest;
	int newest_stale;
};

struct pending_event {
	int event;
	struct ovl_lease *lease;
};

/* A FIFO: events from head to count. */
struct watch_pending {
	struct pending_event *items;
	size_t head, count, cap;
};

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_record(const struct ovl_lease *a, const struct ovl_lease *b)
{
	return a->expiration == b->expiration && same_text(a->public_ip, b->public_ip) &&
	       same_text(a->public_ipv6, b->public_ipv6) &&
	       same_text(a->backend_type, b->backend_type) &&
	       same_text(a->backend_data, b->backend_data) &&
	       same_text(a->backend_v6_data, b->backend_v6_data) &&
	       same_text(a->node_name, b->node_name);
}

/* Queues an event; takes lease even on failure. */
static int queue(struct ovl_watch *watch, int event, struct ovl_lease *lease)
{
	struct watch_pending *pending = watch->pending;
	struct pending_event *grown;

	if (!lease)
		return -ENOMEM;
	if (pending->head == pending->count)
		pending->head = pending->count = 0;
	if (pending->count == pending->cap) {
		if (pending->head) {
			memmove(pending->items, pending->items + pending->head,
				(pending->count - pending->head) * sizeof(*grown));
			pending->count -= pending->head;
			pending->head = 0;
		} else {
			grown = realloc(pending->items, (pending->cap ? 2 * pending->cap : 64) *
					sizeof(*grown));
			if (!grown) {
				ovl_lease_free(lease);
				return -ENOMEM;
			}
			pending->items = grown;
			pending->cap = pending->cap ? 2 * pending->cap : 64;
		}
	}
	pending->items[pending->count].event = event;
	pending->items[pending->count].lease = lease;
	pending->count++;
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp((*(struct ovl_lease *const *)a)->key, (*(struct ovl_lease *const *)b)->key);
}

static void update_next_expiration(struct ovl_watch *watch, const struct ovl_lease *lease)
{
	if (lease->expiration && (!watch->next_expiration ||
				  lease->expiration < watch->next_expiration))
		watch->next_expiration = lease->expiration;
}

int watch_snapshot(struct ovl_watch *watch, struct ovl_lease **leases,
		   size_t count, int64_t now)
{
	struct watch_known *known = watch->known;
	size_t i = 0, j, n = 0;
	int err = 0, order;

	/* drop expired and duplicate records, sort the rest by key */
	for (j = 0; j < count; j++) {
		if (lease_expired(leases[j], now))
			ovl_lease_free(leases[j]);
		else
			leases[n++] = leases[j];
	}
	count = n;
	if (count)
		qsort(leases, count, sizeof(*leases), compare_keys);
	for (j = n = 0; j < count; j++) {
		if (n && !strcmp(leases[n - 1]->key, leases[j]->key))
			ovl_lease_free(leases[j]);
		else
			leases[n++] = leases[j];
	}
	count = n;

	/* removals first (a node that moves shows its old subnet go, then its
	 * new one come), then additions and changes, each in key order */
	for (i = j = 0; i < known->count; i++) {
		while (j < count && strcmp(leases[j]->key, known->items[i]->key) < 0)
			j++;
		if (j < count && !strcmp(leases[j]->key, known->items[i]->key))
			continue;
		if (!err)
			err = queue(watch, OVL_WATCH_REMOVED, known->items[i]);
		else
			ovl_lease_free(known->items[i]);
		known->items[i] = NULL;
	}
	watch->next_expiration = 0;
	for (i = j = 0; j < count; j++) {
		while (i < known->count && (!known->items[i] ||
		       strcmp(known->items[i]->key, leases[j]->key) < 0))
			i++;
		order = i < known->count ? strcmp(known->items[i]->key, leases[j]->key) : 1;
		if (!err && (order || !same_record(known->items[i], leases[j])))
			err = queue(watch, OVL_WATCH_ADDED, lease_copy(leases[j]));
		update_next_expiration(watch, leases[j]);
	}
	for (i = 0; i < known->count; i++)
		ovl_lease_free(known->items[i]);
	free(known->items);
	known->items = leases;
	known->count = count;
	known->newest_stale = 1;
	return err;
}

void watch_mark(const struct ovl_watch *watch, int64_t *count, int64_t *newest)
{
	struct watch_known *known = watch->known;
	size_t i;

	if (known->newest_stale) {
		known->newest = 0;
		for (i = 0; i < known->count; i++)
			if (known->items[i]->revision > known->newest)
				known->newest = known->items[i]->revision;
		known->newest_stale = 0;
	}
	*count = (int64_t)known->count;
	*newest = (int64_t)known->newest;
}

/* Index of key in the known set, or where it would go (*found 0). */
static size_t known_find(const struct watch_known *known, const char *key, int *found)
{
	size_t lo = 0, hi = known->count;
	int order;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		order = strcmp(known->items[mid]->key, key);
		if (!order) {
			*found = 1;
			return mid;
		}
		if (order < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int watch_event(struct ovl_watch *watch, int event, struct ovl_lease *lease)
{
	struct watch_known *known = watch->known;
	struct ovl_lease **grown, *old;
	int found;
	size_t at = known_find(known, lease->key, &found);

	if (event == OVL_WATCH_REMOVED) {
		ovl_lease_free(lease);
		if (!found)
			return 0;
		old = known->items[at];
		memmove(known->items + at, known->items + at + 1,
			(known->count - at - 1) * sizeof(*known->items));
		known->count--;
		if (old->revision >= known->newest)
			known->newest_stale = 1;
		return queue(watch, OVL_WATCH_REMOVED, old);
	}
	if (found) {
		/* Written again unchanged (a renewal): nothing to report, but
		 * the store's revision moved, and the mark must follow it. */
		if (same_record(known->items[at], lease)) {
			known->items[at]->revision = lease->revision;
			known->items[at]->store_id = lease->store_id;
			if (lease->revision > known->newest)
				known->newest = lease->revision;
			ovl_lease_free(lease);
			return 0;
		}
		if (known->items[at]->revision >= known->newest)
			known->newest_stale = 1;
		ovl_lease_free(known->items[at]);
	} else {
		grown = realloc(known->items, (known->count + 1) * sizeof(*grown));
		if (!grown) {
			ovl_lease_free(lease);
			return -ENOMEM;
		}
		known->items = grown;
		memmove(known->items + at + 1, known->items + at,
			(known->count - at) * sizeof(*known->items));
		known->count++;
	}
	known->items[at] = lease;
	if (lease->revision > known->newest)
		known->newest = lease->revision;
	update_next_expiration(watch, lease);
	return queue(watch, OVL_WATCH_ADDED, lease_copy(lease));
}

static void watch_free(struct ovl_watch *watch)
{
	size_t i;

	if (watch->known) {
		for (i = 0; i < watch->known->count; i++)
			ovl_lease_free(watch->known->items[i]);
		free(watch->known->items);
		free(watch->known);
	}
	if (watch->pending) {
		for (i = watch->pending->head; i < watch->pending->count; i++)
			ovl_lease_free(watch->pending->items[i].lease);
		free(watch->pending->items);
		free(watch->pending);
	}
	if (watch->epoll_fd >= 0)
		close(watch->epoll_fd);
	free(watch);
}

OVL_EXPORT int ovl_watch_open(struct ovl_store *store, struct ovl_watch **watch)
{
	ctx_clear_error(store ? store->ctx : NULL);
	return store_watch_open(store, 0, watch);
}

int store_watch_open(struct ovl_store *store, unsigned int flags, struct ovl_watch **watch)
{
	struct ovl_watch *new_watch;
	int err;

	if (!store || !watch)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_watch_open: NULL watch") : -EINVAL;
	*watch = NULL;
	new_watch = calloc(1, sizeof(*new_watch));
	if (!new_watch)
		return ctx_fail(store->ctx, -ENOMEM, "watch: out of memory");
	new_watch->store = store;
	new_watch->nonblocking = !!(flags & STORE_WATCH_NONBLOCKING);
	new_watch->alive_only = !!(flags & STORE_WATCH_ALIVE_ONLY);
	new_watch->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	new_watch->known = calloc(1, sizeof(*new_watch->known));
	new_watch->pending = calloc(1, sizeof(*new_watch->pending));
	if (new_watch->epoll_fd < 0) {
		err = ctx_fail(store->ctx, -errno, "watch: epoll: %s", ovl_strerror(errno));
		watch_free(new_watch);
		return err;
	}
	if (!new_watch->known || !new_watch->pending) {
		watch_free(new_watch);
		return ctx_fail(store->ctx, -ENOMEM, "watch: out of memory");
	}
	err = store->ops->watch_open(new_watch);
	if (err < 0) {
		watch_free(new_watch);
		return err;
	}
	*watch = new_watch;
	return 0;
}

OVL_EXPORT int ovl_watch_fd(const struct ovl_watch *watch)
{
	return watch ? watch->epoll_fd : -EINVAL;
}

OVL_EXPORT int ovl_watch_next(struct ovl_watch *watch, int *event,
			      struct ovl_lease **lease)
{
	struct watch_pending *pending;
	int err;

	ctx_clear_error(watch ? watch->store->ctx : NULL);
	if (!watch || !event || !lease)
		return watch ? ctx_fail(watch->store->ctx, -EINVAL, "ovl_watch_next: NULL event "
					"or lease") : -EINVAL;
	*lease = NULL;
	pending = watch->pending;
	if (pending->head == pending->count) {
		err = watch->store->ops->watch_poll(watch);
		if (err < 0)
			return err;
		if (pending->head == pending->count)
			return ctx_fail(watch->store->ctx, -EAGAIN, "ovl_watch_next: no event pending");
	}
	*event = pending->items[pending->head].event;
	*lease = pending->items[pending->head].lease;
	pending->head++;
	return 0;
}

OVL_EXPORT void ovl_watch_close(struct ovl_watch *watch)
{
	if (!watch)
		return;
	watch->store->ops->watch_close(watch);
	watch_free(watch);
}
