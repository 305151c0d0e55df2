/*
 * cmd_report.c - "spamtrace report": abuse reports from traced messages.
 *
 * Every message of every PATH is traced; the report module groups them by
 * responsible network (one report per set of contact addresses, so a
 * campaign gives one report per network); each report is rendered (a
 * letter in English or Japanese from a template, or an RFC 5965 ARF
 * report with --arf), written to --out DIR as a .eml file, recorded in the
 * case file, and with --send submitted through the user's smarthost.
 *
 * Nothing is sent without --send.  A message sent to an addressee is not
 * sent to it again (the case file keys deliveries by message and
 * addressee) unless --force; a send whose outcome an earlier run never
 * recorded ("sending") and a permanent refusal are not retried without
 * --force either.  A refused or failed send is reported and recorded; this
 * command never retries by itself.  Messages without an addressee are
 * named on standard error ("no addressee") and counted.
 *
 * Standards: RFC 5321 (submission through a smarthost, via lib/smtp),
 * RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 5965 (ARF).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "spamtrace/bounce.h"
#include "spamtrace/report.h"
#include "spamtrace/smtp.h"
#include "spamtrace/store.h"

#define MAX_TO		64
#define MAX_TEMPLATE	(1024 * 1024)

struct report_opts {
	bool	json, arf, full, send, force, starttls, tls_no_verify,
		plaintext_auth, ja_utf8, no_unwrap;
	const char *out_dir, *lang, *redact, *smtp, *smtp_user,
	    *smtp_pass_file, *from, *db, *templates, *helo, *tls_ca;
	const char *to[MAX_TO];
	size_t	nto;
	struct st_config cfg;
	char   *pass;
};

/* Per-addressee outcome of one send. */
struct rcpt_result {
	const char *addr;
	const char *state;	/* sent|refused|failed|already-sent|
				 * skipped-unknown|skipped-refused|written */
	char	reply[512];
};

