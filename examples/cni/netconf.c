/*
 * netconf.c - the plugin's own network configuration: field types, flannel's
 * defaults and its rules for `delegate`, and the spec versions we speak.
 */
#include <string.h>

#include "cni.h"

static const char *const supported[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };
#define N_SUPPORTED (sizeof(supported) / sizeof(supported[0]))

int cni_version_supported(const char *version)
{
	for (size_t i = 0; i < N_SUPPORTED; i++)
		if (strcmp(version, supported[i]) == 0)
			return 1;
	return 0;
}

json_t *cni_supported_versions(void)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < N_SUPPORTED; i++)
		json_array_append_new(list, json_string(supported[i]));
	return list;
}

int cni_version_check(const struct cni_netconf *nc, const char *command,
		      struct cni_error *err)
{
	if (!cni_version_supported(nc->cni_version))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"incompatible CNI versions: config is \"%s\"%s, plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0",
				nc->cni_version,
				*nc->cni_version ? "" : " (no cniVersion)");
	/* CHECK arrived with spec 0.4.0; older configs may not ask for it. */
	if (strcmp(command, "CHECK") == 0 && strncmp(nc->cni_version, "0.3.", 4) == 0)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"config version \"%s\" does not allow CHECK (needs 0.4.0 or later)",
				nc->cni_version);
	return 0;
}

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
