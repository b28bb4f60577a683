/* A deploy target: where an environment's app runs and how gantry acts there. Each
 * environment has one (gantry.yml's `target`, default compose-ssh), made of units (for
 * compose over SSH, its hosts), each with its own run, state and log.
 *
 * Everything gantry does to an environment goes through its target's ops: reading the
 * state of every unit (the state store: lock, freeze, what runs, the history), starting
 * and following a run on a unit, the store's writes (freeze, unfreeze, unlock, an
 * adoption's record), asking whether a unit holds an image. The deploy engine, the
 * command line and the console know only this interface; a second kind of target is a
 * folder under src/ with its `struct target_ops`, and one line in src/targets.c. */
#ifndef GANTRY_TARGET_H
#define GANTRY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "bus.h"
#include "conf.h"
#include "drive.h"
#include "hoststate.h"
#include "lease.h"
#include "link.h"
#include "logstream.h"
#include "loop.h"
#include "release.h"
#include "running.h"
#include "unitcmd.h"
#include "unitrun.h"

struct target;

/* A unit's state as its target read it: `st` (the callee may take what it holds, leaving
 * it zeroed; the target frees the rest), or NULL and `why` says what went wrong. */
typedef void (*unit_state_fn)(void *arg, struct host_state *st, const char *why);
/* What each service of a unit runs: `r` (the callee may take its list, leaving it empty),
 * or NULL and `why` says why it is not known. */
typedef void (*unit_running_fn)(void *arg, struct running *r, const char *why);

/* What became of one row of gantry check on a unit. */
enum unit_check { UNIT_CHECK_OK, UNIT_CHECK_FAILED, UNIT_CHECK_SKIPPED };
/* Row `row` (an index into the target's check_rows) ended as `state`; detail says how. */
typedef void (*unit_check_fn)(void *arg, size_t row, enum unit_check state, const char *detail);
struct unitcheck;

