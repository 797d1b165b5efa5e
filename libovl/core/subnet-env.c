/*
 * subnet-env.c - flannel's subnet.env: written atomically with only the
 * enabled families' lines and always an MTU, read the way flanneld reads
 * it (dotenv syntax, comma lists of networks; a subnet it cannot parse is
 * no previous subnet, main.go ReadCIDRsFromSubnetFile; FLANNEL_IPMASQ is
 * true only as "true", as flannel's CNI plugin reads it), other malformed
 * lines refused with their line number.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fileio.h"

#define MTU_MIN 68
#define MTU_MAX 65535

/* Copies the caller's struct, whatever its size, into a whole one. */
static void whole_env(const struct ovl_subnet_env *env, struct ovl_subnet_env *whole)
{
	struct ovl_subnet_env init = OVL_SUBNET_ENV_INIT;

	*whole = init;
	memcpy(whole, env, env->size < sizeof(*whole) ? env->size : sizeof(*whole));
	whole->size = sizeof(*whole);
}

/* Why text is not a (comma list of) prefix(es) of family, or NULL. */
static const char *check_prefixes(const char *text, int family, int list)
{
	struct ovl_prefix prefix;
	char item[OVL_PREFIX_STRLEN];
	const char *end;
	size_t length;

	for (;;) {
		while (*text == ' ')
			text++;
		end = list ? strchr(text, ',') : NULL;
		length = end ? (size_t)(end - text) : strlen(text);
		while (length && text[length - 1] == ' ')
			length--;
		if (!length || length >= sizeof(item))
			return "expected a CIDR prefix";
		memcpy(item, text, length);
		item[length] = '\0';
		if (ovl_prefix_parse(item, &prefix) < 0)
			return "expected a CIDR prefix";
		if (prefix.family != family)
			return family == AF_INET ? "expected an IPv4 prefix" :
						   "expected an IPv6 prefix";
		if (!end)
			return NULL;
		text = end + 1;
	}
}

/* ---- write ---------------------------------------------------------- */

static int field_text(struct ovl_ctx *ctx, const char *name, const char *field,
		      size_t size, int family, int list)
{
	const char *why;

	if (strnlen(field, size) == size)
		return ctx_fail(ctx, -EINVAL, "subnet.env %s: not NUL-terminated", name);
	if (!*field)
		return 0;
	why = check_prefixes(field, family, list);
	return why ? ctx_fail(ctx, -EINVAL, "subnet.env %s: '%s': %s", name, field, why) : 0;
}

/* flannel writes the subnet's first address (the bridge's) with the
 * prefix length: 10.244.3.0/24 becomes 10.244.3.1/24; an address already
 * inside is kept. */
static void gateway_form(const char *subnet, char *out, size_t size)
{
	struct ovl_prefix prefix;
	unsigned int bytes;

	snprintf(out, size, "%s", subnet);
	if (!*subnet || ovl_prefix_parse(subnet, &prefix) < 0 ||
	    !ovl_prefix_is_aligned(&prefix))
		return;
	bytes = prefix.family == AF_INET ? 4 : 16;
	if (prefix.len >= bytes * 8)
		return;
	prefix.addr[bytes - 1] |= 1;
	ovl_prefix_format(&prefix, out, size);
}

