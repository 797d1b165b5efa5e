/*
 * vxlan.c - the VXLAN device: create or verify flannel.<VNI>, its address,
 * MTU, MAC and state (ovl_vxlan_up); open one by name; remove it.  Changes
 * to devices and addresses are built with libnl-route's objects; reading
 * them is netlink/device.c's.
 *
 * What ovl_peer_* need later and the kernel does not keep (our subnet, the
 * cluster network, DirectRouting) is stored in the device's alias,
 * "libovl subnet=10.244.3.0/24 network=10.244.0.0/16 direct-routing=0", so
 * that another process can ovl_link_open() the device by name.  Peers are
 * peer.c's kernel peers; the table at the end is what link.c calls.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/sockios.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/link.h"
#include "netlink/device.h"
#include "netlink/nl.h"
#include "netlink/underlay.h"

#define DEFAULT_VNI 1
#define DEFAULT_PORT 8472
#define VNI_MAX 0xffffffu
/* VXLAN headers: outer IPv4 (20) or IPv6 (40) + UDP 8 + VXLAN 8 + inner
 * Ethernet 14. */
#define OVERHEAD_V4 50
#define OVERHEAD_V6 70

/* What the caller asked for, defaults applied. */
struct want {
	char name[IF_NAMESIZE];
	uint32_t vni;
	unsigned int port;
	struct ovl_prefix local;
	struct ovl_prefix subnet;
	struct ovl_prefix network;	/* family 0: not given */
	unsigned char mac[6];
	int have_mac;
	unsigned int mtu;
	int gbp;
	int learning;
	int direct_routing;
	unsigned int flags;
	int underlay_ifindex;
	char underlay[IF_NAMESIZE];
	char alias[LINK_ALIAS_SIZE];
};

static size_t addr_bytes(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static const char *addr_text(const struct ovl_prefix *a, char *buf, size_t size)
{
	if (ovl_addr_format(a, buf, size) < 0)
		snprintf(buf, size, "?");
	return buf;
}

/* ---- changing links and addresses ----------------------------------- */

static struct nl_addr *nl_from_prefix(const struct ovl_prefix *p)
{
	return nl_addr_build(p->family, p->addr, addr_bytes(p->family));
}

static int send_link(struct ovl_ctx *ctx, struct rtnl_link *l, int flags)
{
	struct nl_msg *msg = NULL;

	if (rtnl_link_build_add_request(l, flags, &msg) < 0)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	return netlink_call(ctx, msg);
}

static int link_create(struct ovl_ctx *ctx, const struct want *w)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, w->mac, 6);
	struct nl_addr *local = nl_from_prefix(&w->local);
	int err = -ENOMEM;

	if (l && mac && local) {
		rtnl_link_set_name(l, w->name);
		rtnl_link_set_mtu(l, w->mtu);
		rtnl_link_set_addr(l, mac);
		rtnl_link_set_ifalias(l, w->alias);
		rtnl_link_vxlan_set_id(l, w->vni);
		rtnl_link_vxlan_set_local(l, local);
		rtnl_link_vxlan_set_link(l, (uint32_t)w->underlay_ifindex);
		/* Always sent: the kernel's own default is not flannel's. */
		rtnl_link_vxlan_set_port(l, w->port);
		rtnl_link_vxlan_set_learning(l, (uint8_t)w->learning);
		if (w->gbp)
			rtnl_link_vxlan_set_flags(l, RTNL_LINK_VXLAN_F_GBP, 1);
		err = send_link(ctx, l, NLM_F_CREATE | NLM_F_EXCL);
	} else {
		ctx_fail(ctx, err, "out of memory");
	}
	nl_addr_put(local);
	nl_addr_put(mac);
	rtnl_link_put(l);
	return err < 0 ? ctx_fail_prefix(ctx, err, "creating %s: ", w->name) : 0;
}

static int link_delete(struct ovl_ctx *ctx, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = netlink_msg(RTM_DELLINK, 0, &ifi, sizeof(ifi));

	if (!msg)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	return netlink_call(ctx, msg);
}

