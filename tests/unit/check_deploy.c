/* Deploys' pure parts: plans expanded from gantry.yml (the default compose plan and an
 * environment's own steps), the deploy keys' errors, the host's state and history as
 * read from one command's (untrusted) output, and image references. */
#include "config.h"

#include "conf.h"
#include "deployenv.h"
#include "hoststate.h"
#include "rolloutstatus.h"
#include "runevent.h"
#include "compose/envfile.h"
#include "compose/events.h"
#include "compose/plan.h"
#include "compose/services.h"
#include "compose/statereply.h"
#include "targets.h"
#include "compose/runscript.h"
#include "value.h"
#include "xmalloc.h"
#include "confparse.h"
#include "compose/runner.h"
#include "running.h"
#include "suite.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------- */

/* True when s is valid UTF-8 without C0 controls or DEL. */
static bool clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t need;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		need = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc2 ? 1 : 0;
		if (need == 0 || *p > 0xf4)
			return false;
		for (size_t i = 1; i <= need; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += need + 1;
	}
	return true;
}

/* Checks one expanded step. */
static void step_is(const struct release_step *s, const char *name, const char *command, long long timeout_ms,
    bool switch_point, bool migration)
{
	ck_assert_str_eq(s->name, name);
	ck_assert_str_eq(s->command, command);
	ck_assert_int_eq(s->timeout_ms, timeout_ms);
	ck_assert_int_eq(s->switch_point, switch_point);
	ck_assert_int_eq(s->migration, migration);
}

/* The step named so, or NULL. */
static const struct release_step *step_named(const struct release_step *steps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(steps[i].name, name) == 0)
			return &steps[i];
	return NULL;
}

/* What sh makes of a helper call: the words after the {gantry} prefix, each in <>. */
static char *shell_words(const char *command, const char *prefix)
{
	size_t n = strlen(prefix), len;
	char *cmd, buf[4096];
	FILE *p;

	ck_assert_msg(strncmp(command, prefix, n) == 0, "%s", command);
	cmd = xasprintf("exec 2>/dev/null; printf '<%%s>' %s", command + n);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	len = fread(buf, 1, sizeof buf - 1, p);
	buf[len] = '\0';
	pclose(p);
	free(cmd);
	return xstrdup(buf);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D_APP "sha256:" HEX64
#define D_MIG "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define D_OLD "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define RUN_ID "20261122T103000Z-k3f9"
#define GANTRY "sh .gantry/runs/" RUN_ID "/run.sh"

#define REGISTRY "project: shop\nregistry: {url: 'http://127.0.0.1:5000', app: shop/app, " \
	"migrator: shop/migrator, host: 'reg.internal:5000'}\n"
#define ENV_HEAD "environments:\n  - name: production\n    url: https://shop.example.com\n" \
	"    hosts: [deploy@prod-1, {address: prod-2, deploy_dir: /opt/shop}]\n    deploy_dir: /srv/shop\n"

/* Checks a ready wait: sh must pass the helper the whole URL, however it is quoted. */
static void ready_step_is(const struct release_step *s, const char *words, long long timeout_ms)
{
	char *got = shell_words(s->command, GANTRY " ");

	ck_assert_str_eq(s->name, "wait for ready");
	ck_assert_str_eq(got, words);
	ck_assert_int_eq(s->timeout_ms, timeout_ms);
	ck_assert(!s->switch_point);
	ck_assert(!s->migration);
	free(got);
}

/* The plan for host `host` of the first environment. */
static struct plan_input input(const struct conf *c, size_t host, const char *action, bool back)
{
	static struct release_request req;      /* read by plan_build, right after */

	req = (struct release_request){
		.first_unit = host == 0,
		.id = RUN_ID, .action = action, .source_env = strcmp(action, "promote") == 0 ? "staging" : NULL,
		.operator = "alice@laptop", .started = 1790000000,
		.to = { "sha-1a2b3c4", D_APP, D_MIG },
		.back = { back ? "sha-0ff1ce0" : NULL, D_OLD, NULL },
	};
	return (struct plan_input){
		.conf = c, .env = &c->envs[0], .host = &c->envs[0].hosts[host], .req = &req,
	};
}

/* ---- plans ---------------------------------------------------------------------- */

static const char full_plan_yaml[] = REGISTRY ENV_HEAD
	"    deploy:\n      port: 8080\n      infra: postgres redis\n      auto_rollback: true\n"
	"      smoke: [/api/version, {path: /login, status: 302}]\n";

START_TEST(default_plan_is_the_compose_flow)
{
	char err[300];
	struct conf *c = parse(full_plan_yaml, err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;

	ck_assert_msg(c != NULL, "%s", err);
	in = input(c, 0, "promote", true);
	plan_build(&in, &p);
	ck_assert_str_eq(p.spec.id, RUN_ID);
	ck_assert_str_eq(p.spec.action, "promote");
	ck_assert_str_eq(p.spec.env, "production");
	ck_assert_str_eq(p.spec.source_env, "staging");
	ck_assert_str_eq(p.spec.tag, "sha-1a2b3c4");
	ck_assert_str_eq(p.spec.app_digest, D_APP);
	ck_assert_str_eq(p.spec.migrator_digest, D_MIG);
	ck_assert_str_eq(p.spec.operator, "alice@laptop");
	ck_assert_int_eq(p.spec.started, 1790000000);
	ck_assert_str_eq(p.spec.lock_message, "promote sha-1a2b3c4 from staging");

	ck_assert_uint_eq(p.spec.steps_len, 9);
	s = p.spec.steps;
	step_is(&s[0], "write deploy.env", GANTRY " write-env APP_IMAGE=reg.internal:5000/shop/app:sha-1a2b3c4@"
	    D_APP " MIGRATOR_IMAGE=reg.internal:5000/shop/migrator:sha-1a2b3c4@" D_MIG " APP_PORT=8080",
	    60000, false, false);
	step_is(&s[1], "check compose file", "docker compose config -q", 60000, false, false);
	step_is(&s[2], "pull images", "docker compose pull app migrator", 900000, false, false);
	step_is(&s[3], "start postgres redis", "docker compose up -d postgres redis", 300000, false, false);
	step_is(&s[4], "run migrator", "docker compose up --no-deps --no-color --exit-code-from migrator migrator", 1800000, false, true);
	step_is(&s[5], "start app", "docker compose up -d --no-deps app", 300000, true, false);
	ready_step_is(&s[6], "<wait-ready><https://shop.example.com/api/ready><120><2>", 180000);
	step_is(&s[7], "smoke GET /api/version", GANTRY " http-check 'https://shop.example.com/api/version' 200",
	    60000, false, false);
	step_is(&s[8], "smoke GET /login", GANTRY " http-check 'https://shop.example.com/login' 302",
	    60000, false, false);
	/* how a screen shows them: compose's own command shortened, the rest as they run */
	ck_assert_str_eq(s[2].brief, "compose: pull app migrator");
	ck_assert_str_eq(s[5].brief, "compose: up -d --no-deps app");
	ck_assert_ptr_null(s[0].brief);

	/* the automatic rollback: the same plan for the previous tag, without the migrator */
	ck_assert_str_eq(p.spec.rollback_tag, "sha-0ff1ce0");
	ck_assert_uint_eq(p.spec.rollback_len, 8);
	s = p.spec.rollback;
	step_is(&s[0], "write deploy.env", GANTRY " write-env APP_IMAGE=reg.internal:5000/shop/app:sha-0ff1ce0@"
	    D_OLD " MIGRATOR_IMAGE=reg.internal:5000/shop/migrator:sha-0ff1ce0 APP_PORT=8080", 60000, false, false);
	step_is(&s[2], "pull images", "docker compose pull app migrator", 900000, false, false);
	step_is(&s[3], "start postgres redis", "docker compose up -d postgres redis", 300000, false, false);
	step_is(&s[4], "start app", "docker compose up -d --no-deps app", 300000, true, false);
	ready_step_is(&s[5], "<wait-ready><https://shop.example.com/api/ready><120><2>", 180000);
	ck_assert_ptr_null(step_named(s, p.spec.rollback_len, "run migrator"));
	for (size_t i = 0; i < p.spec.rollback_len; i++)
		ck_assert(!s[i].migration);
	plan_free(&p);
	ck_assert_ptr_null(p.strings);
	conf_free(c);
}
END_TEST

START_TEST(migrator_runs_once_and_never_on_rollback)
{
	char err[300];
	struct conf *c = parse(full_plan_yaml, err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;

	ck_assert_msg(c != NULL, "%s", err);
	/* an explicit rollback skips migrations */
	in = input(c, 0, "rollback", true);
	plan_build(&in, &p);
	ck_assert_str_eq(p.spec.lock_message, "rollback sha-1a2b3c4");
	ck_assert_ptr_null(p.spec.source_env);
	ck_assert_uint_eq(p.spec.steps_len, 8);
	ck_assert_ptr_null(step_named(p.spec.steps, p.spec.steps_len, "run migrator"));
	ck_assert_str_eq(p.spec.steps[4].name, "start app");
	ck_assert(p.spec.steps[4].switch_point);
	plan_free(&p);

	/* the second host does not run the `once` migrator, but still pulls its image */
	in = input(c, 1, "promote", false);
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 8);
	ck_assert_ptr_null(step_named(p.spec.steps, p.spec.steps_len, "run migrator"));
	ck_assert_str_eq(p.spec.steps[2].command, "docker compose pull app migrator");
	ck_assert_uint_eq(p.spec.rollback_len, 0);      /* no `back` tag: no automatic rollback */
	ck_assert_ptr_null(p.spec.rollback_tag);
	plan_free(&p);

	/* the first host does run it */
	in = input(c, 0, "deploy", false);
	plan_build(&in, &p);
	ck_assert_str_eq(p.spec.lock_message, "deploy sha-1a2b3c4");
	s = step_named(p.spec.steps, p.spec.steps_len, "run migrator");
	ck_assert_ptr_nonnull(s);
	ck_assert(s && s->migration);
	plan_free(&p);
	conf_free(c);
}
END_TEST

START_TEST(default_plan_follows_the_deploy_keys)
{
	char err[300];
	struct conf *c = parse(REGISTRY ENV_HEAD, err, sizeof err);
	struct plan_input in;
	struct plan p;

	/* no port, no infra, a migrator, no auto_rollback */
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].deploy.services, "app");
	ck_assert_str_eq(c->envs[0].deploy.migrator, "migrator");
	ck_assert_str_eq(c->envs[0].deploy.infra, "");
	ck_assert_ptr_null(c->envs[0].deploy.port);
	ck_assert_ptr_null(c->envs[0].deploy.steps);
	ck_assert(!c->envs[0].deploy.auto_rollback);
	in = input(c, 0, "promote", true);
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 6);
	step_is(&p.spec.steps[0], "write deploy.env", GANTRY " write-env APP_IMAGE=reg.internal:5000/shop/app:"
	    "sha-1a2b3c4@" D_APP " MIGRATOR_IMAGE=reg.internal:5000/shop/migrator:sha-1a2b3c4@" D_MIG,
	    60000, false, false);
	ck_assert_str_eq(p.spec.steps[1].name, "check compose file");
	ck_assert_str_eq(p.spec.steps[2].name, "pull images");
	ck_assert_str_eq(p.spec.steps[3].name, "run migrator");
	ck_assert_str_eq(p.spec.steps[4].name, "start app");
	ck_assert_str_eq(p.spec.steps[5].name, "wait for ready");
	for (size_t i = 0; i < p.spec.steps_len; i++)
		ck_assert_msg(strncmp(p.spec.steps[i].name, "start ", 6) != 0 ||
		    strcmp(p.spec.steps[i].name, "start app") == 0, "%s", p.spec.steps[i].name);
	ck_assert_uint_eq(p.spec.rollback_len, 0);      /* auto_rollback is off */
	ck_assert_ptr_null(p.spec.rollback_tag);
	plan_free(&p);
	conf_free(c);

	/* migrator: null, other services, a compose command, ready timings */
	c = parse(REGISTRY ENV_HEAD "    compose: podman-compose\n"
	    "    deploy: {migrator: null, services: 'web worker', ready_timeout: 90s, ready_interval: 1500ms, "
	    "auto_rollback: true}\n", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].deploy.migrator, "");
	in = input(c, 0, "promote", false);             /* auto_rollback without `back`: none */
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 5);
	step_is(&p.spec.steps[2], "pull images", "podman-compose pull web worker", 900000, false, false);
	step_is(&p.spec.steps[3], "start app", "podman-compose up -d --no-deps web worker", 300000, true, false);
	ready_step_is(&p.spec.steps[4], "<wait-ready><https://shop.example.com/api/ready><90><2>", 150000);
	ck_assert_ptr_null(step_named(p.spec.steps, p.spec.steps_len, "run migrator"));
	for (size_t i = 0; i < p.spec.steps_len; i++)
		ck_assert(!p.spec.steps[i].migration);
	ck_assert_uint_eq(p.spec.rollback_len, 0);
	plan_free(&p);
	conf_free(c);
}
END_TEST

