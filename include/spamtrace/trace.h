/*
 * trace.h - from the parsed hops to conclusions: trust boundary, origin,
 * source estimate, relay roles, findings and contacts.
 *
 * The trace is pure: it does no I/O.  DNS results, when the caller has
 * them, come in as data through st_trace_add_dns().  Everything the trace
 * produces lives in the arena of the message it was run on.
 */
#ifndef SPAMTRACE_TRACE_H
#define SPAMTRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "config.h"
#include "error.h"
#include "msg.h"
#include "received.h"

enum st_severity { ST_SEV_INFO, ST_SEV_LOW, ST_SEV_MEDIUM, ST_SEV_HIGH };

/* DNS facts about one address (see dns.h for how they are obtained). */
struct st_dns_listing {
	const char *zone;
	const char *answer;	/* "127.0.0.2" */
	const char *txt;	/* "" when none */
};
struct st_dns_info {
	const char **ptr;	/* PTR names */
	size_t	nptr;
	int	fcrdns;		/* 1 yes, 0 no, -1 unknown */
	struct st_dns_listing *listed;
	size_t	nlisted;
	bool	timed_out;	/* some lookups got no answer in time */
};

struct st_origin {
	bool	present;
	const char *ip, *rdns, *helo, *org;	/* org: registrable domain */
	int	hop;
	const struct st_dns_info *dns;
};

struct st_source {
	bool	present;
	const char *ip;
	int	hop;
	const char *why;
	const struct st_dns_info *dns;
};

struct st_relay {
	int	hop;
	const char *host, *ip, *org;
	const char *role;	/* third-party-relay | sender-gateway |
				 * sender-provider | recipient-side */
	const struct st_dns_info *dns;
};

struct st_finding {
	const char *code;	/* CONTRACT.md table, e.g. "FORGED_HELO" */
	enum st_severity severity;
	int	hop;		/* 0: not tied to one hop */
	const char *evidence;	/* the exact text that shows it */
	const char *explain;	/* one or two sentences for a person */
};

struct st_contact {
	const char *address;
	const char *for_;	/* origin | relay | source */
	const char *why;
};

/* The message summary (display values decoded to UTF-8, "" when absent). */
struct st_summary {
	const char *message_id, *from, *from_addr, *return_path, *to,
	    *to_addr, *subject, *x_mailer;
	bool	has_date;
	struct st_date date;
};

struct st_trace {
	struct st_summary sum;
	struct st_hop *hops;	/* newest first; hops[0] is the topmost */
	size_t	nhops;
	size_t	hops_dropped;	/* beyond ST_MAX_HOPS (also a finding) */
	struct st_origin origin;
	struct st_source source;
	struct st_relay *relays;
	size_t	nrelays;
	struct st_finding *findings;
	size_t	nfindings;
	struct st_contact *contacts;
	size_t	ncontacts;
	const char *verdict;	/* a paragraph for people (English) */
};

/*
 * An extra trusted hop placed above the message's own Received fields: the
 * connection the milter sees, or the bouncing system for the original of a
 * bounce.  All strings may be NULL.
 */
struct st_top_hop {
	const char *ip, *rdns, *helo, *by;
	const char *auth;	/* non-NULL/non-empty: authenticated client */
};

/* Analyse one parsed message.  top may be NULL. */
enum st_status st_trace_message(struct st_msg *m, const struct st_config *cfg,
	    const struct st_top_hop *top, struct st_trace *t,
	    struct st_error *err);

/* Parse only the summary and the hops (no analysis). */
enum st_status st_trace_hops(struct st_msg *m, struct st_trace *t);

/* Attach DNS facts for ip to the origin / source / relays that carry it
 * and add the findings they imply (PTR mismatch, no FCrDNS, listings). */
void	st_trace_add_dns(struct st_trace *t, struct st_arena *a,
	    const char *ip, const struct st_dns_info *dns);

/* Names for output. */
const char *st_trust_name(enum st_trust t);
const char *st_severity_name(enum st_severity s);

/* Registrable domain ("organisation") of a host name via libpsl, in the
 * arena; "" for an address, an unqualified name or no name. */
const char *st_org_of(struct st_arena *a, const char *host);

#endif
