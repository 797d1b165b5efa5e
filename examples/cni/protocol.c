/*
 * protocol.c - the CNI calling convention on the way in: the CNI_*
 * environment variables each command needs, checked so that a containerID
 * can safely name a file, and the network configuration on stdin.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

#define MAX_CONTAINER_ID NAME_MAX	/* it names a file in dataDir */
#define MAX_IFNAME 15	/* IFNAMSIZ - 1 */

/* Which variables each command needs (libcni's skel table). */
struct command {
	const char *name;
	int netns, ids, path;	/* ids: CNI_CONTAINERID and CNI_IFNAME */
};
static const struct command commands[] = {
	{ "ADD", 1, 1, 1 }, { "DEL", 0, 1, 1 }, { "CHECK", 1, 1, 1 },
	{ "GC", 0, 0, 1 }, { "STATUS", 0, 0, 1 }, { "VERSION", 0, 0, 0 },
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A containerID names the saved file: letters, digits, _ . - only, the
 * first a letter or digit (libcni's rule), no "..", at most NAME_MAX (255)
 * bytes so that it fits in a file name. */
static int check_container_id(const char *id, struct cni_error *err)
{
	size_t len = strlen(id);

	snprintf(err->details, sizeof(err->details), "%s", id);
	if (len > MAX_CONTAINER_ID)
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_CONTAINERID: %zu bytes, at most %d allowed (it names a file in dataDir)",
				len, MAX_CONTAINER_ID);
	if (strchr(id, '/'))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_CONTAINERID: contains \"/\"");
	if (strstr(id, ".."))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_CONTAINERID: contains \"..\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (isalnum(c) || (i > 0 && (c == '_' || c == '.' || c == '-')))
			continue;
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_CONTAINERID: invalid character 0x%02x at byte %zu (allowed: letters, digits, and _ . - after the first)",
				c, i);
	}
	err->details[0] = '\0';
	return 0;
}

static int check_ifname(const char *name, struct cni_error *err)
{
	if (strlen(name) > MAX_IFNAME)
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: \"%s\" is longer than %d bytes", name,
				MAX_IFNAME);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strpbrk(name, "/: \t\n\v\f\r"))
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: \"%s\" is not a valid interface name", name);
	return 0;
}

int cni_args_load(struct cni_args *args, struct cni_error *err)
{
	const struct command *cmd = NULL;
	char missing[128] = "";

	memset(args, 0, sizeof(*args));
	args->command = env("CNI_COMMAND");
	if (!args->command)
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"required environment variables missing: CNI_COMMAND");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(args->command, commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"CNI_COMMAND: unknown command \"%.64s\" (ADD, DEL, CHECK, GC, STATUS, VERSION)",
				args->command);
	args->container_id = env("CNI_CONTAINERID");
	args->netns = env("CNI_NETNS");
	args->ifname = env("CNI_IFNAME");
	args->path = env("CNI_PATH");
	if (cmd->ids && !args->container_id)
		strcat(missing, ", CNI_CONTAINERID");
	if (cmd->netns && !args->netns)
		strcat(missing, ", CNI_NETNS");
	if (cmd->ids && !args->ifname)
		strcat(missing, ", CNI_IFNAME");
	if (cmd->path && !args->path)
		strcat(missing, ", CNI_PATH");
	if (missing[0])
		return cni_fail(err, CNI_ERR_INVALID_ENV,
				"required environment variables missing: %s",
				missing + 2);
	if (!cmd->ids)
		return 0;
	if (check_container_id(args->container_id, err) < 0)
		return -1;
	return check_ifname(args->ifname, err);
}

int cni_stdin_decode(json_t **root, struct cni_error *err)
{
	size_t len = 0, cap = CNI_MAX_STDIN + 1;
	char *buf = malloc(cap);
	json_error_t jerr;

	*root = NULL;
	if (!buf)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	/* one byte past the limit tells "too large" from "exactly 1 MiB" */
	while (len < cap) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return cni_fail(err, CNI_ERR_IO, "stdin: %s", strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CNI_MAX_STDIN) {
		free(buf);
		return cni_fail(err, CNI_ERR_DECODE,
				"stdin: network configuration is larger than %d bytes (1 MiB)",
				CNI_MAX_STDIN);
	}
	if (len == 0) {
		free(buf);
		return cni_fail(err, CNI_ERR_DECODE,
				"stdin: empty, expected the network configuration as JSON");
	}
	*root = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!*root)
		return cni_fail(err, CNI_ERR_DECODE,
				"stdin: not valid JSON: %s (line %d, column %d)",
				jerr.text, jerr.line, jerr.column);
	return 0;
}