OVL_EXPORT int ovl_subnet_env_write(struct ovl_ctx *ctx, const char *path,
				    const struct ovl_subnet_env *env)
{
	struct ovl_subnet_env e;
	char subnet[OVL_PREFIX_STRLEN], ipv6_subnet[OVL_PREFIX_STRLEN];
	char text[1024];
	int err, n;

	ctx_clear_error(ctx);
	if (!env)
		return ctx_fail(ctx, -EINVAL, "ovl_subnet_env_write: NULL env");
	err = options_check(ctx, "ovl_subnet_env_write: env", env, SUBNET_ENV_SIZE_0_1,
			    sizeof(*env));
	if (err < 0)
		return err;
	if (!path)
		path = OVL_SUBNET_ENV_DEFAULT_PATH;
	whole_env(env, &e);
	err = field_text(ctx, "FLANNEL_NETWORK", e.network, sizeof(e.network), AF_INET, 1);
	if (!err)
		err = field_text(ctx, "FLANNEL_SUBNET", e.subnet, sizeof(e.subnet), AF_INET, 0);
	if (!err)
		err = field_text(ctx, "FLANNEL_IPV6_NETWORK", e.ipv6_network,
				 sizeof(e.ipv6_network), AF_INET6, 1);
	if (!err)
		err = field_text(ctx, "FLANNEL_IPV6_SUBNET", e.ipv6_subnet,
				 sizeof(e.ipv6_subnet), AF_INET6, 0);
	if (err < 0)
		return err;
	if (!*e.subnet && !*e.ipv6_subnet)
		return ctx_fail(ctx, -EINVAL, "subnet.env: needs FLANNEL_SUBNET or "
				"FLANNEL_IPV6_SUBNET");
	/* flanneld always writes FLANNEL_MTU (pkg/subnet/subnet.go:89), and
	 * flannel's CNI plugin refuses a file without it. */
	if (e.mtu < MTU_MIN || e.mtu > MTU_MAX)
		return ctx_fail(ctx, -EINVAL, "subnet.env FLANNEL_MTU: %u is not from %d to %d",
				e.mtu, MTU_MIN, MTU_MAX);
	gateway_form(e.subnet, subnet, sizeof(subnet));
	gateway_form(e.ipv6_subnet, ipv6_subnet, sizeof(ipv6_subnet));
	n = snprintf(text, sizeof(text), "%s%s%s%s%s%s%s%s%s%s%s%s",
		     *e.network ? "FLANNEL_NETWORK=" : "", e.network, *e.network ? "\n" : "",
		     *subnet ? "FLANNEL_SUBNET=" : "", subnet, *subnet ? "\n" : "",
		     *e.ipv6_network ? "FLANNEL_IPV6_NETWORK=" : "", e.ipv6_network,
		     *e.ipv6_network ? "\n" : "",
		     *ipv6_subnet ? "FLANNEL_IPV6_SUBNET=" : "", ipv6_subnet,
		     *ipv6_subnet ? "\n" : "");
	n += snprintf(text + n, sizeof(text) - n, "FLANNEL_MTU=%u\n", e.mtu);
	n += snprintf(text + n, sizeof(text) - n, "FLANNEL_IPMASQ=%s\n",
		      e.ipmasq ? "true" : "false");
	return file_replace(ctx, path, NULL, text, (size_t)n, NULL);
}

/* ---- read ------------------------------------------------------------ */

/* Splits one line into name and value in place; NULL name for a blank or
 * comment line; -1 with *why when malformed. */
