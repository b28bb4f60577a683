/* Promotions, rollbacks and deploys as a state machine. Each stage starts what it
 * needs (host reads, app checks, registry lookups, commands on hosts) and counts the
 * answers in `pending`; the last answer moves the deploy to its next stage (advance).
 * The decisions are the guards' (src/guard.c); a run on one unit is a
 * struct unit_run (src/unitrun.h) that the target starts. */
#include "config.h"

#include "deploy.h"
#include "appcheck.h"
#include "deployenv.h"
#include "hostread.h"
#include "unitrun.h"
#include "outbuf.h"
#include "plan.h"
#include "retag.h"
#include "running.h"
#include "runscript.h"
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

/* The stages, and the phase a screen sees in each: X(NAME, phase) */
#define STAGES(X) \
	X(GATHER, DEPLOY_CHECKING)      /* the hosts' states, the apps, the registry */ \
	X(RESOLVE, DEPLOY_CHECKING)     /* rollback: the tag the history chose, in the registry */ \
	X(HOST_IMAGES, DEPLOY_CHECKING) /* the registry is down: are the images on each host? */ \
	X(PLANNED, DEPLOY_PLANNED)      /* waiting for a confirmation */ \
	X(RECHECK, DEPLOY_STARTING)     /* confirmed: the digests once more */ \
	X(ADOPT, DEPLOY_STARTING)       /* gantry adopt: the baseline written, host by host */ \
	X(START, DEPLOY_STARTING)       /* the run starting on a host (taking its lock) */ \
	X(RUN, DEPLOY_RUNNING)          /* the run followed on a host */ \
	X(RETAG, DEPLOY_RUNNING)        /* ready everywhere: deploy.retag's tags moved to it */ \
	X(REFUSED, DEPLOY_REFUSED) \
	X(DONE, DEPLOY_DONE)

enum stage {
#define STAGE_ENUM(name, phase) STAGE_##name,
	STAGES(STAGE_ENUM)
#undef STAGE_ENUM
};

static const enum deploy_phase stage_phase[] = {
#define STAGE_PHASE(name, phase) [STAGE_##name] = phase,
	STAGES(STAGE_PHASE)
#undef STAGE_PHASE
};

/* A digest looked up for a deploy into `out`, where only success matters (a baseline's
 * digests, what a tag points to now). */
struct digest_lookup {
	struct deploy *d;
	struct registry_op *op;         /* NULL when not in flight */
	char *out;
	size_t outsz;
};

/* One host's image check: which deploy, which host. */
struct image_check {
	struct deploy *d;
	size_t host;
	struct unit_cmd *cmd;
	struct outbuf out;
};

/* What the services of one of the source's hosts run (a promotion's cross-check). */
struct services_read {
	struct deploy *d;
	struct unit_cmd *cmd;
	struct outbuf out;
	struct running run;
	bool listed;                    /* `run` holds the host's list */
};

struct deploy {
	struct deploy_ctx ctx;
	struct deploy_info info;
	deploy_changed_fn changed;
	void *arg;
	const struct conf_env *target, *source;
	const struct target *to;        /* the target's ops: everything done to it */
	enum stage stage;
	int pending;                    /* answers the stage still waits for */
	bool attach_only;
	char tag_wanted[136];
	bool allow_unverified;
	bool explicit_tag;              /* promote --tag */

	/* gathered */
	struct hostread *target_rd, *source_rd;
	struct host_state target_state, source_state;
	bool target_read, source_read;
	char target_err[700], source_err[700];
	struct appcheck *source_app, *target_app;
	struct services_read *source_services;  /* one per source host */
	char services_drift[400];       /* "host, service worker runs sha-..." ("" none) */
	struct appcheck_result source_res, target_res;
	struct registry_op *app_op, *mig_op;
	char registry_err[400];
	/* an environment with no run recorded gets a baseline of what it runs */
	struct guard_images adopt;
	struct digest_lookup adopt_app_lookup, adopt_mig_lookup;
	char adopt_id[72];
	char *adopt_record;
	struct unit_cmd *adopt_cmd;
	struct outbuf adopt_out;
	/* a rollback */
	bool by_digest;                 /* to the recorded digests, not what the tag is now */
	struct digest_lookup tag_now_lookup;
	char tag_now[REGISTRY_DIGEST_MAX];
	bool registry_down;             /* with the images looked for on the hosts */
	char registry_down_msg[400];
	struct image_check *image_checks;       /* one per host */
	char images_missing[600];       /* the hosts without them, and why */

	/* the plan and the run */
	struct guard_images back;       /* where an automatic rollback goes */
	struct plan plan;               /* the plan of the host started last */
	bool have_plan;
	struct job *jobs;               /* one per host */
	bool stopping;                  /* a host failed, or a cancel: no other host starts */
	int64_t run_started;            /* Unix seconds, for the history */
	/* a run that failed on a host after others took the new tag: those go back */
	size_t failed_host;
	enum run_result failed_result;
	struct retag *retag;            /* deploy.retag, once every host is ready */
};

/* One host's run: what its unit_run's callbacks get. */
struct job {
	struct deploy *d;
	size_t index;
	struct unit_run *run;
};

static void advance(struct deploy *d);
static void run_start(struct deploy *d);
static void emit(struct deploy *d, enum bus_kind kind, size_t host, const struct bus_event *more);

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

static void notify(struct deploy *d)
{
	if (d->changed)
		d->changed(d->arg, d);
}

/* Moves to stage s; the bus hears of a plan and of a refusal. */
static void enter(struct deploy *d, enum stage s)
{
	d->stage = s;
	d->info.phase = stage_phase[s];
	if (s == STAGE_PLANNED || s == STAGE_REFUSED)
		emit(d, s == STAGE_PLANNED ? BUS_PLANNED : BUS_REFUSED, d->info.host_index,
		    &(struct bus_event){ .text = s == STAGE_REFUSED ? d->info.verdict.refusal : "" });
}

static void set_status(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct deploy *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->info.status, sizeof d->info.status, fmt, ap);
	va_end(ap);
}

