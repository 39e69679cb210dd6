/*
 * The scheduler's ready queues: binary heaps of instance indexes, in the
 * order instances start (priority, then partition, then task order).
 */
#include "config.h"
#include "sched_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "dag.h"
#include "graph.h"
#include "executor.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"

/*
 * Heap order: higher priority first, then the older partition (the newer
 * with --reverse), then task order within the partition.  Instances are
 * sorted by partition then task order, so the index breaks ties.
 */
static int
before(const struct sched *s, uint32_t a, uint32_t b)
{
	const struct instance *x = &s->g->inst[a], *y = &s->g->inst[b];
	int pa = s->dag->tasks[x->task].priority;
	int pb = s->dag->tasks[y->task].priority;

	if (pa != pb)
		return pa > pb;
	if (x->part != y->part)
		return s->o->reverse ? x->part > y->part : x->part < y->part;
	return a < b;
}

void
sched_heap_push(struct sched *s, struct heap *h, uint32_t v)
{
	size_t i;

	VEC_GROW(*h, h->n + 1);
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(s, v, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = v;
}

uint32_t
sched_heap_pop(struct sched *s, struct heap *h)
{
	uint32_t top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(s, h->v[c + 1], h->v[c]))
			c++;
		if (!before(s, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}