static int split_line(char *line, char **name, char **value, const char **why)
{
	char *eq, *end, quote;

	*name = NULL;
	line[strcspn(line, "\r\n")] = '\0';
	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	if (!strncmp(line, "export ", 7))
		line += 7;
	eq = strchr(line, '=');
	if (!eq)
		return *why = "expected NAME=VALUE", -1;
	for (end = eq; end > line && isspace((unsigned char)end[-1]); end--)
		;
	*end = '\0';
	if (!*line || (!isalpha((unsigned char)*line) && *line != '_') ||
	    line[strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")])
		return *why = "expected a variable name before '='", -1;
	*name = line;
	for (line = eq + 1; *line == ' ' || *line == '\t'; line++)
		;
	if (*line == '"' || *line == '\'') {
		quote = *line++;
		end = strchr(line, quote);
		if (!end)
			return *why = "unterminated quoted value", -1;
		*end++ = '\0';
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end && *end != '#')
			return *why = "unexpected text after the quoted value", -1;
		*value = line;
		return 0;
	}
	/* an unquoted value ends at a comment that follows a blank */
	for (end = line; *end; end++)
		if (*end == '#' && end > line && isspace((unsigned char)end[-1]))
			break;
	while (end > line && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	*value = line;
	return 0;
}

static const char *store_value(struct ovl_ctx *ctx, const char *path, unsigned int number,
			       struct ovl_subnet_env *env, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t offset, size;
		int family, list;
	} fields[] = {
		{ "FLANNEL_NETWORK", offsetof(struct ovl_subnet_env, network),
		  sizeof(env->network), AF_INET, 1 },
		{ "FLANNEL_SUBNET", offsetof(struct ovl_subnet_env, subnet),
		  sizeof(env->subnet), AF_INET, 0 },
		{ "FLANNEL_IPV6_NETWORK", offsetof(struct ovl_subnet_env, ipv6_network),
		  sizeof(env->ipv6_network), AF_INET6, 1 },
		{ "FLANNEL_IPV6_SUBNET", offsetof(struct ovl_subnet_env, ipv6_subnet),
		  sizeof(env->ipv6_subnet), AF_INET6, 0 },
	};
	unsigned long mtu;
	const char *why;
	char *end;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (strcmp(name, fields[i].name))
			continue;
		why = strlen(value) >= fields[i].size ? "value too long" : *value ?
			check_prefixes(value, fields[i].family, fields[i].list) : NULL;
		/* flanneld logs a subnet it cannot parse and goes on without
		 * a previous subnet */
		if (why && !fields[i].list) {
			ctx_log(ctx, OVL_LOG_WARNING, "%s:%u: %s: '%s': %s: taken as none",
				path, number, name, value, why);
			*((char *)env + fields[i].offset) = '\0';
			return NULL;
		}
		if (why)
			return why;
		memcpy((char *)env + fields[i].offset, value, strlen(value) + 1);
		return NULL;
	}
	if (!strcmp(name, "FLANNEL_MTU")) {
		errno = 0;
		mtu = strtoul(value, &end, 10);
		if (!*value || *end || errno || !isdigit((unsigned char)*value) ||
		    mtu < MTU_MIN || mtu > MTU_MAX)
			return "expected an MTU from 68 to 65535";
		env->mtu = (unsigned int)mtu;
		return NULL;
	}
	/* flannel's CNI plugin: `ipmasq = value == "true"` (flannel.go:190) */
	if (!strcmp(name, "FLANNEL_IPMASQ"))
		env->ipmasq = !strcmp(value, "true");
	return NULL;		/* other variables are not ours to judge */
}

OVL_EXPORT int ovl_subnet_env_read(struct ovl_ctx *ctx, const char *path,
				   struct ovl_subnet_env *env)
{
	struct ovl_subnet_env whole = OVL_SUBNET_ENV_INIT;
	char *line = NULL, *name, *value;
	const char *why = NULL;
	unsigned int number = 0;
	size_t cap = 0;
	FILE *file;
	int err;

	ctx_clear_error(ctx);
	if (!env)
		return ctx_fail(ctx, -EINVAL, "ovl_subnet_env_read: NULL env");
	err = output_check(ctx, "ovl_subnet_env_read: env", env, SUBNET_ENV_SIZE_0_1,
			   sizeof(*env));
	if (err < 0)
		return err;
	if (!path)
		path = OVL_SUBNET_ENV_DEFAULT_PATH;
	file = fopen(path, "re");
	if (!file)
		return ctx_fail(ctx, -errno, "%s: %s", path, ovl_strerror(errno));
	while (getline(&line, &cap, file) >= 0) {
		number++;
		if (split_line(line, &name, &value, &why) < 0 ||
		    (name && (why = store_value(ctx, path, number, &whole, name, value)))) {
			err = ctx_fail(ctx, -EINVAL, "%s:%u: %s%s%s", path, number,
				       name ? name : "", name ? ": " : "", why);
			break;
		}
	}
	/* getline also stops when it cannot grow its buffer, without EOF */
	if (!err && (ferror(file) || !feof(file)))
		err = errno == ENOMEM ? ctx_fail(ctx, -ENOMEM, "%s: out of memory", path)
				      : ctx_fail(ctx, -EIO, "%s: read error", path);
	free(line);
	fclose(file);
	if (err < 0)
		return err;
	whole.size = env->size;
	memcpy(env, &whole, env->size < sizeof(whole) ? env->size : sizeof(whole));
	return 0;
}
