/*
 * The command line: one function per subcommand, each in the module that
 * owns its concern, all dispatched from main.c.  A command returns the
 * process exit status (dag-cli(1), EXIT STATUS): 0 done, 1 an instance failed, 2 usage or
 * definition error, 3 external inputs still missing.
 */
#ifndef DAG_CLI_H
#define DAG_CLI_H

#include <stddef.h>
#include <stdio.h>

struct dag;
struct err;
struct partition;

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_WAITING	3
#define EXIT_LOCKED	4	/* the state database stayed locked by another
				   process (DAG_STATE_TIMEOUT) */

struct cli_command {
	const char *name;
	const char *options;	/* the options it takes: "dags state date json" */
	int (*fn)(int argc, char **argv);
	const char *usage;	/* "DAG --date D [-j N]" */
	const char *summary;	/* one line */
	int hidden;		/* internal (worker modes) */
	int load_warnings;	/* cli_load_dag prints the DAG's warnings */
};

extern const struct cli_command cli_commands[];

/* Print "usage: dag-cli NAME USAGE", the summary and the options to fp. */
void cli_usage(const char *name, FILE *fp);

/* A repeatable option's values, in order (borrowed from argv). */
struct cli_list {
	const char **v;
	size_t n, cap;
};

/* Every option of every command; each command takes those it lists. */
struct cli_opts {
	const char *dags, *state, *date, *from, *to, *days_back, *jobs;
	const char *attempt, *format;
	const char *at;		/* --at REV: the DAG file at a git revision */
	const char *listen, *token_file, *web;	/* serve */
	struct cli_list force;	/* --force TASK... */
	struct cli_list params;	/* --param NAME=VALUE... */
	/* Where instances run (engine/exec_slurm.h). */
	const char *executor, *partition, *account;
	struct cli_list sbatch_options;	/* --sbatch-option OPT... */
	struct cli_list tasks;	/* status --task NAME... */
	struct cli_list only;	/* status --only STATE... */
	int compact;		/* status --compact */
	int json, reverse, yes, downstream, fsync, help, print, rerun_stale;
	char **args;		/* the operands, in order */
	int n_args;
};

/*
 * Parse cmd's options into o (which the caller releases).  An option the
 * command does not take, or one missing its value, prints a message and
 * returns -1.  --help sets o->help and stops.  The --param values also
 * become what cli_load_dag applies until cli_opts_release: each command
 * parses its options once, before it loads its DAG.
 */
int cli_opts_parse(const char *cmd, int argc, char **argv, struct cli_opts *o);
void cli_opts_release(struct cli_opts *o);

/*
 * How every command starts: cli_opts_parse, and with --help, cli_usage
 * followed by about (the command's longer description, NULL for none) on
 * stdout.  Returns 0 to go on; 1 when the command is done before it
 * starts, with *rc its exit status: EXIT_OK after --help, EXIT_USAGE after
 * an option error (printed).  The caller releases o either way.
 */
int cli_opts_start(const char *cmd, const char *about, int argc, char **argv,
	struct cli_opts *o, int *rc);

/*
 * The range o names: --date D alone, or --from A with --to B, into *from
 * and *to (borrowed from o).  -1 when it names neither or both.
 */
int cli_opts_range(const struct cli_opts *o, const char **from,
	const char **to);

/*
 * A usage error of the command cmd: "dag-cli CMD: WHY" on stderr, then its
 * usage.  why is the message, without a final newline.
 */
void cli_usage_error(const char *cmd, const char *why);

/*
 * The DAG a command acts on, once cli_opts_start has parsed o: when ok
 * (the operands and options are the ones cmd wants), cli_load_dag of the
 * first operand, else cli_usage_error(cmd, why).  NULL after either error.
 */
struct dag *cli_opts_dag(const char *cmd, const struct cli_opts *o, int ok,
	const char *why);

/*
 * cli_opts_dag for a command that takes n_args operands and a range
 * (cli_opts_range, into *from and *to).
 */
struct dag *cli_opts_range_dag(const char *cmd, const struct cli_opts *o,
	int n_args, const char **from, const char **to, const char *why);

/*
 * The index of dag's task named name, or -1 after printing "dag-cli CMD:
 * DAG 'd' has no task 'name'".
 */
int cli_task_index(const char *cmd, const struct dag *dag, const char *name);

/*
 * Load the DAG named by arg (see cli_dag_path) with the --param overrides
 * of the options last parsed, printing every error, and its warnings when
 * cli_set_load_warnings turned them on.  Returns NULL when it cannot be
 * found or has errors.
 */
struct dag *cli_load_dag(const char *arg, const char *dags_dir);

