/*
 * render.c - a report as a complete mail message: a polite letter
 * (text/plain, English or Japanese) or an RFC 5965 feedback report
 * (multipart/report; report-type=feedback-report).
 *
 * Letters come from a template the user can edit ({{placeholders}}, see
 * report.h); Japanese is sent as ISO-2022-JP, the traditional charset of
 * Japanese mail (RFC 1468), falling back to UTF-8 (base64) when the text
 * holds a character JIS X 0208 lacks; English is US-ASCII, or UTF-8
 * quoted-printable when the text is not ASCII.  The Subject is RFC 2047
 * encoded when it is not ASCII.
 *
 * The ARF report has three parts: the human-readable text, the
 * message/feedback-report fields (Feedback-Type: abuse, User-Agent,
 * Version: 1, Original-Mail-From, Original-Rcpt-To, Arrival-Date,
 * Source-IP, Reported-Domain, Authentication-Results when the original had
 * one, Incidents for a campaign) and the original's header block as
 * text/rfc822-headers (or the whole message as message/rfc822 with
 * --full).  The original is copied byte for byte; the only change ever
 * made is --redact, which replaces the reporter's own address wherever it
 * appears (case-insensitively).  The output's line ends are those of the
 * attached original ("\n" or "\r\n") so the copy stays exact.
 *
 * Hostile text (spam subjects, Received values, evidence) reaches the
 * letter only through st_mime_put_display() (controls and invalid UTF-8 as
 * \xNN) and the feedback fields only through st_mime_field_safe(); a
 * boundary is chosen that occurs nowhere in the content.
 *
 * Standards: RFC 5322, RFC 2045-2047, RFC 6522 (multipart/report), RFC
 * 5965 and RFC 6650 (ARF), RFC 1468 (ISO-2022-JP), RFC 2046 5.2.1
 * (message/rfc822 is 7bit, 8bit or binary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "spamtrace/limits.h"
#include "report_int.h"

#ifndef ST_VERSION
#define ST_VERSION "0"
#endif

/* Built-in templates, used when the caller gives none (the files in
 * data/templates/ are the ones users see and edit). */
static const char builtin_letter[] =
    "Subject: Spam from {{source_ip}} ({{network}})\n"
    "\n"
    "Hello,\n\n"
    "we received unsolicited mail from your network.\n\n"
    "Sending address: {{source_ip}} {{source_host}}\n"
    "Incidents: {{count}} (first {{first}}, last {{last}})\n\n"
    "{{incidents}}\n\n{{evidence}}\n\n{{received}}\n\n"
    "Please stop it.\n\n{{reporter}}\n";
static const char builtin_arf[] =
    "Subject: Abuse report: spam from {{source_ip}}\n"
    "\n"
    "This is an abuse report (RFC 5965) about mail received from "
    "{{source_ip}}.\n\n{{incidents}}\n\n{{evidence}}\n";

struct labels {
	const char *incident, *and_more, *no_findings, *no_rdns, *hop,
	    *received_of, *none, *source_est, *several, *unknown_time,
	    *msgid, *same_findings;
};

static const struct labels lab_en = {
	"Incident", "... and %zu more incidents from the same network.",
	"(The analysis recorded no specific finding; the Received lines "
	"below show the path.)",
	"(no reverse DNS name)", "hop", "Received lines of incident %zu:",
	"(none)",
	"The message most likely entered the internet at %s (%s).",
	"%zu addresses: ", "(time unknown)", "Message-ID",
	"the same findings as incident %zu.",
};

/* Japanese labels (UTF-8; every character is in JIS X 0208). */
static const struct labels lab_ja = {
	"事例", "……ほか %zu 件（同じネットワークからのもの）",
	"（自動解析では特記事項は見つかりませんでした。経路は下の "
	"Received 行をご覧ください。）",
	"（逆引き名なし）", "ホップ", "事例 %zu の Received 行:",
	"（なし）",
	"メールは %s からインターネットに送り出されたと推定されます。\n"
	"（根拠: %s）",
	"%zu 個のアドレス: ", "（時刻不明）", "Message-ID",
	"事例 %zu と同じ内容が見つかりました。",
};

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* "2006-03-03 20:54:40 +0900 (11:54:40 UTC)" */
static void
fmt_time(const struct st_report_incident *in, const struct labels *L,
    char *buf, size_t size)
{
	time_t t;
	struct tm tm, u;
	int tz = in->arrival_tz_known ? in->arrival_tz : 0,
	    a = tz < 0 ? -tz : tz;

	if (!in->has_arrival) {
		snprintf(buf, size, "%s", L->unknown_time);
		return;
	}
	t = (time_t)(in->arrival + (int64_t)tz * 60);
	gmtime_r(&t, &tm);
	t = (time_t)in->arrival;
	gmtime_r(&t, &u);
	if (tz == 0)
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d UTC",
		    u.tm_year + 1900, u.tm_mon + 1, u.tm_mday, u.tm_hour,
		    u.tm_min, u.tm_sec);
	else
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d %c%02d%02d "
		    "(%02d:%02d:%02d UTC)", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    tz < 0 ? '-' : '+', a / 60, a % 60, u.tm_hour, u.tm_min,
		    u.tm_sec);
}

