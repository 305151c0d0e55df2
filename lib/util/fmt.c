/*
 * fmt.c - a small vsnprintf() for the library's own messages (fmt.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/fmt.h"

/* The output so far: bytes beyond the buffer are counted, not written. */
struct out {
	char	*p;
	size_t	size, len;		/* len counts every byte */
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;

		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/* Decimal digits of v (with a '-' when neg) at the end of tmp[24]. */
static const char *
digits(unsigned long long v, bool neg, char tmp[24], size_t *n)
{
	char *e = tmp + 24, *q = e;

	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--q = '-';
	*n = (size_t)(e - q);
	return q;
}

/* The signed value of the conversion with the given length modifier. */
static void
put_signed(struct out *o, long long v)
{
	char tmp[24];
	const char *s;
	size_t n;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	s = digits(u, v < 0, tmp, &n);
	put(o, s, n);
}

static void
put_unsigned(struct out *o, unsigned long long v)
{
	char tmp[24];
	const char *s;
	size_t n;

	s = digits(v, false, tmp, &n);
	put(o, s, n);
}

int
st_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	const char *p = fmt, *pct;
	va_list ap0;

	va_copy(ap0, ap);
	while ((pct = strchr(p, '%')) != NULL) {
		put(&o, p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == '%') {
			put(&o, "%", 1);
			p++;
		} else if (*p == 's') {
			const char *s = va_arg(ap, const char *);

			if (s == NULL)
				s = "(null)";
			put(&o, s, strlen(s));
			p++;
		} else if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			int prec = va_arg(ap, int);
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (s == NULL)		/* as glibc */
				s = prec < 0 || prec >= 6 ? "(null)" : "";
			if (prec < 0)
				n = strlen(s);
			else {
				const char *z = memchr(s, '\0', (size_t)prec);

				n = z != NULL ? (size_t)(z - s) : (size_t)prec;
			}
			put(&o, s, n);
			p += 3;
		} else if (*p == 'c') {
			char c = (char)va_arg(ap, int);

			put(&o, &c, 1);
			p++;
		} else if (*p == 'd') {
			put_signed(&o, va_arg(ap, int));
			p++;
		} else if (*p == 'u') {
			put_unsigned(&o, va_arg(ap, unsigned));
			p++;
		} else if (p[0] == 'z' && p[1] == 'u') {
			put_unsigned(&o, va_arg(ap, size_t));
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'd') {
			put_signed(&o, va_arg(ap, long));
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'u') {
			put_unsigned(&o, va_arg(ap, unsigned long));
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'd') {
			put_signed(&o, va_arg(ap, long long));
			p += 3;
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') {
			put_unsigned(&o, va_arg(ap, unsigned long long));
			p += 3;
		} else {
			/* a conversion not handled here: all of it again by
			 * the C library, from the start */
			int n = vsnprintf(buf, size, fmt, ap0);

			va_end(ap0);
			return n;
		}
	}
	put(&o, p, strlen(p));
	va_end(ap0);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > (size_t)2147483647 ? -1 : (int)o.len;
}

int
st_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = st_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
