/* The run over an environment's units: the plan of each, the first unit alone and then
 * up to deploy.parallel at once, what each unit's run tells, and when one fails, the way
 * back of the units that had switched, so the environment ends on one tag. */
#include "config.h"

#include "deploystate.h"
#include "deployenv.h"
#include "lease.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the plan of each unit ---- */

static void step_from_run(struct deploy_step *s, const struct release_step *r, bool rollback)
{
	memset(s, 0, sizeof *s);
	deploy_copy(s->name, sizeof s->name, r->name);
	sanitize_text(r->command, strlen(r->command), s->command, sizeof s->command, 0);
	if (r->brief)
		sanitize_text(r->brief, strlen(r->brief), s->brief, sizeof s->brief, 0);
	else
		deploy_copy(s->brief, sizeof s->brief, s->command);
	s->rollback = rollback;
	s->switch_point = r->switch_point;
}

/* The host a screen shows: the first one running, else the first that failed (its
 * own run, not a rollback of the others), else the last that ran. */
void rollout_focus(struct deploy *d)
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
	deploy_copy(d->info.host, sizeof d->info.host, h->address);
	d->info.steps = h->steps;
	d->info.steps_len = h->steps_len;
	d->info.switched = h->switched;
}

/* The plan for unit j, into d->plan and that unit's steps: the target's answer to the
 * release request (src/release.h). */
void rollout_plan(struct deploy *d, size_t j, const char *id)
{
	const struct conf_registry *reg = d->ctx.conf->registry;
	struct deploy_host *h = &d->info.hosts[j];
	bool back = h->went_back;
	char message[200];
	struct adopt_spec a = {
		.id = d->adopt_id, .env = d->target->name, .tag = d->adopt.tag, .app_digest = d->adopt.app,
		.migrator_digest = d->adopt.migrator, .operator = d->ctx.operator,
		.at = d->run_started, .message = message,
	};
	struct release_request req = {
		.id = id, .action = d->info.action,
		.source_env = d->info.source[0] ? d->info.source : NULL, .operator = d->ctx.operator,
		.message = d->info.emergency && !back ? d->info.reason : NULL,
		.started = d->run_started, .first_unit = j == 0,
		.to = { d->info.tag, d->info.app_digest, d->info.migrator_digest },
		.back = { d->back.tag[0] ? d->back.tag : NULL, d->back.app, d->back.migrator },
		.offline = d->registry_down,
		.ready_timeout_ms = fleet_waves(d) ? d->target->rollout.unhealthy_timeout_ms : 0,
		.adopt = d->info.adopting[0] && !back ? &a : NULL,
		.lease = d->leased ? d->lease.id : NULL,
	};
	struct release_plan *p;
	size_t n;
	char *ref;

	snprintf(message, sizeof message, "adopted before the first run: app ready, reporting the "
	    "tag %s names", d->to->words->config);
	if (back) {
		/* the units switched before the failure go back: a rollback run of its own */
		req.action = "rollback";
		req.source_env = NULL;
		req.first_unit = false;         /* one-time steps (migrations) never run back */
		req.to = (struct release_images){ d->back.tag, d->back.app, d->back.migrator };
		req.back = (struct release_images){ NULL, NULL, NULL };
	}
	for (size_t k = 0; k < d->info.hosts_len; k++)
		req.units += !d->info.fleet_rollback || d->info.hosts[k].went_back;
	d->to->ops->plan_free(d->plan);
	d->plan = p = d->to->ops->plan(d->to, j, &req);
	n = p->steps_len + p->rollback_len;
	free(h->steps);
	h->steps = xcalloc(n + 1, sizeof *h->steps);
	h->steps_len = 0;
	for (size_t i = 0; i < p->steps_len; i++)
		step_from_run(&h->steps[h->steps_len++], &p->steps[i], false);
	h->rollback_base = h->steps_len;
	for (size_t i = 0; i < p->rollback_len; i++)
		step_from_run(&h->steps[h->steps_len++], &p->rollback[i], true);
	ref = release_image_ref(reg, reg->app, d->info.tag, d->info.app_digest);
	deploy_copy(d->info.app_image, sizeof d->info.app_image, ref);
	free(ref);
	ref = release_image_ref(reg, reg->migrator, d->info.tag, d->info.migrator_digest);
	deploy_copy(d->info.migrator_image, sizeof d->info.migrator_image, ref);
	free(ref);
	rollout_focus(d);
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
		deploy_enter(d, STAGE_RUN);
	rollout_focus(d);
	deploy_say(d, "running on %s", d->info.running > 1 ? "several hosts" : d->info.host);
	deploy_emit(d, BUS_STARTED, job->index, NULL);
	deploy_notify(d);
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
		/* nothing ran anywhere: the deploy is refused, as a guard would (after the
		   lease, when held, is let go) */
		d->info.running = 0;
		if (d->leased) {
			deploy_copy(d->lease_refusal, sizeof d->lease_refusal, why);
			envrun_release(d);
		} else {
			deploy_refuse(d, "%s", why);
		}
		return;
	}
	/* other hosts run, or ran: this one counts as failed */
	d->info.hosts[job->index].result = RUN_FAILED;
	deploy_say(d, "%s", why);
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
	rollout_focus(job->d);
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
			deploy_emit(d, BUS_STEP_STARTED, job->index, &be);
			if (s->switch_point) {
				h->switched = true;
				deploy_emit(d, BUS_SWITCHED, job->index, &be);
			}
		} else {
			s->state = ev->status == 0 ? STEP_OK : STEP_FAILED;
			s->exit = ev->status;
			s->ms = ev->took_ms;
			be.status = ev->status;
			deploy_emit(d, BUS_STEP_ENDED, job->index, &be);
		}
		break;
	case RUNEVENT_CANCEL:
		deploy_copy(d->info.cancel, sizeof d->info.cancel, ev->word);
		be.text = ev->word;
		deploy_emit(d, BUS_CANCEL, job->index, &be);
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
	rollout_focus(d);
}

