/*
 * campaign.c - backscatter or genuine, and the summary of many bounces.
 *
 * DESCRIPTION
 *	The user's identity is: the addresses given with --me and the
 *	config's "me", and the mailbox's own address: the To (or
 *	Delivered-To) of the bounces, when at least half of them agree.
 *	The organisations of the user's mail are the registrable domains of
 *	those addresses, of the config's my_outbound hosts, and, learnt from
 *	the mailbox, of the submission servers and Message-ID domains seen in
 *	the originals of bounces that plainly went through the user's own
 *	systems.
 *
 *	A bounce is genuine (0) when its original claims to be from the user
 *	and passed through the user's organisations (a hop's receiving host,
 *	reverse name or HELO, or an address of my_outbound), or carries a
 *	Message-ID of a domain learnt from genuine bounces.  It is
 *	backscatter (1) when the original is not from the user at all, or is
 *	from the user but its Received path never touched the user's
 *	systems: forged.  An auto-reply or challenge without a copy of the
 *	original is judged by the Message-ID it answers.  Nothing to judge
 *	by: -1.
 *
 *	The summary counts every message once (messages = bounces +
 *	not_bounces + unreadable), counts each bounce's first recipient's
 *	reason, bins arrivals by UTC day, and ranks the origins of the
 *	originals that were not genuine: most first, ties by first seen.
 *
 *	Every call works on a message's facts (struct st_campaign_facts:
 *	the few strings and organisations the verdict and the summary
 *	read, made in any thread by st_campaign_facts_make); learn, judge
 *	and add on a bounce and its trace are wrappers that make the facts
 *	first.  So a program can learn, keep the facts, and judge later,
 *	in one pass over a mailbox, with exactly the verdicts of two.
 *
 * LIMITS
 *	Bounded memory: ST_MAX_CAMPAIGN_LEARN learning samples; per origin
 *	ST_MAX_CAMPAIGN_EXAMPLES examples; the tables grow with distinct
 *	origins, days and reasons only.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/campaign.h"
#include "spamtrace/limits.h"
#include "spamtrace/received.h"

struct strset {
	char  **v;
	size_t	n, cap;
};

/* The envelope recipients counted while learning: at most TOS_MAX, found
 * through an open-addressing index of TOS_HT slots (twice as many, so a
 * probe ends soon). */
#define TOS_MAX	4096
#define TOS_HT	8192		/* a power of 2 */

struct addrcount {
	char   *addr;
	uint64_t n;
};

/*
 * A hash index of a count list (bump()): slot = position + 1, 0 = empty;
 * at least twice as many slots as entries.  Dropped when the list is
 * sorted (st_campaign_result()), made again at the next bump.
 */
struct count_index {
	size_t *ht;
	size_t	cap;		/* slots, a power of 2; 0: none */
};

/* What one bounce's original tells about the user's own mail. */
struct sample {
	char   *from;		/* the original's From (lower case) */
	char   *orgs;		/* NUL-separated orgs of its hops, "\0\0" */
	char   *submit_org;	/* org of the lowest hop's receiving host */
	char   *msgid_org;	/* org of its Message-ID's domain, "" */
};

struct st_campaign {
	struct st_arena *a;	/* long-lived strings (orgs) */
	const struct st_config *cfg;
	struct strset me;	/* the user's addresses, lower case */
	struct strset my_orgs;	/* orgs of the user's mail */
	struct strset msgid_orgs; /* learnt Message-ID domains' orgs */
	/* learning */
	struct addrcount *tos;
	size_t	ntos, captos;
	uint16_t tos_ht[TOS_HT];	/* index into tos + 1, 0 = empty */
	uint64_t nlearn_bounces;
	struct sample *samples;
	size_t	nsamples, capsamples;
	bool	learnt;
	const char *country;
	/* summary */
	struct st_campaign_summary s;
	size_t	capreasons, capdays;
	struct count_index reason_ix, day_ix;	/* of s.by_reason, s.per_day */
	/* origins: the master table (in first-seen order) with a hash
	 * index; s.origins is a ranked shallow copy made on demand */
	struct st_campaign_origin *orv;
	size_t	norv, caporv;
	size_t *ht;		/* index + 1, 0 = empty */
	size_t	htcap;
	bool	dirty;
};

