/*
 * The commands that run a DAG or look at its history: run, backfill,
 * status, logs, clear, and the hidden __run-instance worker mode (one
 * built-in instance given as JSON, run in this process: the seam a remote
 * executor uses).  Each loads the DAG, builds the instance graph from the
 * targets (the truth of completeness) and reads or writes the state
 * database (the history).
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "exec_slurm.h"
#include "graph.h"
#include "instance.h"
#include "node.h"
#include "range.h"
#include "scheduler.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"
#include "util.h"

static int
positive(const char *cmd, const char *opt, const char *v, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < 0) {
		fprintf(stderr, "dag-cli %s: %s expects a whole number, not '%s'\n",
			cmd, opt, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* today - n days in the DAG's zone, as YYYY-MM-DD (into buf). */
static int
days_back(const struct dag *dag, long n, int64_t now, char *buf, size_t len,
	struct err *e)
{
	struct partition *parts = NULL;
	struct partition_info info;
	size_t np = 0;
	int64_t y;
	int m, d;

	if (dag_partitions(dag, "today", "today", now, &parts, &np, e) < 0)
		return -EINVAL;
	dag_partition_info(dag, &parts[0], &info);
	free(parts);
	{
		int yy;

		if (sscanf(info.date, "%4d-%2d-%2d", &yy, &m, &d) != 3)
			return err_set(e, -EINVAL, "bad date '%s'", info.date);
		y = yy;
	}
	civil_from_days(civil_days(y, m, d) - n, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
	return 0;
}

static char *
join_args(int argc, char **argv)
{
	struct strbuf sb;
	int i;

	sb_init(&sb);
	sb_adds(&sb, "dag-cli");
	for (i = 0; i < argc; i++) {
		sb_addc(&sb, ' ');
		sb_adds(&sb, argv[i]);
	}
	return sb_detach(&sb);
}

static void
run_help(const char *cmd)
{
	cli_usage(cmd, stdout);
	printf("\nMakes the targets exist: missing instances run in a pool of "
		"worker processes,\nneeds first, with retries and timeouts; "
		"every attempt is recorded in the state\ndatabase with its log "
		"(see dag-cli logs).\n\n"
		"\nExit status: 0 every target exists, 1 an instance failed, "
		"2 usage or\ndefinition error, 3 external inputs still missing, "
		"130/143 interrupted.\n");
}

/* The run's "now": the one the graph was built with (cli_now). */
static int64_t
now_of(void *arg)
{
	return *(const int64_t *)arg;
}

static int
run_common(const char *cmd, int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct sched_options so;
	struct exec_choice xc = { 0 };
	struct state st;
	struct err e;
	char from_buf[16];
	const char *from, *to;
	size_t n = 0;
	long v;
	int rc = EXIT_USAGE, backfill = !strcmp(cmd, "backfill");
	int st_open = 0;
	char *args = NULL;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	memset(&so, 0, sizeof(so));
	if (cli_opts_parse(cmd, argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		run_help(cmd);
		rc = EXIT_OK;
		goto out;
	}
	/* The parser already refused the options a command does not list. */
	if (o.n_args != 1 || (!backfill && !o.date) ||
	    (backfill && (o.days_back ? (o.from || o.to) :
	    !(o.from && o.to)))) {
		fprintf(stderr, backfill ?
			"dag-cli backfill: give one DAG and --from A --to B, or "
			"--days-back N\n" :
			"dag-cli run: give one DAG and --date D\n");
		cli_usage(cmd, stderr);
		goto out;
	}
	if (o.jobs) {
		if (positive(cmd, "-j", o.jobs, &v) < 0 || v < 1) {
			if (v < 1 && o.jobs)
				fprintf(stderr, "dag-cli %s: -j needs at least 1\n",
					cmd);
			goto out;
		}
		so.jobs = (int)v;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	gopt.now = cli_now();
	from = o.date ? o.date : o.from;
	to = o.date ? o.date : o.to;
	if (o.days_back) {
		if (positive(cmd, "--days-back", o.days_back, &v) < 0)
			goto out;
		if (days_back(dag, v, gopt.now, from_buf, sizeof(from_buf),
		    &e) < 0)
			goto fail;
		from = from_buf;
		to = "today";
	}
	gopt.force = o.force.v;
	gopt.n_force = o.force.n;
	if (dag_partitions(dag, from, to, gopt.now, &parts, &n, &e) < 0 ||
	    graph_build(dag, parts, n, &gopt, &g, &e) < 0)
		goto fail;
	if (state_open(&st, cli_state_path(o.state), 0, &e) < 0)
		goto fail;
	st_open = 1;
	args = join_args(argc, argv);
	so.reverse = o.reverse;
	so.json = o.json;
	so.fsync = o.fsync;
	so.progress = isatty(2);
	so.args = args;
	so.now = now_of;
	so.clock_arg = &gopt.now;
	if (exec_choose(&xc, dag, o.executor, o.partition, o.account,
	    o.sbatch_options.v, o.sbatch_options.n, cli_state_path(o.state),
	    &e) < 0)
		goto fail;
	so.executor = xc.ops;
	so.executor_arg = &xc.conf;
	/* Slurm queues what it cannot start yet: keep it fed. */
	if (xc.ops && !so.jobs)
		so.jobs = SLURM_JOBS;
	rc = sched_run(dag, g, &st, &so, &e);
	if (rc < 0)
		goto fail;
	goto out;
fail:
	fprintf(stderr, "dag-cli %s: ", cmd);
	err_print(&e, stderr);
	rc = e.code == -EINVAL || e.code == -ELOOP ? EXIT_USAGE : EXIT_FAILED;
out:
	if (st_open)
		state_release(&st);
	exec_choice_release(&xc);
	free(args);
	graph_free(g);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

int
cmd_run(int argc, char **argv)
{
	return run_common("run", argc, argv);
}

int
cmd_backfill(int argc, char **argv)
{
	return run_common("backfill", argc, argv);
}

/* ---- status ---- */

/* The first instance of each partition (instances are sorted by it). */
static size_t *
part_index(const struct graph *g)
{
	size_t *first = xcalloc(g->n_parts + 1, sizeof(*first));
	size_t i;

	for (i = 0; i <= g->n_parts; i++)
		first[i] = g->n_inst;
	for (i = g->n_inst; i-- > 0;)
		first[g->inst[i].part] = i;
	return first;
}

static long
find_part(const struct graph *g, const char *id)
{
	size_t lo = 0, hi = g->n_parts;

	/* Partition ids sort like their starts (a repeated hour's 'b' too). */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(g->parts[mid].id, id);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum sstate { S_DONE, S_FAILED, S_MISSING, S_WAITING, S_RUNNING, S_UPSTREAM };
static const char *const sstate_name[] = { "done", "failed", "missing",
	"waiting", "running", "upstream_failed" };

struct status_row {
	const struct inst_rec *rec;
	uint8_t state;
};

static void
compute_status(const struct graph *g, const struct inst_rec *recs, size_t nr,
	struct status_row *rows)
{
	const struct dag *dag = g->dag;
	size_t *first = part_index(g);
	size_t i, k;

	for (i = 0; i < nr; i++) {
		long p = find_part(g, recs[i].partition);
		int t = dag_task_index(dag, recs[i].task);

		if (p < 0 || t < 0)
			continue;
		for (k = first[p]; k < g->n_inst && g->inst[k].part == (uint32_t)p;
		    k++)
			if (g->inst[k].task == (uint32_t)t)
				rows[k].rec = &recs[i];
	}
	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];
		const struct inst_rec *r = rows[i].rec;
		uint8_t s = S_MISSING;

		if (r && r->running)
			s = S_RUNNING;
		else if (in->state == INST_DONE)
			s = S_DONE;
		else if (in->state == INST_WAITING || in->state == INST_BLOCKED)
			s = S_WAITING;
		else if (r && (!strcmp(r->state, "failed") ||
		    !strcmp(r->state, "timeout")))
			s = S_FAILED;
		else
			for (k = 0; k < in->n_deps; k++) {
				uint8_t d = rows[g->deps[in->dep_off + k]].state;

				if (d == S_FAILED || d == S_UPSTREAM)
					s = S_UPSTREAM;
			}
		rows[i].state = s;
	}
	free(first);
}

static json_t *
count_json(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static void
status_json(const struct graph *g, const struct status_row *rows)
{
	json_t *root = json_object(), *list = json_array();
	size_t i;
	char *s;

	json_object_set_new(root, "dag", json_string(g->dag->name));
	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];
		const struct inst_rec *r = rows[i].rec;
		json_t *o;

		if (!in->requested)
			continue;
		o = json_object();
		json_object_set_new(o, "task",
			json_string(g->dag->tasks[in->task].name));
		json_object_set_new(o, "partition",
			json_string(g->parts[in->part].id));
		json_object_set_new(o, "state",
			json_string(sstate_name[rows[i].state]));
		json_object_set_new(o, "attempts",
			json_integer(r ? r->attempts : 0));
		json_object_set_new(o, "records_in",
			count_json(r ? r->records_in : -1));
		json_object_set_new(o, "records_out",
			count_json(r ? r->records_out : -1));
		json_object_set_new(o, "records_rejected",
			count_json(r ? r->records_rejected : -1));
		json_object_set_new(o, "duration_s", r && r->attempts &&
			strcmp(r->state, "running") ?
			json_real(r->duration_s) : json_null());
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "instances", list);
	s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2) |
		JSON_REAL_PRECISION(6));
	printf("%s\n", s);
	free(s);
	json_decref(root);
}

