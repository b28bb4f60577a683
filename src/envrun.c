/* A run over several units belongs to the environment, not to the console that started
 * it. Before its first step the lease (src/lease.h) is taken on every unit: the first
 * alone, where two consoles racing for the environment meet, then the rest. It is held
 * until the last unit's run ends, then let go. A gantry that finds a lease held carries
 * its run on from the plan kept in it: it follows the units that run, starts those not
 * reached, takes back the units that switched when a later one failed, and lets the
 * lease go, as the gantry that started it would have. */
#include "config.h"

#include "deploystate.h"
#include "deployenv.h"
#include "lease.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_REPLY_MAX 8192

bool envrun_wanted(const struct deploy *d)
{
	return d->info.hosts_len > 1;
}

static void lease_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct lease_cmd *c = arg;

	(void)is_stderr;
	outbuf_add(&c->out, data, len, LEASE_REPLY_MAX);
}

/* What the unit answered, on one line: its first line, or (locked) whose the lock is. */
static void answer(struct lease_cmd *c, enum unit_end how, int status, const char *message,
    char *out, size_t outsz)
{
	const char *text = outbuf_text(&c->out);
	const char *addr = c->d->info.hosts[c->index].address;
	struct host_lock lock = { 0 };
	char first[200];

	sanitize_text(text, strcspn(text, "\n"), first, sizeof first, 0);
	if (how != UNIT_EXITED) {
		snprintf(out, outsz, "%s: %s", addr, message && *message ? message : "the link dropped");
	} else if (status == UNIT_EXIT_LOCKED) {
		const char *owner = text + strcspn(text, "\n");

		hoststate_read_owner(owner, strlen(owner), &lock);
		snprintf(out, outsz, "%s was locked just now on %s by %s (%s): exactly one run holds "
		    "an environment; nothing was started", c->d->target->name, addr,
		    lock.owner[0] ? lock.owner : "someone", lock.message[0] ? lock.message : "no message");
	} else if (status == UNIT_EXIT_FROZEN) {
		snprintf(out, outsz, "%s was frozen just now (on %s); nothing was started",
		    c->d->target->name, addr);
	} else {
		snprintf(out, outsz, "%s: exit %d%s%s", addr, status, first[0] ? ": " : "", first);
	}
}

/* ---- taking it ---- */

static void taken(void *arg, enum unit_end how, int status, const char *message);
static void let_go(void *arg, enum unit_end how, int status, const char *message);

static const struct unit_cmd_ops take_ops = {
	.output = lease_output, .done = taken, .bounded = true,
};
static const struct unit_cmd_ops release_ops = {
	.output = lease_output, .done = let_go, .bounded = true,
};

static void take_on(struct deploy *d, size_t j)
{
	const char *const *names = NULL;
	char **units = xcalloc(d->info.hosts_len, sizeof *units);
	char *record;
	struct lease_take take = {
		.id = d->lease.id, .action = d->lease.action, .operator = d->lease.operator,
		.message = d->plan ? d->plan->lock_message : d->lease.action,
	};

	for (size_t k = 0; k < d->info.hosts_len; k++)
		units[k] = d->info.hosts[k].address;
	names = (const char *const *)units;
	record = lease_record(&d->lease, names, d->info.hosts_len);
	take.record = record;
	d->lease_pending++;
	d->lease_cmds[j].asked = true;
	d->lease_cmds[j].cmd = d->to->ops->lease(d->to, j, &take, &take_ops, &d->lease_cmds[j]);
	free(record);
	free(units);
}

/* The lease taken (or not) on one unit: after the first, the rest; when every unit has
 * answered, the run starts, or what was taken is let go and the deploy is refused. */
