/*
 * cmd_bounces.c - "spamtrace bounces": read every message, tell bounces
 * from the rest, read each bounce (recipients, status, reason), trace the
 * bounced original with the bouncing system trusted, say whether the user
 * really sent it (backscatter or genuine), and sum up the campaign.
 *
 * One pass over the input.  The verdict needs what the whole mailbox
 * says about the user's own mail (the mailbox's address, the user's
 * provider and Message-ID domains, learnt from the bounces that plainly
 * are genuine), so each message is read once, its record written out
 * with a hole where the verdict goes, and spooled, with the few facts the
 * verdict and the summary need (struct st_campaign_facts), to an unlinked
 * temporary file in $TMPDIR.  After the pass the campaign has learnt
 * everything; the spool is read back in input order, each verdict is
 * judged from its facts and written into its hole, and each message is
 * added to the summary.  The output is what two passes over the input
 * (learn, then judge) would give, and the input is read only once, so
 * standard input needs no copy.
 *
 * Messages go through the ordered pool of pool.h: read in batches
 * (bounded in count and bytes) and worked on by -j threads (default: one
 * per core), each message in its own slot with its own arena; what must
 * follow input order happens in the main thread as each batch is handed
 * back: the learning, the warnings and the spooling.  Memory stays
 * bounded: two batches at a time, one record at a time when
 * reading back; the spool grows with the output on disk; the summary
 * grows with distinct origins and days only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out_bounces.h"
#include "pool.h"

struct bopts {
	bool	json;
	const char *html;
	struct st_config cfg;
	struct st_campaign *camp;
	int	jobs;		/* threads */
	FILE   *spool;		/* the records, until the verdicts are known */
	bool	spool_err;
	bool	is_stdin;	/* the PATH being read is - */
	int	rc;		/* the exit status so far */
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

/* An unlinked temporary file in dir, or NULL. */
static FILE *
spool_open_in(const char *dir)
{
	char *path;
	int fd;
	FILE *f = NULL;

	size_t pn = strlen(dir) + 32;

	if ((path = malloc(pn)) == NULL)
		return NULL;
	snprintf(path, pn, "%s/spamtrace-bounces-XXXXXX", dir);
	if ((fd = mkstemp(path)) >= 0) {
		unlink(path);
		if ((f = fdopen(fd, "w+b")) == NULL)
			close(fd);
	}
	free(path);
	if (f != NULL)
		setvbuf(f, NULL, _IOFBF, 1u << 20);
	return f;
}

/* The spool: in $TMPDIR, else /tmp, else /var/tmp; NULL (errno set). */
static FILE *
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	FILE *f = NULL;
	int e = 0;

	if (dir != NULL && *dir != '\0') {
		if ((f = spool_open_in(dir)) != NULL)
			return f;
		e = errno;
	}
	if ((f = spool_open_in("/tmp")) == NULL &&
	    (f = spool_open_in("/var/tmp")) == NULL && e != 0)
		errno = e;
	return f;
}

/* --- the spool record --------------------------------------------------------
 * Native byte order (the file lives only as long as the process):
 *	uint64 outlen, verdict_at, factslen; out bytes; facts bytes.
 * The facts: flags, then fixed-width numbers, then NUL-terminated
 * strings, then per hop two flags and three strings. */

struct rec_head {
	uint64_t outlen, verdict_at, factslen;
};

static void
put_u64(struct st_buf *b, uint64_t v)
{
	st_buf_put(b, (const char *)&v, sizeof(v));
}

static void
put_str(struct st_buf *b, const char *s)
{
	if (s == NULL)
		s = "";
	st_buf_put(b, s, strlen(s) + 1);
}

static void
facts_pack(struct st_buf *b, const struct st_campaign_facts *f)
{
	char fl[7];
	size_t i;

	fl[0] = (char)f->unreadable;
	fl[1] = (char)f->kind;
	fl[2] = (char)f->has_orig;
	fl[3] = (char)f->has_arrival;
	fl[4] = (char)f->has_origin;
	fl[5] = (char)(f->irt_org != NULL);
	fl[6] = (char)(f->msgid_org != NULL);
	st_buf_put(b, fl, sizeof(fl));
	put_u64(b, (uint64_t)f->arrival);
	put_u64(b, (uint64_t)f->index);
	put_u64(b, (uint64_t)f->nhops);
	put_str(b, f->own);
	put_str(b, f->own_org);
	put_str(b, f->irt_org);
	put_str(b, f->from_addr);
	put_str(b, f->return_path);
	put_str(b, f->from_org);
	put_str(b, f->rp_org);
	put_str(b, f->msgid_org);
	put_str(b, f->reason0);
	put_str(b, f->rcpt0);
	put_str(b, f->origin_ip);
	put_str(b, f->origin_host);
	put_str(b, f->subject);
	put_str(b, f->path);
	for (i = 0; i < f->nhops; i++) {
		const struct st_campaign_hopfacts *h = &f->hops[i];

		fl[0] = (char)h->has_by;
		fl[1] = (char)h->cfg_mine;
		st_buf_put(b, fl, 2);
		put_str(b, h->org_by);
		put_str(b, h->org_rdns);
		put_str(b, h->org_helo);
	}
}

