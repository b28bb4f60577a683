/* What a run on a unit tells as it goes, typed: it started, a step (or a rollback step)
 * started or ended, a cancel was answered, its rollback started, it ended. A target reads
 * them from its own record of the run (compose over SSH: src/compose/events.h). */
#ifndef GANTRY_RUNEVENT_H
#define GANTRY_RUNEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runresult.h"

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

/* A run's output, as every target passes it on: the target's own lines start with
 * UNIT_NOTE ("==> "): a step's header ("==> [step 2/6] NAME"), a step's end ("==> exit
 * RC after MS ms"), the run's end ("==> run ID ended: RESULT"); every other line is the
 * steps' own, passed on so that it never starts so. */
#define UNIT_NOTE "==> "
#define UNIT_NOTE_STEP_EXIT UNIT_NOTE "exit "
#define UNIT_NOTE_RUN UNIT_NOTE "run "
#define UNIT_NOTE_RUN_ENDED " ended: "

#endif
