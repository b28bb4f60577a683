/* Promotions, rollbacks and deploys as a state machine. Each stage starts what it
 * needs (unit reads, app checks, registry lookups, commands on units) and counts the
 * answers in `pending`; the last answer moves the deploy to its next stage (advance).
 * The decisions are the guards' (src/guard.c); the facts come from gather.c, the run
 * over the units is rollout.c's, a run on one unit is a struct unit_run (src/unitrun.h)
 * that the target starts. */
#include "config.h"

#include "deploystate.h"
#include "deployenv.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_LINES 5000

static const enum deploy_phase stage_phase[] = {
#define STAGE_PHASE(name, phase) [STAGE_##name] = phase,
	STAGES(STAGE_PHASE)
#undef STAGE_PHASE
};

static void advance(struct deploy *d);

const char *deploy_kind_name(enum deploy_kind kind)
{
	static const char *const names[] = {
		[DEPLOY_PROMOTE] = "promote", [DEPLOY_ROLLBACK] = "rollback",
		[DEPLOY_DEPLOY] = "deploy", [DEPLOY_ADOPT] = "adopt",
	};

	return names[kind];
}

void deploy_operator(char *out, size_t outsz)
{
	const char *op = getenv("GANTRY_OPERATOR");
	char host[256] = "localhost";
	const struct passwd *pw = getpwuid(getuid());
	const char *user = getenv("USER");

	if (op && *op) {
		sanitize_text(op, strlen(op), out, outsz, 0);
		return;
	}
	gethostname(host, sizeof host - 1);
	if (pw && pw->pw_name)
		user = pw->pw_name;
	snprintf(out, outsz, "%s@%s", user && *user ? user : "unknown", host);
	sanitize_text(out, strlen(out), out, outsz, 0);
}

const struct deploy_info *deploy_info(const struct deploy *d)
{
	return &d->info;
}

int64_t deploy_run_ms(const struct deploy_info *i, bool *known)
{
	struct timespec ts;
	int64_t now;

	*known = true;
	if (i->run_started_ms && i->run_ended_ms >= i->run_started_ms)
		return i->run_ended_ms - i->run_started_ms;
	if (i->run_started_ms && i->phase == DEPLOY_RUNNING) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		return now > i->run_started_ms ? now - i->run_started_ms : 0;
	}
	if (i->started_ms && i->ended_ms >= i->started_ms)
		return i->ended_ms - i->started_ms;
	*known = false;
	return 0;
}

/* ---- small helpers ---- */

void deploy_notify(struct deploy *d)
{
	if (d->changed)
		d->changed(d->arg, d);
}

/* Moves to stage s; the bus hears of a plan and of a refusal. */
void deploy_enter(struct deploy *d, enum stage s)
{
	d->stage = s;
	d->info.phase = stage_phase[s];
	if (s == STAGE_PLANNED || s == STAGE_REFUSED)
		deploy_emit(d, s == STAGE_PLANNED ? BUS_PLANNED : BUS_REFUSED, d->info.host_index,
		    &(struct bus_event){ .text = s == STAGE_REFUSED ? d->info.verdict.refusal : "" });
}

void deploy_say(struct deploy *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->info.status, sizeof d->info.status, fmt, ap);
	va_end(ap);
}

/* Refuses with one more reason, and tells. */
void deploy_refuse(struct deploy *d, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	guard_refuse(&d->info.verdict, "%s", why);
	deploy_enter(d, STAGE_REFUSED);
	deploy_notify(d);
}

void deploy_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

int64_t deploy_now_s(void)
{
	return (int64_t)time(NULL);
}

/* One answer of the stage's is in: the last one moves the deploy on. */
void deploy_answered(struct deploy *d)
{
	if (--d->pending > 0)
		deploy_notify(d);
	else
		advance(d);
}

/* ---- the guards, once everything is in ---- */

