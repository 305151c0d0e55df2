/*
 * cli.h - what the subcommands of the spamtrace program share: writing
 * output buffers, the JSON writer, colours, option handling, and the
 * per-command entry points.  The library never prints; everything here is
 * the CLI's.
 */
#ifndef SPAMTRACE_CLI_H
#define SPAMTRACE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "spamtrace/buf.h"
#include "spamtrace/spamtrace.h"

/* --- output: built per record in a struct st_buf (spamtrace/buf.h), then
 * written.  The buffers have no ceiling; a buffer that ran out of memory
 * is marked failed, and these end the program (status 70, "out of
 * memory") instead of writing a record with a piece missing. */
void	cli_buf_check(const struct st_buf *b);	/* exits if b failed */
void	cli_buf_write(struct st_buf *b, FILE *f);	/* check, write, reset */

/*
 * Records on their way to a file that is not a terminal, written with one
 * writev(2) per CLI_OUTQ_BYTES: each record's buffer is taken as it is
 * (the caller gets an empty one back), not copied into stdio's buffer.  On
 * a terminal, cli_buf_write() as before.
 */
#define CLI_OUTQ_MAX	128		/* records per writev */
#define CLI_OUTQ_BYTES	(256u * 1024)
struct cli_outq {
	FILE   *f;
	bool	direct;			/* not a terminal: writev */
	size_t	n, bytes, nspare;
	struct st_buf held[CLI_OUTQ_MAX];	/* waiting, in order */
	struct st_buf spare[CLI_OUTQ_MAX];	/* written, empty */
};
void	cli_outq_init(struct cli_outq *q, FILE *f);
/* Checks b, queues its bytes, leaves b empty (a buffer of the queue). */
void	cli_outq_put(struct cli_outq *q, struct st_buf *b);
void	cli_outq_flush(struct cli_outq *q);
void	cli_outq_free(struct cli_outq *q);	/* flushes first */

/* --- JSON writer: no allocation per field; commas handled by depth ---- */
struct jw {
	struct st_buf *b;
	int	depth;
	bool	need_comma[64];
};
void	jw_init(struct jw *w, struct st_buf *b);
void	jw_obj(struct jw *w);		/* { */
void	jw_end_obj(struct jw *w);	/* } */
void	jw_arr(struct jw *w);		/* [ */
void	jw_end_arr(struct jw *w);	/* ] */
void	jw_str(struct jw *w, const char *s);	/* NULL -> null */
void	jw_strn(struct jw *w, const char *s, size_t n);
void	jw_int(struct jw *w, long long v);
void	jw_bool(struct jw *w, bool v);
void	jw_null(struct jw *w);
void	jw_raw(struct jw *w, const char *json);	/* pre-made value */
/*
 * A key, and the key + value shorthands.  They are macros over the _n
 * functions, which take the key's length: for the usual literal key the
 * compiler counts it, so no field pays a strlen for its name.  A key
 * expression is evaluated twice.  jw_kstr's s may be NULL (-> null).
 */
void	jw_key_n(struct jw *w, const char *k, size_t kn);
void	jw_kobj_n(struct jw *w, const char *k, size_t kn);	/* "k":{ */
void	jw_karr_n(struct jw *w, const char *k, size_t kn);	/* "k":[ */
void	jw_kstr_n(struct jw *w, const char *k, size_t kn, const char *s);
void	jw_kint_n(struct jw *w, const char *k, size_t kn, long long v);
void	jw_kbool_n(struct jw *w, const char *k, size_t kn, bool v);
void	jw_knull_n(struct jw *w, const char *k, size_t kn);
/* The ISO date of utc, or null when !has. */
void	jw_kdate_n(struct jw *w, const char *k, size_t kn, bool has,
	    int64_t utc);
#define jw_key(w, k)		jw_key_n((w), (k), strlen(k))
#define jw_kobj(w, k)		jw_kobj_n((w), (k), strlen(k))
#define jw_karr(w, k)		jw_karr_n((w), (k), strlen(k))
#define jw_kstr(w, k, s)	jw_kstr_n((w), (k), strlen(k), (s))
#define jw_kint(w, k, v)	jw_kint_n((w), (k), strlen(k), (v))
#define jw_kbool(w, k, v)	jw_kbool_n((w), (k), strlen(k), (v))
#define jw_knull(w, k)		jw_knull_n((w), (k), strlen(k))
#define jw_kdate(w, k, has, utc) \
	jw_kdate_n((w), (k), strlen(k), (has), (utc))

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

/* Standard output in big writes (256 KiB) when it is not a terminal. */
void	cli_stdout_buffer(void);

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

/*
 * The options trace, bounces and report share, by their getopt letters:
 * --me (m), --trust (t), --dnsbl (B), --resolver (R), --config (c),
 * --color (C), -j (j); and -h (h) and unknown options, answered with the
 * command's usage.  A command lists those it has in its long options and
 * hands every option its own switch does not take to cli_opts_take.
 */
struct cli_opts {
	struct st_config cl;		/* --me, --trust, --dnsbl, --resolver */
	const char *config_path;	/* --config */
	const char *color;		/* --color: auto, always, never */
	int	jobs;			/* -j; one per core by default */
	void	(*usage)(FILE *);
};
#define CLI_GO_ON	(-1)		/* the option was fine: go on */
/* The end of such a command's long options (<getopt.h>): those they all
 * have. */
#define CLI_OPTS_LONG_END \
	{ "config", required_argument, NULL, 'c' }, \
	{ "color", optional_argument, NULL, 'C' }, \
	{ "colour", optional_argument, NULL, 'C' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }
void	cli_opts_init(struct cli_opts *co, void (*usage)(FILE *));
/* Returns CLI_GO_ON, or the exit status to return now (after -h, or an
 * unknown option or a bad value, with a word on standard error). */
int	cli_opts_take(struct cli_opts *co, int c, const char *arg);
/* After the options (optind is the first operand): at least one operand,
 * the configuration files into cfg, then the command line's settings
 * over them (co->cl is freed), the default of -j.  Returns EXIT_OK or the
 * exit status to return. */
int	cli_opts_finish(struct cli_opts *co, int argc, struct st_config *cfg);

/* --- the trace as JSON / text (shared by trace, bounces, report) ------ */
void	out_trace_json(struct jw *w, const struct st_trace *t);
void	out_trace_text(struct st_buf *b, const struct st_trace *t,
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
