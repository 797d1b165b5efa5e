/*
 * udp-packet.c - the edits the UDP backend makes to inner IPv4 packets:
 * header checks, TTL decrement with an incremental checksum (RFC 1624),
 * ICMP errors (RFC 792, sized as RFC 1812 allows), completing a partial
 * checksum, cutting a TSO super-packet into MTU-sized TCP segments and
 * merging in-order segments of one flow back into one (userspace GRO).
 * Pure functions on buffers: no state, no system calls.
 */
#include <arpa/inet.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "link/udp/udp.h"

#define IP_HDR_MIN 20
#define TCP_HDR_MIN 20
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80
/* RFC 1812 4.3.2.3: an ICMP error holds as much of the packet as fits in
 * 576 bytes. */
#define ICMP_ERROR_MAX 576

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s, t, w[2];
	uint32_t v;

	/* 32-bit words in the machine's byte order: the one's complement sum
	 * does not care (RFC 1071 2.(B)), one swap at the end makes it network
	 * order.  Four independent 64-bit sums of 16-byte blocks cannot
	 * overflow below 16 GiB and run twice as fast as one chain: this is
	 * the sender's only pass over the payload. */
	for (; len >= 16; p += 16, len -= 16) {
		memcpy(w, p, 16);
		s0 += (uint32_t)w[0];
		s1 += w[0] >> 32;
		s2 += (uint32_t)w[1];
		s3 += w[1] >> 32;
	}
	s = s0 + s1 + s2 + s3;
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&v, p, 4);
		s += v;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	t = (uint64_t)sum + ntohs((uint16_t)s);
	for (; len >= 2; p += 2, len -= 2)
		t += get16(p);
	if (len)
		t += (uint32_t)p[0] << 8;
	while (t >> 32)
		t = (t & 0xffffffffu) + (t >> 32);
	return (uint32_t)t;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The sum of TCP's pseudo header for a segment of tcp_len bytes. */
static uint32_t pseudo_sum(const uint8_t *ip, size_t tcp_len)
{
	return csum_add(PROTO_TCP + (uint32_t)tcp_len, ip + 12, 8);
}

static size_t ip_hdr_len(const uint8_t *pkt)
{
	return (size_t)(pkt[0] & 0x0f) * 4;
}

enum packet_verdict packet_forward(uint8_t *pkt, size_t len)
{
	uint32_t sum;

	if (len < IP_HDR_MIN || pkt[0] >> 4 != 4 || ip_hdr_len(pkt) < IP_HDR_MIN ||
	    ip_hdr_len(pkt) > len || get16(pkt + 2) < ip_hdr_len(pkt) || get16(pkt + 2) > len)
		return PACKET_MALFORMED;
	if (pkt[8] <= 1)
		return PACKET_TTL_EXPIRED;
	pkt[8]--;
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the word holding TTL. */
	sum = (uint16_t)~get16(pkt + 10);
	sum += (uint16_t)~(uint16_t)((pkt[8] + 1) << 8 | pkt[9]);
	sum += (uint16_t)(pkt[8] << 8 | pkt[9]);
	put16(pkt + 10, csum_fold(sum));
	return PACKET_OK;
}

uint32_t packet_dst(const uint8_t *pkt)
{
	return get32(pkt + 16);
}

uint32_t packet_src(const uint8_t *pkt)
{
	return get32(pkt + 12);
}

static int is_unicast(uint32_t addr)
{
	return addr && addr >> 24 != 127 && addr >> 28 != 0xe && addr != 0xffffffffu;
}

