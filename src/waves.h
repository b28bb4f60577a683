/* A rollout's waves over an environment's units (gantry.yml's rollout:), worked out for
 * how many units there are: which units each wave takes, in the units' order (the first
 * unit, which runs the one-time steps, is always in the first wave), and after which
 * waves an operator's go is needed. Pure: no I/O. */
#ifndef GANTRY_WAVES_H
#define GANTRY_WAVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define WAVES_MAX (CONF_MAX_WAVES + 1)
#define WAVES_SOAK_MAX_MS (7LL * 24 * 3600 * 1000)     /* a soak read back: at most a week */

struct wave_plan {
	size_t len;                     /* waves; 0: the environment has no strategy */
	size_t end[WAVES_MAX];          /* wave w takes units [w ? end[w-1] : 0, end[w]) */
	bool pause[WAVES_MAX];          /* after wave w, wait for an operator's go */
	int64_t soak_ms;                /* after each wave, its units ready this long; 0 none */
	int64_t max_failures;           /* failures a wave may have and go on */
};

/* The waves of a fleet of n units. A size is of the whole fleet: a percentage rounds up,
 * a count past the fleet is the fleet; a wave that adds no unit is dropped, and when the
 * last size leaves units out, a last wave takes them. */
void waves_plan(const struct conf_rollout *r, size_t n, struct wave_plan *out);

/* Whether p is a plan waves_plan could make for n units: its ends rise to n, its pauses
 * come before the last wave, its soak and budget are in range (a plan read back). */
bool waves_valid(const struct wave_plan *p, size_t n);

/* The wave of unit j (0-based); len when there are no waves. */
size_t waves_of(const struct wave_plan *p, size_t j);
/* The first unit of wave w. */
size_t waves_start(const struct wave_plan *p, size_t w);

#endif
