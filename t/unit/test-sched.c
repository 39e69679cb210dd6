/*
 * The scheduler alone: a DAG loaded from text, a real state database in a
 * temporary directory, a fake clock and a fake executor that is not the
 * process pool.  The fake records every request and completes the
 * running attempts one per loop turn, oldest first, with the exit status
 * the case asks for, so order, retries, limits and failure propagation
 * are seen without a process being started.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli.h"
#include "dag.h"
#include "executor.h"
#include "graph.h"
#include "scheduler.h"
#include "state.h"
#include "unit.h"

#define FAKE_MAX 256

struct fake_start {
	void *token;
	char task[32];
	char part[24];
	int attempt;
	int64_t now;
	int had_command;
	int had_tmp;
};

struct fake {
	uv_idle_t idle;
	struct executor *x;
	struct fake_start log[FAKE_MAX];	/* every start, in order */
	size_t n_log;
	size_t running[FAKE_MAX];	/* indexes into log, oldest first */
	size_t n_running;
	size_t max_running;
	size_t max_pooled;		/* most tasks named pooled* at once */
	/* The exit status of a start (0 succeeds). */
	int (*outcome)(const struct fake_start *st);
	int64_t wall_step_ms;	/* the wall clock moves this much a reading */
	int64_t wall_reads;
	int64_t recheck_ms;	/* sched_options.recheck_ms */
};

static int
always_ok(const struct fake_start *st)
{
	(void)st;
	return 0;
}

static size_t
pooled_running(struct fake *f)
{
	size_t k, n = 0;

	for (k = 0; k < f->n_running; k++)
		if (!strncmp(f->log[f->running[k]].task, "pooled", 6))
			n++;
	return n;
}

/* One loop turn: the oldest running attempt ends. */
static void
on_idle(uv_idle_t *h)
{
	struct fake *f = h->data;
	struct fake_start *st;
	struct exec_result res;

	if (!f->n_running) {
		uv_idle_stop(h);
		return;
	}
	st = &f->log[f->running[0]];
	memmove(f->running, f->running + 1,
		--f->n_running * sizeof(*f->running));
	exec_result_init(&res);
	res.token = st->token;
	res.exit_code = f->outcome(st);
	res.duration_ms = 5;
	res.published = res.exit_code == 0 && st->had_tmp;
	if (!f->n_running)
		uv_idle_stop(h);
	f->x->on_result(f->x, &res);
}

static int
fake_open(struct executor *x, struct err *e)
{
	struct fake *f = x->arg;

	(void)e;
	f->x = x;
	x->priv = f;
	uv_idle_init(x->loop, &f->idle);
	f->idle.data = f;
	return 0;
}

static int
fake_start(struct executor *x, const struct exec_request *rq, struct err *e)
{
	struct fake *f = x->priv;
	const struct instance *in = &rq->g->inst[rq->inst];
	struct fake_start *st;

	if (f->n_log == FAKE_MAX || f->n_running >= x->slots)
		return err_set(e, -EBUSY, "the fake is full");
	st = &f->log[f->n_log];
	st->token = rq->token;
	snprintf(st->task, sizeof(st->task), "%s",
		rq->dag->tasks[in->task].name);
	snprintf(st->part, sizeof(st->part), "%s", rq->g->parts[in->part].id);
	st->attempt = rq->attempt;
	st->now = rq->now;
	st->had_command = rq->command != NULL;
	st->had_tmp = rq->tmp_target != NULL;
	f->running[f->n_running++] = f->n_log++;
	if (f->n_running > f->max_running)
		f->max_running = f->n_running;
	if (pooled_running(f) > f->max_pooled)
		f->max_pooled = pooled_running(f);
	uv_idle_start(&f->idle, on_idle);
	return 0;
}

static void
fake_cancel(struct executor *x, void *token, int sig)
{
	(void)x;
	(void)token;
	(void)sig;
}

static void
fake_cancel_all(struct executor *x, int sig)
{
	(void)x;
	(void)sig;
}

static void
fake_close(struct executor *x)
{
	struct fake *f = x->priv;

	uv_close((uv_handle_t *)&f->idle, NULL);
}

static const struct exec_ops fake_ops = {
	.name = "fake",
	.open = fake_open,
	.start = fake_start,
	.cancel = fake_cancel,
	.cancel_all = fake_cancel_all,
	.close = fake_close,
};

