/*
 * helper subcommands that try one task kind in this process, on the fields
 * in TASK.yaml (a map, used as already resolved), so the kinds can be
 * tested without the scheduler:
 *   run-kind KIND TASK.yaml [PARTITION]   run it for a daily UTC partition
 *       (default 2026-11-01); print the counts as JSON, or the error
 *   probe-kind KIND TASK.yaml             call its probe; print "missing"
 *       or each input
 * Exit 0 on success, 1 when the kind failed, 2 when the fields do not
 * validate.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"
#include "task_kind.h"
#include "util.h"

int helper_run_kind(int argc, char **argv);
int helper_probe_kind(int argc, char **argv);

static int64_t
utc_midnight(const char *date)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(date, "%Y-%m-%d", &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

static void
iso(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/*
 * The kind argv[1] names and the fields of the task file argv[2], which
 * it validates (probe: the kind must have a probe).  NULL after printing
 * why: the exit status is 2.
 */
static const struct task_kind *
kind_fields(int argc, char **argv, const char *usage, int probe,
	struct node **fields)
{
	const struct task_kind *kind;
	struct errs errs = { 0 };

	if (argc < 3) {
		fprintf(stderr, "usage: helper %s\n", usage);
		return NULL;
	}
	kind = task_kind_find(argv[1]);
	if (!kind || (probe && !kind->probe)) {
		fprintf(stderr, probe ? "helper: kind '%s' has no probe\n" :
			"helper: unknown kind '%s'\n", argv[1]);
		return NULL;
	}
	if (node_parse_file(argv[2], fields, &errs) < 0 ||
	    (kind->validate && kind->validate(argv[2], *fields, &errs) < 0)) {
		errs_print(&errs, stdout);
		errs_release(&errs);
		node_free(*fields);
		*fields = NULL;
		return NULL;
	}
	errs_release(&errs);
	return kind;
}

/* A run of the task "task" of the DAG "test" at partition part. */
static void
test_run(struct task_run *run, struct node *fields, const char *part)
{
	memset(run, 0, sizeof(*run));
	run->dag = "test";
	run->task = "task";
	run->partition = run->date = part;
	run->fields = fields;
	run->log = stderr;
}

int
helper_run_kind(int argc, char **argv)
{
	const struct task_kind *kind;
	struct node *fields = NULL;
	struct task_run run;
	struct err e;
	const char *part = argc > 3 ? argv[3] : "2026-11-01";
	char start_iso[40], end_iso[40];
	void *prepared = NULL;
	int rc;

	kind = kind_fields(argc, argv, "run-kind KIND TASK.yaml [DATE]", 0,
		&fields);
	if (!kind)
		return 2;
	test_run(&run, fields, part);
	run.hour = "00";
	run.start = utc_midnight(part);
	run.end = run.start + 86400;
	iso(run.start, start_iso, sizeof(start_iso));
	iso(run.end, end_iso, sizeof(end_iso));
	run.start_iso = start_iso;
	run.end_iso = end_iso;
	run.database = node_get_str(fields, "database");
	run.records_in = run.records_out = run.records_rejected = -1;
	err_clear(&e);
	rc = kind->prepare ? kind->prepare(fields, &prepared, &e) : 0;
	if (rc == 0) {
		run.prepared = prepared;
		rc = kind->run ? kind->run(&run, &e) : -ENOTSUP;
	}
	if (kind->release && prepared)
		kind->release(prepared);
	if (rc < 0) {
		printf("error: ");
		err_print(&e, stdout);
	}
	printf("{\"records_in\": %lld, \"records_out\": %lld, "
		"\"records_rejected\": %lld}\n", (long long)run.records_in,
		(long long)run.records_out, (long long)run.records_rejected);
	node_free(fields);
	return rc < 0 ? 1 : 0;
}

int
helper_probe_kind(int argc, char **argv)
{
	const struct task_kind *kind;
	struct node *fields = NULL, *inputs = NULL;
	struct task_run run;
	struct err e;
	size_t i;
	int rc;

	kind = kind_fields(argc, argv, "probe-kind KIND TASK.yaml", 1, &fields);
	if (!kind)
		return 2;
	test_run(&run, fields, "2026-11-01");
	err_clear(&e);
	rc = kind->probe(&run, &inputs, &e);
	if (rc < 0) {
		printf("error: ");
		err_print(&e, stdout);
	} else if (rc == 0) {
		printf("missing\n");
	} else {
		for (i = 0; i < inputs->n; i++)
			printf("%s\n", inputs->items[i]->str);
	}
	node_free(inputs);
	node_free(fields);
	return rc < 0 ? 1 : 0;
}
