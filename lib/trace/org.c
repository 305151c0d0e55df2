/*
 * org.c - which organisation a host name belongs to: its registrable
 * domain under the Public Suffix List (libpsl with Debian's publicsuffix
 * data; the built-in list when the data file is missing).
 */
#include <ctype.h>
#include <stdbool.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>

#include "spamtrace/received.h"
#include "spamtrace/trace.h"

static const psl_ctx_t *psl;
static const char *st_org_of_uncached(struct st_arena *a, const char *host);
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
static const char *
icann_registrable(const char *name)
{
	const char *p = name, *prev = NULL;

	while (p != NULL) {
		if (psl_is_public_suffix2(psl, p,
		    PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE))
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

/* The registrable domain of host into buf ("" when none). */
void
st_org_into(const char *host, char *out, size_t size)
{
	char buf[256], *p;
	const char *rd;

	out[0] = '\0';
	if (host == NULL || *host == '\0' || strchr(host, '.') == NULL ||
	    strlen(host) >= sizeof(buf))
		return;
	for (p = buf; *host; host++)
		*p++ = (char)tolower((unsigned char)*host);
	*p = '\0';
	while (p > buf && p[-1] == '.')
		*--p = '\0';
	pthread_once(&psl_once, psl_setup);
	if (psl == NULL)
		return;
	rd = icann_registrable(buf);
	if (rd != NULL && strlen(rd) < size)
		strcpy(out, rd);
}

/*
 * A small per-thread cache of the last names looked up: the trace asks for
 * the organisation of the same few hosts many times per message.
 */
#define ORG_CACHE 32
struct org_cache_entry {
	char	host[128];
	char	org[128];
};
static _Thread_local struct org_cache_entry org_cache[ORG_CACHE];
static _Thread_local unsigned org_cache_next;

const char *
st_org_of(struct st_arena *a, const char *host)
{
	const char *rd;
	size_t n;
	unsigned i;

	if (host == NULL || *host == '\0' || strchr(host, '.') == NULL)
		return "";
	n = strlen(host);
	if (n < sizeof(org_cache[0].host))
		for (i = 0; i < ORG_CACHE; i++)
			if (org_cache[i].host[0] == host[0] &&
			    strcmp(org_cache[i].host, host) == 0)
				return org_cache[i].org[0] ?
				    st_arena_strdup(a, org_cache[i].org) : "";
	rd = st_org_of_uncached(a, host);
	if (n < sizeof(org_cache[0].host) && strlen(rd) < sizeof(org_cache[0].org)) {
		struct org_cache_entry *e = &org_cache[org_cache_next++ % ORG_CACHE];

		memcpy(e->host, host, n + 1);
		strcpy(e->org, rd);
	}
	return rd;
}

static const char *
st_org_of_uncached(struct st_arena *a, const char *host)
{
	char buf[256], *p;
	const char *rd;
	size_t n;

	if (host == NULL || *host == '\0' || strchr(host, '.') == NULL)
		return "";
	n = strlen(host);
	if (n >= sizeof(buf))
		return "";
	for (p = buf; *host; host++)
		*p++ = (char)tolower((unsigned char)*host);
	*p = '\0';
	while (p > buf && p[-1] == '.')
		*--p = '\0';
	if (st_ip_normalise(buf, strlen(buf), (char[64]){ 0 }, 64))
		return "";
	pthread_once(&psl_once, psl_setup);
	if (psl == NULL)
		return "";
	rd = icann_registrable(buf);
	if (rd == NULL)
		return "";
	return st_arena_strdup(a, rd);
}
