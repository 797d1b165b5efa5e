/* test-etcd-uri.c - the etcd store URI: endpoints, prefix and every option,
 * and the specific message of each mistake (no connection is made). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/etcd/etcd.h"

static struct ovl_ctx *ctx;

static void test_defaults(void)
{
	struct etcd_client *client;

	CU_ASSERT_EQUAL_FATAL(etcd_client_open(ctx, "etcd://127.0.0.1:2379", &client), 0);
	CU_ASSERT_EQUAL_FATAL(client->endpoint_count, 1);
	CU_ASSERT_STRING_EQUAL(client->endpoints[0], "http://127.0.0.1:2379");
	CU_ASSERT_STRING_EQUAL(client->prefix, "/coreos.com/network");
	CU_ASSERT_EQUAL(client->timeout_ms, 5000);
	etcd_client_close(client);

	CU_ASSERT_EQUAL_FATAL(etcd_client_open(ctx, "etcd://etcd.local/", &client), 0);
	CU_ASSERT_STRING_EQUAL(client->endpoints[0], "http://etcd.local:2379");
	CU_ASSERT_STRING_EQUAL(client->prefix, "/coreos.com/network");
	etcd_client_close(client);
}

static void test_full(void)
{
	struct etcd_client *client;

	CU_ASSERT_EQUAL_FATAL(etcd_client_open(ctx, "etcds://10.0.0.1:2379,e2,[fd00::1]:2380"
					       "/my%20net/prefix//?cacert=/dev/null&cert=/dev/null"
					       "&key=/dev/null&timeout=1.5&connect_timeout=0.25",
					       &client), 0);
	CU_ASSERT_EQUAL_FATAL(client->endpoint_count, 3);
	CU_ASSERT_STRING_EQUAL(client->endpoints[0], "https://10.0.0.1:2379");
	CU_ASSERT_STRING_EQUAL(client->endpoints[1], "https://e2:2379");
	CU_ASSERT_STRING_EQUAL(client->endpoints[2], "https://[fd00::1]:2380");
	CU_ASSERT_STRING_EQUAL(client->prefix, "/my net/prefix");
	CU_ASSERT_STRING_EQUAL(client->cacert, "/dev/null");
	CU_ASSERT_EQUAL(client->timeout_ms, 1500);
	CU_ASSERT_EQUAL(client->connect_timeout_ms, 250);
	etcd_client_close(client);
}

static void expect_error(const char *uri, int err, const char *message)
{
	struct etcd_client *client = (struct etcd_client *)1;

	CU_ASSERT_EQUAL(etcd_client_open(ctx, uri, &client), err);
	CU_ASSERT_PTR_NULL(client);
	if (!strstr(ovl_ctx_error(ctx), message))
		fprintf(stderr, "\n%s: got '%s', want '%s'\n", uri, ovl_ctx_error(ctx), message);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), message));
}

static void test_errors(void)
{
	expect_error("http://h:2379", -EINVAL, "want etcd:// or etcds://");
	expect_error("etcd://", -EINVAL, "no endpoint");
	expect_error("etcd:///prefix", -EINVAL, "no endpoint");
	expect_error("etcd://h:0", -EINVAL, "bad endpoint 'h:0'");
	expect_error("etcd://h:65536", -EINVAL, "bad endpoint 'h:65536'");
	expect_error("etcd://h:", -EINVAL, "bad endpoint 'h:'");
	expect_error("etcd://a,,b", -EINVAL, "bad endpoint ''");
	expect_error("etcd://a,", -EINVAL, "empty endpoint");
	expect_error("etcd://[::1", -EINVAL, "bad endpoint '[::1'");
	expect_error("etcd://u@h:1", -EINVAL, "bad endpoint 'u@h:1'");
	expect_error("etcd://h?bogus=1", -EINVAL, "unknown option 'bogus'");
	expect_error("etcd://h?timeout", -EINVAL, "option 'timeout' has no value");
	expect_error("etcd://h?timeout=0", -EINVAL, "timeout=0");
	expect_error("etcd://h?timeout=2s", -EINVAL, "timeout=2s");
	expect_error("etcd://h?username=u", -EINVAL, "username and password go together");
	expect_error("etcd://h?password=p%4", -EINVAL, "bad %-escape");
	expect_error("etcd://h?cacert=/dev/null", -EINVAL, "need etcds://");
	expect_error("etcds://h?key=/dev/null", -EINVAL, "key given without cert");
	expect_error("etcds://h?cacert=/nonexistent/ca.pem", -ENOENT,
		     "cacert /nonexistent/ca.pem: No such file or directory");
}

static CU_TestInfo tests[] = {
	{ "defaults: port 2379, flannel's prefix", test_defaults },
	{ "several endpoints, TLS, prefix, options", test_full },
	{ "each mistake has its own message", test_errors },
	CU_TEST_INFO_NULL,
};

void register_tests(void)
{
	/* One context for the run; still reachable at exit, not a leak. */
	if (ovl_ctx_new(&ctx) < 0)
		exit(2);
	harness_add_suite("etcd URI", tests);
}
