/*
 * dns_int.h - inside the dns module: the validated result of one query
 * (an "rrset"), the wire-format reader that makes it, and the persistent
 * cache.  Not installed; tests include it from lib/.
 */
#ifndef SPAMTRACE_DNS_INT_H
#define SPAMTRACE_DNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spamtrace/dns.h"
#include "spamtrace/limits.h"

/* Query types (RFC 1035 3.2.2, RFC 3596 2.1). */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_C_IN	1

/* The most items any type keeps (PTR, addresses, TXT). */
#define DNS_MAX_ITEMS	ST_DNS_MAX_ADDRS

enum dns_rstatus {
	DNS_R_OK = 0,		/* at least one valid item */
	DNS_R_NXDOMAIN,		/* the name does not exist */
	DNS_R_NODATA,		/* no (valid) record of the type */
	DNS_R_NOANSWER,		/* timeout, refused, cancelled, dead */
	DNS_R_FAIL		/* SERVFAIL, REFUSED, malformed answer */
};

/*
 * One query's result, validated.  Items are malloc'd text: PTR names
 * (lower case, no trailing dot), addresses (inet_ntop form), TXT reasons
 * (the strings of one record joined, printable ASCII only).
 */
struct dns_rrset {
	enum dns_rstatus status;
	bool	has_ttl;	/* ttl is meaningful (answer or SOA) */
	uint32_t ttl;		/* seconds (min over the records used) */
	size_t	n;
	char   *item[DNS_MAX_ITEMS];
	unsigned rejected;	/* records that failed validation */
	unsigned over;		/* valid records beyond the cap */
};

void	dns_rrset_clear(struct dns_rrset *rs);
/* Add a copy of s (length len) unless already there; false when full or
 * out of memory (counted in over). */
bool	dns_rrset_add(struct dns_rrset *rs, const char *s, size_t len,
	    size_t cap);

/*
 * Read a DNS response (RFC 1035 4.1) to the question (qname, qtype) into
 * rs: checks the header, the question, follows CNAMEs from qname, keeps
 * the records of qtype that pass validation, and for a negative answer
 * takes the TTL from the SOA (RFC 2308 5).  Never reads outside buf.
 * Returns false when the message is malformed (rs->status DNS_R_FAIL).
 */
bool	dns_parse_answer(const uint8_t *buf, size_t len, const char *qname,
	    int qtype, struct dns_rrset *rs);

/* Copy s into out (size >= 2) keeping printable ASCII, others as '?'. */
void	dns_sanitize(const char *s, size_t len, char *out, size_t size);

/* --- persistent cache (cache.c): table dns_cache in a SQLite file --- */
struct dns_disk;
enum st_status dns_disk_open(struct dns_disk **dp, const char *path,
	    struct st_error *err);
void	dns_disk_close(struct dns_disk *dk);
/* A fresh row for (name, type) into rs (status, items, remaining TTL). */
bool	dns_disk_get(struct dns_disk *dk, const char *name, int type,
	    struct dns_rrset *rs);
/* Store a definitive answer with ttl > 0 (capped at ST_DNS_MAX_TTL). */
void	dns_disk_put(struct dns_disk *dk, const char *name, int type,
	    const struct dns_rrset *rs);
/* End the open transaction (the puts of a batch are one transaction). */
void	dns_disk_commit(struct dns_disk *dk);

#endif
