/* gantry's entry point: the command line, then a subcommand or the dashboard. */
#include "config.h"

#include "app.h"
#include "cli.h"
#include "exitcode.h"

#include <curl/curl.h>
#include <locale.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct cli_options opts;
	char err[256];
	struct conf *conf;
	int code;

	setlocale(LC_ALL, "");
	code = cli_parse(argc, argv, &opts, err, sizeof err);
	if (code) {
		fprintf(stderr, "gantry: %s\n", err);
		return code;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	conf = app_load_conf(opts.config_path, stderr);
	if (!conf)
		return EXIT_CONFIG;
	code = app_status(conf, opts.json);
	curl_global_cleanup();
	return code;
}
