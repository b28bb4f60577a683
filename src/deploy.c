/* Promotions, rollbacks and deploys: gather what the hosts, the registry and the source
 * say, refuse with a reason or show the plan, then start the run on each host in turn
 * and follow its events and output until it ends. */
#include "config.h"

#include "deploy.h"
#include "appcheck.h"
#include "deployenv.h"
#include "outbuf.h"
#include "duration.h"
#include "hostread.h"
#include "plan.h"
#include "runevent.h"
#include "runscript.h"
#include "sanitize.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define OUTPUT_LINES 5000
#define REFOLLOW_MS 1000

/* Splits a byte stream into lines, at most LINE_MAX_BYTES each. */
struct splitter {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

/* A digest looked up for a deploy into `out`, where only success matters (a baseline's
 * digests, what a tag points to now). */
struct digest_lookup {
	struct deploy *d;
	struct registry_op *op;         /* NULL when not in flight */
	char *out;
	size_t outsz;
};

struct deploy {
	struct deploy_ctx ctx;
	struct deploy_info info;
	deploy_changed_fn changed;
	void *arg;
	const struct conf_env *target, *source;
	bool attach_only;
	char tag_wanted[136];

	/* checking */
	int pending;
	struct hostread *target_rd, *source_rd;
	struct host_state target_state, source_state;
	bool target_read, source_read;
	char target_err[700], source_err[700];
	struct appcheck *source_app, *target_app;
	struct appcheck_result source_res, target_res;
	/* adoption: an environment with no run recorded gets a baseline of what it runs */
	char adopt_tag[136], adopt_app[80], adopt_mig[80];
	struct digest_lookup adopt_app_lookup, adopt_mig_lookup;
	char adopt_id[72];
	char *adopt_record;
	struct registry_op *app_op, *mig_op;
	bool resolved;
	char registry_err[400];
	char back_tag[136], back_app[80], back_mig[80];
	bool allow_unverified;
	bool explicit_tag;              /* promote --tag */
	bool by_digest;                 /* rollback: the recorded digests are resolved, not the tag */
	struct digest_lookup tag_now_lookup;    /* rollback: what the tag points to now */
	/* a rollback with the registry down: the recorded images, if every host holds them */
	bool registry_down;
	char registry_down_msg[400];
	bool images_checked;
	struct remote_cmd **image_cmds; /* one per host while checking */
	struct image_check *image_checks;
	struct outbuf *image_out;
	char images_missing[600];       /* the hosts without them, and why */
	char tag_now[REGISTRY_DIGEST_MAX];

	/* confirming and running */
	bool recheck;
	struct remote_cmd *start_cmd, *follow_cmd, *cancel_cmd;
	struct outbuf start_out;
	struct plan plan;
	bool have_plan;
	struct splitter out_split, ev_split;
	bool saw_end_event, saw_end_marker;
	uint64_t out_total;             /* output lines of this host's run kept so far */
	uint64_t out_replay;            /* lines of the current follow (a re-follow replays) */
	uint64_t refollow_timer;
	int64_t run_started;            /* Unix seconds, for the history */
	/* a run that failed on a later host: the hosts it had switched are rolled back */
	size_t failed_host;             /* where the run failed */
	enum run_result failed_result;  /* and how it ended there */
	size_t rollback_base;           /* index of the first rollback step in info.steps */
};

static void follow_start(struct deploy *d);
static void host_start(struct deploy *d);

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

static void notify(struct deploy *d)
{
	if (d->changed)
		d->changed(d->arg, d);
}

static void set_status(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct deploy *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->info.status, sizeof d->info.status, fmt, ap);
	va_end(ap);
}

/* Adds a reason to the refusal (one per line). */
static void refuse(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct deploy *d, const char *fmt, ...)
{
	size_t n = strlen(d->info.refusal);
	va_list ap;

	if (n > 0 && n + 2 < sizeof d->info.refusal)
		d->info.refusal[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(d->info.refusal + n, sizeof d->info.refusal - n, fmt, ap);
	va_end(ap);
	d->info.phase = DEPLOY_REFUSED;
}

static void warn(struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct deploy *d, const char *fmt, ...)
{
	va_list ap;

	if (d->info.warnings_len >= sizeof d->info.warnings / sizeof *d->info.warnings)
		return;
	va_start(ap, fmt);
	vsnprintf(d->info.warnings[d->info.warnings_len++], sizeof d->info.warnings[0], fmt, ap);
	va_end(ap);
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* "4m 10s", "2h 5m" */
/* ---- gathering: host states, the source's readiness, the registry ---- */

static void evaluate(struct deploy *d);

static void gathered(struct deploy *d)
{
	if (--d->pending == 0)
		evaluate(d);
	else
		notify(d);
}

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

static void attach_evaluate(struct deploy *d);
static void adopt_prepare(struct deploy *d);
static void first_lines(char *dst, size_t dstsz, const char *s, size_t skip_lines);
static void start_output(void *arg, const char *data, size_t len, bool is_stderr);

static void target_done(void *arg, struct hostread *r)
{
	struct deploy *d = arg;

	read_state(d->target, r, &d->target_state, &d->target_read, d->target_err,
	    sizeof d->target_err);
	hostread_free(r);
	d->target_rd = NULL;
	if (d->attach_only) {
		attach_evaluate(d);
		return;
	}
	adopt_prepare(d);
	gathered(d);
}

static void resolve_start(struct deploy *d);

static void source_done(void *arg, struct hostread *r)
{
	struct deploy *d = arg;

	read_state(d->source, r, &d->source_state, &d->source_read, d->source_err,
	    sizeof d->source_err);
	hostread_free(r);
	d->source_rd = NULL;
	if (d->tag_wanted[0]) {
		gathered(d);            /* named on the command line, resolved already */
		return;
	}
	/* the tag comes from what the source runs */
	if (d->source_read && d->source_state.deploy_env_differs[0]) {
		char first[136] = "", other[136] = "";

		if (d->source_state.has_deploy_env)
			deployenv_image_tag(d->source_state.deploy_env.app_image, first, sizeof first);
		deployenv_image_tag(d->source_state.differs_image, other, sizeof other);
		snprintf(d->source_err, sizeof d->source_err, "%s's hosts run different tags (%s runs "
		    "%s, %s runs %s), so gantry cannot tell which one to promote; name it with --tag",
		    d->source->name, d->source->hosts[0].address, first[0] ? first : "nothing",
		    d->source_state.deploy_env_differs, other[0] ? other : "nothing");
	} else if (d->source_read && d->source_state.has_deploy_env) {
		deployenv_image_tag(d->source_state.deploy_env.app_image, d->tag_wanted,
		    sizeof d->tag_wanted);
		/* the host's file: what is not a tag is never promoted */
		if (!value_tag(d->tag_wanted) || strcmp(d->tag_wanted, "latest") == 0) {
			snprintf(d->source_err, sizeof d->source_err, "%s runs %s, which names no tag "
			    "gantry can promote; name one with --tag", d->source->name,
			    d->source_state.deploy_env.app_image);
			d->tag_wanted[0] = '\0';
		}
	} else if (d->source_read) {
		snprintf(d->source_err, sizeof d->source_err, "%s's host %s has no deploy.env, so gantry "
		    "cannot tell which tag it runs; name one with --tag", d->source->name,
		    d->source->hosts[0].address);
	}
	if (d->tag_wanted[0])
		resolve_start(d);
	gathered(d);
}

static void source_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->source_res = *res;
	appcheck_free(d->source_app);
	d->source_app = NULL;
	gathered(d);
}

static void target_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->target_res = *res;
	appcheck_free(d->target_app);
	d->target_app = NULL;
	gathered(d);
}