struct reader {
	const char *p, *e;
	bool	bad;
};

static void
get(struct reader *r, void *v, size_t n)
{
	if (r->bad || (size_t)(r->e - r->p) < n) {
		r->bad = true;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->p, n);
	r->p += n;
}

static const char *
get_str(struct reader *r)
{
	const char *s = r->p, *z;

	if (r->bad || (z = memchr(r->p, '\0', (size_t)(r->e - r->p))) ==
	    NULL) {
		r->bad = true;
		return "";
	}
	r->p = z + 1;
	return s;
}

/* The facts of one record; the strings point into buf, the hops into
 * *hops (grown as needed).  false when the record is damaged. */
static bool
facts_unpack(const char *buf, size_t len, struct st_campaign_facts *f,
    struct st_campaign_hopfacts **hops, size_t *caphops)
{
	struct reader r = { buf, buf + len, false };
	char fl[7];
	uint64_t v;
	size_t i;

	memset(f, 0, sizeof(*f));
	get(&r, fl, sizeof(fl));
	f->unreadable = fl[0] != 0;
	f->kind = (enum st_bounce_kind)fl[1];
	f->has_orig = fl[2] != 0;
	f->has_arrival = fl[3] != 0;
	f->has_origin = fl[4] != 0;
	get(&r, &v, sizeof(v));
	f->arrival = (int64_t)v;
	get(&r, &v, sizeof(v));
	f->index = (size_t)v;
	get(&r, &v, sizeof(v));
	if (r.bad || v > len)
		return false;
	f->nhops = (size_t)v;
	f->own = get_str(&r);
	f->own_org = get_str(&r);
	f->irt_org = get_str(&r);
	f->from_addr = get_str(&r);
	f->return_path = get_str(&r);
	f->from_org = get_str(&r);
	f->rp_org = get_str(&r);
	f->msgid_org = get_str(&r);
	f->reason0 = get_str(&r);
	f->rcpt0 = get_str(&r);
	f->origin_ip = get_str(&r);
	f->origin_host = get_str(&r);
	f->subject = get_str(&r);
	f->path = get_str(&r);
	if (!fl[5])
		f->irt_org = NULL;
	if (!fl[6])
		f->msgid_org = NULL;
	if (f->nhops > *caphops) {
		struct st_campaign_hopfacts *nh = realloc(*hops,
		    f->nhops * sizeof(*nh));

		if (nh == NULL)
			return false;
		*hops = nh;
		*caphops = f->nhops;
	}
	f->hops = *hops;
	for (i = 0; i < f->nhops; i++) {
		struct st_campaign_hopfacts *h = &f->hops[i];

		get(&r, fl, 2);
		h->has_by = fl[0] != 0;
		h->cfg_mine = fl[1] != 0;
		h->org_by = get_str(&r);
		h->org_rdns = get_str(&r);
		h->org_helo = get_str(&r);
	}
	return !r.bad;
}

/* What the pool (pool.h) keeps of one message for the main thread. */
struct item {
	const char *shown;	/* the path as the user named it */
	struct st_msg m, om;
	struct st_bounce b;
	struct st_trace t;
	struct st_error err;
	struct bounce_rec r;
	struct st_campaign_facts f;
	struct st_buf out;	/* the record, verdict left out */
	struct st_buf facts;	/* f, packed for the spool */
};

#define BATCH_BYTES	(16u * 1024 * 1024)

