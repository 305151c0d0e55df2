/*
 * test_smtp_reply.c - data-driven tests of the pure parts of the SMTP
 * client and the probe: st_smtp_reply_parse (one table row per input:
 * bytes in, then every field out: status, code, enhanced status, lines,
 * complete, bytes consumed, defects), st_probe_parse_target and
 * st_probe_battery.
 *
 * Every reply case is run twice: all bytes at once, and one byte at a time
 * (as a dribbling server would send them), and both must give the full
 * expected result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/smtp.h"
#include "spamtrace/probe.h"

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

struct reply_case {
	const char *name;
	const char *in;		/* bytes (length inlen, or strlen) */
	size_t	inlen;		/* 0: strlen(in) */
	size_t	max_line;	/* 0: default */
	enum st_status status;
	int	code;
	const char *enhanced;
	const char *raw;	/* expected lines joined by "\n"; NULL: none */
	bool	complete;
	size_t	consumed;	/* (size_t)-1: all input */
	unsigned defects;
};

#define ALL ((size_t)-1)

static const struct reply_case replies[] = {
	{ "simple banner", "220 mx.example.net ESMTP\r\n", 0, 0, ST_OK, 220,
	  "", "220 mx.example.net ESMTP", true, ALL, 0 },
	{ "enhanced status", "250 2.1.0 Ok\r\n", 0, 0, ST_OK, 250, "2.1.0",
	  "250 2.1.0 Ok", true, ALL, 0 },
	{ "relay denied", "554 5.7.1 <a@b>: Relay access denied\r\n", 0, 0,
	  ST_OK, 554, "5.7.1", "554 5.7.1 <a@b>: Relay access denied", true,
	  ALL, 0 },
	{ "enhanced class must match the code", "250 5.1.0 odd\r\n", 0, 0,
	  ST_OK, 250, "", "250 5.1.0 odd", true, ALL, 0 },
	{ "enhanced with 3-digit parts", "550 5.123.456 x\r\n", 0, 0, ST_OK,
	  550, "5.123.456", "550 5.123.456 x", true, ALL, 0 },
	{ "not enhanced: 4 digits", "550 5.1234.1 x\r\n", 0, 0, ST_OK, 550,
	  "", "550 5.1234.1 x", true, ALL, 0 },
	{ "not enhanced: text follows", "250 2.0.0Ok\r\n", 0, 0, ST_OK, 250,
	  "", "250 2.0.0Ok", true, ALL, 0 },
	{ "multi-line EHLO",
	  "250-mx.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	  "250 8BITMIME\r\n", 0, 0, ST_OK, 250, "",
	  "250-mx.example.net\n250-PIPELINING\n250-STARTTLS\n250 8BITMIME",
	  true, ALL, 0 },
	{ "multi-line banner", "220-first\r\n220-second\r\n220 third\r\n", 0,
	  0, ST_OK, 220, "", "220-first\n220-second\n220 third", true, ALL,
	  0 },
	{ "code alone is a last line", "250\r\n", 0, 0, ST_OK, 250, "",
	  "250", true, ALL, 0 },
	{ "bare LF", "250 ok\n", 0, 0, ST_OK, 250, "", "250 ok", true, ALL,
	  ST_SMTP_DEFECT_BARE_LF },
	{ "stops after the reply", "250 one\r\n250 two\r\n", 0, 0, ST_OK, 250,
	  "", "250 one", true, 9, 0 },
	{ "incomplete: continuation only", "250-one\r\n", 0, 0, ST_OK, 250,
	  "", "250-one", false, ALL, 0 },
	{ "incomplete: no LF yet", "250 partial", 0, 0, ST_OK, 0, "", NULL,
	  false, 0, 0 },
	{ "empty input", "", 0, 0, ST_OK, 0, "", NULL, false, 0, 0 },
	{ "mismatched codes", "250-a\r\n251 b\r\n", 0, 0, ST_OK, 250, "",
	  "250-a\n251 b", true, ALL, ST_SMTP_DEFECT_CODE_MISMATCH },
	{ "no separator", "250x\r\n", 0, 0, ST_OK, 250, "", "250x", true,
	  ALL, ST_SMTP_DEFECT_NO_SEPARATOR },
	{ "code out of range", "999 what\r\n", 0, 0, ST_OK, 999, "",
	  "999 what", true, ALL, ST_SMTP_DEFECT_BAD_CODE },
	{ "NUL inside a line", "250 a\0b\r\n", 9, 0, ST_OK, 250, "",
	  "250 a\0b", true, ALL, ST_SMTP_DEFECT_NUL },
	{ "garbage banner", "HTTP/1.1 400 Bad Request\r\n", 0, 0, ST_EPARSE,
	  0, "", NULL, false, 0, 0 },
	{ "garbage seen before LF", "SSH-2.0-OpenSSH_9.2", 0, 0, ST_EPARSE,
	  0, "", NULL, false, 0, 0 },
	{ "garbage in a continuation", "250-ok\r\nhello\r\n", 0, 0,
	  ST_EPARSE, 250, "", "250-ok", false, 8, 0 },
	{ "too short", "25\r\n", 0, 0, ST_EPARSE, 0, "", NULL, false, 0, 0 },
	{ "blank line", "\r\n", 0, 0, ST_EPARSE, 0, "", NULL, false, 0, 0 },
	{ "line over the cap", "250 0123456789\r\n", 0, 8, ST_ELIMIT, 0, "",
	  NULL, false, 0, 0 },
	{ "unfinished line over the cap", "250 0123456789", 0, 8, ST_ELIMIT,
	  0, "", NULL, false, 0, 0 },
	{ "line at the cap", "250 abcd\r\n", 0, 8, ST_OK, 250, "",
	  "250 abcd", true, ALL, 0 },
	{ "CR kept inside a line", "250 a\rb\r\n", 0, 0, ST_OK, 250, "",
	  "250 a\rb", true, ALL, 0 },
	{ "high bytes kept", "220 \xe3\x81\x82 \xff\r\n", 0, 0, ST_OK, 220,
	  "", "220 \xe3\x81\x82 \xff", true, ALL, 0 },
};

