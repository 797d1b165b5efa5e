/*
 * test-config.c - unit tests of config.c: flannel's net-conf.json rules
 * (defaults, derived values, every error and its message), real configs
 * from flannel's documentation and manifests, the effective-config JSON and
 * loading from files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "harness.h"
#include "ovl.h"

/* Parses json, which the test expects to be valid; NULL after a failure. */
static struct ovl_config *parse_ok(const char *json)
{
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;
	int err;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	err = ovl_config_parse(ctx, json, &config);
	if (err)
		fprintf(stderr, "\nunexpected error %d for %s: %s\n", err, json,
			ovl_ctx_error(ctx));
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL(config);
	ovl_ctx_free(ctx);
	return config;
}

/* Asserts that json is refused with -EINVAL and exactly this message, and
 * that the output pointer is left alone. */
static void expect_error(const char *json, const char *message)
{
	struct ovl_config *config = (struct ovl_config *)&config;
	struct ovl_ctx *ctx;
	int err;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	err = ovl_config_parse(ctx, json, &config);
	CU_ASSERT_EQUAL(err, -EINVAL);
	CU_ASSERT_PTR_EQUAL(config, (struct ovl_config *)&config);
	if (strcmp(ovl_ctx_error(ctx), message))
		fprintf(stderr, "\nfor %s\n  want: %s\n  got:  %s\n", json, message,
			ovl_ctx_error(ctx));
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), message);
	if (err == 0)
		ovl_config_free(config);
	ovl_ctx_free(ctx);
}

static void check_prefix(const struct ovl_prefix *prefix, const char *expected)
{
	char text[OVL_PREFIX_STRLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(prefix);
	CU_ASSERT_TRUE(ovl_prefix_format(prefix, text, sizeof(text)) > 0);
	CU_ASSERT_STRING_EQUAL(text, expected);
}

static void check_addr(const struct ovl_prefix *addr, const char *expected)
{
	char text[OVL_PREFIX_STRLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(addr);
	CU_ASSERT_TRUE(ovl_addr_format(addr, text, sizeof(text)) > 0);
	CU_ASSERT_STRING_EQUAL(text, expected);
}

/* Asserts one family's effective network, subnet length, min and max. */
static void check_family(const struct ovl_config *config, int family, const char *network,
			 unsigned int subnet_len, const char *min, const char *max)
{
	CU_ASSERT_TRUE(ovl_config_family_enabled(config, family));
	check_prefix(ovl_config_network(config, family), network);
	CU_ASSERT_EQUAL(ovl_config_subnet_len(config, family), subnet_len);
	check_addr(ovl_config_subnet_min(config, family), min);
	check_addr(ovl_config_subnet_max(config, family), max);
}

static void check_disabled(const struct ovl_config *config, int family)
{
	CU_ASSERT_FALSE(ovl_config_family_enabled(config, family));
	CU_ASSERT_PTR_NULL(ovl_config_network(config, family));
	CU_ASSERT_EQUAL(ovl_config_subnet_len(config, family), 0);
	CU_ASSERT_PTR_NULL(ovl_config_subnet_min(config, family));
	CU_ASSERT_PTR_NULL(ovl_config_subnet_max(config, family));
}

static void check_json(const char *input, const char *expected)
{
	struct ovl_config *config = parse_ok(input);
	char *json;

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	json = ovl_config_to_json(config);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	if (strcmp(json, expected))
		fprintf(stderr, "\nwant: %s\ngot:  %s\n", expected, json);
	CU_ASSERT_STRING_EQUAL(json, expected);
	ovl_free(json);
	ovl_config_free(config);
}

/* ---- real configurations ------------------------------------------------ */

/* kube-flannel.yml's net-conf.json. */
static void test_flannel_manifest(void)
{
	struct ovl_config *config =
		parse_ok("{\n  \"Network\": \"10.244.0.0/16\",\n  \"Backend\": {\n"
			 "    \"Type\": \"vxlan\"\n  }\n}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	check_disabled(config, AF_INET6);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	CU_ASSERT_EQUAL(ovl_config_vni(config), 1);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8472);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 0);
	CU_ASSERT_FALSE(ovl_config_gbp(config));
	CU_ASSERT_FALSE(ovl_config_learning(config));
	CU_ASSERT_FALSE(ovl_config_direct_routing(config));
	CU_ASSERT_FALSE(ovl_config_enable_nftables(config));
	ovl_config_free(config);
}

/* Documentation/configuration.md's example: most options, udp backend. */
static void test_flannel_docs_udp_example(void)
{
	struct ovl_config *config =
		parse_ok("{\n\t\"Network\": \"10.0.0.0/8\",\n\t\"SubnetLen\": 20,\n"
			 "\t\"SubnetMin\": \"10.10.0.0\",\n\t\"SubnetMax\": \"10.99.0.0\",\n"
			 "\t\"Backend\": {\n\t\t\"Type\": \"udp\",\n\t\t\"Port\": 7890\n\t}\n}\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.0.0.0/8", 20, "10.10.0.0", "10.99.0.0");
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "udp");
	CU_ASSERT_EQUAL(ovl_config_port(config), 7890);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 0);
	ovl_config_free(config);
}

/* The dual-stack example of Documentation/configuration.md. */
static void test_flannel_docs_dual_stack(void)
{
	struct ovl_config *config =
		parse_ok("{\"EnableIPv6\": true, \"Network\": \"10.42.0.0/16\", "
			 "\"IPv6Network\": \"2001:cafe:42:0::/56\", \"Backend\": {\"Type\": \"vxlan\"}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.42.0.0/16", 24, "10.42.1.0", "10.42.255.0");
	check_family(config, AF_INET6, "2001:cafe:42::/56", 64, "2001:cafe:42:1::",
		     "2001:cafe:42:ff::");
	ovl_config_free(config);
}

/* k3s writes an unused "::/0" IPv6Network with IPv6 disabled. */
static void test_k3s_config(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.42.0.0/16\", \"EnableIPv6\": false, "
			 "\"EnableIPv4\": true, \"IPv6Network\": \"::/0\", \"Backend\": "
			 "{\"Type\": \"vxlan\", \"VNI\": 1, \"Port\": 8472, \"MTU\": 1280}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_disabled(config, AF_INET6);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 1280);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8472);
	ovl_config_free(config);
}

/* ---- defaults -------------------------------------------------------------- */

static void test_subnet_len_default_24(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.0.0.0/22\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.0.0.0/22", 24, "10.0.1.0", "10.0.3.0");
	ovl_config_free(config);
	config = parse_ok("{\"Network\": \"10.0.0.0/8\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0");
	ovl_config_free(config);
}

static void test_subnet_len_default_small_network(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.0.0.0/23\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.0.0.0/23", 25, "10.0.0.128", "10.0.1.128");
	ovl_config_free(config);
	config = parse_ok("{\"Network\": \"192.168.7.16/28\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "192.168.7.16/28", 30, "192.168.7.20", "192.168.7.28");
	ovl_config_free(config);
}

static void test_subnet_len_explicit(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 26}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 26, "10.244.0.64", "10.244.255.192");
	ovl_config_free(config);
}

