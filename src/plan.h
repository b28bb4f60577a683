/* The deploy plan of an environment: its steps, expanded for one tag on one host, as
 * the host-side runner takes them (struct run_spec). Pure: no I/O. */
#ifndef GANTRY_PLAN_H
#define GANTRY_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "runscript.h"

/* An image set: a tag and the digests both images had when it was resolved. */
struct plan_images {
	const char *tag;
	const char *app_digest;
	const char *migrator_digest;
};

struct plan_input {
	const struct conf *conf;        /* needs conf->registry */
	const struct conf_env *env;
	const struct conf_host *host;   /* the host the plan runs on */
	bool first_host;                /* `once` steps run on the first host only */
	const char *id;                 /* the run's id */
	const char *action;             /* promote, rollback, deploy */
	const char *source_env;         /* promote: where the tag was tested; else NULL */
	const char *operator;
	long long started;
	struct plan_images to;          /* what the run deploys */
	struct plan_images back;        /* what an automatic rollback returns to; tag NULL: none */
	bool offline;                   /* the registry cannot be reached: the default plan does
	                                   not pull (the hosts hold the images, checked) */
};

struct plan {
	struct run_spec spec;           /* points into the fields below */
	struct run_step *steps, *rollback;
	char **strings;                 /* everything allocated, freed together */
	size_t strings_len, strings_cap;
};

/* Builds the plan (steps, and rollback steps when the environment rolls back by itself
 * and `back` is known). */
void plan_build(const struct plan_input *in, struct plan *out);
void plan_free(struct plan *plan);

/* The image reference a host pulls: "host/repo:tag@sha256:...". Newly allocated. */
char *plan_image_ref(const struct conf_registry *reg, const char *repo, const char *tag,
    const char *digest);

/* A run id: UTC time and a random suffix, "20261122T103000Z-k3f9". */
void plan_new_id(char *out, size_t outsz, long long now);

#endif
