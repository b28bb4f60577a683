/* A rollout's waves, worked out for a fleet's size (src/waves.h). */
#include "config.h"

#include "waves.h"

#include <string.h>

void waves_plan(const struct conf_rollout *r, size_t n, struct wave_plan *out)
{
	size_t reached = 0;

	memset(out, 0, sizeof *out);
	if (!r->waves_len || n == 0)
		return;
	out->soak_ms = r->soak_ms;
	out->max_failures = r->max_failures;
	for (size_t i = 0; i < r->waves_len && reached < n && out->len < WAVES_MAX; i++) {
		const struct conf_wave *w = &r->waves[i];
		size_t size = w->percent ? (n * (size_t)w->percent + 99) / 100 : (size_t)w->count;

		if (size > n)
			size = n;
		if (size <= reached)
			continue;               /* adds no unit to the wave before */
		reached = size;
		out->end[out->len] = size;
		out->pause[out->len] = w->pause && size < n;
		out->len++;
	}
	if (reached < n && out->len < WAVES_MAX) {
		out->end[out->len] = n;
		out->pause[out->len] = false;
		out->len++;
	}
}

bool waves_valid(const struct wave_plan *p, size_t n)
{
	if (p->len == 0 || p->len > WAVES_MAX || p->end[p->len - 1] != n || p->pause[p->len - 1] ||
	    p->soak_ms < 0 || p->soak_ms > WAVES_SOAK_MAX_MS || p->max_failures < 0 ||
	    p->max_failures > (int64_t)n)
		return false;
	for (size_t w = 0; w < p->len; w++)
		if (p->end[w] <= waves_start(p, w))
			return false;
	return true;
}

size_t waves_of(const struct wave_plan *p, size_t j)
{
	for (size_t w = 0; w < p->len; w++)
		if (j < p->end[w])
			return w;
	return p->len;
}

size_t waves_start(const struct wave_plan *p, size_t w)
{
	return w == 0 || w > p->len ? 0 : p->end[w - 1];
}
