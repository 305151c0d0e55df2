/*
 * findings.c - the rules: each looks at the analysed trace and adds a
 * finding with a severity, the hop, the exact text that shows it and one
 * or two sentences a person understands.  Codes are those of CONTRACT.md
 * (never renamed; new ones added at the end of the table in the man page).
 *
 * Severity policy: high is kept for what honest mail does not do (a forged
 * HELO naming a large provider or the recipient's own, an abused open
 * relay, a joe-job, a provider address that never passed through the
 * provider); medium for strong signs; low and info for what also happens
 * in legitimate mail and only adds up with the rest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/limits.h"
#include "trace_int.h"
#include "util/ascii.h"


static bool
has(const char *s)
{
	return s != NULL && *s != '\0';
}

static const char *
observed(const struct st_hop *h)
{
	/* the first letter settles "unknown" for most names */
	if (!has(h->rdns) || h->rdns_unverified ||
	    ((h->rdns[0] | 0x20) == 'u' && strcasecmp(h->rdns, "unknown") == 0))
		return "";
	return h->rdns;
}

/*
 * The first " by " in r, ignoring case: found as the first "by " with a
 * space before it (searching for the space itself would stop at every
 * word).
 */
static const char *
first_by(const char *r)
{
	size_t n = strlen(r);
	const char *p = r, *e = r + n, *q;

	while ((q = st_ascii_memcasemem(p, (size_t)(e - p), "by ", 3)) !=
	    NULL) {
		if (q > r && q[-1] == ' ')
			return q - 1;
		p = q + 1;
	}
	return NULL;
}

/* The part of a Received value that shows the client: "from ... by X". */
static const char *
from_part(struct st_analysis *an, const struct st_hop *h)
{
	const char *r = h->raw, *by;
	size_t n;

	if (r == NULL)
		return "";
	/* several rules quote the same hop: the last one is kept */
	if (an->from_part_hop == h && an->from_part != NULL)
		return an->from_part;
	by = first_by(r);
	if (by != NULL) {
		const char *host = by + 4;

		while (*host == ' ' || *host == '\t')
			host++;
		n = (size_t)(host - r) + strcspn(host, " \t;");
	} else
		n = strlen(r);
	if (n > 300)
		n = 300;
	an->from_part_hop = h;
	return an->from_part = st_arena_strndup(an->a, r, n);
}

/* Hops whose client spoke over the public internet to the next host. */
static bool
public_hop(const struct st_hop *h)
{
	return h->parsed && has(h->ip) && !st_ip_local_c(h->ip);
}

/* --- FORGED_HELO ------------------------------------------------------ */

