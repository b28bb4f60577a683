/* The registry's pure parts: its configuration, SHA-256, auth challenges, Link headers,
 * image references and the tags command line; and what its client asks a token service,
 * against a real HTTP server on loopback (testhttp.c). */
#include "config.h"

#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "registry.h"
#include "sha256.h"
#include "confparse.h"
#include "suite.h"
#include "testhttp.h"

#include <stdlib.h>
#include <string.h>

#define ENVS "environments:\n  - {name: staging, url: 'http://x'}\n"

START_TEST(registry_config_defaults)
{
	char err[300];
	struct conf *c = parse("project: p\nregistry: {url: 'https://ghcr.io/', app: acme/shop-app}\n" ENVS,
	    err, sizeof err);

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->registry->url, "https://ghcr.io");
	ck_assert_str_eq(c->registry->host, "ghcr.io");
	ck_assert_str_eq(c->registry->migrator, "acme/shop-app");
	ck_assert_str_eq(c->registry->tag_pattern, "^sha-[0-9a-f]{7,40}$");
	ck_assert_int_eq(c->registry->timeout_ms, 10000);
	ck_assert_ptr_null(c->registry->password.value);
	conf_free(c);

	setenv("GANTRY_TEST_REGPW", "hunter2", 1);
	c = parse("project: p\nregistry:\n  url: http://127.0.0.1:5000\n  app: shop/app\n"
	    "  migrator: shop/migrator\n  username: bot\n  password: {env: GANTRY_TEST_REGPW}\n"
	    "  host: registry.internal:5000\n  tags: '^v[0-9]+$'\n" ENVS, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->registry->password.value, "hunter2");
	ck_assert_str_eq(c->registry->password.source, "env GANTRY_TEST_REGPW");
	ck_assert_str_eq(c->registry->host, "registry.internal:5000");
	ck_assert_ptr_null(c->registry->password.unresolved);
	conf_free(c);

	/* a password that cannot be read now is kept as its error, for the commands that need it */
	unsetenv("GANTRY_TEST_REGPW");
	c = parse("project: p\nregistry:\n  url: http://127.0.0.1:5000\n  app: shop/app\n"
	    "  username: bot\n  password: {env: GANTRY_TEST_REGPW}\n" ENVS, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_ptr_null(c->registry->password.value);
	ck_assert_str_eq(c->registry->password.unresolved, "g.yml:6:19: registry.password: environment "
	    "variable GANTRY_TEST_REGPW is not set; export it or use {file: PATH}");
	conf_free(c);
	c = parse("project: p\nregistry:\n  url: http://127.0.0.1:5000\n  app: shop/app\n"
	    "  username: bot\n  password: {file: /nonexistent/regpw}\n" ENVS, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_msg(strstr(c->registry->password.unresolved, "g.yml:6:20: registry.password: cannot read "
	    "/nonexistent/regpw") == c->registry->password.unresolved, "%s", c->registry->password.unresolved);
	conf_free(c);
	/* badly written is an error at once */
	ck_assert_ptr_null(parse("project: p\nregistry:\n  url: http://127.0.0.1:5000\n  app: shop/app\n"
	    "  username: bot\n  password: {env: A, file: B}\n" ENVS, err, sizeof err));
	ck_assert_str_eq(err, "g.yml:6:13: registry.password: expected exactly one of {env: NAME} or {file: PATH}");
}
END_TEST

START_TEST(bad_registry_config_says_where)
{
	char err[300];

	ck_assert_ptr_null(parse("project: p\nregistry: {url: 'http://r', app: Shop/App}\n" ENVS, err, sizeof err));
	ck_assert_str_eq(err, "g.yml:2:34: registry.app: expected a repository such as shop/app (lower case, "
	    "digits, '/', '.', '_', '-'), got \"Shop/App\"");
	ck_assert_ptr_null(parse("project: p\nregistry: {url: 'http://r', app: a, tags: 'sha-(['}\n" ENVS,
	    err, sizeof err));
	ck_assert_msg(strstr(err, "g.yml:2:43: registry.tags: not a valid extended regular expression") == err, "%s", err);
	ck_assert_ptr_null(parse("project: p\nregistry: {url: 'http://r', app: a, password: x}\n" ENVS,
	    err, sizeof err));
	ck_assert_str_eq(err, "g.yml:2:11: registry: password needs a username beside it");
	ck_assert_ptr_null(parse("project: p\nregistry: {app: a}\n" ENVS, err, sizeof err));
	ck_assert_msg(strstr(err, "url") != NULL, "%s", err);
	ck_assert_ptr_null(parse("project: p\nregistry: {url: 'ftp://r', app: a}\n" ENVS, err, sizeof err));
	ck_assert_msg(strstr(err, "g.yml:2:17: registry.url") == err, "%s", err);
}
END_TEST

START_TEST(sha256_known_answers)
{
	char d[72];
	static char big[1000000];

	sha256_digest("", 0, d);
	ck_assert_str_eq(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_digest("abc", 3, d);
	ck_assert_str_eq(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	ck_assert_str_eq(d, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(big, 'a', sizeof big);
	sha256_digest(big, sizeof big, d);
	ck_assert_str_eq(d, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(challenges_are_parsed)
{
	struct registry_challenge ch;

	ck_assert(registry_parse_challenge("Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\","
	    "scope=\"repository:acme/app:pull\"", &ch));
	ck_assert_str_eq(ch.scheme, "Bearer");
	ck_assert_str_eq(ch.realm, "https://ghcr.io/token");
	ck_assert_str_eq(ch.service, "ghcr.io");
	ck_assert_str_eq(ch.scope, "repository:acme/app:pull");
	ck_assert(registry_parse_challenge("Basic realm=\"Registry Realm\"", &ch));
	ck_assert_str_eq(ch.scheme, "Basic");
	ck_assert_str_eq(ch.realm, "Registry Realm");
	ck_assert(registry_parse_challenge("Bearer realm=https://a/t, service=a, error=\"x\"", &ch));
	ck_assert_str_eq(ch.realm, "https://a/t");
	ck_assert_str_eq(ch.service, "a");
	ck_assert(!registry_parse_challenge("", &ch));
	ck_assert(!registry_parse_challenge("Bearer realm=\"never closed", &ch));
	ck_assert(!registry_parse_challenge("Bearer =x", &ch));
}
END_TEST

START_TEST(links_name_the_next_page)
{
	char next[100];

	ck_assert(registry_parse_link("</v2/shop/app/tags/list?last=sha-1&n=1000>; rel=\"next\"", next, sizeof next));
	ck_assert_str_eq(next, "/v2/shop/app/tags/list?last=sha-1&n=1000");
	ck_assert(!registry_parse_link("", next, sizeof next));
	ck_assert(!registry_parse_link("<https://elsewhere/v2/x>; rel=\"next\"", next, sizeof next));
	ck_assert(!registry_parse_link("</v2/x>; rel=\"prev\"", next, sizeof next));
}
END_TEST

START_TEST(manifests_must_hash_to_their_digest)
{
	static const char m[] = "{\"schemaVersion\":2,\"config\":{\"digest\":"
	    "\"sha256:631ab2ce18be8b0cb7f67efaf6e870abaa371b37630f23e0baf5948aeec6988e\"}}";
	struct registry_result r = { 0 };
	char cfg[REGISTRY_DIGEST_MAX], sum[72];

	sha256_digest(m, strlen(m), sum);
	ck_assert_int_eq(registry_read_manifest(m, strlen(m), "application/vnd.oci.image.manifest.v1+json; x=y",
	    sum, &r, cfg), REGISTRY_OK);
	ck_assert_str_eq(r.digest, sum);
	ck_assert_str_eq(r.media_type, "application/vnd.oci.image.manifest.v1+json");
	ck_assert_str_eq(cfg, "sha256:631ab2ce18be8b0cb7f67efaf6e870abaa371b37630f23e0baf5948aeec6988e");
	/* a registry (or something in between) naming other bytes than it sent */
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(registry_read_manifest(m, strlen(m), "", "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	    &r, cfg), REGISTRY_BAD_REPLY);
	ck_assert_msg(strstr(r.message, "hashes to sha256:") != NULL, "%s", r.message);
	ck_assert_int_eq(registry_read_manifest("{\"schemaVersion\":1}", 18, "", "", &r, cfg), REGISTRY_BAD_REPLY);
	ck_assert_int_eq(registry_read_manifest("<html>", 6, "", "", &r, cfg), REGISTRY_BAD_REPLY);
}
END_TEST

START_TEST(references_pin_the_digest)
{
	struct conf_registry r = { .host = "127.0.0.1:5000" };
	char *a = registry_reference(&r, "shop/app", "sha-1234567", "sha256:ab");
	char *b = registry_reference(&r, "shop/app", "sha-1234567", NULL);

	ck_assert_str_eq(a, "127.0.0.1:5000/shop/app@sha256:ab");
	ck_assert_str_eq(b, "127.0.0.1:5000/shop/app:sha-1234567");
	free(a);
	free(b);
}
END_TEST

START_TEST(tags_command_line)
{
	struct cli_options o = { 0 };
	char err[200];
	char *a1[] = { "gantry", "tags", "--json", "--limit", "5", NULL };
	char *a2[] = { "gantry", "tags", "--limit=0", NULL };
	char *a3[] = { "gantry", "tags", "extra", NULL };

	ck_assert_int_eq(cli_parse(5, a1, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_TAGS && o.json && o.limit == 5);
	memset(&o, 0, sizeof o);
	ck_assert_int_eq(cli_parse(3, a2, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "tags: --limit needs a number from 1 to 100000; usage: gantry tags [--json] [--limit N]");
	memset(&o, 0, sizeof o);
	ck_assert_int_eq(cli_parse(3, a3, &o, err, sizeof err), EXIT_USAGE);
}
END_TEST

struct resolved {
	bool done;
	struct registry_result r;
};

static void on_resolved(const struct registry_result *r, void *arg)
{
	struct resolved *res = arg;

	res->done = true;
	res->r.error = r->error;
	snprintf(res->r.message, sizeof res->r.message, "%s", r->message);
}

/* Resolves shop/app:sha-1 from a registry whose 401 names `realm` and asks for `scope`. */
static void resolve_with_challenge(struct testhttp *srv, struct loop *loop, const char *realm,
    const char *scope, const char *token_realm, struct resolved *res)
{
	char yml[600], err[300], header[600];
	struct conf *conf;
	struct registry *reg;
	int64_t until = loop_clock_ms() + 5000;

	snprintf(header, sizeof header, "WWW-Authenticate: Bearer realm=\"%s\",service=\"reg\","
	    "scope=\"%s\"", realm, scope);
	testhttp_set(srv, "GET", "/v2/shop/app/manifests/sha-1", 401, header, "{}");
	testhttp_set(srv, "GET", "/token", 200, NULL, "{\"token\":\"t0k\"}");
	setenv("GANTRY_UNIT_REGPW", "pw", 1);
	snprintf(yml, sizeof yml, "project: p\nregistry: {url: '%s', app: shop/app, username: bot, "
	    "password: {env: GANTRY_UNIT_REGPW}%s%s}\n" ENVS, testhttp_url(srv),
	    token_realm ? ", token_realm: " : "", token_realm ? token_realm : "");
	conf = parse(yml, err, sizeof err);
	ck_assert_msg(conf != NULL, "%s", err);
	reg = registry_new(loop, conf->registry);
	memset(res, 0, sizeof *res);
	registry_resolve(reg, "shop/app", "sha-1", false, on_resolved, res);
	while (!res->done && loop_clock_ms() < until)
		loop_run_once(loop, 20);
	ck_assert(res->done);
	registry_free(reg);
	conf_free(conf);
}

/* Whether the registry answers: 200 or 401 at /v2/ (no credentials sent, no token asked
 * for); a 500 or nothing listening is down, saying why. */
START_TEST(a_ping_asks_the_api_root_without_credentials)
{
	struct loop *loop = loop_new();
	struct testhttp *srv = testhttp_new(loop);
	struct resolved res;
	char yml[600], err[300];
	struct conf *conf;
	struct registry *reg;
	const long codes[] = { 200, 401, 500 };

	setenv("GANTRY_UNIT_REGPW", "pw", 1);
	snprintf(yml, sizeof yml, "project: p\nregistry: {url: '%s', app: shop/app, username: bot, "
	    "password: {env: GANTRY_UNIT_REGPW}}\n" ENVS, testhttp_url(srv));
	conf = parse(yml, err, sizeof err);
	ck_assert_msg(conf != NULL, "%s", err);
	reg = registry_new(loop, conf->registry);
	for (size_t k = 0; k < 3; k++) {
		int64_t until = loop_clock_ms() + 5000;

		testhttp_set(srv, "GET", "/v2/", codes[k],
		    codes[k] == 401 ? "WWW-Authenticate: Basic realm=\"reg\"" : NULL, "{}");
		memset(&res, 0, sizeof res);
		registry_ping(reg, on_resolved, &res);
		while (!res.done && loop_clock_ms() < until)
			loop_run_once(loop, 20);
		ck_assert(res.done);
		ck_assert_msg((res.r.error == REGISTRY_OK) == (codes[k] != 500), "%ld: %s", codes[k],
		    res.r.message);
	}
	ck_assert_uint_eq(testhttp_count(srv, "GET", "/v2/"), 3);      /* no second try with a password */
	ck_assert_msg(strstr(res.r.message, "answered HTTP 500 at /v2/"), "%s", res.r.message);
	registry_free(reg);
	conf_free(conf);
	testhttp_free(srv);
	loop_free(loop);
}
END_TEST

/* The token's scope is built from the repository and the action, never taken from the
 * challenge; and the credentials go only to the registry's own origin, port included, or
 * to registry.token_realm (issue 23, finding 4). */
START_TEST(a_challenge_picks_neither_the_scope_nor_the_realm)
{
	struct loop *loop = loop_new();
	struct testhttp *srv = testhttp_new(loop), *other = testhttp_new(loop);
	struct resolved res;
	char realm[120];

	snprintf(realm, sizeof realm, "%s/token", testhttp_url(srv));
	resolve_with_challenge(srv, loop, realm, "repository:other/secret:pull,push,delete", NULL,
	    &res);
	ck_assert_uint_eq(testhttp_count(srv, "GET", "/token"), 1);
	ck_assert_str_eq(testhttp_last(srv, "GET", "/token"),
	    "/token?service=reg&scope=repository%3Ashop%2Fapp%3Apull");
	/* a realm on another port of the same host gets nothing */
	snprintf(realm, sizeof realm, "%s/token", testhttp_url(other));
	testhttp_set(other, "GET", "/token", 200, NULL, "{\"token\":\"t0k\"}");
	resolve_with_challenge(srv, loop, realm, "repository:shop/app:pull", NULL, &res);
	ck_assert_uint_eq(testhttp_count(other, "GET", "/token"), 0);
	ck_assert_msg(strstr(res.r.message, "on another host or port; gantry sends no credentials "
	    "there unless registry.token_realm names it"), "%s", res.r.message);
	/* unless the configuration names it */
	resolve_with_challenge(srv, loop, realm, "repository:shop/app:pull", realm, &res);
	ck_assert_uint_eq(testhttp_count(other, "GET", "/token"), 1);
	testhttp_free(other);
	testhttp_free(srv);
	loop_free(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, registry_config_defaults);
	tcase_add_test(tc, bad_registry_config_says_where);
	tcase_add_test(tc, sha256_known_answers);
	tcase_add_test(tc, challenges_are_parsed);
	tcase_add_test(tc, links_name_the_next_page);
	tcase_add_test(tc, manifests_must_hash_to_their_digest);
	tcase_add_test(tc, references_pin_the_digest);
	tcase_add_test(tc, tags_command_line);
	tcase_add_test(tc, a_challenge_picks_neither_the_scope_nor_the_realm);
	tcase_add_test(tc, a_ping_asks_the_api_root_without_credentials);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
