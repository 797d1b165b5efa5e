/*
 * cmd-wireguard.c - `ovlctl wireguard genkey|pubkey|up|down|show|peer|rotate`:
 * the wireguard backend's keys (ovl_wireguard_genkey, _pubkey,
 * _key_load), its device (ovl_wireguard_up, reopened by name), its
 * peers with their public keys (ovl_peer_v2_*), whose list shows each
 * peer's last handshake and byte counters, and a running agent's key
 * rotation (SIGUSR1 to `ovlctl run`, ovl_node_rotate_key).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "ovlctl.h"

#define DEFAULT_NAME "flannel-wg"

static int genkey(struct ovlctl *tool)
{
	char key[OVL_WIREGUARD_KEY_STRLEN];
	int err = ovl_wireguard_genkey(tool->ctx, key);

	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard genkey");
	printf("%s\n", key);
	return 0;
}

/* As wg pubkey: the private key on stdin. */
static int pubkey(struct ovlctl *tool)
{
	char line[256], key[OVL_WIREGUARD_KEY_STRLEN];
	size_t length;
	int err;

	if (!fgets(line, sizeof(line), stdin))
		return ovlctl_usage_error("wireguard pubkey: no private key on stdin");
	length = strlen(line);
	while (length && strchr(" \t\r\n", line[length - 1]))
		line[--length] = '\0';
	err = ovl_wireguard_pubkey(tool->ctx, line, key);
	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard pubkey");
	printf("%s\n", key);
	return 0;
}

static int number(const char *option, const char *text, unsigned long max, unsigned int *out)
{
	unsigned long value;

	if (!text)
		return 0;
	if (ovlctl_parse_uint(option, text, 0, max, &value) < 0)
		return -1;
	*out = (unsigned int)value;
	return 0;
}

