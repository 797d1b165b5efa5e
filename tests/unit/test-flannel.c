/*
 * test-flannel.c - flannel's own test vectors, replayed against libovl with
 * flannel's expected values: pkg/subnet/config_test.go and the rules of
 * CheckNetworkConfig (pkg/subnet/config.go), the subnet keys of
 * pkg/subnet/subnet_test.go, the config and LeaseAttrs values of
 * pkg/subnet/etcd/registry_test.go, LeaseAttrs as Go's encoding/json
 * decodes them (field names in any case), and a stored config's
 * Backend.Type written out so that flanneld reads libovl's backend.
 * (flannel's source at cdf76059, v0.28.9.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "lease/lease.h"
#include "agent/node.h"

static struct ovl_ctx *ctx;

static struct ovl_config *parse(const char *json)
{
	struct ovl_config *config = NULL;

	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	ovl_config_parse(ctx, json, &config);
	return config;
}

static void check_text(const struct ovl_prefix *prefix, const char *want, int address)
{
	char text[OVL_PREFIX_STRLEN] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(prefix);
	if (address)
		ovl_addr_format(prefix, text, sizeof(text));
	else
		ovl_prefix_format(prefix, text, sizeof(text));
	if (strcmp(text, want))
		fprintf(stderr, "\n  want %s, got %s\n", want, text);
	CU_ASSERT_STRING_EQUAL(text, want);
}

/* Network, SubnetMin, SubnetMax and SubnetLen as config_test.go checks them. */
static void check_family(const char *json, int family, const char *network,
			 const char *min, const char *max, unsigned int len)
{
	struct ovl_config *config = parse(json);

	if (!config)
		fprintf(stderr, "\n  %s: %s\n", json, ovl_ctx_error(ctx));
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	check_text(ovl_config_network(config, family), network, 0);
	check_text(ovl_config_subnet_min(config, family), min, 1);
	check_text(ovl_config_subnet_max(config, family), max, 1);
	CU_ASSERT_EQUAL(ovl_config_subnet_len(config, family), len);
	ovl_config_free(config);
}

/* ---- pkg/subnet/config_test.go ------------------------------------------- */

static void test_config_defaults(void)
{
	/* TestConfigDefaults: a lower-case "network" key */
	check_family("{ \"network\": \"10.3.0.0/16\" }", AF_INET, "10.3.0.0/16",
		     "10.3.1.0", "10.3.255.0", 24);
	/* TestIPv6ConfigDefaults */
	check_family("{ \"enableIPv6\": true, \"ipv6Network\": \"fc00::/48\", \"enableIPv4\": false }",
		     AF_INET6, "fc00::/48", "fc00:0:0:1::", "fc00:0:0:ffff::", 64);
}

static void test_config_overrides(void)
{
	/* TestConfigOverrides */
	check_family("{ \"Network\": \"10.3.0.0/16\", \"SubnetMin\": \"10.3.5.0\", "
		     "\"SubnetMax\": \"10.3.8.0\", \"SubnetLen\": 28 }",
		     AF_INET, "10.3.0.0/16", "10.3.5.0", "10.3.8.0", 28);
	/* TestIPv6ConfigOverrides */
	check_family("{ \"EnableIPv6\": true, \"IPv6Network\": \"fc00::/48\", "
		     "\"IPv6SubnetMin\": \"fc00:0:0:1::\", \"IPv6SubnetMax\": \"fc00:0:0:f::\", "
		     "\"IPv6SubnetLen\": 124, \"enableIPv4\": false }",
		     AF_INET6, "fc00::/48", "fc00:0:0:1::", "fc00:0:0:f::", 124);
}

/* ---- CheckNetworkConfig, rule by rule ------------------------------------- */

