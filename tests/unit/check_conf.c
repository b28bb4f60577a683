/* gantry.yml: good files read right, bad files say exactly where and what. */
#include "config.h"

#include "conf.h"
#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct schema_errors errs;

/* Parses text as "gantry.yml"; returns the conf or NULL. */
static struct conf *parse(const char *text)
{
	schema_errors_free(&errs);
	return conf_parse("gantry.yml", text, strlen(text), &errs);
}

/* The first error message, "" if none. */
static const char *first_error(void)
{
	return errs.len ? errs.messages[0] : "";
}

#define ASSERT_ERROR(text, want) do { \
	struct conf *c_ = parse(text); \
	ck_assert_ptr_null(c_); \
	ck_assert_str_eq(first_error(), want); \
} while (0)

START_TEST(minimal_file_gets_defaults)
{
	struct conf *c = parse("project: shop\nenvironments:\n  - name: staging\n    url: http://s.example/\n");

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->project, "shop");
	ck_assert_uint_eq(c->envs_len, 1);
	ck_assert_str_eq(c->envs[0].url, "http://s.example");
	ck_assert_str_eq(c->envs[0].health_path, "/api/health");
	ck_assert_str_eq(c->envs[0].ready_path, "/api/ready");
	ck_assert_str_eq(c->envs[0].version_path, "/api/version");
	ck_assert_str_eq(c->envs[0].version_pointer, "/version");
	ck_assert_int_eq(c->envs[0].interval_ms, 5000);
	ck_assert_int_eq(c->envs[0].timeout_ms, 3000);
	ck_assert(!c->read_only);
	conf_free(c);
}
END_TEST

START_TEST(defaults_apply_then_environments_override_in_order)
{
	struct conf *c = parse(
	    "environments:\n"
	    "  - name: staging\n    url: https://staging.example\n"
	    "  - name: production\n    url: https://example\n    interval: 1m30s\n"
	    "    version: {path: /status, pointer: /build/tag}\n"
	    "defaults:\n  interval: 10s\n  timeout: 2s\n  ready: /ready\n"
	    "project: shop\nread_only: yes\ntheme: light\n");

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->envs_len, 2);
	ck_assert_str_eq(c->envs[0].name, "staging");
	ck_assert_str_eq(c->envs[1].name, "production");
	ck_assert_int_eq(c->envs[0].interval_ms, 10000);
	ck_assert_int_eq(c->envs[1].interval_ms, 90000);
	ck_assert_int_eq(c->envs[1].timeout_ms, 2000);
	ck_assert_str_eq(c->envs[0].ready_path, "/ready");
	ck_assert_str_eq(c->envs[1].version_path, "/status");
	ck_assert_str_eq(c->envs[1].version_pointer, "/build/tag");
	ck_assert_str_eq(c->envs[0].version_pointer, "/version");
	ck_assert(c->read_only);
	ck_assert_str_eq(c->theme, "light");
	ck_assert_ptr_eq(conf_env_by_name(c, "production"), &c->envs[1]);
	conf_free(c);
}
END_TEST

START_TEST(secret_from_environment_is_resolved)
{
	struct conf *c;

	setenv("GANTRY_UNIT_TOKEN", "Bearer abc", 1);
	c = parse("project: p\nenvironments:\n  - name: a\n    url: http://a\n"
	    "    headers:\n      Authorization: {env: GANTRY_UNIT_TOKEN}\n      X-Plain: hello\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->envs[0].headers_len, 2);
	ck_assert_str_eq(c->envs[0].headers[0].value.value, "Bearer abc");
	ck_assert_str_eq(c->envs[0].headers[0].value.source, "env GANTRY_UNIT_TOKEN");
	conf_free(c);
}
END_TEST

START_TEST(unknown_key_suggests_the_right_one)
{
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    redy: /r\n",
	    "gantry.yml:5:5: environments[0].redy: unknown key; did you mean \"ready\"?");
	ASSERT_ERROR("projet: p\n", "gantry.yml:1:1: projet: unknown key; did you mean \"project\"?");
}
END_TEST

