/*
 * dns_unit.c - unit tests of the dns module's pure parts (no network):
 * reverse names (IPv4 octets, IPv6 nibbles), host name and listing
 * checks, and the DNS answer reader on hand-made, often hostile, packets.
 *
 * Every table row is one case with its full expected result; a row
 * failing prints what was expected and what came out.  Exit 0 when all
 * pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_int.h"

static int failures, cases;

#define CHECK(cond, ...) do {						\
	cases++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

/* ------------------------------------------------------ reverse names */

static const struct {
	const char *ip, *zone;
	size_t	size;		/* 0: ST_DNS_NAME_BUF */
	const char *want;	/* NULL: must fail */
} rev[] = {
	{ "192.0.2.1", NULL, 0, "1.2.0.192.in-addr.arpa" },
	{ "198.51.100.20", "bl.test", 0, "20.100.51.198.bl.test" },
	/* RFC 5782 2.1 example */
	{ "192.0.2.99", "dnsbl.example.net", 0,
	  "99.2.0.192.dnsbl.example.net" },
	/* RFC 3596 2.5 example */
	{ "4321:0:1:2:3:4:567:89ab", NULL, 0,
	  "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4"
	  ".ip6.arpa" },
	/* RFC 5782 2.4 example */
	{ "2001:db8:1:2:3:4:567:89ab", "ugly.example.com", 0,
	  "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2"
	  ".ugly.example.com" },
	{ "2001:db8::25", "bl.test", 0,
	  "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	  ".bl.test" },
	{ "::ffff:192.0.2.1", NULL, 0, "1.2.0.192.in-addr.arpa" },
	{ "IPv6:2001:DB8::1", NULL, 0,
	  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	  ".ip6.arpa" },
	{ "[203.0.113.7]", "z.example", 0, "7.113.0.203.z.example" },
	{ "0.0.0.0", NULL, 0, "0.0.0.0.in-addr.arpa" },
	{ "not an address", NULL, 0, NULL },
	{ "", NULL, 0, NULL },
	{ "1.2.3", NULL, 0, NULL },
	{ "192.0.2.256", NULL, 0, NULL },
	{ "2001:db8::1::2", NULL, 0, NULL },
	{ "192.0.2.1", NULL, 22, NULL },	/* needs 23 bytes */
	{ "192.0.2.1", NULL, 23, "1.2.0.192.in-addr.arpa" },
	{ "2001:db8::1", NULL, 73, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	  ".0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" },
	{ "2001:db8::1", NULL, 72, NULL },
};

static void
test_reverse(void)
{
	char buf[ST_DNS_NAME_BUF];
	size_t i;

	for (i = 0; i < sizeof(rev) / sizeof(rev[0]); i++) {
		size_t size = rev[i].size ? rev[i].size : sizeof(buf);
		bool ok = st_dns_reverse_name(rev[i].ip, rev[i].zone, buf,
		    size);

		if (rev[i].want == NULL)
			CHECK(!ok, "reverse(%s) should fail, got %s",
			    rev[i].ip, buf);
		else
			CHECK(ok && strcmp(buf, rev[i].want) == 0,
			    "reverse(%s, %s): want %s, got %s", rev[i].ip,
			    rev[i].zone ? rev[i].zone : "-", rev[i].want,
			    ok ? buf : "(failed)");
	}
}

/* ---------------------------------------------------- host names */

static const struct {
	const char *name;
	bool	valid;
} hosts[] = {
	{ "mail.example.net", true },
	{ "mail.example.net.", true },
	{ "localhost", true },
	{ "a-b.c-d.example", true },
	{ "xn--wgv71a119e.jp", true },
	{ "123.example.com", true },
	{ "host-192-0-2-1.dyn.example.jp", true },
	{ "", false },
	{ ".", false },
	{ "a..b", false },
	{ ".leading.dot", false },
	{ "two.dots..", false },
	{ "-start.example", false },
	{ "end-.example", false },
	{ "under_score.example", false },
	{ "space here.example", false },
	{ "bad\\046dot.example", false },
	{ "192.0.2.1", false },		/* an address, not a name */
	{ "host.123", false },		/* all-numeric top label */
	{ "caf\xc3\xa9.example", false },	/* not LDH (use A-labels) */
	/* 63-octet label fine, 64 not */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example", true },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example", false },
};

