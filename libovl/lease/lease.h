/*
 * lease.h - the lease record shared by the allocator and every store
 * (lease-record.c), flannel's key and LeaseAttrs codecs (lease-codec.c),
 * and the pure subnet chooser (lease.c).
 */
#ifndef OVL_LEASE_H
#define OVL_LEASE_H

#include <stdint.h>
#include "core/internal.h"

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
/* The same on a jansson object. */
struct json_t *lease_attrs_to_object(const struct ovl_lease *lease);
int lease_from_object(struct ovl_ctx *ctx, const char *key,
		      const struct json_t *object, struct ovl_lease **lease);

/* One LeaseAttrs member as a JSON reader saw it (jansson's tree, or the
 * file store's scanner that builds none), so that both decode records by
 * the same rules. */
enum lease_member_type {
	MEMBER_NULL, MEMBER_STRING, MEMBER_INTEGER, MEMBER_OBJECT, MEMBER_OTHER,
};
struct lease_member {
	const char *name;
	enum lease_member_type type;
	const char *type_text;		/* "an array", ... for messages */
	const char *text;		/* a string's value, an object's compact JSON */
	size_t length;
	int64_t integer;
};
enum lease_field {
	LEASE_UNKNOWN, LEASE_PUBLIC_IP, LEASE_PUBLIC_IPV6, LEASE_BACKEND_TYPE,
	LEASE_BACKEND_DATA, LEASE_BACKEND_V6_DATA, LEASE_NODE_NAME, LEASE_EXPIRATION,
};
/* What lease_member_check found, without copying anything. */
struct lease_member_value {
	enum lease_field field;		/* LEASE_UNKNOWN: a name no field has */
	int present;			/* 0: null, "", or PublicIP 0.0.0.0 */
	struct ovl_prefix address;	/* PublicIP, PublicIPv6 when present */
};
/* Checks one member's type and address family; -EINVAL naming key and
 * member.  A name it does not know is fine (LEASE_UNKNOWN). */
int lease_member_check(struct ovl_ctx *ctx, const char *key, const struct lease_member *member,
		       struct lease_member_value *value);
/* The same, and the member decoded into lease. */
int lease_member_read(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease,
		      const struct lease_member *member);
/* What the members of a record must add up to once all are read: a
 * PublicIP for an IPv4 subnet, a PublicIPv6 for an IPv6 one. */
int lease_addresses_check(struct ovl_ctx *ctx, const char *key, int has_ipv4, int has_ipv6,
			  int has_public_ip, int has_public_ipv6);
int lease_members_check(struct ovl_ctx *ctx, const char *key,
			const struct ovl_lease *lease);

struct ovl_lease *lease_new(void);
/* Frees what lease holds (not lease itself) and zeroes it. */
void lease_clear(struct ovl_lease *lease);
struct ovl_lease *lease_copy(const struct ovl_lease *lease);

/* 1 when expired at now (unix seconds); reservations never expire. */
int lease_expired(const struct ovl_lease *lease, int64_t now);
/* The expiration of a lease (re)newed at now for ttl seconds (0: the
 * default), rounded up so that it lives at least ttl seconds. */
int64_t lease_expiration_after(int64_t now, unsigned int ttl_seconds);
/* 1 when other is held by the same node as lease: the same node name, or
 * without one on either side, the same public IP. */
int lease_same_owner(const struct ovl_lease *lease, const struct ovl_lease *other);

/* What the allocator needs to know of an existing record: 72 bytes, no
 * pointer but the name's, so that a store of 10,000 records keeps little
 * fresh memory per record when it chooses (on the machines this was built
 * on, every fresh page costs ~20 microseconds). */
struct lease_claim {
	int64_t expiration;			/* 0: never expires */
	const char *node_name;			/* not NUL-terminated; NULL: none */
	uint32_t node_name_length;
	unsigned char has_ipv4, has_ipv6, has_public_ip, has_public_ipv6;
	unsigned char subnet_len, ipv6_subnet_len;
	unsigned char subnet[4], public_ip[4];	/* network byte order */
	unsigned char ipv6_subnet[16], public_ipv6[16];
};
/* Sets the claim's subnets (and nothing else) from lease's. */
void lease_claim_subnets(struct lease_claim *claim, const struct ovl_lease *lease);
/* lease's claim; node_name points into lease. */
void lease_claim_of(const struct ovl_lease *lease, struct lease_claim *claim);
/* The claim's subnet of family in *subnet: 1, or 0 when it has none. */
int lease_claim_subnet(const struct lease_claim *claim, int family, struct ovl_prefix *subnet);

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
/* The same on claims. */
int lease_choose_claims(struct ovl_ctx *ctx, const struct ovl_config *config,
			const struct lease_claim *const *existing, size_t count,
			const struct ovl_lease_request *request, int64_t now,
			struct ovl_lease **chosen, long *dropped);

/* lease-request.c: a request whose strings it owns (copied from one
 * whose size may be an old caller's); free with lease_request_copy_free,
 * also after a failed copy or on a zeroed one. */
struct lease_request_copy {
	struct ovl_lease_request request;
	int owned;
};
int lease_request_copy(struct ovl_ctx *ctx, const struct ovl_lease_request *request,
		       struct lease_request_copy *copy);
void lease_request_copy_free(struct lease_request_copy *copy);

#endif
