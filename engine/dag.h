/*
 * The DAG model: one pipeline file, checked and resolved.  Everything
 * parsed from the file belongs to its struct dag; dag_free is the one place
 * that frees it.  A struct dag is read-only once loaded, so the scheduler
 * and forked workers share it freely.
 */
#ifndef DAG_DAG_H
#define DAG_DAG_H

#include <stddef.h>
#include <stdint.h>
#include "node.h"
#include "util.h"

struct task_kind;
struct template;

enum schedule {
	SCHEDULE_DAILY,
	SCHEDULE_HOURLY,
};

/*
 * One entry of needs: the instances of task `task` at partition offsets
 * lo..hi (inclusive) from the needing instance's partition.  0..0 is the
 * same partition; -1..-1 the previous one; -6..0 a window.  Offsets count
 * partitions of the DAG's schedule (on an hourly DAG, -1d is -24).
 */
struct need {
	size_t task;	/* index into dag->tasks */
	int lo;
	int hi;
	int line;	/* position of the entry in the file */
	int column;
};

enum target_type {
	TARGET_NONE,	/* external-check with pattern:, or no target at all */
	TARGET_FILE,	/* a path: complete when the file exists */
	TARGET_DIR,	/* a path ending in '/': complete when it holds _SUCCESS */
	TARGET_TABLE,	/* {table: NAME}: complete when the marker table says so */
};

struct task {
	char *name;
	const struct task_kind *kind;
	struct node *def;	/* the task's fields, defaults applied (owned) */
	struct need *needs;
	size_t n_needs;
	enum target_type target_type;
	struct template *target;	/* TARGET_FILE/DIR: the path template */
	char *table;		/* TARGET_TABLE: the table name */
	struct template *database;	/* 'database' field, or NULL */
	int retries;		/* extra attempts after the first */
	int64_t retry_delay_ms;	/* before the 2nd attempt; doubled after each */
	int64_t timeout_ms;	/* per attempt; 0 means none */
	int pool;		/* index into dag->pools, or -1 */
	int priority;		/* higher runs first among ready instances */
	int writes_in_place;	/* a command whose run never names {target}:
				   no temporary, it writes the target itself */
	char *description;
	void *prepared;		/* kind->prepare() result, or NULL */
	int line;		/* position of the task's name in the file */
	int column;
};

/* What `dag-cli scheduler` does about partitions missed while it was down. */
enum catchup {
	CATCHUP_LATEST,		/* start only the newest (the default) */
	CATCHUP_NONE,		/* start none: only what falls due while it runs */
	CATCHUP_ALL,		/* start each, the newest catchup_max of them */
};

struct pool_limit {
	char *name;
	int limit;		/* instances of this pool running at once */
};

/*
 * The DAG's executor: field (engine/exec_slurm.h), each member pointing
 * into dag->root; NULL where not given.
 */
struct dag_executor {
	const char *name;		/* "local" or "slurm" */
	const char *partition;		/* Slurm's --partition */
	const char *account;		/* Slurm's --account */
	const struct node *options;	/* a list of sbatch options */
};

struct dag {
	char *path;		/* the file, as given */
	char *name;
	char *description;
	enum schedule schedule;
	char *timezone;		/* IANA name */
	char *start;		/* YYYY-MM-DD, first partition's local date */
	int64_t start_epoch;	/* start of the first partition, unix seconds */
	struct node *root;	/* the parsed file */
	struct pool_limit *pools;
	size_t n_pools;
	struct dag_executor executor;
	struct task *tasks;	/* in file order */
	size_t n_tasks;
	size_t *topo;		/* task indexes, needs before needers */
	/*
	 * For `dag-cli scheduler` (top-level keys of the same names): a
	 * partition is due delay_ms after its end; one whose external inputs
	 * are missing is tried again every recheck_ms until give_up_ms after
	 * it fell due.
	 */
	int64_t delay_ms;
	int64_t recheck_ms;
	int64_t give_up_ms;
	enum catchup catchup;
	int catchup_max;	/* CATCHUP_ALL starts at most this many */
	/*
	 * The loader's private half, a struct dag_priv (dag_priv.h): the
	 * time zone, the params, and every task's compiled templates and
	 * patterns.  Filled by dag_load, freed by dag_free; opaque here.
	 */
	void *params;
	/*
	 * What is legal but probably unintended (a command that writes its
	 * target in place), positioned like errors; the commands that act on
	 * the DAG print them (cli_load_dag).  Empty when there is none.
	 */
	struct errs warnings;
};

/*
 * Load and check a DAG file.  Every problem found is appended to errs with
 * its file:line:column; on any error the result is -EINVAL (or -errno when
 * the file cannot be read) and *out is NULL.  The caller owns *out.
 */