/* Render the record (its verdict deferred) and keep its facts. */
static void
finish_one(struct bopts *o, struct pool_msg *pm)
{
	struct item *s = pm->item;
	struct bounce_rec *r = &s->r;
	struct st_campaign_item it;

	r->defer = r->error == NULL;
	st_buf_reset(&s->out);
	if (o->json)
		out_bounce_json(&s->out, r);
	else
		out_bounce_text(&s->out, r);
	memset(&it, 0, sizeof(it));
	it.path = s->shown;
	it.index = pm->rm.index;
	it.unreadable = r->error != NULL;
	it.b = r->b;
	it.orig = r->orig_ok ? &s->t : NULL;
	/* on ENOMEM the facts made so far stand (an original without its
	 * hops, at worst) */
	(void)st_campaign_facts_make(&o->cfg, pm->a, &it, &s->f);
	st_buf_reset(&s->facts);
	facts_pack(&s->facts, &s->f);
}

/* In a worker: the record of one message. */
static void
bounce_one(void *ctx, struct pool_msg *pm)
{
	struct bopts *o = ctx;
	struct item *s = pm->item;
	struct bounce_rec *r = &s->r;

	memset(r, 0, sizeof(*r));
	memset(&s->t, 0, sizeof(s->t));
	memset(&s->err, 0, sizeof(s->err));
	/* the reader's path (stable while the input is open) */
	s->shown = o->is_stdin ? "-" : pm->rm.path;
	r->rm = &pm->rm;
	r->path = s->shown;
	r->backscatter = -1;
	r->t = &s->t;
	if (pm->a == NULL) {
		/* no arena: the record says so, nothing else */
		pm->rm.error = ST_ENOMEM;
		snprintf(pm->rm.errmsg, sizeof(pm->rm.errmsg),
		    "out of memory");
		r->error = pm->rm.errmsg;
		r->t = NULL;
		finish_one(o, pm);
		return;
	}
	if (pm->rm.error != ST_OK)
		r->error = pm->rm.errmsg;
	else if (st_msg_parse(&s->m, pm->a, pm->rm.data, pm->rm.len) != ST_OK)
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
				r->orig_error = st_arena_strdup(pm->a,
				    s->err.msg);
		}
	}
	finish_one(o, pm);
}

/* In the main thread, in input order: learn, warn, spool. */
static void
spool_one(void *ctx, struct pool_msg *pm)
{
	struct bopts *o = ctx;
	struct item *s = pm->item;
	struct rec_head h;

	st_campaign_learn_facts(o->camp, &s->f);
	cli_buf_check(&s->out);
	cli_buf_check(&s->facts);
	h.outlen = s->out.len;
	h.verdict_at = s->r.verdict_at == SIZE_MAX ? UINT64_MAX :
	    (uint64_t)s->r.verdict_at;
	h.factslen = s->facts.len;
	if (fwrite(&h, sizeof(h), 1, o->spool) != 1 ||
	    (s->out.len && fwrite(s->out.p, 1, s->out.len,
	    o->spool) != s->out.len) ||
	    (s->facts.len && fwrite(s->facts.p, 1, s->facts.len,
	    o->spool) != s->facts.len))
		o->spool_err = true;
	if (s->r.error != NULL) {
		cli_warn("%s: message %zu: %s", s->shown, pm->rm.index,
		    s->r.error);
		if (o->rc == EXIT_OK)
			o->rc = EXIT_PARTIAL;
	}
}

static void
free_item(void *item)
{
	struct item *s = item;

	st_buf_free(&s->out);
	st_buf_free(&s->facts);
}

/* Read the spool back in input order: judge each record, write it with
 * its verdict, add it to the summary.  false on a damaged spool. */
static bool
replay(struct bopts *o)
{
	struct st_buf buf = { 0 }, v = { 0 };
	struct st_campaign_hopfacts *hops = NULL;
	size_t caphops = 0;
	struct rec_head h;
	bool ok = true;

	st_campaign_learn_done(o->camp);
	if (fflush(o->spool) != 0 || fseek(o->spool, 0, SEEK_SET) != 0)
		return false;
	while (fread(&h, sizeof(h), 1, o->spool) == 1) {
		struct st_campaign_facts f;
		const char *why = NULL;
		size_t n;
		int bs;

		if (h.outlen > SIZE_MAX / 2 || h.factslen > SIZE_MAX / 2 ||
		    (h.verdict_at != UINT64_MAX && h.verdict_at > h.outlen)) {
			ok = false;
			break;
		}
		n = (size_t)(h.outlen + h.factslen);
		st_buf_reset(&buf);
		if (!st_buf_reserve(&buf, n))
			cli_buf_check(&buf);	/* out of memory: exits */
		if (n > 0 && fread(buf.p, 1, n, o->spool) != n) {
			ok = false;
			break;
		}
		if (!facts_unpack(buf.p + h.outlen, (size_t)h.factslen, &f,
		    &hops, &caphops)) {
			ok = false;
			break;
		}
		bs = st_campaign_judge_facts(o->camp, &f, &why);
		if (h.verdict_at == UINT64_MAX)
			fwrite(buf.p, 1, (size_t)h.outlen, stdout);
		else {
			st_buf_reset(&v);
			if (o->json)
				out_bounce_verdict_json(&v, bs, why);
			else
				out_bounce_verdict_text(&v, bs);
			cli_buf_check(&v);
			fwrite(buf.p, 1, (size_t)h.verdict_at, stdout);
			fwrite(v.p, 1, v.len, stdout);
			fwrite(buf.p + h.verdict_at, 1,
			    (size_t)(h.outlen - h.verdict_at), stdout);
		}
		st_campaign_add_facts(o->camp, &f, bs);
	}
	if (ferror(o->spool))
		ok = false;
	st_buf_free(&buf);
	st_buf_free(&v);
	free(hops);
	return ok;
}

