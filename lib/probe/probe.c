/*
 * probe.c - the open-relay probe (spamtrace probe): one SMTP session per
 * target, the relay battery, a verdict, and the transcript of it all.
 *
 * The battery: the sixteen MAIL FROM / RCPT TO forms that nmap's
 * smtp-open-relay script tries (the list of forms is a fact taken from its
 * documentation and script; the code is ours), then the recipient
 * user@localhost that the author of seed 004 typed by hand (a gateway that
 * takes mail for "localhost" from the internet can have its queue flooded).
 * Between tests RSET; DATA is never sent; QUIT always ends a session that
 * is still connected.  At most tests_per_session tests (default 9) share
 * one connection, the rest follow on a new one: servers count errors per
 * connection and slow down (Postfix: a second per reply after 10) or hang
 * up (Postfix: 20) past their limits.  The forms use the server's own name (from the
 * banner or the EHLO reply) and its address literal (RFC 5321 4.1.3:
 * "[192.0.2.1]", "[IPv6:2001:db8::1]").
 *
 * Verdicts: open (a third-party RCPT was accepted: which forms is in the
 * tests), closed, auth-required (530 before any acceptance), unreachable
 * (no TCP connection), error (no greeting in time, garbage, a dropped
 * connection: said in the error field).  A 2yz to RCPT is an acceptance
 * only; nothing is ever delivered because no DATA follows.
 *
 * Limits: every session is bounded by st_probe_session_deadline_ms(); a
 * run of many targets by that times the number of rounds (targets divided
 * by the parallel bound), after which unfinished targets get an error
 * verdict.  Standards: RFC 5321, RFC 2606 (reserved test domains).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>

#include "spamtrace/probe.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
st_probe_verdict_name(enum st_probe_verdict v)
{
	switch (v) {
	case ST_PROBE_OPEN:		return "open";
	case ST_PROBE_CLOSED:		return "closed";
	case ST_PROBE_AUTH_REQUIRED:	return "auth-required";
	case ST_PROBE_UNREACHABLE:	return "unreachable";
	case ST_PROBE_ERROR:		return "error";
	}
	return "error";
}

void
st_probe_opts_init(struct st_probe_opts *o, int timeout_sec)
{
	memset(o, 0, sizeof(*o));
	st_smtp_params_init(&o->smtp);
	if (timeout_sec <= 0)
		timeout_sec = 10;
	if (timeout_sec > 3600)
		timeout_sec = 3600;
	o->smtp.connect_timeout_ms = timeout_sec * 1000;
	o->smtp.banner_timeout_ms = timeout_sec * 1000;
	o->smtp.command_timeout_ms = timeout_sec * 1000;
	o->smtp.tls_timeout_ms = timeout_sec * 1000;
	o->smtp.tls = ST_SMTP_TLS_IF_OFFERED;
	o->smtp.tls_verify = false;
	o->retry_without_tls = true;
	o->tests_per_session = ST_PROBE_TESTS_PER_SESSION;
	o->smtp.total_timeout_ms = st_probe_session_deadline_ms(o);
}

int
st_probe_session_deadline_ms(const struct st_probe_opts *o)
{
	/* connect + greeting + a few slow commands, with room for servers
	 * that slow down after errors (Postfix smtpd_error_sleep_time) */
	long ms = (long)o->smtp.command_timeout_ms * 5 + 30000;

	if (ms > 0x7fffffffL / 2)
		ms = 0x7fffffffL / 2;
	return (int)ms;
}

/* ---------------------------------------------------------------- */

enum st_status
st_probe_parse_target(const char *arg, char **host, char **port,
    struct st_error *err)
{
	const char *h, *he, *p = NULL, *colon;
	size_t n;

