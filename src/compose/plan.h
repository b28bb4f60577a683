/* The deploy plan of a compose host: the default compose plan or the environment's own
 * steps, then the ready wait and the smoke checks, expanded for one release request
 * (src/release.h) on one host, as the runner takes them (struct run_spec). Pure: no I/O. */
#ifndef GANTRY_COMPOSE_PLAN_H
#define GANTRY_COMPOSE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "release.h"
#include "runscript.h"

struct plan_input {
	const struct conf *conf;        /* needs conf->registry */
	const struct conf_env *env;
	const struct conf_host *host;   /* the host the plan runs on */
	const struct release_request *req;
};

struct plan {
	struct release_plan base;       /* what the engine sees: first */
	struct run_spec spec;           /* points into the fields below */
	struct release_step *steps, *rollback;
	char **strings;                 /* everything allocated, freed together */
	size_t strings_len, strings_cap;
};

/* Builds the plan (steps, and rollback steps when the environment rolls back by itself
 * and the request says where to). */
void plan_build(const struct plan_input *in, struct plan *out);
void plan_free(struct plan *plan);

#endif
