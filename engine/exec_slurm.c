/*
 * The Slurm executor: every attempt becomes a Slurm batch job running
 * "dag-cli __run-instance FILE.json", the worker the local executor's
 * forked child shares its code with, on a data directory the nodes share.
 * The scheduler keeps the only connection to the state database; a job
 * reports through a small result file (exec_result_to_json, written
 * atomically next to its request) and appends its output to the
 * attempt's log.
 *
 * Two facts of Slurm shape the design.  The controller starts batch
 * jobs on a one-second tick and answers every client call itself, so
 * attempts started in the same turn of the loop go out as one job array
 * (one sbatch), and the state of everything in flight comes from one
 * "squeue -r -t all -j ID,..." per poll, never faster than every 0.5 s.
 * And without an accounting database a finished job leaves squeue after
 * MinJobAge seconds with no trace: the result file is the outcome, and a
 * job that left the queue without one is "lost" after a bound (the
 * scheduler retries it).  A run's files live in DIR/HOST-PID/, whose
 * "jobs" file lists what it submitted, so a later run finds the jobs of a
 * run that was killed: pending ones are cancelled, running ones are waited
 * for (their targets are published by the jobs themselves), and nothing
 * runs twice.
 *
 * Slurm's client commands are run synchronously (a few ms each, in their
 * own process group so a terminal's ^C reaches only dag-cli, which then
 * cancels what it submitted): while they run there is nothing else for
 * the loop to do.
 */
#include "config.h"
#include "exec_slurm.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dag.h"
#include "executor.h"
#include "graph.h"
#include "pool.h"
#include "publish.h"
#include "slurm_priv.h"


/* Job ids per squeue or scancel call: a command line stays short. */
#define IDS_PER_CALL 500
/* A job array holds at most this many attempts (Slurm's default limit). */
#define ARRAY_MAX 1000
/* A job Slurm says ended, but whose result file is not there yet. */
#define END_GRACE_MS 3000

/* ---- files ---- */

static char *
job_path(const struct slurm *sl, uint64_t seq, const char *ext)
{
	return xasprintf("%s/j%llu.%s", sl->rundir, (unsigned long long)seq,
		ext);
}

static char *
out_path(const struct slurm *sl, const struct sjob *j)
{
	if (j->b->array)
		return xasprintf("%s/slurm-%lu_%zu.out", sl->rundir, j->b->id,
			j->k);
	return xasprintf("%s/slurm-%lu.out", sl->rundir, j->b->id);
}

/* Append what Slurm itself wrote for the job (an exec failure) to its log. */
static void
copy_out_to_log(const struct slurm *sl, const struct sjob *j)
{
	char *path = out_path(sl, j), *text = read_path(path, NULL);
	int fd;

	if (text && *text && (fd = open(j->log, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0666)) >= 0) {
		dprintf(fd, "dag-cli: the Slurm job's own output:\n%s", text);
		close(fd);
	}
	free(text);
	free(path);
}

static void
remove_job_files(const struct slurm *sl, const struct sjob *j)
{
	char *p;

	p = job_path(sl, j->seq, "json");
	unlink(p);
	free(p);
	p = job_path(sl, j->seq, "res");
	unlink(p);
	free(p);
	if (j->b) {
		p = out_path(sl, j);
		unlink(p);
		free(p);
	}
}

/* Remove a directory of plain files (a run's), then the directory. */
void
slurm_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = xasprintf("%s/%s", dir, de->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * The request as JSON with where the worker writes its result; output
 * goes to the attempt's log ("log", which the request carries).
 */
static int
write_request(const struct slurm *sl, const struct sjob *j,
	const struct exec_request *rq, struct err *e)
{
	char *text = exec_request_json(rq, e), *path, *res;
	json_error_t je;
	json_t *o;
	int rc = 0;

	if (!text)
		return e->code ? e->code : -EINVAL;
	o = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, -EINVAL, "the instance's JSON does not "
			"parse: %s", je.text);
	}
	res = job_path(sl, j->seq, "res");
	json_object_set_new(o, "result_file", json_string(res));
	free(res);
	path = job_path(sl, j->seq, "json");
	if (json_dump_file(o, path, JSON_COMPACT) < 0)
		rc = err_set(e, -EIO, "cannot write '%s'", path);
	json_decref(o);
	free(path);
	return rc;
}

