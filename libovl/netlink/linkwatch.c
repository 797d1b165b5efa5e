/*
 * linkwatch.c - RTM_NEWLINK/RTM_DELLINK notifications from the ctx's
 * namespace, so the agent sees its device deleted or flapped and repairs it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netlink/netlink.h>
#include <linux/rtnetlink.h>

#include "netlink/linkwatch.h"
#include "netlink/underlay.h"

struct linkwatch {
	struct nl_sock *sock;
	linkwatch_fn fn;
	void *userdata;
	long buf[8192 / sizeof(long)];	/* aligned for struct nlmsghdr */
};

/* One message: hand RTM_NEWLINK/RTM_DELLINK to the callback. */
static void on_message(struct linkwatch *watch, const struct nlmsghdr *header)
{
	const struct ifinfomsg *info = NLMSG_DATA(header);
	const struct rtattr *attr;
	const char *name = "";
	int left;

	if ((header->nlmsg_type != RTM_NEWLINK && header->nlmsg_type != RTM_DELLINK) ||
	    header->nlmsg_len < NLMSG_LENGTH(sizeof(*info)))
		return;
	left = (int)(header->nlmsg_len - NLMSG_LENGTH(sizeof(*info)));
	for (attr = IFLA_RTA(info); RTA_OK(attr, left); attr = RTA_NEXT(attr, left))
		if (attr->rta_type == IFLA_IFNAME && RTA_PAYLOAD(attr) > 0 &&
		    memchr(RTA_DATA(attr), '\0', RTA_PAYLOAD(attr)))
			name = RTA_DATA(attr);
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
	err = netns_connect(ctx, watch->sock);
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
