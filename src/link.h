/* A unit's link: how gantry reaches it now, in words every target shares. A target
 * reports its units' links through its `link` op, and their changes as bus events
 * (BUS_LINK_CHANGED); the console and the command line know links only this way. */
#ifndef GANTRY_LINK_H
#define GANTRY_LINK_H

#include <stdint.h>

/* X(NAME, word), mildest first */
#define LINK_STATES(X) \
	X(IDLE, "idle")                         /* not needed yet */ \
	X(CONNECTING, "connecting")             /* looking up, connecting, handshake, login */ \
	X(UP, "up") \
	X(UNREACHABLE, "unreachable")           /* refused, timed out, lost, name not found */ \
	X(KEY_UNKNOWN, "host key unknown")      /* the unit's key is not known */ \
	X(KEY_CHANGED, "HOST KEY CHANGED")      /* it offers another key than the one known */ \
	X(AUTH_FAILED, "login refused")         /* no credential was accepted */

enum link_state {
#define LINK_STATE_ENUM(name, word) LINK_##name,
	LINK_STATES(LINK_STATE_ENUM)
#undef LINK_STATE_ENUM
};

/* A unit's link now. */
struct link_status {
	enum link_state state;
	const char *message;            /* what went wrong last, with what to do; "" none */
	int64_t retry_in;               /* ms until the next attempt; -1 when none is due */
	const char *name;               /* the unit's name (a host's address) */
};

/* The short words for a state: "up", "connecting", "host key unknown", ... */
const char *link_state_name(enum link_state state);

#endif
