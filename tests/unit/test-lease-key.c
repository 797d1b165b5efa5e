/*
 * test-lease-key.c - lease_key_parse's IPv4 fast path against the general
 * path it bypasses: the same return code, error message and fields for a
 * fixed set of keys, every octet and prefix length, and 100,000 random
 * IPv4-looking keys.  lease-codec.c is compiled in here so that its static
 * paths can be called one by one.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lease/lease-codec.c"

#define FILL 0xa5	/* what a lease holds before a parse that must not touch it */

static struct ovl_ctx *ctx;
static unsigned long accepted, refused;

static void lease_fill(struct ovl_lease *lease)
{
	memset(lease, FILL, sizeof(*lease));
}

static int lease_untouched(const struct ovl_lease *lease)
{
	struct ovl_lease fill;

	lease_fill(&fill);
	return !memcmp(lease, &fill, sizeof(fill));
}

/* Nothing but the key fields (which come first) was written. */
static int rest_untouched(const struct ovl_lease *lease)
{
	struct ovl_lease copy = *lease;

	memset(&copy, FILL, offsetof(struct ovl_lease, public_ip));
	return lease_untouched(&copy);
}

/* The key fields, as text where only the text up to its NUL counts. */
static int same_fields(const struct ovl_lease *a, const struct ovl_lease *b)
{
	return a->has_ipv4 == b->has_ipv4 && a->has_ipv6 == b->has_ipv6 &&
	       !memcmp(&a->subnet, &b->subnet, sizeof(a->subnet)) &&
	       !memcmp(&a->ipv6_subnet, &b->ipv6_subnet, sizeof(a->ipv6_subnet)) &&
	       !strcmp(a->key, b->key) && !strcmp(a->subnet_text, b->subnet_text) &&
	       !strcmp(a->ipv6_subnet_text, b->ipv6_subnet_text);
}

/* Runs parse; returns a copy of the message it left ("" on success: the
 * context keeps any earlier one until cleared). */
static char *parse_error(const char *key, struct ovl_lease *lease,
			 int (*parse)(struct ovl_ctx *, const char *, struct ovl_lease *),
			 int *rc)
{
	ctx_clear_error(ctx);
	*rc = parse(ctx, key, lease);
	return strdup(ovl_ctx_error(ctx));
}

/* lease_key_parse and the general path agree on key in every way, and the
 * fast path takes a key exactly when it is a valid IPv4-only one. */
static int agree(const char *key)
{
	struct ovl_lease fast, general, probe;
	int rc_fast, rc_general, ok, ipv4_only;
	char *msg_fast, *msg_general;

	lease_fill(&fast);
	lease_fill(&general);
	lease_fill(&probe);
	msg_fast = parse_error(key, &fast, lease_key_parse, &rc_fast);
	msg_general = parse_error(key, &general, key_parse_general, &rc_general);
	ok = rc_fast == rc_general && (rc_fast == 0 || rc_fast == -EINVAL);
	if (ok && rc_fast == 0)
		ok = same_fields(&fast, &general) && rest_untouched(&fast);
	if (ok && rc_fast < 0)
		ok = !strcmp(msg_fast, msg_general) && *msg_fast &&
		     lease_untouched(&fast) && lease_untouched(&general);
	ipv4_only = !strpbrk(key, ":&");
	if (ok)
		ok = (key_parse_ipv4(key, &probe) == 0) == (ipv4_only && rc_general == 0);
	if (!ok)
		fprintf(stderr, "key '%s': fast %d '%s', general %d '%s'\n", key,
			rc_fast, msg_fast, rc_general, msg_general);
	free(msg_fast);
	free(msg_general);
	if (rc_general == 0)
		accepted++;
	else
		refused++;
	return ok;
}

static void setup(void)
{
	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	accepted = refused = 0;
}

/* ---- fixed keys ------------------------------------------------------------ */

