/*
 * wireguard-device.c - a WireGuard device as both transports describe it
 * (struct wg_device: its key, port and peers, built, copied, merged), and
 * its rtnetlink side: the kernel's device created or deleted, and what
 * libovl sets on any WireGuard device whoever serves it (MTU, alias, up,
 * the subnets' base addresses, one link-scope route per network).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "link/wireguard.h"
#include "netlink/nl.h"

/* ---- the description ------------------------------------------------------ */

void wg_device_clear(struct wg_device *device)
{
	size_t i;

	for (i = 0; i < device->peer_count; i++)
		free(device->peers[i].allowed_ips);
	free(device->peers);
	explicit_bzero(device, sizeof(*device));
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

int wg_device_copy(struct wg_device *to, const struct wg_device *from)
{
	size_t i, j;

	*to = *from;
	to->peers = NULL;
	to->peer_count = 0;
	for (i = 0; i < from->peer_count; i++) {
		struct wg_peer *p = wg_device_add_peer(to);

		if (!p) {
			wg_device_clear(to);
			return -ENOMEM;
		}
		*p = from->peers[i];
		p->allowed_ips = NULL;
		p->allowed_count = 0;
		for (j = 0; j < from->peers[i].allowed_count; j++)
			if (wg_peer_allow(p, &from->peers[i].allowed_ips[j]) < 0) {
				wg_device_clear(to);
				return -ENOMEM;
			}
	}
	return 0;
}

int wg_device_append(struct wg_device *to, struct wg_device *from)
{
	struct wg_peer *grown;

	if (from->peer_count) {
		grown = realloc(to->peers, (to->peer_count + from->peer_count) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		to->peers = grown;
		memcpy(grown + to->peer_count, from->peers, from->peer_count * sizeof(*grown));
		to->peer_count += from->peer_count;
		free(from->peers);
		from->peers = NULL;
		from->peer_count = 0;
	}
	if (from->has_private_key) {
		to->has_private_key = 1;
		memcpy(to->private_key, from->private_key, WG_KEY_LEN);
	}
	if (from->listen_port)
		to->listen_port = from->listen_port;
	to->replace_peers |= from->replace_peers;
	wg_device_clear(from);
	return 0;
}

/* ---- rtnetlink -------------------------------------------------------------- */

static int nomem(struct ovl_ctx *ctx, struct nl_msg *msg)
{
	nlmsg_free(msg);
	return ctx_fail(ctx, -ENOMEM, "out of memory");
}

int wg_device_create_kernel(struct ovl_ctx *ctx, const char *name)
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

int wg_device_delete(struct ovl_ctx *ctx, int ifindex)
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
static int add_address(struct ovl_link *l, const struct ovl_prefix *subnet)
{
	size_t bytes = subnet->family == AF_INET6 ? 16 : 4;
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)subnet->family,
				 .ifa_prefixlen = (unsigned char)(bytes * 8),
				 .ifa_flags = subnet->family == AF_INET6 ? IFA_F_NODAD : 0,
				 .ifa_scope = RT_SCOPE_UNIVERSE,
				 .ifa_index = (unsigned int)l->ifindex };
	struct nl_msg *msg = netlink_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa,
					 sizeof(ifa));

	if (!msg || nla_put(msg, IFA_LOCAL, (int)bytes, subnet->addr) < 0 ||
	    nla_put(msg, IFA_ADDRESS, (int)bytes, subnet->addr) < 0)
		return nomem(l->ctx, msg);
	return netlink_call(l->ctx, msg);
}

/* flannel's route: the whole network via the device, scope link. */
static int add_route(struct ovl_link *l, const struct ovl_prefix *network)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)network->family,
			     .rtm_dst_len = (unsigned char)network->len,
			     .rtm_table = RT_TABLE_MAIN, .rtm_protocol = OVL_RTPROT,
			     .rtm_scope = RT_SCOPE_LINK, .rtm_type = RTN_UNICAST };
	struct nl_msg *msg = netlink_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm,
					 sizeof(rtm));

	if (!msg || nla_put(msg, RTA_DST, network->family == AF_INET6 ? 16 : 4,
			    network->addr) < 0 ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)l->ifindex) < 0)
		return nomem(l->ctx, msg);
	return netlink_call(l->ctx, msg);
}

/* The alias another process's ovl_link_open reads back: the lease, the
 * second family's, the keepalive. */
static void make_alias(const struct wg_link *w, char alias[LINK_ALIAS_SIZE])
{
	char more[160], subnet6[OVL_PREFIX_STRLEN], network6[OVL_PREFIX_STRLEN];

	if (w->subnet6.family) {
		ovl_prefix_format(&w->subnet6, subnet6, sizeof(subnet6));
		ovl_prefix_format(&w->network6, network6, sizeof(network6));
		snprintf(more, sizeof(more), "keepalive=%d subnet6=%s network6=%s", w->keepalive,
			 subnet6, network6);
	} else {
		snprintf(more, sizeof(more), "keepalive=%d", w->keepalive);
	}
	link_alias_format(&w->link.subnet, &w->link.network, more, alias);
}

int wg_device_configure(struct wg_link *w)
{
	struct ovl_link *l = &w->link;
	char alias[LINK_ALIAS_SIZE];
	int err;

	make_alias(w, alias);
	err = set_device(l, alias);
	if (err == 0)
		err = add_address(l, &l->subnet);
	if (err == 0)
		err = add_route(l, &l->network);
	if (err == 0 && w->subnet6.family)
		err = add_address(l, &w->subnet6);
	if (err == 0 && w->subnet6.family)
		err = add_route(l, &w->network6);
	return err < 0 ? ctx_fail_prefix(l->ctx, err, "%s: ", l->name) : 0;
}
