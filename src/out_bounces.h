/*
 * out_bounces.h - the writers of "spamtrace bounces": one record per
 * message (JSON or text), the campaign summary (JSON, text) and the HTML
 * report.  Shared by cmd_bounces.c and the out_bounces_*.c files only.
 */
#ifndef ST_OUT_BOUNCES_H
#define ST_OUT_BOUNCES_H

#include "cli.h"
#include "spamtrace/bounce.h"
#include "spamtrace/campaign.h"

/* One message, as cmd_bounces.c worked it out. */
struct bounce_rec {
	const struct st_rawmsg *rm;
	const char *path;		/* as the user named it ("-") */
	const char *error;		/* NULL when readable */
	const struct st_bounce *b;	/* NULL on error */
	bool	have_orig;		/* b->orig present */
	bool	orig_ok;		/* its headers parsed and traced */
	const char *orig_error;		/* why not, when !orig_ok */
	const struct st_trace *t;	/* the original's trace */
	int	backscatter;		/* 1, 0, -1 */
	const char *why;		/* why that verdict */
	/* defer: the verdict is not known yet; the writers leave it out and
	 * set verdict_at to where in out it goes (SIZE_MAX: nowhere), and
	 * out_bounce_verdict_*() writes it there later */
	bool	defer;
	size_t	verdict_at;
};

void	out_bounce_json(struct st_buf *out, struct bounce_rec *r);
void	out_bounce_text(struct st_buf *out, struct bounce_rec *r);
void	out_bounce_verdict_json(struct st_buf *out, int backscatter,
	    const char *why);
void	out_bounce_verdict_text(struct st_buf *out, int backscatter);
void	out_bounces_summary_json(struct st_buf *out,
	    const struct st_campaign_summary *s);
void	out_bounces_summary_text(struct st_buf *out,
	    const struct st_campaign_summary *s);
/* Write the HTML report; 0 or -1 with errno set. */
int	out_bounces_html(const char *file, const struct st_campaign_summary *s,
	    const char *title);

#endif
