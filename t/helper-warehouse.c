/*
 * Test-helper commands of the warehouse area:
 *
 *   helper table-target DB TABLE PARTITION   prints 1 or 0 (target_table_exists)
 *   helper bykey-name VALUE...               prints each value's by-key file name
 *   helper bykey-bucket N VALUE...           prints each value's bucket among N
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tasks/by_key.h"
#include "target.h"
#include "util.h"

int helper_warehouse(int argc, char **argv);

static int
table_target(int argc, char **argv)
{
	struct err e;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: helper table-target DB TABLE PARTITION\n");
		return 2;
	}
	err_clear(&e);
	rc = target_table_exists(NULL, argv[2], argv[3], argv[4], &e);
	if (rc < 0) {
		printf("error: ");
		err_print(&e, stdout);
		return 1;
	}
	printf("%d\n", rc);
	return 0;
}

static int
bykey_name(int argc, char **argv)
{
	struct strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 2; i < argc; i++) {
		sb_reset(&sb);
		bykey_file_name(&sb, argv[i], strlen(argv[i]));
		printf("%s\n", sb.buf);
	}
	sb_release(&sb);
	return 0;
}

static int
bykey_bucket_cmd(int argc, char **argv)
{
	size_t n;
	int i;

	if (argc < 3)
		return 2;
	n = (size_t)strtoul(argv[2], NULL, 10);
	for (i = 3; i < argc; i++)
		printf("%zu\n", bykey_bucket(argv[i], strlen(argv[i]), n));
	return 0;
}

/* Dispatch on argv[0] (the command name as the table in t/helper.c gives it). */
int
helper_warehouse(int argc, char **argv)
{
	argc++, argv--;
	if (!strcmp(argv[1], "table-target"))
		return table_target(argc, argv);
	if (!strcmp(argv[1], "bykey-name"))
		return bykey_name(argc, argv);
	if (!strcmp(argv[1], "bykey-bucket"))
		return bykey_bucket_cmd(argc, argv);
	return 2;
}