static void
usage(FILE *f)
{
	fputs("usage: spamtrace report [--json] [--out DIR] [--lang en|ja] "
	    "[--arf [--full]]\n"
	    "         [--redact ADDR] [--to ADDR]... [--from ADDR] "
	    "[--templates DIR]\n"
	    "         [--send --smtp HOST[:PORT] [--starttls] "
	    "[--smtp-user U --smtp-pass-file F]]\n"
	    "         [--force] [--no-unwrap] [--db FILE] [--me ADDR]... "
	    "[--trust NET|HOST]... [--config FILE]\n"
	    "         PATH...\n"
	    "PATH: a message, an mbox, a Maildir, a directory, or - for "
	    "standard input.\n"
	    "Nothing is sent without --send; reports are written to --out "
	    "(default ./reports).\n", f);
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* --- files ------------------------------------------------------------ */

static bool
mkdirs(const char *dir)
{
	char buf[4096], *p;

	if (strlen(dir) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return false;
			*p = '/';
		}
	return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static char *
read_small_file(const char *path, size_t max, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/* Find NAME in --templates, ~/.config/spamtrace/templates, the installed
 * data directory and the source tree, in that order. */
static char *
load_template(const struct report_opts *o, const char *name, size_t *len,
    char *found, size_t fsize)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dirs[4][4096];
	int nd = 0, i;
	char *t;

	if (o->templates != NULL)
		snprintf(dirs[nd++], sizeof(dirs[0]), "%s", o->templates);
	if (xdg != NULL && *xdg == '/')
		snprintf(dirs[nd++], sizeof(dirs[0]), "%s/spamtrace/templates",
		    xdg);
	else if (home != NULL && *home)
		snprintf(dirs[nd++], sizeof(dirs[0]),
		    "%s/.config/spamtrace/templates", home);
	snprintf(dirs[nd++], sizeof(dirs[0]), "%s/templates", ST_DATADIR);
	snprintf(dirs[nd++], sizeof(dirs[0]), "%s/templates", ST_SRCDATADIR);
	for (i = 0; i < nd; i++) {
		snprintf(found, fsize, "%s/%s", dirs[i], name);
		if ((t = read_small_file(found, MAX_TEMPLATE, len)) != NULL)
			return t;
		if (errno != ENOENT)
			cli_warn("%s: %s", found, strerror(errno));
	}
	return NULL;
}

/* Write data to dir/name atomically (temporary file, fsync, rename). */
static bool
write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	int fd;
	size_t off = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return false;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return false;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

/* --- small helpers ---------------------------------------------------- */

static void
sha256_hex(const char *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int l = 0, i;

	EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
	for (i = 0; i < l && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* The bare address inside "Name <a@b>" or "a@b" (into buf). */
static const char *
bare(const char *s, char *buf, size_t size)
{
	const char *lt = strchr(s, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		snprintf(buf, size, "%.*s", (int)(gt - lt - 1), lt + 1);
		return buf;
	}
	snprintf(buf, size, "%s", s);
	return buf;
}

/* HOST[:PORT], [V6]:PORT, or a bare IPv6 address (no port). */
static void
split_hostport(const char *s, char *host, size_t hs, char *port, size_t ps)
{
	const char *c;

	snprintf(port, ps, "25");
	if (*s == '[' && (c = strchr(s, ']')) != NULL) {
		snprintf(host, hs, "%.*s", (int)(c - s - 1), s + 1);
		if (c[1] == ':' && c[2])
			snprintf(port, ps, "%s", c + 2);
		return;
	}
	c = strrchr(s, ':');
	if (c != NULL && strchr(s, ':') == c) {
		snprintf(host, hs, "%.*s", (int)(c - s), s);
		if (c[1])
			snprintf(port, ps, "%s", c + 1);
		return;
	}
	snprintf(host, hs, "%s", s);
}

/* One line of a reply for the case file: lines joined with " / ". */
static void
reply_text(const struct st_smtp_reply *r, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	if (r == NULL || r->raw == NULL)
		return;
	for (i = 0; i < r->rawlen && n + 4 < size; i++) {
		unsigned char c = (unsigned char)r->raw[i];

		if (c == '\n') {
			n += (size_t)snprintf(buf + n, size - n, " / ");
			continue;
		}
		buf[n++] = (c >= 32 && c < 127) ? (char)c : '?';
	}
	buf[n < size ? n : size - 1] = '\0';
}

static const char *
state_of_code(int code)
{
	return ST_SMTP_PERMFAIL(code) ? "refused" : "failed";
}

/* --- sending ---------------------------------------------------------- */

/*
 * Submit one message to the rcpts through the smarthost.  Fills res[i]
 * for every rcpt; never retries.  Returns false when nothing was sent.
 */
static bool
smtp_send(const struct report_opts *o, const char *from_addr,
    const char *msg, size_t len, struct rcpt_result *res, size_t n)
{
	struct st_smtp_params p;
	struct st_smtp_session *s = NULL;
	struct st_smtp_reply rep;
	struct st_error err = { 0 };
	char host[1024], port[64], helo[256], why[512];
	bool ok_rcpt[MAX_TO] = { false }, any = false;
	size_t i;
	const char *fail_state = "failed";

	split_hostport(o->smtp, host, sizeof(host), port, sizeof(port));
	st_smtp_params_init(&p);
	if (o->helo != NULL)
		snprintf(helo, sizeof(helo), "%s", o->helo);
	else if (gethostname(helo, sizeof(helo)) != 0 || !strchr(helo, '.'))
		snprintf(helo, sizeof(helo), "%s", "localhost.localdomain");
	p.helo_name = helo;
	p.tls = o->starttls ? ST_SMTP_TLS_REQUIRED : ST_SMTP_TLS_IF_OFFERED;
	/* a required TLS session is verified; opportunistic TLS (when the
	 * smarthost offers it and --starttls was not asked) is not */
	p.tls_verify = o->starttls && !o->tls_no_verify;
	p.tls_ca_file = o->tls_ca;
	p.total_timeout_ms = 300000;
	memset(&rep, 0, sizeof(rep));
	why[0] = '\0';

	if (st_smtp_open(&s, &p, &err) != ST_OK) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto fail_all;
	}
	if (st_smtp_connect(s, host, port, &rep, &err) != ST_OK) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto fail_all;
	}
	if (!ST_SMTP_POSITIVE(rep.code)) {
		reply_text(&rep, why, sizeof(why));
		fail_state = state_of_code(rep.code);
		goto fail_all;
	}
	st_smtp_reply_free(&rep);
	if (st_smtp_hello(s, NULL, &rep, &err) != ST_OK) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto fail_all;
	}
	if (!ST_SMTP_POSITIVE(rep.code)) {
		reply_text(&rep, why, sizeof(why));
		fail_state = state_of_code(rep.code);
		goto fail_all;
	}
	st_smtp_reply_free(&rep);
	if (o->smtp_user != NULL) {
		if (st_smtp_auth(s, ST_SMTP_AUTH_ANY, o->smtp_user,
		    nz(o->pass), o->plaintext_auth, &rep, &err) != ST_OK) {
			snprintf(why, sizeof(why), "AUTH: %s", err.msg);
			goto fail_all;
		}
		if (rep.code != 235) {
			reply_text(&rep, why, sizeof(why));
			fail_state = state_of_code(rep.code);
			goto fail_all;
		}
		st_smtp_reply_free(&rep);
	}
	if (st_smtp_mail(s, from_addr, NULL, &rep, &err) != ST_OK) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto fail_all;
	}
	if (!ST_SMTP_POSITIVE(rep.code)) {
		reply_text(&rep, why, sizeof(why));
		fail_state = state_of_code(rep.code);
		goto fail_all;
	}
	st_smtp_reply_free(&rep);
	for (i = 0; i < n; i++) {
		if (st_smtp_rcpt(s, res[i].addr, NULL, &rep, &err) != ST_OK) {
			snprintf(why, sizeof(why), "%s", err.msg);
			goto fail_all;
		}
		reply_text(&rep, res[i].reply, sizeof(res[i].reply));
		if (ST_SMTP_POSITIVE(rep.code)) {
			ok_rcpt[i] = true;
			any = true;
		} else {
			res[i].state = state_of_code(rep.code);
		}
		st_smtp_reply_free(&rep);
	}
	if (!any) {
		st_smtp_quit(s, NULL, &err);
		st_smtp_close(s);
		return false;
	}
	if (st_smtp_data(s, msg, len, &rep, &err) != ST_OK) {
		snprintf(why, sizeof(why), "DATA: %s", err.msg);
		for (i = 0; i < n; i++)
			if (ok_rcpt[i]) {
				/* the outcome is unknown: the message may
				 * have been queued before the failure */
				res[i].state = "failed";
				snprintf(res[i].reply, sizeof(res[i].reply),
				    "%s", why);
			}
		st_smtp_close(s);
		return false;
	}
	reply_text(&rep, why, sizeof(why));
	for (i = 0; i < n; i++)
		if (ok_rcpt[i]) {
			res[i].state = ST_SMTP_POSITIVE(rep.code) ? "sent" :
			    state_of_code(rep.code);
			snprintf(res[i].reply, sizeof(res[i].reply), "%s",
			    why);
		}
	st_smtp_reply_free(&rep);
	st_smtp_quit(s, NULL, &err);
	st_smtp_close(s);
	return true;

fail_all:
	st_smtp_reply_free(&rep);
	for (i = 0; i < n; i++) {
		if (ok_rcpt[i] || strcmp(res[i].state, "sending") == 0) {
			res[i].state = fail_state;
			snprintf(res[i].reply, sizeof(res[i].reply), "%s", why);
		}
	}
	if (s != NULL) {
		st_smtp_quit(s, NULL, &err);
		st_smtp_close(s);
	}
	return false;
}

