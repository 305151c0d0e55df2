/*
 * error.c - status names and the error struct.
 */
#include <stdarg.h>
#include <stdio.h>

#include "spamtrace/error.h"

const char *
st_strerror(enum st_status status)
{
	switch (status) {
	case ST_OK:		return "success";
	case ST_ENOMEM:		return "out of memory";
	case ST_EIO:		return "input/output error";
	case ST_EPARSE:		return "cannot parse";
	case ST_ELIMIT:		return "limit exceeded";
	case ST_EINVAL:		return "invalid argument";
	case ST_ENET:		return "network error";
	case ST_ETIMEOUT:	return "timed out";
	case ST_EDB:		return "case file error";
	case ST_EOF:		return "end of input";
	}
	return "unknown error";
}

enum st_status
st_error_set(struct st_error *err, enum st_status status, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->status = status;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return status;
}
