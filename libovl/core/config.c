/*
 * config.c - flannel's net-conf.json (jansson) -> struct ovl_config: parse,
 * check and derive every default the way flannel's pkg/subnet/config.go
 * (ParseConfig + CheckNetworkConfig) does, and print the effective result.
 *
 * Decisions that differ from flannel, on purpose (also in ovl_config_parse(3)):
 *  - Backend or Backend.Type absent means "vxlan".  flannel's code
 *    (parseBackendType) says "udp"; its manifests and newer documentation
 *    say "vxlan" (older documentation says udp).  We chose vxlan: udp is
 *    slow and amd64-only in flannel, and a config that names no backend
 *    means the common one.
 *  - Go's encoding/json matches keys case-insensitively with Unicode
 *    folding; we fold ASCII only (every real key is ASCII).
 *  - A config without Backend.Type still parses (as "vxlan"), where flanneld
 *    picks udp (no Backend) or exits (no Type): ovl_store_config_put writes
 *    the Type out (config_with_backend_type) and ovl_store_config_get warns
 *    (config_flanneld_backend_problem), so a mixed cluster never disagrees.
 *  - We refuse what flannel lets through to fail later: SubnetMin above
 *    SubnetMax, EnableIPv4 and EnableIPv6 both false, an IPv6 Network or an
 *    IPv4 IPv6Network, and out-of-range VNI, Port and MTU.
 *
 * Like Go, a key given twice keeps its last value, a null value leaves the
 * default, and unknown keys are ignored.  Fields of a disabled family are
 * still parsed (Go decodes them) but not checked against each other.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <jansson.h>

#include "core/config.h"
#include "core/fileio.h"

#define VNI_LIMIT (1 << 24)
#define MTU_MIN 68
#define MTU_MAX 65535

/* ovl_config_load refuses files above this: a net-conf.json is ~100 bytes. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* The rules that differ between the two families, named as flannel's keys. */
struct family_rules {
	int family;
	const char *network;
	const char *subnet_len;
	const char *subnet_min;
	const char *subnet_max;
	unsigned int bits;		/* 32 or 128 */
	unsigned int default_len;	/* 24 or 64 */
};

static const struct family_rules rules_v4 = {
	AF_INET, "Network", "SubnetLen", "SubnetMin", "SubnetMax", 32, 24
};
static const struct family_rules rules_v6 = {
	AF_INET6, "IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", 128, 64
};

static const char *const backend_types[] = { "vxlan", "host-gw", "udp", "wireguard" };

enum top_key {
	K_NETWORK, K_SUBNET_LEN, K_SUBNET_MIN, K_SUBNET_MAX,
	K_IPV6_NETWORK, K_IPV6_SUBNET_LEN, K_IPV6_SUBNET_MIN, K_IPV6_SUBNET_MAX,
	K_ENABLE_IPV4, K_ENABLE_IPV6, K_ENABLE_NFTABLES, K_BACKEND, TOP_KEYS
};
static const char *const top_names[TOP_KEYS] = {
	"Network", "SubnetLen", "SubnetMin", "SubnetMax",
	"IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax",
	"EnableIPv4", "EnableIPv6", "EnableNFTables", "Backend"
};

enum backend_key {
	B_TYPE, B_VNI, B_PORT, B_MTU, B_GBP, B_LEARNING, B_DIRECT_ROUTING, BACKEND_KEYS
};
static const char *const backend_names[BACKEND_KEYS] = {
	"Type", "VNI", "Port", "MTU", "GBP", "Learning", "DirectRouting"
};

/* Go's decoding: each key goes to the field whose name it matches without
 * regard to case; the last one wins; null changes nothing. */
static void collect(json_t *object, const char *const *names, size_t count,
		    json_t **values)
{
	size_t i;

	for (i = 0; i < count; i++)
		values[i] = ovl_json_get_folded(object, names[i]);
}

static int get_bool(struct ovl_ctx *ctx, const json_t *value, const char *name,
		    int *out)
{
	if (!value)
		return 0;
	if (!json_is_boolean(value))
		return ctx_fail(ctx, -EINVAL, "%s: must be true or false, not %s",
				name, ovl_json_type_text(value));
	*out = json_is_true(value);
	return 0;
}

