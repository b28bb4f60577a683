/* gantry rollout status, and the reading of a rollout that pause, resume and abort start
 * from (cli/deploycmd.c). */
#ifndef GANTRY_ROLLOUTCMD_H
#define GANTRY_ROLLOUTCMD_H

#include <stdbool.h>
#include <stdio.h>

#include "app.h"
#include "rolloutstatus.h"

/* One unit, as the status shows it. */
struct rollout_shown {
	char name[200];
	char tag[136];                  /* what its configuration names ("" none) */
	size_t wave;                    /* 1-based; 0 without a rollout */
	enum rollout_stand stand;
	bool read;
};

/* A rollout as read from the environment's units. */
struct rollout_read {
	struct rollout_status st;
	struct rollout_shown *hosts;    /* one per unit (owned) */
	size_t len;
	char unread_why[600];           /* the first unit not read, and why ("" all were) */
};

/* Reads every unit of env (running the loop until they answered, or *quit) and works
 * out its rollout. False when no unit could be read (or *quit), with `why`. */
bool rollout_read(struct app *app, const struct conf_env *env, const bool *quit,
    struct rollout_read *out, char *why, size_t whysz);
void rollout_read_free(struct rollout_read *r);

/* The status, as text or as JSON (format 1, described in gantry(1)). */
void rollout_print(FILE *out, const struct conf_env *env, const struct rollout_read *r,
    bool json);

#endif
