/*
 * limits_test.c - every limit of include/spamtrace/limits.h that the
 * library enforces in pure code, tested at its boundary: the value at the
 * limit is accepted in full, one past it is cut, flagged or refused (never
 * a crash, never a silent loss of the message).
 *
 * One table row per boundary: the input is built at run time (a few MB at
 * most), the row's check returns NULL when the library does what limits.h
 * says, else a one-line reason.  Prints "N passed, N failed".
 *
 * Limits checked through the CLI instead (a whole message or mailbox):
 * ST_MAX_MESSAGE_SIZE, MIME depth and parts, bounce recipients; see
 * pathological.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/arena.h"
#include "spamtrace/config.h"
#include "spamtrace/limits.h"
#include "spamtrace/msg.h"
#include "spamtrace/received.h"
#include "spamtrace/smtp.h"
#include "spamtrace/trace.h"

static char reason[512];

#define FAIL(...)	do { snprintf(reason, sizeof(reason), __VA_ARGS__); \
			    return reason; } while (0)

/* A growable byte buffer for building inputs. */
struct buf {
	char   *p;
	size_t	n, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 1024;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
fill(struct buf *b, char c, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 1024;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memset(b->p + b->n, c, n);
	b->n += n;
}

/* Exact-size copy without a NUL, as a reader would hand it out. */
static char *
exact(const struct buf *b)
{
	char *p = malloc(b->n ? b->n : 1);

	if (p == NULL)
		abort();
	memcpy(p, b->p, b->n);
	return p;
}

/* --- header block (ST_MAX_HEADER_BLOCK) -------------------------------- */

/* Header lines totalling exactly `total` bytes, then "\n" and a body. */
static const char *
header_block(size_t total, int want_defect)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	struct st_msg m;
	char *p;
	const char *r = NULL;

	while (b.n < total) {
		size_t left = total - b.n, n = left > 1000 ? 1000 : left;

		if (n < 8) {	/* too short for a field: lengthen the last */
			b.n--;
			fill(&b, 'x', n);
			puts_(&b, "\n");
			continue;
		}
		puts_(&b, "X-Pad: ");
		fill(&b, 'x', n - 8);
		puts_(&b, "\n");
	}
	puts_(&b, "\nbody\n");
	p = exact(&b);
	if (st_msg_parse(&m, a, p, b.n) != ST_OK)
		r = "st_msg_parse failed";
	else if (want_defect && !(m.defects & ST_MSG_DEFECT_HEADER_BLOCK))
		r = "block past the limit not flagged";
	else if (!want_defect && (m.defects & ST_MSG_DEFECT_HEADER_BLOCK))
		r = "block at the limit flagged";
	else if (!want_defect && m.body_off != total + 1)
		r = "body offset wrong at the limit";
	else if (m.body_off > ST_MAX_HEADER_BLOCK + 1001)
		r = "scanner went far past the limit";
	free(p);
	free(b.p);
	st_arena_free(a);
	return r;
}

static const char *t_block_at(void) { return header_block(ST_MAX_HEADER_BLOCK, 0); }
static const char *t_block_over(void) { return header_block(ST_MAX_HEADER_BLOCK + 1, 1); }

/* --- number of fields (ST_MAX_HEADERS) --------------------------------- */

static const char *
header_count(size_t n, size_t want, int want_defect)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	struct st_msg m;
	size_t i;
	char *p, line[64];

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "X-N: %zu\n", i);
		puts_(&b, line);
	}
	puts_(&b, "Subject: last\n\n");
	p = exact(&b);
	if (st_msg_parse(&m, a, p, b.n) != ST_OK)
		FAIL("st_msg_parse failed");
	if (m.nhdrs != want)
		FAIL("%zu fields kept, want %zu", m.nhdrs, want);
	if (!!(m.defects & ST_MSG_DEFECT_TOO_MANY) != want_defect)
		FAIL("TOO_MANY defect %s", want_defect ? "missing" :
		    "set at the limit");
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

static const char *t_count_at(void) { return header_count(ST_MAX_HEADERS - 1, ST_MAX_HEADERS, 0); }
static const char *t_count_over(void) { return header_count(ST_MAX_HEADERS, ST_MAX_HEADERS, 1); }

/* --- one value (ST_MAX_HEADER_VALUE) ------------------------------------ */

static const char *
value_len(size_t n, size_t want)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	size_t got = 0;
	char *p, *u;

	fill(&b, 'v', n);
	p = exact(&b);
	u = st_hdr_unfold(a, p, n, &got);
	if (u == NULL)
		FAIL("st_hdr_unfold failed");
	if (got != want || strlen(u) != want)
		FAIL("unfolded %zu bytes, want %zu", got, want);
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

