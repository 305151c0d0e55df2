/*
 * cmd_bounces.c - "spamtrace bounces": read every message, tell bounces
 * from the rest, read each bounce (recipients, status, reason), trace the
 * bounced original with the bouncing system trusted, say whether the user
 * really sent it (backscatter or genuine), and sum up the campaign.
 *
 * Two passes over the input: the first learns what the user's own mail
 * looks like (the mailbox's address, the user's provider and Message-ID
 * domains, from the bounces that plainly are genuine), the second writes
 * one record per message, in input order, then the summary.  Standard
 * input is spooled to a temporary file so that it can be read twice.
 * Messages are read in batches (bounded in count and bytes) and worked
 * on by -j threads (default: one per core), each message in its own slot
 * with its own arena; what must follow input order happens in the main
 * thread after each batch: the learning (pass 1), and adding each record
 * to the campaign and writing it out (pass 2).  The verdict itself
 * (st_campaign_judge) only reads what pass 1 learnt, so the output is
 * the same whatever the number of threads.  Memory stays bounded: one
 * batch at a time; the summary grows with distinct origins and days only.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out_bounces.h"

struct bopts {
	bool	json;
	const char *html;
	struct st_config cfg;
	struct st_campaign *camp;
	const char *spool;	/* temp file holding standard input */
	int	jobs;		/* worker threads */
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace bounces [--json] [--html FILE] [--me ADDR]... "
	    "[--config FILE]\n"
	    "                         [--color=auto|always|never] [-j N] "
	    "PATH...\n"
	    "PATH: a message, an mbox, a Maildir, a directory, or - for "
	    "standard input.\n", f);
}

/* Copy standard input into a temporary file; its path, or NULL. */
static char *
spool_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	char buf[65536];
	size_t n;
	int fd;
	FILE *f;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((path = malloc(strlen(dir) + 32)) == NULL)
		return NULL;
	sprintf(path, "%s/spamtrace-stdin-XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "wb")) == NULL) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, f) != n) {
			fclose(f);
			unlink(path);
			free(path);
			return NULL;
		}
	if (fclose(f) != 0) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/*
 * One message of a batch: its bytes (the reader's buffer is reused, so a
 * copy), its arena, and what the workers leave for the main thread.
 */
struct slot {
	struct st_rawmsg rm;
	char   *data;
	size_t	cap;
	const char *shown;	/* the path as the user named it */
	struct st_arena *a;
	struct st_msg m, om;
	struct st_bounce b;
	struct st_trace t;
	struct st_error err;
	/* pass 1 */
	bool	learn, learn_t;	/* learn from b (and t) */
	/* pass 2 */
	struct bounce_rec r;
	struct sbuf out;
};

#define BATCH_MSGS	128
#define BATCH_BYTES	(16u * 1024 * 1024)

struct batch {
	struct bopts *o;
	struct slot *slots;
	size_t	n;
	size_t	next;		/* next slot to take (under lock) */
	bool	learning;
	pthread_mutex_t lock;
};

/* Pass 1, in a worker: what the user's own mail looks like. */
static void
learn_one(struct slot *s)
{
	s->learn = s->learn_t = false;
	if (s->rm.error != ST_OK || st_msg_parse(&s->m, s->a, s->rm.data,
	    s->rm.len) != ST_OK || s->m.nhdrs == 0)
		return;
	if (st_bounce_parse_ex(&s->m, &s->b, ST_BOUNCE_QUICK, NULL) != ST_OK)
		return;
	if (s->b.kind == ST_BOUNCE_NONE)
		return;
	s->learn = true;
	s->learn_t = s->b.orig != NULL && st_bounce_hops_original(&s->m,
	    &s->b, &s->om, &s->t) == ST_OK;
}

