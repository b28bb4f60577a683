/* The targets gantry knows, and the first of them: compose over SSH, where each unit
 * is a host reached over SSH, its state files in the deploy directory's .gantry/, and
 * every command the runner (src/runner.sh) with a subcommand. */
#include "config.h"

#include "target.h"
#include "remote.h"
#include "hostrun.h"
#include "runner.h"
#include "running.h"
#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct remote_host *unit(const struct target *t, size_t j)
{
	return t->host(t->host_arg, t->env, j);
}

/* The runner's state of host j, for the state store's reader. */
static struct unit_cmd *ssh_ask_state(const void *arg, size_t j, const struct unit_cmd_ops *ops,
    void *cmd_arg)
{
	const struct target *t = arg;
	struct remote_host *h = unit(t, j);
	struct unit_cmd *cmd = runner_run(h, RUNNER_STATE, NULL, 0, ops, cmd_arg);

	/* asked for now: a host waiting out its backoff tries again at once, so a refused
	 * key or a dead host is reported now, not in a minute */
	remote_host_retry_now(h);
	return cmd;
}

static struct hostread *ssh_read(const struct target *t, hostread_done_fn done, void *arg)
{
	return hostread_start(t->env, ssh_ask_state, t, done, arg);
}

static struct unit_run *ssh_start(const struct target *t, size_t j, const struct run_spec *spec,
    const struct unit_run_ops *ops, void *arg)
{
	return hostrun_start(t->loop, unit(t, j), spec, ops, arg);
}

static struct unit_run *ssh_follow(const struct target *t, size_t j, const char *id,
    const struct unit_run_ops *ops, void *arg)
{
	return hostrun_follow(t->loop, unit(t, j), id, ops, arg);
}

static struct unit_cmd *ssh_admin(const struct target *t, size_t j, enum hostadmin kind,
    const char *operator, const char *message, int64_t at, const struct unit_cmd_ops *ops,
    void *arg)
{
	return hostadmin_run(unit(t, j), kind, t->env->name, operator, message, at, ops, arg);
}

static struct unit_cmd *ssh_adopt(const struct target *t, size_t j, const char *record,
    const struct unit_cmd_ops *ops, void *arg)
{
	/* under no lock, and only where no run was recorded meanwhile */
	return runner_run(unit(t, j), RUNNER_ADOPT, (const char *const[]){ record }, 1, ops, arg);
}

/* The log command of host j: logs.app or logs.migrator expanded, under the runner, so
 * that when the channel closes the whole command ends on the host. */
static struct unit_cmd *ssh_log(const struct target *t, size_t j, enum log_source source,
    bool follow, long long tail, const struct unit_cmd_ops *ops, void *arg)
{
	const struct conf_env *env = t->env;
	const struct conf_host *ch = &env->hosts[j];
	char tails[24], *dir = template_shell_quote(conf_host_deploy_dir(env, ch)), *cmd;
	struct template_var vars[] = {
		{ "compose", env->compose },
		{ "follow", follow ? "-f" : "" },
		{ "tail", tails },
		{ "env", env->name },
		{ "host", ch->address },
		{ "deploy_dir", dir },
	};
	struct unit_cmd *c;

	snprintf(tails, sizeof tails, "%lld", tail);
	cmd = template_expand(env->logs[source], vars, sizeof vars / sizeof vars[0]);
	c = runner_run(unit(t, j), RUNNER_TIED, (const char *const[]){ cmd }, 1, ops, arg);
	free(cmd);
	free(dir);
	return c;
}

/* deploy.image_check, expanded for this host, under the runner like every command. */
static struct unit_cmd *ssh_has_image(const struct target *t, size_t j, const char *image,
    const struct unit_cmd_ops *ops, void *arg)
{
	const struct conf_env *env = t->env;
	char *qref = template_shell_quote(image);
	char *dir = template_shell_quote(conf_host_deploy_dir(env, &env->hosts[j]));
	struct template_var vars[] = {
		{ "image", qref }, { "compose", env->compose }, { "deploy_dir", dir },
	};
	char *cmd = template_expand(env->deploy.image_check, vars, sizeof vars / sizeof *vars);
	struct unit_cmd *c = runner_run(unit(t, j), RUNNER_TIED, (const char *const[]){ cmd }, 1,
	    ops, arg);

	free(cmd);
	free(dir);
	free(qref);
	return c;
}

/* deploy.running, expanded for this host, under the runner */
static struct unit_cmd *ssh_running(const struct target *t, size_t j,
    const struct unit_cmd_ops *ops, void *arg)
{
	char *cmd = running_command(t->env, j);
	struct unit_cmd *c;

	if (!cmd)
		return NULL;
	c = runner_run(unit(t, j), RUNNER_TIED, (const char *const[]){ cmd }, 1, ops, arg);
	free(cmd);
	return c;
}

static struct unit_cmd *ssh_watch(const struct target *t, size_t j,
    const struct unit_cmd_ops *ops, void *arg)
{
	return runner_run(unit(t, j), RUNNER_WATCH, NULL, 0, ops, arg);
}

/* with curl or wget on the host, from the host's own app_url */
static struct unit_cmd *ssh_get(const struct target *t, size_t j, const char *path, size_t max,
    const struct unit_cmd_ops *ops, void *arg)
{
	const char *base = t->env->hosts[j].app_url;
	struct unit_cmd *c;
	char *url, limit[24];

	if (!base)
		return NULL;
	url = xasprintf("%s%s", base, path);
	snprintf(limit, sizeof limit, "%zu", max);
	c = runner_run(unit(t, j), RUNNER_HTTP_GET, (const char *const[]){ url, limit }, 2, ops, arg);
	free(url);
	return c;
}

static void ssh_link(const struct target *t, size_t j, int64_t now, struct link_status *out)
{
	const struct remote_host *h = unit(t, j);

	*out = (struct link_status){
		.state = remote_host_state(h), .message = remote_host_message(h),
		.retry_in = remote_host_retry_in(h, now), .name = t->env->hosts[j].address,
	};
}

static void ssh_relink(const struct target *t, size_t j)
{
	struct remote_host *h = unit(t, j);

	if (remote_host_state(h) != LINK_UP && remote_host_state(h) != LINK_CONNECTING)
		remote_host_retry_now(h);
}

static struct unitcheck *ssh_check(const struct target *t, size_t j, unit_check_fn report,
    void *arg)
{
	return hostcheck_start(unit(t, j), t->env, j, report, arg);
}

const struct target_ops target_compose_ssh = {
	.read = ssh_read,
	.start = ssh_start,
	.follow = ssh_follow,
	.admin = ssh_admin,
	.adopt = ssh_adopt,
	.log = ssh_log,
	.has_image = ssh_has_image,
	.watch = ssh_watch,
	.running = ssh_running,
	.get = ssh_get,
	.link = ssh_link,
	.relink = ssh_relink,
	.check_rows = hostcheck_rows,
	.check_rows_len = HOSTCHECK_ROWS,
	.check_named_from = HOSTCHECK_NAMED_FROM,
	.check = ssh_check,
	.check_free = hostcheck_free,
};

/* by gantry.yml's name for each (conf_target_names) */
static const struct target_ops *const targets[CONF_TARGETS] = {
	[CONF_TARGET_COMPOSE_SSH] = &target_compose_ssh,
};

void target_init(struct target *t, const struct conf_env *env, struct loop *loop,
    struct remote_host *(*host)(void *arg, const struct conf_env *env, size_t j), void *host_arg)
{
	*t = (struct target){
		.ops = targets[env->target], .env = env, .loop = loop, .host = host,
		.host_arg = host_arg,
	};
}
