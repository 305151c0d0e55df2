/*
 * report.c - collect analysed messages into reports, one per responsible
 * network.
 *
 * For each message the addressees are the trace's contacts (abuse@ and
 * postmaster@ of the registrable domain of the origin, of the source
 * estimate and of each abused relay), lower-cased and deduplicated.  The
 * sorted set of addressees is the grouping key: every message that names
 * the same set joins the same report, so a campaign (a bounce mailbox, a
 * spam folder) gives one report per network with all its incidents.  An
 * override list (--to) replaces the addressees but not the grouping.
 *
 * What a report needs later is copied into the set's arena (bounded by
 * ST_MAX_REPORT_ARENA): the summary, evidence and Received lines of every
 * incident, and the byte-exact header block (and with --full the whole
 * message) of the first incident of each report, the one attached.
 *
 * Limits: ST_MAX_REPORT_ADDRESSEES per message, ST_MAX_REPORT_HOPS
 * Received lines kept per incident, ST_MAX_REPORT_ARENA in all.
 *
 * Standards: RFC 5322 (header block, addresses), RFC 2142 (abuse@,
 * postmaster@ mailbox names), RFC 5965 (the fields kept: Original-Mail-
 * From, Original-Rcpt-To, Arrival-Date, Source-IP, Authentication-
 * Results, Reported-Domain).
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/limits.h"
#include "spamtrace/report.h"

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

static char *
lower_dup(struct st_arena *a, const char *s)
{
	char *d = st_arena_strdup(a, s), *p;

	if (d != NULL)
		for (p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Trim "<...>" and blanks around an address; arena copy. */
static const char *
bare_addr(struct st_arena *a, const char *s)
{
	const char *b = nz(s), *e;

	while (*b == ' ' || *b == '\t' || *b == '<')
		b++;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '>' ||
	    e[-1] == ';'))
		e--;
	return nz(st_arena_strndup(a, b, (size_t)(e - b)));
}

const char *
st_report_domain_of(struct st_arena *a, const char *address)
{
	const char *at = strrchr(nz(address), '@'), *org;

	if (at == NULL || at[1] == '\0')
		return "";
	org = st_org_of(a, at + 1);
	if (org == NULL || *org == '\0')
		return nz(st_arena_strdup(a, at + 1));
	return org;
}

enum st_status
st_report_set_init(struct st_report_set *s, bool keep_full)
{
	memset(s, 0, sizeof(*s));
	s->keep_full = keep_full;
	if ((s->a = st_arena_new(ST_MAX_REPORT_ARENA)) == NULL)
		return ST_ENOMEM;
	return ST_OK;
}

void
st_report_set_free(struct st_report_set *s)
{
	if (s->a != NULL)
		st_arena_free(s->a);
	memset(s, 0, sizeof(*s));
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Add lower-cased address to list (deduplicated); false on no memory. */
static bool
add_unique(struct st_arena *a, const char **list, size_t *n,
    const char *addr)
{
	size_t i;
	const char *l;

	if (addr == NULL || *addr == '\0' || strchr(addr, '@') == NULL)
		return true;
	for (i = 0; i < *n; i++)
		if (strcasecmp(list[i], addr) == 0)
			return true;
	if (*n >= ST_MAX_REPORT_ADDRESSEES)
		return true;
	if ((l = lower_dup(a, addr)) == NULL)
		return false;
	list[(*n)++] = l;
	return true;
}

/* The header block: from the first field (after an mbox From_ line) to
 * the end of the last field line, line endings included. */
static void
header_block(const struct st_msg *m, const char **p, size_t *len)
{
	const char *start, *end;

	if (m->nhdrs == 0) {
		*p = m->buf;
		*len = 0;
		return;
	}
	start = m->hdrs[0].name;
	end = m->buf + m->body_off;
	if (!(m->defects & (ST_MSG_DEFECT_NO_BODY_SEP |
	    ST_MSG_DEFECT_BAD_LINE | ST_MSG_DEFECT_HEADER_BLOCK))) {
		/* drop the empty line that ends the block */
		if (end - start >= 2 && end[-2] == '\r' && end[-1] == '\n')
			end -= 2;
		else if (end - start >= 1 && (end[-1] == '\n' ||
		    end[-1] == '\r'))
			end -= 1;
	}
	if (end < start)
		end = start;
	*p = start;
	*len = (size_t)(end - start);
}

static const char *
eol_of(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	if (nl != NULL)
		return nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
	return "\r\n";		/* CR-only or one line: canonical */
}

static const char *
identity_of(struct st_arena *a, const struct st_trace *t, const char *hb,
    size_t hl)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0, i;
	EVP_MD_CTX *ctx;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	const char *p = hb, *e = hb + hl, *run;

	if (*nz(t->sum.message_id) != '\0')
		return st_arena_printf(a, "mid:%s|%s", t->sum.message_id,
		    t->origin.present ? nz(t->origin.ip) : "");
	/* no Message-ID: a digest of the header block, line ends ignored
	 * so the same message saved as LF or CRLF is the same message */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (p < e) {
		run = p;
		while (p < e && *p != '\r' && *p != '\n')
			p++;
		EVP_DigestUpdate(ctx, run, (size_t)(p - run));
		while (p < e && (*p == '\r' || *p == '\n'))
			p++;
	}
	EVP_DigestFinal_ex(ctx, md, &mdl);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdl; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdl] = '\0';
	return st_arena_printf(a, "sha256:%s", hex);
}

