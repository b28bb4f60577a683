/* The follow stream of a run on a compose host: one line of its events file
 * (.gantry/runs/ID/events), which the runner writes and gantry follows: "<epoch ms>
 * <words>" (the file is the host's, so a line is taken only when it is exactly one of the
 * runner's events, every number in range); and the lines of its output, the runner's own
 * told from the steps'. */
#ifndef GANTRY_COMPOSE_EVENTS_H
#define GANTRY_COMPOSE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "runevent.h"
#include "runner.h"

/* False for a line that is not one of the runner's events (it is ignored). */
bool runevent_parse(const char *line, size_t len, struct run_event *ev);

/* The run's output, as its follow command prints it, shares a file with the steps'
 * output; the runner's own lines start with the run's mark. */
#define RUNEVENT_NOTE_MAX 48
/* The follow's first line: the mark, as the prefix of the run's own lines ("==>MARK ")
 * into note (RUNEVENT_NOTE_MAX bytes); false when the line is not one (a run from before
 * marks: its lines start "==> "). */
bool runevent_mark(const char *line, size_t len, char *note);
/* One line of output, sanitized, newly allocated (at most max bytes and a prefix): the
 * runner's own line (it starts with `note`) passed on as RUNNER_MARK_NOTE and the rest,
 * *end set when it is run `id`'s end marker; a step's line passed on so that it never
 * starts with RUNNER_MARK_NOTE_OPEN, whatever escapes it holds. */
char *runevent_output_line(const char *note, const char *id, const char *line, size_t len,
    size_t max, bool *end);

#endif
