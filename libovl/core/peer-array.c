/*
 * peer-array.c - arrays of struct ovl_peer_v2 as the caller sees them:
 * laid out with the stride of the caller's struct (a caller built against
 * an older header has a shorter one), and freed by that stride.  Both the
 * links (ovl_peer_v2_list) and the agent (ovl_node_peers) hand them out.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define HAS(stride, field) \
	((stride) >= offsetof(struct ovl_peer_v2, field) + sizeof(((struct ovl_peer_v2 *)0)->field))

int peers_v2_lay_out(struct ovl_peer_v2 *whole, size_t count, size_t size,
		     struct ovl_peer_v2 **peers)
{
	char *out = calloc(count ? count : 1, size);
	size_t i;

	if (!out) {
		for (i = 0; i < count; i++)
			whole[i].size = sizeof(whole[i]);
		ovl_peers_v2_free(whole, count);
		return -ENOMEM;
	}
	/* Strings past the caller's size are not the caller's to free: they
	 * go now. */
	for (i = 0; i < count; i++) {
		struct ovl_peer_v2 *peer = (struct ovl_peer_v2 *)(out + i * size);

		whole[i].size = size;
		memcpy(peer, &whole[i], size < sizeof(whole[i]) ? size : sizeof(whole[i]));
		if (!HAS(size, mac))
			free((char *)whole[i].mac);
		if (!HAS(size, public_key))
			free((char *)whole[i].public_key);
	}
	free(whole);
	*peers = (struct ovl_peer_v2 *)out;
	return 0;
}

OVL_EXPORT void ovl_peers_v2_free(struct ovl_peer_v2 *peers, size_t count)
{
	size_t stride, i;

	if (!peers)
		return;
	stride = peers->size;
	for (i = 0; i < count; i++) {
		struct ovl_peer_v2 *peer = (struct ovl_peer_v2 *)((char *)peers + i * stride);

		free((char *)peer->subnet);
		free((char *)peer->public_ip);
		if (HAS(stride, mac))
			free((char *)peer->mac);
		if (HAS(stride, public_key))
			free((char *)peer->public_key);
	}
	free(peers);
}
