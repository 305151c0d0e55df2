/*
 * bounce_int.h - what the files of the bounce module share (private).
 */
#ifndef ST_BOUNCE_INT_H
#define ST_BOUNCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spamtrace/bounce.h"

/* A growable byte buffer (malloc'd, capped), for text being assembled. */
struct gbuf {
	char   *p;
	size_t	len, cap, max;
	bool	truncated;
};
void	gbuf_put(struct gbuf *g, const char *s, size_t n);
void	gbuf_free(struct gbuf *g);

/* Lines of LF text: line and llen get the next line (no LF); false at end. */
bool	next_line(const char *text, size_t len, size_t *pos, const char **line,
	    size_t *llen);

/* Case-insensitive search of needle (NUL-terminated, lower case) in a
 * span; returns the position or NULL. */
const char *memcasestr(const char *p, size_t n, const char *needle);

/*
 * Many needles at once: which of a list of lower-case needles occur in a
 * text, ASCII letters compared without case (as memcasestr does), in one
 * pass over the text.  Each position is looked up by its first byte in a
 * table of the needles that start with it (built once per list), so a
 * text is read once instead of once per needle: these lists are tried on
 * every line or every text of every bounce.
 */
#define MF_MAX	128

struct mfind {
	const char *const *nd;	/* NULL-terminated, lower case, non-empty */
	size_t	n;
	size_t	len[MF_MAX];
	uint8_t	head[256];	/* 1 + first needle starting with the byte */
	uint64_t pair[1024];	/* bit b0 * 256 + b1 (bytes of the text as
				 * they are): a needle starts so */
	uint8_t	next[MF_MAX];	/* 1 + the next one, 0 = end */
	unsigned char map[256];	/* a byte of the text as the needles see it:
				 * lower case (NUL as a space: nul_space) */
	/* Wu-Manber: the shortest needle's length, and how far a window
	 * of that length may move on when it ends with a pair of bytes
	 * (each with bit 5 set, then hashed; colliding pairs keep the
	 * smallest move) */
	size_t	minlen;
	uint8_t	shift[4096];
	/* the same moves by the raw pair of bytes (no map, no hash: 64 KiB,
	 * for the lists read over whole texts; mf_wide()), or NULL */
	uint8_t	*shift2;
};

/* Compile a NULL-terminated list of lower-case needles (nul_space: a
 * NUL in the text reads as a space). */
void	mf_build(struct mfind *m, const char *const *nd, bool nul_space);
/* Set bit k of found[] for each needle k in t[0..n); with first_only,
 * stop at the first found (*at, when not NULL, gets where).  Returns the
 * number of distinct needles found. */
/* Give m the moves by raw byte pairs (for lists read over long texts;
 * stays NULL when memory is short, and the hashed moves serve). */
void	mf_wide(struct mfind *m);
size_t	mf_scan_at(const struct mfind *m, const char *t, size_t n,
	    uint64_t found[2], bool first_only, size_t *at);
size_t	mf_scan(const struct mfind *m, const char *t, size_t n,
	    uint64_t found[2], bool first_only);
bool	mf_has(const uint64_t found[2], size_t k);

/* Does a line (span) look like a header field "Name: value"? */
bool	line_is_field(const char *l, size_t n);

/* What the text reader needs and gives. */
struct text_ctx {
	struct st_arena *a;
	const char *text;	/* decoded, LF, the human-readable parts */
	size_t	len;
	/* addresses that are not failed recipients: the bounce's own From,
	 * To, Return-Path, and the original's sender */
	const char *exclude[8];
	size_t	nexclude;
	const char *failed_hdr;	/* X-Failed-Recipients value or NULL */
	/* the original's header block, whose sender goes into
	 * exclude[orig_slot] when an address is first checked (-1: done,
	 * or none) */
	const char *orig;
	size_t	orig_len;
	int	orig_slot;
	/* what the phrase tables say of text[0..len), strong and weak
	 * (st_bounce_classify(): once for all recipients; text and len do
	 * not change once a recipient has been classified) */
	const char *strong, *weak;
	bool	strong_done, weak_done;
};

/* Where, in text, the copy of the original begins (a header block after
 * a separator, or any convincing header block); false when none.  *start
 * is the first header line. */
bool	st_bounce_find_inline(const char *text, size_t len, size_t *start);

/* Is this text a bounce's (the vendor phrases)?  Returns a score. */
int	st_bounce_text_score(const char *text, size_t len);

/* Read the failed recipients out of plain text into b (appends). */
enum st_status st_bounce_text_rcpts(struct text_ctx *c, struct st_bounce *b);

/* Add one recipient (address copied, others arena strings or NULL). */
struct st_bounce_rcpt *st_bounce_add_rcpt(struct st_arena *a,
	    struct st_bounce *b, const char *addr, size_t addr_len);

/* Fill status/reply_code/reason/remote_mta of r from its diagnostic and,
 * when the diagnostic says nothing, from the whole text (whole->text,
 * whole->len; whole may be NULL).  context (may be NULL) is what the
 * human-readable part says about this recipient; with ctx_later, it is
 * st_bounce_text_diag(whole, r->address), looked for only when needed. */
void	st_bounce_classify(struct st_arena *a, struct st_bounce_rcpt *r,
	    struct text_ctx *whole, const char *context, bool ctx_later);

/* Diagnostic for a recipient named elsewhere (a header, the DSN): the
 * text around where the text names it; NULL when it does not. */
char   *st_bounce_text_diag(struct text_ctx *c, const char *addr);

/* One line of text for the output: white space runs made one space,
 * control characters dropped, at most ST_MAX_DIAGNOSTIC bytes. */
char   *st_bounce_oneline(struct st_arena *a, const char *p, size_t n);

/* The reason tables one at a time (reasons.c); NULL when none says. */
const char *st_bounce_reason_phrase(const char *text, size_t len, bool weak,
	    const char *prefer);
/* The text as the phrase tables read it: lower case, white space runs
 * one space, at most ST_MAX_REASON_TEXT bytes, into s (room for
 * ST_MAX_REASON_TEXT + 1); returns its length.  The _norm lookup takes
 * such a text, so that one normalised text serves several lookups. */
size_t	st_bounce_reason_norm(const char *text, size_t len, char *s);
const char *st_bounce_reason_phrase_norm(const char *s, size_t n, bool weak,
	    const char *prefer);
const char *st_bounce_reason_status(const char *status);
const char *st_bounce_reason_reply(const char *code);
const char *st_bounce_reason_vendor(const char *text, size_t len);

/*
 * Is c a character of an address's local part / domain?  A letter, a
 * digit, a byte >= 0x80, one of ".!#$%&'*+-/=?^_`{|}~", or NUL (which
 * strchr() on that list used to find: kept so).  One bit per ASCII byte,
 * inline: this runs over every address of every bounce.
 */
static inline bool
addr_char(unsigned char c)
{
	static const uint64_t LO = 0xa3ffecfa00000001ull,	/* 0 - 63 */
	    HI = 0x7fffffffc7fffffeull;				/* 64 - 127 */

	if (c >= 0x80)
		return true;
	return c < 64 ? (LO >> c) & 1 : (HI >> (c - 64)) & 1;
}

#endif
