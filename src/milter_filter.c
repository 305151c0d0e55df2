/*
 * milter_filter.c - the libmilter callbacks of "spamtrace milter".
 *
 * DESCRIPTION
 *	One struct conn per SMTP connection (smfi_setpriv): the client as
 *	the MTA reports it (address from the connect callback, its looked-up
 *	name, HELO, the MTA's own name from macro j or {daemon_name}), the
 *	connection-level check (DYNAMIC_SENDER on the client itself) and the
 *	message being collected.  The decisions are made by lib/milter
 *	(st_milter_decide_mail at MAIL FROM, st_milter_check_message at the
 *	end of the message); this file only collects, applies and logs.
 *
 *	Every decision is logged through syslog (ident "spamtrace-milter",
 *	facility LOG_MAIL) with the queue id, the client and the evidence.
 *
 *	Configuration reloads: SIGHUP reaches the supervisor (cmd_milter.c),
 *	which passes it to this worker as SIGUSR1 (libmilter itself treats
 *	SIGHUP as "stop").  The handler only sets a flag; the next
 *	connection loads the files again.  Configurations are reference
 *	counted: a connection keeps the one it started with to its end.  A
 *	configuration that fails to load is logged and the old one kept.
 *
 * LIMITS
 *	Per message at most ST_MAX_MILTER_HEADER bytes of header and
 *	ST_MAX_MILTER_BODY bytes of body are kept (the rest is skipped with
 *	SMFIS_SKIP where the MTA allows it); the analysis arena is capped at
 *	ST_MAX_MILTER_ARENA.  Any internal failure lets the message through
 *	with "X-Spamtrace: error=..." (fail_open = no: 451 4.3.0).
 *
 * STANDARDS
 *	The Sendmail milter protocol version 6 through libmilter (option
 *	negotiation, no-reply steps, SMFIS_SKIP); RFC 5321 replies with
 *	RFC 3463 enhanced codes; RFC 5322 header fields.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include "cli.h"
#include "milter_int.h"
#include "spamtrace/limits.h"
#include "spamtrace/milter.h"

#ifdef ST_HAVE_MILTER
#include <libmilter/mfapi.h>

#define HDR_NAME	"X-Spamtrace"

/* --- configurations, reference counted ---------------------------------- */

struct cfg_ref {
	struct st_config cfg;
	int	refs;
};

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cfg_ref *cfg_cur;
static const char *cfg_path;
static atomic_int reload_wanted;

static void
cfg_put_locked(struct cfg_ref *r)
{
	if (r != NULL && --r->refs == 0) {
		st_config_free(&r->cfg);
		free(r);
	}
}

static void
reload_locked(void)
{
	struct cfg_ref *r;
	char err[300];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		syslog(LOG_ERR, "configuration reload: out of memory; "
		    "keeping the old configuration");
		return;
	}
	if (!milter_config_load(&r->cfg, cfg_path, err, sizeof(err))) {
		syslog(LOG_ERR, "configuration reload failed, keeping the old "
		    "configuration: %s", err);
		free(r);
		return;
	}
	r->refs = 1;
	cfg_put_locked(cfg_cur);
	cfg_cur = r;
	syslog(LOG_INFO, "configuration reloaded%s%s: dynamic_direct=%s "
	    "backscatter=%s fail_open=%s", cfg_path ? " from " : "",
	    cfg_path ? cfg_path : "",
	    st_milter_action_name(r->cfg.dynamic_direct),
	    st_milter_action_name(r->cfg.backscatter),
	    r->cfg.fail_open ? "yes" : "no");
}

static struct cfg_ref *
cfg_get(void)
{
	struct cfg_ref *r;

	pthread_mutex_lock(&cfg_lock);
	if (atomic_exchange(&reload_wanted, 0))
		reload_locked();
	r = cfg_cur;
	if (r != NULL)
		r->refs++;
	pthread_mutex_unlock(&cfg_lock);
	return r;
}

static void
cfg_put(struct cfg_ref *r)
{
	pthread_mutex_lock(&cfg_lock);
	cfg_put_locked(r);
	pthread_mutex_unlock(&cfg_lock);
}

void
milter_filter_request_reload(void)
{
	atomic_store(&reload_wanted, 1);
}

void
milter_filter_reload(void)
{
	pthread_mutex_lock(&cfg_lock);
	reload_locked();
	pthread_mutex_unlock(&cfg_lock);
}

void
milter_filter_setup(const char *config_path, struct st_config *cfg)
{
	struct cfg_ref *r = calloc(1, sizeof(*r));

	cfg_path = config_path;
	if (r == NULL)
		abort();	/* at startup, before any mail */
	r->cfg = *cfg;		/* taken over */
	r->refs = 1;
	cfg_cur = r;
}

/* --- per connection ------------------------------------------------------ */

struct conn {
	struct cfg_ref *cfg;
	unsigned long nr;	/* negotiated SMFIP_* steps */
	char	ip[64], name[256], helo[256], by[256];
	bool	checked;
	struct st_milter_conn cc;

