/* What each service of a unit runs, as its target lists it (compose: deploy.running's
 * "SERVICE IMAGE" lines). The list comes from the unit, so it is untrusted: its target
 * checks every name and image for its syntax, and the list is bounded. */
#ifndef GANTRY_RUNNING_H
#define GANTRY_RUNNING_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "payload.h"

#define RUNNING_MAX 64                  /* containers listed; more is an error */
#define RUNNING_NAME_MAX 64
#define RUNNING_REPO_MAX 256
#define RUNNING_DIGEST_MAX 80

struct running_service {
	char name[RUNNING_NAME_MAX];
	char repo[RUNNING_REPO_MAX];    /* the image's repository, registry included */
	char tag[PAYLOAD_TAG_MAX];      /* its tag, or "@sha256:" and 12 hex digits */
	char digest[RUNNING_DIGEST_MAX];        /* "sha256:..." when the reference pins one */
};

struct running {
	struct running_service *list;   /* sorted by name, then tag; owned */
	size_t len;
};

void running_free(struct running *r);

/* The repository of an image reference: "reg:5000/shop/app:tag@sha256:..." gives
 * "reg:5000/shop/app". */
void running_image_repo(const char *image, char *repo, size_t reposz);

/* Whether service `s` runs another image than deploy.env's APP_IMAGE (its repository,
 * tag and digest, "" when it pins none): compared by digest where both pin one (a runtime
 * may keep only the digest of "name:tag@digest"), else by tag. Services of other
 * repositories (a database) are never compared. */
bool running_differs(const struct running_service *s, const char *repo, const char *tag,
    const char *digest);
/* The first service of `r` that differs; NULL if none. */
const struct running_service *running_drift(const struct running *r, const char *repo,
    const char *tag, const char *digest);
/* The tag to show for `s`: deploy.env's when `s` runs its very digest, else its own. */
const char *running_tag(const struct running_service *s, const char *tag, const char *digest);

#endif
