/*
 * kube.h - the Kubernetes store (flannel's kube subnet manager): where the
 * API server is and how to authenticate (kube-config.c, from a kubeconfig
 * parsed by kube-yaml.c or the pod's service account), HTTP to it
 * (kube-client.c), Node objects as leases and the patches flanneld writes
 * (kube-node.c), the non-blocking operations (kube-async.c) and the watch
 * (kube-watch.c).
 */
#ifndef OVL_KUBE_H
#define OVL_KUBE_H

#include <stdint.h>
#include <sys/types.h>
#include <curl/curl.h>
#include <jansson.h>

#include "store/store.h"
#include "store/http-loop.h"

#define KUBE_DEFAULT_PREFIX "flannel.alpha.coreos.com"
#define KUBE_DEFAULT_NET_CONF "/etc/kube-flannel/net-conf.json"
#define KUBE_SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A reply (or one watch line) larger than this is refused: -EMSGSIZE. */
#define KUBE_REPLY_MAX (256u << 20)
/* Nodes per page of a listing (the API's limit/continue). */
#define KUBE_PAGE_SIZE 500

/* How to reach and authenticate to the API server. */
struct kube_client {
	struct ovl_ctx *ctx;
	char *server;			/* "https://10.0.0.1:6443", no trailing '/' */
	char *source;			/* "kubeconfig PATH", "in-cluster", for messages */
	char *ca_file;			/* PEM file, or ... */
	char *ca_data;			/* ... PEM text (certificate-authority-data) */
	size_t ca_size;
	char *cert_file, *cert_data;	/* client certificate */
	size_t cert_size;
	char *key_file, *key_data;	/* its key */
	size_t key_size;
	char *token;			/* bearer token (from token or token_file) */
	char *token_file;		/* re-read when it changes (rotation) */
	ino_t token_inode;
	int64_t token_mtime_ns;
	off_t token_size;
	int insecure;			/* insecure-skip-tls-verify */
	long timeout_ms, connect_timeout_ms;
	CURL *easy;			/* blocking calls; keeps the connection */
};

/* Flanneld's annotation names under a prefix. */
enum kube_annotation {
	KUBE_SUBNET_KUBE_MANAGED, KUBE_BACKEND_DATA, KUBE_BACKEND_V6_DATA,
	KUBE_BACKEND_TYPE, KUBE_PUBLIC_IP, KUBE_PUBLIC_IPV6, KUBE_NODE_PUBLIC_IP,
	KUBE_NODE_PUBLIC_IPV6, KUBE_PUBLIC_IP_OVERWRITE, KUBE_PUBLIC_IPV6_OVERWRITE,
	KUBE_ANNOTATION_COUNT,
};

/* The store's state. */
struct kube_store {
	struct kube_client client;
	char *node_name;		/* node=, else the first lease request's */
	char *pod;			/* pod=NAMESPACE/NAME: whose node we are */
	char *net_config_path;		/* net-config-path= */
	char *annotations[KUBE_ANNOTATION_COUNT];
	int set_network_unavailable;	/* the NetworkUnavailable condition */
	/* The address families leases carry: the config's (net-conf.json
	 * when readable at open, then the one acquire is given); 0 when not
	 * known (every pod CIDR a node has). */
	int ipv4, ipv6, families_known;
	/* Watches following the Nodes (listed once, not failed since) and the
	 * times one stopped: a caller's view made of a listing and its
	 * watch's events stays current while they follow (async_changed). */
	unsigned int watches_following;
	uint64_t watches_stopped;
};

/* ---- kube-config.c: the URI and the credentials ---- */
/* Fills store from the URI (see ovl_store_open(3)): options, kubeconfig or
 * in-cluster credentials.  Frees nothing on failure: kube_store_free. */
int kube_store_configure(struct ovl_ctx *ctx, const char *uri, struct kube_store *store);
void kube_store_free(struct kube_store *store);
/* The bearer token, re-read from its file when that changed. */
int kube_token_refresh(struct kube_client *client);

/* ---- kube-yaml.c ---- */
/* The first YAML document of text as JSON (mappings -> objects, sequences
 * -> arrays, scalars -> strings, plain null/~/empty -> null).  what names
 * the text in messages ("kubeconfig /x"); -EINVAL with line and column. */
int kube_yaml_parse(struct ovl_ctx *ctx, const char *what, const char *text, size_t length,
		    json_t **out);
/* A YAML 1.1 boolean scalar (true/yes/on...): 1, 0, or -1 when not one. */
int kube_yaml_bool(const char *text);

/* ---- kube-client.c: HTTP ---- */
struct kube_request;
/* The reply: status 2xx parsed into reply (borrowed), else err < 0 with
 * the API's Status message in ctx (403 -> -EPERM naming the permission,
 * 404 -> -ENOENT, 409 -> -EBUSY, 410 -> -ESTALE, 401 -> -EACCES). */
typedef void (*kube_done_fn)(void *arg, int err, json_t *reply);
/* method "GET"/"PATCH"; body (may be NULL) a strategic-merge patch; line
 * (may be NULL) makes it a stream. */
