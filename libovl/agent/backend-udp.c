/*
 * backend-udp.c - the udp backend, IPv4 only as flannel's: a TUN device
 * (flannel0) whose packets this process forwards over UDP, so its fd joins
 * the node's epoll set and the data path ends with the node.  Peers written
 * by flanneld's udp backend, with an empty BackendType, are taken too.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "agent/node-backend.h"

static void plane_name(const struct ovl_node *node, struct node_plane *plane)
{
	snprintf(plane->device, sizeof(plane->device), "flannel0");
}

static void plane_free(struct ovl_node *node, struct node_plane *plane)
{
	if (node->epoll_fd >= 0)
		epoll_ctl(node->epoll_fd, EPOLL_CTL_DEL, ovl_link_fd(plane->link), NULL);
}

/* The TUN's fd joins the node's epoll set: readable node fd, dispatch. */
static int plane_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_udp_options options = OVL_UDP_OPTIONS_INIT;
	struct epoll_event event = { .events = EPOLLIN };
	int err;

	/* Our own TUN fd holds the name: let it go first (its device,
	 * address and route die with it; the new one brings them back). */
	node_plane_free(node, plane);
	options.name = plane->device;
	options.port = ovl_config_port(node->config);
	options.local = node->public_ip;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	/* flannel's udp backend reads no MTU key: flannel0 gets the
	 * underlay's less 28 (udp_network_amd64.go:133), ovl_udp_up's
	 * default. */
	err = ovl_udp_up(node->ctx, &options, link);
	if (err < 0)
		return err;
	if (epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, ovl_link_fd(*link), &event) < 0) {
		err = ctx_fail(node->ctx, -errno, "epoll_ctl: %s", ovl_strerror(errno));
		ovl_link_free(*link);
		*link = NULL;
	}
	return err;
}

/* The UDP loop's bounded forwarding on every plane. */
static void dispatch(struct ovl_node *node)
{
	int i, moved;

	for (i = 0; i < node->nplanes; i++) {
		if (!node->planes[i].link)
			continue;
		moved = ovl_link_dispatch(node->planes[i].link);
		if (moved < 0)
			ctx_log(node->ctx, OVL_LOG_WARNING, "%s: forwarding: %s",
				node->planes[i].device, ovl_strerror(moved));
	}
}

/* flanneld's udp backend leaves BackendType empty (its lease attrs set
 * only PublicIP); we write "udp": both are udp peers. */
static const char *const peer_types[] = { "udp", "", NULL };

const struct node_backend_ops backend_udp = {
	.name = "udp",
	.peer_types = peer_types,
	.ipv4_only = 1,
	.has_device = 1,
	.plane_name = plane_name,
	.plane_up = plane_up,
	.plane_free = plane_free,
	.dispatch = dispatch,
};
