/* One run on one host, the runner's way: starts it (the runner's start, through the run.sh
 * it writes), follows its events and output to its end (again after a dropped link, the
 * host replaying from the start, only new lines passed on), and asks it to cancel. A
 * struct unit_run (src/unitrun.h) of compose over SSH. */
#ifndef GANTRY_HOSTRUN_H
#define GANTRY_HOSTRUN_H

#include "loop.h"
#include "remote.h"
#include "runscript.h"
#include "unitrun.h"

/* Starts the run `spec` describes on `host`, then follows it. */
struct unit_run *hostrun_start(struct loop *loop, struct remote_host *host,
    const struct run_spec *spec, const struct unit_run_ops *ops, void *arg);
/* Follows the run `id` that runs or ran on `host`. */
struct unit_run *hostrun_follow(struct loop *loop, struct remote_host *host, const char *id,
    const struct unit_run_ops *ops, void *arg);

#endif