/* --- one report ------------------------------------------------------- */

struct run {
	struct report_opts *o;
	struct st_store *store;
	const char *templ;
	size_t	templ_len;
	const char *from;
	int64_t	now;
	struct jw w;
	struct st_buf out;
	int	rc;
	size_t	written, sent, failed, already;
};

static void
file_name(const struct st_report *r, const char *key_hex, int64_t now,
    char *buf, size_t size, const char *dir)
{
	char safe[128];
	const char *base = *r->domain ? r->domain : r->inc[0].origin_ip;
	size_t i, n = 0;
	time_t t = (time_t)now;
	struct tm tm;

	for (i = 0; base[i] && n + 1 < sizeof(safe) && n < 60; i++) {
		char c = base[i];

		safe[n++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		    || (c >= '0' && c <= '9') || c == '.' || c == '-') ? c :
		    '_';
	}
	safe[n] = '\0';
	if (n == 0)
		snprintf(safe, sizeof(safe), "unknown");
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s/%04d%02d%02d-%s-%.8s.eml", dir,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, safe, key_hex);
}

static bool
do_report(struct run *R, const struct st_report *r)
{
	struct report_opts *o = R->o;
	struct st_report_opts ro;
	struct st_error err = { 0 };
	char *msg = NULL, *msgid = NULL, *text = NULL, *subject = NULL;
	size_t len = 0, i;
	char path[4200], key_hex[65], fromb[512];
	struct st_buf key = { 0 };
	int64_t *ids = NULL, case_id = 0;
	struct rcpt_result res[MAX_TO];
	size_t nres = r->nto < MAX_TO ? r->nto : MAX_TO;
	const char *status = "written";
	bool ok = true;
	const struct st_report_incident *in0 = &r->inc[0];

	memset(&ro, 0, sizeof(ro));
	ro.arf = o->arf;
	ro.full = o->full;
	ro.lang = o->lang;
	ro.ja_utf8 = o->ja_utf8;
	ro.templ = R->templ;
	ro.templ_len = R->templ_len;
	ro.from = R->from;
	ro.redact = o->redact;
	ro.now = R->now;
	if (st_report_render(r, &ro, &msg, &len, &msgid, &err) != ST_OK) {
		cli_warn("report for %s: %s", r->key, err.msg);
		return false;
	}
	st_report_letter_text(r, &ro, &text, &subject, &err);

	/* the case key: kind, language, addressees and messages */
	st_buf_printf(&key, "%s|%s|", o->arf ? "arf" : "letter", o->lang);
	for (i = 0; i < r->nto; i++)
		st_buf_printf(&key, "%s,", r->to[i]);
	for (i = 0; i < r->ninc; i++) {
		st_buf_putc(&key, '|');
		st_buf_puts(&key, r->inc[i].identity);
	}
	cli_buf_check(&key);
	sha256_hex(key.p, key.len, key_hex);
	st_buf_free(&key);

	if (!mkdirs(o->out_dir)) {
		cli_warn("%s: cannot make directory: %s", o->out_dir,
		    strerror(errno));
		ok = false;
		goto done;
	}
	file_name(r, key_hex, R->now, path, sizeof(path), o->out_dir);
	if (!write_atomic(path, msg, len)) {
		cli_warn("%s: cannot write: %s", path, strerror(errno));
		ok = false;
		goto done;
	}
	R->written++;

	/* record it */
	if ((ids = calloc(r->ninc, sizeof(*ids))) == NULL) {
		ok = false;
		goto done;
	}
	if (st_store_begin(R->store, &err) != ST_OK)
		goto dberr;
	for (i = 0; i < r->ninc; i++) {
		const struct st_report_incident *in = &r->inc[i];
		struct st_store_msg sm = { in->identity, in->message_id,
		    in->path, in->index, in->origin_ip, in->source_ip,
		    in->org, in->subject, in->has_date, in->date };

		if (st_store_put_message(R->store, &sm, R->now, &ids[i],
		    &err) != ST_OK)
			goto dberr_rb;
	}
	{
		struct st_store_report sr = { key_hex,
		    o->arf ? "arf" : "letter", o->lang, path,
		    *in0->origin_ip ? in0->origin_ip : in0->source_ip,
		    r->domain, nz(subject), msgid, r->ninc, R->now };

		if (st_store_put_report(R->store, &sr, ids, r->ninc,
		    (const char *const *)r->to, r->nto, &case_id, &err) !=
		    ST_OK)
			goto dberr_rb;
	}
	if (st_store_commit(R->store, &err) != ST_OK)
		goto dberr;

	for (i = 0; i < nres; i++) {
		res[i].addr = r->to[i];
		res[i].state = "written";
		res[i].reply[0] = '\0';
	}
	if (o->send) {
		struct rcpt_result *todo[MAX_TO];
		struct rcpt_result sendv[MAX_TO];
		size_t ntodo = 0, k;

		/* decide per addressee; mark the ones to send "sending"
		 * first, so a crash mid-send is visible next time */
		if (st_store_begin(R->store, &err) != ST_OK)
			goto dberr;
		for (i = 0; i < nres; i++) {
			struct st_store_tally t;

			if (st_store_tally(R->store, case_id, res[i].addr, &t,
			    &err) != ST_OK)
				goto dberr_rb;
			if (!o->force && t.messages > 0 && t.sent == t.messages) {
				res[i].state = "already-sent";
				R->already++;
				continue;
			}
			if (!o->force && t.sending > 0) {
				res[i].state = "skipped-unknown";
				cli_warn("%s: an earlier run started sending "
				    "this report to %s and never recorded the "
				    "outcome; check and use --force to send "
				    "again", path, res[i].addr);
				continue;
			}
			if (!o->force && t.refused > 0) {
				res[i].state = "skipped-refused";
				cli_warn("%s: the smarthost refused this "
				    "report for %s before; not retried "
				    "(--force to try again)", path,
				    res[i].addr);
				continue;
			}
			if (st_store_set_delivery(R->store, case_id,
			    res[i].addr, "sending", NULL, R->now, &err) !=
			    ST_OK)
				goto dberr_rb;
			todo[ntodo++] = &res[i];
		}
		if (st_store_commit(R->store, &err) != ST_OK)
			goto dberr;
		if (ntodo > 0) {
			for (k = 0; k < ntodo; k++) {
				sendv[k] = *todo[k];
				sendv[k].state = "sending";
			}
			smtp_send(o, bare(R->from, fromb, sizeof(fromb)), msg,
			    len, sendv, ntodo);
			for (k = 0; k < ntodo; k++)
				*todo[k] = sendv[k];
			if (st_store_begin(R->store, &err) != ST_OK)
				goto dberr;
			for (k = 0; k < ntodo; k++) {
				const char *st = todo[k]->state;

				if (strcmp(st, "sent") == 0)
					R->sent++;
				else
					R->failed++;
				if (strcmp(st, "sending") == 0)
					st = "failed";
				if (st_store_set_delivery(R->store, case_id,
				    todo[k]->addr, st, todo[k]->reply,
				    (int64_t)time(NULL), &err) != ST_OK)
					goto dberr_rb;
				if (strcmp(st, "sent") != 0) {
					cli_warn("%s: not sent to %s (%s): %s",
					    path, todo[k]->addr, st,
					    todo[k]->reply);
					ok = false;
				}
			}
			if (st_store_commit(R->store, &err) != ST_OK)
				goto dberr;
		}
		/* overall status of this run's report */
		{
			size_t ns = 0, na = 0, nf = 0;

			for (i = 0; i < nres; i++) {
				if (strcmp(res[i].state, "sent") == 0)
					ns++;
				else if (strcmp(res[i].state,
				    "already-sent") == 0)
					na++;
				else
					nf++;
			}
			status = nf == 0 && ns == 0 ? "already-sent" :
			    nf == 0 ? "sent" : ns > 0 ? "partial" :
			    strcmp(res[0].state, "refused") == 0 ? "refused" :
			    "failed";
		}
	}

	/* output */
	if (o->json) {
		struct jw *w = &R->w;

		jw_obj(w);
		jw_key(w, "to");
		jw_arr(w);
		for (i = 0; i < r->nto; i++)
			jw_str(w, r->to[i]);
		jw_end_arr(w);
		jw_kstr(w, "path", path);
		jw_kstr(w, "source_ip", *in0->origin_ip ? in0->origin_ip :
		    in0->source_ip);
		jw_kstr(w, "lang", o->lang);
		jw_kint(w, "id", case_id);
		jw_kstr(w, "kind", o->arf ? "arf" : "letter");
		jw_kstr(w, "status", status);
		jw_kstr(w, "domain", r->domain);
		jw_kstr(w, "subject", subject);
		jw_kstr(w, "report_message_id", msgid);
		jw_kint(w, "incidents", (long long)r->ninc);
		jw_key(w, "messages");
		jw_arr(w);
		for (i = 0; i < r->ninc && i < ST_MAX_REPORT_LISTED; i++) {
			jw_obj(w);
			jw_kstr(w, "path", r->inc[i].path);
			jw_kint(w, "index", (long long)r->inc[i].index);
			jw_kstr(w, "message_id", r->inc[i].message_id);
			jw_kstr(w, "origin_ip", r->inc[i].origin_ip);
			jw_end_obj(w);
		}
		jw_end_arr(w);
		jw_key(w, "deliveries");
		jw_arr(w);
		for (i = 0; i < nres; i++) {
			jw_obj(w);
			jw_kstr(w, "to", res[i].addr);
			jw_kstr(w, "status", res[i].state);
			if (res[i].reply[0])
				jw_kstr(w, "smtp_reply", res[i].reply);
			else
				jw_knull(w, "smtp_reply");
			jw_end_obj(w);
		}
		jw_end_arr(w);
		jw_end_obj(w);
	} else {
		st_buf_printf(&R->out, "%s%s%s\n", C_BOLD, path, C_RESET);
		st_buf_printf(&R->out, "  case %lld, %s (%s), %zu incident%s, "
		    "source %s\n", (long long)case_id,
		    o->arf ? "ARF report" : "letter", o->lang, r->ninc,
		    r->ninc == 1 ? "" : "s",
		    *in0->origin_ip ? in0->origin_ip : "?");
		for (i = 0; i < nres; i++) {
			const char *c = strcmp(res[i].state, "sent") == 0 ?
			    C_GREEN : strcmp(res[i].state, "written") == 0 ||
			    strcmp(res[i].state, "already-sent") == 0 ? "" :
			    C_RED;

			st_buf_printf(&R->out, "  to %s: %s%s%s%s%s\n",
			    res[i].addr, c, res[i].state, C_RESET,
			    res[i].reply[0] ? "  " : "", res[i].reply);
		}
		cli_buf_write(&R->out, stdout);
	}
	goto done;

dberr_rb:
	st_store_rollback(R->store);
dberr:
	cli_warn("%s", err.msg);
	ok = false;
done:
	free(ids);
	free(msg);
	free(msgid);
	free(text);
	free(subject);
	return ok;
}