size_t packet_icmp_error(const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
			 uint32_t src, uint8_t *out, size_t room)
{
	size_t hl = ip_hdr_len(pkt), quoted = len, total;
	uint8_t *icmp = out + IP_HDR_MIN;

	if (room < ICMP_ERROR_MAX || len < IP_HDR_MIN || hl < IP_HDR_MIN || hl > len)
		return 0;
	/* RFC 1812 4.3.2.7: never about an ICMP error, a later fragment, or
	 * a packet we could not answer to. */
	if (get16(pkt + 6) & IP_OFFSET || !is_unicast(packet_src(pkt)) ||
	    !is_unicast(packet_dst(pkt)))
		return 0;
	if (pkt[9] == PROTO_ICMP &&
	    (len < hl + 1 || (pkt[hl] != 0 && pkt[hl] != 8 && pkt[hl] != 13 && pkt[hl] != 14 &&
			      pkt[hl] != 17 && pkt[hl] != 18)))
		return 0;
	if (get16(pkt + 2) < quoted)
		quoted = get16(pkt + 2);
	if (quoted > ICMP_ERROR_MAX - IP_HDR_MIN - 8)
		quoted = ICMP_ERROR_MAX - IP_HDR_MIN - 8;
	total = IP_HDR_MIN + 8 + quoted;
	memset(out, 0, IP_HDR_MIN + 8);
	out[0] = 0x45;
	out[1] = 0xc0;			/* internetwork control */
	put16(out + 2, (uint16_t)total);
	out[8] = 64;
	out[9] = PROTO_ICMP;
	put32(out + 12, src);
	memcpy(out + 16, pkt + 12, 4);
	put16(out + 10, csum_fold(csum_add(0, out, IP_HDR_MIN)));
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, pkt, quoted);
	put16(icmp + 2, csum_fold(csum_add(0, icmp, 8 + quoted)));
	return total;
}

int packet_finish_csum(uint8_t *pkt, size_t len, const struct vnet_hdr *vh)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;

	if (at + 2 > len || start >= len)
		return -1;
	/* The field holds the pseudo header's sum; the kernel skipped the
	 * rest (CHECKSUM_PARTIAL). */
	put16(pkt + at, csum_fold(csum_add(0, pkt + start, len - start)));
	return 0;
}

/* The IP and TCP header length of a TCP/IPv4 packet without fragments,
 * or 0. */
static size_t tcp_headers(const uint8_t *pkt, size_t len)
{
	size_t hl, thl;

	if (len < IP_HDR_MIN + TCP_HDR_MIN || pkt[0] >> 4 != 4 || pkt[9] != PROTO_TCP)
		return 0;
	hl = ip_hdr_len(pkt);
	if (hl < IP_HDR_MIN || get16(pkt + 6) & (IP_MF | IP_OFFSET) || hl + TCP_HDR_MIN > len)
		return 0;
	thl = (size_t)(pkt[hl + 12] >> 4) * 4;
	if (thl < TCP_HDR_MIN || hl + thl > len || get16(pkt + 2) != len)
		return 0;
	return hl + thl;
}

