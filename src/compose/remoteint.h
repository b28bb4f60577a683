/* The SSH client's own state, shared by its files and no other module: remote.c (the
 * connections, the commands over them) and remotesession.c (a session's options, host
 * keys, a command's line). The public face is remote.h. */
#ifndef GANTRY_REMOTEINT_H
#define GANTRY_REMOTEINT_H

#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "remote.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define BACKOFF_REFUSED_MS 60000        /* after a refused key or login: the user must act */

/* A name lookup on a helper thread; shared by the thread and the host, freed by the last. */
struct resolve_job {
	atomic_int refs;
	int fds[2];                     /* socketpair: [0] read by the loop, [1] written by the thread */
	char host[256];
	char port[8];
	struct addrinfo *res;
	int err;
};

enum phase { PH_NONE, PH_RESOLVE, PH_TCP, PH_HANDSHAKE, PH_AUTH, PH_UP };

enum cmd_phase { CMD_QUEUED, CMD_OPENING, CMD_EXEC, CMD_RUNNING };

struct remote_cmd {
	struct unit_cmd base;           /* first: a unit_cmd is a remote_cmd here */
	struct remote_host *host;
	struct remote_cmd *next;
	char *command;                  /* the full command sent */
	char *instead;                  /* remote_run_or: run in its place after instead_status */
	int instead_status;
	bool had_output;                /* stdout came (stderr alone may be a login shell's
	                                   noise: the fallback still runs) */
	const struct unit_cmd_ops *ops;
	void *arg;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	enum cmd_phase phase;
	bool stopped;                   /* unit_cmd_stop(): reaped after the current callback */
	bool closed;                    /* the remote closed the channel */
	bool got_status;
	int status;
	char signal[32];
	uint64_t deadline_timer;        /* a bounded command's command_timeout; 0 none */
};

struct remote_host {
	struct remote *remote;
	struct remote_host *next;
	const struct conf_env *env;
	const struct conf_host *conf;
	enum link_state state;
	char message[1200];
	enum phase phase;
	ssh_session session;
	ssh_event event;
	int fd;                         /* the socket being watched, -1 for none */
	bool fd_ours;                   /* still ours to close (not yet handed to libssh) */
	struct resolve_job *job;
	struct addrinfo *addrs, *addr_next;
	char target[300];               /* host and port after ~/.ssh/config, for messages */
	uint64_t timeout_timer, retry_timer, reap_timer;
	int64_t next_attempt;           /* monotonic ms; no attempt before */
	int failures;
	struct remote_cmd *cmds;
};

struct remote {
	struct loop *loop;
	struct remote_host *hosts;
	remote_listener_fn listener;
	void *listener_arg;
	char home[512];                 /* $HOME, else the passwd entry's */
	bool read_only;                 /* writes nothing, known_hosts included */
};

/* ---- remote.c ---- */

/* A failed attempt or a lost session: the host's state and message (sanitized), every
 * command in flight ended, the next attempt scheduled. */
void host_fail(struct remote_host *h, enum link_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- remotesession.c ---- */

/* Reads ~/.ssh/config (and the system's) and gantry.yml's settings into the session;
 * false after failing the host. */
bool session_options(struct remote_host *h);
/* The command line run on the host for `command`: in its deploy directory, exec'd where
 * it can be. Newly allocated. */
char *full_command(const struct remote_host *h, const char *command);

/* Checks the server's key against the known_hosts files (trusting a new one only as the
 * configuration allows); false after failing the host. */
bool host_check_key(struct remote_host *h);
/* Each of `files` (a NULL-terminated list) that exists may check keys: no other account
 * could have written it; false after failing the host. */
bool known_hosts_trusted(struct remote_host *h, const char *const files[]);

#endif
