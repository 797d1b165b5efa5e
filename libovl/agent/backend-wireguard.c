/*
 * backend-wireguard.c - the wireguard backend, flannel's: one private key
 * for the node (kept in a file, so restarts need no peer update), a device
 * per family in Mode "separate" (flannel-wg, flannel-wg-v6), one device
 * (flannel-wg) in the other modes, BackendData {"PublicKey","Port"}, and
 * peers that must publish a usable public key.  The device outlives the
 * agent: the kernel's stays, a userspace program keeps running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>

#include "agent/node-backend.h"

static int separate(const struct ovl_node *node)
{
	return !strcmp(ovl_config_wireguard_mode(node->config), "separate");
}

static void plane_name(const struct ovl_node *node, struct node_plane *plane)
{
	snprintf(plane->device, sizeof(plane->device), "%s",
		 separate(node) && plane->family == AF_INET6 ? "flannel-wg-v6" : "flannel-wg");
}

/* The port the plane's device listens on: one device in the modes other
 * than separate, on ListenPort. */
static unsigned int plane_port(const struct ovl_node *node, const struct node_plane *plane)
{
	return ovl_config_wireguard_listen_port(node->config,
						separate(node) ? plane->family : AF_INET);
}

/* The key (once for both planes): the options' file, else flannel's
 * WIREGUARD_KEY_FILE, else /run/flannel/wgkey; created when missing. */
static int plane_previous(struct ovl_node *node, struct node_plane *plane,
			  struct ovl_lease *const *leases, size_t count)
{
	const char *path = node->wireguard_key_file ? node->wireguard_key_file :
		getenv("WIREGUARD_KEY_FILE");
	struct ovl_link *link;
	int err;

	if (!separate(node) && ovl_config_family_enabled(node->config, AF_INET) &&
	    ovl_config_family_enabled(node->config, AF_INET6))
		return ctx_fail(node->ctx, -EOPNOTSUPP,
				"Backend.Mode %s with IPv4 and IPv6: libovl runs a device per family "
				"(Mode separate)", ovl_config_wireguard_mode(node->config));
	if (!node->wireguard_key[0]) {
		err = ovl_wireguard_key_load(node->ctx, path && *path ? path : NULL,
					     node->wireguard_key);
		if (err < 0)
			return err;
	}
	if (ovl_link_open(node->ctx, plane->device, &link) == 0) {
		plane->existed = 1;
		ovl_link_free(link);
	}
	ctx_clear_error(node->ctx);
	return 0;
}

/* {"PublicKey":"<base64>","Port":51820}, flannel's shape. */
static int backend_data(const struct ovl_node *node, const struct node_plane *plane,
			char **text)
{
	char key[OVL_WIREGUARD_KEY_STRLEN];
	json_t *data;
	int err;

	err = ovl_wireguard_pubkey(node->ctx, node->wireguard_key, key);
	if (err < 0)
		return err;
	data = json_pack("{s:s,s:i}", "PublicKey", key, "Port", (int)plane_port(node, plane));
	*text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	return *text ? 0 : ctx_fail(node->ctx, -ENOMEM, "out of memory");
}

/* {"PublicKey":"<base64 of 32 bytes>","Port":N}; no Port: ours. */
static int peer_data(struct ovl_ctx *ctx, const struct peer_rules *rules,
		     const char *data, struct peer_text *peer)
{
	char check[OVL_WIREGUARD_KEY_STRLEN];
	json_t *root, *key, *port;
	int err = 0;

	root = data ? json_loads(data, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return ctx_fail(ctx, -EINVAL, "no BackendData object");
	}
	key = json_object_get(root, "PublicKey");
	port = json_object_get(root, "Port");
	/* A key is usable when X25519 takes it as a private key: the same
	 * 32 bytes; its public key is not needed. */
	if (!json_is_string(key) ||
	    strlen(json_string_value(key)) != OVL_WIREGUARD_KEY_STRLEN - 1 ||
	    ovl_wireguard_pubkey(ctx, json_string_value(key), check) < 0)
		err = ctx_fail(ctx, -EINVAL, "PublicKey '%.60s' is not a base64 WireGuard key",
			       json_is_string(key) ? json_string_value(key) : "");
	else if (port && !json_is_null(port) &&
		 (!json_is_integer(port) || json_integer_value(port) < 0 ||
		  json_integer_value(port) > 65535))
		err = ctx_fail(ctx, -EINVAL, "Port is not a UDP port");
	if (err == 0) {
		snprintf(peer->public_key, sizeof(peer->public_key), "%s", json_string_value(key));
		peer->port = json_is_integer(port) ? (unsigned int)json_integer_value(port) : 0;
	}
	json_decref(root);
	return err;
}

static int plane_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_wireguard_options options = OVL_WIREGUARD_OPTIONS_INIT;
	unsigned int mtu = ovl_config_mtu(node->config);

	options.name = plane->device;
	options.private_key = node->wireguard_key;
	options.preshared_key = ovl_config_wireguard_psk(node->config);
	options.listen_port = plane_port(node, plane);
	options.keepalive = ovl_config_wireguard_keepalive(node->config);
	options.local = plane->family == AF_INET ? node->underlay.local : node->underlay.local6;
	options.dev = node->underlay.iface;
	options.subnet = plane->subnet;
	options.network = network;
	/* flannel's MTU is the underlay's; the device carries 80 less. */
	options.mtu = mtu ? mtu - 80 : 0;
	options.userspace = node->wireguard_userspace;
	return ovl_wireguard_up(node->ctx, &options, link);
}

static const char *const peer_types[] = { "wireguard", NULL };

const struct node_backend_ops backend_wireguard = {
	.name = "wireguard",
	.peer_types = peer_types,
	.has_device = 1,
	.outlives_node = 1,
	.plane_name = plane_name,
	.plane_previous = plane_previous,
	.backend_data = backend_data,
	.peer_data = peer_data,
	.plane_up = plane_up,
};
