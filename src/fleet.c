/* A rollout in waves (gantry.yml's rollout:): the units go wave by wave, a few at once;
 * after each wave a gate: no more failures than the wave's budget (a unit that fails is
 * rolled back on its own), its units still ready after the soak, and, where the wave says
 * so, an operator's go. A closed gate pauses the rollout under its lease; the operator
 * resumes it or aborts it, and an abort takes back every unit that moved, newest wave
 * first. */
#include "config.h"

#include "admin.h"
#include "deploystate.h"
#include "duration.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATE_READ_MAX 4096

bool fleet_waves(const struct deploy *d)
{
	return d->waves.len > 0;
}

/* The plan of the waves, as the plan on screen says it. */
static void waves_words(struct deploy *d)
{
	const struct wave_plan *r = &d->waves;
	char *out = d->info.waves_plan, soak[16];
	size_t sz = sizeof d->info.waves_plan, used = 0;

	for (size_t w = 0; w < d->waves.len && used + 1 < sz; w++)
		used += (size_t)snprintf(out + used, sz - used, "%s%zu%s", w ? ", then " : "",
		    d->waves.end[w] - waves_start(&d->waves, w), w ? "" : d->waves.end[0] == 1 ?
		    " host" : " hosts");
	if (used + 1 < sz)
		used += (size_t)snprintf(out + used, sz - used, "; %zu at a time", d->info.parallel);
	for (size_t w = 0; w < d->waves.len && used + 1 < sz; w++)
		if (d->waves.pause[w])
			used += (size_t)snprintf(out + used, sz - used, "; a go after wave %zu", w + 1);
	if (r->soak_ms > 0 && used + 1 < sz) {
		duration_format(r->soak_ms, soak, sizeof soak);
		used += (size_t)snprintf(out + used, sz - used, "; each wave ready for %s", soak);
	}
	if (used + 1 < sz && r->max_failures)
		snprintf(out + used, sz - used, "; up to %lld failure%s a wave",
		    (long long)r->max_failures, r->max_failures == 1 ? "" : "s");
	else if (used + 1 < sz)
		snprintf(out + used, sz - used, "; no failure in a wave");
}

/* The rollout goes by `waves`: each unit's wave, and the plan in words. */
static void use_waves(struct deploy *d, const struct wave_plan *waves)
{
	d->waves = *waves;
	d->info.waves = d->waves.len;
	d->info.wave = d->waves.len ? 1 : 0;
	for (size_t j = 0; j < d->info.hosts_len; j++)
		d->info.hosts[j].wave = d->waves.len ? waves_of(&d->waves, j) + 1 : 0;
	d->info.waves_plan[0] = '\0';
	if (d->waves.len)
		waves_words(d);
}

void fleet_init(struct deploy *d)
{
	struct wave_plan w;

	waves_plan(&d->target->rollout, d->info.hosts_len, &w);
	if (w.len && d->target->rollout.parallel > 0)
		d->info.parallel = (size_t)d->target->rollout.parallel;
	use_waves(d, &w);
}

void fleet_carry_on(struct deploy *d, const struct wave_plan *waves)
{
	size_t reached = 0;

	use_waves(d, waves);
	if (!d->waves.len || d->info.fleet_rollback)
		return;
	/* the wave is the last one a unit of the run was reached in */
	for (size_t j = 0; j < d->info.hosts_len; j++)
		if (d->info.hosts[j].state == HOST_RUNNING || d->info.hosts[j].state == HOST_ENDED)
			reached = waves_of(&d->waves, j) + 1;
	d->info.wave = reached ? reached : 1;
	d->left = true;
}

/* The wave running now (0-based). */
static size_t wave_now(const struct deploy *d)
{
	return d->info.wave ? d->info.wave - 1 : 0;
}

void fleet_schedule(struct deploy *d)
{
	size_t limit = d->info.parallel, end, first;

	if (d->info.paused || d->info.soaking || !fleetdrive_may_start(d))
		return;
	if (d->info.fleet_rollback) {
		/* the way back: newest wave first */
		for (size_t j = d->info.hosts_len; j-- > 0 && d->info.running < limit;)
			if (d->info.hosts[j].state == HOST_WAITING)
				rollout_host_start(d, j);
		return;
	}
	if (d->pausing || d->stopping || d->left || d->asked_why[0])
		return;
	end = d->waves.end[wave_now(d)];
	first = waves_start(&d->waves, wave_now(d));
	/* the first unit runs alone: it runs the one-time steps */
	if (d->info.hosts[0].state != HOST_ENDED)
		limit = 1;
	for (size_t j = first; j < end && d->info.running < limit; j++)
		if (d->info.hosts[j].state == HOST_WAITING)
			rollout_host_start(d, j);
}