/* Pass 2, in a worker: the record of one message. */
static void
bounce_one(struct bopts *o, struct slot *s)
{
	struct bounce_rec *r = &s->r;

	memset(r, 0, sizeof(*r));
	memset(&s->t, 0, sizeof(s->t));
	memset(&s->err, 0, sizeof(s->err));
	r->rm = &s->rm;
	r->path = s->shown;
	r->backscatter = -1;
	r->t = &s->t;
	if (s->rm.error != ST_OK)
		r->error = s->rm.errmsg;
	else if (st_msg_parse(&s->m, s->a, s->rm.data, s->rm.len) != ST_OK)
		r->error = "message too complex: memory limit reached";
	else if (s->m.nhdrs == 0)
		r->error = (s->m.defects & ST_MSG_DEFECT_NO_HEADERS) ?
		    "no header fields (first line is not a header): not a "
		    "mail message" : "no header fields: not a mail message";
	else if (st_bounce_parse(&s->m, &s->b, &s->err) != ST_OK)
		r->error = s->err.msg[0] ? s->err.msg :
		    "bounce could not be read";
	if (r->error == NULL) {
		r->b = &s->b;
		if (s->b.orig != NULL) {
			r->have_orig = true;
			if (st_bounce_trace_original(&s->m, &s->b, &o->cfg,
			    &s->om, &s->t, &s->err) == ST_OK)
				r->orig_ok = true;
			else
				r->orig_error = st_arena_strdup(s->a,
				    s->err.msg);
		}
		r->backscatter = st_campaign_judge(o->camp, s->a, &s->b,
		    r->orig_ok ? &s->t : NULL, &r->why);
	}
	sbuf_reset(&s->out);
	if (o->json)
		out_bounce_json(&s->out, r);
	else
		out_bounce_text(&s->out, r);
}

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
		if (s->a == NULL)
			s->a = st_arena_new(0);
		else
			st_arena_reset(s->a);
		if (s->a == NULL) {
			/* no arena: the record says so, nothing else */
			s->learn = false;
			s->rm.error = ST_ENOMEM;
			snprintf(s->rm.errmsg, sizeof(s->rm.errmsg),
			    "out of memory");
			if (!b->learning) {
				memset(&s->r, 0, sizeof(s->r));
				s->r.rm = &s->rm;
				s->r.path = s->shown;
				s->r.error = s->rm.errmsg;
				s->r.backscatter = -1;
				sbuf_reset(&s->out);
				if (b->o->json)
					out_bounce_json(&s->out, &s->r);
				else
					out_bounce_text(&s->out, &s->r);
			}
			continue;
		}
		if (b->learning)
			learn_one(s);
		else
			bounce_one(b->o, s);
	}
}

static void
run_batch(struct batch *b, int jobs)
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

/* In the main thread, in input order: what must not depend on which
 * thread finished first. */
static void
finish_batch(struct batch *b, struct bopts *o, int *rc)
{
	size_t k;

	for (k = 0; k < b->n; k++) {
		struct slot *s = &b->slots[k];
		struct st_campaign_item it;

		if (b->learning) {
			if (s->learn)
				st_campaign_learn(o->camp, &s->b,
				    s->learn_t ? &s->t : NULL);
			continue;
		}
		memset(&it, 0, sizeof(it));
		it.path = s->shown;
		it.index = s->rm.index;
		it.unreadable = s->r.error != NULL;
		it.b = s->r.b;
		it.orig = s->r.orig_ok ? &s->t : NULL;
		it.backscatter = s->r.backscatter;
		st_campaign_add(o->camp, s->a, &it);
		sbuf_write(&s->out, stdout);
		if (s->r.error != NULL) {
			cli_warn("%s: message %zu: %s", s->shown, s->rm.index,
			    s->r.error);
			if (*rc == EXIT_OK)
				*rc = EXIT_PARTIAL;
		}
	}
}

