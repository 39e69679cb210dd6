/*
 * t/helper: exposes internals to the shell tests.  Each area adds its
 * subcommands in its own t/helper-AREA.c and one line in the table below.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "util.h"

/* yaml FILE: parse with the node parser, print JSON or the errors. */
static int
helper_yaml(int argc, char **argv)
{
	struct errs errs = { 0 };
	struct node *root;
	char *json;

	if (argc < 2) {
		fprintf(stderr, "usage: helper yaml FILE\n");
		return 2;
	}
	if (node_parse_file(argv[1], &root, &errs) < 0) {
		errs_print(&errs, stdout);
		errs_release(&errs);
		return 1;
	}
	json = node_to_json(root);
	printf("%s\n", json);
	free(json);
	node_free(root);
	return 0;
}

/*
 * json FILE...: read each file with node_from_json (the reader of the
 * worker's requests and results) and print one line per file: its name
 * and "accept" with node_to_json's text of the tree, or "reject" with
 * the error.  A file with a NUL byte in it is read up to the NUL, as the
 * socket's lines are.
 */
static int
helper_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		struct strbuf sb;
		struct node *n = NULL;
		struct err e;
		char buf[4096];
		size_t got;

		if (!f) {
			perror(argv[i]);
			return 2;
		}
		sb_init(&sb);
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			sb_add(&sb, buf, got);
		fclose(f);
		err_clear(&e);
		if (node_from_json(sb.buf ? sb.buf : "", &n, &e) == 0) {
			char *text = node_to_json(n);

			printf("%s accept %s\n", argv[i], text);
			free(text);
			node_free(n);
		} else {
			printf("%s reject %s\n", argv[i], e.msg);
		}
		sb_release(&sb);
	}
	return 0;
}

int helper_run_kind(int argc, char **argv);
int helper_probe_kind(int argc, char **argv);
int helper_sha256(int argc, char **argv);
int helper_loader(int argc, char **argv);
int helper_warehouse(int argc, char **argv);

struct helper_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct helper_cmd helper_cmds[] = {
	{ "yaml", helper_yaml },
	{ "json", helper_json },
	{ "run-kind", helper_run_kind },
	{ "probe-kind", helper_probe_kind },
	{ "sha256", helper_sha256 },
	{ "dag", helper_loader },
	{ "table-target", helper_warehouse },
	{ "bykey-name", helper_warehouse },
	{ "bykey-bucket", helper_warehouse },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	const struct helper_cmd *c;

	if (argc < 2) {
		fprintf(stderr, "usage: helper COMMAND ARGS\n");
		return 2;
	}
	for (c = helper_cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "helper: unknown command '%s'\n", argv[1]);
	return 2;
}
