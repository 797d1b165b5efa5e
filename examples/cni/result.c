/*
 * result.c - a plugin result converted between spec versions the way
 * libcni's types (020, 040, 100) decode, convert and encode it, so the
 * runtime gets the version it asked for whatever the delegate answered in:
 * 0.1.0/0.2.0 carry "ip4"/"ip6", 0.3.x/0.4.0 "interfaces"/"ips" with a
 * "version" per address, 1.x the same without "version".  Fields a version
 * does not know are dropped, as Go's struct decoding drops them.
 */
#include <string.h>

#include "cni.h"

enum family { V02, V04, V1 };

static int family_of(const char *version, enum family *family)
{
	int index = cni_version_index(version);

	if (index < 0)
		return -1;
	*family = index < cni_version_index("0.3.0") ? V02 :
		  index < cni_version_index("1.0.0") ? V04 : V1;
	return 0;
}

/* Copies from[key] into to when it has the type Go would accept and is not
 * what omitempty leaves out (keep_zero: a pointer field, 0 kept). */
static void copy_string(json_t *to, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		json_object_set(to, key, v);
}

static void copy_int(json_t *to, const json_t *from, const char *key, int keep_zero)
{
	json_t *v = json_object_get(from, key);

	if (json_is_integer(v) && (keep_zero || json_integer_value(v) != 0))
		json_object_set(to, key, v);
}

static void copy_strings(json_t *to, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key), *list = json_array(), *item;
	size_t i;

	json_array_foreach(v, i, item)
		if (json_is_string(item))
			json_array_append(list, item);
	if (json_array_size(list))
		json_object_set(to, key, list);
	json_decref(list);
}

/* types.Route; short: only dst and gw, as the 0.2.0 converters keep. */
static json_t *route(const json_t *from, int short_form)
{
	json_t *to = json_object();

	json_object_set_new(to, "dst", json_string(json_string_value(
		json_object_get(from, "dst")) ?: ""));
	copy_string(to, from, "gw");
	if (short_form)
		return to;
	copy_int(to, from, "mtu", 0);
	copy_int(to, from, "advmss", 0);
	copy_int(to, from, "priority", 0);
	copy_int(to, from, "table", 1);
	copy_int(to, from, "scope", 1);
	return to;
}

static json_t *dns(const json_t *from)
{
	json_t *to = json_object();

	copy_strings(to, from, "nameservers");
	copy_string(to, from, "domain");
	copy_strings(to, from, "search");
	copy_strings(to, from, "options");
	return to;
}

/* Sets key to list unless it is empty (omitempty); takes list. */
static void set_list(json_t *to, const char *key, json_t *list)
{
	if (json_array_size(list))
		json_object_set(to, key, list);
	json_decref(list);
}

static const char *address_version(const json_t *ip)
{
	const char *address = json_string_value(json_object_get(ip, "address"));

	return address && !strchr(address, ':') ? "4" : "6";
}

/* 0.1.0/0.2.0 -> 0.4.0 (types040 convertFrom02x). */
static json_t *up_from_02(const json_t *from)
{
	json_t *to = json_object(), *ips = json_array(), *routes = json_array();
	static const char *const keys[] = { "ip4", "ip6" };

	for (size_t k = 0; k < 2; k++) {
		json_t *ip = json_object_get(from, keys[k]), *r, *out;
		size_t i;

		if (!json_is_object(ip))
			continue;
		out = json_pack("{s:s, s:s}", "version", k ? "6" : "4", "address",
				json_string_value(json_object_get(ip, "ip")) ?: "");
		copy_string(out, ip, "gateway");
		json_array_append_new(ips, out);
		json_array_foreach(json_object_get(ip, "routes"), i, r)
			json_array_append_new(routes, route(r, 0));
	}
	set_list(to, "ips", ips);
	set_list(to, "routes", routes);
	return to;
}

/* 0.x -> 0.1.0/0.2.0 (types040 convertTo02x): the first address of each
 * family, the routes of the families that have one. */
static json_t *down_to_02(const json_t *from, struct cni_error *err)
{
	json_t *to = json_object(), *ip, *r, *slot[2] = { NULL, NULL };
	size_t i;

	json_array_foreach(json_object_get(from, "ips"), i, ip) {
		const char *version = json_string_value(json_object_get(ip, "version"));
		int k = version && strcmp(version, "4") == 0 ? 0 :
			version && strcmp(version, "6") == 0 ? 1 : -1;

		if (k < 0 || slot[k])
			continue;
		slot[k] = json_pack("{s:s}", "ip",
				    json_string_value(json_object_get(ip, "address")) ?: "");
		copy_string(slot[k], ip, "gateway");
		json_object_set_new(slot[k], "routes", json_array());
	}
	json_array_foreach(json_object_get(from, "routes"), i, r) {
		const char *dst = json_string_value(json_object_get(r, "dst"));
		json_t *s = slot[dst && strchr(dst, ':') ? 1 : 0];

		if (s)
			json_array_append_new(json_object_get(s, "routes"), route(r, 1));
	}
	for (int k = 0; k < 2; k++) {
		if (!slot[k])
			continue;
		if (!json_array_size(json_object_get(slot[k], "routes")))
			json_object_del(slot[k], "routes");
		json_object_set_new(to, k ? "ip6" : "ip4", slot[k]);
	}
	if (!slot[0] && !slot[1]) {
		json_decref(to);
		cni_fail(err, CNI_ERR_INTERNAL,
			 "cannot convert the delegate's result: no valid IP addresses");
		return NULL;
	}
	return to;
}

