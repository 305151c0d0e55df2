/*
 * text.c - reading bounces written for people: the failed recipients and
 * the diagnostic around each, the copy of the original quoted inline, and
 * whether a text is a bounce's at all.
 *
 * DESCRIPTION
 *	MTAs that send no RFC 3464 report (qmail, old sendmail, Exim,
 *	Postfix's text part, Exchange, Domino, Courier, the Japanese carriers,
 *	webmail providers) all write the same few things in their own words:
 *	a sentence saying delivery failed, each failed address on a line of
 *	its own (or after "RCPT TO:" in a session transcript, or after a
 *	"Recipient:" label), the remote server's reply near it, and a
 *	separator before the copy of the message.  Rather than one parser per
 *	vendor this file reads those shapes:
 *	  tier 1  an address that starts a line ("<a@b>:", "a@b", "<a@b>...")
 *	          or follows RCPT TO or a recipient label;
 *	  tier 2  an address in a sentence about delivery ("to <a@b>");
 *	  tier 3  any other address in the text.
 *	The best tier found wins; the bounce's own addresses and the
 *	original's sender never count.  The diagnostic of a recipient is the
 *	text after it up to the next blank line (or further when that says
 *	nothing), plus other lines naming it.
 *
 * LIMITS
 *	Text up to ST_MAX_BOUNCE_TEXT, ST_MAX_BOUNCE_RCPTS recipients,
 *	ST_MAX_DIAGNOSTIC bytes of diagnostic.  Works on spans; embedded NULs
 *	are treated as white space.
 *
 * STANDARDS
 *	RFC 5321 (reply codes, RCPT TO), RFC 3463 (status codes), RFC 5322
 *	(header field syntax of the quoted original).
 */
#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/bounce_int.h"
#include "spamtrace/limits.h"
#include "util/scan.h"

/* --- small helpers ------------------------------------------------------- */

void
gbuf_put(struct gbuf *g, const char *s, size_t n)
{
	if (g->max && g->len + n > g->max) {
		g->truncated = true;
		n = g->len < g->max ? g->max - g->len : 0;
	}
	if (n == 0)
		return;
	if (g->cap - g->len < n + 1) {
		size_t ncap = g->cap ? g->cap : 4096;
		char *np;

		while (ncap - g->len < n + 1)
			ncap *= 2;
		if ((np = realloc(g->p, ncap)) == NULL) {
			g->truncated = true;
			return;
		}
		g->p = np;
		g->cap = ncap;
	}
	memcpy(g->p + g->len, s, n);
	g->len += n;
	g->p[g->len] = '\0';
}

void
gbuf_free(struct gbuf *g)
{
	free(g->p);
	memset(g, 0, sizeof(*g));
}

bool
next_line(const char *text, size_t len, size_t *pos, const char **line,
    size_t *llen)
{
	const char *p, *nl;

	if (*pos >= len)
		return false;
	p = text + *pos;
	nl = st_scan_byte(p, len - *pos, '\n');
	*line = p;
	if (nl == NULL) {
		*llen = len - *pos;
		*pos = len;
	} else {
		*llen = (size_t)(nl - p);
		*pos = (size_t)(nl - text) + 1;
	}
	return true;
}

static inline unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The text bytes that read as needle byte x (lc(byte) == x): two for a
 * lower-case letter, none for an upper-case one (but the first byte of a
 * needle is taken as it is), else x itself. */
static unsigned
case_pair(unsigned char x, bool first, unsigned char *a, unsigned char *b)
{
	if (x >= 'A' && x <= 'Z' && !first)
		return 0;
	*a = x;
	*b = x >= 'a' && x <= 'z' ? (unsigned char)(x - 32) : x;
	return 1;
}

/*
 * The first two bytes are looked for sixteen places at a time (both
 * cases), the rest compared through lc() where both are there; short
 * texts and needles byte by byte (first byte through memchr): this runs
 * over every line of every bounce.
 */
const char *
memcasestr(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i = 0, j;
	const char *e, *q, *lo, *up;
	unsigned char c0, c1;

	if (k == 0)
		return p;
	if (n < k)
		return NULL;
#if defined(__SSE2__)
	if (k >= 2) {
		unsigned char a0, b0, a1, b1;
		size_t last = n - k;	/* the last place it can start */

		if (!case_pair((unsigned char)needle[0], true, &a0, &b0) ||
		    !case_pair((unsigned char)needle[1], false, &a1, &b1))
			return NULL;	/* lc() gives no upper case */
		for (; last >= 15 && i <= last - 15; i += 16) {
			__m128i v0 = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + i));
			__m128i v1 = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + i + 1));
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v0,
			    _mm_set1_epi8((char)a0)), _mm_cmpeq_epi8(v0,
			    _mm_set1_epi8((char)b0))), _mm_or_si128(
			    _mm_cmpeq_epi8(v1, _mm_set1_epi8((char)a1)),
			    _mm_cmpeq_epi8(v1, _mm_set1_epi8((char)b1)))));

			for (; m != 0; m &= m - 1) {
				q = p + i + (size_t)__builtin_ctz(m);
				for (j = 2; j < k; j++)
					if (lc((unsigned char)q[j]) !=
					    (unsigned char)needle[j])
						break;
				if (j == k)
					return q;
			}
		}
		/* the places left: as below */
		p += i;
		n -= i;
	}
#endif
	c0 = (unsigned char)needle[0];
	c1 = (c0 >= 'a' && c0 <= 'z') ? (unsigned char)(c0 - 32) : c0;
	e = p + n - k + 1;	/* last possible start + 1 */
	lo = memchr(p, c0, (size_t)(e - p));
	up = c1 != c0 ? memchr(p, c1, (size_t)(e - p)) : NULL;
	while (lo != NULL || up != NULL) {
		q = lo == NULL ? up : up == NULL ? lo : lo < up ? lo : up;
		for (i = 1; i < k; i++)
			if (lc((unsigned char)q[i]) !=
			    (unsigned char)needle[i])
				break;
		if (i == k)
			return q;
		if (q == lo)
			lo = q + 1 < e ? memchr(q + 1, c0, (size_t)(e - q - 1)) :
			    NULL;
		else
			up = q + 1 < e ? memchr(q + 1, c1, (size_t)(e - q - 1)) :
			    NULL;
	}
	return NULL;
}

/* Many needles at once (struct mfind, bounce_int.h). */

static unsigned
mf_hash(unsigned char a, unsigned char b)
{
	return (((unsigned)a << 5) ^ (unsigned)b) & 4095u;
}

