/*
 * test-prefix.c - unit tests of prefix.c: parsing, formatting and the bit
 * math of IPv4 and IPv6 prefixes, at the edges of the address space.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "core/internal.h"
#include "ovl.h"

/* Parses text, which the test expects to be valid. */
static struct ovl_prefix P(const char *text)
{
	struct ovl_prefix prefix;

	memset(&prefix, 0xaa, sizeof(prefix));
	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse(text, &prefix), 0);
	return prefix;
}

static struct ovl_prefix A(const char *text)
{
	struct ovl_prefix addr;

	memset(&addr, 0xaa, sizeof(addr));
	CU_ASSERT_EQUAL_FATAL(ovl_addr_parse(text, &addr), 0);
	return addr;
}

/* Asserts that prefix formats as expected. */
static void check_format(const struct ovl_prefix *prefix, const char *expected)
{
	char buf[OVL_PREFIX_STRLEN];

	CU_ASSERT_EQUAL(ovl_prefix_format(prefix, buf, sizeof(buf)),
			(int)strlen(expected));
	CU_ASSERT_STRING_EQUAL(buf, expected);
}

/* Asserts that text is rejected and the output is untouched. */
static void check_bad_prefix(const char *text)
{
	struct ovl_prefix prefix, before;

	memset(&prefix, 0x5a, sizeof(prefix));
	before = prefix;
	CU_ASSERT_EQUAL(ovl_prefix_parse(text, &prefix), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(&prefix, &before, sizeof(prefix)), 0);
}

