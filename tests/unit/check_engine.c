/* The release engine (src/deploy.c) driven through a fake target (tests/unit/faketarget.c)
 * with a real registry and real apps answering over HTTP on loopback (testhttp.c): every
 * release decision in milliseconds. The real-component tests (tests/integration,
 * tests/e2e) run each kind of behaviour once more on sshd and containers. */
#include "config.h"

#include "confparse.h"
#include "deploy.h"
#include "faketarget.h"
#include "http.h"
#include "registry.h"
#include "suite.h"
#include "testhttp.h"
#include "waves.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OLD "sha-1111111"
#define NEW "sha-2222222"
#define WAIT_MS 10000

struct world {
	struct loop *loop;
	struct testhttp *srv;
	struct conf *conf;
	struct http_client *http;
	struct registry *reg;
	struct fake_target **ft;        /* one per environment */
	struct deploy_ctx ctx;
	struct deploy *d;
	char app[3][72], mig[3][72];    /* the digests of OLD, NEW and sha-3333333 */
	size_t switched[64];            /* production's units, in the order they switched */
	size_t switched_len;
};

static const char *const tags[] = { OLD, NEW, "sha-3333333" };

static const struct target *world_target(void *arg, const struct conf_env *env)
{
	struct world *w = arg;

	return &w->ft[env - w->conf->envs]->base;
}

/* The app of the environment a unit belongs to reports the tag it switched to. */
static void app_switched(void *arg, struct fake_target *ft, size_t j, const char *image)
{
	struct world *w = arg;
	char prefix[80], tag[136];

	if (strcmp(ft->base.env->name, "production") == 0 && w->switched_len < 64)
		w->switched[w->switched_len++] = j;
	snprintf(prefix, sizeof prefix, "/%s", ft->base.env->name);
	deployenv_image_tag(image, tag, sizeof tag);
	testhttp_app(w->srv, prefix, true, tag);
}

/* "REGISTRY/shop/app:TAG@DIGEST" for tag number i */
static void image_ref(const struct world *w, const char *repo, int i, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/shop/%s:%s@%s", testhttp_url(w->srv) + strlen("http://"), repo,
	    tags[i], strcmp(repo, "app") == 0 ? w->app[i] : w->mig[i]);
}

/* Unit j of environment e as if tag number i had been deployed there (run `id`). */
static void ran(struct world *w, size_t e, size_t j, int i, const char *id, const char *result,
    long long at)
{
	char app[300], mig[300];

	image_ref(w, "app", i, app, sizeof app);
	image_ref(w, "migrator", i, mig, sizeof mig);
	fake_ran(w->ft[e], j, id, tags[i], app, mig, result, at);
}

/* A world of staging (one unit) and production (`units` of them, root@p1 and on), as
 * `extra` adds to production's deploy section and `more` to production itself; every unit
 * runs OLD, which production's app reports. */
static struct world *world_make(const char *extra, size_t units, const char *more)
{
	struct world *w = xcalloc(1, sizeof *w);
	char first[300], *yml, hosts[4096] = "";

	w->loop = loop_new();
	w->srv = testhttp_new(w->loop);
	for (int i = 0; i < 3; i++) {
		testhttp_image(w->srv, "shop/app", tags[i], w->app[i]);
		testhttp_image(w->srv, "shop/migrator", tags[i], w->mig[i]);
	}
	for (size_t j = 0; j < units; j++)
		snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts), "%sroot@p%zu", j ? ", " : "",
		    j + 1);
	yml = xasprintf("project: shop\n"
	    "registry: {url: '%s', app: shop/app, migrator: shop/migrator}\n"
	    "environments:\n"
	    "  - name: staging\n    url: %s/staging\n    hosts: [root@s1]\n    deploy_dir: /srv/shop\n"
	    "  - name: production\n    url: %s/production\n"
	    "    hosts: [%s]\n    deploy_dir: /srv/shop\n"
	    "    deploy: {%s}\n%s", testhttp_url(w->srv), testhttp_url(w->srv), testhttp_url(w->srv),
	    hosts, extra, more);
	w->conf = parse(yml, first, sizeof first);
	free(yml);
	ck_assert_msg(w->conf != NULL, "%s", first);
	w->http = http_client_new(w->loop);
	w->reg = registry_new(w->loop, w->conf->registry);
	w->ft = xcalloc(w->conf->envs_len, sizeof *w->ft);
	for (size_t e = 0; e < w->conf->envs_len; e++) {
		w->ft[e] = fake_target_new(w->loop, w->conf, &w->conf->envs[e]);
		w->ft[e]->switched = app_switched;
		w->ft[e]->switched_arg = w;
		for (size_t j = 0; j < w->ft[e]->units_len; j++)
			ran(w, e, j, 0, "20261201T100000-aaaa", "succeeded", 1764583200);
	}
	testhttp_app(w->srv, "/staging", true, OLD);
	testhttp_app(w->srv, "/production", true, OLD);
	w->ctx = (struct deploy_ctx){
		.loop = w->loop, .conf = w->conf, .http = w->http, .registry = w->reg,
		.target = world_target, .target_arg = w, .operator = "bob@ops",
	};
	return w;
}

static struct world *world_new(const char *extra)
{
	return world_make(extra, 3, "");
}

static void world_free(struct world *w)
{
	deploy_free(w->d);
	for (int k = 0; k < 5; k++)
		loop_run_once(w->loop, 0);      /* a driver's let-go, answered */
	for (size_t e = 0; e < w->conf->envs_len; e++)
		fake_target_free(w->ft[e]);
	free(w->ft);
	registry_free(w->reg);
	http_client_free(w->http);
	conf_free(w->conf);
	testhttp_free(w->srv);
	loop_free(w->loop);
	free(w);
}

static struct fake_unit *unit(struct world *w, const char *env, size_t j)
{
	return &w->ft[conf_env_by_name(w->conf, env) - w->conf->envs]->units[j];
}

static enum deploy_phase phase(const struct world *w)
{
	return deploy_info(w->d)->phase;
}

/* Runs the loop until the deploy reaches `want` (or a later phase); fails the test on
 * the way with what the deploy said. */
static void wait_phase(struct world *w, enum deploy_phase want)
{
	int64_t until = loop_clock_ms() + WAIT_MS;

	while (phase(w) != want && phase(w) != DEPLOY_REFUSED && phase(w) != DEPLOY_DONE &&
	    loop_clock_ms() < until)
		loop_run_once(w->loop, 20);
	ck_assert_msg(phase(w) == want, "phase %d, not %d: %s%s", phase(w), want,
	    deploy_info(w->d)->status, deploy_info(w->d)->verdict.refusal);
}

/* Runs the loop until cond(w) holds. */
static void wait_until(struct world *w, bool (*cond)(struct world *w), const char *what)
{
	int64_t until = loop_clock_ms() + WAIT_MS;

	while (!cond(w) && loop_clock_ms() < until)
		loop_run_once(w->loop, 20);
	ck_assert_msg(cond(w), "timed out waiting for %s: %s", what, deploy_info(w->d)->status);
}

static void start(struct world *w, enum deploy_kind kind, const char *env, const char *tag)
{
	struct deploy_request req = {
		.kind = kind, .target = conf_env_by_name(w->conf, env), .tag = tag,
	};

	w->d = deploy_new(&w->ctx, &req, NULL, NULL);
}

/* Plans, confirms and runs to the end. */
static const struct deploy_info *plan_and_run(struct world *w)
{
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_DONE);
	return deploy_info(w->d);
}

