/*
 * What every command shares: one option parser over one option table (so
 * --help can list exactly the options a command takes, and an option it
 * does not take is an error, not silently ignored), finding and loading a
 * DAG, and the state database's default path.
 */
#include "config.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collide.h"
#include "dag.h"
#include "git.h"
#include "graph.h"
#include "hash.h"
#include "state.h"
#include "status.h"
#include "util.h"

enum opt_kind {
	OPT_FLAG,	/* sets an int */
	OPT_VALUE,	/* takes the next argument */
	OPT_LIST,	/* takes the next argument, may repeat */
};

struct opt_spec {
	const char *name;	/* as in cli_command.options */
	const char *flag;	/* --name */
	const char *alias;	/* short form, or NULL */
	enum opt_kind kind;
	size_t offset;		/* into struct cli_opts */
	const char *help;
};

#define OFF(field) offsetof(struct cli_opts, field)

/* The one process-wide switch, like a log level: see cli_set_load_warnings. */
static int load_warnings;
/*
 * The --param values of the options being used (see cli_opts_parse):
 * borrowed from those options, cleared when they are released.
 */
static const struct cli_list *load_params;
/* Their --at revision, or NULL: borrowed the same way. */
static const char *load_at;

static const struct opt_spec opt_specs[] = {
	{ "dags", "--dags", NULL, OPT_VALUE, OFF(dags),
		"DIR: where DAG names are looked up as NAME.yaml ($DAG_DAGS, ./dags)" },
	{ "state", "--state", NULL, OPT_VALUE, OFF(state),
		"PATH: the state database ($DAG_STATE, .dag-state/state.db)" },
	{ "date", "--date", NULL, OPT_VALUE, OFF(date),
		"D: one partition: YYYY-MM-DD[THH], today or yesterday" },
	{ "from", "--from", NULL, OPT_VALUE, OFF(from),
		"A: first partition of a range" },
	{ "to", "--to", NULL, OPT_VALUE, OFF(to),
		"B: last partition of a range (inclusive)" },
	{ "days-back", "--days-back", NULL, OPT_VALUE, OFF(days_back),
		"N: the range today-N .. today" },
	{ "jobs", "--jobs", "-j", OPT_VALUE, OFF(jobs),
		"N: instances running at once (the number of CPUs)" },
	{ "force", "--force", NULL, OPT_LIST, OFF(force),
		"TASK: rerun this task although its target exists (repeatable)" },
	{ "param", "--param", NULL, OPT_LIST, OFF(params),
		"NAME=VALUE: override a param of the DAG (repeatable)" },
	{ "at", "--at", NULL, OPT_VALUE, OFF(at),
		"REV: load the DAG file as it was at this git revision" },
	{ "task", "--task", NULL, OPT_LIST, OFF(tasks),
		"NAME: only this task (repeatable)" },
	{ "only", "--only", NULL, OPT_LIST, OFF(only),
		"STATE: only instances in this state (repeatable, or a,b)" },
	{ "compact", "--compact", NULL, OPT_FLAG, OFF(compact),
		"one character an instance, a row a task" },
	{ "attempt", "--attempt", NULL, OPT_VALUE, OFF(attempt),
		"N: which attempt (the last)" },
	{ "format", "--format", NULL, OPT_VALUE, OFF(format),
		"dot|json|svg: output format" },
	{ "listen", "--listen", NULL, OPT_VALUE, OFF(listen),
		"HOST:PORT: where serve listens (127.0.0.1:8642)" },
	{ "token-file", "--token-file", NULL, OPT_VALUE, OFF(token_file),
		"PATH: a file holding the token that POST requests must send" },
	{ "web", "--web", NULL, OPT_VALUE, OFF(web),
		"DIR: serve the UI's files from DIR instead of the built-in copy" },
	{ "json", "--json", NULL, OPT_FLAG, OFF(json),
		"machine-readable output" },
	{ "rerun-stale", "--rerun-stale", NULL, OPT_FLAG, OFF(rerun_stale),
		"also redo stale instances (see status) and what needs them" },
	{ "reverse", "--reverse", NULL, OPT_FLAG, OFF(reverse),
		"newest partitions first" },
	{ "downstream", "--downstream", NULL, OPT_FLAG, OFF(downstream),
		"also everything that depends on it" },
	{ "yes", "--yes", "-y", OPT_FLAG, OFF(yes),
		"do not ask" },
	{ "fsync", "--fsync", NULL, OPT_FLAG, OFF(fsync),
		"fsync command outputs before publishing them" },
	{ "print", "--print", NULL, OPT_FLAG, OFF(print),
		"print the resolved instance instead of running it" },
	{ "executor", "--executor", NULL, OPT_VALUE, OFF(executor),
		"local|slurm: where instances run (the DAG's executor:, local)" },
	{ "partition", "--partition", NULL, OPT_VALUE, OFF(partition),
		"P: the Slurm partition of the jobs" },
	{ "account", "--account", NULL, OPT_VALUE, OFF(account),
		"A: the Slurm account the jobs are charged to" },
	{ "sbatch-option", "--sbatch-option", NULL, OPT_LIST,
		OFF(sbatch_options), "OPT: one more sbatch option (repeatable)" },
};

