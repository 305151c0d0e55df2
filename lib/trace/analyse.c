/*
 * analyse.c - the trace: trust boundary, origin, source estimate, relay
 * roles, contacts and the verdict paragraph.  The findings are in
 * findings.c.
 *
 * Trust starts at the recipient's own systems: the topmost Received (or
 * the host the caller names as the trusted top: the bouncing system, the
 * milter's connection) and the hosts and networks of the configuration.
 * Walking down, a hop stays trusted while its sender is inside: a
 * configured network or host, loopback, a private-network handover with
 * more hops below, a host of the same organisation (registrable domain by
 * libpsl, or one large provider of data/providers.txt: many names, one
 * organisation), or a local handover with no network client.  The first
 * hop whose sender is outside is the boundary; its sender is the origin:
 * the address the recipient's own systems saw, the one to report.
 *
 * Below the origin only what can be believed is followed: the record the
 * origin host itself wrote, when that host is an abused relay (its MTA
 * logged who connected to it) or the sender's provider (its own customer,
 * an authenticated submission, a webmail login).  An end-user or dynamic
 * origin writes its own lower headers: those are claims, never facts.
 *
 * Standards: RFC 5321 4.4 (trace information), RFC 5322 3.6.7, RFC 2142
 * (abuse@, postmaster@), RFC 8314 / RFC 6409 (submission).
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/limits.h"
#include "trace_int.h"
#include "util/ascii.h"
#include "util/fmt.h"

/* --- small helpers ------------------------------------------------------ */

static const char *
S(const char *s)
{
	return s != NULL ? s : "";
}

static bool
has(const char *s)
{
	return s != NULL && *s != '\0';
}

/* The first word after "from", when it is a host name (the name the
 * client gave, in formats that record no reverse name). */
static const char *
from_word(struct st_analysis *an, const struct st_hop *h)
{
	const char *r = h->raw, *e;

	if (has(h->helo))
		return h->helo;
	if (r == NULL || strncasecmp(r, "from ", 5) != 0)
		return "";
	r += 5;
	while (*r == ' ')
		r++;
	for (e = r; *e && *e != ' ' && *e != '(' && *e != ';'; e++)
		;
	if (e - r > 253)
		return "";
	{
		char *w = st_arena_strndup(an->a, r, (size_t)(e - r));

		return w != NULL && st_name_is_fqdn(w) ? w : "";
	}
}

/* The name the receiving server observed for the client, if believable. */
static const char *
observed_name(const struct st_hop *h)
{
	/* the first letter settles "unknown" for most names */
	if (!has(h->rdns) || h->rdns_unverified ||
	    ((h->rdns[0] | 0x20) == 'u' && strcasecmp(h->rdns, "unknown") == 0))
		return "";
	return h->rdns;
}

static const char *
org(struct st_analysis *an, const char *host)
{
	return st_an_org(an, host);
}

/*
 * st_org_of() for the analysis: the findings ask about the same few names
 * (a hop's by, helo and client, the sender's domain) again and again, from
 * copies as often as from the hop itself, so the answers are kept in a
 * table found by the name's text: its length and its first and last
 * eight bytes, mixed; a copy of the name settles it.
 */
static uint64_t
name_key(const char *s, size_t n)
{
	uint64_t x = 0, y = 0;

	if (n >= 8) {
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
	} else
		memcpy(&x, s, n);
	x = (x ^ (y * 0x9e3779b97f4a7c15u) ^ n) * 0xff51afd7ed558ccdu;
	return x ^ (x >> 29);
}

const char *
st_an_org(struct st_analysis *an, const char *host)
{
	const char *o;
	char *copy;
	size_t n;
	uint64_t key;
	unsigned k;

	if (host == NULL || *host == '\0')
		return st_org_of(an->a, host);
	n = strlen(host);
	key = name_key(host, n);
	k = (unsigned)(key >> 58) & (ST_ORG_MEMO - 1);
	if ((an->org_used >> k & 1) && an->org_memo[k].key == key &&
	    memcmp(an->org_memo[k].name, host, n + 1) == 0)
		return an->org_memo[k].org;
	o = st_org_of(an->a, host);
	if ((copy = st_arena_strndup(an->a, host, n)) != NULL) {
		an->org_used |= (uint64_t)1 << k;
		an->org_memo[k].key = key;
		an->org_memo[k].name = copy;
		an->org_memo[k].org = o;
	}
	return o;
}

static bool
host_trusted_by_name(const struct st_config *cfg, const char *name)
{
	size_t i, n, ln;

	if (cfg == NULL || !has(name))
		return false;
	n = strlen(name);
	for (i = 0; i < cfg->trust_hosts.n; i++) {
		const char *t = cfg->trust_hosts.v[i];

		ln = strlen(t);
		if (strcasecmp(t, name) == 0)
			return true;
		/* ".example.jp" or "example.jp" covers sub.example.jp */
		if (t[0] == '.' && n > ln &&
		    strcasecmp(name + n - ln, t) == 0)
			return true;
		if (t[0] != '.' && n > ln + 1 && name[n - ln - 1] == '.' &&
		    strcasecmp(name + n - ln, t) == 0)
			return true;
	}
	return false;
}

static bool
ip_trusted(const struct st_config *cfg, const char *ip)
{
	return cfg != NULL && has(ip) &&
	    st_net_contains(cfg->trust_nets, cfg->ntrust_nets, ip);
}

