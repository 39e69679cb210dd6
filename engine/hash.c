/*
 * The hash table every module uses (see hash.h for its layout), and the
 * string hash the tree shares.  Open addressing with linear probing at a
 * load under 1/2: probes stay short on skewed keys (natural keys that
 * differ in their last digits), and deletion shifts the chain back instead
 * of leaving tombstones, so a table that forgets keys (the target cache)
 * never slows down.  Keys longer than HASH_INLINE go into 64 KiB chunks,
 * so a table of millions of keys makes a few dozen allocations, not
 * millions.
 */
#include "config.h"
#include "hash.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK (64 * 1024)

uint64_t
hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/*
	 * FNV's low bits depend only on the low bits of each byte, and both
	 * the table and "modulo N" use the low bits: mix them (the
	 * MurmurHash3 finalizer) or similar keys cluster.
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void
hash_init(struct hash *h, const struct hash_type *type)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
}

void
hash_release(struct hash *h)
{
	char *c = h->chunk;
	size_t i;

	if (h->type && h->type->val_free)
		for (i = 0; i < h->n; i++)
			h->type->val_free(h->entries[i].ptr);
	while (c) {
		char *next;

		memcpy(&next, c, sizeof(next));
		free(c);
		c = next;
	}
	free(h->index);
	free(h->entries);
	hash_init(h, h->type);
}

size_t
hash_max(const struct hash *h)
{
	return h->type && h->type->max ? h->type->max : HASH_MAX;
}

static const char *
store(struct hash *h, const void *key, size_t len)
{
	char *p;

	if (!h->chunk || h->chunk_used + len > h->chunk_cap) {
		size_t cap = len + sizeof(char *) > CHUNK ?
			len + sizeof(char *) : CHUNK;
		char *c = xmalloc(cap);

		memcpy(c, &h->chunk, sizeof(char *));
		h->chunk = c;
		h->chunk_used = sizeof(char *);
		h->chunk_cap = cap;
	}
	p = h->chunk + h->chunk_used;
	memcpy(p, key, len);
	h->chunk_used += len;
	return p;
}

/* The index slot holding key, or the empty slot where it belongs. */
static size_t
locate(const struct hash *h, uint64_t hv, const void *key, size_t len)
{
	size_t mask = h->cap - 1, i = (size_t)hv & mask;
	uint64_t tag = hv >> 32;

	for (;; i = (i + 1) & mask) {
		uint64_t v = h->index[i];
		const struct hash_entry *e;

		if (!v)
			return i;
		if (v >> 32 != tag)
			continue;
		e = &h->entries[(uint32_t)v - 1];
		if (e->hash == hv && e->len == len &&
		    !memcmp(hash_key(e), key, len))
			return i;
	}
}

struct hash_entry *
hash_find(const struct hash *h, const void *key, size_t len)
{
	return hash_find_hashed(h, hash_bytes(key, len), key, len);
}

void
hash_prefetch(const struct hash *h, uint64_t hv)
{
	if (h->cap)
		__builtin_prefetch(&h->index[(size_t)hv & (h->cap - 1)]);
}

void
hash_prefetch_entry(const struct hash *h, uint64_t hv)
{
	uint64_t v;

	if (!h->cap)
		return;
	v = h->index[(size_t)hv & (h->cap - 1)];
	if (v && v >> 32 == hv >> 32)
		__builtin_prefetch(&h->entries[(uint32_t)v - 1]);
}

struct hash_entry *
hash_find_hashed(const struct hash *h, uint64_t hv, const void *key,
	size_t len)
{
	uint64_t v;

	if (!h->cap)
		return NULL;
	v = h->index[locate(h, hv, key, len)];
	return v ? &h->entries[(uint32_t)v - 1] : NULL;
}

/*
 * Big arrays on huge pages where the kernel offers them: a lookup is a
 * random access, and on 4 KiB pages each one is also a TLB miss.
 */
