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