/* A lookup answered: the digest when the registry gave one. */
static void digest_found(const struct registry_result *r, void *arg)
{
	struct digest_lookup *l = arg;

	l->op = NULL;
	if (r->error == REGISTRY_OK)
		snprintf(l->out, l->outsz, "%s", r->digest);
	gathered(l->d);
}

/* Starts a lookup of repo:ref into out (pending counts it). */
static void digest_lookup(struct deploy *d, struct digest_lookup *l, const char *repo,
    const char *ref, char *out, size_t outsz)
{
	*l = (struct digest_lookup){ .d = d, .out = out, .outsz = outsz };
	d->pending++;
	l->op = registry_resolve(d->ctx.registry, repo, ref, false, digest_found, l);
}

/* The target's state is in: when no run was ever recorded there, what its deploy.env
 * names is the candidate baseline; its digests come from deploy.env, else the registry. */
static void adopt_prepare(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct conf_registry *reg = d->ctx.conf->registry;

	if (!d->target_read || !st->has_deploy_env || history_has_runs(&st->history))
		return;
	deployenv_image_tag(st->deploy_env.app_image, d->adopt_tag, sizeof d->adopt_tag);
	if (!value_tag(d->adopt_tag) || !registry_tag_allowed(d->ctx.registry,
	    d->adopt_tag)) {
		d->adopt_tag[0] = '\0';
		return;
	}
	deployenv_image_digest(st->deploy_env.app_image, d->adopt_app, sizeof d->adopt_app);
	deployenv_image_digest(st->deploy_env.migrator_image, d->adopt_mig, sizeof d->adopt_mig);
	/* the host's file: a digest that is not one is not used (the registry is asked) */
	if (!value_digest(d->adopt_app))
		d->adopt_app[0] = '\0';
	if (!value_digest(d->adopt_mig))
		d->adopt_mig[0] = '\0';
	/* the digests of the baseline, when deploy.env does not pin them */
	if (!d->adopt_app[0])
		digest_lookup(d, &d->adopt_app_lookup, reg->app, d->adopt_tag, d->adopt_app,
		    sizeof d->adopt_app);
	if (!d->adopt_mig[0])
		digest_lookup(d, &d->adopt_mig_lookup, reg->migrator, d->adopt_tag, d->adopt_mig,
		    sizeof d->adopt_mig);
}

static void resolved(const struct registry_result *r, void *arg, bool app)
{
	struct deploy *d = arg;
	char *digest = app ? d->info.app_digest : d->info.migrator_digest;
	size_t digestsz = app ? sizeof d->info.app_digest : sizeof d->info.migrator_digest;
	const char *repo = app ? d->ctx.conf->registry->app : d->ctx.conf->registry->migrator;

	if (app)
		d->app_op = NULL;
	else
		d->mig_op = NULL;
	if (r->error == REGISTRY_UNREACHABLE && d->by_digest && !d->recheck) {
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
	} else if (d->recheck && strcmp(digest, r->digest) != 0) {
		snprintf(d->registry_err, sizeof d->registry_err, "%s:%s now points to %s, not %s as "
		    "planned: the tag was re-pointed, so nothing was started; plan again to see what "
		    "it is now", repo, d->tag_wanted, r->digest, digest);
	} else {
		snprintf(digest, digestsz, "%s", r->digest);
	}
	gathered(d);
}

static void app_resolved(const struct registry_result *r, void *arg)
{
	resolved(r, arg, true);
}

static void mig_resolved(const struct registry_result *r, void *arg)
{
	resolved(r, arg, false);
}

