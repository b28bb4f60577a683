/* Reads deploy.env, the lock and the freeze on every unit (host) of every environment,
 * through its target's state reads (the watch's), on the environment's interval;
 * what each service of the unit runs, from its container runtime (deploy.running); and,
 * where a unit has an address of its own, the version its app reports, asked from the
 * unit itself. */
#include "config.h"

#include "deployenv.h"
#include "deploywatch.h"
#include "hoststate.h"
#include "outbuf.h"
#include "payload.h"
#include "running.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INTERVAL_MS 2000

#define VERSION_MAX 65536                               /* the app's version body */

/* What a reader reads; the readers of a kind are a block of slots, one per host. */
enum read_kind { READ_STATE, READ_VERSION, READ_RUNNING, READ_KINDS };

/* One host's read in flight. */
struct reader {
	struct deploywatch *dw;
	struct reader **slot;           /* its place in dw->readers, emptied when done */
	struct host_status *host;
	const struct target *target;
	size_t env, unit;               /* the environment's index, the host's in it */
	enum read_kind kind;
	bool again;                     /* asked for while in flight: read once more after, so
	                                   a refresh (a run's end) never shows an older state */
	struct unit_cmd *cmd;
	struct outbuf out;
};

struct deploywatch {
	struct loop *loop;
	struct model *model;
	deploywatch_target_fn target;
	void *target_arg;
	deploywatch_fn changed;
	void *arg;
	struct reader **readers;        /* flat: one slot per host and kind, NULL when idle:
	                                   READ_KINDS blocks of readers_len */
	size_t readers_len;
	struct env_timer *timers;       /* per environment */
};

struct env_timer {
	struct deploywatch *dw;
	size_t env;
	size_t first_reader;            /* the slot of the environment's first host in readers */
	uint64_t id;
};

static void read_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct reader *r = arg;

	static const size_t max[READ_KINDS] = {
		[READ_VERSION] = VERSION_MAX,
	};

	if (!is_stderr)
		outbuf_add(&r->out, data, len, max[r->kind]);
}

/* A read is over: its slot is free, the listener told. */
static void reader_end(struct reader *r)
{
	outbuf_clear(&r->out);
	*r->slot = NULL;
	if (r->dw->changed)
		r->dw->changed(r->dw->arg);
	free(r);
}

/* The version the host's own app reported (or why none was read). */
static void version_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct reader *r = arg;
	struct host_status *h = r->host;
	const struct conf_env *env = r->target->env;
	char why[600];

	h->app_probed = true;
	if (how != UNIT_EXITED) {
		snprintf(h->app_version_error, sizeof h->app_version_error, "%s",
		    message ? message : "the link dropped");
		h->app_version[0] = '\0';
	} else if (status != 0) {
		snprintf(h->app_version_error, sizeof h->app_version_error, "its app's %s did not "
		    "answer 2xx on the host (exit %d)", env->version_path, status);
		h->app_version[0] = '\0';
	} else if (!payload_version(outbuf_text(&r->out), r->out.len, env->version_pointer, h->app_version,
	    sizeof h->app_version, why, sizeof why)) {
		snprintf(h->app_version_error, sizeof h->app_version_error, "%s", why);
		h->app_version[0] = '\0';
	} else {
		h->app_version_error[0] = '\0';
	}
	reader_end(r);
}

static const struct unit_cmd_ops version_ops = {
	.output = read_output,
	.done = version_done,
	.bounded = true,
};

/* What each service runs (or why that is not known now). */
static void running_done(void *arg, struct running *run, const char *why)
{
	struct reader *r = arg;
	struct host_status *h = r->host;

	h->running_read = true;
	running_free(&h->running);
	if (run) {
		h->running = *run;
		*run = (struct running){ 0 };
		h->running_error[0] = '\0';
	} else {
		snprintf(h->running_error, sizeof h->running_error, "%s", why ? why : "not known");
	}
	r->cmd = NULL;
	reader_end(r);
}

