/* The event bus: what happens to deploys and hosts, as typed events, to any number of
 * listeners (the TUI, the command line's printer, later notifications). A listener
 * picks the kinds it wants; it may stop listening, or add a listener, from its own
 * callback. Events are delivered at once, in the order they are emitted. */
#ifndef GANTRY_BUS_H
#define GANTRY_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runresult.h"

/* X(NAME, word): what each event says (the fields it fills beyond env and operator) */
#define BUS_EVENTS(X) \
	X(PLANNED, "planned")           /* the plan waits for a confirmation: deploy */ \
	X(REFUSED, "refused")           /* a guard said no (deploy's verdict): deploy */ \
	X(STARTED, "started")           /* a run started on a host, its lock taken (or is
	                                   followed again): deploy, host */ \
	X(STEP_STARTED, "step started") /* deploy, host, step */ \
	X(STEP_ENDED, "step ended")     /* deploy, host, step, status */ \
	X(SWITCHED, "switched")         /* the switch step started on a host: deploy, host */ \
	X(OUTPUT, "output")             /* a new line of a run's output: deploy, host, text */ \
	X(READY, "ready")               /* a host's run succeeded: its app answered ready on
	                                   the tag: deploy, host */ \
	X(FAILED, "failed")             /* a host's run failed: deploy, host, result */ \
	X(ROLLED_BACK, "rolled back")   /* a host's run failed and went back by itself:
	                                   deploy, host, result */ \
	X(CANCEL, "cancel")             /* a cancel asked or answered: deploy, host, text */ \
	X(LINK, "link")                 /* a host's link dropped, or a follow failed:
	                                   deploy, host, text */ \
	X(RETAGGED, "retagged")         /* deploy.retag's tags were moved to the build once
	                                   every host was ready, or could not be: deploy,
	                                   text (which, or why not) */ \
	X(PAUSED, "paused")             /* a rollout in waves paused at a wave's gate: deploy,
	                                   text (why) */ \
	X(RESUMED, "resumed")           /* an operator resumed it: deploy */ \
	X(ABORTED, "aborted")           /* an operator aborted it: deploy */ \
	X(EMERGENCY, "emergency rollback")      /* an emergency rollback started: deploy, text
	                                   (its reason) */ \
	X(ENDED, "ended")               /* the deploy ended: deploy, result */ \
	X(LINK_CHANGED, "link changed") /* a unit's link changed state, deploy or not: host,
	                                   text (its state's word; the target's link op says
	                                   the rest) */ \
	X(LOCK_BROKEN, "lock broken")   /* gantry unlock: host, text (the reason) */ \
	X(FROZEN, "frozen")             /* host, text (the reason) */ \
	X(UNFROZEN, "unfrozen")         /* host, text */

enum bus_kind {
#define BUS_KIND_ENUM(name, word) BUS_##name,
	BUS_EVENTS(BUS_KIND_ENUM)
#undef BUS_KIND_ENUM
	BUS_KINDS
};

#define BUS_MASK(kind) (UINT32_C(1) << (kind))
#define BUS_ALL (BUS_MASK(BUS_KINDS) - 1)

struct deploy;

struct bus_event {
	enum bus_kind kind;
	const char *env;
	struct deploy *deploy;          /* NULL for a host admin action */
	size_t host;                    /* the host's index in the environment */
	const char *host_name;          /* its address ("" none) */
	size_t step;                    /* 0-based, into the host's steps (rollback ones last) */
	const char *step_name;
	int status;                     /* a step's exit status */
	enum run_result result;
	const char *text;               /* an output line, a cancel's word, a link's status,
	                                   an admin action's reason */
	const char *operator;
};

/* The event's word ("step started"). */
const char *bus_kind_name(enum bus_kind kind);

struct bus;
typedef void (*bus_fn)(void *arg, const struct bus_event *ev);

struct bus *bus_new(void);
void bus_free(struct bus *bus);
/* Listens to the kinds in `mask` (BUS_ALL: every one); returns an id for bus_unlisten. */
unsigned bus_listen(struct bus *bus, uint32_t mask, bus_fn fn, void *arg);
/* Stops a listener; none of its callbacks runs after this. 0 is ignored. */
void bus_unlisten(struct bus *bus, unsigned id);
/* Delivers ev to every listener of its kind (NULL bus: to none). */
void bus_emit(struct bus *bus, const struct bus_event *ev);

#endif
