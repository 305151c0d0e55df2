/*
 * smtp.c - the SMTP client session: connect, greet, STARTTLS, AUTH,
 * envelope, DATA, RSET, QUIT, with a transcript of everything said.
 *
 * Used by the relay probe (lib/probe, never DATA) and the report sender
 * (through a smarthost).  Sockets are non-blocking and every wait is a
 * poll(2) bounded by the operation's timeout and the session's deadline
 * (struct st_smtp_params), so a tarpit, a dead port or a server that
 * dribbles bytes can never hold the caller longer than it asked.  Names are
 * resolved with getaddrinfo(3) (bounded by the system resolver's own
 * timeouts); every address returned is tried in order, IPv4 and IPv6.
 * One command, one reply: PIPELINING is never used.
 *
 * Limits: reply line and reply size (ST_MAX_SMTP_LINE, ST_MAX_SMTP_REPLY),
 * transcript size (ST_MAX_SMTP_TRANSCRIPT), DATA body size
 * (ST_MAX_MESSAGE_SIZE) unless the params say otherwise.
 *
 * Standards: RFC 5321 (SMTP), RFC 3207 (STARTTLS; plaintext buffered before
 * the handshake is discarded, the EHLO is repeated), RFC 4954 (AUTH),
 * RFC 4616 (PLAIN), the LOGIN mechanism, RFC 3463 / 2034 (enhanced status
 * codes, parsed in reply.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "spamtrace/smtp.h"

struct st_smtp_session {
	struct st_smtp_params p;
	char   *helo_name;		/* owned copy of p.helo_name */
	char   *ca_file;		/* owned copy of p.tls_ca_file */
	char   *host;			/* as given to connect (for SNI) */
	int	fd;
	bool	ever_connected;
	bool	dead;			/* after a network/protocol failure */
	bool	used_helo;
	bool	quit_sent;
	char	peer[64];
	int64_t	deadline;		/* monotonic ms; 0: none */
	/* input buffer */
	char   *in;
	size_t	inlen, incap;
	/* EHLO keywords: the last EHLO reply */
	struct st_smtp_reply ehlo;
	char   *ehlo_z;			/* ehlo.raw with '\n' made NUL */
	/* TLS */
	SSL_CTX *ctx;
	SSL    *ssl;
	char	tls_version[32];
	char	tls_cipher[128];
	char   *tls_subject;
	/* transcript */
	char  **tr;
	size_t	ntr, trcap, trbytes;
	bool	trfull;
};

/* ---------------------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The absolute deadline of an operation of timeout_ms, within the
 * session's deadline. */
static int64_t
op_deadline(const struct st_smtp_session *s, int timeout_ms)
{
	int64_t d = now_ms() + (timeout_ms > 0 ? timeout_ms : 30000);

	if (s->deadline != 0 && s->deadline < d)
		d = s->deadline;
	return d;
}

/* ---------------------------------------------------------------- */
/* transcript                                                        */

static void
tr_add(struct st_smtp_session *s, const char *prefix, const char *p,
    size_t n)
{
	size_t plen = strlen(prefix);
	char *line;

	if (s->trfull)
		return;
	if (s->trbytes + plen + n > s->p.max_transcript) {
		static const char note[] = "*: transcript truncated";

		s->trfull = true;
		p = note;
		n = sizeof(note) - 1;
		prefix = "";
		plen = 0;
	}
	if (s->ntr == s->trcap) {
		size_t ncap = s->trcap ? s->trcap * 2 : 64;
		char **nv = realloc(s->tr, ncap * sizeof(*nv));

		if (nv == NULL)
			return;
		s->tr = nv;
		s->trcap = ncap;
	}
	if ((line = malloc(plen + n + 1)) == NULL)
		return;
	memcpy(line, prefix, plen);
	if (n)
		memcpy(line + plen, p, n);
	line[plen + n] = '\0';
	/* a NUL inside a line would cut it short: show it as '?' */
	for (char *q = line + plen; q < line + plen + n; q++)
		if (*q == '\0')
			*q = '?';
	s->tr[s->ntr++] = line;
	s->trbytes += plen + n;
}