static const char *t_value_at(void) { return value_len(ST_MAX_HEADER_VALUE, ST_MAX_HEADER_VALUE); }
static const char *t_value_over(void) { return value_len(ST_MAX_HEADER_VALUE + 1, ST_MAX_HEADER_VALUE); }

/* A 20 MB field: scanned as one span, cut to the block limit, no copy. */
static const char *
t_value_huge(void)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	struct st_msg m;
	char *p, *d;

	puts_(&b, "Subject: ");
	fill(&b, 's', 20u * 1024 * 1024);
	puts_(&b, "\n\n");
	p = exact(&b);
	if (st_msg_parse(&m, a, p, b.n) != ST_OK || m.nhdrs != 1)
		FAIL("20 MB field not scanned as one field");
	if ((d = st_msg_decoded(&m, "Subject")) == NULL)
		FAIL("decode failed");
	if (strlen(d) != ST_MAX_DECODE_LEN)
		FAIL("decoded %zu bytes, want %d", strlen(d),
		    ST_MAX_DECODE_LEN);
	if (st_arena_used(a) > 4u * 1024 * 1024)
		FAIL("arena grew to %zu bytes", st_arena_used(a));
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

/* --- decoding (ST_MAX_DECODE_LEN) ---------------------------------------- */

static const char *
decode_len(size_t n, size_t want)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	char *p, *d;

	fill(&b, 'd', n);
	p = exact(&b);
	if ((d = st_hdr_decode(a, p, n)) == NULL)
		FAIL("st_hdr_decode failed");
	if (strlen(d) != want)
		FAIL("decoded %zu bytes, want %zu", strlen(d), want);
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

static const char *t_decode_at(void) { return decode_len(ST_MAX_DECODE_LEN, ST_MAX_DECODE_LEN); }
static const char *t_decode_over(void) { return decode_len(ST_MAX_DECODE_LEN + 1, ST_MAX_DECODE_LEN); }

/* Many encoded words: output bounded whatever the expansion. */
static const char *
t_decode_words(void)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	char *p, *d;
	size_t i;

	for (i = 0; i < 20000; i++)
		puts_(&b, "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?= ");
	p = exact(&b);
	if ((d = st_hdr_decode(a, p, b.n)) == NULL)
		FAIL("st_hdr_decode failed");
	if (strlen(d) > 3 * ST_MAX_DECODE_LEN + 3)
		FAIL("decoded %zu bytes from %d input bytes", strlen(d),
		    ST_MAX_DECODE_LEN);
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

/* --- hops (ST_MAX_HOPS) -------------------------------------------------- */

static const char *
hops(size_t n, size_t want_dropped)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	struct st_config cfg;
	struct st_msg m;
	struct st_trace t;
	struct st_error err;
	size_t i, want = n < ST_MAX_HOPS ? n : ST_MAX_HOPS;
	bool finding = false;
	char *p, line[200];

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "Received: from h%zu.example.net "
		    "(h%zu.example.net [192.0.2.%zu]) by h%zu.example.net; "
		    "Mon, 1 Jan 2007 00:00:00 +0000\n", i + 1, i + 1,
		    (i % 250) + 1, i);
		puts_(&b, line);
	}
	puts_(&b, "From: a@example.net\nSubject: hops\n\n");
	p = exact(&b);
	st_config_init(&cfg);
	if (st_msg_parse(&m, a, p, b.n) != ST_OK)
		FAIL("st_msg_parse failed");
	if (st_trace_message(&m, &cfg, NULL, &t, &err) != ST_OK)
		FAIL("st_trace_message failed: %s", err.msg);
	if (t.nhops != want || t.hops_dropped != want_dropped)
		FAIL("%zu hops, %zu dropped; want %zu, %zu", t.nhops,
		    t.hops_dropped, want, want_dropped);
	/* past the limit: a medium TOO_MANY_HOPS saying hops were left out
	 * (a low one for a merely long path may come at any count) */
	for (i = 0; i < t.nfindings; i++)
		if (strcmp(t.findings[i].code, "TOO_MANY_HOPS") == 0 &&
		    t.findings[i].severity >= ST_SEV_MEDIUM)
			finding = true;
	if (finding != (want_dropped > 0))
		FAIL("medium TOO_MANY_HOPS finding %s", finding ?
		    "at the limit" : "missing past the limit");
	st_config_free(&cfg);
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

static const char *t_hops_at(void) { return hops(ST_MAX_HOPS, 0); }
static const char *t_hops_over(void) { return hops(ST_MAX_HOPS + 1, 1); }

/* --- one Received value (comment depth, tokens) --------------------------- */

