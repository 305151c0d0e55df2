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

/* Past this many hops a message is looping (sendmail gives up at 25,
 * Postfix at 50; RFC 5321 6.3): a finding, not a limit on the analysis. */
#define ST_LOOP_HOPS		25

/* Nesting of comments inside one Received value (rspamd caps similarly). */
#define ST_MAX_COMMENT_DEPTH	32

/* Tokens (words, comments, semicolons) of one Received value that the
 * parser analyses.  Real lines have well under 100 (an Office 365 line
 * about 40); the rest of a longer value is kept in raw, not read. */
#define ST_MAX_RECEIVED_TOKENS	512

/* MIME structure of bounces: GMime's parser is given these bounds. */
#define ST_MAX_MIME_DEPTH	32
#define ST_MAX_MIME_PARTS	1000

/* RFC 2047 encoded words: RFC 2047 says 75 octets; senders exceed it,
 * we decode up to this many bytes of one header for display. */
#define ST_MAX_DECODE_LEN	16384

/* Recipients read from one bounce. */
#define ST_MAX_BOUNCE_RCPTS	1000

/* Text of a bounce examined for recipients and reasons (the decoded
 * human-readable parts, before the copy of the original).  Real bounce
 * texts are a few kB; a 1 MB cap keeps hostile ones cheap.  The copy of
 * the original kept for the trace is capped the same way (its header
 * block is all the trace reads). */
#define ST_MAX_BOUNCE_TEXT	(1024u * 1024)
#define ST_MAX_BOUNCE_ORIGINAL	(1024u * 1024)

/* Diagnostic text looked at by the reason rules, and kept per recipient
 * in the output (one line). */
#define ST_MAX_REASON_TEXT	8192
#define ST_MAX_DIAGNOSTIC	1024

/* Campaign summary (bounces --json/--html): distinct origins and days are
 * kept in full (they grow with distinct values only); the examples kept
 * per origin for the HTML drill-down are capped. */
#define ST_MAX_CAMPAIGN_EXAMPLES	20
/* Bounces remembered while learning what the user's own mail looks like
 * (their provider, their Message-ID domains): the first 20000 are plenty
 * and keep the learning pass bounded. */
#define ST_MAX_CAMPAIGN_LEARN	20000

/* SMTP replies (RFC 5321 4.5.3.1.5: 512 octets per line); the client caps
 * one line and one whole multi-line reply. */
#define ST_MAX_SMTP_LINE	4096
#define ST_MAX_SMTP_REPLY	65536

/* One SMTP session's transcript (every line sent and received, kept for
 * --verbose and the JSON).  The full relay battery is well under 16 KB; a
 * server that floods multi-line replies stops being recorded here (one
 * "truncated" note ends it). */
#define ST_MAX_SMTP_TRANSCRIPT	(256u * 1024)

/* Config file: line length and number of lines. */
#define ST_MAX_CONFIG_LINE	4096
#define ST_MAX_CONFIG_LINES	100000

/* Per-message arena ceiling: everything derived from one message. */
#define ST_MAX_ARENA		(256u * 1024 * 1024)

/* --- DNS (trace --dns).  Answers come from servers we do not control
 * (a spammer runs the reverse zone of his own addresses), so every count
 * and length taken from them is capped. */

/* A domain name in text: RFC 1035 2.3.4 allows 255 octets on the wire,
 * 253 in text; the buffer also holds \DDD escapes of odd labels. */
#define ST_DNS_NAME_BUF		1024

/* PTR names kept per address.  RFC 1035 sets no limit; real addresses
 * have one, rarely a few; each kept name costs a forward lookup. */
#define ST_DNS_MAX_PTR		8

/* A/AAAA addresses kept per name (FCrDNS compares against them).  Large
 * round-robin names have tens; 32 is plenty to confirm one address. */
#define ST_DNS_MAX_ADDRS	32

/* TXT records kept per blocklist answer, and bytes of the joined reason
 * (DNSBL reasons are one short URL or sentence). */
