/*
 * reply.c - the SMTP reply parser: bytes in, one reply out.  Pure (no I/O,
 * no globals), incremental, and safe on hostile bytes; the session code in
 * smtp.c feeds it whatever recv() returned, the fuzzer feeds it anything.
 *
 * A reply (RFC 5321 4.2) is one or more lines "NNN-text" ending with a
 * line "NNN text" or "NNN".  The parser consumes complete lines only and
 * stops after the last line of the reply, so what follows stays for the
 * next reply.  It is lenient where real servers are sloppy and records it
 * as a defect: bare LF line ends, continuation lines whose code differs
 * from the first, a code followed by neither SP nor '-', NUL bytes,
 * codes outside 2yz..5yz.  It refuses what cannot be SMTP (a line not
 * starting with three digits: ST_EPARSE) and what is too big (a line over
 * max_line, a reply over max_reply: ST_ELIMIT).
 *
 * The enhanced status code (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC
 * 2034) is taken from the first line when its class digit matches the
 * reply code's first digit: "250 2.1.0 Ok" gives "2.1.0".
 *
 * Limits: ST_MAX_SMTP_LINE and ST_MAX_SMTP_REPLY (limits.h) by default.
 */
#include <stdlib.h>
#include <string.h>

#include "spamtrace/smtp.h"

void
st_smtp_reply_init(struct st_smtp_reply *r, size_t max_line, size_t max_reply)
{
	memset(r, 0, sizeof(*r));
	r->max_line = max_line ? max_line : ST_MAX_SMTP_LINE;
	r->max_reply = max_reply ? max_reply : ST_MAX_SMTP_REPLY;
}

void
st_smtp_reply_free(struct st_smtp_reply *r)
{
	size_t ml, mr;

	if (r == NULL)
		return;
	ml = r->max_line;
	mr = r->max_reply;
	free(r->raw);
	st_smtp_reply_init(r, ml, mr);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse "c.s.d" (class one digit, subject and detail 1-3 digits each)
 * at p..end, followed by SP or the end; copy it into out. */
static void
parse_enhanced(const char *p, const char *end, char code1, char out[16])
{
	const char *q = p;
	int part, n;

	out[0] = '\0';
	if (q >= end || *q != code1 || (code1 != '2' && code1 != '4' &&
	    code1 != '5'))
		return;
	q++;
	for (part = 0; part < 2; part++) {
		if (q >= end || *q != '.')
			return;
		q++;
		for (n = 0; q < end && is_digit(*q) && n < 4; n++)
			q++;
		if (n < 1 || n > 3)
			return;
	}
	if (q < end && *q != ' ' && *q != '\t')
		return;
	if ((size_t)(q - p) >= 16)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

/* Append one line to r->raw (lines separated by "\n"). */
static enum st_status
append_line(struct st_smtp_reply *r, const char *line, size_t n,
    struct st_error *err)
{
	size_t need = r->rawlen + (r->nlines ? 1 : 0) + n;
	char *nraw;

	if (need > r->max_reply)
		return st_error_set(err, ST_ELIMIT,
		    "SMTP reply longer than %zu bytes", r->max_reply);
	/* grow to the exact size: replies are small, and the cap bounds it */
	nraw = realloc(r->raw, need + 1);
	if (nraw == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	r->raw = nraw;
	if (r->nlines)
		r->raw[r->rawlen++] = '\n';
	if (n)
		memcpy(r->raw + r->rawlen, line, n);
	r->rawlen += n;
	r->raw[r->rawlen] = '\0';
	r->nlines++;
	return ST_OK;
}

enum st_status
st_smtp_reply_parse(struct st_smtp_reply *r, const char *p, size_t len,
    size_t *consumed, struct st_error *err)
{
	size_t pos = 0;
	enum st_status st;

	*consumed = 0;
	if (r->max_line == 0 || r->max_reply == 0) {
		r->max_line = r->max_line ? r->max_line : ST_MAX_SMTP_LINE;
		r->max_reply = r->max_reply ? r->max_reply : ST_MAX_SMTP_REPLY;
	}
	while (!r->complete && pos < len) {
		const char *line = p + pos, *lf, *end;
		size_t n, linelen;
		int code;
		bool last;

		lf = memchr(line, '\n', len - pos);
		if (lf == NULL) {
			/* an unfinished line: wait for more unless too long
			 * already (max_line plus a CR) */
			if (len - pos > r->max_line + 1)
				return st_error_set(err, ST_ELIMIT,
				    "SMTP reply line %zu longer than %zu bytes",
				    r->nlines + 1, r->max_line);
			/* garbage is visible before its line ends: fail
			 * early so a peer cannot make us wait for an LF */
			for (n = 0; n < 3 && n < len - pos; n++)
				if (!is_digit(line[n]))
					return st_error_set(err, ST_EPARSE,
					    "SMTP reply line %zu does not start "
					    "with a 3-digit code", r->nlines + 1);
			break;
		}
		n = (size_t)(lf - line) + 1;	/* bytes including LF */
		end = lf;
		if (end > line && end[-1] == '\r')
			end--;
		else
			r->defects |= ST_SMTP_DEFECT_BARE_LF;
		linelen = (size_t)(end - line);
		if (linelen > r->max_line)
			return st_error_set(err, ST_ELIMIT,
			    "SMTP reply line %zu longer than %zu bytes",
			    r->nlines + 1, r->max_line);
		if (linelen < 3 || !is_digit(line[0]) || !is_digit(line[1]) ||
		    !is_digit(line[2]))
			return st_error_set(err, ST_EPARSE,
			    "SMTP reply line %zu does not start with a 3-digit "
			    "code", r->nlines + 1);
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (linelen == 3 || line[3] == ' ')
			last = true;
		else if (line[3] == '-')
			last = false;
		else {
			r->defects |= ST_SMTP_DEFECT_NO_SEPARATOR;
			last = true;
		}
		if (memchr(line, '\0', linelen) != NULL)
			r->defects |= ST_SMTP_DEFECT_NUL;
		if (code < 200 || code > 599)
			r->defects |= ST_SMTP_DEFECT_BAD_CODE;
		if (r->nlines == 0) {
			r->code = code;
			if (linelen > 4)
				parse_enhanced(line + 4, end, line[0],
				    r->enhanced);
		} else if (code != r->code)
			r->defects |= ST_SMTP_DEFECT_CODE_MISMATCH;
		if ((st = append_line(r, line, linelen, err)) != ST_OK)
			return st;
		pos += n;
		*consumed = pos;
		if (last)
			r->complete = true;
	}
	return ST_OK;
}

const char *
st_smtp_reply_line(const struct st_smtp_reply *r, size_t i, size_t *len)
{
	const char *p, *end, *nl;
	size_t k;

	if (r == NULL || r->raw == NULL || i >= r->nlines)
		return NULL;
	p = r->raw;
	end = r->raw + r->rawlen;
	for (k = 0; k < i; k++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return NULL;
		p = nl + 1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	if (len != NULL)
		*len = (size_t)((nl ? nl : end) - p);
	return p;
}

const char *
st_smtp_reply_text(const struct st_smtp_reply *r, size_t i, size_t *len)
{
	size_t n;
	const char *p = st_smtp_reply_line(r, i, &n);

	if (p == NULL)
		return NULL;
	if (n <= 4) {
		if (len != NULL)
			*len = 0;
		return p + n;
	}
	if (len != NULL)
		*len = n - 4;
	return p + 4;
}
