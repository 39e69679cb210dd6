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
 * Each start costs one short transaction (the lease, the attempt count and
 * the command's process group, committed once the command runs); finished
 * attempts are written to the state database in batches (every 250 ms or
 * 512 attempts), and a lease is given back with its batch.  So a crash
 * loses at most the last fraction of a second of history, never a target:
 * targets are the truth, and a lease left behind by a dead scheduler is
 * taken over.
 *
 * A lease held by another live scheduler is not waited on in a slot: the
 * instance is set aside and looked at again every recheck_ms; once the
 * other run gave it up, its target is checked again before it runs (the
 * other run has usually made it).  The target is re-checked after a
 * lease claim for the same reason when the state shows another run
 * touched the instance since the graph was built.
 *
 * A command's process group is recorded with its lease, and every command
 * carries the run's mark (DAG_CLI_RUN) in its environment: a run that
 * takes over a dead run's lease first kills what that run's command left
 * running in the group, so a program never runs twice at once.
 */
#include "config.h"
#include "sched_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "atomic.h"
#include "cli.h"		/* the exit statuses (EXIT_*) only */
#include "dag.h"
#include "graph.h"
#include "hooks.h"
#include "pool.h"
#include "node.h"
#include "executor.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"

#define PROGRESS_MS 250

/* A started instance: the executor's token. */
struct running {
	uint32_t inst;
	int log_fd;		/* the attempt's log, for the failure line */
	int has_tmp;		/* a command writing a temporary target */
	int64_t started_ms;	/* unix ms */
};



static void
make_ready(struct sched *s, uint32_t i)
{
	if (s->si[i].queued || s->interrupted)
		return;
	s->si[i].queued = 1;
	sched_heap_push(s, &s->ready, i);
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

void
sched_done_inst(struct sched *s, uint32_t i)
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

int64_t
sched_now_ms(const struct sched *s)
{
	return s->o->wall_ms ? s->o->wall_ms(s->o->clock_arg) : wall_ms();
}


/* Is the instance's target there now?  Bypasses the graph's cache. */
static int
target_now(struct sched *s, uint32_t i)
{
	const struct instance *in = &s->g->inst[i];
	struct target_ref ref;
	struct err e;
	int rc = 0;

	if (target_resolve(s->dag, in->task, &s->g->parts[in->part], NULL,
	    &ref, &e) == 0 && ref.kind)
		rc = ref.kind->exists(NULL, &ref, &e) > 0;
	target_ref_release(&ref);
	return rc;
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
			sched_done_inst(s, i);
			continue;
		}
		make_ready(s, i);
	}
	sched_fill(s);
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

/* Could not start: an attempt that failed at once. */
static void
start_failed(struct sched *s, uint32_t i, struct running *r,
	const struct err *e)
{
	if (r->log_fd >= 0) {
		sched_log_say(s, r->log_fd, "%s", e->msg);
		close(r->log_fd);
	}
	sched_record(s, i, NULL, r->started_ms, ATTEMPT_FAILED,
		xstrdup(e->msg), 1);
	free(r);
	s->g->inst[i].state = INST_FAILED;
	s->n_failed++;
	fail_downstream(s, i);
}

/* How long a takeover waits for a dead run's killed programs to go (ms). */
#define LEFTOVER_WAIT_MS 10000

/* The mark of run id run of the scheduler with pid pid.  Caller frees. */
static char *
run_mark(long pid, int64_t run)
{
	return xasprintf("DAG_CLI_RUN=%ld.%lld", pid, (long long)run);
}

/*
 * A lease taken over from a dead run on this host: kill what its command
 * left running (it would load, write or call out a second time).  0, or
 * -EBUSY with e filled when something of it would not die.
 */
static int
kill_leftovers(const struct lease_claim *c, struct err *e)
{
	char *mark;
	int rc;

	if (!c->took_over || !c->prev_here || c->prev_pgid <= 0)
		return 0;
	mark = run_mark(c->prev_pid, c->prev_run);
	rc = pool_group_kill_stale(c->prev_pgid, mark, LEFTOVER_WAIT_MS);
	free(mark);
	if (rc < 0)
		err_set(e, rc, "what the dead run started (process group %ld) "
			"is still running", c->prev_pgid);
	return rc;
}

/*
 * Hand a leased instance to the executor.  0, or negative errno with e.
 * *pgid: the process group its command runs in on this host, or 0.
 */
static int
launch(struct sched *s, uint32_t i, struct running *r, long *pgid,
	struct err *e)
{
	const struct task *t = sched_task_of(s, i);
	const struct instance *in = &s->g->inst[i];
	struct exec_request rq;
	char *log = sched_log_path(s, i), *cmd = NULL, *tmp = NULL;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.pgid = pgid;
	rq.dag = s->dag;
	rq.g = s->g;
	rq.inst = i;
	rq.attempt = s->si[i].attempt;
	rq.now = s->now;
	rq.log_path = log;
	rq.log_fd = r->log_fd;
	rq.target = in->target;
	rq.target_dir = t->target_type == TARGET_DIR;
	rq.fsync = s->o->fsync;
	rq.timeout_ms = t->timeout_ms;
	rq.token = r;
	rc = t->kind->command_field ?
		sched_command_request(s, i, &rq, &cmd, &tmp, e) : 0;
	if (rc == 0)
		rc = s->x.ops->start(&s->x, &rq, e);
	r->has_tmp = tmp != NULL;
	free(cmd);
	free(tmp);
	free(log);
	return rc;
}

int
sched_salvage(struct sched *s, struct err *e)
{
	size_t i;
	int rc;

	rc = state_salvage(s->st, e);
	if (rc < 0)
		return rc;
	/* The new database must know what this run is running. */
	for (i = 0; i < s->g->n_inst; i++) {
		struct lease_claim c;
		struct err e2;

		if (s->g->inst[i].state != INST_RUNNING)
			continue;
		err_clear(&e2);
		rc = state_lease_claim(s->st, s->dag->name,
			sched_task_of(s, (uint32_t)i)->name,
			sched_part_of(s, (uint32_t)i), sched_now_ms(s), &c, &e2);
		if (rc < 0) {
			*e = e2;
			return rc;
		}
	}
	return 0;
}

/*
 * Must instance i's target be looked at again before it runs?  Another run
 * may have made it since the graph looked: when another run held its
 * lease or recorded it since (a second of slack for the clock).
 * Otherwise the graph's answer stands, which spares opening a warehouse
 * database per instance.
 */
static int
look_again(struct sched *s, uint32_t i, const struct lease_claim *c)
{
	return !s->g->inst[i].forced && (c->took_over ||
	    c->last_update >= s->g->built_ms - 1000);
}

/*
 * Claim instance i's lease.  Returns 1 held, 0 held by another live run,
 * negative errno on a state error (after one try in a salvaged database).
 * When 1 and *open, the claim's transaction is still open and the lease
 * not written yet: the caller starts the command and writes the lease
 * with its process group (state_lease_put) in it, so a start costs one
 * commit (commit_started).  A claim that takes a dead run's lease over
 * or must look at the target again is written and committed here:
 * killing a dead run's leftovers may take seconds, and a target check
 * may open a warehouse, neither of which should hold the write lock.
 */
static int
claim(struct sched *s, uint32_t i, struct lease_claim *c, int *open,
	struct err *e)
{
	const char *task = sched_task_of(s, i)->name, *part = sched_part_of(s, i);
	int rc, put, k;

	*open = 0;
	for (k = 0; k < 2; k++) {
		rc = state_begin(s->st, e);
		if (rc == 0)
			rc = state_lease_check(s->st, s->dag->name, task, part,
				sched_now_ms(s), c, e);
		if (rc == 1 && !look_again(s, i, c)) {
			*open = 1;
			return 1;
		}
		if (rc == 1 && (put = state_lease_put(s->st, s->dag->name,
		    task, part, c, 0, e)) < 0)
			rc = put;
		if (rc >= 0) {
			int got = rc;

			rc = state_commit(s->st, e);
			if (rc == 0)
				return got;
		} else {
			state_rollback(s->st);
		}
		if (k || sched_salvage(s, e) < 0)
			break;
	}
	return rc;
}

/*
 * Write instance i's lease with the process group of its command (0:
 * none) and commit the transaction of its claim and start.  The instance
 * runs whatever the outcome: when the commit fails, a damaged database
 * is replaced (sched_salvage leases what runs again), else the run stops
 * starting instances as on any state error.
 */
static void
commit_started(struct sched *s, uint32_t i, const struct lease_claim *c,
	long pgid)
{
	struct err e;

	err_clear(&e);
	if ((state_lease_put(s->st, s->dag->name, sched_task_of(s, i)->name,
	    sched_part_of(s, i), c, pgid, &e) == 0 &&
	    state_commit(s->st, &e) == 0) || sched_salvage(s, &e) == 0)
		return;
	if (!s->failed_db) {
		s->failed_db = 1;
		s->db_err = e;
	}
}

/*
 * Lease and start one instance.  Returns 1 started, 0 not started
 * (leased elsewhere, found done, or failed to start), negative errno on
 * a state error.
 */
static int
start(struct sched *s, uint32_t i)
{
	const struct task *t = sched_task_of(s, i);
	struct running *r;
	struct lease_claim c;
	struct err e;
	long pgid = 0;
	int rc, gone, open;

	err_clear(&e);
	rc = claim(s, i, &c, &open, &e);
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
	gone = kill_leftovers(&c, &e);
	if (c.took_over && s->g->inst[i].target)
		atomic_remove_stale(s->g->inst[i].target, c.prev_pid);
	if (look_again(s, i, &c) && target_now(s, i)) {
		state_lease_abandon(s->st, s->dag->name, t->name, sched_part_of(s, i),
			ATTEMPT_DONE);
		s->si[i].held = 0;
		sched_done_inst(s, i);
		return 0;
	}
	s->si[i].held = 0;
	s->si[i].touched = 1;
	s->si[i].tries++;
	r = xcalloc(1, sizeof(*r));
	r->inst = i;
	r->started_ms = sched_now_ms(s);
	r->log_fd = gone < 0 ? -1 : sched_open_log(s, i, &e);
	sched_log_say(s, r->log_fd, "%s %s attempt %d started", t->name,
		sched_part_of(s, i), s->si[i].attempt);
	rc = gone < 0 ? gone : r->log_fd >= 0 ? launch(s, i, r, &pgid, &e) :
		e.code;
	if (rc == 0) {
		s->g->inst[i].state = INST_RUNNING;
		s->n_running++;
		if (t->pool >= 0)
			s->pool_used[t->pool]++;
	}
	/* A start that failed counted its attempt too: its record says why. */
	if (open)
		commit_started(s, i, &c, rc == 0 ? pgid : 0);
	else if (rc == 0 && pgid > 0)
		state_lease_pgid(s->st, s->dag->name, t->name,
			sched_part_of(s, i), pgid);
	if (rc < 0) {
		start_failed(s, i, r, &e);
		return 0;
	}
	return 1;
}

/*
 * Pool pl has room: send its next queued instance to the ready heap.
 * Called whenever a pool slot frees or an instance of the pool did not
 * take the slot it was let through for (leased elsewhere, found done,
 * could not start), so an instance that does not run never leaves the
 * rest of its pool's queue waiting.
 */
static void
pool_next(struct sched *s, int pl)
{
	uint32_t q;

	if (pl < 0 || s->pool_used[pl] >= s->dag->pools[pl].limit ||
	    !s->pool_q[pl].n)
		return;
	q = sched_heap_pop(s, &s->pool_q[pl]);
	s->si[q].queued = 0;
	make_ready(s, q);
}

void
sched_fill(struct sched *s)
{
	while (s->ready.n && !s->interrupted && !s->failed_db) {
		uint32_t i;
		int pl;

		if (s->n_running >= s->x.slots)
			return;
		i = sched_heap_pop(s, &s->ready);
		s->si[i].queued = 0;
		if (s->g->inst[i].state != INST_TODO)
			continue;
		pl = sched_task_of(s, i)->pool;
		if (pl >= 0 && s->pool_used[pl] >= s->dag->pools[pl].limit) {
			s->si[i].queued = 1;
			sched_heap_push(s, &s->pool_q[pl], i);
			continue;
		}
		if (start(s, i) != 1)
			pool_next(s, pl);
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
	sched_fill(s);
}

static void
retry_later(struct sched *s, uint32_t i)
{
	const struct task *t = sched_task_of(s, i);
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

/*
 * Did a successful attempt leave its target?  A command with a temporary
 * target must have been published by the executor; one that writes in
 * place must have written it.
 */
static int
check_target(struct sched *s, uint32_t i, const struct running *r,
	const struct exec_result *res, struct err *e)
{
	const char *target = s->g->inst[i].target;

	if (!target || !sched_task_of(s, i)->kind->command_field)
		return 0;
	if (r->has_tmp)
		return res->published ? 0 : err_set(e, -EPROTO, "the target "
			"'%s' was not published", target);
	if (target_now(s, i))
		return 0;
	return err_set(e, -ENOENT, "the command exited 0 but did not write "
		"its target '%s'", target);
}

/*
 * Run the task's hook for this event (field: on_success, on_retry,
 * on_failure; NULL for none), detached; a hook that cannot even start is
 * said on stderr and changes nothing else.
 */
static void
fire_hook(struct sched *s, uint32_t i, const char *field, const char *state,
	const char *error)
{
	const struct task *t = sched_task_of(s, i);
	const char *cmd = field ? node_get_str(t->def, field) : NULL;
	struct hook_event ev;
	char *log, *rel;
	int rc;

	if (!cmd || !*cmd)
		return;
	rel = sched_log_path(s, i);
	log = path_abs(rel);
	free(rel);
	memset(&ev, 0, sizeof(ev));
	ev.field = field;
	ev.dag = s->dag->name;
	ev.task = t->name;
	ev.partition = sched_part_of(s, i);
	ev.attempt = s->si[i].attempt;
	ev.state = state;
	ev.error = error;
	ev.log = log;
	rc = hook_run(cmd, &ev);
	if (rc < 0)
		fprintf(stderr, "dag-cli: %s %s: cannot start the %s hook: %s\n",
			t->name, ev.partition, field, strerror(-rc));
	free(log);
}

/*
 * A failed attempt (killed by a timeout or a stop, or failing) may leave
 * temporaries beside its target, named after this process (a built-in's
 * child or worker names them so): its own go now, its side files' once
 * nothing runs (remove_side_tmps), as such a name may be another running
 * target's own temporary.
 */
static void
remove_tmp(struct sched *s, uint32_t i)
{
	const char *target = s->g->inst[i].target;

	if (!target)
		return;
	atomic_remove_tmp(target, (long)getpid());
	if (!s->si[i].tmp_failed) {
		s->si[i].tmp_failed = 1;
		VEC_PUSH(s->tmp_failed, i);
	}
}

static void
remove_side_tmps(struct sched *s)
{
	size_t k;

	for (k = 0; k < s->tmp_failed.n; k++)
		atomic_remove_stale(s->g->inst[s->tmp_failed.v[k]].target,
			(long)getpid());
}

static void
on_result(struct executor *x, const struct exec_result *res)
{
	struct sched *s = x->data;
	struct running *r = res->token;
	uint32_t i = r->inst;
	const struct task *t = sched_task_of(s, i);
	enum attempt_state state = ATTEMPT_DONE;
	const char *perm = NULL;
	char *error = NULL;
	struct err e;
	int ok, final = 1;

	err_clear(&e);
	s->n_running--;
	if (t->pool >= 0) {
		s->pool_used[t->pool]--;
		pool_next(s, t->pool);
	}
	ok = exec_result_ok(res);
	if (ok && check_target(s, i, r, res, &e) < 0) {
		ok = 0;
		error = xstrdup(e.msg);
	}
	if (!ok && !error)
		error = exec_result_failure(res, t->timeout_ms);
	if (!ok)
		remove_tmp(s, i);
	if (!ok) {
		if (s->interrupted && !res->timed_out)
			state = ATTEMPT_INTERRUPTED;
		else if (res->lost)
			state = ATTEMPT_LOST;
		else
			state = res->timed_out ? ATTEMPT_TIMEOUT : ATTEMPT_FAILED;
		/* A built-in kind's verdict on its own error (executor.h). */
		perm = t->kind->command_field || res->lost ? NULL :
			exec_result_permanent(res);
		if (perm && !s->interrupted && s->si[i].tries <= t->retries) {
			char *why = xasprintf("%s; not retried: %s", error, perm);

			free(error);
			error = why;
		}
		sched_log_say(s, r->log_fd, "%s %s attempt %d: %s", t->name,
			sched_part_of(s, i), s->si[i].attempt, error);
		if (!s->interrupted && res->lost && s->si[i].lost < LOST_RETRIES) {
			/* Not the task's failure: its retries stay untouched. */
			s->si[i].lost++;
			s->si[i].tries--;
			final = 0;
		} else if (!s->interrupted && !perm &&
		    s->si[i].tries <= t->retries) {
			final = 0;
		}
	} else {
		sched_log_say(s, r->log_fd, "%s %s attempt %d done in %.1f s", t->name,
			sched_part_of(s, i), s->si[i].attempt,
			(double)res->duration_ms / 1000.0);
	}
	if (r->log_fd >= 0)
		close(r->log_fd);
	sched_record(s, i, res, r->started_ms, state, error, final);
	free(r);
	fire_hook(s, i, ok ? "on_success" : !final ? "on_retry" :
		s->interrupted ? NULL : "on_failure", attempt_state_name(state),
		error);
	if (ok) {
		sched_done_inst(s, i);
	} else if (!final && res->lost) {
		s->g->inst[i].state = INST_TODO;
		make_ready(s, i);
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
	sched_fill(s);
}

static void
on_heartbeat(uv_timer_t *t)
{
	struct sched *s = t->data;

	sched_flush(s);
	state_run_heartbeat(s->st, sched_now_ms(s));
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct sched *s = h->data;
	struct retry *rt;

	if (s->interrupted) {
		/* A second signal: no more grace. */
		s->x.ops->cancel_all(&s->x, SIGKILL);
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
	s->x.ops->cancel_all(&s->x, SIGTERM);
}

static void
seed(struct sched *s)
{
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
			continue;
		}
		if (s->si[i].unmet == 0)
			make_ready(s, (uint32_t)i);
	}
	sched_poll_start(s);
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

static int
uv_failed(int rc, const char *what, struct err *e)
{
	return err_set(e, rc, "cannot %s: %s", what, uv_strerror(rc));
}

/* The provenance job's result, into the run's row once it is begun. */
static void
prov_record(struct sched *s, int wait)
{
	int rc;

	if (!s->o->prov || s->prov_done)
		return;
	rc = gitrepo_job_take(s->o->prov, wait, &s->prov);
	if (rc == -EAGAIN)
		return;
	s->prov_done = 1;
	if (rc > 0)
		state_run_provenance(s->st, s->prov.commit, s->prov.dirty);
}

static void
on_prov(uv_async_t *h)
{
	prov_record(h->data, 0);
}

/* From the job's thread: wake the loop. */
static void
prov_ready(void *arg)
{
	uv_async_send(arg);
}

/*
 * The provenance known before the run is begun goes into its row
 * (state_run_begin); later, on_prov writes it.  An executor other than
 * the workers forks without exec, which must not copy a thread in the
 * middle of libgit2 (its locks held): the job is waited for then.
 */
static int
prov_start(struct sched *s, struct err *e)
{
	int rc;

	if (!s->o->prov)
		return 0;
	rc = gitrepo_job_take(s->o->prov, s->x.ops != &exec_worker, &s->prov);
	if (rc != -EAGAIN) {
		s->prov_done = 1;
		if (rc > 0) {
			s->st->git_commit = s->prov.commit;
			s->st->git_dirty = s->prov.dirty;
		}
		return 0;
	}
	rc = uv_async_init(&s->loop, &s->prov_async, on_prov);
	if (rc < 0)
		return uv_failed(rc, "wait for the git provenance", e);
	s->prov_async.data = s;
	uv_unref((uv_handle_t *)&s->prov_async);
	s->prov_watch = 1;
	gitrepo_job_notify(s->o->prov, prov_ready, &s->prov_async);
	return 0;
}

/* The loop's timers and signal watches.  0 or a libuv error with e. */
static int
start_handles(struct sched *s, struct err *e)
{
	uv_timer_t *timers[] = { &s->flush_timer, &s->heartbeat, &s->progress,
		&s->recheck, &s->poll_timer };
	size_t k;
	int rc;

	for (k = 0; k < ARRAY_LEN(timers); k++) {
		rc = uv_timer_init(&s->loop, timers[k]);
		if (rc < 0)
			return uv_failed(rc, "create a timer", e);
		timers[k]->data = s;
	}
	rc = uv_timer_start(&s->heartbeat, on_heartbeat, STATE_HEARTBEAT_MS,
		STATE_HEARTBEAT_MS);
	if (rc < 0)
		return uv_failed(rc, "start the heartbeat", e);
	uv_unref((uv_handle_t *)&s->heartbeat);
	uv_unref((uv_handle_t *)&s->flush_timer);
	if (s->o->progress && !s->o->json) {
		rc = uv_timer_start(&s->progress, sched_on_progress, PROGRESS_MS,
			PROGRESS_MS);
		if (rc < 0)
			return uv_failed(rc, "start the progress line", e);
		uv_unref((uv_handle_t *)&s->progress);
	}
	if ((rc = uv_signal_init(&s->loop, &s->sigint)) < 0 ||
	    (rc = uv_signal_init(&s->loop, &s->sigterm)) < 0)
		return uv_failed(rc, "watch signals", e);
	s->sigint.data = s->sigterm.data = s;
	if ((rc = uv_signal_start(&s->sigint, on_signal, SIGINT)) < 0 ||
	    (rc = uv_signal_start(&s->sigterm, on_signal, SIGTERM)) < 0)
		return uv_failed(rc, "watch signals", e);
	uv_unref((uv_handle_t *)&s->sigint);
	uv_unref((uv_handle_t *)&s->sigterm);
	return 0;
}

/*
 * An attempt of a killed run that finished after all (the executor found
 * its result when it opened): its real outcome goes into the history,
 * where the run taking the lease over would otherwise record it
 * "interrupted".  Any DAG's: runs of several share the state directory.
 */
static void
on_adopted(struct executor *x, const struct exec_adopted *a)
{
	struct sched *s = x->data;
	const struct exec_result *r = &a->r;
	struct attempt_rec rec;
	char *error = NULL;
	struct err e;
	int ok = exec_result_ok(r);

	memset(&rec, 0, sizeof(rec));
	rec.task = a->task;
	rec.partition = a->partition;
	rec.attempt = a->attempt;
	rec.state = ok ? ATTEMPT_DONE : r->timed_out ? ATTEMPT_TIMEOUT :
		ATTEMPT_FAILED;
	if (!ok)
		error = exec_result_failure(r, a->timeout_ms);
	sched_rec_result(&rec, r);
	rec.log_path = a->log_path;
	rec.error = error;
	err_clear(&e);
	if (state_attempt_adopted(s->st, a->dag, &rec, &e) < 0)
		fprintf(stderr, "dag-cli: %s\n", e.msg);
	free(error);
}

static int
open_executor(struct sched *s, size_t jobs, struct err *e)
{
	const struct sched_options *o = s->o;
	int rc;

	s->x.ops = o->executor ? o->executor : exec_default(e);
	if (!s->x.ops)
		return e->code;
	s->x.loop = &s->loop;
	s->x.slots = jobs;
	s->x.kill_grace_ms = o->kill_grace_ms;
	s->x.on_result = on_result;
	s->x.on_adopted = on_adopted;
	s->x.data = s;
	s->x.arg = o->executor_arg;
	rc = s->x.ops->open(&s->x, e);
	if (rc == 0)
		s->x_open = 1;
	return rc;
}

/* Run the loop until nothing is left to do, then settle the outcome. */
static int
run_loop(struct sched *s, struct err *e)
{
	int rc, status;

	s->t0_ms = (int64_t)uv_now(&s->loop);
	seed(s);
	sched_fill(s);
	rc = uv_run(&s->loop, UV_RUN_DEFAULT);
	(void)rc;	/* non-zero only when stopped, which nothing does */
	remove_side_tmps(s);
	/* Polls that timed out leave their dependants blocked. */
	sched_block_waiting(s);
	sched_flush(s);
	if (s->o->progress && !s->o->json)
		sched_progress(s, 1);
	status = exit_status(s);
	if (s->failed_db) {
		*e = s->db_err;
		rc = e->code ? e->code : -EIO;
	} else {
		rc = status;
	}
	prov_record(s, 1);
	state_run_end(s->st, status, sched_now_ms(s));
	sched_summary(s, status);
	return rc;
}

static void
sched_free(struct sched *s)
{
	size_t i;

	if (s->st->git_commit == s->prov.commit)
		s->st->git_commit = NULL;	/* freed with s */
	for (i = 0; s->last_dir && i < s->dag->n_tasks; i++)
		free(s->last_dir[i]);
	for (i = 0; s->pool_q && i < s->dag->n_pools; i++)
		free(s->pool_q[i].v);
	for (i = 0; s->fail_msg && i < s->g->n_inst; i++)
		free(s->fail_msg[i]);
	free(s->fail_msg);
	free(s->last_dir);
	free(s->mark);
	free(s->pool_q);
	free(s->pool_used);
	free(s->si);
	free(s->roff);
	free(s->rdeps);
	free(s->ready.v);
	free(s->pending.v);
	free(s->pending_def.v);
	free(s->held.v);
	free(s->tmp_failed.v);
	free(s->polls.v);
	free(s);
}

int
sched_run(const struct dag *dag, struct graph *g, struct state *st,
	const struct sched_options *o, struct err *e)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	size_t i, jobs = o->jobs > 0 ? (size_t)o->jobs :
		(size_t)uv_available_parallelism();
	int rc;

	s->dag = dag;
	s->g = g;
	s->st = st;
	s->o = o;
	s->now = o->now ? o->now(o->clock_arg) : (int64_t)(wall_ms() / 1000);
	rc = uv_loop_init(&s->loop);
	if (rc < 0) {
		free(s);
		return uv_failed(rc, "start the event loop", e);
	}
	s->pool_q = xcalloc(dag->n_pools + 1, sizeof(*s->pool_q));
	s->pool_used = xcalloc(dag->n_pools + 1, sizeof(*s->pool_used));
	s->last_dir = xcalloc(dag->n_tasks + 1, sizeof(*s->last_dir));
	index_graph(s);
	atomic_tmp_owner_set((long)getpid());
	rc = open_executor(s, jobs, e);
	if (rc < 0)
		goto out;
	for (i = 0; i < dag->n_tasks; i++) {
		char *dir = xasprintf("%s/%s/%s", st->logs_dir, dag->name,
			dag->tasks[i].name);

		mkdir_p(dir, 0777);
		free(dir);
	}
	rc = start_handles(s, e);
	if (rc == 0)
		rc = prov_start(s, e);
	if (rc < 0)
		goto out;
	rc = state_run_begin(st, dag->name, o->args ? o->args : "",
		sched_now_ms(s), e);
	if (rc == 0) {
		s->mark = run_mark((long)getpid(), st->run_id);
		s->x.mark = s->mark;
		rc = run_loop(s, e);
	}
out:
	if (s->x_open)
		s->x.ops->close(&s->x);
	if (s->prov_watch)
		gitrepo_job_notify(s->o->prov, NULL, NULL);
	uv_walk(&s->loop, walk_close, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&s->loop) < 0 && rc >= 0)
		rc = err_set(e, -EBUSY, "the event loop did not close");
	sched_free(s);
	return rc;
}
