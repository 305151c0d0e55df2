/*
 * received.c - one Received header value in, one hop out.
 *
 * NAME
 *	st_received_parse - read a Received trace field into a struct st_hop
 *
 * DESCRIPTION
 *	The value is unfolded (st_hdr_unfold) and cut into tokens in one
 *	linear pass: words, comments (nested up to ST_MAX_COMMENT_DEPTH),
 *	quoted strings and semicolons.  The tokens are then split into the
 *	clauses of RFC 5321 4.4 ("from", "by", "via", "with", "id", "for")
 *	plus the date after the last top-level semicolon.  Nothing here is a
 *	table of whole lines: each MTA's layout is recognised from the shape
 *	of the comments in the "from" clause, which is where the formats
 *	differ:
 *
 *	  (NAME [IP])		rDNS and address (sendmail, Postfix, Gmail,
 *				OpenSMTPD, Haraka); the word before is HELO
 *	  ([IP] helo=H)		Exim / ecelerity: the word before is the rDNS
 *	  ([IP])		address only; the word before is the HELO, or
 *				the rDNS for Exim and qmail-shaped lines
 *	  (HELO H) (IP)		qmail: the word before is the rDNS
 *	  (user@IP)		qmail with an RFC 1413 answer
 *	  NAME(IP)		smap / TIS gateways: NAME is the rDNS
 *	  (IP:port)		XMail
 *	  [IP] bare		Yahoo web, fetchmail, GMX
 *	  NAME (IP) by H (IP2)	Exchange / Office 365: NAME is the EHLO
 *				name (Exchange does no reverse lookup) and
 *				IP2 is the receiving host's own address
 *
 *	What the client claimed (helo, envfrom) is kept apart from what the
 *	server observed (ip, rdns, ident).  The receiving software (mta) is
 *	guessed from signatures in the by/with comments and from the shape.
 *	Field values follow SpamAssassin's relay fields where they overlap
 *	(tests/received/ measure the agreement).
 *
 * LIMITS
 *	The unfolded value is capped at ST_MAX_HEADER_VALUE by st_hdr_unfold;
 *	at most ST_MAX_RECEIVED_TOKENS tokens are analysed; comments nest to
 *	ST_MAX_COMMENT_DEPTH (deeper parentheses are text).  Every pass is
 *	linear in the length of the value: signatures are found in one pass
 *	(a hashed 4-byte window at every second byte, see scan_marks), and
 *	after the first unclosed '(' every later comment ends at its first
 *	word, so no text is scanned to the end twice.  The only allocations
 *	are two from the arena: the unfolded copy and one block for all the
 *	field strings.
 *
 * STANDARDS
 *	RFC 5321 4.4 (trace information), RFC 5322 3.6.7, RFC 3848 (ESMTPA,
 *	ESMTPS, ESMTPSA, LMTPA ...), RFC 1413 (ident), RFC 4291 / 5952 (IPv6
 *	text forms), RFC 2033 (LMTP).
 */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spamtrace/limits.h"
#include "spamtrace/msg.h"
#include "spamtrace/received.h"

#include "received/received_int.h"
#include "util/ascii.h"

/* ------------------------------------------------------------ bytes */

/*
 * Byte classes: one table load instead of a chain of compares per byte
 * (the tokenizer and the comment reader look at every byte).
 */
enum {
	C_SP = 0x01,		/* space, NUL, \t \n \v \f \r: is_sp() */
	C_STOP = 0x02,		/* ends a word: C_SP and ( ) ; " */
	C_SEP = 0x04,		/* splits a comment's words: C_SP and ( ) , */
	C_CMT = 0x08,		/* matters inside a comment: ( ) \ */
	C_ADDR = 0x10,		/* in address text: 0-9 a-f A-F . : [ ] */
	C_DIG = 0x20,		/* 0-9 */
	C_IPEND = 0x40,		/* cut from an address word's end: ).,;:>= NUL */
	C_SKIP = 0x80		/* skipped between tokens: C_SP and ) */
};

#define B_SP	(C_SP | C_STOP | C_SEP | C_SKIP)
#define B_DIG	(C_ADDR | C_DIG)

static const uint8_t cls[256] = {
	['\0'] = B_SP | C_IPEND, ['\t'] = B_SP, ['\n'] = B_SP, ['\v'] = B_SP,
	['\f'] = B_SP, ['\r'] = B_SP, [' '] = B_SP,
	['('] = C_STOP | C_SEP | C_CMT,
	[')'] = C_STOP | C_SEP | C_CMT | C_IPEND | C_SKIP,
	[';'] = C_STOP | C_IPEND, ['"'] = C_STOP, [','] = C_SEP | C_IPEND,
	['\\'] = C_CMT, ['.'] = C_IPEND | C_ADDR,
	[':'] = C_IPEND | C_ADDR, ['>'] = C_IPEND,
	['='] = C_IPEND,
	['0'] = B_DIG, ['1'] = B_DIG, ['2'] = B_DIG, ['3'] = B_DIG,
	['4'] = B_DIG, ['5'] = B_DIG, ['6'] = B_DIG, ['7'] = B_DIG,
	['8'] = B_DIG, ['9'] = B_DIG,
	['a'] = C_ADDR, ['b'] = C_ADDR, ['c'] = C_ADDR, ['d'] = C_ADDR,
	['e'] = C_ADDR, ['f'] = C_ADDR,
	['A'] = C_ADDR, ['B'] = C_ADDR, ['C'] = C_ADDR, ['D'] = C_ADDR,
	['E'] = C_ADDR, ['F'] = C_ADDR, ['['] = C_ADDR, [']'] = C_ADDR
};

#define CLS(c, m)	((cls[(unsigned char)(c)] & (m)) != 0)

/* ASCII only, as the C locale's ctype answers, without its calls. */
#define IS_DIGIT(c)	CLS(c, C_DIG)
#define IS_LOWER(c)	((c) >= 'a' && (c) <= 'z')
#define IS_UPPER(c)	((c) >= 'A' && (c) <= 'Z')
#define IS_ALPHA(c)	(IS_LOWER(c) || IS_UPPER(c))
#define IS_ALNUM(c)	(IS_ALPHA(c) || IS_DIGIT(c))

#if defined(__SSE2__)
/*
 * Bit i set when byte i of v may be of class m: exactly C_CMT's bytes;
 * for C_STOP and C_SEP every byte <= 0x20 (the table then drops the
 * controls that are no space) and their punctuation; for any other
 * class every byte.
 */
static inline __attribute__((always_inline)) unsigned
may_be16(__m128i v, uint8_t m)
{
	__m128i r;

#define EQ(c)	_mm_cmpeq_epi8(v, _mm_set1_epi8(c))
	if (m == C_CMT)
		r = _mm_or_si128(_mm_or_si128(EQ('('), EQ(')')), EQ('\\'));
	else if (m == C_STOP || m == C_SEP) {
		r = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
		r = _mm_or_si128(r, _mm_or_si128(EQ('('), EQ(')')));
		if (m == C_STOP)
			r = _mm_or_si128(r, _mm_or_si128(EQ(';'), EQ('"')));
		else
			r = _mm_or_si128(r, EQ(','));
	} else
		return 0xffff;
#undef EQ
	return (unsigned)_mm_movemask_epi8(r);
}
#endif

/* The first index from j on (n at most) whose byte is of class m (a
 * constant: inlined, the class tests fold). */
static inline __attribute__((always_inline)) size_t
span_to(const char *s, size_t j, size_t n, uint8_t m)
{
#if defined(__SSE2__)
	for (; j + 16 <= n; j += 16) {
		unsigned bits = may_be16(_mm_loadu_si128((const __m128i *)(const
		    void *)(s + j)), m);

		for (; bits != 0; bits &= bits - 1)
			if (CLS(s[j + (size_t)__builtin_ctz(bits)], m))
				return j + (size_t)__builtin_ctz(bits);
	}
#endif
	for (; j + 4 <= n; j += 4) {
		if (CLS(s[j], m))
			return j;
		if (CLS(s[j + 1], m))
			return j + 1;
		if (CLS(s[j + 2], m))
			return j + 2;
		if (CLS(s[j + 3], m))
			return j + 3;
	}
	for (; j < n; j++)
		if (CLS(s[j], m))
			return j;
	return n;
}

/* ---------------------------------------------------------------- tokens */

enum { TK_WORD, TK_COMMENT, TK_QUOTED, TK_SEMI };

struct tok {
	uint32_t off, len;	/* comment / quoted: the inside */
	uint8_t	type;
	uint8_t	glued;		/* no space before it */
	uint8_t	lead_ws;	/* comment starting with a space */
};

struct toks {
	struct tok t[ST_MAX_RECEIVED_TOKENS];
	size_t	n;
	bool	truncated;
	bool	unbalanced;	/* an unclosed '(' was seen */
	size_t	last_semi;	/* the last TK_SEMI, or SIZE_MAX */
};

static inline bool
is_sp(unsigned char c)
{
	return CLS(c, C_SP);
}

/* End of the comment opened at s[i] == '(' (index after its ')', or n). */
static size_t
comment_end(const char *s, size_t i, size_t n, size_t *inner_end)
{
	int depth = 0;

	for (; (i = span_to(s, i, n, C_CMT)) < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (s[i] == '(') {
			/* deeper than the cap: the parenthesis is text */
			if (depth < ST_MAX_COMMENT_DEPTH)
				depth++;
		} else if (s[i] == ')') {
			if (--depth == 0) {
				*inner_end = i;
				return i + 1;
			}
		}
	}
	*inner_end = n;
	return n;
}

/*
 * After one unclosed comment every later '(' is read cheaply: it ends at
 * its ')' or at the end of its first word, whichever comes first (a
 * broken "(cipher=X id Y; date" keeps its id and date).  This also keeps
 * the scan linear: no comment is searched to the end twice.
 */
static size_t
short_comment_end(const char *s, size_t i, size_t n, size_t *inner_end)
{
	size_t j = i + 1;

	while (j < n && is_sp((unsigned char)s[j]))
		j++;
	while (j < n && s[j] != ')' && !is_sp((unsigned char)s[j]))
		j++;
	*inner_end = j;
	return j < n && s[j] == ')' ? j + 1 : j;
}