/*
 * Was hop `below` written by the host that is the sender of hop `above`?
 * 1 yes, 0 no, -1 cannot tell (no receiving host recorded).
 */
static int
chain_match_1(struct st_analysis *an, const struct st_hop *above,
    const struct st_hop *below)
{
	char lit[64];
	const char *by = below->by, *o1, *o2;

	if (!below->parsed || !has(by))
		return -1;
	/* a hop with no network client ("by host with SMTP id", a loopback
	 * handover) was written by the host that also writes the next one */
	if ((!has(above->ip) && !has(above->rdns) && !has(above->helo)) ||
	    (has(above->ip) && st_ip_loopback_c(above->ip))) {
		if (has(above->by) && st_name_same_host(by, above->by))
			return 1;
		if (st_name_is_fqdn(by) && st_name_is_fqdn(above->by) &&
		    st_org_equiv(org(an, by), org(an, above->by)))
			return 1;
		if (!has(above->ip) && !has(above->by))
			return -1;
	}
	if (st_name_is_ip_literal(by, lit, sizeof(lit)))
		return has(above->ip) && strcmp(lit, above->ip) == 0 ? 1 :
		    (has(above->ip) ? 0 : -1);
	if (st_name_same_host(by, above->rdns) ||
	    st_name_same_host(by, from_word(an, above)))
		return 1;
	if (st_name_is_localhost(by) && (st_name_is_localhost(above->helo) ||
	    !st_name_is_fqdn(above->helo)))
		return 1;
	if (!st_name_is_fqdn(by))
		return -1;
	o1 = org(an, by);
	o2 = org(an, has(observed_name(above)) ? above->rdns :
	    from_word(an, above));
	if (has(o1) && st_org_equiv(o1, o2))
		return 1;
	if (!has(o1)) {
		/* "EXCH01.example-corp.local" under "mail.example-corp.de":
		 * an internal name; the same company label is a match, else
		 * nothing can be told */
		const char *last = strrchr(by, '.'), *p;
		size_t n;

		if (last != NULL && has(o2)) {
			for (p = last; p > by && p[-1] != '.'; p--)
				;
			n = (size_t)(last - p);
			if (n > 0 && strncasecmp(p, o2, n) == 0 && o2[n] == '.')
				return 1;
		}
		return -1;
	}
	return 0;
}

/* chain_match_1(), remembered: the trust walk, the origin's name, the
 * source and the relays ask about the same pairs (the hops do not change
 * during an analysis). */
static int
chain_match(struct st_analysis *an, const struct st_hop *above,
    const struct st_hop *below)
{
	unsigned i, k;
	int r;

	for (i = 0; i < ST_CHAIN_MEMO && i < an->chain_next; i++)
		if (an->chain_memo[i].above == above &&
		    an->chain_memo[i].below == below)
			return an->chain_memo[i].match;
	r = chain_match_1(an, above, below);
	k = an->chain_next++ % ST_CHAIN_MEMO;
	an->chain_memo[k].above = above;
	an->chain_memo[k].below = below;
	an->chain_memo[k].match = r;
	return r;
}

/* --- findings list -------------------------------------------------------- */

void
st_add_finding(struct st_analysis *an, const char *code, enum st_severity sev,
    int hop, const char *evidence, const char *explain)
{
	struct st_trace *t = an->t;
	struct st_finding *f;

	if (t->nfindings == an->fcap) {
		size_t ncap = an->fcap ? an->fcap * 2 : 16;
		struct st_finding *nf = st_arena_grow(an->a, t->findings,
		    t->nfindings, ncap, sizeof(*nf));

		if (nf == NULL)
			return;
		t->findings = nf;
		an->fcap = ncap;
	}
	f = &t->findings[t->nfindings++];
	f->code = code;
	f->severity = sev;
	f->hop = hop;
	f->evidence = S(evidence);
	f->explain = S(explain);
}

void
st_add_findingf(struct st_analysis *an, const char *code, enum st_severity sev,
    int hop, const char *evidence, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	int n;

	va_start(ap, fmt);
	n = st_vfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* what was written: the text, cut at the buffer's end */
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)strlen(buf);
	st_add_finding(an, code, sev, hop, evidence,
	    st_arena_strndup(an->a, buf, (size_t)n));
}

bool
st_has_finding(const struct st_trace *t, const char *code)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, code) == 0)
			return true;
	return false;
}

static void
add_relay(struct st_analysis *an, int hop, const char *host, const char *ip,
    const char *role)
{
	struct st_trace *t = an->t;
	struct st_relay *r;
	size_t i;

	for (i = 0; i < t->nrelays; i++)
		if ((has(host) && strcasecmp(t->relays[i].host, host) == 0) ||
		    (!has(host) && has(ip) && strcmp(t->relays[i].ip, ip) == 0))
			return;
	if (t->nrelays == an->rcap) {
		size_t ncap = an->rcap ? an->rcap * 2 : 8;
		struct st_relay *nr = st_arena_grow(an->a, t->relays,
		    t->nrelays, ncap, sizeof(*nr));

		if (nr == NULL)
			return;
		t->relays = nr;
		an->rcap = ncap;
	}
	r = &t->relays[t->nrelays++];
	r->hop = hop;
	r->host = S(host);
	r->ip = S(ip);
	r->org = org(an, host);
	r->role = role;
}

