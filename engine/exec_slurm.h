/*
 * The Slurm executor (engine/exec_slurm.c): each attempt a batch job
 * running "dag-cli __run-instance" on a data directory the nodes share.
 */
#ifndef DAG_EXEC_SLURM_H
#define DAG_EXEC_SLURM_H

#include <stddef.h>
#include <stdint.h>

struct exec_ops;

/* Its configuration, the executor's arg; everything is borrowed. */
struct slurm_conf {
	/*
	 * Where job files go (requests, results, Slurm's own output), on
	 * the shared file system: one directory per run inside.
	 */
	const char *dir;
	const char *self;	/* dag-cli for the jobs; NULL: this binary */
	const char *partition;	/* --partition, or NULL */
	const char *account;	/* --account, or NULL */
	const char *const *options;	/* more sbatch options, verbatim */
	size_t n_options;
	int64_t poll_ms;	/* between squeue calls (at least 500) */
	int64_t lost_ms;	/* gone from squeue without a result: lost */
};

/* Default poll interval and bound for a vanished job (ms). */
#define SLURM_POLL_MS 500
#define SLURM_LOST_MS 30000
/* In flight at once when -j is not given: Slurm queues the rest. */
#define SLURM_JOBS 100

extern const struct exec_ops exec_slurm;

struct dag;
struct err;

/*
 * A run's choice of executor.  The strings of conf are owned here;
 * release with exec_choice_release.
 */
struct exec_choice {
	const struct exec_ops *ops;	/* NULL: the local executor */
	struct slurm_conf conf;		/* for Slurm */
	char *dir;
	const char **options;
};

/*
 * Choose where a run's instances go: name (--executor), else the DAG's
 * executor:, else local.  For Slurm, partition, account and options
 * (--partition, --account, --sbatch-option: the command line's win over
 * the DAG's; options from both are passed, the DAG's first) and the job
 * directory beside the state database (state_path's directory/slurm).
 * 0, or -EINVAL with e filled for an unknown name.
 */
int exec_choose(struct exec_choice *c, const struct dag *dag,
	const char *name, const char *partition, const char *account,
	const char *const *options, size_t n_options, const char *state_path,
	struct err *e);
void exec_choice_release(struct exec_choice *c);

#endif
