/*
 * Publication of a command's target: the command wrote its output under
 * a temporary name ({target}) beside the target; once it exited 0 the
 * temporary is moved into place.  A library function, so whichever side
 * runs the command calls it: the local executor in the scheduler's
 * process, "dag-cli __run-instance" in a batch job or a worker.
 */
#ifndef DAG_PUBLISH_H
#define DAG_PUBLISH_H

#include "util.h"

/*
 * Make what a command writes into exist before it starts: the temporary
 * directory of a directory target (a file's temporary is the command's
 * to create).  0 or -errno with e filled.
 */
int publish_prepare(const char *tmp, int is_dir, struct err *e);
/*
 * Move tmp onto target.  A directory gets _SUCCESS first and an
 * incomplete directory at target gives way; with do_fsync the file (or
 * marker) and the directory are flushed.  A command that names {target}
 * but left it unwritten fails, even when an old target exists.  0, or
 * negative errno with e filled (tmp is then still there: see
 * publish_discard).
 */
int publish_target(const char *target, const char *tmp, int is_dir,
	int do_fsync, struct err *e);
/* Remove a temporary output (file or tree); NULL and absent are fine. */
void publish_discard(const char *tmp);

#endif