/* The lock, the freeze and the current run. */
static void read_lock_state(struct host_status *h, const struct host_state *st)
{
	h->state_known = true;
	h->lock = st->lock;
	h->driver = st->driver;
	h->request = st->request;
	h->lock_stale = hoststate_lock_stale(st);
	h->frozen = st->frozen;
	snprintf(h->freeze_by, sizeof h->freeze_by, "%s", st->freeze_by);
	snprintf(h->freeze_reason, sizeof h->freeze_reason, "%s", st->freeze_reason);
	h->freeze_since = st->freeze_since;
	h->host_now = st->host_now;
	snprintf(h->current_run, sizeof h->current_run, "%s", st->current);
	h->last_run = st->last;
}

/* What the unit is configured to run (compose: deploy.env), or why there is nothing. */
static void read_deploy_env(const struct reader *r, const struct host_state *st)
{
	struct host_status *h = r->host;

	if (st->has_deploy_env) {
		deployenv_image_tag(st->deploy_env.app_image, h->app_tag, sizeof h->app_tag);
		running_image_repo(st->deploy_env.app_image, h->app_repo, sizeof h->app_repo);
		deployenv_image_digest(st->deploy_env.app_image, h->app_digest, sizeof h->app_digest);
		if (st->deploy_env.migrator_image[0])
			deployenv_image_tag(st->deploy_env.migrator_image, h->migrator_tag, sizeof h->migrator_tag);
		else
			h->migrator_tag[0] = '\0';
		h->deploy_error[0] = '\0';
		h->deploy_at = loop_clock_ms();
		return;
	}
	snprintf(h->deploy_error, sizeof h->deploy_error, "%s", st->deploy_env_error[0] ?
	    st->deploy_env_error : "nothing says what it runs");
	/* what was read before may no longer hold */
	h->app_tag[0] = '\0';
	h->migrator_tag[0] = '\0';
}

static void read_host(struct deploywatch *dw, size_t i, size_t j, struct reader **slot);

static void read_done(void *arg, struct host_state *st, const char *why)
{
	struct reader *r = arg;
	struct host_status *h = r->host;
	struct deploywatch *dw = r->dw;
	struct reader **slot = r->slot;
	size_t env = r->env, unit = r->unit;
	bool again = r->again;

	r->cmd = NULL;
	if (!st) {
		snprintf(h->deploy_error, sizeof h->deploy_error, "%s", why);
		h->app_tag[0] = '\0';
		h->migrator_tag[0] = '\0';
		h->state_known = false;
	} else {
		read_deploy_env(r, st);
		read_lock_state(h, st);
	}
	reader_end(r);
	if (again)
		read_host(dw, env, unit, slot);
}

static struct reader *reader_new(struct deploywatch *dw, size_t i, size_t j, struct reader **slot,
    enum read_kind kind)
{
	struct reader *r = xcalloc(1, sizeof *r);

	r->dw = dw;
	r->slot = slot;
	r->host = &dw->model->envs[i].hosts[j];
	r->target = dw->target(dw->target_arg, dw->model->envs[i].conf);
	r->env = i;
	r->unit = j;
	r->kind = kind;
	*slot = r;
	return r;
}

static void read_host(struct deploywatch *dw, size_t i, size_t j, struct reader **slot)
{
	struct reader *r;

	if (*slot) {
		(*slot)->again = true;  /* what it reads may be older than what was asked for */
		return;
	}
	r = reader_new(dw, i, j, slot, READ_STATE);
	r->cmd = r->target->ops->state(r->target, j, true, read_done, r);
}

/* Asks a unit with an address of its own what its app reports. */
static void read_version(struct deploywatch *dw, size_t i, size_t j, struct reader **slot)
{
	struct reader *r;

	if (*slot)
		return;
	r = reader_new(dw, i, j, slot, READ_VERSION);
	r->cmd = r->target->ops->get(r->target, j, dw->model->envs[i].conf->version_path,
	    VERSION_MAX, &version_ops, r);
	if (!r->cmd) {
		*slot = NULL;
		free(r);
	}
}

