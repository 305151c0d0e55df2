/*
 * received.c - placeholder until the full parser lands.
 */
#include <string.h>

#include "spamtrace/received.h"

bool
st_received_parse(struct st_arena *a, const char *p, size_t len,
    struct st_hop *hop)
{
	memset(hop, 0, sizeof(*hop));
	hop->raw = st_arena_strndup(a, p, len);
	hop->ip = hop->rdns = hop->ident = hop->by = hop->id = hop->auth =
	    hop->with = hop->for_ = hop->helo = hop->envfrom = "";
	hop->mta = "unknown";
	return hop->raw != NULL;
}
