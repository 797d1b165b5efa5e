/*
 * ovl-cni.c - the CNI plugin that puts pods on the overlay, a drop-in for
 * flannel's: ADD renders the delegate config from the netconf and subnet.env,
 * saves it, runs the delegate (bridge + host-local by default) and answers
 * its result in the version asked for; DEL and CHECK replay the saved
 * config, so they work after the agent is gone; GC and STATUS do nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

static int print_version(void)
{
	json_t *info = json_pack("{s:s, s:o}", "cniVersion", CNI_LATEST_VERSION,
				 "supportedVersions", cni_supported_versions());
	char *text = info ? json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(info);
	return text ? 0 : 1;
}

/* Prints JSON the way Go's result.Print does (indented by four). */
static int print_json(const json_t *value, struct cni_error *err)
{
	char *text = json_dumps(value, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

	if (!text)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

/* The gateway of prev's first address of the family of dst, or NULL. */
static json_t *gateway_for(json_t *prev, const char *dst)
{
	int v6 = strchr(dst, ':') != NULL;
	json_t *ip;
	size_t i;

	json_array_foreach(json_object_get(prev, "ips"), i, ip) {
		const char *addr = json_string_value(json_object_get(ip, "address"));
		json_t *gw = json_object_get(ip, "gateway");

		if (addr && json_is_string(gw) && (strchr(addr, ':') != NULL) == v6)
			return gw;
	}
	return NULL;
}

/* bridge and host-local install a route without "gw" via the range's
 * gateway, but the plugins before v1.3.0 (Debian 12 ships 1.1.1) then look
 * for a gateway-less route on CHECK and fail (containernetworking/plugins
 * #886).  Naming the gateway the kernel really has satisfies old and new. */
static json_t *prev_result_for_check(json_t *prev)
{
	json_t *copy = json_deep_copy(prev), *route;
	size_t i;

	json_array_foreach(json_object_get(copy, "routes"), i, route) {
		const char *dst = json_string_value(json_object_get(route, "dst"));
		json_t *gw;

		if (dst && !json_object_get(route, "gw") && (gw = gateway_for(copy, dst)))
			json_object_set(route, "gw", gw);
	}
	return copy;
}

/* The delegate's ADD result, converted to the version the runtime asked
 * for (libcni's rule for a result without cniVersion: the config's). */
static int print_result(const char *output, const char *delegate_version,
			const struct cni_netconf *nc, struct cni_error *err)
{
	json_error_t jerr;
	json_t *result = json_loads(output, 0, &jerr), *converted;
	int rc;

	if (!result)
		return cni_fail(err, CNI_ERR_DECODE,
				"the delegate's result is not JSON: %s", jerr.text);
	converted = cni_result_convert(result, delegate_version, cni_version_of(nc), err);
	json_decref(result);
	if (!converted)
		return -1;
	rc = print_json(converted, err);
	json_decref(converted);
	return rc;
}

static int cmd_add(const struct cni_args *args, const struct cni_netconf *nc,
		   struct cni_error *err)
{
	struct cni_subnet_env env;
	struct cni_error ignored = { 0 };
	json_t *delegate = NULL;
	char *text = NULL, *path = NULL, *output = NULL;
	const char *version;
	int status = -1;

	if (cni_subnet_env_read(nc->subnet_file, &env, err) < 0)
		return -1;
	if (cni_render(nc, &env, &delegate, err) < 0) {
		cni_subnet_env_free(&env);
		return -1;
	}
	cni_subnet_env_free(&env);
	/* Find the delegate first: a config that cannot run leaves nothing. */
	if (cni_delegate_find(json_string_value(json_object_get(delegate, "type")),
			      args->path, &path, err) < 0)
		goto out;
	/* A delegate older than the runtime (Debian's bridge 1.1.1 stops at
	 * 1.0.0) gets its newest version; the result is converted back. */
	version = cni_delegate_version(path, cni_version_of(nc));
	if (strcmp(version, cni_version_of(nc)) != 0)
		json_object_set_new(delegate, "cniVersion", json_string(version));
	text = cni_render_dump(delegate);
	if (!text) {
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* flannel's delegateAdd: the delegate gets exactly the saved bytes */
	if (cni_state_save(nc->data_dir, args->container_id, text, err) < 0)
		goto out;
	status = cni_delegate_run(path, text, NULL, cni_version_of(nc), &output, err);
	if (status != 0) {
		/* nothing for DEL to replay; the delegate's error is the answer */
		cni_state_remove(nc->data_dir, args->container_id, &ignored);
		if (status > 0 && output)
			fputs(output, stdout);
	} else if (print_result(output, version, nc, err) < 0) {
		status = -1;	/* the saved config stays: DEL undoes the delegate */
	}
out:
	free(output);
	free(path);
	free(text);
	json_decref(delegate);
	return status;
}

/* flannel's doCmdDel: the saved bytes go to the delegate as they are (their
 * cniVersion and runtimeConfig from ADD), and the file goes whatever the
 * delegate answers, so a DEL retried after a failure succeeds. */
static int cmd_del(const struct cni_args *args, const struct cni_netconf *nc,
		   struct cni_error *err)
{
	struct cni_error ignored = { 0 };
	char *text, *path = NULL;
	json_t *saved;
	const char *type;
	int status = -1;

	if (cni_state_load(nc->data_dir, args->container_id, &text, err) < 0)
		return -1;
	if (!text)	/* DEL is idempotent: already gone */
		return 0;
	saved = json_loads(text, 0, NULL);
	type = json_string_value(json_object_get(saved, "type"));
	if (!type) {
		/* Unreadable state cannot be replayed and would fail every
		 * retry (flannel returns success and keeps the file): drop it;
		 * the veth goes with the pod's namespace. */
		fprintf(stderr, "ovl-cni: saved config %s/%s is not a delegate config; removing it\n",
			nc->data_dir, args->container_id);
		status = 0;
	} else if (cni_delegate_find(type, args->path, &path, err) == 0) {
		status = cni_delegate_run(path, text, NULL, cni_version_of(nc), NULL, err);
	}
	if (cni_state_remove(nc->data_dir, args->container_id, &ignored) < 0)
		fprintf(stderr, "ovl-cni: %s\n", ignored.msg);
	json_decref(saved);
	free(path);
	free(text);
	return status;
}

/* The saved config of this container, parsed; *saved NULL when none. */
static int load_saved(const struct cni_args *args, const struct cni_netconf *nc,
		      json_t **saved, struct cni_error *err)
{
	char *text;
	json_error_t jerr;

	*saved = NULL;
	if (cni_state_load(nc->data_dir, args->container_id, &text, err) < 0)
		return -1;
	if (!text)
		return 0;
	*saved = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(*saved) ||
	    !json_is_string(json_object_get(*saved, "type"))) {
		json_decref(*saved);
		*saved = NULL;
		return cni_fail(err, CNI_ERR_DECODE,
				"saved config %s/%s is not a delegate config: %s",
				nc->data_dir, args->container_id,
				jerr.text[0] ? jerr.text : "no \"type\"");
	}
	return 0;
}

/* flannel's CHECK does nothing; ovl-cni asks the delegate, with the saved
 * config at its saved version and the runtime's prevResult converted to
 * that version (gateways filled in for old bridge plugins). */
static int cmd_check(const struct cni_args *args, const struct cni_netconf *nc,
		     struct cni_error *err)
{
	json_t *saved, *prev = NULL;
	const char *name, *version;
	char *path = NULL, *text = NULL;
	int status = -1;

	if (load_saved(args, nc, &saved, err) < 0)
		return -1;
	if (!saved)
		return cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER,
				"no saved config for container %s in %s: ADD has not run or DEL has removed it",
				args->container_id, nc->data_dir);
	name = json_string_value(json_object_get(saved, "name"));
	version = json_string_value(json_object_get(saved, "cniVersion"));
	if (!version || !*version)
		version = "0.1.0";
	if (!name || strcmp(name, nc->name) != 0) {
		cni_fail(err, CNI_ERR_INVALID_CONFIG,
			 "saved config %s/%s is for network \"%s\", not \"%s\"",
			 nc->data_dir, args->container_id, name ? name : "",
			 nc->name);
		goto out;
	}
	if (nc->runtime_config)
		json_object_set(saved, "runtimeConfig", nc->runtime_config);
	if (nc->prev_result) {
		prev = cni_result_convert(nc->prev_result, cni_version_of(nc), version, err);
		if (!prev)
			goto out;
		json_object_set_new(saved, "prevResult", prev_result_for_check(prev));
	}
	text = json_dumps(saved, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	else if (cni_delegate_find(json_string_value(json_object_get(saved, "type")),
				   args->path, &path, err) == 0)
		status = cni_delegate_run(path, text, NULL, version, NULL, err);
out:
	json_decref(prev);
	json_decref(saved);
	free(path);
	free(text);
	return status;
}

int main(void)
{
	struct cni_error err = { 0 };
	struct cni_args args;
	struct cni_netconf nc;
	json_t *root = NULL;
	const char *version = CNI_LATEST_VERSION;
	int status = -1;

	if (cni_args_load(&args, &err) < 0)
		goto out;
	if (strcmp(args.command, "VERSION") == 0)
		return print_version();
	if (cni_stdin_decode(&root, &err) < 0)
		goto out;
	if (cni_netconf_parse(root, &nc, &err) == 0 &&
	    cni_version_check(&nc, args.command, &err) == 0) {
		version = cni_version_of(&nc);
		if (strcmp(args.command, "ADD") == 0)
			status = cmd_add(&args, &nc, &err);
		else if (strcmp(args.command, "DEL") == 0)
			status = cmd_del(&args, &nc, &err);
		else if (strcmp(args.command, "CHECK") == 0)
			status = cmd_check(&args, &nc, &err);
		else	/* GC and STATUS: nothing to do, as flannel's plugin */
			status = 0;
	} else if (json_is_object(root)) {
		const char *v = json_string_value(json_object_get(root, "cniVersion"));

		if (!v || !*v)
			version = "0.1.0";
		else if (cni_version_index(v) >= 0)
			version = v;
	}
out:
	if (status < 0)
		cni_error_print(&err, version);
	json_decref(root);
	return status < 0 ? 1 : status;
}