static void
tr_note(struct st_smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tr_note(struct st_smtp_session *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	tr_add(s, "*: ", buf, (size_t)n);
}

static void
tr_reply(struct st_smtp_session *s, const struct st_smtp_reply *r)
{
	size_t i, n;
	const char *l;

	for (i = 0; i < r->nlines; i++)
		if ((l = st_smtp_reply_line(r, i, &n)) != NULL)
			tr_add(s, "S: ", l, n);
}

/* ---------------------------------------------------------------- */

void
st_smtp_params_init(struct st_smtp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->connect_timeout_ms = 10000;
	p->banner_timeout_ms = 30000;
	p->command_timeout_ms = 30000;
	p->tls_timeout_ms = 15000;
	p->data_timeout_ms = 120000;
	p->total_timeout_ms = 0;
	p->max_line = ST_MAX_SMTP_LINE;
	p->max_reply = ST_MAX_SMTP_REPLY;
	p->max_transcript = ST_MAX_SMTP_TRANSCRIPT;
	p->max_data = ST_MAX_MESSAGE_SIZE;
	p->family = AF_UNSPEC;
	p->tls = ST_SMTP_TLS_IF_OFFERED;
	p->tls_verify = false;
	p->tls_ca_file = NULL;
	p->helo_name = NULL;
}

enum st_status
st_smtp_open(struct st_smtp_session **sp, const struct st_smtp_params *params,
    struct st_error *err)
{
	struct st_smtp_session *s;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	if (params != NULL)
		s->p = *params;
	else
		st_smtp_params_init(&s->p);
	if (s->p.max_line == 0)
		s->p.max_line = ST_MAX_SMTP_LINE;
	if (s->p.max_reply == 0)
		s->p.max_reply = ST_MAX_SMTP_REPLY;
	if (s->p.max_transcript == 0)
		s->p.max_transcript = ST_MAX_SMTP_TRANSCRIPT;
	if (s->p.max_data == 0)
		s->p.max_data = ST_MAX_MESSAGE_SIZE;
	s->fd = -1;
	s->helo_name = strdup(s->p.helo_name && *s->p.helo_name ?
	    s->p.helo_name : "localhost.localdomain");
	s->ca_file = s->p.tls_ca_file ? strdup(s->p.tls_ca_file) : NULL;
	s->p.helo_name = s->helo_name;
	s->p.tls_ca_file = s->ca_file;
	/* room for one full line and its CRLF, plus a read's worth */
	s->incap = s->p.max_line + 2 + 4096;
	s->in = malloc(s->incap);
	st_smtp_reply_init(&s->ehlo, s->p.max_line, s->p.max_reply);
	if (s->helo_name == NULL || s->in == NULL ||
	    (s->p.tls_ca_file == NULL && params != NULL &&
	    params->tls_ca_file != NULL)) {
		st_smtp_close(s);
		return st_error_set(err, ST_ENOMEM, "out of memory");
	}
	*sp = s;
	return ST_OK;
}

static void
drop_connection(struct st_smtp_session *s)
{
	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

void
st_smtp_close(struct st_smtp_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	drop_connection(s);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	for (i = 0; i < s->ntr; i++)
		free(s->tr[i]);
	free(s->tr);
	free(s->in);
	free(s->helo_name);
	free(s->ca_file);
	free(s->host);
	free(s->tls_subject);
	free(s->ehlo_z);
	st_smtp_reply_free(&s->ehlo);
	free(s);
}

/* Mark the session dead and return st (err is already filled).  When the
 * peer is still there but no longer usable (timeout, garbage, a reply past
 * a limit), say QUIT once without waiting, so even a tarpit is told we
 * are leaving. */
static enum st_status
fail(struct st_smtp_session *s, enum st_status st)
{
	if (s->fd >= 0 && !s->quit_sent && (st == ST_ETIMEOUT ||
	    st == ST_EPARSE || st == ST_ELIMIT)) {
		bool ok;

		if (s->ssl != NULL) {
			ERR_clear_error();
			ok = SSL_write(s->ssl, "QUIT\r\n", 6) == 6;
			ERR_clear_error();
		} else
			ok = send(s->fd, "QUIT\r\n", 6,
			    MSG_NOSIGNAL | MSG_DONTWAIT) == 6;
		if (ok) {
			s->quit_sent = true;
			tr_add(s, "C: ", "QUIT", 4);
			tr_note(s, "closing without waiting for a reply");
		}
	}
	s->dead = true;
	drop_connection(s);
	return st;
}

/* ---------------------------------------------------------------- */
/* raw I/O                                                           */

/* Wait for events on the socket until deadline. */
static enum st_status
wait_fd(struct st_smtp_session *s, short events, int64_t deadline,
    const char *what, struct st_error *err)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			tr_note(s, "timed out %s", what);
			return st_error_set(err, ST_ETIMEOUT, "timed out %s",
			    what);
		}
		pfd.fd = s->fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return ST_OK;
		if (rc < 0 && errno != EINTR) {
			if (err != NULL)
				err->sys_errno = errno;
			return st_error_set(err, ST_ENET, "poll: %s",
			    strerror(errno));
		}
	}
}

static enum st_status
tls_failed(struct st_smtp_session *s, const char *what, struct st_error *err)
{
	unsigned long e = ERR_get_error();
	char buf[200];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) :
		    "connection closed");
	ERR_clear_error();
	tr_note(s, "TLS %s failed: %s", what, buf);
	return st_error_set(err, ST_ENET, "TLS %s failed: %s", what, buf);
}

