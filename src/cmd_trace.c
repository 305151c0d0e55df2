/*
 * cmd_trace.c - "spamtrace trace": one record per message, in input order.
 *
 * Reads every PATH with the input module, scans each message's headers,
 * runs the trace and prints it as JSON Lines (--json) or as a short report
 * for people.  A message that cannot be read or analysed still gets its
 * record, with "error" set; the exit status is then 1.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "spamtrace/bounce.h"

struct trace_opts {
	bool	json;
	struct st_dns *dns;	/* --dns: the resolver of the run */
	struct st_config cfg;
	int	rc;		/* EXIT_PARTIAL once a message had an error */
	struct cli_outq *out;	/* the records, on their way to stdout */
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace trace [--json] [--me ADDR]... "
	    "[--trust NET|HOST]...\n"
	    "                       [--config FILE] [--dns] [--dnsbl ZONE]... "
	    "[--resolver IP[:PORT]]\n"
	    "                       [--color=auto|always|never] [-j N] "
	    "PATH...\n"
	    "PATH: a message, an mbox, a Maildir, a directory, or - for "
	    "standard input.\n", f);
}

/*
 * A cheap test before the bounce reader runs: most messages are not
 * bounces, and reading the MIME structure costs more than the trace.
 */
/* Case-insensitive search for a lower-case needle in a span. */
static bool
strncasestr_n(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle), i, k;

	for (i = 0; i + n <= len; i++) {
		for (k = 0; k < n; k++)
			if (tolower((unsigned char)p[i + k]) != needle[k])
				break;
		if (k == n)
			return true;
	}
	return false;
}

