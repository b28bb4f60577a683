/* Fuzz target: what a registry sends: manifests, tag lists, auth challenges and Link headers. */
#include "config.h"

#include "conf.h"
#include "loop.h"
#include "registry.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char url[] = "http://r", host[] = "r", repo[] = "a", pattern[] = "^sha-[0-9a-f]{7,40}$|^v";
	static struct conf_registry conf = { .url = url, .host = host, .app = repo, .migrator = repo,
	    .tag_pattern = pattern, .timeout_ms = 1000 };
	static struct loop *loop;
	static struct registry *reg;
	struct registry_result r;
	struct registry_challenge ch;
	char config_digest[REGISTRY_DIGEST_MAX], next[600];
	char *text = malloc(size + 1);
	size_t cap = 0;

	if (!reg) {
		loop = loop_new();
		reg = registry_new(loop, &conf);
	}
	memcpy(text, data, size);
	text[size] = '\0';                      /* headers arrive as text */

	if (registry_parse_challenge(text, &ch) && (strlen(ch.realm) >= sizeof ch.realm ||
	    strlen(ch.scope) >= sizeof ch.scope))
		abort();
	if (registry_parse_link(text, next, sizeof next) && (next[0] != '/' || strlen(next) >= sizeof next))
		abort();

	memset(&r, 0, sizeof r);
	if (registry_read_manifest((const char *)data, size, text, "", &r, config_digest) == REGISTRY_OK) {
		if (strncmp(r.digest, "sha256:", 7) != 0 || strlen(r.digest) != 71)
			abort();
		assert_printable(r.media_type);
		if (config_digest[0] && strlen(config_digest) != 71)
			abort();
	}
	memset(&r, 0, sizeof r);
	if (registry_read_tags(reg, (const char *)data, size, &r, &cap)) {
		for (size_t i = 0; i < r.tags_len; i++) {
			assert_printable(r.tags[i]);
			if (!registry_tag_allowed(reg, r.tags[i]) || strlen(r.tags[i]) > 128)
				abort();
			free(r.tags[i]);
		}
		free(r.tags);
	}
	free(text);
	return 0;
}
