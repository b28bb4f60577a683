/* The guards of a deploy (src/guard.c), on facts built by hand: a history as the hosts'
 * files hold it, a lock, a freeze, what the apps answered. Each case asserts on the words
 * a user reads (the refusal, the warnings, why a tag was chosen). */
#include "config.h"

#include "guard.h"
#include "confparse.h"
#include "suite.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_M "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HEX_N "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char yml[] =
	"project: shop\n"
	"registry: {url: 'http://127.0.0.1:5000', app: shop/app, migrator: shop/migrator}\n"
	"environments:\n"
	"  - name: staging\n    url: https://staging.example.com\n    hosts: [deploy@stg-1]\n"
	"    deploy_dir: /srv/shop\n"
	"  - name: production\n    url: https://shop.example.com\n"
	"    hosts: [deploy@prod-1, deploy@prod-2]\n    deploy_dir: /srv/shop\n"
	"    soak: 1h\n    deploy: {auto_rollback: true}\n";

static struct conf *conf;
static const struct conf_env *staging, *production;

static void setup(void)
{
	char err[300];

	conf = parse(yml, err, sizeof err);
	ck_assert_msg(conf != NULL, "%s", err);
	staging = &conf->envs[0];
	production = &conf->envs[1];
}

static void teardown(void)
{
	conf_free(conf);
}

/* A start and an end record: one run of `tag` that ended `result` at `ended`. */
static void run_lines(char *out, size_t outsz, const char *id, const char *tag, const char *app,
    const char *mig, const char *result, long long ended, bool migrated)
{
	size_t n = strlen(out);

	snprintf(out + n, outsz - n,
	    "{\"id\":\"%s\",\"event\":\"start\",\"action\":\"deploy\",\"env\":\"production\","
	    "\"tag\":\"%s\",\"app_digest\":\"sha256:%s\",\"migrator_digest\":\"sha256:%s\","
	    "\"operator\":\"alice\",\"started\":%lld,\"steps\":[\"pull\",\"run migrator\",\"start\"]}\n"
	    "{\"id\":\"%s\",\"event\":\"end\",\"result\":\"%s\",\"ended\":%lld,\"failed_step\":%d,"
	    "\"migrated\":%s,\"switched\":%s}\n",
	    id, tag, app, mig, ended - 60, id, result, ended,
	    strcmp(result, "failed") == 0 ? 2 : 0, migrated ? "true" : "false",
	    strcmp(result, "succeeded") == 0 ? "true" : "false");
}

/* A host state whose deploy.env names `tag` ("" none), with this history. */
static void state(struct host_state *st, const char *tag, const char *history)
{
	memset(st, 0, sizeof *st);
	if (tag[0]) {
		st->has_deploy_env = true;
		snprintf(st->deploy_env.app_image, sizeof st->deploy_env.app_image,
		    "reg.internal/shop/app:%s", tag);
		snprintf(st->deploy_env.migrator_image, sizeof st->deploy_env.migrator_image,
		    "reg.internal/shop/migrator:%s", tag);
	}
	history_parse(history, strlen(history), &st->history);
	st->hosts = 1;
	st->host_now = 1800000000;
}

/* ---- rollback ---------------------------------------------------------------- */

START_TEST(a_rollback_goes_to_the_newest_healthy_other_tag)
{
	char h[4096] = "";
	struct host_state st;
	struct guard_images to;
	struct guard_verdict v = { 0 };
	bool by_digest, never;

	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, true);
	run_lines(h, sizeof h, "r2", "sha-b", HEX_B, HEX_M, "succeeded", 1700001000, false);
	run_lines(h, sizeof h, "r3", "sha-c", HEX_A, HEX_N, "failed", 1700002000, true);
	state(&st, "sha-c", h);
	ck_assert(guard_rollback_target(production, &st.history, "", false, "sha-c", &to,
	    &by_digest, &never, &v));
	ck_assert_str_eq(to.tag, "sha-b");
	ck_assert_str_eq(to.app, "sha256:" HEX_B);      /* the images that ran, by digest */
	ck_assert(by_digest && !never);
	ck_assert(!guard_refused(&v));
	/* r3 migrated with another migrator after sha-b ran */
	ck_assert_uint_eq(v.warnings_len, 1);
	ck_assert_msg(strstr(v.warnings[0], "this crosses a migration: sha-c ran migrations on "
	    "production after sha-b was deployed") != NULL, "%s", v.warnings[0]);
	/* and the current tag is skipped even when it once ran healthy */
	memset(&v, 0, sizeof v);
	ck_assert(guard_rollback_target(production, &st.history, "", false, "sha-b", &to,
	    &by_digest, &never, &v));
	ck_assert_str_eq(to.tag, "sha-a");
	hoststate_free(&st);
}
END_TEST

