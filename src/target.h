/* A deploy target: where an environment's app runs and how gantry acts there. Each
 * environment has one (gantry.yml's `target`, default compose-ssh), made of units (for
 * compose over SSH, its hosts), each with its own run, state and log.
 *
 * Everything gantry does to an environment goes through its target's ops: reading the
 * state of every unit (the state store: lock, freeze, what runs, the history), starting
 * and following a run on a unit, the store's writes (freeze, unfreeze, unlock, an
 * adoption's record), asking whether a unit holds an image. The deploy engine, the
 * command line and the console know only this interface; a second kind of target is a
 * second `struct target_ops`. */
#ifndef GANTRY_TARGET_H
#define GANTRY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "hostadmin.h"
#include "hostcheck.h"
#include "hoststate.h"
#include "lease.h"
#include "link.h"
#include "unitrun.h"
#include "logstream.h"
#include "loop.h"
#include "unitcmd.h"

struct remote_host;
#include "runscript.h"

struct target;

/* A unit's state as its target read it: `st` (the callee may take what it holds, leaving
 * it zeroed; the target frees the rest), or NULL and `why` says what went wrong. */
typedef void (*unit_state_fn)(void *arg, struct host_state *st, const char *why);

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
	/* A run on unit j: started from its spec, or followed by its id. */
	struct unit_run *(*start)(const struct target *t, size_t j, const struct run_spec *spec,
	    const struct unit_run_ops *ops, void *arg);
	struct unit_run *(*follow)(const struct target *t, size_t j, const char *id,
	    const struct unit_run_ops *ops, void *arg);
	/* The state store, written on unit j: a freeze, an unfreeze, a broken lock (each with
	   its note in the history, dated `at`: the same on every unit, one note), and an
	   adoption's baseline record. The command's exit statuses are the runner's
	   (src/runner.h). */
	struct unit_cmd *(*admin)(const struct target *t, size_t j, enum hostadmin kind,
	    const char *operator, const char *message, int64_t at, const struct unit_cmd_ops *ops,
	    void *arg);
	struct unit_cmd *(*adopt)(const struct target *t, size_t j, const char *record,
	    const struct unit_cmd_ops *ops, void *arg);
	/* A run over several units: the environment's lease on unit j, taken before the first
	   step (the run's plan kept in it; exit statuses as a start's: locked, frozen) or let
	   go after the last (src/lease.h). Taking a lease the run holds already succeeds. */
	struct unit_cmd *(*lease)(const struct target *t, size_t j, const struct lease_take *take,
	    const struct unit_cmd_ops *ops, void *arg);
	struct unit_cmd *(*release)(const struct target *t, size_t j, const char *id,
	    const struct unit_cmd_ops *ops, void *arg);
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
	/* What each service of unit j runs, as "SERVICE IMAGE" lines (src/running.h); NULL
	   when the environment lists none (deploy.running: null). */
	struct unit_cmd *(*running)(const struct target *t, size_t j,
	    const struct unit_cmd_ops *ops, void *arg);
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

struct target {
	const struct target_ops *ops;
	const struct conf_env *env;
	struct loop *loop;
	/* compose over SSH: the session of host j */
	struct remote_host *(*host)(void *arg, const struct conf_env *env, size_t j);
	void *host_arg;
};

/* Compose over SSH: the hosts' .gantry/ holds the state, the runner does the work. */
extern const struct target_ops target_compose_ssh;

/* The target of env, as gantry.yml's `target` names it; `host` gives the SSH session of
 * host j (compose over SSH). */
void target_init(struct target *t, const struct conf_env *env, struct loop *loop,
    struct remote_host *(*host)(void *arg, const struct conf_env *env, size_t j), void *host_arg);

#endif