static void taken(void *arg, enum unit_end how, int status, const char *message)
{
	struct lease_cmd *c = arg;
	struct deploy *d = c->d;
	char why[600];

	c->cmd = NULL;
	d->lease_pending--;
	if (how == UNIT_EXITED && status == 0)
		c->held = true;
	else if (how == UNIT_EXITED)
		c->refused = true;      /* a lost link may have taken it: that one is let go */
	if (!c->held && !d->lease_refusal[0]) {
		answer(c, how, status, message, why, sizeof why);
		deploy_copy(d->lease_refusal, sizeof d->lease_refusal, why);
	}
	outbuf_clear(&c->out);
	if (c->index == 0 && c->held) {
		deploy_say(d, "%s leased on %s; on the other %zu host%s now", d->target->name,
		    d->info.hosts[0].address, d->info.hosts_len - 1, d->info.hosts_len == 2 ? "" : "s");
		for (size_t j = 1; j < d->info.hosts_len; j++)
			take_on(d, j);
		deploy_notify(d);
		return;
	}
	if (d->lease_pending > 0)
		return;
	if (d->lease_refusal[0]) {
		envrun_release(d);      /* what was taken, then the refusal */
		return;
	}
	d->leased = true;
	deploy_enter(d, STAGE_START);
	deploy_say(d, "%s leased on all %zu hosts for run %s", d->target->name, d->info.hosts_len,
	    d->lease.id);
	fleetdrive_start(d);            /* in waves: no unit starts before its record holds */
	rollout_schedule(d);
	deploy_notify(d);
}

void envrun_take(struct deploy *d)
{
	struct run_lease *l = &d->lease;

	memset(l, 0, sizeof *l);
	deploy_copy(l->id, sizeof l->id, d->info.run_id);
	deploy_copy(l->action, sizeof l->action, d->info.action);
	deploy_copy(l->env, sizeof l->env, d->target->name);
	deploy_copy(l->source, sizeof l->source, d->info.source);
	deploy_copy(l->tag, sizeof l->tag, d->info.tag);
	deploy_copy(l->app_digest, sizeof l->app_digest, d->info.app_digest);
	deploy_copy(l->migrator_digest, sizeof l->migrator_digest, d->info.migrator_digest);
	if (d->target->deploy.auto_rollback && d->back.tag[0]) {
		deploy_copy(l->back_tag, sizeof l->back_tag, d->back.tag);
		deploy_copy(l->back_app, sizeof l->back_app, d->back.app);
		deploy_copy(l->back_migrator, sizeof l->back_migrator, d->back.migrator);
	}
	deploy_copy(l->operator, sizeof l->operator, d->ctx.operator ? d->ctx.operator : "");
	l->at = d->run_started;
	l->parallel = (unsigned)d->info.parallel;
	l->units = d->info.hosts_len;
	l->waves = d->waves;
	free(d->lease_cmds);
	d->lease_cmds = xcalloc(d->info.hosts_len, sizeof *d->lease_cmds);
	for (size_t j = 0; j < d->info.hosts_len; j++)
		d->lease_cmds[j] = (struct lease_cmd){ .d = d, .index = j };
	d->lease_refusal[0] = '\0';
	rollout_plan(d, 0, d->info.run_id);     /* the lock's message */
	deploy_enter(d, STAGE_LEASE);
	deploy_say(d, "leasing %s: the lock on every host for run %s, %s first", d->target->name,
	    l->id, d->info.hosts[0].address);
	take_on(d, 0);
}

/* ---- letting it go ---- */

static void let_go(void *arg, enum unit_end how, int status, const char *message)
{
	struct lease_cmd *c = arg;
	struct deploy *d = c->d;
	char why[300];

	c->cmd = NULL;
	d->lease_pending--;
	if (!(how == UNIT_EXITED && (status == 0 || status == UNIT_EXIT_NOT_NEEDED))) {
		answer(c, how, status, message, why, sizeof why);
		if (strlen(d->lease_left) + strlen(why) + 3 < sizeof d->lease_left)
			snprintf(d->lease_left + strlen(d->lease_left),
			    sizeof d->lease_left - strlen(d->lease_left), "%s%s",
			    d->lease_left[0] ? "; " : "", why);
	}
	outbuf_clear(&c->out);
	if (d->lease_pending > 0)
		return;
	d->leased = false;
	if (d->lease_left[0] && d->lease_refusal[0] && strlen(d->lease_refusal) + 120 <
	    sizeof d->lease_refusal)
		snprintf(d->lease_refusal + strlen(d->lease_refusal), sizeof d->lease_refusal -
		    strlen(d->lease_refusal), "; the lease taken for it could not be let go (%s): "
		    "`gantry unlock %s` does", d->lease_left, d->target->name);
	else if (d->lease_left[0])
		deploy_say(d, "%s; the lease on %s is still held: `gantry unlock %s` lets it go (%s)",
		    d->info.status[0] ? d->info.status : run_result_name(d->info.result),
		    d->target->name, d->target->name, d->lease_left);
	rollout_finish(d);
}