static void
rule_forged_helo(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;
	char lit[64];

	for (i = an->boundary < 0 ? t->nhops : (size_t)an->boundary;
	    i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];
		const char *helo = h->helo, *horg, *rorg, *prov, *byorg;

		if (!h->parsed || !has(helo) || has(h->auth) || h->local ||
		    (has(h->ip) && (st_ip_loopback_c(h->ip) ||
		    st_ip_private_c(h->ip))))
			continue;
		if (st_name_is_ip_literal(helo, lit, sizeof(lit))) {
			if (has(h->ip) && strcmp(lit, h->ip) != 0 &&
			    !st_ip_private_c(lit) && !st_ip_loopback_c(lit) &&
			    public_hop(h)) {
				bool ours = false;
				size_t k;

				/* the address of one of the recipient's own
				 * servers: a lie aimed at their filters */
				for (k = 0; k < i; k++)
					if (t->hops[k].trust ==
					    ST_TRUST_TRUSTED &&
					    strcmp(t->hops[k].ip, lit) == 0)
						ours = true;
				for (k = 0; k < t->nrelays && !ours; k++)
					if (strcmp(t->relays[k].role,
					    "recipient-side") == 0 &&
					    strcmp(t->relays[k].ip, lit) == 0)
						ours = true;
				st_add_findingf(an, "FORGED_HELO", ours ?
				    ST_SEV_HIGH : ST_SEV_MEDIUM,
				    h->index, from_part(an, h),
				    "The client at %s introduced itself with "
				    "the address %s, which is not its own%s.",
				    h->ip, lit, ours ? " but the recipient's "
				    "own mail server's" : "");
			}
			continue;
		}
		if (!st_name_is_fqdn(helo))
			continue;
		horg = st_an_org(an, helo);
		rorg = st_an_org(an, observed(h));
		byorg = st_an_org(an, h->by);
		prov = st_provider_of_server_org(horg);
		if (has(horg) && st_org_equiv(horg, rorg))
			continue;
		if (prov != NULL && !st_provider_has_server_org(prov, rorg) &&
		    !st_provider_has_server_org(prov, byorg)) {
			st_add_findingf(an, "FORGED_HELO", ST_SEV_HIGH, h->index,
			    from_part(an, h),
			    "The sending host called itself '%s', a name of "
			    "%s's mail servers, but %s. %s's servers do not "
			    "hand mail to other people's servers like this: "
			    "the name is forged.", helo, st_provider_display(prov),
			    has(h->ip) ? (has(observed(h)) ?
			    st_arena_printf(an->a, "its address %s is %s, not "
			    "one of theirs", h->ip, observed(h)) :
			    st_arena_printf(an->a, "its address %s has no "
			    "name of theirs", h->ip)) :
			    st_arena_printf(an->a, "it connected to %s, not "
			    "through their network", has(h->by) ? h->by :
			    "another server"), st_provider_display(prov));
			continue;
		}
		if (has(an->recipient_org) && (int)i >= an->boundary &&
		    prov == NULL && st_org_equiv(horg, an->recipient_org) &&
		    has(h->ip) && !st_org_equiv(rorg, an->recipient_org) &&
		    !st_net_contains(an->cfg ? an->cfg->trust_nets : NULL,
		    an->cfg ? an->cfg->ntrust_nets : 0, h->ip)) {
			/* with a reverse name elsewhere this is a lie; with
			 * none it may be a sibling host without one */
			st_add_findingf(an, "FORGED_HELO", has(rorg) ?
			    ST_SEV_HIGH : ST_SEV_MEDIUM, h->index,
			    from_part(an, h),
			    "The client at %s%s%s%s claimed to be '%s', a host "
			    "of the recipient's own organisation (%s)%s", h->ip,
			    has(rorg) ? " (" : "", has(rorg) ? observed(h) : "",
			    has(rorg) ? ")" : "", helo, an->recipient_org,
			    has(rorg) ? "; it is not one of them." :
			    ", but its address has no name there to prove it.");
			continue;
		}
		if ((int)i == an->boundary && has(rorg) && has(horg) &&
		    public_hop(h) && (st_org_equiv(horg, st_an_org(an,
		    st_addr_domain(an->a, an->t->sum.from_addr))) ||
		    st_org_equiv(horg, st_an_org(an, st_addr_domain(an->a,
		    an->t->sum.return_path)))))
			st_add_findingf(an, "FORGED_HELO", ST_SEV_MEDIUM,
			    h->index, from_part(an, h),
			    "The client introduced itself as '%s', the domain "
			    "the message claims to come from, but its address "
			    "%s belongs to %s: it borrowed the sender's name.",
			    helo, h->ip, rorg);
		else if ((int)i == an->boundary && has(rorg) && has(horg) &&
		    public_hop(h))
			st_add_findingf(an, "FORGED_HELO", ST_SEV_LOW, h->index,
			    from_part(an, h),
			    "The client introduced itself as '%s' but its "
			    "address %s belongs to %s. Common for "
			    "misconfigured servers too; a hint, not proof.",
			    helo, h->ip, rorg);
	}
}

/* --- relays, dynamic senders, private networks, localhost ------------- */

static void
rule_relays(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	for (i = 0; i < t->nrelays; i++) {
		const struct st_relay *r = &t->relays[i];
		const struct st_hop *h = NULL;
		size_t k;

		if (strcmp(r->role, "third-party-relay") != 0)
			continue;
		/* evidence: the hop the relay wrote */
		for (k = 0; k < t->nhops; k++)
			if (t->hops[k].index == r->hop && k + 1 < t->nhops) {
				h = &t->hops[k + 1];
				break;
			}
		st_add_findingf(an, "THIRD_PARTY_RELAY", an->relay_unsure ?
		    ST_SEV_MEDIUM : ST_SEV_HIGH, r->hop,
		    h ? h->raw : "",
		    "%s (%s) accepted this message from a client %s and "
		    "passed it on to another outside party: %s. Its "
		    "postmaster should close it.", has(r->host) ? r->host : r->ip,
		    has(r->ip) ? r->ip : "address not recorded",
		    an->relay_unsure ? "with no name, for a sender domain "
		    "that is not its own," : "outside its own network",
		    an->relay_unsure ? "probably an open relay that was "
		    "abused" : "it is an open relay that was abused");
	}
}

