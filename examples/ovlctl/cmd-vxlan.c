/*
 * cmd-vxlan.c - `ovlctl vxlan up|down|show`: the VXLAN device through
 * ovl_vxlan_up, ovl_link_open, ovl_link_down and ovl_link_to_json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ovlctl.h"

#define DEFAULT_LINK "flannel.1"

/* The link's JSON, with "peers" (how many libovl installed) added. */
static json_t *link_json(struct ovlctl *tool, struct ovl_link *link, int *status)
{
	struct ovl_peer *peers;
	size_t count;
	char *text;
	json_t *root;
	int err;

	err = ovl_peer_list(link, &peers, &count);
	if (err < 0) {
		*status = ovlctl_fail(tool, err, "%s: listing peers", ovl_link_name(link));
		return NULL;
	}
	ovl_peers_free(peers, count);
	text = ovl_link_to_json(link);
	root = text ? json_loads(text, 0, NULL) : NULL;
	ovl_free(text);
	if (!root || json_object_set_new(root, "peers", json_integer((json_int_t)count)) < 0) {
		json_decref(root);
		*status = ovlctl_fail(tool, -ENOMEM, "%s", ovl_link_name(link));
		return NULL;
	}
	return root;
}

static const char *text_of(json_t *root, const char *key)
{
	json_t *value = json_object_get(root, key);

	return json_is_string(value) ? json_string_value(value) : "-";
}

static json_int_t number_of(json_t *root, const char *key)
{
	return json_integer_value(json_object_get(root, key));
}

static int print_link(struct ovlctl *tool, struct ovl_link *link)
{
	int status = 0;
	json_t *root = link_json(tool, link, &status);
	char *text;

	if (!root)
		return status;
	if (tool->json) {
		text = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		printf("%s: vxlan id %" JSON_INTEGER_FORMAT " port %" JSON_INTEGER_FORMAT
		       " local %s dev %s%s%s\n",
		       text_of(root, "name"), number_of(root, "vni"), number_of(root, "port"),
		       text_of(root, "local"), text_of(root, "dev"),
		       json_is_true(json_object_get(root, "learning")) ? " learning" : " nolearning",
		       json_is_true(json_object_get(root, "gbp")) ? " gbp" : "");
		printf("  mac %s mtu %" JSON_INTEGER_FORMAT " subnet %s network %s%s\n",
		       text_of(root, "mac"), number_of(root, "mtu"), text_of(root, "subnet"),
		       text_of(root, "network"),
		       json_is_true(json_object_get(root, "direct_routing")) ? " direct-routing" : "");
		printf("  peers %" JSON_INTEGER_FORMAT "\n", number_of(root, "peers"));
	}
	json_decref(root);
	return 0;
}

static int vxlan_up(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_vxlan_options options = OVL_VXLAN_OPTIONS_INIT;
	const char *vni = NULL, *port = NULL, *mtu = NULL;
	int replace = 0, tx_off = 0, status;
	unsigned long number;
	struct ovl_link *link;
	const struct ovlctl_option spec[] = {
		{ "local", &options.local, NULL },
		{ "subnet", &options.subnet, NULL },
		{ "network", &options.network, NULL },
		{ "dev", &options.dev, NULL },
		{ "vni", &vni, NULL },
		{ "port", &port, NULL },
		{ "mac", &options.mac, NULL },
		{ "mtu", &mtu, NULL },
		{ "name", &options.name, NULL },
		{ "replace", NULL, &replace },
		{ "gbp", NULL, &options.gbp },
		{ "learning", NULL, &options.learning },
		{ "direct-routing", NULL, &options.direct_routing },
		{ "tx-checksum-off", NULL, &tx_off },
		{ NULL, NULL, NULL },
	};
	int err;

	if (ovlctl_parse_options("vxlan up", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!options.local || !options.subnet)
		return ovlctl_usage_error("vxlan up: --local IP and --subnet CIDR are required");
	if (vni) {
		if (ovlctl_parse_uint("--vni", vni, 0, 16777215, &number) < 0)
			return 2;
		options.vni = (uint32_t)number;
	}
	if (port) {
		if (ovlctl_parse_uint("--port", port, 1, 65535, &number) < 0)
			return 2;
		options.port = (unsigned int)number;
	}
	if (mtu) {
		if (ovlctl_parse_uint("--mtu", mtu, 68, 65535, &number) < 0)
			return 2;
		options.mtu = (unsigned int)number;
	}
	/* --vni 0 is VNI 0, as "VNI": 0 is to flannel */
	options.flags = (replace ? OVL_VXLAN_REPLACE : 0) | (tx_off ? OVL_VXLAN_TX_CHECKSUM_OFF : 0) |
			(vni ? OVL_VXLAN_VNI_SET : 0);
	err = ovl_vxlan_up(tool->ctx, &options, &link);
	if (err < 0)
		return ovlctl_fail(tool, err, "vxlan up");
	status = print_link(tool, link);
	ovl_link_free(link);
	return status;
}

/* Opens --name; a missing device is reported by the caller. */
static int open_named(struct ovlctl *tool, const char *command, int argc, char **argv,
		      struct ovl_link **link)
{
	const char *name = DEFAULT_LINK;
	const struct ovlctl_option spec[] = {
		{ "name", &name, NULL },
		{ NULL, NULL, NULL },
	};

	if (ovlctl_parse_options(command, argc, argv, spec, NULL, 0) < 0)
		return -EINVAL;
	return ovl_link_open(tool->ctx, name, link);
}

int cmd_vxlan(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_link *link;
	int err, status;

	if (argc < 1)
		return ovlctl_usage_error("vxlan: up, down or show? (see ovlctl help vxlan)");
	if (!strcmp(argv[0], "up"))
		return vxlan_up(tool, argc - 1, argv + 1);
	if (strcmp(argv[0], "down") && strcmp(argv[0], "show"))
		return ovlctl_usage_error("vxlan: unknown subcommand '%s'", argv[0]);
	err = open_named(tool, argv[0][0] == 'd' ? "vxlan down" : "vxlan show", argc - 1,
			 argv + 1, &link);
	if (err == -EINVAL && !*ovl_ctx_error(tool->ctx))
		return 2;
	/* Down is idempotent: no device is what was asked for. */
	if (err == -ENODEV && argv[0][0] == 'd')
		return 0;
	if (err < 0)
		return ovlctl_fail(tool, err, "vxlan %s", argv[0]);
	if (argv[0][0] == 'd') {
		err = ovl_link_down(link);
		status = err < 0 ? ovlctl_fail(tool, err, "vxlan down") : 0;
	} else {
		status = print_link(tool, link);
	}
	ovl_link_free(link);
	return status;
}
