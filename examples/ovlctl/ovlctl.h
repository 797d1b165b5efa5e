/*
 * ovlctl.h - what ovlctl's command files share: the global options, the
 * command table entry, option parsing and error output.
 */
#ifndef OVLCTL_H
#define OVLCTL_H

#include <stdio.h>
#include "ovl.h"

struct ovlctl {
	struct ovl_ctx *ctx;
	const char *store_uri;		/* --store, default OVL_STORE_DEFAULT_URI */
	char store_shown[1024];		/* see ovlctl_store_shown */
	const char *config_path;	/* --config, NULL: the default */
	const char *netns;		/* --netns NAME */
	int json;			/* --json */
	int verbose;			/* --verbose: library log to stderr */
};

#define OVLCTL_DEFAULT_CONFIG "/etc/ovl/net-conf.json"

struct ovlctl_command {
	const char *name;
	int (*run)(struct ovlctl *tool, int argc, char **argv);
	const char *summary;
	const char *usage;		/* shown by `ovlctl help NAME` */
};

/* One per command file. */
int cmd_config(struct ovlctl *tool, int argc, char **argv);
int cmd_lease(struct ovlctl *tool, int argc, char **argv);
int cmd_subnet_env(struct ovlctl *tool, int argc, char **argv);
int cmd_vxlan(struct ovlctl *tool, int argc, char **argv);
int cmd_peer(struct ovlctl *tool, int argc, char **argv);
int cmd_hostgw(struct ovlctl *tool, int argc, char **argv);
int cmd_run(struct ovlctl *tool, int argc, char **argv);
int cmd_masq(struct ovlctl *tool, int argc, char **argv);
int cmd_status(struct ovlctl *tool, int argc, char **argv);
int cmd_udp(struct ovlctl *tool, int argc, char **argv);
int cmd_wireguard(struct ovlctl *tool, int argc, char **argv);
int cmd_completion(struct ovlctl *tool, int argc, char **argv);
/* ovlctl.c's command table, the one `ovlctl help` prints. */
const struct ovlctl_command *ovlctl_command_table(size_t *count);

/* A `--name value` or `--name` (flag) option of a subcommand. */
struct ovlctl_option {
	const char *name;		/* without the dashes */
	const char **value;		/* set for options that take a value */
	int *flag;			/* set to 1 for flags */
};

/* Parses argv (after the subcommand) against options, NULL-name terminated;
 * leaves positional arguments in positional[] (at most max). Returns the
 * number of positional arguments, or -1 after printing the error. */
int ovlctl_parse_options(const char *command, int argc, char **argv,
			 const struct ovlctl_option *options,
			 char **positional, int max);
/* Prints `ovlctl: <what>: <why>` (why = the ctx message, else the errno text)
 * and returns the exit status 1. */
int ovlctl_fail(struct ovlctl *tool, int err, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints `ovlctl: <message>` for usage errors and returns the exit status 2. */
int ovlctl_usage_error(const char *format, ...)
	__attribute__((format(printf, 1, 2)));
/* The --config file, or with none given, the store's config, else the
 * default path. */
int ovlctl_load_config(struct ovlctl *tool, struct ovl_store *store,
		       struct ovl_config **config);
/* Opens --store (reporting failures itself): 0 or the exit status. */
int ovlctl_open_store(struct ovlctl *tool, struct ovl_store **store);
/* The store URI for messages: a password= option's value is shown as ***
 * (errors end up in logs and bug reports). */
const char *ovlctl_store_shown(struct ovlctl *tool);
/* Parses a number option within [min, max]; -1 after printing the error. */
int ovlctl_parse_uint(const char *option, const char *text, unsigned long min,
		      unsigned long max, unsigned long *value);

/* cmd-peer.c: a peers file (a JSON list of {subnet, public_ip, mac}; "-"
 * is stdin) for command; the strings live in *json (json_decref it), free
 * *peers.  0, or the exit status after printing the error. */
struct json_t;
int ovlctl_read_peers(const char *command, const char *file, struct json_t **json,
		      struct ovl_peer **peers, size_t *count);

/* ---- what `ovlctl run` shows a supervisor (run-supervise.c, run-http.c,
 * run-notify.c): readiness over HTTP and systemd's notification socket. */
struct ovlctl_run_state {
	struct ovl_node *node;		/* NULL until the agent started */
	char waiting[320];		/* while starting: what it waits for */
};
/* 1 when the node is ready and holds an unexpired lease, else 0; why
 * says so in one line ("ready: subnet ...", "lease lost: ..."). */
int ovlctl_readiness(const struct ovlctl_run_state *state, char *why, size_t size);

struct ovlctl_supervisor;
/* CLOCK_MONOTONIC in ms, for the wait's deadlines and the watchdog. */
long long ovlctl_now_ms(void);
/* listen: ADDR:PORT, [ADDR6]:PORT or PORT (loopback) for the HTTP
 * endpoints, NULL for none; systemd's NOTIFY_SOCKET when set.  0, or the
 * exit status after printing the error. */
int ovlctl_supervisor_open(struct ovlctl *tool, const char *listen,
			   struct ovlctl_supervisor **supervisor);
struct ovlctl_run_state *ovlctl_supervisor_state(struct ovlctl_supervisor *supervisor);
/* Serves HTTP and systemd until fd (-1: none) is readable, timeout_ms
 * passed (-1: never) or a signal arrived on sigfd: the signal's number
 * (systemd is told STOPPING=1), else 0. */
int ovlctl_supervisor_wait(struct ovlctl_supervisor *supervisor, int fd, int timeout_ms,
			   int sigfd);
/* Frees everything. */
void ovlctl_supervisor_close(struct ovlctl_supervisor *supervisor);

struct ovlctl_http;
int ovlctl_http_open(struct ovlctl *tool, const char *listen,
		     const struct ovlctl_run_state *state, struct ovlctl_http **http);
int ovlctl_http_fd(const struct ovlctl_http *http);
int ovlctl_http_timeout_ms(const struct ovlctl_http *http);
void ovlctl_http_dispatch(struct ovlctl_http *http);
void ovlctl_http_close(struct ovlctl_http *http);

/* NULL (and no error) when NOTIFY_SOCKET is not set. */
struct ovlctl_notify *ovlctl_notify_open(void);
/* READY=1 the first time ready, STATUS= when why changed, WATCHDOG=1
 * when due. */
void ovlctl_notify_update(struct ovlctl_notify *notify, int ready, const char *why);
int ovlctl_notify_timeout_ms(const struct ovlctl_notify *notify);
void ovlctl_notify_stopping(struct ovlctl_notify *notify);
void ovlctl_notify_close(struct ovlctl_notify *notify);

#endif
