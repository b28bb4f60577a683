/* rollout: a fleet's strategy. Its hosts go in waves, each a size the fleet reaches once it
 * is done ([1, 5%, 25%, 100%]: one host, then up to 5 % of them, ...), a few of a wave's
 * hosts at once; after each wave a gate: every host of it ready, and still ready after the
 * soak, no more failures than the budget, and, where the wave says so, an operator's go. */
#include "config.h"

#include "confread.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A wave's size: a count of hosts, or a percentage of them. */
static bool wave_size(struct schema_ctx *ctx, const struct ynode *node, struct conf_wave *w)
{
	const char *s = schema_scalar(ctx, node, "a wave's size, such as 5 or 25%");
	size_t n;
	char *end;
	long v;

	if (!s)
		return false;
	n = strlen(s);
	v = strtol(s, &end, 10);
	if (n > 1 && s[n - 1] == '%' && end == s + n - 1 && v >= 1 && v <= 100) {
		w->percent = (int)v;
		return true;
	}
	if (end != s && !*end && v >= 1 && v <= CONF_MAX_HOSTS) {
		w->count = v;
		return true;
	}
	schema_error(ctx, node, "expected a wave's size: a count of hosts from 1 to %d, or a "
	    "percentage from 1%% to 100%%, got \"%.40s\"", CONF_MAX_HOSTS, s);
	return false;
}

static bool parse_wave_size(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	(void)field;
	return wave_size(ctx, node, target);
}

static const struct schema_field wave_fields[] = {
	{ "size", parse_wave_size, 0, NULL, true, "hosts with the new tag once the wave is done" },
	{ "pause", schema_bool, offsetof(struct conf_wave, pause), NULL, false,
	  "true: after the wave, wait for an operator's go" },
	{ 0 }
};

/* waves: sizes, each a count, a percentage, or {size, pause}; growing. */
static bool parse_waves(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_rollout *r = target;
	bool ok = true;

	(void)field;
	if (node->type != YNODE_SEQ || node->len == 0 || node->len > CONF_MAX_WAVES) {
		schema_error(ctx, node, "expected a list of 1 to %d wave sizes, such as [1, 5%%, 25%%, "
		    "100%%]", CONF_MAX_WAVES);
		return false;
	}
	free(r->waves);
	r->waves = xcalloc(node->len, sizeof *r->waves);
	r->waves_len = 0;
	for (size_t i = 0; i < node->len; i++) {
		const struct ynode *item = node->items[i];
		struct conf_wave *w = &r->waves[r->waves_len];
		const struct conf_wave *prev = r->waves_len ? &r->waves[r->waves_len - 1] : NULL;
		size_t mark = schema_path_push(ctx, "[%zu]", i);
		bool good = item->type == YNODE_MAP ? schema_read_map(ctx, item, wave_fields, w) :
		    wave_size(ctx, item, w);

		/* the same kind grows; a count after a percentage (or before) is checked per fleet */
		if (good && prev && ((w->percent && prev->percent && w->percent <= prev->percent) ||
		    (w->count && prev->count && w->count <= prev->count))) {
			schema_error(ctx, item, "each wave must reach more hosts than the one before "
			    "(sizes are of the whole fleet: [1, 5%%, 25%%, 100%%])");
			good = false;
		}
		if (good)
			r->waves_len++;
		else
			memset(w, 0, sizeof *w);
		ok = ok && good;
		schema_path_pop(ctx, mark);
	}
	return ok;
}

static bool parse_wave_parallel(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	(void)field;
	return parse_count(ctx, node, target, 1, CONF_MAX_HOSTS);
}

static bool parse_max_failures(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	(void)field;
	return parse_count(ctx, node, target, 0, CONF_MAX_HOSTS);
}

const struct schema_field rollout_fields[] = {
	{ "waves", parse_waves, 0, wave_fields, true,
	  "sizes the fleet reaches wave by wave: counts or percentages, or {size, pause: true}" },
	{ "parallel", parse_wave_parallel, offsetof(struct conf_rollout, parallel), NULL, false,
	  "how many hosts of a wave deploy at once (default deploy.parallel)" },
	{ "soak", schema_duration, offsetof(struct conf_rollout, soak_ms), NULL, false,
	  "after a wave, how long its hosts must stay ready before the next starts (default 0)" },
	{ "max_failures", parse_max_failures, offsetof(struct conf_rollout, max_failures), NULL, false,
	  "how many hosts of a wave may fail (each rolled back) before the rollout pauses (default 0)" },
	{ "unhealthy_timeout", schema_duration, offsetof(struct conf_rollout, unhealthy_timeout_ms),
	  NULL, false, "a host not ready this long after its switch fails and is rolled back" },
	{ 0 }
};

bool parse_rollout(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	(void)field;
	return schema_read_map(ctx, node, rollout_fields, target);
}
