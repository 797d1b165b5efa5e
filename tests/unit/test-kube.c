/* test-kube.c - the kube store without an API server: the URI and the
 * kubeconfig (through libyaml) with each mistake's message, Node objects
 * as leases, the pod CIDR rules flanneld has (not assigned, outside the
 * Network, more than two) and the annotation patch acquire sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/kube/kube.h"

static struct ovl_ctx *ctx;
static char dir[] = "/tmp/ovl-test-kube.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static int configure(const char *uri, struct kube_store **out)
{
	struct kube_store *store = calloc(1, sizeof(*store));
	int err = kube_store_configure(ctx, uri, store);

	if (err < 0 || !out) {
		kube_store_free(store);
		store = NULL;
	}
	if (out)
		*out = store;
	return err;
}

static void expect_error(const char *uri, const char *message)
{
	int err = configure(uri, NULL);

	CU_ASSERT(err < 0);
	if (!strstr(ovl_ctx_error(ctx), message))
		printf("\n  %s: got '%s', want '%s'\n", uri, ovl_ctx_error(ctx), message);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), message));
}

static const char kubeconfig[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- name: c\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority: ca.crt\n"
	"users:\n"
	"- name: u\n"
	"  user:\n"
	"    token: \"secret\"\n"
	"contexts:\n"
	"- name: x\n"
	"  context: {cluster: c, user: u}\n"
	"current-context: x\n";

static void test_kubeconfig(void)
{
	struct kube_store *store;
	char uri[512];

	write_file("ca.crt", "not checked here\n");
	snprintf(uri, sizeof(uri), "kube:%s?node=n1&annotation-prefix=example.com",
		 write_file("config", kubeconfig));
	CU_ASSERT_EQUAL_FATAL(configure(uri, &store), 0);
	CU_ASSERT_STRING_EQUAL(store->client.server, "https://10.0.0.1:6443");
	CU_ASSERT_STRING_EQUAL(store->client.token, "secret");
	CU_ASSERT_PTR_NOT_NULL(strstr(store->client.ca_file, "/ca.crt"));
	CU_ASSERT_EQUAL(store->client.ca_file[0], '/');	/* made absolute */
	CU_ASSERT_STRING_EQUAL(store->node_name, "n1");
	CU_ASSERT_STRING_EQUAL(store->annotations[KUBE_PUBLIC_IP], "example.com/public-ip");
	CU_ASSERT_STRING_EQUAL(store->net_config_path, KUBE_DEFAULT_NET_CONF);
	CU_ASSERT_EQUAL(store->set_network_unavailable, 1);
	kube_store_free(store);

	snprintf(uri, sizeof(uri), "kube:%s?api-url=http://127.0.0.1:8080&annotation-prefix="
		 "example.com/x&node-network-unavailable=false", write_file("config", kubeconfig));
	CU_ASSERT_EQUAL_FATAL(configure(uri, &store), 0);
	CU_ASSERT_STRING_EQUAL(store->client.server, "http://127.0.0.1:8080");
	CU_ASSERT_STRING_EQUAL(store->annotations[KUBE_SUBNET_KUBE_MANAGED],
			       "example.com/x-kube-subnet-manager");
	CU_ASSERT_EQUAL(store->set_network_unavailable, 0);
	kube_store_free(store);

	snprintf(uri, sizeof(uri), "kube:%s?pod=kube-flannel/kube-flannel-ds-x.1",
		 write_file("config", kubeconfig));
	CU_ASSERT_EQUAL_FATAL(configure(uri, &store), 0);
	CU_ASSERT_STRING_EQUAL(store->pod, "kube-flannel/kube-flannel-ds-x.1");
	CU_ASSERT_PTR_NULL(store->node_name);
	kube_store_free(store);
}

/* The good kubeconfig with URI options that are not. */
static void expect_option_error(const char *options, const char *message)
{
	char uri[512];

	snprintf(uri, sizeof(uri), "kube:%s?%s", write_file("config", kubeconfig), options);
	expect_error(uri, message);
}

