/*
 * parse.c - the pure half of the dns module: reverse names, host name
 * and listing checks, and a reader of DNS responses that trusts nothing.
 *
 * DESCRIPTION
 *	st_dns_reverse_name() builds the name to query for an address:
 *	reversed octets for IPv4 and reversed nibbles for IPv6, under
 *	in-addr.arpa / ip6.arpa or a blocklist zone.  dns_parse_answer()
 *	reads one response (c-ares gives us the bytes) into a validated
 *	struct dns_rrset.  The reader is our own so that every limit is
 *	ours: record counts, name lengths, compression pointers (each must
 *	point backwards, at most 128 per name), CNAME chains, item counts
 *	and lengths.
 *
 * LIMITS
 *	ST_DNS_MAX_RRS records read per section, ST_DNS_MAX_CNAME links,
 *	ST_DNS_MAX_PTR / ST_DNS_MAX_ADDRS / ST_DNS_MAX_TXT items kept,
 *	ST_DNS_MAX_TXT_LEN bytes per reason (limits.h).
 *
 * STANDARDS
 *	RFC 1035 (message format, 3.5 IN-ADDR.ARPA, 4.1.4 compression),
 *	RFC 1123 2.1 and RFC 952 (host names), RFC 2181 8 (TTL with the top
 *	bit set is 0), RFC 2308 5 (negative caching TTL), RFC 3596 2.5
 *	(IP6.ARPA), RFC 5782 (DNSxL queries and answers).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_int.h"
#include "spamtrace/received.h"

#define MAX_PTR_JUMPS	128

/* ---------------------------------------------------------------- names */

bool
st_dns_reverse_name(const char *ip, const char *zone, char *buf, size_t size)
{
	char norm[64];
	unsigned char b[16];
	size_t off = 0;
	int n, i;

	if (ip == NULL || buf == NULL || size == 0)
		return false;
	if (!st_ip_normalise(ip, strlen(ip), norm, sizeof(norm)))
		return false;
	if (inet_pton(AF_INET, norm, b) == 1) {
		n = snprintf(buf, size, "%u.%u.%u.%u.%s", b[3], b[2], b[1],
		    b[0], zone != NULL ? zone : "in-addr.arpa");
		return n > 0 && (size_t)n < size;
	}
	if (inet_pton(AF_INET6, norm, b) != 1)
		return false;
	for (i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		if (off + 4 >= size)
			return false;
		buf[off++] = hex[b[i] & 0xf];
		buf[off++] = '.';
		buf[off++] = hex[b[i] >> 4];
		buf[off++] = '.';
	}
	n = snprintf(buf + off, size - off, "%s",
	    zone != NULL ? zone : "ip6.arpa");
	return n > 0 && (size_t)n < size - off;
}

bool
st_dns_valid_hostname(const char *p, size_t len)
{
	size_t i, lab = 0;
	bool digits_only = true;

	if (p == NULL)
		return false;
	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == '.') {
			if (lab == 0 || lab > 63 || p[i - 1] == '-')
				return false;
			if (i < len)
				digits_only = true;
			lab = 0;
			continue;
		}
		if (lab == 0 && p[i] == '-')
			return false;
		if (!isascii((unsigned char)p[i]) ||
		    !(isalnum((unsigned char)p[i]) || p[i] == '-'))
			return false;
		if (!isdigit((unsigned char)p[i]))
			digits_only = false;
		lab++;
	}
	/* the last label (top-level domain) is never all digits, which
	 * also keeps "192.0.2.1" from passing as a name (RFC 1123 2.1) */
	return !digits_only;
}

bool
st_dns_valid_listing(const char *answer, const char **why)
{
	unsigned char b[4];
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (answer == NULL || inet_pton(AF_INET, answer, b) != 1) {
		*why = "not an IPv4 address";
		return false;
	}
	if (b[0] != 127) {
		*why = "not in 127.0.0.0/8 (RFC 5782 2.3)";
		return false;
	}
	if (b[1] == 255 && b[2] == 255) {
		*why = "an error code of the list, not a listing "
		    "(127.255.255.0/24; Spamhaus uses it for queries through "
		    "public resolvers and over-quota users)";
		return false;
	}
	return true;
}