/* An integer within [min, max]; unset leaves *out alone. */
static int get_int(struct ovl_ctx *ctx, const json_t *value, const char *name,
		   json_int_t min, json_int_t max, json_int_t *out)
{
	json_int_t number;

	if (!value)
		return 0;
	if (!json_is_integer(value))
		return ctx_fail(ctx, -EINVAL, "%s: must be an integer, not %s", name,
				ovl_json_type_text(value));
	number = json_integer_value(value);
	if (number < 0 && min == 0)
		return ctx_fail(ctx, -EINVAL, "%s: must not be negative (%" JSON_INTEGER_FORMAT ")",
				name, number);
	if (number < min || number > max)
		return ctx_fail(ctx, -EINVAL, "%s: %" JSON_INTEGER_FORMAT
				" is out of range %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
				name, number, min, max);
	*out = number;
	return 0;
}

static int get_string(struct ovl_ctx *ctx, const json_t *value, const char *name,
		      const char **out)
{
	if (!json_is_string(value))
		return ctx_fail(ctx, -EINVAL, "%s: must be a string, not %s", name,
				ovl_json_type_text(value));
	*out = json_string_value(value);
	return 0;
}

/* A CIDR, masked like Go's net.ParseCIDR. */
static int get_network(struct ovl_ctx *ctx, const json_t *value,
		       const struct family_rules *rules, struct ovl_prefix *out)
{
	const char *text = NULL;
	int err = get_string(ctx, value, rules->network, &text);

	if (err < 0)
		return err;
	if (ovl_prefix_parse(text, out) < 0)
		return ctx_fail(ctx, -EINVAL, "%s: '%s' is not a CIDR prefix",
				rules->network, text);
	if (out->family != rules->family)
		return ctx_fail(ctx, -EINVAL, "%s: %s is not an %s prefix",
				rules->network, text, family_name(rules->family));
	ovl_prefix_mask(out);
	return 0;
}

static int get_address(struct ovl_ctx *ctx, const json_t *value, const char *name,
		       int family, struct ovl_prefix *out)
{
	const char *text = NULL;
	int err = get_string(ctx, value, name, &text);

	if (err < 0)
		return err;
	if (ovl_addr_parse(text, out) < 0)
		return ctx_fail(ctx, -EINVAL, "%s: '%s' is not an IP address", name, text);
	if (out->family != family)
		return ctx_fail(ctx, -EINVAL, "%s: %s is not an %s address", name, text,
				family_name(family));
	return 0;
}

/* flannel treats the all-zero address as "not set". */
static int is_zero(const struct ovl_prefix *addr)
{
	static const unsigned char zero[16];

	return !memcmp(addr->addr, zero, sizeof(zero));
}

/* The last subnet of subnet_len in network, reached in steps whose subnet
 * index fits the 64 bits ovl_prefix_nth_subnet takes. */
static void last_subnet(const struct ovl_prefix *network, unsigned int subnet_len,
			struct ovl_prefix *last)
{
	struct ovl_prefix outer;
	unsigned int step;

	*last = *network;
	while (last->len < subnet_len) {
		outer = *last;
		step = subnet_len - outer.len > 63 ? 63 : subnet_len - outer.len;
		ovl_prefix_nth_subnet(&outer, outer.len + step, ((uint64_t)1 << step) - 1, last);
	}
}

/* SubnetMin or SubnetMax, given or derived: inside the network and on a
 * subnet_len boundary. */
static int check_bound(struct ovl_ctx *ctx, const struct family_config *fam,
		       const char *name, const struct ovl_prefix *addr)
{
	struct ovl_prefix subnet = *addr;
	char text[OVL_PREFIX_STRLEN], net[OVL_PREFIX_STRLEN];

	ovl_addr_format(addr, text, sizeof(text));
	ovl_prefix_format(&fam->network, net, sizeof(net));
	if (!ovl_prefix_contains(&fam->network, addr))
		return ctx_fail(ctx, -EINVAL, "%s: %s is not inside the network %s",
				name, text, net);
	subnet.len = fam->subnet_len;
	if (!ovl_prefix_is_aligned(&subnet))
		return ctx_fail(ctx, -EINVAL, "%s: %s is not on a /%u boundary",
				name, text, fam->subnet_len);
	return 0;
}

/* Parses one family's keys (always, as Go decodes them) and, when the family
 * is enabled, applies CheckNetworkConfig's rules and defaults.  values holds
 * the family's network, subnet length, min and max, in that order. */