static const struct cli_command *
find_command(const char *name)
{
	const struct cli_command *c;

	for (c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Does the space-separated list hold word? */
static int
takes(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && (p = strstr(p, word))) {
		int starts = p == list || p[-1] == ' ';
		int ends = p[n] == '\0' || p[n] == ' ';
		if (starts && ends)
			return 1;
		p += n;
	}
	return 0;
}

void
cli_usage(const char *name, FILE *fp)
{
	const struct cli_command *c = find_command(name);
	size_t i;

	if (!c)
		return;
	fprintf(fp, "usage: dag-cli %s %s\n\n%s\n", c->name, c->usage,
		c->summary);
	if (!c->options || !*c->options)
		return;
	fprintf(fp, "\nOptions:\n");
	for (i = 0; i < ARRAY_LEN(opt_specs); i++) {
		const struct opt_spec *s = &opt_specs[i];
		char label[32];

		if (!takes(c->options, s->name))
			continue;

		snprintf(label, sizeof(label), "%s%s%s", s->alias ? s->alias : "",
			s->alias ? ", " : "", s->flag);
		fprintf(fp, "  %-14s %s\n", label, s->help);
	}
}

static const struct opt_spec *
match(const char *arg, const char **inline_value)
{
	size_t i;

	*inline_value = NULL;
	for (i = 0; i < ARRAY_LEN(opt_specs); i++) {
		const struct opt_spec *s = &opt_specs[i];
		size_t n = strlen(s->flag);

		if (!strcmp(arg, s->flag) || (s->alias && !strcmp(arg, s->alias)))
			return s;
		/* --name=value, and -j4 for the short form */
		if (!strncmp(arg, s->flag, n) && arg[n] == '=' &&
		    s->kind != OPT_FLAG) {
			*inline_value = arg + n + 1;
			return s;
		}
		if (s->alias && s->kind != OPT_FLAG &&
		    !strncmp(arg, s->alias, strlen(s->alias)) &&
		    arg[strlen(s->alias)]) {
			*inline_value = arg + strlen(s->alias);
			return s;
		}
	}
	return NULL;
}

int
cli_opts_parse(const char *cmd, int argc, char **argv, struct cli_opts *o)
{
	const struct cli_command *c = find_command(cmd);
	const char *allowed = c && c->options ? c->options : "";
	int i;

	memset(o, 0, sizeof(*o));
	o->args = xcalloc((size_t)argc + 1, sizeof(*o->args));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_spec *s;
		const char *value;
		char *field;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = 1;
			return 0;
		}
		if (a[0] != '-' || !a[1]) {
			o->args[o->n_args++] = argv[i];
			continue;
		}
		s = match(a, &value);
		if (!s || !takes(allowed, s->name)) {
			fprintf(stderr, "dag-cli %s: unknown option '%s'\n", cmd, a);
			cli_usage(cmd, stderr);
			return -1;
		}
		field = (char *)o + s->offset;
		if (s->kind == OPT_FLAG) {
			*(int *)(void *)field = 1;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "dag-cli %s: option '%s' needs a "
					"value\n", cmd, a);
				return -1;
			}
			value = argv[++i];
		}
		if (s->kind == OPT_VALUE)
			*(const char **)(void *)field = value;
		else
			VEC_PUSH(*(struct cli_list *)(void *)field, value);
		if (!strcmp(s->name, "param") && !strchr(value, '=')) {
			fprintf(stderr, "dag-cli %s: --param '%s': expected "
				"NAME=VALUE\n", cmd, value);
			return -1;
		}
	}
	load_params = &o->params;
	load_at = o->at;
	return 0;
}