START_TEST(a_tag_never_healthy_here_needs_unverified)
{
	char h[4096] = "";
	struct host_state st;
	struct guard_images to;
	struct guard_verdict v = { 0 };
	bool by_digest, never;

	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, false);
	run_lines(h, sizeof h, "r2", "sha-x", HEX_B, HEX_M, "failed", 1700001000, false);
	state(&st, "sha-a", h);
	ck_assert(!guard_rollback_target(production, &st.history, "sha-x", false, "sha-a", &to,
	    &by_digest, &never, &v));
	ck_assert_msg(strstr(v.refusal, "sha-x never ran healthy on production") != NULL, "%s",
	    v.refusal);
	ck_assert(strstr(v.refusal, "--to sha-x --unverified --yes") != NULL);
	memset(&v, 0, sizeof v);
	ck_assert(guard_rollback_target(production, &st.history, "sha-x", true, "sha-a", &to,
	    &by_digest, &never, &v));
	ck_assert(never && !by_digest);                 /* as the registry has it now */
	ck_assert_str_eq(to.tag, "sha-x");
	ck_assert(strncmp(v.warnings[0], "NOT VERIFIED: sha-x", 19) == 0);
	hoststate_free(&st);
}
END_TEST

START_TEST(a_rollback_without_runs_points_to_adopt)
{
	struct host_state st;
	struct guard_images to;
	struct guard_verdict v = { 0 };
	bool by_digest, never;
	char h[4096] = "";

	state(&st, "sha-a", "");
	ck_assert(!guard_rollback_target(production, &st.history, "", false, "sha-a", &to,
	    &by_digest, &never, &v));
	ck_assert(strstr(v.refusal, "production has no run recorded") != NULL);
	ck_assert(strstr(v.refusal, "`gantry adopt production`") != NULL);
	hoststate_free(&st);
	/* runs, but none healthy of another tag */
	memset(&v, 0, sizeof v);
	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, false);
	state(&st, "sha-a", h);
	ck_assert(!guard_rollback_target(production, &st.history, "", false, "sha-a", &to,
	    &by_digest, &never, &v));
	ck_assert_msg(strstr(v.refusal, "no healthy run of a tag other than sha-a") != NULL, "%s",
	    v.refusal);
	hoststate_free(&st);
}
END_TEST

START_TEST(the_way_back_is_never_taken_from_deploy_env_alone)
{
	char h[4096] = "";
	struct host_state st;
	struct guard_images back, baseline = { .tag = "sha-0", .app = "sha256:" HEX_A };

	/* nothing healthy recorded: deploy.env's sha-9 is not a way back */
	state(&st, "sha-9", "");
	guard_back(&st.history, "sha-1", NULL, &back);
	ck_assert_str_eq(back.tag, "");
	/* the baseline this run adopts is */
	guard_back(&st.history, "sha-1", &baseline, &back);
	ck_assert_str_eq(back.tag, "sha-0");
	ck_assert_str_eq(back.app, "sha256:" HEX_A);
	/* but not when it is the tag being deployed */
	guard_back(&st.history, "sha-0", &baseline, &back);
	ck_assert_str_eq(back.tag, "");
	hoststate_free(&st);
	/* a healthy run wins over the baseline; a corrupt one is skipped */
	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, false);
	run_lines(h, sizeof h, "r 2", "sha-b", HEX_B, HEX_M, "succeeded", 1700001000, false);
	state(&st, "sha-b", h);
	guard_back(&st.history, "sha-1", &baseline, &back);
	ck_assert_str_eq(back.tag, "sha-a");
	hoststate_free(&st);
}
END_TEST

START_TEST(a_failed_migrator_leaves_the_old_tag_running)
{
	char h[4096] = "";
	char still[136];
	struct host_state st;

	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, false);
	run_lines(h, sizeof h, "r2", "sha-b", HEX_B, HEX_M, "failed", 1700001000, false);
	state(&st, "sha-b", h);
	guard_still_runs(&st, "sha-b", still, sizeof still);
	ck_assert_str_eq(still, "sha-a");               /* r2 stopped before its switch */
	guard_still_runs(&st, "sha-a", still, sizeof still);
	ck_assert_str_eq(still, "");
	hoststate_free(&st);
}
END_TEST

