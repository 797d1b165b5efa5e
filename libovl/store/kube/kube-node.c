/*
 * kube-node.c - Node objects as flannel's kube subnet manager reads and
 * writes them (pure: no I/O): the pod CIDRs are the lease, the annotations
 * under the prefix carry its attributes, and acquiring means patching the
 * annotations flanneld would write where they differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "store/kube/kube.h"

static const json_t *path_get(const json_t *node, const char *a, const char *b)
{
	return json_object_get(json_object_get(node, a), b);
}

const char *kube_node_name(const json_t *node)
{
	const char *name = json_string_value(path_get(node, "metadata", "name"));

	return name ? name : "";
}

const char *kube_node_annotation(const struct kube_store *store, const json_t *node,
				 enum kube_annotation which)
{
	return json_string_value(json_object_get(path_get(node, "metadata", "annotations"),
						 store->annotations[which]));
}

static int cidr_parse(struct ovl_ctx *ctx, const char *name, const char *field,
		      const json_t *value, struct ovl_prefix *prefix)
{
	const char *text = json_string_value(value);

	if (!text || ovl_prefix_parse(text, prefix) < 0 || !strchr(text, '/'))
		return ctx_fail(ctx, -EINVAL, "node %s: %s '%s' is not a CIDR", name, field,
				text ? text : ovl_json_type_text(value));
	ovl_prefix_mask(prefix);
	return 0;
}

int kube_node_pod_cidrs(struct ovl_ctx *ctx, const json_t *node, struct ovl_prefix *v4,
			int *has4, struct ovl_prefix *v6, int *has6)
{
	const json_t *list = path_get(node, "spec", "podCIDRs");
	const json_t *single = path_get(node, "spec", "podCIDR");
	const char *name = kube_node_name(node);
	struct ovl_prefix prefix;
	size_t i, count = json_array_size(list);
	int err;

	*has4 = *has6 = 0;
	if (count > 2)
		return ctx_fail(ctx, -EINVAL, "node %s: spec.podCIDRs has %zu entries; pod "
				"cidrs should be IPv4/IPv6 only or dualstack (at most two)",
				name, count);
	if (!count && (!json_string_value(single) || !*json_string_value(single)))
		return ctx_fail(ctx, -EAGAIN, "node %s pod cidr not assigned (spec.podCIDR is "
				"empty: is kube-controller-manager run with "
				"--allocate-node-cidrs?)", name);
	for (i = 0; i < (count ? count : 1); i++) {
		err = cidr_parse(ctx, name, count ? "spec.podCIDRs" : "spec.podCIDR",
				 count ? json_array_get(list, i) : single, &prefix);
		if (err < 0)
			return err;
		if ((prefix.family == AF_INET && *has4) || (prefix.family == AF_INET6 && *has6))
			return ctx_fail(ctx, -EINVAL, "node %s: spec.podCIDRs has two %s "
					"CIDRs", name, family_name(prefix.family));
		if (prefix.family == AF_INET) {
			*v4 = prefix;
			*has4 = 1;
		} else {
			*v6 = prefix;
			*has6 = 1;
		}
	}
	return 0;
}

/* The key of the node's lease over the families in use. */
static int node_key(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *node,
		    char *key, size_t size)
{
	struct ovl_lease subnets = { 0 };
	const char *name = kube_node_name(node);
	int has4, has6, err;

	err = kube_node_pod_cidrs(ctx, node, &subnets.subnet, &has4, &subnets.ipv6_subnet, &has6);
	if (err < 0)
		return err;
	subnets.has_ipv4 = has4 && (!store->families_known || store->ipv4);
	subnets.has_ipv6 = has6 && (!store->families_known || store->ipv6);
	if (store->families_known && store->ipv4 && !has4)
		return ctx_fail(ctx, -EINVAL, "node %s: missing IPv4 address on "
				"spec.podCIDRs", name);
	if (store->families_known && store->ipv6 && !has6)
		return ctx_fail(ctx, -EINVAL, "node %s: missing IPv6 address on "
				"spec.podCIDRs", name);
	if (lease_key_format(&subnets, key, size) < 0)
		return ctx_fail(ctx, -EINVAL, "node %s: no pod CIDR of an enabled family", name);
	return 0;
}

