/*
 * hostgw.c - the host-gw backend: no device of its own; a peer is a route
 * "subnet via <peer underlay address> dev <underlay>", which peer.c
 * installs as it does a DirectRouting peer, so the underlay must be one L2
 * segment.  ovl_hostgw_up checks the underlay (flannel's refusal behind
 * NAT) and returns a handle named "host-gw:DEV" (IPv4) or "host-gw-v6:DEV"
 * (IPv6), which ovl_link_open() reopens in another process.  The table at
 * the end is what link.c calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/internal.h"
#include "link/link.h"
#include "netlink/underlay.h"

#define NAME_V4 "host-gw:"
#define NAME_V6 "host-gw-v6:"

static int link_new(struct ovl_ctx *ctx, int family, const struct underlay *u,
		    struct ovl_link **link)
{
	struct ovl_link *l = calloc(1, sizeof(*l));

	if (!l)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	l->ctx = ctx;
	l->ops = &hostgw_link_ops;
	l->family = family;
	/* Every peer is a direct route; peer.c refuses the others. */
	l->direct_routing = 1;
	l->direct_only = 1;
	l->underlay_ifindex = u->ifindex;
	snprintf(l->underlay, sizeof(l->underlay), "%s", u->iface);
	snprintf(l->name, sizeof(l->name), "%s%s", family == AF_INET6 ? NAME_V6 : NAME_V4,
		 u->iface);
	/* No encapsulation: pods get the underlay's MTU. */
	l->mtu = u->mtu;
	*link = l;
	return 0;
}

#define FIELD(o, field) (OPTIONS_HAS(o, field) ? (o)->field : 0)

OVL_EXPORT int ovl_hostgw_up(struct ovl_ctx *ctx, const struct ovl_hostgw_options *options,
			     struct ovl_link **link)
{
	const char *dev;
	struct ovl_prefix local, subnet, network;
	struct underlay u;
	char text[OVL_PREFIX_STRLEN];
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !options || !link)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_hostgw_up: NULL argument") : -EINVAL;
	*link = NULL;
	err = options_check(ctx, "ovl_hostgw_up: options", options, HOSTGW_OPTIONS_SIZE_0_1,
			    sizeof(*options));
	if (!err)
		err = flags_check(ctx, "ovl_hostgw_up: options", options->flags, 0);
	if (!err)
		err = link_parse_addresses(ctx, FIELD(options, local), FIELD(options, subnet),
				   FIELD(options, network), &local, &subnet, &network);
	if (err < 0)
		return err;
	if (local.family != subnet.family)
		return ctx_fail(ctx, -EINVAL,
				"local %s is %s but subnet %s is %s: host-gw routes need a gateway "
				"of the subnet's family", options->local, family_name(local.family),
				options->subnet, family_name(subnet.family));
	dev = FIELD(options, dev);
	err = underlay_find(ctx, dev, &local, 1, &u);
	if (err == -EADDRNOTAVAIL) {
		ovl_addr_format(&local, text, sizeof(text));
		return ctx_fail(ctx, err,
				"local: %s is not an address of %s: your PublicIP differs from "
				"interface IP, meaning that probably you're on a NAT, which is not "
				"supported by host-gw backend", text, dev ? dev : "any device");
	}
	if (err < 0)
		return err;
	err = link_new(ctx, subnet.family, &u, link);
	if (err < 0)
		return err;
	(*link)->local = local;
	(*link)->subnet = subnet;
	(*link)->network = network;
	ctx_log(ctx, OVL_LOG_INFO, "%s: local %s, MTU %u", (*link)->name, options->local,
		(*link)->mtu);
	return 0;
}

static int hostgw_open(struct ovl_ctx *ctx, const char *name, struct ovl_link **link)
{
	struct underlay u;
	const char *dev;
	int family, err;

	if (!strncmp(name, NAME_V4, strlen(NAME_V4))) {
		family = AF_INET;
		dev = name + strlen(NAME_V4);
	} else if (!strncmp(name, NAME_V6, strlen(NAME_V6))) {
		family = AF_INET6;
		dev = name + strlen(NAME_V6);
	} else {
		return ctx_fail(ctx, -EINVAL, "'%s' is neither a device name nor %sDEV or %sDEV",
				name, NAME_V4, NAME_V6);
	}
	if (!*dev || strlen(dev) >= IF_NAMESIZE)
		return ctx_fail(ctx, -EINVAL, "%s: '%s' is not a device name", name, dev);
	err = underlay_find(ctx, dev, NULL, 0, &u);
	if (err < 0)
		return ctx_fail_prefix(ctx, err, "%s: ", name);
	return link_new(ctx, family, &u, link);
}

/* Routes on the underlay are all a host-gw link has. */
static int hostgw_down(struct ovl_link *link)
{
	return kernel_peers_flush_underlay(link);
}

/* A ':' is never in a device name, so a name with one is a handle of ours
 * (hostgw_open tells a malformed one). */
static int hostgw_claims(const char *name)
{
	return strchr(name, ':') != NULL;
}

const struct link_ops hostgw_link_ops = {
	.name = "host-gw",
	.claims = hostgw_claims,
	.open = hostgw_open,
	.down = hostgw_down,
	.peer_add = kernel_peer_add,
	.peer_del = kernel_peer_del,
	.peer_sync = kernel_peers_sync,
	.peer_list = kernel_peers_list,
};
