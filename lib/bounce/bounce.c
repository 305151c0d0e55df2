/*
 * bounce.c - recognise a bounce, read its report, find the original.
 *
 * DESCRIPTION
 *	st_bounce_parse() takes a scanned message and decides what it is:
 *	an RFC 3464 delivery status notification (a message/delivery-status
 *	part, or the same fields written inline by MTAs that put the report
 *	in the text), an RFC 5965 feedback report, a plain-text bounce of one
 *	of the many MTA and provider formats (text.c), an RFC 3834
 *	auto-reply or a challenge-response message; or none of these.  For
 *	each failed recipient it records the RFC 3463 status, the SMTP reply
 *	code, the remote MTA, the diagnostic text and a reason (reasons.c).
 *	It recovers the original's headers from a message/rfc822 (or
 *	message/global) part, a text/rfc822-headers part, or a copy quoted
 *	inline after a vendor's separator line.  Two formats that are not
 *	MIME reports are read too: Hotmail's older feedback loop (JMRP: the
 *	message attached, the complainant in X-HmXmrOriginalRecipient) and
 *	Amazon SES notifications sent by mail (a JSON body, read with
 *	jansson).  A notice that quotes the message with its mbox "From "
 *	line and gives no SMTP code is a filter's or a service's notice,
 *	not an MTA's bounce: not a bounce.
 *
 *	A message with CR bytes is first copied into the arena with LF line
 *	endings (CRLF and CR-only mail read the same as LF mail); LF mail is
 *	read where it is.  The common MIME
 *	shapes (multipart with boundaries, 7bit / 8bit / quoted-printable /
 *	base64 parts, message/rfc822) are read directly (fast_entity());
 *	anything else goes to GMime, which reads the same parts.  Charsets
 *	are converted through GMime's iconv cache.  A single-part text
 *	message in 7bit or 8bit is its own text.
 *
 * LIMITS
 *	ST_MAX_MIME_DEPTH and ST_MAX_MIME_PARTS for the walk over parts,
 *	ST_MAX_BOUNCE_TEXT of text, ST_MAX_BOUNCE_ORIGINAL of the original,
 *	ST_MAX_BOUNCE_RCPTS recipients.  Nothing here fails on bad input;
 *	only the arena ceiling (ST_ENOMEM) stops a message.
 *
 * STANDARDS
 *	RFC 3461-3464 (DSN), RFC 6533 (internationalised DSN), RFC 3463,
 *	RFC 5965 (ARF), RFC 3834 (auto-replies), RFC 2045-2049 (MIME through
 *	GMime), RFC 6522 (multipart/report), RFC 5322.
 */
#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <gmime/gmime.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/bounce_int.h"
#include "spamtrace/limits.h"

void	st_bounce_header_rcpts(struct text_ctx *c, struct st_bounce *b,
	    const char *v);

const char *
st_bounce_kind_name(enum st_bounce_kind k)
{
	switch (k) {
	case ST_BOUNCE_DSN:		return "dsn";
	case ST_BOUNCE_VENDOR:		return "vendor";
	case ST_BOUNCE_AUTOREPLY:	return "autoreply";
	case ST_BOUNCE_ARF:		return "arf";
	case ST_BOUNCE_CHALLENGE:	return "challenge";
	default:			return "not-bounce";
	}
}

/* --- the working state of one parse -------------------------------------- */

/* The first field of each name the reader always looks at, found in one
 * pass over the header (st_msg_get() walks every field for each name). */
struct hdr_set {
	const struct st_header *from, *subject, *return_path, *to,
	    *delivered_to, *x_original_to, *envelope_to, *received,
	    *in_reply_to, *references, *date, *content_type, *cte;
};

static void
hdr_set_fill(const struct st_msg *m, struct hdr_set *hs)
{
	static const char *const names[] = { "From", "Subject",
	    "Return-Path", "To", "Delivered-To", "X-Original-To",
	    "Envelope-To", "Received", "In-Reply-To", "References", "Date",
	    "Content-Type", "Content-Transfer-Encoding" };
	const struct st_header *f[sizeof(names) / sizeof(names[0])];

	st_msg_pick(m, names, sizeof(names) / sizeof(names[0]), f, NULL);
	hs->from = f[0];
	hs->subject = f[1];
	hs->return_path = f[2];
	hs->to = f[3];
	hs->delivered_to = f[4];
	hs->x_original_to = f[5];
	hs->envelope_to = f[6];
	hs->received = f[7];
	hs->in_reply_to = f[8];
	hs->references = f[9];
	hs->date = f[10];
	hs->content_type = f[11];
	hs->cte = f[12];
}

struct bctx {
	struct st_arena *a;
	struct st_msg *m;
	const struct hdr_set *hs;	/* m's fields */
	struct st_bounce *b;
	struct gbuf text;	/* text/plain parts (decoded, LF) */
	struct gbuf html;	/* text/html parts, tags removed */
	struct gbuf dsn;	/* message/delivery-status parts */
	struct gbuf arf;	/* message/feedback-report parts */
	const char *orig;	/* from a MIME part */
	size_t	orig_len;
	const char *orig_where;
	int	nparts;
	bool	report_dsn, report_arf;
	/* ST_BOUNCE_QUICK: the kind, the original and the reporting MTA
	 * only (at most one recipient, with its address only) */
	bool	quick;
	/* the copy of the original quoted in the text (find_quoted()) */
	bool	quoted_done, have_inline;
	size_t	inline_start;
};

/* Copy p[0..n) with LF line endings (CRLF and lone CR become LF). */
static char *
lf_copy(struct st_arena *a, const char *p, size_t n, size_t *outlen)
{
	char *s, *o;
	size_t i;

	if ((s = st_arena_alloc_raw(a, n + 1)) == NULL)
		return NULL;
	/* runs without CR copied whole: most mail has none, or one a line */
	for (i = 0, o = s; i < n; ) {
		const char *cr = memchr(p + i, '\r', n - i);
		size_t run = cr ? (size_t)(cr - (p + i)) : n - i;

		memcpy(o, p + i, run);
		o += run;
		i += run;
		if (i < n) {
			*o++ = '\n';
			i += (i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - s);
	return s;
}

/*
 * Converters to UTF-8 kept open between messages: GMime 3 keeps none, and
 * opening one makes glibc look up (and dlopen) its gconv module each
 * time.  A small pool shared by the threads; a converter is reset before
 * each use.  The pool's converters stay open until the process ends.
 */
#define CONV_POOL	16

static struct {
	char	cs[48];
	iconv_t	cd;
	bool	used, busy;
} conv_pool[CONV_POOL];
static pthread_mutex_t conv_lock = PTHREAD_MUTEX_INITIALIZER;

/* A converter from cs; *slot: its pool slot, or -1. */
static iconv_t
conv_get(const char *cs, int *slot)
{
	int i;

	*slot = -1;
	if (strlen(cs) < sizeof(conv_pool[0].cs)) {
		pthread_mutex_lock(&conv_lock);
		for (i = 0; i < CONV_POOL; i++)
			if (conv_pool[i].used && !conv_pool[i].busy &&
			    strcmp(conv_pool[i].cs, cs) == 0) {
				conv_pool[i].busy = true;
				*slot = i;
				break;
			}
		pthread_mutex_unlock(&conv_lock);
		if (*slot >= 0) {
			iconv_t cd = conv_pool[*slot].cd;

			(void)iconv(cd, NULL, NULL, NULL, NULL);
			return cd;
		}
	}
	return g_mime_iconv_open("UTF-8", cs);
}

/* Give cd back (to the pool when there is room). */
static void
conv_put(const char *cs, iconv_t cd, int slot)
{
	int i;

	pthread_mutex_lock(&conv_lock);
	if (slot >= 0) {
		conv_pool[slot].busy = false;
		pthread_mutex_unlock(&conv_lock);
		return;
	}
	for (i = 0; i < CONV_POOL; i++)
		if (!conv_pool[i].used && strlen(cs) <
		    sizeof(conv_pool[i].cs)) {
			snprintf(conv_pool[i].cs, sizeof(conv_pool[i].cs),
			    "%s", cs);
			conv_pool[i].cd = cd;
			conv_pool[i].used = true;
			conv_pool[i].busy = false;
			pthread_mutex_unlock(&conv_lock);
			return;
		}
	pthread_mutex_unlock(&conv_lock);
	g_mime_iconv_close(cd);
}

/* ASCII case-insensitive equality of s with lc, a lower-case literal
 * (what g_ascii_strcasecmp() == 0 says, without the call). */
static bool
ieq(const char *s, const char *lc)
{
	for (; *lc != '\0'; s++, lc++)
		if (*s != *lc && !(*s >= 'A' && *s <= 'Z' && *s + 32 == *lc))
			return false;
	return *s == '\0';
}

/* Does s begin with lc (lower case), ASCII letters without case? */
static bool
ipfx(const char *s, const char *lc)
{
	for (; *lc != '\0'; s++, lc++)
		if (*s != *lc && !(*s >= 'A' && *s <= 'Z' && *s + 32 == *lc))
			return false;
	return true;
}

/* Only ASCII, no ESC (0x1b) and no NUL (g_utf8_validate() refuses NUL):
 * such text needs no conversion nor validation.  Eight bytes at a time. */
static bool
plain_ascii(const char *p, size_t n)
{
	const uint64_t hi = 0x8080808080808080ull, one = 0x0101010101010101ull;
	size_t i = 0;

#if defined(__SSE2__)
	/* sixteen at a time: a byte >= 0x80 has its sign bit set */
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (p + i));

		if (_mm_movemask_epi8(_mm_or_si128(v, _mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_setzero_si128()),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x1b))))) != 0)
			return false;
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t w, x;

		memcpy(&w, p + i, 8);
		x = w ^ (one * 0x1b);
		/* a byte >= 0x80, or a zero byte in w (NUL) or in x (ESC):
		 * (v - 1) & ~v & 0x80 per byte finds a zero one */
		if ((w | ((w - one) & ~w) | ((x - one) & ~x)) & hi)
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] >= 0x80 || p[i] == 0x1b || p[i] == 0)
			return false;
	return true;
}

/*
 * g_utf8_validate(p, n, NULL), the ASCII between the runs of 8-bit bytes
 * passed over sixteen bytes at a time: a multi-byte character has no
 * ASCII byte, so the text is valid when its ASCII has no NUL and each
 * run of 8-bit bytes is valid on its own.
 */
static bool
utf8_valid(const char *p, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
#if defined(__SSE2__)
		for (; n - i >= 16; i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + i));
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(v,
			    _mm_cmpeq_epi8(v, _mm_setzero_si128())));

			if (m != 0) {
				i += (size_t)__builtin_ctz(m);
				break;
			}
		}
#endif
		while (i < n && (unsigned char)p[i] < 0x80 && p[i] != '\0')
			i++;
		if (i >= n)
			return true;
		if (p[i] == '\0')
			return false;	/* g_utf8_validate() refuses NUL */
		for (j = i; j < n && (unsigned char)p[j] >= 0x80; j++)
			;
		if (!g_utf8_validate(p + i, (gssize)(j - i), NULL))
			return false;
		i = j;
	}
	return true;
}

/*
 * ISO-8859-1 (the first 256 code points of Unicode) or, with w1252,
 * Windows-1252 (the same but for 0x80-0x9f) to UTF-8, NUL-terminated
 * (g_malloc()); NULL on a byte Windows-1252 leaves undefined, as iconv
 * refuses it.
 */
static char *
sb_utf8(const char *p, size_t n, bool w1252)
{
	/* Windows-1252 0x80-0x9f (0: undefined) */
	static const unsigned short W1252[32] = {
		0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
		0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178 };
	char *s = g_malloc(3 * n + 1), *o = s;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned ch = (unsigned char)p[i];

		if (ch < 0x80) {
			*o++ = (char)ch;
			continue;
		}
		if (w1252 && ch < 0xa0 && (ch = W1252[ch - 0x80]) == 0) {
			g_free(s);
			return NULL;
		}
		if (ch < 0x800) {
			*o++ = (char)(0xc0 | (ch >> 6));
			*o++ = (char)(0x80 | (ch & 0x3f));
		} else {
			*o++ = (char)(0xe0 | (ch >> 12));
			*o++ = (char)(0x80 | ((ch >> 6) & 0x3f));
			*o++ = (char)(0x80 | (ch & 0x3f));
		}
	}
	*o = '\0';
	return s;
}

