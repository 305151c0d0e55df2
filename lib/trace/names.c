/*
 * names.c - host name helpers for the trace: FQDN and localhost tests,
 * "same host" and "same organisation" comparisons, and the end-user /
 * dynamic address test.
 *
 * The dynamic test combines three kinds of evidence, each a data table
 * below: the reverse name embeds the address's own digits (decimal or
 * hex); it holds a word used for consumer pools (dsl, ppp, dialup, pool,
 * dhcp, cable, pub-ip ...); or it matches one of the six S25R patterns
 * (Selective SMTP Rejection, Asami Hideo 2004-2005, the practice of
 * Japanese mail administrators; the patterns are published facts).
 * Names in the domains of the large providers of data/providers.txt, and
 * names whose first label says mail server (mail, smtp, mx, mta, relay,
 * out...), are never taken for dynamic.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "trace_int.h"
#include "util/ascii.h"
#include "util/fmt.h"

/*
 * st_ip_is_private() and st_ip_is_loopback() answered from a per-thread
 * cache: a trace asks about the same few addresses again and again, and
 * each answer costs an inet_pton().  Direct-mapped on an FNV-1a hash of
 * the text; longer texts are not cached.
 */
#define IPC_CACHE	64		/* a power of 2 */
struct ipc_entry {
	char	ip[48];
	uint8_t	len;			/* 0: empty slot */
	bool	priv, loop;
};
static _Thread_local struct ipc_entry ipc_cache[IPC_CACHE];

static const struct ipc_entry *
ipc_lookup(const char *ip)
{
	uint32_t h = 2166136261u;
	struct ipc_entry *e;
	size_t n;

	for (n = 0; ip[n] != '\0' && n < sizeof(e->ip); n++)
		h = (h ^ (unsigned char)ip[n]) * 16777619u;
	if (n == 0 || n >= sizeof(e->ip))
		return NULL;
	e = &ipc_cache[h & (IPC_CACHE - 1)];
	if (e->len == n && memcmp(e->ip, ip, n) == 0)
		return e;
	e->priv = st_ip_is_private(ip);
	e->loop = st_ip_is_loopback(ip);
	memcpy(e->ip, ip, n);
	e->len = (uint8_t)n;
	return e;
}

/*
 * Most addresses are dotted quads: read one as inet_pton(AF_INET) does
 * (four decimal numbers up to 255, no leading zeros, nothing else) and
 * classify it with the ranges of st_ip_is_private() and
 * st_ip_is_loopback(), cheaper than hashing the text.  False for anything
 * else, which goes to the cache.
 */
static bool
quad(const char *s, uint32_t *ap)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t a = 0;
	unsigned v, d, parts;

	for (parts = 0;; parts++) {
		if ((v = (unsigned)p[0] - '0') > 9)
			return false;
		if ((d = (unsigned)p[1] - '0') > 9)
			p += 1;
		else if (v == 0)
			return false;		/* a leading zero */
		else {
			v = v * 10 + d;
			if ((d = (unsigned)p[2] - '0') > 9)
				p += 2;
			else {
				v = v * 10 + d;
				p += 3;
				if (v > 255 || (unsigned)p[0] - '0' <= 9)
					return false;
			}
		}
		a = a << 8 | v;
		if (parts == 3)
			break;
		if (*p++ != '.')
			return false;
	}
	if (*p != '\0')
		return false;
	*ap = a;
	return true;
}

static bool
quad_private(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) ||
	    (a >> 16) == (192u << 8 | 168) || (a >> 22) == (100u << 2 | 1) ||
	    (a >> 16) == (169u << 8 | 254);
}

static bool
quad_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

bool
st_ip_private_c(const char *ip)
{
	const struct ipc_entry *e;
	uint32_t a;

	if (quad(ip, &a))
		return quad_private(a);
	e = ipc_lookup(ip);
	return e != NULL ? e->priv : st_ip_is_private(ip);
}

bool
st_ip_loopback_c(const char *ip)
{
	const struct ipc_entry *e;
	uint32_t a;

	if (quad(ip, &a))
		return quad_loopback(a);
	e = ipc_lookup(ip);
	return e != NULL ? e->loop : st_ip_is_loopback(ip);
}

