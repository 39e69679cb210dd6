/*
 * The table of task kinds.  Adding a kind means one file in tasks/ and one
 * line here.
 */
#include "config.h"
#include "task_kind.h"

#include <stdlib.h>
#include <string.h>

extern const struct task_kind task_kind_command;
extern const struct task_kind task_kind_external_check;
extern const struct task_kind task_kind_archive;
extern const struct task_kind task_kind_clean;
extern const struct task_kind task_kind_by_key;
extern const struct task_kind task_kind_dimension_load;
extern const struct task_kind task_kind_fact_load;
extern const struct task_kind task_kind_sql;

const struct task_kind *const task_kinds[] = {
	&task_kind_command,
	&task_kind_external_check,
	&task_kind_archive,
	&task_kind_clean,
	&task_kind_by_key,
	&task_kind_dimension_load,
	&task_kind_fact_load,
	&task_kind_sql,
	NULL,
};

const struct task_kind *
task_kind_find(const char *name)
{
	size_t i;

	for (i = 0; task_kinds[i]; i++)
		if (!strcmp(task_kinds[i]->name, name))
			return task_kinds[i];
	return NULL;
}

const char *
task_run_str(const struct task_run *run, const char *field)
{
	return node_get_str(run->fields, field);
}

int64_t
task_run_int(const struct task_run *run, const char *field, int64_t fallback)
{
	const char *s = task_run_str(run, field);
	char *end;
	long long v;

	if (!s || !*s)
		return fallback;
	v = strtoll(s, &end, 10);
	return *end ? fallback : v;
}

int
task_run_bool(const struct task_run *run, const char *field, int fallback)
{
	const char *s = task_run_str(run, field);

	if (!s)
		return fallback;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
		return 0;
	return fallback;
}