/* Convert text in charset cs (may be NULL) to UTF-8 and append it to g
 * with LF line endings. */
static void
put_text(struct gbuf *g, const char *p, size_t n, const char *cs)
{
	char *conv = NULL;
	gsize outlen = 0;
	size_t i, start;

	if (n == 0)
		return;
	/* plain ASCII (no 8-bit byte, no ISO-2022 escape) needs no
	 * conversion whatever the label says: most bounces */
	if (plain_ascii(p, n))
		cs = NULL;
	else {
		if (cs != NULL && (ieq(cs, "utf-8") || ieq(cs, "us-ascii") ||
		    ieq(cs, "utf8")))
			cs = NULL;
		if (cs == NULL && !utf8_valid(p, n)) {
			/* raw 8-bit with no (or a wrong) label: the usual
			 * suspects */
			if (memchr(p, 0x1b, n) != NULL)
				cs = "ISO-2022-JP";
			else
				cs = "CP932";
		}
		if (cs == NULL && memchr(p, 0x1b, n) != NULL)
			cs = "ISO-2022-JP";
	}
	if (cs != NULL) {
		if (ieq(cs, "iso-8859-1") || ieq(cs, "windows-1252")) {
			/* the single-byte charsets of most Western mail:
			 * converted here, byte for byte as iconv does */
			conv = sb_utf8(p, n, ieq(cs, "windows-1252"));
		} else {
			/* GMime keeps converters open between calls
			 * (opening one per message loads iconv modules
			 * every time) */
			int slot;
			iconv_t cd = conv_get(cs, &slot);

			if (cd == (iconv_t)-1)
				cd = conv_get(cs = "Windows-1252", &slot);
			if (cd != (iconv_t)-1) {
				conv = g_mime_iconv_strndup(cd, p, n);
				conv_put(cs, cd, slot);
			}
		}
		if (conv != NULL) {
			p = conv;
			n = strlen(conv);
		} else {
			/* undecodable: keep the ASCII, drop the rest */
			conv = g_malloc(n + 1);
			for (outlen = 0; outlen < n; outlen++)
				conv[outlen] = (unsigned char)p[outlen] < 0x80 ?
				    p[outlen] : '?';
			conv[n] = '\0';
			p = conv;
		}
	}
	/* LF line endings */
	for (start = 0; start < n; ) {
		const char *cr = memchr(p + start, '\r', n - start);

		if (cr == NULL)
			break;
		i = (size_t)(cr - p);
		gbuf_put(g, p + start, i - start);
		gbuf_put(g, "\n", 1);
		if (i + 1 < n && p[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	gbuf_put(g, p + start, n - start);
	if (g->len > 0 && g->p[g->len - 1] != '\n')
		gbuf_put(g, "\n", 1);
	g_free(conv);
}

/* Do the n bytes at p spell lit (lower case), ASCII letters without
 * case (as strncasecmp() says for a literal with no NUL)? */
static bool
lpfx(const char *p, const char *lit, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

/* The first ch in p[from..n), n when none.  *at caches the last answer
 * (SIZE_MAX: none yet); from never decreases between calls. */
static size_t
next_of(const char *p, size_t n, size_t from, char ch, size_t *at)
{
	if (*at == SIZE_MAX || *at < from) {
		const char *q = from < n ? memchr(p + from, ch, n - from) :
		    NULL;

		*at = q != NULL ? (size_t)(q - p) : n;
	}
	return *at;
}

/* Remove tags and decode the few entities bounces use.  Tags and text
 * are passed over through the next '<', '>' or '&' (memchr()), not a
 * byte at a time. */
static void
put_html(struct gbuf *g, const char *p, size_t n)
{
	static const struct { const char *e, *r; size_t n; } ENT[] = {
		{ "&lt;", "<", 4 }, { "&gt;", ">", 4 },
		{ "&amp;", "&", 5 }, { "&nbsp;", " ", 6 },
		{ "&quot;", "\"", 6 }, { "&#39;", "'", 5 } };
	struct gbuf t = { .max = ST_MAX_BOUNCE_TEXT };
	size_t i = 0, j, k, lt = SIZE_MAX, gt = SIZE_MAX, amp = SIZE_MAX;
	bool tag = false;

	while (i < n) {
		if (tag) {
			/* in a tag only its end and a new '<' count */
			j = next_of(p, n, i, '>', &gt);
			k = next_of(p, n, i, '<', &lt);
			if (k < j)
				i = k;
			else if (j < n) {
				tag = false;
				i = j + 1;
				continue;
			} else
				break;
		}
		if (p[i] == '<') {
			tag = true;
			if (i + 3 < n && (lpfx(p + i, "<br", 3) ||
			    lpfx(p + i, "<p", 2) || lpfx(p + i, "<tr", 3) ||
			    lpfx(p + i, "<div", 4)))
				gbuf_put(&t, "\n", 1);
			i++;
			continue;
		}
		if (p[i] == '&') {
			for (k = 0; k < sizeof(ENT) / sizeof(ENT[0]); k++)
				if (n - i >= ENT[k].n &&
				    lpfx(p + i, ENT[k].e, ENT[k].n)) {
					gbuf_put(&t, ENT[k].r, 1);
					i += ENT[k].n;
					break;
				}
			if (k == sizeof(ENT) / sizeof(ENT[0]))
				gbuf_put(&t, p + i++, 1);
			continue;
		}
		/* text (a '>' outside a tag too): up to the next tag or
		 * entity */
		j = next_of(p, n, i + 1, '<', &lt);
		k = next_of(p, n, i + 1, '&', &amp);
		if (k < j)
			j = k;
		gbuf_put(&t, p + i, j - i);
		i = j;
	}
	if (t.p != NULL)
		gbuf_put(g, t.p, t.len);
	gbuf_free(&t);
}

/* The decoded content of a leaf part. */
static GByteArray *
part_bytes(GMimePart *part, GMimeStream **keep)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem;

	if (w == NULL)
		return NULL;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	*keep = mem;
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
}

static void
set_orig(struct bctx *c, const char *p, size_t n, const char *where)
{
	size_t len;
	char *s;

	if (c->orig != NULL || n == 0)
		return;
	if (n > ST_MAX_BOUNCE_ORIGINAL)
		n = ST_MAX_BOUNCE_ORIGINAL;
	/* skip leading blank lines and an mbox "From " line */
	while (n > 0 && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if ((s = lf_copy(c->a, p, n, &len)) == NULL)
		return;
	c->orig = s;
	c->orig_len = len;
	c->orig_where = where;
}

/* Does the walk keep the content of a leaf part of this type? */
static bool
leaf_wanted(const char *type, const char *sub)
{
	return ieq(type, "text") || ieq(type, "message");
}

/* What a leaf part of type/sub (charset cs) adds: its decoded content. */
static void
leaf(struct bctx *c, const char *type, const char *sub, const char *cs,
    const char *data, size_t len)
{
	bool text = ieq(type, "text"), msg = !text && ieq(type, "message");

	if (msg && (ieq(sub, "delivery-status") ||
	    ieq(sub, "global-delivery-status"))) {
		put_text(&c->dsn, data, len, cs);
		gbuf_put(&c->dsn, "\n", 1);
	} else if (msg && ieq(sub, "feedback-report")) {
		put_text(&c->arf, data, len, cs);
	} else if ((text || msg) && (ipfx(sub, "rfc822-header") ||
	    ieq(sub, "rfc822") || ieq(sub, "global") ||
	    ieq(sub, "global-headers"))) {
		set_orig(c, data, len, ieq(sub, "rfc822") ?
		    "message/rfc822" : "text/rfc822-headers");
	} else if (text && ieq(sub, "html")) {
		struct gbuf u = { .max = ST_MAX_BOUNCE_TEXT };

		put_text(&u, data, len, cs);
		if (u.p != NULL)
			put_html(&c->html, u.p, u.len);
		gbuf_free(&u);
	} else if (text || (msg && c->text.len == 0)) {
		put_text(&c->text, data, len, cs);
	}
}

static void
walk(struct bctx *c, GMimeObject *o, int depth)
{
	GMimeContentType *ct;
	const char *type, *sub;

	if (o == NULL || depth > ST_MAX_MIME_DEPTH ||
	    ++c->nparts > ST_MAX_MIME_PARTS)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		int i, n = g_mime_multipart_get_count(GMIME_MULTIPART(o));

		for (i = 0; i < n; i++)
			walk(c, g_mime_multipart_get_part(GMIME_MULTIPART(o),
			    i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *em = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		if (em != NULL) {
			GMimeObject *body = g_mime_message_get_mime_part(em);
			GMimeContentType *ect = body ?
			    g_mime_object_get_content_type(body) : NULL;

			/* a bounce forwarded as an attachment: read the
			 * report inside, not as the original */
			if (ect != NULL && c->dsn.len == 0 &&
			    g_mime_content_type_is_type(ect, "multipart",
			    "report")) {
				walk(c, body, depth + 1);
				return;
			}
		}
		if (em != NULL && c->orig == NULL) {
			char *h = g_mime_object_get_headers(GMIME_OBJECT(em),
			    NULL);

			if (h != NULL) {
				set_orig(c, h, strlen(h), "message/rfc822");
				g_free(h);
			}
		}
		return;
	}
	if (!GMIME_IS_PART(o))
		return;
	ct = g_mime_object_get_content_type(o);
	type = ct ? g_mime_content_type_get_media_type(ct) : "text";
	sub = ct ? g_mime_content_type_get_media_subtype(ct) : "plain";
	if (type == NULL || sub == NULL)
		return;
	{
		GMimeStream *keep = NULL;
		GByteArray *ba;
		const char *cs = g_mime_object_get_content_type_parameter(o,
		    "charset");

		if (leaf_wanted(type, sub) && (ba = part_bytes(GMIME_PART(o),
		    &keep)) != NULL)
			leaf(c, type, sub, cs, (const char *)ba->data, ba->len);
		if (keep != NULL)
			g_object_unref(keep);
	}
}

/* --- the MIME structure without GMime ------------------------------------- */

/*
 * Most bounces are a few parts of 7bit, quoted-printable or base64 text
 * under one or two boundaries; building GMime objects for them costs more
 * than everything else the reader does.  fast_entity() reads that common
 * shape directly (RFC 2045 6.7-6.8 decoding, RFC 2046 5.1 boundaries) and
 * gives exactly what walk() gives; it answers false on anything else
 * (RFC 2231 parameters, comments in Content-Type, other transfer
 * encodings, message/ types it does not know, a part with broken header
 * lines), and read_body() then asks GMime.
 */
#define FAST_MAX_DEPTH	8

struct ctype {
	/* in buf when short, else in the arena; or NULL */
	const char *type, *sub, *charset, *boundary;
	char	buf[160];	/* the short ones */
	size_t	used;
};

/* A NUL-terminated copy of s[0..n): in ct->buf while there is room (no
 * arena allocation for the usual "text" and "plain"), else the arena's. */
static const char *
ct_copy(struct st_arena *a, struct ctype *ct, const char *s, size_t n)
{
	char *o;

	if (n >= sizeof(ct->buf) - ct->used)
		return st_arena_strndup(a, s, n);
	o = ct->buf + ct->used;
	memcpy(o, s, n);
	o[n] = '\0';
	ct->used += n + 1;
	return o;
}

/* Split a Content-Type value; false when it is beyond this reader. */
static bool
ct_split(struct st_arena *a, const char *v, size_t n, struct ctype *ct)
{
	const char *p = v, *end = v + n, *s;

	ct->type = ct->sub = ct->charset = ct->boundary = NULL;
	ct->used = 0;
	/* comments (RFC 2045 5.1) and quoted pairs: not here (a '(' in a
	 * quoted string is no comment) */
	if (memchr(v, '\\', n) != NULL)
		return false;
	if (memchr(v, '(', n) != NULL) {
		bool q = false;
		size_t i;

		for (i = 0; i < n; i++) {
			if (v[i] == '"')
				q = !q;
			else if (!q && v[i] == '(')
				return false;
		}
	}
#define WS(ch) ((ch) == ' ' || (ch) == '\t' || (ch) == '\r' || (ch) == '\n')
	while (p < end && WS(*p))
		p++;
	for (s = p; p < end && *p != '/' && *p != ';' && !WS(*p); p++)
		;
	if (p == s || p >= end || *p != '/')
		return false;
	ct->type = ct_copy(a, ct, s, (size_t)(p - s));
	for (s = ++p; p < end && *p != ';' && !WS(*p); p++)
		;
	if (p == s)
		return false;
	ct->sub = ct_copy(a, ct, s, (size_t)(p - s));
	for (;;) {
		const char *ns, *ne, *vs, *ve;

		while (p < end && (WS(*p) || *p == ';'))
			p++;
		if (p >= end)
			break;
		for (ns = p; p < end && *p != '=' && *p != ';' && !WS(*p); p++)
			;
		ne = p;
		while (p < end && WS(*p))
			p++;
		if (p >= end || *p != '=')
			return false;
		if (ne > ns && ne[-1] == '*')
			return false;		/* RFC 2231 */
		p++;
		while (p < end && WS(*p))
			p++;
		if (p < end && *p == '"') {
			vs = ++p;
			while (p < end && *p != '"')
				p++;
			if (p >= end)
				return false;
			ve = p++;
		} else {
			for (vs = p; p < end && *p != ';' && !WS(*p); p++)
				;
			ve = p;
		}
		if (ne - ns == 7 && strncasecmp(ns, "charset", 7) == 0)
			ct->charset = ct_copy(a, ct, vs, (size_t)(ve - vs));
		else if (ne - ns == 8 && strncasecmp(ns, "boundary", 8) == 0) {
			if (ve == vs || memchr(vs, '\n', (size_t)(ve - vs)))
				return false;
			ct->boundary = ct_copy(a, ct, vs, (size_t)(ve - vs));
		}
	}
#undef WS
	return ct->type != NULL && ct->sub != NULL;
}

/* Content-Transfer-Encoding: 0 identity, 1 base64, 2 quoted-printable,
 * -1 anything else. */
static int
cte_kind(const struct st_header *h)
{
	const char *v;
	size_t n;

	if (h == NULL)
		return 0;
	v = h->value;
	n = h->value_len;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if ((n == 4 && strncasecmp(v, "7bit", 4) == 0) || (n == 4 &&
	    strncasecmp(v, "8bit", 4) == 0) || (n == 6 &&
	    strncasecmp(v, "binary", 6) == 0) || n == 0)
		return 0;
	if (n == 6 && strncasecmp(v, "base64", 6) == 0)
		return 1;
	if (n == 16 && strncasecmp(v, "quoted-printable", 16) == 0)
		return 2;
	return -1;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The value of each byte in base64 (RFC 2045 6.8), 255 for the bytes
 * outside its alphabet (skipped): one lookup a byte, not five tests. */
static unsigned char b64_val[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void
b64_build(void)
{
	static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t k;

	memset(b64_val, 255, sizeof(b64_val));
	for (k = 0; k < 64; k++)
		b64_val[(unsigned char)A[k]] = (unsigned char)k;
}

/* Decode p[0..n) (LF lines) into the arena; NULL on ST_ENOMEM. */
static char *
cte_decode(struct st_arena *a, int kind, const char *p, size_t n,
    size_t *outlen)
{
	char *o, *s;
	size_t i;

	if (kind == 0) {
		*outlen = n;
		return (char *)p;
	}
	if ((s = st_arena_alloc_raw(a, n + 1)) == NULL)
		return NULL;
	o = s;
	if (kind == 1) {
		unsigned acc = 0;
		int bits = 0;

		pthread_once(&b64_once, b64_build);
		for (i = 0; i < n; i++) {
			unsigned v = b64_val[(unsigned char)p[i]];

			if (v > 63)
				continue;	/* not of the alphabet */
			acc = (acc << 6) | v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				*o++ = (char)((acc >> bits) & 0xff);
			}
		}
	} else {
		for (i = 0; i < n; ) {
			/* the run up to the next '=' as it is */
			const char *eq = memchr(p + i, '=', n - i);
			size_t run = eq ? (size_t)(eq - (p + i)) : n - i;

			memcpy(o, p + i, run);
			o += run;
			i += run;
			if (i >= n)
				break;
			if (i + 1 < n && p[i + 1] == '\n') {
				i += 2;		/* a soft line break */
				continue;
			}
			if (i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
			    hexval((unsigned char)p[i + 2]) >= 0) {
				*o++ = (char)(hexval((unsigned char)p[i + 1]) *
				    16 + hexval((unsigned char)p[i + 2]));
				i += 3;
				continue;
			}
			*o++ = p[i++];
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - s);
	return s;
}

/* Is the line at p (up to eol) the delimiter "--b" or "--b--"?  1 a
 * delimiter, 2 the closing one, 0 neither. */
static int
is_delim(const char *p, const char *eol, const char *b, size_t bl)
{
	int r = 1;

	if ((size_t)(eol - p) < bl + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, bl) != 0)
		return 0;
	p += 2 + bl;
	if (eol - p >= 2 && p[0] == '-' && p[1] == '-') {
		r = 2;
		p += 2;
	}
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	return p == eol ? r : 0;
}

/* The first line at or after p (a line start) that begins with "--";
 * end when none: p itself, or the byte after the first "\n--". */
static const char *
dash_line(const char *p, const char *end)
{
	const char *q = p;

	if (end - p >= 2 && p[0] == '-' && p[1] == '-')
		return p;
#if defined(__SSE2__)
	/* sixteen positions at a time */
	while (end - q >= 18) {
		__m128i nl = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)q), _mm_set1_epi8('\n'));
		__m128i d1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)(q + 1)), _mm_set1_epi8('-'));
		__m128i d2 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)(q + 2)), _mm_set1_epi8('-'));
		int m = _mm_movemask_epi8(_mm_and_si128(nl, _mm_and_si128(d1,
		    d2)));

		if (m != 0)
			return q + __builtin_ctz((unsigned)m) + 1;
		q += 16;
	}
