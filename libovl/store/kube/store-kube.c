/*
 * store-kube.c - the lease store on a Kubernetes API server, as flannel's
 * kube subnet manager (--kube-subnet-mgr) keeps it: a node's lease is its
 * spec.podCIDR(s), which Kubernetes allocates; its attributes are the
 * node's flannel annotations; the network config is a file (the
 * ConfigMap's net-conf.json mounted in the pod).  Nothing is allocated or
 * deleted here: acquire publishes this node's annotations, renew checks
 * them, release leaves the Node alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fileio.h"
#include "store/kube/kube.h"

#define NET_CONF_MAX (1u << 20)

static int kube_open(struct ovl_store *store, const char *uri)
{
	struct kube_store *state = calloc(1, sizeof(*state));
	struct ovl_config *config;
	int err;

	if (!state)
		return ctx_fail(store->ctx, -ENOMEM, "kube: out of memory");
	err = kube_store_configure(store->ctx, uri, state);
	if (err < 0) {
		kube_store_free(state);
		return err;
	}
	/* Leases carry the families the net config enables; until acquire
	 * says which, the config file tells when it can be read. */
	if (ovl_config_load(store->ctx, state->net_config_path, &config) == 0) {
		state->ipv4 = ovl_config_family_enabled(config, AF_INET);
		state->ipv6 = ovl_config_family_enabled(config, AF_INET6);
		state->families_known = 1;
		ovl_config_free(config);
	}
	ctx_clear_error(store->ctx);
	store->state = state;
	return 0;
}

static void kube_close(struct ovl_store *store)
{
	if (store->state)
		kube_store_free(store->state);
	store->state = NULL;
}

/* flanneld's --net-config-path: the ConfigMap's net-conf.json. */
static int kube_config_get(struct ovl_store *store, char **json)
{
	struct kube_store *state = store->state;
	size_t length;
	int err;

	err = file_read(store->ctx, state->net_config_path, NET_CONF_MAX, json, &length);
	if (err == -ENOENT)
		return ctx_fail(store->ctx, -ENOENT, "kube: no net config at %s (flannel's "
				"--net-config-path; the kube-flannel-cfg ConfigMap's "
				"net-conf.json)", state->net_config_path);
	return err < 0 ? ctx_fail_prefix(store->ctx, err, "kube: net config: ") : 0;
}

static int kube_config_put(struct ovl_store *store, const char *json)
{
	struct kube_store *state = store->state;

	return ctx_fail(store->ctx, -EOPNOTSUPP, "kube: the net config is the file %s (edit "
			"the kube-flannel-cfg ConfigMap), not kept in the API",
			state->net_config_path);
}

/* flanneld's start-up: without a node name, the Node its pod runs on
 * (POD_NAMESPACE/POD_NAME there, pod= here); then the Node's
 * node-public-ip annotations, which flanneld takes as its --public-ip.
 * Blocking: only ovl_node_start asks, before the agent runs. */
static int kube_host(struct ovl_store *store, const char *node_name, struct store_host *host)
{
	struct kube_store *state = store->state;
	const char *slash;
	json_t *reply;
	char *path;
	int err;

	if (!node_name && !state->node_name && state->pod) {
		slash = strchr(state->pod, '/');
		if (asprintf(&path, "/api/v1/namespaces/%.*s/pods/%s", (int)(slash - state->pod),
			     state->pod, slash + 1) < 0)
			return ctx_fail(store->ctx, -ENOMEM, "kube: out of memory");
		err = kube_call(&state->client, "GET", path, NULL, &reply);
		free(path);
		if (err == -ENOENT)
			return ctx_fail(store->ctx, err, "kube: pod %s not found (POD_NAMESPACE, "
					"POD_NAME): %s", state->pod, ovl_ctx_error(store->ctx));
		if (err < 0)
			return err;
		err = kube_pod_node_name(store->ctx, state->pod, reply, &state->node_name);
		json_decref(reply);
		if (err < 0)
			return err;
		ctx_log(store->ctx, OVL_LOG_INFO, "kube: pod %s runs on node %s", state->pod,
			state->node_name);
	}
	if (!node_name)
		node_name = state->node_name;
	if (!node_name)
		return 0;
	err = kube_node_name_check(store->ctx, node_name);
	if (err < 0)
		return err;
	snprintf(host->node_name, sizeof(host->node_name), "%s", node_name);
	path = kube_node_path(node_name, NULL);
	if (!path)
		return ctx_fail(store->ctx, -ENOMEM, "kube: out of memory");
	err = kube_call(&state->client, "GET", path, NULL, &reply);
	free(path);
	/* No Node yet: acquiring says so, and is retried. */
	if (err == -ENOENT) {
		ctx_clear_error(store->ctx);
		return 0;
	}
	if (err < 0)
		return err;
	err = kube_node_pinned(store->ctx, state, reply, host);
	/* Our record, which the agent would otherwise list every Node for:
	 * none when the Node is not (yet) flannel's, or is malformed. */
	if (!err) {
		err = kube_node_lease(store->ctx, state, reply, &host->own);
		if (err == -ENOENT || err == -EINVAL) {
			ctx_clear_error(store->ctx);
			err = 0;
		}
		host->own_known = !err;
	}
	json_decref(reply);
	return err;
}

/* The Node belongs to Kubernetes and its pod CIDR to the controller
 * manager: flanneld never removes either, nor its annotations. */
static int kube_release(struct ovl_store *store, const struct ovl_lease *lease)
{
	return 0;
}

const struct store_ops store_kube_ops = {
	.scheme = "kube",
	.open = kube_open,
	.close = kube_close,
	.config_get = kube_config_get,
	.config_put = kube_config_put,
	.list = store_wait_list,
	.acquire = store_wait_acquire,
	.renew = store_wait_renew,
	.release = kube_release,
	.watch_open = kube_watch_open,
	.watch_poll = kube_watch_poll,
	.watch_close = kube_watch_close,
	.host = kube_host,
	.async_open = kube_async_open,
	.async_close = kube_async_close,
	.async_dispatch = kube_async_dispatch,
	.async_list = kube_async_list,
	.async_changed = kube_async_changed,
	.async_renew = kube_async_renew,
	.async_acquire = kube_async_acquire,
};