void envrun_release(struct deploy *d)
{
	bool any = false;

	fleetdrive_stop(d);             /* the record goes with the lease */
	deploy_enter(d, d->lease_refusal[0] ? STAGE_LEASE : STAGE_RELEASE);
	d->lease_left[0] = '\0';
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		struct lease_cmd *c = &d->lease_cmds[j];

		/* a refused lease: where it was taken or may have been (a lost link); at the end:
		   everywhere (a unit that did not answer may hold it) */
		if (d->lease_refusal[0] && (!c->asked || c->refused))
			continue;
		c->held = false;
		d->lease_pending++;
		any = true;
		c->cmd = d->to->ops->release(d->to, j, d->lease.id, &release_ops, c);
	}
	if (!any) {
		d->leased = false;
		rollout_finish(d);
	}
	deploy_notify(d);
}

/* ---- carrying a run on ---- */

/* How unit j stands in run `id`: -1 nothing recorded, else its result (NONE: no end). */
static int on_unit(const struct history *h, const char *id, size_t j)
{
	const struct history_run *run = history_find(h, id);
	enum run_result r;

	return run && history_run_on(run, j, &r) ? (int)r : -1;
}

/* Unit j's run `id` followed, its steps planned as they were. */
static void follow_on(struct deploy *d, size_t j, const char *id)
{
	struct deploy_host *h = &d->info.hosts[j];

	rollout_plan(d, j, id);
	h->state = HOST_RUNNING;
	d->info.running++;
	d->jobs[j].run = d->to->ops->follow(d->to, j, id, &rollout_run_ops, &d->jobs[j]);
}

/* Why the lease's plan cannot be carried on here ("" it can). */
static void plan_fits(const struct deploy *d, const struct host_lock *lock, char *why, size_t whysz)
{
	const struct run_lease *l = &lock->lease;
	const char **names = xcalloc(d->info.hosts_len + 1, sizeof *names);
	char sum[20];

	why[0] = '\0';
	for (size_t j = 0; j < d->info.hosts_len; j++)
		names[j] = d->info.hosts[j].address;
	lease_units_sum(names, d->info.hosts_len, sum);
	free(names);
	if (lock->lease_error[0])
		snprintf(why, whysz, "the plan kept in %s's lock on %s is not gantry's (%s)",
		    d->target->name, lock->host, lock->lease_error);
	else if (lock->leases_differ)
		snprintf(why, whysz, "%s's hosts hold the locks of different runs or plans (%s holds "
		    "run %s)", d->target->name, lock->host, lock->run);
	else if (strcmp(l->env, d->target->name) != 0)
		snprintf(why, whysz, "the lock on %s holds a plan for environment \"%s\"", lock->host,
		    l->env);
	else if (l->units != d->info.hosts_len || strcmp(l->units_sum, sum) != 0)
		snprintf(why, whysz, "run %s was planned for other hosts than gantry.yml lists now",
		    l->id);
}

/* A rollout whose driver lives is that gantry's: this one says how to reach it. */
static void refuse_driven(struct deploy *d, const struct host_state *st)
{
	deploy_refuse(d, "run %s is driven by %s's gantry (heard %llds ago; %s in wave %zu): "
	    "`gantry rollout pause|resume|abort %s` or the fleet pane (F) asks it; `gantry rollout "
	    "status %s` shows where it stands", st->lock.lease.id,
	    st->driver.by[0] ? st->driver.by : "another", (long long)(st->host_now - st->driver.beat),
	    drive_state_name(st->driver.state), st->driver.wave, d->target->name, d->target->name);
}

