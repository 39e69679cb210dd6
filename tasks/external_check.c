/*
 * external-check: an input produced outside the pipeline.  It writes
 * nothing; the scheduler calls probe() to decide whether the instance is
 * done (its files are there) or waiting, and re-probes on the poll timer
 * without holding a worker slot.
 *
 * A pattern is matched against the names in dir, in sorted order so the
 * "first" match and the order of all matches do not depend on the file
 * system.  Names starting with a dot are skipped: they are other writers'
 * temporary files (engine/atomic), never finished inputs.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "task_kind.h"

static const struct field_spec check_fields[] = {
	{ "pattern", FIELD_STRING, FIELD_REGEX,
		"PCRE2 regex matched against the file names in dir" },
	{ "dir", FIELD_STRING, FIELD_TEMPLATE,
		"directory searched with pattern" },
	{ "all", FIELD_BOOL, 0,
		"take every match (default: the first, in name order)" },
	{ "min_size", FIELD_SIZE, 0,
		"a file smaller than this many bytes does not count (10k, 5M)" },
	{ "poll", FIELD_DURATION, 0,
		"re-check this often until timeout instead of waiting for the next run" },
	{ NULL, 0, 0, NULL },
};

static pcre2_code *
compile(const char *src, int *ecode, PCRE2_SIZE *eoff)
{
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
		PCRE2_UTF, ecode, eoff, NULL);

	if (code)
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

static int
check_validate(const char *file, const struct node *task, struct errs *errs)
{
	const struct node *pat = node_get(task, "pattern");
	const struct node *dir = node_get(task, "dir");
	const struct node *ms = node_get(task, "min_size");
	int rc = 0;

	if (!pat && !node_get(task, "target")) {
		errs_addf(errs, -EINVAL, file, task->line, task->column,
			"external-check needs a 'target' path, or 'pattern' "
			"and 'dir'");
		rc = -EINVAL;
	}
	if (pat && !dir) {
		errs_addf(errs, -EINVAL, file, pat->line, pat->column,
			"'pattern' needs 'dir', the directory to search");
		rc = -EINVAL;
	}
	if (dir && !pat) {
		errs_addf(errs, -EINVAL, file, dir->line, dir->column,
			"'dir' needs 'pattern', the file names to look for");
		rc = -EINVAL;
	}
	if (pat && pat->type == NODE_SCALAR) {
		int ecode;
		PCRE2_SIZE eoff;
		pcre2_code *code = compile(pat->str, &ecode, &eoff);

		if (!code) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(ecode, msg, sizeof(msg));
			errs_addf(errs, -EINVAL, file, pat->line, pat->column +
				(int)eoff + (pat->quoted ? 1 : 0),
				"pattern '%s' does not compile: %s (at offset "
				"%zu)", pat->str, (char *)msg, (size_t)eoff);
			rc = -EINVAL;
		}
		pcre2_code_free(code);
	}
	if (ms && ms->type == NODE_SCALAR) {
		uint64_t v;

		if (size_parse(ms->str, &v) < 0) {
			errs_addf(errs, -EINVAL, file, ms->line, ms->column,
				"min_size '%s' is not a size (bytes, or with "
				"k, M or G)", ms->str);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* Is path a regular file of at least min bytes (a directory: _SUCCESS)? */
static int
present(const char *path, uint64_t min)
{
	struct stat st;
	size_t n = strlen(path);

	if (n && path[n - 1] == '/') {
		char *marker = xasprintf("%s_SUCCESS", path);
		int ok = stat(marker, &st) == 0;

		free(marker);
		return ok;
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size >= min;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
probe_dir(const char *dirpath, const char *pattern, int all, uint64_t min,
	struct node **inputs, struct err *e)
{
	struct { char **v; size_t n, cap; } names = { 0 };
	pcre2_match_data *md = NULL;
	pcre2_code *code;
	struct dirent *de;
	PCRE2_SIZE eoff;
	DIR *d;
	size_t i, found = 0;
	int ecode;

	code = compile(pattern, &ecode, &eoff);
	if (!code) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		return err_set(e, -EINVAL, "pattern '%s' does not compile: %s",
			pattern, (char *)msg);
	}
	d = opendir(dirpath);
	if (!d) {
		pcre2_code_free(code);
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, -errno, "cannot read directory '%s': %s",
			dirpath, strerror(errno));
	}
	md = pcre2_match_data_create_from_pattern(code, NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (pcre2_match(code, (PCRE2_SPTR)de->d_name,
		    PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) < 0)
			continue;
		VEC_PUSH(names, xstrdup(de->d_name));
	}
	closedir(d);
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	*inputs = node_new_seq();
	for (i = 0; i < names.n; i++) {
		char *path = xasprintf("%s%s%s", dirpath,
			dirpath[strlen(dirpath) - 1] == '/' ? "" : "/",
			names.v[i]);

		if ((all || found == 0) && present(path, min)) {
			node_seq_push(*inputs, node_new_scalar(path));
			found++;
		}
		free(path);
		free(names.v[i]);
	}
	free(names.v);
	if (!found) {
		node_free(*inputs);
		*inputs = NULL;
	}
	return found ? 1 : 0;
}

static int
check_probe(const struct task_run *run, struct node **inputs, struct err *e)
{
	const char *pattern = task_run_str(run, "pattern");
	const char *dir = task_run_str(run, "dir");
	const char *target = task_run_str(run, "target");
	const char *ms = task_run_str(run, "min_size");
	uint64_t min = 0;

	*inputs = NULL;
	if (ms && size_parse(ms, &min) < 0)
		return err_set(e, -EINVAL, "min_size '%s' is not a size", ms);
	if (pattern) {
		if (!dir || !*dir)
			return err_set(e, -EINVAL, "'pattern' needs 'dir'");
		return probe_dir(dir, pattern, task_run_bool(run, "all", 0),
			min, inputs, e);
	}
	if (!target)
		return err_set(e, -EINVAL, "external-check needs a 'target' "
			"or a 'pattern'");
	if (!present(target, min))
		return 0;
	*inputs = node_new_seq();
	node_seq_push(*inputs, node_new_scalar(target));
	return 1;
}

/*
 * Run in a worker (the scheduler normally probes instead): succeed when
 * the input is there, fail naming what is missing.
 */
static int
check_run(struct task_run *run, struct err *e)
{
	struct node *inputs = NULL;
	int rc = check_probe(run, &inputs, e);
	size_t i;

	if (rc < 0)
		return rc;
	if (rc == 0) {
		const char *what = task_run_str(run, "pattern");

		char *p = path_abs(what ? task_run_str(run, "dir") :
			task_run_str(run, "target"));

		if (what)
			err_set(e, -ENOENT, "no file in '%s' matches '%s'", p,
				what);
		else
			err_set(e, -ENOENT, "'%s' does not exist (or is smaller "
				"than min_size)", p);
		free(p);
		return -ENOENT;
	}
	for (i = 0; i < inputs->n; i++)
		fprintf(run->log, "external-check: found '%s'\n",
			inputs->items[i]->str);
	node_free(inputs);
	return 0;
}

const struct task_kind task_kind_external_check = {
	.name = "external-check",
	.summary = "wait for a file (or files matching a pattern) made elsewhere",
	.fields = check_fields,
	.validate = check_validate,
	.run = check_run,
	.probe = check_probe,
};
