/*
 * cmd-run.c - `ovlctl run`: the embedded agent (ovl_node) in the foreground,
 * driven by poll() on its one fd and a signalfd, one log line per event
 * (with flanneld's --kube-subnet-mgr flags, on a kube: store), with
 * --listen's HTTP endpoints and systemd's notifications served in the same
 * wait (run-supervise.c);
 * `ovlctl status`: what a running agent left behind, read back from
 * subnet.env, the kernel and the store.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "ovlctl.h"

static void log_line(void *userdata, int level, const char *message)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info", "debug" };
	const char *node = userdata;
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour, tm.tm_min,
		tm.tm_sec, now.tv_nsec / 1000000, node,
		level >= 0 && level < 8 ? names[level] : "log", message);
}

/* SIGTERM and SIGINT (stop), SIGUSR1 (a new WireGuard key) as a readable
 * fd, so poll() sees them between events. */
static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int run_loop(struct ovlctl *tool, struct ovl_node *node,
		    struct ovlctl_supervisor *supervisor, int sigfd)
{
	int signal;

	for (;;) {
		/* The node's fd includes its timers; the timeout is a safety net. */
		signal = ovlctl_supervisor_wait(supervisor, ovl_node_fd(node),
						ovl_node_next_timeout_ms(node), sigfd);
		if (signal == SIGUSR1) {
			if (ovl_node_rotate_key(node) < 0)
				fprintf(stderr, "ovlctl: run: rotating the key: %s\n",
					ovl_ctx_error(tool->ctx));
			continue;
		}
		if (signal) {
			fprintf(stderr, "ovlctl: run: %s, stopping\n", strsignal(signal));
			return 0;
		}
		ovl_node_dispatch(node);
	}
}

struct run_args {
	const char *node, *iface, *public_ip, *public_ipv6, *subnet_file, *listen;
	const char *ttl, *margin, *resync;
	const char *wireguard_userspace, *wireguard_key_file;
	int teardown, ip_masq, no_forward_rules;
	/* flanneld's kube subnet manager flags */
	int kube_subnet_mgr;
	const char *kubeconfig, *kube_api_url, *kube_prefix, *net_config_path;
	const char *set_network_unavailable;
};

static int number(const char *option, const char *text, unsigned int *value)
{
	unsigned long number;

	if (!text)
		return 0;
	if (ovlctl_parse_uint(option, text, 1, 10 * 365 * 86400UL, &number) < 0)
		return -1;
	*value = (unsigned int)number;
	return 0;
}

/* Worth waiting for: the store cannot be reached yet, or (kube) the node
 * has no pod CIDR yet. */
static int unreachable(int err)
{
	return err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -ETIMEDOUT ||
	       err == -ECONNRESET || err == -EAGAIN;
}

/* Config and first lease, waiting like flanneld for a store that cannot be
 * reached yet (etcd still starting, or away): the agent comes up once it
 * is back.  Returns 0 (*node is NULL when a signal ended the wait) or the
 * exit status after reporting why. */
static int start(struct ovlctl *tool, struct ovl_store *store,
		 const struct ovl_node_options *options, int sigfd,
		 struct ovlctl_supervisor *supervisor,
		 struct ovl_config **config, struct ovl_node **node)
{
	struct ovlctl_run_state *state = ovlctl_supervisor_state(supervisor);
	char why[600];
	int err;

	for (;;) {
		err = ovlctl_load_config(tool, store, config);
		if (!err) {
			err = ovl_node_start(tool->ctx, store, *config, options, node);
			if (!err)
				return 0;
			ovl_config_free(*config);
			*config = NULL;
			if (!unreachable(err))
				return ovlctl_fail(tool, err, "run");
		} else if (!unreachable(err)) {
			return ovlctl_fail(tool, err, "run: config");
		}
		snprintf(why, sizeof(why), "store unreachable: retrying in 1 s: %s",
			 ovl_ctx_error(tool->ctx));
		log_line((void *)(options->node_name ? options->node_name : "ovl"),
			 OVL_LOG_WARNING, err == -EAGAIN ? ovl_ctx_error(tool->ctx) : why);
		snprintf(state->waiting, sizeof(state->waiting), "waiting for the store: %s",
			 ovl_ctx_error(tool->ctx));
		err = ovlctl_supervisor_wait(supervisor, -1, 1000, sigfd);
		if (err == SIGUSR1)
			fprintf(stderr, "ovlctl: run: no key to rotate before the agent starts\n");
		else if (err) {
			fprintf(stderr, "ovlctl: run: stopped while waiting for the store\n");
			return 0;
		}
	}
}