static void test_check_subnet_len_derivation(void)
{
	/* PrefixLen <= 22: /24; else PrefixLen + 2 */
	check_family("{\"Network\": \"10.0.0.0/22\"}", AF_INET, "10.0.0.0/22",
		     "10.0.1.0", "10.0.3.0", 24);
	check_family("{\"Network\": \"10.0.0.0/23\"}", AF_INET, "10.0.0.0/23",
		     "10.0.0.128", "10.0.1.128", 25);
	check_family("{\"Network\": \"10.0.0.0/28\"}", AF_INET, "10.0.0.0/28",
		     "10.0.0.4", "10.0.0.12", 30);
	/* IPv6: PrefixLen <= 62: /64; else PrefixLen + 2 */
	check_family("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/62\"}",
		     AF_INET6, "fd00::/62", "fd00:0:0:1::", "fd00:0:0:3::", 64);
	check_family("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/124\"}",
		     AF_INET6, "fd00::/124", "fd00::4", "fd00::c", 126);
	/* an explicit SubnetLen of exactly PrefixLen + 2 and of 30 */
	check_family("{\"Network\": \"10.0.0.0/16\", \"SubnetLen\": 18}", AF_INET,
		     "10.0.0.0/16", "10.0.64.0", "10.0.192.0", 18);
	check_family("{\"Network\": \"10.0.0.0/16\", \"SubnetLen\": 30}", AF_INET,
		     "10.0.0.0/16", "10.0.0.4", "10.0.255.252", 30);
}

static void check_refused(const char *json, const char *why)
{
	struct ovl_config *config = parse(json);

	CU_ASSERT_PTR_NULL(config);
	ovl_config_free(config);
	if (!strstr(ovl_ctx_error(ctx), why))
		fprintf(stderr, "\n  %s: want '%s', got '%s'\n", json, why, ovl_ctx_error(ctx));
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), why));
}

static void test_check_refusals(void)
{
	/* "please define a correct Network parameter": missing, or the
	 * all-zero /0 that IP4Net.Empty() calls empty */
	check_refused("{}", "Network: missing");
	check_refused("{\"Network\": \"0.0.0.0/0\"}", "Network: 0.0.0.0/0 is no network");
	check_refused("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"::/0\"}",
		      "IPv6Network: ::/0 is no network");
	check_refused("{\"EnableIPv4\": false, \"EnableIPv6\": true}", "IPv6Network: missing");
	/* "SubnetLen must be less than /31" (and /127) */
	check_refused("{\"Network\": \"10.0.0.0/16\", \"SubnetLen\": 31}", "less than /31");
	check_refused("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/48\", "
		      "\"IPv6SubnetLen\": 127}",
		      "less than /127");
	/* "network must be able to accommodate at least four subnets" */
	check_refused("{\"Network\": \"10.0.0.0/16\", \"SubnetLen\": 17}", "fewer than 4 subnets");
	/* "network is too small. Minimum useful network prefix is /28" (/124) */
	check_refused("{\"Network\": \"10.0.0.0/29\"}", "minimum useful prefix is /28");
	check_refused("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/125\"}",
		      "minimum useful prefix is /124");
	/* "SubnetMin is not in the range of the Network" */
	check_refused("{\"Network\": \"10.0.0.0/16\", \"SubnetMin\": \"10.1.0.0\"}",
		      "SubnetMin: 10.1.0.0 is not inside");
	check_refused("{\"Network\": \"10.0.0.0/16\", \"SubnetMax\": \"10.1.0.0\"}",
		      "SubnetMax: 10.1.0.0 is not inside");
	/* "SubnetMin is not on a SubnetLen boundary" */
	check_refused("{\"Network\": \"10.0.0.0/16\", \"SubnetMin\": \"10.0.1.1\"}",
		      "SubnetMin: 10.0.1.1 is not on a /24 boundary");
	check_refused("{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00::/48\", "
		      "\"IPv6SubnetMax\": \"fd00:0:0:1::1\"}",
		      "IPv6SubnetMax: fd00:0:0:1::1 is not on a /64 boundary");
}

/* ---- Backend, as flannel's backends decode it ----------------------------- */

