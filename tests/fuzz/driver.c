/*
 * A fuzz driver for `make check`, where libFuzzer may be missing: runs the target
 * on every file of a corpus directory, then on deterministic mutations of them
 * (bit flips, byte insertions, truncations, splices), and prints one TAP line.
 * `make fuzz` builds the same targets with clang's libFuzzer for real fuzzing.
 *
 *   fuzz_X CORPUS_DIR [ITERATIONS]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64: the same sequence every run, so a failure reproduces. */
static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct seed {
	uint8_t *data;
	size_t len;
};

int main(int argc, char **argv)
{
	static const char *const tokens[] = {
		"\x1b[", "\x1b]0;", "\x07", "\xff", "\xc0\xaf", "{", "}", "[", "]", ":", "\"", "\n  - ",
		"&a", "*a", "!!binary", "%YAML 1.1\n", "---\n", "\\u0000", "~", "null", "/version",
	};
	struct seed *seeds = NULL;
	size_t nseeds = 0;
	long iterations = argc > 2 ? atol(argv[2]) : 20000;
	uint8_t *buf = malloc(MAX_INPUT);
	DIR *dir;
	struct dirent *de;

	if (argc < 2 || !(dir = opendir(argv[1]))) {
		printf("1..1\nnot ok 1 - cannot open the corpus %s\n", argc > 1 ? argv[1] : "(none)");
		return 1;
	}
	while ((de = readdir(dir))) {
		char path[4096];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		seeds = realloc(seeds, (nseeds + 1) * sizeof *seeds);
		seeds[nseeds].data = malloc(MAX_INPUT);
		seeds[nseeds].len = fread(seeds[nseeds].data, 1, MAX_INPUT, f);
		fclose(f);
		LLVMFuzzerTestOneInput(seeds[nseeds].data, seeds[nseeds].len);
		nseeds++;
	}
	closedir(dir);
	for (long i = 0; i < iterations && nseeds; i++) {
		const struct seed *s = &seeds[next_random() % nseeds];
		size_t len = s->len;
		int edits = 1 + (int)(next_random() % 8);

		memcpy(buf, s->data, len);
		for (int e = 0; e < edits; e++) {
			size_t at = len ? next_random() % len : 0;

			switch (next_random() % 5) {
			case 0:         /* flip a bit */
				if (len)
					buf[at] ^= (uint8_t)(1u << (next_random() % 8));
				break;
			case 1:         /* a random byte */
				if (len)
					buf[at] = (uint8_t)next_random();
				break;
			case 2: {       /* insert a token */
				const char *t = tokens[next_random() % (sizeof tokens / sizeof tokens[0])];
				size_t tl = strlen(t);

				if (len + tl < MAX_INPUT) {
					memmove(buf + at + tl, buf + at, len - at);
					memcpy(buf + at, t, tl);
					len += tl;
				}
				break;
			}
			case 3:         /* truncate */
				len = at;
				break;
			default: {      /* splice in part of another seed */
				const struct seed *o = &seeds[next_random() % nseeds];
				size_t from = o->len ? next_random() % o->len : 0;
				size_t n = o->len - from;

				if (at + n > MAX_INPUT)
					n = MAX_INPUT - at;
				memcpy(buf + at, o->data + from, n);
				if (at + n > len)
					len = at + n;
				break;
			}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("1..1\nok 1 - %s: %zu seeds and %ld mutated inputs without a crash\n", argv[0], nseeds,
	    iterations);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].data);
	free(seeds);
	free(buf);
	return 0;
}