/* --- the command ------------------------------------------------------ */

static bool
trace_into(struct run *R, struct st_report_set *set, const struct st_rawmsg *rm,
    struct st_arena *a)
{
	struct st_msg m, om, *rep_m = &m;
	struct st_trace t, ot, *rep_t = &t;
	struct st_error err = { 0 };
	const char *error = NULL;

	memset(&t, 0, sizeof(t));
	if (rm->error != ST_OK)
		error = rm->errmsg;
	else if (st_msg_parse(&m, a, rm->data, rm->len) != ST_OK)
		error = "message too complex: memory limit reached";
	else if (m.nhdrs == 0)
		error = "no header fields: not a mail message";
	else if (st_trace_message(&m, &R->o->cfg, NULL, &t, &err) != ST_OK)
		error = err.msg;
	if (error != NULL) {
		cli_warn("%s: message %zu: %s", rm->path, rm->index, error);
		return false;
	}
	/* a bounce of a message we never sent (a joe-job's backscatter):
	 * the spam is the original inside it, traced with the bouncing
	 * system trusted; that is what gets reported */
	if (!R->o->no_unwrap) {
		struct st_bounce b;

		memset(&b, 0, sizeof(b));
		if (st_bounce_parse(&m, &b, &err) == ST_OK &&
		    b.kind != ST_BOUNCE_NONE && b.orig != NULL) {
			memset(&ot, 0, sizeof(ot));
			if (st_bounce_trace_original(&m, &b, &R->o->cfg, &om,
			    &ot, &err) == ST_OK && om.nhdrs > 0) {
				rep_m = &om;
				rep_t = &ot;
			} else {
				cli_warn("%s: message %zu: a bounce whose "
				    "original could not be read; reporting "
				    "the bounce itself", rm->path, rm->index);
			}
		}
	}
	if (st_report_add(set, rep_m, rep_t, rm->path, rm->index, R->o->to,
	    R->o->nto, NULL, &err) != ST_OK) {
		if (err.status == ST_EINVAL)
			cli_warn("%s: message %zu: no addressee (%s)",
			    rm->path, rm->index, err.msg);
		else
			cli_warn("%s: message %zu: %s", rm->path, rm->index,
			    err.msg);
		return false;
	}
	return true;
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "out", required_argument, NULL, 'o' },
		{ "lang", required_argument, NULL, 'l' },
		{ "arf", no_argument, NULL, 'A' },
		{ "full", no_argument, NULL, 'F' },
		{ "redact", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 'T' },
		{ "send", no_argument, NULL, 'S' },
		{ "smtp", required_argument, NULL, 's' },
		{ "smtp-user", required_argument, NULL, 'u' },
		{ "smtp-pass-file", required_argument, NULL, 'p' },
		{ "starttls", no_argument, NULL, 'L' },
		{ "tls-no-verify", no_argument, NULL, 'N' },
		{ "tls-ca", required_argument, NULL, 'a' },
		{ "allow-plaintext-auth", no_argument, NULL, 'P' },
		{ "helo", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' },
		{ "db", required_argument, NULL, 'd' },
		{ "me", required_argument, NULL, 'm' },
		{ "trust", required_argument, NULL, 't' },
		{ "templates", required_argument, NULL, 'E' },
		{ "force", no_argument, NULL, 'X' },
		{ "ja-utf8", no_argument, NULL, 'U' },
		{ "no-unwrap", no_argument, NULL, 'W' },
		CLI_OPTS_LONG_END
	};
	struct report_opts o;
	struct run R;
	struct cli_opts co;
	struct st_error err = { 0 };
	struct st_report_set set;
	struct st_arena *a;
	const char *v;
	char dbpath[4096], tpath[4200], tname[64], fromdef[600];
	char *templ = NULL;
	size_t nmsg = 0, nbad = 0, i;
	int c, rc, k;

	memset(&o, 0, sizeof(o));
	memset(&R, 0, sizeof(R));
	st_config_init(&o.cfg);
	cli_opts_init(&co, usage);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': o.json = true; break;
		case 'o': o.out_dir = optarg; break;
		case 'l': o.lang = optarg; break;
		case 'A': o.arf = true; break;
		case 'F': o.full = true; break;
		case 'r': o.redact = optarg; break;
		case 'T':
			if (o.nto >= MAX_TO) {
				cli_warn("too many --to (at most %d)", MAX_TO);
				return EXIT_USAGE;
			}
			o.to[o.nto++] = optarg;
			break;
		case 'S': o.send = true; break;
		case 's': o.smtp = optarg; break;
		case 'u': o.smtp_user = optarg; break;
		case 'p': o.smtp_pass_file = optarg; break;
		case 'L': o.starttls = true; break;
		case 'N': o.tls_no_verify = true; break;
		case 'a': o.tls_ca = optarg; break;
		case 'P': o.plaintext_auth = true; break;
		case 'H': o.helo = optarg; break;
		case 'f': o.from = optarg; break;
		case 'd': o.db = optarg; break;
		case 'E': o.templates = optarg; break;
		case 'X': o.force = true; break;
		case 'U': o.ja_utf8 = true; break;
		case 'W': o.no_unwrap = true; break;
		default:
			if ((rc = cli_opts_take(&co, c, optarg)) != CLI_GO_ON)
				return rc;
		}
	}
	if ((rc = cli_opts_finish(&co, argc, &o.cfg)) != EXIT_OK)
		return rc;
	/* config file defaults for what the command line did not say */
	if (o.lang == NULL)
		o.lang = (v = st_config_get(&o.cfg, "report_lang")) ? v : "en";
	if (o.out_dir == NULL)
		o.out_dir = (v = st_config_get(&o.cfg, "report_out")) ? v :
		    "reports";
	if (o.from == NULL)
		o.from = st_config_get(&o.cfg, "report_from");
	if (o.smtp == NULL)
		o.smtp = st_config_get(&o.cfg, "smtp");
	if (o.smtp_user == NULL)
		o.smtp_user = st_config_get(&o.cfg, "smtp_user");
	if (o.smtp_pass_file == NULL)
		o.smtp_pass_file = st_config_get(&o.cfg, "smtp_pass_file");
	if (o.db == NULL)
		o.db = st_config_get(&o.cfg, "db");
	if (o.templates == NULL)
		o.templates = st_config_get(&o.cfg, "templates");
	if (strcmp(o.lang, "en") != 0 && strcmp(o.lang, "ja") != 0) {
		cli_warn("--lang: '%s': en or ja", o.lang);
		return EXIT_USAGE;
	}
	if (o.full && !o.arf) {
		cli_warn("--full needs --arf (a letter shows the header "
		    "inline)");
		return EXIT_USAGE;
	}
	if (o.send && o.smtp == NULL) {
		cli_warn("--send needs --smtp HOST[:PORT] (your smarthost)");
		return EXIT_USAGE;
	}
	if (!o.send && o.smtp != NULL && st_config_get(&o.cfg, "smtp") !=
	    o.smtp)
		cli_warn("--smtp given without --send: nothing is sent");
	if (o.smtp_user != NULL && o.smtp_pass_file == NULL) {
		cli_warn("--smtp-user needs --smtp-pass-file FILE");
		return EXIT_USAGE;
	}
	if (o.smtp_pass_file != NULL && o.send) {
		size_t pl;

		if ((o.pass = read_small_file(o.smtp_pass_file, 4096, &pl)) ==
		    NULL) {
			cli_warn("%s: %s", o.smtp_pass_file, strerror(errno));
			return EXIT_NOINPUT;
		}
		while (pl > 0 && (o.pass[pl - 1] == '\n' ||
		    o.pass[pl - 1] == '\r'))
			o.pass[--pl] = '\0';
	}
	/* who the report is from */
	if (o.from == NULL && o.cfg.me.n > 0)
		o.from = o.cfg.me.v[0];
	if (o.from == NULL) {
		char hn[256];
		const char *u = getenv("USER");

		if (o.send) {
			cli_warn("--send needs --from ADDR (or --me, or "
			    "report_from in the config file)");
			return EXIT_USAGE;
		}
		if (gethostname(hn, sizeof(hn)) != 0)
			snprintf(hn, sizeof(hn), "localhost");
		hn[sizeof(hn) - 1] = '\0';
		snprintf(fromdef, sizeof(fromdef), "%s@%s",
		    u && *u ? u : "postmaster", hn);
		o.from = fromdef;
	}
	if (strchr(o.from, '\n') || strchr(o.from, '\r') ||
	    !strchr(o.from, '@')) {
		cli_warn("--from: '%s' is not an address", o.from);
		return EXIT_USAGE;
	}

	snprintf(tname, sizeof(tname), "%s-%s.txt", o.arf ? "arf" : "letter",
	    o.lang);
	if ((templ = load_template(&o, tname, &R.templ_len, tpath,
	    sizeof(tpath))) == NULL) {
		cli_warn("template %s not found (looked in --templates, "
		    "~/.config/spamtrace/templates, %s/templates, "
		    "%s/templates); using the built-in one", tname,
		    ST_DATADIR, ST_SRCDATADIR);
	}
	R.templ = templ;

	if (o.db != NULL)
		snprintf(dbpath, sizeof(dbpath), "%s", o.db);
	else if (st_store_default_path(dbpath, sizeof(dbpath), &err) != ST_OK) {
		cli_warn("%s", err.msg);
		free(templ);
		return EXIT_USAGE;
	}
	if (st_store_open(&R.store, dbpath, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		free(templ);
		return EXIT_NOINPUT;
	}
	cli_color_setup(o.json ? "never" : co.color);
	if (o.send)
		signal(SIGPIPE, SIG_IGN);	/* OpenSSL writes (smtp.h) */

	R.o = &o;
	R.from = o.from;
	R.now = (int64_t)time(NULL);
	rc = EXIT_OK;
	if (st_report_set_init(&set, o.full) != ST_OK ||
	    (a = st_arena_new(0)) == NULL) {
		cli_warn("out of memory");
		st_store_close(R.store);
		free(templ);
		return EXIT_PARTIAL;
	}
	for (k = optind; k < argc; k++) {
		struct st_input *in;
		struct st_rawmsg rm;
		enum st_status st;

		if (st_input_open(&in, argv[k], &err) != ST_OK) {
			cli_warn("%s", err.msg);
			rc = EXIT_NOINPUT;
			continue;
		}
		while ((st = st_input_next(in, &rm)) == ST_OK) {
			st_arena_reset(a);
			nmsg++;
			if (!trace_into(&R, &set, &rm, a)) {
				nbad++;
				if (rc == EXIT_OK)
					rc = EXIT_PARTIAL;
			}
		}
		if (st != ST_EOF) {
			cli_warn("%s: read error", argv[k]);
			if (rc == EXIT_OK)
				rc = EXIT_PARTIAL;
		}
		st_input_close(in);
	}
	st_arena_free(a);

	if (o.json) {
		jw_init(&R.w, &R.out);
		jw_obj(&R.w);
		jw_key(&R.w, "reports");
		jw_arr(&R.w);
	}
	for (i = 0; i < set.n; i++)
		if (!do_report(&R, &set.r[i]) && rc == EXIT_OK)
			rc = EXIT_PARTIAL;
	if (o.json) {
		jw_end_arr(&R.w);
		jw_kint(&R.w, "messages", (long long)nmsg);
		jw_kint(&R.w, "no_addressee", (long long)set.no_addressee);
		jw_kint(&R.w, "unreadable",
		    (long long)(nbad - set.no_addressee));
		jw_end_obj(&R.w);
		st_buf_putc(&R.out, '\n');
		cli_buf_write(&R.out, stdout);
	}
	fflush(stdout);
	fprintf(stderr, "spamtrace: %zu message%s, %zu report%s written%s",
	    nmsg, nmsg == 1 ? "" : "s", R.written, R.written == 1 ? "" : "s",
	    o.send ? "" : " (nothing sent: no --send)");
	if (o.send)
		fprintf(stderr, ", %zu sent, %zu already sent, %zu not sent",
		    R.sent, R.already, R.failed);
	if (set.no_addressee)
		fprintf(stderr, ", %zu with no addressee", set.no_addressee);
	if (nbad > set.no_addressee)
		fprintf(stderr, ", %zu unreadable", nbad - set.no_addressee);
	fputc('\n', stderr);
	st_buf_free(&R.out);
	st_report_set_free(&set);
	st_store_close(R.store);
	st_config_free(&o.cfg);
	if (o.pass != NULL) {
		memset(o.pass, 0, strlen(o.pass));
		free(o.pass);
	}
	free(templ);
	return rc;
}