/* Sets the mutable attributes that differ: MTU, MAC, alias, up. */
static int link_change(struct ovl_ctx *ctx, const struct device_state *s,
		       unsigned int mtu, const unsigned char *mac, const char *alias,
		       int up)
{
	struct rtnl_link *l;
	struct nl_addr *a = NULL;
	int err, changes = 0;

	l = rtnl_link_alloc();
	if (!l)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	rtnl_link_set_ifindex(l, s->ifindex);
	if (mtu && mtu != s->mtu) {
		rtnl_link_set_mtu(l, mtu);
		changes++;
	}
	if (mac && memcmp(mac, s->mac, 6)) {
		a = nl_addr_build(AF_LLC, mac, 6);
		if (!a) {
			rtnl_link_put(l);
			return ctx_fail(ctx, -ENOMEM, "out of memory");
		}
		rtnl_link_set_addr(l, a);
		changes++;
	}
	if (alias && strcmp(alias, s->alias)) {
		rtnl_link_set_ifalias(l, alias);
		changes++;
	}
	if (up && !(s->flags & IFF_UP)) {
		rtnl_link_set_flags(l, IFF_UP);
		changes++;
	}
	err = changes ? send_link(ctx, l, 0) : 0;
	nl_addr_put(a);
	rtnl_link_put(l);
	return err;
}

static int addr_send(struct ovl_ctx *ctx, int ifindex, const struct ovl_prefix *p,
		     int add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_from_prefix(p);
	struct nl_msg *msg = NULL;
	int err = -ENOMEM;

	if (a && local) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_family(a, p->family);
		rtnl_addr_set_local(a, local);
		rtnl_addr_set_prefixlen(a, (int)p->len);
		/* Duplicate address detection means nothing on a /128 of ours
		 * and would leave the address tentative for a second. */
		if (p->family == AF_INET6)
			rtnl_addr_set_flags(a, IFA_F_NODAD);
		if ((add ? rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_REPLACE, &msg)
			 : rtnl_addr_build_delete_request(a, 0, &msg)) >= 0)
			err = netlink_call(ctx, msg);
		else
			ctx_fail(ctx, err, "out of memory");
	} else {
		ctx_fail(ctx, err, "out of memory");
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err;
}

/* The subnet base /32 (/128) on the device; other addresses of ours (in
 * the cluster network, or without one in our subnet) removed. */
static int ensure_address(struct ovl_ctx *ctx, const struct want *w, int ifindex)
{
	const struct ovl_prefix *scope = w->network.family ? &w->network : &w->subnet;
	struct ovl_prefix wanted = w->subnet;
	struct device_addr *addrs;
	char text[OVL_PREFIX_STRLEN];
	size_t i, count;
	int err, have = 0;

	wanted.len = w->subnet.family == AF_INET6 ? 128 : 32;
	err = device_addresses(ctx, w->subnet.family, ifindex, &addrs, &count);
	if (err < 0)
		return err;
	for (i = 0; i < count && !err; i++) {
		if (ovl_prefix_equal(&addrs[i].prefix, &wanted)) {
			have = 1;
			continue;
		}
		if (!ovl_prefix_contains(scope, &addrs[i].prefix))
			continue;
		ovl_prefix_format(&addrs[i].prefix, text, sizeof(text));
		ctx_log(ctx, OVL_LOG_INFO, "%s: removing address %s", w->name, text);
		err = addr_send(ctx, ifindex, &addrs[i].prefix, 0);
		if (err < 0)
			ctx_fail_prefix(ctx, err, "removing address %s: ", text);
	}
	free(addrs);
	if (!err && !have) {
		err = addr_send(ctx, ifindex, &wanted, 1);
		if (err < 0)
			ctx_fail_prefix(ctx, err, "adding address %s: ",
					addr_text(&wanted, text, sizeof(text)));
	}
	return err;
}

struct sysctl_write {
	struct ovl_ctx *ctx;
	char path[128];
	char value;
};

