/*
 * nl.h - the netlink layer the backends and device.c build on: one request
 * and its ack, a query (get or dump) whose replies go to a callback, a batch
 * of many requests whose failures map back to their entries, and running a
 * short function inside the context's network namespace.
 */
#ifndef OVL_NL_H
#define OVL_NL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netlink.h>

#include "ovl.h"

struct nl_msg;
struct nlmsghdr;
struct ovl_ctx;

/* The rtm_protocol / nh_protocol / NDA_PROTOCOL of every route, nexthop and
 * neighbour libovl installs: its ownership mark ("ovl": 'o' = 111). */
#define OVL_RTPROT 0x6f

/* A message of type with the fixed header hdr (len bytes) and room for a
 * few attributes; NULL when out of memory.  NLM_F_REQUEST is added. */
struct nl_msg *netlink_msg(int type, int flags, const void *hdr, size_t len);

/* Sends msg (always freed), waits for its ack: 0 or the kernel's -errno,
 * its extended-ack text recorded in the ctx error.  Here and in batches, a
 * delete (neighbour, route, nexthop, address) of what is already gone
 * succeeds. */
int netlink_call(struct ovl_ctx *ctx, struct nl_msg *msg);

/* Each reply to a query; 0 to go on, or a negative errno to stop. */
typedef int (*netlink_reply_fn)(const struct nlmsghdr *reply, void *arg);
/* Called before an interrupted dump is run again, to drop what the
 * callback collected; may be NULL. */
typedef void (*netlink_restart_fn)(void *arg);

/* Sends a get or dump request (msg always freed) and feeds every reply to
 * fn.  A dump the kernel marks interrupted (NLM_F_DUMP_INTR) is restarted. */
int netlink_query(struct ovl_ctx *ctx, struct nl_msg *msg, netlink_reply_fn fn,
		  netlink_restart_fn restart, void *arg);

/* Builds request number index into *msg (NULL: nothing to send for it);
 * returns 0 or a negative errno, which aborts the batch. */
typedef int (*netlink_build_fn)(void *arg, size_t index, struct nl_msg **msg);

/* Sends count requests many per system call and reads the kernel's answers
 * after each window.  errors[i] (when errors is not NULL) receives 0 or the
 * -errno of request i.  Returns 0 when all succeeded, else the first
 * failure's -errno with its kernel message in the ctx error; the caller
 * names the entry. */
int netlink_batch(struct ovl_ctx *ctx, size_t count, netlink_build_fn build,
		  void *arg, int *errors);

/* Connects sock (NETLINK_ROUTE) inside the ctx's network namespace: the
 * ctx's own socket, and linkwatch.c's, which must be a socket of its own
 * because it joins a multicast group. */
struct nl_sock;
int netlink_connect(struct ovl_ctx *ctx, struct nl_sock *sock);

/* Runs fn(arg) with the calling thread in the ctx's network namespace, for
 * what only works there (opening /proc/sys/net files); the thread returns
 * to its own namespace before this returns. */
int netlink_in_netns(struct ovl_ctx *ctx, int (*fn)(void *arg), void *arg);

/* The attributes of nlh after its fixed header of hdrlen bytes into
 * tb[0..max] in one pass (cleared first; types above max skipped, a later
 * duplicate wins, a malformed tail ends the walk): nlmsg_parse() without a
 * policy, at a fraction of its cost for the dumps of 10,000s of entries
 * (inline: with max known, clearing tb is a few stores, not a call).  0,
 * or -EINVAL when nlh is shorter than its header. */
static inline int netlink_attrs(const struct nlmsghdr *nlh, size_t hdrlen, struct nlattr **tb,
				int max)
{
	size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen), left, step;
	struct nlattr *a;
	int type;

	memset(tb, 0, ((size_t)max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < offset)
		return -EINVAL;
	left = nlh->nlmsg_len - offset;
	a = (struct nlattr *)((char *)nlh + offset);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			break;
		left -= step;
		a = (struct nlattr *)((char *)a + step);
	}
	return 0;
}

/* An attribute's payload and its length, and its value as a u8 or u32
 * (inline: a dump's parsing calls them 100,000 times). */
static inline const void *netlink_attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline size_t netlink_attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static inline uint8_t netlink_attr_u8(const struct nlattr *a)
{
	return *(const uint8_t *)netlink_attr_data(a);
}

static inline uint32_t netlink_attr_u32(const struct nlattr *a)
{
	uint32_t value;

	memcpy(&value, netlink_attr_data(a), sizeof(value));
	return value;
}

/* Attribute a (an address of family's size, else family 0 is set) into p
 * as a full-length prefix. */
static inline void netlink_get_addr(const struct nlattr *a, int family, struct ovl_prefix *p)
{
	size_t size = family == AF_INET6 ? 16 : 4;

	memset(p, 0, sizeof(*p));
	if (!a || netlink_attr_len(a) != size)
		return;
	p->family = family;
	memcpy(p->addr, netlink_attr_data(a), size);
	p->len = (unsigned int)size * 8;
}

/* The fd of the ctx's netlink socket (opened on demand), for ioctls that
 * must reach the target namespace (SIOCETHTOOL); or a negative errno. */
int netlink_fd(struct ovl_ctx *ctx);

#endif