static void check_bad_addr(const char *text)
{
	struct ovl_prefix addr;

	CU_ASSERT_EQUAL(ovl_addr_parse(text, &addr), -EINVAL);
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_v4(void)
{
	struct ovl_prefix p = P("10.244.3.0/24");
	static const unsigned char want[16] = { 10, 244, 3, 0 };

	CU_ASSERT_EQUAL(p.family, AF_INET);
	CU_ASSERT_EQUAL(p.len, 24);
	/* the unused tail of an IPv4 address is zeroed */
	CU_ASSERT_EQUAL(memcmp(p.addr, want, 16), 0);
}

static void test_parse_v6(void)
{
	struct ovl_prefix p = P("fd00:1:2::/48");
	static const unsigned char want[16] = { 0xfd, 0, 0, 1, 0, 2 };

	CU_ASSERT_EQUAL(p.family, AF_INET6);
	CU_ASSERT_EQUAL(p.len, 48);
	CU_ASSERT_EQUAL(memcmp(p.addr, want, 16), 0);
}

static void test_parse_keeps_host_bits(void)
{
	struct ovl_prefix p = P("10.244.3.1/24");

	CU_ASSERT_EQUAL(p.addr[3], 1);
	CU_ASSERT_EQUAL(p.len, 24);
	p = P("fd00::1/64");
	CU_ASSERT_EQUAL(p.addr[15], 1);
}

static void test_parse_lengths_at_bounds(void)
{
	CU_ASSERT_EQUAL(P("0.0.0.0/0").len, 0);
	CU_ASSERT_EQUAL(P("10.0.0.1/32").len, 32);
	CU_ASSERT_EQUAL(P("::/0").len, 0);
	CU_ASSERT_EQUAL(P("::1/128").len, 128);
	CU_ASSERT_EQUAL(P("fd00::/100").len, 100);
	check_bad_prefix("10.0.0.0/33");
	check_bad_prefix("::/129");
	check_bad_prefix("10.0.0.0/100");
	check_bad_prefix("::/1000");
	check_bad_prefix("10.0.0.0/4294967297");
}

static void test_parse_rejects_bad_lengths(void)
{
	check_bad_prefix("10.0.0.0/");
	check_bad_prefix("10.0.0.0/+8");
	check_bad_prefix("10.0.0.0/-8");
	check_bad_prefix("10.0.0.0/ 8");
	check_bad_prefix("10.0.0.0/8 ");
	check_bad_prefix("10.0.0.0/08");
	check_bad_prefix("10.0.0.0/00");
	check_bad_prefix("10.0.0.0/8x");
	check_bad_prefix("10.0.0.0/0x8");
	check_bad_prefix("10.0.0.0/8/8");
	check_bad_prefix("10.0.0.0//8");
	check_bad_prefix("fd00::/064");
}

static void test_parse_rejects_bad_addresses(void)
{
	check_bad_prefix("");
	check_bad_prefix("/");
	check_bad_prefix("/24");
	check_bad_prefix("10.0.0.0");
	check_bad_prefix(" 10.0.0.0/8");
	check_bad_prefix("10.0.0/8");
	check_bad_prefix("10.0.0.0.0/8");
	check_bad_prefix("256.0.0.0/8");
	check_bad_prefix("010.0.0.0/8");
	check_bad_prefix("10.0.0.0x/8");
	check_bad_prefix("fd00:::/64");
	check_bad_prefix("fd00::g/64");
	check_bad_prefix("fe80::1%eth0/64");
	check_bad_prefix("fe80::%1/64");
	check_bad_prefix("[fd00::]/64");
	check_bad_prefix("1:2:3:4:5:6:7:8:9/64");
	check_bad_prefix("0000:0000:0000:0000:0000:0000:0000:0000:0/64");
}

static void test_parse_null(void)
{
	struct ovl_prefix p;

	CU_ASSERT_EQUAL(ovl_prefix_parse(NULL, &p), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_parse("10.0.0.0/8", NULL), -EINVAL);
	CU_ASSERT_EQUAL(ovl_addr_parse(NULL, &p), -EINVAL);
	CU_ASSERT_EQUAL(ovl_addr_parse("10.0.0.1", NULL), -EINVAL);
}

static void test_parse_v4_mapped_is_v6(void)
{
	struct ovl_prefix p = P("::ffff:10.0.0.0/104");

	CU_ASSERT_EQUAL(p.family, AF_INET6);
	CU_ASSERT_EQUAL(p.addr[10], 0xff);
	CU_ASSERT_EQUAL(p.addr[12], 10);
	check_format(&p, "::ffff:10.0.0.0/104");
}

static void test_addr_parse(void)
{
	struct ovl_prefix a = A("192.168.1.7");

	CU_ASSERT_EQUAL(a.family, AF_INET);
	CU_ASSERT_EQUAL(a.len, 32);
	CU_ASSERT_EQUAL(a.addr[0], 192);
	CU_ASSERT_EQUAL(a.addr[3], 7);
	CU_ASSERT_EQUAL(a.addr[4], 0);
	a = A("2001:db8::7");
	CU_ASSERT_EQUAL(a.family, AF_INET6);
	CU_ASSERT_EQUAL(a.len, 128);
	CU_ASSERT_EQUAL(a.addr[0], 0x20);
	CU_ASSERT_EQUAL(a.addr[15], 7);
}

static void test_addr_parse_rejects(void)
{
	check_bad_addr("");
	check_bad_addr("10.0.0.1/32");
	check_bad_addr("10.0.0.1 ");
	check_bad_addr(" 10.0.0.1");
	check_bad_addr("10.0.0");
	check_bad_addr("10.0.0.256");
	check_bad_addr("fe80::1%eth0");
	check_bad_addr("fe80::1%1");
	check_bad_addr("::1::");
	check_bad_addr("localhost");
}

/* ---- formatting --------------------------------------------------------- */

static void test_format_v4(void)
{
	struct ovl_prefix p = P("10.244.3.1/24");
	char buf[OVL_PREFIX_STRLEN];

	check_format(&p, "10.244.3.1/24");
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, sizeof(buf)), 10);
	CU_ASSERT_STRING_EQUAL(buf, "10.244.3.1");
	p = P("0.0.0.0/0");
	check_format(&p, "0.0.0.0/0");
}

static void test_format_v6_canonical(void)
{
	struct ovl_prefix p = P("FD00:0000:0000:0000:0000:0000:0000:0000/64");
	char buf[OVL_PREFIX_STRLEN];

	check_format(&p, "fd00::/64");
	p = A("2001:0db8:0:0:1:0:0:1");
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, sizeof(buf)), 17);
	CU_ASSERT_STRING_EQUAL(buf, "2001:db8::1:0:0:1");
	check_format(&p, "2001:db8::1:0:0:1/128");
}

