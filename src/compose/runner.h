/* The runner: gantry's one program on a host (src/compose/runner.sh), and the contract with it.
 *
 * Everything gantry does on a host is the runner with a subcommand. Its exit statuses,
 * markers, result names, files and limits are defined here, once: the program sent to a
 * host is a preamble of shell variables made from these tables, then src/compose/runner.sh, which
 * names them only through those variables (tests/unit/check_runner.c holds it to that).
 *
 * A host keeps the runner at .gantry/bin/runner-<protocol>-<hash of the program>. A
 * command first looks for that file; when it is missing (a new host, or one another
 * gantry version installed), gantry installs it and runs the command again; in read-only
 * mode nothing is written: the program goes along with the command instead. */
#ifndef GANTRY_RUNNER_H
#define GANTRY_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "runevent.h"
#include "runresult.h"
#include "unitcmd.h"

struct remote_host;

/* Raised whenever the runner's subcommands, arguments or replies change meaning. */
#define RUNNER_PROTOCOL 4

/* The runner's exit statuses are the unit commands' (src/runresult.h): X(NAME, status,
 * meaning), each a shell variable of the preamble. */
#define RUNNER_EXITS(X) UNIT_EXITS(X)

/* What the runner prints that gantry reads: the start command's first line, a step's
 * end ("==> exit RC after MS ms") and a run's end ("==> run ID ended: RESULT"); every
 * line of its own in a run's output starts with "==> " (a step's header: "==> [step 2/6]
 * NAME"), marked on the host (below). */
#define RUNNER_MARK_STARTED "STARTED"
#define RUNNER_MARK_LOCKED "LOCKED"
#define RUNNER_MARK_FROZEN "FROZEN"
#define RUNNER_MARK_NOTE UNIT_NOTE       /* the runner's own lines in a run's output, as gantry
                                           passes them on (src/runevent.h) */
/* On the host, a run's own lines start with RUNNER_MARK_NOTE_OPEN, the run's mark (hex
 * from /dev/urandom, made at its start) and a space; the follow command's first line is
 * RUNNER_MARK_LINE and that mark. The steps' output shares the file and cannot know it. */
#define RUNNER_MARK_NOTE_OPEN "==>"
#define RUNNER_MARK_LINE "@@gantry-run-mark@@ "
#define RUNNER_MARK_STEP_EXIT UNIT_NOTE_STEP_EXIT
#define RUNNER_MARK_RUN UNIT_NOTE_RUN
#define RUNNER_MARK_RUN_ENDED UNIT_NOTE_RUN_ENDED

/* The parts of the state reply (the state and watch subcommands), in the order the runner
 * prints them, each after its marker line (src/compose/hostreply.h): X(NAME, word, hex). A part
 * read from a file on the host is hex-encoded there; the others are lines the runner
 * prints itself. */
#define RUNNER_STATE_PARTS(X) \
	X(NOW, "now", false)                    /* the host's clock, Unix seconds */ \
	X(LOCK, "lock", false)                  /* the lock's flags */ \
	X(LOCK_OWNER, "lock-owner", true)       /* its owner file: key=value lines */ \
	X(LOCK_PLAN, "lock-plan", true)         /* a lease's plan (src/lease.h) */ \
	X(LOCK_DRIVER, "lock-driver", true)     /* a rollout's driver (src/drive.h) */ \
	X(LOCK_REQUEST, "lock-request", true)   /* and the request waiting for it */ \
	X(FREEZE, "freeze", false)              /* the freeze's flag */ \
	X(FREEZE_FILE, "freeze-file", true) \
	X(CURRENT, "current", true)             /* the last run started */ \
	X(ENV_STATUS, "deploy.env-status", false)       /* 0, or a RUNNER_ENV_ word */ \
	X(ENV, "deploy.env", true) \
	X(ENV_MTIME, "deploy.env-mtime", false) \
	X(RUN_START, "run-start", true)         /* the lock's run: its start record */ \
	X(RUN_EVENTS, "run-events", true)       /* and its last events */ \
	X(CURRENT_RUN, "current-run", true)     /* the current run's start and end records */ \
	X(HISTORY_SIZE, "history-size", false)  /* state only */ \
	X(HISTORY, "history", true)             /* state only: its newest part */ \
	X(END, "end", false)

/* The parts of the drive subcommand's reply: the driver that holds the rollout when it
 * is another's (a live one), the request waiting for the driver. */
#define RUNNER_DRIVE_PARTS(X) \
	X(DRIVER, "driver", true) \
	X(REQUEST, "request", true) \
	X(END, "end", false)

