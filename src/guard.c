/* The guards of a deploy, over gathered facts: nothing here waits or reads. */
#include "config.h"

#include "guard.h"
#include "deployenv.h"
#include "duration.h"
#include "target.h"
#include "value.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void guard_refuse(struct guard_verdict *v, const char *fmt, ...)
{
	size_t n = strlen(v->refusal);
	va_list ap;

	if (n > 0 && n + 2 < sizeof v->refusal)
		v->refusal[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(v->refusal + n, sizeof v->refusal - n, fmt, ap);
	va_end(ap);
}

void guard_warn(struct guard_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->warnings_len >= GUARD_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(v->warnings[v->warnings_len++], sizeof v->warnings[0], fmt, ap);
	va_end(ap);
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

/* What the target calls the configuration that says what a unit runs ("deploy.env"). */
static const char *config(const struct conf_env *env)
{
	return target_words_of(env)->config;
}

/* The name of an environment's first unit, as its target names it. */
static const char *unit0(const struct conf_env *env, const struct host_state *st)
{
	return st->first_unit[0] ? st->first_unit : env->hosts[0].address;
}

/* The tag a state's (first) unit is configured to run ("" none). */
static void env_tag(const struct host_state *st, char *tag, size_t tagsz)
{
	tag[0] = '\0';
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, tag, tagsz);
}

bool guard_source_tag(const struct conf_env *source, const struct host_state *ss, char *tag,
    size_t tagsz, char *err, size_t errsz)
{
	tag[0] = '\0';
	if (ss->deploy_env_differs[0]) {
		char first[136], other[136] = "";

		env_tag(ss, first, sizeof first);
		deployenv_image_tag(ss->differs_image, other, sizeof other);
		snprintf(err, errsz, "%s's hosts run different tags (%s runs %s, %s runs %s), so gantry "
		    "cannot tell which one to promote; name it with --tag", source->name,
		    unit0(source, ss), first[0] ? first : "nothing", ss->deploy_env_differs,
		    other[0] ? other : "nothing");
		return false;
	}
	if (!ss->has_deploy_env) {
		snprintf(err, errsz, "%s's host %s has no %s, so gantry cannot tell which tag it "
		    "runs; name one with --tag", source->name, unit0(source, ss), config(source));
		return false;
	}
	env_tag(ss, tag, tagsz);
	/* the host's file: what is not a tag is never promoted */
	if (!value_tag(tag) || strcmp(tag, "latest") == 0) {
		snprintf(err, errsz, "%s runs %s, which names no tag gantry can promote; name one with "
		    "--tag", source->name, ss->deploy_env.app_image);
		tag[0] = '\0';
		return false;
	}
	return true;
}

/* The newest run of `tag` (any tag when NULL) proven on the environment (every host
 * recorded it healthy, and the records agree: history_run_proven), skipping `skip_tag`;
 * its index or -1. `why_not` (when not NULL) says why the newest healthy run passed
 * over was not proven ("" when none was). */
static long proven_run(const struct history *h, const char *tag, const char *skip_tag,
    char *why_not, size_t why_notsz)
{
	char why[300];

	if (why_not)
		why_not[0] = '\0';
	for (size_t i = h->len; i-- > 0;) {
		const struct history_run *r = &h->runs[i];

		if (!history_run_healthy(r) || !r->tag[0])
			continue;
		if (tag && strcmp(r->tag, tag) != 0)
			continue;
		if (skip_tag && strcmp(r->tag, skip_tag) == 0)
			continue;
		if (!history_run_proven(h, r, why, sizeof why)) {
			if (why_not && !why_not[0])
				snprintf(why_not, why_notsz, "%s", why);
			continue;
		}
		return (long)i;
	}
	return -1;
}

bool guard_rollback_target(const struct conf_env *target, const struct history *h,
    const char *wanted, bool unverified, const char *current, struct guard_images *out,
    bool *by_digest, bool *never_verified, struct guard_verdict *v)
{
	const char *t = target->name;
	char why_not[300];
	long i;

	memset(out, 0, sizeof *out);
	*by_digest = *never_verified = false;
	if (wanted && *wanted) {
		i = proven_run(h, wanted, NULL, why_not, sizeof why_not);
		if (i < 0 && !unverified && why_not[0]) {
			guard_refuse(v, "%s is not proven on %s: %s. A rollback goes only to a tag every "
			    "host ran healthy; look at `gantry history %s`, or to go there anyway: --to %s "
			    "--unverified --yes", wanted, t, why_not, t, wanted);
			return false;
		}
		if (i < 0 && !unverified) {
			guard_refuse(v, "%s never ran healthy on %s (no run of it succeeded or was adopted "
			    "there), so it was never verified on %s. `gantry history %s` lists the tags "
			    "that were; to roll back to %s anyway: --to %s --unverified --yes", wanted, t, t,
			    t, wanted, wanted);
			return false;
		}
		copy_str(out->tag, sizeof out->tag, wanted);
		if (i < 0) {
			*never_verified = true;
			guard_warn(v, "NOT VERIFIED: %s never ran healthy on %s; it is deployed as the "
			    "registry has it now", wanted, t);
			return true;
		}
	} else {
		i = proven_run(h, NULL, current && *current ? current : NULL, why_not, sizeof why_not);
		if (i < 0 && !history_has_runs(h)) {
			guard_refuse(v, "%s has no run recorded (gantry never deployed it), so no tag is "
			    "verified there to roll back to. If it was deployed by hand, `gantry adopt %s` "
			    "records what it runs now as a baseline; to go to a tag anyway: --to TAG "
			    "--unverified --yes", t, t);
			return false;
		}
		if (i < 0 && why_not[0]) {
			guard_refuse(v, "%s's history holds no run of a tag other than %s that every host "
			    "ran healthy, so there is nothing to roll back to (the newest other healthy "
			    "record was set aside: %s); a tag never verified there needs --to TAG "
			    "--unverified --yes", t, current && *current ? current : "the current one",
			    why_not);
			return false;
		}
		if (i < 0) {
			guard_refuse(v, "%s's history holds no healthy run of a tag other than %s, so there "
			    "is nothing to roll back to; a tag never verified there needs --to TAG "
			    "--unverified --yes", t, current && *current ? current : "the current one");
			return false;
		}
		copy_str(out->tag, sizeof out->tag, h->runs[i].tag);
	}
	/* the images that ran, not what the tag may point to now */
	if (h->runs[i].app_digest[0] && h->runs[i].migrator_digest[0]) {
		copy_str(out->app, sizeof out->app, h->runs[i].app_digest);
		copy_str(out->migrator, sizeof out->migrator, h->runs[i].migrator_digest);
		*by_digest = true;
	}
	/* migrations applied since that run stay applied */
	for (size_t j = (size_t)i + 1; j < h->len; j++) {
		const struct history_run *r = &h->runs[j];

		if (r->migrated && strcmp(r->migrator_digest, h->runs[i].migrator_digest) != 0) {
			guard_warn(v, "this crosses a migration: %s ran migrations on %s after %s was "
			    "deployed; they stay applied (migrations only go forward), so %s must work "
			    "with the newer schema", r->tag, t, out->tag, out->tag);
			break;
		}
	}
	return true;
}

void guard_still_runs(const struct host_state *st, const char *current, char *out, size_t outsz)
{
	const struct history *h = &st->history;

	out[0] = '\0';
	for (size_t i = h->len; i-- > 0;) {
		const struct history_run *r = &h->runs[i];

		if (r->note)
			continue;
		if (strcmp(r->tag, current) != 0 || !r->switch_known || r->switched ||
		    r->hosts > 1 || st->deploy_env_differs[0] ||
		    (r->result != RUN_FAILED && r->result != RUN_CANCELLED))
			return;
		for (size_t k = i; k-- > 0;) {
			if (history_run_healthy(&h->runs[k]) && strcmp(h->runs[k].tag, r->tag) != 0) {
				copy_str(out, outsz, h->runs[k].tag);
				return;
			}
		}
		return;
	}
}

void guard_back(const struct history *h, const char *tag, const struct guard_images *baseline,
    struct guard_images *out)
{
	long i = proven_run(h, NULL, tag, NULL, 0);

	memset(out, 0, sizeof *out);
	if (i >= 0) {
		const struct history_run *r = &h->runs[i];

		copy_str(out->tag, sizeof out->tag, r->tag);
		copy_str(out->app, sizeof out->app, r->app_digest);
		copy_str(out->migrator, sizeof out->migrator, r->migrator_digest);
	} else if (baseline && baseline->tag[0] && strcmp(baseline->tag, tag) != 0) {
		*out = *baseline;
	}
}

bool guard_adopt_candidate(const struct host_state *st, bool (*allowed)(void *, const char *),
    void *allowed_arg, struct guard_images *out)
{
	memset(out, 0, sizeof *out);
	if (!st->has_deploy_env || history_has_runs(&st->history))
		return false;
	env_tag(st, out->tag, sizeof out->tag);
	if (!value_tag(out->tag) || !allowed(allowed_arg, out->tag)) {
		out->tag[0] = '\0';
		return false;
	}
	deployenv_image_digest(st->deploy_env.app_image, out->app, sizeof out->app);
	deployenv_image_digest(st->deploy_env.migrator_image, out->migrator, sizeof out->migrator);
	/* the host's file: a digest that is not one is not used (the registry is asked) */
	if (!value_digest(out->app))
		out->app[0] = '\0';
	if (!value_digest(out->migrator))
		out->migrator[0] = '\0';
	return true;
}

bool guard_adopt_decide(const struct conf_env *t, const struct host_state *st,
    const struct appcheck_result *app, const char *candidate, char *why_out, size_t whysz)
{
	const char *why = NULL;
	char buf[300];

	why_out[0] = '\0';
	if (!candidate[0])
		return false;
	if (st->deploy_env_differs[0]) {
		snprintf(buf, sizeof buf, "its hosts' %s name different tags", config(t));
		why = buf;
	} else if (!app->ready)
		why = app->ready_error[0] ? app->ready_error : "its app is not ready";
	else if (!app->version[0])
		why = app->version_error[0] ? app->version_error : "its app reports no version";
	else if (strcmp(app->version, candidate) != 0) {
		snprintf(buf, sizeof buf, "its app reports %s, not %s that %s names",
		    app->version, candidate, config(t));
		why = buf;
	}
	if (why) {
		snprintf(why_out, whysz, "%s", why);
		return false;
	}
	return true;
}

void guard_adopt(const struct conf_env *t, const struct host_state *st,
    const struct appcheck_result *app, const char *candidate, struct guard_verdict *v)
{
	char why[300];

	if (history_has_runs(&st->history)) {
		guard_refuse(v, "%s has runs recorded already: adoption records a baseline for an "
		    "environment gantry never ran on; `gantry history %s` lists what is known", t->name,
		    t->name);
	} else if (!st->has_deploy_env) {
		guard_refuse(v, "%s's host %s has no %s, so nothing says which tag runs there; "
		    "deploy one with `gantry deploy %s TAG`", t->name, unit0(t, st), config(t),
		    t->name);
	} else if (!candidate[0]) {
		guard_refuse(v, "%s's %s names %s, not a tag matching registry.tags: only such "
		    "a tag can be adopted", t->name, config(t), st->deploy_env.app_image);
	} else if (!guard_adopt_decide(t, st, app, candidate, why, sizeof why)) {
		guard_refuse(v, "%s cannot be adopted: %s. Adoption records only a tag the app reports, "
		    "ready, and every host's %s names", t->name, why, config(t));
	}
	if (st->lock.held)
		guard_refuse(v, "%s is locked by %s (%s): adopt when its run has ended", t->name,
		    st->lock.owner[0] ? st->lock.owner : "someone", st->lock.message);
}

/* How a run that did not end healthy ended, in words: "failed at run migrator". */
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
 * `chosen`, or refuses. */
static void verify_source(const struct guard_facts *f, struct guard_verdict *v, char *chosen,
    size_t chosensz)
{
	const struct host_state *ss = f->source_state;
	const struct history *h = &ss->history;
	const struct history_run *last = NULL;
	const char *src = f->source->name, *tag = f->tag;
	const char *version = f->source_app->version;
	const char *running = ss->lock.held && ss->lock.runner_alive ? ss->lock.run : NULL;
	char stag[136], when[64] = "", how[200];

	env_tag(ss, stag, sizeof stag);
	for (size_t i = h->len; i-- > 0 && !last;)
		if (!h->runs[i].note && strcmp(h->runs[i].tag, tag) == 0)
			last = &h->runs[i];
	if (!f->explicit_tag && version[0] && strcmp(version, stag) != 0) {
		guard_refuse(v, "%s's app reports %s but its %s names %s: gantry cannot tell "
		    "which one was verified there, so it promotes neither; look at %s (gantry history "
		    "%s), or name the tag with --tag", src, version, config(f->source),
		    stag[0] ? stag : "nothing", src, src);
		return;
	}
	if (!f->explicit_tag && f->source_services && f->source_services[0]) {
		guard_refuse(v, "%s does not run %s in full: on %s. Promotion takes only a tag every "
		    "service of its image ran on %s; bring that service to %s there (deploy.services "
		    "lists the services a deploy moves), then promote", src, tag, f->source_services,
		    src, tag);
		return;
	}
	if (last && !history_run_healthy(last)) {
		run_outcome(last, running, how, sizeof how);
		guard_refuse(v, "the last run of %s on %s (a %s by %s, run %s) %s: promotion takes only "
		    "a tag verified there. %s", tag, src, last->action, last->operator, last->id, how,
		    f->explicit_tag ? "Deploy it to the source again and let it pass first" :
		    "Deploy a tag that passes there first, or name another with --tag");
		return;
	}
	if (last && !history_run_proven(h, last, how, sizeof how)) {
		guard_refuse(v, "the last run of %s on %s (a %s by %s, run %s) is not proven there: %s. "
		    "Promotion takes only a tag every host of %s ran healthy; deploy it to %s again, "
		    "or look at `gantry history %s`", tag, src, last->action, last->operator, last->id,
		    how, src, src, src);
		return;
	}
	if (!last) {
		if (!f->explicit_tag) {
			guard_refuse(v, "%s has no run of %s recorded: gantry neither deployed nor verified "
			    "it there. Deploy it there with gantry, or, if it runs there and is good, record "
			    "it with `gantry adopt %s`", src, tag, src);
			return;
		}
		guard_warn(v, "%s never ran on %s: it was not verified there", tag, src);
		snprintf(chosen, chosensz, "named with --tag; never ran on %s", src);
		return;
	}
	if (last->ended) {
		time_t t = (time_t)last->ended;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof when, " on %Y-%m-%d %H:%M", &tm);
	}
	snprintf(chosen, chosensz, "%s %s%s: its last run there (%s%s) %s%s%s%s",
	    f->explicit_tag ? "named with --tag, verified on" : "what", src,
	    f->explicit_tag ? "" : " runs", last->action, when,
	    last->result == RUN_ADOPTED ? "adopted it" : "succeeded",
	    f->explicit_tag ? "" : version[0] ? "; its app reports it and " : "; ",
	    f->explicit_tag ? "" : config(f->source),
	    f->explicit_tag ? "" : version[0] ? " names it" : " names it (its app reports no version)");
}

