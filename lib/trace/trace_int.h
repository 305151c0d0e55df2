/*
 * trace_int.h - what the files of the trace module share (not public).
 */
#ifndef ST_TRACE_INT_H
#define ST_TRACE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "spamtrace/trace.h"

/* providers.c: the large mailbox providers of data/providers.txt */
const char *st_provider_of_server_org(const char *org);	/* name or NULL */
const char *st_provider_of_addr_domain(const char *domain);
bool	st_provider_has_server_org(const char *provider, const char *org);
const char *st_provider_display(const char *provider);
bool	st_provider_is_isp(const char *org);	/* also an access ISP */	/* "Yahoo!" */

void	st_org_into(const char *host, char *out, size_t size);

/* names.c: host name helpers */
bool	st_ip_private_c(const char *ip);	/* st_ip_is_private(), cached */
bool	st_ip_loopback_c(const char *ip);	/* st_ip_is_loopback(), cached */
bool	st_ip_local_c(const char *ip);		/* private or loopback, cached */
bool	st_name_is_fqdn(const char *name);
bool	st_name_is_localhost(const char *name);
bool	st_name_is_ip_literal(const char *name, char *ip, size_t size);
/* Same host: equal names, or one unqualified and equal first labels. */
bool	st_name_same_host(const char *a, const char *b);
/* Does the reverse name look like an end-user or dynamic address?  why
 * (if not NULL) gets a short reason ("S25R rule 3", "word 'dsl'" ...). */
bool	st_name_is_dynamic(const char *rdns, const char *ip, char *why,
	    size_t size);
/* Does the name carry the address's octets (decimal or hex)? */
bool	st_name_embeds_ip(const char *name, const char *ip);
/* Does the organisation's own name say hosting ("kvmservers.eu")? */
bool	st_org_is_hosting(const char *org);
/* Same organisation: equal registrable domains or one provider. */
bool	st_org_equiv(const char *org_a, const char *org_b);
/* Domain part of an address, lower-case, in the arena ("" if none). */
const char *st_addr_domain(struct st_arena *a, const char *addr);

/* findings.c */
struct st_analysis;
void	st_findings_run(struct st_analysis *an);

/* The working state of one analysis. */
struct st_analysis {
	struct st_trace *t;
	struct st_msg *m;
	struct st_arena *a;
	const struct st_config *cfg;
	int	boundary;	/* index into t->hops of the boundary hop, or
				 * -1 when no hop is outside */
	const char *recipient_org;	/* org of the top trusted host */
	const char *recipient_domain;	/* domain of the envelope recipient */
	const char *origin_host;	/* best name of the origin host */
	bool	origin_dynamic;
	bool	private_lan;	/* a LAN behind the sender's own gateway */
	bool	relay_unsure;	/* relay's client unnamed: probably open */
	char	origin_dynamic_why[64];
	int	source_hop;	/* index of the hop the source ip is from */
	int	believed;	/* deepest hop whose record is believed */
	size_t	fcap, rcap, ccap;
	/* findings.c: the evidence text last quoted and its hop */
	const struct st_hop *from_part_hop;
	const char *from_part;
	/*
	 * The memos below are not cleared with the rest (st_trace_message()
	 * clears up to org_memo): an entry counts only when org_used has its
	 * bit, or when chain_next says it has been written.
	 */
	uint64_t org_used;	/* bit k: org_memo[k] is filled */
	unsigned chain_next;
	/* st_an_org(): the names asked about and their orgs, a small table
	 * direct-mapped by a hash of the name's text */
#define ST_ORG_MEMO	64		/* a power of 2, at most 64 */
	struct {
		uint64_t key;		/* the hash, with the length */
		const char *name;	/* a copy of the name */
		const char *org;
	}	org_memo[ST_ORG_MEMO];
	/* chain_match(): the last few pairs of hops asked about */
#define ST_CHAIN_MEMO	8
	struct {
		const struct st_hop *above, *below;
		int	match;
	}	chain_memo[ST_CHAIN_MEMO];
};

void	st_add_finding(struct st_analysis *an, const char *code,
	    enum st_severity sev, int hop, const char *evidence,
	    const char *explain);
void	st_add_findingf(struct st_analysis *an, const char *code,
	    enum st_severity sev, int hop, const char *evidence,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
const char *st_an_org(struct st_analysis *an, const char *host);
bool	st_has_finding(const struct st_trace *t, const char *code);

#endif