/* Unit j of env's deploy.env names tag number i. */
static void runs(struct world *w, const char *env, size_t j, int i)
{
	const struct fake_unit *u = unit(w, env, j);

	ck_assert_msg(strstr(u->app_image, tags[i]) != NULL, "%s's %s runs %s, not %s", env, u->name,
	    u->app_image, tags[i]);
}

START_TEST(a_deploy_reaches_every_unit)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	ck_assert_str_eq(i->tag, NEW);
	ck_assert_str_eq(i->current, OLD);
	ck_assert_str_eq(i->rollback_tag, OLD);
	ck_assert_str_eq(i->app_digest, w->app[1]);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);      /* nothing ran before the yes */
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	for (size_t j = 0; j < 3; j++) {
		runs(w, "production", j, 1);
		ck_assert_int_eq(unit(w, "production", j)->runs, 1);
		ck_assert_ptr_nonnull(strstr(unit(w, "production", j)->history, "\"result\":\"succeeded\""));
		ck_assert(!unit(w, "production", j)->locked);
	}
	world_free(w);
}
END_TEST

START_TEST(a_failure_on_the_second_unit_takes_the_first_back)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 1)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "result %d: %s", i->result, i->status);
	ck_assert(i->fleet_rollback);
	ck_assert_ptr_nonnull(strstr(i->status, "went back to " OLD));
	for (size_t j = 0; j < 3; j++)
		runs(w, "production", j, 0);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 2);      /* the run, then its way back */
	ck_assert_int_eq(unit(w, "production", 1)->runs, 1);      /* rolled back by itself */
	ck_assert_int_eq(unit(w, "production", 2)->runs, 0);      /* never touched */
	world_free(w);
}
END_TEST

START_TEST(without_auto_rollback_a_later_failure_says_the_units_differ)
{
	struct world *w = world_new("auto_rollback: false");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 1)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_FAILED, "result %d: %s", i->result, i->status);
	ck_assert(i->hosts_differ);
	ck_assert_ptr_nonnull(strstr(i->status, "gantry rollback production"));
	runs(w, "production", 0, 1);
	runs(w, "production", 2, 0);
	ck_assert_int_eq(unit(w, "production", 2)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_failure_before_the_switch_starts_no_other_unit)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 0)->fail_step, 80, "pull images");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_FAILED, "result %d: %s", i->result, i->status);
	ck_assert_ptr_nonnull(strstr(i->status, "not touched"));
	for (size_t j = 0; j < 3; j++)
		runs(w, "production", j, 0);            /* the first put deploy.env back */
	ck_assert_int_eq(unit(w, "production", 1)->runs, 0);
	ck_assert_int_eq(unit(w, "production", 2)->runs, 0);
	world_free(w);
}
END_TEST

static bool first_paused(struct world *w)
{
	return fake_paused(w->ft[1], 0) && deploy_info(w->d)->hosts[0].state == HOST_RUNNING;
}

START_TEST(a_cancel_before_the_switch_puts_the_unit_back)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 0)->pause_at, 80, "run migrator");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, first_paused, "the first unit's run to pause");
	runs(w, "production", 0, 1);                    /* deploy.env written already */
	ck_assert(deploy_cancel(w->d));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_CANCELLED, "result %d: %s", i->result, i->status);
	ck_assert_str_eq(i->cancel, "accepted");
	for (size_t j = 0; j < 3; j++)
		runs(w, "production", j, 0);
	ck_assert_int_eq(unit(w, "production", 1)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_lock_held_by_another_run_refuses_the_plan)
{
	struct world *w = world_new("auto_rollback: true");
	struct fake_unit *u = unit(w, "production", 2);

	u->locked = true;
	snprintf(u->lock_owner, sizeof u->lock_owner, "alice@laptop");
	snprintf(u->lock_run, sizeof u->lock_run, "20261207T090000-bbbb");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "alice@laptop") != NULL, "%s",
	    deploy_info(w->d)->verdict.refusal);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_lock_taken_after_the_plan_starts_nothing)
{
	struct world *w = world_new("auto_rollback: true");
	struct fake_unit *u = unit(w, "production", 0);
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	u->locked = true;
	snprintf(u->lock_owner, sizeof u->lock_owner, "alice@laptop");
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_REFUSED);
	i = deploy_info(w->d);
	ck_assert_msg(strstr(i->verdict.refusal, "locked just now on root@p1 by alice@laptop") !=
	    NULL, "%s", i->verdict.refusal);
	for (size_t j = 0; j < 3; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	/* the first unit refused the lease: no other was asked */
	ck_assert(!unit(w, "production", 1)->locked && !unit(w, "production", 2)->locked);
	world_free(w);
}
END_TEST

/* Two consoles race for an environment: the lease taken on the first unit, then a unit
 * further on is found locked; what was taken is let go, and nothing ran. */
START_TEST(a_lease_refused_on_a_later_unit_lets_the_others_go)
{
	struct world *w = world_new("auto_rollback: true");
	struct fake_unit *u = unit(w, "production", 2);
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	fake_lock(w->ft[1], 2, "20261207T090000-bbbb", "alice@laptop");
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_REFUSED);
	i = deploy_info(w->d);
	ck_assert_msg(strstr(i->verdict.refusal, "on root@p3 by alice@laptop") != NULL, "%s",
	    i->verdict.refusal);
	for (size_t j = 0; j < 3; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	ck_assert(!unit(w, "production", 0)->locked && !unit(w, "production", 1)->locked);
	ck_assert_str_eq(u->lock_owner, "alice@laptop");
	world_free(w);
}
END_TEST

/* A unit unreachable when the lease is taken: nothing starts, the lease is let go where
 * it was taken, and the refusal says where it could not be. */
START_TEST(a_lease_that_cannot_reach_a_unit_starts_nothing)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	unit(w, "production", 2)->down = true;
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_REFUSED);
	i = deploy_info(w->d);
	ck_assert_msg(strstr(i->verdict.refusal, "root@p3: connection refused") != NULL &&
	    strstr(i->verdict.refusal, "could not be let go (root@p3: connection refused): "
	    "`gantry unlock production` does") != NULL, "%s", i->verdict.refusal);
	for (size_t j = 0; j < 3; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	ck_assert(!unit(w, "production", 0)->locked && !unit(w, "production", 1)->locked);
	world_free(w);
}
END_TEST

START_TEST(a_unit_that_cannot_be_read_refuses_the_plan)
{
	struct world *w = world_new("auto_rollback: true");

	unit(w, "production", 1)->down = true;
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "root@p2: connection refused") != NULL,
	    "%s", deploy_info(w->d)->verdict.refusal);
	world_free(w);
}
END_TEST

START_TEST(the_registry_down_refuses_a_deploy)
{
	struct world *w = world_new("auto_rollback: true");

	testhttp_down(w->srv, true);
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "shop/app:" NEW) != NULL, "%s",
	    deploy_info(w->d)->verdict.refusal);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_tag_repointed_after_the_plan_starts_nothing)
{
	struct world *w = world_new("auto_rollback: true");

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	testhttp_point(w->srv, "shop/app", NEW, "sha-3333333");      /* rebuilt under the tag */
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "re-pointed") != NULL, "%s",
	    deploy_info(w->d)->verdict.refusal);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_promotion_takes_what_staging_runs)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	ran(w, 0, 0, 1, "20261205T100000-cccc", "succeeded", 1764928800);
	testhttp_app(w->srv, "/staging", true, NEW);
	start(w, DEPLOY_PROMOTE, "production", NULL);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	ck_assert_str_eq(i->tag, NEW);
	ck_assert_str_eq(i->source, "staging");
	ck_assert_str_eq(i->app_digest, w->app[1]);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	for (size_t j = 0; j < 3; j++)
		runs(w, "production", j, 1);
	world_free(w);
}
END_TEST

