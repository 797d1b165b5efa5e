/*
 * ovl.h - the one public header of libovl, flannel's overlay as a C library.
 *
 * Contract (see ovl(3)):
 *  - every call that can fail returns 0 or a negative errno; it clears
 *    ovl_ctx_error() on entry and sets it on every failure, so the message
 *    is always about the last call (accessors, _free and _close never touch
 *    it; a NULL handle sets nothing);
 *  - handles are opaque; each _new/_open has a _free/_close/_close;
 *  - addresses, prefixes and MACs cross the API as plain strings so that FFI
 *    bindings need no struct mirrors; struct ovl_prefix is for C callers who
 *    want binary;
 *  - option structs start with a size field set by their _INIT macro; fields
 *    are only ever appended, and the library reads only the fields the
 *    caller's size covers, so old binaries keep working; a size below the
 *    first release's is -EINVAL, unknown non-zero bytes past the library's
 *    size -E2BIG, unknown flag bits -EINVAL;
 *  - no global state: one ctx per thread (thread-compatible);
 *  - this header needs nothing but the C library and compiles as C89, C11
 *    and C++.
 */
#ifndef OVL_H
#define OVL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVL_VERSION_MAJOR 0
#define OVL_VERSION_MINOR 2
#define OVL_VERSION_PATCH 0
#define OVL_VERSION_STRING "0.2.0"
#define OVL_VERSION_NUM \
	((OVL_VERSION_MAJOR << 16) | (OVL_VERSION_MINOR << 8) | OVL_VERSION_PATCH)
/* True when the header is at least version major.minor.patch. */
#define OVL_CHECK_VERSION(major, minor, patch) \
	(OVL_VERSION_NUM >= (((major) << 16) | ((minor) << 8) | (patch)))

#if defined(OVL_BUILDING_LIBRARY) && defined(__GNUC__)
#define OVL_EXPORT __attribute__((visibility("default")))
#else
#define OVL_EXPORT
#endif

/* ------------------------------------------------------------------ */
/* Context, errors, logging                                            */
/* ------------------------------------------------------------------ */

struct ovl_ctx;

/* syslog(3) priorities, so callers can hand them straight to syslog. */
enum ovl_log_level {
	OVL_LOG_ERR = 3,
	OVL_LOG_WARNING = 4,
	OVL_LOG_NOTICE = 5,
	OVL_LOG_INFO = 6,
	OVL_LOG_DEBUG = 7
};

typedef void (*ovl_log_fn)(void *userdata, int level, const char *message);

/* Version of the library actually loaded, e.g. "0.1.0". */
OVL_EXPORT const char *ovl_version(void);

OVL_EXPORT int ovl_ctx_new(struct ovl_ctx **ctx);
OVL_EXPORT void ovl_ctx_free(struct ovl_ctx *ctx);
/* Messages at level <= max_level go to fn; fn NULL silences the library. */
OVL_EXPORT void ovl_ctx_set_log(struct ovl_ctx *ctx, int max_level,
				ovl_log_fn fn, void *userdata);
/* The specific reason for the last failure on ctx; "" when none. */
OVL_EXPORT const char *ovl_ctx_error(const struct ovl_ctx *ctx);
/* Static text for a (negative or positive) errno; thread-safe. */
OVL_EXPORT const char *ovl_strerror(int err);
/* Frees memory the library returned to the caller (strings, arrays). */
OVL_EXPORT void ovl_free(void *memory);

/* Every kernel operation of ctx happens in this network namespace.  The fd
 * is duplicated; -1 returns to the namespace the ctx was created in. */
OVL_EXPORT int ovl_ctx_set_netns(struct ovl_ctx *ctx, int netns_fd);
/* The same for a named namespace (/run/netns/NAME, as `ip netns` makes). */
OVL_EXPORT int ovl_ctx_set_netns_name(struct ovl_ctx *ctx, const char *name);

/* ------------------------------------------------------------------ */
/* Addresses and prefixes (pure)                                       */
/* ------------------------------------------------------------------ */

/* Longest text of a prefix: an IPv6 address (45) + "/128" + NUL. */
#define OVL_PREFIX_STRLEN 50

struct ovl_prefix {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network byte order; IPv4 uses 4 bytes */
	unsigned int len;	/* prefix length; an address has 32 or 128 */
};

/* "10.244.3.0/24" or "fd00::/64"; host bits are kept (see _mask). */
OVL_EXPORT int ovl_prefix_parse(const char *text, struct ovl_prefix *prefix);
/* A bare address; len becomes 32 or 128. */
OVL_EXPORT int ovl_addr_parse(const char *text, struct ovl_prefix *addr);
/* Both return the text length, or -ENOSPC when size is too small. */
OVL_EXPORT int ovl_prefix_format(const struct ovl_prefix *prefix, char *buf,
				 size_t size);
OVL_EXPORT int ovl_addr_format(const struct ovl_prefix *addr, char *buf,
			       size_t size);
/* 1 when equal in family, length and all bits, else 0. */
OVL_EXPORT int ovl_prefix_equal(const struct ovl_prefix *a,
				const struct ovl_prefix *b);
