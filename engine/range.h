/*
 * Calendar arithmetic and time zones, for the loader (engine/dag.c,
 * engine/range.c) and the commands that print or compare partition times
 * (engine/cmd_define.c, engine/cmd_backfill.c); not part of dag.h.  A struct zone answers
 * "what is the UTC offset at t" from the system tz database; everything
 * else is integer arithmetic on civil days, so no code path depends on the
 * process's TZ.
 */
#ifndef DAG_RANGE_H
#define DAG_RANGE_H

#include <stdint.h>
#include <time.h>
#include "util.h"

struct zone;

/*
 * Open the IANA zone name ("UTC", "Europe/Berlin").  -EINVAL with e filled
 * when the system tz database has no such zone.  The caller frees *out.
 */
int zone_open(const char *name, struct zone **out, struct err *e);
void zone_free(struct zone *z);
/* Offset east of UTC in seconds at unix time t. */
int zone_offset(struct zone *z, int64_t t);
/*
 * The offset at t, and the span [*from, *to) around t over which it holds
 * (the span may end where the offset stays the same).
 */
int zone_span(struct zone *z, int64_t t, int64_t *from, int64_t *to);
/* The zone's abbreviation at t ("CET", "EDT"); borrowed. */
const char *zone_abbr(struct zone *z, int64_t t);
/*
 * The unix time of local civil time local (seconds since 1970-01-01T00:00
 * local).  A repeated local time gives the first instant; a skipped one
 * gives the instant the clocks jumped (the first existing local time after
 * it).
 */
int64_t zone_to_utc(struct zone *z, int64_t local);
/* Fill tm with the local civil time of t (tm_gmtoff and tm_zone too). */
void zone_tm(struct zone *z, int64_t t, struct tm *tm);
/*
 * Calendar arithmetic: fill tm with t's local civil time moved by days
 * (that civil time need not exist: 2011-12-30 in Pacific/Apia); tm_gmtoff
 * and tm_zone are those of the instant returned, the first at or after it.
 */
int64_t zone_tm_days(struct zone *z, int64_t t, int64_t days, struct tm *tm);

/* Days since 1970-01-01 of a proleptic Gregorian date; and back. */
int64_t civil_days(int64_t y, int m, int d);
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int civil_month_days(int64_t y, int m);

/* ISO 8601 with the zone's offset: 2026-11-01T00:00:00-04:00. */
void zone_iso(struct zone *z, int64_t t, char *buf, size_t n);

#endif
