/*
 * cmd-config.c - `ovlctl config`: check a net-conf.json and print the
 * effective configuration (text or --json), show the one in use, or put one
 * into the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ovlctl.h"

/* The text form is the JSON form flattened, one `key: value` per line with
 * nested keys joined by a dot, so the two never disagree. */
static void print_text(json_t *object, const char *prefix)
{
	char nested[64];
	const char *key;
	json_t *value;

	json_object_foreach(object, key, value) {
		if (json_is_object(value)) {
			snprintf(nested, sizeof(nested), "%s%s.", prefix, key);
			print_text(value, nested);
		} else if (json_is_string(value)) {
			printf("%s%s: %s\n", prefix, key, json_string_value(value));
		} else if (json_is_integer(value)) {
			printf("%s%s: %" JSON_INTEGER_FORMAT "\n", prefix, key,
			       json_integer_value(value));
		} else {
			printf("%s%s: %s\n", prefix, key, json_is_true(value) ? "true" : "false");
		}
	}
}

static int print_config(struct ovlctl *tool, const struct ovl_config *config)
{
	char *text = ovl_config_to_json(config);
	json_t *root;

	if (!text) {
		fprintf(stderr, "ovlctl: config: %s\n", ovl_strerror(-ENOMEM));
		return 1;
	}
	if (tool->json) {
		printf("%s\n", text);
	} else {
		root = json_loads(text, JSON_PRESERVE_ORDER, NULL);
		if (root)
			print_text(root, "");
		json_decref(root);
	}
	ovl_free(text);
	return 0;
}

/* Loads file; on failure prints `ovlctl: FILE: <field>: <why>` (the library
 * puts the path in front of the reason) and returns the exit status 1. */
static int load_file(struct ovlctl *tool, const char *file, struct ovl_config **config)
{
	int err = ovl_config_load(tool->ctx, file, config);

	if (err >= 0)
		return 0;
	fprintf(stderr, "ovlctl: %s\n", *ovl_ctx_error(tool->ctx) ?
		ovl_ctx_error(tool->ctx) : ovl_strerror(err));
	return 1;
}

static int config_check(struct ovlctl *tool, const char *file)
{
	struct ovl_config *config;
	int status = load_file(tool, file, &config);

	if (status)
		return status;
	status = print_config(tool, config);
	ovl_config_free(config);
	return status;
}

static int config_show(struct ovlctl *tool)
{
	struct ovl_store *store = NULL;
	struct ovl_config *config;
	int status, err;

	/* The store matters only when no --config names a file. */
	if (!tool->config_path && (status = ovlctl_open_store(tool, &store)))
		return status;
	err = ovlctl_load_config(tool, store, &config);
	if (store)
		ovl_store_close(store);
	if (err < 0)
		return ovlctl_fail(tool, err, "config show");
	status = print_config(tool, config);
	ovl_config_free(config);
	return status;
}

static int config_put(struct ovlctl *tool, const char *file)
{
	struct ovl_store *store;
	struct ovl_config *config;
	json_error_t error;
	char *text = NULL;
	json_t *root;
	int status, err;

	/* Checked first for the same error line as `config check`. */
	status = load_file(tool, file, &config);
	if (status)
		return status;
	ovl_config_free(config);
	root = json_load_file(file, JSON_DECODE_ANY, &error);
	if (root)
		text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(root);
	if (!text) {
		fprintf(stderr, "ovlctl: %s: %s\n", file, root ? ovl_strerror(-ENOMEM) : error.text);
		return 1;
	}
	status = ovlctl_open_store(tool, &store);
	if (!status) {
		err = ovl_store_config_put(store, text);
		if (err < 0)
			status = ovlctl_fail(tool, err, "config put %s", ovlctl_store_shown(tool));
		ovl_store_close(store);
	}
	free(text);
	return status;
}

int cmd_config(struct ovlctl *tool, int argc, char **argv)
{
	const struct ovlctl_option options[] = {
		{ NULL, NULL, NULL },
	};
	char *args[2];
	int count;

	if (argc < 1)
		return ovlctl_usage_error("config: missing subcommand (see ovlctl help config)");
	count = ovlctl_parse_options("config", argc - 1, argv + 1, options, args, 2);
	if (count < 0)
		return 2;
	if (!strcmp(argv[0], "check") || !strcmp(argv[0], "put")) {
		if (count != 1)
			return ovlctl_usage_error("config %s: needs exactly one FILE", argv[0]);
		return argv[0][0] == 'c' ? config_check(tool, args[0]) : config_put(tool, args[0]);
	}
	if (!strcmp(argv[0], "show")) {
		if (count != 0)
			return ovlctl_usage_error("config show: unexpected argument '%s'", args[0]);
		return config_show(tool);
	}
	return ovlctl_usage_error("config: unknown subcommand '%s' (see ovlctl help config)",
				  argv[0]);
}
