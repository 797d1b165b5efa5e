/*
 * lease.c - choosing a subnet: a pure function of the config, the existing
 * leases and the request, in flannel's order (the node's own lease, the
 * preferred subnet, a random one among the first 100 free), kept fast at
 * tens of thousands of leases by a bitmap of the subnet numbers in use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <jansson.h>

#include "lease/lease.h"

/* flannel picks at random among this many free subnets, so that writers
 * racing on a shared store rarely pick the same one. */
#define CANDIDATES 100
/* The bitmap covers at most this many subnets from SubnetMin (2 MiB); only
 * an IPv6 range can be wider, and there a subnet past it is checked against
 * the leases one by one. */
#define BITMAP_MAX ((uint64_t)1 << 24)

typedef unsigned __int128 u128;

/* One family's view: the network, SubnetMin..SubnetMax as subnet numbers,
 * and a bitmap of the numbers taken from SubnetMin on. */
struct family_index {
	int family;
	const char *name;		/* "IPv4" / "IPv6", for messages */
	const struct ovl_prefix *network;
	unsigned int len, bits;		/* subnet length, address bits */
	u128 base;			/* the network's address as a number */
	uint64_t min, max;
	uint64_t window;		/* the bitmap covers min .. min + window - 1 */
	uint64_t *bitmap;
	size_t leased;			/* unexpired leases inside the network */
	/* for subnets past the bitmap */
	const struct lease_claim *const *existing;
	size_t count;
	int64_t now;
	long skip;
};

/* The request, checked and in canonical form. */
struct wanted {
	const char *node_name;
	char public_ip[INET6_ADDRSTRLEN], public_ipv6[INET6_ADDRSTRLEN];
	unsigned char public_ip_bytes[4], public_ipv6_bytes[16];
	char *backend_data, *backend_v6_data;	/* compact JSON */
	const char *backend_type;
	int64_t expiration;
};

int lease_claim_subnet(const struct lease_claim *claim, int family, struct ovl_prefix *subnet)
{
	memset(subnet, 0, sizeof(*subnet));
	subnet->family = family;
	if (family == AF_INET && claim->has_ipv4) {
		memcpy(subnet->addr, claim->subnet, 4);
		subnet->len = claim->subnet_len;
		return 1;
	}
	if (family == AF_INET6 && claim->has_ipv6) {
		memcpy(subnet->addr, claim->ipv6_subnet, 16);
		subnet->len = claim->ipv6_subnet_len;
		return 1;
	}
	return 0;
}

void lease_claim_subnets(struct lease_claim *claim, const struct ovl_lease *lease)
{
	claim->has_ipv4 = (unsigned char)lease->has_ipv4;
	claim->has_ipv6 = (unsigned char)lease->has_ipv6;
	if (lease->has_ipv4) {
		memcpy(claim->subnet, lease->subnet.addr, 4);
		claim->subnet_len = (unsigned char)lease->subnet.len;
	}
	if (lease->has_ipv6) {
		memcpy(claim->ipv6_subnet, lease->ipv6_subnet.addr, 16);
		claim->ipv6_subnet_len = (unsigned char)lease->ipv6_subnet.len;
	}
}

static int claim_expired(const struct lease_claim *claim, int64_t now)
{
	return claim->expiration != 0 && claim->expiration <= now;
}

void lease_claim_of(const struct ovl_lease *lease, struct lease_claim *claim)
{
	struct ovl_prefix addr;

	memset(claim, 0, sizeof(*claim));
	lease_claim_subnets(claim, lease);
	claim->expiration = lease->expiration;
	claim->node_name = lease->node_name;
	claim->node_name_length = lease->node_name ? (uint32_t)strlen(lease->node_name) : 0;
	/* records hold canonical addresses (lease_member_read made them so) */
	if (lease->public_ip && ovl_addr_parse(lease->public_ip, &addr) == 0) {
		claim->has_public_ip = 1;
		memcpy(claim->public_ip, addr.addr, 4);
	}
	if (lease->public_ipv6 && ovl_addr_parse(lease->public_ipv6, &addr) == 0) {
		claim->has_public_ipv6 = 1;
		memcpy(claim->public_ipv6, addr.addr, 16);
	}
}

