/*
 * internal.h - what the library's files share and the API does not show:
 * the context's layout, error and log helpers, and core/'s small shared
 * helpers (prefix.c, json.c, config.c, config-text.c). Never installed.
 */
#ifndef OVL_INTERNAL_H
#define OVL_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include "ovl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The part of an option struct an old caller's size covers; fields past it
 * read as zero (their default). */
#define OPTIONS_HAS(options, field) \
	((options)->size >= offsetof(__typeof__(*(options)), field) + sizeof((options)->field))

/* The end of an option struct's field: a struct's size in a release is
 * the end of the last field it had then. */
#define OPTIONS_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Each struct's size in libovl 0.1, its first release: a caller's size
 * below it is -EINVAL.  These never change; fields are only appended. */
#define LEASE_REQUEST_SIZE_0_1 OPTIONS_END(struct ovl_lease_request, flags)
#define SUBNET_ENV_SIZE_0_1 OPTIONS_END(struct ovl_subnet_env, ipmasq)
#define VXLAN_OPTIONS_SIZE_0_1 OPTIONS_END(struct ovl_vxlan_options, flags)
#define HOSTGW_OPTIONS_SIZE_0_1 OPTIONS_END(struct ovl_hostgw_options, flags)
#define UDP_OPTIONS_SIZE_0_1 OPTIONS_END(struct ovl_udp_options, flags)
#define LINK_STATS_SIZE_0_1 OPTIONS_END(struct ovl_link_stats, drop_io)
#define NODE_OPTIONS_SIZE_0_1 OPTIONS_END(struct ovl_node_options, flags)
#define NODE_STATUS_SIZE_0_1 OPTIONS_END(struct ovl_node_status, last_error_text)
/* Structs new in 0.2: their first size is 0.2's. */
#define WIREGUARD_OPTIONS_SIZE_0_2 OPTIONS_END(struct ovl_wireguard_options, ipv6_network)

/* options.c: the option-struct rule of ovl(3).  An input struct's size
 * must reach first_size and its bytes past known_size be zero (-EINVAL,
 * -E2BIG); an output struct's size must reach first_size and its bytes past
 * known_size are zeroed.  what names the call and argument in the message
 * ("ovl_vxlan_up: options"). */
int options_check(struct ovl_ctx *ctx, const char *what, const void *options,
		  size_t first_size, size_t known_size);
int output_check(struct ovl_ctx *ctx, const char *what, void *output, size_t first_size,
		 size_t known_size);
/* options.c: -EINVAL naming the bits of flags outside known. */
int flags_check(struct ovl_ctx *ctx, const char *what, unsigned int flags, unsigned int known);

/* peer-array.c: whole structs (malloc'ed array, strings owned) laid out
 * in a new array with the caller's stride size (>= the struct's 0.2
 * start, checked by the caller); whole is consumed, also on -ENOMEM. */
int peers_v2_lay_out(struct ovl_peer_v2 *whole, size_t count, size_t size,
		     struct ovl_peer_v2 **peers);

struct nl_sock;

struct ovl_ctx {
	char error[1024];
	ovl_log_fn log_fn;
	void *log_userdata;
	int log_max_level;
	int netns_fd;		/* -1: the namespace the ctx was created in */
	struct nl_sock *sock;	/* opened lazily by nl.c, in netns_fd */
	unsigned int nl_seq;
};

/* Records the reason for a failure and returns err (a negative errno), so
 * that callers write `return ctx_fail(ctx, -EINVAL, "...", ...)`. */
int ctx_fail(struct ovl_ctx *ctx, int err, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes the recorded reason with more context ("flannel.1: " + old). */
int ctx_fail_prefix(struct ovl_ctx *ctx, int err, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
void ctx_clear_error(struct ovl_ctx *ctx);
void ctx_log(struct ovl_ctx *ctx, int level, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* prefix.c: address bits of AF_INET (32) or AF_INET6 (128); 0 otherwise. */
unsigned int prefix_family_bits(int family);
/* prefix.c: "IPv4" for AF_INET, "IPv6" for AF_INET6, for messages. */
const char *family_name(int family);

/* json.c: jansson helpers, named ovl_json_* to stay out of jansson's
 * namespace (hidden like every internal name).  ovl_json_parse is
 * json_loadb() telling a lack of memory from bad JSON: 0, -ENOMEM (which
 * jansson may report as a syntax error), or -EINVAL with *error filled. */
struct json_t;
struct json_error_t;
int ovl_json_parse(const char *text, size_t length, size_t flags, struct json_t **value,
		   struct json_error_t *error);
/* json.c: a JSON value's type for messages: "an object", "an array",
 * "a string", "an integer", "a fraction", "true", "false", "null". */
const char *ovl_json_type_text(const struct json_t *value);
/* json.c: the member of object called name as Go's encoding/json finds a
 * struct field: ASCII case ignored, the last one wins, null is no value. */
struct json_t *ovl_json_get_folded(const struct json_t *object, const char *name);

/* config.c: why flanneld would read config's backend otherwise than
 * libovl does (it names no Backend or no Backend.Type), or NULL. */
struct ovl_config;
const char *config_flanneld_backend_problem(const struct ovl_config *config);
/* config-text.c: the config text json (valid JSON) with Backend.Type
 * written in when flanneld would not read "vxlan" from it, in *out
 * (malloc'ed; an unchanged copy when it names its Type). */
int config_with_backend_type(struct ovl_ctx *ctx, const char *json, char **out);

#endif