/* The fake clock: fixed values a case can look for. */
#define FAKE_NOW 1767225600		/* 2026-01-01T00:00:00Z */
#define FAKE_WALL_MS 1700000000123LL

static int64_t
fake_now(void *arg)
{
	(void)arg;
	return FAKE_NOW;
}

static int64_t
fake_wall(void *arg)
{
	struct fake *f = arg;

	return FAKE_WALL_MS + f->wall_step_ms * f->wall_reads++;
}

static char dir[64];

/* A fresh directory to run in, with the DAG written to d.yaml. */
static struct dag *
setup(const char *yaml)
{
	struct errs errs = { 0 };
	struct dag *dag = NULL;
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/test-sched-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(chdir(dir), ==, 0);
	fp = fopen("d.yaml", "w");
	CHECK(fp != NULL);
	fputs(yaml, fp);
	fclose(fp);
	if (dag_load("d.yaml", &dag, &errs) < 0)
		errs_print(&errs, stderr);
	errs_release(&errs);
	CHECK(dag != NULL);
	return dag;
}

static void
cleanup(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	CHECK_INT(chdir("/"), ==, 0);
	CHECK_INT(system(cmd), ==, 0);
	free(cmd);
}

/* One case: its DAG, the fake executor (and its log), its state database. */
struct sched_case {
	struct dag *dag;
	struct fake f;
	struct state st;
};

/*
 * Run the case's DAG from..to with -j jobs through the fake; returns the
 * exit status.
 */
static int
run(struct sched_case *c, const char *from, const char *to, int jobs,
	int reverse)
{
	struct dag *dag = c->dag;
	struct fake *f = &c->f;
	struct state *st = &c->st;

	struct graph_options gopt = { 0 };
	struct sched_options so;
	struct graph *g = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	gopt.now = FAKE_NOW;
	CHECK_INT(graph_build_range(dag, from, to, &gopt, &g, &e), ==, 0);
	CHECK_INT(state_open(st, "state.db", 0, &e), ==, 0);
	memset(&so, 0, sizeof(so));
	so.jobs = jobs;
	so.reverse = reverse;
	so.quiet = 1;
	so.now = fake_now;
	so.wall_ms = fake_wall;
	so.clock_arg = f;
	so.recheck_ms = f->recheck_ms;
	so.executor = &fake_ops;
	so.executor_arg = f;
	if (!f->outcome)
		f->outcome = always_ok;
	rc = sched_run(dag, g, st, &so, &e);
	if (rc < 0)
		UNIT_FAIL("sched_run: %s", e.msg);
	graph_free(g);
	return rc;
}

static const char chain[] =
	"dag: d\n"
	"schedule: daily\n"
	"timezone: UTC\n"
	"start: 2026-01-01\n"
	"defaults:\n"
	"  retry_delay: 1ms\n"
	"tasks:\n"
	"  a:\n"
	"    kind: command\n"
	"    run: \"echo a > {target}\"\n"
	"    target: \"out/{date}-a.txt\"\n"
	"  b:\n"
	"    kind: command\n"
	"    needs: [a]\n"
	"    run: \"echo b > {target}\"\n"
	"    target: \"out/{date}-b.txt\"\n"
	"  c:\n"
	"    kind: command\n"
	"    needs: [b]\n"
	"    run: \"echo c > {target}\"\n"
	"    target: \"out/{date}-c.txt\"\n";

/*
 * The first starts f logged are want's, in order: "task partition" each,
 * want ending with NULL.
 */
static void
check_starts(const struct fake *f, const char *const *want)
{
	size_t k;

	for (k = 0; want[k]; k++) {
		char *got;

		if (k >= f->n_log)
			UNIT_FAIL("start %zu of %zu wanted", k, f->n_log);
		got = xasprintf("%s %s", f->log[k].task, f->log[k].part);
		CHECK_STR(got, want[k]);
		free(got);
	}
}

/* End a case: its state, its DAG and its directory. */
static void
teardown(struct sched_case *c)
{
	state_release(&c->st);
	dag_free(c->dag);
	cleanup();
}

