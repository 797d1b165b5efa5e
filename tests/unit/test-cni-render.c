/*
 * test-cni-render.c - golden tests of ovl-cni's delegate config against the
 * outputs flannel's CNI plugin documents in flannel_linux_test.go (v4, v6,
 * dual stack, several networks, a given ipam) from that test's subnet.env
 * files, flannel's subnet.env rules (FLANNEL_IPMASQ, missing variables),
 * the netconf and version rules with their error codes and messages, and
 * result conversion between every pair of spec versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "cni.h"

/* flannel_linux_test.go's subnet.env files. */
static const char ENV_V4[] = "\nFLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	"FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
static const char ENV_V6[] = "\nFLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00::1/64\n"
	"FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
static const char ENV_DUAL[] = "\nFLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	"FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00::1/64\n"
	"FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
static const char ENV_V4_TWO[] = "\nFLANNEL_NETWORK=10.1.0.0/16,192.168.0.0/16\n"
	"FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";

static void env_parse(const char *text, struct cni_subnet_env *env)
{
	struct cni_error err = { 0 };

	CU_ASSERT_EQUAL_FATAL(cni_subnet_env_parse(text, strlen(text), "/x/subnet.env",
						   env, &err), 0);
}

#define NETCONF "\"name\":\"cni-flannel\",\"type\":\"flannel\",\"subnetFile\":\"/x/subnet.env\",\"dataDir\":\"/x/data\""

/* Renders netconf with env; returns the text or NULL with *err set. */
static char *render(const char *netconf, const struct cni_subnet_env *env,
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

static void expect(const char *netconf, const struct cni_subnet_env *env,
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

static void expect_error(const char *netconf, const struct cni_subnet_env *env,
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
	const char *env;
	const char *want;
} goldens[] = {
	{ "IPv4", ENV_V4,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	{ "IPv4, two networks", ENV_V4_TWO,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"192.168.0.0/16\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	{ "IPv6", ENV_V6,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"fc00::/64\"}]],"
	  "\"routes\":[{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
	{ "dual stack", ENV_DUAL,
	  "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],[{\"subnet\":\"fc00::/64\"}]],"
	  "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
	  "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}" },
};

static void test_goldens(void)
{
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		struct cni_subnet_env env;

		env_parse(goldens[i].env, &env);
		expect("{" NETCONF "}", &env, goldens[i].want);
		cni_subnet_env_free(&env);
	}
}

static void test_golden_v4_issue_bytes(void)
{
	struct cni_subnet_env env;
	json_t *got, *want;
	struct cni_error err;
	char *text;

	env_parse(ENV_V4, &env);
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
	cni_subnet_env_free(&env);
}

/* flannel's getDelegateIPAM cases: given type, routes and unknown keys. */
#define INPUT_IPAM(type) "\"ipam\":{" type "\"unknown-param\":\"unknown-value\"," \
	"\"routes\":[{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"}]}"
#define GIVEN_ROUTES "{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"}"

