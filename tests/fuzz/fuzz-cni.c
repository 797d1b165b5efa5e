/*
 * fuzz-cni.c - ovl-cni's inputs: the first five lines are its CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH (cni_args_load), the
 * rest the network configuration on its stdin, parsed as
 * cni_stdin_decode does and then by cni_netconf_parse, cni_version_check
 * and cni_render with a fixed subnet.env.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cni.h"

static const char *const variables[] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	struct cni_netconf nc;
	struct cni_error err;
	struct cni_args args;
	json_t *root, *delegate = NULL;
	json_error_t error;
	char *text = fuzz_string(data, size), *newline, *dumped;
	size_t i;

	for (i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		newline = strchr(text, '\n');
		if (!newline)
			break;
		*newline = '\0';
		setenv(variables[i], text, 1);
		text = newline + 1;
	}
	for (; i < sizeof(variables) / sizeof(variables[0]); i++)
		unsetenv(variables[i]);
	memset(&err, 0, sizeof(err));
	if (cni_args_load(&args, &err) < 0)
		FUZZ_ASSERT(err.code && *err.msg);
	root = json_loadb(text, strlen(text), 0, &error);
	if (!root)
		return 0;
	memset(&err, 0, sizeof(err));
	if (cni_netconf_parse(root, &nc, &err) == 0) {
		cni_version_check(&nc, "ADD", &err);
		snprintf(env.network, sizeof(env.network), "10.244.0.0/16");
		snprintf(env.subnet, sizeof(env.subnet), "10.244.3.1/24");
		env.mtu = 1450;
		env.ipmasq = 1;
		memset(&err, 0, sizeof(err));
		if (cni_render(&nc, &env, &delegate, &err) == 0) {
			dumped = cni_render_dump(delegate);
			FUZZ_ASSERT(dumped);
			free(dumped);
			json_decref(delegate);
		} else {
			FUZZ_ASSERT(err.code && *err.msg);
		}
	} else {
		FUZZ_ASSERT(err.code && *err.msg);
	}
	json_decref(root);
	return 0;
}
