/*
 * udp-forward.c - the UDP backend's packet loop: TUN -> UDP to the peer
 * that owns the destination, UDP -> TUN for packets to our subnet, with
 * flannel's wire format (the bare inner IP packet as the UDP payload).
 *
 * Batched mode, per cycle: up to BATCH reads from the TUN, then one
 * sendmmsg(); one recvmmsg() of up to BATCH, then the TUN writes; cycles
 * repeat on the sides the caller found ready until each is drained.  With
 * offloads the TUN hands over TCP super-packets of up to 64 KiB (TSO),
 * which are cut into MTU-sized segments here and sent with UDP_SEGMENT,
 * equal segments to one peer packed into messages of up to 64 KiB across
 * super-packets (a 64 KiB super-packet is 46 segments, 2 more than one
 * message holds: packing halves the datagrams); UDP_GRO gives back runs of
 * datagrams in one buffer, and in-order TCP segments of one flow are
 * merged into one TUN write.  The simple mode is flannel's: one packet per
 * system call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "core/internal.h"
#include "link/udp/udp.h"

#define BATCH 16
/* Segments of one TUN super-packet (64 KiB at an MSS down to 256). */
#define MAX_SEGS 256
/* IPv4 header (60) + TCP header (60) at most. */
#define HDR_MAX 120
#define PACKET_MAX 65535
#define VNET_LEN sizeof(struct vnet_hdr)
/* One UDP_SEGMENT send: the kernel takes at most 64 segments (128 on new
 * kernels) and what fits in one IPv4 datagram. */
#define GSO_SEGS 64
#define GSO_BYTES (65535 - 20 - 8)
#define OUT_MAX (BATCH * MAX_SEGS)
#define SEND_WINDOW 1024
/* Cycles per dispatch while packets flow, so the caller's loop is not
 * starved. */
#define CYCLES 8
#define ICMP_ROOM 576

#define ICMP_UNREACH 3
#define ICMP_NET_UNREACH 0
#define ICMP_TIME_EXCEEDED 11

union cmsg_room {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* A queued message's datagrams: all seg_size bytes long while it is open
 * to more, which UDP_SEGMENT requires of all but the last. */
struct out_gso {
	size_t seg_size;
	size_t segs;
	size_t bytes;
	int open;
};

struct udp_buffers {
	/* TUN -> UDP */
	uint8_t *tun_in[BATCH];
	uint8_t *hdrs[BATCH];			/* MAX_SEGS * HDR_MAX each */
	struct iovec *out_iov;			/* OUT_MAX * 2, in message order */
	size_t iov_count;
	struct mmsghdr out[OUT_MAX];
	struct sockaddr_in out_addr[OUT_MAX];
	union cmsg_room out_cmsg[OUT_MAX];
	struct out_gso out_gso[OUT_MAX];
	size_t out_count;
	/* UDP -> TUN */
	uint8_t *udp_in[BATCH];
	struct mmsghdr in[BATCH];
	struct iovec in_iov[BATCH];
	struct sockaddr_in in_addr[BATCH];
	union cmsg_room in_cmsg[BATCH];
	const uint8_t *pkts[BATCH * MAX_SEGS];	/* the datagrams to write */
	size_t lens[BATCH * MAX_SEGS];
	struct iovec tun_iov[2 + MAX_SEGS];
	uint8_t merged[VNET_LEN + HDR_MAX];
	uint8_t icmp[VNET_LEN + ICMP_ROOM];
	uint64_t stats[STAT_COUNT];
};

int udp_buffers_new(struct udp_link *u)
{
	struct udp_buffers *b = calloc(1, sizeof(*b));
	size_t i, in_size = u->gro ? PACKET_MAX : u->link.mtu;

	if (!b)
		return -ENOMEM;
	u->buffers = b;
	b->out_iov = malloc(2 * OUT_MAX * sizeof(struct iovec));
	if (!b->out_iov)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		b->tun_in[i] = malloc(VNET_LEN + PACKET_MAX);
		b->hdrs[i] = malloc(MAX_SEGS * HDR_MAX);
		b->udp_in[i] = malloc(in_size);
		if (!b->tun_in[i] || !b->hdrs[i] || !b->udp_in[i])
			return -ENOMEM;
		b->in_iov[i] = (struct iovec){ b->udp_in[i], in_size };
	}
	return 0;
}