static bool
maybe_bounce(struct st_msg *m)
{
	static const char *const senders[] = { "mailer-daemon", "postmaster",
	    "mail delivery", "mailer daemon", "mmdf", "mail administrator",
	    NULL };
	const struct st_header *h;
	size_t i;

	if ((h = st_msg_get(m, "Content-Type", 0)) != NULL &&
	    memmem(h->value, h->value_len, "report", 6) != NULL)
		return true;
	if ((h = st_msg_get(m, "Return-Path", 0)) != NULL &&
	    memmem(h->value, h->value_len, "<>", 2) != NULL)
		return true;
	if ((h = st_msg_get(m, "From", 0)) == NULL)
		return false;
	if (h->value_len <= 512) {
		/* lowered once, then each name by memmem */
		char low[512];

		for (i = 0; i < h->value_len; i++) {
			unsigned char c = (unsigned char)h->value[i];

			low[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
		}
		for (i = 0; senders[i] != NULL; i++)
			if (memmem(low, h->value_len, senders[i],
			    strlen(senders[i])) != NULL)
				return true;
		return false;
	}
	for (i = 0; senders[i] != NULL; i++)
		if (strncasestr_n(h->value, h->value_len, senders[i]))
			return true;
	return false;
}

/* When m is a bounce that carries the message that bounced, trace that
 * original too, with the bouncing system trusted. */
static bool
trace_original(const struct trace_opts *o, struct st_msg *m,
    struct st_bounce *b, struct st_msg *om, struct st_trace *ot)
{
	struct st_error err = { 0 };

	if (!maybe_bounce(m))
		return false;
	/* the original is all the trace needs: no recipients, no reasons */
	if (st_bounce_parse_ex(m, b, ST_BOUNCE_QUICK, &err) != ST_OK ||
	    b->kind == ST_BOUNCE_NONE || b->orig == NULL)
		return false;
	return st_bounce_trace_original(m, b, &o->cfg, om, ot, &err) == ST_OK;
}

/* What one message's analysis leaves for the output (in its arena). */
struct result {
	struct st_msg m, om;
	struct st_trace t, ot;
	struct st_bounce b;
	const char *error;	/* NULL, or why there is no trace */
	bool	orig;		/* a bounce whose original is traced */
};

/* Phase 1: parse and trace one message (and a bounce's original). */
static void
analyse_one(const struct trace_opts *o, const struct st_rawmsg *rm,
    struct st_arena *a, struct result *r, char *errbuf, size_t errsize)
{
	struct st_error err = { 0 };

	memset(r, 0, sizeof(*r));
	if (rm->error != ST_OK) {
		r->error = rm->errmsg;
	} else if (st_msg_parse(&r->m, a, rm->data, rm->len) != ST_OK) {
		r->error = "message too complex: memory limit reached";
	} else if (r->m.nhdrs == 0) {
		r->error = "no header fields: not a mail message";
		if (r->m.defects & ST_MSG_DEFECT_NO_HEADERS)
			r->error = "no header fields (first line is not a "
			    "header): not a mail message";
	} else if (st_trace_message(&r->m, &o->cfg, NULL, &r->t, &err) !=
	    ST_OK) {
		snprintf(errbuf, errsize, "%s", err.msg);
		r->error = errbuf;
	}
	if (r->error == NULL)
		r->orig = trace_original(o, &r->m, &r->b, &r->om, &r->ot);
}

/* Phase 3: the record for one message; false when it has an error. */
static bool
format_one(const struct trace_opts *o, const struct st_rawmsg *rm,
    struct result *r, struct st_buf *out)
{
	struct jw w;

	if (o->json) {
		jw_init(&w, out);
		jw_obj(&w);
		jw_key(&w, "source");
		jw_obj(&w);
		jw_kstr(&w, "path", rm->path);
		jw_kint(&w, "index", (long long)rm->index);
		jw_end_obj(&w);
		jw_kstr(&w, "error", r->error);
		if (r->error == NULL)
			out_trace_json(&w, &r->t);
		if (r->orig) {
			jw_key(&w, "original");
			jw_obj(&w);
			jw_kstr(&w, "where", r->b.orig_where);
			jw_key(&w, "trace");
			jw_obj(&w);
			out_trace_json(&w, &r->ot);
			jw_end_obj(&w);
			jw_end_obj(&w);
		}
		jw_end_obj(&w);
		st_buf_putc(out, '\n');
	} else {
		char label[4200];

		snprintf(label, sizeof(label), "== %s #%zu", rm->path,
		    rm->index);
		if (r->error != NULL)
			st_buf_printf(out, "%s%s%s\n  %serror:%s %s\n\n", C_BOLD,
			    label, C_RESET, C_RED, C_RESET, r->error);
		else {
			out_trace_text(out, &r->t, label);
			st_buf_putc(out, '\n');
		}
		if (r->orig) {
			st_buf_printf(out, "%sThis message is a %s returned by "
			    "%s: the mail system that sent it is not the "
			    "spammer. The message it returns is traced below; "
			    "report that one's origin.%s\n\n", C_BOLD,
			    r->b.kind == ST_BOUNCE_AUTOREPLY ? "auto-reply" :
			    r->b.kind == ST_BOUNCE_ARF ? "feedback report" :
			    r->b.kind == ST_BOUNCE_CHALLENGE ?
			    "challenge-response message" : "bounce",
			    *r->b.reporting_mta ? r->b.reporting_mta :
			    "a mail server", C_RESET);
			snprintf(label, sizeof(label), "== %s #%zu: the "
			    "message that bounced (%s, %s), traced with the "
			    "bouncing system %s trusted", rm->path, rm->index,
			    st_bounce_kind_name(r->b.kind), r->b.orig_where,
			    *r->b.reporting_mta ? r->b.reporting_mta : "");
			out_trace_text(out, &r->ot, label);
			st_buf_putc(out, '\n');
		}
	}
	return r->error == NULL;
}

/*
 * Messages go through the ordered pool (pool.h), 8 MiB a batch at most:
 * in the workers, analysis then the record; with --dns, analysis, the
 * lookups of the whole batch, then the records.  Each record is written in
 * input order.
 */
#define BATCH_BYTES	(8u * 1024 * 1024)

/* A message's state in the pool. */
struct item {
	struct result r;
	char	errbuf[256];
	struct st_buf out;	/* its record */
	bool	ok;
};

/* Phase 3, in a worker. */
static void
format_item(void *ctx, struct pool_msg *pm)
{
	struct item *it = pm->item;

	st_buf_reset(&it->out);
	it->ok = format_one(ctx, &pm->rm, &it->r, &it->out);
}

/* Phase 1, in a worker (and phase 3 at once when no DNS phase is between:
 * the record is made while the trace is hot). */
static void
analyse_item(void *ctx, struct pool_msg *pm)
{
	const struct trace_opts *o = ctx;
	struct item *it = pm->item;

	if (pm->a == NULL) {
		memset(&it->r, 0, sizeof(it->r));
		it->r.error = "out of memory";
	} else
		analyse_one(o, &pm->rm, pm->a, &it->r, it->errbuf,
		    sizeof(it->errbuf));
	if (o->dns == NULL)
		format_item(ctx, pm);
}

/* Phase 2 (--dns): every address of every trace of the batch, looked up
 * concurrently, the results attached to each trace. */
static void
lookup_batch(void *ctx, struct pool_msg *msgs, size_t nmsgs)
{
	const struct trace_opts *o = ctx;
	struct st_trace *tr[2 * POOL_BATCH];
	struct st_arena *ar[2 * POOL_BATCH];
	struct st_error err = { 0 };
	const char *w;
	size_t k, n = 0;
	enum st_status st;

	for (k = 0; k < nmsgs; k++) {
		struct item *it = msgs[k].item;

		if (it->r.error != NULL)
			continue;
		tr[n] = &it->r.t;
		ar[n++] = msgs[k].a;
		if (it->r.orig) {
			tr[n] = &it->r.ot;
			ar[n++] = msgs[k].a;
		}
	}
	st = n ? st_dns_lookup_traces(o->dns, tr, ar, n, &err) : ST_OK;
	if (st != ST_OK && st != ST_ETIMEOUT)
		cli_warn("dns: %s", err.msg);
	while ((w = st_dns_next_warning(o->dns)) != NULL)
		cli_warn("dns: %s", w);
}

/* In the main thread, in input order: the record goes out, and the
 * warning of a message that has no trace. */
static void
write_item(void *ctx, struct pool_msg *pm)
{
	struct trace_opts *o = ctx;
	struct item *it = pm->item;

	if (!it->ok) {
		cli_warn("%s: message %zu: %s", pm->rm.path, pm->rm.index,
		    it->r.error);
		if (o->rc == EXIT_OK)
			o->rc = EXIT_PARTIAL;
	}
	cli_outq_put(o->out, &it->out);
}

static void
free_item(void *item)
{
	st_buf_free(&((struct item *)item)->out);
}

int
cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "me", required_argument, NULL, 'm' },
		{ "trust", required_argument, NULL, 't' },
		{ "dns", no_argument, NULL, 'D' },
		{ "dnsbl", required_argument, NULL, 'B' },
		{ "resolver", required_argument, NULL, 'R' },
		{ "jobs", required_argument, NULL, 'j' },
		CLI_OPTS_LONG_END
	};
	struct pool_ops ops = {
		.item_size = sizeof(struct item),
		.batch_bytes = BATCH_BYTES,
		.work = analyse_item,
		.done = write_item,
		.item_free = free_item,
	};
	static struct cli_outq outq;
	struct trace_opts o;
	struct cli_opts co;
	struct st_error err;
	struct progress prog;
	struct pool *pl;
	int c, rc, i;
	bool want_dns = false;

	memset(&o, 0, sizeof(o));
	st_config_init(&o.cfg);
	cli_opts_init(&co, usage);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'D': want_dns = true; break;
		default:
			if ((rc = cli_opts_take(&co, c, optarg)) != CLI_GO_ON)
				return rc;
		}
	}
	if ((rc = cli_opts_finish(&co, argc, &o.cfg)) != EXIT_OK)
		return rc;
	cli_color_setup(o.json ? "never" : co.color);
	cli_stdout_buffer();
	cli_outq_init(&outq, stdout);
	o.out = &outq;
	if (want_dns && st_dns_new(&o.dns, &o.cfg, &err) != ST_OK) {
		cli_warn("--dns: %s", err.msg);
		st_config_free(&o.cfg);
		return EXIT_USAGE;
	}
	if (o.dns != NULL) {
		/* the lookups of a batch between analysis and records */
		ops.between = lookup_batch;
		ops.finish = format_item;
	}
	if ((pl = pool_new(&ops, &o, co.jobs)) == NULL) {
		cli_warn("out of memory");
		if (o.dns != NULL)
			st_dns_free(o.dns);
		st_config_free(&o.cfg);
		return EXIT_PARTIAL;
	}

	progress_init(&prog);
	for (i = optind; i < argc; i++) {
		int r = pool_run(pl, argv[i], &prog);

		if (r > rc)
			rc = r;
	}
	progress_done(&prog);
	if (o.rc > rc)
		rc = o.rc;
	cli_outq_free(&outq);
	fflush(stdout);
	pool_free(pl);
	if (o.dns != NULL)
		st_dns_free(o.dns);
	st_config_free(&o.cfg);
	return rc;
}
