/*
 * cli.h - what the subcommands of the spamtrace program share: the
 * growable output buffer, the JSON writer, colours, and the per-command
 * entry points.  The library never prints; everything here is the CLI's.
 */
#ifndef SPAMTRACE_CLI_H
#define SPAMTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spamtrace/spamtrace.h"

/* --- a growable byte buffer (output is built per record, then written) */
struct sbuf {
	char   *p;
	size_t	len, cap;
};
void	sbuf_reserve(struct sbuf *b, size_t n);	/* room for n more */
void	sbuf_put(struct sbuf *b, const char *s, size_t n);
void	sbuf_puts(struct sbuf *b, const char *s);
void	sbuf_putc(struct sbuf *b, char c);
void	sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void	sbuf_reset(struct sbuf *b);
void	sbuf_free(struct sbuf *b);
void	sbuf_write(struct sbuf *b, FILE *f);	/* write and reset */

/* --- JSON writer: no allocation per field; commas handled by depth ---- */
struct jw {
	struct sbuf *b;
	int	depth;
	bool	need_comma[64];
};
void	jw_init(struct jw *w, struct sbuf *b);
void	jw_obj(struct jw *w);		/* { */
void	jw_end_obj(struct jw *w);	/* } */
void	jw_arr(struct jw *w);		/* [ */
void	jw_end_arr(struct jw *w);	/* ] */
void	jw_key(struct jw *w, const char *k);
void	jw_str(struct jw *w, const char *s);	/* NULL -> null */
void	jw_strn(struct jw *w, const char *s, size_t n);
void	jw_int(struct jw *w, long long v);
void	jw_bool(struct jw *w, bool v);
void	jw_null(struct jw *w);
void	jw_raw(struct jw *w, const char *json);	/* pre-made value */
/* key + value shorthands */
void	jw_kstr(struct jw *w, const char *k, const char *s);
void	jw_kint(struct jw *w, const char *k, long long v);
void	jw_kbool(struct jw *w, const char *k, bool v);
void	jw_knull(struct jw *w, const char *k);
/* The ISO date of utc, or null when !has. */
void	jw_kdate(struct jw *w, const char *k, bool has, int64_t utc);

/* --- colours (terminal only; NO_COLOR and --color=never respected) ---- */
extern bool cli_color;
#define C_RESET		(cli_color ? "\033[0m" : "")
#define C_BOLD		(cli_color ? "\033[1m" : "")
#define C_DIM		(cli_color ? "\033[2m" : "")
#define C_RED		(cli_color ? "\033[31m" : "")
#define C_GREEN		(cli_color ? "\033[32m" : "")
#define C_YELLOW	(cli_color ? "\033[33m" : "")
#define C_BLUE		(cli_color ? "\033[34m" : "")
#define C_CYAN		(cli_color ? "\033[36m" : "")
/* Decide colour from --color=auto|always|never, NO_COLOR and isatty. */
void	cli_color_setup(const char *mode);

/* --- diagnostics: one line to standard error, prefixed "spamtrace: " -- */
void	cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- progress on a terminal (messages, MB, rate); silent otherwise ---- */
struct progress {
	bool	on;
	double	start, last;
	uint64_t msgs, bytes;
};
void	progress_init(struct progress *p);
void	progress_update(struct progress *p, uint64_t msgs, uint64_t bytes);
void	progress_done(struct progress *p);

/* --- common option handling ------------------------------------------ */
/* Load /etc/spamtrace.conf, ~/.config/spamtrace/config (if present) then
 * the --config file (must exist).  Returns 0 or an exit status. */
int	cli_load_config(struct st_config *cfg, const char *explicit_path);

/* --- the trace as JSON / text (shared by trace, bounces, report) ------ */
void	out_trace_json(struct jw *w, const struct st_trace *t);
void	out_trace_text(struct sbuf *b, const struct st_trace *t,
	    const char *label);

/* --- subcommands ------------------------------------------------------- */
int	cmd_trace(int argc, char **argv);
int	cmd_bounces(int argc, char **argv);
int	cmd_probe(int argc, char **argv);
int	cmd_report(int argc, char **argv);
int	cmd_cases(int argc, char **argv);
int	cmd_milter(int argc, char **argv);

/* Exit statuses (CONTRACT.md). */
#define EXIT_OK		0
#define EXIT_PARTIAL	1
#define EXIT_USAGE	2
#define EXIT_NOINPUT	3

#endif