START_TEST(a_promotion_of_a_build_that_failed_on_staging_is_refused)
{
	struct world *w = world_new("auto_rollback: true");

	ran(w, 0, 0, 1, "20261205T100000-cccc", "failed", 1764928800);
	testhttp_app(w->srv, "/staging", true, NEW);
	start(w, DEPLOY_PROMOTE, "production", NULL);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, NEW) != NULL, "%s",
	    deploy_info(w->d)->verdict.refusal);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_rollback_goes_to_the_last_healthy_tag)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	for (size_t j = 0; j < 3; j++)
		ran(w, 1, j, 1, "20261205T100000-dddd", "succeeded", 1764928800);
	testhttp_app(w->srv, "/production", true, NEW);
	start(w, DEPLOY_ROLLBACK, "production", NULL);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	ck_assert_str_eq(i->tag, OLD);
	ck_assert_str_eq(i->current, NEW);
	ck_assert_str_eq(i->app_digest, w->app[0]);
	ck_assert_str_eq(i->proven, "run 20261201T100000-aaaa (a deploy by ci@test), recorded healthy "
	    "by all 3 hosts");
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	for (size_t j = 0; j < 3; j++)
		runs(w, "production", j, 0);
	world_free(w);
}
END_TEST

START_TEST(retag_moves_the_tags_once_every_unit_is_ready)
{
	struct world *w = world_new("auto_rollback: true, retag: stable");
	const struct deploy_info *i;

	testhttp_set(w->srv, "PUT", "/v2/shop/app/manifests/stable", 201, NULL, "");
	testhttp_set(w->srv, "PUT", "/v2/shop/migrator/manifests/stable", 201, NULL, "");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	ck_assert_msg(i->retagged, "%s / %s", i->status, i->retag_error);
	ck_assert_int_eq(testhttp_count(w->srv, "PUT", "/v2/shop/app/manifests/stable"), 1);
	ck_assert_int_eq(testhttp_count(w->srv, "PUT", "/v2/shop/migrator/manifests/stable"), 1);
	world_free(w);
}
END_TEST

/* Another hand changes a unit's deploy.env while the run goes on: read again before the
 * tags move, the units do not all run the build, and no tag moves. */
static void hand_deploy(void *arg, struct fake_target *ft, size_t j, const char *image)
{
	struct world *w = arg;
	char old[300];

	app_switched(arg, ft, j, image);
	if (j == 2) {
		image_ref(w, "app", 0, old, sizeof old);
		snprintf(ft->units[0].app_image, sizeof ft->units[0].app_image, "%s", old);
	}
}

START_TEST(the_units_are_read_again_before_a_tag_moves)
{
	struct world *w = world_new("auto_rollback: true, retag: stable");
	const struct deploy_info *i;

	testhttp_set(w->srv, "PUT", "/v2/shop/app/manifests/stable", 201, NULL, "");
	testhttp_set(w->srv, "PUT", "/v2/shop/migrator/manifests/stable", 201, NULL, "");
	w->ft[1]->switched = hand_deploy;
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	ck_assert(!i->retagged);
	ck_assert_msg(strstr(i->retag_error, "read again, the hosts do not all run it: root@p1's "
	    "fake.env names sha-1111111, not sha-2222222") != NULL, "%s", i->retag_error);
	ck_assert_int_eq(testhttp_count(w->srv, "PUT", "/v2/shop/app/manifests/stable"), 0);
	world_free(w);
}
END_TEST

START_TEST(a_failed_run_moves_no_tag)
{
	struct world *w = world_new("auto_rollback: true, retag: stable");
	const struct deploy_info *i;

	testhttp_set(w->srv, "PUT", "/v2/shop/app/manifests/stable", 201, NULL, "");
	snprintf(unit(w, "production", 2)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "result %d: %s", i->result, i->status);
	ck_assert(!i->retagged);
	ck_assert_int_eq(testhttp_count(w->srv, "PUT", "/v2/shop/app/manifests/stable"), 0);
	world_free(w);
}
END_TEST

START_TEST(attach_follows_a_run_its_console_left)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 0)->pause_at, 80, "run migrator");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, first_paused, "the first unit's run to pause");
	deploy_free(w->d);                              /* the console goes away */
	ck_assert(fake_running(w->ft[1], 0));           /* the run goes on on its unit */
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	i = deploy_info(w->d);
	ck_assert(i->attached);
	ck_assert_str_eq(i->operator, "bob@ops");
	ck_assert_str_eq(i->tag, NEW);
	fake_resume(w->ft[1], 0);
	wait_phase(w, DEPLOY_DONE);
	ck_assert_int_eq(i->hosts[0].result, RUN_SUCCEEDED);
	runs(w, "production", 0, 1);
	world_free(w);
}
END_TEST

/* ---- one unit's word is not the environment's ---- */

/* Every production unit now runs NEW, proven; OLD before it, proven too. */
static void all_ran_new(struct world *w)
{
	for (size_t j = 0; j < 3; j++)
		ran(w, 1, j, 1, "20261205T100000-dddd", "succeeded", 1764928800);
	testhttp_app(w->srv, "/production", true, NEW);
}

START_TEST(a_run_recorded_on_one_unit_alone_is_no_rollback_target)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	all_ran_new(w);
	/* planted on the first unit: a newer "healthy" run of a build that never ran there */
	fake_record(w->ft[1], 0, "20261206T100000-eeee", "sha-3333333", w->app[2], w->mig[2],
	    "succeeded", 1765015200);
	start(w, DEPLOY_ROLLBACK, "production", NULL);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	ck_assert_str_eq(i->tag, OLD);                  /* not sha-3333333 */
	ck_assert_str_eq(i->app_digest, w->app[0]);
	deploy_free(w->d);
	/* and named, it is refused with the reason */
	start(w, DEPLOY_ROLLBACK, "production", "sha-3333333");
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "root@p1 recorded run "
	    "20261206T100000-eeee (1 of 3 hosts)") != NULL, "%s", deploy_info(w->d)->verdict.refusal);
	world_free(w);
}
END_TEST

START_TEST(a_tag_recorded_with_other_digests_is_no_rollback_target)
{
	struct world *w = world_new("auto_rollback: true");

	all_ran_new(w);
	/* the third unit says OLD was another build (a failed run of it): the tag's records
	 * disagree, so OLD is nobody's rollback target until someone looks */
	fake_record(w->ft[1], 2, "20261204T100000-ffff", OLD, w->app[2], w->mig[2], "failed",
	    1764842400);
	start(w, DEPLOY_ROLLBACK, "production", NULL);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "the records of the tag disagree")
	    != NULL, "%s", deploy_info(w->d)->verdict.refusal);
	ck_assert_int_eq(unit(w, "production", 0)->runs, 0);
	world_free(w);
}
END_TEST

START_TEST(a_run_recorded_twice_on_one_unit_counts_once)
{
	struct world *w = world_new("auto_rollback: true");

	all_ran_new(w);
	/* the same planted run twice on the second unit, as if two hosts had recorded it */
	fake_record(w->ft[1], 1, "20261206T100000-eeee", "sha-3333333", w->app[2], w->mig[2],
	    "succeeded", 1765015200);
	fake_record(w->ft[1], 1, "20261206T100000-eeee", "sha-3333333", w->app[2], w->mig[2],
	    "succeeded", 1765015200);
	fake_record(w->ft[1], 0, "20261206T100000-eeee", "sha-3333333", w->app[2], w->mig[2],
	    "succeeded", 1765015200);
	start(w, DEPLOY_ROLLBACK, "production", NULL);
	wait_phase(w, DEPLOY_PLANNED);
	ck_assert_str_eq(deploy_info(w->d)->tag, OLD);
	world_free(w);
}
END_TEST

