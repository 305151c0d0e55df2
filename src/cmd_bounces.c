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
 * Messages go through the ordered pool of pool.h: read into a ring of
 * slots (bounded in count and bytes) and worked on by -j threads (default:
 * one per core), each message in its own slot.  A worker makes the whole
 * spool record; as each message is handed back, in input order, the main
 * thread warns and copies its record into a run; each run goes to the
 * spool and to the learning in a worker, one run after the other.
 * Reading back, a worker judges a run of records and adds them to the
 * summary while the main thread writes out the run before.  The campaign
 * is only ever used by one thread at a time, in input order.  Memory
 * stays bounded: the ring, two runs of records; the spool grows with the
 * output on disk; the summary grows with distinct origins and days only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out_bounces.h"
#include "pool.h"

/* A run of spool records handed back, for the spool and the learning. */
struct run {
	struct bopts *o;
	struct st_buf buf;		/* whole spool records */
	struct st_campaign_hopfacts *hops;
	size_t	caphops;
};

struct bopts {
	bool	json;
	const char *html;
	struct st_config cfg;
	struct st_campaign *camp;
	int	jobs;		/* threads */
	struct pool *pl;
	FILE   *spool;		/* the records, until the verdicts are known:
				 * written with write(2), read back with
				 * stdio */
	bool	spool_err;
	int	spool_errno;	/* the worker's errno when it failed */
	struct run runs[2];	/* one filled while the other is written */
	int	currun;
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
	return f;
}

/* The spool's buffer: the records go to the file and come back in big
 * reads and writes (glibc ignores setvbuf's size without a buffer, and
 * uses 4 KiB). */
#define SPOOL_BUF	(1u << 20)
static char spool_buf[SPOOL_BUF];

/* The spool: in $TMPDIR, else /tmp, else /var/tmp; NULL (errno set). */
static FILE *
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	FILE *f = NULL;
	int e = 0;

	if (dir != NULL && *dir != '\0' &&
	    (f = spool_open_in(dir)) == NULL)
		e = errno;
	if (f == NULL && (f = spool_open_in("/tmp")) == NULL &&
	    (f = spool_open_in("/var/tmp")) == NULL && e != 0)
		errno = e;
	if (f != NULL)
		setvbuf(f, spool_buf, _IOFBF, sizeof(spool_buf));
	return f;
}

/* --- the spool record --------------------------------------------------------
 * Native byte order (the file lives only as long as the process):
 *	uint64 outlen, verdict_at, factslen; out bytes; facts bytes.
 * verdict_at counts from the start of the out bytes.
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
	struct st_buf rec;	/* its spool record: head, the record
				 * (verdict left out), the facts packed */
};

#define BATCH_BYTES	(16u * 1024 * 1024)

/* Render the record (its verdict deferred), make its facts, and the whole
 * spool record of both: the main thread only appends it. */