bool envrun_carry_on(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct host_lock *lock = &st->lock;
	const struct run_lease *l = &lock->lease;
	const struct history *hist = &st->history;
	bool read_only = d->ctx.conf->read_only;
	bool driven = l->waves.len && drive_live(&st->driver, st->host_now);
	char back_id[72], why[400];
	bool fleet = false;

	if (!lock->held || !lock->leased)
		return false;
	if (driven && !read_only) {
		refuse_driven(d, st);
		return true;
	}
	plan_fits(d, lock, why, sizeof why);
	if (why[0]) {
		deploy_refuse(d, "%s: nothing is carried on; `gantry history %s` shows where each host "
		    "stands, and `gantry unlock %s` lets the lock go", why, d->target->name,
		    d->target->name);
		return true;
	}
	lease_back_id(l->id, back_id, sizeof back_id);
	for (size_t j = 0; j < d->info.hosts_len; j++)
		fleet = fleet || on_unit(hist, back_id, j) >= 0;
	attach_describe(d, &(struct attach_run){ l->action, l->tag, l->app_digest,
	    l->migrator_digest, l->source, l->operator, l->back_tag });
	deploy_copy(d->back.tag, sizeof d->back.tag, l->back_tag);
	deploy_copy(d->back.app, sizeof d->back.app, l->back_app);
	deploy_copy(d->back.migrator, sizeof d->back.migrator, l->back_migrator);
	if (d->info.kind == DEPLOY_PROMOTE && d->target->deploy.retag)
		deploy_copy(d->info.retag, sizeof d->info.retag, d->target->deploy.retag);
	d->info.parallel = l->parallel;
	d->info.carried = !read_only;
	d->info.started_ms = loop_clock_ms();
	d->run_started = l->at;
	d->lease = *l;
	d->ctx.operator = d->lease.operator;    /* the units not reached run it as planned */
	d->lease_cmds = xcalloc(d->info.hosts_len, sizeof *d->lease_cmds);
	for (size_t j = 0; j < d->info.hosts_len; j++)
		d->lease_cmds[j] = (struct lease_cmd){ .d = d, .index = j };
	d->attach_only = false;
	d->watch_only = read_only;
	d->leased = !read_only;
	d->info.fleet_rollback = fleet;
	deploy_copy(d->info.run_id, sizeof d->info.run_id, fleet ? back_id : l->id);
	deploy_enter(d, STAGE_RUN);
	for (size_t j = 0; j < d->info.hosts_len; j++) {
		struct deploy_host *h = &d->info.hosts[j];
		int x = on_unit(hist, l->id, j), b = on_unit(hist, back_id, j);

		h->state = HOST_WAITING;
		if (fleet && x == RUN_SUCCEEDED) {
			h->went_back = true;
			if (b > (int)RUN_RESULT_NONE) {
				h->state = HOST_ENDED;
				h->result = (enum run_result)b;
			} else if (b == (int)RUN_RESULT_NONE) {
				follow_on(d, j, back_id);
			}
			continue;
		}
		if (x > (int)RUN_RESULT_NONE) {
			h->state = HOST_ENDED;
			h->result = (enum run_result)x;
			if (x != RUN_SUCCEEDED && d->failed_host >= d->info.hosts_len) {
				d->failed_host = j;
				d->failed_result = h->result;
			}
		} else if (x == (int)RUN_RESULT_NONE) {
			if (fleet)
				h->state = HOST_NOT_STARTED;    /* never rolled back: not its way back */
			else
				follow_on(d, j, l->id);
		} else if (fleet || (!l->waves.len && d->failed_host < d->info.hosts_len)) {
			h->state = HOST_NOT_STARTED;
		}
	}
	fleet_carry_on(d, &l->waves);  /* in waves: a failure is the wave's budget's */
	/* a unit failed: no other starts, but the way back goes on */
	d->stopping = (!fleet && !l->waves.len && d->failed_host < d->info.hosts_len) || read_only;
	rollout_focus(d);
	deploy_emit(d, BUS_STARTED, d->info.host_index, NULL);
	if (read_only) {
		deploy_say(d, "run %s holds %s and is not finished; read-only, gantry follows it but "
		    "does not carry it on", l->id, d->target->name);
	} else {
		deploy_say(d, "carrying on run %s (%s %s by %s) from the plan its lease keeps",
		    l->id, l->action, l->tag, l->operator[0] ? l->operator : "someone");
	}
	if (!read_only)
		fleetdrive_start(d);    /* in waves: this gantry drives it from now on */
	if (d->info.running == 0)
		rollout_continue(d);
	deploy_notify(d);
	return true;
}
