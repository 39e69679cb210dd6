/*
 * The instance graph.  Built by a breadth-first walk from the requested
 * instances: each instance is checked once (through the shared target
 * cache); a complete one stops the walk, an incomplete one adds the
 * instances it needs, which may lie outside the requested range.  A need
 * before the DAG's start is satisfied and adds nothing.  After the walk,
 * an external check whose input is missing but whose dependants are all
 * complete is settled as done: they consumed it.  Instances are
 * found by (partition, task) in a dense table, partitions by start time in
 * a small hash, so a 10-year plan stays linear.  Blocked states are
 * propagated afterwards in one depth-first pass that also catches a cycle
 * among instances.
 */
#include "config.h"
#include "graph.h"
#include "dag_priv.h"
#include "hash.h"
#include "target.h"
#include "task_kind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct build {
	const struct dag *dag;
	const struct graph_options *opt;
	struct graph *g;
	struct err *e;
	struct hash parts;	/* partition start (8 bytes) -> index in g->parts */
	size_t parts_cap;
	/* (part, task) -> instance index + 1 */
	uint32_t *slot;
	size_t slot_cap;	/* in partitions */
	size_t inst_cap, deps_cap;
	char *forced;		/* per task */
};

/* One name per state; INST_BLOCKED waits on a waiting need, so it reads "waiting". */
static const char *const inst_state_names[INST__COUNT] = {
	[INST_DONE] = "done",
	[INST_TODO] = "missing",
	[INST_WAITING] = "waiting",
	[INST_BLOCKED] = "waiting",
	[INST_RUNNING] = "running",
	[INST_FAILED] = "failed",
	[INST_UPSTREAM_FAILED] = "upstream_failed",
	[INST_STALE] = "stale",
};

const char *
inst_state_name(enum inst_state s)
{
	return (unsigned)s < INST__COUNT ? inst_state_names[s] : "unknown";
}

static int
part_find(const struct build *b, int64_t start)
{
	const struct hash_entry *h = hash_find(&b->parts, &start, sizeof(start));

	return h ? (int)h->num : -1;
}

static uint32_t
part_add(struct build *b, const struct partition *p)
{
	struct graph *g = b->g;
	size_t n_tasks = b->dag->n_tasks;
	struct hash_entry *h;
	int added;

	/*
	 * Never full: a partition costs an instance slot per task, and
	 * instance numbers are 32 bits like the table's entry numbers.
	 */
	h = hash_add(&b->parts, &p->start, sizeof(p->start), &added);
	if (!added)
		return (uint32_t)h->num;
	h->num = (int64_t)g->n_parts;
	if (g->n_parts == b->parts_cap) {
		b->parts_cap = b->parts_cap ? b->parts_cap * 2 : 64;
		g->parts = xrealloc(g->parts, b->parts_cap * sizeof(*g->parts));
	}
	if (g->n_parts == b->slot_cap) {
		size_t ncap = b->slot_cap ? b->slot_cap * 2 : 64;
		b->slot = xrealloc(b->slot, ncap * n_tasks * sizeof(*b->slot));
		memset(b->slot + b->slot_cap * n_tasks, 0,
			(ncap - b->slot_cap) * n_tasks * sizeof(*b->slot));
		b->slot_cap = ncap;
	}
	g->parts[g->n_parts] = *p;
	return (uint32_t)g->n_parts++;
}

/* The instance of task at part, created (and queued) when new. */
static uint32_t
inst_get(struct build *b, size_t task, uint32_t part, int *created)
{
	struct graph *g = b->g;
	uint32_t *s = &b->slot[(size_t)part * b->dag->n_tasks + task];
	struct instance *in;

	*created = 0;
	if (*s)
		return *s - 1;
	if (g->n_inst == b->inst_cap) {
		b->inst_cap = b->inst_cap ? b->inst_cap * 2 : 256;
		g->inst = xrealloc(g->inst, b->inst_cap * sizeof(*g->inst));
	}
	in = &g->inst[g->n_inst];
	memset(in, 0, sizeof(*in));
	in->task = (uint32_t)task;
	in->part = part;
	*s = (uint32_t)++g->n_inst;
	*created = 1;
	return *s - 1;
}