void
mf_build(struct mfind *m, const char *const *nd, bool nul_space)
{
	size_t k, i, j;
	unsigned b0, b1;
	/* the bytes of the text that map to each byte (two at most) */
	unsigned char pre[256][2], npre[256];

	m->nd = nd;
	memset(npre, 0, sizeof(npre));
	for (k = 0; k < 256; k++) {
		m->map[k] = lc((unsigned char)k);
		if (nul_space && k == 0)
			m->map[0] = ' ';	/* as a lower-cased copy had */
		pre[m->map[k]][npre[m->map[k]]++] = (unsigned char)k;
	}
	for (k = 0; nd[k] != NULL && k < MF_MAX; k++) {
		unsigned char c = lc((unsigned char)nd[k][0]);
		unsigned char c1;

		m->len[k] = strlen(nd[k]);
		c1 = m->len[k] > 1 ? lc((unsigned char)nd[k][1]) : 0;
		/* every pair of text bytes that maps to the needle's first
		 * two (a one-byte needle: any second byte) */
		for (i = 0; i < npre[c]; i++) {
			b0 = pre[c][i];
			if (m->len[k] == 1) {
				for (b1 = 0; b1 < 256; b1 += 64)
					m->pair[(b0 * 256u + b1) >> 6] =
					    ~(uint64_t)0;
				continue;
			}
			for (j = 0; j < npre[c1]; j++) {
				b1 = pre[c1][j];
				m->pair[(b0 * 256u + b1) >> 6] |=
				    (uint64_t)1 << ((b0 * 256u + b1) & 63);
			}
		}
		m->next[k] = m->head[c];
		m->head[c] = (uint8_t)(k + 1);
	}
	m->n = k;
	/* the moves of the windows (only worth it past 2 bytes) */
	m->minlen = SIZE_MAX;
	for (k = 0; k < m->n; k++)
		if (m->len[k] < m->minlen)
			m->minlen = m->len[k];
	if (m->minlen < 3 || m->minlen > 255)
		m->minlen = 0;		/* byte by byte */
	else {
		size_t ml = m->minlen;

		memset(m->shift, (int)(ml - 1), sizeof(m->shift));
		for (k = 0; k < m->n; k++)
			for (j = 1; j < ml; j++) {
				unsigned h = mf_hash(lc((unsigned char)
				    nd[k][j - 1]) | 0x20, lc((unsigned char)
				    nd[k][j]) | 0x20);

				if (m->shift[h] > ml - 1 - j)
					m->shift[h] = (uint8_t)(ml - 1 - j);
			}
	}
}

void
mf_wide(struct mfind *m)
{
	size_t k, j, ml = m->minlen, a, b;
	unsigned char pre[256][2], npre[256];
	uint8_t *s2;

	if (ml == 0 || (s2 = malloc(65536)) == NULL)
		return;
	memset(npre, 0, sizeof(npre));
	for (k = 0; k < 256; k++)
		pre[m->map[k]][npre[m->map[k]]++] = (unsigned char)k;
	memset(s2, (int)(ml - 1), 65536);
	for (k = 0; k < m->n; k++)
		for (j = 1; j < ml; j++) {
			unsigned char x = lc((unsigned char)m->nd[k][j - 1]);
			unsigned char y = lc((unsigned char)m->nd[k][j]);

			/* every pair of text bytes that reads as x, y */
			for (a = 0; a < npre[x]; a++)
				for (b = 0; b < npre[y]; b++) {
					uint8_t *e = &s2[pre[x][a] * 256u +
					    pre[y][b]];

					if (*e > ml - 1 - j)
						*e = (uint8_t)(ml - 1 - j);
				}
		}
	m->shift2 = s2;
}

/* Set bit k of found[k / 64] for each needle k found in t[0..n).  With
 * first_only, stop at the first needle found (the one that starts first;
 * *at, when not NULL, gets where).  Returns the number of distinct
 * needles found. */
size_t
mf_scan_at(const struct mfind *m, const char *t, size_t n, uint64_t found[2],
    bool first_only, size_t *at)
{
	size_t i, nf = 0;

	found[0] = found[1] = 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned k;

		/* a window as long as the shortest needle: the pair of
		 * bytes that ends it says how far no needle can start */
		if (m->minlen != 0) {
			unsigned sh;

			if (n - i < m->minlen)
				break;
			if (m->shift2 != NULL) {
				const uint8_t *s2 = m->shift2;
				const unsigned char *u =
				    (const unsigned char *)t + m->minlen - 2;
				size_t last = n - m->minlen;

				while ((sh = s2[u[i] * 256u + u[i + 1]]) != 0) {
					i += sh;
					if (i > last)
						return nf;
				}
			} else {
				/* (bytes with bit 5 set: a byte reads as
				 * the needle's when lc() or the NUL rule
				 * makes it so, and then it does so too; no
				 * map lookup in the chain of moves) */
				while ((sh = m->shift[mf_hash((unsigned char)
				    t[i + m->minlen - 2] | 0x20,
				    (unsigned char)t[i + m->minlen - 1] |
				    0x20)]) != 0) {
					i += sh;
					if (n - i < m->minlen)
						return nf;
				}
			}
		}
		/* the pair of bytes first: it rules out most positions */
		if (i + 1 < n) {
			unsigned pr = (unsigned char)t[i] * 256u +
			    (unsigned char)t[i + 1];

			if (!((m->pair[pr >> 6] >> (pr & 63)) & 1))
				continue;
		}
		k = m->head[m->map[(unsigned char)t[i]]];

		while (k != 0) {
			size_t x = k - 1, L = m->len[x], j;
			const char *nd = m->nd[x];

			k = m->next[x];
			if (L > n - i || (found[x >> 6] >> (x & 63)) & 1)
				continue;
			for (j = 1; j < L; j++)
				if (m->map[(unsigned char)t[i + j]] !=
				    (unsigned char)nd[j])
					break;
			if (j < L)
				continue;
			found[x >> 6] |= (uint64_t)1 << (x & 63);
			nf++;
			if (first_only && at != NULL)
				*at = i;
			if (first_only || nf == m->n)
				return nf;
		}
	}
	return nf;
}

size_t
mf_scan(const struct mfind *m, const char *t, size_t n, uint64_t found[2],
    bool first_only)
{
	return mf_scan_at(m, t, n, found, first_only, NULL);
}

bool
mf_has(const uint64_t found[2], size_t k)
{
	return (found[k >> 6] >> (k & 63)) & 1;
}

bool
line_is_field(const char *l, size_t n)
{
	size_t i = 0;

#if defined(__SSE2__)
	/* sixteen at a time up to the first ':', control, space or 8-bit
	 * byte */
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)
		    (l + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v,
		    _mm_set1_epi8(32)), v), _mm_cmpeq_epi8(_mm_max_epu8(v,
		    _mm_set1_epi8(127)), v)), _mm_cmpeq_epi8(v,
		    _mm_set1_epi8(':'))));

		if (m != 0) {
			i += (size_t)__builtin_ctz(m);
			return l[i] == ':' && i > 0;
		}
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == ':')
			return i > 0;
		if (c <= 32 || c >= 127)
			return false;
	}
	return false;
}


static bool
blank(const char *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r' && l[i] != '\0')
			return false;
	return true;
}

char *
st_bounce_oneline(struct st_arena *a, const char *p, size_t n)
{
	char *s, *o;
	size_t i;
	bool sp = true;

	if ((s = st_arena_alloc_raw(a, (n < ST_MAX_DIAGNOSTIC ? n :
	    ST_MAX_DIAGNOSTIC) + 1)) == NULL)
		return NULL;
	for (i = 0, o = s; i < n && (size_t)(o - s) < ST_MAX_DIAGNOSTIC; ) {
		unsigned char c;
		size_t room, lim;

#if defined(__SSE2__)
		/* sixteen at a time while no white space follows white
		 * space and there is room: byte for byte */
		while (n - i >= 16 &&
		    (size_t)(o - s) + 16 <= ST_MAX_DIAGNOSTIC) {
			__m128i v = _mm_loadu_si128((const __m128i *)
			    (const void *)(p + i));
			__m128i ws = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v,
			    _mm_set1_epi8(0x20)), v), _mm_cmpeq_epi8(v,
			    _mm_set1_epi8(0x7f)));
			unsigned w = (unsigned)_mm_movemask_epi8(ws);

			if ((w & ((w << 1) | (sp ? 1u : 0u))) != 0)
				break;		/* a run to collapse */
			_mm_storeu_si128((__m128i *)(void *)o, _mm_or_si128(
			    _mm_andnot_si128(ws, v), _mm_and_si128(ws,
			    _mm_set1_epi8(' '))));
			o += 16;
			i += 16;
			sp = (w & 0x8000u) != 0;
		}
		if (i >= n || (size_t)(o - s) >= ST_MAX_DIAGNOSTIC)
			break;