static void resolve_start(struct deploy *d)
{
	const struct conf_registry *reg = d->ctx.conf->registry;

	if (d->by_digest) {
		/* a rollback to the images that ran: they must still be in the registry */
		d->registry_err[0] = '\0';
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
	d->registry_err[0] = '\0';
	d->pending += 2;
	d->app_op = registry_resolve(d->ctx.registry, reg->app, d->tag_wanted, false, app_resolved, d);
	d->mig_op = registry_resolve(d->ctx.registry, reg->migrator, d->tag_wanted, false, mig_resolved, d);
}

/* ---- the checks, once everything is in ---- */

/* The newest healthy run of `tag` (any tag when NULL), skipping `skip_tag`; its index or -1. */
static long healthy_run(const struct history *h, const char *tag, const char *skip_tag)
{
	for (size_t i = h->len; i-- > 0;) {
		const struct history_run *r = &h->runs[i];

		if (!history_run_healthy(r) || !r->tag[0])
			continue;
		if (tag && strcmp(r->tag, tag) != 0)
			continue;
		if (skip_tag && strcmp(r->tag, skip_tag) == 0)
			continue;
		return (long)i;
	}
	return -1;
}

/* deploy.env names `current`, but when the newest run of it stopped before its switch
 * (a failed migrator, a cancel) on the one host it ran on, the app still runs what ran
 * before it: the newest healthy run's tag. */
static void find_still_runs(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct history *h = &st->history;

	d->info.still_runs[0] = '\0';
	for (size_t i = h->len; i-- > 0;) {
		const struct history_run *r = &h->runs[i];

		if (r->note)
			continue;
		if (strcmp(r->tag, d->info.current) != 0 || !r->switch_known || r->switched ||
		    r->hosts > 1 || st->deploy_env_differs[0] ||
		    (r->result != RUN_FAILED && r->result != RUN_CANCELLED))
			return;
		for (size_t k = i; k-- > 0;) {
			if (history_run_healthy(&h->runs[k]) && strcmp(h->runs[k].tag, r->tag) != 0) {
				copy_str(d->info.still_runs, sizeof d->info.still_runs, h->runs[k].tag);
				return;
			}
		}
		return;
	}
}

/* Where an automatic rollback would go: the newest healthy run (or adoption) of another
 * tag; else the baseline this run adopts. Never a tag taken from deploy.env alone. */
static void choose_back(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	long i = healthy_run(&st->history, NULL, d->info.tag);

	d->back_tag[0] = d->back_app[0] = d->back_mig[0] = '\0';
	if (i >= 0) {
		const struct history_run *r = &st->history.runs[i];

		copy_str(d->back_tag, sizeof d->back_tag, r->tag);
		copy_str(d->back_app, sizeof d->back_app, r->app_digest);
		copy_str(d->back_mig, sizeof d->back_mig, r->migrator_digest);
	} else if (d->info.adopting[0] && strcmp(d->adopt_tag, d->info.tag) != 0) {
		copy_str(d->back_tag, sizeof d->back_tag, d->adopt_tag);
		copy_str(d->back_app, sizeof d->back_app, d->adopt_app);
		copy_str(d->back_mig, sizeof d->back_mig, d->adopt_mig);
	}
	if (d->target->deploy.auto_rollback && d->back_tag[0])
		copy_str(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back_tag);
}

/* Decides whether this run adopts the environment: it has no run recorded, its hosts'
 * deploy.env agree on a tag, and its app is ready and reports that very tag. When not,
 * `why` says so (gantry adopt refuses with it; a run warns). */
static bool adopt_decide(struct deploy *d, char *why_out, size_t whysz)
{
	const struct host_state *st = &d->target_state;
	const struct appcheck_result *app = &d->target_res;
	const char *why = NULL;
	char buf[300];

	why_out[0] = '\0';
	if (!d->adopt_tag[0])
		return false;
	if (st->deploy_env_differs[0])
		why = "its hosts' deploy.env name different tags";
	else if (!app->ready)
		why = app->ready_error[0] ? app->ready_error : "its app is not ready";
	else if (!app->version[0])
		why = app->version_error[0] ? app->version_error : "its app reports no version";
	else if (strcmp(app->version, d->adopt_tag) != 0) {
		snprintf(buf, sizeof buf, "its app reports %s, not %s that deploy.env names",
		    app->version, d->adopt_tag);
		why = buf;
	}
	if (why) {
		snprintf(why_out, whysz, "%s", why);
		return false;
	}
	copy_str(d->info.adopting, sizeof d->info.adopting, d->adopt_tag);
	return true;
}

/* gantry adopt: the checks of an adoption, and its plan (nothing runs). */
static void adopt_evaluate(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct conf_env *t = d->target;
	char why[300];

	if (history_has_runs(&st->history)) {
		refuse(d, "%s has runs recorded already: adoption records a baseline for an environment "
		    "gantry never ran on; `gantry history %s` lists what is known", t->name, t->name);
	} else if (!st->has_deploy_env) {
		refuse(d, "%s's host %s has no deploy.env, so nothing says which tag runs there; deploy "
		    "one with `gantry deploy %s TAG`", t->name, t->hosts[0].address, t->name);
	} else if (!d->adopt_tag[0]) {
		refuse(d, "%s's deploy.env names %s, not a tag matching registry.tags: only such a tag "
		    "can be adopted", t->name, st->deploy_env.app_image);
	} else if (!adopt_decide(d, why, sizeof why)) {
		refuse(d, "%s cannot be adopted: %s. Adoption records only a tag the app reports, ready, "
		    "and every host's deploy.env names", t->name, why);
	}
	if (st->lock.held)
		refuse(d, "%s is locked by %s (%s): adopt when its run has ended", t->name,
		    st->lock.owner[0] ? st->lock.owner : "someone", st->lock.message);
	if (d->info.phase == DEPLOY_REFUSED) {
		notify(d);
		return;
	}
	copy_str(d->info.tag, sizeof d->info.tag, d->adopt_tag);
	copy_str(d->info.current, sizeof d->info.current, d->adopt_tag);
	copy_str(d->info.app_digest, sizeof d->info.app_digest, d->adopt_app);
	copy_str(d->info.migrator_digest, sizeof d->info.migrator_digest, d->adopt_mig);
	if (!d->adopt_app[0] || !d->adopt_mig[0])
		warn(d, "the registry did not give %s's digests: the baseline is recorded without them, "
		    "and a rollback to it deploys what the tag points to then", d->adopt_tag);
	copy_str(d->info.host, sizeof d->info.host, t->hosts[0].address);
	d->info.phase = DEPLOY_PLANNED;
	set_status(d, "confirm to record the baseline");
	notify(d);
}

/* Writes the adoption record on host `index` and the next ones, one after another. */
static void adopt_write(struct deploy *d);

static void adopt_written(void *arg, enum remote_end how, int status, const char *message)
{
	struct deploy *d = arg;
	const char *out = outbuf_text(&d->start_out);
	char first[200];

	d->start_cmd = NULL;
	first_lines(first, sizeof first, out, 0);
	if (how == REMOTE_EXITED && status == 0) {
		outbuf_clear(&d->start_out);
		if (++d->info.host_index < d->info.hosts_len) {
			adopt_write(d);
			return;
		}
		d->info.host_index--;
		d->info.result = RUN_ADOPTED;
		set_status(d, "%s's baseline is %s", d->target->name, d->info.tag);
	} else {
		d->info.result = RUN_FAILED;
		set_status(d, "on %s: %s", d->info.host, how != REMOTE_EXITED ?
		    (message && *message ? message : "the link dropped") : first[0] ? first : "failed");
	}
	outbuf_clear(&d->start_out);
	d->info.phase = DEPLOY_DONE;
	d->info.ended_ms = loop_clock_ms();
	notify(d);
}

static const struct remote_cmd_ops adopt_ops = {
	.output = start_output, .done = adopt_written, .bounded = true,
};

static void adopt_write(struct deploy *d)
{
	struct remote_host *h = d->ctx.host(d->ctx.host_arg, d->target, d->info.host_index);
	char id[72];
	char *rec;
	struct adopt_spec a = {
		.id = d->adopt_id, .env = d->target->name, .tag = d->adopt_tag, .app_digest = d->adopt_app,
		.migrator_digest = d->adopt_mig, .operator = d->ctx.operator, .at = now_s(),
		.message = "gantry adopt: app ready, reporting the tag deploy.env names",
	};

	if (d->info.host_index == 0) {
		plan_new_id(id, sizeof id, now_s());
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->info.started_ms = loop_clock_ms();
	}
	copy_str(d->info.host, sizeof d->info.host, d->target->hosts[d->info.host_index].address);
	rec = runscript_adopt_record(&a);
	set_status(d, "recording the baseline on %s", d->info.host);
	/* under no lock, and only where no run was recorded meanwhile */
	d->start_cmd = runner_run(h, RUNNER_ADOPT, (const char *const[]){ rec }, 1, &adopt_ops, d);
	free(rec);
	notify(d);
}

/* rollback: the tag to go back to, from the target's history */
static bool choose_rollback_tag(struct deploy *d)
{
	const struct history *h = &d->target_state.history;
	long i;

	if (d->tag_wanted[0]) {
		i = healthy_run(h, d->tag_wanted, NULL);
		if (i < 0 && !d->allow_unverified) {
			refuse(d, "%s never ran healthy on %s (no run of it succeeded or was adopted there), "
			    "so it was never verified on %s. `gantry history %s` lists the tags that were; "
			    "to roll back to %s anyway: --to %s --unverified --yes", d->tag_wanted,
			    d->target->name, d->target->name, d->target->name, d->tag_wanted, d->tag_wanted);
			return false;
		}
		if (i < 0) {
			d->info.unverified = true;
			warn(d, "NOT VERIFIED: %s never ran healthy on %s; it is deployed as the registry "
			    "has it now", d->tag_wanted, d->target->name);
			copy_str(d->info.tag, sizeof d->info.tag, d->tag_wanted);
			return true;
		}
	} else {
		i = healthy_run(h, NULL, d->info.current[0] ? d->info.current : NULL);
		if (i < 0 && !history_has_runs(h)) {
			refuse(d, "%s has no run recorded (gantry never deployed it), so no tag is verified "
			    "there to roll back to. If it was deployed by hand, `gantry adopt %s` records "
			    "what it runs now as a baseline; to go to a tag anyway: --to TAG --unverified "
			    "--yes", d->target->name, d->target->name);
			return false;
		}
		if (i < 0) {
			refuse(d, "%s's history holds no healthy run of a tag other than %s, so there is "
			    "nothing to roll back to; a tag never verified there needs --to TAG --unverified "
			    "--yes", d->target->name,
			    d->info.current[0] ? d->info.current : "the current one");
			return false;
		}
		copy_str(d->tag_wanted, sizeof d->tag_wanted, h->runs[i].tag);
	}
	copy_str(d->info.tag, sizeof d->info.tag, d->tag_wanted);
	/* the images that ran, not what the tag may point to now */
	if (h->runs[i].app_digest[0] && h->runs[i].migrator_digest[0]) {
		copy_str(d->info.app_digest, sizeof d->info.app_digest, h->runs[i].app_digest);
		copy_str(d->info.migrator_digest, sizeof d->info.migrator_digest,
		    h->runs[i].migrator_digest);
		d->by_digest = true;
	}
	/* migrations applied since that run stay applied */
	for (size_t j = (size_t)i + 1; j < h->len; j++) {
		const struct history_run *r = &h->runs[j];

		if (r->migrated && strcmp(r->migrator_digest, h->runs[i].migrator_digest) != 0) {
			warn(d, "this crosses a migration: %s ran migrations on %s after %s was deployed; "
			    "they stay applied (migrations only go forward), so %s must work with the newer "
			    "schema", r->tag, d->target->name, d->tag_wanted, d->tag_wanted);
			break;
		}
	}
	return true;
}

static void step_from_run(struct deploy_step *s, const struct run_step *r, bool rollback)
{
	memset(s, 0, sizeof *s);
	copy_str(s->name, sizeof s->name, r->name);
	sanitize_text(r->command, strlen(r->command), s->command, sizeof s->command, 0);
	s->rollback = rollback;
	s->switch_point = r->switch_point;
}

/* The plan for the current host, into info.steps. */
static void make_plan(struct deploy *d, const char *id)
{
	const struct conf_env *env = d->target;
	const struct conf_registry *reg = d->ctx.conf->registry;
	struct plan_input in = {
		.conf = d->ctx.conf, .env = env, .host = &env->hosts[d->info.host_index],
		.first_host = d->info.host_index == 0, .id = id, .action = d->info.action,
		.source_env = d->info.source[0] ? d->info.source : NULL, .operator = d->ctx.operator,
		.started = d->run_started,
		.to = { d->info.tag, d->info.app_digest, d->info.migrator_digest },
		.back = { d->back_tag[0] ? d->back_tag : NULL, d->back_app, d->back_mig },
		.offline = d->registry_down,
	};
	size_t n;
	char *ref;

	if (d->info.fleet_rollback) {
		/* the hosts switched before the failure go back: a rollback run of its own */
		in.action = "rollback";
		in.source_env = NULL;
		in.first_host = false;          /* `once` steps (migrations) never run back */
		in.to = (struct plan_images){ d->back_tag, d->back_app, d->back_mig };
		in.back = (struct plan_images){ NULL, NULL, NULL };
	}
	if (d->have_plan)
		plan_free(&d->plan);
	plan_build(&in, &d->plan);
	d->have_plan = true;
	if (d->info.adopting[0] && !d->info.fleet_rollback) {
		struct adopt_spec a = {
			.id = d->adopt_id, .env = env->name, .tag = d->adopt_tag, .app_digest = d->adopt_app,
			.migrator_digest = d->adopt_mig, .operator = d->ctx.operator, .at = d->run_started,
			.message = "adopted before the first run: app ready, reporting the tag deploy.env names",
		};

		free(d->adopt_record);
		d->adopt_record = runscript_adopt_record(&a);
		d->plan.spec.adopt_record = d->adopt_record;
	}
	n = d->plan.spec.steps_len + d->plan.spec.rollback_len;
	free(d->info.steps);
	d->info.steps = xcalloc(n + 1, sizeof *d->info.steps);
	d->info.steps_len = 0;
	for (size_t i = 0; i < d->plan.spec.steps_len; i++)
		step_from_run(&d->info.steps[d->info.steps_len++], &d->plan.spec.steps[i], false);
	d->rollback_base = d->info.steps_len;
	for (size_t i = 0; i < d->plan.spec.rollback_len; i++)
		step_from_run(&d->info.steps[d->info.steps_len++], &d->plan.spec.rollback[i], true);
	ref = plan_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);
	copy_str(d->info.app_image, sizeof d->info.app_image, ref);
	free(ref);
	ref = plan_image_ref(reg, reg->migrator, d->info.tag, d->info.migrator_digest);
	copy_str(d->info.migrator_image, sizeof d->info.migrator_image, ref);
	free(ref);
	copy_str(d->info.host, sizeof d->info.host, env->hosts[d->info.host_index].address);
}