	*host = *port = NULL;
	if (arg == NULL || *arg == '\0')
		return st_error_set(err, ST_EINVAL, "empty target");
	n = strlen(arg);
	if (n > 1000)
		return st_error_set(err, ST_EINVAL, "target name too long");
	if (arg[0] == '[') {
		h = arg + 1;
		he = strchr(h, ']');
		if (he == NULL || he == h)
			return st_error_set(err, ST_EINVAL,
			    "%s: missing ']'", arg);
		if (he[1] == ':')
			p = he + 2;
		else if (he[1] != '\0')
			return st_error_set(err, ST_EINVAL,
			    "%s: junk after ']'", arg);
	} else {
		h = arg;
		colon = strchr(arg, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			he = arg + n;	/* a bare IPv6 address */
		} else if (colon != NULL) {
			he = colon;
			p = colon + 1;
		} else
			he = arg + n;
		if (he == h)
			return st_error_set(err, ST_EINVAL,
			    "%s: no host", arg);
	}
	if (p != NULL) {
		const char *q;
		long v;

		if (*p == '\0')
			return st_error_set(err, ST_EINVAL, "%s: empty port",
			    arg);
		for (q = p; *q; q++)
			if (*q < '0' || *q > '9' || q - p > 5)
				return st_error_set(err, ST_EINVAL,
				    "%s: bad port", arg);
		v = strtol(p, NULL, 10);
		if (v < 1 || v > 65535)
			return st_error_set(err, ST_EINVAL,
			    "%s: port out of range", arg);
	}
	for (const char *q = h; q < he; q++)
		if ((unsigned char)*q <= ' ' || *q == '/' || *q == '[' ||
		    *q == ']' || *q == '@')
			return st_error_set(err, ST_EINVAL,
			    "%s: bad character in host", arg);
	*host = strndup(h, (size_t)(he - h));
	*port = strdup(p != NULL ? p : "25");
	if (*host == NULL || *port == NULL) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		return st_error_set(err, ST_ENOMEM, "out of memory");
	}
	return ST_OK;
}

/* ---------------------------------------------------------------- */
/* the battery                                                        */

/* Split "local@domain" at the last '@'; no '@': all local, domain dflt. */
static void
split_addr(const char *a, const char *dflt_domain, char *local, size_t ln,
    char *domain, size_t dn)
{
	const char *at = strrchr(a, '@');

	if (at == NULL) {
		snprintf(local, ln, "%s", a);
		snprintf(domain, dn, "%s", dflt_domain);
	} else {
		snprintf(local, ln, "%.*s", (int)(at - a), a);
		snprintf(domain, dn, "%s", at + 1);
	}
}

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