static u128 addr_value(const struct ovl_prefix *prefix, unsigned int bits)
{
	u128 value = 0;
	unsigned int i;

	for (i = 0; i < bits / 8; i++)
		value = value << 8 | prefix->addr[i];
	return value;
}

static int family_setup(struct ovl_ctx *ctx, const struct ovl_config *config,
			int family, struct family_index *index)
{
	const struct ovl_prefix *min_addr, *max_addr;
	struct ovl_prefix min, max;

	memset(index, 0, sizeof(*index));
	index->family = family;
	index->name = family_name(family);
	index->bits = family == AF_INET ? 32 : 128;
	index->network = ovl_config_network(config, family);
	index->len = ovl_config_subnet_len(config, family);
	min_addr = ovl_config_subnet_min(config, family);
	max_addr = ovl_config_subnet_max(config, family);
	if (!index->network || !min_addr || !max_addr || index->len <= index->network->len ||
	    index->len > index->bits || index->len - index->network->len > 63)
		return ctx_fail(ctx, -EINVAL, "%s network: cannot number its subnets",
				index->name);
	/* the config gives SubnetMin/Max as addresses: make them subnets */
	min = *min_addr;
	max = *max_addr;
	min.len = max.len = index->len;
	ovl_prefix_mask(&min);
	ovl_prefix_mask(&max);
	if (ovl_prefix_subnet_index(index->network, &min, &index->min) < 0 ||
	    ovl_prefix_subnet_index(index->network, &max, &index->max) < 0 ||
	    index->min > index->max)
		return ctx_fail(ctx, -EINVAL, "%s SubnetMin/SubnetMax: not a range of "
				"subnets of the network", index->name);
	index->base = addr_value(index->network, index->bits);
	index->window = index->max - index->min < BITMAP_MAX ?
			index->max - index->min + 1 : BITMAP_MAX;
	index->bitmap = calloc((index->window + 63) / 64, sizeof(uint64_t));
	return index->bitmap ? 0 : -ENOMEM;
}

/* Marks subnet numbers lo..hi taken, as far as the bitmap reaches. */
static void set_range(struct family_index *index, uint64_t lo, uint64_t hi)
{
	uint64_t last = index->min + index->window - 1, i, end;

	if (hi < index->min || lo > last)
		return;
	i = (lo < index->min ? index->min : lo) - index->min;
	end = (hi > last ? last : hi) - index->min;
	while (i <= end) {
		if (i % 64 == 0 && end - i >= 63) {
			index->bitmap[i / 64] = UINT64_MAX;
			i += 64;
		} else {
			index->bitmap[i / 64] |= (uint64_t)1 << (i % 64);
			i++;
		}
	}
}

/* Marks the subnet numbers a leased subnet covers (it may be of another
 * length: a left-over of an older SubnetLen still blocks what it overlaps).
 * This runs once per lease, so it is plain integer arithmetic. */
static void mark_used(struct family_index *index, const struct ovl_prefix *subnet)
{
	unsigned int net_len = index->network->len, bits = index->bits;
	unsigned int common = subnet->len < net_len ? subnet->len : net_len;
	u128 value = addr_value(subnet, bits);
	uint64_t lo;

	if (common && (value ^ index->base) >> (bits - common))
		return;				/* outside the network */
	index->leased++;
	if (subnet->len <= net_len) {
		set_range(index, 0, UINT64_MAX);
		return;
	}
	lo = (uint64_t)((value - index->base) >> (bits - index->len));
	set_range(index, lo, subnet->len >= index->len ? lo :
		  lo + ((uint64_t)1 << (index->len - subnet->len)) - 1);
}