/* ---- results ---- */

static void
job_free(struct sjob *j)
{
	if (!j)
		return;
	free(j->tmp);
	free(j->log);
	free(j->name);
	free(j);
}

/*
 * Hand r over for j (from the loop), after cleaning up: a temporary
 * target the job did not publish is removed, the job's files go, j is
 * freed.
 */
static void
report(struct slurm *sl, struct sjob *j, struct exec_result *r)
{
	r->token = j->token;
	if (!r->published && j->tmp)
		publish_discard(j->tmp);
	remove_job_files(sl, j);
	if (j->b) {
		j->b->jobs[j->k] = NULL;
		j->b->live--;
	}
	sl->n_live--;
	job_free(j);
	sl->x->on_result(sl->x, r);
}

/* "A" or "A_K": how Slurm names j. */
static void
job_id(const struct sjob *j, char *buf, size_t n)
{
	if (j->b->array)
		snprintf(buf, n, "%lu_%zu", j->b->id, j->k);
	else
		snprintf(buf, n, "%lu", j->b->id);
}

/* A job that ended without a result: what Slurm said, as the outcome. */
static void
report_ended(struct slurm *sl, struct sjob *j, const char *what, int lost)
{
	struct exec_result r;
	char id[64];

	exec_result_init(&r);
	r.exit_code = -1;
	job_id(j, id, sizeof(id));
	if (j->timed_out) {
		r.timed_out = 1;
		r.signal = SIGTERM;
	} else if (j->cancel_sig) {
		r.signal = j->cancel_sig;
	} else if (!strcmp(what, "TIMEOUT")) {
		r.timed_out = 1;
	} else if (lost) {
		r.rc = -EIO;
		r.lost = 1;
		snprintf(r.error, sizeof(r.error), "the Slurm job %s %s without "
			"a result (lost)", id, *what ? "stayed held by the "
			"controller" : "left the queue");
	} else {
		r.rc = -EIO;
		snprintf(r.error, sizeof(r.error), "the Slurm job %s ended %s "
			"without a result", id, what);
	}
	copy_out_to_log(sl, j);
	report(sl, j, &r);
}

/* The result file of j, when the job wrote it: 1 reported, 0 not there. */
static int
take_result(struct slurm *sl, struct sjob *j)
{
	char *path = job_path(sl, j->seq, "res"), *text = read_path(path, NULL);
	struct exec_result r;
	struct err e;

	free(path);
	if (!text)
		return 0;
	err_clear(&e);
	if (exec_result_from_json(text, &r, &e) < 0) {
		exec_result_init(&r);
		r.exit_code = -1;
		r.rc = -EPROTO;
		snprintf(r.error, sizeof(r.error), "the job's result: %.900s", e.msg);
	}
	free(text);
	/* Stopped for its timeout, as the local executor says it. */
	if (j->timed_out && !exec_result_ok(&r))
		r.timed_out = 1;
	report(sl, j, &r);
	return 1;
}

/* ---- submission ---- */

static void on_poll(uv_timer_t *t);

static void
poll_soon(struct slurm *sl)
{
	if (sl->polling)
		return;
	sl->polling = 1;
	uv_timer_start(&sl->poll, on_poll, (uint64_t)sl->c->poll_ms, 0);
}

static char *
time_limit(int64_t timeout_ms)
{
	/* Slurm counts in minutes; round up. */
	int64_t min = (timeout_ms + 59999) / 60000;

	return xasprintf("--time=%lld", (long long)(min > 0 ? min : 1));
}

/* The sbatch command line for jobs v[0..n-1] (consecutive seqs). */
static void
sbatch_args(const struct slurm *sl, struct sjob **v, size_t n,
	struct args *a)
{
	const struct slurm_conf *c = sl->c;
	struct strbuf wrap;
	char *stem;
	size_t i;

