/*
 * lease.h - the lease record shared by the allocator and every store, the
 * pure subnet chooser, and flannel's key and LeaseAttrs codecs.
 */
#ifndef OVL_LEASE_H
#define OVL_LEASE_H

#include <stdint.h>
#include "internal.h"

struct ovl_lease {
	int has_ipv4, has_ipv6;
	struct ovl_prefix subnet;		/* valid when has_ipv4 */
	struct ovl_prefix ipv6_subnet;		/* valid when has_ipv6 */
	char key[2 * OVL_PREFIX_STRLEN + 2];	/* flannel's "10.244.3.0-24[&fd00::-64]" */
	char subnet_text[OVL_PREFIX_STRLEN];
	char ipv6_subnet_text[OVL_PREFIX_STRLEN];
	/* LeaseAttrs; NULL when absent. backend data are compact JSON text. */
	char *public_ip, *public_ipv6;
	char *backend_type, *backend_data, *backend_v6_data;
	char *node_name;
	int64_t expiration;			/* unix seconds; 0: reservation */
	int lost;				/* renewal found it gone or taken */
	uint64_t store_id;			/* the store's handle (etcd lease ID) */
	uint64_t revision;			/* the store's version of the record */
};

/* flannel's subnet key, "10.244.3.0-24" or "10.244.3.0-24&fd00::-64". */
int lease_key_format(const struct ovl_lease *lease, char *buf, size_t size);
int lease_key_parse(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease);

/* LeaseAttrs JSON (+ NodeName) <-> lease fields; the key gives the subnets.
 * _from_json validates types and addresses and names what is wrong. */
char *lease_attrs_to_json(const struct ovl_lease *lease);
int lease_from_json(struct ovl_ctx *ctx, const char *key, const char *json,
		    struct ovl_lease **lease);

struct ovl_lease *lease_new(void);
struct ovl_lease *lease_copy(const struct ovl_lease *lease);

/* Decides the lease for request among existing (pure: no I/O).  *chosen is
 * a new record (subnets, attributes and expiration set from now + TTL);
 * *dropped, when not NULL, is set to the index of an incompatible old lease
 * of this node the store must delete, else to -1. -ENOSPC when none free. */
int lease_choose(struct ovl_ctx *ctx, const struct ovl_config *config,
		 struct ovl_lease *const *existing, size_t count,
		 const struct ovl_lease_request *request, int64_t now,
		 struct ovl_lease **chosen, long *dropped);

#endif
