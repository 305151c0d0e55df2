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
 * Memory stays bounded: one message at a time, its arena reset after it;
 * the summary grows with distinct origins and days only.
 */
#include <errno.h>
#include <getopt.h>
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
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace bounces [--json] [--html FILE] [--me ADDR]... "
	    "[--config FILE]\n"
	    "                         [--color=auto|always|never] PATH...\n"
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

/* Pass 1: what the user's own mail looks like. */
static void
learn_one(struct bopts *o, const struct st_rawmsg *rm, struct st_arena *a)
{
	struct st_msg m, om;
	struct st_bounce b;
	struct st_trace t;

	if (rm->error != ST_OK || st_msg_parse(&m, a, rm->data, rm->len) !=
	    ST_OK || m.nhdrs == 0)
		return;
	if (st_bounce_parse_ex(&m, &b, ST_BOUNCE_QUICK, NULL) != ST_OK)
		return;
	if (b.kind == ST_BOUNCE_NONE)
		return;
	if (b.orig != NULL && st_bounce_hops_original(&m, &b, &om, &t) ==
	    ST_OK)
		st_campaign_learn(o->camp, &b, &t);
	else
		st_campaign_learn(o->camp, &b, NULL);
}

/* Pass 2: one record. */
static bool
bounce_one(struct bopts *o, const struct st_rawmsg *rm, const char *path,
    struct st_arena *a, struct sbuf *out)
{
	struct st_msg m, om;
	struct st_bounce b;
	struct st_trace t;
	struct st_error err = { 0 };
	struct bounce_rec r;
	struct st_campaign_item it;

	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	r.rm = rm;
	r.path = path;
	r.backscatter = -1;
	r.t = &t;
	if (rm->error != ST_OK)
		r.error = rm->errmsg;
	else if (st_msg_parse(&m, a, rm->data, rm->len) != ST_OK)
		r.error = "message too complex: memory limit reached";
	else if (m.nhdrs == 0)
		r.error = (m.defects & ST_MSG_DEFECT_NO_HEADERS) ?
		    "no header fields (first line is not a header): not a "
		    "mail message" : "no header fields: not a mail message";
	else if (st_bounce_parse(&m, &b, &err) != ST_OK)
		r.error = err.msg[0] ? err.msg : "bounce could not be read";
	if (r.error == NULL) {
		r.b = &b;
		if (b.orig != NULL) {
			r.have_orig = true;
			if (st_bounce_trace_original(&m, &b, &o->cfg, &om, &t,
			    &err) == ST_OK)
				r.orig_ok = true;
			else
				r.orig_error = err.msg;
		}
		r.backscatter = st_campaign_judge(o->camp, a, &b,
		    r.orig_ok ? &t : NULL, &r.why);
	}
	if (o->json)
		out_bounce_json(out, &r);
	else
		out_bounce_text(out, &r);
	memset(&it, 0, sizeof(it));
	it.path = path;
	it.index = rm->index;
	it.unreadable = r.error != NULL;
	it.b = r.b;
	it.orig = r.orig_ok ? &t : NULL;
	it.backscatter = r.backscatter;
	st_campaign_add(o->camp, a, &it);
	if (r.error != NULL)
		cli_warn("%s: message %zu: %s", path, rm->index, r.error);
	return r.error == NULL;
}

/* Run one pass over every PATH; returns the exit status so far. */
static int
run_pass(struct bopts *o, int argc, char **argv, int first, bool learning,
    struct st_arena *a, struct sbuf *out)
{
	struct progress prog;
	uint64_t nmsg = 0, bytes_done = 0;
	int i, rc = EXIT_OK;
	struct st_error err;

	progress_init(&prog);
	for (i = first; i < argc; i++) {
		struct st_input *in;
		struct st_rawmsg rm;
		enum st_status st;
		bool is_stdin = strcmp(argv[i], "-") == 0;
		const char *p = is_stdin ? o->spool : argv[i];

		if (p == NULL)
			continue;
		if (st_input_open(&in, p, &err) != ST_OK) {
			if (!learning)
				cli_warn("%s", err.msg);
			rc = EXIT_NOINPUT;
			continue;
		}
		while ((st = st_input_next(in, &rm)) == ST_OK) {
			const char *shown = is_stdin ? "-" : rm.path;

			st_arena_reset(a);
			if (learning)
				learn_one(o, &rm, a);
			else {
				if (!bounce_one(o, &rm, shown, a, out) &&
				    rc == EXIT_OK)
					rc = EXIT_PARTIAL;
				sbuf_write(out, stdout);
			}
			nmsg++;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bopts o;
	const char *config_path = NULL, *color = "auto";
	struct st_strlist me = { 0 };
	struct st_arena *a;
	struct sbuf out = { 0 };
	int c, rc, i, nstdin = 0;
	char *spool = NULL;

	memset(&o, 0, sizeof(o));
	st_config_init(&o.cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'H': o.html = optarg; break;
		case 'm': st_strlist_add(&me, optarg); break;
		case 'c': config_path = optarg; break;
		case 'C': color = optarg ? optarg : "always"; break;
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

	if (nstdin) {
		if ((spool = spool_stdin()) == NULL) {
			cli_warn("-: cannot keep standard input in a temporary "
			    "file: %s", strerror(errno));
			return EXIT_NOINPUT;
		}
		o.spool = spool;
	}
	if ((a = st_arena_new(0)) == NULL ||
	    (o.camp = st_campaign_new(&o.cfg)) == NULL) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	run_pass(&o, argc, argv, optind, true, a, &out);
	st_campaign_learn_done(o.camp);
	rc = run_pass(&o, argc, argv, optind, false, a, &out);
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
	st_arena_free(a);
	st_config_free(&o.cfg);
	return rc;
}