static void
check_reply(const struct reply_case *c, struct st_smtp_reply *r,
    enum st_status st, size_t consumed, size_t inlen, const char *how)
{
	size_t want_consumed = c->consumed == ALL ? inlen : c->consumed;
	size_t rl;

	CHECK(st == c->status, "%s (%s): status %d, want %d", c->name, how,
	    st, c->status);
	CHECK(r->code == c->code, "%s (%s): code %d, want %d", c->name, how,
	    r->code, c->code);
	CHECK(strcmp(r->enhanced, c->enhanced) == 0,
	    "%s (%s): enhanced \"%s\", want \"%s\"", c->name, how,
	    r->enhanced, c->enhanced);
	CHECK(r->complete == c->complete, "%s (%s): complete %d, want %d",
	    c->name, how, r->complete, c->complete);
	CHECK(consumed == want_consumed, "%s (%s): consumed %zu, want %zu",
	    c->name, how, consumed, want_consumed);
	CHECK(r->defects == c->defects, "%s (%s): defects %#x, want %#x",
	    c->name, how, r->defects, c->defects);
	if (c->raw == NULL) {
		CHECK(r->raw == NULL && r->nlines == 0,
		    "%s (%s): lines present, want none", c->name, how);
		return;
	}
	/* expected raw may hold a NUL: compare over the reply's length when
	 * the case says so (the NUL case), else over strlen */
	rl = strlen(c->raw);
	if (c->defects & ST_SMTP_DEFECT_NUL)
		rl = r->rawlen;
	CHECK(r->raw != NULL && r->rawlen == rl &&
	    memcmp(r->raw, c->raw, rl) == 0, "%s (%s): raw \"%.*s\", want "
	    "\"%s\"", c->name, how, (int)r->rawlen, r->raw ? r->raw : "",
	    c->raw);
	{
		size_t nl = 1;
		const char *p;

		for (p = c->raw; p < c->raw + rl; p++)
			if (*p == '\n')
				nl++;
		CHECK(r->nlines == nl, "%s (%s): %zu lines, want %zu",
		    c->name, how, r->nlines, nl);
	}
}

