/*
 * config-access.c - what a parsed net-conf.json says: the public
 * ovl_config_* accessors with the backends' defaults, and the effective
 * config as JSON (ovl_config_to_json, documented in ovlctl(8)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>

#include "core/config.h"

static const struct family_config *family_of(const struct ovl_config *config, int family)
{
	const struct family_config *fam;

	if (!config)
		return NULL;
	fam = family == AF_INET ? &config->v4 : family == AF_INET6 ? &config->v6 : NULL;
	return fam && fam->enabled ? fam : NULL;
}

OVL_EXPORT int ovl_config_family_enabled(const struct ovl_config *config, int family)
{
	return family_of(config, family) != NULL;
}

OVL_EXPORT const struct ovl_prefix *ovl_config_network(const struct ovl_config *config,
						       int family)
{
	const struct family_config *fam = family_of(config, family);

	return fam ? &fam->network : NULL;
}

OVL_EXPORT unsigned int ovl_config_subnet_len(const struct ovl_config *config, int family)
{
	const struct family_config *fam = family_of(config, family);

	return fam ? fam->subnet_len : 0;
}

OVL_EXPORT const struct ovl_prefix *ovl_config_subnet_min(const struct ovl_config *config,
							  int family)
{
	const struct family_config *fam = family_of(config, family);

	return fam ? &fam->subnet_min : NULL;
}

OVL_EXPORT const struct ovl_prefix *ovl_config_subnet_max(const struct ovl_config *config,
							  int family)
{
	const struct family_config *fam = family_of(config, family);

	return fam ? &fam->subnet_max : NULL;
}

OVL_EXPORT const char *ovl_config_backend_type(const struct ovl_config *config)
{
	return config ? config->backend_type : NULL;
}

OVL_EXPORT uint32_t ovl_config_vni(const struct ovl_config *config)
{
	if (!config || strcmp(config->backend_type, "vxlan"))
		return 0;
	/* flannel presets VNI 1 before decoding (vxlan.go:168), so only an
	 * absent key means 1; "VNI": 0 is VNI 0 and device flannel.0. */
	return config->vni_given ? config->vni : VXLAN_DEFAULT_VNI;
}

OVL_EXPORT unsigned int ovl_config_port(const struct ovl_config *config)
{
	if (!config)
		return 0;
	if (config->port)
		return config->port;
	if (!strcmp(config->backend_type, "vxlan"))
		return VXLAN_DEFAULT_PORT;
	if (!strcmp(config->backend_type, "wireguard"))
		return config->wireguard.listen_port;
	return !strcmp(config->backend_type, "udp") ? UDP_DEFAULT_PORT : 0;
}

OVL_EXPORT unsigned int ovl_config_mtu(const struct ovl_config *config)
{
	return config ? config->mtu : 0;
}

OVL_EXPORT int ovl_config_gbp(const struct ovl_config *config)
{
	return config ? config->gbp : 0;
}

OVL_EXPORT int ovl_config_learning(const struct ovl_config *config)
{
	return config ? config->learning : 0;
}

OVL_EXPORT int ovl_config_direct_routing(const struct ovl_config *config)
{
	return config ? config->direct_routing : 0;
}

OVL_EXPORT int ovl_config_enable_nftables(const struct ovl_config *config)
{
	return config ? config->enable_nftables : 0;
}

static int is_wireguard(const struct ovl_config *config)
{
	return config && !strcmp(config->backend_type, "wireguard");
}

OVL_EXPORT const char *ovl_config_wireguard_psk(const struct ovl_config *config)
{
	return is_wireguard(config) && config->wireguard.psk[0] ? config->wireguard.psk : NULL;
}

OVL_EXPORT unsigned int ovl_config_wireguard_listen_port(const struct ovl_config *config,
							 int family)
{
	if (!is_wireguard(config))
		return 0;
	return family == AF_INET6 ? config->wireguard.listen_port_v6 :
		family == AF_INET ? config->wireguard.listen_port : 0;
}

OVL_EXPORT unsigned int ovl_config_wireguard_keepalive(const struct ovl_config *config)
{
	return is_wireguard(config) ? config->wireguard.keepalive : 0;
}