UNIT_TEST(runs_needs_first_and_oldest_partition_first)
{
	struct sched_case c = { .dag = setup(chain) };

	CHECK_INT(run(&c, "2026-01-01", "2026-01-02", 1, 0), ==,
		EXIT_OK);
	CHECK_INT(c.f.n_log, ==, 6);
	/* A ready older partition goes before a newer one. */
	check_starts(&c.f, (const char *const[]){
		"a 2026-01-01",
		"b 2026-01-01",
		"c 2026-01-01",
		"a 2026-01-02",
		"b 2026-01-02",
		"c 2026-01-02",
		NULL });
	CHECK_INT(c.f.max_running, ==, 1);
	CHECK(c.f.log[0].had_command);
	CHECK(c.f.log[0].had_tmp);
	teardown(&c);
}

UNIT_TEST(reverse_runs_newest_partition_first)
{
	struct sched_case c = { .dag = setup(chain) };

	CHECK_INT(run(&c, "2026-01-01", "2026-01-03", 1, 1), ==,
		EXIT_OK);
	check_starts(&c.f, (const char *const[]){
		"a 2026-01-03",
		"b 2026-01-03",
		"c 2026-01-03",
		"a 2026-01-02",
		NULL });
	teardown(&c);
}

/* b fails on its first two attempts. */
static int
b_fails_twice(const struct fake_start *st)
{
	return !strcmp(st->task, "b") && st->attempt <= 2 ? 1 : 0;
}

UNIT_TEST(retries_until_success_with_new_attempt_numbers)
{
	static const char yaml[] =
		"dag: d\nschedule: daily\ntimezone: UTC\nstart: 2026-01-01\n"
		"tasks:\n"
		"  a: {kind: command, run: \"x {target}\", target: \"o/{date}-a\"}\n"
		"  b: {kind: command, needs: [a], retries: 2, retry_delay: 1ms,"
		" run: \"x {target}\", target: \"o/{date}-b\"}\n";
	struct sched_case c = { .dag = setup(yaml) };
	size_t k, n_b = 0;

	c.f.outcome = b_fails_twice;
	CHECK_INT(run(&c, "2026-01-01", "2026-01-01", 2, 0), ==,
		EXIT_OK);
	for (k = 0; k < c.f.n_log; k++)
		if (!strcmp(c.f.log[k].task, "b"))
			CHECK_INT(c.f.log[k].attempt, ==, (int)++n_b);
	CHECK_INT(n_b, ==, 3);
	teardown(&c);
}

static int
b_always_fails(const struct fake_start *st)
{
	return !strcmp(st->task, "b");
}

UNIT_TEST(retries_run_out_and_the_failure_propagates_downstream)
{
	static const char yaml[] =
		"dag: d\nschedule: daily\ntimezone: UTC\nstart: 2026-01-01\n"
		"tasks:\n"
		"  a: {kind: command, run: \"x {target}\", target: \"o/{date}-a\"}\n"
		"  b: {kind: command, needs: [a], retries: 1, retry_delay: 1ms,"
		" run: \"x {target}\", target: \"o/{date}-b\"}\n"
		"  c: {kind: command, needs: [b], run: \"x {target}\","
		" target: \"o/{date}-c\"}\n"
		"  d: {kind: command, needs: [c], run: \"x {target}\","
		" target: \"o/{date}-d\"}\n"
		"  side: {kind: command, needs: [a], run: \"x {target}\","
		" target: \"o/{date}-side\"}\n";
	struct sched_case c = { .dag = setup(yaml) };
	size_t k, n_b = 0, n_side = 0;

	c.f.outcome = b_always_fails;
	CHECK_INT(run(&c, "2026-01-01", "2026-01-01", 2, 0), ==,
		EXIT_FAILED);
	for (k = 0; k < c.f.n_log; k++) {
		CHECK(strcmp(c.f.log[k].task, "c") &&
			strcmp(c.f.log[k].task, "d"));
		n_b += !strcmp(c.f.log[k].task, "b");
		n_side += !strcmp(c.f.log[k].task, "side");
	}
	CHECK_INT(n_b, ==, 2);
	CHECK_INT(n_side, ==, 1);
	teardown(&c);
}

UNIT_TEST(pool_limits_and_jobs_bound_what_runs_at_once)
{
	static const char yaml[] =
		"dag: d\nschedule: daily\ntimezone: UTC\nstart: 2026-01-01\n"
		"pools: {db: 1}\n"
		"tasks:\n"
		"  pooled1: {kind: command, pool: db, run: \"x {target}\","
		" target: \"o/{date}-p1\"}\n"
		"  pooled2: {kind: command, pool: db, run: \"x {target}\","
		" target: \"o/{date}-p2\"}\n"
		"  free1: {kind: command, run: \"x {target}\", target: \"o/{date}-f1\"}\n"
		"  free2: {kind: command, run: \"x {target}\", target: \"o/{date}-f2\"}\n";
	struct sched_case c = { .dag = setup(yaml) };

	CHECK_INT(run(&c, "2026-01-01", "2026-01-04", 3, 0), ==,
		EXIT_OK);
	CHECK_INT(c.f.n_log, ==, 16);
	CHECK_INT(c.f.max_pooled, ==, 1);
	CHECK_INT(c.f.max_running, ==, 3);
	teardown(&c);
}

