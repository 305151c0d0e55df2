/*
 * replay_main.c - run a fuzz target's entry point over files, without
 * libFuzzer: the driver of the fuzz_replay_<target> tests of every normal
 * build (gcc or clang, with or without -DST_SANITIZE=ON).
 *
 *   fuzz_<target>_replay PATH...
 *
 * Each PATH is a file, or a directory whose regular files (not starting
 * with '.', not README*) are replayed in name order.  Each input is read
 * whole and handed to LLVMFuzzerTestOneInput (which copies it into an
 * exact-size buffer).  A missing PATH is noted and skipped (an empty
 * fuzz/repro/<target> is not kept by git).  Exit 0 when every input ran;
 * a crash ends the process (signal, or the sanitizer's exit status).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

/* libFuzzer's optional hook; targets that need setup define it. */
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t nrun;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (nb == NULL) {
				fclose(f);
				free(buf);
				fprintf(stderr, "replay: %s: out of memory\n",
				    path);
				return 1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	nrun++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) *
			    sizeof(*names));

			if (nn == NULL)
				break;
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		if ((names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) ==
		    NULL)
			break;
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc |= replay_file(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;
	struct stat st;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: absent, skipped\n",
			    argv[i]);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			rc |= replay_dir(argv[i]);
		else
			rc |= replay_file(argv[i]);
	}
	printf("replay: %zu inputs run, no crash\n", nrun);
	return rc;
}