static void test_subnet_len_zero_is_default(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 0}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_subnet_len(config, AF_INET), 24);
	ovl_config_free(config);
}

static void test_ipv6_subnet_len_defaults(void)
{
	static const struct {
		const char *network, *min, *max;
		unsigned int len;
	} cases[] = {
		{ "fd00::/62", "fd00:0:0:1::", "fd00:0:0:3::", 64 },
		{ "fd00::/63", "fd00::8000:0:0:0", "fd00:0:0:1:8000::", 65 },
		{ "fd00::/124", "fd00::4", "fd00::c", 126 },
	};
	char json[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ovl_config *config;

		snprintf(json, sizeof(json),
			 "{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"%s\"}",
			 cases[i].network);
		config = parse_ok(json);
		CU_ASSERT_PTR_NOT_NULL_FATAL(config);
		check_family(config, AF_INET6, cases[i].network, cases[i].len, cases[i].min,
			     cases[i].max);
		ovl_config_free(config);
	}
}

/* More subnets than a 64-bit index counts: the last one is still right. */
static void test_ipv6_huge_subnet_count(void)
{
	struct ovl_config *config =
		parse_ok("{\"EnableIPv6\": true, \"Network\": \"10.0.0.0/8\", "
			 "\"IPv6Network\": \"fd00::/32\", \"IPv6SubnetLen\": 112}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET6, "fd00::/32", 112, "fd00::1:0",
		     "fd00:0:ffff:ffff:ffff:ffff:ffff:0");
	ovl_config_free(config);
}

static void test_network_is_masked(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.3.7/16\", \"EnableIPv6\": true, "
			 "\"IPv6Network\": \"fd00:1:2:3::9/48\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	check_family(config, AF_INET6, "fd00:1:2::/48", 64, "fd00:1:2:1::", "fd00:1:2:ffff::");
	ovl_config_free(config);
}

/* flannel reads the zero address as "not set". */
static void test_zero_min_max_is_default(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"0.0.0.0\", "
			 "\"SubnetMax\": \"0.0.0.0\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	ovl_config_free(config);
}