static void
tokenize(const char *s, size_t i, size_t n, struct toks *tk)
{
	bool sp = true;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		struct tok *t;

		if (CLS(c, C_SKIP)) {
			sp = true;
			i++;
			continue;
		}
		if (tk->n >= ST_MAX_RECEIVED_TOKENS) {
			tk->truncated = true;
			return;
		}
		t = &tk->t[tk->n++];
		t->glued = !sp;
		t->lead_ws = 0;
		sp = false;
		if (c == '(') {
			size_t ie, e;

			if (tk->unbalanced)
				e = short_comment_end(s, i, n, &ie);
			else if ((e = comment_end(s, i, n, &ie)) == n &&
			    (ie == n)) {
				tk->unbalanced = true;
				e = short_comment_end(s, i, n, &ie);
			}

			t->type = TK_COMMENT;
			t->off = (uint32_t)(i + 1);
			t->len = (uint32_t)(ie - (i + 1));
			t->lead_ws = t->len > 0 && is_sp((unsigned char)s[i + 1]);
			i = e;
		} else if (c == '"') {
			size_t j = i + 1;

			while (j < n && s[j] != '"') {
				if (s[j] == '\\' && j + 1 < n)
					j++;
				j++;
			}
			t->type = TK_QUOTED;
			t->off = (uint32_t)(i + 1);
			t->len = (uint32_t)((j < n ? j : n) - (i + 1));
			i = j < n ? j + 1 : n;
		} else if (c == ';') {
			t->type = TK_SEMI;
			tk->last_semi = tk->n - 1;
			t->off = (uint32_t)i;
			t->len = 1;
			i++;
			sp = true;
		} else {
			size_t j = span_to(s, i, n, C_STOP);

			t->type = TK_WORD;
			t->off = (uint32_t)i;
			t->len = (uint32_t)(j - i);
			i = j;
		}
	}
}

/* ---------------------------------------------------------------- spans */

struct span {
	const char *p;
	size_t	n;
};

static inline bool
sp_eq(struct span a, const char *lit)
{
	size_t l;

	if (a.n == 0 || (a.p[0] | 0x20) != (lit[0] | 0x20))
		return lit[0] == '\0' && a.n == 0;
	l = strlen(lit);
	return a.n == l && st_ascii_ieq(a.p, lit, l);
}

static inline __attribute__((always_inline)) bool
sp_prefix(struct span a, const char *lit)
{
	size_t l = strlen(lit);

	return a.n >= l && st_ascii_ieq(a.p, lit, l);
}

/* Case-sensitive substring search (the first place), for the short
 * needles used: memchr for the first byte, then a compare. */
static inline const char *
find(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);
	const char *p = h, *e;

	if (nn == 0 || hn < nn)
		return NULL;
	e = h + (hn - nn) + 1;		/* candidates are in [h, e) */
	while ((p = memchr(p, needle[0], (size_t)(e - p))) != NULL) {
		if (memcmp(p + 1, needle + 1, nn - 1) == 0)
			return p;
		p++;
	}
	return NULL;
}

static const char *
findi(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle), i;
	unsigned char f0 = (unsigned char)needle[0] | 0x20;

	if (nn == 0 || hn < nn)
		return NULL;
	for (i = 0; i + nn <= hn; i++) {
		if (((unsigned char)h[i] | 0x20) != f0)
			continue;
		if (st_ascii_ieq(h + i, needle, nn))
			return h + i;
	}
	return NULL;
}

static struct span
tok_span(const char *s, const struct tok *t)
{
	struct span r = { s + t->off, t->len };

	return r;
}

/* strchr(set, c) != NULL without the call: the sets are literals, and,
 * as with strchr, NUL is in every set. */
static inline bool
in_set(const char *set, char c)
{
	if (c == '\0')
		return true;
	for (; *set; set++)
		if (*set == c)
			return true;
	return false;
}

/* Strip characters from both ends. */
static inline struct span
trim(struct span a, const char *lead, const char *tail)
{
	while (a.n && in_set(lead, a.p[0]))
		a.p++, a.n--;
	while (a.n && in_set(tail, a.p[a.n - 1]))
		a.n--;
	return a;
}

/* Next word inside a comment's text: split on spaces, parens, commas. */
static bool
next_word(struct span *rest, struct span *w)
{
	const char *p = rest->p, *e = rest->p + rest->n;

	while (p < e && CLS(*p, C_SEP))
		p++;
	if (p >= e) {
		rest->p = e;
		rest->n = 0;
		return false;
	}
	w->p = p;
	p += span_to(p, 0, (size_t)(e - p), C_SEP);
	w->n = (size_t)(p - w->p);
	rest->p = p;
	rest->n = (size_t)(e - p);
	return true;
}

/* ------------------------------------------------------------ addresses */

struct ipw {
	char	ip[ST_IP_TEXT];
	struct span ident;	/* "user" of user@ip */
	struct span name;	/* "NAME" of NAME[ip] */
	bool	bracket;	/* written as [ip] */
	bool	port;		/* a port was glued on */
};

/*
 * Read an address out of one word: "1.2.3.4", "[1.2.3.4]", "[1.2.3.4]:25",
 * "1.2.3.4:25", "[1.2.3.4:25]", "[1.2.3.4.25]" (port with a dot),
 * "user@1.2.3.4", "user@[1.2.3.4]", "NAME[1.2.3.4]", "[IPv6:...]",
 * "[::ffff:1.2.3.4]", "fe80::1%eth0".
 */
static bool
ip_word(struct span w, struct ipw *o)
{
	const char *at, *lb;
	struct span a;
	char buf[ST_IP_TEXT + 16];

	o->ip[0] = '\0';
	o->ident.p = o->name.p = NULL;
	o->ident.n = o->name.n = 0;
	o->bracket = o->port = false;
	/* trim(w, "", ").,;:>="); '=': a quoted-printable soft break */
	while (w.n && CLS(w.p[w.n - 1], C_IPEND))
		w.n--;
	if (w.n == 0 || w.n > 80)
		return false;
	if ((at = memchr(w.p, '@', w.n)) != NULL) {
		/* the last @: "user@domain@1.2.3.4" */
		const char *q = w.p + w.n;

		while (q > w.p && q[-1] != '@')
			q--;
		at = q - 1;
		o->ident.p = w.p;
		o->ident.n = (size_t)(at - w.p);
		w.n -= (size_t)(at + 1 - w.p);
		w.p = at + 1;
	}
	if ((lb = memchr(w.p, '[', w.n)) != NULL && lb != w.p) {
		if (o->ident.n)
			return false;
		o->name.p = w.p;
		o->name.n = (size_t)(lb - w.p);
		w.n -= (size_t)(lb - w.p);
		w.p = lb;
	}
	/* quick refusal: an address has only hex digits, dots and colons
	 * (plus brackets, an "IPv6:" prefix, a "%zone" and a ":port") */
	{
		size_t i = 0;

		if (w.n > 6 && st_ascii_ieq(w.p, "[IPv6:", 6))
			i = 6;
		else if (w.n > 5 && st_ascii_ieq(w.p, "IPv6:", 5))
			i = 5;
		while (i < w.n && CLS(w.p[i], C_ADDR))
			i++;
		if (i < w.n && w.p[i] != '%')
			return false;
	}
	a = w;
	if (a.n && a.p[0] == '[') {
		const char *rb = memchr(a.p, ']', a.n);

		o->bracket = true;
		if (rb == NULL)
			return false;
		if ((size_t)(rb + 1 - a.p) < a.n) {
			/* "[ip]:port" */
			if (rb[1] != ':')
				return false;
			o->port = true;
		}
		a.p++;
		a.n = (size_t)(rb - a.p);
	}
	if (a.n == 0 || a.n >= sizeof(buf))
		return false;
	if (st_ip_normalise(a.p, a.n, o->ip, sizeof(o->ip))) {
		/* "1.2.3.4:25" (not "::ffff:1.2.3.4", not "IPv6:...") */
		if (a.p[0] != ':' && memchr(a.p, ':', a.n) != NULL &&
		    strchr(o->ip, ':') == NULL && !sp_prefix(a, "IPv6:") &&
		    findi(a.p, a.n, "ffff:") == NULL)
			o->port = true;
		return true;
	}
	/* "a.b.c.d.port" (old Exim, some qmail): five numeric labels are no
	 * host name, the fifth is the port */
	{
		size_t i, dots = 0, last = 0;

		for (i = 0; i < a.n; i++) {
			if (a.p[i] == '.') {
				if (++dots == 4)
					last = i;
			} else if (!CLS(a.p[i], C_DIG))
				return false;
		}
		if (dots == 4 && st_ip_normalise(a.p, last, o->ip,
		    sizeof(o->ip))) {
			o->port = true;
			return true;
		}
	}
	return false;
}

static bool
is_ip_text(struct span w)
{
	struct ipw o;

	return ip_word(w, &o) && o.ident.n == 0 && o.name.n == 0;
}

/* ------------------------------------------------------------ signatures */