static const char *
received(const char *head, size_t nopen, size_t nclose, size_t ntok,
    const char *want_ip)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(0);
	struct st_hop h;
	char *p;
	size_t i;

	puts_(&b, head);
	for (i = 0; i < nopen; i++)
		puts_(&b, "(");
	puts_(&b, "c");
	for (i = 0; i < nclose; i++)
		puts_(&b, ")");
	for (i = 0; i < ntok; i++)
		puts_(&b, " w");
	puts_(&b, "; Mon, 1 Jan 2007 00:00:00 +0900");
	p = exact(&b);
	memset(&h, 0, sizeof(h));
	if (!st_received_parse(a, p, b.n, &h))
		FAIL("st_received_parse failed");
	if (h.raw == NULL || h.ip == NULL || h.helo == NULL)
		FAIL("NULL field");
	if (want_ip != NULL && strcmp(h.ip, want_ip) != 0)
		FAIL("ip \"%s\", want \"%s\"", h.ip, want_ip);
	free(p);
	free(b.p);
	st_arena_free(a);
	return NULL;
}

#define RCVD_HEAD "from a.example.net (a.example.net [198.51.100.7]) " \
	"by mx.example.jp (Postfix) with ESMTP id 4F; "

static const char *t_depth_at(void) { return received(RCVD_HEAD, ST_MAX_COMMENT_DEPTH, ST_MAX_COMMENT_DEPTH, 0, "198.51.100.7"); }
static const char *t_depth_over(void) { return received(RCVD_HEAD, ST_MAX_COMMENT_DEPTH + 1, ST_MAX_COMMENT_DEPTH + 1, 0, "198.51.100.7"); }
static const char *t_depth_deep(void) { return received(RCVD_HEAD, 100000, 100000, 0, "198.51.100.7"); }
static const char *t_unbalanced(void) { return received(RCVD_HEAD, 100000, 0, 0, "198.51.100.7"); }
static const char *t_closers(void) { return received(RCVD_HEAD, 0, 100000, 0, "198.51.100.7"); }
static const char *t_tokens_at(void) { return received(RCVD_HEAD, 0, 0, ST_MAX_RECEIVED_TOKENS - 20, "198.51.100.7"); }
static const char *t_tokens_over(void) { return received(RCVD_HEAD, 0, 0, ST_MAX_RECEIVED_TOKENS + 1, "198.51.100.7"); }
static const char *t_tokens_many(void) { return received(RCVD_HEAD, 0, 0, 200000, NULL); }

/* --- config (ST_MAX_CONFIG_LINE, ST_MAX_CONFIG_LINES) --------------------- */

static const char *
config(size_t linelen, size_t nlines, enum st_status want)
{
	struct buf b = { 0 };
	struct st_config c;
	struct st_error err;
	enum st_status st;
	size_t i;
	char *p;

	for (i = 0; i < nlines; i++) {
		if (i == 0 && linelen > 0) {
			puts_(&b, "x_long = ");
			fill(&b, 'v', linelen - 9);
			puts_(&b, "\n");
		} else
			puts_(&b, "# c\n");
	}
	p = exact(&b);
	st_config_init(&c);
	st = st_config_parse(&c, p, b.n, "limits.conf", &err);
	st_config_free(&c);
	free(p);
	free(b.p);
	if (st != want)
		FAIL("status %d (%s), want %d", st, st == ST_OK ? "ok" :
		    err.msg, want);
	return NULL;
}

static const char *t_cfgline_at(void) { return config(ST_MAX_CONFIG_LINE, 1, ST_OK); }
static const char *t_cfgline_over(void) { return config(ST_MAX_CONFIG_LINE + 1, 1, ST_ELIMIT); }
static const char *t_cfglines_at(void) { return config(0, ST_MAX_CONFIG_LINES, ST_OK); }
static const char *t_cfglines_over(void) { return config(0, ST_MAX_CONFIG_LINES + 1, ST_ELIMIT); }

/* --- SMTP replies (ST_MAX_SMTP_LINE, ST_MAX_SMTP_REPLY) ------------------- */

/* nlines lines, each linelen bytes without CRLF; the last "250 ". */
static const char *
smtp(size_t linelen, size_t nlines, enum st_status want)
{
	struct buf b = { 0 };
	struct st_smtp_reply r;
	struct st_error err;
	enum st_status st;
	size_t used, i;
	char *p;

	for (i = 0; i < nlines; i++) {
		puts_(&b, i + 1 < nlines ? "250-" : "250 ");
		fill(&b, 'k', linelen - 4);
		puts_(&b, "\r\n");
	}
	p = exact(&b);
	st_smtp_reply_init(&r, 0, 0);
	st = st_smtp_reply_parse(&r, p, b.n, &used, &err);
	if (st == ST_OK && !r.complete)
		st = ST_EPARSE;
	if (st == ST_OK && r.rawlen > ST_MAX_SMTP_REPLY)
		st = ST_EINVAL;
	st_smtp_reply_free(&r);
	free(p);
	free(b.p);
	if (st != want)
		FAIL("status %d, want %d", st, want);
	return NULL;
}

