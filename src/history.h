/* The history of an environment's deploys (.gantry/history.jsonl on each host): runs
 * with their start and end records, adoptions and notes. Untrusted input, read by
 * history_parse; a run's result is one of src/runresult.h's RUN_RESULTS. */
#ifndef GANTRY_HISTORY_H
#define GANTRY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "release.h"
#include "runresult.h"

#define HISTORY_MAX_STEPS 64
#define HOSTSTATE_MAX_NUMBER 100000000000000LL  /* numbers read from a host: at most this
                                                   (ms past the year 5000); larger read 0 */

struct history_step {
	char phase[12];                 /* "step" or "rollback" */
	char name[80];
	int exit;
	int64_t ms;
};

/* One run, from its start record and (when it came) its end record; or a note. */
struct history_run {
	char id[72];
	char action[16];                /* promote, rollback, deploy, adopt; or a note: freeze,
	                                   unfreeze, unlock */
	bool note;
	char env[64];
	char source[64];
	char tag[136];
	char app_digest[80], migrator_digest[80];
	char operator[128];
	char rollback_tag[136];
	int64_t started, ended;         /* Unix seconds; ended 0 without an end record */
	enum run_result result;         /* NONE without an end record: running or interrupted */
	int failed_step;
	bool migrated;                  /* a migration step succeeded */
	bool switch_known, switched;    /* the run reached its switch step (unknown in end
	                                   records written before the runner said) */
	bool restored;                  /* stopped before its switch, deploy.env was put back */
	bool corrupt;                   /* its id, tag or a digest is not what gantry writes: shown
	                                   as corrupt, never followed, never a rollback target */
	char message[200];              /* a note's reason, an adoption's check */
	unsigned units;                 /* the hosts the run was meant for (its start record;
	                                   0 when it does not say) */
	size_t planned;                 /* steps in the start record, with their names */
	char (*step_names)[80];
	size_t rollback_planned;        /* automatic rollback steps planned */
	char (*rollback_names)[80];
	struct history_step *steps;     /* from the end record */
	size_t steps_len;
	/* an environment's history merged from its hosts (hoststate_merge) */
	unsigned hosts;                 /* hosts that recorded the run */
	bool conflict;                  /* its records disagree: two hosts name other tags or
	                                   digests for it, or one host records it twice */
	size_t merged_from;             /* the last host merged into it, plus one */
	size_t host_index;              /* the host whose record gave the result: the worst */
	char host[64];                  /* its name */
	unsigned char *on;              /* what each host recorded, by index (history_run_on) */
	size_t on_len;
};

struct history {
	struct history_run *runs;       /* oldest first */
	size_t len;
	size_t bad_lines;               /* lines that were not records */
	bool cut;                       /* the oldest part was not read */
	unsigned hosts;                 /* merged from this many hosts (0: one host's own) */
};

/* Reads JSON lines; never fails (bad lines are counted). */
void history_parse(const char *buf, size_t len, struct history *out);
void history_free(struct history *h);
/* True when a run (not a note) was ever recorded. */
bool history_has_runs(const struct history *h);
/* The run with this id, or NULL. */
const struct history_run *history_find(const struct history *h, const char *id);
/* True when a run ended with the app on its tag and ready, or adopted it so, by one
 * record's word. */
bool history_run_healthy(const struct history_run *run);
/* True when the run is proven on the environment whose merged history h is: healthy
 * on every host (h->hosts of them), its records in agreement, no other record giving its
 * tag other digests, and, for an adoption, recorded before any run. Otherwise `why`
 * (when not NULL) says what is missing. */
bool history_run_proven(const struct history *h, const struct history_run *run, char *why,
    size_t whysz);
/* How a run stands, in one word: its result ("succeeded", ...), "corrupt", a note's kind,
 * or "running"/"interrupted" for a run without an end (running when it is the run
 * holding the lock). */
const char *history_run_result(const struct history_run *run, const char *running_id);
/* What host j recorded of the run, in a history merged from its hosts: false when it
 * recorded nothing; else *result is how it ended there (NONE: no end record yet). */
bool history_run_on(const struct history_run *run, size_t j, enum run_result *result);
/* Marks the run as host j's own record (before merging). */
void history_run_mark_on(struct history_run *run, size_t j);
/* The same run as recorded by another host (`other`, freed after): the worse result
 * wins, with its steps. */
void history_merge_run(struct history_run *into, struct history_run *other);

/* An adoption's record, as every target writes it in its history: one JSON line, event
 * "adopt", newly allocated. */
char *history_adopt_record(const struct adopt_spec *a);

#endif
