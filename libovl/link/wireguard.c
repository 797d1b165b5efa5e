/*
 * wireguard.c - the wireguard backend's link: ovl_wireguard_up (the device
 * from the kernel or from a userspace implementation, its MTU, address,
 * cluster route, key and port), reopening, removal, and peers as
 * WireGuard peers (public key, endpoint, allowed IPs = their subnets),
 * spoken to the device by whichever transport serves it (wireguard-genl.c
 * for the kernel, wireguard-uapi.c for a userspace program).
 *
 * What the peer calls need and the device does not keep (our subnet, the
 * cluster network, the keepalive) is stored in the device's alias, as
 * vxlan.c does, so that another process can ovl_link_open() the device.
 * The preshared key, a secret, is not: a reopened link takes the one of
 * the device's first peer.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/address.h"
#include "link/link.h"
#include "link/wireguard.h"
#include "netlink/device.h"
#include "netlink/nl.h"
#include "netlink/underlay.h"

#define NAME_V4 "flannel-wg"
#define NAME_V6 "flannel-wg-v6"
#define PORT_V4 51820
#define PORT_V6 51821
/* flannel's overhead: outer IPv6 40 + UDP 8 + WireGuard 32. */
#define OVERHEAD 80

struct wg_link {
	struct ovl_link link;		/* first: the handle link.c sees */
	int kernel;			/* 1: generic netlink; 0: a UAPI socket */
	int has_preshared_key;
	unsigned char preshared_key[WG_KEY_LEN];
	int keepalive;
};

static struct wg_link *wg_of(struct ovl_link *link)
{
	return (struct wg_link *)link;
}

/* ---- the device description (both transports) --------------------------- */

void wg_device_clear(struct wg_device *device)
{
	size_t i;

	for (i = 0; i < device->peer_count; i++)
		free(device->peers[i].allowed_ips);
	free(device->peers);
	memset(device, 0, sizeof(*device));
}

struct wg_peer *wg_device_add_peer(struct wg_device *device)
{
	struct wg_peer *grown = realloc(device->peers,
					(device->peer_count + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	device->peers = grown;
	grown += device->peer_count++;
	memset(grown, 0, sizeof(*grown));
	grown->keepalive = -1;
	return grown;
}

int wg_peer_allow(struct wg_peer *peer, const struct ovl_prefix *prefix)
{
	struct ovl_prefix *grown = realloc(peer->allowed_ips,
					   (peer->allowed_count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	peer->allowed_ips = grown;
	grown[peer->allowed_count++] = *prefix;
	return 0;
}

static int device_set(struct wg_link *w, const struct wg_device *device)
{
	return w->kernel ? wg_genl_set(w->link.ctx, w->link.name, device) :
		wg_uapi_set(w->link.ctx, w->link.name, device);
}

static int device_read(struct wg_link *w, struct wg_device *device)
{
	memset(device, 0, sizeof(*device));
	return w->kernel ? wg_genl_get(w->link.ctx, w->link.name, device) :
		wg_uapi_get(w->link.ctx, w->link.name, device);
}

/* ---- rtnetlink: the device, its address and route ------------------------ */

static int nomem(struct ovl_ctx *ctx, struct nl_msg *msg)
{
	nlmsg_free(msg);
	return ctx_fail(ctx, -ENOMEM, "out of memory");
}

static int create_kernel_device(struct ovl_ctx *ctx, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = netlink_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
					 sizeof(ifi));
	struct nlattr *info;

	if (!msg || nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "wireguard") < 0)
		return nomem(ctx, msg);
	nla_nest_end(msg, info);
	return netlink_call(ctx, msg);
}

static int delete_device(struct ovl_ctx *ctx, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = netlink_msg(RTM_DELLINK, 0, &ifi, sizeof(ifi));

	return msg ? netlink_call(ctx, msg) : nomem(ctx, msg);
}

/* MTU, alias, up. */
static int set_device(struct ovl_link *l, const char *alias)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = l->ifindex,
				 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct nl_msg *msg = netlink_msg(RTM_NEWLINK, 0, &ifi, sizeof(ifi));

	if (!msg || nla_put_u32(msg, IFLA_MTU, l->mtu) < 0 ||
	    nla_put_string(msg, IFLA_IFALIAS, alias) < 0)
		return nomem(l->ctx, msg);
	return netlink_call(l->ctx, msg);
}

/* The subnet's base as a /32 (/128), as flannel's EnsureV4AddressOnLink. */
static int add_address(struct ovl_link *l)
{
	size_t bytes = l->subnet.family == AF_INET6 ? 16 : 4;
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)l->subnet.family,
				 .ifa_prefixlen = (unsigned char)(bytes * 8),
				 .ifa_flags = l->subnet.family == AF_INET6 ? IFA_F_NODAD : 0,
				 .ifa_scope = RT_SCOPE_UNIVERSE,
				 .ifa_index = (unsigned int)l->ifindex };
	struct nl_msg *msg = netlink_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa,
					 sizeof(ifa));

	if (!msg || nla_put(msg, IFA_LOCAL, (int)bytes, l->subnet.addr) < 0 ||
	    nla_put(msg, IFA_ADDRESS, (int)bytes, l->subnet.addr) < 0)
		return nomem(l->ctx, msg);
	return netlink_call(l->ctx, msg);
}