/* Appends prefix then text %-escaped (what a URI's path or query value
 * may not hold) to *uri. */
static int append(char **uri, const char *prefix, const char *text)
{
	size_t length = strlen(*uri), i;
	char *grown, *p;

	grown = realloc(*uri, length + strlen(prefix) + 3 * strlen(text) + 1);
	if (!grown)
		return -ENOMEM;
	*uri = grown;
	p = grown + length;
	p += sprintf(p, "%s", prefix);
	for (i = 0; text[i]; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '%' || c == '&' || c == '?' || c == '=' || c <= ' ' || c >= 0x7f)
			p += sprintf(p, "%%%02X", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return 0;
}

/* --kube-subnet-mgr: the kube: store URI flanneld's flags describe; the
 * node name from --node, else NODE_NAME, else the store finds the Node the
 * pod POD_NAMESPACE/POD_NAME runs on when the agent starts (see ovlctl(8)). */
static int kube_store_uri(struct ovlctl *tool, struct run_args *args, char **uri)
{
	const char *env = getenv("NODE_NAME");
	const char *pod = getenv("POD_NAME"), *namespace = getenv("POD_NAMESPACE");
	const char *names[] = { "node", "api-url", "annotation-prefix", "net-config-path",
				"node-network-unavailable", "pod" };
	const char *values[] = { NULL, args->kube_api_url, args->kube_prefix,
				 args->net_config_path, args->set_network_unavailable, NULL };
	char pod_ref[512];
	size_t i;
	int err;

	if (!args->node && env && *env)
		args->node = env;
	if (!args->node && (!pod || !*pod || !namespace || !*namespace))
		return ovlctl_usage_error("run --kube-subnet-mgr: which Node is this host? "
					  "(--node NAME, NODE_NAME, or POD_NAME and "
					  "POD_NAMESPACE of the agent's pod)");
	values[0] = args->node;
	if (!args->node) {
		snprintf(pod_ref, sizeof(pod_ref), "%s/%s", namespace, pod);
		values[5] = pod_ref;
	}
	*uri = strdup("kube:");
	err = *uri ? append(uri, "", args->kubeconfig ? args->kubeconfig : "") : -ENOMEM;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !err; i++)
		if (values[i])
			err = append(uri, strchr(*uri, '?') ? "&" : "?", names[i]) < 0 ? -ENOMEM :
			      append(uri, "=", values[i]);
	if (err < 0)
		return ovlctl_fail(tool, err, "run");
	tool->store_uri = *uri;
	return 0;
}

