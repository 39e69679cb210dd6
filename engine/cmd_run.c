/*
 * dag-cli run DAG --date D: make one partition's targets exist.  The
 * targets are the truth of completeness, so run builds the instance graph
 * from them (graph.c) and hands what is missing to the scheduler; the
 * state database only records the history.  backfill (cmd_backfill.c)
 * is the same machinery over a range, so the shared part lives here as
 * cli_run_range: both commands parse the same way, refuse the same
 * mistakes and exit with the same statuses.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dag.h"
#include "exec_slurm.h"
#include "git.h"
#include "graph.h"
#include "hash.h"
#include "range.h"
#include "scheduler.h"
#include "state.h"
#include "util.h"

/* run and backfill --help: what they do, after their usage. */
static const char run_about[] =
	"Makes the targets exist: missing instances run in a pool of "
	"worker processes,\nneeds first, with retries and timeouts; "
	"every attempt is recorded in the state\ndatabase with its log "
	"(see dag-cli logs).\n\n"
	"\nExit status: 0 every target exists, 1 an instance failed, "
	"2 usage or\ndefinition error, 3 external inputs still missing, "
	"4 the state database\nstayed locked (DAG_STATE_TIMEOUT), "
	"130/143 interrupted.\n";

static char *
join_args(int argc, char **argv)
{
	struct strbuf sb;
	int i;

	sb_init(&sb);
	sb_adds(&sb, "dag-cli");
	for (i = 0; i < argc; i++) {
		sb_addc(&sb, ' ');
		sb_adds(&sb, argv[i]);
	}
	return sb_detach(&sb);
}

/* The run's "now": the one the graph was built with (cli_now). */
static int64_t
now_of(void *arg)
{
	return *(const int64_t *)arg;
}

int
cli_run_range(const char *cmd, int argc, char **argv)
{
	struct cli_opts o;
	struct dag *dag = NULL;
	struct graph *g = NULL;
	struct graph_options gopt = { 0 };
	struct sched_options so;
	struct exec_choice xc = { 0 };
	struct state st;
	struct err e;
	struct hash redo;
	struct gitrepo_prov prov;
	char from_buf[16];
	const char *from, *to;
	long v;
	int rc = EXIT_USAGE, backfill = !strcmp(cmd, "backfill");
	int st_open = 0;
	char *args = NULL;

	hash_init(&redo, NULL);
	err_clear(&e);
	memset(&st, 0, sizeof(st));
	memset(&so, 0, sizeof(so));
	if (cli_opts_start(cmd, run_about, argc, argv, &o, &rc))
		goto out;
	/* The parser already refused the options a command does not list. */
	if (o.n_args != 1 || (!backfill && !o.date) ||
	    (backfill && (o.days_back ? (o.from || o.to) :
	    !(o.from && o.to)))) {
		cli_usage_error(cmd, backfill ?
			"give one DAG and --from A --to B, or --days-back N" :
			"give one DAG and --date D");
		goto out;
	}
	if (o.jobs) {
		if (cli_parse_jobs(cmd, "-j", o.jobs, &v) < 0)
			goto out;
		so.jobs = (int)v;
	}
	dag = cli_load_dag(o.args[0], o.dags);
	if (!dag)
		goto out;
	/*
	 * The run records where its definition came from: worked out while
	 * the run starts (the scheduler writes it into the run's row), or
	 * here with --at, which loads the definition from git itself.
	 */
	if (!o.at) {
		char *path = cli_dag_path(o.args[0], o.dags);
		/* The provenance cache (engine/git_cache.c), as logs/ is. */
		char *cache = cli_beside_state(cli_state_path(o.state),
			"git-provenance");

		so.prov = path ? gitrepo_job_start(path, cache) : NULL;
		free(cache);
		free(path);
	}
	gopt.now = cli_now();
	from = o.date ? o.date : o.from;
	to = o.date ? o.date : o.to;
	if (o.days_back) {
		if (cli_parse_count(cmd, "--days-back", o.days_back, 0, &v) < 0)
			goto out;
		if (cli_days_back(dag, v, gopt.now, from_buf, sizeof(from_buf),
		    &e) < 0)
			goto fail;
		from = from_buf;
		to = "today";
	}
	gopt.force = o.force.v;
	gopt.n_force = o.force.n;
	if (graph_build_range(dag, from, to, &gopt, &g, &e) < 0)
		goto fail;
	if (cli_check_collisions(cmd, g) < 0)
		goto out;
	if (o.rerun_stale) {
		/* Again, with the stale instances redone wherever reached. */
		int stale = cli_stale_redo(g, cli_state_path(o.state), &redo,
			NULL, &e);

		if (stale < 0)
			goto fail;
		if (stale > 0) {
			graph_free(g);
			g = NULL;
			gopt.redo = &redo;
			if (graph_build_range(dag, from, to, &gopt, &g,
			    &e) < 0)
				goto fail;
		}
	}
	if (state_open(&st, cli_state_path(o.state), 0, &e) < 0)
		goto fail;
	st_open = 1;
	if (o.at && cli_dag_provenance(o.args[0], o.dags, &prov) > 0) {
		st.git_commit = prov.commit;
		st.git_dirty = prov.dirty;
	}
	args = join_args(argc, argv);
	so.reverse = o.reverse;
	so.json = o.json;
	so.fsync = o.fsync;
	so.progress = isatty(2);
	so.args = args;
	so.now = now_of;
	so.clock_arg = &gopt.now;
	if (exec_choose(&xc, dag, o.executor, o.partition, o.account,
	    o.sbatch_options.v, o.sbatch_options.n, cli_state_path(o.state),
	    &e) < 0)
		goto fail;
	so.executor = xc.ops;
	so.executor_arg = &xc.conf;
	/* Slurm queues what it cannot start yet: keep it fed. */
	if (xc.ops && !so.jobs)
		so.jobs = SLURM_JOBS;
	rc = sched_run(dag, g, &st, &so, &e);
	if (rc < 0)
		goto fail;
	goto out;
fail:
	fprintf(stderr, "dag-cli %s: ", cmd);
	err_print(&e, stderr);
	rc = e.code == -EINVAL || e.code == -ELOOP ? EXIT_USAGE :
		e.code == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
out:
	gitrepo_job_free(so.prov);
	hash_release(&redo);
	if (st_open)
		state_release(&st);
	exec_choice_release(&xc);
	free(args);
	graph_free(g);
	dag_free(dag);
	cli_opts_release(&o);
	return rc;
}

int
cmd_run(int argc, char **argv)
{
	return cli_run_range("run", argc, argv);
}


