/*
 * External checks that poll: an external-check instance whose input is
 * missing and that has poll: is looked at again (the kind's probe, no
 * worker) every poll interval until its timeout; found, it is done and
 * its dependants run; timed out, it is waiting and its dependants are
 * blocked.  One timer serves every polling instance (the shortest
 * interval).
 */
#include "config.h"
#include "sched_priv.h"

#include <errno.h>
#include <stdlib.h>

#include "node.h"
#include "task_kind.h"

static int
probe_now(struct sched *s, uint32_t i)
{
	struct instance *in = &s->g->inst[i];
	const struct task *t = sched_task_of(s, i);
	const struct partition *p = &s->g->parts[in->part];
	struct partition_info info;
	struct resolve_env env;
	struct node *fields = NULL, *inputs = NULL;
	struct task_run run;
	struct err e;
	int rc;

	err_clear(&e);
	graph_resolve_env(s->g, &env);
	env.now = s->now;
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
		const struct task *t = sched_task_of(s, i);

		if (probe_now(s, i) > 0) {
			s->si[i].touched = 1;
			sched_done_inst(s, i);
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
	sched_fill(s);
}

void
sched_block_waiting(struct sched *s)
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

void
sched_poll_start(struct sched *s)
{
	int64_t first = INT64_MAX;
	size_t k;

	if (!s->polls.n)
		return;
	for (k = 0; k < s->polls.n; k++) {
		int64_t ms = poll_interval(sched_task_of(s, s->polls.v[k]));

		if (ms < first)
			first = ms;
	}
	s->poll_start_ms = (int64_t)uv_now(&s->loop);
	uv_timer_start(&s->poll_timer, on_poll, (uint64_t)first, 0);
}
