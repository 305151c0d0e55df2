/*
 * cmd_cases.c - "spamtrace cases": list the case file, and record what
 * became of a case (--resolve ID "relay closed").
 *
 * --json prints one object, {"cases": [...]}, each case with the fields
 * of CONTRACT.md (source_ip, to, written, sent, path, message_id) plus id,
 * status, smtp_reply, kind, lang, incidents, domain, subject,
 * report_message_id, resolution, resolved and per-addressee deliveries.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "spamtrace/store.h"

struct cases_ctx {
	bool	json;
	struct jw w;
	struct st_buf out;
	size_t	n;
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace cases [--json] [--db FILE] "
	    "[--resolve ID TEXT]\n", f);
}

static void
iso(int64_t t, char *buf, size_t size)
{
	st_date_iso(t, buf, size);
}

static bool
one_case(const struct st_store_case *c, void *arg)
{
	struct cases_ctx *x = arg;
	size_t i;
	char t[32];

	x->n++;
	if (x->json) {
		struct jw *w = &x->w;

		jw_obj(w);
		jw_kint(w, "id", c->id);
		jw_kstr(w, "source_ip", c->source_ip);
		jw_key(w, "to");
		jw_arr(w);
		for (i = 0; i < c->nrcpts; i++)
			jw_str(w, c->rcpts[i].addr);
		jw_end_arr(w);
		jw_kdate(w, "written", true, c->written);
		jw_kdate(w, "sent", c->has_sent, c->sent);
		jw_kstr(w, "path", c->path);
		jw_kstr(w, "message_id", c->message_id);
		jw_kstr(w, "status", c->status);
		jw_kstr(w, "smtp_reply", c->smtp_reply);
		jw_kstr(w, "kind", c->kind);
		jw_kstr(w, "lang", c->lang);
		jw_kint(w, "incidents", (long long)c->incidents);
		jw_kstr(w, "domain", c->domain);
		jw_kstr(w, "subject", c->subject);
		jw_kstr(w, "report_message_id", c->report_msgid);
		jw_kstr(w, "resolution", c->resolution);
		jw_kdate(w, "resolved", c->has_resolved, c->resolved);
		jw_key(w, "deliveries");
		jw_arr(w);
		for (i = 0; i < c->nrcpts; i++) {
			jw_obj(w);
			jw_kstr(w, "to", c->rcpts[i].addr);
			jw_kstr(w, "status", c->rcpts[i].status);
			jw_kdate(w, "sent", c->rcpts[i].has_sent,
			    c->rcpts[i].sent);
			jw_kstr(w, "smtp_reply", c->rcpts[i].smtp_reply);
			jw_end_obj(w);
		}
		jw_end_arr(w);
		jw_end_obj(w);
		return true;
	}
	iso(c->written, t, sizeof(t));
	st_buf_printf(&x->out, "%s#%lld%s  %s  %s%s%s  %s %s, %zu incident%s\n",
	    C_BOLD, (long long)c->id, C_RESET, t,
	    strcmp(c->status, "sent") == 0 ? C_GREEN :
	    strcmp(c->status, "written") == 0 ? "" : C_RED, c->status,
	    C_RESET, c->kind, c->lang, c->incidents,
	    c->incidents == 1 ? "" : "s");
	st_buf_printf(&x->out, "  source %s%s%s%s\n", *c->source_ip ?
	    c->source_ip : "?", *c->domain ? " (" : "", c->domain,
	    *c->domain ? ")" : "");
	if (*c->message_id)
		st_buf_printf(&x->out, "  message %s\n", c->message_id);
	st_buf_printf(&x->out, "  file %s\n", c->path);
	for (i = 0; i < c->nrcpts; i++) {
		const struct st_store_rcpt *r = &c->rcpts[i];

		if (r->has_sent)
			iso(r->sent, t, sizeof(t));
		st_buf_printf(&x->out, "  to %s: %s%s%s%s%s\n", r->addr,
		    r->status, r->has_sent ? " " : "", r->has_sent ? t : "",
		    r->smtp_reply ? "  " : "", r->smtp_reply ? r->smtp_reply :
		    "");
	}
	if (c->resolution != NULL)
		st_buf_printf(&x->out, "  %sresolution:%s %s\n", C_CYAN, C_RESET,
		    c->resolution);
	st_buf_putc(&x->out, '\n');
	cli_buf_write(&x->out, stdout);
	return true;
}

int
cmd_cases(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "db", required_argument, NULL, 'd' },
		{ "resolve", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cases_ctx x;
	struct st_store *s;
	struct st_error err = { 0 };
	struct st_config cfg;
	const char *db = NULL, *resolve = NULL, *color = "auto",
	    *config_path = NULL;
	char path[4096];
	int c, rc = EXIT_OK;

	memset(&x, 0, sizeof(x));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': x.json = true; break;
		case 'd': db = optarg; break;
		case 'r': resolve = optarg; break;
		case 'c': config_path = optarg; break;
		case 'C': color = optarg ? optarg : "always"; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if ((resolve != NULL && optind + 1 != argc) ||
	    (resolve == NULL && optind != argc)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	st_config_init(&cfg);
	if ((rc = cli_load_config(&cfg, config_path)) != EXIT_OK)
		return rc;
	if (db == NULL && st_config_get(&cfg, "db") != NULL)
		db = st_config_get(&cfg, "db");
	if (db != NULL)
		snprintf(path, sizeof(path), "%s", db);
	else if (st_store_default_path(path, sizeof(path), &err) != ST_OK) {
		cli_warn("%s", err.msg);
		st_config_free(&cfg);
		return EXIT_USAGE;
	}
	st_config_free(&cfg);
	if (st_store_open(&s, path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_NOINPUT;
	}
	cli_color_setup(x.json ? "never" : color);

	if (resolve != NULL) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(resolve, &end, 10);
		if (errno || *end || id <= 0) {
			cli_warn("--resolve: '%s' is not a case id", resolve);
			st_store_close(s);
			return EXIT_USAGE;
		}
		if (st_store_begin(s, &err) != ST_OK ||
		    st_store_resolve(s, id, argv[optind], (int64_t)time(NULL),
		    &err) != ST_OK) {
			st_store_rollback(s);
			cli_warn("%s", err.msg);
			st_store_close(s);
			return err.status == ST_EINVAL ? EXIT_USAGE :
			    EXIT_PARTIAL;
		}
		if (st_store_commit(s, &err) != ST_OK) {
			cli_warn("%s", err.msg);
			st_store_close(s);
			return EXIT_PARTIAL;
		}
		if (!x.json)
			fprintf(stderr, "spamtrace: case %lld: %s\n", id,
			    argv[optind]);
	}
	if (x.json) {
		jw_init(&x.w, &x.out);
		jw_obj(&x.w);
		jw_key(&x.w, "cases");
		jw_arr(&x.w);
	}
	if (resolve == NULL || x.json) {
		if (st_store_cases(s, one_case, &x, &err) != ST_OK) {
			cli_warn("%s", err.msg);
			rc = EXIT_PARTIAL;
		}
	}
	if (x.json) {
		jw_end_arr(&x.w);
		jw_end_obj(&x.w);
		st_buf_putc(&x.out, '\n');
		cli_buf_write(&x.out, stdout);
	} else if (resolve == NULL && x.n == 0) {
		fprintf(stderr, "spamtrace: no cases in %s\n", path);
	}
	fflush(stdout);
	st_buf_free(&x.out);
	st_store_close(s);
	return rc;
}
