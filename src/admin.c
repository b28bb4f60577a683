/* An environment's admin actions, whatever its target: a reason as recorded, and the
 * bus's word for what was done. */
#include "config.h"

#include "admin.h"
#include "sanitize.h"

#include <string.h>

void admin_reason(const char *message, char *out, size_t outsz)
{
	/* one line, printable: it goes into key=value files */
	sanitize_text(message ? message : "", strlen(message ? message : ""), out, outsz, 0);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

void admin_emit(struct bus *bus, enum unit_admin kind, const char *env, size_t host,
    const char *host_name, const char *operator, const char *reason)
{
	static const enum bus_kind kinds[] = {
		[ADMIN_FREEZE] = BUS_FROZEN, [ADMIN_UNFREEZE] = BUS_UNFROZEN,
		[ADMIN_UNLOCK] = BUS_LOCK_BROKEN,
	};
	struct bus_event ev = {
		.kind = kinds[kind], .env = env, .host = host, .host_name = host_name,
		.operator = operator, .text = reason,
	};

	bus_emit(bus, &ev);
}
