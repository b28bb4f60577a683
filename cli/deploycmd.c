/* The command line's write actions and their readers: promote, rollback, deploy,
 * attach, history, freeze, unfreeze, unlock. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "deploy.h"
#include "admin.h"
#include "hostread.h"
#include "exitcode.h"
#include "outbuf.h"
#include "rolloutcmd.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct deploycmd {
	struct app *app;
	const struct cli_options *opts;
	struct deploy *deploy;
	bool quit, stop;
	int signo;
	size_t host_printed;            /* the host of the last header printed */
	size_t wave_printed;            /* the wave of the last wave header printed */
	char cancel_printed[40];
	/* an operator's answer at a pause, read in the loop (a beat never waits for it) */
	char answer[64];
	size_t answer_len;
	bool answered, answer_eof;
	bool left_paused;               /* paused with nobody to ask: left under its lease */
	int intent;                     /* rollout resume|abort: what to do at the first pause */
};

static void on_signal(struct loop *loop, int signo, void *arg)
{
	struct deploycmd *dc = arg;

	dc->quit = true;
	dc->signo = signo;
}

static void print_plan(const struct deploy_info *i)
{
	size_t n = 0;

	if (i->kind == DEPLOY_ADOPT) {
		printf("adopt %s: record %s, which it runs, as its baseline\n", i->env, i->tag);
		printf("  app       %s\n", i->app_image[0] ? i->app_image : i->app_digest);
		printf("  checked   its app is ready and reports %s; every host's %s names it\n",
		    i->tag, i->config);
		printf("  written   one \"adopt\" record in the history of each of its %zu host%s\n",
		    i->hosts_len, i->hosts_len == 1 ? "" : "s");
		for (size_t k = 0; k < i->verdict.warnings_len; k++)
			printf("  ! %s\n", i->verdict.warnings[k]);
		fflush(stdout);
		return;
	}
	if (i->kind == DEPLOY_PROMOTE)
		printf("promote %s from %s to %s\n", i->tag, i->source, i->env);
	else
		printf("%s %s to %s\n", i->action, i->env, i->tag);
	if (i->kind == DEPLOY_PROMOTE) {
		printf("  source    %s: its app reports %s, its %s names %s\n", i->source,
		    i->source_version[0] ? i->source_version : "no version", i->config,
		    i->source_env_tag[0] ? i->source_env_tag : "nothing");
		if (i->chosen[0])
			printf("  chosen    %s\n", i->chosen);
	}
	if (i->proven[0] && !i->attached)
		printf("  proven    %s\n", i->proven);
	printf("  app       %s\n", i->app_image);
	printf("  migrator  %s\n", i->migrator_image);
	if (i->still_runs[0])
		printf("  now       %s (%s names %s, whose run stopped before the switch)\n",
		    i->still_runs, i->config, i->current);
	else if (i->current[0])
		printf("  now       %s\n", i->current);
	else
		printf("  now       (no %s yet)\n", i->config);
	if (i->adopting[0])
		printf("  adopt     %s has no run recorded: %s, which its app reports ready, is recorded "
		    "first as its baseline\n", i->env, i->adopting);
	if (i->rollback_tag[0])
		printf("  rollback  automatic, to %s, if ready or a smoke check fails\n", i->rollback_tag);
	else if (i->emergency)
		printf("  rollback  none: a host that fails stays where it is, and the run says so\n");
	else
		printf("  rollback  by hand (`gantry rollback %s`) if it fails\n", i->env);
	if (i->retag[0])
		printf("  retag     %s moved to %s in the registry once every host is ready\n", i->retag,
		    i->tag);
	if (i->waves)
		printf("  waves     %zu: %s\n", i->waves, i->waves_plan);
	if (i->emergency)
		printf("  EMERGENCY every one of its %zu host%s at once, whatever its waves; reason: %s\n",
		    i->hosts_len, i->hosts_len == 1 ? "" : "s", i->reason);
	printf("  steps on %s%s:\n", i->host, i->hosts_len > 1 ? " (then each other host)" : "");
	for (size_t k = 0; k < i->steps_len; k++) {
		if (i->steps[k].rollback)
			continue;
		printf("  %2zu. %-22s %s%s\n", ++n, i->steps[k].name, i->steps[k].command,
		    i->steps[k].switch_point ? "   [switch: no cancel from here]" : "");
	}
	for (size_t k = 0; k < i->verdict.warnings_len; k++)
		printf("  ! %s\n", i->verdict.warnings[k]);
	fflush(stdout);
}

