/* What the engine and every target share about a release (src/release.h). */
#include "config.h"

#include "release.h"
#include "xmalloc.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

char *release_image_ref(const struct conf_registry *reg, const char *repo, const char *tag,
    const char *digest)
{
	if (digest && *digest)
		return xasprintf("%s/%s:%s@%s", reg->host, repo, tag, digest);
	return xasprintf("%s/%s:%s", reg->host, repo, tag);
}

void release_new_id(char *out, size_t outsz, long long now)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[32], suffix[5];
	unsigned r = (unsigned)getpid() ^ (unsigned)now;
	FILE *f = fopen("/dev/urandom", "rb");

	if (f) {
		if (fread(&r, sizeof r, 1, f) != 1)
			r ^= (unsigned)clock();
		fclose(f);
	}
	for (int i = 0; i < 4; i++, r >>= 5)
		suffix[i] = alphabet[r % 32];
	suffix[4] = '\0';
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, outsz, "%s-%s", stamp, suffix);
}
