/*
 * The JSON API under /api/ (documented in dag-cli.1):
 *
 *   GET  /api/dags                      the DAGs, each with its latest partition's states
 *   GET  /api/dags/D                    the definition (as graph --format json)
 *   GET  /api/dags/D/grid               task x partition as runs of equal state
 *   GET  /api/dags/D/status             status --json, paged
 *   GET  /api/dags/D/instance           one instance: its record and every attempt
 *   GET  /api/dags/D/log                a byte range of an attempt's log
 *   GET  /api/dags/D/graph.svg          the graph with one partition's states
 *   GET  /api/dags/D/progress           running (and the last finished) runs
 *   POST /api/dags/D/clear, /run        writes, behind the token
 *
 * The grid is what makes years of partitions cheap: rows are partitions,
 * sent as runs of consecutive ids ("2016-01-01" and a count), and each
 * task's column as runs of equal state (a count, then a state index), so
 * ten years of a healthy daily DAG is a few hundred bytes, not 18,250
 * objects.  Counting and joining is web_status.c's, shared with status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "graph_svg.h"
#include "node.h"
#include "range.h"
#include "task_kind.h"
#include "web_priv.h"

/* Most bytes of a log one request returns. */
#define LOG_CHUNK_MAX	(1 << 20)

/* ---- helpers ---- */

static long
num_arg(const struct web_req *r, const char *key, long def)
{
	char buf[32];
	const char *v = web_req_arg(r, key, buf, sizeof(buf));
	char *end;
	long n;

	if (!v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || end == v || n < 0)
		return -1;
	return n;
}

static json_t *
state_counts(const struct web_status *s, int requested_only)
{
	long counts[WS__COUNT] = { 0 };
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < s->g->n_inst; i++)
		if (!requested_only || s->g->inst[i].requested)
			counts[s->state[i]]++;
	for (i = 0; i < WS__COUNT; i++)
		if (counts[i])
			json_object_set_new(o, web_state_names[i],
				json_integer(counts[i]));
	return o;
}

/*
 * The status of d over the request's from/to (kept by web_cache.c: do not
 * release it); NULL after replying with the error.
 */
static const struct web_status *
status_of(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	char fb[32], tb[32];
	const char *from = web_req_arg(r, "from", fb, sizeof(fb));
	const char *to = web_req_arg(r, "to", tb, sizeof(tb));
	const struct web_status *s;
	struct err e;

	err_clear(&e);
	if (!from != !to) {
		web_reply_error(rep, 400, "give both from and to, or neither");
		return NULL;
	}
	s = web_status_get(r->ctx, d->dag, from, to, &e);
	if (!s)
		web_reply_error(rep, e.code == -EINVAL ? 400 : 500, "%s", e.msg);
	return s;
}

/* ---- /api/dags ---- */

static void
api_dags(struct web_req *r, struct web_reply *rep)
{
	struct web_ctx *c = r->ctx;
	json_t *list = json_array();
	size_t i;

	web_dags_scan(c);
	for (i = 0; i < c->dags.n; i++) {
		struct web_dag *d = &c->dags.v[i];
		json_t *o = json_object();
		struct web_status s;
		char *first = NULL, *last = NULL;
		struct err e;

		json_object_set_new(o, "name", json_string(d->dag ? d->dag->name :
			d->name));
		json_object_set_new(o, "file", json_string(d->path));
		if (!d->dag) {
			json_object_set_new(o, "error", json_string(d->error));
			json_array_append_new(list, o);
			continue;
		}
		json_object_set_new(o, "description", d->dag->description ?
			json_string(d->dag->description) : json_null());
		json_object_set_new(o, "schedule", json_string(
			d->dag->schedule == SCHEDULE_DAILY ? "daily" : "hourly"));
		json_object_set_new(o, "tasks", json_integer((json_int_t)
			d->dag->n_tasks));
		err_clear(&e);
		if (web_state(c) && state_partition_span(web_state(c),
		    d->dag->name, &first, &last, &e) == 0) {
			json_object_set_new(o, "first", json_string(first));
			json_object_set_new(o, "latest", json_string(last));
			if (web_status_build(web_state(c), d->dag, last, last,
			    cli_now(), &s, &e) == 0)
				json_object_set_new(o, "latest_states",
					state_counts(&s, 1));
			web_status_release(&s);
		}
		free(first);
		free(last);
		json_array_append_new(list, o);
	}
	web_reply_json(rep, json_pack("{s:o}", "dags", list));
}