/* Read some bytes into the input buffer. */
static enum st_status
fill(struct st_smtp_session *s, int64_t deadline, const char *what,
    struct st_error *err)
{
	size_t room = s->incap - s->inlen;
	enum st_status st;

	if (room == 0)
		return st_error_set(err, ST_ELIMIT, "SMTP reply line too long");
	for (;;) {
		if (s->ssl != NULL) {
			int n, e;

			ERR_clear_error();
			n = SSL_read(s->ssl, s->in + s->inlen,
			    room > 0x7fffffff ? 0x7fffffff : (int)room);
			if (n > 0) {
				s->inlen += (size_t)n;
				return ST_OK;
			}
			e = SSL_get_error(s->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				st = wait_fd(s, POLLIN, deadline, what, err);
			else if (e == SSL_ERROR_WANT_WRITE)
				st = wait_fd(s, POLLOUT, deadline, what, err);
			else if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SYSCALL && n == 0)) {
				tr_note(s, "connection closed by server");
				return st_error_set(err, ST_ENET,
				    "connection closed by server %s", what);
			} else
				return tls_failed(s, "read", err);
			if (st != ST_OK)
				return st;
		} else {
			ssize_t n = recv(s->fd, s->in + s->inlen, room, 0);

			if (n > 0) {
				s->inlen += (size_t)n;
				return ST_OK;
			}
			if (n == 0) {
				tr_note(s, "connection closed by server");
				return st_error_set(err, ST_ENET,
				    "connection closed by server %s", what);
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				int e = errno;

				tr_note(s, "read error: %s", strerror(e));
				if (err != NULL)
					err->sys_errno = e;
				return st_error_set(err, ST_ENET,
				    "read error %s: %s", what, strerror(e));
			}
			if ((st = wait_fd(s, POLLIN, deadline, what, err)) !=
			    ST_OK)
				return st;
		}
	}
}

static enum st_status
write_all(struct st_smtp_session *s, const char *p, size_t n,
    int64_t deadline, struct st_error *err)
{
	enum st_status st;

	while (n > 0) {
		if (s->ssl != NULL) {
			int w, e;

			ERR_clear_error();
			w = SSL_write(s->ssl, p, n > 0x100000 ? 0x100000 :
			    (int)n);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			e = SSL_get_error(s->ssl, w);
			if (e == SSL_ERROR_WANT_READ)
				st = wait_fd(s, POLLIN, deadline, "sending",
				    err);
			else if (e == SSL_ERROR_WANT_WRITE)
				st = wait_fd(s, POLLOUT, deadline, "sending",
				    err);
			else
				return tls_failed(s, "write", err);
			if (st != ST_OK)
				return st;
		} else {
			ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);

			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				if ((st = wait_fd(s, POLLOUT, deadline,
				    "sending", err)) != ST_OK)
					return st;
				continue;
			}
			{
				int e = w < 0 ? errno : EPIPE;

				tr_note(s, "write error: %s", strerror(e));
				if (err != NULL)
					err->sys_errno = e;
				return st_error_set(err, ST_ENET,
				    "write error: %s", strerror(e));
			}
		}
	}
	return ST_OK;
}

/* ---------------------------------------------------------------- */
/* replies and commands                                              */

/* Record the bytes that made the parser fail (up to the LF, capped) so
 * the transcript shows the garbage. */
static void
tr_garbage(struct st_smtp_session *s)
{
	size_t n = s->inlen;
	const char *lf = memchr(s->in, '\n', s->inlen);

	if (lf != NULL)
		n = (size_t)(lf - s->in);
	if (n > 0 && s->in[n - 1] == '\r')
		n--;
	if (n > 200)
		n = 200;
	tr_add(s, "S: ", s->in, n);
}

static enum st_status
read_reply_until(struct st_smtp_session *s, struct st_smtp_reply *r,
    int timeout_ms, const char *what, struct st_error *err)
{
	int64_t deadline = op_deadline(s, timeout_ms);
	enum st_status st;
	size_t used;

	st_smtp_reply_init(r, s->p.max_line, s->p.max_reply);
	if (s->dead || s->fd < 0)
		return st_error_set(err, ST_EINVAL, "SMTP session is closed");
	for (;;) {
		if (s->inlen > 0) {
			st = st_smtp_reply_parse(r, s->in, s->inlen, &used,
			    err);
			if (used > 0) {
				memmove(s->in, s->in + used, s->inlen - used);
				s->inlen -= used;
			}
			if (st != ST_OK) {
				tr_reply(s, r);
				if (st == ST_EPARSE)
					tr_garbage(s);
				tr_note(s, "%s", err ? err->msg :
				    "bad reply");
				return fail(s, st);
			}
			if (r->complete) {
				tr_reply(s, r);
				return ST_OK;
			}
		}
		if ((st = fill(s, deadline, what, err)) != ST_OK) {
			tr_reply(s, r);
			if (s->inlen > 0)
				tr_garbage(s);
			return fail(s, st);
		}
	}
}

