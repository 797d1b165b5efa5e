/*
 * test-wireguard.c - the wireguard backend's parts that need no device:
 * keys (RFC 7748's X25519 vector, clamping, the 0400 key file kept across
 * loads), the UAPI text protocol (a set request to the byte, a get answer
 * parsed, errno and malformed answers; the exchanges are
 * test-wireguard-queue.c's),
 * the kernel's generic netlink messages byte for byte against the layout
 * linux/wireguard.h defines (the kernel path cannot run on this machine),
 * a peer to handshake at once as its two nests,
 * a large set split over messages, a dump reply parsed back, and the
 * net-conf.json keys of Backend wireguard.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "harness.h"
#include "ovl.h"
#include "link/wireguard.h"

static struct ovl_ctx *ctx;

static void fill(unsigned char *bytes, unsigned char value)
{
	memset(bytes, value, WG_KEY_LEN);
}

/* ---- keys ------------------------------------------------------------------ */

static void test_x25519_vector(void)
{
	/* RFC 7748, section 6.1: Alice's private and public keys. */
	static const unsigned char alice[WG_KEY_LEN] = {
		0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2,
		0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5,
		0x1d, 0xb9, 0x2c, 0x2a };
	static const unsigned char alice_public[WG_KEY_LEN] = {
		0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e,
		0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e,
		0xaa, 0x9b, 0x4e, 0x6a };
	char private_text[OVL_WIREGUARD_KEY_STRLEN], public_text[OVL_WIREGUARD_KEY_STRLEN];
	unsigned char out[WG_KEY_LEN];

	CU_ASSERT_EQUAL_FATAL(wg_key_to_base64(alice, private_text), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_wireguard_pubkey(ctx, private_text, public_text), 0);
	CU_ASSERT_EQUAL_FATAL(wg_key_from_base64(public_text, out), 0);
	CU_ASSERT_EQUAL(memcmp(out, alice_public, WG_KEY_LEN), 0);
	CU_ASSERT_EQUAL(ovl_wireguard_pubkey(ctx, "tooshort", public_text), -EINVAL);
	CU_ASSERT_EQUAL(wg_key_from_base64("not base64 at all, but 44 characters long!!", out),
			-EINVAL);
}

static void test_genkey(void)
{
	char a[OVL_WIREGUARD_KEY_STRLEN], b[OVL_WIREGUARD_KEY_STRLEN];
	char pub[OVL_WIREGUARD_KEY_STRLEN];
	unsigned char raw[WG_KEY_LEN];

	CU_ASSERT_EQUAL_FATAL(ovl_wireguard_genkey(ctx, a), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_wireguard_genkey(ctx, b), 0);
	CU_ASSERT_EQUAL(strlen(a), 44);
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
	CU_ASSERT_EQUAL_FATAL(wg_key_from_base64(a, raw), 0);
	CU_ASSERT_EQUAL(raw[0] & 7, 0);
	CU_ASSERT_EQUAL(raw[31] & 0xc0, 0x40);
	CU_ASSERT_EQUAL(ovl_wireguard_pubkey(ctx, a, pub), 0);
}

