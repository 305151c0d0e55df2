/*
 * spamtrace.h - the public API of libspamtrace, in one include.
 */
#ifndef SPAMTRACE_H
#define SPAMTRACE_H

#include "error.h"
#include "limits.h"
#include "arena.h"
#include "input.h"
#include "msg.h"
#include "date.h"
#include "received.h"
#include "config.h"
#include "trace.h"
#include "dns.h"
#include "smtp.h"
#include "probe.h"

#endif
