/*
 * fuzz_date.c - libFuzzer target: RFC 5322 date parsing.
 *
 * st_date_parse on the input as a Date value; a date it accepts must have
 * a sane zone (|offset| under 100 hours, tz[] NUL-terminated) and must
 * format with st_date_iso without overflow.  The input read with ". " in
 * front (which sends it through the word-by-word reader rather than the
 * one-pass reader of the standard form) must give the same answer.
 */
#include "fuzz_common.h"

#include "spamtrace/date.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size), *alt;
	struct st_date d, d2;
	char iso[64];
	bool ok;

	memset(&d, 0x5a, sizeof(d));
	memset(&d2, 0x5a, sizeof(d2));
	ok = st_date_parse(buf, size, &d);
	if ((alt = malloc(size + 2)) == NULL)
		abort();
	memcpy(alt, ". ", 2);
	memcpy(alt + 2, buf, size);
	CHECK(st_date_parse(alt, size + 2, &d2) == ok);
	CHECK(!ok || (d.utc == d2.utc && d.tz_min == d2.tz_min &&
	    d.tz_known == d2.tz_known && d.tz_minus_zero == d2.tz_minus_zero &&
	    strcmp(d.tz, d2.tz) == 0));
	free(alt);
	if (ok) {
		CHECK(d.tz_min > -100 * 60 && d.tz_min < 100 * 60);
		CHECK(memchr(d.tz, '\0', sizeof(d.tz)) != NULL);
		st_date_iso(d.utc, iso, sizeof(iso));
		CHECK(memchr(iso, '\0', sizeof(iso)) != NULL);
	}
	free(buf);
	return 0;
}
