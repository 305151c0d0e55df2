/*
 * smtp.h - the SMTP client of libspamtrace (RFC 5321, 3207, 4954, 3463).
 *
 * One client for the two users that talk SMTP: the relay probe (which never
 * sends DATA) and the report sender (which submits a report through a
 * smarthost).  POSIX sockets in non-blocking mode driven by poll(2), names
 * resolved with getaddrinfo(3) (IPv4 and IPv6), OpenSSL for STARTTLS.
 * Pipelining is never assumed: one command, one reply.
 *
 * Every limit and timeout lives in one struct st_smtp_params (filled with
 * defaults by st_smtp_params_init()).  Every call that waits is bounded by
 * its own timeout and by the session's overall deadline, whichever comes
 * first, so no peer (a tarpit, a server that dribbles a byte a minute) can
 * hold a caller longer than it asked.
 *
 * Errors (struct st_error, never printed):
 *   ST_ENET      resolution or connection failed, the peer closed the
 *                connection, TLS failed (err->sys_errno when relevant)
 *   ST_ETIMEOUT  a timeout or the overall deadline passed
 *   ST_EPARSE    the peer's bytes are not an SMTP reply (garbage)
 *   ST_ELIMIT    a reply line or a whole reply is past its cap
 *   ST_EINVAL    bad argument (CR or LF inside a command or address, a
 *                command in the wrong state, DATA body over the cap)
 * After an ST_ENET, ST_ETIMEOUT, ST_EPARSE or ST_ELIMIT the session is
 * dead: only the transcript and st_smtp_close() remain usable.
 *
 * A "reply" below is the server's complete answer to one command (RFC 5321
 * 4.2: one or more lines, "NNN-" continuation lines then a "NNN " last
 * line).  Replies are returned to the caller; the caller owns them and frees
 * them with st_smtp_reply_free().
 *
 * Thread safety: one session is used by one thread at a time; different
 * sessions may run in different threads.  With TLS, OpenSSL may write to a
 * socket the peer has closed: a program using STARTTLS should ignore
 * SIGPIPE (plain writes use MSG_NOSIGNAL and need nothing).
 */
#ifndef SPAMTRACE_SMTP_H
#define SPAMTRACE_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "limits.h"

/* ------------------------------------------------------------------ */
/* Replies: the pure parser (no I/O, fuzzable, unit-tested)            */
/* ------------------------------------------------------------------ */

/* Defects recorded while parsing a reply (the reply is still usable). */
#define ST_SMTP_DEFECT_BARE_LF		0x01u	/* line ended with LF, not CRLF */
#define ST_SMTP_DEFECT_CODE_MISMATCH	0x02u	/* lines of one reply carry different codes */
#define ST_SMTP_DEFECT_NO_SEPARATOR	0x04u	/* "250" alone, or "250x": no SP or '-' after the code */
#define ST_SMTP_DEFECT_NUL		0x08u	/* a NUL byte inside a line (kept as-is in raw) */
#define ST_SMTP_DEFECT_BAD_CODE		0x10u	/* code outside 2yz..5yz (RFC 5321 4.2.1) but 3 digits */

struct st_smtp_reply {
	int	code;		/* the three-digit code, 0 before the first line */
	char	enhanced[16];	/* RFC 3463 "c.s.d" from the first line, "" if none */
	size_t	nlines;		/* lines received so far */
	char   *raw;		/* every line as received, line ends dropped,
				 * lines separated by "\n", NUL-terminated (a
				 * NUL inside a line stays: use rawlen); owned,
				 * malloc'd; NULL when nlines == 0 */
	size_t	rawlen;
	bool	complete;	/* the last line ("NNN " or "NNN") was seen */
	unsigned defects;	/* ST_SMTP_DEFECT_* */
	/* limits, set by st_smtp_reply_init() */
	size_t	max_line;	/* one line, without its line end */
	size_t	max_reply;	/* rawlen cap */
};