enum st_status
st_smtp_read_reply(struct st_smtp_session *s, struct st_smtp_reply *reply,
    struct st_error *err)
{
	return read_reply_until(s, reply, s->p.command_timeout_ms,
	    "waiting for a reply", err);
}

/* Send line + CRLF; display (if not NULL) replaces it in the transcript. */
static enum st_status
send_line_as(struct st_smtp_session *s, const char *line, const char *display,
    struct st_error *err)
{
	size_t n;
	char *buf;
	enum st_status st;

	if (s->dead || s->fd < 0)
		return st_error_set(err, ST_EINVAL, "SMTP session is closed");
	n = strlen(line);
	if (strpbrk(line, "\r\n") != NULL)
		return st_error_set(err, ST_EINVAL,
		    "CR or LF inside an SMTP command");
	if ((buf = malloc(n + 3)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	memcpy(buf, line, n);
	memcpy(buf + n, "\r\n", 3);
	tr_add(s, "C: ", display ? display : line,
	    strlen(display ? display : line));
	st = write_all(s, buf, n + 2, op_deadline(s, s->p.command_timeout_ms),
	    err);
	free(buf);
	if (st != ST_OK)
		return fail(s, st);
	return ST_OK;
}

enum st_status
st_smtp_send_line(struct st_smtp_session *s, const char *line,
    struct st_error *err)
{
	return send_line_as(s, line, NULL, err);
}

enum st_status
st_smtp_command(struct st_smtp_session *s, const char *line,
    struct st_smtp_reply *reply, struct st_error *err)
{
	enum st_status st;

	st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
	if ((st = send_line_as(s, line, NULL, err)) != ST_OK)
		return st;
	return st_smtp_read_reply(s, reply, err);
}

/* ---------------------------------------------------------------- */
/* connect                                                           */

static void
addr_string(const struct sockaddr *sa, char *buf, size_t n)
{
	buf[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, buf, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, buf, (socklen_t)n);
}

/* Try one address: returns ST_OK with s->fd connected. */
static enum st_status
connect_one(struct st_smtp_session *s, const struct addrinfo *ai,
    struct st_error *err)
{
	int fd, soerr = 0;
	socklen_t slen = sizeof(soerr);
	enum st_status st;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		if (err != NULL)
			err->sys_errno = errno;
		return st_error_set(err, ST_ENET, "socket: %s",
		    strerror(errno));
	}
	s->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return ST_OK;
	if (errno != EINPROGRESS && errno != EINTR) {
		soerr = errno;
		goto failed;
	}
	st = wait_fd(s, POLLOUT, op_deadline(s, s->p.connect_timeout_ms),
	    "connecting", err);
	if (st != ST_OK) {
		close(fd);
		s->fd = -1;
		return st;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0)
		soerr = errno;
	if (soerr == 0)
		return ST_OK;
failed:
	close(fd);
	s->fd = -1;
	tr_note(s, "connect failed: %s", strerror(soerr));
	if (err != NULL)
		err->sys_errno = soerr;
	return st_error_set(err, ST_ENET, "connect: %s", strerror(soerr));
}

enum st_status
st_smtp_connect(struct st_smtp_session *s, const char *host, const char *port,
    struct st_smtp_reply *banner, struct st_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	enum st_status st = ST_ENET;
	int rc;

	st_smtp_reply_init(banner, s->p.max_line, s->p.max_reply);
	if (s->fd >= 0 || s->dead)
		return st_error_set(err, ST_EINVAL,
		    "SMTP session already used");
	if (host == NULL || *host == '\0')
		return st_error_set(err, ST_EINVAL, "no host to connect to");
	if (port == NULL || *port == '\0')
		port = "25";
	free(s->host);
	s->host = strdup(host);
	if (s->p.total_timeout_ms > 0)
		s->deadline = now_ms() + s->p.total_timeout_ms;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = s->p.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		tr_note(s, "cannot resolve %s: %s", host, gai_strerror(rc));
		s->dead = true;
		return st_error_set(err, ST_ENET, "cannot resolve %s: %s",
		    host, gai_strerror(rc));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN];

		addr_string(ai->ai_addr, addr, sizeof(addr));
		tr_note(s, "connecting to %s port %s", addr, port);
		st = connect_one(s, ai, err);
		if (st == ST_OK) {
			snprintf(s->peer, sizeof(s->peer), "%s", addr);
			break;
		}
		if (s->deadline != 0 && now_ms() >= s->deadline)
			break;
	}
	freeaddrinfo(res);
	if (st != ST_OK) {
		s->dead = true;
		return st;
	}
	s->ever_connected = true;
	tr_note(s, "connected to %s", s->peer);
	return read_reply_until(s, banner, s->p.banner_timeout_ms,
	    "waiting for the greeting", err);
}