/* The source's readiness, a re-pointed tag and the soak time. */
static void check_source(const struct guard_facts *f, struct guard_verdict *v)
{
	const struct conf_env *t = f->target, *s = f->source;
	const struct host_state *ss = f->source_state;
	char age[32];

	if (!f->source_app->ready)
		guard_refuse(v, "%s is not ready: %s", s->name, f->source_app->ready_error);
	if (ss && ss->has_deploy_env && f->app_digest[0]) {
		char ran[80], stag[136];

		/* the digest the source tested, when it runs this very tag */
		env_tag(ss, stag, sizeof stag);
		deployenv_image_digest(ss->deploy_env.app_image, ran, sizeof ran);
		if (strcmp(stag, f->tag) == 0 && ran[0] && strcmp(ran, f->app_digest) != 0)
			guard_refuse(v, "%s ran %s as %s, but the tag now points to %s: it was re-pointed "
			    "after it was tested there; deploy it to %s again first", s->name, f->tag, ran,
			    f->app_digest, s->name);
	}
	if (t->deploy.soak_ms > 0 && ss) {
		long i = proven_run(&ss->history, f->tag, NULL, NULL, 0);
		int64_t since = i >= 0 ? ss->history.runs[i].ended : 0;
		char need[32];

		if (!since && ss->has_deploy_env) {
			char stag[136];

			env_tag(ss, stag, sizeof stag);
			if (strcmp(stag, f->tag) == 0)
				since = ss->deploy_env_mtime;
		}
		duration_format(t->deploy.soak_ms, need, sizeof need);
		if (!since) {
			guard_refuse(v, "%s has no record of when it started running %s, so its soak time "
			    "(%s) cannot be checked", s->name, f->tag, need);
		} else if ((ss->host_now - since) * 1000 < t->deploy.soak_ms) {
			duration_format((ss->host_now - since) * 1000, age, sizeof age);
			guard_refuse(v, "%s has run %s for %s, less than the soak time of %s set for %s; "
			    "promote again in %llds", s->name, f->tag, age, need, t->name,
			    (long long)((t->deploy.soak_ms / 1000) - (ss->host_now - since)));
		}
	} else if (t->deploy.soak_ms > 0 && !s->hosts_len) {
		guard_refuse(v, "%s has no hosts in the configuration, so its soak time cannot be "
		    "checked", s->name);
	}
}