static void
add_contact(struct st_analysis *an, const char *domain, const char *for_,
    const char *what)
{
	static const char *const boxes[] = { "abuse@", "postmaster@" };
	struct st_trace *t = an->t;
	size_t i, k, dn;

	if (!has(domain))
		return;
	dn = strlen(domain);
	for (k = 0; k < 2; k++) {
		size_t bn = strlen(boxes[k]);
		char *addr = st_arena_alloc_raw(an->a, bn + dn + 1);

		if (addr == NULL)
			return;
		memcpy(addr, boxes[k], bn);
		memcpy(addr + bn, domain, dn + 1);
		for (i = 0; i < t->ncontacts; i++)
			if (strcasecmp(t->contacts[i].address, addr) == 0)
				break;
		if (i < t->ncontacts)
			continue;
		if (t->ncontacts == an->ccap) {
			size_t ncap = an->ccap ? an->ccap * 2 : 8;
			struct st_contact *nc = st_arena_grow(an->a,
			    t->contacts, t->ncontacts, ncap, sizeof(*nc));

			if (nc == NULL)
				return;
			t->contacts = nc;
			an->ccap = ncap;
		}
		t->contacts[t->ncontacts].address = addr;
		t->contacts[t->ncontacts].for_ = for_;
		t->contacts[t->ncontacts].why = st_arena_printf(an->a,
		    "%s of %s, the network of %s (RFC 2142)",
		    k == 0 ? "abuse desk" : "postmaster", domain, what);
		t->ncontacts++;
	}
}

/* --- trust ------------------------------------------------------------------ */

/* Is the sender of trusted hop i inside the recipient's systems? */
static bool
sender_inside(struct st_analysis *an, size_t i)
{
	struct st_trace *t = an->t;
	const struct st_hop *h = &t->hops[i], *below;
	const char *name = observed_name(h), *o;

	if (h->local)
		return true;
	if (ip_trusted(an->cfg, h->ip) || host_trusted_by_name(an->cfg, name))
		return true;
	below = i + 1 < t->nhops ? &t->hops[i + 1] : NULL;
	/* Exchange / Office 365 write "from HELO (ip) by ...": no reverse
	 * name; between their own servers the name given is what there is,
	 * and the chain check below corroborates it */
	if (!has(name) && has(h->ip))
		name = from_word(an, h);
	o = org(an, has(name) ? name : (has(h->ip) ? "" : h->helo));
	if (has(o) && st_org_equiv(o, an->recipient_org) && below != NULL &&
	    chain_match(an, h, below) != 0)
		return true;	/* another server of the same organisation */
	/* a private client that wrote the hop below is a handover inside
	 * the site, whatever protocol word ("with HTTPS") the line has */
	if (has(h->ip) && st_ip_private_c(h->ip) && below != NULL &&
	    below->parsed && chain_match(an, h, below) == 1)
		return true;
	if (has(h->auth))
		return false;	/* a submission: the client is the origin */
	if (has(h->ip) && st_ip_loopback_c(h->ip))
		return below != NULL;
	if (has(h->ip) && st_ip_private_c(h->ip))
		return below != NULL && below->parsed &&
		    chain_match(an, h, below) != 0;
	if (!has(h->ip) && !has(name) && !has(h->helo))
		return below != NULL;	/* "by host with LMTP" and the like */
	return false;
}

/*
 * The receiving side's own SPF verdict names the client it took for the
 * outside one: "Received-SPF: Pass (...) client-ip=40.107.74.58" or
 * "Authentication-Results: ...; spf=pass (sender IP is 40.107.74.58)".
 * Returns the index of the hop below that header with that client
 * address, or -1.  Used only to stop the trust walk earlier, never to
 * extend it, so a forged header cannot move the origin down.
 */
static int
spf_boundary(struct st_analysis *an)
{
	struct st_msg *m = an->m;
	struct st_trace *t = an->t;
	size_t i, nrcvd = 0, k;

	for (i = 0; i < m->nhdrs; i++) {
		const struct st_header *h = &m->hdrs[i];
		const char *p, *key;
		char *v, ip[64];
		size_t n;

		if (h->name_len == 8 && st_ascii_ieq(h->name, "Received", 8)) {
			nrcvd++;
			continue;
		}
		if (!((h->name_len == 12 &&
		    st_ascii_ieq(h->name, "Received-SPF", 12)) ||
		    (h->name_len == 22 &&
		    st_ascii_ieq(h->name, "Authentication-Results", 22))))
			continue;
		v = st_hdr_unfold(an->a, h->value, h->value_len, NULL);
		if (v == NULL)
			continue;
		if ((p = st_ascii_strcasestr(v, key = "client-ip=")) == NULL &&
		    (p = st_ascii_strcasestr(v, key = "sender IP is ")) == NULL)
			continue;
		p += strlen(key);
		n = strcspn(p, " ;)");
		if (!st_ip_normalise(p, n, ip, sizeof(ip)))
			continue;
		for (k = nrcvd; k < t->nhops; k++)
			if (t->hops[k].parsed && strcmp(t->hops[k].ip, ip) == 0)
				return (int)k;
		return -1;	/* the topmost verdict only */
	}
	return -1;
}