int kube_node_key(struct ovl_ctx *ctx, const struct kube_store *store,
		  const json_t *node, struct ovl_lease **lease)
{
	char key[sizeof((*lease)->key)];
	int err = node_key(ctx, store, node, key, sizeof(key));

	*lease = NULL;
	if (err == -EAGAIN)
		return -ENOENT;
	if (err < 0)
		return err;
	*lease = lease_new();
	if (!*lease)
		return -ENOMEM;
	err = lease_key_parse(ctx, key, *lease);
	if (err < 0) {
		ovl_lease_free(*lease);
		*lease = NULL;
	}
	return err;
}

/* Adds a backend data annotation (JSON text) to attrs as an object. */
static int add_data(struct ovl_ctx *ctx, json_t *attrs, const char *member, const char *name,
		    const char *annotation, const char *text)
{
	json_error_t error;
	json_t *value;

	if (!text || !*text)
		return 0;
	/* flanneld writes "null" for a backend without data (host-gw). */
	if (ovl_json_parse(text, strlen(text), JSON_DECODE_ANY, &value, &error) < 0)
		return ctx_fail(ctx, -EINVAL, "node %s: annotation %s is not JSON", name,
				annotation);
	return json_object_set_new(attrs, member, value) ? -ENOMEM : 0;
}

int kube_node_lease(struct ovl_ctx *ctx, const struct kube_store *store,
		    const json_t *node, struct ovl_lease **lease)
{
	const char *managed = kube_node_annotation(store, node, KUBE_SUBNET_KUBE_MANAGED);
	const char *name = kube_node_name(node);
	char key[sizeof((*lease)->key)];
	json_t *attrs;
	int err;

	*lease = NULL;
	if (!managed || strcmp(managed, "true"))
		return -ENOENT;
	err = node_key(ctx, store, node, key, sizeof(key));
	if (err == -EAGAIN)
		return -ENOENT;
	if (err < 0)
		return err;
	attrs = json_object();
	if (!attrs)
		return -ENOMEM;
	err = json_object_set_new(attrs, "NodeName", json_string(name));
	if (!err && kube_node_annotation(store, node, KUBE_BACKEND_TYPE))
		err = json_object_set_new(attrs, "BackendType", json_string(
				kube_node_annotation(store, node, KUBE_BACKEND_TYPE)));
	if (!err && strchr(key, '.') && kube_node_annotation(store, node, KUBE_PUBLIC_IP))
		err = json_object_set_new(attrs, "PublicIP", json_string(
				kube_node_annotation(store, node, KUBE_PUBLIC_IP)));
	if (!err && strchr(key, ':') && kube_node_annotation(store, node, KUBE_PUBLIC_IPV6))
		err = json_object_set_new(attrs, "PublicIPv6", json_string(
				kube_node_annotation(store, node, KUBE_PUBLIC_IPV6)));
	if (err)
		err = -ENOMEM;
	if (!err && strchr(key, '.'))
		err = add_data(ctx, attrs, "BackendData", name, store->annotations[KUBE_BACKEND_DATA],
			       kube_node_annotation(store, node, KUBE_BACKEND_DATA));
	if (!err && strchr(key, ':'))
		err = add_data(ctx, attrs, "BackendV6Data", name,
			       store->annotations[KUBE_BACKEND_V6_DATA],
			       kube_node_annotation(store, node, KUBE_BACKEND_V6_DATA));
	if (!err)
		err = lease_from_object(ctx, key, attrs, lease);
	json_decref(attrs);
	if (err < 0 && err != -ENOMEM)
		err = ctx_fail_prefix(ctx, err, "node %s: ", name);
	return err;
}

/* ---- acquiring -------------------------------------------------------- */

/* Sets annotation which to value in patch when the node has another. */
static int want(const struct kube_store *store, const json_t *node, json_t *patch,
		enum kube_annotation which, const char *value)
{
	const char *have = kube_node_annotation(store, node, which);

