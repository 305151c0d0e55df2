/*
 * trace.c - the message summary and the hop list, the input of every
 * analysis.  The analysis itself (trust, origin, source, roles, findings,
 * contacts) is in analyse.c.
 */
#include <string.h>

#include "spamtrace/limits.h"
#include "spamtrace/trace.h"
#include "util/ascii.h"

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

const char *
st_trust_name(enum st_trust t)
{
	switch (t) {
	case ST_TRUST_TRUSTED:		return "trusted";
	case ST_TRUST_BOUNDARY:		return "boundary";
	case ST_TRUST_UNTRUSTED:	return "untrusted";
	default:			return "untrusted";
	}
}

const char *
st_severity_name(enum st_severity s)
{
	switch (s) {
	case ST_SEV_HIGH:	return "high";
	case ST_SEV_MEDIUM:	return "medium";
	case ST_SEV_LOW:	return "low";
	default:		return "info";
	}
}

/* The address in header h (NULL: none): its unfolded value, since
 * addresses are never encoded (RFC 2047 5). */
static const char *
addr_of(struct st_msg *m, const struct st_header *h)
{
	char *dec, *a;
	size_t n;

	if (h == NULL)
		return "";
	/* a value on one line (most) is read where it is: unfolding would
	 * only trim the white space around it, which the extraction skips
	 * anyway */
	if (h->value_len <= ST_MAX_HEADER_VALUE &&
	    memchr(h->value, '\n', h->value_len) == NULL &&
	    memchr(h->value, '\r', h->value_len) == NULL) {
		a = st_addr_extract(m->arena, h->value, h->value_len);
		return or_empty(a);
	}
	dec = st_hdr_unfold(m->arena, h->value, h->value_len, &n);
	if (dec == NULL)
		return "";
	a = st_addr_extract(m->arena, dec, n);
	return or_empty(a);
}

static const char *
decoded(struct st_msg *m, const struct st_header *h)
{
	return h != NULL ? or_empty(st_hdr_decode(m->arena, h->value,
	    h->value_len)) : "";
}

/* The fields of the summary, each the first of its name, and Received. */
enum { F_MSGID, F_FROM, F_RPATH, F_TO, F_SUBJECT, F_XMAILER, F_UA, F_DATE,
	F_RECEIVED, F_N };
static const char *const field_names[F_N] = { "Message-ID", "From",
	"Return-Path", "To", "Subject", "X-Mailer", "User-Agent", "Date",
	"Received" };

enum st_status
st_trace_hops(struct st_msg *m, struct st_trace *t)
{
	struct st_arena *a = m->arena;
	size_t n, i, k;
	const struct st_header *h, *f[F_N];
	size_t count[F_N];
	char *id;

	memset(t, 0, sizeof(*t));
	st_msg_pick(m, field_names, F_N, f, count);
	n = count[F_RECEIVED];
	id = f[F_MSGID] != NULL ? st_hdr_unfold(a, f[F_MSGID]->value,
	    f[F_MSGID]->value_len, NULL) : NULL;
	t->sum.message_id = or_empty(id);
	t->sum.from = decoded(m, f[F_FROM]);
	t->sum.from_addr = addr_of(m, f[F_FROM]);
	t->sum.return_path = addr_of(m, f[F_RPATH]);
	t->sum.to = decoded(m, f[F_TO]);
	t->sum.to_addr = addr_of(m, f[F_TO]);
	t->sum.subject = decoded(m, f[F_SUBJECT]);
	t->sum.x_mailer = decoded(m, f[F_XMAILER]);
	if (*t->sum.x_mailer == '\0')
		t->sum.x_mailer = decoded(m, f[F_UA]);
	if ((h = f[F_DATE]) != NULL)
		t->sum.has_date = st_date_parse(h->value, h->value_len,
		    &t->sum.date);

	if (n > ST_MAX_HOPS) {
		t->hops_dropped = n - ST_MAX_HOPS;
		n = ST_MAX_HOPS;
	}
	if (n == 0)
		return ST_OK;
	if ((t->hops = st_arena_alloc(a, n * sizeof(*t->hops))) == NULL)
		return ST_ENOMEM;
	/* from the first Received field on */
	for (i = (size_t)(f[F_RECEIVED] - m->hdrs), k = 0; i < m->nhdrs &&
	    k < n; i++) {
		h = &m->hdrs[i];
		if (h->name_len != 8 || !st_ascii_ieq(h->name, "Received", 8))
			continue;
		if (!st_received_parse(a, h->value, h->value_len,
		    &t->hops[k]))
			return ST_ENOMEM;
		t->hops[k].index = (int)k + 1;
		k++;
	}
	t->nhops = k;
	return ST_OK;
}
