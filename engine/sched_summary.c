/*
 * The summary a run prints when it ends, written to explain: each
 * failure with its reason inline (the error, and for a command the last
 * line it wrote), every blocked or upstream_failed instance counted
 * under the one waiting input or failed instance it traces back to
 * ("1,662 blocked: lines_arrived 2026-01-04 missing: /abs/path"), each
 * list capped at SUMMARY_LINES lines ("and 170 more"), then the counts
 * (waiting and blocked apart), the elapsed time and the record totals.
 * With --json it is one object (the DAG, the exit status, the counts,
 * and every instance the run touched or left waiting, with its state,
 * attempts, log, error or cause), built with jansson like every other
 * JSON the commands print.  Also the progress line a run keeps on a
 * terminal's stderr.
 */
#include "config.h"
#include "sched_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_kind.h"

/* Lines of each list before "and N more". */
#define SUMMARY_LINES 10
/* The longest tail of a log read for a failure's last line (bytes). */
#define TAIL_BYTES 4096

#define NO_ROOT UINT32_MAX
#define UNSET (UINT32_MAX - 1)

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

/* n with thousands separators: 1,662. */
static const char *
grouped(size_t n, char buf[32])
{
	char tmp[32];
	size_t len, i, o = 0;

	len = (size_t)snprintf(tmp, sizeof(tmp), "%zu", n);
	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Was this log line written by dag-cli itself (stamped or not)? */
static int
own_line(const char *line, size_t n)
{
	static const char tag[] = "dag-cli: ";
	size_t k = sizeof(tag) - 1;

	if (n >= k && !memcmp(line, tag, k))
		return 1;
	/* "2026-01-02T03:04:05.678Z dag-cli: " */
	return n >= 25 + k && line[24] == ' ' && !memcmp(line + 25, tag, k);
}

/*
 * The last line of the log at path that the command wrote (not dag-cli),
 * or NULL.  Caller frees.
 */
static char *
log_last_line(const char *path)
{
	FILE *fp = fopen(path, "r");
	char buf[TAIL_BYTES + 1];
	size_t n, end;
	long size;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	if (size > TAIL_BYTES)
		fseek(fp, size - TAIL_BYTES, SEEK_SET);
	else
		rewind(fp);
	n = fread(buf, 1, TAIL_BYTES, fp);
	fclose(fp);
	buf[n] = '\0';
	end = n;
	while (end > 0) {
		size_t b = end;

		while (b > 0 && buf[b - 1] != '\n')
			b--;
		/* b .. end is a line, without its newline */
		{
			size_t e = end;

			while (e > b && (buf[e - 1] == '\n' ||
			    buf[e - 1] == '\r' || buf[e - 1] == ' '))
				e--;
			if (e > b && !own_line(buf + b, e - b))
				return xstrndup(buf + b, e - b > 200 ? 200 :
					e - b);
		}
		end = b > 0 ? b - 1 : 0;
	}
	return NULL;
}

/*
 * Why instance i failed, one line: the error recorded, and for a command
 * that exited non-zero or was killed, the last line it wrote.  Caller
 * frees.
 */
static char *
failure_line(struct sched *s, uint32_t i)
{
	const char *msg = s->fail_msg && s->fail_msg[i] ? s->fail_msg[i] :
		"failed";
	char *log, *last = NULL, *line;

	if (sched_task_of(s, i)->kind->command_field && s->si[i].tries &&
	    (!strncmp(msg, "exit status", 11) || !strncmp(msg, "killed", 6))) {
		log = sched_log_path(s, i);
		last = log_last_line(log);
		free(log);
	}
	line = last ? xasprintf("%s: %s", msg, last) : xstrdup(msg);
	free(last);
	return line;
}

/*
 * The instance that blocked (upstream_failed) instance i traces back
 * to: the waiting (failed) need at the end of its chain of blocked
 * (upstream_failed) needs, or NO_ROOT.  root[] (UNSET at first) keeps
 * every answer, so each chain is followed once.
 */
static uint32_t
trace(const struct sched *s, uint32_t i, uint32_t *root, struct u32vec *path)
{
	const struct graph *g = s->g;
	uint8_t mid = g->inst[i].state;
	uint8_t end = mid == INST_BLOCKED ? INST_WAITING : INST_FAILED;
	uint32_t cur = i, r = NO_ROOT;
	size_t k;

	path->n = 0;
	while (root[cur] == UNSET) {
		const struct instance *in = &g->inst[cur];
		uint32_t d, next = NO_ROOT;

		VEC_PUSH(*path, cur);
		for (k = 0; k < in->n_deps && r == NO_ROOT; k++) {
			d = g->deps[in->dep_off + k];
			if (g->inst[d].state == end)
				r = d;
			else if (g->inst[d].state == mid && next == NO_ROOT)
				next = d;
		}
		if (r != NO_ROOT || next == NO_ROOT)
			goto out;
		cur = next;
	}
	r = root[cur];
out:
	for (k = 0; k < path->n; k++)
		root[path->v[k]] = r;
	return r;
}

/*
 * How many blocked and upstream_failed instances trace back to each
 * instance (n_inst + 1 counts; the last: those that trace to none).
 * With cause, each such instance's root too.  Caller frees both.
 */
static size_t *
count_roots(const struct sched *s, uint32_t **cause)
{
	const struct graph *g = s->g;
	size_t *count = xcalloc(g->n_inst + 1, sizeof(*count));
	uint32_t *root = xmalloc((g->n_inst + 1) * sizeof(*root));
	struct u32vec path = { 0 };
	size_t i;

	for (i = 0; i < g->n_inst; i++)
		root[i] = UNSET;
	for (i = 0; i < g->n_inst; i++) {
		uint8_t st = g->inst[i].state;
		uint32_t r;

		if (st != INST_BLOCKED && st != INST_UPSTREAM_FAILED)
			continue;
		r = trace(s, (uint32_t)i, root, &path);
		count[r == NO_ROOT ? g->n_inst : r]++;
	}
	free(path.v);
	if (cause)
		*cause = root;
	else
		free(root);
	return count;
}

static json_t *
instance_obj(struct sched *s, uint32_t i, const uint32_t *cause)
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
	if (in->state == INST_FAILED) {
		char *line = failure_line(s, i);

		json_object_set_new(o, "error", json_string(line));
		free(line);
	}
	if ((in->state == INST_BLOCKED || in->state == INST_UPSTREAM_FAILED) &&
	    cause[i] < s->g->n_inst) {
		json_t *c = json_object();

		json_object_set_new(c, "task", json_string_nocheck(
			sched_task_of(s, cause[i])->name));
		json_object_set_new(c, "partition", json_string_nocheck(
			sched_part_of(s, cause[i])));
		json_object_set_new(o, "cause", c);
	}
	return o;
}