static void
status_grid(const struct graph *g, const struct status_row *rows, int tty)
{
	static const char *const colour[] = { "\033[32m", "\033[31m", "",
		"\033[33m", "\033[36m", "\033[35m" };
	const struct dag *dag = g->dag;
	size_t *first = part_index(g);
	size_t i, k, t, w = 15;
	int *col = xcalloc(dag->n_tasks + 1, sizeof(*col));
	/* One row's cells, by task index: a DAG may have any number. */
	const char **cell = xcalloc(dag->n_tasks + 1, sizeof(*cell));
	uint8_t *cs = xcalloc(dag->n_tasks + 1, sizeof(*cs));

	printf("%-13s", "partition");
	for (t = 0; t < dag->n_tasks; t++) {
		size_t len = strlen(dag->tasks[dag->topo[t]].name);

		col[dag->topo[t]] = (int)(len > w ? len : w);
		/* The last column is not padded: no trailing blanks. */
		printf(" %-*s", t + 1 < dag->n_tasks ? col[dag->topo[t]] : 0,
			dag->tasks[dag->topo[t]].name);
	}
	printf("\n");
	for (i = 0; i < g->n_parts; i++) {
		int any = 0;

		for (t = 0; t < dag->n_tasks; t++)
			cell[t] = NULL;
		for (k = first[i]; k < g->n_inst && g->inst[k].part == i; k++) {
			if (!g->inst[k].requested)
				continue;
			cell[g->inst[k].task] = sstate_name[rows[k].state];
			cs[g->inst[k].task] = rows[k].state;
			any = 1;
		}
		if (!any)
			continue;
		printf("%-13s", g->parts[i].id);
		for (t = 0; t < dag->n_tasks; t++) {
			size_t x = dag->topo[t];

			int wd = t + 1 < dag->n_tasks ? col[x] : 0;

			if (tty && cell[x])
				printf(" %s%-*s\033[0m", colour[cs[x]], wd,
					cell[x]);
			else
				printf(" %-*s", wd, cell[x] ? cell[x] : "-");
		}
		printf("\n");
	}
	free(cs);
	free(cell);
	free(col);
	free(first);
}