START_TEST(an_adoption_recorded_after_runs_is_no_baseline)
{
	struct world *w = world_new("auto_rollback: true");
	char *rec = xasprintf("{\"id\":\"adopt-20261206T100000-gggg\",\"event\":\"adopt\","
	    "\"env\":\"production\",\"tag\":\"sha-3333333\",\"app_digest\":\"%s\","
	    "\"migrator_digest\":\"%s\",\"operator\":\"mallory\",\"at\":1765015200,"
	    "\"message\":\"planted\"}", w->app[2], w->mig[2]);

	all_ran_new(w);
	for (size_t j = 0; j < 3; j++)
		fake_history_add(w->ft[1], j, rec);     /* even on every unit */
	free(rec);
	start(w, DEPLOY_ROLLBACK, "production", NULL);
	wait_phase(w, DEPLOY_PLANNED);
	ck_assert_str_eq(deploy_info(w->d)->tag, OLD);
	world_free(w);
}
END_TEST

START_TEST(the_way_back_is_a_tag_every_unit_ran)
{
	struct world *w = world_new("auto_rollback: true");

	fake_record(w->ft[1], 0, "20261206T100000-eeee", NEW, w->app[1], w->mig[1], "succeeded",
	    1765015200);
	start(w, DEPLOY_DEPLOY, "production", "sha-3333333");
	wait_phase(w, DEPLOY_PLANNED);
	ck_assert_str_eq(deploy_info(w->d)->rollback_tag, OLD);       /* not NEW: one unit's word */
	world_free(w);
}
END_TEST

/* ---- a run over several units is the environment's ---- */

/* Where a test stops the console: unit stop_unit paused before its step stop_step, or
 * (stop_step 0) after the unit before it ended and before it began. */
static size_t stop_unit;
static int stop_step;

static bool at_stop(struct world *w)
{
	const struct fake_target *ft = w->ft[1];

	if (phase(w) == DEPLOY_DONE || phase(w) == DEPLOY_REFUSED)
		return true;
	if (stop_step > 0)
		return fake_paused(ft, stop_unit);
	if (stop_unit == 0)             /* leased everywhere, nothing begun */
		return ft->units[2].locked && ft->units[0].runs == 0 && phase(w) == DEPLOY_STARTING;
	return ft->units[stop_unit - 1].runs == 1 && !fake_running(ft, stop_unit - 1) &&
	    ft->units[stop_unit].runs == 0;
}

static bool unit_idle(struct world *w)
{
	return !fake_running(w->ft[1], stop_unit);
}

static bool first_unit_ran(struct world *w)
{
	return unit(w, "production", 0)->runs == 1 && !fake_running(w->ft[1], 0);
}

/* A deploy of NEW on production, run until unit `u` pauses before its step `n`. */
static void pause_at(struct world *w, size_t u, int n)
{
	stop_unit = u;
	stop_step = n;
	unit(w, "production", u)->pause_nth = n;
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, at_stop, "the unit to pause");
}

/* The same, then the console goes away. */
static void leave_at(struct world *w, size_t u, int n)
{
	pause_at(w, u, n);
	deploy_free(w->d);
	w->d = NULL;
}

/* How many start records of run `id` unit j holds. */
static int starts_of(struct world *w, size_t j, const char *id)
{
	char *needle = xasprintf("{\"id\":\"%s\",\"event\":\"start\"", id);
	const char *h = unit(w, "production", j)->history;
	int n = 0;

	for (const char *p = h; p && (p = strstr(p, needle)); p++)
		n++;
	free(needle);
	return n;
}

/* The console stops following a three-unit deploy at every step of every unit (and
 * between units); a later gantry finds the lease and carries the run on. Each time the
 * environment ends on the new tag, every unit ran it once, and no lease is left. */
START_TEST(a_run_ends_the_same_wherever_its_console_stops)
{
	int stops = 0;

	for (stop_unit = 0; stop_unit < 3; stop_unit++) {
		for (stop_step = 0; stop_step < 10; stop_step++) {
			struct world *w = world_new("auto_rollback: true");
			const struct deploy_info *i;
			char id[72];
			bool early = stop_step % 2 == 1;        /* attach while the unit is paused */

			unit(w, "production", stop_unit)->pause_nth = stop_step;
			start(w, DEPLOY_DEPLOY, "production", NEW);
			wait_phase(w, DEPLOY_PLANNED);
			deploy_confirm(w->d);
			wait_until(w, at_stop, "the stop point");
			if (phase(w) == DEPLOY_DONE) {  /* the unit has fewer steps: done with it */
				world_free(w);
				break;
			}
			snprintf(id, sizeof id, "%s", deploy_info(w->d)->run_id);
			deploy_free(w->d);              /* the console goes away */
			w->d = NULL;
			stops++;
			for (size_t j = 0; j < 3; j++)
				ck_assert_msg(unit(w, "production", j)->locked, "unit %zu not leased", j);
			for (size_t j = stop_unit + 1; j < 3; j++)
				ck_assert_int_eq(unit(w, "production", j)->runs, 0);
			if (!early) {
				fake_resume(w->ft[1], stop_unit);       /* the host side ends its run */
				w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"),
				    NULL, NULL);
				wait_until(w, unit_idle, "the unit's run to end on its own");
			} else {
				w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"),
				    NULL, NULL);
				wait_phase(w, DEPLOY_RUNNING);
				fake_resume(w->ft[1], stop_unit);
			}
			wait_phase(w, DEPLOY_DONE);
			i = deploy_info(w->d);
			ck_assert_msg(i->result == RUN_SUCCEEDED, "unit %zu step %d: %s: %s", stop_unit,
			    stop_step, run_result_name(i->result), i->status);
			ck_assert(i->carried);
			ck_assert_str_eq(i->run_id, id);
			for (size_t j = 0; j < 3; j++) {
				runs(w, "production", j, 1);
				ck_assert_msg(!unit(w, "production", j)->locked, "unit %zu still locked", j);
				ck_assert_int_eq(starts_of(w, j, id), 1);
				ck_assert_int_eq(i->hosts[j].result, RUN_SUCCEEDED);
			}
			world_free(w);
		}
	}
	ck_assert_int_ge(stops, 12);
}
END_TEST

/* The console left while the second unit ran; the third then fails after its switch.
 * The gantry that carries the run on takes the first two units back, as the gantry that
 * started it would have: the environment ends on one tag. */
START_TEST(a_run_carried_on_takes_the_units_back_when_a_later_one_fails)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 2)->fail_step, 80, "wait for ready");
	leave_at(w, 1, 2);
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	unit(w, "production", 1)->pause_nth = 0;        /* its way back does not pause */
	fake_resume(w->ft[1], 1);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 3; j++) {
		runs(w, "production", j, 0);
		ck_assert(!unit(w, "production", j)->locked);
	}
	world_free(w);
}
END_TEST

static bool way_back_paused(struct world *w)
{
	return fake_paused(w->ft[1], 0) && unit(w, "production", 0)->runs == 2;
}

/* The console left while the way back ran (the third unit failed, the first was being
 * taken back): the gantry that carries the run on finishes the way back. */