#endif
		c = (unsigned char)p[i];
		/* white space and control characters: one space */
		if (c <= 0x20 || c == 0x7f) {
			if (!sp)
				*o++ = ' ';
			sp = true;
			i++;
			continue;
		}
		/* a run of other bytes, as far as there is room */
		room = ST_MAX_DIAGNOSTIC - (size_t)(o - s);
		lim = n - i < room ? n : i + room;
		for (; i < lim; i++) {
			c = (unsigned char)p[i];
			if (c <= 0x20 || c == 0x7f)
				break;
			*o++ = (char)c;
		}
		sp = false;
	}
	/* do not cut a UTF-8 sequence in two */
	while (o > s && (size_t)(o - s) >= ST_MAX_DIAGNOSTIC &&
	    ((unsigned char)o[-1] & 0xc0) == 0x80)
		o--;
	if (o > s && ((unsigned char)o[-1] & 0xc0) == 0xc0)
		o--;
	while (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
	return s;
}

/* --- addresses in text ----------------------------------------------------- */

/* The address around the '@' at p[at]; s and e get its span.  Requires a local
 * part and a domain with a dot (or an address literal). */
static bool
addr_at(const char *p, size_t n, size_t at, size_t *s, size_t *e)
{
	size_t i = at, j = at + 1;
	bool dot = false;

	while (i > 0 && addr_char((unsigned char)p[i - 1]) && p[i - 1] != '/')
		i--;
	while (i < at && (p[i] == '.' || p[i] == '\''))
		i++;
	if (i == at)
		return false;
	if (j < n && p[j] == '[') {
		while (j < n && p[j] != ']' && j - at < 60)
			j++;
		if (j >= n || p[j] != ']')
			return false;
		*s = i;
		*e = j + 1;
		return true;
	}
	while (j < n && (isalnum((unsigned char)p[j]) || p[j] == '-' ||
	    p[j] == '.' || p[j] == '_' || (unsigned char)p[j] >= 0x80)) {
		if (p[j] == '.')
			dot = true;
		j++;
	}
	while (j > at + 1 && (p[j - 1] == '.' || p[j - 1] == '-'))
		j--;
	if (j == at + 1 || !dot || memchr(p + at + 1, '.', j - at - 1) == NULL)
		return false;
	*s = i;
	*e = j;
	return true;
}

/* The original's sender into the exclusion list, once. */
static void
orig_sender(struct text_ctx *c)
{
	struct st_msg om;
	const struct st_header *oh;
	int slot = c->orig_slot;

	c->orig_slot = -1;
	if (st_msg_parse(&om, c->a, c->orig, c->orig_len) == ST_OK &&
	    (oh = st_msg_get(&om, "From", 0)) != NULL) {
		char *fa = st_addr_extract(c->a, oh->value, oh->value_len);

		c->exclude[slot] = fa ? fa : "";
	}
}

static bool
excluded(struct text_ctx *c, const char *p, size_t n, int tier)
{
	size_t i;

	if (tier > 1 && c->orig_slot >= 0)
		orig_sender(c);

	/* an address on a line of its own is the failed recipient even when
	 * it is the sender's own (mail to oneself) */
	for (i = 0; tier > 1 && i < c->nexclude; i++)
		if (c->exclude[i] != NULL && strlen(c->exclude[i]) == n &&
		    strncasecmp(c->exclude[i], p, n) == 0)
			return true;
	/* the bouncer's own mailboxes */
	if (n > 14 && strncasecmp(p, "mailer-daemon@", 14) == 0)
		return true;
	return false;
}

struct cand {
	size_t	s, e;		/* the address in the text */
	size_t	line, line_end;	/* the line it is on */
	int	tier;
};

/* Labels after which an address on the same line is a recipient. */
static const char *const RCPT_LABELS[] = {
	"rcpt to:", "recipient", "original-recipient", "final-recipient",
	"failed address", "address:", "addresses:", "to:", "user:",
	"mailbox:", "destination", "target mail address", "unknown user",
	"invalid user", "your message to", "message to", "delivery to",
	"deliver to", "delivered to", "could not be delivered to",
	"undeliverable to", "for <", "to <", "addressee", "account:",
	"e-mail address", "email address", "mail address", NULL
};

static struct mfind mf_labels;
static pthread_once_t mf_labels_once = PTHREAD_ONCE_INIT;

static void
mf_labels_build(void)
{
	mf_build(&mf_labels, RCPT_LABELS, false);
}

static int
tier_of(const char *t, size_t line, size_t s, size_t line_end)
{
	size_t i = line;
	size_t k;
	uint64_t found[2];

	/* an address that starts the line (after white space, quotes,
	 * bullets, '<') */
	while (i < s && (t[i] == ' ' || t[i] == '\t' || t[i] == '<' ||
	    t[i] == '"' || t[i] == '\'' || t[i] == '*' || t[i] == '-' ||
	    t[i] == '>' || t[i] == '[' || t[i] == '('))
		i++;
	if (i == s)
		return 1;
	/* "554 <a@b>... 550 Host unknown": a reply code, then the address */
	if (s - i >= 4 && s - i <= 6 && isdigit((unsigned char)t[i]) &&
	    isdigit((unsigned char)t[i + 1]) && isdigit((unsigned char)t[i + 2])
	    && (t[i + 3] == ' ' || t[i + 3] == '-')) {
		size_t j = i + 4;

		while (j < s && (t[j] == ' ' || t[j] == '<'))
			j++;
		if (j == s)
			return 1;
	}
	/* "Label: <addr>": a known label before it on the line (the
	 * labels there found in one pass, then where each is) */
	pthread_once(&mf_labels_once, mf_labels_build);
	if (mf_scan(&mf_labels, t + line, s - line, found, false) == 0)
		k = sizeof(RCPT_LABELS) / sizeof(RCPT_LABELS[0]) - 1;
	else
		k = 0;
	for (; RCPT_LABELS[k] != NULL; k++) {
		const char *f;

		if (!mf_has(found, k))
			continue;
		f = memcasestr(t + line, s - line, RCPT_LABELS[k]);

		if (f != NULL && (size_t)(f - (t + line)) < 80)
			return strncmp(RCPT_LABELS[k], "rcpt", 4) == 0 ||
			    strstr(RCPT_LABELS[k], "recipient") != NULL ? 1 : 2;
	}
	/* "Delivery failed 20 attempts: a@b": the address ends the line
	 * after a colon */
	{
		size_t j = s;

		while (j > line && (t[j - 1] == ' ' || t[j - 1] == '<' ||
		    t[j - 1] == '\t'))
			j--;
		if (j > line && t[j - 1] == ':') {
			const char *e = t + s;

			while (e < t + line_end && *e != ' ' && *e != '\t')
				e++;
			while (e < t + line_end && (*e == ' ' || *e == '>' ||
			    *e == '.' || *e == '\t'))
				e++;
			if (e == t + line_end)
				return 2;
		}
	}
	return 3;
}