static void test_backend_vectors(void)
{
	struct ovl_config *config;

	/* registry_test.go's config */
	config = parse("{ \"Network\": \"10.1.0.0/16\", \"Backend\": { \"Type\": \"host-gw\" } }");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "host-gw");
	ovl_config_free(config);
	/* vxlan.go: VNI preset to 1 and overridden by the file, 0 included;
	 * MTU is the underlay's (the agent's device gets 50 less) */
	config = parse("{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\": \"vxlan\", "
		       "\"VNI\": 0, \"MTU\": 1400}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 0);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 1400);
	ovl_config_free(config);
	config = parse("{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_vni(config), 1);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8472);
	ovl_config_free(config);
	/* udp and host-gw decode no MTU (flannel0 is the underlay's - 28) */
	config = parse("{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\": \"udp\", \"MTU\": 1400}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(config);
	CU_ASSERT_EQUAL(ovl_config_mtu(config), 0);
	CU_ASSERT_EQUAL(ovl_config_port(config), 8285);
	ovl_config_free(config);
}

/* What ovl_store_config_put stores: the text with Backend.Type written in
 * wherever flanneld would not read "vxlan", every other byte kept. */
static void check_written(const char *json, const char *want)
{
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(config_with_backend_type(ctx, json, &text), 0);
	if (strcmp(text, want))
		fprintf(stderr, "\n  want %s\n  got  %s\n", want, text);
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
}

static void test_backend_type_written(void)
{
	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	/* no Backend: flanneld would pick udp */
	check_written("{\"Network\": \"10.1.0.0/16\"}",
		      "{\"Network\": \"10.1.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}");
	check_written("{\n  \"Network\": \"10.1.0.0/16\"\n}\n",
		      "{\n  \"Network\": \"10.1.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}\n}\n");
	check_written(" { } ", " {\"Backend\":{\"Type\":\"vxlan\"} } ");
	/* a Backend without Type: flanneld would exit */
	check_written("{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"VNI\": 0}}",
		      "{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\":\"vxlan\",\"VNI\": 0}}");
	check_written("{\"backend\": {}, \"Network\": \"10.1.0.0/16\"}",
		      "{\"backend\": {\"Type\":\"vxlan\"}, \"Network\": \"10.1.0.0/16\"}");
	check_written("{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\": null}}",
		      "{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\":\"vxlan\",\"Type\": null}}");
	/* a null Backend is "null" to flanneld: the new one comes last */
	check_written("{\"Backend\": null, \"Network\": \"10.1.0.0/16\"}",
		      "{\"Backend\": null, \"Network\": \"10.1.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}");
	/* a Type in any case is a Type: unchanged */
	check_written("{\"Network\": \"10.1.0.0/16\", \"backend\": {\"type\": \"host-gw\"}}",
		      "{\"Network\": \"10.1.0.0/16\", \"backend\": {\"type\": \"host-gw\"}}");
}

/* ovl_store_config_put stores the written-out text; what a store already
 * holds without a Type is read with a warning. */
static int warnings;

static void count_warning(void *userdata, int level, const char *message)
{
	(void)userdata;
	if (level == OVL_LOG_WARNING && strstr(message, "flanneld would choose udp"))
		warnings++;
}

static void test_store_config_put(void)
{
	char dir[] = "/tmp/ovl-flannel-test.XXXXXX", uri[128], path[96], text[512] = "";
	struct ovl_config *config = NULL;
	struct ovl_store *store;
	FILE *file;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases.json", dir);
	snprintf(uri, sizeof(uri), "file:%s", path);
	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_store_open(ctx, uri, &store), 0);
	CU_ASSERT_EQUAL(ovl_store_config_put(store, "{\"Network\":\"10.7.0.0/16\"}"), 0);
	file = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	n = fread(text, 1, sizeof(text) - 1, file);
	text[n] = '\0';
	fclose(file);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"Backend\":{\"Type\":\"vxlan\"}"));
	CU_ASSERT_EQUAL(ovl_store_config_get(store, &config), 0);
	ovl_config_free(config);
	ovl_store_close(store);

	/* written by another tool, without Backend */
	file = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	fputs("{\"version\":1,\"revision\":1,\"config\":{\"Network\":\"10.7.0.0/16\"},\"leases\":{}}\n",
	      file);
	fclose(file);
	ovl_ctx_set_log(ctx, OVL_LOG_WARNING, count_warning, NULL);
	CU_ASSERT_EQUAL_FATAL(ovl_store_open(ctx, uri, &store), 0);
	CU_ASSERT_EQUAL(ovl_store_config_get(store, &config), 0);
	CU_ASSERT_EQUAL(warnings, 1);
	CU_ASSERT_STRING_EQUAL(ovl_config_backend_type(config), "vxlan");
	ovl_config_free(config);
	ovl_store_close(store);
	ovl_ctx_set_log(ctx, OVL_LOG_WARNING, NULL, NULL);
	unlink(path);
	rmdir(dir);
}

