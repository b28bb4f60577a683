/* Fuzz target: what hosts send: deploy.env files, deploy.running's list, a rollout's
 * driver and request records, and log output split into lines. */
#include "config.h"

#include "conf.h"
#include "deployenv.h"
#include "drive.h"
#include "logstream.h"
#include "compose/envfile.h"
#include "compose/services.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fails loudly if sanitized text still holds a control byte. */
static void assert_clean(const char *s, size_t len)
{
	if (strlen(s) != len)
		abort();
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf_env env;
	struct deploy_env de;
	struct logstream *ls;
	char why[200], tag[80];
	size_t half = size / 2;

	if (deployenv_parse((const char *)data, size, &de, why, sizeof why)) {
		assert_clean(de.app_image, strlen(de.app_image));
		deployenv_image_tag(de.app_image, tag, sizeof tag);
		assert_clean(tag, strlen(tag));
	}
	{
		struct running run = { 0 };

		if (running_parse((const char *)data, size, &run, why, sizeof why)) {
			for (size_t i = 0; i < run.len; i++) {
				assert_clean(run.list[i].name, strlen(run.list[i].name));
				assert_clean(run.list[i].repo, strlen(run.list[i].repo));
				assert_clean(run.list[i].tag, strlen(run.list[i].tag));
			}
			(void)running_drift(&run, "127.0.0.1:5000/shop/app", "sha-1a2b3c4", "sha256:00");
		}
		running_free(&run);
	}
	{
		struct drive_record r;
		struct drive_request q;

		if (drive_record_parse((const char *)data, size, &r)) {
			char *again = drive_record_text(&r);

			assert_clean(r.by, strlen(r.by));
			assert_clean(r.why, strlen(r.why));
			if (r.stale_s < DRIVE_STALE_MIN_S || r.stale_s > DRIVE_STALE_MAX_S)
				abort();
			(void)drive_live(&r, 1790000000);
			free(again);
		}
		if (drive_request_parse((const char *)data, size, &q)) {
			assert_clean(q.by, strlen(q.by));
			assert_clean(q.why, strlen(q.why));
			assert_clean(q.id, strlen(q.id));
		}
	}
	env.scrollback = 100;
	ls = logstream_new_fed(&env, 2, LOG_APP);
	/* the same bytes from two hosts, cut at different places */
	logstream_feed(ls, 0, (const char *)data, half, false);
	logstream_feed(ls, 1, (const char *)data, size, true);
	logstream_feed(ls, 0, (const char *)data + half, size - half, false);
	for (size_t i = 0; i < ls->buf->len; i++) {
		const struct log_line *l = logbuf_get(ls->buf, i);

		assert_clean(l->text, l->len);
		if (l->len > LOG_LINE_MAX * 2 + 64)
			abort();
	}
	logstream_free(ls);
	return 0;
}
