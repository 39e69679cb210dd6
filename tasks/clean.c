/*
 * clean: read input (CSV, TSV or JSON lines, plain or gzip), apply the
 * rules in order to every record, write the survivors to output as CSV.
 *
 * Malformed records and records a rule rejects go to the rejects file with
 * their line and reason.  The rejects file is published whatever happens,
 * so a failed run still shows why; the output only when every record was
 * read and the reject share is within max_reject_ratio, and always after
 * the rejects file, so a complete target implies its rejects are there.
 * Patterns are compiled by prepare() in the scheduler, before workers
 * fork; an instance whose rules differ after template expansion (a
 * pattern using {date}) compiles its own.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "jtext.h"
#include "rules.h"
#include "task_kind.h"

#define PROGRESS_EVERY 1000000

static const struct field_spec clean_fields[] = {
	{ "input", FIELD_LIST, FIELD_REQUIRED | FIELD_TEMPLATE,
		"file(s) to read, in order, as one stream; gzip is detected" },
	{ "output", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE,
		"CSV file to write (gzip when it ends in .gz); the target" },
	{ "format", FIELD_STRING, 0, "input format: csv (default), tsv or jsonl" },
	{ "rules", FIELD_ANY, FIELD_REGEX,
		"list of rules applied in order to every record" },
	{ "rejects", FIELD_STRING, FIELD_TEMPLATE,
		"CSV of rejected records (default <output>.rejects.csv)" },
	{ "max_reject_ratio", FIELD_NUMBER, 0,
		"fail, publishing no output, above this share of rejects (0.01)" },
	{ NULL, 0, 0, NULL },
};

static int
clean_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *v;
	enum rec_format fmt;
	int rc = 0;

	v = node_get(task, "format");
	if (v && (v->type != NODE_SCALAR || rec_format_parse(v->str, &fmt) < 0)) {
		errs_addf(errs, -EINVAL, file, v->line, v->column,
			"format '%s' is not one of csv, tsv, jsonl",
			v->type == NODE_SCALAR ? v->str : "");
		rc = -EINVAL;
	}
	v = node_get(task, "max_reject_ratio");
	if (v && v->type == NODE_SCALAR && !strchr(v->str, '{')) {
		char *end;
		double d = strtod(v->str, &end);

		if (*end || end == v->str || d < 0 || d > 1) {
			errs_addf(errs, -EINVAL, file, v->line, v->column,
				"max_reject_ratio '%s' is not a number from 0 "
				"to 1", v->str);
			rc = -EINVAL;
		}
	}
	v = node_get(task, "input");
	if (v && v->type == NODE_MAP) {
		errs_addf(errs, -EINVAL, file, v->line, v->column,
			"input must be a path or a list of paths, not a map");
		rc = -EINVAL;
	}
	if (rules_validate(file, node_get(task, "rules"), errs) < 0)
		rc = -EINVAL;
	return rc;
}

static int
clean_prepare(const struct node *task, void **prepared, struct err *e)
{
	struct rules *rs;
	int rc = rules_compile(node_get(task, "rules"), &rs, e);

	*prepared = rc < 0 ? NULL : rs;
	return rc;
}

static void
clean_release(void *prepared)
{
	rules_free(prepared);
}

struct clean_ctx {
	struct task_run *run;
	struct rec_reader *rd;
	struct rec_writer *w;
	struct rejects *rj;
	struct rules *rs;
	uint64_t in, out;
};

/* Read every record; 0 or -errno with e filled. */
static int
clean_loop(struct clean_ctx *c, struct err *e)
{
	struct record rec;
	char **vals;
	size_t *lens;
	const char *why;
	int rc;

	while ((rc = rec_reader_next(c->rd, &rec, e)) > 0) {
		c->in++;
		/* No JSON value outlives the previous record. */
		jtext_arena_reset();
		why = rec.reject;
		if (!why) {
			rc = rules_apply(c->rs, rec.fields, rec.lens, &vals,
				&lens, &why, e);
			if (rc < 0)
				return rc;
		}
		if (why)
			rc = rejects_add(c->rj, rec.line, why, rec.raw,
				rec.raw_len);
		else {
			rc = rec_writer_row(c->w, rules_out_width(c->rs), vals,
				lens);
			c->out++;
		}
		if (rc < 0)
			return err_set(e, rc, "cannot write: %s", strerror(-rc));
		if (c->in % PROGRESS_EVERY == 0) {
			fprintf(c->run->log, "clean: %llu records read, %llu "
				"written, %llu rejected\n",
				(unsigned long long)c->in,
				(unsigned long long)c->out,
				(unsigned long long)rejects_count(c->rj));
			fflush(c->run->log);
		}
	}
	if (rc == 0)
		rec_reader_log_blank(c->rd, c->run->log, c->run->task);
	return rc;
}

