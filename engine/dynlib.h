/*
 * Libraries loaded with dlopen into a table of typed function pointers,
 * for the ones only a few commands need (libgit2, libmicrohttpd,
 * graphviz): linked, their dependencies would cost every exec of dag-cli
 * the dynamic loader's work for them.  A table is a struct whose first
 * member is the handle (void *dl) and whose others are pointers typed
 * from the library's own header (__typeof__), filled from a list of
 * symbol names and member offsets.
 */
#ifndef DAG_DYNLIB_H
#define DAG_DYNLIB_H

#include <stddef.h>

struct err;

struct dynlib_sym {
	const char *name;	/* the symbol dlsym looks up */
	size_t off;		/* the member of the table it goes to */
};

/* One entry: member m of table type T holds symbol f. */
#define DYNLIB_SYM(T, m, f) { #f, offsetof(T, m) }

/*
 * Load the library file (a SONAME or an absolute path) and fill table
 * with its symbols; *dl gets the handle.  0, or -ENOENT with e saying
 * "cannot load WHAT: ..." when the file or a symbol is missing (nothing
 * stays loaded then).
 */
int dynlib_open(void **dl, const char *file, const char *what,
	const struct dynlib_sym *syms, size_t n, void *table, struct err *e);

#endif
