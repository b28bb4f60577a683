/* Deploy plans: the default compose plan or the environment's own steps, then the
 * ready wait and the smoke checks, expanded for one tag on one host. */
#include "config.h"

#include "history.h"
#include "plan.h"
#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A step before expansion: the environment's own, or one of the default plan. */
struct step_tpl {
	const char *name, *run;
	int64_t timeout_ms;
	bool switch_point, once, migration;
	bool own;                       /* one of the environment's own steps */
};

/* The seeds' host-side deploy, step by step. The lock, the history records and the
 * lock's release are the runner's; write-env keeps deploy.env.prev. */
static const struct step_tpl default_write = {
	"write deploy.env", "{gantry} write-env APP_IMAGE={app_image} MIGRATOR_IMAGE={migrator_image}",
	60000, false, false, false, false
};
static const struct step_tpl default_write_port = {
	"write deploy.env",
	"{gantry} write-env APP_IMAGE={app_image} MIGRATOR_IMAGE={migrator_image} APP_PORT={port}",
	60000, false, false, false, false
};
static const struct step_tpl default_check = {
	"check compose file", "{compose} config -q", 60000, false, false, false, false
};
static const struct step_tpl default_pull = {
	"pull images", "{compose} pull {services} {migrator}", 15 * 60000, false, false, false, false
};
static const struct step_tpl default_pull_app = {
	"pull images", "{compose} pull {services}", 15 * 60000, false, false, false, false
};
static const struct step_tpl default_infra = {
	"start {infra}", "{compose} up -d {infra}", 5 * 60000, false, false, false, false
};
static const struct step_tpl default_migrate = {
	/* not `run --rm`: `up` works the same on compose v1 without the docker CLI and on v2,
	 * passes the exit status, and keeps the container for the migrator log pane */
	"run migrator", "{compose} up --no-deps --no-color --exit-code-from {migrator} {migrator}",
	30 * 60000, false, true, true, false
};
static const struct step_tpl default_start = {
	"start app", "{compose} up -d --no-deps {services}", 5 * 60000, true, false, false, false
};

static char *own(struct plan *p, char *s)
{
	if (p->strings_len == p->strings_cap) {
		p->strings_cap = p->strings_cap ? p->strings_cap * 2 : 32;
		p->strings = xrealloc(p->strings, p->strings_cap * sizeof *p->strings);
	}
	p->strings[p->strings_len++] = s;
	return s;
}

/* A template that expands to s as it is: each '{' doubled. Takes s. */
static char *literal(char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '{' ? 2 : 1;
	out = o = xmalloc(n + 1);
	for (const char *p = s; *p; p++) {
		*o++ = *p;
		if (*p == '{')
			*o++ = '{';
	}
	*o = '\0';
	free(s);
	return out;
}

/* The templates of the plan, in order; strings made here are owned by p. The ready wait
 * lasts `ready_ms` (0: the environment's deploy.ready_timeout). */
static size_t plan_templates(const struct conf_env *env, const struct conf_host *host,
    bool offline, int64_t ready_ms, struct plan *p, struct step_tpl *out, size_t cap)
{
	const struct conf_deploy *d = &env->deploy;
	int64_t ready = ready_ms > 0 ? ready_ms : d->ready_timeout_ms;
	size_t n = 0;

	if (d->steps) {
		for (size_t i = 0; i < d->steps_len && n < cap; i++) {
			const struct conf_step *c = &d->steps[i];

			out[n++] = (struct step_tpl){ c->name, c->run, c->timeout_ms, c->switch_point,
				c->once, c->migration, true };
		}
	} else {
		out[n++] = conf_host_app_port(env, host) ? default_write_port : default_write;
		out[n++] = default_check;
		if (!offline)
			out[n++] = *d->migrator ? default_pull : default_pull_app;
		if (*d->infra) {
			out[n] = default_infra;
			out[n].name = own(p, xasprintf("start %s", d->infra));
			n++;
		}
		if (*d->migrator)
			out[n++] = default_migrate;
		out[n++] = default_start;
	}
	if (n < cap) {
		out[n] = (struct step_tpl){ "wait for ready", NULL, ready + 60000,
			false, false, false, false };
		out[n].run = own(p, xasprintf("{gantry} wait-ready {ready_url} %lld %lld",
		    (long long)((ready + 999) / 1000),
		    (long long)((d->ready_interval_ms + 999) / 1000)));
		n++;
	}
	for (size_t i = 0; i < d->smoke_len && n < cap; i++) {
		/* the whole URL is one shell word, and a '{' in it stays literal */
		char *full = xasprintf("%s%s", conf_host_app_url(env, host), d->smoke[i].path);

		out[n] = (struct step_tpl){ NULL, NULL, 60000, false, false, false, false };
		out[n].name = own(p, literal(xasprintf("smoke GET %s", d->smoke[i].path)));
		out[n].run = own(p, xasprintf("{gantry} http-check %s %ld%s%s",
		    own(p, literal(template_shell_quote(full))), d->smoke[i].status,
		    d->smoke[i].body ? " " : "",
		    d->smoke[i].body ? own(p, literal(template_shell_quote(d->smoke[i].body))) : ""));
		free(full);
		n++;
	}
	return n;
}

/* The variables for one image set. */
static size_t plan_vars(const struct plan_input *in, const struct release_images *img, struct plan *p,
    struct template_var *vars)
{
	const struct conf_env *env = in->env;
	const struct conf_deploy *d = &env->deploy;
	const struct conf_registry *reg = in->conf->registry;
	const char *url = conf_host_app_url(env, in->host), *port = conf_host_app_port(env, in->host);
	size_t n = 0;