/* 1 when inner (a prefix or an address) lies inside outer, else 0. */
OVL_EXPORT int ovl_prefix_contains(const struct ovl_prefix *outer,
				   const struct ovl_prefix *inner);
/* 1 when the two share any address, else 0. */
OVL_EXPORT int ovl_prefix_overlaps(const struct ovl_prefix *a,
				   const struct ovl_prefix *b);
/* 1 when no host bit is set, else 0. */
OVL_EXPORT int ovl_prefix_is_aligned(const struct ovl_prefix *prefix);
/* Clears the host bits. */
OVL_EXPORT void ovl_prefix_mask(struct ovl_prefix *prefix);
/* The prefix of the same length right after this one; -ERANGE past the end
 * of the address space. */
OVL_EXPORT int ovl_prefix_next(const struct ovl_prefix *prefix,
			       struct ovl_prefix *next);
/* How many subnets of subnet_len fit in network (UINT64_MAX when more). */
OVL_EXPORT uint64_t ovl_prefix_subnet_count(const struct ovl_prefix *network,
					    unsigned int subnet_len);
/* The n-th (from 0) subnet of subnet_len in network; -ERANGE when n is past
 * the end, -EINVAL when subnet_len is shorter than the network's. */
OVL_EXPORT int ovl_prefix_nth_subnet(const struct ovl_prefix *network,
				     unsigned int subnet_len, uint64_t n,
				     struct ovl_prefix *subnet);
/* The inverse: index of subnet in network; -EINVAL when not inside or not
 * aligned, -ERANGE when the index does not fit in 64 bits. */
OVL_EXPORT int ovl_prefix_subnet_index(const struct ovl_prefix *network,
				       const struct ovl_prefix *subnet,
				       uint64_t *index);

/* ------------------------------------------------------------------ */
/* Network configuration: flannel's net-conf.json                       */
/* ------------------------------------------------------------------ */

struct ovl_config;

OVL_EXPORT int ovl_config_parse(struct ovl_ctx *ctx, const char *json,
				struct ovl_config **config);
OVL_EXPORT int ovl_config_load(struct ovl_ctx *ctx, const char *path,
			       struct ovl_config **config);
OVL_EXPORT void ovl_config_free(struct ovl_config *config);
/* The effective configuration, every derived value filled in, as stable
 * JSON (documented in ovlctl(8)); free with ovl_free(). NULL on ENOMEM. */
OVL_EXPORT char *ovl_config_to_json(const struct ovl_config *config);

/* family is AF_INET or AF_INET6; 0 when that family is disabled. */
OVL_EXPORT int ovl_config_family_enabled(const struct ovl_config *config,
					 int family);
/* NULL when the family is disabled. */
OVL_EXPORT const struct ovl_prefix *
ovl_config_network(const struct ovl_config *config, int family);
OVL_EXPORT unsigned int ovl_config_subnet_len(const struct ovl_config *config,
					      int family);
OVL_EXPORT const struct ovl_prefix *
ovl_config_subnet_min(const struct ovl_config *config, int family);
OVL_EXPORT const struct ovl_prefix *
ovl_config_subnet_max(const struct ovl_config *config, int family);
/* "vxlan", "host-gw", "udp" or "wireguard". */
OVL_EXPORT const char *ovl_config_backend_type(const struct ovl_config *config);
/* vxlan's VNI: 1 when absent, "VNI": 0 is 0; 0 for other backends. */
OVL_EXPORT uint32_t ovl_config_vni(const struct ovl_config *config);
/* The backend's UDP port with its default applied (8472 vxlan, 8285 udp,
 * wireguard: ListenPort, 51820). */
OVL_EXPORT unsigned int ovl_config_port(const struct ovl_config *config);
/* 0 means derive from the underlay device.  vxlan's Backend.MTU is the
 * underlay's MTU as flannel means it (the device gets 50 less:
 * OVL_VXLAN_MTU_UNDERLAY); for wireguard, as in flannel, also the
 * underlay's: the device gets 80 less. */
OVL_EXPORT unsigned int ovl_config_mtu(const struct ovl_config *config);
OVL_EXPORT int ovl_config_gbp(const struct ovl_config *config);
OVL_EXPORT int ovl_config_learning(const struct ovl_config *config);
OVL_EXPORT int ovl_config_direct_routing(const struct ovl_config *config);
OVL_EXPORT int ovl_config_enable_nftables(const struct ovl_config *config);

/* ------------------------------------------------------------------ */
/* Stores and leases                                                   */
/* ------------------------------------------------------------------ */

struct ovl_store;
struct ovl_lease;
struct ovl_watch;

#define OVL_STORE_DEFAULT_URI "file:/var/lib/ovl/leases.json"

/* uri NULL means OVL_STORE_DEFAULT_URI. */
OVL_EXPORT int ovl_store_open(struct ovl_ctx *ctx, const char *uri,
			      struct ovl_store **store);