#define ST_DNS_MAX_TXT		8
#define ST_DNS_MAX_TXT_LEN	512

/* Listing codes (A records) kept per blocklist answer: combined lists
 * such as Spamhaus ZEN return a few at most. */
#define ST_DNS_MAX_CODES	8

/* Resource records examined in one answer section, and CNAME links
 * followed (RFC 1034 3.6.2 chains; RFC 2317 classless PTRs use one). */
#define ST_DNS_MAX_RRS		128
#define ST_DNS_MAX_CNAME	8

/* Blocklist zones queried (each costs a query per address). */
#define ST_DNS_MAX_ZONES	32

/* Distinct addresses looked up per message: origin, source and relays;
 * a forged header block can list hundreds of relays, and each address
 * costs 1 + zones queries (and more to others' blocklists). */
#define ST_DNS_MAX_TRACE_ADDRS	64

/* Queries in flight at once per resolver handle (the rest wait their
 * turn).  A resolver's socket buffer drops a burst past it: dnsmasq with
 * Linux defaults answered 256 of 300 queries sent at once, and each lost
 * one costs a retry timeout.  64 keeps ~30000 queries/s on loopback. */
#define ST_DNS_MAX_INFLIGHT	64

/* Entries of the run's cache; past it the cache is emptied between
 * batches (a run over a huge mailbox re-asks, never grows unbounded). */
#define ST_DNS_MAX_CACHE	65536

/* TTLs: answers are kept for the run at least ST_DNS_MIN_RUN_TTL seconds
 * (resolvers and dnsmasq hand out TTL 0), and never longer than
 * ST_DNS_MAX_TTL (one day: blocklists change; RFC 2181 8 allows 2^31). */
#define ST_DNS_MIN_RUN_TTL	300
#define ST_DNS_MAX_TTL		86400

/* A query that got no answer is not re-asked for this many seconds.  A
 * resolver that answered nothing at all while this many queries failed
 * (each after its retries), or a blocklist zone whose queries failed this
 * many times in a row, is taken as dead for ST_DNS_DEAD_SECS: its queries
 * then fail at once, so a mailbox costs one timeout, not one a message. */
#define ST_DNS_RETRY_AFTER	60
#define ST_DNS_DEAD_FAILS	2
#define ST_DNS_DEAD_SECS	30

/* Distinct warnings kept per resolver handle. */
#define ST_DNS_MAX_WARNINGS	100

/* Reports (lib/report): addressees kept per message (a trace names a few
 * abuse@/postmaster@ pairs; more is a broken or hostile trace), Received
 * lines copied per incident (the letter shows them; ST_MAX_HOPS is for
 * analysis), incidents listed one per line and shown in full in one
 * letter (a campaign of thousands is summarised, the count is exact), and
 * the memory of one run's report set (the attached header blocks). */
#define ST_MAX_REPORT_ADDRESSEES	64
#define ST_MAX_REPORT_HOPS		100
#define ST_MAX_REPORT_LISTED		500
#define ST_MAX_REPORT_DETAILED		5
#define ST_MAX_REPORT_ARENA		(512u * 1024 * 1024)

/* Milter (spamtrace milter): what one SMTP transaction may make us keep.
 * The header block is what the trace reads; Postfix's header_size_limit
 * defaults to 100 kB and sendmail's MaxHeadersLength to 32 kB, so 1 MB
 * keeps any real header block whole.  Of the body only the start is kept,
 * for the bounce reader: a bounce's report and the copy of the original's
 * headers come first, and ST_MAX_BOUNCE_TEXT caps what it reads anyway.
 * Past either cap the rest is not kept (the header says truncated=yes);
 * the message still goes through.  The arena ceiling bounds what the
 * analysis of those 2 MB may allocate (a failed allocation fails open). */
#define ST_MAX_MILTER_HEADER	(1024u * 1024)
#define ST_MAX_MILTER_BODY	(1024u * 1024)
#define ST_MAX_MILTER_ARENA	(64u * 1024 * 1024)

#endif
