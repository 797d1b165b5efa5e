/*
 * config.h - struct ovl_config as net-conf.json's parser (config.c) fills it
 * and its accessors and printer (config-access.c) read it.  Private to
 * core/.
 */
#ifndef OVL_CORE_CONFIG_H
#define OVL_CORE_CONFIG_H

#include <stdint.h>

#include "core/internal.h"

#define VXLAN_DEFAULT_VNI 1
#define VXLAN_DEFAULT_PORT 8472
#define UDP_DEFAULT_PORT 8285

struct family_config {
	int enabled;
	struct ovl_prefix network;
	unsigned int subnet_len;
	struct ovl_prefix subnet_min;	/* addresses: len is 32 or 128 */
	struct ovl_prefix subnet_max;
};

/* Backend "wireguard" (parse_wireguard). */
struct wireguard_config {
	char psk[OVL_WIREGUARD_KEY_STRLEN];	/* "" when none */
	unsigned int listen_port, listen_port_v6;
	unsigned int keepalive;
	const char *mode;			/* one of wireguard_modes[] */
};

struct ovl_config {
	struct family_config v4;
	struct family_config v6;
	const char *backend_type;	/* one of backend_types[] */
	int backend_given;		/* a Backend object was there */
	int backend_type_given;		/* ... with a Type */
	uint32_t vni;
	int vni_given;			/* "VNI": 0 is VNI 0, only absent is 1 */
	unsigned int port;		/* 0: the backend's default */
	unsigned int mtu;		/* the underlay's, as flannel means it */
	int gbp;
	int learning;
	int direct_routing;
	int enable_nftables;
	struct wireguard_config wireguard;
};

#endif