/* Prepare an empty reply with the given caps (0: ST_MAX_SMTP_LINE /
 * ST_MAX_SMTP_REPLY). */
void	st_smtp_reply_init(struct st_smtp_reply *r, size_t max_line,
	    size_t max_reply);
/* Free what the reply owns and make it empty again (caps kept). */
void	st_smtp_reply_free(struct st_smtp_reply *r);

/*
 * Feed bytes p[0..len) to the reply parser.  Consumes complete lines only
 * (ending in LF, CRLF preferred) and stops right after the reply's last
 * line, so bytes that follow (a pipelined reply, a second reply) are left
 * for the next reply.  *consumed gets the number of bytes used.  Call again
 * with more bytes while r->complete is false.  Pure: no I/O, no globals;
 * p need not be NUL-terminated and may contain NUL.
 *
 * Returns ST_OK (check r->complete), ST_EPARSE when a line does not start
 * with three digits (garbage: the session is not SMTP), ST_ELIMIT when a
 * line (complete or still waiting for its LF) is longer than r->max_line or
 * the reply would grow past r->max_reply, ST_ENOMEM.  err (optional) says
 * what and where.  After an error the reply keeps what was parsed.
 */
enum st_status st_smtp_reply_parse(struct st_smtp_reply *r, const char *p,
	    size_t len, size_t *consumed, struct st_error *err);

/* Line i (0-based) of a reply: pointer into r->raw and its length; NULL
 * when i >= r->nlines. */
const char *st_smtp_reply_line(const struct st_smtp_reply *r, size_t i,
	    size_t *len);
/* The reply's text after "NNN-"/"NNN " of line i (e.g. the EHLO keyword
 * line "STARTTLS"); NULL past the end. */
const char *st_smtp_reply_text(const struct st_smtp_reply *r, size_t i,
	    size_t *len);

/* Reply classes (RFC 5321 4.2.1). */
#define ST_SMTP_POSITIVE(code)		((code) >= 200 && (code) < 300)
#define ST_SMTP_INTERMEDIATE(code)	((code) >= 300 && (code) < 400)
#define ST_SMTP_TEMPFAIL(code)		((code) >= 400 && (code) < 500)
#define ST_SMTP_PERMFAIL(code)		((code) >= 500 && (code) < 600)

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

enum st_smtp_tls_mode {
	ST_SMTP_TLS_NEVER = 0,		/* never send STARTTLS (probe --no-tls) */
	ST_SMTP_TLS_IF_OFFERED,		/* STARTTLS when EHLO offers it */
	ST_SMTP_TLS_REQUIRED		/* fail (ST_ENET) unless TLS is set up */
};

enum st_smtp_auth_mech {
	ST_SMTP_AUTH_ANY = 0,		/* PLAIN if offered, else LOGIN */
	ST_SMTP_AUTH_PLAIN,		/* RFC 4616 */
	ST_SMTP_AUTH_LOGIN		/* draft-murchison-sasl-login */
};

struct st_smtp_params {
	/* timeouts in milliseconds; each wait is also bounded by deadline */
	int	connect_timeout_ms;	/* per address tried; default 10000 */
	int	banner_timeout_ms;	/* the 220 greeting; default 30000 */
	int	command_timeout_ms;	/* each reply; default 30000 */
	int	tls_timeout_ms;		/* the TLS handshake; default 15000 */
	int	data_timeout_ms;	/* sending the body + final reply; default 120000 */
	int	total_timeout_ms;	/* the whole session from st_smtp_connect();
					 * 0: none (default 0) */
	/* size caps */
	size_t	max_line;		/* reply line; default ST_MAX_SMTP_LINE */
	size_t	max_reply;		/* one reply; default ST_MAX_SMTP_REPLY */
	size_t	max_transcript;		/* transcript bytes; default ST_MAX_SMTP_TRANSCRIPT */
	size_t	max_data;		/* DATA body bytes; default ST_MAX_MESSAGE_SIZE */
	/* connection */
	int	family;			/* AF_UNSPEC (default), AF_INET, AF_INET6 */
	/* TLS */
	enum st_smtp_tls_mode tls;	/* for st_smtp_hello(); default IF_OFFERED */
	bool	tls_verify;		/* verify the certificate and name; default false
					 * (the probe records, never trusts); the report
					 * sender should set true */
	const char *tls_ca_file;	/* NULL: the system's default paths */
	/* EHLO/HELO name; NULL or "": "localhost.localdomain"
	 * (callers should pass a real name) */
	const char *helo_name;
};

