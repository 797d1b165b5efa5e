/*
 * cni.h - what the parts of ovl-cni share: the CNI error it reports, the
 * parsed network configuration and subnet.env, and one entry point per part
 * (protocol, versions, subnet.env, rendering, results, saved state,
 * delegate execution).
 */
#ifndef OVL_CNI_H
#define OVL_CNI_H

#include <stddef.h>
#include <jansson.h>

#include "ovl.h"

/* The CNI spec's well-known error codes (plus libcni's generic 999). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN_LATER = 11,
	CNI_ERR_INTERNAL = 999
};

struct cni_error {
	int code;		/* 0: no error */
	char msg[768];
	char details[256];
};

/* Records the error; returns -1 so callers can `return cni_fail(...)`. */
int cni_fail(struct cni_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints err on stdout as the spec's error result of cni_version. */
void cni_error_print(const struct cni_error *err, const char *cni_version);

#define CNI_DEFAULT_SUBNET_FILE "/run/flannel/subnet.env"
#define CNI_DEFAULT_DATA_DIR "/var/lib/cni/flannel"
/* The plugin refuses a larger configuration on stdin. */
#define CNI_MAX_STDIN (1024 * 1024)

/* The plugin's own netconf; every json_t is borrowed from root. */
struct cni_netconf {
	json_t *root;
	const char *name;
	const char *cni_version;	/* "" when absent (spec: 0.1.0) */
	const char *subnet_file;
	const char *data_dir;
	json_t *delegate;		/* NULL when absent */
	json_t *ipam;			/* NULL when absent */
	json_t *runtime_config;		/* NULL when absent */
	json_t *prev_result;		/* NULL when absent */
};

/* The CNI_* environment of one call. */
struct cni_args {
	const char *command;		/* ADD, DEL, CHECK, GC, STATUS, VERSION */
	const char *container_id;
	const char *netns;		/* NULL when not given (DEL) */
	const char *ifname;
	const char *path;		/* CNI_PATH */
};

/* protocol.c: the CNI_* variables (present and well-formed for the
 * command) and stdin (at most CNI_MAX_STDIN bytes of JSON). */
int cni_args_load(struct cni_args *args, struct cni_error *err);
int cni_stdin_decode(json_t **root, struct cni_error *err);

/* netconf.c: field types, defaults, and flannel's rules for `delegate`. */
int cni_netconf_parse(json_t *root, struct cni_netconf *nc,
		      struct cni_error *err);

/* version.c: the spec versions libcni's version.All names, 0.1.0 to 1.1.0. */
#define CNI_LATEST_VERSION "1.1.0"
/* Its place in the list (older first), or -1 when unknown. */
int cni_version_index(const char *version);
const char *cni_version_name(int index);
/* The supported versions as a JSON array (new reference). */
json_t *cni_supported_versions(void);
/* nc's cniVersion, "0.1.0" when absent (libcni's rule). */
const char *cni_version_of(const struct cni_netconf *nc);
/* Checks nc's cniVersion for command as libcni's skel does. */
int cni_version_check(const struct cni_netconf *nc, const char *command,
		      struct cni_error *err);

/* subnet-env.c: subnet.env read as flannel's CNI plugin reads it. */
struct cni_subnet_env {
	struct ovl_prefix *networks;	/* FLANNEL_NETWORK, host bits cleared, */
	size_t n_networks;		/* repeats dropped */
	struct ovl_prefix *ipv6_networks;	/* FLANNEL_IPV6_NETWORK, same */
	size_t n_ipv6_networks;
	struct ovl_prefix subnet;	/* FLANNEL_SUBNET, host bits cleared */
	struct ovl_prefix ipv6_subnet;	/* FLANNEL_IPV6_SUBNET */
	int has_subnet, has_ipv6_subnet;
	unsigned long mtu;		/* FLANNEL_MTU */
	int ipmasq;			/* FLANNEL_IPMASQ is exactly "true" */
	int has_mtu, has_ipmasq;
};
/* text (len bytes) as the content of file (named in messages); fails,
 * naming every missing variable, unless there is a network, a subnet,
 * FLANNEL_MTU and FLANNEL_IPMASQ.  cni_subnet_env_free after success. */
int cni_subnet_env_parse(const char *text, size_t len, const char *file,
			 struct cni_subnet_env *env, struct cni_error *err);
int cni_subnet_env_read(const char *file, struct cni_subnet_env *env,
			struct cni_error *err);
void cni_subnet_env_free(struct cni_subnet_env *env);

/* render.c: the delegate config flannel's plugin builds on ADD. */
int cni_render(const struct cni_netconf *nc, const struct cni_subnet_env *env,
	       json_t **delegate, struct cni_error *err);
/* The bytes flannel writes: compact, keys sorted (Go's map encoding). */
char *cni_render_dump(const json_t *delegate);

/* result.c: a result of version `from` (its own cniVersion wins when set)
 * converted to version `to` the way libcni converts; a new reference, or
 * NULL with err set. */
json_t *cni_result_convert(const json_t *result, const char *from,
			   const char *to, struct cni_error *err);

/* state.c: <dataDir>/<containerID>, 0600 in a 0700 directory. */
/* A whole file of at most 1 MiB, NUL-terminated; *text NULL (and 0
 * returned) when it does not exist.  flags are added to open(2)'s. */
int cni_file_read(const char *path, int flags, char **text, size_t *len,
		  struct cni_error *err);
int cni_state_save(const char *data_dir, const char *container_id,
		   const char *text, struct cni_error *err);
/* *text NULL (and 0 returned) when there is no saved file. */
int cni_state_load(const char *data_dir, const char *container_id,
		   char **text, struct cni_error *err);
int cni_state_remove(const char *data_dir, const char *container_id,
		     struct cni_error *err);
/* write(2) until done; -1 with errno set. */
int cni_write_all(int fd, const char *text, size_t len);

/* delegate.c: runs plugin `type` from CNI_PATH with text on its stdin and
 * our environment (CNI_COMMAND replaced by command unless NULL); its stdout
 * goes to *output (NUL-terminated, the caller frees it) when output is not
 * NULL, else straight to ours.  Returns its exit status (0..255), or -1
 * with err set when it could not be run (a failed exec is reported by the
 * child itself, as a CNI error of cni_version and exit status 1). */
int cni_delegate_find(const char *type, const char *cni_path, char **path,
		      struct cni_error *err);
int cni_delegate_run(const char *path, const char *text, const char *command,
		     const char *cni_version, char **output,
		     struct cni_error *err);
/* The newest version both we and the delegate speak, preferring `wanted`;
 * `wanted` itself when the delegate does not answer VERSION usefully. */
const char *cni_delegate_version(const char *path, const char *wanted);

#endif