void udp_buffers_free(struct udp_link *u)
{
	struct udp_buffers *b = u->buffers;
	size_t i;

	if (!b)
		return;
	for (i = 0; i < BATCH; i++) {
		free(b->tun_in[i]);
		free(b->hdrs[i]);
		free(b->udp_in[i]);
	}
	free(b->out_iov);
	free(b);
	u->buffers = NULL;
}

static void count(struct udp_buffers *b, enum udp_stat stat, uint64_t n)
{
	b->stats[stat] += n;
}

/* Writes one packet into the TUN, behind an empty vnet header when the
 * TUN has one. */
static void tun_write(struct udp_link *u, const uint8_t *pkt, size_t len)
{
	static const struct vnet_hdr none;
	struct iovec iov[2] = { { (void *)&none, VNET_LEN }, { (void *)pkt, len } };

	if (writev(u->tun_fd, u->vnet ? iov : iov + 1, u->vnet ? 2 : 1) < 0)
		count(u->buffers, STAT_DROP_IO, 1);
}

static void send_to(struct udp_link *u, uint32_t peer, const void *pkt, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = u->port,
				  .sin_addr.s_addr = htonl(peer) };

	if (sendto(u->sock_fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		count(u->buffers, STAT_DROP_IO, 1);
}

/* An ICMP error about pkt, routed as any packet: to the peer owning its
 * destination, else into the TUN for this host. */
static void icmp_error(struct udp_link *u, const uint8_t *pkt, size_t len, uint8_t type,
		       uint8_t code)
{
	uint8_t *out = u->buffers->icmp;
	size_t n = packet_icmp_error(pkt, len, type, code, u->tun_addr, out, ICMP_ROOM);
	const struct udp_route *r;

	if (!n)
		return;
	r = (packet_dst(out) & u->subnet_mask) == u->subnet ? NULL
							     : udp_table_lookup(&u->table, packet_dst(out));
	if (r)
		send_to(u, r->peer, out, n);
	else
		tun_write(u, out, n);
}

/* ---- TUN -> UDP --------------------------------------------------------- */

static struct mmsghdr *out_msg(struct udp_buffers *b, uint32_t peer, uint16_t port)
{
	struct mmsghdr *m = &b->out[b->out_count];

	memset(m, 0, sizeof(*m));
	b->out_addr[b->out_count] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = port,
							  .sin_addr.s_addr = htonl(peer) };
	m->msg_hdr.msg_name = &b->out_addr[b->out_count];
	m->msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
	m->msg_hdr.msg_iov = &b->out_iov[b->iov_count];
	b->out_gso[b->out_count] = (struct out_gso){ 0 };
	b->out_count++;
	return m;
}

static void set_segment_size(struct udp_buffers *b, struct mmsghdr *m, uint16_t size)
{
	union cmsg_room *room = &b->out_cmsg[m - b->out];
	struct cmsghdr *c;

	m->msg_hdr.msg_control = room->buf;
	m->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
	c = CMSG_FIRSTHDR(&m->msg_hdr);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
}

/* The last queued message when one more datagram of len bytes (seg_size
 * for a full one) to peer may join it under UDP_SEGMENT, else NULL. */
static struct mmsghdr *gso_tail(struct udp_link *u, uint32_t peer, size_t len,
				size_t seg_size)
{
	struct udp_buffers *b = u->buffers;
	const struct out_gso *g;

	if (!u->gso || !b->out_count)
		return NULL;
	g = &b->out_gso[b->out_count - 1];
	if (!g->open || g->seg_size != seg_size || g->segs >= GSO_SEGS ||
	    g->bytes + len > GSO_BYTES ||
	    b->out_addr[b->out_count - 1].sin_addr.s_addr != htonl(peer))
		return NULL;
	return &b->out[b->out_count - 1];
}

/* Queues one datagram of parts iovecs: onto the last message with
 * UDP_SEGMENT when it fits there (also across the super-packets of a
 * batch, so a 64 KiB one does not cost a second, tiny send), else as a
 * new message. */