/* ---- pkg/subnet/subnet_test.go: subnet keys ------------------------------- */

static void test_subnet_keys(void)
{
	static const char *const invalid[] = {
		"10", "10.12.13.0", "10.12.13-24", "10.12.13.300-24", "10.12.13.0-24hi",
		"&2001::-56", "10.12.13.0-24&:12:13:-56", "10.12.13.0-24&20011::-56",
		"10.12.13.0-24&2001-56", "10.12.13.0-24&2001::", "10.12.13.0-24&2001::-56hi",
	};
	struct ovl_lease *lease = lease_new();
	char key[2 * OVL_PREFIX_STRLEN + 2];
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	/* TestSubnetNodev4: parse and make the key back */
	CU_ASSERT_EQUAL(lease_key_parse(ctx, "10.12.13.0-24", lease), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.12.13.0/24");
	CU_ASSERT_PTR_NULL(ovl_lease_subnet(lease, AF_INET6));
	CU_ASSERT(lease_key_format(lease, key, sizeof(key)) > 0);
	CU_ASSERT_STRING_EQUAL(key, "10.12.13.0-24");
	/* TestSubnetNodev6 */
	CU_ASSERT_EQUAL(lease_key_parse(ctx, "10.12.13.0-24&fd00:12:13::-56", lease), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.12.13.0/24");
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET6), "fd00:12:13::/56");
	CU_ASSERT(lease_key_format(lease, key, sizeof(key)) > 0);
	CU_ASSERT_STRING_EQUAL(key, "10.12.13.0-24&fd00:12:13::-56");
	/* TestSubnetNodeInvalid */
	for (i = 0; i < ARRAY_SIZE(invalid); i++)
		CU_ASSERT_EQUAL(lease_key_parse(ctx, invalid[i], lease), -EINVAL);
	ovl_lease_free(lease);
}

/* ---- LeaseAttrs: registry_test.go's value, Go's case-insensitive fields ---- */

static struct ovl_lease *decode(const char *key, const char *json)
{
	struct ovl_lease *lease = NULL;

	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	lease_from_json(ctx, key, json, &lease);
	return lease;
}

/* 0 when the record is a peer of a node running backend type with VNI 1. */
static int peer_of(const char *type, const struct ovl_lease *lease, struct peer_text *peer)
{
	struct ovl_prefix network, own;
	struct peer_rules rules = { AF_INET, &network, &own, type, 1, NULL, 0, 0 };

	ovl_prefix_parse("10.1.0.0/16", &network);
	ovl_prefix_parse("10.1.9.0/24", &own);
	return peer_from_lease(ctx, &rules, lease, peer);
}

