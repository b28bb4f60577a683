/* The command line: options and subcommands, parsed without side effects. */
#include "config.h"

#include "cli.h"
#include "conf.h"
#include "exitcode.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *out)
{
	fputs("Usage: gantry [OPTION]...            open the dashboard\n"
	    "       gantry [OPTION]... status [--json]   print every environment's state once\n"
	    "       gantry [OPTION]... logs ENV [app|migrator] [-f] [--host HOST]\n"
	    "                                     print an environment's log (-f: follow it)\n"
	    "       gantry [OPTION]... tags [--json] [--limit N]\n"
	    "                                     list the registry's deployable tags, newest first\n"
	    "       gantry [OPTION]... promote [SRC] DST [--tag TAG] [--yes] [--dry-run]\n"
	    "                                     deploy SRC's tag (default: the environment before DST)\n"
	    "       gantry [OPTION]... rollback ENV [--to TAG [--unverified]] [--yes] [--dry-run]\n"
	    "                                     go back to the last healthy tag, or to TAG\n"
	    "       gantry [OPTION]... deploy ENV TAG [--yes] [--dry-run]\n"
	    "                                     deploy a tag from the registry\n"
	    "       gantry [OPTION]... attach ENV    follow ENV's current run, or show how it ended\n"
	    "       gantry [OPTION]... history ENV [--json] [--limit N]\n"
	    "                                     ENV's runs, newest first\n"
	    "       gantry [OPTION]... freeze ENV -m REASON | unfreeze ENV\n"
	    "                                     stop or allow promotions (rollbacks stay allowed)\n"
	    "       gantry [OPTION]... unlock ENV -m REASON\n"
	    "                                     break a lock left by a run that is gone\n"
	    "       gantry [OPTION]... adopt ENV [--yes] [--dry-run]\n"
	    "                                     record the tag ENV runs as its baseline (no history yet)\n"
	    "       gantry [OPTION]... check [ENV]   check every read path: HTTP, SSH, hosts, registry\n"
	    "       gantry [OPTION]... COMMAND --help\n"
	    "                                     what COMMAND does, and its options\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE       read FILE instead of looking up gantry.yml\n"
	    "  -t, --theme NAME|FILE   colour theme: default, light, high-contrast, mono, or a file\n"
	    "  -r, --read-only         wallboard mode: no key or flag can change anything\n"
	    "      --ascii             draw with ASCII only, whatever the locale\n"
	    "      --list-keys[=man]   print the key bindings (as man page source with =man)\n"
	    "      --list-config-keys  print every gantry.yml key with its meaning\n"
	    "  -h, --help              print this help\n"
	    "  -V, --version           print the version\n"
	    "\n"
	    "The configuration is the first of: --config, $GANTRY_CONFIG, ./gantry.yml,\n"
	    "$XDG_CONFIG_HOME/gantry/config.yml. See gantry(1) and gantry.yml(5).\n", out);
}