static void test_ipv6_min_max_explicit(void)
{
	struct ovl_config *config =
		parse_ok("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": "
			 "\"fd00::/48\", \"IPv6SubnetMin\": \"fd00:0:0:10::\", "
			 "\"IPv6SubnetMax\": \"fd00:0:0:20::\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET6, "fd00::/48", 64, "fd00:0:0:10::", "fd00:0:0:20::");
	ovl_config_free(config);
}

static void test_min_equal_max(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.5.0\", "
			 "\"SubnetMax\": \"10.244.5.0\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 24, "10.244.5.0", "10.244.5.0");
	ovl_config_free(config);
}

/* ---- backends ---------------------------------------------------------------- */

static void test_backend_absent_is_vxlan(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.244.0.0/16\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	CU_ASSERT_EQUAL(ovl_config_vni(config), 1);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8472);
	ovl_config_free(config);
}

static void test_backend_without_type_is_vxlan(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": 7}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	CU_ASSERT_EQUAL(ovl_config_vni(config), 7);
	ovl_config_free(config);
}

/* flannel lower-cases the type. */
static void test_backend_type_any_case(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"Host-GW\"}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "host-gw");
	ovl_config_free(config);
	config = parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"VXLAN\"}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	ovl_config_free(config);
}

/* host-gw decodes no option, so not even a wrong type is an error. */
static void test_backend_host_gw(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"host-gw\", "
			 "\"VNI\": \"x\", \"Port\": 99999, \"MTU\": 1400, \"DirectRouting\": true}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "host-gw");
	CU_ASSERT_EQUAL(ovl_config_vni(config), 0);
	CU_ASSERT_EQUAL(ovl_config_port(config), 0);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 0);
	CU_ASSERT_FALSE(ovl_config_direct_routing(config));
	ovl_config_free(config);
}

static void test_backend_udp_default_port(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\", \"VNI\": 5}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "udp");
	CU_ASSERT_EQUAL(ovl_config_port(config), 8285);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 0);
	ovl_config_free(config);
}

static void test_port_zero_is_default(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\", \"Port\": 0}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8285);
	ovl_config_free(config);
	config = parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", \"Port\": 0}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8472);
	ovl_config_free(config);
}

static void test_vxlan_options(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", "
			 "\"VNI\": 16777215, \"Port\": 4789, \"MTU\": 1400, \"GBP\": true, "
			 "\"Learning\": true, \"DirectRouting\": true}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 16777215);
	CU_ASSERT_EQUAL(ovl_config_port(config), 4789);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 1400);
	CU_ASSERT_TRUE(ovl_config_gbp(config));
	CU_ASSERT_TRUE(ovl_config_learning(config));
	CU_ASSERT_TRUE(ovl_config_direct_routing(config));
	ovl_config_free(config);
}

/* flannel presets VNI 1 and lets the file override it: "VNI": 0 is 0. */
static void test_vni_zero_is_zero(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": 0}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 0);
	ovl_config_free(config);
	config = parse_ok("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": null}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 1);
	ovl_config_free(config);
}

/* ---- keys as Go's encoding/json matches them ------------------------------- */

static void test_keys_case_insensitive(void)
{
	struct ovl_config *config =
		parse_ok("{\"network\": \"10.244.0.0/16\", \"SUBNETLEN\": 25, \"subnetmin\": "
			 "\"10.244.0.128\", \"SubNetMax\": \"10.244.1.0\", \"enableipv6\": true, "
			 "\"IPV6NETWORK\": \"fd00::/48\", \"ipv6subnetlen\": 80, "
			 "\"enablenftables\": true, \"ENABLEIPV4\": true}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_family(config, AF_INET, "10.244.0.0/16", 25, "10.244.0.128", "10.244.1.0");
	check_family(config, AF_INET6, "fd00::/48", 80, "fd00::1:0:0:0", "fd00:0:0:ffff:ffff::");
	CU_ASSERT_TRUE(ovl_config_enable_nftables(config));
	ovl_config_free(config);
}

static void test_backend_keys_case_insensitive(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"backend\": {\"TYPE\": \"vxlan\", "
			 "\"vni\": 4, \"PORT\": 4789, \"mtu\": 1450, \"Gbp\": true, "
			 "\"LEARNING\": true, \"directRouting\": true}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 4);
	CU_ASSERT_EQUAL(ovl_config_port(config), 4789);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 1450);
	CU_ASSERT_TRUE(ovl_config_gbp(config));
	CU_ASSERT_TRUE(ovl_config_learning(config));
	CU_ASSERT_TRUE(ovl_config_direct_routing(config));
	ovl_config_free(config);
}

