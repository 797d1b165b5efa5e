/*
 * netconf.c - the plugin's own network configuration: field types, flannel's
 * defaults and its rules for `delegate`.
 */
#include <string.h>

#include "cni.h"

/* An optional member that must be a string; *value keeps its default. */
static int opt_string(json_t *root, const char *key, const char **value,
		      struct cni_error *err)
{
	json_t *v = json_object_get(root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: \"%s\" must be a non-empty string", key);
	*value = json_string_value(v);
	return 0;
}

/* An optional member that must be an object; null counts as absent. */
static int opt_object(json_t *root, const char *key, json_t **value,
		      struct cni_error *err)
{
	json_t *v = json_object_get(root, key);

	*value = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: \"%s\" must be a JSON object", key);
	*value = v;
	return 0;
}

int cni_netconf_parse(json_t *root, struct cni_netconf *nc,
		      struct cni_error *err)
{
	json_t *v;

	memset(nc, 0, sizeof(*nc));
	nc->root = root;
	nc->cni_version = "";
	nc->subnet_file = CNI_DEFAULT_SUBNET_FILE;
	nc->data_dir = CNI_DEFAULT_DATA_DIR;
	if (!json_is_object(root))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: must be a JSON object");
	v = json_object_get(root, "cniVersion");
	if (v && !json_is_string(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: \"cniVersion\" must be a string");
	if (v)
		nc->cni_version = json_string_value(v);
	v = json_object_get(root, "name");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: \"name\" must be a non-empty string");
	nc->name = json_string_value(v);
	if (opt_string(root, "subnetFile", &nc->subnet_file, err) < 0 ||
	    opt_string(root, "dataDir", &nc->data_dir, err) < 0 ||
	    opt_object(root, "delegate", &nc->delegate, err) < 0 ||
	    opt_object(root, "ipam", &nc->ipam, err) < 0 ||
	    opt_object(root, "runtimeConfig", &nc->runtime_config, err) < 0 ||
	    opt_object(root, "prevResult", &nc->prev_result, err) < 0)
		return -1;
	if (!nc->delegate)
		return 0;
	v = json_object_get(nc->delegate, "type");
	if (v && (!json_is_string(v) || json_string_length(v) == 0))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: delegate \"type\" must be a non-empty string");
	/* flannel's rules: both are derived, a given value would be lost. */
	if (json_object_get(nc->delegate, "name"))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: delegate must not have \"name\": it is set to the network name");
	if (json_object_get(nc->delegate, "ipam"))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: delegate must not have \"ipam\": it is built from subnet.env and the top-level \"ipam\"");
	return 0;
}
