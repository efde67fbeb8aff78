// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs a libFuzzer target's entry point on saved inputs, built by the
 * ordinary compiler without libFuzzer: `make check` replays the inputs of
 * fuzz/regressions/<target>/ through it, so that a crash fixed once stays
 * fixed in every build (plain and sanitized), not only where clang is.
 *
 * usage: fuzz-<target>-replay [FILE|DIR...]
 *   without arguments: the directory the build names (FUZZ_REGRESSIONS).
 * Speaks TAP (as every test of `make check`): a comment names each input
 * before it runs, so a crash names its input; "ok" after it ran; the plan
 * at the end.  Exits 1 when an input cannot be read or there is none.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int nrun;

static int run_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (!f) {
		fprintf(stderr, "replay: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!nb) {
				fprintf(stderr, "replay: read %s: %s\n", path,
					strerror(ENOMEM));
				rc = -1;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: read %s: %s\n", path, strerror(errno));
		rc = -1;
		goto out;
	}
	printf("# %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, len);
	printf("ok %u - %s\n", ++nrun, path);
out:
	free(buf);
	fclose(f);
	return rc;
}

static int run_path(const char *path)
{
	struct dirent **ents;
	struct stat st;
	char sub[4096];
	int i, n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: stat %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: read directory %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && rc == 0) {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			rc = run_file(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	int i;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		if (run_path(FUZZ_REGRESSIONS) < 0)
			return 1;
	}
	for (i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			return 1;
	if (!nrun) {
		fprintf(stderr, "replay: no input to run\n");
		return 1;
	}
	printf("1..%u\n", nrun);
	return 0;
}
