/*
 * subnet-env.c - subnet.env read the way flannel's CNI plugin reads it
 * (cni-plugin flannel.go loadFlannelSubnetEnv), not the way libovl's agent
 * does: each line split at its first '=', the name taken exactly, the value
 * verbatim; FLANNEL_IPMASQ is true only for exactly "true"; a file without
 * a network, a subnet, FLANNEL_MTU or FLANNEL_IPMASQ is refused with every
 * missing variable named.  Other lines are not ours to judge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

/* One CIDR as Go's net.ParseCIDR reads it: the network, host bits cleared. */
static int parse_cidr(const char *text, size_t len, struct ovl_prefix *prefix)
{
	char buf[OVL_PREFIX_STRLEN];

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (ovl_prefix_parse(buf, prefix) < 0)
		return -1;
	ovl_prefix_mask(prefix);
	return 0;
}

/* A comma list of CIDRs; a later line replaces an earlier one, a repeat
 * inside the list is dropped. */
static int parse_networks(const char *value, size_t len,
			  struct ovl_prefix **list, size_t *count)
{
	size_t n = 1, kept = 0, i;
	struct ovl_prefix *out, prefix;
	const char *item = value, *end = value + len, *comma;

	for (i = 0; i < len; i++)
		n += value[i] == ',';
	out = calloc(n, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (;;) {
		comma = memchr(item, ',', (size_t)(end - item));
		if (parse_cidr(item, (size_t)((comma ? comma : end) - item), &prefix) < 0) {
			free(out);
			return -EINVAL;
		}
		for (i = 0; i < kept && !ovl_prefix_equal(&out[i], &prefix); i++)
			;
		if (i == kept)
			out[kept++] = prefix;
		if (!comma)
			break;
		item = comma + 1;
	}
	free(*list);
	*list = out;
	*count = kept;
	return 0;
}

/* An MTU as Go's strconv.ParseUint(s, 10, 32): decimal digits only. */
static int parse_mtu(const char *value, size_t len, unsigned long *mtu)
{
	unsigned long long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(value[i] - '0');
		if (v > 0xffffffffULL)
			return -1;
	}
	*mtu = (unsigned long)v;
	return 0;
}

static int is_ours(const char *name, size_t len)
{
	static const char *const names[] = {
		"FLANNEL_NETWORK", "FLANNEL_SUBNET", "FLANNEL_IPV6_NETWORK",
		"FLANNEL_IPV6_SUBNET", "FLANNEL_MTU", "FLANNEL_IPMASQ",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

/* Stores one line's value; -EINVAL with *why when malformed. */
static int store(struct cni_subnet_env *env, const char *name, size_t name_len,
		 const char *value, size_t len, const char **why)
{
#define IS(key) (name_len == sizeof(key) - 1 && memcmp(name, key, name_len) == 0)
	int rc = 0;

	*why = "is not a CIDR";
	if (IS("FLANNEL_NETWORK"))
		rc = parse_networks(value, len, &env->networks, &env->n_networks);
	else if (IS("FLANNEL_IPV6_NETWORK"))
		rc = parse_networks(value, len, &env->ipv6_networks,
				    &env->n_ipv6_networks);
	else if (IS("FLANNEL_SUBNET"))
		rc = parse_cidr(value, len, &env->subnet) < 0 ? -EINVAL :
		     (env->has_subnet = 1, 0);
	else if (IS("FLANNEL_IPV6_SUBNET"))
		rc = parse_cidr(value, len, &env->ipv6_subnet) < 0 ? -EINVAL :
		     (env->has_ipv6_subnet = 1, 0);
	else if (IS("FLANNEL_MTU")) {
		*why = "is not an MTU (decimal digits, below 2^32)";
		rc = parse_mtu(value, len, &env->mtu) < 0 ? -EINVAL :
		     (env->has_mtu = 1, 0);
	} else if (IS("FLANNEL_IPMASQ")) {
		env->ipmasq = len == 4 && memcmp(value, "true", 4) == 0;
		env->has_ipmasq = 1;
	}
	return rc;
#undef IS
}

/* flannel's message: "<file> is missing A, B, ...". */
static int check_missing(const struct cni_subnet_env *env, const char *file,
			 struct cni_error *err)
{
	char missing[160] = "";

	if (!env->n_networks && !env->n_ipv6_networks)
		strcat(missing, ", FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK");
	if (!env->has_subnet && !env->has_ipv6_subnet)
		strcat(missing, ", FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET");
	if (!env->has_mtu)
		strcat(missing, ", FLANNEL_MTU");
	if (!env->has_ipmasq)
		strcat(missing, ", FLANNEL_IPMASQ");
	if (missing[0])
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s is missing %s",
				file, missing + 2);
	return 0;
}

int cni_subnet_env_parse(const char *text, size_t len, const char *file,
			 struct cni_subnet_env *env, struct cni_error *err)
{
	const char *line = text, *end = text + len, *next, *eq, *why;
	unsigned int number = 0;
	size_t line_len;
	int rc;

	memset(env, 0, sizeof(*env));
	for (; line < end; line = next) {
		next = memchr(line, '\n', (size_t)(end - line));
		line_len = (size_t)((next ? next : end) - line);
		next = next ? next + 1 : end;
		number++;
		/* bufio.ScanLines drops a trailing carriage return */
		if (line_len && line[line_len - 1] == '\r')
			line_len--;
		eq = memchr(line, '=', line_len);
		if (!eq) {
			/* flannel's plugin would index past the line and panic */
			if (!is_ours(line, line_len))
				continue;
			cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s:%u: %.*s: no '='",
				 file, number, (int)line_len, line);
			goto fail;
		}
		rc = store(env, line, (size_t)(eq - line), eq + 1,
			   line_len - (size_t)(eq - line) - 1, &why);
		if (rc == -ENOMEM) {
			cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		if (rc < 0) {
			cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s:%u: %.*s: \"%.*s\" %s",
				 file, number, (int)(eq - line), line,
				 (int)(line_len - (size_t)(eq - line) - 1), eq + 1, why);
			goto fail;
		}
	}
	if (check_missing(env, file, err) == 0)
		return 0;
fail:
	cni_subnet_env_free(env);
	return -1;
}

int cni_subnet_env_read(const char *file, struct cni_subnet_env *env,
			struct cni_error *err)
{
	char *text;
	size_t len;
	int rc;

	memset(env, 0, sizeof(*env));
	if (cni_file_read(file, 0, &text, &len, err) < 0)
		return -1;
	if (!text)
		return cni_fail(err, CNI_ERR_TRY_AGAIN_LATER,
				"%s does not exist yet: the overlay agent (ovlctl run or flanneld) has not started on this node",
				file);
	rc = cni_subnet_env_parse(text, len, file, env, err);
	free(text);
	return rc;
}

void cni_subnet_env_free(struct cni_subnet_env *env)
{
	free(env->networks);
	free(env->ipv6_networks);
	memset(env, 0, sizeof(*env));
}