	/* the message */
	char	auth[256], auth_type[64], qid[64], from[256], rcpt[256];
	unsigned nrcpt;
	char   *buf;
	size_t	len, cap;
	size_t	hdr_len, body_len;	/* bytes of each part kept */
	bool	in_body, truncated;
	unsigned forged;	/* X-Spamtrace fields already present */
};

static void
msg_reset(struct conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->hdr_len = c->body_len = 0;
	c->in_body = c->truncated = false;
	c->forged = 0;
	c->nrcpt = 0;
	c->auth[0] = c->auth_type[0] = c->qid[0] = c->from[0] =
	    c->rcpt[0] = '\0';
}

/* Keep n bytes if they fit under limit (bytes of this part so far: used). */
static bool
keep(struct conn *c, const char *p, size_t n)
{
	if (c->len + n > c->cap) {
		size_t ncap = c->cap ? c->cap : 16384;
		char *nb;

		while (ncap < c->len + n)
			ncap *= 2;
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return false;
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return true;
}

/* A printable copy of s into buf (control bytes out). */
static void
copy_clean(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s && n + 1 < size; s++)
		buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	buf[n] = '\0';
}

static const char *
macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v != NULL ? v : "";
}

static struct conn *
conn_of(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->cfg = cfg_get();
		if (c->cfg == NULL) {
			free(c);
			return NULL;
		}
		smfi_setpriv(ctx, c);
	}
	return c;
}

static void
client_of(const struct conn *c, struct st_milter_client *cl)
{
	cl->ip = c->ip;
	cl->name = c->name;
	cl->helo = c->helo;
	cl->by = c->by;
	cl->auth = c->auth;
	cl->auth_type = c->auth_type;
}

