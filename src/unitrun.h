/* One run on one unit of a target (for compose over SSH, a host): started or followed by
 * the target (target.h's start and follow ops), it tells what it hears as typed callbacks
 * and decides nothing about the deploy it belongs to. Each kind of target makes its own
 * behind struct unit_run's class (src/compose/hostrun.c: the runner over SSH). */
#ifndef GANTRY_UNITRUN_H
#define GANTRY_UNITRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "hoststate.h"
#include "runevent.h"

/* Why a run did not start. */
enum unit_run_refusal {
	UNIT_RUN_LOCKED,                 /* another run holds the lock: `lock` is its owner */
	UNIT_RUN_FROZEN,                 /* frozen: `text` is why */
	UNIT_RUN_FAILED,                 /* the start command failed: `status`, `text` */
	UNIT_RUN_LINK,                   /* the link dropped while starting (it may have
	                                   started): `text` is why */
};

struct unit_run_not_started {
	enum unit_run_refusal why;
	int status;
	char text[200];                 /* sanitized, one line */
	struct host_lock lock;
};

struct unit_run_ops {
	/* the run started; it is followed from now on */
	void (*started)(void *arg);
	void (*not_started)(void *arg, const struct unit_run_not_started *n);
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

struct unit_run;

/* What each kind of run does when asked. */
struct unit_run_class {
	bool (*cancel)(struct unit_run *r);
	void (*free)(struct unit_run *r);
};

/* The head of every target's run struct. */
struct unit_run {
	const struct unit_run_class *cls;
};

/* Asks the run to stop (its answer comes as a cancel event); false when it cannot be
 * asked (an id gantry could not have written, a cancel already sent). */
static inline bool unit_run_cancel(struct unit_run *r)
{
	return r->cls->cancel(r);
}

/* Stops starting or following (NULL is ignored); the run goes on on its unit. No
 * callback after this. */
static inline void unit_run_free(struct unit_run *r)
{
	if (r)
		r->cls->free(r);
}

#endif