static void
dep_push(struct build *b, uint32_t idx)
{
	struct graph *g = b->g;

	if (g->n_deps == b->deps_cap) {
		b->deps_cap = b->deps_cap ? b->deps_cap * 2 : 256;
		g->deps = xrealloc(g->deps, b->deps_cap * sizeof(*g->deps));
	}
	g->deps[g->n_deps++] = idx;
}

/* Ask an external check's kind whether its input is there. */
static int
probe(struct build *b, size_t task, const struct partition *p,
	struct instance *in, struct err *e)
{
	const struct dag *dag = b->dag;
	const struct task *t = &dag->tasks[task];
	struct resolve_env env;
	struct partition_info info;
	struct task_run run;
	struct node *fields = NULL;
	char *database = NULL;
	int rc;

	/* Instances are not sorted yet: needs resolve from the DAG itself. */
	memset(&env, 0, sizeof(env));
	env.now = b->opt ? b->opt->now : 0;
	rc = dag_resolve(dag, task, p, &env, &fields, NULL, e);
	if (rc < 0)
		return rc;
	database = dag_resolve_database(dag, task, p, &env, e);
	dag_partition_info(dag, p, &info);
	dag_task_run_init(&run, dag, task, p, &info, fields, database);
	rc = t->kind->probe(&run, &in->inputs, e);
	node_free(fields);
	free(database);
	return rc;
}

/*
 * Does in's target exist at p?  1 complete, 0 not, negative on error (e
 * filled).  Fills in->target and, for an external check, in->inputs.
 */
static int
complete(struct build *b, struct instance *in, const struct partition *p,
	struct err *e)
{
	const struct dag *dag = b->dag;
	const struct task *t = &dag->tasks[in->task];
	const struct task_priv *tp = &dag_priv(dag)->tp[in->task];
	struct target_ref ref;
	int rc;

	if (!target_kind_of(dag, in->task))
		return tp->probe_target ? probe(b, in->task, p, in, e) : 0;
	rc = target_resolve(dag, in->task, p, NULL, &ref, e);
	if (rc < 0)
		goto out;
	/*
	 * An external check of one plain path without min_size is exactly
	 * "the file exists": the cache answers it (a listing per directory)
	 * and its one input is that path.  Anything subtler goes to the
	 * kind's probe.
	 */
	if (tp->probe_target && node_get(t->def, "min_size"))
		rc = probe(b, in->task, p, in, e);
	else
		rc = ref.kind->exists(b->g->cache, &ref, e);
	if (rc > 0 && tp->probe_target && ref.path &&
	    !node_get(t->def, "min_size")) {
		in->inputs = node_new_seq();
		node_seq_push(in->inputs, node_new_scalar(ref.path));
	}
	in->target = ref.path;
	ref.path = NULL;
out:
	target_ref_release(&ref);
	return rc;
}

static int
visit(struct build *b, uint32_t idx, uint32_t **queue, size_t *qn,
	size_t *qcap)
{
	struct graph *g = b->g;
	const struct dag *dag = b->dag;
	struct instance *in = &g->inst[idx];
	const struct task *t = &dag->tasks[in->task];
	struct partition p = g->parts[in->part];
	size_t k;
	int rc, lo, created;
	struct err e;

	err_clear(&e);
	/*
	 * --force names what to redo in the requested partitions; an
	 * instance pulled in as a need (a task's own previous day) follows
	 * the plain rule, or --force would redo all history back to start.
	 */
	in->forced = b->forced[in->task] && in->requested;
	if (b->opt && b->opt->redo) {
		int64_t key[2] = { (int64_t)in->task, p.start };

		in->redo = hash_find(b->opt->redo, key, sizeof(key)) != NULL;
		in->forced |= in->redo;
	}
	rc = complete(b, in, &p, &e);
	in = &g->inst[idx];
	if (rc < 0)
		return err_set(b->e, rc, "task '%s' at %s: %s", t->name, p.id,
			e.msg);
	if (rc > 0 && !in->forced) {
		in->state = INST_DONE;
		return 0;
	}
	if (dag_priv(dag)->tp[in->task].probe_target &&
	    !dag_priv(dag)->tp[in->task].has_poll && !in->forced) {
		in->state = INST_WAITING;
		return 0;
	}
	in->state = INST_TODO;
	in->dep_off = (uint32_t)g->n_deps;
	for (k = 0; k < t->n_needs; k++) {
		const struct need *nd = &t->needs[k];

		for (lo = nd->lo; lo <= nd->hi; lo++) {
			struct partition q;
			uint32_t pi, di;

			if (dag_partition_step(dag, &p, lo, &q) < 0)
				continue;	/* before the start: satisfied */
			pi = part_add(b, &q);
			di = inst_get(b, nd->task, pi, &created);
			dep_push(b, di);
			g->inst[idx].n_deps++;
			if (created) {
				if (*qn == *qcap) {
					*qcap *= 2;
					*queue = xrealloc(*queue, *qcap * sizeof(**queue));
				}
				(*queue)[(*qn)++] = di;
			}
		}
	}
	return 0;
}