static void
find_boundary(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;
	int spf = spf_boundary(an);

	an->boundary = -1;
	for (i = 0; i < t->nhops; i++) {
		t->hops[i].trust = ST_TRUST_TRUSTED;
		if (!t->hops[i].parsed)
			continue;
		if ((int)i == spf || !sender_inside(an, i)) {
			an->boundary = (int)i;
			break;
		}
	}
	if (an->boundary < 0) {
		/* everything inside: the lowest hop with a client address
		 * is where the message came from (internal mail) */
		for (i = t->nhops; i-- > 0;)
			if (t->hops[i].parsed && has(t->hops[i].ip)) {
				an->boundary = (int)i;
				break;
			}
	}
	if (an->boundary < 0)
		return;
	t->hops[an->boundary].trust = ST_TRUST_BOUNDARY;
	for (i = (size_t)an->boundary + 1; i < t->nhops; i++)
		t->hops[i].trust = ST_TRUST_UNTRUSTED;
}

/* Headers some receivers add with the connecting address when their
 * Received line does not carry it (Yahoo's of the early 2000s). */
static const char *
receiver_annotation_ip(struct st_analysis *an)
{
	static const char *const names[] = { "X-YahooFilteredBulk",
	    "X-Rocket-Spam", NULL };
	size_t k;
	char ip[64];

	for (k = 0; names[k] != NULL; k++) {
		char *v = st_msg_unfolded(an->m, names[k]);

		if (v != NULL && st_ip_normalise(v, strlen(v), ip, sizeof(ip)))
			return st_arena_strdup(an->a, ip);
	}
	return NULL;
}

/* The best name of the origin host: its verified reverse name, else a
 * HELO name that the host's own lower hop corroborates, else the name it
 * gives itself in that hop. */
static const char *
origin_name(struct st_analysis *an, const struct st_hop *h,
    const struct st_hop *below)
{
	const char *name = observed_name(h);

	if (st_name_is_fqdn(name))
		return name;
	if (below != NULL && below->parsed && has(below->by)) {
		if (st_name_is_fqdn(h->helo) &&
		    st_name_same_host(h->helo, below->by))
			return h->helo;
		if (st_name_is_fqdn(below->by) &&
		    st_name_same_host(below->by, h->helo))
			return below->by;
		/* "mail.example-corp.com.ec" above an internal
		 * "SRVEXCH01.example-corp.local": the company label holds */
		if (st_name_is_fqdn(h->helo) && has(h->ip) &&
		    !st_name_is_fqdn(org(an, below->by)) &&
		    chain_match(an, h, below) == 1)
			return h->helo;
	}
	if (!has(h->ip) && st_name_is_fqdn(h->helo))
		return h->helo;		/* no address recorded at all */
	return "";
}

/*
 * When the receiver recorded no reverse name (Exchange Online writes the
 * HELO only), its own SPF verdict can vouch for the name: a pass for the
 * origin's address means the sending domain authorised that address, and
 * the HELO (in the same domain) names the host.  A softfail or fail
 * vouches for nothing.
 */
static const char *
spf_vouched_name(struct st_analysis *an, const struct st_hop *bh,
    const char *ip)
{
	const char *helo = from_word(an, bh), *h_org;
	char *v;
	size_t k;

	if (!st_name_is_fqdn(helo))
		return "";
	h_org = org(an, helo);
	if (!has(h_org))
		return "";
	for (k = 0; k < 2; k++) {
		v = st_msg_unfolded(an->m, k == 0 ? "Received-SPF" :
		    "Authentication-Results");
		if (v == NULL || strstr(v, ip) == NULL)
			continue;
		if ((k == 0 && strncasecmp(v, "pass", 4) == 0) ||
		    (k == 1 && st_ascii_strcasestr(v, "spf=pass") != NULL)) {
			/* the passing domain must be the HELO's organisation */
			if (st_ascii_strcasestr(v, h_org) != NULL)
				return helo;
		}
	}
	return "";
}

/* --- source and roles ------------------------------------------------------ */