static void test_last_key_wins(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.1.0.0/16\", \"network\": \"10.2.0.0/16\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_prefix(ovl_config_network(config, AF_INET), "10.2.0.0/16");
	ovl_config_free(config);
}

/* null leaves a Go field alone: the default, or an earlier value. */
static void test_null_keeps_default(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 26, \"subnetlen\": null, "
			 "\"EnableIPv4\": null, \"Backend\": null, \"EnableIPv6\": null}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_subnet_len(config, AF_INET), 26);
	CU_ASSERT_TRUE(ovl_config_family_enabled(config, AF_INET));
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	ovl_config_free(config);
}

static void test_unknown_keys_ignored(void)
{
	struct ovl_config *config =
		parse_ok("{\"Network\": \"10.244.0.0/16\", \"Networks\": [1], \"Foo\": {}, "
			 "\"Backend\": {\"Type\": \"vxlan\", \"MacPrefix\": \"0E-2A\", \"Name\": 3}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	ovl_config_free(config);
}

/* ---- families -------------------------------------------------------------- */

static void test_ipv6_only(void)
{
	struct ovl_config *config =
		parse_ok("{\"EnableIPv4\": false, \"EnableIPv6\": true, "
			 "\"IPv6Network\": \"fc00::/48\", \"Backend\": {\"Type\": \"vxlan\"}}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_disabled(config, AF_INET);
	check_family(config, AF_INET6, "fc00::/48", 64, "fc00:0:0:1::", "fc00:0:0:ffff::");
	ovl_config_free(config);
}

/* flannel checks the rules of enabled families only. */
static void test_disabled_family_not_checked(void)
{
	struct ovl_config *config =
		parse_ok("{\"EnableIPv4\": false, \"Network\": \"10.0.0.0/30\", \"SubnetLen\": 99, "
			 "\"EnableIPv6\": true, \"IPv6Network\": \"fd00::/64\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_disabled(config, AF_INET);
	ovl_config_free(config);
}

static void test_accessors_without_config(void)
{
	struct ovl_config *config = parse_ok("{\"Network\": \"10.244.0.0/16\"}");

	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_disabled(config, AF_UNIX);
	check_disabled(NULL, AF_INET);
	CU_ASSERT_PTR_NULL(ovl_config_backend_type(NULL));
	CU_ASSERT_EQUAL(ovl_config_port(NULL), 0);
	CU_ASSERT_EQUAL(ovl_config_vni(NULL), 0);
	CU_ASSERT_PTR_NULL(ovl_config_to_json(NULL));
	ovl_config_free(NULL);
	ovl_config_free(config);
}

/* ---- the effective configuration as JSON ---------------------------------- */

static void test_to_json_vxlan(void)
{
	check_json("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}",
		   "{\"enable_ipv4\": true, \"network\": \"10.244.0.0/16\", \"subnet_len\": 24, "
		   "\"subnet_min\": \"10.244.1.0\", \"subnet_max\": \"10.244.255.0\", "
		   "\"enable_ipv6\": false, \"backend\": {\"type\": \"vxlan\", \"vni\": 1, "
		   "\"port\": 8472, \"mtu\": 0, \"gbp\": false, \"learning\": false, "
		   "\"direct_routing\": false}, \"enable_nftables\": false}");
}

static void test_to_json_dual_stack_host_gw(void)
{
	check_json("{\"EnableNFTables\": true, \"EnableIPv6\": true, \"Network\": \"10.42.0.0/16\", "
		   "\"SubnetLen\": 20, \"IPv6Network\": \"2001:cafe:42::/56\", "
		   "\"Backend\": {\"Type\": \"host-gw\"}}",
		   "{\"enable_ipv4\": true, \"network\": \"10.42.0.0/16\", \"subnet_len\": 20, "
		   "\"subnet_min\": \"10.42.16.0\", \"subnet_max\": \"10.42.240.0\", "
		   "\"enable_ipv6\": true, \"ipv6_network\": \"2001:cafe:42::/56\", "
		   "\"ipv6_subnet_len\": 64, \"ipv6_subnet_min\": \"2001:cafe:42:1::\", "
		   "\"ipv6_subnet_max\": \"2001:cafe:42:ff::\", \"backend\": {\"type\": \"host-gw\"}, "
		   "\"enable_nftables\": true}");
}

static void test_to_json_udp_ipv6_only(void)
{
	check_json("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/120\", "
		   "\"Backend\": {\"Type\": \"udp\"}}",
		   "{\"enable_ipv4\": false, \"enable_ipv6\": true, \"ipv6_network\": \"fd00::/120\", "
		   "\"ipv6_subnet_len\": 122, \"ipv6_subnet_min\": \"fd00::40\", "
		   "\"ipv6_subnet_max\": \"fd00::c0\", \"backend\": {\"type\": \"udp\", "
		   "\"port\": 8285}, \"enable_nftables\": false}");
}

/* ---- errors: syntax and types ---------------------------------------------- */

static void test_error_invalid_json(void)
{
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;
	const char *want = "invalid JSON at line 2, column ";

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "{\"Network\": \"10.244.0.0/16\",\n  ]", &config),
			-EINVAL);
	CU_ASSERT_PTR_NULL(config);
	CU_ASSERT_EQUAL(strncmp(ovl_ctx_error(ctx), want, strlen(want)), 0);
	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "", &config), -EINVAL);
	CU_ASSERT_EQUAL(strncmp(ovl_ctx_error(ctx), "invalid JSON at line 1", 22), 0);
	CU_ASSERT_EQUAL(ovl_config_parse(ctx, "{\"Network\": \"10.244.0.0/16\"} x", &config),
			-EINVAL);
	CU_ASSERT_EQUAL(strncmp(ovl_ctx_error(ctx), "invalid JSON", 12), 0);
	CU_ASSERT_PTR_NULL(config);
	ovl_ctx_free(ctx);
}