/* Envelope recipient: the topmost hop's "for", else the usual delivery
 * fields, else To. */
static const char *
rcpt_of(struct st_arena *a, struct st_msg *m, const struct st_trace *t)
{
	const char *v;
	size_t i;

	for (i = 0; i < t->nhops && i < 3; i++)
		if (*nz(t->hops[i].for_) != '\0')
			return bare_addr(a, t->hops[i].for_);
	if ((v = st_msg_unfolded(m, "Delivered-To")) != NULL && *v)
		return bare_addr(a, v);
	if ((v = st_msg_unfolded(m, "X-Original-To")) != NULL && *v)
		return bare_addr(a, v);
	if ((v = st_msg_unfolded(m, "Envelope-To")) != NULL && *v)
		return bare_addr(a, v);
	return bare_addr(a, t->sum.to_addr);
}

/* Envelope sender: Return-Path, else a hop's envelope-from, else the
 * mbox From_ line. */
static const char *
mail_from_of(struct st_arena *a, struct st_msg *m, const struct st_trace *t)
{
	const struct st_header *h;
	size_t i;

	if ((h = st_msg_get(m, "Return-Path", 0)) != NULL) {
		char *v = st_hdr_unfold(m->arena, h->value, h->value_len,
		    NULL);

		if (v != NULL && strstr(v, "<>") != NULL)
			return "<>";	/* the null sender (a bounce) */
		if (*nz(t->sum.return_path) != '\0')
			return bare_addr(a, t->sum.return_path);
	}
	for (i = 0; i < t->nhops; i++)
		if (*nz(t->hops[i].envfrom) != '\0')
			return bare_addr(a, t->hops[i].envfrom);
	if (m->len > 5 && memcmp(m->buf, "From ", 5) == 0) {
		const char *p = m->buf + 5, *e = m->buf + m->len, *w;

		while (p < e && *p == ' ')
			p++;
		w = p;
		while (p < e && *p != ' ' && *p != '\r' && *p != '\n' &&
		    (size_t)(p - w) < 320)
			p++;
		if (p > w && memchr(w, '@', (size_t)(p - w)) != NULL)
			return nz(st_arena_strndup(a, w, (size_t)(p - w)));
	}
	return "";
}

