/*
 * probe.h - the open-relay probe: does this SMTP server pass mail between
 * two parties that are both strangers to it?
 *
 * For each target the probe connects (lib/smtp), greets (EHLO, HELO
 * fallback, STARTTLS when offered unless told not to), then runs the
 * battery: the sixteen MAIL FROM / RCPT TO address forms of nmap's
 * smtp-open-relay script (null sender, third-party sender and recipient,
 * the server's own name and address as sender, the % hack, quoted local
 * parts, @-routes, ! bang paths, each combined with the server's own name
 * and bracketed address), plus the "localhost" recipient the second seed's
 * author tried by hand.  RSET between tests, never DATA, always QUIT.
 * A 250 to RCPT is an acceptance, not proof that the server would deliver.
 *
 * The default addresses use domains reserved by RFC 2606 (example.com,
 * example.net), which can never receive mail.
 */
#ifndef SPAMTRACE_PROBE_H
#define SPAMTRACE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "smtp.h"

/* Tests in the battery: nmap's 16 forms plus the localhost recipient. */
#define ST_PROBE_NTESTS		17

/* Default envelope and greeting (RFC 2606 reserved names). */
#define ST_PROBE_DEFAULT_FROM	"spamtrace-probe@example.com"
#define ST_PROBE_DEFAULT_TO	"relaytest@example.net"
#define ST_PROBE_DEFAULT_HELO	"probe.example.com"

enum st_probe_verdict {
	ST_PROBE_OPEN,		/* a third-party RCPT was accepted */
	ST_PROBE_CLOSED,	/* every relay attempt was refused */
	ST_PROBE_AUTH_REQUIRED,	/* 530: authentication needed before any test */
	ST_PROBE_UNREACHABLE,	/* no TCP connection could be made */
	ST_PROBE_ERROR		/* garbage, tarpit, dropped connection ... */
};

struct st_probe_opts {
	/* timeouts, caps and TLS mode of every session (st_smtp_params_init
	 * defaults; st_probe_opts_init sets the probe's own) */
	struct st_smtp_params smtp;
	const char *mail_from;	/* local@domain; NULL: ST_PROBE_DEFAULT_FROM */
	const char *rcpt_to;	/* local@domain; NULL: ST_PROBE_DEFAULT_TO */
	const char *helo;	/* NULL: ST_PROBE_DEFAULT_HELO */
	bool	retry_without_tls;	/* a failed TLS handshake: probe again
					 * in plaintext (default true) */
	size_t	tests_per_session;	/* at most this many tests on one
					 * connection, then QUIT and a new
					 * session for the rest; 0: all on one.
					 * Default ST_PROBE_TESTS_PER_SESSION */
};

/* Postfix slows every reply by smtpd_error_sleep_time (1 s) once a
 * session has made smtpd_soft_error_limit (10) errors, and drops it at 20;
 * Sendmail and others throttle bad RCPTs per connection alike.  Nine tests
 * per session stay under those limits, so a closed server answers at full
 * speed and a strict one does not cut the battery short. */
#define ST_PROBE_TESTS_PER_SESSION	9

/* Defaults; timeout_sec > 0 sets the connect, banner, command and TLS
 * timeouts and derives the per-session deadline from them. */
void	st_probe_opts_init(struct st_probe_opts *o, int timeout_sec);

/* The per-session deadline derived from the timeouts (milliseconds). */
int	st_probe_session_deadline_ms(const struct st_probe_opts *o);

struct st_probe_test {
	int	n;			/* 1-based */
	const char *form;		/* short name of the address form */
	char   *mail_from;		/* path, no angle brackets ("" = null) */
	char   *rcpt_to;		/* path, no angle brackets */
	bool	third_party;		/* false for the localhost test */
	bool	run;			/* MAIL was sent */
	int	mail_code, rcpt_code;	/* 0: not sent / no reply */
	char   *mail_reply;		/* full reply, lines joined by "\n";
					 * NULL when not sent */
	char   *rcpt_reply;		/* NULL when RCPT was not sent */
	bool	accepted;		/* RCPT got 2yz */
	bool	relayed;		/* accepted && third_party */
};

struct st_probe_result {
	char   *target;			/* as given */
	char   *host, *port;		/* parsed from target */
	char   *address;		/* the address connected to, or NULL */
	char   *banner;			/* greeting, lines joined by "\n", or NULL */
	char   *server_name;		/* name taken from the banner / EHLO */
	enum st_probe_verdict verdict;
	int	relayed;		/* third-party acceptances */
	int	tried;			/* tests run (MAIL sent) */
	bool	localhost_accepted;	/* the seed's localhost RCPT got 2yz */
	bool	esmtp;			/* EHLO accepted (else HELO) */
	bool	tls;			/* STARTTLS done */
	char   *tls_version, *tls_cipher, *tls_subject;
	bool	tls_retry;		/* TLS failed, probed again in plaintext */
	bool	quit_sent;
	char   *error;			/* what went wrong (verdict error or
					 * unreachable, or a late failure), or NULL */
	char   *note;			/* a remark for people, or NULL */
	struct st_probe_test tests[ST_PROBE_NTESTS];
	size_t	ntests;
	char  **transcript;		/* "S: ...", "C: ...", "*: ..." */
	size_t	ntranscript;
	long	elapsed_ms;
};

/* Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address
 * into *host and *port (malloc'd; port defaults to "25").  Pure. */
enum st_status st_probe_parse_target(const char *arg, char **host,
	    char **port, struct st_error *err);

/* Fill r->tests with the battery for a server called server_name at
 * address addr (IPv4 or IPv6 text).  Pure; used by st_probe_run and the
 * unit tests. */
enum st_status st_probe_battery(const struct st_probe_opts *o,
	    const char *server_name, const char *addr,
	    struct st_probe_result *r, struct st_error *err);

/* Probe one target into *r (initialised here; free with
 * st_probe_result_free).  Always fills a verdict; returns ST_ENOMEM only
 * when memory ran out. */
enum st_status st_probe_run(const struct st_probe_opts *o, const char *target,
	    struct st_probe_result *r);

/*
 * Probe targets[0..n) with at most parallel sessions at once (threads).
 * on_done (may be NULL) is called once per target, in input order, from
 * whichever thread finished, under a lock: print there.  The whole run is
 * bounded by a deadline derived from the timeouts; a target still not done
 * then gets verdict error ("overall deadline passed") and its thread is
 * left to finish on its own.  results[] (n entries) gets every result.
 */
enum st_status st_probe_run_many(const struct st_probe_opts *o,
	    char *const *targets, size_t n, int parallel,
	    struct st_probe_result *results,
	    void (*on_done)(const struct st_probe_result *r, size_t i,
		void *ctx), void *ctx);

void	st_probe_result_free(struct st_probe_result *r);
const char *st_probe_verdict_name(enum st_probe_verdict v);

#endif
