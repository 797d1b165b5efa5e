/*
 * address.h - the rules for MAC addresses and tunnel endpoint addresses
 * that the backends (ovl_*_up, ovl_peer_*) and the agent's lease gate
 * share (address.c), so both accept the same peers.
 */
#ifndef OVL_CORE_ADDRESS_H
#define OVL_CORE_ADDRESS_H

#include "ovl.h"

/* "0e:2a:33:44:55:66" (hex digits of either case, colons) to 6 bytes;
 * 0 or -EINVAL. */
int mac_parse(const char *text, unsigned char mac[6]);
/* mac_parse(), then -EINVAL unless mac_is_unicast(). */
int mac_parse_unicast(const char *text, unsigned char mac[6]);
/* Lower-case "0e:2a:33:44:55:66". */
void mac_format(const unsigned char mac[6], char text[18]);
/* 1 when mac is a unicast address other than 00:00:00:00:00:00. */
int mac_is_unicast(const unsigned char mac[6]);

/* Why addr cannot be a tunnel endpoint (our local address or a peer's
 * public IP): "unspecified", "loopback", "multicast", "broadcast",
 * "link-local"; NULL when it can. */
const char *addr_endpoint_problem(const struct ovl_prefix *addr);
/* 1 when addr_endpoint_problem() finds nothing. */
int addr_is_endpoint(const struct ovl_prefix *addr);

#endif
