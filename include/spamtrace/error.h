/*
 * error.h - status codes and the error struct of libspamtrace.
 *
 * Every library function that can fail returns an enum st_status and, when
 * the caller passes one, fills a struct st_error with a one-line reason.
 * The library never prints and never exits.
 */
#ifndef SPAMTRACE_ERROR_H
#define SPAMTRACE_ERROR_H

enum st_status {
	ST_OK = 0,
	ST_ENOMEM,	/* out of memory */
	ST_EIO,		/* read/write/open failed (errno kept in the error) */
	ST_EPARSE,	/* input could not be parsed */
	ST_ELIMIT,	/* input went past a limit of limits.h */
	ST_EINVAL,	/* bad argument or configuration */
	ST_ENET,	/* network failure (connect, DNS, TLS) */
	ST_ETIMEOUT,	/* a deadline passed */
	ST_EDB,		/* the case file (SQLite) failed */
	ST_EOF		/* nothing more to read (not an error) */
};

struct st_error {
	enum st_status status;
	int sys_errno;		/* errno when status is ST_EIO or ST_ENET */
	char msg[256];		/* one line, no trailing newline */
};

const char *st_strerror(enum st_status status);

/* Fill err (if not NULL) and return status; printf-style message. */
enum st_status st_error_set(struct st_error *err, enum st_status status,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
