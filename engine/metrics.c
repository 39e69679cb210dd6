/*
 * Prometheus metrics of a DAG's history, in the text exposition format:
 * what /metrics serves and `dag-cli metrics DAG` prints (the seeds pushed
 * these to a Pushgateway from cron).  The names are fixed and the only
 * labels are dag, task and state or outcome, so the number of series
 * grows with tasks, never with partitions or runs.  Every value is an
 * aggregate that SQLite computes from the attempts and instances tables
 * in one read transaction per query; nothing is kept between scrapes.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "metrics.h"
#include "state.h"

/* Upper bounds of the duration histogram's buckets, seconds. */
static const double bounds[] = { 1, 5, 15, 60, 300, 900, 1800, 3600, 14400 };
#define NB ARRAY_LEN(bounds)

/* Attempt outcomes and recorded instance states, in a fixed order. */
static const char *const outcomes[] = { "done", "failed", "timeout",
	"interrupted" };
static const char *const inst_states[] = { "done", "failed", "timeout",
	"interrupted", "running" };

struct task_agg {
	double last_success;		/* unix seconds, 0 never */
	uint64_t bucket[NB];		/* cumulative counts */
	uint64_t count;
	double sum;
	int64_t records[3];		/* in, out, rejected */
	uint64_t attempts[ARRAY_LEN(outcomes)];
	uint64_t instances[ARRAY_LEN(inst_states)];
};

static int
index_of(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static void
query(struct state *st, const struct dag *dag, struct task_agg *agg)
{
	sqlite3_stmt *q;
	int t, k;

	if (sqlite3_prepare_v2(st->db, "SELECT task, state, started, "
	    "duration_s, records_in, records_out, records_rejected FROM "
	    "attempts WHERE dag=?1", -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, dag->name, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(q, 1);
		double dur = sqlite3_column_double(q, 3);
		struct task_agg *a;
		size_t b;

		t = dag_task_index(dag, (const char *)sqlite3_column_text(q, 0));
		k = index_of(outcomes, ARRAY_LEN(outcomes), state);
		if (t < 0 || k < 0)
			continue;
		a = &agg[t];
		a->attempts[k]++;
		if (k == 3)
			continue;	/* interrupted: no duration of its own */
		for (b = 0; b < NB; b++)
			if (dur <= bounds[b])
				a->bucket[b]++;
		a->count++;
		a->sum += dur;
		if (k != 0)
			continue;
		if ((double)sqlite3_column_int64(q, 2) / 1000 + dur >
		    a->last_success)
			a->last_success = (double)sqlite3_column_int64(q, 2) /
				1000 + dur;
		for (b = 0; b < 3; b++)
			if (sqlite3_column_type(q, 4 + (int)b) != SQLITE_NULL)
				a->records[b] += sqlite3_column_int64(q, 4 + (int)b);
	}
	sqlite3_finalize(q);
}

static void
count_instances(struct state *st, const struct dag *dag, struct task_agg *agg)
{
	struct inst_rec *recs = NULL;
	size_t n = 0, i;
	struct err e;

	err_clear(&e);
	if (state_instances(st, dag->name, NULL, NULL, wall_ms(), &recs, &n,
	    &e) < 0)
		return;
	for (i = 0; i < n; i++) {
		int t = dag_task_index(dag, recs[i].task);
		const char *s = recs[i].running ? "running" :
			attempt_state_name(recs[i].state);
		int k;

		/* A run that died left "running" behind: it was interrupted. */
		if (!recs[i].running && recs[i].state == ATTEMPT_RUNNING)
			s = "interrupted";
		k = index_of(inst_states, ARRAY_LEN(inst_states), s);
		if (t >= 0 && k >= 0)
			agg[t].instances[k]++;
	}
	state_inst_recs_free(recs, n);
}

static void
head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	sb_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_write(struct strbuf *sb, struct state *st,
	const struct dag *const *dags, size_t n)
{
	struct task_agg **aggs = xcalloc(n + 1, sizeof(*aggs));
	size_t d, t, k;

	for (d = 0; d < n; d++) {
		aggs[d] = xcalloc(dags[d]->n_tasks + 1, sizeof(**aggs));
		if (st) {
			query(st, dags[d], aggs[d]);
			count_instances(st, dags[d], aggs[d]);
		}
	}
#define EACH for (d = 0; d < n; d++) for (t = 0; t < dags[d]->n_tasks; t++)
#define LBL "dag=\"%s\",task=\"%s\""
#define ARGS dags[d]->name, dags[d]->tasks[t].name
	head(sb, "dag_last_success_unixtime", "gauge", "When the task's last "
		"successful attempt ended (unix seconds; 0 never).");
	EACH sb_addf(sb, "dag_last_success_unixtime{" LBL "} %.3f\n", ARGS,
		aggs[d][t].last_success);
	head(sb, "dag_task_duration_seconds", "histogram", "Durations of "
		"finished attempts (done, failed or timed out).");
	EACH {
		const struct task_agg *a = &aggs[d][t];

		for (k = 0; k < NB; k++)
			sb_addf(sb, "dag_task_duration_seconds_bucket{" LBL
				",le=\"%g\"} %llu\n", ARGS, bounds[k],
				(unsigned long long)a->bucket[k]);
		sb_addf(sb, "dag_task_duration_seconds_bucket{" LBL ",le=\"+Inf\"}"
			" %llu\n", ARGS, (unsigned long long)a->count);
		sb_addf(sb, "dag_task_duration_seconds_sum{" LBL "} %.3f\n",
			ARGS, a->sum);
		sb_addf(sb, "dag_task_duration_seconds_count{" LBL "} %llu\n",
			ARGS, (unsigned long long)a->count);
	}
	head(sb, "dag_records_total", "counter", "Records read (in), written "
		"(out) and rejected by successful attempts.");
	EACH {
		static const char *const oc[] = { "in", "out", "rejected" };

		for (k = 0; k < 3; k++)
			sb_addf(sb, "dag_records_total{" LBL ",outcome=\"%s\"} "
				"%lld\n", ARGS, oc[k],
				(long long)aggs[d][t].records[k]);
	}
	head(sb, "dag_attempts_total", "counter", "Attempts by outcome.");
	EACH for (k = 0; k < ARRAY_LEN(outcomes); k++)
		sb_addf(sb, "dag_attempts_total{" LBL ",outcome=\"%s\"} %llu\n",
			ARGS, outcomes[k],
			(unsigned long long)aggs[d][t].attempts[k]);
	head(sb, "dag_instances", "gauge", "Instances by their recorded state "
		"(running: leased by a live run).");
	EACH for (k = 0; k < ARRAY_LEN(inst_states); k++)
		sb_addf(sb, "dag_instances{" LBL ",state=\"%s\"} %llu\n", ARGS,
			inst_states[k],
			(unsigned long long)aggs[d][t].instances[k]);
#undef EACH
#undef LBL
#undef ARGS
	for (d = 0; d < n; d++)
		free(aggs[d]);
	free(aggs);
}
