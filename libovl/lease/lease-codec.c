/*
 * lease-codec.c - the lease record's two encodings: flannel's subnet key
 * ("10.244.3.0-24&fd00::-64") and the LeaseAttrs JSON every store keeps,
 * read with the validation a record from another process deserves.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "lease/lease.h"

/* ---- the key ------------------------------------------------------------ */

static int format_part(const struct ovl_prefix *subnet, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (ovl_addr_format(subnet, addr, sizeof(addr)) < 0)
		return -EINVAL;
	n = snprintf(buf, size, "%s-%u", addr, subnet->len);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int lease_key_format(const struct ovl_lease *lease, char *buf, size_t size)
{
	int n = 0, m;

	if (!lease->has_ipv4 && !lease->has_ipv6)
		return -EINVAL;
	if (lease->has_ipv4) {
		n = format_part(&lease->subnet, buf, size);
		if (n < 0)
			return n;
	}
	if (lease->has_ipv6) {
		if (lease->has_ipv4) {
			if ((size_t)n + 1 >= size)
				return -ENOSPC;
			buf[n++] = '&';
		}
		m = format_part(&lease->ipv6_subnet, buf + n, size - n);
		if (m < 0)
			return m;
		n += m;
	}
	return n;
}

/* "addr-len" of the given family, aligned. */
static int parse_part(const char *text, size_t length, int family,
		      struct ovl_prefix *subnet)
{
	char buf[OVL_PREFIX_STRLEN];
	char *dash;

	if (length == 0 || length >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, length);
	buf[length] = '\0';
	dash = strrchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '/';
	if (ovl_prefix_parse(buf, subnet) < 0 || subnet->family != family ||
	    !ovl_prefix_is_aligned(subnet))
		return -EINVAL;
	return 0;
}

/* Sets lease's subnets (NULL: none) and clears their texts. */
static void key_set_subnets(struct ovl_lease *lease, const struct ovl_prefix *subnet,
			    const struct ovl_prefix *ipv6_subnet)
{
	static const struct ovl_prefix none;

	lease->has_ipv4 = subnet != NULL;
	lease->has_ipv6 = ipv6_subnet != NULL;
	lease->subnet = subnet ? *subnet : none;
	lease->ipv6_subnet = ipv6_subnet ? *ipv6_subnet : none;
	lease->subnet_text[0] = lease->ipv6_subnet_text[0] = '\0';
}

/* Any key: each part through ovl_prefix_parse, then the canonical round
 * trip.  Every refused key ends here, so this alone words the errors. */
static int key_parse_general(struct ovl_ctx *ctx, const char *key,
			     struct ovl_lease *lease)
{
	const char *amp = strchr(key, '&');
	size_t first = amp ? (size_t)(amp - key) : strlen(key);
	struct ovl_lease parsed = { 0 };
	int err;

	if (!amp && memchr(key, ':', first)) {
		parsed.has_ipv6 = 1;
		err = parse_part(key, first, AF_INET6, &parsed.ipv6_subnet);
	} else {
		parsed.has_ipv4 = 1;
		err = parse_part(key, first, AF_INET, &parsed.subnet);
		if (!err && amp) {
			parsed.has_ipv6 = 1;
			err = parse_part(amp + 1, strlen(amp + 1), AF_INET6,
					 &parsed.ipv6_subnet);
		}
	}
	if (err < 0)
		return ctx_fail(ctx, -EINVAL, "lease key '%s': not a subnet key like "
				"10.244.3.0-24 or 10.244.3.0-24&fd00::-64", key);
	if (lease_key_format(&parsed, parsed.key, sizeof(parsed.key)) < 0 ||
	    strcmp(parsed.key, key))
		return ctx_fail(ctx, -EINVAL, "lease key '%s': not in canonical form "
				"(want '%s')", key, parsed.key);
	key_set_subnets(lease, parsed.has_ipv4 ? &parsed.subnet : NULL,
			parsed.has_ipv6 ? &parsed.ipv6_subnet : NULL);
	if (lease->has_ipv4)
		ovl_prefix_format(&lease->subnet, lease->subnet_text,
				  sizeof(lease->subnet_text));
	if (lease->has_ipv6)
		ovl_prefix_format(&lease->ipv6_subnet, lease->ipv6_subnet_text,
				  sizeof(lease->ipv6_subnet_text));
	memcpy(lease->key, parsed.key, sizeof(lease->key));
	return 0;
}

/* A decimal of at most max at text, its end in *end; -1 when there is
 * none.  A leading zero ends the number ("024" reads as 0 followed by "24"),
 * so the caller's separator check refuses it the way inet_pton and
 * ovl_prefix_parse do. */
static int parse_decimal(const char *text, unsigned int max, const char **end)
{
	const char *p = text;
	unsigned int value = 0;

	if (*p == '0') {
		*end = p + 1;
		return 0;
	}
	while (*p >= '0' && *p <= '9') {
		value = value * 10 + (unsigned int)(*p++ - '0');
		if (value > max)
			return -1;
	}
	*end = p;
	return p == text ? -1 : (int)value;
}

/* "a.b.c.d-len", aligned, with *dash set to its '-'; else -EINVAL.  For
 * IPv4, inet_pton and parse_len are strict enough that every key they take
 * is canonical, so this takes exactly the IPv4-only keys the general path
 * takes. */
static int parse_ipv4_key(const char *key, struct ovl_prefix *subnet,
			  const char **dash)
{
	static const char separators[4] = { '.', '.', '.', '-' };
	struct ovl_prefix parsed = { .family = AF_INET };
	const char *p = key;
	int i, value;

	for (i = 0; i < 4; i++) {
		value = parse_decimal(p, 255, &p);
		if (value < 0 || *p++ != separators[i])
			return -EINVAL;
		parsed.addr[i] = (unsigned char)value;
	}
	*dash = p - 1;
	value = parse_decimal(p, 32, &p);
	if (value < 0 || *p)
		return -EINVAL;
	parsed.len = (unsigned int)value;
	if (!ovl_prefix_is_aligned(&parsed))
		return -EINVAL;
	*subnet = parsed;
	return 0;
}

/* The common IPv4-only key without inet_pton, inet_ntop and snprintf: the
 * key is its own canonical form, and its subnet text only swaps '-' for
 * '/'.  Refuses (without an error message) whatever it does not take. */
static int key_parse_ipv4(const char *key, struct ovl_lease *lease)
{
	struct ovl_prefix subnet;
	const char *dash;
	size_t size;

	if (parse_ipv4_key(key, &subnet, &dash) < 0)
		return -EINVAL;
	key_set_subnets(lease, &subnet, NULL);
	size = strlen(key) + 1;
	memmove(lease->key, key, size);	/* key may be lease->key */
	memcpy(lease->subnet_text, key, size);
	lease->subnet_text[dash - key] = '/';
	return 0;
}

int lease_key_parse(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease)
{
	/* a cold file-store open parses every key: the fast path takes the
	 * valid IPv4-only ones, the general path the rest and all errors */
	if (!key_parse_ipv4(key, lease))
		return 0;
	return key_parse_general(ctx, key, lease);
}

/* ---- LeaseAttrs ------------------------------------------------------------ */

static int set_new(json_t *object, const char *name, json_t *value)
{
	return value ? json_object_set_new(object, name, value) : -1;
}

static int set_string(json_t *object, const char *name, const char *text)
{
	return text ? set_new(object, name, json_string(text)) : 0;
}

static int set_raw(json_t *object, const char *name, const char *text)
{
	return text ? set_new(object, name, json_loads(text, JSON_DECODE_ANY, NULL)) : 0;
}

json_t *lease_attrs_to_object(const struct ovl_lease *lease)
{
	json_t *object = json_object();

	if (!object)
		return NULL;
	if (set_string(object, "PublicIP", lease->public_ip) ||
	    set_string(object, "PublicIPv6", lease->public_ipv6) ||
	    set_string(object, "BackendType", lease->backend_type) ||
	    set_raw(object, "BackendData", lease->backend_data) ||
	    set_raw(object, "BackendV6Data", lease->backend_v6_data) ||
	    set_string(object, "NodeName", lease->node_name)) {
		json_decref(object);
		return NULL;
	}
	return object;
}

char *lease_attrs_to_json(const struct ovl_lease *lease)
{
	json_t *object = lease_attrs_to_object(lease);
	char *text;

	if (!object)
		return NULL;
	text = json_dumps(object, JSON_COMPACT);
	json_decref(object);
	return text;
}

/* The LeaseAttrs fields a member can set. */
#define FIELD(name, field) { name, sizeof(name) - 1, field }
static const struct {
	const char *name;
	size_t length;
	enum lease_field field;
} fields[] = {
	FIELD("PublicIP", LEASE_PUBLIC_IP), FIELD("PublicIPv6", LEASE_PUBLIC_IPV6),
	FIELD("BackendType", LEASE_BACKEND_TYPE), FIELD("BackendData", LEASE_BACKEND_DATA),
	FIELD("BackendV6Data", LEASE_BACKEND_V6_DATA), FIELD("NodeName", LEASE_NODE_NAME),
	FIELD("Expiration", LEASE_EXPIRATION),
};
#undef FIELD

static int check_string(struct ovl_ctx *ctx, const char *key, const struct lease_member *member,
			struct lease_member_value *value)
{
	if (member->type == MEMBER_NULL)
		return 0;
	if (member->type != MEMBER_STRING)
		return ctx_fail(ctx, -EINVAL, "lease %s: %s: expected a string, got %s",
				key, member->name, member->type_text);
	value->present = member->length > 0;
	return 0;
}

/* "0.0.0.0" (what flannel writes for an IPv4 it does not have) counts as
 * absent. */
static int check_address(struct ovl_ctx *ctx, const char *key, const struct lease_member *member,
			 int family, struct lease_member_value *value)
{
	char text[INET6_ADDRSTRLEN + 1];
	int err = check_string(ctx, key, member, value);

	if (err < 0 || !value->present)
		return err;
	if (member->length >= sizeof(text) ||
	    (memcpy(text, member->text, member->length), text[member->length] = '\0',
	     ovl_addr_parse(text, &value->address) < 0) ||
	    value->address.family != family)
		return ctx_fail(ctx, -EINVAL, "lease %s: %s: '%.*s' is not an %s address",
				key, member->name, (int)member->length, member->text,
				family_name(family));
	value->present = family != AF_INET || memcmp(value->address.addr, "\0\0\0\0", 4);
	return 0;
}

static int check_object(struct ovl_ctx *ctx, const char *key, const struct lease_member *member,
			struct lease_member_value *value)
{
	if (member->type == MEMBER_NULL)
		return 0;
	if (member->type != MEMBER_OBJECT)
		return ctx_fail(ctx, -EINVAL, "lease %s: %s: expected an object, got %s",
				key, member->name, member->type_text);
	value->present = 1;
	return 0;
}

static int check_expiration(struct ovl_ctx *ctx, const char *key,
			    const struct lease_member *member, struct lease_member_value *value)
{
	if (member->type == MEMBER_NULL)
		return 0;
	if (member->type != MEMBER_INTEGER || member->integer < 0)
		return ctx_fail(ctx, -EINVAL, "lease %s: Expiration: expected unix "
				"seconds (an integer >= 0), got %s", key,
				member->type == MEMBER_INTEGER ? "a negative number" :
				member->type_text);
	value->present = 1;
	return 0;
}

int lease_member_check(struct ovl_ctx *ctx, const char *key, const struct lease_member *member,
		       struct lease_member_value *value)
{
	size_t i, length = strlen(member->name);

	memset(value, 0, sizeof(*value));
	/* the length first: a file store of 10,000 records asks 60,000 times.
	 * Names match without regard to ASCII case, as Go's encoding/json
	 * matches flanneld's LeaseAttrs fields ("publicIP", "backendType"). */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (length == fields[i].length && !strncasecmp(member->name, fields[i].name, length)) {
			value->field = fields[i].field;
			break;
		}
	switch (value->field) {
	case LEASE_PUBLIC_IP:
		return check_address(ctx, key, member, AF_INET, value);
	case LEASE_PUBLIC_IPV6:
		return check_address(ctx, key, member, AF_INET6, value);
	case LEASE_BACKEND_TYPE:
	case LEASE_NODE_NAME:
		return check_string(ctx, key, member, value);
	case LEASE_BACKEND_DATA:
	case LEASE_BACKEND_V6_DATA:
		return check_object(ctx, key, member, value);
	case LEASE_EXPIRATION:
		return check_expiration(ctx, key, member, value);
	default:
		return 0;
	}
}

/* The member's text in *out (replacing what was there), NULL when absent. */
static int store_text(char **out, const struct lease_member *member,
		      const struct lease_member_value *value)
{
	free(*out);
	*out = value->present ? strndup(member->text, member->length) : NULL;
	return value->present && !*out ? -ENOMEM : 0;
}

/* An address kept in canonical text. */
static int store_address(char **out, const struct lease_member_value *value)
{
	char text[INET6_ADDRSTRLEN];

	free(*out);
	*out = NULL;
	if (!value->present)
		return 0;
	ovl_addr_format(&value->address, text, sizeof(text));
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

int lease_member_read(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease,
		      const struct lease_member *member)
{
	struct lease_member_value value;
	int err = lease_member_check(ctx, key, member, &value);

	if (err < 0)
		return err;
	switch (value.field) {
	case LEASE_PUBLIC_IP:
		return store_address(&lease->public_ip, &value);
	case LEASE_PUBLIC_IPV6:
		return store_address(&lease->public_ipv6, &value);
	case LEASE_BACKEND_TYPE:
		return store_text(&lease->backend_type, member, &value);
	case LEASE_BACKEND_DATA:
		return store_text(&lease->backend_data, member, &value);
	case LEASE_BACKEND_V6_DATA:
		return store_text(&lease->backend_v6_data, member, &value);
	case LEASE_NODE_NAME:
		return store_text(&lease->node_name, member, &value);
	case LEASE_EXPIRATION:
		lease->expiration = value.present ? member->integer : 0;
		return 0;
	default:
		return 0;
	}
}

int lease_addresses_check(struct ovl_ctx *ctx, const char *key, int has_ipv4, int has_ipv6,
			  int has_public_ip, int has_public_ipv6)
{
	if (has_ipv4 && !has_public_ip)
		return ctx_fail(ctx, -EINVAL, "lease %s: an IPv4 subnet needs a PublicIP", key);
	if (has_ipv6 && !has_public_ipv6)
		return ctx_fail(ctx, -EINVAL, "lease %s: an IPv6 subnet needs a PublicIPv6", key);
	return 0;
}

int lease_members_check(struct ovl_ctx *ctx, const char *key, const struct ovl_lease *lease)
{
	return lease_addresses_check(ctx, key, lease->has_ipv4, lease->has_ipv6,
				     lease->public_ip != NULL, lease->public_ipv6 != NULL);
}

/* One member of a jansson object through lease_member_read. */
static int read_json_member(struct ovl_ctx *ctx, const char *key, struct ovl_lease *lease,
			    const char *name, const json_t *value)
{
	struct lease_member member = { .name = name, .type_text = ovl_json_type_text(value),
				       .type = MEMBER_OTHER };
	char *dumped = NULL;
	int err;

	if (json_is_null(value)) {
		member.type = MEMBER_NULL;
	} else if (json_is_string(value)) {
		member.type = MEMBER_STRING;
		member.text = json_string_value(value);
		member.length = strlen(member.text);
	} else if (json_is_integer(value)) {
		member.type = MEMBER_INTEGER;
		member.integer = json_integer_value(value);
	} else if (json_is_object(value)) {
		member.type = MEMBER_OBJECT;
		dumped = json_dumps(value, JSON_COMPACT);
		if (!dumped)
			return -ENOMEM;
		member.text = dumped;
		member.length = strlen(dumped);
	}
	err = lease_member_read(ctx, key, lease, &member);
	free(dumped);
	return err;
}

int lease_from_object(struct ovl_ctx *ctx, const char *key, const json_t *object,
		      struct ovl_lease **out)
{
	struct ovl_lease *lease;
	const char *name;
	json_t *value;
	int err;

	*out = NULL;
	lease = lease_new();
	if (!lease)
		return -ENOMEM;
	err = lease_key_parse(ctx, key, lease);
	if (!err && !json_is_object(object))
		err = ctx_fail(ctx, -EINVAL, "lease %s: expected an object, got %s",
			       key, ovl_json_type_text(object));
	if (!err)
		json_object_foreach((json_t *)object, name, value) {
			err = read_json_member(ctx, key, lease, name, value);
			if (err < 0)
				break;
		}
	if (!err)
		err = lease_members_check(ctx, key, lease);
	if (err < 0) {
		ovl_lease_free(lease);
		return err;
	}
	*out = lease;
	return 0;
}

int lease_from_json(struct ovl_ctx *ctx, const char *key, const char *json,
		    struct ovl_lease **lease)
{
	json_error_t error;
	json_t *object;
	int err;

	*lease = NULL;
	err = ovl_json_parse(json, strlen(json), 0, &object, &error);
	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return ctx_fail(ctx, err, "lease %s: not JSON: %s (column %d)",
				key, error.text, error.column);
	err = lease_from_object(ctx, key, object, lease);
	json_decref(object);
	return err;
}
