/*
 * The DAG directory of `dag-cli scheduler`: each file loaded when it
 * changes, validated first; its last valid text kept as the snapshot that
 * runs read, so a broken edit is reported and the old definition goes on.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "daemon_priv.h"
#include "util.h"

static int
write_snapshot(const char *path, const char *text, size_t len, struct err *e)
{
	struct atomic_file af;
	int rc = atomic_open(&af, path, e);

	if (rc < 0)
		return rc;
	if ((rc = write_full(af.fd, text, len)) < 0) {
		atomic_abort(&af);
		return err_set(e, rc, "cannot write '%s': %s", path,
			strerror(-rc));
	}
	return atomic_commit(&af, e);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void
print_errs(struct errs *errs)
{
	errs_print(errs, stdout);
	fflush(stdout);
}

/*
 * (Re)load sd from its file: validated first; only a valid text replaces
 * the definition and the snapshot runs read.
 */
static void
load(struct daemon *d, struct sdag *sd)
{
	struct errs errs = { 0 };
	struct dag *dag = NULL;
	struct sdag *other;
	struct err e;
	size_t len = 0;
	char *text = read_path(sd->file, &len);
	char *snap;

	if (!text) {
		daemon_say(d, "%s: cannot read: %s", sd->file, strerror(errno));
		return;
	}
	if (dag_load_string(text, len, sd->file, &dag, &errs) < 0) {
		if (sd->dag)
			daemon_say(d, "%s: changed, but has errors; the definition "
				"loaded before keeps running:", sd->file);
		else
			daemon_say(d, "%s: has errors; not scheduled:", sd->file);
		print_errs(&errs);
		goto out;
	}
	other = daemon_find_dag(d, dag->name);
	if (other && other != sd) {
		daemon_say(d, "%s: dag '%s' is already defined in %s; not scheduled",
			sd->file, dag->name, other->file);
		dag_free(dag);
		goto out;
	}
	snap = xasprintf("%s/%s.yaml", d->snap_dir, dag->name);
	if (write_snapshot(snap, text, len, &e) < 0) {
		daemon_say(d, "%s: not scheduled: %s", sd->file, e.msg);
		free(snap);
		dag_free(dag);
		goto out;
	}
	daemon_say(d, "%s: %s dag '%s' (%s, %s, delay %llds, catchup %s)", sd->file,
		sd->dag ? "reloaded" : "loaded", dag->name,
		dag->schedule == SCHEDULE_HOURLY ? "hourly" : "daily",
		dag->timezone, (long long)(dag->delay_ms / 1000),
		daemon_catchup_name(dag->catchup));
	dag_free(sd->dag);
	free(sd->snapshot);
	sd->dag = dag;
	sd->snapshot = snap;
out:
	errs_release(&errs);
	free(text);
}

void
daemon_sdag_free(struct sdag *sd)
{
	if (!sd)
		return;
	dag_free(sd->dag);
	free(sd->file);
	free(sd->snapshot);
	free(sd);
}

static int
is_dag_file(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
		(n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Look at the directory: load new and changed files, forget removed ones. */
void
daemon_scan(struct daemon *d)
{
	DIR *dir = opendir(d->dags_dir);
	struct dirent *de;
	size_t i, k;

	if (!dir) {
		daemon_say(d, "cannot read the DAG directory '%s': %s", d->dags_dir,
			strerror(errno));
		return;
	}
	for (i = 0; i < d->dags.n; i++)
		d->dags.v[i]->present = 0;
	while ((de = readdir(dir))) {
		struct sdag *sd = NULL;
		struct stat st;
		char *path;

		if (!is_dag_file(de->d_name))
			continue;
		path = xasprintf("%s/%s", d->dags_dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		for (i = 0; i < d->dags.n; i++)
			if (!strcmp(d->dags.v[i]->file, path))
				sd = d->dags.v[i];
		if (!sd) {
			sd = xcalloc(1, sizeof(*sd));
			sd->file = path;
			sd->skip_said = INT64_MIN;
			VEC_PUSH(d->dags, sd);
		} else {
			free(path);
		}
		sd->present = 1;
		if (sd->seen.st_ino && same_file(&sd->seen, &st))
			continue;
		sd->seen = st;
		load(d, sd);
	}
	closedir(dir);
	for (i = k = 0; i < d->dags.n; i++) {
		struct sdag *sd = d->dags.v[i];

		if (sd->present) {
			d->dags.v[k++] = sd;
			continue;
		}
		daemon_say(d, "%s: removed; %s no longer scheduled", sd->file,
			sd->dag ? sd->dag->name : "it is");
		daemon_sdag_free(sd);
	}
	d->dags.n = k;
}