/* gantry adopt: the checks of an adoption, and its plan (nothing runs). */
static void judge_adopt(struct deploy *d)
{
	const struct conf_env *t = d->target;

	guard_adopt(t, &d->target_state, &d->target_res, d->adopt.tag, &d->info.verdict);
	if (guard_refused(&d->info.verdict)) {
		deploy_enter(d, STAGE_REFUSED);
		deploy_notify(d);
		return;
	}
	deploy_copy(d->info.adopting, sizeof d->info.adopting, d->adopt.tag);
	deploy_copy(d->info.tag, sizeof d->info.tag, d->adopt.tag);
	deploy_copy(d->info.current, sizeof d->info.current, d->adopt.tag);
	deploy_copy(d->info.app_digest, sizeof d->info.app_digest, d->adopt.app);
	deploy_copy(d->info.migrator_digest, sizeof d->info.migrator_digest, d->adopt.migrator);
	if (!d->adopt.app[0] || !d->adopt.migrator[0])
		guard_warn(&d->info.verdict, "the registry did not give %s's digests: the baseline is "
		    "recorded without them, and a rollback to it deploys what the tag points to then",
		    d->adopt.tag);
	deploy_copy(d->info.host, sizeof d->info.host, d->info.hosts[0].address);
	deploy_enter(d, STAGE_PLANNED);
	deploy_say(d, "confirm to record the baseline");
	deploy_notify(d);
}

/* Every fact is in: the guards say yes (the plan) or no (the refusal). */
static void judge(struct deploy *d)
{
	const struct conf_env *t = d->target;
	struct guard_verdict *v = &d->info.verdict;
	struct guard_facts f = {
		.emergency = d->info.emergency,
		.kind = d->info.kind, .target = t, .target_state = &d->target_state,
		.current = d->info.current, .tag = d->info.tag, .app_digest = d->info.app_digest,
		.source = d->source, .source_state = d->source_read ? &d->source_state : NULL,
		.source_app = &d->source_res, .source_err = d->source_err,
		.source_services = d->services_drift,
		.explicit_tag = d->explicit_tag, .registry_err = d->registry_err,
		.registry_down = d->registry_down ? d->registry_down_msg : NULL,
		.images_missing = d->images_missing, .by_digest = d->by_digest, .tag_now = d->tag_now,
	};
	char why[300] = "";

	gather_services_drift(d);
	if (d->info.kind == DEPLOY_PROMOTE && d->source_read && d->info.tag[0]) {
		deploy_copy(d->info.source_version, sizeof d->info.source_version, d->source_res.version);
		d->info.source_env_tag[0] = '\0';
		if (d->source_state.has_deploy_env)
			deployenv_image_tag(d->source_state.deploy_env.app_image, d->info.source_env_tag,
			    sizeof d->info.source_env_tag);
	}
	guard_check(&f, v, d->info.chosen, sizeof d->info.chosen);
	if (guard_refused(v)) {
		deploy_enter(d, STAGE_REFUSED);
		deploy_notify(d);
		return;
	}
	d->info.redeploy = d->info.current[0] && strcmp(d->info.current, d->info.tag) == 0;
	if (d->adopt.tag[0] && guard_adopt_decide(d->target, &d->target_state, &d->target_res,
	    d->adopt.tag, why, sizeof why))
		deploy_copy(d->info.adopting, sizeof d->info.adopting, d->adopt.tag);
	guard_back(&d->target_state.history, d->info.tag, d->info.adopting[0] ? &d->adopt : NULL,
	    &d->back);
	if (t->deploy.auto_rollback && d->back.tag[0])
		deploy_copy(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back.tag);
	if (d->ctx.registry && t->deploy.retag)
		deploy_copy(d->info.retag, sizeof d->info.retag, t->deploy.retag);
	guard_plan_warnings(&f, d->adopt.tag, why, d->back.tag, v);
	if (d->info.emergency) {
		/* a lock no step holds (a paused rollout) is broken once it is confirmed */
		d->break_lock = d->target_state.lock.held;
		/* never back to what it flees: a host that fails stays, and the run says so */
		d->back = (struct guard_images){ 0 };
		d->info.rollback_tag[0] = '\0';
	}
	rollout_plan(d, 0, "ID");
	deploy_enter(d, STAGE_PLANNED);
	deploy_say(d, "%s", d->info.protected_env ? "type the environment's name to confirm" :
	    "confirm to start");
	deploy_notify(d);
}

/* The images are known (or known to be unreachable): on to the hosts, or the guards. */
static void images_known(struct deploy *d)
{
	if (d->registry_down && !d->registry_err[0] && !d->image_checks)
		gather_host_images(d);
	else
		judge(d);
}