static const char *t_smtpline_at(void) { return smtp(ST_MAX_SMTP_LINE, 1, ST_OK); }
static const char *t_smtpline_over(void) { return smtp(ST_MAX_SMTP_LINE + 1, 1, ST_ELIMIT); }
/* 16 lines of 4095 + 15 separators = 65535 */
static const char *t_smtpreply_at(void) { return smtp(4095, 16, ST_OK); }
static const char *t_smtpreply_over(void) { return smtp(4096, 16, ST_ELIMIT); }

/* --- the arena ceiling (ST_MAX_ARENA and smaller) -------------------------- */

static const char *
t_arena(void)
{
	struct st_arena *a = st_arena_new(1024 * 1024);
	size_t got = 0;

	if (a == NULL)
		FAIL("st_arena_new failed");
	while (st_arena_alloc(a, 4096) != NULL)
		if ((got += 4096) > 2 * 1024 * 1024)
			FAIL("arena of 1 MB gave more than 2 MB");
	if (got < 512 * 1024)
		FAIL("arena of 1 MB gave only %zu bytes", got);
	if (st_arena_alloc(a, (size_t)-1 / 2) != NULL)
		FAIL("huge allocation succeeded");
	st_arena_reset(a);
	if (st_arena_alloc(a, 4096) == NULL)
		FAIL("reset arena refuses");
	st_arena_free(a);
	return NULL;
}

/* A message whose trace needs more than the arena: ST_ENOMEM, no crash. */
static const char *
t_arena_trace(void)
{
	struct buf b = { 0 };
	struct st_arena *a = st_arena_new(256 * 1024);
	struct st_config cfg;
	struct st_msg m;
	struct st_trace t;
	struct st_error err;
	enum st_status st;
	size_t i;
	char *p;

	for (i = 0; i < 2000; i++)
		puts_(&b, "Received: from a.example.net (a.example.net "
		    "[192.0.2.1]) by b.example.net; Mon, 1 Jan 2007 "
		    "00:00:00 +0000\n");
	puts_(&b, "\n");
	p = exact(&b);
	st_config_init(&cfg);
	st = st_msg_parse(&m, a, p, b.n);
	if (st == ST_OK)
		st = st_trace_message(&m, &cfg, NULL, &t, &err);
	st_config_free(&cfg);
	free(p);
	free(b.p);
	st_arena_free(a);
	if (st == ST_OK)
		FAIL("256 KB arena was enough for 1000 hops?");
	return NULL;
}

static const struct {
	const char *name;
	const char *(*fn)(void);
} cases[] = {
	{ "header_block_at_limit", t_block_at },
	{ "header_block_past_limit", t_block_over },
	{ "header_count_at_limit", t_count_at },
	{ "header_count_past_limit", t_count_over },
	{ "header_value_at_limit", t_value_at },
	{ "header_value_past_limit", t_value_over },
	{ "header_value_20mb", t_value_huge },
	{ "decode_len_at_limit", t_decode_at },
	{ "decode_len_past_limit", t_decode_over },
	{ "decode_many_encoded_words", t_decode_words },
	{ "hops_at_limit", t_hops_at },
	{ "hops_past_limit", t_hops_over },
	{ "comment_depth_at_limit", t_depth_at },
	{ "comment_depth_past_limit", t_depth_over },
	{ "comment_depth_100000", t_depth_deep },
	{ "comment_100000_unclosed", t_unbalanced },
	{ "comment_100000_closers", t_closers },
	{ "received_tokens_under_limit", t_tokens_at },
	{ "received_tokens_past_limit", t_tokens_over },
	{ "received_tokens_200000", t_tokens_many },
	{ "config_line_at_limit", t_cfgline_at },
	{ "config_line_past_limit", t_cfgline_over },
	{ "config_lines_at_limit", t_cfglines_at },
	{ "config_lines_past_limit", t_cfglines_over },
	{ "smtp_line_at_limit", t_smtpline_at },
	{ "smtp_line_past_limit", t_smtpline_over },
	{ "smtp_reply_at_limit", t_smtpreply_at },
	{ "smtp_reply_past_limit", t_smtpreply_over },
	{ "arena_ceiling", t_arena },
	{ "arena_ceiling_trace", t_arena_trace },
};

int
main(int argc, char **argv)
{
	size_t i, pass = 0, fail = 0;

	st_library_init();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *r;

		if (argc > 1 && strstr(cases[i].name, argv[1]) == NULL)
			continue;
		r = cases[i].fn();
		printf("%s %s%s%s\n", r ? "FAIL" : "ok  ", cases[i].name,
		    r ? ": " : "", r ? r : "");
		if (r)
			fail++;
		else
			pass++;
	}
	printf("%zu passed, %zu failed\n", pass, fail);
	return fail ? 1 : 0;
}