START_TEST(a_way_back_carried_on_ends_on_one_tag)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 2)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, first_unit_ran, "the first unit's run to end");
	unit(w, "production", 0)->pause_nth = 2;        /* its next run: the way back */
	wait_until(w, way_back_paused, "the first unit's way back to pause");
	ck_assert(deploy_info(w->d)->fleet_rollback);
	deploy_free(w->d);
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	i = deploy_info(w->d);
	ck_assert(i->carried && i->fleet_rollback);
	unit(w, "production", 0)->pause_nth = 0;
	fake_resume(w->ft[1], 0);
	wait_phase(w, DEPLOY_DONE);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 3; j++) {
		runs(w, "production", j, 0);
		ck_assert(!unit(w, "production", j)->locked);
	}
	ck_assert_int_eq(unit(w, "production", 0)->runs, 2);    /* its way back ran once */
	ck_assert_int_eq(unit(w, "production", 1)->runs, 2);
	world_free(w);
}
END_TEST

/* Read-only, a run found unfinished is followed, never carried on: it ends "partial",
 * naming the unit left behind, and the lease stays for a gantry that may write. */
START_TEST(read_only_a_run_found_unfinished_is_partial_not_succeeded)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	leave_at(w, 1, 2);
	w->conf->read_only = true;
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	fake_resume(w->ft[1], 1);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_PARTIAL, "%s: %s", run_result_name(i->result), i->status);
	ck_assert(!i->carried);
	ck_assert_str_eq(i->left_behind, "root@p3");
	ck_assert_msg(strstr(i->status, "not reached: root@p3") != NULL, "%s", i->status);
	ck_assert_int_eq(unit(w, "production", 2)->runs, 0);
	ck_assert(unit(w, "production", 2)->locked);
	/* a gantry that may write finishes it */
	deploy_free(w->d);
	w->conf->read_only = false;
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_DONE);
	ck_assert_int_eq(deploy_info(w->d)->result, RUN_SUCCEEDED);
	runs(w, "production", 2, 1);
	world_free(w);
}
END_TEST

/* A run left unfinished and then abandoned (its lease broken by unlock) stays partial:
 * attach replays it as such, naming the unit it never reached. */
START_TEST(an_abandoned_run_replays_as_partial)
{
	struct world *w = world_new("auto_rollback: true");
	const struct deploy_info *i;

	leave_at(w, 1, 2);
	fake_resume(w->ft[1], 1);
	while (fake_running(w->ft[1], 1))
		loop_run_once(w->loop, 20);
	for (size_t j = 0; j < 3; j++)
		fake_unlock(w->ft[1], j);
	w->d = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_PARTIAL, "%s: %s", run_result_name(i->result), i->status);
	ck_assert(!i->carried);
	ck_assert_str_eq(i->left_behind, "root@p3");
	world_free(w);
}
END_TEST

/* The gantry that started the run still follows it when a second one carries it on:
 * both drive it, each unit's run starts once, and both see it succeed. */
START_TEST(two_gantries_carrying_a_run_start_each_unit_once)
{
	struct world *w = world_new("auto_rollback: true");
	struct deploy *second;
	int64_t until = loop_clock_ms() + WAIT_MS;

	pause_at(w, 1, 2);
	second = deploy_attach(&w->ctx, conf_env_by_name(w->conf, "production"), NULL, NULL);
	while (deploy_info(second)->phase != DEPLOY_RUNNING && loop_clock_ms() < until)
		loop_run_once(w->loop, 20);
	ck_assert(deploy_info(second)->carried);
	fake_resume(w->ft[1], 1);
	while ((deploy_info(second)->phase != DEPLOY_DONE || phase(w) != DEPLOY_DONE) &&
	    loop_clock_ms() < until)
		loop_run_once(w->loop, 20);
	ck_assert_msg(deploy_info(second)->result == RUN_SUCCEEDED, "%s",
	    deploy_info(second)->status);
	ck_assert_msg(deploy_info(w->d)->result == RUN_SUCCEEDED, "%s", deploy_info(w->d)->status);
	for (size_t j = 0; j < 3; j++) {
		ck_assert_int_eq(unit(w, "production", j)->runs, 1);
		ck_assert(!unit(w, "production", j)->locked);
	}
	deploy_free(second);
	world_free(w);
}
END_TEST

/* ---- a rollout in waves ---------------------------------------------------------- */

static bool is_paused(struct world *w)
{
	return deploy_info(w->d)->paused || phase(w) == DEPLOY_DONE;
}

static bool is_soaking(struct world *w)
{
	return deploy_info(w->d)->soaking || phase(w) == DEPLOY_DONE;
}

/* Sizes are of the whole fleet, rounded up; a wave that adds nobody goes; the rest is a
 * last wave of its own. */
START_TEST(waves_are_worked_out_for_the_fleet)
{
	struct conf_wave four[] = { { 1, 0, false }, { 0, 5, false }, { 0, 25, true }, { 0, 100, false } };
	struct conf_wave two[] = { { 2, 0, false }, { 0, 50, true } };
	struct conf_rollout r = { .waves = four, .waves_len = 4 };
	struct wave_plan p;

	waves_plan(&r, 50, &p);
	ck_assert_uint_eq(p.len, 4);
	ck_assert_uint_eq(p.end[0], 1);
	ck_assert_uint_eq(p.end[1], 3);
	ck_assert_uint_eq(p.end[2], 13);
	ck_assert_uint_eq(p.end[3], 50);
	ck_assert(p.pause[2] && !p.pause[1] && !p.pause[3]);
	ck_assert_uint_eq(waves_of(&p, 0), 0);
	ck_assert_uint_eq(waves_of(&p, 12), 2);
	ck_assert_uint_eq(waves_start(&p, 3), 13);
	waves_plan(&r, 3, &p);         /* 5 % and 25 % of three: one host, as the first */
	ck_assert_uint_eq(p.len, 2);
	ck_assert_uint_eq(p.end[0], 1);
	ck_assert_uint_eq(p.end[1], 3);
	r = (struct conf_rollout){ .waves = two, .waves_len = 2 };
	waves_plan(&r, 10, &p);        /* and the rest after the last size */
	ck_assert_uint_eq(p.len, 3);
	ck_assert_uint_eq(p.end[1], 5);
	ck_assert(p.pause[1]);
	ck_assert_uint_eq(p.end[2], 10);
	waves_plan(&r, 1, &p);
	ck_assert_uint_eq(p.len, 1);
	ck_assert(!p.pause[0]);        /* nothing comes after the whole fleet */
}
END_TEST

/* Ten units in waves [1, 30%, 100%], three at once: no unit of a wave switches before every
 * unit of the wave before has. */
START_TEST(a_canary_rollout_goes_wave_by_wave)
{
	struct world *w = world_make("auto_rollback: true", 10,
	    "    rollout: {waves: [1, 30%, 100%], parallel: 3}\n");
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	ck_assert_uint_eq(deploy_info(w->d)->waves, 3);
	ck_assert_str_eq(deploy_info(w->d)->waves_plan, "1 host, then 2, then 7; 3 at a time; no "
	    "failure in a wave");
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	ck_assert_uint_eq(w->switched_len, 10);
	for (size_t k = 1; k < w->switched_len; k++)
		ck_assert_msg(i->hosts[w->switched[k]].wave >= i->hosts[w->switched[k - 1]].wave,
		    "unit %zu (wave %zu) switched after unit %zu (wave %zu)", w->switched[k],
		    i->hosts[w->switched[k]].wave, w->switched[k - 1], i->hosts[w->switched[k - 1]].wave);
	ck_assert_uint_eq(w->switched[0], 0);
	for (size_t j = 0; j < 10; j++)
		runs(w, "production", j, 1);
	world_free(w);
}
END_TEST

/* A unit that fails in wave 2 goes back on its own and the rollout pauses there; an abort
 * then takes back the units that had moved, newest wave first. */
