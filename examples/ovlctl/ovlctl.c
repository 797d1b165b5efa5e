/*
 * ovlctl.c - the command line over the whole libovl API: global options,
 * command dispatch, help.  Each command lives in its own cmd-*.c file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovlctl.h"

static const struct ovlctl_command commands[] = {
	{ "config", cmd_config, "check a net-conf.json and print the effective config",
	  "ovlctl config check FILE          validate FILE, print every derived value\n"
	  "ovlctl config show                the config in use (--config, else the store's)\n"
	  "ovlctl config put FILE            store FILE as the network config\n" },
	{ "lease", cmd_lease, "acquire, renew, release, reserve and list subnet leases",
	  "ovlctl lease acquire --node N --public-ip IP [--public-ipv6 IP] [--subnet CIDR]\n"
	  "                     [--ipv6-subnet CIDR] [--ttl S] [--backend-data JSON]\n"
	  "ovlctl lease renew   --node N --public-ip IP [--ttl S]\n"
	  "ovlctl lease release --node N --public-ip IP\n"
	  "ovlctl lease reserve --node N --public-ip IP --subnet CIDR\n"
	  "ovlctl lease list\n" },
	{ "subnet-env", cmd_subnet_env, "write or show flannel's subnet.env",
	  "ovlctl subnet-env write [--file PATH] --network CIDR --subnet CIDR [--ipv6-network CIDR]\n"
	  "                        [--ipv6-subnet CIDR] --mtu N [--ipmasq]\n"
	  "ovlctl subnet-env show [--file PATH]\n" },
	{ "vxlan", cmd_vxlan, "bring the VXLAN device up or down, show it",
	  "ovlctl vxlan up --local IP --subnet CIDR [--network CIDR] [--dev IF] [--vni N]\n"
	  "                [--port P] [--mac MAC] [--mtu N] [--name N] [--replace]\n"
	  "ovlctl vxlan down [--name N]\n"
	  "ovlctl vxlan show [--name N]\n" },
	{ "hostgw", cmd_hostgw, "the host-gw backend: a route per peer, no device",
	  "ovlctl hostgw up --local IP --subnet CIDR [--network CIDR] [--dev IF]\n"
	  "                 prints the link name: host-gw:IF (IPv4), host-gw-v6:IF (IPv6)\n"
	  "ovlctl hostgw down [--link host-gw:IF]   removes the link's routes\n"
	  "ovlctl hostgw show [--link host-gw:IF]\n"
	  "peers: ovlctl peer add|del|list|sync ... --link host-gw:IF\n" },
	{ "udp", cmd_udp, "the UDP backend's forwarding loop in the foreground",
	  "ovlctl udp run --local IP --subnet CIDR --network CIDR [--port P] [--dev IF]\n"
	  "               [--name N] [--mtu N] [--peers FILE] [--simple] [--no-offload]\n"
	  "               FILE: JSON list of {subnet, public_ip}, re-read on SIGHUP;\n"
	  "               SIGUSR1 prints the counters; SIGTERM/SIGINT remove the device\n" },
	{ "peer", cmd_peer, "add, delete, list and sync peers on a link",
	  "ovlctl peer add  --subnet CIDR --public-ip IP [--mac MAC] [--link NAME]\n"
	  "ovlctl peer del  --subnet CIDR [--public-ip IP] [--mac MAC] [--link NAME]\n"
	  "ovlctl peer list [--link NAME]\n"
	  "ovlctl peer sync FILE [--link NAME]   FILE: JSON list of {subnet, public_ip, mac}\n" },
	{ "run", cmd_run, "the embedded agent in the foreground (flanneld's job)",
	  "ovlctl run [--node N] [--iface IF] [--public-ip IP] [--public-ipv6 IP]\n"
	  "           [--subnet-file PATH] [--ttl S] [--renew-margin S] [--resync S]\n"
	  "           [--ip-masq] [--no-forward-rules] [--teardown]\n"
	  "           [--wireguard-userspace PROGRAM] [--wireguard-key-file PATH]\n"
	  "           PROGRAM: e.g. wireguard-go, for a kernel without WireGuard;\n"
	  "           PATH: default $WIREGUARD_KEY_FILE, else /run/flannel/wgkey\n"
	  "           [--kube-subnet-mgr [--kubeconfig-file PATH] [--kube-api-url URL]\n"
	  "            [--kube-annotation-prefix P] [--net-config-path PATH]\n"
	  "            [--set-node-network-unavailable true|false]]\n"
	  "           --kube-subnet-mgr: flanneld's kube mode on a kube: store; the node\n"
	  "           is --node, else NODE_NAME\n"
	  "           [--listen ADDR:PORT]\n"
	  "  --listen: /healthz, /readyz and /metrics over HTTP (PORT alone: 127.0.0.1);\n"
	  "  under systemd (NOTIFY_SOCKET) READY=1, STATUS= and WATCHDOG=1 are sent;\n"
	  "  SIGUSR1: a new WireGuard key (ovlctl wireguard rotate)\n" },
	{ "wireguard", cmd_wireguard, "the wireguard backend: device, keys, peers with keys",
	  "ovlctl wireguard genkey              a new private key (base64)\n"
	  "ovlctl wireguard pubkey              the public key of the private key on stdin\n"
	  "ovlctl wireguard up --local IP --subnet CIDR --network CIDR\n"
	  "                    [--key-file PATH] [--psk KEY] [--port P] [--keepalive S]\n"
	  "                    [--dev IF] [--name N] [--mtu N] [--userspace PROGRAM]\n"
	  "                    [--kernel | --userspace-only]\n"
	  "ovlctl wireguard down [--name N]\n"
	  "ovlctl wireguard show [--name N]     device, and per peer: key, endpoint,\n"
	  "                                     last handshake, bytes\n"
	  "ovlctl wireguard peer add --subnet CIDR --public-ip IP --public-key KEY [--port P]\n"
	  "                          [--name N]\n"
	  "ovlctl wireguard peer del --subnet CIDR [--public-key KEY] [--name N]\n"
	  "ovlctl wireguard rotate --pid PID [--key-file PATH] [--timeout S]\n"
	  "                    a new key for the running agent PID (ovlctl run, which\n"
	  "                    rotates on SIGUSR1): prints its public key once the key\n"
	  "                    file (default $WIREGUARD_KEY_FILE, else /run/flannel/wgkey)\n"
	  "                    has it; the lease publishes it once the devices have it\n" },
	{ "masq", cmd_masq, "install, check or remove the masquerade and forward rules",
	  "ovlctl masq apply  --network CIDR --subnet CIDR [--no-fully-random] [--no-forward]\n"
	  "ovlctl masq check  --network CIDR --subnet CIDR [--no-fully-random] [--no-forward]\n"
	  "ovlctl masq apply|check --network CIDR [--subnet CIDR] --no-masquerade\n"
	  "ovlctl masq remove [--family 4|6]\n" },
	{ "status", cmd_status, "the running state from subnet.env, the kernel and the store",
	  "ovlctl status [--subnet-file PATH] [--link NAME] [--node N]\n" },
	{ "completion", cmd_completion, "print the bash completion script (made from this table)",
	  "ovlctl completion bash\n" },
};

const struct ovlctl_command *ovlctl_command_table(size_t *count)
{
	*count = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

static void print_help(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: ovlctl [--store URI] [--config FILE] [--netns NAME] [--json] [--verbose]\n"
		"              COMMAND [ARGS]   (global options may also follow the command)\n\n"
		"  --store URI    lease store (default %s)\n"
		"  --config FILE  net-conf.json (default: the store's, else %s)\n"
		"  --netns NAME   work in network namespace NAME (/run/netns/NAME)\n"
		"  --json         stable JSON output (see ovlctl(8))\n"
		"  --verbose      print the library's log on stderr\n\n"
		"commands:\n", OVL_STORE_DEFAULT_URI, OVLCTL_DEFAULT_CONFIG);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-12s %s\n\n`ovlctl help COMMAND` or `ovlctl COMMAND --help` shows a command's usage.\n",
		"help", "this text, or a command's usage");
}

static const struct ovlctl_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void log_to_stderr(void *userdata, int level, const char *message)
{
	static const char *const names[] = { "", "", "", "error", "warning",
					     "notice", "info", "debug" };

	(void)userdata;
	fprintf(stderr, "ovlctl: %s: %s\n",
		level >= 0 && level < 8 ? names[level] : "log", message);
}

static int is_global_option(const char *arg)
{
	static const char *const names[] = { "--json", "--verbose", "-v", "--store",
					     "--config", "--netns" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(arg, names[i]))
			return 1;
	return 0;
}

static int global_option(struct ovlctl *tool, int *argi, int argc, char **argv)
{
	const char *arg = argv[*argi];
	const char **slot = NULL;

	if (!strcmp(arg, "--json")) {
		tool->json = 1;
		return 0;
	}
	if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v")) {
		tool->verbose = 1;
		return 0;
	}
	if (!strcmp(arg, "--store"))
		slot = &tool->store_uri;
	else if (!strcmp(arg, "--config"))
		slot = &tool->config_path;
	else if (!strcmp(arg, "--netns"))
		slot = &tool->netns;
	else
		return ovlctl_usage_error("unknown option '%s' (see ovlctl --help)", arg);
	if (*argi + 1 >= argc)
		return ovlctl_usage_error("%s needs a value", arg);
	*slot = argv[++*argi];
	return 0;
}

/* Global options stand before or after the command alike ("ovlctl lease
 * list --json"): those after it are taken out of the command's arguments,
 * up to a "--".  *help is set by --help or -h among them. */