START_TEST(smoke_paths_stay_literal)
{
	char err[300];
	struct conf *c = parse(REGISTRY ENV_HEAD "    deploy:\n      smoke:\n"
	    "        - {path: \"/it's/$HOME/{tag}/a{{b?x=1&y=`id`\", status: 404}\n"
	    "        - {path: /api/version, body: \"\\\"v\\\": '{tag}' $(id)\"}\n", err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;
	char *words;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].deploy.smoke[0].path, "/it's/$HOME/{tag}/a{{b?x=1&y=`id`");
	ck_assert_int_eq(c->envs[0].deploy.smoke[0].status, 404);
	in = input(c, 0, "promote", false);
	plan_build(&in, &p);
	s = &p.spec.steps[p.spec.steps_len - 2];
	/* single-quoted, a quote in it closed and escaped, every '{' kept */
	ck_assert_str_eq(s->command, GANTRY " http-check 'https://shop.example.com"
	    "/it'\\''s/$HOME/{tag}/a{{b?x=1&y=`id`' 404");
	words = shell_words(s->command, GANTRY " ");
	ck_assert_str_eq(words, "<http-check><https://shop.example.com/it's/$HOME/{tag}/a{{b?x=1&y=`id`><404>");
	free(words);
	/* the step's name shows the path as written, too */
	ck_assert_str_eq(s->name, "smoke GET /it's/$HOME/{tag}/a{{b?x=1&y=`id`");
	/* a body's text: one more word, as literal */
	s = &p.spec.steps[p.spec.steps_len - 1];
	ck_assert_str_eq(c->envs[0].deploy.smoke[1].body, "\"v\": '{tag}' $(id)");
	words = shell_words(s->command, GANTRY " ");
	ck_assert_str_eq(words, "<http-check><https://shop.example.com/api/version><200><\"v\": '{tag}' $(id)>");
	free(words);
	plan_free(&p);
	conf_free(c);
}
END_TEST

START_TEST(ready_url_is_one_shell_word)
{
	char err[300];
	struct conf *c = parse(REGISTRY ENV_HEAD "    ready: '/api/ready?deep=1&db=1'\n", err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;
	char *words;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].ready_path, "/api/ready?deep=1&db=1");
	in = input(c, 0, "promote", false);
	plan_build(&in, &p);
	s = step_named(p.spec.steps, p.spec.steps_len, "wait for ready");
	ck_assert_ptr_nonnull(s);
	/* an '&' in the ready path must not end the command on the host */
	words = shell_words(s->command, GANTRY " ");
	ck_assert_str_eq(words, "<wait-ready><https://shop.example.com/api/ready?deep=1&db=1><120><2>");
	free(words);
	plan_free(&p);
	conf_free(c);
}
END_TEST

static const char custom_yaml[] = REGISTRY ENV_HEAD
	"    deploy:\n      url: http://127.0.0.1:8080\n      auto_rollback: true\n      steps:\n"
	"        - {name: 'migrate to {tag}', run: './migrate.sh {migrator_image} {{x} ${HOME}', once: true,"
	" migration: true, timeout: 20m}\n"
	"        - {name: deploy, run: 'IMAGE={app_image} ./deploy.sh {env} {action} {deploy_dir} {port}.'}\n"
	"        - {name: announce, run: 'echo {ready_url} {url} {app_digest}'}\n";

START_TEST(custom_steps_are_expanded)
{
	char err[300];
	struct conf *c = parse(custom_yaml, err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->envs[0].deploy.steps_len, 3);
	ck_assert_int_eq(c->envs[0].deploy.steps[1].timeout_ms, 600000);      /* default 10m */
	in = input(c, 0, "promote", true);
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 4);
	s = p.spec.steps;
	/* {{ is a literal {, ${HOME} is the shell's */
	step_is(&s[0], "migrate to sha-1a2b3c4", "./migrate.sh reg.internal:5000/shop/migrator:sha-1a2b3c4@"
	    D_MIG " {x} ${HOME}", 1200000, false, true);
	step_is(&s[1], "deploy", "IMAGE=reg.internal:5000/shop/app:sha-1a2b3c4@" D_APP
	    " ./deploy.sh production promote '/srv/shop' .", 600000, false, false);
	/* no step says switch: the last of the environment's own steps is the switch */
	step_is(&s[2], "announce", "echo 'http://127.0.0.1:8080/api/ready' 'http://127.0.0.1:8080' " D_APP,
	    600000, true, false);
	ready_step_is(&s[3], "<wait-ready><http://127.0.0.1:8080/api/ready><120><2>", 180000);
	/* the rollback: no migration, the previous tag (known without a migrator digest) */
	ck_assert_uint_eq(p.spec.rollback_len, 3);
	step_is(&p.spec.rollback[0], "deploy", "IMAGE=reg.internal:5000/shop/app:sha-0ff1ce0@" D_OLD
	    " ./deploy.sh production promote '/srv/shop' .", 600000, false, false);
	ck_assert_str_eq(p.spec.rollback[1].command, "echo 'http://127.0.0.1:8080/api/ready' 'http://127.0.0.1:8080' "
	    D_OLD);
	ck_assert(p.spec.rollback[1].switch_point);
	plan_free(&p);

	/* the second host: no `once` step, its own deploy_dir */
	in = input(c, 1, "promote", false);
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 3);
	ck_assert_str_eq(p.spec.steps[0].command, "IMAGE=reg.internal:5000/shop/app:sha-1a2b3c4@" D_APP
	    " ./deploy.sh production promote '/opt/shop' .");
	ck_assert(p.spec.steps[1].switch_point);
	plan_free(&p);
	conf_free(c);
}
END_TEST

START_TEST(an_explicit_switch_is_kept)
{
	char err[300];
	struct conf *c = parse(REGISTRY ENV_HEAD "    deploy:\n      steps:\n"
	    "        - {name: up, run: 'docker compose up -d', switch: true}\n"
	    "        - {run: 'echo done {tag}'}\n", err, sizeof err);
	struct plan_input in;
	struct plan p;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].deploy.steps[1].name, "echo done {tag}");     /* the name defaults to the run */
	in = input(c, 0, "deploy", false);
	plan_build(&in, &p);
	ck_assert_uint_eq(p.spec.steps_len, 3);
	ck_assert(p.spec.steps[0].switch_point);
	ck_assert(!p.spec.steps[1].switch_point);
	ck_assert_str_eq(p.spec.steps[1].command, "echo done sha-1a2b3c4");
	ck_assert(!p.spec.steps[2].switch_point);
	plan_free(&p);
	conf_free(c);
}
END_TEST

START_TEST(image_refs_pin_tag_and_digest)
{
	struct conf_registry r = { .host = "reg.internal:5000" };
	char *a = release_image_ref(&r, "shop/app", "sha-1a2b3c4", D_APP);
	char *b = release_image_ref(&r, "shop/app", "sha-1a2b3c4", NULL);
	char *c = release_image_ref(&r, "shop/app", "sha-1a2b3c4", "");
	char tag[80], digest[80];

	ck_assert_str_eq(a, "reg.internal:5000/shop/app:sha-1a2b3c4@" D_APP);
	ck_assert_str_eq(b, "reg.internal:5000/shop/app:sha-1a2b3c4");
	ck_assert_str_eq(c, "reg.internal:5000/shop/app:sha-1a2b3c4");
	/* what a host then holds in deploy.env reads back to the same tag and digest */
	deployenv_image_tag(a, tag, sizeof tag);
	deployenv_image_digest(a, digest, sizeof digest);
	ck_assert_str_eq(tag, "sha-1a2b3c4");
	ck_assert_str_eq(digest, D_APP);
	free(a);
	free(b);
	free(c);
}
END_TEST

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D64B "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(running_services_are_read_and_compared)
{
	static const char out[] =
	    "celery-beat 127.0.0.1:5000/shop/app:sha-1c0ffee@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	    "\n"                        /* a stopped container */
	    "backend 127.0.0.1:5000/shop/app:sha-2c0ffee@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
	    "postgres postgres:16\n"
	    "celery-worker 127.0.0.1:5000/shop/app:sha-2c0ffee\n";
	struct running r = { 0 };
	const struct running_service *d;
	char why[200], repo[80];

	ck_assert_msg(running_parse(out, sizeof out - 1, &r, why, sizeof why), "%s", why);
	ck_assert_uint_eq(r.len, 4);
	/* sorted by name */
	ck_assert_str_eq(r.list[0].name, "backend");
	ck_assert_str_eq(r.list[0].repo, "127.0.0.1:5000/shop/app");
	ck_assert_str_eq(r.list[0].tag, "sha-2c0ffee");
	ck_assert_str_eq(r.list[1].name, "celery-beat");
	ck_assert_str_eq(r.list[1].tag, "sha-1c0ffee");
	ck_assert_str_eq(r.list[3].name, "postgres");
	ck_assert_str_eq(r.list[3].repo, "postgres");
	/* drift: only services of the app's repository are compared */
	d = running_drift(&r, "127.0.0.1:5000/shop/app", "sha-2c0ffee", "");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->name, "celery-beat");
	ck_assert_ptr_null(running_drift(&r, "127.0.0.1:5000/other", "sha-2c0ffee", ""));
	/* by digest where both pin one: a runtime that kept only the digest of tag@digest */
	ck_assert(running_parse("app reg/app@sha256:" D64 "\n", strlen("app reg/app@sha256:" D64 "\n"),
	    &r, why, sizeof why));
	ck_assert_str_eq(r.list[0].tag, "@sha256:0123456789ab");
	ck_assert_ptr_null(running_drift(&r, "reg/app", "sha-2c0ffee", "sha256:" D64));
	ck_assert_str_eq(running_tag(&r.list[0], "sha-2c0ffee", "sha256:" D64), "sha-2c0ffee");
	ck_assert_ptr_nonnull(running_drift(&r, "reg/app", "sha-2c0ffee", "sha256:" D64B));
	ck_assert_str_eq(running_tag(&r.list[0], "sha-2c0ffee", "sha256:" D64B), "@sha256:0123456789ab");
	running_image_repo("reg:5000/a/b@sha256:00", repo, sizeof repo);
	ck_assert_str_eq(repo, "reg:5000/a/b");
	running_image_repo("reg:5000/a/b", repo, sizeof repo);
	ck_assert_str_eq(repo, "reg:5000/a/b");

	/* what a host must never pass off as a service */
	static const char *const bad[] = {
		"backend\n", " img:1\n", "back end img:1\n", "backend img:1 extra\n",
		"backend img:\x1b[31m\n", "b\x01 img:1\n", "backend \n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(!running_parse(bad[i], strlen(bad[i]), &r, why, sizeof why), "%s", bad[i]);
		ck_assert_str_eq(why, "deploy.running's line 1 is not \"SERVICE IMAGE\"");
		ck_assert_ptr_null(r.list);
	}
	/* bounded */
	{
		char *many = xmalloc(70 * 16 + 1), *p = many;

		for (int i = 0; i < 70; i++)
			p += sprintf(p, "s%02d img:1\n", i);
		ck_assert(!running_parse(many, strlen(many), &r, why, sizeof why));
		ck_assert_str_eq(why, "deploy.running listed more than 64 containers");
		free(many);
	}
	running_free(&r);
}
END_TEST

START_TEST(run_ids_are_time_and_suffix)
{
	char id[40], other[40];

	release_new_id(id, sizeof id, 1790000000);
	ck_assert_uint_eq(strlen(id), strlen("20260921T141320Z-abcd"));
	ck_assert_msg(strncmp(id, "20260921T141320Z-", 17) == 0, "%s", id);
	ck_assert_uint_eq(strspn(id + 17, "abcdefghijkmnpqrstuvwxyz23456789"), 4);
	ck_assert(value_run_id(id));
	/* random suffixes: 20 ids in the same second are not all the same */
	for (int i = 0; i < 20; i++) {
		release_new_id(other, sizeof other, 1790000000);
		if (strcmp(id, other) != 0)
			break;
		ck_assert_int_lt(i, 19);
	}
}
END_TEST

/* The first error of an environment with hosts whose deploy: block is `deploy`. */
static void deploy_error(const char *deploy, char *err, size_t errsz)
{
	char *yaml = xasprintf(REGISTRY "environments:\n  - name: production\n    url: https://shop.example.com\n"
	    "    hosts: [deploy@prod-1]\n    deploy_dir: /srv/shop\n    deploy:\n%s", deploy);
	struct conf *c = parse(yaml, err, errsz);

	free(yaml);
	if (c)
		conf_free(c);
	ck_assert_msg(c == NULL, "accepted: %s", deploy);
}

START_TEST(step_templates_name_every_variable)
{
	char err[400];

	deploy_error("      steps:\n        - {name: deploy, run: './deploy.sh {tag} {image}'}\n", err, sizeof err);
	ck_assert_str_eq(err, "g.yml:10:31: environments[0].deploy.steps[0].run: unknown variable {image}; known: "
	    "{tag} {app_image} {migrator_image} {app_digest} {migrator_digest} {env} {action} {deploy_dir} "
	    "{compose} {port} {services} {migrator} {infra} {url} {ready_url} {gantry}");
}
END_TEST