/* One line of a run's output: the runner's "==> " lines as headers, the steps' lines
 * indented; with hosts running at once, each line names its host. (State comes from the
 * events; this is the transcript.) */
static void print_output(const struct deploy_info *i, const struct bus_event *ev)
{
	const char *t = ev->text;
	char phase[16], host[220] = "";
	int no, of, rc, n;
	long long ms;

	if (i->parallel > 1 && i->hosts_len > 1)
		snprintf(host, sizeof host, "[%s] ", ev->host_name);
	if (strncmp(t, UNIT_NOTE, strlen(UNIT_NOTE)) != 0) {
		printf("%s      | %s\n", host, t);
	} else if (sscanf(t, UNIT_NOTE "[%15[a-z] %d/%d] %n", phase, &no, &of, &n) == 3 &&
	    n > 0) {
		printf("%s%s[%d/%d] %s\n", host, strcmp(phase, "rollback") == 0 ? "rollback " : "", no,
		    of, t + n);
	} else if (sscanf(t, UNIT_NOTE_STEP_EXIT "%d after %lld ms", &rc, &ms) == 2) {
		if (rc == 0)
			printf("%s      ok in %.1fs\n", host, (double)ms / 1000.0);
		else
			printf("%s      %s (exit %d) in %.1fs\n", host, rc == UNIT_EXIT_TIMEOUT ?
			    "timed out" : "failed", rc, (double)ms / 1000.0);
	} else if (strncmp(t, UNIT_NOTE_RUN, strlen(UNIT_NOTE_RUN)) != 0) {
		printf("%s%s\n", host, t + strlen(UNIT_NOTE));
	}
}

/* The printer: a listener on the bus, for this command's deploy. */
static void heard(void *arg, const struct bus_event *ev)
{
	struct deploycmd *dc = arg;
	const struct deploy_info *i;

	if (!dc->deploy || ev->deploy != dc->deploy)
		return;
	i = deploy_info(dc->deploy);
	switch (ev->kind) {
	case BUS_PLANNED:
		print_plan(i);
		break;
	case BUS_STARTED:
		if (i->waves && ev->host < i->hosts_len && i->hosts[ev->host].wave != dc->wave_printed &&
		    !i->fleet_rollback) {
			dc->wave_printed = i->hosts[ev->host].wave;
			printf("== wave %zu of %zu\n", dc->wave_printed, i->waves);
		}
		/* one after another: a header when the run moves to another host */
		if (i->parallel <= 1 && ev->host != dc->host_printed)
			printf("== host %zu of %zu: %s\n", ev->host + 1, i->hosts_len, ev->host_name);
		dc->host_printed = ev->host;
		break;
	case BUS_OUTPUT:
		print_output(i, ev);
		break;
	case BUS_CANCEL:
		if (strcmp(ev->text, dc->cancel_printed) != 0)
			printf("cancel %s\n", ev->text);
		snprintf(dc->cancel_printed, sizeof dc->cancel_printed, "%s", ev->text);
		break;
	case BUS_LINK:
		fprintf(stderr, "gantry: %s\n", ev->text);
		break;
	case BUS_RESUMED:
		printf("== resumed\n");
		break;
	case BUS_ABORTED:
		printf("== aborted: no other host starts; every host that took %s goes back\n", i->tag);
		break;
	default:
		break;
	}
	fflush(stdout);
}