void
cli_opts_release(struct cli_opts *o)
{
	if (load_params == &o->params) {
		load_params = NULL;
		load_at = NULL;
	}
	free(o->force.v);
	free(o->params.v);
	free(o->sbatch_options.v);
	free(o->tasks.v);
	free(o->only.v);
	free(o->args);
	o->force.v = NULL;
	o->params.v = NULL;
	o->sbatch_options.v = NULL;
	o->tasks.v = NULL;
	o->only.v = NULL;
	o->args = NULL;
}

int
cli_opts_start(const char *cmd, const char *about, int argc, char **argv,
	struct cli_opts *o, int *rc)
{
	if (cli_opts_parse(cmd, argc, argv, o) < 0) {
		*rc = EXIT_USAGE;
		return 1;
	}
	if (!o->help)
		return 0;
	cli_usage(cmd, stdout);
	if (about)
		printf("\n%s", about);
	*rc = EXIT_OK;
	return 1;
}

int
cli_opts_range(const struct cli_opts *o, const char **from, const char **to)
{
	if (o->date && !o->from && !o->to) {
		*from = *to = o->date;
		return 0;
	}
	if (!o->date && o->from && o->to) {
		*from = o->from;
		*to = o->to;
		return 0;
	}
	return -1;
}

void
cli_usage_error(const char *cmd, const char *why)
{
	fprintf(stderr, "dag-cli %s: %s\n", cmd, why);
	cli_usage(cmd, stderr);
}

struct dag *
cli_opts_dag(const char *cmd, const struct cli_opts *o, int ok,
	const char *why)
{
	if (!ok) {
		cli_usage_error(cmd, why);
		return NULL;
	}
	return cli_load_dag(o->args[0], o->dags);
}

struct dag *
cli_opts_range_dag(const char *cmd, const struct cli_opts *o, int n_args,
	const char **from, const char **to, const char *why)
{
	return cli_opts_dag(cmd, o, o->n_args == n_args &&
		cli_opts_range(o, from, to) == 0, why);
}

int
cli_task_index(const char *cmd, const struct dag *dag, const char *name)
{
	int t = dag_task_index(dag, name);

	if (t < 0)
		fprintf(stderr, "dag-cli %s: DAG '%s' has no task '%s'\n", cmd,
			dag->name, name);
	return t;
}

void
cli_set_load_warnings(int on)
{
	load_warnings = on;
}

/* "file:line:col: warning: msg" for each, in file order. */
static void
print_warnings(const struct errs *w, FILE *fp)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		fprintf(fp, "%s:%d:%d: warning: %s\n", w->v[i].file,
			w->v[i].line, w->v[i].column, w->v[i].msg);
	if (w->dropped)
		fprintf(fp, "... and %zu more warnings\n", w->dropped);
}

/*
 * The file --at reads: arg when it names a file now or looks like a path,
 * else NAME.yaml in the DAG directory (the file may be gone from the
 * work tree since that revision).
 */