static void *
alloc(size_t n)
{
	size_t huge = 2 << 20;
	void *p;

	if (n < huge)
		return xmalloc_aligned(64, n);
	n = (n + huge - 1) / huge * huge;
	p = xmalloc_aligned(huge, n);
#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

/* Rebuild the index with cap slots from the entries. */
static void
reindex(struct hash *h, size_t cap)
{
	size_t i;

	free(h->index);
	h->index = alloc(cap * sizeof(*h->index));
	memset(h->index, 0, cap * sizeof(*h->index));
	h->cap = cap;
	for (i = 0; i < h->n; i++) {
		uint64_t hv = h->entries[i].hash;
		size_t j = (size_t)hv & (cap - 1);

		while (h->index[j])
			j = (j + 1) & (cap - 1);
		h->index[j] = (hv >> 32 << 32) | (uint64_t)(i + 1);
	}
}

static void
entries_grow(struct hash *h, size_t want)
{
	struct hash_entry *e;
	size_t cap = h->entries_cap ? h->entries_cap : 32;

	while (cap < want)
		cap *= 2;
	if (cap == h->entries_cap)
		return;
	/* Entries are one cache line each: keep them aligned to one. */
	e = alloc(cap * sizeof(*e));
	if (h->n)
		memcpy(e, h->entries, h->n * sizeof(*e));
	free(h->entries);
	h->entries = e;
	h->entries_cap = cap;
}

void
hash_reserve(struct hash *h, size_t n)
{
	size_t cap = h->cap ? h->cap : 64;

	while (cap < 2 * (h->n + n))
		cap *= 2;
	if (cap > h->cap)
		reindex(h, cap);
	entries_grow(h, h->n + n);
}

struct hash_entry *
hash_add(struct hash *h, const void *key, size_t len, int *added)
{
	uint64_t hv = hash_bytes(key, len);
	struct hash_entry *e;
	size_t i;

	*added = 0;
	/* Keep the load under 1/2: probes stay short on skewed keys. */
	if ((h->n + 1) * 2 > h->cap)
		reindex(h, h->cap ? h->cap * 2 : 64);
	i = locate(h, hv, key, len);
	if (h->index[i])
		return &h->entries[(uint32_t)h->index[i] - 1];
	if (h->n >= hash_max(h))
		return NULL;
	*added = 1;
	entries_grow(h, h->n + 1);
	e = &h->entries[h->n];
	memset(e, 0, sizeof(*e));
	e->hash = hv;
	e->len = len;
	if (len <= HASH_INLINE)
		memcpy(e->k.inl, key, len);
	else
		e->k.ext = store(h, key, len);
	h->index[i] = (hv >> 32 << 32) | (uint64_t)(h->n + 1);
	h->n++;
	return e;
}

/* Empty index slot i and shift back the rest of its probe chain. */
static void
unlink_slot(struct hash *h, size_t i)
{
	size_t mask = h->cap - 1, j, want;

	for (j = (i + 1) & mask; h->index[j]; j = (j + 1) & mask) {
		want = (size_t)h->entries[(uint32_t)h->index[j] - 1].hash & mask;
		/* Move j into the hole unless its home lies in (i, j]. */
		if (((j - want) & mask) >= ((j - i) & mask)) {
			h->index[i] = h->index[j];
			i = j;
		}
	}
	h->index[i] = 0;
}

int
hash_del(struct hash *h, const void *key, size_t len, void **ptr)
{
	size_t i, last;
	uint32_t at;

	if (!h->cap)
		return 0;
	i = locate(h, hash_bytes(key, len), key, len);
	if (!h->index[i])
		return 0;
	at = (uint32_t)h->index[i] - 1;
	if (ptr)
		*ptr = h->entries[at].ptr;
	else if (h->type && h->type->val_free)
		h->type->val_free(h->entries[at].ptr);
	unlink_slot(h, i);
	last = h->n - 1;
	if (at != last) {
		const struct hash_entry *e = &h->entries[last];

		/* The last entry takes the hole; its index slot follows. */
		i = locate(h, e->hash, hash_key(e), e->len);
		h->index[i] = (e->hash >> 32 << 32) | (uint64_t)(at + 1);
		h->entries[at] = *e;
	}
	h->n--;
	return 1;
}
