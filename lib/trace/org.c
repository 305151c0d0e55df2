/*
 * org.c - which organisation a host name belongs to: its registrable
 * domain under the Public Suffix List (libpsl with Debian's publicsuffix
 * data; the built-in list when the data file is missing).
 */
#include <ctype.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>

#include "spamtrace/received.h"
#include "spamtrace/trace.h"

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

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
	rd = psl_registrable_domain(psl, buf);
	if (rd != NULL && strlen(rd) < size)
		strcpy(out, rd);
}

const char *
st_org_of(struct st_arena *a, const char *host)
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
	rd = psl_registrable_domain(psl, buf);
	if (rd == NULL)
		return "";
	return st_arena_strdup(a, rd);
}
