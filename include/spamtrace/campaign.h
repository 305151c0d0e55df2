/*
 * campaign.h - many bounces folded into one picture: was each bounce
 * backscatter (a reply to mail the user never sent) or genuine, how many
 * of each, why they failed, when they came, and which hosts injected the
 * forged mail (the abused relays), ranked.
 *
 * Use:
 *	c = st_campaign_new(cfg);
 *	for each message: st_campaign_learn(c, ...);	(pass 1: what the
 *		user's own mail looks like; optional but it makes the
 *		backscatter verdict better)
 *	st_campaign_learn_done(c);
 *	for each message: v = st_campaign_judge(c, ...);
 *		st_campaign_add(c, &item);		(pass 2)
 *	s = st_campaign_result(c);
 *	st_campaign_free(c);
 *
 * The learning may also be done in the same pass as the judging when the
 * facts of each message are kept (see st_campaign_facts below) and judged
 * after st_campaign_learn_done.
 *
 * Memory is bounded: nothing is kept per message.  The learning keeps at
 * most ST_MAX_CAMPAIGN_LEARN samples, the summary grows with distinct
 * origins, days and reasons only, and keeps ST_MAX_CAMPAIGN_EXAMPLES
 * examples per origin.  All strings of the result are owned by the
 * campaign.
 */
#ifndef SPAMTRACE_CAMPAIGN_H
#define SPAMTRACE_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "bounce.h"
#include "config.h"
#include "limits.h"
#include "trace.h"

struct st_campaign;

struct st_campaign_example {
	char   *path;
	size_t	index;
	bool	has_when;
	int64_t	when;		/* arrival of the bounce, UTC */
	char   *subject;	/* the original's subject */
	char   *rcpt;		/* the first failed recipient */
	char   *reason;
};

struct st_campaign_origin {
	char   *ip, *host, *org;
	const char *country;	/* from the host's top-level domain; NULL */
	const char *scope;	/* "domestic" | "overseas" | NULL */
	uint64_t count;
	uint64_t first_seen;	/* ordinal of the first message naming it */
	struct st_campaign_example ex[ST_MAX_CAMPAIGN_EXAMPLES];
	size_t	nex;
};

struct st_campaign_count {
	char   *key;
	uint64_t n;
};

struct st_campaign_summary {
	uint64_t messages, bounces, backscatter, genuine, undetermined,
	    not_bounces, unreadable;
	struct st_campaign_count *by_reason;	/* most first */
	size_t	nreasons;
	struct st_campaign_count *per_day;	/* "YYYY-MM-DD" (UTC), in order */
	size_t	ndays;
	struct st_campaign_origin *origins;	/* most first, then first seen */
	size_t	norigins;
	bool	has_first;
	int64_t	first, last;
	/* what the verdicts were based on */
	const char *const *me;		/* the user's addresses */
	size_t	nme;
	const char *const *providers;	/* organisations of the user's mail */
	size_t	nproviders;
	const char *country;		/* the user's country, or NULL */
};

/* One message for the summary. */
struct st_campaign_item {
	const char *path;
	size_t	index;
	bool	unreadable;		/* could not be read or parsed */
	const struct st_bounce *b;	/* NULL when unreadable */
	const struct st_trace *orig;	/* the original's trace, or NULL */
	int	backscatter;		/* 1, 0, or -1: cannot tell */
};

struct st_campaign *st_campaign_new(const struct st_config *cfg);
void	st_campaign_free(struct st_campaign *c);

/* Pass 1.  orig: the original's hops (st_bounce_hops_original), or NULL. */
void	st_campaign_learn(struct st_campaign *c, const struct st_bounce *b,
	    const struct st_trace *orig);
void	st_campaign_learn_done(struct st_campaign *c);

/*
 * Did the user send the message this bounce is about?  1: backscatter
 * (the user did not), 0: genuine, -1: cannot tell (not a bounce, or
 * nothing to judge by).  *why (optional) gets a static explanation.
 */
int	st_campaign_judge(struct st_campaign *c, struct st_arena *a,
	    const struct st_bounce *b, const struct st_trace *orig,
	    const char **why);

void	st_campaign_add(struct st_campaign *c, struct st_arena *a,
	    const struct st_campaign_item *it);
/* The summary so far (ranked); valid until the next add or free. */
const struct st_campaign_summary *st_campaign_result(struct st_campaign *c);

/*
 * What the campaign needs of one message, as plain strings: made from the
 * bounce and the original's trace in any thread (st_campaign_facts_make,
 * the strings in the caller's arena), kept as long as wanted (a program
 * may write them to disk and read them back), then learnt from, judged
 * and added in input order.  The three *_facts calls give exactly what
 * learn / judge / add give for the same message; those are wrappers.
 * All strings are "" when absent, never NULL unless said.
 */
struct st_campaign_hopfacts {
	const char *org_by, *org_rdns, *org_helo;	/* st_org_of, "" */
	bool	has_by;		/* the hop names a receiving host */
	bool	cfg_mine;	/* by, rdns or helo is one of the config's
				 * my_outbound hosts, or ip in its nets */
};

struct st_campaign_facts {
	bool	unreadable;		/* could not be read or parsed */
	enum st_bounce_kind kind;
	const char *own;		/* the bounce's Delivered-To, else To */
	const char *own_org;		/* org of own's domain */
	const char *irt_org;		/* org of the domain of the Message-ID
					 * it answers; NULL: none */
	/* the original (has_orig: its trace is there) */
	bool	has_orig;
	const char *from_addr, *return_path, *from_org, *rp_org;
	const char *msgid_org;		/* NULL: the Message-ID has no domain */
	struct st_campaign_hopfacts *hops;
	size_t	nhops;
	/* for the summary */
	const char *reason0, *rcpt0;	/* the first recipient's */
	bool	has_arrival;
	int64_t	arrival;
	bool	has_origin;		/* st_campaign_origin_of */
	const char *origin_ip, *origin_host;
	const char *subject;		/* the original's */
	const char *path;
	size_t	index;
};

/* Fill f from it (it->b, it->orig, it->path, it->index, it->unreadable;
 * it->backscatter is not read); strings in a.  ST_ENOMEM when a is full. */
enum st_status st_campaign_facts_make(const struct st_config *cfg,
	    struct st_arena *a, const struct st_campaign_item *it,
	    struct st_campaign_facts *f);
void	st_campaign_learn_facts(struct st_campaign *c,
	    const struct st_campaign_facts *f);
int	st_campaign_judge_facts(struct st_campaign *c,
	    const struct st_campaign_facts *f, const char **why);
void	st_campaign_add_facts(struct st_campaign *c,
	    const struct st_campaign_facts *f, int backscatter);

/* The origin of a trace for the ranking: the trace's origin, else the
 * lowest parsed hop that recorded an address.  false when none. */
bool	st_campaign_origin_of(const struct st_trace *t, const char **ip,
	    const char **host);

/* Country name for a host's top-level domain ("Japan" for .jp); NULL
 * when the TLD is generic or unknown. */
const char *st_cctld_country(const char *host);

#endif
