/*
 * trace.c - the message summary and the hop list, the input of every
 * analysis.  The analysis itself (trust, origin, source, roles, findings,
 * contacts) is in analyse.c.
 */
#include <string.h>

#include "spamtrace/limits.h"
#include "spamtrace/trace.h"

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

static const char *
addr_of(struct st_msg *m, const char *name)
{
	const struct st_header *h = st_msg_get(m, name, 0);
	char *dec, *a;

	size_t n;

	if (h == NULL)
		return "";
	/* addresses are never encoded (RFC 2047 5): the unfolded value */
	dec = st_hdr_unfold(m->arena, h->value, h->value_len, &n);
	if (dec == NULL)
		return "";
	a = st_addr_extract(m->arena, dec, n);
	return or_empty(a);
}

enum st_status
st_trace_hops(struct st_msg *m, struct st_trace *t)
{
	struct st_arena *a = m->arena;
	size_t n = 0, i, k;
	const struct st_header *h;

	memset(t, 0, sizeof(*t));
	t->sum.message_id = or_empty(st_msg_unfolded(m, "Message-ID"));
	t->sum.from = or_empty(st_msg_decoded(m, "From"));
	t->sum.from_addr = addr_of(m, "From");
	t->sum.return_path = addr_of(m, "Return-Path");
	t->sum.to = or_empty(st_msg_decoded(m, "To"));
	t->sum.to_addr = addr_of(m, "To");
	t->sum.subject = or_empty(st_msg_decoded(m, "Subject"));
	t->sum.x_mailer = or_empty(st_msg_decoded(m, "X-Mailer"));
	if (*t->sum.x_mailer == '\0')
		t->sum.x_mailer = or_empty(st_msg_decoded(m, "User-Agent"));
	if ((h = st_msg_get(m, "Date", 0)) != NULL)
		t->sum.has_date = st_date_parse(h->value, h->value_len,
		    &t->sum.date);

	for (i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].name_len == 8 &&
		    strncasecmp(m->hdrs[i].name, "Received", 8) == 0)
			n++;
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
		if (h->name_len != 8 || strncasecmp(h->name, "Received", 8))
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
