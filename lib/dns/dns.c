/*
 * dns.c - asynchronous lookups for trace --dns: PTR names, forward
 * confirmation (FCrDNS) and DNS blocklists, with a cache, for one address,
 * one trace or many traces at once.
 *
 * DESCRIPTION
 *	A batch (st_dns_resolve) makes one job per address.  Each job asks
 *	the PTR of the address and, for each blocklist zone, the A record of
 *	the reversed address under the zone; from the answers it asks the
 *	A/AAAA of each PTR name (forward confirmation) and the TXT of each
 *	listing.  Every question goes through lookup(): the run's cache
 *	(hash of name+type; an entry in flight collects the jobs waiting for
 *	it, so no question is sent twice), then the cache file, then the
 *	network through c-ares.  All questions of the batch are in flight
 *	together (at most ST_DNS_MAX_INFLIGHT; the rest queue).  One poll()
 *	loop drives c-ares until nothing is left or the batch's deadline
 *	passes; then the rest is cancelled and reported as timed out.
 *
 *	c-ares gets per try dns_timeout_ms / (3 x servers) and 2 tries per
 *	server (it doubles the second try's timeout), so one question's
 *	budget, retries included, is dns_timeout_ms.  A resolver that gave
 *	no answer at all while ST_DNS_DEAD_FAILS questions failed is taken
 *	as dead for ST_DNS_DEAD_SECS: its questions then fail at once, so a
 *	mailbox against a dead resolver costs one timeout, not one per
 *	message.
 *
 * DIAGNOSTICS
 *	Warnings (dead resolver, answers that failed validation, a
 *	blocklist answer outside 127.0.0.0/8) are queued once each for
 *	st_dns_next_warning().
 *
 * LIMITS
 *	See limits.h, ST_DNS_*.  Blocklists are not asked about loopback
 *	and private addresses (they cannot be listed; asking leaks them).
 *
 * STANDARDS
 *	RFC 1035, RFC 3596 (AAAA, ip6.arpa), RFC 5782 (DNSxL), RFC 8601
 *	2.7.3 and RFC 1912 2.1 (forward-confirmed reverse DNS).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ares.h>

#include "dns/dns_int.h"
#include "spamtrace/received.h"

#define HASH_SIZE	16384
#define BATCH_JOBS	4096

struct st_dns;
typedef void (*lookup_cb)(struct st_dns *d, const struct dns_rrset *rs,
    void *arg, int aux);

struct waiter {
	lookup_cb cb;
	void   *arg;
	int	aux;
	struct waiter *next;
};

enum ent_state { ENT_NEW, ENT_QUEUED, ENT_INFLIGHT, ENT_DONE };

struct entry {
	struct st_dns *d;
	struct entry *hnext, *qnext;
	char   *name;
	int	type;
	int	group;		/* 0: names (PTR, A, AAAA); 1 + zone index */
	double	sent_at;	/* monotonic, when put on the network */
	enum ent_state state;
	double	expires;	/* monotonic seconds (ENT_DONE) */
	struct dns_rrset rs;
	struct waiter *waiters;
};

struct zone_res {
	enum dns_rstatus status;
	char   *code[ST_DNS_MAX_CODES];
	size_t	ncode;
	char   *txt;
};

struct job {
	char	ip[INET6_ADDRSTRLEN];
	int	family;
	unsigned char addr[16];
	bool	ptr_done;
	enum dns_rstatus ptr_status;
	char   *ptr[ST_DNS_MAX_PTR];
	size_t	nptr;
	bool	fc_yes, fc_unknown;
	bool	timed_out;
	bool	skip_bl;
	struct zone_res *z;	/* nzones */
};

