/*
 * The size cap of an attempt's log.  A child writes its log itself (its
 * standard output and error are the file, opened O_APPEND), so nothing
 * stands between a command printing a gigabyte and the disk.  The cap is
 * kept from the outside instead: the log is cut back to its first max
 * bytes every time it is looked at while the attempt runs, and once more
 * when it ends, which then says how much was dropped.  Between two looks
 * it may hold what the command printed meanwhile.
 */
#ifndef DAG_LOGCAP_H
#define DAG_LOGCAP_H

#include <stdint.h>

/* The cap when DAG_LOG_MAX does not say (bytes). */
#define LOG_MAX_DEFAULT (64LL << 20)
/* How often the logs of running attempts are looked at (ms). */
#define LOG_CAP_EVERY_MS 250

struct log_cap {
	int fd;			/* the log, open (our own descriptor), or -1 */
	int64_t max;		/* bytes kept; 0: no cap */
	int64_t cut;		/* bytes dropped so far */
};

/*
 * The cap from DAG_LOG_MAX: bytes, or with a K, M or G suffix (1024
 * based); 0 means none.  Unset or unreadable: LOG_MAX_DEFAULT.
 */
int64_t log_cap_max(void);
/* Watch log_fd (duplicated; the caller keeps its own) with cap max. */
void log_cap_init(struct log_cap *c, int log_fd, int64_t max);
/* Cut the log back to max bytes if it grew past it. */
void log_cap_check(struct log_cap *c);
/*
 * The attempt ended: cut once more, append a line saying what was
 * dropped (when anything was), close the descriptor.
 */
void log_cap_finish(struct log_cap *c);

#endif
