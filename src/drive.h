/* A rollout's driver and the requests made to it. A rollout in waves has one driver at a
 * time: the gantry that starts its units and decides at its gates. It names itself on the
 * environment's first unit, beside the lease, and renews that record (its beat) while it
 * drives; another gantry sees who drives, whether the beat is fresh, and where the
 * rollout stands. An operator elsewhere asks the driver to pause, resume or abort with a
 * request kept beside it, which the driver answers and clears. A driver whose beat went
 * stale (its console died, its link dropped) may be taken over; one that stops driving
 * lets go at once. This module writes and reads the two records: key=value lines, read
 * back untrusted. Pure: no I/O. */
#ifndef GANTRY_DRIVE_H
#define GANTRY_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DRIVE_MAX_BYTES 4096            /* a record read from a unit: at most this */
#define DRIVE_STALE_MIN_S 5             /* a beat counts at least this long */
#define DRIVE_STALE_MAX_S 600           /* and at most this */

/* Where the rollout stands, as its driver says: X(NAME, word) */
#define DRIVE_STATES(X) \
	X(RUNNING, "running")           /* a wave runs, soaks or is checked */ \
	X(PAUSED, "paused")             /* waiting for an operator */ \
	X(ABORTING, "aborting")         /* every unit that moved goes back */ \
	X(LEFT, "left")                 /* the driver let go (a record never kept) */

enum drive_state {
#define DRIVE_STATE_ENUM(name, word) DRIVE_##name,
	DRIVE_STATES(DRIVE_STATE_ENUM)
#undef DRIVE_STATE_ENUM
};

/* What an operator asks of the driver: X(NAME, word) */
#define DRIVE_ASKS(X) \
	X(PAUSE, "pause") \
	X(RESUME, "resume") \
	X(ABORT, "abort")

enum drive_ask {
#define DRIVE_ASK_ENUM(name, word) DRIVE_ASK_##name,
	DRIVE_ASKS(DRIVE_ASK_ENUM)
#undef DRIVE_ASK_ENUM
};

struct drive_record {
	bool present;                   /* a unit keeps one */
	char token[40];                 /* which gantry drives (random, made at its start) */
	char by[128];                   /* its operator */
	int64_t beat;                   /* the unit's clock at its last beat, Unix seconds */
	int64_t stale_s;                /* how long a beat counts */
	enum drive_state state;
	size_t wave;                    /* the wave it is in (1-based) */
	char why[200];                  /* paused: why */
};

struct drive_request {
	bool present;
	char id[40];                    /* answered by this id */
	enum drive_ask ask;
	char by[128];                   /* who asks */
	int64_t at;                     /* the unit's clock when asked */
	char why[200];
};

/* What a unit answered a driver's beat: held (renewed, or let go), another live driver
 * holds the rollout, the lease is gone (the rollout ended or was broken), or the command
 * failed. */
enum drive_answer { DRIVE_HELD, DRIVE_TAKEN, DRIVE_GONE, DRIVE_FAILED };

/* A beat's answer: `other` the live driver that holds it (TAKEN), `req` the request
 * waiting (HELD; NULL when none), `why` what went wrong (GONE, FAILED). */
typedef void (*unit_drive_fn)(void *arg, enum drive_answer answer,
    const struct drive_record *other, const struct drive_request *req, const char *why);

/* The record's lines as the driver hands them to its unit, which adds `beat=` from its
 * own clock; values are made one printable line. Newly allocated. */
char *drive_record_text(const struct drive_record *r);
/* A record read from a unit: false when it is not one gantry writes (then `out` has
 * present false). */
bool drive_record_parse(const char *text, size_t len, struct drive_record *out);
/* The same for a request (the unit adds `at=`). */
char *drive_request_text(const struct drive_request *r);
bool drive_request_parse(const char *text, size_t len, struct drive_request *out);

/* Whether the record's driver still drives, by the unit's clock `now`. */
bool drive_live(const struct drive_record *r, int64_t now);
/* How long a beat counts for a driver that beats every interval_ms. */
int64_t drive_stale_s(int64_t interval_ms);
/* A new token or request id: hex from the system's random source. */
void drive_new_token(char *out, size_t outsz);

const char *drive_state_name(enum drive_state s);
const char *drive_ask_name(enum drive_ask a);
/* The ask a word names; false when none does. */
bool drive_ask_of(const char *word, enum drive_ask *out);

#endif