struct st_dns {
	ares_channel ch;
	bool	ch_ok;
	char	resolver[80];	/* for messages */
	int	timeout_ms;
	char  **zone;
	size_t	nzone;
	struct entry *tab[HASH_SIZE];
	size_t	nent;
	struct entry *qhead, *qtail;
	size_t	inflight;
	bool	pumping, stopping;
	double	last_answer, dead_until;
	unsigned fails;		/* failed, no answer since they were sent */
	unsigned *zone_fails;	/* per zone, since its last answer */
	double	*zone_dead_until;
	struct dns_disk *disk;
	char   *warn[ST_DNS_MAX_WARNINGS];
	size_t	nwarn, warn_next;
	struct st_dns_stats stats;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void warnf(struct st_dns *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queue a warning unless the same text was queued before. */
static void
warnf(struct st_dns *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < d->nwarn; i++)
		if (strcmp(d->warn[i], buf) == 0)
			return;
	if (d->nwarn >= ST_DNS_MAX_WARNINGS)
		return;
	if ((d->warn[d->nwarn] = strdup(buf)) != NULL)
		d->nwarn++;
}

const char *
st_dns_next_warning(struct st_dns *d)
{
	if (d == NULL || d->warn_next >= d->nwarn)
		return NULL;
	return d->warn[d->warn_next++];
}

void
st_dns_get_stats(const struct st_dns *d, struct st_dns_stats *s)
{
	if (d != NULL && s != NULL)
		*s = d->stats;
}

/* ------------------------------------------------------------ the cache */

static unsigned
hash(const char *name, int type)
{
	uint32_t h = 2166136261u ^ (uint32_t)type;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % HASH_SIZE;
}

static struct entry *
find(struct st_dns *d, const char *name, int type, bool create)
{
	unsigned h = hash(name, type);
	struct entry *e;

	for (e = d->tab[h]; e != NULL; e = e->hnext)
		if (e->type == type && strcmp(e->name, name) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	e->d = d;
	e->type = type;
	e->hnext = d->tab[h];
	d->tab[h] = e;
	d->nent++;
	return e;
}

/* Empty the run's cache (between batches only: nothing in flight). */
static void
cache_flush(struct st_dns *d)
{
	size_t i;

	for (i = 0; i < HASH_SIZE; i++) {
		struct entry *e = d->tab[i], *n;

		for (; e != NULL; e = n) {
			n = e->hnext;
			dns_rrset_clear(&e->rs);
			free(e->name);
			free(e);
		}
		d->tab[i] = NULL;
	}
	d->nent = 0;
}

/* e has its result: keep it for a while and tell everyone waiting. */
static void
complete(struct st_dns *d, struct entry *e)
{
	struct waiter *w, *next;
	double keep;

	if (e->rs.status == DNS_R_NOANSWER || e->rs.status == DNS_R_FAIL)
		keep = ST_DNS_RETRY_AFTER;
	else {
		keep = e->rs.has_ttl ? e->rs.ttl : 0;
		if (keep < ST_DNS_MIN_RUN_TTL)
			keep = ST_DNS_MIN_RUN_TTL;
		if (keep > ST_DNS_MAX_TTL)
			keep = ST_DNS_MAX_TTL;
	}
	e->state = ENT_DONE;
	e->expires = mono() + keep;
	w = e->waiters;
	e->waiters = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(d, &e->rs, w->arg, w->aux);
		free(w);
	}
}

static void pump(struct st_dns *d);

/* Questions of group fail at once: the resolver (or, for a blocklist,
 * its zone) gave no answer lately. */
static bool
is_dead(struct st_dns *d, int group)
{
	double now = mono();

	return d->stopping || !d->ch_ok || now < d->dead_until ||
	    (group > 0 && now < d->zone_dead_until[group - 1]);
}

/* Ask (name, type); cb is called once with the result, maybe at once. */
static void
lookup(struct st_dns *d, const char *name, int type, int group,
    lookup_cb cb, void *arg, int aux)
{
	static const struct dns_rrset oom = { .status = DNS_R_FAIL };
	struct entry *e = find(d, name, type, true);
	struct waiter *w;

	if (e == NULL) {
		cb(d, &oom, arg, aux);
		return;
	}
	if (e->state == ENT_DONE && e->expires <= mono()) {
		dns_rrset_clear(&e->rs);
		e->state = ENT_NEW;
	}
	if (e->state == ENT_DONE) {
		d->stats.cache_hits++;
		cb(d, &e->rs, arg, aux);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		cb(d, &oom, arg, aux);
		return;
	}
	w->cb = cb;
	w->arg = arg;
	w->aux = aux;
	w->next = e->waiters;
	e->waiters = w;
	if (e->state != ENT_NEW)
		return;		/* already asked: wait with the others */
	e->group = group;
	if (dns_disk_get(d->disk, name, type, &e->rs)) {
		d->stats.disk_hits++;
		complete(d, e);
		return;
	}
	if (is_dead(d, group)) {
		dns_rrset_clear(&e->rs);
		e->rs.status = DNS_R_NOANSWER;
		complete(d, e);
		return;
	}
	e->state = ENT_QUEUED;
	e->qnext = NULL;
	if (d->qtail)
		d->qtail->qnext = e;
	else
		d->qhead = e;
	d->qtail = e;
	pump(d);
}

/* ------------------------------------------------------------- network */

/* An answer came: the resolver and the entry's zone are alive. */
static void
alive(struct st_dns *d, struct entry *e, double now)
{
	d->stats.answered++;
	d->last_answer = now;
	d->fails = 0;
	if (e->group > 0)
		d->zone_fails[e->group - 1] = 0;
}

/*
 * No answer for e.  It counts against the resolver only when nothing at
 * all was answered since e was sent (else the resolver is alive and the
 * zone asked about is the slow one), and against e's blocklist zone.
 */
static void
dead_or_alive(struct st_dns *d, struct entry *e, double now)
{
	if (d->last_answer < e->sent_at &&
	    ++d->fails >= ST_DNS_DEAD_FAILS && now >= d->dead_until) {
		d->dead_until = now + ST_DNS_DEAD_SECS;
		warnf(d, "resolver %s looks dead: no more DNS queries for "
		    "%d s", d->resolver, ST_DNS_DEAD_SECS);
	}
	if (e->group > 0 &&
	    ++d->zone_fails[e->group - 1] >= ST_DNS_DEAD_FAILS &&
	    now >= d->zone_dead_until[e->group - 1] &&
	    now >= d->dead_until) {
		d->zone_dead_until[e->group - 1] = now + ST_DNS_DEAD_SECS;
		warnf(d, "blocklist %s does not answer: not asked for %d s",
		    d->zone[e->group - 1], ST_DNS_DEAD_SECS);
	}
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct entry *e = arg;
	struct st_dns *d = e->d;
	double now = mono();

	d->inflight--;
	dns_rrset_clear(&e->rs);
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		alive(d, e, now);
		if (abuf == NULL || alen <= 0 ||
		    !dns_parse_answer(abuf, (size_t)alen, e->name, e->type,
		    &e->rs)) {
			e->rs.status = DNS_R_FAIL;
			warnf(d, "resolver %s sent a malformed answer "
			    "(ignored)", d->resolver);
		}
		d->stats.rejected += e->rs.rejected;
		dns_disk_put(d->disk, e->name, e->type, &e->rs);
		break;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		/* the server is alive but would not say */
		alive(d, e, now);
		e->rs.status = DNS_R_FAIL;
		break;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		d->stats.failed++;
		e->rs.status = DNS_R_NOANSWER;
		if (status == ARES_ECONNREFUSED)
			warnf(d, "resolver %s refused the connection (no DNS "
			    "server there?): DNS results are partial",
			    d->resolver);
		else if (status != ARES_EDESTRUCTION &&
		    d->last_answer >= e->sent_at && e->group > 0)
			warnf(d, "blocklist %s: no answer within %d ms "
			    "(through resolver %s): DNS results are partial",
			    d->zone[e->group - 1], d->timeout_ms,
			    d->resolver);
		else if (status != ARES_EDESTRUCTION &&
		    d->last_answer >= e->sent_at)
			warnf(d, "resolver %s: some names got no answer "
			    "within %d ms (their DNS servers may be down): "
			    "DNS results are partial", d->resolver,
			    d->timeout_ms);
		else if (status != ARES_EDESTRUCTION)
			warnf(d, "resolver %s did not answer within %d ms: "
			    "DNS results are partial", d->resolver,
			    d->timeout_ms);
		if (status != ARES_EDESTRUCTION && !d->stopping)
			dead_or_alive(d, e, now);
		break;
	default:
		d->stats.failed++;
		e->rs.status = DNS_R_FAIL;
		break;
	}
	complete(d, e);
	if (status != ARES_EDESTRUCTION)
		pump(d);
}

