/* Reads every unit's state (deploy.env, lock, freeze) on its environment's interval. */
#ifndef GANTRY_DEPLOYWATCH_H
#define GANTRY_DEPLOYWATCH_H

#include "loop.h"
#include "model.h"
#include "target.h"

struct deploywatch;

typedef void (*deploywatch_fn)(void *arg);
typedef const struct target *(*deploywatch_target_fn)(void *arg, const struct conf_env *env);

/* Each environment's units are read through its target (`target`); the listener
   (deploywatch_set_listener) is told after each read. */
struct deploywatch *deploywatch_new(struct loop *loop, struct model *model,
    deploywatch_target_fn target, void *target_arg);
void deploywatch_free(struct deploywatch *dw);

void deploywatch_set_listener(struct deploywatch *dw, deploywatch_fn changed, void *arg);

/* Reads every host now, then on each environment's interval. */
void deploywatch_start(struct deploywatch *dw);
/* Reads every host now (those not already reading), retrying failed hosts at once. */
void deploywatch_refresh(struct deploywatch *dw);

#endif
