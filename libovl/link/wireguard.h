/*
 * wireguard.h - what the WireGuard backend's files share: the link
 * (wireguard.c: its life cycle), a device's configuration as both of its
 * transports carry it (wireguard-uapi.c: a userspace implementation's text
 * protocol on its UNIX socket; wireguard-genl.c: the kernel's generic
 * netlink family), the queue that speaks to a userspace implementation
 * without waiting for it (wireguard-queue.c), the peer calls
 * (wireguard-peers.c), the device's rtnetlink side (wireguard-device.c)
 * and the key codec (wireguard-key.c).
 */
#ifndef OVL_LINK_WIREGUARD_H
#define OVL_LINK_WIREGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/internal.h"
#include "link/link.h"

#define WG_KEY_LEN 32
/* Where userspace implementations put their UAPI sockets (wg(8) looks
 * there too): NAME.sock. */
#define WG_SOCKET_DIR "/var/run/wireguard"
/* wireguard-go answers in microseconds: an exchange this late is overdue
 * (blocking calls give up, a nonblocking link reports it). */
#define WG_EXCHANGE_MS 2000
/* wg-quick gives its program no limit; a TUN device and a socket take
 * well under a second. */
#define WG_START_MS 10000

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
	int handshake;			/* set: a keepalive at once, which starts the
					 * handshake (OVL_PEER_HANDSHAKE) */
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

struct wg_queue;

/* A WireGuard link: the kernel's device or a userspace program's. */
struct wg_link {
	struct ovl_link link;		/* first: the handle link.c sees */
	int kernel;			/* 1: generic netlink; 0: a UAPI socket */
	int nonblocking;		/* OVL_WIREGUARD_NONBLOCKING */
	struct wg_queue *queue;		/* userspace: the UAPI socket's requests */
	/* A second family on the same device (flannel's Mode auto, ipv4
	 * and ipv6 in dual stack); family 0: none. */
	struct ovl_prefix subnet6, network6;
	int has_preshared_key;
	unsigned char preshared_key[WG_KEY_LEN];
	int keepalive;
};

/* ---- wireguard-device.c: the description and the device ---------------- */

/* Frees the peers and their allowed IPs; the device is empty after. */
void wg_device_clear(struct wg_device *device);
/* A new zeroed peer at the end of device->peers (keepalive -1); NULL on
 * ENOMEM. */
struct wg_peer *wg_device_add_peer(struct wg_device *device);
/* Appends prefix to the peer's allowed IPs: 0 or -ENOMEM. */
int wg_peer_allow(struct wg_peer *peer, const struct ovl_prefix *prefix);
/* A deep copy of from into the empty to: 0 or -ENOMEM. */
int wg_device_copy(struct wg_device *to, const struct wg_device *from);
/* Moves from's peers to the end of to's (from's key and port win, as they
 * would applied after to); from is empty after.  0 or -ENOMEM (nothing
 * moved). */
int wg_device_append(struct wg_device *to, struct wg_device *from);

/* rtnetlink: a kernel WireGuard device (-EOPNOTSUPP without the module),
 * removal by index, and what libovl sets on any WireGuard device: MTU,
 * alias, up, the subnets' base addresses, the networks' routes. */
int wg_device_create_kernel(struct ovl_ctx *ctx, const char *name);
int wg_device_delete(struct ovl_ctx *ctx, int ifindex);
int wg_device_configure(struct wg_link *w);

/* ---- wireguard-peers.c: the peer calls ---------------------------------- */

/* The set that turns installed into desired (one entry per key, allowed
 * IPs replaced) in change, which must be empty: the desired peers and
 * removals of the other keys. */
int wg_plan_sync(const struct wg_device *desired, const struct wg_device *installed,
		 struct wg_device *change);
/* device as a transport sends it, into the empty out: each peer to
 * handshake at once (wg_peer.handshake) sends a keepalive, which WireGuard
 * does when a keepalive interval is turned on: its entry turns it on (or
 * off) and a second entry of the same key sets the one wanted. */
int wg_device_for_wire(const struct wg_device *device, struct wg_device *out);
/* The device's current state: the kernel's, or the UAPI socket's (a
 * nonblocking link's as last read, without waiting). */