OVL_EXPORT void ovl_store_close(struct ovl_store *store);
/* The network config kept in the store; -ENOENT when it holds none. */
OVL_EXPORT int ovl_store_config_get(struct ovl_store *store,
				    struct ovl_config **config);
/* Validates json as a config, then stores it, with "Type":"vxlan" written
 * in when it names no backend type (flanneld would read udp, or exit). */
OVL_EXPORT int ovl_store_config_put(struct ovl_store *store, const char *json);

/* The lease never expires: a reservation. */
#define OVL_LEASE_RESERVE 0x1u

struct ovl_lease_request {
	size_t size;			/* set by OVL_LEASE_REQUEST_INIT */
	const char *node_name;		/* identity; NULL: public_ip is */
	const char *public_ip;		/* IPv4 underlay (when v4 enabled) */
	const char *public_ipv6;	/* IPv6 underlay (when v6 enabled) */
	const char *backend_type;	/* NULL: the config's */
	const char *backend_data;	/* JSON object text or NULL */
	const char *backend_v6_data;	/* JSON object text or NULL */
	const char *preferred_subnet;	/* e.g. old FLANNEL_SUBNET, or NULL */
	const char *preferred_ipv6_subnet;
	unsigned int ttl_seconds;	/* 0: 24 hours */
	unsigned int flags;		/* OVL_LEASE_* */
};
#define OVL_LEASE_REQUEST_INIT { sizeof(struct ovl_lease_request), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Acquire a lease, or reuse and renew the one this node holds. */
OVL_EXPORT int ovl_lease(struct ovl_store *store,
			 const struct ovl_config *config,
			 const struct ovl_lease_request *request,
			 struct ovl_lease **lease);
/* Compare-and-swap renewal; -ESTALE when the lease is no longer ours. */
OVL_EXPORT int ovl_lease_renew(struct ovl_store *store,
			       struct ovl_lease *lease,
			       unsigned int ttl_seconds);
/* Removes the lease when it is still ours; gone already is success. */
OVL_EXPORT int ovl_lease_release(struct ovl_store *store,
				 const struct ovl_lease *lease);
/* All unexpired leases; free with ovl_leases_free(). */
OVL_EXPORT int ovl_leases(struct ovl_store *store, struct ovl_lease ***leases,
			  size_t *count);
OVL_EXPORT void ovl_leases_free(struct ovl_lease **leases, size_t count);
OVL_EXPORT void ovl_lease_free(struct ovl_lease *lease);

/* Accessors: strings live as long as the lease; NULL when absent. */
OVL_EXPORT const char *ovl_lease_key(const struct ovl_lease *lease);
OVL_EXPORT const char *ovl_lease_subnet(const struct ovl_lease *lease,
					int family);
OVL_EXPORT const char *ovl_lease_public_ip(const struct ovl_lease *lease,
					   int family);
OVL_EXPORT const char *ovl_lease_node_name(const struct ovl_lease *lease);
OVL_EXPORT const char *ovl_lease_backend_type(const struct ovl_lease *lease);
OVL_EXPORT const char *ovl_lease_backend_data(const struct ovl_lease *lease,
					      int family);
/* Unix seconds; 0 for a reservation. */
OVL_EXPORT int64_t ovl_lease_expiration(const struct ovl_lease *lease);
OVL_EXPORT int ovl_lease_is_reservation(const struct ovl_lease *lease);
/* 1 once a renewal found the lease taken or gone. */
OVL_EXPORT int ovl_lease_is_lost(const struct ovl_lease *lease);

enum ovl_watch_event {
	OVL_WATCH_ADDED = 1,	/* new or changed lease */
	OVL_WATCH_REMOVED = 2	/* released, expired or deleted */
};

OVL_EXPORT int ovl_watch_open(struct ovl_store *store,
			      struct ovl_watch **watch);
/* Pollable (POLLIN) when ovl_watch_next may have something. */
OVL_EXPORT int ovl_watch_fd(const struct ovl_watch *watch);
/* Next event; -EAGAIN when none is pending.  *lease is the caller's. */
OVL_EXPORT int ovl_watch_next(struct ovl_watch *watch, int *event,
			      struct ovl_lease **lease);
OVL_EXPORT void ovl_watch_close(struct ovl_watch *watch);

/* ------------------------------------------------------------------ */
/* subnet.env                                                          */
/* ------------------------------------------------------------------ */

#define OVL_SUBNET_ENV_DEFAULT_PATH "/run/flannel/subnet.env"

struct ovl_subnet_env {
	size_t size;			/* set by OVL_SUBNET_ENV_INIT */
	char network[256];		/* FLANNEL_NETWORK (flannel allows a comma list) */
	char subnet[OVL_PREFIX_STRLEN];	/* FLANNEL_SUBNET, e.g. 10.244.3.1/24 */
	char ipv6_network[256];		/* FLANNEL_IPV6_NETWORK */
	char ipv6_subnet[OVL_PREFIX_STRLEN];
	unsigned int mtu;		/* FLANNEL_MTU */
	int ipmasq;			/* FLANNEL_IPMASQ */
};
#define OVL_SUBNET_ENV_INIT { sizeof(struct ovl_subnet_env), "", "", "", "", 0, 0 }