bool
st_smtp_quit_sent(const struct st_smtp_session *s)
{
	return s != NULL && s->quit_sent;
}

bool
st_smtp_connected(const struct st_smtp_session *s)
{
	return s != NULL && s->ever_connected;
}

const char *
st_smtp_peer_addr(const struct st_smtp_session *s)
{
	return s != NULL && s->peer[0] ? s->peer : NULL;
}

/* ---------------------------------------------------------------- */
/* EHLO / HELO                                                       */

static enum st_status
say_ehlo(struct st_smtp_session *s, const char *name,
    struct st_smtp_reply *reply, struct st_error *err)
{
	char line[600];
	enum st_status st;

	snprintf(line, sizeof(line), "EHLO %s", name);
	if ((st = st_smtp_command(s, line, reply, err)) != ST_OK)
		return st;
	st_smtp_reply_free(&s->ehlo);
	free(s->ehlo_z);
	s->ehlo_z = NULL;
	s->used_helo = false;
	if (ST_SMTP_POSITIVE(reply->code)) {
		/* keep a copy for the keyword look-ups */
		if (reply->raw != NULL &&
		    (s->ehlo.raw = malloc(reply->rawlen + 1)) != NULL &&
		    (s->ehlo_z = malloc(reply->rawlen + 1)) != NULL) {
			size_t i;

			memcpy(s->ehlo.raw, reply->raw, reply->rawlen + 1);
			s->ehlo.rawlen = reply->rawlen;
			s->ehlo.nlines = reply->nlines;
			s->ehlo.code = reply->code;
			s->ehlo.complete = true;
			for (i = 0; i <= reply->rawlen; i++)
				s->ehlo_z[i] = reply->raw[i] == '\n' ? '\0' :
				    reply->raw[i];
		} else
			st_smtp_reply_free(&s->ehlo);
		return ST_OK;
	}
	if (!ST_SMTP_PERMFAIL(reply->code))
		return ST_OK;	/* 421, 4xx: the caller judges */
	/* RFC 5321 3.2: a server that does not know EHLO answers 500/502 */
	snprintf(line, sizeof(line), "HELO %s", name);
	st_smtp_reply_free(reply);
	if ((st = st_smtp_command(s, line, reply, err)) != ST_OK)
		return st;
	if (ST_SMTP_POSITIVE(reply->code))
		s->used_helo = true;
	return ST_OK;
}

enum st_status
st_smtp_hello(struct st_smtp_session *s, const char *name,
    struct st_smtp_reply *reply, struct st_error *err)
{
	struct st_smtp_reply r2;
	enum st_status st;

	if (name == NULL || *name == '\0')
		name = s->helo_name;
	if (strpbrk(name, "\r\n") != NULL || strlen(name) > 500) {
		st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
		return st_error_set(err, ST_EINVAL, "bad HELO name");
	}
	if (name != s->helo_name) {
		char *copy = strdup(name);

		if (copy == NULL) {
			st_smtp_reply_init(reply, s->p.max_line,
			    s->p.max_reply);
			return st_error_set(err, ST_ENOMEM, "out of memory");
		}
		free(s->helo_name);
		s->helo_name = copy;
		s->p.helo_name = copy;
	}
	if ((st = say_ehlo(s, s->helo_name, reply, err)) != ST_OK)
		return st;
	if (!ST_SMTP_POSITIVE(reply->code) || s->used_helo ||
	    s->p.tls == ST_SMTP_TLS_NEVER || s->ssl != NULL) {
		if (s->p.tls == ST_SMTP_TLS_REQUIRED && s->ssl == NULL &&
		    ST_SMTP_POSITIVE(reply->code)) {
			tr_note(s, "TLS required but the server does not "
			    "speak ESMTP");
			return fail(s, st_error_set(err, ST_ENET,
			    "TLS required but the server does not speak "
			    "ESMTP"));
		}
		return ST_OK;
	}
	if (!st_smtp_has_ext(s, "STARTTLS")) {
		if (s->p.tls == ST_SMTP_TLS_REQUIRED) {
			tr_note(s, "TLS required but STARTTLS is not offered");
			return fail(s, st_error_set(err, ST_ENET,
			    "TLS required but STARTTLS is not offered"));
		}
		return ST_OK;
	}
	if ((st = st_smtp_starttls(s, &r2, err)) != ST_OK) {
		st_smtp_reply_free(&r2);
		return st;
	}
	if (s->ssl != NULL) {
		st_smtp_reply_free(reply);
		*reply = r2;
		return ST_OK;
	}
	st_smtp_reply_free(&r2);
	if (s->p.tls == ST_SMTP_TLS_REQUIRED)
		return fail(s, st_error_set(err, ST_ENET,
		    "TLS required but STARTTLS was refused"));
	return ST_OK;
}

