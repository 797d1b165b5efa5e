/*
 * wireguard.h - what the WireGuard backend's files share: a device's
 * configuration as both of its transports carry it (wireguard-uapi.c: a
 * userspace implementation's text protocol on its UNIX socket;
 * wireguard-genl.c: the kernel's generic netlink family), and the key
 * codec (wireguard-key.c).  wireguard.c is the link that uses them.
 */
#ifndef OVL_LINK_WIREGUARD_H
#define OVL_LINK_WIREGUARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define WG_KEY_LEN 32
/* Where userspace implementations put their UAPI sockets (wg(8) looks
 * there too): NAME.sock. */
#define WG_SOCKET_DIR "/var/run/wireguard"

/* One peer: what a set request changes, or what a get answered. */
struct wg_peer {
	unsigned char public_key[WG_KEY_LEN];
	int remove;			/* set: remove the peer */
	int replace_allowed_ips;	/* set: allowed_ips replace the old ones */
	int has_preshared_key;
	unsigned char preshared_key[WG_KEY_LEN];
	struct ovl_prefix endpoint;	/* an address; family 0: none */
	unsigned int endpoint_port;
	int keepalive;			/* seconds; -1: unchanged / unknown */
	struct ovl_prefix *allowed_ips;	/* malloc'ed */
	size_t allowed_count;
	/* get only */
	int64_t last_handshake;		/* unix seconds, 0: never */
	uint64_t rx_bytes, tx_bytes;
};

struct wg_device {
	int has_private_key;
	unsigned char private_key[WG_KEY_LEN];
	unsigned int listen_port;	/* set: 0 leaves it */
	int replace_peers;		/* set: the peers replace all others */
	struct wg_peer *peers;		/* malloc'ed */
	size_t peer_count;
};

/* Frees the peers and their allowed IPs; the device is empty after. */
void wg_device_clear(struct wg_device *device);
/* A new zeroed peer at the end of device->peers (keepalive -1); NULL on
 * ENOMEM. */
struct wg_peer *wg_device_add_peer(struct wg_device *device);
/* Appends prefix to the peer's allowed IPs: 0 or -ENOMEM. */
int wg_peer_allow(struct wg_peer *peer, const struct ovl_prefix *prefix);

/* ---- wireguard-key.c ---- */

/* 0, or -EINVAL when text is not the base64 of 32 bytes. */
int wg_key_from_base64(const char *text, unsigned char key[WG_KEY_LEN]);
/* 0 or -ENOMEM. */
int wg_key_to_base64(const unsigned char key[WG_KEY_LEN], char text[OVL_WIREGUARD_KEY_STRLEN]);

/* ---- wireguard-uapi.c: the text protocol (pure, unit-tested) ---- */

/* The "set=1" request for device, ending in the empty line. */
int wg_uapi_format_set(const struct wg_device *device, char **text);
/* The answer to "get=1" into device (which must be empty): 0, the
 * negative errno the answer ends with, or -EPROTO when it is malformed. */
int wg_uapi_parse_get(const char *text, struct wg_device *device);

/* ---- wireguard-uapi.c: the socket and the program ---- */

/* 1 when a UAPI socket for name accepts connections, else 0. */
int wg_uapi_answers(const char *name);
int wg_uapi_set(struct ovl_ctx *ctx, const char *name, const struct wg_device *device);
int wg_uapi_get(struct ovl_ctx *ctx, const char *name, struct wg_device *device);
/* One request on the socket at path and its whole answer (up to the empty
 * line), within a bounded time; *answer malloc'ed. */
int wg_uapi_exchange(struct ovl_ctx *ctx, const char *path, const char *request,
		     char **answer);
/* Runs "program name" in the ctx's namespace and waits for it to exit 0
 * and for its socket to answer. */
int wg_uapi_start(struct ovl_ctx *ctx, const char *program, const char *name);
/* After the device is gone: waits a little for its socket to go too. */
void wg_uapi_wait_gone(const char *name);

/* ---- wireguard-genl.c: the kernel's generic netlink family ---- */

struct nl_msg;
struct nlmsghdr;

/* The WG_CMD_SET_DEVICE messages for device on ifname (pure: the family
 * id is given).  A device with many peers takes several messages, as the
 * kernel's size limit requires; *msgs malloc'ed, each freed by the
 * caller (wg_genl_free_messages). */
int wg_genl_encode_set(uint16_t family_id, const char *ifname,
		       const struct wg_device *device, struct nl_msg ***msgs, size_t *count);
void wg_genl_free_messages(struct nl_msg **msgs, size_t count);
/* The WG_CMD_GET_DEVICE dump request for ifname. */
struct nl_msg *wg_genl_encode_get(uint16_t family_id, const char *ifname);
/* One reply of the dump into device: a peer cut across two replies
 * continues in the next one, as the kernel splits them. */
int wg_genl_parse_get(const struct nlmsghdr *reply, struct wg_device *device);

/* The kernel's side: 0 or -EOPNOTSUPP when the kernel has no WireGuard. */
int wg_genl_set(struct ovl_ctx *ctx, const char *ifname, const struct wg_device *device);
int wg_genl_get(struct ovl_ctx *ctx, const char *ifname, struct wg_device *device);

#endif