static enum st_status
fill_incident(struct st_report_set *s, struct st_report_incident *in,
    struct st_msg *m, const struct st_trace *t, const char *path,
    size_t index, bool attach)
{
	struct st_arena *a = s->a;
	const char *hb, *v;
	size_t hl, i, k, n;
	const struct st_hop *ah = NULL;

	header_block(m, &hb, &hl);
	in->path = nz(st_arena_strdup(a, nz(path)));
	in->index = index;
	in->identity = identity_of(a, t, hb, hl);
	in->message_id = nz(st_arena_strdup(a, nz(t->sum.message_id)));
	in->subject = nz(st_arena_strdup(a, nz(t->sum.subject)));
	in->from = nz(st_arena_strdup(a, nz(t->sum.from)));
	in->mail_from = mail_from_of(a, m, t);
	in->rcpt_to = rcpt_of(a, m, t);
	if (t->origin.present) {
		in->origin_ip = nz(st_arena_strdup(a, nz(t->origin.ip)));
		in->origin_host = nz(st_arena_strdup(a, nz(t->origin.rdns)));
		in->origin_helo = nz(st_arena_strdup(a, nz(t->origin.helo)));
		in->org = nz(st_arena_strdup(a, nz(t->origin.org)));
	} else {
		in->origin_ip = in->origin_host = in->origin_helo = "";
		in->org = "";
	}
	if (t->source.present) {
		in->source_ip = nz(st_arena_strdup(a, nz(t->source.ip)));
		in->source_why = nz(st_arena_strdup(a, nz(t->source.why)));
	} else {
		in->source_ip = in->origin_ip;
		in->source_why = "";
	}
	/* arrival: the hop where the origin handed it over, else the top */
	if (t->origin.present && t->origin.hop >= 1 &&
	    (size_t)t->origin.hop <= t->nhops &&
	    t->hops[t->origin.hop - 1].has_date)
		ah = &t->hops[t->origin.hop - 1];
	for (i = 0; ah == NULL && i < t->nhops; i++)
		if (t->hops[i].has_date)
			ah = &t->hops[i];
	if (ah != NULL) {
		in->has_arrival = true;
		in->arrival = ah->date.utc;
		in->arrival_tz = ah->date.tz_known ? ah->date.tz_min : 0;
		in->arrival_tz_known = ah->date.tz_known;
	}
	in->has_date = t->sum.has_date;
	in->date = t->sum.date.utc;

	n = t->nhops < ST_MAX_REPORT_HOPS ? t->nhops : ST_MAX_REPORT_HOPS;
	if (n > 0 && (in->received = st_arena_alloc(a,
	    n * sizeof(*in->received))) == NULL)
		return ST_ELIMIT;
	for (i = 0; i < n; i++)
		in->received[i] = nz(st_arena_strdup(a, nz(t->hops[i].raw)));
	in->nreceived = n;

	if (t->nfindings > 0) {
		if ((in->findings = st_arena_alloc(a,
		    t->nfindings * sizeof(*in->findings))) == NULL)
			return ST_ELIMIT;
		for (i = 0; i < t->nfindings; i++) {
			const struct st_finding *f = &t->findings[i];
			struct st_report_finding *g = &in->findings[i];

			g->code = nz(st_arena_strdup(a, nz(f->code)));
			g->severity = st_severity_name(f->severity);
			g->evidence = nz(st_arena_strdup(a, nz(f->evidence)));
			g->explain = nz(st_arena_strdup(a, nz(f->explain)));
			g->hop = f->hop;
		}
		in->nfindings = t->nfindings;
	}
	for (i = 0, k = 0; i < t->nrelays; i++)
		if (t->relays[i].role != NULL &&
		    strcmp(t->relays[i].role, "third-party-relay") == 0)
			k++;
	if (k > 0) {
		if ((in->relays = st_arena_alloc(a, k * sizeof(char *))) ==
		    NULL)
			return ST_ELIMIT;
		for (i = 0; i < t->nrelays; i++)
			if (t->relays[i].role != NULL && strcmp(
			    t->relays[i].role, "third-party-relay") == 0)
				in->relays[in->nrelays++] = nz(
				    st_arena_printf(a, "%s [%s]",
				    *nz(t->relays[i].host) ?
				    t->relays[i].host : "(no name)",
				    nz(t->relays[i].ip)));
	}
	v = st_msg_unfolded(m, "Authentication-Results");
	in->auth_results = nz(v != NULL ? st_arena_strdup(a, v) : "");
	in->eol = eol_of(hb, hl + (size_t)(m->buf + m->len - (hb + hl)));
	if (attach) {
		in->headers = st_arena_strndup(a, hb, hl);
		in->headers_len = hl;
		if (in->headers == NULL)
			return ST_ELIMIT;
		if (s->keep_full) {
			in->full = st_arena_strndup(a, hb,
			    (size_t)(m->buf + m->len - hb));
			in->full_len = (size_t)(m->buf + m->len - hb);
			if (in->full == NULL)
				return ST_ELIMIT;
		}
	}
	if (in->identity == NULL)
		return ST_ELIMIT;
	return ST_OK;
}

enum st_status
st_report_add(struct st_report_set *s, struct st_msg *m,
    const struct st_trace *t, const char *path, size_t index,
    const char *const *to, size_t nto, size_t *report_index,
    struct st_error *err)
{
	struct st_arena *a = s->a;
	const char *contacts[ST_MAX_REPORT_ADDRESSEES],
	    *given[ST_MAX_REPORT_ADDRESSEES], *sorted[ST_MAX_REPORT_ADDRESSEES];
	size_t nc = 0, ng = 0, i, klen = 0;
	char *key, *kp;
	struct st_report *r = NULL;
	enum st_status rc;

