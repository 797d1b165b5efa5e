/*
 * udp.h - what the UDP backend's files share: the link's state (udp.c sets
 * it up and tears it down), the peer table (udp-table.c), the packet edits
 * (udp-packet.c: checksums, TTL, ICMP errors, TCP segmentation and
 * coalescing) and the forwarding loop (udp-forward.c).
 */
#ifndef OVL_UDP_H
#define OVL_UDP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "link/link.h"

/* ---- udp-table.c: subnet -> underlay address ----------------------- */

/* IPv4 addresses and prefixes are kept in host byte order here. */
struct udp_route {
	uint32_t net;			/* masked */
	uint8_t len;			/* 0 marks a free slot: no peer is a /0 */
	uint32_t peer;			/* the peer's underlay address */
};

/* Open addressing on (net, len); a lookup tries each prefix length in
 * use, longest first: O(1) for flannel's one SubnetLen, at most 32
 * probes in general.  A second set holds the underlay addresses (with a
 * count of their subnets) for the check on arriving packets. */
struct udp_table {
	struct udp_route *slots;
	size_t mask;
	size_t count;
	uint32_t len_count[33];		/* routes per prefix length */
	struct udp_peer_ref *peers;
	size_t peer_mask;
	size_t peer_count;
};

struct udp_peer_ref {
	uint32_t addr;
	uint32_t refs;			/* 0: free slot */
};

void udp_table_init(struct udp_table *t);
void udp_table_free(struct udp_table *t);
/* Adds or replaces the route for net/len; 0 or -ENOMEM. */
int udp_table_set(struct udp_table *t, uint32_t net, unsigned int len, uint32_t peer);
/* 1 when a route was removed, 0 when there was none. */
int udp_table_del(struct udp_table *t, uint32_t net, unsigned int len);
/* The longest route holding addr, or NULL. */
const struct udp_route *udp_table_lookup(const struct udp_table *t, uint32_t addr);
/* 1 when addr is the underlay address of some peer. */
int udp_table_has_peer(const struct udp_table *t, uint32_t addr);

/* ---- udp-packet.c: IPv4 packet edits ------------------------------- */

/* Internet checksum helpers: a 32-bit running sum over bytes in network
 * order, folded and inverted at the end. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
uint16_t csum_fold(uint32_t sum);

/* What forwarding decides about one IPv4 packet. */
enum packet_verdict {
	PACKET_OK,
	PACKET_MALFORMED,		/* not a whole IPv4 packet */
	PACKET_TTL_EXPIRED		/* TTL was 1 (or 0): not forwarded */
};

/* Checks the IPv4 header of pkt (len bytes) and decrements its TTL with an
 * incremental checksum update (RFC 1624). */
enum packet_verdict packet_forward(uint8_t *pkt, size_t len);
/* The IPv4 destination (host order) of a packet packet_forward accepted. */
uint32_t packet_dst(const uint8_t *pkt);
uint32_t packet_src(const uint8_t *pkt);

/* Builds in out (room bytes, at least 576) the ICMP error type/code about
 * pkt, from src (host order); its length, or 0 when none may be sent
 * (about an ICMP error, a non-first fragment, from a non-unicast source). */
size_t packet_icmp_error(const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
			 uint32_t src, uint8_t *out, size_t room);

/* virtio_net_hdr in front of every packet on a TUN with IFF_VNET_HDR. */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Completes a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM);
 * -1 when the offsets do not fit the packet. */
int packet_finish_csum(uint8_t *pkt, size_t len, const struct vnet_hdr *vh);

/* A TCP/IPv4 super-packet cut into segments of at most mss payload bytes
 * each: headers are written to hdrs (room for max segments of hdr_len
 * bytes), payloads stay in pkt.  Segment i is hdrs + i * hdr_len followed
 * by pkt + hdr_len + i * mss; *count segments, the last possibly shorter.
 * Returns hdr_len, or 0 when pkt is not a TCP/IPv4 packet it can cut. */
size_t packet_segment(const uint8_t *pkt, size_t len, unsigned int mss, uint8_t *hdrs,
		      size_t max, size_t *count);

/* Coalescing TCP segments of one flow that arrive in order into one
 * super-packet for a TUN write with TSO (the kernel's GRO, in userspace). */
struct tcp_merge {
	const uint8_t *first;		/* headers of the first segment */
	size_t hdr_len;
	size_t mss;			/* payload of every segment but the last */
	size_t total;			/* hdr_len + all payload */
	uint32_t next_seq;
	size_t segments;
	int closed;			/* a short or PSH segment ended it */
	uint8_t flags;			/* TCP flags of the last segment */
};

/* Starts a merge with pkt; 0 when pkt cannot be merged (sent alone). */
int tcp_merge_start(struct tcp_merge *m, const uint8_t *pkt, size_t len);
/* 1 when pkt continues m's flow and was taken in. */
int tcp_merge_add(struct tcp_merge *m, const uint8_t *pkt, size_t len, size_t max_total);
/* The merged headers (hdr_len bytes into hdr) and the vnet header; only
 * for merges of two or more segments. */
void tcp_merge_finish(const struct tcp_merge *m, uint8_t *hdr, struct vnet_hdr *vh);

/* ---- udp.c / udp-forward.c: the link ------------------------------- */

enum udp_stat {
	STAT_PACKETS_OUT,
	STAT_BYTES_OUT,
	STAT_PACKETS_IN,
	STAT_BYTES_IN,
	STAT_DROP_UNKNOWN_SOURCE,
	STAT_DROP_NOT_OURS,
	STAT_DROP_MALFORMED,
	STAT_DROP_NO_ROUTE,
	STAT_DROP_TTL,
	STAT_DROP_IO,
	STAT_COUNT
};

struct udp_buffers;

struct udp_link {
	struct ovl_link link;		/* first: ovl_link_free() frees both */
	int tun_fd;
	int sock_fd;
	int epoll_fd;
	unsigned int flags;		/* OVL_UDP_* */
	int vnet;			/* TUN with IFF_VNET_HDR and TSO */
	int gso;			/* UDP_SEGMENT works */
	int gro;			/* UDP_GRO is on */
	uint32_t tun_addr;		/* our subnet base: ICMP errors come from it */
	uint32_t subnet, subnet_mask;
	uint16_t port;			/* network order, for sendto */
	pthread_rwlock_t lock;		/* the table: peers vs the forwarding thread */
	struct udp_table table;
	uint64_t stats[STAT_COUNT];	/* added to atomically, once per batch */
	struct udp_buffers *buffers;
};

static inline struct udp_link *udp_of(struct ovl_link *link)
{
	return (struct udp_link *)link;
}

/* udp-forward.c: the buffers of the link's mode; 0 or -ENOMEM. */
int udp_buffers_new(struct udp_link *u);
void udp_buffers_free(struct udp_link *u);
/* Moves what is ready without blocking, trying only the sides in ready
 * (UDP_READY_*; the simple mode tries both): packets moved, or -errno. */
#define UDP_READY_TUN 0x1u
#define UDP_READY_SOCK 0x2u
int udp_forward(struct udp_link *u, unsigned int ready);

/* udp-table.c: the link_ops peer calls of a UDP link. */
int udp_peer_add(struct ovl_link *link, const struct ovl_peer *peer);
int udp_peer_del(struct ovl_link *link, const struct ovl_peer *peer);
int udp_peer_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count);
int udp_peer_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count);

/* udp.c: what link.c calls for a UDP link. */
extern const struct link_ops udp_link_ops;

#endif