static void
rule_dynamic(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const struct st_hop *h;
	char why[96];
	const char *name, *byorg, *norg;
	int idx;

	if (!t->source.present)
		return;
	/* the source, or the origin when they differ and the source is not
	 * dynamic */
	idx = an->source_hop;
	if (idx < 0 || (size_t)idx >= t->nhops)
		return;
	h = &t->hops[idx];
	name = observed(h);
	if (!has(name) && idx == an->boundary && has(t->origin.rdns))
		name = t->origin.rdns;	/* a published name (see above) */
	if (has(h->auth) || !has(h->ip) ||
	    !st_name_is_dynamic(name, h->ip, why, sizeof(why))) {
		if (idx == an->boundary)
			return;
		h = &t->hops[an->boundary];
		name = observed(h);
		if (has(h->auth) || !has(h->ip) ||
		    !st_name_is_dynamic(name, h->ip, why, sizeof(why)))
			return;
	}
	byorg = st_an_org(an, h->by);
	norg = st_an_org(an, name);
	if (has(byorg) && st_org_equiv(byorg, norg))
		return;		/* its own provider's server */
	if (strstr(h->with, "HTTP") != NULL || strstr(h->with, "http"))
		return;		/* webmail login */
	st_add_findingf(an, "DYNAMIC_SENDER", ST_SEV_HIGH, h->index,
	    from_part(an, h),
	    "%s (%s) looks like an end-user or dynamic address (%s), yet it "
	    "spoke SMTP directly to %s instead of its provider's submission "
	    "service. This is what outbound port 25 blocking (OP25B) "
	    "exists to stop.", h->ip, name, why,
	    has(h->by) ? h->by : "someone else's server");
}

static void
rule_no_rdns(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const struct st_hop *h;

	if (an->boundary < 0 || !t->origin.present)
		return;
	h = &t->hops[an->boundary];
	if (!has(t->origin.ip) || has(h->auth) || !public_hop(h))
		return;
	if (has(h->rdns) && strcasecmp(h->rdns, "unknown") != 0)
		return;
	/* only where the receiving MTA's format records reverse names */
	if (strcmp(h->mta, "postfix") != 0 && strcmp(h->mta, "sendmail") != 0 &&
	    strcmp(h->mta, "exim") != 0 && strcmp(h->mta, "opensmtpd") != 0)
		return;
	st_add_findingf(an, "NO_RDNS", ST_SEV_MEDIUM, h->index,
	    from_part(an, h),
	    "The origin %s had no reverse DNS name when it connected. Real "
	    "mail servers almost always have one.", t->origin.ip);
}

static void
rule_private(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	if (an->boundary < 0)
		return;
	for (i = (size_t)an->boundary + 1; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];

		if (!h->parsed || !has(h->ip) || has(h->auth) ||
		    !st_ip_private_c(h->ip))
			continue;
		if (!an->private_lan)
			continue;
		st_add_findingf(an, "PRIVATE_NETWORK_SENDER", ST_SEV_MEDIUM,
		    h->index, h->raw,
		    "A machine on a private network (%s%s%s) handed the "
		    "message to a mail server of the sender's own (%s), which "
		    "sent it straight out to the internet from %s: not a PC "
		    "submitting to its provider, but a sender running its own "
		    "gateway.", h->ip, has(h->helo) ? ", calling itself " : "",
		    h->helo, has(h->by) ? h->by : "unnamed",
		    has(t->origin.ip) ? t->origin.ip : "the origin");
		return;
	}
}

static void
rule_localhost(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	if (an->boundary < 0)
		return;
	for (i = (size_t)an->boundary; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];

		if (!h->parsed)
			continue;
		if (public_hop(h) && !has(h->auth) &&
		    st_name_is_localhost(h->helo)) {
			st_add_findingf(an, "LOCALHOST_IDENTITY", ST_SEV_MEDIUM,
			    h->index, from_part(an, h),
			    "The host at %s introduced itself as '%s' on the "
			    "public internet: a mail server set up by someone "
			    "who did not configure its name.", h->ip, h->helo);
			return;
		}
		if (public_hop(h) && !has(h->auth) && has(h->helo) &&
		    !st_name_is_fqdn(h->helo) && h->helo[0] != '[' &&
		    !st_name_is_ip_literal(h->helo, (char[64]){ 0 }, 64) &&
		    (int)i == an->boundary) {
			st_add_findingf(an, "LOCALHOST_IDENTITY", ST_SEV_LOW,
			    h->index, from_part(an, h),
			    "The host at %s introduced itself as '%s', which is "
			    "not a fully qualified domain name.", h->ip,
			    h->helo);
			return;
		}
		if ((int)i > an->boundary && st_name_is_localhost(h->by) &&
		    an->origin_dynamic) {
			st_add_findingf(an, "LOCALHOST_IDENTITY", ST_SEV_MEDIUM,
			    h->index, h->raw,
			    "A mail server on the sender's side calls itself "
			    "'%s' in the header it wrote.", h->by);
			return;
		}
	}
}

