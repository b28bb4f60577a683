/* Fuzz target: HTTP bodies through version extraction, summaries and the sanitizer. */
#include "config.h"

#include "payload.h"
#include "sanitize.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fails loudly if sanitized text still holds a control byte. */
static void assert_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char out[PAYLOAD_TAG_MAX], err[160], summary[160], text[512];

	if (payload_version(body, size, "/version", out, sizeof out, err, sizeof err))
		assert_clean(out);
	if (payload_version(body, size, "", out, sizeof out, err, sizeof err))
		assert_clean(out);
	payload_summary(body, size, summary, sizeof summary);
	assert_clean(summary);
	sanitize_text(body, size, text, sizeof text, 0);
	assert_clean(text);
	if (!sanitize_is_clean(text))
		abort();        /* sanitizing twice must change nothing */
	sanitize_text(body, size, text, sizeof text, SANITIZE_ASCII);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	return 0;
}