/* Display width of UTF-8 text: CJK (3- and 4-byte sequences) counts 2
 * columns, other characters 1. */
static size_t
width(const char *p, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80 || (c & 0xe0) == 0xc0)
			w++;
		else if (c >= 0xe0)
			w += 2;
	}
	return w;
}

/* Write prefix + text wrapped at 76 columns at blanks (runs of blanks,
 * tabs and line ends become one space or a line break), continuation
 * lines indented by indent spaces; hostile bytes made visible. */
static void
put_wrapped(struct st_buf *b, const char *prefix, const char *text,
    int indent)
{
	struct st_buf d;
	const char *p, *e, *w;
	size_t col;
	bool line_start = true;

	st_buf_init(&d, ST_MAX_HEADER_VALUE * 8);
	st_mime_put_display(&d, text, strlen(text));
	p = d.p ? d.p : "";
	e = p + d.len;
	st_buf_puts(b, prefix);
	col = width(prefix, strlen(prefix));
	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\n' || *p == '\t'))
			p++;
		w = p;
		while (p < e && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
		if (p == w)
			break;
		if (!line_start && col + 1 + width(w, (size_t)(p - w)) > 76) {
			st_buf_putc(b, '\n');
			st_buf_printf(b, "%*s", indent, "");
			col = (size_t)indent;
		} else if (!line_start) {
			st_buf_putc(b, ' ');
			col++;
		}
		st_buf_put(b, w, (size_t)(p - w));
		col += width(w, (size_t)(p - w));
		line_start = false;
	}
	st_buf_putc(b, '\n');
	st_buf_free(&d);
}

static void
put_incidents(struct st_buf *b, const struct st_report *r,
    const struct labels *L)
{
	size_t i, n = r->ninc < ST_MAX_REPORT_LISTED ? r->ninc :
	    ST_MAX_REPORT_LISTED;
	char when[96];

	for (i = 0; i < n; i++) {
		const struct st_report_incident *in = &r->inc[i];
		char line[1024];

		fmt_time(in, L, when, sizeof(when));
		char num[32], mid[64];

		snprintf(num, sizeof(num), "%3zu. ", i + 1);
		snprintf(line, sizeof(line), "%s  %s%s%s%s", when,
		    *in->origin_ip ? in->origin_ip : "?",
		    *in->origin_host ? " (" : "", in->origin_host,
		    *in->origin_host ? ")" : "");
		put_wrapped(b, num, line, 9);
		if (*in->message_id) {
			snprintf(mid, sizeof(mid), "     %s: ", L->msgid);
			put_wrapped(b, mid, in->message_id, 9);
		}
	}
	if (r->ninc > n)
		st_buf_printf(b, L->and_more, r->ninc - n);
	if (b->len > 0 && b->p[b->len - 1] == '\n')
		b->len--;
}

/* Same finding codes, in the same order? */
static bool
same_codes(const struct st_report_incident *x,
    const struct st_report_incident *y)
{
	size_t k;

	if (x->nfindings != y->nfindings)
		return false;
	for (k = 0; k < x->nfindings; k++)
		if (strcmp(x->findings[k].code, y->findings[k].code) != 0)
			return false;
	return true;
}

/* The findings: in full for the first incident (and for up to
 * ST_MAX_REPORT_DETAILED others that differ from it); the incidents that
 * repeat the first one's findings are named in one line. */
