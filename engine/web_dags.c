/*
 * The DAG files the server shows: the directory scanned on each request,
 * a file loaded again when its size or mtime changes (its kept statuses
 * dropped first), and the read-only state database, opened on first use.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dag.h"
#include "web_priv.h"

struct state *
web_state(struct web_ctx *c)
{
	struct err e;

	if (c->st_open)
		return &c->st;
	err_clear(&e);
	if (state_open(&c->st, c->opt->state_path, 1, &e) < 0) {
		state_release(&c->st);
		return NULL;
	}
	c->st_open = 1;
	return &c->st;
}

static void
web_dag_release(struct web_ctx *c, struct web_dag *d)
{
	web_cache_forget(c, d->dag);
	free(d->path);
	free(d->name);
	dag_free(d->dag);
	free(d->error);
	free(d->svg);
}

static void
load(struct web_ctx *c, struct web_dag *d, const struct stat *st)
{
	struct errs errs = { 0 };

	web_cache_forget(c, d->dag);
	dag_free(d->dag);
	free(d->error);
	free(d->svg);
	d->dag = NULL;
	d->error = NULL;
	d->svg = NULL;
	d->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		st->st_mtim.tv_nsec;
	d->size = st->st_size;
	if (dag_load(d->path, &d->dag, &errs) < 0) {
		d->error = errs.n ? xasprintf("%s:%d:%d: %s", errs.v[0].file,
			errs.v[0].line, errs.v[0].column, errs.v[0].msg) :
			xstrdup("cannot load");
	}
	errs_release(&errs);
}

static int
cmp_dag(const void *a, const void *b)
{
	return strcmp(((const struct web_dag *)a)->name,
		((const struct web_dag *)b)->name);
}

void
web_dags_scan(struct web_ctx *c)
{
	const char *dir = c->opt->dags_dir;
	struct dirent *de;
	DIR *dp = opendir(dir);
	size_t i, k;

	for (i = 0; i < c->dags.n; i++)
		c->dags.v[i].seen = 0;
	while (dp && (de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *path;
		int64_t mt;

		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		for (i = 0; i < c->dags.n; i++)
			if (!strcmp(c->dags.v[i].path, path))
				break;
		if (i == c->dags.n) {
			struct web_dag d;

			memset(&d, 0, sizeof(d));
			d.path = path;
			d.name = xstrndup(de->d_name, len - 5);
			VEC_PUSH(c->dags, d);
			load(c, &c->dags.v[i], &st);
		} else {
			free(path);
			if (c->dags.v[i].mtime_ns != mt ||
			    c->dags.v[i].size != st.st_size)
				load(c, &c->dags.v[i], &st);
		}
		c->dags.v[i].seen = 1;
	}
	if (dp)
		closedir(dp);
	for (i = k = 0; i < c->dags.n; i++) {
		if (c->dags.v[i].seen)
			c->dags.v[k++] = c->dags.v[i];
		else
			web_dag_release(c, &c->dags.v[i]);
	}
	c->dags.n = k;
	if (k)
		qsort(c->dags.v, k, sizeof(*c->dags.v), cmp_dag);
}

struct web_dag *
web_dag_find(struct web_ctx *c, const char *name)
{
	size_t i;

	web_dags_scan(c);
	for (i = 0; i < c->dags.n; i++)
		if (!strcmp(c->dags.v[i].name, name) || (c->dags.v[i].dag &&
		    !strcmp(c->dags.v[i].dag->name, name)))
			return &c->dags.v[i];
	return NULL;
}

void
web_dags_release(struct web_ctx *c)
{
	size_t i;

	for (i = 0; i < c->dags.n; i++)
		web_dag_release(c, &c->dags.v[i]);
	free(c->dags.v);
	memset(&c->dags, 0, sizeof(c->dags));
}
