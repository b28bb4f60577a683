/* deploy.retag: tags that are not builds (such as "stable") moved to the build an
 * environment now runs, once every host is ready, one registry operation at a time: each
 * tag in the app's repository, and in the migrator's when that is another one. */
#ifndef GANTRY_RETAG_H
#define GANTRY_RETAG_H

#include "conf.h"
#include "registry.h"

struct retag;

/* Called once, from the loop: `error` is NULL when every tag was moved, else why the
 * first that could not be was not (the ones after it were not tried). The retag may be
 * freed in it. */
typedef void (*retag_done_fn)(void *arg, const char *error);

/* Moves each of `tags` (separated by spaces, at least one) to the app's digest, and to the migrator's
 * in its repository when registry.migrator names another one and it is given. */
struct retag *retag_start(struct registry *reg, const struct conf_registry *conf,
    const char *tags, const char *app_digest, const char *migrator_digest,
    retag_done_fn done, void *arg);
/* Stops what is in flight; no callback after this (NULL is ignored). */
void retag_free(struct retag *r);

#endif
