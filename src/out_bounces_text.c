/*
 * out_bounces_text.c - "spamtrace bounces" for people: one short block per
 * message, then the campaign summary with the origins as an aligned
 * table, most first, marked domestic / overseas like a hand-kept list.
 */
#include <stdint.h>
#include <string.h>

#include "out_bounces.h"

static const char *
dash(const char *s)
{
	return s != NULL && *s ? s : "-";
}

/* Text with control characters shown as spaces (terminal safety). */
static void
put_clean(struct st_buf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++)
		st_buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	if (*s)
		st_buf_puts(b, "...");
}

/* Display width of UTF-8 text, roughly: East Asian wide characters
 * count two columns. */
static int
width(const char *s)
{
	int w = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x80) {
			w++;
			p++;
		} else if ((*p & 0xe0) == 0xc0) {
			w++;
			p += 2;
		} else if ((*p & 0xf0) == 0xe0) {
			w += 2;
			p += 3;
		} else {
			w += 2;
			p += 4;
		}
		if (p > (const unsigned char *)s + strlen(s))
			break;
	}
	return w;
}

static void
pad(struct st_buf *b, const char *s, int cols)
{
	int w = width(s);

	put_clean(b, s, 200);
	while (w++ < cols)
		st_buf_putc(b, ' ');
}

void
out_bounce_verdict_text(struct st_buf *out, int backscatter)
{
	if (backscatter == 1)
		st_buf_printf(out, "  %sBACKSCATTER%s", C_RED, C_RESET);
	else if (backscatter == 0)
		st_buf_printf(out, "  %sgenuine%s", C_GREEN, C_RESET);
	else
		st_buf_printf(out, "  %s(sender unknown)%s", C_DIM, C_RESET);
}

void
out_bounce_text(struct st_buf *out, struct bounce_rec *r)
{
	const struct st_bounce *b = r->b;
	size_t i;
	char d[32];

	r->verdict_at = SIZE_MAX;
	st_buf_printf(out, "%s== %s #%zu%s", C_BOLD, r->path, r->rm->index,
	    C_RESET);
	if (r->error != NULL || b == NULL) {
		st_buf_printf(out, "  %serror:%s %s\n", C_RED, C_RESET,
		    r->error ? r->error : "unreadable");
		return;
	}
	if (b->kind == ST_BOUNCE_NONE) {
		st_buf_printf(out, "  %snot a bounce%s\n", C_DIM, C_RESET);
		return;
	}
	st_buf_printf(out, "  %s", st_bounce_kind_name(b->kind));
	if (*b->reporting_mta)
		st_buf_printf(out, " from %s", b->reporting_mta);
	if (b->has_arrival) {
		st_date_iso(b->arrival, d, sizeof(d));
		st_buf_printf(out, ", %s", d);
	}
	if (r->defer)
		r->verdict_at = out->len;	/* written there later */
	else
		out_bounce_verdict_text(out, r->backscatter);
	st_buf_putc(out, '\n');
	for (i = 0; i < b->nrcpts; i++) {
		const struct st_bounce_rcpt *rc = &b->rcpts[i];

		st_buf_printf(out, "  %s%-15s%s %-7s %-3s ", C_YELLOW,
		    rc->reason, C_RESET, dash(rc->status),
		    dash(rc->reply_code));
		put_clean(out, rc->address, 200);
		if (*rc->diagnostic) {
			st_buf_printf(out, "\n      %s", C_DIM);
			put_clean(out, rc->diagnostic, 160);
			st_buf_puts(out, C_RESET);
		}
		st_buf_putc(out, '\n');
	}
	if (r->have_orig && r->orig_ok) {
		const char *ip, *host;

		st_buf_puts(out, "  original: ");
		put_clean(out, dash(r->t->sum.from), 80);
		st_buf_puts(out, " / ");
		put_clean(out, dash(r->t->sum.subject), 80);
		st_buf_putc(out, '\n');
		if (st_campaign_origin_of(r->t, &ip, &host))
			st_buf_printf(out, "  origin:   %s%s%s %s\n", C_BOLD,
			    dash(ip), C_RESET, *host ? host : "");
	} else if (!r->have_orig)
		st_buf_printf(out, "  %s(no copy of the original)%s\n", C_DIM,
		    C_RESET);
}

