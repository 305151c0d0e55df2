/*
 * milter.h - the decisions of "spamtrace milter", without libmilter.
 *
 * The milter (src/cmd_milter.c, src/milter_*.c) talks to the MTA; this
 * module decides.  Given the configuration, the connection the MTA reports
 * and the message bytes it collected, it runs the trace (and the bounce
 * reader), chooses an action, and writes the X-Spamtrace header value, the
 * SMTP reply and the log line.  It does no I/O, so every decision can be
 * tested from a table without an MTA.
 *
 * Policies (CONTRACT.md, "milter"):
 *   dynamic_direct  an end-user or dynamic address talking to this MX
 *                   directly (DYNAMIC_SENDER on the connection itself):
 *                   accept | tag | tempfail (451 4.7.1) | reject (550 5.7.1),
 *                   decided at MAIL FROM, the first moment the MTA tells
 *                   whether the client authenticated.
 *   backscatter     a bounce or auto-reply whose original never passed our
 *                   my_outbound hosts or networks: accept | tag | reject
 *                   (550 5.7.1), decided at the end of the message.
 * Authenticated clients ({auth_authen}) and trusted_clients are never
 * acted on.  The header is always added; "tag" adds "tag=RULE" to it.
 *
 * All strings in the result are NUL-terminated, bounded, free of CR, LF and
 * other control characters (safe for a header, a reply and syslog).
 */
#ifndef SPAMTRACE_MILTER_H
#define SPAMTRACE_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "bounce.h"
#include "config.h"
#include "error.h"
#include "trace.h"

/* The connection, as the MTA reports it.  Strings may be NULL or "". */
struct st_milter_client {
	const char *ip;		/* connecting address; "" for a local socket */
	const char *name;	/* the name the MTA looked up; "" none (see
				 * st_milter_client_name) */
	const char *helo;	/* HELO/EHLO argument */
	const char *by;		/* the MTA's own name (macro j) */
	const char *auth;	/* {auth_authen}: SASL login; "" none */
	const char *auth_type;	/* {auth_type}: SASL mechanism */
};

/* What the connection alone says (computed once per connection). */
struct st_milter_conn {
	bool	dynamic;		/* DYNAMIC_SENDER on the connection */
	char	evidence[256];		/* the finding's evidence */
	char	exempt[128];		/* "" or why no action applies
					 * ("authenticated as u", ...) */
};

/* Whether a bounce is backscatter (of mail our hosts never sent). */
enum st_milter_bs {
	ST_MILTER_BS_NONE = 0,	/* not a bounce or auto-reply */
	ST_MILTER_BS_UNKNOWN,	/* cannot tell (no original, no my_outbound) */
	ST_MILTER_BS_OURS,	/* the original passed one of our hosts */
	ST_MILTER_BS_YES	/* backscatter */
};

/* Flags for st_milter_check_message(). */
#define ST_MILTER_TRUNCATED	0x01	/* header or body past the caps */

struct st_milter_result {
	enum st_action action;	/* ACCEPT (deliver), TAG (deliver, tagged),
				 * TEMPFAIL, REJECT */
	const char *rule;	/* "dynamic_direct", "backscatter", "error"
				 * or "" */
	const char *code;	/* "451", "550" or "" (accept/tag) */
	const char *xcode;	/* "4.7.1", "5.7.1", "4.3.0" or "" */
	char	reply[384];	/* text of the SMTP reply ("" when none) */
	char	header[1024];	/* X-Spamtrace value ("" at MAIL FROM) */
	char	log[2048];	/* one line for syslog, no newline */
};

/* The MTA's client name: "" for "unknown", "[addr]" and empty names;
 * otherwise a sanitised copy (bounded by size). */
void	st_milter_client_name(const char *hostname, char *buf, size_t size);

/* Is the client exempt from every action?  why gets the reason. */
bool	st_milter_exempt(const struct st_config *cfg,
	    const struct st_milter_client *c, char *why, size_t size);

/*
 * What the connection alone says: runs the trace over a message that has
 * only the connection as its top hop (the same rules as for full
 * messages), and checks the exemptions.  Fails only on ST_ENOMEM.
 */
enum st_status st_milter_conn_check(const struct st_config *cfg,
	    const struct st_milter_client *c, struct st_milter_conn *cc,
	    struct st_error *err);

/* The decision at MAIL FROM (dynamic_direct with tempfail / reject);
 * action ST_ACT_ACCEPT means "go on". */
void	st_milter_decide_mail(const struct st_config *cfg,
	    const struct st_milter_client *c, const struct st_milter_conn *cc,
	    struct st_milter_result *r);

/*
 * Whether bounce b is backscatter, from the original's hops ot (ot may be
 * NULL when the bounce carries no original).  why gets the evidence.
 */
enum st_milter_bs st_milter_backscatter(const struct st_config *cfg,
	    const struct st_bounce *b, const struct st_trace *ot, char *why,
	    size_t size);

/*
 * The decision at the end of the message: parse buf (headers and as much
 * of the body as was kept), trace it with the connection as the top hop,
 * read it as a bounce, and fill r (header, action, reply, log).  a is the
 * message's arena (everything derived lives there).  mail_from is the
 * envelope sender as the MTA gave it ("<>" for a bounce; NULL: unknown).
 * On failure (ST_ENOMEM and the like) r is untouched: call
 * st_milter_fail().
 */
enum st_status st_milter_check_message(struct st_arena *a,
	    const struct st_config *cfg, const struct st_milter_client *c,
	    const struct st_milter_conn *cc, const char *mail_from,
	    const char *buf, size_t len, unsigned flags,
	    struct st_milter_result *r, struct st_error *err);

/*
 * Could this message be a bounce or an auto-reply at all?  A cheap test on
 * the envelope sender and a few header fields, so that the bounce reader
 * runs only where it can find something: the null sender (RFC 5321 4.5.5:
 * bounces; RFC 3834 3.3: auto-replies should use it too), Auto-Submitted
 * other than "no" (RFC 3834), a multipart/report (RFC 6522), the
 * X-Autoreply / X-Autorespond fields and Precedence: auto_reply of
 * vacation programs, a From of MAILER-DAEMON or postmaster, or a Subject
 * with the usual words of bounces, auto-replies and challenges.
 */
bool	st_milter_may_be_bounce(const struct st_msg *m, const char *mail_from);

/* An internal error: fail open (accept with "error=WHAT" in the header)
 * or, with fail_open = no, tempfail 451 4.3.0. */
void	st_milter_fail(const struct st_config *cfg,
	    const struct st_milter_client *c, const char *what,
	    struct st_milter_result *r);

const char *st_milter_action_name(enum st_action a);
const char *st_milter_bs_name(enum st_milter_bs bs);

#endif