/* The bare address of a "for" value, lower-case, in the arena. */
static const char *
for_addr(struct st_analysis *an, const char *f)
{
	char *a, *p;

	if (!has(f) || (a = st_addr_extract(an->a, f, strlen(f))) == NULL)
		return "";
	for (p = a; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return a;
}

/*
 * Did the origin host forward the message to a new address?  An open
 * relay passes RCPT TO on unchanged; an alias or a forwarding rule
 * changes it: the recipient in the origin's own hop differs from the one
 * the recipient's side delivered to.  A Sender Rewriting Scheme envelope
 * sender ("SRS0=...") says the same.
 */
static bool
forwarded(struct st_analysis *an, const struct st_hop *rec)
{
	struct st_trace *t = an->t;
	const char *inner = for_addr(an, rec->for_), *outer = "", *rp;
	int i;

	rp = t->sum.return_path;
	if (has(rp) && (strncasecmp(rp, "SRS0=", 5) == 0 ||
	    strncasecmp(rp, "SRS1=", 5) == 0))
		return true;
	for (i = an->boundary; i >= 0 && !has(outer); i--)
		outer = for_addr(an, t->hops[i].for_);
	if (!has(outer)) {
		char *dt = st_msg_unfolded(an->m, "Delivered-To");

		if (dt != NULL)
			outer = for_addr(an, dt);
	}
	return has(inner) && has(outer) && strcmp(inner, outer) != 0 &&
	    strchr(inner, '@') != NULL && strchr(outer, '@') != NULL;
}

static const char *
recipient_domain(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	int i;

	for (i = an->boundary + 1; i >= 0; i--)
		if ((size_t)i < t->nhops && has(t->hops[i].for_))
			return st_addr_domain(an->a, t->hops[i].for_);
	return st_addr_domain(an->a, t->sum.to_addr);
}

static void
source_and_roles(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	const struct st_hop *rec = NULL, *above;
	const char *oorg = t->origin.org, *role = NULL, *why = NULL;
	const char *rorg, *corg, *sender_dom, *list_id, *oprov;
	size_t k;
	int rec_i = -1;

	t->source.present = true;
	t->source.ip = t->origin.ip;
	t->source.hop = t->origin.hop;
	an->source_hop = an->boundary;

	/*
	 * The record written by the origin host: the hop below it, if the
	 * chain holds, and on through the hops inside the origin's own
	 * organisation (a provider's internal relays, a submission server,
	 * an API front end) down to the first client from outside it.
	 */
	above = &t->hops[an->boundary];
	for (k = (size_t)an->boundary + 1; k < t->nhops; k++) {
		const struct st_hop *h = &t->hops[k];
		const struct st_hop *next = k + 1 < t->nhops ? &t->hops[k + 1] :
		    NULL;
		bool in_org, inside;
		int cm;

		if (!h->parsed)
			break;
		if (!has(h->by) && !has(h->ip) && h->local)
			continue;	/* "(qmail 123 invoked from network)" */
		cm = chain_match(an, above, h);
		in_org = st_name_is_fqdn(h->by) && has(oorg) &&
		    st_org_equiv(org(an, h->by), oorg);
		if (cm == 0 && !in_org)
			break;		/* written by someone else */
		if (cm < 0 && !in_org && k > (size_t)an->boundary + 1)
			break;		/* deeper and unknown: stop */
		rec = h;
		rec_i = (int)k;
		if (an->origin_dynamic || has(h->auth) || next == NULL)
			break;
		/* is this hop's client still inside the organisation? */
		corg = org(an, observed_name(h));
		if (!has(h->ip) && !has(h->rdns) && !has(h->helo))
			inside = true;		/* no client: an internal step */
		else if (has(h->ip) && st_ip_loopback_c(h->ip))
			inside = true;		/* the same machine */
		else if (has(corg))
			inside = has(oorg) && st_org_equiv(corg, oorg);
		else if (has(h->ip) && st_ip_private_c(h->ip))
			inside = chain_match(an, h, next) == 1 ||
			    (st_name_is_fqdn(next->by) && has(oorg) &&
			    st_org_equiv(org(an, next->by), oorg));
		else if (has(oorg) && st_org_equiv(org(an, h->helo), oorg))
			inside = chain_match(an, h, next) == 1;
		else if (has(h->ip) && !has(h->helo) && !has(h->rdns))
			/* "from [114.111.99.159] by nm22.bullet..." */
			inside = st_name_is_fqdn(next->by) && has(oorg) &&
			    st_org_equiv(org(an, next->by), oorg);
		else
			inside = false;
		if (!inside)
			break;
		above = h;
	}
	if (rec == NULL) {
		t->source.why = an->origin_dynamic ?
		    "the origin is an end-user address that spoke SMTP to "
		    "the recipient's side directly; nothing below it is "
		    "recorded" :
		    "no hop below the origin was written by the origin host: "
		    "the origin is the best estimate";
		return;
	}
	rorg = oorg;
	/* the client's organisation: from the name the relay looked up; a
	 * HELO alone is a claim, used only when it names a large provider
	 * (which never hands its mail to other people's relays) */
	corg = org(an, observed_name(rec));
	if (!has(corg) && st_provider_of_server_org(org(an, rec->helo)) != NULL)
		corg = org(an, rec->helo);
	sender_dom = st_addr_domain(an->a, has(rec->envfrom) ? rec->envfrom :
	    (has(t->sum.return_path) ? t->sum.return_path : t->sum.from_addr));
	list_id = st_msg_unfolded(an->m, "List-Id");

	oprov = st_provider_of_server_org(oorg);
	if (rec->local && !has(rec->ip)) {
		role = NULL;
		why = "the origin host wrote the message itself (a local "
		    "program handed it to its own mail server)";
	} else if (list_id != NULL && has(sender_dom) && has(rorg) &&
	    st_org_equiv(st_an_org(an, sender_dom), rorg) &&
	    !an->origin_dynamic) {
		role = "forwarder";
		why = "the origin host is a mailing list that redistributes "
		    "mail (List-Id, and its own envelope sender): the origin "
		    "is what it answers for";
	} else if (has(rec->ip) && st_ip_loopback_c(rec->ip) &&
	    !an->origin_dynamic) {
		role = NULL;
		why = "a program on the origin host itself handed the message "
		    "to its mail server: the origin is the source";
	} else if (!has(rec->ip) && !has(rec->rdns) && !has(rec->helo) &&
	    !an->origin_dynamic && st_name_is_fqdn(rec->by) && has(oorg) &&
	    st_org_equiv(org(an, rec->by), oorg)) {
		role = "sender-provider";
		why = "the message entered the origin's network through its "
		    "own interface (web, API or internal submission), which "
		    "records no client address: the origin is the best "
		    "estimate";
	} else if ((oprov != NULL || st_org_is_hosting(oorg)) &&
	    has(rec->ip) && !has(rec->auth) && st_ip_private_c(rec->ip) &&
	    !an->origin_dynamic) {
		role = "sender-provider";
		why = st_arena_printf(an->a, "the message came from %s's own "
		    "back end (%s, a private address): the origin is where it "
		    "entered the internet", oprov != NULL ?
		    st_provider_display(oprov) : oorg, rec->ip);
	} else if (an->origin_dynamic) {
		role = "sender-gateway";
		an->private_lan = true;
		why = st_arena_printf(an->a, "the origin %s is an end-user "
		    "address (%s) running its own mail server: the hops below "
		    "it were written by the sender's own machine and are "
		    "claims, not facts", t->origin.ip, an->origin_dynamic_why);
	} else if (has(rec->auth)) {
		role = "sender-provider";
		if (has(rec->ip) && !st_ip_private_c(rec->ip) &&
		    !st_ip_is_reserved(rec->ip) && !st_ip_loopback_c(rec->ip)) {
			t->source.ip = rec->ip;
			t->source.hop = rec->index;
			an->source_hop = rec_i;
			why = st_arena_printf(an->a, "authenticated submission "
			    "(%s) recorded by %s, the sender's provider",
			    rec->auth, S(an->origin_host));
		} else
			why = "authenticated submission from a private "
			    "network; the origin is where it entered the "
			    "internet";
	} else if (has(rec->ip) && (st_ip_private_c(rec->ip) ||
	    st_ip_loopback_c(rec->ip))) {
		role = "sender-gateway";
		an->private_lan = true;
		why = st_arena_printf(an->a, "the origin host received the "
		    "message from %s on a private network: the origin is where "
		    "it entered the internet", rec->ip);
	} else if (has(corg) && has(rorg) && st_org_equiv(corg, rorg)) {
		role = "sender-provider";
		if (has(rec->ip)) {
			t->source.ip = rec->ip;
			t->source.hop = rec->index;
			an->source_hop = rec_i;
			why = st_arena_printf(an->a, "recorded by %s, the "
			    "sender's provider, about its own customer",
			    S(an->origin_host));
		}
	} else if (has(rorg) && (st_org_equiv(st_an_org(an,
	    an->recipient_domain), rorg) || (list_id != NULL &&
	    st_org_equiv(st_an_org(an, sender_dom), rorg)))) {
		role = "forwarder";
		why = "the origin host forwards or redistributes mail (a "
		    "mailing list or an alias): the origin is what it "
		    "answers for";
	} else if (has(sender_dom) && has(rorg) &&
	    st_org_equiv(st_an_org(an, sender_dom), rorg) &&
	    !has(rec->ip) && !has(rec->helo)) {
		role = "sender-provider";
	} else if (forwarded(an, rec)) {
		role = "forwarder";
		why = "the origin host forwarded the message to a new address "
		    "(an alias or a forwarding rule): the origin is what it "
		    "answers for";
	} else if (oprov != NULL && (has(rec->ip) || has(rec->helo))) {
		/* a mailbox provider's own servers do not relay for
		 * strangers: an unnamed client is its customer */
		role = "sender-provider";
		if (has(rec->ip) && !st_ip_is_reserved(rec->ip) &&
		    !st_ip_private_c(rec->ip) && !st_ip_loopback_c(rec->ip)) {
			t->source.ip = rec->ip;
			t->source.hop = rec->index;
			an->source_hop = rec_i;
		}
		why = st_arena_printf(an->a, "recorded by %s, the sender's "
		    "mailbox provider (%s), about its own customer",
		    S(an->origin_host), st_provider_display(oprov));
	} else if (!has(corg) && (has(rec->ip) || has(rec->helo))) {
		/* the client has no name: whether it was the relay's own
		 * customer cannot be told from its address; the sender's
		 * domain decides, and the verdict says "probably" */
		if (has(sender_dom) && st_org_equiv(st_an_org(an,
		    sender_dom), rorg))
			role = "sender-provider";
		else {
			role = "third-party-relay";
			an->relay_unsure = true;
		}
		if (has(rec->ip) && !st_ip_is_reserved(rec->ip) &&
		    !st_ip_private_c(rec->ip) && !st_ip_loopback_c(rec->ip)) {
			t->source.ip = rec->ip;
			t->source.hop = rec->index;
			an->source_hop = rec_i;
		}
		why = st_arena_printf(an->a, "recorded by %s, which relayed "
		    "the message: its own MTA logged the address that "
		    "connected to it", S(an->origin_host));
	} else if (has(rec->ip) || has(rec->helo) || has(rec->rdns)) {
		role = "third-party-relay";
		if (has(rec->ip) && !st_ip_is_reserved(rec->ip)) {
			t->source.ip = rec->ip;
			t->source.hop = rec->index;
			an->source_hop = rec_i;
			why = st_arena_printf(an->a, "recorded by %s, a relay "
			    "that passed mail between parties outside its own "
			    "network: its own MTA logged the address that "
			    "connected to it", S(an->origin_host));
		} else
			why = st_arena_printf(an->a, "%s relayed the message "
			    "but recorded no address for its client (only "
			    "the name it claimed, '%s'): the relay is the "
			    "best estimate", S(an->origin_host),
			    has(rec->helo) ? rec->helo : rec->rdns);
	}
	if (role != NULL && !an->origin_dynamic &&
	    strcmp(role, "sender-gateway") != 0 && rec_i > an->believed)
		an->believed = rec_i;
	if (role != NULL && an->boundary >= 0)
		add_relay(an, t->origin.hop,
		    has(an->origin_host) ? an->origin_host : "",
		    t->origin.ip, role);
	t->source.why = why != NULL ? why :
	    "the hops below the origin cannot be believed: the origin is "
	    "the best estimate";
}

static void
recipient_side_relays(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	size_t i;

	for (i = 0; i < t->nhops && (int)i <= an->boundary; i++) {
		const struct st_hop *h = &t->hops[i];
		const char *ip = "";

		if (!h->parsed || !has(h->by) || h->local)
			continue;
		if (i > 0 && chain_match(an, &t->hops[i - 1], h) == 1)
			ip = t->hops[i - 1].ip;
		if (!st_name_is_fqdn(h->by) && !has(ip))
			continue;
		add_relay(an, h->index, h->by, ip, "recipient-side");
	}
}

/* --- the verdict ------------------------------------------------------------ */

static void
verdict(struct st_analysis *an)
{
	struct st_trace *t = an->t;
	char buf[4096];
	size_t n = 0, i;
	bool relay = false, forged = false, dyn = false;

#define V(...)	do { if (n < sizeof(buf)) n += (size_t)st_fmt(buf + n, \
	    sizeof(buf) - n, __VA_ARGS__); } while (0)
	if (!t->origin.present) {
		if (t->nhops == 0)
			V("The message has no Received headers: it was written "
			    "where it was read, or its path was stripped.");
		else
			V("No hop outside the recipient's own systems could be "
			    "identified.");
		t->verdict = st_arena_strdup(an->a, buf);
		return;
	}
	V("The message entered the recipient's systems from %s%s%s%s at hop "
	    "%d; that address is verifiable and is the one to report.",
	    has(t->origin.ip) ? t->origin.ip : "(no address recorded)",
	    has(an->origin_host) ? " (" : "", S(an->origin_host),
	    has(an->origin_host) ? ")" : "", t->origin.hop);
	for (i = 0; i < t->nrelays; i++)
		if (strcmp(t->relays[i].role, "third-party-relay") == 0) {
			V(" %s was abused as an open relay: it passed mail "
			    "between parties outside its own network.",
			    has(t->relays[i].host) ? t->relays[i].host :
			    t->relays[i].ip);
			relay = true;
		}
	if (t->source.present && has(t->source.ip) &&
	    strcmp(t->source.ip, S(t->origin.ip)) != 0)
		V(" The earliest believable source is %s (%s).", t->source.ip,
		    t->source.why);
	for (i = 0; i < t->nfindings; i++) {
		const char *c = t->findings[i].code;

		if (strcmp(c, "DYNAMIC_SENDER") == 0)
			dyn = true;
		if (strcmp(c, "FORGED_HELO") == 0 ||
		    strcmp(c, "SENDER_FORGED") == 0 ||
		    strcmp(c, "FREEMAIL_NOT_VIA_PROVIDER") == 0)
			forged = true;
	}
	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, "PRIVATE_NETWORK_SENDER") == 0) {
			const struct st_hop *ph = NULL;
			size_t k;

			for (k = 0; k < t->nhops; k++)
				if (t->hops[k].index == t->findings[i].hop)
					ph = &t->hops[k];
			if (ph != NULL)
				V(" Behind it, a machine on a private network "
				    "(%s%s%s) handed the message to the sender's "
				    "own mail server, which sent it straight to "
				    "the internet.", ph->ip, *ph->helo ? ", via " :
				    "", ph->helo);
			break;
		}
	if (forged) {
		V(" Forged:");
		if (st_has_finding(t, "FORGED_HELO"))
			V(" the name the sending host gave (HELO)%s",
			    st_has_finding(t, "SENDER_FORGED") ||
			    st_has_finding(t, "FREEMAIL_NOT_VIA_PROVIDER") ?
			    " and" : ".");
		if (st_has_finding(t, "SENDER_FORGED") ||
		    st_has_finding(t, "FREEMAIL_NOT_VIA_PROVIDER"))
			V(" the sender address (%s).", has(t->sum.from_addr) ?
			    t->sum.from_addr : "From");
	}
	if (relay)
		V(" What to do: tell the relay's postmaster to close it "
		    "(accept mail only for its own domains and users).");
	if (dyn)
		V(" %she sending machine is an end-user address talking SMTP "
		    "directly; its provider should block outbound port 25 "
		    "(OP25B) for such customers.", relay ? "T" : "What to do: t");
	if (!relay && !dyn && t->ncontacts > 0)
		V(" Report it to %s.", t->contacts[0].address);
