/*
 * The process pool with real children: exit codes, signals, timeouts with
 * the SIGKILL escalation, forked built-in jobs reporting back, slots
 * reused from exit callbacks, and a loop that closes cleanly.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "unit.h"

struct seen {
	int n;
	int exit_code[16];
	int signal[16];
	int timed_out[16];
	int report_rc[16];
	int64_t records_out[16];
	int64_t rss[16];
	char msg[16][1024];
	/* Commands still to start from exit callbacks. */
	const char *const *queue;
	size_t queued, next;
};

static void
on_exit_cb(struct pool_job *job)
{
	struct seen *s = job->pool->data;
	int i = s->n++;

	s->exit_code[i] = job->exit_code;
	s->signal[i] = job->signal;
	s->timed_out[i] = job->timed_out;
	s->rss[i] = job->max_rss_kb;
	s->report_rc[i] = job->report ? job->report->rc : 99;
	s->records_out[i] = job->report ? job->report->records_out : -2;
	snprintf(s->msg[i], sizeof(s->msg[i]), "%s",
		job->report ? job->report->msg : "");
	if (s->next < s->queued) {
		struct pool_job *nj = pool_job_get(job->pool);
		struct err e;

		CHECK(nj != NULL);
		CHECK_INT(pool_job_spawn_shell(nj, s->queue[s->next++], -1, 0,
			&e), ==, 0);
	}
}

static void
closed(struct pool *p)
{
	*(int *)p->loop->data = 1;
}

/* Run the loop until every job ended, close the pool, check the loop. */
static void
finish(uv_loop_t *loop, struct pool *p)
{
	int done = 0;

	uv_run(loop, UV_RUN_DEFAULT);
	CHECK_INT(p->running, ==, 0);
	loop->data = &done;
	pool_close(p, closed);
	uv_run(loop, UV_RUN_DEFAULT);
	CHECK_INT(done, ==, 1);
	CHECK_INT(uv_loop_close(loop), ==, 0);
}

static void
run_shell(const char *cmd, int64_t timeout_ms, int64_t grace_ms,
	struct seen *s)
{
	uv_loop_t loop;
	struct pool p;
	struct pool_job *job;
	struct err e;

	memset(s, 0, sizeof(*s));
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(pool_init(&p, &loop, 2, on_exit_cb, &e), ==, 0);
	p.data = s;
	p.kill_grace_ms = grace_ms;
	job = pool_job_get(&p);
	CHECK(job != NULL);
	CHECK_INT(pool_job_spawn_shell(job, cmd, -1, timeout_ms, &e), ==, 0);
	finish(&loop, &p);
	CHECK_INT(s->n, ==, 1);
}

UNIT_TEST(true_exits_zero)
{
	struct seen s;

	run_shell("true", 0, 1000, &s);
	CHECK_INT(s.exit_code[0], ==, 0);
	CHECK_INT(s.signal[0], ==, 0);
	CHECK_INT(s.timed_out[0], ==, 0);
	CHECK_INT(s.report_rc[0], ==, 99);
	CHECK(s.rss[0] > 0);
}

UNIT_TEST(exit_three_is_reported)
{
	struct seen s;

	run_shell("exit 3", 0, 1000, &s);
	CHECK_INT(s.exit_code[0], ==, 3);
	CHECK_INT(s.signal[0], ==, 0);
}

UNIT_TEST(a_signal_is_reported)
{
	struct seen s;

	run_shell("kill -USR1 $$", 0, 1000, &s);
	CHECK_INT(s.exit_code[0], ==, -1);
	CHECK_INT(s.signal[0], ==, SIGUSR1);
	CHECK_INT(s.timed_out[0], ==, 0);
}

UNIT_TEST(a_timeout_sends_sigterm)
{
	struct seen s;

	run_shell("sleep 10", 100, 5000, &s);
	CHECK_INT(s.timed_out[0], ==, 1);
	CHECK_INT(s.signal[0], ==, SIGTERM);
}

UNIT_TEST(a_timeout_ignoring_sigterm_gets_sigkill)
{
	struct seen s;

	/*
	 * The timeout leaves the shell time to install its trap even on a
	 * loaded machine: a SIGTERM before the trap would end it early.
	 */
	run_shell("trap '' TERM; sleep 10 & wait; sleep 10", 2000, 100, &s);
	CHECK_INT(s.timed_out[0], ==, 1);
	CHECK_INT(s.signal[0], ==, SIGKILL);
}

