/*
 * ovl-cni.c - the CNI plugin that puts pods on the overlay, a drop-in for
 * flannel's: ADD renders the delegate config from the netconf and subnet.env,
 * saves it, and runs the delegate (bridge + host-local by default); DEL and
 * CHECK replay the saved config, so they work after the agent is gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

static int print_version(void)
{
	json_t *info = json_pack("{s:s, s:o}", "cniVersion", "1.0.0",
				 "supportedVersions", cni_supported_versions());
	char *text = info ? json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(info);
	return text ? 0 : 1;
}

static int read_subnet_env(const struct cni_netconf *nc,
			   struct ovl_subnet_env *env, struct cni_error *err)
{
	struct ovl_ctx *ctx = NULL;
	int rc = ovl_ctx_new(&ctx);

	if (rc == 0)
		rc = ovl_subnet_env_read(ctx, nc->subnet_file, env);
	if (rc == -ENOENT)
		cni_fail(err, CNI_ERR_TRY_AGAIN_LATER,
			 "%s does not exist yet: the overlay agent (ovlctl run or flanneld) has not started on this node",
			 nc->subnet_file);
	else if (rc < 0 && ctx && *ovl_ctx_error(ctx))	/* names file, line, key */
		cni_fail(err, rc == -EINVAL ? CNI_ERR_INVALID_CONFIG : CNI_ERR_IO,
			 "%s", ovl_ctx_error(ctx));
	else if (rc < 0)
		cni_fail(err, CNI_ERR_INTERNAL, "%s: %s", nc->subnet_file,
			 ovl_strerror(rc));
	ovl_ctx_free(ctx);
	return rc < 0 ? -1 : 0;
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

/* Runs the delegate with config plus what only this call carries. */
static int run_delegate(json_t *config, const struct cni_netconf *nc,
			const struct cni_args *args, struct cni_error *err)
{
	const char *type = json_string_value(json_object_get(config, "type"));
	char *path = NULL, *text;
	int status;

	if (cni_delegate_find(type, args->path, &path, err) < 0)
		return -1;
	/* In a conflist the runtime hands the previous result to every
	 * plugin; the delegate needs it for CHECK. */
	if (nc->prev_result && strcmp(args->command, "CHECK") == 0)
		json_object_set_new(config, "prevResult",
				    prev_result_for_check(nc->prev_result));
	else if (nc->prev_result)
		json_object_set(config, "prevResult", nc->prev_result);
	text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	json_object_del(config, "prevResult");
	status = text ? cni_delegate_run(path, text, nc->cni_version, err)
		      : cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	free(text);
	free(path);
	return status;
}

static int cmd_add(const struct cni_args *args, const struct cni_netconf *nc,
		   struct cni_error *err)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	struct cni_error ignored = { 0 };
	json_t *delegate = NULL;
	char *text = NULL, *path = NULL;
	int status = -1;

	if (read_subnet_env(nc, &env, err) < 0 ||
	    cni_render(nc, &env, &delegate, err) < 0)
		return -1;
	text = cni_render_dump(delegate);
	/* Find the delegate first: a config that cannot run leaves nothing. */
	if (!text)
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	else if (cni_delegate_find(json_string_value(json_object_get(delegate, "type")),
				   args->path, &path, err) == 0 &&
		 cni_state_save(nc->data_dir, args->container_id, text, err) == 0) {
		status = run_delegate(delegate, nc, args, err);
		if (status != 0)	/* nothing for DEL to replay */
			cni_state_remove(nc->data_dir, args->container_id, &ignored);
	}
	free(path);
	free(text);
	json_decref(delegate);
	return status;
}

/* The saved config of this container, ready to replay; *saved NULL when
 * there is none. */
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
	/* The runtime speaks this call's version, prevResult included. */
	if (nc->cni_version[0])
		json_object_set_new(*saved, "cniVersion", json_string(nc->cni_version));
	if (nc->runtime_config)
		json_object_set(*saved, "runtimeConfig", nc->runtime_config);
	return 0;
}

static int cmd_del(const struct cni_args *args, const struct cni_netconf *nc,
		   struct cni_error *err)
{
	json_t *saved;
	int status;

	if (load_saved(args, nc, &saved, err) < 0) {
		/* Unreadable state cannot be replayed and would fail every
		 * retry: drop it, as flannel does (the veth goes with the pod's
		 * namespace, the address when host-local's lease is reused). */
		if (err->code != CNI_ERR_DECODE)
			return -1;
		fprintf(stderr, "ovl-cni: %s; removing it\n", err->msg);
		return cni_state_remove(nc->data_dir, args->container_id, err);
	}
	if (!saved)	/* DEL is idempotent: already gone */
		return 0;
	status = run_delegate(saved, nc, args, err);
	if (status == 0 && cni_state_remove(nc->data_dir, args->container_id, err) < 0)
		status = -1;
	json_decref(saved);
	return status;
}

static int cmd_check(const struct cni_args *args, const struct cni_netconf *nc,
		     struct cni_error *err)
{
	json_t *saved;
	const char *name;
	int status;

	if (load_saved(args, nc, &saved, err) < 0)
		return -1;
	if (!saved)
		return cni_fail(err, CNI_ERR_UNKNOWN_CONTAINER,
				"no saved config for container %s in %s: ADD has not run or DEL has removed it",
				args->container_id, nc->data_dir);
	name = json_string_value(json_object_get(saved, "name"));
	if (!name || strcmp(name, nc->name) != 0) {
		cni_fail(err, CNI_ERR_INVALID_CONFIG,
			 "saved config %s/%s is for network \"%s\", not \"%s\"",
			 nc->data_dir, args->container_id, name ? name : "",
			 nc->name);
		json_decref(saved);
		return -1;
	}
	status = run_delegate(saved, nc, args, err);
	json_decref(saved);
	return status;
}

int main(void)
{
	struct cni_error err = { 0 };
	struct cni_args args;
	struct cni_netconf nc;
	json_t *root = NULL;
	const char *version = "1.0.0";
	int status = -1;

	if (cni_args_load(&args, &err) < 0)
		goto out;
	if (strcmp(args.command, "VERSION") == 0)
		return print_version();
	if (cni_stdin_decode(&root, &err) < 0)
		goto out;
	if (cni_netconf_parse(root, &nc, &err) == 0 &&
	    cni_version_check(&nc, args.command, &err) == 0) {
		version = nc.cni_version;
		if (strcmp(args.command, "ADD") == 0)
			status = cmd_add(&args, &nc, &err);
		else if (strcmp(args.command, "DEL") == 0)
			status = cmd_del(&args, &nc, &err);
		else
			status = cmd_check(&args, &nc, &err);
	} else if (json_is_object(root)) {
		const char *v = json_string_value(json_object_get(root, "cniVersion"));

		if (v && cni_version_supported(v))
			version = v;
	}
out:
	if (status < 0)
		cni_error_print(&err, version);
	json_decref(root);
	return status < 0 ? 1 : status;
}