static int is_free(const struct family_index *index, uint64_t number)
{
	struct ovl_prefix other;
	struct ovl_prefix subnet;
	uint64_t offset = number - index->min;
	size_t i;

	if (number >= index->min && offset < index->window)
		return !(index->bitmap[offset / 64] >> (offset % 64) & 1);
	if (ovl_prefix_nth_subnet(index->network, index->len, number, &subnet) < 0)
		return 0;
	for (i = 0; i < index->count; i++) {
		if ((long)i != index->skip &&
		    lease_claim_subnet(index->existing[i], index->family, &other) &&
		    !claim_expired(index->existing[i], index->now) &&
		    ovl_prefix_overlaps(&other, &subnet))
			return 0;
	}
	return 1;
}

/* The subnet's number when it fits this family's config (same length,
 * inside SubnetMin..SubnetMax), else -1. */
static int fits(const struct family_index *index, const struct ovl_prefix *subnet,
		uint64_t *number)
{
	if (subnet->family != index->family || subnet->len != index->len ||
	    !ovl_prefix_is_aligned(subnet) ||
	    ovl_prefix_subnet_index(index->network, subnet, number) < 0)
		return 0;
	return *number >= index->min && *number <= index->max;
}

static int lease_fits(const struct family_index *v4, const struct family_index *v6,
		      const struct lease_claim *lease)
{
	struct ovl_prefix subnet;
	uint64_t number;

	if (!!v4 != lease->has_ipv4 || !!v6 != lease->has_ipv6)
		return 0;
	return (!v4 || (lease_claim_subnet(lease, AF_INET, &subnet),
			fits(v4, &subnet, &number))) &&
	       (!v6 || (lease_claim_subnet(lease, AF_INET6, &subnet),
			fits(v6, &subnet, &number)));
}

static uint32_t random_u32(void)
{
	uint32_t value;

	if (getrandom(&value, sizeof(value), GRND_NONBLOCK) != sizeof(value))
		value = (uint32_t)random();
	return value;
}

/* A random subnet among the first CANDIDATES free ones from min to max. */
static int pick_free(struct ovl_ctx *ctx, const struct family_index *index,
		     struct ovl_prefix *subnet)
{
	uint64_t candidates[CANDIDATES], free_bits, word;
	size_t found = 0;
	char network[OVL_PREFIX_STRLEN];

	for (word = 0; word * 64 < index->window && found < CANDIDATES; word++) {
		free_bits = ~index->bitmap[word];
		if (index->window - word * 64 < 64)
			free_bits &= ((uint64_t)1 << (index->window - word * 64)) - 1;
		for (; free_bits && found < CANDIDATES; free_bits &= free_bits - 1)
			candidates[found++] = index->min + word * 64 +
					      (uint64_t)__builtin_ctzll(free_bits);
	}
	if (!found) {
		ovl_prefix_format(index->network, network, sizeof(network));
		return ctx_fail(ctx, -ENOSPC, "out of subnets in %s (%zu leased)",
				network, index->leased);
	}
	return ovl_prefix_nth_subnet(index->network, index->len,
				     candidates[random_u32() % found], subnet);
}

/* The preferred subnet text (a FLANNEL_SUBNET, host bits allowed) when it
 * fits and is free. */
static int preferred_free(const struct family_index *index, const char *text,
			  struct ovl_prefix *subnet)
{
	uint64_t number;

	if (!text || !*text || ovl_prefix_parse(text, subnet) < 0)
		return 0;
	ovl_prefix_mask(subnet);
	return fits(index, subnet, &number) && is_free(index, number);
}

static int canonical_address(struct ovl_ctx *ctx, const char *field, const char *text,
			     int family, char *out, size_t size, unsigned char *bytes)
{
	struct ovl_prefix addr;

	out[0] = '\0';
	if (!text || !*text)
		return 0;
	if (ovl_addr_parse(text, &addr) < 0 || addr.family != family)
		return ctx_fail(ctx, -EINVAL, "%s: '%s' is not an %s address", field,
				text, family_name(family));
	ovl_addr_format(&addr, out, size);
	memcpy(bytes, addr.addr, family == AF_INET ? 4 : 16);
	return 0;
}