static char *
dag_path_at(const char *arg, const char *dags_dir)
{
	struct stat st;
	size_t n = strlen(arg);

	if ((stat(arg, &st) == 0 && S_ISREG(st.st_mode)) || strchr(arg, '/') ||
	    (n > 5 && !strcmp(arg + n - 5, ".yaml")))
		return xstrdup(arg);
	return xasprintf("%s/%s.yaml", cli_dags_dir(dags_dir), arg);
}

/*
 * Load the DAG file's text at revision rev, with the --param overrides;
 * messages name it PATH@REV.
 */
static int
load_at_rev(const char *path, const char *rev, struct dag **dag,
	struct errs *errs)
{
	char commit[GITREPO_ID_LEN], *text = NULL, *name;
	size_t len;
	struct err e;
	int rc;

	err_clear(&e);
	rc = gitrepo_read_at(path, rev, &text, &len, commit, &e);
	if (rc < 0) {
		errs_add(errs, &e);
		return rc;
	}
	name = xasprintf("%s@%s", path, rev);
	rc = dag_load_string_params(text, len, name,
		load_params ? load_params->v : NULL,
		load_params ? load_params->n : 0, dag, errs);
	free(name);
	free(text);
	return rc;
}

struct dag *
cli_load_dag(const char *arg, const char *dags_dir)
{
	struct errs errs = { 0 };
	struct dag *dag = NULL;
	char *path = load_at ? dag_path_at(arg, dags_dir) :
		cli_dag_path(arg, dags_dir);
	int rc;

	if (!path)
		return NULL;
	if (load_at)
		rc = load_at_rev(path, load_at, &dag, &errs);
	else
		rc = dag_load_params(path, load_params ? load_params->v : NULL,
			load_params ? load_params->n : 0, &dag, &errs);
	if (rc < 0) {
		errs_print(&errs, stderr);
	} else if (collide_check_dag(dag, &errs)) {
		/* Two instances, one target: as much an error as a bad field. */
		errs_print(&errs, stderr);
		dag_free(dag);
		dag = NULL;
	} else if (load_warnings) {
		print_warnings(&dag->warnings, stderr);
	}
	errs_release(&errs);
	free(path);
	return dag;
}

int
cli_dag_provenance(const char *arg, const char *dags_dir,
	struct gitrepo_prov *p)
{
	struct err e;
	char *path, *text = NULL;
	size_t len;
	int rc;

	err_clear(&e);
	memset(p, 0, sizeof(*p));
	if (load_at) {
		path = dag_path_at(arg, dags_dir);
		rc = gitrepo_read_at(path, load_at, &text, &len, p->commit, &e);
		free(text);
		rc = rc < 0 ? rc : 1;
	} else {
		path = cli_dag_path(arg, dags_dir);
		rc = path ? gitrepo_provenance(path, p, &e) : 0;
	}
	if (rc < 0) {
		fprintf(stderr, "dag-cli: warning: no git provenance: ");
		err_print(&e, stderr);
		rc = 0;
	}
	free(path);
	return rc;
}

char *
cli_dag_path(const char *arg, const char *dags_dir)
{
	struct stat st;
	char *p, *abs;

	dags_dir = cli_dags_dir(dags_dir);
	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
		return xstrdup(arg);
	if (!strchr(arg, '/')) {
		p = xasprintf("%s/%s.yaml", dags_dir, arg);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return p;
		free(p);
	}
	p = xasprintf("%s/%s.yaml", dags_dir, arg);
	abs = path_abs(p);
	fprintf(stderr, "dag-cli: no DAG file '%s' (looked for the path, and for "
		"%s)\n", arg, abs);
	free(abs);
	free(p);
	return NULL;
}

/*
 * A setting: its option when given, else its environment variable, else
 * dflt.
 */
static const char *
setting(const char *opt, const char *var, const char *dflt)
{
	const char *env = getenv(var);

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return dflt;
}

const char *
cli_dags_dir(const char *opt)
{
	return setting(opt, "DAG_DAGS", "dags");
}