static int refused(const struct deploy_info *i)
{
	const char *p = i->verdict.refusal;

	while (*p) {
		size_t n = strcspn(p, "\n");

		fprintf(stderr, "gantry: refused: %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	return EXIT_REFUSED;
}

/* Runs the loop until the deploy reaches a phase in `until` (a bitmask), pauses, or a
 * signal comes. */
static void wait_phase(struct deploycmd *dc, unsigned until)
{
	while (!dc->quit && !(until & (1u << deploy_info(dc->deploy)->phase)) &&
	    !deploy_info(dc->deploy)->paused)
		loop_run_once(dc->app->loop, 1000);
}

/* A line typed at the prompt, read when the terminal has one (the loop goes on meanwhile:
 * the rollout's driver keeps beating, requests from elsewhere are heard). */
static void typed(struct loop *loop, int fd, int revents, void *arg)
{
	struct deploycmd *dc = arg;
	char c;
	ssize_t n;

	(void)loop;
	(void)revents;
	while ((n = read(fd, &c, 1)) == 1) {
		if (c == '\n') {
			dc->answered = true;
			return;
		}
		if (dc->answer_len + 1 < sizeof dc->answer)
			dc->answer[dc->answer_len++] = c;
		dc->answer[dc->answer_len] = '\0';
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		dc->answered = dc->answer_eof = true;
		loop_unwatch(dc->app->loop, fd);
	}
}

/* Nobody to ask: the rollout stays paused under its lease, and this gantry lets it go so
 * that any other can decide at once. */
static void leave_paused(struct deploycmd *dc, const struct deploy_info *i, const char *why)
{
	bool done = false;
	int64_t until = loop_clock_ms() + 5000;

	printf("== %s: the rollout stays paused under its lease; `gantry rollout resume %s` or "
	    "`gantry rollout abort %s`, from any gantry, decides\n", why, i->env, i->env);
	fflush(stdout);
	if (deploy_leave(dc->deploy, &done))
		while (!done && !dc->quit && loop_clock_ms() < until)
			loop_run_once(dc->app->loop, 200);
	dc->left_paused = true;
}

/* A rollout paused at a wave's gate: its operator says, on the terminal, whether it goes
 * on. Without a terminal (or when it says nothing), it stays paused for whoever decides
 * next. An operator elsewhere may resume or abort it meanwhile: then it goes on. */
static void ask_paused(struct deploycmd *dc, const struct deploy_info *i)
{
	char why[300];
	int fl;

	printf("== paused: %s\n", i->paused_why);
	fflush(stdout);
	if (dc->intent) {
		int intent = dc->intent;

		dc->intent = 0;
		if (intent == ROLLOUT_RESUME && deploy_resume(dc->deploy))
			return;
		if (intent == ROLLOUT_ABORT && deploy_abort(dc->deploy, why, sizeof why))
			return;
		if (intent == ROLLOUT_ABORT) {
			fprintf(stderr, "gantry: not aborted: %s\n", why);
			leave_paused(dc, i, "not aborted");
			return;
		}
	}
	if (!isatty(STDIN_FILENO)) {
		leave_paused(dc, i, "no terminal to ask whether it goes on");
		return;
	}
	fl = fcntl(STDIN_FILENO, F_GETFL);
	fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	loop_watch(dc->app->loop, STDIN_FILENO, POLLIN, typed, dc);
	for (;;) {
		printf("resume (the failed hosts stay as they are) or abort (every host that took "
		    "%s goes back)? [resume/abort] ", i->tag);
		fflush(stdout);
		dc->answered = false;
		dc->answer_len = 0;
		dc->answer[0] = '\0';
		while (!dc->answered && !dc->quit && i->paused)
			loop_run_once(dc->app->loop, 1000);
		if (!i->paused) {
			printf("\n== %s\n", i->status);        /* decided elsewhere */
			break;
		}
		if (dc->quit)
			break;
		if (dc->answer_eof) {
			leave_paused(dc, i, "no answer");
			break;
		}
		if (strncmp(dc->answer, "r", 1) == 0 && deploy_resume(dc->deploy))
			break;
		if (strncmp(dc->answer, "a", 1) == 0) {
			if (deploy_abort(dc->deploy, why, sizeof why))
				break;
			fprintf(stderr, "gantry: not aborted: %s\n", why);
		}
	}
	if (!dc->answer_eof)
		loop_unwatch(dc->app->loop, STDIN_FILENO);
	fcntl(STDIN_FILENO, F_SETFL, fl);
}

/* A plan confirmed as the command line says (started), or not: the exit status, or -1
 * when it started. */
static int confirm(struct deploycmd *dc, const struct deploy_info *i)
{
	const struct cli_options *o = dc->opts;

	if (o->dry_run) {
		printf("dry run: nothing was started\n");
		return EXIT_OK;
	}
	if (i->unverified && !o->yes) {
		fprintf(stderr, "gantry: refused: %s never ran healthy on %s; --unverified --yes "
		    "confirms rolling back to it anyway\n", i->tag, i->env);
		return EXIT_REFUSED;
	}
	if (i->emergency && !o->yes) {
		fprintf(stderr, "gantry: refused: an emergency rollback of %s is confirmed with "
		    "--yes\n", i->env);
		return EXIT_REFUSED;
	}
	if (i->protected_env && !o->yes) {
		fprintf(stderr, "gantry: refused: %s is protected: run again with --yes (and the "
		    "environment named, as here) to confirm\n", i->env);
		return EXIT_REFUSED;
	}
	deploy_confirm(dc->deploy);
	return -1;
}

/* The run over: how it ended, and the exit status that says so. */
static int ended(const struct deploy_info *i, int64_t t0)
{
	bool known;
	int64_t took;

	if (i->phase == DEPLOY_REFUSED)
		return refused(i);
	/* the run's own duration, from the host's records (an attach may join late) */
	took = deploy_run_ms(i, &known);
	if (!known)
		took = loop_clock_ms() - t0;
	printf("%s: %s %s: %s (%.1fs)\n", i->env, i->action, i->tag, run_result_name(i->result),
	    (double)took / 1000.0);
	if (i->status[0] && strcmp(i->status, run_result_name(i->result)) != 0)
		printf("%s\n", i->status);
	if (!run_result_healthy(i->result))
		return EXIT_FAILED;
	if (i->retag_error[0]) {
		fprintf(stderr, "gantry: %s runs %s, but %s was not moved in the registry: %s\n", i->env,
		    i->tag, i->retag, i->retag_error);
		return EXIT_REGISTRY;
	}
	return EXIT_OK;
}

static int run_deploy(struct deploycmd *dc, const struct conf_env *env)
{
	const struct cli_options *o = dc->opts;
	const struct deploy_info *i;
	struct deploy_ctx ctx;
	int64_t t0;
	int code;

	app_deploy_ctx(dc->app, &ctx);
	if (o->command == CLI_ATTACH || (o->command == CLI_ROLLOUT && o->rollout != ROLLOUT_START)) {
		dc->deploy = deploy_attach(&ctx, env, NULL, dc);
	} else {
		struct deploy_request req = {
			.kind = o->command == CLI_PROMOTE || o->command == CLI_ROLLOUT ? DEPLOY_PROMOTE :
			    o->command == CLI_ROLLBACK || o->command == CLI_EMERGENCY ? DEPLOY_ROLLBACK :
			    o->command == CLI_ADOPT ? DEPLOY_ADOPT : DEPLOY_DEPLOY,
			.target = env, .tag = o->tag, .unverified = o->unverified,
			.emergency = o->command == CLI_EMERGENCY ? o->message : NULL,
		};

		if (o->source && !(req.source = conf_env_by_name(dc->app->conf, o->source))) {
			fprintf(stderr, "gantry: no environment \"%s\" in %s\n", o->source, dc->app->conf->path);
			return EXIT_USAGE;
		}
		dc->deploy = deploy_new(&ctx, &req, NULL, dc);
	}
	wait_phase(dc, 1u << DEPLOY_PLANNED | 1u << DEPLOY_REFUSED | 1u << DEPLOY_RUNNING |
	    1u << DEPLOY_DONE);
	i = deploy_info(dc->deploy);
	if (dc->quit)
		return 128 + dc->signo;
	if (i->phase == DEPLOY_REFUSED)
		return refused(i);
	if (i->carried)
		printf("carrying on run %s (%s %s by %s): it was left unfinished; the hosts not "
		    "reached start from the plan its lease keeps\n", i->run_id, i->action, i->tag,
		    i->operator[0] ? i->operator : "someone");
	if (i->phase == DEPLOY_PLANNED && (code = confirm(dc, i)) >= 0)
		return code;
	t0 = loop_clock_ms();
	if (dc->intent == ROLLOUT_ABORT && i->phase == DEPLOY_RUNNING && !i->paused) {
		char why[300];

		/* carried on while a wave runs: those running end, then every moved host goes back */
		dc->intent = 0;
		if (!deploy_abort(dc->deploy, why, sizeof why))
			fprintf(stderr, "gantry: not aborted: %s\n", why);
	}
	for (;;) {
		wait_phase(dc, 1u << DEPLOY_REFUSED | 1u << DEPLOY_DONE);
		if (dc->quit || !i->paused)
			break;
		ask_paused(dc, i);
		if (dc->left_paused)
			return EXIT_PAUSED;
	}
	if (dc->quit) {
		if (i->hosts_len > 1 && i->phase == DEPLOY_RUNNING)
			fprintf(stderr, "gantry: stopped following; the run is %s's: each host's run goes "
			    "on there, and the hosts not reached wait under its lease until `gantry attach "
			    "%s` carries it on\n", i->env, i->env);
		else
			fprintf(stderr, "gantry: stopped following; the run goes on on %s: `gantry attach "
			    "%s` shows it\n", i->host, i->env);
		return 128 + dc->signo;
	}
	return ended(i, t0);
}

/* ---- one command on one host, waited for ---- */

struct hostcall {
	struct outbuf out, err;         /* stdout: the runner's answer; stderr: what else spoke
	                                   (a login shell's noise), shown only when out is empty */
	bool done;
	enum unit_end how;
	int status;
	char message[300];
};

static void hostrun_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct hostcall *hr = arg;

	outbuf_add(is_stderr ? &hr->err : &hr->out, data, len, HOSTSTATE_MAX_BYTES);
}

static void hostrun_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct hostcall *hr = arg;

	hr->done = true;
	hr->how = how;
	hr->status = status;
	snprintf(hr->message, sizeof hr->message, "%s", message ? message : "");
}