/* path NULL means OVL_SUBNET_ENV_DEFAULT_PATH.  Empty fields are left out;
 * the MTU is required (68..65535), as flanneld always writes one. */
OVL_EXPORT int ovl_subnet_env_write(struct ovl_ctx *ctx, const char *path,
				    const struct ovl_subnet_env *env);
OVL_EXPORT int ovl_subnet_env_read(struct ovl_ctx *ctx, const char *path,
				   struct ovl_subnet_env *env);

/* ------------------------------------------------------------------ */
/* Links (backend devices) and peers                                   */
/* ------------------------------------------------------------------ */

struct ovl_link;

/* Recreate an existing device whose creation-only attributes differ. */
#define OVL_VXLAN_REPLACE 0x1u
/* flannel's documented workaround: tx-checksum-ip-generic off. */
#define OVL_VXLAN_TX_CHECKSUM_OFF 0x2u
/* vni as given, 0 included (flannel's "VNI": 0, device flannel.0); without
 * it a vni of 0 means 1.  Since 0.2. */
#define OVL_VXLAN_VNI_SET 0x4u
/* mtu is the underlay's, as flannel's Backend.MTU: the device gets the
 * VXLAN overhead less (50, or 70 on an IPv6 underlay).  Since 0.2. */
#define OVL_VXLAN_MTU_UNDERLAY 0x8u

struct ovl_vxlan_options {
	size_t size;		/* set by OVL_VXLAN_OPTIONS_INIT */
	const char *name;	/* NULL: flannel.<VNI> / flannel-v6.<VNI> */
	uint32_t vni;		/* 0: 1, unless OVL_VXLAN_VNI_SET */
	unsigned int port;	/* 0: 8472 */
	const char *local;	/* underlay address (required) */
	const char *dev;	/* underlay device; NULL: the one holding local */
	const char *subnet;	/* our lease subnet (required); family picks v4/v6 */
	const char *network;	/* cluster network, or NULL */
	const char *mac;	/* VTEP MAC to keep, or NULL for a random one */
	unsigned int mtu;	/* 0: underlay MTU - 50 (- 70 on a v6 underlay);
				 * with OVL_VXLAN_MTU_UNDERLAY, less the same */
	int gbp;
	int learning;
	int direct_routing;
	unsigned int flags;	/* OVL_VXLAN_* */
};
#define OVL_VXLAN_OPTIONS_INIT { sizeof(struct ovl_vxlan_options), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

OVL_EXPORT int ovl_vxlan_up(struct ovl_ctx *ctx,
			    const struct ovl_vxlan_options *options,
			    struct ovl_link **link);
/* A handle on an existing libovl device by name (for separate processes). */
OVL_EXPORT int ovl_link_open(struct ovl_ctx *ctx, const char *name,
			     struct ovl_link **link);
/* Removes the device and everything libovl installed for it. */
OVL_EXPORT int ovl_link_down(struct ovl_link *link);
/* Frees the handle only; the kernel state stays. */
OVL_EXPORT void ovl_link_free(struct ovl_link *link);
OVL_EXPORT const char *ovl_link_name(const struct ovl_link *link);
OVL_EXPORT const char *ovl_link_mac(const struct ovl_link *link);
OVL_EXPORT unsigned int ovl_link_mtu(const struct ovl_link *link);
OVL_EXPORT int ovl_link_ifindex(const struct ovl_link *link);
/* The link's parameters (name, vni, port, local, dev, mtu, mac, subnet,
 * network, ...) as stable JSON (see ovl_vxlan_up(3)); free with ovl_free().
 * NULL on ENOMEM. */
OVL_EXPORT char *ovl_link_to_json(const struct ovl_link *link);

/* A remote node as the data path needs it.  This struct is frozen: it is
 * passed in arrays, so new fields would come with a new struct and call. */
struct ovl_peer {
	const char *subnet;	/* the peer's lease, e.g. "10.244.7.0/24" */
	const char *public_ip;	/* the peer's underlay address */
	const char *mac;	/* the peer's VTEP MAC (vxlan), else NULL */
};

OVL_EXPORT int ovl_peer_add(struct ovl_link *link, const struct ovl_peer *peer);
OVL_EXPORT int ovl_peer_del(struct ovl_link *link, const struct ovl_peer *peer);
/* Makes the kernel hold exactly these peers on link. */
OVL_EXPORT int ovl_peer_sync(struct ovl_link *link,
			     const struct ovl_peer *peers, size_t count);
/* The peers libovl has installed on link; free with ovl_peers_free(). */
OVL_EXPORT int ovl_peer_list(struct ovl_link *link, struct ovl_peer **peers,
			     size_t *count);
OVL_EXPORT void ovl_peers_free(struct ovl_peer *peers, size_t count);

/* ------------------------------------------------------------------ */
/* host-gw: no device, a route per peer via its underlay address       */
/* ------------------------------------------------------------------ */

