/*
 * peer-index.c - the tables a sync works on (the view's dumps, the plans)
 * and their hash indexes: every lookup of a diff costs the same at 10,000
 * peers as at 10, where sorting each table and searching it took more time
 * than the kernel's dumps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/peer.h"

#define MIN_SLOTS 64

/* The last step of murmur3's 64-bit hash: every input bit reaches the low
 * bits a slot number is taken from.  Keys are a few machine words, read
 * whole: hashing them byte by byte cost more than the lookups' misses. */
static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ h >> 33);
}

/* Kinds of key, so that equal bits of different kinds hash apart. */
enum { KEY_PREFIX = 1, KEY_MAC, KEY_ID };

uint32_t peer_hash_prefix(const struct ovl_prefix *p)
{
	uint64_t high, low, tag = (uint64_t)KEY_PREFIX << 56 | (uint64_t)(p->len & 0xff) << 48 |
				  (uint64_t)(p->family & 0xff) << 40;
	uint32_t v4;

	/* Only the bytes of the family count (peer_prefix_cmp). */
	if (p->family != AF_INET6) {
		memcpy(&v4, p->addr, 4);
		return mix(tag | v4);
	}
	memcpy(&high, p->addr, 8);
	memcpy(&low, p->addr + 8, 8);
	return mix((uint64_t)mix(high ^ tag) << 32 ^ low);
}

uint32_t peer_hash_mac(const unsigned char mac[6])
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	return mix((uint64_t)KEY_MAC << 56 | v);
}

uint32_t peer_hash_id(uint32_t id)
{
	return mix((uint64_t)KEY_ID << 56 | id);
}

int table_reserve(struct table *t, size_t count)
{
	void *grown;

	if (count <= t->capacity)
		return 0;
	grown = realloc(t->items, count * t->size);
	if (!grown)
		return -ENOMEM;
	t->items = grown;
	t->capacity = count;
	return 0;
}

void *table_add(struct table *t)
{
	void *grown;

	if (t->count == t->capacity) {
		grown = realloc(t->items, (t->capacity * 2 + 64) * t->size);
		if (!grown)
			return NULL;
		t->items = grown;
		t->capacity = t->capacity * 2 + 64;
	}
	memset((char *)t->items + t->count * t->size, 0, t->size);
	return (char *)t->items + t->count++ * t->size;
}

/* Empties x, sized for count items: at least a third of its slots stay
 * empty, so that probes are short (1.3 slots for a hit at that load). */
int hash_index_reset(struct hash_index *x, size_t count)
{
	size_t slots = MIN_SLOTS;
	struct hash_slot *fresh;

	while (slots < count + count / 2)
		slots *= 2;
	if (slots > x->capacity) {
		fresh = malloc(slots * sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
		free(x->slots);
		x->slots = fresh;
		x->capacity = slots;
	}
	memset(x->slots, 0, slots * sizeof(*x->slots));
	x->mask = slots - 1;
	x->count = 0;
	return 0;
}

void hash_index_put(struct hash_index *x, uint32_t hash, size_t item)
{
	size_t slot = hash & x->mask;

	while (x->slots[slot].item)
		slot = (slot + 1) & x->mask;
	x->slots[slot] = (struct hash_slot){ (uint32_t)item + 1, hash };
	x->count++;
}

void *hash_index_next(const struct hash_index *x, const struct table *t, uint32_t hash,
		      size_t *cursor)
{
	const struct hash_slot *s;

	if (!x->count)
		return NULL;
	if (*cursor == HASH_START)
		*cursor = hash & x->mask;
	for (s = &x->slots[*cursor]; s->item; s = &x->slots[*cursor]) {
		*cursor = (*cursor + 1) & x->mask;
		if (s->hash == hash)
			return (char *)t->items + (s->item - 1) * t->size;
	}
	return NULL;
}

void *hash_index_find(const struct hash_index *x, const struct table *t, uint32_t hash,
		      int (*same)(const void *item, const void *key), const void *key)
{
	size_t cursor = HASH_START;
	void *item;

	while ((item = hash_index_next(x, t, hash, &cursor)))
		if (same(item, key))
			return item;
	return NULL;
}

void hash_index_free(struct hash_index *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}

int table_index(struct table *t, uint32_t (*hash)(const void *item))
{
	size_t i;

	if (hash_index_reset(&t->index, t->count) < 0)
		return -ENOMEM;
	for (i = 0; i < t->count; i++)
		hash_index_put(&t->index, hash((char *)t->items + i * t->size), i);
	return 0;
}

void *table_find(const struct table *t, uint32_t hash,
		 int (*same)(const void *item, const void *key), const void *key)
{
	return hash_index_find(&t->index, t, hash, same, key);
}

void lookup_batch_add(struct lookup_batch *b, const struct hash_index *x, uint32_t hash,
		      const void *key)
{
	if (x->count)
		__builtin_prefetch(&x->slots[hash & x->mask]);
	b->hash[b->count] = hash;
	b->key[b->count++] = key;
}

void lookup_batch_resolve(struct lookup_batch *b, const struct hash_index *x,
			  const struct table *t, int (*same)(const void *item, const void *key))
{
	size_t i, cursor;

	/* First the items the slots name (their memory fetched together),
	 * then the keys compared; a hash shared by other keys is looked up
	 * again in full. */
	for (i = 0; i < b->count; i++) {
		cursor = HASH_START;
		b->found[i] = hash_index_next(x, t, b->hash[i], &cursor);
		if (b->found[i])
			__builtin_prefetch(b->found[i]);
	}
	for (i = 0; i < b->count; i++)
		if (b->found[i] && !same(b->found[i], b->key[i]))
			b->found[i] = hash_index_find(x, t, b->hash[i], same, b->key[i]);
}

void table_free(struct table *t)
{
	free(t->items);
	hash_index_free(&t->index);
	memset(t, 0, sizeof(*t));
}