/* A rollback's plan says on whose word its tag is proven: the run it goes back to. */
static void say_proven(struct deploy *d, const char *tag)
{
	const struct history *h = &d->target_state.history;

	for (size_t i = h->len; i-- > 0;) {
		const struct history_run *r = &h->runs[i];

		if (strcmp(r->tag, tag) != 0 || !history_run_proven(h, r, NULL, 0))
			continue;
		char by[40];

		if (h->hosts > 1)
			snprintf(by, sizeof by, "all %u hosts", h->hosts);
		else
			snprintf(by, sizeof by, "its one host");
		snprintf(d->info.proven, sizeof d->info.proven, "run %s (%s %s by %s), recorded "
		    "healthy by %s", r->id, r->result == RUN_ADOPTED ? "an" : "a", r->action,
		    r->operator[0] ? r->operator : "someone", by);
		return;
	}
}

/* GATHER is over. */
static void gathered(struct deploy *d)
{
	struct guard_images to;
	bool never_verified;

	if (!d->target_read) {
		deploy_refuse(d, "%s", d->target_err);
		return;
	}
	if (d->info.kind == DEPLOY_ADOPT) {
		judge_adopt(d);
		return;
	}
	if (d->target_state.has_deploy_env)
		deployenv_image_tag(d->target_state.deploy_env.app_image, d->info.current,
		    sizeof d->info.current);
	guard_still_runs(&d->target_state, d->info.current, d->info.still_runs,
	    sizeof d->info.still_runs);
	if (d->info.kind != DEPLOY_ROLLBACK) {
		images_known(d);
		return;
	}
	/* a rollback's tag comes from the history; its images are looked up now */
	if (!guard_rollback_target(d->target, &d->target_state.history, d->tag_wanted,
	    d->allow_unverified, d->info.current, &to, &d->by_digest, &never_verified,
	    &d->info.verdict)) {
		deploy_enter(d, STAGE_REFUSED);
		deploy_notify(d);
		return;
	}
	d->info.unverified = never_verified;
	say_proven(d, to.tag);
	deploy_copy(d->tag_wanted, sizeof d->tag_wanted, to.tag);
	deploy_copy(d->info.tag, sizeof d->info.tag, to.tag);
	if (d->by_digest) {
		deploy_copy(d->info.app_digest, sizeof d->info.app_digest, to.app);
		deploy_copy(d->info.migrator_digest, sizeof d->info.migrator_digest, to.migrator);
	}
	deploy_enter(d, STAGE_RESOLVE);
	d->pending = 1;
	gather_resolve(d);
	if (d->by_digest)
		gather_digest(d, &d->tag_now_lookup, d->ctx.conf->registry->app, d->tag_wanted,
		    d->tag_now, sizeof d->tag_now);
	deploy_answered(d);
}

/* RECHECK is over: the digests did not move, or nothing starts. */
static void rechecked(struct deploy *d)
{
	if (d->registry_err[0]) {
		deploy_refuse(d, "%s", d->registry_err);
		return;
	}
	rollout_start(d);
}

static void advance(struct deploy *d)
{
	switch (d->stage) {
	case STAGE_GATHER:
		gathered(d);
		break;
	case STAGE_RESOLVE:
		images_known(d);
		break;
	case STAGE_HOST_IMAGES:
		judge(d);
		break;
	case STAGE_RECHECK:
		rechecked(d);
		break;
	default:
		deploy_notify(d);
		break;
	}
}

/* Tells the bus (and, for a screen, `changed` after). */
void deploy_emit(struct deploy *d, enum bus_kind kind, size_t host, const struct bus_event *more)
{
	struct bus_event ev = more ? *more : (struct bus_event){ 0 };

	ev.kind = kind;
	ev.env = d->target->name;
	ev.deploy = d;
	ev.host = host;
	ev.host_name = host < d->info.hosts_len ? d->info.hosts[host].address : "";
	ev.operator = d->info.operator;
	bus_emit(d->ctx.bus, &ev);
}

/* ---- the operator's word ---- */

