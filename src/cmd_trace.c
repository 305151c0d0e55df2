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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "spamtrace/bounce.h"

struct trace_opts {
	bool	json;
	int	jobs;
	struct st_dns *dns;	/* --dns: the resolver of the run */
	struct st_config cfg;
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
	if ((h = st_msg_get(m, "From", 0)) != NULL)
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
    struct result *r, struct sbuf *out)
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
		sbuf_putc(out, '\n');
	} else {
		char label[4200];

		snprintf(label, sizeof(label), "== %s #%zu", rm->path,
		    rm->index);
		if (r->error != NULL)
			sbuf_printf(out, "%s%s%s\n  %serror:%s %s\n\n", C_BOLD,
			    label, C_RESET, C_RED, C_RESET, r->error);
		else {
			out_trace_text(out, &r->t, label);
			sbuf_putc(out, '\n');
		}
		if (r->orig) {
			sbuf_printf(out, "%sThis message is a %s returned by "
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
			sbuf_putc(out, '\n');
		}
	}
	if (r->error != NULL)
		cli_warn("%s: message %zu: %s", rm->path, rm->index, r->error);
	return r->error == NULL;
}

/*
 * Messages are read in batches (bounded in count and bytes) and traced by
 * o->jobs threads; each slot has its own arena and output buffer, and the
 * outputs are written in input order once the batch is done.
 */
#define BATCH_MSGS	64
#define BATCH_BYTES	(8u * 1024 * 1024)

struct slot {
	struct st_rawmsg rm;
	char   *data;
	size_t	cap;
	struct st_arena *a;
	struct result r;
	char	errbuf[256];
	struct sbuf out;
	bool	ok;
};

struct batch {
	const struct trace_opts *o;
	struct slot *slots;
	size_t	n;
	size_t	next;		/* next slot to take (under lock) */
	int	phase;		/* 1 analyse, 3 format, 13 both */
	pthread_mutex_t lock;
};

static void *
worker(void *arg)
{
	struct batch *b = arg;

	for (;;) {
		size_t k;
		struct slot *s;

		pthread_mutex_lock(&b->lock);
		k = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (k >= b->n)
			return NULL;
		s = &b->slots[k];
		if (b->phase == 3) {
			sbuf_reset(&s->out);
			s->ok = format_one(b->o, &s->rm, &s->r, &s->out);
			continue;
		}
		if (s->a == NULL)
			s->a = st_arena_new(0);
		else
			st_arena_reset(s->a);
		if (s->a == NULL) {
			memset(&s->r, 0, sizeof(s->r));
			s->r.error = "out of memory";
			continue;
		}
		analyse_one(b->o, &s->rm, s->a, &s->r, s->errbuf,
		    sizeof(s->errbuf));
		if (b->phase == 13) {
			/* no DNS phase between: format while it is hot */
			sbuf_reset(&s->out);
			s->ok = format_one(b->o, &s->rm, &s->r, &s->out);
		}
	}
}

static void
run_phase(struct batch *b, int jobs)
{
	pthread_t tid[64];
	int t, nt = jobs > 1 ? (jobs > 64 ? 64 : jobs) : 1;

	b->next = 0;
	if ((size_t)nt > b->n)
		nt = (int)b->n;
	for (t = 1; t < nt; t++)
		if (pthread_create(&tid[t], NULL, worker, b) != 0)
			break;
	nt = t;
	worker(b);
	for (t = 1; t < nt; t++)
		pthread_join(tid[t], NULL);
}

/* Phase 2 (--dns): every address of every trace of the batch, looked up
 * concurrently, the results attached to each trace. */
static void
lookup_batch(const struct trace_opts *o, struct batch *b)
{
	struct st_trace *tr[2 * BATCH_MSGS];
	struct st_arena *ar[2 * BATCH_MSGS];
	struct st_error err = { 0 };
	const char *w;
	size_t k, n = 0;
	enum st_status st;

	for (k = 0; k < b->n; k++) {
		struct slot *s = &b->slots[k];

		if (s->r.error != NULL)
			continue;
		tr[n] = &s->r.t;
		ar[n++] = s->a;
		if (s->r.orig) {
			tr[n] = &s->r.ot;
			ar[n++] = s->a;
		}
	}
	st = n ? st_dns_lookup_traces(o->dns, tr, ar, n, &err) : ST_OK;
	if (st != ST_OK && st != ST_ETIMEOUT)
		cli_warn("dns: %s", err.msg);
	while ((w = st_dns_next_warning(o->dns)) != NULL)
		cli_warn("dns: %s", w);
}

/*
 * Without --dns, with several jobs: a pool of threads that lives for the
 * whole PATH and two sets of slots, so that the next batch is read while
 * the pool analyses and formats the current one (the reading thread joins
 * the pool once it has read).  Outputs are still written in input order,
 * batch after batch.
 */
struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a batch was submitted, or quit */
	pthread_cond_t done;	/* the last slot of the batch is done */
	struct batch *cur;	/* the batch being worked on, or NULL */
	size_t	ndone;
	bool	quit;
};

/* Takes one slot of the current batch and does it; false when none left. */
static bool
pool_step(struct pool *pl, bool wait)
{
	struct batch *b;
	struct slot *s;
	size_t k;

	pthread_mutex_lock(&pl->lock);
	for (;;) {
		if (pl->quit) {
			pthread_mutex_unlock(&pl->lock);
			return false;
		}
		if (pl->cur != NULL && pl->cur->next < pl->cur->n)
			break;
		if (!wait) {
			pthread_mutex_unlock(&pl->lock);
			return false;
		}
		pthread_cond_wait(&pl->work, &pl->lock);
	}
	b = pl->cur;
	k = b->next++;
	pthread_mutex_unlock(&pl->lock);

	s = &b->slots[k];
	if (s->a == NULL)
		s->a = st_arena_new(0);
	else
		st_arena_reset(s->a);
	if (s->a == NULL) {
		memset(&s->r, 0, sizeof(s->r));
		s->r.error = "out of memory";
	} else
		analyse_one(b->o, &s->rm, s->a, &s->r, s->errbuf,
		    sizeof(s->errbuf));
	sbuf_reset(&s->out);
	s->ok = format_one(b->o, &s->rm, &s->r, &s->out);

	pthread_mutex_lock(&pl->lock);
	if (++pl->ndone == b->n)
		pthread_cond_signal(&pl->done);
	pthread_mutex_unlock(&pl->lock);
	return true;
}

static void *
pool_worker(void *arg)
{
	struct pool *pl = arg;

	while (pool_step(pl, true))
		;
	return NULL;
}

/*
 * Reads up to one batch of messages of in into slots; sets *more to false
 * at the end of the input (and *rc on a read error).  Returns the count.
 */
static size_t
read_batch(struct st_input *in, const char *path, struct slot *slots,
    bool *more, int *rc)
{
	struct st_rawmsg rm;
	enum st_status st;
	size_t n = 0, bytes = 0;

	while (n < BATCH_MSGS && bytes < BATCH_BYTES) {
		struct slot *s = &slots[n];

		if ((st = st_input_next(in, &rm)) != ST_OK) {
			*more = false;
			if (st != ST_EOF) {
				cli_warn("%s: read error", path);
				*rc = EXIT_PARTIAL;
			}
			break;
		}
		/* the reader's buffer is reused: keep a copy */
		if (rm.len > s->cap) {
			char *nd = realloc(s->data, rm.len);

			if (nd == NULL) {
				rm.error = ST_ENOMEM;
				snprintf(rm.errmsg, sizeof(rm.errmsg),
				    "out of memory");
				rm.len = 0;
			} else {
				s->data = nd;
				s->cap = rm.len;
			}
		}
		if (rm.len)
			memcpy(s->data, rm.data, rm.len);
		s->rm = rm;
		s->rm.data = s->data;
		bytes += rm.len;
		n++;
	}
	return n;
}

/* Writes a finished batch in input order; updates rc and the counters. */
static void
write_batch(struct batch *b, int *rc, uint64_t *nmsg)
{
	size_t k;

	for (k = 0; k < b->n; k++) {
		if (!b->slots[k].ok && *rc == EXIT_OK)
			*rc = EXIT_PARTIAL;
		sbuf_write(&b->slots[k].out, stdout);
	}
	*nmsg += b->n;
}