static void test_error_not_object(void)
{
	expect_error("[{\"Network\": \"10.244.0.0/16\"}]",
		     "net-conf.json: must be a JSON object, not an array");
	expect_error("\"10.244.0.0/16\"", "net-conf.json: must be a JSON object, not a string");
	expect_error("null", "net-conf.json: must be a JSON object, not null");
}

static void test_error_null_arguments(void)
{
	struct ovl_config *config = NULL;

	CU_ASSERT_EQUAL(ovl_config_parse(NULL, NULL, &config), -EINVAL);
	CU_ASSERT_EQUAL(ovl_config_parse(NULL, "{}", NULL), -EINVAL);
	CU_ASSERT_EQUAL(ovl_config_load(NULL, NULL, &config), -EINVAL);
	CU_ASSERT_PTR_NULL(config);
	/* Without a ctx the error is still returned. */
	CU_ASSERT_EQUAL(ovl_config_parse(NULL, "{}", &config), -EINVAL);
	CU_ASSERT_PTR_NULL(config);
}

static void test_error_network_type(void)
{
	expect_error("{\"Network\": 10}", "Network: must be a string, not an integer");
	expect_error("{\"Network\": [\"10.0.0.0/8\"]}", "Network: must be a string, not an array");
	expect_error("{\"EnableIPv6\": true, \"Network\": \"10.0.0.0/8\", \"IPv6Network\": true}",
		     "IPv6Network: must be a string, not true");
}

static void test_error_bool_type(void)
{
	expect_error("{\"Network\": \"10.0.0.0/8\", \"EnableIPv6\": \"true\"}",
		     "EnableIPv6: must be true or false, not a string");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"EnableIPv4\": 1}",
		     "EnableIPv4: must be true or false, not an integer");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"EnableNFTables\": {}}",
		     "EnableNFTables: must be true or false, not an object");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"Backend\": {\"GBP\": 1}}",
		     "Backend.GBP: must be true or false, not an integer");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"Backend\": {\"Learning\": \"yes\"}}",
		     "Backend.Learning: must be true or false, not a string");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"Backend\": {\"DirectRouting\": 0}}",
		     "Backend.DirectRouting: must be true or false, not an integer");
}

static void test_error_subnet_len_type(void)
{
	expect_error("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": \"24\"}",
		     "SubnetLen: must be an integer, not a string");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": 24.0}",
		     "SubnetLen: must be an integer, not a fraction");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": -1}",
		     "SubnetLen: must not be negative (-1)");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"IPv6SubnetLen\": false}",
		     "IPv6SubnetLen: must be an integer, not false");
}

/* ---- errors: networks ---------------------------------------------------- */

static void test_error_missing_network(void)
{
	expect_error("{}", "Network: missing (required when IPv4 is enabled)");
	expect_error("{\"Network\": null, \"Backend\": {\"Type\": \"vxlan\"}}",
		     "Network: missing (required when IPv4 is enabled)");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": true}",
		     "IPv6Network: missing (required when IPv6 is enabled)");
}