	if (have && !strcmp(have, value))
		return 0;
	return json_object_set_new(patch, store->annotations[which], json_string(value)) ?
	       -ENOMEM : 0;
}

static int check_inside(struct ovl_ctx *ctx, const struct ovl_config *config, int family,
			const struct ovl_prefix *cidr, const char *name)
{
	const struct ovl_prefix *network = ovl_config_network(config, family);
	char inner[OVL_PREFIX_STRLEN], outer[OVL_PREFIX_STRLEN] = "(none)";

	if (network && ovl_prefix_contains(network, cidr))
		return 0;
	ovl_prefix_format(cidr, inner, sizeof(inner));
	if (network)
		ovl_prefix_format(network, outer, sizeof(outer));
	return ctx_fail(ctx, -EINVAL, "subnet %s specified in the flannel net config "
			"(%sNetwork) doesn't contain %s %sPodCIDR of the %s node", outer,
			family == AF_INET ? "" : "IPv6", inner,
			family == AF_INET ? "" : "IPv6 ", name);
}

/* The public address to publish: the operator's overwrite annotation wins. */
static const char *public_address(const struct kube_store *store, const json_t *node,
				  enum kube_annotation overwrite, const char *ours)
{
	const char *forced = kube_node_annotation(store, node, overwrite);

	return forced && *forced ? forced : ours;
}

/* The annotations flanneld writes for lease, where node has other values,
 * as a strategic-merge patch (NULL when none differs). */
static int lease_patch(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *node,
		       const struct ovl_lease *lease, char **patch_text)
{
	json_t *annotations = json_object(), *patch;
	int err = annotations ? 0 : -ENOMEM;

	*patch_text = NULL;
	if (!err && lease->backend_type)
		err = want(store, node, annotations, KUBE_BACKEND_TYPE, lease->backend_type);
	if (!err && lease->has_ipv4)
		err = want(store, node, annotations, KUBE_BACKEND_DATA,
			   lease->backend_data ? lease->backend_data : "null");
	if (!err && lease->has_ipv4)
		err = want(store, node, annotations, KUBE_PUBLIC_IP, lease->public_ip);
	if (!err && lease->has_ipv6)
		err = want(store, node, annotations, KUBE_BACKEND_V6_DATA,
			   lease->backend_v6_data ? lease->backend_v6_data : "null");
	if (!err && lease->has_ipv6)
		err = want(store, node, annotations, KUBE_PUBLIC_IPV6, lease->public_ipv6);
	if (!err)
		err = want(store, node, annotations, KUBE_SUBNET_KUBE_MANAGED, "true");
	if (!err && json_object_size(annotations)) {
		patch = json_pack("{s:{s:O}}", "metadata", "annotations", annotations);
		*patch_text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
		json_decref(patch);
		if (!*patch_text)
			err = -ENOMEM;
	}
	json_decref(annotations);
	return err < 0 ? ctx_fail(ctx, -ENOMEM, "kube: out of memory") : 0;
}

static int copy_text(char **out, const char *text)
{
	return text && !(*out = strdup(text)) ? -ENOMEM : 0;
}

