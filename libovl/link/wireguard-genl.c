/*
 * wireguard-genl.c - the kernel's WireGuard through generic netlink: the
 * family "wireguard" resolved by name, WG_CMD_SET_DEVICE messages built
 * the way wireguard-tools' embeddable-wg-library lays them out (a device
 * with many peers spread over several messages), WG_CMD_GET_DEVICE dumps
 * parsed back (a peer cut between two replies continues in the next).
 * The encoding and parsing are pure and tested byte for byte; the socket
 * part runs only on a kernel with WireGuard, which the test machine lacks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "link/wireguard.h"
#include "netlink/nl.h"

#define RECEIVE_TIMEOUT_SECONDS 10
#define DATAGRAM 65536

/* ---- encoding ------------------------------------------------------------ */

static struct nl_msg *new_message(uint16_t family_id, uint8_t cmd, int flags)
{
	struct genlmsghdr genl = { .cmd = cmd, .version = WG_GENL_VERSION };

	return netlink_msg(family_id, flags, &genl, sizeof(genl));
}

static int put_endpoint(struct nl_msg *msg, const struct wg_peer *peer)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (peer->endpoint.family == AF_INET) {
		in4.sin_port = htons((uint16_t)peer->endpoint_port);
		memcpy(&in4.sin_addr, peer->endpoint.addr, 4);
		return nla_put(msg, WGPEER_A_ENDPOINT, sizeof(in4), &in4);
	}
	in6.sin6_port = htons((uint16_t)peer->endpoint_port);
	memcpy(&in6.sin6_addr, peer->endpoint.addr, 16);
	return nla_put(msg, WGPEER_A_ENDPOINT, sizeof(in6), &in6);
}

