/* A deploy's own state, shared by the files of the release engine and by no other
 * module: deploy.c (the stages, the guards' verdict, the life cycle), gather.c (the
 * facts: the units' states, the apps, the registry), rollout.c (the run over the units,
 * the way back of those that switched), attach.c (following a run this gantry did not
 * start) and adopt.c (gantry adopt's baseline). The public face is deploy.h. */
#ifndef GANTRY_DEPLOYSTATE_H
#define GANTRY_DEPLOYSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "appcheck.h"
#include "deploy.h"
#include "hostread.h"
#include "outbuf.h"
#include "release.h"
#include "retag.h"
#include "running.h"
#include "unitrun.h"
#include "waves.h"

/* The stages, and the phase a screen sees in each: X(NAME, phase) */
#define STAGES(X) \
	X(GATHER, DEPLOY_CHECKING)      /* the hosts' states, the apps, the registry */ \
	X(RESOLVE, DEPLOY_CHECKING)     /* rollback: the tag the history chose, in the registry */ \
	X(HOST_IMAGES, DEPLOY_CHECKING) /* the registry is down: are the images on each host? */ \
	X(PLANNED, DEPLOY_PLANNED)      /* waiting for a confirmation */ \
	X(UNLOCK, DEPLOY_STARTING)      /* an emergency: a paused rollout's lock broken */ \
	X(RECHECK, DEPLOY_STARTING)     /* confirmed: the digests once more */ \
	X(ADOPT, DEPLOY_STARTING)       /* gantry adopt: the baseline written, host by host */ \
	X(LEASE, DEPLOY_STARTING)       /* several hosts: the lease taken on each */ \
	X(START, DEPLOY_STARTING)       /* the run starting on a host (taking its lock) */ \
	X(RUN, DEPLOY_RUNNING)          /* the run followed on a host */ \
	X(SOAK, DEPLOY_RUNNING)         /* a wave done: its hosts must stay ready a while */ \
	X(PAUSED, DEPLOY_RUNNING)       /* a wave's gate closed: waiting for an operator */ \
	X(RETAG, DEPLOY_RUNNING)        /* ready everywhere: deploy.retag's tags moved to it */ \
	X(RELEASE, DEPLOY_RUNNING)      /* several hosts: the lease let go on each */ \
	X(REFUSED, DEPLOY_REFUSED) \
	X(DONE, DEPLOY_DONE)

enum stage {
#define STAGE_ENUM(name, phase) STAGE_##name,
	STAGES(STAGE_ENUM)
#undef STAGE_ENUM
};

/* A digest looked up for a deploy into `out`, where only success matters (a baseline's
 * digests, what a tag points to now). */
struct digest_lookup {
	struct deploy *d;
	struct registry_op *op;         /* NULL when not in flight */
	char *out;
	size_t outsz;
};

/* Why a rollout in waves paused: too many of a wave failed, its units were not ready after
 * the soak, the wave asks for an operator's go, the rollout was found left by the
 * console that drove it, or an operator elsewhere asked. */
enum fleet_pause { PAUSE_FAILURES, PAUSE_GATE, PAUSE_GO, PAUSE_LEFT, PAUSE_ASKED };

/* One host's image check: which deploy, which host. */
struct image_check {
	struct deploy *d;
	size_t host;
	struct unit_cmd *cmd;
	struct outbuf out;
};

/* What the services of one of the source's hosts run (a promotion's cross-check). */
struct services_read {
	struct deploy *d;
	struct unit_cmd *cmd;
	struct running run;
	bool listed;                    /* `run` holds the host's list */
};

struct deploy {
	struct deploy_ctx ctx;
	struct deploy_info info;
	deploy_changed_fn changed;
	void *arg;
	const struct conf_env *target, *source;
	const struct target *to;        /* the target's ops: everything done to it */
	enum stage stage;
	int pending;                    /* answers the stage still waits for */
	bool attach_only;
	size_t replay_reached;          /* attach_only: the hosts that recorded the run replayed */
	bool watch_only;                /* a run found unfinished, read-only: followed, never
	                                   carried on (nothing started, no tag moved) */
	char tag_wanted[136];
	bool allow_unverified;
	bool explicit_tag;              /* promote --tag */

	/* gathered */
	struct hostread *target_rd, *source_rd;
	struct host_state target_state, source_state;
	bool target_read, source_read;
	char target_err[700], source_err[700];
	struct appcheck *source_app, *target_app;
	struct services_read *source_services;  /* one per unit of the source */
	size_t source_units;
	const struct target *source_from;       /* the source's target */
	char services_drift[400];       /* "host, service worker runs sha-..." ("" none) */
	struct appcheck_result source_res, target_res;
	struct registry_op *app_op, *mig_op;
	char registry_err[400];
	/* an environment with no run recorded gets a baseline of what it runs */
	struct guard_images adopt;
	struct digest_lookup adopt_app_lookup, adopt_mig_lookup;
	char adopt_id[72];
	struct unit_cmd *adopt_cmd;
	struct outbuf adopt_out;
	/* a rollback */
	bool by_digest;                 /* to the recorded digests, not what the tag is now */
	struct digest_lookup tag_now_lookup;
	char tag_now[REGISTRY_DIGEST_MAX];
	bool registry_down;             /* with the images looked for on the hosts */
	char registry_down_msg[400];
	struct image_check *image_checks;       /* one per host */
	char images_missing[600];       /* the hosts without them, and why */

