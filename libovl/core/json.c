/*
 * json.c - the jansson helpers the config parser, the lease codecs and the
 * stores share (declared in internal.h).
 */
#include <strings.h>
#include <jansson.h>

#include "core/internal.h"

int ovl_json_parse(const char *text, size_t length, size_t flags, json_t **value,
		   json_error_t *error)
{
	/* a failed allocation sets errno; a syntax error leaves it alone */
	errno = 0;
	*value = json_loadb(text, length, flags, error);
	if (*value)
		return 0;
	return errno == ENOMEM || json_error_code(error) == json_error_out_of_memory ?
	       -ENOMEM : -EINVAL;
}

const char *ovl_json_type_text(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a fraction";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

json_t *ovl_json_get_folded(const json_t *object, const char *name)
{
	const char *key;
	json_t *value, *found = NULL;

	json_object_foreach((json_t *)object, key, value)
		if (!json_is_null(value) && !strcasecmp(key, name))
			found = value;
	return found;
}