/* --- times ---------------------------------------------------------------- */

static void
rule_times(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;
	int tol = an->cfg ? an->cfg->time_travel_tolerance : 900;
	int skew = an->cfg ? an->cfg->date_skew_tolerance : 86400;
	bool zero_done = false;

	for (i = 0; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];

		if (!zero_done && h->has_date && h->date.tz_minus_zero &&
		    h->trust != ST_TRUST_TRUSTED) {
			const char *semi = strrchr(h->raw, ';');
			const char *ev = semi ? semi + 1 : h->raw;

			while (*ev == ' ' || *ev == '\t')
				ev++;
			st_add_findingf(an, "ZERO_TIMEZONE", ST_SEV_LOW,
			    h->index, ev,
			    "This hop stamps its time with '-0000' (local zone "
			    "unknown), typical of qmail or an MTA installed "
			    "without local-time support: %s.",
			    strcmp(h->mta, "qmail") == 0 ? "this is qmail" :
			    "the software is not configured for its zone");
			zero_done = true;
		}
		if (i + 1 < t->nhops && h->has_date &&
		    t->hops[i + 1].has_date &&
		    t->hops[i + 1].date.utc - h->date.utc > tol) {
			long long d = (long long)(t->hops[i + 1].date.utc -
			    h->date.utc);

			st_add_findingf(an, "TIME_TRAVEL", ST_SEV_LOW,
			    t->hops[i + 1].index, t->hops[i + 1].raw,
			    "Hop %d claims a time %lld minutes later than hop "
			    "%d, which received the message after it: a clock "
			    "is wrong, or the lower header is forged.",
			    t->hops[i + 1].index, d / 60, h->index);
		}
	}
	if (t->sum.has_date && t->origin.present && an->boundary >= 0 &&
	    t->hops[an->boundary].has_date) {
		long long d = (long long)(t->hops[an->boundary].date.utc -
		    t->sum.date.utc);
		long long ad = d < 0 ? -d : d;
		char *ev;

		if (ad > skew) {
			ev = st_msg_unfolded(an->m, "Date");
			st_add_findingf(an, "DATE_SKEW", ad > 7 * 86400 ?
			    ST_SEV_MEDIUM : ST_SEV_LOW, 0,
			    ev ? st_arena_printf(an->a, "Date: %s", ev) : "",
			    "The Date header is %lld hours %s the time the "
			    "origin was received: the sender's clock is wrong "
			    "or the date is made up.", ad / 3600,
			    d > 0 ? "before" : "after");
		}
	}
}

/* Mail written by the mail system itself: bounces, notices. */
static bool
system_sender(const struct st_trace *t)
{
	const char *f = t->sum.from_addr;

	return f != NULL && (strncasecmp(f, "mailer-daemon", 13) == 0 ||
	    strncasecmp(f, "postmaster", 10) == 0 ||
	    strncasecmp(f, "mail-daemon", 11) == 0 || *f == '\0');
}

/* --- Message-ID --------------------------------------------------------- */

