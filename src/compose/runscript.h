/* run.sh: the script gantry writes to a host for one run (a promote, a rollback, a
 * deploy): the run's facts and steps, then the runner (src/compose/runner.sh), which locks,
 * records and runs the steps detached from the SSH session. */
#ifndef GANTRY_RUNSCRIPT_H
#define GANTRY_RUNSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "release.h"

struct run_spec {
	const char *id;                 /* [A-Za-z0-9._-], unique per run */
	const char *action;             /* promote, rollback, deploy */
	const char *env;
	const char *source_env;         /* promote: where the tag comes from; else NULL */
	const char *tag;
	const char *app_digest, *migrator_digest;
	const char *operator;
	const char *message;            /* why, recorded in the start record; or NULL */
	const char *lock_message;       /* "promote sha-... from staging" */
	int64_t started;                /* Unix seconds */
	const struct release_step *steps;
	size_t steps_len;
	/* run when a step from the switch on fails (an automatic rollback); may be empty */
	const char *rollback_tag;
	const struct release_step *rollback;
	size_t rollback_len;
	/* an environment with no run recorded: the baseline record of what it ran before
	 * (history_adopt_record), written under the lock before the start record; or NULL */
	const char *adopt_record;
	/* a run over several units: the id of the environment's lease it runs under (the lock
	 * taken for it on every unit before the first step, src/lease.h); or NULL */
	const char *lease;
	size_t units;                   /* the units the run is meant for (0: one) */
};


/* The whole run.sh for a run, newly allocated. */
char *runscript_build(const struct run_spec *spec);

/* One command that writes run.sh under .gantry/runs/ID in the current directory and
 * starts it; it prints STARTED, LOCKED or FROZEN (see src/compose/runner.sh). */
char *runscript_start_command(const struct run_spec *spec);

/* The start record of the history, one JSON line, newly allocated. */
char *runscript_start_record(const struct run_spec *spec);


#endif