static const struct {
	const char *needle;
	const char *mta;
	bool	icase;
} sigs[] = {
	{ "(Postfix", "postfix", false },
	{ "(Exim ", "exim", false },
	{ "Microsoft SMTPSVC", "smtpsvc", false },
	{ "mail pickup service", "smtpsvc", true },
	{ "Microsoft SMTP Server", "exchange", false },
	{ "with mapi", "exchange", true },
	{ "Frontend Transport", "exchange", false },
	{ "Microsoft Exchange", "exchange", false },
	{ "Internet Mail Service", "exchange", false },
	{ "CommuniGate Pro", "communigate", false },
	{ "Lotus Domino", "domino", false },
	{ "(Domino", "domino", false },
	{ "MDaemon", "mdaemon", false },
	{ "(OpenSMTPD)", "opensmtpd", false },
	{ "Haraka", "haraka", false },
	{ "[XMail", "xmail", false },
	{ "ecelerity", "ecelerity", false },
	{ "ECSTREAM", "ecelerity", false },
	{ "fetchmail", "fetchmail", false },
	{ "qmail-scanner", "qmail", false },
	{ "(qmail", "qmail", false },
	{ "(AUTH: ", "courier", false },
	{ "(Courier", "courier", false },
	{ "Google Transport Security", "gmail", false },
	{ "SquirrelMail", "webmail", false },
	{ "NaSMail", "webmail", false },
	{ "(qpsmtpd", "qpsmtpd", false },
	{ "(InterMail", "intermail", false },
	{ "(iPlanet", "iplanet", false },
	{ "(Sun Java", "iplanet", false },
	{ "Oracle Communications Messaging", "iplanet", false },
	{ "(Mercury", "mercury", false },
	{ "(Merak", "icewarp", false },
	{ "IceWarp", "icewarp", false },
	{ "(Clearswift", "clearswift", false },
	{ "(LSMTP", "lsmtp", false },
	{ "(Scalix", "scalix", false },
	{ "(NAVGW", "navgw", false },
	{ "(Cyrus", "cyrus", false },
	{ "Dovecot", "dovecot", false },
	{ "DragonFly Mail Agent", "dma", false },
	{ "Novell_GroupWise", "groupwise", false },
	{ "MailEnable", "mailenable", false },
	{ "ArGoSoft", "argosoft", false },
	{ "Kerio", "kerio", false },
	{ "Zimbra", "zimbra", false },
	{ "MAILFOUNDRY", "mailfoundry", false },
	{ "PowerMTA", "powermta", false },
	{ "(SMTPL", "smtpl", false },
	{ "Smail", "smail", false },
	{ "amavisd", "amavis", false },
	{ "SpamAssassin", "spamassassin", false },
	{ "Sendmail", "sendmail", false },
	{ "SMI-", "sendmail", false },
	{ "V8/", "sendmail", false },
	{ "/Submit)", "sendmail", false },
	{ "Symantec Messaging Gateway", "symantec", false },
	{ "Brightmail", "symantec", false },
	{ "Content Technologies", "mailsweeper", false },
	{ "MailMarshal", "mailmarshal", false },
	{ "Mirapoint", "mirapoint", false },
	{ "with NNFMP", "yahoo", false },
	{ "Yahoo", "yahoo", false },
	{ "Hermes SMTP Server", "yahoo", false },
	{ "R8/cf", "sendmail", false },
	{ "Yandex", "yandex", false },
	{ "Post.Office MTA", "postoffice", false },
	{ "(Coremail)", "coremail", false },
	{ "Active!Hunter", "activehunter", false },
	{ "SurfControl", "surfcontrol", false },
	{ "Mail2000", "mail2000", false },
	{ "LiteMail", "litemail", false },
	{ "(MOS ", "mirapoint", false },
	{ "(Nemesis)", "nemesis", false },
	{ "OpenMail", "openmail", false },
	{ "(Lotus", "domino", false },
	{ "(IBM Domino", "domino", false },
	{ "(Sun Java", "iplanet", false },
	{ "(Oracle Communications", "iplanet", false },
	{ "(Mailtraq", "mailtraq", false },
	{ "hMailServer", "hmailserver", false },
	{ "(SmarterMail", "smartermail", false },
	{ "(Axigen", "axigen", false },
	{ "(Zoho", "zoho", false },
	{ "ZohoMail", "zoho", false },
	{ "(Proofpoint", "proofpoint", false },
	{ "(PGP Universal", "pgp", false },
	{ "(Barracuda", "barracuda", false },
	{ "Trend Micro", "trendmicro", false },
	{ "IronPort", "ironport", false },
	{ "(JAMES ", "james", false },
	{ "Apache JAMES", "james", false },
	{ "(Sendmail", "sendmail", false },
	{ "(Smail", "smail", false },
	{ "MailMarshal", "mailmarshal", false },
	{ "claiming to be", "smap", false },
	{ " id smtpd", "smap", false },
	{ "(authenticated as ", "criticalpath", false },
	{ "(via HTTP", "webmail", false },
};

/* Services known by the receiving host's domain. */
#define HS(d, m)	{ d, sizeof(d) - 1, m }
static const struct {
	const char *domain;
	size_t	len;
	const char *mta;
} hostsigs[] = {
	HS("google.com", "gmail"), HS("googlemail.com", "gmail"),
	HS("gmail.com", "gmail"), HS("yahoo.com", "yahoo"),
	HS("yahoo.co.jp", "yahoo"), HS("yahoodns.net", "yahoo"),
	HS("aol.com", "aol"), HS("messagelabs.com", "messagelabs"),
	HS("amazonaws.com", "amazonses"), HS("amazonses.com", "amazonses"),
	HS("outlook.com", "exchange"), HS("hotmail.com", "exchange"),
	HS("exchangelabs.com", "exchange"), HS("mail.ru", "mailru"),
	HS("yandex.net", "yandex"), HS("yandex.ru", "yandex"),
	HS("zohomail.com", "zoho"), HS("zoho.com", "zoho"),
	HS("gmx.net", "gmx"), HS("gmx.com", "gmx"), HS("web.de", "gmx"),
	HS("icloud.com", "icloud"), HS("me.com", "icloud"),
};

/* Other words looked for anywhere in the line.  Most also serve as a
 * quick "not in this line" answer before a search inside one comment. */
enum mark { MK_EXIM, MK_VIA_HTTP, MK_MICROSOFT, MK_PICKUP, MK_USERID,
	MK_QSCANNER, MK_FETCHMAIL, MK_STDIN, MK_UNIXSOCK, MK_UNIXLOCAL,
	MK_VERSION, MK_AUTHYES, MK_ENVELOPE, MK_RETPATH, MK_AUTHED,
	MK_CIPHER, MK_QEHLO, MK_QHELO, MK_HELOEQ, MK_IDENTEQ, MK_UID,
	MK_ENCRYPTED, MK_TRANSPORT, MK_N };
static const struct {
	const char *needle;
	bool	icase;
} marks[MK_N] = {
	[MK_EXIM] = { "Exim", false },
	[MK_VIA_HTTP] = { "via HTTP", false },
	[MK_MICROSOFT] = { "microsoft", true },
	[MK_PICKUP] = { "mail pickup service", true },
	[MK_USERID] = { "from userid ", false },
	[MK_QSCANNER] = { "qmail-scanner", false },
	[MK_FETCHMAIL] = { "fetchmail", false },
	[MK_STDIN] = { "from stdin", false },
	[MK_UNIXSOCK] = { "[unix socket]", false },
	[MK_UNIXLOCAL] = { "UNIX: localhost", false },
	[MK_VERSION] = { "(version=", false },
	[MK_AUTHYES] = { "auth=yes", false },
	/* prefilters: each is part of (or, ignoring case, equal to) what
	 * the comment readers look for */
	[MK_ENVELOPE] = { "envelope-", true },
	[MK_RETPATH] = { "return-path", true },
	[MK_AUTHED] = { "authenticated", true },
	[MK_CIPHER] = { "cipher", true },
	[MK_QEHLO] = { "\"EHLO ", false },
	[MK_QHELO] = { "\"HELO ", false },
	[MK_HELOEQ] = { "helo=", true },
	[MK_IDENTEQ] = { "ident=", true },
	[MK_UID] = { "from uid ", false },
	[MK_ENCRYPTED] = { "encrypted", false },
	[MK_TRANSPORT] = { "Transport Security", false },
};

#define NSIGS	(sizeof(sigs) / sizeof(sigs[0]))
#define NNEEDLE	(NSIGS + MK_N)

/*
 * All needles are found in one pass over the line.  A needle of QLONG or
 * more bytes holds the 4-byte windows at its offsets 0 and 1, and one of
 * them starts at an even position: so only every second position's
 * window is looked up (its four bytes with ASCII case folded, hashed).
 * Each needle's two windows are entered in the table with their offset;
 * a window found gives the needle's start directly, and the needle is
 * then compared in full.  The few shorter needles are searched one by
 * one.
 */
#define QLONG	5
#define QBITS	13

struct nent {
	uint32_t win;		/* the folded window */
	uint16_t next;		/* 1 + the next entry of the same hash */
	uint8_t	k;		/* the needle */
	uint8_t	off;		/* the window's offset in it */
};

static struct {
	uint16_t head[1u << QBITS];	/* 1 + the first entry of a hash */
	struct nent e[2 * NNEEDLE];
	size_t	ne;
	uint8_t	len[NNEEDLE];
	uint32_t last4[NNEEDLE];	/* its last 4 bytes (folded if icase) */
	uint16_t shortk[NNEEDLE];	/* the needles shorter than QLONG */
	uint8_t	anchor[NNEEDLE];	/* short_anchor() of each */
	size_t	nshort;
} nt;
static pthread_once_t nt_once = PTHREAD_ONCE_INIT;
_Static_assert(NNEEDLE <= 255, "needle numbers fit struct nent's k");

static const char *
needle_s(size_t k)
{
	return k < NSIGS ? sigs[k].needle : marks[k - NSIGS].needle;
}

static bool
needle_icase(size_t k)
{
	return k < NSIGS ? sigs[k].icase : marks[k - NSIGS].icase;
}