	slurm_arg_add(a, xstrdup("sbatch"));
	slurm_arg_add(a, xstrdup("--parsable"));
	slurm_arg_add(a, xasprintf("--job-name=%s", v[0]->name));
	if (n > 1) {
		slurm_arg_add(a, xasprintf("--array=0-%zu", n - 1));
		slurm_arg_add(a, xasprintf("--output=%s/slurm-%%A_%%a.out",
			sl->rundir));
	} else {
		slurm_arg_add(a, xasprintf("--output=%s/slurm-%%j.out", sl->rundir));
	}
	if (v[0]->timeout_ms > 0)
		slurm_arg_add(a, time_limit(v[0]->timeout_ms));
	if (c->partition)
		slurm_arg_add(a, xasprintf("--partition=%s", c->partition));
	if (c->account)
		slurm_arg_add(a, xasprintf("--account=%s", c->account));
	for (i = 0; i < c->n_options; i++)
		slurm_arg_add(a, xstrdup(c->options[i]));
	sb_init(&wrap);
	sb_adds(&wrap, "exec ");
	slurm_sh_quote(&wrap, sl->self);
	sb_adds(&wrap, " __run-instance ");
	stem = xasprintf("%s/j", sl->rundir);
	slurm_sh_quote(&wrap, stem);
	free(stem);
	if (n > 1)
		sb_addf(&wrap, "\"$((%llu + SLURM_ARRAY_TASK_ID))\"",
			(unsigned long long)v[0]->seq);
	else
		sb_addf(&wrap, "%llu", (unsigned long long)v[0]->seq);
	sb_adds(&wrap, ".json");
	slurm_arg_add(a, xstrdup("--wrap"));
	slurm_arg_add(a, sb_detach(&wrap));
}

/* Note a submitted id in the run's "jobs" file (for a later run). */
static void
note_job(const struct slurm *sl, unsigned long id)
{
	char *path = xasprintf("%s/jobs", sl->rundir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);

	if (fd >= 0) {
		dprintf(fd, "%lu\n", id);
		close(fd);
	}
	free(path);
}

static void cancel_ids(struct slurm *sl, const char *const *ids, size_t n);
static void scancel(const char *const *ids, size_t n, int term_only);

/*
 * Submit jobs v[0..n-1] as one sbatch.  On failure each gets a failed
 * result (the sbatch's message): a cluster that refuses a job fails the
 * attempt, as a command that cannot start does locally.
 */
static void
submit(struct slurm *sl, struct sjob **v, size_t n)
{
	struct args a = { 0 };
	struct strbuf out, errb;
	struct batch *b;
	unsigned long id = 0;
	long k;
	size_t i;
	int rc;

	sbatch_args(sl, v, n, &a);
	sb_init(&out);
	sb_init(&errb);
	rc = slurm_run_tool(a.v, &out, &errb);
	slurm_args_free(&a);
	if ((rc != 0 || !out.buf || slurm_parse_id(out.buf, &id, &k) < 0 || !id) &&
	    n > 1) {
		/*
		 * A cluster may limit or refuse arrays (MaxArraySize): from
		 * now on, one job per attempt.
		 */
		sl->no_arrays = 1;
		for (i = 0; i < n; i++)
			submit(sl, v + i, 1);
		goto out;
	}
	if (rc != 0 || !out.buf || slurm_parse_id(out.buf, &id, &k) < 0 || !id) {
		char *msg = errb.len ? errb.buf : out.len ? out.buf : "";
		size_t len = strlen(msg);

		while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		for (i = 0; i < n; i++) {
			struct exec_result r;

			exec_result_init(&r);
			r.exit_code = -1;
			r.rc = -EIO;
			snprintf(r.error, sizeof(r.error), "sbatch failed%s%s",
				*msg ? ": " : "", msg);
			report(sl, v[i], &r);
		}
		goto out;
	}
	note_job(sl, id);
	b = xcalloc(1, sizeof(*b));
	b->id = id;
	b->array = n > 1;
	b->seq0 = v[0]->seq;
	b->n = b->live = n;
	b->jobs = xcalloc(n, sizeof(*b->jobs));
	for (i = 0; i < n; i++) {
		b->jobs[i] = v[i];
		v[i]->b = b;
		v[i]->k = i;
	}
	b->next = sl->batches;
	sl->batches = b;
	poll_soon(sl);
out:
	sb_release(&out);
	sb_release(&errb);
}

/*
 * Submit the queue: runs of jobs alike in time limit and name go out as
 * one array each.  Jobs cancelled before submission are reported here.
 */