static void queue_datagram(struct udp_link *u, uint32_t peer, const struct iovec *parts,
			   size_t nparts, size_t seg_size)
{
	struct udp_buffers *b = u->buffers;
	struct mmsghdr *m;
	struct out_gso *g;
	size_t len = 0, i;

	for (i = 0; i < nparts; i++)
		len += parts[i].iov_len;
	m = gso_tail(u, peer, len, seg_size);
	if (!m) {
		m = out_msg(b, peer, u->port);
		b->out_gso[m - b->out].seg_size = seg_size;
	}
	g = &b->out_gso[m - b->out];
	memcpy(&b->out_iov[b->iov_count], parts, nparts * sizeof(*parts));
	b->iov_count += nparts;
	m->msg_hdr.msg_iovlen += nparts;
	if (++g->segs == 2)
		set_segment_size(b, m, (uint16_t)seg_size);
	g->bytes += len;
	g->open = len == seg_size;
}

/* Queues a super-packet as its MSS-sized segments. */
static int queue_segments(struct udp_link *u, size_t slot, const uint8_t *pkt, size_t len,
			  unsigned int mss, uint32_t peer)
{
	struct udp_buffers *b = u->buffers;
	struct iovec parts[2];
	size_t hdr_len, n, i;

	hdr_len = packet_segment(pkt, len, mss, b->hdrs[slot], MAX_SEGS, &n);
	if (!hdr_len)
		return -1;
	for (i = 0; i < n; i++) {
		parts[0] = (struct iovec){ b->hdrs[slot] + i * hdr_len, hdr_len };
		parts[1] = (struct iovec){ (void *)(pkt + hdr_len + i * mss),
					   i + 1 < n ? mss : len - hdr_len - i * mss };
		queue_datagram(u, peer, parts, 2, hdr_len + mss);
	}
	count(b, STAT_PACKETS_OUT, n);
	count(b, STAT_BYTES_OUT, len + (n - 1) * hdr_len);
	return 0;
}

/* Routes one packet read from the TUN; queues it or answers it. */
static void route_out(struct udp_link *u, size_t slot, uint8_t *data, size_t got)
{
	struct udp_buffers *b = u->buffers;
	struct vnet_hdr vh = { 0 };
	const struct udp_route *r;
	uint8_t *pkt = data;
	size_t len = got;
	struct iovec part;

	if (u->vnet) {
		if (got < VNET_LEN) {
			count(b, STAT_DROP_MALFORMED, 1);
			return;
		}
		memcpy(&vh, data, VNET_LEN);
		pkt += VNET_LEN;
		len -= VNET_LEN;
	}
	switch (packet_forward(pkt, len)) {
	case PACKET_MALFORMED:
		count(b, STAT_DROP_MALFORMED, 1);
		return;
	case PACKET_TTL_EXPIRED:
		count(b, STAT_DROP_TTL, 1);
		icmp_error(u, pkt, len, ICMP_TIME_EXCEEDED, 0);
		return;
	case PACKET_OK:
		break;
	}
	r = udp_table_lookup(&u->table, packet_dst(pkt));
	if (!r) {
		count(b, STAT_DROP_NO_ROUTE, 1);
		icmp_error(u, pkt, len, ICMP_UNREACH, ICMP_NET_UNREACH);
		return;
	}
	if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4) {
		if (queue_segments(u, slot, pkt, len, vh.gso_size, r->peer) < 0)
			count(b, STAT_DROP_MALFORMED, 1);
		return;
	}
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && packet_finish_csum(pkt, len, &vh) < 0)) {
		count(b, STAT_DROP_MALFORMED, 1);
		return;
	}
	part = (struct iovec){ pkt, len };
	queue_datagram(u, r->peer, &part, 1, len);
	count(b, STAT_PACKETS_OUT, 1);
	count(b, STAT_BYTES_OUT, len);
}

/* Sends what route_out() queued; the socket blocks when its buffer is
 * full, which paces the TUN reads like a NIC's queue would. */
static void flush_out(struct udp_link *u)
{
	struct udp_buffers *b = u->buffers;
	size_t sent = 0, window;
	int n;

	while (sent < b->out_count) {
		window = b->out_count - sent < SEND_WINDOW ? b->out_count - sent : SEND_WINDOW;
		n = sendmmsg(u->sock_fd, b->out + sent, (unsigned int)window, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The first message failed (e.g. no route on the
			 * underlay): skip it, keep the rest. */
			count(b, STAT_DROP_IO, 1);
			n = 1;
		}
		sent += (size_t)n;
	}
	b->out_count = 0;
	b->iov_count = 0;
}

/* Up to BATCH packets from the TUN; how many were read (fewer than BATCH:
 * the TUN is drained). */
