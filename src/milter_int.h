/*
 * milter_int.h - what cmd_milter.c (options, daemon, supervisor) and
 * milter_filter.c (the libmilter callbacks) share.
 */
#ifndef SPAMTRACE_MILTER_INT_H
#define SPAMTRACE_MILTER_INT_H

#include <stdbool.h>

#include "spamtrace/config.h"

/* Load the configuration the way every command does (/etc/spamtrace.conf,
 * ~/.config/spamtrace/config, then path when not NULL) into a fresh c.
 * On failure errbuf gets one line and c is freed. */
bool	milter_config_load(struct st_config *c, const char *path,
	    char *errbuf, size_t size);

#ifdef ST_HAVE_MILTER
/* Set up the filter (before smfi_main): the explicit config path (kept
 * for reloads), the first configuration (taken over), whether log lines
 * also go to standard error. */
void	milter_filter_setup(const char *config_path, struct st_config *cfg);
/* The libmilter description of the filter. */
struct smfiDesc *milter_filter_desc(void);
/* Ask for a reload before the next connection (async-signal-safe). */
void	milter_filter_request_reload(void);
/* Reload now (the supervisor); a failure is logged, the old one kept. */
void	milter_filter_reload(void);
#endif

#endif