START_TEST(a_host_can_name_its_own_app_port_and_url)
{
	char err[400];
	struct conf *c = parse(REGISTRY "environments:\n  - name: production\n    url: https://shop.example.com\n"
	    "    deploy_dir: /srv/shop\n    hosts:\n      - deploy@prod-1\n"
	    "      - {address: tenant-2, app_port: 8082, app_url: 'http://127.0.0.1:8082'}\n"
	    "    deploy: {port: 8080, url: 'http://127.0.0.1:8080', smoke: [/api/version]}\n", err, sizeof err);
	struct plan_input in;
	struct plan p;
	const struct release_step *s;

	ck_assert_msg(c != NULL, "%s", err);
	/* host 1: the environment's */
	in = input(c, 0, "deploy", false);
	plan_build(&in, &p);
	ck_assert_msg(strstr(p.spec.steps[0].command, " APP_PORT=8080"), "%s", p.spec.steps[0].command);
	s = step_named(p.spec.steps, p.spec.steps_len, "wait for ready");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s->command, "'http://127.0.0.1:8080/api/ready'"), "%s", s->command);
	plan_free(&p);
	/* host 2: its own port and URL, for the ready wait and the smoke checks */
	in = input(c, 1, "deploy", false);
	plan_build(&in, &p);
	ck_assert_msg(strstr(p.spec.steps[0].command, " APP_PORT=8082"), "%s", p.spec.steps[0].command);
	s = step_named(p.spec.steps, p.spec.steps_len, "wait for ready");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s->command, "'http://127.0.0.1:8082/api/ready'"), "%s", s->command);
	s = step_named(p.spec.steps, p.spec.steps_len, "smoke GET /api/version");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s->command, "'http://127.0.0.1:8082/api/version' 200"), "%s", s->command);
	plan_free(&p);
	conf_free(c);

	/* bad values say where */
	c = parse(REGISTRY "environments:\n  - name: production\n    url: https://shop.example.com\n"
	    "    deploy_dir: /srv/shop\n    hosts: [{address: a, app_port: 0}]\n", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "g.yml:7:36: environments[0].hosts[0].app_port: expected a whole number "
	    "from 1 to 65535, got \"0\"");
	c = parse(REGISTRY "environments:\n  - name: production\n    url: https://shop.example.com\n"
	    "    deploy_dir: /srv/shop\n    hosts: [{address: a, app_url: 'http://x/`id`'}]\n", err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "g.yml:7:35: environments[0].hosts[0].app_url: '`' is not allowed in a URL "
	    "that goes into a shell command");
}
END_TEST

START_TEST(deploy_keys_say_where)
{
	char err[400];
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "      port: 70000\n",
		  "g.yml:9:13: environments[0].deploy.port: expected a whole number from 1 to 65535, got \"70000\"" },
		{ "      port: http\n",
		  "g.yml:9:13: environments[0].deploy.port: expected a whole number from 1 to 65535, got \"http\"" },
		{ "      services: 'app;rm -rf /'\n",
		  "g.yml:9:17: environments[0].deploy.services: expected compose service names separated by "
		  "spaces, such as \"app worker\"; ';' is not allowed" },
		{ "      services: '  '\n",
		  "g.yml:9:17: environments[0].deploy.services: expected at least one compose service name" },
		{ "      migrator: 'mig$x'\n",
		  "g.yml:9:17: environments[0].deploy.migrator: expected compose service names separated by "
		  "spaces, such as \"app worker\"; '$' is not allowed" },
		{ "      infra: 'db,redis'\n",
		  "g.yml:9:14: environments[0].deploy.infra: expected compose service names separated by "
		  "spaces, such as \"app worker\"; ',' is not allowed" },
		{ "      smoke: [{path: /x, status: 99}]\n",
		  "g.yml:9:34: environments[0].deploy.smoke[0].status: expected a whole number from 100 to 599, got \"99\"" },
		{ "      smoke: [/ok, {path: /x, status: ok}]\n",
		  "g.yml:9:39: environments[0].deploy.smoke[1].status: expected a whole number from 100 to 599, got \"ok\"" },
		{ "      smoke: [x]\n",
		  "g.yml:9:15: environments[0].deploy.smoke[0]: expected a path starting with \"/\", got \"x\"" },
		{ "      url: 'http://127.0.0.1:8080/$(id)'\n",
		  "g.yml:9:12: environments[0].deploy.url: '$' is not allowed in a URL that goes into a shell command" },
		{ "      url: 'http://127.0.0.1:8080/a;b'\n",
		  "g.yml:9:12: environments[0].deploy.url: ';' is not allowed in a URL that goes into a shell command" },
		{ "      steps: []\n",
		  "g.yml:9:14: environments[0].deploy.steps: expected a list of steps, such as [{name: deploy, "
		  "run: ./deploy.sh {tag}}]" },
		{ "      steps: [{name: x}]\n",
		  "g.yml:9:15: environments[0].deploy.steps[0]: missing required key \"run\" (the command, run by "
		  "sh in the deploy directory; {tag}, {app_image} ... are filled in)" },
		{ "      parallel: 0\n",
		  "g.yml:9:17: environments[0].deploy.parallel: expected a whole number from 1 to 1000, got \"0\"" },
		{ "      retag: [stable, 'a/b']\n",
		  "g.yml:9:23: environments[0].deploy.retag: \"a/b\" is not a tag: letters, digits, '_', "
		  "'.' and '-', at most 128, not starting with '.' or '-'" },
		{ "      retag: 'stable sha-1234567'\n",
		  "g.yml:9:14: environments[0].deploy.retag: \"sha-1234567\" matches registry.tags, so it "
		  "names a build; deploy.retag moves tags no build is deployed by (builds' tags never move)" },
		{ "      retag: {x: 1}\n",
		  "g.yml:9:14: environments[0].deploy.retag: expected a string, got a mapping" },
		{ "      bogus: 1\n", "g.yml:9:7: environments[0].deploy.bogus: unknown key" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		deploy_error(cases[i].yaml, err, sizeof err);
		ck_assert_str_eq(err, cases[i].want);
	}
}
END_TEST

/* An environment of a thousand hosts is read; one more is refused, where it starts. */
START_TEST(a_thousand_hosts_at_most)
{
	char err[300];
	size_t cap = 64 * 1024;
	char *yaml = xcalloc(1, cap);
	struct conf *c;

	for (int n = 1000; n <= 1001; n++) {
		snprintf(yaml, cap, REGISTRY "environments:\n  - name: web\n    url: http://w\n"
		    "    deploy_dir: /srv/shop\n    hosts: [");
		for (int i = 0; i < n; i++)
			snprintf(yaml + strlen(yaml), cap - strlen(yaml), "%sdeploy@web-%d", i ? ", " : "", i);
		snprintf(yaml + strlen(yaml), cap - strlen(yaml), "]\n");
		c = parse(yaml, err, sizeof err);
		if (n == 1000) {
			ck_assert_msg(c != NULL, "%s", err);
			ck_assert_uint_eq(c->envs[0].hosts_len, 1000);
			ck_assert_int_eq(c->envs[0].deploy.parallel, 1);
			conf_free(c);
		} else {
			ck_assert(c == NULL);
			ck_assert_str_eq(err, "g.yml:7:12: environments[0].hosts: at most 1000 hosts per "
			    "environment are supported");
		}
	}
	free(yaml);
}
END_TEST

/* An environment's target is one gantry knows, by default compose over SSH. */
START_TEST(the_target_is_one_gantry_knows)
{
	char err[300];
	struct conf *c = parse(REGISTRY ENV_HEAD, err, sizeof err);

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq((int)c->envs[0].target, target_kind_find("compose-ssh"));
	ck_assert_str_eq(target_kind(c->envs[0].target)->name, "compose-ssh");
	conf_free(c);
	c = parse(REGISTRY ENV_HEAD "    target: swarm\n", err, sizeof err);
	ck_assert(c == NULL);
	ck_assert_str_eq(err, "g.yml:8:13: environments[0].target: unknown target \"swarm\"; gantry "
	    "deploys to: compose-ssh");
}
END_TEST

START_TEST(deploy_defaults_are_inherited)
{
	char err[300];
	struct conf *c = parse(REGISTRY "defaults:\n  deploy_dir: /srv/shop\n  soak: 10m\n"
	    "  deploy: {port: '8081', smoke: [/api/version], auto_rollback: true, retag: [stable, prod-current]}\n"
	    "environments:\n  - {name: staging, url: 'http://s', hosts: [s1]}\n"
	    "  - {name: production, url: 'http://p', hosts: [p1], protected: true, deploy: {port: 9000}}\n",
	    err, sizeof err);

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->envs[0].deploy.port, "8081");
	ck_assert_uint_eq(c->envs[0].deploy.smoke_len, 1);
	ck_assert_str_eq(c->envs[0].deploy.smoke[0].path, "/api/version");
	ck_assert_int_eq(c->envs[0].deploy.smoke[0].status, 200);
	ck_assert(c->envs[0].deploy.auto_rollback);
	ck_assert(!c->envs[0].deploy.protected_env);
	ck_assert_int_eq(c->envs[0].deploy.soak_ms, 600000);
	ck_assert_str_eq(c->envs[1].deploy.retag, "stable prod-current");
	ck_assert_str_eq(c->envs[0].deploy.retag, "stable prod-current");
	ck_assert_int_eq(c->envs[0].deploy.ready_timeout_ms, 120000);
	ck_assert_int_eq(c->envs[0].deploy.ready_interval_ms, 2000);
	ck_assert_str_eq(c->envs[1].deploy.port, "9000");
	ck_assert_uint_eq(c->envs[1].deploy.smoke_len, 1);
	ck_assert(c->envs[1].deploy.protected_env);
	conf_free(c);
}
END_TEST

/* ---- the host's state ---------------------------------------------------------- */

#define MARK "@@gantry-state@@ "

/* A host's reply in gantry's framing, built from its parts: what the command prints
 * itself plain, what comes from a file hex-encoded, as the host's x() does. NULL: the
 * part is empty (deploy.env: none; its status and time follow). */
struct reply {
	const char *now, *lock, *owner, *plan, *driver, *request, *freeze, *freeze_file, *current, *deploy_env,
	    *history_size, *history, *current_run;
};

static void add_hex(char **text, const char *plain)
{
	size_t n = plain ? strlen(plain) : 0, len = strlen(*text);

	*text = xrealloc(*text, len + 2 * n + 2);
	for (size_t i = 0; i < n; i++)
		sprintf(*text + len + 2 * i, "%02x", (unsigned char)plain[i]);
	strcpy(*text + len + 2 * n, "\n");
}

static void add_plain(char **text, const char *mark, const char *plain)
{
	char *more = xasprintf("%s" MARK "%s\n%s%s", *text, mark, plain ? plain : "",
	    plain && *plain && plain[strlen(plain) - 1] != '\n' ? "\n" : "");

	free(*text);
	*text = more;
}

static char *framed(const struct reply *r)
{
	char *text = xstrdup("");

	add_plain(&text, "now", r->now ? r->now : "1790000900");
	add_plain(&text, "lock", r->lock);
	add_plain(&text, "lock-owner", NULL);
	add_hex(&text, r->owner);
	add_plain(&text, "lock-plan", NULL);
	add_hex(&text, r->plan);
	add_plain(&text, "lock-driver", NULL);
	add_hex(&text, r->driver);
	add_plain(&text, "lock-request", NULL);
	add_hex(&text, r->request);
	add_plain(&text, "freeze", r->freeze);
	add_plain(&text, "freeze-file", NULL);
	add_hex(&text, r->freeze_file);
	add_plain(&text, "current", NULL);
	add_hex(&text, r->current);
	add_plain(&text, "deploy.env-status", r->deploy_env ? "0" : "missing");
	add_plain(&text, "deploy.env", NULL);
	add_hex(&text, r->deploy_env);
	add_plain(&text, "deploy.env-mtime", r->deploy_env ? "1790000500" : NULL);
	add_plain(&text, "run-start", NULL);
	add_hex(&text, NULL);
	add_plain(&text, "run-events", NULL);
	add_hex(&text, NULL);
	add_plain(&text, "current-run", NULL);
	add_hex(&text, r->current_run);
	add_plain(&text, "history-size", r->history_size);
	add_plain(&text, "history", NULL);
	add_hex(&text, r->history);
	add_plain(&text, "end", NULL);
	return text;
}
#define START_OLD "{\"id\":\"20261121T090000Z-ab12\",\"event\":\"start\",\"started\":1789990000,\"operator\":\"bob@ci\"," \
	"\"action\":\"deploy\",\"env\":\"production\",\"tag\":\"sha-0ff1ce0\",\"app_digest\":\"" D_OLD "\"," \
	"\"migrator_digest\":\"\",\"steps\":[\"write deploy.env\",\"start app\",\"wait for ready\"]}\n"
#define END_OLD "{\"id\":\"20261121T090000Z-ab12\",\"event\":\"end\",\"ended\":1789990100,\"result\":\"succeeded\"," \
	"\"failed_step\":0,\"migrated\":false,\"steps\":[{\"phase\":\"step\",\"name\":\"write deploy.env\",\"exit\":0," \
	"\"ms\":120},{\"phase\":\"step\",\"name\":\"start app\",\"exit\":0,\"ms\":3400},{\"phase\":\"step\"," \
	"\"name\":\"wait for ready\",\"exit\":0,\"ms\":5000}]}\n"
#define NOTE_FREEZE "{\"id\":\"freeze-1790000000\",\"event\":\"note\",\"kind\":\"freeze\",\"env\":\"production\"," \
	"\"operator\":\"carol@ops\",\"at\":1790000000,\"message\":\"incident 42: db failover\"}\n"