int kube_node_claim(struct ovl_ctx *ctx, const struct kube_store *store,
		    const struct ovl_config *config, const struct ovl_lease_request *request,
		    const json_t *node, struct ovl_lease **out, char **patch_text)
{
	const char *name = kube_node_name(node);
	const char *type = request->backend_type && *request->backend_type ?
			   request->backend_type : ovl_config_backend_type(config);
	int v4 = ovl_config_family_enabled(config, AF_INET);
	int v6 = ovl_config_family_enabled(config, AF_INET6);
	const char *ip = NULL, *ip6 = NULL;
	struct ovl_prefix cidr4, cidr6;
	struct ovl_lease *lease;
	int has4, has6, err;

	*out = NULL;
	*patch_text = NULL;
	err = kube_node_pod_cidrs(ctx, node, &cidr4, &has4, &cidr6, &has6);
	if (err < 0)
		return err;
	if (v4 && !has4)
		return ctx_fail(ctx, -EINVAL, "node %s has no IPv4 pod CIDR in spec.podCIDRs, "
				"but the net config enables IPv4", name);
	if (v6 && !has6)
		return ctx_fail(ctx, -EINVAL, "node %s has no IPv6 pod CIDR in spec.podCIDRs, "
				"but the net config enables IPv6", name);
	if ((v4 && (err = check_inside(ctx, config, AF_INET, &cidr4, name)) < 0) ||
	    (v6 && (err = check_inside(ctx, config, AF_INET6, &cidr6, name)) < 0))
		return err;
	if (v4)
		ip = public_address(store, node, KUBE_PUBLIC_IP_OVERWRITE, request->public_ip);
	if (v6)
		ip6 = public_address(store, node, KUBE_PUBLIC_IPV6_OVERWRITE, request->public_ipv6);
	if ((v4 && !ip) || (v6 && !ip6))
		return ctx_fail(ctx, -EINVAL, "node %s: no public %s address to publish", name,
				v4 && !ip ? "IPv4" : "IPv6");
	lease = lease_new();
	if (!lease)
		return ctx_fail(ctx, -ENOMEM, "kube: out of memory");
	lease->has_ipv4 = v4;
	lease->subnet = cidr4;
	lease->has_ipv6 = v6;
	lease->ipv6_subnet = cidr6;
	if (lease_key_format(lease, lease->key, sizeof(lease->key)) < 0 ||
	    lease_key_parse(ctx, lease->key, lease) < 0) {
		ovl_lease_free(lease);
		return ctx_fail(ctx, -EINVAL, "node %s: pod CIDRs make no lease key", name);
	}
	if (copy_text(&lease->public_ip, ip) || copy_text(&lease->public_ipv6, ip6) ||
	    copy_text(&lease->backend_type, type) || copy_text(&lease->node_name, name) ||
	    (v4 && copy_text(&lease->backend_data, request->backend_data)) ||
	    (v6 && copy_text(&lease->backend_v6_data, request->backend_v6_data))) {
		ovl_lease_free(lease);
		return ctx_fail(ctx, -ENOMEM, "kube: out of memory");
	}
	err = lease_patch(ctx, store, node, lease, patch_text);
	if (err < 0) {
		ovl_lease_free(lease);
		return err;
	}
	*out = lease;
	return 0;
}

int kube_node_recheck(struct ovl_ctx *ctx, const struct kube_store *store,
		      const json_t *node, const struct ovl_lease *lease, char **patch_text)
{
	char key[sizeof(lease->key)];
	int err = node_key(ctx, store, node, key, sizeof(key));

	*patch_text = NULL;
	if (err == -EAGAIN || (!err && strcmp(key, lease->key)))
		return ctx_fail(ctx, -ESTALE, "lease %s: node %s now has pod CIDRs %s", lease->key,
				kube_node_name(node), err ? "none" : key);
	if (err < 0)
		return err;
	return lease_patch(ctx, store, node, lease, patch_text);
}

int kube_pod_node_name(struct ovl_ctx *ctx, const char *pod, const json_t *reply, char **name)
{
	const char *node = json_string_value(path_get(reply, "spec", "nodeName"));

	*name = NULL;
	if (!node || !*node)
		return ctx_fail(ctx, -EINVAL, "kube: pod %s has no spec.nodeName (not scheduled "
				"to a node)", pod);
	if (strlen(node) > 253)
		return ctx_fail(ctx, -EINVAL, "kube: pod %s: spec.nodeName is %zu characters "
				"long", pod, strlen(node));
	*name = strdup(node);
	return *name ? 0 : ctx_fail(ctx, -ENOMEM, "kube: out of memory");
}

/* One pinned address: checked, copied into out. */
static int pinned(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *node,
		  enum kube_annotation which, int family, char *out, size_t size)
{
	const char *text = kube_node_annotation(store, node, which);
	struct ovl_prefix addr;

