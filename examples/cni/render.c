/*
 * render.c - the delegate configuration flannel's CNI plugin builds on ADD
 * (flannel.go cmdAdd, flannel_linux.go doCmdAdd/getDelegateIPAM), from the
 * netconf and subnet.env (already read and checked).  Pure: no file, no
 * kernel, so golden tests can compare its bytes with flannel's.
 */
#include <stdlib.h>
#include <string.h>

#include "cni.h"

static void add_dst(json_t *routes, const struct ovl_prefix *prefix)
{
	char cidr[OVL_PREFIX_STRLEN];

	ovl_prefix_format(prefix, cidr, sizeof(cidr));
	json_array_append_new(routes, json_pack("{s:s}", "dst", cidr));
}

/* A route of ipam.routes, re-encoded as Go's types.Route would be. */
static int copy_route(json_t *in, size_t idx, json_t *routes,
		      struct cni_error *err)
{
	/* Go's types.Route: mtu, advmss and priority are omitempty ints (0 is
	 * dropped), table and scope pointers (0 is kept) */
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

		if (json_is_integer(v) && (i >= 3 || json_integer_value(v) != 0))
			json_object_set(out, ints[i], v);
	}
	return 0;
}

static int build_routes(const struct cni_subnet_env *env, json_t *ipam,
			struct cni_error *err)
{
	json_t *given = json_object_get(ipam, "routes"), *routes, *r;
	size_t i;

	if (given && !json_is_null(given) && !json_is_array(given))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"netconf: ipam.routes must be an array");
	routes = json_array();
	json_array_foreach(given, i, r)
		if (copy_route(r, i, routes, err) < 0) {
			json_decref(routes);
			return -1;
		}
	for (i = 0; i < env->n_networks; i++)
		add_dst(routes, &env->networks[i]);
	for (i = 0; i < env->n_ipv6_networks; i++)
		add_dst(routes, &env->ipv6_networks[i]);
	json_object_set_new(ipam, "routes", routes);
	return 0;
}

static void add_range(const struct ovl_prefix *subnet, json_t *ranges)
{
	char cidr[OVL_PREFIX_STRLEN];

	ovl_prefix_format(subnet, cidr, sizeof(cidr));
	json_array_append_new(ranges, json_pack("[{s:s}]", "subnet", cidr));
}

static json_t *build_ipam(const struct cni_netconf *nc,
			  const struct cni_subnet_env *env,
			  struct cni_error *err)
{
	json_t *ipam = nc->ipam ? json_deep_copy(nc->ipam) : json_object();
	json_t *ranges = json_array();

	if (!json_object_get(ipam, "type"))
		json_object_set_new(ipam, "type", json_string("host-local"));
	/* The node's subnets replace any given ranges: the lease decides. */
	if (env->has_subnet)
		add_range(&env->subnet, ranges);
	if (env->has_ipv6_subnet)
		add_range(&env->ipv6_subnet, ranges);
	json_object_set_new(ipam, "ranges", ranges);
	if (build_routes(env, ipam, err) < 0) {
		json_decref(ipam);
		return NULL;
	}
	return ipam;
}

int cni_render(const struct cni_netconf *nc, const struct cni_subnet_env *env,
	       json_t **delegate, struct cni_error *err)
{
	json_t *d, *ipam;
	const char *type;

	*delegate = NULL;
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
		json_object_set_new(d, "mtu", json_integer((json_int_t)env->mtu));
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
