/*
 * ip.c - address normalisation and classes.
 *
 * Received lines write addresses in many ways: "IPv6:2001:db8::1",
 * "[::ffff:1.2.3.4]", "fe80::1%eth0", "1.2.3.4:5678" (port glued on).
 * st_ip_normalise() turns each into its canonical text via inet_pton /
 * inet_ntop.  Text that is not exactly an address (a name, "1.2.3",
 * "1.2.3.4.5") is refused.  The classes follow RFC 1918, RFC 6598 (CGNAT), RFC 4193 (ULA),
 * RFC 5737 / 3849 (documentation) and RFC 6890 (special-purpose registry).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/received.h"

/*
 * inet_pton(AF_INET) on p[0..len) without the call and the NUL it needs:
 * exactly four decimal numbers of 0-255 without leading zeros, joined by
 * dots, nothing else (the rules of glibc's inet_pton4).  Addresses are
 * the common case of every caller; anything else goes the long way.
 */
static bool
quad(const char *p, size_t len, unsigned char out[4])
{
	const char *e = p + len;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned v;

		if (k > 0 && (p == e || *p++ != '.'))
			return false;
		if (p == e || (unsigned)(*p - '0') > 9)
			return false;
		v = (unsigned)(*p++ - '0');
		if (p < e && (unsigned)(*p - '0') <= 9) {
			if (v == 0)
				return false;		/* leading zero */
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < e && (unsigned)(*p - '0') <= 9) {
				v = v * 10 + (unsigned)(*p++ - '0');
				if (v > 255)
					return false;
			}
		}
		out[k] = (unsigned char)v;
	}
	return p == e;
}

/*
 * inet_ntop() without its sprintf calls, writing what glibc writes: the
 * IPv4 dotted quad; for IPv6 lower-case hex words without leading zeros,
 * the longest run of two or more zero words (the first of equal ones)
 * written "::", and the last 32 bits as a dotted quad after "::" (six
 * zero words) or "::ffff:" (five zero words and ffff).  False when the
 * text and its NUL do not fit size.
 */
static size_t
put_octet(char *o, unsigned v)
{
	size_t n = 0;

	if (v >= 100)
		o[n++] = (char)('0' + v / 100);
	if (v >= 10)
		o[n++] = (char)('0' + v / 10 % 10);
	o[n++] = (char)('0' + v % 10);
	return n;
}

static size_t
put_quad(char *o, const unsigned char *b)
{
	size_t n = put_octet(o, b[0]);
	int k;

	for (k = 1; k < 4; k++) {
		o[n++] = '.';
		n += put_octet(o + n, b[k]);
	}
	return n;
}

static bool
put_text(char *buf, size_t size, const char *tmp, size_t n)
{
	if (n >= size)
		return false;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return true;
}

static bool
text4(const unsigned char *b, char *buf, size_t size)
{
	char tmp[16];

	return put_text(buf, size, tmp, put_quad(tmp, b));
}

static bool
text6(const unsigned char *b, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[sizeof("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")];
	unsigned w[8];
	int i, run = -1, runlen = 0, cur = -1, sh;
	size_t n = 0;

	for (i = 0; i < 8; i++)
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (cur < 0)
				cur = i;
			continue;
		}
		/* a run of zero words ends before i */
		if (cur >= 0 && i - cur > runlen)
			run = cur, runlen = i - cur;
		cur = -1;
	}
	if (runlen < 2)
		run = -1;
	for (i = 0; i < 8; i++) {
		if (run >= 0 && i >= run && i < run + runlen) {
			if (i == run)
				tmp[n++] = ':';
			continue;
		}
		if (i != 0)
			tmp[n++] = ':';
		if (i == 6 && run == 0 && (runlen == 6 || (runlen == 5 &&
		    w[5] == 0xffff))) {
			n += put_quad(tmp + n, b + 12);
			break;
		}
		for (sh = 12; sh > 0 && (w[i] >> sh) == 0; sh -= 4)
			;
		for (; sh >= 0; sh -= 4)
			tmp[n++] = hex[(w[i] >> sh) & 15];
	}
	if (run >= 0 && run + runlen == 8)
		tmp[n++] = ':';
	return put_text(buf, size, tmp, n);
}