static json_t *
count_or_null(int any, int64_t n)
{
	return any ? json_integer(n) : json_null();
}

static void
summary_json(struct sched *s, int status, size_t n_wait, size_t n_blocked,
	double elapsed_s)
{
	json_t *o = json_object(), *list = json_array();
	uint32_t *cause = NULL;
	size_t i, *count = count_roots(s, &cause);

	json_object_set_new(o, "dag", json_string_nocheck(s->dag->name));
	json_object_set_new(o, "exit", json_integer(status));
	json_object_set_new(o, "done", json_integer((json_int_t)s->n_done));
	json_object_set_new(o, "failed", json_integer((json_int_t)s->n_failed));
	json_object_set_new(o, "upstream_failed",
		json_integer((json_int_t)s->n_upstream));
	json_object_set_new(o, "waiting", json_integer((json_int_t)n_wait));
	json_object_set_new(o, "blocked", json_integer((json_int_t)n_blocked));
	json_object_set_new(o, "records_in", count_or_null(s->any_records,
		s->rec_in));
	json_object_set_new(o, "records_out", count_or_null(s->any_records,
		s->rec_out));
	json_object_set_new(o, "records_rejected",
		count_or_null(s->any_records, s->rec_rejected));
	json_object_set_new(o, "elapsed_s", json_real(elapsed_s));
	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (s->si[i].touched || st == INST_WAITING ||
		    st == INST_BLOCKED)
			json_array_append_new(list, instance_obj(s,
				(uint32_t)i, cause));
	}
	json_object_set_new(o, "instances", list);
	json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	json_decref(o);
	free(count);
	free(cause);
}