static void
test_hostnames(void)
{
	char big[300];
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		CHECK(st_dns_valid_hostname(hosts[i].name,
		    strlen(hosts[i].name)) == hosts[i].valid,
		    "valid_hostname(%s) should be %d", hosts[i].name,
		    hosts[i].valid);
	/* 253 octets is the most; 254 too long */
	memset(big, 'a', sizeof(big));
	for (i = 9; i < 253; i += 10)
		big[i] = '.';
	big[252] = 'z';
	CHECK(st_dns_valid_hostname(big, 253), "253-octet name refused");
	big[253] = 'z';
	CHECK(!st_dns_valid_hostname(big, 254), "254-octet name accepted");
	/* a span: bytes after len are not read */
	CHECK(st_dns_valid_hostname("mail.example!!!", 12),
	    "span not respected");
}

/* ---------------------------------------------------- listings */

static const struct {
	const char *answer;
	bool	valid;
} listing[] = {
	{ "127.0.0.2", true },
	{ "127.0.0.4", true },
	{ "127.0.1.10", true },
	{ "127.255.254.1", true },
	{ "127.255.255.254", false },	/* Spamhaus: public resolver */
	{ "127.255.255.252", false },
	{ "10.0.0.1", false },
	{ "0.0.0.0", false },
	{ "192.0.2.1", false },
	{ "::1", false },
	{ "", false },
	{ "127.0.0.256", false },
};

static void
test_listings(void)
{
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(listing) / sizeof(listing[0]); i++) {
		bool v = st_dns_valid_listing(listing[i].answer, &why);

		CHECK(v == listing[i].valid && (v ? why == NULL :
		    why != NULL), "valid_listing(%s) should be %d",
		    listing[i].answer, listing[i].valid);
	}
}

static void
test_sanitize(void)
{
	char out[8];

	dns_sanitize("ok \x1b[31mred", 11, out, sizeof(out));
	CHECK(strcmp(out, "ok ?[31") == 0, "sanitize: got %s", out);
	dns_sanitize("a\0b\xff", 4, out, sizeof(out));
	CHECK(strcmp(out, "a?b?") == 0, "sanitize NUL/8bit: got %s", out);
}

/* ------------------------------------------------- packet builder */

struct pk {
	uint8_t	b[4096];
	size_t	n;
};

static void
u8(struct pk *p, unsigned v)
{
	if (p->n < sizeof(p->b))
		p->b[p->n++] = (uint8_t)v;
}

static void
u16(struct pk *p, unsigned v)
{
	u8(p, v >> 8);
	u8(p, v & 0xff);
}

static void
u32(struct pk *p, uint32_t v)
{
	u16(p, v >> 16);
	u16(p, v & 0xffff);
}

/* A name from dotted text (no escapes); "" is the root. */
static void
name(struct pk *p, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		u8(p, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			u8(p, (unsigned char)s[i]);
		s += l + (dot ? 1 : 0);
	}
	u8(p, 0);
}

static void
ptr(struct pk *p, unsigned off)
{
	u16(p, 0xc000 | off);
}

/* Header and question; the question name is at offset 12. */
static void
head(struct pk *p, unsigned flags, unsigned an, unsigned ns,
    const char *q, unsigned qtype)
{
	p->n = 0;
	u16(p, 0x1234);
	u16(p, flags);
	u16(p, 1);
	u16(p, an);
	u16(p, ns);
	u16(p, 0);
	name(p, q);
	u16(p, qtype);
	u16(p, DNS_C_IN);
}

