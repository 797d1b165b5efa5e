/*
 * udp.c - the UDP backend's link: the TUN device (flannel0, IFF_TUN |
 * IFF_NO_PI, with IFF_VNET_HDR and TSO unless told otherwise), its address
 * and the route for the whole network, the UDP socket bound to the underlay
 * address (UDP_SEGMENT / UDP_GRO when the kernel has them), the epoll fd
 * the caller waits on, the loop on a caller's thread (which logs its
 * failures instead of writing the ctx's error), the counters, the teardown,
 * and the struct link_ops link.c calls (no reopen by name).  The TUN lives
 * as long as its fd: there is nothing to clean up after a crash.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "core/internal.h"
#include "netlink/nl.h"
#include "netlink/underlay.h"
#include "link/udp/udp.h"

#define DEFAULT_NAME "flannel0"
#define DEFAULT_PORT 8285
/* Outer IPv4 (20) + UDP (8): flannel's number. */
#define OVERHEAD 28
#define SOCKET_BUFFER (4 << 20)

#define OPTION(o, field, otherwise) (OPTIONS_HAS(o, field) ? (o)->field : (otherwise))

static uint32_t host_order(const struct ovl_prefix *p)
{
	uint32_t v;

	memcpy(&v, p->addr, 4);
	return ntohl(v);
}

/* ---- opening the TUN and the socket inside the ctx's namespace --------- */

struct opener {
	struct udp_link *u;
	const char *name;
	int err;
	const char *what;
};

