/* Fuzz target: a run's events file as the host serves it, line by line. A line is one of
 * the runner's events with every field in range, or it is ignored. */
#include "config.h"

#include "hoststate.h"
#include "runevent.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = { "accepted", "refused", "succeeded", "failed", "cancelled",
	"rolled_back", "rollback_failed", NULL };

static void check(const struct run_event *ev)
{
	bool known = false;

	if (ev->ms < 0 || ev->ms > HOSTSTATE_MAX_NUMBER)
		abort();
	switch (ev->kind) {
	case RUNEVENT_STEP_START:
	case RUNEVENT_STEP_END:
		if (ev->step < 1 || ev->step > HISTORY_MAX_STEPS || ev->status < 0 || ev->status > 255 ||
		    ev->took_ms < 0 || ev->took_ms > HOSTSTATE_MAX_NUMBER)
			abort();
		break;
	case RUNEVENT_CANCEL:
	case RUNEVENT_RUN_END:
		for (size_t i = 0; words[i]; i++)
			known |= strcmp(ev->word, words[i]) == 0;
		if (!known)
			abort();
		break;
	case RUNEVENT_RUN_START:
	case RUNEVENT_ROLLBACK_START:
		if (ev->word[0])
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t pos = 0;
	struct run_event ev;

	while (pos <= size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t len = (nl ? (size_t)(nl - text) : size) - pos;

		if (runevent_parse(text + pos, len, &ev))
			check(&ev);
		pos += len + 1;
	}
	/* the whole input as one line */
	if (runevent_parse(text, size, &ev))
		check(&ev);
	return 0;
}
