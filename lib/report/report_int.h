/*
 * report_int.h - what the files of the report module share: a bounded
 * growable buffer and the MIME encoders.  Not installed.
 */
#ifndef ST_REPORT_INT_H
#define ST_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "spamtrace/report.h"

/* A growable byte buffer with a ceiling; on failure (memory or ceiling)
 * it sets failed and ignores further writes, so callers check once. */
struct rbuf {
	char   *p;
	size_t	len, cap, max;
	bool	failed;
};

void	st_rb_init(struct rbuf *b, size_t max);
void	st_rb_put(struct rbuf *b, const char *s, size_t n);
void	st_rb_puts(struct rbuf *b, const char *s);
void	st_rb_putc(struct rbuf *b, char c);
void	st_rb_printf(struct rbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void	st_rb_free(struct rbuf *b);
/* Take the contents (NUL-terminated, malloc'd); the buffer is emptied. */
char   *st_rb_take(struct rbuf *b, size_t *len);

/* Text in "\n" lines to out, every "\n" written as eol. */
void	st_rb_put_eol(struct rbuf *b, const char *s, size_t n, const char *eol);
/* Quoted-printable (RFC 2045 6.7) of "\n"-separated text. */
void	st_rb_put_qp(struct rbuf *b, const char *s, size_t n, const char *eol);
/* Base64 (RFC 2045 6.8), 76 characters a line. */
void	st_rb_put_b64(struct rbuf *b, const unsigned char *s, size_t n,
	    const char *eol);
/* A header field "Name: value" folded at white space near 78 columns;
 * value must be ASCII on one line. */
void	st_rb_put_field(struct rbuf *b, const char *name, const char *value,
	    const char *eol);

bool	st_mime_is_ascii(const char *s, size_t n);
/* Date in RFC 5322 form ("Fri, 03 Mar 2006 20:54:40 +0900"). */
void	st_mime_date(int64_t utc, int tz_min, char *buf, size_t size);
/* Printable ASCII copy of a hostile value for a header field: controls
 * and 8-bit bytes become '?', at most max bytes. */
char   *st_mime_field_safe(const char *s, size_t max);
/* Text for display inside a letter: printable ASCII, TAB, valid UTF-8
 * and line ends kept, other bytes written as \xNN; line ends become
 * "\n". */
void	st_rb_put_display(struct rbuf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at p (0: not valid). */
size_t	st_mime_utf8_valid(const unsigned char *p, const unsigned char *e);

#endif