int dag_load(const char *path, struct dag **out, struct errs *errs);
/*
 * dag_load with params overridden: each of set is "NAME=VALUE" (the
 * command line's --param), replacing the value of a param the file
 * declares.  An unknown name or a missing '=' is an error like any other.
 */
int dag_load_params(const char *path, const char *const *set, size_t n_set,
	struct dag **out, struct errs *errs);
/*
 * The same from text in memory (a file at a git revision, a fuzzer's
 * input); name stands for the file in messages and dag->path.
 */
int dag_load_string(const char *text, size_t len, const char *name,
	struct dag **out, struct errs *errs);
/* dag_load_string with params overridden, as dag_load_params. */
int dag_load_string_params(const char *text, size_t len, const char *name,
	const char *const *set, size_t n_set, struct dag **out,
	struct errs *errs);
/* Free a DAG (accepts NULL), releasing every task's prepared state. */
void dag_free(struct dag *dag);
/* Index of the task called name, or -1. */
int dag_task_index(const struct dag *dag, const char *name);

/* A partition: one local day or hour of the DAG's time zone. */
struct partition {
	int64_t start;		/* unix seconds */
	int64_t end;		/* exclusive */
	char id[24];		/* 2026-11-01, 2026-11-01T06; a repeated DST hour
				 * gets a suffix that sorts after the first one:
				 * 2026-11-01T01b */
};

/*
 * The partitions from..to (inclusive), each "YYYY-MM-DD", "YYYY-MM-DDTHH"
 * (hourly DAGs), "today" or "yesterday" in the DAG's zone as of now (unix
 * seconds, injected for tests).  A date on an hourly DAG means all its
 * hours.  Partitions before the DAG's start are left out; a range wholly
 * before it is an error.  *out is the caller's to free.  0 or -EINVAL.
 */
int dag_partitions(const struct dag *dag, const char *from, const char *to,
	int64_t now, struct partition **out, size_t *n, struct err *e);
/*
 * The partition k steps from p (k may be negative): k days by the calendar
 * on a daily DAG, k partitions on an hourly one.  0; -ERANGE before the
 * start; -ENOENT when the day does not exist (the clocks skipped it).  out
 * is filled either way (its id names the day).
 */
int dag_partition_step(const struct dag *dag, const struct partition *p,
	int k, struct partition *out);
/* The partition that holds the unix time t. */
int dag_partition_at(const struct dag *dag, int64_t t, struct partition *out);

/* A partition's strings as struct task_run wants them (local to the DAG's zone). */
struct partition_info {
	char date[16];		/* YYYY-MM-DD of the start */
	char hour[4];		/* HH of the start ("00" on daily DAGs) */
	char start_iso[40];	/* 2026-11-01T00:00:00-04:00 */
	char end_iso[40];	/* exclusive end */
};
void dag_partition_info(const struct dag *dag, const struct partition *p,
	struct partition_info *out);

struct task_run;
/*
 * Fill run for task at partition p: names and bounds from dag, p and info
 * (which dag_partition_info filled; run points into it), the resolved
 * fields and database (borrowed), the task's prepared state, and counts
 * of -1.  The log is left NULL.
 */
void dag_task_run_init(struct task_run *run, const struct dag *dag,
	size_t task, const struct partition *p,
	const struct partition_info *info, const struct node *fields,
	const char *database);

/*
 * What a template may refer to besides params and built-ins: the
 * resolved targets and found files of needed instances.  The scheduler
 * supplies these from its instance graph.
 */
struct resolve_env {
	/* Target of task at partition (a path), or NULL when not known. */
	const char *(*need_target)(void *ctx, size_t task,
		const struct partition *p);
	/* Files an external-check instance found (a list node), or NULL. */
	const struct node *(*need_files)(void *ctx, size_t task,
		const struct partition *p);
	void *ctx;
	int64_t now;		/* unix seconds, for nothing but 'today' */
	/*
	 * When set, {target} in the task's fields expands to this path (the
	 * temporary name a command writes) instead of the target itself.
	 */
	const char *tmp_target;
};

/*
 * Resolve one instance: every templated field of task `task` expanded for
 * partition p.  *fields gets a new map (the caller frees it with
 * node_free); *target the resolved target path (NULL for tables and
 * pattern checks; the caller frees it).  0 or -EINVAL with e filled.
 */
int dag_resolve(const struct dag *dag, size_t task, const struct partition *p,
	const struct resolve_env *env, struct node **fields, char **target,
	struct err *e);

/* The resolved 'database' field of an instance, or NULL (caller frees). */
char *dag_resolve_database(const struct dag *dag, size_t task,
	const struct partition *p, const struct resolve_env *env, struct err *e);

/* The resolved target of one instance only (cheap; used by plan). */
int dag_resolve_target(const struct dag *dag, size_t task,
	const struct partition *p, const struct resolve_env *env, char **target,
	struct err *e);

#endif
