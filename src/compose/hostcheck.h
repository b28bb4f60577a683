/* gantry check's look at one host of compose over SSH: whether it answers, its key, the
 * login, the deploy directory, the runner (installed when missing), the compose file and
 * the running services (deploy.running), one after another, each reported once with what
 * to do when it fails. */
#ifndef GANTRY_HOSTCHECK_H
#define GANTRY_HOSTCHECK_H

#include <stddef.h>

#include "conf.h"
#include "target.h"
#include "unitcmd.h"

struct remote_host;

#define HOSTCHECK_ROWS 7
/* Row names, in order; rows from HOSTCHECK_NAMED_FROM on do not name the host themselves. */
extern const char *const hostcheck_rows[HOSTCHECK_ROWS];
#define HOSTCHECK_NAMED_FROM 3

/* Checks host j of env over its session; every row is reported exactly once. */
struct unitcheck *hostcheck_start(struct remote_host *host, const struct conf_env *env, size_t j,
    unit_check_fn report, void *arg);
/* After every row was reported. */
void hostcheck_free(struct unitcheck *uc);

#endif
