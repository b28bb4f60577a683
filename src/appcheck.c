/* An environment's ready and version endpoints, asked once through the loop's HTTP. */
#include "config.h"

#include "appcheck.h"
#include "model.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct appcheck {
	const struct conf_env *env;
	struct http_request *ready_req, *version_req;
	char **headers;                 /* "Name: value", NULL-terminated; may hold secrets */
	struct appcheck_result result;
	appcheck_done_fn done;
	void *arg;
};

static void maybe_done(struct appcheck *ac)
{
	if (!ac->ready_req && !ac->version_req)
		ac->done(ac->arg, &ac->result);
}

static void ready_answered(const struct http_response *r, void *arg)
{
	struct appcheck *ac = arg;
	struct probe_result pr;

	ac->ready_req = NULL;
	model_classify(PROBE_READY, r, ac->env, &pr, NULL, 0);
	ac->result.ready = pr.state == PROBE_OK;
	if (!ac->result.ready)
		snprintf(ac->result.ready_error, sizeof ac->result.ready_error, "%s%s: %s",
		    ac->env->url, ac->env->ready_path, pr.detail[0] ? pr.detail : "not ready");
	maybe_done(ac);
}

static void version_answered(const struct http_response *r, void *arg)
{
	struct appcheck *ac = arg;
	struct probe_result pr;

	ac->version_req = NULL;
	model_classify(PROBE_VERSION, r, ac->env, &pr, ac->result.version, sizeof ac->result.version);
	if (pr.state != PROBE_OK) {
		ac->result.version[0] = '\0';
		snprintf(ac->result.version_error, sizeof ac->result.version_error, "%s%s: %s",
		    ac->env->url, ac->env->version_path, pr.detail[0] ? pr.detail : "no version");
	}
	maybe_done(ac);
}

static struct http_request *get(struct appcheck *ac, struct http_client *http, const char *path,
    http_done_fn done)
{
	char *url = xasprintf("%s%s", ac->env->url, path);
	struct http_get_opts opts = {
		.url = url, .timeout_ms = ac->env->timeout_ms, .max_body = 64 * 1024,
		.headers = (const char *const *)ac->headers, .ca_file = ac->env->ca_file,
	};
	struct http_request *req = http_get(http, &opts, done, ac);

	free(url);
	return req;
}

struct appcheck *appcheck_start(struct http_client *http, const struct conf_env *env,
    appcheck_done_fn done, void *arg)
{
	struct appcheck *ac = xcalloc(1, sizeof *ac);

	ac->env = env;
	ac->done = done;
	ac->arg = arg;
	ac->headers = xcalloc(env->headers_len + 1, sizeof *ac->headers);
	for (size_t i = 0; i < env->headers_len; i++)
		ac->headers[i] = xasprintf("%s: %s", env->headers[i].name, env->headers[i].value.value);
	ac->ready_req = get(ac, http, env->ready_path, ready_answered);
	ac->version_req = get(ac, http, env->version_path, version_answered);
	return ac;
}

void appcheck_free(struct appcheck *ac)
{
	if (!ac)
		return;
	if (ac->ready_req)
		http_cancel(ac->ready_req);
	if (ac->version_req)
		http_cancel(ac->version_req);
	for (char **h = ac->headers; *h; h++) {
		explicit_bzero(*h, strlen(*h));
		free(*h);
	}
	free(ac->headers);
	free(ac);
}
