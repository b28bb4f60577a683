/* The runner: gantry's one program on a host (src/runner.sh), and the contract with it.
 *
 * Everything gantry does on a host is the runner with a subcommand. Its exit statuses,
 * markers, result names, files and limits are defined here, once: the program sent to a
 * host is a preamble of shell variables made from these tables, then src/runner.sh, which
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

#include "unitcmd.h"

struct remote_host;

/* Raised whenever the runner's subcommands, arguments or replies change meaning. */
#define RUNNER_PROTOCOL 3

/* The runner's exit statuses beyond 0 (done) and 1 (failed, with why on its output):
 * X(NAME, status, meaning) */
#define RUNNER_EXITS(X) \
	X(NOT_NEEDED, 3, "nothing to do: not frozen, not locked, or a run was recorded meanwhile") \
	X(ALIVE, 4, "unlock refused: the run holding the lock is alive") \
	X(UNSAFE, 70, "gantry's files on the host are unsafe to write (a symlink, another owner, " \
	    "writable by others) or cannot be made") \
	X(LOCKED, 75, "another run holds the lock") \
	X(FROZEN, 76, "the environment is frozen") \
	X(NO_RUNNER, 79, "this version of the runner is not on the host") \
	X(TIMEOUT, 124, "a step ran past its timeout (timeout(1)'s status)")

enum runner_exit {
#define RUNNER_EXIT_ENUM(name, status, meaning) RUNNER_EXIT_##name = status,
	RUNNER_EXITS(RUNNER_EXIT_ENUM)
#undef RUNNER_EXIT_ENUM
};

/* How a run ended: X(NAME, word, rank, runner). The runner writes the words marked runner
 * in its end record and last event; the history adds its own: an adoption's baseline, and
 * an end record whose result gantry does not know. rank orders them best to worst: a run
 * recorded by several hosts takes its hosts' worst (a run with no end record, worse still). */
#define RUN_RESULTS(X) \
	X(ADOPTED, "adopted", 1, 0) \
	X(SUCCEEDED, "succeeded", 2, 1) \
	X(CANCELLED, "cancelled", 3, 1) \
	X(ROLLED_BACK, "rolled_back", 4, 1) \
	X(PARTIAL, "partial", 5, 0)     /* it did not reach every host it was meant for */ \
	X(FAILED, "failed", 6, 1) \
	X(ROLLBACK_FAILED, "rollback_failed", 7, 1) \
	X(UNKNOWN, "unknown", 8, 0)

enum run_result {
	RUN_RESULT_NONE,                /* no end recorded (running, interrupted) */
#define RUN_RESULT_ENUM(name, word, rank, runner) RUN_##name,
	RUN_RESULTS(RUN_RESULT_ENUM)
#undef RUN_RESULT_ENUM
};

/* The word for a result ("" for none). */
const char *run_result_name(enum run_result r);
/* The result a word names: NONE for "", UNKNOWN for a word not in the table. */
enum run_result run_result_parse(const char *word);
/* True for the results the runner itself writes. */
bool run_result_by_runner(enum run_result r);
/* Best 1 to worst; NONE (no end record) ranks after every result. */
int run_result_rank(enum run_result r);
/* The app ended on the run's tag and ready: succeeded, or adopted so. */
bool run_result_healthy(enum run_result r);

/* What the runner prints that gantry reads: the start command's first line, a step's
 * end ("==> exit RC after MS ms") and a run's end ("==> run ID ended: RESULT"); every
 * line of its own in a run's output starts with "==> " (a step's header: "==> [step 2/6]
 * NAME"), marked on the host (below). */
#define RUNNER_MARK_STARTED "STARTED"
#define RUNNER_MARK_LOCKED "LOCKED"
#define RUNNER_MARK_FROZEN "FROZEN"
#define RUNNER_MARK_NOTE "==> "   /* the runner's own lines in a run's output, as gantry
                                     passes them on */
/* On the host, a run's own lines start with RUNNER_MARK_NOTE_OPEN, the run's mark (hex
 * from /dev/urandom, made at its start) and a space; the follow command's first line is
 * RUNNER_MARK_LINE and that mark. The steps' output shares the file and cannot know it. */
#define RUNNER_MARK_NOTE_OPEN "==>"
#define RUNNER_MARK_LINE "@@gantry-run-mark@@ "
#define RUNNER_MARK_STEP_EXIT RUNNER_MARK_NOTE "exit "
#define RUNNER_MARK_RUN RUNNER_MARK_NOTE "run "
#define RUNNER_MARK_RUN_ENDED " ended: "

/* The parts of the state reply (the state and watch subcommands), in the order the runner
 * prints them, each after its marker line (src/hostreply.h): X(NAME, word, hex). A part
 * read from a file on the host is hex-encoded there; the others are lines the runner
 * prints itself. */
#define RUNNER_STATE_PARTS(X) \
	X(NOW, "now", false)                    /* the host's clock, Unix seconds */ \
	X(LOCK, "lock", false)                  /* the lock's flags */ \
	X(LOCK_OWNER, "lock-owner", true)       /* its owner file: key=value lines */ \
	X(LOCK_PLAN, "lock-plan", true)         /* a lease's plan (src/lease.h) */ \
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
	RUNNER_SUBS
};

/* The whole program: the preamble made from the tables above, then src/runner.sh. */
const char *runner_program(void);
/* Where a host keeps it, relative to the deploy directory. */
const char *runner_path(void);

/* The command that runs `sub` with args (nargs of them, each quoted) through the
 * installed runner, exiting RUNNER_EXIT_NO_RUNNER when it is not there. Newly allocated. */
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