static void test_key_file(void)
{
	char dir[] = "/tmp/ovl-wg-key.XXXXXX", path[128], first[OVL_WIREGUARD_KEY_STRLEN];
	char again[OVL_WIREGUARD_KEY_STRLEN];
	struct stat st;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/wgkey", dir);
	CU_ASSERT_EQUAL_FATAL(ovl_wireguard_key_load(ctx, path, first), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0400);
	CU_ASSERT_EQUAL(ovl_wireguard_key_load(ctx, path, again), 0);
	CU_ASSERT_STRING_EQUAL(first, again);
	unlink(path);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("garbage\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(ovl_wireguard_key_load(ctx, path, again), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "not a base64 WireGuard key"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/* ---- a device description of one peer to set, one to remove ---------------- */

static void sample_device(struct wg_device *d)
{
	struct ovl_prefix allowed;
	struct wg_peer *p;

	memset(d, 0, sizeof(*d));
	d->has_private_key = 1;
	fill(d->private_key, 0x11);
	d->listen_port = 51820;
	p = wg_device_add_peer(d);
	fill(p->public_key, 0x22);
	p->has_preshared_key = 1;
	fill(p->preshared_key, 0x33);
	ovl_addr_parse("192.168.77.2", &p->endpoint);
	p->endpoint_port = 51820;
	p->keepalive = 25;
	p->replace_allowed_ips = 1;
	ovl_prefix_parse("10.244.2.0/24", &allowed);
	wg_peer_allow(p, &allowed);
	p = wg_device_add_peer(d);
	fill(p->public_key, 0x44);
	p->remove = 1;
}

/* ---- the UAPI text protocol ---------------------------------------------- */

#define HEX(b) b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b

static void test_uapi_set(void)
{
	static const char want[] =
		"set=1\n"
		"private_key=" HEX("11") "\n"
		"listen_port=51820\n"
		"public_key=" HEX("22") "\n"
		"preshared_key=" HEX("33") "\n"
		"endpoint=192.168.77.2:51820\n"
		"persistent_keepalive_interval=25\n"
		"replace_allowed_ips=true\n"
		"allowed_ip=10.244.2.0/24\n"
		"public_key=" HEX("44") "\n"
		"remove=true\n"
		"\n";
	struct wg_device d;
	char *text;

	sample_device(&d);
	ovl_addr_parse("fd77::2", &d.peers[0].endpoint);
	CU_ASSERT_EQUAL_FATAL(wg_uapi_format_set(&d, &text), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "endpoint=[fd77::2]:51820\n"));
	free(text);
	ovl_addr_parse("192.168.77.2", &d.peers[0].endpoint);
	CU_ASSERT_EQUAL_FATAL(wg_uapi_format_set(&d, &text), 0);
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	wg_device_clear(&d);
}

static void test_uapi_get(void)
{
	static const char answer[] =
		"private_key=" HEX("11") "\n"
		"listen_port=51820\n"
		"public_key=" HEX("22") "\n"
		"preshared_key=" HEX("00") "\n"
		"protocol_version=1\n"
		"endpoint=[fd77::2]:51821\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=5\n"
		"tx_bytes=404\n"
		"rx_bytes=348\n"
		"persistent_keepalive_interval=0\n"
		"allowed_ip=10.244.2.0/24\n"
		"allowed_ip=fd44:0:0:2::/64\n"
		"public_key=" HEX("44") "\n"
		"allowed_ip=10.244.4.0/24\n"
		"errno=0\n\n";
	struct wg_device d = { 0 };
	char text[OVL_PREFIX_STRLEN];

	CU_ASSERT_EQUAL_FATAL(wg_uapi_parse_get(answer, &d), 0);
	CU_ASSERT_EQUAL(d.listen_port, 51820);
	CU_ASSERT_EQUAL_FATAL(d.peer_count, 2);
	CU_ASSERT_EQUAL(d.peers[0].public_key[0], 0x22);
	CU_ASSERT_EQUAL(d.peers[0].endpoint.family, AF_INET6);
	CU_ASSERT_EQUAL(d.peers[0].endpoint_port, 51821);
	CU_ASSERT_EQUAL(d.peers[0].last_handshake, 1700000000);
	CU_ASSERT_EQUAL(d.peers[0].rx_bytes, 348);
	CU_ASSERT_EQUAL(d.peers[0].tx_bytes, 404);
	CU_ASSERT_EQUAL_FATAL(d.peers[0].allowed_count, 2);
	ovl_prefix_format(&d.peers[0].allowed_ips[1], text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "fd44:0:0:2::/64");
	CU_ASSERT_EQUAL(d.peers[1].allowed_count, 1);
	CU_ASSERT_EQUAL(d.peers[1].endpoint.family, 0);
	wg_device_clear(&d);

	CU_ASSERT_EQUAL(wg_uapi_parse_get("errno=22\n\n", &d), -EINVAL);
	wg_device_clear(&d);
	/* wireguard-go's sign: errno=-98 is EADDRINUSE too. */
	CU_ASSERT_EQUAL(wg_uapi_parse_get("errno=-98\n\n", &d), -EADDRINUSE);
	wg_device_clear(&d);
	CU_ASSERT_EQUAL(wg_uapi_parse_get("errno=--1\n\n", &d), -EPROTO);
	wg_device_clear(&d);
	CU_ASSERT_EQUAL(wg_uapi_parse_get("listen_port=1\n\n", &d), -EPROTO);
	wg_device_clear(&d);
	CU_ASSERT_EQUAL(wg_uapi_parse_get("public_key=zz\nerrno=0\n\n", &d), -EPROTO);
	wg_device_clear(&d);
	CU_ASSERT_EQUAL(wg_uapi_parse_get("no equals sign\n\n", &d), -EPROTO);
	wg_device_clear(&d);
}

/* ---- the kernel's generic netlink messages ------------------------------- */

#define FAMILY_ID 0x1234
#define U16(v) (v) & 0xff, (v) >> 8
#define KEY(b) b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, \
	b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b
/* An attribute header: length and type, host order (x86: little endian). */
#define ATTR(len, type) U16(len), U16(type)

static void test_genl_set_bytes(void)
{
	/* WG_CMD_SET_DEVICE as linux/wireguard.h lays it out (and as
	 * wireguard-tools' embeddable-wg-library sends it). */
	static const unsigned char want[] = {
		/* nlmsghdr: length 268, the family, NLM_F_REQUEST | NLM_F_ACK */
		U16(268), 0, 0, U16(FAMILY_ID), U16(NLM_F_REQUEST | NLM_F_ACK), 0, 0, 0, 0, 0, 0, 0, 0,
		/* genlmsghdr */
		WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0, 0,
		ATTR(8, WGDEVICE_A_IFNAME), 'w', 'g', '0', 0,
		ATTR(36, WGDEVICE_A_PRIVATE_KEY), KEY(0x11),
		ATTR(6, WGDEVICE_A_LISTEN_PORT), U16(51820), 0, 0,
		ATTR(196, NLA_F_NESTED | WGDEVICE_A_PEERS),
		/* the peer to set */
		ATTR(144, NLA_F_NESTED | 0),
		ATTR(36, WGPEER_A_PUBLIC_KEY), KEY(0x22),
		ATTR(36, WGPEER_A_PRESHARED_KEY), KEY(0x33),
		/* struct sockaddr_in: AF_INET, port 51820 and 192.168.77.2 in
		 * network order, 8 zeros */
		ATTR(20, WGPEER_A_ENDPOINT), U16(AF_INET), 0xca, 0x6c, 192, 168, 77, 2,
		0, 0, 0, 0, 0, 0, 0, 0,
		ATTR(6, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL), U16(25), 0, 0,
		ATTR(8, WGPEER_A_FLAGS), WGPEER_F_REPLACE_ALLOWEDIPS, 0, 0, 0,
		ATTR(32, NLA_F_NESTED | WGPEER_A_ALLOWEDIPS),
		ATTR(28, NLA_F_NESTED | 0),
		ATTR(6, WGALLOWEDIP_A_FAMILY), U16(AF_INET), 0, 0,
		ATTR(8, WGALLOWEDIP_A_IPADDR), 10, 244, 2, 0,
		ATTR(5, WGALLOWEDIP_A_CIDR_MASK), 24, 0, 0, 0,
		/* the peer to remove */
		ATTR(48, NLA_F_NESTED | 0),
		ATTR(36, WGPEER_A_PUBLIC_KEY), KEY(0x44),
		ATTR(8, WGPEER_A_FLAGS), WGPEER_F_REMOVE_ME, 0, 0, 0,
	};
	struct nl_msg **msgs;
	struct wg_device d;
	struct nlmsghdr *nlh;
	size_t count;

	CU_ASSERT_EQUAL_FATAL(sizeof(want), 268);
	sample_device(&d);
	CU_ASSERT_EQUAL_FATAL(wg_genl_encode_set(FAMILY_ID, "wg0", &d, &msgs, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	nlh = nlmsg_hdr(msgs[0]);
	CU_ASSERT_EQUAL(nlh->nlmsg_len, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(nlh, want, sizeof(want)), 0);
	wg_genl_free_messages(msgs, count);
	wg_device_clear(&d);
}

static void test_genl_get_bytes(void)
{
	static const unsigned char want[] = {
		U16(28), 0, 0, U16(FAMILY_ID),
		U16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP), 0, 0, 0, 0, 0, 0, 0, 0,
		WG_CMD_GET_DEVICE, WG_GENL_VERSION, 0, 0,
		ATTR(8, WGDEVICE_A_IFNAME), 'w', 'g', '0', 0,
	};
	struct nl_msg *msg = wg_genl_encode_get(FAMILY_ID, "wg0");

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(nlmsg_hdr(msg)->nlmsg_len, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(nlmsg_hdr(msg), want, sizeof(want)), 0);
	nlmsg_free(msg);
}

/* A peer to handshake at once goes to the kernel as two nests of its key:
 * keepalive 1 (the kernel sends a keepalive when the interval turns on),
 * then the one wanted, 0, alone. */
static void test_genl_handshake(void)
{
	struct wg_device d = { 0 }, wire;
	struct wg_peer *p = wg_device_add_peer(&d);
	struct nl_msg **msgs;
	struct nlmsghdr *nlh;
	struct nlattr *a, *peer, *attr;
	int rem, rem2, rem3, keepalive[4], attrs[4], n = 0;
	size_t count;

	fill(p->public_key, 0x22);
	p->keepalive = 0;
	p->handshake = 1;
	CU_ASSERT_EQUAL_FATAL(wg_device_for_wire(&d, &wire), 0);
	CU_ASSERT_EQUAL_FATAL(wg_genl_encode_set(FAMILY_ID, "wg0", &wire, &msgs, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	nlh = nlmsg_hdr(msgs[0]);
	nla_for_each_attr(a, (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN),
			  (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem) {
		if (nla_type(a) != WGDEVICE_A_PEERS)
			continue;
		nla_for_each_nested(peer, a, rem2) {
			if (n == 4)
				break;
			keepalive[n] = -1;
			attrs[n] = 0;
			nla_for_each_nested(attr, peer, rem3) {
				attrs[n]++;
				if (nla_type(attr) == WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL)
					keepalive[n] = nla_get_u16(attr);
			}
			n++;
		}
	}
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(keepalive[0], 1);
	CU_ASSERT_EQUAL(keepalive[1], 0);
	CU_ASSERT_EQUAL(attrs[1], 2);		/* the key and the keepalive */
	wg_genl_free_messages(msgs, count);
	wg_device_clear(&wire);
	wg_device_clear(&d);
}

/* 40 peers do not fit one message: they are spread, in order, and only
 * the first message carries the key, port and REPLACE_PEERS. */
static void test_genl_split(void)
{
	struct wg_device d = { 0 }, back = { 0 };
	struct nl_msg **msgs;
	struct ovl_prefix allowed;
	size_t count, i;
	int seen_key = 0;

	d.has_private_key = 1;
	fill(d.private_key, 0x11);
	d.replace_peers = 1;
	for (i = 0; i < 40; i++) {
		struct wg_peer *p = wg_device_add_peer(&d);

		fill(p->public_key, (unsigned char)(i + 1));
		ovl_addr_parse("192.168.77.2", &p->endpoint);
		p->endpoint_port = 51820;
		ovl_prefix_parse("10.244.0.0/24", &allowed);
		allowed.addr[2] = (unsigned char)i;
		wg_peer_allow(p, &allowed);
	}
	CU_ASSERT_EQUAL_FATAL(wg_genl_encode_set(FAMILY_ID, "wg0", &d, &msgs, &count), 0);
	CU_ASSERT_TRUE(count > 1);
	for (i = 0; i < count; i++) {
		struct nlmsghdr *nlh = nlmsg_hdr(msgs[i]);
		struct nlattr *a;
		int rem;

		nla_for_each_attr(a, (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN),
				  (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), rem)
			if (nla_type(a) == WGDEVICE_A_PRIVATE_KEY || nla_type(a) == WGDEVICE_A_FLAGS)
				seen_key += i == 0 ? 1 : 100;
		/* A set message parses as a get reply: the same attributes. */
		CU_ASSERT_EQUAL(wg_genl_parse_get(nlh, &back), 0);
	}
	CU_ASSERT_EQUAL(seen_key, 2);
	CU_ASSERT_EQUAL_FATAL(back.peer_count, 40);
	for (i = 0; i < 40; i++) {
		CU_ASSERT_EQUAL(back.peers[i].public_key[0], i + 1);
		CU_ASSERT_EQUAL(back.peers[i].endpoint_port, 51820);
		CU_ASSERT_EQUAL_FATAL(back.peers[i].allowed_count, 1);
		CU_ASSERT_EQUAL(back.peers[i].allowed_ips[0].addr[2], i);
	}
	wg_genl_free_messages(msgs, count);
	wg_device_clear(&d);
	wg_device_clear(&back);
}

/* A dump reply as the kernel sends it, with a peer continued in the next. */
static void test_genl_parse_reply(void)
{
	static const unsigned char first[] = {
		U16(136), 0, 0, U16(FAMILY_ID), U16(NLM_F_MULTI), 0, 0, 0, 0, 0, 0, 0, 0,
		WG_CMD_GET_DEVICE, WG_GENL_VERSION, 0, 0,
		ATTR(6, WGDEVICE_A_LISTEN_PORT), U16(51821), 0, 0,
		ATTR(108, NLA_F_NESTED | WGDEVICE_A_PEERS),
		ATTR(104, NLA_F_NESTED | 0),
		ATTR(36, WGPEER_A_PUBLIC_KEY), KEY(0x22),
		/* struct __kernel_timespec: 1700000000 s, 0 ns */
		ATTR(20, WGPEER_A_LAST_HANDSHAKE_TIME), 0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		ATTR(12, WGPEER_A_RX_BYTES), 0x5c, 1, 0, 0, 0, 0, 0, 0,
		ATTR(32, NLA_F_NESTED | WGPEER_A_ALLOWEDIPS),
		ATTR(28, NLA_F_NESTED | 0),
		ATTR(6, WGALLOWEDIP_A_FAMILY), U16(AF_INET), 0, 0,
		ATTR(8, WGALLOWEDIP_A_IPADDR), 10, 244, 2, 0,
		ATTR(5, WGALLOWEDIP_A_CIDR_MASK), 24, 0, 0, 0,
	};
	static const unsigned char second[] = {
		U16(108), 0, 0, U16(FAMILY_ID), U16(NLM_F_MULTI), 0, 0, 0, 0, 0, 0, 0, 0,
		WG_CMD_GET_DEVICE, WG_GENL_VERSION, 0, 0,
		ATTR(88, NLA_F_NESTED | WGDEVICE_A_PEERS),
		ATTR(84, NLA_F_NESTED | 0),
		ATTR(36, WGPEER_A_PUBLIC_KEY), KEY(0x22),
		ATTR(44, NLA_F_NESTED | WGPEER_A_ALLOWEDIPS),
		ATTR(40, NLA_F_NESTED | 0),
		ATTR(6, WGALLOWEDIP_A_FAMILY), U16(AF_INET6), 0, 0,
		ATTR(20, WGALLOWEDIP_A_IPADDR), 0xfd, 0x44, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 0,
		ATTR(5, WGALLOWEDIP_A_CIDR_MASK), 64, 0, 0, 0,
	};
	struct wg_device d = { 0 };
	char text[OVL_PREFIX_STRLEN];

	CU_ASSERT_EQUAL_FATAL(sizeof(first), 136);
	CU_ASSERT_EQUAL_FATAL(sizeof(second), 108);
	CU_ASSERT_EQUAL_FATAL(wg_genl_parse_get((const struct nlmsghdr *)first, &d), 0);
	CU_ASSERT_EQUAL_FATAL(wg_genl_parse_get((const struct nlmsghdr *)second, &d), 0);
	CU_ASSERT_EQUAL(d.listen_port, 51821);
	CU_ASSERT_EQUAL_FATAL(d.peer_count, 1);
	CU_ASSERT_EQUAL(d.peers[0].last_handshake, 1700000000);
	CU_ASSERT_EQUAL(d.peers[0].rx_bytes, 348);
	CU_ASSERT_EQUAL(d.peers[0].has_preshared_key, 0);
	CU_ASSERT_EQUAL_FATAL(d.peers[0].allowed_count, 2);
	ovl_prefix_format(&d.peers[0].allowed_ips[1], text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "fd44:0:0:2::/64");
	wg_device_clear(&d);
}

/* ---- net-conf.json ---------------------------------------------------------- */

static void test_config(void)
{
	struct ovl_config *config;

	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\","
					       "\"Backend\":{\"Type\":\"wireguard\"}}", &config), 0);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "wireguard");
	CU_ASSERT_EQUAL(ovl_config_port(config), 51820);
	CU_ASSERT_EQUAL(ovl_config_wireguard_listen_port(config, AF_INET), 51820);
	CU_ASSERT_EQUAL(ovl_config_wireguard_listen_port(config, AF_INET6), 51821);
	CU_ASSERT_STRING_EQUAL(ovl_config_wireguard_mode(config), "separate");
	CU_ASSERT_PTR_NULL(ovl_config_wireguard_psk(config));
	CU_ASSERT_EQUAL(ovl_config_wireguard_keepalive(config), 0);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 0);
	ovl_config_free(config);

	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\",\"Backend\":"
					       "{\"Type\":\"wireguard\",\"ListenPort\":5000,"
					       "\"listenportv6\":5001,\"PSK\":\"MId7H+EaWuL0D+bVyjk255/Af1kI4TAZHpjD50r0lU8=\","
					       "\"PersistentKeepaliveInterval\":25,\"MTU\":1500,"
					       "\"Mode\":\"auto\"}}", &config), 0);
	CU_ASSERT_EQUAL(ovl_config_wireguard_listen_port(config, AF_INET), 5000);
	CU_ASSERT_EQUAL(ovl_config_wireguard_listen_port(config, AF_INET6), 5001);
	CU_ASSERT_STRING_EQUAL(ovl_config_wireguard_psk(config),
			       "MId7H+EaWuL0D+bVyjk255/Af1kI4TAZHpjD50r0lU8=");
	CU_ASSERT_EQUAL(ovl_config_wireguard_keepalive(config), 25);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 1500);
	CU_ASSERT_STRING_EQUAL(ovl_config_wireguard_mode(config), "auto");
	ovl_config_free(config);

	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\",\"Backend\":"
					 "{\"Type\":\"wireguard\",\"Mode\":\"both\"}}", &config), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx),
			       "Backend.Mode: 'both' is none of separate, auto, ipv4, ipv6");
	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\",\"Backend\":"
					 "{\"Type\":\"wireguard\",\"PSK\":\"short\"}}", &config), -EINVAL);
	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\",\"Backend\":"
					 "{\"Type\":\"wireguard\",\"ListenPort\":70000}}", &config),
			-EINVAL);
	/* Another backend has no wireguard keys. */
	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\"}", &config), 0);
	CU_ASSERT_PTR_NULL(ovl_config_wireguard_mode(config));
	CU_ASSERT_EQUAL(ovl_config_wireguard_listen_port(config, AF_INET), 0);
	ovl_config_free(config);
}

static void setup(void)
{
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
}

static void teardown(void)
{
	ovl_ctx_free(ctx);
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "setup", setup },
		{ "keys: RFC 7748 X25519 vector", test_x25519_vector },
		{ "keys: genkey clamps, differs", test_genkey },
		{ "keys: file made 0400, kept, garbage refused", test_key_file },
		{ "UAPI: set request to the byte", test_uapi_set },
		{ "UAPI: get answer parsed; errno; malformed", test_uapi_get },
		{ "genl: WG_CMD_SET_DEVICE byte for byte", test_genl_set_bytes },
		{ "genl: WG_CMD_GET_DEVICE byte for byte", test_genl_get_bytes },
		{ "genl: 40 peers split over messages, parsed back", test_genl_split },
		{ "genl: a handshake at once is two nests of one key", test_genl_handshake },
		{ "genl: dump reply with a continued peer", test_genl_parse_reply },
		{ "config: Backend wireguard keys", test_config },
		{ "teardown", teardown },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("wireguard", tests);
}
