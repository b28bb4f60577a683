/* What gantry knows about each environment, and how fresh that knowledge is. */
#include "config.h"

#include "model.h"
#include "duration.h"
#include "lease.h"
#include "payload.h"
#include "target.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct model *model_new(const struct conf *conf, int64_t now)
{
	struct model *model = xcalloc(1, sizeof *model);

	model->conf = conf;
	model->envs_len = conf->envs_len;
	model->envs = xcalloc(conf->envs_len, sizeof *model->envs);
	model->started_at = now;
	model->sweep_ms = -1;
	for (size_t i = 0; i < conf->envs_len; i++) {
		model->envs[i].conf = &conf->envs[i];
		model->envs[i].health_since = now;
		/* the configuration's hosts, until the target says what its units are */
		model->envs[i].hosts_len = conf->envs[i].hosts_len;
		model->envs[i].hosts = xcalloc(conf->envs[i].hosts_len + 1, sizeof *model->envs[i].hosts);
		for (size_t j = 0; j < conf->envs[i].hosts_len; j++)
			snprintf(model->envs[i].hosts[j].name, sizeof model->envs[i].hosts[j].name, "%s",
			    conf->envs[i].hosts[j].address);
	}
	return model;
}

void model_set_units(struct model *model, size_t env, size_t n)
{
	struct env_status *e = &model->envs[env];

	for (size_t j = 0; j < e->hosts_len; j++)
		running_free(&e->hosts[j].running);
	free(e->hosts);
	e->hosts_len = n;
	e->hosts = xcalloc(n + 1, sizeof *e->hosts);
}

void model_free(struct model *model)
{
	if (!model)
		return;
	for (size_t i = 0; i < model->envs_len; i++) {
		for (size_t j = 0; j < model->envs[i].hosts_len; j++)
			running_free(&model->envs[i].hosts[j].running);
		free(model->envs[i].hosts);
	}
	free(model->envs);
	free(model);
}

/* True for a Content-Type of text/html (an error page or a catch-all route). */
static bool content_type_is_html(const char *content_type)
{
	return strncasecmp(content_type, "text/html", 9) == 0;
}

void model_classify(enum probe_kind kind, const struct http_response *resp,
    const struct conf_env *env, struct probe_result *out, char *tag, size_t tagsz)
{
	char summary[160];

	memset(out, 0, sizeof *out);
	out->http_status = resp->status;
	out->latency_ms = resp->elapsed_ms;
	switch (resp->error) {
	case HTTP_OK:
		break;
	case HTTP_ERR_TIMEOUT:
		out->state = PROBE_TIMEOUT;
		snprintf(out->detail, sizeof out->detail, "%s", resp->message);
		return;
	case HTTP_ERR_REFUSED:
	case HTTP_ERR_RESOLVE:
		out->state = PROBE_DOWN;
		snprintf(out->detail, sizeof out->detail, "%s", resp->message);
		return;
	case HTTP_ERR_TLS:
		out->state = PROBE_TLS;
		snprintf(out->detail, sizeof out->detail, "%s", resp->message);
		return;
	default:
		out->state = PROBE_BAD;
		snprintf(out->detail, sizeof out->detail, "%s", resp->message);
		return;
	}
	if (resp->status >= 300 && resp->status < 400) {
		out->state = PROBE_BAD;
		snprintf(out->detail, sizeof out->detail,
		    "HTTP %ld redirect to %s; point the path at the endpoint itself",
		    resp->status, resp->location[0] ? resp->location : "(no Location)");
		return;
	}
	if (resp->status < 200 || resp->status >= 300) {
		out->state = PROBE_FAIL;
		payload_summary(resp->body, resp->body_len, summary, sizeof summary);
		if (summary[0])
			snprintf(out->detail, sizeof out->detail, "HTTP %ld: %s", resp->status, summary);
		else
			snprintf(out->detail, sizeof out->detail, "HTTP %ld", resp->status);
		return;
	}
	if (kind == PROBE_VERSION) {
		char err[160];

		if (!payload_version(resp->body, resp->body_len, env->version_pointer, tag, tagsz,
		    err, sizeof err)) {
			out->state = PROBE_BAD;
			snprintf(out->detail, sizeof out->detail, "version: %s", err);
			return;
		}
		out->state = PROBE_OK;
		return;
	}
	if (content_type_is_html(resp->content_type)) {
		out->state = PROBE_BAD;
		snprintf(out->detail, sizeof out->detail,
		    "HTTP %ld with an HTML page, not a health answer; is the path right?", resp->status);
		return;
	}
	out->state = PROBE_OK;
}