/* ---- a rollback with the registry down: are the images on every host? ---- */

/* One host's check: which deploy, which host. */
struct image_check {
	struct deploy *d;
	size_t host;
};

static void image_check_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct image_check *ic = arg;

	outbuf_add(&ic->d->image_out[ic->host], data, len, 2000);
}

static void image_check_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct image_check *ic = arg;
	struct deploy *d = ic->d;
	const char *addr = d->target->hosts[ic->host].address;
	size_t n = strlen(d->images_missing);

	d->image_cmds[ic->host] = NULL;
	if (how != REMOTE_EXITED || status != 0)
		snprintf(d->images_missing + n, sizeof d->images_missing - n, "%s%s (%s)", n ? "; " : "",
		    addr, how != REMOTE_EXITED ? (message && *message ? message : "not reached") :
		    "not there");
	outbuf_clear(&d->image_out[ic->host]);
	gathered(d);
}

static const struct remote_cmd_ops image_check_ops = {
	.output = image_check_output, .done = image_check_done, .bounded = true,
};

/* Runs deploy.image_check for the app image that ran, on every host. */
static void images_check_start(struct deploy *d)
{
	const struct conf_env *t = d->target;
	const struct conf_registry *reg = d->ctx.conf->registry;
	char *ref = plan_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);
	char *qref = template_shell_quote(ref);

	d->images_checked = true;
	d->image_cmds = xcalloc(t->hosts_len, sizeof *d->image_cmds);
	d->image_checks = xcalloc(t->hosts_len, sizeof *d->image_checks);
	d->image_out = xcalloc(t->hosts_len, sizeof *d->image_out);
	d->pending = (int)t->hosts_len;
	for (size_t j = 0; j < t->hosts_len; j++) {
		char *dir = template_shell_quote(conf_host_deploy_dir(t, &t->hosts[j]));
		struct template_var vars[] = {
			{ "image", qref }, { "compose", t->compose }, { "deploy_dir", dir },
		};
		char *cmd = template_expand(t->deploy.image_check, vars, sizeof vars / sizeof *vars);
		struct image_check *ic = &d->image_checks[j];

		ic->d = d;
		ic->host = j;
		/* the configured command, under the runner like every command on a host */
		d->image_cmds[j] = runner_run(d->ctx.host(d->ctx.host_arg, t, j), RUNNER_TIED,
		    (const char *const[]){ cmd }, 1, &image_check_ops, ic);
		free(cmd);
		free(dir);
	}
	set_status(d, "the registry cannot be reached: checking that the hosts hold %s", ref);
	free(qref);
	free(ref);
	notify(d);
}

/* How a run that did not end healthy ended, in words: "failed at run migrator (exit 3)". */
static void run_outcome(const struct history_run *r, const char *running, char *out, size_t outsz)
{
	if (r->corrupt)
		snprintf(out, outsz, "is corrupt");
	else if (r->result == RUN_FAILED && r->failed_step > 0 && (size_t)r->failed_step <= r->planned)
		snprintf(out, outsz, "failed at %s", r->step_names[r->failed_step - 1]);
	else if (r->result == RUN_ROLLED_BACK)
		snprintf(out, outsz, "failed and was rolled back");
	else if (r->result == RUN_RESULT_NONE && running && strcmp(running, r->id) == 0)
		snprintf(out, outsz, "is still running");
	else if (r->result == RUN_RESULT_NONE)
		snprintf(out, outsz, "was interrupted (no end was recorded)");
	else
		snprintf(out, outsz, "%s", run_result_name(r->result));
}

/* Promotion takes only what was verified on the source: the tag its app reports and its
 * deploy.env names, whose last run there succeeded (or was adopted). Says why in
 * info.chosen, or refuses. */