static void
test_replies(void)
{
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		const struct reply_case *c = &replies[i];
		size_t len = c->inlen ? c->inlen : strlen(c->in);
		struct st_smtp_reply r;
		struct st_error err;
		enum st_status st;
		size_t used, total = 0, k;
		char *buf;

		/* all at once, from an exact-size copy (no NUL after it) */
		buf = malloc(len ? len : 1);
		memcpy(buf, c->in, len);
		st_smtp_reply_init(&r, c->max_line, 0);
		st = st_smtp_reply_parse(&r, buf, len, &used, &err);
		check_reply(c, &r, st, used, len, "whole");
		st_smtp_reply_free(&r);

		/* a byte at a time: the session keeps unconsumed bytes */
		st_smtp_reply_init(&r, c->max_line, 0);
		st = ST_OK;
		{
			size_t have = 0;

			for (k = 0; k < len && st == ST_OK && !r.complete;
			    k++) {
				have++;
				st = st_smtp_reply_parse(&r, buf + total, have,
				    &used, &err);
				total += used;
				have -= used;
			}
		}
		check_reply(c, &r, st, total, len, "bytewise");
		st_smtp_reply_free(&r);
		free(buf);
	}
	/* line and text accessors */
	{
		struct st_smtp_reply r;
		size_t used, n;
		const char *t;
		static const char in[] = "250-mx\r\n250-AUTH PLAIN LOGIN\r\n"
		    "250 STARTTLS\r\n";

		st_smtp_reply_init(&r, 0, 0);
		st_smtp_reply_parse(&r, in, sizeof(in) - 1, &used, NULL);
		t = st_smtp_reply_text(&r, 1, &n);
		CHECK(t && n == 16 && memcmp(t, "AUTH PLAIN LOGIN", 16) == 0,
		    "reply text line 1");
		t = st_smtp_reply_line(&r, 2, &n);
		CHECK(t && n == 12 && memcmp(t, "250 STARTTLS", 12) == 0,
		    "reply line 2");
		CHECK(st_smtp_reply_line(&r, 3, &n) == NULL, "past the end");
		st_smtp_reply_free(&r);
	}
	/* the whole-reply cap */
	{
		struct st_smtp_reply r;
		size_t used;
		enum st_status st;
		static const char in[] = "250-aaaaaaaa\r\n250-bbbbbbbb\r\n"
		    "250 c\r\n";

		st_smtp_reply_init(&r, 0, 20);
		st = st_smtp_reply_parse(&r, in, sizeof(in) - 1, &used, NULL);
		CHECK(st == ST_ELIMIT && r.nlines == 1 && used == 14,
		    "reply cap: status %d lines %zu used %zu", st, r.nlines,
		    used);
		st_smtp_reply_free(&r);
	}
}

/* ---------------------------------------------------------------- */

struct target_case {
	const char *in;
	enum st_status status;
	const char *host, *port;
};

static const struct target_case targets[] = {
	{ "mx.example.net", ST_OK, "mx.example.net", "25" },
	{ "mx.example.net:2525", ST_OK, "mx.example.net", "2525" },
	{ "127.0.0.1:587", ST_OK, "127.0.0.1", "587" },
	{ "[::1]:2525", ST_OK, "::1", "2525" },
	{ "[::1]", ST_OK, "::1", "25" },
	{ "2001:db8::25", ST_OK, "2001:db8::25", "25" },
	{ "[2001:db8::25]:25", ST_OK, "2001:db8::25", "25" },
	{ "", ST_EINVAL, NULL, NULL },
	{ ":25", ST_EINVAL, NULL, NULL },
	{ "host:", ST_EINVAL, NULL, NULL },
	{ "host:0", ST_EINVAL, NULL, NULL },
	{ "host:65536", ST_EINVAL, NULL, NULL },
	{ "host:25x", ST_EINVAL, NULL, NULL },
	{ "[::1", ST_EINVAL, NULL, NULL },
	{ "[::1]x", ST_EINVAL, NULL, NULL },
	{ "[]:25", ST_EINVAL, NULL, NULL },
	{ "a b:25", ST_EINVAL, NULL, NULL },
	{ "user@host", ST_EINVAL, NULL, NULL },
};

static void
test_targets(void)
{
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const struct target_case *c = &targets[i];
		char *h, *p;
		enum st_status st = st_probe_parse_target(c->in, &h, &p, NULL);

		CHECK(st == c->status, "target \"%s\": status %d, want %d",
		    c->in, st, c->status);
		if (c->host != NULL)
			CHECK(h && p && strcmp(h, c->host) == 0 &&
			    strcmp(p, c->port) == 0,
			    "target \"%s\": %s / %s, want %s / %s", c->in,
			    h ? h : "(null)", p ? p : "(null)", c->host,
			    c->port);
		else
			CHECK(h == NULL && p == NULL, "target \"%s\": parts "
			    "set on error", c->in);
		free(h);
		free(p);
	}
}

