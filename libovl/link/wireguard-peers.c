/*
 * wireguard-peers.c - peers on a WireGuard link: each one a public key, an
 * endpoint and its subnets as allowed IPs, with the link's preshared key
 * and keepalive; added, removed by key (or by subnet), synced (peers of
 * other keys removed, never all replaced, so the sessions of those that
 * stay survive) and listed with the device's counters.  The device is
 * reached through the kernel's generic netlink or a userspace program's
 * queue (wireguard-queue.c), at once or, on a nonblocking link, queued.
 */
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "link/wireguard.h"

/* A nonblocking link's view of the device is read again when it is older
 * than this and someone looks at it. */
#define VIEW_FRESH_MS 1000
/* A blocking call waits for a starting program, then for its exchanges. */
#define BLOCKING_MS (WG_START_MS + 2 * WG_EXCHANGE_MS)

static struct wg_link *wg_of(struct ovl_link *link)
{
	return (struct wg_link *)link;
}

/* ---- the device, whoever serves it ---------------------------------------- */

int wg_link_read(struct wg_link *w, struct wg_device *device)
{
	int64_t age_ms;
	int err;

	memset(device, 0, sizeof(*device));
	if (w->kernel)
		return wg_genl_get(w->link.ctx, w->link.name, device);
	if (!w->nonblocking) {
		err = wg_queue_refresh(w->queue);
		if (err == 0)
			err = wg_queue_wait(w->queue, BLOCKING_MS);
		if (err < 0)
			return err;
	}
	err = wg_device_copy(device, wg_queue_view(w->queue, &age_ms));
	if (err < 0)
		return ctx_fail(w->link.ctx, err, "out of memory");
	if (w->nonblocking && (age_ms < 0 || age_ms > VIEW_FRESH_MS))
		return wg_queue_refresh(w->queue);
	return 0;
}

int wg_link_change(struct wg_link *w, struct wg_device *change)
{
	struct wg_device wire;
	int err;

	if (w->kernel) {
		err = wg_device_for_wire(change, &wire);
		err = err < 0 ? ctx_fail(w->link.ctx, err, "out of memory") :
			wg_genl_set(w->link.ctx, w->link.name, &wire);
		wg_device_clear(&wire);
		wg_device_clear(change);
		return err;
	}
	err = wg_queue_set(w->queue, change);
	if (err == 0 && !w->nonblocking)
		err = wg_queue_wait(w->queue, BLOCKING_MS);
	return err;
}

/* ---- plans ------------------------------------------------------------------ */

int wg_device_for_wire(const struct wg_device *device, struct wg_device *out)
{
	size_t i, count = device->peer_count;
	struct wg_peer *again;
	int wanted, err = wg_device_copy(out, device);

	for (i = 0; err == 0 && i < count; i++) {
		if (!out->peers[i].handshake || out->peers[i].remove)
			continue;
		/* From 0 to anything sends the keepalive: off then on, or on
		 * then off when none is wanted. */
		wanted = out->peers[i].keepalive;
		out->peers[i].keepalive = wanted > 0 ? 0 : 1;
		again = wg_device_add_peer(out);
		if (!again) {
			err = -ENOMEM;
			break;
		}
		memcpy(again->public_key, out->peers[i].public_key, WG_KEY_LEN);
		again->keepalive = wanted > 0 ? wanted : 0;
	}
	if (err < 0)
		wg_device_clear(out);
	return err;
}

static struct wg_peer *find_key(const struct wg_device *device, const unsigned char *key)
{
	size_t i;

	for (i = 0; i < device->peer_count; i++)
		if (!memcmp(device->peers[i].public_key, key, WG_KEY_LEN))
			return &device->peers[i];
	return NULL;
}

int wg_plan_sync(const struct wg_device *desired, const struct wg_device *installed,
		 struct wg_device *change)
{
	struct wg_peer *p;
	size_t i;
	int err = wg_device_copy(change, desired);

	for (i = 0; err == 0 && i < installed->peer_count; i++) {
		if (find_key(desired, installed->peers[i].public_key))
			continue;
		p = wg_device_add_peer(change);
		if (!p) {
			err = -ENOMEM;
			break;
		}
		memcpy(p->public_key, installed->peers[i].public_key, WG_KEY_LEN);
		p->remove = 1;
	}
	if (err < 0)
		wg_device_clear(change);
	return err;
}

