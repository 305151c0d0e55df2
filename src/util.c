/*
 * util.c - writing output buffers, the JSON writer, colours, warnings,
 * progress, and the option and configuration handling the commands share.
 */
#include <errno.h>
#include <stdarg.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"

bool cli_color;

/*
 * Room for n more bytes (and the NUL) at b->p + b->len.  The common case
 * is tested here, inline, for the JSON writer that runs on every field;
 * growing is st_buf_reserve's.
 */
static inline bool
room(struct st_buf *b, size_t n)
{
	return (!b->failed && b->cap - b->len > n) || st_buf_reserve(b, n);
}

static inline void
put(struct st_buf *b, const char *s, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
put1(struct st_buf *b, char c)
{
	if (!room(b, 1))
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void
cli_buf_check(const struct st_buf *b)
{
	if (b->failed) {
		fprintf(stderr, "spamtrace: out of memory\n");
		exit(70);
	}
}

void
cli_buf_write(struct st_buf *b, FILE *f)
{
	cli_buf_check(b);
	if (b->len)
		fwrite(b->p, 1, b->len, f);
	st_buf_reset(b);
}

/* --- JSON --------------------------------------------------------------- */

void
jw_init(struct jw *w, struct st_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void
jw_sep(struct jw *w)
{
	if (w->need_comma[w->depth])
		put1(w->b, ',');
	w->need_comma[w->depth] = true;
}

void
jw_obj(struct jw *w)
{
	jw_sep(w);
	put1(w->b, '{');
	if (w->depth < 63)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void
jw_end_obj(struct jw *w)
{
	put1(w->b, '}');
	if (w->depth > 0)
		w->depth--;
}

void
jw_arr(struct jw *w)
{
	jw_sep(w);
	put1(w->b, '[');
	if (w->depth < 63)
		w->depth++;
	w->need_comma[w->depth] = false;
}

void
jw_end_arr(struct jw *w)
{
	put1(w->b, ']');
	if (w->depth > 0)
		w->depth--;
}

/*
 * Writes the JSON string literal of s[0..n).  Reserves the worst case
 * (every byte as a six-byte escape) once, then writes straight into the
 * buffer: this runs for every string of every message.
 */
static void
put_escaped(struct st_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	char *o;

	if (n > (SIZE_MAX - 16) / 6) {
		/* cannot happen for in-memory strings; stay safe anyway */
		put(b, "\"\"", 2);
		return;
	}
	if (!room(b, 6 * n + 2))
		return;
	o = b->p + b->len;
	*o++ = '"';
	while (p < e) {
		unsigned char c;

#if defined(__SSE2__)
		/* sixteen at a time: the plain run before the first byte that
		 * needs care (< 0x20 or >= 0x80 as a signed compare, '"', '\\')
		 * is copied whole */
		while (e - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			int mask = _mm_movemask_epi8(_mm_or_si128(
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));

			if (mask != 0) {
				int k = __builtin_ctz((unsigned)mask);

				memcpy(o, p, (size_t)k);
				o += k;
				p += k;
				break;
			}
			_mm_storeu_si128((__m128i *)(void *)o, v);
			o += 16;
			p += 16;
		}
#endif
		/* eight plain bytes at a time (none < 0x20, >= 0x80, '"', '\\') */
		while (e - p >= 8) {
			const uint64_t ones = 0x0101010101010101ull,
			    high = 0x8080808080808080ull;
			uint64_t w, q, bs;

			memcpy(&w, p, 8);
			q = w ^ (ones * '"');
			bs = w ^ (ones * '\\');
			if ((w & high) || ((w - ones * 0x20) & ~w & high) ||
			    ((q - ones) & ~q & high) ||
			    ((bs - ones) & ~bs & high))
				break;
			memcpy(o, p, 8);
			o += 8;
			p += 8;
		}
		if (p >= e)
			break;
		c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			p++;
			continue;
		}
		if (c >= 0x80) {
			/* copy a valid UTF-8 sequence; else U+FFFD */
			int len = (c & 0xe0) == 0xc0 ? 2 :
			    (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
			int k;

			if (len == 0 || e - p < len)
				goto bad;
			for (k = 1; k < len; k++)
				if ((p[k] & 0xc0) != 0x80)
					goto bad;
			if ((len == 2 && c < 0xc2) ||
			    (len == 3 && c == 0xe0 && p[1] < 0xa0) ||
			    (len == 3 && c == 0xed && p[1] >= 0xa0) ||
			    (len == 4 && c == 0xf0 && p[1] < 0x90) ||
			    (len == 4 && c > 0xf4) ||
			    (len == 4 && c == 0xf4 && p[1] >= 0x90))
				goto bad;
			memcpy(o, p, (size_t)len);
			o += len;
			p += len;
			continue;
bad:
			memcpy(o, "\\ufffd", 6);
			o += 6;
			p++;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':  *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
		p++;
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->p);
}

/* Keys are the program's own ASCII constants: no escaping needed. */
void
jw_key(struct jw *w, const char *k)
{
	size_t n = strlen(k);
	struct st_buf *b = w->b;

	if (room(b, n + 5)) {
		char *o = b->p + b->len;

		if (w->need_comma[w->depth])
			*o++ = ',';
		*o++ = '"';
		memcpy(o, k, n);
		o += n;
		*o++ = '"';
		*o++ = ':';
		*o = '\0';
		b->len = (size_t)(o - b->p);
	}
	w->need_comma[w->depth] = false;
}

static void
jw_value_done(struct jw *w)
{
	w->need_comma[w->depth] = true;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	put_escaped(w->b, s, n);
	jw_value_done(w);
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	jw_sep(w);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	put(w->b, p, (size_t)(buf + sizeof(buf) - p));
}

void
jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	if (v)
		put(w->b, "true", 4);
	else
		put(w->b, "false", 5);
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	put(w->b, "null", 4);
}

void
jw_raw(struct jw *w, const char *json)
{
	jw_sep(w);
	put(w->b, json, strlen(json));
}

void
jw_kstr(struct jw *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_str(w, s);
}

void
jw_kint(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void
jw_kbool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

void
jw_knull(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_null(w);
}

void
jw_kdate(struct jw *w, const char *k, bool has, int64_t utc)
{
	char buf[32];

	jw_key(w, k);
	if (!has) {
		jw_null(w);
		return;
	}
	st_date_iso(utc, buf, sizeof(buf));
	jw_str(w, buf);
}

/* --- colours, warnings, progress ---------------------------------------- */

void
cli_color_setup(const char *mode)
{
	const char *nc = getenv("NO_COLOR");

	if (mode != NULL && strcmp(mode, "always") == 0)
		cli_color = true;
	else if (mode != NULL && strcmp(mode, "never") == 0)
		cli_color = false;
	else
		cli_color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0')
		    && getenv("TERM") != NULL && strcmp(getenv("TERM"), "dumb");
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);	/* one whole line, whatever other threads say */
	fputs("spamtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void
progress_init(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO);
	p->start = p->last = now();
}

void
progress_update(struct progress *p, uint64_t msgs, uint64_t bytes)
{
	double t;

	p->msgs = msgs;
	p->bytes = bytes;
	if (!p->on || (msgs & 255) != 0)
		return;
	t = now();
	if (t - p->last < 0.5)
		return;
	p->last = t;
	fprintf(stderr, "\r%llu messages, %.1f MB, %.0f msg/s   ",
	    (unsigned long long)msgs, bytes / 1e6,
	    msgs / (t - p->start > 0 ? t - p->start : 1));
}

void
progress_done(struct progress *p)
{
	if (p->on && p->last > p->start)
		fputs("\r\033[K", stderr);
}

int
cli_load_config(struct st_config *cfg, const char *explicit_path)
{
	struct st_error err;
	char path[4096];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");

	if (st_config_load(cfg, "/etc/spamtrace.conf", &err) != ST_OK &&
	    err.status != ST_EIO) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	if (xdg != NULL && *xdg)
		snprintf(path, sizeof(path), "%s/spamtrace/config", xdg);
	else if (home != NULL)
		snprintf(path, sizeof(path), "%s/.config/spamtrace/config",
		    home);
	else
		path[0] = '\0';
	if (path[0] && st_config_load(cfg, path, &err) != ST_OK &&
	    err.status != ST_EIO) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	if (explicit_path != NULL &&
	    st_config_load(cfg, explicit_path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void
cli_opts_init(struct cli_opts *co, void (*usage)(FILE *))
{
	memset(co, 0, sizeof(*co));
	st_config_init(&co->cl);
	co->color = "auto";
	co->usage = usage;
}

int
cli_opts_take(struct cli_opts *co, int c, const char *arg)
{
	struct st_error err;
	int rc = EXIT_USAGE;

	switch (c) {
	case 'm': st_strlist_add(&co->cl.me, arg); return CLI_GO_ON;
	case 't':
		if (st_config_add_trust(&co->cl, arg, &err) == ST_OK)
			return CLI_GO_ON;
		cli_warn("%s", err.msg);
		break;
	case 'B': st_strlist_add(&co->cl.dnsbl, arg); return CLI_GO_ON;
	case 'R':
		free(co->cl.resolver);
		co->cl.resolver = strdup(arg);
		return CLI_GO_ON;
	case 'c': co->config_path = arg; return CLI_GO_ON;
	case 'C': co->color = arg ? arg : "always"; return CLI_GO_ON;
	case 'j': {
		/* 0 (or no -j): one per processor; at most POOL_THREADS are
		 * started whatever is asked */
		char *end;
		long v;

		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno == 0 && end != arg && *end == '\0' && v >= 0 &&
		    v <= 1024) {
			co->jobs = (int)v;
			return CLI_GO_ON;
		}
		cli_warn("-j %s: not a number of threads (0-1024)", arg);
		break;
	}
	case 'h': co->usage(stdout); rc = EXIT_OK; break;
	default: co->usage(stderr); break;
	}
	st_config_free(&co->cl);
	return rc;
}

int
cli_opts_finish(struct cli_opts *co, int argc, struct st_config *cfg)
{
	int rc = EXIT_OK;

	if (optind >= argc) {
		co->usage(stderr);
		rc = EXIT_USAGE;
	} else if ((rc = cli_load_config(cfg, co->config_path)) == EXIT_OK &&
	    st_config_merge(cfg, &co->cl) != ST_OK) {
		/* command-line settings come after the files */
		cli_warn("out of memory");
		rc = EXIT_PARTIAL;
	}
	st_config_free(&co->cl);
	if (co->jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		co->jobs = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
	}
	return rc;
}