/* flannel (Go) writes ::200:0 where glibc's inet_ntop writes ::2.0.0.0 */
static void test_format_v4_compatible_like_go(void)
{
	static const char *const texts[] = {
		"::200:0/103", "::1:0/112", "::ffff:0/128", "::a00:1/128",
		"::ffff:10.0.0.1/128", "::1/128", "::/0", "::ff/128",
	};
	struct ovl_prefix p;
	char buf[8];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		p = P(texts[i]);
		check_format(&p, texts[i]);
	}
	p = P("::2.0.0.0/103");
	check_format(&p, "::200:0/103");
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, sizeof(buf)), 7);
	CU_ASSERT_STRING_EQUAL(buf, "::200:0");
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, 7), -ENOSPC);
}

static void test_format_longest_fits(void)
{
	struct ovl_prefix p = P("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
	char buf[OVL_PREFIX_STRLEN];
	int n = ovl_prefix_format(&p, buf, sizeof(buf));

	/* glibc writes the canonical eight-group form; any form must fit */
	CU_ASSERT(n > 0 && n < OVL_PREFIX_STRLEN);
	CU_ASSERT_EQUAL((size_t)n, strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void test_format_too_small(void)
{
	struct ovl_prefix p = P("10.244.3.0/24");
	char buf[14];

	memset(buf, 'x', sizeof(buf));
	/* 13 characters need 14 bytes */
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, 13), -ENOSPC);
	CU_ASSERT_EQUAL(buf[0], '\0');
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, 14), 13);
	CU_ASSERT_STRING_EQUAL(buf, "10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, NULL, 0), -ENOSPC);
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, 10), -ENOSPC);
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, 11), 10);
	p = P("fd00::/64");
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, 9), -ENOSPC);
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, 10), 9);
}

static void test_format_invalid(void)
{
	struct ovl_prefix p = P("10.0.0.0/8");
	char buf[OVL_PREFIX_STRLEN];

	p.len = 33;
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, sizeof(buf)), -EINVAL);
	p.len = 8;
	p.family = AF_UNIX;
	CU_ASSERT_EQUAL(ovl_prefix_format(&p, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(ovl_addr_format(&p, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_format(NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_parse_format_round_trip(void)
{
	static const char *const texts[] = {
		"0.0.0.0/0", "255.255.255.255/32", "10.244.0.0/16",
		"172.16.5.4/30", "::/0", "::1/128", "fd00::/8",
		"2001:db8:1234:5678:9abc:def0:1234:5678/127",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		struct ovl_prefix p = P(texts[i]);

		check_format(&p, texts[i]);
	}
}

/* ---- equality, containment, overlap ---------------------------------------- */

static void test_equal(void)
{
	struct ovl_prefix a = P("10.244.0.0/16"), b = P("10.244.0.0/16");

	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 1);
	b = P("10.244.0.0/17");
	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 0);
	b = P("10.244.0.1/16");	/* host bits count */
	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 0);
	a = P("fd00::/64");
	b = P("fd00:0::/64");
	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 1);
	b = P("fd00::1/64");
	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 0);
}

static void test_equal_across_families(void)
{
	struct ovl_prefix a = P("0.0.0.0/0"), b = P("::/0");

	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &b), 0);
	CU_ASSERT_EQUAL(ovl_prefix_equal(&a, &a), 1);
	CU_ASSERT_EQUAL(ovl_prefix_equal(NULL, &a), 0);
}

static void test_contains(void)
{
	struct ovl_prefix net = P("10.244.0.0/16"), in;

	in = P("10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 1);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&in, &net), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &net), 1);
	in = A("10.244.255.255");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 1);
	in = A("10.245.0.0");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 0);
	in = A("10.243.255.255");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 0);
	/* the outer prefix's host bits do not matter */
	net = P("10.244.9.9/16");
	in = P("10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 1);
}

static void test_contains_v6_and_zero(void)
{
	struct ovl_prefix all = P("::/0"), net = P("fd00:1::/32"), in;

	in = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&all, &in), 1);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 0);
	in = P("fd00:1:ffff::/48");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 1);
	in = P("fd00:2::/48");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 0);
	/* a /128 contains exactly itself */
	net = A("fd00::1");
	in = A("fd00::1");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 1);
	in = A("fd00::2");
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &in), 0);
}

