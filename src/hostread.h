/* Reads the state of every unit of an environment (a few dozen at a time), each one's
 * reply in the state store's framing (src/hoststate.h), and folds the replies into one
 * host_state: the lock and freeze of any unit, the histories merged by run id. How a
 * unit is asked is its target's business (compose over SSH: the runner's state). */
#ifndef GANTRY_HOSTREAD_H
#define GANTRY_HOSTREAD_H

#include "conf.h"
#include "hoststate.h"
#include "unitcmd.h"

struct hostread;

/* Asks unit j for its state: a command whose output is the framed reply. */
typedef struct unit_cmd *(*hostread_ask_fn)(const void *arg, size_t j, const struct unit_cmd_ops *ops,
    void *cmd_arg);
/* Called once, when every host has answered or failed; the reader may be freed in it. */
typedef void (*hostread_done_fn)(void *arg, struct hostread *r);

/* Starts reading env's units (it must have some), each through `ask`. */
struct hostread *hostread_start(const struct conf_env *env, hostread_ask_fn ask, const void *ask_arg,
    hostread_done_fn done, void *arg);
/* The merged state, moved to *out (free it with hoststate_free); false, with nothing in
 * *out, when a host could not be read, `why` naming the first such host: "HOST: what went
 * wrong". Either way the reader is spent. */
bool hostread_result(struct hostread *r, struct host_state *out, char *why, size_t whysz);
/* The merged state of the hosts that could be read, moved to *out; returns how many could
 * not be read, with `why` naming the first ("HOST: what went wrong"). For what is shown
 * (a history): a host that is down hides its own records only. A release decision
 * takes hostread_result, which needs every host. */
size_t hostread_result_some(struct hostread *r, struct host_state *out, char *why, size_t whysz);
/* Stops what still runs; no callback after this. */
void hostread_free(struct hostread *r);

#endif
