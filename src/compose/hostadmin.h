/* Host admin: freeze, unfreeze and unlock an environment's host, each the runner's own
 * subcommand, with a note of who did it and why written to the host's history. */
#ifndef GANTRY_HOSTADMIN_H
#define GANTRY_HOSTADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "unitcmd.h"

struct remote_host;
#include "runner.h"

/* The runner subcommand and arguments of an admin action. */
struct hostadmin_call {
	enum runner_sub sub;
	const char *args[3];
	size_t nargs;
	char *note, *reason;            /* owned */
};
/* `at`: the note's time (Unix seconds), and its id: the same on every host of an
 * environment, so the histories merge it into one. */
void hostadmin_call(enum unit_admin kind, const char *env, const char *operator,
    const char *message, int64_t at, struct hostadmin_call *c);
void hostadmin_call_free(struct hostadmin_call *c);

/* Freezes, unfreezes or breaks the lock (refused while its run lives) on a host,
 * recording a note with the operator and the reason in the history: the runner's exit
 * statuses say how (UNIT_EXIT_NOT_NEEDED: "not frozen", "not locked"; ALIVE; UNSAFE). */
struct unit_cmd *hostadmin_run(struct remote_host *host, enum unit_admin kind,
    const char *env, const char *operator, const char *message, int64_t at,
    const struct unit_cmd_ops *ops, void *arg);

#endif