UNIT_TEST(output_goes_to_the_log)
{
	uv_loop_t loop;
	struct pool p;
	struct pool_job *job;
	struct seen s;
	struct err e;
	char path[] = "/tmp/test-pool-log-XXXXXX";
	char buf[64];
	ssize_t n;
	int fd;

	memset(&s, 0, sizeof(s));
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(pool_init(&p, &loop, 1, on_exit_cb, &e), ==, 0);
	p.data = &s;
	job = pool_job_get(&p);
	CHECK(pool_job_get(&p) == NULL);
	CHECK_INT(pool_job_spawn_shell(job, "echo out; echo err >&2; read x "
		"|| echo eof", fd, 0, &e), ==, 0);
	close(fd);
	finish(&loop, &p);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK_STR(buf, "out\nerr\neof\n");
}

static int
child_body(void *arg, struct pool_report *rep)
{
	rep->records_out = 42;
	rep->rc = -EINVAL;
	snprintf(rep->msg, sizeof(rep->msg), "%s", (const char *)arg);
	return 1;
}

static int
child_crash(void *arg, struct pool_report *rep)
{
	raise(SIGKILL);
	return 0;
}

/* Fork body(arg) as the one job of a fresh pool and run it to its end. */
static void
fork_one(int (*body)(void *, struct pool_report *), void *arg,
	struct seen *s)
{
	uv_loop_t loop;
	struct pool p;
	struct err e;

	memset(s, 0, sizeof(*s));
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(pool_init(&p, &loop, 1, on_exit_cb, &e), ==, 0);
	p.data = s;
	CHECK_INT(pool_job_fork(pool_job_get(&p), body, arg, -1, 0, &e), ==,
		0);
	finish(&loop, &p);
}

UNIT_TEST(a_forked_job_reports_back)
{
	struct seen s;

	fork_one(child_body, "bad rule", &s);
	CHECK_INT(s.n, ==, 1);
	CHECK_INT(s.exit_code[0], ==, 1);
	CHECK_INT(s.report_rc[0], ==, -EINVAL);
	CHECK_INT(s.records_out[0], ==, 42);
	CHECK_STR(s.msg[0], "bad rule");
}

UNIT_TEST(a_crashing_child_leaves_no_report)
{
	struct seen s;

	fork_one(child_crash, NULL, &s);
	CHECK_INT(s.n, ==, 1);
	CHECK_INT(s.signal[0], ==, SIGKILL);
	CHECK_INT(s.report_rc[0], ==, 99);
}

UNIT_TEST(slots_are_refilled_from_exit_callbacks)
{
	static const char *const cmds[] = { "exit 1", "exit 2", "exit 3",
		"exit 4", "exit 5", "exit 6" };
	uv_loop_t loop;
	struct pool p;
	struct seen s;
	struct err e;
	int i, sum = 0;

	memset(&s, 0, sizeof(s));
	s.queue = cmds;
	s.queued = ARRAY_LEN(cmds);
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(pool_init(&p, &loop, 2, on_exit_cb, &e), ==, 0);
	p.data = &s;
	for (i = 0; i < 2; i++)
		CHECK_INT(pool_job_spawn_shell(pool_job_get(&p),
			cmds[s.next++], -1, 0, &e), ==, 0);
	CHECK(pool_job_get(&p) == NULL);
	finish(&loop, &p);
	CHECK_INT(s.n, ==, 6);
	for (i = 0; i < 6; i++)
		sum += s.exit_code[i];
	CHECK_INT(sum, ==, 21);
}

UNIT_TEST(stop_all_kills_every_group)
{
	uv_loop_t loop;
	struct pool p;
	struct seen s;
	struct err e;
	int i;

	memset(&s, 0, sizeof(s));
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(pool_init(&p, &loop, 3, on_exit_cb, &e), ==, 0);
	p.data = &s;
	for (i = 0; i < 3; i++)
		CHECK_INT(pool_job_spawn_shell(pool_job_get(&p),
			"sleep 10; sleep 10", -1, 0, &e), ==, 0);
	pool_stop_all(&p, SIGTERM);
	finish(&loop, &p);
	CHECK_INT(s.n, ==, 3);
	for (i = 0; i < 3; i++) {
		CHECK_INT(s.signal[i], ==, SIGTERM);
		CHECK_INT(s.timed_out[i], ==, 0);
	}
}

UNIT_MAIN(true_exits_zero, exit_three_is_reported, a_signal_is_reported,
	a_timeout_sends_sigterm, a_timeout_ignoring_sigterm_gets_sigkill,
	output_goes_to_the_log, a_forked_job_reports_back,
	a_crashing_child_leaves_no_report, slots_are_refilled_from_exit_callbacks,
	stop_all_kills_every_group)
