/*
 * cmd_probe.c - "spamtrace probe": is this SMTP server an open relay?
 *
 * Runs the relay battery of lib/probe against every HOST[:PORT] given
 * (IPv6 as [::1]:2525), at most --parallel sessions at once, and prints one
 * record per target in the order given: JSON Lines with --json
 * (CONTRACT.md "probe --json"), else a short report for people, with every
 * test and the session transcript under --verbose.  The probe never sends
 * DATA and always ends with QUIT; a 250 to RCPT is an acceptance, not
 * proof of delivery.
 *
 * Exit status: 0 when every target got a verdict (open, closed,
 * auth-required); 1 when some target was unreachable or ended in error;
 * 2 on a usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spamtrace/probe.h"

struct probe_cli {
	bool	json, verbose;
	int	timeout;
	struct st_buf out;
	int	bad;		/* targets unreachable or in error */
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace probe [--json] [--timeout SEC] [--from ADDR] "
	    "[--to ADDR]\n"
	    "                       [--helo NAME] [--no-tls] [--verbose] "
	    "[--parallel N]\n"
	    "                       [--tests-per-session N] "
	    "[--color=auto|always|never]\n"
	    "                       HOST[:PORT]...\n"
	    "HOST: a name, an IPv4 address, or an IPv6 address in brackets "
	    "([::1]:2525).\n"
	    "Never sends DATA; always ends with QUIT.\n", f);
}

/* Text for a terminal: control bytes shown as \xNN. */
static void
put_text(struct st_buf *b, const char *s)
{
	const unsigned char *p;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			st_buf_printf(b, "\\x%02x", *p);
		else
			st_buf_putc(b, (char)*p);
	}
}

/* A multi-line reply on one line: lines joined by " | ". */
static void
put_reply(struct st_buf *b, const char *s)
{
	const char *nl;

	if (s == NULL) {
		st_buf_puts(b, "-");
		return;
	}
	while ((nl = strchr(s, '\n')) != NULL) {
		char *line = strndup(s, (size_t)(nl - s));

		put_text(b, line);
		free(line);
		st_buf_puts(b, " | ");
		s = nl + 1;
	}
	put_text(b, s);
}

