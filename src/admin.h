/* Freeze, unfreeze and unlock: an environment's admin actions, each done on every unit by
 * its target (target.h's admin op), with a note of who did it and why in the history. */
#ifndef GANTRY_ADMIN_H
#define GANTRY_ADMIN_H

#include <stddef.h>

#include "bus.h"

enum unit_admin { ADMIN_FREEZE, ADMIN_UNFREEZE, ADMIN_UNLOCK };

/* A reason as it is recorded: one printable line (out holds up to outsz bytes). */
void admin_reason(const char *message, char *out, size_t outsz);

/* Tells the bus an admin action was done on unit `host` of env (named `host_name`). */
void admin_emit(struct bus *bus, enum unit_admin kind, const char *env, size_t host,
    const char *host_name, const char *operator, const char *reason);

#endif
