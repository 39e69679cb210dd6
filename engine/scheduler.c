/*
 * The scheduler.  Everything is event driven on one libuv loop: a job's
 * exit callback publishes its target, releases the instances that needed
 * it and fills the freed slot before returning, so no time passes between
 * one child's end and the next one's start, and nothing polls.
 *
 * Tuned for a backfill of tens of thousands of small instances.  Per
 * instance the scheduler keeps a few integers beside the graph (a count of
 * unmet needs, the reverse edges in one flat array, the attempt number);
 * the ready instances sit in a binary heap ordered by priority, then
 * partition (oldest first, or newest with --reverse), then task order.
 * Each start costs one short lease transaction; finished attempts are
 * written to the state database in batches (every 250 ms or 512 attempts),
 * and a lease is given back with its batch.  So a crash loses at most the
 * last fraction of a second of history, never a target: targets are the
 * truth, and a lease left behind by a dead scheduler is taken over.
 *
 * A lease held by another live scheduler is not waited on in a slot: the
 * instance is set aside and looked at again every recheck_ms; once the
 * other run gave it up, its target is checked again before it runs (the
 * other run has usually made it).  The target is re-checked after a
 * lease claim for the same reason when the state shows another run
 * touched the instance since the graph was built.
 */
#include "config.h"
#include "scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "atomic.h"
#include "cli.h"
#include "dag.h"
#include "graph.h"
#include "node.h"
#include "pool.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"

#define FLUSH_MS 250
#define FLUSH_MAX 512
#define PROGRESS_MS 250

/* Per-instance scheduling data, parallel to g->inst. */
struct sinst {
	uint32_t unmet;		/* needs not done yet */
	uint16_t attempt;	/* attempt number in the state database */
	uint8_t tries;		/* attempts made by this run */
	uint8_t touched;	/* this run did something with it */
	uint8_t held;		/* leased by another run when last tried */
	uint8_t queued;		/* in the ready heap or a pool's queue */
};

struct heap {
	uint32_t *v;
	size_t n, cap;
};

/* A started instance, one per pool slot. */
struct running {
	uint32_t inst;
	int log_fd;
	char *tmp;		/* command: the temporary target, or NULL */
	int64_t started_ms;	/* unix ms */
	struct sched_child *child;	/* built-in: what the child runs */
};

struct sched_child {
	struct sched *s;
	uint32_t inst;
};

struct retry {
	uv_timer_t timer;
	struct sched *s;
	uint32_t inst;
	struct retry *next;
};

struct sched {
	const struct dag *dag;
	struct graph *g;
	struct state *st;
	const struct sched_options *o;
	uv_loop_t loop;
	struct pool pool;
	struct sinst *si;
	uint32_t *roff;		/* reverse edges: dependants of i are */
	uint32_t *rdeps;	/* rdeps[roff[i] .. roff[i+1]] */
	struct heap ready;
	struct heap *pool_q;	/* per pool limit: ready but over the limit */
	int *pool_used;
	struct running *run;	/* per slot */
	char **last_dir;	/* per task: the last target directory made */
	uint64_t tmp_seq;
	/* Attempts waiting to be written. */
	struct { struct attempt_rec *v; size_t n, cap; } pending;
	uv_timer_t flush_timer, heartbeat, progress, recheck;
	uv_signal_t sigint, sigterm;
	struct retry *retries;	/* pending retry timers */
	size_t n_retries;
	struct { uint32_t *v; size_t n, cap; } held;
	struct { uint32_t *v; size_t n, cap; } polls;
	uv_timer_t poll_timer;
	int64_t poll_start_ms;
	int interrupted;	/* the signal that stops the run, or 0 */
	int failed_db;		/* a state write failed: stop starting */
	struct err db_err;
	/* Counts for progress and the summary. */
	size_t n_todo, n_done, n_failed, n_running, n_upstream;
	int64_t t0_ms;
	int progress_shown;
};

static void fill(struct sched *s);

/*
 * Heap order: higher priority first, then the older partition (the newer
 * with --reverse), then task order within the partition.  Instances are
 * sorted by partition then task order, so the index breaks ties.
 */
static int
before(const struct sched *s, uint32_t a, uint32_t b)
{
	const struct instance *x = &s->g->inst[a], *y = &s->g->inst[b];
	int pa = s->dag->tasks[x->task].priority;
	int pb = s->dag->tasks[y->task].priority;

	if (pa != pb)
		return pa > pb;
	if (x->part != y->part)
		return s->o->reverse ? x->part > y->part : x->part < y->part;
	return a < b;
}

