/*
 * test-masq.c - ovl_masq_* input checks: every bad argument is refused
 * with -EINVAL and a message naming it, before nftables is touched (so no
 * root is needed).  The rules themselves are tested in
 * tests/netns/test-masq.sh.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "ovl.h"

struct bad_input {
	const char *network, *subnet;
	unsigned int flags;
	const char *message;
};

static const struct bad_input bad_inputs[] = {
	{ NULL, "10.244.3.0/24", 0, "network: '(null)' is not a prefix" },
	{ "10.244.0.0", "10.244.3.0/24", 0, "network: '10.244.0.0' is not a prefix" },
	{ "10.244.0.0/16", "banana", 0, "subnet: 'banana' is not a prefix" },
	{ "0.0.0.0/0", "10.244.3.0/24", 0, "network: 0.0.0.0/0 covers every address" },
	{ "10.244.0.0/16", "10.245.3.0/24", 0,
	  "subnet: 10.245.3.0/24 is not inside the network 10.244.0.0/16" },
	{ "10.244.0.0/16", "fd00::/64", 0,
	  "subnet: fd00::/64 is not of the network 10.244.0.0/16's family" },
	{ "10.244.0.0/16", "10.244.3.0/24", 0x80, "flags: unknown bits 0x80" },
};

static void test_bad_input(void)
{
	struct ovl_ctx *ctx;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad_input *bad = &bad_inputs[i];

		CU_ASSERT_EQUAL(ovl_masq_apply(ctx, bad->network, bad->subnet, bad->flags),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), bad->message);
		CU_ASSERT_EQUAL(ovl_masq_check(ctx, bad->network, bad->subnet, bad->flags),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), bad->message);
	}
	ovl_ctx_free(ctx);
}

static void test_bad_family(void)
{
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_masq_remove(ctx, AF_UNIX), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "family: 1 "));
	ovl_ctx_free(ctx);
}

static void test_null_ctx(void)
{
	CU_ASSERT_EQUAL(ovl_masq_apply(NULL, "10.244.0.0/16", "10.244.3.0/24", 0), -EINVAL);
	CU_ASSERT_EQUAL(ovl_masq_check(NULL, "10.244.0.0/16", "10.244.3.0/24", 0), -EINVAL);
	CU_ASSERT_EQUAL(ovl_masq_remove(NULL, 0), -EINVAL);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "bad network, subnet and flags", test_bad_input },
		{ "bad family for remove", test_bad_family },
		{ "NULL context", test_null_ctx },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("masq", tests);
}
