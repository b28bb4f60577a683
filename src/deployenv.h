/* What a unit is configured to run: its app and migrator images (compose: deploy.env),
 * and the parts of an image reference. */
#ifndef GANTRY_DEPLOYENV_H
#define GANTRY_DEPLOYENV_H

#include <stdbool.h>
#include <stddef.h>

#define DEPLOYENV_MAX_BYTES (64 * 1024)
#define DEPLOYENV_IMAGE_MAX 512

struct deploy_env {
	char app_image[DEPLOYENV_IMAGE_MAX];       /* sanitized; "" when absent */
	char migrator_image[DEPLOYENV_IMAGE_MAX];
};

/* The tag of an image reference: "reg:5000/app:sha-1a2b3c4" -> "sha-1a2b3c4";
 * "name:tag@sha256:..." gives the tag; a bare digest reference gives "@sha256:" and
 * 12 hex digits; no tag gives "latest". */
void deployenv_image_tag(const char *image, char *tag, size_t tagsz);
/* The digest of "name:tag@sha256:..." ("" when the reference has none). */
void deployenv_image_digest(const char *image, char *digest, size_t digestsz);

#endif