static void test_error_network_not_cidr(void)
{
	expect_error("{\"Network\": \"10.244.0.0\"}", "Network: '10.244.0.0' is not a CIDR prefix");
	expect_error("{\"Network\": \"10.244.0.0/33\"}",
		     "Network: '10.244.0.0/33' is not a CIDR prefix");
	expect_error("{\"Network\": \"\"}", "Network: '' is not a CIDR prefix");
}

static void test_error_network_wrong_family(void)
{
	expect_error("{\"Network\": \"fd00::/64\"}", "Network: fd00::/64 is not an IPv4 prefix");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"IPv6Network\": \"10.0.0.0/8\"}",
		     "IPv6Network: 10.0.0.0/8 is not an IPv6 prefix");
}

static void test_error_network_too_small(void)
{
	expect_error("{\"Network\": \"10.0.0.0/29\"}",
		     "Network: 10.0.0.0/29 is too small, the minimum useful prefix is /28");
	expect_error("{\"Network\": \"10.0.0.0/32\", \"SubnetLen\": 30}",
		     "Network: 10.0.0.0/32 is too small, the minimum useful prefix is /28");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/125\"}",
		     "IPv6Network: fd00::/125 is too small, the minimum useful prefix is /124");
}

static void test_error_subnet_len_too_long(void)
{
	expect_error("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": 31}",
		     "SubnetLen: must be less than /31");
	expect_error("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": 4294967295}",
		     "SubnetLen: must be less than /31");
	expect_error("{\"EnableIPv6\": true, \"Network\": \"10.0.0.0/8\", "
		     "\"IPv6Network\": \"fd00::/48\", \"IPv6SubnetLen\": 127}",
		     "IPv6SubnetLen: must be less than /127");
}

static void test_error_fewer_than_four_subnets(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 17}",
		     "SubnetLen: /17 leaves fewer than 4 subnets in 10.244.0.0/16 (must be at least /18)");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 8}",
		     "SubnetLen: /8 leaves fewer than 4 subnets in 10.244.0.0/16 (must be at least /18)");
	expect_error("{\"EnableIPv6\": true, \"Network\": \"10.0.0.0/8\", "
		     "\"IPv6Network\": \"fd00::/64\", \"IPv6SubnetLen\": 65}",
		     "IPv6SubnetLen: /65 leaves fewer than 4 subnets in fd00::/64 (must be at least /66)");
}

/* ---- errors: SubnetMin and SubnetMax -------------------------------------------- */

static void test_error_min_max_outside(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.245.0.0\"}",
		     "SubnetMin: 10.245.0.0 is not inside the network 10.244.0.0/16");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMax\": \"10.243.255.0\"}",
		     "SubnetMax: 10.243.255.0 is not inside the network 10.244.0.0/16");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/48\", "
		     "\"IPv6SubnetMax\": \"fd01::\"}",
		     "IPv6SubnetMax: fd01:: is not inside the network fd00::/48");
}

static void test_error_min_max_unaligned(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.1.5\"}",
		     "SubnetMin: 10.244.1.5 is not on a /24 boundary");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 26, \"SubnetMax\": \"10.244.9.32\"}",
		     "SubnetMax: 10.244.9.32 is not on a /26 boundary");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/48\", "
		     "\"IPv6SubnetMin\": \"fd00:0:0:1::1\"}",
		     "IPv6SubnetMin: fd00:0:0:1::1 is not on a /64 boundary");
}

static void test_error_min_above_max(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.9.0\", "
		     "\"SubnetMax\": \"10.244.3.0\"}",
		     "SubnetMin: 10.244.9.0 is above SubnetMax 10.244.3.0");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/48\", "
		     "\"IPv6SubnetMin\": \"fd00:0:0:9::\", \"IPv6SubnetMax\": \"fd00:0:0:3::\"}",
		     "IPv6SubnetMin: fd00:0:0:9:: is above IPv6SubnetMax fd00:0:0:3::");
}

static void test_error_min_max_not_address(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": \"10.244.1.0/24\"}",
		     "SubnetMin: '10.244.1.0/24' is not an IP address");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMax\": \"fd00::\"}",
		     "SubnetMax: fd00:: is not an IPv4 address");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"SubnetMin\": 167772160}",
		     "SubnetMin: must be a string, not an integer");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"IPv6SubnetMin\": \"10.0.0.0\"}",
		     "IPv6SubnetMin: 10.0.0.0 is not an IPv6 address");
}

/* ---- errors: backend ------------------------------------------------------- */

static void test_error_unknown_backend(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}",
		     "Backend.Type: unknown backend type 'ipip' (known: vxlan, host-gw, udp, wireguard)");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"\"}}",
		     "Backend.Type: unknown backend type '' (known: vxlan, host-gw, udp, wireguard)");
}

