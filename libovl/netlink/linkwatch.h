/*
 * linkwatch.h - RTM_NEWLINK/RTM_DELLINK notifications on a socket of their
 * own (linkwatch.c), for the agent's device repair.
 */
#ifndef OVL_NETLINK_LINKWATCH_H
#define OVL_NETLINK_LINKWATCH_H

#include "core/internal.h"

struct linkwatch;

enum linkwatch_event { LINKWATCH_NEW = 1, LINKWATCH_DEL = 2 };

/* fn gets each RTM_NEWLINK/RTM_DELLINK: event, ifindex, name, IFF_* flags. */
typedef void (*linkwatch_fn)(void *userdata, int event, int ifindex,
			     const char *name, unsigned int flags);

int linkwatch_open(struct ovl_ctx *ctx, linkwatch_fn fn, void *userdata,
		   struct linkwatch **watch);
int linkwatch_fd(const struct linkwatch *watch);
/* Reads every pending event without blocking; -ENOBUFS when the kernel
 * dropped some (the caller must then resync everything). */
int linkwatch_read(struct linkwatch *watch);
void linkwatch_close(struct linkwatch *watch);

#endif