static void test_fixed_keys(void)
{
	static const char *const keys[] = {
		/* valid */
		"10.244.3.0-24", "0.0.0.0-0", "255.255.255.255-32", "10.0.0.0-8",
		"128.0.0.0-1", "192.168.255.252-30", "1.2.3.4-32", "10.244.3.0-32",
		"100.64.0.0-10", "10.244.3.0-24&fd00:0:0:3::-64", "fd00::-64",
		"fd00:1:ff00::-40", "10.12.13.0-24&fd00:12:13::-56", "::ffff:10.0.0.0-104",
		/* leading zeros, octets and lengths out of range */
		"10.244.03.0-24", "010.1.1.0-24", "00.0.0.0-0", "0.0.0.00-0",
		"10.244.3.0-024", "10.244.3.0-00", "0.0.0.0-00", "256.0.0.0-8",
		"10.256.0.0-16", "10.0.0.256-32", "999.0.0.0-8", "1000.0.0.0-8",
		"99999999999.0.0.0-8", "10.244.3.0-33", "10.244.3.0-99",
		"10.244.3.0-4294967320", "10.244.3.0-100",
		/* host bits */
		"10.244.3.1-24", "10.244.3.0-0", "10.244.3.0-3", "10.244.3.128-24",
		"255.255.255.255-31", "1.0.0.0-7",
		/* shape */
		"", "-24", "10.244.3.0-", "10.244.3.0", "10.244.3-24", "10.244.3.0.0-24",
		"10..3.0-24", ".10.244.3-24", "10.244.3.-24", "10.244.3.0--24",
		"10.244.3.0-+24", "10.244.3.0-2 4", "10.244.3.0/24", "10.244.3.0-24-24",
		"0x0a.0.0.0-8", "10.244.3.0-24x", "10.244.3.0-24&", "&fd00::-64",
		"10.244.3.0-24 ", " 10.244.3.0-24", "10.244.3.0 -24", "10.244.3.0- 24",
		"10.244.3.0-24\n", "10.244.3.0-24\t", "1-2", "-", ".", "&", "hello",
		"10.244.3.0-24&10.244.4.0-24", "fd00::-64&10.0.0.0-8",
		/* IPv6 and dual stack: refused by the general path's two messages */
		"fd00:0::-64", "FD00::-64", "fd00::-064", "fd00::1-64",
		"10.244.3.0-24&fd00:0::-64", "10.244.3.0-24&FD00::-64",
		"10.244.3.0-24&fd00::", "::ffff:10.0.0.0-10", "10.244.3.0-24&&fd00::-64",
	};
	size_t i;

	setup();
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		CU_ASSERT(agree(keys[i]));
	CU_ASSERT_EQUAL(accepted, 14);
}

/* Keys longer than any buffer on the way. */
static void test_long_keys(void)
{
	static const char *const tails[] = { "", "0", "x", "-24", ".0-24", "&fd00::-64" };
	char key[4096];
	size_t i, n;

	setup();
	for (i = 0; i < ARRAY_SIZE(tails); i++) {
		for (n = 1; n + 32 < sizeof(key); n = n * 2 + 1) {
			memset(key, '1', n);
			snprintf(key + n, sizeof(key) - n, "%s", tails[i]);
			CU_ASSERT(agree(key));
			snprintf(key, sizeof(key), "10.244.3.0-24");
			memset(key + 13, '0', n);
			snprintf(key + 13 + n, sizeof(key) - 13 - n, "%s", tails[i]);
			CU_ASSERT(agree(key));
		}
	}
	CU_ASSERT_EQUAL(accepted, 0);
}

/* How many of the keys test_every_octet_and_length makes are valid: those
 * without a leading zero, an octet over 255 or host bits. */
static unsigned long valid_octet_keys(void)
{
	unsigned long count = 0;
	unsigned int pos, value;

	for (pos = 0; pos < 4; pos++) {
		count += 33;	/* 0.0.0.0 at every length */
		for (value = 1; value < 256; value++)
			count += 33 - (8 * pos + 8 - (unsigned int)__builtin_ctz(value));
	}
	return count;
}

/* Each octet position with every value 0..299 as text, with and without
 * leading zeros, at every prefix length 0..33 and a leading-zero one. */
static void test_every_octet_and_length(void)
{
	static const char *const zeros[] = { "", "0", "00" };
	char octet[8], key[64];
	const char *parts[4];
	unsigned int pos, value, len;
	size_t z;
	int ok = 1;

	setup();
	for (pos = 0; pos < 4; pos++)
		for (value = 0; value < 300; value++)
			for (z = 0; z < ARRAY_SIZE(zeros); z++) {
				snprintf(octet, sizeof(octet), "%s%u", zeros[z], value);
				parts[0] = parts[1] = parts[2] = parts[3] = "0";
				parts[pos] = octet;
				for (len = 0; len <= 33; len++) {
					snprintf(key, sizeof(key), "%s.%s.%s.%s-%u", parts[0],
						 parts[1], parts[2], parts[3], len);
					ok &= agree(key);
				}
				snprintf(key, sizeof(key), "%s.%s.%s.%s-032", parts[0],
					 parts[1], parts[2], parts[3]);
				ok &= agree(key);
			}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(accepted, valid_octet_keys());
	CU_ASSERT_EQUAL(accepted + refused, 4 * 300 * 3 * 35);
}

/* ---- random keys ----------------------------------------------------------- */

static unsigned int rng_state = 2463534242u;

static unsigned int rng(unsigned int below)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state % below;
}

