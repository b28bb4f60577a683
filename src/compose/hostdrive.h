/* A rollout's driver on a compose host: the runner's drive and ask subcommands, their
 * framed replies read into src/drive.h's records. */
#ifndef GANTRY_HOSTDRIVE_H
#define GANTRY_HOSTDRIVE_H

#include "drive.h"
#include "unitcmd.h"

struct remote_host;

/* The driver's record `rec` beside run `run`'s lease on the host; `done` once, unless
 * the returned command is stopped first. */
struct unit_cmd *hostdrive_beat(struct remote_host *host, const char *run,
    const struct drive_record *rec, const char *ack, unit_drive_fn done, void *arg);
/* A request for that driver; the runner's exit statuses say how (NOT_NEEDED: no lease
 * of `run` holds the host). */
struct unit_cmd *hostdrive_ask(struct remote_host *host, const char *run,
    const struct drive_request *req, const struct unit_cmd_ops *ops, void *arg);

#endif
