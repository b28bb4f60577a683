/* gantry check [ENV]: every read path of each environment, one line per check, each
 * failure with what to do. The first thing to run against a new configuration. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "exitcode.h"
#include "registry.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_BODY_MAX 65536

enum row_state { ROW_WAITING, ROW_OK, ROW_FAILED, ROW_SKIPPED };

struct row {
	const char *group;              /* an environment's name, or "registry" */
	const char *host;               /* said before the detail (hosts of a fleet), or NULL */
	char what[32];
	char detail[700];
	enum row_state state;
};

struct checkcmd;

/* The checks of one unit (a host), as its target runs them. */
struct unit_check_rows {
	struct checkcmd *cc;
	const struct target *target;
	size_t unit;
	size_t first_row;               /* its first row in cc->rows; then one per check_rows */
	struct unitcheck *run;
};

struct http_check {
	struct checkcmd *cc;
	const struct conf_env *env;
	size_t row;
	const char *path_key;           /* health_path, ready_path, version_path */
	char *url;
	char **headers;
};

struct checkcmd {
	struct app *app;
	struct row *rows;
	size_t rows_len, rows_cap, waiting;
	struct unit_check_rows *units;
	size_t units_len;
	struct http_check *https;
	size_t https_len;
	size_t reg_rows[3];             /* credentials, app, migrator */
	size_t reg_rows_len;
};

static size_t row_add(struct checkcmd *cc, const char *group, const char *what)
{
	struct row *r;

	cc->rows = xreallocarray_grow(cc->rows, &cc->rows_cap, cc->rows_len + 1, sizeof *cc->rows);
	r = &cc->rows[cc->rows_len];
	memset(r, 0, sizeof *r);
	r->group = group;
	snprintf(r->what, sizeof r->what, "%s", what);
	cc->waiting++;
	return cc->rows_len++;
}