/* ---------------------------------------------------------------- */

/* The battery for server "mx.example.org" at 192.0.2.25 with the default
 * addresses, and one IPv6 literal: every form, in order. */
static const char *const battery_v4[ST_PROBE_NTESTS][2] = {
	{ "", "relaytest@example.net" },
	{ "spamtrace-probe@example.com", "relaytest@example.net" },
	{ "spamtrace-probe@mx.example.org", "relaytest@example.net" },
	{ "spamtrace-probe@[192.0.2.25]", "relaytest@example.net" },
	{ "spamtrace-probe@[192.0.2.25]", "relaytest%example.net@[192.0.2.25]" },
	{ "spamtrace-probe@[192.0.2.25]", "relaytest%example.net@mx.example.org" },
	{ "spamtrace-probe@[192.0.2.25]", "\"relaytest@example.net\"" },
	{ "spamtrace-probe@[192.0.2.25]", "\"relaytest%example.net\"" },
	{ "spamtrace-probe@[192.0.2.25]", "relaytest@example.net@[192.0.2.25]" },
	{ "spamtrace-probe@[192.0.2.25]", "\"relaytest@example.net\"@[192.0.2.25]" },
	{ "spamtrace-probe@[192.0.2.25]", "relaytest@example.net@mx.example.org" },
	{ "spamtrace-probe@[192.0.2.25]", "@[192.0.2.25]:relaytest@example.net" },
	{ "spamtrace-probe@[192.0.2.25]", "@mx.example.org:relaytest@example.net" },
	{ "spamtrace-probe@[192.0.2.25]", "example.net!relaytest" },
	{ "spamtrace-probe@[192.0.2.25]", "example.net!relaytest@[192.0.2.25]" },
	{ "spamtrace-probe@[192.0.2.25]", "example.net!relaytest@mx.example.org" },
	{ "spamtrace-probe@localhost", "relaytest@localhost" },
};

static void
test_battery(void)
{
	struct st_probe_opts o;
	struct st_probe_result r;
	size_t i;

	st_probe_opts_init(&o, 10);
	memset(&r, 0, sizeof(r));
	CHECK(st_probe_battery(&o, "mx.example.org", "192.0.2.25", &r, NULL)
	    == ST_OK, "battery v4");
	CHECK(r.ntests == ST_PROBE_NTESTS, "battery size %zu", r.ntests);
	for (i = 0; i < r.ntests && i < ST_PROBE_NTESTS; i++) {
		CHECK(strcmp(r.tests[i].mail_from, battery_v4[i][0]) == 0 &&
		    strcmp(r.tests[i].rcpt_to, battery_v4[i][1]) == 0,
		    "battery #%zu: <%s> <%s>, want <%s> <%s>", i + 1,
		    r.tests[i].mail_from, r.tests[i].rcpt_to,
		    battery_v4[i][0], battery_v4[i][1]);
		CHECK(r.tests[i].third_party == (i < 16),
		    "battery #%zu third_party", i + 1);
		CHECK(r.tests[i].n == (int)i + 1, "battery #%zu n", i + 1);
	}
	st_probe_result_free(&r);

	o.mail_from = "me@sender.example";
	o.rcpt_to = "you@target.example";
	CHECK(st_probe_battery(&o, "mx6", "2001:db8::25", &r, NULL) == ST_OK,
	    "battery v6");
	CHECK(strcmp(r.tests[1].mail_from, "me@sender.example") == 0,
	    "override from: %s", r.tests[1].mail_from);
	CHECK(strcmp(r.tests[4].rcpt_to,
	    "you%target.example@[IPv6:2001:db8::25]") == 0,
	    "v6 literal: %s", r.tests[4].rcpt_to);
	CHECK(strcmp(r.tests[13].rcpt_to, "target.example!you") == 0,
	    "bang override: %s", r.tests[13].rcpt_to);
	CHECK(strcmp(r.tests[16].rcpt_to, "you@localhost") == 0,
	    "localhost override: %s", r.tests[16].rcpt_to);
	st_probe_result_free(&r);
	CHECK(strcmp(st_probe_verdict_name(ST_PROBE_AUTH_REQUIRED),
	    "auth-required") == 0, "verdict name");
}

int
main(void)
{
	test_replies();
	test_targets();
	test_battery();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
