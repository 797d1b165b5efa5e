/* test-etcd-base64.c - the base64 codec etcd's gateway needs: RFC 4648
 * vectors, every byte value, and the malformed inputs it must refuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/base64.h"

static void check_pair(const char *plain, const char *encoded)
{
	char *text = base64_encode(plain, strlen(plain)), *data = NULL;
	size_t size = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, encoded);
	CU_ASSERT_EQUAL(base64_decode(encoded, strlen(encoded), &data, &size), 0);
	CU_ASSERT_EQUAL(size, strlen(plain));
	CU_ASSERT_STRING_EQUAL(data, plain);
	free(text);
	free(data);
}

static void test_rfc4648_vectors(void)
{
	check_pair("", "");
	check_pair("f", "Zg==");
	check_pair("fo", "Zm8=");
	check_pair("foo", "Zm9v");
	check_pair("foob", "Zm9vYg==");
	check_pair("fooba", "Zm9vYmE=");
	check_pair("foobar", "Zm9vYmFy");
}

static void test_etcd_examples(void)
{
	/* from a real etcd 3.4 exchange (reference/env.md) */
	check_pair("/coreos.com/network/config", "L2NvcmVvcy5jb20vbmV0d29yay9jb25maWc=");
	check_pair("/coreos.com/network/subnets0", "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzMA==");
}

static void test_every_byte(void)
{
	unsigned char bytes[256];
	char *text, *data;
	size_t size, i;

	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(255 - i);
	text = base64_encode(bytes, sizeof(bytes));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), 344);
	CU_ASSERT_EQUAL_FATAL(base64_decode(text, strlen(text), &data, &size), 0);
	CU_ASSERT_EQUAL(size, sizeof(bytes));
	CU_ASSERT_EQUAL(memcmp(data, bytes, sizeof(bytes)), 0);
	CU_ASSERT_EQUAL(data[size], '\0');
	free(text);
	free(data);
}

static void test_refuses_malformed(void)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Zm9v!A==", "Zg==Zg==", "Z===", "====",
		"Zh==",		/* bits that fall off the end */
		"Zm9=",		/* the same for one pad */
		"Zm 9v", "Zm9v\n",
	};
	char *data = (char *)"untouched";
	size_t size, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(base64_decode(bad[i], strlen(bad[i]), &data, &size), -EINVAL);
		CU_ASSERT_STRING_EQUAL(data, "untouched");
	}
	/* a NUL inside the given length is a bad character, not an end */
	CU_ASSERT_EQUAL(base64_decode("Zm\0v", 4, &data, &size), -EINVAL);
}

static CU_TestInfo tests[] = {
	{ "RFC 4648 test vectors", test_rfc4648_vectors },
	{ "keys from a real etcd", test_etcd_examples },
	{ "all 256 byte values round-trip", test_every_byte },
	{ "malformed input is refused", test_refuses_malformed },
	CU_TEST_INFO_NULL,
};

void register_tests(void)
{
	harness_add_suite("base64", tests);
}
