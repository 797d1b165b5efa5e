/*
 * test-udp.c - the UDP backend's pure parts: the peer table (10,000
 * peers, longest match, deletes that keep the other entries reachable,
 * underlay address counts), TTL decrement with a valid checksum, ICMP
 * errors and when none may be sent, cutting a TCP super-packet into valid
 * segments and merging them back, the checksum against a byte-wise one,
 * and ovl_udp_up's option checks (no root needed: they fail first).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "harness.h"
#include "ovl.h"
#include "link/udp/udp.h"

#define PEERS 10000

static uint32_t subnet_of(unsigned int i)
{
	return 0x0a000000u | i << 8;	/* 10.x.y.0/24 */
}

static void test_table_many(void)
{
	struct udp_table t;
	const struct udp_route *r;
	unsigned int i;

	udp_table_init(&t);
	for (i = 1; i <= PEERS; i++)
		CU_ASSERT_EQUAL_FATAL(udp_table_set(&t, subnet_of(i), 24, 0xc0a80000u + i), 0);
	CU_ASSERT_EQUAL(t.count, PEERS);
	for (i = 1; i <= PEERS; i++) {
		r = udp_table_lookup(&t, subnet_of(i) | 77);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(r->peer, 0xc0a80000u + i);
		CU_ASSERT_TRUE(udp_table_has_peer(&t, 0xc0a80000u + i));
	}
	CU_ASSERT_PTR_NULL(udp_table_lookup(&t, subnet_of(PEERS + 1) | 1));
	CU_ASSERT_FALSE(udp_table_has_peer(&t, 0xc0a80000u + PEERS + 1));
	/* Every other one out: the rest must stay reachable. */
	for (i = 1; i <= PEERS; i += 2)
		CU_ASSERT_EQUAL(udp_table_del(&t, subnet_of(i), 24), 1);
	CU_ASSERT_EQUAL(udp_table_del(&t, subnet_of(1), 24), 0);
	CU_ASSERT_EQUAL(t.count, PEERS / 2);
	for (i = 1; i <= PEERS; i++) {
		r = udp_table_lookup(&t, subnet_of(i) | 5);
		if (i % 2) {
			CU_ASSERT_PTR_NULL(r);
			CU_ASSERT_FALSE(udp_table_has_peer(&t, 0xc0a80000u + i));
		} else {
			CU_ASSERT_TRUE(r && r->peer == 0xc0a80000u + i);
		}
	}
	udp_table_free(&t);
}

