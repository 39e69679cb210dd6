/*
 * The one hash table of the tree, and the one string hash.
 *
 * Keys are byte strings the table copies; each entry carries a pointer and
 * an integer for the caller.  A table's type (redis's dictType, reduced to
 * what our uses differ in) names it, says who frees the values and how many
 * keys it may hold.  The layout is tuned for the fact load, which looks up
 * two keys per fact: a lookup touches two cache lines at most, a compact
 * index of 8-byte slots (hash tag and entry number), then the entry, which
 * holds keys of up to HASH_INLINE bytes itself.  Entries are dense, in the
 * order they were added (until a delete moves the last one into the hole):
 * iterate entries[0..n).
 */
#ifndef DAG_HASH_H
#define DAG_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INLINE 32

/* What a table's uses have in common; a const table, shared by its tables. */
struct hash_type {
	const char *name;	/* what the keys are, for error messages */
	/* Frees an entry's ptr at hash_release and hash_del; NULL: not ours. */
	void (*val_free)(void *ptr);
	size_t max;		/* keys at most; 0: HASH_MAX */
};

/* The most keys a table holds: entry numbers are 32 bits in the index. */
#define HASH_MAX ((size_t)UINT32_MAX - 1)

struct hash_entry {
	uint64_t hash;
	void *ptr;		/* the caller's, NULL when added */
	int64_t num;		/* the caller's, 0 when added */
	size_t len;		/* of the key, in bytes */
	union {
		char inl[HASH_INLINE];	/* len <= HASH_INLINE */
		const char *ext;	/* longer keys, in the table's chunks */
	} k;
};

struct hash {
	const struct hash_type *type;	/* borrowed; NULL: no values to free */
	uint64_t *index;	/* 0: empty; else hash tag << 32 | entry + 1 */
	size_t cap;		/* index slots, a power of two */
	struct hash_entry *entries;
	size_t n, entries_cap;
	char *chunk;		/* long keys: chunks linked by their first word */
	size_t chunk_used, chunk_cap;
};

/*
 * FNV-1a over len bytes, 64 bits, with the MurmurHash3 finalizer so the low
 * bits (which tables and "modulo N" use) mix: the same on every machine and
 * run, so file names and shard numbers derived from it are stable.
 */
uint64_t hash_bytes(const void *data, size_t len);

/* An empty table of type (borrowed, may be NULL); allocates nothing yet. */
void hash_init(struct hash *h, const struct hash_type *type);
/* Frees the table's memory and, through its type, every value. */
void hash_release(struct hash *h);
/* Make room for n more keys at once (a known count saves rehashing). */
void hash_reserve(struct hash *h, size_t n);
/* The entry of key, or NULL. */
struct hash_entry *hash_find(const struct hash *h, const void *key,
	size_t len);
/*
 * hash_find in steps, for several independent lookups at once (each a
 * cache miss or two in a big table): hash_prefetch starts loading the
 * index slot of hash hv (hash_bytes of the key), hash_prefetch_entry,
 * after it, the entry that slot names, and hash_find_hashed finds the
 * key as hash_find does.  Issuing the first two for every key before the
 * finds lets their misses overlap.
 */
void hash_prefetch(const struct hash *h, uint64_t hv);
void hash_prefetch_entry(const struct hash *h, uint64_t hv);
struct hash_entry *hash_find_hashed(const struct hash *h, uint64_t hv,
	const void *key, size_t len);
/*
 * The entry of key, added (ptr NULL, num 0) when absent; *added says which.
 * NULL when the key is new and the table already holds its type's maximum:
 * the caller reports it as an error.  An add may move entries:
 * earlier entry pointers do not survive it.
 */
struct hash_entry *hash_add(struct hash *h, const void *key, size_t len,
	int *added);
/*
 * Remove key; its value is freed through the type unless ptr is given, in
 * which case *ptr receives it.  Returns 1 when the key was there, 0 when
 * not.  The last entry moves into the hole.
 */
int hash_del(struct hash *h, const void *key, size_t len, void **ptr);
/* The most keys h may hold. */
size_t hash_max(const struct hash *h);

/* An entry's key bytes (len of them). */
static inline const char *
hash_key(const struct hash_entry *e)
{
	return e->len <= HASH_INLINE ? e->k.inl : e->k.ext;
}

#endif
