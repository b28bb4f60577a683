/* A live log of one environment: the same log on each of its units (hosts), lines merged,
 * each unit's log started, restarted with backoff and named through its target's ops
 * (log, link, relink), whatever carries it. */
#ifndef GANTRY_LOGSTREAM_H
#define GANTRY_LOGSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "logbuf.h"
#include "link.h"
#include "loop.h"
#include "unitcmd.h"

struct target;

#define LOG_LINE_MAX 8192               /* bytes of one line kept; the rest is counted */
#define LOGSTREAM_OVERLAP 3             /* lines a resumed log must repeat to be the same log */

enum logstream_state {
	LS_CONNECTING,                  /* waiting for the host or the command to start */
	LS_LIVE,                        /* the command runs; lines arrive */
	LS_RECONNECTING,                /* lost, or not reachable: trying again */
	LS_ENDED,                       /* the command exited (status in exit_status) */
	LS_STOPPED,                     /* stopped by gantry */
};

struct logstream_host {
	struct logstream *ls;
	size_t unit;                    /* its index in the target's units */
	struct unit_cmd *cmd;
	enum logstream_state state;
	int exit_status;                /* LS_ENDED: the command's status, -1 for a signal */
	char message[1200];             /* why it is reconnecting or ended, sanitized */
	char *partial;                  /* a line still without its newline */
	size_t partial_len;
	size_t cut;                     /* bytes of the current line beyond LOG_LINE_MAX */
	int attempts;                   /* reconnects since the last start */
	int64_t lost_at;                /* monotonic ms; 0 when not lost */
	int64_t retry_at;
	uint64_t retry_timer;
	bool resumed_once;              /* started again after a loss or an end */
	uint64_t bytes;                 /* received, for the bench and the status line */
	/* a resumed command asks for the whole tail again; what it repeats is dropped */
	char *last[LOGSTREAM_OVERLAP];  /* this host's newest lines, oldest first */
	size_t last_len;
	bool skipping;                  /* holding lines until they meet `last`, or not */
	char **held;                    /* the lines held meanwhile */
	size_t held_len, held_cap, held_bytes;
	uint64_t quiet_timer;           /* no line for a while: the held lines are new */
};

typedef void (*logstream_changed_fn)(void *arg);

struct logstream {
	struct loop *loop;
	const struct conf_env *env;
	const struct target *target;    /* NULL: fed by logstream_feed */
	enum log_source source;
	bool follow;
	struct logbuf *buf;
	struct logstream_host *hosts;
	size_t hosts_len;
	logstream_changed_fn changed;
	void *changed_arg;
	uint64_t lines;                 /* lines received since the start */
};

/* Starts `source` on the units listed (indices) of target t; lines land in a buffer of
 * the environment's scrollback lines. With follow, lost logs restart with backoff. */
struct logstream *logstream_new(const struct target *t, const size_t *units, size_t n,
    enum log_source source, bool follow);
/* A stream of n units of env that starts nothing: lines come from logstream_feed (tests,
 * fuzzing). */
struct logstream *logstream_new_fed(const struct conf_env *env, size_t n, enum log_source source);
void logstream_free(struct logstream *ls);

/* Splits bytes from a host's command into sanitized lines in the buffer. */
void logstream_feed(struct logstream *ls, size_t host, const char *data, size_t len, bool is_stderr);

/* Called after lines arrived or a state changed (for a redraw). */
void logstream_set_listener(struct logstream *ls, logstream_changed_fn fn, void *arg);

/* Starts again every host whose command ended or failed. */
void logstream_restart(struct logstream *ls);

/* The stream's state as a whole: the worst of its hosts. */
enum logstream_state logstream_state(const struct logstream *ls);
/* One line for the user: "live", "reconnecting in 4s: ...", "ended (exit 0)". */
void logstream_describe(const struct logstream *ls, int64_t now, char *out, size_t outsz);
/* Unit i of the stream: its name (a host's address), and its link now. */
const char *logstream_unit_name(const struct logstream *ls, size_t i);
void logstream_unit_link(const struct logstream *ls, size_t i, int64_t now, struct link_status *out);
/* True when every host's command has ended or been stopped. */
bool logstream_done(const struct logstream *ls);
/* The first non-zero exit status, or 0. */
int logstream_exit_status(const struct logstream *ls);

#endif
