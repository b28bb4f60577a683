/* What a unit's services run, compared with what it is configured to run. */
#include "config.h"

#include "running.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void running_image_repo(const char *image, char *repo, size_t reposz)
{
	const char *at = strchr(image, '@');
	size_t n = at ? (size_t)(at - image) : strlen(image);
	const char *slash = image + n, *colon;

	while (slash > image && slash[-1] != '/')
		slash--;
	colon = memchr(slash, ':', n - (size_t)(slash - image));
	if (colon)
		n = (size_t)(colon - image);
	snprintf(repo, reposz, "%.*s", (int)n, image);
}

void running_free(struct running *r)
{
	free(r->list);
	r->list = NULL;
	r->len = 0;
}

bool running_differs(const struct running_service *s, const char *repo, const char *tag,
    const char *digest)
{
	if (strcmp(s->repo, repo) != 0)
		return false;
	if (s->digest[0] && digest[0])
		return strcmp(s->digest, digest) != 0;
	return strcmp(s->tag, tag) != 0;
}

const struct running_service *running_drift(const struct running *r, const char *repo,
    const char *tag, const char *digest)
{
	for (size_t i = 0; i < r->len; i++)
		if (running_differs(&r->list[i], repo, tag, digest))
			return &r->list[i];
	return NULL;
}

const char *running_tag(const struct running_service *s, const char *tag, const char *digest)
{
	return s->digest[0] && digest[0] && strcmp(s->digest, digest) == 0 ? tag : s->tag;
}
