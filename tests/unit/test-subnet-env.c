/*
 * test-subnet-env.c - flannel's subnet.env: the exact text written (only
 * the enabled families, base + 1 form, always an MTU), atomic replacement
 * and mode, reading flannel's own files (comma lists, quotes, comments,
 * export) and bad values as flanneld does, refusing malformed lines with
 * their line number, and refusing a struct shorter than in the first
 * release.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "core/internal.h"

static struct ovl_ctx *ctx;
static char dir[64], path[128];

static void setup(void)
{
	if (!ctx)
		ovl_ctx_new(&ctx);
	snprintf(dir, sizeof(dir), "/tmp/ovl-env-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/flannel/subnet.env", dir);
}

static void teardown(void)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(command), 0);
}

static char *slurp(const char *file)
{
	static char buf[2048];
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *text)
{
	FILE *f;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/run", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/run/flannel", dir);
	mkdir(sub, 0755);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void test_write(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT, back = OVL_SUBNET_ENV_INIT;
	struct stat st;
	char *text;

	setup();
	snprintf(env.network, sizeof(env.network), "10.244.0.0/16");
	/* the lease subnet: written as flannel does, base + 1 */
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.0/24");
	env.mtu = 1450;
	env.ipmasq = 1;
	CU_ASSERT_EQUAL_FATAL(ovl_subnet_env_write(ctx, path, &env), 0);
	text = slurp(path);
	CU_ASSERT_STRING_EQUAL(text, "FLANNEL_NETWORK=10.244.0.0/16\n"
				     "FLANNEL_SUBNET=10.244.3.1/24\n"
				     "FLANNEL_MTU=1450\n"
				     "FLANNEL_IPMASQ=true\n");
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &back), 0);
	CU_ASSERT_STRING_EQUAL(back.subnet, "10.244.3.1/24");
	CU_ASSERT_EQUAL(back.mtu, 1450);
	CU_ASSERT_EQUAL(back.ipmasq, 1);

	/* dual stack; an address already in base + 1 form is kept */
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.1/24");
	snprintf(env.ipv6_network, sizeof(env.ipv6_network), "2001:cafe:42::/56");
	snprintf(env.ipv6_subnet, sizeof(env.ipv6_subnet), "2001:cafe:42:3::/64");
	env.ipmasq = 0;
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(slurp(path), "FLANNEL_NETWORK=10.244.0.0/16\n"
					    "FLANNEL_SUBNET=10.244.3.1/24\n"
					    "FLANNEL_IPV6_NETWORK=2001:cafe:42::/56\n"
					    "FLANNEL_IPV6_SUBNET=2001:cafe:42:3::1/64\n"
					    "FLANNEL_MTU=1450\n"
					    "FLANNEL_IPMASQ=false\n");
	/* IPv6 only: no IPv4 lines */
	env.network[0] = env.subnet[0] = '\0';
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), 0);
	CU_ASSERT_PTR_NULL(strstr(slurp(path), "FLANNEL_SUBNET="));
	CU_ASSERT_PTR_NOT_NULL(strstr(slurp(path), "FLANNEL_IPV6_SUBNET="));
	/* no temporary file is left beside it */
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), 0);
	teardown();
}

static void test_write_rejects(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	setup();
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.0/33");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "FLANNEL_SUBNET"));
	snprintf(env.subnet, sizeof(env.subnet), "fd00::/64");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "IPv4"));
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.0/24");
	snprintf(env.network, sizeof(env.network), "10.244.0.0/16,banana");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "FLANNEL_NETWORK"));
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	env.size = 0;
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	teardown();
}