static int write_sysctl(void *arg)
{
	struct sysctl_write *s = arg;
	char current = 0;
	int fd, err = 0;

	fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(s->ctx, -errno, "%s: %s", s->path, ovl_strerror(errno));
	if (read(fd, &current, 1) != 1 || current != s->value) {
		if (pwrite(fd, &s->value, 1, 0) != 1)
			err = ctx_fail(s->ctx, -errno, "writing %s: %s", s->path,
				       ovl_strerror(errno));
	}
	close(fd);
	return err;
}

/* /proc/sys/net shows the namespace of the thread that opens it, so the
 * file is opened from inside the ctx's namespace. */
static int accept_ra_off(struct ovl_ctx *ctx, const char *name)
{
	struct sysctl_write s = { .ctx = ctx, .value = '0' };

	snprintf(s.path, sizeof(s.path), "/proc/sys/net/ipv6/conf/%s/accept_ra", name);
	return netlink_in_netns(ctx, write_sysctl, &s);
}

/* flannel's documented workaround (`ethtool -K flannel.1 tx off`): the
 * ioctl goes through the netlink socket, which lives in the target
 * namespace. */
static int tx_checksum_off(struct ovl_ctx *ctx, const char *name)
{
	struct ethtool_value value = { .cmd = ETHTOOL_GTXCSUM };
	struct ifreq ifr;
	int fd = netlink_fd(ctx);

	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&value;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return ctx_fail(ctx, -errno, "reading tx checksum offload: %s",
				ovl_strerror(errno));
	if (!value.data)
		return 0;
	value.cmd = ETHTOOL_STXCSUM;
	value.data = 0;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return ctx_fail(ctx, -errno, "turning tx checksum offload off: %s",
				ovl_strerror(errno));
	return 0;
}

/* ---- ovl_vxlan_up ----------------------------------------------------- */

#define OPTION(o, field, otherwise) (OPTIONS_HAS(o, field) ? (o)->field : (otherwise))

static void make_alias(struct want *w)
{
	char more[32];

	snprintf(more, sizeof(more), "direct-routing=%d", w->direct_routing);
	link_alias_format(&w->subnet, &w->network, more, w->alias);
}

static int parse_options(struct ovl_ctx *ctx, const struct ovl_vxlan_options *o,
			 struct want *w)
{
	const char *local = OPTION(o, local, NULL), *subnet = OPTION(o, subnet, NULL);
	const char *network = OPTION(o, network, NULL), *mac = OPTION(o, mac, NULL);
	const char *name = OPTION(o, name, NULL);
	unsigned long vni = OPTION(o, vni, 0), port = OPTION(o, port, 0);
	unsigned int overhead;
	int err;

	memset(w, 0, sizeof(*w));
	err = link_parse_addresses(ctx, local, subnet, network, &w->local, &w->subnet,
				   &w->network);
	if (err < 0)
		return err;
	w->flags = OPTION(o, flags, 0);
	w->vni = vni || (w->flags & OVL_VXLAN_VNI_SET) ? (uint32_t)vni : DEFAULT_VNI;
	if (vni > VNI_MAX)
		return ctx_fail(ctx, -EINVAL, "vni: %lu is over %u", vni, VNI_MAX);
	w->port = port ? (unsigned int)port : DEFAULT_PORT;
	if (port > 65535)
		return ctx_fail(ctx, -EINVAL, "port: %lu is over 65535", port);
	if (mac) {
		if (mac_parse_unicast(mac, w->mac) < 0)
			return ctx_fail(ctx, -EINVAL, "mac: '%s' is not a unicast MAC address", mac);
		w->have_mac = 1;
	}
	if (name && (!*name || strlen(name) >= IF_NAMESIZE))
		return ctx_fail(ctx, -EINVAL, "name: '%s' is not a device name (1 to %d characters)",
				name, IF_NAMESIZE - 1);
	if (name)
		snprintf(w->name, sizeof(w->name), "%s", name);
	else
		snprintf(w->name, sizeof(w->name), "%s.%u",
			 w->subnet.family == AF_INET6 ? "flannel-v6" : "flannel", w->vni);
	w->mtu = OPTION(o, mtu, 0);
	if (w->mtu && (w->flags & OVL_VXLAN_MTU_UNDERLAY)) {
		overhead = w->local.family == AF_INET6 ? OVERHEAD_V6 : OVERHEAD_V4;
		if (w->mtu < overhead + 68)
			return ctx_fail(ctx, -EINVAL, "mtu: the underlay's %u leaves the "
					"device less than 68", w->mtu);
		w->mtu -= overhead;
	}
	if (w->mtu && (w->mtu < 68 || w->mtu > 65535))
		return ctx_fail(ctx, -EINVAL, "mtu: %u is not from 68 to 65535", w->mtu);
	w->gbp = !!OPTION(o, gbp, 0);
	w->learning = !!OPTION(o, learning, 0);
	w->direct_routing = !!OPTION(o, direct_routing, 0);
	make_alias(w);
	return 0;
}