static bool
to_text(const char *tmp, char *buf, size_t size)
{
	unsigned char bin[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (inet_pton(AF_INET, tmp, bin) == 1) {
		/* inet_pton takes only the canonical dotted quad (no
		 * leading zeros): the text is already normal */
		size_t n = strlen(tmp);

		if (n >= size)
			return false;
		memcpy(buf, tmp, n + 1);
		return true;
	}
	if (inet_pton(AF_INET6, tmp, bin) == 1) {
		if (memcmp(bin, mapped, 12) == 0)
			return text4(bin + 12, buf, size);
		return text6(bin, buf, size);
	}
	return false;
}

bool
st_ip_normalise(const char *p, size_t len, char *buf, size_t size)
{
	char tmp[64], *pct, *colon;
	const char *rb;

	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len && *p == '[') {
		/* "[addr]", "[addr]:port" */
		p++, len--;
		if ((rb = memchr(p, ']', len)) != NULL) {
			size_t after = len - (size_t)(rb + 1 - p);

			if (after && rb[1] != ':')
				return false;
			len = (size_t)(rb - p);
		}
	}
	if (len > 5 && (*p | 0x20) == 'i' && strncasecmp(p, "IPv6:", 5) == 0)
		p += 5, len -= 5;
	if (len == 0 || len >= sizeof(tmp))
		return false;
	/* a dotted quad is already in its normal form */
	if (quad(p, len, (unsigned char[4]){ 0 })) {
		if (len >= size)
			return false;
		memcpy(buf, p, len);
		buf[len] = '\0';
		return true;
	}
	/* inet_pton reads up to a NUL, and a zone id is cut at its '%':
	 * before them, an address (or one with a port) has only hex
	 * digits, dots and colons.  Host names end here. */
	{
		size_t i;

		for (i = 0; i < len && p[i] != '\0' && p[i] != '%'; i++) {
			unsigned char c = (unsigned char)p[i];

			if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
			    (c | 0x20) <= 'f') || c == '.' || c == ':'))
				return false;
		}
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if ((pct = strchr(tmp, '%')) != NULL)	/* zone id */
		*pct = '\0';
	if (to_text(tmp, buf, size))
		return true;
	/* "1.2.3.4:5678": an IPv4 address with its port glued on */
	if ((colon = strchr(tmp, ':')) != NULL && strchr(colon + 1, ':') ==
	    NULL && strchr(tmp, '.') != NULL && strchr(tmp, '.') < colon) {
		size_t i;

		for (i = 1; colon[i]; i++)
			if (colon[i] < '0' || colon[i] > '9')
				return false;
		if (i == 1 || i > 6)
			return false;
		*colon = '\0';
		return to_text(tmp, buf, size);
	}
	return false;
}

static bool
v4(const char *ip, uint32_t *a)
{
	unsigned char b[4];

	if (!quad(ip, strlen(ip), b))
		return false;
	*a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	return true;
}

static bool
in4(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);

	return (a & mask) == (net & mask);
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

bool
st_ip_is_ipv6(const char *ip)
{
	return strchr(ip, ':') != NULL;
}

bool
st_ip_is_loopback(const char *ip)
{
	uint32_t a;

	if (v4(ip, &a))
		return in4(a, IP4(127, 0, 0, 0), 8);
	return strcmp(ip, "::1") == 0;
}

bool
st_ip_is_private(const char *ip)
{
	uint32_t a;
	unsigned char b[16];

	if (v4(ip, &a))
		return in4(a, IP4(10, 0, 0, 0), 8) ||
		    in4(a, IP4(172, 16, 0, 0), 12) ||
		    in4(a, IP4(192, 168, 0, 0), 16) ||
		    in4(a, IP4(100, 64, 0, 0), 10) ||
		    in4(a, IP4(169, 254, 0, 0), 16);
	if (inet_pton(AF_INET6, ip, b) != 1)
		return false;
	return (b[0] & 0xfe) == 0xfc ||			/* fc00::/7 ULA */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);	/* fe80::/10 */
}

bool
st_ip_is_reserved(const char *ip)
{
	uint32_t a;
	unsigned char b[16];

	if (v4(ip, &a))
		return in4(a, IP4(0, 0, 0, 0), 8) ||
		    in4(a, IP4(192, 0, 0, 0), 24) ||
		    in4(a, IP4(192, 0, 2, 0), 24) ||
		    in4(a, IP4(198, 18, 0, 0), 15) ||
		    in4(a, IP4(198, 51, 100, 0), 24) ||
		    in4(a, IP4(203, 0, 113, 0), 24) ||
		    in4(a, IP4(224, 0, 0, 0), 4) ||
		    in4(a, IP4(240, 0, 0, 0), 4);
	if (inet_pton(AF_INET6, ip, b) != 1)
		return false;
	return (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
	    b[3] == 0xb8) ||				/* 2001:db8::/32 */
	    b[0] == 0xff ||				/* multicast */
	    (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0 &&
	    b[15] == 0);				/* :: */
}
