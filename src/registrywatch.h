/* Whether the registry answers, checked on the loop every half minute (and on a refresh):
 * the model's registry status, so the dashboard and the wallboard never stay green while
 * promotions and rollbacks would fail on an unreachable registry. */
#ifndef GANTRY_REGISTRYWATCH_H
#define GANTRY_REGISTRYWATCH_H

#include "loop.h"
#include "model.h"
#include "registry.h"

#define REGISTRYWATCH_EVERY_MS 30000

struct registrywatch;

typedef void (*registrywatch_fn)(void *arg);

/* Watches `reg` (NULL: none configured) into model->registry. */
struct registrywatch *registrywatch_new(struct loop *loop, struct registry *reg,
    struct model *model);
void registrywatch_set_listener(struct registrywatch *rw, registrywatch_fn changed, void *arg);
/* Checks now, then every REGISTRYWATCH_EVERY_MS. */
void registrywatch_start(struct registrywatch *rw);
/* Checks now (unless a check is in flight). */
void registrywatch_refresh(struct registrywatch *rw);
void registrywatch_free(struct registrywatch *rw);

#endif
