/* A real HTTP/1.1 server on 127.0.0.1, inside the test's own loop: it answers what the
 * test set for each method and path (an app's endpoints, a registry's manifests), one
 * request per connection, and counts what it was asked. For the engine's unit tests,
 * which need the registry and the apps to answer in milliseconds. */
#ifndef GANTRY_TEST_TESTHTTP_H
#define GANTRY_TEST_TESTHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

struct testhttp;

struct testhttp *testhttp_new(struct loop *loop);
void testhttp_free(struct testhttp *s);
/* "http://127.0.0.1:PORT" */
const char *testhttp_url(const struct testhttp *s);

/* What METHOD PATH answers from now on (the path without the query); a header line
 * ("Name: value") may be NULL. Paths never set answer 404. */
void testhttp_set(struct testhttp *s, const char *method, const char *path, int status,
    const char *header, const char *body);
/* Requests of METHOD PATH answered so far. */
unsigned testhttp_count(const struct testhttp *s, const char *method, const char *path);
/* The last request of METHOD PATH, as its request line named it (query included); "". */
const char *testhttp_last(const struct testhttp *s, const char *method, const char *path);
/* Refuses every request from now on (the server is down) when `down`. */
void testhttp_down(struct testhttp *s, bool down);

/* An image of repo under tag in the registry: a manifest of its own, served by tag and by
 * digest; its digest ("sha256:...") into digest (72 bytes). */
void testhttp_image(struct testhttp *s, const char *repo, const char *tag, char digest[72]);
/* Points repo:tag at the manifest repo:built was served with (a re-pointed tag). */
void testhttp_point(struct testhttp *s, const char *repo, const char *tag, const char *built);
/* An app at PREFIX: its ready endpoint answers `ready` (200 or 503) and its version
 * endpoint reports `version`. */
void testhttp_app(struct testhttp *s, const char *prefix, bool ready, const char *version);

#endif