void
out_bounces_summary_text(struct st_buf *out,
    const struct st_campaign_summary *s)
{
	size_t i;
	char d1[32], d2[32];
	int wip = 2, whost = 4, worg = 3, wc = 7;

	st_buf_printf(out, "\n%sSummary%s\n", C_BOLD, C_RESET);
	st_buf_printf(out, "  %llu messages: %llu bounces (%s%llu backscatter%s, "
	    "%llu genuine, %llu undetermined), %llu not bounces, %llu "
	    "unreadable\n", (unsigned long long)s->messages,
	    (unsigned long long)s->bounces, C_RED,
	    (unsigned long long)s->backscatter, C_RESET,
	    (unsigned long long)s->genuine,
	    (unsigned long long)s->undetermined,
	    (unsigned long long)s->not_bounces,
	    (unsigned long long)s->unreadable);
	if (s->has_first) {
		st_date_iso(s->first, d1, sizeof(d1));
		st_date_iso(s->last, d2, sizeof(d2));
		st_buf_printf(out, "  from %s to %s\n", d1, d2);
	}
	if (s->nme > 0) {
		st_buf_puts(out, "  you:  ");
		for (i = 0; i < s->nme; i++)
			st_buf_printf(out, "%s%s", i ? ", " : "", s->me[i]);
		if (s->country)
			st_buf_printf(out, " (%s)", s->country);
		st_buf_putc(out, '\n');
	}
	if (s->nreasons > 0) {
		st_buf_printf(out, "\n%sReasons%s\n", C_BOLD, C_RESET);
		for (i = 0; i < s->nreasons; i++)
			st_buf_printf(out, "  %6llu  %s\n",
			    (unsigned long long)s->by_reason[i].n,
			    s->by_reason[i].key);
	}
	if (s->ndays > 0) {
		uint64_t max = 1;

		for (i = 0; i < s->ndays; i++)
			if (s->per_day[i].n > max)
				max = s->per_day[i].n;
		st_buf_printf(out, "\n%sPer day%s (UTC)\n", C_BOLD, C_RESET);
		for (i = 0; i < s->ndays; i++) {
			uint64_t k, bar = s->per_day[i].n * 50 / max;

			st_buf_printf(out, "  %s %6llu ", s->per_day[i].key,
			    (unsigned long long)s->per_day[i].n);
			for (k = 0; k < (bar ? bar : 1); k++)
				st_buf_puts(out, "#");
			st_buf_putc(out, '\n');
		}
	}
	if (s->norigins == 0)
		return;
	for (i = 0; i < s->norigins; i++) {
		const struct st_campaign_origin *o = &s->origins[i];

		if (width(dash(o->ip)) > wip)
			wip = width(dash(o->ip));
		if (width(dash(o->host)) > whost)
			whost = width(dash(o->host));
		if (width(dash(o->org)) > worg)
			worg = width(dash(o->org));
		if (o->country && width(o->country) > wc)
			wc = width(o->country);
	}
	if (whost > 48)
		whost = 48;
	st_buf_printf(out, "\n%sOrigins%s: the hosts that handed the forged mail "
	    "to the bouncing systems, most first\n", C_BOLD, C_RESET);
	st_buf_printf(out, "  %5s  ", "count");
	pad(out, "ip", wip);
	st_buf_puts(out, "  ");
	pad(out, "host", whost);
	st_buf_puts(out, "  ");
	pad(out, "org", worg);
	st_buf_puts(out, "  ");
	pad(out, "country", wc);
	st_buf_puts(out, "  scope\n");
	for (i = 0; i < s->norigins; i++) {
		const struct st_campaign_origin *o = &s->origins[i];

		st_buf_printf(out, "  %5llu  ", (unsigned long long)o->count);
		pad(out, dash(o->ip), wip);
		st_buf_puts(out, "  ");
		pad(out, dash(o->host), whost);
		st_buf_puts(out, "  ");
		pad(out, dash(o->org), worg);
		st_buf_puts(out, "  ");
		pad(out, o->country ? o->country : "-", wc);
		st_buf_printf(out, "  %s%s%s\n", o->scope && strcmp(o->scope,
		    "domestic") == 0 ? C_YELLOW : "", o->scope ? o->scope :
		    "-", C_RESET);
	}
}
