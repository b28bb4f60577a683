/* gantry check on one host of compose over SSH. The first command's fate says how far the
 * SSH rows got (answered, key, login); the runner's version says whether the deploy
 * directory is there and the runner in it (installed, then looked at again, when missing);
 * the compose file comes last. */
#include "config.h"

#include "hostcheck.h"
#include "remote.h"
#include "outbuf.h"
#include "runner.h"
#include "services.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_MAX 4096

enum host_row { HR_REACH, HR_KEY, HR_LOGIN, HR_DIR, HR_RUNNER, HR_COMPOSE, HR_SERVICES };

const char *const hostcheck_rows[HOSTCHECK_ROWS] = {
	"reachable", "host key", "login", "deploy dir", "runner", "compose file", "services",
};

/* Looking for the runner, installing it, looking again. */
enum runner_step { STEP_FIND, STEP_INSTALL, STEP_CONFIRM };

struct unitcheck {
	struct remote_host *remote;
	const struct conf_env *env;
	const char *address;
	const char *dir;
	size_t j;
	unit_check_fn report;
	void *arg;
	bool said[HOSTCHECK_ROWS];
	struct outbuf out;
	enum runner_step step;
};

static void say(struct unitcheck *uc, enum host_row row, enum unit_check state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(struct unitcheck *uc, enum host_row row, enum unit_check state, const char *fmt, ...)
{
	char detail[700];
	va_list ap;

	if (uc->said[row])
		return;
	uc->said[row] = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	uc->report(uc->arg, row, state, detail);
}

/* The rows from `from` on, skipped for one reason. */
static void skip(struct unitcheck *uc, enum host_row from, const char *why)
{
	for (int k = from; k < HOSTCHECK_ROWS; k++)
		say(uc, k, UNIT_CHECK_SKIPPED, "%s", why);
}

/* The first line of the output, cleaned. */
static void first_line(const struct outbuf *out, char *dst, size_t dstsz)
{
	const char *s = outbuf_text(out);

	while (*s == '\n')
		s++;
	sanitize_text(s, strcspn(s, "\n"), dst, dstsz, 0);
}

static void output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct unitcheck *uc = arg;

	(void)is_stderr;
	outbuf_add(&uc->out, data, len, OUTPUT_MAX);
}

/* What to do about a host that was not reached, from what went wrong. */
static const char *reach_fix(const char *why)
{
	static const struct {
		const char *said, *fix;
	} fixes[] = {
		{ "name lookup", "the name does not resolve: fix the address in gantry.yml's hosts "
		  "(or HostName in ~/.ssh/config)" },
		{ "refused", "nothing listens there: start sshd on the host, or fix the port "
		  "(hosts: user@host:PORT, or Port in ~/.ssh/config)" },
		{ "connect_timeout", "no answer: a firewall, a wrong address or a host that is down; "
		  "raise connect_timeout in gantry.yml if the link is only slow" },
		{ "handshake", "what answers there does not speak SSH as gantry does: check that the "
		  "port is sshd's" },
		{ "unreachable", "no route to the host: check the address and the network" },
	};

	for (size_t i = 0; i < sizeof fixes / sizeof fixes[0]; i++)
		if (strstr(why, fixes[i].said))
			return fixes[i].fix;
	return "check the address in gantry.yml's hosts, and that sshd runs there";
}