/* ---- promote ----------------------------------------------------------------- */

static struct guard_facts promote_facts(const struct host_state *target,
    const struct host_state *source, const struct appcheck_result *app, const char *tag)
{
	return (struct guard_facts){
		.kind = DEPLOY_PROMOTE, .target = production, .target_state = target, .current = "",
		.tag = tag, .app_digest = "sha256:" HEX_B, .source = staging, .source_state = source,
		.source_app = app, .source_err = "", .registry_err = "", .images_missing = "",
		.tag_now = "",
	};
}

/* production runs sha-a; staging runs sha-b, whose one run there ended `result`. */
static void staging_ran(struct host_state *t, struct host_state *s, const char *result)
{
	char h[4096] = "";

	state(t, "sha-a", "");
	run_lines(h, sizeof h, "r1", "sha-b", HEX_B, HEX_M, result, 1700000000, false);
	state(s, "sha-b", h);
}

START_TEST(promotion_takes_only_what_the_source_verified)
{
	char h[4096] = "", chosen[300] = "";
	struct host_state t, s;
	struct appcheck_result app = { .ready = true, .version = "sha-b" };
	struct guard_verdict v = { 0 };
	struct guard_facts f;

	state(&t, "sha-a", "");
	/* the last run of sha-b on staging failed at its migrator */
	run_lines(h, sizeof h, "r1", "sha-b", HEX_B, HEX_M, "succeeded", 1700000000, false);
	run_lines(h, sizeof h, "r2", "sha-b", HEX_B, HEX_M, "failed", 1700001000, false);
	state(&s, "sha-b", h);
	f = promote_facts(&t, &s, &app, "sha-b");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_msg(strstr(v.refusal, "the last run of sha-b on staging (a deploy by alice, run r2) "
	    "failed at run migrator: promotion takes only a tag verified there") != NULL, "%s",
	    v.refusal);
	hoststate_free(&s);
	/* never ran there */
	memset(&v, 0, sizeof v);
	state(&s, "sha-b", "");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert(strstr(v.refusal, "staging has no run of sha-b recorded") != NULL);
	/* ... unless named with --tag, which warns */
	memset(&v, 0, sizeof v);
	f.explicit_tag = true;
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_str_eq(chosen, "named with --tag; never ran on staging");
	ck_assert_str_eq(v.warnings[0], "sha-b never ran on staging: it was not verified there");
	hoststate_free(&s);
	hoststate_free(&t);
}
END_TEST

START_TEST(the_app_and_deploy_env_must_agree)
{
	char chosen[300] = "";
	struct host_state t, s;
	struct appcheck_result app = { .ready = true, .version = "sha-c" };
	struct guard_verdict v = { 0 };
	struct guard_facts f;

	staging_ran(&t, &s, "succeeded");
	f = promote_facts(&t, &s, &app, "sha-b");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_msg(strstr(v.refusal, "staging's app reports sha-c but its deploy.env names "
	    "sha-b") != NULL, "%s", v.refusal);
	/* agreeing, verified and soaked long enough: chosen, with why */
	memset(&v, 0, sizeof v);
	snprintf(app.version, sizeof app.version, "sha-b");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_msg(!guard_refused(&v), "%s", v.refusal);
	ck_assert_msg(strncmp(chosen, "what staging runs: its last run there (deploy on ", 49) == 0,
	    "%s", chosen);
	ck_assert(strstr(chosen, ") succeeded; its app reports it and deploy.env names it") != NULL);
	/* every service of the image must run it too: a worker left behind is refused */
	memset(&v, 0, sizeof v);
	f.source_services = "root@s1, service worker runs sha-a";
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_msg(strstr(v.refusal, "staging does not run sha-b in full: on root@s1, service "
	    "worker runs sha-a. Promotion takes only a tag every service of its image ran on "
	    "staging") != NULL, "%s", v.refusal);
	hoststate_free(&s);
	hoststate_free(&t);
}
END_TEST

START_TEST(the_soak_time_is_counted_on_the_sources_clock)
{
	char chosen[300] = "";
	struct host_state t, s;
	struct appcheck_result app = { .ready = true, .version = "sha-b" };
	struct guard_verdict v = { 0 };
	struct guard_facts f;

	staging_ran(&t, &s, "succeeded");
	s.host_now = 1700000000 + 600;                  /* ten minutes of the hour asked */
	f = promote_facts(&t, &s, &app, "sha-b");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_msg(strstr(v.refusal, "staging has run sha-b for 10m00s, less than the soak time of "
	    "1h00m set for production; promote again in 3000s") != NULL, "%s", v.refusal);
	/* a source that is not ready is refused too */
	memset(&v, 0, sizeof v);
	s.host_now = 1700000000 + 3601;
	app.ready = false;
	snprintf(app.ready_error, sizeof app.ready_error, "HTTP 503");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_str_eq(v.refusal, "staging is not ready: HTTP 503");
	hoststate_free(&s);
	hoststate_free(&t);
}
END_TEST