static int compact_object(struct ovl_ctx *ctx, const char *field, const char *text,
			  char **out)
{
	json_error_t error;
	json_t *value;

	*out = NULL;
	if (!text || !*text)
		return 0;
	if (ovl_json_parse(text, strlen(text), 0, &value, &error) == -ENOMEM)
		return -ENOMEM;
	if (!value || !json_is_object(value)) {
		json_decref(value);
		return ctx_fail(ctx, -EINVAL, "%s: not a JSON object%s%s", field,
				value ? "" : ": ", value ? "" : error.text);
	}
	*out = json_dumps(value, JSON_COMPACT);
	json_decref(value);
	return *out ? 0 : -ENOMEM;
}

static int check_request(struct ovl_ctx *ctx, const struct ovl_config *config,
			 const struct ovl_lease_request *request, int64_t now,
			 struct wanted *want)
{
	int err;

	memset(want, 0, sizeof(*want));
	want->node_name = request->node_name && *request->node_name ?
			  request->node_name : NULL;
	if (want->node_name && strlen(want->node_name) > 253)
		return ctx_fail(ctx, -EINVAL, "node name: longer than 253 characters");
	err = canonical_address(ctx, "public IP", request->public_ip, AF_INET,
				want->public_ip, sizeof(want->public_ip), want->public_ip_bytes);
	if (!err)
		err = canonical_address(ctx, "public IPv6", request->public_ipv6, AF_INET6,
					want->public_ipv6, sizeof(want->public_ipv6),
					want->public_ipv6_bytes);
	if (err < 0)
		return err;
	if (ovl_config_family_enabled(config, AF_INET) && !want->public_ip[0])
		return ctx_fail(ctx, -EINVAL, "public IP: required when IPv4 is enabled");
	if (ovl_config_family_enabled(config, AF_INET6) && !want->public_ipv6[0])
		return ctx_fail(ctx, -EINVAL, "public IPv6: required when IPv6 is enabled");
	err = compact_object(ctx, "backend data", request->backend_data, &want->backend_data);
	if (!err)
		err = compact_object(ctx, "backend IPv6 data", request->backend_v6_data,
				     &want->backend_v6_data);
	if (err < 0) {
		free(want->backend_data);
		return err;
	}
	want->backend_type = request->backend_type && *request->backend_type ?
			     request->backend_type : ovl_config_backend_type(config);
	want->expiration = request->flags & OVL_LEASE_RESERVE ? 0 :
			   lease_expiration_after(now, request->ttl_seconds);
	return 0;
}

/* How well record matches the requesting node: 2 by node name, 1 by public
 * IP on a record without a name (flanneld's leases and reservations), 0 not. */
static int owner_rank(const struct lease_claim *record, const struct wanted *want)
{
	if (record->node_name)
		return want->node_name && strlen(want->node_name) == record->node_name_length &&
		       !memcmp(record->node_name, want->node_name, record->node_name_length) ?
		       2 : 0;
	if (record->has_public_ip && want->public_ip[0])
		return !memcmp(record->public_ip, want->public_ip_bytes, 4);
	if (!record->has_public_ip && record->has_public_ipv6 && want->public_ipv6[0])
		return !memcmp(record->public_ipv6, want->public_ipv6_bytes, 16);
	return 0;
}

/* The best unexpired (*own) and expired (*old) record of this node, -1
 * when none. */
static void find_own(const struct lease_claim *const *existing, size_t count,
		     const struct wanted *want, int64_t now, long *own, long *old)
{
	int ranks[2] = { 0, 0 }, rank, expired;
	long *best[2] = { own, old };
	size_t i;

	*own = *old = -1;
	for (i = 0; i < count; i++) {
		rank = owner_rank(existing[i], want);
		expired = claim_expired(existing[i], now);
		if (rank > ranks[expired]) {
			*best[expired] = (long)i;
			ranks[expired] = rank;
		}
	}
}

static int dup_or_null(char **out, const char *text)
{
	*out = text && *text ? strdup(text) : NULL;
	return text && *text && !*out ? -ENOMEM : 0;
}

static int make_chosen(const struct wanted *want, const struct ovl_prefix *v4,
		       const struct ovl_prefix *v6, int64_t expiration,
		       struct ovl_lease **chosen)
{
	struct ovl_lease *lease = lease_new();

