/*
 * milter_decide.c - table test of lib/milter: one case file in, the
 * milter's decisions out, compared line by line with the case's expected
 * block (both ways: a missing or an extra line fails).
 *
 * Case file (tests/milter/cases/NAME.case):
 *
 *   [config]        spamtrace config lines (may be empty: the defaults)
 *   [client]        ip = / name = / helo = / by = / auth = / auth_type =
 *                   mail_from = (the envelope sender; "<>" for bounces)
 *   [message]       the message as the MTA would hand it over (optional)
 *   [fail]          optional: one line, an internal error to report
 *   [expect]        the result lines, in this order:
 *                     mail = ACTION [CODE XCODE]
 *                     eom = ACTION [CODE XCODE]     (with [message] or
 *                     rule = RULE                    [fail])
 *                     header = X-Spamtrace value
 *
 * With no argument but --self, runs the built-in checks of the small
 * helpers (client name normalisation).  Exit 0 when all agree, 1 if not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/limits.h"
#include "spamtrace/milter.h"

struct sect {
	char   *p;
	size_t	len;
	int	present;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n + 1)) ==
	    NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = '\0';
	fclose(f);
	return b;
}

/* Split into sections at lines "[name]". */
static void
split(char *buf, size_t len, struct sect *cfg, struct sect *cl,
    struct sect *msg, struct sect *fail, struct sect *exp)
{
	char *p = buf, *end = buf + len;
	struct sect *cur = NULL;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next = nl ? nl + 1 : end;
		struct sect *s = NULL;

		if (p[0] == '[') {
			if (strncmp(p, "[config]", 8) == 0)
				s = cfg;
			else if (strncmp(p, "[client]", 8) == 0)
				s = cl;
			else if (strncmp(p, "[message]", 9) == 0)
				s = msg;
			else if (strncmp(p, "[fail]", 6) == 0)
				s = fail;
			else if (strncmp(p, "[expect]", 8) == 0)
				s = exp;
		}
		if (s != NULL) {
			if (cur != NULL)
				cur->len = (size_t)(p - cur->p);
			cur = s;
			cur->p = next;
			cur->present = 1;
		}
		p = next;
	}
	if (cur != NULL)
		cur->len = (size_t)(end - cur->p);
}

