/*
 * The files of web/, compiled into the binary by scripts/embed-web
 * (engine/web_files.c in the build directory).
 */
#ifndef DAG_WEB_STATIC_H
#define DAG_WEB_STATIC_H

#include <stddef.h>

struct web_file {
	const char *name;		/* "index.html" */
	const char *type;		/* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Ends with a zeroed entry. */
extern const struct web_file web_files[];

#endif
