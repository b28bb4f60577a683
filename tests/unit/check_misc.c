/* Small pure pieces: durations, colours and themes, the model's staleness, the command line,
 * the event bus. */
#include "config.h"

#include "action.h"
#include "bus.h"
#include "cli.h"
#include "duration.h"
#include "exitcode.h"
#include "model.h"
#include "prompt.h"
#include "theme.h"
#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(durations_parse)
{
	int64_t ms;

	ck_assert(duration_parse("500ms", &ms) && ms == 500);
	ck_assert(duration_parse("5s", &ms) && ms == 5000);
	ck_assert(duration_parse("1m30s", &ms) && ms == 90000);
	ck_assert(duration_parse("2h", &ms) && ms == 7200000);
	ck_assert(duration_parse("7", &ms) && ms == 7000);
	ck_assert(!duration_parse("", &ms));
	ck_assert(!duration_parse("5 s", &ms));
	ck_assert(!duration_parse("1m30", &ms));
	ck_assert(!duration_parse("-1s", &ms));
	ck_assert(!duration_parse("99999999999999s", &ms));
}
END_TEST

START_TEST(durations_format)
{
	char b[16];

	duration_format(400, b, sizeof b);
	ck_assert_str_eq(b, "now");
	duration_format(12000, b, sizeof b);
	ck_assert_str_eq(b, "12s");
	duration_format(250000, b, sizeof b);
	ck_assert_str_eq(b, "4m10s");
	duration_format(3 * 3600000 + 120000, b, sizeof b);
	ck_assert_str_eq(b, "3h02m");
	duration_format_latency(87, b, sizeof b);
	ck_assert_str_eq(b, "87ms");
	duration_format_latency(1250, b, sizeof b);
	ck_assert_str_eq(b, "1.2s");
}
END_TEST

START_TEST(colours_parse_and_fit_8_colour_terminals)
{
	short c;

	ck_assert(theme_parse_color("red", &c) && c == 1);
	ck_assert(theme_parse_color("bright-blue", &c) && c == 12);
	ck_assert(theme_parse_color("default", &c) && c == THEME_COLOR_DEFAULT);
	ck_assert(theme_parse_color("208", &c) && c == 208);
	ck_assert(theme_parse_color("#ff0000", &c) && c == 196);
	ck_assert(!theme_parse_color("256", &c));
	ck_assert(!theme_parse_color("reddish", &c));
	ck_assert_int_eq(theme_color_to_8(196), 1);  /* red */
	ck_assert_int_eq(theme_color_to_8(46), 2);   /* green */
	ck_assert_int_eq(theme_color_to_8(12), 4);   /* bright blue to blue */
	ck_assert_int_eq(theme_color_to_8(255), 7);  /* light grey to white */
}
END_TEST

START_TEST(theme_file_overrides_roles)
{
	const char *text = "name: t\nroles:\n  healthy: {fg: bright-green, attrs: [bold, underline]}\n";
	struct schema_errors errs = { 0 };
	struct theme t;

	ck_assert(theme_parse("t.yml", text, strlen(text), &t, &errs));
	ck_assert_str_eq(t.name, "t");
	ck_assert_int_eq(t.styles[THEME_ROLE_healthy].fg, 10);
	ck_assert_uint_eq(t.styles[THEME_ROLE_healthy].attrs, THEME_BOLD | THEME_UNDERLINE);
	ck_assert_int_eq(t.styles[THEME_ROLE_unhealthy].fg, 1);   /* from the default */
	theme_clear(&t);
	schema_errors_free(&errs);
}
END_TEST