static void
rule_msgid(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const char *mid = t->sum.message_id, *at, *gt;
	char host[256];
	size_t i, n;

	if (!has(mid) || (at = strrchr(mid, '@')) == NULL)
		return;
	gt = strchr(at, '>');
	n = gt ? (size_t)(gt - at - 1) : strlen(at + 1);
	if (n == 0 || n >= sizeof(host))
		return;
	memcpy(host, at + 1, n);
	host[n] = '\0';
	for (i = 0; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];
		const char *who;

		if (!h->parsed || !has(h->id) || strlen(h->id) < 5 ||
		    !st_name_same_host(host, h->by) ||
		    strstr(mid, h->id) == NULL)
			continue;
		/* only a hop whose record is believed says who made it; an
		 * API or webmail front end of the sender's provider (with
		 * HTTP, authenticated) makes them for its users by design */
		if ((int)i > an->believed || has(h->auth) ||
		    st_ascii_strcasestr(h->with, "HTTP") != NULL)
			return;
		/* a local program handing mail to its own MTA (cron, a
		 * bounce generator) rightly leaves the Message-ID to it */
		if (h->local || (has(h->ip) && st_ip_loopback_c(h->ip)) ||
		    (!has(h->ip) && st_name_is_localhost(h->helo)) ||
		    (!has(h->ip) && !has(h->helo)) || system_sender(t))
			return;
		if (h->trust == ST_TRUST_TRUSTED ||
		    h->trust == ST_TRUST_BOUNDARY)
			who = "the receiving side";
		else
			who = "a relay";
		st_add_findingf(an, "MSGID_ADDED_BY_RELAY", ST_SEV_MEDIUM,
		    h->index, st_arena_printf(an->a, "Message-ID: %s", mid),
		    "The Message-ID was made by %s: it carries %s's name and "
		    "the queue id %s of hop %d. The sending software sent "
		    "none, which mail programs always do; bulk senders often "
		    "don't.", who, h->by, h->id, h->index);
		return;
	}
}

/* --- sender addresses ----------------------------------------------------- */

static bool
path_has_org_of(struct st_analysis *an, const char *provider, const char *dorg)
{
	struct st_trace *t = an->t;
	size_t i;

	/* only hops whose record is believed: a forged lower header naming
	 * the provider proves nothing */
	for (i = 0; i < t->nhops && (int)i <= an->believed; i++) {
		const struct st_hop *h = &t->hops[i];
		const char *o1 = st_an_org(an, h->by);
		const char *o2 = st_an_org(an, observed(h));

		if (provider != NULL && (st_provider_has_server_org(provider,
		    o1) || st_provider_has_server_org(provider, o2)))
			return true;
		/* the sender's own domain: its servers as clients at or
		 * below the boundary, or as the writers of hops below it
		 * (the recipient's own MX is no evidence for a spoof of the
		 * recipient's domain) */
		if (dorg != NULL && has(dorg) && (int)i >= an->boundary &&
		    (st_org_equiv(o2, dorg) || ((int)i > an->boundary &&
		    st_org_equiv(o1, dorg))))
			return true;
	}
	return false;
}

/* The topmost Authentication-Results says dmarc=fail for domain. */
static bool
dmarc_failed(struct st_analysis *an, const char *domain)
{
	const char *v = st_msg_unfolded(an->m, "Authentication-Results"), *p;

	if (v == NULL || (p = st_ascii_strcasestr(v, "dmarc=fail")) == NULL)
		return false;
	p = st_ascii_strcasestr(p, "header.from=");
	return p == NULL || strncasecmp(p + 12, domain, strlen(domain)) == 0;
}

static bool
is_me(const struct st_config *cfg, const char *addr)
{
	return cfg != NULL && has(addr) && st_strlist_has_ci(&cfg->me, addr);
}

/* The evidence of the sender rules, "From: ...", made only for a
 * finding (most messages have none). */
static const char *
from_evidence(struct st_analysis *an, const char *from)
{
	const char *ev = st_msg_unfolded(an->m, "From");

	return st_arena_printf(an->a, "From: %s", ev ? ev : from);
}