static void on_output(void *arg, char *line, size_t len)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = line };

	/* the line goes to the buffer, which owns it from here; listeners see it first */
	deploy_emit(d, BUS_OUTPUT, job->index, &be);
	logbuf_push(d->info.output, (unsigned)job->index, LOG_OUT, line, len);
	d->info.output_seq++;
}

static void on_heard(void *arg)
{
	struct job *job = arg;

	deploy_notify(job->d);
}

static void on_lost(void *arg, const char *why)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = d->info.status };

	deploy_say(d, "link to %s lost (%s): the run goes on there; re-attaching",
	    d->info.hosts[job->index].address, why);
	deploy_emit(d, BUS_LINK, job->index, &be);
	deploy_notify(d);
}

static void on_follow_failed(void *arg, int status)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = d->info.status };

	deploy_say(d, "cannot follow run %s on %s (exit %d)", d->info.run_id,
	    d->info.hosts[job->index].address, status);
	deploy_emit(d, BUS_LINK, job->index, &be);
	deploy_notify(d);
}

static void on_cancel_failed(void *arg)
{
	struct job *job = arg;
	struct deploy *d = job->d;
	struct bus_event be = { .text = "not delivered" };

	deploy_copy(d->info.cancel, sizeof d->info.cancel, "not delivered");
	d->info.cancel_sent = false;
	deploy_emit(d, BUS_CANCEL, job->index, &be);
	deploy_notify(d);
}

static void on_ended(void *arg)
{
	struct job *job = arg;

	host_ended(job->d, job);
}

const struct unit_run_ops rollout_run_ops = {
	.started = on_started, .not_started = on_not_started, .replay = on_replay,
	.event = on_event, .output = on_output, .heard = on_heard, .ended = on_ended,
	.lost = on_lost, .follow_failed = on_follow_failed, .cancel_failed = on_cancel_failed,
};

void rollout_host_start(struct deploy *d, size_t j)
{
	struct deploy_host *h = &d->info.hosts[j];

	rollout_plan(d, j, d->info.run_id);
	h->state = HOST_STARTING;
	h->result = RUN_RESULT_NONE;
	h->switched = false;
	d->info.running++;
	rollout_focus(d);
	deploy_say(d, "starting on %s", h->address);
	unit_run_free(d->jobs[j].run);
	d->jobs[j].run = d->to->ops->start(d->to, j, d->plan, &rollout_run_ops, &d->jobs[j]);
}

