/* How a run on a target ends, and what a unit's command may answer, whatever the kind of
 * target: the words, ranks and statuses every target and every screen share. */
#ifndef GANTRY_RUNRESULT_H
#define GANTRY_RUNRESULT_H

#include <stdbool.h>

/* A unit command's exit statuses beyond 0 (done) and 1 (failed, with why on its output):
 * X(NAME, status, meaning). A target's own program answers with these (compose over SSH:
 * src/compose/runner.sh). */
#define UNIT_EXITS(X) \
	X(NOT_NEEDED, 3, "nothing to do: not frozen, not locked, or a run was recorded meanwhile") \
	X(ALIVE, 4, "unlock refused: the run holding the lock is alive") \
	X(UNSAFE, 70, "gantry's files on the host are unsafe to write (a symlink, another owner, " \
	    "writable by others) or cannot be made") \
	X(LOCKED, 75, "another run holds the lock") \
	X(FROZEN, 76, "the environment is frozen") \
	X(NO_RUNNER, 79, "this version of the runner is not on the host") \
	X(TIMEOUT, 124, "a step ran past its timeout (timeout(1)'s status)")

enum unit_exit {
#define UNIT_EXIT_ENUM(name, status, meaning) UNIT_EXIT_##name = status,
	UNIT_EXITS(UNIT_EXIT_ENUM)
#undef UNIT_EXIT_ENUM
};

/* How a run ended: X(NAME, word, rank, runner). A target's run writes the words marked
 * runner in its end record and last event; the history adds its own: an adoption's
 * baseline, and an end record whose result gantry does not know. rank orders them best to
 * worst: a run recorded by several units takes its units' worst (a run with no end
 * record, worse still). */
#define RUN_RESULTS(X) \
	X(ADOPTED, "adopted", 1, 0) \
	X(SUCCEEDED, "succeeded", 2, 1) \
	X(CANCELLED, "cancelled", 3, 1) \
	X(ROLLED_BACK, "rolled_back", 4, 1) \
	X(PARTIAL, "partial", 5, 0)     /* it did not reach every host it was meant for */ \
	X(FAILED, "failed", 6, 1) \
	X(ROLLBACK_FAILED, "rollback_failed", 7, 1) \
	X(UNKNOWN, "unknown", 8, 0)

enum run_result {
	RUN_RESULT_NONE,                /* no end recorded (running, interrupted) */
#define RUN_RESULT_ENUM(name, word, rank, runner) RUN_##name,
	RUN_RESULTS(RUN_RESULT_ENUM)
#undef RUN_RESULT_ENUM
};

/* The word for a result ("" for none). */
const char *run_result_name(enum run_result r);
/* The result a word names: NONE for "", UNKNOWN for a word not in the table. */
enum run_result run_result_parse(const char *word);
/* True for the results a target's run itself writes. */
bool run_result_by_runner(enum run_result r);
/* Best 1 to worst; NONE (no end record) ranks after every result. */
int run_result_rank(enum run_result r);
/* The app ended on the run's tag and ready: succeeded, or adopted so. */
bool run_result_healthy(enum run_result r);

#endif
