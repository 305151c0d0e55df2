/*
 * msg.h - one message: its bytes, its arena, its header fields.
 *
 * st_msg_parse() scans the header block of a message held in memory (any
 * line ending: CRLF, LF or CR; embedded NULs are data) without copying it:
 * each field is a span into the message buffer.  Values are unfolded and
 * decoded on request into the message's arena.
 */
#ifndef SPAMTRACE_MSG_H
#define SPAMTRACE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "error.h"

struct st_header {
	const char *name;	/* points into the message buffer */
	size_t	name_len;
	const char *value;	/* raw, folded, after the colon; in buffer */
	size_t	value_len;
};

/* Defects found while scanning (recorded, never fatal). */
#define ST_MSG_DEFECT_NO_HEADERS	0x01	/* first line is not a field */
#define ST_MSG_DEFECT_BAD_LINE		0x02	/* a line with no colon */
#define ST_MSG_DEFECT_TOO_MANY		0x04	/* more than ST_MAX_HEADERS */
#define ST_MSG_DEFECT_HEADER_BLOCK	0x08	/* past ST_MAX_HEADER_BLOCK */
#define ST_MSG_DEFECT_NUL		0x10	/* NUL bytes in the header */
#define ST_MSG_DEFECT_NO_BODY_SEP	0x20	/* no empty line (truncated?) */
#define ST_MSG_DEFECT_LONG_VALUE	0x40	/* a value past ST_MAX_HEADER_VALUE */

struct st_msg {
	struct st_arena *arena;	/* owned by the caller; outlives the msg */
	const char *buf;	/* the whole message; not owned */
	size_t	len;
	struct st_header *hdrs;	/* in the arena, in order */
	size_t	nhdrs;
	size_t	body_off;	/* offset of the body in buf (== len if none) */
	unsigned defects;	/* ST_MSG_DEFECT_* */
};

/* Scan the header block.  Fails only on ST_ENOMEM (arena ceiling). */
enum st_status st_msg_parse(struct st_msg *m, struct st_arena *a,
	    const char *buf, size_t len);

/* The n-th (0-based) field with this name (case-insensitive), or NULL. */
const struct st_header *st_msg_get(const struct st_msg *m, const char *name,
	    size_t n);
size_t	st_msg_count(const struct st_msg *m, const char *name);
/*
 * The first field of each of names[0..n) (n <= ST_MSG_PICK_MAX, distinct
 * names of 1 to 63 bytes), found in one pass over the header instead of
 * one st_msg_get() walk per name: out[i] is NULL when there is none.
 * With counts, also how many fields carry each name.
 */
#define ST_MSG_PICK_MAX	32
void	st_msg_pick(const struct st_msg *m, const char *const *names,
	    size_t n, const struct st_header **out, size_t *counts);

/* Unfold a raw value: CR/LF removed, leading/trailing white space trimmed,
 * NULs kept as is, at most ST_MAX_HEADER_VALUE bytes.  NUL-terminated copy
 * in the arena (*lenp gets the length, which may include NULs). */
char   *st_hdr_unfold(struct st_arena *a, const char *p, size_t len,
	    size_t *lenp);
/* Unfold and decode for display: RFC 2047 words and raw 8-bit charsets
 * (ISO-2022-JP, Shift_JIS, EUC-JP, Windows-1252, UTF-8) to UTF-8, through
 * GMime.  Invalid bytes become U+FFFD; control characters are kept out. */
char   *st_hdr_decode(struct st_arena *a, const char *p, size_t len);
/* Convenience: decoded value of the first field `name`, or NULL. */
char   *st_msg_decoded(struct st_msg *m, const char *name);
/* Convenience: unfolded value of the first field `name`, or NULL. */
char   *st_msg_unfolded(struct st_msg *m, const char *name);

/* Extract the bare address (local@domain) from an address header value
 * ("Name <a@b>", "a@b (comment)", "<a@b>"); NULL when none. */
char   *st_addr_extract(struct st_arena *a, const char *p, size_t len);

/* One-time library setup (GMime); safe to call many times. */
void	st_library_init(void);

#endif