struct ovl_hostgw_options {
	size_t size;		/* set by OVL_HOSTGW_OPTIONS_INIT */
	const char *local;	/* our public IP (required): an address of dev */
	const char *dev;	/* underlay device; NULL: the one holding local */
	const char *subnet;	/* our lease subnet (required); family picks v4/v6 */
	const char *network;	/* cluster network, or NULL */
	unsigned int flags;	/* none yet: 0 */
};
#define OVL_HOSTGW_OPTIONS_INIT { sizeof(struct ovl_hostgw_options), 0, 0, 0, 0, 0 }

/* A host-gw link named "host-gw:DEV" (IPv4) or "host-gw-v6:DEV" (IPv6),
 * which ovl_link_open() accepts; its MTU is the underlay's.  Refuses
 * (-EADDRNOTAVAIL) when local is not an address of dev (NAT).  ovl_peer_*
 * install "subnet via public_ip dev DEV" and refuse an off-link peer
 * (-ENETUNREACH); ovl_link_down removes those routes. */
OVL_EXPORT int ovl_hostgw_up(struct ovl_ctx *ctx,
			     const struct ovl_hostgw_options *options,
			     struct ovl_link **link);

/* ------------------------------------------------------------------ */
/* UDP: a TUN device and a userspace loop (flannel's "udp" backend)     */
/* ------------------------------------------------------------------ */

/* flannel's own design: one packet per system call, no offloads. */
#define OVL_UDP_SIMPLE 0x1u
/* Batching without the TUN/UDP offloads (TSO, UDP_SEGMENT, UDP_GRO). */
#define OVL_UDP_NO_OFFLOAD 0x2u

struct ovl_udp_options {
	size_t size;		/* set by OVL_UDP_OPTIONS_INIT */
	const char *name;	/* TUN device; NULL: flannel0 */
	unsigned int port;	/* 0: 8285 */
	const char *local;	/* underlay IPv4 address (required); the socket binds it */
	const char *dev;	/* underlay device; NULL: the one holding local */
	const char *subnet;	/* our lease subnet (required, IPv4) */
	const char *network;	/* the cluster network (required): routed into the TUN */
	unsigned int mtu;	/* 0: underlay MTU - 28 */
	unsigned int flags;	/* OVL_UDP_* */
};
#define OVL_UDP_OPTIONS_INIT { sizeof(struct ovl_udp_options), 0, 0, 0, 0, 0, 0, 0, 0 }

/* Opens the TUN device (address subnet base /32, a route for the network)
 * and the UDP socket, both in the ctx's namespace.  Nothing forwards until
 * the caller runs the loop: ovl_link_dispatch from its own event loop, or
 * ovl_udp_run on a thread of its own.  The device lives as long as the
 * link: ovl_link_down or ovl_link_free (or the process's exit) removes it. */
OVL_EXPORT int ovl_udp_up(struct ovl_ctx *ctx,
			  const struct ovl_udp_options *options,
			  struct ovl_link **link);
/* One pollable (POLLIN) fd for everything the link waits on; -EOPNOTSUPP
 * for a link without a userspace data path (vxlan, host-gw). */
OVL_EXPORT int ovl_link_fd(const struct ovl_link *link);
/* Forwards what is ready without blocking, a bounded amount; the number
 * of packets moved, or a negative errno. */
OVL_EXPORT int ovl_link_dispatch(struct ovl_link *link);
/* Forwards on the calling thread until stop_fd (an eventfd or pipe of the
 * caller's; not read) becomes readable: 0, or a negative errno. */
OVL_EXPORT int ovl_udp_run(struct ovl_link *link, int stop_fd);

/* Counters of a link's userspace data path; "out" is towards peers (TUN
 * to UDP), "in" from peers (UDP to TUN); packets are inner IP packets. */
struct ovl_link_stats {
	size_t size;			/* set by OVL_LINK_STATS_INIT */
	uint64_t packets_out;
	uint64_t bytes_out;
	uint64_t packets_in;
	uint64_t bytes_in;
	uint64_t drop_unknown_source;	/* UDP from an address that is no peer */
	uint64_t drop_not_ours;		/* from a peer, not for our subnet */
	uint64_t drop_malformed;	/* not a whole IPv4 packet */
	uint64_t drop_no_route;		/* no peer owns it: ICMP net unreachable */
	uint64_t drop_ttl;		/* TTL expired: ICMP time exceeded */
	uint64_t drop_io;		/* a send or TUN write failed */
};
#define OVL_LINK_STATS_INIT { sizeof(struct ovl_link_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Safe from any thread while the loop runs; -EOPNOTSUPP as ovl_link_fd. */
OVL_EXPORT int ovl_link_stats(const struct ovl_link *link,
			      struct ovl_link_stats *stats);

/* ------------------------------------------------------------------ */
/* WireGuard: an encrypted device, the kernel's or a userspace one's     */
/* ------------------------------------------------------------------ */

