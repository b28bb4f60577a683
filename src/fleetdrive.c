/* A rollout in waves and its driver (src/drive.h): while this gantry drives a rollout it
 * names itself on the first unit, beside the lease, and renews that record every
 * interval with where the rollout stands. No unit starts unless the last beat held, and
 * held recently: a gantry whose beat went stale may have been taken over. The beat's
 * answer brings the requests of operators elsewhere (pause, resume, abort), acted on here
 * as the console's own keys are, and answered by the next beat. When another gantry holds
 * the record, or the lease is gone, this one stops driving: the units' runs go on where
 * they are, and the one that drives now decides. */
#include "config.h"

#include "deploystate.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void beat(struct deploy *d);

static int64_t beat_every_ms(const struct deploy *d)
{
	int64_t ms = d->target->interval_ms;

	return ms < 1000 ? 1000 : ms > 10000 ? 10000 : ms;
}

/* This gantry's record, as the rollout stands now. */
static void record_now(const struct deploy *d, enum drive_state state, struct drive_record *r)
{
	memset(r, 0, sizeof *r);
	deploy_copy(r->token, sizeof r->token, d->drive_token);
	deploy_copy(r->by, sizeof r->by, d->ctx.operator ? d->ctx.operator : "");
	r->stale_s = drive_stale_s(beat_every_ms(d));
	r->state = state;
	r->wave = d->info.wave;
	if (state == DRIVE_PAUSED)
		deploy_copy(r->why, sizeof r->why, d->info.paused_why);
}

static enum drive_state state_now(const struct deploy *d)
{
	if (d->info.aborted || d->info.fleet_rollback)
		return DRIVE_ABORTING;
	return d->info.paused ? DRIVE_PAUSED : DRIVE_RUNNING;
}

static void beat_later(struct loop *loop, void *arg)
{
	struct deploy *d = arg;

	(void)loop;
	d->drive_timer = 0;
	beat(d);
}

static void schedule_beat(struct deploy *d, int64_t ms)
{
	if (d->drive_timer)
		loop_timer_cancel(d->ctx.loop, d->drive_timer);
	d->drive_timer = loop_timer_add(d->ctx.loop, ms, beat_later, d);
}

/* Someone else drives now, or the lease went: this gantry lets the rollout be. The runs
 * on the units go on there; nothing of it is undone. */
static void stop_driving(struct deploy *d, const char *why)
{
	fleetdrive_stop(d);
	fleet_stop(d);
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		unit_run_free(d->jobs[j].run);     /* followed no more; the run goes on */
		d->jobs[j].run = NULL;
	}
	d->info.running = 0;
	d->info.paused = false;
	d->info.soaking = false;
	d->leased = false;
	d->watch_only = true;
	d->stopping = true;
	d->info.result = RUN_UNKNOWN;
	deploy_say(d, "%s", why);
	rollout_finish(d);
}

/* An operator elsewhere asked: done here as the console's key would be. */
static void act(struct deploy *d, const struct drive_request *req)
{
	char why[300], asked[400];

	deploy_copy(d->drive_done_id, sizeof d->drive_done_id, req->id);
	deploy_copy(d->drive_ack, sizeof d->drive_ack, req->id);
	snprintf(asked, sizeof asked, "%s asked to %s%s%s",
	    req->by[0] ? req->by : "someone", drive_ask_name(req->ask), req->why[0] ? ": " : "",
	    req->why);
	switch (req->ask) {
	case DRIVE_ASK_PAUSE:
		fleet_ask_pause(d, asked);
		break;
	case DRIVE_ASK_RESUME:
		if (!d->info.paused || !deploy_resume(d))
			deploy_say(d, "%s, but the rollout is not paused: nothing to resume", asked);
		break;
	case DRIVE_ASK_ABORT:
		if (!deploy_abort(d, why, sizeof why))
			deploy_say(d, "%s, but it was not aborted: %s", asked, why);
		break;
	}
	deploy_notify(d);
}

