/*
 * fuzz-subnet-env.c - subnet.env (ovl_subnet_env_read on a file holding the
 * input).  What it accepts with a subnet, ovl_subnet_env_write writes and
 * ovl_subnet_env_read reads back the same.
 */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT, back = OVL_SUBNET_ENV_INIT;
	const char *path = fuzz_path("subnet.env");
	int err;

	fuzz_write(path, data, size);
	err = ovl_subnet_env_read(fuzz_ctx(), path, &env);
	FUZZ_ASSERT(err == 0 || err == -EINVAL || err == -EIO);
	if (err < 0 || (!*env.subnet && !*env.ipv6_subnet))
		return 0;
	path = fuzz_path("subnet.env.out");
	err = ovl_subnet_env_write(fuzz_ctx(), path, &env);
	FUZZ_ASSERT(err == 0 || err == -EINVAL);
	if (err < 0)
		return 0;
	FUZZ_ASSERT(ovl_subnet_env_read(fuzz_ctx(), path, &back) == 0);
	FUZZ_ASSERT(!strcmp(env.network, back.network) && !strcmp(env.ipv6_network,
								   back.ipv6_network));
	FUZZ_ASSERT(env.mtu == back.mtu && env.ipmasq == back.ipmasq);
	return 0;
}