	/* the plan and the run */
	struct guard_images back;       /* where an automatic rollback goes */
	struct release_plan *plan;      /* the target's plan of the unit started last, or NULL */
	struct job *jobs;               /* one per host */
	bool stopping;                  /* a host failed, or a cancel: no other host starts */
	int64_t run_started;            /* Unix seconds, for the history */
	/* a run that failed on a host after others took the new tag: those go back */
	size_t failed_host;
	enum run_result failed_result;
	struct retag *retag;            /* deploy.retag, once every host is ready */

	/* a rollout in waves (fleet.c) */
	struct wave_plan waves;         /* len 0: no strategy */
	bool pausing;                   /* too many of the wave failed: no more start */
	enum fleet_pause pause_kind;    /* why it paused */
	bool break_lock;                /* an emergency: the lock is broken once confirmed */
	struct gate_read *unlocks;      /* and the commands that break it, one per unit */
	bool unlock_failed;
	size_t failures_accepted;       /* the wave's failures an operator resumed past */
	bool left;                      /* carried on: its console left it, so once the wave's
	                                   runs end it pauses for an operator (PAUSE_LEFT) */
	char asked_why[400];            /* a pause asked from elsewhere: no unit starts, and once
	                                   those running end it pauses (PAUSE_ASKED) */
	/* this gantry as the rollout's driver (fleetdrive.c, src/drive.h) */
	bool driving;                   /* it beats as the driver */
	bool drive_held;                /* a beat held the record */
	bool drive_failing;             /* the last beat failed */
	bool drive_again;               /* beat again as soon as the one in flight answers */
	int64_t drive_held_ms;          /* loop clock of the last beat that held */
	char drive_token[40];
	struct unit_cmd *drive_cmd;     /* the beat in flight */
	uint64_t drive_timer;
	char drive_ack[40];             /* the request acted on, to clear on the unit */
	char drive_ack_sent[40];        /* the one the beat in flight clears */
	char drive_done_id[40];         /* the last request acted on (never twice) */
	uint64_t soak_timer;
	struct appcheck *gate_app;      /* after the soak: the environment's ready */
	struct gate_read *gate_reads;   /* and each unit's own, where it has one */
	char gate_why[400];             /* why the gate stays closed ("" it opens) */

	/* a run over several units: the environment's lease (src/lease.h, envrun.c) */
	bool leased;                    /* the run holds it (taken, or found and carried on) */
	struct run_lease lease;
	struct lease_cmd *lease_cmds;   /* one per unit */
	int lease_pending;
	char lease_refusal[600];        /* why it could not be taken ("" it was) */
	char lease_left[400];           /* the units where letting it go failed */
};

/* Taking or letting go the lease on one unit. */
struct lease_cmd {
	struct deploy *d;
	size_t index;
	struct unit_cmd *cmd;
	struct outbuf out;
	bool asked;                     /* taking it was asked there */
	bool held;                      /* taken there */
	bool refused;                   /* refused there (locked, frozen): not ours to let go */
};

/* One host's run: what its unit_run's callbacks get. */
struct job {
	struct deploy *d;
	size_t index;
	struct unit_run *run;
};

/* ---- deploy.c ---- */