/* Lines whose addresses are never failed recipients. */
static const char *const SKIP[] = {
	"message-id", "in-reply-to", "references", "return-path",
	"reply-to", "sender:", "from:", "received:", "mail from",
	"envelope-from", "x-postfix-sender", "errors-to", "content-id",
	"x-original-sender", "dkim-signature", "list-", "x-sender",
	"postmaster", "abuse@", "for more information", "help",
	"please contact", "please send mail", "the sender", "sent by",
	"envelope sender", "originator", NULL
};
static struct mfind mf_skip;
static pthread_once_t mf_skip_once = PTHREAD_ONCE_INIT;

static void
mf_skip_build(void)
{
	mf_build(&mf_skip, SKIP, false);
}

static bool
skip_line(const char *l, size_t n)
{
	uint64_t found[2];
	size_t i;

	while (n > 0 && (*l == ' ' || *l == '\t' || *l == '>' || *l == '<')) {
		l++;
		n--;
	}
	pthread_once(&mf_skip_once, mf_skip_build);
	if (mf_scan(&mf_skip, l, n, found, false) == 0)
		return false;
	for (i = 0; SKIP[i] != NULL; i++) {
		if (!mf_has(found, i))
			continue;
		/* header names count only at the start of the line (the
		 * first occurrence is at the start when any is) */
		if (strchr(SKIP[i], ':') != NULL || strcmp(SKIP[i],
		    "message-id") == 0 || strcmp(SKIP[i], "references") == 0)
			if (memcasestr(l, n, SKIP[i]) != l)
				continue;
		return true;
	}
	return false;
}

/* Collect the candidate addresses of the text, best tier first. */
static size_t
collect(struct text_ctx *c, struct cand *cv, size_t max, int *best)
{
	const char *t = c->text;
	size_t pos = 0, lpos, ll, n = 0, i, s, e;
	const char *l;

	*best = 4;
	/* the lines with an '@': from one '@' to the next */
	while (pos < c->len) {
		const char *at = memchr(t + pos, '@', c->len - pos), *nl;

		if (at == NULL)
			break;
		{
			const char *bol = memrchr(t + pos, '\n',
			    (size_t)(at - (t + pos)));

			lpos = bol != NULL ? (size_t)(bol - t) + 1 : pos;
		}
		nl = memchr(at, '\n', c->len - (size_t)(at - t));
		l = t + lpos;
		ll = nl ? (size_t)(nl - l) : c->len - lpos;
		pos = nl ? (size_t)(nl - t) + 1 : c->len;
		if (skip_line(l, ll))
			continue;
		/* from one '@' of the line to the next (none before at) */
		for (i = (size_t)(at - l); i < ll; i++) {
			int tier;
			size_t k;
			bool dup = false;
			const char *a2 = memchr(l + i, '@', ll - i);

			if (a2 == NULL)
				break;
			i = (size_t)(a2 - l);
			if (!addr_at(t, c->len, lpos + i, &s, &e))
				continue;
			if (e > lpos + ll)
				continue;
			tier = tier_of(t, lpos, s, lpos + ll);
			if (excluded(c, t + s, e - s, tier))
				goto next;
			for (k = 0; k < n; k++)
				if (cv[k].e - cv[k].s == e - s &&
				    strncasecmp(t + cv[k].s, t + s, e - s) ==
				    0) {
					dup = true;
					if (tier < cv[k].tier) {
						cv[k].tier = tier;
						cv[k].s = s;
						cv[k].e = e;
						cv[k].line = lpos;
						cv[k].line_end = lpos + ll;
					}
				}
			if (!dup && n < max) {
				cv[n].s = s;
				cv[n].e = e;
				cv[n].line = lpos;
				cv[n].line_end = lpos + ll;
				cv[n].tier = tier;
				n++;
			}
			if (tier < *best)
				*best = tier;
next:
			i = e - lpos;
		}
	}
	return n;
}

static int key_field(const char *l, size_t n);

/* Does a span say anything (a code or a reason word)? */
static bool
says_something(const char *p, size_t n)
{
	char b[16];
	const char *r;

	if (st_bounce_find_status(p, n, b, sizeof(b)) ||
	    st_bounce_find_reply_code(p, n, b, sizeof(b)))
		return true;
	r = st_bounce_reason(NULL, NULL, p, n);
	return strcmp(r, "undefined") != 0 && strcmp(r, "onhold") != 0;
}

/* The diagnostic of the candidate k: the rest of its line and the lines
 * after it up to a blank line (or to the next candidate, or 15 lines, when
 * that said nothing), then other lines naming the address. */
static char *
diagnostic(struct st_arena *a, const struct text_ctx *c,
    const struct cand *cv, size_t ncv, size_t k, int best)
{
	const char *t = c->text;
	size_t stop = c->len, pos, ll, i, nlines = 0;
	const char *l;
	struct gbuf g = { .max = ST_MAX_REASON_TEXT };
	char *r;
	size_t endpara, block_end;

	for (i = 0; i < ncv; i++)
		if (cv[i].tier == best && cv[i].line > cv[k].line &&
		    cv[i].line < stop)
			stop = cv[i].line;
	/* rest of the line */
	{
		size_t rs = cv[k].e;

		while (rs < cv[k].line_end && (t[rs] == '>' || t[rs] == ':' ||
		    t[rs] == ' ' || t[rs] == '\t' || t[rs] == '.' ||
		    t[rs] == ','))
			rs++;
		if (rs == cv[k].line_end) {	/* "...failed: a@b": before it */
			size_t q;
			bool words = false;

			for (q = cv[k].line; q < cv[k].s; q++)
				if (isalpha((unsigned char)t[q]))
					words = true;
			if (words)
				gbuf_put(&g, t + cv[k].line,
				    cv[k].s - cv[k].line);
		} else
			gbuf_put(&g, t + rs, cv[k].line_end - rs);
	}
	gbuf_put(&g, "\n", 1);
	pos = cv[k].line_end < c->len ? cv[k].line_end + 1 : c->len;
	/* the paragraph that follows */
	while (pos < stop && next_line(t, stop, &pos, &l, &ll)) {
		if (blank(l, ll))
			break;
		gbuf_put(&g, l, ll);
		gbuf_put(&g, "\n", 1);
	}
	endpara = pos;
	if (g.p == NULL || !says_something(g.p, g.len)) {
		pos = endpara;
		while (pos < stop && nlines < 15 && next_line(t, stop, &pos,
		    &l, &ll)) {
			if (blank(l, ll))
				continue;
			/* (st_bounce_find_inline() of the line alone: a
			 * Received field is a header block of one line) */
			if (key_field(l, ll) == 1 && line_is_field(l, ll))
				break;
			gbuf_put(&g, l, ll);
			gbuf_put(&g, "\n", 1);
			nlines++;
		}
	}
	/* other lines that name the address and carry a code: found
	 * through where the text names it (an address holds no LF) */
	block_end = pos;
	nlines = 0;
	{
		char needle[256];
		size_t an = cv[k].e - cv[k].s, j, from = 0;
		const char *f, *nl;

		if (an >= sizeof(needle))
			goto named;
		for (j = 0; j < an; j++)
			needle[j] = (char)tolower((unsigned char)t[cv[k].s + j]);
		needle[an] = '\0';
		/* (an address literal may hold a line break: no line
		 * names it then) */
		if (strchr(needle, '\n') != NULL)
			goto named;
		while (nlines < 4 && from < c->len && (f = memcasestr(t + from,
		    c->len - from, needle)) != NULL) {
			size_t lp = (size_t)(f - t);
			char b[8];

			while (lp > from && t[lp - 1] != '\n')
				lp--;
			nl = memchr(f, '\n', c->len - (size_t)(f - t));
			ll = nl ? (size_t)(nl - t) - lp : c->len - lp;
			l = t + lp;
			from = nl ? (size_t)(nl - t) + 1 : c->len;
			if ((lp >= cv[k].line && lp < block_end) || ll > 600)
				continue;
			if (memcasestr(l, ll, "rcpt to") != NULL)
				continue;
			if (!st_bounce_find_reply_code(l, ll, b, sizeof(b)))
				continue;
			gbuf_put(&g, l, ll);
			gbuf_put(&g, "\n", 1);
			nlines++;
		}
	}
named:
	r = st_bounce_oneline(a, g.p ? g.p : "", g.len);
	gbuf_free(&g);
	return r;
}