#undef V
	t->verdict = st_arena_strdup(an->a, buf);
}

/* --- entry points --------------------------------------------------------- */

static enum st_status
insert_top(struct st_analysis *an, const struct st_top_hop *top)
{
	struct st_trace *t = an->t;
	struct st_hop *nh, *h;

	nh = st_arena_alloc(an->a, (t->nhops + 1) * sizeof(*nh));
	if (nh == NULL)
		return ST_ENOMEM;
	if (t->nhops)
		memcpy(nh + 1, t->hops, t->nhops * sizeof(*nh));
	h = &nh[0];
	memset(h, 0, sizeof(*h));
	h->index = 0;
	h->raw = "(the connection, as reported by the MTA)";
	h->ip = S(top->ip);
	h->rdns = S(top->rdns);
	h->helo = S(top->helo);
	h->by = S(top->by);
	h->auth = S(top->auth);
	h->ident = h->envfrom = h->id = h->for_ = "";
	h->with = "SMTP";
	h->mta = "milter";
	h->parsed = true;
	t->hops = nh;
	t->nhops++;
	return ST_OK;
}

enum st_status
st_trace_message(struct st_msg *m, const struct st_config *cfg,
    const struct st_top_hop *top, struct st_trace *t, struct st_error *err)
{
	struct st_analysis an;
	enum st_status rc;
	const struct st_hop *bh = NULL;
	const char *ip;

	if ((rc = st_trace_hops(m, t)) != ST_OK)
		return st_error_set(err, rc, "%s", st_strerror(rc));
	/* the memos at the end are not cleared (trace_int.h) */
	memset(&an, 0, offsetof(struct st_analysis, org_memo));
	an.t = t;
	an.m = m;
	an.a = m->arena;
	an.cfg = cfg;
	an.boundary = -1;
	an.source_hop = -1;
	if (top != NULL && has(top->ip) && insert_top(&an, top) != ST_OK)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	an.recipient_org = "";
	if (top != NULL && has(top->by))
		an.recipient_org = org(&an, top->by);
	for (size_t i = 0; i < t->nhops && !has(an.recipient_org); i++)
		if (t->hops[i].parsed && st_name_is_fqdn(t->hops[i].by))
			an.recipient_org = org(&an, t->hops[i].by);

	if (t->nhops > 0)
		find_boundary(&an);
	an.believed = an.boundary;
	an.recipient_domain = recipient_domain(&an);
	if (an.boundary >= 0) {
		bh = &t->hops[an.boundary];
		ip = bh->ip;
		if (!has(ip))
			ip = receiver_annotation_ip(&an);
		t->origin.present = true;
		t->origin.ip = S(ip);
		t->origin.rdns = observed_name(bh);
		/* sendmail's "(may be forged)": the PTR's forward lookup
		 * failed; a name that carries the address's own digits is
		 * still what the address's owner publishes (not used for
		 * trust, only to name the origin and its network) */
		if (!has(t->origin.rdns) && bh->rdns_unverified &&
		    has(bh->rdns) && strcasecmp(bh->rdns, "unknown") != 0 &&
		    has(ip) && st_name_embeds_ip(bh->rdns, ip))
			t->origin.rdns = bh->rdns;
		t->origin.helo = bh->helo;
		t->origin.hop = bh->index;
		{
			const struct st_hop *below = NULL;
			size_t k;

			/* the origin host's own hop: the first below with a
			 * receiving host ("(qmail ... invoked from network)"
			 * lines name none) */
			for (k = (size_t)an.boundary + 1; k < t->nhops; k++)
				if (t->hops[k].parsed && has(t->hops[k].by)) {
					below = &t->hops[k];
					break;
				}
			an.origin_host = origin_name(&an, bh, below);
			if (!has(an.origin_host) && has(ip))
				an.origin_host = spf_vouched_name(&an, bh, ip);
		}
		t->origin.org = org(&an, has(t->origin.rdns) ?
		    t->origin.rdns : an.origin_host);
		an.origin_dynamic = st_name_is_dynamic(t->origin.rdns,
		    t->origin.ip, an.origin_dynamic_why,
		    sizeof(an.origin_dynamic_why));
		if (!has(bh->auth))
			source_and_roles(&an);
		else {
			t->source.present = true;
			t->source.ip = t->origin.ip;
			t->source.hop = t->origin.hop;
			t->source.why = st_arena_printf(an.a, "authenticated "
			    "submission (%s) to the recipient's own server",
			    bh->auth);
			an.source_hop = an.boundary;
		}
		recipient_side_relays(&an);
	}
	st_findings_run(&an);
	/* most severe first, in rule order within a severity */
	{
		size_t i, k;

		for (i = 1; i < t->nfindings; i++) {
			struct st_finding f = t->findings[i];

			for (k = i; k > 0 && t->findings[k - 1].severity <
			    f.severity; k--)
				t->findings[k] = t->findings[k - 1];
			t->findings[k] = f;
		}
	}

	/* contacts: the origin, the source, each abused relay */
	if (t->origin.present && has(t->origin.org) && !has(bh->auth))
		add_contact(&an, t->origin.org, "origin", has(an.origin_host) ?
		    an.origin_host : t->origin.ip);
	if (t->source.present && an.source_hop > an.boundary) {
		const struct st_hop *sh = &t->hops[an.source_hop];
		const char *sn = observed_name(sh);

		add_contact(&an, org(&an, sn), "source", has(sn) ? sn :
		    sh->ip);
	}
	{
		size_t i;

		for (i = 0; i < t->nrelays; i++)
			if (strcmp(t->relays[i].role, "third-party-relay") == 0)
				add_contact(&an, t->relays[i].org, "relay",
				    t->relays[i].host);
	}
	verdict(&an);
	return ST_OK;
}