static void append(char *buf, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *format, ...)
{
	size_t used = strlen(buf);
	va_list args;

	if (used && used + 2 < size)
		strcat(buf, ", ");
	used = strlen(buf);
	va_start(args, format);
	vsnprintf(buf + used, size - used, format, args);
	va_end(args);
}

/* Lists what differs among the attributes the kernel will not change on an
 * existing device; empty when the device can be reused. */
static void compare(struct ovl_ctx *ctx, const struct want *w, const struct device_state *s,
		    char *diff, size_t size)
{
	char have[OVL_PREFIX_STRLEN], want[OVL_PREFIX_STRLEN];
	struct device_state under;

	*diff = '\0';
	if (!s->is_vxlan) {
		append(diff, size, "type %s (want vxlan)", *s->type ? s->type : "unknown");
		return;
	}
	if (s->vni != w->vni)
		append(diff, size, "VNI %u (want %u)", s->vni, w->vni);
	if (s->port != w->port)
		append(diff, size, "port %u (want %u)", s->port, w->port);
	if (!ovl_prefix_equal(&s->local, &w->local))
		append(diff, size, "local %s (want %s)",
		       s->local.family ? addr_text(&s->local, have, sizeof(have)) : "none",
		       addr_text(&w->local, want, sizeof(want)));
	if ((int)s->underlay_ifindex != w->underlay_ifindex) {
		if (!s->underlay_ifindex || device_get(ctx, (int)s->underlay_ifindex, NULL, &under) < 0)
			snprintf(under.name, sizeof(under.name), "%s",
				 s->underlay_ifindex ? "?" : "none");
		append(diff, size, "dev %s (want %s)", under.name, w->underlay);
	}
	if (s->learning != w->learning)
		append(diff, size, "learning %s (want %s)", s->learning ? "on" : "off",
		       w->learning ? "on" : "off");
	if (s->gbp != w->gbp)
		append(diff, size, "gbp %s (want %s)", s->gbp ? "on" : "off", w->gbp ? "on" : "off");
}

static int link_from_state(struct ovl_ctx *ctx, const struct device_state *s,
			   struct ovl_link **link)
{
	struct ovl_link *l = calloc(1, sizeof(*l));

	if (!l)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	l->ctx = ctx;
	l->ops = &vxlan_link_ops;
	l->ifindex = s->ifindex;
	snprintf(l->name, sizeof(l->name), "%s", s->name);
	mac_format(s->mac, l->mac);
	l->mtu = s->mtu;
	l->vni = s->vni;
	l->port = s->port;
	l->local = s->local;
	l->learning = s->learning;
	l->gbp = s->gbp;
	l->underlay_ifindex = (int)s->underlay_ifindex;
	*link = l;
	return 0;
}

/* Everything after the device exists: address, accept_ra, offload, up,
 * then the MAC as it stands once the device is up. */