static void verify_source(struct deploy *d)
{
	const struct host_state *ss = &d->source_state;
	const struct history *h = &ss->history;
	const struct history_run *last = NULL;
	const char *src = d->source->name, *tag = d->info.tag;
	const char *version = d->source_res.version;
	const char *running = ss->lock.held && ss->lock.runner_alive ? ss->lock.run : NULL;
	char stag[136] = "", when[64] = "", how[200];

	if (ss->has_deploy_env)
		deployenv_image_tag(ss->deploy_env.app_image, stag, sizeof stag);
	copy_str(d->info.source_env_tag, sizeof d->info.source_env_tag, stag);
	copy_str(d->info.source_version, sizeof d->info.source_version, version);
	for (size_t i = h->len; i-- > 0 && !last;)
		if (!h->runs[i].note && strcmp(h->runs[i].tag, tag) == 0)
			last = &h->runs[i];
	if (!d->explicit_tag && version[0] && strcmp(version, stag) != 0) {
		refuse(d, "%s's app reports %s but its deploy.env names %s: gantry cannot tell which one "
		    "was verified there, so it promotes neither; look at %s (gantry history %s), or name "
		    "the tag with --tag", src, version, stag[0] ? stag : "nothing", src, src);
		return;
	}
	if (last && !history_run_healthy(last)) {
		run_outcome(last, running, how, sizeof how);
		refuse(d, "the last run of %s on %s (a %s by %s, run %s) %s: promotion takes only a "
		    "tag verified there. %s", tag, src, last->action, last->operator, last->id, how,
		    d->explicit_tag ? "Deploy it to the source again and let it pass first" :
		    "Deploy a tag that passes there first, or name another with --tag");
		return;
	}
	if (!last) {
		if (!d->explicit_tag) {
			refuse(d, "%s has no run of %s recorded: gantry neither deployed nor verified it "
			    "there. Deploy it there with gantry, or, if it runs there and is good, record it "
			    "with `gantry adopt %s`", src, tag, src);
			return;
		}
		warn(d, "%s never ran on %s: it was not verified there", tag, src);
		snprintf(d->info.chosen, sizeof d->info.chosen, "named with --tag; never ran on %s", src);
		return;
	}
	if (last->ended) {
		time_t t = (time_t)last->ended;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof when, " on %Y-%m-%d %H:%M", &tm);
	}
	snprintf(d->info.chosen, sizeof d->info.chosen, "%s %s%s: its last run there (%s%s) %s%s",
	    d->explicit_tag ? "named with --tag, verified on" : "what", src,
	    d->explicit_tag ? "" : " runs", last->action, when,
	    last->result == RUN_ADOPTED ? "adopted it" : "succeeded",
	    d->explicit_tag ? "" : version[0] ? "; its app reports it and deploy.env names it" :
	    "; deploy.env names it (its app reports no version)");
}

static void evaluate(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct conf_env *t = d->target;
	char age[32];

	if (d->recheck) {
		d->recheck = false;
		if (d->registry_err[0]) {
			refuse(d, "%s", d->registry_err);
			notify(d);
			return;
		}
		host_start(d);
		return;
	}
	if (!d->target_read) {
		refuse(d, "%s", d->target_err);
		notify(d);
		return;
	}
	if (d->info.kind == DEPLOY_ADOPT) {
		adopt_evaluate(d);
		return;
	}
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, d->info.current, sizeof d->info.current);
	find_still_runs(d);
	if (d->info.kind == DEPLOY_ROLLBACK && !d->info.tag[0]) {
		/* the tag comes from the history: resolve it now, then come back */
		if (!choose_rollback_tag(d)) {
			notify(d);
			return;
		}
		d->pending = 1;
		resolve_start(d);
		if (d->by_digest)
			digest_lookup(d, &d->tag_now_lookup, d->ctx.conf->registry->app, d->tag_wanted,
			    d->tag_now, sizeof d->tag_now);
		if (--d->pending > 0) {
			notify(d);
			return;
		}
	}
	if (d->info.kind == DEPLOY_PROMOTE) {
		if (d->source->hosts_len && !d->source_read)
			refuse(d, "%s", d->source_err);
		else if (!d->tag_wanted[0])
			refuse(d, "%s", d->source_err[0] ? d->source_err : "no tag to promote");
	}
	if (d->registry_down && !d->registry_err[0]) {
		if (!d->images_checked) {
			images_check_start(d);
			return;
		}
		if (d->images_missing[0])
			refuse(d, "the registry cannot be reached (%s), and not every host holds the images "
			    "%s ran as: %s; nothing was started", d->registry_down_msg, d->info.tag,
			    d->images_missing);
		else
			warn(d, "the registry cannot be reached (%s): every host holds the images %s ran "
			    "as (checked with deploy.image_check), so this rollback uses them and pulls "
			    "nothing", d->registry_down_msg, d->info.tag);
	}
	if (d->registry_err[0])
		refuse(d, "%s", d->registry_err);
	else if (d->by_digest && d->tag_now[0] && strcmp(d->tag_now, d->info.app_digest) != 0)
		warn(d, "%s now points to %s in the registry; this rollback deploys %s, the image that "
		    "ran healthy on %s", d->info.tag, d->tag_now, d->info.app_digest, t->name);
	if (d->info.kind == DEPLOY_PROMOTE && d->source && d->source_read && d->info.tag[0])
		verify_source(d);
	if (st->lock.held) {
		duration_format((st->host_now - st->lock.since) * 1000, age, sizeof age);
		refuse(d, "%s is locked%s%s by %s for %s (%s)%s", t->name,
		    t->hosts_len > 1 ? " on " : "", t->hosts_len > 1 ? st->lock.host : "",
		    st->lock.owner[0] ? st->lock.owner : "someone", age,
		    st->lock.message[0] ? st->lock.message : "no message",
		    hoststate_lock_stale(st) ? "; the lock is stale: its run is gone. Break it with "
		    "`gantry unlock ENV -m REASON`" : "; wait for that run to end");
	}
	if (st->frozen && d->info.kind != DEPLOY_ROLLBACK) {
		duration_format((st->host_now - st->freeze_since) * 1000, age, sizeof age);
		refuse(d, "%s is frozen by %s for %s: %s (a rollback is still allowed; `gantry "
		    "unfreeze %s` lifts it)", t->name, st->freeze_by[0] ? st->freeze_by : "someone", age,
		    st->freeze_reason[0] ? st->freeze_reason : "no reason given", t->name);
	}
	if (d->info.kind == DEPLOY_PROMOTE && d->source) {
		const struct host_state *ss = &d->source_state;

		if (!d->source_res.ready)
			refuse(d, "%s is not ready: %s", d->source->name, d->source_res.ready_error);
		if (d->source_read && ss->has_deploy_env && d->info.app_digest[0]) {
			char ran[80], stag[136];

			/* the digest the source tested, when it runs this very tag */
			deployenv_image_tag(ss->deploy_env.app_image, stag, sizeof stag);
			deployenv_image_digest(ss->deploy_env.app_image, ran, sizeof ran);
			if (strcmp(stag, d->info.tag) == 0 && ran[0] && strcmp(ran, d->info.app_digest) != 0)
				refuse(d, "%s ran %s as %s, but the tag now points to %s: it was re-pointed "
				    "after it was tested there; deploy it to %s again first", d->source->name,
				    d->info.tag, ran, d->info.app_digest, d->source->name);
		}
		if (t->deploy.soak_ms > 0 && d->source_read) {
			long i = healthy_run(&ss->history, d->info.tag, NULL);
			int64_t since = i >= 0 ? ss->history.runs[i].ended : 0;
			char need[32];

			if (!since && ss->has_deploy_env) {
				char stag[136];

				deployenv_image_tag(ss->deploy_env.app_image, stag, sizeof stag);
				if (strcmp(stag, d->info.tag) == 0)
					since = ss->deploy_env_mtime;
			}
			duration_format(t->deploy.soak_ms, need, sizeof need);
			if (!since) {
				refuse(d, "%s has no record of when it started running %s, so its soak time "
				    "(%s) cannot be checked", d->source->name, d->info.tag, need);
			} else if ((ss->host_now - since) * 1000 < t->deploy.soak_ms) {
				duration_format((ss->host_now - since) * 1000, age, sizeof age);
				refuse(d, "%s has run %s for %s, less than the soak time of %s set for %s; "
				    "promote again in %llds", d->source->name, d->info.tag, age, need, t->name,
				    (long long)((t->deploy.soak_ms / 1000) - (ss->host_now - since)));
			}
		} else if (t->deploy.soak_ms > 0 && !d->source->hosts_len) {
			refuse(d, "%s has no hosts in the configuration, so its soak time cannot be "
			    "checked", d->source->name);
		}
	}
	if (d->info.phase == DEPLOY_REFUSED) {
		notify(d);
		return;
	}
	if (d->info.current[0] && strcmp(d->info.current, d->info.tag) == 0) {
		d->info.redeploy = true;
		warn(d, "%s runs %s already: this deploys it again", t->name, d->info.tag);
	}
	if (st->deploy_env_differs[0]) {
		char other[136];

		deployenv_image_tag(st->differs_image, other, sizeof other);
		warn(d, "%s's hosts do not all run the same: %s runs %s, %s runs %s; this %s puts each "
		    "on %s", t->name, t->hosts[0].address, d->info.current[0] ? d->info.current : "nothing",
		    st->deploy_env_differs, other[0] ? other : "nothing", d->info.action, d->info.tag);
	}
	{
		char why[300];

		if (d->adopt_tag[0] && !adopt_decide(d, why, sizeof why))
			warn(d, "%s has no run recorded and %s runs there unverified (%s): no baseline is "
			    "adopted", t->name, d->adopt_tag, why);
	}
	choose_back(d);
	if (t->deploy.auto_rollback && !d->back_tag[0])
		warn(d, "no earlier healthy tag is known on %s: if this fails, nothing rolls back by "
		    "itself", t->name);
	make_plan(d, "ID");
	d->info.phase = DEPLOY_PLANNED;
	set_status(d, "%s", d->info.protected_env ? "type the environment's name to confirm" :
	    "confirm to start");
	notify(d);
}