void
dns_sanitize(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	if (size == 0)
		return;
	for (i = 0; i < len && o + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

/* ---------------------------------------------------------------- rrset */

void
dns_rrset_clear(struct dns_rrset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->item[i]);
	memset(rs, 0, sizeof(*rs));
}

bool
dns_rrset_add(struct dns_rrset *rs, const char *s, size_t len, size_t cap)
{
	size_t i;
	char *c;

	if (cap > DNS_MAX_ITEMS)
		cap = DNS_MAX_ITEMS;
	for (i = 0; i < rs->n; i++)
		if (strlen(rs->item[i]) == len &&
		    memcmp(rs->item[i], s, len) == 0)
			return true;
	if (rs->n >= cap || (c = malloc(len + 1)) == NULL) {
		rs->over++;
		return false;
	}
	memcpy(c, s, len);
	c[len] = '\0';
	rs->item[rs->n++] = c;
	return true;
}

/* ---------------------------------------------------------- wire format */

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Decode the name at off into out as text (labels joined by '.', bytes
 * other than letters, digits, '-' and '_' written \DDD, root as "."), and
 * set *next to the offset just after the name where it was found.
 * Compression pointers must point strictly backwards (no loops).
 */
static bool
get_name(const uint8_t *m, size_t len, size_t off, char *out, size_t size,
    size_t *next)
{
	size_t o = 0, wire = 0, pos = off, lowest = off;
	int jumps = 0;
	bool jumped = false;

	for (;;) {
		unsigned l;

		if (pos >= len)
			return false;
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len || ++jumps > MAX_PTR_JUMPS)
				return false;
			target = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			if (target >= lowest)
				return false;
			if (!jumped && next != NULL)
				*next = pos + 2;
			jumped = true;
			lowest = target;
			pos = target;
			continue;
		}
		if ((l & 0xc0) != 0)	/* 0x40, 0x80: obsolete/unknown */
			return false;
		if (l == 0) {
			if (!jumped && next != NULL)
				*next = pos + 1;
			break;
		}
		if (pos + 1 + l > len)
			return false;
		wire += l + 1;
		if (wire > 255)
			return false;
		if (o > 0) {
			if (o + 1 >= size)
				return false;
			out[o++] = '.';
		}
		for (size_t i = 0; i < l; i++) {
			unsigned char c = m[pos + 1 + i];

			if (isascii(c) && (isalnum(c) || c == '-' ||
			    c == '_')) {
				if (o + 1 >= size)
					return false;
				out[o++] = (char)c;
			} else {
				if (o + 5 >= size)
					return false;
				o += (size_t)snprintf(out + o, size - o,
				    "\\%03u", c);
			}
		}
		pos += 1 + l;
	}
	if (o == 0) {
		if (size < 2)
			return false;
		out[o++] = '.';
	}
	out[o] = '\0';
	return true;
}

static bool
skip_name(const uint8_t *m, size_t len, size_t *off)
{
	char tmp[ST_DNS_NAME_BUF];

	return get_name(m, len, *off, tmp, sizeof(tmp), off);
}

struct rr {
	size_t	name_off;
	unsigned type, cls;
	uint32_t ttl;
	size_t	rdoff;
	unsigned rdlen;
};

/* Read the record at *off; false when it runs past the message. */
static bool
get_rr(const uint8_t *m, size_t len, size_t *off, struct rr *rr)
{
	size_t p = *off;

	rr->name_off = p;
	if (!skip_name(m, len, &p) || p + 10 > len)
		return false;
	rr->type = get16(m + p);
	rr->cls = get16(m + p + 2);
	rr->ttl = get32(m + p + 4);
	if (rr->ttl & 0x80000000u)	/* RFC 2181 8 */
		rr->ttl = 0;
	rr->rdlen = get16(m + p + 8);
	rr->rdoff = p + 10;
	if (rr->rdoff + rr->rdlen > len)
		return false;
	*off = rr->rdoff + rr->rdlen;
	return true;
}

static void
take_ttl(struct dns_rrset *rs, uint32_t ttl)
{
	if (!rs->has_ttl || ttl < rs->ttl)
		rs->ttl = ttl;
	rs->has_ttl = true;
}

/* One record of the asked type at the right name: validate, keep. */
static void
take_item(const uint8_t *m, size_t len, const struct rr *rr, int qtype,
    struct dns_rrset *rs)
{
	char txt[ST_DNS_MAX_TXT_LEN + 1], addr[INET6_ADDRSTRLEN];
	char name[ST_DNS_NAME_BUF];
	size_t end, p, o = 0, i;

	switch (qtype) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rr->rdlen != (qtype == DNS_T_A ? 4u : 16u) ||
		    inet_ntop(qtype == DNS_T_A ? AF_INET : AF_INET6,
		    m + rr->rdoff, addr, sizeof(addr)) == NULL) {
			rs->rejected++;
			return;
		}
		if (dns_rrset_add(rs, addr, strlen(addr), ST_DNS_MAX_ADDRS))
			take_ttl(rs, rr->ttl);
		return;
	case DNS_T_PTR:
		if (!get_name(m, len, rr->rdoff, name, sizeof(name), &end) ||
		    end != rr->rdoff + rr->rdlen ||
		    !st_dns_valid_hostname(name, strlen(name))) {
			rs->rejected++;
			return;
		}
		for (i = 0; name[i] != '\0'; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		if (dns_rrset_add(rs, name, strlen(name), ST_DNS_MAX_PTR))
			take_ttl(rs, rr->ttl);
		return;
	case DNS_T_TXT:
		/* <character-string>s (RFC 1035 3.3.14): joined */
		p = rr->rdoff;
		end = rr->rdoff + rr->rdlen;
		if (rr->rdlen == 0) {
			rs->rejected++;
			return;
		}
		while (p < end) {
			size_t l = m[p];

			if (p + 1 + l > end) {
				rs->rejected++;
				return;
			}
			if (o < ST_DNS_MAX_TXT_LEN) {
				size_t k = l;

				if (k > ST_DNS_MAX_TXT_LEN - o)
					k = ST_DNS_MAX_TXT_LEN - o;
				dns_sanitize((const char *)m + p + 1, k,
				    txt + o, sizeof(txt) - o);
				o += k;
			}
			p += 1 + l;
		}
		txt[o] = '\0';
		if (dns_rrset_add(rs, txt, o, ST_DNS_MAX_TXT))
			take_ttl(rs, rr->ttl);
		return;
	}
}

