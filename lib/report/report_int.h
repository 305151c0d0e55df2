/*
 * report_int.h - what the files of the report module share: the MIME
 * encoders, writing into bounded st_buf buffers.  Not installed.
 */
#ifndef ST_REPORT_INT_H
#define ST_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "spamtrace/buf.h"
#include "spamtrace/report.h"


/* Text in "\n" lines to out, every "\n" written as eol. */
void	st_mime_put_eol(struct st_buf *b, const char *s, size_t n,
	    const char *eol);
/* Quoted-printable (RFC 2045 6.7) of "\n"-separated text. */
void	st_mime_put_qp(struct st_buf *b, const char *s, size_t n,
	    const char *eol);
/* Base64 (RFC 2045 6.8), 76 characters a line. */
void	st_mime_put_b64(struct st_buf *b, const unsigned char *s, size_t n,
	    const char *eol);
/* A header field "Name: value" folded at white space near 78 columns;
 * value must be ASCII on one line. */
void	st_mime_put_field(struct st_buf *b, const char *name,
	    const char *value, const char *eol);

bool	st_mime_is_ascii(const char *s, size_t n);
/* Date in RFC 5322 form ("Fri, 03 Mar 2006 20:54:40 +0900"). */
void	st_mime_date(int64_t utc, int tz_min, char *buf, size_t size);
/* Printable ASCII copy of a hostile value for a header field: controls
 * and 8-bit bytes become '?', at most max bytes. */
char   *st_mime_field_safe(const char *s, size_t max);
/* Text for display inside a letter: printable ASCII, TAB, valid UTF-8
 * and line ends kept, other bytes written as \xNN; line ends become
 * "\n". */
void	st_mime_put_display(struct st_buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at p (0: not valid). */
size_t	st_mime_utf8_valid(const unsigned char *p, const unsigned char *e);

#endif
