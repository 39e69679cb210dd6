/*
 * Between the target kinds: targets/table.c keeps the marker rows it has
 * read in the cache that targets/file.c owns, so a plan over years of
 * partitions reads each marker table once.
 */
#ifndef DAG_TARGET_CACHE_H
#define DAG_TARGET_CACHE_H

struct target_cache;

/*
 * Is partition in the cached marker set called key?  1 yes, 0 no, -1 when
 * the set has not been read yet.
 */
int target_cache_marker(struct target_cache *c, const char *key,
	const char *partition);
/* Create the set called key when absent; add partition unless NULL. */
void target_cache_marker_add(struct target_cache *c, const char *key,
	const char *partition);

#endif
