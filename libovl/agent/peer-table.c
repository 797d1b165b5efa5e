/*
 * peer-table.c - the agent's table of other nodes' lease records: a dense
 * array (what every kernel sync walks) indexed by an open-addressing hash
 * of the lease key, so that one store event costs the same at 10,000 peers
 * as at 10 and a full resync stays linear.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/node.h"

#define MIN_SLOTS 64

/* FNV-1a: lease keys are short and differ in their last bytes. */
static size_t key_hash(const char *key)
{
	uint64_t hash = 0xcbf29ce484222325ull;

	for (; *key; key++)
		hash = (hash ^ (unsigned char)*key) * 0x100000001b3ull;
	return (size_t)(hash ^ hash >> 32);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct peer_table *table, const char *key)
{
	size_t mask = table->nslots - 1, slot = key_hash(key) & mask;

	while (table->slots[slot] &&
	       strcmp(table->items[table->slots[slot] - 1].key, key))
		slot = (slot + 1) & mask;
	return slot;
}

struct node_peer *peer_table_find(const struct peer_table *table, const char *key)
{
	size_t slot;

	if (!table->count)
		return NULL;
	slot = slot_of(table, key);
	return table->slots[slot] ? &table->items[table->slots[slot] - 1] : NULL;
}

/* Keeps at least half the slots empty so that probes stay short: room
 * for count records. */
static int grow_index(struct peer_table *table, size_t count)
{
	size_t nslots = table->nslots ? table->nslots : MIN_SLOTS, i;
	size_t *slots;

	while (nslots < 2 * count)
		nslots *= 2;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(table->slots);
	table->slots = slots;
	table->nslots = nslots;
	for (i = 0; i < table->count; i++)
		table->slots[slot_of(table, table->items[i].key)] = i + 1;
	return 0;
}

int peer_table_reserve(struct peer_table *table, size_t count)
{
	struct node_peer *grown;

	if (2 * count > table->nslots && grow_index(table, count) < 0)
		return -ENOMEM;
	if (count <= table->size)
		return 0;
	grown = realloc(table->items, count * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	table->items = grown;
	table->size = count;
	return 0;
}

int peer_table_add(struct peer_table *table, const struct node_peer *peer, const char *key)
{
	struct node_peer *grown;
	char *copy;
	size_t size;

	if (2 * (table->count + 1) > table->nslots && grow_index(table, table->count + 1) < 0)
		return -ENOMEM;
	if (table->count == table->size) {
		size = table->size ? table->size * 2 : 16;
		grown = realloc(table->items, size * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		table->items = grown;
		table->size = size;
	}
	copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	table->items[table->count] = *peer;
	table->items[table->count].key = copy;
	table->count++;
	table->slots[slot_of(table, copy)] = table->count;
	return 0;
}

/* Empties a slot without breaking the probe chains that pass through it
 * (backward-shift deletion: no tombstones to pile up). */
static void empty_slot(struct peer_table *table, size_t hole)
{
	size_t mask = table->nslots - 1, next = hole, home;

	table->slots[hole] = 0;
	for (;;) {
		next = (next + 1) & mask;
		if (!table->slots[next])
			return;
		home = key_hash(table->items[table->slots[next] - 1].key) & mask;
		/* The entry may move to the hole unless its home lies
		 * cyclically in (hole, next]. */
		if (hole < next ? home > hole && home <= next : home > hole || home <= next)
			continue;
		table->slots[hole] = table->slots[next];
		table->slots[next] = 0;
		hole = next;
	}
}

void peer_table_remove(struct peer_table *table, struct node_peer *peer)
{
	size_t at = (size_t)(peer - table->items), last = table->count - 1;

	empty_slot(table, slot_of(table, peer->key));
	free(peer->key);
	if (at != last) {
		/* The last record fills the gap: its slot follows it. */
		table->slots[slot_of(table, table->items[last].key)] = at + 1;
		table->items[at] = table->items[last];
	}
	table->count--;
}

void peer_table_clear(struct peer_table *table)
{
	size_t i;

	for (i = 0; i < table->count; i++)
		free(table->items[i].key);
	free(table->items);
	free(table->slots);
	memset(table, 0, sizeof(*table));
}
