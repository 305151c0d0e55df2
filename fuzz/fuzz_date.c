/*
 * fuzz_date.c - libFuzzer target: RFC 5322 date parsing.
 *
 * st_date_parse on the input as a Date value; a date it accepts must have
 * a sane zone (|offset| under 100 hours, tz[] NUL-terminated) and must
 * format with st_date_iso without overflow.
 */
#include "fuzz_common.h"

#include "spamtrace/date.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct st_date d;
	char iso[64];

	memset(&d, 0x5a, sizeof(d));
	if (st_date_parse(buf, size, &d)) {
		CHECK(d.tz_min > -100 * 60 && d.tz_min < 100 * 60);
		CHECK(memchr(d.tz, '\0', sizeof(d.tz)) != NULL);
		st_date_iso(d.utc, iso, sizeof(iso));
		CHECK(memchr(iso, '\0', sizeof(iso)) != NULL);
	}
	free(buf);
	return 0;
}
