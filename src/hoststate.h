/* What a unit says about its deploys, typed by its target: the lock, the freeze, the
 * current run, what it is configured to run (compose: deploy.env) and the history.
 * Untrusted input, checked by the target that read it. */
#ifndef GANTRY_HOSTSTATE_H
#define GANTRY_HOSTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deployenv.h"
#include "history.h"
#include "drive.h"
#include "lease.h"

#define HOSTSTATE_MAX_BYTES (1024 * 1024)       /* the reply is cut here (files come hex) */
#define HISTORY_TAIL_BYTES 262144                /* the newest part of the history read */
#define HISTORY_STALE_LOCK_S 600                /* a lock without a live runner, this old */

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

/* A run in a few words, from its own records: what, which tag, how it ended, when. */
struct run_summary {
	bool known;                     /* its start record was read */
	char action[16], tag[136];
	enum run_result result;         /* NONE: no end record (running, or cut off) */
	int failed_step;
	int64_t started, ended;         /* Unix seconds; 0 unknown */
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
	char host[200];
	/* a lease: the lock held for a run over several hosts, from before its first host to
	   after its last, with the run's plan (src/lease.h) */
	bool leased;
	struct run_lease lease;         /* its plan, when it read well */
	char lease_error[160];          /* why it did not ("" it did) */
	size_t holders;                 /* merged: the hosts whose lock names this run */
	bool leases_differ;             /* merged: hosts hold leases of other runs, or other plans */
};

struct host_state {
	struct host_lock lock;
	/* a rollout in waves under the lease: its driver and the request waiting for it, as
	   the first unit keeps them (src/drive.h); merged: the first unit's */
	struct drive_record driver;
	struct drive_request request;
	bool frozen;
	char freeze_by[128], freeze_reason[200];
	int64_t freeze_since;
	char current[72];               /* the last run started ("" none) */
	struct run_summary last;        /* that run, from its own records (the watch too) */
	bool has_deploy_env;            /* read and well-formed */
	struct deploy_env deploy_env;
	bool deploy_env_read;           /* its configuration could be read (well-formed or not) */
	char deploy_env_error[300];     /* why there is none, or why what was read is not used */
	size_t deploy_env_len;
	int64_t deploy_env_mtime;       /* Unix seconds */
	struct history history;
	int64_t host_now;               /* the host's clock, Unix seconds */
	size_t hosts;                   /* merged: how many hosts' states */
	size_t current_host;            /* merged: the host `current` was read from */
	char first_unit[200];           /* merged: the first unit's name */
	char deploy_env_differs[200];   /* merged: the first unit whose configuration names
	                                   another app image than the first's ("" all agree) */
	char differs_image[DEPLOYENV_IMAGE_MAX];        /* the app image it names ("" none) */
};

/* A lock's owner record and a freeze's record: key=value lines (owner, message, run,
 * since; by, reason, since), the same on every target. Untrusted. */
void hoststate_read_owner(const char *text, size_t len, struct host_lock *lock);
void hoststate_read_freeze(const char *text, size_t len, struct host_state *st);
/* A number read from a unit: 0 when it is not one, bounded. */
int64_t hoststate_number(const char *s);
void hoststate_free(struct host_state *st);
/* Folds one host's state (host number `index`, named `name`) into an environment's,
 * taking what `one` holds and leaving it empty. Start with `all` zeroed and fold the hosts
 * in order. deploy.env, the current run and the clock come from the first host, or from
 * the host whose run is alive; a lock or a freeze on any host holds for the environment
 * (a live lock before a stale one); the histories are merged by run id, oldest first,
 * and a run's result is the worst its hosts recorded (no end record counts as worst). */
void hoststate_merge(struct host_state *all, struct host_state *one, size_t index, const char *name);

/* True when the lock is held by no live run: its runner is gone, or it is old and names none.
 * A lease is never stale: between its hosts' runs no runner holds it (the run is unfinished
 * until a gantry carries it on or it is unlocked). */
bool hoststate_lock_stale(const struct host_state *st);

#endif
