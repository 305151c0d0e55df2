/*
 * providers.c - the table of large mailbox providers (data/providers.txt,
 * compiled in at build time): which domains their users' addresses are in
 * and which domains their servers live in.  Read once, on first use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

#include "trace_int.h"
#include "util/ascii.h"

static const char providers_text[] =
#include "providers_data.inc"
    "";

#define MAX_PROVIDERS	128
#define MAX_DOMAINS	32

struct provider {
	char	name[32];
	char	display[48];	/* for people; name when not given */
	char   *pools[MAX_DOMAINS];	/* its customers' access lines */
	size_t	npools;
	char   *addr[MAX_DOMAINS];
	size_t	naddr;
	char   *servers[MAX_DOMAINS];
	size_t	nservers;
};

static struct provider providers[MAX_PROVIDERS];
static size_t nproviders;

/* Every server and address domain, sorted, for bsearch: the trace asks
 * "which provider is this organisation?" many times per message. */
struct dom_entry {
	const char *domain;
	const struct provider *p;
};
static struct dom_entry server_index[MAX_PROVIDERS * MAX_DOMAINS];
static size_t nserver_index;
static struct dom_entry addr_index[MAX_PROVIDERS * MAX_DOMAINS];
static size_t naddr_index;

/*
 * Each index is also hashed (open addressing, FNV-1a of the lower-case
 * domain), with for each domain the entry bsearch() finds, so that a
 * lookup costs one hash and, usually, one compare.
 */
#define HASH_SLOTS	(2 * MAX_PROVIDERS * MAX_DOMAINS)	/* power of 2 */
struct dom_slot {
	uint32_t hash;
	const struct dom_entry *e;	/* NULL: empty */
};
static struct dom_slot server_hash[HASH_SLOTS], addr_hash[HASH_SLOTS];

/* A hash of the domain s[0..n), eight bytes at a time, the last word
 * padded with zeros. */
static uint32_t
dom_hash(const char *s, size_t n)
{
	uint64_t x, h = 0;
	size_t i;

	for (i = 0; i < n; i += 8) {
		x = st_ascii_load8(s + i, n - i);
		h = (h ^ x) * 0x9e3779b97f4a7c15u;
		h ^= h >> 32;
	}
	h = (h ^ n) * 0xff51afd7ed558ccdu;
	return (uint32_t)(h ^ h >> 29);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct dom_entry *)a)->domain,
	    ((const struct dom_entry *)b)->domain);
}
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

/* Fills tab with the domains of the sorted idx[0..n), each with the
 * entry bsearch() gives for it (the same one when a domain is listed for
 * two providers). */
static void
hash_index(const struct dom_entry *idx, size_t n, struct dom_slot *tab)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct dom_entry *hit = bsearch(&idx[i], idx, n,
		    sizeof(*idx), cmp_entry);
		uint32_t h = dom_hash(idx[i].domain,
		    strlen(idx[i].domain));

		for (k = h & (HASH_SLOTS - 1); tab[k].e != NULL;
		    k = (k + 1) & (HASH_SLOTS - 1))
			if (tab[k].hash == h &&
			    strcmp(tab[k].e->domain, hit->domain) == 0)
				break;
		if (tab[k].e == NULL) {
			tab[k].hash = h;
			tab[k].e = hit;
		}
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
			else if (e - w > 6 && memcmp(w, "pools=", 6) == 0)
				split_list(w + 6, (size_t)(e - w - 6),
				    pr->pools, &pr->npools);
			else if (e - w > 8 && memcmp(w, "display=", 8) == 0) {
				size_t n = (size_t)(e - w - 8), k;

				if (n >= sizeof(pr->display))
					n = sizeof(pr->display) - 1;
				for (k = 0; k < n; k++)
					pr->display[k] = w[8 + k] == '_' ? ' ' :
					    w[8 + k];
			} else if (e - w > 8 && memcmp(w, "servers=", 8) == 0)
				split_list(w + 8, (size_t)(e - w - 8),
				    pr->servers, &pr->nservers);
		}
		if (pr->display[0] == '\0')
			memcpy(pr->display, pr->name, sizeof(pr->name));
		p = *eol ? eol + 1 : eol;
	}
	for (size_t i = 0; i < nproviders; i++) {
		for (size_t k = 0; k < providers[i].nservers; k++)
			server_index[nserver_index++] = (struct dom_entry){
			    providers[i].servers[k], &providers[i] };
		for (size_t k = 0; k < providers[i].naddr; k++)
			addr_index[naddr_index++] = (struct dom_entry){
			    providers[i].addr[k], &providers[i] };
	}
	qsort(server_index, nserver_index, sizeof(server_index[0]), cmp_entry);
	qsort(addr_index, naddr_index, sizeof(addr_index[0]), cmp_entry);
	hash_index(server_index, nserver_index, server_hash);
	hash_index(addr_index, naddr_index, addr_hash);
}

/* Look a domain up (case-insensitively) in one of the hashed indexes. */
static const struct provider *
lookup(const struct dom_slot *tab, const char *domain)
{
	char low[256];
	uint64_t x;
	uint32_t h;
	size_t i, k, n = strlen(domain);

	if (n >= sizeof(low) - 1)
		return NULL;
	/* lowered eight bytes at a time (the last word's zeros included:
	 * low has room, and ends at n) */
	for (i = 0; i < n; i += 8) {
		x = st_ascii_lower8(st_ascii_load8(domain + i, n - i));
		memcpy(low + i, &x, 8);
	}
	low[n] = '\0';
	h = dom_hash(low, n);
	for (k = h & (HASH_SLOTS - 1); tab[k].e != NULL;
	    k = (k + 1) & (HASH_SLOTS - 1))
		if (tab[k].hash == h && strcmp(tab[k].e->domain, low) == 0)
			return tab[k].e->p;
	return NULL;
}

const char *
st_provider_of_server_org(const char *org)
{
	const struct provider *p;

	if (org == NULL || *org == '\0')
		return NULL;
	pthread_once(&once, load);
	p = lookup(server_hash, org);
	return p ? p->name : NULL;
}

const char *
st_provider_of_addr_domain(const char *domain)
{
	const struct provider *p;

	if (domain == NULL || *domain == '\0')
		return NULL;
	pthread_once(&once, load);
	p = lookup(addr_hash, domain);
	return p ? p->name : NULL;
}

bool
st_provider_has_server_org(const char *provider, const char *org)
{
	const struct provider *p;

	if (provider == NULL || org == NULL || *org == '\0')
		return false;
	pthread_once(&once, load);
	p = lookup(server_hash, org);
	/* a domain may serve two providers (aol.com for yahoo and aol) */
	if (p != NULL && strcmp(p->name, provider) == 0)
		return true;
	for (size_t i = 0; i < nproviders; i++)
		if (strcmp(providers[i].name, provider) == 0)
			for (size_t k = 0; k < providers[i].nservers; k++)
				if (strcasecmp(providers[i].servers[k], org) == 0)
					return true;
	return false;
}

const char *
st_provider_display(const char *provider)
{
	if (provider == NULL)
		return "";
	pthread_once(&once, load);
	for (size_t i = 0; i < nproviders; i++)
		if (strcmp(providers[i].name, provider) == 0)
			return providers[i].display;
	return provider;
}

bool
st_provider_is_isp(const char *org)
{
	if (org == NULL || *org == '\0')
		return false;
	pthread_once(&once, load);
	for (size_t i = 0; i < nproviders; i++)
		for (size_t k = 0; k < providers[i].npools; k++)
			if (strcasecmp(providers[i].pools[k], org) == 0)
				return true;
	return false;
}
