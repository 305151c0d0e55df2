/*
 * date.c - RFC 5322 dates as real mail writes them.
 *
 * Tokenises the text into words and numbers and assigns them by shape,
 * which accepts the standard form and its obsolete relatives alike:
 * "Fri, 3 Mar 2006 20:54:40 +0900 (JST)", "3 Mar 2006 11:54:27 -0000",
 * "Sun Nov 13 14:50:12 2005" (ctime), "8 Mar 04 12:23:56 -0000",
 * "Tue, 06 Jan 2004 22:09:53 +0000", "Thu, 23 Sep 2004 14:35:29 -0600 (MDT)",
 * and zone names (UT, GMT, EST/EDT/CST/CDT/MST/MDT/PST/PDT, JST, military
 * letters).  Two-digit years follow RFC 5322 4.3 (< 50: 20xx).  Out of
 * range values fail the parse; they never overflow.
 *
 * Standards: RFC 5322 3.3 and 4.3, RFC 822 5.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/date.h"
#include "util/ascii.h"

static const struct { const char *name; int min; } zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	{ "JST", 540 }, { "KST", 540 }, { "CET", 60 }, { "CEST", 120 },
	{ "MET", 60 }, { "MEST", 120 }, { "BST", 60 }, { "EET", 120 },
	{ "EEST", 180 }, { "WET", 0 }, { "WEST", 60 }, { "HKT", 480 },
	{ "SGT", 480 }, { "AEST", 600 }, { "AEDT", 660 }, { "IST", 330 },
	{ "NZST", 720 }, { "NZDT", 780 },
};

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm (public domain description) */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int
month_of(const char *w, size_t n)
{
	if (n < 3 || !isalpha((unsigned char)w[0]))
		return -1;
	/* every word of a date comes here: its three letters, folded
	 * (exact for letters: only 'A' and 'a' fold to 'a'), as one key */
	switch ((unsigned)(w[0] | 0x20) << 16 | (unsigned)(w[1] | 0x20) << 8 |
	    (unsigned)(w[2] | 0x20)) {
	case 'j' << 16 | 'a' << 8 | 'n':	return 1;
	case 'f' << 16 | 'e' << 8 | 'b':	return 2;
	case 'm' << 16 | 'a' << 8 | 'r':	return 3;
	case 'a' << 16 | 'p' << 8 | 'r':	return 4;
	case 'm' << 16 | 'a' << 8 | 'y':	return 5;
	case 'j' << 16 | 'u' << 8 | 'n':	return 6;
	case 'j' << 16 | 'u' << 8 | 'l':	return 7;
	case 'a' << 16 | 'u' << 8 | 'g':	return 8;
	case 's' << 16 | 'e' << 8 | 'p':	return 9;
	case 'o' << 16 | 'c' << 8 | 't':	return 10;
	case 'n' << 16 | 'o' << 8 | 'v':	return 11;
	case 'd' << 16 | 'e' << 8 | 'c':	return 12;
	}
	return -1;
}

static bool
is_day_name(const char *w, size_t n)
{
	static const char days[] = "montuewedthufrisatsun";
	size_t i;

	if (n < 3)
		return false;
	for (i = 0; i < 21; i += 3)
		if ((w[0] | 0x20) == days[i] && (w[1] | 0x20) == days[i + 1] &&
		    (w[2] | 0x20) == days[i + 2])
			return true;
	return false;
}

static bool
zone_name(const char *w, size_t n, int *min)
{
	size_t i;
	char buf[8];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, w, n);
	buf[n] = '\0';
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcasecmp(buf, zones[i].name) == 0) {
			*min = zones[i].min;
			return true;
		}
	return false;
}