/* The EHLO line for keyword, as text after "250-" / "250 ". */
static const char *
find_ext(const struct st_smtp_session *s, const char *keyword, size_t *len)
{
	size_t i, n, kl = strlen(keyword);
	const char *t;

	if (s == NULL || s->used_helo)
		return NULL;
	/* line 0 is the server's name and greeting */
	for (i = 1; i < s->ehlo.nlines; i++) {
		if ((t = st_smtp_reply_text(&s->ehlo, i, &n)) == NULL)
			break;
		if (n >= kl && strncasecmp(t, keyword, kl) == 0 &&
		    (n == kl || t[kl] == ' ' || t[kl] == '=')) {
			*len = n;
			return t;
		}
	}
	return NULL;
}

bool
st_smtp_has_ext(const struct st_smtp_session *s, const char *keyword)
{
	size_t n;

	return find_ext(s, keyword, &n) != NULL;
}

const char *
st_smtp_ext_param(const struct st_smtp_session *s, const char *keyword)
{
	size_t n, kl = strlen(keyword);
	const char *t = find_ext(s, keyword, &n);

	if (t == NULL)
		return NULL;
	/* the answer points into ehlo_z, where each line ends in NUL */
	if (s->ehlo_z == NULL)
		return NULL;
	t += kl;
	while (t < s->ehlo.raw + s->ehlo.rawlen && (*t == ' ' || *t == '='))
		t++;
	return s->ehlo_z + (t - s->ehlo.raw);
}

bool
st_smtp_used_helo(const struct st_smtp_session *s)
{
	return s != NULL && s->used_helo;
}

/* ---------------------------------------------------------------- */
/* STARTTLS                                                          */

static enum st_status
tls_handshake(struct st_smtp_session *s, struct st_error *err)
{
	int64_t deadline = op_deadline(s, s->p.tls_timeout_ms);
	enum st_status st;
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip;

	if (s->ctx == NULL) {
		s->ctx = SSL_CTX_new(TLS_client_method());
		if (s->ctx == NULL)
			return tls_failed(s, "setup", err);
		if (s->p.tls_verify) {
			SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
			if (s->p.tls_ca_file != NULL) {
				if (SSL_CTX_load_verify_locations(s->ctx,
				    s->p.tls_ca_file, NULL) != 1)
					return tls_failed(s, "CA file", err);
			} else
				SSL_CTX_set_default_verify_paths(s->ctx);
		} else {
			/* the probe records what the server offers, old
			 * protocols included; it trusts nothing */
			SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL);
			SSL_CTX_set_security_level(s->ctx, 0);
			SSL_CTX_set_min_proto_version(s->ctx, 0);
		}
	}
	if ((s->ssl = SSL_new(s->ctx)) == NULL)
		return tls_failed(s, "setup", err);
	SSL_set_fd(s->ssl, s->fd);
	is_ip = inet_pton(AF_INET, s->host, &a4) == 1 ||
	    inet_pton(AF_INET6, s->host, &a6) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(s->ssl, s->host);
	if (s->p.tls_verify) {
		if (is_ip) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);

			X509_VERIFY_PARAM_set1_ip_asc(vp, s->host);
		} else
			SSL_set1_host(s->ssl, s->host);
	}
	for (;;) {
		int rc, e;

		ERR_clear_error();
		errno = 0;
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			break;
		e = SSL_get_error(s->ssl, rc);
		if (e == SSL_ERROR_WANT_READ)
			st = wait_fd(s, POLLIN, deadline, "in the TLS handshake",
			    err);
		else if (e == SSL_ERROR_WANT_WRITE)
			st = wait_fd(s, POLLOUT, deadline,
			    "in the TLS handshake", err);
		else {
			if (s->p.tls_verify &&
			    SSL_get_verify_result(s->ssl) != X509_V_OK) {
				const char *why = X509_verify_cert_error_string(
				    SSL_get_verify_result(s->ssl));

				tr_note(s, "TLS certificate not trusted: %s",
				    why);
				return st_error_set(err, ST_ENET,
				    "TLS certificate not trusted: %s", why);
			}
			return tls_failed(s, "handshake", err);
		}
		if (st != ST_OK)
			return st;
	}
	snprintf(s->tls_version, sizeof(s->tls_version), "%s",
	    SSL_get_version(s->ssl));
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s",
	    SSL_get_cipher_name(s->ssl));
	{
		X509 *cert = SSL_get1_peer_certificate(s->ssl);

		if (cert != NULL) {
			char buf[512];

			X509_NAME_oneline(X509_get_subject_name(cert), buf,
			    sizeof(buf));
			free(s->tls_subject);
			s->tls_subject = strdup(buf);
			X509_free(cert);
		}
	}
	tr_note(s, "TLS handshake done: %s %s%s%s", s->tls_version,
	    s->tls_cipher, s->tls_subject ? " subject " : "",
	    s->tls_subject ? s->tls_subject : "");
	return ST_OK;
}