struct st_bounce_rcpt *
st_bounce_add_rcpt(struct st_arena *a, struct st_bounce *b, const char *addr,
    size_t n)
{
	struct st_bounce_rcpt *r;
	char *s;
	size_t i;

	/* "|/usr/bin/prog user@example.com /home" or "Name <a@b>": the
	 * token that holds the '@' */
	if (memchr(addr, ' ', n) != NULL || memchr(addr, '<', n) != NULL) {
		size_t s0, e0, i0;

		for (i0 = 0; i0 < n; i0++)
			if (addr[i0] == '@' && addr_at(addr, n, i0, &s0, &e0)) {
				addr += s0;
				n = e0 - s0;
				break;
			}
	}
	while (n > 0 && (*addr == '<' || *addr == ' ' || *addr == '"')) {
		addr++;
		n--;
	}
	while (n > 0 && (addr[n - 1] == '>' || addr[n - 1] == ' ' ||
	    addr[n - 1] == '.' || addr[n - 1] == '"' || addr[n - 1] == ','))
		n--;
	if (n == 0)
		return NULL;
	for (i = 0; i < b->nrcpts; i++)
		if (strlen(b->rcpts[i].address) == n &&
		    strncasecmp(b->rcpts[i].address, addr, n) == 0)
			return &b->rcpts[i];
	if (b->nrcpts >= ST_MAX_BOUNCE_RCPTS) {
		b->rcpts_dropped++;
		return NULL;
	}
	if ((b->nrcpts & (b->nrcpts - 1)) == 0) {
		size_t ncap = b->nrcpts ? b->nrcpts * 2 : 4;
		struct st_bounce_rcpt *nv = st_arena_grow(a, b->rcpts,
		    b->nrcpts, ncap, sizeof(*nv));

		if (nv == NULL)
			return NULL;
		b->rcpts = nv;
	}
	r = &b->rcpts[b->nrcpts];
	if ((s = st_bounce_oneline(a, addr, n)) == NULL)
		return NULL;
	/* the domain is case-insensitive: lower-case it */
	{
		char *at = strrchr(s, '@');

		if (at != NULL)
			for (; *at; at++)
				*at = (char)tolower((unsigned char)*at);
	}
	b->nrcpts++;
	r->address = s;
	r->status = r->reason = r->reply_code = r->remote_mta =
	    r->diagnostic = r->action = r->feedback_type = "";
	return r;
}

enum st_status
st_bounce_text_rcpts(struct text_ctx *c, struct st_bounce *b)
{
	struct cand *cv;
	size_t n, k;
	int best;
	size_t max = 256;

	if (c->len == 0)
		return ST_OK;
	/* collect() writes each entry before it is read: no need to clear */
	if ((cv = malloc(max * sizeof(*cv))) == NULL)
		return ST_ENOMEM;
	n = collect(c, cv, max, &best);
	if (best == 3) {
		size_t n3 = 0;

		for (k = 0; k < n; k++)
			n3 += cv[k].tier == 3;
		if (n3 != 1)
			best = 4;
	}
	for (k = 0; k < n; k++) {
		struct st_bounce_rcpt *r;

		if (cv[k].tier != best)
			continue;
		r = st_bounce_add_rcpt(c->a, b, c->text + cv[k].s,
		    cv[k].e - cv[k].s);
		if (r == NULL)
			continue;
		if (*r->diagnostic == '\0')
			r->diagnostic = diagnostic(c->a, c, cv, n, k, best);
		if (r->diagnostic == NULL)
			r->diagnostic = "";
	}
	free(cv);
	return ST_OK;
}

/* Find the diagnostic for an address named elsewhere (a header, the DSN)
 * in the text: the lines around where the text names it. */
static char *
diag_for(struct st_arena *a, struct text_ctx *c, const char *addr)
{
	struct cand cv[64];
	size_t n, k;
	int best;

	n = collect(c, cv, 64, &best);
	for (k = 0; k < n; k++)
		if (strlen(addr) == cv[k].e - cv[k].s &&
		    strncasecmp(addr, c->text + cv[k].s, cv[k].e - cv[k].s) ==
		    0)
			return diagnostic(a, c, cv, n, k, cv[k].tier);
	return NULL;
}

/* Recipients named by a header (X-Failed-Recipients): exact. */
void	st_bounce_header_rcpts(struct text_ctx *c, struct st_bounce *b,
	    const char *v);
void
st_bounce_header_rcpts(struct text_ctx *c, struct st_bounce *b, const char *v)
{
	size_t n = strlen(v), i, s, e;

	for (i = 0; i < n; i++) {
		struct st_bounce_rcpt *r;

		if (v[i] != '@' || !addr_at(v, n, i, &s, &e))
			continue;
		r = st_bounce_add_rcpt(c->a, b, v + s, e - s);
		if (r != NULL && *r->diagnostic == '\0') {
			char *d = diag_for(c->a, c, r->address);

			r->diagnostic = d ? d : "";
		}
		i = e;
	}
}

/* Diagnostic for a DSN recipient that had no Diagnostic-Code. */
char *
st_bounce_text_diag(struct text_ctx *c, const char *addr)
{
	return diag_for(c->a, c, addr);
}

/* --- remote MTA in a diagnostic --------------------------------------------- */

static const char *const MTA_KEYS[] = { "remote host ", "host ",
	"while talking to ", "remote server ", "server ", "mx ", NULL };
static struct mfind mf_mta;
static pthread_once_t mf_mta_once = PTHREAD_ONCE_INIT;

static void
mf_mta_build(void)
{
	mf_build(&mf_mta, MTA_KEYS, false);
}

