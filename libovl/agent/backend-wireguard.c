/*
 * backend-wireguard.c - the wireguard backend, flannel's: one private key
 * for the node (kept in a file, so restarts need no peer update, and
 * rotated on request), a device per family in Mode "separate" (flannel-wg,
 * flannel-wg-v6), one device (flannel-wg) for both in the other modes,
 * BackendData {"PublicKey","Port"}, and peers that must publish a usable
 * public key.  The device outlives the agent: the kernel's stays, a
 * userspace program keeps running.
 *
 * The links never wait for a userspace program (OVL_WIREGUARD_NONBLOCKING):
 * their fds join the node's epoll set and this backend's dispatch moves
 * them on, so a stopped or stuck wireguard-go stalls nothing; only
 * ovl_node_start waits for them (plane_settle).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <jansson.h>

#include "agent/node-backend.h"
#include "core/fileio.h"

/* ovl_node_start waits this long for a program to start and answer. */
#define SETTLE_MS 14000
/* A new key goes into the lease this long after the devices took it: our
 * next packet to a peer starts a handshake with the new key, which the
 * peer drops until it has read the lease; published at once, the peer's
 * own handshake (OVL_PEER_HANDSHAKE) could cross it, both would fail, and
 * WireGuard would try again only 5 s later.  Sent first, ours is dropped
 * and the peer's goes through. */
#define PUBLISH_DELAY_MS 200

static int separate(const struct ovl_node *node)
{
	return !strcmp(ovl_config_wireguard_mode(node->config), "separate");
}

/* In the modes other than separate the IPv6 plane rides on the IPv4
 * plane's device, as flannel's one device carries both. */
static void plane_name(const struct ovl_node *node, struct node_plane *plane)
{
	snprintf(plane->device, sizeof(plane->device), "%s",
		 separate(node) && plane->family == AF_INET6 ? "flannel-wg-v6" : "flannel-wg");
	if (!separate(node) && plane->family == AF_INET6 && node->nplanes == 1)
		plane->carrier = 0;
}

/* One device: a peer is reached at the address flannel's Mode picks. */
static void plane_rules(const struct ovl_node *node, const struct node_plane *plane,
			struct peer_rules *rules)
{
	(void)plane;
	if (separate(node))
		return;
	rules->endpoint_mode = ovl_config_wireguard_mode(node->config);
	rules->have_ipv4 = node->public_ip[0] != '\0';
	rules->have_public_ipv6 = node->public_ipv6[0] &&
		!peer_address_is_private(node->public_ipv6);
}

/* The port the plane's device listens on: one device in the modes other
 * than separate, on ListenPort. */
static unsigned int plane_port(const struct ovl_node *node, const struct node_plane *plane)
{
	return ovl_config_wireguard_listen_port(node->config,
						separate(node) ? plane->family : AF_INET);
}

/* The options' file, else flannel's WIREGUARD_KEY_FILE, else
 * /run/flannel/wgkey. */
static const char *key_path(const struct ovl_node *node)
{
	const char *path = node->wireguard_key_file ? node->wireguard_key_file :
		getenv("WIREGUARD_KEY_FILE");

	return path && *path ? path : OVL_WIREGUARD_KEY_FILE;
}

/* The key (once for both planes), created when missing. */
static int plane_previous(struct ovl_node *node, struct node_plane *plane,
			  struct ovl_lease *const *leases, size_t count)
{
	struct ovl_link *link;
	int err;

	(void)leases;
	(void)count;
	if (!node->wireguard_key[0]) {
		err = ovl_wireguard_key_load(node->ctx, key_path(node), node->wireguard_key);
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

/* {"PublicKey":"<base64 of 32 bytes>","Port":N} into key and port (0
 * when absent). */
static int read_data(struct ovl_ctx *ctx, const char *data,
		     char key_out[OVL_WIREGUARD_KEY_STRLEN], unsigned int *port_out)
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
		snprintf(key_out, OVL_WIREGUARD_KEY_STRLEN, "%s", json_string_value(key));
		*port_out = json_is_integer(port) ? (unsigned int)json_integer_value(port) : 0;
	}
	json_decref(root);
	return err;
}