bool
dns_parse_answer(const uint8_t *m, size_t len, const char *qname, int qtype,
    struct dns_rrset *rs)
{
	char name[ST_DNS_NAME_BUF], cur[ST_DNS_NAME_BUF];
	char nextname[ST_DNS_NAME_BUF];
	unsigned flags, qd, an, ns, rcode, i, hop;
	size_t off, an_off, ns_off;
	uint32_t chain_ttl = 0;
	bool have_chain_ttl = false;
	struct rr rr;

	dns_rrset_clear(rs);
	rs->status = DNS_R_FAIL;
	if (m == NULL || len < 12 || qname == NULL)
		goto bad;
	flags = get16(m + 2);
	qd = get16(m + 4);
	an = get16(m + 6);
	ns = get16(m + 8);
	rcode = flags & 0xf;
	if (!(flags & 0x8000) || ((flags >> 11) & 0xf) != 0 || qd != 1)
		goto bad;	/* not a response, not QUERY, odd question */
	off = 12;
	if (!get_name(m, len, off, name, sizeof(name), &off) ||
	    off + 4 > len)
		goto bad;
	if (strcasecmp(name, qname) != 0 || get16(m + off) != (unsigned)qtype
	    || get16(m + off + 2) != DNS_C_IN)
		goto bad;	/* an answer to another question */
	off += 4;
	if (rcode == 3)
		rs->status = DNS_R_NXDOMAIN;
	else if (rcode != 0)
		return true;	/* SERVFAIL, REFUSED ...: DNS_R_FAIL */
	else
		rs->status = DNS_R_NODATA;
	if (an > ST_DNS_MAX_RRS)
		an = ST_DNS_MAX_RRS;
	an_off = off;

	/* Follow the CNAME chain from qname (RFC 1034 3.6.2). */
	snprintf(cur, sizeof(cur), "%s", qname);
	for (hop = 0; hop <= ST_DNS_MAX_CNAME; hop++) {
		bool cname = false;

		off = an_off;
		for (i = 0; i < an; i++) {
			if (!get_rr(m, len, &off, &rr))
				goto bad;
			if (rr.cls != DNS_C_IN)
				continue;
			if (!get_name(m, len, rr.name_off, name, sizeof(name),
			    NULL))
				goto bad;
			if (strcasecmp(name, cur) != 0)
				continue;
			if (rr.type == (unsigned)qtype) {
				take_item(m, len, &rr, qtype, rs);
			} else if (rr.type == DNS_T_CNAME && !cname) {
				size_t e;

				if (!get_name(m, len, rr.rdoff, nextname,
				    sizeof(nextname), &e) ||
				    e != rr.rdoff + rr.rdlen) {
					rs->rejected++;
					continue;
				}
				cname = true;
				if (!have_chain_ttl || rr.ttl < chain_ttl)
					chain_ttl = rr.ttl;
				have_chain_ttl = true;
			}
		}
		if (rs->n > 0 || rs->rejected > 0 || !cname)
			break;
		snprintf(cur, sizeof(cur), "%s", nextname);
	}
	if (rs->n > 0) {
		rs->status = DNS_R_OK;
		if (have_chain_ttl)
			take_ttl(rs, chain_ttl);
		return true;
	}
	rs->has_ttl = false;
	rs->ttl = 0;
	if (rs->rejected > 0)	/* nothing valid: not worth caching */
		return true;

	/* Negative answer: the TTL is min(SOA TTL, SOA MINIMUM). */
	if (get16(m + 6) > ST_DNS_MAX_RRS)
		return true;
	off = an_off;
	for (i = 0; i < an; i++)
		if (!get_rr(m, len, &off, &rr))
			return true;
	ns_off = off;
	if (ns > ST_DNS_MAX_RRS)
		ns = ST_DNS_MAX_RRS;
	for (off = ns_off, i = 0; i < ns; i++) {
		size_t p;

		if (!get_rr(m, len, &off, &rr))
			return true;
		if (rr.type != DNS_T_SOA || rr.cls != DNS_C_IN)
			continue;
		p = rr.rdoff;
		if (!skip_name(m, len, &p) || !skip_name(m, len, &p) ||
		    p + 20 != rr.rdoff + rr.rdlen)
			return true;
		take_ttl(rs, rr.ttl);
		take_ttl(rs, get32(m + p + 16) & 0x80000000u ? 0 :
		    get32(m + p + 16));
		break;
	}
	return true;
bad:
	dns_rrset_clear(rs);
	rs->status = DNS_R_FAIL;
	rs->rejected = 1;
	return false;
}