/* Trace every message of one PATH; returns an exit status. */
static int
trace_path(const struct trace_opts *o, const char *path, struct progress *prog,
    uint64_t *nmsg, uint64_t *bytes_done)
{
	static struct slot slots[2][BATCH_MSGS];
	struct batch b[2];
	struct pool pl;
	pthread_t tid[64];
	struct st_input *in;
	struct st_error err;
	int rc = EXIT_OK, nt = 0, t, cur = 0;
	size_t k;
	bool more = true, pooled = o->dns == NULL && o->jobs > 1;

	if (st_input_open(&in, path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_NOINPUT;
	}
	memset(b, 0, sizeof(b));
	for (k = 0; k < 2; k++) {
		b[k].o = o;
		b[k].slots = slots[k];
		pthread_mutex_init(&b[k].lock, NULL);
	}
	if (pooled) {
		memset(&pl, 0, sizeof(pl));
		pthread_mutex_init(&pl.lock, NULL);
		pthread_cond_init(&pl.work, NULL);
		pthread_cond_init(&pl.done, NULL);
		for (nt = 0; nt < (o->jobs > 64 ? 64 : o->jobs) - 1; nt++)
			if (pthread_create(&tid[nt], NULL, pool_worker, &pl) != 0)
				break;
	}
	if (pooled) {
		b[cur].n = read_batch(in, path, slots[cur], &more, &rc);
		while (b[cur].n > 0) {
			struct batch *bb = &b[cur];

			pthread_mutex_lock(&pl.lock);
			bb->next = 0;
			pl.ndone = 0;
			pl.cur = bb;
			pthread_cond_broadcast(&pl.work);
			pthread_mutex_unlock(&pl.lock);
			/* read the next batch meanwhile, then help */
			b[!cur].n = more ? read_batch(in, path, slots[!cur],
			    &more, &rc) : 0;
			while (pool_step(&pl, false))
				;
			pthread_mutex_lock(&pl.lock);
			while (pl.ndone < bb->n)
				pthread_cond_wait(&pl.done, &pl.lock);
			pl.cur = NULL;
			pthread_mutex_unlock(&pl.lock);
			write_batch(bb, &rc, nmsg);
			progress_update(prog, *nmsg, *bytes_done +
			    st_input_bytes_read(in));
			cur = !cur;
		}
		pthread_mutex_lock(&pl.lock);
		pl.quit = true;
		pthread_cond_broadcast(&pl.work);
		pthread_mutex_unlock(&pl.lock);
		for (t = 0; t < nt; t++)
			pthread_join(tid[t], NULL);
		pthread_cond_destroy(&pl.work);
		pthread_cond_destroy(&pl.done);
		pthread_mutex_destroy(&pl.lock);
	}
	while (!pooled && more) {
		b[0].n = read_batch(in, path, slots[0], &more, &rc);
		if (b[0].n == 0)
			break;
		if (o->dns != NULL) {
			b[0].phase = 1;
			run_phase(&b[0], b[0].n > 1 ? o->jobs : 1);
			lookup_batch(o, &b[0]);
			b[0].phase = 3;
			run_phase(&b[0], b[0].n > 1 ? o->jobs : 1);
		} else {
			b[0].phase = 13;
			run_phase(&b[0], b[0].n > 1 ? o->jobs : 1);
		}
		write_batch(&b[0], &rc, nmsg);
		progress_update(prog, *nmsg, *bytes_done +
		    st_input_bytes_read(in));
	}
	*bytes_done += st_input_bytes_read(in);
	st_input_close(in);
	for (k = 0; k < 2; k++)
		pthread_mutex_destroy(&b[k].lock);
	/* give the batch memory back between paths */
	for (k = 0; k < 2 * BATCH_MSGS; k++) {
		struct slot *s = &slots[k / BATCH_MSGS][k % BATCH_MSGS];

		if (s->cap > 4 * 1024 * 1024) {
			free(s->data);
			s->data = NULL;
			s->cap = 0;
		}
	}
	return rc;
}

int
cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "me", required_argument, NULL, 'm' },
		{ "trust", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "dns", no_argument, NULL, 'D' },
		{ "dnsbl", required_argument, NULL, 'B' },
		{ "resolver", required_argument, NULL, 'R' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct trace_opts o;
	const char *config_path = NULL, *color = "auto";
	struct st_config cl;
	struct st_error err;
	struct progress prog;
	int c, rc = EXIT_OK, i;
	bool want_dns = false;
	uint64_t nmsg = 0, bytes_done = 0;

	memset(&o, 0, sizeof(o));
	st_config_init(&o.cfg);
	st_config_init(&cl);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'm': st_strlist_add(&cl.me, optarg); break;
		case 't':
			if (st_config_add_trust(&cl, optarg, &err) != ST_OK) {
				cli_warn("%s", err.msg);
				return EXIT_USAGE;
			}
			break;
		case 'c': config_path = optarg; break;
		case 'D': want_dns = true; break;
		case 'B': st_strlist_add(&cl.dnsbl, optarg); break;
		case 'R': free(cl.resolver); cl.resolver = strdup(optarg);
			break;
		case 'C': color = optarg ? optarg : "always"; break;
		case 'j': o.jobs = atoi(optarg); break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = cli_load_config(&o.cfg, config_path)) != EXIT_OK)
		return rc;
	/* command-line settings come after the files */
	if (st_config_merge(&o.cfg, &cl) != ST_OK) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	st_config_free(&cl);
	cli_color_setup(o.json ? "never" : color);
	if (want_dns && st_dns_new(&o.dns, &o.cfg, &err) != ST_OK) {
		cli_warn("--dns: %s", err.msg);
		st_config_free(&o.cfg);
		return EXIT_USAGE;
	}

	if (o.jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o.jobs = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
	}
	progress_init(&prog);
	rc = EXIT_OK;
	for (i = optind; i < argc; i++) {
		int r = trace_path(&o, argv[i], &prog, &nmsg, &bytes_done);

		if (r > rc)
			rc = r;
	}
	progress_done(&prog);
	fflush(stdout);
	if (o.dns != NULL)
		st_dns_free(o.dns);
	st_config_free(&o.cfg);
	return rc;
}