static int parse_family(struct ovl_ctx *ctx, json_t *const *values,
			const struct family_rules *rules, struct family_config *fam)
{
	json_int_t subnet_len = 0;
	unsigned int max_len = rules->bits - 2, min_network = rules->bits - 4;
	int have_min = 0, have_max = 0, err;
	char net[OVL_PREFIX_STRLEN], min[OVL_PREFIX_STRLEN], max[OVL_PREFIX_STRLEN];

	if (values[0] && (err = get_network(ctx, values[0], rules, &fam->network)) < 0)
		return err;
	err = get_int(ctx, values[1], rules->subnet_len, 0, UINT32_MAX, &subnet_len);
	if (err < 0)
		return err;
	if (values[2]) {
		err = get_address(ctx, values[2], rules->subnet_min, rules->family,
				  &fam->subnet_min);
		if (err < 0)
			return err;
		have_min = !is_zero(&fam->subnet_min);
	}
	if (values[3]) {
		err = get_address(ctx, values[3], rules->subnet_max, rules->family,
				  &fam->subnet_max);
		if (err < 0)
			return err;
		have_max = !is_zero(&fam->subnet_max);
	}
	if (!fam->enabled)
		return 0;

	if (!values[0])
		return ctx_fail(ctx, -EINVAL, "%s: missing (required when %s is enabled)",
				rules->network, family_name(rules->family));
	ovl_prefix_format(&fam->network, net, sizeof(net));
	/* flannel's IP4Net.Empty()/IP6Net.Empty() (pkg/ip/ipnet.go:198): the
	 * all-zero /0 is "no network" to CheckNetworkConfig (config.go:78). */
	if (fam->network.len == 0 && is_zero(&fam->network))
		return ctx_fail(ctx, -EINVAL, "%s: %s is no network (flannel refuses it too)",
				rules->network, net);
	if (fam->network.len > min_network)
		return ctx_fail(ctx, -EINVAL, "%s: %s is too small, the minimum useful prefix is /%u",
				rules->network, net, min_network);
	if (subnet_len > max_len)
		return ctx_fail(ctx, -EINVAL, "%s: must be less than /%u",
				rules->subnet_len, max_len + 1);
	if (subnet_len && subnet_len < fam->network.len + 2)
		return ctx_fail(ctx, -EINVAL,
				"%s: /%u leaves fewer than 4 subnets in %s (must be at least /%u)",
				rules->subnet_len, (unsigned int)subnet_len, net,
				fam->network.len + 2);
	if (!subnet_len)
		subnet_len = fam->network.len + 2 > rules->default_len ?
			fam->network.len + 2 : rules->default_len;
	fam->subnet_len = (unsigned int)subnet_len;

	/* The first subnet is never handed out: its address is the network's. */
	if (!have_min) {
		ovl_prefix_nth_subnet(&fam->network, fam->subnet_len, 1, &fam->subnet_min);
		fam->subnet_min.len = rules->bits;
	}
	if (!have_max) {
		last_subnet(&fam->network, fam->subnet_len, &fam->subnet_max);
		fam->subnet_max.len = rules->bits;
	}
	if ((err = check_bound(ctx, fam, rules->subnet_min, &fam->subnet_min)) < 0 ||
	    (err = check_bound(ctx, fam, rules->subnet_max, &fam->subnet_max)) < 0)
		return err;
	if (memcmp(fam->subnet_min.addr, fam->subnet_max.addr, sizeof(fam->subnet_min.addr)) > 0) {
		ovl_addr_format(&fam->subnet_min, min, sizeof(min));
		ovl_addr_format(&fam->subnet_max, max, sizeof(max));
		return ctx_fail(ctx, -EINVAL, "%s: %s is above %s %s", rules->subnet_min,
				min, rules->subnet_max, max);
	}
	return 0;
}

/* flannel's wireguard keys (pkg/backend/wireguard): PSK, ListenPort,
 * ListenPortV6, PersistentKeepaliveInterval (seconds), MTU (the underlay's)
 * and Mode. */
enum wireguard_key { W_PSK, W_LISTEN_PORT, W_LISTEN_PORT_V6, W_KEEPALIVE, W_MTU, W_MODE,
		     WIREGUARD_KEYS };
static const char *const wireguard_names[WIREGUARD_KEYS] = {
	"PSK", "ListenPort", "ListenPortV6", "PersistentKeepaliveInterval", "MTU", "Mode"
};
static const char *const wireguard_modes[] = { "separate", "auto", "ipv4", "ipv6" };