static void
put_evidence(struct st_buf *b, const struct st_report *r,
    const struct labels *L)
{
	size_t i, k, shown = 0, nsame = 0;
	const struct st_report_incident *ref = NULL;
	bool any = false;
	struct st_buf same;

	st_buf_init(&same, 65536);
	for (i = 0; i < r->ninc; i++) {
		const struct st_report_incident *in = &r->inc[i];

		if (in->nfindings == 0)
			continue;
		if (ref != NULL && same_codes(ref, in)) {
			if (nsame < 50)
				st_buf_printf(&same, "%s%zu", nsame ? ", " : "",
				    i + 1);
			else if (nsame == 50)
				st_buf_puts(&same, ", ...");
			nsame++;
			continue;
		}
		if (shown >= ST_MAX_REPORT_DETAILED)
			continue;
		if (ref == NULL)
			ref = in;
		shown++;
		if (r->ninc > 1)
			st_buf_printf(b, "%s%s %zu:\n", any ? "\n" : "",
			    L->incident, i + 1);
		any = true;
		for (k = 0; k < in->nfindings; k++) {
			const struct st_report_finding *f = &in->findings[k];
			char head[256];

			if (f->hop > 0)
				snprintf(head, sizeof(head),
				    "[%s] %s (%s %d)", f->severity, f->code,
				    L->hop, f->hop);
			else
				snprintf(head, sizeof(head), "[%s] %s",
				    f->severity, f->code);
			put_wrapped(b, "  ", head, 4);
			if (*f->evidence)
				put_wrapped(b, "      ", f->evidence, 6);
			if (*f->explain)
				put_wrapped(b, "      ", f->explain, 6);
		}
	}
	if (nsame > 0) {
		char line[256];

		snprintf(line, sizeof(line), L->same_findings,
		    (size_t)(ref - r->inc) + 1);
		st_buf_printf(b, "\n%s ", L->incident);
		st_buf_put(b, same.p, same.len);
		st_buf_printf(b, ": %s\n", line);
	}
	st_buf_free(&same);
	if (!any)
		st_buf_printf(b, "%s\n", L->no_findings);
	if (b->len > 0 && b->p[b->len - 1] == '\n')
		b->len--;
}

static void
put_received(struct st_buf *b, const struct st_report *r,
    const struct labels *L)
{
	const struct st_report_incident *in = &r->inc[0];
	size_t i;

	if (r->ninc > 1) {
		st_buf_printf(b, L->received_of, (size_t)1);
		st_buf_putc(b, '\n');
	}
	for (i = 0; i < in->nreceived; i++)
		put_wrapped(b, "Received: ", in->received[i], 4);
	if (in->nreceived == 0)
		st_buf_printf(b, "%s\n", L->none);
	if (b->len > 0 && b->p[b->len - 1] == '\n')
		b->len--;
}

static void
put_relays(struct st_buf *b, const struct st_report *r,
    const struct labels *L)
{
	const char *seen[50];
	size_t i, k, j, n = 0;

	for (i = 0; i < r->ninc; i++)
		for (k = 0; k < r->inc[i].nrelays && n < 50; k++) {
			const char *rl = r->inc[i].relays[k];

			for (j = 0; j < n; j++)
				if (strcmp(seen[j], rl) == 0)
					break;
			if (j < n)
				continue;
			seen[n++] = rl;
			st_buf_puts(b, "  - ");
			st_mime_put_display(b, rl, strlen(rl));
			st_buf_putc(b, '\n');
		}
	if (n == 0)
		st_buf_printf(b, "  %s\n", L->none);
	if (b->len > 0 && b->p[b->len - 1] == '\n')
		b->len--;
}

/* The origin addresses of the incidents: one, or "N addresses: a, b, ...". */
static void
put_source_ips(struct st_buf *b, const struct st_report *r,
    const struct labels *L)
{
	const char *seen[8];
	size_t i, j, n = 0, total = 0;
	struct st_buf t;

	st_buf_init(&t, 65536);
	for (i = 0; i < r->ninc; i++) {
		const char *ip = r->inc[i].origin_ip;

		if (*ip == '\0')
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(seen[j], ip) == 0)
				break;
		if (j < n)
			continue;
		total++;
		if (n < 8) {
			if (n > 0)
				st_buf_puts(&t, ", ");
			st_buf_puts(&t, ip);
			seen[n++] = ip;
		}
	}
	if (total > 8)
		st_buf_puts(&t, ", ...");
	if (total > 1)
		st_buf_printf(b, L->several, total);
	if (total == 0)
		st_buf_puts(b, "?");
	else
		st_mime_put_display(b, t.p, t.len);
	st_buf_free(&t);
}

struct ctx {
	const struct st_report *r;
	const struct st_report_opts *o;
	const struct labels *L;
};

static bool
name_is(const char *n, size_t nl, const char *want)
{
	return strlen(want) == nl && memcmp(n, want, nl) == 0;
}

