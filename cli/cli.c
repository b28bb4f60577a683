/* The command line: the table of commands, and everything made from it. */
#include "config.h"

#include "cli.h"
#include "commands.h"
#include "exitcode.h"
#include "schema.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(f) offsetof(struct cli_options, f)

/* ---- the options the commands share ---- */

#define SHARED_YES { "--yes", 'y', NULL, VALUE_FLAG, FIELD(yes), WORD_NONE, NULL, \
	"confirm (a protected environment needs it)" }
#define SHARED_DRY_RUN { "--dry-run", 'n', NULL, VALUE_FLAG, FIELD(dry_run), WORD_NONE, NULL, \
	"print the plan; nothing runs" }
#define SHARED_JSON { "--json", 0, NULL, VALUE_FLAG, FIELD(json), WORD_NONE, NULL, "as JSON" }
#define SHARED_LIMIT { "--limit", 0, "N", VALUE_LIMIT, FIELD(limit), WORD_NONE, \
	"needs a number from 1 to 100000", "the newest N only" }
#define SHARED_MESSAGE { "--message", 'm', "REASON", VALUE_TEXT, FIELD(message), WORD_NONE, \
	"needs a reason, recorded in the history", "why (recorded in the history)" }
#define SHARED_END { 0 }

static const struct cli_opt status_opts[] = {
	{ "--json", 0, NULL, VALUE_FLAG, FIELD(json), WORD_NONE, NULL,
	  "a stable document (format 1), described in gantry(1)" },
	SHARED_END
};
static const struct cli_opt logs_opts[] = {
	{ "--follow", 'f', NULL, VALUE_FLAG, FIELD(follow), WORD_NONE, NULL,
	  "keep following; reconnects and marks the gaps" },
	{ "--host", 0, "HOST", VALUE_TEXT, FIELD(host), WORD_HOST,
	  "needs a host, as written in gantry.yml", "one host only, as written in gantry.yml" },
	SHARED_END
};
static const struct cli_opt listing_opts[] = { SHARED_JSON, SHARED_LIMIT, SHARED_END };
static const struct cli_opt promote_opts[] = {
	{ "--tag", 0, "TAG", VALUE_TEXT, FIELD(tag), WORD_TAG, "needs a tag",
	  "another tag (refused when its last run on SRC did not succeed)" },
	SHARED_YES, SHARED_DRY_RUN, SHARED_END
};
static const struct cli_opt rollback_opts[] = {
	{ "--to", 0, "TAG", VALUE_TEXT, FIELD(tag), WORD_TAG, "needs a tag",
	  "that tag's newest healthy run instead" },
	{ "--unverified", 0, NULL, VALUE_FLAG, FIELD(unverified), WORD_NONE, NULL,
	  "with --to and --yes: a tag that never ran healthy on ENV" },
	SHARED_YES, SHARED_DRY_RUN, SHARED_END
};
static const struct cli_opt confirm_opts[] = { SHARED_YES, SHARED_DRY_RUN, SHARED_END };
static const struct cli_opt adopt_opts[] = {
	SHARED_YES,
	{ "--dry-run", 'n', NULL, VALUE_FLAG, FIELD(dry_run), WORD_NONE, NULL,
	  "say what would be recorded; nothing is written" },
	SHARED_END
};
static const struct cli_opt message_opts[] = { SHARED_MESSAGE, SHARED_END };
static const struct cli_opt emergency_opts[] = {
	SHARED_MESSAGE, SHARED_YES, SHARED_DRY_RUN, SHARED_END
};
static const struct cli_opt rollout_opts[] = {
	{ "--tag", 0, "TAG", VALUE_TEXT, FIELD(tag), WORD_TAG, "needs a tag",
	  "the rollout itself: another tag than the one before ENV runs" },
	SHARED_YES, SHARED_DRY_RUN,
	{ "--json", 0, NULL, VALUE_FLAG, FIELD(json), WORD_NONE, NULL, "status: as JSON" },
	{ "--message", 'm', "REASON", VALUE_TEXT, FIELD(message), WORD_NONE,
	  "needs a reason", "pause, resume, abort: why (the driver shows it)" },
	SHARED_END
};
static const struct cli_opt no_opts[] = { SHARED_END };