void deploy_confirm(struct deploy *d)
{
	if (d->stage != STAGE_PLANNED && d->stage != STAGE_UNLOCK)
		return;
	if (d->info.kind == DEPLOY_ADOPT) {
		deploy_enter(d, STAGE_ADOPT);
		d->info.host_index = 0;
		adopt_write(d);
		return;
	}
	if (d->break_lock) {
		fleet_break_lock(d);    /* then deploy_confirm again */
		return;
	}
	deploy_enter(d, STAGE_RECHECK);
	deploy_say(d, "checking %s's digests again", d->info.tag);
	d->pending = 1;
	/* with the registry down, the images were checked on the hosts; digests cannot move */
	if (!d->registry_down)
		gather_resolve(d);
	deploy_answered(d);
}

/* ---- life cycle ---- */

static struct deploy *deploy_alloc(const struct deploy_ctx *ctx, const struct conf_env *target,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = xcalloc(1, sizeof *d);
	size_t units;

	d->ctx = *ctx;
	d->to = ctx->target(ctx->target_arg, target);
	d->changed = changed;
	d->arg = arg;
	d->target = target;
	d->info.output = logbuf_new(OUTPUT_LINES, OUTPUT_LINES * 256);
	d->info.config = d->to->words->config;
	deploy_copy(d->info.env, sizeof d->info.env, target->name);
	deploy_copy(d->info.operator, sizeof d->info.operator, ctx->operator ? ctx->operator : "");
	/* the units, as the target names them */
	units = d->to->ops->units(d->to);
	d->info.hosts_len = units;
	d->info.hosts = xcalloc(units + 1, sizeof *d->info.hosts);
	d->jobs = xcalloc(units + 1, sizeof *d->jobs);
	for (size_t j = 0; j < units; j++) {
		deploy_copy(d->info.hosts[j].address, sizeof d->info.hosts[j].address,
		    d->to->ops->unit_name(d->to, j));
		d->jobs[j] = (struct job){ .d = d, .index = j };
	}
	d->info.parallel = target->deploy.parallel > 0 ? (size_t)target->deploy.parallel : 1;
	fleet_init(d);
	d->failed_host = units;
	d->info.protected_env = target->deploy.protected_env;
	deploy_enter(d, STAGE_GATHER);
	return d;
}

/* Refuses before anything started: no callback from the constructor. */
static struct deploy *refused_now(struct deploy *d, const char *why)
{
	guard_refuse(&d->info.verdict, "%s", why);
	deploy_enter(d, STAGE_REFUSED);
	return d;
}

struct deploy *deploy_attach(const struct deploy_ctx *ctx, const struct conf_env *env,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = deploy_alloc(ctx, env, changed, arg);
	char why[300];

	d->attach_only = true;
	d->info.action = "deploy";
	if (!d->info.hosts_len) {
		snprintf(why, sizeof why, "%s has no hosts in the configuration", env->name);
		return refused_now(d, why);
	}
	deploy_say(d, "reading %s%s", d->info.hosts[0].address,
	    d->info.hosts_len > 1 ? " and the other hosts" : "");
	d->target_rd = hostread_start(d->to, gather_target_done, d);
	return d;
}

/* Promote: the source, and a refusal when there is none to promote from ("" none). */
static void find_source(struct deploy *d, const struct deploy_request *req, char *why,
    size_t whysz)
{
	const struct conf *conf = d->ctx.conf;
	const struct conf_env *t = req->target;

	d->source = req->source;
	for (size_t i = 1; !d->source && i < conf->envs_len; i++)
		if (&conf->envs[i] == t)
			d->source = &conf->envs[i - 1];
	if (!d->source)
		snprintf(why, whysz, "%s comes first in the promotion order, so nothing is promoted "
		    "into it; use `gantry deploy %s TAG`", t->name, t->name);
	else if (d->source == t)
		snprintf(why, whysz, "%s cannot be promoted into itself", t->name);
	else if (!d->tag_wanted[0] && !d->source->hosts_len)
		snprintf(why, whysz, "%s has no hosts in the configuration, so gantry cannot read the "
		    "tag it runs; name the tag with --tag", d->source->name);
	if (d->source && d->source != t)
		deploy_copy(d->info.source, sizeof d->info.source, d->source->name);
}