/* The family's BackendData; no Port: ours.  A peer with one device
 * listens on its ListenPort, which its IPv4 BackendData holds (flanneld
 * writes ListenPortV6 into BackendV6Data even then). */
static int peer_data(struct ovl_ctx *ctx, const struct peer_rules *rules,
		     const struct ovl_lease *lease, struct peer_text *peer)
{
	const char *v4 = ovl_lease_backend_data(lease, AF_INET);
	char key[OVL_WIREGUARD_KEY_STRLEN];
	unsigned int port;
	int err;

	err = read_data(ctx, ovl_lease_backend_data(lease, rules->family), peer->public_key,
			&peer->port);
	if (err < 0 || !rules->endpoint_mode || rules->family != AF_INET6 || !v4)
		return err;
	if (read_data(ctx, v4, key, &port) == 0 && port)
		peer->port = port;
	ctx_clear_error(ctx);
	return 0;
}

static void plane_free(struct ovl_node *node, struct node_plane *plane)
{
	int fd = ovl_link_fd(plane->link);

	if (fd >= 0 && node->epoll_fd >= 0)
		epoll_ctl(node->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	ctx_clear_error(node->ctx);
}

static int plane_up(struct ovl_node *node, struct node_plane *plane,
		    const char *network, struct ovl_link **link)
{
	struct ovl_wireguard_options options = OVL_WIREGUARD_OPTIONS_INIT;
	struct epoll_event event = { .events = EPOLLIN };
	unsigned int mtu = ovl_config_mtu(node->config);
	char network6[OVL_PREFIX_STRLEN];
	int i, fd, err;

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
	options.flags = OVL_WIREGUARD_NONBLOCKING;
	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].carrier == (int)(plane - node->planes) &&
		    &node->planes[i] != plane) {
			ovl_prefix_format(ovl_config_network(node->config, AF_INET6), network6,
					  sizeof(network6));
			options.ipv6_subnet = node->planes[i].subnet;
			options.ipv6_network = network6;
		}
	err = ovl_wireguard_up(node->ctx, &options, link);
	if (err < 0)
		return err;
	/* The kernel's device has no loop. */
	fd = ovl_link_fd(*link);
	ctx_clear_error(node->ctx);
	if (fd >= 0 && epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
		err = ctx_fail(node->ctx, -errno, "epoll_ctl: %s", ovl_strerror(errno));
		ovl_link_free(*link);
		*link = NULL;
	}
	return err;
}

static int gone(int err)
{
	return err == -ECONNREFUSED || err == -ENOENT || err == -ECONNRESET || err == -EPIPE ||
	       err == -EAGAIN;
}

/* One round of a plane's link: 0 when it has done everything asked. */
static int plane_dispatch(struct ovl_node *node, int i)
{
	struct node_plane *plane = &node->planes[i];
	int result;

	ctx_clear_error(node->ctx);
	result = ovl_link_dispatch(plane->link);
	if (plane->pending) {
		if (result < 0)
			node_plane_failed(node, i, result);
		else if (ovl_link_ifindex(plane->link))
			node_plane_came_up(node, i);
		return result < 0 ? 1 : result;
	}
	if (result == -ETIMEDOUT) {
		if (!plane->stalled)
			node_error(node, result, plane->device);
		plane->stalled = 1;
		return 1;
	}
	if (plane->stalled && result >= 0)
		ctx_log(node->ctx, OVL_LOG_NOTICE, "%s: its WireGuard program answers again",
			plane->device);
	plane->stalled = 0;
	if (result < 0) {
		node->metrics.netlink_errors++;
		node_error(node, result, plane->device);
	}
	/* A program gone is repaired on its device's link event, and its
	 * queue tries again meanwhile; a change it refused is made again,
	 * device and peers.  Its port still held (by the program before it,
	 * killed and not yet gone), it came up without a socket and stays
	 * down whatever its port becomes: the device is made anew. */
	if (result < 0 && !gone(result) && !plane->repair) {
		plane->repair = result == -EADDRINUSE ? "its port was in use" : "refused a change";
		plane->recreate = result == -EADDRINUSE;
		plane->repair_at = node_now_ms() + node_backoff(&plane->repair_backoff_ms);
	}
	return result < 0 ? 1 : result;
}