/* Refuses with one more reason, and tells. */
static void refuse(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct deploy *d, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	guard_refuse(&d->info.verdict, "%s", why);
	enter(d, STAGE_REFUSED);
	notify(d);
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* One answer of the stage's is in: the last one moves the deploy on. */
static void answered(struct deploy *d)
{
	if (--d->pending > 0)
		notify(d);
	else
		advance(d);
}

/* ---- gathering: host states, the apps, the registry ---- */

/* Takes the merged state of env's hosts from a reader. */
static void read_state(const struct conf_env *env, struct hostread *r, struct host_state *st,
    bool *ok, char *err, size_t errsz)
{
	char why[600];

	if (hostread_result(r, st, why, sizeof why))
		*ok = true;
	else
		snprintf(err, errsz, "cannot read the state of %s's host %s", env->name, why);
}

/* A lookup answered: the digest when the registry gave one. */
static void digest_found(const struct registry_result *r, void *arg)
{
	struct digest_lookup *l = arg;

	l->op = NULL;
	if (r->error == REGISTRY_OK)
		snprintf(l->out, l->outsz, "%s", r->digest);
	answered(l->d);
}

/* Starts a lookup of repo:ref into out (pending counts it). */
static void digest_lookup(struct deploy *d, struct digest_lookup *l, const char *repo,
    const char *ref, char *out, size_t outsz)
{
	*l = (struct digest_lookup){ .d = d, .out = out, .outsz = outsz };
	d->pending++;
	l->op = registry_resolve(d->ctx.registry, repo, ref, false, digest_found, l);
}

static bool tag_allowed(void *arg, const char *tag)
{
	return registry_tag_allowed(arg, tag);
}

static void attach_follow(struct deploy *d);

static void target_done(void *arg, struct hostread *r)
{
	struct deploy *d = arg;
	const struct conf_registry *reg = d->ctx.conf->registry;

	read_state(d->target, r, &d->target_state, &d->target_read, d->target_err,
	    sizeof d->target_err);
	hostread_free(r);
	d->target_rd = NULL;
	if (d->attach_only) {
		attach_follow(d);
		return;
	}
	/* no run recorded: what deploy.env names may be adopted; the registry gives the
	 * digests deploy.env does not pin */
	if (d->target_read && guard_adopt_candidate(&d->target_state, tag_allowed, d->ctx.registry,
	    &d->adopt)) {
		if (!d->adopt.app[0])
			digest_lookup(d, &d->adopt_app_lookup, reg->app, d->adopt.tag, d->adopt.app,
			    sizeof d->adopt.app);
		if (!d->adopt.migrator[0])
			digest_lookup(d, &d->adopt_mig_lookup, reg->migrator, d->adopt.tag,
			    d->adopt.migrator, sizeof d->adopt.migrator);
	}
	answered(d);
}

static void resolve_start(struct deploy *d);

static void source_done(void *arg, struct hostread *r)
{
	struct deploy *d = arg;

	read_state(d->source, r, &d->source_state, &d->source_read, d->source_err,
	    sizeof d->source_err);
	hostread_free(r);
	d->source_rd = NULL;
	/* the tag, unless named on the command line (and resolved already), is what the
	 * source runs */
	if (!d->tag_wanted[0] && d->source_read && guard_source_tag(d->source, &d->source_state,
	    d->tag_wanted, sizeof d->tag_wanted, d->source_err, sizeof d->source_err))
		resolve_start(d);
	answered(d);
}

static void services_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct services_read *sr = arg;

	if (!is_stderr)
		outbuf_add(&sr->out, data, len, RUNNING_READ_MAX);
}

/* A source host's services: kept when listed; a host that cannot list them is not
 * cross-checked (the dashboard shows why). */
static void services_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct services_read *sr = arg;
	char why[200];

	(void)message;
	sr->cmd = NULL;
	sr->listed = how == UNIT_EXITED && status == 0 && sr->out.len < RUNNING_READ_MAX &&
	    running_parse(outbuf_text(&sr->out), sr->out.len, &sr->run, why, sizeof why);
	outbuf_clear(&sr->out);
	answered(sr->d);
}

static const struct unit_cmd_ops services_ops = {
	.output = services_output, .done = services_done, .bounded = true,
};

/* The first service of the source's app image on another build than its deploy.env. */
static void source_services_drift(struct deploy *d)
{
	char repo[RUNNING_REPO_MAX], tag[PAYLOAD_TAG_MAX], digest[RUNNING_DIGEST_MAX];
	const char *image = d->source_state.deploy_env.app_image;

	d->services_drift[0] = '\0';
	if (!d->source_services || !d->source_read || !d->source_state.has_deploy_env)
		return;
	running_image_repo(image, repo, sizeof repo);
	deployenv_image_tag(image, tag, sizeof tag);
	deployenv_image_digest(image, digest, sizeof digest);
	for (size_t j = 0; j < d->source->hosts_len; j++) {
		const struct services_read *sr = &d->source_services[j];
		const struct running_service *s = sr->listed ? running_drift(&sr->run, repo, tag, digest) :
		    NULL;

		if (s) {
			snprintf(d->services_drift, sizeof d->services_drift, "%s, service %s runs %s",
			    d->source->hosts[j].address, s->name, s->tag);
			return;
		}
	}
}

static void source_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->source_res = *res;
	appcheck_free(d->source_app);
	d->source_app = NULL;
	answered(d);
}

static void target_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->target_res = *res;
	appcheck_free(d->target_app);
	d->target_app = NULL;
	answered(d);
}

/* The registry's digest of an image of the tag (or of the recorded digest). */
static void resolved(const struct registry_result *r, void *arg, bool app)
{
	struct deploy *d = arg;
	char *digest = app ? d->info.app_digest : d->info.migrator_digest;
	size_t digestsz = app ? sizeof d->info.app_digest : sizeof d->info.migrator_digest;
	const char *repo = app ? d->ctx.conf->registry->app : d->ctx.conf->registry->migrator;
	bool recheck = d->stage == STAGE_RECHECK;

	if (app)
		d->app_op = NULL;
	else
		d->mig_op = NULL;
	if (r->error == REGISTRY_UNREACHABLE && d->by_digest && !recheck) {
		/* the images may still be on the hosts: checked there before refusing */
		d->registry_down = true;
		snprintf(d->registry_down_msg, sizeof d->registry_down_msg, "%s", r->message);
	} else if (r->error != REGISTRY_OK) {
		if (!d->registry_err[0] && d->by_digest)
			snprintf(d->registry_err, sizeof d->registry_err, "%s@%s, the image %s ran as, "
			    "cannot be had from the registry: %s", repo, digest, d->tag_wanted, r->message);
		else if (!d->registry_err[0])
			snprintf(d->registry_err, sizeof d->registry_err, "%s:%s: %s", repo, d->tag_wanted,
			    r->message);
	} else if (recheck && strcmp(digest, r->digest) != 0) {
		snprintf(d->registry_err, sizeof d->registry_err, "%s:%s now points to %s, not %s as "
		    "planned: the tag was re-pointed, so nothing was started; plan again to see what "
		    "it is now", repo, d->tag_wanted, r->digest, digest);
	} else {
		snprintf(digest, digestsz, "%s", r->digest);
	}
	answered(d);
}

static void app_resolved(const struct registry_result *r, void *arg)
{
	resolved(r, arg, true);
}

static void mig_resolved(const struct registry_result *r, void *arg)
{
	resolved(r, arg, false);
}

