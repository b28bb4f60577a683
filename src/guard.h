/* The guards of a deploy: pure decisions over facts gathered beforehand (each host's
 * merged state with its history, what the apps answered, what the registry said). They
 * choose the tag to promote or roll back to, refuse with what stopped it and what to do,
 * and warn; none reads a host or the network, so each is tested on its own
 * (tests/unit/check_guard.c). src/deploy.c gathers the facts and acts on the verdict. */
#ifndef GANTRY_GUARD_H
#define GANTRY_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "appcheck.h"
#include "conf.h"
#include "hoststate.h"

/* DEPLOY_ADOPT runs nothing: it records what an environment runs as its baseline. */
enum deploy_kind { DEPLOY_PROMOTE, DEPLOY_ROLLBACK, DEPLOY_DEPLOY, DEPLOY_ADOPT };

#define GUARD_WARNINGS 3

struct guard_verdict {
	char refusal[1024];             /* what stopped it and what to do, one reason per
	                                   line; "" when nothing did */
	char warnings[GUARD_WARNINGS][300];     /* shown with the plan */
	size_t warnings_len;
};

/* Adds a reason to the refusal, or a warning (past GUARD_WARNINGS, dropped). */
void guard_refuse(struct guard_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void guard_warn(struct guard_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline bool guard_refused(const struct guard_verdict *v)
{
	return v->refusal[0] != '\0';
}

/* A tag with the digests it ran as ("" when unknown). */
struct guard_images {
	char tag[136];
	char app[80], migrator[80];
};

/* Promote: the tag the source runs, from its hosts' deploy.env. False with what to do in
 * `err` when they disagree, name none, or name what is not a deployable tag. */
bool guard_source_tag(const struct conf_env *source, const struct host_state *ss, char *tag,
    size_t tagsz, char *err, size_t errsz);

/* Rollback: where to go. `wanted` is --to's tag ("" for the newest healthy run of
 * another tag than `current`); a tag never healthy on the target is refused unless
 * `unverified`. The images are the digests it ran as when the history has them
 * (*by_digest), and a migration applied since is warned of. */
bool guard_rollback_target(const struct conf_env *target, const struct history *h,
    const char *wanted, bool unverified, const char *current, struct guard_images *out,
    bool *by_digest, bool *never_verified, struct guard_verdict *v);

/* deploy.env names `current`, but when the newest run of it stopped before its switch
 * (a failed migrator, a cancel) on the one host it ran on, the app still runs what ran
 * before: that tag into out ("" otherwise). */
void guard_still_runs(const struct host_state *st, const char *current, char *out,
    size_t outsz);

/* Where an automatic rollback of a run of `tag` goes: the newest healthy run (or
 * adoption) of another tag; else `baseline` when the run adopts one (NULL: none). Never
 * a tag taken from deploy.env alone. out->tag is "" when nowhere is known. */
void guard_back(const struct history *h, const char *tag, const struct guard_images *baseline,
    struct guard_images *out);

/* The baseline an environment with no run recorded would adopt: the tag its deploy.env
 * names when it matches `allowed` (registry.tags), with the digests deploy.env pins
 * ("" where it pins none). False when there is none. */
bool guard_adopt_candidate(const struct host_state *st, bool (*allowed)(void *, const char *),
    void *allowed_arg, struct guard_images *out);
/* Whether a run adopts that baseline: its hosts' deploy.env agree and its app is ready
 * and reports that very tag. When not, `why` says so. */
bool guard_adopt_decide(const struct conf_env *t, const struct host_state *st,
    const struct appcheck_result *app, const char *candidate, char *why, size_t whysz);
/* gantry adopt's refusals. */
void guard_adopt(const struct conf_env *target, const struct host_state *st,
    const struct appcheck_result *app, const char *candidate, struct guard_verdict *v);

/* What a promotion, rollback or deploy is checked against, once gathered. */
struct guard_facts {
	enum deploy_kind kind;
	bool emergency;                 /* an emergency rollback: a lock no step holds is broken */
	const struct conf_env *target;
	const struct host_state *target_state;
	const char *current;            /* the tag the target's deploy.env names ("" none) */
	const char *tag;                /* what would run ("" when none was found) */
	const char *app_digest;         /* as resolved ("" unknown) */
	/* promote */
	const struct conf_env *source;
	const struct host_state *source_state;  /* NULL when it was not read */
	const struct appcheck_result *source_app;
	const char *source_err;         /* why the source's state or tag is missing */
	const char *source_services;    /* a service of the source's app image on another build
	                                   than its deploy.env names ("host, service worker
	                                   runs sha-..."), "" none or not known */
	bool explicit_tag;              /* --tag */
	/* the registry */
	const char *registry_err;       /* "" when it answered */
	const char *registry_down;      /* a rollback with the registry unreachable: its error
	                                   (the images were looked for on the hosts); NULL */
	const char *images_missing;     /* the hosts that lack them ("" none) */
	bool by_digest;                 /* rollback to the digests that ran */
	const char *tag_now;            /* what the tag points to now ("" unknown) */
};

/* The checks before a plan: the source's tag, the registry, that the source verified
 * what is promoted (why it was chosen into `chosen`), the lock, the freeze, the source's
 * readiness, a re-pointed tag, the soak time. */
void guard_check(const struct guard_facts *f, struct guard_verdict *v, char *chosen,
    size_t chosensz);
/* The warnings shown with a plan that passed: a redeploy, hosts that differ, a baseline
 * not adopted (with why), no tag to roll back to by itself. */
void guard_plan_warnings(const struct guard_facts *f, const char *adopt_candidate,
    const char *adopt_why, const char *back_tag, struct guard_verdict *v);

#endif
