/*
 * test-ctx.c - the context: creation, error messages, log callback and
 * level filter, ovl_strerror, version.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "core/internal.h"

struct captured {
	int calls;
	int level;
	char message[256];
};

static void capture(void *userdata, int level, const char *message)
{
	struct captured *seen = userdata;

	seen->calls++;
	seen->level = level;
	strncpy(seen->message, message, sizeof(seen->message) - 1);
}

static void test_new_free(void)
{
	struct ovl_ctx *ctx = NULL;

	CU_ASSERT_EQUAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "");
	ovl_ctx_free(ctx);
	ovl_ctx_free(NULL);
	CU_ASSERT_EQUAL(ovl_ctx_new(NULL), -EINVAL);
}

static void test_fail_records_message(void)
{
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ctx_fail(ctx, -EINVAL, "SubnetLen: must be less than /%d", 31), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "SubnetLen: must be less than /31");
	CU_ASSERT_EQUAL(ctx_fail_prefix(ctx, -EINVAL, "%s: ", "net-conf.json"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx),
			       "net-conf.json: SubnetLen: must be less than /31");
	ctx_clear_error(ctx);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "");
	ovl_ctx_free(ctx);
}

static void test_fail_truncates_long_message(void)
{
	struct ovl_ctx *ctx;
	char long_text[4000];

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	ctx_fail(ctx, -EINVAL, "%s", long_text);
	CU_ASSERT_EQUAL(strlen(ovl_ctx_error(ctx)), sizeof(ctx->error) - 1);
	ovl_ctx_free(ctx);
}

static void test_log_levels(void)
{
	struct ovl_ctx *ctx;
	struct captured seen = { 0 };

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	ctx_log(ctx, OVL_LOG_ERR, "nobody listens");
	CU_ASSERT_EQUAL(seen.calls, 0);
	ovl_ctx_set_log(ctx, OVL_LOG_INFO, capture, &seen);
	ctx_log(ctx, OVL_LOG_DEBUG, "too verbose");
	CU_ASSERT_EQUAL(seen.calls, 0);
	ctx_log(ctx, OVL_LOG_NOTICE, "peer %s added", "10.244.7.0/24");
	CU_ASSERT_EQUAL(seen.calls, 1);
	CU_ASSERT_EQUAL(seen.level, OVL_LOG_NOTICE);
	CU_ASSERT_STRING_EQUAL(seen.message, "peer 10.244.7.0/24 added");
	ovl_ctx_set_log(ctx, OVL_LOG_DEBUG, NULL, NULL);
	ctx_log(ctx, OVL_LOG_ERR, "silenced");
	CU_ASSERT_EQUAL(seen.calls, 1);
	ovl_ctx_free(ctx);
}

static void test_strerror(void)
{
	CU_ASSERT_STRING_EQUAL(ovl_strerror(-ENOSPC), "No space left on device");
	CU_ASSERT_STRING_EQUAL(ovl_strerror(ENOSPC), "No space left on device");
	CU_ASSERT_STRING_EQUAL(ovl_strerror(0), "Success");
	CU_ASSERT_STRING_EQUAL(ovl_strerror(-99999), "Unknown error");
	CU_ASSERT_PTR_EQUAL(ovl_strerror(-EPERM), ovl_strerror(-EPERM));
}

static void test_version(void)
{
	CU_ASSERT_STRING_EQUAL(ovl_version(), OVL_VERSION_STRING);
	CU_ASSERT_TRUE(OVL_CHECK_VERSION(0, 1, 0));
	CU_ASSERT_TRUE(OVL_CHECK_VERSION(0, 2, 0));
	CU_ASSERT_FALSE(OVL_CHECK_VERSION(0, 3, 0));
	CU_ASSERT_FALSE(OVL_CHECK_VERSION(1, 0, 0));
}

static void test_netns_name_rejected(void)
{
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_ctx_set_netns_name(ctx, "../etc"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "../etc"));
	CU_ASSERT_EQUAL(ovl_ctx_set_netns_name(ctx, ""), -EINVAL);
	CU_ASSERT_EQUAL(ovl_ctx_set_netns_name(ctx, "ovl-no-such-namespace-xyz"), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "ovl-no-such-namespace-xyz"));
	CU_ASSERT_EQUAL(ovl_ctx_set_netns(ctx, 9999), -EBADF);
	CU_ASSERT_EQUAL(ovl_ctx_set_netns(ctx, -1), 0);
	ovl_ctx_free(ctx);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "new and free", test_new_free },
		{ "ctx_fail records the message", test_fail_records_message },
		{ "long messages are truncated", test_fail_truncates_long_message },
		{ "log callback and level filter", test_log_levels },
		{ "ovl_strerror", test_strerror },
		{ "version macros and ovl_version", test_version },
		{ "netns names checked", test_netns_name_rejected },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("ctx", tests);
}