enum st_status
st_probe_battery(const struct st_probe_opts *o, const char *server_name,
    const char *addr, struct st_probe_result *r, struct st_error *err)
{
	char fl[256], fd[256], tl[256], td[256], lit[80];
	const char *srv = server_name && *server_name ? server_name :
	    "localhost";
	struct in6_addr a6;
	struct st_probe_test *t;
	size_t i;

	split_addr(o->mail_from ? o->mail_from : ST_PROBE_DEFAULT_FROM,
	    "example.com", fl, sizeof(fl), fd, sizeof(fd));
	split_addr(o->rcpt_to ? o->rcpt_to : ST_PROBE_DEFAULT_TO,
	    "example.net", tl, sizeof(tl), td, sizeof(td));
	if (addr == NULL || *addr == '\0')
		snprintf(lit, sizeof(lit), "[127.0.0.1]");
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		snprintf(lit, sizeof(lit), "[IPv6:%s]", addr);
	else
		snprintf(lit, sizeof(lit), "[%s]", addr);

	struct { const char *form; char *from, *to; bool tp; } b[] = {
		/* nmap smtp-open-relay's sixteen forms, in its order */
		{ "null sender", fmt("%s", ""), fmt("%s@%s", tl, td), true },
		{ "third-party sender", fmt("%s@%s", fl, fd),
		    fmt("%s@%s", tl, td), true },
		{ "sender at server name", fmt("%s@%s", fl, srv),
		    fmt("%s@%s", tl, td), true },
		{ "sender at server address", fmt("%s@%s", fl, lit),
		    fmt("%s@%s", tl, td), true },
		{ "% hack at server address", fmt("%s@%s", fl, lit),
		    fmt("%s%%%s@%s", tl, td, lit), true },
		{ "% hack at server name", fmt("%s@%s", fl, lit),
		    fmt("%s%%%s@%s", tl, td, srv), true },
		{ "quoted recipient", fmt("%s@%s", fl, lit),
		    fmt("\"%s@%s\"", tl, td), true },
		{ "quoted % recipient", fmt("%s@%s", fl, lit),
		    fmt("\"%s%%%s\"", tl, td), true },
		{ "double @ at server address", fmt("%s@%s", fl, lit),
		    fmt("%s@%s@%s", tl, td, lit), true },
		{ "quoted @ at server address", fmt("%s@%s", fl, lit),
		    fmt("\"%s@%s\"@%s", tl, td, lit), true },
		{ "double @ at server name", fmt("%s@%s", fl, lit),
		    fmt("%s@%s@%s", tl, td, srv), true },
		{ "source route via server address", fmt("%s@%s", fl, lit),
		    fmt("@%s:%s@%s", lit, tl, td), true },
		{ "source route via server name", fmt("%s@%s", fl, lit),
		    fmt("@%s:%s@%s", srv, tl, td), true },
		{ "bang path", fmt("%s@%s", fl, lit), fmt("%s!%s", td, tl),
		    true },
		{ "bang path at server address", fmt("%s@%s", fl, lit),
		    fmt("%s!%s@%s", td, tl, lit), true },
		{ "bang path at server name", fmt("%s@%s", fl, lit),
		    fmt("%s!%s@%s", td, tl, srv), true },
		/* seed 004: RCPT TO:<stop-spam@localhost> from outside */
		{ "localhost recipient", fmt("%s@localhost", fl),
		    fmt("%s@localhost", tl), false },
	};
	_Static_assert(sizeof(b) / sizeof(b[0]) == ST_PROBE_NTESTS,
	    "battery size");

	r->ntests = 0;
	for (i = 0; i < ST_PROBE_NTESTS; i++) {
		if (b[i].from == NULL || b[i].to == NULL) {
			for (; i < ST_PROBE_NTESTS; i++) {
				free(b[i].from);
				free(b[i].to);
			}
			return st_error_set(err, ST_ENOMEM, "out of memory");
		}
		t = &r->tests[r->ntests++];
		memset(t, 0, sizeof(*t));
		t->n = (int)i + 1;
		t->form = b[i].form;
		t->mail_from = b[i].from;
		t->rcpt_to = b[i].to;
		t->third_party = b[i].tp;
	}
	return ST_OK;
}

/* ---------------------------------------------------------------- */
/* one target                                                         */