static void
rule_sender(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const char *from = t->sum.from_addr, *dom, *prov, *dorg;
	bool me;

	if (!has(from) || an->boundary < 0 || t->nhops == 0)
		return;
	dom = st_addr_domain(an->a, from);
	if (!has(dom))
		return;
	me = is_me(an->cfg, from) || is_me(an->cfg, t->sum.return_path);
	prov = st_provider_of_addr_domain(dom);
	dorg = st_an_org(an, dom);
	if (prov != NULL && !system_sender(t) && !path_has_org_of(an, prov, NULL) &&
	    st_msg_get(an->m, "List-Id", 0) == NULL &&
	    !(an->boundary >= 0 && has(t->hops[an->boundary].auth)))
		st_add_findingf(an, "FREEMAIL_NOT_VIA_PROVIDER", ST_SEV_HIGH,
		    0, from_evidence(an, from),
		    "The sender address is at %s, a large mailbox provider, "
		    "yet the message never passed through %s's servers: "
		    "whoever sent it only wrote that address.", dom,
		    st_provider_display(prov));
	if (me) {
		st_add_findingf(an, "SENDER_FORGED", ST_SEV_HIGH, 0,
		    from_evidence(an, from),
		    "The sender address is yours (%s), but you did not send "
		    "this: the message came from %s. Someone forged your "
		    "address (a joe-job); bounces of it will come back to "
		    "you.", from, has(t->origin.ip) ? t->origin.ip :
		    "elsewhere");
		return;
	}
	if (prov != NULL || path_has_org_of(an, NULL, dorg))
		return;
	if (dmarc_failed(an, dom)) {
		st_add_findingf(an, "SENDER_FORGED", ST_SEV_MEDIUM, 0,
		    from_evidence(an, from),
		    "The receiving server's DMARC check failed for %s: the "
		    "domain's owner did not authorise this sender, and no "
		    "server of %s handled the message.", dom, dorg);
		return;
	}
	/* an unrelated domain: a finding when the path itself is suspect */
	if (st_has_finding(t, "THIRD_PARTY_RELAY") ||
	    st_has_finding(t, "DYNAMIC_SENDER") ||
	    st_has_finding(t, "PRIVATE_NETWORK_SENDER"))
		st_add_findingf(an, "SENDER_FORGED", ST_SEV_MEDIUM, 0,
		    from_evidence(an, from),
		    "The sender address is at %s, but no server of %s handled "
		    "the message, which came from %s: the address is very "
		    "likely spoofed, and its owner a victim.", dom, dorg,
		    has(t->origin.ip) ? t->origin.ip : "elsewhere");
}

/* --- addresses, chain, parse ------------------------------------------------ */

static void
rule_reserved(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	for (i = an->boundary < 0 ? 0 : (size_t)an->boundary; i < t->nhops;
	    i++) {
		const struct st_hop *h = &t->hops[i];

		if (!h->parsed || !has(h->ip) || !st_ip_is_reserved(h->ip))
			continue;
		st_add_findingf(an, "RESERVED_IP", ST_SEV_MEDIUM, h->index,
		    from_part(an, h),
		    "The address %s is reserved (documentation, multicast or "
		    "unallocated space) and can never send mail on the "
		    "internet: this header is forged or broken.", h->ip);
		return;
	}
}

static void
rule_chain(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;
	char lit[64];

	if (an->boundary < 0)
		return;
	for (i = (size_t)an->boundary; i + 1 < t->nhops; i++) {
		const struct st_hop *a = &t->hops[i], *b = &t->hops[i + 1];
		const char *aname, *borg, *aorg;

		if (!a->parsed || !b->parsed || !has(b->by) || b->local ||
		    a->local)
			continue;
		aname = has(observed(a)) ? observed(a) : a->helo;
		if (!has(aname) && !has(a->ip))
			continue;
		if (st_name_same_host(b->by, a->rdns) ||
		    st_name_same_host(b->by, a->helo))
			continue;
		if (st_name_is_ip_literal(b->by, lit, sizeof(lit)) &&
		    has(a->ip) && strcmp(lit, a->ip) == 0)
			continue;
		if (!st_name_is_fqdn(b->by) || st_name_is_localhost(b->by))
			continue;
		borg = st_an_org(an, b->by);
		aorg = st_an_org(an, aname);
		if (st_org_equiv(borg, aorg))
			continue;
		if (!has(aorg) || !has(borg))
			continue;	/* an internal name: nothing to tell */
		st_add_findingf(an, "CHAIN_BREAK", ST_SEV_MEDIUM, b->index,
		    b->raw,
		    "Hop %d says it was written by %s, but the host that "
		    "passed the message on was %s: the headers from here down "
		    "may be forged.", b->index, b->by, aname);
		return;
	}
}