void guard_check(const struct guard_facts *f, struct guard_verdict *v, char *chosen,
    size_t chosensz)
{
	const struct host_state *st = f->target_state;
	const struct conf_env *t = f->target;
	bool promote = f->kind == DEPLOY_PROMOTE && f->source;
	char age[32];

	if (promote) {
		if (f->source->hosts_len && !f->source_state)
			guard_refuse(v, "%s", f->source_err);
		else if (!f->tag[0])
			guard_refuse(v, "%s", f->source_err[0] ? f->source_err : "no tag to promote");
	}
	if (f->registry_down && !f->registry_err[0]) {
		if (f->images_missing[0])
			guard_refuse(v, "the registry cannot be reached (%s), and not every host holds the "
			    "images %s ran as: %s; nothing was started", f->registry_down, f->tag,
			    f->images_missing);
		else
			guard_warn(v, "the registry cannot be reached (%s): every host holds the images %s "
			    "ran as (checked with deploy.image_check), so this rollback uses them and pulls "
			    "nothing", f->registry_down, f->tag);
	}
	if (f->registry_err[0])
		guard_refuse(v, "%s", f->registry_err);
	else if (f->by_digest && f->tag_now[0] && strcmp(f->tag_now, f->app_digest) != 0)
		guard_warn(v, "%s now points to %s in the registry; this rollback deploys %s, the image "
		    "that ran healthy on %s", f->tag, f->tag_now, f->app_digest, t->name);
	if (promote && f->source_state && f->tag[0])
		verify_source(f, v, chosen, chosensz);
	if (st->lock.held && f->emergency && st->lock.runner_alive) {
		guard_refuse(v, "a step of run %s (%s) runs on %s now: an emergency rollback never "
		    "breaks into it; wait for it to end (`gantry attach %s` follows it), then again",
		    st->lock.run, st->lock.message, st->lock.host, t->name);
	} else if (st->lock.held && f->emergency) {
		guard_warn(v, "the lock of run %s (%s, by %s) is broken first on every host, noted in "
		    "the history: no step of it runs", st->lock.run[0] ? st->lock.run : "unknown",
		    st->lock.message[0] ? st->lock.message : "no message",
		    st->lock.owner[0] ? st->lock.owner : "someone");
	} else if (st->lock.held) {
		duration_format((st->host_now - st->lock.since) * 1000, age, sizeof age);
		guard_refuse(v, "%s is locked%s%s by %s for %s (%s)%s", t->name,
		    t->hosts_len > 1 ? " on " : "", t->hosts_len > 1 ? st->lock.host : "",
		    st->lock.owner[0] ? st->lock.owner : "someone", age,
		    st->lock.message[0] ? st->lock.message : "no message",
		    st->lock.leased && !st->lock.runner_alive ? "; that run over several hosts is "
		    "unfinished: `gantry attach ENV` carries it on, `gantry unlock ENV -m REASON` "
		    "abandons it" : hoststate_lock_stale(st) ? "; the lock is stale: its run is gone. "
		    "Break it with `gantry unlock ENV -m REASON`" : "; wait for that run to end");
	}
	if (st->frozen && f->kind != DEPLOY_ROLLBACK) {
		duration_format((st->host_now - st->freeze_since) * 1000, age, sizeof age);
		guard_refuse(v, "%s is frozen by %s for %s: %s (a rollback is still allowed; `gantry "
		    "unfreeze %s` lifts it)", t->name, st->freeze_by[0] ? st->freeze_by : "someone", age,
		    st->freeze_reason[0] ? st->freeze_reason : "no reason given", t->name);
	}
	if (promote)
		check_source(f, v);
}