/* Tells the listener (a redraw). */
void deploy_notify(struct deploy *d);
/* Moves to stage s; the bus hears of a plan and of a refusal. */
void deploy_enter(struct deploy *d, enum stage s);
/* What is going on now, for the screens. */
void deploy_say(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuses with one more reason, and tells. */
void deploy_refuse(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One answer of the stage's is in: the last one moves the deploy on. */
void deploy_answered(struct deploy *d);
/* An event on the bus, about unit `host`. */
void deploy_emit(struct deploy *d, enum bus_kind kind, size_t host, const struct bus_event *more);
void deploy_copy(char *dst, size_t dstsz, const char *src);
int64_t deploy_now_s(void);

/* ---- gather.c: the facts, each answer counted in d->pending ---- */

void gather_target_done(void *arg, struct hostread *r);
void gather_source_done(void *arg, struct hostread *r);
void gather_source_app_done(void *arg, const struct appcheck_result *res);
void gather_target_app_done(void *arg, const struct appcheck_result *res);
/* Looks up both images: by the recorded digests (a rollback to what ran), else by tag. */
void gather_resolve(struct deploy *d);
/* A digest of repo:ref into out, where only success matters. */
void gather_digest(struct deploy *d, struct digest_lookup *l, const char *repo, const char *ref,
    char *out, size_t outsz);
/* The registry is down: deploy.image_check on every unit. */
void gather_host_images(struct deploy *d);
/* What each service of the source's units runs (d->source_services). */
void gather_source_services(struct deploy *d, const struct target *from);
/* The first service of the source's app image on another build than its deploy.env. */
void gather_services_drift(struct deploy *d);

/* ---- rollout.c: the run over the units ---- */

/* The plan for unit j, into d->plan and that unit's steps. */
void rollout_plan(struct deploy *d, size_t j, const char *id);
/* The unit a screen shows. */
void rollout_focus(struct deploy *d);
/* A new run over the units, from the first. */
void rollout_start(struct deploy *d);
/* What a unit's run tells the deploy. */
extern const struct unit_run_ops rollout_run_ops;

/* Starts what may start: the first unit alone, then up to `parallel` at once. */
void rollout_schedule(struct deploy *d);
/* Starts the plan on unit j. */
void rollout_host_start(struct deploy *d, size_t j);
/* Moves the run on after a unit's run ended, or once a run was found: starts what may
 * start, else takes back the units that switched when one failed, else ends it. */
void rollout_continue(struct deploy *d);
/* The deploy's end, once the lease (if any) is let go. */
void rollout_finish(struct deploy *d);

/* ---- envrun.c: a run over several units, the environment's ---- */

/* True when the run needs the lease (more than one unit). */
bool envrun_wanted(const struct deploy *d);
/* Takes the lease on every unit (the first alone, then the rest), then schedules the
 * run; when a unit refuses, lets go what was taken and refuses the deploy. */
void envrun_take(struct deploy *d);
/* Lets the lease go on every unit, then rollout_finish. */
void envrun_release(struct deploy *d);
/* The run a lease held on the target names, carried on from its plan; false when no
 * lease is held. Read-only, it is followed, not carried on. */
bool envrun_carry_on(struct deploy *d);

/* ---- fleet.c: a rollout in waves (gantry.yml's rollout:) ---- */

/* One unit's ready read at a wave's gate. */
struct gate_read {
	struct deploy *d;
	size_t index;
	struct unit_cmd *cmd;
};

/* An operator elsewhere asked for a pause: no unit starts, and once those running end
 * (or at once, between waves) the rollout pauses, saying `why`. */
void fleet_ask_pause(struct deploy *d, const char *why);

/* ---- fleetdrive.c: this gantry as a rollout's driver ---- */

/* A rollout in waves under a lease this gantry holds: claims the driver's record on the
 * first unit and renews it every interval; requests from elsewhere are acted on. */
void fleetdrive_start(struct deploy *d);
/* Where the rollout stands changed: the record says it now. */
void fleetdrive_note(struct deploy *d);
/* Whether a unit may start: not driving, or the last beat held, and recently. */
bool fleetdrive_may_start(const struct deploy *d);
/* Beats no more. */
void fleetdrive_stop(struct deploy *d);
/* Beats no more and lets the record go on the unit, so another gantry may drive at once;
 * *done (if not NULL) is set when the unit answered. False when nothing was held. */
bool fleetdrive_leave(struct deploy *d, bool *done);

/* A rollout in waves carried on from its lease: the waves planned there, the wave its
 * units reached; it pauses once the runs found alive end. */
void fleet_carry_on(struct deploy *d, const struct wave_plan *waves);
/* The waves of the environment's strategy, worked out for its units. */
void fleet_init(struct deploy *d);
/* True when the environment rolls out in waves. */
bool fleet_waves(const struct deploy *d);
/* Starts what may start of the wave (the way back: every unit that moved, newest wave
 * first). */
void fleet_schedule(struct deploy *d);
/* Unit j failed (its own rollback took it back): past the wave's budget, no more start
 * and the wave pauses once its running units end. */
void fleet_failed(struct deploy *d, size_t j);
/* Nothing runs: the wave's gate (its failures, its soak, an operator's go), then the next
 * wave. False when the rollout is over (every wave done, or aborted). */
bool fleet_wave_over(struct deploy *d);
/* The units that did not take the tag, listed ("" all did); how many. */
size_t fleet_left_behind(struct deploy *d, char *out, size_t outsz);
/* Stops the soak and the gate's reads. */
void fleet_stop(struct deploy *d);
/* An emergency rollback, for `reason`: every unit at once, no waves, confirmed by typing
 * the environment's name. */
void fleet_emergency(struct deploy *d, const char *reason);
/* Confirmed: the lock no step holds is broken on every unit (noted with the reason), then
 * the confirmation goes on; a unit where it cannot be broken refuses the run. */
void fleet_break_lock(struct deploy *d);

/* ---- attach.c, adopt.c ---- */

/* What a run found recorded is, as a screen shows it: from a start record, or a lease's
 * plan. */
struct attach_run {
	const char *action, *tag, *app_digest, *migrator_digest, *source, *operator;
	const char *rollback_tag;
};
void attach_describe(struct deploy *d, const struct attach_run *run);
/* The run the target's state names, followed (or replayed to its end). */
void attach_follow(struct deploy *d);
/* gantry adopt: the baseline written on each unit in turn. */
void adopt_write(struct deploy *d);

#endif