/* ---- starting the run on a host ---- */

static void start_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct deploy *d = arg;

	if (!is_stderr)
		outbuf_add(&d->start_out, data, len, HOSTSTATE_MAX_BYTES);
}

/* The first line of s, sanitized */
static void first_lines(char *dst, size_t dstsz, const char *s, size_t skip_lines)
{
	const char *p = s ? s : "";

	while (skip_lines-- > 0 && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	sanitize_text(p, strcspn(p, "\n"), dst, dstsz, 0);
}

static void start_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct deploy *d = arg;
	const char *out = outbuf_text(&d->start_out);
	char word[200];

	d->start_cmd = NULL;
	if (how == REMOTE_EXITED && strncmp(out, RUNNER_MARK_STARTED " ",
	    strlen(RUNNER_MARK_STARTED " ")) == 0) {
		d->info.phase = DEPLOY_RUNNING;
		set_status(d, "running on %s", d->info.host);
		outbuf_clear(&d->start_out);
		follow_start(d);
		notify(d);
		return;
	}
	if (how == REMOTE_EXITED && status == RUNNER_EXIT_LOCKED) {
		/* LOCKED, then the owner record */
		struct host_lock lock = { .held = true };
		const char *owner = out + strcspn(out, "\n");

		hoststate_read_owner(owner, strlen(owner), &lock);
		refuse(d, "%s was locked by %s just now (%s): exactly one run holds it; nothing was "
		    "started", d->target->name, lock.owner[0] ? lock.owner : "someone",
		    lock.message[0] ? lock.message : "no message");
	} else if (how == REMOTE_EXITED && status == RUNNER_EXIT_FROZEN) {
		first_lines(word, sizeof word, out, 1);
		refuse(d, "%s was frozen just now (%s); nothing was started", d->target->name, word);
	} else if (how == REMOTE_EXITED) {
		first_lines(word, sizeof word, out, 0);
		refuse(d, "the run could not start on %s (exit %d%s%s)", d->info.host, status,
		    word[0] ? ": " : "", word);
	} else {
		/* it may have started before the link went: look, and follow it if so */
		refuse(d, "the link to %s dropped while starting the run (%s); check %s's history "
		    "before trying again", d->info.host, message && *message ? message : "lost",
		    d->target->name);
	}
	outbuf_clear(&d->start_out);
	notify(d);
}

static const struct remote_cmd_ops start_ops = {
	.output = start_output, .done = start_done, .bounded = true,
};

static void host_start(struct deploy *d)
{
	struct remote_host *h = d->ctx.host(d->ctx.host_arg, d->target, d->info.host_index);
	char id[72];
	char *cmd;

	if (d->info.host_index == 0) {
		plan_new_id(id, sizeof id, now_s());
		copy_str(d->info.run_id, sizeof d->info.run_id, id);
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->run_started = now_s();
		d->info.started_ms = loop_clock_ms();
	}
	make_plan(d, d->info.run_id);
	d->info.phase = DEPLOY_STARTING;
	d->saw_end_event = d->saw_end_marker = false;
	d->out_total = 0;
	d->info.result = RUN_RESULT_NONE;
	d->info.switched = false;
	d->info.cancel[0] = '\0';
	d->info.cancel_sent = false;
	set_status(d, "starting on %s", d->info.host);
	cmd = runscript_start_command(&d->plan.spec);
	d->start_cmd = remote_run(h, cmd, &start_ops, d);
	free(cmd);
	notify(d);
}

void deploy_confirm(struct deploy *d)
{
	if (d->info.phase != DEPLOY_PLANNED)
		return;
	d->info.phase = DEPLOY_STARTING;
	if (d->info.kind == DEPLOY_ADOPT) {
		d->info.host_index = 0;
		adopt_write(d);
		return;
	}
	set_status(d, "checking %s's digests again", d->info.tag);
	d->recheck = true;
	d->pending = 1;
	/* with the registry down, the images were checked on the hosts; digests cannot move */
	if (!d->registry_down)
		resolve_start(d);
	gathered(d);
}

/* ---- following a run ---- */

static struct deploy_step *step_at(struct deploy *d, bool rollback, long n)
{
	size_t base = rollback ? d->rollback_base : 0;
	size_t end = rollback ? d->info.steps_len : d->rollback_base;

	if (n < 1 || base + (size_t)n - 1 >= end)
		return NULL;
	return &d->info.steps[base + (size_t)n - 1];
}

static void run_ended(struct deploy *d);

/* One event line, the runner's or nothing */
static void on_event(struct deploy *d, const char *text, size_t len)
{
	struct run_event ev;
	struct deploy_step *s;

	if (!runevent_parse(text, len, &ev))
		return;
	switch (ev.kind) {
	case RUNEVENT_STEP_START:
	case RUNEVENT_STEP_END:
		s = step_at(d, ev.rollback, ev.step);
		if (!s)
			return;
		if (ev.kind == RUNEVENT_STEP_START) {
			s->state = STEP_RUNNING;
			s->started_ms = loop_clock_ms();
			if (s->switch_point)
				d->info.switched = true;
		} else {
			s->state = ev.status == 0 ? STEP_OK : STEP_FAILED;
			s->exit = ev.status;
			s->ms = ev.took_ms;
		}
		break;
	case RUNEVENT_CANCEL:
		copy_str(d->info.cancel, sizeof d->info.cancel, ev.word);
		break;
	case RUNEVENT_RUN_END:
		d->info.result = run_result_parse(ev.word);
		d->info.run_ended_ms = ev.ms;
		d->saw_end_event = true;
		break;
	case RUNEVENT_RUN_START:
		/* the first host's start: a run over several hosts lasts from it to the last end */
		if (!d->info.run_started_ms)
			d->info.run_started_ms = ev.ms;
		break;
	case RUNEVENT_ROLLBACK_START:
		break;
	}
}

