/*
 * wireguard-genl.c - the kernel's WireGuard through generic netlink
 * (family "wireguard", WG_CMD_SET_DEVICE / WG_CMD_GET_DEVICE).
 */
#include "link/wireguard.h"

int wg_genl_set(struct ovl_ctx *ctx, const char *ifname, const struct wg_device *device)
{
	return ctx_fail(ctx, -EOPNOTSUPP, "%s: kernel WireGuard: not yet", ifname);
}

int wg_genl_get(struct ovl_ctx *ctx, const char *ifname, struct wg_device *device)
{
	return ctx_fail(ctx, -EOPNOTSUPP, "%s: kernel WireGuard: not yet", ifname);
}