static void
finish_one(struct bopts *o, struct pool_msg *pm)
{
	struct item *s = pm->item;
	struct bounce_rec *r = &s->r;
	struct st_campaign_item it;
	struct rec_head h;
	size_t outlen;

	r->defer = r->error == NULL;
	st_buf_reset(&s->rec);
	memset(&h, 0, sizeof(h));
	st_buf_put(&s->rec, (const char *)&h, sizeof(h));
	if (o->json)
		out_bounce_json(&s->rec, r);
	else
		out_bounce_text(&s->rec, r);
	outlen = s->rec.len - sizeof(h);
	memset(&it, 0, sizeof(it));
	it.path = s->shown;
	it.index = pm->rm.index;
	it.unreadable = r->error != NULL;
	it.b = r->b;
	it.orig = r->orig_ok ? &s->t : NULL;
	/* on ENOMEM the facts made so far stand (an original without its
	 * hops, at worst) */
	(void)st_campaign_facts_make(&o->cfg, pm->a, &it, &s->f);
	facts_pack(&s->rec, &s->f);
	if (s->rec.failed)
		return;		/* the main thread says so */
	h.outlen = outlen;
	/* the writers count verdict_at in the buffer, after the head */
	h.verdict_at = r->verdict_at == SIZE_MAX ? UINT64_MAX :
	    (uint64_t)(r->verdict_at - sizeof(h));
	h.factslen = s->rec.len - sizeof(h) - outlen;
	memcpy(s->rec.p, &h, sizeof(h));
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

/*
 * The records go to the spool, and their facts to the learning, a run at
 * a time, in a worker (pool_async): the main thread only copies each
 * record into the current run.  A run is about RUN_BYTES.
 */
#define RUN_BYTES	(1u << 20)

/* All of p to fd; false (errno set) on an error. */
static bool
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* In a worker, one run at a time, in input order: write (at once, not
 * through stdio's buffer: no copy), learn. */
static void
run_spool(void *arg)
{
	struct run *r = arg;
	struct bopts *o = r->o;
	size_t at = 0;

	if (!o->spool_err && !write_all(fileno(o->spool), r->buf.p,
	    r->buf.len)) {
		o->spool_errno = errno;
		o->spool_err = true;
	}
	while (at < r->buf.len) {
		struct st_campaign_facts f;
		struct rec_head h;

		memcpy(&h, r->buf.p + at, sizeof(h));
		at += sizeof(h) + (size_t)h.outlen;
		if (!facts_unpack(r->buf.p + at, (size_t)h.factslen, &f,
		    &r->hops, &r->caphops)) {
			o->spool_errno = ENOMEM;
			o->spool_err = true;
		} else
			st_campaign_learn_facts(o->camp, &f);
		at += (size_t)h.factslen;
	}
	st_buf_reset(&r->buf);
	if (r->buf.cap > 4 * RUN_BYTES)
		st_buf_free(&r->buf);	/* a huge record's room */
}

/* The run being filled to the worker; returns when the run before is
 * done with. */
static void
run_submit(struct bopts *o)
{
	pool_async(o->pl, run_spool, &o->runs[o->currun]);
	o->currun = !o->currun;
}

static void
runs_free(struct bopts *o)
{
	int i;

	for (i = 0; i < 2; i++) {
		st_buf_free(&o->runs[i].buf);
		free(o->runs[i].hops);
	}
}

/* In the main thread, in input order: spool (and learn), warn. */
static void
spool_one(void *ctx, struct pool_msg *pm)
{
	struct bopts *o = ctx;
	struct item *s = pm->item;
	struct run *r = &o->runs[o->currun];

	cli_buf_check(&s->rec);
	st_buf_put(&r->buf, s->rec.p, s->rec.len);
	cli_buf_check(&r->buf);
	if (r->buf.len >= RUN_BYTES)
		run_submit(o);
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

	st_buf_free(&s->rec);
}

/*
 * The spool is read back in runs of records (chunks): while the main
 * thread writes out the records of one chunk and reads the next, a worker
 * (pool_async) judges the records of that next chunk and adds them to the
 * summary, in order, so that the campaign is only ever touched by one
 * thread at a time.  Memory: two chunks.
 */
#define CHUNK_BYTES	(1u << 20)
#define CHUNK_RECS	1024

struct chunk {
	struct bopts *o;
	struct st_buf buf;		/* the records, heads included */
	size_t	nrec;
	size_t	at[CHUNK_RECS];		/* where each record's head is */
	/* the worker's: */
	size_t	nok;			/* records judged; fewer than nrec:
					 * the next is damaged */
	signed char bs[CHUNK_RECS];	/* the verdicts */
	const char *why[CHUNK_RECS];	/* static strings */
	struct st_campaign_hopfacts *hops;
	size_t	caphops;
};

/* Reads the next records of the spool into ch; false when the spool is
 * damaged (the records read before it stand). */
static bool
chunk_read(struct chunk *ch, FILE *spool)
{
	struct rec_head h;

	ch->nrec = 0;
	st_buf_reset(&ch->buf);
	while (ch->nrec < CHUNK_RECS && ch->buf.len < CHUNK_BYTES) {
		size_t n, at = ch->buf.len;

		if (fread(&h, sizeof(h), 1, spool) != 1)
			return !ferror(spool);
		if (h.outlen > SIZE_MAX / 4 || h.factslen > SIZE_MAX / 4 ||
		    (h.verdict_at != UINT64_MAX && h.verdict_at > h.outlen))
			return false;
		n = (size_t)(h.outlen + h.factslen);
		if (!st_buf_reserve(&ch->buf, sizeof(h) + n))
			cli_buf_check(&ch->buf);	/* out of memory: exits */
		memcpy(ch->buf.p + at, &h, sizeof(h));
		if (n > 0 && fread(ch->buf.p + at + sizeof(h), 1, n, spool) !=
		    n)
			return false;
		ch->buf.len = at + sizeof(h) + n;
		ch->at[ch->nrec++] = at;
	}
	return true;
}

/* In a worker (pool_async): judge each record of ch and add it to the
 * summary, in order. */
static void
chunk_judge(void *arg)
{
	struct chunk *ch = arg;
	size_t k;

	for (ch->nok = 0, k = 0; k < ch->nrec; k++) {
		const char *rec = ch->buf.p + ch->at[k];
		struct st_campaign_facts f;
		struct rec_head h;
		int bs;

		memcpy(&h, rec, sizeof(h));
		if (!facts_unpack(rec + sizeof(h) + h.outlen,
		    (size_t)h.factslen, &f, &ch->hops, &ch->caphops))
			return;
		bs = st_campaign_judge_facts(ch->o->camp, &f, &ch->why[k]);
		st_campaign_add_facts(ch->o->camp, &f, bs);
		ch->bs[k] = (signed char)bs;
		ch->nok = k + 1;
	}
}

/* Writes the records of ch that were judged, each with its verdict. */
static void
chunk_write(struct chunk *ch, struct st_buf *v)
{
	size_t k;

	for (k = 0; k < ch->nok; k++) {
		const char *rec = ch->buf.p + ch->at[k];
		const char *out = rec + sizeof(struct rec_head);
		struct rec_head h;

		memcpy(&h, rec, sizeof(h));
		if (h.verdict_at == UINT64_MAX) {
			fwrite(out, 1, (size_t)h.outlen, stdout);
			continue;
		}
		st_buf_reset(v);
		if (ch->o->json)
			out_bounce_verdict_json(v, ch->bs[k], ch->why[k]);
		else
			out_bounce_verdict_text(v, ch->bs[k]);
		cli_buf_check(v);
		fwrite(out, 1, (size_t)h.verdict_at, stdout);
		fwrite(v->p, 1, v->len, stdout);
		fwrite(out + h.verdict_at, 1,
		    (size_t)(h.outlen - h.verdict_at), stdout);
	}
}

/* Read the spool back in input order: judge each record, write it with
 * its verdict, add it to the summary.  false on a damaged spool. */
static bool
replay(struct bopts *o, struct pool *pl)
{
	struct chunk chs[2], *ch[2] = { &chs[0], &chs[1] };
	struct st_buf v = { 0 };
	bool ok = true, more;
	int cur = 0, i;

	st_campaign_learn_done(o->camp);
	if (fflush(o->spool) != 0 || fseek(o->spool, 0, SEEK_SET) != 0)
		return false;
	memset(chs, 0, sizeof(chs));
	for (i = 0; i < 2; i++) {
		chs[i].o = o;
		/* room for a run at once, not grown by copies */
		if (!st_buf_reserve(&chs[i].buf, CHUNK_BYTES + 65536))
			cli_buf_check(&chs[i].buf);	/* exits */
	}
	more = chunk_read(ch[cur], o->spool);
	if (ch[cur]->nrec > 0)
		pool_async(pl, chunk_judge, ch[cur]);
	while (ch[cur]->nrec > 0) {
		/* the next records while the worker judges these */
		ch[!cur]->nrec = 0;
		if (more)
			more = chunk_read(ch[!cur], o->spool);
		pool_async_wait(pl);
		if (ch[cur]->nok < ch[cur]->nrec) {
			/* a damaged record: what comes before it goes out */
			chunk_write(ch[cur], &v);
			ok = false;
			break;
		}
		if (ch[!cur]->nrec > 0)
			pool_async(pl, chunk_judge, ch[!cur]);
		chunk_write(ch[cur], &v);
		cur = !cur;
	}
	pool_async_wait(pl);
	if (!more)
		ok = false;
	for (i = 0; i < 2; i++) {
		st_buf_free(&chs[i].buf);
		free(chs[i].hops);
	}
	st_buf_free(&v);
	return ok;
}

/* The one pass over every PATH, through pl; returns the exit status so
 * far. */
static int
run_pass(struct bopts *o, struct pool *pl, int argc, char **argv, int first)
{
	struct progress prog;
	int i;

	o->rc = EXIT_OK;
	progress_init(&prog);
	for (i = first; i < argc; i++) {
		int r;

		o->is_stdin = strcmp(argv[i], "-") == 0;
		if ((r = pool_run(pl, argv[i], &prog)) > o->rc)
			o->rc = r;
	}
	progress_done(&prog);
	/* the last run, and every run spooled and learnt */
	run_submit(o);
	pool_async_wait(pl);
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
	static const struct pool_ops ops = {
		.item_size = sizeof(struct item),
		.batch_bytes = BATCH_BYTES,
		.work = bounce_one,
		.done = spool_one,
		.item_free = free_item,
	};
	struct bopts o;
	struct cli_opts co;
	struct pool *pl;
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
	cli_stdout_buffer();
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
	if ((pl = pool_new(&ops, &o, o.jobs)) == NULL) {
		cli_warn("out of memory");
		fclose(o.spool);
		st_campaign_free(o.camp);
		st_config_free(&o.cfg);
		return EXIT_PARTIAL;
	}
	o.pl = pl;
	o.runs[0].o = o.runs[1].o = &o;
	rc = run_pass(&o, pl, argc, argv, optind);
	if (o.spool_err)
		errno = o.spool_errno;	/* for the message */
	if (o.spool_err || !replay(&o, pl)) {
		/* the records cannot be given whole: say so, no summary */
		cli_warn("cannot keep the records in a temporary file "
		    "(TMPDIR): %s", strerror(errno));
		fflush(stdout);
		pool_free(pl);
		runs_free(&o);
		fclose(o.spool);
		st_campaign_free(o.camp);
		st_config_free(&o.cfg);
		return EXIT_PARTIAL;
	}
	pool_free(pl);
	runs_free(&o);
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