/* Append the value of placeholder name; false when unknown. */
static bool
put_value(struct st_buf *b, const struct ctx *c, const char *n, size_t nl)
{
	const struct st_report *r = c->r;
	const struct st_report_incident *in0 = &r->inc[0];
	const struct labels *L = c->L;
	size_t i;
	char tbuf[96];

	if (name_is(n, nl, "to")) {
		for (i = 0; i < r->nto; i++) {
			if (i > 0)
				st_buf_puts(b, ", ");
			st_mime_put_display(b, r->to[i], strlen(r->to[i]));
		}
	} else if (name_is(n, nl, "network")) {
		const char *v = *r->domain ? r->domain : in0->origin_ip;

		st_mime_put_display(b, v, strlen(v));
	} else if (name_is(n, nl, "domain")) {
		st_mime_put_display(b, r->domain, strlen(r->domain));
	} else if (name_is(n, nl, "source_ip")) {
		put_source_ips(b, r, L);
	} else if (name_is(n, nl, "source_host")) {
		const char *v = *in0->origin_host ? in0->origin_host :
		    L->no_rdns;

		st_mime_put_display(b, v, strlen(v));
	} else if (name_is(n, nl, "source_estimate")) {
		if (*in0->source_ip && strcmp(in0->source_ip,
		    in0->origin_ip) != 0) {
			char line[2048];

			snprintf(line, sizeof(line), L->source_est,
			    in0->source_ip, *in0->source_why ?
			    in0->source_why : "?");
			char *ln = line, *brk;

			/* each line of the sentence wrapped on its own */
			do {
				brk = strchr(ln, '\n');
				if (brk != NULL)
					*brk = '\0';
				put_wrapped(b, "", ln, 0);
				ln = brk + 1;
			} while (brk != NULL);
			if (b->len > 0 && b->p[b->len - 1] == '\n')
				b->len--;
		}
	} else if (name_is(n, nl, "count")) {
		st_buf_printf(b, "%zu", r->ninc);
	} else if (name_is(n, nl, "first") || name_is(n, nl, "last")) {
		const struct st_report_incident *best = NULL;
		bool first = n[0] == 'f';

		for (i = 0; i < r->ninc; i++) {
			const struct st_report_incident *in = &r->inc[i];

			if (!in->has_arrival)
				continue;
			if (best == NULL || (first ? in->arrival < best->arrival
			    : in->arrival > best->arrival))
				best = in;
		}
		fmt_time(best ? best : in0, L, tbuf, sizeof(tbuf));
		st_buf_puts(b, tbuf);
	} else if (name_is(n, nl, "incidents")) {
		put_incidents(b, r, L);
	} else if (name_is(n, nl, "evidence")) {
		put_evidence(b, r, L);
	} else if (name_is(n, nl, "received")) {
		put_received(b, r, L);
	} else if (name_is(n, nl, "headers")) {
		size_t before = b->len;

		st_mime_put_display(b, nz(in0->headers), in0->headers_len);
		while (b->len > before && b->p[b->len - 1] == '\n')
			b->len--;
	} else if (name_is(n, nl, "relays")) {
		put_relays(b, r, L);
	} else if (name_is(n, nl, "reporter")) {
		const char *v = c->o->reporter ? c->o->reporter :
		    nz(c->o->from);

		st_mime_put_display(b, v, strlen(v));
	} else if (name_is(n, nl, "date")) {
		st_mime_date(c->o->now, 0, tbuf, sizeof(tbuf));
		st_buf_puts(b, tbuf);
	} else if (name_is(n, nl, "version")) {
		st_buf_puts(b, ST_VERSION);
	} else if (name_is(n, nl, "subject_of_first")) {
		st_mime_put_display(b, in0->subject, strlen(in0->subject));
	} else {
		return false;
	}
	return true;
}

static void
expand(struct st_buf *b, const struct ctx *c, const char *p, size_t len)
{
	const char *e = p + len, *o, *cl;

	while (p < e) {
		o = memmem(p, (size_t)(e - p), "{{", 2);
		if (o == NULL) {
			st_buf_put(b, p, (size_t)(e - p));
			return;
		}
		st_buf_put(b, p, (size_t)(o - p));
		cl = memmem(o + 2, (size_t)(e - o - 2), "}}", 2);
		if (cl != NULL && cl - o <= 64) {
			const char *n = o + 2, *ne = cl;

			while (n < ne && *n == ' ')
				n++;
			while (ne > n && ne[-1] == ' ')
				ne--;
			if (put_value(b, c, n, (size_t)(ne - n))) {
				p = cl + 2;
				continue;
			}
		}
		st_buf_put(b, o, 2);
		p = o + 2;
	}
}