static void test_error_backend_types(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": \"vxlan\"}",
		     "Backend: must be an object, not a string");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": 1}}",
		     "Backend.Type: must be a string, not an integer");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": \"1\"}}",
		     "Backend.VNI: must be an integer, not a string");
}

static void test_error_vni_range(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": 16777216}}",
		     "Backend.VNI: 16777216 is out of range 0..16777215");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"VNI\": -1}}",
		     "Backend.VNI: must not be negative (-1)");
}

static void test_error_port_range(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Port\": 65536}}",
		     "Backend.Port: 65536 is out of range 0..65535");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Port\": -8472}}",
		     "Backend.Port: must not be negative (-8472)");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\", \"Port\": 70000}}",
		     "Backend.Port: 70000 is out of range 0..65535");
}

static void test_error_mtu_range(void)
{
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"MTU\": -1}}",
		     "Backend.MTU: must not be negative (-1)");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"MTU\": 65536}}",
		     "Backend.MTU: 65536 is out of range 0..65535");
	expect_error("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"MTU\": 67}}",
		     "Backend.MTU: 67 is too small (0 for the underlay's, else at least 68)");
}

static void test_error_no_family(void)
{
	expect_error("{\"EnableIPv4\": false, \"Network\": \"10.244.0.0/16\"}",
		     "EnableIPv4/EnableIPv6: both false, enable at least one");
	expect_error("{\"EnableIPv4\": false, \"EnableIPv6\": false, \"IPv6Network\": \"fd00::/48\"}",
		     "EnableIPv4/EnableIPv6: both false, enable at least one");
}

/* ---- loading files -------------------------------------------------------- */

/* Writes size bytes of content (padded with spaces) to a new temp file. */
static char *temp_file(const char *content, size_t size)
{
	char *path = strdup("/tmp/ovl-test-config.XXXXXX");
	size_t used = strlen(content);
	char *buffer;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	fd = mkstemp(path);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	buffer = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buffer);
	memset(buffer, ' ', size);
	memcpy(buffer, content, used < size ? used : size);
	CU_ASSERT_EQUAL(write(fd, buffer, size), (ssize_t)size);
	close(fd);
	free(buffer);
	return path;
}

static void test_load_file(void)
{
	const char *json = "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"host-gw\"}}\n";
	char *path = temp_file(json, strlen(json));
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_load(ctx, path, &config), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "host-gw");
	ovl_config_free(config);
	unlink(path);
	free(path);
	ovl_ctx_free(ctx);
}

/* Exactly 1 MiB is allowed, one byte more is not. */
static void test_load_size_limit(void)
{
	char *fits = temp_file("{\"Network\": \"10.244.0.0/16\"}", 1024 * 1024);
	char *large = temp_file("{\"Network\": \"10.244.0.0/16\"}", 1024 * 1024 + 1);
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;
	char want[128];

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_load(ctx, fits, &config), 0);
	CU_ASSERT_PTR_NOT_NULL(config);
	ovl_config_free(config);
	config = NULL;
	CU_ASSERT_EQUAL(ovl_config_load(ctx, large, &config), -EFBIG);
	CU_ASSERT_PTR_NULL(config);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes, not a net-conf.json", large);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), want);
	unlink(fits);
	unlink(large);
	free(fits);
	free(large);
	ovl_ctx_free(ctx);
}

static void test_load_missing_file(void)
{
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_load(ctx, "/nonexistent/net-conf.json", &config), -ENOENT);
	CU_ASSERT_PTR_NULL(config);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx),
			       "/nonexistent/net-conf.json: cannot open: No such file or directory");
	CU_ASSERT_EQUAL(ovl_config_load(ctx, "/tmp", &config), -EISDIR);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "/tmp: cannot read: Is a directory");
	ovl_ctx_free(ctx);
}

/* The path comes first, then the field: what ovlctl prints after "ovlctl: ". */
static void test_load_error_names_path_and_field(void)
{
	const char *json = "{\"Network\": \"10.244.0.0/16\", \"SubnetLen\": 31}";
	char *path = temp_file(json, strlen(json));
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;
	char want[128];

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_load(ctx, path, &config), -EINVAL);
	CU_ASSERT_PTR_NULL(config);
	snprintf(want, sizeof(want), "%s: SubnetLen: must be less than /31", path);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), want);
	unlink(path);
	free(path);
	ovl_ctx_free(ctx);
}