static int run(struct ovlctl *tool, struct run_args *args)
{
	struct ovl_node_options options = OVL_NODE_OPTIONS_INIT;
	struct ovl_store *store = NULL;
	struct ovl_config *config = NULL;
	struct ovl_node *node = NULL;
	struct ovlctl_supervisor *supervisor = NULL;
	char *kube_uri = NULL;
	int status, err, sigfd = -1;

	if (args->kube_subnet_mgr && (status = kube_store_uri(tool, args, &kube_uri)))
		return status;
	options.node_name = args->node;
	options.iface = args->iface;
	options.public_ip = args->public_ip;
	options.public_ipv6 = args->public_ipv6;
	options.subnet_file = args->subnet_file;
	options.ip_masq = args->ip_masq;
	options.wireguard_userspace = args->wireguard_userspace;
	options.wireguard_key_file = args->wireguard_key_file;
	options.flags = args->no_forward_rules ? OVL_NODE_NO_FORWARD_RULES : 0;
	if (number("--ttl", args->ttl, &options.ttl_seconds) < 0 ||
	    number("--renew-margin", args->margin, &options.renew_margin_seconds) < 0 ||
	    number("--resync", args->resync, &options.resync_seconds) < 0) {
		free(kube_uri);
		return 2;
	}
	ovl_ctx_set_log(tool->ctx, tool->verbose ? OVL_LOG_DEBUG : OVL_LOG_INFO, log_line,
			(void *)(args->node ? args->node : "ovl"));
	status = ovlctl_open_store(tool, &store);
	if (status) {
		free(kube_uri);
		return status;
	}
	status = ovlctl_supervisor_open(tool, args->listen, &supervisor);
	if (status)
		goto out;
	sigfd = signal_fd();
	if (sigfd < 0) {
		status = ovlctl_fail(tool, sigfd, "run: signalfd");
		goto out;
	}
	status = start(tool, store, &options, sigfd, supervisor, &config, &node);
	if (node) {
		ovlctl_supervisor_state(supervisor)->node = node;
		status = run_loop(tool, node, supervisor, sigfd);
		ovlctl_supervisor_state(supervisor)->node = NULL;
		err = ovl_node_stop(node, args->teardown ? OVL_NODE_TEARDOWN : 0);
		if (err < 0 && !status)
			status = ovlctl_fail(tool, err, "run: teardown");
	}
out:
	if (sigfd >= 0)
		close(sigfd);
	ovlctl_supervisor_close(supervisor);
	ovl_config_free(config);
	ovl_store_close(store);
	free(kube_uri);
	return status;
}

int cmd_run(struct ovlctl *tool, int argc, char **argv)
{
	struct run_args args = { 0 };
	const struct ovlctl_option options[] = {
		{ "node", &args.node, NULL },
		{ "iface", &args.iface, NULL },
		{ "public-ip", &args.public_ip, NULL },
		{ "public-ipv6", &args.public_ipv6, NULL },
		{ "subnet-file", &args.subnet_file, NULL },
		{ "ttl", &args.ttl, NULL },
		{ "renew-margin", &args.margin, NULL },
		{ "resync", &args.resync, NULL },
		{ "ip-masq", NULL, &args.ip_masq },
		{ "no-forward-rules", NULL, &args.no_forward_rules },
		{ "teardown", NULL, &args.teardown },
		{ "wireguard-userspace", &args.wireguard_userspace, NULL },
		{ "wireguard-key-file", &args.wireguard_key_file, NULL },
		{ "kube-subnet-mgr", NULL, &args.kube_subnet_mgr },
		{ "kubeconfig-file", &args.kubeconfig, NULL },
		{ "kube-api-url", &args.kube_api_url, NULL },
		{ "kube-annotation-prefix", &args.kube_prefix, NULL },
		{ "net-config-path", &args.net_config_path, NULL },
		{ "set-node-network-unavailable", &args.set_network_unavailable, NULL },
		{ "listen", &args.listen, NULL },	/* /healthz /readyz /metrics */
		{ NULL, NULL, NULL },
	};
	char *extra[1];

	if (ovlctl_parse_options("run", argc, argv, options, extra, 0) < 0)
		return 2;
	return run(tool, &args);
}

/* --------------------------------------------------------------- status */

struct status_args {
	const char *subnet_file, *link, *node;
};

/* The device name the config implies, or --link. */
static void device_name(struct ovlctl *tool, struct ovl_store *store,
			const struct status_args *args, char *name, size_t size)
{
	struct ovl_config *config;

	if (args->link) {
		snprintf(name, size, "%s", args->link);
		return;
	}
	if (ovlctl_load_config(tool, store, &config) == 0) {
		if (!strcmp(ovl_config_backend_type(config), "wireguard"))
			snprintf(name, size, "flannel-wg");
		else
			snprintf(name, size, "flannel.%u", ovl_config_vni(config));
		ovl_config_free(config);
	} else {
		snprintf(name, size, "flannel.1");
	}
}