static char *
reply_dup(const struct st_smtp_reply *rp)
{
	char *s;

	if (rp->raw == NULL)
		return strdup("");
	if ((s = malloc(rp->rawlen + 1)) == NULL)
		return NULL;
	memcpy(s, rp->raw, rp->rawlen + 1);
	/* a NUL inside would cut the string: show it */
	for (size_t i = 0; i < rp->rawlen; i++)
		if (s[i] == '\0')
			s[i] = '?';
	return s;
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

/* The server's name: the first word after the code in the banner, or of
 * the EHLO reply, when it looks like a host name. */
static bool
take_name(const struct st_smtp_reply *rp, char *out, size_t n)
{
	size_t len, k = 0;
	const char *t = st_smtp_reply_text(rp, 0, &len);

	if (t == NULL || len == 0)
		return false;
	while (k < len && k + 1 < n && ((t[k] >= 'a' && t[k] <= 'z') ||
	    (t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= '0' && t[k] <= '9') ||
	    (k > 0 && (t[k] == '.' || t[k] == '-'))))
		k++;
	if (k == 0)
		return false;
	memcpy(out, t, k);
	out[k] = '\0';
	return true;
}

static void
copy_transcript(struct st_probe_result *r, struct st_smtp_session *s)
{
	size_t i, n = st_smtp_transcript_count(s), base = r->ntranscript;
	char **nv;

	if (n == 0)
		return;
	nv = realloc(r->transcript, (base + n) * sizeof(*nv));
	if (nv == NULL)
		return;
	r->transcript = nv;
	for (i = 0; i < n; i++) {
		const char *l = st_smtp_transcript_line(s, i, NULL);

		if ((r->transcript[base + i] = strdup(l ? l : "")) != NULL)
			r->ntranscript++;
	}
}

/* How one session ended. */
/* A note of the probe's own in the transcript. */
static void
tr_mark(struct st_probe_result *r, const char *note)
{
	char **nv = realloc(r->transcript, (r->ntranscript + 1) *
	    sizeof(*nv));

	if (nv == NULL)
		return;
	r->transcript = nv;
	if (asprintf(&nv[r->ntranscript], "*: %s", note) >= 0)
		r->ntranscript++;
}

/* How one session ended. */
enum probe_outcome {
	RUN_DONE,	/* verdict decided inside (no connection, refusal) */
	RUN_TLS_FAILED,	/* handshake failed: a plaintext retry makes sense */
	RUN_NEXT,	/* its share of the battery is done */
	RUN_AUTH,	/* 530 */
	RUN_421,	/* the server closed the session with 421 */
	RUN_BROKE	/* network or protocol failure; r->error says it */
};

/* Set the verdict for a session that ended before the battery. */
static void
refused(struct st_probe_result *r, int code, const char *what)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "the server refused %s (%d)", what, code);
	if (code == 530)
		r->verdict = ST_PROBE_AUTH_REQUIRED;
	else if (ST_SMTP_PERMFAIL(code)) {
		r->verdict = ST_PROBE_CLOSED;
		set_str(&r->note, msg);
	} else {
		r->verdict = ST_PROBE_ERROR;
		set_str(&r->error, msg);
	}
}

/*
 * One session: connect, greet, then tests [from, r->ntests) until
 * per_session of them ran (0: no bound); *next gets the first test not
 * run.  The first session (r->ntests == 0) builds the battery from the
 * server's name and address.
 */