/* Looks up both images: by the recorded digests (a rollback to what ran), else by tag. */
static void resolve_start(struct deploy *d)
{
	const struct conf_registry *reg = d->ctx.conf->registry;

	d->registry_err[0] = '\0';
	if (d->by_digest) {
		d->pending += 2;
		d->app_op = registry_resolve(d->ctx.registry, reg->app, d->info.app_digest, false,
		    app_resolved, d);
		d->mig_op = registry_resolve(d->ctx.registry, reg->migrator, d->info.migrator_digest,
		    false, mig_resolved, d);
		return;
	}
	if (!registry_tag_allowed(d->ctx.registry, d->tag_wanted)) {
		snprintf(d->registry_err, sizeof d->registry_err, "%s does not match registry.tags (%s): "
		    "only those tags are deployed", d->tag_wanted, reg->tag_pattern);
		return;
	}
	copy_str(d->info.tag, sizeof d->info.tag, d->tag_wanted);
	d->pending += 2;
	d->app_op = registry_resolve(d->ctx.registry, reg->app, d->tag_wanted, false, app_resolved, d);
	d->mig_op = registry_resolve(d->ctx.registry, reg->migrator, d->tag_wanted, false, mig_resolved, d);
}

/* ---- a rollback with the registry down: are the images on every host? ---- */

static void image_check_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct image_check *ic = arg;

	(void)is_stderr;
	outbuf_add(&ic->out, data, len, 2000);
}

static void image_check_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct image_check *ic = arg;
	struct deploy *d = ic->d;
	const char *addr = d->target->hosts[ic->host].address;
	size_t n = strlen(d->images_missing);

	ic->cmd = NULL;
	if (how != UNIT_EXITED || status != 0)
		snprintf(d->images_missing + n, sizeof d->images_missing - n, "%s%s (%s)", n ? "; " : "",
		    addr, how != UNIT_EXITED ? (message && *message ? message : "not reached") :
		    "not there");
	outbuf_clear(&ic->out);
	answered(d);
}

static const struct unit_cmd_ops image_check_ops = {
	.output = image_check_output, .done = image_check_done, .bounded = true,
};

/* Runs deploy.image_check for the app image that ran, on every host. */
static void host_images_start(struct deploy *d)
{
	const struct conf_env *t = d->target;
	const struct conf_registry *reg = d->ctx.conf->registry;
	char *ref = plan_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);

	enter(d, STAGE_HOST_IMAGES);
	d->image_checks = xcalloc(t->hosts_len, sizeof *d->image_checks);
	d->pending = (int)t->hosts_len;
	set_status(d, "the registry cannot be reached: checking that the hosts hold %s", ref);
	for (size_t j = 0; j < t->hosts_len; j++) {
		struct image_check *ic = &d->image_checks[j];

		ic->d = d;
		ic->host = j;
		ic->cmd = d->to->ops->has_image(d->to, j, ref, &image_check_ops, ic);
	}
	free(ref);
	notify(d);
}

/* ---- the plan ---- */

static void step_from_run(struct deploy_step *s, const struct run_step *r, bool rollback)
{
	memset(s, 0, sizeof *s);
	copy_str(s->name, sizeof s->name, r->name);
	sanitize_text(r->command, strlen(r->command), s->command, sizeof s->command, 0);
	if (r->brief)
		sanitize_text(r->brief, strlen(r->brief), s->brief, sizeof s->brief, 0);
	else
		copy_str(s->brief, sizeof s->brief, s->command);
	s->rollback = rollback;
	s->switch_point = r->switch_point;
}

/* The host a screen shows: the first one running, else the first that failed (its
 * own run, not a rollback of the others), else the last that ran. */
static void focus(struct deploy *d)
{
	size_t n = d->info.hosts_len, pick = n, failed = n, last = d->info.host_index;
	const struct deploy_host *h;

	for (size_t j = 0; j < n; j++) {
		h = &d->info.hosts[j];
		if ((h->state == HOST_STARTING || h->state == HOST_RUNNING) && pick == n)
			pick = j;
		if (h->state == HOST_ENDED && h->result != RUN_SUCCEEDED && failed == n)
			failed = j;
		if (h->state == HOST_ENDED || h->state == HOST_RUNNING)
			last = j;
	}
	pick = pick < n ? pick : failed < n ? failed : last < n ? last : 0;
	h = &d->info.hosts[pick];
	d->info.host_index = pick;
	copy_str(d->info.host, sizeof d->info.host, h->address);
	d->info.steps = h->steps;
	d->info.steps_len = h->steps_len;
	d->info.switched = h->switched;
}

/* The plan for host j, into d->plan and that host's steps. */
static void make_plan(struct deploy *d, size_t j, const char *id)
{
	const struct conf_env *env = d->target;
	const struct conf_registry *reg = d->ctx.conf->registry;
	struct deploy_host *h = &d->info.hosts[j];
	bool back = h->went_back;
	struct plan_input in = {
		.conf = d->ctx.conf, .env = env, .host = &env->hosts[j],
		.first_host = j == 0, .id = id, .action = d->info.action,
		.source_env = d->info.source[0] ? d->info.source : NULL, .operator = d->ctx.operator,
		.started = d->run_started,
		.to = { d->info.tag, d->info.app_digest, d->info.migrator_digest },
		.back = { d->back.tag[0] ? d->back.tag : NULL, d->back.app, d->back.migrator },
		.offline = d->registry_down,
	};
	size_t n;
	char *ref;

	if (back) {
		/* the hosts switched before the failure go back: a rollback run of its own */
		in.action = "rollback";
		in.source_env = NULL;
		in.first_host = false;          /* `once` steps (migrations) never run back */
		in.to = (struct plan_images){ d->back.tag, d->back.app, d->back.migrator };
		in.back = (struct plan_images){ NULL, NULL, NULL };
	}
	if (d->have_plan)
		plan_free(&d->plan);
	plan_build(&in, &d->plan);
	d->have_plan = true;
	if (d->info.adopting[0] && !back) {
		struct adopt_spec a = {
			.id = d->adopt_id, .env = env->name, .tag = d->adopt.tag, .app_digest = d->adopt.app,
			.migrator_digest = d->adopt.migrator, .operator = d->ctx.operator,
			.at = d->run_started,
			.message = "adopted before the first run: app ready, reporting the tag deploy.env names",
		};

		free(d->adopt_record);
		d->adopt_record = runscript_adopt_record(&a);
		d->plan.spec.adopt_record = d->adopt_record;
	}
	n = d->plan.spec.steps_len + d->plan.spec.rollback_len;
	free(h->steps);
	h->steps = xcalloc(n + 1, sizeof *h->steps);
	h->steps_len = 0;
	for (size_t i = 0; i < d->plan.spec.steps_len; i++)
		step_from_run(&h->steps[h->steps_len++], &d->plan.spec.steps[i], false);
	h->rollback_base = h->steps_len;
	for (size_t i = 0; i < d->plan.spec.rollback_len; i++)
		step_from_run(&h->steps[h->steps_len++], &d->plan.spec.rollback[i], true);
	ref = plan_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);
	copy_str(d->info.app_image, sizeof d->info.app_image, ref);
	free(ref);
	ref = plan_image_ref(reg, reg->migrator, d->info.tag, d->info.migrator_digest);
	copy_str(d->info.migrator_image, sizeof d->info.migrator_image, ref);
	free(ref);
	focus(d);
}

