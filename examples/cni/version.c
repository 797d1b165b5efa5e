/*
 * version.c - the CNI spec versions ovl-cni speaks (libcni's version.All,
 * as flannel's plugin declares) and libcni skel's rules for them: a config
 * without cniVersion is 0.1.0, CHECK needs 0.4.0, GC and STATUS need 1.1.0.
 */
#include <string.h>

#include "cni.h"

static const char *const versions[] = {
	"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", CNI_LATEST_VERSION
};
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))
#define VERSION_LIST "0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"

int cni_version_index(const char *version)
{
	for (size_t i = 0; i < N_VERSIONS; i++)
		if (strcmp(version, versions[i]) == 0)
			return (int)i;
	return -1;
}

const char *cni_version_name(int index)
{
	return versions[index];
}

json_t *cni_supported_versions(void)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < N_VERSIONS; i++)
		json_array_append_new(list, json_string(versions[i]));
	return list;
}

const char *cni_version_of(const struct cni_netconf *nc)
{
	return nc->cni_version[0] ? nc->cni_version : "0.1.0";
}

int cni_version_check(const struct cni_netconf *nc, const char *command,
		      struct cni_error *err)
{
	const char *version = cni_version_of(nc);
	int index = cni_version_index(version);
	const char *needs = NULL;

	if (index < 0)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"incompatible CNI versions: config is \"%s\", plugin supports " VERSION_LIST,
				version);
	/* the spec version that brought the command */
	if (strcmp(command, "CHECK") == 0)
		needs = "0.4.0";
	else if (strcmp(command, "GC") == 0 || strcmp(command, "STATUS") == 0)
		needs = "1.1.0";
	if (needs && index < cni_version_index(needs))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"config version \"%s\" does not allow %s (needs %s or later)",
				version, command, needs);
	return 0;
}