/*
 * Is the instance of task at q complete?  The graph's answer when it holds
 * that instance, else its target is checked (the instance is not added:
 * plan shows only what the walk reached).  1, 0, or negative errno.
 */
static int
dependant_complete(struct build *b, size_t task, const struct partition *q)
{
	const struct dag *dag = b->dag;
	struct instance tmp;
	struct err e;
	int pi = part_find(b, q->start), rc;

	if (pi >= 0) {
		uint32_t s = b->slot[(size_t)pi * dag->n_tasks + task];

		if (s)
			return b->g->inst[s - 1].state == INST_DONE;
	}
	memset(&tmp, 0, sizeof(tmp));
	tmp.task = (uint32_t)task;
	err_clear(&e);
	rc = complete(b, &tmp, q, &e);
	free(tmp.target);
	node_free(tmp.inputs);
	if (rc < 0)
		return err_set(b->e, rc, "task '%s' at %s: %s",
			dag->tasks[task].name, q->id, e.msg);
	return rc > 0;
}

/*
 * An external check whose input is gone is still complete when the
 * instances that need it are all complete: they consumed the input (an
 * archive with mode: move took it away), and nothing is left to wait for.
 * A check nothing needs keeps the plain rule.  1 complete, 0 not, or
 * negative errno with b->e filled.
 */
static int
consumed(struct build *b, uint32_t idx)
{
	const struct dag *dag = b->dag;
	const struct instance *in = &b->g->inst[idx];
	struct partition p = b->g->parts[in->part], q;
	size_t task = in->task, y, k;
	int lo, rc, any = 0;

	for (y = 0; y < dag->n_tasks; y++) {
		const struct task *t = &dag->tasks[y];

		for (k = 0; k < t->n_needs; k++) {
			const struct need *nd = &t->needs[k];

			if (nd->task != task)
				continue;
			/* y at q needs p when q stepped by an offset is p. */
			for (lo = nd->lo; lo <= nd->hi; lo++) {
				if (dag_partition_step(dag, &p, -lo, &q) < 0)
					continue;	/* no such instance */
				rc = dependant_complete(b, y, &q);
				if (rc <= 0)
					return rc;
				any = 1;
			}
		}
	}
	return any;
}

/* Settle the external checks whose input is missing (see consumed). */
static int
settle_checks(struct build *b)
{
	struct graph *g = b->g;
	const struct task_priv *tp = dag_priv(b->dag)->tp;
	size_t i;
	int rc;

	for (i = 0; i < g->n_inst; i++) {
		struct instance *in = &g->inst[i];

		if (!tp[in->task].probe_target || in->forced ||
		    (in->state != INST_WAITING && in->state != INST_TODO))
			continue;
		rc = consumed(b, (uint32_t)i);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			g->inst[i].state = INST_DONE;
			g->inst[i].consumed = 1;
		}
	}
	return 0;
}

/*
 * Blocked: a missing instance whose need is waiting (or blocked).  One
 * iterative depth-first pass in post-order; a grey need is a cycle.
 */