static void
heap_push(struct sched *s, struct heap *h, uint32_t v)
{
	size_t i;

	VEC_GROW(*h, h->n + 1);
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(s, v, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = v;
}

static uint32_t
heap_pop(struct sched *s, struct heap *h)
{
	uint32_t top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(s, h->v[c + 1], h->v[c]))
			c++;
		if (!before(s, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

static const struct task *
task_of(const struct sched *s, uint32_t i)
{
	return &s->dag->tasks[s->g->inst[i].task];
}

static const char *
part_of(const struct sched *s, uint32_t i)
{
	return s->g->parts[s->g->inst[i].part].id;
}

static char *
log_path(const struct sched *s, uint32_t i)
{
	return state_log_path(s->st, s->dag->name, task_of(s, i)->name,
		part_of(s, i), s->si[i].attempt);
}

static void
make_ready(struct sched *s, uint32_t i)
{
	if (s->si[i].queued || s->interrupted)
		return;
	s->si[i].queued = 1;
	heap_push(s, &s->ready, i);
}

/* Build the reverse edges and count each instance's unmet needs. */
static void
index_graph(struct sched *s)
{
	struct graph *g = s->g;
	size_t i, k;

	s->si = xcalloc(g->n_inst + 1, sizeof(*s->si));
	s->roff = xcalloc(g->n_inst + 2, sizeof(*s->roff));
	s->rdeps = xcalloc(g->n_deps + 1, sizeof(*s->rdeps));
	for (i = 0; i < g->n_inst; i++)
		for (k = 0; k < g->inst[i].n_deps; k++)
			s->roff[g->deps[g->inst[i].dep_off + k] + 2]++;
	for (i = 0; i < g->n_inst; i++)
		s->roff[i + 2] += s->roff[i + 1];
	for (i = 0; i < g->n_inst; i++) {
		const struct instance *in = &g->inst[i];

		for (k = 0; k < in->n_deps; k++) {
			uint32_t d = g->deps[in->dep_off + k];

			s->rdeps[s->roff[d + 1]++] = (uint32_t)i;
			if (g->inst[d].state != INST_DONE)
				s->si[i].unmet++;
		}
	}
}

static void
on_closed_free(uv_handle_t *h)
{
	free(h->data);
}

/* Dependants of a failed instance cannot run: upstream_failed, transitively. */
static void
fail_downstream(struct sched *s, uint32_t i)
{
	struct { uint32_t *v; size_t n, cap; } stack = { 0 };
	uint32_t k;

	VEC_PUSH(stack, i);
	while (stack.n) {
		uint32_t x = stack.v[--stack.n];

		for (k = s->roff[x]; k < s->roff[x + 1]; k++) {
			uint32_t d = s->rdeps[k];
			struct instance *in = &s->g->inst[d];

			if (in->state != INST_TODO)
				continue;
			in->state = INST_UPSTREAM_FAILED;
			s->si[d].touched = 1;
			s->n_upstream++;
			VEC_PUSH(stack, d);
		}
	}
	free(stack.v);
}

static void
done_inst(struct sched *s, uint32_t i)
{
	uint32_t k;

	s->g->inst[i].state = INST_DONE;
	s->n_done++;
	for (k = s->roff[i]; k < s->roff[i + 1]; k++) {
		uint32_t d = s->rdeps[k];

		if (--s->si[d].unmet == 0 && s->g->inst[d].state == INST_TODO)
			make_ready(s, d);
	}
}

/* Write the pending attempts in one transaction. */
static void
flush(struct sched *s)
{
	struct err e;
	size_t i;
	int rc;

	if (!s->pending.n)
		return;
	err_clear(&e);
	rc = state_begin(s->st, &e);
	for (i = 0; i < s->pending.n && rc == 0; i++)
		rc = state_attempt_finish(s->st, s->dag->name, &s->pending.v[i],
			&e);
	if (rc == 0)
		rc = state_commit(s->st, &e);
	else
		state_commit(s->st, NULL);
	if (rc < 0 && !s->failed_db) {
		s->failed_db = 1;
		s->db_err = e;
	}
	for (i = 0; i < s->pending.n; i++) {
		free((char *)s->pending.v[i].log_path);
		free((char *)s->pending.v[i].error);
	}
	s->pending.n = 0;
}

static void
on_flush_timer(uv_timer_t *t)
{
	flush(t->data);
}

static void
record(struct sched *s, uint32_t i, const struct pool_job *job,
	const struct running *r, const char *state, char *error, int final)
{
	struct attempt_rec a;

	memset(&a, 0, sizeof(a));
	a.task = task_of(s, i)->name;
	a.partition = part_of(s, i);
	a.attempt = s->si[i].attempt;
	a.state = state;
	a.exit_code = job ? job->exit_code : -1;
	a.signal = job ? job->signal : 0;
	a.started_ms = r->started_ms;
	a.duration_ms = job ? job->duration_ms : 0;
	a.max_rss_kb = job ? job->max_rss_kb : -1;
	a.records_in = a.records_out = a.records_rejected = -1;
	if (job && job->report) {
		a.records_in = job->report->records_in;
		a.records_out = job->report->records_out;
		a.records_rejected = job->report->records_rejected;
	}
	a.log_path = log_path(s, i);
	a.error = error;
	a.final = final;
	VEC_PUSH(s->pending, a);
	if (s->pending.n >= FLUSH_MAX)
		flush(s);
	else if (!uv_is_active((uv_handle_t *)&s->flush_timer))
		uv_timer_start(&s->flush_timer, on_flush_timer, FLUSH_MS, 0);
}

/* Make the directory for a target, remembering the last one per task. */
static int
target_dir(struct sched *s, uint32_t i, const char *target)
{
	const char *slash;
	char **last = &s->last_dir[s->g->inst[i].task];
	size_t n;
	int rc;

	n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		n--;
	slash = memrchr(target, '/', n);
	if (!slash)
		return 0;
	n = (size_t)(slash - target);
	if (*last && strlen(*last) == n && !memcmp(*last, target, n))
		return 0;
	free(*last);
	*last = xstrndup(target, n);
	rc = mkdir_p(*last, 0777);
	if (rc < 0) {
		free(*last);
		*last = NULL;
	}
	return rc;
}

/* A temporary name beside target, unique in this process. */
static char *
tmp_target(struct sched *s, const char *target)
{
	size_t n = strlen(target);
	char *base, *name, *x;

	while (n > 1 && target[n - 1] == '/')
		n--;
	base = xstrndup(target, n);
	name = atomic_tmp_name(base);
	x = strstr(name, "XXXXXX");
	if (x) {
		char buf[8];

		snprintf(buf, sizeof(buf), "%06llx",
			(unsigned long long)(s->tmp_seq++ & 0xffffff));
		memcpy(x, buf, 6);
	}
	free(base);
	return name;
}

static int
open_log(struct sched *s, uint32_t i, struct err *e)
{
	char *path = log_path(s, i);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT && mkdir_parent(path) == 0)
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		err_set(e, -errno, "cannot create log '%s': %s", path,
			strerror(errno));
	free(path);
	return fd;
}

/* The forked worker: resolve, run the kind, report, exit. */
static int
child_main(void *arg, struct pool_report *rep)
{
	struct sched_child *c = arg;
	struct sched *s = c->s;
	const struct instance *in = &s->g->inst[c->inst];
	const struct task *t = &s->dag->tasks[in->task];
	const struct partition *p = &s->g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL;
	struct task_run run;
	char *database = NULL;
	struct err e;
	int status;

	err_clear(&e);
	graph_resolve_env(s->g, &env);
	env.now = cli_now();
	if (dag_resolve(s->dag, in->task, p, &env, &fields, NULL, &e) < 0) {
		rep->rc = e.code ? e.code : -EINVAL;
		snprintf(rep->msg, sizeof(rep->msg), "%s", e.msg);
		fprintf(stderr, "dag-cli: %s\n", e.msg);
		return 1;
	}
	database = dag_resolve_database(s->dag, in->task, p, &env, &e);
	dag_partition_info(s->dag, p, &info);
	dag_task_run_init(&run, s->dag, in->task, p, &info, fields, database);
	status = sched_exec_builtin(t->kind, NULL, t->prepared, &run, rep);
	node_free(fields);
	free(database);
	return status;
}

int
sched_exec_builtin(const struct task_kind *kind, const struct node *def,
	void *prepared, struct task_run *run, struct pool_report *rep)
{
	void *own = NULL;
	struct err e;
	int rc = 0;

	err_clear(&e);
	if (!run->log)
		run->log = stdout;
	run->records_in = run->records_out = run->records_rejected = -1;
	if (!prepared && def && kind->prepare) {
		rc = kind->prepare(def, &own, &e);
		prepared = own;
	}
	run->prepared = prepared;
	if (rc == 0)
		rc = kind->run ? kind->run(run, &e) :
			err_set(&e, -ENOTSUP, "kind '%s' cannot be run",
				kind->name);
	if (own && kind->release)
		kind->release(own);
	rep->rc = rc;
	rep->records_in = run->records_in;
	rep->records_out = run->records_out;
	rep->records_rejected = run->records_rejected;
	if (rc < 0) {
		snprintf(rep->msg, sizeof(rep->msg), "%s", e.msg[0] ? e.msg :
			strerror(-rc));
		fprintf(run->log, "dag-cli: ");
		err_print(&e, run->log);
	}
	fflush(run->log);
	return rc < 0 ? 1 : 0;
}

static int
start_command(struct sched *s, uint32_t i, struct pool_job *job,
	struct running *r, struct err *e)
{
	const struct task *t = task_of(s, i);
	const struct instance *in = &s->g->inst[i];
	struct resolve_env env;
	struct node *fields = NULL;
	const char *cmd;
	int rc;

	graph_resolve_env(s->g, &env);
	env.now = cli_now();
	if (in->target) {
		if (!t->writes_in_place) {
			r->tmp = tmp_target(s, in->target);
			env.tmp_target = r->tmp;
		}
		rc = target_dir(s, i, in->target);
		if (rc < 0)
			return err_set(e, rc, "cannot create the directory of "
				"'%s': %s", in->target, strerror(-rc));
	}
	rc = dag_resolve(s->dag, in->task, &s->g->parts[in->part], &env,
		&fields, NULL, e);
	if (rc < 0)
		return rc;
	cmd = node_get_str(fields, t->kind->command_field);
	if (!cmd) {
		rc = err_set(e, -EINVAL, "task '%s' has no '%s'", t->name,
			t->kind->command_field);
		goto out;
	}
	/*
	 * A command that writes its target in place has no temporary: there
	 * is nothing to publish, and an empty temporary directory must not
	 * replace what it wrote.
	 */
	if (r->tmp && t->target_type == TARGET_DIR && mkdir(r->tmp, 0777) < 0) {
		rc = err_set(e, -errno, "cannot create '%s': %s", r->tmp,
			strerror(errno));
		goto out;
	}
	rc = pool_job_spawn_shell(job, cmd, r->log_fd, t->timeout_ms, e);
out:
	node_free(fields);
	return rc;
}

static void
remove_tmp(struct running *r)
{
	struct stat st;

	if (!r->tmp)
		return;
	if (lstat(r->tmp, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			remove_tree(r->tmp);
		else
			unlink(r->tmp);
	}
	free(r->tmp);
	r->tmp = NULL;
}

/* Is the instance's target there now?  Bypasses the graph's cache. */
static int
target_now(struct sched *s, uint32_t i)
{
	const struct task *t = task_of(s, i);
	const struct instance *in = &s->g->inst[i];
	struct err e;
	char *db;
	int rc;

	switch (t->target_type) {
	case TARGET_FILE:
	case TARGET_DIR:
		return in->target ? target_file_exists(NULL, in->target, &e) > 0 :
			0;
	case TARGET_TABLE:
		db = dag_resolve_database(s->dag, in->task,
			&s->g->parts[in->part], NULL, &e);
		if (!db)
			return 0;
		rc = target_table_exists(NULL, db, t->table, part_of(s, i), &e);
		free(db);
		return rc > 0;
	case TARGET_NONE:
		break;
	}
	return 0;
}

/*
 * A dead scheduler's child may have left temporary files beside the
 * target: ".BASE.tmp-PID-XXXXXX" with that scheduler's pid.
 */
static void
remove_stale_tmp(const char *target, long pid)
{
	size_t n = strlen(target);
	char *path, *dir, *prefix, *slash;
	struct dirent *de;
	DIR *d;

	while (n > 1 && target[n - 1] == '/')
		n--;
	path = xstrndup(target, n);
	slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	prefix = xasprintf(".%s.tmp-%ld-", slash ? slash + 1 : path, pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *full;
		struct stat st;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(full);
		else
			unlink(full);
		free(full);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
	free(path);
}

static void
on_recheck(uv_timer_t *t)
{
	struct sched *s = t->data;
	size_t k, n = s->held.n;

	s->held.n = 0;
	for (k = 0; k < n; k++) {
		uint32_t i = s->held.v[k];

		if (s->interrupted)
			break;
		if (!s->g->inst[i].forced && target_now(s, i)) {
			s->si[i].held = 0;
			done_inst(s, i);
			continue;
		}
		make_ready(s, i);
	}
	fill(s);
}

static void
hold(struct sched *s, uint32_t i)
{
	s->si[i].held = 1;
	s->si[i].touched = 1;
	VEC_PUSH(s->held, i);
	if (!uv_is_active((uv_handle_t *)&s->recheck))
		uv_timer_start(&s->recheck, on_recheck,
			(uint64_t)(s->o->recheck_ms ? s->o->recheck_ms : 500), 0);
}

/*
 * Lease and start one instance in job.  Returns 1 started, 0 not started
 * (leased elsewhere, or found done), negative errno on a state error.
 */
static int
start(struct sched *s, uint32_t i, struct pool_job *job)
{
	const struct task *t = task_of(s, i);
	struct running *r = &s->run[job->slot];
	struct lease_claim c;
	struct err e;
	int rc;

	err_clear(&e);
	rc = state_lease_claim(s->st, s->dag->name, t->name, part_of(s, i),
		wall_ms(), &c, &e);
	if (rc < 0) {
		s->failed_db = 1;
		s->db_err = e;
		return rc;
	}
	if (rc == 0) {
		hold(s, i);
		return 0;
	}
	s->si[i].attempt = (uint16_t)c.attempt;
	if (c.took_over && s->g->inst[i].target)
		remove_stale_tmp(s->g->inst[i].target, c.prev_pid);
	/*
	 * Another run may have made it since the graph looked at its target:
	 * look again when another run held its lease or recorded it since
	 * (a second of slack for the clock).  Otherwise the graph's answer
	 * stands, which spares opening a warehouse database per instance.
	 */
	if (!s->g->inst[i].forced && (c.took_over ||
	    c.last_update >= s->g->built_ms - 1000) && target_now(s, i)) {
		state_lease_abandon(s->st, s->dag->name, t->name, part_of(s, i),
			"done");
		s->si[i].held = 0;
		done_inst(s, i);
		return 0;
	}
	s->si[i].held = 0;
	s->si[i].touched = 1;
	s->si[i].tries++;
	memset(r, 0, sizeof(*r));
	r->inst = i;
	r->started_ms = wall_ms();
	job->data = r;
	r->log_fd = open_log(s, i, &e);
	if (r->log_fd >= 0) {
		if (t->kind->command_field) {
			rc = start_command(s, i, job, r, &e);
		} else {
			r->child = xmalloc(sizeof(*r->child));
			r->child->s = s;
			r->child->inst = i;
			rc = pool_job_fork(job, child_main, r->child, r->log_fd,
				t->timeout_ms, &e);
		}
	} else {
		rc = e.code;
	}
	if (rc < 0) {
		/* Could not start: an attempt that failed at once. */
		if (r->log_fd >= 0) {
			dprintf(r->log_fd, "dag-cli: %s\n", e.msg);
			close(r->log_fd);
		}
		remove_tmp(r);
		free(r->child);
		r->child = NULL;
		record(s, i, NULL, r, "failed", xstrdup(e.msg), 1);
		s->g->inst[i].state = INST_FAILED;
		s->n_failed++;
		fail_downstream(s, i);
		return 0;
	}
	s->g->inst[i].state = INST_RUNNING;
	s->n_running++;
	if (t->pool >= 0)
		s->pool_used[t->pool]++;
	return 1;
}

/* Start ready instances while slots are free. */
static void
fill(struct sched *s)
{
	while (s->ready.n && !s->interrupted && !s->failed_db) {
		struct pool_job *job;
		uint32_t i;
		int pl;

		if (!s->pool.n_free)
			return;
		i = heap_pop(s, &s->ready);
		s->si[i].queued = 0;
		if (s->g->inst[i].state != INST_TODO)
			continue;
		pl = task_of(s, i)->pool;
		if (pl >= 0 && s->pool_used[pl] >= s->dag->pools[pl].limit) {
			s->si[i].queued = 1;
			heap_push(s, &s->pool_q[pl], i);
			continue;
		}
		job = pool_job_get(&s->pool);
		if (start(s, i, job) <= 0)
			pool_job_put(job);
	}
}

static void
on_retry(uv_timer_t *t)
{
	struct retry *rt = t->data, **pp;
	struct sched *s = rt->s;

	for (pp = &s->retries; *pp; pp = &(*pp)->next)
		if (*pp == rt) {
			*pp = rt->next;
			break;
		}
	s->n_retries--;
	s->g->inst[rt->inst].state = INST_TODO;
	make_ready(s, rt->inst);
	uv_close((uv_handle_t *)&rt->timer, on_closed_free);
	fill(s);
}

static void
retry_later(struct sched *s, uint32_t i)
{
	const struct task *t = task_of(s, i);
	struct retry *rt = xcalloc(1, sizeof(*rt));
	int64_t delay = t->retry_delay_ms;
	int k;

	for (k = 1; k < s->si[i].tries && delay < INT64_MAX / 2; k++)
		delay *= 2;
	rt->s = s;
	rt->inst = i;
	rt->next = s->retries;
	s->retries = rt;
	s->n_retries++;
	uv_timer_init(&s->loop, &rt->timer);
	rt->timer.data = rt;
	uv_timer_start(&rt->timer, on_retry, (uint64_t)(delay > 0 ? delay : 0),
		0);
}

/* A command that exited 0: move its temporary output into place. */
static int
publish(struct sched *s, uint32_t i, struct running *r, struct err *e)
{
	const struct task *t = task_of(s, i);
	const char *target = s->g->inst[i].target;
	struct stat st;
	char *path, *succ;
	int fd;

	if (!target)
		return 0;
	if (!r->tmp) {
		/* It writes its target itself (see start_command). */
		if (target_now(s, i))
			return 0;
		return err_set(e, -ENOENT, "the command exited 0 but did not "
			"write its target '%s'", target);
	}
	/*
	 * It names {target} but left it unwritten: a failure even when an
	 * old target exists (--force), which would otherwise pass for the
	 * new one.
	 */
	if (lstat(r->tmp, &st) < 0)
		return err_set(e, -ENOENT, "the command exited 0 but did not "
			"write {target} (the temporary name of '%s')", target);
	if (t->target_type == TARGET_DIR) {
		succ = xasprintf("%s/_SUCCESS", r->tmp);
		fd = open(succ, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		free(succ);
		if (fd < 0)
			return err_set(e, -errno, "cannot write _SUCCESS in "
				"'%s': %s", r->tmp, strerror(errno));
		if (s->o->fsync)
			fsync(fd);
		close(fd);
		path = xstrndup(target, strlen(target) - 1);
		/* An incomplete earlier directory (no _SUCCESS) gives way. */
		if (lstat(path, &st) == 0)
			remove_tree(path);
	} else {
		path = xstrdup(target);
		if (s->o->fsync && (fd = open(r->tmp, O_RDONLY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	if (rename(r->tmp, path) < 0) {
		err_set(e, -errno, "cannot rename '%s' to '%s': %s", r->tmp,
			path, strerror(errno));
		free(path);
		return e->code;
	}
	if (s->o->fsync)
		fsync_parent(path);
	free(path);
	free(r->tmp);
	r->tmp = NULL;
	return 0;
}

static char *
failure_text(const struct pool_job *job, int64_t timeout_ms)
{
	if (job->timed_out)
		return xasprintf("timed out after %lld ms",
			(long long)timeout_ms);
	if (job->report && job->report->rc < 0)
		return xstrdup(job->report->msg);
	if (job->signal)
		return xasprintf("killed by signal %d (%s)", job->signal,
			strsignal(job->signal));
	return xasprintf("exit status %d", job->exit_code);
}

static void
on_job_exit(struct pool_job *job)
{
	struct sched *s = job->pool->data;
	struct running *r = job->data;
	uint32_t i = r->inst;
	const struct task *t = task_of(s, i);
	const char *state = "done";
	char *error = NULL;
	struct err e;
	int ok, final = 1;

	err_clear(&e);
	s->n_running--;
	if (t->pool >= 0 && s->pool_used[t->pool]-- ==
	    s->dag->pools[t->pool].limit && s->pool_q[t->pool].n) {
		uint32_t q = heap_pop(s, &s->pool_q[t->pool]);

		s->si[q].queued = 0;
		make_ready(s, q);
	}
	ok = job->exit_code == 0 && !job->signal && !job->timed_out;
	if (ok && !t->kind->command_field && (!job->report ||
	    job->report->rc < 0))
		ok = 0;
	if (ok && publish(s, i, r, &e) < 0) {
		ok = 0;
		error = xstrdup(e.msg);
	}
	if (!ok && !error)
		error = failure_text(job, t->timeout_ms);
	remove_tmp(r);
	if (!ok) {
		if (s->interrupted && !job->timed_out)
			state = "interrupted";
		else
			state = job->timed_out ? "timeout" : "failed";
		if (r->log_fd >= 0)
			dprintf(r->log_fd, "dag-cli: %s %s attempt %d: %s\n",
				t->name, part_of(s, i), s->si[i].attempt, error);
		if (!s->interrupted && s->si[i].tries <= t->retries)
			final = 0;
	}
	if (r->log_fd >= 0)
		close(r->log_fd);
	r->log_fd = -1;
	free(r->child);
	r->child = NULL;
	record(s, i, job, r, state, error, final);
	if (ok) {
		done_inst(s, i);
	} else if (!final) {
		s->g->inst[i].state = INST_TODO;
		retry_later(s, i);
	} else if (s->interrupted) {
		s->g->inst[i].state = INST_TODO;
	} else {
		s->g->inst[i].state = INST_FAILED;
		s->n_failed++;
		fail_downstream(s, i);
	}
	fill(s);
}

static void
show_progress(struct sched *s, int last)
{
	int64_t el = (int64_t)uv_now(&s->loop) - s->t0_ms;
	size_t finished = s->n_done + s->n_failed + s->n_upstream;
	size_t left = s->n_todo > finished + s->n_running ?
		s->n_todo - finished - s->n_running : 0;
	double rate = el > 0 ? (double)finished * 1000.0 / (double)el : 0;
	long eta = rate > 0 ? (long)((double)left / rate) : 0;

	if (last) {
		if (s->progress_shown)
			fprintf(stderr, "\r\033[K");
		return;
	}
	fprintf(stderr, "\r\033[Kdone %zu  running %zu  failed %zu  left %zu"
		"  %.1f/s  ETA %ld:%02ld", s->n_done, s->n_running,
		s->n_failed + s->n_upstream, left, rate, eta / 60, eta % 60);
	s->progress_shown = 1;
}

static void
on_progress(uv_timer_t *t)
{
	show_progress(t->data, 0);
}

static void
on_heartbeat(uv_timer_t *t)
{
	struct sched *s = t->data;

	flush(s);
	state_run_heartbeat(s->st, wall_ms());
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct sched *s = h->data;
	struct retry *rt;

	if (s->interrupted) {
		/* A second signal: no more grace. */
		pool_stop_all(&s->pool, SIGKILL);
		return;
	}
	s->interrupted = signum;
	s->ready.n = 0;
	s->held.n = 0;
	s->polls.n = 0;
	uv_timer_stop(&s->recheck);
	uv_timer_stop(&s->poll_timer);
	while ((rt = s->retries)) {
		s->retries = rt->next;
		uv_close((uv_handle_t *)&rt->timer, on_closed_free);
	}
	s->n_retries = 0;
	pool_stop_all(&s->pool, SIGTERM);
}

/* external-check with poll: look again until its timeout. */
static int
probe_now(struct sched *s, uint32_t i)
{
	struct instance *in = &s->g->inst[i];
	const struct task *t = task_of(s, i);
	const struct partition *p = &s->g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL, *inputs = NULL;
	struct task_run run;
	struct err e;
	int rc;

	err_clear(&e);
	graph_resolve_env(s->g, &env);
	env.now = cli_now();
	if (dag_resolve(s->dag, in->task, p, &env, &fields, NULL, &e) < 0)
		return -EINVAL;
	dag_partition_info(s->dag, p, &info);
	dag_task_run_init(&run, s->dag, in->task, p, &info, fields, NULL);
	rc = t->kind->probe(&run, &inputs, &e);
	node_free(fields);
	if (rc > 0) {
		node_free(in->inputs);
		in->inputs = inputs;
	} else {
		node_free(inputs);
	}
	return rc;
}

static int64_t
poll_interval(const struct task *t)
{
	const char *v = node_get_str(t->def, "poll");
	int64_t ms = 0;

	if (!v || duration_parse(v, &ms) < 0 || ms <= 0)
		ms = 60000;
	return ms;
}

static void
on_poll(uv_timer_t *tm)
{
	struct sched *s = tm->data;
	int64_t el = (int64_t)uv_now(&s->loop) - s->poll_start_ms;
	int64_t next = INT64_MAX;
	size_t k, n = 0;

	for (k = 0; k < s->polls.n; k++) {
		uint32_t i = s->polls.v[k];
		const struct task *t = task_of(s, i);

		if (probe_now(s, i) > 0) {
			s->si[i].touched = 1;
			done_inst(s, i);
			continue;
		}
		if (t->timeout_ms > 0 && el >= t->timeout_ms) {
			s->g->inst[i].state = INST_WAITING;
			s->si[i].touched = 1;
			continue;
		}
		s->polls.v[n++] = i;
		if (poll_interval(t) < next)
			next = poll_interval(t);
	}
	s->polls.n = n;
	if (n)
		uv_timer_start(&s->poll_timer, on_poll, (uint64_t)next, 0);
	fill(s);
}

/* Dependants of instances that stayed waiting are blocked, not run. */
static void
block_waiting(struct sched *s)
{
	size_t i;

	for (i = 0; i < s->g->n_inst; i++) {
		struct instance *in = &s->g->inst[i];
		uint32_t k;

		if (in->state != INST_TODO)
			continue;
		for (k = 0; k < in->n_deps; k++) {
			uint8_t d = s->g->inst[s->g->deps[in->dep_off + k]].state;

			if (d == INST_WAITING || d == INST_BLOCKED) {
				in->state = INST_BLOCKED;
				break;
			}
		}
	}
}

static void
seed(struct sched *s)
{
	int64_t first_poll = INT64_MAX;
	size_t i;

	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];
		const struct task *t = &s->dag->tasks[in->task];

		if (in->state != INST_TODO)
			continue;
		s->n_todo++;
		/* A probed kind still missing has poll: (else it is waiting). */
		if (t->kind->probe) {
			VEC_PUSH(s->polls, (uint32_t)i);
			if (poll_interval(t) < first_poll)
				first_poll = poll_interval(t);
			continue;
		}
		if (s->si[i].unmet == 0)
			make_ready(s, (uint32_t)i);
	}
	if (s->polls.n) {
		s->poll_start_ms = (int64_t)uv_now(&s->loop);
		uv_timer_start(&s->poll_timer, on_poll, (uint64_t)first_poll, 0);
	}
}

static void
json_str(FILE *fp, const char *v)
{
	fputc('"', fp);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fprintf(fp, "\\%c", *v);
		else if ((unsigned char)*v < 0x20)
			fprintf(fp, "\\u%04x", *v);
		else
			fputc(*v, fp);
	}
	fputc('"', fp);
}

static void
summary(struct sched *s, int status)
{
	size_t i, n_wait = 0, n_ran = 0;
	int first = 1;
	FILE *fp = stdout;

	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (s->si[i].tries)
			n_ran++;
		if (st == INST_WAITING || st == INST_BLOCKED)
			n_wait++;
	}
	if (s->o->json) {
		fprintf(fp, "{\"dag\": ");
		json_str(fp, s->dag->name);
		fprintf(fp, ", \"exit\": %d, \"done\": %zu, \"failed\": %zu, "
			"\"upstream_failed\": %zu, \"waiting\": %zu, "
			"\"instances\": [", status, s->n_done, s->n_failed,
			s->n_upstream, n_wait);
		for (i = 0; i < s->g->n_inst; i++) {
			const struct instance *in = &s->g->inst[i];
			char *log;

			if (!s->si[i].touched && in->state != INST_WAITING &&
			    in->state != INST_BLOCKED)
				continue;
			fprintf(fp, "%s{\"task\": ", first ? "" : ", ");
			first = 0;
			json_str(fp, task_of(s, (uint32_t)i)->name);
			fprintf(fp, ", \"partition\": ");
			json_str(fp, part_of(s, (uint32_t)i));
			fprintf(fp, ", \"state\": \"%s\", \"attempts\": %d",
				inst_state_name(in->state),
				(int)s->si[i].tries);
			if (s->si[i].tries) {
				log = log_path(s, (uint32_t)i);
				fprintf(fp, ", \"log\": ");
				json_str(fp, log);
				free(log);
			}
			fputc('}', fp);
		}
		fprintf(fp, "]}\n");
		return;
	}
	if (s->o->quiet)
		return;
	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];
		char *log;

		if (in->state != INST_FAILED)
			continue;
		log = log_path(s, (uint32_t)i);
		fprintf(fp, "failed: %s %s (attempt %d), log: %s\n",
			task_of(s, (uint32_t)i)->name, part_of(s, (uint32_t)i),
			s->si[i].attempt, log);
		free(log);
	}
	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];
		char *abs;

		if (in->state != INST_WAITING || !in->requested)
			continue;
		abs = in->target ? path_abs(in->target) : NULL;
		fprintf(fp, "waiting: %s %s: external input missing%s%s\n",
			task_of(s, (uint32_t)i)->name, part_of(s, (uint32_t)i),
			abs ? " " : "", abs ? abs : "");
		free(abs);
	}
	fprintf(fp, "%s: %zu ran, %zu done, %zu failed, %zu upstream failed, "
		"%zu waiting%s\n", s->dag->name, n_ran, s->n_done, s->n_failed,
		s->n_upstream, n_wait, s->interrupted ? ", interrupted" : "");
}

static int
exit_status(struct sched *s)
{
	size_t i;
	int waiting = 0;

	if (s->interrupted)
		return 128 + s->interrupted;
	if (s->n_failed || s->n_upstream)
		return EXIT_FAILED;
	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (st == INST_WAITING || st == INST_BLOCKED)
			waiting = 1;
		else if (st != INST_DONE && s->g->inst[i].requested)
			return EXIT_FAILED;
	}
	return waiting ? EXIT_WAITING : EXIT_OK;
}

