/* What each service of a compose host runs: its deploy.running command, one
 * "SERVICE IMAGE" a line, read into a typed list (src/running.h). */
#ifndef GANTRY_COMPOSE_SERVICES_H
#define GANTRY_COMPOSE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "running.h"
#include "target.h"

#define RUNNING_READ_MAX (64 * 1024)    /* bytes of the command's output read */

struct remote_host;

/* Reads the command's output into `out` (emptied first); false with `why` when a line is
 * not a service name and an image reference, or there are more than RUNNING_MAX. */
bool running_parse(const char *buf, size_t len, struct running *out, char *why, size_t whysz);

/* Host j's deploy.running, expanded ({compose}, {deploy_dir}); NULL when the environment
 * lists none. Owned by the caller. */
char *running_command(const struct conf_env *env, size_t j);

/* Runs host j's deploy.running and reads what it prints; `done` is called once, unless
 * the command is stopped first. NULL when the environment lists none. */
struct unit_cmd *services_read(struct remote_host *host, const struct conf_env *env, size_t j,
    unit_running_fn done, void *arg);

#endif