static void test_table_longest_and_refs(void)
{
	struct udp_table t;
	const struct udp_route *r;

	udp_table_init(&t);
	CU_ASSERT_EQUAL(udp_table_set(&t, 0x0af40000u, 16, 1), 0);
	CU_ASSERT_EQUAL(udp_table_set(&t, 0x0af40300u, 24, 2), 0);
	CU_ASSERT_EQUAL(udp_table_set(&t, 0x0af40400u, 24, 2), 0);
	r = udp_table_lookup(&t, 0x0af40309u);
	CU_ASSERT_TRUE(r && r->peer == 2 && r->len == 24);
	r = udp_table_lookup(&t, 0x0af40509u);
	CU_ASSERT_TRUE(r && r->peer == 1 && r->len == 16);
	/* Replacing keeps one route and moves the reference. */
	CU_ASSERT_EQUAL(udp_table_set(&t, 0x0af40000u, 16, 3), 0);
	CU_ASSERT_EQUAL(t.count, 3);
	CU_ASSERT_FALSE(udp_table_has_peer(&t, 1));
	CU_ASSERT_TRUE(udp_table_has_peer(&t, 3));
	/* Peer 2 owns two subnets: it stays a peer until both are gone. */
	CU_ASSERT_EQUAL(udp_table_del(&t, 0x0af40300u, 24), 1);
	CU_ASSERT_TRUE(udp_table_has_peer(&t, 2));
	CU_ASSERT_EQUAL(udp_table_del(&t, 0x0af40400u, 24), 1);
	CU_ASSERT_FALSE(udp_table_has_peer(&t, 2));
	r = udp_table_lookup(&t, 0x0af40309u);
	CU_ASSERT_TRUE(r && r->peer == 3);
	udp_table_free(&t);
	CU_ASSERT_PTR_NULL(udp_table_lookup(&t, 0x0af40309u));
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void test_checksum(void)
{
	uint8_t data[3001];
	size_t len, i;

	srand(7);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rand();
	for (len = 0; len <= sizeof(data); len += 37)
		CU_ASSERT_EQUAL(csum_fold(csum_add(0, data, len)), ref_csum(data, len));
	memset(data, 0xff, sizeof(data));
	CU_ASSERT_EQUAL(csum_fold(csum_add(0, data, 3000)), ref_csum(data, 3000));
}

/* An IPv4 header (no options) from src to dst with a valid checksum. */
static void ip_header(uint8_t *p, size_t total, uint8_t proto, uint8_t ttl, uint32_t src,
		      uint32_t dst)
{
	uint32_t s = htonl(src), d = htonl(dst);

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[4] = 0x12;
	p[6] = 0x40;			/* DF */
	p[8] = ttl;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	s = htons(csum_fold(csum_add(0, p, 20)));
	memcpy(p + 10, &s, 2);
}

static void test_ttl(void)
{
	uint8_t pkt[84];
	unsigned int ttl;

	for (ttl = 2; ttl <= 255; ttl += 51) {
		ip_header(pkt, sizeof(pkt), 1, (uint8_t)ttl, 0x0af40102u, 0x0af40202u);
		CU_ASSERT_EQUAL(packet_forward(pkt, sizeof(pkt)), PACKET_OK);
		CU_ASSERT_EQUAL(pkt[8], ttl - 1);
		CU_ASSERT_EQUAL(csum_fold(csum_add(0, pkt, 20)), 0);
	}
	ip_header(pkt, sizeof(pkt), 1, 1, 0x0af40102u, 0x0af40202u);
	CU_ASSERT_EQUAL(packet_forward(pkt, sizeof(pkt)), PACKET_TTL_EXPIRED);
	CU_ASSERT_EQUAL(packet_forward(pkt, 19), PACKET_MALFORMED);
	pkt[0] = 0x65;
	CU_ASSERT_EQUAL(packet_forward(pkt, sizeof(pkt)), PACKET_MALFORMED);
	ip_header(pkt, 200, 1, 64, 0x0af40102u, 0x0af40202u);
	CU_ASSERT_EQUAL(packet_forward(pkt, sizeof(pkt)), PACKET_MALFORMED);
}

static void test_icmp(void)
{
	uint8_t pkt[1400], out[600];
	size_t n;

	memset(pkt, 0xab, sizeof(pkt));
	ip_header(pkt, sizeof(pkt), 1, 1, 0x0af40102u, 0x0af40902u);
	pkt[20] = 8;			/* echo request */
	n = packet_icmp_error(pkt, sizeof(pkt), 3, 0, 0x0af40100u, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 576);
	CU_ASSERT_EQUAL(out[0], 0x45);
	CU_ASSERT_EQUAL(out[9], 1);
	CU_ASSERT_EQUAL(packet_src(out), 0x0af40100u);
	CU_ASSERT_EQUAL(packet_dst(out), 0x0af40102u);
	CU_ASSERT_EQUAL(csum_fold(csum_add(0, out, 20)), 0);
	CU_ASSERT_EQUAL(out[20], 3);
	CU_ASSERT_EQUAL(out[21], 0);
	CU_ASSERT_EQUAL(csum_fold(csum_add(0, out + 20, n - 20)), 0);
	CU_ASSERT_EQUAL(memcmp(out + 28, pkt, n - 28), 0);
	/* A short packet is quoted whole. */
	ip_header(pkt, 84, 1, 1, 0x0af40102u, 0x0af40902u);
	CU_ASSERT_EQUAL(packet_icmp_error(pkt, 84, 11, 0, 0x0af40100u, out, sizeof(out)),
			20 + 8 + 84);
	/* Never about an ICMP error, a later fragment or a broadcast. */
	pkt[20] = 3;
	CU_ASSERT_EQUAL(packet_icmp_error(pkt, 84, 11, 0, 0x0af40100u, out, sizeof(out)), 0);
	pkt[20] = 8;
	pkt[7] = 10;
	CU_ASSERT_EQUAL(packet_icmp_error(pkt, 84, 11, 0, 0x0af40100u, out, sizeof(out)), 0);
	ip_header(pkt, 84, 1, 1, 0x0af40102u, 0xffffffffu);
	CU_ASSERT_EQUAL(packet_icmp_error(pkt, 84, 11, 0, 0x0af40100u, out, sizeof(out)), 0);
}

/* A TCP/IPv4 packet with payload bytes and 12 bytes of options. */
static size_t tcp_packet(uint8_t *p, size_t payload, uint32_t seq, uint8_t flags)
{
	size_t i, total = 20 + 32 + payload;

	ip_header(p, total, 6, 64, 0x0af40102u, 0x0af40202u);
	memset(p + 20, 0, 32);
	p[20] = 0x13;
	p[21] = 0x88;
	p[22] = 0xc3;
	p[23] = 0x50;
	p[24] = (uint8_t)(seq >> 24);
	p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	p[32] = 8 << 4;
	p[33] = flags;
	p[34] = 0x01;
	p[40] = 1;
	p[41] = 1;
	p[42] = 8;
	p[43] = 10;
	for (i = 0; i < payload; i++)
		p[52 + i] = (uint8_t)(i * 7 + 3);
	return total;
}

/* 1 when the TCP checksum of a segment of len bytes is right. */
static int tcp_valid(const uint8_t *p, size_t len)
{
	uint32_t sum = csum_add(6 + (uint32_t)(len - 20), p + 12, 8);

	return csum_fold(csum_add(sum, p + 20, len - 20)) == 0 &&
	       csum_fold(csum_add(0, p, 20)) == 0;
}

static void test_segment_and_merge(void)
{
	static uint8_t pkt[20 + 32 + 3500], hdrs[8 * 120], segs[8][1100];
	const uint8_t *ptrs[8];
	struct tcp_merge m;
	struct vnet_hdr vh;
	uint8_t merged[120];
	size_t len = tcp_packet(pkt, 3500, 1000, 0x18), hdr_len, n = 0, i, seg_len;

	hdr_len = packet_segment(pkt, len, 1000, hdrs, 8, &n);
	CU_ASSERT_EQUAL_FATAL(hdr_len, 52);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (i = 0; i < n; i++) {
		seg_len = i < 3 ? 1000 : 500;
		memcpy(segs[i], hdrs + i * hdr_len, hdr_len);
		memcpy(segs[i] + hdr_len, pkt + hdr_len + i * 1000, seg_len);
		CU_ASSERT_EQUAL(segs[i][2] << 8 | segs[i][3], hdr_len + seg_len);
		CU_ASSERT_TRUE(tcp_valid(segs[i], hdr_len + seg_len));
		CU_ASSERT_EQUAL(segs[i][27], (uint8_t)(1000 + i * 1000));
		/* PSH only on the last segment. */
		CU_ASSERT_EQUAL(segs[i][33] & 0x08, i == 3 ? 0x08 : 0);
		ptrs[i] = segs[i];
	}
	CU_ASSERT_EQUAL(packet_segment(pkt, len, 1000, hdrs, 3, &n), 0);
	CU_ASSERT_EQUAL(packet_segment(pkt, len - 1, 1000, hdrs, 8, &n), 0);

	CU_ASSERT_EQUAL_FATAL(tcp_merge_start(&m, ptrs[0], 1052), 1);
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[2], 1052, 65535), 0);	/* out of order */
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[1], 1052, 65535), 1);
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[2], 1052, 2500), 0);	/* too big */
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[2], 1052, 65535), 1);
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[3], 552, 65535), 1);
	CU_ASSERT_EQUAL(tcp_merge_add(&m, ptrs[3], 552, 65535), 0);	/* closed by PSH */
	CU_ASSERT_EQUAL(m.segments, 4);
	CU_ASSERT_EQUAL(m.total, len);
	tcp_merge_finish(&m, merged, &vh);
	CU_ASSERT_EQUAL(merged[2] << 8 | merged[3], len);
	CU_ASSERT_EQUAL(csum_fold(csum_add(0, merged, 20)), 0);
	CU_ASSERT_EQUAL(merged[33], 0x18);
	CU_ASSERT_EQUAL(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CU_ASSERT_EQUAL(vh.gso_size, 1000);
	CU_ASSERT_EQUAL(vh.hdr_len, 52);
	CU_ASSERT_EQUAL(vh.csum_start, 20);
	CU_ASSERT_EQUAL(vh.csum_offset, 16);
	/* A SYN never merges. */
	tcp_packet(pkt, 100, 1, 0x02);
	CU_ASSERT_EQUAL(tcp_merge_start(&m, pkt, 152), 0);
}