int kube_request_start(struct kube_client *client, struct http_loop *loop,
		       const char *method, const char *path, const char *body,
		       http_line_fn line, long timeout_ms, kube_done_fn done, void *arg,
		       struct kube_request **out);
/* Removes and frees without calling done; NULL is fine. */
void kube_request_cancel(struct http_loop *loop, struct kube_request *request);
/* One blocking exchange: 0 and *reply (json_decref it), or -errno. */
int kube_call(struct kube_client *client, const char *method, const char *path,
	      const char *body, json_t **reply);
void kube_client_cleanup(struct kube_client *client);

/* ---- kube-node.c: Nodes as leases, flanneld's patches (pure) ---- */
/* A node's pod CIDRs (spec.podCIDRs, else spec.podCIDR): -EAGAIN when none
 * is assigned, -EINVAL when more than two or malformed (naming the node and
 * the field). has4/has6 say which family is there. */
int kube_node_pod_cidrs(struct ovl_ctx *ctx, const json_t *node, struct ovl_prefix *v4,
			int *has4, struct ovl_prefix *v6, int *has6);
/* A Node's name ("" when none). */
const char *kube_node_name(const json_t *node);
/* A string annotation of node (NULL when absent). */
const char *kube_node_annotation(const struct kube_store *store, const json_t *node,
				 enum kube_annotation which);
/* A node flanneld (or libovl) manages as a lease: -ENOENT (no message)
 * when it is not kube-subnet-manager "true" or has no pod CIDR, -EINVAL
 * with the reason when its annotations or CIDRs are malformed. */
int kube_node_lease(struct ovl_ctx *ctx, const struct kube_store *store,
		    const json_t *node, struct ovl_lease **lease);
/* Only the key (for a removal), from the pod CIDRs: -ENOENT when none. */
int kube_node_key(struct ovl_ctx *ctx, const struct kube_store *store,
		  const json_t *node, struct ovl_lease **lease);
/* This node's lease for request (acquire): the pod CIDRs checked against
 * config's networks; the annotations flanneld would write in *patch (a
 * strategic-merge patch of metadata.annotations, NULL when all are as they
 * should be). */
int kube_node_claim(struct ovl_ctx *ctx, const struct kube_store *store,
		    const struct ovl_config *config, const struct ovl_lease_request *request,
		    const json_t *node, struct ovl_lease **lease, char **patch);
/* A renewal's check of our lease against the node now: -ESTALE when its
 * pod CIDRs changed; the annotations to restore in *patch (NULL: none). */
int kube_node_recheck(struct ovl_ctx *ctx, const struct kube_store *store,
		      const json_t *node, const struct ovl_lease *lease, char **patch);
/* The Node a Pod (pod: "NAMESPACE/NAME") runs on, from the Pod: its
 * spec.nodeName in *name (free it). */
int kube_pod_node_name(struct ovl_ctx *ctx, const char *pod, const json_t *reply, char **name);
/* The public addresses an operator pinned for node (flanneld's
 * node-public-ip and node-public-ipv6 annotations) into host; -EINVAL
 * naming the annotation when one is no address of its family. */
int kube_node_pinned(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *node,
		     struct store_host *host);
/* The NetworkUnavailable=False (FlannelIsUp) condition as a status patch. */
char *kube_condition_patch(int64_t now);
/* Node names are DNS subdomains, which go into paths unescaped: anything
 * else (or none) is -EINVAL. */
int kube_node_name_check(struct ovl_ctx *ctx, const char *name);
/* "/api/v1/nodes/NAME" + suffix for a checked NAME; NULL on ENOMEM. */
char *kube_node_path(const char *name, const char *suffix);

/* ---- kube-async.c: operations that never block (store_ops hooks) ---- */
int kube_async_open(struct store_async *async);
void kube_async_close(struct store_async *async);
int kube_async_dispatch(struct store_async *async);
int kube_async_list(struct store_async *async, store_list_done done, void *arg);
/* 0 while a watch on the store has followed the Nodes since the last
 * listing (or the opening) of async, else 1; no request. */
int kube_async_changed(struct store_async *async, const struct ovl_watch *watch,
		       store_changed_done done, void *arg);
int kube_async_renew(struct store_async *async, struct ovl_lease *lease,
		     unsigned int ttl_seconds, store_lease_done done, void *arg);
int kube_async_acquire(struct store_async *async, const struct ovl_config *config,
		       const struct ovl_lease_request *request, store_lease_done done,
		       void *arg);

/* The path of a listing's page (the first when continue_token is NULL). */
void kube_list_path(const char *continue_token, char *path, size_t size);
/* One page of a node listing: the leases (appended to *leases), the
 * listing's resourceVersion and the continue token (NULL at the end). */
int kube_listing_page(struct ovl_ctx *ctx, const struct kube_store *store, const json_t *reply,
		      struct ovl_lease ***leases, size_t *count, char **resource_version,
		      char **next);

/* ---- kube-watch.c ---- */
int kube_watch_open(struct ovl_watch *watch);
int kube_watch_poll(struct ovl_watch *watch);
void kube_watch_close(struct ovl_watch *watch);

#endif
