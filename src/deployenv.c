/* The parts of an image reference (src/deployenv.h). */
#include "config.h"

#include "deployenv.h"
#include "sanitize.h"

#include <stdio.h>
#include <string.h>

void deployenv_image_tag(const char *image, char *tag, size_t tagsz)
{
	const char *at = strchr(image, '@'), *slash, *colon;
	size_t name_len = at ? (size_t)(at - image) : strlen(image);

	/* name:tag@digest: the tag */
	for (slash = image + name_len; slash > image && slash[-1] != '/'; slash--)
		;
	colon = memchr(slash, ':', name_len - (size_t)(slash - image));
	if (at && colon && colon + 1 < at) {
		sanitize_text(colon + 1, (size_t)(at - colon - 1), tag, tagsz, 0);
		return;
	}
	slash = strrchr(image, '/');
	if (at) {
		const char *digest = at + 1, *hex = strchr(digest, ':');

		snprintf(tag, tagsz, "@%.*s:%.12s", hex ? (int)(hex - digest) : 0, digest, hex ? hex + 1 : digest);
		return;
	}
	colon = strrchr(slash ? slash : image, ':');
	if (colon && colon[1])
		sanitize_text(colon + 1, strlen(colon + 1), tag, tagsz, 0);   /* cut on a character */
	else
		snprintf(tag, tagsz, "latest");
}

void deployenv_image_digest(const char *image, char *digest, size_t digestsz)
{
	const char *at = strchr(image, '@');

	snprintf(digest, digestsz, "%s", at ? at + 1 : "");
}
