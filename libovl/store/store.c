/*
 * store.c - the store front end: URI dispatch to a backend's vtable and
 * the public store and lease calls over it.  The watch the backends feed
 * is in watch.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

static const struct {
	const char *scheme;
	const struct store_ops *ops;
} schemes[] = {
	{ "file", &store_file_ops },
	{ "etcd", &store_etcd_ops },
	{ "etcds", &store_etcd_ops },
	{ "kube", &store_kube_ops },
};

OVL_EXPORT int ovl_store_open(struct ovl_ctx *ctx, const char *uri,
			      struct ovl_store **store)
{
	struct ovl_store *new_store;
	const char *colon;
	size_t length, i;
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !store)
		return ctx_fail(ctx, -EINVAL, "ovl_store_open: NULL store");
	*store = NULL;
	if (!uri)
		uri = OVL_STORE_DEFAULT_URI;
	colon = strchr(uri, ':');
	length = colon ? (size_t)(colon - uri) : 0;
	for (i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strlen(schemes[i].scheme) == length &&
		    !strncmp(schemes[i].scheme, uri, length))
			break;
	if (!colon || !length)
		return ctx_fail(ctx, -EINVAL, "store '%s': not a URI (want file:PATH, "
				"etcd://HOST:PORT/PREFIX, etcds://... or kube:[KUBECONFIG])", uri);
	if (i == ARRAY_SIZE(schemes))
		return ctx_fail(ctx, -EINVAL, "store '%s': unknown scheme '%.*s' (want "
				"file, etcd, etcds or kube)", uri, (int)length, uri);
	new_store = calloc(1, sizeof(*new_store));
	if (!new_store)
		return ctx_fail(ctx, -ENOMEM, "store '%s': out of memory", uri);
	new_store->ops = schemes[i].ops;
	new_store->ctx = ctx;
	err = new_store->ops->open(new_store, uri);
	if (err < 0) {
		free(new_store);
		return err;
	}
	*store = new_store;
	return 0;
}

OVL_EXPORT void ovl_store_close(struct ovl_store *store)
{
	if (!store)
		return;
	store->ops->close(store);
	free(store);
}

OVL_EXPORT int ovl_store_config_get(struct ovl_store *store, struct ovl_config **config)
{
	char *json = NULL;
	int err;

	ctx_clear_error(store ? store->ctx : NULL);
	if (!store || !config)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_store_config_get: NULL config")
			     : -EINVAL;
	*config = NULL;
	err = store->ops->config_get(store, &json);
	if (err < 0)
		return err;
	err = ovl_config_parse(store->ctx, json, config);
	free(json);
	if (err < 0)
		return ctx_fail_prefix(store->ctx, err, "the store's config: ");
	/* Written by something else than ovl_store_config_put: a flanneld
	 * node in the cluster would run another backend, or none. */
	if (config_flanneld_backend_problem(*config))
		ctx_log(store->ctx, OVL_LOG_WARNING, "the store's config: %s; libovl runs vxlan",
			config_flanneld_backend_problem(*config));
	return 0;
}

/* Stores json with its Backend.Type written out, so that flanneld nodes of
 * the cluster read the backend libovl reads (config-text.c says why). */
static int put_with_backend_type(struct ovl_store *store, const char *json,
				 const char *backend_type)
{
	struct ovl_config *written = NULL;
	char *text;
	int err = config_with_backend_type(store->ctx, json, &text);

	if (err < 0)
		return err;
	err = ovl_config_parse(store->ctx, text, &written);
	/* Only a text whose Backend members disagree (a null one last, or
	 * two spellings) reads otherwise once the Type is in. */
	if (err == 0 && strcmp(ovl_config_backend_type(written), backend_type))
		err = ctx_fail(store->ctx, -EINVAL, "Backend: flanneld would read "
			       "another backend than %s (a null or repeated Backend?)",
			       backend_type);
	if (err == 0)
		err = store->ops->config_put(store, text);
	ovl_config_free(written);
	free(text);
	return err;
}

OVL_EXPORT int ovl_store_config_put(struct ovl_store *store, const char *json)
{
	struct ovl_config *config;
	int err;

	ctx_clear_error(store ? store->ctx : NULL);
	if (!store || !json)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_store_config_put: NULL json")
			     : -EINVAL;
	err = ovl_config_parse(store->ctx, json, &config);
	if (err < 0)
		return err;
	err = put_with_backend_type(store, json, ovl_config_backend_type(config));
	ovl_config_free(config);
	return err;
}

