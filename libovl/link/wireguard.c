/*
 * wireguard.c - the wireguard backend's link: ovl_wireguard_up (the device
 * from the kernel or from a userspace implementation, its MTU, addresses,
 * cluster routes, key and port), its key changed, reopening, removal, and
 * the loop of a nonblocking link (its queue's fd and dispatch).  Peers are
 * wireguard-peers.c's; the device's rtnetlink side wireguard-device.c's.
 *
 * What the peer calls need and the device does not keep (our subnets, the
 * cluster networks, the keepalive) is stored in the device's alias, as
 * vxlan.c does, so that another process can ovl_link_open() the device.
 * The preshared key, a secret, is not: a reopened link takes the one of
 * the device's first peer.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "link/wireguard.h"
#include "netlink/device.h"
#include "netlink/underlay.h"

#define NAME_V4 "flannel-wg"
#define NAME_V6 "flannel-wg-v6"
#define PORT_V4 51820
#define PORT_V6 51821
/* flannel's overhead: outer IPv6 40 + UDP 8 + WireGuard 32. */
#define OVERHEAD 80
/* A blocking start waits for the program, then for its first exchanges. */
#define BLOCKING_START_MS (WG_START_MS + 2 * WG_EXCHANGE_MS)

static struct wg_link *wg_of(struct ovl_link *link)
{
	return (struct wg_link *)link;
}

static const struct wg_link *wg_of_const(const struct ovl_link *link)
{
	return (const struct wg_link *)link;
}

static void link_free(struct wg_link *w)
{
	wg_queue_close(w->queue);
	explicit_bzero(w->preshared_key, sizeof(w->preshared_key));
	free(w);
}

static struct wg_link *link_new(struct ovl_ctx *ctx)
{
	struct wg_link *w = calloc(1, sizeof(*w));

	if (w) {
		w->link.ctx = ctx;
		w->link.ops = &wireguard_link_ops;
	}
	return w;
}

/* A userspace device's queue: on its UAPI socket. */
static int open_queue(struct wg_link *w)
{
	char path[108];

	if (wg_uapi_path(w->link.name, path, sizeof(path)) < 0)
		return ctx_fail(w->link.ctx, -ENAMETOOLONG, "%s: name too long for a UAPI socket",
				w->link.name);
	return wg_queue_open(w->link.ctx, path, &w->queue);
}

/* ---- ovl_wireguard_up ------------------------------------------------------ */

#define FIELD(o, field) (OPTIONS_HAS(o, field) ? (o)->field : 0)

/* The second family of a device that carries both. */
static int parse_second_family(struct ovl_ctx *ctx, const struct ovl_wireguard_options *o,
			       struct wg_link *w)
{
	const char *subnet = FIELD(o, ipv6_subnet), *network = FIELD(o, ipv6_network);

	if (!subnet && !network)
		return 0;
	if (w->link.subnet.family != AF_INET)
		return ctx_fail(ctx, -EINVAL, "ipv6_subnet: needs subnet to be the IPv4 one");
	if (!subnet || ovl_prefix_parse(subnet, &w->subnet6) < 0 || w->subnet6.family != AF_INET6)
		return ctx_fail(ctx, -EINVAL, "ipv6_subnet: '%s' is not an IPv6 prefix",
				subnet ? subnet : "(none: ipv6_network needs it)");
	if (!network || ovl_prefix_parse(network, &w->network6) < 0)
		return ctx_fail(ctx, -EINVAL, "ipv6_network: '%s' is not a prefix",
				network ? network : "(none: required with ipv6_subnet)");
	ovl_prefix_mask(&w->subnet6);
	ovl_prefix_mask(&w->network6);
	if (!ovl_prefix_contains(&w->network6, &w->subnet6))
		return ctx_fail(ctx, -EINVAL, "ipv6_subnet %s is not inside ipv6_network %s",
				subnet, network);
	return 0;
}

static int parse_options(struct ovl_ctx *ctx, const struct ovl_wireguard_options *o,
			 struct wg_link *w, struct wg_device *device)
{
	const char *name = FIELD(o, name), *psk = FIELD(o, preshared_key);
	unsigned int port = FIELD(o, listen_port), flags = FIELD(o, flags);
	struct ovl_link *l = &w->link;
	int err;