/* What each subcommand does, for `gantry CMD --help`: usage first, then its options. */
static const struct {
	const char *name, *text;
} command_help[] = {
	{ "check", "usage: gantry check [ENV]\n"
	  "Goes through every read path of each environment (or ENV): its HTTP endpoints,\n"
	  "each host's reachability, host key, login, deploy directory, runner and compose\n"
	  "file, then the registry's credentials and both image repositories. One line per\n"
	  "check, each failure saying what to do; exit 0 only when every check passes, 8 when\n"
	  "one fails. Writes nothing but the runner (.gantry/bin), and not even that with\n"
	  "--read-only. The first thing to run against a new configuration.\n" },
	{ "status", "usage: gantry status [--json]\n"
	  "Checks every environment once (live, ready, version, each host's deploy.env) and\n"
	  "prints it. Exit 0 when all are ready, 1 when one is not, 3 on a bad configuration.\n"
	  "  --json       a stable document (format 1), described in gantry(1)\n" },
	{ "logs", "usage: gantry logs ENV [app|migrator] [-f] [--host HOST]\n"
	  "Prints the app (default) or migrator log of every host of ENV as \"host | line\".\n"
	  "  -f, --follow  keep following; reconnects and marks the gaps\n"
	  "  --host HOST   one host only, as written in gantry.yml\n" },
	{ "tags", "usage: gantry tags [--json] [--limit N]\n"
	  "Lists the registry's deployable tags (registry.tags), newest first, with both digests.\n"
	  "  --json        as JSON\n"
	  "  --limit N     the newest N only\n" },
	{ "promote", "usage: gantry promote [SRC] DST [--tag TAG] [--yes] [--dry-run]\n"
	  "Deploys to DST what SRC (default: the environment before DST) runs and verified:\n"
	  "the tag its app reports and its deploy.env names, whose last run there succeeded.\n"
	  "  --tag TAG     another tag (refused when its last run on SRC did not succeed)\n"
	  "  -y, --yes     confirm (a protected environment needs it)\n"
	  "  -n, --dry-run print the plan; nothing runs\n" },
	{ "rollback", "usage: gantry rollback ENV [--to TAG [--unverified]] [--yes] [--dry-run]\n"
	  "Redeploys the images of the newest healthy run of another tag on ENV (the digests\n"
	  "recorded then, not what the tag points to now).\n"
	  "  --to TAG      that tag's newest healthy run instead\n"
	  "  --unverified  with --to and --yes: a tag that never ran healthy on ENV\n"
	  "  -y, --yes     confirm (a protected environment needs it)\n"
	  "  -n, --dry-run print the plan; nothing runs\n" },
	{ "deploy", "usage: gantry deploy ENV TAG [--yes] [--dry-run]\n"
	  "Deploys a tag from the registry to ENV (checked against registry.tags).\n"
	  "  -y, --yes     confirm (a protected environment needs it)\n"
	  "  -n, --dry-run print the plan; nothing runs\n" },
	{ "attach", "usage: gantry attach ENV\n"
	  "Follows ENV's run in progress to its end, or replays how the last one ended; the\n"
	  "duration printed is the run's own, from the host's records.\n" },
	{ "history", "usage: gantry history ENV [--json] [--limit N]\n"
	  "ENV's runs, newest first, merged from all its hosts: who, what, when, the result.\n"
	  "  --json        as JSON\n"
	  "  --limit N     the newest N only\n" },
	{ "freeze", "usage: gantry freeze ENV -m REASON\n"
	  "Refuses promotions and deploys to ENV until unfrozen; rollbacks stay allowed.\n"
	  "  -m, --message REASON  why (recorded in the history)\n" },
	{ "unfreeze", "usage: gantry unfreeze ENV\nLifts a freeze (recorded in the history).\n" },
	{ "unlock", "usage: gantry unlock ENV -m REASON\n"
	  "Breaks a lock whose run is gone (refused while its run lives).\n"
	  "  -m, --message REASON  why (recorded in the history)\n" },
	{ "adopt", "usage: gantry adopt ENV [--yes] [--dry-run]\n"
	  "Records the tag ENV runs as its baseline, so a first rollback has a target: only\n"
	  "when ENV has no run recorded, its hosts' deploy.env agree, and its app is ready and\n"
	  "reports that tag. The first promotion, deploy or rollback does the same by itself.\n"
	  "  -y, --yes     confirm (a protected environment needs it)\n"
	  "  -n, --dry-run say what would be recorded; nothing is written\n" },
};

/* `gantry CMD --help` (or -h) anywhere among CMD's words: its help, exit 0. */
static bool wants_help(int argc, char **argv, struct cli_options *opts)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") != 0 && strcmp(argv[i], "-h") != 0)
			continue;
		for (size_t k = 0; k < sizeof command_help / sizeof *command_help; k++) {
			if (strcmp(argv[0], command_help[k].name) == 0) {
				opts->command = CLI_COMMAND_HELP;
				opts->help_text = command_help[k].text;
				return true;
			}
		}
	}
	return false;
}

/* tags [--json] [--limit N] */
static int parse_tags(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz)
{
	static const char usage[] = "usage: gantry tags [--json] [--limit N]";

	opts->command = CLI_TAGS;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			opts->json = true;
		} else if (strcmp(argv[i], "--limit") == 0 || strncmp(argv[i], "--limit=", 8) == 0) {
			const char *v = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : NULL);
			char *end;

			opts->limit = v ? strtol(v, &end, 10) : 0;
			if (!v || !*v || *end || opts->limit <= 0 || opts->limit > 100000) {
				snprintf(err, errsz, "tags: --limit needs a number from 1 to 100000; %s", usage);
				return EXIT_USAGE;
			}
		} else {
			snprintf(err, errsz, "tags: unexpected argument \"%.40s\"; %s", argv[i], usage);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* logs ENV [app|migrator] [-f|--follow] [--host HOST], options anywhere after logs */
static int parse_logs(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz)
{
	static const char usage[] = "usage: gantry logs ENV [app|migrator] [-f] [--host HOST]";
	int words = 0;

	opts->command = CLI_LOGS;
	opts->log_source = LOG_APP;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
			opts->follow = true;
		} else if (strcmp(a, "--host") == 0 || strncmp(a, "--host=", 7) == 0) {
			if (a[6] == '=') {
				opts->host = a + 7;
			} else if (i + 1 < argc) {
				opts->host = argv[++i];
			} else {
				snprintf(err, errsz, "logs: --host needs a host, as written in gantry.yml");
				return EXIT_USAGE;
			}
		} else if (a[0] == '-') {
			snprintf(err, errsz, "logs: unknown option %.40s; %s", a, usage);
			return EXIT_USAGE;
		} else if (words == 0) {
			opts->env = a;
			words++;
		} else if (words == 1 && (strcmp(a, "app") == 0 || strcmp(a, "migrator") == 0)) {
			opts->log_source = strcmp(a, "app") == 0 ? LOG_APP : LOG_MIGRATOR;
			words++;
		} else {
			snprintf(err, errsz, "logs: unexpected argument \"%.40s\" (the log is app or migrator); %s",
			    a, usage);
			return EXIT_USAGE;
		}
	}
	if (!opts->env) {
		snprintf(err, errsz, "logs: which environment? %s", usage);
		return EXIT_USAGE;
	}
	return 0;
}

