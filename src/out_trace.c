/*
 * out_trace.c - a trace as CONTRACT.md's JSON object, and as text for
 * people.  Shared by trace, bounces (the original's trace) and report.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
dns_json(struct jw *w, const struct st_dns_info *d)
{
	size_t i;

	if (d == NULL) {
		jw_knull(w, "dns");
		return;
	}
	jw_kobj(w, "dns");
	jw_karr(w, "ptr");
	for (i = 0; i < d->nptr; i++)
		jw_str(w, d->ptr[i]);
	jw_end_arr(w);
	if (d->fcrdns < 0)
		jw_knull(w, "fcrdns");
	else
		jw_kbool(w, "fcrdns", d->fcrdns == 1);
	jw_karr(w, "listed");
	for (i = 0; i < d->nlisted; i++) {
		jw_obj(w);
		jw_kstr(w, "zone", d->listed[i].zone);
		jw_kstr(w, "answer", d->listed[i].answer);
		jw_kstr(w, "txt", d->listed[i].txt);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	if (d->timed_out)
		jw_kbool(w, "timed_out", true);
	jw_end_obj(w);
}

static void
hop_json(struct jw *w, const struct st_hop *h)
{
	jw_obj(w);
	jw_kint(w, "index", h->index);
	jw_kstr(w, "raw", h->raw);
	jw_kstr(w, "ip", h->ip);
	jw_kstr(w, "rdns", h->rdns);
	jw_kstr(w, "helo", h->helo);
	jw_kstr(w, "by", h->by);
	jw_kstr(w, "ident", h->ident);
	jw_kstr(w, "envfrom", h->envfrom);
	jw_kstr(w, "id", h->id);
	jw_kstr(w, "auth", h->auth);
	jw_kstr(w, "with", h->with);
	jw_kstr(w, "for", h->for_);
	jw_kbool(w, "tls", h->tls);
	jw_kdate(w, "date", h->has_date, h->date.utc);
	jw_kstr(w, "tz", h->has_date && h->date.tz[0] ? h->date.tz : NULL);
	jw_kstr(w, "mta", h->mta);
	jw_kbool(w, "parsed", h->parsed);
	jw_kstr(w, "trust", st_trust_name(h->trust));
	jw_end_obj(w);
}

void
out_trace_json(struct jw *w, const struct st_trace *t)
{
	size_t i;

	jw_kstr(w, "message_id", t->sum.message_id);
	jw_kstr(w, "from", t->sum.from);
	jw_kstr(w, "return_path", t->sum.return_path);
	jw_kstr(w, "to", t->sum.to);
	jw_kstr(w, "subject", t->sum.subject);
	jw_kdate(w, "date", t->sum.has_date, t->sum.date.utc);
	jw_karr(w, "hops");
	for (i = 0; i < t->nhops; i++)
		hop_json(w, &t->hops[i]);
	jw_end_arr(w);

	if (t->origin.present) {
		jw_kobj(w, "origin");
		jw_kstr(w, "ip", t->origin.ip);
		jw_kstr(w, "rdns", t->origin.rdns);
		jw_kstr(w, "helo", t->origin.helo);
		jw_kint(w, "hop", t->origin.hop);
		jw_kstr(w, "org", t->origin.org);
		if (t->origin.dns)
			dns_json(w, t->origin.dns);
		jw_end_obj(w);
	} else
		jw_knull(w, "origin");

	if (t->source.present) {
		jw_kobj(w, "source_ip_estimate");
		jw_kstr(w, "ip", t->source.ip);
		jw_kint(w, "hop", t->source.hop);
		jw_kstr(w, "why", t->source.why);
		if (t->source.dns)
			dns_json(w, t->source.dns);
		jw_end_obj(w);
	} else
		jw_knull(w, "source_ip_estimate");

	jw_karr(w, "relays");
	for (i = 0; i < t->nrelays; i++) {
		const struct st_relay *r = &t->relays[i];

		jw_obj(w);
		jw_kint(w, "hop", r->hop);
		jw_kstr(w, "host", r->host);
		jw_kstr(w, "ip", r->ip);
		jw_kstr(w, "org", r->org);
		jw_kstr(w, "role", r->role);
		if (r->dns)
			dns_json(w, r->dns);
		jw_end_obj(w);
	}
	jw_end_arr(w);

	jw_karr(w, "findings");
	for (i = 0; i < t->nfindings; i++) {
		const struct st_finding *f = &t->findings[i];

		jw_obj(w);
		jw_kstr(w, "code", f->code);
		jw_kstr(w, "severity", st_severity_name(f->severity));
		if (f->hop > 0)
			jw_kint(w, "hop", f->hop);
		else
			jw_knull(w, "hop");
		jw_kstr(w, "evidence", f->evidence);
		jw_kstr(w, "explain", f->explain);
		jw_end_obj(w);
	}
	jw_end_arr(w);

	jw_karr(w, "contacts");
	for (i = 0; i < t->ncontacts; i++) {
		jw_obj(w);
		jw_kstr(w, "address", t->contacts[i].address);
		jw_kstr(w, "for", t->contacts[i].for_);
		jw_kstr(w, "why", t->contacts[i].why);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	if (t->verdict != NULL)
		jw_kstr(w, "verdict", t->verdict);
}

/* --- text --------------------------------------------------------------- */

