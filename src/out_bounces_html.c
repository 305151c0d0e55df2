/*
 * out_bounces_html.c - "bounces --html FILE": the campaign as one
 * self-contained page.
 *
 * No network, no scripts, no external fonts or style sheets: the chart
 * of arrivals per day is inline SVG, the drill-down per origin is made of
 * <details> elements, and everything printed from mail is HTML-escaped
 * (mail is hostile: a subject can hold markup).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "out_bounces.h"

static void
esc(struct st_buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<': st_buf_puts(b, "&lt;"); break;
		case '>': st_buf_puts(b, "&gt;"); break;
		case '&': st_buf_puts(b, "&amp;"); break;
		case '"': st_buf_puts(b, "&quot;"); break;
		case '\'': st_buf_puts(b, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20)
				st_buf_putc(b, ' ');
			else
				st_buf_putc(b, *s);
		}
	}
}

static const char *
dash(const char *s)
{
	return s != NULL && *s ? s : "-";
}

/* Days since the epoch of "YYYY-MM-DD" (proleptic Gregorian). */
static long
day_number(const char *d)
{
	int y, m, dd;
	long era, yoe, doy, doe;

	if (sscanf(d, "%d-%d-%d", &y, &m, &dd) != 3)
		return 0;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The timeline: one bar per day from the first to the last (days with
 * no bounce included), at most 400 bars; beyond, only the days seen. */
static void
chart(struct st_buf *b, const struct st_campaign_summary *s)
{
	long first, last, span, i;
	uint64_t max = 1;
	size_t k;
	int w = 1000, h = 220, left = 50, bottom = 40, top = 10;
	double bw;
	bool dense;

	if (s->ndays == 0) {
		st_buf_puts(b, "<p class=\"dim\">No dated bounces.</p>\n");
		return;
	}
	for (k = 0; k < s->ndays; k++)
		if (s->per_day[k].n > max)
			max = s->per_day[k].n;
	first = day_number(s->per_day[0].key);
	last = day_number(s->per_day[s->ndays - 1].key);
	span = last - first + 1;
	dense = span > 0 && span <= 400;
	if (!dense)
		span = (long)s->ndays;
	bw = (double)(w - left - 10) / (double)span;
	st_buf_printf(b, "<svg role=\"img\" aria-label=\"bounces per day\" "
	    "viewBox=\"0 0 %d %d\" width=\"100%%\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n", w, h);
	/* axes and a scale */
	st_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "class=\"axis\"/>\n", left, h - bottom, w - 10, h - bottom);
	st_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "class=\"axis\"/>\n", left, top, left, h - bottom);
	st_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"lbl\" "
	    "text-anchor=\"end\">%llu</text>\n", left - 6, top + 10,
	    (unsigned long long)max);
	st_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"lbl\" "
	    "text-anchor=\"end\">0</text>\n", left - 6, h - bottom);
	for (k = 0; k < s->ndays; k++) {
		long pos = dense ? day_number(s->per_day[k].key) - first :
		    (long)k;
		double x = left + 2 + pos * bw;
		double bh = (double)(h - bottom - top) *
		    (double)s->per_day[k].n / (double)max;

		st_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" class=\"bar\"><title>%s: %llu</title>"
		    "</rect>\n", x, (double)(h - bottom) - bh,
		    bw > 3 ? bw - 2 : bw, bh, s->per_day[k].key,
		    (unsigned long long)s->per_day[k].n);
	}
	/* date labels: first, last, and a few between */
	for (i = 0; i < span; i += span / 6 > 0 ? span / 6 : 1) {
		char lbl[16];

		if (dense) {
			/* find the label for day first + i */
			long want = first + i;
			size_t j;
			bool found = false;

			for (j = 0; j < s->ndays; j++)
				if (day_number(s->per_day[j].key) == want) {
					snprintf(lbl, sizeof(lbl), "%s",
					    s->per_day[j].key);
					found = true;
				}
			if (!found)
				continue;
		} else
			snprintf(lbl, sizeof(lbl), "%s", s->per_day[i].key);
		st_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"lbl\">%s"
		    "</text>\n", left + 2 + i * bw, h - bottom + 16, lbl);
	}
	if (span > 1 && (span - 1) % (span / 6 > 0 ? span / 6 : 1) != 0)
		st_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"lbl\" "
		    "text-anchor=\"end\">%s</text>\n", (double)(w - 10),
		    h - bottom + 32, s->per_day[s->ndays - 1].key);
	st_buf_puts(b, "</svg>\n");
}