static int parse_wireguard(struct ovl_ctx *ctx, json_t *backend, struct ovl_config *config)
{
	struct wireguard_config *wg = &config->wireguard;
	json_t *values[WIREGUARD_KEYS];
	json_int_t port = 51820, port6 = 51821, keepalive = 0, mtu = 0;
	const char *psk = NULL, *mode = "separate";
	size_t i;
	int err;

	collect(backend, wireguard_names, WIREGUARD_KEYS, values);
	if ((values[W_PSK] && (err = get_string(ctx, values[W_PSK], "Backend.PSK", &psk)) < 0) ||
	    (err = get_int(ctx, values[W_LISTEN_PORT], "Backend.ListenPort", 0, 65535, &port)) < 0 ||
	    (err = get_int(ctx, values[W_LISTEN_PORT_V6], "Backend.ListenPortV6", 0, 65535,
			   &port6)) < 0 ||
	    (err = get_int(ctx, values[W_KEEPALIVE], "Backend.PersistentKeepaliveInterval", 0,
			   65535, &keepalive)) < 0 ||
	    (err = get_int(ctx, values[W_MTU], "Backend.MTU", 0, MTU_MAX, &mtu)) < 0 ||
	    (values[W_MODE] && (err = get_string(ctx, values[W_MODE], "Backend.Mode", &mode)) < 0))
		return err;
	if (psk && *psk && (strlen(psk) != OVL_WIREGUARD_KEY_STRLEN - 1 ||
			    psk[OVL_WIREGUARD_KEY_STRLEN - 2] != '='))
		return ctx_fail(ctx, -EINVAL, "Backend.PSK: not a base64 WireGuard key (44 characters)");
	/* The device gets MTU - 80. */
	if (mtu && mtu < MTU_MIN + 80)
		return ctx_fail(ctx, -EINVAL, "Backend.MTU: %" JSON_INTEGER_FORMAT
				" is too small (0 for the underlay's, else at least %d)",
				mtu, MTU_MIN + 80);
	for (i = 0; i < ARRAY_SIZE(wireguard_modes) && strcmp(mode, wireguard_modes[i]); i++)
		;
	if (i == ARRAY_SIZE(wireguard_modes))
		return ctx_fail(ctx, -EINVAL,
				"Backend.Mode: '%s' is none of separate, auto, ipv4, ipv6", mode);
	snprintf(wg->psk, sizeof(wg->psk), "%s", psk ? psk : "");
	/* Go decodes 0 as 0; flannel then listens on a random port.  We keep
	 * the defaults for 0, as Port 0 means the default for vxlan. */
	wg->listen_port = port ? (unsigned int)port : 51820;
	wg->listen_port_v6 = port6 ? (unsigned int)port6 : 51821;
	wg->keepalive = (unsigned int)keepalive;
	wg->mode = wireguard_modes[i];
	config->mtu = (unsigned int)mtu;
	return 0;
}

static int parse_backend(struct ovl_ctx *ctx, json_t *backend,
			 struct ovl_config *config)
{
	json_t *values[BACKEND_KEYS] = { 0 };
	json_int_t vni = 0, port = 0, mtu = 0;
	const char *type = "vxlan";
	size_t i;
	int err;

	config->backend_type = backend_types[0];
	if (!backend)
		return 0;
	if (!json_is_object(backend))
		return ctx_fail(ctx, -EINVAL, "Backend: must be an object, not %s",
				ovl_json_type_text(backend));
	collect(backend, backend_names, BACKEND_KEYS, values);
	config->backend_given = 1;
	config->backend_type_given = values[B_TYPE] != NULL;
	if (values[B_TYPE] && (err = get_string(ctx, values[B_TYPE], "Backend.Type", &type)) < 0)
		return err;
	/* flannel lower-cases the type before looking it up. */
	for (i = 0; i < ARRAY_SIZE(backend_types); i++)
		if (!strcasecmp(type, backend_types[i]))
			break;
	if (i == ARRAY_SIZE(backend_types))
		return ctx_fail(ctx, -EINVAL,
				"Backend.Type: unknown backend type '%s' (known: vxlan, host-gw, udp, wireguard)",
				type);
	config->backend_type = backend_types[i];