static int take_global_options(struct ovlctl *tool, int *argc, char **argv, int *help)
{
	int in, out = 0, status;

	for (in = 0; in < *argc; in++) {
		if (!strcmp(argv[in], "--")) {
			while (in < *argc)
				argv[out++] = argv[in++];
			break;
		}
		if (!strcmp(argv[in], "--help") || !strcmp(argv[in], "-h")) {
			*help = 1;
			continue;
		}
		if (!is_global_option(argv[in])) {
			argv[out++] = argv[in];
			continue;
		}
		status = global_option(tool, &in, *argc, argv);
		if (status)
			return status;
	}
	*argc = out;
	return 0;
}

int main(int argc, char **argv)
{
	struct ovlctl tool = { 0 };
	const struct ovlctl_command *command;
	int argi, err, status, help = 0, count;

	tool.store_uri = getenv("OVL_STORE");
	if (!tool.store_uri)
		tool.store_uri = OVL_STORE_DEFAULT_URI;
	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		if (!strcmp(argv[argi], "--help") || !strcmp(argv[argi], "-h")) {
			print_help(stdout);
			return 0;
		}
		if (!strcmp(argv[argi], "--version")) {
			printf("ovlctl %s (libovl %s)\n", OVL_VERSION_STRING, ovl_version());
			return 0;
		}
		status = global_option(&tool, &argi, argc, argv);
		if (status)
			return status;
	}
	if (argi >= argc) {
		print_help(stderr);
		return 2;
	}
	if (!strcmp(argv[argi], "help")) {
		if (argi + 1 >= argc) {
			print_help(stdout);
			return 0;
		}
		command = find_command(argv[argi + 1]);
		if (!command)
			return ovlctl_usage_error("unknown command '%s' (see ovlctl --help)",
						  argv[argi + 1]);
		printf("%s", command->usage);
		return 0;
	}
	command = find_command(argv[argi]);
	if (!command)
		return ovlctl_usage_error("unknown command '%s' (see ovlctl --help)",
					  argv[argi]);
	count = argc - argi - 1;
	status = take_global_options(&tool, &count, argv + argi + 1, &help);
	if (status)
		return status;
	if (help) {
		printf("%s", command->usage);
		return 0;
	}
	err = ovl_ctx_new(&tool.ctx);
	if (err < 0) {
		fprintf(stderr, "ovlctl: cannot create context: %s\n", ovl_strerror(err));
		return 1;
	}
	if (tool.verbose)
		ovl_ctx_set_log(tool.ctx, OVL_LOG_DEBUG, log_to_stderr, NULL);
	if (tool.netns) {
		err = ovl_ctx_set_netns_name(tool.ctx, tool.netns);
		if (err < 0) {
			status = ovlctl_fail(&tool, err, "--netns %s", tool.netns);
			ovl_ctx_free(tool.ctx);
			return status;
		}
	}
	status = command->run(&tool, count, argv + argi + 1);
	ovl_ctx_free(tool.ctx);
	return status;
}
