/*
 * fuzz-net-conf.c - net-conf.json (ovl_config_parse): anything is refused
 * or accepted without a crash; an accepted config's effective form
 * (ovl_config_to_json, ovlctl(8)'s schema, not net-conf.json) is JSON, and
 * the same on a second call.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_config *config = NULL;
	char *json, *json_again;
	json_t *parsed;
	int err;

	err = ovl_config_parse(fuzz_ctx(), fuzz_string(data, size), &config);
	FUZZ_ASSERT(err == 0 || err == -EINVAL || err == -ENOMEM);
	if (err < 0)
		return 0;
	json = ovl_config_to_json(config);
	json_again = ovl_config_to_json(config);
	FUZZ_ASSERT(json && json_again && !strcmp(json, json_again));
	parsed = json_loads(json, 0, NULL);
	FUZZ_ASSERT(json_is_object(parsed));
	json_decref(parsed);
	free(json);
	free(json_again);
	ovl_config_free(config);
	return 0;
}