/* The commands that act on an environment: their words and options. */
struct action_cmd {
	const char *name;
	enum cli_command command;
	int min_words, max_words;       /* positional words */
	const char *tag_option;         /* "--tag", "--to", or NULL */
	bool confirm;                   /* --yes and --dry-run */
	bool message;                   /* -m REASON (required) */
	bool listing;                   /* --json and --limit */
	const char *usage;
	bool unverified;                /* --unverified */
};

static const struct action_cmd action_cmds[] = {
	{ .name = "promote", .command = CLI_PROMOTE, .min_words = 1, .max_words = 2,
	  .tag_option = "--tag", .confirm = true,
	  .usage = "usage: gantry promote [SRC] DST [--tag TAG] [--yes] [--dry-run]" },
	{ .name = "rollback", .command = CLI_ROLLBACK, .min_words = 1, .max_words = 1,
	  .tag_option = "--to", .confirm = true, .unverified = true,
	  .usage = "usage: gantry rollback ENV [--to TAG [--unverified]] [--yes] [--dry-run]" },
	{ .name = "deploy", .command = CLI_DEPLOY, .min_words = 2, .max_words = 2, .confirm = true,
	  .usage = "usage: gantry deploy ENV TAG [--yes] [--dry-run]" },
	{ .name = "attach", .command = CLI_ATTACH, .min_words = 1, .max_words = 1,
	  .usage = "usage: gantry attach ENV" },
	{ .name = "history", .command = CLI_HISTORY, .min_words = 1, .max_words = 1, .listing = true,
	  .usage = "usage: gantry history ENV [--json] [--limit N]" },
	{ .name = "freeze", .command = CLI_FREEZE, .min_words = 1, .max_words = 1, .message = true,
	  .usage = "usage: gantry freeze ENV -m REASON" },
	{ .name = "unfreeze", .command = CLI_UNFREEZE, .min_words = 1, .max_words = 1,
	  .usage = "usage: gantry unfreeze ENV" },
	{ .name = "unlock", .command = CLI_UNLOCK, .min_words = 1, .max_words = 1, .message = true,
	  .usage = "usage: gantry unlock ENV -m REASON" },
	{ .name = "check", .command = CLI_CHECK, .min_words = 0, .max_words = 1,
	  .usage = "usage: gantry check [ENV]" },
	{ .name = "adopt", .command = CLI_ADOPT, .min_words = 1, .max_words = 1, .confirm = true,
	  .usage = "usage: gantry adopt ENV [--yes] [--dry-run]" },
};