static const char *
remote_mta(struct st_arena *a, const char *d)
{
	const char *const *KEYS = MTA_KEYS;
	size_t k, n = strlen(d);
	uint64_t found[2];

	/* the keys the diagnostic has, in one pass */
	pthread_once(&mf_mta_once, mf_mta_build);
	if (mf_scan(&mf_mta, d, n, found, false) == 0)
		return "";
	for (k = 0; KEYS[k] != NULL; k++) {
		const char *f, *s, *e;

		if (!mf_has(found, k))
			continue;
		f = memcasestr(d, n, KEYS[k]);

		while (f != NULL) {
			s = f + strlen(KEYS[k]);
			if (f > d && isalpha((unsigned char)f[-1]))
				goto again;
			while (*s == '[' || *s == '<' || *s == '(')
				s++;
			for (e = s; *e && (isalnum((unsigned char)*e) ||
			    *e == '.' || *e == '-' || *e == ':' || *e == '_');
			    e++)
				;
			while (e > s && (e[-1] == '.' || e[-1] == ':'))
				e--;
			if (e - s > 3 && memchr(s, '.', (size_t)(e - s)) != NULL)
				return st_arena_strndup(a, s, (size_t)(e - s));
again:
			f = memcasestr(f + 1, n - (size_t)(f + 1 - d), KEYS[k]);
		}
	}
	return "";
}

/* The SMTP commands a diagnostic may name, and which ('D' DATA, 'R' RCPT,
 * 'M' MAIL, 'C' the connection: greeting, EHLO/HELO). */
static const char *const CMD_P[] = {
	"end of data", "reply to data", "after data", "command data",
	">>> data", "during data",
	"reply to rcpt", "after rcpt", ">>> rcpt", "rcpt to command",
	"reply to mail", "after mail from", ">>> mail from",
	"does not like recipient",	/* qmail */
	"after initial connection",	/* Exim */
	"after ehlo", "after helo", "reply to ehlo", "reply to helo",
	"smtp greeting", NULL
};
static const char CMD_C[] = "DDDDDDRRRRMMMRCCCCCC";
static struct mfind mf_cmd;
static pthread_once_t mf_cmd_once = PTHREAD_ONCE_INIT;

static void
mf_cmd_build(void)
{
	mf_build(&mf_cmd, CMD_P, false);
}

/* The SMTP command the failure answered, 0 unknown.  The diagnostic
 * decides (the first command of the list it names); else the whole text
 * when it names one command only. */
static int
smtp_command(const char *d, size_t dn, const char *w, size_t wn)
{
	uint64_t found[2];
	size_t k;
	int c = 0;

	pthread_once(&mf_cmd_once, mf_cmd_build);
	if (mf_scan(&mf_cmd, d, dn, found, false) > 0)
		for (k = 0; CMD_P[k] != NULL; k++)
			if (mf_has(found, k))
				return CMD_C[k];
	if (w == NULL || wn == 0)
		return 0;
	if (wn > 65536)
		wn = 65536;
	if (mf_scan(&mf_cmd, w, wn, found, false) == 0)
		return 0;
	for (k = 0; CMD_P[k] != NULL; k++)
		if (mf_has(found, k)) {
			if (c && c != CMD_C[k])
				return 0;	/* several: cannot tell */
			c = CMD_C[k];
		}
	return c == 'D' ? 'D' : 0;
}