START_TEST(a_failure_pauses_the_rollout_and_an_abort_takes_every_unit_back)
{
	struct world *w = world_make("auto_rollback: true", 6,
	    "    rollout: {waves: [1, 50%, 100%], parallel: 1}\n");
	const struct deploy_info *i;
	char why[200];

	snprintf(unit(w, "production", 2)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, is_paused, "the pause");
	i = deploy_info(w->d);
	ck_assert_msg(i->paused, "%s", i->status);
	ck_assert_msg(strstr(i->paused_why, "wave 2 of 3: 1 host failed, more than the 0 it may: "
	    "root@p3 (rolled_back)") != NULL, "%s", i->paused_why);
	runs(w, "production", 0, 1);
	runs(w, "production", 1, 1);
	runs(w, "production", 2, 0);   /* it went back on its own */
	runs(w, "production", 3, 0);   /* wave 3 never started */
	ck_assert_int_eq(unit(w, "production", 3)->runs, 0);
	ck_assert(deploy_abort(w->d, why, sizeof why));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "%s: %s", run_result_name(i->result), i->status);
	ck_assert_msg(strstr(i->status, "aborted in wave 2 of 3: the 2 hosts that had taken "
	    NEW " went back to " OLD) != NULL, "%s", i->status);
	for (size_t j = 0; j < 6; j++)
		runs(w, "production", j, 0);
	/* newest wave first: p2 (wave 2) went back before p1 (wave 1) */
	ck_assert_uint_eq(w->switched[w->switched_len - 2], 1);
	ck_assert_uint_eq(w->switched[w->switched_len - 1], 0);
	world_free(w);
}
END_TEST

/* Within its budget a failure does not stop the rollout; the run ends partial, naming the
 * unit that stayed behind. Resuming past a pause leaves the failed unit as it is. */
START_TEST(a_wave_tolerates_its_budget_and_a_resume_goes_on)
{
	struct world *w = world_make("auto_rollback: true", 6,
	    "    rollout: {waves: [1, 50%, 100%], parallel: 2, max_failures: 1}\n");
	const struct deploy_info *i;

	snprintf(unit(w, "production", 1)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	i = plan_and_run(w);
	ck_assert_msg(i->result == RUN_PARTIAL, "%s: %s", run_result_name(i->result), i->status);
	ck_assert_msg(strstr(i->status, "partial: 5 of 6 hosts run " NEW "; not: root@p2") != NULL,
	    "%s", i->status);
	runs(w, "production", 1, 0);
	runs(w, "production", 5, 1);
	deploy_free(w->d);
	w->d = NULL;
	/* two failures in a wave of one budget: a pause, then resumed */
	for (size_t j = 0; j < 6; j++)
		ran(w, 1, j, 0, "20261202T100000-bbbb", "succeeded", 1764669600);
	unit(w, "production", 1)->fail_step[0] = '\0';
	snprintf(unit(w, "production", 3)->fail_step, 80, "wait for ready");
	snprintf(unit(w, "production", 4)->fail_step, 80, "wait for ready");
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, is_paused, "the pause");
	i = deploy_info(w->d);
	ck_assert_msg(i->paused, "%s", i->status);
	ck_assert_msg(strstr(i->paused_why, "wave 3 of 3: 2 hosts failed, more than the 1 it may: "
	    "root@p4 (rolled_back), root@p5 (rolled_back)") != NULL, "%s", i->paused_why);
	ck_assert(deploy_resume(w->d));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_PARTIAL, "%s: %s", run_result_name(i->result), i->status);
	ck_assert_msg(strstr(i->status, "partial: 4 of 6 hosts run " NEW "; not: root@p4, root@p5")
	    != NULL, "%s", i->status);
	runs(w, "production", 1, 1);
	runs(w, "production", 5, 1);
	world_free(w);
}
END_TEST

/* A wave that asks for a go waits for it; a wave whose app is not ready after its soak
 * pauses, and a resume stands for the gate. */
START_TEST(waves_wait_for_a_go_and_for_their_soak)
{
	struct world *w = world_make("auto_rollback: true", 4,
	    "    rollout: {waves: [1, {size: 50%, pause: true}, 100%], soak: 200ms}\n");
	const struct deploy_info *i;

	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	/* wave 1 soaks; its app goes unready meanwhile */
	wait_until(w, is_soaking, "the soak");
	ck_assert_msg(deploy_info(w->d)->soaking, "%s", deploy_info(w->d)->status);
	testhttp_app(w->srv, "/production", false, NEW);
	wait_until(w, is_paused, "the gate");
	i = deploy_info(w->d);
	ck_assert_msg(strstr(i->paused_why, "wave 1 of 3: after the soak, production is not ready")
	    != NULL, "%s", i->paused_why);
	ck_assert_int_eq(unit(w, "production", 1)->runs, 0);
	testhttp_app(w->srv, "/production", true, NEW);
	ck_assert(deploy_resume(w->d));
	/* wave 2 ends, soaks, and waits for a go */
	wait_until(w, is_paused, "the go");
	i = deploy_info(w->d);
	ck_assert_msg(strstr(i->paused_why, "wave 2 of 3 is done (2 hosts run " NEW "): the next "
	    "starts on an operator's go") != NULL, "%s", i->paused_why);
	ck_assert_int_eq(unit(w, "production", 2)->runs, 0);
	ck_assert(deploy_resume(w->d));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	for (size_t j = 0; j < 4; j++)
		runs(w, "production", j, 1);
	world_free(w);
}
END_TEST

/* An emergency rollback: the last tag healthy on every unit, every unit at once whatever
 * the waves, confirmed by name, its reason recorded with the run. */
START_TEST(an_emergency_rollback_takes_every_unit_back_at_once)
{
	struct world *w = world_make("auto_rollback: true", 6,
	    "    rollout: {waves: [1, 50%, 100%], parallel: 1}\n");
	struct deploy_request req = {
		.kind = DEPLOY_ROLLBACK, .target = conf_env_by_name(w->conf, "production"),
		.emergency = "checkout\nis down",
	};
	const struct deploy_info *i;

	for (size_t j = 0; j < 6; j++)
		ran(w, 1, j, 1, "20261202T100000-bbbb", "succeeded", 1764669600);
	testhttp_app(w->srv, "/production", true, NEW);
	w->d = deploy_new(&w->ctx, &req, NULL, NULL);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	ck_assert(i->emergency && i->protected_env);
	ck_assert_str_eq(i->reason, "checkout is down");
	ck_assert_str_eq(i->tag, OLD);
	ck_assert_uint_eq(i->waves, 0);
	ck_assert_uint_eq(i->parallel, 6);
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	for (size_t j = 0; j < 6; j++)
		runs(w, "production", j, 0);
	ck_assert_msg(strstr(unit(w, "production", 3)->history, "\"message\":\"checkout is down\"")
	    != NULL, "%s", unit(w, "production", 3)->history);
	/* a lock no step holds (a rollout paused, its console gone) is broken first, noted */
	for (size_t j = 0; j < 6; j++)
		ran(w, 1, j, 1, "20261203T100000-cccc", "succeeded", 1764756000);
	for (size_t j = 0; j < 6; j++)
		fake_lock(w->ft[1], j, "20261203T110000-pppp", "carol@ops");
	deploy_free(w->d);
	w->d = deploy_new(&w->ctx, &req, NULL, NULL);
	wait_phase(w, DEPLOY_PLANNED);
	i = deploy_info(w->d);
	{
		bool said = false;

		for (size_t k = 0; k < i->verdict.warnings_len; k++)
			said = said || strstr(i->verdict.warnings[k], "the lock of run 20261203T110000-pppp "
			    "(") != NULL;
		ck_assert_msg(said, "no warning says the lock is broken first");
	}
	deploy_confirm(w->d);
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s", i->status);
	ck_assert(!unit(w, "production", 5)->locked);   /* (the real runner notes it: fleet.sh) */
	world_free(w);
	/* without a reason, nothing is planned */
	w = world_new("auto_rollback: true");
	req.target = conf_env_by_name(w->conf, "production");
	req.emergency = " ";
	w->d = deploy_new(&w->ctx, &req, NULL, NULL);
	wait_phase(w, DEPLOY_REFUSED);
	ck_assert_msg(strstr(deploy_info(w->d)->verdict.refusal, "an emergency rollback needs its "
	    "reason") != NULL, "%s", deploy_info(w->d)->verdict.refusal);
	world_free(w);
}
END_TEST