static const char STYLE[] =
    "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;"
    "font-size:14px}th{background:#f0f0f0}td.n{text-align:right}"
    ".bar{fill:#c0392b}.axis{stroke:#555;stroke-width:1}"
    ".lbl{font-size:11px;fill:#444}.dim{color:#777}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:8px 14px}"
    ".card b{display:block;font-size:22px}"
    ".overseas{color:#1f5fa8}.domestic{color:#a8641f}"
    "details{margin:4px 0}summary{cursor:pointer}"
    ".rbar{display:inline-block;height:10px;background:#c0392b}";

int
out_bounces_html(const char *file, const struct st_campaign_summary *s,
    const char *title)
{
	struct st_buf b = { 0 };
	FILE *f;
	size_t i, k;
	char d1[32], d2[32];
	uint64_t rmax = 1;

	st_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n<title>spamtrace: bounces of ");
	esc(&b, title);
	st_buf_printf(&b, "</title>\n<style>%s</style></head><body>\n", STYLE);
	st_buf_puts(&b, "<h1>Bounces of ");
	esc(&b, title);
	st_buf_puts(&b, "</h1>\n");
	if (s->has_first) {
		st_date_iso(s->first, d1, sizeof(d1));
		st_date_iso(s->last, d2, sizeof(d2));
		st_buf_printf(&b, "<p>From %s to %s (UTC).", d1, d2);
	} else
		st_buf_puts(&b, "<p>");
	if (s->nme > 0) {
		st_buf_puts(&b, " Your addresses: ");
		for (i = 0; i < s->nme; i++) {
			if (i)
				st_buf_puts(&b, ", ");
			esc(&b, s->me[i]);
		}
		if (s->country) {
			st_buf_puts(&b, " (");
			esc(&b, s->country);
			st_buf_puts(&b, ")");
		}
		st_buf_puts(&b, ".");
	}
	st_buf_puts(&b, "</p>\n<div class=\"cards\">\n");
	st_buf_printf(&b, "<div class=\"card\" id=\"messages\"><b>%llu</b>"
	    "messages</div>\n", (unsigned long long)s->messages);
	st_buf_printf(&b, "<div class=\"card\" id=\"bounces\"><b>%llu</b>"
	    "bounces</div>\n", (unsigned long long)s->bounces);
	st_buf_printf(&b, "<div class=\"card\" id=\"backscatter\"><b>%llu</b>"
	    "backscatter</div>\n", (unsigned long long)s->backscatter);
	st_buf_printf(&b, "<div class=\"card\" id=\"genuine\"><b>%llu</b>"
	    "genuine</div>\n", (unsigned long long)s->genuine);
	st_buf_printf(&b, "<div class=\"card\"><b>%llu</b>undetermined</div>\n",
	    (unsigned long long)s->undetermined);
	st_buf_printf(&b, "<div class=\"card\"><b>%llu</b>not bounces</div>\n",
	    (unsigned long long)s->not_bounces);
	st_buf_printf(&b, "<div class=\"card\"><b>%llu</b>unreadable</div>\n",
	    (unsigned long long)s->unreadable);
	st_buf_puts(&b, "</div>\n<h2>Arrivals per day</h2>\n");
	chart(&b, s);

	st_buf_puts(&b, "<h2>Origins</h2>\n<p class=\"dim\">The hosts that "
	    "handed the forged mail to the bouncing systems (the origin of "
	    "each bounced message's trace), most first.</p>\n");
	st_buf_puts(&b, "<table id=\"origins\"><tr><th>#</th><th>count</th>"
	    "<th>ip</th><th>host</th><th>org</th><th>country</th>"
	    "<th>scope</th></tr>\n");
	for (i = 0; i < s->norigins; i++) {
		const struct st_campaign_origin *o = &s->origins[i];

		st_buf_printf(&b, "<tr class=\"origin\"><td class=\"n\">%zu</td>"
		    "<td class=\"n\">%llu</td><td>", i + 1,
		    (unsigned long long)o->count);
		esc(&b, dash(o->ip));
		st_buf_puts(&b, "</td><td>");
		esc(&b, dash(o->host));
		st_buf_puts(&b, "</td><td>");
		esc(&b, dash(o->org));
		st_buf_puts(&b, "</td><td>");
		esc(&b, o->country ? o->country : "-");
		st_buf_printf(&b, "</td><td class=\"%s\">%s</td></tr>\n",
		    o->scope ? o->scope : "", o->scope ? o->scope : "-");
	}
	st_buf_puts(&b, "</table>\n");

	st_buf_puts(&b, "<h2>Reasons</h2>\n<table id=\"reasons\"><tr>"
	    "<th>reason</th><th>bounces</th><th></th></tr>\n");
	for (i = 0; i < s->nreasons; i++)
		if (s->by_reason[i].n > rmax)
			rmax = s->by_reason[i].n;
	for (i = 0; i < s->nreasons; i++) {
		st_buf_puts(&b, "<tr><td>");
		esc(&b, s->by_reason[i].key);
		st_buf_printf(&b, "</td><td class=\"n\">%llu</td><td><span "
		    "class=\"rbar\" style=\"width:%llupx\"></span></td></tr>\n",
		    (unsigned long long)s->by_reason[i].n,
		    (unsigned long long)(s->by_reason[i].n * 300 / rmax));
	}
	st_buf_puts(&b, "</table>\n");

	st_buf_puts(&b, "<h2>Per origin</h2>\n");
	for (i = 0; i < s->norigins; i++) {
		const struct st_campaign_origin *o = &s->origins[i];

		st_buf_puts(&b, i == 0 ? "<details open><summary>" :
		    "<details><summary>");
		esc(&b, dash(o->ip));
		st_buf_puts(&b, " ");
		esc(&b, o->host);
		st_buf_printf(&b, " &mdash; %llu bounce%s</summary>\n<table>"
		    "<tr><th>arrived</th><th>recipient</th><th>reason</th>"
		    "<th>subject</th><th>message</th></tr>\n",
		    (unsigned long long)o->count, o->count == 1 ? "" : "s");
		for (k = 0; k < o->nex; k++) {
			const struct st_campaign_example *e = &o->ex[k];
			char d[32] = "-";

			if (e->has_when)
				st_date_iso(e->when, d, sizeof(d));
			st_buf_printf(&b, "<tr><td>%s</td><td>", d);
			esc(&b, dash(e->rcpt));
			st_buf_puts(&b, "</td><td>");
			esc(&b, dash(e->reason));
			st_buf_puts(&b, "</td><td>");
			esc(&b, dash(e->subject));
			st_buf_puts(&b, "</td><td>");
			esc(&b, e->path);
			st_buf_printf(&b, " #%zu</td></tr>\n", e->index);
		}
		if (o->count > o->nex)
			st_buf_printf(&b, "<tr><td colspan=\"5\" class=\"dim\">"
			    "and %llu more</td></tr>\n",
			    (unsigned long long)(o->count - o->nex));
		st_buf_puts(&b, "</table></details>\n");
	}
	st_buf_puts(&b, "<p class=\"dim\">Made by spamtrace " ST_VERSION
	    ".</p>\n</body></html>\n");

	cli_buf_check(&b);
	if ((f = fopen(file, "w")) == NULL) {
		st_buf_free(&b);
		return -1;
	}
	if (fwrite(b.p, 1, b.len, f) != b.len) {
		int e = errno;

		fclose(f);
		st_buf_free(&b);
		errno = e;
		return -1;
	}
	st_buf_free(&b);
	return fclose(f) == 0 ? 0 : -1;
}