void	st_smtp_params_init(struct st_smtp_params *p);

struct st_smtp_session;		/* opaque */

/* Allocate a session with a copy of params (strings are copied too).
 * Does not connect. */
enum st_status st_smtp_open(struct st_smtp_session **sp,
	    const struct st_smtp_params *params, struct st_error *err);

/*
 * Resolve host (a name, an IPv4 address or an IPv6 address without
 * brackets) and port (a number or service name; NULL: "25"), connect to
 * the addresses in getaddrinfo order until one answers, and read the
 * greeting into *banner (initialised by this call; caller frees).
 * A greeting that is not 220 (554 "no service", 421) is returned with
 * ST_OK: the caller judges it.  st_smtp_connected() tells whether the TCP
 * connection was ever made (to tell "unreachable" from a dead banner).
 */
enum st_status st_smtp_connect(struct st_smtp_session *s, const char *host,
	    const char *port, struct st_smtp_reply *banner,
	    struct st_error *err);

/* Send one command line (CRLF is added; line must hold no CR or LF) and
 * read its reply into *reply (initialised by this call; caller frees). */
enum st_status st_smtp_command(struct st_smtp_session *s, const char *line,
	    struct st_smtp_reply *reply, struct st_error *err);
/* The two halves of st_smtp_command(), for callers that need them. */
enum st_status st_smtp_send_line(struct st_smtp_session *s,
	    const char *line, struct st_error *err);
enum st_status st_smtp_read_reply(struct st_smtp_session *s,
	    struct st_smtp_reply *reply, struct st_error *err);

/*
 * EHLO name (name NULL: params->helo_name); on a 5xx answer, or when the
 * server closes nothing but refuses EHLO, falls back to HELO.  Records the
 * EHLO keywords (st_smtp_has_ext).  Then, when params->tls is not NEVER and
 * STARTTLS is offered, calls st_smtp_starttls() (which says EHLO again);
 * *reply is the last EHLO/HELO reply.  A negative final reply (e.g. 530,
 * 554) is returned with ST_OK: check reply->code.
 */
enum st_status st_smtp_hello(struct st_smtp_session *s, const char *name,
	    struct st_smtp_reply *reply, struct st_error *err);
/* True after EHLO when the server listed keyword (case-insensitive). */
bool	st_smtp_has_ext(const struct st_smtp_session *s, const char *keyword);
/* The parameters after an EHLO keyword ("PLAIN LOGIN" for AUTH), or NULL
 * when absent; points into the session, valid until the next EHLO. */
const char *st_smtp_ext_param(const struct st_smtp_session *s,
	    const char *keyword);
/* True when the server answered HELO only (EHLO refused). */
bool	st_smtp_used_helo(const struct st_smtp_session *s);

/*
 * STARTTLS (RFC 3207): send it, on 220 do the TLS handshake (certificate
 * checked only with params->tls_verify) and say EHLO again; *reply is the
 * STARTTLS reply when it was refused, else the new EHLO reply.  A refusal
 * (454, 502) is ST_OK with the reply; a failed handshake is ST_ENET and
 * the session is dead.
 */
enum st_status st_smtp_starttls(struct st_smtp_session *s,
	    struct st_smtp_reply *reply, struct st_error *err);