/* Six units in waves [1, 50%, 100%]: the console goes away while the second unit (wave 2)
 * runs. The next gantry carries the rollout on with the waves its lease keeps (gantry.yml
 * has none now), follows that unit to its end, starts nothing more and pauses, saying
 * where the rollout was left; a resume goes on with the wave, the next gantry's abort
 * takes back every unit that moved. */
static struct world *left_in_wave_two(void)
{
	struct world *w = world_make("auto_rollback: true", 6,
	    "    rollout: {waves: [1, 50%, 100%], parallel: 1}\n");
	struct conf_env *env = (struct conf_env *)conf_env_by_name(w->conf, "production");

	stop_unit = 1;
	stop_step = 2;
	unit(w, "production", 1)->pause_nth = 2;
	start(w, DEPLOY_DEPLOY, "production", NEW);
	wait_phase(w, DEPLOY_PLANNED);
	deploy_confirm(w->d);
	wait_until(w, at_stop, "the second unit to pause");
	deploy_free(w->d);              /* the console goes away */
	w->d = NULL;
	env->rollout.waves_len = 0;     /* and gantry.yml changes meanwhile */
	w->d = deploy_attach(&w->ctx, env, NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	ck_assert(deploy_info(w->d)->carried);
	ck_assert_uint_eq(deploy_info(w->d)->waves, 3);
	ck_assert_uint_eq(deploy_info(w->d)->wave, 2);
	unit(w, "production", 1)->pause_nth = 0;
	fake_resume(w->ft[1], 1);
	wait_until(w, is_paused, "the pause where the console left it");
	ck_assert_msg(deploy_info(w->d)->paused, "%s", deploy_info(w->d)->status);
	return w;
}

START_TEST(a_rollout_its_console_left_pauses_where_it_was_and_resumes)
{
	struct world *w = left_in_wave_two();
	const struct deploy_info *i = deploy_info(w->d);

	ck_assert_msg(strstr(i->paused_why, "was left by the console that drove it") &&
	    strstr(i->paused_why, "in wave 2 of 3: 2 of 6 hosts run " NEW ", 0 failed, 4 not "
	    "reached"), "%s", i->paused_why);
	for (size_t j = 2; j < 6; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	ck_assert(deploy_resume(w->d));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 6; j++) {
		runs(w, "production", j, 1);
		ck_assert_int_eq(unit(w, "production", j)->runs, 1);
		ck_assert(!unit(w, "production", j)->locked);
	}
	world_free(w);
}
END_TEST

START_TEST(a_rollout_its_console_left_is_aborted_by_the_next_gantry)
{
	struct world *w = left_in_wave_two();
	const struct deploy_info *i;
	char why[200];

	ck_assert(deploy_abort(w->d, why, sizeof why));
	wait_phase(w, DEPLOY_DONE);
	i = deploy_info(w->d);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 6; j++) {
		runs(w, "production", j, 0);
		ck_assert(!unit(w, "production", j)->locked);
	}
	for (size_t j = 2; j < 6; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	world_free(w);
}
END_TEST

static bool is_driver_paused(struct world *w)
{
	return unit(w, "production", 0)->driver.state == DRIVE_PAUSED;
}

static bool driver_renewed(struct world *w)
{
	const struct fake_unit *u = unit(w, "production", 0);

	return u->driver.present && u->driver.beat > (int64_t)time(NULL) - 60;
}

/* ---- a rollout's driver (src/drive.h) -------------------------------------------- */

/* A rollout in waves [1, 50%, 100%] over six units, driven by w->d, its second unit
 * (wave 2) held before its second step. */
static struct world *driven_in_wave_two(void)
{
	struct world *w = world_make("auto_rollback: true", 6,
	    "    rollout: {waves: [1, 50%, 100%], parallel: 1}\n    interval: 1s\n");

	pause_at(w, 1, 2);
	return w;
}

/* What another gantry's `gantry rollout pause|resume|abort` leaves beside the lease. */
static void ask(struct world *w, enum drive_ask what, const char *id, const char *why)
{
	struct drive_request *r = &unit(w, "production", 0)->request;

	*r = (struct drive_request){ .present = true, .ask = what, .at = 1 };
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->by, sizeof r->by, "carol@ops");
	snprintf(r->why, sizeof r->why, "%s", why);
}

static bool request_answered(struct world *w)
{
	return !unit(w, "production", 0)->request.present;
}

/* An operator elsewhere asks the driver to pause: the unit running ends, no other
 * starts, the rollout pauses saying who asked and why, the record on the first unit says
 * so; asked to resume, it goes on to the end. */