static int tun_to_udp(struct udp_link *u)
{
	struct udp_buffers *b = u->buffers;
	size_t got[BATCH], n, i;
	ssize_t r;

	for (n = 0; n < BATCH; n++) {
		r = read(u->tun_fd, b->tun_in[n], VNET_LEN + PACKET_MAX);
		if (r < 0 && errno == EINTR) {
			n--;
			continue;
		}
		if (r <= 0)
			break;
		got[n] = (size_t)r;
	}
	if (!n)
		return 0;
	pthread_rwlock_rdlock(&u->lock);
	for (i = 0; i < n; i++)
		route_out(u, i, b->tun_in[i], got[i]);
	pthread_rwlock_unlock(&u->lock);
	flush_out(u);
	return (int)n;
}

/* ---- UDP -> TUN --------------------------------------------------------- */

/* Checks one arriving inner packet; 1 when it is to be written. */
static int accept_in(struct udp_link *u, uint8_t *pkt, size_t len)
{
	struct udp_buffers *b = u->buffers;

	switch (packet_forward(pkt, len)) {
	case PACKET_MALFORMED:
		count(b, STAT_DROP_MALFORMED, 1);
		return 0;
	case PACKET_TTL_EXPIRED:
		count(b, STAT_DROP_TTL, 1);
		icmp_error(u, pkt, len, ICMP_TIME_EXCEEDED, 0);
		return 0;
	case PACKET_OK:
		break;
	}
	/* We forward only into our own subnet: anything else would make
	 * this host a relay for whoever can reach the port. */
	if ((packet_dst(pkt) & u->subnet_mask) != u->subnet) {
		count(b, STAT_DROP_NOT_OURS, 1);
		return 0;
	}
	count(b, STAT_PACKETS_IN, 1);
	count(b, STAT_BYTES_IN, len);
	return 1;
}

/* Writes the accepted packets, merging runs of one TCP flow when the TUN
 * takes super-packets. */
static void write_in(struct udp_link *u, size_t n)
{
	struct udp_buffers *b = u->buffers;
	struct tcp_merge m;
	size_t i = 0, j, k;

	while (i < n) {
		if (!u->vnet || !tcp_merge_start(&m, b->pkts[i], b->lens[i])) {
			tun_write(u, b->pkts[i], b->lens[i]);
			i++;
			continue;
		}
		for (j = i + 1; j < n && j - i < MAX_SEGS &&
				tcp_merge_add(&m, b->pkts[j], b->lens[j], PACKET_MAX);
		     j++)
			;
		if (j == i + 1) {
			tun_write(u, b->pkts[i], b->lens[i]);
			i++;
			continue;
		}
		tcp_merge_finish(&m, b->merged + VNET_LEN, (struct vnet_hdr *)b->merged);
		b->tun_iov[0] = (struct iovec){ b->merged, VNET_LEN + m.hdr_len };
		for (k = i; k < j; k++)
			b->tun_iov[1 + k - i] = (struct iovec){ (void *)(b->pkts[k] + m.hdr_len),
								b->lens[k] - m.hdr_len };
		if (writev(u->tun_fd, b->tun_iov, (int)(1 + j - i)) < 0)
			count(b, STAT_DROP_IO, j - i);
		i = j;
	}
}

static size_t gro_size(struct msghdr *h)
{
	struct cmsghdr *c;
	int size;

	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	}
	return 0;
}

/* One recvmmsg() of up to BATCH messages; how many arrived (fewer than
 * BATCH: the socket is drained). */
static int udp_to_tun(struct udp_link *u)
{
	struct udp_buffers *b = u->buffers;
	size_t i, off, len, seg, n = 0;
	struct msghdr *h;
	int got;

	for (i = 0; i < BATCH; i++) {
		memset(&b->in[i], 0, sizeof(b->in[i]));
		h = &b->in[i].msg_hdr;
		h->msg_name = &b->in_addr[i];
		h->msg_namelen = sizeof(b->in_addr[i]);
		h->msg_iov = &b->in_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = b->in_cmsg[i].buf;
		h->msg_controllen = sizeof(b->in_cmsg[i].buf);
	}
	do
		got = recvmmsg(u->sock_fd, b->in, BATCH, MSG_DONTWAIT, NULL);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return 0;
	pthread_rwlock_rdlock(&u->lock);
	for (i = 0; i < (size_t)got; i++) {
		h = &b->in[i].msg_hdr;
		len = b->in[i].msg_len;
		if (h->msg_namelen < sizeof(struct sockaddr_in) ||
		    !udp_table_has_peer(&u->table, ntohl(b->in_addr[i].sin_addr.s_addr))) {
			count(b, STAT_DROP_UNKNOWN_SOURCE, 1);
			continue;
		}
		if (h->msg_flags & MSG_TRUNC) {
			count(b, STAT_DROP_MALFORMED, 1);
			continue;
		}
		seg = gro_size(h);
		if (!seg)
			seg = len;
		for (off = 0; off < len; off += seg) {
			size_t this = len - off < seg ? len - off : seg;

			if (accept_in(u, b->udp_in[i] + off, this)) {
				b->pkts[n] = b->udp_in[i] + off;
				b->lens[n++] = this;
			}
		}
	}
	pthread_rwlock_unlock(&u->lock);
	write_in(u, n);
	return got;
}

