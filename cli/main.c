/* gantry's entry point: the command line, then a subcommand or the dashboard. */
#include "config.h"

#include "action.h"
#include "app.h"
#include "cli.h"
#include "commands.h"
#include "exitcode.h"
#include "theme.h"
#include "ui.h"

#include <curl/curl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* One fd per connection: allow as many as the hard limit permits, up to 8192. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The configuration, with --read-only folded in: read_only then holds for every part of
 * gantry (the hosts' known_hosts included), whichever way it was asked for. */
static struct conf *load_conf(const struct cli_options *opts)
{
	struct conf *conf = app_load_conf(opts->config_path, stderr);

	if (conf && opts->read_only)
		conf->read_only = true;
	return conf;
}

/* Loads the theme named by the command line, else by the configuration. */
static bool load_theme(const struct cli_options *opts, const struct conf *conf, struct theme *theme)
{
	struct schema_errors errs = { 0 };
	const char *name = opts->theme ? opts->theme : conf->theme;
	bool ok = theme_load(name, theme, &errs);

	if (!ok) {
		schema_errors_print(&errs, stderr);
		fprintf(stderr, "gantry: the theme has errors; nothing was started (see gantry(1), THEMES)\n");
	}
	schema_errors_free(&errs);
	return ok;
}

/* The dashboard: configuration and theme checked before the terminal is touched. */
static int run_dashboard(const struct cli_options *opts)
{
	struct conf *conf = load_conf(opts);
	struct ui_options ui_opts = { .read_only = opts->read_only, .ascii = opts->ascii };
	struct theme theme;
	struct app *app;
	int code;

	if (!conf)
		return EXIT_CONFIG;
	if (!load_theme(opts, conf, &theme)) {
		conf_free(conf);
		return EXIT_CONFIG;
	}
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		ui_opts.ascii = true;
	app = app_new(conf);
	code = ui_run(app, &theme, &ui_opts);
	app_free(app);
	theme_clear(&theme);
	return code;
}

/* --complete: the configuration, when one is found, gives the environments and tags;
 * nothing is printed on stderr, whatever is wrong with it. */
static int complete(const struct cli_options *opts)
{
	FILE *null = fopen("/dev/null", "w");
	const char *path = opts->config_path;
	struct conf *conf;

	/* a --config among the words being completed counts too */
	for (int i = 0; i + 1 < opts->complete_len; i++) {
		const char *w = opts->complete[i];

		if ((strcmp(w, "-c") == 0 || strcmp(w, "--config") == 0) && i + 2 < opts->complete_len)
			path = opts->complete[i + 1];
		else if (strncmp(w, "--config=", 9) == 0)
			path = w + 9;
	}
	conf = app_load_conf(path, null ? null : stderr);

	if (null)
		fclose(null);
	cli_complete(stdout, opts->complete, opts->complete_len, conf, cmd_complete_tags);
	conf_free(conf);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli_options opts;
	const struct cli_cmd *cmd;
	char err[256];
	struct conf *conf;
	int code;

	setlocale(LC_ALL, "");
	code = cli_parse(argc, argv, &opts, err, sizeof err);
	if (code) {
		fprintf(stderr, "gantry: %s\n", err);
		return code;
	}
	switch (opts.command) {
	case CLI_HELP:
		cli_usage(stdout);
		return EXIT_OK;
	case CLI_COMMAND_HELP:
		cli_command_help(stdout, opts.help_for);
		return EXIT_OK;
	case CLI_VERSION:
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return EXIT_OK;
	case CLI_LIST_KEYS:
		action_print_keys(stdout, opts.man);
		return EXIT_OK;
	case CLI_LIST_CONFIG_KEYS:
		conf_print_keys(stdout);
		return EXIT_OK;
	case CLI_LIST_COMMANDS:
		cli_list_commands(stdout, opts.man);
		return EXIT_OK;
	default:
		break;
	}
	raise_fd_limit();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cmd = cli_cmd_of(opts.command);
	if (opts.command == CLI_COMPLETE) {
		code = complete(&opts);
	} else if (cmd) {
		conf = load_conf(&opts);
		code = conf ? cmd->run(conf, &opts) : EXIT_CONFIG;
	} else {
		code = run_dashboard(&opts);
	}
	curl_global_cleanup();
	return code;
}