/* Is reason one of the space-separated words of list? */
static bool
reason_in(const char *reason, const char *list)
{
	size_t n = strlen(reason);
	const char *p;

	for (p = list; (p = strstr(p, reason)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return true;
	return false;
}

/* What the phrase tables (strong or weak) say of the whole text: looked
 * up once for all the recipients of a bounce. */
static const char *
whole_phrase(struct text_ctx *tc, bool weak)
{
	if (weak && !tc->weak_done) {
		tc->weak = st_bounce_reason_phrase(tc->text, tc->len, true,
		    NULL);
		tc->weak_done = true;
	} else if (!weak && !tc->strong_done) {
		tc->strong = st_bounce_reason_phrase(tc->text, tc->len, false,
		    NULL);
		tc->strong_done = true;
	}
	return weak ? tc->weak : tc->strong;
}

void
st_bounce_classify(struct st_arena *a, struct st_bounce_rcpt *r,
    struct text_ctx *tc, const char *context, bool ctx_later)
{
	char b[16], norm[ST_MAX_REASON_TEXT + 1];
	const char *d = r->diagnostic ? r->diagnostic : "";
	size_t dn = strlen(d), nn = 0;
	const char *reason = NULL, *sr;
	const char *whole = tc != NULL ? tc->text : NULL;
	size_t whole_len = tc != NULL ? tc->len : 0;
	bool phrase = false;
	int cmd;

	/* Amazon SES: "5.1.0 - Unknown address error 550-'5.7.1 <...>...
	 * Access denied' (delivery attempts: 0)": its own summary of the
	 * code, then the remote server's reply in quotes, which decides */
	if (dn > 12 && isdigit((unsigned char)d[0]) && d[1] == '.') {
		const char *dash = memchr(d, '-', dn < 16 ? dn : 16);
		const char *q = dash != NULL && dash > d && dash[-1] == ' ' ?
		    memchr(dash, '\'', dn - (size_t)(dash - d)) : NULL;

		if (q != NULL && q - dash >= 5 && isdigit((unsigned char)q[-4]) &&
		    isdigit((unsigned char)q[-3]) && isdigit((unsigned char)q[-2]) && (q[-1] == '-' ||
		    q[-1] == ' ')) {
			dn -= (size_t)(q - 4 - d);
			d = q - 4;
			if (st_bounce_find_status(d, dn, b, sizeof(b)) &&
			    b[0] == r->status[0] && b[0] != '2')
				r->status = st_arena_strdup(a, b);
		}
	}
	/* a generic X.0.0 in the report, a precise code in the reply */
	if (r->status[0] && strcmp(r->status + 1, ".0.0") == 0 &&
	    st_bounce_find_status(d, dn, b, sizeof(b)) && b[0] == r->status[0]
	    && strcmp(b + 1, ".0.0") != 0)
		r->status = st_arena_strdup(a, b);
	if (*r->status == '\0') {
		if (st_bounce_find_status(d, dn, b, sizeof(b)))
			r->status = st_arena_strdup(a, b);
		else if (whole != NULL && st_bounce_find_status(whole,
		    whole_len < 65536 ? whole_len : 65536, b, sizeof(b)))
			r->status = st_arena_strdup(a, b);
		if (r->status == NULL)
			r->status = "";
	}
	if (*r->reply_code == '\0') {
		if (st_bounce_find_reply_code(d, dn, b, sizeof(b)))
			r->reply_code = st_arena_strdup(a, b);
		if (r->reply_code == NULL)
			r->reply_code = "";
	}
	if (*r->remote_mta == '\0')
		r->remote_mta = remote_mta(a, d);
	if (*r->reason != '\0')
		return;
	if (r->status[0] == '2') {
		r->reason = "delivered";
		return;
	}
	/* the diagnostic's words, the code, the rest of the text */
	sr = st_bounce_reason_status(r->status);
	/* X.7.1 ("delivery not authorized") is what most refusals carry:
	 * it decides only when no phrase does */
	/* (the diagnostic normalised once for both tables) */
	if (dn > 0)
		nn = st_bounce_reason_norm(d, dn, norm);
	if (dn > 0 && (reason = st_bounce_reason_phrase_norm(norm, nn, false,
	    r->status[0] && strcmp(r->status + 1, ".7.1") == 0 ? NULL :
	    sr)) != NULL)
		phrase = true;
	else if (sr != NULL)
		reason = sr;
	else if (whole != NULL && (reason = whole_phrase(tc, false)) != NULL)
		phrase = true;
	else if (dn > 0 && (reason = st_bounce_reason_phrase_norm(norm, nn,
	    true, NULL)) != NULL)
		phrase = true;
	else if ((reason = st_bounce_reason_reply(r->reply_code)) != NULL)
		;
	else if (whole != NULL && (reason = whole_phrase(tc, true)) != NULL)
		phrase = true;
	else if ((reason = st_bounce_reason_vendor(whole, whole_len)) != NULL ||
	    (reason = st_bounce_reason_vendor(r->address,
	    strlen(r->address))) != NULL)
		phrase = true;
	else
		reason = *r->status || *r->reply_code ? "onhold" : "undefined";

	/* "user unknown" answered to DATA, or with a mailbox-status code:
	 * the address exists, the message was refused: filtered.  (The
	 * command changes only these reasons below, and only those that
	 * come from them: neither the command nor the context is looked
	 * for when another one stands.) */
	cmd = 0;
	if (reason_in(reason, "userunknown hostunknown filtered rejected "
	    "onhold undefined systemerror expired")) {
		cmd = smtp_command(d, dn, NULL, 0);
		if (cmd == 0 && ctx_later && context == NULL && tc != NULL)
			context = st_bounce_text_diag(tc, r->address);
		if (cmd == 0 && context != NULL)
			cmd = smtp_command(context, strlen(context), NULL, 0);
	}
	if (strcmp(reason, "userunknown") == 0 && strcmp(r->status + (
	    *r->status ? 1 : 0), ".1.1") != 0 && (cmd == 'D' ||
	    (cmd == 0 && r->status[0] && strncmp(r->status + 1, ".2.", 3) ==
	    0)))
		reason = "filtered";
	/* "user unknown" with a security/policy code (X.7.x) from a
	 * server not answering RCPT: a filter said it */
	if (reason_in(reason, "userunknown") && r->status[0] &&
	    strncmp(r->status + 1, ".7.", 3) == 0 && cmd != 'R')
		reason = "filtered";
	/* refused at MAIL FROM: the sender's address, not the recipient */
	if (cmd == 'M' && reason_in(reason, "userunknown hostunknown "
	    "filtered"))
		reason = "rejected";
	/* refused before any address was given (greeting, EHLO): the
	 * client host is refused */
	if (cmd == 'C' && reason_in(reason, "rejected onhold undefined "
	    "systemerror expired"))
		reason = "blocked";
	/* too big for this recipient's limit (RFC 3463 X.2.3) */
	if (strcmp(reason, "mesgtoobig") == 0 && strcmp(r->status + (
	    *r->status ? 1 : 0), ".2.3") == 0)
		reason = "exceedlimit";
	/* a name that did not resolve this time is not unknown for good */
	if (strcmp(reason, "hostunknown") == 0 && r->status[0] == '4')
		reason = "networkerror";
	/* a temporary failure in a final report, or a delay report: the
	 * MTA gave up (or will) retrying */
	if (!phrase && (strcmp(reason, "onhold") == 0 || strcmp(reason,
	    "undefined") == 0 || strcmp(reason, "networkerror") == 0) &&
	    ((r->status[0] == '4' && strcasecmp(r->action, "failed") == 0) ||
	    strcasecmp(r->action, "delayed") == 0))
		reason = "expired";
	r->reason = reason;
}

/* --- the quoted original -------------------------------------------------- */

/* Lines that introduce a copy of the message (lower case substrings). */
static const char *const SEPARATORS[] = {
	"original message", "copy of the message", "copy of your message",
	"copy of the original", "returned message", "undelivered message",
	"unsent message", "message header follows", "headers of the original",
	"header of the original", "original message headers",
	"text of the original", "bounced e-mail", "bounced message",
	"returned mail follows", "message follows", "headers follow",
	"header follows", "the message you sent", "your message reads",
	"original mail", "below is the message", "below this line",
	"message content", "attached is the original", "rfc822",
	"message headers", "--- the header of the original",
	"original header", NULL
};

/*
 * Every separator holds one of these pairs of letters (checked when the
 * list is built): "message", "original", "follow(s)", "below",
 * "bounced", "rfc822".  They are rare in other text, and looked for
 * sixteen places at a time; only the short lines that hold one are then
 * searched for the separators.
 */
static const char SEP_PAIRS[][3] = { "ag", "gi", "ow", "nc", "fc" };
#define NSEP_PAIRS	(sizeof(SEP_PAIRS) / sizeof(SEP_PAIRS[0]))

static struct mfind mf_sep;
static bool sep_paired;
static pthread_once_t mf_sep_once = PTHREAD_ONCE_INIT;

static void
mf_sep_build(void)
{
	size_t k, j;

	mf_build(&mf_sep, SEPARATORS, true);
	mf_wide(&mf_sep);
	sep_paired = true;
	for (k = 0; SEPARATORS[k] != NULL; k++) {
		for (j = 0; j < NSEP_PAIRS; j++)
			if (strstr(SEPARATORS[k], SEP_PAIRS[j]) != NULL)
				break;
		if (j == NSEP_PAIRS)
			sep_paired = false;	/* then the scan alone */
	}
}

/* Where one of SEP_PAIRS starts in t[from..len), ASCII letters without
 * case; len when nowhere. */
static size_t
sep_pair(const char *t, size_t len, size_t from)
{
	size_t i = from, j;

#if defined(__SSE2__)
	/* (a byte with bit 5 set equals a lower-case letter only when it
	 * is that letter in either case) */
	for (; len - i >= 17 && i < len; i += 16) {
		__m128i v0 = _mm_or_si128(_mm_loadu_si128((const __m128i *)
		    (const void *)(t + i)), _mm_set1_epi8(0x20));
		__m128i v1 = _mm_or_si128(_mm_loadu_si128((const __m128i *)
		    (const void *)(t + i + 1)), _mm_set1_epi8(0x20));
		unsigned m;
#define SEP_AT(k) _mm_and_si128(_mm_cmpeq_epi8(v0, \
		    _mm_set1_epi8(SEP_PAIRS[k][0])), _mm_cmpeq_epi8(v1, \
		    _mm_set1_epi8(SEP_PAIRS[k][1])))

		_Static_assert(NSEP_PAIRS == 5, "SEP_PAIRS: one SEP_AT each");
		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_or_si128(SEP_AT(0), SEP_AT(1)), _mm_or_si128(SEP_AT(2),
		    SEP_AT(3))), SEP_AT(4)));
#undef SEP_AT
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i + 1 < len; i++)
		for (j = 0; j < NSEP_PAIRS; j++)
			if (((unsigned char)t[i] | 0x20) == (unsigned char)
			    SEP_PAIRS[j][0] && ((unsigned char)t[i + 1] |
			    0x20) == (unsigned char)SEP_PAIRS[j][1])
				return i;
	return len;
}

/* The next line (from pos, a line start) that is a separator: at most
 * 200 bytes and naming one of SEPARATORS; its span in *l, *n, and *pos
 * after it.  One scan of the text, not one per line. */