/* --- small sets ------------------------------------------------------------- */

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

static bool
set_has(const struct strset *s, const char *v)
{
	size_t i;

	if (v == NULL || *v == '\0')
		return false;
	for (i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i], v) == 0)
			return true;
	return false;
}

static void
set_add(struct strset *s, const char *v)
{
	if (v == NULL || *v == '\0' || set_has(s, v) || s->n >= 256)
		return;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		char **nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		s->v = nv;
		s->cap = nc;
	}
	if ((s->v[s->n] = lower_dup(v)) != NULL)
		s->n++;
}

static void
set_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : NULL;
}

static const char *
org_of(struct st_campaign *c, const char *host)
{
	const char *o;

	if (host == NULL || *host == '\0')
		return "";
	o = st_org_of(c->a, host);
	return o ? o : "";
}

/* The same in the caller's arena: st_campaign_judge() runs in several
 * threads at once, each with its own arena, and must not touch c->a. */
static const char *
org_in(struct st_arena *a, const char *host)
{
	const char *o;

	if (host == NULL || *host == '\0')
		return "";
	o = st_org_of(a, host);
	return o ? o : "";
}

/* --- setup ----------------------------------------------------------------- */

struct st_campaign *
st_campaign_new(const struct st_config *cfg)
{
	struct st_campaign *c = calloc(1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return NULL;
	if ((c->a = st_arena_new(64u * 1024 * 1024)) == NULL) {
		free(c);
		return NULL;
	}
	c->cfg = cfg;
	if (cfg != NULL) {
		for (i = 0; i < cfg->me.n; i++)
			set_add(&c->me, cfg->me.v[i]);
		for (i = 0; i < cfg->my_outbound_hosts.n; i++)
			set_add(&c->my_orgs, org_of(c,
			    cfg->my_outbound_hosts.v[i]));
	}
	return c;
}

void
st_campaign_free(struct st_campaign *c)
{
	size_t i, k;

	if (c == NULL)
		return;
	set_free(&c->me);
	set_free(&c->my_orgs);
	set_free(&c->msgid_orgs);
	for (i = 0; i < c->ntos; i++)
		free(c->tos[i].addr);
	free(c->tos);
	for (i = 0; i < c->nsamples; i++) {
		free(c->samples[i].from);
		free(c->samples[i].orgs);
		free(c->samples[i].submit_org);
		free(c->samples[i].msgid_org);
	}
	free(c->samples);
	for (i = 0; i < c->s.nreasons; i++)
		free(c->s.by_reason[i].key);
	free(c->s.by_reason);
	for (i = 0; i < c->s.ndays; i++)
		free(c->s.per_day[i].key);
	free(c->s.per_day);
	free(c->reason_ix.ht);
	free(c->day_ix.ht);
	for (i = 0; i < c->norv; i++) {
		struct st_campaign_origin *o = &c->orv[i];

		free(o->ip);
		free(o->host);
		free(o->org);
		for (k = 0; k < o->nex; k++) {
			free(o->ex[k].path);
			free(o->ex[k].subject);
			free(o->ex[k].rcpt);
			free(o->ex[k].reason);
		}
	}
	free(c->orv);
	free(c->ht);
	free(c->s.origins);
	st_arena_free(c->a);
	free(c);
}

/* --- learning ----------------------------------------------------------------- */

static void
count_to(struct st_campaign *c, const char *addr)
{
	uint32_t h = 2166136261u;
	const char *p;
	size_t i, k;

	if (addr == NULL || strchr(addr, '@') == NULL)
		return;
	/* hashed as strcasecmp() compares: ASCII case folded */
	for (p = addr; *p; p++)
		h = (h ^ (unsigned char)tolower((unsigned char)*p)) *
		    16777619u;
	for (k = h & (TOS_HT - 1); c->tos_ht[k] != 0;
	    k = (k + 1) & (TOS_HT - 1)) {
		i = c->tos_ht[k] - 1u;
		if (strcasecmp(c->tos[i].addr, addr) == 0) {
			c->tos[i].n++;
			return;
		}
	}
	if (c->ntos >= TOS_MAX)
		return;
	if (c->ntos == c->captos) {
		size_t nc = c->captos ? c->captos * 2 : 16;
		struct addrcount *nv = realloc(c->tos, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		c->tos = nv;
		c->captos = nc;
	}
	if ((c->tos[c->ntos].addr = lower_dup(addr)) == NULL)
		return;
	c->tos[c->ntos++].n = 1;
	c->tos_ht[k] = (uint16_t)c->ntos;
}

/* The domain of a Message-ID ("<x@dom>"), lower case, malloc'd. */
static char *
msgid_domain(const char *id)
{
	const char *at, *e;
	char *r;

	if (id == NULL || (at = strrchr(id, '@')) == NULL)
		return NULL;
	for (e = at + 1; *e && *e != '>' && *e != ' '; e++)
		;
	if (e == at + 1)
		return NULL;
	if ((r = strndup(at + 1, (size_t)(e - at - 1))) == NULL)
		return NULL;
	for (e = r; *e; e++)
		*(char *)e = (char)tolower((unsigned char)*e);
	return r;
}

/* The lowest hop that names a receiving host. */
static const struct st_campaign_hopfacts *
lowest_by(const struct st_campaign_facts *f)
{
	size_t i;

	for (i = f->nhops; i > 0; i--)
		if (f->hops[i - 1].has_by)
			return &f->hops[i - 1];
	return NULL;
}

void
st_campaign_learn_facts(struct st_campaign *c,
    const struct st_campaign_facts *f)
{
	struct sample *s;
	struct strset orgs = { 0 };
	size_t i, len;
	const struct st_campaign_hopfacts *lb;
	char *p;

	if (f->unreadable || f->kind == ST_BOUNCE_NONE)
		return;
	c->nlearn_bounces++;
	count_to(c, f->own);
	if (!f->has_orig || c->nsamples >= ST_MAX_CAMPAIGN_LEARN)
		return;
	if (c->nsamples == c->capsamples) {
		size_t nc = c->capsamples ? c->capsamples * 2 : 64;
		struct sample *nv = realloc(c->samples, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		c->samples = nv;
		c->capsamples = nc;
	}
	s = &c->samples[c->nsamples];
	memset(s, 0, sizeof(*s));
	s->from = lower_dup(f->from_addr);
	for (i = 0; i < f->nhops && orgs.n < 32; i++) {
		const struct st_campaign_hopfacts *h = &f->hops[i];

		set_add(&orgs, h->org_by);
		set_add(&orgs, h->org_rdns);
		set_add(&orgs, h->org_helo);
	}
	for (i = 0, len = 2; i < orgs.n; i++)
		len += strlen(orgs.v[i]) + 1;
	if ((s->orgs = malloc(len)) != NULL) {
		for (i = 0, p = s->orgs; i < orgs.n; i++) {
			size_t n = strlen(orgs.v[i]) + 1;

			memcpy(p, orgs.v[i], n);	/* len counted it */
			p += n;
		}
		*p++ = '\0';
		*p = '\0';
	}
	set_free(&orgs);
	lb = lowest_by(f);
	s->submit_org = lower_dup(lb ? lb->org_by : "");
	s->msgid_org = strdup(f->msgid_org ? f->msgid_org : "");
	c->nsamples++;
}

/* The wrappers: facts in a scratch arena, then the *_facts call. */
static struct st_arena *
scratch(const struct st_campaign *c, const struct st_bounce *b,
    const struct st_trace *orig, int unreadable, const char *path,
    size_t index, struct st_campaign_facts *f)
{
	struct st_campaign_item it;
	struct st_arena *a = st_arena_new(0);

	memset(&it, 0, sizeof(it));
	it.b = b;
	it.orig = orig;
	it.unreadable = unreadable || b == NULL;
	it.path = path;
	it.index = index;
	if (a == NULL || st_campaign_facts_make(c->cfg, a, &it, f) != ST_OK) {
		st_arena_free(a);
		return NULL;
	}
	return a;
}

void
st_campaign_learn(struct st_campaign *c, const struct st_bounce *b,
    const struct st_trace *orig)
{
	struct st_campaign_facts f;
	struct st_arena *a;

	if (b == NULL || b->kind == ST_BOUNCE_NONE)
		return;
	if ((a = scratch(c, b, orig, 0, "", 0, &f)) == NULL)
		return;
	st_campaign_learn_facts(c, &f);
	st_arena_free(a);
}

static bool
sample_has_org(const struct sample *s, const struct strset *orgs)
{
	const char *p;

	if (s->orgs == NULL)
		return false;
	for (p = s->orgs; *p; p += strlen(p) + 1)
		if (set_has(orgs, p))
			return true;
	return false;
}

static void
add_me_orgs(struct st_campaign *c)
{
	size_t i;

	for (i = 0; i < c->me.n; i++)
		set_add(&c->my_orgs, org_of(c, domain_of(c->me.v[i])));
}

void
st_campaign_learn_done(struct st_campaign *c)
{
	size_t i, best = 0;

	if (c->learnt)
		return;
	c->learnt = true;
	/* the mailbox's own address: what at least half the bounces agree
	 * on */
	for (i = 1; i < c->ntos; i++)
		if (c->tos[i].n > c->tos[best].n)
			best = i;
	if (c->ntos > 0 && c->tos[best].n * 2 >= c->nlearn_bounces)
		set_add(&c->me, c->tos[best].addr);
	add_me_orgs(c);
	/* the user's provider and Message-ID domains, from the originals
	 * that plainly are the user's (from the user, through the user's
	 * organisation) */
	for (i = 0; i < c->nsamples; i++) {
		struct sample *s = &c->samples[i];

		if (s->from == NULL || !set_has(&c->me, s->from))
			continue;
		if (!sample_has_org(s, &c->my_orgs))
			continue;
		if (s->submit_org && *s->submit_org)
			set_add(&c->my_orgs, s->submit_org);
		if (s->msgid_org && *s->msgid_org)
			set_add(&c->msgid_orgs, s->msgid_org);
	}
	/* the samples are no longer needed */
	for (i = 0; i < c->nsamples; i++) {
		free(c->samples[i].from);
		free(c->samples[i].orgs);
		free(c->samples[i].submit_org);
		free(c->samples[i].msgid_org);
	}
	c->nsamples = 0;
	/* the user's country: the ccTLD of the first address that has one */
	for (i = 0; i < c->me.n && c->country == NULL; i++)
		c->country = st_cctld_country(domain_of(c->me.v[i]));
}

/* --- the verdict -------------------------------------------------------------- */

/* The config's outbound hosts and nets: known before any message. */
static bool
cfg_host(const struct st_config *cfg, const char *host)
{
	return cfg != NULL && host != NULL && *host &&
	    st_strlist_has_ci(&cfg->my_outbound_hosts, host);
}

enum st_status
st_campaign_facts_make(const struct st_config *cfg, struct st_arena *a,
    const struct st_campaign_item *it, struct st_campaign_facts *f)
{
	const struct st_bounce *b = it->b;
	const struct st_trace *t = it->orig;
	const char *ip, *host;
	char *md;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->own = f->own_org = f->from_addr = f->return_path = "";
	f->from_org = f->rp_org = f->rcpt0 = f->subject = "";
	f->origin_ip = f->origin_host = "";
	f->reason0 = "undefined";
	f->path = it->path ? it->path : "";
	f->index = it->index;
	if (it->unreadable || b == NULL) {
		f->unreadable = true;
		return ST_OK;
	}
	f->kind = b->kind;
	f->own = *b->delivered_to ? b->delivered_to : b->to_addr;
	f->own_org = org_in(a, domain_of(f->own));
	if ((md = msgid_domain(b->in_reply_to)) != NULL) {
		f->irt_org = st_arena_strdup(a, org_in(a, md));
		free(md);
		if (f->irt_org == NULL)
			return ST_ENOMEM;
	}
	if (b->nrcpts) {
		f->reason0 = b->rcpts[0].reason;
		f->rcpt0 = b->rcpts[0].address ? b->rcpts[0].address : "";
	}
	f->has_arrival = b->has_arrival;
	f->arrival = b->arrival;
	if (t == NULL)
		return ST_OK;
	f->has_orig = true;
	f->from_addr = t->sum.from_addr ? t->sum.from_addr : "";
	f->return_path = t->sum.return_path ? t->sum.return_path : "";
	f->from_org = org_in(a, domain_of(f->from_addr));
	f->rp_org = org_in(a, domain_of(f->return_path));
	if ((md = msgid_domain(t->sum.message_id)) != NULL) {
		f->msgid_org = st_arena_strdup(a, org_in(a, md));
		free(md);
		if (f->msgid_org == NULL)
			return ST_ENOMEM;
	}
	f->subject = t->sum.subject ? t->sum.subject : "";
	if (t->nhops > 0 && (f->hops = st_arena_alloc(a,
	    t->nhops * sizeof(*f->hops))) == NULL)
		return ST_ENOMEM;
	for (i = 0; i < t->nhops; i++) {
		const struct st_hop *h = &t->hops[i];
		struct st_campaign_hopfacts *x = &f->hops[i];

		x->org_by = org_in(a, h->by);
		x->org_rdns = org_in(a, h->rdns);
		x->org_helo = org_in(a, h->helo);
		x->has_by = h->by != NULL && *h->by;
		x->cfg_mine = cfg_host(cfg, h->by) || cfg_host(cfg, h->rdns) ||
		    cfg_host(cfg, h->helo) || (cfg != NULL && h->ip &&
		    *h->ip && st_net_contains(cfg->my_outbound_nets,
		    cfg->nmy_outbound_nets, h->ip));
	}
	f->nhops = t->nhops;
	f->has_origin = st_campaign_origin_of(t, &ip, &host);
	f->origin_ip = ip;
	f->origin_host = host;
	return ST_OK;
}

int
st_campaign_judge_facts(struct st_campaign *c,
    const struct st_campaign_facts *f, const char **why)
{
	const char *dummy;
	bool from_me, no_me;
	const char *fa, *rp;
	size_t i;

	if (why == NULL)
		why = &dummy;
	*why = "";
	if (!c->learnt)
		st_campaign_learn_done(c);
	if (f->unreadable || f->kind == ST_BOUNCE_NONE) {
		*why = "not a bounce";
		return -1;
	}
	no_me = c->me.n == 0;
	if (!f->has_orig) {
		/* an auto-reply or challenge answers a Message-ID */
		if (f->irt_org != NULL && (set_has(&c->msgid_orgs,
		    f->irt_org) || (!no_me && set_has(&c->my_orgs,
		    f->irt_org)))) {
			*why = "it answers a Message-ID of the user's own mail";
			return 0;
		}
		/* it answers an id of a domain the user's own mail never
		 * uses, and we know which ones it does use */
		if (f->irt_org != NULL && c->msgid_orgs.n > 0 &&
		    *f->irt_org) {
			*why = "it answers a Message-ID the user's own mail "
			    "never carries: a reply to forged mail";
			return 1;
		}
		*why = "the bounce carries no copy of the original";
		return -1;
	}
	fa = f->from_addr;
	rp = f->return_path;
	if (no_me) {
		/* the bounce's own recipient is the user */
		const char *own = f->own;

		from_me = (*fa && strcasecmp(fa, own) == 0) ||
		    (*rp && strcasecmp(rp, own) == 0);
		if (!from_me && *own) {
			const char *oo = f->own_org;

			from_me = *oo && ((*fa && strcmp(oo,
			    f->from_org) == 0) || (*rp && strcmp(oo,
			    f->rp_org) == 0));
		}
		if (!from_me && *fa == '\0' && *rp == '\0') {
			*why = "the original names no sender";
			return -1;
		}
	} else {
		from_me = set_has(&c->me, fa) || set_has(&c->me, rp);
		if (!from_me)
			from_me = (*f->from_org && set_has(&c->my_orgs,
			    f->from_org)) || (*f->rp_org &&
			    set_has(&c->my_orgs, f->rp_org));
	}
	if (!from_me) {
		if (*fa == '\0' && *rp == '\0') {
			*why = "the original names no sender";
			return -1;
		}
		*why = "the bounced message was not from the user";
		return 1;
	}
	/* from the user: did it go through the user's own systems? */
	for (i = 0; i < f->nhops; i++) {
		const struct st_campaign_hopfacts *h = &f->hops[i];

		if (h->cfg_mine || set_has(&c->my_orgs, h->org_by) ||
		    set_has(&c->my_orgs, h->org_rdns) ||
		    set_has(&c->my_orgs, h->org_helo)) {
			*why = "the original passed through the user's own "
			    "mail systems";
			return 0;
		}
	}
	if (no_me) {
		/* only the bounce's recipient to go by: its domain */
		const char *oo = f->own_org;

		for (i = 0; *oo && i < f->nhops; i++) {
			const struct st_campaign_hopfacts *h = &f->hops[i];

			if (strcmp(h->org_by, oo) == 0 ||
			    strcmp(h->org_rdns, oo) == 0 ||
			    strcmp(h->org_helo, oo) == 0) {
				*why = "the original passed through the "
				    "user's own mail systems";
				return 0;
			}
		}
	}
	if (f->msgid_org != NULL && set_has(&c->msgid_orgs, f->msgid_org)) {
		*why = "the original's Message-ID is the user's own mail's";
		return 0;
	}
	if (f->nhops == 0) {
		*why = "the original's copy has no Received path to judge by";
		return -1;
	}
	*why = "the original claims the user as sender but never passed "
	    "through the user's mail systems: forged";
	return 1;
}

int
st_campaign_judge(struct st_campaign *c, struct st_arena *a,
    const struct st_bounce *b, const struct st_trace *orig, const char **why)
{
	struct st_campaign_facts f;
	struct st_campaign_item it;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (b == NULL || b->kind == ST_BOUNCE_NONE) {
		if (!c->learnt)
			st_campaign_learn_done(c);
		*why = "not a bounce";
		return -1;
	}
	memset(&it, 0, sizeof(it));
	it.b = b;
	it.orig = orig;
	if (st_campaign_facts_make(c->cfg, a, &it, &f) != ST_OK) {
		*why = "out of memory";
		return -1;
	}
	return st_campaign_judge_facts(c, &f, why);
}

/* --- the summary ------------------------------------------------------------ */

static uint32_t
key_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* ix made anew for v[0..n) with room for one more; false when out of
 * memory (bump() then scans). */
static bool
index_make(struct count_index *ix, const struct st_campaign_count *v,
    size_t n)
{
	size_t cap = ix->cap ? ix->cap : 64, i, k, *ht;

	while (cap < 2 * (n + 1))
		cap *= 2;
	if ((ht = calloc(cap, sizeof(*ht))) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		for (k = key_hash(v[i].key) & (cap - 1); ht[k] != 0;
		    k = (k + 1) & (cap - 1))
			;
		ht[k] = i + 1;
	}
	free(ix->ht);
	ix->ht = ht;
	ix->cap = cap;
	return true;
}

static struct st_campaign_count *
bump(struct st_campaign_count **v, size_t *n, size_t *cap,
    struct count_index *ix, const char *key)
{
	size_t i, k = 0;
	bool indexed = (ix->cap >= 2 * (*n + 1) && ix->ht != NULL) ||
	    index_make(ix, *v, *n);

	if (indexed) {
		for (k = key_hash(key) & (ix->cap - 1); ix->ht[k] != 0;
		    k = (k + 1) & (ix->cap - 1)) {
			i = ix->ht[k] - 1;
			if (strcmp((*v)[i].key, key) == 0) {
				(*v)[i].n++;
				return &(*v)[i];
			}
		}
	} else
		for (i = 0; i < *n; i++)
			if (strcmp((*v)[i].key, key) == 0) {
				(*v)[i].n++;
				return &(*v)[i];
			}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct st_campaign_count *nv = realloc(*v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	if (((*v)[*n].key = strdup(key)) == NULL)
		return NULL;
	(*v)[*n].n = 1;
	if (indexed)
		ix->ht[k] = *n + 1;
	return &(*v)[(*n)++];
}

bool
st_campaign_origin_of(const struct st_trace *t, const char **ip,
    const char **host)
{
	size_t i;

	*ip = *host = "";
	if (t == NULL)
		return false;
	if (t->origin.present && ((t->origin.ip && *t->origin.ip) ||
	    (t->origin.rdns && *t->origin.rdns) ||
	    (t->origin.helo && *t->origin.helo))) {
		*ip = t->origin.ip ? t->origin.ip : "";
		*host = t->origin.rdns && *t->origin.rdns ? t->origin.rdns :
		    (t->origin.helo ? t->origin.helo : "");
		return true;
	}
	for (i = t->nhops; i > 0; i--) {
		const struct st_hop *h = &t->hops[i - 1];

		if (h->parsed && !h->local && h->ip && *h->ip) {
			*ip = h->ip;
			*host = h->rdns && *h->rdns ? h->rdns :
			    (h->helo ? h->helo : "");
			return true;
		}
	}
	return false;
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static uint64_t
hash_key(const char *ip, const char *host)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p = *ip ? ip : host;

	for (; *p; p++) {
		h ^= (unsigned char)tolower((unsigned char)*p);
		h *= 1099511628211ULL;
	}
	return h ^ (*ip ? 1 : 2);
}

static bool
same_origin(const struct st_campaign_origin *x, const char *ip,
    const char *host)
{
	return *ip ? strcmp(x->ip, ip) == 0 :
	    (*x->ip == '\0' && strcasecmp(x->host, host) == 0);
}

static bool
ht_grow(struct st_campaign *c)
{
	size_t nc = c->htcap ? c->htcap * 2 : 64, i;
	size_t *nt = calloc(nc, sizeof(*nt));

	if (nt == NULL)
		return false;
	for (i = 0; i < c->norv; i++) {
		const struct st_campaign_origin *o = &c->orv[i];
		size_t k = (size_t)(hash_key(o->ip, o->host) & (nc - 1));

		while (nt[k] != 0)
			k = (k + 1) & (nc - 1);
		nt[k] = i + 1;
	}
	free(c->ht);
	c->ht = nt;
	c->htcap = nc;
	return true;
}

static void
add_origin(struct st_campaign *c, const struct st_campaign_facts *f)
{
	const char *ip = f->origin_ip, *host = f->origin_host;
	struct st_campaign_origin *o = NULL;
	size_t k;

	if (!f->has_origin)
		return;
	if ((c->norv + 1) * 2 > c->htcap && !ht_grow(c))
		return;
	k = (size_t)(hash_key(ip, host) & (c->htcap - 1));
	while (c->ht[k] != 0) {
		if (same_origin(&c->orv[c->ht[k] - 1], ip, host)) {
			o = &c->orv[c->ht[k] - 1];
			break;
		}
		k = (k + 1) & (c->htcap - 1);
	}
	if (o == NULL) {
		if (c->norv == c->caporv) {
			size_t nc = c->caporv ? c->caporv * 2 : 16;
			struct st_campaign_origin *nv = realloc(c->orv,
			    nc * sizeof(*nv));

			if (nv == NULL)
				return;
			c->orv = nv;
			c->caporv = nc;
		}
		o = &c->orv[c->norv];
		c->ht[k] = ++c->norv;
		memset(o, 0, sizeof(*o));
		o->ip = dup_or_empty(ip);
		o->host = lower_dup(host);
		if (o->host == NULL)
			o->host = dup_or_empty("");
		o->org = dup_or_empty(org_of(c, host));
		o->country = st_cctld_country(host);
		if (c->country != NULL && *host && strchr(host, '.') &&
		    !isdigit((unsigned char)host[strlen(host) - 1]))
			o->scope = o->country != NULL &&
			    strcmp(o->country, c->country) == 0 ?
			    "domestic" : "overseas";
		o->first_seen = c->s.messages;
	} else if (*o->host == '\0' && *host) {
		free(o->host);
		o->host = lower_dup(host);
		free(o->org);
		o->org = dup_or_empty(org_of(c, host));
		o->country = st_cctld_country(host);
	}
	o->count++;
	if (o->nex < ST_MAX_CAMPAIGN_EXAMPLES) {
		struct st_campaign_example *e = &o->ex[o->nex++];

		e->path = dup_or_empty(f->path);
		e->index = f->index;
		e->has_when = f->has_arrival;
		e->when = f->arrival;
		e->subject = dup_or_empty(f->subject);
		e->rcpt = dup_or_empty(f->rcpt0);
		e->reason = dup_or_empty(f->reason0);
	}
}

void
st_campaign_add_facts(struct st_campaign *c,
    const struct st_campaign_facts *f, int backscatter)
{
	if (!c->learnt)
		st_campaign_learn_done(c);
	c->dirty = true;
	if (f->unreadable) {
		c->s.unreadable++;
		c->s.messages++;
		return;
	}
	if (f->kind == ST_BOUNCE_NONE) {
		c->s.not_bounces++;
		c->s.messages++;
		return;
	}
	c->s.bounces++;
	if (backscatter == 1)
		c->s.backscatter++;
	else if (backscatter == 0)
		c->s.genuine++;
	else
		c->s.undetermined++;
	bump(&c->s.by_reason, &c->s.nreasons, &c->capreasons, &c->reason_ix,
	    f->reason0);
	if (f->has_arrival) {
		char day[32];

		st_date_iso(f->arrival, day, sizeof(day));
		day[10] = '\0';
		bump(&c->s.per_day, &c->s.ndays, &c->capdays, &c->day_ix,
		    day);
		if (!c->s.has_first || f->arrival < c->s.first)
			c->s.first = f->arrival;
		if (!c->s.has_first || f->arrival > c->s.last)
			c->s.last = f->arrival;
		c->s.has_first = true;
	}
	if (f->has_orig && backscatter != 0)
		add_origin(c, f);
	c->s.messages++;
}

void
st_campaign_add(struct st_campaign *c, struct st_arena *a,
    const struct st_campaign_item *it)
{
	struct st_campaign_facts f;

	if (a == NULL || st_campaign_facts_make(c->cfg, a, it, &f) != ST_OK) {
		/* no room for the facts: count it, as unreadable */
		memset(&f, 0, sizeof(f));
		f.unreadable = true;
	}
	st_campaign_add_facts(c, &f, it->backscatter);
}

static int
cmp_count(const void *x, const void *y)
{
	const struct st_campaign_count *a = x, *b = y;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->key, b->key);
}

static int
cmp_day(const void *x, const void *y)
{
	return strcmp(((const struct st_campaign_count *)x)->key,
	    ((const struct st_campaign_count *)y)->key);
}

static int
cmp_origin(const void *x, const void *y)
{
	const struct st_campaign_origin *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->first_seen != b->first_seen)
		return a->first_seen < b->first_seen ? -1 : 1;
	return 0;
}

const struct st_campaign_summary *
st_campaign_result(struct st_campaign *c)
{
	if (!c->learnt)
		st_campaign_learn_done(c);
	if (c->dirty) {
		/* hostile fix (issue 7): qsort(NULL, 0, ...) is undefined
		 * (UBSan aborted bounces on a mailbox with no bounce) */
		if (c->s.nreasons > 1)
			qsort(c->s.by_reason, c->s.nreasons,
			    sizeof(*c->s.by_reason), cmp_count);
		if (c->s.ndays > 1)
			qsort(c->s.per_day, c->s.ndays, sizeof(*c->s.per_day),
			    cmp_day);
		/* the positions moved: the indexes are made again */
		free(c->reason_ix.ht);
		free(c->day_ix.ht);
		memset(&c->reason_ix, 0, sizeof(c->reason_ix));
		memset(&c->day_ix, 0, sizeof(c->day_ix));
		free(c->s.origins);
		c->s.origins = NULL;
		c->s.norigins = 0;
		if (c->norv > 0 && (c->s.origins = malloc(c->norv *
		    sizeof(*c->s.origins))) != NULL) {
			memcpy(c->s.origins, c->orv,
			    c->norv * sizeof(*c->orv));
			c->s.norigins = c->norv;
			qsort(c->s.origins, c->s.norigins,
			    sizeof(*c->s.origins), cmp_origin);
		}
		c->dirty = false;
	}
	c->s.me = (const char *const *)c->me.v;
	c->s.nme = c->me.n;
	c->s.providers = (const char *const *)c->my_orgs.v;
	c->s.nproviders = c->my_orgs.n;
	c->s.country = c->country;
	return &c->s;
}
