/* The command line: options and subcommands, parsed without side effects. */
#include "config.h"

#include "cli.h"
#include "exitcode.h"

#include <getopt.h>
#include <string.h>

void cli_usage(FILE *out)
{
	fputs("Usage: gantry [OPTION]...            open the dashboard\n"
	    "       gantry [OPTION]... status [--json]   print every environment's state once\n"
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
	if (strcmp(argv[optind], "status") != 0) {
		snprintf(err, errsz, "unknown command \"%s\"; commands: status", argv[optind]);
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