static void
put_json(struct probe_cli *c, const struct st_probe_result *r)
{
	struct jw w;
	size_t i;

	jw_init(&w, &c->out);
	jw_obj(&w);
	jw_kstr(&w, "target", r->target);
	jw_kstr(&w, "address", r->address);
	jw_kstr(&w, "banner", r->banner);
	jw_kstr(&w, "verdict", st_probe_verdict_name(r->verdict));
	jw_kint(&w, "relayed", r->relayed);
	jw_kint(&w, "tried", r->tried);
	jw_kstr(&w, "error", r->error);
	jw_kstr(&w, "note", r->note);
	jw_kstr(&w, "server_name", r->server_name);
	jw_kbool(&w, "esmtp", r->esmtp);
	jw_key(&w, "tls");
	if (r->tls) {
		jw_obj(&w);
		jw_kstr(&w, "version", r->tls_version);
		jw_kstr(&w, "cipher", r->tls_cipher);
		jw_kstr(&w, "subject", r->tls_subject);
		jw_end_obj(&w);
	} else
		jw_null(&w);
	jw_kbool(&w, "localhost_accepted", r->localhost_accepted);
	jw_kbool(&w, "quit_sent", r->quit_sent);
	jw_kint(&w, "elapsed_ms", r->elapsed_ms);
	jw_key(&w, "tests");
	jw_arr(&w);
	for (i = 0; i < r->ntests; i++) {
		const struct st_probe_test *t = &r->tests[i];
		char *a;

		if (!t->run)
			continue;
		jw_obj(&w);
		jw_kint(&w, "n", t->n);
		jw_kstr(&w, "form", t->form);
		if (asprintf(&a, "<%s>", t->mail_from) >= 0) {
			jw_kstr(&w, "mail_from", a);
			free(a);
		}
		if (asprintf(&a, "<%s>", t->rcpt_to) >= 0) {
			jw_kstr(&w, "rcpt_to", a);
			free(a);
		}
		jw_kstr(&w, "mail_reply", t->mail_reply);
		jw_kstr(&w, "rcpt_reply", t->rcpt_reply);
		jw_kbool(&w, "accepted", t->accepted);
		jw_kbool(&w, "third_party", t->third_party);
		jw_kbool(&w, "relayed", t->relayed);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_key(&w, "transcript");
	jw_arr(&w);
	for (i = 0; i < r->ntranscript; i++)
		jw_str(&w, r->transcript[i]);
	jw_end_arr(&w);
	jw_end_obj(&w);
	st_buf_putc(&c->out, '\n');
}

static void
put_human(struct probe_cli *c, const struct st_probe_result *r)
{
	struct st_buf *b = &c->out;
	size_t i;
	int third = 0;

	for (i = 0; i < r->ntests; i++)
		if (r->tests[i].run && r->tests[i].third_party)
			third++;
	st_buf_printf(b, "%s", C_BOLD);
	put_text(b, r->target);
	st_buf_printf(b, "%s", C_RESET);
	if (r->address != NULL)
		st_buf_printf(b, " (%s)", r->address);
	st_buf_puts(b, "  ");
	switch (r->verdict) {
	case ST_PROBE_OPEN:
		st_buf_printf(b, "%s%sOPEN RELAY%s: %d of %d relay attempts "
		    "accepted", C_BOLD, C_RED, C_RESET, r->relayed, third);
		break;
	case ST_PROBE_CLOSED:
		if (third > 0)
			st_buf_printf(b, "%sclosed%s: all %d relay attempts "
			    "refused", C_GREEN, C_RESET, third);
		else
			st_buf_printf(b, "%sclosed%s: refused us before any "
			    "test", C_GREEN, C_RESET);
		break;
	case ST_PROBE_AUTH_REQUIRED:
		st_buf_printf(b, "%sauth-required%s: the server wants "
		    "authentication (530) before it takes mail", C_GREEN,
		    C_RESET);
		break;
	case ST_PROBE_UNREACHABLE:
		st_buf_printf(b, "%sunreachable%s", C_YELLOW, C_RESET);
		break;
	case ST_PROBE_ERROR:
		st_buf_printf(b, "%serror%s", C_YELLOW, C_RESET);
		break;
	}
	st_buf_printf(b, "  %s(%.1f s)%s\n", C_DIM, r->elapsed_ms / 1000.0,
	    C_RESET);
	if (r->error != NULL) {
		st_buf_printf(b, "  %serror:%s ", C_RED, C_RESET);
		put_text(b, r->error);
		st_buf_putc(b, '\n');
	}
	if (r->note != NULL) {
		st_buf_printf(b, "  %snote:%s ", C_YELLOW, C_RESET);
		put_text(b, r->note);
		st_buf_putc(b, '\n');
	}
	if (r->banner != NULL) {
		st_buf_puts(b, "  banner:  ");
		put_reply(b, r->banner);
		st_buf_putc(b, '\n');
	}
	if (r->ntests > 0 || r->tls) {
		st_buf_printf(b, "  session: %s", r->esmtp ? "ESMTP" :
		    "HELO only");
		if (r->tls) {
			st_buf_printf(b, ", STARTTLS %s %s",
			    r->tls_version ? r->tls_version : "",
			    r->tls_cipher ? r->tls_cipher : "");
			if (r->tls_subject != NULL) {
				st_buf_puts(b, " (certificate ");
				put_text(b, r->tls_subject);
				st_buf_puts(b, ", not verified)");
			}
		} else
			st_buf_puts(b, ", no TLS");
		st_buf_printf(b, ", %d tests, %s\n", r->tried,
		    r->quit_sent ? "QUIT sent" : "no QUIT (connection lost)");
	}
	for (i = 0; i < r->ntests; i++) {
		const struct st_probe_test *t = &r->tests[i];

		if (!t->run || (!c->verbose && !t->accepted))
			continue;
		st_buf_printf(b, "  %s%-8s%s #%-2d %-32s MAIL FROM:<",
		    t->relayed ? C_RED : t->accepted ? C_YELLOW : C_DIM,
		    t->relayed ? "RELAYED" : t->accepted ? "accepted" :
		    "refused", C_RESET, t->n, t->form);
		put_text(b, t->mail_from);
		st_buf_puts(b, "> RCPT TO:<");
		put_text(b, t->rcpt_to);
		st_buf_puts(b, ">\n               ");
		if (t->rcpt_reply != NULL)
			put_reply(b, t->rcpt_reply);
		else {
			st_buf_puts(b, "MAIL refused: ");
			put_reply(b, t->mail_reply);
		}
		st_buf_putc(b, '\n');
	}
	if (r->localhost_accepted)
		st_buf_printf(b, "  %snote:%s it accepts mail for \"localhost\" "
		    "from outside: a stranger can fill its queue with mail "
		    "addressed to itself\n", C_YELLOW, C_RESET);
	if (r->verdict == ST_PROBE_OPEN || r->localhost_accepted)
		st_buf_puts(b, "  A 250 to RCPT is an acceptance, not proof "
		    "of delivery: the probe never sends DATA, so nothing was "
		    "delivered.\n");
	if (c->verbose && r->ntranscript > 0) {
		st_buf_puts(b, "  transcript:\n");
		for (i = 0; i < r->ntranscript; i++) {
			const char *l = r->transcript[i];

			st_buf_printf(b, "    %s", l[0] == 'C' ? C_CYAN :
			    l[0] == '*' ? C_DIM : "");
			put_text(b, l);
			st_buf_printf(b, "%s\n", C_RESET);
		}
	}
	st_buf_putc(b, '\n');
}

static void
on_done(const struct st_probe_result *r, size_t i, void *ctx)
{
	struct probe_cli *c = ctx;

	if (c->json)
		put_json(c, r);
	else
		put_human(c, r);
	if (r->verdict == ST_PROBE_UNREACHABLE ||
	    r->verdict == ST_PROBE_ERROR) {
		c->bad++;
		cli_warn("%s: %s: %s", r->target,
		    st_probe_verdict_name(r->verdict),
		    r->error ? r->error : "no verdict");
	}
	cli_buf_write(&c->out, stdout);
	fflush(stdout);
}

int
cmd_probe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "timeout", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "helo", required_argument, NULL, 'H' },
		{ "no-tls", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "tests-per-session", required_argument, NULL, 'S' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe_cli c;
	struct st_probe_opts o;
	struct st_probe_result *res;
	const char *from = NULL, *to = NULL, *helo = NULL, *color = "auto";
	bool no_tls = false;
	int ch, parallel = 8, timeout = 10, i, n, per_session = -1;
	char *end;
	long v;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hvj:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'J': c.json = true; break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 ||
			    v > 3600) {
				cli_warn("--timeout: a number of seconds "
				    "from 1 to 3600, not \"%s\"", optarg);
				return EXIT_USAGE;
			}
			timeout = (int)v;
			break;
		case 'f': from = optarg; break;
		case 'T': to = optarg; break;
		case 'H': helo = optarg; break;
		case 'N': no_tls = true; break;
		case 'v': c.verbose = true; break;
		case 'p':
		case 'j':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 ||
			    v > 256) {
				cli_warn("--parallel: a number from 1 to 256, "
				    "not \"%s\"", optarg);
				return EXIT_USAGE;
			}
			parallel = (int)v;
			break;
		case 'S':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0 ||
			    v > 1000) {
				cli_warn("--tests-per-session: a number from 0 "
				    "(all in one session) up, not \"%s\"",
				    optarg);
				return EXIT_USAGE;
			}
			per_session = (int)v;
			break;
		case 'C': color = optarg ? optarg : "always"; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* addresses go between angle brackets as typed: refuse what would
	 * break the command line */
	if ((from && strpbrk(from, "<>\r\n ")) || (to && strpbrk(to,
	    "<>\r\n ")) || (helo && (strpbrk(helo, "\r\n ") || !*helo))) {
		cli_warn("--from, --to and --helo take a bare address or name "
		    "(no spaces, no angle brackets)");
		return EXIT_USAGE;
	}
	n = argc - optind;
	for (i = 0; i < n; i++) {
		char *h, *p;
		struct st_error err;

		if (st_probe_parse_target(argv[optind + i], &h, &p, &err) !=
		    ST_OK) {
			cli_warn("%s", err.msg);
			return EXIT_USAGE;
		}
		free(h);
		free(p);
	}
	cli_color_setup(c.json ? "never" : color);
	/* OpenSSL may write to a socket the server has closed */
	signal(SIGPIPE, SIG_IGN);

	st_probe_opts_init(&o, timeout);
	o.mail_from = from;
	o.rcpt_to = to;
	o.helo = helo;
	if (no_tls)
		o.smtp.tls = ST_SMTP_TLS_NEVER;
	if (per_session >= 0)
		o.tests_per_session = (size_t)per_session;
	c.timeout = timeout;
	if ((res = calloc((size_t)n, sizeof(*res))) == NULL) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	if (st_probe_run_many(&o, argv + optind, (size_t)n, parallel, res,
	    on_done, &c) != ST_OK) {
		cli_warn("out of memory");
		free(res);
		return EXIT_PARTIAL;
	}
	for (i = 0; i < n; i++)
		st_probe_result_free(&res[i]);
	free(res);
	st_buf_free(&c.out);
	return c.bad ? EXIT_PARTIAL : EXIT_OK;
}