/* ---- the guards, once everything is in ---- */

/* gantry adopt: the checks of an adoption, and its plan (nothing runs). */
static void judge_adopt(struct deploy *d)
{
	const struct conf_env *t = d->target;

	guard_adopt(t, &d->target_state, &d->target_res, d->adopt.tag, &d->info.verdict);
	if (guard_refused(&d->info.verdict)) {
		enter(d, STAGE_REFUSED);
		notify(d);
		return;
	}
	copy_str(d->info.adopting, sizeof d->info.adopting, d->adopt.tag);
	copy_str(d->info.tag, sizeof d->info.tag, d->adopt.tag);
	copy_str(d->info.current, sizeof d->info.current, d->adopt.tag);
	copy_str(d->info.app_digest, sizeof d->info.app_digest, d->adopt.app);
	copy_str(d->info.migrator_digest, sizeof d->info.migrator_digest, d->adopt.migrator);
	if (!d->adopt.app[0] || !d->adopt.migrator[0])
		guard_warn(&d->info.verdict, "the registry did not give %s's digests: the baseline is "
		    "recorded without them, and a rollback to it deploys what the tag points to then",
		    d->adopt.tag);
	copy_str(d->info.host, sizeof d->info.host, t->hosts[0].address);
	enter(d, STAGE_PLANNED);
	set_status(d, "confirm to record the baseline");
	notify(d);
}

/* Every fact is in: the guards say yes (the plan) or no (the refusal). */
static void judge(struct deploy *d)
{
	const struct conf_env *t = d->target;
	struct guard_verdict *v = &d->info.verdict;
	struct guard_facts f = {
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

	source_services_drift(d);
	if (d->info.kind == DEPLOY_PROMOTE && d->source_read && d->info.tag[0]) {
		copy_str(d->info.source_version, sizeof d->info.source_version, d->source_res.version);
		d->info.source_env_tag[0] = '\0';
		if (d->source_state.has_deploy_env)
			deployenv_image_tag(d->source_state.deploy_env.app_image, d->info.source_env_tag,
			    sizeof d->info.source_env_tag);
	}
	guard_check(&f, v, d->info.chosen, sizeof d->info.chosen);
	if (guard_refused(v)) {
		enter(d, STAGE_REFUSED);
		notify(d);
		return;
	}
	d->info.redeploy = d->info.current[0] && strcmp(d->info.current, d->info.tag) == 0;
	if (d->adopt.tag[0] && guard_adopt_decide(&d->target_state, &d->target_res, d->adopt.tag,
	    why, sizeof why))
		copy_str(d->info.adopting, sizeof d->info.adopting, d->adopt.tag);
	guard_back(&d->target_state.history, d->info.tag, d->info.adopting[0] ? &d->adopt : NULL,
	    &d->back);
	if (t->deploy.auto_rollback && d->back.tag[0])
		copy_str(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back.tag);
	if (d->ctx.registry && t->deploy.retag)
		copy_str(d->info.retag, sizeof d->info.retag, t->deploy.retag);
	guard_plan_warnings(&f, d->adopt.tag, why, d->back.tag, v);
	make_plan(d, 0, "ID");
	enter(d, STAGE_PLANNED);
	set_status(d, "%s", d->info.protected_env ? "type the environment's name to confirm" :
	    "confirm to start");
	notify(d);
}

/* The images are known (or known to be unreachable): on to the hosts, or the guards. */
static void images_known(struct deploy *d)
{
	if (d->registry_down && !d->registry_err[0] && !d->image_checks)
		host_images_start(d);
	else
		judge(d);
}

/* GATHER is over. */
static void gathered(struct deploy *d)
{
	struct guard_images to;
	bool never_verified;

	if (!d->target_read) {
		refuse(d, "%s", d->target_err);
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
		enter(d, STAGE_REFUSED);
		notify(d);
		return;
	}
	d->info.unverified = never_verified;
	copy_str(d->tag_wanted, sizeof d->tag_wanted, to.tag);
	copy_str(d->info.tag, sizeof d->info.tag, to.tag);
	if (d->by_digest) {
		copy_str(d->info.app_digest, sizeof d->info.app_digest, to.app);
		copy_str(d->info.migrator_digest, sizeof d->info.migrator_digest, to.migrator);
	}
	enter(d, STAGE_RESOLVE);
	d->pending = 1;
	resolve_start(d);
	if (d->by_digest)
		digest_lookup(d, &d->tag_now_lookup, d->ctx.conf->registry->app, d->tag_wanted,
		    d->tag_now, sizeof d->tag_now);
	answered(d);
}

/* RECHECK is over: the digests did not move, or nothing starts. */
static void rechecked(struct deploy *d)
{
	if (d->registry_err[0]) {
		refuse(d, "%s", d->registry_err);
		return;
	}
	run_start(d);
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
		notify(d);
		break;
	}
}

/* ---- gantry adopt: the baseline written on each host in turn ---- */

static void adopt_write(struct deploy *d);

static void adopt_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct deploy *d = arg;

	if (!is_stderr)
		outbuf_add(&d->adopt_out, data, len, HOSTSTATE_MAX_BYTES);
}

static void adopt_written(void *arg, enum unit_end how, int status, const char *message)
{
	struct deploy *d = arg;
	const char *out = outbuf_text(&d->adopt_out);
	char first[200];

	d->adopt_cmd = NULL;
	sanitize_text(out, strcspn(out, "\n"), first, sizeof first, 0);
	outbuf_clear(&d->adopt_out);
	if (how == UNIT_EXITED && status == 0) {
		if (++d->info.host_index < d->info.hosts_len) {
			adopt_write(d);
			return;
		}
		d->info.host_index--;
		d->info.result = RUN_ADOPTED;
		set_status(d, "%s's baseline is %s", d->target->name, d->info.tag);
	} else {
		d->info.result = RUN_FAILED;
		set_status(d, "on %s: %s", d->info.host, how != UNIT_EXITED ?
		    (message && *message ? message : "the link dropped") : first[0] ? first : "failed");
	}
	enter(d, STAGE_DONE);
	d->info.ended_ms = loop_clock_ms();
	emit(d, BUS_ENDED, d->info.host_index, &(struct bus_event){ .result = d->info.result,
	    .text = d->info.status });
	notify(d);
}

