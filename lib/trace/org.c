/*
 * org.c - which organisation a host name belongs to: its registrable
 * domain under the Public Suffix List (libpsl with Debian's publicsuffix
 * data; the built-in list when the data file is missing).
 */
#include <stdbool.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "spamtrace/received.h"
#include "spamtrace/trace.h"
#include "util/ascii.h"

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/*
 * The registrable domain of a lower-case name under the ICANN section of
 * the Public Suffix List only: the private section lists hosting and
 * cloud customers' zones ("members.linode.com", "compute.amazonaws.com"),
 * which would make every rented server an organisation of its own.  The
 * longest suffix that is an ICANN public suffix, plus one label; NULL
 * when none (an unknown top-level domain, "localdomain", "internal").
 * Points into name.
 */
static bool is_suffix_cached(const char *s);

static const char *
icann_registrable(const char *name)
{
	const char *p = name, *prev = NULL;

	while (p != NULL) {
		if (is_suffix_cached(p))
			return prev;
		prev = p;
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static void
psl_setup(void)
{
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
}

/*
 * A per-thread cache of icann_registrable() keyed by the lower-case name:
 * the Public Suffix List walk costs a few thousand instructions per label
 * and a trace asks about the same few hosts many times.  Found by an
 * FNV-1a hash of the name, in a set of REG_WAYS entries (two names that
 * share a set do not evict each other at every message), the newest
 * first; the answer is kept as an offset into the name (it is a suffix of
 * it), -1 for none.  is_ip caches st_ip_normalise() of the name (-1 not
 * known yet).
 */
#define REG_CACHE	4096		/* entries per thread, a power of 2 */
#define REG_WAYS	4		/* entries per set */
#define REG_NAME	128		/* longer names are not cached */
struct reg_entry {
	uint32_t hash;
	int16_t	off;
	int8_t	is_ip;
	uint8_t	len;			/* 0: empty slot */
	char	name[REG_NAME];
};
static _Thread_local struct reg_entry reg_cache[REG_CACHE];

/*
 * Lower-cases host into buf (size bytes), strips trailing dots and hashes
 * what is left, eight bytes at a time: every st_org_of() call comes here,
 * most of them for names the cache already holds.  Returns the length, or
 * (size_t)-1 when the name does not fit; *dot tells whether host has a
 * dot at all (trailing dots count).
 */
#define ONES	0x0101010101010101u

/* Bit 7 of each byte of x that is a dot. */
static uint64_t
dots8(uint64_t x)
{
	uint64_t y = x ^ ('.' * ONES);

	return (y - ONES) & ~y & (0x80 * ONES);
}

static size_t
lower_name(const char *host, char *buf, size_t size, uint32_t *hashp,
    bool *dot)
{
	uint64_t x, anydot = 0, h = 0;
	size_t len = strlen(host), i, kept, rest;

	*dot = false;
	if (len >= size)
		return (size_t)-1;
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, host + i, 8);
		x = st_ascii_lower8(x);
		anydot |= dots8(x);
		memcpy(buf + i, &x, 8);
	}
	if ((rest = len - i) > 0) {
		x = st_ascii_lower8(st_ascii_load8(host + i, rest));
		anydot |= dots8(x);	/* the zero bytes past the end are
					 * no dots */
		if (i + 8 <= size)
			memcpy(buf + i, &x, 8);
		else
			memcpy(buf + i, &x, rest);
	}
	*dot = anydot != 0;
	for (kept = len; kept > 0 && buf[kept - 1] == '.'; kept--)
		;
	buf[kept] = '\0';
	/* the hash of buf[0..kept), the last word padded with zeros */
	for (i = 0; i < kept; i += 8) {
		x = st_ascii_load8(buf + i, kept - i);
		h = (h ^ x) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	h = (h ^ kept) * 0xff51afd7ed558ccdu;
	*hashp = (uint32_t)(h ^ h >> 29);
	return kept;
}

/* The cache slot of buf[0..n) (hash h), filled in; NULL when not
 * cacheable. */
static struct reg_entry *
reg_lookup(const char *buf, size_t n, uint32_t h)
{
	struct reg_entry *set, *e;
	const char *rd;
	size_t w;

	if (n == 0 || n >= REG_NAME)
		return NULL;
	set = &reg_cache[h & (REG_CACHE - REG_WAYS)];
	for (w = 0; w < REG_WAYS; w++) {
		e = &set[w];
		if (e->len == n && e->hash == h &&
		    memcmp(e->name, buf, n) == 0)
			return e;
	}
	/* a miss: the oldest entry goes, the new one is first */
	memmove(&set[1], &set[0], (REG_WAYS - 1) * sizeof(*set));
	e = &set[0];
	rd = icann_registrable(buf);
	e->hash = h;
	e->len = (uint8_t)n;
	e->off = rd == NULL ? -1 : (int16_t)(rd - buf);
	e->is_ip = -1;
	memcpy(e->name, buf, n);
	return e;
}

/*
 * psl_is_public_suffix2() answers cached per thread: the names of a trace
 * differ but share their endings ("com", "google.com"), so most suffixes
 * walked by icann_registrable() have been asked about before.  Sets of
 * REG_WAYS entries, as above.
 */
#define SUF_CACHE	4096		/* a power of 2 */
struct suf_entry {
	uint32_t hash;
	uint8_t	len;			/* 0: empty slot */
	bool	is_suffix;
	char	name[REG_NAME];
};
static _Thread_local struct suf_entry suf_cache[SUF_CACHE];

static bool
is_suffix_cached(const char *s)
{
	uint32_t h = 2166136261u;
	struct suf_entry *set, *e;
	size_t n, w;

	for (n = 0; s[n] != '\0' && n < REG_NAME; n++)
		h = (h ^ (unsigned char)s[n]) * 16777619u;
	if (n == 0 || n >= REG_NAME)
		return psl_is_public_suffix2(psl, s,
		    PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
	set = &suf_cache[h & (SUF_CACHE - REG_WAYS)];
	for (w = 0; w < REG_WAYS; w++) {
		e = &set[w];
		if (e->len == n && e->hash == h &&
		    memcmp(e->name, s, n) == 0)
			return e->is_suffix;
	}
	memmove(&set[1], &set[0], (REG_WAYS - 1) * sizeof(*set));
	e = &set[0];
	e->is_suffix = psl_is_public_suffix2(psl, s,
	    PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
	e->hash = h;
	e->len = (uint8_t)n;
	memcpy(e->name, s, n);
	return e->is_suffix;
}

/* The registrable domain of host into buf ("" when none). */
void
st_org_into(const char *host, char *out, size_t size)
{
	char buf[256];
	const char *rd;
	struct reg_entry *e;
	uint32_t h;
	size_t n;
	bool dot;

	out[0] = '\0';
	if (host == NULL || *host == '\0')
		return;
	n = lower_name(host, buf, sizeof(buf), &h, &dot);
	if (n == (size_t)-1 || !dot)
		return;
	pthread_once(&psl_once, psl_setup);
	if (psl == NULL)
		return;
	if ((e = reg_lookup(buf, n, h)) != NULL)
		rd = e->off < 0 ? NULL : buf + e->off;
	else
		rd = icann_registrable(buf);
	if (rd != NULL && strlen(rd) < size)
		memcpy(out, rd, strlen(rd) + 1);
}

const char *
st_org_of(struct st_arena *a, const char *host)
{
	char buf[256];
	const char *rd;
	struct reg_entry *e;
	uint32_t h;
	size_t n;
	bool dot;

	if (host == NULL || *host == '\0')
		return "";
	n = lower_name(host, buf, sizeof(buf), &h, &dot);
	if (n == (size_t)-1 || !dot)
		return "";
	pthread_once(&psl_once, psl_setup);
	if ((e = psl != NULL ? reg_lookup(buf, n, h) : NULL) == NULL) {
		if (st_ip_normalise(buf, n, (char[64]){ 0 }, 64))
			return "";
		if (psl == NULL)
			return "";
		rd = icann_registrable(buf);
	} else {
		if (e->is_ip < 0)
			e->is_ip = st_ip_normalise(buf, n, (char[64]){ 0 },
			    64) ? 1 : 0;
		if (e->is_ip)
			return "";
		if (e->off < 0 || (size_t)e->off >= n)
			return "";
		return st_arena_strndup(a, buf + e->off, n - (size_t)e->off);
	}
	if (rd == NULL || *rd == '\0')
		return "";
	return st_arena_strdup(a, rd);
}
