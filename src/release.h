/* A release as the engine asks a target for it, whatever the kind of target: what to run
 * (a tag and the digest of each image), where an automatic rollback goes, whether the
 * environment's one-time steps (migrations) run here, and the run's facts. The target
 * answers with its plan: the steps it will run, as screens show them. The engine never
 * sees how a target does a step (compose over SSH: shell, in src/compose/plan.c). */
#ifndef GANTRY_RELEASE_H
#define GANTRY_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* An image set: a tag and the digests both images had when it was resolved. */
struct release_images {
	const char *tag;
	const char *app_digest;
	const char *migrator_digest;
};

/* What an adoption records: the tag an environment ran before gantry deployed it. */
struct adopt_spec {
	const char *id;
	const char *env;
	const char *tag;
	const char *app_digest, *migrator_digest;       /* "" when not known */
	const char *operator;
	const char *message;            /* how it was verified */
	int64_t at;                     /* Unix seconds */
};

struct release_request {
	const char *id;                 /* [A-Za-z0-9._-], unique per run */
	const char *action;             /* promote, rollback, deploy */
	const char *source_env;         /* promote: where the tag was tested; else NULL */
	const char *operator;
	const char *message;            /* why, recorded with the run (an emergency's); or NULL */
	int64_t started;                /* Unix seconds */
	struct release_images to;       /* what the run deploys */
	struct release_images back;     /* where an automatic rollback goes; tag NULL: none */
	bool first_unit;                /* the one-time steps (migrations) run on this unit */
	bool offline;                   /* the registry cannot be reached: nothing is pulled
	                                   (the units hold the images, checked) */
	int64_t ready_timeout_ms;       /* how long the app may take to be ready after the switch
	                                   before the unit fails (0: the environment's own) */
	/* an environment with no run recorded: the baseline of what it ran before, recorded
	 * under the lock before the run's start; or NULL */
	const struct adopt_spec *adopt;
	/* a run over several units: the id of the environment's lease it runs under (taken on
	 * every unit before the first step, src/lease.h); or NULL */
	const char *lease;
	size_t units;                   /* the units the run is meant for (0: one) */
};

/* One step of a plan, as the target will run it. */
struct release_step {
	const char *name;               /* shown and recorded */
	const char *command;            /* what it does, in the target's words (compose: the
	                                   shell command); the engine shows it, never runs it */
	int64_t timeout_ms;
	bool switch_point;              /* from this step on, cancelling is refused */
	bool migration;                 /* recorded as "migrated" when it succeeds */
	const char *brief;              /* how a screen shows it ("compose: pull app"), or NULL:
	                                   the command itself */
};

/* A target's plan for one unit (target.h's plan op). The target's own plan begins with
 * this; free it with the target's plan_free. */
struct release_plan {
	const struct release_step *steps;
	size_t steps_len;
	/* run when a step from the switch on fails (an automatic rollback); may be empty */
	const struct release_step *rollback;
	size_t rollback_len;
	const char *lock_message;       /* what the lock says while it runs: "promote sha-...
	                                   from staging" */
};

/* The image reference a unit runs: "host/repo:tag@sha256:...". Newly allocated. */
char *release_image_ref(const struct conf_registry *reg, const char *repo, const char *tag,
    const char *digest);

/* A run id: UTC time and a random suffix, "20261122T103000Z-k3f9". */
void release_new_id(char *out, size_t outsz, long long now);

#endif