static int up(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_wireguard_options options = OVL_WIREGUARD_OPTIONS_INIT;
	const char *key_file = NULL, *port = NULL, *keepalive = NULL, *mtu = NULL;
	char key[OVL_WIREGUARD_KEY_STRLEN];
	int kernel = 0, userspace_only = 0, err;
	const struct ovlctl_option spec[] = {
		{ "local", &options.local, NULL },
		{ "subnet", &options.subnet, NULL },
		{ "network", &options.network, NULL },
		{ "dev", &options.dev, NULL },
		{ "name", &options.name, NULL },
		{ "key-file", &key_file, NULL },
		{ "psk", &options.preshared_key, NULL },
		{ "port", &port, NULL },
		{ "keepalive", &keepalive, NULL },
		{ "mtu", &mtu, NULL },
		{ "userspace", &options.userspace, NULL },
		{ "kernel", NULL, &kernel },
		{ "userspace-only", NULL, &userspace_only },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;

	if (ovlctl_parse_options("wireguard up", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!options.local || !options.subnet || !options.network)
		return ovlctl_usage_error("wireguard up: --local IP, --subnet CIDR and --network CIDR are required");
	if (number("--port", port, 65535, &options.listen_port) < 0 ||
	    number("--keepalive", keepalive, 65535, &options.keepalive) < 0 ||
	    number("--mtu", mtu, 65535, &options.mtu) < 0)
		return 2;
	options.flags = (kernel ? OVL_WIREGUARD_KERNEL : 0) |
		(userspace_only ? OVL_WIREGUARD_USERSPACE : 0);
	err = ovl_wireguard_key_load(tool->ctx, key_file, key);
	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard up: key");
	options.private_key = key;
	err = ovl_wireguard_up(tool->ctx, &options, &link);
	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard up");
	printf("%s\n", ovl_link_name(link));
	ovl_link_free(link);
	return 0;
}

static void print_peer(const struct ovl_peer_v2 *peer, json_t *list)
{
	char when[32] = "never";
	time_t seconds = (time_t)peer->last_handshake;
	struct tm tm;

	if (list) {
		json_array_append_new(list, json_pack(
			"{s:s, s:s?, s:i, s:s?, s:I, s:I, s:I}", "subnet", peer->subnet,
			"public_ip", peer->public_ip, "port", (int)peer->port,
			"public_key", peer->public_key, "last_handshake",
			(json_int_t)peer->last_handshake, "rx_bytes", (json_int_t)peer->rx_bytes,
			"tx_bytes", (json_int_t)peer->tx_bytes));
		return;
	}
	if (seconds && gmtime_r(&seconds, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("  peer %s key %s endpoint %s:%u handshake %s rx %llu tx %llu\n", peer->subnet,
	       peer->public_key ? peer->public_key : "-", peer->public_ip ? peer->public_ip : "-",
	       peer->port, when, (unsigned long long)peer->rx_bytes,
	       (unsigned long long)peer->tx_bytes);
}

static int show(struct ovlctl *tool, struct ovl_link *link)
{
	struct ovl_peer_v2 *peers;
	json_t *root, *list = NULL;
	size_t count, i;
	char *text;
	int err;

	err = ovl_peer_v2_list(link, sizeof(*peers), &peers, &count);
	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard show");
	text = ovl_link_to_json(link);
	root = text ? json_loads(text, 0, NULL) : NULL;
	ovl_free(text);
	if (tool->json)
		list = json_array();
	if (!root || (tool->json && !list)) {
		ovl_peers_v2_free(peers, count);
		json_decref(root);
		return ovlctl_fail(tool, -ENOMEM, "wireguard show");
	}
	if (!tool->json)
		printf("%s: mtu %u port %lld subnet %s network %s\n", ovl_link_name(link),
		       ovl_link_mtu(link),
		       (long long)json_integer_value(json_object_get(root, "port")),
		       json_string_value(json_object_get(root, "subnet")),
		       json_string_value(json_object_get(root, "network")));
	for (i = 0; i < count; i++)
		print_peer(&peers[i], list);
	if (tool->json) {
		json_object_set_new(root, "peers", list);
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", text ? text : "{}");
		free(text);
	}
	json_decref(root);
	ovl_peers_v2_free(peers, count);
	return 0;
}

static int peer_change(struct ovlctl *tool, struct ovl_link *link, int add, int argc, char **argv)
{
	struct ovl_peer_v2 peer = OVL_PEER_V2_INIT;
	const char *port = NULL, *name = NULL;
	const struct ovlctl_option spec[] = {
		{ "subnet", &peer.subnet, NULL },
		{ "public-ip", &peer.public_ip, NULL },
		{ "public-key", &peer.public_key, NULL },
		{ "port", &port, NULL },
		{ "name", &name, NULL },
		{ NULL, NULL, NULL },
	};
	int err;

	if (ovlctl_parse_options(add ? "wireguard peer add" : "wireguard peer del", argc, argv,
				 spec, NULL, 0) < 0 ||
	    number("--port", port, 65535, &peer.port) < 0)
		return 2;
	if (!peer.subnet || (add && (!peer.public_ip || !peer.public_key)))
		return ovlctl_usage_error(add ? "wireguard peer add: --subnet, --public-ip and --public-key are required" :
					  "wireguard peer del: --subnet is required");
	err = add ? ovl_peer_v2_add(link, &peer) : ovl_peer_v2_del(link, &peer);
	return err < 0 ? ovlctl_fail(tool, err, "wireguard peer %s %s", add ? "add" : "del",
				     peer.subnet) : 0;
}

/* The key in path ("" when it cannot be read). */
static void read_key(const char *path, char key[OVL_WIREGUARD_KEY_STRLEN])
{
	FILE *file = fopen(path, "re");
	char line[256] = "";
	size_t length;

	key[0] = '\0';
	if (!file)
		return;
	if (fgets(line, sizeof(line), file)) {
		length = strlen(line);
		while (length && strchr(" \t\r\n", line[length - 1]))
			line[--length] = '\0';
		snprintf(key, OVL_WIREGUARD_KEY_STRLEN, "%.44s", line);
	}
	explicit_bzero(line, sizeof(line));
	fclose(file);
}

/* The running agent's new key: `ovlctl run` rotates on SIGUSR1
 * (ovl_node_rotate_key); its key file shows the new key, whose public
 * key is printed. */
static int rotate(struct ovlctl *tool, int argc, char **argv)
{
	const char *pid_text = NULL, *key_file = NULL, *timeout_text = NULL;
	const char *env = getenv("WIREGUARD_KEY_FILE");
	const struct ovlctl_option spec[] = {
		{ "pid", &pid_text, NULL },
		{ "key-file", &key_file, NULL },
		{ "timeout", &timeout_text, NULL },
		{ NULL, NULL, NULL },
	};
	char before[OVL_WIREGUARD_KEY_STRLEN], now[OVL_WIREGUARD_KEY_STRLEN];
	char public_key[OVL_WIREGUARD_KEY_STRLEN];
	unsigned long pid, timeout = 10;
	long long deadline;

	if (ovlctl_parse_options("wireguard rotate", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!pid_text)
		return ovlctl_usage_error("wireguard rotate: --pid PID of the agent (ovlctl run) is required");
	if (ovlctl_parse_uint("--pid", pid_text, 1, INT_MAX, &pid) < 0 ||
	    (timeout_text && ovlctl_parse_uint("--timeout", timeout_text, 1, 3600, &timeout) < 0))
		return 2;
	if (!key_file)
		key_file = env && *env ? env : OVL_WIREGUARD_KEY_FILE;
	read_key(key_file, before);
	if (kill((pid_t)pid, SIGUSR1) < 0)
		return ovlctl_fail(tool, -errno, "wireguard rotate: signalling %lu", pid);
	deadline = ovlctl_now_ms() + (long long)timeout * 1000;
	do {
		read_key(key_file, now);
		if (now[0] && strcmp(now, before) &&
		    ovl_wireguard_pubkey(tool->ctx, now, public_key) == 0) {
			explicit_bzero(now, sizeof(now));
			explicit_bzero(before, sizeof(before));
			printf("%s\n", public_key);
			return 0;
		}
		usleep(20000);
	} while (ovlctl_now_ms() < deadline);
	explicit_bzero(now, sizeof(now));
	explicit_bzero(before, sizeof(before));
	fprintf(stderr, "ovlctl: wireguard rotate: no new key in %s within %lu s (is %lu an "
		"agent on the wireguard backend with that key file?)\n", key_file, timeout, pid);
	return 1;
}

/* The --name of a command on an existing device, wherever it stands. */
static const char *find_name(int argc, char **argv)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--name"))
			return argv[i + 1];
	return DEFAULT_NAME;
}

int cmd_wireguard(struct ovlctl *tool, int argc, char **argv)
{
	const char *name;
	struct ovl_link *link;
	int err, status, peer;

	if (argc < 1)
		return ovlctl_usage_error("wireguard: genkey, pubkey, up, down, show, peer or rotate? (see ovlctl help wireguard)");
	if (!strcmp(argv[0], "genkey"))
		return genkey(tool);
	if (!strcmp(argv[0], "pubkey"))
		return pubkey(tool);
	if (!strcmp(argv[0], "up"))
		return up(tool, argc - 1, argv + 1);
	if (!strcmp(argv[0], "rotate"))
		return rotate(tool, argc - 1, argv + 1);
	peer = !strcmp(argv[0], "peer");
	if (strcmp(argv[0], "down") && strcmp(argv[0], "show") && !peer)
		return ovlctl_usage_error("wireguard: unknown subcommand '%s'", argv[0]);
	if (peer && (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "del"))))
		return ovlctl_usage_error("wireguard peer: add or del?");
	name = find_name(argc, argv);
	if (!peer) {
		const struct ovlctl_option spec[] = { { "name", &name, NULL }, { NULL, NULL, NULL } };

		if (ovlctl_parse_options(argv[0][0] == 'd' ? "wireguard down" : "wireguard show",
					 argc - 1, argv + 1, spec, NULL, 0) < 0)
			return 2;
	}
	err = ovl_link_open(tool->ctx, name, &link);
	if (err == -ENODEV && argv[0][0] == 'd')
		return 0;
	if (err < 0)
		return ovlctl_fail(tool, err, "wireguard %s", argv[0]);
	if (peer)
		status = peer_change(tool, link, argv[1][0] == 'a', argc - 2, argv + 2);
	else if (argv[0][0] == 'd')
		status = (err = ovl_link_down(link)) < 0 ?
			ovlctl_fail(tool, err, "wireguard down") : 0;
	else
		status = show(tool, link);
	ovl_link_free(link);
	return status;
}