static int
propagate(struct build *b)
{
	struct graph *g = b->g;
	char *colour = xcalloc(g->n_inst + 1, 1);
	struct frame { uint32_t inst, next; } *stack;
	size_t sp, i;
	int rc = 0;

	stack = xcalloc(g->n_inst + 1, sizeof(*stack));
	for (i = 0; i < g->n_inst && !rc; i++) {
		if (colour[i])
			continue;
		sp = 0;
		stack[sp++] = (struct frame){ (uint32_t)i, 0 };
		colour[i] = 1;
		while (sp && !rc) {
			struct frame *f = &stack[sp - 1];
			struct instance *in = &g->inst[f->inst];

			if (f->next < in->n_deps) {
				uint32_t d = g->deps[in->dep_off + f->next++];
				if (colour[d] == 1) {
					struct strbuf sb;
					size_t k = 0;

					while (stack[k].inst != d)
						k++;
					sb_init(&sb);
					for (; k < sp; k++)
						sb_addf(&sb, "%s %s -> ",
							b->dag->tasks[g->inst[stack[k].inst].task].name,
							g->parts[g->inst[stack[k].inst].part].id);
					sb_addf(&sb, "%s %s", b->dag->tasks[g->inst[d].task].name,
						g->parts[g->inst[d].part].id);
					rc = err_set(b->e, -ELOOP, "needs form a cycle among "
						"instances: %s", sb.buf);
					sb_release(&sb);
					break;
				}
				if (!colour[d]) {
					colour[d] = 1;
					stack[sp++] = (struct frame){ d, 0 };
				}
				continue;
			}
			if (in->state == INST_TODO) {
				uint32_t k;
				for (k = 0; k < in->n_deps; k++) {
					uint8_t s = g->inst[g->deps[in->dep_off + k]].state;
					if (s == INST_WAITING || s == INST_BLOCKED) {
						in->state = INST_BLOCKED;
						break;
					}
				}
			}
			colour[f->inst] = 2;
			sp--;
		}
	}
	free(stack);
	free(colour);
	return rc;
}

struct sort_ctx {
	const struct graph *g;
	const size_t *rank;	/* a task's place in dag->topo */
};

static int
part_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct partition *x = &c->g->parts[*(const uint32_t *)a];
	const struct partition *y = &c->g->parts[*(const uint32_t *)b];

	return (x->start > y->start) - (x->start < y->start);
}

static int
inst_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct instance *x = &c->g->inst[*(const uint32_t *)a];
	const struct instance *y = &c->g->inst[*(const uint32_t *)b];

	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return (c->rank[x->task] > c->rank[y->task]) -
		(c->rank[x->task] < c->rank[y->task]);
}

/* Partitions by start, instances by partition then task order. */
static void
sort_all(struct graph *g)
{
	size_t n = g->n_inst, i, k, nd = 0;
	uint32_t *po = xcalloc(g->n_parts + 1, sizeof(*po));
	uint32_t *pnew = xcalloc(g->n_parts + 1, sizeof(*pnew));
	uint32_t *order = xcalloc(n + 1, sizeof(*order));
	uint32_t *inew = xcalloc(n + 1, sizeof(*inew));
	size_t *rank = xcalloc(g->dag->n_tasks + 1, sizeof(*rank));
	struct partition *parts = xcalloc(g->n_parts + 1, sizeof(*parts));
	struct instance *inst = xcalloc(n + 1, sizeof(*inst));
	uint32_t *deps = xcalloc(g->n_deps + 1, sizeof(*deps));
	struct sort_ctx sc = { g, rank };

	for (i = 0; i < g->dag->n_tasks; i++)
		rank[g->dag->topo[i]] = i;
	for (i = 0; i < g->n_parts; i++)
		po[i] = (uint32_t)i;
	qsort_r(po, g->n_parts, sizeof(*po), part_cmp, &sc);
	for (i = 0; i < g->n_parts; i++) {
		pnew[po[i]] = (uint32_t)i;
		parts[i] = g->parts[po[i]];
	}
	for (i = 0; i < n; i++) {
		g->inst[i].part = pnew[g->inst[i].part];
		order[i] = (uint32_t)i;
	}
	qsort_r(order, n, sizeof(*order), inst_cmp, &sc);
	for (i = 0; i < n; i++)
		inew[order[i]] = (uint32_t)i;
	for (i = 0; i < n; i++) {
		const struct instance *o = &g->inst[order[i]];
		inst[i] = *o;
		inst[i].dep_off = (uint32_t)nd;
		for (k = 0; k < o->n_deps; k++)
			deps[nd++] = inew[g->deps[o->dep_off + k]];
	}
	free(g->parts);
	free(g->inst);
	free(g->deps);
	g->parts = parts;
	g->inst = inst;
	g->deps = deps;
	free(po);
	free(pnew);
	free(order);
	free(inew);
	free(rank);
}

