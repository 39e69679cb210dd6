/*
 * The runs of a DAG in the web API: GET /api/dags/D/progress (the live
 * runs and the last finished one, counted over the dates each covers) and
 * the writes behind the token, POST /api/dags/D/clear and /run, which run
 * dag-cli's own commands in a child so the server never holds a write
 * transaction.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "web_priv.h"

/* ---- /api/dags/D/progress ---- */

/* The value of --name in a recorded command line ("--from X", "--from=X"). */
static int
arg_value(const char *args, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	const char *p = args;

	while ((p = strstr(p, name))) {
		const char *v = NULL;

		if ((p == args || p[-1] == ' ') && p[len] == ' ')
			v = p + len + 1;
		else if ((p == args || p[-1] == ' ') && p[len] == '=')
			v = p + len + 1;
		if (v) {
			size_t k = strcspn(v, " ");

			if (k == 0 || k >= n)
				return -1;
			memcpy(out, v, k);
			out[k] = '\0';
			return 0;
		}
		p += len;
	}
	return -1;
}

/*
 * The dates a `--days-back N` run covered, as it resolved them when it
 * started (at started_s): N days before its today, to its today; both ""
 * when n does not parse.  n may be from's buffer.
 */
static void
days_back_range(const struct dag *dag, char *n, int64_t started_s, char *from,
	char *to, size_t size)
{
	char *end;
	long v = strtol(n, &end, 10);
	int ok = end != n && !*end && v >= 0;
	struct err e;

	err_clear(&e);
	if (!ok || cli_days_back(dag, 0, started_s, to, size, &e) < 0 ||
	    cli_days_back(dag, v, started_s, from, size, &e) < 0)
		from[0] = to[0] = '\0';
}

static json_t *
run_progress(struct web_req *r, struct web_dag *d, sqlite3_stmt *q,
	int64_t now_ms)
{
	struct state *st = web_state(r->ctx);
	int64_t id = sqlite3_column_int64(q, 0);
	const char *args = (const char *)sqlite3_column_text(q, 1);
	int64_t started = sqlite3_column_int64(q, 2);
	int finished = sqlite3_column_type(q, 3) != SQLITE_NULL;
	char from[32], to[32];
	long n[WS__COUNT] = { 0 };
	const struct web_status *s;
	sqlite3_stmt *c = NULL;
	long made = 0, left, k;
	double rate, secs;
	json_t *o;
	struct err e;
	size_t i;

	err_clear(&e);
	if (!args)
		args = "";
	if (arg_value(args, "--date", from, sizeof(from)) == 0)
		strcpy(to, from);
	else if (arg_value(args, "--days-back", from, sizeof(from)) == 0)
		days_back_range(d->dag, from, started / 1000, from, to,
			sizeof(to));
	else if (arg_value(args, "--from", from, sizeof(from)) < 0 ||
	    arg_value(args, "--to", to, sizeof(to)) < 0)
		from[0] = to[0] = '\0';
	o = json_pack("{s:I,s:s,s:I,s:b}", "run", (json_int_t)id, "args", args,
		"started_ms", (json_int_t)started, "running", !finished);
	if (finished) {
		json_object_set_new(o, "finished_ms", json_integer(
			sqlite3_column_int64(q, 3)));
		json_object_set_new(o, "status", json_integer(
			sqlite3_column_int(q, 4)));
	}
	if (from[0] && (s = web_status_get(r->ctx, d->dag, from, to, &e))) {
		for (i = 0; i < s->g->n_inst; i++)
			if (s->g->inst[i].requested)
				n[s->state[i]]++;
		json_object_set_new(o, "from", json_string(from));
		json_object_set_new(o, "to", json_string(to));
	}
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM attempts WHERE "
	    "run_id=?1 AND state='done'", -1, &c, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(c, 1, id);
		if (sqlite3_step(c) == SQLITE_ROW)
			made = sqlite3_column_int(c, 0);
		sqlite3_finalize(c);
	}
	left = n[WS_MISSING] + n[WS_WAITING] + n[WS_STALE];
	secs = (double)((finished ? sqlite3_column_int64(q, 3) : now_ms) -
		started) / 1000.0;
	rate = secs > 0 ? (double)made / secs : 0;
	for (k = 0; k < WS__COUNT; k++)
		json_object_set_new(o, web_state_names[k], json_integer(n[k]));
	json_object_set_new(o, "left", json_integer(left));
	json_object_set_new(o, "made", json_integer(made));
	json_object_set_new(o, "rate_per_s", json_real(rate));
	json_object_set_new(o, "eta_s", !finished && rate > 0 ?
		json_real((double)left / rate) : json_null());
	return o;
}