START_TEST(a_lock_refuses_and_a_freeze_spares_rollbacks)
{
	char chosen[300] = "";
	struct host_state t;
	struct guard_verdict v = { 0 };
	struct guard_facts f = {
		.kind = DEPLOY_DEPLOY, .target = production, .target_state = &t, .current = "sha-a",
		.tag = "sha-b", .app_digest = "", .source_app = NULL, .source_err = "",
		.registry_err = "", .images_missing = "", .tag_now = "",
	};

	state(&t, "sha-a", "");
	t.lock.held = true;
	t.lock.runner_known = true;
	t.lock.since = t.host_now - 125;
	snprintf(t.lock.owner, sizeof t.lock.owner, "bob@ops");
	snprintf(t.lock.host, sizeof t.lock.host, "deploy@prod-2");
	t.frozen = true;
	t.freeze_since = t.host_now - 3600;
	snprintf(t.freeze_reason, sizeof t.freeze_reason, "black friday");
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_str_eq(v.refusal, "production is locked on deploy@prod-2 by bob@ops for 2m05s "
	    "(no message); the lock is stale: its run is gone. Break it with `gantry unlock ENV -m "
	    "REASON`\nproduction is frozen by someone for 1h00m: black friday (a rollback is still "
	    "allowed; `gantry unfreeze production` lifts it)");
	/* a rollback passes the freeze, not the lock */
	memset(&v, 0, sizeof v);
	f.kind = DEPLOY_ROLLBACK;
	t.lock.runner_alive = true;
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert_str_eq(v.refusal, "production is locked on deploy@prod-2 by bob@ops for 2m05s "
	    "(no message); wait for that run to end");
	memset(&v, 0, sizeof v);
	t.lock.held = false;
	guard_check(&f, &v, chosen, sizeof chosen);
	ck_assert(!guard_refused(&v));
	hoststate_free(&t);
}
END_TEST

START_TEST(the_source_tag_comes_from_its_deploy_env_only_when_it_is_one)
{
	struct host_state s;
	char tag[136], err[700];

	state(&s, "sha-b", "");
	ck_assert(guard_source_tag(staging, &s, tag, sizeof tag, err, sizeof err));
	ck_assert_str_eq(tag, "sha-b");
	hoststate_free(&s);
	state(&s, "latest", "");
	ck_assert(!guard_source_tag(staging, &s, tag, sizeof tag, err, sizeof err));
	ck_assert_str_eq(tag, "");
	ck_assert_str_eq(err, "staging runs reg.internal/shop/app:latest, which names no tag gantry "
	    "can promote; name one with --tag");
	snprintf(s.deploy_env_differs, sizeof s.deploy_env_differs, "stg-2");
	snprintf(s.differs_image, sizeof s.differs_image, "reg.internal/shop/app:sha-c");
	ck_assert(!guard_source_tag(staging, &s, tag, sizeof tag, err, sizeof err));
	ck_assert_str_eq(err, "staging's hosts run different tags (deploy@stg-1 runs latest, stg-2 "
	    "runs sha-c), so gantry cannot tell which one to promote; name it with --tag");
	hoststate_free(&s);
	state(&s, "", "");
	ck_assert(!guard_source_tag(staging, &s, tag, sizeof tag, err, sizeof err));
	ck_assert(strstr(err, "has no deploy.env") != NULL);
	hoststate_free(&s);
}
END_TEST

/* ---- adoption and the plan's warnings ------------------------------------------ */

static bool allow_sha(void *arg, const char *tag)
{
	(void)arg;
	return strncmp(tag, "sha-", 4) == 0;
}