/* Record head with the owner as a pointer to the question. */
static void
rrq(struct pk *p, unsigned type, uint32_t ttl, unsigned rdlen)
{
	ptr(p, 12);
	u16(p, type);
	u16(p, DNS_C_IN);
	u32(p, ttl);
	u16(p, rdlen);
}

/* A PTR/CNAME record at the question name with an uncompressed target. */
static void
rr_name(struct pk *p, unsigned type, uint32_t ttl, const char *target)
{
	struct pk t = { .n = 0 };

	name(&t, target);
	rrq(p, type, ttl, (unsigned)t.n);
	memcpy(p->b + p->n, t.b, t.n);
	p->n += t.n;
}

#define QPTR	"1.2.0.192.in-addr.arpa"
#define RESP	0x8180		/* QR RD RA, NOERROR */

static void
b_ptr_ok(struct pk *p)
{
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 3600, "Mail.Example.NET");
}

static void
b_ptr_compressed(struct pk *p)
{
	/* target "mail" + pointer to "example.net" inside a 2nd record */
	head(p, RESP, 2, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 600, "www.example.net");
	{
		size_t at = p->n - 13;	/* "example.net" in the 1st */

		rrq(p, DNS_T_PTR, 300, 7);
		u8(p, 4);
		u8(p, 'm'); u8(p, 'a'); u8(p, 'i'); u8(p, 'l');
		ptr(p, (unsigned)at);
	}
}

static void
b_ptr_invalid(struct pk *p)
{
	head(p, RESP, 2, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 3600, "bad_name.test");
	rr_name(p, DNS_T_PTR, 3600, "192.0.2.1");
}

static void
b_ptr_binary(struct pk *p)
{
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 3600, "evil\x1b[2J.example");
}

static void
b_ptr_many(struct pk *p)
{
	char n[32];
	int i;

	head(p, RESP, 20, 0, QPTR, DNS_T_PTR);
	for (i = 0; i < 20; i++) {
		snprintf(n, sizeof(n), "h%02d.example.net", i);
		rr_name(p, DNS_T_PTR, 100 + (uint32_t)i, n);
	}
}

static void
b_ptr_dup(struct pk *p)
{
	head(p, RESP, 2, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 3600, "mail.example.net");
	rr_name(p, DNS_T_PTR, 3600, "MAIL.example.net");
}

static void
b_cname_2317(struct pk *p)
{
	/* RFC 2317: 1.2.0.192.in-addr.arpa CNAME 1.0-25.2.0.192... */
	head(p, RESP, 2, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_CNAME, 7200, "1.0-25.2.0.192.in-addr.arpa");
	name(p, "1.0-25.2.0.192.in-addr.arpa");
	u16(p, DNS_T_PTR);
	u16(p, DNS_C_IN);
	u32(p, 3600);
	u16(p, 18);
	name(p, "host.example.org");
}

static void
b_cname_loop(struct pk *p)
{
	head(p, RESP, 2, 0, QPTR, DNS_T_PTR);
	rr_name(p, DNS_T_CNAME, 60, "x.example");
	name(p, "x.example");
	u16(p, DNS_T_CNAME);
	u16(p, DNS_C_IN);
	u32(p, 60);
	u16(p, 24);
	name(p, QPTR);
}

static void
b_other_owner(struct pk *p)
{
	/* a record for another name is not an answer to ours */
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	name(p, "2.2.0.192.in-addr.arpa");
	u16(p, DNS_T_PTR);
	u16(p, DNS_C_IN);
	u32(p, 60);
	u16(p, 18);
	name(p, "host.example.org");
}

static void
b_ptr_loop(struct pk *p)
{
	/* the record's owner is a pointer to itself */
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	ptr(p, (unsigned)p->n);
	u16(p, DNS_T_PTR);
	u16(p, DNS_C_IN);
	u32(p, 60);
	u16(p, 0);
}

