/*
 * date.h - RFC 5322 date-time parsing, with the obsolete forms of real mail.
 *
 * Accepts the day-of-week and its absence, two- and four-digit years,
 * missing seconds, numeric zones and the obsolete names (UT, GMT, EST ...,
 * military letters), trailing "(JST)" comments, ctime() style dates
 * ("Sun Nov 13 14:50:12 2005") and stray commas and dots.
 */
#ifndef SPAMTRACE_DATE_H
#define SPAMTRACE_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct st_date {
	int64_t	utc;		/* seconds since the epoch, UTC */
	int	tz_min;		/* offset east of UTC in minutes */
	bool	tz_known;	/* false: no zone, or "-0000" (RFC 5322 3.3) */
	bool	tz_minus_zero;	/* the zone was written "-0000" */
	char	tz[8];		/* "+0900", "-0000" or "" */
};

/* Parse p[0..len); true on success. */
bool	st_date_parse(const char *p, size_t len, struct st_date *d);
/* Format UTC seconds as "2006-03-11T12:51:40Z" into buf (>= 21 bytes). */
void	st_date_iso(int64_t utc, char *buf, size_t size);

#endif