/* ---- putting the words in place ---- */

/* "CMD: WHAT; usage: gantry CMD USAGE": the exit status of a bad command line */
static int usage_error(const struct cli_cmd *cmd, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int usage_error(const struct cli_cmd *cmd, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errsz, "%s: ", cmd->name);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errsz)
		n += vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errsz)
		snprintf(err + n, errsz - (size_t)n, "; usage: gantry %s %s", cmd->name, cmd->usage);
	return EXIT_USAGE;
}

static int env_word(const struct cli_cmd *cmd, char **words, int nwords, struct cli_options *o,
    char *err, size_t errsz)
{
	(void)cmd; (void)err; (void)errsz;
	o->env = nwords > 0 ? words[0] : NULL;
	return 0;
}

/* logs ENV [app|migrator] */
static int logs_words(const struct cli_cmd *cmd, char **words, int nwords, struct cli_options *o,
    char *err, size_t errsz)
{
	o->env = words[0];
	o->log_source = LOG_APP;
	if (nwords == 2) {
		if (strcmp(words[1], "app") != 0 && strcmp(words[1], "migrator") != 0) {
			return usage_error(cmd, err, errsz, "unexpected argument \"%.40s\" (the log is app or "
			    "migrator)", words[1]);
		}
		o->log_source = strcmp(words[1], "app") == 0 ? LOG_APP : LOG_MIGRATOR;
	}
	return 0;
}

/* promote [SRC] DST */
static int promote_words(const struct cli_cmd *cmd, char **words, int nwords, struct cli_options *o,
    char *err, size_t errsz)
{
	(void)cmd; (void)err; (void)errsz;
	if (nwords == 2) {
		o->source = words[0];
		o->env = words[1];
	} else {
		o->env = words[0];
	}
	return 0;
}


/* rollback ENV: --unverified goes with --to */
static int rollback_words(const struct cli_cmd *cmd, char **words, int nwords,
    struct cli_options *o, char *err, size_t errsz)
{
	o->env = words[0];
	(void)nwords;
	if (o->unverified && !o->tag)
		return usage_error(cmd, err, errsz, "--unverified goes with --to TAG: it allows that one tag");
	return 0;
}

/* deploy ENV TAG */
static int deploy_words(const struct cli_cmd *cmd, char **words, int nwords, struct cli_options *o,
    char *err, size_t errsz)
{
	(void)cmd; (void)nwords; (void)err; (void)errsz;
	o->env = words[0];
	o->tag = words[1];
	return 0;
}

/* rollout [status|pause|resume|abort] ENV: each option goes with its verbs */
static int rollout_words(const struct cli_cmd *cmd, char **words, int nwords,
    struct cli_options *o, char *err, size_t errsz)
{
	static const char *const verbs[] = {
#define CLI_ROLLOUT_WORD(name, word) [ROLLOUT_##name] = word,
		CLI_ROLLOUT_VERBS(CLI_ROLLOUT_WORD)
#undef CLI_ROLLOUT_WORD
	};

	o->rollout = ROLLOUT_START;
	o->env = words[nwords - 1];
	if (nwords == 2) {
		for (size_t v = 1; v < sizeof verbs / sizeof verbs[0]; v++)
			if (strcmp(words[0], verbs[v]) == 0)
				o->rollout = (enum cli_rollout)v;
		if (o->rollout == ROLLOUT_START)
			return usage_error(cmd, err, errsz, "\"%.40s\" is not status, pause, resume or abort",
			    words[0]);
	}
	if (o->rollout != ROLLOUT_START && (o->tag || o->dry_run))
		return usage_error(cmd, err, errsz, "--tag and --dry-run go with the rollout itself");
	if (o->rollout != ROLLOUT_STATUS && o->json)
		return usage_error(cmd, err, errsz, "--json goes with status");
	if ((o->rollout == ROLLOUT_START || o->rollout == ROLLOUT_STATUS) && o->message)
		return usage_error(cmd, err, errsz, "-m goes with pause, resume and abort");
	return 0;
}

