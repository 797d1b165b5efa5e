/*
 * backend-hostgw.c - the host-gw backend: no device and no BackendData,
 * a route per peer via its public IP on the underlay, which must hold the
 * address we advertise and reach every peer on-link.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "agent/node-backend.h"

/* The name ovl_link_open takes: host-gw:IFACE, host-gw-v6:IFACE. */
static void plane_name(const struct ovl_node *node, struct node_plane *plane)
{
	snprintf(plane->device, sizeof(plane->device), "%s:%s",
		 plane->family == AF_INET ? "host-gw" : "host-gw-v6", node->underlay.iface);
}

/* The routes of a previous run are ours when we held a record: they stay
 * if the start fails. */
static int plane_previous(struct ovl_node *node, struct node_plane *plane,
			  struct ovl_lease *const *leases, size_t count)
{
	plane->existed = node->lease_existed;
	return 0;
}

static int plane_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_hostgw_options options = OVL_HOSTGW_OPTIONS_INIT;

	/* The advertised address: ovl_hostgw_up refuses one the underlay does
	 * not hold (NAT), as flannel does. */
	options.local = plane->family == AF_INET ? node->public_ip : node->public_ipv6;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	return ovl_hostgw_up(node->ctx, &options, link);
}

/* A peer whose public IP is not on-link, or whose subnet holds an address
 * of ours, cannot be routed to: skipped, not a failure. */
static int refuses_peer(int err)
{
	return err == -ENETUNREACH || err == -EINVAL;
}

static const char *const peer_types[] = { "host-gw", NULL };

const struct node_backend_ops backend_hostgw = {
	.name = "host-gw",
	.peer_types = peer_types,
	.outlives_node = 1,
	.plane_name = plane_name,
	.plane_previous = plane_previous,
	.plane_up = plane_up,
	.refuses_peer = refuses_peer,
};