START_TEST(theme_errors_are_positioned)
{
	const char *text = "roles:\n  helthy: {fg: red}\n  stale: {fg: mauve}\n";
	struct schema_errors errs = { 0 };
	struct theme t;

	ck_assert(!theme_parse("t.yml", text, strlen(text), &t, &errs));
	ck_assert_uint_eq(errs.len, 2);
	ck_assert_str_eq(errs.messages[0], "t.yml:2:3: roles.helthy: unknown key; did you mean \"healthy\"?");
	ck_assert_str_eq(errs.messages[1],
	    "t.yml:3:15: roles.stale.fg: unknown colour \"mauve\"; expected a name (red, bright-blue, default), 0-255 or #rrggbb");
	theme_clear(&t);
	schema_errors_free(&errs);
}
END_TEST

START_TEST(staleness_is_three_intervals)
{
	struct conf_env env = { .name = "a", .interval_ms = 1000 };
	struct conf conf = { .envs = &env, .envs_len = 1 };
	struct model *m = model_new(&conf, 10000);

	ck_assert(!model_is_stale(m, &m->envs[0], 12000));
	ck_assert(model_is_stale(m, &m->envs[0], 13001));
	m->envs[0].probes[PROBE_LIVE].state = PROBE_OK;
	m->envs[0].probes[PROBE_READY].state = PROBE_FAIL;
	model_round_done(&m->envs[0], 13000, 0);
	ck_assert_int_eq(m->envs[0].health, HEALTH_NOT_READY);
	ck_assert_int_eq(m->envs[0].health_since, 13000);
	ck_assert(!model_is_stale(m, &m->envs[0], 15000));
	ck_assert(model_is_stale(m, &m->envs[0], 16001));
	model_free(m);
}
END_TEST