/* freeze, unlock, emergency-rollback: -m is required */
static int message_words(const struct cli_cmd *cmd, char **words, int nwords,
    struct cli_options *o, char *err, size_t errsz)
{
	o->env = words[0];
	(void)nwords;
	if (!o->message)
		return usage_error(cmd, err, errsz, "say why with -m REASON (it goes into the history)");
	return 0;
}

/* ---- the table ---- */

const struct cli_cmd cli_cmds[] = {
	{ "status", CLI_STATUS, "[--json]", "print every environment's state once",
	  "Checks every environment once (live, ready, version, each host's deploy.env) and\n"
	  "prints it. Exit 0 when all are ready, 1 when one is not, 3 on a bad configuration.\n",
	  status_opts, 0, 0, { WORD_NONE }, env_word, cmd_status },
	{ "logs", CLI_LOGS, "ENV [app|migrator] [-f] [--host HOST]",
	  "print an environment's log (-f: follow it)",
	  "Prints the app (default) or migrator log of every host of ENV as \"host | line\".\n",
	  logs_opts, 1, 2, { WORD_ENV, WORD_LOG }, logs_words, cmd_logs },
	{ "tags", CLI_TAGS, "[--json] [--limit N]",
	  "list the registry's deployable tags, newest first",
	  "Lists the registry's deployable tags (registry.tags), newest first, with both digests.\n",
	  listing_opts, 0, 0, { WORD_NONE }, env_word, cmd_tags },
	{ "promote", CLI_PROMOTE, "[SRC] DST [--tag TAG] [--yes] [--dry-run]",
	  "deploy SRC's tag (default: the environment before DST)",
	  "Deploys to DST what SRC (default: the environment before DST) runs and verified:\n"
	  "the tag its app reports and its deploy.env names, whose last run there succeeded.\n",
	  promote_opts, 1, 2, { WORD_ENV, WORD_ENV }, promote_words, cmd_action },
	{ "rollback", CLI_ROLLBACK, "ENV [--to TAG [--unverified]] [--yes] [--dry-run]",
	  "go back to the last healthy tag, or to TAG",
	  "Redeploys the images of the newest healthy run of another tag on ENV (the digests\n"
	  "recorded then, not what the tag points to now).\n",
	  rollback_opts, 1, 1, { WORD_ENV }, rollback_words, cmd_action },
	{ "emergency-rollback", CLI_EMERGENCY, "ENV -m REASON [--yes] [--dry-run]",
	  "every host back to the last tag healthy on all, at once",
	  "Stops a rollout of ENV left paused (its lock is broken, noted in the history) and\n"
	  "takes every host back to the newest tag healthy on all of them, every host at once,\n"
	  "whatever the waves; the reason is recorded with the run. Refused while a step runs.\n",
	  emergency_opts, 1, 1, { WORD_ENV }, message_words, cmd_action },
	{ "deploy", CLI_DEPLOY, "ENV TAG [--yes] [--dry-run]", "deploy a tag from the registry",
	  "Deploys a tag from the registry to ENV (checked against registry.tags).\n",
	  confirm_opts, 2, 2, { WORD_ENV, WORD_TAG }, deploy_words, cmd_action },
	{ "rollout", CLI_ROLLOUT, "[status|pause|resume|abort] ENV [--tag TAG] [--yes] [--dry-run] "
	  "[--json] [-m REASON]", "roll a tag out in waves; see, pause, resume or abort it",
	  "rollout ENV promotes to ENV in its waves (rollout: in gantry.yml) the tag the\n"
	  "environment before it runs, or --tag TAG, as promote does. status ENV says where\n"
	  "its rollout stands: the wave, each wave's hosts, who drives it, the tags the hosts\n"
	  "run. pause, resume and abort ENV ask the gantry that drives it, wherever it runs,\n"
	  "and wait for its answer; when none drives it, resume and abort carry it on here.\n",
	  rollout_opts, 1, 2, { WORD_ROLLOUT, WORD_ENV }, rollout_words, cmd_action },
	{ "attach", CLI_ATTACH, "ENV", "follow ENV's current run, or show how it ended",
	  "Follows ENV's run in progress to its end, or replays how the last one ended; the\n"
	  "duration printed is the run's own, from the host's records.\n",
	  no_opts, 1, 1, { WORD_ENV }, env_word, cmd_action },
	{ "history", CLI_HISTORY, "ENV [--json] [--limit N]", "ENV's runs, newest first",
	  "ENV's runs, newest first, merged from all its hosts: who, what, when, the result.\n",
	  listing_opts, 1, 1, { WORD_ENV }, env_word, cmd_action },
	{ "freeze", CLI_FREEZE, "ENV -m REASON",
	  "stop promotions and deploys (rollbacks stay allowed)",
	  "Refuses promotions and deploys to ENV until unfrozen; rollbacks stay allowed.\n",
	  message_opts, 1, 1, { WORD_ENV }, message_words, cmd_action },
	{ "unfreeze", CLI_UNFREEZE, "ENV", "allow them again",
	  "Lifts a freeze (recorded in the history).\n",
	  no_opts, 1, 1, { WORD_ENV }, env_word, cmd_action },
	{ "unlock", CLI_UNLOCK, "ENV -m REASON", "break a lock left by a run that is gone",
	  "Breaks a lock whose run is gone (refused while its run lives).\n",
	  message_opts, 1, 1, { WORD_ENV }, message_words, cmd_action },
	{ "adopt", CLI_ADOPT, "ENV [--yes] [--dry-run]",
	  "record the tag ENV runs as its baseline (no history yet)",
	  "Records the tag ENV runs as its baseline, so a first rollback has a target: only\n"
	  "when ENV has no run recorded, its hosts' deploy.env agree, and its app is ready and\n"
	  "reports that tag. The first promotion, deploy or rollback does the same by itself.\n",
	  adopt_opts, 1, 1, { WORD_ENV }, env_word, cmd_action },
	{ "check", CLI_CHECK, "[ENV]", "check every read path: HTTP, SSH, hosts, registry",
	  "Goes through every read path of each environment (or ENV): its HTTP endpoints,\n"
	  "each host's reachability, host key, login, deploy directory, runner, compose file\n"
	  "and running services, then the registry's credentials and both image repositories.\n"
	  "One line per check, each failure saying what to do; exit 0 only when every check\n"
	  "passes, 8 when one fails. Writes nothing but the runner (.gantry/bin), and not even\n"
	  "that with --read-only. The first thing to run against a new configuration.\n",
	  no_opts, 0, 1, { WORD_ENV }, env_word, cmd_check },
};