static void
rule_unparsed(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	for (i = 0; i < t->nhops; i++)
		if (!t->hops[i].parsed)
			st_add_findingf(an, "UNPARSEABLE_RECEIVED",
			    t->hops[i].trust == ST_TRUST_TRUSTED ?
			    ST_SEV_INFO : ST_SEV_LOW, t->hops[i].index,
			    t->hops[i].raw,
			    "This Received header could not be read; it is "
			    "kept as it is.");
	if (an->m->defects & (ST_MSG_DEFECT_HEADER_BLOCK | ST_MSG_DEFECT_TOO_MANY |
	    ST_MSG_DEFECT_LONG_VALUE))
		st_add_findingf(an, "HEADER_LIMIT", ST_SEV_LOW, 0, "",
		    "The header is larger than spamtrace analyses (%s): the "
		    "rest was read up to the limit only. Honest mail never "
		    "comes near it.", an->m->defects &
		    ST_MSG_DEFECT_HEADER_BLOCK ? "header block past 8 MB" :
		    an->m->defects & ST_MSG_DEFECT_TOO_MANY ?
		    "more than 10,000 fields" : "a field past 64 KB");
	if (t->hops_dropped)
		st_add_findingf(an, "TOO_MANY_HOPS", ST_SEV_MEDIUM, 0, "",
		    "The message has %zu more Received headers than the %d "
		    "analysed: a loop, or padding to hide the path.",
		    t->hops_dropped, ST_MAX_HOPS);
	else if (t->nhops > ST_LOOP_HOPS)
		st_add_findingf(an, "TOO_MANY_HOPS", ST_SEV_LOW, 0,
		    st_arena_printf(an->a, "%zu Received headers", t->nhops),
		    "The message went through %zu hops; mail servers give up "
		    "at 25 to 50 (RFC 5321 6.3): a forwarding loop, or "
		    "padding to hide the path.", t->nhops);
}

/* --- what else a careful analyst points out -------------------------------- */

static void
rule_mailer(struct st_analysis *an)
{
	static const char *const muas[] = { "Becky!", "Outlook",
	    "Thunderbird", "Eudora", "Sylpheed", "Claws Mail", "The Bat!",
	    "Apple Mail", "Windows Mail", "Shuriken", "Datula", "AL-Mail",
	    "EdMax", NULL };
	struct st_trace *t = an->t;
	const char *xm = t->sum.x_mailer;
	size_t i;

	if (!has(xm))
		return;
	for (i = 0; muas[i] != NULL; i++)
		if (st_ascii_strcasestr(xm, muas[i]) != NULL)
			break;
	if (muas[i] == NULL)
		return;
	if (st_has_finding(t, "MSGID_ADDED_BY_RELAY"))
		st_add_findingf(an, "XMAILER_MISMATCH", ST_SEV_MEDIUM, 0,
		    st_arena_printf(an->a, "X-Mailer: %s", xm),
		    "The message claims to be written with %s, which always "
		    "makes its own Message-ID; this one had none until a "
		    "server added it. The mail program is claimed, not real.",
		    muas[i]);
	else if (st_has_finding(t, "PRIVATE_NETWORK_SENDER") ||
	    st_has_finding(t, "DYNAMIC_SENDER"))
		st_add_findingf(an, "XMAILER_MISMATCH", ST_SEV_LOW, 0,
		    st_arena_printf(an->a, "X-Mailer: %s", xm),
		    "The message claims to be written with %s, a desktop mail "
		    "program that sends through the user's provider; the path "
		    "shows a mail server of the sender's own instead.",
		    muas[i]);
}

static void
rule_to(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const char *rcpt = "";
	int i;

	if (an->boundary < 0)
		return;
	for (i = an->boundary; i >= 0; i--)
		if (has(t->hops[i].for_)) {
			rcpt = t->hops[i].for_;
			break;
		}
	if (!has(rcpt) || !has(t->sum.to_addr))
		return;
	if (st_ascii_strcasestr(t->sum.to, rcpt) != NULL ||
	    strcasecmp(rcpt, t->sum.to_addr) == 0)
		return;
	if (st_msg_get(an->m, "List-Id", 0) != NULL ||
	    st_msg_get(an->m, "Cc", 0) != NULL)
		return;
	for (size_t r = 0; r < t->nrelays; r++)
		if (strcmp(t->relays[r].role, "forwarder") == 0)
			return;		/* an alias: the To is the alias */
	st_add_findingf(an, "TO_NOT_RECIPIENT", ST_SEV_INFO, i + 1 > 0 ?
	    t->hops[i].index : 0, st_arena_printf(an->a, "To: %s", t->sum.to),
	    "The message was delivered to %s, who is not in its To header: "
	    "a blind copy, as bulk mail is usually sent.", rcpt);
}

