/*
 * address.c - one copy of the address rules: the MAC parser and formatter,
 * and which IP addresses can be a tunnel endpoint.
 *
 * An endpoint (our VTEP/local address, a peer's public IP) must be a usable
 * unicast address of the underlay: not unspecified, loopback, multicast or
 * broadcast, and not IPv6 link-local (fe80::/10).  A link-local address
 * means something only with a scope (the device it lives on), which neither
 * a VXLAN remote (fdb dst), a host-gw gateway handed on to other nodes, nor
 * a lease's PublicIPv6 carries; flannel's nodes advertise global addresses.
 * IPv4 link-local (169.254/16) needs no scope and stays usable.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/internal.h"
#include "core/address.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *text, unsigned char mac[6])
{
	int i, high, low;

	if (!text || strlen(text) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		high = hex_digit(text[3 * i]);
		low = hex_digit(text[3 * i + 1]);
		if (high < 0 || low < 0 || (i < 5 && text[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (unsigned char)(high << 4 | low);
	}
	return 0;
}

int mac_parse_unicast(const char *text, unsigned char mac[6])
{
	return mac_parse(text, mac) < 0 || !mac_is_unicast(mac) ? -EINVAL : 0;
}

void mac_format(const unsigned char mac[6], char text[18])
{
	snprintf(text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

int mac_is_unicast(const unsigned char mac[6])
{
	static const unsigned char zero[6];

	/* bit 0 of the first octet marks group (multicast/broadcast) MACs */
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

const char *addr_endpoint_problem(const struct ovl_prefix *addr)
{
	static const unsigned char zero[16];
	const unsigned char *a = addr->addr;

	if (addr->family == AF_INET) {
		if (!memcmp(a, zero, 4))
			return "unspecified";
		if (a[0] == 127)
			return "loopback";
		if ((a[0] & 0xf0) == 0xe0)
			return "multicast";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "broadcast";
		return NULL;
	}
	if (!memcmp(a, zero, 16))
		return "unspecified";
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "loopback";
	if (a[0] == 0xff)
		return "multicast";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	return NULL;
}

int addr_is_endpoint(const struct ovl_prefix *addr)
{
	return addr_endpoint_problem(addr) == NULL;
}