/* ---- /api/dags/D/grid ---- */

/* The id after id, counting civil days or hours; "" when there is none. */
static void
next_id(const char *id, char *out, size_t n)
{
	int y, m, d, h, used = 0;
	int64_t yy, days;

	out[0] = '\0';
	if (strlen(id) == 10 && sscanf(id, "%4d-%2d-%2d%n", &y, &m, &d,
	    &used) == 3 && used == 10) {
		civil_from_days(civil_days(y, m, d) + 1, &yy, &m, &d);
		snprintf(out, n, "%04d-%02d-%02d", (int)yy, m, d);
	} else if (strlen(id) == 13 && sscanf(id, "%4d-%2d-%2dT%2d%n", &y, &m,
	    &d, &h, &used) == 4 && used == 13) {
		days = civil_days(y, m, d);
		if (++h == 24) {
			h = 0;
			days++;
		}
		civil_from_days(days, &yy, &m, &d);
		snprintf(out, n, "%04d-%02d-%02dT%02d", (int)yy, m, d, h);
	}
}

/* Append a run of n rows in state st to col, merging with the last run. */
static void
add_run(json_t *col, long n, long st)
{
	size_t len = json_array_size(col);

	if (len && json_integer_value(json_array_get(col, len - 1)) == st) {
		json_t *cnt = json_array_get(col, len - 2);

		json_integer_set(cnt, json_integer_value(cnt) + n);
		return;
	}
	json_array_append_new(col, json_integer(n));
	json_array_append_new(col, json_integer(st));
}