bool	st_smtp_tls_active(const struct st_smtp_session *s);
/* "TLSv1.3" and "TLS_AES_256_GCM_SHA384" after STARTTLS, else NULL. */
const char *st_smtp_tls_version(const struct st_smtp_session *s);
const char *st_smtp_tls_cipher(const struct st_smtp_session *s);
/* Certificate subject, one line, or NULL (recorded, not trusted). */
const char *st_smtp_tls_peer_subject(const struct st_smtp_session *s);

/*
 * AUTH (RFC 4954) with PLAIN (RFC 4616) or LOGIN.  The credentials are
 * written to the transcript as "C: AUTH PLAIN ****" / "C: ****".  *reply is
 * the final reply (235 on success); a refusal is ST_OK with the reply.
 * Refused with ST_EINVAL unless TLS is active or allow_plaintext is true.
 */
enum st_status st_smtp_auth(struct st_smtp_session *s,
	    enum st_smtp_auth_mech mech, const char *user, const char *pass,
	    bool allow_plaintext, struct st_smtp_reply *reply,
	    struct st_error *err);

/*
 * Envelope.  path is the text that goes between the angle brackets, sent
 * as is: "" for the null sender, "user@example.net", "\"a@b\"@c",
 * "@relay:user@host".  params (may be NULL) follows after a space
 * ("SIZE=1000 BODY=8BITMIME").  CR, LF and '>' in path are ST_EINVAL.
 */
enum st_status st_smtp_mail(struct st_smtp_session *s, const char *path,
	    const char *params, struct st_smtp_reply *reply,
	    struct st_error *err);
enum st_status st_smtp_rcpt(struct st_smtp_session *s, const char *path,
	    const char *params, struct st_smtp_reply *reply,
	    struct st_error *err);

/*
 * DATA with a body (for the report sender; the probe never calls it).
 * Sends DATA; on 354 sends body[0..len) with every line end made CRLF,
 * leading dots doubled (RFC 5321 4.5.2) and a final CRLF added when
 * missing, then "."; *reply is the final reply (250 when queued) or the
 * DATA refusal.  Body over params->max_data is ST_EINVAL.  The body is not
 * copied into the transcript (only "C: <N bytes of message>").
 */
enum st_status st_smtp_data(struct st_smtp_session *s, const char *body,
	    size_t len, struct st_smtp_reply *reply, struct st_error *err);

enum st_status st_smtp_rset(struct st_smtp_session *s,
	    struct st_smtp_reply *reply, struct st_error *err);
/* QUIT and wait (command timeout) for 221; the connection stays open until
 * st_smtp_close().  reply may be NULL. */
enum st_status st_smtp_quit(struct st_smtp_session *s,
	    struct st_smtp_reply *reply, struct st_error *err);
/* Close the connection (no QUIT) and free the session; NULL is fine. */
void	st_smtp_close(struct st_smtp_session *s);

/* QUIT was sent in this session: by st_smtp_quit(), or on the way out of
 * a session abandoned after a timeout, garbage or a limit (the client then
 * says QUIT without waiting for the answer). */
bool	st_smtp_quit_sent(const struct st_smtp_session *s);

/* The connection was made (TCP established) at some point. */
bool	st_smtp_connected(const struct st_smtp_session *s);
/* The address connected to, "192.0.2.1" or "2001:db8::1", or NULL. */
const char *st_smtp_peer_addr(const struct st_smtp_session *s);

/*
 * Transcript: every line sent ("C: ...") and received ("S: ..."), in
 * order, line ends removed, plus notes from the client itself ("*: STARTTLS
 * handshake done: TLSv1.3 ...", "*: connection closed by server").  Bytes
 * that are not printable ASCII are kept as they came; callers escape them
 * for display.  Capped at params->max_transcript bytes; once the cap is
 * reached one "*: transcript truncated" line ends it.  Valid until
 * st_smtp_close().
 */
size_t	st_smtp_transcript_count(const struct st_smtp_session *s);
/* Line i (NUL-terminated; len gets its length, may be NULL), or NULL. */
const char *st_smtp_transcript_line(const struct st_smtp_session *s,
	    size_t i, size_t *len);

#endif
