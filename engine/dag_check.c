/*
 * Checks over a loaded DAG as a whole: params that refer to each other in
 * a cycle, needs that form a cycle within one partition (one depth-first
 * search, engine/cycle) or across partitions once their offsets cancel
 * out (strongly connected sets of tasks, then Bellman-Ford), the order
 * tasks are run in, and each kind's prepare hook.
 */
#include "config.h"
#include "dag.h"
#include "cycle.h"
#include "dag_priv.h"
#include "dag_load.h"
#include "range.h"
#include "task_kind.h"
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "a -> b -> a": the names along cycle c. */
static void
cycle_text(struct strbuf *sb, const struct cycle *c,
	const char *(*name)(const void *ctx, size_t i), const void *ctx)
{
	size_t d;

	for (d = 0; d < c->len; d++)
		sb_addf(sb, "%s -> ", name(ctx, c->path[d]));
	sb_adds(sb, name(ctx, c->path[0]));
}

static const char *
param_name_of(const void *ctx, size_t i)
{
	return ((const struct dag_priv *)ctx)->params[i].name;
}

/* Param v's k-th template part, an edge when it names another param. */
static int
param_edge(void *ctx, size_t v, size_t k, size_t *to)
{
	const struct template *t = ((struct dag_priv *)ctx)->params[v].t;

	if (!t || k >= t->n)
		return 0;
	*to = t->parts[k].text || t->parts[k].ref.kind != REF_PARAM ?
		CYCLE_SKIP : (size_t)t->parts[k].ref.idx;
	return 1;
}

void
check_param_cycles(struct load *L)
{
	struct dag_priv *priv = L->priv;
	const struct cycle_graph g = { priv->n_params, param_edge, priv };
	struct strbuf sb;
	struct cycle c;
	size_t last;

	if (!cycle_find(&g, &c))
		return;
	last = c.path[c.len - 1];
	sb_init(&sb);
	cycle_text(&sb, &c, param_name_of, priv);
	lerr_pos(L, priv->params[last].node,
		priv->params[last].t->parts[c.edge].ref.pos,
		"params refer to each other in a cycle: %s", sb.buf);
	sb_release(&sb);
	free(c.path);
}

/*
 * What one reference other than a param may add: dates and names are
 * short, and a format can at most multiply its own length.
 */
static uint64_t
ref_bytes(const struct tref *r)
{
	return 64 + (r->fmt ? 16 * (uint64_t)strlen(r->fmt) : 0);
}

/*
 * The bytes param v expands to at most, once the params it names are
 * known (size[j] set); capped just past the limit, so no sum overflows.
 */
static uint64_t
param_bytes(const struct dag_priv *priv, size_t v, const uint64_t *size)
{
	const struct template *t = priv->params[v].t;
	uint64_t n = 0;
	size_t k;

	for (k = 0; t && k < t->n && n <= PARAM_MAX_BYTES; k++) {
		const struct tpart *part = &t->parts[k];

		if (part->text)
			n += part->len;
		else if (part->ref.kind == REF_PARAM)
			n += size[part->ref.idx];
		else
			n += ref_bytes(&part->ref);
	}
	return n > PARAM_MAX_BYTES ? PARAM_MAX_BYTES + 1 : n;
}

void
check_param_sizes(struct load *L)
{
	const struct dag_priv *priv = L->priv;
	size_t n = priv->n_params, s, k;
	uint64_t *size = xcalloc(n + 1, sizeof(*size));
	char *state = xcalloc(n + 1, 1);	/* 0 new, 1 open, 2 sized */
	struct { size_t *v; size_t n, cap; } st = { 0 };

	/* Depth-first without recursion: a param is sized after those it names. */
	for (s = 0; s < n; s++) {
		if (state[s])
			continue;
		VEC_PUSH(st, s);
		while (st.n) {
			size_t v = st.v[st.n - 1];
			const struct template *t = priv->params[v].t;

			if (state[v] == 2) {
				st.n--;
				continue;
			}
			if (state[v] == 1) {
				size[v] = param_bytes(priv, v, size);
				state[v] = 2;
				st.n--;
				continue;
			}
			state[v] = 1;
			for (k = 0; t && k < t->n; k++)
				if (!t->parts[k].text &&
				    t->parts[k].ref.kind == REF_PARAM &&
				    !state[t->parts[k].ref.idx])
					VEC_PUSH(st, (size_t)t->parts[k].ref.idx);
		}
	}
	for (s = 0; s < n; s++)
		if (size[s] > PARAM_MAX_BYTES) {
			lerr(L, priv->params[s].node, "param '%s' expands to more "
				"than %llu MiB: params that repeat other params "
				"grow exponentially", priv->params[s].name,
				(unsigned long long)(PARAM_MAX_BYTES >> 20));
			break;
		}
	free(size);
	free(state);
	free(st.v);
}

