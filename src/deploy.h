/* A promotion, rollback or deploy of one environment, as a state machine: it gathers
 * the facts (the units' states, the apps, the registry), asks the guards (src/guard),
 * shows the plan its target builds (src/release.h), then runs it on the units through the
 * target (src/target.h), with a rollback of the units already switched when a later one
 * fails. */
#ifndef GANTRY_DEPLOY_H
#define GANTRY_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "conf.h"
#include "guard.h"
#include "hoststate.h"
#include "http.h"
#include "logbuf.h"
#include "loop.h"
#include "registry.h"
#include "target.h"
#include "runresult.h"

/* What a deploy needs from the running core. */
struct deploy_ctx {
	struct loop *loop;
	const struct conf *conf;
	struct http_client *http;
	struct registry *registry;      /* NULL when the configuration names none */
	/* an environment's target: everything done to it goes through its ops */
	const struct target *(*target)(void *arg, const struct conf_env *env);
	void *target_arg;
	const char *operator;           /* $GANTRY_OPERATOR, else user@host */
	struct bus *bus;                /* where its events go (NULL: nowhere) */
};

struct deploy_request {
	enum deploy_kind kind;
	const struct conf_env *target;
	const struct conf_env *source;  /* promote: NULL for the environment before the target */
	const char *tag;                /* NULL: the source's (promote), the last healthy (rollback) */
	bool unverified;                /* rollback: a tag with no healthy run here is allowed */
	/* an emergency rollback: why (recorded with the run); every host goes back at once,
	   whatever its rollout's waves; NULL: none */
	const char *emergency;
};

enum deploy_phase {
	DEPLOY_CHECKING,                /* reading the hosts, the registry, the source */
	DEPLOY_PLANNED,                 /* waiting for a confirmation */
	DEPLOY_REFUSED,                 /* a guard said no; nothing ran (see refusal) */
	DEPLOY_STARTING,                /* checking the digests again, taking the lock */
	DEPLOY_RUNNING,                 /* the run runs on a host; followed */
	DEPLOY_DONE,                    /* the run ended (see result) */
};

enum deploy_step_state { STEP_PENDING, STEP_RUNNING, STEP_OK, STEP_FAILED, STEP_SKIPPED };

struct deploy_step {
	char name[80];
	char command[512];              /* as it runs on the host (no secrets: templates have none) */
	char brief[256];                /* how a screen shows it: shorter where the plan knows how */
	enum deploy_step_state state;
	bool rollback;                  /* a step of the automatic rollback */
	bool switch_point;
	int exit;
	int64_t ms;                     /* its duration, when it ended */
	int64_t started_ms;             /* loop clock, while it runs */
};

enum deploy_host_state {
	HOST_WAITING,                   /* its turn has not come */
	HOST_STARTING,                  /* the run starting there */
	HOST_RUNNING,                   /* the run followed there */
	HOST_ENDED,                     /* see result */
	HOST_NOT_STARTED,               /* the run was refused there, or never tried (a host
	                                   before it failed, or a cancel) */
};

/* One host's part of the run. */
struct deploy_host {
	char address[200];
	size_t wave;                    /* a rollout in waves: its wave, 1-based (0: none) */
	enum deploy_host_state state;
	enum run_result result;         /* ENDED: how its (last) run there ended */
	bool switched;                  /* its switch step started */
	bool went_back;                 /* its last run was the rollback of the hosts switched
	                                   before a later one failed */
	struct deploy_step *steps;      /* its plan's steps, then its rollback's */
	size_t steps_len, rollback_base;
};