static void
on_flush(uv_timer_t *t)
{
	struct slurm *sl = t->data;
	struct sjob **v = sl->queue.v;
	size_t n = sl->queue.n, i = 0;

	/* Take the queue: reporting may start (and queue) new attempts. */
	sl->queue.v = NULL;
	sl->queue.n = sl->queue.cap = 0;
	while (i < n) {
		size_t m = 1;

		if (v[i]->cancel_sig) {
			struct exec_result r;

			exec_result_init(&r);
			r.exit_code = -1;
			r.signal = v[i]->cancel_sig;
			report(sl, v[i], &r);
			i++;
			continue;
		}
		while (i + m < n && m < ARRAY_MAX && !sl->no_arrays &&
		    !v[i + m]->cancel_sig &&
		    v[i + m]->timeout_ms == v[i]->timeout_ms &&
		    v[i + m]->seq == v[i]->seq + m &&
		    !strcmp(v[i + m]->name, v[i]->name))
			m++;
		submit(sl, v + i, m);
		i += m;
	}
	free(v);
}

/* ---- polling ---- */

static struct sjob *
find_job(struct slurm *sl, unsigned long id, long k)
{
	struct batch *b;

	for (b = sl->batches; b; b = b->next)
		if (b->id == id) {
			if (!b->array)
				return b->jobs[0];
			if (k >= 0 && (size_t)k < b->n)
				return b->jobs[k];
			return NULL;
		}
	return NULL;
}

static int
ended(const char *state)
{
	static const char *const live[] = { "PENDING", "RUNNING", "CONFIGURING",
		"COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
		"REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
		"RESV_DEL_HOLD" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(live); i++)
		if (!strcmp(state, live[i]))
			return 0;
	return 1;
}

/*
 * One squeue over every submitted job still out; each job's .seen is
 * set from it ("" when not listed).  0, or -1 when squeue failed (then
 * nothing is known).  A pending array shows as "A_[2-9]": its jobs are
 * all pending.
 */
static int
query(struct slurm *sl)
{
	struct batch *b;
	struct args a = { 0 };
	struct strbuf out, errb, ids;
	size_t n = 0, i;
	int rc = 0;

	sb_init(&ids);
	for (b = sl->batches; b; b = b->next) {
		if (!b->live)
			continue;
		for (i = 0; i < b->n; i++)
			if (b->jobs[i]) {
				b->jobs[i]->seen[0] = '\0';
				b->jobs[i]->held = 0;
			}
		sb_addf(&ids, "%s%lu", n ? "," : "", b->id);
		n++;
	}
	if (!n) {
		sb_release(&ids);
		return 0;
	}
	slurm_arg_add(&a, xstrdup("squeue"));
	slurm_arg_add(&a, xstrdup("--noheader"));
	slurm_arg_add(&a, xstrdup("--array"));
	slurm_arg_add(&a, xstrdup("--states=all"));
	slurm_arg_add(&a, xstrdup("--format=%i %T %r"));
	slurm_arg_add(&a, xasprintf("--jobs=%s", ids.buf));
	sb_release(&ids);
	sb_init(&out);
	sb_init(&errb);
	rc = slurm_run_tool(a.v, &out, &errb);
	slurm_args_free(&a);
	/* Every id unknown: squeue fails, saying so. */
	if (rc != 0 && !(errb.buf && strstr(errb.buf, "Invalid job id"))) {
		if (!sl->warned)
			fprintf(stderr, "dag-cli: squeue failed (%s); polling "
				"again\n", errb.buf ? errb.buf : "no message");
		sl->warned = 1;
		rc = -1;
		goto out;
	}
	rc = 0;
	if (out.buf) {
		char *line = out.buf, *nl;

		for (; *line; line = nl) {
			char id_s[64], st[24];
			unsigned long id;
			struct sjob *j;
			long k;
			int held, at = 0;

			nl = strchr(line, '\n');
			nl = nl ? nl + 1 : line + strlen(line);
			if (sscanf(line, "%63s %23s %n", id_s, st, &at) != 2 ||
			    slurm_parse_id(id_s, &id, &k) < 0)
				continue;
			/*
			 * A launch that failed (slurmd too slow to confirm it)
			 * requeues the job held: it would wait forever.
			 */
			held = at > 0 && (!strncmp(line + at, "JobHeldAdmin", 12) ||
			    !strncmp(line + at, "launch failed", 13));
			if (k == -2) {
				for (b = sl->batches; b && b->id != id; b = b->next)
					;
				for (i = 0; b && i < b->n; i++)
					if (b->jobs[i] && !b->jobs[i]->seen[0]) {
						snprintf(b->jobs[i]->seen,
							sizeof(b->jobs[i]->seen), "%s", st);
						b->jobs[i]->held = held;
					}
				continue;
			}
			if ((j = find_job(sl, id, k))) {
				snprintf(j->seen, sizeof(j->seen), "%s", st);
				j->held = held;
			}
		}
	}
out:
	sb_release(&out);
	sb_release(&errb);
	return rc;
}