/* Run one pass over every PATH; returns the exit status so far. */
static int
run_pass(struct bopts *o, int argc, char **argv, int first, bool learning)
{
	static struct slot slots[BATCH_MSGS];
	struct progress prog;
	uint64_t nmsg = 0, bytes_done = 0;
	int i, rc = EXIT_OK;
	struct st_error err;
	struct batch b;
	size_t k;

	memset(&b, 0, sizeof(b));
	b.o = o;
	b.slots = slots;
	b.learning = learning;
	pthread_mutex_init(&b.lock, NULL);
	progress_init(&prog);
	for (i = first; i < argc; i++) {
		struct st_input *in;
		struct st_rawmsg rm;
		enum st_status st = ST_OK;
		bool is_stdin = strcmp(argv[i], "-") == 0, more = true;
		const char *p = is_stdin ? o->spool : argv[i];

		if (p == NULL)
			continue;
		if (st_input_open(&in, p, &err) != ST_OK) {
			if (!learning)
				cli_warn("%s", err.msg);
			rc = EXIT_NOINPUT;
			continue;
		}
		while (more) {
			size_t bytes = 0;

			b.n = 0;
			while (b.n < BATCH_MSGS && bytes < BATCH_BYTES) {
				struct slot *s = &slots[b.n];

				if ((st = st_input_next(in, &rm)) != ST_OK) {
					more = false;
					break;
				}
				if (rm.len > s->cap) {
					char *nd = realloc(s->data, rm.len);

					if (nd == NULL) {
						rm.error = ST_ENOMEM;
						snprintf(rm.errmsg,
						    sizeof(rm.errmsg),
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
				/* the reader's path may be reused too */
				s->shown = is_stdin ? "-" : rm.path;
				bytes += rm.len;
				b.n++;
			}
			if (b.n == 0)
				break;
			run_batch(&b, b.n > 1 ? o->jobs : 1);
			finish_batch(&b, o, &rc);
			nmsg += b.n;
			progress_update(&prog, nmsg,
			    bytes_done + st_input_bytes_read(in));
		}
		bytes_done += st_input_bytes_read(in);
		if (st != ST_EOF) {
			if (!learning)
				cli_warn("%s: read error", argv[i]);
			if (rc == EXIT_OK)
				rc = EXIT_PARTIAL;
		}
		st_input_close(in);
	}
	progress_done(&prog);
	pthread_mutex_destroy(&b.lock);
	/* give the batch memory back after the pass */
	for (k = 0; k < BATCH_MSGS; k++) {
		if (slots[k].cap > 4 * 1024 * 1024) {
			free(slots[k].data);
			slots[k].data = NULL;
			slots[k].cap = 0;
		}
		if (!learning) {
			sbuf_free(&slots[k].out);
			if (slots[k].a != NULL)
				st_arena_free(slots[k].a);
			slots[k].a = NULL;
			free(slots[k].data);
			slots[k].data = NULL;
			slots[k].cap = 0;
		}
	}
	return rc;
}

int
cmd_bounces(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "html", required_argument, NULL, 'H' },
		{ "me", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bopts o;
	const char *config_path = NULL, *color = "auto";
	struct st_strlist me = { 0 };
	struct sbuf out = { 0 };
	int c, rc, i, nstdin = 0;
	char *spool = NULL;

	memset(&o, 0, sizeof(o));
	st_config_init(&o.cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'H': o.html = optarg; break;
		case 'm': st_strlist_add(&me, optarg); break;
		case 'c': config_path = optarg; break;
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
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			nstdin++;
	if (nstdin > 1) {
		cli_warn("bounces: standard input can be named only once");
		return EXIT_USAGE;
	}
	if ((rc = cli_load_config(&o.cfg, config_path)) != EXIT_OK)
		return rc;
	for (i = 0; i < (int)me.n; i++)
		st_strlist_add(&o.cfg.me, me.v[i]);
	for (i = 0; i < (int)me.n; i++)
		free(me.v[i]);
	free(me.v);
	cli_color_setup(o.json ? "never" : color);
	st_library_init();
	if (o.jobs <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o.jobs = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
	}

	if (nstdin) {
		if ((spool = spool_stdin()) == NULL) {
			cli_warn("-: cannot keep standard input in a temporary "
			    "file: %s", strerror(errno));
			return EXIT_NOINPUT;
		}
		o.spool = spool;
	}
	if ((o.camp = st_campaign_new(&o.cfg)) == NULL) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	run_pass(&o, argc, argv, optind, true);
	st_campaign_learn_done(o.camp);
	rc = run_pass(&o, argc, argv, optind, false);
	{
		const struct st_campaign_summary *s =
		    st_campaign_result(o.camp);

		if (o.json)
			out_bounces_summary_json(&out, s);
		else
			out_bounces_summary_text(&out, s);
		sbuf_write(&out, stdout);
		if (o.html != NULL && out_bounces_html(o.html, s,
		    argc - optind == 1 ? argv[optind] : "mailbox") != 0) {
			cli_warn("%s: cannot write the HTML report: %s",
			    o.html, strerror(errno));
			if (rc == EXIT_OK)
				rc = EXIT_PARTIAL;
		}
	}
	fflush(stdout);
	if (spool != NULL) {
		unlink(spool);
		free(spool);
	}
	sbuf_free(&out);
	st_campaign_free(o.camp);
	st_config_free(&o.cfg);
	return rc;
}