	for (i = 0; i < t->ncontacts; i++)
		if (!add_unique(a, contacts, &nc, t->contacts[i].address))
			return st_error_set(err, ST_ELIMIT,
			    "report memory limit reached");
	for (i = 0; i < nto; i++)
		if (!add_unique(a, given, &ng, to[i]))
			return st_error_set(err, ST_ELIMIT,
			    "report memory limit reached");
	if (nc == 0 && ng == 0) {
		s->no_addressee++;
		return st_error_set(err, ST_EINVAL, "the trace found no "
		    "abuse contact for %s",
		    t->origin.present && *nz(t->origin.ip) ?
		    t->origin.ip : "this message (no origin)");
	}
	/* grouping key: the network's contacts, sorted */
	if (nc > 0) {
		memcpy(sorted, contacts, nc * sizeof(*sorted));
		qsort(sorted, nc, sizeof(*sorted), cmp_str);
		for (i = 0; i < nc; i++)
			klen += strlen(sorted[i]) + 1;
		if ((key = st_arena_alloc(a, klen + 1)) == NULL)
			return st_error_set(err, ST_ELIMIT,
			    "report memory limit reached");
		for (i = 0, kp = key; i < nc; i++) {
			if (i > 0)
				*kp++ = ',';
			kp = stpcpy(kp, sorted[i]);
		}
	} else {
		key = st_arena_printf(a, "origin:%s",
		    !t->origin.present ? "unknown" :
		    *nz(t->origin.org) ? t->origin.org :
		    *nz(t->origin.ip) ? t->origin.ip : "unknown");
		if (key == NULL)
			return st_error_set(err, ST_ELIMIT,
			    "report memory limit reached");
	}
	for (i = 0; i < s->n; i++)
		if (strcmp(s->r[i].key, key) == 0) {
			r = &s->r[i];
			break;
		}
	if (r == NULL) {
		if (s->n == s->cap) {
			size_t ncap = s->cap ? s->cap * 2 : 8;
			struct st_report *nr = st_arena_grow(a, s->r, s->n,
			    ncap, sizeof(*nr));

			if (nr == NULL)
				return st_error_set(err, ST_ELIMIT,
				    "report memory limit reached");
			s->r = nr;
			s->cap = ncap;
		}
		r = &s->r[s->n];
		memset(r, 0, sizeof(*r));
		r->key = key;
		if (ng > 0) {
			r->to = st_arena_alloc(a, ng * sizeof(char *));
			if (r->to == NULL)
				return st_error_set(err, ST_ELIMIT,
				    "report memory limit reached");
			memcpy(r->to, given, ng * sizeof(char *));
			r->nto = ng;
		} else {
			r->to = st_arena_alloc(a, nc * sizeof(char *));
			if (r->to == NULL)
				return st_error_set(err, ST_ELIMIT,
				    "report memory limit reached");
			memcpy(r->to, contacts, nc * sizeof(char *));
			r->nto = nc;
		}
		/* Reported-Domain: the origin's organisation, else the
		 * domain the contacts are at */
		r->domain = "";
		if (t->origin.present && *nz(t->origin.org))
			r->domain = nz(st_arena_strdup(a, t->origin.org));
		else if (t->origin.present && *nz(t->origin.rdns))
			r->domain = st_org_of(a, t->origin.rdns);
		if (*nz(r->domain) == '\0' && nc > 0)
			r->domain = st_report_domain_of(a, contacts[0]);
		r->domain = nz(r->domain);
		s->n++;
	}
	if (r->ninc == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 4;
		struct st_report_incident *ni = st_arena_grow(a, r->inc,
		    r->ninc, ncap, sizeof(*ni));

		if (ni == NULL)
			return st_error_set(err, ST_ELIMIT,
			    "report memory limit reached");
		r->inc = ni;
		r->cap = ncap;
	}
	memset(&r->inc[r->ninc], 0, sizeof(r->inc[0]));
	rc = fill_incident(s, &r->inc[r->ninc], m, t, path, index,
	    r->ninc == 0);
	if (rc != ST_OK)
		return st_error_set(err, rc, "report memory limit reached");
	r->ninc++;
	s->added++;
	if (report_index != NULL)
		*report_index = (size_t)(r - s->r);
	return ST_OK;
}
