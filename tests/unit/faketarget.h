/* A fake deploy target for the engine's unit tests: units held in memory, each with its
 * configuration (fake.env), lock, freeze and history, that run a plan's steps by name on the test's
 * loop, with scripted failures, pauses and lost links. A run belongs to its unit, as on a
 * real host: it goes on when the handle that started or followed it is freed. It proves
 * the engine's decisions in milliseconds; the real-component tests prove the runner. */
#ifndef GANTRY_TEST_FAKETARGET_H
#define GANTRY_TEST_FAKETARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "target.h"

struct fake_exec;

/* One unit, as the test scripts it and as the runs leave it. */
struct fake_unit {
	char name[64];
	/* what the unit holds */
	char app_image[512], migrator_image[512];       /* deploy.env ("" no file) */
	char *history;                  /* history.jsonl's text */
	bool locked;
	char lock_owner[128], lock_run[72];
	char *lease_plan;               /* a lease's plan (the lock held for a run over several
	                                   units), or NULL */
	struct drive_record driver;     /* a rollout's driver beside the lease (present: kept) */
	struct drive_request request;   /* and the request waiting for it */
	bool frozen;
	char current[72];               /* the last run started */
	bool has_images;                /* deploy.image_check answers yes */
	/* the script */
	bool down;                      /* every command fails: unreachable */
	char fail_step[80];             /* this step of a run fails ("" none) */
	int fail_exit;                  /* with this status (default 1) */
	char fail_rollback_step[80];    /* this step of an automatic rollback fails */
	char pause_at[80];              /* a run waits before this step until fake_resume */
	int pause_nth;                  /* or before its nth step (1-based; 0 none) */
	/* what happened */
	unsigned runs;                  /* runs started here */
	struct fake_exec *exec;         /* the run that holds the lock, or NULL */
	struct fake_exec *ended;        /* the runs that ended here, newest first */
};

struct fake_target {
	struct target base;             /* base.ops is the fake's */
	struct loop *loop;
	struct fake_unit *units;
	size_t units_len;
	/* called when a unit's app switches to an image (the test makes its app report it) */
	void (*switched)(void *arg, struct fake_target *ft, size_t j, const char *app_image);
	void *switched_arg;
};

/* The units of env, named as its hosts, each with no deploy.env and no history. */
struct fake_target *fake_target_new(struct loop *loop, const struct conf *conf,
    const struct conf_env *env);
void fake_target_free(struct fake_target *ft);

/* Appends a record (one JSON line, without its newline) to unit j's history. */
void fake_history_add(struct fake_target *ft, size_t j, const char *record);
/* A run's start and end records in unit j's history, and nothing else (a record planted
 * there, or one of a run whose deploy.env was changed since). */
void fake_record(struct fake_target *ft, size_t j, const char *id, const char *tag,
    const char *app_digest, const char *migrator_digest, const char *result, long long at);
/* Unit j as if a run of `tag` (app and migrator images as given) had succeeded there at
 * `at`: deploy.env names them and the history holds the run. */
void fake_ran(struct fake_target *ft, size_t j, const char *id, const char *tag,
    const char *app_image, const char *migrator_image, const char *result, long long at);
/* The lock on unit j broken (gantry unlock's work, or another run's lock left there). */
void fake_lock(struct fake_target *ft, size_t j, const char *run, const char *owner);
void fake_unlock(struct fake_target *ft, size_t j);
/* A paused run on unit j goes on. */
void fake_resume(struct fake_target *ft, size_t j);
/* True while a run on unit j waits at its pause_at step. */
bool fake_paused(const struct fake_target *ft, size_t j);
/* True while a run executes on unit j. */
bool fake_running(const struct fake_target *ft, size_t j);

#endif
