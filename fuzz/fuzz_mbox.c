/*
 * fuzz_mbox.c - libFuzzer target: splitting a mailbox into messages.
 *
 * Two parts: the separator rule alone (st_mbox_is_separator on every line
 * of the input, each line an exact-size copy), then the whole reader
 * (st_input_open / st_input_next) over the input held in a memory file
 * (memfd, opened by its /proc/self/fd path, so no disk is touched).
 * Checks: every message handed out lies inside the input, messages do not
 * overlap and come in order, the bytes handed out never exceed the input,
 * and the reader ends with ST_EOF (never ST_EIO on a readable file).
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spamtrace/input.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
separators(const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size, *nl;
	int prev_blank = 1;

	while (p < end) {
		size_t n;
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		line = fuzz_copy((const uint8_t *)p, n);
		(void)st_mbox_is_separator(line, n, prev_blank);
		free(line);
		prev_blank = n == 0;
		p = nl ? nl + 1 : end;
	}
}

static void
reader(const char *buf, size_t size)
{
	struct st_input *in;
	struct st_rawmsg m;
	struct st_error err;
	enum st_status st;
	char path[64];
	uint64_t last_end = 0, total = 0;
	size_t n = 0;
	int fd = memfd_create("fuzz_mbox", 0);

	if (fd < 0)
		return;		/* no memfd here: the separator part ran */
	if (size > 0 && write(fd, buf, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (st_input_open(&in, path, &err) == ST_OK) {
		while ((st = st_input_next(in, &m)) == ST_OK) {
			n++;
			CHECK(n <= size + 1);
			if (m.error != ST_OK)
				continue;
			CHECK(m.len <= size);
			CHECK(m.offset + m.len <= size);
			CHECK(m.offset >= last_end);
			if (m.len > 0)
				CHECK(m.data != NULL &&
				    memcmp(m.data, buf + m.offset, m.len) == 0);
			last_end = m.offset + m.len;
			total += m.len;
		}
		CHECK(st == ST_EOF);
		CHECK(total <= size);
		st_input_close(in);
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);

	separators(buf, size);
	reader(buf, size);
	free(buf);
	return 0;
}