	err = link_parse_addresses(ctx, FIELD(o, local), FIELD(o, subnet), FIELD(o, network),
				   &l->local, &l->subnet, &l->network);
	if (err < 0)
		return err;
	if (!l->network.family)
		return ctx_fail(ctx, -EINVAL, "network: (none: required, it is routed into the device)");
	err = parse_second_family(ctx, o, w);
	if (err < 0)
		return err;
	if ((flags & OVL_WIREGUARD_KERNEL) && (flags & OVL_WIREGUARD_USERSPACE))
		return ctx_fail(ctx, -EINVAL,
				"flags: OVL_WIREGUARD_KERNEL and OVL_WIREGUARD_USERSPACE exclude each other");
	w->nonblocking = !!(flags & OVL_WIREGUARD_NONBLOCKING);
	if (!name)
		name = l->subnet.family == AF_INET6 ? NAME_V6 : NAME_V4;
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/') || strchr(name, ':'))
		return ctx_fail(ctx, -EINVAL, "name: '%s' is not a device name", name);
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (port > 65535)
		return ctx_fail(ctx, -EINVAL, "listen_port: %u is above 65535", port);
	l->port = port ? port : l->subnet.family == AF_INET6 ? PORT_V6 : PORT_V4;
	if (FIELD(o, keepalive) > 65535)
		return ctx_fail(ctx, -EINVAL, "keepalive: %u s is above 65535", o->keepalive);
	w->keepalive = (int)FIELD(o, keepalive);
	if (wg_key_from_base64(FIELD(o, private_key), device->private_key) < 0)
		return ctx_fail(ctx, -EINVAL, "private_key: %s", FIELD(o, private_key) ?
				"not the base64 of 32 bytes" : "(none: required)");
	device->has_private_key = 1;
	device->listen_port = l->port;
	if (psk && wg_key_from_base64(psk, w->preshared_key) < 0)
		return ctx_fail(ctx, -EINVAL, "preshared_key: not the base64 of 32 bytes");
	w->has_preshared_key = psk != NULL;
	l->mtu = FIELD(o, mtu);
	l->family = l->subnet.family;
	return 0;
}

/* An existing device of the name: the kernel's or a userspace one's. */
static int adopt_device(struct ovl_ctx *ctx, struct wg_link *w, const struct device_state *s,
			unsigned int flags)
{
	if (!strcmp(s->type, "wireguard")) {
		if (flags & OVL_WIREGUARD_USERSPACE)
			return ctx_fail(ctx, -EEXIST, "%s is the kernel's WireGuard, not userspace",
					s->name);
		w->kernel = 1;
		return 0;
	}
	if (!(flags & OVL_WIREGUARD_KERNEL) && wg_uapi_answers(s->name))
		return open_queue(w);
	return ctx_fail(ctx, -EEXIST, "%s exists and is no WireGuard device (kind '%s'%s)",
			s->name, s->type, flags & OVL_WIREGUARD_KERNEL ? "" :
			", and no UAPI socket answers for it");
}

/* The device exists and answers: its index, then MTU, alias, addresses
 * and routes (its key and port are the queue's first request). */
static int device_ready(void *arg)
{
	struct wg_link *w = arg;
	struct device_state s;
	int err = device_get(w->link.ctx, 0, w->link.name, &s);

	if (err == 0) {
		w->link.ifindex = s.ifindex;
		err = wg_device_configure(w);
	}
	return err < 0 ? ctx_fail_prefix(w->link.ctx, err, "%s came up: ", w->link.name) : 0;
}

/* A new device: the kernel's when it has WireGuard, else the program's,
 * started (and, when blocking, waited for). */
static int create_device(struct ovl_ctx *ctx, struct wg_link *w, const char *program,
			 unsigned int flags)
{
	int err = -EOPNOTSUPP;

	if (!(flags & OVL_WIREGUARD_USERSPACE)) {
		err = wg_device_create_kernel(ctx, w->link.name);
		if (err == 0) {
			w->kernel = 1;
			return 0;
		}
		if (err != -EOPNOTSUPP)
			return ctx_fail_prefix(ctx, err, "creating %s: ", w->link.name);
	}
	ctx_clear_error(ctx);
	if (!program || (flags & OVL_WIREGUARD_KERNEL))
		return ctx_fail(ctx, -EOPNOTSUPP, "%s: %s", w->link.name,
				flags & OVL_WIREGUARD_USERSPACE ?
				"no UAPI socket answers and no userspace program is named" :
				"the kernel has no WireGuard and no userspace program (wireguard-go) is named");
	err = open_queue(w);
	if (err == 0)
		err = wg_queue_start(w->queue, program, w->link.name, device_ready, w);
	return err;
}