/* ---- the task graph ---- */

/* An edge that links instances of the same partition. */
static int
same_partition(const struct need *n)
{
	return n->lo <= 0 && n->hi >= 0;
}

static const char *
task_name_of(const void *ctx, size_t i)
{
	return ((const struct dag *)ctx)->tasks[i].name;
}

/* Task v's k-th need, an edge when it is on the same partition. */
static int
need_edge(void *ctx, size_t v, size_t k, size_t *to)
{
	const struct task *t = &((struct dag *)ctx)->tasks[v];

	if (k >= t->n_needs)
		return 0;
	*to = !same_partition(&t->needs[k]) || t->needs[k].task == v ?
		CYCLE_SKIP : t->needs[k].task;
	return 1;
}

/*
 * Needs with offsets can still close a loop of instances: a needs b the
 * day before and b needs a the day after.  Within a strongly connected
 * set of tasks, some closed walk reaches offset 0 exactly when one cycle
 * can sum to <= 0 (taking each need's lowest offset) and one to >= 0
 * (highest).  Found with Bellman-Ford on weights w*(n+1)-1, whose negative
 * cycles are the cycles with w-sum <= 0.
 */
static int
has_cycle_le0(const struct dag *dag, const int *comp, int c, int sign)
{
	size_t n = dag->n_tasks, i, k, round;
	int64_t *dist = xcalloc(n, sizeof(*dist));
	int changed = 1, found = 0;

	for (round = 0; round <= n && changed; round++) {
		changed = 0;
		for (i = 0; i < n; i++) {
			const struct task *t = &dag->tasks[i];
			if (comp[i] != c)
				continue;
			for (k = 0; k < t->n_needs; k++) {
				const struct need *nd = &t->needs[k];
				int64_t w;
				if (comp[nd->task] != c)
					continue;
				w = (int64_t)(sign > 0 ? nd->lo : -nd->hi) *
					(int64_t)(n + 1) - 1;
				if (dist[i] + w < dist[nd->task]) {
					dist[nd->task] = dist[i] + w;
					changed = 1;
				}
			}
		}
	}
	found = changed;
	free(dist);
	return found;
}

/* "-1d", "+6h", "-6d..+0d": a need's offsets as the file would say them. */
static void
offset_one(const struct dag *dag, int k, struct strbuf *sb)
{
	if (dag->schedule == SCHEDULE_HOURLY && k % 24)
		sb_addf(sb, "%+dh", k);
	else
		sb_addf(sb, "%+dd", dag->schedule == SCHEDULE_HOURLY ? k / 24 : k);
}

static void
offset_desc(const struct dag *dag, const struct need *nd, struct strbuf *sb)
{
	offset_one(dag, nd->lo, sb);
	if (nd->hi != nd->lo) {
		sb_adds(sb, "..");
		offset_one(dag, nd->hi, sb);
	}
}

struct tarjan {
	const struct dag *dag;
	int *index, *low, *comp, *stack;
	char *on;
	int sp, next, ncomp;
};

static void
tarjan_visit(struct tarjan *T, size_t v)
{
	const struct task *t = &T->dag->tasks[v];
	size_t k;

	T->index[v] = T->low[v] = T->next++;
	T->stack[T->sp++] = (int)v;
	T->on[v] = 1;
	for (k = 0; k < t->n_needs; k++) {
		size_t w = t->needs[k].task;
		if (T->index[w] < 0) {
			tarjan_visit(T, w);
			if (T->low[w] < T->low[v])
				T->low[v] = T->low[w];
		} else if (T->on[w] && T->index[w] < T->low[v]) {
			T->low[v] = T->index[w];
		}
	}
	if (T->low[v] == T->index[v]) {
		int w;
		do {
			w = T->stack[--T->sp];
			T->on[w] = 0;
			T->comp[w] = T->ncomp;
		} while (w != (int)v);
		T->ncomp++;
	}
}