static const struct unit_cmd_ops hostcall_ops = {
	.output = hostrun_output, .done = hostrun_done, .bounded = true,
};

/* Waits for command c (run with hostcall_ops) on host j. */
static bool host_wait(struct deploycmd *dc, const struct conf_env *env, size_t j,
    struct unit_cmd *c, struct hostcall *hr)
{
	while (!hr->done && !dc->quit)
		loop_run_once(dc->app->loop, 1000);
	if (!hr->done) {
		unit_cmd_stop(c);
		return false;
	}
	if (hr->how != UNIT_EXITED) {
		fprintf(stderr, "gantry: %s: %s\n", env->hosts[j].address,
		    hr->message[0] ? hr->message : "the link dropped");
		return false;
	}
	return true;
}

/* ---- freeze, unfreeze, unlock: on every host, each recorded in its history ---- */

static int host_admin(struct deploycmd *dc, const struct conf_env *env)
{
	const struct cli_options *o = dc->opts;
	const char *kind = o->command == CLI_FREEZE ? "freeze" : o->command == CLI_UNFREEZE ?
	    "unfreeze" : "unlock";
	enum unit_admin action = o->command == CLI_FREEZE ? ADMIN_FREEZE :
	    o->command == CLI_UNFREEZE ? ADMIN_UNFREEZE : ADMIN_UNLOCK;
	const struct target *t = app_target(dc->app, env);
	int64_t at = (int64_t)time(NULL);       /* one note, the same on every host */
	char reason[200];
	int code = EXIT_OK;

	admin_reason(o->message, reason, sizeof reason);
	for (size_t j = 0; j < env->hosts_len && !dc->quit; j++) {
		struct hostcall hr = { 0 };
		char first[200] = "";
		struct unit_cmd *c = t->ops->admin(t, j, action, dc->app->operator, o->message, at,
		    &hostcall_ops, &hr);

		if (!host_wait(dc, env, j, c, &hr)) {
			code = EXIT_REMOTE;
		} else {
			const char *said = hr.out.len ? outbuf_text(&hr.out) : outbuf_text(&hr.err);

			sanitize_text(said, strcspn(said, "\n"), first, sizeof first, 0);
			if (hr.status == UNIT_EXIT_NOT_NEEDED) {
				printf("%s: %s\n", env->hosts[j].address, first);
			} else if (hr.status != 0) {
				fprintf(stderr, "gantry: %s: %s failed (exit %d)%s%s\n", env->hosts[j].address,
				    kind, hr.status, first[0] ? ": " : "", first);
				code = hr.status == UNIT_EXIT_ALIVE || hr.status == UNIT_EXIT_UNSAFE ?
				    EXIT_REFUSED : EXIT_REMOTE;
			} else {
				admin_emit(dc->app->bus, action, env->name, j, env->hosts[j].address,
				    dc->app->operator, reason);
				printf("%s: %s%s%s\n", env->hosts[j].address,
				    o->command == CLI_FREEZE ? "frozen: deploys and promotions are refused until "
				    "`gantry unfreeze` (rollbacks stay allowed)" : o->command == CLI_UNFREEZE ?
				    "unfrozen" : "lock broken", o->command == CLI_UNLOCK && first[0] ?
				    "; it was: " : "", o->command == CLI_UNLOCK ? first : "");
			}
		}
		outbuf_clear(&hr.out);
		outbuf_clear(&hr.err);
	}
	return dc->quit ? 128 + dc->signo : code;
}