struct deploy *deploy_new(const struct deploy_ctx *ctx, const struct deploy_request *req,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = deploy_alloc(ctx, req->target, changed, arg);
	const struct conf *conf = ctx->conf;
	const struct conf_env *t = req->target;
	char why[600] = "";

	d->info.kind = req->kind;
	d->info.action = deploy_kind_name(req->kind);
	deploy_copy(d->tag_wanted, sizeof d->tag_wanted, req->tag);
	d->allow_unverified = req->unverified;
	d->explicit_tag = req->tag && *req->tag;
	if (req->emergency)
		fleet_emergency(d, req->emergency);
	if (req->emergency && (req->kind != DEPLOY_ROLLBACK || !d->info.reason[0]))
		snprintf(why, sizeof why, "an emergency rollback needs its reason: -m REASON");
	else if (!conf->registry || !ctx->registry)
		snprintf(why, sizeof why, "a %s needs the registry: add a registry: section to %s (see "
		    "gantry.yml(5))", d->info.action, conf->path ? conf->path : "gantry.yml");
	else if (!d->info.hosts_len)
		snprintf(why, sizeof why, "%s has no hosts in the configuration: gantry deploys over "
		    "SSH to the hosts listed under hosts:", t->name);
	else if (req->kind == DEPLOY_PROMOTE)
		find_source(d, req, why, sizeof why);
	else if (req->kind == DEPLOY_DEPLOY && !d->tag_wanted[0])
		snprintf(why, sizeof why, "a deploy needs the tag to deploy");
	if (why[0])
		return refused_now(d, why);
	deploy_say(d, "reading %s%s and the registry", d->info.hosts[0].address,
	    d->info.hosts_len > 1 ? " and the other hosts" : "");
	/* GATHER: every answer is counted; all of them come from the loop, later */
	d->pending = 1;
	d->target_rd = hostread_start(d->to, gather_target_done, d);
	d->pending++;
	d->target_app = appcheck_start(ctx->http, t, gather_target_app_done, d);
	if (req->kind == DEPLOY_PROMOTE) {
		d->pending++;
		d->source_app = appcheck_start(ctx->http, d->source, gather_source_app_done, d);
		if (d->source->hosts_len) {
			d->pending++;
			const struct target *from = ctx->target(ctx->target_arg, d->source);

			d->source_rd = hostread_start(from, gather_source_done, d);
			gather_source_services(d, from);
		}
	}
	if (req->kind != DEPLOY_ROLLBACK && d->tag_wanted[0])
		gather_resolve(d);
	return d;
}

void deploy_free(struct deploy *d)
{
	if (!d)
		return;
	hostread_free(d->target_rd);
	hostread_free(d->source_rd);
	fleetdrive_leave(d, NULL);      /* another gantry may drive its rollout at once */
	fleet_stop(d);
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		unit_run_free(d->jobs[j].run);
		free(d->info.hosts[j].steps);
	}
	free(d->jobs);
	free(d->info.hosts);
	if (d->adopt_cmd)
		unit_cmd_stop(d->adopt_cmd);
	appcheck_free(d->source_app);
	appcheck_free(d->target_app);
	registry_cancel(d->adopt_app_lookup.op);
	registry_cancel(d->adopt_mig_lookup.op);
	registry_cancel(d->tag_now_lookup.op);
	for (size_t j = 0; d->image_checks && j < d->info.hosts_len; j++) {
		if (d->image_checks[j].cmd)
			unit_cmd_stop(d->image_checks[j].cmd);
		outbuf_clear(&d->image_checks[j].out);
	}
	free(d->image_checks);
	/* a lease being taken or let go stops here; one held stays, for whoever carries the
	   run on */
	for (size_t j = 0; d->lease_cmds && j < d->info.hosts_len; j++) {
		unit_cmd_stop(d->lease_cmds[j].cmd);
		outbuf_clear(&d->lease_cmds[j].out);
	}
	free(d->lease_cmds);
	for (size_t j = 0; d->source_services && j < d->source_units; j++) {
		if (d->source_services[j].cmd)
			unit_cmd_stop(d->source_services[j].cmd);
		running_free(&d->source_services[j].run);
	}
	free(d->source_services);
	retag_free(d->retag);
	if (d->app_op)
		registry_cancel(d->app_op);
	if (d->mig_op)
		registry_cancel(d->mig_op);
	outbuf_clear(&d->adopt_out);
	hoststate_free(&d->target_state);
	hoststate_free(&d->source_state);
	if (d->plan)
		d->to->ops->plan_free(d->plan);
	logbuf_free(d->info.output);
	free(d);
}
