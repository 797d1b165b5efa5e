/*
 * linkwatch.c - RTM_NEWLINK/RTM_DELLINK notifications from the ctx's
 * namespace, so the agent sees its device deleted or flapped and repairs it.
 *
 * The only netlink socket besides the ctx's own (nl.c): it joins the link
 * multicast group, and notifications arriving between a request and its
 * answer would break the ctx socket's exchanges.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <linux/rtnetlink.h>

#include "netlink/linkwatch.h"
#include "netlink/nl.h"

struct linkwatch {
	struct nl_sock *sock;
	linkwatch_fn fn;
	void *userdata;
	long buf[8192 / sizeof(long)];	/* aligned for struct nlmsghdr */
};

static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING },
};

/* One message: hand RTM_NEWLINK/RTM_DELLINK to the callback. */
static void on_message(struct linkwatch *watch, const struct nlmsghdr *header)
{
	const struct ifinfomsg *info = NLMSG_DATA(header);
	struct nlattr *tb[IFLA_MAX + 1];
	const char *name = "";

	if ((header->nlmsg_type != RTM_NEWLINK && header->nlmsg_type != RTM_DELLINK) ||
	    header->nlmsg_len < NLMSG_LENGTH(sizeof(*info)))
		return;
	if (nlmsg_parse((struct nlmsghdr *)header, sizeof(*info), tb, IFLA_MAX,
			(struct nla_policy *)link_policy) >= 0 && tb[IFLA_IFNAME])
		name = nla_get_string(tb[IFLA_IFNAME]);
	watch->fn(watch->userdata,
		  header->nlmsg_type == RTM_NEWLINK ? LINKWATCH_NEW : LINKWATCH_DEL,
		  info->ifi_index, name, info->ifi_flags);
}

int linkwatch_open(struct ovl_ctx *ctx, linkwatch_fn fn, void *userdata,
		   struct linkwatch **out)
{
	struct linkwatch *watch;
	int err;

	watch = calloc(1, sizeof(*watch));
	if (!watch || !(watch->sock = nl_socket_alloc())) {
		free(watch);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	watch->fn = fn;
	watch->userdata = userdata;
	err = netlink_connect(ctx, watch->sock);
	if (err < 0)
		goto fail;
	if (nl_socket_add_membership(watch->sock, RTNLGRP_LINK) < 0) {
		err = ctx_fail(ctx, -EIO, "cannot subscribe to link events");
		goto fail;
	}
	/* Bursts (a device deleted with thousands of routes) must not drop
	 * the few link messages we need. */
	nl_socket_set_buffer_size(watch->sock, 1 << 20, 0);
	*out = watch;
	return 0;
fail:
	linkwatch_close(watch);
	return err;
}

int linkwatch_fd(const struct linkwatch *watch)
{
	return nl_socket_get_fd(watch->sock);
}

int linkwatch_read(struct linkwatch *watch)
{
	const struct nlmsghdr *header;
	int lost = 0;
	ssize_t got;
	int left;

	for (;;) {
		got = recv(nl_socket_get_fd(watch->sock), watch->buf, sizeof(watch->buf),
			   MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ENOBUFS) {
			lost = 1;
			continue;
		}
		if (got < 0)
			return errno == EAGAIN ? (lost ? -ENOBUFS : 0) : -errno;
		left = (int)got;
		for (header = (const struct nlmsghdr *)watch->buf; NLMSG_OK(header, left);
		     header = NLMSG_NEXT(header, left))
			on_message(watch, header);
	}
}

void linkwatch_close(struct linkwatch *watch)
{
	if (!watch)
		return;
	nl_socket_free(watch->sock);
	free(watch);
}