/* The parsed fields checked and stored in *d; false when out of range. */
static bool
finish(struct st_date *d, int day, int mon, long year, int hh, int mm, int ss,
    int zone, bool have_zone, bool minus_zero)
{
	if (day < 1 || day > 31 || mon < 1 || year < 1900 || year > 9999 ||
	    hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return false;
	d->utc = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
	    hh * 3600 + mm * 60 + ss - (int64_t)zone * 60;
	d->tz_min = zone;
	d->tz_known = have_zone && !minus_zero;
	d->tz_minus_zero = minus_zero;
	if (have_zone) {
		/* "+hhmm" by hand: every Received and Date goes through here */
		int az = zone < 0 ? -zone : zone, h = az / 60 % 100, m = az % 60;

		d->tz[0] = zone < 0 || minus_zero ? '-' : '+';
		d->tz[1] = (char)('0' + h / 10);
		d->tz[2] = (char)('0' + h % 10);
		d->tz[3] = (char)('0' + m / 10);
		d->tz[4] = (char)('0' + m % 10);
		d->tz[5] = '\0';
	}
	return true;
}

static inline bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool
dig(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The standard form, "[Www, ]D[D] Mon YYYY HH:MM:SS +hhmm [(comment)]",
 * read in one pass without tokenising: nearly every Date and Received
 * date is written this way.  Returns false, with *d untouched, for
 * anything else; st_date_parse() then reads it word by word.  Accepts
 * only what the general reader reads the same way: after the zone, only
 * a comment may follow (words outside it could still change the result).
 */
static bool
fast_date(const char *p, size_t len, struct st_date *d)
{
	const char *e = p + len;
	int day, mon, hh, mm, ss, zone, v, m2, depth;
	long year;
	bool minus;

	while (p < e && is_wsp(*p))
		p++;
	if (e - p >= 5 && !dig(*p)) {		/* "Fri, " */
		if (!is_day_name(p, 3) || p[3] != ',')
			return false;
		p += 4;
		while (p < e && is_wsp(*p))
			p++;
	}
	if (e - p < 25 || !dig(p[0]))		/* "3 Mar 2006 20:54:40 +0900" */
		return false;
	day = p[0] - '0';
	p++;
	if (dig(*p))
		day = day * 10 + (*p++ - '0');
	if (!is_wsp(*p) || e - p < 24)
		return false;
	while (p < e && is_wsp(*p))
		p++;
	if (e - p < 23 || (mon = month_of(p, 3)) < 0 || !is_wsp(p[3]))
		return false;
	p += 4;
	while (p < e && is_wsp(*p))
		p++;
	if (e - p < 19 || !dig(p[0]) || !dig(p[1]) || !dig(p[2]) ||
	    !dig(p[3]) || !is_wsp(p[4]))
		return false;
	year = (p[0] - '0') * 1000L + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
	    (p[3] - '0');
	p += 5;
	while (p < e && is_wsp(*p))
		p++;
	if (e - p < 14 || !dig(p[0]) || !dig(p[1]) || p[2] != ':' ||
	    !dig(p[3]) || !dig(p[4]) || p[5] != ':' || !dig(p[6]) ||
	    !dig(p[7]) || !is_wsp(p[8]))
		return false;
	hh = (p[0] - '0') * 10 + (p[1] - '0');
	mm = (p[3] - '0') * 10 + (p[4] - '0');
	ss = (p[6] - '0') * 10 + (p[7] - '0');
	p += 9;
	while (p < e && is_wsp(*p))
		p++;
	if (e - p < 5 || (*p != '+' && *p != '-') || !dig(p[1]) ||
	    !dig(p[2]) || !dig(p[3]) || !dig(p[4]) ||
	    (e - p > 5 && !is_wsp(p[5])))
		return false;
	minus = *p == '-';
	v = (p[1] - '0') * 10 + (p[2] - '0');
	m2 = (p[3] - '0') * 10 + (p[4] - '0');
	if (v > 23 + 2 || m2 > 59)
		return false;
	zone = v * 60 + m2;
	if (minus)
		zone = -zone;
	p += 5;
	/* the rest: white space, then at most one comment (to the end) */
	while (p < e && is_wsp(*p))
		p++;
	if (p < e) {
		if (*p != '(')
			return false;
		for (depth = 0; p < e; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
		}
		if (p < e)
			p++;
		while (p < e && is_wsp(*p))
			p++;
		if (p < e)
			return false;
	}
	if (day < 1 || day > 31 || year < 1900 || hh > 23 || mm > 59 ||
	    ss > 60)
		return false;
	memset(d, 0, sizeof(*d));
	return finish(d, day, mon, year, hh, mm, ss, zone, true,
	    minus && zone == 0);
}

bool
st_date_parse(const char *p, size_t len, struct st_date *d)
{
	const char *e = p + len;
	int day = -1, mon = -1, hh = -1, mm = -1, ss = 0, zone = 0;
	long year = -1;
	bool have_zone = false, minus_zero = false, in_comment = false;
	int depth = 0;

	if (fast_date(p, len, d))
		return true;
	memset(d, 0, sizeof(*d));
	while (p < e) {
		const char *w;
		size_t n;

		if (*p == '(') {
			depth++;
			p++;
			continue;
		}
		if (*p == ')') {
			if (depth)
				depth--;
			p++;
			continue;
		}
		in_comment = depth > 0;
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-') {
			p++;
			continue;
		}
		w = p;
		if (*p == '+' || *p == '-')
			p++;
		while (p < e && (isalnum((unsigned char)*p) || *p == ':'))
			p++;
		n = (size_t)(p - w);
		if (in_comment) {
			/* "(JST)" only matters when no numeric zone */
			if (!have_zone && zone_name(w, n, &zone))
				have_zone = true;
			continue;
		}
		if ((*w == '+' || *w == '-') && n == 5 &&
		    isdigit((unsigned char)w[1]) && isdigit((unsigned char)w[4])) {
			int v = (w[1] - '0') * 10 + (w[2] - '0');
			int m2 = (w[3] - '0') * 10 + (w[4] - '0');

			if (v > 23 + 2 || m2 > 59)
				return false;
			zone = v * 60 + m2;
			if (*w == '-')
				zone = -zone;
			minus_zero = *w == '-' && zone == 0;
			have_zone = true;
			continue;
		}
		if (memchr(w, ':', n) != NULL) {
			/* "h:mm", "hh:mm:ss": at most two digits a field, read
			 * within the span (no sscanf: the span has no NUL) */
			int f[3] = { -1, -1, 0 }, k = 0;
			size_t j = 0;

			while (k < 3 && j < n) {
				int v = 0, nd = 0;

				while (j < n && nd < 2 &&
				    isdigit((unsigned char)w[j])) {
					v = v * 10 + (w[j++] - '0');
					nd++;
				}
				if (nd == 0)
					break;
				f[k++] = v;
				if (j < n && w[j] == ':')
					j++;
				else
					break;
			}
			int a = f[0], b = f[1], c = f[2];

			if (k < 2 || hh >= 0)
				continue;
			hh = a;
			mm = b;
			ss = k == 3 ? c : 0;
			continue;
		}
		if (isdigit((unsigned char)*w)) {
			long v = 0;
			size_t i;

			if (n > 6)
				continue;
			for (i = 0; i < n && isdigit((unsigned char)w[i]); i++)
				v = v * 10 + (w[i] - '0');
			if (i != n)
				continue;
			if (n == 3 && w[0] == '0' && day < 0 && v <= 31) {
				day = (int)v;	/* "Tue, 029 Apr 2009" */
			} else if (n >= 3) {
				if (year < 0)
					year = n == 3 ? 1900 + v : v;
			} else if (day < 0)
				day = (int)v;
			else if (year < 0)
				year = v < 50 ? 2000 + v : 1900 + v;
			continue;
		}
		{
			int mo = month_of(w, n);

			if (mo > 0 && mon < 0 && n <= 9) {
				mon = mo;
				continue;
			}
			if (is_day_name(w, n))
				continue;
		}
		if (!have_zone && zone_name(w, n, &zone)) {
			have_zone = true;
			continue;
		}
	}
	return finish(d, day, mon, year, hh, mm, ss, zone, have_zone,
	    minus_zero);
}

void
st_date_iso(int64_t utc, char *buf, size_t size)
{
	/* the dates of a run fall on few days: the last day's "YYYY-MM-DD"
	 * is kept per thread (-1: none; day numbers here are >= 0) */
	static _Thread_local int64_t last_day = -1;
	static _Thread_local char last_ymd[10];
	int64_t days = utc >= 0 ? utc / 86400 : (utc - 86399) / 86400;
	int64_t secs = utc - days * 86400;
	char *o = buf;

	if (days != last_day || days < 0 || size < 21) {
		/* civil_from_days */
		int64_t z = days + 719468;
		int64_t era = (z >= 0 ? z : z - 146096) / 146097;
		unsigned doe = (unsigned)(z - era * 146097);
		unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) /
		    365;
		int64_t y = (int64_t)yoe + era * 400;
		unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		unsigned mp = (5 * doy + 2) / 153;
		unsigned dd = doy - (153 * mp + 2) / 5 + 1;
		unsigned mo = mp < 10 ? mp + 3 : mp - 9;

		y += mo <= 2;
		if (y < 0 || y > 9999 || size < 21) {
			snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
			    (long long)y, mo, dd, (int)(secs / 3600),
			    (int)(secs / 60 % 60), (int)(secs % 60));
			return;
		}
		/* the hot path of every JSON record: no printf */
		last_ymd[0] = (char)('0' + y / 1000);
		last_ymd[1] = (char)('0' + y / 100 % 10);
		last_ymd[2] = (char)('0' + y / 10 % 10);
		last_ymd[3] = (char)('0' + y % 10);
		last_ymd[4] = '-';
		last_ymd[5] = (char)('0' + mo / 10);
		last_ymd[6] = (char)('0' + mo % 10);
		last_ymd[7] = '-';
		last_ymd[8] = (char)('0' + dd / 10);
		last_ymd[9] = (char)('0' + dd % 10);
		last_day = days;
	}
	memcpy(o, last_ymd, 10);
	o += 10;
	{
		int v[3] = { (int)(secs / 3600), (int)(secs / 60 % 60),
		    (int)(secs % 60) };
		static const char seps[] = "T::";

		for (int k = 0; k < 3; k++) {
			*o++ = seps[k];
			*o++ = (char)('0' + v[k] / 10);
			*o++ = (char)('0' + v[k] % 10);
		}
		*o++ = 'Z';
		*o = '\0';
	}
}