/* Break lines longer than max bytes (at a UTF-8 character boundary):
 * 7bit bodies must keep lines under 998 octets (RFC 5322 2.1.1). */
static void
hard_wrap(struct st_buf *out, const char *p, size_t len, size_t max)
{
	const char *e = p + len, *nl;

	while (p < e) {
		size_t ll;

		nl = memchr(p, '\n', (size_t)(e - p));
		ll = (size_t)((nl ? nl : e) - p);
		while (ll > max) {
			size_t cut = max;

			while (cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80)
				cut--;
			if (cut == 0)
				cut = max;
			st_buf_put(out, p, cut);
			st_buf_putc(out, '\n');
			p += cut;
			ll -= cut;
		}
		st_buf_put(out, p, ll);
		if (nl == NULL)
			return;
		st_buf_putc(out, '\n');
		p = nl + 1;
	}
}

static const struct labels *
labels_for(const char *lang)
{
	return lang != NULL && strcasecmp(lang, "ja") == 0 ? &lab_ja : &lab_en;
}

static bool
is_ja(const struct st_report_opts *o)
{
	return o->lang != NULL && strcasecmp(o->lang, "ja") == 0;
}

/* Expand a template into subject and body (UTF-8, "\n" lines, redacted). */
static enum st_status
render_text(const struct st_report *r, const struct st_report_opts *o,
    const char *tp, size_t tl, char **text, size_t *textlen, char **subject,
    struct st_error *err)
{
	struct ctx c = { r, o, labels_for(o->lang) };
	const char *p = tp, *e = tp + tl, *nl, *subj = NULL, *body = tp;
	size_t subjl = 0;
	struct st_buf sb, bb, wb;
	char *red;
	size_t redl;

	if (r->ninc == 0)
		return st_error_set(err, ST_EINVAL, "report without incidents");
	/* header lines up to the first empty line, when the template
	 * starts with one */
	if (tl > 8 && strncasecmp(tp, "Subject:", 8) == 0) {
		while (p < e) {
			nl = memchr(p, '\n', (size_t)(e - p));
			if (nl == NULL)
				nl = e;
			if (nl == p || (nl == p + 1 && *p == '\r')) {
				body = nl < e ? nl + 1 : e;
				break;
			}
			if ((size_t)(nl - p) > 8 &&
			    strncasecmp(p, "Subject:", 8) == 0) {
				subj = p + 8;
				subjl = (size_t)(nl - subj);
				while (subjl > 0 && (*subj == ' ' ||
				    *subj == '\t')) {
					subj++;
					subjl--;
				}
				while (subjl > 0 && (subj[subjl - 1] == '\r' ||
				    subj[subjl - 1] == ' '))
					subjl--;
			}
			p = nl < e ? nl + 1 : e;
			body = p;
		}
	}
	st_buf_init(&sb, 65536);
	st_buf_init(&bb, 2 * ST_MAX_MESSAGE_SIZE);
	st_buf_init(&wb, 2 * ST_MAX_MESSAGE_SIZE);
	if (subj != NULL)
		expand(&sb, &c, subj, subjl);
	else
		st_buf_puts(&sb, is_ja(o) ? "迷惑メールのご報告" :
		    "Abuse report");
	expand(&bb, &c, body, (size_t)(e - body));
	/* the template may use CRLF: work in "\n" */
	{
		size_t i, k;

		for (i = 0, k = 0; i < bb.len; i++)
			if (!(bb.p[i] == '\r' && i + 1 < bb.len &&
			    bb.p[i + 1] == '\n'))
				bb.p[k++] = bb.p[i];
		bb.len = k;
		if (bb.p != NULL)
			bb.p[k] = '\0';
		for (i = 0; i < sb.len; i++)
			if (sb.p[i] == '\n' || sb.p[i] == '\r' ||
			    sb.p[i] == '\t')
				sb.p[i] = ' ';
	}
	if (bb.len == 0 || bb.p[bb.len - 1] != '\n')
		st_buf_putc(&bb, '\n');
	hard_wrap(&wb, bb.p ? bb.p : "", bb.len, 900);
	if (sb.failed || bb.failed || wb.failed) {
		st_buf_free(&sb);
		st_buf_free(&bb);
		st_buf_free(&wb);
		return st_error_set(err, ST_ELIMIT, "report too large");
	}
	st_buf_free(&bb);
	red = st_report_redact(wb.p ? wb.p : "", wb.len, o->redact,
	    o->redact_with, &redl);
	st_buf_free(&wb);
	*text = red;
	*textlen = redl;
	*subject = st_report_redact(sb.p ? sb.p : "", sb.len, o->redact,
	    o->redact_with, NULL);
	st_buf_free(&sb);
	if (*text == NULL || *subject == NULL) {
		free(*text);
		free(*subject);
		return st_error_set(err, ST_ENOMEM, "out of memory");
	}
	return ST_OK;
}