static void test_kubeconfig_errors(void)
{
	char uri[512];

	snprintf(uri, sizeof(uri), "kube:%s/missing", dir);
	expect_error(uri, "missing");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("bad", "clusters: [\n- a\n"));
	expect_error(uri, ": line ");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("list", "- a\n- b\n"));
	expect_error(uri, "not a YAML mapping");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("nocurrent", "clusters: []\n"));
	expect_error(uri, "no current-context");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("alias",
		 "a: &x 1\nb: *x\ncurrent-context: x\n"));
	expect_error(uri, "anchors are not supported");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("noserver",
		 "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n"
		 "current-context: x\n"));
	expect_error(uri, "cluster 'c' has no server");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("nocluster",
		 "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"));
	expect_error(uri, "cluster 'c' (of context 'x') is not in clusters");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("badca",
		 "clusters: [{name: c, cluster: {server: 'https://a', certificate-authority-data: "
		 "'!!'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"));
	expect_error(uri, "certificate-authority-data: not base64");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("insecure",
		 "clusters: [{name: c, cluster: {server: 'https://a', insecure-skip-tls-verify: "
		 "maybe}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"));
	expect_error(uri, "insecure-skip-tls-verify: 'maybe' is not a boolean");
	snprintf(uri, sizeof(uri), "kube:%s", write_file("nohost",
		 "clusters: [{name: c, cluster: {server: 'https://'}}]\ncontexts: [{name: x, "
		 "context: {cluster: c}}]\ncurrent-context: x\n"));
	expect_error(uri, "server 'https://' names no host");
	/* a FIFO would block the read, and the caller, for ever */
	snprintf(uri, sizeof(uri), "%s/fifo", dir);
	CU_ASSERT_EQUAL(mkfifo(uri, 0600), 0);
	snprintf(uri, sizeof(uri), "kube:%s", write_file("fifotoken",
		 "clusters: [{name: c, cluster: {server: 'https://a'}}]\nusers: [{name: u, user: "
		 "{tokenFile: fifo}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		 "current-context: x\n"));
	expect_error(uri, "/fifo is not a regular file");
	/* long names do not overflow the field names built from them */
#define C10 "cccccccccc"
#define LONG_NAME C10 C10 C10 C10 C10 C10 C10 C10 C10 C10 C10 C10 C10
	snprintf(uri, sizeof(uri), "kube:%s", write_file("longname",
		 "clusters: [{name: " LONG_NAME ", cluster: {server: 'https://a', "
		 "certificate-authority-data: '!!'}}]\ncontexts: [{name: x, context: {cluster: "
		 LONG_NAME "}}]\ncurrent-context: x\n"));
#undef LONG_NAME
#undef C10
	expect_error(uri, "certificate-authority-data: not base64");
	expect_option_error("annotation-prefix=Bad/a/b", "annotation-prefix 'Bad/a/b'");
	expect_option_error("color=blue", "unknown option 'color'");
	expect_option_error("pod=kube-flannel", "pod 'kube-flannel' is not NAMESPACE/NAME");
	expect_option_error("pod=a/b/c", "pod 'a/b/c' is not NAMESPACE/NAME");
	expect_option_error("pod=a.b/c", "pod 'a.b/c' is not NAMESPACE/NAME");
	expect_option_error("pod=ns/Pod", "pod 'ns/Pod' is not NAMESPACE/NAME");
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	expect_error("kube:", "KUBERNETES_SERVICE_HOST");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	snprintf(uri, sizeof(uri), "kube:?serviceaccount=%s/nosa", dir);
	expect_error(uri, "in-cluster service account token");
	unsetenv("KUBERNETES_SERVICE_HOST");
}

static void test_in_cluster_token_rotation(void)
{
	struct kube_store *store;
	char uri[512], sa[300];

	snprintf(sa, sizeof(sa), "%s/sa", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sa, 0700), 0);
	write_file("sa/token", "first\n");
	write_file("sa/ca.crt", "x");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	snprintf(uri, sizeof(uri), "kube:?serviceaccount=%s", sa);
	CU_ASSERT_EQUAL_FATAL(configure(uri, &store), 0);
	CU_ASSERT_STRING_EQUAL(store->client.server, "https://[fd00::1]:443");
	CU_ASSERT_STRING_EQUAL(store->client.token, "first");
	write_file("sa/token", "second-token\n");
	CU_ASSERT_EQUAL(kube_token_refresh(&store->client), 0);
	CU_ASSERT_STRING_EQUAL(store->client.token, "second-token");
	kube_store_free(store);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

static json_t *node(const char *json)
{
	json_t *value = json_loads(json, 0, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(value);
	return value;
}

static struct kube_store *plain_store(void)
{
	struct kube_store *store;
	char uri[512];

	snprintf(uri, sizeof(uri), "kube:%s", write_file("config", kubeconfig));
	CU_ASSERT_EQUAL_FATAL(configure(uri, &store), 0);
	return store;
}

static void test_node_lease(void)
{
	struct kube_store *store = plain_store();
	struct ovl_lease *lease;
	json_t *n;

	n = node("{\"metadata\":{\"name\":\"a\",\"annotations\":{"
		 "\"flannel.alpha.coreos.com/kube-subnet-manager\":\"true\","
		 "\"flannel.alpha.coreos.com/backend-type\":\"vxlan\","
		 "\"flannel.alpha.coreos.com/backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"0e:00:00:00:00:01\\\"}\","
		 "\"flannel.alpha.coreos.com/public-ip\":\"192.168.1.1\","
		 "\"flannel.alpha.coreos.com/public-ipv6\":\"fd00::1\","
		 "\"flannel.alpha.coreos.com/backend-v6-data\":\"null\"}},"
		 "\"spec\":{\"podCIDR\":\"10.244.3.0/24\",\"podCIDRs\":[\"10.244.3.0/24\",\"fd10:0:0:3::/64\"]}}");
	CU_ASSERT_EQUAL_FATAL(kube_node_lease(ctx, store, n, &lease), 0);
	CU_ASSERT_STRING_EQUAL(lease->key, "10.244.3.0-24&fd10:0:0:3::-64");
	CU_ASSERT_STRING_EQUAL(lease->node_name, "a");
	CU_ASSERT_STRING_EQUAL(lease->public_ip, "192.168.1.1");
	CU_ASSERT_STRING_EQUAL(lease->backend_data, "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}");
	CU_ASSERT_PTR_NULL(lease->backend_v6_data);
	CU_ASSERT_EQUAL(lease->expiration, 0);
	ovl_lease_free(lease);
	/* the config's families decide the key */
	store->families_known = 1;
	store->ipv4 = 1;
	CU_ASSERT_EQUAL_FATAL(kube_node_lease(ctx, store, n, &lease), 0);
	CU_ASSERT_STRING_EQUAL(lease->key, "10.244.3.0-24");
	ovl_lease_free(lease);
	json_decref(n);

	n = node("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"podCIDR\":\"10.244.4.0/24\"}}");
	CU_ASSERT_EQUAL(kube_node_lease(ctx, store, n, &lease), -ENOENT);
	json_decref(n);
	kube_store_free(store);
}

static void test_pod_cidrs(void)
{
	struct ovl_prefix v4, v6;
	int has4, has6;
	json_t *n;

	n = node("{\"metadata\":{\"name\":\"c\"},\"spec\":{}}");
	CU_ASSERT_EQUAL(kube_node_pod_cidrs(ctx, n, &v4, &has4, &v6, &has6), -EAGAIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "node c pod cidr not assigned"));
	json_decref(n);
	n = node("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"podCIDRs\":[\"10.1.0.0/24\","
		 "\"fd00::/64\",\"10.2.0.0/24\"]}}");
	CU_ASSERT_EQUAL(kube_node_pod_cidrs(ctx, n, &v4, &has4, &v6, &has6), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "spec.podCIDRs has 3 entries"));
	json_decref(n);
	n = node("{\"metadata\":{\"name\":\"e\"},\"spec\":{\"podCIDRs\":[\"10.1.0.0/24\",\"10.2.0.0/24\"]}}");
	CU_ASSERT_EQUAL(kube_node_pod_cidrs(ctx, n, &v4, &has4, &v6, &has6), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "two IPv4"));
	json_decref(n);
	n = node("{\"metadata\":{\"name\":\"f\"},\"spec\":{\"podCIDR\":\"banana\"}}");
	CU_ASSERT_EQUAL(kube_node_pod_cidrs(ctx, n, &v4, &has4, &v6, &has6), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "spec.podCIDR 'banana'"));
	json_decref(n);
}