static void test_contains_across_families(void)
{
	struct ovl_prefix v4 = P("0.0.0.0/0"), v6 = P("::/0");
	struct ovl_prefix a4 = A("10.0.0.1"), a6 = A("::a00:1");

	CU_ASSERT_EQUAL(ovl_prefix_contains(&v4, &a6), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&v6, &a4), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&v4, &a4), 1);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&v6, &a6), 1);
	CU_ASSERT_EQUAL(ovl_prefix_contains(NULL, &a6), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&v6, NULL), 0);
}

static void test_overlaps(void)
{
	struct ovl_prefix a = P("10.244.0.0/16"), b;

	b = P("10.0.0.0/8");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 1);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&b, &a), 1);
	b = P("10.244.200.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 1);
	b = P("10.245.0.0/16");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 0);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&b, &a), 0);
	b = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 1);
	a = P("fd00::/64");
	b = P("fd00::8000:0:0:0/65");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 1);
	b = P("fd00:0:0:1::/64");
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&a, &b), 0);
}

static void test_overlaps_across_families(void)
{
	struct ovl_prefix v4 = P("0.0.0.0/0"), v6 = P("::/0");

	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&v4, &v6), 0);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&v6, &v4), 0);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&v6, &v6), 1);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&v4, NULL), 0);
}

/* ---- alignment and masking ----------------------------------------------- */

static void test_is_aligned(void)
{
	struct ovl_prefix p;

	p = P("10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = P("10.244.3.1/24");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 0);
	p = P("10.244.3.128/25");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = P("10.244.3.64/25");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 0);
	p = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = P("0.0.0.1/0");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 0);
	p = A("255.255.255.255");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = A("::1");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = P("fd00::1/127");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 0);
	p = P("fd00::/7");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 0);
	p = P("fc00::/7");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(NULL), 0);
}

static void test_mask(void)
{
	struct ovl_prefix p;

	p = P("10.244.3.77/20");
	ovl_prefix_mask(&p);
	check_format(&p, "10.244.0.0/20");
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&p), 1);
	p = P("255.255.255.255/0");
	ovl_prefix_mask(&p);
	check_format(&p, "0.0.0.0/0");
	p = P("255.255.255.255/32");
	ovl_prefix_mask(&p);
	check_format(&p, "255.255.255.255/32");
	p = P("fd12:3456:789a:bcde:f012:3456:789a:bcde/61");
	ovl_prefix_mask(&p);
	check_format(&p, "fd12:3456:789a:bcd8::/61");
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0");
	ovl_prefix_mask(&p);
	check_format(&p, "::/0");
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ovl_prefix_mask(&p);
	check_format(&p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void test_mask_v4_clears_tail(void)
{
	struct ovl_prefix p = P("10.1.2.3/8");
	static const unsigned char want[16] = { 10 };

	memset(p.addr + 4, 0xee, 12);	/* junk a caller left in the tail */
	ovl_prefix_mask(&p);
	CU_ASSERT_EQUAL(memcmp(p.addr, want, 16), 0);
}

/* ---- next ----------------------------------------------------------------- */

static void test_next_v4(void)
{
	struct ovl_prefix p = P("10.244.3.0/24"), n;

	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "10.244.4.0/24");
	p = P("10.244.255.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "10.245.0.0/24");
	/* carry through every byte */
	p = P("9.255.255.255/32");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "10.0.0.0/32");
	p = P("10.0.0.0/1");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "128.0.0.0/1");
}

static void test_next_unaligned(void)
{
	struct ovl_prefix p = P("10.244.3.77/24"), n;

	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "10.244.4.0/24");
	p = P("fd00::1234/120");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "fd00::1300/120");
}

static void test_next_end_of_space_v4(void)
{
	struct ovl_prefix p = P("255.255.255.0/24"), n;

	memset(&n, 0x77, sizeof(n));
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	CU_ASSERT_EQUAL(n.addr[0], 0x77);	/* untouched on failure */
	p = A("255.255.255.255");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = P("128.0.0.0/1");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = A("255.255.255.254");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "255.255.255.255/32");
}