static void test_lease_attrs(void)
{
	struct ovl_lease *lease;
	struct peer_text peer;

	/* flanneld's udp record, exactly as registry_test.go expects it in etcd */
	lease = decode("10.1.5.0-24", "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_STRING_EQUAL(ovl_lease_public_ip(lease, AF_INET), "1.2.3.4");
	CU_ASSERT_PTR_NULL(ovl_lease_public_ip(lease, AF_INET6));
	CU_ASSERT_PTR_NULL(ovl_lease_backend_type(lease));
	CU_ASSERT_EQUAL(peer_of("udp", lease, &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.public_ip, "1.2.3.4");
	CU_ASSERT_EQUAL(peer_of("vxlan", lease, &peer), -EINVAL);
	ovl_lease_free(lease);

	/* Documentation/reservations.md's vxlan record */
	lease = decode("10.1.7.0-24", "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
		       "\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
		       "\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_EQUAL(peer_of("vxlan", lease, &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.mac, "c6:d2:32:6f:8f:44");
	ovl_lease_free(lease);

	/* field names in any case, as Go's encoding/json matches them */
	lease = decode("10.1.8.0-24", "{\"publicIP\":\"192.168.64.4\",\"publicipv6\":null,"
		       "\"backendType\":\"vxlan\",\"backendData\":{\"vni\":1,"
		       "\"vtepMAC\":\"c6:d2:32:6f:8f:45\"},\"NODENAME\":\"n8\"}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_STRING_EQUAL(ovl_lease_public_ip(lease, AF_INET), "192.168.64.4");
	CU_ASSERT_STRING_EQUAL(ovl_lease_backend_type(lease), "vxlan");
	CU_ASSERT_STRING_EQUAL(ovl_lease_node_name(lease), "n8");
	CU_ASSERT_EQUAL(peer_of("vxlan", lease, &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.mac, "c6:d2:32:6f:8f:45");
	ovl_lease_free(lease);

	/* a wrong type under a lower-case name is refused like under the real one */
	CU_ASSERT_PTR_NULL(decode("10.1.8.0-24", "{\"publicip\":7}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "publicip: expected a string"));
}

/* The file store reads the same records (its own scanner, not jansson). */
static void test_file_store_lease_attrs(void)
{
	char dir[] = "/tmp/ovl-flannel-test.XXXXXX", uri[128], path[96];
	struct ovl_lease **leases = NULL;
	struct ovl_store *store;
	struct peer_text peer;
	size_t count = 0;
	FILE *file;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases.json", dir);
	snprintf(uri, sizeof(uri), "file:%s", path);
	file = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	fputs("{\"version\":1,\"revision\":1,\"leases\":{\"10.1.8.0-24\":{\"publicIP\":"
	      "\"192.168.64.4\",\"backendtype\":\"vxlan\",\"BACKENDDATA\":{\"vni\":1,"
	      "\"vtepmac\":\"c6:d2:32:6f:8f:45\"}}}}\n", file);
	fclose(file);
	if (!ctx)
		CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_store_open(ctx, uri, &store), 0);
	CU_ASSERT_EQUAL(ovl_leases(store, &leases, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	CU_ASSERT_STRING_EQUAL(ovl_lease_public_ip(leases[0], AF_INET), "192.168.64.4");
	CU_ASSERT_EQUAL(peer_of("vxlan", leases[0], &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.mac, "c6:d2:32:6f:8f:45");
	ovl_leases_free(leases, count);
	ovl_store_close(store);
	unlink(path);
	rmdir(dir);
	ovl_ctx_free(ctx);
	ctx = NULL;
}

void register_tests(void)
{
	static CU_TestInfo tests[] = {
		{ "config_test.go: defaults", test_config_defaults },
		{ "config_test.go: overrides", test_config_overrides },
		{ "CheckNetworkConfig: SubnetLen derivation", test_check_subnet_len_derivation },
		{ "CheckNetworkConfig: refusals", test_check_refusals },
		{ "Backend: type, VNI 0, MTU", test_backend_vectors },
		{ "Backend.Type written out for flanneld", test_backend_type_written },
		{ "ovl_store_config_put and a stored config without Type",
		  test_store_config_put },
		{ "subnet_test.go: subnet keys", test_subnet_keys },
		{ "LeaseAttrs: flanneld's records, names in any case", test_lease_attrs },
		{ "file store: LeaseAttrs names in any case", test_file_store_lease_attrs },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("flannel vectors", tests);
}