/* The units of wave w that ran and did not take the tag. */
static size_t wave_failures(const struct deploy *d, size_t w)
{
	size_t n = 0;

	for (size_t j = waves_start(&d->waves, w); j < d->waves.end[w]; j++)
		n += d->info.hosts[j].state == HOST_ENDED && d->info.hosts[j].result != RUN_SUCCEEDED;
	return n;
}

void fleet_failed(struct deploy *d, size_t j)
{
	size_t w = waves_of(&d->waves, j);

	if (wave_failures(d, w) > d->failures_accepted + (size_t)d->waves.max_failures)
		d->pausing = true;
}

/* Waits for an operator; the lease stays held. */
static void pause_for(struct deploy *d, enum fleet_pause kind, const char *why)
{
	d->pausing = false;
	d->pause_kind = kind;
	d->info.paused = true;
	deploy_copy(d->info.paused_why, sizeof d->info.paused_why, why);
	deploy_enter(d, STAGE_PAUSED);
	deploy_say(d, "paused: %s", why);
	deploy_emit(d, BUS_PAUSED, d->info.host_index, &(struct bus_event){ .text = why });
	fleetdrive_note(d);
	deploy_notify(d);
}

/* Whether a unit of wave w waits to start. */
static bool wave_waiting(const struct deploy *d, size_t w)
{
	for (size_t j = waves_start(&d->waves, w); j < d->waves.end[w]; j++)
		if (d->info.hosts[j].state == HOST_WAITING)
			return true;
	return false;
}

/* Why a rollout carried on waits: where its console left it. */
static void left_words(const struct deploy *d, size_t w, size_t failed, char *out, size_t outsz)
{
	size_t took = 0, reached = 0;

	for (size_t j = 0; j < d->info.hosts_len; j++) {
		const struct deploy_host *h = &d->info.hosts[j];

		reached += h->state == HOST_ENDED;
		took += h->state == HOST_ENDED && h->result == RUN_SUCCEEDED;
	}
	snprintf(out, outsz, "run %s was left by the console that drove it (%s's) in wave %zu of "
	    "%zu: %zu of %zu hosts run %s, %zu failed, %zu not reached", d->info.run_id,
	    d->info.operator[0] ? d->info.operator : "someone", w + 1, d->waves.len, took,
	    d->info.hosts_len, d->info.tag, failed, d->info.hosts_len - reached);
}

/* The wave's gate is open: the next wave starts, or waits for a go (unless an operator's
 * word just opened it). */
static void next_wave(struct deploy *d, bool go_given)
{
	size_t w = wave_now(d);
	char why[400];

	if (d->asked_why[0] && !go_given) {
		deploy_copy(why, sizeof why, d->asked_why);
		d->asked_why[0] = '\0';
		pause_for(d, PAUSE_ASKED, why);        /* the next wave, on resume */
		return;
	}
	if (d->waves.pause[w] && !go_given) {
		snprintf(why, sizeof why, "wave %zu of %zu is done (%zu host%s run %s): the next starts on "
		    "an operator's go", w + 1, d->waves.len, d->waves.end[w], d->waves.end[w] == 1 ? "" : "s",
		    d->info.tag);
		pause_for(d, PAUSE_GO, why);        /* the next wave, on resume */
		return;
	}
	d->info.wave++;
	d->failures_accepted = 0;
	deploy_enter(d, STAGE_RUN);
	fleetdrive_note(d);
	rollout_continue(d);
}

/* ---- the soak, then each unit of the wave ready ---- */

static void gate_answered(struct deploy *d)
{
	if (--d->pending > 0)
		return;
	if (d->gate_why[0])
		pause_for(d, PAUSE_GATE, d->gate_why);
	else
		next_wave(d, false);
}

/* The first reason the gate stays closed: `who` is not ready. */
static void gate_closed(struct deploy *d, const char *who, const char *what)
{
	if (!d->gate_why[0])
		snprintf(d->gate_why, sizeof d->gate_why, "wave %zu of %zu: after the soak, %s is not "
		    "ready: %s", d->info.wave, d->waves.len, who, what);
}