static void
b_ptr_forward(struct pk *p)
{
	/* a pointer forward, to a name placed after it */
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rrq(p, DNS_T_PTR, 60, 2);
	ptr(p, (unsigned)p->n + 2);
	name(p, "ahead.example");
}

static void
b_truncated(struct pk *p)
{
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rrq(p, DNS_T_PTR, 60, 200);	/* rdata runs past the end */
	name(p, "short.example");
}

static void
b_bad_label(struct pk *p)
{
	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rrq(p, DNS_T_PTR, 60, 3);
	u8(p, 0x41);	/* 01xxxxxx: extended label type, refused */
	u8(p, 'a');
	u8(p, 0);
}

static void
b_long_name(struct pk *p)
{
	int i;

	head(p, RESP, 1, 0, QPTR, DNS_T_PTR);
	rrq(p, DNS_T_PTR, 60, 5 * 60 + 1);
	for (i = 0; i < 60; i++) {	/* 300 octets on the wire */
		u8(p, 4);
		u8(p, 'a'); u8(p, 'b'); u8(p, 'c'); u8(p, 'd');
	}
	u8(p, 0);
}

static void
b_nxdomain_soa(struct pk *p)
{
	head(p, 0x8183, 0, 1, QPTR, DNS_T_PTR);
	name(p, "2.0.192.in-addr.arpa");
	u16(p, DNS_T_SOA);
	u16(p, DNS_C_IN);
	u32(p, 600);
	u16(p, 12 + 12 + 20);
	name(p, "ns.example");	/* 12 */
	name(p, "hm.example");	/* 12 */
	u32(p, 1); u32(p, 7200); u32(p, 900); u32(p, 86400);
	u32(p, 300);		/* minimum */
}

static void
b_nxdomain_bare(struct pk *p)
{
	head(p, 0x8183, 0, 0, QPTR, DNS_T_PTR);
}

static void
b_nodata(struct pk *p)
{
	head(p, RESP, 0, 0, QPTR, DNS_T_PTR);
}

static void
b_servfail(struct pk *p)
{
	head(p, 0x8182, 0, 0, QPTR, DNS_T_PTR);
}

static void
b_not_response(struct pk *p)
{
	head(p, 0x0100, 0, 0, QPTR, DNS_T_PTR);
}

static void
b_other_question(struct pk *p)
{
	head(p, RESP, 1, 0, "9.9.9.9.in-addr.arpa", DNS_T_PTR);
	rr_name(p, DNS_T_PTR, 60, "dns9.example");
}

static void
b_short_header(struct pk *p)
{
	head(p, RESP, 0, 0, QPTR, DNS_T_PTR);
	p->n = 11;
}

static void
b_a_ok(struct pk *p)
{
	head(p, RESP, 2, 0, "mail.example.net", DNS_T_A);
	rrq(p, DNS_T_A, 0x80000001u, 4);	/* top bit: TTL 0 */
	u8(p, 192); u8(p, 0); u8(p, 2); u8(p, 1);
	rrq(p, DNS_T_A, 60, 5);			/* wrong length */
	u8(p, 1); u8(p, 2); u8(p, 3); u8(p, 4); u8(p, 5);
}

static void
b_aaaa_ok(struct pk *p)
{
	int i;

	head(p, RESP, 2, 0, "v6.example", DNS_T_AAAA);
	rrq(p, DNS_T_AAAA, 120, 16);
	u8(p, 0x20); u8(p, 0x01); u8(p, 0x0d); u8(p, 0xb8);
	for (i = 0; i < 11; i++)
		u8(p, 0);
	u8(p, 0x25);
	rrq(p, DNS_T_A, 120, 4);		/* other type: skipped */
	u8(p, 192); u8(p, 0); u8(p, 2); u8(p, 1);
}