/* Send queued questions while there is room; fail them when dead. */
static void
pump(struct st_dns *d)
{
	struct entry *e;

	if (d->pumping)
		return;
	d->pumping = true;
	while ((e = d->qhead) != NULL) {
		bool dead = is_dead(d, e->group);

		if (!dead && d->inflight >= ST_DNS_MAX_INFLIGHT)
			break;
		d->qhead = e->qnext;
		if (d->qhead == NULL)
			d->qtail = NULL;
		e->qnext = NULL;
		if (dead) {
			dns_rrset_clear(&e->rs);
			e->rs.status = DNS_R_NOANSWER;
			complete(d, e);
			continue;
		}
		e->state = ENT_INFLIGHT;
		e->sent_at = mono();
		d->inflight++;
		d->stats.sent++;
		ares_query(d->ch, e->name, DNS_C_IN, e->type, on_answer, e);
	}
	d->pumping = false;
}

/* Drive c-ares until every question is answered or deadline passes. */
static void
run(struct st_dns *d, double deadline)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	nfds_t n;
	int bits, i, ms;

	while (d->inflight > 0 || d->qhead != NULL) {
		struct timeval max, tv, *tvp;
		double now = mono();

		if (now >= deadline) {
			warnf(d, "resolver %s: DNS lookups cut off at the "
			    "deadline: results are partial", d->resolver);
			d->stopping = true;
			ares_cancel(d->ch);	/* on_answer: ECANCELLED */
			pump(d);		/* fails the queue */
			d->stopping = false;
			break;
		}
		bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
		for (n = 0, i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* c-ares's ARES_GETSOCK_WRITABLE shifts a signed 1
			 * into bit 31 (undefined): test the bits unsigned */
			if (((unsigned)bits >> i) & 1u)
				ev |= POLLIN;
			if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		ms = (int)((deadline - now) * 1000) + 1;
		max.tv_sec = ms / 1000;
		max.tv_usec = (ms % 1000) * 1000;
		tvp = ares_timeout(d->ch, &max, &tv);
		ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		if (poll(pfd, n, ms) <= 0) {
			/* timeout (or EINTR): let c-ares expire queries */
			ares_process_fd(d->ch, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < (int)n; i++) {
			short re = pfd[i].revents;

			if (re == 0)
				continue;
			ares_process_fd(d->ch,
			    (re & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd :
			    ARES_SOCKET_BAD,
			    (re & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
}

/* ------------------------------------------------------------ the jobs */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* IPv4 texts in numeric order. */
static int
cmp_addr(const void *a, const void *b)
{
	unsigned char x[4] = { 0 }, y[4] = { 0 };

	(void)inet_pton(AF_INET, *(char *const *)a, x);
	(void)inet_pton(AF_INET, *(char *const *)b, y);
	return memcmp(x, y, 4);
}

static void
mark_missing(struct job *j, const struct dns_rrset *rs)
{
	if (rs->status == DNS_R_NOANSWER)
		j->timed_out = true;
}

static void
on_forward(struct st_dns *d, const struct dns_rrset *rs, void *arg, int aux)
{
	struct job *j = arg;
	unsigned char b[16];
	size_t i;

	mark_missing(j, rs);
	if (rs->status == DNS_R_NOANSWER || rs->status == DNS_R_FAIL)
		j->fc_unknown = true;
	for (i = 0; i < rs->n; i++)
		if (inet_pton(j->family, rs->item[i], b) == 1 &&
		    memcmp(b, j->addr, j->family == AF_INET ? 4 : 16) == 0)
			j->fc_yes = true;
}

static void
on_ptr(struct st_dns *d, const struct dns_rrset *rs, void *arg, int aux)
{
	struct job *j = arg;
	size_t i;

	j->ptr_done = true;
	j->ptr_status = rs->status;
	mark_missing(j, rs);
	if (rs->rejected > 0)
		warnf(d, "PTR of %s: %u record(s) with a name that is not a "
		    "valid host name: ignored", j->ip, rs->rejected);
	for (i = 0; i < rs->n && j->nptr < ST_DNS_MAX_PTR; i++)
		if ((j->ptr[j->nptr] = strdup(rs->item[i])) != NULL)
			j->nptr++;
	/* servers rotate their answers: sorted, the output is stable */
	qsort(j->ptr, j->nptr, sizeof(j->ptr[0]), cmp_str);
	for (i = 0; i < j->nptr; i++)
		lookup(d, j->ptr[i], j->family == AF_INET ? DNS_T_A :
		    DNS_T_AAAA, 0, on_forward, j, 0);
}

static void
on_bl_txt(struct st_dns *d, const struct dns_rrset *rs, void *arg, int zi)
{
	struct job *j = arg;
	struct zone_res *z = &j->z[zi];
	char buf[ST_DNS_MAX_TXT_LEN + 1];
	size_t i, o = 0;

	mark_missing(j, rs);
	buf[0] = '\0';
	for (i = 0; i < rs->n; i++) {
		int k = snprintf(buf + o, sizeof(buf) - o, "%s%s",
		    i ? "; " : "", rs->item[i]);

		if (k < 0 || (size_t)k >= sizeof(buf) - o)
			break;
		o += (size_t)k;
	}
	free(z->txt);
	z->txt = strdup(buf);
}

static void
on_bl_a(struct st_dns *d, const struct dns_rrset *rs, void *arg, int zi)
{
	struct job *j = arg;
	struct zone_res *z = &j->z[zi];
	char name[ST_DNS_NAME_BUF];
	const char *why;
	size_t i;

	z->status = rs->status;
	mark_missing(j, rs);
	if (rs->rejected > 0)
		warnf(d, "blocklist %s: malformed answer record(s) ignored",
		    d->zone[zi]);
	for (i = 0; i < rs->n; i++) {
		if (!st_dns_valid_listing(rs->item[i], &why)) {
			warnf(d, "blocklist %s answered %s: %s; ignored",
			    d->zone[zi], rs->item[i], why);
			continue;
		}
		if (z->ncode < ST_DNS_MAX_CODES &&
		    (z->code[z->ncode] = strdup(rs->item[i])) != NULL)
			z->ncode++;
	}
	qsort(z->code, z->ncode, sizeof(z->code[0]), cmp_addr);
	if (z->ncode > 0 && st_dns_reverse_name(j->ip, d->zone[zi], name,
	    sizeof(name)))
		lookup(d, name, DNS_T_TXT, zi + 1, on_bl_txt, j, zi);
}

static bool
job_init(struct st_dns *d, struct job *j, const char *ip)
{
	char tmp[64];

	memset(j, 0, sizeof(*j));
	if (ip == NULL || !st_ip_normalise(ip, strlen(ip), tmp, sizeof(tmp))
	    || strlen(tmp) >= sizeof(j->ip))
		return false;
	snprintf(j->ip, sizeof(j->ip), "%s", tmp);
	if (inet_pton(AF_INET, j->ip, j->addr) == 1)
		j->family = AF_INET;
	else if (inet_pton(AF_INET6, j->ip, j->addr) == 1)
		j->family = AF_INET6;
	else
		return false;
	j->skip_bl = st_ip_is_private(j->ip) || st_ip_is_loopback(j->ip);
	if (d->nzone > 0 && (j->z = calloc(d->nzone, sizeof(*j->z))) == NULL)
		return false;
	return true;
}

static void
job_start(struct st_dns *d, struct job *j)
{
	char name[ST_DNS_NAME_BUF];
	size_t zi;

	if (st_dns_reverse_name(j->ip, NULL, name, sizeof(name)))
		lookup(d, name, DNS_T_PTR, 0, on_ptr, j, 0);
	for (zi = 0; zi < d->nzone && !j->skip_bl; zi++)
		if (st_dns_reverse_name(j->ip, d->zone[zi], name,
		    sizeof(name)))
			lookup(d, name, DNS_T_A, (int)zi + 1, on_bl_a, j,
			    (int)zi);
}

static void
job_free(struct st_dns *d, struct job *j)
{
	size_t i, k;

	for (i = 0; i < j->nptr; i++)
		free(j->ptr[i]);
	for (i = 0; j->z != NULL && i < d->nzone; i++) {
		for (k = 0; k < j->z[i].ncode; k++)
			free(j->z[i].code[k]);
		free(j->z[i].txt);
	}
	free(j->z);
	memset(j, 0, sizeof(*j));
}

/* The job's findings, copied into the caller's arena. */
static struct st_dns_info *
job_result(struct st_dns *d, const struct job *j, struct st_arena *a)
{
	struct st_dns_info *info;
	size_t i, k, nl = 0;

	if ((info = st_arena_alloc(a, sizeof(*info))) == NULL)
		return NULL;
	info->timed_out = j->timed_out || !j->ptr_done;
	if (j->nptr > 0) {
		info->ptr = st_arena_alloc(a, j->nptr * sizeof(*info->ptr));
		if (info->ptr == NULL)
			return NULL;
		for (i = 0; i < j->nptr; i++)
			if ((info->ptr[i] = st_arena_strdup(a, j->ptr[i])) ==
			    NULL)
				return NULL;
		info->nptr = j->nptr;
	}
	if (!j->ptr_done || j->ptr_status == DNS_R_NOANSWER ||
	    j->ptr_status == DNS_R_FAIL)
		info->fcrdns = -1;
	else if (j->nptr == 0)
		info->fcrdns = 0;	/* no valid PTR name: not confirmed */
	else
		info->fcrdns = j->fc_yes ? 1 : j->fc_unknown ? -1 : 0;
	for (i = 0; j->z != NULL && i < d->nzone; i++)
		nl += j->z[i].ncode;
	if (nl > 0) {
		info->listed = st_arena_alloc(a, nl * sizeof(*info->listed));
		if (info->listed == NULL)
			return NULL;
		for (i = 0; i < d->nzone; i++)
			for (k = 0; k < j->z[i].ncode; k++) {
				struct st_dns_listing *l =
				    &info->listed[info->nlisted++];

				l->zone = st_arena_strdup(a, d->zone[i]);
				l->answer = st_arena_strdup(a,
				    j->z[i].code[k]);
				l->txt = st_arena_strdup(a, j->z[i].txt ?
				    j->z[i].txt : "");
				if (!l->zone || !l->answer || !l->txt)
					return NULL;
			}
	}
	return info;
}

/* One chunk of a batch: start every job, drive, collect. */
static enum st_status
resolve_chunk(struct st_dns *d, struct st_dns_query *q, size_t n,
    bool *timed_out)
{
	struct job *jobs;
	enum st_status rc = ST_OK;
	size_t i, nstart;
	double deadline;

	if (d->nent > ST_DNS_MAX_CACHE)
		cache_flush(d);
	if ((jobs = calloc(n, sizeof(*jobs))) == NULL)
		return ST_ENOMEM;
	for (i = 0; i < n; i++) {
		q[i].info = NULL;
		if (!job_init(d, &jobs[i], q[i].ip)) {
			rc = ST_EINVAL;
			job_free(d, &jobs[i]);
			continue;
		}
		job_start(d, &jobs[i]);
	}
	/* Two rounds (PTR then forward; A then TXT), plus one more round
	 * for every ST_DNS_MAX_INFLIGHT questions waiting to be sent. */
	nstart = d->inflight;
	for (struct entry *e = d->qhead; e != NULL; e = e->qnext)
		nstart++;
	deadline = mono() + (d->timeout_ms / 1000.0) *
	    (2.0 + (double)(nstart / ST_DNS_MAX_INFLIGHT)) + 1.0;
	run(d, deadline);
	dns_disk_commit(d->disk);
	for (i = 0; i < n; i++) {
		if (jobs[i].family == 0)
			continue;
		if (jobs[i].timed_out || !jobs[i].ptr_done)
			*timed_out = true;
		q[i].info = job_result(d, &jobs[i], q[i].arena);
		if (q[i].info == NULL)
			rc = ST_ENOMEM;
		job_free(d, &jobs[i]);
	}
	free(jobs);
	return rc;
}

enum st_status
st_dns_resolve(struct st_dns *d, struct st_dns_query *q, size_t n,
    struct st_error *err)
{
	enum st_status rc = ST_OK, r;
	bool timed_out = false;
	size_t i;

	if (d == NULL)
		return st_error_set(err, ST_EINVAL, "no resolver");
	for (i = 0; i < n; i += BATCH_JOBS) {
		r = resolve_chunk(d, q + i, n - i < BATCH_JOBS ? n - i :
		    BATCH_JOBS, &timed_out);
		if (r != ST_OK && rc == ST_OK)
			rc = r;
	}
	if (rc == ST_ENOMEM)
		return st_error_set(err, rc, "out of memory for DNS results");
	if (rc == ST_EINVAL)
		return st_error_set(err, rc, "not an IP address in a DNS "
		    "lookup");
	if (timed_out)
		return st_error_set(err, ST_ETIMEOUT, "resolver %s: some "
		    "lookups got no answer within %d ms", d->resolver,
		    d->timeout_ms);
	return ST_OK;
}

/* ---------------------------------------------------------- the traces */

static void
add_ip(struct st_dns *d, const char *ip, struct st_arena *a,
    struct st_dns_query **q, size_t *nq, size_t *cap, size_t first,
    bool *over)
{
	size_t i;

	if (ip == NULL || ip[0] == '\0')
		return;
	for (i = first; i < *nq; i++)
		if (strcmp((*q)[i].ip, ip) == 0)
			return;
	if (*nq - first >= ST_DNS_MAX_TRACE_ADDRS) {
		*over = true;
		return;
	}
	if (*nq == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct st_dns_query *nv = realloc(*q, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		*q = nv;
		*cap = nc;
	}
	(*q)[*nq].ip = ip;
	(*q)[*nq].arena = a;
	(*q)[*nq].info = NULL;
	(*nq)++;
}

enum st_status
st_dns_lookup_traces(struct st_dns *d, struct st_trace **t,
    struct st_arena **a, size_t n, struct st_error *err)
{
	struct st_dns_query *q = NULL;
	size_t *first, nq = 0, cap = 0, i, k;
	enum st_status rc;

	if (d == NULL)
		return st_error_set(err, ST_EINVAL, "no resolver");
	if (n == 0)
		return ST_OK;
	if ((first = calloc(n + 1, sizeof(*first))) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		bool over = false;

		first[i] = nq;
		if (t[i] == NULL)
			continue;
		if (t[i]->origin.present)
			add_ip(d, t[i]->origin.ip, a[i], &q, &nq, &cap,
			    first[i], &over);
		if (t[i]->source.present)
			add_ip(d, t[i]->source.ip, a[i], &q, &nq, &cap,
			    first[i], &over);
		for (k = 0; k < t[i]->nrelays; k++)
			add_ip(d, t[i]->relays[k].ip, a[i], &q, &nq, &cap,
			    first[i], &over);
		if (over)
			warnf(d, "a message names more than %d addresses: "
			    "only the first %d were looked up",
			    ST_DNS_MAX_TRACE_ADDRS, ST_DNS_MAX_TRACE_ADDRS);
	}
	first[n] = nq;
	rc = st_dns_resolve(d, q, nq, err);
	for (i = 0; i < n; i++)
		for (k = first[i]; k < first[i + 1]; k++)
			if (q[k].info != NULL)
				st_trace_add_dns(t[i], a[i], q[k].ip,
				    q[k].info);
	free(q);
	free(first);
	return rc;
}

enum st_status
st_dns_lookup_trace(struct st_dns *d, struct st_trace *t, struct st_arena *a,
    struct st_error *err)
{
	return st_dns_lookup_traces(d, &t, &a, 1, err);
}

/* ------------------------------------------------------- setting it up */

/* "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address. */
static bool
parse_server(const char *s, struct ares_addr_port_node *srv)
{
	char host[64];
	const char *port = NULL, *end;
	size_t hl;
	long p = 53;

	memset(srv, 0, sizeof(*srv));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return false;
		hl = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return false;
		s++;
	} else if ((end = strchr(s, ':')) != NULL && strchr(end + 1, ':') ==
	    NULL) {
		hl = (size_t)(end - s);
		port = end + 1;
	} else
		hl = strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (port != NULL) {
		char *e;

		p = strtol(port, &e, 10);
		if (*port == '\0' || *e != '\0' || p < 1 || p > 65535)
			return false;
	}
	if (inet_pton(AF_INET, host, &srv->addr.addr4) == 1)
		srv->family = AF_INET;
	else if (inet_pton(AF_INET6, host, &srv->addr.addr6) == 1)
		srv->family = AF_INET6;
	else
		return false;
	srv->udp_port = srv->tcp_port = (int)p;
	return true;
}

static int
init_channel(ares_channel *ch, int timeout_ms, int nservers)
{
	struct ares_options o;
	int per_try;

	memset(&o, 0, sizeof(o));
	if (nservers < 1)
		nservers = 1;
	/* tries 2 per server; c-ares doubles the 2nd round: 3 units each */
	per_try = timeout_ms / (3 * nservers);
	if (per_try < 50)
		per_try = 50;
	o.timeout = per_try;
	o.tries = 2;
	o.flags = ARES_FLAG_NOALIASES | ARES_FLAG_NOSEARCH;
	return ares_init_options(ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_FLAGS);
}

enum st_status
st_dns_new(struct st_dns **dp, const struct st_config *cfg,
    struct st_error *err)
{
	struct st_dns *d;
	struct ares_addr_port_node srv, *list = NULL, *p;
	const char *path;
	int nservers = 0, r;
	size_t i, k;
	enum st_status rc;

	*dp = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	d->timeout_ms = cfg && cfg->dns_timeout_ms > 0 ? cfg->dns_timeout_ms :
	    3000;
	d->last_answer = -1e9;
	snprintf(d->resolver, sizeof(d->resolver), "%s",
	    cfg && cfg->resolver ? cfg->resolver : "from /etc/resolv.conf");
	if (cfg && cfg->resolver && !parse_server(cfg->resolver, &srv)) {
		rc = st_error_set(err, ST_EINVAL, "resolver \"%s\": not "
		    "IP[:PORT] or [IPv6]:PORT", cfg->resolver);
		goto fail;
	}
	if (cfg && cfg->dnsbl.n > ST_DNS_MAX_ZONES) {
		rc = st_error_set(err, ST_EINVAL, "more than %d DNS "
		    "blocklists", ST_DNS_MAX_ZONES);
		goto fail;
	}
	if (cfg && cfg->dnsbl.n > 0 &&
	    ((d->zone = calloc(cfg->dnsbl.n, sizeof(*d->zone))) == NULL ||
	    (d->zone_fails = calloc(cfg->dnsbl.n,
	    sizeof(*d->zone_fails))) == NULL ||
	    (d->zone_dead_until = calloc(cfg->dnsbl.n,
	    sizeof(*d->zone_dead_until))) == NULL)) {
		rc = st_error_set(err, ST_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; cfg && i < cfg->dnsbl.n; i++) {
		char *z = cfg->dnsbl.v[i];
		size_t l = strlen(z);

		if (l > 0 && z[l - 1] == '.')
			l--;
		if (!st_dns_valid_hostname(z, l) || l > 180) {
			rc = st_error_set(err, ST_EINVAL, "DNS blocklist "
			    "\"%s\": not a domain name", z);
			goto fail;
		}
		for (k = 0; k < d->nzone; k++)
			if (strncasecmp(d->zone[k], z, l) == 0 &&
			    d->zone[k][l] == '\0')
				break;
		if (k < d->nzone)
			continue;	/* named twice */
		if ((d->zone[d->nzone] = strndup(z, l)) == NULL) {
			rc = st_error_set(err, ST_ENOMEM, "out of memory");
			goto fail;
		}
		for (k = 0; k < l; k++)
			d->zone[d->nzone][k] = (char)tolower(
			    (unsigned char)d->zone[d->nzone][k]);
		d->nzone++;
	}
	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		rc = st_error_set(err, ST_ENET, "c-ares: %s",
		    ares_strerror(r));
		goto fail;
	}
	if (cfg && cfg->resolver) {
		nservers = 1;
	} else {
		/* count the servers of resolv.conf to share the budget */
		ares_channel probe;

		if (init_channel(&probe, d->timeout_ms, 1) == ARES_SUCCESS) {
			if (ares_get_servers_ports(probe, &list) ==
			    ARES_SUCCESS)
				for (p = list; p != NULL; p = p->next)
					nservers++;
			ares_free_data(list);
			ares_destroy(probe);
		}
	}
	if ((r = init_channel(&d->ch, d->timeout_ms, nservers)) !=
	    ARES_SUCCESS) {
		ares_library_cleanup();
		rc = st_error_set(err, ST_ENET, "c-ares: %s",
		    ares_strerror(r));
		goto fail;
	}
	d->ch_ok = true;
	if (cfg && cfg->resolver &&
	    (r = ares_set_servers_ports(d->ch, &srv)) != ARES_SUCCESS) {
		rc = st_error_set(err, ST_EINVAL, "resolver %s: %s",
		    cfg->resolver, ares_strerror(r));
		st_dns_free(d);
		return rc;
	}
	if (cfg && (path = st_config_get(cfg, "dns_cache")) != NULL &&
	    path[0] != '\0' &&
	    (rc = st_dns_set_cache_file(d, path, err)) != ST_OK) {
		st_dns_free(d);
		return rc;
	}
	*dp = d;
	return ST_OK;
fail:
	for (i = 0; i < d->nzone; i++)
		free(d->zone[i]);
	free(d->zone);
	free(d->zone_fails);
	free(d->zone_dead_until);
	free(d);
	return rc;
}

enum st_status
st_dns_set_cache_file(struct st_dns *d, const char *path,
    struct st_error *err)
{
	dns_disk_close(d->disk);
	d->disk = NULL;
	if (path == NULL)
		return ST_OK;
	return dns_disk_open(&d->disk, path, err);
}

void
st_dns_free(struct st_dns *d)
{
	size_t i;

	if (d == NULL)
		return;
	if (d->ch_ok) {
		d->stopping = true;
		ares_destroy(d->ch);	/* on_answer: EDESTRUCTION */
		ares_library_cleanup();
	}
	cache_flush(d);
	dns_disk_close(d->disk);
	for (i = 0; i < d->nzone; i++)
		free(d->zone[i]);
	free(d->zone);
	free(d->zone_fails);
	free(d->zone_dead_until);
	for (i = 0; i < d->nwarn; i++)
		free(d->warn[i]);
	free(d);
}
