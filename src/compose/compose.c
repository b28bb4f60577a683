/* Compose over SSH: each unit is a host reached over SSH, its state files in the deploy
 * directory's .gantry/, and every command the runner (runner.sh) with a subcommand. */
#include "config.h"

#include "compose.h"
#include "hostadmin.h"
#include "hostdrive.h"
#include "hostcheck.h"
#include "hostrun.h"
#include "outbuf.h"
#include "plan.h"
#include "remote.h"
#include "runner.h"
#include "runscript.h"
#include "sanitize.h"
#include "services.h"
#include "statereply.h"
#include "target.h"
#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A target's own part: the SSH sessions of its hosts. */
struct compose_target {
	struct remote *remote;
	struct remote_host **hosts;     /* one per host of the environment */
	char **names;                   /* each host's unit name: its address, or, where several
	                                   tenants share it, scp's ADDRESS:DEPLOY_DIR */
};

static struct remote_host *unit(const struct target *t, size_t j)
{
	return ((const struct compose_target *)t->priv)->hosts[j];
}

/* A host's link changed: told on the bus, as every target tells it. */
static void link_changed(void *arg, struct remote_host *host)
{
	struct target *t = arg;
	const struct conf_env *env = remote_host_env(host);
	size_t j = (size_t)(remote_host_conf(host) - env->hosts);

	bus_emit(t->bus, &(struct bus_event){
		.kind = BUS_LINK_CHANGED, .env = env->name, .host = j,
		.host_name = ((const struct compose_target *)t->priv)->names[j],
		.text = link_state_name(remote_host_state(host)),
	});
}

/* Host j's name: its address, unless another host of the environment has it too. */
static char *unit_name_of(const struct conf_env *env, size_t j)
{
	const struct conf_host *h = &env->hosts[j];

	for (size_t k = 0; k < env->hosts_len; k++)
		if (k != j && strcmp(env->hosts[k].address, h->address) == 0)
			return xasprintf("%s:%s", h->address, conf_host_deploy_dir(env, h));
	return xstrdup(h->address);
}

static void compose_open(struct target *t)
{
	struct compose_target *c = xcalloc(1, sizeof *c);

	t->priv = c;
	c->remote = remote_new(t->loop);
	remote_set_read_only(c->remote, t->conf->read_only);
	remote_set_listener(c->remote, link_changed, t);
	c->hosts = xcalloc(t->env->hosts_len + 1, sizeof *c->hosts);
	c->names = xcalloc(t->env->hosts_len + 1, sizeof *c->names);
	for (size_t j = 0; j < t->env->hosts_len; j++) {
		c->hosts[j] = remote_host_add(c->remote, t->env, &t->env->hosts[j]);
		c->names[j] = unit_name_of(t->env, j);
	}
}

static void compose_close(struct target *t)
{
	struct compose_target *c = t->priv;

	if (!c)
		return;
	remote_free(c->remote);
	for (size_t j = 0; j < t->env->hosts_len; j++)
		free(c->names[j]);
	free(c->names);
	free(c->hosts);
	free(c);
}

static size_t ssh_units(const struct target *t)
{
	return t->env->hosts_len;
}

static const char *ssh_unit_name(const struct target *t, size_t j)
{
	return ((const struct compose_target *)t->priv)->names[j];
}

/* A state read on one host: the runner's framed reply, parsed here. */
struct ssh_state {
	struct unit_cmd base;           /* stopping it stops the runner's command */
	struct unit_cmd *cmd;
	struct outbuf out, err;
	unit_state_fn done;
	void *arg;
	const char *dir;                /* the deploy directory, named in what is said */
};

static void ssh_state_free(struct ssh_state *r)
{
	outbuf_clear(&r->out);
	outbuf_clear(&r->err);
	free(r);
}

static void ssh_state_stop(struct unit_cmd *cmd)
{
	struct ssh_state *r = (struct ssh_state *)cmd;

	unit_cmd_stop(r->cmd);
	ssh_state_free(r);
}

static const struct unit_cmd_class ssh_state_class = { .stop = ssh_state_stop };

static void ssh_state_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct ssh_state *r = arg;

	if (!is_stderr)
		outbuf_add(&r->out, data, len, HOSTSTATE_MAX_BYTES);
	else
		outbuf_add(&r->err, data, len, 1024);
}

static void ssh_state_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct ssh_state *r = arg;
	struct host_state st;
	char why[200], said[600];

	r->cmd = NULL;
	if (how != UNIT_EXITED) {
		r->done(r->arg, NULL, message && *message ? message : "the link dropped");
	} else if (status == UNIT_EXIT_UNSAFE) {
		/* the runner refused to run (a planted .gantry or runner): its reason, cleaned */
		const char *e = outbuf_text(&r->err);
		char line[400];

		sanitize_text(e, strcspn(e, "\n"), line, sizeof line, 0);
		snprintf(said, sizeof said, "gantry's files on the host are unsafe, so nothing of them "
		    "was run: %s", line[0] ? line : "the runner said no more");
		r->done(r->arg, NULL, said);
	} else if (!hoststate_parse_in(outbuf_text(&r->out), r->out.len, r->dir, &st, why,
	    sizeof why)) {
		snprintf(said, sizeof said, "%s (exit %d): check the login shell's output", why,
		    status);
		r->done(r->arg, NULL, said);
	} else {
		r->done(r->arg, &st, NULL);
		hoststate_free(&st);
	}
	ssh_state_free(r);
}

