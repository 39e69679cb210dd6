/*
 * Atomic publication of outputs: everything is written under a temporary
 * name in the target's own directory (so rename never crosses a file
 * system), flushed, then renamed.  A reader therefore sees either nothing
 * or the whole target, and a killed writer leaves only a temporary name
 * that never looks complete (".NAME.tmp-PID-XXXXXX").
 */
#ifndef DAG_ATOMIC_H
#define DAG_ATOMIC_H

#include <stdint.h>
#include "util.h"

struct atomic_file {
	int fd;		/* open for writing; -1 once committed or aborted */
	char *path;	/* the final path */
	char *tmp;	/* the temporary path beside it */
};

/*
 * Create a temporary file beside path (making missing directories).  Fills
 * af; returns 0 or -errno with e filled.
 */
int atomic_open(struct atomic_file *af, const char *path, struct err *e);
/*
 * fsync, close, rename onto the final path and fsync the directory.
 * Releases af either way; on failure the temporary file is removed.
 */
int atomic_commit(struct atomic_file *af, struct err *e);
/*
 * The same without either fsync: atomic against a crashed writer, not a
 * power cut.  For reports (rejects files; docs/DESIGN.md says why).
 */
int atomic_commit_nosync(struct atomic_file *af, struct err *e);
/*
 * atomic_commit for a file its writer has already fsynced and not written
 * since: close, rename and fsync the directory, as durable as
 * atomic_commit without flushing the file a second time.
 */
int atomic_commit_flushed(struct atomic_file *af, struct err *e);
/* Close and remove the temporary file; releases af (accepts a released af). */
void atomic_abort(struct atomic_file *af);

/*
 * The name a temporary sibling of path gets: ".BASE.tmp-PID-XXXXXX" in
 * path's directory, the X's made unique by the caller (mkstemp).  PID is
 * the owner set with atomic_tmp_owner_set, else the writer's own.  Caller
 * frees.
 */
char *atomic_tmp_name(const char *path);
/*
 * Name temporaries after pid from now on, in this process and the
 * children it forks: a scheduler gives its own, so the temporaries its
 * forked children leave when killed are found by the run that takes its
 * leases over (atomic_remove_stale).  0: each process its own pid.
 */
void atomic_tmp_owner_set(long pid);

/*
 * A directory target: files are written into a temporary directory beside
 * path; commit writes _SUCCESS inside it, fsyncs and puts it in place of
 * any earlier path (atomic_dir_replace).
 */
struct atomic_dir {
	char *path;	/* final directory, without trailing slash */
	char *tmp;	/* temporary directory; files go here */
};

int atomic_dir_open(struct atomic_dir *ad, const char *path, struct err *e);
int atomic_dir_commit(struct atomic_dir *ad, struct err *e);
/* Remove the temporary directory and everything in it. */
void atomic_dir_abort(struct atomic_dir *ad);

/*
 * The temporary name of a target written by someone else (a command's
 * {target}): atomic_tmp_name of target without its trailing slashes,
 * the X's replaced by seq in hex, so a caller that numbers its
 * temporaries needs no mkstemp.  Caller frees.
 */
char *atomic_tmp_path(const char *target, uint64_t seq);
/*
 * Remove the temporary names a dead writer with process id pid left
 * beside target: ".BASE.tmp-PID-*" and its side files'
 * ".BASE.SUFFIX.tmp-PID-*" (a killed scheduler's or worker's).
 */
void atomic_remove_stale(const char *target, long pid);
/*
 * Remove target's own temporaries of pid (".BASE.tmp-PID-*" only: a side
 * file's name may be another running target's temporary).
 */
void atomic_remove_tmp(const char *target, long pid);
/*
 * Write the empty _SUCCESS marker into directory dir (fsynced when
 * do_fsync).  0 or -errno with e filled.
 */
int atomic_mark_success(const char *dir, int do_fsync, struct err *e);
/*
 * Put the complete directory tmp at path.  An earlier directory there (an
 * incomplete one, or a complete one that --force or a by-key rerun
 * replaces) is moved away whole, never emptied in place, so a reader of
 * path sees the old directory or the new one: exchanged in one rename
 * where the file system can, else moved aside to a temporary name first
 * (path is then missing for a moment).  The old one is removed after.
 * 0, or -errno with e filled (tmp is then still there).
 */
int atomic_dir_replace(const char *tmp, const char *path, struct err *e);

/* Remove a directory tree (like rm -rf); 0 or -errno. */
int remove_tree(const char *path);

#endif