/* The programs' answers; a rotated key goes into the lease once every
 * device has it (published earlier, peers would handshake with a device
 * that cannot answer yet), PUBLISH_DELAY_MS later. */
static void dispatch(struct ovl_node *node)
{
	int i, busy = 0;

	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].link)
			busy |= plane_dispatch(node, i) != 0;
	if (node->rotating && !busy && !node_planes_need_repair(node)) {
		node->rotating = 0;
		node_lease_republish(node, PUBLISH_DELAY_MS);
	}
}

static int plane_settle(struct ovl_node *node, struct node_plane *plane)
{
	int64_t deadline = node_now_ms() + SETTLE_MS, left;
	int i = (int)(plane - node->planes), fd = ovl_link_fd(plane->link);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int result;

	ctx_clear_error(node->ctx);
	if (fd < 0)
		return 0;
	for (;;) {
		result = ovl_link_dispatch(plane->link);
		if (plane->pending && result >= 0 && ovl_link_ifindex(plane->link))
			node_plane_came_up(node, i);
		if (result == 0)
			return 0;
		left = deadline - node_now_ms();
		if ((result < 0 && result != -ETIMEDOUT) || left <= 0)
			return result < 0 ? result : ctx_fail(node->ctx, -ETIMEDOUT,
				"%s: not configured after %d s", plane->device, SETTLE_MS / 1000);
		poll(&p, 1, (int)left);
	}
}

/* A new key: into the key file (0400, replaced atomically), into the
 * node, onto every device; the lease follows in dispatch. */
static int rotate_key(struct ovl_node *node)
{
	char key[OVL_WIREGUARD_KEY_STRLEN], line[OVL_WIREGUARD_KEY_STRLEN + 1];
	char public_key[OVL_WIREGUARD_KEY_STRLEN];
	int i, err, first = 0;

	err = ovl_wireguard_genkey(node->ctx, key);
	if (err == 0)
		err = ovl_wireguard_pubkey(node->ctx, key, public_key);
	if (err < 0)
		return err;
	snprintf(line, sizeof(line), "%s\n", key);
	err = file_replace_secret(node->ctx, key_path(node), line, strlen(line));
	explicit_bzero(line, sizeof(line));
	if (err < 0) {
		explicit_bzero(key, sizeof(key));
		return err;
	}
	memcpy(node->wireguard_key, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];

		if (!plane->link)
			continue;
		err = ovl_wireguard_set_key(plane->link, node->wireguard_key);
		if (err < 0) {
			/* Brought up again, the device takes the node's key. */
			node_error(node, err, plane->device);
			plane->repair = plane->repair ? plane->repair : "key not set";
			plane->repair_at = node_now_ms();
			first = first ? first : err;
		}
	}
	node->rotating = 1;
	ctx_log(node->ctx, OVL_LOG_NOTICE, "new WireGuard key in %s, public key %s: the lease "
		"publishes it once the devices have it", key_path(node), public_key);
	return first;
}

static const char *const peer_types[] = { "wireguard", NULL };

const struct node_backend_ops backend_wireguard = {
	.name = "wireguard",
	.peer_types = peer_types,
	.has_device = 1,
	.outlives_node = 1,
	.peer_counters = 1,
	.plane_name = plane_name,
	.plane_rules = plane_rules,
	.plane_previous = plane_previous,
	.backend_data = backend_data,
	.peer_data = peer_data,
	.plane_up = plane_up,
	.plane_free = plane_free,
	.dispatch = dispatch,
	.plane_settle = plane_settle,
	.rotate_key = rotate_key,
};