/* A random octet or length as text; one in 20 has a leading zero. */
static int random_number(char *buf, size_t size, unsigned int limit)
{
	return snprintf(buf, size, rng(20) ? "%u" : "0%u", rng(limit));
}

/* A mostly well formed IPv4 key: most are aligned (and so valid), the rest
 * have host bits, a number out of range, a leading zero or one byte
 * changed. */
static void random_key(char *key, size_t size)
{
	static const char noise[] = "0123456789.-&:/ x";
	unsigned int addr, len = rng(34);
	int n = 0, i;

	addr = rng(0x10000) << 16 | rng(0x10000);
	if (rng(4) && len < 32)
		addr &= ~(0xffffffffu >> len);
	else if (rng(4) && len == 0)
		addr = 0;
	for (i = 3; i >= 0; i--) {
		unsigned int octet = addr >> (8 * i) & 0xff;

		if (!rng(200))
			octet += 256;
		n += snprintf(key + n, size - n, rng(40) ? "%u%c" : "0%u%c",
			      octet, i ? '.' : '-');
	}
	if (rng(40))
		snprintf(key + n, size - n, "%u", len);
	else
		random_number(key + n, size - n, 40);
	if (!rng(30))
		key[rng((unsigned int)strlen(key) + 1)] = noise[rng(sizeof(noise) - 1)];
}

static void test_random_keys(void)
{
	char key[64];
	int i, ok = 1;

	setup();
	for (i = 0; i < 100000; i++) {
		random_key(key, sizeof(key));
		ok &= agree(key);
	}
	CU_ASSERT(ok);
	printf("(%lu accepted, %lu refused) ", accepted, refused);
	CU_ASSERT(accepted > 50000 && refused > 10000);
}

/* ---- fields ---------------------------------------------------------------- */

/* Expected values, not only agreement: both paths could be wrong alike. */
static void test_expected_fields(void)
{
	static const unsigned char addr[4] = { 10, 244, 3, 0 };
	struct ovl_lease lease;

	setup();
	lease_fill(&lease);
	CU_ASSERT_EQUAL_FATAL(lease_key_parse(ctx, "10.244.3.0-24", &lease), 0);
	CU_ASSERT(lease.has_ipv4 && !lease.has_ipv6);
	CU_ASSERT_EQUAL(lease.subnet.family, AF_INET);
	CU_ASSERT_EQUAL(lease.subnet.len, 24);
	CU_ASSERT(!memcmp(lease.subnet.addr, addr, 4));
	CU_ASSERT(!memcmp(lease.subnet.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
	CU_ASSERT_EQUAL(lease.ipv6_subnet.family, 0);
	CU_ASSERT_STRING_EQUAL(lease.key, "10.244.3.0-24");
	CU_ASSERT_STRING_EQUAL(lease.subnet_text, "10.244.3.0/24");
	CU_ASSERT_STRING_EQUAL(lease.ipv6_subnet_text, "");
	/* a dual-stack lease parsed again as IPv4-only loses its IPv6 half */
	CU_ASSERT_EQUAL_FATAL(lease_key_parse(ctx, "10.1.0.0-16&fd00::-64", &lease), 0);
	CU_ASSERT_EQUAL_FATAL(lease_key_parse(ctx, "10.1.0.0-16", &lease), 0);
	CU_ASSERT(lease.has_ipv4 && !lease.has_ipv6);
	CU_ASSERT_EQUAL(lease.ipv6_subnet.family, 0);
	CU_ASSERT_STRING_EQUAL(lease.ipv6_subnet_text, "");
	/* the key may be the lease's own */
	CU_ASSERT_EQUAL(lease_key_parse(ctx, lease.key, &lease), 0);
	CU_ASSERT_STRING_EQUAL(lease.key, "10.1.0.0-16");
	CU_ASSERT_STRING_EQUAL(lease.subnet_text, "10.1.0.0/16");
	/* refused: the general path's message, the lease untouched */
	lease_fill(&lease);
	CU_ASSERT_EQUAL(lease_key_parse(ctx, "10.244.03.0-24", &lease), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "lease key '10.244.03.0-24': not a "
			       "subnet key like 10.244.3.0-24 or 10.244.3.0-24&fd00::-64");
	CU_ASSERT(lease_untouched(&lease));
	CU_ASSERT_EQUAL(lease_key_parse(ctx, "fd00:0::-64", &lease), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "lease key 'fd00:0::-64': not in "
			       "canonical form (want 'fd00::-64')");
	ovl_ctx_free(ctx);
	ctx = NULL;
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "fixed keys", test_fixed_keys },
		{ "long keys", test_long_keys },
		{ "every octet and length", test_every_octet_and_length },
		{ "100000 random keys", test_random_keys },
		{ "expected fields", test_expected_fields },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("lease key fast path", tests);
}
