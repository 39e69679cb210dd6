/*
 * Unit tests of engine/hash: many keys, keys on both sides of the inline
 * limit, deletion that keeps every other key findable, a full table that
 * says so instead of aborting, and a hash whose values do not change
 * (by-key's file names and shard numbers are made from it).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "unit.h"

/* Add a key that must be new, with value num. */
static void
add_new(struct hash *m, const void *key, size_t len, long num)
{
	int added;

	hash_add(m, key, len, &added)->num = num;
	CHECK(added);
}

UNIT_TEST(many_keys)
{
	struct hash m;
	char key[32];
	int i, added;

	hash_init(&m, NULL);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "LN%010d", i);
		add_new(&m, key, strlen(key), i);
	}
	add_new(&m, "", 0, -1);
	CHECK_INT(m.n, ==, 100001);
	for (i = 0; i < 100000; i += 997) {
		snprintf(key, sizeof(key), "LN%010d", i);
		CHECK_INT(hash_find(&m, key, strlen(key))->num, ==, i);
	}
	CHECK_INT(hash_find(&m, "", 0)->num, ==, -1);
	CHECK(hash_find(&m, "LN", 2) == NULL);
	hash_add(&m, "LN0000000005", 12, &added);
	CHECK(!added);
	/* Entries stay in the order they were added. */
	CHECK_INT(m.entries[7].num, ==, 7);
	CHECK(!memcmp(hash_key(&m.entries[7]), "LN0000000007", 12));
	hash_release(&m);
}

/*
 * Key i of long_and_binary_keys into key (size bytes): i's bytes, then
 * 'k's, 5 to 94 bytes long in all.  Returns its length.
 */
static size_t
binary_key(char *key, size_t size, int i)
{
	memset(key, 'k', size);
	memcpy(key, &i, sizeof(i));
	return (size_t)(i % 90) + 1 + sizeof(i);
}

UNIT_TEST(long_and_binary_keys)
{
	struct hash m;
	char key[200];
	size_t len;
	int i;

	/* Keys on both sides of the inline limit, with NUL bytes inside. */
	hash_init(&m, NULL);
	for (i = 0; i < 5000; i++)
		add_new(&m, key, binary_key(key, sizeof(key), i), i);
	for (i = 0; i < 5000; i++) {
		struct hash_entry *s;

		len = binary_key(key, sizeof(key), i);
		s = hash_find(&m, key, len);
		CHECK(s != NULL);
		CHECK_INT(s->num, ==, i);
		CHECK_INT(s->len, ==, len);
		CHECK(!memcmp(hash_key(s), key, s->len));
		/* One byte shorter is another key. */
		CHECK(hash_find(&m, key, len - 1) == NULL ||
			hash_find(&m, key, len - 1)->num != i);
	}
	hash_reserve(&m, 100000);
	CHECK_INT(m.n, ==, 5000);
	len = binary_key(key, sizeof(key), 4999);
	CHECK_INT(hash_find(&m, key, len)->num, ==, 4999);
	hash_release(&m);
}

static int freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