static inline uint32_t
load4(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Folding sets bit 5 of every byte: bytes equal ignoring ASCII case stay
 * equal (a few others become equal too; the full compare sorts them). */
#define FOLD4(v)	((v) | 0x20202020u)

static inline unsigned
qhash(uint32_t folded)
{
	return (unsigned)((folded * 2654435761u) >> (32 - QBITS));
}

/*
 * The byte of a short needle to look for with memchr: an upper-case
 * letter if it has one, but not of "SMTP"/"ESMTP" that fill every line
 * ("SMI-" is looked for by its 'I'); else the first byte.
 */
static size_t
short_anchor(const char *nd, size_t l)
{
	size_t m;

	for (m = 0; m < l; m++)
		if (nd[m] >= 'A' && nd[m] <= 'Z' && strchr("ESMTP", nd[m]) ==
		    NULL)
			return m;
	return 0;
}

#define NHOST		(sizeof(hostsigs) / sizeof(hostsigs[0]))
#define HOSTLEN_MAX	32

/* hostsigs by length: hl.idx[hl.start[l] .. hl.start[l + 1]); built with
 * the needle table (scan_marks runs before guess_mta).  The domains are
 * shorter than HOSTLEN_MAX. */
static struct {
	uint8_t	idx[NHOST];
	uint8_t	start[HOSTLEN_MAX + 1];
} hl;

static void	wl_init(void);

static void
nt_init(void)
{
	size_t k, o;

	wl_init();
	for (k = 0; k < NHOST; k++)
		if (hostsigs[k].len < HOSTLEN_MAX)
			hl.start[hostsigs[k].len + 1]++;
	for (k = 1; k <= HOSTLEN_MAX; k++)
		hl.start[k] += hl.start[k - 1];
	{
		uint8_t fill[HOSTLEN_MAX];

		memcpy(fill, hl.start, sizeof(fill));
		for (k = 0; k < NHOST; k++)
			if (hostsigs[k].len < HOSTLEN_MAX)
				hl.idx[fill[hostsigs[k].len]++] = (uint8_t)k;
	}

	for (k = 0; k < NNEEDLE; k++) {
		const char *nd = needle_s(k);
		size_t l = strlen(nd);

		nt.len[k] = (uint8_t)l;
		if (l < QLONG) {
			nt.anchor[k] = (uint8_t)short_anchor(nd, l);
			nt.shortk[nt.nshort++] = (uint16_t)k;
			continue;
		}
		nt.last4[k] = load4(nd + l - 4);
		if (needle_icase(k))
			nt.last4[k] = FOLD4(nt.last4[k]);
		for (o = 0; o < 2; o++) {
			struct nent *e = &nt.e[nt.ne];
			unsigned h;

			e->win = FOLD4(load4(nd + o));
			e->k = (uint8_t)k;
			e->off = (uint8_t)o;
			h = qhash(e->win);
			e->next = nt.head[h];
			nt.head[h] = (uint16_t)++nt.ne;
		}
	}
}

/* Is needle k, l bytes long, at s[j]?  Its last 4 bytes first: the
 * window that led here was one of its first 5. */
static inline bool
needle_at(const char *s, size_t j, size_t k, size_t l)
{
	const char *nd = needle_s(k);
	uint32_t t = load4(s + j + l - 4);

	if (needle_icase(k))
		return FOLD4(t) == nt.last4[k] && st_ascii_ieq(s + j, nd, l);
	return t == nt.last4[k] && memcmp(s + j, nd, l - 4) == 0;
}

/* The window at s[i] (folded: f) is in the table: its needles. */
static void
window_hit(const char *s, size_t n, size_t i, uint32_t f, unsigned e1,
    uint8_t *hit)
{
	for (; e1 != 0; e1 = nt.e[e1 - 1].next) {
		const struct nent *e = &nt.e[e1 - 1];
		size_t j, l;

		if (e->win != f || i < e->off || hit[e->k])
			continue;
		j = i - e->off;
		l = nt.len[e->k];
		if (l <= n - j && needle_at(s, j, e->k, l))
			hit[e->k] = 1;
	}
}

/* Is the short needle nd[0..l) in s[0..n)?  a: its anchor byte. */
static bool
has_short(const char *s, size_t n, const char *nd, size_t l, size_t a,
    bool icase)
{
	const char *p, *e;

	if (icase)
		return st_ascii_memcasemem(s, n, nd, l) != NULL;
	if (n < l)
		return false;
	/* the anchor of a needle at start j is at j + a, j <= n - l */
	p = s + a;
	e = s + (n - l) + a + 1;
	while (p < e && (p = memchr(p, nd[a], (size_t)(e - p))) != NULL) {
		if (memcmp(p - a, nd, l) == 0)
			return true;
		p++;
	}
	return false;
}

static void
scan_marks(const char *s, size_t n, uint8_t *hit)
{
	size_t i;

	(void)pthread_once(&nt_once, nt_init);
	memset(hit, 0, NNEEDLE);
	/* the windows at even i, i + 4 <= n; two a turn */
	for (i = 0; n >= 6 && i <= n - 6; i += 4) {
		uint32_t f0 = FOLD4(load4(s + i)), f1 = FOLD4(load4(s + i + 2));
		unsigned e0 = nt.head[qhash(f0)], e1 = nt.head[qhash(f1)];

		if (e0 != 0)
			window_hit(s, n, i, f0, e0, hit);
		if (e1 != 0)
			window_hit(s, n, i + 2, f1, e1, hit);
	}
	if (i + 4 <= n) {
		uint32_t f0 = FOLD4(load4(s + i));
		unsigned e0 = nt.head[qhash(f0)];

		if (e0 != 0)
			window_hit(s, n, i, f0, e0, hit);
	}
	for (i = 0; i < nt.nshort; i++) {
		size_t k = nt.shortk[i];

		if (has_short(s, n, needle_s(k), nt.len[k], nt.anchor[k],
		    needle_icase(k)))
			hit[k] = 1;
	}
}

#define MARK(x, m)	((x)->hit[NSIGS + (m)] != 0)

/* ------------------------------------------------------------- the hop */

enum ipform { F_NONE, F_RDNS, F_BRACKET, F_BARE, F_PORTED, F_WORD, F_SELF,
	F_OTHER };

struct st {
	const char *s;
	size_t	n;

	/* clauses: token index ranges [a, b) */
	int	from_a, from_b, by_a, by_b, with_a, with_b, id_t, for_t, via_t;
	int	tail_id;		/* "id X" after the date */
	unsigned with_words;		/* WW_*: with_clause() */
	size_t	clause_end;		/* tokens past this are the date */

	/* from clause */
	struct span w;			/* the first word */
	struct span helo_claim;
	bool	have_helo_claim, helo_comment, exim_helo, glued_ip;
	bool	lead_ws, verified, unverified, cg_account, webmail_user;
	struct ipw ipw;
	enum ipform form;
	struct span rdns_name;
	struct span name_comment;	/* "(name)": no address in it */
	struct span rdns_noip;		/* "(name [xxx])": masked address */
	struct span ident;

	/* results */
	struct span rdns, helo, by, id, with, for_, envfrom, ident_out;
	const char *auth;
	struct span auth_sp;
	char	ip[ST_IP_TEXT];
	bool	tls, local, rdns_unverified, ip_from_helo, paren_from;
	bool	with_proto;		/* with is a word of protos[] */
	const char *mta;

	/* not cleared: */
	uint8_t	hit[NNEEDLE];		/* needles seen (scan_marks clears) */
	struct toks tk;			/* cleared up to its count */
};

static bool
kw(const struct st *x, const struct tok *t, const char *k)
{
	return t->type == TK_WORD && sp_eq(tok_span(x->s, t), k);
}

/* Find the date: after the last top-level ';' (or a trailing date with no
 * semicolon); returns the token index where the date starts. */
static void
find_date(struct st *x, struct st_hop *hop)
{
	size_t i, semi;
	const struct tok *t = x->tk.t;

	x->clause_end = x->tk.n;
	semi = x->tk.last_semi;
	if (semi != SIZE_MAX && !x->tk.truncated) {
		size_t a = semi + 1, j;
		const char *p;

		if (a >= x->tk.n) {
			x->clause_end = semi;
			return;
		}
		p = x->s + t[a].off - (t[a].type == TK_COMMENT ||
		    t[a].type == TK_QUOTED);
		if (st_date_parse(p, (size_t)(x->s + x->n - p), &hop->date)) {
			hop->has_date = true;
			x->clause_end = semi;
			/* "; date id X" (Courier) */
			for (j = a; j + 1 < x->tk.n; j++)
				if (kw(x, &t[j], "id") &&
				    t[j + 1].type == TK_WORD) {
					x->tail_id = (int)j + 1;
					break;
				}
			return;
		}
		/* "; date id X" (Courier) */
		for (j = a + 1; j < x->tk.n; j++)
			if (kw(x, &t[j], "id") && st_date_parse(p,
			    (size_t)(x->s + t[j].off - p), &hop->date)) {
				hop->has_date = true;
				x->clause_end = semi;
				if (j + 1 < x->tk.n &&
				    t[j + 1].type == TK_WORD)
					x->tail_id = (int)j + 1;
				return;
			}
		x->clause_end = semi;
	}
	/* no semicolon: a date at the end ("id X Fri, 28 Nov 2014 ...") */
	{
		size_t tries = 0, from = x->tk.n > 12 ? x->tk.n - 12 : 0;

		if (semi != SIZE_MAX && semi + 1 >= from)
			from = semi + 1;
		for (i = from; i < x->tk.n && tries < 4; i++) {
			struct span w = tok_span(x->s, &t[i]);
			static const char *const days[] = { "Mon", "Tue",
			    "Wed", "Thu", "Fri", "Sat", "Sun" };
			size_t d;
			bool cand = false;

			if (t[i].type != TK_WORD)
				continue;
			for (d = 0; d < 7; d++)
				if (sp_prefix(w, days[d]) && (w.n == 3 ||
				    (w.n == 4 && w.p[3] == ',')))
					cand = true;
			if (!cand && w.n <= 2 && IS_DIGIT((unsigned char)w.p[0]) &&
			    i + 1 < x->tk.n && t[i + 1].len == 3 &&
			    IS_ALPHA((unsigned char)x->s[t[i + 1].off]))
				cand = true;
			if (!cand)
				continue;
			tries++;
			if (st_date_parse(w.p, (size_t)(x->s + x->n - w.p),
			    &hop->date)) {
				hop->has_date = true;
				if (i < x->clause_end)
					x->clause_end = i;
				return;
			}
		}
	}
}

enum { KW_NONE, KW_FROM, KW_BY, KW_WITH, KW_ID, KW_FOR, KW_VIA,
	KW_ENVELOPE };

/* Which clause word w is (ASCII case ignored), told by its length. */
static int
clause_word(struct span w)
{
	switch (w.n) {
	case 2:
		return st_ascii_ieq(w.p, "by", 2) ? KW_BY :
		    st_ascii_ieq(w.p, "id", 2) ? KW_ID : KW_NONE;
	case 3:
		return st_ascii_ieq(w.p, "for", 3) ? KW_FOR :
		    st_ascii_ieq(w.p, "via", 3) ? KW_VIA : KW_NONE;
	case 4:
		return st_ascii_ieq(w.p, "from", 4) ? KW_FROM :
		    st_ascii_ieq(w.p, "with", 4) ? KW_WITH : KW_NONE;
	case 13:
		return st_ascii_ieq(w.p, "envelope-from", 13) ? KW_ENVELOPE :
		    KW_NONE;
	case 15:
		return st_ascii_ieq(w.p, "envelope-sender", 15) ?
		    KW_ENVELOPE : KW_NONE;
	}
	return KW_NONE;
}

/* Split the tokens before the date into clauses. */
static void
clauses(struct st *x)
{
	const struct tok *t = x->tk.t;
	size_t i;
	int *cur_b = NULL;
	int nfrom = 0, nby = 0;

	for (i = 0; i < x->clause_end; i++) {
		struct span w;
		int k;

		if (t[i].type != TK_WORD)
			continue;
		w = tok_span(x->s, &t[i]);
		if ((k = clause_word(w)) == KW_NONE)
			continue;
		if (k == KW_FROM) {
			if (cur_b)
				*cur_b = (int)i;
			cur_b = NULL;
			if (nfrom++ == 0 && nby == 0) {
				x->from_a = (int)i + 1;
				cur_b = &x->from_b;
			} else if (x->envfrom.n == 0 && i + 1 < x->clause_end &&
			    t[i + 1].type == TK_WORD && (memchr(x->s +
			    t[i + 1].off, '@', t[i + 1].len) || (t[i + 1].len ==
			    2 && x->s[t[i + 1].off] == '<'))) {
				/* XMail: "... for <rcpt> from <sender>" */
				x->envfrom = tok_span(x->s, &t[i + 1]);
			}
		} else if (k == KW_BY) {
			if (nby++ == 0) {
				if (cur_b)
					*cur_b = (int)i;
				x->by_a = (int)i + 1;
				cur_b = &x->by_b;
			} else {
				if (cur_b)
					*cur_b = (int)i;
				cur_b = NULL;
				if (i + 1 < x->clause_end &&
				    kw(x, &t[i + 1], "uid"))
					x->local = true;
			}
		} else if (k == KW_WITH) {
			if (cur_b)
				*cur_b = (int)i;
			cur_b = NULL;
			if (x->with_a < 0) {
				x->with_a = (int)i + 1;
				cur_b = &x->with_b;
			}
		} else if (k == KW_ID || k == KW_FOR || k == KW_VIA) {
			int *slot = k == KW_ID ? &x->id_t : k == KW_FOR ?
			    &x->for_t : &x->via_t;

			if (cur_b)
				*cur_b = (int)i;
			cur_b = NULL;
			if (*slot < 0 && i + 1 < x->clause_end &&
			    t[i + 1].type == TK_WORD)
				*slot = (int)i + 1;
		} else if (k == KW_ENVELOPE && x->envfrom.n == 0 &&
		    i + 1 < x->clause_end && t[i + 1].type == TK_WORD) {
			x->envfrom = tok_span(x->s, &t[i + 1]);
		}
	}
	if (cur_b)
		*cur_b = (int)x->clause_end;
}

/* A comment inside the from clause. */
static void
from_comment(struct st *x, const struct tok *t)
{
	struct span c = tok_span(x->s, t), rest = c, after0, w0, w1, w;
	struct ipw o;
	int k;
	const char *q;

	if (!next_word(&rest, &w0))
		return;
	after0 = rest;			/* the comment after its first word */
	if (sp_eq(w0, "HELO") || sp_eq(w0, "EHLO") || sp_eq(w0, "LHLO")) {
		if (!x->have_helo_claim) {
			struct span r2 = rest;

			x->have_helo_claim = true;
			x->helo_claim.p = "";
			x->helo_claim.n = 0;
			/* the rest of the comment up to a space */
			while (r2.n && is_sp((unsigned char)*r2.p))
				r2.p++, r2.n--;
			if (r2.n) {
				size_t j = 0;

				while (j < r2.n && !is_sp((unsigned char)
				    r2.p[j]))
					j++;
				x->helo_claim.p = r2.p;
				x->helo_claim.n = j;
			}
		}
		x->helo_comment = true;
		return;
	}
	if (sp_eq(w0, "account")) {
		x->cg_account = true;
		while (next_word(&rest, &w))
			if ((sp_eq(w, "HELO") || sp_eq(w, "EHLO")) &&
			    next_word(&rest, &w1) && !x->have_helo_claim) {
				x->have_helo_claim = true;
				x->helo_claim = w1;
			}
		return;
	}
	if (sp_eq(w0, "AUTH:")) {
		if (x->auth == NULL) {
			x->auth = "AUTH";
			if (next_word(&rest, &w1))
				x->auth_sp = w1, x->auth = "";
		}
		if (find(c.p, c.n, "TLS") || find(c.p, c.n, "SSL"))
			x->tls = true;
		return;
	}
	if (MARK(x, MK_AUTHED) &&
	    (q = findi(c.p, c.n, "authenticated")) != NULL) {
		bool neg = (q - c.p >= 4 && st_ascii_ieq(q - 4, "not ", 4)) ||
		    (q - c.p >= 2 && st_ascii_ieq(q - 2, "un", 2));

		if (find(c.p, c.n, "SquirrelMail authenticated") ||
		    find(c.p, c.n, "NaSMail authenticated"))
			x->webmail_user = true;
		if (!neg && x->auth == NULL)
			x->auth = find(c.p, c.n, "Authenticated sender:") ?
			    "Postfix" : "Sendmail";
		return;
	}
	if (sp_eq(w0, "using") || (MARK(x, MK_CIPHER) &&
	    find(c.p, c.n, "cipher"))) {
		x->tls = true;
		return;
	}
	if (sp_prefix(w0, "envelope-") || sp_prefix(w0, "return-path")) {
		return;		/* read by the envelope pass */
	}
	if (sp_eq(w0, "may") && find(c.p, c.n, "forged")) {
		x->unverified = true;
		return;
	}
	/* '([ip]:port "EHLO name")' (Sun / Oracle Messaging Server) */
	if (!x->have_helo_claim && ((MARK(x, MK_QEHLO) &&
	    (q = find(c.p, c.n, "\"EHLO ")) != NULL) || (MARK(x, MK_QHELO) &&
	    (q = find(c.p, c.n, "\"HELO ")) != NULL))) {
		const char *e = c.p + c.n, *h = q + 6;
		size_t j = 0;

		while (h + j < e && h[j] != '"' && !is_sp((unsigned char)h[j]))
			j++;
		x->have_helo_claim = true;
		x->helo_claim.p = h;
		x->helo_claim.n = j;
	}
	/* helo= / ident= (Exim, ecelerity) */
	if ((MARK(x, MK_HELOEQ) && findi(c.p, c.n, "helo=")) ||
	    (MARK(x, MK_IDENTEQ) && findi(c.p, c.n, "ident="))) {
		rest = c;
		while (next_word(&rest, &w)) {
			if (sp_prefix(w, "helo=")) {
				x->have_helo_claim = true;
				x->exim_helo = true;
				x->helo_claim.p = w.p + 5;
				x->helo_claim.n = w.n - 5;
			} else if (sp_prefix(w, "ident=")) {
				x->ident.p = w.p + 6;
				x->ident.n = w.n - 6;
			} else if (x->form == F_NONE && ip_word(w, &o) &&
			    o.name.n == 0) {
				x->ipw = o;
				x->form = F_BRACKET;
			}
		}
		return;
	}
	/* the address forms, in the first three words */
	rest = after0;
	w = w0;
	for (k = 0; k < 3; k++) {
		if (k > 0 && !next_word(&rest, &w))
			break;
		if (!ip_word(w, &o))
			continue;
		if (x->form != F_NONE) {
			/* a second address: only the verification word */
			break;
		}
		x->ipw = o;
		x->lead_ws = t->lead_ws;
		x->glued_ip = t->glued;
		if (k == 0 && o.name.n) {
			x->form = F_RDNS;
			x->rdns_name = o.name;
		} else if (k == 0) {
			x->form = o.port ? F_PORTED : o.bracket ? F_BRACKET :
			    F_BARE;
			if (o.ident.n)
				x->ident = o.ident;
		} else if (k == 1) {
			struct span nm = w0;

			x->form = F_RDNS;
			if (sp_prefix(nm, "IDENT:"))
				nm.p += 6, nm.n -= 6;
			if ((q = memchr(nm.p, '@', nm.n)) != NULL) {
				x->ident.p = nm.p;
				x->ident.n = (size_t)(q - nm.p);
				nm.n -= (size_t)(q + 1 - nm.p);
				nm.p = q + 1;
			}
			x->rdns_name = nm;
		} else if (o.bracket) {
			x->form = F_OTHER;
		} else
			break;
		while (next_word(&rest, &w1)) {
			if (sp_eq(w1, "verified"))
				x->verified = true;
			else if (sp_eq(w1, "unverified") || sp_eq(w1,
			    "forged") || sp_eq(w1, "failed"))
				x->unverified = true;
		}
		return;
	}
	if (x->form != F_NONE)
		return;
	/* no address in this comment: look at its first two words */
	rest = after0;
	if (!next_word(&rest, &w1))
		w1.n = 0, w1.p = "";
	if (sp_eq(w0, "unverified") || sp_eq(w0, "softdnserr"))
		x->unverified = true;
	else if (w1.n > 2 && w1.p[0] == '[' && memchr(w0.p, '.', w0.n) &&
	    memchr(w0.p, '@', w0.n) == NULL && x->rdns_noip.n == 0)
		x->rdns_noip = w0;	/* "(name [xxx.xxx])" */
	else if (w0.n == c.n && memchr(w0.p, '.', w0.n) &&
	    x->name_comment.n == 0)
		x->name_comment = w0;	/* "(name)" */
	if (sp_eq(w0, "localhost") || (w0.n > 10 && st_ascii_ieq(w0.p +
	    w0.n - 10, "@localhost", 10)) || sp_eq(w0, "[local]") ||
	    sp_eq(w1, "[local]"))
		x->local = true;
}

static void
from_clause(struct st *x)
{
	const struct tok *t = x->tk.t;
	int i, a = x->from_a, b = x->from_b;
	struct ipw o;

	if (a < 0)
		return;
	if (a < b && t[a].type == TK_WORD) {
		x->w = tok_span(x->s, &t[a]);
		a++;
		/* "from mail pickup service by": no client name */
		if (sp_eq(x->w, "mail") && a + 1 < b &&
		    kw(x, &t[a], "pickup") && kw(x, &t[a + 1], "service")) {
			x->w.n = 0;
			a += 2;
		}
	}
	for (i = a; i < b; i++) {
		if (t[i].type == TK_COMMENT) {
			from_comment(x, &t[i]);
		} else if (t[i].type == TK_WORD) {
			struct span w = tok_span(x->s, &t[i]);

			if (sp_eq(w, "claiming")) {
				int j;

				/* smap: 'claiming to be "name"' */
				for (j = i + 1; j < b && j <= i + 3; j++)
					if (t[j].type == TK_QUOTED) {
						x->have_helo_claim = true;
						x->helo_claim =
						    tok_span(x->s, &t[j]);
						break;
					}
			} else if (x->form == F_NONE && ip_word(w, &o) &&
			    o.name.n == 0 && o.ident.n == 0) {
				x->ipw = o;
				x->form = F_WORD;
			}
		}
	}
	if (x->form == F_NONE && x->w.n && ip_word(x->w, &o) &&
	    o.name.n == 0 && o.ident.n == 0) {
		x->ipw = o;
		x->form = F_SELF;
	}
}

/* The with clause's words asked about later, found once by with_clause. */
enum { WW_MAPI = 1, WW_HTTP = 2, WW_HTTPS = 4, WW_HTTPU = 8, WW_ESMTPS = 16 };

static unsigned
with_word(struct span w)
{
	switch (w.n) {
	case 4:
		return st_ascii_ieq(w.p, "mapi", 4) ? WW_MAPI :
		    st_ascii_ieq(w.p, "HTTP", 4) ? WW_HTTP : 0;
	case 5:
		return st_ascii_ieq(w.p, "HTTPS", 5) ? WW_HTTPS :
		    st_ascii_ieq(w.p, "HTTPU", 5) ? WW_HTTPU : 0;
	case 6:
		return st_ascii_ieq(w.p, "ESMTPS", 6) ? WW_ESMTPS : 0;
	}
	return 0;
}

/* Is word (WW_*) one of the with clause's words? */
#define with_has(x, ww)	(((x)->with_words & (ww)) != 0)

/* Is the last word of the with clause SMTP/QMQP (qmail's layout)? */
static bool
qmail_shape(const struct st *x)
{
	int i, last = -1;

	if (x->id_t >= 0)
		return false;
	for (i = x->with_a; i >= 0 && i < x->with_b; i++)
		if (x->tk.t[i].type == TK_WORD)
			last = i;
	if (last < 0)
		return false;
	{
		struct span w = tok_span(x->s, &x->tk.t[last]);

		return (w.n == 4 && memcmp(w.p, "SMTP", 4) == 0) ||
		    (w.n == 4 && memcmp(w.p, "QMQP", 4) == 0);
	}
}

/*
 * A word list, looked up through an index by length built once (the
 * lookup answers yes or no: the order of the words does not matter).
 * Words of WL_LONG bytes or more share the last bucket.
 */
struct word {
	const char *s;
	size_t	n;
};

#define WL_LONG	16

struct wlist {
	const struct word *w;		/* ends with { NULL, 0 } */
	uint8_t	start[WL_LONG + 2];	/* bucket l: idx[start[l]..start[l+1]) */
	uint8_t	idx[64];
};
#define WD(lit)	{ lit, sizeof(lit) - 1 }

static const struct word auth_protos[] = { WD("ESMTPA"), WD("ESMTPSA"),
    WD("LMTPA"), WD("LMTPSA"), WD("UTF8SMTPA"), WD("UTF8SMTPSA"),
    WD("UTF8LMTPA"), WD("UTF8LMTPSA"), WD("ASMTP"), WD("HTTP"), WD("HTTPS"),
    WD("HTTPU"), { NULL, 0 } };
static const struct word protos[] = { WD("SMTP"), WD("ESMTP"), WD("ESMTPS"),
    WD("ESMTPA"), WD("ESMTPSA"), WD("LMTP"), WD("LMTPA"), WD("LMTPS"),
    WD("LMTPSA"), WD("UTF8SMTP"), WD("UTF8SMTPA"), WD("UTF8SMTPS"),
    WD("UTF8SMTPSA"), WD("UTF8LMTP"), WD("UTF8LMTPA"), WD("UTF8LMTPS"),
    WD("UTF8LMTPSA"), WD("ASMTP"), WD("SMTPS"), WD("SMTPSA"), WD("HTTP"),
    WD("HTTPS"), WD("HTTPU"), WD("QMQP"), WD("POP3"), WD("IMAP"), WD("IMAP4"),
    WD("BSMTP"), WD("LOCAL"), WD("ECSTREAM"), WD("MAPI"), WD("NNFMP"),
    WD("HTTPREST"), { NULL, 0 } };

_Static_assert(sizeof(protos) / sizeof(protos[0]) <= 64 &&
    sizeof(auth_protos) / sizeof(auth_protos[0]) <= 64,
    "struct wlist's idx[] holds every word");
static struct wlist protos_l = { .w = protos },
    auth_protos_l = { .w = auth_protos };

static void
wl_index(struct wlist *x)
{
	uint8_t fill[WL_LONG + 1];
	size_t k, b;

	for (k = 0; x->w[k].s && k < sizeof(x->idx); k++) {
		b = x->w[k].n < WL_LONG ? x->w[k].n : WL_LONG;
		x->start[b + 1]++;
	}
	for (b = 1; b < sizeof(x->start); b++)
		x->start[b] += x->start[b - 1];
	memcpy(fill, x->start, sizeof(fill));
	for (k = 0; x->w[k].s && k < sizeof(x->idx); k++) {
		b = x->w[k].n < WL_LONG ? x->w[k].n : WL_LONG;
		x->idx[fill[b]++] = (uint8_t)k;
	}
}

/* Called once by nt_init: scan_marks() runs before any lookup. */
static void
wl_init(void)
{
	wl_index(&protos_l);
	wl_index(&auth_protos_l);
}

static bool
in_list(struct span w, struct wlist *l)
{
	size_t b = w.n < WL_LONG ? w.n : WL_LONG, h;
	for (h = l->start[b]; h < l->start[b + 1]; h++) {
		const struct word *e = &l->w[l->idx[h]];

		if (e->n == w.n && st_ascii_ieq(w.p, e->s, w.n))
			return true;
	}
	return false;
}

static void
with_clause(struct st *x)
{
	int i;
	struct span first = { NULL, 0 }, best = { NULL, 0 };

	for (i = x->with_a; i >= 0 && i < x->with_b; i++) {
		const struct tok *t = &x->tk.t[i];
		struct span w = tok_span(x->s, t);

		if (t->type == TK_COMMENT) {
			if (find(w.p, w.n, "TLS") || find(w.p, w.n, "SSL") ||
			    (MARK(x, MK_CIPHER) && findi(w.p, w.n, "cipher")) ||
			    (MARK(x, MK_ENCRYPTED) &&
			    find(w.p, w.n, "encrypted")) ||
			    (MARK(x, MK_TRANSPORT) &&
			    find(w.p, w.n, "Transport Security")))
				x->tls = true;
			continue;
		}
		if (t->type != TK_WORD)
			continue;
		x->with_words |= with_word(w);
		if (sp_eq(w, "encrypted"))
			x->tls = true;
		if (first.p == NULL)
			first = w;
		if (best.p == NULL && in_list(w, &protos_l))
			best = w;
		if (best.p == NULL && sp_prefix(w, "SMTPSVC")) {
			best = w;	/* "Microsoft SMTPSVC(6.0...)" */
			best.n = 4;
		}
	}
	x->with = best.p ? best : first;
	/* a word of protos (the first word was looked up if no best) */
	x->with_proto = best.p != NULL;
	if (x->with.p == NULL && x->via_t >= 0) {
		struct span v = tok_span(x->s, &x->tk.t[x->via_t]);

		if (in_list(v, &protos_l))
			x->with = v, x->with_proto = true;
	}
	if (x->with.p) {
		struct span w = x->with;

		if (sp_prefix(w, "ESMTPS") || sp_prefix(w, "LMTPS") ||
		    sp_prefix(w, "UTF8SMTPS") || sp_prefix(w, "UTF8LMTPS") ||
		    sp_eq(w, "SMTPS") || sp_eq(w, "SMTPSA") ||
		    sp_eq(w, "HTTPS"))
			x->tls = true;
	}
	/* authentication recorded in the protocol word (RFC 3848) */
	for (i = x->with_a; i >= 0 && i < x->with_b && x->by_a >= 0; i++) {
		const struct tok *t = &x->tk.t[i];

		if (t->type == TK_WORD && in_list(tok_span(x->s, t),
		    &auth_protos_l)) {
			x->auth_sp = tok_span(x->s, t);
			x->auth = "";
			break;
		}
		if (t->type == TK_WORD)
			break;		/* only the first word counts */
	}
}

/* Envelope sender anywhere in comments or as "envelope-from <x>". */
static void
envelope(struct st *x)
{
	size_t i;

	/* every word looked for holds one of these */
	if (!MARK(x, MK_ENVELOPE) && !MARK(x, MK_RETPATH))
		i = x->tk.n;
	else
		i = 0;
	for (; i < x->tk.n && x->envfrom.n == 0; i++) {
		const struct tok *t = &x->tk.t[i];
		struct span c = tok_span(x->s, t), rest, w;

		if (t->type != TK_COMMENT)
			continue;
		rest = c;
		while (next_word(&rest, &w)) {
			if (sp_eq(w, "envelope-from") || sp_eq(w,
			    "envelope-sender") || sp_eq(w, "return-path") ||
			    sp_eq(w, "return-path:")) {
				if (next_word(&rest, &w))
					x->envfrom = w;
				break;
			}
			if (sp_prefix(w, "envelope-from=") ||
			    sp_prefix(w, "envelope-sender=")) {
				const char *eq = memchr(w.p, '=', w.n);

				x->envfrom.p = eq + 1;
				x->envfrom.n = (size_t)(w.p + w.n - eq - 1);
				break;
			}
		}
	}
	if (x->envfrom.p)
		x->envfrom = trim(x->envfrom, "<", ">,;)");
}

/* Comments after the by host: auth markers and local markers. */
static void
by_comments(struct st *x)
{
	size_t i;

	for (i = (size_t)(x->by_a >= 0 ? x->by_a : 0); x->by_a >= 0 &&
	    i < x->clause_end; i++) {
		const struct tok *t = &x->tk.t[i];
		struct span c = tok_span(x->s, t);

		if (t->type != TK_COMMENT)
			continue;
		if (MARK(x, MK_AUTHED) && x->auth == NULL &&
		    find(c.p, c.n, "authenticated as "))
			x->auth = "CriticalPath";
		if ((MARK(x, MK_USERID) && find(c.p, c.n, "from userid ")) ||
		    (MARK(x, MK_UID) && find(c.p, c.n, "from uid ")))
			x->local = true;
		if (MARK(x, MK_VIA_HTTP) && x->auth == NULL &&
		    (c.n == 8 || c.n == 9) && find(c.p, c.n, "via HTTP"))
			x->auth_sp = trim(c, "via ", ""), x->auth = "";
		if (find(c.p, c.n, "TLS") || (MARK(x, MK_CIPHER) &&
		    find(c.p, c.n, "cipher=")))
			x->tls = true;
	}
}

/* ------------------------------------------------------------------ mta */

/* The host name without the '.', ';' and ',' written after it. */
static struct span
host_trim(struct span h)
{
	while (h.n && (h.p[h.n - 1] == '.' || h.p[h.n - 1] == ';' ||
	    h.p[h.n - 1] == ','))
		h.n--;
	return h;
}

/* Is trimmed host h the lower-case domain dom[0..l) or under it? */
static inline bool
host_under(struct span h, const char *dom, size_t l)
{
	if (h.n < l || (h.p[h.n - 1] | 0x20) != dom[l - 1] ||
	    (h.n > l && h.p[h.n - l - 1] != '.'))
		return false;
	return st_ascii_ieq(h.p + h.n - l, dom, l);
}

#define HOST_IN(h, lit)	host_under(host_trim(h), lit, sizeof(lit) - 1)

/* A sendmail version comment: "8.12.11/8.12.11", "8.9.3/3.7W". */
static bool
sendmail_version(struct span c)
{
	const char *sl;

	if (c.n >= 5 && c.p[0] == '8' && c.p[1] == '.' &&
	    IS_DIGIT((unsigned char)c.p[2]) && memchr(c.p, '/', c.n) == NULL &&
	    memchr(c.p, ' ', c.n) == NULL)
		return true;		/* "(8.12.2)" */
	if (c.n < 3 || !IS_DIGIT((unsigned char)c.p[0]) ||
	    (sl = memchr(c.p, '/', c.n)) == NULL)
		return false;
	return memchr(c.p, '.', (size_t)(sl - c.p)) != NULL &&
	    memchr(c.p, ' ', c.n) == NULL && sl + 1 < c.p + c.n &&
	    IS_DIGIT((unsigned char)sl[1]);
}

/*
 * Gmail's ids: "t14mr6497660wat.198", "x33csp82273qte", "x13si160442pfi.5",
 * "15-v6sor8797614ois.145", "p16-v6sm7861105wro.29": a short prefix, a
 * two or three letter kind, at least five digits, three lower-case
 * letters, then a dot or the end.
 */
static bool
gmail_id(struct span id)
{
	size_t i = 0, k, d;

	while (i < id.n && i < 24) {
		/* the kind: 2-3 lower-case letters after a digit or '6' */
		for (k = 0; i + k < id.n && k < 4 && IS_LOWER((unsigned char)
		    id.p[i + k]); k++)
			;
		if (k >= 2 && k <= 3 && i > 0 && IS_DIGIT((unsigned char)
		    id.p[i - 1])) {
			for (d = 0; i + k + d < id.n && IS_DIGIT((unsigned char)
			    id.p[i + k + d]); d++)
				;
			if (d >= 5 && i + k + d + 3 <= id.n &&
			    IS_LOWER((unsigned char)id.p[i + k + d]) &&
			    IS_LOWER((unsigned char)id.p[i + k + d + 1]) &&
			    IS_LOWER((unsigned char)id.p[i + k + d + 2]) &&
			    (i + k + d + 3 == id.n ||
			    id.p[i + k + d + 3] == '.'))
				return true;
		}
		i += k ? k : 1;
	}
	return false;
}

/* Exim ids: 6-6-2 base-62 ("1FiWc9-0007Du-00"), or 6-11-4 (4.97+). */
static bool
exim_id(struct span id)
{
	size_t i;

	if (id.n != 16 && id.n != 23)
		return false;
	for (i = 0; i < id.n; i++) {
		bool dash = id.n == 16 ? (i == 6 || i == 13) :
		    (i == 6 || i == 18);

		if (dash != (id.p[i] == '-') || (!dash &&
		    !IS_ALNUM((unsigned char)id.p[i])))
			return false;
	}
	return true;
}

static const char *
guess_mta(struct st *x)
{
	size_t i;
	int j;
	struct span by;
	const uint8_t *hit;
	size_t dots, lab[2];

	if (x->tk.n && x->tk.t[0].type == TK_COMMENT) {
		struct span c = tok_span(x->s, &x->tk.t[0]);

		if (sp_prefix(c, "qmail ") || find(c.p, c.n, " invoked "))
			return "qmail";
	}
	by = host_trim(x->by);
	/* A domain of two labels can only be the last two labels of the
	 * name, one of three the last three: only the domains of those
	 * lengths are compared.  (No domain of the table is under another,
	 * so at most one matches and the order does not matter.) */
	if (by.n) {
		const char *d = by.p + by.n;

		for (dots = 0; dots < 3 && (d = memrchr(by.p, '.', (size_t)(d -
		    by.p))) != NULL; dots++)
			if (dots >= 1)
				lab[dots - 1] = (size_t)(by.p + by.n - (d + 1));
		if (dots < 2)
			lab[0] = by.n;
		if (dots < 3)
			lab[1] = by.n;
	}
	for (j = 0; by.n && j < 2; j++) {
		size_t l = lab[j], h;

		if (l >= HOSTLEN_MAX || (j == 1 && l == lab[0]))
			continue;
		for (h = hl.start[l]; h < hl.start[l + 1]; h++) {
			i = hl.idx[h];
			if (host_under(by, hostsigs[i].domain, l) &&
			    (strcmp(hostsigs[i].mta, "exchange") != 0 ||
			    MARK(x, MK_MICROSOFT) || with_has(x, WW_MAPI) ||
			    with_has(x, WW_HTTPS)))
				return hostsigs[i].mta;
		}
	}
	/* the first signature of the table that the line holds */
	if ((hit = memchr(x->hit, 1, NSIGS)) != NULL)
		return sigs[hit - x->hit].mta;
	/* the first comment after the by host */
	for (j = x->by_a + 1; x->by_a >= 0 && j < x->by_b; j++) {
		const struct tok *t = &x->tk.t[j];

		if (t->type == TK_COMMENT) {
			if (sendmail_version(tok_span(x->s, t)))
				return "sendmail";
			break;
		}
	}
	/* Gmail's internal hops: "by 2002:a05:... with SMTP id xxcsp..." */
	if (x->id.n && gmail_id(x->id))
		return "gmail";
	if (x->by.n && x->id.n == 0 && is_ip_text(x->by) &&
	    with_has(x, WW_HTTP))
		return "gmail";
	/* Exim's message ids: "1FiWc9-0007Du-00" */
	if (x->id.n && exim_id(x->id))
		return "exim";
	if (x->with.n && (sp_eq(x->with, "HTTP") || sp_eq(x->with, "HTTPS")))
		return "webmail";
	if (x->via_t >= 0 && sp_prefix(tok_span(x->s, &x->tk.t[x->via_t]),
	    "HTTP"))
		return "webmail";
	if (x->helo_comment && (x->form == F_BARE || x->form == F_BRACKET) &&
	    x->id_t < 0)
		return "qmail";
	if (x->form == F_BARE && x->id_t < 0 && x->by_a >= 0 &&
	    (x->by_b - x->by_a == 1))
		return "qmail";
	if (x->form == F_RDNS && x->by_b - x->by_a >= 2 &&
	    x->tk.t[x->by_a + 1].type == TK_COMMENT) {
		struct span c = tok_span(x->s, &x->tk.t[x->by_a + 1]);

		if (sp_prefix(c, "Postfix"))
			return "postfix";
	}
	return "unknown";
}

/* ------------------------------------------------------------- decide */

static bool
is_unknownish(struct span w)
{
	return w.n == 0 || sp_eq(w, "unknown") || w.p[0] == '[' ||
	    w.p[0] == '<' || sp_eq(w, "softdnserr") || sp_eq(w, "unverified");
}

static void
decide(struct st *x)
{
	/* Exim's layout ("from rdns ([ip])") is read only when it signs */
	bool exim = MARK(x, MK_EXIM);
	bool webmail = x->webmail_user || ((with_has(x, WW_HTTP) ||
	    with_has(x, WW_HTTPS) || with_has(x, WW_HTTPU) ||
	    MARK(x, MK_VIA_HTTP)) && strcmp(x->mta, "exchange") != 0);
	int w_ip = -1;			/* is w an address? when asked */
#define W_IP()	(w_ip < 0 ? (w_ip = x->w.n && is_ip_text(x->w)) : w_ip)
	struct span none = { "", 0 };

	x->rdns = none;
	x->helo = x->have_helo_claim ? x->helo_claim : none;
	if (x->form != F_NONE)
		memcpy(x->ip, x->ipw.ip, sizeof(x->ip));
	switch (x->form) {
	case F_RDNS:
		if (x->w.n == 0) {
			/* "from (name [ip]) by" (McAfee, X5): the only name
			 * given is read as the HELO, as SpamAssassin does */
			if (!x->have_helo_claim)
				x->helo = x->rdns_name;
			break;
		}
		x->rdns = x->rdns_name;
		if (!x->have_helo_claim)
			x->helo = x->w;
		break;
	case F_BRACKET:
	case F_OTHER:
		if (x->exim_helo) {
			if (!W_IP())
				x->rdns = x->w;
		} else if (exim) {
			if (!W_IP() && x->w.n) {
				x->rdns = x->w;
				if (!x->have_helo_claim)
					x->helo = x->w;
			}
		} else if (strcmp(x->mta, "ecelerity") == 0) {
			/* "from [HOST] ([ip:port])": the word is not HELO */
		} else {
			if (x->verified || x->helo_comment || qmail_shape(x))
				x->rdns = x->w;
			if (!x->have_helo_claim)
				x->helo = x->w;
		}
		break;
	case F_BARE:
		if (x->glued_ip) {
			x->rdns = x->w;		/* smap: NAME(ip) */
			break;
		}
		if (!x->have_helo_claim)
			x->helo = x->w;
		if (x->helo_comment || !(x->lead_ws ||
		    strcmp(x->mta, "scalix") == 0))
			x->rdns = x->w;
		/* Exchange / Office 365 look no reverse name up: NAME is the
		 * EHLO name.  SpamAssassin reports it as rdns too, and so do
		 * we, but flagged unverified so the trace never takes it for
		 * an observed name (a forged HELO stays visible). */
		if (strcmp(x->mta, "exchange") == 0 && !x->helo_comment)
			x->unverified = true;
		break;
	case F_PORTED:
		if (!x->have_helo_claim && strcmp(x->mta, "ecelerity") != 0)
			x->helo = x->w;
		if (exim)
			x->rdns = x->w;
		break;
	case F_WORD:
		if (x->helo_comment)
			x->rdns = x->w;
		else if (x->name_comment.n && !x->have_helo_claim &&
		    MARK(x, MK_EXIM)) {
			/* old Exim: "from rdns (helo) [ip]" */
			x->rdns = x->w;
			x->helo = x->name_comment;
		} else if (!x->have_helo_claim)
			x->helo = x->w;
		break;
	case F_SELF:
		if (!x->have_helo_claim && !webmail)
			x->ip_from_helo = true;
		break;
	case F_NONE:
		if (x->w.n && memchr(x->w.p, '@', x->w.n)) {
			/* "from user@host by ..." (AOL, qmail-scanner,
			 * sendmail submit): the sender, not a HELO */
			if (x->envfrom.n == 0)
				x->envfrom = trim(x->w, "<", ">");
		} else if (x->rdns_noip.n) {
			/* "(name [masked address])": the name is still read */
			x->rdns = x->rdns_noip;
			if (!x->have_helo_claim)
				x->helo = x->w;
		} else if (!x->have_helo_claim && x->w.n)
			x->helo = x->w;
		break;
	}
	/* a web client has no HELO: "from 1.2.3.4 ([1.2.3.4]) ... HTTP" */
	if (webmail && !x->have_helo_claim && W_IP() && x->w.p[0] != '[')
		x->helo = none;
	if (x->webmail_user && !x->have_helo_claim && x->form != F_NONE) {
		x->helo = none;
		x->rdns = none;
	}
	if (x->ipw.ident.n && x->ident.n == 0)
		x->ident = x->ipw.ident;
	x->ident_out = x->ident;
	/* rDNS cleanup */
	x->rdns = trim(x->rdns, "", ".");
	if ((x->form == F_RDNS && is_unknownish(x->rdns_name)) ||
	    sp_eq(x->rdns, "unknown") || x->unverified)
		x->rdns_unverified = true;
	if (is_unknownish(x->rdns))
		x->rdns = none;
}
#undef W_IP

/* Markers of a handover with no network client. */
static void
local_markers(struct st *x)
{
	size_t i;

	if (x->tk.n && x->tk.t[0].type == TK_COMMENT) {
		struct span c = tok_span(x->s, &x->tk.t[0]);

		if (find(c.p, c.n, "invoked") && !find(c.p, c.n,
		    "invoked from network"))
			x->local = true;
	}
	if (MARK(x, MK_PICKUP) || MARK(x, MK_USERID) ||
	    MARK(x, MK_QSCANNER) || MARK(x, MK_FETCHMAIL) ||
	    MARK(x, MK_STDIN) || MARK(x, MK_UNIXSOCK) ||
	    MARK(x, MK_UNIXLOCAL))
		x->local = true;
	for (i = (size_t)(x->with_a >= 0 ? x->with_a : 0); x->with_a >= 0 &&
	    i < (size_t)x->with_b; i++) {
		struct span w = tok_span(x->s, &x->tk.t[i]);

		if (x->tk.t[i].type != TK_WORD)
			continue;
		if (sp_prefix(w, "local") || sp_eq(w, "BSMTP") ||
		    sp_eq(w, "POP3") || sp_eq(w, "IMAP") || sp_eq(w, "IMAP4") ||
		    sp_eq(w, "mapi") || sp_eq(w, "scanned-ok") ||
		    sp_eq(w, "SpamAssassin") || sp_eq(w, "pipe") ||
		    sp_prefix(w, "qmail-scanner") || sp_prefix(w, "spamd"))
			x->local = true;
		if (sp_prefix(w, "LMTP") && (x->ip[0] == '\0' ||
		    st_ip_is_loopback(x->ip)))
			x->local = true;
		break;
	}
	/* Sun / Oracle Messaging Server's internal step: "from host
	 * (Oracle Communications Messaging Server ...) id <...>", no by */
	if (x->by_a < 0 && x->ip[0] == '\0' && strcmp(x->mta, "iplanet") == 0)
		x->local = true;
	if (x->paren_from && x->ip[0] == '\0')
		x->local = true;		/* "(from user@localhost)" */
	/* "from mda by host id X", "from MAILER-DAEMON id X by host (DMA)",
	 * "from spooler by host": a program, no client and no protocol */
	if (x->ip[0] == '\0' && x->with_a < 0 && x->w.n &&
	    memchr(x->w.p, '.', x->w.n) == NULL && x->form == F_NONE &&
	    !x->have_helo_claim)
		x->local = true;
}

/* A byte below 0x20 or equal to 0x7f somewhere in v?  (The classic
 * "has a byte less than" test; it may flag a byte next to a real one,
 * so a flagged word is checked byte by byte.) */
#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull
#define HAS_CTL(v)	((((v) - 0x20 * ONES) & ~(v) & HIGHS) | \
	((((v) ^ 0x7f * ONES) - ONES) & ~((v) ^ 0x7f * ONES) & HIGHS))