const size_t cli_cmds_len = sizeof cli_cmds / sizeof cli_cmds[0];

/* The options before the command. */
const struct cli_opt cli_global_opts[] = {
	{ "--config", 'c', "FILE", VALUE_TEXT, FIELD(config_path), WORD_FILE, NULL,
	  "read FILE instead of looking up gantry.yml" },
	{ "--theme", 't', "NAME|FILE", VALUE_TEXT, FIELD(theme), WORD_FILE, NULL,
	  "colour theme: default, light, high-contrast, mono, or a file" },
	{ "--read-only", 'r', NULL, VALUE_FLAG, FIELD(read_only), WORD_NONE, NULL,
	  "wallboard mode: no key or flag can change anything" },
	{ "--ascii", 0, NULL, VALUE_FLAG, FIELD(ascii), WORD_NONE, NULL,
	  "draw with ASCII only, whatever the locale" },
	{ "--list-keys", 0, "[=man]", VALUE_FLAG, 0, WORD_NONE, NULL,
	  "print the key bindings (as man page source with =man)" },
	{ "--list-config-keys", 0, NULL, VALUE_FLAG, 0, WORD_NONE, NULL,
	  "print every gantry.yml key with its meaning" },
	{ "--list-commands", 0, "[=man]", VALUE_FLAG, 0, WORD_NONE, NULL,
	  "print every command's synopsis (as man page source with =man)" },
	{ "--help", 'h', NULL, VALUE_FLAG, 0, WORD_NONE, NULL, "print this help" },
	{ "--version", 'V', NULL, VALUE_FLAG, 0, WORD_NONE, NULL, "print the version" },
	SHARED_END
};