/* flannel's route: the whole network via the device, scope link. */
static int add_route(struct ovl_link *l)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)l->network.family,
			     .rtm_dst_len = (unsigned char)l->network.len,
			     .rtm_table = RT_TABLE_MAIN, .rtm_protocol = OVL_RTPROT,
			     .rtm_scope = RT_SCOPE_LINK, .rtm_type = RTN_UNICAST };
	struct nl_msg *msg = netlink_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm,
					 sizeof(rtm));

	if (!msg || nla_put(msg, RTA_DST, l->network.family == AF_INET6 ? 16 : 4,
			    l->network.addr) < 0 ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)l->ifindex) < 0)
		return nomem(l->ctx, msg);
	return netlink_call(l->ctx, msg);
}

/* ---- ovl_wireguard_up ------------------------------------------------------ */

#define FIELD(o, field) (OPTIONS_HAS(o, field) ? (o)->field : 0)

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
	if ((flags & OVL_WIREGUARD_KERNEL) && (flags & OVL_WIREGUARD_USERSPACE))
		return ctx_fail(ctx, -EINVAL,
				"flags: OVL_WIREGUARD_KERNEL and OVL_WIREGUARD_USERSPACE exclude each other");
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

static void make_alias(const struct wg_link *w, char alias[LINK_ALIAS_SIZE])
{
	char more[32];

	snprintf(more, sizeof(more), "keepalive=%d", w->keepalive);
	link_alias_format(&w->link.subnet, &w->link.network, more, alias);
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
		return 0;
	return ctx_fail(ctx, -EEXIST, "%s exists and is no WireGuard device (kind '%s'%s)",
			s->name, s->type, flags & OVL_WIREGUARD_KERNEL ? "" :
			", and no UAPI socket answers for it");
}

/* A new device: the kernel's when it has WireGuard, else the program's. */
static int create_device(struct ovl_ctx *ctx, struct wg_link *w, const char *program,
			 unsigned int flags)
{
	int err = -EOPNOTSUPP;

	if (!(flags & OVL_WIREGUARD_USERSPACE)) {
		err = create_kernel_device(ctx, w->link.name);
		if (err == 0) {
			w->kernel = 1;
			return 0;
		}
		if (err != -EOPNOTSUPP)
			return ctx_fail_prefix(ctx, err, "creating %s: ", w->link.name);
	}
	ctx_clear_error(ctx);
	if (program && !(flags & OVL_WIREGUARD_KERNEL))
		return wg_uapi_start(ctx, program, w->link.name);
	return ctx_fail(ctx, -EOPNOTSUPP, "%s: %s", w->link.name, flags & OVL_WIREGUARD_USERSPACE ?
			"no UAPI socket answers and no userspace program is named" :
			"the kernel has no WireGuard and no userspace program (wireguard-go) is named");
}

