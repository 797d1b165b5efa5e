/*
 * cmd-lease.c - `ovlctl lease acquire|renew|release|reserve|list|watch`:
 * subnet leases in the store --store names, as a table or stable JSON
 * (documented in ovlctl(8)).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <jansson.h>

#include "ovlctl.h"

/* The options acquire, reserve, renew and release share. */
struct lease_args {
	const char *node, *public_ip, *public_ipv6;
	const char *subnet, *ipv6_subnet, *ttl;
	const char *backend_type, *backend_data, *backend_v6_data;
};

/* Backend data as an object, or null when absent (or, defensively, not
 * JSON: the library checked it already). */
static json_t *raw_json(const char *text)
{
	json_t *value = text ? json_loads(text, 0, NULL) : NULL;

	return value ? value : json_null();
}

static json_t *text_or_null(const char *text)
{
	return text ? json_string(text) : json_null();
}

/* The stable JSON form of a lease (ovlctl(8), "JSON OUTPUT"). */
static json_t *lease_json(const struct ovl_lease *lease)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b}",
			 "key", ovl_lease_key(lease),
			 "subnet", text_or_null(ovl_lease_subnet(lease, AF_INET)),
			 "ipv6_subnet", text_or_null(ovl_lease_subnet(lease, AF_INET6)),
			 "node", text_or_null(ovl_lease_node_name(lease)),
			 "public_ip", text_or_null(ovl_lease_public_ip(lease, AF_INET)),
			 "public_ipv6", text_or_null(ovl_lease_public_ip(lease, AF_INET6)),
			 "backend_type", text_or_null(ovl_lease_backend_type(lease)),
			 "backend_data", raw_json(ovl_lease_backend_data(lease, AF_INET)),
			 "backend_v6_data", raw_json(ovl_lease_backend_data(lease, AF_INET6)),
			 "expiration", (json_int_t)ovl_lease_expiration(lease),
			 "reservation", ovl_lease_is_reservation(lease));
}

static void print_json(json_t *value)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;

	printf("%s\n", text ? text : "null");
	free(text);
	json_decref(value);
}

static const char *or_dash(const char *text)
{
	return text ? text : "-";
}

/* "10.244.3.0/24" or "10.244.3.0/24 fd00::/64": easy to use from a shell. */
static void print_subnets(const struct ovl_lease *lease)
{
	const char *v4 = ovl_lease_subnet(lease, AF_INET), *v6 = ovl_lease_subnet(lease, AF_INET6);

	printf("%s%s%s\n", v4 ? v4 : "", v4 && v6 ? " " : "", v6 ? v6 : "");
}

static void print_lease(struct ovlctl *tool, const struct ovl_lease *lease)
{
	if (tool->json)
		print_json(lease_json(lease));
	else
		print_subnets(lease);
}

static int parse_lease_args(const char *command, int argc, char **argv,
			    struct lease_args *args)
{
	const struct ovlctl_option spec[] = {
		{ "node", &args->node, NULL },
		{ "public-ip", &args->public_ip, NULL },
		{ "public-ipv6", &args->public_ipv6, NULL },
		{ "subnet", &args->subnet, NULL },
		{ "ipv6-subnet", &args->ipv6_subnet, NULL },
		{ "ttl", &args->ttl, NULL },
		{ "backend-type", &args->backend_type, NULL },
		{ "backend-data", &args->backend_data, NULL },
		{ "backend-v6-data", &args->backend_v6_data, NULL },
		{ NULL, NULL, NULL },
	};