/*
 * Another live run (another host, its heartbeat fresh) holds the lease of
 * the second day's pooled instance.  The pool's queue goes on with the
 * third and fourth days; the held one runs last, taken over once the
 * other run's heartbeat is too old (the fake wall clock moves 100 ms a
 * reading, so that happens after a few hundred re-looks).
 */
UNIT_TEST(a_lease_held_elsewhere_does_not_stall_the_pool)
{
	static const char yaml[] =
		"dag: d\nschedule: daily\ntimezone: UTC\nstart: 2026-01-01\n"
		"pools: {db: 1}\n"
		"tasks:\n"
		"  pooled: {kind: command, pool: db, run: \"x {target}\","
		" target: \"o/{date}\"}\n";
	static const char *const order[] = { "2026-01-01", "2026-01-03",
		"2026-01-04", "2026-01-02" };
	struct sched_case c = { .dag = setup(yaml) };
	struct err e;
	char *sql;
	size_t k;

	err_clear(&e);
	CHECK_INT(state_open(&c.st, "state.db", 0, &e), ==, 0);
	sql = xasprintf("INSERT INTO runs(id, dag, host, pid, started, "
		"heartbeat) VALUES(77, 'd', 'elsewhere', 1, %lld, %lld);"
		"INSERT INTO leases(dag, task, partition, run_id, since) "
		"VALUES('d', 'pooled', '2026-01-02', 77, %lld)",
		FAKE_WALL_MS, FAKE_WALL_MS, FAKE_WALL_MS);
	CHECK_INT(sqlite3_exec(c.st.db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	free(sql);
	state_release(&c.st);
	c.f.wall_step_ms = 100;
	c.f.recheck_ms = 1;
	CHECK_INT(run(&c, "2026-01-01", "2026-01-04", 2, 0), ==,
		EXIT_OK);
	CHECK_INT(c.f.n_log, ==, 4);
	for (k = 0; k < c.f.n_log && k < ARRAY_LEN(order); k++)
		CHECK_STR(c.f.log[k].part, order[k]);
	CHECK_INT(c.f.max_pooled, ==, 1);
	teardown(&c);
}

UNIT_TEST(the_clock_comes_from_the_options)
{
	struct sched_case c = { .dag = setup(chain) };
	sqlite3_stmt *q;
	size_t k;

	CHECK_INT(run(&c, "2026-01-01", "2026-01-01", 2, 0), ==,
		EXIT_OK);
	for (k = 0; k < c.f.n_log; k++)
		CHECK_INT(c.f.log[k].now, ==, FAKE_NOW);
	CHECK_INT(sqlite3_prepare_v2(c.st.db, "SELECT count(*), min(started), "
		"max(started) FROM attempts", -1, &q, NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(q), ==, SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(q, 0), ==, 3);
	CHECK_INT(sqlite3_column_int64(q, 1), ==, FAKE_WALL_MS);
	CHECK_INT(sqlite3_column_int64(q, 2), ==, FAKE_WALL_MS);
	sqlite3_finalize(q);
	CHECK_INT(sqlite3_prepare_v2(c.st.db, "SELECT started, finished FROM runs",
		-1, &q, NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(q), ==, SQLITE_ROW);
	CHECK_INT(sqlite3_column_int64(q, 0), ==, FAKE_WALL_MS);
	CHECK_INT(sqlite3_column_int64(q, 1), ==, FAKE_WALL_MS);
	sqlite3_finalize(q);
	teardown(&c);
}

UNIT_MAIN(runs_needs_first_and_oldest_partition_first,
	reverse_runs_newest_partition_first,
	retries_until_success_with_new_attempt_numbers,
	retries_run_out_and_the_failure_propagates_downstream,
	pool_limits_and_jobs_bound_what_runs_at_once,
	a_lease_held_elsewhere_does_not_stall_the_pool,
	the_clock_comes_from_the_options)