/* ---- rollout status, pause, resume, abort ---- */

struct first_read {
	bool done;
	bool ok;
	struct host_state st;
	char why[300];
};

static void first_read_done(void *arg, struct host_state *st, const char *why)
{
	struct first_read *f = arg;

	f->done = true;
	if (st) {
		f->st = *st;
		memset(st, 0, sizeof *st);
		f->ok = true;
	} else {
		snprintf(f->why, sizeof f->why, "%s", why ? why : "not read");
	}
}

/* The first unit's state now (where the driver and the requests are kept). */
static bool read_first(struct deploycmd *dc, const struct target *t, struct first_read *f)
{
	struct unit_cmd *c;

	memset(f, 0, sizeof *f);
	c = t->ops->state(t, 0, true, first_read_done, f);
	while (c && !f->done && !dc->quit)
		loop_run_once(dc->app->loop, 1000);
	if (c && !f->done)
		unit_cmd_stop(c);
	return f->ok;
}

/* Leaves the request with the live driver and waits for its answer: the exit status, or
 * -1 when the driver went quiet without answering (resume and abort then carry the
 * rollout on here). */
static int ask_driver(struct deploycmd *dc, const struct conf_env *env, struct rollout_read *r,
    enum drive_ask what)
{
	const struct target *t = app_target(dc->app, env);
	const struct cli_options *o = dc->opts;
	struct drive_request req = { .ask = what };
	struct deploy_ctx ctx;
	struct hostcall hc = { 0 };
	struct unit_cmd *c;
	int64_t until;
	char driver[128], answer[200];