/* Asks a unit what each of its services runs. */
static void read_running(struct deploywatch *dw, size_t i, size_t j, struct reader **slot)
{
	struct reader *r;

	if (*slot)
		return;
	r = reader_new(dw, i, j, slot, READ_RUNNING);
	r->cmd = r->target->ops->running(r->target, j, running_done, r);
	if (!r->cmd) {
		*slot = NULL;
		free(r);
	}
}

static void env_fire(struct loop *loop, void *arg);

/* Reads an environment's hosts and schedules the next reads. */
static void read_env(struct deploywatch *dw, size_t i)
{
	struct env_status *env = &dw->model->envs[i];
	int64_t every = env->conf->interval_ms > MIN_INTERVAL_MS ? env->conf->interval_ms : MIN_INTERVAL_MS;

	for (size_t j = 0; j < env->hosts_len; j++) {
		size_t k = dw->timers[i].first_reader + j;

		read_host(dw, i, j, &dw->readers[READ_STATE * dw->readers_len + k]);
		read_version(dw, i, j, &dw->readers[READ_VERSION * dw->readers_len + k]);
		read_running(dw, i, j, &dw->readers[READ_RUNNING * dw->readers_len + k]);
	}
	loop_timer_cancel(dw->loop, dw->timers[i].id);
	dw->timers[i].id = env->hosts_len ? loop_timer_add(dw->loop, every, env_fire, &dw->timers[i]) : 0;
}

static void env_fire(struct loop *loop, void *arg)
{
	struct env_timer *t = arg;

	t->id = 0;
	read_env(t->dw, t->env);
}

struct deploywatch *deploywatch_new(struct loop *loop, struct model *model,
    deploywatch_target_fn target, void *target_arg)
{
	struct deploywatch *dw = xcalloc(1, sizeof *dw);

	dw->loop = loop;
	dw->model = model;
	dw->target = target;
	dw->target_arg = target_arg;
	/* one channel per host and kind of read: deploy.env with its status, the lock and the
	   freeze; the app's version; the running services */
	dw->timers = xcalloc(model->envs_len + 1, sizeof *dw->timers);
	for (size_t i = 0; i < model->envs_len; i++) {
		dw->timers[i].dw = dw;
		dw->timers[i].env = i;
		dw->timers[i].first_reader = dw->readers_len;
		dw->readers_len += model->envs[i].hosts_len;
	}
	dw->readers = xcalloc(READ_KINDS * dw->readers_len + 1, sizeof *dw->readers);
	return dw;
}

void deploywatch_set_listener(struct deploywatch *dw, deploywatch_fn changed, void *arg)
{
	dw->changed = changed;
	dw->arg = arg;
}

void deploywatch_start(struct deploywatch *dw)
{
	for (size_t i = 0; i < dw->model->envs_len; i++)
		read_env(dw, i);
}

void deploywatch_refresh(struct deploywatch *dw)
{
	for (size_t i = 0; i < dw->model->envs_len; i++) {
		const struct target *t = dw->target(dw->target_arg, dw->model->envs[i].conf);

		for (size_t j = 0; j < dw->model->envs[i].hosts_len; j++)
			t->ops->relink(t, j);
		read_env(dw, i);
	}
}

void deploywatch_free(struct deploywatch *dw)
{
	if (!dw)
		return;
	for (size_t k = 0; k < READ_KINDS * dw->readers_len; k++) {
		if (dw->readers[k]) {
			unit_cmd_stop(dw->readers[k]->cmd);
			outbuf_clear(&dw->readers[k]->out);
			free(dw->readers[k]);
		}
	}
	for (size_t i = 0; i < dw->model->envs_len; i++)
		loop_timer_cancel(dw->loop, dw->timers[i].id);
	free(dw->timers);
	free(dw->readers);
	free(dw);
}
