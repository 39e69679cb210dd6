/*
 * The interface every task kind implements (one file per kind in tasks/,
 * one const struct task_kind each, listed in tasks/registry.c).
 *
 * A kind declares its fields in a table, so the loader can check types and
 * report unknown fields without knowing the kind.  At run time a kind gets
 * a struct task_run: the instance's fields with every template expanded,
 * the partition, and a log.  Built-in kinds run in a forked child of the
 * scheduler, so a crash in one never takes the scheduler down; whatever
 * prepare() built before the fork (compiled patterns) is inherited.
 */
#ifndef DAG_TASK_KIND_H
#define DAG_TASK_KIND_H

#include <stdint.h>
#include <stdio.h>
#include "node.h"
#include "util.h"

enum field_type {
	FIELD_STRING,		/* a scalar */
	FIELD_INT,		/* an integer scalar */
	FIELD_NUMBER,		/* a real number */
	FIELD_BOOL,		/* true/false */
	FIELD_DURATION,		/* 30s, 5m, 1h, 2d */
	FIELD_SIZE,		/* bytes: 100, 10k, 5M, 1G */
	FIELD_LIST,		/* a list of scalars (a scalar is taken as a list of one) */
	FIELD_MAP,		/* a map; the kind's validate() checks inside */
	FIELD_ANY,		/* anything; the kind's validate() checks it */
};

/* Field flags. */
#define FIELD_REQUIRED	0x1	/* the task must set it (or defaults:) */
#define FIELD_TEMPLATE	0x2	/* {...} expanded per instance */
/*
 * Expanded too, but a brace followed by a digit or comma is literal, so a
 * regex like \d{5} needs no escaping ({date} still works).
 */
#define FIELD_REGEX	0x4

struct field_spec {
	const char *name;
	enum field_type type;
	unsigned flags;
	const char *help;	/* one line, for --help and the man page */
};

/* One instance as a task kind sees it. */
struct task_run {
	const char *dag;	/* DAG name */
	const char *task;	/* task name */
	const char *partition;	/* partition id: 2026-11-01 or 2026-11-01T06 */
	const char *date;	/* YYYY-MM-DD of the partition's start, local */
	const char *hour;	/* HH of the partition's start, local ("00" daily) */
	const char *start_iso;	/* partition bounds, ISO 8601 with offset */
	const char *end_iso;	/* exclusive end */
	int64_t start;		/* partition bounds, unix seconds; end exclusive */
	int64_t end;
	const struct node *fields;	/* the task's fields, templates expanded */
	const char *database;	/* resolved 'database' field, or NULL */
	FILE *log;		/* the attempt's log (stdout/stderr go there too) */
	void *prepared;		/* what the kind's prepare() returned, or NULL */
	/* Set by run(); -1 where a count does not apply. */
	int64_t records_in;
	int64_t records_out;
	int64_t records_rejected;
};

struct task_kind {
	const char *name;	/* as written after kind: */
	const char *summary;	/* one line */
	const struct field_spec *fields;	/* kind-specific, {NULL} ends */
	/*
	 * The field whose resolved value is the instance's target when the
	 * task has no target: ("output" for clean), or NULL.  The warehouse
	 * kinds set table_target instead: their target is {table: <table>}.
	 */
	const char *target_field;
	int table_target;
	/*
	 * The field holding a shell command that the process pool runs with
	 * /bin/sh -c instead of calling run() (command), or NULL.
	 */
	const char *command_field;
	/*
	 * Load-time checks beyond the field table (rule shapes, patterns that
	 * must compile).  file names the DAG file; task is the task's map in
	 * it.  Append every problem to errs with its position; return 0 or
	 * -EINVAL.  May be NULL.
	 */
	int (*validate)(const char *file, const struct node *task,
		struct errs *errs);
	/*
	 * 1 when the task's partitions must be made in partition order (an
	 * scd2 dimension: each load rests on the ones before and undoes the
	 * later ones); the loader then warns unless the task needs its own
	 * previous partition.  task is its map.  May be NULL: no order.
	 */
	int (*in_order)(const struct node *task);
	/*
	 * Build what every instance of one task shares (compiled patterns),
	 * once, in the scheduler before any fork.  task is the task's map with
	 * defaults applied, unexpanded.  May be NULL.
	 */
	int (*prepare)(const struct node *task, void **prepared, struct err *e);
	void (*release)(void *prepared);
	/*
	 * Make the instance's target exist, publishing every output
	 * atomically.  Runs in a worker process.  Returns 0, or a negative
	 * errno with e filled; on failure nothing may look complete.
	 */
	int (*run)(struct task_run *run, struct err *e);
	/*
	 * Kinds whose completeness is not a target they write
	 * (external-check): look for the input without a worker.  Returns 1
	 * when present (and sets *inputs to a new list of the paths found), 0
	 * when missing, negative errno on error.  May be NULL.
	 */
	int (*probe)(const struct task_run *run, struct node **inputs,
		struct err *e);
};

/* The registry (tasks/registry.c): NULL-terminated, in documentation order. */
extern const struct task_kind *const task_kinds[];

/* The kind called name, or NULL. */
const struct task_kind *task_kind_find(const char *name);

/* Accessors for run->fields (NULL / fallback when absent). */
const char *task_run_str(const struct task_run *run, const char *field);
int64_t task_run_int(const struct task_run *run, const char *field,
	int64_t fallback);
int task_run_bool(const struct task_run *run, const char *field, int fallback);

#endif