static void row_set(struct checkcmd *cc, size_t i, enum row_state state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void row_set(struct checkcmd *cc, size_t i, enum row_state state, const char *fmt, ...)
{
	struct row *r = &cc->rows[i];
	char raw[sizeof r->detail];
	va_list ap;

	if (r->state != ROW_WAITING)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* host and server words may be in it */
	sanitize_text(raw, strlen(raw), r->detail, sizeof r->detail, 0);
	r->state = state;
	cc->waiting--;
}

/* ---- HTTP: health first; ready and version only from an app that answers ---- */

static void http_start(struct http_check *hc);

static void http_done(const struct http_response *resp, void *arg)
{
	struct http_check *hc = arg;
	static const struct {
		const char *key, *fix;
	} fixes[] = {
		{ "health_path", "the app does not answer: start it, or fix the environment's url or "
		  "health (gantry.yml)" },
		{ "ready_path", "the app is up but not ready: look at its log (gantry logs ENV), or fix "
		  "the environment's ready (gantry.yml)" },
		{ "version_path", "gantry cannot tell which tag runs without it: have the app report "
		  "its tag there, or fix version (a path, or {path, pointer}) in gantry.yml" },
	};
	const char *fix = "";

	for (size_t i = 0; i < sizeof fixes / sizeof fixes[0]; i++)
		if (strcmp(fixes[i].key, hc->path_key) == 0)
			fix = fixes[i].fix;
	if (resp->error != HTTP_OK)
		row_set(hc->cc, hc->row, ROW_FAILED, "%s: %s; %s", hc->url, resp->message, fix);
	else if (resp->status < 200 || resp->status > 299)
		row_set(hc->cc, hc->row, ROW_FAILED, "%s answered %ld; %s", hc->url, resp->status, fix);
	else
		row_set(hc->cc, hc->row, ROW_OK, "%s answered %ld in %lld ms", hc->url, resp->status,
		    (long long)resp->elapsed_ms);
	if (strcmp(hc->path_key, "health_path") == 0)
		for (int k = 1; k <= 2; k++) {
			if (resp->error == HTTP_OK)
				http_start(hc + k);
			else
				row_set(hc->cc, hc[k].row, ROW_SKIPPED, "not tried: the app does not answer");
		}
}

static void http_start(struct http_check *hc)
{
	struct http_get_opts o = {
		.url = hc->url, .timeout_ms = hc->env->timeout_ms, .max_body = CHECK_BODY_MAX,
		.headers = (const char *const *)hc->headers, .ca_file = hc->env->ca_file,
	};

	http_get(hc->cc->app->http, &o, http_done, hc);
}

/* ---- units: the target's own checks ---- */

static void unit_reported(void *arg, size_t row, enum unit_check state, const char *detail)
{
	struct unit_check_rows *u = arg;
	static const enum row_state states[] = {
		[UNIT_CHECK_OK] = ROW_OK, [UNIT_CHECK_FAILED] = ROW_FAILED,
		[UNIT_CHECK_SKIPPED] = ROW_SKIPPED,
	};

	if (row < u->target->ops->check_rows_len)
		row_set(u->cc, u->first_row + row, states[state], "%s", detail);
}

/* ---- registry ---- */

static void migrator_listed(const struct registry_result *r, void *arg)
{
	struct checkcmd *cc = arg;
	const struct conf_registry *reg = cc->app->conf->registry;

	if (r->error != REGISTRY_OK)
		row_set(cc, cc->reg_rows[2], ROW_FAILED, "%s", r->message);
	else
		row_set(cc, cc->reg_rows[2], ROW_OK, "%s: %zu tags, %zu deployable", reg->migrator,
		    r->tags_seen, r->tags_len);
}

static void app_listed(const struct registry_result *r, void *arg)
{
	struct checkcmd *cc = arg;
	const struct conf_registry *reg = cc->app->conf->registry;

	if (r->error == REGISTRY_AUTH) {
		row_set(cc, cc->reg_rows[0], ROW_FAILED, "%s", r->message);
		row_set(cc, cc->reg_rows[1], ROW_SKIPPED, "not tried: the credentials were refused");
	} else {
		row_set(cc, cc->reg_rows[0], r->error == REGISTRY_UNREACHABLE ? ROW_SKIPPED : ROW_OK,
		    r->error == REGISTRY_UNREACHABLE ? "not tried: the registry was not reached" :
		    reg->username ? "accepted for %s" : "none needed (anonymous access to %s)",
		    reg->username ? reg->username : reg->url);
		if (r->error != REGISTRY_OK)
			row_set(cc, cc->reg_rows[1], ROW_FAILED, "%s", r->message);
		else if (r->tags_len == 0)
			row_set(cc, cc->reg_rows[1], ROW_FAILED, "%s: %zu tags, none matching %s: push an "
			    "image tagged that way, or fix tags", reg->app, r->tags_seen,
			    reg->tag_pattern);
		else
			row_set(cc, cc->reg_rows[1], ROW_OK, "%s: %zu tags, %zu deployable (%s)", reg->app,
			    r->tags_seen, r->tags_len, reg->tag_pattern);
	}
	if (cc->reg_rows_len > 2) {
		if (r->error == REGISTRY_AUTH || r->error == REGISTRY_UNREACHABLE)
			row_set(cc, cc->reg_rows[2], ROW_SKIPPED, "not tried");
		else
			registry_tags(cc->app->registry, reg->migrator, migrator_listed, cc);
	}
}

/* ---- the whole ---- */

static void plan_env(struct checkcmd *cc, const struct conf_env *env)
{
	const struct {
		const char *what, *key, *path;
	} paths[] = {
		{ "health", "health_path", env->health_path },
		{ "ready", "ready_path", env->ready_path },
		{ "version", "version_path", env->version_path },
	};

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct http_check *hc = &cc->https[cc->https_len++];

		hc->cc = cc;
		hc->env = env;
		hc->row = row_add(cc, env->name, paths[i].what);
		hc->path_key = paths[i].key;
		hc->url = xasprintf("%s%s", env->url, paths[i].path);
		hc->headers = xcalloc(env->headers_len + 1, sizeof *hc->headers);
		for (size_t h = 0; h < env->headers_len; h++)
			hc->headers[h] = xasprintf("%s: %s", env->headers[h].name,
			    env->headers[h].value.value ? env->headers[h].value.value : "");
	}
	for (size_t j = 0; j < env->hosts_len; j++) {
		struct unit_check_rows *u = &cc->units[cc->units_len++];
		const struct target_ops *ops;

		u->cc = cc;
		u->target = app_target(cc->app, env);
		u->unit = j;
		ops = u->target->ops;
		u->first_row = cc->rows_len;
		for (size_t k = 0; k < ops->check_rows_len; k++) {
			size_t r = row_add(cc, env->name, ops->check_rows[k]);

			/* which host a line is about, where its detail does not say */
			if (env->hosts_len > 1 && k >= ops->check_named_from)
				cc->rows[r].host = env->hosts[j].address;
		}
	}
}