START_TEST(bad_path_says_what_was_expected)
{
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n"
	    "  - name: b\n    url: http://b\n    ready: api/ready\n",
	    "gantry.yml:7:12: environments[1].ready: expected a path starting with \"/\", got \"api/ready\"");
	/* credentials in the registry's URL would reach image references and screens */
	ASSERT_ERROR("project: p\nregistry: {url: 'https://bot:s3cret@ghcr.io', app: a/b}\nenvironments:\n"
	    "  - name: a\n    url: http://a\n",
	    "gantry.yml:2:17: registry.url: credentials do not belong in the URL, where they would "
	    "reach image references and screens: use registry.username and registry.password "
	    "({env: NAME} or {file: PATH})");
	/* nor in an environment's: they would reach plans, run.sh and curl's argv on the hosts */
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: 'https://ops:hunter2@shop.example'\n",
	    "gantry.yml:4:10: environments[0].url: credentials do not belong in the URL, where they "
	    "would reach plans, screens and the hosts' command lines: send them as a header "
	    "(headers: {Authorization: {env: NAME}})");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: https://shop.example\n"
	    "    hosts: [{address: root@h1, app_url: 'http://u:p@127.0.0.1:8080'}]\n    deploy_dir: /srv\n",
	    "gantry.yml:5:41: environments[0].hosts[0].app_url: credentials do not belong in the URL, "
	    "where they would reach plans, screens and the hosts' command lines: send them as a "
	    "header (headers: {Authorization: {env: NAME}})");
}
END_TEST

START_TEST(bad_duration_and_bool)
{
	ASSERT_ERROR("project: p\ndefaults:\n  interval: soon\nenvironments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:3:13: defaults.interval: expected a duration such as 500ms, 5s or 2m, got \"soon\"");
	ASSERT_ERROR("project: p\nread_only: maybe\nenvironments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:2:12: read_only: expected true or false, got \"maybe\"");
}
END_TEST

START_TEST(missing_required_keys)
{
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n",
	    "gantry.yml:3:5: environments[0]: missing required key \"url\" (base URL of the app, such as https://staging.example.com)");
	ASSERT_ERROR("environments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:1:1: missing required key \"project\" (the project's name, shown in the title bar)");
}
END_TEST

START_TEST(duplicates_are_errors)
{
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n  - name: a\n    url: http://b\n",
	    "gantry.yml:5:11: environments[1].name: environment \"a\" is already defined at line 3");
	ASSERT_ERROR("project: p\nproject: q\nenvironments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:2:1: project: key \"project\" appears twice (first at line 1)");
}
END_TEST

START_TEST(wrong_types_and_shapes)
{
	ASSERT_ERROR("project: p\nenvironments: staging\n",
	    "gantry.yml:2:15: environments: expected a list of environments in promotion order, got a string");
	ASSERT_ERROR("project: p\nenvironments: []\n",
	    "gantry.yml:2:15: environments: expected at least one environment");
	ASSERT_ERROR("- a\n- b\n", "gantry.yml:1:1: expected a mapping with project and environments, got a list");
	ASSERT_ERROR("project: [1, 2]\nenvironments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:1:10: project: expected a string, got a list");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: Staging\n    url: http://a\n",
	    "gantry.yml:3:11: environments[0].name: expected lower-case letters, digits, '-' or '_', got \"Staging\"");
}
END_TEST

START_TEST(yaml_syntax_errors_have_positions)
{
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n   url: http://a\n",
	    "gantry.yml:4:4: environments: did not find expected '-' indicator while parsing a block "
	    "collection (check the indentation: the keys of one mapping start at the same column, "
	    "and a list's items start with '- ' at the same column)");
	/* a tab, an unclosed quote (where it opened), an unclosed [ (with the key path) */
	ASSERT_ERROR("project: p\nenvironments:\n\t- name: a\n",
	    "gantry.yml:3:1: environments: found character that cannot start any token while "
	    "scanning for the next token (a tab in the indentation: YAML indents with spaces only)");
	ASSERT_ERROR("project: \"p\nenvironments:\n  - name: a\n",
	    "gantry.yml:1:10: project: found unexpected end of stream while scanning a quoted scalar "
	    "(a quoted string is never closed: add its closing quote)");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    deploy:\n"
	    "      smoke: [/a, /b\n",
	    "gantry.yml:6:14: environments[0].deploy.smoke: did not find expected ',' or ']' while "
	    "parsing a flow sequence (a [ list is never closed: add its ])");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    deploy:\n"
	    "      smoke: [{path: /a, body: ''}]\n",
	    "gantry.yml:6:32: environments[0].deploy.smoke[0].body: expected the text the body must "
	    "contain, not an empty string");
	ASSERT_ERROR("project: &x p\nother: *x\n",
	    "gantry.yml:2:8: YAML aliases (*name) are not supported; write the value out");
	ASSERT_ERROR("", "gantry.yml:1:1: the file is empty");
}
END_TEST

START_TEST(control_characters_are_refused)
{
	ASSERT_ERROR("project: \"p\\e[31m\"\nenvironments:\n  - name: a\n    url: http://a\n",
	    "gantry.yml:1:10: project: control characters are not allowed here");
}
END_TEST

