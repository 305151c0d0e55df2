/*
 * trace.c - the message summary and the hop list, the input of every
 * analysis.  The analysis itself (trust, origin, source, roles, findings,
 * contacts) is in analyse.c.
 */
#include <stdint.h>
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

/* The fields of the summary, each the first of its name. */
enum { F_MSGID, F_FROM, F_RPATH, F_TO, F_SUBJECT, F_XMAILER, F_UA, F_DATE,
	F_N };

/*
 * Is h's name `name` (n bytes) ignoring ASCII case?  Eight bytes at a
 * time: equal words are equal (the usual spelling), words that differ in
 * more than bit 5 of some byte differ folded too (folding only sets bit
 * 5); the rest byte by byte.
 */
static bool
is_name(const struct st_header *h, const char *name, size_t n)
{
	const uint64_t bit5 = 0x2020202020202020u;
	uint64_t x, y;
	size_t i;

	if (h->name_len != n)
		return false;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, h->name + i, 8);
		memcpy(&y, name + i, 8);
		if (x != y && ((x | bit5) != (y | bit5) ||
		    !st_ascii_ieq(h->name + i, name + i, 8)))
			return false;
	}
	return st_ascii_ieq(h->name + i, name + i, n - i);
}

/*
 * One pass over the header: the first field of each name the summary
 * uses, and the number of Received fields (st_msg_get() per name would
 * walk the header nine times).
 */
static size_t
pick_fields(const struct st_msg *m, const struct st_header *f[F_N])
{
	size_t i, nrcvd = 0;
	int k;

	for (k = 0; k < F_N; k++)
		f[k] = NULL;
	for (i = 0; i < m->nhdrs; i++) {
		const struct st_header *h = &m->hdrs[i];

		k = -1;
		switch (h->name_len) {
		case 2:
			k = is_name(h, "To", 2) ? F_TO : -1;
			break;
		case 4:
			k = is_name(h, "From", 4) ? F_FROM :
			    is_name(h, "Date", 4) ? F_DATE : -1;
			break;
		case 7:
			k = is_name(h, "Subject", 7) ? F_SUBJECT : -1;
			break;
		case 8:
			if (is_name(h, "Received", 8))
				nrcvd++;
			else if (is_name(h, "X-Mailer", 8))
				k = F_XMAILER;
			break;
		case 10:
			k = is_name(h, "Message-ID", 10) ? F_MSGID :
			    is_name(h, "User-Agent", 10) ? F_UA : -1;
			break;
		case 11:
			k = is_name(h, "Return-Path", 11) ? F_RPATH : -1;
			break;
		}
		if (k >= 0 && f[k] == NULL)
			f[k] = h;
	}
	return nrcvd;
}

enum st_status
st_trace_hops(struct st_msg *m, struct st_trace *t)
{
	struct st_arena *a = m->arena;
	size_t n, i, k;
	const struct st_header *h, *f[F_N];
	char *id;

	memset(t, 0, sizeof(*t));
	n = pick_fields(m, f);
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
	for (i = 0, k = 0; i < m->nhdrs && k < n; i++) {
		h = &m->hdrs[i];
		if (!is_name(h, "Received", 8))
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
