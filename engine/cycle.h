/*
 * Finding a cycle in a small directed graph given by a callback: the
 * loader's one depth-first search, for params that refer to each other,
 * task fields that expand each other and needs within one partition.
 */
#ifndef DAG_CYCLE_H
#define DAG_CYCLE_H

#include <stddef.h>

/* An edge that exists but does not count (text, another kind of name). */
#define CYCLE_SKIP ((size_t)-1)

struct cycle_graph {
	size_t n;		/* nodes 0 .. n-1 */
	/*
	 * The k-th edge out of v (k from 0 up): 1 with *to set (CYCLE_SKIP
	 * to pass over it), 0 when v has no k-th edge.
	 */
	int (*edge)(void *ctx, size_t v, size_t k, size_t *to);
	void *ctx;
};

/* A cycle: path[0] -> path[1] -> ... -> path[len - 1] -> path[0]. */
struct cycle {
	size_t *path;		/* the caller's to free */
	size_t len;
	size_t edge;		/* the closing edge: the edge-th out of path[len - 1] */
};

/*
 * The first cycle a depth-first search from nodes 0, 1, ... meets: 1 with
 * c filled, 0 (c->path NULL) when the graph has none.  Iterative, so a
 * chain of a hundred thousand params cannot overflow the stack; each node
 * and edge is visited once.
 */
int cycle_find(const struct cycle_graph *g, struct cycle *c);

#endif
