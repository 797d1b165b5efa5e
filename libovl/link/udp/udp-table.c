/*
 * udp-table.c - the UDP backend's peer table (peer subnet -> underlay
 * address) and the ovl_peer_* calls on a UDP link, which change it under
 * the link's lock while the forwarding thread reads it.
 *
 * flannel keeps a list searched linearly with move-to-front; here a hash
 * table on (subnet, length) answers a lookup in one probe per prefix
 * length in use, so 10,000 peers cost what 10 do.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/internal.h"
#include "link/udp/udp.h"

#define MIN_SLOTS 64

static uint32_t mask_of(unsigned int len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

static size_t hash(uint32_t net, unsigned int len)
{
	uint64_t h = ((uint64_t)net << 6 | len) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32);
}

void udp_table_init(struct udp_table *t)
{
	memset(t, 0, sizeof(*t));
}

void udp_table_free(struct udp_table *t)
{
	free(t->slots);
	free(t->peers);
	udp_table_init(t);
}

/* Grows a table of size elements (mask + 1 slots) so that count + 1 stay
 * under half full; rehash re-inserts the old slots. */
static int grow(void **slots, size_t *mask, size_t count, size_t size,
		void (*rehash)(void *table, void *old, size_t old_slots), void *table)
{
	size_t old_slots = *slots ? *mask + 1 : 0, want = old_slots ? old_slots : MIN_SLOTS;
	void *old = *slots, *fresh;

	while ((count + 1) * 2 > want)
		want *= 2;
	if (want == old_slots)
		return 0;
	fresh = calloc(want, size);
	if (!fresh)
		return -ENOMEM;
	*slots = fresh;
	*mask = want - 1;
	rehash(table, old, old_slots);
	free(old);
	return 0;
}

static struct udp_route *route_slot(const struct udp_table *t, uint32_t net, unsigned int len)
{
	size_t i = hash(net, len) & t->mask;

	while (t->slots[i].len && (t->slots[i].net != net || t->slots[i].len != len))
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

static void route_rehash(void *table, void *old, size_t old_slots)
{
	struct udp_table *t = table;
	struct udp_route *routes = old;
	size_t i;

	for (i = 0; i < old_slots; i++)
		if (routes[i].len)
			*route_slot(t, routes[i].net, routes[i].len) = routes[i];
}

static struct udp_peer_ref *peer_slot(const struct udp_table *t, uint32_t addr)
{
	size_t i = hash(addr, 32) & t->peer_mask;

