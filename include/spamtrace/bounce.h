/*
 * bounce.h - recognise a bounce and read it: who failed, why, and the
 * headers of the message that bounced.
 *
 * Reads RFC 3464 delivery status notifications (message/delivery-status,
 * message/global-delivery-status, or DSN fields written inline), RFC 5965
 * feedback reports (ARF), RFC 3834 auto-replies, challenge-response
 * messages and the plain-text formats of the common MTAs and providers
 * (qmail, sendmail, Exim, Postfix, Exchange / Office 365, Gmail, Yahoo,
 * Domino, Courier, the Japanese carriers ...).  The MIME structure is read
 * through GMime; everything else is ours.
 *
 * Each failed recipient gets an RFC 3463 status, an SMTP reply code, the
 * remote MTA, the diagnostic text and a reason in Sisimai's vocabulary
 * (userunknown, mailboxfull, filtered, ...): see lib/bounce/reasons.c for
 * the rules and where each comes from.
 *
 * Everything lives in the arena of the bounce's struct st_msg and is valid
 * until that arena is reset.  Strings are NUL-terminated and "" when
 * absent, never NULL.
 */
#ifndef SPAMTRACE_BOUNCE_H
#define SPAMTRACE_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "config.h"
#include "error.h"
#include "msg.h"
#include "trace.h"

enum st_bounce_kind {
	ST_BOUNCE_NONE = 0,	/* not a bounce */
	ST_BOUNCE_DSN,		/* RFC 3464 */
	ST_BOUNCE_VENDOR,	/* a plain-text MTA / provider format */
	ST_BOUNCE_AUTOREPLY,	/* RFC 3834 auto-reply, vacation notice */
	ST_BOUNCE_ARF,		/* RFC 5965 feedback report */
	ST_BOUNCE_CHALLENGE	/* challenge-response ("confirm you sent") */
};

struct st_bounce_rcpt {
	const char *address;	/* the failed recipient (lower-case domain) */
	const char *status;	/* RFC 3463 "5.1.1", or "" */
	const char *reason;	/* Sisimai vocabulary, never "" */
	const char *reply_code;	/* SMTP "550", or "" */
	const char *remote_mta;	/* host or address, or "" */
	const char *diagnostic;	/* the text that says why, one line */
	const char *action;	/* DSN Action (failed, delayed ...) or "" */
	const char *feedback_type; /* ARF Feedback-Type, or "" */
};

struct st_bounce {
	enum st_bounce_kind kind;
	const char *reporting_mta;	/* host name of the bouncing system */
	struct st_bounce_rcpt *rcpts;
	size_t	nrcpts;
	size_t	rcpts_dropped;		/* beyond ST_MAX_BOUNCE_RCPTS */

	/* The original message's header block (and whatever part of its
	 * body came along), LF line endings, in the arena; NULL when the
	 * bounce carries no copy of it. */
	const char *orig;
	size_t	orig_len;
	const char *orig_where;	/* "message/rfc822", "text/rfc822-headers",
				 * "inline", "" */

	/* About the bounce itself (for backscatter and the campaign). */
	const char *to_addr;		/* To: of the bounce, bare address */
	const char *delivered_to;	/* Delivered-To / X-Original-To / for */
	const char *in_reply_to;	/* In-Reply-To / References (msg-id) */
	bool	has_arrival;		/* when it reached the mailbox */
	int64_t	arrival;		/* UTC seconds */
};

/*
 * Read the bounce m (a parsed message; any line ending).  Never fails on
 * hostile input: a message that is not a bounce gets kind ST_BOUNCE_NONE.
 * Returns ST_ENOMEM when the arena ceiling is hit.
 */
enum st_status st_bounce_parse(struct st_msg *m, struct st_bounce *b,
	    struct st_error *err);

/*
 * The same with flags: ST_BOUNCE_QUICK tells bounce from not-bounce and
 * finds the original (kind, orig, orig_where, reporting_mta, to_addr,
 * delivered_to) and nothing the trace of that original does not read: at
 * most one recipient, with only its address; no reasons, diagnostics,
 * DSN fields past the addresses, original's sender or in_reply_to.  What
 * `spamtrace trace` needs for every message that may be a bounce.
 */
#define ST_BOUNCE_QUICK	0x01
enum st_status st_bounce_parse_ex(struct st_msg *m, struct st_bounce *b,
	    unsigned flags, struct st_error *err);

/*
 * Parse the original's headers into om (in m's arena) and run the full
 * trace on them with the bouncing system as the trusted top hop.
 * Returns ST_EINVAL when the bounce carries no original.
 */
enum st_status st_bounce_trace_original(struct st_msg *m,
	    const struct st_bounce *b, const struct st_config *cfg,
	    struct st_msg *om, struct st_trace *t, struct st_error *err);

/* Only the original's summary and hops, no analysis (cheaper). */
enum st_status st_bounce_hops_original(struct st_msg *m,
	    const struct st_bounce *b, struct st_msg *om, struct st_trace *t);

const char *st_bounce_kind_name(enum st_bounce_kind k);

/*
 * The reason for one failure: status (RFC 3463, may be "" or NULL), the
 * SMTP reply code (may be "" or NULL) and the diagnostic text (length
 * len, any bytes).  Returns a static string of Sisimai's vocabulary,
 * "undefined" when nothing says.
 */
const char *st_bounce_reason(const char *status, const char *reply_code,
	    const char *text, size_t len);

/* Find an RFC 3463 status code ("5.1.1") in text; writes it into buf
 * (>= 16 bytes) and returns true when found. */
bool	st_bounce_find_status(const char *text, size_t len, char *buf,
	    size_t size);
/* Find an SMTP reply code (2xx-5xx) in text; buf >= 4 bytes. */
bool	st_bounce_find_reply_code(const char *text, size_t len, char *buf,
	    size_t size);

#endif
