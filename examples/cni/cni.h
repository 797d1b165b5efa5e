/*
 * cni.h - what the parts of ovl-cni share: the CNI error it reports, the
 * parsed network configuration, and one entry point per part (protocol,
 * rendering, saved state, delegate execution).
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
	const char *cni_version;	/* "" when absent */
	const char *subnet_file;
	const char *data_dir;
	json_t *delegate;		/* NULL when absent */
	json_t *ipam;			/* NULL when absent */
	json_t *runtime_config;		/* NULL when absent */
	json_t *prev_result;		/* NULL when absent */
};

/* The CNI_* environment of one call. */
struct cni_args {
	const char *command;		/* ADD, DEL, CHECK or VERSION */
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
/* 1 when version is one this plugin speaks. */
int cni_version_supported(const char *version);
/* The supported versions as a JSON array (new reference). */
json_t *cni_supported_versions(void);
/* Checks nc's cniVersion for command ("ADD", "DEL", "CHECK"). */
int cni_version_check(const struct cni_netconf *nc, const char *command,
		      struct cni_error *err);

/* render.c: the delegate config flannel's plugin builds on ADD.  env must
 * have at least one network, one subnet and the MTU. */
int cni_render(const struct cni_netconf *nc, const struct ovl_subnet_env *env,
	       json_t **delegate, struct cni_error *err);
/* The bytes flannel writes: compact, keys sorted (Go's map encoding). */
char *cni_render_dump(const json_t *delegate);

/* state.c: <dataDir>/<containerID>, 0600 in a 0700 directory. */
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
 * our environment; its stdout goes straight to ours.  Returns its exit
 * status (0..255), or -1 with err set when it could not be run (a failed
 * exec is reported by the child itself, as exit status 1). */
int cni_delegate_find(const char *type, const char *cni_path, char **path,
		      struct cni_error *err);
int cni_delegate_run(const char *path, const char *text,
		     const char *cni_version, struct cni_error *err);

#endif