/* Copy n bytes, controls turned into spaces, 8 bytes at a time (the last
 * eight overlap the ones before when n is no multiple of 8). */
static void
copy_text(char *o, const char *p, size_t n)
{
	size_t j, k;
	uint64_t v;

	if (n < 8) {
		for (j = 0; j < n; j++) {
			unsigned char c = (unsigned char)p[j];

			o[j] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
		}
		return;
	}
	for (j = 0;; j += 8) {
		if (j + 8 > n)
			j = n - 8;
		memcpy(&v, p + j, 8);
		if (HAS_CTL(v)) {
			unsigned char b[8];

			memcpy(b, &v, 8);
			for (k = 0; k < 8; k++)
				if (b[k] < 0x20 || b[k] == 0x7f)
					b[k] = ' ';
			memcpy(&v, b, 8);
		}
		memcpy(o + j, &v, 8);
		if (j + 8 == n)
			break;
	}
}

/* Copy the spans into one arena block; NULs and controls never reach the
 * strings because the tokenizer treats them as spaces. */
static bool
emit(struct st_arena *a, struct st *x, struct st_hop *hop)
{
	struct span *f[] = { &x->rdns, &x->helo, &x->by, &x->id, &x->with,
	    &x->for_, &x->envfrom, &x->ident_out, &x->auth_sp };
	const char **dst[] = { &hop->rdns, &hop->helo, &hop->by, &hop->id,
	    &hop->with, &hop->for_, &hop->envfrom, &hop->ident, &hop->auth };
	size_t i, total = strlen(x->ip) + 1;
	char *buf, *o;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		total += (f[i]->p ? f[i]->n : 0) + 1;
	if ((buf = st_arena_alloc(a, total)) == NULL)
		return false;
	o = buf;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t n = f[i]->p ? f[i]->n : 0;

		*dst[i] = o;
		copy_text(o, f[i]->p, n);
		o += n;
		*o++ = '\0';
	}
	if (x->auth != NULL && x->auth_sp.p == NULL)
		hop->auth = x->auth;
	else if (x->auth == NULL)
		hop->auth = "";
	hop->ip = o;
	memcpy(o, x->ip, strlen(x->ip) + 1);
	/* the protocol word in capitals when it is a known one */
	if (x->with_proto) {
		char *w = (char *)hop->with;

		for (; *w; w++)
			if (IS_LOWER(*w))
				*w = (char)(*w - 'a' + 'A');
	}
	return true;
}

