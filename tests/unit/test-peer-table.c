/*
 * test-peer-table.c - unit tests of peer-table.c: the agent's peers by
 * lease key stay findable through adds, removals (which move the last
 * record and shift probe chains) and growth, against a plain model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "agent/node.h"

#define MODEL_KEYS 5000

static void key_of(unsigned int i, char *key, size_t size)
{
	snprintf(key, size, "10.%u.%u.0-24", i >> 8 & 255, i & 255);
}

/* Every key the model holds is found with its own record, no other is. */
static void check_against(const struct peer_table *table, const unsigned char *present)
{
	const struct node_peer *peer;
	size_t count = 0, i;
	char key[32];

	for (i = 0; i < MODEL_KEYS; i++) {
		key_of((unsigned int)i, key, sizeof(key));
		peer = peer_table_find(table, key);
		if (present[i]) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(peer);
			CU_ASSERT_STRING_EQUAL(peer->key, key);
			CU_ASSERT_EQUAL(peer->valid, (int)i);
			count++;
		} else {
			CU_ASSERT_PTR_NULL(peer);
		}
	}
	CU_ASSERT_EQUAL(table->count, count);
	CU_ASSERT(2 * table->count <= table->nslots || !table->count);
}

static void test_add_find_remove(void)
{
	struct peer_table table = { 0 };
	struct node_peer peer = { 0 };

	CU_ASSERT_PTR_NULL(peer_table_find(&table, "10.244.1.0-24"));
	peer.valid = 1;
	CU_ASSERT_EQUAL(peer_table_add(&table, &peer, "10.244.1.0-24"), 0);
	peer.valid = 2;
	CU_ASSERT_EQUAL(peer_table_add(&table, &peer, "10.244.2.0-24"), 0);
	CU_ASSERT_EQUAL(peer_table_find(&table, "10.244.1.0-24")->valid, 1);
	CU_ASSERT_EQUAL(peer_table_find(&table, "10.244.2.0-24")->valid, 2);
	peer_table_remove(&table, peer_table_find(&table, "10.244.1.0-24"));
	CU_ASSERT_PTR_NULL(peer_table_find(&table, "10.244.1.0-24"));
	CU_ASSERT_EQUAL(peer_table_find(&table, "10.244.2.0-24")->valid, 2);
	CU_ASSERT_EQUAL(table.count, 1);
	peer_table_clear(&table);
	CU_ASSERT_EQUAL(table.count, 0);
	CU_ASSERT_PTR_NULL(peer_table_find(&table, "10.244.2.0-24"));
}

/* Random adds and removals, checked against the model every so often. */
static void test_random_against_model(void)
{
	static unsigned char present[MODEL_KEYS];
	struct peer_table table = { 0 };
	struct node_peer peer = { 0 };
	unsigned int seed = 12345, i, n;
	char key[32];

	memset(present, 0, sizeof(present));
	for (n = 0; n < 40000; n++) {
		i = (unsigned int)rand_r(&seed) % MODEL_KEYS;
		key_of(i, key, sizeof(key));
		if (present[i]) {
			peer_table_remove(&table, peer_table_find(&table, key));
			present[i] = 0;
		} else {
			peer.valid = (int)i;
			CU_ASSERT_EQUAL_FATAL(peer_table_add(&table, &peer, key), 0);
			present[i] = 1;
		}
		if (n % 4000 == 0)
			check_against(&table, present);
	}
	check_against(&table, present);
	/* Emptied one by one: every removal keeps the rest findable. */
	for (i = 0; i < MODEL_KEYS; i++) {
		if (!present[i])
			continue;
		key_of(i, key, sizeof(key));
		peer_table_remove(&table, peer_table_find(&table, key));
		present[i] = 0;
		if (i % 500 == 0)
			check_against(&table, present);
	}
	CU_ASSERT_EQUAL(table.count, 0);
	peer_table_clear(&table);
}

/* Linear, not quadratic: 100,000 adds and finds in well under a second. */
static void test_large_table_is_fast(void)
{
	struct peer_table table = { 0 };
	struct node_peer peer = { 0 };
	struct timespec start, end;
	unsigned int i;
	char key[32];
	double seconds;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "10.%u.%u.0-24", i >> 8, i & 255);
		CU_ASSERT_EQUAL_FATAL(peer_table_add(&table, &peer, key), 0);
	}
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "10.%u.%u.0-24", i >> 8, i & 255);
		CU_ASSERT_PTR_NOT_NULL_FATAL(peer_table_find(&table, key));
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	CU_ASSERT(seconds < 1.0);
	peer_table_clear(&table);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "add, find, remove", test_add_find_remove },
		{ "random adds and removals match a model", test_random_against_model },
		{ "100,000 peers in linear time", test_large_table_is_fast },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("peer-table", tests);
}