static int configure(struct ovl_ctx *ctx, const struct want *w, struct device_state *s)
{
	char have[18], want[18];
	int err, attempt;

	err = link_change(ctx, s, w->mtu, w->have_mac ? w->mac : NULL, w->alias, 0);
	if (err < 0)
		return ctx_fail_prefix(ctx, err, "setting MTU %u: ", w->mtu);
	err = ensure_address(ctx, w, s->ifindex);
	if (!err && w->subnet.family == AF_INET6)
		err = accept_ra_off(ctx, w->name);
	if (!err && (w->flags & OVL_VXLAN_TX_CHECKSUM_OFF))
		err = tx_checksum_off(ctx, w->name);
	if (!err)
		err = link_change(ctx, s, 0, NULL, NULL, 1);
	/* udev or networkd may rewrite the MAC when the device appears or
	 * comes up (flannel #1795); peers cache the one we publish. */
	for (attempt = 0; !err && attempt < 2; attempt++) {
		err = device_get(ctx, s->ifindex, NULL, s);
		if (err < 0 || !w->have_mac || !memcmp(s->mac, w->mac, 6))
			break;
		mac_format(s->mac, have);
		mac_format(w->mac, want);
		ctx_log(ctx, OVL_LOG_WARNING, "%s: MAC is %s after up, setting %s again",
			w->name, have, want);
		err = attempt ? ctx_fail(ctx, -EIO, "MAC stays %s (want %s): something rewrites it",
					 have, want)
			      : link_change(ctx, s, 0, w->mac, NULL, 0);
	}
	return err;
}

OVL_EXPORT int ovl_vxlan_up(struct ovl_ctx *ctx, const struct ovl_vxlan_options *options,
			    struct ovl_link **link)
{
	struct want w;
	struct device_state s;
	struct underlay under;
	char diff[512];
	int err, created = 0;

	ctx_clear_error(ctx);
	if (!ctx || !options || !link)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_vxlan_up: NULL argument") : -EINVAL;
	*link = NULL;
	err = options_check(ctx, "ovl_vxlan_up: options", options, VXLAN_OPTIONS_SIZE_0_1,
			    sizeof(*options));
	if (!err)
		err = flags_check(ctx, "ovl_vxlan_up: options", options->flags,
				  OVL_VXLAN_REPLACE | OVL_VXLAN_TX_CHECKSUM_OFF |
				  OVL_VXLAN_VNI_SET | OVL_VXLAN_MTU_UNDERLAY);
	if (!err)
		err = parse_options(ctx, options, &w);
	if (!err)
		err = underlay_find(ctx, OPTION(options, dev, NULL), &w.local, 0, &under);
	if (err < 0)
		return err;
	w.underlay_ifindex = under.ifindex;
	snprintf(w.underlay, sizeof(w.underlay), "%s", under.iface);
	if (!w.mtu)
		w.mtu = under.mtu - (w.local.family == AF_INET6 ? OVERHEAD_V6 : OVERHEAD_V4);
	err = device_get(ctx, 0, w.name, &s);
	if (!err) {
		compare(ctx, &w, &s, diff, sizeof(diff));
		if (*diff && !(w.flags & OVL_VXLAN_REPLACE))
			return ctx_fail(ctx, -EEXIST, "%s exists with %s; the replace option recreates it",
					w.name, diff);
		if (*diff) {
			ctx_log(ctx, OVL_LOG_NOTICE, "%s: recreating (%s)", w.name, diff);
			err = link_delete(ctx, s.ifindex);
			if (err < 0)
				return ctx_fail_prefix(ctx, err, "deleting %s: ", w.name);
			err = -ENODEV;
		} else if (!w.have_mac) {
			/* Reused: its MAC is the one peers know. */
			memcpy(w.mac, s.mac, 6);
		}
	}
	if (err == -ENODEV) {
		if (!w.have_mac) {
			if (getrandom(w.mac, sizeof(w.mac), 0) != sizeof(w.mac))
				return ctx_fail(ctx, -errno, "getrandom: %s", ovl_strerror(errno));
			/* locally administered, unicast */
			w.mac[0] = (unsigned char)((w.mac[0] & 0xfe) | 0x02);
			w.have_mac = 1;
		}
		err = link_create(ctx, &w);
		if (!err) {
			created = 1;
			err = device_get(ctx, 0, w.name, &s);
		}
	}
	if (!err)
		err = configure(ctx, &w, &s);
	if (!err)
		err = link_from_state(ctx, &s, link);
	if (err < 0) {
		if (created && s.ifindex) {
			/* Keep the real reason, not the cleanup's. */
			char reason[sizeof(ctx->error)];

			memcpy(reason, ctx->error, sizeof(reason));
			link_delete(ctx, s.ifindex);
			memcpy(ctx->error, reason, sizeof(reason));
		}
		return err == -ENODEV ? err : ctx_fail_prefix(ctx, err, "%s: ", w.name);
	}
	(*link)->family = w.subnet.family;
	(*link)->subnet = w.subnet;
	(*link)->network = w.network;
	(*link)->direct_routing = w.direct_routing;
	snprintf((*link)->underlay, sizeof((*link)->underlay), "%s", w.underlay);
	ctx_log(ctx, OVL_LOG_INFO, "%s %s: VNI %u, port %u, dev %s, MTU %u, MAC %s",
		w.name, created ? "created" : "reused", w.vni, w.port, w.underlay,
		(*link)->mtu, (*link)->mac);
	return 0;
}

