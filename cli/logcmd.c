/* gantry logs: an environment's app or migrator log, sanitized, on stdout. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "exitcode.h"
#include "logstream.h"
#include "xmalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct logcmd {
	struct logstream *ls;
	uint64_t printed;               /* sequence number of the last line printed */
	bool prefix;                    /* several hosts: each line says whose it is */
	bool quit;
	bool broken_pipe;
	int signo;
	char (*said)[1200];              /* per host: the last trouble written to stderr */
};

/* Prints the lines not yet printed: the host's to stdout, gantry's marks to stderr. */
static void print_new(void *arg)
{
	struct logcmd *lc = arg;
	struct logbuf *buf = lc->ls->buf;
	size_t i = buf->len ? logbuf_index_of(buf, lc->printed + 1) : 0;

	for (; i < buf->len; i++) {
		const struct log_line *l = logbuf_get(buf, i);
		const char *who = logstream_unit_name(lc->ls, l->host);

		if (l->seq <= lc->printed)
			continue;
		lc->printed = l->seq;
		if (l->kind == LOG_MARK) {
			fprintf(stderr, "gantry: %s\n", l->text);
			continue;
		}
		if (lc->prefix && (fputs_unlocked(who, stdout) == EOF ||
		    fputs_unlocked(" | ", stdout) == EOF))
			lc->broken_pipe = true;
		if (fwrite_unlocked(l->text, 1, l->len, stdout) != l->len ||
		    putc_unlocked('\n', stdout) == EOF)
			lc->broken_pipe = true;
	}
	if (fflush(stdout) == EOF)
		lc->broken_pipe = true;
	/* why a host is being retried, once per new reason */
	for (size_t h = 0; h < lc->ls->hosts_len; h++) {
		const struct logstream_host *lh = &lc->ls->hosts[h];

		if (lh->state == LS_RECONNECTING && strcmp(lh->message, lc->said[h]) != 0) {
			snprintf(lc->said[h], sizeof lc->said[h], "%s", lh->message);
			fprintf(stderr, "gantry: %s; retrying\n", lh->message);
		}
	}
}

static void on_signal(struct loop *loop, int signo, void *arg)
{
	struct logcmd *lc = arg;

	lc->quit = true;
	lc->signo = signo;
}

int cmd_logs(struct conf *conf, const struct cli_options *o)
{
	const char *env_name = o->env, *host = o->host;
	int source = o->log_source;
	bool follow = o->follow;
	const struct conf_env *env = conf_env_by_name(conf, env_name);
	const struct target *t;
	size_t *units;
	struct logcmd lc = { 0 };
	struct app *app;
	size_t n = 0;
	int code;

	if (!env) {
		fprintf(stderr, "gantry: logs: no environment \"%s\" in %s; environments:", env_name, conf->path);
		for (size_t i = 0; i < conf->envs_len; i++)
			fprintf(stderr, " %s", conf->envs[i].name);
		fputc('\n', stderr);
		conf_free(conf);
		return EXIT_USAGE;
	}
	if (env->hosts_len == 0) {
		fprintf(stderr, "gantry: logs: %s has no hosts; add hosts: and deploy_dir: to it in %s "
		    "(see gantry.yml(5))\n", env->name, conf->path);
		conf_free(conf);
		return EXIT_CONFIG;
	}
	app = app_new(conf);
	t = app_target(app, env);
	units = xcalloc(env->hosts_len, sizeof *units);
	for (size_t j = 0; j < env->hosts_len; j++) {
		const struct conf_host *h = &env->hosts[j];

		const char *at = strchr(h->address, '@');

		if (!host || strcmp(host, h->address) == 0 || strcmp(host, h->host) == 0 ||
		    (at && strcmp(host, at + 1) == 0))
			units[n++] = j;
	}
	if (n == 0) {
		fprintf(stderr, "gantry: logs: %s has no host \"%s\"; its hosts:", env->name, host);
		for (size_t j = 0; j < env->hosts_len; j++)
			fprintf(stderr, " %s", env->hosts[j].address);
		fputc('\n', stderr);
		free(units);
		app_free(app);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a million lines a second: one write per 64 KiB, not per stdio buffer */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	loop_signal(app->loop, SIGINT, on_signal, &lc);
	loop_signal(app->loop, SIGTERM, on_signal, &lc);
	loop_signal(app->loop, SIGHUP, on_signal, &lc);
	lc.prefix = n > 1;
	lc.said = xcalloc(n, sizeof *lc.said);
	lc.ls = logstream_new(t, units, n, (enum log_source)source, follow);
	logstream_set_listener(lc.ls, print_new, &lc);
	while (!lc.quit && !lc.broken_pipe && !logstream_done(lc.ls))
		loop_run_once(app->loop, 1000);
	print_new(&lc);
	code = EXIT_OK;
	if (lc.quit) {
		code = 128 + lc.signo;
	} else if (!lc.broken_pipe) {
		for (size_t i = 0; i < n; i++) {
			const struct logstream_host *lh = &lc.ls->hosts[i];

			if (lh->exit_status == -1 && lh->message[0]) {
				fprintf(stderr, "gantry: %s\n", lh->message);
				code = EXIT_REMOTE;
			} else if (lh->exit_status != 0) {
				fprintf(stderr, "gantry: %s: the log command exited with status %d: %s\n",
				    logstream_unit_name(lc.ls, i), lh->exit_status,
				    env->logs[source]);
				code = EXIT_REMOTE;
			}
		}
	}
	/* the log commands stop before the sessions go: their channels close, and the runner
	 * on each host ends the command's whole process group */
	logstream_free(lc.ls);
	loop_run_once(app->loop, 0);
	free(units);
	free(lc.said);
	app_free(app);
	return code;
}