/* The value of --opt VALUE or --opt=VALUE at argv[*i]; NULL when argv[*i] is not it. */
static const char *option_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);

	*missing = false;
	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_action(const struct action_cmd *ac, int argc, char **argv, struct cli_options *opts,
    char *err, size_t errsz)
{
	const char *words[2] = { NULL, NULL };
	int nwords = 0;

	opts->command = ac->command;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		bool missing = false;

		if (ac->confirm && (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0)) {
			opts->yes = true;
		} else if (ac->confirm && (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)) {
			opts->dry_run = true;
		} else if (ac->unverified && strcmp(a, "--unverified") == 0) {
			opts->unverified = true;
		} else if (ac->listing && strcmp(a, "--json") == 0) {
			opts->json = true;
		} else if (ac->listing && ((v = option_value(argc, argv, &i, "--limit", &missing)) || missing)) {
			char *end;

			opts->limit = v ? strtol(v, &end, 10) : 0;
			if (!v || !*v || *end || opts->limit <= 0 || opts->limit > 100000) {
				snprintf(err, errsz, "%s: --limit needs a number from 1 to 100000; %s", ac->name,
				    ac->usage);
				return EXIT_USAGE;
			}
		} else if (ac->tag_option && ((v = option_value(argc, argv, &i, ac->tag_option, &missing)) ||
		    missing)) {
			if (!v || !*v) {
				snprintf(err, errsz, "%s: %s needs a tag; %s", ac->name, ac->tag_option, ac->usage);
				return EXIT_USAGE;
			}
			opts->tag = v;
		} else if (ac->message && (strcmp(a, "-m") == 0 ||
		    (v = option_value(argc, argv, &i, "--message", &missing)) || missing)) {
			if (strcmp(a, "-m") == 0)
				v = i + 1 < argc ? argv[++i] : NULL;
			if (!v || !*v) {
				snprintf(err, errsz, "%s: -m needs a reason, recorded in the history; %s",
				    ac->name, ac->usage);
				return EXIT_USAGE;
			}
			opts->message = v;
		} else if (a[0] == '-' && a[1]) {
			snprintf(err, errsz, "%s: unknown option %.40s; %s", ac->name, a, ac->usage);
			return EXIT_USAGE;
		} else if (nwords < ac->max_words) {
			words[nwords++] = a;
		} else {
			snprintf(err, errsz, "%s: unexpected argument \"%.40s\"; %s", ac->name, a, ac->usage);
			return EXIT_USAGE;
		}
	}
	if (nwords < ac->min_words) {
		snprintf(err, errsz, "%s: %s; %s", ac->name, nwords == 0 ? "which environment?" :
		    "which tag?", ac->usage);
		return EXIT_USAGE;
	}
	/* an empty word ('' from a script whose variable was unset) names nothing */
	for (int w = 0; w < nwords; w++)
		if (!words[w][0]) {
			snprintf(err, errsz, "%s: an empty %s; %s", ac->name, ac->command == CLI_DEPLOY &&
			    w == 1 ? "tag" : "environment name", ac->usage);
			return EXIT_USAGE;
		}
	if (opts->unverified && !opts->tag) {
		snprintf(err, errsz, "%s: --unverified goes with --to TAG: it allows that one tag; %s",
		    ac->name, ac->usage);
		return EXIT_USAGE;
	}
	if (ac->message && !opts->message) {
		snprintf(err, errsz, "%s: say why with -m REASON (it goes into the history); %s",
		    ac->name, ac->usage);
		return EXIT_USAGE;
	}
	if (ac->command == CLI_PROMOTE && nwords == 2) {
		opts->source = words[0];
		opts->env = words[1];
	} else {
		opts->env = words[0];
		if (ac->command == CLI_DEPLOY)
			opts->tag = words[1];
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz)
{
	enum { OPT_ASCII = 256, OPT_LIST_KEYS, OPT_LIST_CONFIG_KEYS, OPT_JSON };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "theme", required_argument, NULL, 't' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "ascii", no_argument, NULL, OPT_ASCII },
		{ "list-keys", optional_argument, NULL, OPT_LIST_KEYS },
		{ "list-config-keys", no_argument, NULL, OPT_LIST_CONFIG_KEYS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	memset(opts, 0, sizeof *opts);
	opts->command = CLI_DASHBOARD;
	optind = 1;
	opterr = 0;
	/* '+' stops at the subcommand; its own options are read in a second pass */
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
			if (optarg && strcmp(optarg, "man") != 0) {
				snprintf(err, errsz, "--list-keys takes no value or =man, not \"%s\"", optarg);
				return EXIT_USAGE;
			}
			opts->command = CLI_LIST_KEYS;
			opts->keys_man = optarg != NULL;
			break;
		case OPT_LIST_CONFIG_KEYS:
			opts->command = CLI_LIST_CONFIG_KEYS;
			break;
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
	if (wants_help(argc - optind, argv + optind, opts))
		return 0;
	if (strcmp(argv[optind], "logs") == 0)
		return parse_logs(argc - optind, argv + optind, opts, err, errsz);
	if (strcmp(argv[optind], "tags") == 0)
		return parse_tags(argc - optind, argv + optind, opts, err, errsz);
	for (size_t i = 0; i < sizeof action_cmds / sizeof *action_cmds; i++)
		if (strcmp(argv[optind], action_cmds[i].name) == 0)
			return parse_action(&action_cmds[i], argc - optind, argv + optind, opts, err, errsz);
	if (strcmp(argv[optind], "status") != 0) {
		snprintf(err, errsz, "unknown command \"%s\"; commands: status, logs, tags, promote, "
		    "rollback, deploy, attach, history, freeze, unfreeze, unlock, adopt, check",
		    argv[optind]);
		return EXIT_USAGE;
	}
	opts->command = CLI_STATUS;
	for (int i = optind + 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			opts->json = true;
		} else {
			snprintf(err, errsz, "status: unexpected argument \"%s\"; usage: gantry status [--json]",
			    argv[i]);
			return EXIT_USAGE;
		}
	}
	return 0;
}