	memset(args, 0, sizeof(*args));
	if (ovlctl_parse_options(command, argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!args->node && !args->public_ip && !args->public_ipv6)
		return ovlctl_usage_error("%s: --node or --public-ip is required", command);
	return 0;
}

static int lease_acquire(struct ovlctl *tool, int reserve, int argc, char **argv)
{
	const char *command = reserve ? "lease reserve" : "lease acquire";
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_config *config = NULL;
	struct ovl_store *store = NULL;
	struct ovl_lease *lease = NULL;
	struct lease_args args;
	unsigned long ttl = 0;
	int err, status;

	status = parse_lease_args(command, argc, argv, &args);
	if (status)
		return status;
	if (reserve && !args.subnet && !args.ipv6_subnet)
		return ovlctl_usage_error("lease reserve: --subnet is required");
	if (reserve && args.ttl)
		return ovlctl_usage_error("lease reserve: a reservation has no --ttl");
	if (args.ttl && ovlctl_parse_uint("--ttl", args.ttl, 1, 10L * 365 * 86400, &ttl) < 0)
		return 2;
	status = ovlctl_open_store(tool, &store);
	if (status)
		return status;
	err = ovlctl_load_config(tool, store, &config);
	if (err < 0) {
		status = ovlctl_fail(tool, err, "%s: config", command);
		goto out;
	}
	request.node_name = args.node;
	request.public_ip = args.public_ip;
	request.public_ipv6 = args.public_ipv6;
	request.preferred_subnet = args.subnet;
	request.preferred_ipv6_subnet = args.ipv6_subnet;
	request.backend_type = args.backend_type;
	request.backend_data = args.backend_data;
	request.backend_v6_data = args.backend_v6_data;
	request.ttl_seconds = (unsigned int)ttl;
	request.flags = reserve ? OVL_LEASE_RESERVE : 0;
	err = ovl_lease(store, config, &request, &lease);
	if (err < 0) {
		status = ovlctl_fail(tool, err, "%s", command);
		goto out;
	}
	print_lease(tool, lease);
out:
	ovl_lease_free(lease);
	ovl_config_free(config);
	ovl_store_close(store);
	return status;
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* The lease args name: by node name, or (on a record without one, like
 * flanneld's) by public IP.  NULL when there is none. */
static struct ovl_lease *find_lease(struct ovl_lease **leases, size_t count,
				    const struct lease_args *args)
{
	struct ovl_lease *by_ip = NULL;
	size_t i;

	for (i = 0; i < count; i++) {
		if (ovl_lease_node_name(leases[i])) {
			if (same(ovl_lease_node_name(leases[i]), args->node))
				return leases[i];
		} else if (same(ovl_lease_public_ip(leases[i], AF_INET), args->public_ip) ||
			   (!ovl_lease_public_ip(leases[i], AF_INET) &&
			    same(ovl_lease_public_ip(leases[i], AF_INET6), args->public_ipv6))) {
			by_ip = by_ip ? by_ip : leases[i];
		}
	}
	return by_ip;
}

static int lease_renew_release(struct ovlctl *tool, int renew, int argc, char **argv)
{
	const char *command = renew ? "lease renew" : "lease release";
	struct ovl_store *store = NULL;
	struct ovl_lease **leases = NULL, *lease;
	struct lease_args args;
	unsigned long ttl = 0;
	size_t count = 0;
	int err, status;

	status = parse_lease_args(command, argc, argv, &args);
	if (status)
		return status;
	if (args.subnet || args.ipv6_subnet || args.backend_data || args.backend_v6_data ||
	    args.backend_type || (!renew && args.ttl))
		return ovlctl_usage_error("%s: takes only --node, --public-ip, --public-ipv6%s",
					  command, renew ? " and --ttl" : "");
	if (args.ttl && ovlctl_parse_uint("--ttl", args.ttl, 1, 10L * 365 * 86400, &ttl) < 0)
		return 2;
	status = ovlctl_open_store(tool, &store);
	if (status)
		return status;
	err = ovl_leases(store, &leases, &count);
	if (err < 0) {
		status = ovlctl_fail(tool, err, "%s", command);
		goto out;
	}
	lease = find_lease(leases, count, &args);
	if (!lease && renew) {
		fprintf(stderr, "ovlctl: lease renew: %s holds no lease\n",
			args.node ? args.node : args.public_ip ? args.public_ip : args.public_ipv6);
		status = 1;
		goto out;
	}
	if (!lease) {			/* releasing what is gone is done */
		if (tool->json)
			printf("{\"released\":null}\n");
		goto out;
	}
	err = renew ? ovl_lease_renew(store, lease, (unsigned int)ttl)
		    : ovl_lease_release(store, lease);
	if (err < 0)
		status = ovlctl_fail(tool, err, "%s %s", command, ovl_lease_key(lease));
	else if (renew)
		print_lease(tool, lease);
	else if (tool->json)
		printf("{\"released\":\"%s\"}\n", ovl_lease_key(lease));
out:
	ovl_leases_free(leases, count);
	ovl_store_close(store);
	return status;
}

static void format_expiration(const struct ovl_lease *lease, char *buf, size_t size)
{
	time_t when = (time_t)ovl_lease_expiration(lease);
	struct tm tm;

	if (ovl_lease_is_reservation(lease))
		snprintf(buf, size, "never (reserved)");
	else if (!gmtime_r(&when, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)when);
}

static int lease_list(struct ovlctl *tool, int argc, char **argv)
{
	const struct ovlctl_option spec[] = { { NULL, NULL, NULL } };
	struct ovl_store *store = NULL;
	struct ovl_lease **leases = NULL;
	char expires[64];
	json_t *list;
	size_t i, count = 0;
	int err, status;

	if (ovlctl_parse_options("lease list", argc, argv, spec, NULL, 0) < 0)
		return 2;
	status = ovlctl_open_store(tool, &store);
	if (status)
		return status;
	err = ovl_leases(store, &leases, &count);
	ovl_store_close(store);
	if (err < 0)
		return ovlctl_fail(tool, err, "lease list");
	if (tool->json) {
		list = json_array();
		for (i = 0; i < count; i++)
			json_array_append_new(list, lease_json(leases[i]));
		print_json(list);
	} else {
		printf("%-18s %-22s %-16s %-15s %-8s %s\n", "SUBNET", "IPV6 SUBNET", "NODE",
		       "PUBLIC IP", "BACKEND", "EXPIRES");
		for (i = 0; i < count; i++) {
			format_expiration(leases[i], expires, sizeof(expires));
			printf("%-18s %-22s %-16s %-15s %-8s %s\n",
			       or_dash(ovl_lease_subnet(leases[i], AF_INET)),
			       or_dash(ovl_lease_subnet(leases[i], AF_INET6)),
			       or_dash(ovl_lease_node_name(leases[i])),
			       or_dash(ovl_lease_public_ip(leases[i], AF_INET) ?
				       ovl_lease_public_ip(leases[i], AF_INET) :
				       ovl_lease_public_ip(leases[i], AF_INET6)),
			       or_dash(ovl_lease_backend_type(leases[i])), expires);
		}
	}
	ovl_leases_free(leases, count);
	return 0;
}

/* Prints one event; line-buffered so a reader of a pipe sees it at once. */
static void print_event(struct ovlctl *tool, int event, const struct ovl_lease *lease)
{
	const char *name = event == OVL_WATCH_ADDED ? "added" : "removed";

	if (tool->json) {
		print_json(json_pack("{s:s, s:o}", "event", name, "lease", lease_json(lease)));
		return;
	}
	printf("%-8s %-18s %-22s %-16s %s\n", event == OVL_WATCH_ADDED ? "ADDED" : "REMOVED",
	       or_dash(ovl_lease_subnet(lease, AF_INET)),
	       or_dash(ovl_lease_subnet(lease, AF_INET6)), or_dash(ovl_lease_node_name(lease)),
	       or_dash(ovl_lease_public_ip(lease, AF_INET)));
}

/* Not in `ovlctl help`'s summary, documented in ovlctl(8): the events of
 * ovl_watch_next, first the snapshot, until --count events or a signal. */
static int lease_watch(struct ovlctl *tool, int argc, char **argv)
{
	const char *count_text = NULL;
	const struct ovlctl_option spec[] = {
		{ "count", &count_text, NULL },
		{ NULL, NULL, NULL },
	};
	struct pollfd pfd = { .events = POLLIN };
	struct ovl_store *store = NULL;
	struct ovl_watch *watch = NULL;
	struct ovl_lease *lease;
	unsigned long limit = 0, seen = 0;
	int err, event, status;

	if (ovlctl_parse_options("lease watch", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (count_text && ovlctl_parse_uint("--count", count_text, 1, 1000000000, &limit) < 0)
		return 2;
	status = ovlctl_open_store(tool, &store);
	if (status)
		return status;
	err = ovl_watch_open(store, &watch);
	if (err < 0) {
		status = ovlctl_fail(tool, err, "lease watch");
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pfd.fd = ovl_watch_fd(watch);
	while (!limit || seen < limit) {
		err = ovl_watch_next(watch, &event, &lease);
		if (err == -EAGAIN) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
				status = ovlctl_fail(tool, -errno, "lease watch: poll");
				break;
			}
			continue;
		}
		if (err < 0) {
			status = ovlctl_fail(tool, err, "lease watch");
			break;
		}
		print_event(tool, event, lease);
		ovl_lease_free(lease);
		seen++;
	}
out:
	ovl_watch_close(watch);
	ovl_store_close(store);
	return status;
}

int cmd_lease(struct ovlctl *tool, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (!strcmp(sub, "acquire"))
		return lease_acquire(tool, 0, argc - 1, argv + 1);
	if (!strcmp(sub, "reserve"))
		return lease_acquire(tool, 1, argc - 1, argv + 1);
	if (!strcmp(sub, "renew"))
		return lease_renew_release(tool, 1, argc - 1, argv + 1);
	if (!strcmp(sub, "release"))
		return lease_renew_release(tool, 0, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return lease_list(tool, argc - 1, argv + 1);
	if (!strcmp(sub, "watch"))
		return lease_watch(tool, argc - 1, argv + 1);
	return ovlctl_usage_error("lease: unknown subcommand '%s' (acquire, renew, release, "
				  "reserve, list; see ovlctl help lease)", sub);
}
