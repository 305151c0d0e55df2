/*
 * unit.c - unit tests of the report module's pure functions, table by
 * table: redaction, ISO-2022-JP conversion, RFC 2047 words, grouping of
 * messages into reports (from hand-made traces, so they do not depend on
 * the analysis), and the ARF rendering of such a report.
 */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/spamtrace.h"
#include "spamtrace/report.h"
#include "report/report_int.h"

static int fails, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		fails++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

/* --- redaction --------------------------------------------------------- */

static const struct {
	const char *in, *addr, *want;
} redact_cases[] = {
	{ "for <taro@example.jp>;", "taro@example.jp",
	  "for <x@redacted.invalid>;" },
	{ "To: TARO@Example.JP, taro@example.jpx", "taro@example.jp",
	  "To: x@redacted.invalid, x@redacted.invalidx" },
	{ "nothing here", "taro@example.jp", "nothing here" },
	{ "taro@example.j", "taro@example.jp", "taro@example.j" },
	{ "abc", NULL, "abc" },
	{ "", "a@b", "" },
};

static void
test_redact(void)
{
	size_t i, n;

	for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
		char *o = st_report_redact(redact_cases[i].in,
		    strlen(redact_cases[i].in), redact_cases[i].addr, NULL, &n);

		CHECK(o != NULL && n == strlen(redact_cases[i].want) &&
		    strcmp(o, redact_cases[i].want) == 0,
		    "redact %zu: got '%s'", i, o ? o : "(null)");
		free(o);
	}
	/* embedded NUL is data */
	{
		const char in[] = "a\0taro@example.jp\0b";
		char *o = st_report_redact(in, sizeof(in) - 1,
		    "taro@example.jp", "X", &n);

		CHECK(o != NULL && n == 5 && memcmp(o, "a\0X\0b", 5) == 0,
		    "redact with NUL");
		free(o);
	}
}

/* --- ISO-2022-JP -------------------------------------------------------- */

static const struct {
	const char *utf8, *want;	/* want NULL: not representable */
} jis_cases[] = {
	{ "abc", "abc" },
	{ "日本語\nabc", "\x1b$BF|K\\8l\x1b(B\nabc" },
	{ "ご担当者様", "\x1b$B$4C4Ev<TMM\x1b(B" },
	{ "a（b）", "a\x1b$B!J\x1b(Bb\x1b$B!K\x1b(B" },
	{ "絵文字 \xf0\x9f\x98\x80", NULL },
	{ "\x1b$B", NULL },		/* an ESC in the text */
	{ "\xff\xfe", NULL },		/* not UTF-8 */
};

static void
test_jis(void)
{
	size_t i, n;

	for (i = 0; i < sizeof(jis_cases) / sizeof(jis_cases[0]); i++) {
		char *o = st_report_to_iso2022jp(jis_cases[i].utf8,
		    strlen(jis_cases[i].utf8), &n);

		if (jis_cases[i].want == NULL)
			CHECK(o == NULL, "jis %zu: should fail", i);
		else
			CHECK(o != NULL && strcmp(o, jis_cases[i].want) == 0,
			    "jis %zu: got '%s'", i, o ? o : "(null)");
		free(o);
	}
}

/* --- RFC 2047 ------------------------------------------------------------ */

static const struct {
	const char *utf8, *charset;
} word_cases[] = {
	{ "plain ascii subject", "ISO-2022-JP" },
	{ "貴ネットワークからの迷惑メールについてのご報告（202.215.137.102）",
	  "ISO-2022-JP" },
	{ "貴ネットワークからの迷惑メールについてのご報告（202.215.137.102）",
	  "UTF-8" },
	{ "Réponse: spam from 192.0.2.1 ✓ and more words to make it long "
	  "enough to need several encoded words", "UTF-8" },
};

