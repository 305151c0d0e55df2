/*
 * milter.c - the decisions of the milter: which action, which header,
 * which reply, which log line (no libmilter, no I/O).
 *
 * DESCRIPTION
 *	st_milter_conn_check() looks at the connection alone: it runs the
 *	trace over a message whose only hop is the connection the MTA
 *	reports, so the same DYNAMIC_SENDER rule (S25R-style name tests,
 *	"its own provider's server" exception) decides for a live client as
 *	for a stored message.  The SASL login is left out of that trace so
 *	the result holds for the whole connection; exemptions are checked
 *	per decision (a client may authenticate between two transactions).
 *
 *	st_milter_decide_mail() applies dynamic_direct = tempfail | reject
 *	at MAIL FROM, the first moment the MTA says whether the client
 *	authenticated (Postfix sends {auth_authen} with the MAIL macros).
 *	Refusing at connect or HELO would also refuse the provider's own
 *	customers who authenticate to us.
 *
 *	st_milter_check_message() runs at the end of the message: the full
 *	trace with the connection as the trusted top hop, the bounce reader
 *	(for backscatter: a bounce or auto-reply whose original shows no
 *	Received hop written by or coming from one of our my_outbound hosts
 *	or networks), and the header:
 *
 *	  X-Spamtrace: origin=IP; source=IP; findings=CODE,CODE
 *	      [; backscatter=yes|no|unknown] [; tag=RULE,RULE]
 *	      [; truncated=yes]
 *
 *	"none" stands for an absent origin, source or finding list.  The
 *	backscatter item appears only for bounces and auto-replies.
 *
 *	Authenticated clients and trusted_clients are never acted on; the
 *	defaults (tag) only add the header.  A bounce with no copy of its
 *	original, or a configuration without my_outbound, is "unknown" and
 *	never refused: a genuine bounce must not be lost.
 *
 * LIMITS
 *	Results are fixed-size buffers (struct st_milter_result); every
 *	string copied into them is cut to fit and stripped of control
 *	characters.  The input size is bounded by the caller
 *	(ST_MAX_MILTER_HEADER, ST_MAX_MILTER_BODY); the arena by its
 *	ceiling.
 *
 * STANDARDS
 *	RFC 5321 (reply codes), RFC 3463 (enhanced status codes 4.7.1,
 *	5.7.1, 4.3.0), RFC 5322 (header fields), RFC 3464 / RFC 3834 through
 *	the bounce reader.  S25R (Selective SMTP Rejection, Asami 2004) for
 *	the practice of refusing dynamic clients with a temporary failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/limits.h"
#include "spamtrace/milter.h"
#include "spamtrace/received.h"
#include "trace/trace_int.h"	/* st_name_is_dynamic: the evidence */

static bool
has(const char *s)
{
	return s != NULL && *s != '\0';
}

static const char *
S(const char *s)
{
	return s != NULL ? s : "";
}

/* Copy s into buf (size > 0): printable ASCII only, other bytes as '?',
 * cut to fit.  pct: '%' becomes '?' too (reply texts go through printf-like
 * code in some MTAs). */
static void
clean_copy(char *buf, size_t size, const char *s, bool pct)
{
	size_t n = 0;

	if (size == 0)
		return;
	for (; s != NULL && *s != '\0' && n + 1 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || (pct && ch == '%'))
			ch = ch == '\t' ? ' ' : '?';
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
}

/* Append to a NUL-terminated buffer; cut silently at size. */
static void
appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* A token for the header: only the characters an address, a host name
 * or a finding code uses ("none" when empty). */
static void
token(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < size; s++) {
		char ch = *s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' ||
		    ch == '-' || ch == '_')
			buf[n++] = ch;
	}
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, size, "none");
}

const char *
st_milter_action_name(enum st_action a)
{
	switch (a) {
	case ST_ACT_TAG:	return "tag";
	case ST_ACT_TEMPFAIL:	return "tempfail";
	case ST_ACT_REJECT:	return "reject";
	default:		return "accept";
	}
}

const char *
st_milter_bs_name(enum st_milter_bs bs)
{
	switch (bs) {
	case ST_MILTER_BS_UNKNOWN:	return "unknown";
	case ST_MILTER_BS_OURS:		return "no";
	case ST_MILTER_BS_YES:		return "yes";
	default:			return "";
	}
}