const struct cli_cmd *cli_cmd_of(enum cli_command command)
{
	for (size_t i = 0; i < cli_cmds_len; i++)
		if (cli_cmds[i].command == command)
			return &cli_cmds[i];
	return NULL;
}

const struct cli_cmd *cli_cmd_named(const char *name)
{
	for (size_t i = 0; i < cli_cmds_len; i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

/* ---- help ---- */

/* "  -y, --yes" or "      --limit N" */
static void opt_label(const struct cli_opt *opt, char *out, size_t outsz)
{
	char letter[8] = "    ";

	if (opt->letter)
		snprintf(letter, sizeof letter, "-%c, ", opt->letter);
	snprintf(out, outsz, "  %s%s%s%s", letter, opt->name,
	    opt->arg && opt->arg[0] != '[' ? " " : "", opt->arg ? opt->arg : "");
}

void cli_usage(FILE *out)
{
	char label[80];

	fputs("Usage: gantry [OPTION]...            open the dashboard\n", out);
	for (size_t i = 0; i < cli_cmds_len; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		int n = fprintf(out, "       gantry [OPTION]... %s %s", c->name, c->usage);

		if (n <= 35)
			fprintf(out, "%*s%s\n", 37 - n, "", c->summary);
		else
			fprintf(out, "\n%37s%s\n", "", c->summary);
	}
	fputs("       gantry [OPTION]... COMMAND --help\n"
	    "                                     what COMMAND does, and its options\n"
	    "\nOptions:\n", out);
	for (const struct cli_opt *o = cli_global_opts; o->name; o++) {
		opt_label(o, label, sizeof label);
		fprintf(out, "%-30s%s\n", label, o->help);
	}
	fputs("\nThe configuration is the first of: --config, $GANTRY_CONFIG, ./gantry.yml,\n"
	    "$XDG_CONFIG_HOME/gantry/config.yml. See gantry(1) and gantry.yml(5).\n", out);
}

void cli_command_help(FILE *out, const struct cli_cmd *cmd)
{
	char label[80];

	fprintf(out, "usage: gantry %s %s\n%s", cmd->name, cmd->usage, cmd->help);
	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		opt_label(o, label, sizeof label);
		fprintf(out, "%-24s%s\n", label, o->help);
	}
}

/* The usage words as man page source: commands and options bold, the rest italic. */
static void man_words(FILE *out, const char *usage)
{
	const char *p = usage;

	while (*p) {
		size_t n = strcspn(p, " []|");

		if (n == 0) {
			fprintf(out, "%c", *p);
			p++;
			continue;
		}
		if (p[0] == '-' || (p[0] >= 'a' && p[0] <= 'z'))
			fputs("\\fB", out);
		else
			fputs("\\fI", out);
		for (size_t k = 0; k < n; k++)
			fputs(p[k] == '-' ? "\\-" : (char[]){ p[k], 0 }, out);
		fputs("\\fR", out);
		p += n;
	}
}

void cli_list_commands(FILE *out, bool man)
{
	for (size_t i = 0; i < cli_cmds_len; i++) {
		const struct cli_cmd *c = &cli_cmds[i];

		if (!man) {
			fprintf(out, "%s %s\n", c->name, c->usage);
			continue;
		}
		fprintf(out, ".B gantry\n[\\fIOPTION\\fR]...\n.B %s\n", c->name);
		man_words(out, c->usage);
		fputs("\n.br\n", out);
	}
}

/* ---- parsing ---- */

/* The option of `opts` that argv[*i] is, its value taken (from "--opt=VALUE" or the next
 * word); NULL when it is none of them. *bad says what is wrong with the value. */
static const struct cli_opt *match_opt(const struct cli_opt *opts, int argc, char **argv, int *i,
    const char **value, bool *bad)
{
	const char *a = argv[*i];

	*value = NULL;
	*bad = false;
	for (const struct cli_opt *o = opts; o->name; o++) {
		size_t n = strlen(o->name);
		bool letter = o->letter && a[0] == '-' && a[1] == o->letter && a[2] == '\0';

		if (!letter && (strncmp(a, o->name, n) != 0 || (a[n] != '\0' && a[n] != '=')))
			continue;
		if (!o->arg) {
			if (!letter && a[n] == '=')
				continue;       /* a flag takes no value */
			return o;
		}
		if (!letter && a[n] == '=')
			*value = a + n + 1;
		else if (*i + 1 < argc)
			*value = argv[++*i];
		*bad = !*value || !**value;
		return o;
	}
	return NULL;
}

/* Sets an option's field; 0, or an exit status with err set. */
static int set_opt(const struct cli_cmd *cmd, const struct cli_opt *opt, const char *value,
    bool bad, struct cli_options *o, char *err, size_t errsz)
{
	char *base = (char *)o;

	/* by bytes: the field's own type is the table's word for it */
	switch (opt->value) {
	case VALUE_FLAG: {
		bool yes = true;

		memcpy(base + opt->field, &yes, sizeof yes);
		return 0;
	}
	case VALUE_TEXT:
		if (bad) {
			return usage_error(cmd, err, errsz, "%s %s", opt->letter == 'm' ? "-m" : opt->name,
			    opt->missing);
		}
		memcpy(base + opt->field, &value, sizeof value);
		return 0;
	case VALUE_LIMIT: {
		char *end;
		long v = bad ? 0 : strtol(value, &end, 10);

		if (bad || *end || v <= 0 || v > 100000) {
			return usage_error(cmd, err, errsz, "%s %s", opt->name, opt->missing);
		}
		memcpy(base + opt->field, &v, sizeof v);
		return 0;
	}
	}
	return 0;
}

/* " (did you mean --dry-run?)" for the nearest of `opts` (or "" when none is near). */
static const char *near_opt(const struct cli_opt *const sets[], const char *a, char *out,
    size_t outsz)
{
	const char *best = NULL;
	size_t d = 3, name_len = strcspn(a, "=");
	char name[48];

	snprintf(name, sizeof name, "%.*s", (int)(name_len < 47 ? name_len : 47), a);
	for (size_t s = 0; sets[s]; s++)
		for (const struct cli_opt *o = sets[s]; o->name; o++)
			if (schema_edit_distance(name, o->name) < d) {
				d = schema_edit_distance(name, o->name);
				best = o->name;
			}
	snprintf(out, outsz, "%s%s%s", best ? " (did you mean " : "", best ? best : "",
	    best ? "?)" : "");
	return out;
}

/* The options every command also takes after its name (gantry status -c FILE). */
static const struct cli_opt *global_opt(int argc, char **argv, int *i, const char **value,
    bool *bad)
{
	int at = *i;
	const struct cli_opt *opt = match_opt(cli_global_opts, argc, argv, i, value, bad);

	/* only those that set a field: --help, --version and the lists are not a command's */
	if (opt && opt->field == 0) {
		*i = at;
		return NULL;
	}
	return opt;
}


/* A bundle of short options ("-yn", "-mREASON"): each set in turn; 0, or an exit status. */
static int short_bundle(const struct cli_cmd *cmd, int argc, char **argv, int *i,
    struct cli_options *opts, char *err, size_t errsz)
{
	const char *a = argv[*i];

	for (size_t k = 1; a[k]; k++) {
		const struct cli_opt *const sets[] = { cmd->opts, NULL };
		const struct cli_opt *opt = NULL;
		const char *value = NULL;
		int code;

		for (const struct cli_opt *o = sets[0]; o->name && !opt; o++)
			if (o->letter == a[k])
				opt = o;
		if (!opt) {
			char one[3] = { '-', a[k], '\0' };
			int j = 0;
			bool bad;

			/* -r, -c, -t: the global ones */
			opt = global_opt(1, (char *[]){ one }, &j, &value, &bad);
			if (!opt || opt->arg)
				return usage_error(cmd, err, errsz, "unknown option -%c in %.40s", a[k], a);
		}
		if (opt->arg) {
			/* the rest of the bundle is its value, else the next word */
			value = a[k + 1] ? a + k + 1 : *i + 1 < argc ? argv[++*i] : NULL;
			code = set_opt(cmd, opt, value, !value || !*value, opts, err, errsz);
			return code;
		}
		if ((code = set_opt(cmd, opt, NULL, false, opts, err, errsz)))
			return code;
	}
	return 0;
}

/* A command's words and options (argv[0] is its name): options before or after the
 * words, the global ones too, "--" ends them, short ones bundle. */
static int parse_command(const struct cli_cmd *cmd, int argc, char **argv,
    struct cli_options *opts, char *err, size_t errsz)
{
	char *words[2] = { NULL, NULL };
	int nwords = 0, code;
	bool options = true;

	opts->command = cmd->command;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *value;
		const struct cli_opt *opt;
		bool bad;

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && ((opt = match_opt(cmd->opts, argc, argv, &i, &value, &bad)) ||
		    (opt = global_opt(argc, argv, &i, &value, &bad)))) {
			if ((code = set_opt(cmd, opt, value, bad, opts, err, errsz)))
				return code;
		} else if (options && a[0] == '-' && a[1] && a[1] != '-' && a[2]) {
			if ((code = short_bundle(cmd, argc, argv, &i, opts, err, errsz)))
				return code;
		} else if (options && a[0] == '-' && a[1]) {
			const struct cli_opt *const sets[] = { cmd->opts, cli_global_opts, NULL };
			char near[80];

			return usage_error(cmd, err, errsz, "unknown option %.40s%s", a,
			    near_opt(sets, a, near, sizeof near));
		} else if (nwords < cmd->max_words) {
			words[nwords++] = argv[i];
		} else {
			return usage_error(cmd, err, errsz, "unexpected argument \"%.40s\"", a);
		}
	}
	if (nwords < cmd->min_words) {
		snprintf(err, errsz, "%s: %s usage: gantry %s %s", cmd->name, nwords == 0 ?
		    "which environment?" : "which tag?", cmd->name, cmd->usage);
		return EXIT_USAGE;
	}
	/* an empty word ('' from a script whose variable was unset) names nothing */
	for (int w = 0; w < nwords; w++) {
		if (!words[w][0]) {
			return usage_error(cmd, err, errsz, "an empty %s",
			    cmd->words[w] == WORD_TAG ? "tag" : "environment name");
		}
	}
	return cmd->finish(cmd, words, nwords, opts, err, errsz);
}