const char *
cli_command_nearest(const char *name)
{
	const char *names[64];
	const struct cli_command *c;
	size_t n = 0;

	for (c = cli_commands; c->name && n < ARRAY_LEN(names); c++)
		if (!c->hidden)
			names[n++] = c->name;
	return str_nearest(name, names, n);
}

const char *
cli_state_path(const char *opt)
{
	return setting(opt, "DAG_STATE", ".dag-state/state.db");
}

char *
cli_beside_state(const char *state_path, const char *name)
{
	const char *slash = strrchr(state_path, '/');

	if (!slash)
		return xstrdup(name);
	return xasprintf("%.*s%s", (int)(slash - state_path + 1), state_path,
		name);
}

int
cli_parse_count(const char *cmd, const char *opt, const char *v, long min,
	long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v) {
		fprintf(stderr, "dag-cli %s: %s expects a whole number, not '%s'\n",
			cmd, opt, v);
		return -1;
	}
	if (n < min) {
		fprintf(stderr, "dag-cli %s: %s needs at least %ld, not '%s'\n",
			cmd, opt, min, v);
		return -1;
	}
	*out = n;
	return 0;
}

int
cli_parse_jobs(const char *cmd, const char *opt, const char *v, long *out)
{
	long n;

	if (cli_parse_count(cmd, opt, v, 1, &n) < 0)
		return -1;
	if (n > CLI_JOBS_MAX) {
		fprintf(stderr, "dag-cli %s: %s allows at most %d instances at "
			"once, not '%s'\n", cmd, opt, CLI_JOBS_MAX, v);
		return -1;
	}
	*out = n;
	return 0;
}

int
cli_one_partition(const char *cmd, const struct dag *dag, const char *date,
	struct partition *out)
{
	struct partition *parts = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (dag_partitions(dag, date, date, cli_now(), &parts, &n, &e) < 0) {
		fprintf(stderr, "dag-cli %s: ", cmd);
		err_print(&e, stderr);
		return -1;
	}
	if (n != 1) {
		fprintf(stderr, "dag-cli %s: '%s' names %zu partitions of an "
			"hourly DAG; give one hour (YYYY-MM-DDTHH)\n", cmd, date, n);
		free(parts);
		return -1;
	}
	*out = parts[0];
	free(parts);
	return 0;
}

int
cli_check_collisions(const char *cmd, const struct graph *g)
{
	struct errs errs = { 0 };
	size_t n = collide_check_graph(g, &errs);

	(void)cmd;
	if (n)
		errs_print(&errs, stderr);
	errs_release(&errs);
	return n ? -1 : 0;
}

int
cli_stale_redo(const struct graph *g, const char *state_path,
	struct hash *redo, struct status *keep, struct err *e)
{
	struct state st;
	struct status s;
	size_t i, n = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = state_open(&st, state_path, 1, e);
	if (rc == -ENOENT) {
		state_release(&st);
		err_clear(e);
		return 0;
	}
	if (rc == 0)
		rc = status_build(&s, g, &st, cli_now() * 1000, e);
	if (rc < 0 && state_damaged(&st)) {
		/* The run moves it aside; without a history nothing is stale. */
		fprintf(stderr, "dag-cli: warning: state database '%s' is "
			"damaged (%s): no instance is known to be stale\n",
			state_path, e->msg);
		err_clear(e);
		status_release(&s);
		rc = status_build(&s, g, NULL, cli_now() * 1000, e);
	}
	for (i = 0; rc == 0 && i < g->n_inst; i++) {
		int64_t key[2];
		int added;

		if (s.inst[i].state != INST_STALE)
			continue;
		key[0] = g->inst[i].task;
		key[1] = g->parts[g->inst[i].part].start;
		hash_add(redo, key, sizeof(key), &added);
		n++;
	}
	state_release(&st);
	if (keep && rc == 0)
		*keep = s;
	else
		status_release(&s);
	return rc < 0 ? rc : (int)n;
}