#endif
	for (; end - q >= 3; q++)
		if (q[0] == '\n' && q[1] == '-' && q[2] == '-')
			return q + 1;
	return end;
}

static bool fast_entity(struct bctx *c, const struct st_msg *hm,
    const char *body, size_t bn, int depth, const char **bounds, int nb);

/*
 * Would GMime drop this line, which is not a field for st_msg_parse()?
 * Yes when it has no colon, or when the text before the colon holds a
 * control character or white space followed by more text ("for <a@b>;
 * Wed, 17 Apr 2019 14:38:21").  GMime keeps an empty name and 8-bit
 * names, which st_msg_parse() does not: answered no.
 */
static bool
gm_drops(const char *q, size_t ll)
{
	const char *colon = memchr(q, ':', ll), *e;

	if (colon == NULL)
		return true;
	for (e = colon; e > q && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	for (; q < e; q++)
		if ((unsigned char)*q < 33 || *q == 127)
			return true;
	return false;
}

/*
 * The header block of a part or of an attached message, read as GMime
 * reads it: a line inside the block that is not a field is dropped and the
 * block goes on (broken relays and anonymisers leave unindented
 * continuation lines, "boundary=..." or "by host ..." alone on a line).
 * The fields come from a copy without the dropped lines (gm_drops()),
 * *body_off is in p; *clean (*clean_len bytes) is that copy without its
 * blank line (NULL when nothing was dropped: the fields then point into
 * p).  False for what this reader does not follow (a line GMime would
 * keep, a continuation after a dropped line, any other defect): GMime
 * then reads the whole message.
 */
static bool
gm_headers(struct st_arena *a, const char *p, size_t n, struct st_msg *m,
    size_t *body_off, const char **clean, size_t *clean_len)
{
	const char *q = p, *end = p + n;
	char *cp = NULL, *o = NULL;
	bool dropped = false, prev_bad = false;

	*clean = NULL;
	*clean_len = 0;
	if (st_msg_parse(m, a, p, n) != ST_OK)
		return false;
	if ((m->defects & ~(unsigned)ST_MSG_DEFECT_NO_BODY_SEP) == 0) {
		*body_off = m->body_off;
		return true;
	}
	if ((m->defects & ~(unsigned)(ST_MSG_DEFECT_NO_BODY_SEP |
	    ST_MSG_DEFECT_BAD_LINE | ST_MSG_DEFECT_NO_HEADERS)) != 0 ||
	    (n >= 5 && memcmp(p, "From ", 5) == 0))
		return false;
	/* the block again, line by line, keeping the field lines */
	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		const char *next = nl ? nl + 1 : end, *c;
		size_t ll = (size_t)((nl ? nl : end) - q);

		if (ll == 0 || (ll == 1 && q[0] == '\r'))
			break;			/* the blank line */
		if (q[0] == ' ' || q[0] == '\t') {
			if (prev_bad || q == p)
				return false;
		} else {
			for (c = q; c < q + ll && *c > 32 && *c < 127 &&
			    *c != ':'; c++)
				;
			while (c < q + ll && (*c == ' ' || *c == '\t'))
				c++;
			prev_bad = c == q + ll || *c != ':' || c == q;
			if (prev_bad) {
				if (!gm_drops(q, ll))
					return false;
				if (cp == NULL &&
				    (cp = o = st_arena_alloc_raw(a, n + 2)) ==
				    NULL)
					return false;
				/* the lines before it, once */
				if (!dropped) {
					memcpy(o, p, (size_t)(q - p));
					o += q - p;
				}
				dropped = true;
				q = next;
				continue;
			}
		}
		if (dropped) {
			memcpy(o, q, (size_t)(next - q));
			o += next - q;
			if (nl == NULL)
				*o++ = '\n';
		}
		q = next;
	}
	if (!dropped)
		return false;		/* a defect this walk did not see */
	*body_off = q < end ? (size_t)(q - p) + (size_t)(q[0] == '\r' ?
	    2 : 1) : n;
	if (*body_off > n)
		*body_off = n;
	*clean = cp;
	*clean_len = (size_t)(o - cp);
	*o++ = '\n';			/* a blank line ends the copy */
	if (st_msg_parse(m, a, cp, (size_t)(o - cp)) != ST_OK ||
	    (m->defects & ~(unsigned)ST_MSG_DEFECT_NO_BODY_SEP) != 0)
		return false;
	return true;
}


/* One part of a multipart (its headers and body) */
static bool
fast_part(struct bctx *c, const char *p, size_t n, int depth,
    const char **bounds, int nb)
{
	struct st_msg pm;
	const char *clean;
	size_t off, clean_len;

	if (n >= 5 && memcmp(p, "From ", 5) == 0)
		return false;
	if (n > 0 && p[0] == '\n') {
		/* no header fields: text/plain, body after the blank line */
		memset(&pm, 0, sizeof(pm));
		return fast_entity(c, &pm, p + 1, n - 1, depth, bounds, nb);
	}
	if (!gm_headers(c->a, p, n, &pm, &off, &clean, &clean_len) ||
	    pm.nhdrs == 0)
		return false;
	return fast_entity(c, &pm, p + off, n - off, depth, bounds, nb);
}