void rollout_schedule(struct deploy *d)
{
	size_t limit = d->info.parallel;
	const struct deploy_host *first = &d->info.hosts[0];

	if (d->stopping || d->watch_only)
		return;
	if (fleet_waves(d)) {
		fleet_schedule(d);
		return;
	}
	/* the first host runs alone (it runs the `once` steps), unless this is the rollback
	   of the hosts that had switched, or an emergency's: every host at once */
	if (!d->info.fleet_rollback && !d->info.emergency && first->state != HOST_ENDED)
		limit = 1;
	for (size_t j = 0; j < d->info.hosts_len && d->info.running < limit; j++)
		if (d->info.hosts[j].state == HOST_WAITING)
			rollout_host_start(d, j);
}

/* A new run over the hosts, from the first. */
void rollout_start(struct deploy *d)
{
	char id[72];

	/* the way back has an id any gantry carrying the run on finds */
	if (d->info.fleet_rollback)
		lease_back_id(d->info.run_id, id, sizeof id);
	else
		release_new_id(id, sizeof id, deploy_now_s());
	deploy_copy(d->info.run_id, sizeof d->info.run_id, id);
	if (!d->info.fleet_rollback) {
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->info.started_ms = loop_clock_ms();
	}
	d->run_started = deploy_now_s();
	d->stopping = false;
	d->info.result = RUN_RESULT_NONE;
	d->info.cancel[0] = '\0';
	d->info.cancel_sent = false;
	deploy_enter(d, STAGE_START);
	if (d->info.emergency && !d->info.fleet_rollback)
		deploy_emit(d, BUS_EMERGENCY, 0, &(struct bus_event){ .text = d->info.reason });
	if (!d->info.fleet_rollback && envrun_wanted(d))
		envrun_take(d);         /* then schedules */
	else
		rollout_schedule(d);
	deploy_notify(d);
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

	if (d->attach_only || d->watch_only || d->info.fleet_rollback ||
	    (!d->target->deploy.auto_rollback && !d->info.aborted) || !d->back.tag[0])
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
	deploy_copy(d->info.rollback_tag, sizeof d->info.rollback_tag, d->back.tag);
	d->info.fleet_rollback = true;
	rollout_start(d);
	return true;
}

/* The deploy ended: the bus and the screen hear how. */
void rollout_finish(struct deploy *d)
{
	fleetdrive_stop(d);
	if (d->lease_refusal[0]) {
		/* the lease was let go: nothing ran */
		deploy_refuse(d, "%s", d->lease_refusal);
		return;
	}
	deploy_enter(d, STAGE_DONE);
	d->info.ended_ms = loop_clock_ms();
	deploy_emit(d, BUS_ENDED, d->info.host_index, &(struct bus_event){ .result = d->info.result,
	    .text = d->info.status });
	deploy_notify(d);
}

static void run_finish(struct deploy *d);
static void retagged(void *arg, const char *error);

/* Why the hosts, read again, do not all run the run's tag ("" they do). */
static void not_all_there(struct deploy *d, const struct host_state *st, char *why, size_t whysz)
{
	const struct history_run *run = history_find(&st->history, d->info.run_id);
	char tag[136] = "";

	why[0] = '\0';
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, tag, sizeof tag);
	/* the merged state's configuration is the first unit's; the first to differ is named */
	if (strcmp(tag, d->info.tag) != 0)
		snprintf(why, whysz, "%s's %s names %s, not %s", d->info.hosts[0].address,
		    d->to->words->config, tag[0] ? tag : "nothing", d->info.tag);
	else if (st->deploy_env_differs[0])
		snprintf(why, whysz, "%s's %s names %s, not %s", st->deploy_env_differs,
		    d->to->words->config, st->differs_image[0] ? st->differs_image : "nothing",
		    d->info.tag);
	else if (!run || run->hosts < d->info.hosts_len || run->result != RUN_SUCCEEDED)
		snprintf(why, whysz, "run %s is not recorded succeeded on all %zu hosts",
		    d->info.run_id, d->info.hosts_len);
	else if (st->lock.held && strcmp(st->lock.run, d->leased ? d->lease.id : d->info.run_id) != 0)
		snprintf(why, whysz, "%s holds a lock of another run (%s) now", st->lock.host,
		    st->lock.owner);
}