struct target_ops {
	/* The units: how many, and what each is called (a host's address). */
	size_t (*units)(const struct target *t);
	const char *(*unit_name)(const struct target *t, size_t j);
	/* The state store, read on unit j: its lock, freeze, current run and its progress,
	   what it is configured to run, its history, typed (src/hoststate.h); `done` is called
	   once, unless the returned command is stopped first. A read for a decision (`watch`
	   false) tries a unit that is down again at once; the watch's reads (`watch` true)
	   follow its backoff and leave out the history. src/hostread.c reads them all. */
	struct unit_cmd *(*state)(const struct target *t, size_t j, bool watch, unit_state_fn done,
	    void *arg);
	/* The plan of a release on unit j: the steps the target will run for `req`, as
	   screens show them (src/release.h); freed with plan_free. */
	struct release_plan *(*plan)(const struct target *t, size_t j,
	    const struct release_request *req);
	void (*plan_free)(struct release_plan *plan);
	/* A run on unit j: started from its plan (which the target keeps nothing of once
	   start returns: the engine frees it when it plans the next unit), or followed by
	   its id. */
	struct unit_run *(*start)(const struct target *t, size_t j, const struct release_plan *plan,
	    const struct unit_run_ops *ops, void *arg);
	struct unit_run *(*follow)(const struct target *t, size_t j, const char *id,
	    const struct unit_run_ops *ops, void *arg);
	/* The state store, written on unit j: a freeze, an unfreeze, a broken lock (each with
	   its note in the history, dated `at`: the same on every unit, one note), and an
	   adoption's baseline record. The command's exit statuses are src/runresult.h's
	   UNIT_EXITS. */
	struct unit_cmd *(*admin)(const struct target *t, size_t j, enum unit_admin kind,
	    const char *operator, const char *message, int64_t at, const struct unit_cmd_ops *ops,
	    void *arg);
	struct unit_cmd *(*adopt)(const struct target *t, size_t j, const struct adopt_spec *a,
	    const struct unit_cmd_ops *ops, void *arg);
	/* A run over several units: the environment's lease on unit j, taken before the first
	   step (the run's plan kept in it; exit statuses as a start's: locked, frozen) or let
	   go after the last (src/lease.h). Taking a lease the run holds already succeeds. */
	struct unit_cmd *(*lease)(const struct target *t, size_t j, const struct lease_take *take,
	    const struct unit_cmd_ops *ops, void *arg);
	struct unit_cmd *(*release)(const struct target *t, size_t j, const char *id,
	    const struct unit_cmd_ops *ops, void *arg);
	/* A rollout in waves: its driver's record beside run `run`'s lease on unit j
	   (src/drive.h), claimed or renewed for rec->token by the unit's clock (state LEFT
	   lets go), the request `ack` answered ("" none) cleared; `done` once, unless the
	   command is stopped first. `ask` leaves a request there for the driver (exit
	   statuses: NOT_NEEDED when no lease of `run` holds the unit). */
	struct unit_cmd *(*drive)(const struct target *t, size_t j, const char *run,
	    const struct drive_record *rec, const char *ack, unit_drive_fn done, void *arg);
	struct unit_cmd *(*ask)(const struct target *t, size_t j, const char *run,
	    const struct drive_request *req, const struct unit_cmd_ops *ops, void *arg);
	/* The log `source` of unit j, its last `tail` lines then, when following, what comes;
	   it runs until stopped (src/logstream merges the units' logs). */
	struct unit_cmd *(*log)(const struct target *t, size_t j, enum log_source source,
	    bool follow, long long tail, const struct unit_cmd_ops *ops, void *arg);
	/* Exits 0 when unit j holds `image` (a rollback with the registry down). */
	struct unit_cmd *(*has_image)(const struct target *t, size_t j, const char *image,
	    const struct unit_cmd_ops *ops, void *arg);
	/* What the unit's own app answers at `path`, asked from unit j itself (NULL when the
	   unit has no address of its own), `max` bytes at most. */
	struct unit_cmd *(*get)(const struct target *t, size_t j, const char *path, size_t max,
	    const struct unit_cmd_ops *ops, void *arg);
	/* What each service of unit j runs, typed (src/running.h); `done` is called once,
	   unless the returned command is stopped first. NULL when the environment lists none
	   (compose: deploy.running: null). */
	struct unit_cmd *(*running)(const struct target *t, size_t j, unit_running_fn done,
	    void *arg);
	/* Unit j's link now: its state, its last problem, when it is tried next. Changes are
	   told on the bus (BUS_LINK_CHANGED). */
	void (*link)(const struct target *t, size_t j, int64_t now, struct link_status *out);
	/* Unit j's link, tried again now if it is down. */
	void (*relink)(const struct target *t, size_t j);
	/* gantry check on unit j: each of check_rows (in order) reported once; rows from
	   check_named_from on do not name the unit in their detail. */
	const char *const *check_rows;
	size_t check_rows_len, check_named_from;
	struct unitcheck *(*check)(const struct target *t, size_t j, unit_check_fn report, void *arg);
	void (*check_free)(struct unitcheck *uc);
};

/* The words a target uses for itself, for what screens and messages say. */
struct target_words {
	const char *config;             /* what says what a unit runs ("deploy.env") */
	const char *unit;               /* one unit ("host") */
	const char *units;              /* several ("hosts") */
};

struct target {
	const struct target_ops *ops;
	const struct target_words *words;
	const struct conf *conf;
	const struct conf_env *env;
	struct loop *loop;
	struct bus *bus;                /* a unit's link changes are told here */
	void *priv;                     /* the kind's own (src/targets.c makes and ends it) */
};

/* The target of env, as gantry.yml's `target` names it (src/targets.c's table). */
void target_init(struct target *t, const struct conf *conf, const struct conf_env *env,
    struct loop *loop, struct bus *bus);
/* Ends what target_init made (its sessions). */
void target_fini(struct target *t);
/* The words of env's target ("deploy.env" for compose over SSH). */
const struct target_words *target_words_of(const struct conf_env *env);

#endif