static void test_claim(void)
{
	struct kube_store *store = plain_store();
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_config *config;
	struct ovl_lease *lease;
	char *patch;
	json_t *n;

	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, "{\"Network\":\"10.244.0.0/16\","
					       "\"Backend\":{\"Type\":\"vxlan\"}}", &config), 0);
	request.public_ip = "192.168.1.2";
	request.backend_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:02\"}";
	n = node("{\"metadata\":{\"name\":\"g\",\"annotations\":{"
		 "\"flannel.alpha.coreos.com/public-ip-overwrite\":\"203.0.113.9\","
		 "\"flannel.alpha.coreos.com/backend-type\":\"vxlan\"}},"
		 "\"spec\":{\"podCIDR\":\"10.244.7.0/24\"}}");
	CU_ASSERT_EQUAL_FATAL(kube_node_claim(ctx, store, config, &request, n, &lease, &patch), 0);
	CU_ASSERT_STRING_EQUAL(lease->key, "10.244.7.0-24");
	CU_ASSERT_STRING_EQUAL(lease->public_ip, "203.0.113.9");
	CU_ASSERT_STRING_EQUAL(lease->node_name, "g");
	/* only what differs: backend-type is there already */
	CU_ASSERT_STRING_EQUAL(patch, "{\"metadata\":{\"annotations\":{"
			       "\"flannel.alpha.coreos.com/backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"0e:00:00:00:00:02\\\"}\","
			       "\"flannel.alpha.coreos.com/public-ip\":\"203.0.113.9\","
			       "\"flannel.alpha.coreos.com/kube-subnet-manager\":\"true\"}}}");
	ovl_lease_free(lease);
	free(patch);
	json_decref(n);

	n = node("{\"metadata\":{\"name\":\"h\"},\"spec\":{\"podCIDR\":\"10.99.0.0/24\"}}");
	CU_ASSERT_EQUAL(kube_node_claim(ctx, store, config, &request, n, &lease, &patch), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "subnet 10.244.0.0/16 specified in the "
				      "flannel net config (Network) doesn't contain 10.99.0.0/24 "
				      "PodCIDR of the h node"));
	json_decref(n);
	ovl_config_free(config);
	kube_store_free(store);
}