UNIT_TEST(delete_keeps_the_rest)
{
	static const struct hash_type owned = { .name = "things",
		.val_free = count_free };
	struct hash m;
	char key[64];
	int i, added;
	void *ptr;

	/* Long and short keys, deleted in an order that breaks chains. */
	hash_init(&m, &owned);
	for (i = 0; i < 3000; i++) {
		struct hash_entry *x;

		snprintf(key, sizeof(key), i % 2 ? "%d" :
			"a-long-key-beyond-the-inline-limit-%d", i);
		x = hash_add(&m, key, strlen(key), &added);
		x->num = i;
		x->ptr = malloc(1);
	}
	for (i = 0; i < 3000; i += 3) {
		snprintf(key, sizeof(key), i % 2 ? "%d" :
			"a-long-key-beyond-the-inline-limit-%d", i);
		CHECK_INT(hash_del(&m, key, strlen(key), NULL), ==, 1);
		CHECK_INT(hash_del(&m, key, strlen(key), NULL), ==, 0);
	}
	CHECK_INT(freed, ==, 1000);
	CHECK_INT(m.n, ==, 2000);
	for (i = 0; i < 3000; i++) {
		struct hash_entry *x;

		snprintf(key, sizeof(key), i % 2 ? "%d" :
			"a-long-key-beyond-the-inline-limit-%d", i);
		x = hash_find(&m, key, strlen(key));
		if (i % 3 == 0)
			CHECK(x == NULL);
		else {
			CHECK(x != NULL);
			CHECK_INT(x->num, ==, i);
		}
	}
	snprintf(key, sizeof(key), "%d", 1);
	CHECK_INT(hash_del(&m, key, strlen(key), &ptr), ==, 1);
	CHECK_INT(freed, ==, 1000);	/* handed back, not freed */
	free(ptr);
	hash_release(&m);
	CHECK_INT(freed, ==, 2999);
	CHECK_INT(m.n, ==, 0);
	CHECK(hash_find(&m, "2", 1) == NULL);
}

UNIT_TEST(full_table_is_an_answer)
{
	static const struct hash_type small = { .name = "keys", .max = 3 };
	struct hash m;
	int added;

	hash_init(&m, &small);
	CHECK(hash_add(&m, "a", 1, &added) != NULL);
	CHECK(hash_add(&m, "b", 1, &added) != NULL);
	CHECK(hash_add(&m, "c", 1, &added) != NULL);
	CHECK(hash_add(&m, "d", 1, &added) == NULL);
	CHECK(!added);
	/* A key already there is still found. */
	CHECK(hash_add(&m, "b", 1, &added) != NULL);
	CHECK(!added);
	CHECK_INT(hash_max(&m), ==, 3);
	hash_release(&m);
	hash_init(&m, NULL);
	CHECK(hash_max(&m) == HASH_MAX);
	hash_release(&m);
}

/*
 * The stepwise find (prefetch the slot, then the entry, then find) gives
 * hash_find's answers: found keys, missing keys, an empty table.
 */
UNIT_TEST(find_in_steps)
{
	struct hash m;
	char key[32];
	uint64_t hv;
	int i;

	hash_init(&m, NULL);
	hash_prefetch(&m, hash_bytes("x", 1));
	hash_prefetch_entry(&m, hash_bytes("x", 1));
	CHECK(hash_find_hashed(&m, hash_bytes("x", 1), "x", 1) == NULL);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "T12:LN%06d", i);
		add_new(&m, key, strlen(key), i);
	}
	for (i = 0; i < 40000; i += 7) {
		struct hash_entry *s;

		snprintf(key, sizeof(key), "T12:LN%06d", i);
		hv = hash_bytes(key, strlen(key));
		hash_prefetch(&m, hv);
		hash_prefetch_entry(&m, hv);
		s = hash_find_hashed(&m, hv, key, strlen(key));
		CHECK(s == hash_find(&m, key, strlen(key)));
		if (i < 20000)
			CHECK(s && s->num == i);
		else
			CHECK(s == NULL);
	}
	hash_release(&m);
}

UNIT_TEST(hash_values_are_fixed)
{
	/* FNV-1a 64 with the MurmurHash3 finalizer, on every machine. */
	CHECK(hash_bytes("", 0) == 0xefd01f60ba992926ULL);
	CHECK(hash_bytes("2015550001", 10) == 0x4366c3583cfed216ULL);
	CHECK(hash_bytes("a", 1) != hash_bytes("b", 1));
	CHECK(hash_bytes("ab", 2) != hash_bytes("ba", 2));
}

UNIT_MAIN(many_keys, long_and_binary_keys, delete_keeps_the_rest,
	full_table_is_an_answer, find_in_steps, hash_values_are_fixed)
