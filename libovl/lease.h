/*
 * lease.h - the lease record shared by the allocator and every store, the
 * pure subnet chooser, and flannel's key and LeaseAttrs codecs.
 */
#ifndef OVL_LEASE_H
#define OVL_LEASE_H

#include <stdint.h>
#include "internal.h"

struct json_t;

/* A lease without a TTL of its own lives this long (flannel's subnetTTL). */
#define LEASE_DEFAULT_TTL (24 * 3600)

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

/* flannel's subnet key, "10.244.3.0-24" or "10.244.3.0-24&fd00::-64" (an
 * IPv6-only lease is "fd00::-64").  _format returns the length or -ENOSPC;
 * _parse sets the subnets, their texts and key, and refuses keys that are
 * not in that exact canonical form (host bits, leading zeros, ...). */
int lease_key_format(const struct ovl_lease *lease, char *buf, size_t size);
int lease_key_parse(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease);

/* LeaseAttrs JSON (+ NodeName) <-> lease fields; the key gives the subnets.
 * _to_json writes PublicIP, PublicIPv6, BackendType, BackendData,
 * BackendV6Data and NodeName (absent ones left out), never Expiration: the
 * etcd value flanneld reads.  _from_json validates types and addresses and
 * names the key and field that are wrong; an "Expiration" member (unix
 * seconds, the file store's) is read when present, else expiration is 0
 * (the etcd store sets it from the key's TTL afterwards). */
char *lease_attrs_to_json(const struct ovl_lease *lease);
int lease_from_json(struct ovl_ctx *ctx, const char *key, const char *json,
		    struct ovl_lease **lease);
/* The same on a jansson object (the file store holds one document). */
struct json_t *lease_attrs_to_object(const struct ovl_lease *lease);
int lease_from_object(struct ovl_ctx *ctx, const char *key,
		      const struct json_t *object, struct ovl_lease **lease);

struct ovl_lease *lease_new(void);
struct ovl_lease *lease_copy(const struct ovl_lease *lease);

/* 1 when expired at now (unix seconds); reservations never expire. */
int lease_expired(const struct ovl_lease *lease, int64_t now);
/* The expiration of a lease (re)newed at now for ttl seconds (0: the
 * default), rounded up so that it lives at least ttl seconds. */
int64_t lease_expiration_after(int64_t now, unsigned int ttl_seconds);
/* 1 when other is held by the same node as lease: the same node name, or
 * without one on either side, the same public IP. */
int lease_same_owner(const struct ovl_lease *lease, const struct ovl_lease *other);

/* Decides the lease for request among existing (pure: no I/O).  *chosen is
 * a new record (subnets, attributes and expiration set from now + TTL);
 * *dropped, when not NULL, is set to the index of an incompatible old lease
 * of this node the store must delete, else to -1. -ENOSPC when none free.
 * request must be a whole struct (callers copy an old caller's shorter one
 * into a zeroed struct first). */
int lease_choose(struct ovl_ctx *ctx, const struct ovl_config *config,
		 struct ovl_lease *const *existing, size_t count,
		 const struct ovl_lease_request *request, int64_t now,
		 struct ovl_lease **chosen, long *dropped);

#endif