/* Files as flannel writes them and as its documentation shows them. */
static void test_read_flannel_files(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	setup();
	/* Documentation/running.md */
	spit("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	     "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
	CU_ASSERT_EQUAL_FATAL(ovl_subnet_env_read(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(env.network, "10.1.0.0/16");
	CU_ASSERT_STRING_EQUAL(env.subnet, "10.1.17.1/24");
	CU_ASSERT_STRING_EQUAL(env.ipv6_network, "");
	CU_ASSERT_EQUAL(env.mtu, 1472);
	CU_ASSERT_EQUAL(env.ipmasq, 0);
	/* a dual-stack node (k3s, flannel >= 0.15) */
	spit("FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\n"
	     "FLANNEL_IPV6_NETWORK=2001:cafe:42::/56\nFLANNEL_IPV6_SUBNET=2001:cafe:42::1/64\n"
	     "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(env.ipv6_network, "2001:cafe:42::/56");
	CU_ASSERT_STRING_EQUAL(env.ipv6_subnet, "2001:cafe:42::1/64");
	CU_ASSERT_EQUAL(env.ipmasq, 1);
	/* comma lists of networks (multi-network flannel), dotenv syntax */
	spit("# written by flanneld\n\nexport FLANNEL_NETWORK=\"10.1.0.0/16,10.2.0.0/16\"\r\n"
	     "FLANNEL_SUBNET = '10.1.17.1/24'  # ours\n  FLANNEL_MTU=8951 # jumbo\n"
	     "FLANNEL_IPMASQ=true\nOTHER_VARIABLE=whatever you like\n");
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(env.network, "10.1.0.0/16,10.2.0.0/16");
	CU_ASSERT_STRING_EQUAL(env.subnet, "10.1.17.1/24");
	CU_ASSERT_EQUAL(env.mtu, 8951);
	CU_ASSERT_EQUAL(env.ipmasq, 1);
	teardown();
}

static void test_read_rejects(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET\n", ":2: expected NAME=VALUE" },
		{ "FLANNEL_SUBNET=10.1.17.1/24\n\n\nFLANNEL_MTU=big\n", ":4: FLANNEL_MTU: expected an MTU" },
		{ "FLANNEL_NETWORK=10.1.0.0/16,,10.2.0.0/16\n", ":1: FLANNEL_NETWORK" },
		{ "FLANNEL_SUBNET=\"10.1.17.1/24\n", ":1: FLANNEL_SUBNET: unterminated" },
		{ "# ok\n=10.1.0.0/16\n", ":2: expected a variable name" },
		{ "9LIVES=1\n", ":1: expected a variable name" },
	};
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	size_t i;

	setup();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		spit(bad[i].text);
		env.mtu = 7;
		CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), path));
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), bad[i].why));
		if (!strstr(ovl_ctx_error(ctx), bad[i].why))
			printf("\n   got: %s\n", ovl_ctx_error(ctx));
		/* a failed read leaves the caller's struct alone */
		CU_ASSERT_EQUAL(env.mtu, 7);
	}
	teardown();
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), path));
}

/* What flanneld and its CNI plugin make of values they cannot use: a
 * subnet they cannot parse is no previous subnet (main.go
 * ReadCIDRsFromSubnetFile), FLANNEL_IPMASQ is true only as "true"
 * (cni-plugin flannel.go:190). */
static void test_read_as_flannel(void)
{
	static const char *const not_true[] = { "True", "TRUE", "1", "t", "yes", "perhaps", "" };
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	char text[128];
	size_t i;

	setup();
	spit("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1\n"
	     "FLANNEL_IPV6_SUBNET=10.1.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(env.network, "10.1.0.0/16");
	CU_ASSERT_STRING_EQUAL(env.subnet, "");
	CU_ASSERT_STRING_EQUAL(env.ipv6_subnet, "");
	CU_ASSERT_EQUAL(env.mtu, 1450);
	CU_ASSERT_EQUAL(env.ipmasq, 1);
	spit("FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_SUBNET=fd00::1/64\n");
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), 0);
	CU_ASSERT_STRING_EQUAL(env.subnet, "");
	for (i = 0; i < ARRAY_SIZE(not_true); i++) {
		snprintf(text, sizeof(text), "FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_IPMASQ=%s\n",
			 not_true[i]);
		spit(text);
		env.ipmasq = 1;
		CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), 0);
		CU_ASSERT_EQUAL(env.ipmasq, 0);
	}
	teardown();
}

/* flanneld always writes FLANNEL_MTU and flannel's CNI plugin needs it:
 * a file without one is never written. */
static void test_write_needs_mtu(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	setup();
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.0/24");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "FLANNEL_MTU: 0"));
	env.mtu = 67;
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	env.mtu = 68;
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(slurp(path), "FLANNEL_MTU=68\n"));
	teardown();
}

/* A struct shorter than in libovl 0.1, the first release, was never any
 * header's: both calls refuse it and leave it alone (ovl(3), the size rule). */
static void test_short_struct(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	size_t short_size = offsetof(struct ovl_subnet_env, ipv6_network);

	setup();
	spit("FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_IPV6_SUBNET=fd00::1/64\nFLANNEL_MTU=1400\n");
	env.size = short_size;
	CU_ASSERT_EQUAL(ovl_subnet_env_read(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "ovl_subnet_env_read"));
	CU_ASSERT_EQUAL(env.size, short_size);
	CU_ASSERT_STRING_EQUAL(env.subnet, "");
	snprintf(env.subnet, sizeof(env.subnet), "10.1.18.0/24");
	CU_ASSERT_EQUAL(ovl_subnet_env_write(ctx, path, &env), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(slurp(path), "10.1.17.1/24"));
	teardown();
	ovl_ctx_free(ctx);
	ctx = NULL;
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "write", test_write },
		{ "write rejects", test_write_rejects },
		{ "read flannel's files", test_read_flannel_files },
		{ "read rejects malformed lines", test_read_rejects },
		{ "read as flanneld and its CNI plugin", test_read_as_flannel },
		{ "write needs an MTU", test_write_needs_mtu },
		{ "a struct shorter than 0.1's is refused", test_short_struct },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("subnet.env", tests);
}
