/* deploy.retag's moves, one after another. */
#include "config.h"

#include "retag.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct retag {
	struct registry *reg;
	const struct conf_registry *conf;
	char *tags;
	char app_digest[REGISTRY_DIGEST_MAX], migrator_digest[REGISTRY_DIGEST_MAX];
	size_t next;                    /* the next (tag, repository) to move */
	struct registry_op *op;
	retag_done_fn done;
	void *arg;
};

/* The k-th move: tag `word` of tags, in the app's repository or the migrator's; false
 * past the last. */
static bool job(const struct retag *r, size_t k, const char **repo, const char **digest,
    char *tag, size_t tagsz)
{
	bool two = r->conf->migrator && strcmp(r->conf->migrator, r->conf->app) != 0 &&
	    r->migrator_digest[0];
	size_t per = two ? 2 : 1, word = k / per;
	const char *p = r->tags;

	for (size_t w = 0;; w++) {
		size_t n;

		p += strspn(p, " ");
		if (!*p)
			return false;
		n = strcspn(p, " ");
		if (w == word) {
			snprintf(tag, tagsz, "%.*s", (int)n, p);
			break;
		}
		p += n;
	}
	*repo = k % per ? r->conf->migrator : r->conf->app;
	*digest = k % per ? r->migrator_digest : r->app_digest;
	return true;
}

static void moved(const struct registry_result *res, void *arg);

/* Starts the next move, or says all are done. */
static void move_next(struct retag *r)
{
	const char *repo, *digest;
	char tag[136];

	if (!job(r, r->next, &repo, &digest, tag, sizeof tag)) {
		r->done(r->arg, NULL);
		return;
	}
	/* an empty or malformed digest is refused by the registry client, from the loop */
	r->op = registry_retag(r->reg, repo, digest, tag, moved, r);
}

static void moved(const struct registry_result *res, void *arg)
{
	struct retag *r = arg;

	r->op = NULL;
	if (res->error != REGISTRY_OK) {
		r->done(r->arg, res->message);
		return;
	}
	r->next++;
	move_next(r);
}

struct retag *retag_start(struct registry *reg, const struct conf_registry *conf,
    const char *tags, const char *app_digest, const char *migrator_digest,
    retag_done_fn done, void *arg)
{
	struct retag *r = xcalloc(1, sizeof *r);

	r->reg = reg;
	r->conf = conf;
	r->tags = xstrdup(tags);
	snprintf(r->app_digest, sizeof r->app_digest, "%s", app_digest ? app_digest : "");
	snprintf(r->migrator_digest, sizeof r->migrator_digest, "%s",
	    migrator_digest ? migrator_digest : "");
	r->done = done;
	r->arg = arg;
	move_next(r);
	return r;
}

void retag_free(struct retag *r)
{
	if (!r)
		return;
	registry_cancel(r->op);
	free(r->tags);
	free(r);
}
