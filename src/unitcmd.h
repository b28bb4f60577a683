/* A command on one unit of a target (for compose over SSH, a host), whatever carries it:
 * its output as it arrives, then how it ended, told through unit_cmd_ops. Each kind of
 * target makes its own behind struct unit_cmd's class (src/compose/remote.c: over SSH), so the
 * engine, the command line and the console hold and stop commands without knowing how
 * they run. */
#ifndef GANTRY_UNITCMD_H
#define GANTRY_UNITCMD_H

#include <stdbool.h>
#include <stddef.h>

/* How a command ended. */
enum unit_end {
	UNIT_EXITED,                    /* exit status in `status` */
	UNIT_SIGNALLED,                 /* killed by a signal (`message`: "killed by SIGX on the host") */
	UNIT_LOST,                      /* the link dropped while it ran */
	UNIT_FAILED,                    /* never ran: the unit is not reachable (see `message`) */
};

struct unit_cmd_ops {
	/* The command runs on the unit now (optional). */
	void (*started)(void *arg);
	/* Bytes of output as they arrive; untrusted. */
	void (*output)(void *arg, const char *data, size_t len, bool is_stderr);
	/* Called once at the end, never after unit_cmd_stop(); the command is freed after. */
	void (*done)(void *arg, enum unit_end how, int status, const char *message);
	/* A one-shot command (a read, a write of a record): when it has not ended within the
	 * environment's command_timeout, done says so (UNIT_FAILED) and it is stopped.
	 * Follows and logs run for as long as they are wanted. */
	bool bounded;
};

struct unit_cmd;

/* What each kind of command does when it is stopped. */
struct unit_cmd_class {
	void (*stop)(struct unit_cmd *cmd);
};

/* The head of every target's command struct. */
struct unit_cmd {
	const struct unit_cmd_class *cls;
};

/* Stops a command (NULL is ignored): no callback after this; what runs on the unit is
 * ended the way its target ends it. */
static inline void unit_cmd_stop(struct unit_cmd *cmd)
{
	if (cmd)
		cmd->cls->stop(cmd);
}

#endif
