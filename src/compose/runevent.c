/* A run's event lines, checked word by word. */
#include "config.h"

#include "events.h"
#include "hoststate.h"
#include "runner.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 6

/* Splits on single spaces; false when there are too many words or an empty one. */
static size_t split(const char *line, size_t len, const char *w[MAX_WORDS], size_t wl[MAX_WORDS])
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start || n == MAX_WORDS)
			return 0;
		w[n] = line + start;
		wl[n++] = i - start;
		start = i + 1;
	}
	return n;
}

static bool is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* A decimal number in [lo, hi], digits only. */
static bool number(const char *w, size_t wl, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v = 0;

	if (wl == 0 || wl > 18)
		return false;
	for (size_t i = 0; i < wl; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		v = v * 10 + (w[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool one_of(const char *w, size_t wl, const char *const *words, char *out, size_t outsz)
{
	for (; *words; words++)
		if (is(w, wl, *words) && strlen(*words) < outsz) {
			strcpy(out, *words);
			return true;
		}
	return false;
}

bool runevent_mark(const char *line, size_t len, char *note)
{
	size_t n = strlen(RUNNER_MARK_LINE), i;

	if (len < n || memcmp(line, RUNNER_MARK_LINE, n) != 0)
		return false;
	for (i = n; i < len && i - n < 32 && line[i] && strchr("0123456789abcdef", line[i]); i++)
		;
	if (i != len)
		return false;
	snprintf(note, RUNEVENT_NOTE_MAX, RUNNER_MARK_NOTE_OPEN "%.*s ", (int)(len - n), line + n);
	return true;
}

static bool starts(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

char *runevent_output_line(const char *note, const char *id, const char *line, size_t len,
    size_t max, bool *end)
{
	char *clean = sanitize_dup(line, len, max, 0), *out, marker[160];

	*end = false;
	if (starts(clean, note)) {
		snprintf(marker, sizeof marker, "%srun %s" RUNNER_MARK_RUN_ENDED, note, id);
		*end = strlen(clean) > strlen(marker) && starts(clean, marker);
		out = xasprintf(RUNNER_MARK_NOTE "%s", clean + strlen(note));
	} else {
		/* a step's line that would read as the runner's once sanitized: indented */
		out = xasprintf("%s%s", starts(clean, RUNNER_MARK_NOTE_OPEN) ? " " : "", clean);
	}
	free(clean);
	return out;
}

bool runevent_parse(const char *line, size_t len, struct run_event *ev)
{
	static const char *const cancels[] = { RUNNER_EV_ACCEPTED, RUNNER_EV_REFUSED, NULL };
	const char *w[MAX_WORDS];
	size_t wl[MAX_WORDS], n;
	int64_t v;

	memset(ev, 0, sizeof *ev);
	if (len && line[len - 1] == '\r')
		len--;
	n = split(line, len, w, wl);
	if (n < 3 || !number(w[0], wl[0], 0, HOSTSTATE_MAX_NUMBER, &ev->ms))
		return false;
	if (n == 3 && is(w[1], wl[1], RUNNER_EV_RUN) && is(w[2], wl[2], RUNNER_EV_START)) {
		ev->kind = RUNEVENT_RUN_START;
		return true;
	}
	if (n == 3 && is(w[1], wl[1], RUNNER_EV_ROLLBACK) && is(w[2], wl[2], RUNNER_EV_START)) {
		ev->kind = RUNEVENT_ROLLBACK_START;
		return true;
	}
	if (n == 3 && is(w[1], wl[1], RUNNER_EV_CANCEL)) {
		ev->kind = RUNEVENT_CANCEL;
		return one_of(w[2], wl[2], cancels, ev->word, sizeof ev->word);
	}
	if (n == 4 && is(w[1], wl[1], RUNNER_EV_RUN) && is(w[2], wl[2], RUNNER_EV_END)) {
		ev->kind = RUNEVENT_RUN_END;
		/* one of the runner's results (src/compose/runner.h) */
		if (wl[3] >= sizeof ev->word || memchr(w[3], '\0', wl[3]))
			return false;
		memcpy(ev->word, w[3], wl[3]);
		ev->word[wl[3]] = '\0';
		ev->result = run_result_parse(ev->word);
		return run_result_by_runner(ev->result);
	}
	if ((is(w[1], wl[1], RUNNER_EV_STEP) || is(w[1], wl[1], RUNNER_EV_ROLLBACK)) &&
	    number(w[2], wl[2], 1, HISTORY_MAX_STEPS, &v)) {
		ev->rollback = is(w[1], wl[1], RUNNER_EV_ROLLBACK);
		ev->step = (int)v;
		if (n == 4 && is(w[3], wl[3], RUNNER_EV_START)) {
			ev->kind = RUNEVENT_STEP_START;
			return true;
		}
		if (n == 6 && is(w[3], wl[3], RUNNER_EV_END) && number(w[4], wl[4], 0, 255, &v) &&
		    number(w[5], wl[5], 0, HOSTSTATE_MAX_NUMBER, &ev->took_ms)) {
			ev->kind = RUNEVENT_STEP_END;
			ev->status = (int)v;
			return true;
		}
	}
	return false;
}