int
graph_build(const struct dag *dag, const struct partition *parts,
	size_t n_parts, const struct graph_options *opt, struct graph **out,
	struct err *e)
{
	struct build b = { .dag = dag, .opt = opt, .e = e };
	struct graph *g = xcalloc(1, sizeof(*g));
	size_t qcap = 1024, qn = 0, qi, i, k;
	uint32_t *queue = xcalloc(qcap, sizeof(*queue));
	int rc = 0, created;

	*out = NULL;
	g->dag = dag;
	g->cache = target_cache_new();
	g->built_ms = wall_ms();
	b.g = g;
	hash_init(&b.parts, NULL);
	b.forced = xcalloc(dag->n_tasks + 1, 1);
	for (i = 0; opt && i < opt->n_force; i++) {
		int t = dag_task_index(dag, opt->force[i]);
		if (t < 0) {
			rc = err_set(e, -EINVAL, "unknown task '%s' for --force",
				opt->force[i]);
			goto out;
		}
		b.forced[t] = 1;
	}
	for (i = 0; i < n_parts; i++) {
		uint32_t pi = part_add(&b, &parts[i]);
		for (k = 0; k < dag->n_tasks; k++) {
			uint32_t idx = inst_get(&b, dag->topo[k], pi, &created);
			g->inst[idx].requested = 1;
			if (!created)
				continue;
			if (qn == qcap) {
				qcap *= 2;
				queue = xrealloc(queue, qcap * sizeof(*queue));
			}
			queue[qn++] = idx;
		}
	}
	for (qi = 0; qi < qn; qi++) {
		rc = visit(&b, queue[qi], &queue, &qn, &qcap);
		if (rc < 0)
			goto out;
	}
	rc = settle_checks(&b);
	if (rc < 0)
		goto out;
	rc = propagate(&b);
	if (rc < 0)
		goto out;
	sort_all(g);
out:
	free(queue);
	hash_release(&b.parts);
	free(b.slot);
	free(b.forced);
	if (rc < 0) {
		graph_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int
graph_build_range(const struct dag *dag, const char *from, const char *to,
	const struct graph_options *opt, struct graph **out, struct err *e)
{
	struct partition *parts = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = dag_partitions(dag, from, to, opt->now, &parts, &n, e);
	if (rc >= 0)
		rc = graph_build(dag, parts, n, opt, out, e);
	free(parts);
	return rc < 0 ? rc : 0;
}

void
graph_free(struct graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n_inst; i++) {
		free(g->inst[i].target);
		node_free(g->inst[i].inputs);
	}
	free(g->inst);
	free(g->parts);
	free(g->deps);
	target_cache_free(g->cache);
	free(g);
}

/* Binary search: instances are sorted by partition start, then task rank. */
static const struct instance *
find_inst(struct graph *g, size_t task, const struct partition *p)
{
	size_t lo = 0, hi = g->n_inst;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->parts[g->inst[mid].part].start < p->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < g->n_inst && g->parts[g->inst[lo].part].start == p->start;
	    lo++)
		if (g->inst[lo].task == task)
			return &g->inst[lo];
	return NULL;
}

static const char *
env_target(void *ctx, size_t task, const struct partition *p)
{
	const struct instance *in = find_inst(ctx, task, p);

	return in ? in->target : NULL;
}

static const struct node *
env_files(void *ctx, size_t task, const struct partition *p)
{
	const struct instance *in = find_inst(ctx, task, p);

	return in ? in->inputs : NULL;
}

void
graph_resolve_env(struct graph *g, struct resolve_env *env)
{
	memset(env, 0, sizeof(*env));
	env->need_target = env_target;
	env->need_files = env_files;
	env->ctx = g;
}