static const struct unit_cmd_ops adopt_ops = {
	.output = adopt_output, .done = adopt_written, .bounded = true,
};

static void adopt_write(struct deploy *d)
{
	char *rec;
	struct adopt_spec a = {
		.id = d->adopt_id, .env = d->target->name, .tag = d->adopt.tag, .app_digest = d->adopt.app,
		.migrator_digest = d->adopt.migrator, .operator = d->ctx.operator, .at = now_s(),
		.message = "gantry adopt: app ready, reporting the tag deploy.env names",
	};

	if (d->info.host_index == 0) {
		char id[72];

		plan_new_id(id, sizeof id, now_s());
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->info.started_ms = loop_clock_ms();
	}
	copy_str(d->info.host, sizeof d->info.host, d->target->hosts[d->info.host_index].address);
	rec = runscript_adopt_record(&a);
	set_status(d, "recording the baseline on %s", d->info.host);
	d->adopt_cmd = d->to->ops->adopt(d->to, d->info.host_index, rec, &adopt_ops, d);
	free(rec);
	notify(d);
}

/* ---- the run on each host ---- */

/* Tells the bus (and, for a screen, `changed` after). */
static void emit(struct deploy *d, enum bus_kind kind, size_t host, const struct bus_event *more)
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

static struct deploy_step *step_at(struct deploy_host *h, bool rollback, long n)
{
	size_t base = rollback ? h->rollback_base : 0;
	size_t end = rollback ? h->steps_len : h->rollback_base;

	if (n < 1 || base + (size_t)n - 1 >= end)
		return NULL;
	return &h->steps[base + (size_t)n - 1];
}

static void on_started(void *arg)
{
	struct job *job = arg;
	struct deploy *d = job->d;

	d->info.hosts[job->index].state = HOST_RUNNING;
	if (d->stage == STAGE_START)
		enter(d, STAGE_RUN);
	focus(d);
	set_status(d, "running on %s", d->info.running > 1 ? "several hosts" : d->info.host);
	emit(d, BUS_STARTED, job->index, NULL);
	notify(d);
}

static void host_ended(struct deploy *d, struct job *job);

static void on_not_started(void *arg, const struct unit_run_not_started *n)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	const struct host_lock *lock = &n->lock;
	const char *addr = d->info.hosts[job->index].address;
	char why[600];

	switch (n->why) {
	case UNIT_RUN_LOCKED:
		snprintf(why, sizeof why, "%s was locked by %s just now (%s): exactly one run holds it; "
		    "nothing was started", d->target->name, lock->owner[0] ? lock->owner : "someone",
		    lock->message[0] ? lock->message : "no message");
		break;
	case UNIT_RUN_FROZEN:
		snprintf(why, sizeof why, "%s was frozen just now (%s); nothing was started",
		    d->target->name, n->text);
		break;
	case UNIT_RUN_FAILED:
		snprintf(why, sizeof why, "the run could not start on %s (exit %d%s%s)", addr, n->status,
		    n->text[0] ? ": " : "", n->text);
		break;
	case UNIT_RUN_LINK:
	default:
		/* it may have started before the link went */
		snprintf(why, sizeof why, "the link to %s dropped while starting the run (%s); check "
		    "%s's history before trying again", addr, n->text, d->target->name);
		break;
	}
	d->info.hosts[job->index].state = HOST_NOT_STARTED;
	if (d->stage == STAGE_START && d->info.running == 1 && !d->info.fleet_rollback) {
		/* nothing ran anywhere: the deploy is refused, as a guard would */
		d->info.running = 0;
		refuse(d, "%s", why);
		return;
	}
	/* other hosts run, or ran: this one counts as failed */
	d->info.hosts[job->index].result = RUN_FAILED;
	set_status(d, "%s", why);
	host_ended(d, job);
}

/* Following begins again: the host replays the run from its start. */
static void on_replay(void *arg)
{
	struct job *job = arg;
	struct deploy_host *h = &job->d->info.hosts[job->index];

	for (size_t i = 0; i < h->steps_len; i++) {
		h->steps[i].state = STEP_PENDING;
		h->steps[i].ms = 0;
	}
	h->switched = false;
	focus(job->d);
}

static void on_event(void *arg, const struct run_event *ev)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct deploy_host *h = &d->info.hosts[job->index];
	struct deploy_step *s;
	struct bus_event be = { 0 };

	switch (ev->kind) {
	case RUNEVENT_STEP_START:
	case RUNEVENT_STEP_END:
		s = step_at(h, ev->rollback, ev->step);
		if (!s)
			return;
		be.step = (size_t)(s - h->steps);
		be.step_name = s->name;
		if (ev->kind == RUNEVENT_STEP_START) {
			s->state = STEP_RUNNING;
			s->started_ms = loop_clock_ms();
			emit(d, BUS_STEP_STARTED, job->index, &be);
			if (s->switch_point) {
				h->switched = true;
				emit(d, BUS_SWITCHED, job->index, &be);
			}
		} else {
			s->state = ev->status == 0 ? STEP_OK : STEP_FAILED;
			s->exit = ev->status;
			s->ms = ev->took_ms;
			be.status = ev->status;
			emit(d, BUS_STEP_ENDED, job->index, &be);
		}
		break;
	case RUNEVENT_CANCEL:
		copy_str(d->info.cancel, sizeof d->info.cancel, ev->word);
		be.text = ev->word;
		emit(d, BUS_CANCEL, job->index, &be);
		break;
	case RUNEVENT_RUN_END:
		h->result = ev->result;
		if (ev->ms > d->info.run_ended_ms)
			d->info.run_ended_ms = ev->ms;
		break;
	case RUNEVENT_RUN_START:
		/* the first host's start: a run over several hosts lasts from it to the last end */
		if (!d->info.run_started_ms)
			d->info.run_started_ms = ev->ms;
		break;
	case RUNEVENT_ROLLBACK_START:
		break;
	}
	focus(d);
}

static void on_output(void *arg, char *line, size_t len)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = line };

	/* the line goes to the buffer, which owns it from here; listeners see it first */
	emit(d, BUS_OUTPUT, job->index, &be);
	logbuf_push(d->info.output, (unsigned)job->index, LOG_OUT, line, len);
	d->info.output_seq++;
}

static void on_heard(void *arg)
{
	struct job *job = arg;

	notify(job->d);
}

static void on_lost(void *arg, const char *why)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = d->info.status };

	set_status(d, "link to %s lost (%s): the run goes on there; re-attaching",
	    d->info.hosts[job->index].address, why);
	emit(d, BUS_LINK, job->index, &be);
	notify(d);
}

