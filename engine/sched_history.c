/*
 * The scheduler's history: finished attempts queue in memory and are
 * written to the state database in one transaction every FLUSH_MS or
 * FLUSH_MAX attempts (the lease of a finished instance goes with its
 * batch).  One short transaction per batch instead of one per attempt
 * keeps a backfill of small instances from waiting on the database; a
 * crash loses at most the last batch of history, never a target.
 */
#include "config.h"
#include "sched_priv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node.h"
#include "status.h"
#include "task_kind.h"

#define FLUSH_MS 250
#define FLUSH_MAX 512

static int
write_batch(struct sched *s, struct err *e)
{
	size_t i;
	int rc;

	rc = state_begin(s->st, e);
	for (i = 0; i < s->pending.n && rc == 0; i++)
		rc = state_attempt_finish(s->st, s->dag->name, &s->pending.v[i],
			e);
	if (rc == 0)
		rc = state_commit(s->st, e);
	else
		state_commit(s->st, NULL);
	return rc;
}

/*
 * Write the pending attempts in one transaction; into a new database
 * when the old one turns out damaged.
 */
void
sched_flush(struct sched *s)
{
	struct err e;
	size_t i;
	int rc;

	if (!s->pending.n)
		return;
	for (i = 0; i < s->pending.n; i++) {
		uint32_t k = s->pending_def.v[i];

		if (k != UINT32_MAX)
			s->pending.v[i].def = status_def_digest(s->dag,
				s->g->inst[k].task, &s->g->parts[s->g->inst[k].part]);
	}
	s->pending_def.n = 0;
	err_clear(&e);
	rc = write_batch(s, &e);
	if (rc < 0 && sched_salvage(s, &e) == 0)
		rc = write_batch(s, &e);
	if (rc < 0 && !s->failed_db) {
		s->failed_db = 1;
		s->db_err = e;
	}
	for (i = 0; i < s->pending.n; i++) {
		struct attempt_rec *a = &s->pending.v[i];
		size_t k;

		free((char *)a->log_path);
		free((char *)a->error);
		for (k = 0; k < a->n_consumed; k++)
			free(a->consumed[k].input);
		free(a->consumed);
		free((char *)a->def);
	}
	s->pending.n = 0;
}

static void
on_flush_timer(uv_timer_t *t)
{
	sched_flush(t->data);
}

/*
 * What instance i consumed, for data staleness: each need instance (the
 * history fills in which attempt had made it), and each file an external
 * check found, as it is now (gone: its consumer moved it away).
 */
static struct consumed_rec *
consumed_of(struct sched *s, uint32_t i, size_t *n)
{
	const struct graph *g = s->g;
	const struct instance *in = &g->inst[i];
	struct { struct consumed_rec *v; size_t n, cap; } c = { 0 };
	uint32_t k;
	size_t j;

	for (k = 0; k < in->n_deps; k++) {
		uint32_t d = g->deps[in->dep_off + k];
		const struct instance *dn = &g->inst[d];
		struct consumed_rec r;

		memset(&r, 0, sizeof(r));
		if (!s->dag->tasks[dn->task].kind->probe) {
			r.need_task = s->dag->tasks[dn->task].name;
			r.need_partition = g->parts[dn->part].id;
			VEC_PUSH(c, r);
			continue;
		}
		for (j = 0; dn->inputs && dn->inputs->type == NODE_SEQ &&
		    j < dn->inputs->n; j++) {
			const char *path = node_str(dn->inputs->items[j]);
			struct stat st;

			if (!path)
				continue;
			memset(&r, 0, sizeof(r));
			r.input = xstrdup(path);
			r.size = -1;
			if (stat(path, &st) == 0) {
				r.size = (int64_t)st.st_size;
				r.mtime_ns = (int64_t)st.st_mtim.tv_sec *
					1000000000 + st.st_mtim.tv_nsec;
				r.inode = (int64_t)st.st_ino;
			}
			VEC_PUSH(c, r);
		}
	}
	*n = c.n;
	return c.v;
}

/* What the summary needs of an attempt: its failure, its record counts. */
static void
note_outcome(struct sched *s, uint32_t i, const struct exec_result *res,
	enum attempt_state state, const char *error, int final)
{
	if (state == ATTEMPT_DONE && res && (res->records_in >= 0 ||
	    res->records_out >= 0 || res->records_rejected >= 0)) {
		s->any_records = 1;
		s->rec_in += res->records_in > 0 ? res->records_in : 0;
		s->rec_out += res->records_out > 0 ? res->records_out : 0;
		s->rec_rejected += res->records_rejected > 0 ?
			res->records_rejected : 0;
	}
	if (!final || state == ATTEMPT_DONE || state == ATTEMPT_INTERRUPTED)
		return;
	if (!s->fail_msg)
		s->fail_msg = xcalloc(s->g->n_inst + 1, sizeof(*s->fail_msg));
	free(s->fail_msg[i]);
	s->fail_msg[i] = xstrdup(error ? error : attempt_state_name(state));
}

void
sched_rec_result(struct attempt_rec *a, const struct exec_result *res)
{
	a->exit_code = res ? res->exit_code : -1;
	a->signal = res ? res->signal : 0;
	a->started_ms = res ? res->started_ms : 0;
	a->duration_ms = res ? res->duration_ms : 0;
	a->max_rss_kb = res ? res->max_rss_kb : -1;
	a->records_in = res ? res->records_in : -1;
	a->records_out = res ? res->records_out : -1;
	a->records_rejected = res ? res->records_rejected : -1;
}

void
sched_record(struct sched *s, uint32_t i, const struct exec_result *res,
	int64_t started_ms, enum attempt_state state, char *error, int final)
{
	struct attempt_rec a;

	memset(&a, 0, sizeof(a));
	a.task = sched_task_of(s, i)->name;
	a.partition = sched_part_of(s, i);
	a.attempt = s->si[i].attempt;
	a.state = state;
	sched_rec_result(&a, res);
	a.started_ms = started_ms;
	a.log_path = sched_log_path(s, i);
	a.error = error;
	a.final = final;
	if (state == ATTEMPT_DONE)
		a.consumed = consumed_of(s, i, &a.n_consumed);
	note_outcome(s, i, res, state, error, final);
	VEC_PUSH(s->pending, a);
	VEC_PUSH(s->pending_def, state == ATTEMPT_DONE ? i : UINT32_MAX);
	if (s->pending.n >= FLUSH_MAX)
		sched_flush(s);
	else if (!uv_is_active((uv_handle_t *)&s->flush_timer))
		uv_timer_start(&s->flush_timer, on_flush_timer, FLUSH_MS, 0);
}