	while (t->peers[i].refs && t->peers[i].addr != addr)
		i = (i + 1) & t->peer_mask;
	return &t->peers[i];
}

static void peer_rehash(void *table, void *old, size_t old_slots)
{
	struct udp_table *t = table;
	struct udp_peer_ref *refs = old;
	size_t i;

	for (i = 0; i < old_slots; i++)
		if (refs[i].refs)
			*peer_slot(t, refs[i].addr) = refs[i];
}

/* Linear probing deletes by shifting later entries of the same run back,
 * so no tombstones slow down later lookups. */
#define SHIFT_DELETE(slots, mask, i, used, home)                                   \
	do {                                                                        \
		size_t hole = (i), j = (i), k;                                      \
		for (;;) {                                                          \
			j = (j + 1) & (mask);                                       \
			if (!(used))                                                \
				break;                                              \
			k = (home) & (mask);                                        \
			if ((hole <= j) ? (hole < k && k <= j) : (hole < k || k <= j)) \
				continue;                                           \
			(slots)[hole] = (slots)[j];                                 \
			hole = j;                                                   \
		}                                                                   \
		memset(&(slots)[hole], 0, sizeof((slots)[hole]));                  \
	} while (0)

static void peer_unref(struct udp_table *t, uint32_t addr)
{
	struct udp_peer_ref *p = peer_slot(t, addr);
	size_t i = (size_t)(p - t->peers);

	if (!p->refs || --p->refs)
		return;
	SHIFT_DELETE(t->peers, t->peer_mask, i, t->peers[j].refs, hash(t->peers[j].addr, 32));
	t->peer_count--;
}

static int peer_ref(struct udp_table *t, uint32_t addr)
{
	struct udp_peer_ref *p;

	if (grow((void **)&t->peers, &t->peer_mask, t->peer_count, sizeof(*t->peers), peer_rehash,
		 t) < 0)
		return -ENOMEM;
	p = peer_slot(t, addr);
	if (!p->refs) {
		p->addr = addr;
		t->peer_count++;
	}
	p->refs++;
	return 0;
}

int udp_table_set(struct udp_table *t, uint32_t net, unsigned int len, uint32_t peer)
{
	struct udp_route *r;

	if (grow((void **)&t->slots, &t->mask, t->count, sizeof(*t->slots), route_rehash, t) < 0 ||
	    peer_ref(t, peer) < 0)
		return -ENOMEM;
	r = route_slot(t, net, len);
	if (r->len) {
		peer_unref(t, r->peer);
	} else {
		r->net = net;
		r->len = (uint8_t)len;
		t->count++;
		t->len_count[len]++;
	}
	r->peer = peer;
	return 0;
}

int udp_table_del(struct udp_table *t, uint32_t net, unsigned int len)
{
	struct udp_route *r;
	size_t i;

	if (!t->count)
		return 0;
	r = route_slot(t, net, len);
	if (!r->len)
		return 0;
	peer_unref(t, r->peer);
	i = (size_t)(r - t->slots);
	SHIFT_DELETE(t->slots, t->mask, i, t->slots[j].len, hash(t->slots[j].net, t->slots[j].len));
	t->count--;
	t->len_count[len]--;
	return 1;
}

const struct udp_route *udp_table_lookup(const struct udp_table *t, uint32_t addr)
{
	const struct udp_route *r;
	unsigned int len;

	if (!t->count)
		return NULL;
	for (len = 32; len > 0; len--) {
		if (!t->len_count[len])
			continue;
		r = route_slot(t, addr & mask_of(len), len);
		if (r->len)
			return r;
	}
	return NULL;
}

int udp_table_has_peer(const struct udp_table *t, uint32_t addr)
{
	return t->peer_count && peer_slot(t, addr)->refs != 0;
}

/* ---- the ovl_peer_* calls on a UDP link ------------------------------ */

struct parsed_peer {
	uint32_t net;
	unsigned int len;
	uint32_t addr;
};

static uint32_t host_order(const struct ovl_prefix *p)
{
	uint32_t v;

	memcpy(&v, p->addr, 4);
	return ntohl(v);
}

/* with_ip: the public IP is required. */
static int parse_peer(struct ovl_link *link, const struct ovl_peer *peer, int with_ip,
		      struct parsed_peer *out)
{
	struct ovl_prefix subnet, ip;

