/*
 * The local executor: the process pool (engine/pool.c) behind the
 * executor interface.  Commands are vforked into /bin/sh -c; built-in
 * kinds are forked without exec and resolve their instance in the child
 * (instance_run), so the scheduler's loop spends nothing on resolution
 * and the child inherits what prepare() built.  The child reports
 * through the pool's slot of shared memory, which stays an implementation
 * detail here: the scheduler sees only the struct exec_result.  A
 * command's temporary target is published in this process when its
 * shell exits 0 (publish_target), before the result is delivered.
 */
#include "config.h"
#include "executor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "logcap.h"
#include "pool.h"
#include "publish.h"

/* One started attempt, per pool slot. */
struct local_job {
	void *token;
	const struct dag *dag;
	struct graph *g;
	uint32_t inst;
	int64_t now;
	char *target;		/* commands with a temporary: where it goes */
	char *tmp;
	int target_dir;
	int fsync;
	int builtin;
	int64_t started_ms;	/* unix ms */
	struct log_cap log;	/* the attempt's log, kept under its cap */
};

struct local {
	struct executor *x;
	struct pool pool;
	struct local_job *jobs;	/* per slot */
	uv_timer_t log_timer;	/* looks at the running attempts' logs */
	int64_t log_max;	/* DAG_LOG_MAX */
	int closing;		/* handles still closing */
};

static void
job_clear(struct local_job *j)
{
	log_cap_finish(&j->log);
	free(j->target);
	free(j->tmp);
	memset(j, 0, sizeof(*j));
	j->log.fd = -1;
}

/* The forked child: resolve and run the built-in kind, report. */
static int
child_main(void *arg, struct pool_report *rep)
{
	struct local_job *j = arg;
	struct exec_result res;
	int status;

	exec_result_init(&res);
	status = instance_run(j->dag, j->g, j->inst, j->now, stdout, &res);
	rep->rc = res.rc;
	rep->records_in = res.records_in;
	rep->records_out = res.records_out;
	rep->records_rejected = res.records_rejected;
	snprintf(rep->msg, sizeof(rep->msg), "%s", res.error);
	return status;
}

static void
on_job_exit(struct pool_job *job)
{
	struct local *l = job->pool->data;
	struct local_job *j = &l->jobs[job->slot];
	struct exec_result res;

	exec_result_init(&res);
	res.token = j->token;
	res.exit_code = job->exit_code;
	res.signal = job->signal;
	res.timed_out = job->timed_out;
	res.started_ms = j->started_ms;
	res.duration_ms = job->duration_ms;
	res.max_rss_kb = job->max_rss_kb;
	if (job->report) {
		res.rc = job->report->rc;
		res.records_in = job->report->records_in;
		res.records_out = job->report->records_out;
		res.records_rejected = job->report->records_rejected;
		if (res.rc < 0)
			snprintf(res.error, sizeof(res.error), "%s",
				job->report->msg);
	} else if (j->builtin) {
		/* It died before reporting: the status says why. */
		res.rc = -EPROTO;
	}
	if (exec_result_ok(&res) && j->tmp) {
		struct err e;

		err_clear(&e);
		if (publish_target(j->target, j->tmp, j->target_dir, j->fsync,
		    &e) < 0) {
			res.rc = e.code;
			snprintf(res.error, sizeof(res.error), "%s", e.msg);
		} else {
			res.published = 1;
		}
	}
	if (!res.published)
		publish_discard(j->tmp);
	job_clear(j);
	l->x->on_result(l->x, &res);
}

static void
on_log_timer(uv_timer_t *t)
{
	struct local *l = t->data;
	size_t i;

	for (i = 0; i < l->pool.n_slots; i++)
		if (l->pool.jobs[i].pid)
			log_cap_check(&l->jobs[i].log);
}