/* Before a tag moves, every host is read again: each must run the run's tag, with its
 * run recorded succeeded, and no other run may hold a lock. */
static void reread(void *arg, struct hostread *r)
{
	struct deploy *d = arg;
	struct host_state st;
	char why[600], msg[700];

	d->target_rd = NULL;
	if (!hostread_result(r, &st, why, sizeof why)) {
		hostread_free(r);
		snprintf(msg, sizeof msg, "the hosts could not all be read again (%s)", why);
		retagged(d, msg);
		return;
	}
	hostread_free(r);
	not_all_there(d, &st, why, sizeof why);
	hoststate_free(&st);
	if (why[0]) {
		snprintf(msg, sizeof msg, "read again, the hosts do not all run it: %s", why);
		retagged(d, msg);
		return;
	}
	deploy_say(d, "ready on every host, read again; moving %s to %s in the registry",
	    d->info.retag, d->info.tag);
	deploy_notify(d);
	d->retag = retag_start(d->ctx.registry, d->ctx.conf->registry, d->info.retag,
	    d->info.app_digest, d->info.migrator_digest, retagged, d);
}

/* deploy.retag's tags moved, or not: the deploy ends either way. */
static void retagged(void *arg, const char *error)
{
	struct deploy *d = arg;

	retag_free(d->retag);
	d->retag = NULL;
	if (error) {
		deploy_copy(d->info.retag_error, sizeof d->info.retag_error, error);
		deploy_say(d, "%s on every host, but %s still names what it named before: %s",
		    run_result_name(d->info.result), d->info.retag, error);
	} else {
		d->info.retagged = true;
		deploy_say(d, "%s; %s now name%s %s in the registry", run_result_name(d->info.result),
		    d->info.retag, strchr(d->info.retag, ' ') ? "" : "s", d->info.tag);
	}
	deploy_emit(d, BUS_RETAGGED, d->info.host_index, &(struct bus_event){ .text = d->info.status });
	run_finish(d);
}

/* The run is over on every unit: the lease (when held) is let go, then the end. */
static void run_finish(struct deploy *d)
{
	if (d->leased)
		envrun_release(d);
	else
		rollout_finish(d);
}

