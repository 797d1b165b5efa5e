/*
 * cmd-subnet-env.c - `ovlctl subnet-env write|show`: flannel's subnet.env,
 * written atomically from options, or read back (as the file's lines, or
 * stable JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ovlctl.h"

static int copy_field(const char *option, const char *value, char *field, size_t size)
{
	if (!value)
		return 0;
	if (strlen(value) >= size)
		return ovlctl_usage_error("subnet-env write: %s: too long", option);
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

static int env_write(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	const char *file = NULL, *network = NULL, *subnet = NULL, *ipv6_network = NULL;
	const char *ipv6_subnet = NULL, *mtu = NULL;
	int ipmasq = 0, err;
	unsigned long number = 0;
	const struct ovlctl_option spec[] = {
		{ "file", &file, NULL },
		{ "network", &network, NULL },
		{ "subnet", &subnet, NULL },
		{ "ipv6-network", &ipv6_network, NULL },
		{ "ipv6-subnet", &ipv6_subnet, NULL },
		{ "mtu", &mtu, NULL },
		{ "ipmasq", NULL, &ipmasq },
		{ NULL, NULL, NULL },
	};

	if (ovlctl_parse_options("subnet-env write", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!subnet && !ipv6_subnet)
		return ovlctl_usage_error("subnet-env write: --subnet or --ipv6-subnet is required");
	if (!mtu)
		return ovlctl_usage_error("subnet-env write: --mtu is required");
	if (ovlctl_parse_uint("--mtu", mtu, 68, 65535, &number) < 0)
		return 2;
	if (copy_field("--network", network, env.network, sizeof(env.network)) ||
	    copy_field("--subnet", subnet, env.subnet, sizeof(env.subnet)) ||
	    copy_field("--ipv6-network", ipv6_network, env.ipv6_network, sizeof(env.ipv6_network)) ||
	    copy_field("--ipv6-subnet", ipv6_subnet, env.ipv6_subnet, sizeof(env.ipv6_subnet)))
		return 2;
	env.mtu = (unsigned int)number;
	env.ipmasq = ipmasq;
	err = ovl_subnet_env_write(tool->ctx, file, &env);
	if (err < 0)
		return ovlctl_fail(tool, err, "subnet-env write %s",
				   file ? file : OVL_SUBNET_ENV_DEFAULT_PATH);
	return 0;
}

static json_t *string_or_null(const char *text)
{
	return *text ? json_string(text) : json_null();
}

static int env_show(struct ovlctl *tool, int argc, char **argv)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	const char *file = NULL;
	const struct ovlctl_option spec[] = {
		{ "file", &file, NULL },
		{ NULL, NULL, NULL },
	};
	json_t *value;
	char *text;
	int err;

	if (ovlctl_parse_options("subnet-env show", argc, argv, spec, NULL, 0) < 0)
		return 2;
	err = ovl_subnet_env_read(tool->ctx, file, &env);
	if (err < 0)
		return ovlctl_fail(tool, err, "subnet-env show");
	if (!tool->json) {
		if (*env.network)
			printf("FLANNEL_NETWORK=%s\n", env.network);
		if (*env.subnet)
			printf("FLANNEL_SUBNET=%s\n", env.subnet);
		if (*env.ipv6_network)
			printf("FLANNEL_IPV6_NETWORK=%s\n", env.ipv6_network);
		if (*env.ipv6_subnet)
			printf("FLANNEL_IPV6_SUBNET=%s\n", env.ipv6_subnet);
		if (env.mtu)
			printf("FLANNEL_MTU=%u\n", env.mtu);
		printf("FLANNEL_IPMASQ=%s\n", env.ipmasq ? "true" : "false");
		return 0;
	}
	value = json_pack("{s:o, s:o, s:o, s:o, s:i, s:b}",
			  "network", string_or_null(env.network),
			  "subnet", string_or_null(env.subnet),
			  "ipv6_network", string_or_null(env.ipv6_network),
			  "ipv6_subnet", string_or_null(env.ipv6_subnet),
			  "mtu", (int)env.mtu, "ipmasq", env.ipmasq);
	text = value ? json_dumps(value, JSON_COMPACT) : NULL;
	printf("%s\n", text ? text : "null");
	free(text);
	json_decref(value);
	return 0;
}

int cmd_subnet_env(struct ovlctl *tool, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (!strcmp(sub, "write"))
		return env_write(tool, argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return env_show(tool, argc - 1, argv + 1);
	return ovlctl_usage_error("subnet-env: unknown subcommand '%s' (write, show)", sub);
}