/* Decide about one submitted job after a query.  1 when reported. */
static int
settle(struct slurm *sl, struct sjob *j, int64_t now)
{
	if (take_result(sl, j))
		return 1;
	if (!j->run_ms && !strcmp(j->seen, "RUNNING"))
		j->run_ms = now;
	if (j->seen[0] && !ended(j->seen) && !j->held) {
		j->missing_ms = 0;
		return 0;
	}
	if (j->seen[0] && !j->held) {
		/* Ended: the result file may lag behind on a network file system. */
		if (!j->ended_ms)
			j->ended_ms = now;
		if (j->cancel_sig || now - j->ended_ms >= END_GRACE_MS) {
			report_ended(sl, j, j->seen, 0);
			return 1;
		}
		return 0;
	}
	/* Not listed (gone from the queue), or held for good. */
	if (!j->missing_ms)
		j->missing_ms = now;
	if (j->cancel_sig) {
		report_ended(sl, j, "CANCELLED", 0);
		return 1;
	}
	if (now - j->missing_ms >= sl->c->lost_ms) {
		char one[64];
		const char *ids[1] = { one };

		/* Wherever it is, it must not publish after its retry. */
		job_id(j, one, sizeof(one));
		cancel_ids(sl, ids, 1);
		report_ended(sl, j, j->held ? "held" : "", 1);
		return 1;
	}
	return 0;
}

static void
drop_finished_batches(struct slurm *sl)
{
	struct batch **pp = &sl->batches, *b;

	while ((b = *pp)) {
		if (b->live) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		free(b->jobs);
		free(b);
	}
}

/*
 * The task's own timeout, which Slurm's --time (whole minutes) only
 * bounds from above: a job running longer than its timeout (counted
 * from the first poll that saw it running) gets SIGTERM, and once the
 * grace has passed is cancelled (SIGKILL after KillWait).  Either goes
 * out as one scancel for every job due.
 */
static void
enforce_timeouts(struct slurm *sl, int64_t now)
{
	struct { char **v; size_t n, cap; } term = { 0 }, kill = { 0 };
	int64_t grace = sl->x->kill_grace_ms > 0 ? sl->x->kill_grace_ms :
		POOL_KILL_GRACE_MS;
	struct batch *b;
	char one[64];
	size_t i;

	for (b = sl->batches; b; b = b->next)
		for (i = 0; i < b->n; i++) {
			struct sjob *j = b->jobs[i];

			if (!j || j->scancelled || !j->run_ms ||
			    j->timeout_ms <= 0)
				continue;
			if (!j->timed_out && !j->cancel_sig &&
			    now - j->run_ms >= j->timeout_ms) {
				j->timed_out = 1;
				j->cancel_sig = SIGTERM;
				j->term_ms = now;
				job_id(j, one, sizeof(one));
				VEC_PUSH(term, xstrdup(one));
			} else if (j->timed_out && now - j->term_ms >= grace) {
				j->scancelled = 1;
				job_id(j, one, sizeof(one));
				VEC_PUSH(kill, xstrdup(one));
			}
		}
	scancel((const char *const *)term.v, term.n, 1);
	scancel((const char *const *)kill.v, kill.n, 0);
	for (i = 0; i < term.n; i++)
		free(term.v[i]);
	for (i = 0; i < kill.n; i++)
		free(kill.v[i]);
	free(term.v);
	free(kill.v);
}

static void
on_poll(uv_timer_t *t)
{
	struct slurm *sl = t->data;
	struct { struct sjob **v; size_t n, cap; } todo = { 0 };
	struct batch *b;
	int64_t now = wall_ms();
	size_t i;

	sl->polling = 0;
	if (query(sl) == 0) {
		/*
		 * Collect first: reporting runs the scheduler, which may
		 * submit (new batches go to the front of the list).
		 */
		for (b = sl->batches; b; b = b->next)
			for (i = 0; i < b->n; i++)
				if (b->jobs[i])
					VEC_PUSH(todo, b->jobs[i]);
		for (i = 0; i < todo.n; i++)
			settle(sl, todo.v[i], now);
		free(todo.v);
		drop_finished_batches(sl);
		enforce_timeouts(sl, now);
	}
	for (b = sl->batches; b; b = b->next)
		if (b->live) {
			poll_soon(sl);
			break;
		}
}

