/*
 * peer-cache.c - a link's checked plans kept from one sync to the next:
 * the agent syncs the same peers on every resync, and checking and
 * indexing 10,000 of them again was an eighth of the resync.  They are
 * reused when every peer reads as the same addresses and MAC as its plan
 * (the checks of the same values make the same plans) and nothing else
 * the checks read can have changed: not with DirectRouting, where which
 * peers are on-link depends on the addresses the devices have now.
 */
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/peer.h"

struct peer_cache {
	struct plan_set set;
	int reusable;
};

static int same_peers(const struct plan_set *set, const struct ovl_peer *peers, size_t count)
{
	const struct plan *all = set->plans.items;
	struct ovl_prefix value;
	unsigned char mac[6];
	size_t i;

	if (count != set->plans.count)
		return 0;
	for (i = 0; i < count; i++)
		if (ovl_prefix_parse(peers[i].subnet, &value) < 0 ||
		    !prefix_same(&value, &all[i].subnet) ||
		    ovl_addr_parse(peers[i].public_ip, &value) < 0 ||
		    !prefix_same(&value, &all[i].public_ip) ||
		    mac_parse(peers[i].mac, mac) < 0 || memcmp(mac, all[i].mac, 6))
			return 0;
	return 1;
}

void kernel_peers_forget(struct ovl_link *link)
{
	struct peer_cache *c = link->peer_cache;

	if (!c)
		return;
	peer_plan_set_free(&c->set);
	free(c);
	link->peer_cache = NULL;
}

/* What a sync found and did with the plans goes, but for the nexthop ids
 * the last sync left in the kernel (peer-diff.c checks them). */
static void plans_reset(struct plan_set *set)
{
	struct plan *all = set->plans.items;
	size_t i;

	for (i = 0; i < set->plans.count; i++) {
		if (!set->ids_known)
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

	if (c && c->reusable && same_peers(&c->set, peers, count)) {
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
	c->reusable = !link->direct_routing;
	link->peer_cache = c;
	*set = &c->set;
	return 0;
}

void peer_plans_put(struct ovl_link *link)
{
	if (link->peer_cache && !link->peer_cache->reusable)
		kernel_peers_forget(link);
}