static void
b_txt(struct pk *p)
{
	head(p, RESP, 2, 0, "2.0.0.127.bl.test", DNS_T_TXT);
	rrq(p, DNS_T_TXT, 900, 1 + 8 + 1 + 11);
	u8(p, 8);
	memcpy(p->b + p->n, "Listed: ", 8);
	p->n += 8;
	u8(p, 11);
	memcpy(p->b + p->n, "see \x1b[0mURL", 11);
	p->n += 11;
	rrq(p, DNS_T_TXT, 900, 1 + 3);
	u8(p, 3);
	u8(p, 'a'); u8(p, '\n'); u8(p, 'b');
}

static void
b_txt_long(struct pk *p)
{
	int i;

	head(p, RESP, 1, 0, "2.0.0.127.bl.test", DNS_T_TXT);
	rrq(p, DNS_T_TXT, 900, 3 * 201);
	for (i = 0; i < 3; i++) {
		u8(p, 200);
		memset(p->b + p->n, 'a' + i, 200);
		p->n += 200;
	}
}

static void
b_txt_bad(struct pk *p)
{
	head(p, RESP, 1, 0, "2.0.0.127.bl.test", DNS_T_TXT);
	rrq(p, DNS_T_TXT, 900, 4);
	u8(p, 9);	/* claims 9 bytes, has 3 */
	u8(p, 'a'); u8(p, 'b'); u8(p, 'c');
}

static const struct {
	const char *desc;
	void	(*build)(struct pk *);
	const char *qname;
	int	qtype;
	bool	ret;			/* dns_parse_answer's return */
	enum dns_rstatus status;
	const char *items;		/* joined by '|' */
	unsigned rejected, over;
	long	ttl;			/* -1: none */
} ans[] = {
	{ "PTR, lower-cased", b_ptr_ok, QPTR, DNS_T_PTR, true, DNS_R_OK,
	  "mail.example.net", 0, 0, 3600 },
	{ "PTR, compressed target", b_ptr_compressed, QPTR, DNS_T_PTR, true,
	  DNS_R_OK, "www.example.net|mail.example.net", 0, 0, 300 },
	{ "PTR, invalid names", b_ptr_invalid, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 2, 0, -1 },
	{ "PTR, control bytes", b_ptr_binary, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 1, 0, -1 },
	{ "PTR, 20 names: 8 kept", b_ptr_many, QPTR, DNS_T_PTR, true,
	  DNS_R_OK, "h00.example.net|h01.example.net|h02.example.net|"
	  "h03.example.net|h04.example.net|h05.example.net|"
	  "h06.example.net|h07.example.net", 0, 12, 100 },
	{ "PTR, duplicate", b_ptr_dup, QPTR, DNS_T_PTR, true, DNS_R_OK,
	  "mail.example.net", 0, 0, 3600 },
	{ "RFC 2317 CNAME", b_cname_2317, QPTR, DNS_T_PTR, true, DNS_R_OK,
	  "host.example.org", 0, 0, 3600 },
	{ "CNAME loop", b_cname_loop, QPTR, DNS_T_PTR, true, DNS_R_NODATA,
	  "", 0, 0, -1 },
	{ "record for another name", b_other_owner, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 0, 0, -1 },
	{ "pointer loop", b_ptr_loop, QPTR, DNS_T_PTR, false, DNS_R_FAIL,
	  "", 1, 0, -1 },
	{ "forward pointer", b_ptr_forward, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 1, 0, -1 },
	{ "rdata past the end", b_truncated, QPTR, DNS_T_PTR, false,
	  DNS_R_FAIL, "", 1, 0, -1 },
	{ "extended label type", b_bad_label, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 1, 0, -1 },
	{ "name over 255 octets", b_long_name, QPTR, DNS_T_PTR, true,
	  DNS_R_NODATA, "", 1, 0, -1 },
	{ "NXDOMAIN with SOA", b_nxdomain_soa, QPTR, DNS_T_PTR, true,
	  DNS_R_NXDOMAIN, "", 0, 0, 300 },
	{ "NXDOMAIN bare", b_nxdomain_bare, QPTR, DNS_T_PTR, true,
	  DNS_R_NXDOMAIN, "", 0, 0, -1 },
	{ "NODATA", b_nodata, QPTR, DNS_T_PTR, true, DNS_R_NODATA, "", 0,
	  0, -1 },
	{ "SERVFAIL", b_servfail, QPTR, DNS_T_PTR, true, DNS_R_FAIL, "", 0,
	  0, -1 },
	{ "not a response", b_not_response, QPTR, DNS_T_PTR, false,
	  DNS_R_FAIL, "", 1, 0, -1 },
	{ "answer to another question", b_other_question, QPTR, DNS_T_PTR,
	  false, DNS_R_FAIL, "", 1, 0, -1 },
	{ "11-byte message", b_short_header, QPTR, DNS_T_PTR, false,
	  DNS_R_FAIL, "", 1, 0, -1 },
	{ "A, TTL top bit, bad length", b_a_ok, "mail.example.net",
	  DNS_T_A, true, DNS_R_OK, "192.0.2.1", 1, 0, 0 },
	{ "AAAA among A", b_aaaa_ok, "v6.example", DNS_T_AAAA, true,
	  DNS_R_OK, "2001:db8::25", 0, 0, 120 },
	{ "TXT joined, sanitised", b_txt, "2.0.0.127.bl.test", DNS_T_TXT,
	  true, DNS_R_OK, "Listed: see ?[0mURL|a?b", 0, 0, 900 },
	{ "TXT capped at 512", b_txt_long, "2.0.0.127.bl.test", DNS_T_TXT,
	  true, DNS_R_OK, NULL, 0, 0, 900 },
	{ "TXT string past rdata", b_txt_bad, "2.0.0.127.bl.test",
	  DNS_T_TXT, true, DNS_R_NODATA, "", 1, 0, -1 },
};