/* A WireGuard key (32 bytes) as base64 text, with its NUL. */
#define OVL_WIREGUARD_KEY_STRLEN 45
/* Where flannel keeps the private key (its WIREGUARD_KEY_FILE default). */
#define OVL_WIREGUARD_KEY_FILE "/run/flannel/wgkey"

/* Only the kernel's WireGuard: never a userspace implementation. */
#define OVL_WIREGUARD_KERNEL 0x1u
/* Only a userspace implementation's UAPI socket: the one already serving
 * the device, else the program options->userspace names. */
#define OVL_WIREGUARD_USERSPACE 0x2u
/* Never wait for a userspace implementation (for event loops that must
 * not block): ovl_wireguard_up returns while the program starts (the
 * link's ifindex is 0 until its device exists), the peer calls and
 * ovl_wireguard_set_key queue their change once it is checked, and
 * ovl_link_dispatch, when ovl_link_fd is readable, carries the changes
 * out in order (see ovl_wireguard_up(3)).  The kernel's WireGuard needs
 * no loop: its changes are made at once. */
#define OVL_WIREGUARD_NONBLOCKING 0x4u

struct ovl_wireguard_options {
	size_t size;			/* set by OVL_WIREGUARD_OPTIONS_INIT */
	const char *name;		/* NULL: flannel-wg (IPv4), flannel-wg-v6 */
	const char *private_key;	/* base64 (required) */
	const char *preshared_key;	/* base64, for every peer; NULL: none */
	unsigned int listen_port;	/* 0: 51820 (IPv4 subnet), 51821 (IPv6) */
	unsigned int keepalive;		/* seconds, for every peer; 0: off */
	const char *local;		/* underlay address (required) */
	const char *dev;		/* underlay device; NULL: the one holding local */
	const char *subnet;		/* our lease subnet (required); family picks v4/v6 */
	const char *network;		/* the cluster network (required): routed
					 * into the device */
	unsigned int mtu;		/* device MTU; 0: underlay MTU - 80 */
	const char *userspace;		/* program run as "PROGRAM NAME" when the
					 * kernel has no WireGuard (wireguard-go) */
	unsigned int flags;		/* OVL_WIREGUARD_* */
	/* One device for both families (flannel's Mode auto, ipv4, ipv6):
	 * subnet and network are then the IPv4 ones; NULL: none. */
	const char *ipv6_subnet;
	const char *ipv6_network;
};
#define OVL_WIREGUARD_OPTIONS_INIT { sizeof(struct ovl_wireguard_options), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* A WireGuard device in the ctx's namespace with the private key and
 * listen port, the subnet base as a /32 (/128) and one link-scope route
 * for the network; peers come with ovl_peer_v2_*.  Waits (bounded) for a
 * userspace program to come up.  See ovl_wireguard_up(3). */
OVL_EXPORT int ovl_wireguard_up(struct ovl_ctx *ctx,
				const struct ovl_wireguard_options *options,
				struct ovl_link **link);
/* Replaces the device's private key (base64); its peers stay, their
 * sessions start again with the new key. */
OVL_EXPORT int ovl_wireguard_set_key(struct ovl_link *link, const char *private_key);
/* A new private key (from the system's random source), as base64. */
OVL_EXPORT int ovl_wireguard_genkey(struct ovl_ctx *ctx,
				    char key[OVL_WIREGUARD_KEY_STRLEN]);
/* The public key of a base64 private key. */
OVL_EXPORT int ovl_wireguard_pubkey(struct ovl_ctx *ctx, const char *private_key,
				    char key[OVL_WIREGUARD_KEY_STRLEN]);
/* The private key kept in path (NULL: OVL_WIREGUARD_KEY_FILE); a missing
 * file is created, mode 0400, with a new key. */
OVL_EXPORT int ovl_wireguard_key_load(struct ovl_ctx *ctx, const char *path,
				      char key[OVL_WIREGUARD_KEY_STRLEN]);

/* flannel's wireguard Backend keys: PSK (NULL when none), ListenPort
 * (family AF_INET, default 51820) and ListenPortV6 (AF_INET6, 51821),
 * PersistentKeepaliveInterval in seconds, Mode ("separate", "auto",
 * "ipv4" or "ipv6").  Zero/NULL for another backend. */
OVL_EXPORT const char *ovl_config_wireguard_psk(const struct ovl_config *config);
OVL_EXPORT unsigned int ovl_config_wireguard_listen_port(const struct ovl_config *config,
							 int family);
OVL_EXPORT unsigned int ovl_config_wireguard_keepalive(const struct ovl_config *config);
OVL_EXPORT const char *ovl_config_wireguard_mode(const struct ovl_config *config);

/* A peer with what struct ovl_peer cannot carry: the successor of that
 * frozen struct, for every backend.  It starts with its size, so fields are
 * appended as options are: arrays of it are laid out with the stride of
 * their first element's size (every element the same size). */
