/*
 * fuzz-lease.c - one lease record as etcd holds it: the first line is the
 * subnet key (lease_key_parse), the rest its LeaseAttrs JSON
 * (lease_from_json).  An accepted key formats back to itself; an accepted
 * record survives lease_attrs_to_json and lease_from_json unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lease/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_lease key_only, *lease = NULL, *again = NULL;
	char *text = fuzz_string(data, size), *json, *newline, *again_json;
	char formatted[sizeof(key_only.key)];
	const char *value = "";

	newline = strchr(text, '\n');
	if (newline) {
		*newline = '\0';
		value = newline + 1;
	}
	memset(&key_only, 0, sizeof(key_only));
	if (lease_key_parse(fuzz_ctx(), text, &key_only) == 0) {
		FUZZ_ASSERT(lease_key_format(&key_only, formatted, sizeof(formatted)) > 0);
		FUZZ_ASSERT(!strcmp(formatted, text));
	}
	if (lease_from_json(fuzz_ctx(), text, value, &lease) < 0)
		return 0;
	FUZZ_ASSERT(!strcmp(lease->key, text));
	json = lease_attrs_to_json(lease);
	FUZZ_ASSERT(json);
	FUZZ_ASSERT(lease_from_json(fuzz_ctx(), text, json, &again) == 0);
	again_json = lease_attrs_to_json(again);
	FUZZ_ASSERT(again_json && !strcmp(json, again_json));
	free(json);
	free(again_json);
	ovl_lease_free(again);
	ovl_lease_free(lease);
	return 0;
}