void
st_milter_client_name(const char *hostname, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	if (!has(hostname) || hostname[0] == '[' ||
	    strcasecmp(hostname, "unknown") == 0)
		return;
	clean_copy(buf, size, hostname, false);
	/* a name has no spaces; keep the first word only */
	buf[strcspn(buf, " ")] = '\0';
}

bool
st_milter_exempt(const struct st_config *cfg,
    const struct st_milter_client *c, char *why, size_t size)
{
	char tmp[128];

	if (size > 0)
		why[0] = '\0';
	if (has(c->auth)) {
		clean_copy(tmp, sizeof(tmp), c->auth, true);
		snprintf(why, size, "authenticated as %s", tmp);
		return true;
	}
	if (has(c->ip) && cfg->ntrusted_clients > 0 &&
	    st_net_contains(cfg->trusted_clients, cfg->ntrusted_clients,
	    c->ip)) {
		snprintf(why, size, "trusted client");
		return true;
	}
	return false;
}

static const struct st_finding *
find_code(const struct st_trace *t, const char *code)
{
	size_t i;

	for (i = 0; i < t->nfindings; i++)
		if (t->findings[i].code != NULL &&
		    strcmp(t->findings[i].code, code) == 0)
			return &t->findings[i];
	return NULL;
}

/* The message the connection-only trace runs on: one harmless field. */
static const char conn_msg[] = "X-Spamtrace-Probe: connection\n\n";

enum st_status
st_milter_conn_check(const struct st_config *cfg,
    const struct st_milter_client *c, struct st_milter_conn *cc,
    struct st_error *err)
{
	struct st_arena *a;
	struct st_msg m;
	struct st_trace t;
	struct st_top_hop top;
	const struct st_finding *f;
	enum st_status rc;