static void test_next_v6(void)
{
	struct ovl_prefix p = P("fd00::/64"), n;

	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "fd00:0:0:1::/64");
	p = P("fd00:0:0:ffff:ffff:ffff:ffff:ffff/128");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "fd00:0:1::/128");
	p = P("fd00::/7");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "fe00::/7");
}

static void test_next_end_of_space_v6(void)
{
	struct ovl_prefix p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120"), n;

	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = P("::/0");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = P("8000::/1");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -ERANGE);
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fe00/120");
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), 0);
	check_format(&n, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120");
}

static void test_next_invalid(void)
{
	struct ovl_prefix p = P("10.0.0.0/8"), n;

	CU_ASSERT_EQUAL(ovl_prefix_next(&p, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_next(NULL, &n), -EINVAL);
	p.len = 40;
	CU_ASSERT_EQUAL(ovl_prefix_next(&p, &n), -EINVAL);
}

/* ---- subnet enumeration ------------------------------------------------------ */

static void test_subnet_count_v4(void)
{
	struct ovl_prefix p = P("10.244.0.0/16");

	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 24), 256);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 16), 1);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 32), 65536);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 15), 0);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 33), 0);
	p = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 32), UINT64_C(4294967296));
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 0), 1);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(NULL, 8), 0);
}

static void test_subnet_count_saturates(void)
{
	struct ovl_prefix p = P("fd00::/48");

	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 64), 65536);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 111), UINT64_C(1) << 63);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 112), UINT64_MAX);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 128), UINT64_MAX);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 129), 0);
	p = P("::/0");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 63), UINT64_C(1) << 63);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 64), UINT64_MAX);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&p, 128), UINT64_MAX);
}

static void test_nth_subnet_v4(void)
{
	struct ovl_prefix net = P("10.244.0.0/16"), s;

	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 24, 0, &s), 0);
	check_format(&s, "10.244.0.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 24, 3, &s), 0);
	check_format(&s, "10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 24, 255, &s), 0);
	check_format(&s, "10.244.255.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 24, 256, &s), -ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 28, 4095, &s), 0);
	check_format(&s, "10.244.255.240/28");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 16, 0, &s), 0);
	check_format(&s, "10.244.0.0/16");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 16, 1, &s), -ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 15, 0, &s), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 33, 0, &s), -EINVAL);
	/* an unaligned network counts from its base */
	net = P("10.244.77.77/16");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 24, 1, &s), 0);
	check_format(&s, "10.244.1.0/24");
}

static void test_nth_subnet_whole_v4_space(void)
{
	struct ovl_prefix net = P("0.0.0.0/0"), s;

	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 32, UINT64_C(0xffffffff), &s), 0);
	check_format(&s, "255.255.255.255/32");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 32, UINT64_C(0x100000000), &s),
			-ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 32, UINT64_MAX, &s), -ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 1, 1, &s), 0);
	check_format(&s, "128.0.0.0/1");
}

static void test_nth_subnet_v6_large_n(void)
{
	struct ovl_prefix net = P("fd00::/48"), s;

	/* 2^80 subnets: every 64-bit n is in range */
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 128, UINT64_MAX, &s), 0);
	check_format(&s, "fd00::ffff:ffff:ffff:ffff/128");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 112, UINT64_MAX, &s), 0);
	check_format(&s, "fd00::ffff:ffff:ffff:ffff:0/112");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 120, UINT64_MAX, &s), 0);
	check_format(&s, "fd00::ff:ffff:ffff:ffff:ff00/120");
	/* exactly 2^64 subnets: the last is n = 2^64-1 */
	net = P("::/0");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 64, UINT64_MAX, &s), 0);
	check_format(&s, "ffff:ffff:ffff:ffff::/64");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 63, UINT64_MAX, &s), -ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 63, (UINT64_C(1) << 63) - 1, &s), 0);
	check_format(&s, "ffff:ffff:ffff:fffe::/63");
}