static void split_feed(struct splitter *sp, const char *data, size_t len,
    void (*line)(struct deploy *, const char *, size_t), struct deploy *d)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || sp->len == sizeof sp->buf - 1) {
			line(d, sp->buf, sp->len);
			sp->len = 0;
			if (data[i] == '\n')
				continue;
		}
		sp->buf[sp->len++] = data[i];
	}
}

static void on_output(struct deploy *d, const char *text, size_t len)
{
	char marker[120];
	char *clean;

	snprintf(marker, sizeof marker, RUNNER_MARK_RUN "%s" RUNNER_MARK_RUN_ENDED, d->info.run_id);
	if (len > strlen(marker) && memcmp(text, marker, strlen(marker)) == 0)
		d->saw_end_marker = true;
	if (++d->out_replay <= d->out_total)
		return;                 /* had it before the link dropped */
	d->out_total++;
	clean = sanitize_dup(text, len, LINE_MAX_BYTES, 0);
	logbuf_push(d->info.output, (unsigned)d->info.host_index, LOG_OUT, clean, strlen(clean));
	d->info.output_seq++;
}

static void follow_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct deploy *d = arg;

	if (is_stderr)
		split_feed(&d->ev_split, data, len, on_event, d);
	else
		split_feed(&d->out_split, data, len, on_output, d);
	if (d->saw_end_event && d->saw_end_marker && d->follow_cmd) {
		remote_cmd_stop(d->follow_cmd);
		d->follow_cmd = NULL;
		run_ended(d);
		return;
	}
	notify(d);
}

static void refollow(struct loop *loop, void *arg)
{
	struct deploy *d = arg;

	d->refollow_timer = 0;
	follow_start(d);
	notify(d);
}

static void follow_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct deploy *d = arg;

	d->follow_cmd = NULL;
	if (d->saw_end_event) {
		run_ended(d);
		return;
	}
	if (how == REMOTE_EXITED && status != 0) {
		set_status(d, "cannot follow run %s on %s (exit %d)", d->info.run_id, d->info.host, status);
		notify(d);
		return;
	}
	set_status(d, "link to %s lost (%s): the run goes on there; re-attaching", d->info.host,
	    message && *message ? message : "the command ended");
	d->refollow_timer = loop_timer_add(d->ctx.loop, REFOLLOW_MS, refollow, d);
	notify(d);
}

/* a follow lasts as long as its run: no deadline */
static const struct remote_cmd_ops follow_ops = { .output = follow_output, .done = follow_done };

static void follow_start(struct deploy *d)
{
	struct remote_host *h = d->ctx.host(d->ctx.host_arg, d->target, d->info.host_index);
	/* the events and output come again from the start */
	for (size_t i = 0; i < d->info.steps_len; i++) {
		d->info.steps[i].state = STEP_PENDING;
		d->info.steps[i].ms = 0;
	}
	d->info.switched = false;
	d->saw_end_event = d->saw_end_marker = false;
	d->out_split.len = d->ev_split.len = 0;
	d->out_replay = 0;
	d->follow_cmd = runner_run(h, RUNNER_FOLLOW, (const char *const[]){ d->info.run_id }, 1,
	    &follow_ops, d);
}

/* A run that failed on host `failed_host` after earlier hosts took the new tag: with an
 * automatic rollback, those hosts go back one after another, so the environment ends on
 * one tag. True when that rollback starts. */
static bool fleet_rollback_start(struct deploy *d)
{
	if (d->attach_only || d->info.fleet_rollback || d->info.host_index == 0 ||
	    !d->target->deploy.auto_rollback || !d->back_tag[0])
		return false;
	d->failed_host = d->info.host_index;
	d->failed_result = d->info.result;
	copy_str(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back_tag);
	d->info.fleet_rollback = true;
	d->info.host_index = 0;
	host_start(d);
	return true;
}

static void run_ended(struct deploy *d)
{
	bool ok = d->info.result == RUN_SUCCEEDED;
	size_t last = d->info.fleet_rollback ? d->failed_host : d->info.hosts_len;
	const char *failed_at = d->target->hosts[d->failed_host].address;

	for (size_t i = 0; i < d->info.steps_len; i++)
		if (d->info.steps[i].state == STEP_PENDING || d->info.steps[i].state == STEP_RUNNING)
			d->info.steps[i].state = STEP_SKIPPED;
	if (ok && !d->attach_only && d->info.host_index + 1 < last) {
		d->info.host_index++;
		host_start(d);
		return;
	}
	if (!ok && fleet_rollback_start(d))
		return;
	d->info.phase = DEPLOY_DONE;
	d->info.ended_ms = loop_clock_ms();
	if (d->info.fleet_rollback) {
		/* the environment's result: the failure, and whether every host is back */
		d->info.result = ok ? RUN_ROLLED_BACK : RUN_ROLLBACK_FAILED;
		if (ok)
			set_status(d, "%s failed on %s (%s); the %zu host%s before it went back to %s: every "
			    "host runs %s", d->info.tag, failed_at, run_result_name(d->failed_result), d->failed_host,
			    d->failed_host == 1 ? "" : "s", d->back_tag, d->back_tag);
		else
			set_status(d, "%s failed on %s (%s), and rolling %s back to %s failed: the hosts "
			    "differ; `gantry history %s` shows where each one stands", d->info.tag, failed_at,
			    run_result_name(d->failed_result), d->info.host, d->back_tag, d->target->name);
	} else if (!ok && d->info.host_index > 0 && !d->attach_only) {
		char before[300] = "";

		for (size_t h = 0; h < d->info.host_index && strlen(before) + 80 < sizeof before; h++)
			snprintf(before + strlen(before), sizeof before - strlen(before), "%s%s",
			    h ? ", " : "", d->target->hosts[h].address);
		set_status(d, "%s on %s, so the hosts differ: %s run%s %s, while %s %s. `gantry rollback "
		    "%s` puts every host back", run_result_name(d->info.result), d->info.host, before,
		    d->info.host_index == 1 ? "s" : "", d->info.tag, d->info.host, d->info.switched ?
		    "was switched when it failed" : "still runs what it ran before (deploy.env put back)",
		    d->target->name);
		d->info.hosts_differ = true;
	} else if (!ok && d->info.host_index + 1 < d->info.hosts_len && !d->attach_only) {
		set_status(d, "%s on %s; the other %zu host(s) were not touched", run_result_name(d->info.result),
		    d->info.host, d->info.hosts_len - d->info.host_index - 1);
	} else {
		set_status(d, "%s", run_result_name(d->info.result));
	}
	notify(d);
}

static void cancel_done(void *arg, enum remote_end how, int status, const char *message)
{
	struct deploy *d = arg;

	d->cancel_cmd = NULL;
	if (how != REMOTE_EXITED || status != 0) {
		copy_str(d->info.cancel, sizeof d->info.cancel, "not delivered");
		d->info.cancel_sent = false;
		notify(d);
	}
}

static const struct remote_cmd_ops cancel_ops = { .done = cancel_done, .bounded = true };

bool deploy_cancel(struct deploy *d)
{
	struct remote_host *h;

	if (d->info.phase != DEPLOY_RUNNING || d->info.switched || d->info.cancel_sent)
		return false;
	h = d->ctx.host(d->ctx.host_arg, d->target, d->info.host_index);
	if (!value_run_id(d->info.run_id))
		return false;
	/* only the runner of this run: the lock may be another run's by now; the answer
	 * comes as an event */
	d->cancel_cmd = runner_run(h, RUNNER_CANCEL, (const char *const[]){ d->info.run_id }, 1,
	    &cancel_ops, d);
	d->info.cancel_sent = true;
	copy_str(d->info.cancel, sizeof d->info.cancel, "asked");
	notify(d);
	return true;
}

