/* One run on one host: starts it (the runner's start, through the run.sh it writes),
 * follows its events and output to its end (again after a dropped link, the host
 * replaying from the start, only new lines passed on), and asks it to cancel. What it
 * hears comes as typed callbacks; it decides nothing about the deploy it belongs to. */
#ifndef GANTRY_HOSTRUN_H
#define GANTRY_HOSTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "hoststate.h"
#include "loop.h"
#include "remote.h"
#include "runevent.h"
#include "runscript.h"

/* Why a run did not start. */
enum hostrun_refusal {
	HOSTRUN_LOCKED,                 /* another run holds the lock: `lock` is its owner */
	HOSTRUN_FROZEN,                 /* frozen: `text` is why */
	HOSTRUN_FAILED,                 /* the start command failed: `status`, `text` */
	HOSTRUN_LINK,                   /* the link dropped while starting (it may have
	                                   started): `text` is why */
};

struct hostrun_not_started {
	enum hostrun_refusal why;
	int status;
	char text[200];                 /* sanitized, one line */
	struct host_lock lock;
};

struct hostrun_ops {
	/* the run started; it is followed from now on */
	void (*started)(void *arg);
	void (*not_started)(void *arg, const struct hostrun_not_started *n);
	/* following begins (again, after a dropped link): events come from the run's start */
	void (*replay)(void *arg);
	void (*event)(void *arg, const struct run_event *ev);
	/* a new line of output, sanitized, NUL-terminated; the callee owns it */
	void (*output)(void *arg, char *line, size_t len);
	void (*heard)(void *arg);       /* after each batch of events and output */
	/* the run ended: its end event and its end marker were both seen */
	void (*ended)(void *arg);
	void (*lost)(void *arg, const char *why);       /* the link dropped; re-following */
	void (*follow_failed)(void *arg, int status);   /* the follow command failed */
	void (*cancel_failed)(void *arg);               /* the cancel was not delivered */
};

struct hostrun;

/* Starts the run `spec` describes on `host`, then follows it. */
struct hostrun *hostrun_start(struct loop *loop, struct remote_host *host,
    const struct run_spec *spec, const struct hostrun_ops *ops, void *arg);
/* Follows the run `id` that runs or ran on `host`. */
struct hostrun *hostrun_follow(struct loop *loop, struct remote_host *host, const char *id,
    const struct hostrun_ops *ops, void *arg);
/* Asks the run's runner to stop (its answer comes as a cancel event); false when the
 * run's id is not one gantry could have written. */
bool hostrun_cancel(struct hostrun *r);
/* Stops starting or following; the run goes on on its host. No callback after this. */
void hostrun_free(struct hostrun *r);

#endif
