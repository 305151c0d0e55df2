/*
 * buf.c - the growable byte buffer of buf.h.
 *
 * Doubles from 4 KiB up to the ceiling; a write that does not fit sets
 * failed and writes nothing (never a truncated piece), and every later
 * write is ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/buf.h"
#include "util/fmt.h"

void
st_buf_init(struct st_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

bool
st_buf_reserve(struct st_buf *b, size_t n)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return false;
	if (b->cap - b->len > n)
		return true;
	if (n >= (size_t)-1 / 2 - b->len ||
	    (b->max != 0 && b->len + n + 1 > b->max)) {
		b->failed = true;
		return false;
	}
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len <= n)
		ncap *= 2;
	if (b->max != 0 && ncap > b->max)
		ncap = b->max;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = np;
	b->cap = ncap;
	return true;
}

void
st_buf_put(struct st_buf *b, const char *s, size_t n)
{
	if (!st_buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
st_buf_puts(struct st_buf *b, const char *s)
{
	st_buf_put(b, s, strlen(s));
}

void
st_buf_putc(struct st_buf *b, char c)
{
	st_buf_put(b, &c, 1);
}

void
st_buf_printf(struct st_buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	/* most pieces are short: format once on the stack, then copy */
	va_start(ap, fmt);
	n = st_vfmt(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		st_buf_put(b, tmp, (size_t)n);
		return;
	}
	if (!st_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	st_vfmt(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
st_buf_reset(struct st_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
st_buf_free(struct st_buf *b)
{
	size_t max = b->max;

	free(b->p);
	st_buf_init(b, max);
}

char *
st_buf_take(struct st_buf *b, size_t *len)
{
	char *p = b->p;

	if (p == NULL)
		p = strdup("");
	if (len != NULL)
		*len = p != NULL ? b->len : 0;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
