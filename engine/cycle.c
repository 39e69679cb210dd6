/*
 * The loader's cycle search (cycle.h): white/grey/black depth-first
 * search with an explicit stack of (node, next edge) frames.  A grey node
 * met again closes a cycle; the frames from it to the top are the path,
 * which is what every error message prints ("a -> b -> a").
 */
#include "config.h"
#include "cycle.h"
#include "util.h"

#include <stdlib.h>

struct frame {
	size_t v, k;
};

enum { WHITE, GREY, BLACK };

/* Fill c with the frames from the one holding `to` to the top. */
static void
take_path(const struct frame *st, size_t sp, size_t to, size_t edge,
	struct cycle *c)
{
	size_t d = 0, i;

	while (st[d].v != to)
		d++;
	c->len = sp - d;
	c->path = xmalloc(c->len * sizeof(*c->path));
	for (i = 0; i < c->len; i++)
		c->path[i] = st[d + i].v;
	c->edge = edge;
}

int
cycle_find(const struct cycle_graph *g, struct cycle *c)
{
	char *colour = xcalloc(g->n + 1, 1);
	struct frame *st = xmalloc((g->n + 1) * sizeof(*st));
	size_t s, sp = 0, to;
	int found = 0;

	c->path = NULL;
	c->len = c->edge = 0;
	for (s = 0; s < g->n && !found; s++) {
		if (colour[s] != WHITE)
			continue;
		colour[s] = GREY;
		st[sp].v = s;
		st[sp++].k = 0;
		while (sp && !found) {
			struct frame *f = &st[sp - 1];
			size_t k = f->k;

			if (!g->edge(g->ctx, f->v, k, &to)) {
				colour[f->v] = BLACK;
				sp--;
				continue;
			}
			f->k++;
			if (to == CYCLE_SKIP || colour[to] == BLACK)
				continue;
			if (colour[to] == GREY) {
				take_path(st, sp, to, k, c);
				found = 1;
				continue;
			}
			colour[to] = GREY;
			st[sp].v = to;
			st[sp++].k = 0;
		}
	}
	free(colour);
	free(st);
	return found;
}
