/* gantry check [ENV]: every read path of each environment, one line per check, each
 * failure with what to do. The first thing to run against a new configuration. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "exitcode.h"
#include "outbuf.h"
#include "registry.h"
#include "runner.h"
#include "sanitize.h"
#include "template.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_BODY_MAX 65536
#define OUTPUT_MAX 4096

enum row_state { ROW_WAITING, ROW_OK, ROW_FAILED, ROW_SKIPPED };

struct row {
	const char *group;              /* an environment's name, or "registry" */
	const char *host;               /* said before the detail (hosts of a fleet), or NULL */
	char what[32];
	char detail[700];
	enum row_state state;
};

/* The checks of one host, run one after another: the SSH rows come from the first
 * command's fate, then the deploy directory, the runner and the compose file. */
enum host_row { HR_REACH, HR_KEY, HR_LOGIN, HR_DIR, HR_RUNNER, HR_COMPOSE, HOST_ROWS };

struct checkcmd;

/* Looking for the runner, installing it, looking again. */
enum runner_step { STEP_FIND, STEP_INSTALL, STEP_CONFIRM };

struct host_check {
	struct checkcmd *cc;
	const struct conf_env *env;
	struct remote_host *remote;
	const char *address;
	size_t rows[HOST_ROWS];         /* indexes into cc->rows */
	struct outbuf out;
	enum runner_step step;
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
	struct host_check *hosts;
	size_t hosts_len;
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

/* The rows of a host from `from` on, skipped for one reason. */
static void host_skip(struct host_check *hc, enum host_row from, const char *why)
{
	for (int k = from; k < HOST_ROWS; k++)
		row_set(hc->cc, hc->rows[k], ROW_SKIPPED, "%s", why);
}

/* The first line of a command's output, cleaned. */
static void first_line(const struct outbuf *out, char *dst, size_t dstsz)
{
	const char *s = outbuf_text(out);
	size_t n;

	while (*s == '\n')
		s++;
	n = strcspn(s, "\n");
	sanitize_text(s, n, dst, dstsz, 0);
}

/* ---- HTTP: health first; ready and version only from an app that answers ---- */

static void http_start(struct http_check *hc);

static void http_done(const struct http_response *resp, void *arg)
{
	struct http_check *hc = arg;
	static const struct {
		const char *key, *fix;
	} fixes[] = {
		{ "health_path", "the app does not answer: start it, or fix url or health_path" },
		{ "ready_path", "the app is up but not ready: look at its log (gantry logs ENV), or fix "
		  "ready_path" },
		{ "version_path", "gantry cannot tell which tag runs without it: have the app report "
		  "its tag there, or fix version_path and version_pointer" },
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
		.headers = (const char *const *)hc->headers,
	};

	http_get(hc->cc->app->http, &o, http_done, hc);
}

/* ---- hosts ---- */

static void host_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct host_check *hc = arg;

	outbuf_add(&hc->out, data, len, OUTPUT_MAX);
}

/* Whether the connection got as far as running a command; the SSH rows say how far. */
static bool host_reached(struct host_check *hc, enum remote_end how, const char *message)
{
	struct checkcmd *cc = hc->cc;
	enum remote_state st = remote_host_state(hc->remote);
	const char *why = message && *message ? message : remote_host_message(hc->remote);

	if (how == REMOTE_EXITED) {
		row_set(cc, hc->rows[HR_REACH], ROW_OK, "%s answered", hc->address);
		row_set(cc, hc->rows[HR_KEY], ROW_OK, "%s's key is in known_hosts", hc->address);
		row_set(cc, hc->rows[HR_LOGIN], ROW_OK, "logged in to %s", hc->address);
		return true;
	}
	if (st == REMOTE_KEY_UNKNOWN || st == REMOTE_KEY_CHANGED) {
		row_set(cc, hc->rows[HR_REACH], ROW_OK, "%s answered", hc->address);
		row_set(cc, hc->rows[HR_KEY], ROW_FAILED, "%s", why);
		host_skip(hc, HR_LOGIN, "not tried: the host key is not trusted");
	} else if (st == REMOTE_AUTH_FAILED) {
		row_set(cc, hc->rows[HR_REACH], ROW_OK, "%s answered", hc->address);
		row_set(cc, hc->rows[HR_KEY], ROW_OK, "%s's key is in known_hosts", hc->address);
		row_set(cc, hc->rows[HR_LOGIN], ROW_FAILED, "%s", why);
		host_skip(hc, HR_DIR, "not tried: no login");
	} else {
		row_set(cc, hc->rows[HR_REACH], ROW_FAILED, "%s", why);
		host_skip(hc, HR_KEY, "not tried: the host was not reached");
	}
	return false;
}

static void compose_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct host_check *hc = arg;
	char first[300];

	first_line(&hc->out, first, sizeof first);
	if (how != REMOTE_EXITED)
		row_set(hc->cc, hc->rows[HR_COMPOSE], ROW_FAILED, "%s: %s", hc->address,
		    message && *message ? message : "the link dropped");
	else if (status == RUNNER_EXIT_NOT_NEEDED)
		row_set(hc->cc, hc->rows[HR_COMPOSE], ROW_SKIPPED, "%s", first);
	else if (status != 0)
		row_set(hc->cc, hc->rows[HR_COMPOSE], ROW_FAILED, "%s config -q in %s exited %d%s%s; fix "
		    "the compose file there, or set compose: to the command the host has", hc->env->compose,
		    conf_host_deploy_dir(hc->env, remote_host_conf(hc->remote)), status, first[0] ? ": " :
		    "", first);
	else
		row_set(hc->cc, hc->rows[HR_COMPOSE], ROW_OK, "%s config -q passed in %s", hc->env->compose,
		    conf_host_deploy_dir(hc->env, remote_host_conf(hc->remote)));
	outbuf_clear(&hc->out);
}

