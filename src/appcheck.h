/* What an environment's app says of itself, asked once: is it ready, and which tag does
 * it report. One of the sources a release decision cross-checks (with each host's
 * deploy.env and the history). */
#ifndef GANTRY_APPCHECK_H
#define GANTRY_APPCHECK_H

#include <stdbool.h>

#include "conf.h"
#include "http.h"
#include "payload.h"

struct appcheck_result {
	bool ready;                     /* the ready endpoint answered 2xx */
	char ready_error[300];          /* why not, sanitized ("" when ready) */
	char version[PAYLOAD_TAG_MAX];  /* the tag the app reports; "" when none was read */
	char version_error[300];        /* why none was read */
};

struct appcheck;
typedef void (*appcheck_done_fn)(void *arg, const struct appcheck_result *result);

/* GETs the environment's ready and version endpoints (with its headers and timeout);
 * `done` runs once, from the loop, when both have answered. */
struct appcheck *appcheck_start(struct http_client *http, const struct conf_env *env,
    appcheck_done_fn done, void *arg);
/* Cancels what is in flight; no callback after this. NULL is fine. */
void appcheck_free(struct appcheck *ac);

#endif
