/*
 * node-peers.c - ovl_node_peers: the node's installed peers one element
 * per subnet, as its table holds them, with what the device counts for
 * each (wireguard: last handshake and bytes) from its link's listing,
 * which a nonblocking link serves from its last view without waiting.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/node-backend.h"

static int by_subnet(const void *a, const void *b)
{
	return strcmp(((const struct ovl_peer_v2 *)a)->subnet,
		      ((const struct ovl_peer_v2 *)b)->subnet);
}

static int dup_or_null(const char **out, const char *text)
{
	*out = text && *text ? strdup(text) : NULL;
	return text && *text && !*out ? -ENOMEM : 0;
}

/* The device's entry for the same key and subnet: its counters. */
static void add_counters(struct ovl_peer_v2 *peer, const struct ovl_peer_v2 *view, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (view[i].public_key && peer->public_key &&
		    !strcmp(view[i].public_key, peer->public_key) &&
		    !strcmp(view[i].subnet, peer->subnet)) {
			peer->last_handshake = view[i].last_handshake;
			peer->rx_bytes = view[i].rx_bytes;
			peer->tx_bytes = view[i].tx_bytes;
		}
}

static int collect(const struct ovl_node *node, struct ovl_peer_v2 **views, size_t *nviews,
		   struct ovl_peer_v2 *whole, size_t *n)
{
	struct ovl_peer_v2 init = OVL_PEER_V2_INIT;
	size_t i;
	int j;

	for (i = 0; i < node->peers.count; i++) {
		const struct node_peer *peer = &node->peers.items[i];

		for (j = 0; j < node->nplanes; j++) {
			const struct peer_text *text = &peer->text[j];
			struct ovl_peer_v2 *out = &whole[*n];
			int carrier = node->planes[j].carrier;

			if (!peer->valid || !text->subnet[0] || peer->refused & 1u << j)
				continue;
			*out = init;
			(*n)++;
			if (dup_or_null(&out->subnet, text->subnet) < 0 ||
			    dup_or_null(&out->public_ip, text->public_ip) < 0 ||
			    dup_or_null(&out->mac, text->mac) < 0 ||
			    dup_or_null(&out->public_key, text->public_key) < 0)
				return -ENOMEM;
			out->port = text->port;
			add_counters(out, views[carrier], nviews[carrier]);
		}
	}
	return 0;
}

OVL_EXPORT int ovl_node_peers(const struct ovl_node *node, size_t size,
			      struct ovl_peer_v2 **peers, size_t *count)
{
	struct ovl_peer_v2 *views[2] = { NULL, NULL }, *whole;
	size_t nviews[2] = { 0, 0 }, n = 0;
	int i, err;

	ctx_clear_error(node ? node->ctx : NULL);
	if (!node || !peers || !count)
		return node ? ctx_fail(node->ctx, -EINVAL, "ovl_node_peers: NULL argument") :
			-EINVAL;
	*peers = NULL;
	*count = 0;
	if (size < offsetof(struct ovl_peer_v2, public_ip))
		return ctx_fail(node->ctx, -EINVAL, "ovl_node_peers: size %zu is too small", size);
	/* Without the device's view the peers are still worth listing. */
	for (i = 0; i < node->nplanes && node->backend->peer_counters; i++)
		if (node->planes[i].link &&
		    ovl_peer_v2_list(node->planes[i].link, sizeof(**views), &views[i],
				     &nviews[i]) < 0)
			ctx_clear_error(node->ctx);
	whole = calloc(node->peers.count * (size_t)node->nplanes + 1, sizeof(*whole));
	err = whole ? collect(node, views, nviews, whole, &n) : -ENOMEM;
	for (i = 0; i < 2; i++)
		ovl_peers_v2_free(views[i], nviews[i]);
	if (err == 0) {
		qsort(whole, n, sizeof(*whole), by_subnet);
		err = peers_v2_lay_out(whole, n, size, peers);
	} else if (whole) {
		ovl_peers_v2_free(whole, n);
	}
	if (err < 0)
		return ctx_fail(node->ctx, err, "out of memory");
	*count = n;
	return 0;
}