#define START_INTERRUPTED "{\"id\":\"20261121T120000Z-cd34\",\"event\":\"start\",\"started\":1790000100," \
	"\"operator\":\"dave@laptop\",\"action\":\"promote\",\"env\":\"production\",\"tag\":\"sha-2222222\"," \
	"\"app_digest\":\"sha256:" "2222222222222222222222222222222222222222222222222222222222222222" "\"," \
	"\"migrator_digest\":\"sha256:" "2323232323232323232323232323232323232323232323232323232323232323" \
	"\",\"steps\":[\"write deploy.env\"," \
	"\"run migrator\",\"start app\"],\"source\":\"staging\"}\n"
#define START_RUNNING "{\"id\":\"" RUN_ID "\",\"event\":\"start\",\"started\":1790000800,\"operator\":\"alice@laptop\"," \
	"\"action\":\"promote\",\"env\":\"production\",\"tag\":\"sha-1a2b3c4\",\"app_digest\":\"" D_APP "\"," \
	"\"migrator_digest\":\"" D_MIG "\",\"steps\":[\"write deploy.env\",\"run migrator\",\"start app\"," \
	"\"wait for ready\"],\"source\":\"staging\",\"rollback_tag\":\"sha-0ff1ce0\",\"rollback_steps\":" \
	"[\"write deploy.env\",\"start app\",\"wait for ready\"]}\n"

static const struct reply held = {
	.lock = "held=1\npid=1\nalive=1\n",
	.owner = "owner=alice@laptop\nsince=1790000800\nrun=" RUN_ID "\n"
	    "message=promote sha-1a2b3c4 from staging\n",
	.freeze = "frozen=1\n",
	.freeze_file = "by=carol@ops\nsince=1790000000\nreason=incident 42: db failover\n",
	.current = RUN_ID "\n",
	.deploy_env = "APP_IMAGE=reg.internal:5000/shop/app:sha-0ff1ce0@" D_OLD "\n"
	    "MIGRATOR_IMAGE=reg.internal:5000/shop/migrator:sha-0ff1ce0\nAPP_PORT=8080\n",
	.history_size = "2048",
	.history = START_OLD END_OLD NOTE_FREEZE "not json at all\n[1,2]\n" START_INTERRUPTED START_RUNNING,
};

/* A rollout's driver and the request waiting for it, read with the lock; a record that is
 * not gantry's (a token that is no token, a beat that is no number) is no driver. */
START_TEST(a_drivers_record_is_read_with_the_lease)
{
	struct reply r = held;
	struct host_state st;
	char why[200] = "", *text;

	r.driver = "token=0123456789abcdef\nby=alice@laptop\nstale=15\nstate=paused\nwave=2\n"
	    "why=wave 2 of 3: \x1b]0;evil\x07p3 failed\nbeat=1790000890\n";
	r.request = "id=fedcba9876543210\nask=abort\nby=carol@ops\nwhy=bad canary\nat=1790000895\n";
	text = framed(&r);
	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	free(text);
	ck_assert(st.driver.present);
	ck_assert_str_eq(st.driver.token, "0123456789abcdef");
	ck_assert_int_eq(st.driver.state, DRIVE_PAUSED);
	ck_assert_uint_eq(st.driver.wave, 2);
	ck_assert_ptr_null(strchr(st.driver.why, '\x1b'));
	ck_assert(drive_live(&st.driver, st.host_now));         /* 10 s old, 15 s allowed */
	ck_assert(!drive_live(&st.driver, st.host_now + 6));
	ck_assert(st.request.present);
	ck_assert_int_eq(st.request.ask, DRIVE_ASK_ABORT);
	ck_assert_str_eq(st.request.why, "bad canary");
	hoststate_free(&st);
	r.driver = "token=../../x\nstale=15\nstate=running\nbeat=1790000890\n";
	r.request = "id=1\nask=detonate\n";
	text = framed(&r);
	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	free(text);
	ck_assert(!st.driver.present);
	ck_assert(!st.request.present);
	hoststate_free(&st);
}
END_TEST

START_TEST(state_with_a_held_lock)
{
	struct host_state st;
	char why[200] = "";
	const struct history *h = &st.history;
	char tag[80], digest[80];

	char *reply_held = framed(&held);

	ck_assert_msg(hoststate_parse(reply_held, strlen(reply_held), &st, why, sizeof why), "%s", why);
	free(reply_held);
	ck_assert_int_eq(st.host_now, 1790000900);
	ck_assert(st.lock.held);
	ck_assert_str_eq(st.lock.owner, "alice@laptop");
	ck_assert_str_eq(st.lock.message, "promote sha-1a2b3c4 from staging");
	ck_assert_str_eq(st.lock.run, RUN_ID);
	ck_assert_int_eq(st.lock.since, 1790000800);
	ck_assert(st.lock.runner_known);
	ck_assert(st.lock.runner_alive);
	ck_assert(!hoststate_lock_stale(&st));
	ck_assert(st.frozen);
	ck_assert_str_eq(st.freeze_by, "carol@ops");
	ck_assert_str_eq(st.freeze_reason, "incident 42: db failover");
	ck_assert_int_eq(st.freeze_since, 1790000000);
	ck_assert_str_eq(st.current, RUN_ID);
	ck_assert(st.has_deploy_env);
	ck_assert_str_eq(st.deploy_env.app_image, "reg.internal:5000/shop/app:sha-0ff1ce0@" D_OLD);
	ck_assert_str_eq(st.deploy_env.migrator_image, "reg.internal:5000/shop/migrator:sha-0ff1ce0");
	ck_assert_int_eq(st.deploy_env_mtime, 1790000500);
	deployenv_image_tag(st.deploy_env.app_image, tag, sizeof tag);
	deployenv_image_digest(st.deploy_env.app_image, digest, sizeof digest);
	ck_assert_str_eq(tag, "sha-0ff1ce0");
	ck_assert_str_eq(digest, D_OLD);

	ck_assert(!h->cut);
	ck_assert_uint_eq(h->bad_lines, 2);
	ck_assert_uint_eq(h->len, 4);
	/* a finished run */
	ck_assert_str_eq(h->runs[0].id, "20261121T090000Z-ab12");
	ck_assert_str_eq(h->runs[0].action, "deploy");
	ck_assert_str_eq(h->runs[0].tag, "sha-0ff1ce0");
	ck_assert_str_eq(h->runs[0].app_digest, D_OLD);
	ck_assert_str_eq(h->runs[0].source, "");
	ck_assert_int_eq(h->runs[0].started, 1789990000);
	ck_assert_int_eq(h->runs[0].ended, 1789990100);
	ck_assert_str_eq(history_run_result(&h->runs[0], st.lock.run), "succeeded");
	ck_assert(history_run_healthy(&h->runs[0]));
	ck_assert_uint_eq(h->runs[0].planned, 3);
	ck_assert_uint_eq(h->runs[0].steps_len, 3);
	ck_assert_str_eq(h->runs[0].steps[1].name, "start app");
	ck_assert_int_eq(h->runs[0].steps[1].ms, 3400);
	/* a note */
	ck_assert(h->runs[1].note);
	ck_assert_str_eq(h->runs[1].action, "freeze");
	ck_assert_str_eq(h->runs[1].operator, "carol@ops");
	ck_assert_str_eq(h->runs[1].message, "incident 42: db failover");
	ck_assert_str_eq(h->runs[1].env, "production");
	ck_assert_int_eq(h->runs[1].started, 1790000000);
	ck_assert_str_eq(history_run_result(&h->runs[1], st.lock.run), "freeze");
	ck_assert(!history_run_healthy(&h->runs[1]));
	ck_assert_ptr_null(history_find(h, "freeze-1790000000"));  /* notes are not runs */
	/* a run that never ended and does not hold the lock; the one that does */
	ck_assert_str_eq(h->runs[2].source, "staging");
	ck_assert_int_eq(h->runs[2].result, RUN_RESULT_NONE);
	ck_assert_int_eq(h->runs[2].ended, 0);
	ck_assert_str_eq(history_run_result(&h->runs[2], st.lock.run), "interrupted");
	ck_assert(!history_run_healthy(&h->runs[2]));
	ck_assert_ptr_eq(history_find(h, RUN_ID), &h->runs[3]);
	ck_assert_str_eq(history_run_result(&h->runs[3], st.lock.run), "running");
	ck_assert_str_eq(history_run_result(&h->runs[3], NULL), "interrupted");
	ck_assert_str_eq(h->runs[3].rollback_tag, "sha-0ff1ce0");
	ck_assert_uint_eq(h->runs[3].planned, 4);
	ck_assert_str_eq(h->runs[3].step_names[1], "run migrator");
	ck_assert_uint_eq(h->runs[3].rollback_planned, 3);
	ck_assert_str_eq(h->runs[3].rollback_names[2], "wait for ready");
	ck_assert_ptr_null(history_find(h, "nope"));
	hoststate_free(&st);
	ck_assert_uint_eq(st.history.len, 0);
}
END_TEST

/* A reply with only the lock's parts (and the rest empty). */
static bool parse_lock(const char *flags, const char *owner, int64_t now, struct host_state *st)
{
	char why[200], nowtext[24];
	struct reply r = { .now = nowtext, .lock = flags, .owner = owner };
	char *text;
	bool ok;

	snprintf(nowtext, sizeof nowtext, "%lld", (long long)now);
	text = framed(&r);
	ok = hoststate_parse(text, strlen(text), st, why, sizeof why);
	free(text);
	return ok;
}

START_TEST(stale_locks)
{
	struct host_state st;

	/* its runner is gone */
	ck_assert(parse_lock("held=1\npid=1\n", "owner=bob@ci\nsince=1790000800\nrun=r9\n", 1790000810, &st));
	ck_assert(st.lock.held && st.lock.runner_known && !st.lock.runner_alive);
	ck_assert(hoststate_lock_stale(&st));
	ck_assert(!st.frozen);
	ck_assert(!st.has_deploy_env);
	ck_assert_str_eq(st.current, "");
	ck_assert_uint_eq(st.history.len, 0);
	hoststate_free(&st);
	/* no pid (an older runner, or it died before writing it): stale after 10 minutes */
	ck_assert(parse_lock("held=1\n", "owner=bob@ci\nsince=1790000000\n", 1790000000 + 601, &st));
	ck_assert(!st.lock.runner_known);
	ck_assert(hoststate_lock_stale(&st));
	hoststate_free(&st);
	ck_assert(parse_lock("held=1\n", "owner=bob@ci\nsince=1790000000\n", 1790000000 + 600, &st));
	ck_assert(!hoststate_lock_stale(&st));
	hoststate_free(&st);
	/* no owner file at all: not known to be stale */
	ck_assert(parse_lock("held=1\n", NULL, 1790000000, &st));
	ck_assert(st.lock.held);
	ck_assert_int_eq(st.lock.since, 0);
	ck_assert(!hoststate_lock_stale(&st));
	hoststate_free(&st);
	/* not held */
	ck_assert(parse_lock(NULL, NULL, 1790000000, &st));
	ck_assert(!st.lock.held);
	ck_assert(!hoststate_lock_stale(&st));
	hoststate_free(&st);
	/* a since that is not a number */
	ck_assert(parse_lock("held=1\n", "since=-5\n", 1790000000, &st));
	ck_assert_int_eq(st.lock.since, 0);
	hoststate_free(&st);
}
END_TEST

START_TEST(a_long_history_is_read_from_its_tail)
{
	struct host_state st;
	char why[200];
	/* tail -c cut the file in the middle of a record */
	static const char partial[] = "\"exit\":0,\"ms\":5}]}\n";
	char *keep_size;
	static const char end_only[] = "{\"id\":\"r-old\",\"event\":\"end\",\"ended\":1790000000,\"result\":\"failed\","
	    "\"failed_step\":2,\"migrated\":false,\"steps\":[]}\n";
	char *history = xasprintf("%s%s" START_OLD END_OLD, partial, end_only);
	struct reply r = { .history_size = "300000", .history = history };
	char *text = framed(&r);

	free(history);
	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	ck_assert(st.history.cut);
	ck_assert_uint_eq(st.history.bad_lines, 0);     /* the partial line is skipped, not counted */
	ck_assert_uint_eq(st.history.len, 2);
	/* an end whose start fell before the part read */
	ck_assert_str_eq(st.history.runs[0].id, "r-old");
	ck_assert_str_eq(st.history.runs[0].action, "?");
	ck_assert_str_eq(history_run_result(&st.history.runs[0], NULL), "failed");
	ck_assert_int_eq(st.history.runs[0].failed_step, 2);
	ck_assert_uint_eq(st.history.runs[0].planned, 0);
	ck_assert_str_eq(st.history.runs[1].id, "20261121T090000Z-ab12");
	ck_assert_int_eq(st.history.runs[1].result, RUN_SUCCEEDED);
	hoststate_free(&st);
	free(text);

	/* a history that fits is read whole: its first line is a record */
	r.history = START_OLD END_OLD;
	r.history_size = keep_size = xasprintf("%d", (int)(strlen(START_OLD) + strlen(END_OLD)));
	text = framed(&r);
	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	ck_assert(!st.history.cut);
	ck_assert_uint_eq(st.history.len, 1);
	ck_assert_str_eq(st.history.runs[0].action, "deploy");
	hoststate_free(&st);
	free(text);
	free(keep_size);
}
END_TEST