static void print_rows(const struct checkcmd *cc, size_t *passed, size_t *failed, size_t *skipped)
{
	const char *group = NULL;
	static const char *const words[] = { "....", "ok", "FAIL", "skip" };

	for (size_t i = 0; i < cc->rows_len; i++) {
		const struct row *r = &cc->rows[i];

		if (!group || strcmp(group, r->group) != 0) {
			group = r->group;
			printf("%s\n", group);
		}
		printf("  %-4s  %-15s %s%s%s\n", words[r->state], r->what, r->host ? r->host : "",
		    r->host ? ": " : "", r->detail);
		*passed += r->state == ROW_OK;
		*failed += r->state == ROW_FAILED || r->state == ROW_WAITING;
		*skipped += r->state == ROW_SKIPPED;
	}
}

int cmd_check(struct conf *conf, const struct cli_options *o)
{
	const char *env_name = o->env;
	struct checkcmd cc = { 0 };
	size_t nenv = 0, nhosts = 0, passed = 0, failed = 0, skipped = 0;
	const struct conf_env *only = NULL;

	if (env_name) {
		only = conf_env_by_name(conf, env_name);
		if (!only) {
			fprintf(stderr, "gantry: check: no environment \"%s\" in %s\n", env_name, conf->path);
			conf_free(conf);
			return EXIT_USAGE;
		}
	}
	cc.app = app_new(conf);
	for (size_t i = 0; i < conf->envs_len; i++)
		if (!only || only == &conf->envs[i]) {
			nenv++;
			nhosts += conf->envs[i].hosts_len;
		}
	cc.https = xcalloc(nenv * 3, sizeof *cc.https);
	cc.units = xcalloc(nhosts + 1, sizeof *cc.units);
	printf("configuration  %s: %zu environment%s%s\n", conf->path, conf->envs_len,
	    conf->envs_len == 1 ? "" : "s", conf->read_only ? ", read-only" : "");
	for (size_t i = 0; i < conf->envs_len; i++)
		if (!only || only == &conf->envs[i])
			plan_env(&cc, &conf->envs[i]);
	if (conf->registry) {
		cc.reg_rows[cc.reg_rows_len++] = row_add(&cc, "registry", "credentials");
		cc.reg_rows[cc.reg_rows_len++] = row_add(&cc, "registry", "app image");
		if (strcmp(conf->registry->app, conf->registry->migrator) != 0)
			cc.reg_rows[cc.reg_rows_len++] = row_add(&cc, "registry", "migrator image");
		registry_tags(cc.app->registry, conf->registry->app, app_listed, &cc);
	}
	for (size_t i = 0; i < cc.https_len; i += 3)
		http_start(&cc.https[i]);       /* its health; ready and version come after */
	for (size_t i = 0; i < cc.units_len; i++) {
		struct unit_check_rows *u = &cc.units[i];

		u->run = u->target->ops->check(u->target, u->unit, unit_reported, u);
	}
	while (cc.waiting > 0)
		loop_run_once(cc.app->loop, 1000);
	print_rows(&cc, &passed, &failed, &skipped);
	printf("%zu checks: %zu passed, %zu failed", passed + failed + skipped, passed, failed);
	if (skipped)
		printf(", %zu not tried", skipped);
	printf("\n");
	for (size_t i = 0; i < cc.https_len; i++) {
		free(cc.https[i].url);
		for (char **h = cc.https[i].headers; *h; h++)
			free(*h);
		free(cc.https[i].headers);
	}
	for (size_t i = 0; i < cc.units_len; i++)
		cc.units[i].target->ops->check_free(cc.units[i].run);
	free(cc.https);
	free(cc.units);
	free(cc.rows);
	app_free(cc.app);
	return failed ? EXIT_CHECK : EXIT_OK;
}
