/*
 * render.c - the delegate configuration flannel's CNI plugin builds on ADD
 * (flannel.go cmdAdd, flannel_linux.go doCmdAdd/getDelegateIPAM), from the
 * netconf and subnet.env.  Pure: no file, no kernel, so golden tests can
 * compare its bytes with flannel's.
 */
#include <stdlib.h>
#include <string.h>

#include "cni.h"

/* One CIDR from subnet.env, host bits cleared as Go's net.ParseCIDR does. */
static int env_cidr(const struct cni_netconf *nc, const char *key,
		    const char *text, char *out, struct cni_error *err)
{
	struct ovl_prefix p;

	if (ovl_prefix_parse(text, &p) < 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"%s: %s: \"%s\" is not a CIDR", nc->subnet_file,
				key, text);
	ovl_prefix_mask(&p);
	ovl_prefix_format(&p, out, OVL_PREFIX_STRLEN);
	return 0;
}

static int has_dst(json_t *routes, const char *dst)
{
	size_t i;
	json_t *r;

	json_array_foreach(routes, i, r)
		if (strcmp(json_string_value(json_object_get(r, "dst")), dst) == 0)
			return 1;
	return 0;
}

/* Appends {"dst": net} for each network of a comma list, without repeats. */
static int add_networks(const struct cni_netconf *nc, const char *key,
			const char *list, json_t *routes, json_t *seen,
			struct cni_error *err)
{
	char *copy = strdup(list), *save = NULL, *item;
	char cidr[OVL_PREFIX_STRLEN];
	int rc = 0;

	if (!copy)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	for (item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		rc = env_cidr(nc, key, item, cidr, err);
		if (rc == 0 && !has_dst(seen, cidr)) {
			json_array_append_new(seen, json_pack("{s:s}", "dst", cidr));
			json_array_append_new(routes, json_pack("{s:s}", "dst", cidr));
		}
	}
	free(copy);
	return rc;
}

/* A route of ipam.routes, re-encoded as Go's types.Route would be. */
static int copy_route(json_t *in, size_t idx, json_t *routes,
		      struct cni_error *err)
{
	static const char *const ints[] = { "mtu", "advmss", "priority", "table", "scope" };
	const char *dst = json_string_value(json_object_get(in, "dst"));
	json_t *gw = json_object_get(in, "gw"), *out;
	struct ovl_prefix p;
	char buf[OVL_PREFIX_STRLEN];

	if (!json_is_object(in) || !dst || ovl_prefix_parse(dst, &p) < 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: ipam.routes[%zu]: \"dst\" must be a CIDR string",
				idx);
	ovl_prefix_format(&p, buf, sizeof(buf));
	out = json_pack("{s:s}", "dst", buf);
	json_array_append_new(routes, out);
	if (gw && !json_is_null(gw)) {
		if (!json_is_string(gw) ||
		    ovl_addr_parse(json_string_value(gw), &p) < 0)
			return cni_fail(err, CNI_ERR_INVALID_CONFIG,
					"netconf: ipam.routes[%zu]: \"gw\" must be an IP address string",
					idx);
		ovl_addr_format(&p, buf, sizeof(buf));
		json_object_set_new(out, "gw", json_string(buf));
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		json_t *v = json_object_get(in, ints[i]);

		if (json_is_integer(v))
			json_object_set(out, ints[i], v);
	}
	return 0;
}

static int build_routes(const struct cni_netconf *nc,
			const struct ovl_subnet_env *env, json_t *ipam,
			struct cni_error *err)
{
	json_t *given = json_object_get(ipam, "routes"), *routes, *seen, *r;
	size_t i;
	int rc = 0;

	if (given && !json_is_null(given) && !json_is_array(given))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: ipam.routes must be an array");
	routes = json_array();
	seen = json_array();
	json_array_foreach(given, i, r)
		if ((rc = copy_route(r, i, routes, err)) < 0)
			break;
	if (rc == 0 && env->network[0])
		rc = add_networks(nc, "FLANNEL_NETWORK", env->network, routes,
				  seen, err);
	if (rc == 0 && env->ipv6_network[0])
		rc = add_networks(nc, "FLANNEL_IPV6_NETWORK", env->ipv6_network,
				  routes, seen, err);
	json_decref(seen);
	if (rc == 0)
		json_object_set(ipam, "routes", routes);
	json_decref(routes);
	return rc;
}