	/* Each backend decodes only its own keys, as in flannel. */
	if (!strcmp(config->backend_type, "wireguard"))
		return parse_wireguard(ctx, backend, config);
	if (!strcmp(config->backend_type, "host-gw"))
		return 0;
	if ((err = get_int(ctx, values[B_PORT], "Backend.Port", 0, 65535, &port)) < 0)
		return err;
	config->port = (unsigned int)port;
	if (!strcmp(config->backend_type, "udp"))
		return 0;
	if ((err = get_int(ctx, values[B_VNI], "Backend.VNI", 0, VNI_LIMIT - 1, &vni)) < 0 ||
	    (err = get_int(ctx, values[B_MTU], "Backend.MTU", 0, MTU_MAX, &mtu)) < 0 ||
	    (err = get_bool(ctx, values[B_GBP], "Backend.GBP", &config->gbp)) < 0 ||
	    (err = get_bool(ctx, values[B_LEARNING], "Backend.Learning", &config->learning)) < 0 ||
	    (err = get_bool(ctx, values[B_DIRECT_ROUTING], "Backend.DirectRouting",
			    &config->direct_routing)) < 0)
		return err;
	if (mtu && mtu < MTU_MIN)
		return ctx_fail(ctx, -EINVAL, "Backend.MTU: %" JSON_INTEGER_FORMAT
				" is too small (0 for the underlay's, else at least %d)",
				mtu, MTU_MIN);
	config->vni = (uint32_t)vni;
	config->vni_given = values[B_VNI] != NULL;
	config->mtu = (unsigned int)mtu;
	return 0;
}

static int parse_document(struct ovl_ctx *ctx, json_t *root, struct ovl_config *config)
{
	json_t *values[TOP_KEYS];
	int err;

	if (!json_is_object(root))
		return ctx_fail(ctx, -EINVAL, "net-conf.json: must be a JSON object, not %s",
				ovl_json_type_text(root));
	collect(root, top_names, TOP_KEYS, values);
	config->v4.enabled = 1;
	if ((err = get_bool(ctx, values[K_ENABLE_IPV4], "EnableIPv4", &config->v4.enabled)) < 0 ||
	    (err = get_bool(ctx, values[K_ENABLE_IPV6], "EnableIPv6", &config->v6.enabled)) < 0 ||
	    (err = get_bool(ctx, values[K_ENABLE_NFTABLES], "EnableNFTables",
			    &config->enable_nftables)) < 0)
		return err;
	if (!config->v4.enabled && !config->v6.enabled)
		return ctx_fail(ctx, -EINVAL,
				"EnableIPv4/EnableIPv6: both false, enable at least one");
	if ((err = parse_family(ctx, values + K_NETWORK, &rules_v4, &config->v4)) < 0 ||
	    (err = parse_family(ctx, values + K_IPV6_NETWORK, &rules_v6, &config->v6)) < 0)
		return err;
	return parse_backend(ctx, values[K_BACKEND], config);
}

static int parse_buffer(struct ovl_ctx *ctx, const char *text, size_t length,
			struct ovl_config **config)
{
	struct ovl_config *new_config;
	json_error_t error;
	json_t *root;
	int err;

	/* Any value, so that "[]" gets our message rather than jansson's. */
	err = ovl_json_parse(text, length, JSON_DECODE_ANY, &root, &error);
	if (err == -ENOMEM)
		return ctx_fail(ctx, err, "out of memory");
	if (err < 0)
		return ctx_fail(ctx, err, "invalid JSON at line %d, column %d: %s",
				error.line, error.column, error.text);
	new_config = calloc(1, sizeof(*new_config));
	if (!new_config) {
		json_decref(root);
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	}
	err = parse_document(ctx, root, new_config);
	json_decref(root);
	if (err < 0) {
		free(new_config);
		return err;
	}
	*config = new_config;
	return 0;
}

OVL_EXPORT int ovl_config_parse(struct ovl_ctx *ctx, const char *json,
				struct ovl_config **config)
{
	ctx_clear_error(ctx);
	if (!json || !config)
		return ctx_fail(ctx, -EINVAL, "ovl_config_parse: json and config must not be NULL");
	return parse_buffer(ctx, json, strlen(json), config);
}

OVL_EXPORT int ovl_config_load(struct ovl_ctx *ctx, const char *path,
			       struct ovl_config **config)
{
	size_t length = 0;
	char *text = NULL;
	int err;

	ctx_clear_error(ctx);
	if (!path || !config)
		return ctx_fail(ctx, -EINVAL, "ovl_config_load: path and config must not be NULL");
	err = file_read(ctx, path, CONFIG_FILE_MAX, &text, &length);
	if (err == -EFBIG)
		return ctx_fail(ctx, err, "%s: larger than %d bytes, not a net-conf.json",
				path, CONFIG_FILE_MAX);
	if (err < 0)
		return err;
	err = parse_buffer(ctx, text, length, config);
	free(text);
	return err < 0 ? ctx_fail_prefix(ctx, err, "%s: ", path) : 0;
}

OVL_EXPORT void ovl_config_free(struct ovl_config *config)
{
	free(config);
}