void model_round_done(struct env_status *env, int64_t now, time_t wall)
{
	const struct probe_result *live = &env->probes[PROBE_LIVE];
	const struct probe_result *ready = &env->probes[PROBE_READY];
	enum env_health health;

	if (live->state != PROBE_OK)
		health = HEALTH_DOWN;
	else if (ready->state != PROBE_OK)
		health = HEALTH_NOT_READY;
	else
		health = HEALTH_READY;
	if (health != env->health) {
		/* a change seen, not the first answer: the state's age is known from here on */
		env->health_since_seen = env->health != HEALTH_UNKNOWN;
		env->health = health;
		env->health_since = now;
	}
	env->checked_at = now;
	env->checked_wall = wall;
	env->round_started = 0;
	env->rounds++;
}

int64_t model_age(const struct model *model, const struct env_status *env, int64_t now)
{
	return now - (env->checked_at ? env->checked_at : model->started_at);
}

bool model_is_stale(const struct model *model, const struct env_status *env, int64_t now)
{
	return model_age(model, env, now) > 3 * env->conf->interval_ms;
}

time_t model_refreshed_wall(const struct model *model)
{
	time_t oldest = 0;

	for (size_t i = 0; i < model->envs_len; i++) {
		if (!model->envs[i].checked_wall)
			return 0;
		if (!oldest || model->envs[i].checked_wall < oldest)
			oldest = model->envs[i].checked_wall;
	}
	return oldest;
}

bool model_all_checked(const struct model *model)
{
	for (size_t i = 0; i < model->envs_len; i++)
		if (model->envs[i].rounds == 0)
			return false;
	return true;
}

const char *model_health_name(enum env_health health)
{
	switch (health) {
	case HEALTH_UNKNOWN:
		return "unknown";
	case HEALTH_READY:
		return "ready";
	case HEALTH_NOT_READY:
		return "not ready";
	case HEALTH_DOWN:
		return "down";
	}
	return "unknown";
}

const char *model_probe_state_name(enum probe_state state)
{
	switch (state) {
	case PROBE_PENDING:
		return "pending";
	case PROBE_OK:
		return "ok";
	case PROBE_FAIL:
		return "fail";
	case PROBE_TIMEOUT:
		return "timeout";
	case PROBE_DOWN:
		return "refused";
	case PROBE_BAD:
		return "bad";
	case PROBE_TLS:
		return "tls";
	}
	return "pending";
}

void model_probe_word(const struct probe_result *result, enum probe_kind kind,
    char *out, size_t outsz)
{
	const char *word = "...";

	switch (result->state) {
	case PROBE_PENDING:
		break;
	case PROBE_OK:
		word = kind == PROBE_READY ? "ready" : "up";
		break;
	case PROBE_FAIL:
		if (kind == PROBE_READY && result->http_status == 503) {
			word = "not ready";
			break;
		}
		snprintf(out, outsz, "HTTP %ld", result->http_status);
		return;
	case PROBE_TIMEOUT:
		word = "timeout";
		break;
	case PROBE_DOWN:
		word = "refused";
		break;
	case PROBE_BAD:
		word = "bad reply";
		break;
	case PROBE_TLS:
		word = "TLS error";
		break;
	}
	snprintf(out, outsz, "%s", word);
}

