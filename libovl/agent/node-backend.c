/*
 * node-backend.c - what differs between the agent's backends: the backend
 * the config names, each plane's link (vxlan device, host-gw routes, UDP
 * TUN with its loop on the node's fd), the lease's BackendData, and
 * flannel's masquerade rules kept in place (--ip-masq).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <jansson.h>

#include "agent/node.h"

int node_backend_pick(struct ovl_node *node)
{
	const char *type = ovl_config_backend_type(node->config);

	if (!strcmp(type, "vxlan")) {
		node->backend = BACKEND_VXLAN;
	} else if (!strcmp(type, "host-gw")) {
		node->backend = BACKEND_HOSTGW;
	} else if (!strcmp(type, "udp")) {
		node->backend = BACKEND_UDP;
		if (ovl_config_family_enabled(node->config, AF_INET6))
			return ctx_fail(node->ctx, -EINVAL,
					"Backend: udp is IPv4 only, as flannel's (disable IPv6 or use vxlan)");
	} else {
		return ctx_fail(node->ctx, -EOPNOTSUPP,
				"backend %s: ovl_node supports vxlan, host-gw and udp", type);
	}
	return 0;
}

void node_plane_name(struct ovl_node *node, struct node_plane *plane)
{
	int v4 = plane->family == AF_INET;

	if (node->backend == BACKEND_HOSTGW)	/* the name ovl_link_open takes */
		snprintf(plane->device, sizeof(plane->device), "%s:%s",
			 v4 ? "host-gw" : "host-gw-v6", node->underlay.iface);
	else if (node->backend == BACKEND_UDP)
		snprintf(plane->device, sizeof(plane->device), "flannel0");
	else
		snprintf(plane->device, sizeof(plane->device), "%s.%u",
			 v4 ? "flannel" : "flannel-v6", ovl_config_vni(node->config));
}

/* {"VNI":1,"VtepMAC":"0e:.."}: what peers need from us (flannel's shape);
 * host-gw and udp publish none. */
int node_backend_data(const struct ovl_node *node, const struct node_plane *plane,
		      char **text)
{
	json_t *data;

	*text = NULL;
	if (node->backend != BACKEND_VXLAN)
		return 0;
	data = json_pack("{s:I,s:s}", "VNI", (json_int_t)ovl_config_vni(node->config),
			 "VtepMAC", plane->mac);
	*text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	return *text ? 0 : ctx_fail(node->ctx, -ENOMEM, "out of memory");
}

static int vxlan_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_vxlan_options options = OVL_VXLAN_OPTIONS_INIT;

	options.name = plane->device;
	options.vni = ovl_config_vni(node->config);
	options.port = ovl_config_port(node->config);
	options.local = plane->family == AF_INET ? node->underlay.local :
		node->underlay.local6;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	options.mac = plane->mac;
	options.mtu = ovl_config_mtu(node->config);
	options.gbp = ovl_config_gbp(node->config);
	options.learning = ovl_config_learning(node->config);
	options.direct_routing = ovl_config_direct_routing(node->config);
	/* The device is ours by name: one with other creation-only attributes
	 * (say, a new underlay address) is recreated, as flannel does. */
	options.flags = OVL_VXLAN_REPLACE;
	return ovl_vxlan_up(node->ctx, &options, link);
}

static int hostgw_up(struct ovl_node *node, struct node_plane *plane,
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

/* The TUN's fd joins the node's epoll set: readable node fd, dispatch. */
static int udp_up(struct ovl_node *node, struct node_plane *plane,
		  const char *network, struct ovl_link **link)
{
	struct ovl_udp_options options = OVL_UDP_OPTIONS_INIT;
	struct epoll_event event = { .events = EPOLLIN };
	int err;

	options.name = plane->device;
	options.port = ovl_config_port(node->config);
	options.local = node->public_ip;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	options.mtu = ovl_config_mtu(node->config);
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

void node_plane_free(struct ovl_node *node, struct node_plane *plane)
{
	if (!plane->link)
		return;
	if (node->backend == BACKEND_UDP && node->epoll_fd >= 0)
		epoll_ctl(node->epoll_fd, EPOLL_CTL_DEL, ovl_link_fd(plane->link), NULL);
	ovl_link_free(plane->link);
	plane->link = NULL;
}

int node_plane_up(struct ovl_node *node, struct node_plane *plane)
{
	char network[OVL_PREFIX_STRLEN];
	struct ovl_link *link = NULL;
	int err;

	ovl_prefix_format(ovl_config_network(node->config, plane->family), network,
			  sizeof(network));
	if (node->backend == BACKEND_UDP) {
		/* Our own TUN fd holds the name: let it go first (its device,
		 * address and route die with it; the new one brings them back). */
		node_plane_free(node, plane);
		err = udp_up(node, plane, network, &link);
	} else if (node->backend == BACKEND_HOSTGW) {
		err = hostgw_up(node, plane, network, &link);
	} else {
		err = vxlan_up(node, plane, network, &link);
	}
	if (err < 0)
		return err;
	node_plane_free(node, plane);
	plane->link = link;
	plane->ifindex = ovl_link_ifindex(link);	/* 0 for host-gw: no device */
	plane->known_up = 1;
	if (node->backend == BACKEND_VXLAN && strcasecmp(ovl_link_mac(link), plane->mac))
		ctx_log(node->ctx, OVL_LOG_WARNING, "%s has MAC %s, not the published %s",
			plane->device, ovl_link_mac(link), plane->mac);
	return 0;
}

void node_links_dispatch(struct ovl_node *node)
{
	int i, moved;

	if (node->backend != BACKEND_UDP)
		return;
	for (i = 0; i < node->nplanes; i++) {
		if (!node->planes[i].link)
			continue;
		moved = ovl_link_dispatch(node->planes[i].link);
		if (moved < 0)
			ctx_log(node->ctx, OVL_LOG_WARNING, "%s: forwarding: %s",
				node->planes[i].device, ovl_strerror(moved));
	}
}

/* ----------------------------------------------------------- masquerade */

/* Applies (apply != 0) or checks the rules of every plane; a check that
 * finds them gone or changed restores them. */
void node_masq_ensure(struct ovl_node *node, int apply)
{
	char network[OVL_PREFIX_STRLEN];
	int i, err;

	if (!node->ip_masq)
		return;
	node->masq_failed = 0;
	for (i = 0; i < node->nplanes; i++) {
		const struct node_plane *plane = &node->planes[i];

		ovl_prefix_format(ovl_config_network(node->config, plane->family),
				  network, sizeof(network));
		if (!apply) {
			err = ovl_masq_check(node->ctx, network, plane->subnet, 0);
			if (err == 0)
				continue;
			ctx_log(node->ctx, OVL_LOG_WARNING,
				"masquerade rules of %s %s: %s: restoring", network,
				plane->subnet, *ovl_ctx_error(node->ctx) ?
				ovl_ctx_error(node->ctx) : ovl_strerror(err));
			ctx_clear_error(node->ctx);
		}
		err = ovl_masq_apply(node->ctx, network, plane->subnet, 0);
		if (err < 0) {
			node_error(node, err, "masquerade rules");
			node->masq_failed = 1;
		} else if (!apply) {
			ctx_log(node->ctx, OVL_LOG_NOTICE, "masquerade rules of %s restored",
				network);
		}
	}
}

/* Without --ip-masq, a previous run's tables go, as flannel clears its
 * chains; with it, teardown removes ours. */
int node_masq_remove(struct ovl_node *node)
{
	int err = ovl_masq_remove(node->ctx, 0);

	if (err < 0)
		node_error(node, err, "removing masquerade rules");
	return err;
}