	memset(cc, 0, sizeof(*cc));
	if (!has(c->ip))
		return ST_OK;	/* a local socket: nothing to judge */
	if ((a = st_arena_new(4u * 1024 * 1024)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	if ((rc = st_msg_parse(&m, a, conn_msg, sizeof(conn_msg) - 1)) !=
	    ST_OK) {
		st_arena_free(a);
		return st_error_set(err, rc, "%s", st_strerror(rc));
	}
	memset(&top, 0, sizeof(top));
	top.ip = c->ip;
	top.rdns = S(c->name);
	top.helo = S(c->helo);
	top.by = S(c->by);
	top.auth = "";		/* see above: exemptions are per decision */
	if ((rc = st_trace_message(&m, cfg, &top, &t, err)) != ST_OK) {
		st_arena_free(a);
		return rc;
	}
	if ((f = find_code(&t, "DYNAMIC_SENDER")) != NULL) {
		char why[96] = "", name[200], ip[64];

		cc->dynamic = true;
		/* the trace's evidence is the hop's raw text, which for the
		 * connection is a placeholder: say what the rule saw */
		if (!st_name_is_dynamic(c->name, c->ip, why, sizeof(why)))
			snprintf(why, sizeof(why), "%s", "trace rule");
		clean_copy(name, sizeof(name), has(c->name) ? c->name :
		    "no name", false);
		clean_copy(ip, sizeof(ip), c->ip, false);
		snprintf(cc->evidence, sizeof(cc->evidence), "%s[%s]: %s",
		    name, ip, why);
	}
	st_arena_free(a);
	return ST_OK;
}

/* "name[ip]" for logs and replies. */
static void
client_label(const struct st_milter_client *c, char *buf, size_t size)
{
	char n[256], ip[64];

	clean_copy(n, sizeof(n), has(c->name) ? c->name : "unknown", true);
	clean_copy(ip, sizeof(ip), has(c->ip) ? c->ip : "local", true);
	snprintf(buf, size, "%s[%s]", n, ip);
}

static void
result_init(struct st_milter_result *r)
{
	memset(r, 0, sizeof(*r));
	r->action = ST_ACT_ACCEPT;
	r->rule = "";
	r->code = "";
	r->xcode = "";
}

static void
set_dynamic_reply(const struct st_milter_client *c,
    struct st_milter_result *r, enum st_action act)
{
	char ip[64], name[200];

	clean_copy(ip, sizeof(ip), c->ip, true);
	clean_copy(name, sizeof(name), has(c->name) ? c->name : "no name",
	    true);
	r->action = act;
	r->rule = "dynamic_direct";
	if (act == ST_ACT_TEMPFAIL) {
		r->code = "451";
		r->xcode = "4.7.1";
		snprintf(r->reply, sizeof(r->reply), "Your address %s (%s) "
		    "looks like an end-user or dynamic address; please send "
		    "through your provider's mail server (temporary refusal, "
		    "try again later)", ip, name);
	} else {
		r->code = "550";
		r->xcode = "5.7.1";
		snprintf(r->reply, sizeof(r->reply), "Your address %s (%s) "
		    "looks like an end-user or dynamic address; mail from it "
		    "is refused here, please send through your provider's "
		    "mail server", ip, name);
	}
}

void
st_milter_decide_mail(const struct st_config *cfg,
    const struct st_milter_client *c, const struct st_milter_conn *cc,
    struct st_milter_result *r)
{
	char exempt[128], label[320], helo[256];

	result_init(r);
	if (!cc->dynamic)
		return;
	client_label(c, label, sizeof(label));
	clean_copy(helo, sizeof(helo), has(c->helo) ? c->helo : "none", true);
	if (st_milter_exempt(cfg, c, exempt, sizeof(exempt))) {
		snprintf(r->log, sizeof(r->log), "stage=mail action=accept "
		    "rule=dynamic_direct client=%s helo=%s finding="
		    "DYNAMIC_SENDER exempt=\"%s\"", label, helo, exempt);
		return;
	}
	if (cfg->dynamic_direct != ST_ACT_TEMPFAIL &&
	    cfg->dynamic_direct != ST_ACT_REJECT)
		return;		/* accept / tag: decided at the end */
	set_dynamic_reply(c, r, cfg->dynamic_direct);
	snprintf(r->log, sizeof(r->log), "stage=mail action=%s "
	    "rule=dynamic_direct client=%s helo=%s finding=DYNAMIC_SENDER "
	    "reply=\"%s %s\" evidence=\"%s\"",
	    st_milter_action_name(r->action), label, helo, r->code, r->xcode,
	    cc->evidence);
}

/* Does name match one of the hosts ("host", "example.jp" covers its
 * subdomains, ".example.jp" only them)? */
static bool
host_listed(const struct st_strlist *l, const char *name)
{
	size_t i, n, ln;

	if (!has(name))
		return false;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;		/* a rooted name */
	for (i = 0; i < l->n; i++) {
		const char *h = l->v[i];

		ln = strlen(h);
		if (ln == 0)
			continue;
		if (n == ln && strncasecmp(h, name, n) == 0)
			return true;
		if (h[0] == '.' && n > ln &&
		    strncasecmp(name + n - ln, h, ln) == 0)
			return true;
		if (h[0] != '.' && n > ln + 1 && name[n - ln - 1] == '.' &&
		    strncasecmp(name + n - ln, h, ln) == 0)
			return true;
	}
	return false;
}

/* Is s (a name, an address or "[address]") one of ours? */
static bool
is_ours(const struct st_config *cfg, const char *s)
{
	char ip[64];
	size_t n;

	if (!has(s))
		return false;
	if (host_listed(&cfg->my_outbound_hosts, s))
		return true;
	n = strlen(s);
	if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	return st_ip_normalise(s, n, ip, sizeof(ip)) &&
	    st_net_contains(cfg->my_outbound_nets, cfg->nmy_outbound_nets,
	    ip);
}

enum st_milter_bs
st_milter_backscatter(const struct st_config *cfg, const struct st_bounce *b,
    const struct st_trace *ot, char *why, size_t size)
{
	size_t i;
	char tmp[200];

	if (size > 0)
		why[0] = '\0';
	/* An ARF report answers a complaint loop we signed up for; it is
	 * not a bounce of mail we sent. */
	if (b == NULL || b->kind == ST_BOUNCE_NONE || b->kind == ST_BOUNCE_ARF)
		return ST_MILTER_BS_NONE;
	if (cfg->nmy_outbound_nets == 0 && cfg->my_outbound_hosts.n == 0) {
		snprintf(why, size, "my_outbound is not configured");
		return ST_MILTER_BS_UNKNOWN;
	}
	if (ot == NULL) {
		snprintf(why, size, "the %s carries no copy of the original",
		    st_bounce_kind_name(b->kind));
		return ST_MILTER_BS_UNKNOWN;
	}
	if (ot->nhops == 0) {
		snprintf(why, size, "the copy of the original has no Received "
		    "fields");
		return ST_MILTER_BS_UNKNOWN;
	}
	for (i = 0; i < ot->nhops; i++) {
		const struct st_hop *h = &ot->hops[i];
		const char *what = NULL;

		if (is_ours(cfg, h->by))
			what = h->by;
		else if (is_ours(cfg, h->ip))
			what = h->ip;
		else if (is_ours(cfg, h->rdns))
			what = h->rdns;
		if (what != NULL) {
			clean_copy(tmp, sizeof(tmp), what, false);
			snprintf(why, size, "original's Received hop %d "
			    "passed our host %s", h->index, tmp);
			return ST_MILTER_BS_OURS;
		}
	}
	{
		const struct st_hop *h = &ot->hops[ot->nhops - 1];
		char from[128], by[128];

		clean_copy(from, sizeof(from), has(h->ip) ? h->ip :
		    has(h->rdns) ? h->rdns : "?", false);
		clean_copy(by, sizeof(by), has(h->by) ? h->by : "?", false);
		snprintf(why, size, "none of the original's %zu Received "
		    "hops passed my_outbound (first: from %s by %s)",
		    ot->nhops, from, by);
	}
	return ST_MILTER_BS_YES;
}

/* The finding codes of t (plus DYNAMIC_SENDER from the connection check
 * when the full trace put it elsewhere), comma-separated. */
static void
finding_list(const struct st_trace *t, const struct st_milter_conn *cc,
    char *buf, size_t size)
{
	size_t i, j;
	char code[64];

	buf[0] = '\0';
	for (i = 0; i < t->nfindings; i++) {
		bool dup = false;

		if (!has(t->findings[i].code))
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = has(t->findings[j].code) &&
			    strcmp(t->findings[j].code, t->findings[i].code) ==
			    0;
		if (dup)
			continue;
		token(code, sizeof(code), t->findings[i].code);
		appendf(buf, size, "%s%s", buf[0] ? "," : "", code);
	}
	if (cc != NULL && cc->dynamic && find_code(t, "DYNAMIC_SENDER") ==
	    NULL)
		appendf(buf, size, "%sDYNAMIC_SENDER", buf[0] ? "," : "");
	if (buf[0] == '\0')
		snprintf(buf, size, "none");
}

/*
 * Postfix (and sendmail) hand the milter their own Received field for this
 * connection as the message's first field.  The connection is already the
 * top hop, with more facts (the SASL login); the same reception twice would
 * read as a broken chain.  Drop that field from the analysis (the message
 * itself is not changed): the first Received field, when it records the
 * connecting address.
 */
static enum st_status
drop_own_received(struct st_msg *m, const struct st_milter_client *c)
{
	struct st_hop h;
	size_t i;

	if (!has(c->ip))
		return ST_OK;
	for (i = 0; i < m->nhdrs; i++) {
		const struct st_header *f = &m->hdrs[i];

		if (f->name_len != 8 || strncasecmp(f->name, "Received", 8))
			continue;
		memset(&h, 0, sizeof(h));
		if (!st_received_parse(m->arena, f->value, f->value_len, &h))
			return ST_ENOMEM;
		if (h.parsed && has(h.ip) && strcmp(h.ip, c->ip) == 0 &&
		    (!has(c->by) || !has(h.by) || strcasecmp(h.by, c->by) ==
		    0)) {
			memmove(&m->hdrs[i], &m->hdrs[i + 1],
			    (m->nhdrs - i - 1) * sizeof(m->hdrs[0]));
			m->nhdrs--;
		}
		break;		/* only the first Received field */
	}
	return ST_OK;
}

/* Case-insensitive search of an ASCII word in a span. */
static bool
span_has(const char *p, size_t n, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; wl <= n && i <= n - wl; i++)
		if (strncasecmp(p + i, word, wl) == 0)
			return true;
	return false;
}

static const struct st_header *
field(const struct st_msg *m, const char *name)
{
	return st_msg_get(m, name, 0);
}

bool
st_milter_may_be_bounce(const struct st_msg *m, const char *mail_from)
{
	static const char *const subject_words[] = {
		"undeliver", "returned", "failure", "failed", "delivery",
		"not delivered", "auto", "out of office", "vacation", "away",
		"absence", "abwesen", "unzustellbar", "non remis", "confirm",
		"verif", "challenge", "rejected", "bounce", "error",
		"=?", /* an encoded Subject: let the bounce reader decide */
	};
	const struct st_header *h;
	size_t i;

	if (mail_from == NULL || *mail_from == '\0' ||
	    strcmp(mail_from, "<>") == 0)
		return true;
	if ((h = field(m, "Auto-Submitted")) != NULL &&
	    !(h->value_len >= 2 && span_has(h->value, h->value_len, "no") &&
	    !span_has(h->value, h->value_len, "auto")))
		return true;
	if ((h = field(m, "Content-Type")) != NULL &&
	    span_has(h->value, h->value_len, "report"))
		return true;
	if (field(m, "X-Autoreply") != NULL ||
	    field(m, "X-Autorespond") != NULL ||
	    field(m, "X-Autoresponder") != NULL)
		return true;
	if ((h = field(m, "Precedence")) != NULL &&
	    span_has(h->value, h->value_len, "auto"))
		return true;
	if ((h = field(m, "From")) != NULL &&
	    (span_has(h->value, h->value_len, "mailer-daemon") ||
	    span_has(h->value, h->value_len, "postmaster")))
		return true;
	if ((h = field(m, "Subject")) != NULL)
		for (i = 0; i < sizeof(subject_words) /
		    sizeof(subject_words[0]); i++)
			if (span_has(h->value, h->value_len, subject_words[i]))
				return true;
	return false;
}

enum st_status
st_milter_check_message(struct st_arena *a, const struct st_config *cfg,
    const struct st_milter_client *c, const struct st_milter_conn *cc,
    const char *mail_from, const char *buf, size_t len, unsigned flags,
    struct st_milter_result *r, struct st_error *err)
{
	struct st_msg m, om;
	struct st_trace t, ot;
	struct st_top_hop top;
	struct st_bounce b;
	enum st_status rc;
	enum st_milter_bs bs = ST_MILTER_BS_NONE;
	char bswhy[320] = "", exempt[128] = "", findings[600], origin[64],
	    source[64], label[320], helo[256], tags[64] = "", evidence[400] =
	    "";
	bool is_exempt, have_orig = false;
	enum st_action act = ST_ACT_ACCEPT;
	const char *rule = "";