static int configure(struct wg_link *w, const struct wg_device *device)
{
	struct ovl_link *l = &w->link;
	char alias[LINK_ALIAS_SIZE];
	int err;

	make_alias(w, alias);
	err = set_device(l, alias);
	if (err == 0)
		err = add_address(l);
	if (err == 0)
		err = add_route(l);
	if (err < 0)
		return ctx_fail_prefix(l->ctx, err, "%s: ", l->name);
	/* Key and port only: the peers a previous run installed stay. */
	return device_set(w, device);
}

static void remove_device(struct wg_link *w)
{
	if (w->link.ifindex && delete_device(w->link.ctx, w->link.ifindex) == 0 && !w->kernel)
		wg_uapi_wait_gone(w->link.name);
}

OVL_EXPORT int ovl_wireguard_up(struct ovl_ctx *ctx, const struct ovl_wireguard_options *options,
				struct ovl_link **link)
{
	struct wg_device device = { 0 };
	struct device_state s;
	struct underlay u;
	struct wg_link *w;
	unsigned int flags;
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
				  OVL_WIREGUARD_KERNEL | OVL_WIREGUARD_USERSPACE);
	if (err < 0)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	w->link.ctx = ctx;
	w->link.ops = &wireguard_link_ops;
	flags = FIELD(options, flags);
	err = parse_options(ctx, options, w, &device);
	if (err == 0)
		err = underlay_find(ctx, FIELD(options, dev), &w->link.local, 0, &u);
	if (err == 0) {
		w->link.underlay_ifindex = u.ifindex;
		snprintf(w->link.underlay, sizeof(w->link.underlay), "%s", u.iface);
		if (!w->link.mtu)
			w->link.mtu = u.mtu > OVERHEAD + 68 ? u.mtu - OVERHEAD : 68;
		err = device_get(ctx, 0, w->link.name, &s);
		if (err == 0) {
			err = adopt_device(ctx, w, &s, flags);
		} else if (err == -ENODEV) {
			err = create_device(ctx, w, FIELD(options, userspace), flags);
			created = err == 0;
			if (err == 0)
				err = device_get(ctx, 0, w->link.name, &s);
		}
	}
	if (err == 0) {
		w->link.ifindex = s.ifindex;
		err = configure(w, &device);
	}
	explicit_bzero(device.private_key, sizeof(device.private_key));
	if (err < 0) {
		/* Nothing half-made: what this call created goes. */
		memcpy(error, ctx->error, sizeof(error));
		if (created)
			remove_device(w);
		memcpy(ctx->error, error, sizeof(error));
		free(w);
		return err;
	}
	ctx_log(ctx, OVL_LOG_INFO, "%s: WireGuard (%s), port %u, MTU %u", w->link.name,
		w->kernel ? "kernel" : "userspace", w->link.port, w->link.mtu);
	*link = &w->link;
	return 0;
}

/* ---- reopening and removal ------------------------------------------------ */

