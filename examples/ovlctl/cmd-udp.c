/*
 * cmd-udp.c - `ovlctl udp run`: the UDP backend in the foreground.  The
 * forwarding loop runs on the main thread through ovl_udp_run(), which
 * returns whenever a signal arrives on the signalfd given as its stop fd:
 * SIGHUP re-reads the peers file, SIGUSR1 prints the counters, SIGTERM and
 * SIGINT remove the device and end.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <jansson.h>

#include "ovlctl.h"

static int load_peers(struct ovlctl *tool, struct ovl_link *link, const char *file)
{
	struct ovl_peer *peers;
	json_t *root;
	size_t count;
	int err, status;

	status = ovlctl_read_peers("udp run", file, &root, &peers, &count);
	if (status)
		return status;
	err = ovl_peer_sync(link, peers, count);
	status = err < 0 ? ovlctl_fail(tool, err, "udp run: peers from %s", file) : 0;
	if (!status && !tool->json)
		fprintf(stderr, "ovlctl: udp run: %zu peers from %s\n", count, file);
	free(peers);
	json_decref(root);
	return status;
}

static void print_stats(struct ovlctl *tool, const struct ovl_link *link)
{
	struct ovl_link_stats s = OVL_LINK_STATS_INIT;
	json_t *o;
	char *text;

	if (ovl_link_stats(link, &s) < 0)
		return;
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "packets_out", (json_int_t)s.packets_out, "bytes_out", (json_int_t)s.bytes_out,
		      "packets_in", (json_int_t)s.packets_in, "bytes_in", (json_int_t)s.bytes_in,
		      "drop_unknown_source", (json_int_t)s.drop_unknown_source,
		      "drop_not_ours", (json_int_t)s.drop_not_ours,
		      "drop_malformed", (json_int_t)s.drop_malformed,
		      "drop_no_route", (json_int_t)s.drop_no_route,
		      "drop_ttl", (json_int_t)s.drop_ttl, "drop_io", (json_int_t)s.drop_io);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text && tool->json)
		printf("%s\n", text);
	else if (text)
		printf("stats %s\n", text);
	fflush(stdout);
	free(text);
	json_decref(o);
}

/* Runs until SIGTERM/SIGINT; 0 or the exit status. */
static int forward(struct ovlctl *tool, struct ovl_link *link, int sfd, const char *peers_file)
{
	struct signalfd_siginfo info;
	int err;

	for (;;) {
		err = ovl_udp_run(link, sfd);
		if (err < 0)
			return ovlctl_fail(tool, err, "udp run");
		if (read(sfd, &info, sizeof(info)) != sizeof(info))
			continue;
		switch (info.ssi_signo) {
		case SIGHUP:
			/* A bad file keeps the peers we have. */
			if (peers_file)
				load_peers(tool, link, peers_file);
			break;
		case SIGUSR1:
			print_stats(tool, link);
			break;
		default:
			return 0;
		}
	}
}

static int udp_run(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_udp_options o = OVL_UDP_OPTIONS_INIT;
	const char *port = NULL, *mtu = NULL, *peers_file = NULL;
	int simple = 0, no_offload = 0;
	const struct ovlctl_option spec[] = {
		{ "local", &o.local, NULL },
		{ "subnet", &o.subnet, NULL },
		{ "network", &o.network, NULL },
		{ "dev", &o.dev, NULL },
		{ "name", &o.name, NULL },
		{ "port", &port, NULL },
		{ "mtu", &mtu, NULL },
		{ "peers", &peers_file, NULL },
		{ "simple", NULL, &simple },
		{ "no-offload", NULL, &no_offload },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;
	unsigned long value;
	sigset_t mask;
	char *json;
	int err, sfd, status;

	if (ovlctl_parse_options("udp run", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!o.local || !o.subnet || !o.network)
		return ovlctl_usage_error("udp run: --local, --subnet and --network are required");
	if (port) {
		if (ovlctl_parse_uint("--port", port, 1, 65535, &value) < 0)
			return 2;
		o.port = (unsigned int)value;
	}
	if (mtu) {
		if (ovlctl_parse_uint("--mtu", mtu, 68, 65507, &value) < 0)
			return 2;
		o.mtu = (unsigned int)value;
	}
	o.flags = (simple ? OVL_UDP_SIMPLE : 0) | (no_offload ? OVL_UDP_NO_OFFLOAD : 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return ovlctl_fail(tool, -errno, "udp run: signalfd");
	err = ovl_udp_up(tool->ctx, &o, &link);
	if (err < 0) {
		close(sfd);
		return ovlctl_fail(tool, err, "udp run");
	}
	status = peers_file ? load_peers(tool, link, peers_file) : 0;
	if (!status) {
		json = ovl_link_to_json(link);
		printf("%s\n", json ? json : "{}");
		fflush(stdout);
		free(json);
		status = forward(tool, link, sfd, peers_file);
	}
	print_stats(tool, link);
	err = ovl_link_down(link);
	if (err < 0 && !status)
		status = ovlctl_fail(tool, err, "udp run: removing %s", ovl_link_name(link));
	ovl_link_free(link);
	close(sfd);
	return status;
}

int cmd_udp(struct ovlctl *tool, int argc, char **argv)
{
	if (argc < 1)
		return ovlctl_usage_error("udp: run? (see ovlctl help udp)");
	if (!strcmp(argv[0], "run"))
		return udp_run(tool, argc - 1, argv + 1);
	return ovlctl_usage_error("udp: unknown subcommand '%s'", argv[0]);
}