static void on_follow_failed(void *arg, int status)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = d->info.status };

	set_status(d, "cannot follow run %s on %s (exit %d)", d->info.run_id,
	    d->info.hosts[job->index].address, status);
	emit(d, BUS_LINK, job->index, &be);
	notify(d);
}

static void on_cancel_failed(void *arg)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = "not delivered" };

	copy_str(d->info.cancel, sizeof d->info.cancel, "not delivered");
	d->info.cancel_sent = false;
	emit(d, BUS_CANCEL, job->index, &be);
	notify(d);
}

static void on_ended(void *arg)
{
	struct job *job = arg;

	host_ended(job->d, job);
}

static const struct unit_run_ops run_ops = {
	.started = on_started, .not_started = on_not_started, .replay = on_replay,
	.event = on_event, .output = on_output, .heard = on_heard, .ended = on_ended,
	.lost = on_lost, .follow_failed = on_follow_failed, .cancel_failed = on_cancel_failed,
};

/* Starts the plan on host j. */
static void host_start(struct deploy *d, size_t j)
{
	struct deploy_host *h = &d->info.hosts[j];

	make_plan(d, j, d->info.run_id);
	h->state = HOST_STARTING;
	h->result = RUN_RESULT_NONE;
	h->switched = false;
	d->info.running++;
	focus(d);
	set_status(d, "starting on %s", h->address);
	unit_run_free(d->jobs[j].run);
	d->jobs[j].run = d->to->ops->start(d->to, j, &d->plan.spec, &run_ops, &d->jobs[j]);
}

/* Starts what may start: the first host alone, then up to `parallel` at once. */
static void schedule(struct deploy *d)
{
	size_t limit = d->info.parallel;
	const struct deploy_host *first = &d->info.hosts[0];

	if (d->stopping)
		return;
	/* the first host runs alone (it runs the `once` steps), unless this is the rollback
	   of the hosts that had switched */
	if (!d->info.fleet_rollback && first->state != HOST_ENDED)
		limit = 1;
	for (size_t j = 0; j < d->info.hosts_len && d->info.running < limit; j++)
		if (d->info.hosts[j].state == HOST_WAITING)
			host_start(d, j);
}

/* A new run over the hosts, from the first. */
static void run_start(struct deploy *d)
{
	char id[72];

	plan_new_id(id, sizeof id, now_s());
	copy_str(d->info.run_id, sizeof d->info.run_id, id);
	if (!d->info.fleet_rollback) {
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->info.started_ms = loop_clock_ms();
	}
	d->run_started = now_s();
	d->stopping = false;
	d->info.result = RUN_RESULT_NONE;
	d->info.cancel[0] = '\0';
	d->info.cancel_sent = false;
	enter(d, STAGE_START);
	schedule(d);
	notify(d);
}

/* The hosts, listed: "root@f1, root@f2" (those `pick` says). */
static void list_hosts(struct deploy *d, bool (*pick)(const struct deploy_host *), char *out,
    size_t outsz, size_t *count)
{
	out[0] = '\0';
	*count = 0;
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		if (!pick(&d->info.hosts[j]))
			continue;
		if (strlen(out) + 80 < outsz)
			snprintf(out + strlen(out), outsz - strlen(out), "%s%s", *count ? ", " : "",
			    d->info.hosts[j].address);
		else if (!strstr(out, ", ..."))
			snprintf(out + strlen(out), outsz - strlen(out), ", ...");
		(*count)++;
	}
}

static bool took_it(const struct deploy_host *h)
{
	return h->state == HOST_ENDED && h->result == RUN_SUCCEEDED;
}

static bool untouched(const struct deploy_host *h)
{
	return h->state == HOST_WAITING || h->state == HOST_NOT_STARTED;
}

/* With an automatic rollback, the hosts that took the new tag before another failed go
 * back to the tag before, so the environment ends on one tag. True when that starts. */
static bool fleet_rollback_start(struct deploy *d)
{
	bool any = false;

	if (d->attach_only || d->info.fleet_rollback || !d->target->deploy.auto_rollback ||
	    !d->back.tag[0])
		return false;
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		struct deploy_host *h = &d->info.hosts[j];

		if (took_it(h)) {
			h->state = HOST_WAITING;
			h->went_back = true;
			any = true;
		} else if (h->state == HOST_WAITING) {
			h->state = HOST_NOT_STARTED;    /* never reached: the way back is not its */
		}
	}
	if (!any)
		return false;
	copy_str(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back.tag);
	d->info.fleet_rollback = true;
	run_start(d);
	return true;
}

/* No host runs anything more: the environment's result. */
/* The deploy ended: the bus and the screen hear how. */
static void run_finish(struct deploy *d)
{
	enter(d, STAGE_DONE);
	d->info.ended_ms = loop_clock_ms();
	emit(d, BUS_ENDED, d->info.host_index, &(struct bus_event){ .result = d->info.result,
	    .text = d->info.status });
	notify(d);
}

/* deploy.retag's tags moved, or not: the deploy ends either way. */
static void retagged(void *arg, const char *error)
{
	struct deploy *d = arg;

	retag_free(d->retag);
	d->retag = NULL;
	if (error) {
		copy_str(d->info.retag_error, sizeof d->info.retag_error, error);
		set_status(d, "%s on every host, but %s still names what it named before: %s",
		    run_result_name(d->info.result), d->info.retag, error);
	} else {
		d->info.retagged = true;
		set_status(d, "%s; %s now name%s %s in the registry", run_result_name(d->info.result),
		    d->info.retag, strchr(d->info.retag, ' ') ? "" : "s", d->info.tag);
	}
	emit(d, BUS_RETAGGED, d->info.host_index, &(struct bus_event){ .text = d->info.status });
	run_finish(d);
}