static void
check_offset_cycles(struct load *L)
{
	const struct dag *dag = L->dag;
	size_t n = dag->n_tasks, i;
	struct tarjan T = { dag };
	int c;

	T.index = xcalloc(n, sizeof(int));
	T.low = xcalloc(n, sizeof(int));
	T.comp = xcalloc(n, sizeof(int));
	T.stack = xcalloc(n, sizeof(int));
	T.on = xcalloc(n, 1);
	for (i = 0; i < n; i++)
		T.index[i] = -1;
	for (i = 0; i < n; i++)
		if (T.index[i] < 0)
			tarjan_visit(&T, i);
	for (c = 0; c < T.ncomp; c++) {
		struct strbuf sb;
		size_t first = n;

		if (!has_cycle_le0(dag, T.comp, c, 1) ||
		    !has_cycle_le0(dag, T.comp, c, -1))
			continue;
		sb_init(&sb);
		for (i = 0; i < n; i++) {
			const struct task *t = &dag->tasks[i];
			size_t k;

			if (T.comp[i] != c)
				continue;
			if (first == n)
				first = i;
			for (k = 0; k < t->n_needs; k++) {
				const struct need *nd = &t->needs[k];
				if (T.comp[nd->task] != c)
					continue;
				sb_addf(&sb, "%s%s needs %s at ", sb.len ? ", " : "",
					t->name, dag->tasks[nd->task].name);
				offset_desc(dag, nd, &sb);
			}
		}
		lerr_line(L, dag->tasks[first].line, dag->tasks[first].column,
			"needs form a cycle among instances (the offsets cancel "
			"out): %s", sb.buf);
		sb_release(&sb);
	}
	free(T.index);
	free(T.low);
	free(T.comp);
	free(T.stack);
	free(T.on);
}

void
check_cycles(struct load *L)
{
	const struct cycle_graph g = { L->dag->n_tasks, need_edge, L->dag };
	const struct need *nd;
	struct strbuf sb;
	struct cycle c;

	if (!cycle_find(&g, &c)) {
		check_offset_cycles(L);
		return;
	}
	nd = &L->dag->tasks[c.path[c.len - 1]].needs[c.edge];
	sb_init(&sb);
	cycle_text(&sb, &c, task_name_of, L->dag);
	lerr_line(L, nd->line, nd->column, "needs form a cycle: %s", sb.buf);
	sb_release(&sb);
	free(c.path);
}

/*
 * Needs before needers, file order among equals.  Needs on other
 * partitions may point either way, so only same-partition needs order
 * the tasks (all needs when they allow it).
 */
void
topo_sort(struct dag *dag)
{
	size_t n = dag->n_tasks, i, k, done = 0;
	char *placed = xcalloc(n + 1, 1);
	int pass;

	dag->topo = xcalloc(n + 1, sizeof(*dag->topo));
	for (pass = 0; pass < 2 && done < n; pass++) {
		done = 0;
		memset(placed, 0, n);
		for (;;) {
			int progress = 0;
			for (i = 0; i < n; i++) {
				const struct task *t = &dag->tasks[i];
				if (placed[i])
					continue;
				for (k = 0; k < t->n_needs; k++) {
					const struct need *nd = &t->needs[k];
					if (nd->task != i && !placed[nd->task] &&
					    (pass == 0 || same_partition(nd)))
						break;
				}
				if (k < t->n_needs)
					continue;
				placed[i] = 1;
				dag->topo[done++] = i;
				progress = 1;
				break;
			}
			if (!progress)
				break;
		}
	}
	/* A cycle was reported already; keep file order for the rest. */
	for (i = 0; i < n && done < n; i++)
		if (!placed[i])
			dag->topo[done++] = i;
	free(placed);
}

void
prepare_tasks(struct load *L)
{
	struct dag *dag = L->dag;
	size_t i;

	for (i = 0; i < dag->n_tasks; i++) {
		struct task *t = &dag->tasks[i];
		struct err e;

		if (!t->kind || !t->kind->prepare)
			continue;
		err_clear(&e);
		if (t->kind->prepare(t->def, &t->prepared, &e) < 0) {
			if (e.line)
				lerr_line(L, e.line, e.column, "%s", e.msg);
			else
				lerr_line(L, t->line, t->column, "task '%s': %s",
					t->name, e.msg);
		}
	}
}

