/*
 * dns.h - what the DNS says about the addresses of a trace: PTR names,
 * forward-confirmed reverse DNS (FCrDNS) and DNS blocklist listings.
 *
 * The only module of the trace path that talks to the network, and only
 * when asked (trace --dns).  Lookups are asynchronous (c-ares) and run
 * concurrently: all the queries of a batch (one trace or many) are in
 * flight together, each within a time budget (st_config.dns_timeout_ms,
 * retries included), so a dead or slow resolver costs one timeout per
 * batch, never a hang.  Answers are cached for the life of the handle
 * (bounded, TTLs respected, at least ST_DNS_MIN_RUN_TTL) and, when a cache
 * file is given, in the SQLite table "dns_cache" of that file (TTLs
 * respected, capped at ST_DNS_MAX_TTL).
 *
 * Every answer is validated before it is used: a PTR name must be a
 * syntactically valid host name (RFC 1123 2.1, at most 253 octets), A and
 * AAAA data must have the right length, a blocklist's A answer must be in
 * 127.0.0.0/8 (RFC 5782 2.3) and not one of the 127.255.255.0/24 error
 * codes, TXT reasons are cut to printable ASCII and ST_DNS_MAX_TXT_LEN.
 * Answers that fail are ignored and reported as warnings.
 *
 * The library never prints: warnings (a dead resolver, a bad blocklist
 * answer) are queued in the handle, once each, for the caller to show
 * (st_dns_next_warning()).
 *
 * A handle is not thread-safe: use one per thread, or (better) hand many
 * traces to one handle at once with st_dns_lookup_traces().
 */
#ifndef SPAMTRACE_DNS_H
#define SPAMTRACE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "config.h"
#include "error.h"
#include "trace.h"

struct st_dns;

/*
 * Create a resolver.  From cfg it takes resolver ("IP", "IP:PORT",
 * "[IPv6]:PORT"; NULL: the servers of /etc/resolv.conf), dns_timeout_ms
 * (the budget of one query, retries included), dnsbl (the zones to query;
 * none by default) and the extra key "dns_cache" (a SQLite file for the
 * persistent cache; absent: none).  cfg is copied; it need not outlive
 * the handle.
 */
enum st_status st_dns_new(struct st_dns **dp, const struct st_config *cfg,
	    struct st_error *err);
void	st_dns_free(struct st_dns *d);

/* Open (creating if needed) a persistent cache in the SQLite file path,
 * table dns_cache.  NULL closes it. */
enum st_status st_dns_set_cache_file(struct st_dns *d, const char *path,
	    struct st_error *err);

/*
 * One address to look up.  ip: text (IPv4 or IPv6, as in struct st_hop);
 * arena: where the result is allocated.  On return info is the result
 * (in arena), or NULL when ip is not an address or the arena is full.
 */
struct st_dns_query {
	const char *ip;
	struct st_arena *arena;
	struct st_dns_info *info;
};

/*
 * Look up n addresses concurrently (duplicates are looked up once).
 * Returns ST_OK when every lookup was answered; ST_ETIMEOUT when some got
 * no answer in time (their info has timed_out set, the rest is filled:
 * partial results); ST_ENOMEM; ST_EINVAL for an address that is not one.
 * Warnings go to the queue either way.
 */
enum st_status st_dns_resolve(struct st_dns *d, struct st_dns_query *q,
	    size_t n, struct st_error *err);

/*
 * Look up the addresses of one trace (origin, source estimate, relays;
 * at most ST_DNS_MAX_TRACE_ADDRS distinct ones) and attach the results
 * with st_trace_add_dns().  a: the arena of the trace's message.  Status
 * as st_dns_resolve().
 */
enum st_status st_dns_lookup_trace(struct st_dns *d, struct st_trace *t,
	    struct st_arena *a, struct st_error *err);

/* The same for n traces at once (t[i] lives in arena a[i]): every lookup
 * of every trace runs concurrently.  The fastest way to do a mailbox. */
enum st_status st_dns_lookup_traces(struct st_dns *d, struct st_trace **t,
	    struct st_arena **a, size_t n, struct st_error *err);

/* The next warning not yet taken (owned by the handle, valid until
 * st_dns_free()), or NULL.  Each distinct warning is given once per
 * handle (at most ST_DNS_MAX_WARNINGS). */
const char *st_dns_next_warning(struct st_dns *d);

/* Counters, for tests and measurements. */
struct st_dns_stats {
	uint64_t sent;		/* queries put on the network */
	uint64_t answered;	/* got an answer (any rcode) */
	uint64_t failed;	/* no answer: timeout, refused, cancelled */
	uint64_t cache_hits;	/* served from the run's cache */
	uint64_t disk_hits;	/* served from the cache file */
	uint64_t rejected;	/* answer records ignored by validation */
};
void	st_dns_get_stats(const struct st_dns *d, struct st_dns_stats *s);

/* --- pure helpers (no network), exposed for tests and other users --- */

/* The reverse-lookup name of ip under zone ("in-addr.arpa" or
 * "ip6.arpa" for PTR, a blocklist zone otherwise): IPv4 reversed octets
 * (RFC 1035 3.5, RFC 5782 2.1), IPv6 reversed nibbles (RFC 3596 2.5,
 * RFC 5782 2.4).  IPv4-mapped IPv6 is written as IPv4.  zone NULL: the
 * PTR zone of the family.  Returns false when ip is not an address or
 * the name does not fit (size at least ST_DNS_NAME_BUF). */
bool	st_dns_reverse_name(const char *ip, const char *zone, char *buf,
	    size_t size);

/* p, len is a syntactically valid host name: LDH labels of 1-63 octets
 * not starting or ending with '-', at most 253 octets, one trailing dot
 * allowed (RFC 952, RFC 1123 2.1), not all-numeric in the last label. */
bool	st_dns_valid_hostname(const char *p, size_t len);

/* A blocklist A answer (text) that is a listing: in 127.0.0.0/8 and not
 * an error code (127.255.255.0/24, Spamhaus).  *why is set when not. */
bool	st_dns_valid_listing(const char *answer, const char **why);

#endif