static bool
fast_entity(struct bctx *c, const struct st_msg *hm, const char *body,
    size_t bn, int depth, const char **bounds, int nb)
{
	const struct st_header *h = st_msg_get(hm, "Content-Type", 0);
	struct ctype ct;
	int kind;

	if (depth > ST_MAX_MIME_DEPTH || ++c->nparts > ST_MAX_MIME_PARTS)
		return true;
	if (h == NULL) {
		memset(&ct, 0, sizeof(ct));
		ct.type = "text";
		ct.sub = "plain";
	} else if (!ct_split(c->a, h->value, h->value_len, &ct))
		return false;
	if (ieq(ct.type, "multipart")) {
		const char *p = body, *end = body + bn, *start = NULL;
		size_t bl;
		int k;

		if (nb >= FAST_MAX_DEPTH ||
		    ieq(ct.sub, "digest"))
			return false;
		/* no boundary: GMime makes a multipart with no part */
		if (ct.boundary == NULL)
			return true;
		bl = strlen(ct.boundary);
		bounds[nb] = ct.boundary;
		while (p < end) {
			const char *eol, *next;
			int d = 0;

			/* only a line that starts with "--" can be a
			 * delimiter: on to the next such line */
			if ((p = dash_line(p, end)) == end)
				break;
			eol = memchr(p, '\n', (size_t)(end - p));
			next = eol ? eol + 1 : end;
			if (eol == NULL)
				eol = end;
			d = is_delim(p, eol, ct.boundary, bl);
			for (k = 0; d == 0 && k < nb; k++)
				if (is_delim(p, eol, bounds[k],
				    strlen(bounds[k])))
					d = 3;	/* a parent's */
			if (d != 0) {
				if (start != NULL && !fast_part(c, start,
				    (size_t)((p > start ? p - 1 : p) - start),
				    depth + 1, bounds, nb + 1))
					return false;
				start = d == 1 ? next : NULL;
				if (d != 1)
					return true;
			}
			p = next;
		}
		if (start != NULL && start < end && !fast_part(c, start,
		    (size_t)(end - start), depth + 1, bounds, nb + 1))
			return false;
		return true;
	}
	kind = cte_kind(st_msg_get(hm, "Content-Transfer-Encoding", 0));
	if (kind < 0)
		return false;
	if (ieq(ct.type, "message") && ieq(ct.sub, "rfc822")) {
		struct st_msg em;
		const char *clean;
		size_t w, eoff, clean_len;

		for (w = 0; w < bn && (body[w] == '\n' || body[w] == ' ' ||
		    body[w] == '\t'); w++)
			;
		if (kind == 0 && w == bn)
			return true;	/* an empty copy: nothing to keep */
		if (kind != 0 || !gm_headers(c->a, body, bn, &em, &eoff,
		    &clean, &clean_len))
			return false;
		if (em.nhdrs == 0)
			return true;	/* no field left: nothing to keep */
		{
			const struct st_header *eh = st_msg_get(&em,
			    "Content-Type", 0);
			struct ctype ect;

			/* a bounce forwarded as an attachment: read the
			 * report inside, not as the original */
			if (eh != NULL && c->dsn.len == 0 && ct_split(c->a,
			    eh->value, eh->value_len, &ect) &&
			    ieq(ect.type, "multipart") &&
			    ieq(ect.sub, "report"))
				return fast_entity(c, &em, body + eoff,
				    bn - eoff, depth + 1, bounds, nb);
		}
		if (c->orig == NULL && clean != NULL)
			set_orig(c, clean, clean_len, "message/rfc822");
		else if (c->orig == NULL) {
			size_t hl = em.body_off;

			/* the header block without its blank line */
			if (hl > 0 && hl <= bn && body[hl - 1] == '\n' &&
			    (em.defects & ST_MSG_DEFECT_NO_BODY_SEP) == 0)
				hl--;
			set_orig(c, body, hl, "message/rfc822");
		}
		return true;
	}
	if (ieq(ct.type, "message") &&
	    !ieq(ct.sub, "delivery-status") &&
	    !ieq(ct.sub, "global-delivery-status") &&
	    !ieq(ct.sub, "feedback-report"))
		return false;
	if (leaf_wanted(ct.type, ct.sub)) {
		size_t dl;
		char *d = cte_decode(c->a, kind, body, bn, &dl);

		if (d == NULL)
			return false;
		leaf(c, ct.type, ct.sub, ct.charset, d, dl);
	}
	return true;
}

/* Undo what a fast walk that gave up had added. */
static void
fast_reset(struct bctx *c)
{
	c->text.len = c->html.len = c->dsn.len = c->arf.len = 0;
	c->text.truncated = c->html.truncated = c->dsn.truncated =
	    c->arf.truncated = false;
	c->orig = NULL;
	c->orig_len = 0;
	c->orig_where = NULL;
	c->nparts = 0;
}

/* A charset= parameter in a Content-Type value (span); NULL when none. */
static char *
ct_param(struct st_arena *a, const char *v, size_t n, const char *name)
{
	const char *f = memcasestr(v, n, name), *s, *e;

	if (f == NULL)
		return NULL;
	s = f + strlen(name);
	while (s < v + n && (*s == ' ' || *s == '"' || *s == '\''))
		s++;
	for (e = s; e < v + n && *e != '"' && *e != ';' && *e != ' ' &&
	    *e != '\'' && *e != '\r' && *e != '\n' && *e != '\t'; e++)
		;
	return e > s ? st_arena_strndup(a, s, (size_t)(e - s)) : NULL;
}

/* What read_body() looks for in the Content-Type value. */
static const char *const CT_WORDS[] = { "multipart", "message/",
	"report-type=delivery-status", "report-type=\"delivery-status",
	"feedback-report", NULL };
static struct mfind mf_ctw;
static pthread_once_t mf_ctw_once = PTHREAD_ONCE_INIT;

static void
mf_ctw_build(void)
{
	mf_build(&mf_ctw, CT_WORDS, false);
}

/* ST_BOUNCE_GMIME set: every structured body through GMime (the tests
 * that compare both readers).  Read once, not once per message. */
static bool gmime_only;
static pthread_once_t gmime_env_once = PTHREAD_ONCE_INIT;

static void
gmime_env_read(void)
{
	gmime_only = getenv("ST_BOUNCE_GMIME") != NULL;
}

/*
 * A header whose only defect is NUL bytes inside field values other than
 * Content-Type and Content-Transfer-Encoding (a Subject cut short by a
 * broken MTA): the fields the MIME structure depends on are whole, and
 * GMime reads the structure as the fast reader does.
 */
static bool
nul_in_values(const struct st_msg *m)
{
	size_t k, total = 0, in_values = 0;
	const char *p, *e, *z;

	if ((m->defects & ~(unsigned)(ST_MSG_DEFECT_NO_BODY_SEP |
	    ST_MSG_DEFECT_NUL)) != 0 || m->body_off > m->len)
		return false;
	for (p = m->buf, e = m->buf + m->body_off; (z = memchr(p, '\0',
	    (size_t)(e - p))) != NULL; p = z + 1)
		total++;
	for (k = 0; k < m->nhdrs; k++) {
		const struct st_header *h = &m->hdrs[k];
		size_t nz = 0;

		for (p = h->value, e = h->value + h->value_len;
		    (z = memchr(p, '\0', (size_t)(e - p))) != NULL; p = z + 1)
			nz++;
		if (nz > 0 && ((h->name_len == 12 && strncasecmp(h->name,
		    "content-type", 12) == 0) || (h->name_len == 25 &&
		    strncasecmp(h->name, "content-transfer-encoding", 25) ==
		    0)))
			return false;
		in_values += nz;
	}
	return total > 0 && in_values == total;
}

/* Read the body: through GMime, or directly for simple text mail. */
static void
read_body(struct bctx *c, const char *lf, size_t lflen, size_t body_off)
{
	const struct st_header *h = c->hs->content_type;
	const struct st_header *te = c->hs->cte;
	bool simple = true;

	if (h != NULL) {
		const char *v = h->value;
		size_t n = h->value_len;

		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		uint64_t found[2];

		/* the words of the value, in one pass; "multipart" and
		 * "message/" count in its first 64 bytes only */
		pthread_once(&mf_ctw_once, mf_ctw_build);
		if (mf_scan(&mf_ctw, v, n, found, false) == 0)
			found[0] = found[1] = 0;
		if ((mf_has(found, 0) && memcasestr(v, n < 64 ? n : 64,
		    "multipart") != NULL) || (mf_has(found, 1) &&
		    memcasestr(v, n < 64 ? n : 64, "message/") != NULL) ||
		    (n >= 5 && strncasecmp(v, "text/", 5) != 0))
			simple = false;
		if (mf_has(found, 2) || mf_has(found, 3))
			c->report_dsn = true;
		if (mf_has(found, 4))
			c->report_arf = true;
	}
	if (te != NULL) {
		const char *v = te->value;
		size_t n = te->value_len;

		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		if (n >= 6 && (strncasecmp(v, "base64", 6) == 0 ||
		    strncasecmp(v, "quoted", 6) == 0))
			simple = false;
	}
	if (simple) {
		char *cs = h ? ct_param(c->a, h->value, h->value_len,
		    "charset=") : NULL;

		if (body_off < lflen)
			put_text(&c->text, lf + body_off, lflen - body_off, cs);
		return;
	}
	pthread_once(&gmime_env_once, gmime_env_read);
	if (!gmime_only && c->m->nhdrs > 0 &&
	    ((c->m->defects & ~(unsigned)ST_MSG_DEFECT_NO_BODY_SEP) == 0 ||
	    nul_in_values(c->m)) && body_off <= lflen) {
		const char *bounds[FAST_MAX_DEPTH];

		if (fast_entity(c, c->m, lf + body_off, lflen - body_off, 0,
		    bounds, 0))
			goto walked;
		fast_reset(c);
	}
	{
		size_t skip = 0;
		GMimeStream *s;

		if (c->m->nhdrs > 0 && lflen > 5 && memcmp(lf, "From ", 5) == 0) {
			const char *nl = memchr(lf, '\n', lflen);

			skip = nl ? (size_t)(nl + 1 - lf) : 0;
		}
		s = g_mime_stream_mem_new_with_buffer(lf + skip, lflen - skip);
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *msg;

		g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
		msg = g_mime_parser_construct_message(p, NULL);
		if (msg != NULL) {
			walk(c, g_mime_message_get_mime_part(msg), 0);
			g_object_unref(msg);
		}
		g_object_unref(p);
		g_object_unref(s);
	}
walked:
	if (c->text.len == 0 && c->html.len > 0)
		gbuf_put(&c->text, c->html.p, c->html.len);
	/* The MIME structure gave nothing (a boundary that does not match,
	 * a broken part): read the body as text; the DSN fields and the
	 * copy of the original are then found inline. */
	if (c->text.len == 0 && c->dsn.len == 0 && c->arf.len == 0 &&
	    c->orig == NULL && body_off < lflen)
		put_text(&c->text, lf + body_off, lflen - body_off, NULL);
}

/* --- DSN fields ----------------------------------------------------------- */

struct dsn_rcpt {
	const char *final, *orig, *action, *status, *remote, *diag;
	size_t	final_n, orig_n, action_n, status_n, remote_n, diag_n;
	const char *context;	/* what the text part says about it */
	bool	unix_diag;	/* Diagnostic-Code: X-Unix; (a local program) */
	int	block;		/* blank-line separated block it is in */
};