	app_deploy_ctx(dc->app, &ctx);
	drive_new_token(req.id, sizeof req.id);
	snprintf(req.by, sizeof req.by, "%s", ctx.operator ? ctx.operator : "");
	snprintf(req.why, sizeof req.why, "%s", o->message ? o->message : "");
	snprintf(driver, sizeof driver, "%s", r->st.driver.by[0] ? r->st.driver.by : "someone");
	c = t->ops->ask(t, 0, r->st.lease.id, &req, &hostcall_ops, &hc);
	if (!host_wait(dc, env, 0, c, &hc)) {
		outbuf_clear(&hc.out);
		outbuf_clear(&hc.err);
		return dc->quit ? 128 + dc->signo : EXIT_REMOTE;
	}
	{
		const char *said = outbuf_text(&hc.out);
		size_t n = strcspn(said, "\n");

		sanitize_text(said, n, answer, sizeof answer, 0);
	}
	outbuf_clear(&hc.out);
	outbuf_clear(&hc.err);
	if (hc.status == UNIT_EXIT_NOT_NEEDED) {
		fprintf(stderr, "gantry: refused: run %s no longer holds %s: the rollout ended meanwhile\n",
		    r->st.lease.id, env->hosts[0].address);
		return EXIT_REFUSED;
	}
	if (hc.status != 0) {
		fprintf(stderr, "gantry: the request could not be left on %s (exit %d%s%s)\n",
		    env->hosts[0].address, hc.status, answer[0] ? ": " : "", answer);
		return EXIT_REMOTE;
	}
	printf("asked %s's gantry, which drives run %s, to %s; waiting for its answer\n", driver,
	    r->st.lease.id, drive_ask_name(what));
	fflush(stdout);
	until = loop_clock_ms() + (r->st.driver.stale_s + 10) * 1000;
	while (!dc->quit && loop_clock_ms() < until) {
		struct first_read f;
		bool answered, live;

		if (!read_first(dc, t, &f)) {
			loop_run_once(dc->app->loop, 1000);
			continue;
		}
		answered = !f.st.request.present || strcmp(f.st.request.id, req.id) != 0;
		live = drive_live(&f.st.driver, f.st.host_now);
		hoststate_free(&f.st);
		if (answered) {
			char why[600];

			printf("%s's gantry answered\n", driver);
			rollout_read_free(r);
			if (!rollout_read(dc->app, env, &dc->quit, r, why, sizeof why)) {
				fprintf(stderr, "gantry: %s\n", why);
				return EXIT_REMOTE;
			}
			rollout_print(stdout, env, r, false);
			return EXIT_OK;
		}
		if (!live)
			break;
		loop_run_once(dc->app->loop, 1000);
	}
	if (dc->quit)
		return 128 + dc->signo;
	printf("%s's gantry went quiet without answering: nothing drives run %s now\n", driver,
	    r->st.lease.id);
	return -1;
}