static void remove_device(struct wg_link *w)
{
	if (w->link.ifindex && wg_device_delete(w->link.ctx, w->link.ifindex) == 0 && !w->kernel)
		wg_uapi_wait_gone(w->link.name);
}

/* Key and port (the peers a previous run installed stay), then the
 * device's state read once: a nonblocking link's view starts there. */
static int first_requests(struct wg_link *w, struct wg_device *device)
{
	int err = wg_link_change(w, device);

	if (err == 0 && !w->kernel)
		err = wg_queue_refresh(w->queue);
	if (err == 0 && !w->kernel && !w->nonblocking)
		err = wg_queue_wait(w->queue, BLOCKING_START_MS);
	return err;
}

static int wireguard_up(struct ovl_ctx *ctx, const struct ovl_wireguard_options *options,
			struct wg_link *w, struct wg_device *device, int *created)
{
	unsigned int flags = FIELD(options, flags);
	struct device_state s;
	struct underlay u;
	int err;

	err = parse_options(ctx, options, w, device);
	if (err == 0)
		err = underlay_find(ctx, FIELD(options, dev), &w->link.local, 0, &u);
	if (err < 0)
		return err;
	w->link.underlay_ifindex = u.ifindex;
	snprintf(w->link.underlay, sizeof(w->link.underlay), "%s", u.iface);
	if (!w->link.mtu)
		w->link.mtu = u.mtu > OVERHEAD + 68 ? u.mtu - OVERHEAD : 68;
	err = device_get(ctx, 0, w->link.name, &s);
	if (err == 0) {
		err = adopt_device(ctx, w, &s, flags);
		if (err == 0)
			err = device_ready(w);
	} else if (err == -ENODEV) {
		err = create_device(ctx, w, FIELD(options, userspace), flags);
		*created = err == 0;
		/* The kernel's device is there at once; a program's when it
		 * answers (device_ready, from its queue). */
		if (err == 0 && w->kernel)
			err = device_ready(w);
	}
	return err < 0 ? err : first_requests(w, device);
}

OVL_EXPORT int ovl_wireguard_up(struct ovl_ctx *ctx, const struct ovl_wireguard_options *options,
				struct ovl_link **link)
{
	struct wg_device device = { 0 };
	struct wg_link *w;
	int err, created = 0;
	char error[sizeof(ctx->error)];

	ctx_clear_error(ctx);
	if (!ctx || !options || !link)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_wireguard_up: NULL argument") : -EINVAL;
	*link = NULL;
	err = options_check(ctx, "ovl_wireguard_up: options", options,
			    WIREGUARD_OPTIONS_SIZE_0_2, sizeof(*options));
	if (!err)
		err = flags_check(ctx, "ovl_wireguard_up: options", options->flags,
				  OVL_WIREGUARD_KERNEL | OVL_WIREGUARD_USERSPACE |
				  OVL_WIREGUARD_NONBLOCKING);
	if (err < 0)
		return err;
	w = link_new(ctx);
	if (!w)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	err = wireguard_up(ctx, options, w, &device, &created);
	wg_device_clear(&device);
	if (err < 0) {
		/* Nothing half-made: what this call created goes. */
		memcpy(error, ctx->error, sizeof(error));
		if (created)
			remove_device(w);
		memcpy(ctx->error, error, sizeof(error));
		link_free(w);
		return err;
	}
	ctx_log(ctx, OVL_LOG_INFO, "%s: WireGuard (%s%s), port %u, MTU %u", w->link.name,
		w->kernel ? "kernel" : "userspace", w->queue && wg_queue_starting(w->queue) ?
		", starting" : "", w->link.port, w->link.mtu);
	*link = &w->link;
	return 0;
}

OVL_EXPORT int ovl_wireguard_set_key(struct ovl_link *link, const char *private_key)
{
	struct wg_device change = { 0 };
	int err;

	ctx_clear_error(link ? link->ctx : NULL);
	if (!link || !private_key)
		return link ? ctx_fail(link->ctx, -EINVAL, "ovl_wireguard_set_key: NULL key") :
			-EINVAL;
	if (link->ops != &wireguard_link_ops)
		return ctx_fail(link->ctx, -EOPNOTSUPP, "%s is a %s link, not a WireGuard one",
				link->name, link->ops->name);
	if (wg_key_from_base64(private_key, change.private_key) < 0)
		return ctx_fail(link->ctx, -EINVAL, "private key: not the base64 of 32 bytes");
	change.has_private_key = 1;
	err = wg_link_change(wg_of(link), &change);
	wg_device_clear(&change);
	return err;
}