/* The value after "type;" (RFC 3464 address-type / diagnostic-type). */
static void
strip_type(const char **v, size_t *n)
{
	const char *semi = memchr(*v, ';', *n);

	if (semi != NULL && semi - *v < 20) {
		size_t k;
		bool word = true;

		for (k = 0; *v + k < semi; k++)
			if (!isalnum((unsigned char)(*v)[k]) &&
			    (*v)[k] != '-' && (*v)[k] != ' ' &&
			    (*v)[k] != '.' && (*v)[k] != '_')
				word = false;
		if (word) {
			*n -= (size_t)(semi + 1 - *v);
			*v = semi + 1;
		}
	}
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* The DSN fields parse_dsn() reads; F_OTHER for the rest. */
enum dsn_field {
	F_OTHER, F_REPORTING_MTA, F_FINAL, F_ORIGINAL, F_ACTUAL, F_ACTION,
	F_STATUS, F_REMOTE_MTA, F_DIAG
};

static enum dsn_field
dsn_field(const char *name, size_t n)
{
	static const struct { const char *name; size_t n;
	    enum dsn_field f; } FIELDS[] = {
		{ "Reporting-MTA", 13, F_REPORTING_MTA },
		{ "Final-Recipient", 15, F_FINAL },
		{ "Original-Recipient", 18, F_ORIGINAL },
		{ "X-Actual-Recipient", 18, F_ACTUAL },
		{ "Action", 6, F_ACTION },
		{ "Status", 6, F_STATUS },
		{ "Remote-MTA", 10, F_REMOTE_MTA },
		{ "Diagnostic-Code", 15, F_DIAG } };
	size_t k;

	for (k = 0; k < sizeof(FIELDS) / sizeof(FIELDS[0]); k++)
		if (FIELDS[k].n == n && (name[0] | 0x20) ==
		    (FIELDS[k].name[0] | 0x20) &&
		    strncasecmp(name, FIELDS[k].name, n) == 0)
			return FIELDS[k].f;
	return F_OTHER;
}

/* Parse DSN fields from text (any order, blank lines or not) into b.
 * Returns the number of recipients added. */
static size_t
parse_dsn(struct bctx *c, const char *t, size_t len, struct text_ctx *tc)
{
	size_t pos = 0, ll, nr = 0, cap = 0, i, added = 0;
	const char *l;
	struct dsn_rcpt *rv = NULL, *cur = NULL, pend;
	int block = 0;
	const char *fname = NULL, *fval = NULL;
	size_t fname_n = 0, fval_n = 0;
	struct gbuf val = { .max = 65536 };
	bool more = true, ctx_later;
	enum dsn_field f = F_OTHER;

	memset(&pend, 0, sizeof(pend));
	pend.block = -1;
	while (more) {
		more = next_line(t, len, &pos, &l, &ll);
		if (more && ll == 0 && fname == NULL)
			block++;
		if (more && ll > 0 && (*l == ' ' || *l == '\t') &&
		    fname != NULL) {
			gbuf_put(&val, " ", 1);
			gbuf_put(&val, l, ll);
			continue;
		}
		/* flush the previous field (one that is read here) */
		if (fname != NULL && f != F_OTHER) {
			char *v = st_arena_strndup(c->a, val.p ? val.p : "",
			    val.len);

			fval = v;
			fval_n = v ? strlen(v) : 0;
#define IS(name) (f == (name))
			if (v != NULL && IS(F_REPORTING_MTA)) {
				strip_type(&fval, &fval_n);
				if (*c->b->reporting_mta == '\0')
					c->b->reporting_mta = st_arena_strndup(
					    c->a, fval, fval_n);
			} else if (v != NULL && (IS(F_FINAL) ||
			    IS(F_ORIGINAL) ||
			    IS(F_ACTUAL))) {
				bool fin = !IS(F_ORIGINAL);

				/* a new recipient: a new block, or a field
				 * the current one already has */
				if (cur == NULL || cur->block != block ||
				    (fin && cur->final) ||
				    (!fin && cur->orig)) {
					if (IS(F_ACTUAL) && cur)
						goto flushed;
					if (nr == cap) {
						size_t nc = cap ? cap * 2 : 4;
						struct dsn_rcpt *nv;

						/* past the limit: counted, not
						 * silently lost */
						if (cap >= ST_MAX_BOUNCE_RCPTS) {
							c->b->rcpts_dropped++;
							goto flushed;
						}
						if (nc > ST_MAX_BOUNCE_RCPTS)
							nc = ST_MAX_BOUNCE_RCPTS;
						nv = realloc(rv,
						    nc * sizeof(*nv));
						if (nv == NULL)
							goto flushed;
						rv = nv;
						cap = nc;
					}
					cur = &rv[nr++];
					memset(cur, 0, sizeof(*cur));
					cur->block = block;
					/* fields written before the address
					 * in the same block */
					if (pend.block == block) {
						cur->action = pend.action;
						cur->action_n = pend.action_n;
						cur->status = pend.status;
						cur->status_n = pend.status_n;
						cur->remote = pend.remote;
						cur->remote_n = pend.remote_n;
						cur->diag = pend.diag;
						cur->diag_n = pend.diag_n;
					}
					pend.block = -1;
				}
				strip_type(&fval, &fval_n);
				if (fin && cur->final == NULL) {
					cur->final = fval;
					cur->final_n = fval_n;
				} else if (!fin) {
					cur->orig = fval;
					cur->orig_n = fval_n;
				}
			} else if (v != NULL) {
				struct dsn_rcpt *tgt = cur;

				if (cur == NULL || cur->block != block) {
					if (pend.block != block) {
						memset(&pend, 0, sizeof(pend));
						pend.block = block;
					}
					tgt = &pend;
				}
				cur = tgt == &pend ? cur : tgt;
#define cur tgt
				if (IS(F_ACTION)) {
					cur->action = fval;
					cur->action_n = fval_n;
				} else if (IS(F_STATUS)) {
					cur->status = fval;
					cur->status_n = fval_n;
				} else if (IS(F_REMOTE_MTA)) {
					strip_type(&fval, &fval_n);
					cur->remote = fval;
					cur->remote_n = fval_n;
				} else if (IS(F_DIAG)) {
					cur->unix_diag = fval_n >= 6 &&
					    memcasestr(fval, fval_n < 12 ?
					    fval_n : 12, "x-unix") != NULL;
					strip_type(&fval, &fval_n);
					cur->diag = fval;
					cur->diag_n = fval_n;
				}
#undef cur
			}
#undef IS
		}
flushed:
		if (fname != NULL) {
			fname = NULL;
			val.len = 0;
		}
		if (!more)
			break;
		/* quick mode: the reporting MTA and one recipient with an
		 * address say all the trace needs */
		if (c->quick && *c->b->reporting_mta != '\0' && cur != NULL &&
		    cur->final != NULL && memchr(cur->final, '@',
		    cur->final_n) != NULL)
			break;
		if (line_is_field(l, ll)) {
			const char *colon = memchr(l, ':', ll);

			fname = l;
			fname_n = (size_t)(colon - l);
			while (fname_n > 0 && (fname[fname_n - 1] == ' ' ||
			    fname[fname_n - 1] == '\t'))
				fname_n--;
			f = dsn_field(fname, fname_n);
			/* the trace (quick) needs the recipients' addresses
			 * and the reporting MTA only */
			if (c->quick && f >= F_ACTION)
				f = F_OTHER;
			val.len = 0;
			gbuf_put(&val, colon + 1, ll - (size_t)(colon + 1 - l));
			if (val.p == NULL)
				gbuf_put(&val, " ", 1);
		}
	}
	gbuf_free(&val);
	for (i = 0; i < nr; i++) {
		struct dsn_rcpt *d = &rv[i];
		const char *addr = d->final;
		size_t an = d->final_n;
		struct st_bounce_rcpt *r;

		if (addr == NULL || memchr(addr, '@', an) == NULL) {
			if (d->orig != NULL && memchr(d->orig, '@', d->orig_n)) {
				addr = d->orig;
				an = d->orig_n;
			}
		}
		if (addr == NULL || an == 0)
			continue;
		if ((r = st_bounce_add_rcpt(c->a, c->b, addr, an)) == NULL)
			continue;
		added++;
		if (c->quick)
			break;		/* one is enough to say what it is */
		if (d->action != NULL)
			r->action = st_bounce_oneline(c->a, d->action,
			    d->action_n);
		if (d->status != NULL) {
			char sb[16];

			if (st_bounce_find_status(d->status, d->status_n, sb,
			    sizeof(sb)))
				r->status = st_arena_strdup(c->a, sb);
		}
		if (d->remote != NULL)
			r->remote_mta = st_bounce_oneline(c->a, d->remote,
			    d->remote_n);
		if (d->diag != NULL && d->diag_n > 0)
			r->diagnostic = st_bounce_oneline(c->a, d->diag,
			    d->diag_n);
		else if (d->status != NULL && d->status_n > 0) {
			/* "Status: 4.0.0 (host name lookup failure)": the
			 * comment is all the report says of why */
			const char *o = memchr(d->status, '(', d->status_n);

			if (o != NULL && (size_t)(o - d->status) < 16)
				r->diagnostic = st_bounce_oneline(c->a, o + 1,
				    d->status_n - (size_t)(o + 1 - d->status));
			if (r->diagnostic != NULL) {
				char *z = strrchr(r->diagnostic, ')');

				if (z != NULL && z[1] == '\0')
					*z = '\0';
			}
		}
		/* what the text says of it: the diagnostic when the report
		 * gives none; else looked for by st_bounce_classify() only
		 * when it needs it (st_bounce_text_diag() reads the whole
		 * text) */
		ctx_later = false;
		if (tc != NULL && r->diagnostic != NULL &&
		    *r->diagnostic == '\0') {
			char *td = st_bounce_text_diag(tc, r->address);

			if (td != NULL)
				r->diagnostic = td;
			d->context = td;
		} else if (tc != NULL)
			ctx_later = true;
		if (r->action == NULL)
			r->action = "";
		if (r->status == NULL)
			r->status = "";
		if (r->remote_mta == NULL)
			r->remote_mta = "";
		if (r->diagnostic == NULL)
			r->diagnostic = "";
		st_bounce_classify(c->a, r, tc, d->context, ctx_later);
		/* RFC 3464 2.3.6: an "X-Unix" diagnostic is a local delivery
		 * program's exit; unless its words name the trouble (a full
		 * mailbox), the mailer failed */
		if (d->unix_diag && strcmp(r->reason, "mailboxfull") != 0 &&
		    strcmp(r->reason, "mesgtoobig") != 0 && strcmp(r->reason,
		    "exceedlimit") != 0 && strcmp(r->reason, "delivered") != 0
		    && strcmp(r->reason, "systemfull") != 0)
			r->reason = "mailererror";
	}
	free(rv);
	return added;
}

/* Where inline DSN fields begin in text: a line that starts with one of
 * these and goes on after it. */
static const char *const DSN_FIELDS[] = { "reporting-mta:",
	"final-recipient:", "original-recipient:", NULL };

/* Does the line at p (n bytes left in the text) start with a name of
 * DSN_FIELDS, ASCII letters without case, and go on after it? */
static bool
dsn_field_line(const char *p, size_t n)
{
	size_t k, fl;
	const char *nl;

	for (k = 0; DSN_FIELDS[k] != NULL; k++) {
		fl = strlen(DSN_FIELDS[k]);
		if (n >= fl && lpfx(p, DSN_FIELDS[k], fl)) {
			nl = memchr(p, '\n', n);
			return (nl != NULL ? (size_t)(nl - p) : n) > fl;
		}
	}
	return false;
}

/* The names start with 'r', 'f' or 'o' (either case): only the lines
 * that do are compared, found sixteen line ends at a time. */
static bool
find_inline_dsn(const char *t, size_t len, size_t *start)
{
	const char *q = t, *end = t + len;

	if (len > 0 && dsn_field_line(t, len)) {
		*start = 0;
		return true;
	}
#if defined(__SSE2__)
	while (end - q >= 17) {
		__m128i nl = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)
		    (const void *)q), _mm_set1_epi8('\n'));
		__m128i c = _mm_or_si128(_mm_loadu_si128((const __m128i *)
		    (const void *)(q + 1)), _mm_set1_epi8(0x20));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(nl,
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c,
		    _mm_set1_epi8('r')), _mm_cmpeq_epi8(c,
		    _mm_set1_epi8('f'))), _mm_cmpeq_epi8(c,
		    _mm_set1_epi8('o')))));

		for (; m != 0; m &= m - 1) {
			const char *l = q + __builtin_ctz(m) + 1;

			if (dsn_field_line(l, (size_t)(end - l))) {
				*start = (size_t)(l - t);
				return true;
			}
		}
		q += 16;
	}
#endif
	for (; end - q >= 2; q++)
		if (q[0] == '\n' && dsn_field_line(q + 1, (size_t)(end - q - 1))) {
			*start = (size_t)(q + 1 - t);
			return true;
		}
	return false;
}

/* --- ARF ------------------------------------------------------------------- */

