/*
 * fuzz_config.c - libFuzzer target: the configuration file parser.
 *
 * st_config_parse on the input as a config file (bad lines fail with a
 * message; that is fine), then a lookup and st_config_free: LeakSanitizer
 * checks that every path frees what it allocated.  The error message must
 * be NUL-terminated.
 */
#include "fuzz_common.h"

#include "spamtrace/config.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct st_config c;
	struct st_error err;

	memset(&err, 0x5a, sizeof(err));
	st_config_init(&c);
	if (st_config_parse(&c, buf, size, "fuzz.conf", &err) != ST_OK)
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	(void)st_config_get(&c, "abuse_from");
	(void)st_net_contains(c.trust_nets, c.ntrust_nets, "192.0.2.1");
	(void)st_net_contains(c.trust_nets, c.ntrust_nets, "2001:db8::1");
	st_config_free(&c);
	free(buf);
	return 0;
}
