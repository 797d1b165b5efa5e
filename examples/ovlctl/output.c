/*
 * output.c - ovlctl's shared plumbing: subcommand option parsing, error
 * lines, and opening the store and config the global options name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ovlctl.h"

int ovlctl_parse_options(const char *command, int argc, char **argv,
			 const struct ovlctl_option *options,
			 char **positional, int max)
{
	int count = 0, i;
	const struct ovlctl_option *option;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) || !argv[i][2]) {
			if (count >= max) {
				ovlctl_usage_error("%s: unexpected argument '%s'", command, argv[i]);
				return -1;
			}
			positional[count++] = argv[i];
			continue;
		}
		for (option = options; option->name; option++)
			if (!strcmp(option->name, argv[i] + 2))
				break;
		if (!option->name) {
			ovlctl_usage_error("%s: unknown option '%s' (see ovlctl help)",
					   command, argv[i]);
			return -1;
		}
		if (option->flag) {
			*option->flag = 1;
			continue;
		}
		if (i + 1 >= argc) {
			ovlctl_usage_error("%s: %s needs a value", command, argv[i]);
			return -1;
		}
		*option->value = argv[++i];
	}
	return count;
}

int ovlctl_fail(struct ovlctl *tool, int err, const char *format, ...)
{
	const char *why = tool && tool->ctx ? ovl_ctx_error(tool->ctx) : "";
	va_list args;

	fputs("ovlctl: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fprintf(stderr, ": %s\n", why && *why ? why : ovl_strerror(err));
	return 1;
}

int ovlctl_usage_error(const char *format, ...)
{
	va_list args;

	fputs("ovlctl: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return 2;
}

int ovlctl_parse_uint(const char *option, const char *text, unsigned long min,
		      unsigned long max, unsigned long *value)
{
	char *end;
	unsigned long number;

	errno = 0;
	number = strtoul(text, &end, 10);
	if (!*text || *end || errno || text[0] == '-' || number < min || number > max) {
		ovlctl_usage_error("%s: '%s' is not a number from %lu to %lu", option,
				   text, min, max);
		return -1;
	}
	*value = number;
	return 0;
}

const char *ovlctl_store_shown(struct ovlctl *tool)
{
	const char *uri = tool->store_uri, *at = strstr(uri, "password=");
	size_t before;

	/* only as an option: after '?' or '&' */
	while (at && at > uri && at[-1] != '?' && at[-1] != '&')
		at = strstr(at + 1, "password=");
	if (!at)
		return uri;
	before = (size_t)(at - uri) + strlen("password=");
	snprintf(tool->store_shown, sizeof(tool->store_shown), "%.*s***%s", (int)before, uri,
		 strchrnul(at, '&'));
	return tool->store_shown;
}

int ovlctl_open_store(struct ovlctl *tool, struct ovl_store **store)
{
	int err = ovl_store_open(tool->ctx, tool->store_uri, store);

	return err < 0 ? ovlctl_fail(tool, err, "store %s", ovlctl_store_shown(tool)) : 0;
}

int ovlctl_load_config(struct ovlctl *tool, struct ovl_store *store,
		       struct ovl_config **config)
{
	int err;

	if (tool->config_path)
		return ovl_config_load(tool->ctx, tool->config_path, config);
	if (store) {
		err = ovl_store_config_get(store, config);
		if (err != -ENOENT)
			return err;
	}
	return ovl_config_load(tool->ctx, OVLCTL_DEFAULT_CONFIG, config);
}
