/*
 * Choosing the executor of a run: local unless the command line or the
 * DAG's `executor:` names slurm, with the Slurm settings (partition,
 * account, sbatch options, poll interval, job directory beside the state
 * database) from the command line over the DAG over the environment.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dag.h"
#include "exec_slurm.h"

/* The environment's value of name as milliseconds, or def. */
static int64_t
env_ms(const char *name, int64_t def, int64_t min)
{
	const char *v = getenv(name);
	char *end;
	long long ms;

	if (!v || !*v)
		return def;
	ms = strtoll(v, &end, 10);
	if (*end || ms < min)
		return def;
	return ms;
}

int
exec_choose(struct exec_choice *c, const struct dag *dag, const char *name,
	const char *partition, const char *account, const char *const *options,
	size_t n_options, const char *state_path, struct err *e)
{
	const struct dag_executor *dx = &dag->executor;
	size_t n_dag = dx->options ? dx->options->n : 0, i;
	char *slash;

	memset(c, 0, sizeof(*c));
	if (!name)
		name = dx->name ? dx->name : "local";
	if (!strcmp(name, "local"))
		return 0;
	if (strcmp(name, "slurm"))
		return err_set(e, -EINVAL, "unknown executor '%s'; expected "
			"local or slurm", name);
	c->ops = &exec_slurm;
	c->conf.partition = partition ? partition : dx->partition;
	c->conf.account = account ? account : dx->account;
	c->options = xcalloc(n_dag + n_options + 1, sizeof(*c->options));
	for (i = 0; i < n_dag; i++)
		c->options[c->conf.n_options++] = dx->options->items[i]->str;
	for (i = 0; i < n_options; i++)
		c->options[c->conf.n_options++] = options[i];
	c->conf.options = c->options;
	slash = strrchr(state_path, '/');
	c->dir = slash ? xasprintf("%.*s/slurm", (int)(slash - state_path),
		state_path) : xstrdup("slurm");
	if (c->dir[0] != '/') {
		char cwd[PATH_MAX], *abs;

		if (getcwd(cwd, sizeof(cwd))) {
			abs = xasprintf("%s/%s", cwd, c->dir);
			free(c->dir);
			c->dir = abs;
		}
	}
	c->conf.dir = c->dir;
	/* Knobs for tests and slow clusters; documented in dag-cli(1). */
	c->conf.poll_ms = env_ms("DAG_SLURM_POLL_MS", SLURM_POLL_MS,
		SLURM_POLL_MS);
	c->conf.lost_ms = env_ms("DAG_SLURM_LOST_MS", SLURM_LOST_MS, 0);
	return 0;
}

void
exec_choice_release(struct exec_choice *c)
{
	free(c->dir);
	free(c->options);
	memset(c, 0, sizeof(*c));
}