bool model_last_run(const struct env_status *env, int64_t now, char *out, size_t outsz,
    bool *bad)
{
	const struct run_summary *last = NULL;
	const char *id = NULL;
	char age[24] = "", step[32] = "";

	*bad = false;
	for (size_t j = 0; j < env->hosts_len; j++) {
		const struct host_status *h = &env->hosts[j];

		if (!h->state_known || !h->last_run.known)
			continue;
		/* the newest run; of one run, the worst a host recorded */
		if (!last || h->last_run.started > last->started ||
		    (strcmp(h->current_run, id) == 0 &&
		    run_result_rank(h->last_run.result) > run_result_rank(last->result))) {
			last = &h->last_run;
			id = h->current_run;
		}
	}
	if (!last)
		return false;
	if (last->started > 0 && now >= last->started) {
		char d[16];

		duration_format((now - last->started) * 1000, d, sizeof d);
		snprintf(age, sizeof age, ", %s%s", d, strcmp(d, "now") == 0 ? "" : " ago");
	}
	if (last->failed_step > 0 && last->result != RUN_SUCCEEDED)
		snprintf(step, sizeof step, " at step %d", last->failed_step);
	snprintf(out, outsz, "last run: %s %s %s%s%s", last->action, last->tag,
	    last->result == RUN_RESULT_NONE ? "running or cut off" : run_result_name(last->result),
	    step, age);
	*bad = last->result != RUN_SUCCEEDED && last->result != RUN_ADOPTED &&
	    last->result != RUN_RESULT_NONE;
	return true;
}

/* Host j as src/rolloutstatus.h reads a unit. */
static void rollout_unit_of(const void *arg, size_t j, struct rollout_unit *u)
{
	const struct host_status *h = &((const struct env_status *)arg)->hosts[j];

	*u = (struct rollout_unit){
		.read = h->state_known, .tag = h->app_tag,
		.alive = h->lock.held && h->lock.runner_alive ? h->lock.run : "",
		.current = h->current_run,
		.result = h->last_run.known ? h->last_run.result : RUN_RESULT_NONE,
		.lease = h->lock.held && h->lock.leased ? h->lock.lease.id : "",
	};
}

void model_rollout(const struct env_status *env, struct rollout_status *out,
    enum rollout_stand *stands)
{
	const struct host_status *first = env->hosts_len ? &env->hosts[0] : NULL;
	bool known = first && first->state_known;

	rollout_status_of(&(struct rollout_first){ .lock = known ? &first->lock : NULL,
	    .driver = known ? &first->driver : NULL, .request = known ? &first->request : NULL,
	    .host_now = known ? first->host_now : 0 }, rollout_unit_of, env, env->hosts_len, stands,
	    out);
}

bool model_rollout_words(const struct env_status *env, char *out, size_t outsz)
{
	struct rollout_status rs;
	const struct run_lease *l = &rs.lease;
	char tally[160];
	int n;

	model_rollout(env, &rs, NULL);
	if (!rs.active)
		return false;
	n = snprintf(tally, sizeof tally, "%zu of %zu hosts took %s", rs.stands[STAND_TOOK],
	    env->hosts_len, l->tag);
	if (rs.stands[STAND_FAILED] && n > 0 && (size_t)n < sizeof tally)
		n += snprintf(tally + n, sizeof tally - (size_t)n, ", %zu failed", rs.stands[STAND_FAILED]);
	if (rs.stands[STAND_RUNNING] && n > 0 && (size_t)n < sizeof tally)
		snprintf(tally + n, sizeof tally - (size_t)n, ", %zu running", rs.stands[STAND_RUNNING]);
	if (!rs.driven)
		snprintf(out, outsz, "rollout %s (%s %s): LEFT in wave %zu of %zu, no gantry drives it; "
		    "%s: `gantry rollout resume|abort %s`", l->id, l->action, l->tag, rs.wave,
		    l->waves.len, tally, env->conf->name);
	else if (rs.driver.state == DRIVE_PAUSED)
		snprintf(out, outsz, "rollout %s (%s %s): PAUSED in wave %zu of %zu by %s's gantry: %s; %s",
		    l->id, l->action, l->tag, rs.wave, l->waves.len, rs.driver.by[0] ? rs.driver.by :
		    "someone", rs.driver.why, tally);
	else
		snprintf(out, outsz, "rollout %s (%s %s): %s wave %zu of %zu, driven by %s's gantry; %s",
		    l->id, l->action, l->tag, rs.driver.state == DRIVE_ABORTING ? "ABORTING in" : "in",
		    rs.wave, l->waves.len, rs.driver.by[0] ? rs.driver.by : "someone", tally);
	return true;
}