/* One peer's nest; a negative libnl error when the message is full. */
static int put_peer(struct nl_msg *msg, const struct wg_peer *peer)
{
	struct nlattr *nest, *ips, *ip;
	uint32_t flags = 0;
	size_t i;

	if (!(nest = nla_nest_start(msg, NLA_F_NESTED | 0)) ||
	    nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, peer->public_key) < 0)
		return -1;
	if (peer->remove) {
		flags |= WGPEER_F_REMOVE_ME;
	} else {
		if (peer->replace_allowed_ips)
			flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
		if ((peer->has_preshared_key &&
		     nla_put(msg, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, peer->preshared_key) < 0) ||
		    (peer->endpoint.family && put_endpoint(msg, peer) < 0) ||
		    (peer->keepalive >= 0 &&
		     nla_put_u16(msg, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
				 (uint16_t)peer->keepalive) < 0))
			return -1;
	}
	if (flags && nla_put_u32(msg, WGPEER_A_FLAGS, flags) < 0)
		return -1;
	if (!peer->remove && peer->allowed_count) {
		if (!(ips = nla_nest_start(msg, NLA_F_NESTED | WGPEER_A_ALLOWEDIPS)))
			return -1;
		for (i = 0; i < peer->allowed_count; i++) {
			const struct ovl_prefix *p = &peer->allowed_ips[i];

			if (!(ip = nla_nest_start(msg, NLA_F_NESTED | 0)) ||
			    nla_put_u16(msg, WGALLOWEDIP_A_FAMILY, (uint16_t)p->family) < 0 ||
			    nla_put(msg, WGALLOWEDIP_A_IPADDR, p->family == AF_INET6 ? 16 : 4,
				    p->addr) < 0 ||
			    nla_put_u8(msg, WGALLOWEDIP_A_CIDR_MASK, (uint8_t)p->len) < 0)
				return -1;
			nla_nest_end(msg, ip);
		}
		nla_nest_end(msg, ips);
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* The first message carries the device's own attributes. */
static struct nl_msg *start_set(uint16_t family_id, const char *ifname,
				const struct wg_device *device, int first, struct nlattr **peers)
{
	struct nl_msg *msg = new_message(family_id, WG_CMD_SET_DEVICE, NLM_F_ACK);

	if (!msg || nla_put_string(msg, WGDEVICE_A_IFNAME, ifname) < 0)
		goto fail;
	if (first && ((device->has_private_key &&
		       nla_put(msg, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, device->private_key) < 0) ||
		      (device->listen_port &&
		       nla_put_u16(msg, WGDEVICE_A_LISTEN_PORT, (uint16_t)device->listen_port) < 0) ||
		      (device->replace_peers &&
		       nla_put_u32(msg, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS) < 0)))
		goto fail;
	*peers = nla_nest_start(msg, NLA_F_NESTED | WGDEVICE_A_PEERS);
	if (*peers)
		return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

void wg_genl_free_messages(struct nl_msg **msgs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		nlmsg_free(msgs[i]);
	free(msgs);
}

int wg_genl_encode_set(uint16_t family_id, const char *ifname, const struct wg_device *device,
		       struct nl_msg ***msgs, size_t *count)
{
	struct nl_msg **list = NULL, **grown, *msg;
	struct nlattr *peers;
	size_t next = 0, in_this;
	int err = 0;

	*msgs = NULL;
	*count = 0;
	do {
		msg = start_set(family_id, ifname, device, *count == 0, &peers);
		grown = msg ? realloc(list, (*count + 1) * sizeof(*list)) : NULL;
		if (!grown) {
			nlmsg_free(msg);
			err = -ENOMEM;
			break;
		}
		list = grown;
		list[(*count)++] = msg;
		for (in_this = 0; next < device->peer_count; next++, in_this++) {
			struct nlattr *mark = (struct nlattr *)nlmsg_tail(nlmsg_hdr(msg));

			if (put_peer(msg, &device->peers[next]) < 0) {
				/* Full: this peer starts the next message. */
				nla_nest_cancel(msg, mark);
				break;
			}
		}
		nla_nest_end(msg, peers);
		if (next < device->peer_count && !in_this)
			err = -EMSGSIZE;	/* one peer alone does not fit */
	} while (!err && next < device->peer_count);
	if (err < 0) {
		wg_genl_free_messages(list, *count);
		*count = 0;
		return err;
	}
	*msgs = list;
	return 0;
}

struct nl_msg *wg_genl_encode_get(uint16_t family_id, const char *ifname)
{
	struct nl_msg *msg = new_message(family_id, WG_CMD_GET_DEVICE, NLM_F_ACK | NLM_F_DUMP);

	if (msg && nla_put_string(msg, WGDEVICE_A_IFNAME, ifname) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- parsing --------------------------------------------------------------- */

static int parse_endpoint(const struct nlattr *a, struct wg_peer *peer)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	if ((size_t)nla_len(a) >= sizeof(in4) &&
	    ((const struct sockaddr *)nla_data(a))->sa_family == AF_INET) {
		memcpy(&in4, nla_data(a), sizeof(in4));
		peer->endpoint.family = AF_INET;
		peer->endpoint.len = 32;
		memcpy(peer->endpoint.addr, &in4.sin_addr, 4);
		peer->endpoint_port = ntohs(in4.sin_port);
	} else if ((size_t)nla_len(a) >= sizeof(in6) &&
		   ((const struct sockaddr *)nla_data(a))->sa_family == AF_INET6) {
		memcpy(&in6, nla_data(a), sizeof(in6));
		peer->endpoint.family = AF_INET6;
		peer->endpoint.len = 128;
		memcpy(peer->endpoint.addr, &in6.sin6_addr, 16);
		peer->endpoint_port = ntohs(in6.sin6_port);
	}
	return 0;
}

static int parse_allowed(const struct nlattr *nest, struct wg_peer *peer)
{
	const struct nlattr *entry, *a;
	int rem, rem2;

	nla_for_each_nested(entry, nest, rem) {
		struct ovl_prefix p = { 0 };
		int have_addr = 0, have_len = 0;

		nla_for_each_nested(a, entry, rem2) {
			switch (nla_type(a)) {
			case WGALLOWEDIP_A_FAMILY:
				if (nla_len(a) == 2)
					p.family = nla_get_u16(a);
				break;
			case WGALLOWEDIP_A_IPADDR:
				if (nla_len(a) == 4 || nla_len(a) == 16) {
					memcpy(p.addr, nla_data(a), (size_t)nla_len(a));
					have_addr = nla_len(a);
				}
				break;
			case WGALLOWEDIP_A_CIDR_MASK:
				if (nla_len(a) == 1) {
					p.len = nla_get_u8(a);
					have_len = 1;
				}
				break;
			}
		}
		if (!have_addr || !have_len ||
		    have_addr != (p.family == AF_INET6 ? 16 : p.family == AF_INET ? 4 : -1) ||
		    p.len > (p.family == AF_INET6 ? 128u : 32u))
			return -EPROTO;
		if (wg_peer_allow(peer, &p) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_peer(const struct nlattr *nest, struct wg_device *device)
{
	const struct nlattr *a, *key = NULL;
	struct wg_peer *peer, *last;
	int rem;

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == WGPEER_A_PUBLIC_KEY && nla_len(a) == WG_KEY_LEN)
			key = a;
	if (!key)
		return -EPROTO;
	/* The kernel cuts a peer with many allowed IPs between replies: the
	 * next reply repeats its key and goes on. */
	last = device->peer_count ? &device->peers[device->peer_count - 1] : NULL;
	if (last && !memcmp(last->public_key, nla_data(key), WG_KEY_LEN))
		peer = last;
	else if (!(peer = wg_device_add_peer(device)))
		return -ENOMEM;
	memcpy(peer->public_key, nla_data(key), WG_KEY_LEN);
	nla_for_each_nested(a, nest, rem) {
		int err = 0;

		switch (nla_type(a)) {
		case WGPEER_A_PRESHARED_KEY:
			if (nla_len(a) == WG_KEY_LEN) {
				memcpy(peer->preshared_key, nla_data(a), WG_KEY_LEN);
				/* The kernel reports zeros for none. */
				peer->has_preshared_key = !!memcmp(peer->preshared_key,
								   (unsigned char[WG_KEY_LEN]){ 0 },
								   WG_KEY_LEN);
			}
			break;
		case WGPEER_A_ENDPOINT:
			err = parse_endpoint(a, peer);
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			if (nla_len(a) == 2)
				peer->keepalive = nla_get_u16(a);
			break;
		case WGPEER_A_LAST_HANDSHAKE_TIME:
			/* struct __kernel_timespec: 64-bit seconds first. */
			if (nla_len(a) >= 8)
				memcpy(&peer->last_handshake, nla_data(a), 8);
			break;
		case WGPEER_A_RX_BYTES:
			if (nla_len(a) == 8)
				peer->rx_bytes = nla_get_u64(a);
			break;
		case WGPEER_A_TX_BYTES:
			if (nla_len(a) == 8)
				peer->tx_bytes = nla_get_u64(a);
			break;
		case WGPEER_A_ALLOWEDIPS:
			err = parse_allowed(a, peer);
			break;
		}
		if (err < 0)
			return err;
	}
	return 0;
}

int wg_genl_parse_get(const struct nlmsghdr *reply, struct wg_device *device)
{
	const struct nlattr *a, *peer;
	int rem, rem2, err;

	if (reply->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EPROTO;
	nla_for_each_attr(a, (const struct nlattr *)((const char *)NLMSG_DATA(reply) + GENL_HDRLEN),
			  (int)(reply->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem) {
		switch (nla_type(a)) {
		case WGDEVICE_A_PRIVATE_KEY:
			if (nla_len(a) == WG_KEY_LEN) {
				memcpy(device->private_key, nla_data(a), WG_KEY_LEN);
				device->has_private_key = 1;
			}
			break;
		case WGDEVICE_A_LISTEN_PORT:
			if (nla_len(a) == 2)
				device->listen_port = nla_get_u16(a);
			break;
		case WGDEVICE_A_PEERS:
			nla_for_each_nested(peer, a, rem2) {
				err = parse_peer(peer, device);
				if (err < 0)
					return err;
			}
			break;
		}
	}
	return 0;
}

/* ---- the socket ---------------------------------------------------------- */

static int open_generic(void *arg)
{
	int *fd = arg;

	*fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (*fd < 0)
		*fd = -errno;
	return 0;
}

/* A NETLINK_GENERIC socket in the ctx's namespace, bounded in time. */
static int generic_socket(struct ovl_ctx *ctx)
{
	struct timeval timeout = { RECEIVE_TIMEOUT_SECONDS, 0 };
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd = -1, err;

	err = netlink_in_netns(ctx, open_generic, &fd);
	if (err == 0 && fd < 0)
		err = fd;
	if (err == 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
			 bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0))
		err = -errno;
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		return ctx_fail(ctx, err, "generic netlink socket: %s", ovl_strerror(err));
	}
	return fd;
}

typedef int (*reply_fn)(const struct nlmsghdr *reply, void *arg);

/* Sends msg (freed) and reads up to its ack or the dump's end: 0 or the
 * kernel's -errno. */
static int exchange(int fd, struct nl_msg *msg, uint32_t seq, reply_fn fn, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	char *buffer;
	ssize_t got;
	int err = 1, done = 0;

	nlh->nlmsg_seq = seq;
	got = send(fd, nlh, nlh->nlmsg_len, 0);
	nlmsg_free(msg);
	if (got < 0)
		return -errno;
	buffer = malloc(DATAGRAM);
	if (!buffer)
		return -ENOMEM;
	while (!done) {
		got = recv(fd, buffer, DATAGRAM, 0);
		if (got < 0) {
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		for (nlh = (struct nlmsghdr *)buffer; NLMSG_OK(nlh, (size_t)got) && !done;
		     nlh = NLMSG_NEXT(nlh, got)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (err > 0)
					err = e->error;
				done = 1;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				/* A dump ends here: the kernel acks no dump. */
				if (err > 0)
					err = 0;
				done = 1;
			} else if (fn && err > 0) {
				int failed = fn(nlh, arg);

				if (failed < 0)
					err = failed;
			}
		}
	}
	free(buffer);
	return err > 0 ? 0 : err;
}

static int family_reply(const struct nlmsghdr *reply, void *arg)
{
	const struct nlattr *a;
	int rem;

	nla_for_each_attr(a, (const struct nlattr *)((const char *)NLMSG_DATA(reply) + GENL_HDRLEN),
			  (int)(reply->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
		if (nla_type(a) == CTRL_ATTR_FAMILY_ID && nla_len(a) == 2)
			*(uint16_t *)arg = nla_get_u16(a);
	return 0;
}

/* The socket and the family's id, or -EOPNOTSUPP without WireGuard. */
static int connect_family(struct ovl_ctx *ctx, const char *ifname, uint16_t *family_id)
{
	struct genlmsghdr genl = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 };
	struct nl_msg *msg;
	int fd, err;

	fd = generic_socket(ctx);
	if (fd < 0)
		return fd;
	*family_id = 0;
	msg = netlink_msg(GENL_ID_CTRL, NLM_F_ACK, &genl, sizeof(genl));
	if (!msg || nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME) < 0) {
		nlmsg_free(msg);
		close(fd);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	err = exchange(fd, msg, 1, family_reply, family_id);
	if (err == 0 && !*family_id)
		err = -EPROTO;
	if (err < 0) {
		close(fd);
		return ctx_fail(ctx, err == -ENOENT ? -EOPNOTSUPP : err,
				"%s: %s", ifname, err == -ENOENT ?
				"the kernel has no WireGuard (no generic netlink family 'wireguard')" :
				ovl_strerror(err));
	}
	return fd;
}

int wg_genl_set(struct ovl_ctx *ctx, const char *ifname, const struct wg_device *device)
{
	struct nl_msg **msgs;
	uint16_t family_id;
	size_t count, i;
	int fd, err;

	fd = connect_family(ctx, ifname, &family_id);
	if (fd < 0)
		return fd;
	err = wg_genl_encode_set(family_id, ifname, device, &msgs, &count);
	if (err < 0) {
		close(fd);
		return ctx_fail(ctx, err, "%s: %s", ifname, err == -EMSGSIZE ?
				"a peer too large for one message" : "out of memory");
	}
	for (i = 0; i < count && err == 0; i++) {
		err = exchange(fd, msgs[i], (uint32_t)(2 + i), NULL, NULL);
		msgs[i] = NULL;
	}
	for (; i < count; i++)
		nlmsg_free(msgs[i]);
	free(msgs);
	close(fd);
	return err < 0 ? ctx_fail(ctx, err, "%s: WG_CMD_SET_DEVICE: %s", ifname,
				  ovl_strerror(err)) : 0;
}

static int device_reply(const struct nlmsghdr *reply, void *arg)
{
	return wg_genl_parse_get(reply, arg);
}

int wg_genl_get(struct ovl_ctx *ctx, const char *ifname, struct wg_device *device)
{
	struct nl_msg *msg;
	uint16_t family_id;
	int fd, err;

	fd = connect_family(ctx, ifname, &family_id);
	if (fd < 0)
		return fd;
	msg = wg_genl_encode_get(family_id, ifname);
	err = msg ? exchange(fd, msg, 2, device_reply, device) : -ENOMEM;
	close(fd);
	if (err < 0) {
		wg_device_clear(device);
		return ctx_fail(ctx, err, "%s: WG_CMD_GET_DEVICE: %s", ifname, ovl_strerror(err));
	}
	return 0;
}