/*
 * The failed instances, each with its reason, its log and how many
 * instances are upstream_failed behind it (count: count_roots).
 */
static void
text_failed(struct sched *s, FILE *fp, const size_t *count)
{
	size_t i, n = 0, behind = 0;
	char b[32];

	for (i = 0; i < s->g->n_inst; i++) {
		char *log, *line;

		if (s->g->inst[i].state != INST_FAILED)
			continue;
		if (n++ >= SUMMARY_LINES) {
			behind += count[i];
			continue;
		}
		line = failure_line(s, (uint32_t)i);
		log = sched_log_path(s, (uint32_t)i);
		fprintf(fp, "failed: %s %s (attempt %d): %s\n  log: %s",
			sched_task_of(s, (uint32_t)i)->name,
			sched_part_of(s, (uint32_t)i), s->si[i].attempt, line,
			log);
		if (count[i])
			fprintf(fp, ", %s upstream failed behind it",
				grouped(count[i], b));
		fputc('\n', fp);
		free(log);
		free(line);
	}
	if (n > SUMMARY_LINES) {
		fprintf(fp, "  and %s more failed", grouped(n - SUMMARY_LINES,
			b));
		if (behind)
			fprintf(fp, ", %s upstream failed behind them",
				grouped(behind, b));
		fputc('\n', fp);
	}
}

/* The missing input of waiting instance i, absolute, or NULL.  Caller frees. */
static char *
missing_input(struct sched *s, uint32_t i)
{
	const struct instance *in = &s->g->inst[i];

	/* Absolute: a relative path depends on where dag-cli ran. */
	return in->target ? path_abs(in->target) : NULL;
}

/* A waiting instance and how many blocked instances trace back to it. */
struct root {
	size_t count;
	uint32_t inst;
};

/* Most blocked first; then in graph order (partition, then task). */
static int
root_cmp(const void *a, const void *b)
{
	const struct root *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->inst < y->inst ? -1 : x->inst > y->inst;
}

/*
 * The waiting instances, once each, those that block the most first: one
 * that blocked instances trace back to (count: count_roots), requested
 * or pulled in as a need, as "N blocked: TASK PARTITION missing: PATH",
 * a requested one that blocks nothing as "waiting: TASK PARTITION:
 * external input missing PATH".
 */
static void
text_waiting(struct sched *s, FILE *fp, const size_t *count)
{
	struct { struct root *v; size_t n, cap; } r = { 0 };
	size_t i, hidden = 0;
	char b[32];

	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];
		struct root x = { count[i], (uint32_t)i };

		if (in->state == INST_WAITING && (in->requested || count[i]))
			VEC_PUSH(r, x);
	}
	if (r.n)	/* qsort must not be given NULL, even for no element */
		qsort(r.v, r.n, sizeof(*r.v), root_cmp);
	for (i = 0; i < r.n; i++) {
		uint32_t k = r.v[i].inst;
		const char *task = sched_task_of(s, k)->name;
		const char *part = sched_part_of(s, k);
		char *abs;

		if (i >= SUMMARY_LINES) {
			hidden += r.v[i].count;
			continue;
		}
		abs = missing_input(s, k);
		if (r.v[i].count)
			fprintf(fp, "%s blocked: %s %s %s%s\n",
				grouped(r.v[i].count, b), task, part,
				abs ? "missing: " : "is waiting",
				abs ? abs : "");
		else
			fprintf(fp, "waiting: %s %s: external input missing"
				"%s%s\n", task, part, abs ? " " : "",
				abs ? abs : "");
		free(abs);
	}
	if (r.n > SUMMARY_LINES) {
		fprintf(fp, "  and %s more waiting", grouped(r.n -
			SUMMARY_LINES, b));
		if (hidden)
			fprintf(fp, ", %s blocked behind them",
				grouped(hidden, b));
		fputc('\n', fp);
	}
	free(r.v);
}

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
 * The requested instances the run left without an outcome, with the
 * reason ("not run: TASK PARTITION: REASON"): a run that ends early
 * says what it did not do.
 */