/* Close the scheduler's own handles (retry timers are gone by now). */
static void
walk_close(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
sched_run(const struct dag *dag, struct graph *g, struct state *st,
	const struct sched_options *o, struct err *e)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	size_t i, jobs = o->jobs > 0 ? (size_t)o->jobs :
		(size_t)uv_available_parallelism();
	int rc, status;

	s->dag = dag;
	s->g = g;
	s->st = st;
	s->o = o;
	rc = uv_loop_init(&s->loop);
	if (rc < 0) {
		free(s);
		return err_set(e, rc, "cannot start the event loop: %s",
			uv_strerror(rc));
	}
	rc = pool_init(&s->pool, &s->loop, jobs, on_job_exit, e);
	if (rc < 0)
		goto out;
	s->pool.data = s;
	if (o->kill_grace_ms > 0)
		s->pool.kill_grace_ms = o->kill_grace_ms;
	s->run = xcalloc(jobs, sizeof(*s->run));
	s->pool_q = xcalloc(dag->n_pools + 1, sizeof(*s->pool_q));
	s->pool_used = xcalloc(dag->n_pools + 1, sizeof(*s->pool_used));
	s->last_dir = xcalloc(dag->n_tasks + 1, sizeof(*s->last_dir));
	index_graph(s);
	for (i = 0; i < dag->n_tasks; i++) {
		char *dir = xasprintf("%s/%s/%s", st->logs_dir, dag->name,
			dag->tasks[i].name);

		mkdir_p(dir, 0777);
		free(dir);
	}
	rc = state_run_begin(st, dag->name, o->args ? o->args : "", wall_ms(),
		e);
	if (rc < 0)
		goto out_pool;
	uv_timer_init(&s->loop, &s->flush_timer);
	uv_timer_init(&s->loop, &s->heartbeat);
	uv_timer_init(&s->loop, &s->progress);
	uv_timer_init(&s->loop, &s->recheck);
	uv_timer_init(&s->loop, &s->poll_timer);
	s->flush_timer.data = s->heartbeat.data = s->progress.data = s;
	s->recheck.data = s->poll_timer.data = s;
	uv_timer_start(&s->heartbeat, on_heartbeat, STATE_HEARTBEAT_MS,
		STATE_HEARTBEAT_MS);
	uv_unref((uv_handle_t *)&s->heartbeat);
	uv_unref((uv_handle_t *)&s->flush_timer);
	if (o->progress && !o->json) {
		uv_timer_start(&s->progress, on_progress, PROGRESS_MS,
			PROGRESS_MS);
		uv_unref((uv_handle_t *)&s->progress);
	}
	uv_signal_init(&s->loop, &s->sigint);
	uv_signal_init(&s->loop, &s->sigterm);
	s->sigint.data = s->sigterm.data = s;
	uv_signal_start(&s->sigint, on_signal, SIGINT);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
	uv_unref((uv_handle_t *)&s->sigint);
	uv_unref((uv_handle_t *)&s->sigterm);
	s->t0_ms = (int64_t)uv_now(&s->loop);
	seed(s);
	fill(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	/* Polls that timed out leave their dependants blocked. */
	block_waiting(s);
	flush(s);
	if (o->progress && !o->json)
		show_progress(s, 1);
	status = exit_status(s);
	if (s->failed_db) {
		*e = s->db_err;
		rc = e->code ? e->code : -EIO;
	} else {
		rc = status;
	}
	state_run_end(st, status, wall_ms());
	summary(s, status);
out_pool:
	pool_close(&s->pool, NULL);
	uv_walk(&s->loop, walk_close, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	goto done;
out:
	uv_loop_close(&s->loop);
done:
	for (i = 0; s->last_dir && i < dag->n_tasks; i++)
		free(s->last_dir[i]);
	for (i = 0; s->pool_q && i < dag->n_pools; i++)
		free(s->pool_q[i].v);
	free(s->last_dir);
	free(s->pool_q);
	free(s->pool_used);
	free(s->run);
	free(s->si);
	free(s->roff);
	free(s->rdeps);
	free(s->ready.v);
	free(s->pending.v);
	free(s->held.v);
	free(s->polls.v);
	free(s);
	return rc;
}

/* ---- one instance as JSON: the remote-executor seam ---- */

static void
map_str(struct node *m, const char *k, const char *v)
{
	if (v)
		node_map_set(m, k, node_new_scalar(v));
}

char *
sched_instance_json(const struct dag *dag, struct graph *g, size_t inst,
	struct err *e)
{
	const struct instance *in = &g->inst[inst];
	const struct task *t = &dag->tasks[in->task];
	const struct partition *p = &g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL, *m;
	char *database, *json, num[32];

	graph_resolve_env(g, &env);
	env.now = cli_now();
	if (dag_resolve(dag, in->task, p, &env, &fields, NULL, e) < 0)
		return NULL;
	database = dag_resolve_database(dag, in->task, p, &env, e);
	dag_partition_info(dag, p, &info);
	m = node_new_map();
	map_str(m, "dag", dag->name);
	map_str(m, "task", t->name);
	map_str(m, "kind", t->kind->name);
	map_str(m, "partition", p->id);
	map_str(m, "date", info.date);
	map_str(m, "hour", info.hour);
	snprintf(num, sizeof(num), "%lld", (long long)p->start);
	map_str(m, "start", num);
	snprintf(num, sizeof(num), "%lld", (long long)p->end);
	map_str(m, "end", num);
	map_str(m, "start_iso", info.start_iso);
	map_str(m, "end_iso", info.end_iso);
	map_str(m, "database", database);
	node_map_set(m, "definition", node_clone(t->def));
	node_map_set(m, "fields", fields);
	json = node_to_json(m);
	node_free(m);
	free(database);
	return json;
}

int
sched_run_instance_json(const char *text, struct err *e)
{
	static const char *const need[] = { "dag", "task", "kind", "partition",
		"date", "hour", "start", "end", "start_iso", "end_iso" };
	const struct task_kind *kind;
	struct pool_report rep;
	struct task_run run;
	struct node *m = NULL;
	const struct node *fields;
	size_t i;
	int status;

	if (node_from_json(text, &m, e) < 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_LEN(need); i++)
		if (!node_get_str(m, need[i])) {
			node_free(m);
			return err_set(e, -EINVAL, "the instance has no '%s'",
				need[i]);
		}
	fields = node_get(m, "fields");
	kind = task_kind_find(node_get_str(m, "kind"));
	if (!kind || kind->command_field || !fields) {
		err_set(e, -EINVAL, kind ? "the instance has no built-in kind "
			"or no fields" : "unknown task kind '%s'",
			node_get_str(m, "kind"));
		node_free(m);
		return -EINVAL;
	}
	memset(&run, 0, sizeof(run));
	memset(&rep, 0, sizeof(rep));
	run.dag = node_get_str(m, "dag");
	run.task = node_get_str(m, "task");
	run.partition = node_get_str(m, "partition");
	run.date = node_get_str(m, "date");
	run.hour = node_get_str(m, "hour");
	run.start_iso = node_get_str(m, "start_iso");
	run.end_iso = node_get_str(m, "end_iso");
	run.start = strtoll(node_get_str(m, "start"), NULL, 10);
	run.end = strtoll(node_get_str(m, "end"), NULL, 10);
	run.database = node_get_str(m, "database");
	run.fields = fields;
	run.log = stderr;
	status = sched_exec_builtin(kind, node_get(m, "definition"), NULL,
		&run, &rep);
	printf("{\"rc\": %d, \"records_in\": %lld, \"records_out\": %lld, "
		"\"records_rejected\": %lld}\n", rep.rc,
		(long long)rep.records_in, (long long)rep.records_out,
		(long long)rep.records_rejected);
	node_free(m);
	return status;
}