int
cmd_status(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct state st;
	struct inst_rec *recs = NULL;
	struct status_row *rows = NULL;
	struct err e;
	char *first = NULL, *last = NULL;
	const char *from, *to;
	size_t n = 0, nr = 0;
	int rc = EXIT_USAGE, have_state = 0;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	if (cli_opts_parse("status", argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		cli_usage("status", stdout);
		printf("\nPrints each instance's state: done (target exists), "
			"failed, missing,\nwaiting (external input), running (leased "
			"by a live run), upstream_failed.\nWithout a range: the "
			"partitions the state database has seen.\n");
		rc = EXIT_OK;
		goto out;
	}
	if (o.n_args != 1 || (!o.from != !o.to) || (o.date && o.from)) {
		fprintf(stderr, "dag-cli status: give one DAG, and --date D or "
			"--from A --to B or neither\n");
		cli_usage("status", stderr);
		goto out;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	gopt.now = cli_now();
	if (state_open(&st, cli_state_path(o.state), 1, &e) == 0)
		have_state = 1;
	err_clear(&e);
	from = o.date ? o.date : o.from;
	to = o.date ? o.date : o.to;
	if (!from) {
		if (have_state && state_partition_span(&st, dag->name, &first,
		    &last, &e) == 0) {
			from = first;
			to = last;
		} else {
			from = to = "today";
		}
	}
	if (dag_partitions(dag, from, to, gopt.now, &parts, &n, &e) < 0 ||
	    graph_build(dag, parts, n, &gopt, &g, &e) < 0)
		goto fail;
	if (have_state && state_instances(&st, dag->name, NULL, NULL,
	    gopt.now * 1000, &recs, &nr, &e) < 0)
		goto fail;
	rows = xcalloc(g->n_inst + 1, sizeof(*rows));
	compute_status(g, recs, nr, rows);
	if (o.json)
		status_json(g, rows);
	else
		status_grid(g, rows, isatty(1));
	rc = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "dag-cli status: ");
	err_print(&e, stderr);
	rc = e.code == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
out:
	free(rows);
	state_inst_recs_free(recs, nr);
	state_release(&st);
	free(first);
	free(last);
	graph_free(g);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

/* ---- logs ---- */

/* The one partition --date names; -1 (message printed) otherwise. */
static int
one_partition(const char *cmd, const struct dag *dag, const char *date,
	struct partition *out)
{
	struct partition *parts = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (dag_partitions(dag, date, date, cli_now(), &parts, &n, &e) < 0) {
		fprintf(stderr, "dag-cli %s: ", cmd);
		err_print(&e, stderr);
		return -1;
	}
	if (n != 1) {
		fprintf(stderr, "dag-cli %s: '%s' names %zu partitions of an "
			"hourly DAG; give one hour (YYYY-MM-DDTHH)\n", cmd, date, n);
		free(parts);
		return -1;
	}
	*out = parts[0];
	free(parts);
	return 0;
}

int
cmd_logs(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition p;
	struct state st;
	struct err e;
	char *path = NULL, buf[65536];
	long attempt = 0;
	int rc = EXIT_USAGE, at = 0;
	size_t got;
	FILE *fp;

	err_clear(&e);
	memset(&st, 0, sizeof(st));
	if (cli_opts_parse("logs", argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		cli_usage("logs", stdout);
		printf("\nPrints the log of an instance's latest attempt (or "
			"attempt N): the command's\nstdout and stderr, and why "
			"it failed.\n");
		rc = EXIT_OK;
		goto out;
	}
	if (o.n_args != 2 || !o.date) {
		fprintf(stderr, "dag-cli logs: give a DAG, a TASK and --date D\n");
		cli_usage("logs", stderr);
		goto out;
	}
	if (o.attempt && (positive("logs", "--attempt", o.attempt, &attempt) < 0
	    || attempt < 1)) {
		if (attempt < 1 && o.attempt)
			fprintf(stderr, "dag-cli logs: attempts count from 1\n");
		goto out;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	if (dag_task_index(dag, o.args[1]) < 0) {
		fprintf(stderr, "dag-cli logs: DAG '%s' has no task '%s'\n",
			dag->name, o.args[1]);
		goto out;
	}
	if (one_partition("logs", dag, o.date, &p) < 0)
		goto out;
	rc = EXIT_FAILED;
	if (state_open(&st, cli_state_path(o.state), 1, &e) < 0 ||
	    (e.code = state_attempt_log(&st, dag->name, o.args[1], p.id,
	    (int)attempt, &path, &at, &e)) < 0) {
		if (e.code == -ENOENT)
			fprintf(stderr, "dag-cli logs: no %s of %s %s is "
				"recorded\n", attempt ? "such attempt" : "attempt",
				o.args[1], p.id);
		else
			err_print(&e, stderr);
		goto out;
	}
	fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "dag-cli logs: cannot open '%s': %s\n", path,
			strerror(errno));
		goto out;
	}
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, got, stdout);
	fclose(fp);
	rc = EXIT_OK;
out:
	free(path);
	state_release(&st);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

/* ---- clear ---- */

struct victim {
	size_t task;
	struct partition p;
};

struct vset {
	struct victim *v;
	size_t n, cap;
	uint64_t *keys;		/* open addressing on (task, start) */
	size_t kcap;
};

static uint64_t
vkey(size_t task, int64_t start)
{
	return ((uint64_t)start << 10 ^ (uint64_t)task) + 1;
}

static void
vset_rehash(struct vset *s)
{
	size_t i, j, ncap = s->kcap ? s->kcap * 2 : 256;

	free(s->keys);
	s->keys = xcalloc(ncap, sizeof(*s->keys));
	s->kcap = ncap;
	for (i = 0; i < s->n; i++) {
		uint64_t k = vkey(s->v[i].task, s->v[i].p.start);

		for (j = (k * 0x9E3779B97F4A7C15ULL) >> 40 & (ncap - 1); s->keys[j];
		    j = (j + 1) & (ncap - 1))
			;
		s->keys[j] = k;
	}
}

/* Add (task, p) unless present; 1 when added. */
static int
vset_add(struct vset *s, size_t task, const struct partition *p)
{
	uint64_t k = vkey(task, p->start);
	size_t j;

	if ((s->n + 1) * 2 > s->kcap)
		vset_rehash(s);
	for (j = (k * 0x9E3779B97F4A7C15ULL) >> 40 & (s->kcap - 1); s->keys[j];
	    j = (j + 1) & (s->kcap - 1))
		if (s->keys[j] == k)
			return 0;
	s->keys[j] = k;
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
	char partition[24];
	char *path;		/* file target, or NULL */
	char *database;		/* table target */
};

int
cmd_clear(int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct vset vs = { 0 };
	struct { struct removal *v; size_t n, cap; } rm = { 0 };
	struct err e;
	size_t n = 0, i;
	int rc = EXIT_USAGE, t, failed = 0;
	char line[64];

	err_clear(&e);
	if (cli_opts_parse("clear", argc, argv, &o) < 0)
		goto out;
	if (o.help) {
		cli_usage("clear", stdout);
		printf("\nRemoves the targets of TASK at the partitions given "
			"(and, with --downstream,\nof every instance that needs "
			"them, transitively), so the next run makes them\nagain.  "
			"Lists what it would remove and asks, unless --yes.  A table "
			"target\nloses its marker row; its rows are replaced by the "
			"next load.\n");
		rc = EXIT_OK;
		goto out;
	}
	if (o.n_args != 2 || (!o.date && !(o.from && o.to)) ||
	    (o.date && (o.from || o.to))) {
		fprintf(stderr, "dag-cli clear: give a DAG, a TASK and --date D "
			"(or --from A --to B)\n");
		cli_usage("clear", stderr);
		goto out;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	t = dag_task_index(dag, o.args[1]);
	if (t < 0) {
		fprintf(stderr, "dag-cli clear: DAG '%s' has no task '%s'\n",
			dag->name, o.args[1]);
		goto out;
	}
	if (dag_partitions(dag, o.date ? o.date : o.from,
	    o.date ? o.date : o.to, cli_now(), &parts, &n, &e) < 0) {
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
		int have;

		memset(&r, 0, sizeof(r));
		r.task = vs.v[i].task;
		snprintf(r.partition, sizeof(r.partition), "%s", vs.v[i].p.id);
		err_clear(&e);
		if (tk->kind->probe)
			continue;	/* never remove external inputs */
		if (tk->target_type == TARGET_TABLE) {
			r.database = dag_resolve_database(dag, r.task,
				&vs.v[i].p, NULL, &e);
			have = r.database ? target_table_exists(NULL, r.database,
				tk->table, r.partition, &e) : 0;
		} else if (tk->target_type != TARGET_NONE) {
			have = dag_resolve_target(dag, r.task, &vs.v[i].p, NULL,
				&r.path, &e) == 0 ?
				target_file_exists(NULL, r.path, &e) : 0;
		} else {
			have = 0;
		}
		if (have > 0) {
			VEC_PUSH(rm, r);
		} else {
			free(r.path);
			free(r.database);
		}
	}
	rc = EXIT_OK;
	if (!rm.n) {
		printf("nothing to clear: no target of these instances exists\n");
		goto out;
	}
	printf("would remove:\n");
	for (i = 0; i < rm.n; i++) {
		const struct task *tk = &dag->tasks[rm.v[i].task];

		if (rm.v[i].path)
			printf("  %s %s %s\n", tk->name, rm.v[i].partition,
				rm.v[i].path);
		else
			printf("  %s %s table %s in %s\n", tk->name,
				rm.v[i].partition, tk->table, rm.v[i].database);
	}
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
		const struct task *tk = &dag->tasks[rm.v[i].task];
		int r;

		err_clear(&e);
		if (rm.v[i].path) {
			r = target_file_remove(rm.v[i].path);
			if (r < 0)
				fprintf(stderr, "dag-cli clear: cannot remove "
					"'%s': %s\n", rm.v[i].path, strerror(-r));
		} else {
			r = target_table_remove(rm.v[i].database, tk->table,
				rm.v[i].partition, &e);
			if (r < 0) {
				fprintf(stderr, "dag-cli clear: ");
				err_print(&e, stderr);
			}
		}
		if (r < 0)
			failed++;
	}
	printf("removed %zu target%s\n", rm.n - (size_t)failed,
		rm.n - (size_t)failed == 1 ? "" : "s");
	rc = failed ? EXIT_FAILED : EXIT_OK;
out:
	for (i = 0; i < rm.n; i++) {
		free(rm.v[i].path);
		free(rm.v[i].database);
	}
	free(rm.v);
	free(vs.v);
	free(vs.keys);
	free(parts);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

/* ---- __run-instance ---- */

static char *
read_all(const char *path)
{
	struct strbuf sb;
	char buf[8192];
	size_t n;
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!fp)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		sb_add(&sb, buf, n);
	if (fp != stdin)
		fclose(fp);
	sb_addc(&sb, '\0');
	return sb_detach(&sb);
}

static int
print_instance(struct cli_opts *o)
{
	struct dag *dag = NULL;
	struct partition *parts = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct partition p;
	struct err e;
	char *json = NULL;
	size_t n = 0, i;
	int t, rc = EXIT_USAGE;

	err_clear(&e);
	dag = cli_load_dag(o->args[0], o->dags);
	if (!dag)
		return EXIT_USAGE;
	t = dag_task_index(dag, o->args[1]);
	if (t < 0 || one_partition("__run-instance", dag, o->date, &p) < 0)
		goto out;
	gopt.now = cli_now();
	if (dag_partitions(dag, p.id, p.id, gopt.now, &parts, &n, &e) < 0 ||
	    graph_build(dag, parts, n, &gopt, &g, &e) < 0)
		goto fail;
	for (i = 0; i < g->n_inst; i++)
		if (g->inst[i].task == (uint32_t)t && g->inst[i].requested)
			break;
	json = i < g->n_inst ? instance_json(dag, g, i, gopt.now, &e) : NULL;
	if (!json)
		goto fail;
	printf("%s\n", json);
	rc = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "dag-cli __run-instance: ");
	err_print(&e, stderr);
out:
	free(json);
	graph_free(g);
	free(parts);
	dag_free(dag);
	return rc;
}

int
cmd_run_instance(int argc, char **argv)
{
	struct cli_opts o;
	struct err e;
	char *text;
	int rc = EXIT_USAGE;

	err_clear(&e);
	if (cli_opts_parse("__run-instance", argc, argv, &o) < 0)
		goto out;
	if (o.help || (o.print ? o.n_args != 2 || !o.date : o.n_args != 1)) {
		fprintf(o.help ? stdout : stderr, "usage: dag-cli __run-instance "
			"FILE.json\n       dag-cli __run-instance --print DAG TASK "
			"--date D\n\nRuns one resolved instance (a built-in kind in "
			"this process, a command\nunder /bin/sh -c, publishing its "
			"target): what a remote executor or a\nworker starts.  "
			"--print writes that JSON for an instance.\n");
		rc = o.help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if (o.print) {
		rc = print_instance(&o);
		goto out;
	}
	text = read_all(o.args[0]);
	if (!text) {
		fprintf(stderr, "dag-cli __run-instance: cannot read '%s': %s\n",
			o.args[0], strerror(errno));
		goto out;
	}
	rc = instance_run_json(text, &e);
	if (rc < 0) {
		fprintf(stderr, "dag-cli __run-instance: ");
		err_print(&e, stderr);
		rc = EXIT_USAGE;
	}
	free(text);
out:
	cli_opts_release(&o);
	return rc;
}