/* The row (index into rows) of graph partition p; rows are sorted. */
static size_t
row_of(const size_t *rows, size_t n, size_t p)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rows[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Task x's column over rows off..end as [count, state, ...]: engine/status's
 * runs of equal state (status_runs), as rows, the states as indexes into
 * web_state_names; -1 where the task has no instance.
 */
static json_t *
column(const struct web_status *s, size_t x, const size_t *rows, size_t nrows,
	size_t off, size_t end)
{
	struct status_run *runs = NULL;
	size_t n, k, next = 0, at = off;
	json_t *col = json_array();

	n = status_runs(&s->st, x, rows[off], rows[end - 1] - rows[off] + 1,
		&runs, &next);
	for (k = 0; k < n; k++) {
		size_t first = row_of(rows, nrows, runs[k].first);
		size_t last = row_of(rows, nrows, runs[k].last);

		if (first >= end || last < off)
			continue;
		if (first < off)
			first = off;
		if (last >= end)
			last = end - 1;
		if (first > at)
			add_run(col, (long)(first - at), -1);
		add_run(col, (long)(last - first + 1),
			web_state_index(runs[k].state));
		at = last + 1;
	}
	if (at < end)
		add_run(col, (long)(end - at), -1);
	free(runs);
	return col;
}

static void
api_grid(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	const struct dag *dag = d->dag;
	const struct web_status *s;
	json_t *root, *parts, *cells, *tasks, *states;
	size_t *rows = NULL, nrows = 0, i, k, t, off, lim, end;
	char want[24] = "";

	if (!(s = status_of(r, d, rep)))
		return;
	off = (size_t)num_arg(r, "offset", 0);
	lim = (size_t)num_arg(r, "limit", 1000000);
	if ((long)off < 0 || (long)lim < 0) {
		web_reply_error(rep, 400, "offset and limit are whole numbers");
		goto out;
	}
	rows = xcalloc(s->g->n_parts + 1, sizeof(*rows));
	for (i = 0; i < s->g->n_inst; i++)
		if (s->g->inst[i].requested && (nrows == 0 ||
		    rows[nrows - 1] != s->g->inst[i].part))
			rows[nrows++] = s->g->inst[i].part;
	if (off > nrows)
		off = nrows;
	end = lim > nrows - off ? nrows : off + lim;
	parts = json_array();
	for (k = off; k < end; k++) {
		const char *id = s->g->parts[rows[k]].id;
		json_t *last = json_array_size(parts) ?
			json_array_get(parts, json_array_size(parts) - 1) : NULL;

		if (last && !strcmp(id, want)) {
			json_array_set_new(last, 1, json_integer(
				json_integer_value(json_array_get(last, 1)) + 1));
		} else {
			json_array_append_new(parts, json_pack("[s,i]", id, 1));
		}
		next_id(id, want, sizeof(want));
	}
	tasks = json_array();
	cells = json_array();
	for (t = 0; t < dag->n_tasks; t++) {
		size_t x = dag->topo[t];

		json_array_append_new(tasks, json_string(dag->tasks[x].name));
		json_array_append_new(cells, end > off ?
			column(s, x, rows, nrows, off, end) : json_array());
	}
	states = json_array();
	for (i = 0; i < WS__COUNT; i++)
		json_array_append_new(states, json_string(web_state_names[i]));
	root = json_object();
	json_object_set_new(root, "dag", json_string(dag->name));
	json_object_set_new(root, "schedule", json_string(
		dag->schedule == SCHEDULE_DAILY ? "daily" : "hourly"));
	json_object_set_new(root, "from", json_string(s->from));
	json_object_set_new(root, "to", json_string(s->to));
	json_object_set_new(root, "total", json_integer((json_int_t)nrows));
	json_object_set_new(root, "offset", json_integer((json_int_t)off));
	json_object_set_new(root, "count", json_integer((json_int_t)(end - off)));
	json_object_set_new(root, "states", states);
	json_object_set_new(root, "tasks", tasks);
	json_object_set_new(root, "partitions", parts);
	json_object_set_new(root, "cells", cells);
	json_object_set_new(root, "counts", state_counts(s, 1));
	web_reply_json(rep, root);
out:
	free(rows);
}

/* ---- /api/dags/D/status: status --json, paged ---- */

static void
api_status(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	const struct web_status *s;
	json_t *root, *list;
	long off = num_arg(r, "offset", 0), lim = num_arg(r, "limit", 100000);
	long seen = 0, total = 0;
	size_t i;

	if (off < 0 || lim < 0) {
		web_reply_error(rep, 400, "offset and limit are whole numbers");
		return;
	}
	if (!(s = status_of(r, d, rep)))
		return;
	list = json_array();
	for (i = 0; i < s->g->n_inst; i++) {
		if (!s->g->inst[i].requested)
			continue;
		total++;
		if (seen++ < off || (long)json_array_size(list) >= lim)
			continue;
		json_array_append_new(list, status_inst_json(&s->st, i, 0));
	}
	root = json_object();
	json_object_set_new(root, "dag", json_string(d->dag->name));
	json_object_set_new(root, "instances", list);
	json_object_set_new(root, "total", json_integer(total));
	json_object_set_new(root, "offset", json_integer(off));
	web_reply_json(rep, root);
}

/* ---- /api/dags/D/instance ---- */

/* task and partition arguments, checked; replies and returns -1 if bad. */
static int
instance_args(struct web_req *r, struct web_dag *d, char *task, size_t tn,
	char *part, size_t pn, struct web_reply *rep)
{
	if (!web_req_arg(r, "task", task, tn) ||
	    !web_req_arg(r, "partition", part, pn)) {
		web_reply_error(rep, 400, "give task and partition");
		return -1;
	}
	if (dag_task_index(d->dag, task) < 0) {
		web_reply_error(rep, 404, "DAG '%s' has no task '%s'",
			d->dag->name, task);
		return -1;
	}
	if (!web_segment_ok(part) || strlen(part) > 20) {
		web_reply_error(rep, 400, "bad partition '%s'", part);
		return -1;
	}
	return 0;
}

static json_t *
col_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	default:
		return json_string((const char *)sqlite3_column_text(st, i));
	}
}