/* `gantry CMD ... --help` (or -h) anywhere among CMD's words. */
static bool wants_help(const struct cli_cmd *cmd, int argc, char **argv, struct cli_options *opts)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			opts->command = CLI_COMMAND_HELP;
			opts->help_for = cmd;
			return true;
		}
	}
	return false;
}

/* A word that is no command: the nearest one named (a typo, or the start of one), and the
 * list. */
static int unknown_command(const char *word, char *err, size_t errsz)
{
	size_t n = (size_t)snprintf(err, errsz, "unknown command \"%.40s\"", word), d = 3;
	const char *near = NULL;

	for (size_t i = 0; i < cli_cmds_len; i++) {
		bool prefix = strlen(word) >= 3 && strncmp(cli_cmds[i].name, word, strlen(word)) == 0;
		size_t di = prefix ? 2 : schema_edit_distance(word, cli_cmds[i].name);

		if (di < d || (prefix && !near)) {
			d = di;
			near = cli_cmds[i].name;
		}
	}
	if (near && n < errsz)
		n += (size_t)snprintf(err + n, errsz - n, "; did you mean \"%s\"?", near);
	if (n < errsz)
		n += (size_t)snprintf(err + n, errsz - n, "%s", near ? " (commands:" : "; commands:");
	for (size_t i = 0; i < cli_cmds_len && n < errsz; i++)
		n += (size_t)snprintf(err + n, errsz - n, "%s %s", i ? "," : "", cli_cmds[i].name);
	if (near && n < errsz)
		snprintf(err + n, errsz - n, ")");
	return EXIT_USAGE;
}

