/* Durations as people write and read them: "500ms", "5s", "1m30s", "2h". */
#ifndef GANTRY_DURATION_H
#define GANTRY_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses "250ms", "5s", "2m", "1h", "1m30s" or a bare number of seconds. */
bool duration_parse(const char *text, int64_t *ms);

/* Formats an age compactly: "now", "12s", "4m10s", "3h02m", "2d04h". */
void duration_format(int64_t ms, char *out, size_t outsz);

/* The wait before retry number `attempt` (0 first): first, doubled each time, at most max. */
int64_t duration_backoff(int attempt, int64_t first, int64_t max);

/* Formats a latency: "87ms", "1.2s", "12s". */
void duration_format_latency(int64_t ms, char *out, size_t outsz);

#endif