START_TEST(a_pause_asked_from_elsewhere_holds_the_next_units_and_a_resume_goes_on)
{
	struct world *w = driven_in_wave_two();
	const struct fake_unit *first = unit(w, "production", 0);
	const struct deploy_info *i = deploy_info(w->d);

	ck_assert(first->driver.present);
	ck_assert_int_eq(first->driver.state, DRIVE_RUNNING);
	ck_assert_uint_eq(first->driver.wave, 2);
	ck_assert_str_eq(first->driver.by, "bob@ops");
	ask(w, DRIVE_ASK_PAUSE, "0123456789abcdef", "checkout errors");
	wait_until(w, request_answered, "the request to be answered");
	unit(w, "production", 1)->pause_nth = 0;
	fake_resume(w->ft[1], 1);
	wait_until(w, is_paused, "the pause asked");
	ck_assert_msg(strstr(i->paused_why, "carol@ops asked to pause: checkout "
	    "errors") != NULL, "%s", i->paused_why);
	for (size_t j = 2; j < 6; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	wait_until(w, is_driver_paused, "the record to say paused");
	ck_assert_msg(strstr(first->driver.why, "checkout errors") != NULL, "%s", first->driver.why);
	ask(w, DRIVE_ASK_RESUME, "fedcba9876543210", "");
	wait_phase(w, DEPLOY_DONE);
	ck_assert_msg(i->result == RUN_SUCCEEDED, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 6; j++) {
		ck_assert_int_eq(unit(w, "production", j)->runs, 1);
		ck_assert(!unit(w, "production", j)->locked);
	}
	ck_assert(!first->driver.present);     /* it went with the lease */
	world_free(w);
}
END_TEST

/* Asked to abort from elsewhere: every unit that moved goes back. */
START_TEST(an_abort_asked_from_elsewhere_takes_every_moved_unit_back)
{
	struct world *w = driven_in_wave_two();
	const struct deploy_info *i = deploy_info(w->d);

	ask(w, DRIVE_ASK_ABORT, "0123456789abcdef", "bad canary");
	unit(w, "production", 1)->pause_nth = 0;
	fake_resume(w->ft[1], 1);
	wait_phase(w, DEPLOY_DONE);
	ck_assert_msg(i->result == RUN_ROLLED_BACK, "%s: %s", run_result_name(i->result), i->status);
	for (size_t j = 0; j < 6; j++) {
		runs(w, "production", j, 0);
		ck_assert(!unit(w, "production", j)->locked);
	}
	world_free(w);
}
END_TEST

/* A second gantry finds the rollout driven by a live console: it is refused, naming the
 * driver and how to reach it, and starts nothing; with the driver's beat gone stale (its console died), the next one takes the
 * rollout over and names itself. */
START_TEST(a_live_driver_is_followed_and_a_stale_one_taken_over)
{
	struct world *w = driven_in_wave_two();
	struct fake_unit *first = unit(w, "production", 0);
	const struct conf_env *env = conf_env_by_name(w->conf, "production");
	struct deploy *second = deploy_attach(&w->ctx, env, NULL, NULL);
	int64_t until = loop_clock_ms() + WAIT_MS;
	char token[40];

	while (deploy_info(second)->phase != DEPLOY_REFUSED && loop_clock_ms() < until)
		loop_run_once(w->loop, 20);
	ck_assert(!deploy_info(second)->carried);
	ck_assert_msg(strstr(deploy_info(second)->verdict.refusal, "is driven by bob@ops's gantry "
	    "(heard 0s ago; running in wave 2)") != NULL, "%s", deploy_info(second)->verdict.refusal);
	for (size_t j = 2; j < 6; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	deploy_free(second);
	/* the console dies with its link: its let-go never arrives, its beat goes stale */
	snprintf(token, sizeof token, "%s", first->driver.token);
	first->down = true;
	deploy_free(w->d);
	for (int k = 0; k < 5; k++)
		loop_run_once(w->loop, 10);
	first->down = false;
	ck_assert_str_eq(first->driver.token, token);
	first->driver.beat -= 3600;
	w->d = deploy_attach(&w->ctx, env, NULL, NULL);
	wait_phase(w, DEPLOY_RUNNING);
	ck_assert_msg(deploy_info(w->d)->carried, "%s", deploy_info(w->d)->status);
	wait_until(w, driver_renewed, "the new driver's record");
	ck_assert_str_ne(first->driver.token, token);
	unit(w, "production", 1)->pause_nth = 0;
	fake_resume(w->ft[1], 1);
	wait_until(w, is_paused, "the pause where it was left");
	ck_assert(deploy_resume(w->d));
	wait_phase(w, DEPLOY_DONE);
	ck_assert_msg(deploy_info(w->d)->result == RUN_SUCCEEDED, "%s", deploy_info(w->d)->status);
	world_free(w);
}
END_TEST

/* Another gantry took the rollout over while this one's beat was not heard: this one
 * stops driving it, says who drives it now, and starts nothing more. */
START_TEST(a_driver_taken_over_stops_driving)
{
	struct world *w = driven_in_wave_two();
	struct fake_unit *first = unit(w, "production", 0);
	const struct deploy_info *i = deploy_info(w->d);

	snprintf(first->driver.token, sizeof first->driver.token, "00000000deadbeef");
	snprintf(first->driver.by, sizeof first->driver.by, "dave@ops");
	wait_phase(w, DEPLOY_DONE);
	ck_assert_msg(i->result == RUN_UNKNOWN, "%s: %s", run_result_name(i->result), i->status);
	ck_assert_msg(strstr(i->status, "is driven by dave@ops's gantry now") != NULL, "%s", i->status);
	unit(w, "production", 1)->pause_nth = 0;
	fake_resume(w->ft[1], 1);       /* its run goes on there */
	for (int k = 0; k < 20; k++)
		loop_run_once(w->loop, 20);
	for (size_t j = 2; j < 6; j++)
		ck_assert_int_eq(unit(w, "production", j)->runs, 0);
	ck_assert(unit(w, "production", 3)->locked);   /* the lease stays, for the new driver */
	world_free(w);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_deploy_reaches_every_unit);
	tcase_add_test(tc, a_failure_on_the_second_unit_takes_the_first_back);
	tcase_add_test(tc, without_auto_rollback_a_later_failure_says_the_units_differ);
	tcase_add_test(tc, a_failure_before_the_switch_starts_no_other_unit);
	tcase_add_test(tc, a_cancel_before_the_switch_puts_the_unit_back);
	tcase_add_test(tc, a_lock_held_by_another_run_refuses_the_plan);
	tcase_add_test(tc, a_lock_taken_after_the_plan_starts_nothing);
	tcase_add_test(tc, a_lease_refused_on_a_later_unit_lets_the_others_go);
	tcase_add_test(tc, a_unit_that_cannot_be_read_refuses_the_plan);
	tcase_add_test(tc, a_lease_that_cannot_reach_a_unit_starts_nothing);
	tcase_add_test(tc, the_registry_down_refuses_a_deploy);
	tcase_add_test(tc, a_tag_repointed_after_the_plan_starts_nothing);
	tcase_add_test(tc, a_promotion_takes_what_staging_runs);
	tcase_add_test(tc, a_promotion_of_a_build_that_failed_on_staging_is_refused);
	tcase_add_test(tc, a_rollback_goes_to_the_last_healthy_tag);
	tcase_add_test(tc, retag_moves_the_tags_once_every_unit_is_ready);
	tcase_add_test(tc, the_units_are_read_again_before_a_tag_moves);
	tcase_add_test(tc, a_failed_run_moves_no_tag);
	tcase_add_test(tc, attach_follows_a_run_its_console_left);
	tcase_add_test(tc, a_run_recorded_on_one_unit_alone_is_no_rollback_target);
	tcase_add_test(tc, a_tag_recorded_with_other_digests_is_no_rollback_target);
	tcase_add_test(tc, a_run_recorded_twice_on_one_unit_counts_once);
	tcase_add_test(tc, an_adoption_recorded_after_runs_is_no_baseline);
	tcase_add_test(tc, the_way_back_is_a_tag_every_unit_ran);
	tcase_add_test(tc, a_run_ends_the_same_wherever_its_console_stops);
	tcase_add_test(tc, a_run_carried_on_takes_the_units_back_when_a_later_one_fails);
	tcase_add_test(tc, a_way_back_carried_on_ends_on_one_tag);
	tcase_add_test(tc, read_only_a_run_found_unfinished_is_partial_not_succeeded);
	tcase_add_test(tc, two_gantries_carrying_a_run_start_each_unit_once);
	tcase_add_test(tc, an_abandoned_run_replays_as_partial);
	suite_add_tcase(s, tc);
	tc = tcase_create("fleet");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, waves_are_worked_out_for_the_fleet);
	tcase_add_test(tc, a_canary_rollout_goes_wave_by_wave);
	tcase_add_test(tc, a_failure_pauses_the_rollout_and_an_abort_takes_every_unit_back);
	tcase_add_test(tc, a_wave_tolerates_its_budget_and_a_resume_goes_on);
	tcase_add_test(tc, waves_wait_for_a_go_and_for_their_soak);
	tcase_add_test(tc, an_emergency_rollback_takes_every_unit_back_at_once);
	tcase_add_test(tc, a_rollout_its_console_left_pauses_where_it_was_and_resumes);
	tcase_add_test(tc, a_rollout_its_console_left_is_aborted_by_the_next_gantry);
	tcase_add_test(tc, a_pause_asked_from_elsewhere_holds_the_next_units_and_a_resume_goes_on);
	tcase_add_test(tc, an_abort_asked_from_elsewhere_takes_every_moved_unit_back);
	tcase_add_test(tc, a_live_driver_is_followed_and_a_stale_one_taken_over);
	tcase_add_test(tc, a_driver_taken_over_stops_driving);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(engine_suite());
}