/* ---- reopening and removal ------------------------------------------------ */

static void alias_more(void *arg, const char *token)
{
	struct wg_link *w = arg;

	if (!strncmp(token, "keepalive=", 10))
		w->keepalive = atoi(token + 10);
	else if (!strncmp(token, "subnet6=", 8))
		ovl_prefix_parse(token + 8, &w->subnet6);
	else if (!strncmp(token, "network6=", 9))
		ovl_prefix_parse(token + 9, &w->network6);
}

static int wireguard_open(struct ovl_ctx *ctx, const char *name, struct ovl_link **link)
{
	struct wg_device device;
	struct device_state s;
	struct wg_link *w;
	int err;

	err = link_device_find(ctx, name, &s);
	if (err < 0)
		return err;
	w = link_new(ctx);
	if (!w)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	w->link.ifindex = s.ifindex;
	w->link.mtu = s.mtu;
	snprintf(w->link.name, sizeof(w->link.name), "%s", s.name);
	err = adopt_device(ctx, w, &s, 0);
	if (err == 0 && (link_alias_parse(s.alias, &w->link, alias_more, w) < 0 ||
			 !w->link.network.family))
		err = ctx_fail(ctx, -EINVAL,
			       "%s was not set up by libovl (its alias '%s' does not say 'libovl subnet=...')",
			       name, s.alias);
	if (err == 0)
		err = wg_link_read(w, &device);
	if (err < 0) {
		link_free(w);
		return err;
	}
	w->link.family = w->link.subnet.family;
	w->link.port = device.listen_port;
	if (device.peer_count && device.peers[0].has_preshared_key) {
		w->has_preshared_key = 1;
		memcpy(w->preshared_key, device.peers[0].preshared_key, WG_KEY_LEN);
	}
	wg_device_clear(&device);
	*link = &w->link;
	return 0;
}

static int wireguard_down(struct ovl_link *link)
{
	struct wg_link *w = wg_of(link);
	struct device_state s;
	int err;

	/* The ifindex may have been reused by another device since; a
	 * program still starting has made its device meanwhile, or not. */
	err = device_get(link->ctx, link->ifindex, link->ifindex ? NULL : link->name, &s);
	if (!err && !strcmp(s.name, link->name))
		err = wg_device_delete(link->ctx, s.ifindex);
	if (err == -ENODEV)
		err = 0;
	if (err < 0)
		return ctx_fail_prefix(link->ctx, err, "deleting %s: ", link->name);
	/* A userspace implementation ends with its TUN device; a nonblocking
	 * link does not wait for it to go. */
	if (!w->kernel && !w->nonblocking)
		wg_uapi_wait_gone(link->name);
	return 0;
}

static void wireguard_free(struct ovl_link *link)
{
	link_free(wg_of(link));
}

/* flannel's device names, and any name a userspace implementation serves
 * (a kernel device of another name is opened by vxlan's claim, which
 * refuses it by kind). */
static int wireguard_claims(const char *name)
{
	char path[128];
	struct stat st;

	if (!strcmp(name, NAME_V4) || !strcmp(name, NAME_V6))
		return 1;
	return !strchr(name, ':') && !strchr(name, '/') &&
	       wg_uapi_path(name, path, sizeof(path)) == 0 && stat(path, &st) == 0;
}

/* ---- a nonblocking link's loop --------------------------------------------- */

static int wireguard_fd(const struct ovl_link *link)
{
	const struct wg_link *w = wg_of_const(link);

	if (!w->queue)
		return ctx_fail(link->ctx, -EOPNOTSUPP,
				"%s: the kernel's WireGuard is configured at once, it has no loop",
				link->name);
	return wg_queue_fd(w->queue);
}

static int wireguard_dispatch(struct ovl_link *link)
{
	struct wg_link *w = wg_of(link);

	return w->queue ? wg_queue_dispatch(w->queue) : 0;
}

const struct link_ops wireguard_link_ops = {
	.name = "wireguard",
	.claims = wireguard_claims,
	.open = wireguard_open,
	.down = wireguard_down,
	.free = wireguard_free,
	.peer_v2_add = wg_peers_add,
	.peer_v2_del = wg_peers_del,
	.peer_v2_sync = wg_peers_sync,
	.peer_v2_list = wg_peers_list,
	.fd = wireguard_fd,
	.dispatch = wireguard_dispatch,
};
