/*
 * test-cni-render.c - golden tests of ovl-cni's delegate config against the
 * outputs flannel's CNI plugin documents in flannel_linux_test.go (v4, v6,
 * dual stack, several networks, a given ipam), plus the netconf and version
 * rules and their error codes and messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "cni.h"

/* flannel_linux_test.go's subnet.env files. */
static void env_v4(struct ovl_subnet_env *env)
{
	strcpy(env->network, "10.1.0.0/16");
	strcpy(env->subnet, "10.1.17.1/24");
	env->mtu = 1472;
	env->ipmasq = 1;
}

static void env_v6(struct ovl_subnet_env *env)
{
	strcpy(env->ipv6_network, "fc00::/48");
	strcpy(env->ipv6_subnet, "fc00::1/64");
	env->mtu = 1472;
	env->ipmasq = 1;
}

#define NETCONF "\"name\":\"cni-flannel\",\"type\":\"flannel\",\"subnetFile\":\"/x/subnet.env\",\"dataDir\":\"/x/data\""

/* Renders netconf with env; returns the text or NULL with *err set. */
static char *render(const char *netconf, const struct ovl_subnet_env *env,
		    struct cni_error *err)
{
	json_t *root = json_loads(netconf, 0, NULL), *delegate = NULL;
	struct cni_netconf nc;
	char *text = NULL;

	memset(err, 0, sizeof(*err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	if (cni_netconf_parse(root, &nc, err) == 0 &&
	    cni_render(&nc, env, &delegate, err) == 0) {
		CU_ASSERT_EQUAL(err->code, 0);
		text = cni_render_dump(delegate);
	}
	json_decref(delegate);
	json_decref(root);
	return text;
}

static void expect(const char *netconf, const struct ovl_subnet_env *env,
		   const char *golden)
{
	struct cni_error err;
	char *text = render(netconf, env, &err);

	CU_ASSERT_PTR_NOT_NULL(text);
	if (text) {
		CU_ASSERT_STRING_EQUAL(text, golden);
		if (strcmp(text, golden) != 0)
			fprintf(stderr, "\n got: %s\nwant: %s\n", text, golden);
	} else {
		fprintf(stderr, "\nerror %d: %s\n", err.code, err.msg);
	}
	free(text);
}

static void expect_error(const char *netconf, const struct ovl_subnet_env *env,
			 int code, const char *msg)
{
	struct cni_error err;
	char *text = render(netconf, env, &err);

	CU_ASSERT_PTR_NULL(text);
	CU_ASSERT_EQUAL(err.code, code);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	free(text);
}

/* flannel_linux_test.go's lifecycle cases; the text is what Go's
 * json.Marshal of the delegate map writes (keys sorted, compact). */
static const struct golden {
	const char *name;
	int v4, v6;
	const char *network;	/* replaces FLANNEL_NETWORK when set */
	const char *want;
} goldens[] = {
	{ "IPv4", 1, 0, NULL,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	/* a comma list, with a repeat that flannel drops */
	{ "IPv4, two networks", 1, 0, "10.1.0.0/16,192.168.0.0/16,10.1.0.0/16",
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"192.168.0.0/16\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	{ "IPv6", 0, 1, NULL,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"fc00::/64\"}]],"
	  "\"routes\":[{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	{ "dual stack", 1, 1, NULL,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],[{\"subnet\":\"fc00::/64\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
};

static void test_goldens(void)
{
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

		if (g->v4)
			env_v4(&env);
		if (g->v6)
			env_v6(&env);
		if (g->network)
			strcpy(env.network, g->network);
		expect("{" NETCONF "}", &env, g->want);
	}
}

static void test_golden_v4_issue_bytes(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	json_t *got, *want;
	struct cni_error err;
	char *text;

	env_v4(&env);
	text = render("{" NETCONF "}", &env, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* the issue's rendering (flannel's key order in ipam) is the same JSON */
	got = json_loads(text, 0, NULL);
	want = json_loads("{\"ipMasq\":false,\"ipam\":{\"routes\":[{\"dst\":\"10.1.0.0/16\"}],"
			  "\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],\"type\":\"host-local\"},"
			  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}",
			  0, NULL);
	CU_ASSERT_TRUE(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	free(text);
}

/* flannel's getDelegateIPAM cases: given type, routes and unknown keys. */
#define INPUT_IPAM(type) "\"ipam\":{" type "\"unknown-param\":\"unknown-value\"," \
	"\"routes\":[{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"}]}"