START_TEST(a_reply_without_its_end_is_refused)
{
	struct host_state st;
	char why[200];
	char *reply_held = framed(&held);
	size_t cut = strlen(reply_held) - strlen(MARK "end\n");

	why[0] = '\0';
	ck_assert(!hoststate_parse(reply_held, cut, &st, why, sizeof why));
	ck_assert_str_eq(why, "the host's reply was cut short or is not gantry's state");
	hoststate_free(&st);
	free(reply_held);
	why[0] = '\0';
	ck_assert(!hoststate_parse("", 0, &st, why, sizeof why));
	ck_assert_str_eq(why, "the host's reply was cut short or is not gantry's state");
	hoststate_free(&st);
	ck_assert(!hoststate_parse("bash: gantry: command not found\n", 32, &st, why, sizeof why));
	hoststate_free(&st);
	/* the marker must start a line, and be followed by its name alone */
	ck_assert(!hoststate_parse("x" MARK "end\n", strlen("x" MARK "end\n"), &st, why, sizeof why));
	hoststate_free(&st);
	ck_assert(!hoststate_parse(MARK "ending\n", strlen(MARK "ending\n"), &st, why, sizeof why));
	hoststate_free(&st);
	/* the end marker alone is not a state: every part must be there */
	ck_assert(!hoststate_parse(MARK "end", strlen(MARK "end"), &st, why, sizeof why));
	ck_assert_str_eq(why, "the host's reply is not gantry's: no part now");
	hoststate_free(&st);
	/* a deploy.env that is not one: no deploy.env, the rest is read */
	{
		struct reply r = { .deploy_env = "this is not key=value\nnope\n", .current = "r1\n" };
		char *text = framed(&r);

		ck_assert(hoststate_parse(text, strlen(text), &st, why, sizeof why));
		ck_assert(!st.has_deploy_env);
		ck_assert(st.deploy_env_read);
		ck_assert_msg(strstr(st.deploy_env_error, "is not KEY=VALUE"), "%s", st.deploy_env_error);
		ck_assert_str_eq(st.current, "r1");
		hoststate_free(&st);
		free(text);
	}
}
END_TEST

/* A reply whose structure is not what gantry's command prints is refused whole: a part
 * twice, one gantry never asks for, a file part that is not hex. */
START_TEST(a_reply_not_framed_as_gantrys_is_refused)
{
	static const char *const bad[] = {
		MARK "now\n1\n" MARK "now\n2\n" MARK "end\n",
		MARK "now\n1\n" MARK "surprise\n" MARK "end\n",
		MARK "now\n1\n" MARK "current\nr1\n" MARK "end\n",
		MARK "now\n1\n" MARK "current\nabc\n" MARK "end\n",
	};
	static const char *const why_want[] = {
		"the host's reply is not gantry's: a second part now",
		"the host's reply is not gantry's: a part gantry did not ask for",
		"the host's reply is not gantry's: part current is not hex",
		"the host's reply is not gantry's: part current is not hex",
	};
	struct host_state st;
	char why[200];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert(!hoststate_parse(bad[i], strlen(bad[i]), &st, why, sizeof why));
		ck_assert_str_eq(why, why_want[i]);
		hoststate_free(&st);
	}
}
END_TEST

START_TEST(host_text_is_sanitized_and_cut_on_characters)
{
	struct host_state st;
	char why[200];
	char eacute[201] = "", *text, *owner, *freeze;
	struct reply r = { .lock = "held=1\n", .freeze = "frozen=1\n", .current = "\x1b[1mr1\n" };

	for (int i = 0; i < 100; i++)
		strcat(eacute, "\xc3\xa9");
	owner = xasprintf("owner=%s\nmessage=\x1b]0;pwned\x07" "deploy \x1b[31mnow\x1b[0m\x7f\x01!\n",
	    eacute);
	freeze = xasprintf("by=%s\nreason=\x1b[2Jcalm\tdown\n", eacute);
	r.owner = owner;
	r.freeze_file = freeze;
	text = framed(&r);
	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	ck_assert_str_eq(st.lock.message, "deploy now!");
	ck_assert_str_eq(st.freeze_reason, "calm down");
	ck_assert_str_eq(st.current, "r1");
	/* cut to fit, on a character boundary */
	ck_assert_uint_le(strlen(st.lock.owner), sizeof st.lock.owner - 1);
	ck_assert_uint_ge(strlen(st.lock.owner), sizeof st.lock.owner - 2);
	ck_assert_msg(clean_utf8(st.lock.owner), "owner (%zu bytes) cut inside a character: it ends in 0x%02x",
	    strlen(st.lock.owner), (unsigned char)st.lock.owner[strlen(st.lock.owner) - 1]);
	ck_assert_uint_le(strlen(st.freeze_by), sizeof st.freeze_by - 1);
	ck_assert_msg(clean_utf8(st.freeze_by), "freeze_by (%zu bytes) cut inside a character: it ends in 0x%02x",
	    strlen(st.freeze_by), (unsigned char)st.freeze_by[strlen(st.freeze_by) - 1]);
	hoststate_free(&st);
	free(text);
	free(owner);
	free(freeze);
}
END_TEST

/* ---- the state command, run by sh on a scratch deploy directory ---------------- */

static char dir[64];

static void scratch_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/gantry-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void scratch_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Runs a state command in dir and parses its output. */
static bool run_state(enum runner_sub sub, struct host_state *st, char *why, size_t whysz)
{
	char *command = runner_inline_command(sub, NULL, 0);
	char *cmd = xasprintf("cd '%s' && { %s\n} 2>/dev/null", dir, command);
	static char buf[HOSTSTATE_MAX_BYTES];
	size_t len;
	FILE *p = popen(cmd, "r");
	bool ok;

	ck_assert_ptr_nonnull(p);
	len = fread(buf, 1, sizeof buf, p);
	pclose(p);
	free(cmd);
	free(command);
	ok = hoststate_parse(buf, len, st, why, whysz);
	if (!ok) {
		/* the reply's last line, on one TAP line */
		size_t from = len > 80 ? len - 80 : 0;

		for (size_t i = from; i < len; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		ck_abort_msg("%s; the reply ends: %.*s", why, (int)(len - from), buf + from);
	}
	return ok;
}

static bool read_state(struct host_state *st, char *why, size_t whysz)
{
	return run_state(RUNNER_STATE, st, why, whysz);
}

START_TEST(state_command_output_is_read)
{
	struct host_state st;
	char why[200], *pid, *cmd;
	pid_t runner, dead = fork();

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	cmd = xasprintf("mkdir -p '%s/.gantry/lock'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	put(".gantry/lock/owner", "owner=alice@laptop\nsince=1790000800\nrun=" RUN_ID
	    "\nmessage=promote sha-1a2b3c4 from staging\n");
	/* the lock's pid must be a live runner: a process whose command line says run.sh run */
	runner = fork();
	ck_assert_int_ge(runner, 0);
	if (runner == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 30; :", "run.sh", "run", (char *)NULL);
		_exit(127);
	}
	pid = xasprintf("%d\n", (int)runner);
	put(".gantry/lock/pid", pid);
	free(pid);
	put(".gantry/current", RUN_ID "\n");
	put("deploy.env", "# written by gantry\nexport APP_IMAGE='reg.internal:5000/shop/app:sha-1a2b3c4@" D_APP "'\n"
	    "APP_PORT=8080");
	put(".gantry/history.jsonl", START_OLD END_OLD START_RUNNING);

	ck_assert(read_state(&st, why, sizeof why));
	ck_assert_int_gt(st.host_now, 1700000000);
	ck_assert(st.lock.held && st.lock.runner_known && st.lock.runner_alive);
	ck_assert_str_eq(st.lock.owner, "alice@laptop");
	ck_assert_str_eq(st.lock.run, RUN_ID);
	ck_assert(!hoststate_lock_stale(&st));
	ck_assert(!st.frozen);
	ck_assert_str_eq(st.current, RUN_ID);
	ck_assert(st.has_deploy_env);
	ck_assert_str_eq(st.deploy_env.app_image, "reg.internal:5000/shop/app:sha-1a2b3c4@" D_APP);
	ck_assert_int_gt(st.deploy_env_mtime, 1700000000);
	ck_assert_uint_eq(st.history.len, 2);
	ck_assert_uint_eq(st.history.bad_lines, 0);
	ck_assert_str_eq(history_run_result(&st.history.runs[1], st.lock.run), "running");
	hoststate_free(&st);

	/* the watch command: the same lock and deploy.env, no history; where the run is */
	cmd = xasprintf("mkdir -p '%s/.gantry/runs/" RUN_ID "'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	put(".gantry/runs/" RUN_ID "/events", "1790000801000 run start\n1790000801010 step 1 start\n"
	    "1790000801130 step 1 end 0 120\n1790000801140 step 2 start\n");
	ck_assert(run_state(RUNNER_WATCH, &st, why, sizeof why));
	ck_assert(st.lock.held && st.lock.runner_alive);
	ck_assert_str_eq(st.lock.message, "promote sha-1a2b3c4 from staging");
	ck_assert_str_eq(st.current, RUN_ID);
	ck_assert(st.has_deploy_env);
	ck_assert_uint_eq(st.history.len, 0);
	ck_assert(st.lock.progress.known && !st.lock.progress.rollback && !st.lock.progress.step_ended);
	ck_assert_int_eq(st.lock.progress.step, 2);
	ck_assert_int_eq(st.lock.progress.steps, 4);
	ck_assert_str_eq(st.lock.progress.step_name, "run migrator");
	ck_assert_int_eq(st.lock.progress.step_ms, 1790000801140LL);
	hoststate_free(&st);
	/* its rollback: the rollback's steps, even when the tail holds only those */
	put(".gantry/runs/" RUN_ID "/events", "1790000802000 step 4 end 1 9000\n"
	    "1790000802010 rollback start\n1790000802020 rollback 1 start\n"
	    "1790000802030 rollback 1 end 0 10\n1790000802040 rollback 2 start\n");
	ck_assert(run_state(RUNNER_WATCH, &st, why, sizeof why));
	ck_assert(st.lock.progress.rollback);
	ck_assert_int_eq(st.lock.progress.step, 2);
	ck_assert_int_eq(st.lock.progress.steps, 3);
	ck_assert_str_eq(st.lock.progress.step_name, "start app");
	hoststate_free(&st);
	put(".gantry/runs/" RUN_ID "/events", "1790000802040 rollback 2 start\n"
	    "1790000802050 rollback 2 end 0 10\nnot an event\n");
	ck_assert(run_state(RUNNER_WATCH, &st, why, sizeof why));
	ck_assert(st.lock.progress.rollback && st.lock.progress.step_ended);
	ck_assert_int_eq(st.lock.progress.step, 2);
	hoststate_free(&st);
	/* a run id in the lock that is not a name: no file is read through it */
	put(".gantry/lock/owner", "owner=alice@laptop\nrun=../../etc\n");
	ck_assert(run_state(RUNNER_WATCH, &st, why, sizeof why));
	ck_assert(st.lock.held && !st.lock.progress.known);
	hoststate_free(&st);
	put(".gantry/lock/owner", "owner=alice@laptop\nsince=1790000800\nrun=" RUN_ID
	    "\nmessage=promote sha-1a2b3c4 from staging\n");

	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);

	/* the runner died: its pid no longer answers */
	pid = xasprintf("%d\n", (int)dead);
	put(".gantry/lock/pid", pid);
	free(pid);
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert(st.lock.runner_known && !st.lock.runner_alive);
	ck_assert(hoststate_lock_stale(&st));
	hoststate_free(&st);

	/* a planted pid: -1 (kill -0 -1 answers), or a live process that is not the runner */
	put(".gantry/lock/pid", "-1\n");
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert(!st.lock.runner_known && !st.lock.runner_alive);
	hoststate_free(&st);
	pid = xasprintf("%d\n", (int)getpid());
	put(".gantry/lock/pid", pid);
	free(pid);
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert(!st.lock.runner_alive);
	hoststate_free(&st);
}
END_TEST

/* No file on the host can pass for the reply's structure (issue 10, finding 4): marker
 * lines planted in deploy.env, the freeze file and the history forge no lock, no run and
 * no end, and hide nothing that follows them. */
START_TEST(planted_markers_forge_nothing)
{
	struct host_state st;
	char why[200];
	char *cmd = xasprintf("mkdir -p '%s/.gantry'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	put("deploy.env", "APP_IMAGE=reg/app:sha-1111111\n" MARK "lock\nheld=1\npid=1\nalive=1\n"
	    MARK "lock-owner\n6f776e65723d6576696c0a\n" MARK "lock-plan\n" MARK "lock-driver\n"
	    MARK "lock-request\n" MARK "current\n"
	    MARK "end\n");
	put(".gantry/freeze", "by=carol@ops\nreason=calm\n" MARK "history\n" MARK "end\n");
	put(".gantry/current", "r-real\n" MARK "end\n");
	put(".gantry/history.jsonl", START_OLD MARK "end\n" MARK "history\n" END_OLD);
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert(!st.lock.held && !st.lock.runner_alive);
	ck_assert_str_eq(st.lock.owner, "");
	ck_assert(st.frozen);
	ck_assert_str_eq(st.freeze_by, "carol@ops");
	ck_assert_str_eq(st.freeze_reason, "calm");
	ck_assert_str_eq(st.current, "r-real");
	/* deploy.env is read as what it is: a file with lines that are not KEY=VALUE */
	ck_assert(!st.has_deploy_env);
	ck_assert_msg(strstr(st.deploy_env_error, "not KEY=VALUE"), "%s", st.deploy_env_error);
	/* the run's end after the planted lines is still read */
	ck_assert_uint_eq(st.history.len, 1);
	ck_assert_str_eq(history_run_result(&st.history.runs[0], NULL), "succeeded");
	ck_assert_uint_eq(st.history.bad_lines, 2);
	hoststate_free(&st);
}
END_TEST

