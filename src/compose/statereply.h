/* The runner's state and watch replies (src/compose/runner.h's RUNNER_STATE_PARTS), read
 * into a unit's typed state (src/hoststate.h). Untrusted input. */
#ifndef GANTRY_COMPOSE_STATEREPLY_H
#define GANTRY_COMPOSE_STATEREPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "hoststate.h"

/* Reads the output of the runner's state or watch subcommand; false with `why` when it is
 * not that command's output. `dir`, the deploy directory, is named in what is said of a
 * missing deploy.env (NULL: it is not). */
bool hoststate_parse_in(const char *buf, size_t len, const char *dir, struct host_state *out,
    char *why, size_t whysz);
bool hoststate_parse(const char *buf, size_t len, struct host_state *out, char *why, size_t whysz);

#endif