/* Our lease: the record whose subnet is the one subnet.env names. */
static json_t *lease_json(struct ovl_store *store, const char *subnet_env_subnet,
			  char *holder, size_t size)
{
	struct ovl_lease **leases;
	struct ovl_prefix prefix;
	char subnet[OVL_PREFIX_STRLEN];
	json_t *found = json_null();
	size_t count, i;

	holder[0] = '\0';
	if (!store || ovl_prefix_parse(subnet_env_subnet, &prefix) < 0)
		return found;
	ovl_prefix_mask(&prefix);
	ovl_prefix_format(&prefix, subnet, sizeof(subnet));
	if (ovl_leases(store, &leases, &count) < 0)
		return found;
	for (i = 0; i < count; i++) {
		const struct ovl_lease *lease = leases[i];
		const char *name = ovl_lease_node_name(lease);
		const char *ip = ovl_lease_public_ip(lease, AF_INET);

		if (!ovl_lease_subnet(lease, AF_INET) ||
		    strcmp(ovl_lease_subnet(lease, AF_INET), subnet))
			continue;
		json_decref(found);
		found = json_pack("{s:s,s:s?,s:s?,s:s?,s:I}", "key", ovl_lease_key(lease),
				  "node", name, "public_ip", ip, "backend_data",
				  ovl_lease_backend_data(lease, AF_INET),
				  "expiration", (json_int_t)ovl_lease_expiration(lease));
		snprintf(holder, size, "%s", name ? name : ip ? ip : "");
	}
	ovl_leases_free(leases, count);
	return found ? found : json_null();
}

static json_t *device_json(struct ovlctl *tool, const char *name, json_t **peers)
{
	struct ovl_link *link;
	struct ovl_peer_v2 *list;
	size_t count, i;
	json_t *device, *peer;

	*peers = json_array();
	if (ovl_link_open(tool->ctx, name, &link) < 0)
		return json_null();
	device = json_pack("{s:s,s:s,s:i,s:i}", "name", name, "mac", ovl_link_mac(link),
			   "mtu", (int)ovl_link_mtu(link), "ifindex", ovl_link_ifindex(link));
	if (ovl_peer_v2_list(link, sizeof(*list), &list, &count) == 0) {
		for (i = 0; i < count; i++) {
			peer = json_pack("{s:s,s:s?,s:s?}", "subnet", list[i].subnet,
					 "public_ip", list[i].public_ip, "mac", list[i].mac);
			/* wireguard: the device's view of the peer */
			if (peer && list[i].public_key)
				json_object_update_new(peer, json_pack(
					"{s:s,s:i,s:I,s:I,s:I}", "public_key", list[i].public_key,
					"port", (int)list[i].port, "last_handshake",
					(json_int_t)list[i].last_handshake, "rx_bytes",
					(json_int_t)list[i].rx_bytes, "tx_bytes",
					(json_int_t)list[i].tx_bytes));
			json_array_append_new(*peers, peer);
		}
		ovl_peers_v2_free(list, count);
	}
	ovl_link_free(link);
	return device ? device : json_null();
}