enum st_status
st_smtp_starttls(struct st_smtp_session *s, struct st_smtp_reply *reply,
    struct st_error *err)
{
	enum st_status st;

	if (s->ssl != NULL) {
		st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
		return st_error_set(err, ST_EINVAL, "TLS already active");
	}
	if ((st = st_smtp_command(s, "STARTTLS", reply, err)) != ST_OK)
		return st;
	if (reply->code != 220)
		return ST_OK;
	if (s->inlen > 0) {
		/* RFC 3207 5: nothing sent before the handshake counts */
		tr_note(s, "discarded %zu bytes the server sent after its "
		    "STARTTLS reply (plaintext injection)", s->inlen);
		s->inlen = 0;
	}
	if ((st = tls_handshake(s, err)) != ST_OK)
		return fail(s, st);
	st_smtp_reply_free(reply);
	return say_ehlo(s, s->helo_name, reply, err);
}

bool
st_smtp_tls_active(const struct st_smtp_session *s)
{
	return s != NULL && s->ssl != NULL;
}

const char *
st_smtp_tls_version(const struct st_smtp_session *s)
{
	return s != NULL && s->tls_version[0] ? s->tls_version : NULL;
}

const char *
st_smtp_tls_cipher(const struct st_smtp_session *s)
{
	return s != NULL && s->tls_cipher[0] ? s->tls_cipher : NULL;
}

const char *
st_smtp_tls_peer_subject(const struct st_smtp_session *s)
{
	return s != NULL ? s->tls_subject : NULL;
}

/* ---------------------------------------------------------------- */
/* AUTH                                                              */

