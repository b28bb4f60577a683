/* Reading what an app's endpoints answer: the running version, and a one-line summary. */
#ifndef GANTRY_PAYLOAD_H
#define GANTRY_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

#define PAYLOAD_TAG_MAX 128  /* bytes for a version string, NUL included */

/*
 * Extracts the version from a response body: the JSON value at `pointer` (RFC 6901)
 * as text, or, when pointer is "" and the body is not JSON, its first line.
 * On success `out` holds sanitized text; on failure `err` says what was wrong.
 */
bool payload_version(const char *body, size_t len, const char *pointer,
    char *out, size_t outsz, char *err, size_t errsz);

/*
 * Summarises a body in one sanitized line for an error display: a JSON body's
 * "reason", "error", "message", "detail" or "status" field, an HTML page's
 * <title>, or the first line of text. Empty when the body is empty.
 */
void payload_summary(const char *body, size_t len, char *out, size_t outsz);

#endif
