/* What a host says about its deploys: the lock, the freeze, the current run, deploy.env
 * and the history (.gantry/history.jsonl), read in one command. Untrusted input. */
#ifndef GANTRY_HOSTSTATE_H
#define GANTRY_HOSTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deployenv.h"

#define HOSTSTATE_MAX_BYTES (1024 * 1024)       /* the reply is cut here (files come hex) */
#define HISTORY_TAIL_BYTES 262144                /* the newest part of the history read */
#define HISTORY_MAX_STEPS 64
#define HISTORY_STALE_LOCK_S 600                /* a lock without a live runner, this old */
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
	char result[24];                /* succeeded, failed, cancelled, rolled_back, rollback_failed,
	                                   adopted (an adoption's baseline); "" without an end
	                                   record: running or interrupted */
	int failed_step;
	bool migrated;                  /* a migration step succeeded */
	bool switch_known, switched;    /* the run reached its switch step (unknown in end
	                                   records written before the runner said) */
	bool restored;                  /* stopped before its switch, deploy.env was put back */
	bool corrupt;                   /* its id, tag or a digest is not what gantry writes: shown
	                                   as corrupt, never followed, never a rollback target */
	char message[200];              /* a note's reason, an adoption's check */
	size_t planned;                 /* steps in the start record, with their names */
	char (*step_names)[80];
	size_t rollback_planned;        /* automatic rollback steps planned */
	char (*rollback_names)[80];
	struct history_step *steps;     /* from the end record */
	size_t steps_len;
	/* an environment's history merged from its hosts (hoststate_merge) */
	unsigned hosts;                 /* hosts that recorded the run */
	size_t host_index;              /* the host whose record gave the result: the worst */
	char host[64];                  /* its name */
};

struct history {
	struct history_run *runs;       /* oldest first */
	size_t len;
	size_t bad_lines;               /* lines that were not records */
	bool cut;                       /* the oldest part was not read */
};

/* Reads JSON lines; never fails (bad lines are counted). */
void history_parse(const char *buf, size_t len, struct history *out);
void history_free(struct history *h);
/* True when a run (not a note) was ever recorded. */
bool history_has_runs(const struct history *h);
/* The run with this id, or NULL. */
const struct history_run *history_find(const struct history *h, const char *id);
/* True when a run ended with the app on its tag and ready, or adopted it so. */
bool history_run_healthy(const struct history_run *run);
/* "succeeded", ..., "corrupt", or "running"/"interrupted" for a run without an end
 * (running when it is the run holding the lock). */
const char *history_run_result(const struct history_run *run, const char *running_id);

/* Where the run holding a lock is, from its start record and the tail of its events. */
struct run_progress {
	bool known;                     /* its start record was read */
	int steps;                      /* the steps planned (the rollback's while it rolls back) */
	int step;                       /* the step started last, 1-based; 0 before the first */
	bool rollback;                  /* its automatic rollback runs */
	bool step_ended;                /* that step ended and the next has not started */
	char step_name[80];
	int64_t step_ms;                /* when that step started, Unix ms by the host's clock */
};

struct host_lock {
	bool held;
	char owner[128];
	char message[200];
	char run[72];
	int64_t since;                  /* Unix seconds; 0 when unknown */
	bool runner_alive;              /* the runner's pid answers kill -0 */
	bool runner_known;              /* the lock names a pid */
	struct run_progress progress;   /* a live run's: where it is */
	size_t host_index;              /* merged: the host holding it */
	char host[64];
};

struct host_state {
	struct host_lock lock;
	bool frozen;
	char freeze_by[128], freeze_reason[200];
	int64_t freeze_since;
	char current[72];               /* the last run started ("" none) */
	bool has_deploy_env;            /* read and well-formed */
	struct deploy_env deploy_env;
	char deploy_env_status[16];     /* "0" read, "missing", "not-a-file", or head's exit */
	char deploy_env_error[200];     /* why a deploy.env that was read is not used */
	size_t deploy_env_len;
	int64_t deploy_env_mtime;       /* Unix seconds */
	struct history history;
	int64_t host_now;               /* the host's clock, Unix seconds */
	size_t hosts;                   /* merged: how many hosts' states */
	size_t current_host;            /* merged: the host `current` was read from */
	char deploy_env_differs[64];    /* merged: the first host whose deploy.env names another
	                                   app image than the first host's ("" all agree) */
	char differs_image[DEPLOYENV_IMAGE_MAX];        /* the app image it names ("" none) */
};

/* The owner record of a lock (key=value lines, as the runner writes them). */
void hoststate_read_owner(const char *text, size_t len, struct host_lock *lock);
/* Reads the output of the runner's state or watch subcommand; false with `why` when it is
 * not that command's output. */
bool hoststate_parse(const char *buf, size_t len, struct host_state *out, char *why, size_t whysz);
void hoststate_free(struct host_state *st);
/* Folds one host's state (host number `index`, named `name`) into an environment's,
 * taking what `one` holds and leaving it empty. Start with `all` zeroed and fold the hosts
 * in order. deploy.env, the current run and the clock come from the first host, or from
 * the host whose run is alive; a lock or a freeze on any host holds for the environment
 * (a live lock before a stale one); the histories are merged by run id, oldest first,
 * and a run's result is the worst its hosts recorded (no end record counts as worst). */
void hoststate_merge(struct host_state *all, struct host_state *one, size_t index, const char *name);

/* True when the lock is held by no live run: its runner is gone, or it is old and names none. */
bool hoststate_lock_stale(const struct host_state *st);

#endif