void guard_plan_warnings(const struct guard_facts *f, const char *adopt_candidate,
    const char *adopt_why, const char *back_tag, struct guard_verdict *v)
{
	const struct host_state *st = f->target_state;
	const struct conf_env *t = f->target;

	if (f->current[0] && strcmp(f->current, f->tag) == 0)
		guard_warn(v, "%s runs %s already: this deploys it again", t->name, f->tag);
	if (st->deploy_env_differs[0]) {
		char other[136] = "", digest[DEPLOYENV_IMAGE_MAX] = "";

		deployenv_image_tag(st->differs_image, other, sizeof other);
		/* the same tag on other digests: the digest is what differs */
		if (strcmp(other, f->current) == 0)
			deployenv_image_digest(st->differs_image, digest, sizeof digest);
		guard_warn(v, "%s's hosts do not all run the same: %s runs %s, %s runs %s%s%s; this %s "
		    "puts each on %s", t->name, unit0(t, st), f->current[0] ? f->current : "nothing",
		    st->deploy_env_differs, other[0] ? other : "nothing", digest[0] ? " pinned to " : "",
		    digest,
		    f->kind == DEPLOY_PROMOTE ? "promote" : f->kind == DEPLOY_ROLLBACK ? "rollback" :
		    "deploy", f->tag);
	}
	if (adopt_candidate[0] && adopt_why[0])
		guard_warn(v, "%s has no run recorded and %s runs there unverified (%s): no baseline is "
		    "adopted", t->name, adopt_candidate, adopt_why);
	if (t->deploy.auto_rollback && !back_tag[0])
		guard_warn(v, "no earlier healthy tag is known on %s: if this fails, nothing rolls back "
		    "by itself", t->name);
}
