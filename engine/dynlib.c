/*
 * dlopen into typed tables; see dynlib.h.
 */
#include "config.h"
#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "util.h"

int
dynlib_open(void **dl, const char *file, const char *what,
	const struct dynlib_sym *syms, size_t n, void *table, struct err *e)
{
	size_t i;

	/* Lazy: the dependencies' functions are bound when first called. */
	*dl = dlopen(file, RTLD_LAZY | RTLD_LOCAL);
	if (!*dl)
		return err_set(e, -ENOENT, "cannot load %s: %s", what,
			dlerror());
	for (i = 0; i < n; i++) {
		void *f = dlsym(*dl, syms[i].name);

		if (!f) {
			err_set(e, -ENOENT, "cannot load %s: no %s in %s", what,
				syms[i].name, file);
			dlclose(*dl);
			*dl = NULL;
			return -ENOENT;
		}
		memcpy((char *)table + syms[i].off, &f, sizeof(f));
	}
	return 0;
}