/*
 * A file appeared in the run's directory: a result is taken at once
 * rather than at the next poll (a level of a chain costs a scheduler tick
 * of Slurm's, not that plus half a poll).  Where the file system sends no
 * events (NFS from another node), polling still finds it.
 */
static void
on_watch(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct slurm *sl = h->data;
	unsigned long long seq;
	struct batch *b;
	char tail[8];

	if (status < 0 || !name || sscanf(name, "j%llu.%7s", &seq, tail) != 2 ||
	    strcmp(tail, "res"))
		return;
	for (b = sl->batches; b; b = b->next)
		if (seq >= b->seq0 && seq < b->seq0 + b->n) {
			if (b->jobs[seq - b->seq0])
				take_result(sl, b->jobs[seq - b->seq0]);
			return;
		}
}

/* ---- cancelling ---- */

/*
 * scancel ids, IDS_PER_CALL at a time.  Slurm sends SIGTERM, then SIGKILL
 * after the cluster's KillWait, to running jobs and drops pending ones;
 * with term_only, SIGTERM alone goes to every process of the running
 * jobs, which stay in the queue if they survive it.
 */
static void
scancel(const char *const *ids, size_t n, int term_only)
{
	size_t i = 0;

	while (i < n) {
		struct args a = { 0 };
		size_t m;

		slurm_arg_add(&a, xstrdup("scancel"));
		slurm_arg_add(&a, xstrdup("--quiet"));
		if (term_only) {
			/* The batch step too, which scancel spares by default. */
			slurm_arg_add(&a, xstrdup("--signal=TERM"));
			slurm_arg_add(&a, xstrdup("--full"));
		}
		for (m = 0; m < IDS_PER_CALL && i < n; m++, i++)
			slurm_arg_add(&a, xstrdup(ids[i]));
		slurm_run_tool(a.v, NULL, NULL);
		slurm_args_free(&a);
	}
}

static void
cancel_ids(struct slurm *sl, const char *const *ids, size_t n)
{
	(void)sl;
	scancel(ids, n, 0);
}

/*
 * Cancel the attempts of token (every one when all): queued ones are
 * reported by the next flush, submitted ones are scancelled (a batch
 * wholly cancelled by its id) and reported once Slurm lets them go.
 */