#define GIVEN_ROUTES "{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"}"

static void test_golden_given_ipam(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	env_v4(&env);
	expect("{" NETCONF "," INPUT_IPAM("\"type\":\"my-ipam\",") "}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[" GIVEN_ROUTES ",{\"dst\":\"10.1.0.0/16\"}],\"type\":\"my-ipam\","
	       "\"unknown-param\":\"unknown-value\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	env_v6(&env);
	/* without a type: host-local; dual stack appends both networks */
	expect("{" NETCONF "," INPUT_IPAM("") "}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],[{\"subnet\":\"fc00::/64\"}]],"
	       "\"routes\":[" GIVEN_ROUTES ",{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\","
	       "\"unknown-param\":\"unknown-value\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
}

static void test_given_ranges_replaced_routes_normalised(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	env_v4(&env);
	/* Go re-encodes routes (types.Route): canonical text, unknown keys dropped */
	expect("{" NETCONF ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"fd00:0::0/8\",\"gw\":\"fd00:0:0::1\",\"x\":1,\"priority\":5}]}}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"fd00::/8\",\"gw\":\"fd00::1\",\"priority\":5},{\"dst\":\"10.1.0.0/16\"}],"
	       "\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
}

static void test_delegate_fields_win(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	env_v4(&env);
	env.ipmasq = 0;
	/* the kube-flannel manifest's delegate, version and runtimeConfig */
	expect("{\"cniVersion\":\"0.3.1\"," NETCONF ",\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true},"
	       "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80}]}}", &env,
	       "{\"cniVersion\":\"0.3.1\",\"hairpinMode\":true,\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"isDefaultGateway\":true,"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\","
	       "\"runtimeConfig\":{\"portMappings\":[{\"containerPort\":80,\"hostPort\":8080}]},\"type\":\"bridge\"}");
	/* set values stay; isGateway only for bridge */
	expect("{" NETCONF ",\"delegate\":{\"type\":\"ipvlan\",\"ipMasq\":true,\"mtu\":1400}}", &env,
	       "{\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"mtu\":1400,\"name\":\"cni-flannel\",\"type\":\"ipvlan\"}");
	expect("{" NETCONF ",\"delegate\":{\"isGateway\":false}}", &env,
	       "{\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":false,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
}

static void test_netconf_defaults(void)
{
	json_t *root = json_loads("{\"name\":\"cbr0\",\"type\":\"ovl-cni\",\"cniVersion\":\"1.0.0\"}", 0, NULL);
	struct cni_netconf nc;
	struct cni_error err = { 0 };

	CU_ASSERT_EQUAL(cni_netconf_parse(root, &nc, &err), 0);
	CU_ASSERT_STRING_EQUAL(nc.subnet_file, "/run/flannel/subnet.env");
	CU_ASSERT_STRING_EQUAL(nc.data_dir, "/var/lib/cni/flannel");
	CU_ASSERT_STRING_EQUAL(nc.cni_version, "1.0.0");
	CU_ASSERT_STRING_EQUAL(nc.name, "cbr0");
	CU_ASSERT_PTR_NULL(nc.delegate);
	CU_ASSERT_PTR_NULL(nc.prev_result);
	json_decref(root);
}

static void test_netconf_errors(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	env_v4(&env);
	expect_error("{" NETCONF ",\"delegate\":{\"name\":\"x\"}}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: delegate must not have \"name\": it is set to the network name");
	expect_error("{" NETCONF ",\"delegate\":{\"ipam\":{}}}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: delegate must not have \"ipam\": it is built from subnet.env and the top-level \"ipam\"");
	expect_error("{" NETCONF ",\"delegate\":{\"type\":7}}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: delegate \"type\" must be a non-empty string");
	expect_error("{" NETCONF ",\"delegate\":[]}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: \"delegate\" must be a JSON object");
	expect_error("{\"type\":\"flannel\"}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: \"name\" must be a non-empty string");
	expect_error("[1]", &env, CNI_ERR_INVALID_CONFIG, "netconf: must be a JSON object");
	expect_error("{" NETCONF ",\"dataDir\":5}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: \"dataDir\" must be a non-empty string");
	expect_error("{" NETCONF ",\"ipam\":{\"routes\":[{\"dst\":\"nope\"}]}}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: ipam.routes[0]: \"dst\" must be a CIDR string");
	expect_error("{" NETCONF ",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"x\"}]}}", &env,
		     CNI_ERR_INVALID_CONFIG, "netconf: ipam.routes[0]: \"gw\" must be an IP address string");
	expect_error("{" NETCONF ",\"ipam\":{\"routes\":{}}}", &env, CNI_ERR_INVALID_CONFIG,
		     "netconf: ipam.routes must be an array");
}

static void test_subnet_env_errors(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	/* flannel's message for a file without any of its keys */
	expect_error("{" NETCONF "}", &env, CNI_ERR_INVALID_CONFIG,
		     "/x/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, "
		     "FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU");
	env_v4(&env);
	env.mtu = 0;
	expect_error("{" NETCONF "}", &env, CNI_ERR_INVALID_CONFIG,
		     "/x/subnet.env is missing FLANNEL_MTU");
	env_v4(&env);
	strcpy(env.network, "10.1.0.0/16,10.300.0.0/16");
	expect_error("{" NETCONF "}", &env, CNI_ERR_INVALID_CONFIG,
		     "/x/subnet.env: FLANNEL_NETWORK: \"10.300.0.0/16\" is not a CIDR");
	env_v4(&env);
	strcpy(env.subnet, "10.1.17.1");
	expect_error("{" NETCONF "}", &env, CNI_ERR_INVALID_CONFIG,
		     "/x/subnet.env: FLANNEL_SUBNET: \"10.1.17.1\" is not a CIDR");
}

static void version_case(const char *version, const char *command, int code)
{
	struct cni_netconf nc = { .cni_version = version };
	struct cni_error err = { 0 };

	CU_ASSERT_EQUAL(cni_version_check(&nc, command, &err), code ? -1 : 0);
	CU_ASSERT_EQUAL(err.code, code);
}

static void test_versions(void)
{
	json_t *list = cni_supported_versions();
	struct cni_netconf nc = { .cni_version = "1.1.0" };
	struct cni_error err = { 0 };
	char *text = json_dumps(list, JSON_COMPACT);

	CU_ASSERT_STRING_EQUAL(text, "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]");
	free(text);
	json_decref(list);
	version_case("0.3.0", "ADD", 0);
	version_case("0.3.1", "DEL", 0);
	version_case("0.4.0", "CHECK", 0);
	version_case("1.0.0", "CHECK", 0);
	version_case("0.3.1", "CHECK", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("0.2.0", "ADD", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("", "ADD", CNI_ERR_INCOMPATIBLE_VERSION);
	cni_version_check(&nc, "ADD", &err);
	CU_ASSERT_STRING_EQUAL(err.msg, "incompatible CNI versions: config is \"1.1.0\", "
			       "plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0");
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "golden: IPv4, two networks, IPv6, dual stack", test_goldens },
		{ "golden: IPv4 equals the issue's rendering", test_golden_v4_issue_bytes },
		{ "golden: given ipam (type, routes, unknown keys)", test_golden_given_ipam },
		{ "given ranges replaced, routes re-encoded", test_given_ranges_replaced_routes_normalised },
		{ "delegate fields, cniVersion, runtimeConfig", test_delegate_fields_win },
		{ "netconf defaults", test_netconf_defaults },
		{ "netconf errors", test_netconf_errors },
		{ "subnet.env errors", test_subnet_env_errors },
		{ "versions", test_versions },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("cni-render", tests);
}
