/*
 * cmd_trace.c - "spamtrace trace": one record per message, in input order.
 *
 * Reads every PATH with the input module, scans each message's headers,
 * runs the trace and prints it as JSON Lines (--json) or as a short report
 * for people.  A message that cannot be read or analysed still gets its
 * record, with "error" set; the exit status is then 1.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct trace_opts {
	bool	json;
	bool	dns;
	int	jobs;
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

/* Analyse one message into out; returns false when its record has an
 * error. */
static bool
trace_one(const struct trace_opts *o, const struct st_rawmsg *rm,
    struct st_arena *a, struct sbuf *out)
{
	struct st_msg m;
	struct st_trace t;
	struct st_error err = { 0 };
	const char *error = NULL;
	bool ok = true;
	struct jw w;

	memset(&t, 0, sizeof(t));
	if (rm->error != ST_OK) {
		error = rm->errmsg;
	} else if (st_msg_parse(&m, a, rm->data, rm->len) != ST_OK) {
		error = "message too complex: memory limit reached";
	} else if (m.nhdrs == 0) {
		error = "no header fields: not a mail message";
		if (m.defects & ST_MSG_DEFECT_NO_HEADERS)
			error = "no header fields (first line is not a "
			    "header): not a mail message";
	} else if (st_trace_message(&m, &o->cfg, NULL, &t, &err) != ST_OK) {
		error = err.msg;
	}
	if (error != NULL)
		ok = false;
	if (o->json) {
		jw_init(&w, out);
		jw_obj(&w);
		jw_key(&w, "source");
		jw_obj(&w);
		jw_kstr(&w, "path", rm->path);
		jw_kint(&w, "index", (long long)rm->index);
		jw_end_obj(&w);
		jw_kstr(&w, "error", error);
		if (error == NULL)
			out_trace_json(&w, &t);
		jw_end_obj(&w);
		sbuf_putc(out, '\n');
	} else {
		char label[4200];

		snprintf(label, sizeof(label), "== %s #%zu", rm->path,
		    rm->index);
		if (error != NULL)
			sbuf_printf(out, "%s%s%s\n  %serror:%s %s\n\n", C_BOLD,
			    label, C_RESET, C_RED, C_RESET, error);
		else {
			out_trace_text(out, &t, label);
			sbuf_putc(out, '\n');
		}
	}
	if (error != NULL)
		cli_warn("%s: message %zu: %s", rm->path, rm->index, error);
	return ok;
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
	struct st_arena *a;
	struct sbuf out = { 0 };
	struct progress prog;
	int c, rc = EXIT_OK, i;
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
		case 'D': o.dns = true; break;
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
	for (i = 0; i < (int)cl.me.n; i++)
		st_strlist_add(&o.cfg.me, cl.me.v[i]);
	for (i = 0; i < (int)cl.trust_hosts.n; i++)
		st_strlist_add(&o.cfg.trust_hosts, cl.trust_hosts.v[i]);
	if (cl.ntrust_nets) {
		struct st_net *nv = realloc(o.cfg.trust_nets,
		    (o.cfg.ntrust_nets + cl.ntrust_nets) * sizeof(*nv));

		if (nv != NULL) {
			memcpy(nv + o.cfg.ntrust_nets, cl.trust_nets,
			    cl.ntrust_nets * sizeof(*nv));
			o.cfg.trust_nets = nv;
			o.cfg.ntrust_nets += cl.ntrust_nets;
		}
	}
	for (i = 0; i < (int)cl.dnsbl.n; i++)
		st_strlist_add(&o.cfg.dnsbl, cl.dnsbl.v[i]);
	if (cl.resolver) {
		free(o.cfg.resolver);
		o.cfg.resolver = strdup(cl.resolver);
	}
	st_config_free(&cl);
	cli_color_setup(o.json ? "never" : color);

	if ((a = st_arena_new(0)) == NULL) {
		cli_warn("out of memory");
		return EXIT_PARTIAL;
	}
	progress_init(&prog);
	rc = EXIT_OK;
	for (i = optind; i < argc; i++) {
		struct st_input *in;
		struct st_rawmsg rm;
		enum st_status st;

		if (st_input_open(&in, argv[i], &err) != ST_OK) {
			cli_warn("%s", err.msg);
			rc = EXIT_NOINPUT;
			continue;
		}
		while ((st = st_input_next(in, &rm)) == ST_OK) {
			st_arena_reset(a);
			if (!trace_one(&o, &rm, a, &out) && rc == EXIT_OK)
				rc = EXIT_PARTIAL;
			sbuf_write(&out, stdout);
			nmsg++;
			progress_update(&prog, nmsg,
			    bytes_done + st_input_bytes_read(in));
		}
		bytes_done += st_input_bytes_read(in);
		if (st != ST_EOF) {
			cli_warn("%s: read error", argv[i]);
			if (rc == EXIT_OK)
				rc = EXIT_PARTIAL;
		}
		st_input_close(in);
	}
	progress_done(&prog);
	fflush(stdout);
	sbuf_free(&out);
	st_arena_free(a);
	st_config_free(&o.cfg);
	return rc;
}