/* A NUL byte does not cut the file short into something valid. */
static void test_load_nul_byte(void)
{
	char *path = temp_file("{\"Network\": \"10.244.0.0/16\"}", 40);
	struct ovl_config *config = NULL;
	struct ovl_ctx *ctx;
	int fd;

	fd = open(path, O_WRONLY);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "\0x", 2, 35), 2);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL(ovl_config_load(ctx, path, &config), -EINVAL);
	CU_ASSERT_PTR_NULL(config);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), ": invalid JSON at line 1"));
	unlink(path);
	free(path);
	ovl_ctx_free(ctx);
}

static const CU_TestInfo tests[] = {
	{ "flannel manifest net-conf.json", test_flannel_manifest },
	{ "flannel docs: udp example", test_flannel_docs_udp_example },
	{ "flannel docs: dual stack", test_flannel_docs_dual_stack },
	{ "k3s config with unused ::/0", test_k3s_config },
	{ "SubnetLen default 24 for /22 and larger", test_subnet_len_default_24 },
	{ "SubnetLen default prefix+2 below /22", test_subnet_len_default_small_network },
	{ "SubnetLen explicit", test_subnet_len_explicit },
	{ "SubnetLen 0 is the default", test_subnet_len_zero_is_default },
	{ "IPv6SubnetLen defaults", test_ipv6_subnet_len_defaults },
	{ "IPv6 more than 2^64 subnets", test_ipv6_huge_subnet_count },
	{ "Network is masked", test_network_is_masked },
	{ "zero SubnetMin/Max is the default", test_zero_min_max_is_default },
	{ "IPv6SubnetMin/Max explicit", test_ipv6_min_max_explicit },
	{ "SubnetMin equal to SubnetMax", test_min_equal_max },
	{ "no Backend: vxlan", test_backend_absent_is_vxlan },
	{ "Backend without Type: vxlan", test_backend_without_type_is_vxlan },
	{ "Backend.Type in any case", test_backend_type_any_case },
	{ "host-gw backend", test_backend_host_gw },
	{ "udp backend default port", test_backend_udp_default_port },
	{ "Port 0 is the default", test_port_zero_is_default },
	{ "vxlan options", test_vxlan_options },
	{ "VNI 0 is VNI 0", test_vni_zero_is_zero },
	{ "keys case-insensitive", test_keys_case_insensitive },
	{ "Backend keys case-insensitive", test_backend_keys_case_insensitive },
	{ "last duplicate key wins", test_last_key_wins },
	{ "null keeps the default", test_null_keeps_default },
	{ "unknown keys ignored", test_unknown_keys_ignored },
	{ "IPv6 only", test_ipv6_only },
	{ "disabled family not checked", test_disabled_family_not_checked },
	{ "accessors: NULL config, other family", test_accessors_without_config },
	{ "to_json: vxlan", test_to_json_vxlan },
	{ "to_json: dual stack host-gw", test_to_json_dual_stack_host_gw },
	{ "to_json: IPv6-only udp", test_to_json_udp_ipv6_only },
	{ "error: invalid JSON", test_error_invalid_json },
	{ "error: not an object", test_error_not_object },
	{ "error: NULL arguments", test_error_null_arguments },
	{ "error: Network type", test_error_network_type },
	{ "error: boolean types", test_error_bool_type },
	{ "error: SubnetLen type", test_error_subnet_len_type },
	{ "error: missing Network", test_error_missing_network },
	{ "error: Network not a CIDR", test_error_network_not_cidr },
	{ "error: Network of the wrong family", test_error_network_wrong_family },
	{ "error: network too small", test_error_network_too_small },
	{ "error: SubnetLen too long", test_error_subnet_len_too_long },
	{ "error: fewer than 4 subnets", test_error_fewer_than_four_subnets },
	{ "error: SubnetMin/Max outside", test_error_min_max_outside },
	{ "error: SubnetMin/Max unaligned", test_error_min_max_unaligned },
	{ "error: SubnetMin above SubnetMax", test_error_min_above_max },
	{ "error: SubnetMin/Max not an address", test_error_min_max_not_address },
	{ "error: unknown backend", test_error_unknown_backend },
	{ "error: backend types", test_error_backend_types },
	{ "error: VNI range", test_error_vni_range },
	{ "error: Port range", test_error_port_range },
	{ "error: MTU range", test_error_mtu_range },
	{ "error: no family enabled", test_error_no_family },
	{ "load a file", test_load_file },
	{ "load: 1 MiB limit", test_load_size_limit },
	{ "load: missing file, directory", test_load_missing_file },
	{ "load: error names path and field", test_load_error_names_path_and_field },
	{ "load: NUL byte", test_load_nul_byte },
	CU_TEST_INFO_NULL,
};

void register_tests(void)
{
	harness_add_suite("config", tests);
}
