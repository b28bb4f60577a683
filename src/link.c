/* A unit's link, in words every target shares. */
#include "config.h"

#include "link.h"

const char *link_state_name(enum link_state state)
{
	static const char *const names[] = {
#define LINK_STATE_WORD(name, word) [LINK_##name] = word,
		LINK_STATES(LINK_STATE_WORD)
#undef LINK_STATE_WORD
	};

	return names[state];
}