static void answered(void *arg, enum drive_answer answer, const struct drive_record *other,
    const struct drive_request *req, const char *why)
{
	struct deploy *d = arg;
	bool could = fleetdrive_may_start(d);
	char text[600];

	d->drive_cmd = NULL;
	switch (answer) {
	case DRIVE_HELD:
		d->drive_held = true;
		d->drive_held_ms = loop_clock_ms();
		d->drive_failing = false;
		if (d->drive_ack_sent[0] && strcmp(d->drive_ack_sent, d->drive_ack) == 0)
			d->drive_ack[0] = '\0';
		if (req && strcmp(req->id, d->drive_done_id) != 0)
			act(d, req);
		if (!d->driving)
			return;         /* the request ended the rollout here */
		schedule_beat(d, d->drive_again || d->drive_ack[0] ? 0 : beat_every_ms(d));
		d->drive_again = false;
		if (!could && (d->stage == STAGE_RUN || d->stage == STAGE_START) && !d->info.paused &&
		    !d->info.soaking)
			rollout_continue(d);    /* what waited for the record starts now */
		return;
	case DRIVE_TAKEN:
		snprintf(text, sizeof text, "run %s is driven by %s's gantry now (it took the rollout "
		    "over when this one's beat was not heard for %llds): this gantry stopped driving "
		    "it; `gantry attach %s` follows it", d->lease.id,
		    other && other->by[0] ? other->by : "another",
		    (long long)(other ? other->stale_s : 0), d->target->name);
		stop_driving(d, text);
		return;
	case DRIVE_GONE:
		if (d->stage == STAGE_RELEASE || d->stage == STAGE_DONE)
			return;
		snprintf(text, sizeof text, "run %s's lease is gone from %s (%s): it was broken or "
		    "ended by another gantry; this gantry stopped driving it", d->lease.id,
		    d->info.hosts[0].address, why ? why : "");
		stop_driving(d, text);
		return;
	case DRIVE_FAILED:
		if (!d->drive_failing)
			deploy_say(d, "the driver's beat on %s failed (%s): no host starts until it is "
			    "heard again", d->info.hosts[0].address, why ? why : "");
		d->drive_failing = true;
		schedule_beat(d, beat_every_ms(d));
		deploy_notify(d);
		return;
	}
}

static void beat(struct deploy *d)
{
	struct drive_record r;

	if (!d->driving)
		return;
	if (d->drive_cmd) {
		d->drive_again = true;  /* one at a time: again when this one answers */
		return;
	}
	record_now(d, state_now(d), &r);
	deploy_copy(d->drive_ack_sent, sizeof d->drive_ack_sent, d->drive_ack);
	d->drive_cmd = d->to->ops->drive(d->to, 0, d->lease.id, &r, d->drive_ack, answered, d);
	if (!d->drive_cmd)
		schedule_beat(d, beat_every_ms(d));
}

void fleetdrive_start(struct deploy *d)
{
	if (d->driving || !fleet_waves(d) || !d->leased || !d->to->ops->drive)
		return;
	drive_new_token(d->drive_token, sizeof d->drive_token);
	d->driving = true;
	d->drive_held = false;
	beat(d);
}

void fleetdrive_note(struct deploy *d)
{
	if (d->driving)
		schedule_beat(d, 0);
}

bool fleetdrive_may_start(const struct deploy *d)
{
	if (!d->driving)
		return true;
	return d->drive_held &&
	    loop_clock_ms() - d->drive_held_ms < drive_stale_s(beat_every_ms(d)) * 1000 / 2;
}

void fleetdrive_stop(struct deploy *d)
{
	if (d->drive_timer)
		loop_timer_cancel(d->ctx.loop, d->drive_timer);
	d->drive_timer = 0;
	unit_cmd_stop(d->drive_cmd);
	d->drive_cmd = NULL;
	d->driving = false;
}

/* The answer of a let-go nobody waits for. */
static void let_go_answered(void *arg, enum drive_answer answer,
    const struct drive_record *other, const struct drive_request *req, const char *why)
{
	bool *done = arg;

	(void)answer, (void)other, (void)req, (void)why;
	if (done)
		*done = true;
}

bool fleetdrive_leave(struct deploy *d, bool *done)
{
	struct drive_record r;
	bool was = d->driving && d->drive_held;

	fleetdrive_stop(d);
	if (!was)
		return false;
	record_now(d, DRIVE_LEFT, &r);
	/* the command frees itself once answered: it outlives this deploy */
	return d->to->ops->drive(d->to, 0, d->lease.id, &r, "", let_go_answered, done) != NULL;
}

bool deploy_leave(struct deploy *d, bool *done)
{
	return fleetdrive_leave(d, done);
}