static int
clean_run(struct task_run *run, struct err *e)
{
	struct clean_ctx c;
	const char *output = task_run_str(run, "output");
	const char *fmtname = task_run_str(run, "format");
	const char *rjpath = task_run_str(run, "rejects");
	const char *ratio_s = task_run_str(run, "max_reject_ratio");
	const struct node *rules = node_get(run->fields, "rules");
	const char **paths = NULL;
	char *rjdefault = NULL;
	enum rec_format fmt = REC_CSV;
	double ratio = 0.01;
	struct rules *own = NULL;
	size_t npaths;
	int64_t t0 = clock_ms();
	int rc;
	struct err e2;

	memset(&c, 0, sizeof(c));
	c.run = run;
	if (!output)
		return err_set(e, -EINVAL, "clean: 'output' is missing");
	if (fmtname && rec_format_parse(fmtname, &fmt) < 0)
		return err_set(e, -EINVAL, "clean: format '%s' is not one of "
			"csv, tsv, jsonl", fmtname);
	if (ratio_s) {
		char *end;

		ratio = strtod(ratio_s, &end);
		if (*end || end == ratio_s || ratio < 0 || ratio > 1)
			return err_set(e, -EINVAL, "clean: max_reject_ratio "
				"'%s' is not a number from 0 to 1", ratio_s);
	}
	paths = node_str_list(node_get(run->fields, "input"), &npaths);
	if (!paths || npaths == 0) {
		free(paths);
		return err_set(e, -EINVAL, "clean: 'input' must be a path or "
			"a non-empty list of paths");
	}
	if (run->prepared && rules_same_source(run->prepared, rules)) {
		c.rs = run->prepared;
	} else {
		rc = rules_compile(rules, &own, e);
		if (rc < 0)
			goto out;
		c.rs = own;
	}
	if (!rjpath)
		rjpath = rjdefault = xasprintf("%s.rejects.csv", output);
	rc = rejects_open(&c.rj, rjpath, e);
	if (rc < 0)
		goto out;
	/* Before the reader's threads start, ended after they stop. */
	jtext_arena_begin();
	rc = rec_reader_open(&c.rd, paths, npaths, fmt, e);
	if (rc < 0)
		goto out;
	rc = rules_bind(c.rs, rec_reader_header(c.rd), rec_reader_width(c.rd),
		e);
	if (rc < 0)
		goto out;
	rc = rec_writer_open(&c.w, output, e);
	if (rc < 0)
		goto out;
	rc = rec_writer_strings(c.w, rules_out_width(c.rs),
		rules_out_header(c.rs));
	if (rc < 0) {
		err_set(e, rc, "cannot write '%s': %s", output, strerror(-rc));
		goto out;
	}
	rc = clean_loop(&c, e);
	if (rc < 0)
		goto out;
	if (c.in && (double)rejects_count(c.rj) > ratio * (double)c.in) {
		rc = err_set(e, -EINVAL, "%llu of %llu records rejected "
			"(%.2f%%), over max_reject_ratio %g: nothing published; "
			"see '%s'", (unsigned long long)rejects_count(c.rj),
			(unsigned long long)c.in,
			100.0 * (double)rejects_count(c.rj) / (double)c.in,
			ratio, rjpath);
		goto out;
	}
	run->records_rejected = (int64_t)rejects_count(c.rj);
	rc = rejects_commit(c.rj, e);
	c.rj = NULL;
	if (rc < 0)
		goto out;
	rc = rec_writer_commit(c.w, e);
	c.w = NULL;
out:
	if (c.rj) {
		run->records_rejected = (int64_t)rejects_count(c.rj);
		/* Published even on failure: it says why. */
		if (rejects_commit(c.rj, &e2) < 0)
			fprintf(run->log, "clean: %s\n", e2.msg);
	}
	if (c.rd) {
		run->records_in = (int64_t)c.in;
		run->records_out = rc < 0 ? 0 : (int64_t)c.out;
	}
	rec_writer_abort(c.w);
	rec_reader_free(c.rd);
	jtext_arena_end();
	rules_free(own);
	fprintf(run->log, "clean: %llu records read, %llu written, %lld "
		"rejected in %.2f s%s\n", (unsigned long long)c.in,
		(unsigned long long)(rc < 0 ? 0 : c.out),
		(long long)(run->records_rejected < 0 ? 0 :
		run->records_rejected), (double)(clock_ms() - t0) / 1000.0,
		rc < 0 ? " (failed: nothing published)" : "");
	free(rjdefault);
	free(paths);
	return rc;
}

const struct task_kind task_kind_clean = {
	.name = "clean",
	.summary = "apply rules to CSV, TSV or JSON lines; write CSV and rejects",
	.fields = clean_fields,
	.target_field = "output",
	.validate = clean_validate,
	.prepare = clean_prepare,
	.release = clean_release,
	.run = clean_run,
};
