/*
 * The clock commands read: "now" in unix seconds.
 */
#ifndef DAG_CLOCK_H
#define DAG_CLOCK_H

#include <stdint.h>

/*
 * $DAG_NOW (unix seconds, or an ISO date-time such as 2026-11-01T12:00:00Z
 * or +01:00; UTC when no offset) so tests can pin the clock, else the
 * system clock.  A DAG_NOW that does not parse is reported on stderr and
 * the system clock is used.
 */
int64_t cli_now(void);

#endif
