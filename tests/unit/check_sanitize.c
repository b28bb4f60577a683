/* The sanitizer: nothing from outside reaches the terminal raw. */
#include "config.h"

#include "sanitize.h"
#include "suite.h"

#include <string.h>

static char out[256];

/* Sanitizes a byte string of known length. */
static const char *clean(const char *in, size_t len)
{
	sanitize_text(in, len, out, sizeof out, 0);
	return out;
}

#define CLEAN(lit) clean(lit, sizeof(lit) - 1)

START_TEST(plain_text_is_unchanged)
{
	ck_assert_str_eq(CLEAN("sha-3f9c2a1 ready"), "sha-3f9c2a1 ready");
	ck_assert_str_eq(CLEAN("déploiement ✓ 部署"), "déploiement ✓ 部署");
}
END_TEST

START_TEST(colour_and_cursor_sequences_are_removed_whole)
{
	ck_assert_str_eq(CLEAN("\x1b[31;1mred\x1b[0m"), "red");
	ck_assert_str_eq(CLEAN("a\x1b[2J\x1b[Hb"), "ab");
	ck_assert_str_eq(CLEAN("x\x1b" "7y\x1b(Bz"), "xyz");
}
END_TEST

START_TEST(osc_and_dcs_strings_are_removed)
{
	ck_assert_str_eq(CLEAN("\x1b]0;owned\x07title"), "title");
	ck_assert_str_eq(CLEAN("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"), "link");
	ck_assert_str_eq(CLEAN("a\x1bP+q544e\x1b\\b"), "ab");
	ck_assert_str_eq(CLEAN("a\x1b_apc\x1b\\b"), "ab");
}
END_TEST

START_TEST(c1_controls_and_8bit_csi_are_removed)
{
	ck_assert_str_eq(CLEAN("a\xc2\x9b" "31mb"), "ab");
	ck_assert_str_eq(CLEAN("a\xc2\x85" "b"), "ab");
}
END_TEST

START_TEST(control_bytes_are_dropped_and_whitespace_becomes_spaces)
{
	ck_assert_str_eq(CLEAN("a\x01\x02\x08\x7f" "b"), "ab");
	ck_assert_str_eq(CLEAN("a\tb\nc\rd"), "a b c d");
	ck_assert_str_eq(clean("a\0b", 3), "ab");
}
END_TEST

START_TEST(invalid_utf8_becomes_replacement)
{
	ck_assert_str_eq(CLEAN("a\xff" "b"), "a\xef\xbf\xbd" "b");
	ck_assert_str_eq(CLEAN("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");            /* overlong */
	ck_assert_str_eq(CLEAN("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	ck_assert_str_eq(CLEAN("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");            /* cut short */
}
END_TEST

START_TEST(bidi_overrides_are_removed)
{
	ck_assert_str_eq(CLEAN("sha-\xe2\x80\xae" "cba"), "sha-cba");
	ck_assert_str_eq(CLEAN("\xe2\x81\xa6x\xe2\x81\xa9"), "x");
}
END_TEST

START_TEST(ascii_mode_replaces_non_ascii)
{
	sanitize_text("ok ✓", strlen("ok ✓"), out, sizeof out, SANITIZE_ASCII);
	ck_assert_str_eq(out, "ok ?");
}
END_TEST

START_TEST(output_is_bounded_at_a_character_boundary)
{
	char small[6];

	sanitize_text("ab✓✓", strlen("ab✓✓"), small, sizeof small, 0);
	ck_assert_str_eq(small, "ab✓");
	sanitize_text("abcdef", 6, small, 1, 0);
	ck_assert_str_eq(small, "");
	/* a run of plain ASCII stops exactly at the end of the buffer */
	ck_assert_uint_eq(sanitize_text("abcdefgh", 8, small, sizeof small, 0), 5);
	ck_assert_str_eq(small, "abcde");
	ck_assert_uint_eq(sanitize_text("abcde\x1b[1mZ", 10, small, sizeof small, 0), 5);
	ck_assert_str_eq(small, "abcde");
	ck_assert_str_eq(CLEAN("plain \x1b[36mrun\x1b[0m\ttab"), "plain run tab");
}
END_TEST

START_TEST(unterminated_sequences_swallow_only_themselves)
{
	ck_assert_str_eq(CLEAN("ab\x1b["), "ab");
	ck_assert_str_eq(CLEAN("ab\x1b]0;title never ends"), "ab");
	ck_assert_str_eq(CLEAN("ab\x1b]0;x\x1b[31mred"), "abred");
}
END_TEST

START_TEST(is_clean)
{
	ck_assert(sanitize_is_clean("plain text ✓"));
	ck_assert(!sanitize_is_clean("a\x1b[31mb"));
	ck_assert(!sanitize_is_clean("a\tb"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sanitize");
	TCase *tc = tcase_create("sanitize");

	tcase_add_test(tc, plain_text_is_unchanged);
	tcase_add_test(tc, colour_and_cursor_sequences_are_removed_whole);
	tcase_add_test(tc, osc_and_dcs_strings_are_removed);
	tcase_add_test(tc, c1_controls_and_8bit_csi_are_removed);
	tcase_add_test(tc, control_bytes_are_dropped_and_whitespace_becomes_spaces);
	tcase_add_test(tc, invalid_utf8_becomes_replacement);
	tcase_add_test(tc, bidi_overrides_are_removed);
	tcase_add_test(tc, ascii_mode_replaces_non_ascii);
	tcase_add_test(tc, output_is_bounded_at_a_character_boundary);
	tcase_add_test(tc, unterminated_sequences_swallow_only_themselves);
	tcase_add_test(tc, is_clean);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