static void
test_answers(void)
{
	char got[8192], want_long[ST_DNS_MAX_TXT_LEN + 1];
	struct dns_rrset rs;
	size_t i, k, o;

	memset(want_long, 'a', 200);
	memset(want_long + 200, 'b', 200);
	memset(want_long + 400, 'c', 112);
	want_long[512] = '\0';
	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < sizeof(ans) / sizeof(ans[0]); i++) {
		struct pk p;
		bool r;
		const char *want = ans[i].items ? ans[i].items : want_long;

		memset(&p, 0, sizeof(p));
		ans[i].build(&p);
		/* exact-size copy: a read past the end is caught by ASan */
		{
			uint8_t *m = malloc(p.n ? p.n : 1);

			memcpy(m, p.b, p.n);
			r = dns_parse_answer(m, p.n, ans[i].qname,
			    ans[i].qtype, &rs);
			free(m);
		}
		for (o = 0, k = 0; k < rs.n; k++)
			o += (size_t)snprintf(got + o, sizeof(got) - o,
			    "%s%s", k ? "|" : "", rs.item[k]);
		got[o] = '\0';
		CHECK(r == ans[i].ret && rs.status == ans[i].status &&
		    strcmp(got, want) == 0 && rs.rejected == ans[i].rejected
		    && rs.over == ans[i].over &&
		    (ans[i].ttl < 0 ? !rs.has_ttl : (rs.has_ttl &&
		    rs.ttl == (uint32_t)ans[i].ttl)),
		    "%s: want ret %d status %d items [%s] rejected %u over %u "
		    "ttl %ld; got ret %d status %d items [%s] rejected %u "
		    "over %u ttl %ld", ans[i].desc, ans[i].ret,
		    ans[i].status, want, ans[i].rejected, ans[i].over,
		    ans[i].ttl, r, rs.status, got, rs.rejected, rs.over,
		    rs.has_ttl ? (long)rs.ttl : -1L);
		dns_rrset_clear(&rs);
	}
}

int
main(void)
{
	test_reverse();
	test_hostnames();
	test_listings();
	test_sanitize();
	test_answers();
	printf("dns_unit: %d cases, %d failed\n", cases, failures);
	return failures ? 1 : 0;
}