static void test_nth_subnet_v6(void)
{
	struct ovl_prefix net = P("fd00:abcd::/32"), s;

	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 64, 0x12345, &s), 0);
	check_format(&s, "fd00:abcd:1:2345::/64");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 64, UINT64_C(0xffffffff), &s), 0);
	check_format(&s, "fd00:abcd:ffff:ffff::/64");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 64, UINT64_C(0x100000000), &s),
			-ERANGE);
	net = A("fd00::5");
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 128, 0, &s), 0);
	CU_ASSERT_EQUAL(ovl_prefix_equal(&s, &net), 1);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 128, 1, &s), -ERANGE);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 64, 0, &s), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, 128, 0, NULL), -EINVAL);
}

static void test_subnet_index(void)
{
	struct ovl_prefix net = P("10.244.0.0/16"), s;
	uint64_t index = 99;

	s = P("10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, 3);
	s = P("10.244.255.240/28");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, 4095);
	s = P("10.244.0.0/16");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, 0);
	index = 99;
	s = P("10.244.3.1/24");	/* not aligned */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -EINVAL);
	s = P("10.245.3.0/24");	/* outside */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -EINVAL);
	s = P("10.0.0.0/8");	/* bigger than the network */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -EINVAL);
	s = P("::/64");		/* other family */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -EINVAL);
	CU_ASSERT_EQUAL(index, 99);	/* untouched on failure */
	s = P("10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, NULL), -EINVAL);
}

static void test_subnet_index_v6_range(void)
{
	struct ovl_prefix net = P("fd00::/48"), s;
	uint64_t index = 0;

	s = A("fd00::ffff:ffff:ffff:ffff");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, UINT64_MAX);
	s = A("fd00:0:0:1::");	/* index 2^64 */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -ERANGE);
	s = A("fd00:0:0:8000::");	/* index 2^79 */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -ERANGE);
	s = P("fd00:0:0:1234::/64");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, 0x1234);
	s = A("fd00:0:8000::");	/* outside the /48 */
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), -EINVAL);
	net = P("::/0");
	s = P("ffff:ffff:ffff:ffff::/64");
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
	CU_ASSERT_EQUAL(index, UINT64_MAX);
}

static void test_nth_index_round_trip(void)
{
	static const struct {
		const char *network;
		unsigned int len;
		uint64_t n;
	} cases[] = {
		{ "10.244.0.0/16", 24, 0 },
		{ "10.244.0.0/16", 24, 200 },
		{ "10.244.0.0/16", 28, 4095 },
		{ "0.0.0.0/0", 32, 0xfffffffe },
		{ "0.0.0.0/0", 1, 1 },
		{ "172.16.0.0/12", 32, 0xabcde },
		{ "fd00::/48", 64, 0xbeef },
		{ "fd00::/48", 128, UINT64_MAX },
		{ "fd00::/48", 127, UINT64_C(0x8000000000000001) },
		{ "::/0", 64, UINT64_MAX },
		{ "::/0", 128, UINT64_C(0x0123456789abcdef) },
		{ "2001:db8::/32", 61, UINT64_C(0x1fffffff) },
		{ "fd00::1/128", 128, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ovl_prefix net = P(cases[i].network), s;
		uint64_t index = ~cases[i].n;

		CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&net, cases[i].len,
						      cases[i].n, &s), 0);
		CU_ASSERT_EQUAL(s.len, cases[i].len);
		CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&s), 1);
		CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &s), 1);
		CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&net, &s, &index), 0);
		CU_ASSERT_EQUAL(index, cases[i].n);
	}
}

static void test_nth_agrees_with_next(void)
{
	struct ovl_prefix net = P("fd00:1::/120"), by_nth, by_next;
	uint64_t n;

	CU_ASSERT_EQUAL_FATAL(ovl_prefix_nth_subnet(&net, 126, 0, &by_next), 0);
	for (n = 1; n < ovl_prefix_subnet_count(&net, 126); n++) {
		CU_ASSERT_EQUAL_FATAL(ovl_prefix_next(&by_next, &by_next), 0);
		CU_ASSERT_EQUAL_FATAL(ovl_prefix_nth_subnet(&net, 126, n, &by_nth), 0);
		CU_ASSERT_EQUAL_FATAL(ovl_prefix_equal(&by_nth, &by_next), 1);
	}
	CU_ASSERT_EQUAL(n, 64);
	/* one past the last subnet is outside the network */
	CU_ASSERT_EQUAL(ovl_prefix_next(&by_next, &by_next), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&net, &by_next), 0);
}