static const char *
dash(const char *s)
{
	return s != NULL && *s ? s : "-";
}

static const char *
sev_color(enum st_severity s)
{
	switch (s) {
	case ST_SEV_HIGH:	return C_RED;
	case ST_SEV_MEDIUM:	return C_YELLOW;
	case ST_SEV_LOW:	return C_CYAN;
	default:		return C_DIM;
	}
}

/* Wrap text at width, indenting continuation lines. */
static void
wrap(struct st_buf *b, const char *s, int indent, int width)
{
	int col = indent;
	const char *p = s;

	while (*p) {
		const char *w = p;
		int n;

		while (*p && *p != ' ')
			p++;
		n = (int)(p - w);
		if (col > indent && col + 1 + n > width) {
			st_buf_printf(b, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			st_buf_putc(b, ' ');
			col++;
		}
		st_buf_put(b, w, (size_t)n);
		col += n;
		while (*p == ' ')
			p++;
	}
	st_buf_putc(b, '\n');
}

/* Text with tabs and control characters shown as spaces. */
static void
put_clean(struct st_buf *b, const char *s)
{
	bool space = false;

	for (; *s; s++) {
		bool sp = (unsigned char)*s <= 0x20;

		if (sp && space)
			continue;	/* folding white space: one blank */
		st_buf_putc(b, sp ? ' ' : *s);
		space = sp;
	}
}

static bool
has_code(const struct st_trace *t, const char *code)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (strcmp(t->findings[i].code, code) == 0)
			return true;
	return false;
}

static bool
hop_has_code(const struct st_trace *t, int hop, const char *code)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (t->findings[i].hop == hop &&
		    strcmp(t->findings[i].code, code) == 0)
			return true;
	return false;
}

/* One Received header; the part after the boundary in blue, a forged
 * HELO name in red. */
static void
raw_hop(struct st_buf *b, const struct st_trace *t, const struct st_hop *h)
{
	const char *base = h->trust == ST_TRUST_UNTRUSTED ? C_BLUE : "";
	const char *r = h->raw, *hit = NULL;

	if (h->index == 0)
		return;		/* the connection, not a header */
	if (*h->helo && (hop_has_code(t, h->index, "FORGED_HELO") ||
	    hop_has_code(t, h->index, "LOCALHOST_IDENTITY")))
		hit = strstr(r, h->helo);
	st_buf_printf(b, "  %sReceived: ", base);
	if (hit != NULL) {
		char *pre = strndup(r, (size_t)(hit - r));

		if (pre != NULL) {
			put_clean(b, pre);
			free(pre);
		}
		st_buf_printf(b, "%s%s%s%s%s", C_RESET, C_RED, h->helo, C_RESET,
		    base);
		put_clean(b, hit + strlen(h->helo));
	} else
		put_clean(b, r);
	st_buf_printf(b, "%s\n", *base ? C_RESET : "");
}