static void
parse_arf(struct bctx *c, const char *t, size_t len)
{
	size_t pos = 0, ll;
	const char *l;
	const char *ftype = "";
	size_t first = c->b->nrcpts, i;

	while (next_line(t, len, &pos, &l, &ll)) {
		const char *v;
		size_t n;

		if (!line_is_field(l, ll))
			continue;
		v = memchr(l, ':', ll) + 1;
		n = ll - (size_t)(v - l);
		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		if (ll > 14 && strncasecmp(l, "Feedback-Type:", 14) == 0)
			ftype = st_bounce_oneline(c->a, v, n);
		else if (ll > 16 && strncasecmp(l, "Original-Rcpt-To:", 16) ==
		    0 && memchr(v, '@', n) != NULL)
			st_bounce_add_rcpt(c->a, c->b, v, n);
		else if (ll > 14 && strncasecmp(l, "Reporting-MTA:", 14) == 0) {
			strip_type(&v, &n);
			c->b->reporting_mta = st_bounce_oneline(c->a, v, n);
		}
	}
	if (ftype == NULL || *ftype == '\0')
		ftype = "abuse";
	/* no Original-Rcpt-To: the original's To addresses */
	if (c->b->nrcpts == first && c->orig != NULL) {
		struct st_msg om;

		if (st_msg_parse(&om, c->a, c->orig, c->orig_len) == ST_OK) {
			const struct st_header *h;
			size_t k;

			for (k = 0; (h = st_msg_get(&om, "To", k)) != NULL;
			    k++) {
				char *v = st_hdr_unfold(c->a, h->value,
				    h->value_len, NULL);
				size_t j, n = v ? strlen(v) : 0;

				for (j = 0; v != NULL && j < n; j++) {
					size_t s = j, e = j;

					if (v[j] != '@')
						continue;
					while (s > 0 && addr_char(
					    (unsigned char)v[s - 1]))
						s--;
					while (e + 1 < n && (isalnum(
					    (unsigned char)v[e + 1]) ||
					    v[e + 1] == '.' || v[e + 1] == '-'))
						e++;
					if (s < j && e > j)
						st_bounce_add_rcpt(c->a, c->b,
						    v + s, e + 1 - s);
					j = e;
				}
			}
		}
	}
	for (i = first; i < c->b->nrcpts; i++) {
		c->b->rcpts[i].reason = "feedback";
		c->b->rcpts[i].feedback_type = ftype;
		c->b->rcpts[i].diagnostic = "";
	}
}

/* --- auto-replies and challenges --------------------------------------------- */

static bool
hdr_has(struct st_msg *m, const char *name, const char *needle)
{
	const struct st_header *h = st_msg_get(m, name, 0);

	if (h == NULL)
		return false;
	return needle == NULL || memcasestr(h->value, h->value_len, needle);
}

static const char *const AUTOREPLY_SUBJECTS[] = {
	"auto:", "autoreply", "auto-reply", "auto reply", "auto response",
	"autoresponse", "auto-response", "automatic reply",
	"automatische antwort", "réponse automatique", "respuesta automática",
	"risposta automatica", "out of office", "out of the office",
	"vacation", "away from", "on leave", "abwesenheit", "absence",
	"自動応答", "自動返信", "自動送信", "不在", NULL
};

/* The lists of words looked for in the subject (and text) of every
 * bounce: each compiled once (mf_build()) and found in one pass. */
static struct mfind mf_autoreply, mf_challenge, mf_bsubj;
static pthread_once_t mf_autoreply_once = PTHREAD_ONCE_INIT;
static pthread_once_t mf_challenge_once = PTHREAD_ONCE_INIT;
static pthread_once_t mf_bsubj_once = PTHREAD_ONCE_INIT;

static void
mf_autoreply_build(void)
{
	mf_build(&mf_autoreply, AUTOREPLY_SUBJECTS, false);
}

static bool
is_autoreply(struct st_msg *m, const char *subject)
{
	uint64_t found[2];

	if (hdr_has(m, "Auto-Submitted", "auto-replied") ||
	    hdr_has(m, "X-Autoreply", NULL) ||
	    hdr_has(m, "X-Autorespond", NULL) ||
	    hdr_has(m, "X-Autoresponder", NULL) ||
	    hdr_has(m, "X-Vacation", NULL) ||
	    hdr_has(m, "X-Mail-Autoreply", NULL) ||
	    hdr_has(m, "Precedence", "auto_reply") ||
	    hdr_has(m, "X-Precedence", "auto_reply"))
		return true;
	pthread_once(&mf_autoreply_once, mf_autoreply_build);
	return mf_scan(&mf_autoreply, subject, strlen(subject), found,
	    true) > 0;
}

static const char *const CHALLENGE_PHRASES[] = {
	"please confirm", "confirm that you", "confirm your message",
	"confirm your e-mail", "confirm your email", "verify that you",
	"verify your message", "verify your email", "verification",
	"challenge", "prove you are", "prove that you are",
	"are a human", "not a robot", "approve your message",
	"awaiting confirmation", "awaiting your confirmation",
	"whitelist", "white list", "approved sender", "approved-sender",
	"spam protection", "anti-spam", "held until", "is being held",
	"has been held", "to have your message delivered",
	"will be delivered once", "only accepts email from",
	"tmda", "boxbe", "spamarrest", "spam arrest", "sender verification",
	NULL
};

static void
mf_challenge_build(void)
{
	mf_build(&mf_challenge, CHALLENGE_PHRASES, false);
}

static bool
is_challenge(struct st_msg *m, const char *subject, const char *t,
    size_t len)
{
	uint64_t found[2];
	size_t score;

	if (hdr_has(m, "X-TMDA-Fingerprint", NULL) ||
	    hdr_has(m, "X-Boxbe-Activity", NULL) ||
	    hdr_has(m, "X-Challenge", NULL) ||
	    hdr_has(m, "X-Challenge-Response", NULL))
		return true;
	/* each phrase counts 2 in the subject, 1 in the text */
	pthread_once(&mf_challenge_once, mf_challenge_build);
	score = 2 * mf_scan(&mf_challenge, subject, strlen(subject), found,
	    false);
	score += mf_scan(&mf_challenge, t, len < 16384 ? len : 16384, found,
	    false);
	return score >= 3;
}

/* --- who and when ---------------------------------------------------------- */

static const char *const BOUNCE_SUBJECTS[] = {
	"undeliver", "undelivered", "returned mail", "return mail",
	"delivery status notification", "delivery failure",
	"delivery failed", "delivery has failed", "failure notice",
	"mail delivery failed", "mail system error", "non-delivery",
	"nondeliverable", "non deliverable", "not delivered",
	"could not send", "could not be delivered", "delivery problem",
	"delivery notification", "mail failure", "delivery report",
	"bounce", "rejected", "message not delivered", "warning: could not",
	"delayed mail", "delivery delayed", "unable to deliver",
	"failed delivery", "returned", "error", "failed", "fehlgeschlagen",
	"unzustellbar", "non remis", "配信", "不達", "エラー", "届きません",
	NULL
};

static void
mf_bsubj_build(void)
{
	mf_build(&mf_bsubj, BOUNCE_SUBJECTS, false);
}

static bool
sender_is_system(const char *from, const char *from_display,
    const char *rp, bool rp_present)
{
	static const char *const LOCALS[] = { "mailer-daemon", "postmaster",
		"mail-daemon", "maildaemon", "mailerdaemon", "mdaemon",
		"bounce", "bounces", "mail.delivery", "mailadmin",
		"nobody", "root", "double-bounce", "mail-delivery",
		"notifications", "mailer", NULL };
	size_t k;

	if (rp_present && (rp == NULL || *rp == '\0' || strcmp(rp, "<>") == 0))
		return true;
	for (k = 0; LOCALS[k] != NULL && from != NULL; k++) {
		size_t n;

		if ((from[0] | 0x20) != LOCALS[k][0])
			continue;	/* (all start with a letter) */
		n = strlen(LOCALS[k]);
		if (strncasecmp(from, LOCALS[k], n) == 0 &&
		    (from[n] == '@' || from[n] == '\0'))
			return true;
	}
	if (from_display != NULL &&
	    (memcasestr(from_display, strlen(from_display), "mail delivery")
	    || memcasestr(from_display, strlen(from_display), "mailer-daemon")
	    || memcasestr(from_display, strlen(from_display), "postmaster")
	    || memcasestr(from_display, strlen(from_display), "mail system")))
		return true;
	return false;
}

/* Bare address of a field (NULL: none), "" when none. */
static const char *
addr_of(struct st_msg *m, const struct st_header *h)
{
	char *a;

	if (h == NULL)
		return "";
	a = st_addr_extract(m->arena, h->value, h->value_len);
	return a ? a : "";
}

/* Bare address of the first field name, "" when none. */
static const char *
hdr_addr(struct st_msg *m, const char *name)
{
	const struct st_header *h = st_msg_get(m, name, 0);
	char *a;

	if (h == NULL)
		return "";
	a = st_addr_extract(m->arena, h->value, h->value_len);
	return a ? a : "";
}

/* "for <addr>" in a Received value. */
static const char *
received_for(struct st_arena *a, const char *v, size_t n)
{
	const char *f = memcasestr(v, n, "for "), *s, *e;

	while (f != NULL) {
		s = f + 4;
		while (s < v + n && (*s == ' ' || *s == '<'))
			s++;
		for (e = s; e < v + n && addr_char((unsigned char)*e) &&
		    *e != '>'; e++)
			;
		if (e < v + n && *e == '@')
			for (e++; e < v + n && (isalnum((unsigned char)*e) ||
			    *e == '.' || *e == '-'); e++)
				;
		if (e > s && memchr(s, '@', (size_t)(e - s)) != NULL)
			return st_arena_strndup(a, s, (size_t)(e - s));
		f = memcasestr(f + 4, (size_t)(v + n - (f + 4)), "for ");
	}
	return "";
}

static void
arrival(const struct hdr_set *hs, struct st_bounce *b)
{
	const struct st_header *h = hs->received;
	struct st_date d;

	if (h != NULL) {
		/* the date after the last ';' */
		const char *semi = memrchr(h->value, ';', h->value_len);

		if (semi != NULL && st_date_parse(semi + 1,
		    (size_t)(h->value + h->value_len - semi - 1), &d)) {
			b->has_arrival = true;
			b->arrival = d.utc;
			return;
		}
	}
	if ((h = hs->date) != NULL &&
	    st_date_parse(h->value, h->value_len, &d)) {
		b->has_arrival = true;
		b->arrival = d.utc;
	}
}

/* The bouncing system's name when no Reporting-MTA says it. */
static const char *const INTRO[] = {
	"this is the qmail-send program at ",
	"this is the mail system at host ",
	"this is the mail delivery agent at ",
	"the mail server at ", NULL };
static struct mfind mf_intro;
static pthread_once_t mf_intro_once = PTHREAD_ONCE_INIT;

static void
mf_intro_build(void)
{
	mf_build(&mf_intro, INTRO, false);
}

static const char *
guess_reporter(struct bctx *c, const char *from, const char *text,
    size_t len)
{
	size_t k;
	const char *at;
	uint64_t found[2];

	/* which introductions the text has, in one pass; then where */
	pthread_once(&mf_intro_once, mf_intro_build);
	if (mf_scan(&mf_intro, text, len < 8192 ? len : 8192, found,
	    false) == 0)
		found[0] = found[1] = 0;
	for (k = 0; INTRO[k] != NULL; k++) {
		const char *f, *s, *e;

		if (!mf_has(found, k))
			continue;
		f = memcasestr(text, len < 8192 ? len : 8192, INTRO[k]);
		if (f == NULL)
			continue;
		s = f + strlen(INTRO[k]);
		for (e = s; e < text + len && (isalnum((unsigned char)*e) ||
		    *e == '.' || *e == '-'); e++)
			;
		while (e > s && e[-1] == '.')
			e--;
		if (e > s)
			return st_arena_strndup(c->a, s, (size_t)(e - s));
	}
	if (from != NULL && (at = strchr(from, '@')) != NULL &&
	    strchr(at, '.') != NULL)
		return st_arena_strdup(c->a, at + 1);
	return "";
}