	vars[n++] = (struct template_var){ "tag", img->tag };
	vars[n++] = (struct template_var){ "app_image",
		own(p, release_image_ref(reg, reg->app, img->tag, img->app_digest)) };
	vars[n++] = (struct template_var){ "migrator_image",
		own(p, release_image_ref(reg, reg->migrator, img->tag, img->migrator_digest)) };
	vars[n++] = (struct template_var){ "app_digest", img->app_digest ? img->app_digest : "" };
	vars[n++] = (struct template_var){ "migrator_digest",
		img->migrator_digest ? img->migrator_digest : "" };
	vars[n++] = (struct template_var){ "env", env->name };
	vars[n++] = (struct template_var){ "action", in->req->action };
	/* one shell word, whatever the directory's name holds */
	vars[n++] = (struct template_var){ "deploy_dir",
		own(p, template_shell_quote(conf_host_deploy_dir(env, in->host))) };
	vars[n++] = (struct template_var){ "compose", env->compose };
	vars[n++] = (struct template_var){ "port", port ? port : "" };
	vars[n++] = (struct template_var){ "services", d->services };
	vars[n++] = (struct template_var){ "migrator", d->migrator };
	vars[n++] = (struct template_var){ "infra", d->infra };
	/* URLs may hold '&' or '?': one shell word each */
	vars[n++] = (struct template_var){ "url", own(p, template_shell_quote(url)) };
	{
		char *ready = xasprintf("%s%s", url, env->ready_path);

		vars[n++] = (struct template_var){ "ready_url", own(p, template_shell_quote(ready)) };
		free(ready);
	}
	vars[n++] = (struct template_var){ "gantry",
		own(p, xasprintf("sh .gantry/runs/%s/run.sh", in->req->id)) };
	return n;
}

/* "docker compose -f ... pull app" reads better as "compose: pull app". */
static const char *plan_brief(const struct conf_env *env, const char *command, struct plan *p)
{
	size_t cl = strlen(env->compose);

	if (cl == 0 || strncmp(command, env->compose, cl) != 0 || command[cl] != ' ')
		return NULL;
	return own(p, xasprintf("compose: %s", command + cl + 1));
}

/* Expands the templates for one image set; rollback drops migration steps. */
static struct release_step *plan_expand(const struct plan_input *in, const struct release_images *img,
    const struct step_tpl *tpl, size_t ntpl, bool rollback, struct plan *p, size_t *len)
{
	struct template_var vars[24];
	size_t nvars = plan_vars(in, img, p, vars);
	struct release_step *steps = xcalloc(ntpl + 1, sizeof *steps);
	size_t n = 0;
	long last_own = -1;
	bool has_switch = false;

	for (size_t i = 0; i < ntpl; i++) {
		if ((tpl[i].once && !in->req->first_unit) || (rollback && tpl[i].migration))
			continue;
		if (tpl[i].own)
			last_own = (long)n;
		has_switch = has_switch || tpl[i].switch_point;
		steps[n].name = own(p, template_expand(tpl[i].name, vars, nvars));
		steps[n].command = own(p, template_expand(tpl[i].run, vars, nvars));
		steps[n].brief = plan_brief(in->env, steps[n].command, p);
		steps[n].timeout_ms = tpl[i].timeout_ms;
		steps[n].switch_point = tpl[i].switch_point;
		steps[n].migration = tpl[i].migration;
		n++;
	}
	/* own steps naming no switch: the last one this host runs switches */
	if (!has_switch && last_own >= 0)
		steps[last_own].switch_point = true;
	*len = n;
	return steps;
}

void plan_build(const struct plan_input *in, struct plan *out)
{
	const struct release_request *req = in->req;
	struct step_tpl tpl[128];
	size_t ntpl;
	struct run_spec *spec = &out->spec;

	memset(out, 0, sizeof *out);
	ntpl = plan_templates(in->env, in->host, req->offline, req->ready_timeout_ms, out, tpl,
	    sizeof tpl / sizeof *tpl);
	spec->id = req->id;
	spec->action = req->action;
	spec->env = in->env->name;
	spec->source_env = req->source_env;
	spec->tag = req->to.tag;
	spec->app_digest = req->to.app_digest;
	spec->migrator_digest = req->to.migrator_digest;
	spec->operator = req->operator;
	spec->message = req->message ? own(out, xstrdup(req->message)) : NULL;
	spec->started = req->started;
	spec->lock_message = own(out, req->source_env ?
	    xasprintf("%s %s from %s", req->action, req->to.tag, req->source_env) :
	    xasprintf("%s %s", req->action, req->to.tag));
	out->steps = plan_expand(in, &req->to, tpl, ntpl, strcmp(req->action, "rollback") == 0, out,
	    &spec->steps_len);
	spec->steps = out->steps;
	if (in->env->deploy.auto_rollback && req->back.tag) {
		out->rollback = plan_expand(in, &req->back, tpl, ntpl, true, out, &spec->rollback_len);
		spec->rollback = out->rollback;
		spec->rollback_tag = req->back.tag;
	}
	if (req->adopt)
		spec->adopt_record = own(out, history_adopt_record(req->adopt));
	spec->lease = req->lease ? own(out, xstrdup(req->lease)) : NULL;
	spec->units = req->units;
	out->base = (struct release_plan){
		.steps = spec->steps, .steps_len = spec->steps_len, .rollback = spec->rollback,
		.rollback_len = spec->rollback_len, .lock_message = spec->lock_message,
	};
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->strings_len; i++)
		free(plan->strings[i]);
	free(plan->strings);
	free(plan->steps);
	free(plan->rollback);
	memset(plan, 0, sizeof *plan);
}

