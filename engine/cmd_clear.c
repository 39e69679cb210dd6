/*
 * dag-cli clear DAG TASK --date D [--downstream] [--yes]: remove targets
 * so the next run makes them again.  Targets are the truth of
 * completeness, so clearing is removing them, not editing history: a
 * table target loses its marker row (its rows are replaced by the next
 * load), a file or directory target is deleted.  External inputs are
 * never removed.  It lists what it would remove and asks first, because
 * --downstream can reach far: everything that needs a cleared instance,
 * transitively, up to the partition holding now (a task that needs its
 * own previous day would otherwise reach forever).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dag.h"
#include "hash.h"
#include "range.h"
#include "target.h"
#include "task_kind.h"
#include "util.h"

/* clear --help: what the command does, after its usage. */
static const char clear_about[] =
	"Removes the targets of TASK at the partitions given "
	"(and, with --downstream,\nof every instance that needs "
	"them, transitively), so the next run makes them\nagain.  "
	"Lists what it would remove and asks, unless --yes.  A table "
	"target\nloses its marker row; its rows are replaced by the "
	"next load.\n";

struct victim {
	size_t task;
	struct partition p;
};

/* The instances to clear, in the order found, each once. */
struct vset {
	struct victim *v;
	size_t n, cap;
	struct hash seen;	/* (task, partition start) */
};

/* Add (task, p) unless present; 1 when added. */
static int
vset_add(struct vset *s, size_t task, const struct partition *p)
{
	int64_t key[2] = { (int64_t)task, p->start };
	int added = 0;

	hash_add(&s->seen, key, sizeof(key), &added);
	if (!added)
		return 0;
	VEC_GROW(*s, s->n + 1);
	s->v[s->n].task = task;
	s->v[s->n].p = *p;
	s->n++;
	return 1;
}

/*
 * Everything downstream of the instances already in s: u at q needs t at
 * q+lo .. q+hi, so t at p is needed by u at p-hi .. p-lo.  Bounded by the
 * partition holding now, so a task that needs its own previous day stops.
 */
static void
add_downstream(const struct dag *dag, struct vset *s, int64_t now)
{
	struct partition limit;
	size_t i, u, k;
	int off;

	if (dag_partition_at(dag, now, &limit) < 0)
		limit.start = INT64_MAX;
	for (i = 0; i < s->n; i++) {
		struct victim v = s->v[i];

		for (u = 0; u < dag->n_tasks; u++)
			for (k = 0; k < dag->tasks[u].n_needs; k++) {
				const struct need *nd = &dag->tasks[u].needs[k];

				if (nd->task != v.task)
					continue;
				for (off = -nd->hi; off <= -nd->lo; off++) {
					struct partition q;

					if (dag_partition_step(dag, &v.p, off,
					    &q) < 0 || q.start > limit.start)
						continue;
					vset_add(s, u, &q);
				}
			}
	}
}

struct removal {
	size_t task;
	struct target_ref ref;
};

int
cmd_clear(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct vset vs = { 0 };
	struct { struct removal *v; size_t n, cap; } rm = { 0 };
	struct strbuf sb;
	struct err e;
	size_t n = 0, i;
	const char *from, *to;
	int rc = EXIT_USAGE, t, failed = 0;
	char line[64];

	hash_init(&vs.seen, NULL);
	err_clear(&e);
	if (cli_opts_start("clear", clear_about, argc, argv, &o, &rc))
		goto out;
	dag = cli_opts_range_dag("clear", &o, 2, &from, &to,
		"give a DAG, a TASK and --date D (or --from A --to B)");
	if (!dag || (t = cli_task_index("clear", dag, o.args[1])) < 0)
		goto out;
	if (dag_partitions(dag, from, to, cli_now(), &parts, &n, &e) < 0) {
		fprintf(stderr, "dag-cli clear: ");
		err_print(&e, stderr);
		goto out;
	}
	for (i = 0; i < n; i++)
		vset_add(&vs, (size_t)t, &parts[i]);
	if (o.downstream)
		add_downstream(dag, &vs, cli_now());
	for (i = 0; i < vs.n; i++) {
		const struct task *tk = &dag->tasks[vs.v[i].task];
		struct removal r;
		int have = 0;

		if (tk->kind->probe)
			continue;	/* never remove external inputs */
		r.task = vs.v[i].task;
		err_clear(&e);
		if (target_resolve(dag, r.task, &vs.v[i].p, NULL, &r.ref, &e) == 0
		    && r.ref.kind)
			have = r.ref.kind->exists(NULL, &r.ref, &e);
		if (have > 0)
			VEC_PUSH(rm, r);
		else
			target_ref_release(&r.ref);
	}
	rc = EXIT_OK;
	if (!rm.n) {
		printf("nothing to clear: no target of these instances exists\n");
		goto out;
	}
	printf("would remove:\n");
	sb_init(&sb);
	for (i = 0; i < rm.n; i++) {
		sb_reset(&sb);
		rm.v[i].ref.kind->describe(&rm.v[i].ref, &sb);
		printf("  %s %s %s\n", dag->tasks[rm.v[i].task].name,
			rm.v[i].ref.partition, sb.buf);
	}
	sb_release(&sb);
	if (!o.yes) {
		printf("remove %zu target%s? [y/N] ", rm.n, rm.n == 1 ? "" : "s");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) ||
		    (strcmp(line, "y\n") && strcmp(line, "yes\n") &&
		    strcmp(line, "y") && strcmp(line, "yes"))) {
			printf("nothing removed\n");
			goto out;
		}
	}
	for (i = 0; i < rm.n; i++) {
		err_clear(&e);
		if (rm.v[i].ref.kind->remove(&rm.v[i].ref, &e) < 0) {
			fprintf(stderr, "dag-cli clear: ");
			err_print(&e, stderr);
			failed++;
		}
	}
	printf("removed %zu target%s\n", rm.n - (size_t)failed,
		rm.n - (size_t)failed == 1 ? "" : "s");
	rc = failed ? EXIT_FAILED : EXIT_OK;
out:
	for (i = 0; i < rm.n; i++)
		target_ref_release(&rm.v[i].ref);
	free(rm.v);
	free(vs.v);
	hash_release(&vs.seen);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

