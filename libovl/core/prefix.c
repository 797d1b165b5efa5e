/*
 * prefix.c - IPv4/IPv6 address and prefix math: strict text parsing and
 * formatting, containment, alignment and subnet enumeration.  Pure code: no
 * allocation, no context, no kernel.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/internal.h"

unsigned int prefix_family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* Bits of the address a prefix uses, or 0 when the struct is not a valid
 * prefix (unknown family, length too long). */
static unsigned int prefix_bits(const struct ovl_prefix *prefix)
{
	unsigned int bits;

	if (!prefix)
		return 0;
	bits = prefix_family_bits(prefix->family);
	return prefix->len <= bits ? bits : 0;
}

/* The network bits of byte i (0 = most significant) of a /len address. */
static unsigned char byte_mask(unsigned int len, unsigned int i)
{
	if (len >= 8 * (i + 1))
		return 0xff;
	if (len <= 8 * i)
		return 0;
	return (unsigned char)(0xff << (8 - (len - 8 * i)));
}

/* 1 when a and b agree in their first len bits. */
static int same_network(const unsigned char *a, const unsigned char *b,
			unsigned int len, unsigned int bits)
{
	unsigned int i;

	for (i = 0; i < bits / 8; i++)
		if ((a[i] ^ b[i]) & byte_mask(len, i))
			return 0;
	return 1;
}

/* Bit pos of the address, counted from the least significant one. */
static unsigned int get_bit(const unsigned char *addr, unsigned int bits,
			    unsigned int pos)
{
	return (addr[(bits - 1 - pos) / 8] >> (pos % 8)) & 1;
}

static void set_bit(unsigned char *addr, unsigned int bits, unsigned int pos)
{
	addr[(bits - 1 - pos) / 8] |= (unsigned char)(1u << (pos % 8));
}

/* A dotted quad exactly as inet_pton(AF_INET) takes one (four parts of
 * 1-3 digits, no leading zero, each at most 255) into out: the character
 * after it, or NULL for anything else (which inet_pton then judges).  The
 * agent parses 20,000 addresses on every resync: this skips the copy, the
 * scan for ':' and the library call. */
static const char *quad_parse(const char *text, unsigned char out[4])
{
	unsigned int part, value, digits;

	for (part = 0; part < 4; part++) {
		if (part && *text++ != '.')
			return NULL;
		for (value = 0, digits = 0; *text >= '0' && *text <= '9'; text++, digits++) {
			if (digits && !value)
				return NULL;	/* a leading zero */
			value = value * 10 + (unsigned int)(*text - '0');
			if (value > 255)
				return NULL;
		}
		if (!digits)
			return NULL;
		out[part] = (unsigned char)value;
	}
	return text;
}

int ovl_addr_parse(const char *text, struct ovl_prefix *addr)
{
	struct ovl_prefix parsed;
	const char *end;

	if (!text || !addr)
		return -EINVAL;
	memset(&parsed, 0, sizeof(parsed));
	end = quad_parse(text, parsed.addr);
	if (end && !*end) {
		parsed.family = AF_INET;
		parsed.len = 32;
		*addr = parsed;
		return 0;
	}
	/* inet_pton itself rejects zones, spaces, leading zeros in IPv4 and
	 * everything else that is not a plain address. */
	parsed.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(parsed.family, text, parsed.addr) != 1)
		return -EINVAL;
	parsed.len = prefix_family_bits(parsed.family);
	*addr = parsed;
	return 0;
}

/* The digits after '/': decimal, no sign, no spaces, no leading zero. */
static int parse_len(const char *text, unsigned int bits, unsigned int *len)
{
	unsigned int value = 0;
	const char *p;

	if (!*text || (text[0] == '0' && text[1]))
		return -EINVAL;
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9' || p - text >= 3)
			return -EINVAL;
		value = value * 10 + (unsigned int)(*p - '0');
	}
	if (value > bits)
		return -EINVAL;
	*len = value;
	return 0;
}

