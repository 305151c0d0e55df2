/*
 * input.h - find the messages in whatever path the user gave.
 *
 * A path may be one message file, an mbox (mboxo or mboxrd), a Maildir
 * (cur/ new/ tmp/), a directory of message files, or "-" for standard input.
 * The format is detected from the content, never from the name.  Messages
 * are handed out one at a time, in order, with their position; the reader
 * streams, so memory is bounded by the largest message (ST_MAX_MESSAGE_SIZE),
 * never by the mailbox.
 */
#ifndef SPAMTRACE_INPUT_H
#define SPAMTRACE_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

enum st_input_kind {
	ST_INPUT_MESSAGE,	/* one message (file or stdin) */
	ST_INPUT_MBOX,
	ST_INPUT_MAILDIR,
	ST_INPUT_DIR,		/* plain directory of message files */
	ST_INPUT_EMPTY		/* zero-length file */
};

struct st_input;

/*
 * One message as read.  data/len point into the reader's buffer and stay
 * valid until the next st_input_next() or st_input_close().  When the
 * message could not be read (too large, unreadable file in a directory),
 * error is set and data may be NULL: the caller still emits a record.
 */
struct st_rawmsg {
	const char *path;	/* the file the message is in */
	size_t	index;		/* 0-based position inside path (mbox) or
				 * in the directory listing (Maildir, dir) */
	const char *data;
	size_t	len;
	uint64_t offset;	/* byte offset in path (mbox) */
	const char *envelope;	/* mbox "From " line (without "From "), or NULL */
	size_t	envelope_len;
	enum st_status error;	/* ST_OK, or why this message is missing */
	char	errmsg[200];
};

enum st_status st_input_open(struct st_input **in, const char *path,
	    struct st_error *err);
/* ST_OK with *msg filled, ST_EOF at the end, ST_EIO on a fatal read error. */
enum st_status st_input_next(struct st_input *in, struct st_rawmsg *msg);
enum st_input_kind st_input_kind(const struct st_input *in);
const char *st_input_kind_name(enum st_input_kind kind);
uint64_t st_input_bytes_read(const struct st_input *in);
void	st_input_close(struct st_input *in);

/* The mbox separator rule, exposed for tests and fuzzing: does the line at
 * p (len bytes, no line ending) start a new message?  prev_blank tells
 * whether the previous line was empty (or this is the first line). */
int	st_mbox_is_separator(const char *p, size_t len, int prev_blank);

#endif