/* ---- leases ------------------------------------------------------------ */

OVL_EXPORT int ovl_lease(struct ovl_store *store, const struct ovl_config *config,
			 const struct ovl_lease_request *request,
			 struct ovl_lease **lease)
{
	struct ovl_lease_request whole = { 0 };
	int err;

	ctx_clear_error(store ? store->ctx : NULL);
	if (lease)
		*lease = NULL;
	if (!store || !config || !request || !lease)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_lease: NULL config, request "
					"or lease") : -EINVAL;
	err = options_check(store->ctx, "ovl_lease: request", request, LEASE_REQUEST_SIZE_0_1,
			    sizeof(*request));
	if (!err)
		err = flags_check(store->ctx, "ovl_lease: request", request->flags,
				  OVL_LEASE_RESERVE);
	if (err < 0)
		return err;
	/* fields past an old caller's size read as zero: their default */
	memcpy(&whole, request, request->size < sizeof(whole) ? request->size : sizeof(whole));
	whole.size = sizeof(whole);
	return store->ops->acquire(store, config, &whole, lease);
}

OVL_EXPORT int ovl_lease_renew(struct ovl_store *store, struct ovl_lease *lease,
			       unsigned int ttl_seconds)
{
	ctx_clear_error(store ? store->ctx : NULL);
	if (!store || !lease)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_lease_renew: NULL lease") : -EINVAL;
	return store->ops->renew(store, lease, ttl_seconds);
}

OVL_EXPORT int ovl_lease_release(struct ovl_store *store, const struct ovl_lease *lease)
{
	ctx_clear_error(store ? store->ctx : NULL);
	if (!store || !lease)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_lease_release: NULL lease")
			     : -EINVAL;
	return store->ops->release(store, lease);
}

static int compare_subnets(const struct ovl_lease *a, const struct ovl_lease *b)
{
	int order;

	if (a->has_ipv4 != b->has_ipv4)
		return b->has_ipv4 - a->has_ipv4;
	if (a->has_ipv4) {
		order = memcmp(a->subnet.addr, b->subnet.addr, 4);
		if (order)
			return order;
		if (a->subnet.len != b->subnet.len)
			return a->subnet.len < b->subnet.len ? -1 : 1;
	}
	if (a->has_ipv6 != b->has_ipv6)
		return a->has_ipv6 - b->has_ipv6;
	return strcmp(a->key, b->key);
}

static int compare_by_subnet(const void *a, const void *b)
{
	return compare_subnets(*(struct ovl_lease *const *)a, *(struct ovl_lease *const *)b);
}

static void drop_expired(struct ovl_lease **leases, size_t *count)
{
	int64_t now = time(NULL);
	size_t i, n = 0;

	for (i = 0; i < *count; i++) {
		if (lease_expired(leases[i], now))
			ovl_lease_free(leases[i]);
		else
			leases[n++] = leases[i];
	}
	*count = n;
}

OVL_EXPORT int ovl_leases(struct ovl_store *store, struct ovl_lease ***leases,
			  size_t *count)
{
	uint64_t revision;
	int err;

	ctx_clear_error(store ? store->ctx : NULL);
	if (!store || !leases || !count)
		return store ? ctx_fail(store->ctx, -EINVAL, "ovl_leases: NULL leases or count")
			     : -EINVAL;
	*leases = NULL;
	*count = 0;
	err = store->ops->list(store, leases, count, &revision);
	if (err < 0)
		return err;
	drop_expired(*leases, count);
	if (*count)
		qsort(*leases, *count, sizeof(**leases), compare_by_subnet);
	return 0;
}

int store_list_alive(struct ovl_store *store, struct ovl_lease ***leases, size_t *count)
{
	uint64_t revision;
	int err;

	*leases = NULL;
	*count = 0;
	if (store->ops->list_alive)
		return store->ops->list_alive(store, leases, count);
	err = store->ops->list(store, leases, count, &revision);
	if (!err)
		drop_expired(*leases, count);
	return err;
}

int store_host_read(struct ovl_store *store, const char *node_name, struct store_host *host)
{
	int err;

	memset(host, 0, sizeof(*host));
	err = store->ops->host ? store->ops->host(store, node_name, host) : 0;
	if (err < 0)
		store_host_clear(host);
	return err;
}

void store_host_clear(struct store_host *host)
{
	ovl_lease_free(host->own);
	host->own = NULL;
	host->own_known = 0;
}