OVL_EXPORT const char *ovl_config_wireguard_mode(const struct ovl_config *config)
{
	return is_wireguard(config) ? config->wireguard.mode : NULL;
}

const char *config_flanneld_backend_problem(const struct ovl_config *config)
{
	if (!config->backend_given)
		return "it has no Backend: flanneld would choose udp (pkg/subnet/config.go:47)";
	if (!config->backend_type_given)
		return "it has no Backend.Type: flanneld would exit with \"unknown backend type\"";
	return NULL;
}

/* Adds one family's keys (prefix "" or "ipv6_"); 0 or -1 on ENOMEM. */
static int family_to_json(json_t *root, const struct family_config *fam, const char *prefix)
{
	char key[32], text[OVL_PREFIX_STRLEN];
	int failed = 0;

	snprintf(key, sizeof(key), "%snetwork", prefix);
	ovl_prefix_format(&fam->network, text, sizeof(text));
	failed |= json_object_set_new(root, key, json_string(text));
	snprintf(key, sizeof(key), "%ssubnet_len", prefix);
	failed |= json_object_set_new(root, key, json_integer(fam->subnet_len));
	snprintf(key, sizeof(key), "%ssubnet_min", prefix);
	ovl_addr_format(&fam->subnet_min, text, sizeof(text));
	failed |= json_object_set_new(root, key, json_string(text));
	snprintf(key, sizeof(key), "%ssubnet_max", prefix);
	ovl_addr_format(&fam->subnet_max, text, sizeof(text));
	failed |= json_object_set_new(root, key, json_string(text));
	return failed ? -1 : 0;
}

static json_t *backend_to_json(const struct ovl_config *config)
{
	const char *type = config->backend_type;

	if (!strcmp(type, "host-gw"))
		return json_pack("{s:s}", "type", type);
	if (!strcmp(type, "udp"))
		return json_pack("{s:s, s:i}", "type", type, "port", (int)ovl_config_port(config));
	/* The PSK is a secret: only whether there is one. */
	if (!strcmp(type, "wireguard"))
		return json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:b}", "type", type,
				 "listen_port", (int)config->wireguard.listen_port,
				 "listen_port_v6", (int)config->wireguard.listen_port_v6,
				 "persistent_keepalive_interval", (int)config->wireguard.keepalive,
				 "mtu", (int)config->mtu, "mode", config->wireguard.mode,
				 "psk", config->wireguard.psk[0] != 0);
	return json_pack("{s:s, s:i, s:i, s:i, s:b, s:b, s:b}", "type", type,
			 "vni", (int)ovl_config_vni(config), "port", (int)ovl_config_port(config),
			 "mtu", (int)config->mtu, "gbp", config->gbp, "learning", config->learning,
			 "direct_routing", config->direct_routing);
}

/* The schema is documented in ovlctl(8), JSON OUTPUT; keys keep this order. */
OVL_EXPORT char *ovl_config_to_json(const struct ovl_config *config)
{
	json_t *root;
	char *text = NULL;
	size_t size;
	int failed;

	if (!config)
		return NULL;
	root = json_object();
	if (!root)
		return NULL;
	failed = json_object_set_new(root, "enable_ipv4", json_boolean(config->v4.enabled));
	if (config->v4.enabled)
		failed |= family_to_json(root, &config->v4, "");
	failed |= json_object_set_new(root, "enable_ipv6", json_boolean(config->v6.enabled));
	if (config->v6.enabled)
		failed |= family_to_json(root, &config->v6, "ipv6_");
	failed |= json_object_set_new(root, "backend", backend_to_json(config));
	failed |= json_object_set_new(root, "enable_nftables",
				      json_boolean(config->enable_nftables));
	/* Our own malloc, so that ovl_free() fits even when the application
	 * changed jansson's allocator. */
	size = failed ? 0 : json_dumpb(root, NULL, 0, JSON_PRESERVE_ORDER);
	if (size)
		text = malloc(size + 1);
	if (text) {
		json_dumpb(root, text, size, JSON_PRESERVE_ORDER);
		text[size] = '\0';
	}
	json_decref(root);
	return text;
}
