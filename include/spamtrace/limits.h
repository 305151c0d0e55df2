/*
 * limits.h - every limit spamtrace enforces on hostile input, in one place.
 *
 * spamtrace reads spam: each number here bounds what a sender can make us
 * spend.  Going past a limit is recorded (a defect flag, a finding or a
 * per-message error); it never crashes the run nor silently drops a message.
 */
#ifndef SPAMTRACE_LIMITS_H
#define SPAMTRACE_LIMITS_H

/* Largest message we analyse (bytes).  Real mail over 64 MB is rare and
 * spam never needs it; bigger messages get an error record, the run goes
 * on.  The mailbox reader's buffer never grows past this. */
#define ST_MAX_MESSAGE_SIZE	(64u * 1024 * 1024)

/* Header block: the trace reads headers only.  RFC 5322 sets no limit;
 * Postfix's header_size_limit defaults to 102400; we allow 8 MB in total so
 * forwarded chains with hundreds of hops still fit. */
#define ST_MAX_HEADER_BLOCK	(8u * 1024 * 1024)

/* Number of header fields kept per message (the rest are counted and
 * flagged).  Real mail has well under 200. */
#define ST_MAX_HEADERS		10000

/* One header field (unfolded value) kept for analysis.  RFC 5322 line
 * limit is 998 octets, folded values can be longer; OpenSMTPD caps values
 * at 65536. Longer values are truncated for analysis and flagged. */
#define ST_MAX_HEADER_VALUE	65536

/* Received hops analysed per message.  Postfix bounces mail after 50 hops
 * (hopcount_limit); 1000 is far beyond any honest path. */
#define ST_MAX_HOPS		1000

/* Nesting of comments inside one Received value (rspamd caps similarly). */
#define ST_MAX_COMMENT_DEPTH	32

/* MIME structure of bounces: GMime's parser is given these bounds. */
#define ST_MAX_MIME_DEPTH	32
#define ST_MAX_MIME_PARTS	1000

/* RFC 2047 encoded words: RFC 2047 says 75 octets; senders exceed it,
 * we decode up to this many bytes of one header for display. */
#define ST_MAX_DECODE_LEN	16384

/* Recipients read from one bounce. */
#define ST_MAX_BOUNCE_RCPTS	1000

/* SMTP replies (RFC 5321 4.5.3.1.5: 512 octets per line); the client caps
 * one line and one whole multi-line reply. */
#define ST_MAX_SMTP_LINE	4096
#define ST_MAX_SMTP_REPLY	65536

/* Config file: line length and number of lines. */
#define ST_MAX_CONFIG_LINE	4096
#define ST_MAX_CONFIG_LINES	100000

/* Per-message arena ceiling: everything derived from one message. */
#define ST_MAX_ARENA		(256u * 1024 * 1024)

#endif
