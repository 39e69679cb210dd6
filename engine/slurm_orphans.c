/*
 * The jobs of a killed run of the same state: found by the run directory
 * the dead run left, waited for or cancelled, and their results handed to
 * the scheduler (on_adopted) so their attempts are recorded as they ended.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurm_priv.h"

/* ids of the jobs file of a run directory, comma-separated, or NULL. */
static char *
orphan_ids(const char *dir)
{
	char *path = xasprintf("%s/jobs", dir), *text = read_path(path, NULL), *p;

	free(path);
	if (!text)
		return NULL;
	for (p = text; *p; p++)
		if (*p == '\n')
			*p = ',';
	while (p > text && p[-1] == ',')
		*--p = '\0';
	if (!*text) {
		free(text);
		return NULL;
	}
	return text;
}

/* How many of ids are still queued or running; -1 when squeue failed. */
static int
count_active(const char *ids, int pending_only)
{
	struct args a = { 0 };
	struct strbuf out, errb;
	int rc, n = 0;
	char *p;

	slurm_arg_add(&a, xstrdup("squeue"));
	slurm_arg_add(&a, xstrdup("--noheader"));
	slurm_arg_add(&a, xstrdup("--array"));
	slurm_arg_add(&a, xstrdup(pending_only ? "--states=PD" :
		"--states=PD,R,CG,CF,S,RQ,RS,SI,SO,ST"));
	slurm_arg_add(&a, xstrdup("--format=%i"));
	slurm_arg_add(&a, xasprintf("--jobs=%s", ids));
	sb_init(&out);
	sb_init(&errb);
	rc = slurm_run_tool(a.v, &out, &errb);
	slurm_args_free(&a);
	if (rc != 0 && !(errb.buf && strstr(errb.buf, "Invalid job id")))
		n = -1;
	for (p = out.buf; n >= 0 && rc == 0 && p && *p; p++)
		if (*p == '\n')
			n++;
	sb_release(&out);
	sb_release(&errb);
	return n;
}

/* Is the run of directory name HOST-PID (this host) gone? */
static int
run_gone(const char *name, const char *host)
{
	size_t hl = strlen(host);
	char *end;
	long pid;

	if (strncmp(name, host, hl) || name[hl] != '-')
		return 0;
	errno = 0;
	pid = strtol(name + hl + 1, &end, 10);
	if (errno || *end || pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* A request's member as text or a number: "1" and 1 alike. */
static const char *
json_text(json_t *o, const char *key, char *buf, size_t n)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

/*
 * The outcomes of a killed run's jobs that finished with a result (jN.res
 * beside its jN.json), handed to on_adopted: the scheduler records them
 * rather than "interrupted".  A job without one (cancelled while pending,
 * killed) says nothing and stays interrupted.
 */
static void
report_adopted(struct slurm *sl, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d || !sl->x->on_adopted) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d))) {
		char *rq_path, *res_path, *text, a_buf[32], t_buf[32];
		const char *dag, *task, *part, *att, *tmo;
		unsigned long long seq;
		struct exec_adopted a;
		json_t *rq;
		struct err e;
		char tail[8];

		if (sscanf(de->d_name, "j%llu.%7s", &seq, tail) != 2 ||
		    strcmp(tail, "json"))
			continue;
		rq_path = xasprintf("%s/j%llu.json", dir, seq);
		res_path = xasprintf("%s/j%llu.res", dir, seq);
		text = read_path(res_path, NULL);
		rq = text ? json_load_file(rq_path, 0, NULL) : NULL;
		dag = json_string_value(json_object_get(rq, "dag"));
		task = json_string_value(json_object_get(rq, "task"));
		part = json_string_value(json_object_get(rq, "partition"));
		att = json_text(rq, "attempt", a_buf, sizeof(a_buf));
		tmo = json_text(rq, "timeout_ms", t_buf, sizeof(t_buf));
		err_clear(&e);
		if (dag && task && part && att &&
		    exec_result_from_json(text, &a.r, &e) == 0) {
			a.dag = dag;
			a.task = task;
			a.partition = part;
			a.attempt = atoi(att);
			a.timeout_ms = tmo ? strtoll(tmo, NULL, 10) : 0;
			a.log_path = json_string_value(json_object_get(rq,
				"log"));
			a.r.token = NULL;
			sl->x->on_adopted(sl->x, &a);
		}
		json_decref(rq);
		free(text);
		free(rq_path);
		free(res_path);
	}
	closedir(d);
}

/*
 * The jobs of runs of this state that were killed (their process is
 * gone): pending ones are cancelled (nothing of theirs ran), running
 * ones are waited for, since they publish their own targets; the
 * outcomes of those that left a result are reported (on_adopted), then
 * the run's directory goes.  Runs on other hosts are not judged from here.
 */
void
slurm_adopt_orphans(struct slurm *sl, const char *host)
{
	DIR *d = opendir(sl->c->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *dir, *ids;
		int said = 0, n;

		if (de->d_name[0] == '.' || !run_gone(de->d_name, host))
			continue;
		dir = xasprintf("%s/%s", sl->c->dir, de->d_name);
		ids = orphan_ids(dir);
		if (ids && count_active(ids, 1) > 0) {
			struct args a = { 0 };

			slurm_arg_add(&a, xstrdup("scancel"));
			slurm_arg_add(&a, xstrdup("--quiet"));
			slurm_arg_add(&a, xstrdup("--state=PENDING"));
			slurm_arg_add(&a, xstrdup(ids));
			slurm_run_tool(a.v, NULL, NULL);
			slurm_args_free(&a);
		}
		while (ids && (n = count_active(ids, 0)) > 0) {
			if (!said)
				fprintf(stderr, "dag-cli: waiting for %d Slurm "
					"job%s of an interrupted run (%s) to "
					"finish\n", n, n == 1 ? "" : "s",
					de->d_name);
			said = 1;
			sleep(1);
		}
		if (!ids || n == 0) {
			report_adopted(sl, dir);
			slurm_remove_dir(dir);
		}
		free(ids);
		free(dir);
	}
	closedir(d);
}
