/* SSH to environment hosts: one non-blocking libssh session per host, on the loop. */
#ifndef GANTRY_REMOTE_H
#define GANTRY_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "link.h"
#include "loop.h"
#include "unitcmd.h"

/*
 * A host connects when a command first needs it, and stays connected for the
 * commands after (each is a channel of the one session). Every step is
 * non-blocking: name lookup runs on a helper thread, the TCP connect, the SSH
 * handshake, the host key check and the login all advance from loop callbacks.
 * After a failure, the next attempt waits (1 s, doubling to 30 s; 60 s after a
 * refused key or login) unless remote_host_retry_now() is called.
 */


struct remote;
struct remote_host;

typedef void (*remote_listener_fn)(void *arg, struct remote_host *host);

struct remote *remote_new(struct loop *loop);
/* Read-only: nothing is written, not even a new host key (trust_new_host_keys is ignored). */
void remote_set_read_only(struct remote *remote, bool read_only);
void remote_free(struct remote *remote);

/* Called whenever a host's state changes (for redraws). */
void remote_set_listener(struct remote *remote, remote_listener_fn fn, void *arg);

/* A host of an environment; owned by the remote, which keeps env and host pointers. */
struct remote_host *remote_host_add(struct remote *remote, const struct conf_env *env,
    const struct conf_host *host);

enum link_state remote_host_state(const struct remote_host *host);
/* What went wrong last, sanitized, with what to do about it; "" when nothing did. */
const char *remote_host_message(const struct remote_host *host);
/* Milliseconds until the next connection attempt, or -1 when none is scheduled. */
int64_t remote_host_retry_in(const struct remote_host *host, int64_t now);
const struct conf_host *remote_host_conf(const struct remote_host *host);
const struct conf_env *remote_host_env(const struct remote_host *host);

/* Forgets the backoff: the next command connects at once (on the next loop turn). */
void remote_host_retry_now(struct remote_host *host);

/* True when a command starts with a VAR=value assignment (it then runs through env). */
bool remote_starts_with_assignment(const char *command);

/* Runs `command` (a struct unit_cmd over SSH) in the host's deploy directory (through the login shell, as
 * `cd DIR && exec COMMAND`, `exec env COMMAND` when it starts with VAR=value, without
 * exec for a list or pipeline). Connects first when needed. */
struct unit_cmd *remote_run(struct remote_host *host, const char *command,
    const struct unit_cmd_ops *ops, void *arg);

/* The same, but when `command` exits with `status` without a byte of output, `instead`
 * runs in its place, for the same callbacks (the runner uses this when it is missing). */
struct unit_cmd *remote_run_or(struct remote_host *host, const char *command, int status,
    const char *instead, const struct unit_cmd_ops *ops, void *arg);

/* True when the remote writes nothing (remote_set_read_only). */
bool remote_host_read_only(const struct remote_host *host);

/* A command is stopped with unit_cmd_stop(): its channel closes (no callback after
 * that), and the command is freed from the loop. */

#endif