/* ---- handles on existing devices ------------------------------------- */

static void alias_more(void *arg, const char *token)
{
	struct ovl_link *l = arg;

	if (!strncmp(token, "direct-routing=", 15))
		l->direct_routing = atoi(token + 15) != 0;
}

static int vxlan_open(struct ovl_ctx *ctx, const char *name, struct ovl_link **link)
{
	struct device_state s, under;
	struct ovl_link *l;
	int err;

	err = link_device_find(ctx, name, &s);
	if (err < 0)
		return err;
	if (!s.is_vxlan)
		return ctx_fail(ctx, -EINVAL, "%s is a %s device, not vxlan", name,
				*s.type ? s.type : "non-vxlan");
	err = link_from_state(ctx, &s, &l);
	if (err < 0)
		return err;
	if (link_alias_parse(s.alias, l, alias_more, l) < 0) {
		free(l);
		return ctx_fail(ctx, -EINVAL,
				"%s was not set up by libovl (its alias '%s' does not say 'libovl subnet=...')",
				name, s.alias);
	}
	l->family = l->subnet.family;
	if (l->underlay_ifindex && device_get(ctx, l->underlay_ifindex, NULL, &under) == 0)
		snprintf(l->underlay, sizeof(l->underlay), "%s", under.name);
	*link = l;
	return 0;
}

static int vxlan_down(struct ovl_link *link)
{
	struct device_state s;
	int err;

	/* The ifindex may have been reused by another device since. */
	err = device_get(link->ctx, link->ifindex, NULL, &s);
	if (!err && !strcmp(s.name, link->name)) {
		/* Neighbours, fdb entries, nexthops and routes on the device go
		 * with it, in the kernel, faster than one by one. */
		err = link_delete(link->ctx, link->ifindex);
	}
	if (err == -ENODEV)
		err = 0;
	if (err < 0)
		return ctx_fail_prefix(link->ctx, err, "deleting %s: ", link->name);
	return kernel_peers_flush_underlay(link);
}

/* Names without a ':' are device names (host-gw's handles have one). */
static int vxlan_claims(const char *name)
{
	return !strchr(name, ':');
}

const struct link_ops vxlan_link_ops = {
	.name = "vxlan",
	.claims = vxlan_claims,
	.open = vxlan_open,
	.down = vxlan_down,
	.peer_add = kernel_peer_add,
	.peer_del = kernel_peer_del,
	.peer_sync = kernel_peers_sync,
	.peer_list = kernel_peers_list,
};
