/* SSH to environment hosts: one non-blocking libssh session per host, on the loop. */
#ifndef GANTRY_REMOTE_H
#define GANTRY_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "link.h"
#include "loop.h"

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
struct remote_cmd;

/* How a command ended. */
enum remote_end {
	REMOTE_EXITED,                  /* exit status in `status` */
	REMOTE_SIGNALLED,               /* killed by a signal (`message`: "killed by SIGX on the host") */
	REMOTE_LOST,                    /* the connection dropped while it ran */
	REMOTE_FAILED,                  /* never ran: the host is not reachable (see `message`) */
};

struct remote_cmd_ops {
	/* The command runs on the host now (optional). */
	void (*started)(void *arg);
	/* Bytes of output as they arrive; untrusted. */
	void (*output)(void *arg, const char *data, size_t len, bool is_stderr);
	/* Called once at the end, never after remote_cmd_stop(); the command is freed after. */
	void (*done)(void *arg, enum remote_end how, int status, const char *message);
	/* A one-shot command (a read, a write of a record): when it has not ended within the
	 * environment's command_timeout, done says so (REMOTE_FAILED) and it is stopped.
	 * Follows and logs run for as long as they are wanted. */
	bool bounded;
};

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

/* Runs `command` in the host's deploy directory (through the login shell, as
 * `cd DIR && exec COMMAND`, `exec env COMMAND` when it starts with VAR=value, without
 * exec for a list or pipeline). Connects first when needed. */
struct remote_cmd *remote_run(struct remote_host *host, const char *command,
    const struct remote_cmd_ops *ops, void *arg);

/* The same, but when `command` exits with `status` without a byte of output, `instead`
 * runs in its place, for the same callbacks (the runner uses this when it is missing). */
struct remote_cmd *remote_run_or(struct remote_host *host, const char *command, int status,
    const char *instead, const struct remote_cmd_ops *ops, void *arg);

/* True when the remote writes nothing (remote_set_read_only). */
bool remote_host_read_only(const struct remote_host *host);

/* Stops a command: the remote process gets SIGTERM and the channel closes; no
 * callback is called after this, and the command is freed. */
void remote_cmd_stop(struct remote_cmd *cmd);

#endif