static int open_tun(struct opener *o, int vnet)
{
	struct udp_link *u = o->u;
	struct ifreq ifr;
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4;

	u->tun_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (u->tun_fd < 0) {
		o->what = "/dev/net/tun";
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->name);
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	o->what = "TUNSETIFF";
	if (ioctl(u->tun_fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (vnet && ioctl(u->tun_fd, TUNSETOFFLOAD, offload) < 0) {
		o->what = "TUNSETOFFLOAD";
		return -errno;
	}
	u->vnet = vnet;
	return 0;
}

static int open_socket(struct opener *o)
{
	struct udp_link *u = o->u;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = u->port };
	int one = 1, size = SOCKET_BUFFER, probe = 1400;

	memcpy(&addr.sin_addr, u->link.local.addr, 4);
	u->sock_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	o->what = "socket";
	if (u->sock_fd < 0)
		return -errno;
	/* Bigger buffers ride out bursts; only root may pass the sysctl
	 * limit, so the plain call is the fallback. */
	if (setsockopt(u->sock_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(u->sock_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(u->sock_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(u->sock_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	o->what = "bind";
	if (bind(u->sock_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	if (!(u->flags & (OVL_UDP_SIMPLE | OVL_UDP_NO_OFFLOAD))) {
		/* Probed once; a kernel without them gets one datagram per
		 * message. */
		u->gso = setsockopt(u->sock_fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof(probe)) == 0;
		probe = 0;
		if (u->gso)
			setsockopt(u->sock_fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof(probe));
		u->gro = setsockopt(u->sock_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	}
	return 0;
}

/* MTU and up, by ioctl on the socket: it lives in the namespace. */
static int tun_configure(struct opener *o)
{
	struct udp_link *u = o->u;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%.*s", IF_NAMESIZE - 1, u->link.name);
	ifr.ifr_mtu = (int)u->link.mtu;
	o->what = "setting the MTU";
	if (ioctl(u->sock_fd, SIOCSIFMTU, &ifr) < 0)
		return -errno;
	o->what = "reading the flags";
	if (ioctl(u->sock_fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	o->what = "bringing it up";
	if (ioctl(u->sock_fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	o->what = "SIOCGIFINDEX";
	if (ioctl(u->sock_fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	u->link.ifindex = ifr.ifr_ifindex;
	return 0;
}

static int open_all(void *arg)
{
	struct opener *o = arg;
	struct udp_link *u = o->u;
	struct ifreq ifr;
	int err, vnet = !(u->flags & (OVL_UDP_SIMPLE | OVL_UDP_NO_OFFLOAD));

	err = open_tun(o, vnet);
	if (err == -EINVAL && vnet) {
		/* A kernel without TUN offloads: plain reads and writes. */
		close(u->tun_fd);
		err = open_tun(o, 0);
	}
	if (!err) {
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(u->tun_fd, TUNGETIFF, &ifr) == 0)
			snprintf(u->link.name, sizeof(u->link.name), "%s", ifr.ifr_name);
		err = open_socket(o);
	}
	if (!err)
		err = tun_configure(o);
	o->err = err;
	return 0;
}

/* ---- address and route, by netlink ------------------------------------- */

static int add_address(struct udp_link *u)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 32,
				 .ifa_index = (unsigned int)u->link.ifindex };
	struct nl_msg *msg = netlink_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa,
					 sizeof(ifa));

	if (!msg || nla_put(msg, IFA_LOCAL, 4, u->link.subnet.addr) < 0 ||
	    nla_put(msg, IFA_ADDRESS, 4, u->link.subnet.addr) < 0) {
		nlmsg_free(msg);
		return ctx_fail(u->link.ctx, -ENOMEM, "out of memory");
	}
	return netlink_call(u->link.ctx, msg);
}

/* flannel's route: the network via the TUN, scope universe; our protocol
 * marks it.  Replace semantics: a route Docker or a crashed run left is
 * taken over. */
static int add_route(struct udp_link *u)
{
	struct rtmsg rtm = { .rtm_family = AF_INET,
			     .rtm_dst_len = (unsigned char)u->link.network.len,
			     .rtm_table = RT_TABLE_MAIN, .rtm_protocol = OVL_RTPROT,
			     .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST };
	struct nl_msg *msg = netlink_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm,
					 sizeof(rtm));

	if (!msg || nla_put(msg, RTA_DST, 4, u->link.network.addr) < 0 ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)u->link.ifindex) < 0) {
		nlmsg_free(msg);
		return ctx_fail(u->link.ctx, -ENOMEM, "out of memory");
	}
	return netlink_call(u->link.ctx, msg);
}

/* ICMP errors the loop writes into the TUN come from our address on it;
 * without accept_local the kernel drops them as martians. */
static int accept_local(struct udp_link *u)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = u->link.ifindex };
	struct nl_msg *msg = netlink_msg(RTM_SETLINK, 0, &ifi, sizeof(ifi));
	struct nlattr *spec, *inet, *conf;

	if (!msg || !(spec = nla_nest_start(msg, IFLA_AF_SPEC)) ||
	    !(inet = nla_nest_start(msg, AF_INET)) ||
	    !(conf = nla_nest_start(msg, IFLA_INET_CONF)) ||
	    nla_put_u32(msg, IPV4_DEVCONF_ACCEPT_LOCAL, 1) < 0) {
		nlmsg_free(msg);
		return ctx_fail(u->link.ctx, -ENOMEM, "out of memory");
	}
	nla_nest_end(msg, conf);
	nla_nest_end(msg, inet);
	nla_nest_end(msg, spec);
	return netlink_call(u->link.ctx, msg);
}

static int add_epoll(struct udp_link *u)
{
	struct epoll_event ev = { .events = EPOLLIN };

	u->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epoll_fd < 0)
		return -errno;
	ev.data.fd = u->tun_fd;
	if (epoll_ctl(u->epoll_fd, EPOLL_CTL_ADD, u->tun_fd, &ev) < 0)
		return -errno;
	ev.data.fd = u->sock_fd;
	if (epoll_ctl(u->epoll_fd, EPOLL_CTL_ADD, u->sock_fd, &ev) < 0)
		return -errno;
	return 0;
}

/* ---- ovl_udp_up --------------------------------------------------------- */

static int parse_options(struct ovl_ctx *ctx, const struct ovl_udp_options *o,
			 struct udp_link *u, const char **name)
{
	const char *network = OPTION(o, network, NULL);
	unsigned long port = OPTION(o, port, 0);
	unsigned int mtu = OPTION(o, mtu, 0);
	int err;

	*name = OPTION(o, name, NULL);
	if (!network)
		return ctx_fail(ctx, -EINVAL, "network: (none: required, it is routed into the TUN)");
	err = link_parse_addresses(ctx, OPTION(o, local, NULL), OPTION(o, subnet, NULL), network,
				   &u->link.local, &u->link.subnet, &u->link.network);
	if (err < 0)
		return err;
	if (u->link.local.family != AF_INET || u->link.subnet.family != AF_INET)
		return ctx_fail(ctx, -EAFNOSUPPORT, "the udp backend is IPv4 only (as flannel's)");
	if (ovl_prefix_equal(&u->link.subnet, &u->link.network))
		return ctx_fail(ctx, -EINVAL, "subnet %s is the whole network: no room for peers",
				OPTION(o, subnet, ""));
	if (port > 65535)
		return ctx_fail(ctx, -EINVAL, "port: %lu is over 65535", port);
	u->link.port = port ? (unsigned int)port : DEFAULT_PORT;
	u->port = htons((uint16_t)u->link.port);
	if (*name && (!**name || strlen(*name) >= IF_NAMESIZE))
		return ctx_fail(ctx, -EINVAL, "name: '%s' is not a device name (1 to %d characters)",
				*name, IF_NAMESIZE - 1);
	if (!*name)
		*name = DEFAULT_NAME;
	if (mtu && (mtu < 68 || mtu > 65535 - OVERHEAD))
		return ctx_fail(ctx, -EINVAL, "mtu: %u is not from 68 to %u", mtu,
				65535 - OVERHEAD);
	u->link.mtu = mtu;
	u->flags = OPTION(o, flags, 0);
	u->tun_addr = host_order(&u->link.subnet);
	u->subnet_mask = 0xffffffffu << (32 - u->link.subnet.len);
	u->subnet = u->tun_addr & u->subnet_mask;
	return 0;
}

static void release(struct udp_link *u)
{
	if (u->epoll_fd >= 0)
		close(u->epoll_fd);
	if (u->sock_fd >= 0)
		close(u->sock_fd);
	if (u->tun_fd >= 0)
		close(u->tun_fd);
	u->epoll_fd = u->sock_fd = u->tun_fd = -1;
	udp_buffers_free(u);
}

/* ---- teardown (ovl_link_down / ovl_link_free) ------------------------- */

/* Closes the TUN (the device, its address and route go with it) and the
 * socket and empties the table; safe to call twice. */
static int udp_down(struct ovl_link *link)
{
	struct udp_link *u = udp_of(link);

	/* Closing the TUN deletes the device, and the kernel drops its
	 * address and route with it. */
	release(u);
	pthread_rwlock_wrlock(&u->lock);
	udp_table_free(&u->table);
	pthread_rwlock_unlock(&u->lock);
	return 0;
}

static void udp_free(struct ovl_link *link)
{
	struct udp_link *u = udp_of(link);

	release(u);
	udp_table_free(&u->table);
	pthread_rwlock_destroy(&u->lock);
	free(u);
}

OVL_EXPORT int ovl_udp_up(struct ovl_ctx *ctx, const struct ovl_udp_options *options,
			  struct ovl_link **link)
{
	struct underlay under;
	struct opener o = { .err = 0 };
	struct udp_link *u;
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !options || !link)
		return ctx ? ctx_fail(ctx, -EINVAL, "ovl_udp_up: NULL argument") : -EINVAL;
	*link = NULL;
	err = options_check(ctx, "ovl_udp_up: options", options, UDP_OPTIONS_SIZE_0_1,
			    sizeof(*options));
	if (!err)
		err = flags_check(ctx, "ovl_udp_up: options", options->flags,
				  OVL_UDP_SIMPLE | OVL_UDP_NO_OFFLOAD);
	if (err < 0)
		return err;
	u = calloc(1, sizeof(*u));
	if (!u)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	u->tun_fd = u->sock_fd = u->epoll_fd = -1;
	u->link.ctx = ctx;
	u->link.ops = &udp_link_ops;
	u->link.family = AF_INET;
	pthread_rwlock_init(&u->lock, NULL);
	udp_table_init(&u->table);
	err = parse_options(ctx, options, u, &o.name);
	if (!err)
		err = underlay_find(ctx, OPTION(options, dev, NULL), &u->link.local, 1, &under);
	if (err < 0)
		goto fail;
	u->link.underlay_ifindex = under.ifindex;
	snprintf(u->link.underlay, sizeof(u->link.underlay), "%s", under.iface);
	if (!u->link.mtu)
		u->link.mtu = under.mtu - OVERHEAD;
	snprintf(u->link.name, sizeof(u->link.name), "%s", o.name);
	o.u = u;
	err = netlink_in_netns(ctx, open_all, &o);
	if (!err && o.err) {
		err = o.err;
		ctx_fail(ctx, err, "%s: %s: %s%s", o.name, o.what, ovl_strerror(err),
			 err == -EBUSY ? " (another process holds the device)" : "");
	}
	if (!err) {
		err = add_address(u);
		if (err < 0)
			ctx_fail_prefix(ctx, err, "%s: adding its address: ", u->link.name);
	}
	if (!err) {
		err = accept_local(u);
		if (err < 0)
			ctx_fail_prefix(ctx, err, "%s: setting accept_local: ", u->link.name);
	}
	if (!err) {
		err = add_route(u);
		if (err < 0)
			ctx_fail_prefix(ctx, err, "%s: adding the network route: ", u->link.name);
	}
	if (!err && add_epoll(u) < 0)
		err = ctx_fail(ctx, -errno, "epoll: %s", ovl_strerror(errno));
	if (!err && udp_buffers_new(u) < 0)
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	if (err < 0)
		goto fail;
	ctx_log(ctx, OVL_LOG_INFO, "%s up: MTU %u, port %u on %s, %s", u->link.name, u->link.mtu,
		u->link.port, u->link.underlay,
		u->flags & OVL_UDP_SIMPLE ? "one packet per system call"
		: u->vnet ? (u->gso && u->gro ? "TSO, UDP GSO and GRO" : "TSO")
			  : "batched, no offloads");
	*link = &u->link;
	return 0;
fail:
	udp_free(&u->link);
	return err;
}

/* ---- the loop ------------------------------------------------------------ */

/* The loop (ovl_link_dispatch, ovl_udp_run) may run on a thread of its own
 * while other threads change the link's peers, and those calls record
 * their failures in the link's context: the loop therefore never writes
 * the context's error, or each thread could read the other's message (and
 * the buffer would be written by two threads at once).  It returns the
 * errno and gives the reason to the log callback, which it only reads,
 * from its own thread.  (Per-thread error storage, the other way, would
 * make every ovl_ctx_error() depend on the calling thread and add
 * thread-local state to a library that has none, for reasons the errno
 * nearly gives.) */
static int loop_failed(const struct ovl_link *link, const char *call, int err,
		       const char *format, ...) __attribute__((format(printf, 4, 5)));
static int loop_failed(const struct ovl_link *link, const char *call, int err,
		       const char *format, ...)
{
	char reason[512];
	va_list args;

	va_start(args, format);
	vsnprintf(reason, sizeof(reason), format, args);
	va_end(args);
	ctx_log(link->ctx, OVL_LOG_ERR, "%s: %s", call, reason);
	return err;
}

static int udp_fd(const struct ovl_link *link)
{
	struct udp_link *u = udp_of((struct ovl_link *)link);

	return u->epoll_fd >= 0 ? u->epoll_fd : -EBADF;
}

static int udp_dispatch(struct ovl_link *link)
{
	int n = udp_forward(udp_of(link), UDP_READY_TUN | UDP_READY_SOCK);

	return n == -EBADF ? loop_failed(link, "ovl_link_dispatch", n, "%s is down", link->name)
			   : n;
}

/* The tag of stop_fd beside UDP_READY_TUN and UDP_READY_SOCK. */
#define RUN_STOP 0x80u

/* ovl_udp_run's own epoll set: the TUN, the socket and stop_fd side by
 * side, so that one wait says which side has packets (polling the link's
 * epoll fd nests a level and hides that, and costs an empty read or
 * recvmmsg on the idle side of every wakeup).  The fd, or -errno. */
static int run_epoll(struct udp_link *u, int stop_fd)
{
	int fds[3] = { u->tun_fd, u->sock_fd, stop_fd };
	uint32_t tags[3] = { UDP_READY_TUN, UDP_READY_SOCK, RUN_STOP };
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), err, i;

	if (ep < 0)
		return -errno;
	for (i = 0; i < 3; i++) {
		ev.data.u32 = tags[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
			err = -errno;
			close(ep);
			return err;
		}
	}
	return ep;
}

static int run_loop(struct udp_link *u, int ep)
{
	struct epoll_event ev[3];
	unsigned int ready;
	int moved = 0, n, i;

	for (;;) {
		/* While packets flow, only peek: stop_fd is seen between
		 * bounded dispatches. */
		n = epoll_wait(ep, ev, 3, moved ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return loop_failed(&u->link, "ovl_udp_run", -errno, "epoll_wait: %s",
					   ovl_strerror(errno));
		for (ready = 0, i = 0; i < n; i++)
			ready |= ev[i].data.u32;
		if (ready & RUN_STOP)
			return 0;
		moved = ready ? udp_forward(u, ready) : 0;
		if (moved < 0)
			return loop_failed(&u->link, "ovl_udp_run", moved, "%s: %s",
					   u->link.name, ovl_strerror(moved));
	}
}

OVL_EXPORT int ovl_udp_run(struct ovl_link *link, int stop_fd)
{
	struct udp_link *u;
	int ep, err;

	/* Not even cleared: the context belongs to the thread changing peers
	 * (run_failed). */
	if (!link)
		return -EINVAL;
	u = link->ops == &udp_link_ops ? udp_of(link) : NULL;
	if (!u)
		return loop_failed(link, "ovl_udp_run", -EOPNOTSUPP, "%s is not a udp link",
				   link->name);
	if (u->epoll_fd < 0)
		return loop_failed(link, "ovl_udp_run", -EBADF, "%s is down", link->name);
	ep = run_epoll(u, stop_fd);
	if (ep < 0)
		return loop_failed(link, "ovl_udp_run", ep, "epoll for the loop (stop_fd %d): %s",
				   stop_fd, ovl_strerror(ep));
	err = run_loop(u, ep);
	close(ep);
	return err;
}

static int udp_stats(const struct ovl_link *link, struct ovl_link_stats *stats)
{
	struct udp_link *u = udp_of((struct ovl_link *)link);
	uint64_t values[STAT_COUNT];
	size_t i, size;

	for (i = 0; i < STAT_COUNT; i++)
		values[i] = __atomic_load_n(&u->stats[i], __ATOMIC_RELAXED);
	/* The fields follow the enum's order; a caller's older, shorter
	 * struct gets the ones it knows. */
	size = stats->size - offsetof(struct ovl_link_stats, packets_out);
	if (size > sizeof(values))
		size = sizeof(values);
	memcpy(&stats->packets_out, values, size - size % sizeof(uint64_t));
	return 0;
}

const struct link_ops udp_link_ops = {
	.name = "udp",
	.down = udp_down,
	.free = udp_free,
	.peer_add = udp_peer_add,
	.peer_del = udp_peer_del,
	.peer_sync = udp_peer_sync,
	.peer_list = udp_peer_list,
	.fd = udp_fd,
	.dispatch = udp_dispatch,
	.stats = udp_stats,
};