bool
st_received_parse(struct st_arena *a, const char *p, size_t len,
    struct st_hop *hop)
{
	struct st xs, *x = &xs;
	size_t n;
	char *raw;

	memset(hop, 0, sizeof(*hop));
	hop->raw = hop->ip = hop->rdns = hop->ident = hop->by = hop->id =
	    hop->auth = hop->with = hop->for_ = hop->helo = hop->envfrom = "";
	hop->mta = "unknown";
	if ((raw = st_hdr_unfold(a, p, len, &n)) == NULL)
		return false;
	hop->raw = raw;
	memset(x, 0, offsetof(struct st, hit));
	x->tk.n = 0;
	x->tk.truncated = x->tk.unbalanced = false;
	x->tk.last_semi = SIZE_MAX;
	x->s = raw;
	x->n = n;
	x->from_a = x->from_b = x->by_a = x->by_b = -1;
	x->with_a = x->with_b = x->id_t = x->for_t = x->via_t = -1;
	x->tail_id = -1;

	/* "(from host [ip]) by ..." (NAVGW, sendmail submit) */
	{
		size_t i0 = 0;

		while (i0 < n && is_sp((unsigned char)raw[i0]))
			i0++;
		if (i0 + 6 < n && raw[i0] == '(' &&
		    st_ascii_ieq(raw + i0 + 1, "from ", 5)) {
			size_t ie, e = comment_end(raw, i0, n, &ie);

			tokenize(raw, i0 + 1, ie, &x->tk);
			tokenize(raw, e, n, &x->tk);
			x->paren_from = true;
		} else
			tokenize(raw, 0, n, &x->tk);
	}
	scan_marks(raw, n, x->hit);
	find_date(x, hop);
	clauses(x);
	if (x->id_t < 0)
		x->id_t = x->tail_id;

