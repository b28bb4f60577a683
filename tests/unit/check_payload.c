/* Version extraction and body summaries from what endpoints answer. */
#include "config.h"

#include "payload.h"
#include "suite.h"

#include <string.h>

static char out[PAYLOAD_TAG_MAX], err[160];

/* Extracts a version; returns whether it succeeded. */
static bool version(const char *body, const char *pointer)
{
	return payload_version(body, strlen(body), pointer, out, sizeof out, err, sizeof err);
}

START_TEST(version_from_default_pointer)
{
	ck_assert(version("{\"version\":\"sha-3f9c2a1\",\"service\":\"app\"}", "/version"));
	ck_assert_str_eq(out, "sha-3f9c2a1");
}
END_TEST

START_TEST(version_from_nested_pointer_and_arrays)
{
	ck_assert(version("{\"build\":{\"tags\":[\"latest\",\"sha-abc1234\"]}}", "/build/tags/1"));
	ck_assert_str_eq(out, "sha-abc1234");
	ck_assert(version("{\"a/b\":{\"m~n\":\"v1\"}}", "/a~1b/m~0n"));
	ck_assert_str_eq(out, "v1");
}
END_TEST

START_TEST(numbers_are_versions_too)
{
	ck_assert(version("{\"build\":1234}", "/build"));
	ck_assert_str_eq(out, "1234");
}
END_TEST

START_TEST(plain_text_body_with_empty_pointer)
{
	ck_assert(version("\n  sha-deadbee\nsecond line\n", ""));
	ck_assert_str_eq(out, "sha-deadbee");
}
END_TEST

START_TEST(missing_and_wrong_types_are_errors)
{
	ck_assert(!version("{\"commit\":\"x\"}", "/version"));
	ck_assert_str_eq(err, "the JSON has nothing at /version");
	ck_assert(!version("{\"version\":{\"a\":1}}", "/version"));
	ck_assert_str_eq(err, "expected a string at /version, got an object");
	ck_assert(!version("{\"version\":\"\"}", "/version"));
	ck_assert_str_eq(err, "the version is an empty string");
}
END_TEST

START_TEST(malformed_and_html_bodies_are_errors)
{
	ck_assert(!version("{\"version\": \"sha-", "/version"));
	ck_assert_str_eq(err, "malformed JSON at line 1 column 17");
	ck_assert(!version("<html><title>502 Bad Gateway</title></html>", "/version"));
	ck_assert_str_eq(err, "expected JSON, got an HTML page");
	ck_assert(!version("", "/version"));
	ck_assert_str_eq(err, "empty body");
}
END_TEST

START_TEST(hostile_version_strings_are_sanitized)
{
	ck_assert(version("{\"version\":\"sha-\\u001b]0;owned\\u0007abc\\u001b[2J\"}", "/version"));
	ck_assert_str_eq(out, "sha-abc");
	/* \u0000 is valid JSON: read, and dropped like any control */
	ck_assert(version("{\"version\":\"sha-\\u0000abc\"}", "/version"));
	ck_assert_str_eq(out, "sha-abc");
}
END_TEST

START_TEST(summary_prefers_reason_fields)
{
	char s[160];

	payload_summary("{\"status\":\"not ready\",\"reason\":\"migrations pending\"}", 52, s, sizeof s);
	ck_assert_str_eq(s, "migrations pending");
	payload_summary("{\"status\":\"degraded\"}", 21, s, sizeof s);
	ck_assert_str_eq(s, "degraded");
	payload_summary("<html><head><title>503 Service\nUnavailable</title>", 50, s, sizeof s);
	ck_assert_str_eq(s, "503 Service");
	payload_summary("  upstream connect error\x1b[31m\nmore", 34, s, sizeof s);
	ck_assert_str_eq(s, "upstream connect error");
	payload_summary("", 0, s, sizeof s);
	ck_assert_str_eq(s, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("payload");
	TCase *tc = tcase_create("payload");

	tcase_add_test(tc, version_from_default_pointer);
	tcase_add_test(tc, version_from_nested_pointer_and_arrays);
	tcase_add_test(tc, numbers_are_versions_too);
	tcase_add_test(tc, plain_text_body_with_empty_pointer);
	tcase_add_test(tc, missing_and_wrong_types_are_errors);
	tcase_add_test(tc, malformed_and_html_bodies_are_errors);
	tcase_add_test(tc, hostile_version_strings_are_sanitized);
	tcase_add_test(tc, summary_prefers_reason_fields);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