	memset(&b, 0, sizeof(b));
	if ((rc = st_msg_parse(&m, a, buf, len)) != ST_OK)
		return st_error_set(err, rc, "message parse: %s",
		    st_strerror(rc));
	if ((rc = drop_own_received(&m, c)) != ST_OK)
		return st_error_set(err, rc, "%s", st_strerror(rc));
	memset(&top, 0, sizeof(top));
	top.ip = S(c->ip);
	top.rdns = S(c->name);
	top.helo = S(c->helo);
	top.by = S(c->by);
	top.auth = S(c->auth);
	if ((rc = st_trace_message(&m, cfg, has(c->ip) ? &top : NULL, &t,
	    err)) != ST_OK)
		return rc;
	if (cfg->backscatter != ST_ACT_ACCEPT && m.nhdrs > 0 &&
	    st_milter_may_be_bounce(&m, mail_from)) {
		if ((rc = st_bounce_parse(&m, &b, err)) != ST_OK)
			return rc;
		if (b.kind != ST_BOUNCE_NONE && b.kind != ST_BOUNCE_ARF &&
		    b.orig != NULL) {
			rc = st_bounce_hops_original(&m, &b, &om, &ot);
			if (rc == ST_ENOMEM)
				return st_error_set(err, rc, "bounce original: "
				    "%s", st_strerror(rc));
			have_orig = rc == ST_OK;
		}
		bs = st_milter_backscatter(cfg, &b, have_orig ? &ot : NULL,
		    bswhy, sizeof(bswhy));
	}

