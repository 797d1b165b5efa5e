/*
 * node-repair.c - the agent's devices kept alive: link events tell when a
 * device was deleted, replaced, set down or flapped, and the repair
 * recreates it (same MAC) and replays every peer.  A device a userspace
 * program makes comes later: its repair ends when its link says so.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent/node-backend.h"

/* ---------------------------------------------------------- link events */

static void need_repair(struct node_plane *plane, const char *why)
{
	if (!plane->repair) {
		plane->repair = why;
		plane->repair_at = node_now_ms();
		plane->repair_backoff_ms = 0;
	}
}

void node_link_event(void *userdata, int event, int ifindex, const char *name,
		     unsigned int flags)
{
	struct ovl_node *node = userdata;
	int i;

	if (node->discarding_links)
		return;
	if (!node->backend->has_device) {
		/* No device to repair; an underlay set down loses our routes. */
		if (event == LINKWATCH_NEW && ifindex == node->underlay.ifindex) {
			if ((flags & IFF_UP) && !node->underlay_up) {
				ctx_log(node->ctx, OVL_LOG_NOTICE,
					"%s is up again: reinstalling the routes", name);
				node->resync_at = node_now_ms();
			}
			node->underlay_up = (flags & IFF_UP) != 0;
		}
		return;
	}
	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];

		/* A carried plane's device is its carrier's; a pending one is
		 * its link's business until it came up. */
		if (plane->carrier != i || plane->pending)
			continue;
		if (event == LINKWATCH_DEL && ifindex == plane->ifindex) {
			need_repair(plane, "deleted");
		} else if (event == LINKWATCH_NEW && ifindex != plane->ifindex &&
			   !strcmp(name, plane->device)) {
			need_repair(plane, "replaced");
		} else if (event == LINKWATCH_NEW && ifindex == plane->ifindex) {
			/* Down and up again wipes the device's routes and
			 * permanent neighbours: a flap needs a replay too. */
			if (!(flags & IFF_UP))
				need_repair(plane, "set down");
			else if (!plane->known_up)
				need_repair(plane, "flapped");
			plane->known_up = (flags & IFF_UP) != 0;
		}
	}
}

void node_link_events_read(struct ovl_node *node)
{
	int err = linkwatch_read(node->links), i;

	if (err == -ENOBUFS && !node->backend->has_device) {
		node->resync_at = node_now_ms();
	} else if (err == -ENOBUFS) {
		for (i = 0; i < node->nplanes; i++)
			if (node->planes[i].carrier == i && !node->planes[i].pending)
				need_repair(&node->planes[i], "link events were lost");
	} else if (err < 0) {
		ctx_log(node->ctx, OVL_LOG_WARNING, "reading link events: %s",
			ovl_strerror(err));
	}
}

void node_link_events_discard(struct ovl_node *node)
{
	node->discarding_links = 1;
	linkwatch_read(node->links);
	node->discarding_links = 0;
}

int node_planes_need_repair(const struct ovl_node *node)
{
	int i;

	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].repair || node->planes[i].pending || node->planes[i].stalled)
			return 1;
	return 0;
}

/* The end of a repair: logged, counted, and our own changes' events are
 * not news. */
static void repaired(struct ovl_node *node, struct node_plane *plane)
{
	ctx_log(node->ctx, OVL_LOG_NOTICE,
		"%s %s: brought back with %s%s%ssubnet %s, %zu peers replayed",
		plane->device, plane->repair, plane->mac[0] ? "MAC " : "", plane->mac,
		plane->mac[0] ? ", " : "", plane->subnet, node_peer_count(node));
	node->metrics.device_recreations++;
	plane->repair = NULL;
}

void node_plane_came_up(struct ovl_node *node, int i)
{
	struct node_plane *plane = &node->planes[i];
	int j;

	plane->pending = 0;
	plane->ifindex = ovl_link_ifindex(plane->link);
	plane->known_up = 1;
	for (j = 0; j < node->nplanes; j++)
		if (j != i && node->planes[j].carrier == i)
			node->planes[j].ifindex = plane->ifindex;
	if (plane->repair)
		repaired(node, plane);
	node_link_events_discard(node);
}

void node_plane_failed(struct ovl_node *node, int i, int err)
{
	struct node_plane *plane = &node->planes[i];
	char what[64];

	plane->pending = 0;
	snprintf(what, sizeof(what), "starting %s", plane->device);
	node->metrics.netlink_errors++;
	node_error(node, err, what);
	if (!plane->repair)
		plane->repair = "failed to start";
	plane->repair_at = node_now_ms() + node_backoff(&plane->repair_backoff_ms);
}

static int repair_plane(struct ovl_node *node, int i)
{
	struct node_plane *plane = &node->planes[i];
	int err, old_ifindex;

	/* A new subnet: start from a clean device rather than leave the old
	 * address (and what routes through it) behind. */
	if ((!strcmp(plane->repair, "subnet changed") || plane->recreate) && plane->link) {
		err = ovl_link_down(plane->link);
		if (err < 0)
			return err;
		plane->recreate = 0;
	}
	old_ifindex = plane->ifindex;
	err = node_plane_up(node, plane);
	/* "down" is announced before a deletion; a new ifindex tells. */
	if (err == 0 && plane->ifindex != old_ifindex && !strcmp(plane->repair, "set down"))
		plane->repair = "deleted";
	/* The other side still holds a session with the device that went:
	 * ours starts the new one rather than wait for its traffic. */
	if (err == 0)
		err = node_sync_plane(node, i, OVL_PEER_HANDSHAKE);
	return err;
}

void node_repair_planes(struct ovl_node *node)
{
	int i, err, any = 0;
	int64_t now = node_now_ms();

	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];
		char what[64];

		if (!plane->repair || plane->pending || now < plane->repair_at)
			continue;
		any = 1;
		err = repair_plane(node, i);
		if (err < 0) {
			snprintf(what, sizeof(what), "repairing %s (%s)", plane->device,
				 plane->repair);
			node->metrics.netlink_errors++;
			node_error(node, err, what);
			plane->repair_at = node_now_ms() + node_backoff(&plane->repair_backoff_ms);
			continue;
		}
		/* A program starting: the repair ends when its link says it
		 * came up (node_plane_came_up). */
		if (!plane->pending)
			repaired(node, plane);
	}
	if (any)
		node_link_events_discard(node);
}