static bool
next_separator(const char *t, size_t len, size_t *pos, const char **l,
    size_t *n)
{
	uint64_t found[2];
	size_t at, ls, le;
	const char *nl;

	pthread_once(&mf_sep_once, mf_sep_build);
	while (*pos < len) {
		if (sep_paired) {
			/* a line with a pair; a longer one is passed over
			 * whatever it names */
			if ((at = sep_pair(t, len, *pos)) >= len) {
				*pos = len;
				return false;
			}
			ls = at - *pos > 201 ? at - 201 : *pos;
			if ((nl = memrchr(t + ls, '\n', at - ls)) != NULL)
				ls = (size_t)(nl - t) + 1;
			nl = memchr(t + at, '\n', len - at);
			le = nl ? (size_t)(nl - t) : len;
			*pos = nl ? le + 1 : len;
			if (at - ls > 200 || le - ls > 200 || mf_scan(&mf_sep,
			    t + ls, le - ls, found, true) == 0)
				continue;
			*l = t + ls;
			*n = le - ls;
			return true;
		}
		if (mf_scan_at(&mf_sep, t + *pos, len - *pos, found, true,
		    &at) == 0) {
			*pos = len;
			return false;
		}
		at += *pos;
		/* the line it is on (a needle holds no LF) */
		for (ls = at; ls > *pos && t[ls - 1] != '\n'; ls--)
			;
		nl = memchr(t + at, '\n', len - at);
		le = nl ? (size_t)(nl - t) : len;
		*pos = nl ? le + 1 : len;
		if (le - ls <= 200) {
			*l = t + ls;
			*n = le - ls;
			return true;
		}
	}
	return false;
}

/* Field names that mark a block as a message's header. */
static int
key_field(const char *l, size_t n)
{
	static const struct { const char *k; size_t n; } KEYS[] = {
		{ "received:", 9 }, { "from:", 5 }, { "to:", 3 },
		{ "subject:", 8 }, { "date:", 5 }, { "message-id:", 11 },
		{ "return-path:", 12 }, { "mime-version:", 13 },
		{ "content-type:", 13 }, { "x-mailer:", 9 }, { "cc:", 3 },
		{ "reply-to:", 9 }, { "sender:", 7 } };
	size_t k;
	unsigned char c;

	if (n == 0)
		return 0;
	c = lc((unsigned char)l[0]);
	for (k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++)
		if ((unsigned char)KEYS[k].k[0] == c && n >= KEYS[k].n &&
		    strncasecmp(l, KEYS[k].k, KEYS[k].n) == 0)
			return (int)k + 1;
	return 0;
}

/* Can a key field (key_field()) start with c? */
static bool
key_first(char c)
{
	switch (c | 0x20) {
	case 'r': case 'f': case 't': case 's': case 'd': case 'm': case 'c':
	case 'x':
		return true;
	default:
		return false;
	}
}

/* A header block starts at pos: at least two key fields (distinct) among
 * its first lines, or one Received. */
static bool
block_at(const char *t, size_t len, size_t pos)
{
	size_t p = pos, ll, nf = 0;
	const char *l;
	unsigned seen = 0;
	int keys = 0;

	while (nf < 40 && next_line(t, len, &p, &l, &ll)) {
		int k;

		if (ll == 0 || blank(l, ll))
			break;
		if (*l == ' ' || *l == '\t') {
			if (nf == 0)
				return false;
			continue;
		}
		if (!line_is_field(l, ll))
			break;
		nf++;
		if ((k = key_field(l, ll)) != 0 && !(seen & (1u << k))) {
			seen |= 1u << k;
			keys++;
			if (k == 1 && nf == 1)
				keys++;
			if (keys >= 2)
				return true;	/* nothing below undoes it */
		}
	}
	return false;
}

bool
st_bounce_find_inline(const char *t, size_t len, size_t *start)
{
	size_t pos = 0, lp, ll, p2, l2;
	const char *l, *m;
	bool after_sep = false;

	/* first: a separator, then (after blank lines or a few lines of
	 * prose) a header block */
	while (next_separator(t, len, &pos, &l, &ll)) {
		lp = (size_t)(l - t);
		if (!after_sep && !line_is_field(l, ll)) {
			size_t q = pos;
			int tries = 0;

			while (tries < 6 && next_line(t, len, &q, &m, &l2)) {
				p2 = (size_t)(m - t);
				if (blank(m, l2))
					continue;
				tries++;
				if (line_is_field(m, l2) && block_at(t, len,
				    p2)) {
					*start = p2;
					return true;
				}
			}
		}
		(void)lp;
	}
	/* then: any convincing header block in the text.  A key field's
	 * line has its first colon in its first 13 bytes: the lines are
	 * found through their colons (most lines of prose have none) */
	pos = 0;
	while (pos < len) {
		const char *colon = memchr(t + pos, ':', len - pos), *nl;
		size_t cp;

		if (colon == NULL)
			break;
		cp = (size_t)(colon - t);
		/* its line (pos is a line start: the line starts there or
		 * later) */
		for (lp = cp; lp > pos && t[lp - 1] != '\n' && cp - lp <= 12;
		    lp--)
			;
		nl = memchr(colon, '\n', len - cp);
		ll = (nl != NULL ? (size_t)(nl - t) : len) - lp;
		l = t + lp;
		if ((lp == pos || t[lp - 1] == '\n') && key_first(l[0]) &&
		    key_field(l, ll) != 0 && line_is_field(l, ll) &&
		    block_at(t, len, lp)) {
			*start = lp;
			return true;
		}
		pos = nl != NULL ? (size_t)(nl - t) + 1 : len;
	}
	return false;
}

/* --- is this a bounce's text? ------------------------------------------------ */

static const char *const BOUNCE_PHRASES[] = {
	"could not be delivered", "couldn't be delivered",
	"was not delivered", "wasn't delivered", "not be delivered",
	"undeliverable", "undelivered", "delivery failed", "delivery failure",
	"delivery has failed", "delivery to the following recipient",
	"failed to deliver", "unable to deliver", "could not deliver",
	"couldn't deliver", "wasn't able to deliver", "permanent error",
	"permanent fatal error", "fatal error", "permanently",
	"returned to sender", "returning message to sender",
	"delivery status notification", "non-delivery", "nondelivery",
	"delivery problem", "this is the mail system at host",
	"this is the qmail-send program", "mail delivery system",
	"mail delivery subsystem", "message was not sent",
	"rejected your message", "your message was rejected",
	"message could not", "error occurred while", "could not be sent",
	"your message to", "recipient address rejected", "user unknown",
	"mailbox full", "unknown user", "no such user",
	"following recipients failed", "following addresses had",
	"following address(es) failed", "did not reach the following",
	"could not reach", "failure notice", "deliver your message",
	"your message did not reach", "message you sent", "bounced",
	"returned mail", "mail system error", "delivery error",
	"smtp error", "remote host said", "said: 5", "said: 4",
	"delayed", "have not yet been delivered",
	"配信", "届きません", "送信できません", "エラー", "宛先", NULL
};

static struct mfind mf_phrases;
static pthread_once_t mf_phrases_once = PTHREAD_ONCE_INIT;

static void
mf_phrases_build(void)
{
	mf_build(&mf_phrases, BOUNCE_PHRASES, false);
	mf_wide(&mf_phrases);
}

int
st_bounce_text_score(const char *t, size_t len)
{
	uint64_t found[2];

	if (len > 32768)
		len = 32768;
	/* every phrase found counts once */
	pthread_once(&mf_phrases_once, mf_phrases_build);
	return (int)mf_scan(&mf_phrases, t, len, found, false);
}
