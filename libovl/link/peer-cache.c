/*
 * peer-cache.c - a link's checked plans kept from one sync to the next:
 * the agent syncs the same peers on every resync, and parsing, checking
 * and indexing 10,000 of them again was an eighth of the resync.  They are
 * reused only when every peer's text is what it was and nothing else the
 * checks read can have changed: not with DirectRouting, where which peers
 * are on-link depends on the addresses the devices have now.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "link/peer.h"

struct peer_cache {
	struct plan_set set;
	size_t count;
	char *text;		/* per peer: subnet, public IP and MAC, each a
				 * byte (0: NULL, 1: a string) and the string */
};

/* The fields a check reads of peer. */
static const char *field(const struct ovl_peer *peer, int i)
{
	return i == 0 ? peer->subnet : i == 1 ? peer->public_ip : peer->mac;
}

static char *peers_text(const struct ovl_peer *peers, size_t count)
{
	size_t i, length = 1;
	char *text, *at;
	int f;

	for (i = 0; i < count; i++)
		for (f = 0; f < 3; f++)
			length += 1 + (field(&peers[i], f) ? strlen(field(&peers[i], f)) + 1 : 0);
	text = malloc(length);
	for (i = 0, at = text; text && i < count; i++) {
		for (f = 0; f < 3; f++) {
			*at++ = field(&peers[i], f) != NULL;
			if (field(&peers[i], f))
				at = stpcpy(at, field(&peers[i], f)) + 1;
		}
	}
	return text;
}

static int same_text(const char *text, const struct ovl_peer *peers, size_t count)
{
	const char *value;
	size_t i;
	int f;

	for (i = 0; i < count; i++) {
		for (f = 0; f < 3; f++) {
			value = field(&peers[i], f);
			if (*text++ != (value != NULL))
				return 0;
			if (!value)
				continue;
			/* One pass: the text and its NUL. */
			while (*value && *text == *value)
				text++, value++;
			if (*text++ != *value)
				return 0;
		}
	}
	return 1;
}

void kernel_peers_forget(struct ovl_link *link)
{
	struct peer_cache *c = link->peer_cache;

	if (!c)
		return;
	peer_plan_set_free(&c->set);
	free(c->text);
	free(c);
	link->peer_cache = NULL;
}

/* What a sync found and did with the plans goes. */
static void plans_reset(struct plan_set *set)
{
	struct plan *all = set->plans.items;
	size_t i;

	for (i = 0; i < set->plans.count; i++) {
		all[i].nh_id = 0;
		all[i].failed = 0;
		all[i].neigh_ok = all[i].fdb_ok = all[i].nh_fresh = all[i].route_ok = 0;
	}
}

int peer_plans_get(struct ovl_link *link, const struct ovl_peer *peers, size_t count,
		   struct plan_set **set)
{
	struct peer_cache *c = link->peer_cache;
	int err;

	if (c && c->text && c->count == count && same_text(c->text, peers, count)) {
		plans_reset(&c->set);
		*set = &c->set;
		return 0;
	}
	kernel_peers_forget(link);
	c = calloc(1, sizeof(*c));
	if (!c)
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	err = peer_plan_all(link, peers, count, &c->set);
	if (err < 0) {
		peer_plan_set_free(&c->set);
		free(c);
		return err;
	}
	c->count = count;
	/* Without its text (DirectRouting, or no memory for it) the set is
	 * dropped after this sync (peer_plans_put). */
	if (!link->direct_routing)
		c->text = peers_text(peers, count);
	link->peer_cache = c;
	*set = &c->set;
	return 0;
}

void peer_plans_put(struct ovl_link *link)
{
	if (link->peer_cache && !link->peer_cache->text)
		kernel_peers_forget(link);
}
