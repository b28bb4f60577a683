/* Checks every environment on its own interval: health, readiness and version. */
#ifndef GANTRY_PROBER_H
#define GANTRY_PROBER_H

#include <stddef.h>

#include "http.h"
#include "loop.h"
#include "model.h"

/* Bodies past this size are refused: health answers are small. */
#define PROBER_MAX_BODY (64 * 1024)

struct prober;

/* Called from the loop when an environment's round has ended and the model changed. */
typedef void (*prober_change_fn)(size_t env_index, void *arg);

struct prober *prober_new(struct loop *loop, struct http_client *http, struct model *model,
    prober_change_fn changed, void *arg);
/* Cancels what is in flight and frees; the model stays. */
void prober_free(struct prober *prober);

/* Replaces the change listener (the UI attaches itself after the core is wired). */
void prober_set_listener(struct prober *prober, prober_change_fn changed, void *arg);

/* Starts the first round of every environment now. */
void prober_start(struct prober *prober);

/* Starts a round of every environment now (those not already in flight). */
void prober_refresh_all(struct prober *prober);

#endif