static void run_done(struct deploy *d)
{
	const char *failed_at = d->failed_host < d->info.hosts_len ?
	    d->info.hosts[d->failed_host].address : "";
	const char *fr = run_result_name(d->failed_result);
	bool sequential = d->info.parallel <= 1;
	char list[300];
	size_t n;

	focus(d);
	if (d->info.fleet_rollback) {
		size_t back_failed = d->info.hosts_len;

		/* the failure, and whether every host is back */
		for (size_t j = 0; j < d->info.hosts_len && back_failed == d->info.hosts_len; j++)
			if (d->info.hosts[j].went_back && d->info.hosts[j].result != RUN_SUCCEEDED)
				back_failed = j;
		list_hosts(d, took_it, list, sizeof list, &n);
		d->info.result = back_failed == d->info.hosts_len ? RUN_ROLLED_BACK : RUN_ROLLBACK_FAILED;
		if (d->info.result == RUN_ROLLED_BACK)
			set_status(d, "%s failed on %s (%s); the %zu host%s %s went back to %s: every host "
			    "runs %s", d->info.tag, failed_at, fr, n, n == 1 ? "" : "s",
			    sequential ? "before it" : "that had taken it", d->back.tag, d->back.tag);
		else
			set_status(d, "%s failed on %s (%s), and rolling %s back to %s failed: the hosts "
			    "differ; `gantry history %s` shows where each one stands", d->info.tag, failed_at,
			    fr, d->info.hosts[back_failed].address, d->back.tag, d->target->name);
	} else if (d->failed_host < d->info.hosts_len) {
		const struct deploy_host *fh = &d->info.hosts[d->failed_host];
		size_t left;

		d->info.result = d->failed_result;
		list_hosts(d, took_it, list, sizeof list, &n);
		if (n && !d->attach_only) {
			set_status(d, "%s on %s, so the hosts differ: %s run%s %s, while %s %s. `gantry "
			    "rollback %s` puts every host back", fr, failed_at, list, n == 1 ? "s" : "",
			    d->info.tag, failed_at, fh->switched ? "was switched when it failed" :
			    "still runs what it ran before (deploy.env put back)", d->target->name);
			d->info.hosts_differ = true;
		} else if (list_hosts(d, untouched, list, sizeof list, &left), left && !d->attach_only) {
			set_status(d, "%s on %s; the other %zu host(s) were not touched", fr, failed_at, left);
		} else {
			set_status(d, "%s", fr);
		}
	} else {
		d->info.result = RUN_SUCCEEDED;
		set_status(d, "%s", run_result_name(d->info.result));
		if (d->info.retag[0] && !d->attach_only) {
			enter(d, STAGE_RETAG);
			set_status(d, "ready on every host; moving %s to %s in the registry",
			    d->info.retag, d->info.tag);
			notify(d);
			d->retag = retag_start(d->ctx.registry, d->ctx.conf->registry, d->info.retag,
			    d->info.app_digest, d->info.migrator_digest, retagged, d);
			return;
		}
	}
	run_finish(d);
}

/* Host job's run ended (or never started while others ran). */
static void host_ended(struct deploy *d, struct job *job)
{
	struct deploy_host *h = &d->info.hosts[job->index];
	struct bus_event be = { .result = h->result };
	bool ok = h->result == RUN_SUCCEEDED;

	if (h->state != HOST_NOT_STARTED)
		h->state = HOST_ENDED;
	d->info.running--;
	for (size_t i = 0; i < h->steps_len; i++)
		if (h->steps[i].state == STEP_PENDING || h->steps[i].state == STEP_RUNNING)
			h->steps[i].state = STEP_SKIPPED;
	emit(d, ok ? BUS_READY : h->result == RUN_ROLLED_BACK ? BUS_ROLLED_BACK : BUS_FAILED,
	    job->index, &be);
	if (!ok) {
		/* no other host starts; those running end as they do */
		d->stopping = true;
		if (!d->info.fleet_rollback && d->failed_host >= d->info.hosts_len) {
			d->failed_host = job->index;
			d->failed_result = h->result;
		}
	}
	if (d->attach_only) {
		d->failed_host = ok ? d->info.hosts_len : job->index;
		d->failed_result = h->result;
		run_done(d);
		return;
	}
	schedule(d);
	if (d->info.running > 0) {
		focus(d);
		set_status(d, "running on %s", d->info.running > 1 ? "several hosts" : d->info.host);
		notify(d);
		return;
	}
	if (d->stopping && fleet_rollback_start(d))
		return;
	run_done(d);
}

void deploy_confirm(struct deploy *d)
{
	if (d->stage != STAGE_PLANNED)
		return;
	if (d->info.kind == DEPLOY_ADOPT) {
		enter(d, STAGE_ADOPT);
		d->info.host_index = 0;
		adopt_write(d);
		return;
	}
	enter(d, STAGE_RECHECK);
	set_status(d, "checking %s's digests again", d->info.tag);
	d->pending = 1;
	/* with the registry down, the images were checked on the hosts; digests cannot move */
	if (!d->registry_down)
		resolve_start(d);
	answered(d);
}

bool deploy_cancel(struct deploy *d)
{
	bool asked = false;

	if (d->stage != STAGE_RUN || d->info.cancel_sent)
		return false;
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		const struct deploy_host *h = &d->info.hosts[j];

		if (h->state == HOST_RUNNING && !h->switched && d->jobs[j].run &&
		    unit_run_cancel(d->jobs[j].run)) {
			asked = true;
			emit(d, BUS_CANCEL, j, &(struct bus_event){ .text = "asked" });
		}
	}
	if (!asked)
		return false;
	d->stopping = true;             /* and no other host starts */
	d->info.cancel_sent = true;
	copy_str(d->info.cancel, sizeof d->info.cancel, "asked");
	notify(d);
	return true;
}

/* ---- attaching to what a host runs or ran ---- */

static void attach_follow(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct history_run *run;
	struct deploy_host *h;
	size_t j;

	if (!d->target_read) {
		refuse(d, "%s", d->target_err);
		return;
	}
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, d->info.current, sizeof d->info.current);
	run = st->current[0] ? history_find(&st->history, st->current) : NULL;
	if (!run) {
		refuse(d, "%s has no run recorded", d->target->name);
		return;
	}
	if (run->corrupt) {
		refuse(d, "%s's history holds a run whose id, tag or digests are not what gantry writes "
		    "(id \"%s\"): the record is corrupt or was planted, so it is not followed; look at "
		    ".gantry/history.jsonl on %s", d->target->name, run->id,
		    d->target->hosts[run->host_index < d->target->hosts_len ? run->host_index : 0].address);
		return;
	}
	copy_str(d->info.run_id, sizeof d->info.run_id, run->id);
	copy_str(d->info.tag, sizeof d->info.tag, run->tag);
	copy_str(d->info.app_digest, sizeof d->info.app_digest, run->app_digest);
	copy_str(d->info.migrator_digest, sizeof d->info.migrator_digest, run->migrator_digest);
	copy_str(d->info.source, sizeof d->info.source, run->source);
	copy_str(d->info.rollback_tag, sizeof d->info.rollback_tag, run->rollback_tag);
	copy_str(d->info.operator, sizeof d->info.operator, run->operator);
	d->info.kind = strcmp(run->action, "promote") == 0 ? DEPLOY_PROMOTE :
	    strcmp(run->action, "rollback") == 0 ? DEPLOY_ROLLBACK : DEPLOY_DEPLOY;
	d->info.action = deploy_kind_name(d->info.kind);
	d->info.attached = true;
	if (d->ctx.conf->registry) {
		const struct conf_registry *reg = d->ctx.conf->registry;
		char *ref = plan_image_ref(reg, reg->app, run->tag, run->app_digest);

		copy_str(d->info.app_image, sizeof d->info.app_image, ref);
		free(ref);
		ref = plan_image_ref(reg, reg->migrator, run->tag, run->migrator_digest);
		copy_str(d->info.migrator_image, sizeof d->info.migrator_image, ref);
		free(ref);
	}
	/* follow the run where it is alive, else where it ended worst */
	j = st->lock.held && st->lock.runner_alive ? st->current_host : run->host_index;
	if (j >= d->target->hosts_len)
		j = 0;
	h = &d->info.hosts[j];
	h->steps = xcalloc(run->planned + run->rollback_planned + 1, sizeof *h->steps);
	for (size_t i = 0; i < run->planned; i++)
		copy_str(h->steps[h->steps_len++].name, sizeof h->steps[0].name, run->step_names[i]);
	h->rollback_base = h->steps_len;
	for (size_t i = 0; i < run->rollback_planned; i++) {
		struct deploy_step *s = &h->steps[h->steps_len++];

		copy_str(s->name, sizeof s->name, run->rollback_names[i]);
		s->rollback = true;
	}
	h->state = HOST_RUNNING;
	d->info.running = 1;
	enter(d, STAGE_RUN);
	focus(d);
	set_status(d, "%s on %s", run->result != RUN_RESULT_NONE ? "replaying the run" :
	    "re-attached to the run", d->info.host);
	emit(d, BUS_STARTED, j, NULL);
	d->jobs[j].run = d->to->ops->follow(d->to, j, d->info.run_id, &run_ops, &d->jobs[j]);
	notify(d);
}