/* --- the entry point ---------------------------------------------------------- */

/*
 * Where the text quotes the original (st_bounce_find_inline()), once:
 * the original when no MIME part gave it, and the bounce's own text
 * (tc->len) ends there.  In quick mode, with the original from a MIME
 * part, only the steps that read tc->len ask for it.
 */
static void
find_quoted(struct bctx *c, struct text_ctx *tc)
{
	size_t start;

	if (c->quoted_done)
		return;
	c->quoted_done = true;
	if (c->text.p != NULL && st_bounce_find_inline(c->text.p, c->text.len,
	    &start)) {
		c->have_inline = true;
		c->inline_start = start;
		/* DSN fields written inline are not the original */
		if (c->orig == NULL)
			set_orig(c, c->text.p + start, c->text.len - start,
			    "inline");
		tc->len = start;
	}
}

/* The subject decoded for display, "" when none (the rules that read it
 * come after the report's: not decoded for most bounces). */
static const char *
decoded_subject(struct st_msg *m, const struct hdr_set *hs)
{
	const char *s = hs->subject ? st_hdr_decode(m->arena,
	    hs->subject->value, hs->subject->value_len) : NULL;

	return s != NULL ? s : "";
}

/* Hotmail's feedback loop: its subject, or a hotmail.com sender.  (Asked
 * only when the original names the field that JMRP adds: most bounces
 * then need no decoded subject.) */
static bool
jmrp_sender(struct st_msg *m, const struct hdr_set *hs, const char *from)
{
	const char *subject = decoded_subject(m, hs);

	return memcasestr(subject, strlen(subject),
	    "complaint about message from") != NULL || (strlen(from) > 12 &&
	    strcasecmp(from + strlen(from) - 12, "@hotmail.com") == 0);
}

/* st_bounce_text_score() of the bounce's own text, once (*score < 0:
 * not yet) */
static int
text_score(int *score, const struct text_ctx *tc)
{
	if (*score < 0)
		*score = st_bounce_text_score(tc->text, tc->len);
	return *score;
}

/* guess_reporter() on the bounce's own text */
static const char *
reporter(struct bctx *c, struct text_ctx *tc, const char *from)
{
	find_quoted(c, tc);
	return guess_reporter(c, from, tc->text, tc->len);
}

static bool mbox_line_before(const char *text, size_t pos);

/*
 * Amazon SES notifications delivered by mail (SNS to an e-mail
 * subscription): the body is one JSON object (AWS SES developer guide,
 * "Amazon SES notification contents"): notificationType Bounce (with
 * bounce.bouncedRecipients: emailAddress, action, status, diagnosticCode,
 * and bounce.reportingMTA), Complaint (complaint.complainedRecipients,
 * complaintFeedbackType) or Delivery (delivery.recipients,
 * smtpResponse); mail.headers is the original's header.  False when the
 * text is not such a notification.
 */
static const char *
js_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
ses_json(struct bctx *c, const char *text, size_t len)
{
	json_t *root, *rs, *part, *mail;
	json_error_t jerr;
	const char *type, *mta = NULL, *resp = NULL;
	size_t i, first = c->b->nrcpts;
	char code[16];

	while (len > 0 && (*text == ' ' || *text == '\n' || *text == '\t')) {
		text++;
		len--;
	}
	if (len < 32 || *text != '{' || memmem(text, len < 256 ? len : 256,
	    "\"notificationType\"", 18) == NULL)
		return false;
	if ((root = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &jerr)) ==
	    NULL) {
		/* a long line folded on its way (a line break and a space in
		 * the middle of a string): unfold and try once more */
		char *u = st_arena_alloc(c->a, len + 1);
		size_t k, o = 0;

		if (u == NULL)
			return false;
		for (k = 0; k < len; k++) {
			if (text[k] == '\n') {
				if (k + 1 < len && (text[k + 1] == ' ' ||
				    text[k + 1] == '\t'))
					k++;
				continue;
			}
			u[o++] = text[k];
		}
		if ((root = json_loadb(u, o, JSON_DISABLE_EOF_CHECK, &jerr)) ==
		    NULL)
			return false;
	}
	if (!json_is_object(root) || (type = js_str(root,
	    "notificationType")) == NULL) {
		json_decref(root);
		return false;
	}
	if (strcmp(type, "Bounce") == 0) {
		part = json_object_get(root, "bounce");
		rs = json_object_get(part, "bouncedRecipients");
		mta = js_str(part, "reportingMTA");
		c->b->kind = ST_BOUNCE_DSN;
	} else if (strcmp(type, "Complaint") == 0) {
		part = json_object_get(root, "complaint");
		rs = json_object_get(part, "complainedRecipients");
		c->b->kind = ST_BOUNCE_ARF;
	} else if (strcmp(type, "Delivery") == 0) {
		part = json_object_get(root, "delivery");
		rs = json_object_get(part, "recipients");
		mta = js_str(part, "reportingMTA");
		resp = js_str(part, "smtpResponse");
		c->b->kind = ST_BOUNCE_DSN;
	} else {
		json_decref(root);
		return false;
	}
	for (i = 0; json_is_array(rs) && i < json_array_size(rs); i++) {
		json_t *e = json_array_get(rs, i);
		const char *addr = json_is_string(e) ? json_string_value(e) :
		    js_str(e, "emailAddress");
		const char *v;
		struct st_bounce_rcpt *r;

		if (addr == NULL || strchr(addr, '@') == NULL ||
		    (r = st_bounce_add_rcpt(c->a, c->b, addr, strlen(addr))) ==
		    NULL)
			continue;
		r->action = r->status = r->reply_code = r->remote_mta = "";
		r->diagnostic = "";
		if (c->b->kind == ST_BOUNCE_ARF) {
			r->reason = "feedback";
			v = js_str(part, "complaintFeedbackType");
			r->feedback_type = v ? st_arena_strdup(c->a, v) :
			    "abuse";
			continue;
		}
		if ((v = json_is_object(e) ? js_str(e, "action") : NULL))
			r->action = st_arena_strdup(c->a, v);
		if ((v = json_is_object(e) ? js_str(e, "status") : NULL) &&
		    st_bounce_find_status(v, strlen(v), code, sizeof(code)))
			r->status = st_arena_strdup(c->a, code);
		if ((v = json_is_object(e) ? js_str(e, "diagnosticCode") :
		    NULL) || (v = resp) != NULL) {
			const char *d = v, *semi = strchr(v, ';');

			if (semi != NULL && semi - v < 20)
				d = semi + 1;	/* "smtp; 550 ..." */
			r->diagnostic = st_bounce_oneline(c->a, d, strlen(d));
		}
		if (*r->action == '\0')
			r->action = c->b->kind == ST_BOUNCE_DSN && resp ?
			    "delivered" : "failed";
		if (!c->quick)
			st_bounce_classify(c->a, r, NULL, NULL, false);
	}
	if (mta != NULL) {
		const char *semi = strchr(mta, ';');

		mta = semi ? semi + 1 : mta;
		while (*mta == ' ')
			mta++;
		c->b->reporting_mta = st_arena_strdup(c->a, mta);
	}
	/* the original's header, as SES lists it */
	mail = json_object_get(root, "mail");
	rs = json_object_get(mail, "headers");
	if (c->orig == NULL && json_is_array(rs) && json_array_size(rs) > 0) {
		struct gbuf h = { .max = ST_MAX_BOUNCE_ORIGINAL };

		for (i = 0; i < json_array_size(rs); i++) {
			const char *n = js_str(json_array_get(rs, i), "name");
			const char *v = js_str(json_array_get(rs, i), "value");

			if (n == NULL || v == NULL || strchr(n, '\n') ||
			    strchr(v, '\n'))
				continue;
			gbuf_put(&h, n, strlen(n));
			gbuf_put(&h, ": ", 2);
			gbuf_put(&h, v, strlen(v));
			gbuf_put(&h, "\n", 1);
		}
		if (h.p != NULL)
			set_orig(c, h.p, h.len, "inline");
		gbuf_free(&h);
	}
	json_decref(root);
	if (c->b->nrcpts == first) {
		c->b->kind = ST_BOUNCE_NONE;
		return false;
	}
	return true;
}


enum st_status
st_bounce_parse(struct st_msg *m, struct st_bounce *b, struct st_error *err)
{
	return st_bounce_parse_ex(m, b, 0, err);
}

enum st_status
st_bounce_parse_ex(struct st_msg *m, struct st_bounce *b, unsigned flags,
    struct st_error *err)
{
	struct bctx c;
	struct text_ctx tc;
	struct st_msg lm;
	struct hdr_set hs;
	const char *lf, *from, *from_disp, *subject, *rp = NULL;
	size_t lflen, body_off, start, k;
	bool rp_present, sys, bounce = false;
	char code[16];
	const struct st_header *h;
	int score;

	st_library_init();
	memset(b, 0, sizeof(*b));
	b->reporting_mta = b->orig_where = b->to_addr = b->delivered_to =
	    b->in_reply_to = "";
	memset(&c, 0, sizeof(c));
	c.a = m->arena;
	c.m = m;
	c.b = b;
	c.quick = (flags & ST_BOUNCE_QUICK) != 0;
	c.text.max = c.html.max = c.dsn.max = c.arf.max = ST_MAX_BOUNCE_TEXT;

	if (m->len == 0 || memchr(m->buf, '\r', m->len) == NULL) {
		/* LF already (most mail as stored): m is its own LF copy,
		 * and m's scan gives where the body starts */
		lf = m->len > 0 ? m->buf : "";
		lflen = m->len;
		body_off = m->body_off <= m->len ? m->body_off : m->len;
	} else if ((lf = lf_copy(m->arena, m->buf, m->len, &lflen)) == NULL ||
	    st_msg_parse(&lm, m->arena, lf, lflen) != ST_OK)
		return st_error_set(err, ST_ENOMEM, "message too complex: "
		    "memory limit reached");
	else
		body_off = lm.body_off;

	/* who sent it, to whom, when */
	hdr_set_fill(m, &hs);
	c.hs = &hs;
	from = addr_of(m, hs.from);
	rp_present = (h = hs.return_path) != NULL;
	if (rp_present)
		rp = st_addr_extract(m->arena, h->value, h->value_len);
	b->to_addr = addr_of(m, hs.to);
	b->delivered_to = addr_of(m, hs.delivered_to);
	if (*b->delivered_to == '\0')
		b->delivered_to = addr_of(m, hs.x_original_to);
	if (*b->delivered_to == '\0')
		b->delivered_to = addr_of(m, hs.envelope_to);
	if (*b->delivered_to == '\0' && (h = hs.received))
		b->delivered_to = received_for(m->arena, h->value,
		    h->value_len);
	/* (not in quick mode: the campaign's, not the trace's) */
	if (!c.quick)
		b->in_reply_to = addr_of(m, hs.in_reply_to);
	if (!c.quick && *b->in_reply_to == '\0' && (h = hs.references)) {
		/* the last id */
		const char *p = h->value + h->value_len, *lt;

		for (lt = p; lt > h->value && lt[-1] != '<'; lt--)
			;
		if (lt > h->value) {
			const char *gt = memchr(lt, '>', (size_t)(p - lt));

			if (gt != NULL)
				b->in_reply_to = st_arena_strndup(m->arena, lt,
				    (size_t)(gt - lt));
		}
	}
	arrival(&hs, b);