static int rollout_control(struct deploycmd *dc, const struct conf_env *env)
{
	const struct cli_options *o = dc->opts;
	enum drive_ask what = o->rollout == ROLLOUT_PAUSE ? DRIVE_ASK_PAUSE :
	    o->rollout == ROLLOUT_RESUME ? DRIVE_ASK_RESUME : DRIVE_ASK_ABORT;
	struct rollout_read r;
	char why[700];
	int code;

	if (!rollout_read(dc->app, env, &dc->quit, &r, why, sizeof why)) {
		fprintf(stderr, "gantry: %s\n", why);
		return dc->quit ? 128 + dc->signo : EXIT_REMOTE;
	}
	if (o->rollout == ROLLOUT_STATUS) {
		rollout_print(stdout, env, &r, o->json);
		rollout_read_free(&r);
		return EXIT_OK;
	}
	if (!r.st.active) {
		fprintf(stderr, "gantry: refused: no rollout in waves holds %s%s%s%s: nothing to %s\n",
		    env->name, r.st.problem[0] ? " (" : "", r.st.problem, r.st.problem[0] ? ")" : "",
		    drive_ask_name(what));
		rollout_read_free(&r);
		return EXIT_REFUSED;
	}
	if (r.st.driven && (code = ask_driver(dc, env, &r, what)) >= 0) {
		rollout_read_free(&r);
		return code;
	}
	if (what == DRIVE_ASK_PAUSE) {
		printf("%s: no gantry drives run %s, so nothing starts: it stands as it was left, in "
		    "wave %zu of %zu; `gantry rollout resume %s` or `gantry rollout abort %s` decides\n",
		    env->name, r.st.lease.id, r.st.wave, r.st.lease.waves.len, env->name, env->name);
		rollout_read_free(&r);
		return EXIT_OK;
	}
	rollout_read_free(&r);
	/* nobody drives it: this gantry carries it on, and resumes or aborts it */
	dc->intent = o->rollout;
	return run_deploy(dc, env);
}