/* Whether the connection got as far as running a command; the SSH rows say how far. */
static bool reached(struct unitcheck *uc, enum unit_end how, const char *message)
{
	enum link_state st = remote_host_state(uc->remote);
	const char *why = message && *message ? message : remote_host_message(uc->remote);

	if (how == UNIT_EXITED) {
		say(uc, HR_REACH, UNIT_CHECK_OK, "%s answered", uc->address);
		say(uc, HR_KEY, UNIT_CHECK_OK, "%s's key is in known_hosts", uc->address);
		say(uc, HR_LOGIN, UNIT_CHECK_OK, "logged in to %s", uc->address);
		return true;
	}
	if (st == LINK_KEY_UNKNOWN || st == LINK_KEY_CHANGED) {
		say(uc, HR_REACH, UNIT_CHECK_OK, "%s answered", uc->address);
		say(uc, HR_KEY, UNIT_CHECK_FAILED, "%s", why);
		skip(uc, HR_LOGIN, "not tried: the host key is not trusted");
	} else if (st == LINK_AUTH_FAILED) {
		say(uc, HR_REACH, UNIT_CHECK_OK, "%s answered", uc->address);
		say(uc, HR_KEY, UNIT_CHECK_OK, "%s's key is in known_hosts", uc->address);
		say(uc, HR_LOGIN, UNIT_CHECK_FAILED, "%s", why);
		skip(uc, HR_DIR, "not tried: no login");
	} else {
		say(uc, HR_REACH, UNIT_CHECK_FAILED, "%s; %s", why, reach_fix(why));
		skip(uc, HR_KEY, "not tried: the host was not reached");
	}
	return false;
}

static void services_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct unitcheck *uc = arg;
	struct running run = { 0 };
	char first[300], why[200], list[400] = "";

	first_line(&uc->out, first, sizeof first);
	if (how != UNIT_EXITED)
		say(uc, HR_SERVICES, UNIT_CHECK_FAILED, "%s: %s", uc->address,
		    message && *message ? message : "the link dropped");
	else if (status != 0)
		say(uc, HR_SERVICES, UNIT_CHECK_FAILED, "deploy.running exited %d in %s; set it to a "
		    "command the host has (podman in place of docker), or to null", status, uc->dir);
	else if (uc->out.len >= OUTPUT_MAX || !running_parse(outbuf_text(&uc->out), uc->out.len,
	    &run, why, sizeof why))
		say(uc, HR_SERVICES, UNIT_CHECK_FAILED, "%s", uc->out.len >= OUTPUT_MAX ?
		    "deploy.running printed more than this check reads" : why);
	else {
		for (size_t i = 0; i < run.len; i++) {
			size_t n = strlen(list);

			snprintf(list + n, sizeof list - n, "%s%s %s", i ? ", " : "", run.list[i].name,
			    run.list[i].tag);
		}
		say(uc, HR_SERVICES, UNIT_CHECK_OK, "%zu running%s%s", run.len, run.len ? ": " : "",
		    list);
	}
	running_free(&run);
	outbuf_clear(&uc->out);
}

static const struct unit_cmd_ops services_ops = {
	.output = output, .done = services_done, .bounded = true,
};

/* What each service runs, as the dashboard lists them. */
static void services_start(struct unitcheck *uc)
{
	char *cmd = running_command(uc->env, uc->j);

	if (!cmd) {
		say(uc, HR_SERVICES, UNIT_CHECK_SKIPPED, "deploy.running is null: the services are not "
		    "listed");
		return;
	}
	runner_run(uc->remote, RUNNER_TIED, (const char *const[]){ cmd }, 1, &services_ops, uc);
	free(cmd);
}

static void compose_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct unitcheck *uc = arg;
	char first[300];

	first_line(&uc->out, first, sizeof first);
	outbuf_clear(&uc->out);
	if (how != UNIT_EXITED)
		say(uc, HR_COMPOSE, UNIT_CHECK_FAILED, "%s: %s", uc->address,
		    message && *message ? message : "the link dropped");
	else if (status == UNIT_EXIT_NOT_NEEDED) {
		/* nothing deployed yet: nothing runs to list either */
		say(uc, HR_COMPOSE, UNIT_CHECK_SKIPPED, "%s", first);
		say(uc, HR_SERVICES, UNIT_CHECK_SKIPPED, "%s", first);
		return;
	}
	else if (status != 0)
		say(uc, HR_COMPOSE, UNIT_CHECK_FAILED, "%s config -q in %s exited %d%s%s; fix the "
		    "compose file there, or set compose: to the command the host has", uc->env->compose,
		    uc->dir, status, first[0] ? ": " : "", first);
	else
		say(uc, HR_COMPOSE, UNIT_CHECK_OK, "%s config -q passed in %s", uc->env->compose, uc->dir);
	services_start(uc);
}

static const struct unit_cmd_ops compose_ops = {
	.output = output, .done = compose_done, .bounded = true,
};