int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz)
{
	enum { OPT_ASCII = 256, OPT_LIST_KEYS, OPT_LIST_CONFIG_KEYS, OPT_LIST_COMMANDS, OPT_JSON,
		OPT_COMPLETE };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "theme", required_argument, NULL, 't' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "ascii", no_argument, NULL, OPT_ASCII },
		{ "list-keys", optional_argument, NULL, OPT_LIST_KEYS },
		{ "list-config-keys", no_argument, NULL, OPT_LIST_CONFIG_KEYS },
		{ "list-commands", optional_argument, NULL, OPT_LIST_COMMANDS },
		{ "complete", no_argument, NULL, OPT_COMPLETE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const struct cli_cmd *cmd;
	int c;

	memset(opts, 0, sizeof *opts);
	opts->command = CLI_DASHBOARD;
	optind = 1;
	opterr = 0;
	/* '+' stops at the command; its own options are read in a second pass */
	while ((c = getopt_long(argc, argv, "+:c:t:rhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts->config_path = optarg;
			break;
		case 't':
			opts->theme = optarg;
			break;
		case 'r':
			opts->read_only = true;
			break;
		case OPT_ASCII:
			opts->ascii = true;
			break;
		case OPT_LIST_KEYS:
		case OPT_LIST_COMMANDS:
			if (optarg && strcmp(optarg, "man") != 0) {
				snprintf(err, errsz, "%s takes no value or =man, not \"%s\"",
				    c == OPT_LIST_KEYS ? "--list-keys" : "--list-commands", optarg);
				return EXIT_USAGE;
			}
			opts->command = c == OPT_LIST_KEYS ? CLI_LIST_KEYS : CLI_LIST_COMMANDS;
			opts->man = optarg != NULL;
			break;
		case OPT_LIST_CONFIG_KEYS:
			opts->command = CLI_LIST_CONFIG_KEYS;
			break;
		case OPT_COMPLETE:
			/* the words after it are the command line being completed */
			opts->command = CLI_COMPLETE;
			opts->complete = argv + optind;
			opts->complete_len = argc - optind;
			return 0;
		case 'h':
			opts->command = CLI_HELP;
			return 0;
		case 'V':
			opts->command = CLI_VERSION;
			return 0;
		case OPT_JSON:
			snprintf(err, errsz, "--json belongs to a subcommand: gantry status --json");
			return EXIT_USAGE;
		case ':':
			snprintf(err, errsz, "option %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			snprintf(err, errsz, "unknown option %s; see gantry --help", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return 0;
	/* gantry help [CMD] */
	if (strcmp(argv[optind], "help") == 0) {
		opts->command = CLI_HELP;
		if (optind + 1 < argc) {
			if (!(cmd = cli_cmd_named(argv[optind + 1]))) {
				snprintf(err, errsz, "no command \"%.40s\"; gantry help lists them",
				    argv[optind + 1]);
				return EXIT_USAGE;
			}
			opts->command = CLI_COMMAND_HELP;
			opts->help_for = cmd;
		}
		return 0;
	}
	cmd = cli_cmd_named(argv[optind]);
	if (!cmd)
		return unknown_command(argv[optind], err, errsz);
	if (wants_help(cmd, argc - optind, argv + optind, opts))
		return 0;
	return parse_command(cmd, argc - optind, argv + optind, opts, err, errsz);
}
