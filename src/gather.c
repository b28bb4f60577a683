/* A deploy's facts: the units' states (target and source), what the apps say, the
 * registry's digests, and with the registry down, whether the units hold the images. Each
 * answer is counted in d->pending (src/deploystate.h). */
#include "config.h"

#include "deploystate.h"
#include "deployenv.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	deploy_answered(l->d);
}

/* Starts a lookup of repo:ref into out (pending counts it). */
void gather_digest(struct deploy *d, struct digest_lookup *l, const char *repo,
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

void gather_target_done(void *arg, struct hostread *r)
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
			gather_digest(d, &d->adopt_app_lookup, reg->app, d->adopt.tag, d->adopt.app,
			    sizeof d->adopt.app);
		if (!d->adopt.migrator[0])
			gather_digest(d, &d->adopt_mig_lookup, reg->migrator, d->adopt.tag,
			    d->adopt.migrator, sizeof d->adopt.migrator);
	}
	deploy_answered(d);
}

void gather_source_done(void *arg, struct hostread *r)
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
		gather_resolve(d);
	deploy_answered(d);
}

/* A source host's services: kept when listed; a host that cannot list them is not
 * cross-checked (the dashboard shows why). */
static void services_done(void *arg, struct running *r, const char *why)
{
	struct services_read *sr = arg;

	(void)why;
	sr->cmd = NULL;
	sr->listed = r != NULL;
	if (r) {
		sr->run = *r;
		*r = (struct running){ 0 };
	}
	deploy_answered(sr->d);
}

/* What each service of the source's units runs: a promotion takes a tag all of them
 * ran (each unit that can list them counts in d->pending). */
void gather_source_services(struct deploy *d, const struct target *from)
{
	size_t n = from->ops->units(from);

	d->source_from = from;
	d->source_units = n;
	d->source_services = xcalloc(n + 1, sizeof *d->source_services);
	for (size_t j = 0; j < n; j++) {
		struct services_read *sr = &d->source_services[j];

		sr->d = d;
		sr->cmd = from->ops->running(from, j, services_done, sr);
		if (sr->cmd)
			d->pending++;
	}
}

/* The first service of the source's app image on another build than its deploy.env. */
void gather_services_drift(struct deploy *d)
{
	char repo[RUNNING_REPO_MAX], tag[PAYLOAD_TAG_MAX], digest[RUNNING_DIGEST_MAX];
	const char *image = d->source_state.deploy_env.app_image;

	d->services_drift[0] = '\0';
	if (!d->source_services || !d->source_read || !d->source_state.has_deploy_env)
		return;
	running_image_repo(image, repo, sizeof repo);
	deployenv_image_tag(image, tag, sizeof tag);
	deployenv_image_digest(image, digest, sizeof digest);
	for (size_t j = 0; j < d->source_units; j++) {
		const struct services_read *sr = &d->source_services[j];
		const struct running_service *s = sr->listed ? running_drift(&sr->run, repo, tag, digest) :
		    NULL;

		if (s) {
			snprintf(d->services_drift, sizeof d->services_drift, "%s, service %s runs %s",
			    d->source_from->ops->unit_name(d->source_from, j), s->name, s->tag);
			return;
		}
	}
}

void gather_source_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->source_res = *res;
	appcheck_free(d->source_app);
	d->source_app = NULL;
	deploy_answered(d);
}

void gather_target_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	d->target_res = *res;
	appcheck_free(d->target_app);
	d->target_app = NULL;
	deploy_answered(d);
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
	deploy_answered(d);
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
void gather_resolve(struct deploy *d)
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
	deploy_copy(d->info.tag, sizeof d->info.tag, d->tag_wanted);
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
	const char *addr = d->info.hosts[ic->host].address;
	size_t n = strlen(d->images_missing);

	ic->cmd = NULL;
	if (how != UNIT_EXITED || status != 0)
		snprintf(d->images_missing + n, sizeof d->images_missing - n, "%s%s (%s)", n ? "; " : "",
		    addr, how != UNIT_EXITED ? (message && *message ? message : "not reached") :
		    "not there");
	outbuf_clear(&ic->out);
	deploy_answered(d);
}

static const struct unit_cmd_ops image_check_ops = {
	.output = image_check_output, .done = image_check_done, .bounded = true,
};

/* Runs deploy.image_check for the app image that ran, on every host. */
void gather_host_images(struct deploy *d)
{
	const struct conf_registry *reg = d->ctx.conf->registry;
	char *ref = release_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);

	deploy_enter(d, STAGE_HOST_IMAGES);
	d->image_checks = xcalloc(d->info.hosts_len, sizeof *d->image_checks);
	d->pending = (int)d->info.hosts_len;
	deploy_say(d, "the registry cannot be reached: checking that the hosts hold %s", ref);
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		struct image_check *ic = &d->image_checks[j];

		ic->d = d;
		ic->host = j;
		ic->cmd = d->to->ops->has_image(d->to, j, ref, &image_check_ops, ic);
	}
	free(ref);
	deploy_notify(d);
}