static void compose_start(struct unitcheck *uc)
{
	if (uc->env->deploy.steps_len) {
		say(uc, HR_COMPOSE, UNIT_CHECK_SKIPPED, "the environment has a plan of its own "
		    "(deploy.steps): gantry does not run compose there");
		services_start(uc);
		return;
	}
	runner_run(uc->remote, RUNNER_COMPOSE_CHECK, (const char *const[]){ uc->env->compose }, 1,
	    &compose_ops, uc);
}

static void runner_done(void *arg, enum unit_end how, int status, const char *message);

static const struct unit_cmd_ops runner_ops = {
	.output = output, .done = runner_done, .bounded = true,
};

/* The runner's version: `command` is the runner's, or its installation. */
static void runner_ask(struct unitcheck *uc, enum runner_step step, char *command)
{
	uc->step = step;
	remote_run(uc->remote, command, &runner_ops, uc);
	free(command);
}

static void runner_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct unitcheck *uc = arg;
	enum runner_step step = uc->step;
	char first[300], want[40];

	first_line(&uc->out, first, sizeof first);
	outbuf_clear(&uc->out);
	if (!reached(uc, how, message))
		return;
	snprintf(want, sizeof want, "gantry-runner %d", RUNNER_PROTOCOL);
	if (status == UNIT_EXIT_NO_RUNNER && step == STEP_FIND) {
		say(uc, HR_DIR, UNIT_CHECK_OK, "%s is there", uc->dir);
		if (remote_host_read_only(uc->remote)) {
			say(uc, HR_RUNNER, UNIT_CHECK_OK, "not installed: read-only, so gantry sends it "
			    "along with each command");
			compose_start(uc);
			return;
		}
		/* install, then look again: the install falls back to sending it along */
		runner_ask(uc, STEP_INSTALL, runner_install_command(RUNNER_VERSION, NULL, 0));
		return;
	}
	if (status == 0 && step == STEP_INSTALL && strcmp(first, want) == 0) {
		runner_ask(uc, STEP_CONFIRM, runner_command(RUNNER_VERSION, NULL, 0));
		return;
	}
	if (status != 0 && step == STEP_FIND) {
		say(uc, HR_DIR, UNIT_CHECK_FAILED, "cannot enter %s (exit %d%s%s): create it, or fix "
		    "deploy_dir", uc->dir, status, first[0] ? ": " : "", first);
		skip(uc, HR_RUNNER, "not tried: no deploy directory");
		return;
	}
	say(uc, HR_DIR, UNIT_CHECK_OK, "%s is there", uc->dir);
	if (status == UNIT_EXIT_NO_RUNNER)
		say(uc, HR_RUNNER, UNIT_CHECK_FAILED, "could not be installed in %s/.gantry/bin: gantry's "
		    "directory there must be this login's, not a symlink, and writable by it alone "
		    "(chmod 700)", uc->dir);
	else if (status != 0 || strcmp(first, want) != 0)
		say(uc, HR_RUNNER, UNIT_CHECK_FAILED, "%s answered \"%s\" (exit %d), not \"%s\": the "
		    "host needs a POSIX sh and the tools src/compose/runner.sh lists", runner_path(), first,
		    status, want);
	else
		say(uc, HR_RUNNER, UNIT_CHECK_OK, "%s at %s%s", want, runner_path(),
		    step == STEP_CONFIRM ? " (installed now)" : "");
	compose_start(uc);
}

struct unitcheck *hostcheck_start(struct remote_host *host, const struct conf_env *env, size_t j,
    unit_check_fn report, void *arg)
{
	struct unitcheck *uc = xcalloc(1, sizeof *uc);

	uc->remote = host;
	uc->env = env;
	uc->address = env->hosts[j].address;
	uc->dir = conf_host_deploy_dir(env, &env->hosts[j]);
	uc->j = j;
	uc->report = report;
	uc->arg = arg;
	runner_ask(uc, STEP_FIND, runner_command(RUNNER_VERSION, NULL, 0));
	return uc;
}

void hostcheck_free(struct unitcheck *uc)
{
	if (!uc)
		return;
	outbuf_clear(&uc->out);
	free(uc);
}