START_TEST(headers_and_secrets_are_checked)
{
	unsetenv("GANTRY_UNIT_MISSING");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    headers:\n      X-T: {env: GANTRY_UNIT_MISSING}\n",
	    "gantry.yml:6:18: environments[0].headers.X-T: environment variable GANTRY_UNIT_MISSING is not set; export it or use {file: PATH}");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    headers:\n      \"Bad Name\": x\n",
	    "gantry.yml:6:7: environments[0].headers: \"Bad Name\" is not a valid HTTP header name");
	ASSERT_ERROR("project: p\nenvironments:\n  - name: a\n    url: http://a\n    headers:\n      X-T: {file: /nonexistent/token}\n",
	    "gantry.yml:6:19: environments[0].headers.X-T: cannot read /nonexistent/token: No such file or directory");
}
END_TEST

START_TEST(several_errors_are_all_reported)
{
	struct conf *c = parse("project: p\nenvironments:\n  - name: a\n    url: http://a\n    helth: x\n    timeout: never\n");

	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.len, 2);
}
END_TEST

/* Writes text to a new file in dir with the given mode; its path (static). */
static const char *file_with(const char *dir, const char *name, const char *text, mode_t mode)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/* A configuration, secret or CA file another account could have written is not read
 * (issue 23, finding 3): a gantry.yml planted in a shared directory sends nothing. */
START_TEST(files_others_can_write_are_not_read)
{
	char dir[] = "/tmp/gantry-trust-XXXXXX", cwd[512], text[600], want[700];
	const char *p;
	struct conf *c;
	struct conf_lookup lookup;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = file_with(dir, "g.yml", "project: p\nenvironments:\n  - name: a\n    url: http://a\n", 0666);
	schema_errors_free(&errs);
	ck_assert_ptr_null(conf_load(p, &errs));
	snprintf(want, sizeof want, "%s: cannot read the configuration: other users can write it "
	    "(mode 666): not read; chmod go-w %s", p, p);
	ck_assert_str_eq(first_error(), want);
	ck_assert_int_eq(chmod(p, 0644), 0);
	schema_errors_free(&errs);
	c = conf_load(p, &errs);
	ck_assert_msg(c != NULL, "%s", first_error());
	conf_free(c);
	/* a secret file */
	p = file_with(dir, "token", "s3cret\n", 0620);
	snprintf(text, sizeof text, "project: p\nenvironments:\n  - name: a\n    url: http://a\n"
	    "    headers:\n      X-T: {file: %s}\n", p);
	snprintf(want, sizeof want, "gantry.yml:6:19: environments[0].headers.X-T: cannot read %s: "
	    "other users can write it (mode 620): not read; chmod go-w %s", p, p);
	ASSERT_ERROR(text, want);
	if (geteuid() == 0) {
		ck_assert_int_eq(chmod(p, 0600), 0);
		ck_assert_int_eq(chown(p, 65534, 65534), 0);
		snprintf(want, sizeof want, "gantry.yml:6:19: environments[0].headers.X-T: cannot read "
		    "%s: it belongs to uid 65534 (nobody), not to you (uid 0) or root, so another "
		    "account could have written it: not read; copy it to a file of your own", p);
		ASSERT_ERROR(text, want);
	}
	/* a gantry.yml in a directory everyone can write is not even looked for */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	file_with(dir, "gantry.yml", "project: planted\n", 0644);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(chdir(dir), 0);
	conf_find(NULL, &lookup);
	ck_assert_msg(!lookup.found || strcmp(lookup.found, "gantry.yml") != 0, "%s", lookup.found);
	ck_assert_str_eq(lookup.tried[0], "gantry.yml (not looked for: other users can write the "
	    "current directory)");
	conf_lookup_free(&lookup);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	conf_find(NULL, &lookup);
	ck_assert_str_eq(lookup.found, "gantry.yml");
	conf_lookup_free(&lookup);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, minimal_file_gets_defaults);
	tcase_add_test(tc, defaults_apply_then_environments_override_in_order);
	tcase_add_test(tc, secret_from_environment_is_resolved);
	tcase_add_test(tc, unknown_key_suggests_the_right_one);
	tcase_add_test(tc, bad_path_says_what_was_expected);
	tcase_add_test(tc, bad_duration_and_bool);
	tcase_add_test(tc, missing_required_keys);
	tcase_add_test(tc, duplicates_are_errors);
	tcase_add_test(tc, wrong_types_and_shapes);
	tcase_add_test(tc, yaml_syntax_errors_have_positions);
	tcase_add_test(tc, control_characters_are_refused);
	tcase_add_test(tc, headers_and_secrets_are_checked);
	tcase_add_test(tc, several_errors_are_all_reported);
	tcase_add_test(tc, files_others_can_write_are_not_read);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(conf_suite());
}
