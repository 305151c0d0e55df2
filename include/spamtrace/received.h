/*
 * received.h - one Received header value in, one hop out.
 *
 * What the client claimed (helo, envfrom) is kept apart from what the
 * receiving server observed (ip, rdns, ident).  Every format real mail
 * carries is read: sendmail (old SMI and Japanese-patched), Postfix, qmail
 * (all "invoked" forms), Exim, Exchange / Office 365, Gmail, Yahoo, Courier,
 * CommuniGate, Domino, MDaemon, IIS SMTPSVC, OpenSMTPD, Haraka, webmail
 * "via HTTP" and the rest.  A value that cannot be read is kept raw with
 * parsed = false; it is never dropped.
 *
 * Field names follow CONTRACT.md (and SpamAssassin's relay fields where
 * they overlap).  All strings are NUL-terminated, live in the arena given
 * to st_received_parse(), and are "" when absent (never NULL).
 */
#ifndef SPAMTRACE_RECEIVED_H
#define SPAMTRACE_RECEIVED_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "date.h"

enum st_trust {
	ST_TRUST_UNKNOWN = 0,	/* not yet decided */
	ST_TRUST_TRUSTED,	/* written by the recipient's own systems */
	ST_TRUST_BOUNDARY,	/* the hop where mail entered them: origin */
	ST_TRUST_UNTRUSTED	/* below the boundary: claims only */
};

struct st_hop {
	int	index;		/* 1-based; 1 is the topmost Received */
	const char *raw;	/* the header value, unfolded */

	/* Observed by the receiving server. */
	const char *ip;		/* connecting address, normalised (no
				 * "IPv6:" prefix, no zone id, ::ffff:
				 * mapped IPv4 written as IPv4) */
	const char *rdns;	/* the name it looked up for ip */
	const char *ident;	/* RFC 1413 user */
	const char *by;		/* the receiving host */
	const char *id;		/* its queue id */
	const char *auth;	/* non-empty: authenticated (mechanism or
				 * marker seen) */
	const char *with;	/* protocol word: SMTP, ESMTPS, HTTP ... */
	const char *for_;	/* envelope recipient ("for") */
	bool	tls;		/* TLS recorded on this hop */

	/* Claimed by the client. */
	const char *helo;	/* HELO/EHLO name */
	const char *envfrom;	/* envelope sender, if the line records it */

	/* The receiving software, guessed from the line's shape:
	 * sendmail, postfix, qmail, exim, exchange, gmail, yahoo, courier,
	 * communigate, domino, mdaemon, smtpsvc, opensmtpd, haraka, webmail,
	 * xmail, ecelerity, ... or "unknown". */
	const char *mta;

	bool	parsed;		/* false: unreadable, raw kept */
	bool	local;		/* a handover with no network client (qmail
				 * "invoked by uid", pickup, LMTP on the same
				 * host, fetchmail ...) */
	bool	rdns_unverified;/* "(may be forged)", "unverified", "unknown" */
	bool	ip_from_helo;	/* the only address seen was the HELO text */
	bool	has_date;
	struct st_date date;

	enum st_trust trust;	/* filled by the trace */
};

/*
 * Parse one Received value (p, len: raw, may be folded, may contain NULs).
 * Never fails: on a line that cannot be read, hop->parsed is false and
 * hop->raw holds the unfolded text.  Returns false only when the arena is
 * exhausted.
 */
bool	st_received_parse(struct st_arena *a, const char *p, size_t len,
	    struct st_hop *hop);

/*
 * Normalise an address text ("IPv6:2001:db8::1", "::ffff:1.2.3.4",
 * "fe80::1%eth0", "1.2.3.4") into buf; false when it is not an address.
 */
bool	st_ip_normalise(const char *p, size_t len, char *buf, size_t size);
/* Address classes used by the trace and findings. */
bool	st_ip_is_private(const char *ip);	/* RFC 1918, CGNAT, ULA,
						 * link-local */
bool	st_ip_is_loopback(const char *ip);
bool	st_ip_is_reserved(const char *ip);	/* bogons: 0/8, 192.0.2/24,
						 * 240/4, documentation ... */
bool	st_ip_is_ipv6(const char *ip);

#endif
