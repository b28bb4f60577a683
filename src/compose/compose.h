/* Compose over SSH, as a kind of target: each unit is a host reached over SSH, its state
 * files in the deploy directory's .gantry/, and every command the runner (runner.sh)
 * with a subcommand. Only src/targets.c names it outside this folder. */
#ifndef GANTRY_COMPOSE_COMPOSE_H
#define GANTRY_COMPOSE_COMPOSE_H

#include "targets.h"

extern const struct target_kind target_kind_compose_ssh;

#endif