static int
local_open(struct executor *x, struct err *e)
{
	struct local *l = xcalloc(1, sizeof(*l));
	size_t i;
	int rc;

	l->x = x;
	rc = pool_init(&l->pool, x->loop, x->slots, on_job_exit, e);
	if (rc < 0) {
		free(l);
		return rc;
	}
	l->pool.data = l;
	if (x->kill_grace_ms > 0)
		l->pool.kill_grace_ms = x->kill_grace_ms;
	l->jobs = xcalloc(l->pool.n_slots, sizeof(*l->jobs));
	for (i = 0; i < l->pool.n_slots; i++)
		l->jobs[i].log.fd = -1;
	l->log_max = log_cap_max();
	/* Cannot fail on an initialised loop; never keeps the loop alive. */
	uv_timer_init(x->loop, &l->log_timer);
	l->log_timer.data = l;
	if (l->log_max > 0)
		uv_timer_start(&l->log_timer, on_log_timer, LOG_CAP_EVERY_MS,
			LOG_CAP_EVERY_MS);
	uv_unref((uv_handle_t *)&l->log_timer);
	x->priv = l;
	return 0;
}

static int
local_start(struct executor *x, const struct exec_request *rq, struct err *e)
{
	struct local *l = x->priv;
	struct pool_job *job = pool_job_get(&l->pool);
	struct local_job *j;
	int rc;

	if (!job)
		return err_set(e, -EBUSY, "no free job slot");
	j = &l->jobs[job->slot];
	j->token = rq->token;
	j->dag = rq->dag;
	j->g = rq->g;
	j->inst = rq->inst;
	j->now = rq->now;
	j->started_ms = wall_ms();
	j->builtin = !rq->command;
	j->target_dir = rq->target_dir;
	j->fsync = rq->fsync;
	log_cap_init(&j->log, rq->log_fd, l->log_max);
	if (rq->command && rq->tmp_target) {
		j->target = xstrdup(rq->target);
		j->tmp = xstrdup(rq->tmp_target);
		rc = publish_prepare(j->tmp, j->target_dir, e);
		if (rc < 0)
			goto fail;
	}
	if (rq->command && x->mark && !l->pool.env)
		pool_set_mark(&l->pool, x->mark);
	if (rq->command)
		rc = pool_job_spawn_shell(job, rq->command, rq->log_fd,
			rq->timeout_ms, e);
	else
		rc = pool_job_fork(job, child_main, j, rq->log_fd,
			rq->timeout_ms, e);
	if (rc < 0)
		goto fail;
	job->data = j;
	/* A built-in's child starts no program and dies with the scheduler. */
	if (rq->pgid)
		*rq->pgid = rq->command ? (long)job->pid : 0;
	return 0;
fail:
	publish_discard(j->tmp);
	job_clear(j);
	pool_job_put(job);
	return rc;
}

static void
local_cancel(struct executor *x, void *token, int sig)
{
	struct local *l = x->priv;
	size_t i;

	for (i = 0; i < l->pool.n_slots; i++)
		if (l->pool.jobs[i].pid && l->jobs[i].token == token)
			pool_job_stop(&l->pool.jobs[i], sig);
}

static void
local_cancel_all(struct executor *x, int sig)
{
	struct local *l = x->priv;

	pool_stop_all(&l->pool, sig);
}

static void
local_free(struct local *l)
{
	if (--l->closing)
		return;
	free(l->jobs);
	free(l);
}

static void
on_log_timer_closed(uv_handle_t *h)
{
	local_free(h->data);
}

static void
on_pool_closed(struct pool *p)
{
	local_free(p->data);
}

static void
local_close(struct executor *x)
{
	struct local *l = x->priv;

	if (!l)
		return;
	x->priv = NULL;
	l->closing = 2;
	uv_close((uv_handle_t *)&l->log_timer, on_log_timer_closed);
	pool_close(&l->pool, on_pool_closed);
}

const struct exec_ops exec_local = {
	.name = "local",
	.open = local_open,
	.start = local_start,
	.cancel = local_cancel,
	.cancel_all = local_cancel_all,
	.close = local_close,
};