START_TEST(command_line)
{
	struct cli_options o;
	char err[256];
	char *a1[] = { "gantry", "-r", "--config", "x.yml", "status", "--json", NULL };
	char *a2[] = { "gantry", "status", "--yes", NULL };
	char *a3[] = { "gantry", "--frobnicate", NULL };
	char *a4[] = { "gantry", "ship", NULL };
	char *a5[] = { "gantry", "deploy", NULL };
	char *a6[] = { "gantry", "promote", "staging", "production", "--tag=sha-abc1234", "-y", NULL };
	char *a7[] = { "gantry", "rollback", "production", "--to", NULL };
	char *a8[] = { "gantry", "freeze", "production", NULL };
	char *a9[] = { "gantry", "unlock", "production", "-m", "runner died", NULL };

	ck_assert_int_eq(cli_parse(6, a1, &o, err, sizeof err), 0);
	ck_assert(o.read_only && o.json && o.command == CLI_STATUS);
	ck_assert_str_eq(o.config_path, "x.yml");
	ck_assert_int_eq(cli_parse(3, a2, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_int_eq(cli_parse(2, a3, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "unknown option --frobnicate; see gantry --help");
	ck_assert_int_eq(cli_parse(2, a4, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "unknown command \"ship\"; commands: status, logs, tags, promote, "
	    "rollback, emergency-rollback, deploy, rollout, attach, history, freeze, unfreeze, unlock, "
	    "adopt, check");
	ck_assert_int_eq(cli_parse(2, a5, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "deploy: which environment? usage: gantry deploy ENV TAG [--yes] [--dry-run]");
	ck_assert_int_eq(cli_parse(6, a6, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_PROMOTE && o.yes && !o.dry_run);
	ck_assert_str_eq(o.source, "staging");
	ck_assert_str_eq(o.env, "production");
	ck_assert_str_eq(o.tag, "sha-abc1234");
	ck_assert_int_eq(cli_parse(4, a7, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "rollback: --to needs a tag; usage: gantry rollback ENV [--to TAG "
	    "[--unverified]] [--yes] [--dry-run]");
	ck_assert_int_eq(cli_parse(3, a8, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "freeze: say why with -m REASON (it goes into the history); usage: gantry freeze ENV -m REASON");
	ck_assert_int_eq(cli_parse(5, a9, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_UNLOCK);
	ck_assert_str_eq(o.message, "runner died");
}
END_TEST

/* Every subcommand answers --help with its usage; --unverified needs --to; adopt and check
 * parse. */
START_TEST(command_help_and_new_flags)
{
	static const char *const commands[] = { "status", "logs", "tags", "promote", "rollback",
		"deploy", "attach", "history", "freeze", "unfreeze", "unlock", "adopt", "check" };
	struct cli_options o;
	char err[256];
	char *u1[] = { "gantry", "rollback", "production", "--unverified", NULL };
	char *u2[] = { "gantry", "rollback", "production", "--to", "sha-1111111", "--unverified", "--yes", NULL };
	char *u3[] = { "gantry", "promote", "production", "--unverified", NULL };
	char *ad[] = { "gantry", "adopt", "production", "--dry-run", NULL };
	char *c1[] = { "gantry", "check", NULL };
	char *c2[] = { "gantry", "check", "staging", NULL };
	char *c3[] = { "gantry", "check", "staging", "production", NULL };

	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		char *argv[] = { "gantry", (char *)commands[i], "--help", NULL };
		char want[64];

		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		ck_assert_int_eq(cli_parse(3, argv, &o, err, sizeof err), 0);
		ck_assert_int_eq(o.command, CLI_COMMAND_HELP);
		cli_command_help(f, o.help_for);
		fclose(f);
		snprintf(want, sizeof want, "usage: gantry %s", commands[i]);
		ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "%s --help: %s", commands[i], text);
		free(text);
	}
	ck_assert_int_eq(cli_parse(4, u1, &o, err, sizeof err), EXIT_USAGE);
	ck_assert(strstr(err, "--unverified goes with --to TAG") != NULL);
	ck_assert_int_eq(cli_parse(7, u2, &o, err, sizeof err), 0);
	ck_assert(o.unverified && o.yes);
	ck_assert_str_eq(o.tag, "sha-1111111");
	ck_assert_int_eq(cli_parse(4, u3, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_int_eq(cli_parse(4, ad, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_ADOPT && o.dry_run);
	ck_assert_str_eq(o.env, "production");
	ck_assert_int_eq(cli_parse(2, c1, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_CHECK && o.env == NULL);
	ck_assert_int_eq(cli_parse(3, c2, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_CHECK);
	ck_assert_str_eq(o.env, "staging");
	ck_assert_int_eq(cli_parse(4, c3, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "check: unexpected argument \"production\"; usage: gantry check [ENV]");
}
END_TEST

/* What --complete offers, from the command table and a configuration (tags aside: they
 * come from the registry, tested in tests/integration/completion.sh). */
static void no_tags(FILE *out, const struct conf *conf, const char *prefix)
{
	(void)conf;
	fprintf(out, "TAGS<%s>\n", prefix);
}

static char *completed(const struct conf *conf, int n, char **words)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cli_complete(f, words, n, conf, no_tags);
	fclose(f);
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return text;
}

START_TEST(completion_comes_from_the_command_table)
{
	struct conf_host h[2] = { { .address = "deploy@web-1" }, { .address = "deploy@web-2" } };
	struct conf_env envs[2] = { { .name = "staging" }, { .name = "production", .hosts = h,
		.hosts_len = 2 } };
	struct conf conf = { .envs = envs, .envs_len = 2 };
	static const struct {
		int n;
		char *words[6];
		const char *want;
	} cases[] = {
		{ 1, { "r" }, "rollback rollout " },
		{ 1, { "" }, "status logs tags promote rollback emergency-rollback deploy rollout attach "
		  "history freeze unfreeze unlock adopt check " },
		{ 2, { "rollout", "" }, "status pause resume abort staging production " },
		{ 2, { "rollout", "p" }, "pause production " },
		{ 3, { "rollout", "abort", "s" }, "staging " },
		{ 2, { "rollback", "" }, "staging production " },
		{ 3, { "rollback", "production", "--" }, "--to --unverified --yes --dry-run --help " },
		{ 4, { "rollback", "production", "--to", "sha-1" }, "TAGS<sha-1> " },
		{ 3, { "deploy", "production", "" }, "TAGS<> " },
		{ 4, { "-c", "x.yml", "promote", "p" }, "production " },
		{ 3, { "promote", "staging", "p" }, "production " },
		{ 4, { "logs", "production", "--host", "" }, "deploy@web-1 deploy@web-2 " },
		{ 3, { "logs", "staging", "m" }, "migrator " },
		{ 2, { "--config", "" }, ":file " },
		{ 2, { "freeze", "-" }, "--message --help " },
		{ 3, { "unlock", "production", "" }, "" },
		{ 2, { "ship", "" }, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = completed(&conf, cases[i].n, (char **)cases[i].words);

		ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: \"%s\", want \"%s\"", i, got,
		    cases[i].want);
		free(got);
	}
}
END_TEST

/* ---- the console's text prompt and footer hints ---- */

static enum prompt_result type(struct prompt *p, const char *keys)
{
	enum prompt_result r = PROMPT_TYPING;

	for (const unsigned char *k = (const unsigned char *)keys; *k; k++)
		r = prompt_key(p, *k == '\b' ? 127 : *k);
	return r;
}

START_TEST(the_prompt_types_whole_utf8_characters)
{
	struct prompt p;

	prompt_open(&p, 10);
	/* "é" (2 bytes) and "→" (3 bytes) go in whole; Backspace takes "→" back whole */
	ck_assert_int_eq(type(&p, "caf\xc3\xa9 \xe2\x86\x92\b"), PROMPT_TYPING);
	ck_assert_str_eq(p.text, "caf\xc3\xa9 ");
	/* a control, a C1 control, an overlong and a lone continuation byte never get in */
	type(&p, "\x01\xc2\x9b\xc0\xaf\x80");
	ck_assert_str_eq(p.text, "caf\xc3\xa9 ");
	/* a sequence cut short by a plain character: the character goes in, not the bytes */
	type(&p, "\xe2\x86x");
	ck_assert_str_eq(p.text, "caf\xc3\xa9 x");
	/* bounded: a character that does not fit whole is not cut */
	type(&p, "yz\xe2\x82\xac");
	ck_assert_str_eq(p.text, "caf\xc3\xa9 xyz");
	ck_assert_uint_eq(p.len, 9);
	ck_assert_int_eq(type(&p, "\n"), PROMPT_DONE);
	ck_assert(!p.open);
	prompt_open(&p, 0);
	ck_assert_int_eq(type(&p, "ab\x1b"), PROMPT_CANCELLED);
	ck_assert_uint_eq(p.limit, PROMPT_MAX);
}
END_TEST

START_TEST(footer_hints_come_from_the_action_table)
{
	static const struct action_hint hints[] = {
		{ ACTION_HELP, 0, "help" }, { ACTION_MOVE_UP, ACTION_MOVE_DOWN, "select" },
		{ ACTION_ROLLBACK, 0, "roll back" }, { ACTION_SEARCH_NEXT, ACTION_SEARCH_PREV, "older/newer" },
		{ ACTION_REDRAW, 0, "redraw" }, { ACTION_CLOSE, 0, "close" }, { 0 },
	};
	char line[200];

	action_hints(hints, false, false, line, sizeof line);
	ck_assert_str_eq(line, " ? help  \xe2\x86\x91\xe2\x86\x93 select  b roll back  n/N older/newer  "
	    "^L redraw  Esc close");
	/* ASCII: the letters; read-only: no write action is offered */
	action_hints(hints, true, true, line, sizeof line);
	ck_assert_str_eq(line, " ? help  k/j select  n/N older/newer  ^L redraw  Esc close");
	action_hints(hints, false, false, line, 12);
	ck_assert_uint_le(strlen(line), 11);
}
END_TEST

/* ---- the event bus ---- */

struct heard {
	struct bus *bus;
	char log[256];
	unsigned self, other;           /* this listener's id; one it removes */
	bool add_one;                   /* adds a listener from its callback, once */
};

static void hear(void *arg, const struct bus_event *ev)
{
	struct heard *h = arg;

	snprintf(h->log + strlen(h->log), sizeof h->log - strlen(h->log), "%s%s:%s",
	    h->log[0] ? " " : "", bus_kind_name(ev->kind), ev->text ? ev->text : "");
	if (h->other) {
		bus_unlisten(h->bus, h->other);
		h->other = 0;
	}
}

static void hear_and_add(void *arg, const struct bus_event *ev)
{
	struct heard *h = arg;

	hear(arg, ev);
	if (h->add_one) {
		h->add_one = false;
		bus_listen(h->bus, BUS_ALL, hear, h);
	}
}

START_TEST(the_bus_delivers_to_every_listener_of_a_kind)
{
	struct bus *bus = bus_new();
	struct heard all = { .bus = bus }, steps = { .bus = bus }, gone = { .bus = bus };
	struct bus_event out = { .kind = BUS_OUTPUT, .text = "line" };
	struct bus_event step = { .kind = BUS_STEP_ENDED, .text = "pull" };

	bus_listen(bus, BUS_ALL, hear, &all);
	bus_listen(bus, BUS_MASK(BUS_STEP_STARTED) | BUS_MASK(BUS_STEP_ENDED), hear, &steps);
	gone.self = bus_listen(bus, BUS_ALL, hear, &gone);
	bus_emit(bus, &out);
	bus_unlisten(bus, gone.self);
	bus_emit(bus, &step);
	ck_assert_str_eq(all.log, "output:line step ended:pull");
	ck_assert_str_eq(steps.log, "step ended:pull");
	ck_assert_str_eq(gone.log, "output:line");
	bus_emit(NULL, &step);          /* no bus: nobody hears, nothing breaks */
	bus_unlisten(bus, 0);
	bus_free(bus);
}
END_TEST

START_TEST(listeners_come_and_go_while_an_event_is_delivered)
{
	struct bus *bus = bus_new();
	struct heard first = { .bus = bus, .add_one = true }, second = { .bus = bus };
	struct bus_event a = { .kind = BUS_READY, .text = "1" }, b = { .kind = BUS_ENDED, .text = "2" };

	/* the first listener removes the second before it is reached, and adds a new one
	   (itself again) that hears only the next event */
	bus_listen(bus, BUS_ALL, hear_and_add, &first);
	second.self = bus_listen(bus, BUS_ALL, hear, &second);
	first.other = second.self;
	bus_emit(bus, &a);
	ck_assert_str_eq(first.log, "ready:1");
	ck_assert_str_eq(second.log, "");
	bus_emit(bus, &b);
	ck_assert_str_eq(first.log, "ready:1 ended:2 ended:2");
	ck_assert_str_eq(second.log, "");
	/* many listeners: the list grows past its first allocation */
	for (int i = 0; i < 10; i++)
		bus_listen(bus, BUS_MASK(BUS_FROZEN), hear, &second);
	bus_emit(bus, &(struct bus_event){ .kind = BUS_FROZEN, .text = "" });
	ck_assert_uint_eq(strlen(second.log), 10 * strlen("frozen:") + 9);
	bus_free(bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("misc");
	TCase *tc = tcase_create("misc");

	tcase_add_test(tc, durations_parse);
	tcase_add_test(tc, durations_format);
	tcase_add_test(tc, colours_parse_and_fit_8_colour_terminals);
	tcase_add_test(tc, theme_file_overrides_roles);
	tcase_add_test(tc, theme_errors_are_positioned);
	tcase_add_test(tc, staleness_is_three_intervals);
	tcase_add_test(tc, command_line);
	tcase_add_test(tc, command_help_and_new_flags);
	tcase_add_test(tc, completion_comes_from_the_command_table);
	tcase_add_test(tc, the_prompt_types_whole_utf8_characters);
	tcase_add_test(tc, footer_hints_come_from_the_action_table);
	tcase_add_test(tc, the_bus_delivers_to_every_listener_of_a_kind);
	tcase_add_test(tc, listeners_come_and_go_while_an_event_is_delivered);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
