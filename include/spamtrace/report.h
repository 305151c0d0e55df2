/*
 * report.h - abuse reports from traces: who gets told, and the message
 * that tells them (an RFC 5965 ARF feedback report or a plain letter).
 *
 * A report set collects analysed messages and groups them by the network
 * responsible for them (the set of contact addresses the trace named), so
 * a campaign of many messages gives ONE report per network, listing all its
 * incidents.  Everything kept is copied into the set's own arena: the
 * message and its trace may be freed as soon as st_report_add() returns.
 *
 * The report module does no I/O: the caller reads the letter template,
 * writes the rendered message to a file, sends it (smtp.h) and records it
 * (store.h).
 *
 * Standards: RFC 5322 (message format), RFC 2045-2047 (MIME, encoded
 * words), RFC 6522 (multipart/report), RFC 5965 (ARF), RFC 6650 (ARF in
 * practice: Incidents), RFC 1468 (ISO-2022-JP mail).
 */
#ifndef SPAMTRACE_REPORT_H
#define SPAMTRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "error.h"
#include "msg.h"
#include "trace.h"

/* What --redact puts in place of the reporter's own address (SpamCop
 * style: the address is gone, the text still reads as an address). */
#define ST_REPORT_REDACTED	"x@redacted.invalid"

/* One finding, copied out of the message arena. */
struct st_report_finding {
	const char *code, *severity, *evidence, *explain;
	int	hop;
};

/* One reported message ("incident"); strings are "" when absent. */
struct st_report_incident {
	const char *path;
	size_t	index;
	const char *identity;	/* stable key for the case file */
	const char *message_id;	/* of the reported message */
	const char *subject;	/* decoded, UTF-8 */
	const char *from;	/* From: as decoded */
	const char *mail_from;	/* envelope sender (Return-Path, hop, mbox
				 * From_ line); "<>" the null sender, ""
				 * when unknown */
	const char *rcpt_to;	/* envelope recipient (topmost hop "for",
				 * Delivered-To, X-Original-To, To) */
	const char *origin_ip, *origin_host, *origin_helo, *org;
	const char *source_ip, *source_why;
	bool	has_arrival;	/* time the recipient's side received it */
	int64_t	arrival;
	int	arrival_tz;	/* minutes east of UTC, as stamped */
	bool	arrival_tz_known;
	bool	has_date;	/* the Date: header */
	int64_t	date;
	const char **received;	/* unfolded Received values, newest first */
	size_t	nreceived;
	struct st_report_finding *findings;
	size_t	nfindings;
	const char **relays;	/* "host [ip]" of abused third-party relays */
	size_t	nrelays;
	const char *auth_results;	/* first Authentication-Results */
	/*
	 * The byte-exact header block (without the mbox From_ line and the
	 * empty line) and, with keep_full, the whole message.  Kept only for
	 * the first incident of each report (the one attached); NULL for
	 * the others.
	 */
	const char *headers;
	size_t	headers_len;
	const char *full;
	size_t	full_len;
	const char *eol;	/* line ending the original uses: "\n",
				 * "\r\n" */
};

/* One report: one responsible network, all its incidents. */
struct st_report {
	const char *key;	/* grouping key: the sorted addressees */
	const char *domain;	/* Reported-Domain: the network's
				 * registrable domain, "" when unknown */
	const char **to;	/* addressees, lower case, deduplicated */
	size_t	nto;
	struct st_report_incident *inc;	/* in input order */
	size_t	ninc, cap;
};

struct st_report_set {
	struct st_arena *a;
	struct st_report *r;	/* in order of first appearance */
	size_t	n, cap;
	bool	keep_full;	/* keep whole messages (--full) */
	size_t	added;		/* messages grouped */
	size_t	no_addressee;	/* messages no report could be made for */
};

enum st_status st_report_set_init(struct st_report_set *s, bool keep_full);
void	st_report_set_free(struct st_report_set *s);

/*
 * Add one analysed message.  to/nto, when nto > 0, replace the trace's
 * contacts as addressees (--to); the grouping still follows the trace so
 * a campaign still gives one report per network.  Returns ST_EINVAL
 * ("no addressee") when the trace named no contact and no override was
 * given (counted in s->no_addressee), ST_ENOMEM/ST_ELIMIT when the set's
 * arena is full.  *report_index (may be NULL) gets the report it joined.
 */
enum st_status st_report_add(struct st_report_set *s, struct st_msg *m,
	    const struct st_trace *t, const char *path, size_t index,
	    const char *const *to, size_t nto, size_t *report_index,
	    struct st_error *err);

/* The registrable domain of each contact's mail domain, used as the
 * Reported-Domain fallback; exported for tests. */
const char *st_report_domain_of(struct st_arena *a, const char *address);

struct st_report_opts {
	bool	arf;		/* RFC 5965 feedback report, else a letter */
	bool	full;		/* ARF: attach the whole message */
	const char *lang;	/* "en" or "ja" */
	bool	ja_utf8;	/* ja: UTF-8 instead of ISO-2022-JP */
	const char *templ;	/* the template text (UTF-8), see below */
	size_t	templ_len;
	const char *from;	/* From: of the report (required) */
	const char *reporter;	/* signature line; NULL: from */
	const char *redact;	/* address to hide everywhere, or NULL */
	const char *redact_with;/* NULL: ST_REPORT_REDACTED */
	int64_t	now;		/* Date: of the report */
	const char *msgid;	/* Message-ID to use (without <>); NULL:
				 * made from now, a counter and from */
	const char *boundary_seed;	/* for reproducible tests; NULL:
					 * random */
};

/*
 * Template language (data/templates/letter-LANG.txt, arf-LANG.txt): the
 * first lines up to an empty line are header lines, of which "Subject:" is
 * used; the rest is the body.  {{name}} is replaced; unknown names are
 * left as they are.  Names: to, network, domain, source_ip, source_host,
 * source_estimate, count, first, last, incidents, evidence, received,
 * headers, relays, reporter, date, version, subject_of_first.
 */

/* Render report r as a complete RFC 5322 message (lines end like the
 * attached original's, "\n" or "\r\n").  *out is malloc'd; the caller
 * frees it.  *msgid_out (may be NULL) gets the Message-ID, malloc'd. */
enum st_status st_report_render(const struct st_report *r,
	    const struct st_report_opts *o, char **out, size_t *outlen,
	    char **msgid_out, struct st_error *err);

/* Render just the body text of a letter (UTF-8), for display and tests.
 * *subject gets the subject line; both malloc'd. */
enum st_status st_report_letter_text(const struct st_report *r,
	    const struct st_report_opts *o, char **text, char **subject,
	    struct st_error *err);

/* Helpers exported for tests. */
/* Replace every case-insensitive occurrence of addr in p[0..len) with
 * with; result malloc'd (*outlen set). */
char   *st_report_redact(const char *p, size_t len, const char *addr,
	    const char *with, size_t *outlen);
/* UTF-8 to ISO-2022-JP, line by line (each line ends in ASCII, RFC 1468);
 * NULL when a character has no JIS X 0208 form. */
char   *st_report_to_iso2022jp(const char *utf8, size_t len, size_t *outlen);
/* One Subject/phrase as RFC 2047 encoded words (B encoding), folded;
 * charset "ISO-2022-JP" or "UTF-8"; plain ASCII is returned as is. */
char   *st_report_encode_words(const char *utf8, const char *charset,
	    const char *eol);

#endif