struct ovl_peer_v2 {
	size_t size;			/* set by OVL_PEER_V2_INIT */
	const char *subnet;		/* as struct ovl_peer */
	const char *public_ip;
	const char *mac;		/* vxlan */
	const char *public_key;		/* wireguard: base64 */
	unsigned int port;		/* wireguard: the peer's listen port; 0: ours */
	/* Filled by ovl_peer_v2_list on a wireguard link, else 0: */
	int64_t last_handshake;		/* unix seconds; 0: none yet */
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	unsigned int flags;		/* OVL_PEER_* (add and sync) */
};
#define OVL_PEER_V2_INIT { sizeof(struct ovl_peer_v2), 0, 0, 0, 0, 0, 0, 0, 0, 0 }
/* wireguard: start the peer's handshake at once (the device sends it a
 * keepalive) instead of at its first packet: for a peer whose key just
 * changed, or a device that just came back, whose peers still hold the
 * old session.  Not for peers that may do the same at the same time: two
 * handshakes crossing each other both fail, and WireGuard tries again
 * only 5 s later.  Other backends ignore it. */
#define OVL_PEER_HANDSHAKE 0x1u

OVL_EXPORT int ovl_peer_v2_add(struct ovl_link *link, const struct ovl_peer_v2 *peer);
OVL_EXPORT int ovl_peer_v2_del(struct ovl_link *link, const struct ovl_peer_v2 *peer);
OVL_EXPORT int ovl_peer_v2_sync(struct ovl_link *link, const struct ovl_peer_v2 *peers,
				size_t count);
/* The installed peers, each element size bytes (the caller's
 * sizeof(struct ovl_peer_v2)); free with ovl_peers_v2_free(). */
OVL_EXPORT int ovl_peer_v2_list(struct ovl_link *link, size_t size,
				struct ovl_peer_v2 **peers, size_t *count);
OVL_EXPORT void ovl_peers_v2_free(struct ovl_peer_v2 *peers, size_t count);

/* ------------------------------------------------------------------ */
/* Masquerade and forward rules (flannel's --ip-masq and               */
/* --iptables-forward-rules), nftables                                 */
/* ------------------------------------------------------------------ */

/* masquerade without fully-random (flannel's --ip-masq-fully-random-disable) */
#define OVL_MASQ_NO_FULLY_RANDOM 0x1u
/* no forward chain (flannel's --iptables-forward-rules=false) */
#define OVL_MASQ_NO_FORWARD 0x2u
/* the forward chain alone, no masquerade (flannel without --ip-masq);
 * subnet may be NULL.  Since 0.2. */
#define OVL_MASQ_NO_MASQUERADE 0x4u

/* Makes table ip ovl-ipv4 (or ip6 ovl-ipv6, by the prefixes' family) hold
 * exactly flannel's rules for the cluster network and this node's subnet,
 * replaced in one nft transaction; untouched when already exact.  flags
 * must leave one of the two rule sets. */
OVL_EXPORT int ovl_masq_apply(struct ovl_ctx *ctx, const char *network,
			      const char *subnet, unsigned int flags);
/* 0 when the table is exactly what ovl_masq_apply installs, -ENOENT when it
 * is missing or differs (ovl_ctx_error names the difference). */
OVL_EXPORT int ovl_masq_check(struct ovl_ctx *ctx, const char *network,
			      const char *subnet, unsigned int flags);
/* Deletes the table of family (AF_INET, AF_INET6; 0: both); a missing
 * table is success. */
OVL_EXPORT int ovl_masq_remove(struct ovl_ctx *ctx, int family);

/* ------------------------------------------------------------------ */
/* The embedded agent (flanneld's main loop as an object)               */
/* ------------------------------------------------------------------ */

struct ovl_node;

/* ovl_node_stop: remove the device and its peers and release the lease;
 * without it the data path stays so that a restart does not cut traffic. */
#define OVL_NODE_TEARDOWN 0x1u

/* ovl_node_options.flags: no forward accept rules (flannel's
 * --iptables-forward-rules=false; they are on by default, with or without
 * ip_masq).  Since 0.2. */
#define OVL_NODE_NO_FORWARD_RULES 0x1u

struct ovl_node_options {
	size_t size;			/* set by OVL_NODE_OPTIONS_INIT */
	const char *node_name;		/* lease identity; NULL: the public IP */
	const char *iface;		/* underlay interface; NULL: the one holding
					 * public_ip, else the default route's */
	const char *public_ip;		/* underlay IPv4; NULL: iface's first */
	const char *public_ipv6;	/* underlay IPv6 (IPv6 networks) */
	const char *subnet_file;	/* NULL: OVL_SUBNET_ENV_DEFAULT_PATH */
	unsigned int ttl_seconds;	/* lease TTL; 0: 24 hours */
	unsigned int renew_margin_seconds; /* renew this long before expiry;
					 * 0: TTL / 24 (1 h of 24 h), at least 1 s */
	unsigned int resync_seconds;	/* full peer resync period; 0: 60 */
	int ip_masq;			/* masquerade rules; FLANNEL_IPMASQ */
	unsigned int flags;		/* OVL_NODE_NO_FORWARD_RULES */
	/* Backend wireguard: the userspace program for a kernel without
	 * WireGuard (NULL: kernel only), and the private key file (NULL:
	 * $WIREGUARD_KEY_FILE, else OVL_WIREGUARD_KEY_FILE). */
	const char *wireguard_userspace;
	const char *wireguard_key_file;
};
#define OVL_NODE_OPTIONS_INIT { sizeof(struct ovl_node_options), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Picks the underlay, acquires the lease (keeping the subnet of subnet.env
 * and the VTEP MAC of an existing device), brings up the backend, publishes
 * the MAC, installs every peer, then writes subnet.env. */
