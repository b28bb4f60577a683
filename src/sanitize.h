/* Turns untrusted bytes into text that is safe to put on a terminal. */
#ifndef GANTRY_SANITIZE_H
#define GANTRY_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

enum sanitize_flags {
	SANITIZE_ASCII = 1 << 0,        /* replace every non-ASCII character with '?' */
};

/*
 * Copies `len` bytes of `in` to `out` (capacity `outsz`, always NUL-terminated)
 * so that the result is valid UTF-8 holding printable characters only:
 * escape sequences (CSI, OSC, DCS, SOS, PM, APC and two-byte ones) are removed
 * whole, other C0/C1 controls and bidirectional overrides are dropped, tabs and
 * line breaks become one space each, and invalid UTF-8 becomes U+FFFD.
 * Stops at a character boundary when out is full. Returns the length written.
 */
size_t sanitize_text(const char *in, size_t len, char *out, size_t outsz, unsigned flags);

/* As sanitize_text, into a new string of at most max_bytes bytes (plus NUL). */
char *sanitize_dup(const char *in, size_t len, size_t max_bytes, unsigned flags);

/* True when s (NUL-terminated) needs no change by sanitize_text. */
bool sanitize_is_clean(const char *s);

#endif
