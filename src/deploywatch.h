/* Reads deploy.env on every host of every environment, on the environment's interval. */
#ifndef GANTRY_DEPLOYWATCH_H
#define GANTRY_DEPLOYWATCH_H

#include "loop.h"
#include "model.h"

struct deploywatch;

typedef void (*deploywatch_fn)(void *arg);

/* Hosts come from model->envs[i].hosts[j].remote. `changed` is called after each read. */
struct deploywatch *deploywatch_new(struct loop *loop, struct model *model, deploywatch_fn changed,
    void *arg);
void deploywatch_free(struct deploywatch *dw);

void deploywatch_set_listener(struct deploywatch *dw, deploywatch_fn changed, void *arg);

/* Reads every host now, then on each environment's interval. */
void deploywatch_start(struct deploywatch *dw);
/* Reads every host now (those not already reading), retrying failed hosts at once. */
void deploywatch_refresh(struct deploywatch *dw);

#endif