	if (!text || !*text)
		return 0;
	if (ovl_addr_parse(text, &addr) < 0 || addr.family != family || strlen(text) >= size)
		return ctx_fail(ctx, -EINVAL, "node %s: annotation %s: '%s' is not an %s "
				"address", kube_node_name(node), store->annotations[which], text,
				family_name(family));
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

int kube_node_pinned(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *node,
		     struct store_host *host)
{
	int err = pinned(ctx, store, node, KUBE_NODE_PUBLIC_IP, AF_INET, host->public_ip,
			 sizeof(host->public_ip));

	return err < 0 ? err : pinned(ctx, store, node, KUBE_NODE_PUBLIC_IPV6, AF_INET6,
				      host->public_ipv6, sizeof(host->public_ipv6));
}

char *kube_condition_patch(int64_t now)
{
	char stamp[32];
	struct tm tm;
	time_t seconds = (time_t)now;
	json_t *patch;
	char *text;

	gmtime_r(&seconds, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	patch = json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:s,s:s}]}}", "status", "conditions",
			  "type", "NetworkUnavailable", "status", "False", "reason", "FlannelIsUp",
			  "message", "Flannel is running on this node", "lastTransitionTime", stamp,
			  "lastHeartbeatTime", stamp);
	text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	json_decref(patch);
	return text;
}

int kube_node_name_check(struct ovl_ctx *ctx, const char *name)
{
	const char *p;

	if (!name || !*name)
		return ctx_fail(ctx, -EINVAL, "kube: which Node is this host? (give the store's "
				"node= option or the lease request's node name: ovlctl --node, "
				"NODE_NAME; an agent also finds it from pod=, which ovlctl run "
				"makes of POD_NAME and POD_NAMESPACE)");
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return ctx_fail(ctx, -EINVAL, "kube: '%s' is not a Node name (lowercase "
					"letters, digits, '-' and '.')", name);
	return 0;
}

char *kube_node_path(const char *name, const char *suffix)
{
	char *path;

	if (asprintf(&path, "/api/v1/nodes/%s%s", name, suffix ? suffix : "") < 0)
		return NULL;
	return path;
}

void kube_list_path(const char *continue_token, char *path, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n;

	n = (size_t)snprintf(path, size, "/api/v1/nodes?limit=%d%s", KUBE_PAGE_SIZE,
			     continue_token ? "&continue=" : "");
	/* The token is opaque (base64 today): escape all but the unreserved. */
	for (; continue_token && *continue_token && n + 4 < size; continue_token++) {
		unsigned char c = (unsigned char)*continue_token;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			path[n++] = (char)c;
		} else {
			path[n++] = '%';
			path[n++] = hex[c >> 4];
			path[n++] = hex[c & 15];
		}
	}
	path[n < size ? n : size - 1] = '\0';
}

int kube_listing_page(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *reply,
		      struct ovl_lease ***leases, size_t *count, char **resource_version,
		      char **next)
{
	const json_t *items = json_object_get(reply, "items"), *node;
	const char *version = json_string_value(path_get(reply, "metadata", "resourceVersion"));
	const char *token = json_string_value(path_get(reply, "metadata", "continue"));
	struct ovl_lease **grown, *lease;
	size_t i;
	int err;

	*next = NULL;
	if (!json_is_array(items) || !version)
		return ctx_fail(ctx, -EPROTO, "kube: node listing without items or "
				"resourceVersion");
	grown = realloc(*leases, (*count + json_array_size(items) + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	*leases = grown;
	json_array_foreach(items, i, node) {
		err = kube_node_lease(ctx, store, node, &lease);
		if (err == -ENOMEM)
			return err;
		if (err == -ENOENT)
			continue;
		if (err < 0) {
			ctx_log(ctx, OVL_LOG_WARNING, "kube: skipping %s", ovl_ctx_error(ctx));
			continue;
		}
		(*leases)[(*count)++] = lease;
	}
	free(*resource_version);
	*resource_version = strdup(version);
	if (token && *token)
		*next = strdup(token);
	if (!*resource_version || (token && *token && !*next))
		return -ENOMEM;
	return 0;
}