static void gate_app_done(void *arg, const struct appcheck_result *res)
{
	struct deploy *d = arg;

	/* the check stays d->gate_app's, freed with the next or at the end */
	if (!res->ready)
		gate_closed(d, d->target->name, res->ready_error[0] ? res->ready_error : "no answer");
	gate_answered(d);
}

static void gate_read_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct gate_read *g = arg;
	struct deploy *d = g->d;
	char what[300];

	g->cmd = NULL;
	if (how != UNIT_EXITED || status != 0) {
		snprintf(what, sizeof what, "%s", how != UNIT_EXITED ? (message && *message ? message :
		    "the link dropped") : "its ready check did not answer 2xx");
		gate_closed(d, d->info.hosts[g->index].address, what);
	}
	gate_answered(d);
}

static const struct unit_cmd_ops gate_read_ops = { .done = gate_read_done, .bounded = true };

static void soak_over(struct loop *loop, void *arg)
{
	struct deploy *d = arg;
	size_t w = wave_now(d);

	(void)loop;
	d->soak_timer = 0;
	d->info.soaking = false;
	d->gate_why[0] = '\0';
	d->pending = 1;
	appcheck_free(d->gate_app);
	d->gate_app = appcheck_start(d->ctx.http, d->target, gate_app_done, d);
	free(d->gate_reads);
	d->gate_reads = xcalloc(d->info.hosts_len + 1, sizeof *d->gate_reads);
	for (size_t j = waves_start(&d->waves, w); j < d->waves.end[w]; j++) {
		struct gate_read *g = &d->gate_reads[j];

		if (d->info.hosts[j].result != RUN_SUCCEEDED)
			continue;
		*g = (struct gate_read){ .d = d, .index = j };
		g->cmd = d->to->ops->get(d->to, j, d->target->ready_path, GATE_READ_MAX,
		    &gate_read_ops, g);
		d->pending += g->cmd != NULL;
	}
	deploy_say(d, "wave %zu of %zu soaked: checking that its hosts are still ready", w + 1,
	    d->waves.len);
	deploy_notify(d);
}

void fleet_ask_pause(struct deploy *d, const char *why)
{
	if (d->info.paused || d->info.aborted || d->info.fleet_rollback) {
		deploy_say(d, "%s, but the rollout is %s", why, d->info.paused ? "paused already" :
		    "aborting: every host that moved goes back");
		return;
	}
	deploy_copy(d->asked_why, sizeof d->asked_why, why);
	if (d->info.soaking) {
		/* the soak is cut short: the wave's gate waits for the operator too */
		if (d->soak_timer)
			loop_timer_cancel(d->ctx.loop, d->soak_timer);
		d->soak_timer = 0;
		d->info.soaking = false;
		d->asked_why[0] = '\0';
		pause_for(d, PAUSE_ASKED, why);
		return;
	}
	if (d->stage == STAGE_RUN && d->info.running > 0)
		deploy_say(d, "%s: no other host starts; paused once the %zu running end", why,
		    d->info.running);
	else if (d->stage == STAGE_RUN)
		rollout_continue(d);    /* nothing runs: the pause comes now */
}

bool deploy_pause(struct deploy *d, const char *why)
{
	if (!fleet_waves(d) || d->info.paused || d->info.aborted || d->info.fleet_rollback ||
	    d->watch_only || d->attach_only ||
	    (d->stage != STAGE_RUN && d->stage != STAGE_SOAK && d->stage != STAGE_START))
		return false;
	fleet_ask_pause(d, why);
	deploy_notify(d);
	return true;
}