/* ---- attaching to what a host runs or ran ---- */

static void attach_evaluate(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct history_run *run;

	if (!d->target_read) {
		refuse(d, "%s", d->target_err);
		notify(d);
		return;
	}
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, d->info.current, sizeof d->info.current);
	run = st->current[0] ? history_find(&st->history, st->current) : NULL;
	if (!run) {
		refuse(d, "%s has no run recorded", d->target->name);
		notify(d);
		return;
	}
	if (run->corrupt) {
		refuse(d, "%s's history holds a run whose id, tag or digests are not what gantry writes "
		    "(id \"%s\"): the record is corrupt or was planted, so it is not followed; look at "
		    ".gantry/history.jsonl on %s", d->target->name, run->id,
		    d->target->hosts[run->host_index < d->target->hosts_len ? run->host_index : 0].address);
		notify(d);
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
	d->info.steps = xcalloc(run->planned + run->rollback_planned + 1, sizeof *d->info.steps);
	d->info.steps_len = 0;
	for (size_t i = 0; i < run->planned; i++)
		copy_str(d->info.steps[d->info.steps_len++].name, sizeof d->info.steps[0].name,
		    run->step_names[i]);
	d->rollback_base = d->info.steps_len;
	for (size_t i = 0; i < run->rollback_planned; i++) {
		struct deploy_step *s = &d->info.steps[d->info.steps_len++];

		copy_str(s->name, sizeof s->name, run->rollback_names[i]);
		s->rollback = true;
	}
	/* follow the run where it is alive, else where it ended worst */
	d->info.host_index = st->lock.held && st->lock.runner_alive ? st->current_host : run->host_index;
	if (d->info.host_index >= d->target->hosts_len)
		d->info.host_index = 0;
	copy_str(d->info.host, sizeof d->info.host, d->target->hosts[d->info.host_index].address);
	d->info.phase = DEPLOY_RUNNING;
	set_status(d, "%s on %s", run->result != RUN_RESULT_NONE ? "replaying the run" : "re-attached to the run",
	    d->info.host);
	follow_start(d);
	notify(d);
}

/* ---- life cycle ---- */

static struct deploy *deploy_alloc(const struct deploy_ctx *ctx, const struct conf_env *target,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = xcalloc(1, sizeof *d);

	d->ctx = *ctx;
	d->changed = changed;
	d->arg = arg;
	d->target = target;
	d->info.output = logbuf_new(OUTPUT_LINES, OUTPUT_LINES * 256);
	copy_str(d->info.env, sizeof d->info.env, target->name);
	copy_str(d->info.operator, sizeof d->info.operator, ctx->operator ? ctx->operator : "");
	d->info.hosts_len = target->hosts_len;
	d->info.protected_env = target->deploy.protected_env;
	d->info.phase = DEPLOY_CHECKING;
	return d;
}

struct deploy *deploy_attach(const struct deploy_ctx *ctx, const struct conf_env *env,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = deploy_alloc(ctx, env, changed, arg);

	d->attach_only = true;
	d->info.action = "deploy";
	if (!env->hosts_len) {
		refuse(d, "%s has no hosts in the configuration", env->name);
		return d;
	}
	set_status(d, "reading %s%s", env->hosts[0].address, env->hosts_len > 1 ? " and the other hosts" : "");
	d->target_rd = hostread_start(env, ctx->host, ctx->host_arg, target_done, d);
	return d;
}

struct deploy *deploy_new(const struct deploy_ctx *ctx, const struct deploy_request *req,
    deploy_changed_fn changed, void *arg)
{
	struct deploy *d = deploy_alloc(ctx, req->target, changed, arg);
	const struct conf *conf = ctx->conf;
	const struct conf_env *t = req->target;

	d->info.kind = req->kind;
	d->info.action = deploy_kind_name(req->kind);
	copy_str(d->tag_wanted, sizeof d->tag_wanted, req->tag);
	d->allow_unverified = req->unverified;
	d->explicit_tag = req->tag && *req->tag;
	if (!conf->registry || !ctx->registry) {
		refuse(d, "a %s needs the registry: add a registry: section to %s (see gantry.yml(5))",
		    d->info.action, conf->path ? conf->path : "gantry.yml");
		return d;
	}
	if (!t->hosts_len) {
		refuse(d, "%s has no hosts in the configuration: gantry deploys over SSH to the hosts "
		    "listed under hosts:", t->name);
		return d;
	}
	if (req->kind == DEPLOY_PROMOTE) {
		d->source = req->source;
		if (!d->source) {
			for (size_t i = 1; i < conf->envs_len; i++)
				if (&conf->envs[i] == t)
					d->source = &conf->envs[i - 1];
		}
		if (!d->source) {
			refuse(d, "%s comes first in the promotion order, so nothing is promoted into it; "
			    "use `gantry deploy %s TAG`", t->name, t->name);
			return d;
		}
		if (d->source == t) {
			refuse(d, "%s cannot be promoted into itself", t->name);
			return d;
		}
		copy_str(d->info.source, sizeof d->info.source, d->source->name);
		if (!d->tag_wanted[0] && !d->source->hosts_len) {
			refuse(d, "%s has no hosts in the configuration, so gantry cannot read the tag it "
			    "runs; name the tag with --tag", d->source->name);
			return d;
		}
	} else if (req->kind == DEPLOY_DEPLOY && !d->tag_wanted[0]) {
		refuse(d, "a deploy needs the tag to deploy");
		return d;
	}
	set_status(d, "reading %s%s and the registry", t->hosts[0].address,
	    t->hosts_len > 1 ? " and the other hosts" : "");
	d->pending = 1;
	d->target_rd = hostread_start(t, ctx->host, ctx->host_arg, target_done, d);
	d->pending++;
	d->target_app = appcheck_start(ctx->http, t, target_app_done, d);
	if (req->kind == DEPLOY_PROMOTE) {
		d->pending++;
		d->source_app = appcheck_start(ctx->http, d->source, source_app_done, d);
		if (d->source->hosts_len) {
			d->pending++;
			d->source_rd = hostread_start(d->source, ctx->host, ctx->host_arg, source_done, d);
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
	if (d->start_cmd)
		remote_cmd_stop(d->start_cmd);
	if (d->follow_cmd)
		remote_cmd_stop(d->follow_cmd);
	if (d->cancel_cmd)
		remote_cmd_stop(d->cancel_cmd);
	appcheck_free(d->source_app);
	appcheck_free(d->target_app);
	registry_cancel(d->adopt_app_lookup.op);
	registry_cancel(d->adopt_mig_lookup.op);
	registry_cancel(d->tag_now_lookup.op);
	free(d->adopt_record);
	for (size_t j = 0; d->image_cmds && j < d->target->hosts_len; j++) {
		if (d->image_cmds[j])
			remote_cmd_stop(d->image_cmds[j]);
		outbuf_clear(&d->image_out[j]);
	}
	free(d->image_cmds);
	free(d->image_checks);
	free(d->image_out);
	if (d->app_op)
		registry_cancel(d->app_op);
	if (d->mig_op)
		registry_cancel(d->mig_op);
	if (d->refollow_timer)
		loop_timer_cancel(d->ctx.loop, d->refollow_timer);
	outbuf_clear(&d->start_out);
	hoststate_free(&d->target_state);
	hoststate_free(&d->source_state);
	if (d->have_plan)
		plan_free(&d->plan);
	free(d->info.steps);
	logbuf_free(d->info.output);
	free(d);
}