bool
st_ip_local_c(const char *ip)
{
	const struct ipc_entry *e;
	uint32_t a;

	if (quad(ip, &a))
		return quad_private(a) || quad_loopback(a);
	e = ipc_lookup(ip);
	return e != NULL ? e->priv || e->loop :
	    st_ip_is_private(ip) || st_ip_is_loopback(ip);
}

bool
st_name_is_fqdn(const char *name)
{
	const char *dot;

	if (name == NULL || *name == '\0' || st_name_is_localhost(name))
		return false;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && dot[1] != '\0';
}

bool
st_name_is_localhost(const char *name)
{
	/* all four start with "l": most names are settled by their first
	 * byte */
	if (name == NULL || ((name[0] | 0x20) != 'l'))
		return false;
	return (strcasecmp(name, "localhost") == 0 ||
	    strncasecmp(name, "localhost.", 10) == 0 ||
	    strcasecmp(name, "localhost.localdomain") == 0 ||
	    strcasecmp(name, "localdomain") == 0);
}

bool
st_name_is_ip_literal(const char *name, char *ip, size_t size)
{
	size_t n;

	if (name == NULL || *name == '\0')
		return false;
	/* Most names are host names: with no colon before a '%' (a zone
	 * id), text can only be a dotted quad (IPv6, "IPv6:" and a port
	 * glued on all have one), and a letter there rules that out. */
	{
		const char *p;
		bool letter = false;

		for (p = name; *p != '\0' && *p != '%' && *p != ':'; p++)
			if ((unsigned char)((*p | 0x20) - 'a') < 26)
				letter = true;
		if (letter && *p != ':')
			return false;
	}
	n = strlen(name);
	if (name[0] == '[' && n > 2 && name[n - 1] == ']')
		return st_ip_normalise(name + 1, n - 2, ip, size);
	return st_ip_normalise(name, n, ip, size);
}

static size_t
label_len(const char *s)
{
	const char *d = strchr(s, '.');

	return d ? (size_t)(d - s) : strlen(s);
}

bool
st_name_same_host(const char *a, const char *b)
{
	size_t la, lb, na, nb;

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return false;
	na = strlen(a);
	nb = strlen(b);
	while (na && a[na - 1] == '.')
		na--;
	while (nb && b[nb - 1] == '.')
		nb--;
	if (na == nb && strncasecmp(a, b, na) == 0)
		return true;
	la = label_len(a);
	lb = label_len(b);
	/* "labmsrv." or "labmsrv" against "labmsrv.dept.example.ac.jp" */
	if ((la >= na || lb >= nb) && la == lb && la > 0 &&
	    strncasecmp(a, b, la) == 0)
		return true;
	return false;
}

bool
st_org_equiv(const char *a, const char *b)
{
	const char *pa, *pb;

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return false;
	if (strcasecmp(a, b) == 0)
		return true;
	pa = st_provider_of_server_org(a);
	pb = st_provider_of_server_org(b);
	return pa != NULL && pb != NULL && strcmp(pa, pb) == 0;
}

const char *
st_addr_domain(struct st_arena *a, const char *addr)
{
	const char *at;
	char *d, *p;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL || !at[1])
		return "";
	d = st_arena_strdup(a, at + 1);
	if (d == NULL)
		return "";
	for (p = d; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (*p == '>' || *p == ' ')
			*p = '\0';
	}
	return d;
}

/* --- the dynamic test ------------------------------------------------- */

/* The six S25R patterns, applied to the lower-cased reverse name. */
static const char *const s25r_patterns[] = {
	"^[^.]*[0-9][^0-9.]+[0-9].*\\.",
	"^[^.]*[0-9]{5}",
	"^([^.]+\\.)?[0-9][^.]*\\.[^.]+\\..+\\.[a-z]",
	"^[^.]*[0-9]\\.[^.]*[0-9]-[0-9]",
	"^[^.]*[0-9]\\.[^.]*[0-9]\\.[^.]+\\..+\\.",
	"^(dhcp|dialup|ppp|[achrsvx]?dsl)[^.]*[0-9]",
};
#define NS25R (sizeof(s25r_patterns) / sizeof(s25r_patterns[0]))