/* base64 of p[0..n) into a new string. */
static char *
b64(const void *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

enum st_status
st_smtp_auth(struct st_smtp_session *s, enum st_smtp_auth_mech mech,
    const char *user, const char *pass, bool allow_plaintext,
    struct st_smtp_reply *reply, struct st_error *err)
{
	enum st_status st;
	const char *offered;
	char *enc = NULL, *line = NULL;
	size_t ul, pl;

	st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
	if (user == NULL || pass == NULL)
		return st_error_set(err, ST_EINVAL, "AUTH needs a user and "
		    "a password");
	if (s->ssl == NULL && !allow_plaintext)
		return st_error_set(err, ST_EINVAL, "refusing to send a "
		    "password without TLS");
	ul = strlen(user);
	pl = strlen(pass);
	if (ul > 1000 || pl > 1000)
		return st_error_set(err, ST_EINVAL, "AUTH user or password "
		    "too long");
	if (mech == ST_SMTP_AUTH_ANY) {
		offered = st_smtp_ext_param(s, "AUTH");
		mech = ST_SMTP_AUTH_PLAIN;
		if (offered != NULL && strcasestr(offered, "PLAIN") == NULL &&
		    strcasestr(offered, "LOGIN") != NULL)
			mech = ST_SMTP_AUTH_LOGIN;
	}
	if (mech == ST_SMTP_AUTH_PLAIN) {
		char *raw = malloc(ul + pl + 2);

		if (raw == NULL)
			return st_error_set(err, ST_ENOMEM, "out of memory");
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, pass, pl);
		enc = b64(raw, ul + pl + 2);
		explicit_bzero(raw, ul + pl + 2);
		free(raw);
		if (enc == NULL || (line = malloc(strlen(enc) + 16)) == NULL) {
			free(enc);
			return st_error_set(err, ST_ENOMEM, "out of memory");
		}
		snprintf(line, strlen(enc) + 16, "AUTH PLAIN %s", enc);
		st = send_line_as(s, line, "AUTH PLAIN ****", err);
		explicit_bzero(line, strlen(line));
		explicit_bzero(enc, strlen(enc));
		free(line);
		free(enc);
		if (st != ST_OK)
			return st;
		return st_smtp_read_reply(s, reply, err);
	}
	/* LOGIN: 334 for the user name, 334 for the password, then 235 */
	if ((st = st_smtp_command(s, "AUTH LOGIN", reply, err)) != ST_OK)
		return st;
	if (reply->code != 334)
		return ST_OK;
	if ((enc = b64(user, ul)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	st = send_line_as(s, enc, "****", err);
	free(enc);
	st_smtp_reply_free(reply);
	if (st != ST_OK || (st = st_smtp_read_reply(s, reply, err)) != ST_OK)
		return st;
	if (reply->code != 334)
		return ST_OK;
	if ((enc = b64(pass, pl)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	st = send_line_as(s, enc, "****", err);
	explicit_bzero(enc, strlen(enc));
	free(enc);
	st_smtp_reply_free(reply);
	if (st != ST_OK)
		return st;
	return st_smtp_read_reply(s, reply, err);
}

/* ---------------------------------------------------------------- */
/* envelope, DATA, RSET, QUIT                                        */

static enum st_status
envelope(struct st_smtp_session *s, const char *verb, const char *path,
    const char *params, struct st_smtp_reply *reply, struct st_error *err)
{
	char *line;
	size_t n;
	enum st_status st;

	st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
	if (path == NULL)
		path = "";
	if (strpbrk(path, "\r\n>") != NULL ||
	    (params != NULL && strpbrk(params, "\r\n") != NULL))
		return st_error_set(err, ST_EINVAL, "bad character in an "
		    "SMTP address or parameter");
	n = strlen(verb) + strlen(path) + (params ? strlen(params) : 0) + 8;
	if (n > 2000)
		return st_error_set(err, ST_EINVAL, "SMTP address too long");
	if ((line = malloc(n)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	snprintf(line, n, "%s<%s>%s%s", verb, path, params ? " " : "",
	    params ? params : "");
	st = st_smtp_command(s, line, reply, err);
	free(line);
	return st;
}

enum st_status
st_smtp_mail(struct st_smtp_session *s, const char *path, const char *params,
    struct st_smtp_reply *reply, struct st_error *err)
{
	return envelope(s, "MAIL FROM:", path, params, reply, err);
}

enum st_status
st_smtp_rcpt(struct st_smtp_session *s, const char *path, const char *params,
    struct st_smtp_reply *reply, struct st_error *err)
{
	return envelope(s, "RCPT TO:", path, params, reply, err);
}

enum st_status
st_smtp_data(struct st_smtp_session *s, const char *body, size_t len,
    struct st_smtp_reply *reply, struct st_error *err)
{
	enum st_status st;
	char *out;
	size_t i, o = 0, cap = 65536;
	int64_t deadline;
	bool bol = true;
	char note[64];

	st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
	if (len > s->p.max_data)
		return st_error_set(err, ST_EINVAL, "message of %zu bytes is "
		    "over the %zu byte limit", len, s->p.max_data);
	if ((out = malloc(cap + 8)) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	if ((st = st_smtp_command(s, "DATA", reply, err)) != ST_OK ||
	    reply->code != 354) {
		free(out);
		return st;
	}
	st_smtp_reply_free(reply);
	deadline = op_deadline(s, s->p.data_timeout_ms);
	snprintf(note, sizeof(note), "<%zu bytes of message>", len);
	tr_add(s, "C: ", note, strlen(note));
	/* normalise line ends to CRLF and double leading dots */
	for (i = 0; i < len; i++) {
		char c = body[i];

		if (o + 4 > cap) {
			if ((st = write_all(s, out, o, deadline, err)) !=
			    ST_OK) {
				free(out);
				return fail(s, st);
			}
			o = 0;
		}
		if (bol && c == '.')
			out[o++] = '.';
		if (c == '\r') {
			if (i + 1 < len && body[i + 1] == '\n')
				i++;
			out[o++] = '\r';
			out[o++] = '\n';
			bol = true;
		} else if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			bol = true;
		} else {
			out[o++] = c;
			bol = false;
		}
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	if (o + 3 > cap) {
		if ((st = write_all(s, out, o, deadline, err)) != ST_OK) {
			free(out);
			return fail(s, st);
		}
		o = 0;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	tr_add(s, "C: ", ".", 1);
	st = write_all(s, out, o, deadline, err);
	free(out);
	if (st != ST_OK)
		return fail(s, st);
	return read_reply_until(s, reply, s->p.data_timeout_ms,
	    "waiting for the reply to the message", err);
}

enum st_status
st_smtp_rset(struct st_smtp_session *s, struct st_smtp_reply *reply,
    struct st_error *err)
{
	return st_smtp_command(s, "RSET", reply, err);
}

enum st_status
st_smtp_quit(struct st_smtp_session *s, struct st_smtp_reply *reply,
    struct st_error *err)
{
	struct st_smtp_reply tmp;
	enum st_status st;

	if (reply == NULL)
		reply = &tmp;
	if (s->quit_sent) {
		st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
		return st_error_set(err, ST_EINVAL, "QUIT already sent");
	}
	st_smtp_reply_init(reply, s->p.max_line, s->p.max_reply);
	st = send_line_as(s, "QUIT", NULL, err);
	if (st == ST_OK) {
		s->quit_sent = true;
		st = st_smtp_read_reply(s, reply, err);
	}
	if (reply == &tmp)
		st_smtp_reply_free(&tmp);
	if (st == ST_OK && s->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl);	/* best effort, no wait */
	}
	return st;
}

/* ---------------------------------------------------------------- */

size_t
st_smtp_transcript_count(const struct st_smtp_session *s)
{
	return s != NULL ? s->ntr : 0;
}

const char *
st_smtp_transcript_line(const struct st_smtp_session *s, size_t i,
    size_t *len)
{
	if (s == NULL || i >= s->ntr)
		return NULL;
	if (len != NULL)
		*len = strlen(s->tr[i]);
	return s->tr[i];
}
