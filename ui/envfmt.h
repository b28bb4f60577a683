/* How an environment's state reads on screen: words, roles and ages, shared by the views. */
#ifndef GANTRY_ENVFMT_H
#define GANTRY_ENVFMT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "theme.h"

/* The role that colours a probe's result. */
enum theme_role envfmt_probe_role(const struct probe_result *result, enum probe_kind kind);
/* The role that colours an environment's overall health. */
enum theme_role envfmt_health_role(enum env_health health);
/* " for 5m" since a host's time `since`, by its clock `now`; "" when the file gave none. */
void envfmt_host_since(int64_t now, int64_t since, char *out, size_t outsz);
/* Where a live run is, by the host's clock: "step 2/4 run migrator for 12s", "ROLLING BACK
 * step 1/3 ...", "" when its start record was not read. */
void envfmt_run_step(const struct host_lock *lock, int64_t host_now, char *out, size_t outsz);
/* The most useful problem to show for an environment, "" when all is well. */
/* A rollout in waves, briefly, for a table's cell: "wave 2/3 3/6" (the hosts that took
 * the tag), after `warn` when it is paused or left (*stopped then). False without one. */
bool envfmt_rollout_brief(const struct env_status *env, const char *warn, char *out,
    size_t outsz, bool *stopped);
const char *envfmt_problem(const struct env_status *env, char *buf, size_t bufsz);
/* "4m10s" since the health last changed. */
void envfmt_since(const struct env_status *env, int64_t now, char *out, size_t outsz);
/* "2s ago", or "never" before the first answer. */
void envfmt_checked(const struct model *model, const struct env_status *env, int64_t now,
    char *out, size_t outsz);

/* A unit's name in `width` columns: as it is when it fits, else its head and its tail
 * around `cut` (one column: "…", or "~" in ASCII), since tenants of one address differ at
 * the end: "root@10.0.0.5:…/tenants/t12". */
void envfmt_unit_name(const char *name, int width, const char *cut, char *out, size_t outsz);

#endif