START_TEST(an_empty_freeze_file_is_a_freeze)
{
	struct host_state st;
	char why[200];
	char *cmd = xasprintf("mkdir -p '%s/.gantry'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	/* runner.sh refuses a promotion while .gantry/freeze exists, whatever it holds */
	put(".gantry/freeze", "");
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert(st.frozen);
	hoststate_free(&st);
}
END_TEST

START_TEST(a_history_without_its_last_newline_is_read)
{
	struct host_state st;
	char why[200] = "";
	char *cmd = xasprintf("mkdir -p '%s/.gantry'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	/* a torn append: the last line never got its newline */
	put(".gantry/history.jsonl", START_OLD END_OLD "{\"id\":\"r2\",\"event\":\"sta");
	ck_assert(read_state(&st, why, sizeof why));
	ck_assert_uint_eq(st.history.len, 1);
	ck_assert_uint_eq(st.history.bad_lines, 1);
	hoststate_free(&st);
}
END_TEST

/* ---- history records ------------------------------------------------------------ */

START_TEST(history_records_steps_and_rollbacks)
{
	static const char text[] =
	    START_RUNNING
	    "{\"id\":\"" RUN_ID "\",\"event\":\"end\",\"ended\":1790001000,\"result\":\"rolled_back\",\"failed_step\":4,"
	    "\"migrated\":true,\"switched\":true,\"steps\":[{\"phase\":\"step\",\"name\":\"write deploy.env\",\"exit\":0,\"ms\":80},"
	    "{\"phase\":\"step\",\"name\":\"run migrator\",\"exit\":0,\"ms\":61000},{\"phase\":\"step\",\"name\":"
	    "\"start app\",\"exit\":0,\"ms\":2100},{\"phase\":\"step\",\"name\":\"wait for ready\",\"exit\":1,"
	    "\"ms\":120000},{\"phase\":\"rollback\",\"name\":\"write deploy.env\",\"exit\":0,\"ms\":70},"
	    "{\"phase\":\"rollback\",\"name\":\"start app\",\"exit\":0,\"ms\":1900},{\"phase\":\"rollback\","
	    "\"name\":\"wait for ready\",\"exit\":0,\"ms\":4000}]}\n"
	    "\n\n"
	    "{\"id\":\"r2\",\"event\":\"start\",\"started\":1790002000,\"action\":\"rollback\",\"tag\":\"sha-0ff1ce0\","
	    "\"steps\":[]}\r\n"
	    "{\"id\":\"r2\",\"event\":\"end\",\"ended\":1790002100,\"failed_step\":0,\"migrated\":false}\n"
	    "{\"id\":\"r3\",\"event\":\"end\",\"ended\":1790002200,\"result\":\"cancelled\",\"steps\":[7,\"x\",{}]}\n";
	struct history h;
	const struct history_run *r;

	history_parse(text, strlen(text), &h);
	ck_assert_uint_eq(h.bad_lines, 0);
	ck_assert_uint_eq(h.len, 3);
	r = history_find(&h, RUN_ID);
	ck_assert_ptr_eq(r, &h.runs[0]);
	ck_assert_int_eq(r->result, RUN_ROLLED_BACK);
	ck_assert_str_eq(history_run_result(r, RUN_ID), "rolled_back");   /* ended: not running */
	ck_assert(!history_run_healthy(r));
	ck_assert(r->migrated);
	ck_assert(r->switch_known && r->switched);
	ck_assert(!h.runs[1].switch_known);     /* an end record that does not say */
	ck_assert_int_eq(r->failed_step, 4);
	ck_assert_int_eq(r->ended, 1790001000);
	ck_assert_str_eq(r->rollback_tag, "sha-0ff1ce0");
	ck_assert_uint_eq(r->rollback_planned, 3);
	ck_assert_str_eq(r->rollback_names[0], "write deploy.env");
	ck_assert_str_eq(r->rollback_names[1], "start app");
	ck_assert_uint_eq(r->steps_len, 7);
	ck_assert_str_eq(r->steps[1].phase, "step");
	ck_assert_str_eq(r->steps[1].name, "run migrator");
	ck_assert_int_eq(r->steps[1].ms, 61000);
	ck_assert_str_eq(r->steps[3].name, "wait for ready");
	ck_assert_int_eq(r->steps[3].exit, 1);
	ck_assert_str_eq(r->steps[4].phase, "rollback");
	ck_assert_str_eq(r->steps[6].name, "wait for ready");
	/* an end without a result, and a CRLF line */
	r = history_find(&h, "r2");
	ck_assert_str_eq(r->action, "rollback");
	ck_assert_uint_eq(r->planned, 0);
	ck_assert_int_eq(r->result, RUN_UNKNOWN);
	ck_assert_uint_eq(r->steps_len, 0);
	/* steps that are not objects are skipped */
	r = history_find(&h, "r3");
	ck_assert_str_eq(r->action, "?");
	ck_assert_int_eq(r->result, RUN_CANCELLED);
	ck_assert_uint_eq(r->steps_len, 1);
	ck_assert_str_eq(r->steps[0].name, "");
	history_free(&h);
	ck_assert_ptr_null(h.runs);
}
END_TEST

START_TEST(history_refuses_what_is_not_a_record)
{
	static const char *const bad[] = {
		"{\"id\":\"a\",\"event\":\"start\",\"id\":\"b\"}",           /* duplicate key */
		"{\"id\":\"a\",\"event\":\"start\",\"event\":\"end\"}",
		"{\"event\":\"start\",\"tag\":\"x\"}",                        /* no id */
		"{\"id\":\"\",\"event\":\"start\"}",
		"{\"id\":\"\\u001b\\u0007\",\"event\":\"start\"}",            /* an id of nothing printable */
		"{\"id\":\"a\"}",                                             /* no event */
		"{\"id\":\"a\",\"event\":5}",
		"{\"id\":\"a\",\"event\":\"restart\"}",
		"{\"id\":7,\"event\":\"start\"}",
		"[\"id\",\"event\"]",
		"\"start\"",
		"{\"id\":\"a\",\"event\":\"start\"",                          /* cut */
		"{\"id\":\"a\",\"event\":\"start\",\"tag\":\"x\\u0000y\"}",   /* NUL in a string */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct history h;

		history_parse(bad[i], strlen(bad[i]), &h);
		ck_assert_msg(h.len == 0 && h.bad_lines == 1, "line %zu: %zu runs, %zu bad", i, h.len, h.bad_lines);
		history_free(&h);
	}
	/* a record and then something else: the record is kept, the rest counts as bad */
	{
		static const char mixed[] = "{\"id\":\"a\",\"event\":\"start\"} {}";
		struct history h;

		history_parse(mixed, strlen(mixed), &h);
		ck_assert_uint_eq(h.len, 1);
		ck_assert_uint_eq(h.bad_lines, 1);
		history_free(&h);
	}
}
END_TEST

START_TEST(history_text_is_sanitized)
{
	static const char text[] =
	    "{\"id\":\"r\\u001b[2J1\",\"event\":\"start\",\"started\":1,\"operator\":\"eve\\u001b]0;owned\\u0007@x\\r\\nnext\","
	    "\"action\":\"\\u200epromote\",\"env\":\"prod\\u007f\\u0085\",\"tag\":\"sha-1\\u009b31m\",\"source\":\"st\\tg\","
	    "\"app_digest\":\"\\u202esha\",\"steps\":[\"a\\u2066b\",\"\\u001b[31mred\\u001b[0m\",\"c\\u0001\"],"
	    "\"rollback_tag\":\"\\u0007back\",\"rollback_steps\":[\"\\u001bPdcs\\u001b\\\\x\"]}\n"
	    "{\"id\":\"r\\u001b[2J1\",\"event\":\"end\",\"result\":\"succ\\u0008eeded\",\"steps\":[{\"phase\":\"st\\u001bcep\","
	    "\"name\":\"\\u009b2Jz\\u0002\",\"exit\":0,\"ms\":1}]}\n"
	    "{\"id\":\"n\\u0003\",\"event\":\"note\",\"kind\":\"unlock\\u0007\",\"operator\":\"\\u001b[8mhidden\","
	    "\"message\":\"line1\\nline2\\u001b[K\"}\n";
	struct history h;
	const struct history_run *r;

	history_parse(text, strlen(text), &h);
	ck_assert_uint_eq(h.bad_lines, 0);
	ck_assert_uint_eq(h.len, 2);
	r = &h.runs[0];
	ck_assert_str_eq(r->id, "r1");
	ck_assert_ptr_eq(history_find(&h, "r1"), r);    /* the end found its start by the clean id */
	ck_assert_str_eq(r->operator, "eve@x  next");
	ck_assert_str_eq(r->action, "promote");
	ck_assert_str_eq(r->env, "prod");
	ck_assert_str_eq(r->tag, "sha-1");
	ck_assert_str_eq(r->source, "st g");
	ck_assert_str_eq(r->app_digest, "sha");
	ck_assert_str_eq(r->step_names[0], "ab");
	ck_assert_str_eq(r->step_names[1], "red");
	ck_assert_str_eq(r->step_names[2], "c");
	ck_assert_str_eq(r->rollback_tag, "back");
	ck_assert_str_eq(r->rollback_names[0], "x");
	ck_assert_int_eq(r->result, RUN_UNKNOWN);       /* "succ\beeded" is none of the runner's words */
	ck_assert_str_eq(r->steps[0].phase, "step");      /* ESC c went whole */
	ck_assert_str_eq(r->steps[0].name, "z");
	r = &h.runs[1];
	ck_assert(r->note);
	ck_assert_str_eq(r->id, "n");
	ck_assert_str_eq(r->action, "unlock");
	ck_assert_str_eq(r->operator, "hidden");
	ck_assert_str_eq(r->message, "line1 line2");
	/* and nothing anywhere holds a control byte */
	for (size_t i = 0; i < h.len; i++) {
		r = &h.runs[i];
		ck_assert(clean_utf8(r->id) && clean_utf8(r->action) && clean_utf8(r->env) &&
		    clean_utf8(r->source) && clean_utf8(r->tag) && clean_utf8(r->app_digest) &&
		    clean_utf8(r->migrator_digest) && clean_utf8(r->operator) && clean_utf8(r->message) &&
		    clean_utf8(r->rollback_tag));
		for (size_t j = 0; j < r->planned; j++)
			ck_assert(clean_utf8(r->step_names[j]));
		for (size_t j = 0; j < r->rollback_planned; j++)
			ck_assert(clean_utf8(r->rollback_names[j]));
		for (size_t j = 0; j < r->steps_len; j++)
			ck_assert(clean_utf8(r->steps[j].phase) && clean_utf8(r->steps[j].name));
	}
	history_free(&h);
}
END_TEST

START_TEST(overlong_history_fields_are_cut)
{
	char *longid = xcalloc(1, 301), *longtag = xcalloc(1, 2001), *names = xcalloc(1, 200 * 100);
	char *text;
	struct history h;
	const struct history_run *r;

	memset(longid, 'i', 300);
	for (int i = 0; i < 500; i++)
		memcpy(longtag + i * 4, "\xf0\x9f\x9a\x80", 4);         /* U+1F680, 4 bytes each */
	strcpy(names, "\"");
	for (int i = 0; i < 100; i++)
		strcat(names, i ? "\",\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" :
		    "first");
	strcat(names, "\"");
	text = xasprintf("{\"id\":\"%s\",\"event\":\"start\",\"tag\":\"%s\",\"operator\":\"%s\",\"steps\":[%s],"
	    "\"rollback_steps\":[%s]}\n{\"id\":\"%s\",\"event\":\"end\",\"result\":\"%s\",\"steps\":[{\"name\":\"%s\"}]}\n",
	    longid, longtag, longtag, names, names, longid, longtag, longtag);
	history_parse(text, strlen(text), &h);
	ck_assert_uint_eq(h.bad_lines, 0);
	ck_assert_uint_eq(h.len, 1);                    /* the end found its (cut) start */
	r = &h.runs[0];
	ck_assert_uint_eq(strlen(r->id), sizeof r->id - 1);
	ck_assert_uint_eq(strspn(r->id, "i"), sizeof r->id - 1);
	ck_assert_uint_le(strlen(r->tag), sizeof r->tag - 1);
	ck_assert_uint_eq(strlen(r->tag) % 4, 0);       /* whole characters only */
	ck_assert(clean_utf8(r->tag) && clean_utf8(r->operator));
	ck_assert_int_eq(r->result, RUN_UNKNOWN);       /* no word of the runner's */
	ck_assert_uint_eq(r->planned, HISTORY_MAX_STEPS);
	ck_assert_uint_eq(r->rollback_planned, HISTORY_MAX_STEPS);
	ck_assert_str_eq(r->step_names[0], "first");
	ck_assert_uint_eq(strlen(r->step_names[1]) % 3, 0);
	ck_assert_uint_le(strlen(r->step_names[1]), 79);
	ck_assert(clean_utf8(r->step_names[63]) && clean_utf8(r->rollback_names[63]));
	ck_assert_uint_eq(r->steps_len, 1);
	ck_assert(clean_utf8(r->steps[0].name));
	ck_assert_uint_le(strlen(r->steps[0].name), sizeof r->steps[0].name - 1);
	history_free(&h);
	free(text);
	free(longid);
	free(longtag);
	free(names);
}
END_TEST

/* ---- a run's events ------------------------------------------------------------- */

START_TEST(event_lines_are_the_runners_or_nothing)
{
	static const char *const ignored[] = {
		"", "1790000000123", "1790000000123 run", "1790000000123 run start now",
		"-5 run start", "17x run start", "1790000000123  run start", "1790000000123 step 0 start",
		"1790000000123 step 65 start", "1790000000123 step -1 start",
		"1790000000123 step 1 end 256 10", "1790000000123 step 1 end 0 -1",
		"1790000000123 step 1 end 0 99999999999999999999", "1790000000123 cancel maybe",
		"1790000000123 run end \x1b]0;owned", "1790000000123 run end succeeded extra",
		"99999999999999999999 run start", "1790000000123 step 1 end 0",
	};
	struct run_event ev;

	ck_assert(runevent_parse("1790000000123 run start", 23, &ev));
	ck_assert_int_eq(ev.kind, RUNEVENT_RUN_START);
	ck_assert_int_eq(ev.ms, 1790000000123LL);
	ck_assert(runevent_parse("5 rollback 3 end 124 1500\r", 26, &ev));
	ck_assert_int_eq(ev.kind, RUNEVENT_STEP_END);
	ck_assert(ev.rollback);
	ck_assert_int_eq(ev.step, 3);
	ck_assert_int_eq(ev.status, 124);
	ck_assert_int_eq(ev.took_ms, 1500);
	ck_assert(runevent_parse("5 step 64 start", 15, &ev));
	ck_assert_int_eq(ev.kind, RUNEVENT_STEP_START);
	ck_assert(!ev.rollback);
	ck_assert(runevent_parse("5 cancel refused", 16, &ev));
	ck_assert_str_eq(ev.word, "refused");
	ck_assert(runevent_parse("5 run end rollback_failed", 25, &ev));
	ck_assert_int_eq(ev.kind, RUNEVENT_RUN_END);
	ck_assert_str_eq(ev.word, "rollback_failed");
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
		ck_assert_msg(!runevent_parse(ignored[i], strlen(ignored[i]), &ev), "taken: %s", ignored[i]);
}
END_TEST

/* ---- image references ---------------------------------------------------------- */

/* A host's reply built from parts: the lock's flags and owner record (NULL: not held),
 * deploy.env's app image ("" none), the history. */
static void host_reply(struct host_state *st, const char *lock, const char *owner,
    const char *app_image, const char *history)
{
	char why[200];
	char *env = *app_image ? xasprintf("APP_IMAGE=%s\n", app_image) : NULL;
	struct reply r = { .now = "1790001000", .lock = lock, .owner = owner,
		.current = "20261121T130000Z-ef56\n", .deploy_env = env, .history_size = "10",
		.history = history };
	char *text = framed(&r);

	ck_assert_msg(hoststate_parse(text, strlen(text), st, why, sizeof why), "%s", why);
	free(text);
	free(env);
}

#define RUN(id, t, tag) "{\"id\":\"" id "\",\"event\":\"start\",\"started\":" #t ",\"operator\":\"o\"," \
	"\"action\":\"promote\",\"env\":\"production\",\"tag\":\"" tag "\",\"app_digest\":\"sha256:a\"," \
	"\"migrator_digest\":\"sha256:m\",\"steps\":[\"pull\",\"start app\"]}\n"
#define END(id, result, exit2) "{\"id\":\"" id "\",\"event\":\"end\",\"ended\":1790000900,\"result\":\"" \
	result "\",\"failed_step\":0,\"migrated\":false,\"steps\":[{\"phase\":\"step\",\"name\":\"pull\"," \
	"\"exit\":0,\"ms\":10},{\"phase\":\"step\",\"name\":\"start app\",\"exit\":" #exit2 ",\"ms\":20}]}\n"

START_TEST(hosts_histories_are_merged)
{
	struct host_state one, all;
	const struct history *h = &all.history;

	memset(&all, 0, sizeof all);
	/* host 1: an old run, the new run succeeded, a freeze note */
	host_reply(&one, NULL, NULL, "reg/app:sha-2222222",
	    RUN("r-old", 1790000000, "sha-1111111") END("r-old", "succeeded", 0)
	    RUN("r-new", 1790000800, "sha-2222222") END("r-new", "succeeded", 0)
	    "{\"id\":\"freeze-1\",\"event\":\"note\",\"kind\":\"freeze\",\"operator\":\"c\",\"at\":1790000850}\n");
	hoststate_merge(&all, &one, 0, "prod-1");
	ck_assert_uint_eq(one.history.len, 0);          /* taken */
	/* host 2: the old run, a run only it holds (earlier than the rest), the new run failed,
	 * the same note, a stale lock */
	host_reply(&one, "held=1\npid=1\n", "owner=bob@ops\nsince=1\nrun=r-new\n", "reg/app:sha-1111111",
	    RUN("r-only2", 1790000500, "sha-1111111") END("r-only2", "succeeded", 0)
	    RUN("r-old", 1790000000, "sha-1111111") END("r-old", "succeeded", 0)
	    RUN("r-new", 1790000800, "sha-2222222") END("r-new", "rolled_back", 7)
	    "{\"id\":\"freeze-1\",\"event\":\"note\",\"kind\":\"freeze\",\"operator\":\"c\",\"at\":1790000850}\n");
	hoststate_merge(&all, &one, 1, "prod-2");
	/* host 3: the new run has no end record yet */
	host_reply(&one, NULL, NULL, "reg/app:sha-2222222", RUN("r-new", 1790000800, "sha-2222222"));
	hoststate_merge(&all, &one, 2, "prod-3");

	ck_assert_uint_eq(all.hosts, 3);
	ck_assert_uint_eq(h->len, 4);
	/* oldest first, whichever host holds a run */
	ck_assert_str_eq(h->runs[0].id, "r-old");
	ck_assert_uint_eq(h->runs[0].hosts, 2);
	ck_assert_int_eq(h->runs[0].result, RUN_SUCCEEDED);
	ck_assert_str_eq(h->runs[0].host, "prod-1");
	ck_assert_str_eq(h->runs[1].id, "r-only2");
	ck_assert_uint_eq(h->runs[1].hosts, 1);
	ck_assert_uint_eq(h->runs[1].host_index, 1);
	ck_assert_str_eq(h->runs[2].id, "r-new");
	ck_assert_uint_eq(h->runs[2].hosts, 3);
	/* no end record on prod-3 is worse than rolled back on prod-2 */
	ck_assert_int_eq(h->runs[2].result, RUN_RESULT_NONE);
	ck_assert_str_eq(h->runs[2].host, "prod-3");
	ck_assert(!history_run_healthy(&h->runs[2]));
	ck_assert(h->runs[3].note);
	ck_assert_uint_eq(h->runs[3].hosts, 2);
	/* the lock of any host, with where it is; deploy.env from the first, the disagreement named */
	ck_assert(all.lock.held);
	ck_assert_str_eq(all.lock.owner, "bob@ops");
	ck_assert_str_eq(all.lock.host, "prod-2");
	ck_assert_uint_eq(all.lock.host_index, 1);
	ck_assert(hoststate_lock_stale(&all));
	ck_assert_str_eq(all.deploy_env.app_image, "reg/app:sha-2222222");
	ck_assert_str_eq(all.deploy_env_differs, "prod-2");
	ck_assert_str_eq(all.differs_image, "reg/app:sha-1111111");
	hoststate_free(&all);
}
END_TEST

START_TEST(the_worst_result_wins_with_its_steps)
{
	struct host_state one, all;
	const struct history_run *r;

	memset(&all, 0, sizeof all);
	host_reply(&one, NULL, NULL, "x", RUN("r", 1790000800, "sha-2222222") END("r", "failed", 3));
	hoststate_merge(&all, &one, 0, "a");
	host_reply(&one, NULL, NULL, "x", RUN("r", 1790000800, "sha-2222222") END("r", "succeeded", 0));
	hoststate_merge(&all, &one, 1, "b");
	r = &all.history.runs[0];
	ck_assert_int_eq(r->result, RUN_FAILED);
	ck_assert_str_eq(r->host, "a");
	ck_assert_int_eq(r->steps[1].exit, 3);
	ck_assert_str_eq(all.deploy_env_differs, "");
	/* a live lock on a later host is the one shown, and its run is the one to follow */
	host_reply(&one, "held=1\npid=1\nalive=1\n", "owner=eve\nsince=1790000990\nrun=r2\n", "x", "");
	hoststate_merge(&all, &one, 2, "c");
	ck_assert_str_eq(all.lock.owner, "eve");
	ck_assert_uint_eq(all.current_host, 2);
	hoststate_free(&all);

	/* one host: as it was read, labelled */
	memset(&all, 0, sizeof all);
	host_reply(&one, NULL, NULL, "", RUN("r", 1790000800, "sha-2222222") END("r", "cancelled", 0));
	hoststate_merge(&all, &one, 0, "solo");
	ck_assert_int_eq(all.history.runs[0].result, RUN_CANCELLED);
	ck_assert_uint_eq(all.history.runs[0].hosts, 1);
	ck_assert(!all.has_deploy_env);
	hoststate_free(&all);
}
END_TEST

#define DIGEST_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* An adoption is a healthy baseline; a run that stopped before its switch says whether
 * deploy.env was put back; the record gantry writes reads back as it was written. */
START_TEST(adoptions_and_restored_runs_are_read)
{
	struct adopt_spec a = {
		.id = "adopt-20261130T100000Z-k3f9", .env = "production", .tag = "sha-1111111",
		.app_digest = "sha256:" DIGEST_A, .migrator_digest = "", .operator = "alice@ops",
		.message = "checked", .at = 1790000000,
	};
	char *rec = history_adopt_record(&a);
	char *text = xasprintf("%s\n"
	    "{\"id\":\"r1\",\"event\":\"start\",\"started\":1790000100,\"action\":\"deploy\","
	    "\"tag\":\"sha-3333333\",\"steps\":[\"write deploy.env\",\"run migrator\"]}\n"
	    "{\"id\":\"r1\",\"event\":\"end\",\"ended\":1790000160,\"result\":\"failed\","
	    "\"failed_step\":2,\"switched\":false,\"restored\":true,\"steps\":[]}\n", rec);
	struct history h;
	const struct history_run *r;

	history_parse(text, strlen(text), &h);
	ck_assert_uint_eq(h.bad_lines, 0);
	ck_assert_uint_eq(h.len, 2);
	ck_assert(history_has_runs(&h));
	r = &h.runs[0];
	ck_assert_str_eq(r->action, "adopt");
	ck_assert_int_eq(r->result, RUN_ADOPTED);
	ck_assert(history_run_healthy(r));
	ck_assert_str_eq(r->tag, "sha-1111111");
	ck_assert_str_eq(r->app_digest, "sha256:" DIGEST_A);
	ck_assert_str_eq(r->operator, "alice@ops");
	ck_assert_int_eq(r->started, 1790000000);
	ck_assert_int_eq(r->ended, 1790000000);
	r = history_find(&h, "r1");
	ck_assert(!history_run_healthy(r));
	ck_assert(r->restored && r->switch_known && !r->switched);
	history_free(&h);
	/* notes alone are not runs */
	{
		static const char note[] = "{\"id\":\"freeze-1\",\"event\":\"note\",\"kind\":\"freeze\"}\n";

		history_parse(note, strlen(note), &h);
	}
	ck_assert_uint_eq(h.len, 1);
	ck_assert(!history_has_runs(&h));
	history_free(&h);
	free(text);
	free(rec);
}
END_TEST

/* A record appended after one that lost its newline is read on its own; numbers from the
 * host are bounded (UBSan saw the arithmetic on them overflow). */
START_TEST(records_run_together_and_huge_numbers)
{
	static const char text[] =
	    "{\"id\":\"a1\",\"event\":\"start\",\"started\":1790000000,\"action\":\"deploy\","
	    "\"tag\":\"sha-1111111\",\"steps\":[]}"
	    "{\"id\":\"a1\",\"event\":\"end\",\"ended\":99999999999999999,\"result\":\"failed\","
	    "\"failed_step\":2147483647,\"steps\":[{\"phase\":\"step\",\"name\":\"x\","
	    "\"exit\":9223372036854775807,\"ms\":-5}]}\n"
	    "{\"id\":\"a2\",\"event\":\"start\",\"started\":-1,\"action\":\"deploy\",\"tag\":\"sha-2\"}\n";
	struct history h;
	const struct history_run *r;

	history_parse(text, strlen(text), &h);
	ck_assert_uint_eq(h.bad_lines, 0);
	ck_assert_uint_eq(h.len, 2);
	r = history_find(&h, "a1");
	ck_assert_int_eq(r->result, RUN_FAILED);
	ck_assert_int_eq(r->ended, 0);
	ck_assert_int_eq(r->failed_step, 0);
	ck_assert_uint_eq(r->steps_len, 1);
	ck_assert_int_eq(r->steps[0].exit, -1);
	ck_assert_int_eq(r->steps[0].ms, 0);
	ck_assert_int_eq(history_find(&h, "a2")->started, 0);
	history_free(&h);
}
END_TEST

START_TEST(image_tags_and_digests)
{
	char tag[80], digest[80];

	deployenv_image_tag("reg:5000/app:sha-1a2b3c4@sha256:" HEX64, tag, sizeof tag);
	deployenv_image_digest("reg:5000/app:sha-1a2b3c4@sha256:" HEX64, digest, sizeof digest);
	ck_assert_str_eq(tag, "sha-1a2b3c4");
	ck_assert_str_eq(digest, "sha256:" HEX64);
	deployenv_image_tag("app@sha256:" HEX64, tag, sizeof tag);
	deployenv_image_digest("app@sha256:" HEX64, digest, sizeof digest);
	ck_assert_str_eq(tag, "@sha256:0123456789ab");
	ck_assert_str_eq(digest, "sha256:" HEX64);
	deployenv_image_tag("reg:5000/app@sha256:" HEX64, tag, sizeof tag);
	ck_assert_str_eq(tag, "@sha256:0123456789ab");
	deployenv_image_tag("app", tag, sizeof tag);
	deployenv_image_digest("app", digest, sizeof digest);
	ck_assert_str_eq(tag, "latest");
	ck_assert_str_eq(digest, "");
	deployenv_image_tag("reg:5000/app", tag, sizeof tag);
	deployenv_image_digest("reg:5000/app", digest, sizeof digest);
	ck_assert_str_eq(tag, "latest");                /* the registry's port is not a tag */
	ck_assert_str_eq(digest, "");
	deployenv_image_tag("reg:5000/shop/app:v1.2", tag, sizeof tag);
	ck_assert_str_eq(tag, "v1.2");
	/* small buffers are cut, never overrun */
	deployenv_image_tag("reg:5000/app:sha-1a2b3c4@sha256:" HEX64, tag, 5);
	ck_assert_str_eq(tag, "sha-");
	deployenv_image_digest("reg:5000/app:sha-1a2b3c4@sha256:" HEX64, digest, 8);
	ck_assert_str_eq(digest, "sha256:");
}
END_TEST

START_TEST(image_tags_are_cut_on_characters)
{
	/* deploy.env comes from the host: a long tag of multi-byte characters (sanitized) */
	char image[200] = "reg:5000/app:", tag[80];

	for (int i = 0; i < 60; i++)
		strcat(image, "\xc3\xa9");
	deployenv_image_tag(image, tag, sizeof tag);
	ck_assert_uint_le(strlen(tag), sizeof tag - 1);
	ck_assert_msg(clean_utf8(tag), "tag (%zu bytes) cut inside a character: it ends in 0x%02x", strlen(tag),
	    (unsigned char)tag[strlen(tag) - 1]);
	ck_assert_uint_eq(strlen(tag), 78);
}
END_TEST

/* The current run's own records come with every read (the watch's too): the dashboard
 * says how the last run went without the history. */
START_TEST(the_last_run_is_read_with_the_state)
{
	struct host_state st;
	char why[200];
	struct reply r = { .current = "r7\n", .current_run =
	    "{\"id\":\"r7\",\"event\":\"start\",\"started\":1790000000,\"operator\":\"bob\","
	    "\"action\":\"deploy\",\"env\":\"staging\",\"tag\":\"sha-2222222\",\"steps\":[\"a\"]}\n"
	    "{\"id\":\"r7\",\"event\":\"end\",\"ended\":1790000060,\"result\":\"failed\","
	    "\"failed_step\":4,\"steps\":[]}\n" };
	char *text = framed(&r);

	ck_assert_msg(hoststate_parse(text, strlen(text), &st, why, sizeof why), "%s", why);
	ck_assert(st.last.known);
	ck_assert_str_eq(st.last.action, "deploy");
	ck_assert_str_eq(st.last.tag, "sha-2222222");
	ck_assert_int_eq(st.last.result, RUN_FAILED);
	ck_assert_int_eq(st.last.failed_step, 4);
	hoststate_free(&st);
	free(text);
	/* a record of another run is not the current one's */
	r.current = "r8\n";
	text = framed(&r);
	ck_assert(hoststate_parse(text, strlen(text), &st, why, sizeof why));
	ck_assert(!st.last.known);
	hoststate_free(&st);
	free(text);
}
END_TEST

/* Hosts whose deploy.env name the same tag, one pinned to a digest and one not, run the
 * same build; the same tag pinned to other digests does not. */
static const char *differs_with(const char *first, const char *second)
{
	static char out[64];
	struct host_state all, one;

	memset(&all, 0, sizeof all);
	memset(&one, 0, sizeof one);
	one.has_deploy_env = true;
	snprintf(one.deploy_env.app_image, sizeof one.deploy_env.app_image, "%s", first);
	hoststate_merge(&all, &one, 0, "a");
	memset(&one, 0, sizeof one);
	one.has_deploy_env = true;
	snprintf(one.deploy_env.app_image, sizeof one.deploy_env.app_image, "%s", second);
	hoststate_merge(&all, &one, 1, "b");
	snprintf(out, sizeof out, "%s", all.deploy_env_differs);
	hoststate_free(&all);
	return out;
}

START_TEST(a_digest_pin_alone_is_not_a_different_build)
{
	const char *pinned = "reg/app:sha-1111111@sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111";
	const char *other = "reg/app:sha-1111111@sha256:"
	    "2222222222222222222222222222222222222222222222222222222222222222";

	ck_assert_str_eq(differs_with(pinned, "reg/app:sha-1111111"), "");
	ck_assert_str_eq(differs_with(pinned, other), "b");
	ck_assert_str_eq(differs_with(pinned, "reg/app:sha-2222222"), "b");
}
END_TEST

/* ---- where a rollout in waves stands (src/rolloutstatus.h) ---- */

static const struct rollout_unit six[] = {
	{ true, "sha-3333333", "", "L1", RUN_SUCCEEDED, "L1" },
	{ true, "sha-3333333", "", "L1", RUN_SUCCEEDED, "L1" },
	{ true, "sha-2222222", "", "L1", RUN_ROLLED_BACK, "L1" },
	{ true, "sha-2222222", "L1", "L1", RUN_RESULT_NONE, "L1" },
	{ false, "", "", "", RUN_RESULT_NONE, "" },
	{ true, "sha-2222222", "", "r0", RUN_SUCCEEDED, "L1" },
};

static void six_unit(const void *arg, size_t j, struct rollout_unit *u)
{
	*u = ((const struct rollout_unit *)arg)[j];
}

/* Units by how they stand, waves by their units, the tags they run, the driver heard or
 * not; a lease another unit does not hold is no rollout. */
START_TEST(a_rollouts_standing_is_read_from_its_units)
{
	struct host_lock lock = { .held = true, .leased = true };
	struct drive_record driver = { .present = true, .beat = 1000, .stale_s = 10,
		.state = DRIVE_PAUSED, .wave = 2 };
	struct drive_request req = { 0 };
	struct rollout_first first = { &lock, &driver, &req, 1005 };
	struct rollout_status st;
	enum rollout_stand stands[6];
	struct rollout_unit other[6];

	snprintf(lock.lease.id, sizeof lock.lease.id, "L1");
	snprintf(lock.lease.tag, sizeof lock.lease.tag, "sha-3333333");
	lock.lease.units = 6;
	lock.lease.waves = (struct wave_plan){ .len = 3, .end = { 1, 3, 6 } };
	rollout_status_of(&first, six_unit, six, 6, stands, &st);
	ck_assert(st.active);
	ck_assert_uint_eq(st.wave, 3);
	ck_assert_int_eq(stands[0], STAND_TOOK);
	ck_assert_int_eq(stands[2], STAND_FAILED);
	ck_assert_int_eq(stands[3], STAND_RUNNING);
	ck_assert_int_eq(stands[4], STAND_NOT_READ);
	ck_assert_int_eq(stands[5], STAND_WAITING);
	ck_assert_uint_eq(st.wave_took[1], 1);
	ck_assert_uint_eq(st.wave_failed[1], 1);
	ck_assert_uint_eq(st.wave_running[2], 1);
	ck_assert(st.driven);
	ck_assert_str_eq(rollout_state_word(&st), "paused");
	ck_assert_uint_eq(st.tags_len, 2);
	ck_assert_str_eq(st.tags[0].tag, "sha-2222222");
	ck_assert_uint_eq(st.tags[0].hosts, 3);
	ck_assert_uint_eq(st.not_read, 1);
	first.host_now = 1010;          /* the beat is stale: nobody drives it */
	rollout_status_of(&first, six_unit, six, 6, NULL, &st);
	ck_assert(!st.driven);
	ck_assert_str_eq(rollout_state_word(&st), "left");
	memcpy(other, six, sizeof other);
	other[5].lease = "";            /* let go there already: still the rollout */
	rollout_status_of(&first, six_unit, other, 6, NULL, &st);
	ck_assert(st.active);
	other[5].lease = "L9";
	rollout_status_of(&first, six_unit, other, 6, NULL, &st);
	ck_assert(!st.active);
	ck_assert_msg(strstr(st.problem, "different runs (host 6: L9)"), "%s", st.problem);
	lock.lease.waves.len = 0;       /* a run over several hosts: no rollout in waves */
	rollout_status_of(&first, six_unit, six, 6, NULL, &st);
	ck_assert(!st.active);
	ck_assert_str_eq(st.problem, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deploy");
	TCase *plans = tcase_create("plans");
	TCase *state = tcase_create("state");
	TCase *command = tcase_create("state command");
	TCase *history = tcase_create("history");

	tcase_add_test(plans, default_plan_is_the_compose_flow);
	tcase_add_test(plans, migrator_runs_once_and_never_on_rollback);
	tcase_add_test(plans, default_plan_follows_the_deploy_keys);
	tcase_add_test(plans, smoke_paths_stay_literal);
	tcase_add_test(plans, ready_url_is_one_shell_word);
	tcase_add_test(plans, custom_steps_are_expanded);
	tcase_add_test(plans, an_explicit_switch_is_kept);
	tcase_add_test(plans, image_refs_pin_tag_and_digest);
	tcase_add_test(plans, running_services_are_read_and_compared);
	tcase_add_test(plans, run_ids_are_time_and_suffix);
	tcase_add_test(plans, step_templates_name_every_variable);
	tcase_add_test(plans, deploy_keys_say_where);
	tcase_add_test(plans, a_host_can_name_its_own_app_port_and_url);
	tcase_add_test(plans, deploy_defaults_are_inherited);
	tcase_add_test(plans, a_thousand_hosts_at_most);
	tcase_add_test(plans, the_target_is_one_gantry_knows);
	suite_add_tcase(s, plans);

	tcase_add_test(state, state_with_a_held_lock);
	tcase_add_test(state, a_drivers_record_is_read_with_the_lease);
	tcase_add_test(state, a_rollouts_standing_is_read_from_its_units);
	tcase_add_test(state, stale_locks);
	tcase_add_test(state, a_long_history_is_read_from_its_tail);
	tcase_add_test(state, a_reply_without_its_end_is_refused);
	tcase_add_test(state, a_reply_not_framed_as_gantrys_is_refused);
	tcase_add_test(state, host_text_is_sanitized_and_cut_on_characters);
	suite_add_tcase(s, state);

	tcase_add_checked_fixture(command, scratch_setup, scratch_teardown);
	tcase_set_timeout(command, 30);
	tcase_add_test(command, state_command_output_is_read);
	tcase_add_test(command, planted_markers_forge_nothing);
	tcase_add_test(command, an_empty_freeze_file_is_a_freeze);
	tcase_add_test(command, a_history_without_its_last_newline_is_read);
	suite_add_tcase(s, command);

	tcase_add_test(history, history_records_steps_and_rollbacks);
	tcase_add_test(history, history_refuses_what_is_not_a_record);
	tcase_add_test(history, history_text_is_sanitized);
	tcase_add_test(history, overlong_history_fields_are_cut);
	tcase_add_test(history, image_tags_and_digests);
	tcase_add_test(history, image_tags_are_cut_on_characters);
	tcase_add_test(history, hosts_histories_are_merged);
	tcase_add_test(history, a_digest_pin_alone_is_not_a_different_build);
	tcase_add_test(history, the_last_run_is_read_with_the_state);
	tcase_add_test(history, the_worst_result_wins_with_its_steps);
	tcase_add_test(history, adoptions_and_restored_runs_are_read);
	tcase_add_test(history, records_run_together_and_huge_numbers);
	tcase_add_test(history, event_lines_are_the_runners_or_nothing);
	suite_add_tcase(s, history);
	return run_suite(s);
}