size_t packet_segment(const uint8_t *pkt, size_t len, unsigned int mss, uint8_t *hdrs,
		      size_t max, size_t *count)
{
	size_t hdr_len = tcp_headers(pkt, len), hl, payload, n, i, seg;
	uint32_t seq, sum;
	uint16_t id;
	uint8_t *h;

	if (!hdr_len || !mss)
		return 0;
	hl = ip_hdr_len(pkt);
	payload = len - hdr_len;
	n = payload ? (payload + mss - 1) / mss : 1;
	if (n > max)
		return 0;
	seq = get32(pkt + hl + 4);
	id = get16(pkt + 4);
	for (i = 0; i < n; i++) {
		seg = payload - i * mss < mss ? payload - i * mss : mss;
		h = hdrs + i * hdr_len;
		memcpy(h, pkt, hdr_len);
		put16(h + 2, (uint16_t)(hdr_len + seg));
		put16(h + 4, (uint16_t)(id + i));
		put16(h + 10, 0);
		put16(h + 10, csum_fold(csum_add(0, h, hl)));
		put32(h + hl + 4, seq + (uint32_t)(i * mss));
		if (i + 1 < n)
			h[hl + 13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			h[hl + 13] &= (uint8_t)~TCP_CWR;
		put16(h + hl + 16, 0);
		sum = pseudo_sum(h, hdr_len - hl + seg);
		sum = csum_add(sum, h + hl, hdr_len - hl);
		/* The TCP header's length is a multiple of 4, so the payload
		 * starts on an even offset and sums on its own. */
		sum = csum_add(sum, pkt + hdr_len + i * mss, seg);
		put16(h + hl + 16, csum_fold(sum));
	}
	*count = n;
	return hdr_len;
}

/* Flags that end or forbid a merge: anything but ACK and PSH. */
#define TCP_MERGE_BAD (TCP_FIN | TCP_SYN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)

int tcp_merge_start(struct tcp_merge *m, const uint8_t *pkt, size_t len)
{
	size_t hdr_len = tcp_headers(pkt, len), hl;

	if (!hdr_len || hdr_len == len || (pkt[ip_hdr_len(pkt) + 13] & TCP_MERGE_BAD) ||
	    !(pkt[ip_hdr_len(pkt) + 13] & TCP_ACK))
		return 0;
	hl = ip_hdr_len(pkt);
	m->first = pkt;
	m->hdr_len = hdr_len;
	m->mss = len - hdr_len;
	m->total = len;
	m->next_seq = get32(pkt + hl + 4) + (uint32_t)m->mss;
	m->segments = 1;
	m->flags = pkt[hl + 13];
	m->closed = (m->flags & TCP_PSH) != 0;
	return 1;
}

int tcp_merge_add(struct tcp_merge *m, const uint8_t *pkt, size_t len, size_t max_total)
{
	const uint8_t *f = m->first;
	size_t hl = ip_hdr_len(f), payload = len - m->hdr_len;

	if (m->closed || len <= m->hdr_len || m->total + payload > max_total ||
	    tcp_headers(pkt, len) != m->hdr_len || payload > m->mss)
		return 0;
	/* Same addresses, TOS, DF, TTL and protocol; same ports; the next
	 * sequence number; the same ack, window and options. */
	if (memcmp(pkt + 12, f + 12, 8) || pkt[1] != f[1] || pkt[6] != f[6] || pkt[8] != f[8] ||
	    memcmp(pkt + hl, f + hl, 4) || get32(pkt + hl + 4) != m->next_seq ||
	    memcmp(pkt + hl + 8, f + hl + 8, 4) || memcmp(pkt + hl + 14, f + hl + 14, 2) ||
	    memcmp(pkt + hl + 20, f + hl + 20, m->hdr_len - hl - 20) ||
	    (pkt[hl + 13] & TCP_MERGE_BAD) || !(pkt[hl + 13] & TCP_ACK) ||
	    hl != ip_hdr_len(pkt))
		return 0;
	m->total += payload;
	m->next_seq += (uint32_t)payload;
	m->segments++;
	m->flags = pkt[hl + 13];
	m->closed = payload < m->mss || (m->flags & TCP_PSH);
	return 1;
}

void tcp_merge_finish(const struct tcp_merge *m, uint8_t *hdr, struct vnet_hdr *vh)
{
	size_t hl = ip_hdr_len(m->first);

	memcpy(hdr, m->first, m->hdr_len);
	put16(hdr + 2, (uint16_t)m->total);
	put16(hdr + 10, 0);
	put16(hdr + 10, csum_fold(csum_add(0, hdr, hl)));
	hdr[hl + 13] = m->flags;
	/* CHECKSUM_PARTIAL: the field holds the pseudo header's sum, the
	 * kernel does the rest if it ever needs it.  The payload's integrity
	 * was checked by the outer UDP checksum. */
	put16(hdr + hl + 16, (uint16_t)~csum_fold(pseudo_sum(hdr, m->total - hl)));
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh->hdr_len = (uint16_t)m->hdr_len;
	vh->gso_size = (uint16_t)m->mss;
	vh->csum_start = (uint16_t)hl;
	vh->csum_offset = 16;
}
