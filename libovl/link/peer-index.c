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

/* The last step of murmur3's 32-bit hash: every input bit reaches the low
 * bits a slot number is taken from. */
static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ h >> 16;
}

uint32_t peer_hash(uint32_t seed, const void *data, size_t len)
{
	const unsigned char *byte = data;
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ byte[i]) * 16777619u;
	return mix(h);
}

uint32_t peer_hash_prefix(const struct ovl_prefix *p)
{
	return peer_hash((uint32_t)p->family << 8 | p->len, p->addr, addr_len(p->family));
}

uint32_t peer_hash_mac(const unsigned char mac[6])
{
	return peer_hash(1, mac, 6);
}

uint32_t peer_hash_id(uint32_t id)
{
	return peer_hash(2, &id, sizeof(id));
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

void table_free(struct table *t)
{
	free(t->items);
	hash_index_free(&t->index);
	memset(t, 0, sizeof(*t));
}