bool model_unfinished(const struct env_status *env, char *out, size_t outsz)
{
	const struct host_lock *lease = NULL;
	char back[72], left[300] = "";
	size_t reached = 0, n = 0;
	struct rollout_status rs;

	model_rollout(env, &rs, NULL);
	if (rs.active)
		return false;           /* a rollout in waves: its own words (model_rollout_words) */

	for (size_t j = 0; j < env->hosts_len; j++) {
		const struct host_lock *l = &env->hosts[j].lock;

		if (l->held && l->runner_alive)
			return false;           /* it runs: not left */
		if (!lease && l->held && l->leased && l->lease.id[0])
			lease = l;
	}
	if (!lease)
		return false;
	lease_back_id(lease->lease.id, back, sizeof back);
	for (size_t j = 0; j < env->hosts_len; j++) {
		const char *cur = env->hosts[j].current_run;

		if (strcmp(cur, lease->lease.id) == 0 || strcmp(cur, back) == 0) {
			reached++;
		} else if (strlen(left) + 80 < sizeof left) {
			snprintf(left + strlen(left), sizeof left - strlen(left), "%s%s", n++ ? ", " : "",
			    env->hosts[j].name);
		}
	}
	snprintf(out, outsz, "partial: run %s (%s %s by %s) reached %zu of %zu hosts%s%s; no host "
	    "runs it now: `gantry attach %s` carries it on", lease->lease.id, lease->lease.action,
	    lease->lease.tag, lease->lease.operator[0] ? lease->lease.operator : "someone", reached,
	    env->hosts_len, left[0] ? ", not reached: " : "", left, env->conf->name);
	return true;
}

