/* An environment's lease: a run over several units belongs to the environment, not to
 * the console that started it. Before its first step the lock is taken on every unit for
 * the run, with the run's plan kept in it (what it deploys, where it goes back to, the
 * units in order), and it is held until the last unit ends. Whichever gantry finds it
 * unfinished carries it on from that plan (a rollout in waves: its waves too, so the next
 * gantry goes on with the waves that were planned, whatever gantry.yml says now). This module writes and reads the plan: one
 * JSON line, untrusted when read back. Pure: no I/O. */
#ifndef GANTRY_LEASE_H
#define GANTRY_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waves.h"

#define LEASE_MAX_BYTES 65536           /* a plan read from a unit: at most this */

struct run_lease {
	char id[72];                    /* the run's id: every unit's run of it has this id */
	char action[16];                /* deploy, promote, rollback */
	char env[64], source[64];       /* source: a promotion's ("" otherwise) */
	char tag[136], app_digest[80], migrator_digest[80];
	/* where the units that switched go back when a later one fails ("" none) */
	char back_tag[136], back_app[80], back_migrator[80];
	char operator[128];
	int64_t at;                     /* when it was planned, Unix seconds */
	unsigned parallel;              /* units at once after the first */
	size_t units;                   /* how many units it is meant for */
	char units_sum[20];             /* a short hash of their names, in order */
	struct wave_plan waves;         /* a rollout in waves: its waves as planned; len 0 none */
};

/* What taking the lease on a unit says: the run, and its plan (lease_record). */
struct lease_take {
	const char *id, *action, *operator;
	const char *message;            /* the lock's message: "promote sha-... from staging" */
	const char *record;
};

/* The plan as one JSON line, with the units' names (n of them, in order). Newly
 * allocated. */
char *lease_record(const struct run_lease *l, const char *const *units, size_t n);
/* Reads a plan written by lease_record; false, with `why`, when it is not one: every
 * value that will reach a command or a decision has its syntax. */
bool lease_parse(const char *buf, size_t len, struct run_lease *out, char *why, size_t whysz);
/* The short hash of a list of units' names, as units_sum holds it. */
void lease_units_sum(const char *const *units, size_t n, char out[20]);
/* The id of the way back of run `id` (the units that switched, when a later one failed):
 * the same on whichever gantry carries the run on. */
void lease_back_id(const char *id, char *out, size_t outsz);

#endif
