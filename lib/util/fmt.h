/*
 * fmt.h - a small vsnprintf() for the library's own messages.
 *
 * The findings, verdicts and contact reasons of every trace are formatted
 * text, and glibc's vsnprintf() sets up a whole stdio stream for each
 * call: more than the formatting itself costs.  st_vfmt() formats the
 * conversions the library uses (%s, %.*s, %c, %d, %u, %ld, %lu, %lld,
 * %llu, %zu, %%) directly and hands anything else to vsnprintf(), so the
 * result is always what vsnprintf() would give.  Not installed: lib/
 * files include it as "util/fmt.h".
 */
#ifndef ST_UTIL_FMT_H
#define ST_UTIL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* As vsnprintf(): writes at most size bytes including the NUL and
 * returns the length of the whole result (negative on error). */
int	st_vfmt(char *buf, size_t size, const char *fmt, va_list ap);
int	st_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