static void
test_words(void)
{
	size_t i;

	for (i = 0; i < sizeof(word_cases) / sizeof(word_cases[0]); i++) {
		char *o = st_report_encode_words(word_cases[i].utf8,
		    word_cases[i].charset, "\r\n"), *dec, *p, *line;
		bool short_words = true;

		CHECK(o != NULL, "words %zu: encoded", i);
		if (o == NULL)
			continue;
		/* every encoded word at most 75 octets, every line folded */
		for (line = o; line != NULL; ) {
			char *e = strstr(line, "\r\n");
			size_t ll = e ? (size_t)(e - line) : strlen(line);

			if (ll > 76)
				short_words = false;
			line = e ? e + 2 : NULL;
		}
		CHECK(short_words, "words %zu: words <= 75 octets: %s", i, o);
		/* GMime decodes it back */
		for (p = o; *p; p++)	/* unfold */
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		dec = g_mime_utils_header_decode_text(NULL, o);
		CHECK(dec != NULL && strcmp(dec, word_cases[i].utf8) == 0,
		    "words %zu: decodes to '%s'", i, dec ? dec : "(null)");
		g_free(dec);
		free(o);
	}
}

/* --- quoted-printable ---------------------------------------------------- */

static void
test_qp(void)
{
	struct st_buf b;

	st_buf_init(&b, 1 << 20);
	st_mime_put_qp(&b, "caf\xc3\xa9 = ok \nend", 15, "\r\n");
	CHECK(b.p && strcmp(b.p, "caf=C3=A9 =3D ok=20\r\nend") == 0,
	    "qp: got '%s'", b.p ? b.p : "");
	st_buf_free(&b);
}

/* --- grouping and rendering from hand-made traces ------------------------ */

struct fake {
	const char *msg;
	const char *contacts[4];
	const char *origin_ip, *org;
};

static const struct fake fakes[] = {
	{ "Return-Path: <spammer@example.net>\n"
	  "Received: from dyn-7.example.net (dyn-7.example.net [192.0.2.7])\n"
	  "\tby mx.example.jp with SMTP id A1; Sat, 11 Mar 2006 21:51:40 +0900\n"
	  "Message-ID: <one@x>\nSubject: one\n\nbody\n",
	  { "abuse@example.net", "Postmaster@Example.net", "abuse@example.net" },
	  "192.0.2.7", "example.net" },
	{ "Return-Path: <spammer@example.net>\r\n"
	  "Received: from dyn-8.example.net (dyn-8.example.net [192.0.2.8])\r\n"
	  "\tby mx.example.jp with SMTP id A2; Sat, 11 Mar 2006 22:00:00 +0900\r\n"
	  "Message-ID: <two@x>\r\nSubject: two\r\n\r\nbody\r\n",
	  { "postmaster@example.net", "ABUSE@example.net" },
	  "192.0.2.8", "example.net" },
	{ "Received: from relay.example.org (relay.example.org [198.51.100.1])\n"
	  "\tby mx.example.jp with SMTP id A3; Sat, 11 Mar 2006 23:00:00 +0900\n"
	  "Message-ID: <three@x>\n\nbody\n",
	  { "abuse@example.org" }, "198.51.100.1", "example.org" },
	{ "Received: (qmail 1 invoked by uid 0); 11 Mar 2006 12:00:00 -0000\n"
	  "Message-ID: <four@x>\n\nbody\n",
	  { NULL }, NULL, NULL },
};

static void
fake_trace(struct st_msg *m, struct st_arena *a, const struct fake *f,
    struct st_trace *t)
{
	size_t n;

	st_msg_parse(m, a, f->msg, strlen(f->msg));
	st_trace_hops(m, t);
	for (n = 0; n < 4 && f->contacts[n]; n++)
		;
	t->contacts = st_arena_alloc(a, (n + 1) * sizeof(*t->contacts));
	for (t->ncontacts = 0; t->ncontacts < n; t->ncontacts++) {
		t->contacts[t->ncontacts].address = f->contacts[t->ncontacts];
		t->contacts[t->ncontacts].for_ = "origin";
		t->contacts[t->ncontacts].why = "test";
	}
	if (f->origin_ip != NULL) {
		t->origin.present = true;
		t->origin.ip = f->origin_ip;
		t->origin.org = f->org;
		t->origin.rdns = "";
		t->origin.helo = "";
		t->origin.hop = 1;
	}
}