	if (x->by_a >= 0 && x->by_a < x->by_b &&
	    x->tk.t[x->by_a].type == TK_WORD)
		x->by = trim(tok_span(raw, &x->tk.t[x->by_a]), "", ";,");
	if (x->id_t >= 0) {
		x->id = trim(tok_span(raw, &x->tk.t[x->id_t]), "<", ">;,");
		if (x->id.n < 3)
			x->id.n = 0;
	}
	if (x->for_t >= 0)
		x->for_ = trim(tok_span(raw, &x->tk.t[x->for_t]), "<", ">;,");
	from_clause(x);
	with_clause(x);
	envelope(x);
	by_comments(x);
	x->mta = guess_mta(x);
	decide(x);
	local_markers(x);

	/* Exchange "with mapi id 15.20.x": the build of the mailbox server,
	 * no queue id (SpamAssassin drops it too).  "with Microsoft SMTP
	 * Server ... id 15.20.x" is kept as written, as SpamAssassin does. */
	if (x->id.n && with_has(x, WW_MAPI))
		x->id.n = 0;
	/* GMX submission: "(EHLO x) [ip] by mail.gmx.net" */
	if (x->auth == NULL && x->form == F_WORD && x->helo_comment &&
	    (HOST_IN(x->by, "mail.gmx.net") || HOST_IN(x->by, "mail.gmx.com")))
		x->auth = "GMX";
	/* Gmail submission ids carry "sm": "p16-v6sm7861105wro.29..." */
	if (x->auth == NULL && strcmp(x->mta, "gmail") == 0 && x->id.n &&
	    with_has(x, WW_ESMTPS) && MARK(x, MK_VERSION)) {
		size_t k;

		for (k = 1; k + 3 < x->id.n && k < 8; k++)
			if (x->id.p[k] == 's' && x->id.p[k + 1] == 'm' &&
			    IS_DIGIT((unsigned char)x->id.p[k + 2])) {
				x->auth = "GMail";
				break;
			}
	}
	if (x->auth == NULL && x->cg_account)
		x->auth = "Communigate";
	if (x->auth == NULL && MARK(x, MK_AUTHYES))
		x->auth = "yes";

	hop->tls = x->tls;
	hop->local = x->local;
	hop->rdns_unverified = x->rdns_unverified;
	hop->ip_from_helo = x->ip_from_helo;
	hop->mta = x->mta;
	/* read: a from or by clause with something in it, or qmail's
	 * "(qmail N invoked ...)" */
	hop->parsed = x->by.n > 0 || x->w.n > 0 || x->form != F_NONE;
	if (!hop->parsed && x->tk.n && x->tk.t[0].type == TK_COMMENT) {
		struct span c = tok_span(raw, &x->tk.t[0]);

		if (find(c.p, c.n, "invoked") || sp_prefix(c, "ofmipd "))
			hop->parsed = true;
	}
	return emit(a, x, hop);
}
