/* A unit's running services, read from its deploy.running output. */
#include "config.h"

#include "running.h"
#include "deployenv.h"
#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/* an image reference's characters: name components, registry port, tag and digest */
static bool image_char(char c)
{
	return name_char(c) || c == '/' || c == ':' || c == '@';
}

static bool all(const char *s, size_t n, bool (*ok)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i]))
			return false;
	return true;
}

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

static int by_name(const void *a, const void *b)
{
	const struct running_service *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->tag, y->tag);
}

bool running_parse(const char *buf, size_t len, struct running *out, char *why, size_t whysz)
{
	size_t line = 0;

	running_free(out);
	out->list = xcalloc(RUNNING_MAX, sizeof *out->list);
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end, *sp;
		size_t n = (size_t)(eol - p);
		struct running_service *s;
		char image[DEPLOYENV_IMAGE_MAX];

		line++;
		if (n && p[n - 1] == '\r')
			n--;
		sp = memchr(p, ' ', n);
		if (n == 0) {
			p = eol + 1;
			continue;               /* a stopped container's empty line */
		}
		if (!sp || sp == p || (size_t)(sp - p) >= RUNNING_NAME_MAX || !all(p, (size_t)(sp - p), name_char) ||
		    n - (size_t)(sp - p) - 1 == 0 || n - (size_t)(sp - p) - 1 >= sizeof image ||
		    !all(sp + 1, n - (size_t)(sp - p) - 1, image_char)) {
			snprintf(why, whysz, "deploy.running's line %zu is not \"SERVICE IMAGE\"", line);
			running_free(out);
			return false;
		}
		if (out->len == RUNNING_MAX) {
			snprintf(why, whysz, "deploy.running listed more than %d containers", RUNNING_MAX);
			running_free(out);
			return false;
		}
		s = &out->list[out->len++];
		snprintf(s->name, sizeof s->name, "%.*s", (int)(sp - p), p);
		snprintf(image, sizeof image, "%.*s", (int)(n - (size_t)(sp - p) - 1), sp + 1);
		running_image_repo(image, s->repo, sizeof s->repo);
		deployenv_image_tag(image, s->tag, sizeof s->tag);
		deployenv_image_digest(image, s->digest, sizeof s->digest);
		p = eol + 1;
	}
	qsort(out->list, out->len, sizeof *out->list, by_name);
	out->list = xrealloc(out->list, (out->len ? out->len : 1) * sizeof *out->list);
	return true;
}

char *running_command(const struct conf_env *env, size_t j)
{
	char *dir, *cmd;

	if (!env->deploy.running || !env->deploy.running[0])
		return NULL;
	dir = template_shell_quote(conf_host_deploy_dir(env, &env->hosts[j]));
	struct template_var vars[] = { { "compose", env->compose }, { "deploy_dir", dir } };
	cmd = template_expand(env->deploy.running, vars, sizeof vars / sizeof *vars);
	free(dir);
	return cmd;
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
