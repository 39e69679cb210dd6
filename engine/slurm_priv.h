/*
 * The Slurm executor's own parts, shared by exec_slurm.c (submission,
 * polling, cancelling, the interface), slurm_tool.c (running sbatch,
 * squeue and scancel) and slurm_orphans.c (the jobs of a killed run).
 */
#ifndef DAG_SLURM_PRIV_H
#define DAG_SLURM_PRIV_H

#include <stdint.h>
#include <uv.h>

#include "exec_slurm.h"
#include "executor.h"
#include "util.h"

struct batch;

/* One attempt. */
struct sjob {
	void *token;
	uint64_t seq;		/* its files: RUNDIR/jSEQ.json, jSEQ.res */
	struct batch *b;	/* once submitted */
	size_t k;		/* index in b (the array task id) */
	int64_t timeout_ms;
	char *tmp;		/* a command's temporary target, or NULL */
	char *log;		/* the attempt's log */
	char *name;		/* DAG.TASK, the job's name */
	int cancel_sig;		/* cancelled with this signal, or 0 */
	int scancelled;		/* scancel was sent */
	int timed_out;		/* overran its timeout: SIGTERM was sent */
	int64_t run_ms;		/* first poll that saw it running, or 0 */
	int64_t term_ms;	/* when the timeout's SIGTERM went out */
	char seen[24];		/* the state squeue last gave, or "" */
	int held;		/* pending, held by the controller */
	int64_t missing_ms;	/* first poll that did not list it, or 0 */
	int64_t ended_ms;	/* first poll that said it ended, or 0 */
};

/* One sbatch: a single job or a job array. */
struct batch {
	unsigned long id;	/* the Slurm job id (the array's) */
	int array;
	uint64_t seq0;		/* jobs[k] has seq seq0 + k */
	size_t n;
	struct sjob **jobs;
	size_t live;		/* not yet reported */
	struct batch *next;
};

struct slurm {
	struct executor *x;
	const struct slurm_conf *c;
	char *rundir;
	char *self;		/* dag-cli, as the jobs run it */
	uint64_t seq;
	struct { struct sjob **v; size_t n, cap; } queue;
	struct batch *batches;
	size_t n_live;		/* started, not yet reported */
	uv_timer_t flush;	/* submit what was queued, next turn */
	uv_timer_t poll;
	uv_fs_event_t watch;	/* result files, the moment they appear */
	int polling;
	int handles;		/* open handles, for close */
	int warned;		/* squeue failed: said so once */
	int no_arrays;		/* an array was refused: one job each */
};

/* An argv under construction. */
struct args {
	char **v;
	size_t n, cap;
};

/* slurm_tool.c: running Slurm's commands. */
int slurm_run_tool(char *const argv[], struct strbuf *out, struct strbuf *errb);
void slurm_arg_add(struct args *a, char *s);
void slurm_args_free(struct args *a);
void slurm_sh_quote(struct strbuf *sb, const char *s);
int slurm_parse_id(const char *s, unsigned long *id, long *k);

/* exec_slurm.c: the job files. */
void slurm_remove_dir(const char *dir);

/* slurm_orphans.c: the jobs of a killed run. */
void slurm_adopt_orphans(struct slurm *sl, const char *host);

#endif
