/* Fuzz target: a run's follow stream as the host serves it, line by line. An events line
 * is one of the runner's events with every field in range, or it is ignored; an output
 * line is the runner's own only when it carries the run's mark, and comes out clean. */
#include "config.h"

#include "hoststate.h"
#include "compose/events.h"
#include "sanitize.h"

#define MARK_NOTE RUNNER_MARK_NOTE_OPEN "0123456789abcdef "

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
	/* as the output's lines: a mark line, or a line told apart by a known mark */
	pos = 0;
	while (pos <= size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t len = (nl ? (size_t)(nl - text) : size) - pos;
		char note[RUNEVENT_NOTE_MAX];
		bool end;
		char *out, *clean;

		if (runevent_mark(text + pos, len, note) &&
		    (strncmp(note, RUNNER_MARK_NOTE_OPEN, 3) != 0 || note[strlen(note) - 1] != ' '))
			abort();
		out = runevent_output_line(MARK_NOTE, "r1", text + pos, len, 4096, &end);
		if (!sanitize_is_clean(out) || strlen(out) > 4096 + strlen(RUNNER_MARK_NOTE))
			abort();
		/* the runner's own only when it carried the mark */
		clean = sanitize_dup(text + pos, len, 4096, 0);
		if (strncmp(out, RUNNER_MARK_NOTE_OPEN, 3) == 0 &&
		    strncmp(clean, MARK_NOTE, strlen(MARK_NOTE)) != 0)
			abort();
		free(clean);
		if (end && strstr(out, "run r1 ended: ") != out + strlen(RUNNER_MARK_NOTE))
			abort();
		free(out);
		pos += len + 1;
	}
	return 0;
}
