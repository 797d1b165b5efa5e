/*
 * node-backend.c - the table of the agent's backends, and what every plane
 * does whatever its backend: picked from the config, brought up, freed.
 * A new backend is one new file with its const struct node_backend_ops
 * (see node-backend.h) plus its entry in the table below; nothing else in
 * the agent changes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/node-backend.h"

extern const struct node_backend_ops backend_vxlan, backend_hostgw, backend_udp,
	backend_wireguard;

static const struct node_backend_ops *const backends[] = {
	&backend_vxlan,
	&backend_hostgw,
	&backend_udp,
	&backend_wireguard,
};

const struct node_backend_ops *node_backend_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

int node_backend_pick(struct ovl_node *node)
{
	const char *type = ovl_config_backend_type(node->config);
	char names[128];
	size_t i;
	int used = 0;

	node->backend = node_backend_find(type);
	if (node->backend && node->backend->ipv4_only &&
	    ovl_config_family_enabled(node->config, AF_INET6))
		return ctx_fail(node->ctx, -EINVAL,
				"Backend: %s is IPv4 only, as flannel's (disable IPv6 or use another backend)",
				type);
	if (node->backend)
		return 0;
	for (i = 0; i < ARRAY_SIZE(backends) && used >= 0 && (size_t)used < sizeof(names); i++)
		used += snprintf(names + used, sizeof(names) - used, "%s%s",
				 !i ? "" : i + 1 < ARRAY_SIZE(backends) ? ", " : " and ",
				 backends[i]->name);
	return ctx_fail(node->ctx, -EOPNOTSUPP, "backend %s: ovl_node supports %s",
			type, names);
}

void node_plane_free(struct ovl_node *node, struct node_plane *plane)
{
	if (!plane->link)
		return;
	if (node->backend->plane_free)
		node->backend->plane_free(node, plane);
	ovl_link_free(plane->link);
	plane->link = NULL;
}

struct ovl_link *node_plane_link(const struct ovl_node *node, int i)
{
	return node->planes[node->planes[i].carrier].link;
}

int node_plane_up(struct ovl_node *node, struct node_plane *plane)
{
	int index = (int)(plane - node->planes), i;
	char network[OVL_PREFIX_STRLEN];
	struct ovl_link *link = NULL;
	int err;

	if (plane->carrier != index) {
		/* Its carrier (brought up first) made the device. */
		plane->ifindex = node->planes[plane->carrier].ifindex;
		plane->known_up = 1;
		return 0;
	}
	ovl_prefix_format(ovl_config_network(node->config, plane->family), network,
			  sizeof(network));
	err = node->backend->plane_up(node, plane, network, &link);
	if (err < 0)
		return err;
	node_plane_free(node, plane);
	plane->link = link;
	plane->ifindex = ovl_link_ifindex(link);	/* 0 without a device */
	plane->known_up = 1;
	/* A device that has no index yet is a program still starting. */
	plane->pending = node->backend->has_device && !plane->ifindex;
	plane->stalled = 0;
	for (i = 0; i < node->nplanes; i++)
		if (i != index && node->planes[i].carrier == index)
			node->planes[i].ifindex = plane->ifindex;
	return 0;
}

int node_plane_settle(struct ovl_node *node, struct node_plane *plane)
{
	if (!plane->link || !node->backend->plane_settle)
		return 0;
	return node->backend->plane_settle(node, plane);
}
