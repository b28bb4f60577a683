/* How an environment's state reads on screen: words, roles and ages, shared by the views. */
#include "config.h"

#include "envfmt.h"
#include "duration.h"

#include <stdio.h>
#include <string.h>

enum theme_role envfmt_probe_role(const struct probe_result *result, enum probe_kind kind)
{
	switch (result->state) {
	case PROBE_PENDING:
		return THEME_ROLE_unknown;
	case PROBE_OK:
		return THEME_ROLE_healthy;
	case PROBE_FAIL:
		return kind == PROBE_READY ? THEME_ROLE_degraded : THEME_ROLE_unhealthy;
	default:
		return THEME_ROLE_unhealthy;
	}
}

enum theme_role envfmt_health_role(enum env_health health)
{
	switch (health) {
	case HEALTH_READY:
		return THEME_ROLE_healthy;
	case HEALTH_NOT_READY:
		return THEME_ROLE_degraded;
	case HEALTH_DOWN:
		return THEME_ROLE_unhealthy;
	default:
		return THEME_ROLE_unknown;
	}
}

/* " for 5m" since a host's time `since`, by its clock `now`; "" when the file gave none */
void envfmt_host_since(int64_t now, int64_t since, char *out, size_t outsz)
{
	char age[16];

	if (since <= 0 || now < since) {
		out[0] = '\0';
		return;
	}
	duration_format((now - since) * 1000, age, sizeof age);
	snprintf(out, outsz, " for %s", age);
}

void envfmt_run_step(const struct host_lock *lock, int64_t host_now, char *out, size_t outsz)
{
	const struct run_progress *pr = &lock->progress;
	const char *phase = pr->rollback ? "ROLLING BACK " : "";
	char age[32];

	if (!pr->known) {
		out[0] = '\0';
	} else if (pr->step == 0) {
		snprintf(out, outsz, "%sstarting", phase);
	} else if (pr->step_ended) {
		snprintf(out, outsz, "%sstep %d/%d %s done", phase, pr->step, pr->steps, pr->step_name);
	} else {
		envfmt_host_since(host_now, pr->step_ms / 1000, age, sizeof age);
		snprintf(out, outsz, "%sstep %d/%d %s%s", phase, pr->step, pr->steps, pr->step_name, age);
	}
}

/* The first lock of the hosts in words (false when none holds one); runs_only: a live
 * run only. */
static bool lock_words(const struct env_status *env, bool runs_only, char *buf, size_t bufsz)
{
	for (size_t j = 0; j < env->hosts_len; j++) {
		const struct host_status *h = &env->hosts[j];
		bool running = h->lock.held && h->lock.runner_alive && !h->lock_stale && h->lock.run[0];
		char age[32], step[160] = "";

		if (!h->lock.held || (runs_only && !running))
			continue;
		envfmt_host_since(h->host_now, h->lock.since, age, sizeof age);
		if (running)
			envfmt_run_step(&h->lock, h->host_now, step, sizeof step);
		/* a live runner is a run in progress: what it does, where it is, who started it,
		 * how long */
		snprintf(buf, bufsz, "%s by %s%s%s%s%s%s", h->lock_stale ? "STALE LOCK held" :
		    running ? "RUNNING" : "LOCKED", h->lock.owner[0] ? h->lock.owner : "someone",
		    age, h->lock.message[0] ? ": " : "", h->lock.message, step[0] ? ", " : "", step);
		return true;
	}
	return false;
}

bool envfmt_rollout_brief(const struct env_status *env, const char *warn, char *out,
    size_t outsz, bool *stopped)
{
	struct rollout_status rs;

	model_rollout(env, &rs, NULL);
	if (!rs.active)
		return false;
	*stopped = !rs.driven || rs.driver.state != DRIVE_RUNNING;
	snprintf(out, outsz, "%s%swave %zu/%zu %zu/%zu", *stopped ? warn : "", *stopped ? " " : "",
	    rs.wave, rs.lease.waves.len, rs.stands[STAND_TOOK], env->hosts_len);
	return true;
}

const char *envfmt_problem(const struct env_status *env, char *buf, size_t bufsz)
{
	char tag[PAYLOAD_TAG_MAX];

	for (int k = 0; k < PROBE_KINDS; k++)
		if (env->probes[k].state != PROBE_OK && env->probes[k].state != PROBE_PENDING)
			return env->probes[k].detail;
	/* a run in progress first: it explains the drift it causes while it runs; then one
	   left unfinished, the hosts it did not reach */
	if (model_rollout_words(env, buf, bufsz) || lock_words(env, true, buf, bufsz) ||
	    model_unfinished(env, buf, bufsz))
		return buf;
	/* the hosts and the app disagree: in the same words as the dashboard and status */
	if (model_drift(env, tag, sizeof tag, buf, bufsz) != DRIFT_NONE)
		return buf;
	/* a host that cannot be read, then a freeze, then a lock: what an ops screen must see */
	for (size_t j = 0; j < env->hosts_len; j++)
		if (env->hosts[j].deploy_error[0]) {
			snprintf(buf, bufsz, "%s: %s", env->hosts[j].name, env->hosts[j].deploy_error);
			return buf;
		}
	for (size_t j = 0; j < env->hosts_len; j++)
		if (env->hosts[j].frozen) {
			snprintf(buf, bufsz, "FROZEN by %s%s%s", env->hosts[j].freeze_by[0] ?
			    env->hosts[j].freeze_by : "someone", env->hosts[j].freeze_reason[0] ? ": " : "",
			    env->hosts[j].freeze_reason);
			return buf;
		}
	return lock_words(env, false, buf, bufsz) ? buf : "";
}

void envfmt_since(const struct env_status *env, int64_t now, char *out, size_t outsz)
{
	char age[16];

	if (env->rounds == 0) {
		snprintf(out, outsz, "-");
		return;
	}
	/* held since before gantry's first answer: at least this long ("2s+") */
	duration_format(now - env->health_since, age, sizeof age);
	if (!env->health_since_seen && strcmp(age, "now") == 0)
		snprintf(age, sizeof age, "0s");
	snprintf(out, outsz, "%s%s", age, env->health_since_seen ? "" : "+");
}

void envfmt_checked(const struct model *model, const struct env_status *env, int64_t now,
    char *out, size_t outsz)
{
	char age[16];

	if (env->rounds == 0) {
		snprintf(out, outsz, "never");
		return;
	}
	duration_format(model_age(model, env, now), age, sizeof age);
	snprintf(out, outsz, "%s%s", age, age[0] == 'n' ? "" : " ago");
}

void envfmt_unit_name(const char *name, int width, const char *cut, char *out, size_t outsz)
{
	size_t n = strlen(name), head, tail;
	bool ascii = true;

	for (const char *p = name; *p && ascii; p++)
		ascii = (unsigned char)*p < 0x80;
	if (width < 8 || n <= (size_t)width || !ascii) {
		snprintf(out, outsz, "%s", name);   /* the drawing cuts it, as any text */
		return;
	}
	head = ((size_t)width - 1) / 3;
	tail = (size_t)width - 1 - head;
	snprintf(out, outsz, "%.*s%s%s", (int)head, name, cut, name + n - tail);
}