static enum probe_outcome
run_session(const struct st_probe_opts *o, struct st_probe_result *r,
    const struct st_smtp_params *params, size_t from, size_t per_session,
    size_t *next)
{
	struct st_smtp_session *s = NULL;
	struct st_smtp_reply rp;
	struct st_error err = { 0 };
	enum st_status st;
	enum probe_outcome out = RUN_NEXT;
	char name[256];
	bool first = r->ntests == 0;
	size_t i, ran = 0;

	*next = from;
	memset(&rp, 0, sizeof(rp));
	if (st_smtp_open(&s, params, &err) != ST_OK) {
		set_str(&r->error, err.msg);
		return first ? (r->verdict = ST_PROBE_ERROR, RUN_DONE) :
		    RUN_BROKE;
	}
	if (!first)
		tr_mark(r, "new session for the remaining tests");
	st = st_smtp_connect(s, r->host, r->port, &rp, &err);
	if (first) {
		set_str(&r->address, st_smtp_peer_addr(s));
		if (rp.nlines > 0) {
			free(r->banner);
			r->banner = reply_dup(&rp);
		}
	}
	if (st != ST_OK) {
		char msg[400];

		if (!st_smtp_connected(s))
			snprintf(msg, sizeof(msg), "%s", err.msg);
		else if (st == ST_ETIMEOUT)
			snprintf(msg, sizeof(msg), "no greeting within %d s (a "
			    "tarpit, or not an SMTP server)",
			    params->banner_timeout_ms / 1000);
		else if (st == ST_EPARSE)
			snprintf(msg, sizeof(msg), "garbage instead of an SMTP "
			    "greeting (%s)", err.msg);
		else
			snprintf(msg, sizeof(msg), "%s before the greeting",
			    err.msg);
		set_str(&r->error, msg);
		if (first) {
			r->verdict = st_smtp_connected(s) ? ST_PROBE_ERROR :
			    ST_PROBE_UNREACHABLE;
			out = RUN_DONE;
		} else
			out = RUN_BROKE;
		goto done;
	}
	if (rp.code != 220) {
		if (first) {
			refused(r, rp.code, "the session in its greeting");
			out = RUN_DONE;
		} else {
			set_str(&r->error, "a later session was refused in "
			    "the greeting");
			out = rp.code == 530 ? RUN_AUTH : RUN_BROKE;
		}
		goto quit;
	}
	if (!take_name(&rp, name, sizeof(name)))
		name[0] = '\0';
	st_smtp_reply_free(&rp);

	st = st_smtp_hello(s, o->helo ? o->helo : ST_PROBE_DEFAULT_HELO, &rp,
	    &err);
	if (st != ST_OK) {
		set_str(&r->error, err.msg);
		if (first && params->tls != ST_SMTP_TLS_NEVER &&
		    !st_smtp_tls_active(s) && st_smtp_has_ext(s, "STARTTLS") &&
		    st == ST_ENET && o->retry_without_tls &&
		    strncmp(err.msg, "TLS", 3) == 0)
			out = RUN_TLS_FAILED;
		else if (first) {
			r->verdict = ST_PROBE_ERROR;
			out = RUN_DONE;
		} else
			out = RUN_BROKE;
		goto done;
	}
	if (first) {
		r->esmtp = !st_smtp_used_helo(s);
		if (st_smtp_tls_active(s)) {
			r->tls = true;
			set_str(&r->tls_version, st_smtp_tls_version(s));
			set_str(&r->tls_cipher, st_smtp_tls_cipher(s));
			set_str(&r->tls_subject, st_smtp_tls_peer_subject(s));
		}
	}
	if (!ST_SMTP_POSITIVE(rp.code)) {
		if (first) {
			refused(r, rp.code, "our EHLO/HELO");
			out = RUN_DONE;
		} else {
			set_str(&r->error, "a later session refused our "
			    "EHLO/HELO");
			out = rp.code == 530 ? RUN_AUTH : RUN_BROKE;
		}
		goto quit;
	}
	if (first) {
		if (name[0] == '\0' && !take_name(&rp, name, sizeof(name)))
			snprintf(name, sizeof(name), "%s", r->host);
		set_str(&r->server_name, name);
		if (st_probe_battery(o, name, st_smtp_peer_addr(s), r, &err) !=
		    ST_OK) {
			r->verdict = ST_PROBE_ERROR;
			set_str(&r->error, err.msg);
			out = RUN_DONE;
			goto quit;
		}
	}
	st_smtp_reply_free(&rp);

	for (i = from; i < r->ntests; i++) {
		struct st_probe_test *t = &r->tests[i];

		if (per_session > 0 && ran == per_session)
			break;
		*next = i;
		if (ran > 0) {
			st = st_smtp_rset(s, &rp, &err);
			if (st != ST_OK)
				break;
			if (rp.code == 530 || rp.code == 421) {
				out = rp.code == 530 ? RUN_AUTH : RUN_421;
				break;
			}
			st_smtp_reply_free(&rp);
		}
		ran++;
		*next = i + 1;
		st = st_smtp_mail(s, t->mail_from, NULL, &rp, &err);
		if (st == ST_EINVAL) {
			/* a --from that cannot be sent: skip the form */
			st = ST_OK;
			continue;
		}
		if (st != ST_OK)
			break;
		t->run = true;
		r->tried++;
		t->mail_code = rp.code;
		t->mail_reply = reply_dup(&rp);
		if (rp.code == 530 || rp.code == 421) {
			out = rp.code == 530 ? RUN_AUTH : RUN_421;
			break;
		}
		if (!ST_SMTP_POSITIVE(rp.code)) {
			st_smtp_reply_free(&rp);
			continue;
		}
		st_smtp_reply_free(&rp);
		st = st_smtp_rcpt(s, t->rcpt_to, NULL, &rp, &err);
		if (st == ST_EINVAL) {
			st = ST_OK;
			continue;
		}
		if (st != ST_OK)
			break;
		t->rcpt_code = rp.code;
		t->rcpt_reply = reply_dup(&rp);
		if (rp.code == 530 || rp.code == 421) {
			out = rp.code == 530 ? RUN_AUTH : RUN_421;
			break;
		}
		if (ST_SMTP_POSITIVE(rp.code)) {
			t->accepted = true;
			if (t->third_party) {
				t->relayed = true;
				r->relayed++;
			} else
				r->localhost_accepted = true;
		}
		st_smtp_reply_free(&rp);
	}
	if (st != ST_OK) {
		char msg[400];

		snprintf(msg, sizeof(msg), "after %d of %zu tests: %s",
		    r->tried, r->ntests, err.msg);
		set_str(&r->error, msg);
		out = RUN_BROKE;
	} else if (out == RUN_421) {
		char msg[400];

		snprintf(msg, sizeof(msg), "the server closed the session "
		    "(421) after %d of %zu tests", r->tried, r->ntests);
		set_str(&r->error, msg);
	}
quit:
	st_smtp_reply_free(&rp);
	/* QUIT whenever the connection is still up: after a failure the
	 * session is dead and st_smtp_quit refuses (nothing to say it to) */
	(void)st_smtp_quit(s, NULL, &err);
done:
	/* every session must have said QUIT for quit_sent to hold */
	r->quit_sent = (first || r->quit_sent) && st_smtp_quit_sent(s);
	st_smtp_reply_free(&rp);
	copy_transcript(r, s);
	st_smtp_close(s);
	return out;
}

