/*
 * kube-config.c - where the kube store's API server is and who it talks to
 * it as: the URI's options, then a kubeconfig (its current context's
 * cluster and user) or, with none, the pod's service account (in-cluster,
 * whose token rotates and is re-read when its file changes).  Every
 * problem names the file and the field.
 */
#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/fileio.h"
#include "store/kube/kube.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 3000
#define KUBECONFIG_MAX (16u << 20)
#define TOKEN_MAX (64u << 10)

static const char *const annotation_names[KUBE_ANNOTATION_COUNT] = {
	[KUBE_SUBNET_KUBE_MANAGED] = "kube-subnet-manager",
	[KUBE_BACKEND_DATA] = "backend-data",
	[KUBE_BACKEND_V6_DATA] = "backend-v6-data",
	[KUBE_BACKEND_TYPE] = "backend-type",
	[KUBE_PUBLIC_IP] = "public-ip",
	[KUBE_PUBLIC_IPV6] = "public-ipv6",
	[KUBE_NODE_PUBLIC_IP] = "node-public-ip",
	[KUBE_NODE_PUBLIC_IPV6] = "node-public-ipv6",
	[KUBE_PUBLIC_IP_OVERWRITE] = "public-ip-overwrite",
	[KUBE_PUBLIC_IPV6_OVERWRITE] = "public-ipv6-overwrite",
};

/* What the URI says before the credentials are read. */
struct uri_options {
	char *path;			/* kubeconfig */
	char *api_url;
	char *prefix;
	char *service_account;
};

/* ---- the URI ---------------------------------------------------------- */

/* flanneld's rule: "fqdn[/[word-]]"; without a slash one is added, and a
 * name part not ending in '-' gets one. */