/* ---- the calls ---------------------------------------------------------------- */

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
	out->handshake = !!(in->flags & OVL_PEER_HANDSHAKE);
	out->has_preshared_key = w->has_preshared_key;
	memcpy(out->preshared_key, w->preshared_key, WG_KEY_LEN);
	return 0;
}

int wg_peers_add(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct wg_link *w = wg_of(link);
	struct wg_device change = { 0 };
	struct ovl_prefix subnet;
	struct wg_peer *p = wg_device_add_peer(&change);
	int err;

	err = p ? peer_parse(w, peer, p, &subnet, 1) : -ENOMEM;
	if (err == 0 && wg_peer_allow(p, &subnet) < 0)
		err = -ENOMEM;
	if (err == -ENOMEM)
		err = ctx_fail(link->ctx, err, "out of memory");
	if (err == 0)
		err = wg_link_change(w, &change);
	wg_device_clear(&change);
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
int wg_peers_del(struct ovl_link *link, const struct ovl_peer_v2 *peer)
{
	struct wg_link *w = wg_of(link);
	struct wg_device change = { 0 }, installed;
	struct ovl_prefix subnet;
	struct wg_peer *p = wg_device_add_peer(&change);
	size_t i;
	int err, found = 1;

	err = p ? peer_parse(w, peer, p, &subnet, 0) : ctx_fail(link->ctx, -ENOMEM, "out of memory");
	if (err == 0 && !peer->public_key) {
		err = wg_link_read(w, &installed);
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
		err = wg_link_change(w, &change);
	wg_device_clear(&change);
	return err;
}

/* The peers as one entry per key (entries sharing a key are one peer
 * with all their subnets), allowed IPs replaced. */
static int desired_peers(struct wg_link *w, const struct ovl_peer_v2 *peers, size_t count,
			 struct wg_device *desired)
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
		p = find_key(desired, parsed.public_key);
		if (!p) {
			p = wg_device_add_peer(desired);
			if (!p)
				return ctx_fail(w->link.ctx, -ENOMEM, "out of memory");
			*p = parsed;
			p->replace_allowed_ips = 1;
		}
		p->handshake |= parsed.handshake;
		if (wg_peer_allow(p, &subnet) < 0)
			return ctx_fail(w->link.ctx, -ENOMEM, "out of memory");
	}
	return 0;
}

int wg_peers_sync(struct ovl_link *link, const struct ovl_peer_v2 *peers, size_t count)
{
	struct wg_link *w = wg_of(link);
	struct wg_device desired = { 0 }, installed, change = { 0 };
	int err;

	err = desired_peers(w, peers, count, &desired);
	if (err == 0 && !w->kernel) {
		err = wg_queue_sync(w->queue, &desired);
		if (err == 0 && !w->nonblocking)
			err = wg_queue_wait(w->queue, BLOCKING_MS);
	} else if (err == 0) {
		err = wg_link_read(w, &installed);
		if (err == 0) {
			err = wg_plan_sync(&desired, &installed, &change);
			if (err < 0)
				err = ctx_fail(link->ctx, err, "out of memory");
			wg_device_clear(&installed);
		}
		if (err == 0 && change.peer_count)
			err = wg_link_change(w, &change);
	}
	wg_device_clear(&desired);
	wg_device_clear(&change);
	return err;
}

/* One element per allowed IP of every peer. */
int wg_peers_list(struct ovl_link *link, struct ovl_peer_v2 **peers, size_t *count)
{
	struct wg_link *w = wg_of(link);
	struct wg_device device;
	struct ovl_peer_v2 *out = NULL, init = OVL_PEER_V2_INIT;
	char text[OVL_PREFIX_STRLEN], key[OVL_WIREGUARD_KEY_STRLEN];
	size_t total = 0, n = 0, i, j;
	int err;

	err = wg_link_read(w, &device);
	if (err < 0) {
		wg_device_clear(&device);
		return err;
	}
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