static const struct unit_cmd_ops ssh_state_ops = {
	.output = ssh_state_output, .done = ssh_state_done, .bounded = true,
};

/* The runner's state of host j (its watch: the same without the history). */
static struct unit_cmd *ssh_state(const struct target *t, size_t j, bool watch,
    unit_state_fn done, void *arg)
{
	struct remote_host *h = unit(t, j);
	struct ssh_state *r = xcalloc(1, sizeof *r);

	*r = (struct ssh_state){
		.base.cls = &ssh_state_class, .done = done, .arg = arg,
		.dir = conf_host_deploy_dir(t->env, &t->env->hosts[j]),
	};
	r->cmd = runner_run(h, watch ? RUNNER_WATCH : RUNNER_STATE, NULL, 0, &ssh_state_ops, r);
	/* asked for a decision: a host waiting out its backoff tries again at once, so a
	 * refused key or a dead host is reported now, not in a minute */
	if (!watch)
		remote_host_retry_now(h);
	return &r->base;
}

/* The runner's steps for a release on host j (src/compose/plan.c). */
static struct release_plan *ssh_plan(const struct target *t, size_t j,
    const struct release_request *req)
{
	struct plan *p = xcalloc(1, sizeof *p);
	struct plan_input in = { .conf = t->conf, .env = t->env, .host = &t->env->hosts[j], .req = req };

	plan_build(&in, p);
	return &p->base;
}

static void ssh_plan_free(struct release_plan *plan)
{
	struct plan *p = (struct plan *)plan;

	if (!p)
		return;
	plan_free(p);
	free(p);
}

static struct unit_run *ssh_start(const struct target *t, size_t j, const struct release_plan *plan,
    const struct unit_run_ops *ops, void *arg)
{
	return hostrun_start(t->loop, unit(t, j), &((const struct plan *)plan)->spec, ops, arg);
}

static struct unit_run *ssh_follow(const struct target *t, size_t j, const char *id,
    const struct unit_run_ops *ops, void *arg)
{
	return hostrun_follow(t->loop, unit(t, j), id, ops, arg);
}

static struct unit_cmd *ssh_admin(const struct target *t, size_t j, enum unit_admin kind,
    const char *operator, const char *message, int64_t at, const struct unit_cmd_ops *ops,
    void *arg)
{
	return hostadmin_run(unit(t, j), kind, t->env->name, operator, message, at, ops, arg);
}

static struct unit_cmd *ssh_adopt(const struct target *t, size_t j, const struct adopt_spec *a,
    const struct unit_cmd_ops *ops, void *arg)
{
	char *record = history_adopt_record(a);
	struct unit_cmd *c;

	/* under no lock, and only where no run was recorded meanwhile */
	c = runner_run(unit(t, j), RUNNER_ADOPT, (const char *const[]){ record }, 1, ops, arg);
	free(record);
	return c;
}

static struct unit_cmd *ssh_lease(const struct target *t, size_t j, const struct lease_take *take,
    const struct unit_cmd_ops *ops, void *arg)
{
	const char *const args[] = { take->id, take->action, take->operator, take->message,
	    take->record };

	return runner_run(unit(t, j), RUNNER_LEASE, args, 5, ops, arg);
}

static struct unit_cmd *ssh_release(const struct target *t, size_t j, const char *id,
    const struct unit_cmd_ops *ops, void *arg)
{
	return runner_run(unit(t, j), RUNNER_RELEASE, (const char *const[]){ id }, 1, ops, arg);
}

/* a rollout's driver beside the lease, on the host (src/compose/hostdrive.c) */
static struct unit_cmd *ssh_drive(const struct target *t, size_t j, const char *run,
    const struct drive_record *rec, const char *ack, unit_drive_fn done, void *arg)
{
	return hostdrive_beat(unit(t, j), run, rec, ack, done, arg);
}

static struct unit_cmd *ssh_ask(const struct target *t, size_t j, const char *run,
    const struct drive_request *req, const struct unit_cmd_ops *ops, void *arg)
{
	return hostdrive_ask(unit(t, j), run, req, ops, arg);
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

/* deploy.running, expanded for this host, under the runner (src/compose/services.c) */
static struct unit_cmd *ssh_running(const struct target *t, size_t j, unit_running_fn done,
    void *arg)
{
	return services_read(unit(t, j), t->env, j, done, arg);
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
		.retry_in = remote_host_retry_in(h, now), .name = ssh_unit_name(t, j),
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

static const struct target_ops compose_ssh_ops = {
	.units = ssh_units,
	.unit_name = ssh_unit_name,
	.state = ssh_state,
	.plan = ssh_plan,
	.plan_free = ssh_plan_free,
	.start = ssh_start,
	.follow = ssh_follow,
	.admin = ssh_admin,
	.adopt = ssh_adopt,
	.lease = ssh_lease,
	.release = ssh_release,
	.drive = ssh_drive,
	.ask = ssh_ask,
	.log = ssh_log,
	.has_image = ssh_has_image,
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

static const struct target_words compose_ssh_words = {
	.config = "deploy.env", .unit = "host", .units = "hosts",
};

const struct target_kind target_kind_compose_ssh = {
	.name = "compose-ssh", .ops = &compose_ssh_ops, .words = &compose_ssh_words,
	.open = compose_open, .close = compose_close,
};