static void test_family_bits(void)
{
	CU_ASSERT_EQUAL(prefix_family_bits(AF_INET), 32);
	CU_ASSERT_EQUAL(prefix_family_bits(AF_INET6), 128);
	CU_ASSERT_EQUAL(prefix_family_bits(AF_UNSPEC), 0);
	CU_ASSERT_EQUAL(prefix_family_bits(AF_UNIX), 0);
}

static void test_invalid_structs(void)
{
	struct ovl_prefix bad = P("10.0.0.0/8"), good = P("10.0.0.0/8"), s;
	uint64_t index;

	bad.family = AF_UNSPEC;
	CU_ASSERT_EQUAL(ovl_prefix_equal(&bad, &bad), 0);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&bad, &good), 0);
	CU_ASSERT_EQUAL(ovl_prefix_overlaps(&good, &bad), 0);
	CU_ASSERT_EQUAL(ovl_prefix_is_aligned(&bad), 0);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_count(&bad, 16), 0);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&bad, 16, 0, &s), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&bad, &good, &index), -EINVAL);
	bad = good;
	bad.len = 200;
	ovl_prefix_mask(&bad);	/* a no-op, not an overrun */
	CU_ASSERT_EQUAL(bad.addr[0], 10);
	CU_ASSERT_EQUAL(ovl_prefix_contains(&good, &bad), 0);
	ovl_prefix_mask(NULL);
}

static const CU_TestInfo tests[] = {
	{ "parse v4", test_parse_v4 },
	{ "parse v6", test_parse_v6 },
	{ "parse keeps host bits", test_parse_keeps_host_bits },
	{ "parse lengths at bounds", test_parse_lengths_at_bounds },
	{ "parse rejects bad lengths", test_parse_rejects_bad_lengths },
	{ "parse rejects bad addresses", test_parse_rejects_bad_addresses },
	{ "parse NULL", test_parse_null },
	{ "parse v4-mapped is v6", test_parse_v4_mapped_is_v6 },
	{ "addr parse", test_addr_parse },
	{ "addr parse rejects", test_addr_parse_rejects },
	{ "format v4", test_format_v4 },
	{ "format v6 canonical", test_format_v6_canonical },
	{ "format v4-compatible like Go", test_format_v4_compatible_like_go },
	{ "format longest fits", test_format_longest_fits },
	{ "format too small", test_format_too_small },
	{ "format invalid", test_format_invalid },
	{ "parse/format round trip", test_parse_format_round_trip },
	{ "equal", test_equal },
	{ "equal across families", test_equal_across_families },
	{ "contains", test_contains },
	{ "contains v6 and /0", test_contains_v6_and_zero },
	{ "contains across families", test_contains_across_families },
	{ "overlaps", test_overlaps },
	{ "overlaps across families", test_overlaps_across_families },
	{ "is aligned", test_is_aligned },
	{ "mask", test_mask },
	{ "mask clears v4 tail", test_mask_v4_clears_tail },
	{ "next v4", test_next_v4 },
	{ "next unaligned", test_next_unaligned },
	{ "next end of v4 space", test_next_end_of_space_v4 },
	{ "next v6", test_next_v6 },
	{ "next end of v6 space", test_next_end_of_space_v6 },
	{ "next invalid", test_next_invalid },
	{ "subnet count v4", test_subnet_count_v4 },
	{ "subnet count saturates", test_subnet_count_saturates },
	{ "nth subnet v4", test_nth_subnet_v4 },
	{ "nth subnet whole v4 space", test_nth_subnet_whole_v4_space },
	{ "nth subnet v6 large n", test_nth_subnet_v6_large_n },
	{ "nth subnet v6", test_nth_subnet_v6 },
	{ "subnet index", test_subnet_index },
	{ "subnet index v6 range", test_subnet_index_v6_range },
	{ "nth/index round trip", test_nth_index_round_trip },
	{ "nth agrees with next", test_nth_agrees_with_next },
	{ "family bits", test_family_bits },
	{ "invalid structs", test_invalid_structs },
	CU_TEST_INFO_NULL
};

void register_tests(void)
{
	harness_add_suite("prefix", tests);
}
