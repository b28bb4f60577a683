/* Where an environment's rollout in waves stands, from what its units say: the rollout
 * its lease keeps, each unit's wave and how that unit's run of it went, who drives it,
 * and the tags the units run. For `gantry rollout status`, and anything else that shows a
 * fleet. Pure: no I/O. */
#ifndef GANTRY_ROLLOUTSTATUS_H
#define GANTRY_ROLLOUTSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drive.h"
#include "hoststate.h"
#include "lease.h"
#include "runresult.h"

/* How a unit stands in the rollout: X(NAME, word) */
#define ROLLOUT_STANDS(X) \
	X(NOT_READ, "not read")         /* its state did not come */ \
	X(WAITING, "waiting")           /* not reached yet */ \
	X(RUNNING, "running")           /* its run of the rollout (or of the way back) runs */ \
	X(TOOK, "took")                 /* its run succeeded: it runs the rollout's tag */ \
	X(FAILED, "failed")             /* its run failed (and went back on its own), or
	                                   ended without a word */ \
	X(BACK, "back")                 /* it took the tag, then went back (an abort) */

enum rollout_stand {
#define ROLLOUT_STAND_ENUM(name, word) STAND_##name,
	ROLLOUT_STANDS(ROLLOUT_STAND_ENUM)
#undef ROLLOUT_STAND_ENUM
	STANDS
};

#define ROLLOUT_TAGS_MAX 8

/* What one unit says, as its reader read it (pointers valid for the call). */
struct rollout_unit {
	bool read;                      /* its state came */
	const char *tag;                /* the tag its configuration names ("" none) */
	const char *alive;              /* the run alive on it now ("" none) */
	const char *current;            /* the last run started on it ("" none) */
	enum run_result result;         /* that run's end (RUN_RESULT_NONE: none yet) */
	const char *lease;              /* the run whose lease holds it ("" none) */
};

/* Unit j of arg, filled in *u. */
typedef void (*rollout_unit_fn)(const void *arg, size_t j, struct rollout_unit *u);

/* What the first unit keeps beside the lease (lock NULL when it was not read). */
struct rollout_first {
	const struct host_lock *lock;
	const struct drive_record *driver;
	const struct drive_request *request;
	int64_t host_now;
};

struct rollout_status {
	bool active;                    /* a rollout in waves holds the environment */
	char problem[400];              /* it cannot be read as one ("" none) */
	struct run_lease lease;
	char back_id[72];               /* its way back's run id */
	size_t wave;                    /* the last wave a unit was reached in (1-based) */
	size_t stands[STANDS];          /* units by how they stand */
	size_t wave_units[WAVES_MAX], wave_took[WAVES_MAX], wave_failed[WAVES_MAX];
	size_t wave_running[WAVES_MAX], wave_back[WAVES_MAX];
	struct drive_record driver;     /* as the first unit keeps it */
	bool driven;                    /* and its beat is fresh */
	int64_t heard_s;                /* seconds since that beat */
	struct drive_request request;   /* a request not answered yet */
	struct {
		char tag[136];
		size_t hosts;
	} tags[ROLLOUT_TAGS_MAX];       /* what the units run, most units first */
	size_t tags_len, tags_other, no_tag, not_read;
};

/* The status of n units (`unit` tells each); `stands`, when not NULL, gets each unit's
 * (n of them). */
void rollout_status_of(const struct rollout_first *first, rollout_unit_fn unit, const void *arg,
    size_t n, enum rollout_stand *stands, struct rollout_status *out);

const char *rollout_stand_name(enum rollout_stand s);
/* Where it stands in a word: "running", "paused", "aborting" (its driver's), or "left"
 * (no gantry drives it). */
const char *rollout_state_word(const struct rollout_status *s);

#endif
