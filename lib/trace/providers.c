/*
 * providers.c - the table of large mailbox providers (data/providers.txt,
 * compiled in at build time): which domains their users' addresses are in
 * and which domains their servers live in.  Read once, on first use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace_int.h"

static const char providers_text[] =
#include "providers_data.inc"
    "";

#define MAX_PROVIDERS	128
#define MAX_DOMAINS	32

struct provider {
	char	name[32];
	char   *addr[MAX_DOMAINS];
	size_t	naddr;
	char   *servers[MAX_DOMAINS];
	size_t	nservers;
};

static struct provider providers[MAX_PROVIDERS];
static size_t nproviders;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
split_list(const char *p, size_t n, char **out, size_t *nout)
{
	const char *e = p + n;

	while (p < e && *nout < MAX_DOMAINS) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		size_t len = (size_t)((c ? c : e) - p);

		if (len > 0)
			out[(*nout)++] = strndup(p, len);
		p = c ? c + 1 : e;
	}
}

static void
load(void)
{
	const char *p = providers_text;

	while (*p && nproviders < MAX_PROVIDERS) {
		const char *eol = strchr(p, '\n'), *w, *e;
		struct provider *pr;

		if (eol == NULL)
			eol = p + strlen(p);
		if (*p == '#' || *p == '\n' || *p == ' ') {
			p = *eol ? eol + 1 : eol;
			continue;
		}
		pr = &providers[nproviders++];
		memset(pr, 0, sizeof(*pr));
		for (w = p; w < eol; w = e) {
			while (w < eol && *w == ' ')
				w++;
			for (e = w; e < eol && *e != ' '; e++)
				;
			if (e == w)
				break;
			if (pr->name[0] == '\0') {
				size_t n = (size_t)(e - w);

				if (n >= sizeof(pr->name))
					n = sizeof(pr->name) - 1;
				memcpy(pr->name, w, n);
			} else if (e - w > 5 && memcmp(w, "addr=", 5) == 0)
				split_list(w + 5, (size_t)(e - w - 5),
				    pr->addr, &pr->naddr);
			else if (e - w > 8 && memcmp(w, "servers=", 8) == 0)
				split_list(w + 8, (size_t)(e - w - 8),
				    pr->servers, &pr->nservers);
		}
		p = *eol ? eol + 1 : eol;
	}
}

static bool
in_list(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

const char *
st_provider_of_server_org(const char *org)
{
	size_t i;

	if (org == NULL || *org == '\0')
		return NULL;
	pthread_once(&once, load);
	for (i = 0; i < nproviders; i++)
		if (in_list(providers[i].servers, providers[i].nservers, org))
			return providers[i].name;
	return NULL;
}

const char *
st_provider_of_addr_domain(const char *domain)
{
	size_t i;

	if (domain == NULL || *domain == '\0')
		return NULL;
	pthread_once(&once, load);
	for (i = 0; i < nproviders; i++)
		if (in_list(providers[i].addr, providers[i].naddr, domain))
			return providers[i].name;
	return NULL;
}

bool
st_provider_has_server_org(const char *provider, const char *org)
{
	size_t i;

	if (provider == NULL || org == NULL || *org == '\0')
		return false;
	pthread_once(&once, load);
	for (i = 0; i < nproviders; i++)
		if (strcmp(providers[i].name, provider) == 0)
			return in_list(providers[i].servers,
			    providers[i].nservers, org);
	return false;
}