static void
cancel_matching(struct slurm *sl, void *token, int all, int sig)
{
	struct { char **v; size_t n, cap; } ids = { 0 };
	struct batch *b;
	size_t i;

	for (i = 0; i < sl->queue.n; i++)
		if (all || sl->queue.v[i]->token == token)
			sl->queue.v[i]->cancel_sig = sig;
	if (sl->queue.n)
		uv_timer_start(&sl->flush, on_flush, 0, 0);
	for (b = sl->batches; b; b = b->next) {
		size_t want = 0, live = 0;
		char one[64];

		for (i = 0; i < b->n; i++) {
			struct sjob *j = b->jobs[i];

			if (!j)
				continue;
			live++;
			if (!all && j->token != token)
				continue;
			j->cancel_sig = sig;
			if (!j->scancelled)
				want++;
		}
		if (!want)
			continue;
		if (want == live && live == b->n) {
			VEC_PUSH(ids, xasprintf("%lu", b->id));
			want = 0;
		}
		for (i = 0; i < b->n; i++) {
			struct sjob *j = b->jobs[i];

			if (!j || !j->cancel_sig || j->scancelled)
				continue;
			j->scancelled = 1;
			if (want) {
				job_id(j, one, sizeof(one));
				VEC_PUSH(ids, xstrdup(one));
			}
		}
	}
	cancel_ids(sl, (const char *const *)ids.v, ids.n);
	for (i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
	if (sl->batches)
		poll_soon(sl);
}

/* ---- the interface ---- */

static void
on_handle_closed(uv_handle_t *h)
{
	struct slurm *sl = h->data;

	if (--sl->handles == 0) {
		free(sl->rundir);
		free(sl->self);
		free(sl->queue.v);
		free(sl);
	}
}

static int
slurm_open(struct executor *x, struct err *e)
{
	const struct slurm_conf *c = x->arg;
	struct slurm *sl;
	char host[HOST_NAME_MAX + 1], self[PATH_MAX];
	ssize_t n;

	if (!c || !c->dir)
		return err_set(e, -EINVAL, "the Slurm executor needs a "
			"directory for its job files");
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return err_set(e, -errno, "cannot find dag-cli's own path: %s",
			strerror(errno));
	self[n] = '\0';
	if (mkdir_p(c->dir, 0777) < 0)
		return err_set(e, -errno, "cannot create '%s': %s", c->dir,
			strerror(errno));
	sl = xcalloc(1, sizeof(*sl));
	sl->x = x;
	sl->c = c;
	sl->self = xstrdup(c->self ? c->self : self);
	sl->rundir = xasprintf("%s/%s-%ld", c->dir, host, (long)getpid());
	slurm_adopt_orphans(sl, host);
	slurm_remove_dir(sl->rundir);	/* a dead namesake's (pid reuse) */
	if (mkdir(sl->rundir, 0777) < 0) {
		int rc = err_set(e, -errno, "cannot create '%s': %s",
			sl->rundir, strerror(errno));

		free(sl->rundir);
		free(sl->self);
		free(sl);
		return rc;
	}
	uv_timer_init(x->loop, &sl->flush);
	uv_timer_init(x->loop, &sl->poll);
	uv_fs_event_init(x->loop, &sl->watch);
	sl->flush.data = sl->poll.data = sl->watch.data = sl;
	sl->handles = 3;
	/* Without events, polling alone finds the results. */
	if (uv_fs_event_start(&sl->watch, on_watch, sl->rundir, 0) == 0)
		uv_unref((uv_handle_t *)&sl->watch);
	x->priv = sl;
	return 0;
}

static int
slurm_start(struct executor *x, const struct exec_request *rq, struct err *e)
{
	struct slurm *sl = x->priv;
	struct sjob *j = xcalloc(1, sizeof(*j));
	int rc;

	j->token = rq->token;
	j->seq = ++sl->seq;
	j->timeout_ms = rq->timeout_ms;
	j->tmp = rq->tmp_target ? xstrdup(rq->tmp_target) : NULL;
	j->log = xstrdup(rq->log_path ? rq->log_path : "/dev/null");
	j->name = xasprintf("%s.%s", rq->dag->name,
		rq->dag->tasks[rq->g->inst[rq->inst].task].name);
	rc = write_request(sl, j, rq, e);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	VEC_PUSH(sl->queue, j);
	sl->n_live++;
	uv_timer_start(&sl->flush, on_flush, 0, 0);
	return 0;
}

static void
slurm_cancel(struct executor *x, void *token, int sig)
{
	cancel_matching(x->priv, token, 0, sig);
}

static void
slurm_cancel_all(struct executor *x, int sig)
{
	cancel_matching(x->priv, NULL, 1, sig);
}

static void
slurm_close(struct executor *x)
{
	struct slurm *sl = x->priv;
	struct batch *b;
	size_t i;

	if (!sl)
		return;
	x->priv = NULL;
	/* Nothing should be out; whatever is must not outlive the run. */
	for (b = sl->batches; b; b = b->next) {
		char one[64];
		const char *ids[1] = { one };

		snprintf(one, sizeof(one), "%lu", b->id);
		if (b->live)
			cancel_ids(sl, ids, 1);
		for (i = 0; i < b->n; i++)
			job_free(b->jobs[i]);
	}
	while ((b = sl->batches)) {
		sl->batches = b->next;
		free(b->jobs);
		free(b);
	}
	for (i = 0; i < sl->queue.n; i++)
		job_free(sl->queue.v[i]);
	sl->queue.n = 0;
	slurm_remove_dir(sl->rundir);
	uv_close((uv_handle_t *)&sl->flush, on_handle_closed);
	uv_close((uv_handle_t *)&sl->poll, on_handle_closed);
	uv_close((uv_handle_t *)&sl->watch, on_handle_closed);
}

const struct exec_ops exec_slurm = {
	.name = "slurm",
	.open = slurm_open,
	.start = slurm_start,
	.cancel = slurm_cancel,
	.cancel_all = slurm_cancel_all,
	.close = slurm_close,
};
