/*
 * out_bounces_json.c - "bounces --json": one object per message, then the
 * summary object, as CONTRACT.md shows them.
 *
 * Besides the contract's fields each record has "arrival" (when the
 * bounce reached the mailbox, ISO-8601 UTC, or null) and
 * "backscatter_why" (one sentence); each recipient has "action" and, for
 * feedback reports, "feedback_type"; the original has "where" (which
 * part of the bounce carried it).  The summary adds "undetermined"
 * (bounces whose verdict is null), "me" (what the verdicts were based on)
 * and per origin "country" and "scope" (domestic | overseas | null).
 */
#include <stdint.h>
#include <string.h>

#include "out_bounces.h"

static void
rcpt_json(struct jw *w, const struct st_bounce_rcpt *r)
{
	jw_obj(w);
	jw_kstr(w, "address", r->address);
	jw_kstr(w, "status", r->status);
	jw_kstr(w, "reason", r->reason);
	jw_kstr(w, "reply_code", r->reply_code);
	jw_kstr(w, "remote_mta", r->remote_mta);
	jw_kstr(w, "diagnostic", r->diagnostic);
	jw_kstr(w, "action", r->action);
	if (r->feedback_type != NULL && *r->feedback_type)
		jw_kstr(w, "feedback_type", r->feedback_type);
	jw_end_obj(w);
}

static void verdict(struct jw *w, int backscatter, const char *why);

void
out_bounce_json(struct st_buf *out, struct bounce_rec *r)
{
	struct jw w;
	const struct st_bounce *b = r->b;
	size_t i;

	r->verdict_at = SIZE_MAX;
	jw_init(&w, out);
	jw_obj(&w);
	jw_kobj(&w, "source");
	jw_kstr(&w, "path", r->path);
	jw_kint(&w, "index", (long long)r->rm->index);
	jw_end_obj(&w);
	jw_kstr(&w, "error", r->error);
	if (b == NULL) {
		jw_kbool(&w, "is_bounce", false);
		jw_kstr(&w, "kind", "not-bounce");
		jw_kstr(&w, "reporting_mta", "");
		jw_karr(&w, "recipients");
		jw_end_arr(&w);
		jw_knull(&w, "original");
		jw_knull(&w, "backscatter");
		jw_end_obj(&w);
		st_buf_putc(out, '\n');
		return;
	}
	jw_kbool(&w, "is_bounce", b->kind != ST_BOUNCE_NONE);
	jw_kstr(&w, "kind", st_bounce_kind_name(b->kind));
	jw_kstr(&w, "reporting_mta", b->reporting_mta);
	jw_kdate(&w, "arrival", b->has_arrival, b->arrival);
	jw_karr(&w, "recipients");
	for (i = 0; i < b->nrcpts; i++)
		rcpt_json(&w, &b->rcpts[i]);
	jw_end_arr(&w);
	if (b->rcpts_dropped)	/* past ST_MAX_BOUNCE_RCPTS: said, not lost */
		jw_kint(&w, "recipients_dropped", (long long)b->rcpts_dropped);
	if (!r->have_orig)
		jw_knull(&w, "original");
	else {
		const struct st_trace *t = r->t;

		jw_kobj(&w, "original");
		jw_kstr(&w, "message_id", r->orig_ok ? t->sum.message_id : "");
		jw_kstr(&w, "from", r->orig_ok ? t->sum.from : "");
		jw_kstr(&w, "to", r->orig_ok ? t->sum.to : "");
		jw_kstr(&w, "subject", r->orig_ok ? t->sum.subject : "");
		jw_kdate(&w, "date", r->orig_ok && t->sum.has_date,
		    r->orig_ok ? t->sum.date.utc : 0);
		jw_kbool(&w, "headers_found", r->orig_ok);
		jw_kstr(&w, "where", b->orig_where);
		if (!r->orig_ok && r->orig_error != NULL)
			jw_kstr(&w, "error", r->orig_error);
		if (r->orig_ok) {
			jw_kobj(&w, "trace");
			out_trace_json(&w, t);
			jw_end_obj(&w);
		} else
			jw_knull(&w, "trace");
		jw_end_obj(&w);
	}
	if (r->defer) {
		/* out_bounce_verdict_json() writes the rest */
		r->verdict_at = out->len;
		return;
	}
	verdict(&w, r->backscatter, r->why);
}

/* The record's tail: the verdict (after "original"), then its end. */
static void
verdict(struct jw *w, int backscatter, const char *why)
{
	if (backscatter < 0)
		jw_knull(w, "backscatter");
	else
		jw_kbool(w, "backscatter", backscatter == 1);
	jw_kstr(w, "backscatter_why", why ? why : "");
	jw_end_obj(w);
	st_buf_putc(w->b, '\n');
}

void
out_bounce_verdict_json(struct st_buf *out, int backscatter, const char *why)
{
	struct jw w;

	/* inside the record's object, after its "original" member */
	jw_init(&w, out);
	w.depth = 1;
	w.need_comma[1] = true;
	verdict(&w, backscatter, why);
}

void
out_bounces_summary_json(struct st_buf *out,
    const struct st_campaign_summary *s)
{
	struct jw w;
	size_t i;

	jw_init(&w, out);
	jw_obj(&w);
	jw_kobj(&w, "summary");
	jw_kint(&w, "messages", (long long)s->messages);
	jw_kint(&w, "bounces", (long long)s->bounces);
	jw_kint(&w, "backscatter", (long long)s->backscatter);
	jw_kint(&w, "genuine_bounces", (long long)s->genuine);
	jw_kint(&w, "undetermined", (long long)s->undetermined);
	jw_kint(&w, "not_bounces", (long long)s->not_bounces);
	jw_kint(&w, "unreadable", (long long)s->unreadable);
	jw_kobj(&w, "by_reason");
	for (i = 0; i < s->nreasons; i++)
		jw_kint(&w, s->by_reason[i].key, (long long)s->by_reason[i].n);
	jw_end_obj(&w);
	jw_karr(&w, "origins");
	for (i = 0; i < s->norigins; i++) {
		const struct st_campaign_origin *o = &s->origins[i];

		jw_obj(&w);
		jw_kstr(&w, "ip", o->ip);
		jw_kstr(&w, "host", o->host);
		jw_kstr(&w, "org", o->org);
		jw_kstr(&w, "country", o->country);
		jw_kstr(&w, "scope", o->scope);
		jw_kint(&w, "count", (long long)o->count);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_kdate(&w, "first", s->has_first, s->first);
	jw_kdate(&w, "last", s->has_first, s->last);
	jw_kobj(&w, "per_day");
	for (i = 0; i < s->ndays; i++)
		jw_kint(&w, s->per_day[i].key, (long long)s->per_day[i].n);
	jw_end_obj(&w);
	jw_kobj(&w, "me");
	jw_karr(&w, "addresses");
	for (i = 0; i < s->nme; i++)
		jw_str(&w, s->me[i]);
	jw_end_arr(&w);
	jw_karr(&w, "providers");
	for (i = 0; i < s->nproviders; i++)
		jw_str(&w, s->providers[i]);
	jw_end_arr(&w);
	jw_kstr(&w, "country", s->country);
	jw_end_obj(&w);
	jw_end_obj(&w);
	jw_end_obj(&w);
	st_buf_putc(out, '\n');
}