	if (!peer->subnet || ovl_prefix_parse(peer->subnet, &subnet) < 0 ||
	    subnet.family != AF_INET || !ovl_prefix_is_aligned(&subnet) || !subnet.len)
		return ctx_fail(link->ctx, -EINVAL, "peer: subnet '%s' is not an aligned IPv4 prefix",
				peer->subnet ? peer->subnet : "(none)");
	if (!ovl_prefix_contains(&link->network, &subnet))
		return ctx_fail(link->ctx, -EINVAL, "peer %s: not inside the network of %s",
				peer->subnet, link->name);
	if (ovl_prefix_overlaps(&link->subnet, &subnet))
		return ctx_fail(link->ctx, -EINVAL, "peer %s: overlaps our own subnet",
				peer->subnet);
	out->net = host_order(&subnet);
	out->len = subnet.len;
	out->addr = 0;
	if (!with_ip && !peer->public_ip)
		return 0;
	if (!peer->public_ip || ovl_addr_parse(peer->public_ip, &ip) < 0 ||
	    ip.family != AF_INET || !addr_is_endpoint(&ip))
		return ctx_fail(link->ctx, -EINVAL, "peer %s: public IP '%s' is not a unicast IPv4 address",
				peer->subnet, peer->public_ip ? peer->public_ip : "(none)");
	out->addr = host_order(&ip);
	return 0;
}

int udp_peer_add(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct udp_link *u = udp_of(link);
	struct parsed_peer p;
	int err;

	err = parse_peer(link, peer, 1, &p);
	if (err < 0)
		return err;
	pthread_rwlock_wrlock(&u->lock);
	err = udp_table_set(&u->table, p.net, p.len, p.addr);
	pthread_rwlock_unlock(&u->lock);
	return err < 0 ? ctx_fail(link->ctx, err, "out of memory") : 0;
}

int udp_peer_del(struct ovl_link *link, const struct ovl_peer *peer)
{
	struct udp_link *u = udp_of(link);
	struct parsed_peer p;
	int err;

	err = parse_peer(link, peer, 0, &p);
	if (err < 0)
		return err;
	pthread_rwlock_wrlock(&u->lock);
	udp_table_del(&u->table, p.net, p.len);
	pthread_rwlock_unlock(&u->lock);
	return 0;
}

/* A new table is built aside and swapped in: the forwarding thread sees
 * the old set or the new one, never a mix, and a failure changes nothing. */
int udp_peer_sync(struct ovl_link *link, const struct ovl_peer *peers, size_t count)
{
	struct udp_link *u = udp_of(link);
	struct udp_table fresh, old;
	struct parsed_peer p;
	size_t i;
	int err = 0;

	udp_table_init(&fresh);
	for (i = 0; i < count && !err; i++) {
		err = parse_peer(link, &peers[i], 1, &p);
		if (!err && udp_table_set(&fresh, p.net, p.len, p.addr) < 0)
			err = ctx_fail(link->ctx, -ENOMEM, "out of memory");
	}
	if (err < 0) {
		udp_table_free(&fresh);
		return err;
	}
	pthread_rwlock_wrlock(&u->lock);
	old = u->table;
	u->table = fresh;
	pthread_rwlock_unlock(&u->lock);
	ctx_log(link->ctx, OVL_LOG_DEBUG, "%s: %zu peers (had %zu)", link->name, fresh.count,
		old.count);
	udp_table_free(&old);
	return 0;
}

static char *format_addr(uint32_t addr, unsigned int len)
{
	struct ovl_prefix p = { .family = AF_INET, .len = len };
	char text[OVL_PREFIX_STRLEN];
	uint32_t n = htonl(addr);

	memcpy(p.addr, &n, 4);
	if ((len == 32 ? ovl_addr_format(&p, text, sizeof(text))
		       : ovl_prefix_format(&p, text, sizeof(text))) < 0)
		return NULL;
	return strdup(text);
}

int udp_peer_list(struct ovl_link *link, struct ovl_peer **peers, size_t *count)
{
	struct udp_link *u = udp_of(link);
	struct ovl_peer *list;
	size_t i, n = 0;
	int err = 0;

	pthread_rwlock_rdlock(&u->lock);
	list = calloc(u->table.count ? u->table.count : 1, sizeof(*list));
	for (i = 0; list && u->table.count && i <= u->table.mask && !err; i++) {
		const struct udp_route *r = &u->table.slots[i];

		if (!r->len)
			continue;
		list[n].subnet = format_addr(r->net, r->len);
		list[n].public_ip = format_addr(r->peer, 32);
		if (!list[n++].public_ip || !list[n - 1].subnet)
			err = -ENOMEM;
	}
	pthread_rwlock_unlock(&u->lock);
	if (!list || err) {
		ovl_peers_free(list, n);
		return ctx_fail(link->ctx, -ENOMEM, "out of memory");
	}
	*peers = list;
	*count = n;
	return 0;
}
