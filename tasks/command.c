/*
 * command: a shell command.  The process pool runs it with /bin/sh -c, so
 * this file only declares the fields; {target} in run: expands to a
 * temporary path that the engine renames to the target after exit 0.
 */
#include "config.h"
#include "task_kind.h"

static const struct field_spec command_fields[] = {
	{ "run", FIELD_STRING, FIELD_REQUIRED | FIELD_TEMPLATE,
		"the shell command; {target} is a temporary path renamed on success" },
	{ NULL, 0, 0, NULL },
};

const struct task_kind task_kind_command = {
	.name = "command",
	.summary = "run a shell command that makes the target",
	.fields = command_fields,
	.command_field = "run",
};