/* Words of consumer access networks (whole tokens of the name). */
static const char *const dynamic_words[] = {
	"dyn", "dynamic", "dynip", "dial", "dialup", "dialin", "dip",
	"ppp", "pppoe", "pppoa", "dsl", "adsl", "xdsl", "vdsl", "sdsl",
	"cable", "catv", "pool", "dhcp", "client", "clients", "cust",
	"customer", "home", "broadband", "bband", "ftth", "fttx", "fiber",
	"fibre", "wireless", "wlan", "mobile", "resi",
	"residential", "user", "users", "subscriber", "unassigned",
	"flets", "bbtec", "hsd", "dialip", "modem", "tpnet", "pptp",
	NULL
};

/* First labels that name a mail server. */
static const char *const server_words[] = {
	"mail", "smtp", "mx", "mta", "relay", "out", "outbound", "mailout",
	"mo", "mr", "ms", "mxout", "postfix", "exim", "sendmail", "email",
	"gateway", "gw", "lists", "list", "bounce", "ns", "www", "web",
	"sv", "svr", NULL
};

static regex_t s25r[NS25R];
static bool s25r_ok[NS25R];
static pthread_once_t s25r_once = PTHREAD_ONCE_INIT;

static void
s25r_compile(void)
{
	size_t i;

	for (i = 0; i < NS25R; i++)
		s25r_ok[i] = regcomp(&s25r[i], s25r_patterns[i],
		    REG_EXTENDED | REG_NOSUB) == 0;
}

static bool
word_in(const char *w, size_t n, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
			return true;
	return false;
}

/* Does the name carry two or more of the address's octets as numbers,
 * or the address in hex? */