/* "  DNS: PTR a.example (resolves back), listed in zone (127.0.0.2)" */
static void
dns_text(struct st_buf *b, const struct st_dns_info *d)
{
	size_t i;

	if (d == NULL)
		return;
	st_buf_printf(b, "        %sDNS:%s ", C_DIM, C_RESET);
	if (d->nptr == 0)
		st_buf_puts(b, d->timed_out ? "no answer in time" : "no PTR");
	for (i = 0; i < d->nptr; i++)
		st_buf_printf(b, "%sPTR %s", i ? ", " : "", d->ptr[i]);
	if (d->nptr)
		st_buf_printf(b, " (%s)", d->fcrdns == 1 ? "resolves back" :
		    d->fcrdns == 0 ? "does NOT resolve back" :
		    "forward check unanswered");
	for (i = 0; i < d->nlisted; i++)
		st_buf_printf(b, "; %slisted in %s%s (%s%s%s)", C_RED,
		    d->listed[i].zone, C_RESET, d->listed[i].answer,
		    *d->listed[i].txt ? ": " : "", d->listed[i].txt);
	st_buf_putc(b, '\n');
}

void
out_trace_text(struct st_buf *b, const struct st_trace *t, const char *label)
{
	size_t i;
	char d[32];

	st_buf_printf(b, "%s%s%s\n", C_BOLD, label, C_RESET);
	st_buf_printf(b, "  Message-ID:  %s\n", dash(t->sum.message_id));
	st_buf_printf(b, "  From:        %s\n", dash(t->sum.from));
	st_buf_printf(b, "  Return-Path: %s\n", dash(t->sum.return_path));
	st_buf_printf(b, "  Subject:     %s\n", dash(t->sum.subject));
	if (t->sum.has_date) {
		st_date_iso(t->sum.date.utc, d, sizeof(d));
		st_buf_printf(b, "  Date:        %s (%s)\n", d,
		    t->sum.date.tz[0] ? t->sum.date.tz : "no zone");
	} else
		st_buf_printf(b, "  Date:        -\n");

	if (t->verdict != NULL && *t->verdict) {
		st_buf_printf(b, "\n%sVerdict%s\n  ", C_BOLD, C_RESET);
		wrap(b, t->verdict, 2, 78);
	}

	st_buf_printf(b, "\n%sPath%s (newest first; client -> receiving host)\n",
	    C_BOLD, C_RESET);
	for (i = 0; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];
		char delay[32] = "";
		const char *tc = h->trust == ST_TRUST_UNTRUSTED ? C_BLUE :
		    h->trust == ST_TRUST_BOUNDARY ? C_YELLOW : C_GREEN;

		if (!h->parsed) {
			st_buf_printf(b, "  %2d %s%-9s%s %s(not readable)%s\n",
			    h->index, tc, st_trust_name(h->trust), C_RESET,
			    C_RED, C_RESET);
			continue;
		}
		st_buf_printf(b, "  %2d %s%-9s%s %-15s %s", h->index, tc,
		    st_trust_name(h->trust), C_RESET, dash(h->ip),
		    *h->rdns ? h->rdns : (h->local ? "(local handover)" :
		    "(no reverse name)"));
		if (*h->helo)
			st_buf_printf(b, " %shelo %s%s", C_DIM, h->helo, C_RESET);
		if (*h->auth)
			st_buf_printf(b, " %sauth %s%s", C_GREEN, h->auth, C_RESET);
		if (h->has_date)
			st_date_iso(h->date.utc, d, sizeof(d));
		else
			snprintf(d, sizeof(d), "no date");
		if (h->has_date && i + 1 < t->nhops && t->hops[i + 1].has_date)
			snprintf(delay, sizeof(delay), " (%+llds)",
			    (long long)(h->date.utc - t->hops[i + 1].date.utc));
		st_buf_printf(b, "\n     %-9s -> %s  %s%s%s%s  %s%s%s\n", "",
		    dash(h->by), d, delay, h->date.tz[0] ? " " : "",
		    h->date.tz, C_DIM, h->mta, C_RESET);
	}

	if (t->origin.present) {
		st_buf_printf(b, "\n%sOrigin%s  %s%s%s", C_BOLD, C_RESET, C_RED,
		    t->origin.ip, C_RESET);
		st_buf_printf(b, " (%s, helo %s, org %s) at hop %d\n",
		    dash(t->origin.rdns), dash(t->origin.helo),
		    dash(t->origin.org), t->origin.hop);
		dns_text(b, t->origin.dns);
	}
	if (t->source.present)
	{
		st_buf_printf(b, "%sSource%s  %s at hop %d: %s\n", C_BOLD,
		    C_RESET, t->source.ip, t->source.hop, t->source.why);
		if (t->source.dns != t->origin.dns)
			dns_text(b, t->source.dns);
	}
	if (t->nrelays) {
		st_buf_printf(b, "\n%sRelays%s\n", C_BOLD, C_RESET);
		for (i = 0; i < t->nrelays; i++) {
			st_buf_printf(b, "  hop %-3d %-18s %-30s %-16s %s\n",
			    t->relays[i].hop, t->relays[i].role,
			    dash(t->relays[i].host), dash(t->relays[i].ip),
			    dash(t->relays[i].org));
			if (t->relays[i].dns != t->origin.dns)
				dns_text(b, t->relays[i].dns);
		}
	}
	if (t->nfindings) {
		st_buf_printf(b, "\n%sFindings%s\n", C_BOLD, C_RESET);
		for (i = 0; i < t->nfindings; i++) {
			const struct st_finding *f = &t->findings[i];

			st_buf_printf(b, "  %s%-6s%s %s%s%s", sev_color(f->severity),
			    st_severity_name(f->severity), C_RESET, C_BOLD,
			    f->code, C_RESET);
			if (f->hop > 0)
				st_buf_printf(b, " (hop %d)", f->hop);
			st_buf_printf(b, "\n         %s\"", C_BLUE);
			put_clean(b, f->evidence);
			st_buf_printf(b, "\"%s\n         ", C_RESET);
			wrap(b, f->explain, 9, 78);
		}
	}
	if (t->ncontacts) {
		st_buf_printf(b, "\n%sWhom to tell%s\n", C_BOLD, C_RESET);
		for (i = 0; i < t->ncontacts; i++)
			st_buf_printf(b, "  %-36s %s\n", t->contacts[i].address,
			    t->contacts[i].why);
	}
	if (t->nhops) {
		st_buf_printf(b, "\n%sReceived headers%s (%sblue%s: written outside "
		    "the trust boundary, unverifiable; %sred%s: shown forged)\n",
		    C_BOLD, C_RESET, C_BLUE, C_RESET, C_RED, C_RESET);
		for (i = 0; i < t->nhops; i++)
			raw_hop(b, t, &t->hops[i]);
		if (has_code(t, "SENDER_FORGED") ||
		    has_code(t, "FREEMAIL_NOT_VIA_PROVIDER"))
			st_buf_printf(b, "  %sFrom: %s%s\n", C_RED, t->sum.from,
			    C_RESET);
		if (has_code(t, "MSGID_ADDED_BY_RELAY"))
			st_buf_printf(b, "  %sMessage-ID: %s%s\n", C_YELLOW,
			    t->sum.message_id, C_RESET);
		if (has_code(t, "XMAILER_MISMATCH"))
			st_buf_printf(b, "  %sX-Mailer: %s%s\n", C_RED,
			    t->sum.x_mailer, C_RESET);
	}
}