/* The rejects file a clean instance writes, or NULL. */
static char *
rejects_path(const struct dag *dag, int t, const char *part)
{
	struct partition *parts = NULL;
	struct node *fields = NULL;
	struct resolve_env env;
	char *target = NULL, *path = NULL;
	const char *rj, *out;
	size_t n = 0;
	struct err e;

	if (strcmp(dag->tasks[t].kind->name, "clean"))
		return NULL;
	err_clear(&e);
	memset(&env, 0, sizeof(env));
	env.now = cli_now();
	if (dag_partitions(dag, part, part, env.now, &parts, &n, &e) < 0 ||
	    n != 1 || dag_resolve(dag, (size_t)t, &parts[0], &env, &fields,
	    &target, &e) < 0)
		goto out;
	rj = node_get_str(fields, "rejects");
	out = node_get_str(fields, "output");
	if (rj)
		path = xstrdup(rj);
	else if (out)
		path = xasprintf("%s.rejects.csv", out);
out:
	node_free(fields);
	free(target);
	free(parts);
	return path;
}

static void
api_instance(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	struct state *st = web_state(r->ctx);
	char task[128], part[64];
	sqlite3_stmt *q = NULL;
	json_t *root, *list;
	struct web_status s;
	struct err e;
	char *rj;
	int t;
	size_t i;

	if (instance_args(r, d, task, sizeof(task), part, sizeof(part), rep) < 0)
		return;
	t = dag_task_index(d->dag, task);
	err_clear(&e);
	root = json_object();
	json_object_set_new(root, "dag", json_string(d->dag->name));
	json_object_set_new(root, "task", json_string(task));
	json_object_set_new(root, "partition", json_string(part));
	json_object_set_new(root, "kind", json_string(
		d->dag->tasks[t].kind->name));
	if (web_status_build(st, d->dag, part, part, cli_now(), &s, &e) < 0) {
		json_decref(root);
		web_reply_error(rep, e.code == -EINVAL ? 400 : 500, "%s", e.msg);
		web_status_release(&s);
		return;
	}
	for (i = 0; i < s.g->n_inst; i++)
		if (s.g->inst[i].requested && s.g->inst[i].task == (uint32_t)t) {
			json_object_set_new(root, "state", json_string(
				web_state_names[s.state[i]]));
			if (s.g->inst[i].target)
				json_object_set_new(root, "target",
					json_string(s.g->inst[i].target));
		}
	web_status_release(&s);
	rj = rejects_path(d->dag, t, part);
	json_object_set_new(root, "rejects", rj ? json_string(rj) : json_null());
	free(rj);
	list = json_array();
	/* Each attempt with its run's git provenance (schema 4 on). */
	if (st && sqlite3_prepare_v2(st->db, st->version >= 4 ?
	    "SELECT a.attempt, a.state, a.exit_code, a.signal, a.started, "
	    "a.duration_s, a.max_rss_kb, a.records_in, a.records_out, "
	    "a.records_rejected, a.error, a.run_id, r.git_commit, r.git_dirty "
	    "FROM attempts a LEFT JOIN runs r ON r.id=a.run_id WHERE "
	    "a.dag=?1 AND a.task=?2 AND a.partition=?3 ORDER BY a.attempt" :
	    "SELECT attempt, state, exit_code, "
	    "signal, started, duration_s, max_rss_kb, records_in, records_out, "
	    "records_rejected, error, run_id, NULL, NULL FROM attempts WHERE "
	    "dag=?1 AND task=?2 AND partition=?3 ORDER BY attempt", -1, &q,
	    NULL) == SQLITE_OK) {
		static const char *const names[] = { "attempt", "state",
			"exit_code", "signal", "started_ms", "duration_s",
			"max_rss_kb", "records_in", "records_out",
			"records_rejected", "error", "run", "commit" };

		sqlite3_bind_text(q, 1, d->dag->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, task, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, part, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			json_t *o = json_object();

			for (i = 0; i < ARRAY_LEN(names); i++)
				json_object_set_new(o, names[i], col_json(q,
					(int)i));
			json_object_set_new(o, "dirty", sqlite3_column_type(q,
				(int)i) == SQLITE_NULL ? json_null() :
				json_boolean(sqlite3_column_int(q, (int)i)));
			json_array_append_new(list, o);
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	/* An attempt still running is only in instances and leases. */
	if (st && sqlite3_prepare_v2(st->db, "SELECT i.attempts, l.since FROM "
	    "instances i JOIN leases l ON l.dag=i.dag AND l.task=i.task AND "
	    "l.partition=i.partition WHERE i.dag=?1 AND i.task=?2 AND "
	    "i.partition=?3", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, d->dag->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, task, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, part, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			int n = sqlite3_column_int(q, 0);
			json_t *lastone = json_array_size(list) ?
				json_array_get(list, json_array_size(list) - 1) :
				NULL;

			if (n > 0 && (!lastone || json_integer_value(
			    json_object_get(lastone, "attempt")) < n))
				json_array_append_new(list, json_pack(
					"{s:i,s:s,s:I}", "attempt", n, "state",
					"running", "started_ms",
					(json_int_t)sqlite3_column_int64(q, 1)));
		}
		sqlite3_finalize(q);
	}
	json_object_set_new(root, "attempts", list);
	web_reply_json(rep, root);
}

/* ---- /api/dags/D/log ---- */

/*
 * Reply with bytes offset .. offset+limit of the regular file fd (closed
 * here): at most LOG_CHUNK_MAX, with Content-Range and X-Log-Size so a
 * client tails a growing file by asking from where it stopped.
 */
static void
send_range(struct web_req *r, int fd, struct web_reply *rep)
{
	long off = num_arg(r, "offset", 0), lim = num_arg(r, "limit", 65536);
	struct stat sb;
	ssize_t got;

	if (off < 0 || lim < 0) {
		close(fd);
		web_reply_error(rep, 400, "offset and limit are whole numbers");
		return;
	}
	if (lim > LOG_CHUNK_MAX)
		lim = LOG_CHUNK_MAX;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		web_reply_error(rep, 403, "not a regular file");
		return;
	}
	if (off > sb.st_size)
		off = sb.st_size;
	if (lim > sb.st_size - off)
		lim = sb.st_size - off;
	sb_grow(&rep->body, (size_t)lim + 1);
	got = lim ? pread(fd, rep->body.buf, (size_t)lim, off) : 0;
	close(fd);
	if (web_reply_read(rep, (long)got, "text/plain; charset=utf-8") < 0)
		return;
	snprintf(rep->range, sizeof(rep->range), "bytes %ld-%ld/%lld", off,
		off + (long)got - 1, (long long)sb.st_size);
	snprintf(rep->extra, sizeof(rep->extra), "X-Log-Size: %lld",
		(long long)sb.st_size);
}

static void
api_log(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	struct state *st = web_state(r->ctx);
	char task[128], part[64], file[96];
	const char *segs[3];
	long attempt = num_arg(r, "attempt", 0);
	int fd;

	if (instance_args(r, d, task, sizeof(task), part, sizeof(part), rep) < 0)
		return;
	if (attempt < 1) {
		web_reply_error(rep, 400, "give attempt (from 1)");
		return;
	}
	if (!st) {
		web_reply_error(rep, 404, "no state database yet");
		return;
	}
	/*
	 * The name comes from checked parts, never from the database or the
	 * request as a path: DAG/TASK/PARTITION.ATTEMPT.log under the logs
	 * directory, opened without following links.
	 */
	snprintf(file, sizeof(file), "%s.%ld.log", part, attempt);
	segs[0] = d->dag->name;
	segs[1] = task;
	segs[2] = file;
	fd = web_open_under(st->logs_dir, segs, 3);
	if (fd < 0) {
		web_reply_error(rep, fd == -ENOENT ? 404 : 403, "no log for "
			"attempt %ld of %s %s", attempt, task, part);
		return;
	}
	send_range(r, fd, rep);
}

/* ---- /api/dags/D/rejects ---- */

/*
 * The rejects file of a clean instance.  Its path comes from the
 * definition (resolved for the instance), never from the request.
 */
static void
api_rejects(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	char task[128], part[64];
	char *path;
	int fd;

	if (instance_args(r, d, task, sizeof(task), part, sizeof(part), rep) < 0)
		return;
	path = rejects_path(d->dag, dag_task_index(d->dag, task), part);
	if (!path) {
		web_reply_error(rep, 404, "task '%s' writes no rejects", task);
		return;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		web_reply_error(rep, 404, "no rejects file for %s %s", task, part);
		return;
	}
	send_range(r, fd, rep);
	rep->type = "text/csv; charset=utf-8";
}

/* ---- /api/dags/D/graph.svg ---- */

static void
api_svg(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	const char **states = NULL;
	struct web_status s;
	struct err e;
	char pb[32], *first = NULL, *last = NULL;
	const char *part = web_req_arg(r, "partition", pb, sizeof(pb));
	char *svg;
	size_t i;

	err_clear(&e);
	if (!d->svg) {
		d->svg = graph_svg_layout(d->dag, &e);
		if (!d->svg) {
			web_reply_error(rep, 500, "%s", e.msg);
			return;
		}
	}
	if (!part && web_state(r->ctx) && state_partition_span(web_state(r->ctx),
	    d->dag->name, &first, &last, &e) == 0)
		part = last;
	states = xcalloc(d->dag->n_tasks + 1, sizeof(*states));
	if (part && web_status_build(web_state(r->ctx), d->dag, part, part,
	    cli_now(), &s, &e) == 0) {
		for (i = 0; i < s.g->n_inst; i++)
			if (s.g->inst[i].requested)
				states[s.g->inst[i].task] =
					web_state_names[s.state[i]];
	}
	if (part)
		web_status_release(&s);
	svg = graph_svg_colour(d->dag, d->svg, states);
	sb_reset(&rep->body);
	sb_adds(&rep->body, svg);
	free(svg);
	free(states);
	free(first);
	free(last);
	rep->status = 200;
	rep->type = "image/svg+xml";
}

void
web_api(struct web_req *r, struct web_reply *rep)
{
	const struct web_path *p = &r->path;
	int post = !strcmp(r->method, "POST");
	struct web_dag *d;
	const char *what;

	if (p->n < 2 || strcmp(p->seg[1], "dags") || p->n > 4) {
		web_reply_error(rep, 404, "no such API endpoint");
		return;
	}
	if (p->n == 2) {
		if (post)
			web_reply_error(rep, 405, "GET only");
		else
			api_dags(r, rep);
		return;
	}
	d = web_dag_find(r->ctx, p->seg[2]);
	if (!d) {
		web_reply_error(rep, 404, "no DAG '%s'", p->seg[2]);
		return;
	}
	if (!d->dag) {
		web_reply_error(rep, 422, "%s", d->error);
		return;
	}
	what = p->n == 4 ? p->seg[3] : "";
	if (post) {
		if (!strcmp(what, "clear") || !strcmp(what, "run"))
			web_api_write(r, d, what, rep);
		else
			web_reply_error(rep, 405, "POST is for clear and run");
		return;
	}
	if (!*what) {
		char *s = cmd_graph_json(d->dag);

		sb_reset(&rep->body);
		sb_adds(&rep->body, s);
		free(s);
		rep->status = 200;
		rep->type = "application/json";
	} else if (!strcmp(what, "grid")) {
		api_grid(r, d, rep);
	} else if (!strcmp(what, "status")) {
		api_status(r, d, rep);
	} else if (!strcmp(what, "instance")) {
		api_instance(r, d, rep);
	} else if (!strcmp(what, "log")) {
		api_log(r, d, rep);
	} else if (!strcmp(what, "rejects")) {
		api_rejects(r, d, rep);
	} else if (!strcmp(what, "graph.svg")) {
		api_svg(r, d, rep);
	} else if (!strcmp(what, "progress")) {
		web_api_progress(r, d, rep);
	} else {
		web_reply_error(rep, 404, "no such API endpoint");
	}
}