static int add_range(const struct cni_netconf *nc, const char *key,
		     const char *subnet, json_t *ranges, struct cni_error *err)
{
	char cidr[OVL_PREFIX_STRLEN];

	if (!subnet[0])
		return 0;
	if (env_cidr(nc, key, subnet, cidr, err) < 0)
		return -1;
	json_array_append_new(ranges, json_pack("[{s:s}]", "subnet", cidr));
	return 0;
}

static json_t *build_ipam(const struct cni_netconf *nc,
			  const struct ovl_subnet_env *env,
			  struct cni_error *err)
{
	json_t *ipam = nc->ipam ? json_deep_copy(nc->ipam) : json_object();
	json_t *ranges = json_array();

	if (!json_object_get(ipam, "type"))
		json_object_set_new(ipam, "type", json_string("host-local"));
	/* The node's subnets replace any given ranges: the lease decides. */
	if (add_range(nc, "FLANNEL_SUBNET", env->subnet, ranges, err) < 0 ||
	    add_range(nc, "FLANNEL_IPV6_SUBNET", env->ipv6_subnet, ranges, err) < 0 ||
	    json_object_set(ipam, "ranges", ranges) < 0 ||
	    build_routes(nc, env, ipam, err) < 0) {
		json_decref(ranges);
		json_decref(ipam);
		return NULL;
	}
	json_decref(ranges);
	return ipam;
}

/* flannel's loadFlannelSubnetEnv rule, with its message. */
static int check_env(const struct cni_netconf *nc,
		     const struct ovl_subnet_env *env, struct cni_error *err)
{
	char missing[160] = "";

	if (!env->network[0] && !env->ipv6_network[0])
		strcat(missing, ", FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK");
	if (!env->subnet[0] && !env->ipv6_subnet[0])
		strcat(missing, ", FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET");
	if (!env->mtu)
		strcat(missing, ", FLANNEL_MTU");
	if (missing[0])
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "%s is missing %s",
				nc->subnet_file, missing + 2);
	return 0;
}

int cni_render(const struct cni_netconf *nc, const struct ovl_subnet_env *env,
	       json_t **delegate, struct cni_error *err)
{
	json_t *d, *ipam;
	const char *type;

	*delegate = NULL;
	if (check_env(nc, env, err) < 0)
		return -1;
	d = nc->delegate ? json_deep_copy(nc->delegate) : json_object();
	if (!d)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	if (nc->runtime_config)
		json_object_set(d, "runtimeConfig", nc->runtime_config);
	json_object_set_new(d, "name", json_string(nc->name));
	if (!json_object_get(d, "type"))
		json_object_set_new(d, "type", json_string("bridge"));
	/* When the agent masquerades, the bridge must not do it again. */
	if (!json_object_get(d, "ipMasq"))
		json_object_set_new(d, "ipMasq", json_boolean(!env->ipmasq));
	if (!json_object_get(d, "mtu"))
		json_object_set_new(d, "mtu", json_integer(env->mtu));
	type = json_string_value(json_object_get(d, "type"));
	if (strcmp(type, "bridge") == 0 && !json_object_get(d, "isGateway"))
		json_object_set_new(d, "isGateway", json_true());
	if (nc->cni_version[0])
		json_object_set_new(d, "cniVersion", json_string(nc->cni_version));
	ipam = build_ipam(nc, env, err);
	if (!ipam) {
		json_decref(d);
		return -1;
	}
	json_object_set_new(d, "ipam", ipam);
	*delegate = d;
	return 0;
}

char *cni_render_dump(const json_t *delegate)
{
	return json_dumps(delegate, JSON_COMPACT | JSON_SORT_KEYS);
}