static void run_done(struct deploy *d)
{
	const char *failed_at = d->failed_host < d->info.hosts_len ?
	    d->info.hosts[d->failed_host].address : "";
	const char *fr = run_result_name(d->failed_result);
	bool sequential = d->info.parallel <= 1;
	char list[300];
	size_t n;

	rollout_focus(d);
	if (d->info.fleet_rollback) {
		size_t back_failed = d->info.hosts_len;

		/* the failure, and whether every host is back */
		for (size_t j = 0; j < d->info.hosts_len && back_failed == d->info.hosts_len; j++)
			if (d->info.hosts[j].went_back && d->info.hosts[j].result != RUN_SUCCEEDED)
				back_failed = j;
		list_hosts(d, took_it, list, sizeof list, &n);
		d->info.result = back_failed == d->info.hosts_len ? RUN_ROLLED_BACK : RUN_ROLLBACK_FAILED;
		if (d->info.aborted && d->info.result == RUN_ROLLED_BACK)
			deploy_say(d, "aborted in wave %zu of %zu: the %zu host%s that had taken %s went back "
			    "to %s, newest wave first: every host runs %s", d->info.wave, d->info.waves, n,
			    n == 1 ? "" : "s", d->info.tag, d->back.tag, d->back.tag);
		else if (d->info.result == RUN_ROLLED_BACK)
			deploy_say(d, "%s failed on %s (%s); the %zu host%s %s went back to %s: every host "
			    "runs %s", d->info.tag, failed_at, fr, n, n == 1 ? "" : "s",
			    sequential ? "before it" : "that had taken it", d->back.tag, d->back.tag);
		else
			deploy_say(d, "%s failed on %s (%s), and rolling %s back to %s failed: the hosts "
			    "differ; `gantry history %s` shows where each one stands", d->info.tag, failed_at,
			    fr, d->info.hosts[back_failed].address, d->back.tag, d->target->name);
	} else if (d->failed_host < d->info.hosts_len) {
		const struct deploy_host *fh = &d->info.hosts[d->failed_host];
		size_t left;

		d->info.result = d->failed_result;
		list_hosts(d, took_it, list, sizeof list, &n);
		if (n && !d->attach_only) {
			deploy_say(d, "%s on %s, so the hosts differ: %s run%s %s, while %s %s%s%s. `gantry "
			    "rollback %s` puts every host back", fr, failed_at, list, n == 1 ? "s" : "",
			    d->info.tag, failed_at, fh->switched ? "was switched when it failed" :
			    "still runs what it ran before (", fh->switched ? "" : d->to->words->config,
			    fh->switched ? "" : " put back)", d->target->name);
			d->info.hosts_differ = true;
		} else if (list_hosts(d, untouched, list, sizeof list, &left), left && !d->attach_only) {
			deploy_say(d, "%s on %s; the other %zu host(s) were not touched", fr, failed_at, left);
		} else {
			deploy_say(d, "%s", fr);
		}
	} else if (fleet_waves(d) && !d->attach_only &&
	    fleet_left_behind(d, d->info.left_behind, sizeof d->info.left_behind) > 0) {
		n = fleet_left_behind(d, d->info.left_behind, sizeof d->info.left_behind);
		d->info.result = d->info.aborted ? RUN_CANCELLED : RUN_PARTIAL;
		deploy_say(d, "%s: %zu of %zu hosts run %s; not: %s%s", d->info.aborted ? "aborted" :
		    "partial", d->info.hosts_len - n, d->info.hosts_len, d->info.tag, d->info.left_behind,
		    d->info.aborted ? "" : " (each failed and went back on its own, or was not reached)");
	} else if (d->attach_only ? d->info.left_behind[0] != '\0' : (list_hosts(d, untouched,
	    d->info.left_behind, sizeof d->info.left_behind, &n), n > 0)) {
		/* no host failed, but not every host was reached (followed read-only, or so
		   recorded: a replay follows one host) */
		if (d->attach_only)
			n = d->info.hosts_len - d->replay_reached;
		d->info.result = RUN_PARTIAL;
		deploy_say(d, "partial: %zu of %zu hosts run %s; not reached: %s. %s", d->info.hosts_len - n,
		    d->info.hosts_len, d->info.tag, d->info.left_behind, d->watch_only ?
		    "Read-only: a gantry that may write carries it on (gantry attach)" :
		    "The hosts differ");
	} else {
		d->info.result = RUN_SUCCEEDED;
		deploy_say(d, "%s", run_result_name(d->info.result));
		if (d->info.retag[0] && !d->attach_only && !d->watch_only) {
			deploy_enter(d, STAGE_RETAG);
			deploy_say(d, "ready on every host; reading them again before moving %s to %s",
			    d->info.retag, d->info.tag);
			deploy_notify(d);
			hostread_free(d->target_rd);
			d->target_rd = hostread_start(d->to, reread, d);
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
	deploy_emit(d, ok ? BUS_READY : h->result == RUN_ROLLED_BACK ? BUS_ROLLED_BACK : BUS_FAILED,
	    job->index, &be);
	if (!ok && fleet_waves(d) && !d->info.fleet_rollback) {
		/* in waves: the wave's budget says whether the rollout goes on */
		fleet_failed(d, job->index);
	} else if (!ok) {
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
	rollout_continue(d);
}

void rollout_continue(struct deploy *d)
{
	rollout_schedule(d);
	if (d->info.running > 0) {
		rollout_focus(d);
		deploy_say(d, "running on %s", d->info.running > 1 ? "several hosts" : d->info.host);
		deploy_notify(d);
		return;
	}
	if (fleet_wave_over(d))
		return;
	if (d->stopping && fleet_rollback_start(d))
		return;
	run_done(d);
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
			deploy_emit(d, BUS_CANCEL, j, &(struct bus_event){ .text = "asked" });
		}
	}
	if (!asked)
		return false;
	d->stopping = true;             /* and no other host starts */
	d->info.cancel_sent = true;
	deploy_copy(d->info.cancel, sizeof d->info.cancel, "asked");
	deploy_notify(d);
	return true;
}