/* "key = value" lookup in a section; returns a static copy or "". */
static const char *
kv(const struct sect *s, const char *key, char *buf, size_t size)
{
	const char *p = s->p, *end = s->p + s->len;
	size_t kl = strlen(key);

	buf[0] = '\0';
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) > kl && strncmp(p, key, kl) == 0) {
			const char *v = p + kl;

			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			if (v < le && *v == '=') {
				v++;
				while (v < le && (*v == ' ' || *v == '\t'))
					v++;
				snprintf(buf, size, "%.*s", (int)(le - v), v);
				return buf;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return buf;
}

static void
put_action(char *out, size_t size, const char *key,
    const struct st_milter_result *r)
{
	size_t n = strlen(out);

	if (r->code[0])
		snprintf(out + n, size - n, "%s = %s %s %s\n", key,
		    st_milter_action_name(r->action), r->code, r->xcode);
	else
		snprintf(out + n, size - n, "%s = %s\n", key,
		    st_milter_action_name(r->action));
}

static int
run_case(const char *path)
{
	struct sect cfgs = { 0 }, cls = { 0 }, msgs = { 0 }, fails = { 0 },
	    exps = { 0 };
	struct st_config cfg;
	struct st_error err = { 0 };
	struct st_milter_client c;
	struct st_milter_conn cc;
	struct st_milter_result r;
	char from[256], ip[64], rawname[256], name[256], helo[256], by[256], auth[256],
	    atype[64];
	char out[8192] = "", *buf, *exp;
	size_t len, n;
	int ok;

	if ((buf = slurp(path, &len)) == NULL) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	split(buf, len, &cfgs, &cls, &msgs, &fails, &exps);
	st_config_init(&cfg);
	if (cfgs.present && st_config_parse(&cfg, cfgs.p, cfgs.len, path,
	    &err) != ST_OK) {
		fprintf(stderr, "%s: config: %s\n", path, err.msg);
		free(buf);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.ip = kv(&cls, "ip", ip, sizeof(ip));
	st_milter_client_name(kv(&cls, "name", rawname, sizeof(rawname)),
	    name, sizeof(name));
	c.name = name;
	c.helo = kv(&cls, "helo", helo, sizeof(helo));
	c.by = kv(&cls, "by", by, sizeof(by));
	c.auth = kv(&cls, "auth", auth, sizeof(auth));
	c.auth_type = kv(&cls, "auth_type", atype, sizeof(atype));

	if (st_milter_conn_check(&cfg, &c, &cc, &err) != ST_OK) {
		fprintf(stderr, "%s: conn_check: %s\n", path, err.msg);
		free(buf);
		return 1;
	}
	st_milter_decide_mail(&cfg, &c, &cc, &r);
	put_action(out, sizeof(out), "mail", &r);
	if (fails.present) {
		char what[200];

		snprintf(what, sizeof(what), "%.*s", (int)strcspn(fails.p,
		    "\n"), fails.p);
		st_milter_fail(&cfg, &c, what, &r);
	} else if (msgs.present) {
		struct st_arena *a = st_arena_new(ST_MAX_MILTER_ARENA);
		/* the message in its own exact-size buffer, no NUL after */
		char *m = malloc(msgs.len ? msgs.len : 1);

		memcpy(m, msgs.p, msgs.len);
		if (st_milter_check_message(a, &cfg, &c, &cc,
		    kv(&cls, "mail_from", from, sizeof(from)), m, msgs.len, 0,
		    &r, &err) != ST_OK) {
			fprintf(stderr, "%s: check_message: %s\n", path,
			    err.msg);
			free(m);
			st_arena_free(a);
			free(buf);
			return 1;
		}
		free(m);
		st_arena_free(a);
	}
	if (fails.present || msgs.present) {
		put_action(out, sizeof(out), "eom", &r);
		n = strlen(out);
		snprintf(out + n, sizeof(out) - n, "rule = %s\nheader = %s\n",
		    r.rule[0] ? r.rule : "none", r.header);
	}
	exp = exps.present ? strndup(exps.p, exps.len) : strdup("");
	/* trailing blank lines of the case file do not count */
	while ((n = strlen(exp)) > 1 && exp[n - 1] == '\n' && exp[n - 2] ==
	    '\n')
		exp[n - 1] = '\0';
	ok = strcmp(exp, out) == 0;
	if (!ok)
		fprintf(stderr, "%s: MISMATCH\n--- expected\n%s--- got\n%s"
		    "--- log\n%s\n", path, exp, out, r.log);
	else
		printf("ok %s\n   log: %s\n", path, r.log);
	free(exp);
	free(buf);
	st_config_free(&cfg);
	return ok ? 0 : 1;
}

static int
self_test(void)
{
	static const struct {
		const char *in, *out;
	} names[] = {
		{ "unknown", "" }, { "UNKNOWN", "" }, { "[192.0.2.1]", "" },
		{ "", "" }, { "mx.example.jp", "mx.example.jp" },
		{ "bad\r\nname", "bad??name" }, { "a b", "a" },
	};
	char buf[64];
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		st_milter_client_name(names[i].in, buf, sizeof(buf));
		if (strcmp(buf, names[i].out) != 0) {
			fprintf(stderr, "client_name(%s) = '%s', want '%s'\n",
			    names[i].in, buf, names[i].out);
			bad = 1;
		}
	}
	if (!bad)
		printf("ok self-test\n");
	return bad;
}

int
main(int argc, char **argv)
{
	int i, bad = 0;

	st_library_init();
	if (argc < 2) {
		fprintf(stderr, "usage: milter_decide --self | CASE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		bad |= strcmp(argv[i], "--self") == 0 ? self_test() :
		    run_case(argv[i]);
	return bad;
}