enum st_status
st_report_letter_text(const struct st_report *r,
    const struct st_report_opts *o, char **text, char **subject,
    struct st_error *err)
{
	size_t tl;
	const char *tp = o->templ;

	if (tp == NULL) {
		tp = o->arf ? builtin_arf : builtin_letter;
		tl = strlen(tp);
	} else {
		tl = o->templ_len;
	}
	return render_text(r, o, tp, tl, text, &tl, subject, err);
}

/* Encode a text body: sets charset and transfer encoding, appends the
 * encoded body with eol line ends. */
static void
put_text_body(struct st_buf *b, const char *text, size_t len, bool ja,
    bool ja_utf8, const char *eol, const char **charset, const char **cte)
{
	char *jis;
	size_t jl;

	if (st_mime_is_ascii(text, len)) {
		*charset = "us-ascii";
		*cte = "7bit";
		st_mime_put_eol(b, text, len, eol);
		return;
	}
	if (ja && !ja_utf8 &&
	    (jis = st_report_to_iso2022jp(text, len, &jl)) != NULL) {
		*charset = "ISO-2022-JP";
		*cte = "7bit";
		st_mime_put_eol(b, jis, jl, eol);
		free(jis);
		return;
	}
	*charset = "utf-8";
	if (ja) {
		*cte = "base64";
		st_mime_put_b64(b, (const unsigned char *)text, len, eol);
	} else {
		*cte = "quoted-printable";
		st_mime_put_qp(b, text, len, eol);
	}
}

static void
rand_hex(char *buf, size_t nbytes, const char *seed, unsigned salt)
{
	unsigned char r[32];
	size_t i;

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	if (seed != NULL) {
		unsigned h = 2166136261u ^ salt;

		for (i = 0; seed[i]; i++)
			h = (h ^ (unsigned char)seed[i]) * 16777619u;
		for (i = 0; i < nbytes; i++) {
			h = h * 1103515245u + 12345u;
			r[i] = (unsigned char)(h >> 16);
		}
	} else if (getrandom(r, nbytes, 0) != (ssize_t)nbytes) {
		unsigned h = (unsigned)time(NULL) ^ (unsigned)getpid() ^ salt;

		for (i = 0; i < nbytes; i++) {
			h = h * 1103515245u + 12345u;
			r[i] = (unsigned char)(h >> 16);
		}
	}
	for (i = 0; i < nbytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

/* The domain of the From address, for the Message-ID. */
static void
msgid_domain(const char *from, char *buf, size_t size)
{
	const char *at = strrchr(nz(from), '@');
	size_t n = 0;

	if (at != NULL)
		for (at++; *at && n + 1 < size; at++) {
			char ch = *at;

			if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
			    || (ch >= '0' && ch <= '9') || ch == '.' ||
			    ch == '-')
				buf[n++] = ch;
			else
				break;
		}
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, size, "spamtrace.invalid");
}

static bool
contains(const char *hay, size_t hl, const char *needle)
{
	return hay != NULL && memmem(hay, hl, needle, strlen(needle)) != NULL;
}

/* Copy a hostile value into a feedback-report field (ASCII only). */
static void
put_fb_field(struct st_buf *b, const char *name, const char *value,
    const struct st_report_opts *o, const char *eol)
{
	char *red, *safe;

	if (value == NULL || *value == '\0')
		return;
	red = st_report_redact(value, strlen(value), o->redact,
	    o->redact_with, NULL);
	safe = st_mime_field_safe(red ? red : "", 900);
	if (safe != NULL)
		st_mime_put_field(b, name, safe, eol);
	free(red);
	free(safe);
}