/*
 * The git provenance of the DAG named by arg as cli_load_dag loads it:
 * with --at, the revision's commit (not dirty); else the file's
 * repository's HEAD and whether the file differs from it.  1 with *p
 * filled, 0 when the file is in no repository (or the repository cannot
 * be read: a warning says why, and the run goes on without it).
 */
struct gitrepo_prov;
int cli_dag_provenance(const char *arg, const char *dags_dir,
	struct gitrepo_prov *p);

/*
 * Whether cli_load_dag prints load warnings (off by default): set once by
 * main from the command's load_warnings, like a log level, so the
 * commands that act on a definition warn and the ones that only look at
 * history (status, logs) stay quiet.
 */
void cli_set_load_warnings(int on);

/*
 * Resolve a DAG argument: an existing file path, else NAME.yaml in
 * dags_dir (NULL means cli_dags_dir(NULL)).  Returns a new string, or NULL
 * when neither exists (a message has been printed).
 */
char *cli_dag_path(const char *arg, const char *dags_dir);

/* The DAG directory: --dags, else $DAG_DAGS, else ./dags. */
const char *cli_dags_dir(const char *opt);

/*
 * The name of a command near enough to name to be a typo ("stauts"), or
 * NULL.  Hidden commands are never suggested.
 */
const char *cli_command_nearest(const char *name);

/* The state database path: --state, else $DAG_STATE, else .dag-state/state.db. */
const char *cli_state_path(const char *opt);
/* The file or directory NAME beside the state database at state_path. */
char *cli_beside_state(const char *state_path, const char *name);

/* "Now": cli_now(), in engine/clock.h. */
#include "clock.h"

/*
 * Parse the value v of option opt as a whole number of at least min into
 * *out.  Anything else (not a number, trailing text, too small) prints
 * "dag-cli CMD: ..." quoting v and returns -1, leaving *out alone.
 */
int cli_parse_count(const char *cmd, const char *opt, const char *v, long min,
	long *out);

/*
 * The most instances -j may run at once: each slot maps a report page and
 * may hold a process, so a larger count is a typing error, not a request.
 */
#define CLI_JOBS_MAX 4096

/*
 * Parse -j's value v (opt as the user spelt it) into *out: a whole number
 * from 1 to CLI_JOBS_MAX.  Else prints "dag-cli CMD: ..." and returns -1.
 */
int cli_parse_jobs(const char *cmd, const char *opt, const char *v, long *out);

/*
 * The one partition that date names in dag (today, a day, or one hour of
 * an hourly DAG) into *out; -1, with a message printed, otherwise.
 */
int cli_one_partition(const char *cmd, const struct dag *dag, const char *date,
	struct partition *out);

/*
 * Two instances of g that would write one target: print each collision
 * (file:line:column: message) and return -1; 0 when there is none.
 */
struct graph;
int cli_check_collisions(const char *cmd, const struct graph *g);

/*
 * --rerun-stale: add the stale instances of g (per the state database
 * at state_path, opened read-only; none when it does not exist yet) to
 * redo as (task, partition start) int64_t pairs, for a second
 * graph_build.  keep, unless NULL, receives the status that said so
 * (the caller releases it), for the reasons.  Returns how many, or a
 * negative errno with e filled.
 */
struct hash;
struct status;
int cli_stale_redo(const struct graph *g, const char *state_path,
	struct hash *redo, struct status *keep, struct err *e);

/* backfill --days-back N: today - n days in dag's zone as YYYY-MM-DD. */
struct err;
int cli_days_back(const struct dag *dag, long n, int64_t now, char *buf,
	size_t len, struct err *e);

/*
 * run and backfill: parse, load, build the graph over the range and run
 * it (engine/cmd_run.c).  Returns the exit status.
 */
int cli_run_range(const char *cmd, int argc, char **argv);

int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_backfill(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_kinds(int argc, char **argv);
/* dag-cli serve and dag-cli metrics (engine/cmd_serve.c). */
int cmd_serve(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
/* graph --format svg: the picture with --date's (or the latest) states. */
int cmd_graph_svg(const struct dag *dag, const struct cli_opts *o);
/* graph --format json's document for dag, as a new string (cmd_define.c). */
char *cmd_graph_json(const struct dag *dag);
/* The long-running scheduler (engine/cmd_scheduler.c). */
int cmd_scheduler(int argc, char **argv);
/* Hidden worker mode: one resolved built-in instance (engine/cmd_run_instance.c). */
int cmd_run_instance(int argc, char **argv);
/* Hidden: a long-lived worker of the scheduler (engine/exec_worker.c). */
int cmd_worker(int argc, char **argv);

#endif
