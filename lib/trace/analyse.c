/*
 * analyse.c - placeholder: the full analysis lands with issue 3.
 */
#include <string.h>

#include "spamtrace/trace.h"

enum st_status
st_trace_message(struct st_msg *m, const struct st_config *cfg,
    const struct st_top_hop *top, struct st_trace *t, struct st_error *err)
{
	enum st_status rc = st_trace_hops(m, t);

	if (rc != ST_OK)
		return st_error_set(err, rc, "%s", st_strerror(rc));
	return ST_OK;
}

void
st_trace_add_dns(struct st_trace *t, struct st_arena *a, const char *ip,
    const struct st_dns_info *dns)
{
}