void
web_api_progress(struct web_req *r, struct web_dag *d, struct web_reply *rep)
{
	struct state *st = web_state(r->ctx);
	json_t *runs = json_array();
	sqlite3_stmt *q = NULL;
	int64_t now_ms = wall_ms();

	/*
	 * The live runs, and the last finished one, so a run that ended
	 * between two refreshes is still shown with its final counts.
	 */
	if (st && sqlite3_prepare_v2(st->db, "SELECT id, args, started, "
	    "finished, status, host, pid, heartbeat FROM runs WHERE dag=?1 AND "
	    "(finished IS NULL OR id=(SELECT max(id) FROM runs WHERE dag=?1 AND "
	    "finished IS NOT NULL)) ORDER BY id DESC LIMIT 8", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(q, 1, d->dag->name, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			int finished = sqlite3_column_type(q, 3) != SQLITE_NULL;

			if (!finished && !state_run_alive(st,
			    sqlite3_column_int64(q, 0), now_ms))
				continue;
			json_array_append_new(runs, run_progress(r, d, q, now_ms));
		}
		sqlite3_finalize(q);
	}
	web_reply_json(rep, json_pack("{s:s,s:o}", "dag", d->dag->name, "runs",
		runs));
}

/* ---- writes ---- */

/*
 * Run this program with argv; with out, wait and collect its output
 * (status into *status); without, start it detached (its own session, its
 * output to /dev/null) and return at once.  The CLI's own code does the
 * work, so the server never holds a write transaction.
 */
static int
spawn(char *const *argv, struct strbuf *out, int *status)
{
	int pfd[2] = { -1, -1 };
	pid_t pid;

	if (out && pipe(pfd) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		if (out) {
			dup2(pfd[1], 1);
			dup2(pfd[1], 2);
			close(pfd[0]);
		} else {
			dup2(null, 1);
			dup2(null, 2);
			setsid();
			/* A grandchild: init reaps it, the server never waits. */
			if (fork() != 0)
				_exit(0);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (out) {
		char buf[4096];
		ssize_t n;

		close(pfd[1]);
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			if (out->len < 65536)
				sb_add(out, buf, (size_t)n);
		close(pfd[0]);
	}
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

void
web_api_write(struct web_req *r, struct web_dag *d, const char *what,
	struct web_reply *rep)
{
	const struct web_options *o = r->ctx->opt;
	char task[128], date[32], ds[8];
	struct strbuf out;
	char *argv[16];
	int n = 0, status = 0;

	if (!web_req_arg(r, "date", date, sizeof(date)) || !web_segment_ok(date)
	    || date[0] == '-') {
		web_reply_error(rep, 400, "give date");
		return;
	}
	argv[n++] = (char *)o->self;
	argv[n++] = (char *)what;
	argv[n++] = d->path;
	if (!strcmp(what, "clear")) {
		if (!web_req_arg(r, "task", task, sizeof(task)) ||
		    dag_task_index(d->dag, task) < 0) {
			web_reply_error(rep, 400, "give one of the DAG's tasks");
			return;
		}
		argv[n++] = task;
		argv[n++] = "--yes";
		if (web_req_arg(r, "downstream", ds, sizeof(ds)) &&
		    !strcmp(ds, "1"))
			argv[n++] = "--downstream";
	}
	argv[n++] = "--date";
	argv[n++] = date;
	argv[n++] = "--state";
	argv[n++] = (char *)o->state_path;
	argv[n++] = "--dags";
	argv[n++] = (char *)o->dags_dir;
	argv[n] = NULL;
	sb_init(&out);
	if (spawn(argv, !strcmp(what, "clear") ? &out : NULL, &status) < 0) {
		sb_release(&out);
		web_reply_error(rep, 500, "cannot start dag-cli %s", what);
		return;
	}
	sb_addc(&out, '\0');
	if (!strcmp(what, "clear")) {
		/* Targets went behind the state database's back. */
		web_cache_expire(r->ctx, d->dag);
		web_reply_json(rep, json_pack("{s:i,s:s}", "exit",
			WIFEXITED(status) ? WEXITSTATUS(status) : 128,
			"output", out.buf));
	} else
		web_reply_json(rep, json_pack("{s:s,s:s}", "started", "run",
			"date", date));
	if (strcmp(what, "clear"))
		rep->status = 202;
	sb_release(&out);
}