	if (!lease)
		return -ENOMEM;
	if (v4) {
		lease->has_ipv4 = 1;
		lease->subnet = *v4;
		ovl_prefix_format(v4, lease->subnet_text, sizeof(lease->subnet_text));
	}
	if (v6) {
		lease->has_ipv6 = 1;
		lease->ipv6_subnet = *v6;
		ovl_prefix_format(v6, lease->ipv6_subnet_text, sizeof(lease->ipv6_subnet_text));
	}
	lease->expiration = expiration;
	if (lease_key_format(lease, lease->key, sizeof(lease->key)) < 0 ||
	    dup_or_null(&lease->public_ip, want->public_ip) ||
	    dup_or_null(&lease->public_ipv6, want->public_ipv6) ||
	    dup_or_null(&lease->backend_type, want->backend_type) ||
	    dup_or_null(&lease->backend_data, want->backend_data) ||
	    dup_or_null(&lease->backend_v6_data, want->backend_v6_data) ||
	    dup_or_null(&lease->node_name, want->node_name)) {
		ovl_lease_free(lease);
		return -ENOMEM;
	}
	*chosen = lease;
	return 0;
}

/* Reserving a named subnet: it must be free (or ours already). */
static int require_subnet(struct ovl_ctx *ctx, const struct family_index *index,
			  const char *text, struct ovl_prefix *subnet)
{
	uint64_t number;

	if (!text || !*text || ovl_prefix_parse(text, subnet) < 0)
		return ctx_fail(ctx, -EINVAL, "reservation: needs the %s subnet to reserve",
				index->name);
	ovl_prefix_mask(subnet);
	if (!fits(index, subnet, &number))
		return ctx_fail(ctx, -EINVAL, "reservation: %s is not a subnet of the "
				"configured length between SubnetMin and SubnetMax", text);
	if (!is_free(index, number))
		return ctx_fail(ctx, -EEXIST, "reservation: %s is leased to another node",
				text);
	return 0;
}

/* Picks one family's subnet: preferred, then our expired lease's, then a
 * random free one; or with a reservation, exactly the requested one. */
static int choose_family(struct ovl_ctx *ctx, const struct family_index *index,
			 const char *preferred, const struct ovl_prefix *old,
			 int reserve, struct ovl_prefix *subnet)
{
	uint64_t number;

	if (reserve)
		return require_subnet(ctx, index, preferred, subnet);
	if (preferred_free(index, preferred, subnet))
		return 0;
	if (old && fits(index, old, &number) && is_free(index, number)) {
		*subnet = *old;
		return 0;
	}
	return pick_free(ctx, index, subnet);
}

static void build_index(struct family_index *index, const struct lease_claim *const *existing,
			size_t count, int64_t now, long skip)
{
	struct ovl_prefix subnet;
	size_t i;

	index->existing = existing;
	index->count = count;
	index->now = now;
	index->skip = skip;
	for (i = 0; i < count; i++) {
		if (lease_claim_subnet(existing[i], index->family, &subnet) && (long)i != skip &&
		    !claim_expired(existing[i], now))
			mark_used(index, &subnet);
	}
}

/* With a reservation of named subnets, our lease counts as ours only when
 * it already holds exactly those. */
static int holds_requested(const struct lease_claim *claim,
			   const struct ovl_lease_request *request)
{
	const char *preferred[2] = { request->preferred_subnet, request->preferred_ipv6_subnet };
	static const int families[2] = { AF_INET, AF_INET6 };
	struct ovl_prefix want, subnet;
	int i;

	for (i = 0; i < 2; i++)
		if (lease_claim_subnet(claim, families[i], &subnet) &&
		    (!preferred[i] || ovl_prefix_parse(preferred[i], &want) < 0 ||
		     (ovl_prefix_mask(&want), !ovl_prefix_equal(&want, &subnet))))
			return 0;
	return 1;
}

