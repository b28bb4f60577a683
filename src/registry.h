/* An OCI distribution registry client: tags, digests and image creation times,
 * with Bearer token and basic auth, driven by the event loop. */
#ifndef GANTRY_REGISTRY_H
#define GANTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "loop.h"

#define REGISTRY_DIGEST_MAX 72          /* "sha256:" + 64 hex + NUL, with room */

enum registry_error {
	REGISTRY_OK = 0,
	REGISTRY_NOT_FOUND,             /* no such tag or repository */
	REGISTRY_AUTH,                  /* credentials missing, refused, or access denied */
	REGISTRY_UNREACHABLE,           /* no answer: refused, timed out, TLS, DNS */
	REGISTRY_BAD_REPLY,             /* an answer gantry cannot use (status, JSON, digest) */
};

struct registry_result {
	enum registry_error error;
	char message[400];              /* sanitized; says what to do; never holds a secret */
	/* registry_resolve */
	char digest[REGISTRY_DIGEST_MAX];
	char media_type[100];
	int64_t created;                /* Unix seconds from the image config; 0 when unknown */
	/* registry_tags: matching the tag pattern, in the registry's order */
	char **tags;
	size_t tags_len;
	size_t tags_seen;               /* before the pattern */
};

typedef void (*registry_done_fn)(const struct registry_result *result, void *arg);

struct registry;
struct registry_op;

struct registry *registry_new(struct loop *loop, const struct conf_registry *conf);
/* Cancels what is in flight, without callbacks. */
void registry_free(struct registry *reg);

/* The digest a tag (or a digest: is it still there?) stands for (the manifest or index
 * the registry serves for it),
 * checked against the bytes received. With `created`, also the image's creation time
 * (one more request, for single-platform manifests). */
struct registry_op *registry_resolve(struct registry *reg, const char *repo, const char *tag,
    bool created, registry_done_fn done, void *arg);

/* Every tag of a repository that matches the configured pattern (all pages). */
/* Whether the registry answers at all: its API root (/v2/) answering 200 or 401 (asking
 * for credentials is an answer); no credentials are sent. */
struct registry_op *registry_ping(struct registry *reg, registry_done_fn done, void *arg);
struct registry_op *registry_tags(struct registry *reg, const char *repo,
    registry_done_fn done, void *arg);

/* Points `tag` at the manifest `digest` of repo: a GET of the manifest by its digest
 * (checked against it), then a PUT of those bytes under the tag. Needs credentials that
 * may push; the result's digest is set on success. */
struct registry_op *registry_retag(struct registry *reg, const char *repo, const char *digest,
    const char *tag, registry_done_fn done, void *arg);

/* Abandons an operation: its callback will not run. */
void registry_cancel(struct registry_op *op);

/* True when `tag` matches the configured tag pattern. */
bool registry_tag_allowed(const struct registry *reg, const char *tag);

/* "host/repo@sha256:..." or "host/repo:tag", newly allocated. */
char *registry_reference(const struct conf_registry *conf, const char *repo, const char *tag,
    const char *digest);

/* Parses a WWW-Authenticate challenge: scheme ("Bearer", "Basic") and the realm,
 * service and scope parameters (empty when absent). False when unparseable.
 * (Exposed for tests and fuzzing.) */
struct registry_challenge {
	char scheme[16];
	char realm[400];
	char service[200];
	char scope[300];
};
bool registry_parse_challenge(const char *header, struct registry_challenge *out);

/* Checks a manifest body (its sha256 against the registry's digest header, when sent;
 * schema version 2) and fills out's digest and media type, and config_digest ("" for
 * an index). On failure, out->message says why. (Exposed for tests and fuzzing.) */
enum registry_error registry_read_manifest(const char *body, size_t len, const char *content_type,
    const char *header_digest, struct registry_result *out, char config_digest[REGISTRY_DIGEST_MAX]);

/* Adds the valid tags of a tag-list page that match the pattern to r (tags, tags_len,
 * tags_seen; *cap is the allocated room). False when the page is not a tag list. */
bool registry_read_tags(const struct registry *reg, const char *body, size_t len,
    struct registry_result *r, size_t *cap);

/* Reads the next page's path from a Link header (`<...>; rel="next"`); false when none. */
bool registry_parse_link(const char *header, char *out, size_t outsz);

#endif