static int annotation_prefix(struct ovl_ctx *ctx, const char *prefix, char *out, size_t size)
{
	const char *slash = strchr(prefix, '/'), *p;
	size_t length = strlen(prefix);
	int dots = 0;

	if (slash && strchr(slash + 1, '/'))
		goto bad;
	if (!slash)
		snprintf(out, size, "%s/", prefix);
	else if (prefix[length - 1] != '/' && prefix[length - 1] != '-')
		snprintf(out, size, "%s-", prefix);
	else
		snprintf(out, size, "%s", prefix);
	if (strlen(out) >= size - 32)
		goto bad;
	for (p = out; *p != '/'; p++) {
		if (*p == '.' && (p == out || p[-1] == '.' || p[1] == '/'))
			goto bad;
		dots += *p == '.';
		if (*p != '.' && !islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_' && *p != '-')
			goto bad;
	}
	for (p++; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			goto bad;
	if (dots)
		return 0;
bad:
	return ctx_fail(ctx, -EINVAL, "kube URI: annotation-prefix '%s' is not in the form "
			"fqdn[/name] (lowercase letters, digits, '_', '-', '.')", prefix);
}

static int set_option(struct ovl_ctx *ctx, struct kube_store *store, struct uri_options *uri,
		      const char *name, size_t name_length, char *value)
{
	char **slot = NULL;
	int flag;

#define IS(text) (name_length == strlen(text) && !strncmp(name, text, name_length))
	if (IS("api-url"))
		slot = &uri->api_url;
	else if (IS("annotation-prefix"))
		slot = &uri->prefix;
	else if (IS("node"))
		slot = &store->node_name;
	else if (IS("pod"))
		slot = &store->pod;
	else if (IS("net-config-path"))
		slot = &store->net_config_path;
	else if (IS("serviceaccount"))
		slot = &uri->service_account;
	if (slot) {
		free(*slot);
		*slot = value;
		return 0;
	}
	if (IS("node-network-unavailable") && (flag = kube_yaml_bool(value)) >= 0) {
		store->set_network_unavailable = flag;
	} else if (IS("timeout") && atof(value) > 0 && atof(value) <= 3600) {
		store->client.timeout_ms = (long)(atof(value) * 1000);
	} else {
		ctx_fail(ctx, -EINVAL, IS("node-network-unavailable") || IS("timeout") ?
			 "kube URI: bad value '%s' for %.*s" :
			 "kube URI: unknown option '%s%.*s' (known: api-url, annotation-prefix, "
			 "node, pod, net-config-path, node-network-unavailable, "
			 "serviceaccount, timeout)", IS("node-network-unavailable") || IS("timeout") ? value : "",
			 (int)name_length, name);
		free(value);
		return -EINVAL;
	}
#undef IS
	free(value);
	return 0;
}

static int parse_uri(struct ovl_ctx *ctx, const char *uri, struct kube_store *store,
		     struct uri_options *options)
{
	const char *rest = uri + strlen("kube:"), *query = strchr(rest, '?');
	size_t length = query ? (size_t)(query - rest) : strlen(rest);

	if (length && !(options->path = http_uri_unescape(rest, length)))
		return ctx_fail(ctx, -EINVAL, "kube URI '%s': bad %%-escape in the path", uri);
	for (query = query ? query + 1 : NULL; query && *query;) {
		size_t part = strcspn(query, "&");
		const char *equals = memchr(query, '=', part);
		char *value;
		int err;

		if (!equals)
			return ctx_fail(ctx, -EINVAL, "kube URI: option '%.*s' has no value",
					(int)part, query);
		value = http_uri_unescape(equals + 1, part - (size_t)(equals + 1 - query));
		if (!value)
			return ctx_fail(ctx, -EINVAL, "kube URI: bad %%-escape in '%.*s'",
					(int)part, query);
		err = set_option(ctx, store, options, query, (size_t)(equals - query), value);
		if (err < 0)
			return err;
		query += part;
		if (*query == '&')
			query++;
	}
	return 0;
}

/* pod=: "NAMESPACE/NAME", a DNS label and a DNS subdomain, which go into
 * a request's path unescaped. */
static int check_pod(struct ovl_ctx *ctx, const char *pod)
{
	const char *slash = strchr(pod, '/'), *p;

	for (p = pod; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      (*p == '.' && p > slash) || p == slash))
			break;
	if (*p || !slash || slash == pod || !slash[1] || slash - pod > 63 ||
	    strlen(slash + 1) > 253)
		return ctx_fail(ctx, -EINVAL, "kube URI: pod '%s' is not NAMESPACE/NAME "
				"(flanneld's POD_NAMESPACE and POD_NAME)", pod);
	return 0;
}

/* ---- credentials ------------------------------------------------------ */

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int kube_token_refresh(struct kube_client *client)
{
	struct stat st;
	char *text;
	size_t length;
	int err;

	if (!client->token_file)
		return 0;
	if (stat(client->token_file, &st) < 0)
		return ctx_fail(client->ctx, -errno, "%s: token file %s: %s", client->source,
				client->token_file, ovl_strerror(errno));
	/* A FIFO or a device would block the read (and the host) forever. */
	if (!S_ISREG(st.st_mode))
		return ctx_fail(client->ctx, -EINVAL, "%s: token file %s is not a regular file",
				client->source, client->token_file);
	if (client->token && st.st_ino == client->token_inode &&
	    mtime_ns(&st) == client->token_mtime_ns && st.st_size == client->token_size)
		return 0;
	err = file_read(client->ctx, client->token_file, TOKEN_MAX, &text, &length);
	if (err < 0)
		return ctx_fail_prefix(client->ctx, err, "%s: token file: ", client->source);
	while (length && isspace((unsigned char)text[length - 1]))
		text[--length] = '\0';
	if (!length || strpbrk(text, "\r\n")) {
		free(text);
		return ctx_fail(client->ctx, -EINVAL, "%s: token file %s: %s", client->source,
				client->token_file, length ? "more than one line" : "empty");
	}
	free(client->token);
	client->token = text;
	client->token_inode = st.st_ino;
	client->token_mtime_ns = mtime_ns(&st);
	client->token_size = st.st_size;
	return 0;
}

/* A string field of object ("" and null count as absent). */
static const char *field(const json_t *object, const char *name)
{
	const char *text = json_string_value(json_object_get(object, name));

	return text && *text ? text : NULL;
}

/* path made absolute against the kubeconfig's directory, as kubectl does. */
static int resolve(struct ovl_ctx *ctx, const char *what, const char *base_dir,
		   const char *path, char **out)
{
	if (path[0] == '/' || !base_dir)
		*out = strdup(path);
	else if (asprintf(out, "%s/%s", base_dir, path) < 0)
		*out = NULL;
	if (!*out)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	if (access(*out, R_OK) < 0)
		return ctx_fail(ctx, -errno, "%s %s: %s", what, *out, ovl_strerror(errno));
	return 0;
}

static int decode(struct ovl_ctx *ctx, const char *what, const char *text, char **data,
		  size_t *size)
{
	int err = base64_decode(text, strlen(text), data, size);

	if (err == -ENOMEM)
		return ctx_fail(ctx, err, "out of memory");
	if (err < 0)
		return ctx_fail(ctx, err, "%s: not base64", what);
	return 0;
}

/* name's entry in the kubeconfig list (clusters, users, contexts). */
static const json_t *named(const json_t *root, const char *list, const char *item,
			   const char *name)
{
	const json_t *entry;
	size_t i;

	json_array_foreach(json_object_get(root, list), i, entry)
		if (json_is_string(json_object_get(entry, "name")) &&
		    !strcmp(json_string_value(json_object_get(entry, "name")), name))
			return json_object_get(entry, item);
	return NULL;
}

/* One of (file, data) pairs: the file resolved or the data decoded. */
static int take_pair(struct ovl_ctx *ctx, const char *what, const char *dir,
		     const json_t *object, const char *file_field, char **file,
		     char **data, size_t *size)
{
	char data_field[64], name[400];
	const char *value;

	snprintf(data_field, sizeof(data_field), "%s-data", file_field);
	if ((value = field(object, data_field))) {
		snprintf(name, sizeof(name), "%s: %s", what, data_field);
		return decode(ctx, name, value, data, size);
	}
	if ((value = field(object, file_field))) {
		snprintf(name, sizeof(name), "%s: %s", what, file_field);
		return resolve(ctx, name, dir, value, file);
	}
	return 0;
}

static int read_cluster(struct kube_client *client, const char *dir, const json_t *cluster,
			const char *name)
{
	struct ovl_ctx *ctx = client->ctx;
	const char *server = field(cluster, "server"), *insecure;
	char what[300];
	int err;

	snprintf(what, sizeof(what), "%s: cluster '%s'", client->source, name);
	if (!server)
		return ctx_fail(ctx, -EINVAL, "%s has no server", what);
	free(client->server);
	client->server = strdup(server);
	if (!client->server)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	insecure = field(cluster, "insecure-skip-tls-verify");
	if (insecure && kube_yaml_bool(insecure) < 0)
		return ctx_fail(ctx, -EINVAL, "%s: insecure-skip-tls-verify: '%s' is not a "
				"boolean", what, insecure);
	client->insecure = insecure && kube_yaml_bool(insecure) == 1;
	err = take_pair(ctx, what, dir, cluster, "certificate-authority", &client->ca_file,
			&client->ca_data, &client->ca_size);
	return err;
}

static int read_user(struct kube_client *client, const char *dir, const json_t *user,
		     const char *name)
{
	struct ovl_ctx *ctx = client->ctx;
	const char *token = field(user, "token"), *token_file = field(user, "tokenFile");
	char what[300];
	int err;

	snprintf(what, sizeof(what), "%s: user '%s'", client->source, name);
	err = take_pair(ctx, what, dir, user, "client-certificate", &client->cert_file,
			&client->cert_data, &client->cert_size);
	if (!err)
		err = take_pair(ctx, what, dir, user, "client-key", &client->key_file,
				&client->key_data, &client->key_size);
	if (err < 0)
		return err;
	if (!client->cert_file != !client->key_file || !client->cert_data != !client->key_data)
		return ctx_fail(ctx, -EINVAL, "%s: client-certificate and client-key go "
				"together", what);
	if (token && !(client->token = strdup(token)))
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	if (!token && token_file) {
		err = resolve(ctx, what, dir, token_file, &client->token_file);
		if (!err)
			err = kube_token_refresh(client);
	}
	if (!err && (field(user, "exec") || json_object_get(user, "exec") ||
		      json_object_get(user, "auth-provider")))
		ctx_log(ctx, OVL_LOG_WARNING, "%s: exec and auth-provider plugins are not "
			"supported; using the other credentials", what);
	return err;
}

static int read_kubeconfig(struct kube_client *client, const char *path)
{
	struct ovl_ctx *ctx = client->ctx;
	const json_t *context, *cluster, *user;
	const char *current, *cluster_name, *user_name;
	char *text = NULL, *copy = NULL, *dir;
	json_t *root = NULL;
	size_t length;
	int err;

	if (asprintf(&client->source, "kubeconfig %s", path) < 0) {
		client->source = NULL;
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	err = file_read(ctx, path, KUBECONFIG_MAX, &text, &length);
	if (err < 0)
		return ctx_fail_prefix(ctx, err, "kubeconfig: ");
	err = kube_yaml_parse(ctx, client->source, text, length, &root);
	free(text);
	if (err < 0)
		return err;
	copy = strdup(path);
	if (!copy) {
		json_decref(root);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	dir = dirname(copy);
	current = field(root, "current-context");
	context = current ? named(root, "contexts", "context", current) : NULL;
	cluster_name = field(context, "cluster");
	user_name = field(context, "user");
	cluster = cluster_name ? named(root, "clusters", "cluster", cluster_name) : NULL;
	user = user_name ? named(root, "users", "user", user_name) : NULL;
	if (!current)
		err = ctx_fail(ctx, -EINVAL, "%s: no current-context", client->source);
	else if (!json_is_object(context))
		err = ctx_fail(ctx, -EINVAL, "%s: current-context '%s' is not in contexts",
			       client->source, current);
	else if (!cluster_name)
		err = ctx_fail(ctx, -EINVAL, "%s: context '%s' names no cluster",
			       client->source, current);
	else if (!json_is_object(cluster))
		err = ctx_fail(ctx, -EINVAL, "%s: cluster '%s' (of context '%s') is not in "
			       "clusters", client->source, cluster_name, current);
	else if (user_name && !json_is_object(user))
		err = ctx_fail(ctx, -EINVAL, "%s: user '%s' (of context '%s') is not in users",
			       client->source, user_name, current);
	if (!err)
		err = read_cluster(client, dir, cluster, cluster_name);
	if (!err && user)
		err = read_user(client, dir, user, user_name);
	free(copy);
	json_decref(root);
	return err;
}

/* The pod's service account: the API server's service address, its token
 * and the cluster CA. */
static int read_in_cluster(struct kube_client *client, const char *dir)
{
	struct ovl_ctx *ctx = client->ctx;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	int err;

	client->source = strdup("in-cluster config");
	if (!client->source)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	if (!host || !*host || !port || !*port)
		return ctx_fail(ctx, -EINVAL, "kube: in-cluster config needs "
				"KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (not in a "
				"pod? give kube:KUBECONFIG or set KUBECONFIG)");
	if (asprintf(&client->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port) < 0) {
		client->server = NULL;
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	err = resolve(ctx, "kube: in-cluster service account token", dir, "token",
		      &client->token_file);
	if (!err)
		err = kube_token_refresh(client);
	if (!err)
		err = resolve(ctx, "kube: in-cluster CA", dir, "ca.crt", &client->ca_file);
	return err;
}

static int set_annotations(struct ovl_ctx *ctx, struct kube_store *store, const char *prefix)
{
	char base[256];
	int err, i;

	err = annotation_prefix(ctx, prefix ? prefix : KUBE_DEFAULT_PREFIX, base, sizeof(base));
	for (i = 0; !err && i < KUBE_ANNOTATION_COUNT; i++)
		if (asprintf(&store->annotations[i], "%s%s", base, annotation_names[i]) < 0) {
			store->annotations[i] = NULL;
			err = ctx_fail(ctx, -ENOMEM, "out of memory");
		}
	return err;
}

int kube_store_configure(struct ovl_ctx *ctx, const char *uri, struct kube_store *store)
{
	struct uri_options options = { 0 };
	struct kube_client *client = &store->client;
	const char *env = getenv("KUBECONFIG");
	char *first = NULL;
	int err;

	client->ctx = ctx;
	client->timeout_ms = DEFAULT_TIMEOUT_MS;
	client->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	store->set_network_unavailable = 1;
	err = parse_uri(ctx, uri, store, &options);
	if (!err && store->pod)
		err = check_pod(ctx, store->pod);
	if (!err)
		err = set_annotations(ctx, store, options.prefix);
	if (!err && !store->net_config_path &&
	    !(store->net_config_path = strdup(KUBE_DEFAULT_NET_CONF)))
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	/* KUBECONFIG may list several files; the first is the one used. */
	if (!err && !options.path && env && *env &&
	    !(first = strndup(env, strcspn(env, ":"))))
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	if (!err && (options.path || (first && *first)))
		err = read_kubeconfig(client, options.path ? options.path : first);
	else if (!err && options.api_url)
		client->source = strdup("kube api-url");
	else if (!err)
		err = read_in_cluster(client, options.service_account ? options.service_account :
				      KUBE_SERVICE_ACCOUNT_DIR);
	if (!err && options.api_url) {
		free(client->server);
		client->server = strdup(options.api_url);
	}
	if (!err && (!client->server || !client->source))
		err = ctx_fail(ctx, -ENOMEM, "out of memory");
	if (!err && strncmp(client->server, "https://", 8) && strncmp(client->server, "http://", 7))
		err = ctx_fail(ctx, -EINVAL, "%s: server '%s' is not an http:// or https:// URL",
			       client->source, client->server);
	if (!err && (!strstr(client->server, "://")[3] || strstr(client->server, "://")[3] == '/'))
		err = ctx_fail(ctx, -EINVAL, "%s: server '%s' names no host", client->source,
			       client->server);
	while (!err && client->server[strlen(client->server) - 1] == '/')
		client->server[strlen(client->server) - 1] = '\0';
	free(first);
	free(options.path);
	free(options.api_url);
	free(options.prefix);
	free(options.service_account);
	return err;
}

void kube_store_free(struct kube_store *store)
{
	int i;

	kube_client_cleanup(&store->client);
	free(store->node_name);
	free(store->pod);
	free(store->net_config_path);
	for (i = 0; i < KUBE_ANNOTATION_COUNT; i++)
		free(store->annotations[i]);
	free(store);
}