static void test_up_refuses(void)
{
	struct ovl_udp_options o = OVL_UDP_OPTIONS_INIT;
	struct ovl_link *link = (struct ovl_link *)&o;
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	o.local = "192.168.1.1";
	o.subnet = "10.244.3.0/24";
	CU_ASSERT_EQUAL(ovl_udp_up(ctx, &o, &link), -EINVAL);
	CU_ASSERT_PTR_NULL(link);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "network"));
	o.network = "10.244.0.0/16";
	o.local = "fd00::1";
	CU_ASSERT_EQUAL(ovl_udp_up(ctx, &o, &link), -EAFNOSUPPORT);
	o.local = "192.168.1.1";
	o.flags = 0x80;
	CU_ASSERT_EQUAL(ovl_udp_up(ctx, &o, &link), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "flags"));
	o.flags = 0;
	o.subnet = "10.245.3.0/24";
	CU_ASSERT_EQUAL(ovl_udp_up(ctx, &o, &link), -EINVAL);
	CU_ASSERT_EQUAL(ovl_link_fd(NULL), -EINVAL);
	ovl_ctx_free(ctx);
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "table: 10,000 peers, deletes", test_table_many },
		{ "table: longest match, peer references", test_table_longest_and_refs },
		{ "checksum matches a byte-wise one", test_checksum },
		{ "TTL decrement keeps the checksum valid", test_ttl },
		{ "ICMP errors and when none is sent", test_icmp },
		{ "TSO segmentation and GRO merge", test_segment_and_merge },
		{ "ovl_udp_up option checks", test_up_refuses },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("udp", tests);
}