static void alias_more(void *arg, const char *token)
{
	struct wg_link *w = arg;

	if (!strncmp(token, "keepalive=", 10))
		w->keepalive = atoi(token + 10);
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
	w = calloc(1, sizeof(*w));
	if (!w)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	w->link.ctx = ctx;
	w->link.ops = &wireguard_link_ops;
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
		err = device_read(w, &device);
	if (err < 0) {
		free(w);
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

	/* The ifindex may have been reused by another device since. */
	err = device_get(link->ctx, link->ifindex, NULL, &s);
	if (!err && !strcmp(s.name, link->name))
		err = delete_device(link->ctx, link->ifindex);
	if (err == -ENODEV)
		err = 0;
	if (err < 0)
		return ctx_fail_prefix(link->ctx, err, "deleting %s: ", link->name);
	/* A userspace implementation ends with its TUN device. */
	if (!w->kernel)
		wg_uapi_wait_gone(link->name);
	return 0;
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
	snprintf(path, sizeof(path), "%s/%s.sock", WG_SOCKET_DIR, name);
	return !strchr(name, ':') && !strchr(name, '/') && stat(path, &st) == 0;
}

/* ---- peers ---------------------------------------------------------------- */

/* A peer of the caller as the device's: key, endpoint, allowed subnet,
 * the link's preshared key and keepalive. */
static int peer_parse(struct wg_link *w, const struct ovl_peer_v2 *in, struct wg_peer *out,
		      struct ovl_prefix *subnet, int need_key)
{
	struct ovl_ctx *ctx = w->link.ctx;

	if (!in->subnet || ovl_prefix_parse(in->subnet, subnet) < 0)
		return ctx_fail(ctx, -EINVAL, "peer subnet '%s' is not a prefix",
				in->subnet ? in->subnet : "(none)");
	ovl_prefix_mask(subnet);
	if (!need_key && !in->public_key)
		return 0;
	if (!in->public_key)
		return ctx_fail(ctx, -EINVAL,
				"peer %s: a WireGuard peer needs a public key (struct ovl_peer_v2)",
				in->subnet);
	if (wg_key_from_base64(in->public_key, out->public_key) < 0)
		return ctx_fail(ctx, -EINVAL, "peer %s: public key '%s' is not the base64 of 32 bytes",
				in->subnet, in->public_key);
	if (!need_key)
		return 0;
	if (!in->public_ip || ovl_addr_parse(in->public_ip, &out->endpoint) < 0 ||
	    !addr_is_endpoint(&out->endpoint))
		return ctx_fail(ctx, -EINVAL, "peer %s: public IP '%s' is not a unicast address",
				in->subnet, in->public_ip ? in->public_ip : "(none)");
	if (in->port > 65535)
		return ctx_fail(ctx, -EINVAL, "peer %s: port %u is above 65535", in->subnet,
				in->port);
	out->endpoint_port = in->port ? in->port : w->link.port;
	out->keepalive = w->keepalive;
	out->has_preshared_key = w->has_preshared_key;
	memcpy(out->preshared_key, w->preshared_key, WG_KEY_LEN);
	return 0;
}

static int wireguard_peer_add(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct wg_link *w = wg_of(link);
	struct wg_device device = { 0 };
	struct ovl_prefix subnet;
	struct wg_peer *p = wg_device_add_peer(&device);
	int err;

	err = p ? peer_parse(w, peer, p, &subnet, 1) : ctx_fail(link->ctx, -ENOMEM, "out of memory");
	if (err == 0 && wg_peer_allow(p, &subnet) < 0)
		err = ctx_fail(link->ctx, -ENOMEM, "out of memory");
	if (err == 0)
		err = device_set(w, &device);
	wg_device_clear(&device);
	return err;
}

static int holds_subnet(const struct wg_peer *peer, const struct ovl_prefix *subnet)
{
	size_t i;

	for (i = 0; i < peer->allowed_count; i++)
		if (ovl_prefix_equal(&peer->allowed_ips[i], subnet))
			return 1;
	return 0;
}

/* By key; without one, the peer whose allowed IPs hold the subnet. */
static int wireguard_peer_del(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct wg_link *w = wg_of(link);
	struct wg_device device = { 0 }, installed;
	struct ovl_prefix subnet;
	struct wg_peer *p = wg_device_add_peer(&device);
	size_t i;
	int err, found = 1;

	err = p ? peer_parse(w, peer, p, &subnet, 0) : ctx_fail(link->ctx, -ENOMEM, "out of memory");
	if (err == 0 && !peer->public_key) {
		err = device_read(w, &installed);
		for (i = 0, found = 0; err == 0 && i < installed.peer_count && !found; i++)
			if (holds_subnet(&installed.peers[i], &subnet)) {
				memcpy(p->public_key, installed.peers[i].public_key, WG_KEY_LEN);
				found = 1;
			}
		wg_device_clear(&installed);
	}
	if (p)
		p->remove = 1;
	/* Removing a peer the device does not hold succeeds. */
	if (err == 0 && found)
		err = device_set(w, &device);
	wg_device_clear(&device);
	return err;
}

static struct wg_peer *find_key(struct wg_device *device, const unsigned char *key)
{
	size_t i;

	for (i = 0; i < device->peer_count; i++)
		if (!memcmp(device->peers[i].public_key, key, WG_KEY_LEN))
			return &device->peers[i];
	return NULL;
}

/* The set that makes the device hold exactly peers: entries sharing a key
 * are one peer; peers of other keys are removed, never all replaced, so
 * the sessions of those that stay survive. */
static int plan_sync(struct wg_link *w, const struct ovl_peer_v2 *peers, size_t count,
		     const struct wg_device *installed, struct wg_device *change)
{
	struct wg_peer parsed, *p;
	struct ovl_prefix subnet;
	size_t i;
	int err;

	for (i = 0; i < count; i++) {
		memset(&parsed, 0, sizeof(parsed));
		err = peer_parse(w, &peers[i], &parsed, &subnet, 1);
		if (err < 0)
			return ctx_fail_prefix(w->link.ctx, err, "peer %zu: ", i);
		p = find_key(change, parsed.public_key);
		if (!p) {
			p = wg_device_add_peer(change);
			if (!p)
				return ctx_fail(w->link.ctx, -ENOMEM, "out of memory");
			*p = parsed;
			p->replace_allowed_ips = 1;
		}
		if (wg_peer_allow(p, &subnet) < 0)
			return ctx_fail(w->link.ctx, -ENOMEM, "out of memory");
	}
	for (i = 0; i < installed->peer_count; i++) {
		if (find_key(change, installed->peers[i].public_key))
			continue;
		p = wg_device_add_peer(change);
		if (!p)
			return ctx_fail(w->link.ctx, -ENOMEM, "out of memory");
		memcpy(p->public_key, installed->peers[i].public_key, WG_KEY_LEN);
		p->remove = 1;
	}
	return 0;
}

static int wireguard_peer_sync(struct ovl_link *link, const struct ovl_peer_v2 *peers,
			       size_t count)
{
	struct wg_link *w = wg_of(link);
	struct wg_device installed, change = { 0 };
	int err;

	err = device_read(w, &installed);
	if (err < 0)
		return err;
	err = plan_sync(w, peers, count, &installed, &change);
	if (err == 0 && change.peer_count)
		err = device_set(w, &change);
	wg_device_clear(&installed);
	wg_device_clear(&change);
	return err;
}

/* One element per allowed IP of every peer. */
static int wireguard_peer_list(struct ovl_link *link, struct ovl_peer_v2 **peers,
			       size_t *count)
{
	struct wg_link *w = wg_of(link);
	struct wg_device device;
	struct ovl_peer_v2 *out = NULL, init = OVL_PEER_V2_INIT;
	char text[OVL_PREFIX_STRLEN], key[OVL_WIREGUARD_KEY_STRLEN];
	size_t total = 0, n = 0, i, j;
	int err;

	err = device_read(w, &device);
	if (err < 0)
		return err;
	for (i = 0; i < device.peer_count; i++)
		total += device.peers[i].allowed_count;
	out = calloc(total ? total : 1, sizeof(*out));
	err = out ? 0 : -ENOMEM;
	for (i = 0; err == 0 && i < device.peer_count; i++) {
		const struct wg_peer *p = &device.peers[i];

		for (j = 0; err == 0 && j < p->allowed_count; j++) {
			struct ovl_peer_v2 *o = &out[n++];

			*o = init;
			ovl_prefix_format(&p->allowed_ips[j], text, sizeof(text));
			o->subnet = strdup(text);
			if (p->endpoint.family) {
				ovl_addr_format(&p->endpoint, text, sizeof(text));
				o->public_ip = strdup(text);
			}
			err = wg_key_to_base64(p->public_key, key);
			o->public_key = err ? NULL : strdup(key);
			o->port = p->endpoint_port;
			o->last_handshake = p->last_handshake;
			o->rx_bytes = p->rx_bytes;
			o->tx_bytes = p->tx_bytes;
			if (!o->subnet || !o->public_key || (p->endpoint.family && !o->public_ip))
				err = -ENOMEM;
		}
	}
	wg_device_clear(&device);
	if (err < 0) {
		ovl_peers_v2_free(out, n);
		return ctx_fail(link->ctx, err, "out of memory");
	}
	*peers = out;
	*count = n;
	return 0;
}

const struct link_ops wireguard_link_ops = {
	.name = "wireguard",
	.claims = wireguard_claims,
	.open = wireguard_open,
	.down = wireguard_down,
	.peer_v2_add = wireguard_peer_add,
	.peer_v2_del = wireguard_peer_del,
	.peer_v2_sync = wireguard_peer_sync,
	.peer_v2_list = wireguard_peer_list,
};