static void
text_not_run(struct sched *s, FILE *fp)
{
	size_t i, n = 0;
	char b[32];

	for (i = 0; i < s->g->n_inst; i++) {
		const struct instance *in = &s->g->inst[i];

		if (!in->requested || (in->state != INST_TODO &&
		    in->state != INST_RUNNING))
			continue;
		if (n++ < SUMMARY_LINES)
			fprintf(fp, "not run: %s %s: %s\n",
				sched_task_of(s, (uint32_t)i)->name,
				sched_part_of(s, (uint32_t)i),
				not_run_reason(s, (uint32_t)i));
	}
	if (n > SUMMARY_LINES)
		fprintf(fp, "  and %s more not run\n",
			grouped(n - SUMMARY_LINES, b));
}

/* "elapsed 3.2 s", "elapsed 2 min 05 s", "elapsed 1 h 02 min". */
static void
text_elapsed(struct sched *s, FILE *fp, double el)
{
	char a[32], b[32], c[32];
	long sec = (long)el;

	if (el < 60)
		fprintf(fp, "elapsed %.1f s", el);
	else if (sec < 3600)
		fprintf(fp, "elapsed %ld min %02ld s", sec / 60, sec % 60);
	else
		fprintf(fp, "elapsed %ld h %02ld min", sec / 3600,
			sec / 60 % 60);
	if (s->any_records)
		fprintf(fp, ", records %s in, %s out, %s rejected",
			grouped((size_t)s->rec_in, a),
			grouped((size_t)s->rec_out, b),
			grouped((size_t)s->rec_rejected, c));
	fputc('\n', fp);
}

static void
summary_text(struct sched *s, size_t n_ran, size_t n_wait, size_t n_blocked,
	double elapsed_s)
{
	FILE *fp = stdout;
	size_t *count = count_roots(s, NULL);
	char a[32], b[32], c[32], d[32], e[32], f[32];

	text_failed(s, fp, count);
	text_waiting(s, fp, count);
	text_not_run(s, fp);
	fprintf(fp, "%s: %s ran, %s done, %s failed, %s upstream failed, "
		"%s waiting, %s blocked%s\n", s->dag->name, grouped(n_ran, a),
		grouped(s->n_done, b), grouped(s->n_failed, c),
		grouped(s->n_upstream, d), grouped(n_wait, e),
		grouped(n_blocked, f), s->interrupted ? ", interrupted" : "");
	text_elapsed(s, fp, elapsed_s);
	free(count);
}

void
sched_summary(struct sched *s, int status)
{
	size_t i, n_wait = 0, n_blocked = 0, n_ran = 0;
	double el;

	uv_update_time(&s->loop);
	el = (double)((int64_t)uv_now(&s->loop) - s->t0_ms) / 1000.0;
	for (i = 0; i < s->g->n_inst; i++) {
		uint8_t st = s->g->inst[i].state;

		if (s->si[i].tries)
			n_ran++;
		if (st == INST_WAITING)
			n_wait++;
		else if (st == INST_BLOCKED)
			n_blocked++;
	}
	if (s->o->json)
		summary_json(s, status, n_wait, n_blocked, el);
	else if (!s->o->quiet)
		summary_text(s, n_ran, n_wait, n_blocked, el);
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

