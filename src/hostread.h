/* Reads the state of every unit of a target (a few dozen at a time), each one typed by
 * its target (src/target.h's `state` op), and folds them into one host_state: the lock
 * and freeze of any unit, the histories merged by run id. */
#ifndef GANTRY_HOSTREAD_H
#define GANTRY_HOSTREAD_H

#include "hoststate.h"
#include "target.h"

struct hostread;

/* Called once, when every unit has answered or failed; the reader may be freed in it. */
typedef void (*hostread_done_fn)(void *arg, struct hostread *r);

/* Starts reading the units of t (it must have some). */
struct hostread *hostread_start(const struct target *t, hostread_done_fn done, void *arg);
/* The merged state, moved to *out (free it with hoststate_free); false, with nothing in
 * *out, when a host could not be read, `why` naming the first such host: "HOST: what went
 * wrong". Either way the reader is spent. */
bool hostread_result(struct hostread *r, struct host_state *out, char *why, size_t whysz);
/* The merged state of the hosts that could be read, moved to *out; returns how many could
 * not be read, with `why` naming the first ("HOST: what went wrong"). For what is shown
 * (a history): a host that is down hides its own records only. A release decision
 * takes hostread_result, which needs every host. */
size_t hostread_result_some(struct hostread *r, struct host_state *out, char *why, size_t whysz);
/* Unit j's own state, before the results above take it; NULL, with `why`, when it did
 * not come (or was taken already). */
const struct host_state *hostread_unit(const struct hostread *r, size_t j, const char **why);
/* Stops what still runs; no callback after this. */
void hostread_free(struct hostread *r);

#endif
