/*
 * dag-cli kinds: the task kinds and their fields, from the same tables the
 * loader checks against, so this listing cannot drift from the code.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "task_kind.h"

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FIELD_STRING: return "string";
	case FIELD_INT: return "integer";
	case FIELD_NUMBER: return "number";
	case FIELD_BOOL: return "boolean";
	case FIELD_DURATION: return "duration";
	case FIELD_SIZE: return "size";
	case FIELD_LIST: return "list";
	case FIELD_MAP: return "map";
	case FIELD_ANY: return "any";
	}
	return "?";
}

static void
print_kind(const struct task_kind *k)
{
	const struct field_spec *f;

	printf("%s: %s\n", k->name, k->summary);
	for (f = k->fields; f->name; f++)
		printf("  %-18s %-9s%s%s  %s\n", f->name, type_name(f->type),
			f->flags & FIELD_REQUIRED ? " required" : "",
			f->flags & (FIELD_TEMPLATE | FIELD_REGEX) ? " {template}" : "",
			f->help);
}

int
cmd_kinds(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		cli_usage("kinds", stdout);
		return EXIT_OK;
	}
	for (i = 0; task_kinds[i]; i++) {
		if (argc > 1 && strcmp(argv[1], task_kinds[i]->name))
			continue;
		print_kind(task_kinds[i]);
		if (argc > 1)
			return EXIT_OK;
		printf("\n");
	}
	if (argc > 1) {
		fprintf(stderr, "dag-cli: unknown task kind '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