enum drift model_drift(const struct env_status *env, char *deployed, size_t deployedsz,
    char *why, size_t whysz)
{
	const char *first = NULL, *first_host = NULL, *run_first = NULL, *run_host = NULL;
	const char *cfg = target_words_of(env->conf)->config;      /* "deploy.env" */
	enum drift drift = DRIFT_NONE;

	deployed[0] = '\0';
	why[0] = '\0';
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];
		const char *addr = h->name;

		if (!h->app_tag[0])
			continue;
		if (!first) {
			first = h->app_tag;
			first_host = addr;
		} else if (strcmp(first, h->app_tag) != 0) {
			snprintf(why, whysz, "hosts run different tags: %s's %s names %s, %s's "
			    "names %s", first_host, cfg, first, addr, h->app_tag);
			return DRIFT_HOSTS;
		}
	}
	if (first)
		snprintf(deployed, deployedsz, "%s", first);
	/* each host's own app, where it has one: hosts running different tags */
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];
		const char *addr = h->name;

		if (!h->app_version[0])
			continue;
		if (!run_first) {
			run_first = h->app_version;
			run_host = addr;
		} else if (strcmp(run_first, h->app_version) != 0) {
			snprintf(why, whysz, "hosts run different tags: %s runs %s, %s runs %s", run_host,
			    run_first, addr, h->app_version);
			return DRIFT_HOSTS;
		}
	}
	if (!first)
		return DRIFT_NONE;
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];

		if (h->app_version[0] && h->app_tag[0] && strcmp(h->app_version, h->app_tag) != 0) {
			snprintf(why, whysz, "%s: %s names %s but its app reports %s",
			    h->name, cfg, h->app_tag, h->app_version);
			return DRIFT_RUNNING;
		}
	}
	if (env->tag[0] && strcmp(env->tag, first) != 0) {
		snprintf(why, whysz, "%s names %s but the app reports %s", cfg, first, env->tag);
		return DRIFT_RUNNING;
	}
	/* each service that runs the app's image, as the container runtime lists them */
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];
		const struct running_service *s;

		if (h->app_tag[0] && h->app_repo[0] &&
		    (s = running_drift(&h->running, h->app_repo, h->app_tag, h->app_digest))) {
			snprintf(why, whysz, "%s: service %s runs %s, %s names %s",
			    h->name, s->name, s->tag, cfg, h->app_tag);
			return DRIFT_SERVICES;
		}
	}
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];

		if (h->migrator_tag[0] && h->app_tag[0] && strcmp(h->migrator_tag, h->app_tag) != 0) {
			snprintf(why, whysz, "%s: MIGRATOR_IMAGE is %s, APP_IMAGE is %s",
			    h->name, h->migrator_tag, h->app_tag);
			drift = DRIFT_MIGRATOR;
			break;
		}
	}
	return drift;
}

bool model_hosts_read(const struct model *model)
{
	for (size_t i = 0; i < model->envs_len; i++) {
		for (size_t j = 0; j < model->envs[i].hosts_len; j++) {
			const struct host_status *h = &model->envs[i].hosts[j];

			if (!h->deploy_at && !h->deploy_error[0])
				return false;
			if (model->envs[i].conf->hosts[j].app_url && !h->app_probed)
				return false;
			if (model->envs[i].conf->deploy.running && model->envs[i].conf->deploy.running[0] &&
			    !h->running_read)
				return false;
		}
	}
	return true;
}

const char *model_drift_name(enum drift drift)
{
	static const char *const names[] = {
		[DRIFT_NONE] = "none", [DRIFT_MIGRATOR] = "migrator", [DRIFT_SERVICES] = "services",
		[DRIFT_RUNNING] = "running", [DRIFT_HOSTS] = "hosts",
	};

	return names[drift];
}

/* one tag and how many units run it */
struct tag_count {
	const char *tag;
	size_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct tag_count *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->tag, y->tag);
}

size_t model_skew(const struct env_status *env, char *out, size_t outsz)
{
	struct tag_count *tags = xcalloc(env->hosts_len + 1, sizeof *tags);
	size_t len = 0, unread = 0, errors = 0, used = 0;

	for (size_t j = 0; j < env->hosts_len; j++) {
		const struct host_status *h = &env->hosts[j];
		const char *tag = h->app_version[0] ? h->app_version : h->app_tag;
		size_t k;

		if (!tag[0]) {
			errors += h->deploy_error[0] != '\0';
			unread += h->deploy_error[0] == '\0';
			continue;
		}
		for (k = 0; k < len && strcmp(tags[k].tag, tag) != 0; k++)
			;
		if (k == len)
			tags[len++].tag = tag;
		tags[k].n++;
	}
	qsort(tags, len, sizeof *tags, by_count);
	out[0] = '\0';
	for (size_t k = 0; k < len && used + 1 < outsz; k++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s on %zu", k ? ", " : "",
		    tags[k].tag, tags[k].n);
	if (unread && used + 1 < outsz)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu not read yet", len ? "; " : "",
		    unread);
	if (errors && used + 1 < outsz)
		snprintf(out + used, outsz - used, "%s%zu with errors", unread ? ", " : len ? "; " : "",
		    errors);
	free(tags);
	return len;
}