/* ---- life cycle ---- */

static struct deploy *deploy_alloc(const struct deploy_ctx *ctx, const struct conf_env *target,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = xcalloc(1, sizeof *d);

	d->ctx = *ctx;
	d->to = ctx->target(ctx->target_arg, target);
	d->changed = changed;
	d->arg = arg;
	d->target = target;
	d->info.output = logbuf_new(OUTPUT_LINES, OUTPUT_LINES * 256);
	copy_str(d->info.env, sizeof d->info.env, target->name);
	copy_str(d->info.operator, sizeof d->info.operator, ctx->operator ? ctx->operator : "");
	d->info.hosts_len = target->hosts_len;
	d->info.hosts = xcalloc(target->hosts_len + 1, sizeof *d->info.hosts);
	d->jobs = xcalloc(target->hosts_len + 1, sizeof *d->jobs);
	for (size_t j = 0; j < target->hosts_len; j++) {
		copy_str(d->info.hosts[j].address, sizeof d->info.hosts[j].address,
		    target->hosts[j].address);
		d->jobs[j] = (struct job){ .d = d, .index = j };
	}
	d->info.parallel = target->deploy.parallel > 0 ? (size_t)target->deploy.parallel : 1;
	d->failed_host = target->hosts_len;
	d->info.protected_env = target->deploy.protected_env;
	enter(d, STAGE_GATHER);
	return d;
}

/* Refuses before anything started: no callback from the constructor. */
static struct deploy *refused_now(struct deploy *d, const char *why)
{
	guard_refuse(&d->info.verdict, "%s", why);
	enter(d, STAGE_REFUSED);
	return d;
}

struct deploy *deploy_attach(const struct deploy_ctx *ctx, const struct conf_env *env,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = deploy_alloc(ctx, env, changed, arg);
	char why[300];

	d->attach_only = true;
	d->info.action = "deploy";
	if (!env->hosts_len) {
		snprintf(why, sizeof why, "%s has no hosts in the configuration", env->name);
		return refused_now(d, why);
	}
	set_status(d, "reading %s%s", env->hosts[0].address, env->hosts_len > 1 ? " and the other hosts" : "");
	d->target_rd = hostread_start(d->to, target_done, d);
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
		copy_str(d->info.source, sizeof d->info.source, d->source->name);
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
	copy_str(d->tag_wanted, sizeof d->tag_wanted, req->tag);
	d->allow_unverified = req->unverified;
	d->explicit_tag = req->tag && *req->tag;
	if (!conf->registry || !ctx->registry)
		snprintf(why, sizeof why, "a %s needs the registry: add a registry: section to %s (see "
		    "gantry.yml(5))", d->info.action, conf->path ? conf->path : "gantry.yml");
	else if (!t->hosts_len)
		snprintf(why, sizeof why, "%s has no hosts in the configuration: gantry deploys over "
		    "SSH to the hosts listed under hosts:", t->name);
	else if (req->kind == DEPLOY_PROMOTE)
		find_source(d, req, why, sizeof why);
	else if (req->kind == DEPLOY_DEPLOY && !d->tag_wanted[0])
		snprintf(why, sizeof why, "a deploy needs the tag to deploy");
	if (why[0])
		return refused_now(d, why);
	set_status(d, "reading %s%s and the registry", t->hosts[0].address,
	    t->hosts_len > 1 ? " and the other hosts" : "");
	/* GATHER: every answer is counted; all of them come from the loop, later */
	d->pending = 1;
	d->target_rd = hostread_start(d->to, target_done, d);
	d->pending++;
	d->target_app = appcheck_start(ctx->http, t, target_app_done, d);
	if (req->kind == DEPLOY_PROMOTE) {
		d->pending++;
		d->source_app = appcheck_start(ctx->http, d->source, source_app_done, d);
		if (d->source->hosts_len) {
			d->pending++;
			const struct target *from = ctx->target(ctx->target_arg, d->source);

			d->source_rd = hostread_start(from, source_done, d);
			/* what each service there runs: a promotion takes a tag all of them ran */
			d->source_services = xcalloc(d->source->hosts_len, sizeof *d->source_services);
			for (size_t j = 0; j < d->source->hosts_len; j++) {
				struct services_read *sr = &d->source_services[j];

				sr->d = d;
				sr->cmd = from->ops->running(from, j, &services_ops, sr);
				if (sr->cmd)
					d->pending++;
			}
		}
	}
	if (req->kind != DEPLOY_ROLLBACK && d->tag_wanted[0])
		resolve_start(d);
	return d;
}

void deploy_free(struct deploy *d)
{
	if (!d)
		return;
	hostread_free(d->target_rd);
	hostread_free(d->source_rd);
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
	free(d->adopt_record);
	for (size_t j = 0; d->image_checks && j < d->target->hosts_len; j++) {
		if (d->image_checks[j].cmd)
			unit_cmd_stop(d->image_checks[j].cmd);
		outbuf_clear(&d->image_checks[j].out);
	}
	free(d->image_checks);
	for (size_t j = 0; d->source_services && j < d->source->hosts_len; j++) {
		if (d->source_services[j].cmd)
			unit_cmd_stop(d->source_services[j].cmd);
		outbuf_clear(&d->source_services[j].out);
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
	if (d->have_plan)
		plan_free(&d->plan);
	logbuf_free(d->info.output);
	free(d);
}