bool
st_name_embeds_ip(const char *name, const char *ip)
{
	unsigned char b[4];
	char hex[9];
	unsigned nums[32];
	size_t nn = 0, i, j;
	const char *p;
	int hits = 0;

	if (ip == NULL || inet_pton(AF_INET, ip, b) != 1)
		return false;
	for (i = 0; i < 4; i++) {
		hex[2 * i] = "0123456789abcdef"[b[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	hex[8] = '\0';
	if (st_ascii_strcasestr(name, hex) != NULL)
		return true;
	for (p = name; *p && nn < 32;) {
		if (isdigit((unsigned char)*p)) {
			unsigned v = 0;
			int k = 0;

			while (isdigit((unsigned char)*p) && k < 4) {
				v = v * 10 + (unsigned)(*p - '0');
				p++;
				k++;
			}
			while (isdigit((unsigned char)*p))
				p++;
			nums[nn++] = v;
		} else
			p++;
	}
	/* count octets found in order (forwards or backwards) */
	for (i = 0, j = 0; i < nn && j < 4; i++)
		if (nums[i] == b[j]) {
			j++;
			hits = (int)j;
		}
	if (hits >= 2)
		return true;
	for (i = 0, j = 0; i < nn && j < 4; i++)
		if (nums[i] == b[3 - j])
			j++;
	return j >= 2 && (nn >= 2);
}

static bool
n_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The first token of letters in [p, e) that is in list, or NULL; *np
 * gets its length. */
static const char *
find_word(const char *p, const char *e, const char *const *list, size_t *np)
{
	while (p < e) {
		const char *w;

		while (p < e && !isalpha((unsigned char)*p))
			p++;
		w = p;
		while (p < e && isalpha((unsigned char)*p))
			p++;
		if (p > w && word_in(w, (size_t)(p - w), list)) {
			*np = (size_t)(p - w);
			return w;
		}
	}
	return NULL;
}

/* Does the host part name a mail server ("mail2", "smtp-out", "mta7",
 * "omta01", "mx01")? */
static bool
says_mail_server(const char *low, const char *org_start, size_t first)
{
	const char *p;
	size_t i;

	for (i = 0; server_words[i] != NULL; i++) {
		size_t wl = strlen(server_words[i]);

		/* "mail", "smtp2", "mx01.example": the word, then a digit
		 * or the end of the label */
		if (first >= wl && strncmp(low, server_words[i], wl) == 0 &&
		    (first == wl || isdigit((unsigned char)low[wl])))
			return true;
	}
	for (p = low; p < org_start;) {
		const char *w;

		while (p < org_start && !isalpha((unsigned char)*p))
			p++;
		w = p;
		while (p < org_start && isalpha((unsigned char)*p))
			p++;
		if (p - w >= 3 && (word_in(w, (size_t)(p - w), server_words) ||
		    memmem(w, (size_t)(p - w), "smtp", 4) ||
		    memmem(w, (size_t)(p - w), "mail", 4) ||
		    memmem(w, (size_t)(p - w), "mta", 3) ||
		    memmem(w, (size_t)(p - w), "relay", 5)))
			return true;
	}
	return false;
}

/* Words that say consumer access line beyond doubt: they win over
 * anything else in the name ("mx-ll-183.88.14-201.dynamic.3bb.co.th"). */
static const char *const strong_dynamic_words[] = {
	"dyn", "dynamic", "dynip", "dial", "dialup", "dialin", "ppp", "pppoe",
	"pppoa", "dhcp", "pool", "dsl", "adsl", "xdsl", "vdsl", "sdsl",
	"cable", "catv", "ftth", "bbtec", "flets", "broadband", NULL
};

/* Rented servers: hosting, not an end-user line (whatever S25R says). */
static const char *const hosting_words[] = {
	"vps", "static", "server", "servers", "srv", "dedicated", "dedi",
	"cloud", "hosted", "hosting", "members", "colo", "compute", "vm",
	NULL
};

/* An organisation whose name says hosting ("kvmservers.eu",
 * "secureserver.net", "xserver.jp", "example-hosting.com"). */
bool
st_org_is_hosting(const char *org)
{
	static const char *const words[] = { "server", "hosting", "vps",
	    "cloud", "datacenter", "colo", NULL };
	const char *dot = strchr(org, '.');
	size_t i, n = dot ? (size_t)(dot - org) : strlen(org);

	for (i = 0; words[i] != NULL; i++)
		if (memmem(org, n, words[i], strlen(words[i])) != NULL)
			return true;
	return false;
}

static bool
is_dynamic(const char *rdns, const char *ip, char *why, size_t size)
{
	char low[256], *org_start, o[256];
	const char *w;
	size_t i, n, first;

	if (rdns == NULL || !st_name_is_fqdn(rdns) || strlen(rdns) >= sizeof(low) ||
	    st_name_is_ip_literal(rdns, low, sizeof(low)))
		return false;
	if (ip != NULL && (st_ip_private_c(ip) || st_ip_loopback_c(ip)))
		return false;
	for (i = 0; rdns[i]; i++)
		low[i] = (char)tolower((unsigned char)rdns[i]);
	low[i] = '\0';
	if (n_ends_with(low, ".internal") || n_ends_with(low, ".local") ||
	    n_ends_with(low, ".lan"))
		return false;	/* private names say nothing */
	/* the organisation part is not looked at ("ocn.ne.jp" itself is
	 * not dynamic) */
	st_org_into(low, o, sizeof(o));
	org_start = low + strlen(low);
	if (o[0] && strlen(o) < strlen(low))
		org_start = low + strlen(low) - strlen(o) - 1;
	first = label_len(low);

	/* 1. words that settle it */
	if ((w = find_word(low, org_start, strong_dynamic_words, &n)) != NULL ||
	    strstr(low, "pub-ip") != NULL) {
		if (w != NULL)
			st_fmt(why, size, "the name says '%.*s'", (int)n, w);
		else
			st_fmt(why, size, "the name says 'pub-ip'");
		return true;
	}
	/* 2. mail servers, rented servers, a mailbox provider's servers */
	if (says_mail_server(low, org_start, first) ||
	    find_word(low, org_start, hosting_words, &n) != NULL ||
	    st_org_is_hosting(o))
		return false;
	if (st_provider_of_server_org(o) != NULL && !st_provider_is_isp(o))
		return false;
	/* 3. the address in the name, pool words, the S25R patterns */
	if (st_name_embeds_ip(low, ip)) {
		st_fmt(why, size, "the name embeds the address's digits");
		return true;
	}
	if ((w = find_word(low, org_start, dynamic_words, &n)) != NULL) {
		st_fmt(why, size, "the name says '%.*s'", (int)n, w);
		return true;
	}
	pthread_once(&s25r_once, s25r_compile);
	for (i = 0; i < NS25R; i++)
		if (s25r_ok[i] && regexec(&s25r[i], low, 0, NULL, 0) == 0) {
			st_fmt(why, size, "the name matches S25R pattern %zu",
			    i + 1);
			return true;
		}
	return false;
}

/*
 * st_name_is_dynamic() answered from a per-thread cache: the analysis and
 * the findings ask about the same names, and the answer costs six
 * regexec() calls and a public-suffix walk.  Found by an FNV-1a hash of
 * name and address in a set of DYN_WAYS entries, the newest first (two
 * names of one set do not evict each other at every message); longer
 * pairs are not cached.
 */
#define DYN_CACHE	1024		/* a power of 2 */
#define DYN_WAYS	4		/* entries per set */
#define DYN_KEY		160
struct dyn_entry {
	uint32_t hash;
	uint16_t len;			/* 0: empty slot */
	bool	dynamic;
	char	key[DYN_KEY];		/* rdns NUL ip */
	char	why[96];
};
static _Thread_local struct dyn_entry dyn_cache[DYN_CACHE];

/* what snprintf(why, size, "%s", s) writes */
static void
why_copy(char *why, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (why == NULL || size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(why, s, n);
	why[n] = '\0';
}

bool
st_name_is_dynamic(const char *rdns, const char *ip, char *why, size_t size)
{
	uint32_t h = 2166136261u;
	struct dyn_entry *set, *e;
	size_t rn, in, i, w;

	if (rdns == NULL)
		return is_dynamic(rdns, ip, why, size);
	rn = strlen(rdns);
	in = ip != NULL ? strlen(ip) : 0;
	if (rn + in + 3 > DYN_KEY || size > sizeof(e->why))
		return is_dynamic(rdns, ip, why, size);
	for (i = 0; i < rn; i++)
		h = (h ^ (unsigned char)rdns[i]) * 16777619u;
	h = (h ^ (ip != NULL ? 1u : 0u)) * 16777619u;
	for (i = 0; i < in; i++)
		h = (h ^ (unsigned char)ip[i]) * 16777619u;
	set = &dyn_cache[h & (DYN_CACHE - DYN_WAYS)];
	for (w = 0; w < DYN_WAYS; w++) {
		e = &set[w];
		if (e->len == rn + 1 + in + 1 && e->hash == h &&
		    memcmp(e->key, rdns, rn + 1) == 0 &&
		    (ip == NULL ? e->key[rn + 1] == '\x01' :
		    memcmp(e->key + rn + 1, ip, in + 1) == 0)) {
			if (e->dynamic)
				why_copy(why, size, e->why);
			return e->dynamic;
		}
	}
	/* a miss: the oldest entry goes, the new one is first */
	memmove(&set[1], &set[0], (DYN_WAYS - 1) * sizeof(*set));
	e = &set[0];
	e->why[0] = '\0';
	e->dynamic = is_dynamic(rdns, ip, e->why, sizeof(e->why));
	e->hash = h;
	memcpy(e->key, rdns, rn + 1);
	if (ip == NULL) {
		/* no address: a mark no address text starts with */
		e->key[rn + 1] = '\x01';
		e->key[rn + 2] = '\0';
	} else
		memcpy(e->key + rn + 1, ip, in + 1);
	e->len = (uint16_t)(rn + 1 + in + 1);
	if (e->dynamic)
		why_copy(why, size, e->why);
	return e->dynamic;
}
