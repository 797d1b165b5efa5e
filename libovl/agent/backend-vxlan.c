/*
 * backend-vxlan.c - the vxlan backend: a VXLAN device per family
 * (flannel.VNI, flannel-v6.VNI) whose MAC the lease publishes with the VNI
 * as BackendData, kept across restarts so the peers' entries stay right,
 * and peers that must publish our VNI and a unicast VtepMAC.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <jansson.h>

#include "agent/node-backend.h"

static void plane_name(const struct ovl_node *node, struct node_plane *plane)
{
	snprintf(plane->device, sizeof(plane->device), "%s.%u",
		 plane->family == AF_INET ? "flannel" : "flannel-v6",
		 ovl_config_vni(node->config));
}

/* The VTEP MAC to keep: the existing device's (its kernel state and the
 * peers' entries already use it), else the one our previous lease record
 * published, else a new random locally administered unicast MAC. */
static int plane_previous(struct ovl_node *node, struct node_plane *plane,
			  struct ovl_lease *const *leases, size_t count)
{
	struct peer_rules rules = node_peer_rules(node, plane);
	struct peer_text text;
	struct ovl_link *link;
	unsigned char mac[6];
	size_t i;

	if (ovl_link_open(node->ctx, plane->device, &link) == 0) {
		snprintf(plane->mac, sizeof(plane->mac), "%s", ovl_link_mac(link));
		ovl_link_free(link);
		plane->existed = 1;
		if (mac_parse_unicast(plane->mac, mac) == 0)
			return 0;
	}
	plane->mac[0] = '\0';
	rules.own_subnet = NULL;
	for (i = 0; i < count && !plane->mac[0]; i++)
		if (node_is_own_record(node, leases[i]) &&
		    peer_from_lease(node->ctx, &rules, leases[i], &text) == 0)
			snprintf(plane->mac, sizeof(plane->mac), "%s", text.mac);
	ctx_clear_error(node->ctx);
	if (plane->mac[0])
		return 0;
	if (getrandom(mac, sizeof(mac), 0) != sizeof(mac))
		return ctx_fail(node->ctx, -EIO, "no random bytes for a MAC");
	mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
	snprintf(plane->mac, sizeof(plane->mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;
}

/* {"VNI":1,"VtepMAC":"0e:.."}: what peers need from us (flannel's shape). */
static int backend_data(const struct ovl_node *node, const struct node_plane *plane,
			char **text)
{
	json_t *data;

	data = json_pack("{s:I,s:s}", "VNI", (json_int_t)ovl_config_vni(node->config),
			 "VtepMAC", plane->mac);
	*text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	return *text ? 0 : ctx_fail(node->ctx, -ENOMEM, "out of memory");
}

/* {"VNI":1,"VtepMAC":"0e:..."}, keys in any case as Go decodes them: the
 * VNI must be ours, the MAC usable.  flanneld never reads the peer's VNI
 * (vxlan_network.go handleSubnetEvents); we skip a peer of another VNI,
 * whose packets our device would drop (README, Decisions).  An absent or
 * null VNI is Go's zero value, 0. */
static int peer_data(struct ovl_ctx *ctx, const struct peer_rules *rules,
		     const struct ovl_lease *lease, struct peer_text *peer)
{
	const char *data = ovl_lease_backend_data(lease, rules->family);
	unsigned char mac[6];
	json_t *root, *vni, *vtep;
	json_int_t vni_value;
	int err = 0;

	root = data ? json_loads(data, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return ctx_fail(ctx, -EINVAL, "no BackendData object");
	}
	vni = ovl_json_get_folded(root, "VNI");
	vtep = ovl_json_get_folded(root, "VtepMAC");
	vni_value = json_is_integer(vni) ? json_integer_value(vni) : 0;
	if (vni && !json_is_integer(vni))
		err = ctx_fail(ctx, -EINVAL, "VNI is %s, not an integer",
			       ovl_json_type_text(vni));
	else if (vni_value != (json_int_t)rules->vni)
		err = ctx_fail(ctx, -EINVAL, "VNI %lld, want %u", (long long)vni_value,
			       rules->vni);
	else if (!json_is_string(vtep) ||
		 mac_parse_unicast(json_string_value(vtep), mac) < 0)
		err = ctx_fail(ctx, -EINVAL, "VtepMAC '%s' is not a unicast MAC",
			       json_is_string(vtep) ? json_string_value(vtep) : "");
	else
		snprintf(peer->mac, sizeof(peer->mac), "%s", json_string_value(vtep));
	json_decref(root);
	return err;
}

static int plane_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_vxlan_options options = OVL_VXLAN_OPTIONS_INIT;
	int err;

	options.name = plane->device;
	options.vni = ovl_config_vni(node->config);
	/* Backend.MTU is the underlay's, as flannel reads it (vxlan.go:171,
	 * device.go:63): ovl_vxlan_up takes the VXLAN overhead off. */
	options.mtu = ovl_config_mtu(node->config);
	options.port = ovl_config_port(node->config);
	options.local = plane->family == AF_INET ? node->underlay.local :
		node->underlay.local6;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	options.mac = plane->mac;
	options.gbp = ovl_config_gbp(node->config);
	options.learning = ovl_config_learning(node->config);
	options.direct_routing = ovl_config_direct_routing(node->config);
	/* The device is ours by name: one with other creation-only attributes
	 * (say, a new underlay address) is recreated, as flannel does.  The
	 * VNI is the config's, 0 included. */
	options.flags = OVL_VXLAN_REPLACE | OVL_VXLAN_VNI_SET | OVL_VXLAN_MTU_UNDERLAY;
	err = ovl_vxlan_up(node->ctx, &options, link);
	if (err == 0 && strcasecmp(ovl_link_mac(*link), plane->mac))
		ctx_log(node->ctx, OVL_LOG_WARNING, "%s has MAC %s, not the published %s",
			plane->device, ovl_link_mac(*link), plane->mac);
	return err;
}

static const char *const peer_types[] = { "vxlan", NULL };

const struct node_backend_ops backend_vxlan = {
	.name = "vxlan",
	.peer_types = peer_types,
	.has_device = 1,
	.outlives_node = 1,
	.plane_name = plane_name,
	.plane_previous = plane_previous,
	.backend_data = backend_data,
	.peer_data = peer_data,
	.plane_up = plane_up,
};
