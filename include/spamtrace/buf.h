/*
 * buf.h - a growable byte buffer, the one every module writes text into
 * (JSON records, report letters, MIME parts).
 *
 * The contents are always NUL-terminated.  A buffer may have a ceiling
 * (max, 0 for none); past it, or when memory runs out, the buffer is
 * marked failed and ignores further writes, so a writer checks once at
 * the end instead of after every call.
 */
#ifndef SPAMTRACE_BUF_H
#define SPAMTRACE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct st_buf {
	char   *p;		/* NULL until the first write */
	size_t	len, cap;
	size_t	max;		/* ceiling on len + 1; 0: none */
	bool	failed;
};

void	st_buf_init(struct st_buf *b, size_t max);
/* Room for n more bytes (and the NUL) at p + len; false when failed. */
bool	st_buf_reserve(struct st_buf *b, size_t n);
void	st_buf_put(struct st_buf *b, const char *s, size_t n);
void	st_buf_puts(struct st_buf *b, const char *s);
void	st_buf_putc(struct st_buf *b, char c);
void	st_buf_printf(struct st_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void	st_buf_reset(struct st_buf *b);		/* empty, memory kept */
void	st_buf_free(struct st_buf *b);
/* The contents, NUL-terminated and malloc'd (NULL when out of memory);
 * the buffer is left empty. */
char   *st_buf_take(struct st_buf *b, size_t *len);

#endif
