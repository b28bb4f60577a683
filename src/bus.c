/* The event bus: a list of listeners, walked on each event. A listener removed while
 * events are being delivered is only marked, and the list compacted once no delivery
 * runs; one added then hears the next event, not the current one. */
#include "config.h"

#include "bus.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct listener {
	unsigned id;                    /* 0: removed */
	uint32_t mask;
	bus_fn fn;
	void *arg;
};

struct bus {
	struct listener *list;
	size_t len, cap;
	unsigned next_id;
	int delivering;                 /* nested emits under way */
	bool removed;                   /* some entries wait to be dropped */
};

const char *bus_kind_name(enum bus_kind kind)
{
	static const char *const names[] = {
#define BUS_KIND_NAME(name, word) [BUS_##name] = word,
		BUS_EVENTS(BUS_KIND_NAME)
#undef BUS_KIND_NAME
	};

	return (size_t)kind < BUS_KINDS ? names[kind] : "";
}

struct bus *bus_new(void)
{
	return xcalloc(1, sizeof(struct bus));
}

void bus_free(struct bus *bus)
{
	if (!bus)
		return;
	free(bus->list);
	free(bus);
}

unsigned bus_listen(struct bus *bus, uint32_t mask, bus_fn fn, void *arg)
{
	if (bus->len == bus->cap) {
		bus->cap = bus->cap ? bus->cap * 2 : 8;
		bus->list = xrealloc(bus->list, bus->cap * sizeof *bus->list);
	}
	if (++bus->next_id == 0)
		bus->next_id = 1;
	bus->list[bus->len++] = (struct listener){ .id = bus->next_id, .mask = mask, .fn = fn,
		.arg = arg };
	return bus->next_id;
}

static void compact(struct bus *bus)
{
	size_t kept = 0;

	for (size_t i = 0; i < bus->len; i++)
		if (bus->list[i].id)
			bus->list[kept++] = bus->list[i];
	bus->len = kept;
	bus->removed = false;
}

void bus_unlisten(struct bus *bus, unsigned id)
{
	if (!bus || !id)
		return;
	for (size_t i = 0; i < bus->len; i++) {
		if (bus->list[i].id == id) {
			bus->list[i].id = 0;
			bus->removed = true;
		}
	}
	if (!bus->delivering)
		compact(bus);
}

void bus_emit(struct bus *bus, const struct bus_event *ev)
{
	size_t n;

	if (!bus)
		return;
	n = bus->len;               /* listeners added meanwhile hear the next event */
	bus->delivering++;
	for (size_t i = 0; i < n; i++) {
		/* by index: the list may grow (and move) in a callback */
		struct listener l = bus->list[i];

		if (l.id && (l.mask & BUS_MASK(ev->kind)))
			l.fn(l.arg, ev);
	}
	if (--bus->delivering == 0 && bus->removed)
		compact(bus);
}