static void
clear_tests(struct st_probe_result *r)
{
	size_t k;

	for (k = 0; k < r->ntests; k++) {
		free(r->tests[k].mail_from);
		free(r->tests[k].rcpt_to);
		free(r->tests[k].mail_reply);
		free(r->tests[k].rcpt_reply);
	}
	memset(r->tests, 0, sizeof(r->tests));
	r->ntests = 0;
	r->tried = r->relayed = 0;
	r->localhost_accepted = false;
}

enum st_status
st_probe_run(const struct st_probe_opts *o, const char *target,
    struct st_probe_result *r)
{
	struct st_smtp_params params = o->smtp;
	struct st_error err = { 0 };
	long start = now_ms(), left;
	enum probe_outcome out;
	size_t from = 0, next;
	bool auth = false, broke = false;

	memset(r, 0, sizeof(*r));
	r->verdict = ST_PROBE_ERROR;	/* until a session says otherwise */
	r->target = strdup(target ? target : "");
	if (r->target == NULL)
		return ST_ENOMEM;
	if (st_probe_parse_target(target, &r->host, &r->port, &err) !=
	    ST_OK) {
		set_str(&r->error, err.msg);
		return ST_OK;
	}
	if (params.total_timeout_ms <= 0)
		params.total_timeout_ms = st_probe_session_deadline_ms(o);
	/* one deadline for the whole target, however many sessions */
	for (;;) {
		left = params.total_timeout_ms - (now_ms() - start);
		if (from > 0 && left <= 0) {
			set_str(&r->error, "the target's deadline passed "
			    "before the battery ended");
			broke = true;
			break;
		}
		{
			struct st_smtp_params sp = params;

			sp.total_timeout_ms = left > 1000 ? (int)left : 1000;
			out = run_session(o, r, &sp, from,
			    o->tests_per_session, &next);
		}
		if (out == RUN_TLS_FAILED) {
			/* a server whose TLS we cannot speak is still probed */
			char msg[400];

			clear_tests(r);
			r->tls_retry = true;
			params.tls = ST_SMTP_TLS_NEVER;
			snprintf(msg, sizeof(msg), "%s; probed again without "
			    "STARTTLS", r->error ? r->error : "TLS failed");
			set_str(&r->note, msg);
			set_str(&r->error, NULL);
			continue;
		}
		if (out == RUN_DONE)
			goto out;
		if (out == RUN_AUTH)
			auth = true;
		if (out == RUN_BROKE || out == RUN_421)
			broke = true;
		if (out != RUN_NEXT || next >= r->ntests)
			break;
		from = next;
	}
	if (r->relayed > 0)
		r->verdict = ST_PROBE_OPEN;
	else if (auth)
		r->verdict = ST_PROBE_AUTH_REQUIRED;
	else if (broke)
		r->verdict = ST_PROBE_ERROR;
	else
		r->verdict = ST_PROBE_CLOSED;
out:
	r->elapsed_ms = now_ms() - start;
	return ST_OK;
}