static void
test_group_render(void)
{
	struct st_report_set s;
	struct st_arena *a = st_arena_new(0);
	struct st_error err;
	size_t i, idx[4];
	enum st_status rc[4];
	struct st_report_opts o;
	char *out = NULL, *mid = NULL;
	size_t len;

	CHECK(st_report_set_init(&s, true) == ST_OK, "set init");
	for (i = 0; i < 4; i++) {
		struct st_msg m;
		struct st_trace t;

		st_arena_reset(a);
		fake_trace(&m, a, &fakes[i], &t);
		idx[i] = 99;
		rc[i] = st_report_add(&s, &m, &t, "fake.mbox", i, NULL, 0,
		    &idx[i], &err);
	}
	st_arena_free(a);
	CHECK(rc[0] == ST_OK && rc[1] == ST_OK && rc[2] == ST_OK,
	    "three messages with contacts are added");
	CHECK(rc[3] == ST_EINVAL && s.no_addressee == 1 && s.added == 3,
	    "no contact: ST_EINVAL and counted (%d, %zu)", rc[3],
	    s.no_addressee);
	CHECK(s.n == 2 && idx[0] == 0 && idx[1] == 0 && idx[2] == 1,
	    "grouped per network: %zu reports", s.n);
	if (s.n != 2)
		return;
	CHECK(s.r[0].nto == 2 && strcmp(s.r[0].to[0], "abuse@example.net") == 0
	    && strcmp(s.r[0].to[1], "postmaster@example.net") == 0,
	    "addressees deduplicated and lower-cased");
	CHECK(s.r[0].ninc == 2 && strcmp(s.r[0].domain, "example.net") == 0,
	    "two incidents, domain example.net");
	CHECK(s.r[0].inc[0].headers != NULL && s.r[0].inc[1].headers == NULL,
	    "only the first incident keeps its header block");
	CHECK(strcmp(s.r[0].inc[0].mail_from, "spammer@example.net") == 0,
	    "envelope sender from Return-Path");

	memset(&o, 0, sizeof(o));
	o.arf = true;
	o.lang = "en";
	o.from = "me@example.jp";
	o.now = 1142081500;
	o.boundary_seed = "unit";
	CHECK(st_report_render(&s.r[0], &o, &out, &len, &mid, &err) == ST_OK,
	    "render ARF");
	if (out != NULL) {
		const char *hb = strstr(out, "text/rfc822-headers");
		const char *want = "Return-Path: <spammer@example.net>\n"
		    "Received: from dyn-7.example.net (dyn-7.example.net "
		    "[192.0.2.7])\n\tby mx.example.jp with SMTP id A1; Sat, 11 "
		    "Mar 2006 21:51:40 +0900\nMessage-ID: <one@x>\n"
		    "Subject: one\n";

		CHECK(strstr(out, "\nSource-IP: 192.0.2.7\n") != NULL,
		    "Source-IP");
		CHECK(strstr(out, "\nIncidents: 2\n") != NULL, "Incidents: 2");
		CHECK(strstr(out, "\nReported-Domain: example.net\n") != NULL,
		    "Reported-Domain");
		CHECK(strstr(out, "\nArrival-Date: Sat, 11 Mar 2006 21:51:40 "
		    "+0900\n") != NULL, "Arrival-Date in the stamped zone");
		CHECK(strstr(out, "\nOriginal-Mail-From: <spammer@example.net>"
		    "\n") != NULL, "Original-Mail-From");
		CHECK(strstr(out, "\r\n") == NULL,
		    "LF original: the report uses LF throughout");
		CHECK(hb != NULL && strstr(hb, want) != NULL,
		    "header block copied");
		CHECK(strstr(out, "To: abuse@example.net, "
		    "postmaster@example.net\n") != NULL, "To header");
	}
	free(out);
	free(mid);
	st_report_set_free(&s);
}

int
main(int argc, char **argv)
{
	st_library_init();
	test_redact();
	test_jis();
	test_words();
	test_qp();
	test_group_render();
	printf("report_unit: %d checks, %d failures\n", checks, fails);
	return fails ? 1 : 0;
}