START_TEST(only_what_the_app_reports_is_adopted)
{
	struct host_state st;
	struct guard_images cand;
	struct appcheck_result app = { .ready = true, .version = "sha-a" };
	struct guard_verdict v = { 0 };
	char why[300], h[4096] = "";

	state(&st, "sha-a", "");
	snprintf(st.deploy_env.app_image, sizeof st.deploy_env.app_image,
	    "reg.internal/shop/app:sha-a@sha256:" HEX_A);
	ck_assert(guard_adopt_candidate(&st, allow_sha, NULL, &cand));
	ck_assert_str_eq(cand.tag, "sha-a");
	ck_assert_str_eq(cand.app, "sha256:" HEX_A);    /* pinned in deploy.env */
	ck_assert_str_eq(cand.migrator, "");            /* not pinned: the registry is asked */
	ck_assert(guard_adopt_decide(production, &st, &app, cand.tag, why, sizeof why));
	snprintf(app.version, sizeof app.version, "sha-z");
	ck_assert(!guard_adopt_decide(production, &st, &app, cand.tag, why, sizeof why));
	ck_assert_str_eq(why, "its app reports sha-z, not sha-a that deploy.env names");
	guard_adopt(production, &st, &app, cand.tag, &v);
	ck_assert_str_eq(v.refusal, "production cannot be adopted: its app reports sha-z, not sha-a "
	    "that deploy.env names. Adoption records only a tag the app reports, ready, and every "
	    "host's deploy.env names");
	hoststate_free(&st);
	/* a tag outside registry.tags, or an environment with runs, has no candidate */
	state(&st, "v1", "");
	ck_assert(!guard_adopt_candidate(&st, allow_sha, NULL, &cand));
	hoststate_free(&st);
	run_lines(h, sizeof h, "r1", "sha-a", HEX_A, HEX_M, "succeeded", 1700000000, false);
	state(&st, "sha-a", h);
	ck_assert(!guard_adopt_candidate(&st, allow_sha, NULL, &cand));
	hoststate_free(&st);
}
END_TEST

START_TEST(a_plan_warns_of_what_it_cannot_undo)
{
	struct host_state t;
	struct guard_verdict v = { 0 };
	struct guard_facts f = {
		.kind = DEPLOY_DEPLOY, .target = production, .target_state = &t, .current = "sha-a",
		.tag = "sha-a", .app_digest = "", .source_err = "", .registry_err = "",
		.images_missing = "", .tag_now = "",
	};

	state(&t, "sha-a", "");
	snprintf(t.deploy_env_differs, sizeof t.deploy_env_differs, "deploy@prod-2");
	snprintf(t.differs_image, sizeof t.differs_image, "reg.internal/shop/app:sha-0");
	guard_plan_warnings(&f, "sha-a", "its app is not ready", "", &v);
	ck_assert_uint_eq(v.warnings_len, GUARD_WARNINGS);     /* the fourth is dropped */
	ck_assert_str_eq(v.warnings[0], "production runs sha-a already: this deploys it again");
	ck_assert_str_eq(v.warnings[1], "production's hosts do not all run the same: deploy@prod-1 "
	    "runs sha-a, deploy@prod-2 runs sha-0; this deploy puts each on sha-a");
	ck_assert_str_eq(v.warnings[2], "production has no run recorded and sha-a runs there "
	    "unverified (its app is not ready): no baseline is adopted");
	hoststate_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guard");
	TCase *rollback = tcase_create("rollback"), *promote = tcase_create("promote");
	TCase *adopt = tcase_create("adopt");

	tcase_add_checked_fixture(rollback, setup, teardown);
	tcase_add_checked_fixture(promote, setup, teardown);
	tcase_add_checked_fixture(adopt, setup, teardown);
	tcase_add_test(rollback, a_rollback_goes_to_the_newest_healthy_other_tag);
	tcase_add_test(rollback, a_tag_never_healthy_here_needs_unverified);
	tcase_add_test(rollback, a_rollback_without_runs_points_to_adopt);
	tcase_add_test(rollback, the_way_back_is_never_taken_from_deploy_env_alone);
	tcase_add_test(rollback, a_failed_migrator_leaves_the_old_tag_running);
	tcase_add_test(promote, promotion_takes_only_what_the_source_verified);
	tcase_add_test(promote, the_app_and_deploy_env_must_agree);
	tcase_add_test(promote, the_soak_time_is_counted_on_the_sources_clock);
	tcase_add_test(promote, a_lock_refuses_and_a_freeze_spares_rollbacks);
	tcase_add_test(promote, the_source_tag_comes_from_its_deploy_env_only_when_it_is_one);
	tcase_add_test(adopt, only_what_the_app_reports_is_adopted);
	tcase_add_test(adopt, a_plan_warns_of_what_it_cannot_undo);
	suite_add_tcase(s, rollback);
	suite_add_tcase(s, promote);
	suite_add_tcase(s, adopt);
	return run_suite(s);
}