int ovl_prefix_parse(const char *text, struct ovl_prefix *prefix)
{
	char addr_text[INET6_ADDRSTRLEN];
	struct ovl_prefix parsed;
	const char *slash;
	unsigned int len;
	int err;

	if (!text || !prefix)
		return -EINVAL;
	memset(&parsed, 0, sizeof(parsed));
	slash = quad_parse(text, parsed.addr);
	if (slash && *slash == '/') {
		err = parse_len(slash + 1, 32, &len);
		if (err < 0)
			return err;
		parsed.family = AF_INET;
		parsed.len = len;
		*prefix = parsed;
		return 0;
	}
	slash = strchr(text, '/');
	if (!slash || (size_t)(slash - text) >= sizeof(addr_text))
		return -EINVAL;
	memcpy(addr_text, text, (size_t)(slash - text));
	addr_text[slash - text] = '\0';
	err = ovl_addr_parse(addr_text, &parsed);
	if (err < 0)
		return err;
	err = parse_len(slash + 1, parsed.len, &len);
	if (err < 0)
		return err;
	parsed.len = len;
	*prefix = parsed;
	return 0;
}

/* Copies text into buf when it fits with its NUL; else leaves "". */
static int format_out(const char *text, int length, char *buf, size_t size)
{
	if ((size_t)length >= size) {
		if (buf && size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, text, (size_t)length + 1);
	return length;
}

/* Dotted quad without printf: the file store formats one per lease when it
 * reads 10,000 of them. */
static int ipv4_text(const unsigned char *a, char *text)
{
	char *out = text;
	int i;

	for (i = 0; i < 4; i++) {
		if (a[i] >= 100)
			*out++ = (char)('0' + a[i] / 100);
		if (a[i] >= 10)
			*out++ = (char)('0' + a[i] / 10 % 10);
		*out++ = (char)('0' + a[i] % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
	return (int)(out - text - 1);
}

/* The address as text, RFC 5952 like flannel's Go writes it: glibc prints
 * the deprecated IPv4-compatible form (::2.0.0.0), Go and others ::200:0. */
static int addr_text(const struct ovl_prefix *addr, char *text, size_t size)
{
	static const unsigned char zeros[12];
	const unsigned char *a = addr->addr;

	if (addr->family == AF_INET && size >= INET_ADDRSTRLEN)
		return ipv4_text(a, text);
	if (addr->family == AF_INET6 && !memcmp(a, zeros, 12) && (a[12] || a[13]))
		return snprintf(text, size, "::%x:%x", a[12] << 8 | a[13],
				a[14] << 8 | a[15]);
	if (!inet_ntop(addr->family, a, text, (socklen_t)size))
		return -EINVAL;
	return (int)strlen(text);
}

int ovl_addr_format(const struct ovl_prefix *addr, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	int length;

	if (!prefix_bits(addr) || (!buf && size))
		return -EINVAL;
	length = addr_text(addr, text, sizeof(text));
	if (length < 0)
		return length;
	return format_out(text, length, buf, size);
}

int ovl_prefix_format(const struct ovl_prefix *prefix, char *buf, size_t size)
{
	char text[OVL_PREFIX_STRLEN];
	int length;

	if (!prefix_bits(prefix) || (!buf && size))
		return -EINVAL;
	length = addr_text(prefix, text, sizeof(text));
	if (length < 0)
		return length;
	length += snprintf(text + length, sizeof(text) - (size_t)length, "/%u",
			   prefix->len);
	return format_out(text, length, buf, size);
}

int ovl_prefix_equal(const struct ovl_prefix *a, const struct ovl_prefix *b)
{
	unsigned int bits = prefix_bits(a);

	return bits && prefix_bits(b) && a->family == b->family &&
	       a->len == b->len && !memcmp(a->addr, b->addr, bits / 8);
}

int ovl_prefix_contains(const struct ovl_prefix *outer,
			const struct ovl_prefix *inner)
{
	unsigned int bits = prefix_bits(outer);

	return bits && prefix_bits(inner) && outer->family == inner->family &&
	       inner->len >= outer->len &&
	       same_network(outer->addr, inner->addr, outer->len, bits);
}

int ovl_prefix_overlaps(const struct ovl_prefix *a, const struct ovl_prefix *b)
{
	unsigned int bits = prefix_bits(a);

	/* Prefixes nest or are disjoint, so sharing an address means the
	 * shorter one contains the longer one. */
	return bits && prefix_bits(b) && a->family == b->family &&
	       same_network(a->addr, b->addr, a->len < b->len ? a->len : b->len,
			    bits);
}

int ovl_prefix_is_aligned(const struct ovl_prefix *prefix)
{
	unsigned int bits = prefix_bits(prefix);
	unsigned int i;

	if (!bits)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (prefix->addr[i] & ~byte_mask(prefix->len, i))
			return 0;
	return 1;
}

void ovl_prefix_mask(struct ovl_prefix *prefix)
{
	unsigned int i;

	if (!prefix_bits(prefix))
		return;
	/* Also clears the unused tail of an IPv4 address. */
	for (i = 0; i < sizeof(prefix->addr); i++)
		prefix->addr[i] &= byte_mask(prefix->len, i);
}

int ovl_prefix_next(const struct ovl_prefix *prefix, struct ovl_prefix *next)
{
	unsigned int bits = prefix_bits(prefix);
	struct ovl_prefix result;
	unsigned int pos, carry;
	int i;

	if (!bits || !next)
		return -EINVAL;
	result = *prefix;
	ovl_prefix_mask(&result);
	/* Add one at the lowest network bit; a carry out of the top byte
	 * means this was the last prefix of the space (or /0). */
	pos = bits - result.len;
	carry = 1u << (pos % 8);
	for (i = (int)(bits / 8) - 1 - (int)(pos / 8); i >= 0 && carry; i--) {
		carry += result.addr[i];
		result.addr[i] = (unsigned char)carry;
		carry >>= 8;
	}
	if (carry)
		return -ERANGE;
	*next = result;
	return 0;
}

uint64_t ovl_prefix_subnet_count(const struct ovl_prefix *network,
				 unsigned int subnet_len)
{
	unsigned int bits = prefix_bits(network);
	unsigned int diff;

	if (!bits || subnet_len < network->len || subnet_len > bits)
		return 0;
	diff = subnet_len - network->len;
	return diff >= 64 ? UINT64_MAX : (uint64_t)1 << diff;
}

int ovl_prefix_nth_subnet(const struct ovl_prefix *network,
			  unsigned int subnet_len, uint64_t n,
			  struct ovl_prefix *subnet)
{
	unsigned int bits = prefix_bits(network);
	struct ovl_prefix result;
	unsigned int pos;

	if (!bits || !subnet || subnet_len < network->len || subnet_len > bits)
		return -EINVAL;
	if (subnet_len - network->len < 64 &&
	    n >> (subnet_len - network->len))
		return -ERANGE;
	result = *network;
	ovl_prefix_mask(&result);
	/* n lands in the bits between the two lengths, which the mask
	 * cleared, so setting its bits is the addition. */
	for (pos = bits - subnet_len; n; pos++, n >>= 1)
		if (n & 1)
			set_bit(result.addr, bits, pos);
	result.len = subnet_len;
	*subnet = result;
	return 0;
}

int ovl_prefix_subnet_index(const struct ovl_prefix *network,
			    const struct ovl_prefix *subnet, uint64_t *index)
{
	unsigned int bits = prefix_bits(network);
	unsigned int k, diff;
	uint64_t value = 0;

	if (!index || !ovl_prefix_contains(network, subnet) ||
	    !ovl_prefix_is_aligned(subnet))
		return -EINVAL;
	diff = subnet->len - network->len;
	for (k = 0; k < diff; k++) {
		if (!get_bit(subnet->addr, bits, bits - subnet->len + k))
			continue;
		if (k >= 64)
			return -ERANGE;
		value |= (uint64_t)1 << k;
	}
	*index = value;
	return 0;
}