/* flanneld's start: POD_NAME's Pod names the Node, whose node-public-ip
 * annotations pin the public addresses. */
static void test_host(void)
{
	struct kube_store *store = plain_store();
	struct store_host host;
	char *name;
	json_t *n;

	memset(&host, 0, sizeof(host));

	n = node("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"worker-1\"}}");
	CU_ASSERT_EQUAL(kube_pod_node_name(ctx, "ns/p", n, &name), 0);
	CU_ASSERT_STRING_EQUAL(name, "worker-1");
	free(name);
	json_decref(n);
	n = node("{\"metadata\":{\"name\":\"p\"},\"spec\":{}}");
	CU_ASSERT_EQUAL(kube_pod_node_name(ctx, "ns/p", n, &name), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "pod ns/p has no spec.nodeName"));
	json_decref(n);
	CU_ASSERT_EQUAL(kube_node_name_check(ctx, "worker-1.example"), 0);
	CU_ASSERT_EQUAL(kube_node_name_check(ctx, "../pods"), -EINVAL);
	CU_ASSERT_EQUAL(kube_node_name_check(ctx, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "POD_NAME and POD_NAMESPACE"));

	n = node("{\"metadata\":{\"name\":\"w\",\"annotations\":{"
		 "\"flannel.alpha.coreos.com/node-public-ip\":\"192.0.2.7\","
		 "\"flannel.alpha.coreos.com/node-public-ipv6\":\"2001:db8::7\"}}}");
	CU_ASSERT_EQUAL(kube_node_pinned(ctx, store, n, &host), 0);
	CU_ASSERT_STRING_EQUAL(host.public_ip, "192.0.2.7");
	CU_ASSERT_STRING_EQUAL(host.public_ipv6, "2001:db8::7");
	json_decref(n);
	memset(&host, 0, sizeof(host));
	n = node("{\"metadata\":{\"name\":\"w\",\"annotations\":{"
		 "\"flannel.alpha.coreos.com/public-ip\":\"192.0.2.8\"}}}");
	CU_ASSERT_EQUAL(kube_node_pinned(ctx, store, n, &host), 0);
	CU_ASSERT_STRING_EQUAL(host.public_ip, "");	/* what we published is no pin */
	json_decref(n);
	n = node("{\"metadata\":{\"name\":\"w\",\"annotations\":{"
		 "\"flannel.alpha.coreos.com/node-public-ip\":\"2001:db8::9\"}}}");
	CU_ASSERT_EQUAL(kube_node_pinned(ctx, store, n, &host), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "flannel.alpha.coreos.com/node-public-ip: "
				      "'2001:db8::9' is not an IPv4 address"));
	json_decref(n);
	kube_store_free(store);
}

static void test_condition_patch(void)
{
	char *patch = kube_condition_patch(0);

	CU_ASSERT_STRING_EQUAL(patch, "{\"status\":{\"conditions\":[{\"type\":\"NetworkUnavailable\","
			       "\"status\":\"False\",\"reason\":\"FlannelIsUp\",\"message\":\"Flannel "
			       "is running on this node\",\"lastTransitionTime\":\"1970-01-01T00:00:00Z\","
			       "\"lastHeartbeatTime\":\"1970-01-01T00:00:00Z\"}]}}");
	free(patch);
}

static CU_TestInfo tests[] = {
	{ "kubeconfig and options", test_kubeconfig },
	{ "kubeconfig mistakes", test_kubeconfig_errors },
	{ "in-cluster token re-read when it rotates", test_in_cluster_token_rotation },
	{ "Node to lease", test_node_lease },
	{ "pod CIDR rules", test_pod_cidrs },
	{ "acquire: checks and patch", test_claim },
	{ "NetworkUnavailable condition", test_condition_patch },
	{ "pod's node and pinned public addresses", test_host },
	CU_TEST_INFO_NULL,
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_dir(void)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void register_tests(void)
{
	if (!mkdtemp(dir) || ovl_ctx_new(&ctx) < 0)
		abort();
	atexit(remove_dir);
	harness_add_suite("kube store", tests);
}