static const struct remote_cmd_ops compose_ops = {
	.output = host_output, .done = compose_done, .bounded = true,
};

static void compose_start(struct host_check *hc)
{
	if (hc->env->deploy.steps_len) {
		row_set(hc->cc, hc->rows[HR_COMPOSE], ROW_SKIPPED, "the environment has a plan of its "
		    "own (deploy.steps): gantry does not run compose there");
		return;
	}
	runner_run(hc->remote, RUNNER_COMPOSE_CHECK, (const char *const[]){ hc->env->compose }, 1,
	    &compose_ops, hc);
}

static void runner_done(void *arg, enum remote_end how, int status, const char *message);

static const struct remote_cmd_ops runner_ops = {
	.output = host_output, .done = runner_done, .bounded = true,
};

static void runner_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct host_check *hc = arg;
	struct checkcmd *cc = hc->cc;
	const char *dir = conf_host_deploy_dir(hc->env, remote_host_conf(hc->remote));
	enum runner_step step = hc->step;
	char first[300], want[40], *cmd;

	first_line(&hc->out, first, sizeof first);
	outbuf_clear(&hc->out);
	if (!host_reached(hc, how, message))
		return;
	snprintf(want, sizeof want, "gantry-runner %d", RUNNER_PROTOCOL);
	if (status == RUNNER_EXIT_NO_RUNNER && step == STEP_FIND) {
		row_set(cc, hc->rows[HR_DIR], ROW_OK, "%s is there", dir);
		if (remote_host_read_only(hc->remote)) {
			row_set(cc, hc->rows[HR_RUNNER], ROW_OK, "not installed: read-only, so gantry sends "
			    "it along with each command");
			compose_start(hc);
			return;
		}
		/* install, then look again: the install falls back to sending it along */
		hc->step = STEP_INSTALL;
		cmd = runner_install_command(RUNNER_VERSION, NULL, 0);
		remote_run(hc->remote, cmd, &runner_ops, hc);
		free(cmd);
		return;
	}
	if (status == 0 && step == STEP_INSTALL && strcmp(first, want) == 0) {
		hc->step = STEP_CONFIRM;
		cmd = runner_command(RUNNER_VERSION, NULL, 0);
		remote_run(hc->remote, cmd, &runner_ops, hc);
		free(cmd);
		return;
	}
	if (status != 0 && step == STEP_FIND) {
		row_set(cc, hc->rows[HR_DIR], ROW_FAILED, "cannot enter %s (exit %d%s%s): create it, or "
		    "fix deploy_dir", dir, status, first[0] ? ": " : "", first);
		host_skip(hc, HR_RUNNER, "not tried: no deploy directory");
		return;
	}
	row_set(cc, hc->rows[HR_DIR], ROW_OK, "%s is there", dir);
	if (status == RUNNER_EXIT_NO_RUNNER)
		row_set(cc, hc->rows[HR_RUNNER], ROW_FAILED, "could not be installed in %s/.gantry/bin: "
		    "gantry's directory there must be this login's, not a symlink, and writable by it "
		    "alone (chmod 700)", dir);
	else if (status != 0 || strcmp(first, want) != 0)
		row_set(cc, hc->rows[HR_RUNNER], ROW_FAILED, "%s answered \"%s\" (exit %d), not \"%s\": "
		    "the host needs a POSIX sh and the tools src/runner.sh lists", runner_path(), first,
		    status, want);
	else
		row_set(cc, hc->rows[HR_RUNNER], ROW_OK, "%s at %s%s", want, runner_path(),
		    step == STEP_CONFIRM ? " (installed now)" : "");
	compose_start(hc);
}

static void host_start(struct host_check *hc)
{
	char *cmd = runner_command(RUNNER_VERSION, NULL, 0);

	remote_run(hc->remote, cmd, &runner_ops, hc);
	free(cmd);
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
	static const char *const host_whats[HOST_ROWS] = {
		"reachable", "host key", "login", "deploy dir", "runner", "compose file",
	};
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
		struct host_check *hc = &cc->hosts[cc->hosts_len++];

		hc->cc = cc;
		hc->env = env;
		hc->remote = app_host(cc->app, env, j);
		hc->address = env->hosts[j].address;
		for (int k = 0; k < HOST_ROWS; k++) {
			char what[32];

			snprintf(what, sizeof what, "%s", host_whats[k]);
			hc->rows[k] = row_add(cc, env->name, what);
			/* which host a line is about, where its detail does not say */
			if (env->hosts_len > 1 && k >= HR_DIR)
				cc->rows[hc->rows[k]].host = hc->address;
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
	cc.hosts = xcalloc(nhosts + 1, sizeof *cc.hosts);
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
	for (size_t i = 0; i < cc.hosts_len; i++)
		host_start(&cc.hosts[i]);
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
	for (size_t i = 0; i < cc.hosts_len; i++)
		outbuf_clear(&cc.hosts[i].out);
	free(cc.https);
	free(cc.hosts);
	free(cc.rows);
	app_free(cc.app);
	return failed ? EXIT_CHECK : EXIT_OK;
}
