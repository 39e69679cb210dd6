/*
 * The scheduler daemon's own parts (`dag-cli scheduler`), shared by
 * cmd_scheduler.c (deciding, runs, the loop), daemon_dags.c (the DAG
 * directory and its snapshots) and daemon_adopt.c (the runs of a
 * scheduler that was killed).
 */
#ifndef DAG_DAEMON_PRIV_H
#define DAG_DAEMON_PRIV_H

#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <uv.h>

#include "dag.h"
#include "state.h"

/* The longest the timer sleeps: a wall clock that jumps is seen this late. */
#define MAX_SLEEP_MS 60000
/* How often an adopted run (a child of a previous scheduler) is looked at. */
#define ADOPT_POLL_MS 200

/* One DAG file of the directory. */
struct sdag {
	char *file;		/* DIR/NAME.yaml */
	char *snapshot;		/* its last valid text, which runs read */
	struct dag *dag;	/* the last valid definition, or NULL */
	struct stat seen;	/* the file when last read, valid or not */
	int64_t skip_said;	/* due (ms) of the newest missed partition
				   reported as not started */
	int busy;		/* a run of it is in flight */
	int present;		/* found by the current scan */
};

/* A run in flight: our child, or one adopted from a previous scheduler. */
struct srun {
	uv_process_t proc;	/* a child */
	uv_timer_t poll;	/* adopted: looks whether pid is gone */
	int adopted;
	struct daemon *d;
	char *dag;
	char *partition;
	long pid;
	int64_t started;	/* ms */
	int64_t due;
	int tries;
	struct srun *next;
};

struct daemon {
	uv_loop_t loop;
	uv_timer_t tick;
	uv_timer_t rescan;
	uv_fs_event_t watch;
	uv_signal_t sigterm, sigint, sighup;
	int watching;		/* watch started; else rescan repeats */
	struct state st;
	const char *dags_dir;
	const char *jobs;
	char *snap_dir;
	char exe[PATH_MAX];
	int fake_clock;		/* DAG_NOW set: children get our now */
	int64_t offset_ms;	/* now = wall clock + offset */
	int64_t started_ms;	/* now when we started: earlier due is missed */
	struct { struct sdag **v; size_t n, cap; } dags;
	struct srun *runs;
	int draining;		/* SIGTERM: start nothing, wait for runs */
	int stopping;		/* a second one: runs were told to stop */
	int closing;
	int lock_fd;
};

/* cmd_scheduler.c */
int64_t daemon_now_ms(const struct daemon *d);
void daemon_say(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
sqlite3_stmt *daemon_prep(struct daemon *d, const char *sql);
int daemon_set_state(struct daemon *d, const char *dag,
	const char *partition, const char *state, int64_t next_try, int exit_code);
struct sdag *daemon_find_dag(struct daemon *d, const char *name);
void daemon_run_ended(struct daemon *d, struct srun *r, int status, int signal);
const char *daemon_catchup_name(enum catchup c);

/* daemon_adopt.c: runs a killed scheduler left, resumed or adopted. */
void daemon_recover(struct daemon *d);

/* daemon_dags.c: the DAG files, loaded when they change. */
void daemon_scan(struct daemon *d);
void daemon_sdag_free(struct sdag *sd);

#endif