/* 0.1.0 <-> 0.2.0: the same fields (types020 convertFrom010/convertTo010). */
static json_t *same_02(const json_t *from)
{
	json_t *to = json_object();
	static const char *const keys[] = { "ip4", "ip6" };

	for (size_t k = 0; k < 2; k++) {
		json_t *ip = json_object_get(from, keys[k]), *r, *out, *routes;
		size_t i;

		if (!json_is_object(ip))
			continue;
		out = json_pack("{s:s}", "ip",
				json_string_value(json_object_get(ip, "ip")) ?: "");
		copy_string(out, ip, "gateway");
		routes = json_array();
		json_array_foreach(json_object_get(ip, "routes"), i, r)
			json_array_append_new(routes, route(r, 0));
		set_list(out, "routes", routes);
		json_object_set_new(to, keys[k], out);
	}
	return to;
}

/* 0.3.0 and later: "interfaces", "ips" and "routes" of a result of
 * from_family in the shape of family. */
static json_t *current(const json_t *from, enum family from_family,
		       enum family family)
{
	json_t *to = json_object(), *list = json_array(), *item;
	size_t i;

	json_array_foreach(json_object_get(from, "interfaces"), i, item) {
		json_t *out = json_pack("{s:s}", "name",
					json_string_value(json_object_get(item, "name")) ?: "");

		copy_string(out, item, "mac");
		if (family == V1)
			copy_int(out, item, "mtu", 0);
		copy_string(out, item, "sandbox");
		if (family == V1) {
			copy_string(out, item, "socketPath");
			copy_string(out, item, "pciID");
		}
		json_array_append_new(list, out);
	}
	set_list(to, "interfaces", list);
	list = json_array();
	json_array_foreach(json_object_get(from, "ips"), i, item) {
		json_t *out = json_object(), *version = json_object_get(item, "version");

		/* 1.x has no "version": the address tells */
		if (family == V04 && from_family == V04)
			json_object_set_new(out, "version", json_string(
				json_string_value(version) ?: ""));
		else if (family == V04)
			json_object_set_new(out, "version",
					    json_string(address_version(item)));
		copy_int(out, item, "interface", 1);
		json_object_set_new(out, "address", json_string(json_string_value(
			json_object_get(item, "address")) ?: ""));
		copy_string(out, item, "gateway");
		json_array_append_new(list, out);
	}
	set_list(to, "ips", list);
	list = json_array();
	json_array_foreach(json_object_get(from, "routes"), i, item)
		json_array_append_new(list, route(item, 0));
	set_list(to, "routes", list);
	return to;
}

json_t *cni_result_convert(const json_t *result, const char *from,
			   const char *to, struct cni_error *err)
{
	const char *own = json_string_value(json_object_get(result, "cniVersion"));
	enum family from_family, to_family;
	json_t *step, *out;

	if (own && *own)
		from = own;
	if (!json_is_object(result))
		return cni_fail(err, CNI_ERR_DECODE,
				"the delegate's result is not a JSON object"), NULL;
	if (family_of(from, &from_family) < 0 || family_of(to, &to_family) < 0)
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"no converter for CNI result version %s to %s",
				from, to), NULL;
	if (from_family == V02 && to_family == V02) {
		out = same_02(result);
	} else if (from_family == V02) {
		step = up_from_02(result);
		out = current(step, V04, to_family);
		json_decref(step);
	} else if (to_family == V02) {
		step = current(result, from_family, V04);
		out = down_to_02(step, err);
		json_decref(step);
		if (!out)
			return NULL;
	} else {
		out = current(result, from_family, to_family);
	}
	step = json_pack("{s:s}", "cniVersion", to);	/* first, as Go writes it */
	json_object_update(step, out);
	json_decref(out);
	out = dns(json_object_get(result, "dns"));
	/* 0.x always writes "dns" (omitempty does not omit a struct); 1.x
	 * deletes an empty one */
	if (to_family != V1 || json_object_size(out))
		json_object_set(step, "dns", out);
	json_decref(out);
	return step;
}