/* The one pass over every PATH; returns the exit status so far. */
static int
run_pass(struct bopts *o, int argc, char **argv, int first)
{
	static const struct pool_ops ops = {
		.item_size = sizeof(struct item),
		.batch_bytes = BATCH_BYTES,
		.work = bounce_one,
		.done = spool_one,
		.item_free = free_item,
	};
	struct progress prog;
	struct pool *pl;
	int i;

	o->rc = EXIT_OK;
	if ((pl = pool_new(&ops, o, o->jobs)) == NULL) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	progress_init(&prog);
	for (i = first; i < argc; i++) {
		int r;

		o->is_stdin = strcmp(argv[i], "-") == 0;
		if ((r = pool_run(pl, argv[i], &prog)) > o->rc)
			o->rc = r;
	}
	progress_done(&prog);
	pool_free(pl);
	return o->rc;
}

int
cmd_bounces(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "html", required_argument, NULL, 'H' },
		{ "me", required_argument, NULL, 'm' },
		{ "jobs", required_argument, NULL, 'j' },
		CLI_OPTS_LONG_END
	};
	struct bopts o;
	struct cli_opts co;
	struct st_buf out = { 0 };
	int c, rc, i, nstdin = 0;

	memset(&o, 0, sizeof(o));
	st_config_init(&o.cfg);
	cli_opts_init(&co, usage);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'H': o.html = optarg; break;
		default:
			if ((rc = cli_opts_take(&co, c, optarg)) != CLI_GO_ON)
				return rc;
		}
	}
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			nstdin++;
	if (nstdin > 1) {
		cli_warn("bounces: standard input can be named only once");
		return EXIT_USAGE;
	}
	if ((rc = cli_opts_finish(&co, argc, &o.cfg)) != EXIT_OK)
		return rc;
	o.jobs = co.jobs;
	cli_color_setup(o.json ? "never" : co.color);
	st_library_init();

	if ((o.spool = spool_open()) == NULL) {
		cli_warn("cannot create a temporary file (TMPDIR, /tmp): %s",
		    strerror(errno));
		st_config_free(&o.cfg);
		return EXIT_NOINPUT;
	}
	if ((o.camp = st_campaign_new(&o.cfg)) == NULL) {
		cli_warn("out of memory");
		fclose(o.spool);
		st_config_free(&o.cfg);
		return EXIT_PARTIAL;
	}
	rc = run_pass(&o, argc, argv, optind);
	if (o.spool_err || !replay(&o)) {
		/* the records cannot be given whole: say so, no summary */
		cli_warn("cannot keep the records in a temporary file "
		    "(TMPDIR): %s", strerror(errno));
		fflush(stdout);
		fclose(o.spool);
		st_campaign_free(o.camp);
		st_config_free(&o.cfg);
		return EXIT_PARTIAL;
	}
	fclose(o.spool);
	{
		const struct st_campaign_summary *s =
		    st_campaign_result(o.camp);

		if (o.json)
			out_bounces_summary_json(&out, s);
		else
			out_bounces_summary_text(&out, s);
		cli_buf_write(&out, stdout);
		if (o.html != NULL && out_bounces_html(o.html, s,
		    argc - optind == 1 ? argv[optind] : "mailbox") != 0) {
			cli_warn("%s: cannot write the HTML report: %s",
			    o.html, strerror(errno));
			if (rc == EXIT_OK)
				rc = EXIT_PARTIAL;
		}
	}
	fflush(stdout);
	st_buf_free(&out);
	st_campaign_free(o.camp);
	st_config_free(&o.cfg);
	return rc;
}