	/* the body */
	read_body(&c, lf, lflen, body_off);
	memset(&tc, 0, sizeof(tc));
	tc.a = m->arena;
	tc.text = c.text.p ? c.text.p : "";
	tc.len = c.text.len;
	if (!c.quick || c.orig == NULL)
		find_quoted(&c, &tc);
	if (c.orig != NULL) {
		b->orig = c.orig;
		b->orig_len = c.orig_len;
		b->orig_where = c.orig_where;
	}
	tc.exclude[tc.nexclude++] = from;
	tc.exclude[tc.nexclude++] = b->to_addr;
	tc.exclude[tc.nexclude++] = rp;
	/* the original's sender is not a failed recipient either: read
	 * from the original when an address is first checked (not in quick
	 * mode, which checks none) */
	tc.orig_slot = -1;
	if (c.orig != NULL && !c.quick) {
		tc.orig = c.orig;
		tc.orig_len = c.orig_len;
		tc.orig_slot = (int)tc.nexclude;
	}
	tc.exclude[tc.nexclude++] = "";
	tc.exclude[tc.nexclude++] = b->delivered_to;

	/* 1. feedback report */
	if (c.arf.len > 0 || c.report_arf) {
		b->kind = ST_BOUNCE_ARF;
		parse_arf(&c, c.arf.p ? c.arf.p : "", c.arf.len);
		if (*b->reporting_mta == '\0')
			b->reporting_mta = reporter(&c, &tc, from);
		goto done;
	}
	/* 1b. Hotmail's feedback loop (JMRP) in its older form: no
	 * feedback-report part, a "complaint about message from IP" from
	 * staff@hotmail.com carrying the message, whose header names the
	 * complaining recipient (X-HmXmrOriginalRecipient) */
	if (c.orig != NULL && memcasestr(c.orig, c.orig_len,
	    "x-hmxmroriginalrecipient") != NULL && jmrp_sender(m, &hs, from)) {
		struct st_msg om;
		const struct st_header *oh;

		if (st_msg_parse(&om, m->arena, c.orig, c.orig_len) == ST_OK &&
		    (oh = st_msg_get(&om, "X-HmXmrOriginalRecipient", 0)) !=
		    NULL) {
			char *v = st_addr_extract(m->arena, oh->value,
			    oh->value_len);

			if (v != NULL && strchr(v, '@') != NULL) {
				struct st_bounce_rcpt *r;

				b->kind = ST_BOUNCE_ARF;
				if ((r = st_bounce_add_rcpt(m->arena, b, v,
				    strlen(v))) != NULL) {
					r->reason = "feedback";
					r->feedback_type = "abuse";
					r->diagnostic = "";
				}
				b->reporting_mta = reporter(&c, &tc, from);
				goto done;
			}
		}
	}
	/* 1c. an Amazon SES notification (JSON) */
	if (c.text.p != NULL && ses_json(&c, c.text.p, c.text.len)) {
		if (c.orig != NULL) {
			b->orig = c.orig;
			b->orig_len = c.orig_len;
			b->orig_where = c.orig_where;
		}
		if (*b->reporting_mta == '\0')
			b->reporting_mta = reporter(&c, &tc, from);
		goto done;
	}
	/* 2. delivery status notification */
	if (c.dsn.len > 0 && parse_dsn(&c, c.dsn.p, c.dsn.len, &tc) > 0)
		b->kind = ST_BOUNCE_DSN;
	else if (c.text.p != NULL && find_inline_dsn(c.text.p, c.text.len,
	    &start) && parse_dsn(&c, c.text.p + start, c.text.len - start,
	    &tc) > 0)
		b->kind = ST_BOUNCE_DSN;
	if (b->kind == ST_BOUNCE_DSN) {
		if (*b->reporting_mta == '\0')
			b->reporting_mta = reporter(&c, &tc, from);
		goto done;
	}
	/* (who sent it, and the subject, matter from here on only) */
	subject = decoded_subject(m, &hs);
	from_disp = hs.from ? st_hdr_decode(m->arena, hs.from->value,
	    hs.from->value_len) : NULL;
	sys = sender_is_system(from, from_disp, rp, rp_present);
	/* 3. a plain-text bounce; but not a notice that a program other
	 * than an MTA (a mailbox filter, a provider's script) wrote about a
	 * message it had accepted: one that quotes the message as it lies
	 * in an mbox (its "From " line) and gives no SMTP code at all.  An
	 * MTA returns the message as received, never with an mbox line. */
	find_quoted(&c, &tc);
	if (c.have_inline && !c.report_dsn && mbox_line_before(c.text.p,
	    c.inline_start) &&
	    st_msg_get(m, "X-Failed-Recipients", 0) == NULL &&
	    !st_bounce_find_status(tc.text, tc.len, code, sizeof(code)) &&
	    !st_bounce_find_reply_code(tc.text, tc.len, code, sizeof(code)))
		goto not_bounce;
	/* (the text's score and the subject's words only when asked) */
	score = -1;
	if ((h = st_msg_get(m, "X-Failed-Recipients", 0)) != NULL)
		bounce = true;
	else if (c.report_dsn)
		bounce = true;
	else {
		uint64_t found[2];
		bool subj;

		pthread_once(&mf_bsubj_once, mf_bsubj_build);
		subj = mf_scan(&mf_bsubj, subject, strlen(subject), found,
		    true) > 0;
		if (sys && (subj || text_score(&score, &tc) >= 1))
			bounce = true;
		else if (subj && text_score(&score, &tc) >= 2)
			bounce = true;
		else if (text_score(&score, &tc) >= 4 && c.orig != NULL)
			bounce = true;
	}
	if (bounce && !(is_autoreply(m, subject) && !sys &&
	    text_score(&score, &tc) < 2)) {
		b->kind = ST_BOUNCE_VENDOR;
		if (c.quick)
			goto done;
		if ((h = st_msg_get(m, "X-Failed-Recipients", 0)) != NULL) {
			char *v = st_hdr_unfold(m->arena, h->value,
			    h->value_len, NULL);

			if (v != NULL)
				st_bounce_header_rcpts(&tc, b, v);
		}
		if (b->nrcpts == 0 &&
		    st_bounce_text_rcpts(&tc, b) == ST_ENOMEM)
			return st_error_set(err, ST_ENOMEM, "message too "
			    "complex: memory limit reached");
		if (b->nrcpts == 0 && b->orig != NULL) {
			/* the text names nobody: the original's To */
			struct st_msg om;

			if (st_msg_parse(&om, m->arena, b->orig, b->orig_len)
			    == ST_OK && st_msg_count(&om, "To") == 1) {
				const char *oto = hdr_addr(&om, "To");

				if (strchr(oto, '@') != NULL &&
				    memchr(oto, ',', strlen(oto)) == NULL) {
					struct st_bounce_rcpt *r =
					    st_bounce_add_rcpt(m->arena, b, oto,
					    strlen(oto));

					if (r != NULL)
						r->diagnostic =
						    st_bounce_oneline(m->arena,
						    tc.text, tc.len < 1024 ?
						    tc.len : 1024);
				}
			}
		}
		b->reporting_mta = reporter(&c, &tc, from);
		for (k = 0; k < b->nrcpts; k++) {
			if (b->rcpts[k].diagnostic == NULL)
				b->rcpts[k].diagnostic = "";
			b->rcpts[k].action = "failed";
			st_bounce_classify(m->arena, &b->rcpts[k], &tc, NULL,
			    false);
		}
		goto done;
	}
	/* 4. an auto-reply, 5. a challenge */
	if (is_challenge(m, subject, tc.text, tc.len) &&
	    (sys || hdr_has(m, "Auto-Submitted", NULL) ||
	    hdr_has(m, "X-TMDA-Fingerprint", NULL) ||
	    hdr_has(m, "X-Boxbe-Activity", NULL) ||
	    hdr_has(m, "X-Challenge", NULL) ||
	    hdr_has(m, "X-Challenge-Response", NULL) ||
	    hdr_has(m, "Precedence", NULL))) {
		struct st_bounce_rcpt *r = NULL;

		b->kind = ST_BOUNCE_CHALLENGE;
		/* the protected mailbox: the original's To, else the sender
		 * of the challenge */
		if (b->orig != NULL) {
			struct st_msg om;

			if (st_msg_parse(&om, m->arena, b->orig, b->orig_len) ==
			    ST_OK && st_msg_count(&om, "To") == 1) {
				const char *oto = hdr_addr(&om, "To");

				if (strchr(oto, '@') != NULL)
					r = st_bounce_add_rcpt(m->arena, b, oto,
					    strlen(oto));
			}
		}
		if (r == NULL && strchr(from, '@') != NULL)
			r = st_bounce_add_rcpt(m->arena, b, from, strlen(from));
		if (r != NULL) {
			r->reason = "onhold";
			r->diagnostic = st_bounce_oneline(m->arena, subject,
			    strlen(subject));
		}
		b->reporting_mta = reporter(&c, &tc, from);
		goto done;
	}
	if (is_autoreply(m, subject)) {
		struct st_bounce_rcpt *r = NULL;

		b->kind = ST_BOUNCE_AUTOREPLY;
		if (strchr(from, '@') != NULL)
			r = st_bounce_add_rcpt(m->arena, b, from, strlen(from));
		if (r != NULL) {
			r->reason = "vacation";
			r->diagnostic = st_bounce_oneline(m->arena, subject,
			    strlen(subject));
		}
		b->reporting_mta = reporter(&c, &tc, from);
		goto done;
	}
	/* not a bounce: no original either */
not_bounce:
	b->kind = ST_BOUNCE_NONE;
	b->orig = NULL;
	b->orig_len = 0;
	b->orig_where = "";
done:
	if (b->reporting_mta == NULL)
		b->reporting_mta = "";
	gbuf_free(&c.text);
	gbuf_free(&c.html);
	gbuf_free(&c.dsn);
	gbuf_free(&c.arf);
	return ST_OK;
}

/* Is the line just before pos (in text) an mbox "From " separator:
 * "From ADDR  Sat Oct  4 08:00:07 2025" (a sender, then a date)? */
static bool
mbox_line_before(const char *text, size_t pos)
{
	static const char *const DAYS[] = { "Mon ", "Tue ", "Wed ", "Thu ",
		"Fri ", "Sat ", "Sun " };
	size_t e, b, k;
	const char *p;

	if (text == NULL || pos < 2 || text[pos - 1] != '\n')
		return false;
	e = pos - 1;
	for (b = e; b > 0 && text[b - 1] != '\n'; b--)
		;
	if (e - b < 20 || memcmp(text + b, "From ", 5) != 0)
		return false;
	p = memchr(text + b + 5, ' ', e - b - 5);
	if (p == NULL)
		return false;
	while (p < text + e && *p == ' ')
		p++;
	for (k = 0; k < 7; k++)
		if ((size_t)(text + e - p) > 4 && memcmp(p, DAYS[k], 4) == 0)
			return true;
	return false;
}

/* --- the original through the trace ---------------------------------------- */

static void
top_hop(const struct st_bounce *b, struct st_top_hop *top)
{
	memset(top, 0, sizeof(*top));
	if (b->reporting_mta != NULL && *b->reporting_mta)
		top->by = b->reporting_mta;
}

enum st_status
st_bounce_hops_original(struct st_msg *m, const struct st_bounce *b,
    struct st_msg *om, struct st_trace *t)
{
	enum st_status rc;

	memset(t, 0, sizeof(*t));
	if (b->orig == NULL)
		return ST_EINVAL;
	if ((rc = st_msg_parse(om, m->arena, b->orig, b->orig_len)) != ST_OK)
		return rc;
	if (om->nhdrs == 0)
		return ST_EPARSE;
	return st_trace_hops(om, t);
}

enum st_status
st_bounce_trace_original(struct st_msg *m, const struct st_bounce *b,
    const struct st_config *cfg, struct st_msg *om, struct st_trace *t,
    struct st_error *err)
{
	struct st_top_hop top;
	enum st_status rc;

	memset(t, 0, sizeof(*t));
	if (b->orig == NULL)
		return st_error_set(err, ST_EINVAL, "no copy of the original "
		    "message in the bounce");
	if ((rc = st_msg_parse(om, m->arena, b->orig, b->orig_len)) != ST_OK)
		return st_error_set(err, rc, "%s", st_strerror(rc));
	if (om->nhdrs == 0)
		return st_error_set(err, ST_EPARSE, "the copy of the original "
		    "has no header fields");
	top_hop(b, &top);
	return st_trace_message(om, cfg, &top, t, err);
}