	/* the decision */
	is_exempt = st_milter_exempt(cfg, c, exempt, sizeof(exempt));
	result_init(r);
	if (cc != NULL && cc->dynamic && !is_exempt) {
		if (cfg->dynamic_direct == ST_ACT_TAG)
			appendf(tags, sizeof(tags), "dynamic_direct");
		if (cfg->dynamic_direct != ST_ACT_ACCEPT) {
			act = cfg->dynamic_direct;
			rule = "dynamic_direct";
			snprintf(evidence, sizeof(evidence), "%s",
			    cc->evidence);
		}
	}
	if (bs == ST_MILTER_BS_YES && !is_exempt) {
		if (cfg->backscatter == ST_ACT_TAG)
			appendf(tags, sizeof(tags), "%sbackscatter",
			    tags[0] ? "," : "");
		/* the stronger action wins; on a tie the first rule */
		if (cfg->backscatter != ST_ACT_ACCEPT &&
		    (!has(rule) || cfg->backscatter > act)) {
			act = cfg->backscatter;
			rule = "backscatter";
			evidence[0] = '\0';
		}
	}
	if (act == ST_ACT_TEMPFAIL || act == ST_ACT_REJECT) {
		if (strcmp(rule, "dynamic_direct") == 0)
			set_dynamic_reply(c, r, act);
		else {
			r->action = act;
			r->rule = "backscatter";
			r->code = act == ST_ACT_REJECT ? "550" : "451";
			r->xcode = act == ST_ACT_REJECT ? "5.7.1" : "4.7.1";
			snprintf(r->reply, sizeof(r->reply), "This %s is for "
			    "a message our servers never sent (backscatter "
			    "of forged mail); refused",
			    b.kind == ST_BOUNCE_AUTOREPLY ? "auto-reply" :
			    "bounce");
		}
	} else {
		r->action = act;
		r->rule = rule;
	}