int cmd_action(struct conf *conf, const struct cli_options *opts)
{
	const struct conf_env *env = conf_env_by_name(conf, opts->env);
	struct deploycmd dc = { .opts = opts };
	bool writes = opts->command != CLI_HISTORY && opts->command != CLI_ATTACH &&
	    !(opts->command == CLI_ROLLOUT && opts->rollout == ROLLOUT_STATUS);
	int code;

	if (!env) {
		fprintf(stderr, "gantry: no environment \"%s\" in %s; environments:", opts->env, conf->path);
		for (size_t i = 0; i < conf->envs_len; i++)
			fprintf(stderr, " %s", conf->envs[i].name);
		fputc('\n', stderr);
		conf_free(conf);
		return EXIT_USAGE;
	}
	if (writes && (opts->read_only || conf->read_only) && !opts->dry_run) {
		fprintf(stderr, "gantry: refused: read-only mode (%s): nothing can be changed from this "
		    "gantry\n", opts->read_only ? "--read-only" : "read_only: true in the configuration");
		conf_free(conf);
		return EXIT_REFUSED;
	}
	if (!env->hosts_len) {
		fprintf(stderr, "gantry: %s has no hosts; add hosts: and deploy_dir: to it in %s "
		    "(see gantry.yml(5))\n", env->name, conf->path);
		conf_free(conf);
		return EXIT_CONFIG;
	}
	signal(SIGPIPE, SIG_IGN);
	dc.app = app_new(conf);
	loop_signal(dc.app->loop, SIGINT, on_signal, &dc);
	loop_signal(dc.app->loop, SIGTERM, on_signal, &dc);
	loop_signal(dc.app->loop, SIGHUP, on_signal, &dc);
	bus_listen(dc.app->bus, BUS_ALL, heard, &dc);
	switch (opts->command) {
	case CLI_HISTORY:
		code = history_print(dc.app, env, opts, &dc.quit);
		if (code < 0)
			code = 128 + dc.signo;
		break;
	case CLI_FREEZE:
	case CLI_UNFREEZE:
	case CLI_UNLOCK:
		code = host_admin(&dc, env);
		break;
	case CLI_ROLLOUT:
		code = opts->rollout == ROLLOUT_START ? run_deploy(&dc, env) : rollout_control(&dc, env);
		break;
	default:
		code = run_deploy(&dc, env);
		break;
	}
	deploy_free(dc.deploy);
	loop_run_once(dc.app->loop, 0);
	app_free(dc.app);
	return code;
}