static void print_status_text(json_t *root)
{
	json_t *env = json_object_get(root, "subnet_env");
	json_t *device = json_object_get(root, "device");
	json_t *lease = json_object_get(root, "lease");
	json_t *peers = json_object_get(root, "peers"), *peer;
	size_t i;

	printf("subnet.env  %s", json_string_value(json_object_get(root, "subnet_file")));
	if (json_is_object(env))
		printf(": network %s, subnet %s, mtu %d\n",
		       json_string_value(json_object_get(env, "network")),
		       json_string_value(json_object_get(env, "subnet")),
		       (int)json_integer_value(json_object_get(env, "mtu")));
	else
		printf(": missing\n");
	if (json_is_object(device))
		printf("device      %s mac %s mtu %d\n",
		       json_string_value(json_object_get(device, "name")),
		       json_string_value(json_object_get(device, "mac")),
		       (int)json_integer_value(json_object_get(device, "mtu")));
	else
		printf("device      missing\n");
	if (json_is_object(lease)) {
		json_int_t expiration = json_integer_value(json_object_get(lease, "expiration"));

		printf("lease       %s node %s public-ip %s ", json_string_value(json_object_get(lease, "key")),
		       json_string_value(json_object_get(lease, "node")) ?: "-",
		       json_string_value(json_object_get(lease, "public_ip")) ?: "-");
		if (expiration)
			printf("expires in %lld s\n", (long long)(expiration - time(NULL)));
		else
			printf("reserved\n");
	} else {
		printf("lease       missing\n");
	}
	printf("peers       %zu\n", json_array_size(peers));
	json_array_foreach(peers, i, peer) {
		json_int_t handshake = json_integer_value(json_object_get(peer, "last_handshake"));
		char when[32] = "never";

		if (handshake)
			snprintf(when, sizeof(when), "%llds ago", (long long)(time(NULL) - handshake));
		if (json_object_get(peer, "public_key"))
			printf("  %-20s via %-16s key %s handshake %s rx %lld tx %lld\n",
			       json_string_value(json_object_get(peer, "subnet")),
			       json_string_value(json_object_get(peer, "public_ip")) ?: "-",
			       json_string_value(json_object_get(peer, "public_key")), when,
			       (long long)json_integer_value(json_object_get(peer, "rx_bytes")),
			       (long long)json_integer_value(json_object_get(peer, "tx_bytes")));
		else
			printf("  %-20s via %-16s mac %s\n",
			       json_string_value(json_object_get(peer, "subnet")),
			       json_string_value(json_object_get(peer, "public_ip")),
			       json_string_value(json_object_get(peer, "mac")) ?: "-");
	}
	printf("state       %s\n", json_string_value(json_object_get(root, "state")));
}

static int status(struct ovlctl *tool, const struct status_args *args)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	const char *file = args->subnet_file ? args->subnet_file : OVL_SUBNET_ENV_DEFAULT_PATH;
	struct ovl_store *store = NULL;
	char name[64], holder[256], why[640] = "";
	json_t *root, *device, *lease = json_null(), *peers;
	int have_env;

	have_env = ovl_subnet_env_read(tool->ctx, file, &env) == 0;
	if (ovl_store_open(tool->ctx, tool->store_uri, &store) < 0)
		store = NULL;
	device_name(tool, store, args, name, sizeof(name));
	device = device_json(tool, name, &peers);
	if (have_env)
		lease = lease_json(store, env.subnet, holder, sizeof(holder));
	if (!have_env)
		snprintf(why, sizeof(why), "no subnet.env at %s", file);
	else if (json_is_null(device))
		snprintf(why, sizeof(why), "no device %s", name);
	else if (json_is_null(lease))
		snprintf(why, sizeof(why), "no lease for %s in the store", env.subnet);
	else if (args->node && strcmp(holder, args->node))
		snprintf(why, sizeof(why), "the lease for %s is held by %s, not %s",
			 env.subnet, holder, args->node);
	root = json_pack("{s:s,s:o,s:o,s:o,s:o,s:s,s:s?}", "subnet_file", file,
			 "subnet_env", have_env ? json_pack("{s:s,s:s,s:i,s:b}",
				"network", env.network, "subnet", env.subnet,
				"mtu", (int)env.mtu, "ipmasq", env.ipmasq) : json_null(),
			 "device", device, "lease", lease, "peers", peers,
			 "state", why[0] ? "not ready" : "ready", "reason", why[0] ? why : NULL);
	if (tool->json) {
		char *text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);

		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		print_status_text(root);
	}
	json_decref(root);
	if (store)
		ovl_store_close(store);
	if (why[0])
		fprintf(stderr, "ovlctl: status: %s\n", why);
	return why[0] ? 1 : 0;
}

int cmd_status(struct ovlctl *tool, int argc, char **argv)
{
	struct status_args args = { 0 };
	const struct ovlctl_option options[] = {
		{ "subnet-file", &args.subnet_file, NULL },
		{ "link", &args.link, NULL },
		{ "node", &args.node, NULL },
		{ NULL, NULL, NULL },
	};
	char *extra[1];

	if (ovlctl_parse_options("status", argc, argv, options, extra, 0) < 0)
		return 2;
	return status(tool, &args);
}
