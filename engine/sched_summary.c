/*
 * The summary a run prints when it ends.  With --json it is one object
 * (the DAG, the exit status, the counts, and every instance the run
 * touched or left waiting, with its state, attempts and log), built with
 * jansson like every other JSON the commands print; otherwise the failed
 * and waiting instances, one a line, and a count line.  Also the
 * progress line a run keeps on a terminal's stderr.
 */
#include "config.h"
#include "sched_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *
instance_obj(struct sched *s, uint32_t i)
{
	const struct instance *in = &s->g->inst[i];
	json_t *o = json_object();

	json_object_set_new(o, "task",
		json_string_nocheck(sched_task_of(s, i)->name));
	json_object_set_new(o, "partition",
		json_string_nocheck(sched_part_of(s, i)));
	json_object_set_new(o, "state",
		json_string_nocheck(inst_state_name(in->state)));
	json_object_set_new(o, "attempts", json_integer(s->si[i].tries));
	if (s->si[i].tries) {
		char *log = sched_log_path(s, i);

		json_object_set_new(o, "log", json_string_nocheck(log));
		free(log);
	}
	return o;
}

static void
summary_json(struct sched *s, int status, size_t n_wait)
{
	json_t *o = json_object(), *list = json_array();
	size_t i;

	json_object_set_new(o, "dag", json_string_nocheck(s->dag->name));
	json_object_set_new(o, "exit", json_integer(status));
	json_object_set_new(o, "done", json_integer((json_int_t)s->n_done));
	json_object_set_new(o, "failed", json_integer((json_int_t)s->n_failed));
	json_object_set_new(o, "upstream_failed",
		json_integer((json_int_t)s->n_upstream));
	json_object_set_new(o, "waiting", json_integer((json_int_t)n_wait));
	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (s->si[i].touched || st == INST_WAITING ||
		    st == INST_BLOCKED)
			json_array_append_new(list, instance_obj(s,
				(uint32_t)i));
	}
	json_object_set_new(o, "instances", list);
	json_dumpf(o, stdout, JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

/* Not listed one a line past this many: a count says the rest. */
#define NOT_RUN_LINES 10

/* Why requested instance i is neither done, failed nor waiting. */
static const char *
not_run_reason(const struct sched *s, uint32_t i)
{
	if (s->failed_db)
		return "the state database could not be written";
	if (s->interrupted)
		return "the run was interrupted";
	if (s->si[i].held)
		return "leased by another run";
	return "not reached";
}

/*
 * The requested instances this run left without an outcome, with the
 * reason: a run that ends early must say what it did not do.
 */
static void
summary_not_run(struct sched *s, FILE *fp)
{
	size_t i, n = 0;

	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];

		if (!in->requested || (in->state != INST_TODO &&
		    in->state != INST_RUNNING))
			continue;
		if (n++ < NOT_RUN_LINES)
			fprintf(fp, "not run: %s %s: %s\n",
				sched_task_of(s, (uint32_t)i)->name,
				sched_part_of(s, (uint32_t)i),
				not_run_reason(s, (uint32_t)i));
	}
	if (n > NOT_RUN_LINES)
		fprintf(fp, "not run: %zu more\n", n - NOT_RUN_LINES);
}

static void
summary_text(struct sched *s, size_t n_ran, size_t n_wait)
{
	FILE *fp = stdout;
	size_t i;

	for (i = 0; i < s->g->n_inst; i++) {
		char *log;

		if (s->g->inst[i].state != INST_FAILED)
			continue;
		log = sched_log_path(s, (uint32_t)i);
		fprintf(fp, "failed: %s %s (attempt %d), log: %s\n",
			sched_task_of(s, (uint32_t)i)->name,
			sched_part_of(s, (uint32_t)i), s->si[i].attempt, log);
		free(log);
	}
	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];
		char *abs;

		if (in->state != INST_WAITING || !in->requested)
			continue;
		/* Absolute: a relative path depends on where dag-cli ran. */
		abs = in->target ? path_abs(in->target) : NULL;
		fprintf(fp, "waiting: %s %s: external input missing%s%s\n",
			sched_task_of(s, (uint32_t)i)->name,
			sched_part_of(s, (uint32_t)i), abs ? " " : "",
			abs ? abs : "");
		free(abs);
	}
	summary_not_run(s, fp);
	fprintf(fp, "%s: %zu ran, %zu done, %zu failed, %zu upstream failed, "
		"%zu waiting%s\n", s->dag->name, n_ran, s->n_done, s->n_failed,
		s->n_upstream, n_wait, s->interrupted ? ", interrupted" : "");
}

void
sched_summary(struct sched *s, int status)
{
	size_t i, n_wait = 0, n_ran = 0;

	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (s->si[i].tries)
			n_ran++;
		if (st == INST_WAITING || st == INST_BLOCKED)
			n_wait++;
	}
	if (s->o->json)
		summary_json(s, status, n_wait);
	else if (!s->o->quiet)
		summary_text(s, n_ran, n_wait);
}

void
sched_progress(struct sched *s, int last)
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

void
sched_on_progress(uv_timer_t *t)
{
	sched_progress(t->data, 0);
}