/* The reply for a step the MTA may have been told not to wait for. */
static sfsistat
step_reply(const struct conn *c, unsigned long nr_flag)
{
	return c != NULL && (c->nr & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void
log_line(const struct conn *c, int prio, const char *line)
{
	char from[300], to[300];

	snprintf(from, sizeof(from), "%s", c->from[0] ? c->from : "<>");
	if (c->nrcpt > 1)
		snprintf(to, sizeof(to), "%s (+%u)", c->rcpt, c->nrcpt - 1);
	else
		snprintf(to, sizeof(to), "%s", c->rcpt);
	syslog(prio, "%s: %s from=%s to=%s", c->qid[0] ? c->qid : "NOQUEUE",
	    line, from, to[0] ? to : "none");
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_of(ctx);
	const struct st_config *cfg;
	/* Every reply the MTA need not wait for is a round trip saved per
	 * message: only MAIL (a refusal there) and the end of the message
	 * need one. */
	unsigned long want = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT |
	    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	if (c == NULL)
		return SMFIS_ACCEPT;	/* no memory: let mail through */
	cfg = &c->cfg->cfg;
	if (cfg->dynamic_direct != ST_ACT_TEMPFAIL &&
	    cfg->dynamic_direct != ST_ACT_REJECT)
		want |= SMFIP_NR_MAIL;	/* nothing to refuse at MAIL */
	if (cfg->backscatter == ST_ACT_ACCEPT)
		want |= SMFIP_NOBODY;	/* the body is for the bounce reader */
	else if (f1 & SMFIP_NR_BODY)
		want |= SMFIP_NR_BODY;	/* small mail: no reply per chunk */
	else
		want |= SMFIP_SKIP;	/* large mail: skip past the cap */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	c->nr = *pf1;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *sa)
{
	struct conn *c = conn_of(ctx);
	const char *by;

	if (c == NULL)
		return SMFIS_ACCEPT;
	c->ip[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
		    c->ip, sizeof(c->ip));
	else if (sa != NULL && sa->sa_family == AF_INET6) {
		char tmp[INET6_ADDRSTRLEN];

		if (inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, tmp,
		    sizeof(tmp)) == NULL ||
		    !st_ip_normalise(tmp, strlen(tmp), c->ip, sizeof(c->ip)))
			c->ip[0] = '\0';
	}
	st_milter_client_name(hostname, c->name, sizeof(c->name));
	by = macro(ctx, "j");
	if (*by == '\0')
		by = macro(ctx, "{daemon_name}");
	copy_clean(c->by, sizeof(c->by), by);
	c->helo[0] = '\0';
	c->checked = false;
	return step_reply(c, SMFIP_NR_CONN);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	copy_clean(c->helo, sizeof(c->helo), helo);
	c->checked = false;	/* the trace uses the HELO too */
	return step_reply(c, SMFIP_NR_HELO);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	struct st_milter_client cl;
	struct st_milter_result r;
	struct st_error err = { 0 };

	if (c == NULL)
		return SMFIS_ACCEPT;
	msg_reset(c);
	copy_clean(c->auth, sizeof(c->auth), macro(ctx, "{auth_authen}"));
	copy_clean(c->auth_type, sizeof(c->auth_type),
	    macro(ctx, "{auth_type}"));
	copy_clean(c->qid, sizeof(c->qid), macro(ctx, "i"));
	if (argv != NULL && argv[0] != NULL)
		copy_clean(c->from, sizeof(c->from), argv[0]);
	client_of(c, &cl);
	if (!c->checked) {
		if (st_milter_conn_check(&c->cfg->cfg, &cl, &c->cc, &err) !=
		    ST_OK)
			syslog(LOG_ERR, "%s: connection check failed for %s: "
			    "%s", c->qid[0] ? c->qid : "NOQUEUE", c->ip,
			    err.msg);
		c->checked = true;
	}
	st_milter_decide_mail(&c->cfg->cfg, &cl, &c->cc, &r);
	if (r.log[0])
		log_line(c, r.action == ST_ACT_ACCEPT ? LOG_INFO : LOG_NOTICE,
		    r.log);
	if ((r.action == ST_ACT_TEMPFAIL || r.action == ST_ACT_REJECT) &&
	    !(c->nr & SMFIP_NR_MAIL)) {
		smfi_setreply(ctx, (char *)r.code, (char *)r.xcode, r.reply);
		return r.action == ST_ACT_TEMPFAIL ? SMFIS_TEMPFAIL :
		    SMFIS_REJECT;
	}
	return step_reply(c, SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (c->nrcpt++ == 0 && argv != NULL && argv[0] != NULL)
		copy_clean(c->rcpt, sizeof(c->rcpt), argv[0]);
	return step_reply(c, SMFIP_NR_RCPT);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_of(ctx);
	size_t nl, vl;

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (name == NULL)
		name = "";
	if (value == NULL)
		value = "";
	if (strcasecmp(name, HDR_NAME) == 0)
		c->forged++;
	nl = strlen(name);
	vl = strlen(value);
	if (c->hdr_len + nl + vl + 3 > ST_MAX_MILTER_HEADER)
		c->truncated = true;
	else if (keep(c, name, nl) && keep(c, ": ", 2) &&
	    keep(c, value, vl) && keep(c, "\n", 1))
		c->hdr_len += nl + vl + 3;
	else
		c->truncated = true;	/* out of memory: analyse less */
	return step_reply(c, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (!keep(c, "\n", 1))
		c->truncated = true;
	c->in_body = true;
	return step_reply(c, SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = conn_of(ctx);
	size_t room;

	if (c == NULL)
		return SMFIS_ACCEPT;
	room = c->body_len < ST_MAX_MILTER_BODY ?
	    ST_MAX_MILTER_BODY - c->body_len : 0;
	if (n > room) {
		c->truncated = true;
		n = room;
	}
	if (n > 0 && keep(c, (const char *)p, n))
		c->body_len += n;
	else if (n > 0)
		c->truncated = true;
	if (c->nr & SMFIP_NR_BODY)
		return SMFIS_NOREPLY;
	if (c->truncated && (c->nr & SMFIP_SKIP))
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	struct st_milter_client cl;
	struct st_milter_result r;
	struct st_error err = { 0 };
	struct st_arena *a;
	const char *qid;
	sfsistat rc = SMFIS_CONTINUE;
	unsigned i;

	if (c == NULL)
		return SMFIS_ACCEPT;
	qid = macro(ctx, "i");
	if (*qid)
		copy_clean(c->qid, sizeof(c->qid), qid);
	if (!c->in_body && !keep(c, "\n", 1))
		c->truncated = true;
	client_of(c, &cl);
	if ((a = st_arena_new(ST_MAX_MILTER_ARENA)) == NULL)
		st_milter_fail(&c->cfg->cfg, &cl, "out of memory", &r);
	else if (c->buf == NULL)
		st_milter_fail(&c->cfg->cfg, &cl, "no header collected", &r);
	else if (st_milter_check_message(a, &c->cfg->cfg, &cl, &c->cc,
	    c->from, c->buf, c->len, c->truncated ? ST_MILTER_TRUNCATED : 0, &r,
	    &err) != ST_OK)
		st_milter_fail(&c->cfg->cfg, &cl, err.msg[0] ? err.msg :
		    st_strerror(err.status), &r);
	st_arena_free(a);

	/* a sender's own X-Spamtrace fields would pass for ours: remove */
	for (i = c->forged; i > 0; i--)
		smfi_chgheader(ctx, HDR_NAME, (int)i, NULL);
	if (r.action == ST_ACT_ACCEPT || r.action == ST_ACT_TAG) {
		if (smfi_addheader(ctx, HDR_NAME, r.header) != MI_SUCCESS)
			syslog(LOG_WARNING, "%s: could not add the header",
			    c->qid[0] ? c->qid : "NOQUEUE");
	} else {
		smfi_setreply(ctx, (char *)r.code, (char *)r.xcode, r.reply);
		rc = r.action == ST_ACT_TEMPFAIL ? SMFIS_TEMPFAIL :
		    SMFIS_REJECT;
	}
	if (strcmp(r.rule, "error") == 0)
		log_line(c, LOG_WARNING, r.log);
	else
		log_line(c, r.action == ST_ACT_ACCEPT ||
		    r.action == ST_ACT_TAG ? LOG_INFO : LOG_NOTICE, r.log);
	msg_reset(c);
	return rc;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_reset(c);
		cfg_put(c->cfg);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "spamtrace",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *
milter_filter_desc(void)
{
	return &desc;
}

#endif /* ST_HAVE_MILTER */