bool fleet_wave_over(struct deploy *d)
{
	size_t w = wave_now(d), failed;
	const struct wave_plan *r = &d->waves;
	char why[400], list[200] = "";

	if (d->driving && !fleetdrive_may_start(d) && !(d->stopping && !d->info.fleet_rollback)) {
		for (size_t j = 0; j < d->info.hosts_len; j++)
			if (d->info.hosts[j].state == HOST_WAITING)
				return true;    /* the driver's beat starts them once it holds */
	}
	if (!fleet_waves(d) || d->info.fleet_rollback || d->info.aborted || d->info.paused)
		return d->info.paused;
	if (d->stopping)
		return false;           /* cancelled: the rollout is over */
	failed = wave_failures(d, w);
	if (d->asked_why[0] && wave_waiting(d, w)) {
		deploy_copy(why, sizeof why, d->asked_why);
		d->asked_why[0] = '\0';
		pause_for(d, PAUSE_ASKED, why);
		return true;
	}
	if (d->left && (w + 1 < d->waves.len || wave_waiting(d, w))) {
		left_words(d, w, failed, why, sizeof why);
		pause_for(d, PAUSE_LEFT, why);
		return true;
	}
	if (failed > d->failures_accepted + (size_t)r->max_failures) {
		for (size_t j = waves_start(&d->waves, w); j < d->waves.end[w]; j++) {
			const struct deploy_host *h = &d->info.hosts[j];

			if (h->state == HOST_ENDED && h->result != RUN_SUCCEEDED && strlen(list) + 80 < sizeof list)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s (%s)",
				    list[0] ? ", " : "", h->address, run_result_name(h->result));
		}
		snprintf(why, sizeof why, "wave %zu of %zu: %zu host%s failed, more than the %lld it "
		    "may: %s", w + 1, d->waves.len, failed, failed == 1 ? "" : "s",
		    (long long)r->max_failures, list);
		pause_for(d, PAUSE_FAILURES, why);
		return true;
	}
	for (size_t j = waves_start(&d->waves, w); j < d->waves.end[w]; j++)
		if (d->info.hosts[j].state == HOST_WAITING)
			return false;   /* cancelled or stopped: the rollout is over */
	if (w + 1 >= d->waves.len)
		return false;           /* the last wave: the rollout is over */
	if (r->soak_ms > 0) {
		d->info.soaking = true;
		deploy_enter(d, STAGE_SOAK);
		deploy_say(d, "wave %zu of %zu done: its hosts must stay ready for %llds", w + 1,
		    d->waves.len, (long long)(r->soak_ms / 1000));
		d->soak_timer = loop_timer_add(d->ctx.loop, r->soak_ms, soak_over, d);
		deploy_notify(d);
		return true;
	}
	next_wave(d, false);
	return true;
}

bool deploy_resume(struct deploy *d)
{
	if (!d->info.paused || d->stage != STAGE_PAUSED)
		return false;
	d->info.paused = false;
	d->info.paused_why[0] = '\0';
	d->asked_why[0] = '\0';
	deploy_emit(d, BUS_RESUMED, d->info.host_index, NULL);
	fleetdrive_note(d);
	if (d->pause_kind == PAUSE_LEFT || d->pause_kind == PAUSE_ASKED) {
		/* the operator's word stands for the wave's budget and gate: the units of the wave
		   not reached start, else the next wave */
		size_t w = wave_now(d);

		d->left = false;
		d->failures_accepted = wave_failures(d, w);
		if (!wave_waiting(d, w) && w + 1 < d->waves.len) {
			next_wave(d, true);
			return true;
		}
		deploy_enter(d, STAGE_RUN);
		rollout_continue(d);
		return true;
	}
	if (d->pause_kind == PAUSE_GATE || d->pause_kind == PAUSE_GO) {
		/* the operator's word stands for the gate, and for its go: the next wave */
		next_wave(d, true);
		return true;
	}
	/* the failed hosts stay as their own rollback left them */
	d->failures_accepted = wave_failures(d, wave_now(d));
	deploy_enter(d, STAGE_RUN);
	rollout_continue(d);
	return true;
}

bool deploy_abort(struct deploy *d, char *why, size_t whysz)
{
	why[0] = '\0';
	if (!fleet_waves(d) || d->info.aborted || d->info.fleet_rollback ||
	    (d->stage != STAGE_RUN && d->stage != STAGE_SOAK && d->stage != STAGE_PAUSED)) {
		snprintf(why, whysz, "no rollout in waves runs here to abort");
		return false;
	}
	if (!d->back.tag[0]) {
		snprintf(why, whysz, "nothing healthy ran before %s here: there is no tag to go back to",
		    d->info.tag);
		return false;
	}
	fleet_stop(d);
	d->left = false;
	d->info.aborted = true;
	d->info.paused = false;
	d->info.soaking = false;
	d->stopping = true;
	d->asked_why[0] = '\0';
	deploy_emit(d, BUS_ABORTED, d->info.host_index, NULL);
	fleetdrive_note(d);
	deploy_enter(d, STAGE_RUN);
	rollout_continue(d);
	return true;
}

