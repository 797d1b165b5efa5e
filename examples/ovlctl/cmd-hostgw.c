/*
 * cmd-hostgw.c - `ovlctl hostgw up|down|show`: the host-gw link through
 * ovl_hostgw_up, ovl_link_open ("host-gw:DEV") and ovl_link_down.  Peers
 * go through `ovlctl peer ... --link host-gw:DEV`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ovlctl.h"

#define DEFAULT_LINK "host-gw:eth0"

static const char *text_of(json_t *root, const char *key)
{
	json_t *value = json_object_get(root, key);

	return json_is_string(value) ? json_string_value(value) : "-";
}

static int print_link(struct ovlctl *tool, struct ovl_link *link)
{
	char *text = ovl_link_to_json(link);
	json_t *root;

	if (!text)
		return ovlctl_fail(tool, -ENOMEM, "%s", ovl_link_name(link));
	if (tool->json) {
		printf("%s\n", text);
		ovl_free(text);
		return 0;
	}
	root = json_loads(text, 0, NULL);
	ovl_free(text);
	if (!root)
		return ovlctl_fail(tool, -ENOMEM, "%s", ovl_link_name(link));
	printf("%s: dev %s local %s mtu %u\n  subnet %s network %s\n", ovl_link_name(link),
	       text_of(root, "dev"), text_of(root, "local"), ovl_link_mtu(link),
	       text_of(root, "subnet"), text_of(root, "network"));
	json_decref(root);
	return 0;
}

static int hostgw_up(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_hostgw_options options = OVL_HOSTGW_OPTIONS_INIT;
	const struct ovlctl_option spec[] = {
		{ "local", &options.local, NULL },
		{ "subnet", &options.subnet, NULL },
		{ "network", &options.network, NULL },
		{ "dev", &options.dev, NULL },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;
	int err, status;

	if (ovlctl_parse_options("hostgw up", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!options.local || !options.subnet)
		return ovlctl_usage_error("hostgw up: --local IP and --subnet CIDR are required");
	err = ovl_hostgw_up(tool->ctx, &options, &link);
	if (err < 0)
		return ovlctl_fail(tool, err, "hostgw up");
	status = print_link(tool, link);
	ovl_link_free(link);
	return status;
}

int cmd_hostgw(struct ovlctl *tool, int argc, char **argv)
{
	const char *name = DEFAULT_LINK;
	const struct ovlctl_option spec[] = {
		{ "link", &name, NULL },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;
	int down, err, status;

	if (argc < 1)
		return ovlctl_usage_error("hostgw: up, down or show? (see ovlctl help hostgw)");
	if (!strcmp(argv[0], "up"))
		return hostgw_up(tool, argc - 1, argv + 1);
	if (strcmp(argv[0], "down") && strcmp(argv[0], "show"))
		return ovlctl_usage_error("hostgw: unknown subcommand '%s'", argv[0]);
	down = argv[0][0] == 'd';
	if (ovlctl_parse_options(down ? "hostgw down" : "hostgw show", argc - 1, argv + 1, spec,
				 NULL, 0) < 0)
		return 2;
	err = ovl_link_open(tool->ctx, name, &link);
	/* Down is idempotent: without the device there are no routes on it. */
	if (err == -ENODEV && down)
		return 0;
	if (err < 0)
		return ovlctl_fail(tool, err, "hostgw %s", argv[0]);
	if (down) {
		err = ovl_link_down(link);
		status = err < 0 ? ovlctl_fail(tool, err, "hostgw down") : 0;
	} else {
		status = print_link(tool, link);
	}
	ovl_link_free(link);
	return status;
}