/* Everything a screen shows; read it from the `changed` callback. */
struct deploy_info {
	enum deploy_phase phase;
	enum deploy_kind kind;
	const char *action;             /* "promote", "rollback", "deploy", "adopt" */
	char env[64], source[64];
	char tag[136];
	char app_digest[80], migrator_digest[80];
	char app_image[400], migrator_image[400];
	const char *config;             /* what says what a unit runs, in the target's words
	                                   ("deploy.env") */
	char current[136];              /* the tag the target's configuration names ("" none) */
	char still_runs[136];           /* when the last run of `current` stopped before its
	                                   switch: the tag the app still runs ("" otherwise) */
	char rollback_tag[136];         /* where an automatic rollback goes ("" none) */
	char retag[200];                /* deploy.retag's tags, moved to the build once every
	                                   host is ready ("" none) */
	bool retagged;                  /* DONE: they were moved */
	char retag_error[400];          /* DONE: why they were not ("" moved, or none) */
	char source_version[136];       /* promote: the tag the source's app reports ("" none) */
	char source_env_tag[136];       /* promote: the tag the source's deploy.env names */
	char chosen[300];               /* promote: why this tag ("what staging runs: ...") */
	char proven[300];               /* rollback: on whose word the tag is proven ("run ID
	                                   (a deploy by OP), healthy on 3 of 3 hosts") */
	char adopting[136];             /* the baseline this run records first ("" none) */
	bool unverified;                /* rollback --unverified to a tag never healthy here */
	bool fleet_rollback;            /* the run failed on a later host; the hosts before it
	                                   are being rolled back (host_index, steps: that run) */
	bool hosts_differ;              /* DONE: the run failed on a later host, no rollback:
	                                   the hosts run different tags (status says which) */
	int64_t run_started_ms, run_ended_ms;   /* the run's own start and end, host clock
	                                           (epoch ms, from its events); 0 unknown */
	bool protected_env;
	bool redeploy;                  /* the target runs this tag already */
	bool attached;                  /* following a run this gantry did not start */
	bool carried;                   /* and carrying it on: its lease was found held, the
	                                   hosts not reached are started from its plan */
	char left_behind[300];          /* DONE, partial: the hosts the run did not reach */
	char operator[128];             /* who started the run (attached: as recorded) */
	struct guard_verdict verdict;   /* REFUSED: its refusal says what stopped it and what
	                                   to do; its warnings go with the plan */
	char status[300];               /* what is going on now ("link lost, re-attaching") */
	char run_id[72];
	struct deploy_host *hosts;      /* every host's part, hosts_len of them */
	size_t hosts_len;
	size_t parallel;                /* hosts that run at once after the first */
	/* a rollout in waves (gantry.yml's rollout:) */
	size_t waves;                   /* how many (0: no strategy) */
	size_t wave;                    /* the wave running, or done and at its gate (1-based) */
	char waves_plan[240];           /* the waves in words: "1 host, then 2, then 3; 2 at a
	                                   time; a go after wave 2; soak 2m; no failure" */
	bool soaking;                   /* its hosts must stay ready a while */
	bool paused;                    /* its gate is closed: an operator resumes or aborts */
	char paused_why[400];           /* why ("wave 2 of 4: root@t7 failed (rolled_back)") */
	bool aborted;                   /* aborted: the hosts that moved go back */
	bool emergency;                 /* an emergency rollback: every host at once */
	char reason[200];               /* its reason, one line */
	size_t running;                 /* hosts starting or running now */
	/* the host a screen shows: the first one running, else the first that failed, else
	   the last that ran; its address, steps and switch, from hosts[host_index] */
	size_t host_index;
	char host[200];
	struct deploy_step *steps;
	size_t steps_len;
	bool switched;                  /* the switch step has started: no cancel */
	bool cancel_sent;
	char cancel[40];                /* "", "asked", "accepted", "refused" */
	enum run_result result;         /* DONE: how it ended */
	int64_t started_ms, ended_ms;   /* loop clock */
	struct logbuf *output;          /* the steps' output, sanitized */
	uint64_t output_seq;            /* bumps on each new line */
};

struct deploy;
typedef void (*deploy_changed_fn)(void *arg, struct deploy *d);

/* Checks the guards and builds the plan; `changed` is called as it goes. */
struct deploy *deploy_new(const struct deploy_ctx *ctx, const struct deploy_request *req,
    deploy_changed_fn changed, void *arg);
/* Follows the run an environment's first host runs now, or shows how the last one ended. */
struct deploy *deploy_attach(const struct deploy_ctx *ctx, const struct conf_env *env,
    deploy_changed_fn changed, void *arg);
/* Stops following; a run goes on on its host. No callback after this. */
void deploy_free(struct deploy *d);

const struct deploy_info *deploy_info(const struct deploy *d);
/* How long the run took (or has run, while it runs), from the host's own records; known
 * false when nothing says. */
int64_t deploy_run_ms(const struct deploy_info *i, bool *known);

/* PLANNED: checks the digests again and starts the run (adopt: writes the baseline). */
void deploy_confirm(struct deploy *d);
/* RUNNING: asks every host running a step before its switch to cancel, and starts no
 * other; false when no host could be asked. */
bool deploy_cancel(struct deploy *d);
/* A rollout in waves, paused: goes on with the wave's hosts not started and the next
 * waves, leaving the hosts that failed on what they ran. False when not paused. */
bool deploy_resume(struct deploy *d);
/* A rollout in waves, running or paused: starts no other host, and once those running
 * end, every host that took the tag goes back, newest wave first. False when there is
 * nothing to abort (or no tag to go back to: `why` says). */
bool deploy_abort(struct deploy *d, char *why, size_t whysz);
/* A rollout in waves running here: no other host starts, and once those running end it
 * pauses, saying `why`. False when there is none running to pause. */
bool deploy_pause(struct deploy *d, const char *why);
/* A rollout this gantry drives stops being driven from here, as it stands (paused, say):
 * its record on the first unit is let go, so another gantry may drive it at once; *done
 * is set when the unit answered. False when this gantry drove nothing. */
bool deploy_leave(struct deploy *d, bool *done);

/* "promote", "rollback", "deploy", "adopt" */
const char *deploy_kind_name(enum deploy_kind kind);
/* The operator's name: $GANTRY_OPERATOR, else user@host (written to out). */
void deploy_operator(char *out, size_t outsz);

#endif
