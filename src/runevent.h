/* One line of a run's events file (.gantry/runs/ID/events), which the host runner
 * writes and gantry follows: "<epoch ms> <words>". The file is the host's, so a line is
 * taken only when it is exactly one of the runner's events, every number in range. */
#ifndef GANTRY_RUNEVENT_H
#define GANTRY_RUNEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner.h"

enum run_event_kind {
	RUNEVENT_RUN_START,             /* run start */
	RUNEVENT_STEP_START,            /* step|rollback N start */
	RUNEVENT_STEP_END,              /* step|rollback N end STATUS MS */
	RUNEVENT_CANCEL,                /* cancel accepted|refused */
	RUNEVENT_ROLLBACK_START,        /* rollback start */
	RUNEVENT_RUN_END,               /* run end RESULT */
};

struct run_event {
	enum run_event_kind kind;
	int64_t ms;                     /* when, Unix milliseconds */
	bool rollback;                  /* a rollback step, not a step */
	int step;                       /* 1-based step number */
	int status;                     /* the step's exit status, 0..255 */
	int64_t took_ms;                /* the step's duration */
	char word[24];                  /* cancel: accepted|refused; run end: the result */
	enum run_result result;         /* run end: the result, one of the runner's */
};

/* False for a line that is not one of the runner's events (it is ignored). */
bool runevent_parse(const char *line, size_t len, struct run_event *ev);

#endif