/* The flags of the state's plain parts: a line "WORD=1" when it holds. */
#define RUNNER_FLAG_HELD "held"         /* lock: the lock is taken */
#define RUNNER_FLAG_PID "pid"           /* lock: it names its runner's pid */
#define RUNNER_FLAG_ALIVE "alive"       /* lock: and that pid answers */
#define RUNNER_FLAG_FROZEN "frozen"     /* freeze */
/* deploy.env-status when there is nothing to read (else head's exit status) */
#define RUNNER_ENV_MISSING "missing"
#define RUNNER_ENV_NOT_A_FILE "not-a-file"
/* The words of a run's events (src/runevent.h): "<ms> run start", "<ms> step|rollback N
 * start", "<ms> step|rollback N end STATUS MS", "<ms> cancel accepted|refused", "<ms>
 * rollback start", "<ms> run end RESULT". */
#define RUNNER_EV_RUN "run"
#define RUNNER_EV_STEP "step"
#define RUNNER_EV_ROLLBACK "rollback"
#define RUNNER_EV_START "start"
#define RUNNER_EV_END "end"
#define RUNNER_EV_CANCEL "cancel"
#define RUNNER_EV_ACCEPTED "accepted"
#define RUNNER_EV_REFUSED "refused"

/* The subcommands gantry runs (the runner's own start/run go through run.sh). */
enum runner_sub {
	RUNNER_VERSION,                 /* prints "gantry-runner PROTOCOL" */
	RUNNER_STATE,                   /* the framed state with the history (src/hoststate) */
	RUNNER_WATCH,                   /* the same without the history */
	RUNNER_FOLLOW,                  /* RUN: its events on stderr, output on stdout, to its end */
	RUNNER_CANCEL,                  /* RUN: asks the runner of that run to stop */
	RUNNER_ADOPT,                   /* RECORD: the baseline, where no run was recorded */
	RUNNER_FREEZE,                  /* OPERATOR REASON NOTE */
	RUNNER_UNFREEZE,                /* NOTE */
	RUNNER_UNLOCK,                  /* NOTE: breaks a lock whose run is dead */
	RUNNER_LEASE,                   /* RUN ACTION OPERATOR MESSAGE PLAN: the lock taken for a
	                                   run over several hosts, its plan kept in it; prints
	                                   LOCKED or FROZEN as the start command does */
	RUNNER_RELEASE,                 /* RUN: that run's lease let go */
	RUNNER_HTTP_GET,                /* URL MAX-BYTES: the body of a 2xx answer */
	RUNNER_TIED,                    /* COMMAND: runs it until it ends or the channel closes */
	RUNNER_COMPOSE_CHECK,           /* COMPOSE: COMPOSE config -q, once deploy.env is there */
	RUNNER_DRIVE,                   /* RUN TOKEN RECORD ACK: the rollout's driver record beside
	                                   RUN's lease, claimed or renewed for TOKEN (another live
	                                   driver: exit LOCKED with its record), cleared with
	                                   state=left; clears the request ACK; the reply's parts
	                                   are RUNNER_DRIVE_PARTS */
	RUNNER_ASK,                     /* RUN REQUEST: a request beside RUN's lease, for its
	                                   driver (it replaces one not yet answered) */
	RUNNER_SUBS
};

/* The whole program: the preamble made from the tables above, then src/compose/runner.sh. */
const char *runner_program(void);
/* Where a host keeps it, relative to the deploy directory. */
const char *runner_path(void);

/* The command that runs `sub` with args (nargs of them, each quoted) through the
 * installed runner, exiting UNIT_EXIT_NO_RUNNER when it is not there. Newly allocated. */
char *runner_command(enum runner_sub sub, const char *const *args, size_t nargs);
/* The same that first installs the runner (a write under .gantry). */
char *runner_install_command(enum runner_sub sub, const char *const *args, size_t nargs);
/* The same with the program sent along, writing nothing. */
char *runner_inline_command(enum runner_sub sub, const char *const *args, size_t nargs);

/* Runs a subcommand on a host: through the installed runner, installing it (or, on a
 * read-only remote, sending it along) when it is missing. */
struct unit_cmd *runner_run(struct remote_host *host, enum runner_sub sub,
    const char *const *args, size_t nargs, const struct unit_cmd_ops *ops, void *arg);

/* The command that writes a run's run.sh (its facts, then the program) under
 * .gantry/runs/ID and starts it; it prints STARTED, LOCKED or FROZEN. */
char *runner_start_command(const char *run_id, const char *script);

#endif