enum st_status
st_report_render(const struct st_report *r, const struct st_report_opts *o,
    char **out, size_t *outlen, char **msgid_out, struct st_error *err)
{
	const struct st_report_incident *in0;
	const char *eol, *charset, *cte, *tp;
	char *text = NULL, *subject = NULL, *att = NULL, *enc_subj = NULL,
	    *safe;
	size_t textlen = 0, attlen = 0, tl, i;
	char boundary[64], hex[40], date[64], dom[256], msgid[512];
	struct st_buf b, part;
	enum st_status rc;
	bool ja = is_ja(o);

	if (r == NULL || r->ninc == 0 || o == NULL || o->from == NULL ||
	    *o->from == '\0')
		return st_error_set(err, ST_EINVAL,
		    "report: nothing to report or no From address");
	in0 = &r->inc[0];
	eol = in0->eol != NULL && strcmp(in0->eol, "\n") == 0 ? "\n" : "\r\n";
	tp = o->templ;
	tl = o->templ_len;
	if (tp == NULL) {
		tp = o->arf ? builtin_arf : builtin_letter;
		tl = strlen(tp);
	}
	if ((rc = render_text(r, o, tp, tl, &text, &textlen, &subject,
	    err)) != ST_OK)
		return rc;

	/* the Subject, encoded when needed */
	if (!st_mime_is_ascii(subject, strlen(subject))) {
		if (ja)
			enc_subj = st_report_encode_words(subject,
			    o->ja_utf8 ? "UTF-8" : "ISO-2022-JP", eol);
		if (enc_subj == NULL)
			enc_subj = st_report_encode_words(subject, "UTF-8",
			    eol);
	}
	/* the attachment (ARF), redacted */
	if (o->arf) {
		const char *src = o->full && in0->full ? in0->full :
		    in0->headers;
		size_t sl = o->full && in0->full ? in0->full_len :
		    in0->headers_len;

		att = st_report_redact(nz(src), sl, o->redact,
		    o->redact_with, &attlen);
		if (att == NULL) {
			free(text);
			free(subject);
			free(enc_subj);
			return st_error_set(err, ST_ENOMEM, "out of memory");
		}
	}
	/* a boundary found nowhere in the content */
	for (i = 0;; i++) {
		rand_hex(hex, 12, o->boundary_seed, (unsigned)i);
		snprintf(boundary, sizeof(boundary), "=_spamtrace_%s", hex);
		if (!contains(text, textlen, boundary) &&
		    !contains(att, attlen, boundary))
			break;
	}
	st_mime_date(o->now, 0, date, sizeof(date));
	if (o->msgid != NULL) {
		snprintf(msgid, sizeof(msgid), "%s", o->msgid);
	} else {
		char h2[40];
		time_t t = (time_t)o->now;
		struct tm tm;

		gmtime_r(&t, &tm);
		rand_hex(h2, 8, o->boundary_seed, 0x5eedu);
		msgid_domain(o->from, dom, sizeof(dom));
		snprintf(msgid, sizeof(msgid),
		    "%04d%02d%02d%02d%02d%02d.%s.spamtrace@%s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, h2, dom);
	}

	st_buf_init(&b, 3 * ST_MAX_MESSAGE_SIZE);
	st_buf_init(&part, 3 * ST_MAX_MESSAGE_SIZE);
	safe = st_mime_field_safe(o->from, 998);
	st_mime_put_field(&b, "From", nz(safe), eol);
	free(safe);
	{
		struct st_buf to;

		st_buf_init(&to, 65536);
		for (i = 0; i < r->nto; i++) {
			if (i > 0)
				st_buf_puts(&to, ", ");
			st_buf_puts(&to, r->to[i]);
		}
		safe = st_mime_field_safe(to.p ? to.p : "", 60000);
		st_mime_put_field(&b, "To", nz(safe), eol);
		free(safe);
		st_buf_free(&to);
	}
	if (enc_subj != NULL) {
		st_buf_puts(&b, "Subject: ");
		st_buf_puts(&b, enc_subj);
		st_buf_puts(&b, eol);
	} else {
		st_mime_put_field(&b, "Subject", subject, eol);
	}
	st_buf_printf(&b, "Date: %s%s", date, eol);
	st_buf_printf(&b, "Message-ID: <%s>%s", msgid, eol);
	st_buf_printf(&b, "MIME-Version: 1.0%s", eol);
	st_buf_printf(&b, "User-Agent: spamtrace/%s%s", ST_VERSION, eol);

	if (!o->arf) {
		put_text_body(&part, text, textlen, ja, o->ja_utf8, eol,
		    &charset, &cte);
		st_buf_printf(&b, "Content-Type: text/plain; charset=%s%s",
		    charset, eol);
		st_buf_printf(&b, "Content-Transfer-Encoding: %s%s", cte, eol);
		st_buf_puts(&b, eol);
		st_buf_put(&b, part.p ? part.p : "", part.len);
	} else {
		bool eight = !st_mime_is_ascii(att, attlen) ||
		    memchr(att, '\0', attlen) != NULL;
		char ad[64];

		st_buf_printf(&b, "Content-Type: multipart/report; "
		    "report-type=feedback-report;%s\tboundary=\"%s\"%s",
		    eol, boundary, eol);
		st_buf_puts(&b, eol);
		st_buf_printf(&b, "This is an abuse report in the Abuse "
		    "Reporting Format (RFC 5965).%s", eol);
		/* 1: the human-readable part */
		st_buf_printf(&b, "%s--%s%s", eol, boundary, eol);
		put_text_body(&part, text, textlen, ja, o->ja_utf8, eol,
		    &charset, &cte);
		st_buf_printf(&b, "Content-Type: text/plain; charset=%s%s",
		    charset, eol);
		st_buf_printf(&b, "Content-Transfer-Encoding: %s%s", cte, eol);
		st_buf_puts(&b, eol);
		st_buf_put(&b, part.p ? part.p : "", part.len);
		/* 2: the machine-readable part */
		st_buf_printf(&b, "%s--%s%s", eol, boundary, eol);
		st_buf_printf(&b, "Content-Type: message/feedback-report%s",
		    eol);
		st_buf_puts(&b, eol);
		st_buf_printf(&b, "Feedback-Type: abuse%s", eol);
		st_buf_printf(&b, "User-Agent: spamtrace/%s%s", ST_VERSION,
		    eol);
		st_buf_printf(&b, "Version: 1%s", eol);
		if (strcmp(in0->mail_from, "<>") == 0)
			st_buf_printf(&b, "Original-Mail-From: <>%s", eol);
		else if (*in0->mail_from) {
			size_t vn = strlen(in0->mail_from) + 3;
			char *v = malloc(vn);

			if (v != NULL) {
				snprintf(v, vn, "<%s>", in0->mail_from);
				put_fb_field(&b, "Original-Mail-From", v, o,
				    eol);
				free(v);
			}
		}
		if (*in0->rcpt_to) {
			size_t vn = strlen(in0->rcpt_to) + 3;
			char *v = malloc(vn);

			if (v != NULL) {
				snprintf(v, vn, "<%s>", in0->rcpt_to);
				put_fb_field(&b, "Original-Rcpt-To", v, o, eol);
				free(v);
			}
		}
		if (in0->has_arrival) {
			st_mime_date(in0->arrival, in0->arrival_tz_known ?
			    in0->arrival_tz : 0, ad, sizeof(ad));
			st_buf_printf(&b, "Arrival-Date: %s%s", ad, eol);
		}
		put_fb_field(&b, "Source-IP", *in0->origin_ip ?
		    in0->origin_ip : in0->source_ip, o, eol);
		put_fb_field(&b, "Reported-Domain", r->domain, o, eol);
		put_fb_field(&b, "Authentication-Results", in0->auth_results,
		    o, eol);
		if (r->ninc > 1)
			st_buf_printf(&b, "Incidents: %zu%s", r->ninc, eol);
		/* 3: the original, byte for byte */
		st_buf_printf(&b, "%s--%s%s", eol, boundary, eol);
		if (o->full && in0->full != NULL)
			st_buf_printf(&b, "Content-Type: message/rfc822%s",
			    eol);
		else
			st_buf_printf(&b, "Content-Type: text/rfc822-headers%s",
			    eol);
		st_buf_printf(&b, "Content-Transfer-Encoding: %s%s",
		    eight ? "8bit" : "7bit", eol);
		st_buf_puts(&b, eol);
		st_buf_put(&b, att, attlen);
		/* the delimiter's line end belongs to the delimiter (RFC
		 * 2046 5.1.1): one more so the copy keeps its last one */
		st_buf_printf(&b, "%s--%s--%s", eol, boundary, eol);
	}
	free(text);
	free(subject);
	free(enc_subj);
	free(att);
	st_buf_free(&part);
	if (b.failed) {
		st_buf_free(&b);
		return st_error_set(err, ST_ELIMIT, "report too large");
	}
	*out = st_buf_take(&b, outlen);
	if (msgid_out != NULL)
		*msgid_out = strdup(msgid);
	return ST_OK;
}