int lease_choose_claims(struct ovl_ctx *ctx, const struct ovl_config *config,
			const struct lease_claim *const *existing, size_t count,
			const struct ovl_lease_request *request, int64_t now,
			struct ovl_lease **chosen, long *dropped)
{
	struct family_index v4_index = { 0 }, v6_index = { 0 }, *v4 = NULL, *v6 = NULL;
	struct ovl_prefix subnet4, subnet6, own4, own6, old4, old6;
	const struct lease_claim *own, *old;
	int own_has4 = 0, old_has4 = 0, old_has6 = 0;
	char own_text[OVL_PREFIX_STRLEN];
	int reserve = !!(request->flags & OVL_LEASE_RESERVE);
	struct wanted want = { 0 };
	long own_index, old_index;
	int err = 0;

	*chosen = NULL;
	if (dropped)
		*dropped = -1;
	if (ovl_config_family_enabled(config, AF_INET)) {
		v4 = &v4_index;
		err = family_setup(ctx, config, AF_INET, v4);
	}
	if (!err && ovl_config_family_enabled(config, AF_INET6)) {
		v6 = &v6_index;
		err = family_setup(ctx, config, AF_INET6, v6);
	}
	if (!err && !v4 && !v6)
		err = ctx_fail(ctx, -EINVAL, "config: neither IPv4 nor IPv6 is enabled");
	if (!err)
		err = check_request(ctx, config, request, now, &want);
	if (err < 0)
		goto out;

	find_own(existing, count, &want, now, &own_index, &old_index);
	own = own_index >= 0 ? existing[own_index] : NULL;
	old = old_index >= 0 ? existing[old_index] : NULL;
	if (own) {
		own_has4 = lease_claim_subnet(own, AF_INET, &own4);
		lease_claim_subnet(own, AF_INET6, &own6);
	}
	if (old) {
		old_has4 = lease_claim_subnet(old, AF_INET, &old4);
		old_has6 = lease_claim_subnet(old, AF_INET6, &old6);
	}
	if (own && lease_fits(v4, v6, own) && (!reserve || holds_requested(own, request))) {
		/* reuse: a reservation stays one */
		err = make_chosen(&want, v4 ? &own4 : NULL, v6 ? &own6 : NULL,
				  own->expiration ? want.expiration : 0, chosen);
		goto out;
	}
	if (own) {
		ovl_prefix_format(own_has4 ? &own4 : &own6, own_text, sizeof(own_text));
		ctx_log(ctx, OVL_LOG_INFO, "lease of %s no longer fits the config%s; "
			"dropping it", own_text, reserve ? " or the reservation" : "");
		if (dropped)
			*dropped = own_index;
	}
	if (v4) {
		build_index(v4, existing, count, now, own_index);
		err = choose_family(ctx, v4, request->preferred_subnet,
				    old_has4 ? &old4 : NULL, reserve, &subnet4);
	}
	if (!err && v6) {
		build_index(v6, existing, count, now, own_index);
		err = choose_family(ctx, v6, request->preferred_ipv6_subnet,
				    old_has6 ? &old6 : NULL, reserve, &subnet6);
	}
	if (!err)
		err = make_chosen(&want, v4 ? &subnet4 : NULL, v6 ? &subnet6 : NULL,
				  want.expiration, chosen);
out:
	if (err < 0 && dropped)
		*dropped = -1;
	free(v4_index.bitmap);
	free(v6_index.bitmap);
	free(want.backend_data);
	free(want.backend_v6_data);
	return err;
}

int lease_choose(struct ovl_ctx *ctx, const struct ovl_config *config,
		 struct ovl_lease *const *existing, size_t count,
		 const struct ovl_lease_request *request, int64_t now,
		 struct ovl_lease **chosen, long *dropped)
{
	struct lease_claim *claims = calloc(count ? count : 1, sizeof(*claims));
	const struct lease_claim **pointers = calloc(count ? count : 1, sizeof(*pointers));
	size_t i;
	int err = -ENOMEM;

	*chosen = NULL;
	if (dropped)
		*dropped = -1;
	if (claims && pointers) {
		for (i = 0; i < count; i++) {
			lease_claim_of(existing[i], &claims[i]);
			pointers[i] = &claims[i];
		}
		err = lease_choose_claims(ctx, config, pointers, count, request, now, chosen,
					  dropped);
	}
	free(claims);
	free(pointers);
	return err;
}