void
st_probe_result_free(struct st_probe_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->target);
	free(r->host);
	free(r->port);
	free(r->address);
	free(r->banner);
	free(r->server_name);
	free(r->tls_version);
	free(r->tls_cipher);
	free(r->tls_subject);
	free(r->error);
	free(r->note);
	for (i = 0; i < r->ntests; i++) {
		free(r->tests[i].mail_from);
		free(r->tests[i].rcpt_to);
		free(r->tests[i].mail_reply);
		free(r->tests[i].rcpt_reply);
	}
	for (i = 0; i < r->ntranscript; i++)
		free(r->transcript[i]);
	free(r->transcript);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- */
/* many targets                                                       */

struct many {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int	refs;
	struct st_probe_opts o;		/* strings below are owned copies */
	char   *from, *to, *helo, *ca;
	char  **targets;
	size_t	n, next, emitted;
	int	running;		/* workers not yet finished */
	struct st_probe_result *slots;
	bool   *done;
	bool	abandoned;
	void  (*on_done)(const struct st_probe_result *, size_t, void *);
	void   *ctx;
};

static void
many_unref(struct many *m)
{
	bool last;
	size_t i;

	pthread_mutex_lock(&m->mu);
	last = --m->refs == 0;
	pthread_mutex_unlock(&m->mu);
	if (!last)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->targets[i]);
		st_probe_result_free(&m->slots[i]);
	}
	free(m->targets);
	free(m->slots);
	free(m->done);
	free(m->from);
	free(m->to);
	free(m->helo);
	free(m->ca);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

/* Emit finished results in input order (lock held). */
static void
many_emit(struct many *m)
{
	while (m->emitted < m->n && m->done[m->emitted]) {
		if (m->on_done != NULL)
			m->on_done(&m->slots[m->emitted], m->emitted, m->ctx);
		m->emitted++;
	}
}

static void *
many_worker(void *arg)
{
	struct many *m = arg;

	for (;;) {
		struct st_probe_result r;
		size_t i;

		pthread_mutex_lock(&m->mu);
		if (m->abandoned || m->next >= m->n) {
			pthread_mutex_unlock(&m->mu);
			break;
		}
		i = m->next++;
		pthread_mutex_unlock(&m->mu);
		if (st_probe_run(&m->o, m->targets[i], &r) != ST_OK) {
			st_probe_result_free(&r);
			r.target = strdup(m->targets[i]);
			r.verdict = ST_PROBE_ERROR;
			r.error = strdup("out of memory");
		}
		pthread_mutex_lock(&m->mu);
		if (m->abandoned) {
			pthread_mutex_unlock(&m->mu);
			st_probe_result_free(&r);
			break;
		}
		m->slots[i] = r;
		m->done[i] = true;
		many_emit(m);
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
	}
	/* free OpenSSL's per-thread state now, not at some later exit */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&m->mu);
	m->running--;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	many_unref(m);
	return NULL;
}

static char *
dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = true;
	return d;
}

