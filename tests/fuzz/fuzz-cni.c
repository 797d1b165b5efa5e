/*
 * fuzz-cni.c - ovl-cni's inputs: the first five lines are its CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH (cni_args_load), the
 * rest the network configuration on its stdin, parsed as
 * cni_stdin_decode does and then by cni_netconf_parse, cni_version_check
 * and cni_render with a fixed subnet.env; the same rest is also read as a
 * subnet.env (cni_subnet_env_parse) and, when JSON, as a delegate's result
 * converted to every spec version (cni_result_convert).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cni.h"

static const char *const variables[] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH",
};
static const char fixed_env[] = "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\n"
	"FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";

static void convert_everywhere(const json_t *result)
{
	struct cni_error err;
	json_t *out;

	for (int from = 0; from < 7; from++)
		for (int to = 0; to < 7; to++) {
			memset(&err, 0, sizeof(err));
			out = cni_result_convert(result, cni_version_name(from),
						 cni_version_name(to), &err);
			FUZZ_ASSERT(out || (err.code && *err.msg));
			json_decref(out);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_subnet_env env;
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
	memset(&err, 0, sizeof(err));
	if (cni_subnet_env_parse(text, strlen(text), "subnet.env", &env, &err) == 0)
		cni_subnet_env_free(&env);
	else
		FUZZ_ASSERT(err.code && *err.msg);
	root = json_loadb(text, strlen(text), 0, &error);
	if (!root)
		return 0;
	convert_everywhere(root);
	memset(&err, 0, sizeof(err));
	if (cni_netconf_parse(root, &nc, &err) == 0) {
		cni_version_check(&nc, "ADD", &err);
		FUZZ_ASSERT(cni_subnet_env_parse(fixed_env, sizeof(fixed_env) - 1,
						 "subnet.env", &env, &err) == 0);
		memset(&err, 0, sizeof(err));
		if (cni_render(&nc, &env, &delegate, &err) == 0) {
			dumped = cni_render_dump(delegate);
			FUZZ_ASSERT(dumped);
			free(dumped);
			json_decref(delegate);
		} else {
			FUZZ_ASSERT(err.code && *err.msg);
		}
		cni_subnet_env_free(&env);
	} else {
		FUZZ_ASSERT(err.code && *err.msg);
	}
	json_decref(root);
	return 0;
}