	/* the header */
	token(origin, sizeof(origin), t.origin.present ? t.origin.ip : "");
	token(source, sizeof(source), t.source.present ? t.source.ip : "");
	/* an authenticated client is no dynamic sender: the trace says so,
	 * the connection check (which leaves the login out) does not */
	finding_list(&t, has(c->auth) ? NULL : cc, findings,
	    sizeof(findings));
	snprintf(r->header, sizeof(r->header), "origin=%s; source=%s; "
	    "findings=%s", origin, source, findings);
	if (bs != ST_MILTER_BS_NONE)
		appendf(r->header, sizeof(r->header), "; backscatter=%s",
		    st_milter_bs_name(bs));
	if (tags[0])
		appendf(r->header, sizeof(r->header), "; tag=%s", tags);
	if (flags & ST_MILTER_TRUNCATED)
		appendf(r->header, sizeof(r->header), "; truncated=yes");

	/* the log line */
	client_label(c, label, sizeof(label));
	clean_copy(helo, sizeof(helo), has(c->helo) ? c->helo : "none", true);
	snprintf(r->log, sizeof(r->log), "stage=eom action=%s rule=%s "
	    "client=%s helo=%s", st_milter_action_name(r->action),
	    has(r->rule) ? r->rule : "none", label, helo);
	if (is_exempt)
		appendf(r->log, sizeof(r->log), " exempt=\"%s\"", exempt);
	appendf(r->log, sizeof(r->log), " origin=%s source=%s findings=%s",
	    origin, source, findings);
	if (bs != ST_MILTER_BS_NONE) {
		char tmp[320];

		clean_copy(tmp, sizeof(tmp), bswhy, false);
		appendf(r->log, sizeof(r->log), " bounce=%s backscatter=%s "
		    "why=\"%s\"", st_bounce_kind_name(b.kind),
		    st_milter_bs_name(bs), tmp);
	}
	if (has(r->code))
		appendf(r->log, sizeof(r->log), " reply=\"%s %s\"", r->code,
		    r->xcode);
	if (evidence[0] && strcmp(rule, "backscatter") != 0) {
		char tmp[400];

		clean_copy(tmp, sizeof(tmp), evidence, false);
		appendf(r->log, sizeof(r->log), " evidence=\"%s\"", tmp);
	}
	return ST_OK;
}

void
st_milter_fail(const struct st_config *cfg, const struct st_milter_client *c,
    const char *what, struct st_milter_result *r)
{
	char w[160], label[320];
	size_t i;

	result_init(r);
	clean_copy(w, sizeof(w), has(what) ? what : "internal", true);
	/* one header parameter: no ';' inside it */
	for (i = 0; w[i]; i++)
		if (w[i] == ';')
			w[i] = ',';
	r->rule = "error";
	snprintf(r->header, sizeof(r->header), "error=%s", w);
	if (!cfg->fail_open) {
		r->action = ST_ACT_TEMPFAIL;
		r->code = "451";
		r->xcode = "4.3.0";
		snprintf(r->reply, sizeof(r->reply), "Temporary problem in "
		    "the spam filter; please try again later");
	}
	client_label(c, label, sizeof(label));
	snprintf(r->log, sizeof(r->log), "stage=eom action=%s rule=error "
	    "client=%s error=\"%s\"%s", st_milter_action_name(r->action),
	    label, w, cfg->fail_open ? " fail_open=yes" : " fail_open=no");
}