OVL_EXPORT int ovl_node_start(struct ovl_ctx *ctx, struct ovl_store *store,
			      const struct ovl_config *config,
			      const struct ovl_node_options *options,
			      struct ovl_node **node);
/* One pollable (POLLIN) fd for the store watch, the timers and the link
 * events; call ovl_node_dispatch when it is readable. */
OVL_EXPORT int ovl_node_fd(const struct ovl_node *node);
/* Handles whatever is ready without blocking.  Failures of single steps are
 * logged, retried and shown by ovl_node_status; 0 unless node is NULL. */
OVL_EXPORT int ovl_node_dispatch(struct ovl_node *node);
/* Milliseconds until the node's next timer (renewal, resync, retry); -1
 * when none.  Only for callers that do not poll ovl_node_fd. */
OVL_EXPORT int ovl_node_next_timeout_ms(const struct ovl_node *node);

struct ovl_node_status {
	size_t size;			/* set by OVL_NODE_STATUS_INIT */
	int ready;			/* lease held, device up, peers synced */
	int lease_lost;			/* the lease was taken or vanished and is
					 * not re-acquired yet */
	char subnet[OVL_PREFIX_STRLEN];	/* our lease, "" when none */
	char ipv6_subnet[OVL_PREFIX_STRLEN];
	char backend[16];		/* "vxlan" */
	char device[16];		/* "flannel.1" */
	char mac[18];			/* the VTEP MAC */
	char public_ip[46];
	char public_ipv6[46];
	char iface[16];			/* the underlay interface */
	unsigned int mtu;		/* FLANNEL_MTU */
	unsigned int peers;		/* peers installed */
	unsigned int skipped;		/* lease records that failed validation */
	int64_t lease_expiration;	/* unix seconds; 0: reservation */
	int64_t last_sync;		/* unix seconds of the last full resync */
	int last_error;			/* negative errno of the last failure, 0 */
	char last_error_text[256];	/* its reason, "" when none */
	/* Appended after 0.1 (a caller built before passes a smaller size):
	 * the links as ovl_link_open() takes them, "" when none, e.g.
	 * "flannel.1", "host-gw:eth0", "host-gw-v6:eth0". */
	char link[32];			/* the IPv4 link */
	char ipv6_link[32];		/* the IPv6 link */
};
#define OVL_NODE_STATUS_INIT { sizeof(struct ovl_node_status), 0, 0, "", "", "", "", "", "", "", "", 0, 0, 0, 0, 0, 0, "", "", "" }

OVL_EXPORT int ovl_node_status(const struct ovl_node *node,
			       struct ovl_node_status *status);
/* ovl_node_status's peers one by one: one element per subnet of each
 * installed peer (the count is status.peers per family), each element
 * size bytes (the caller's sizeof(struct ovl_peer_v2)), sorted by
 * subnet; free with ovl_peers_v2_free().  On wireguard the device's view
 * is added: last handshake, bytes received and sent, as its program last
 * reported them (read again in the background when older than 1 s: never
 * waited for).  Since 0.2. */
OVL_EXPORT int ovl_node_peers(const struct ovl_node *node, size_t size,
			      struct ovl_peer_v2 **peers, size_t *count);
/* A new WireGuard key for the node (-EOPNOTSUPP on other backends):
 * generated, written to the key file (mode 0400, replaced atomically) and
 * set on the devices at once; published in the lease's BackendData
 * (compare-and-swap) by a later ovl_node_dispatch, once every device has
 * it.  The other nodes replace the old key on their watch event.  Never
 * waits for a device or the store.  Since 0.2. */
OVL_EXPORT int ovl_node_rotate_key(struct ovl_node *node);
/* The node's state and counters as Prometheus text exposition (version
 * 0.0.4): lease, peers, resyncs, store, netlink and device repair, and a
 * udp link's packet counters; metric names start with ovl_.  *text is
 * NUL-terminated, free it with ovl_free.  The library serves nothing: the
 * caller hands the text to its HTTP server (ovlctl run --listen). */
OVL_EXPORT int ovl_node_metrics(const struct ovl_node *node, char **text);
/* Stops following the store and frees node.  flags 0 keeps the device, the
 * peers, the lease and subnet.env; OVL_NODE_TEARDOWN removes the device and
 * subnet.env and releases the lease (the first failure is returned, node is
 * freed anyway).  Unknown flag bits: -EINVAL, nothing done, node kept. */
OVL_EXPORT int ovl_node_stop(struct ovl_node *node, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* OVL_H */