int wg_link_read(struct wg_link *w, struct wg_device *device);
/* Applies change (emptied): now, or queued on a nonblocking link. */
int wg_link_change(struct wg_link *w, struct wg_device *change);
/* The link_ops peer calls. */
int wg_peers_add(struct ovl_link *link, const struct ovl_peer_v2 *peer);
int wg_peers_del(struct ovl_link *link, const struct ovl_peer_v2 *peer);
int wg_peers_sync(struct ovl_link *link, const struct ovl_peer_v2 *peers, size_t count);
int wg_peers_list(struct ovl_link *link, struct ovl_peer_v2 **peers, size_t *count);

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

/* WG_SOCKET_DIR/NAME.sock into path: 0 or -ENAMETOOLONG. */
int wg_uapi_path(const char *name, char *path, size_t size);
/* A non-blocking connection to the socket at path, or -errno. */
int wg_uapi_connect(const char *path);
/* 1 when a UAPI socket for name accepts connections, else 0. */
int wg_uapi_answers(const char *name);
/* Runs "program name" in the ctx's namespace, as wg-quick does; *pid is
 * the child to reap (wg_uapi_reap). */
int wg_uapi_spawn(struct ovl_ctx *ctx, const char *program, const char *name, pid_t *pid);
/* Without waiting: 0 while the child runs, 1 once it exited 0 (a forking
 * program such as wireguard-go exits once its device and socket exist),
 * -EIO (with the reason in ctx) when it failed. */
int wg_uapi_reap(struct ovl_ctx *ctx, const char *program, const char *name, pid_t pid);
/* After the device is gone: waits a little for its socket to go too. */
void wg_uapi_wait_gone(const char *name);

/* ---- wireguard-queue.c: the UAPI socket without waiting ---------------
 * Requests to one userspace implementation, one at a time and in order
 * (wireguard-go serves each connection on a goroutine of its own: two
 * requests in flight could be applied in either order).  The queue's fd
 * is readable when its socket or its timer is; wg_queue_dispatch moves on
 * without blocking.  A request without an answer after WG_EXCHANGE_MS is
 * overdue and stays open: a stopped program answers when it runs again,
 * and a dead one closes it. */

/* Called once the program's socket answers: 0, or -errno to fail it. */
typedef int (*wg_ready_fn)(void *arg);

int wg_queue_open(struct ovl_ctx *ctx, const char *path, struct wg_queue **queue);
void wg_queue_close(struct wg_queue *queue);
int wg_queue_fd(const struct wg_queue *queue);
/* Spawns program for the device name and holds every request until its
 * socket answers and ready succeeded (polled on the queue's timer, at
 * most WG_START_MS). */
int wg_queue_start(struct wg_queue *queue, const char *program, const char *name,
		   wg_ready_fn ready, void *arg);
/* 1 while the program is starting. */
int wg_queue_starting(const struct wg_queue *queue);
/* Queues a set request; takes change's content (emptied). */
int wg_queue_set(struct wg_queue *queue, struct wg_device *change);
/* Queues a get and then the set wg_plan_sync makes of desired (taken,
 * emptied) and the answer; peers queued before it are dropped, as the
 * sync replaces them. */
int wg_queue_sync(struct wg_queue *queue, struct wg_device *desired);
/* Queues a get (unless one is queued): the view is read again. */
int wg_queue_refresh(struct wg_queue *queue);
/* What is ready, without blocking: the number of requests still queued or
 * in flight; -ETIMEDOUT while the one in flight is overdue; the -errno of
 * a failure met in this call (the program refused a request, which is
 * dropped, or could not be reached, which is retried), the reason in ctx. */
int wg_queue_dispatch(struct wg_queue *queue);
/* Blocks until every request is done, for the blocking calls: 0, or the
 * first failure (then, and after timeout_ms, everything still queued is
 * dropped and a request in flight abandoned). */
int wg_queue_wait(struct wg_queue *queue, int timeout_ms);
/* The device as the last get read it (empty before any); *age_ms how long
 * ago, -1 when never. */
const struct wg_device *wg_queue_view(const struct wg_queue *queue, int64_t *age_ms);

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
