/*
 * out_bounces_html.c - placeholder (filled in below).
 */
#include "out_bounces.h"

int
out_bounces_html(const char *file, const struct st_campaign_summary *s,
    const char *title)
{
	return 0;
}