size_t fleet_left_behind(struct deploy *d, char *out, size_t outsz)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		const struct deploy_host *h = &d->info.hosts[j];

		if (h->state == HOST_ENDED && h->result == RUN_SUCCEEDED)
			continue;
		if (strlen(out) + 80 < outsz)
			snprintf(out + strlen(out), outsz - strlen(out), "%s%s", n ? ", " : "", h->address);
		else if (!strstr(out, ", ..."))
			snprintf(out + strlen(out), outsz - strlen(out), ", ...");
		n++;
	}
	return n;
}

void fleet_stop(struct deploy *d)
{
	if (d->soak_timer)
		loop_timer_cancel(d->ctx.loop, d->soak_timer);
	d->soak_timer = 0;
	appcheck_free(d->gate_app);
	d->gate_app = NULL;
	for (size_t j = 0; d->gate_reads && j < d->info.hosts_len; j++)
		unit_cmd_stop(d->gate_reads[j].cmd);
	free(d->gate_reads);
	d->gate_reads = NULL;
	for (size_t j = 0; d->unlocks && j < d->info.hosts_len; j++)
		unit_cmd_stop(d->unlocks[j].cmd);
	free(d->unlocks);
	d->unlocks = NULL;
}

void fleet_emergency(struct deploy *d, const char *reason)
{
	char *r = d->info.reason;
	size_t n;

	admin_reason(reason, r, sizeof d->info.reason);
	n = strlen(r);
	while (n > 0 && r[n - 1] == ' ')
		r[--n] = '\0';
	memmove(r, r + strspn(r, " "), strlen(r + strspn(r, " ")) + 1);       /* trimmed */
	d->info.emergency = true;
	d->info.protected_env = true;
	d->info.parallel = d->info.hosts_len;
	d->waves.len = 0;
	d->info.waves = 0;
	d->info.wave = 0;
	d->info.waves_plan[0] = '\0';
	for (size_t j = 0; j < d->info.hosts_len; j++)
		d->info.hosts[j].wave = 0;
}

static void unlocked(void *arg, enum unit_end how, int status, const char *message)
{
	struct gate_read *g = arg;
	struct deploy *d = g->d;
	const char *unit = d->info.hosts[g->index].address;

	g->cmd = NULL;
	if (how != UNIT_EXITED || (status != 0 && status != UNIT_EXIT_NOT_NEEDED)) {
		char why[300];

		if (how != UNIT_EXITED)
			snprintf(why, sizeof why, "%s", message && *message ? message : "the link dropped");
		else
			snprintf(why, sizeof why, "exit %d", status);
		if (!d->unlock_failed)
			deploy_refuse(d, "the lock could not be broken on %s (%s); nothing was rolled back",
			    unit, why);
		d->unlock_failed = true;
	} else if (status == 0) {
		admin_emit(d->ctx.bus, ADMIN_UNLOCK, d->target->name, g->index, unit, d->ctx.operator,
		    d->info.reason);
	}
	if (--d->pending > 0 || d->unlock_failed)
		return;
	d->break_lock = false;
	deploy_confirm(d);
}

static const struct unit_cmd_ops unlock_ops = { .done = unlocked, .bounded = true };

void fleet_break_lock(struct deploy *d)
{
	char note[300];
	int64_t at = deploy_now_s();    /* one note, the same on every unit */

	snprintf(note, sizeof note, "emergency rollback: %s", d->info.reason);
	deploy_enter(d, STAGE_UNLOCK);
	deploy_say(d, "breaking the lock of run %s (%s) on every host: %s", d->target_state.lock.run,
	    d->target_state.lock.message, note);
	free(d->unlocks);
	d->unlocks = xcalloc(d->info.hosts_len + 1, sizeof *d->unlocks);
	d->pending = (int)d->info.hosts_len;
	d->unlock_failed = false;
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		d->unlocks[j] = (struct gate_read){ .d = d, .index = j };
		d->unlocks[j].cmd = d->to->ops->admin(d->to, j, ADMIN_UNLOCK, d->ctx.operator, note, at,
		    &unlock_ops, &d->unlocks[j]);
	}
	deploy_notify(d);
}