enum st_status
st_probe_run_many(const struct st_probe_opts *o, char *const *targets,
    size_t n, int parallel, struct st_probe_result *results,
    void (*on_done)(const struct st_probe_result *, size_t, void *),
    void *ctx)
{
	struct many *m;
	struct timespec until;
	bool fail = false;
	size_t i, rounds;
	int k, started = 0;
	long budget_ms;

	if (n == 0)
		return ST_OK;
	if (parallel < 1)
		parallel = 1;
	if ((size_t)parallel > n)
		parallel = (int)n;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ST_ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->refs = 1;
	m->o = *o;
	m->from = dup_or_null(o->mail_from, &fail);
	m->to = dup_or_null(o->rcpt_to, &fail);
	m->helo = dup_or_null(o->helo, &fail);
	m->ca = dup_or_null(o->smtp.tls_ca_file, &fail);
	m->o.mail_from = m->from;
	m->o.rcpt_to = m->to;
	m->o.helo = m->helo;
	m->o.smtp.tls_ca_file = m->ca;
	m->o.smtp.helo_name = NULL;
	if (m->o.smtp.total_timeout_ms <= 0)
		m->o.smtp.total_timeout_ms = st_probe_session_deadline_ms(o);
	m->n = n;
	m->targets = calloc(n, sizeof(*m->targets));
	m->slots = calloc(n, sizeof(*m->slots));
	m->done = calloc(n, sizeof(*m->done));
	m->on_done = on_done;
	m->ctx = ctx;
	if (m->targets == NULL || m->slots == NULL || m->done == NULL)
		fail = true;
	for (i = 0; !fail && i < n; i++)
		if ((m->targets[i] = strdup(targets[i])) == NULL)
			fail = true;
	if (fail) {
		if (m->targets == NULL)
			m->n = 0;
		many_unref(m);
		return ST_ENOMEM;
	}
	/* the whole run: each round of `parallel` targets gets one session
	 * deadline, twice over for a plaintext retry after failed TLS */
	rounds = (n + (size_t)parallel - 1) / (size_t)parallel;
	budget_ms = (long)rounds * 2L * m->o.smtp.total_timeout_ms + 5000;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += budget_ms / 1000;
	until.tv_nsec += (budget_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	for (k = 0; k < parallel; k++) {
		pthread_t th;
		pthread_attr_t at;

		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_mutex_lock(&m->mu);
		m->refs++;
		m->running++;
		pthread_mutex_unlock(&m->mu);
		if (pthread_create(&th, &at, many_worker, m) != 0) {
			pthread_mutex_lock(&m->mu);
			m->refs--;
			m->running--;
			pthread_mutex_unlock(&m->mu);
		} else
			started++;
		pthread_attr_destroy(&at);
	}
	if (started == 0) {
		/* no thread: probe here, one by one */
		pthread_mutex_lock(&m->mu);
		m->refs++;
		m->running++;
		pthread_mutex_unlock(&m->mu);
		many_worker(m);
	}
	pthread_mutex_lock(&m->mu);
	/* wait for every result and, normally, for the workers to end */
	while (m->emitted < m->n || m->running > 0) {
		if (pthread_cond_timedwait(&m->cv, &m->mu, &until) == 0)
			continue;
		if (m->emitted >= m->n)
			break;		/* all done; a worker is slow to end */
		{
			/* overall deadline: give up on what is left */
			for (i = m->emitted; i < m->n; i++) {
				if (m->done[i])
					continue;
				m->slots[i].target = strdup(m->targets[i]);
				m->slots[i].verdict = ST_PROBE_ERROR;
				m->slots[i].error = strdup("overall deadline "
				    "of the run passed before this target "
				    "was done");
				m->done[i] = true;
			}
			many_emit(m);
			break;
		}
	}
	m->abandoned = true;
	for (i = 0; i < n; i++) {
		results[i] = m->slots[i];
		memset(&m->slots[i], 0, sizeof(m->slots[i]));
	}
	pthread_mutex_unlock(&m->mu);
	many_unref(m);
	return ST_OK;
}
