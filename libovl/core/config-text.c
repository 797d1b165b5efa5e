/*
 * config-text.c - a net-conf.json text made to name its backend, so that
 * flanneld reads the backend libovl reads.  flanneld takes "udp" when
 * Backend is absent and exits ("unknown backend type") when its Type is
 * (pkg/subnet/config.go:47, backend/manager.go:54), where libovl takes
 * "vxlan"; ovl_store_config_put stores the text with "Type":"vxlan"
 * written in, and leaves every other byte as the caller wrote it.
 *
 * Which member counts is decided as Go's encoding/json decides: keys match
 * without regard to ASCII case and the last one wins, null included (a
 * null Backend is a json.RawMessage "null" to flanneld: no Type).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json-scan.h"

#define WRITTEN_TYPE "\"Type\":\"vxlan\""
#define WRITTEN_BACKEND "\"Backend\":{" WRITTEN_TYPE "}"

struct backend_place {
	const char *members_end;	/* after the root's last member's value */
	const char *backend;		/* '{' of the Backend object that counts */
	int backend_has_members;
	int backend_has_type;
};

static int key_folds_to(const struct json_key *key, const char *name)
{
	return key->length == strlen(name) && !strncasecmp(key->text, name, key->length);
}

static int read_backend_member(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct backend_place *place = arg;
	struct json_value value;
	int err = json_scan_value(scan, &value);

	place->backend_has_members = 1;
	/* Go leaves a string field alone on null: no Type still */
	if (!err && key_folds_to(key, "Type") && value.type != VALUE_NULL)
		place->backend_has_type = 1;
	return err;
}

static int read_root_member(struct json_scan *scan, void *arg, const struct json_key *key)
{
	struct backend_place *place = arg;
	struct json_value value;
	int err;

	if (key_folds_to(key, "Backend")) {
		place->backend = NULL;
		place->backend_has_members = place->backend_has_type = 0;
		if (scan->at < scan->end && *scan->at == '{') {
			place->backend = scan->at;
			err = json_scan_object(scan, read_backend_member, place);
		} else {
			err = json_scan_value(scan, &value);
		}
	} else {
		err = json_scan_value(scan, &value);
	}
	place->members_end = scan->at;
	return err;
}

/* text with insert put in at offset, as a new string. */
static char *spliced(const char *text, size_t offset, const char *insert)
{
	size_t length = strlen(text), added = strlen(insert);
	char *out = malloc(length + added + 1);

	if (!out)
		return NULL;
	memcpy(out, text, offset);
	memcpy(out + offset, insert, added);
	memcpy(out + offset + added, text + offset, length - offset + 1);
	return out;
}

int config_with_backend_type(struct ovl_ctx *ctx, const char *json, char **out)
{
	struct backend_place place = { 0 };
	struct json_scan scan;
	const char *open;
	int err;

	*out = NULL;
	json_scan_init(&scan, json, strlen(json));
	err = json_scan_document(&scan, read_root_member, &place);
	if (err == -ENOMEM)
		return ctx_fail(ctx, err, "out of memory");
	if (err < 0)
		return ctx_fail_prefix(ctx, json_scan_report(ctx, &scan),
				       "the config as flanneld reads it: ");
	if (place.backend && place.backend_has_type)
		*out = strdup(json);
	else if (place.backend)	/* right after its '{': the Type comes first */
		*out = spliced(json, (size_t)(place.backend + 1 - json),
			       place.backend_has_members ? WRITTEN_TYPE "," : WRITTEN_TYPE);
	else if (place.members_end)	/* last, so that it is the one that counts */
		*out = spliced(json, (size_t)(place.members_end - json), "," WRITTEN_BACKEND);
	else {
		open = strchr(json, '{');
		*out = spliced(json, (size_t)(open + 1 - json), WRITTEN_BACKEND);
	}
	if (!*out)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	if (strcmp(*out, json))
		ctx_log(ctx, OVL_LOG_INFO, "config: %s written in, as flanneld would not "
			"read the backend as vxlan otherwise", place.backend ?
			"Backend.Type \"vxlan\"" : "Backend {\"Type\":\"vxlan\"}");
	return 0;
}