static void test_golden_given_ipam(void)
{
	struct cni_subnet_env env;

	env_parse(ENV_V4, &env);
	expect("{" NETCONF "," INPUT_IPAM("\"type\":\"my-ipam\",") "}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[" GIVEN_ROUTES ",{\"dst\":\"10.1.0.0/16\"}],\"type\":\"my-ipam\","
	       "\"unknown-param\":\"unknown-value\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	cni_subnet_env_free(&env);
	env_parse(ENV_DUAL, &env);
	/* without a type: host-local; dual stack appends both networks */
	expect("{" NETCONF "," INPUT_IPAM("") "}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],[{\"subnet\":\"fc00::/64\"}]],"
	       "\"routes\":[" GIVEN_ROUTES ",{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\","
	       "\"unknown-param\":\"unknown-value\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	cni_subnet_env_free(&env);
	/* flannel's two-networks case: its input has no ipam, so no given routes */
	env_parse(ENV_V4_TWO, &env);
	expect("{" NETCONF "}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"192.168.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	cni_subnet_env_free(&env);
}

static void test_given_ranges_replaced_routes_normalised(void)
{
	struct cni_subnet_env env;

	env_parse(ENV_V4, &env);
	/* Go re-encodes routes (types.Route): canonical text, unknown keys dropped */
	expect("{" NETCONF ",\"ipam\":{\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"fd00:0::0/8\",\"gw\":\"fd00:0:0::1\",\"x\":1,\"priority\":5}]}}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"fd00::/8\",\"gw\":\"fd00::1\",\"priority\":5},{\"dst\":\"10.1.0.0/16\"}],"
	       "\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	/* omitempty: mtu, advmss, priority of 0 go; table and scope (pointers) stay */
	expect("{" NETCONF ",\"ipam\":{\"routes\":[{\"dst\":\"10.96.0.0/12\",\"mtu\":0,"
	       "\"advmss\":0,\"priority\":0,\"table\":0,\"scope\":0},"
	       "{\"dst\":\"10.97.0.0/16\",\"mtu\":1400,\"advmss\":1360,\"priority\":7}]}}", &env,
	       "{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
	       "\"routes\":[{\"dst\":\"10.96.0.0/12\",\"scope\":0,\"table\":0},"
	       "{\"advmss\":1360,\"dst\":\"10.97.0.0/16\",\"mtu\":1400,\"priority\":7},"
	       "{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
	       "\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	cni_subnet_env_free(&env);
}

static void test_delegate_fields_win(void)
{
	struct cni_subnet_env env;

	env_parse("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
		  "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n", &env);
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
	cni_subnet_env_free(&env);
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
	struct cni_subnet_env env;

	env_parse(ENV_V4, &env);
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
	cni_subnet_env_free(&env);
}

static void env_error(const char *text, const char *msg)
{
	struct cni_subnet_env env;
	struct cni_error err = { 0 };

	CU_ASSERT_EQUAL(cni_subnet_env_parse(text, strlen(text), "/x/subnet.env", &env, &err), -1);
	CU_ASSERT_EQUAL(err.code, CNI_ERR_INVALID_CONFIG);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	if (strcmp(err.msg, msg) != 0)
		fprintf(stderr, "\n got: %s\nwant: %s\n", err.msg, msg);
}

static void test_subnet_env_errors(void)
{
	/* flannel_linux_test.go's "foo=bar" file: every variable named */
	env_error("foo=bar", "/x/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, "
		  "FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ");
	env_error("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_IPMASQ=true\n",
		  "/x/subnet.env is missing FLANNEL_MTU");
	env_error("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1400\n",
		  "/x/subnet.env is missing FLANNEL_IPMASQ");
	env_error("FLANNEL_IPV6_SUBNET=fc00::1/64\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=true\n",
		  "/x/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK");
	env_error("FLANNEL_NETWORK=10.1.0.0/16,10.300.0.0/16\n",
		  "/x/subnet.env:1: FLANNEL_NETWORK: \"10.1.0.0/16,10.300.0.0/16\" is not a CIDR");
	env_error("\nFLANNEL_SUBNET=10.1.17.1\n",
		  "/x/subnet.env:2: FLANNEL_SUBNET: \"10.1.17.1\" is not a CIDR");
	/* values are taken verbatim: no blanks, no quotes */
	env_error("FLANNEL_SUBNET= 10.1.17.1/24\n",
		  "/x/subnet.env:1: FLANNEL_SUBNET: \" 10.1.17.1/24\" is not a CIDR");
	env_error("FLANNEL_MTU=-1\n",
		  "/x/subnet.env:1: FLANNEL_MTU: \"-1\" is not an MTU (decimal digits, below 2^32)");
	env_error("FLANNEL_MTU=4294967296\n",
		  "/x/subnet.env:1: FLANNEL_MTU: \"4294967296\" is not an MTU (decimal digits, below 2^32)");
	env_error("FLANNEL_MTU\n", "/x/subnet.env:1: FLANNEL_MTU: no '='");
}

/* flannel's rule: FLANNEL_IPMASQ is true only when it is exactly "true". */
static void test_subnet_env_values(void)
{
	static const struct { const char *value; int ipmasq; } cases[] = {
		{ "true", 1 }, { "false", 0 }, { "1", 0 }, { "True", 0 },
		{ "TRUE", 0 }, { "t", 0 }, { "", 0 }, { "true ", 0 }, { "true\r", 1 },
	};
	struct cni_subnet_env env;
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
			 "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=%s\n", cases[i].value);
		env_parse(text, &env);
		CU_ASSERT_EQUAL(env.ipmasq, cases[i].ipmasq);
		CU_ASSERT_TRUE(env.has_ipmasq);
		cni_subnet_env_free(&env);
	}
	/* repeats in a list dropped, host bits cleared, later lines win,
	 * other lines (and ours with leading blanks or export) ignored */
	env_parse("# comment\nexport FLANNEL_MTU=9000\n FLANNEL_MTU=9000\nOTHER\n"
		  "FLANNEL_NETWORK=172.16.0.0/12\nFLANNEL_NETWORK=10.1.0.0/16,10.1.2.3/16,192.168.0.0/16\r\n"
		  "FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=0\nFLANNEL_IPMASQ=true", &env);
	CU_ASSERT_EQUAL(env.n_networks, 2);
	CU_ASSERT_EQUAL(env.networks[1].addr[0], 192);
	CU_ASSERT_EQUAL(env.subnet.addr[3], 0);
	CU_ASSERT_EQUAL(env.subnet.len, 24);
	CU_ASSERT_TRUE(env.has_mtu);
	CU_ASSERT_EQUAL(env.mtu, 0);
	cni_subnet_env_free(&env);
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
	struct cni_netconf nc = { .cni_version = "1.2.0" };
	struct cni_error err = { 0 };
	char *text = json_dumps(list, JSON_COMPACT);

	CU_ASSERT_STRING_EQUAL(text, "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]");
	free(text);
	json_decref(list);
	version_case("", "ADD", 0);	/* libcni reads it as 0.1.0 */
	version_case("", "DEL", 0);
	version_case("0.1.0", "ADD", 0);
	version_case("0.2.0", "DEL", 0);
	version_case("0.3.0", "ADD", 0);
	version_case("0.3.1", "DEL", 0);
	version_case("0.4.0", "CHECK", 0);
	version_case("1.0.0", "CHECK", 0);
	version_case("1.1.0", "ADD", 0);
	version_case("1.1.0", "GC", 0);
	version_case("1.1.0", "STATUS", 0);
	version_case("", "CHECK", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("0.3.1", "CHECK", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("1.0.0", "GC", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("1.0.0", "STATUS", CNI_ERR_INCOMPATIBLE_VERSION);
	version_case("0.5.0", "ADD", CNI_ERR_INCOMPATIBLE_VERSION);
	cni_version_check(&nc, "ADD", &err);
	CU_ASSERT_STRING_EQUAL(err.msg, "incompatible CNI versions: config is \"1.2.0\", "
			       "plugin supports 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
	nc.cni_version = "";
	CU_ASSERT_STRING_EQUAL(cni_version_of(&nc), "0.1.0");
	cni_version_check(&nc, "CHECK", &err);
	CU_ASSERT_STRING_EQUAL(err.msg, "config version \"0.1.0\" does not allow CHECK (needs 0.4.0 or later)");
}

/* One result in each shape, as libcni's types encode them. */
#define IFACES_1X "\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"aa:bb:cc:dd:ee:ff\",\"mtu\":1450},"	\
	"{\"name\":\"eth0\",\"mac\":\"11:22:33:44:55:66\",\"sandbox\":\"/run/netns/p\",\"pciID\":\"0000:01:00.0\"}]"
#define IFACES_04 "\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"	\
	"{\"name\":\"eth0\",\"mac\":\"11:22:33:44:55:66\",\"sandbox\":\"/run/netns/p\"}]"
#define IPS_1X "\"ips\":[{\"interface\":1,\"address\":\"10.1.17.2/24\",\"gateway\":\"10.1.17.1\"},"	\
	"{\"interface\":1,\"address\":\"fc00::2/64\",\"gateway\":\"fc00::1\"}]"
#define IPS_04 "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.1.17.2/24\",\"gateway\":\"10.1.17.1\"},"	\
	"{\"version\":\"6\",\"interface\":1,\"address\":\"fc00::2/64\",\"gateway\":\"fc00::1\"}]"
#define ROUTES "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\",\"gw\":\"fc00::1\",\"priority\":5}]"
#define DNS "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"search\":[\"svc.local\"]}"
#define IP4_02 "\"ip4\":{\"ip\":\"10.1.17.2/24\",\"gateway\":\"10.1.17.1\",\"routes\":[{\"dst\":\"10.1.0.0/16\"}]}"
#define IP6_02 "\"ip6\":{\"ip\":\"fc00::2/64\",\"gateway\":\"fc00::1\",\"routes\":[{\"dst\":\"fc00::/48\",\"gw\":\"fc00::1\"}]}"

static const char *const shape_1x = "{" IFACES_1X "," IPS_1X "," ROUTES "," DNS "}";
static const char *const shape_04 = "{" IFACES_04 "," IPS_04 "," ROUTES "," DNS "}";
static const char *const shape_02 = "{" IP4_02 "," IP6_02 "," DNS "}";

static void expect_convert(const char *result, const char *from, const char *to,
			   const char *want_body)
{
	json_t *in = json_loads(result, 0, NULL), *out, *want;
	struct cni_error err = { 0 };
	char buf[2048], *got;

	snprintf(buf, sizeof(buf), "{\"cniVersion\":\"%s\",%s", to, want_body + 1);
	want = json_loads(buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	out = cni_result_convert(in, from, to, &err);
	CU_ASSERT_PTR_NOT_NULL(out);
	CU_ASSERT_TRUE(json_equal(out, want));
	got = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!json_equal(out, want))
		fprintf(stderr, "\n%s -> %s\n got: %s\nwant: %s\n", from, to, got, buf);
	/* cniVersion first, as Go writes it */
	CU_ASSERT_TRUE(got && strncmp(got, "{\"cniVersion\":", 14) == 0);
	free(got);
	json_decref(out);
	json_decref(want);
	json_decref(in);
}

static void test_result_conversion(void)
{
	static const char *const all[] = { "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
	/* the shape each version's result has, from each family */
	for (size_t i = 0; i < 7; i++) {
		for (size_t j = 0; j < 7; j++) {
			const char *to = all[j];
			int to02 = j < 2, to04 = j >= 2 && j < 5;
			const char *from_text = i < 2 ? shape_02 : i < 5 ? shape_04 : shape_1x;
			const char *want;

			if (to02)	/* 0.2.0 keeps dst and gw, per family */
				want = "{" IP4_02 "," IP6_02 "," DNS "}";
			else if (i < 2)	/* from 0.2.0: no interfaces, no interface index */
				want = to04 ? "{\"ips\":[{\"version\":\"4\",\"address\":\"10.1.17.2/24\",\"gateway\":\"10.1.17.1\"},"
					      "{\"version\":\"6\",\"address\":\"fc00::2/64\",\"gateway\":\"fc00::1\"}],"
					      "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\",\"gw\":\"fc00::1\"}]," DNS "}"
					    : "{\"ips\":[{\"address\":\"10.1.17.2/24\",\"gateway\":\"10.1.17.1\"},"
					      "{\"address\":\"fc00::2/64\",\"gateway\":\"fc00::1\"}],"
					      "\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"fc00::/48\",\"gw\":\"fc00::1\"}]," DNS "}";
			else if (to04)
				want = shape_04;
			else if (i < 5)	/* 0.4.0 interfaces have no mtu or pciID */
				want = "{" IFACES_04 "," IPS_1X "," ROUTES "," DNS "}";
			else
				want = shape_1x;
			/* the result's own cniVersion wins over the config's */
			char with_version[1024];

			snprintf(with_version, sizeof(with_version), "{\"cniVersion\":\"%s\",%s",
				 all[i], from_text + 1);
			expect_convert(with_version, "0.1.0", to, want);
			expect_convert(from_text, all[i], to, want);
		}
	}
}

static void test_result_conversion_edges(void)
{
	json_t *in = json_loads("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}]}", 0, NULL), *out;
	struct cni_error err = { 0 };

	/* 0.2.0 needs an address */
	CU_ASSERT_PTR_NULL(cni_result_convert(in, "1.0.0", "0.2.0", &err));
	CU_ASSERT_STRING_EQUAL(err.msg, "cannot convert the delegate's result: no valid IP addresses");
	/* 1.x drops an empty dns, 0.x always writes it */
	out = cni_result_convert(in, "1.0.0", "1.1.0", &err);
	CU_ASSERT_FALSE(json_object_get(out, "dns") != NULL);
	json_decref(out);
	out = cni_result_convert(in, "1.0.0", "0.3.1", &err);
	CU_ASSERT_TRUE(json_is_object(json_object_get(out, "dns")));
	json_decref(out);
	/* an unknown version has no converter */
	CU_ASSERT_PTR_NULL(cni_result_convert(in, "1.0.0", "2.0.0", &err));
	CU_ASSERT_EQUAL(err.code, CNI_ERR_INCOMPATIBLE_VERSION);
	json_decref(in);
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
		{ "subnet.env errors (flannel's missing-variable text)", test_subnet_env_errors },
		{ "subnet.env values (FLANNEL_IPMASQ exactly true)", test_subnet_env_values },
		{ "versions", test_versions },
		{ "result conversion between every pair of versions", test_result_conversion },
		{ "result conversion edges", test_result_conversion_edges },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("cni-render", tests);
}