/* ---- flannel's mode: one packet per system call ------------------------- */

static int simple_cycle(struct udp_link *u)
{
	struct udp_buffers *b = u->buffers;
	uint8_t *buf = b->tun_in[0];
	const struct udp_route *r;
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	ssize_t got;
	int moved = 0;

	got = read(u->tun_fd, buf, u->link.mtu);
	if (got > 0) {
		moved++;
		pthread_rwlock_rdlock(&u->lock);
		switch (packet_forward(buf, (size_t)got)) {
		case PACKET_MALFORMED:
			count(b, STAT_DROP_MALFORMED, 1);
			break;
		case PACKET_TTL_EXPIRED:
			count(b, STAT_DROP_TTL, 1);
			icmp_error(u, buf, (size_t)got, ICMP_TIME_EXCEEDED, 0);
			break;
		case PACKET_OK:
			r = udp_table_lookup(&u->table, packet_dst(buf));
			if (!r) {
				count(b, STAT_DROP_NO_ROUTE, 1);
				icmp_error(u, buf, (size_t)got, ICMP_UNREACH, ICMP_NET_UNREACH);
				break;
			}
			count(b, STAT_PACKETS_OUT, 1);
			count(b, STAT_BYTES_OUT, (uint64_t)got);
			send_to(u, r->peer, buf, (size_t)got);
		}
		pthread_rwlock_unlock(&u->lock);
	}
	got = recvfrom(u->sock_fd, buf, u->link.mtu, MSG_DONTWAIT, (struct sockaddr *)&from,
		       &from_len);
	if (got > 0) {
		moved++;
		pthread_rwlock_rdlock(&u->lock);
		if (!udp_table_has_peer(&u->table, ntohl(from.sin_addr.s_addr)))
			count(b, STAT_DROP_UNKNOWN_SOURCE, 1);
		else if (accept_in(u, buf, (size_t)got))
			tun_write(u, buf, (size_t)got);
		pthread_rwlock_unlock(&u->lock);
	}
	return moved;
}

/* ---- dispatch ----------------------------------------------------------- */

/* Batched cycles on the directions in ready until each is drained (a
 * short batch) or CYCLES ran: no system call on a side known empty. */
static int batched(struct udp_link *u, unsigned int ready)
{
	int cycle, n, total = 0;

	for (cycle = 0; cycle < CYCLES && ready; cycle++) {
		if (ready & UDP_READY_TUN) {
			n = tun_to_udp(u);
			total += n;
			if (n < BATCH)
				ready &= ~UDP_READY_TUN;
		}
		if (ready & UDP_READY_SOCK) {
			n = udp_to_tun(u);
			total += n;
			if (n < BATCH)
				ready &= ~UDP_READY_SOCK;
		}
	}
	return total;
}

int udp_forward(struct udp_link *u, unsigned int ready)
{
	struct udp_buffers *b = u->buffers;
	int cycle, moved, total = 0;
	size_t i;

	if (!b || u->tun_fd < 0)
		return -EBADF;
	if (u->flags & OVL_UDP_SIMPLE) {
		for (cycle = 0; cycle < CYCLES * BATCH; cycle++) {
			moved = simple_cycle(u);
			if (!moved)
				break;
			total += moved;
		}
	} else {
		total = batched(u, ready);
	}
	for (i = 0; i < STAT_COUNT; i++) {
		if (b->stats[i])
			__atomic_fetch_add(&u->stats[i], b->stats[i], __ATOMIC_RELAXED);
		b->stats[i] = 0;
	}
	return total;
}
