/* The syntax of each kind of value that crosses a trust boundary (read from a host's files,
 * a registry, a server) before gantry uses it in a command, a path or a decision: one
 * check per kind, used on every path. A value that fails is corrupt and never used. */
#ifndef GANTRY_VALUE_H
#define GANTRY_VALUE_H

#include <stdbool.h>
#include <stdint.h>

/* A run id: [A-Za-z0-9._-], 1 to 64, not starting with '.' or '-' (a path component). */
bool value_run_id(const char *s);
/* An OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
bool value_tag(const char *s);
/* A digest: "sha256:" and 64 lower-case hex digits. */
bool value_digest(const char *s);
/* A number read from a host's file, bounded: times, durations and counts never overflow
 * the arithmetic that shows them (ages, durations). Outside [lo, hi] it reads as lo. */
int64_t value_bounded(long long v, long long lo, long long hi);

#endif