static void
rule_auth_results(struct st_analysis *an)
{
	const struct st_header *h = st_msg_get(an->m, "Authentication-Results",
	    0);
	static const char *const fails[] = { "spf=fail", "spf=softfail",
	    "dkim=fail", "dmarc=fail", NULL };
	char *v;
	const char *p, *q;
	size_t i, n;
	unsigned found = 0;

	if (h == NULL || an->t->nhops == 0)
		return;
	v = st_hdr_unfold(an->a, h->value, h->value_len, NULL);
	if (v == NULL)
		return;
	n = strlen(v);		/* the text as a string: to a NUL */
	/* every needle ends in "fail": one pass over its places tells which
	 * are there; the first in the table's order wins */
	for (p = v; (q = st_ascii_memcasemem(p, n - (size_t)(p - v), "fail",
	    4)) != NULL; p = q + 1)
		for (i = 0; fails[i] != NULL; i++) {
			size_t k = strlen(fails[i]) - 4;

			if ((size_t)(q - v) >= k &&
			    st_ascii_ieq(q - k, fails[i], k))
				found |= 1u << i;
		}
	for (i = 0; fails[i] != NULL; i++)
		if (found & (1u << i)) {
			st_add_findingf(an, "AUTH_FAILED", i == 1 ? ST_SEV_LOW :
			    ST_SEV_MEDIUM, 0, st_arena_printf(an->a,
			    "Authentication-Results: %s", v),
			    "The receiving server checked the sender's domain "
			    "and the check failed (%s): the domain's owner did "
			    "not authorise this sender.", fails[i]);
			return;
		}
}

void
st_findings_run(struct st_analysis *an)
{
	rule_forged_helo(an);
	rule_relays(an);
	rule_dynamic(an);
	rule_no_rdns(an);
	rule_private(an);
	rule_localhost(an);
	rule_times(an);
	rule_msgid(an);
	rule_mailer(an);
	rule_sender(an);
	rule_reserved(an);
	rule_chain(an);
	rule_unparsed(an);
	rule_to(an);
	rule_auth_results(an);
}

/* --- DNS facts ------------------------------------------------------------ */

void
st_trace_add_dns(struct st_trace *t, struct st_arena *a, const char *ip,
    const struct st_dns_info *dns)
{
	struct st_analysis an;
	size_t i, k;
	const char *rec = "";
	int hop = 0;

	if (ip == NULL || dns == NULL)
		return;
	memset(&an, 0, sizeof(an));
	an.t = t;
	an.a = a;
	an.fcap = t->nfindings;		/* force a copy on growth */
	if (t->origin.present && t->origin.ip && strcmp(t->origin.ip, ip) == 0) {
		t->origin.dns = dns;
		rec = t->origin.rdns;
		hop = t->origin.hop;
	}
	if (t->source.present && t->source.ip && strcmp(t->source.ip, ip) == 0) {
		t->source.dns = dns;
		if (hop == 0)
			hop = t->source.hop;
	}
	for (i = 0; i < t->nrelays; i++)
		if (t->relays[i].ip && strcmp(t->relays[i].ip, ip) == 0) {
			t->relays[i].dns = dns;
			if (hop == 0)
				hop = t->relays[i].hop;
		}
	for (k = 0; k < t->nhops && !has(rec); k++)
		if (t->hops[k].index == hop)
			rec = t->hops[k].rdns;
	if (has(rec) && strcasecmp(rec, "unknown") != 0 && dns->nptr > 0) {
		bool same = false;

		for (i = 0; i < dns->nptr; i++)
			if (st_name_same_host(rec, dns->ptr[i]))
				same = true;
		if (!same)
			st_add_findingf(&an, "PTR_MISMATCH", ST_SEV_LOW, hop,
			    rec, "The reverse name recorded in the header (%s) "
			    "is not what %s's PTR says now (%s): names change, "
			    "or the header is forged.", rec, ip, dns->ptr[0]);
	}
	if (dns->nptr > 0 && dns->fcrdns == 0)
		st_add_findingf(&an, "NO_FCRDNS", ST_SEV_LOW, hop, dns->ptr[0],
		    "%s's reverse name %s does not resolve back to it: the "
		    "name proves nothing about the host.", ip, dns->ptr[0]);
	for (i = 0; i < dns->nlisted; i++)
		st_add_findingf(&an, "DNSBL_LISTED", strstr(dns->listed[i].zone,
		    "dyn") || strstr(dns->listed[i].zone, "pbl") ?
		    ST_SEV_MEDIUM : ST_SEV_MEDIUM, hop,
		    st_arena_printf(a, "%s listed in %s: %s %s", ip,
		    dns->listed[i].zone, dns->listed[i].answer,
		    dns->listed[i].txt),
		    "%s is listed in the DNS blocklist %s%s%s.", ip,
		    dns->listed[i].zone, has(dns->listed[i].txt) ? ": " : "",
		    dns->listed[i].txt);
}
