/*
 * nl.c - the context's netlink socket (libnl-route-3): opened lazily in the
 * context's network namespace, kernel errno and extended-ack message kept,
 * interrupted dumps retried, requests batched.
 */
#include <netlink/netlink.h>

#include "internal.h"

void netlink_close(struct ovl_ctx *ctx)
{
	if (ctx->sock) {
		nl_socket_free(ctx->sock);
		ctx->sock = NULL;
	}
}
