/*
 * Target collisions.  Every writing instance's target becomes a key (a
 * file path without its trailing '/', or database, table and partition
 * for a table); the keys are sorted and equal neighbours written by two
 * different instances are a collision.  The sorted order puts the two
 * writers side by side for the message.  A plan's check (tens of
 * thousands of instances on every run) first learns from one hash pass
 * over the paths whether any two are equal, which they almost never are,
 * and sorts only then.
 *
 * Without a range (validate, and every command that loads a DAG) the
 * sample is the first two days' partitions and, for an hourly DAG, the
 * first fall-back day within a year of the start, whose repeated hour
 * (01b) is where a target without {partition} goes wrong.  External
 * checks read their target, they do not write it, and are left out.
 */
#include "config.h"
#include "collide.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "graph.h"
#include "hash.h"
#include "range.h"
#include "target.h"
#include "task_kind.h"

struct writer {
	char *key;		/* owned */
	const char *shown;	/* the target as the message quotes it */
	uint32_t task;
	char part[24];
};

struct writers {
	struct writer *v;
	size_t n, cap;
};

static int
writes(const struct dag *dag, size_t task)
{
	return target_kind_of(dag, task) && !dag->tasks[task].kind->probe;
}

/* The key of a file target: its path without the trailing '/'s. */
static size_t
path_key_len(const char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

static void
add(struct writers *w, const struct target_ref *ref, uint32_t task)
{
	struct writer x;
	size_t len;

	memset(&x, 0, sizeof(x));
	x.task = task;
	snprintf(x.part, sizeof(x.part), "%s", ref->partition);
	if (ref->path) {
		len = path_key_len(ref->path);
		x.key = xstrndup(ref->path, len);
	} else {
		x.key = xasprintf("\001%s\001%s\001%s", ref->database, ref->table,
			ref->partition);
	}
	VEC_PUSH(*w, x);
}

static int
cmp(const void *pa, const void *pb)
{
	const struct writer *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	if (c)
		return c;
	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return strcmp(a->part, b->part);
}

static void
describe(const struct writer *w, struct strbuf *sb)
{
	const char *k = w->key;

	if (*k != '\001') {
		sb_addf(sb, "'%s'", k);
		return;
	}
	/* "\1DB\1TABLE\1PARTITION" */
	{
		const char *t = strchr(k + 1, '\001');
		const char *p = t ? strchr(t + 1, '\001') : NULL;

		if (!t || !p)
			return;
		sb_addf(sb, "table '%.*s' partition %s in '%.*s'",
			(int)(p - t - 1), t + 1, p + 1, (int)(t - k - 1), k + 1);
	}
}

static void
report(const struct dag *dag, const struct writer *a, const struct writer *b,
	struct errs *errs)
{
	const struct task *ta = &dag->tasks[a->task], *tb = &dag->tasks[b->task];
	const struct node *at = node_get(tb->def, "target");
	struct strbuf sb;

	sb_init(&sb);
	describe(a, &sb);
	errs_addf(errs, -EINVAL, dag->path, at ? at->line : tb->line,
		at ? at->column : tb->column,
		"task '%s' at %s and task '%s' at %s would write the same "
		"target %s: %s", ta->name, a->part, tb->name, b->part, sb.buf,
		a->task == b->task ? "put {partition} in the target so each "
		"partition has its own" : "give each task its own target, "
		"with {partition} in it");
	sb_release(&sb);
}

/* Sort, report each colliding key once, free.  Returns collisions. */
static size_t
finish(const struct dag *dag, struct writers *w, struct errs *errs)
{
	size_t i, found = 0, nt = dag->n_tasks;
	/* One report per pair of tasks: the first partition shows it. */
	uint8_t *told = xcalloc(nt * nt + 1, 1);

	if (w->n > 1)
		qsort(w->v, w->n, sizeof(*w->v), cmp);
	for (i = 1; i < w->n; i++) {
		const struct writer *a = &w->v[i - 1], *b = &w->v[i];

		if (strcmp(a->key, b->key) || (a->task == b->task &&
		    !strcmp(a->part, b->part)))
			continue;
		if (told[a->task * nt + b->task]++)
			continue;
		report(dag, a, b, errs);
		found++;
	}
	free(told);
	for (i = 0; i < w->n; i++)
		free(w->v[i].key);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
	return found;
}

static void
add_partitions(const struct dag *dag, const struct partition *p, size_t n,
	struct writers *w)
{
	struct target_ref ref;
	struct err e;
	size_t i, t;

	for (t = 0; t < dag->n_tasks; t++) {
		if (!writes(dag, t))
			continue;
		for (i = 0; i < n; i++) {
			if (target_resolve(dag, t, &p[i], NULL, &ref, &e) == 0 &&
			    ref.kind)
				add(w, &ref, (uint32_t)t);
			target_ref_release(&ref);
		}
	}
}

size_t
collide_check_dag(const struct dag *dag, struct errs *errs)
{
	struct writers w = { 0 };
	struct partition *parts = NULL;
	struct err e;
	size_t n = 0, i, first = 0, k;
	char from[16], to[16];
	int64_t y;
	int yy, m, d;

	if (sscanf(dag->start, "%4d-%2d-%2d", &yy, &m, &d) != 3)
		return 0;
	y = yy;
	snprintf(from, sizeof(from), "%s", dag->start);
	if (dag->schedule == SCHEDULE_DAILY) {
		civil_from_days(civil_days(y, m, d) + 2, &y, &m, &d);
	} else {
		/* A year and a day: one fall-back day of any zone with DST. */
		civil_from_days(civil_days(y, m, d) + 366, &y, &m, &d);
	}
	snprintf(to, sizeof(to), "%04d-%02d-%02d", (int)y, m, d);
	if (dag_partitions(dag, from, to, 0, &parts, &n, &e) < 0)
		return 0;	/* the range itself was checked by the loader */
	k = n < 48 ? n : 48;
	if (dag->schedule == SCHEDULE_DAILY)
		k = n < 3 ? n : 3;
	add_partitions(dag, parts, k, &w);
	if (dag->schedule != SCHEDULE_DAILY) {
		for (i = 0; i < n && !strchr(parts[i].id, 'b'); i++)
			;
		if (i < n) {
			/* The whole of that day, from its first hour. */
			while (i > 0 && !strncmp(parts[i - 1].id, parts[i].id, 10))
				i--;
			first = i;
			while (i < n && !strncmp(parts[i].id, parts[first].id, 10))
				i++;
			add_partitions(dag, parts + first, i - first, &w);
		}
	}
	free(parts);
	return finish(dag, &w, errs);
}

/*
 * Do two of the graph's writing instances name the same path?  Almost
 * never: a hash pass answers that without copying or sorting the keys,
 * and only a yes goes on to the sort that pairs the writers for the
 * message.
 */
static int
any_shared(const struct graph *g)
{
	struct hash seen;
	size_t i;
	int added = 1;

	hash_init(&seen, NULL);
	hash_reserve(&seen, g->n_inst);
	for (i = 0; i < g->n_inst && added; i++) {
		const struct instance *in = &g->inst[i];

		if (in->target && writes(g->dag, in->task))
			hash_add(&seen, in->target, path_key_len(in->target),
				&added);
	}
	hash_release(&seen);
	return !added;
}

size_t
collide_check_graph(const struct graph *g, struct errs *errs)
{
	const struct dag *dag = g->dag;
	struct writers w = { 0 };
	struct target_ref ref;
	size_t i;

	if (!any_shared(g))
		return 0;
	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];

		/* Tables differ by partition; two tasks, one table is caught
		   by collide_check_dag. */
		if (!in->target || !writes(dag, in->task))
			continue;
		memset(&ref, 0, sizeof(ref));
		ref.path = in->target;
		snprintf(ref.partition, sizeof(ref.partition), "%s",
			g->parts[in->part].id);
		add(&w, &ref, in->task);
	}
	return finish(dag, &w, errs);
}
