/* The fake target: units in memory that run a plan's steps by name on the loop. */
#include "config.h"

#include "faketarget.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A step as a unit runs it: its name, and the images when it writes deploy.env. */
struct fake_step {
	char name[80];
	char app[512], migrator[512];   /* "write deploy.env": what it writes */
	bool switch_point, migration;
};

struct fake_run;

#define FAKE_FOLLOWERS 4

/* A run on a unit: it belongs to the unit, and goes on without a follower. */
struct fake_exec {
	struct fake_target *ft;
	size_t j;
	char id[72];
	bool leased;                    /* it runs under a lease: the lock stays at its end */
	struct fake_step *steps, *back;
	size_t steps_len, back_len;
	size_t at;                      /* the next step of the current phase */
	bool in_rollback, switched, migrated, restored, cancel_asked, paused, paused_once;
	int failed_step;
	enum run_result result;
	char prev_app[512], prev_migrator[512];
	bool prev_saved;
	struct run_event *events;       /* every event, for a follower that comes later */
	size_t events_len;
	json_t *steps_json;
	uint64_t timer;
	bool ended;
	struct fake_run *followers[FAKE_FOLLOWERS];     /* as many gantries as follow it */
	struct fake_exec *next_done;    /* the unit's ended runs, newest first */
};

/* A handle on a run: the engine's unit_run. */
struct fake_run {
	struct unit_run base;
	struct fake_target *ft;
	size_t j;
	struct fake_plan *plan;         /* start: its own copy of the plan (owned) */
	char id[72];                    /* follow */
	const struct unit_run_ops *ops;
	void *arg;
	uint64_t timer;
	struct fake_exec *exec;         /* followed; NULL once it ended or before it began */
};

/* A one-shot command (a state read, an admin write, an image check). */
struct fake_cmd {
	struct unit_cmd base;
	struct fake_target *ft;
	size_t j;
	uint64_t timer;
	bool watch;
	unit_state_fn state_done;
	const struct unit_cmd_ops *ops;
	void *arg;
	enum unit_admin admin;
	char *record;                   /* adopt, lease: the record */
	char id[72], action[16], operator[128]; /* lease, release */
	char *image;                    /* has_image */
	int kind;                       /* CMD_* */
	unit_drive_fn drive_done;       /* drive */
	struct drive_record rec;        /* drive: the record written */
	struct drive_request req;       /* ask: the request */
	char ack[40];
};

enum { CMD_STATE, CMD_ADMIN, CMD_ADOPT, CMD_HAS_IMAGE, CMD_LEASE, CMD_RELEASE, CMD_DRIVE, CMD_ASK };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

/* ---- the units' files ---- */

void fake_history_add(struct fake_target *ft, size_t j, const char *record)
{
	struct fake_unit *u = &ft->units[j];
	char *h = xasprintf("%s%s\n", u->history ? u->history : "", record);

	free(u->history);
	u->history = h;
}

/* The digest of an image reference ("" none). */
static const char *digest_of(const char *image)
{
	const char *at = strchr(image, '@');

	return at ? at + 1 : "";
}

void fake_record(struct fake_target *ft, size_t j, const char *id, const char *tag,
    const char *app_digest, const char *migrator_digest, const char *result, long long at)
{
	char *rec = xasprintf("{\"id\":\"%s\",\"event\":\"start\",\"started\":%lld,"
	    "\"operator\":\"ci@test\",\"action\":\"deploy\",\"env\":\"%s\",\"tag\":\"%s\","
	    "\"app_digest\":\"%s\",\"migrator_digest\":\"%s\",\"steps\":[\"write deploy.env\","
	    "\"start app\"]}", id, at, ft->base.env->name, tag, app_digest, migrator_digest);

	fake_history_add(ft, j, rec);
	free(rec);
	rec = xasprintf("{\"id\":\"%s\",\"event\":\"end\",\"ended\":%lld,\"result\":\"%s\","
	    "\"failed_step\":0,\"migrated\":true,\"switched\":true,\"restored\":false,"
	    "\"steps\":[]}", id, at + 30, result);
	fake_history_add(ft, j, rec);
	free(rec);
}

void fake_ran(struct fake_target *ft, size_t j, const char *id, const char *tag,
    const char *app_image, const char *migrator_image, const char *result, long long at)
{
	struct fake_unit *u = &ft->units[j];

	copy(u->app_image, sizeof u->app_image, app_image);
	copy(u->migrator_image, sizeof u->migrator_image, migrator_image);
	fake_record(ft, j, id, tag, digest_of(app_image), digest_of(migrator_image), result, at);
	copy(u->current, sizeof u->current, id);
}

/* ---- plans ---- */

#define FAKE_STEP_WRITE "write config"

/* The fake's own plan for a release: what a compose host would do, in the fake's words
 * (no shell): write the configuration, pull, migrate once, switch, wait for ready. */
struct fake_plan {
	struct release_plan base;
	char id[72], action[16], env[64], source[64], operator[128], tag[136], back_tag[136];
	char app_digest[80], migrator_digest[80], message[200];
	char app[512], migrator[512], back_app[512], back_migrator[512];
	char lease[72];
	size_t units;
	int64_t started;
	char *adopt_record;             /* owned, or NULL */
	char lock_message[300];
	struct release_step steps[6], rollback[4];
};

static const struct release_step fake_steps[] = {
	{ FAKE_STEP_WRITE, "fake: write the images", 60000, false, false, NULL },
	{ "pull images", "fake: pull", 60000, false, false, NULL },
	{ "run migrator", "fake: migrate", 60000, false, true, NULL },
	{ "start app", "fake: switch", 60000, true, false, NULL },
	{ "wait for ready", "fake: wait for ready", 60000, false, false, NULL },
};

static size_t plan_steps(struct release_step *out, bool migrate)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof fake_steps / sizeof *fake_steps; i++)
		if (migrate || !fake_steps[i].migration)
			out[n++] = fake_steps[i];
	return n;
}

static void image(const struct conf *conf, const char *repo, const struct release_images *img,
    const char *digest, char *out, size_t outsz)
{
	char *ref = release_image_ref(conf->registry, repo, img->tag, digest);

	copy(out, outsz, ref);
	free(ref);
}

static struct release_plan *fake_plan(const struct target *t, size_t j,
    const struct release_request *req)
{
	struct fake_plan *p = xcalloc(1, sizeof *p);
	const struct conf_registry *reg = t->conf->registry;

	(void)j;
	copy(p->id, sizeof p->id, req->id);
	copy(p->action, sizeof p->action, req->action);
	copy(p->env, sizeof p->env, t->env->name);
	copy(p->source, sizeof p->source, req->source_env ? req->source_env : "");
	copy(p->operator, sizeof p->operator, req->operator);
	copy(p->message, sizeof p->message, req->message ? req->message : "");
	copy(p->tag, sizeof p->tag, req->to.tag);
	copy(p->app_digest, sizeof p->app_digest, req->to.app_digest ? req->to.app_digest : "");
	copy(p->migrator_digest, sizeof p->migrator_digest,
	    req->to.migrator_digest ? req->to.migrator_digest : "");
	image(t->conf, reg->app, &req->to, req->to.app_digest, p->app, sizeof p->app);
	image(t->conf, reg->migrator, &req->to, req->to.migrator_digest, p->migrator, sizeof p->migrator);
	copy(p->lease, sizeof p->lease, req->lease ? req->lease : "");
	p->units = req->units;
	p->started = req->started;
	p->adopt_record = req->adopt ? history_adopt_record(req->adopt) : NULL;
	snprintf(p->lock_message, sizeof p->lock_message, "%s %s", req->action, req->to.tag);
	p->base.steps = p->steps;
	p->base.steps_len = plan_steps(p->steps, req->first_unit && strcmp(req->action, "rollback") != 0);
	if (t->env->deploy.auto_rollback && req->back.tag) {
		copy(p->back_tag, sizeof p->back_tag, req->back.tag);
		image(t->conf, reg->app, &req->back, req->back.app_digest, p->back_app, sizeof p->back_app);
		image(t->conf, reg->migrator, &req->back, req->back.migrator_digest, p->back_migrator,
		    sizeof p->back_migrator);
		p->base.rollback = p->rollback;
		p->base.rollback_len = plan_steps(p->rollback, false);
	}
	p->base.lock_message = p->lock_message;
	return &p->base;
}

static void fake_plan_free(struct release_plan *plan)
{
	struct fake_plan *p = (struct fake_plan *)plan;

	if (p)
		free(p->adopt_record);
	free(p);
}

/* A copy of a plan: a target keeps none of the engine's past start (the engine frees it
 * when it plans the next unit). */
static struct fake_plan *plan_copy(const struct fake_plan *from)
{
	struct fake_plan *p = xmalloc(sizeof *p);

	*p = *from;
	p->base.steps = p->steps;
	p->base.rollback = from->base.rollback ? p->rollback : NULL;
	p->base.lock_message = p->lock_message;
	p->adopt_record = from->adopt_record ? xstrdup(from->adopt_record) : NULL;
	return p;
}

/* The history's start record of a run (src/history.h reads it). */
static char *plan_start_record(const struct fake_plan *p)
{
	json_t *names = json_array(), *rec;
	char *out;

	for (size_t i = 0; i < p->base.steps_len; i++)
		json_array_append_new(names, json_string(p->base.steps[i].name));
	rec = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "id", p->id, "event", "start", "started", (json_int_t)p->started, "operator", p->operator,
	    "action", p->action, "env", p->env, "tag", p->tag, "app_digest", p->app_digest,
	    "migrator_digest", p->migrator_digest, "steps", names);
	if (p->source[0])
		json_object_set_new(rec, "source", json_string(p->source));
	if (p->message[0])
		json_object_set_new(rec, "message", json_string(p->message));
	if (p->units > 1)
		json_object_set_new(rec, "units", json_integer((json_int_t)p->units));
	if (p->base.rollback_len) {
		json_t *back = json_array();

		for (size_t i = 0; i < p->base.rollback_len; i++)
			json_array_append_new(back, json_string(p->base.rollback[i].name));
		json_object_set_new(rec, "rollback_tag", json_string(p->back_tag));
		json_object_set_new(rec, "rollback_steps", back);
	}
	out = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	return out;
}

/* ---- runs ---- */

static void exec_emit(struct fake_exec *x, struct run_event ev)
{
	ev.ms = now_ms();
	x->events = xrealloc(x->events, (x->events_len + 1) * sizeof *x->events);
	x->events[x->events_len++] = ev;
	for (int i = 0; i < FAKE_FOLLOWERS; i++) {
		struct fake_run *f = x->followers[i];

		if (!f)
			continue;
		f->ops->event(f->arg, &ev);
		if (x->followers[i] == f && f->ops->heard)
			f->ops->heard(f->arg);
	}
}

static void exec_output(struct fake_exec *x, const char *text)
{
	for (int i = 0; i < FAKE_FOLLOWERS; i++)
		if (x->followers[i] && x->followers[i]->ops->output)
			x->followers[i]->ops->output(x->followers[i]->arg, xstrdup(text), strlen(text));
}

static void follower_add(struct fake_exec *x, struct fake_run *f)
{
	for (int i = 0; i < FAKE_FOLLOWERS; i++)
		if (!x->followers[i]) {
			x->followers[i] = f;
			f->exec = x;
			return;
		}
	abort();                        /* more followers than a test needs */
}

static void exec_tick(struct loop *loop, void *arg);

static void exec_schedule(struct fake_exec *x)
{
	x->timer = loop_timer_add(x->ft->loop, 0, exec_tick, x);
}

/* The run is over: its end record, the lock released, the follower told. */
static void exec_end(struct fake_exec *x, enum run_result result)
{
	struct fake_unit *u = &x->ft->units[x->j];
	json_t *rec = json_pack("{s:s, s:s, s:I, s:s, s:i, s:b, s:b, s:b, s:O}", "id", x->id,
	    "event", "end", "ended", (json_int_t)(now_ms() / 1000), "result",
	    run_result_name(result), "failed_step", x->failed_step, "migrated", x->migrated,
	    "switched", x->switched, "restored", x->restored, "steps", x->steps_json);
	char *line = json_dumps(rec, JSON_COMPACT);
	struct fake_run *told[FAKE_FOLLOWERS];
	struct run_event ev = { .kind = RUNEVENT_RUN_END, .result = result };

	fake_history_add(x->ft, x->j, line);
	free(line);
	json_decref(rec);
	x->result = result;
	x->ended = true;
	if (!x->leased)
		fake_unlock(x->ft, x->j);       /* a lease stays until gantry lets it go */
	u->exec = NULL;
	/* kept for a follow after the end */
	x->next_done = u->ended;
	u->ended = x;
	copy(ev.word, sizeof ev.word, run_result_name(result));
	exec_emit(x, ev);
	memcpy(told, x->followers, sizeof told);
	memset(x->followers, 0, sizeof x->followers);
	for (int i = 0; i < FAKE_FOLLOWERS; i++) {
		struct fake_run *f = told[i];

		if (!f)
			continue;
		f->exec = NULL;
		f->ops->ended(f->arg);          /* the handle may be freed in there */
	}
}

/* deploy.env as it was before the run: put back (a failure or a cancel before the switch). */
static void exec_restore(struct fake_exec *x)
{
	struct fake_unit *u = &x->ft->units[x->j];

	if (!x->prev_saved)
		return;
	copy(u->app_image, sizeof u->app_image, x->prev_app);
	copy(u->migrator_image, sizeof u->migrator_image, x->prev_migrator);
	x->restored = true;
}

/* One step of the run (or of its automatic rollback), then the next from the loop. */
static void exec_tick(struct loop *loop, void *arg)
{
	struct fake_exec *x = arg;
	struct fake_unit *u = &x->ft->units[x->j];
	const struct fake_step *list = x->in_rollback ? x->back : x->steps;
	size_t n = x->in_rollback ? x->back_len : x->steps_len;
	const struct fake_step *s;
	int status = 0;
	char line[200];

	(void)loop;
	x->timer = 0;
	if (x->at == n) {
		exec_end(x, x->in_rollback ? RUN_ROLLED_BACK : RUN_SUCCEEDED);
		return;
	}
	s = &list[x->at];
	if (!x->in_rollback && !x->paused_once && ((u->pause_at[0] && strcmp(s->name, u->pause_at) == 0) ||
	    (int)x->at + 1 == u->pause_nth)) {
		x->paused = x->paused_once = true;
		return;
	}
	if (!x->in_rollback && x->cancel_asked && !x->switched) {
		exec_emit(x, (struct run_event){ .kind = RUNEVENT_CANCEL, .word = "accepted" });
		exec_restore(x);
		exec_end(x, RUN_CANCELLED);
		return;
	}
	exec_emit(x, (struct run_event){ .kind = RUNEVENT_STEP_START, .rollback = x->in_rollback,
	    .step = (int)x->at + 1 });
	if (s->switch_point)
		x->switched = true;
	if (s->app[0]) {
		if (!x->prev_saved) {
			copy(x->prev_app, sizeof x->prev_app, u->app_image);
			copy(x->prev_migrator, sizeof x->prev_migrator, u->migrator_image);
			x->prev_saved = true;
		}
		copy(u->app_image, sizeof u->app_image, s->app);
		copy(u->migrator_image, sizeof u->migrator_image, s->migrator);
	}
	snprintf(line, sizeof line, "fake %s: %s", u->name, s->name);
	exec_output(x, line);
	if (strcmp(s->name, x->in_rollback ? u->fail_rollback_step : u->fail_step) == 0)
		status = u->fail_exit ? u->fail_exit : 1;
	if (s->switch_point && status == 0 && x->ft->switched)
		x->ft->switched(x->ft->switched_arg, x->ft, x->j, u->app_image);
	exec_emit(x, (struct run_event){ .kind = RUNEVENT_STEP_END, .rollback = x->in_rollback,
	    .step = (int)x->at + 1, .status = status, .took_ms = 1 });
	json_array_append_new(x->steps_json, json_pack("{s:s, s:s, s:i, s:i}", "phase",
	    x->in_rollback ? "rollback" : "step", "name", s->name, "exit", status, "ms", 1));
	if (status != 0) {
		if (x->in_rollback) {
			exec_end(x, RUN_ROLLBACK_FAILED);
		} else if (!x->switched) {
			x->failed_step = (int)x->at + 1;
			exec_restore(x);
			exec_end(x, RUN_FAILED);
		} else if (x->back_len) {
			x->failed_step = (int)x->at + 1;
			x->in_rollback = true;
			x->at = 0;
			exec_emit(x, (struct run_event){ .kind = RUNEVENT_ROLLBACK_START });
			exec_schedule(x);
		} else {
			x->failed_step = (int)x->at + 1;
			exec_end(x, RUN_FAILED);
		}
		return;
	}
	if (s->migration)
		x->migrated = true;
	x->at++;
	exec_schedule(x);
}

static struct fake_step *steps_copy(const struct release_step *from, size_t n,
    const char *app, const char *migrator)
{
	struct fake_step *to = xcalloc(n + 1, sizeof *to);

	for (size_t i = 0; i < n; i++) {
		copy(to[i].name, sizeof to[i].name, from[i].name);
		to[i].switch_point = from[i].switch_point;
		to[i].migration = from[i].migration;
		if (strcmp(from[i].name, FAKE_STEP_WRITE) == 0) {
			copy(to[i].app, sizeof to[i].app, app);
			copy(to[i].migrator, sizeof to[i].migrator, migrator);
		}
	}
	return to;
}

static void run_follow(struct loop *loop, void *arg);

/* The start: refused (locked, frozen, down), or the run begins on the unit. */
static void run_begin(struct loop *loop, void *arg)
{
	struct fake_run *f = arg;
	struct fake_unit *u = &f->ft->units[f->j];
	const struct fake_plan *spec = f->plan;
	struct unit_run_not_started ns = { 0 };
	struct fake_exec *x;
	char *rec;
	bool leased = spec->lease[0] && u->locked && strcmp(u->lock_run, spec->lease) == 0;

	(void)loop;
	f->timer = 0;
	if (leased && !u->down) {
		/* under its lease; once per run: a second start follows the first */
		x = u->exec && strcmp(u->exec->id, spec->id) == 0 ? u->exec : NULL;
		for (struct fake_exec *e = u->ended; !x && e; e = e->next_done)
			if (strcmp(e->id, spec->id) == 0)
				x = e;
		if (x) {
			f->ops->started(f->arg);
			copy(f->id, sizeof f->id, spec->id);
			run_follow(loop, f);
			return;
		}
	} else if (u->down || u->locked || spec->lease[0] || u->frozen) {
		/* a run under a lease it does not hold is refused as locked */
		bool locked = u->locked || spec->lease[0];

		ns.why = u->down ? UNIT_RUN_FAILED : locked ? UNIT_RUN_LOCKED : UNIT_RUN_FROZEN;
		ns.status = u->down ? 255 : locked ? UNIT_EXIT_LOCKED : UNIT_EXIT_FROZEN;
		copy(ns.text, sizeof ns.text, u->down ? "connection refused" : u->frozen ? "frozen" : "");
		ns.lock.held = u->locked;
		copy(ns.lock.owner, sizeof ns.lock.owner, u->lock_owner);
		copy(ns.lock.run, sizeof ns.lock.run, u->lock_run);
		f->ops->not_started(f->arg, &ns);
		return;
	}
	x = xcalloc(1, sizeof *x);
	x->ft = f->ft;
	x->j = f->j;
	copy(x->id, sizeof x->id, spec->id);
	x->steps = steps_copy(spec->base.steps, spec->base.steps_len, spec->app, spec->migrator);
	x->steps_len = spec->base.steps_len;
	x->back = steps_copy(spec->base.rollback, spec->base.rollback_len, spec->back_app,
	    spec->back_migrator);
	x->back_len = spec->base.rollback_len;
	x->steps_json = json_array();
	follower_add(x, f);
	x->leased = spec->lease[0] != '\0';
	u->exec = x;
	u->runs++;
	if (!x->leased)
		fake_lock(f->ft, f->j, spec->id, spec->operator);
	copy(u->current, sizeof u->current, spec->id);
	if (spec->adopt_record)
		fake_history_add(f->ft, f->j, spec->adopt_record);
	rec = plan_start_record(spec);
	fake_history_add(f->ft, f->j, rec);
	free(rec);
	f->ops->started(f->arg);
	exec_emit(x, (struct run_event){ .kind = RUNEVENT_RUN_START });
	exec_schedule(x);
}

/* A follow: the run's events from its start, then what comes. */
static void run_follow(struct loop *loop, void *arg)
{
	struct fake_run *f = arg;
	struct fake_unit *u = &f->ft->units[f->j];
	struct fake_exec *x = u->exec && strcmp(u->exec->id, f->id) == 0 ? u->exec : NULL;

	(void)loop;
	f->timer = 0;
	for (struct fake_exec *d = u->ended; !x && d; d = d->next_done)
		if (strcmp(d->id, f->id) == 0)
			x = d;
	if (!x || u->down) {
		f->ops->follow_failed(f->arg, u->down ? 255 : 1);
		return;
	}
	if (f->ops->replay)
		f->ops->replay(f->arg);
	for (size_t i = 0; i < x->events_len; i++)
		f->ops->event(f->arg, &x->events[i]);
	if (f->ops->heard)
		f->ops->heard(f->arg);
	if (x->ended) {
		f->ops->ended(f->arg);
		return;
	}
	follower_add(x, f);
}

static bool run_cancel(struct unit_run *r)
{
	struct fake_run *f = (struct fake_run *)r;
	struct fake_exec *x = f->exec;

	if (!x || x->cancel_asked)
		return false;
	x->cancel_asked = true;
	if (x->switched) {
		exec_emit(x, (struct run_event){ .kind = RUNEVENT_CANCEL, .word = "refused" });
	} else if (x->paused) {
		x->paused = false;
		exec_schedule(x);
	}
	return true;
}

static void run_free(struct unit_run *r)
{
	struct fake_run *f = (struct fake_run *)r;

	if (f->timer)
		loop_timer_cancel(f->ft->loop, f->timer);
	for (int i = 0; f->exec && i < FAKE_FOLLOWERS; i++)
		if (f->exec->followers[i] == f)
			f->exec->followers[i] = NULL;   /* the run goes on on its unit */
	fake_plan_free(f->plan ? &f->plan->base : NULL);
	free(f);
}

static const struct unit_run_class fake_run_class = { .cancel = run_cancel, .free = run_free };

static struct fake_run *run_new(const struct target *t, size_t j, const struct unit_run_ops *ops,
    void *arg)
{
	struct fake_run *f = xcalloc(1, sizeof *f);

	f->base.cls = &fake_run_class;
	f->ft = (struct fake_target *)t;
	f->j = j;
	f->ops = ops;
	f->arg = arg;
	return f;
}

static struct unit_run *fake_start(const struct target *t, size_t j,
    const struct release_plan *plan, const struct unit_run_ops *ops, void *arg)
{
	struct fake_run *f = run_new(t, j, ops, arg);

	f->plan = plan_copy((const struct fake_plan *)plan);
	f->timer = loop_timer_add(f->ft->loop, 0, run_begin, f);
	return &f->base;
}

static struct unit_run *fake_follow(const struct target *t, size_t j, const char *id,
    const struct unit_run_ops *ops, void *arg)
{
	struct fake_run *f = run_new(t, j, ops, arg);

	copy(f->id, sizeof f->id, id);
	f->timer = loop_timer_add(f->ft->loop, 0, run_follow, f);
	return &f->base;
}

/* ---- one-shot commands ---- */

static void cmd_stop(struct unit_cmd *c)
{
	struct fake_cmd *fc = (struct fake_cmd *)c;

	if (fc->timer)
		loop_timer_cancel(fc->ft->loop, fc->timer);
	free(fc->record);
	free(fc->image);
	free(fc);
}

static const struct unit_cmd_class fake_cmd_class = { .stop = cmd_stop };

/* What the unit's state read says, typed as the compose target's parser would. */
static void state_of(struct fake_target *ft, size_t j, bool watch, struct host_state *st)
{
	const struct fake_unit *u = &ft->units[j];

	memset(st, 0, sizeof *st);
	st->host_now = now_ms() / 1000;
	st->lock.held = u->locked;
	copy(st->lock.owner, sizeof st->lock.owner, u->lock_owner);
	copy(st->lock.run, sizeof st->lock.run, u->lock_run);
	st->lock.runner_known = st->lock.runner_alive = u->exec != NULL;
	st->lock.since = u->locked ? st->host_now : 0;
	if (u->locked && u->lease_plan) {
		st->lock.leased = true;
		if (!lease_parse(u->lease_plan, strlen(u->lease_plan), &st->lock.lease,
		    st->lock.lease_error, sizeof st->lock.lease_error))
			copy(st->lock.lease_error, sizeof st->lock.lease_error, "unreadable");
	}
	if (u->locked && u->lease_plan) {
		st->driver = u->driver;
		st->request = u->request;
	}
	st->frozen = u->frozen;
	copy(st->current, sizeof st->current, u->current);
	if (u->app_image[0]) {
		st->has_deploy_env = true;
		copy(st->deploy_env.app_image, sizeof st->deploy_env.app_image, u->app_image);
		copy(st->deploy_env.migrator_image, sizeof st->deploy_env.migrator_image,
		    u->migrator_image);
		st->deploy_env_read = true;
	} else {
		copy(st->deploy_env_error, sizeof st->deploy_env_error, "no configuration on the unit");
	}
	if (!watch && u->history)
		history_parse(u->history, strlen(u->history), &st->history);
}

/* A driver's beat, as the runner's drive subcommand answers it. */
static void drive_fire(struct fake_cmd *fc, struct fake_unit *u)
{
	int64_t now = now_ms() / 1000;

	if (u->down) {
		fc->drive_done(fc->arg, DRIVE_FAILED, NULL, NULL, "connection refused");
		return;
	}
	if (!u->locked || !u->lease_plan || strcmp(u->lock_run, fc->id) != 0) {
		fc->drive_done(fc->arg, DRIVE_GONE, NULL, NULL, "the lock is not the run's lease");
		return;
	}
	if (drive_live(&u->driver, now) && strcmp(u->driver.token, fc->rec.token) != 0) {
		struct drive_record other = u->driver;

		fc->drive_done(fc->arg, DRIVE_TAKEN, &other, NULL, NULL);
		return;
	}
	if (fc->rec.state == DRIVE_LEFT) {
		if (strcmp(u->driver.token, fc->rec.token) == 0)
			memset(&u->driver, 0, sizeof u->driver);
	} else {
		u->driver = fc->rec;
		u->driver.present = true;
		u->driver.beat = now;
	}
	if (fc->ack[0] && u->request.present && strcmp(u->request.id, fc->ack) == 0)
		memset(&u->request, 0, sizeof u->request);
	if (u->request.present) {
		struct drive_request req = u->request;

		fc->drive_done(fc->arg, DRIVE_HELD, NULL, &req, NULL);
	} else {
		fc->drive_done(fc->arg, DRIVE_HELD, NULL, NULL, NULL);
	}
}

static void cmd_fire(struct loop *loop, void *arg)
{
	struct fake_cmd *fc = arg;
	struct fake_unit *u = &fc->ft->units[fc->j];
	struct host_state st;
	int status = 0;

	(void)loop;
	fc->timer = 0;
	if (fc->kind == CMD_STATE) {
		if (u->down) {
			fc->state_done(fc->arg, NULL, "connection refused");
		} else {
			state_of(fc->ft, fc->j, fc->watch, &st);
			fc->state_done(fc->arg, &st, NULL);
			hoststate_free(&st);
		}
		cmd_stop(&fc->base);
		return;
	}
	if (fc->kind == CMD_DRIVE) {
		drive_fire(fc, u);
		cmd_stop(&fc->base);
		return;
	}
	if (u->down) {
		fc->ops->done(fc->arg, UNIT_FAILED, -1, "connection refused");
		cmd_stop(&fc->base);
		return;
	}
	switch (fc->kind) {
	case CMD_ADOPT:
		fake_history_add(fc->ft, fc->j, fc->record);
		break;
	case CMD_HAS_IMAGE:
		status = u->has_images ? 0 : 1;
		break;
	case CMD_ADMIN:
		if (fc->admin == ADMIN_FREEZE)
			u->frozen = true;
		else if (fc->admin == ADMIN_UNFREEZE)
			u->frozen = false;
		else if (u->exec)
			status = UNIT_EXIT_ALIVE;
		else
			fake_unlock(fc->ft, fc->j);
		break;
	case CMD_LEASE:
		if (u->locked && u->lease_plan && strcmp(u->lock_run, fc->id) == 0) {
			status = 0;             /* already this run's */
		} else if (u->locked) {
			char *text = xasprintf("LOCKED\nowner=%s\nrun=%s\n", u->lock_owner, u->lock_run);

			fc->ops->output(fc->arg, text, strlen(text), false);
			free(text);
			status = UNIT_EXIT_LOCKED;
		} else if (u->frozen && strcmp(fc->action, "rollback") != 0) {
			status = UNIT_EXIT_FROZEN;
		} else {
			fake_lock(fc->ft, fc->j, fc->id, fc->operator);
			u->lease_plan = xstrdup(fc->record);
		}
		break;
	case CMD_ASK:
		if (!u->locked || !u->lease_plan || strcmp(u->lock_run, fc->id) != 0) {
			status = UNIT_EXIT_NOT_NEEDED;
		} else {
			u->request = fc->req;
			u->request.present = true;
			u->request.at = now_ms() / 1000;
		}
		break;
	case CMD_RELEASE:
		if (!u->locked || strcmp(u->lock_run, fc->id) != 0)
			status = UNIT_EXIT_NOT_NEEDED;
		else if (u->exec)
			status = UNIT_EXIT_ALIVE;
		else
			fake_unlock(fc->ft, fc->j);
		break;
	}
	fc->ops->done(fc->arg, UNIT_EXITED, status, NULL);
	cmd_stop(&fc->base);
}

static struct fake_cmd *cmd_new(const struct target *t, size_t j, int kind,
    const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = xcalloc(1, sizeof *fc);

	fc->base.cls = &fake_cmd_class;
	fc->ft = (struct fake_target *)t;
	fc->j = j;
	fc->kind = kind;
	fc->ops = ops;
	fc->arg = arg;
	fc->timer = loop_timer_add(fc->ft->loop, 0, cmd_fire, fc);
	return fc;
}

static size_t fake_units(const struct target *t)
{
	return ((const struct fake_target *)t)->units_len;
}

static const char *fake_unit_name(const struct target *t, size_t j)
{
	return ((const struct fake_target *)t)->units[j].name;
}

static struct unit_cmd *fake_state(const struct target *t, size_t j, bool watch,
    unit_state_fn done, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_STATE, NULL, arg);

	fc->watch = watch;
	fc->state_done = done;
	return &fc->base;
}

static struct unit_cmd *fake_admin(const struct target *t, size_t j, enum unit_admin kind,
    const char *operator, const char *message, int64_t at, const struct unit_cmd_ops *ops,
    void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_ADMIN, ops, arg);

	(void)operator;
	(void)message;
	(void)at;
	fc->admin = kind;
	return &fc->base;
}

static struct unit_cmd *fake_adopt(const struct target *t, size_t j, const struct adopt_spec *a,
    const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_ADOPT, ops, arg);

	fc->record = history_adopt_record(a);
	return &fc->base;
}

static struct unit_cmd *fake_lease(const struct target *t, size_t j,
    const struct lease_take *take, const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_LEASE, ops, arg);

	copy(fc->id, sizeof fc->id, take->id);
	copy(fc->action, sizeof fc->action, take->action);
	copy(fc->operator, sizeof fc->operator, take->operator);
	fc->record = xstrdup(take->record);
	return &fc->base;
}

static struct unit_cmd *fake_release(const struct target *t, size_t j, const char *id,
    const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_RELEASE, ops, arg);

	copy(fc->id, sizeof fc->id, id);
	return &fc->base;
}

static struct unit_cmd *fake_drive(const struct target *t, size_t j, const char *run,
    const struct drive_record *rec, const char *ack, unit_drive_fn done, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_DRIVE, NULL, arg);

	copy(fc->id, sizeof fc->id, run);
	fc->rec = *rec;
	copy(fc->ack, sizeof fc->ack, ack);
	fc->drive_done = done;
	return &fc->base;
}

static struct unit_cmd *fake_ask(const struct target *t, size_t j, const char *run,
    const struct drive_request *req, const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_ASK, ops, arg);

	copy(fc->id, sizeof fc->id, run);
	fc->req = *req;
	return &fc->base;
}

static struct unit_cmd *fake_has_image(const struct target *t, size_t j, const char *image,
    const struct unit_cmd_ops *ops, void *arg)
{
	struct fake_cmd *fc = cmd_new(t, j, CMD_HAS_IMAGE, ops, arg);

	fc->image = xstrdup(image);
	return &fc->base;
}

/* no logs, no app address of its own, no services list: the engine does without */
static struct unit_cmd *fake_log(const struct target *t, size_t j, enum log_source source,
    bool follow, long long tail, const struct unit_cmd_ops *ops, void *arg)
{
	(void)t, (void)j, (void)source, (void)follow, (void)tail, (void)ops, (void)arg;
	return NULL;
}

static struct unit_cmd *fake_get(const struct target *t, size_t j, const char *path, size_t max,
    const struct unit_cmd_ops *ops, void *arg)
{
	(void)t, (void)j, (void)path, (void)max, (void)ops, (void)arg;
	return NULL;
}

static struct unit_cmd *fake_running_cmd(const struct target *t, size_t j, unit_running_fn done,
    void *arg)
{
	(void)t, (void)j, (void)done, (void)arg;
	return NULL;
}

static void fake_link(const struct target *t, size_t j, int64_t now, struct link_status *out)
{
	const struct fake_unit *u = &((const struct fake_target *)t)->units[j];

	(void)now;
	*out = (struct link_status){ .state = u->down ? LINK_UNREACHABLE : LINK_UP,
	    .message = u->down ? "connection refused" : "", .retry_in = -1, .name = u->name };
}

static void fake_relink(const struct target *t, size_t j)
{
	(void)t, (void)j;
}

static const struct target_ops fake_target_ops = {
	.units = fake_units,
	.unit_name = fake_unit_name,
	.state = fake_state,
	.plan = fake_plan,
	.plan_free = fake_plan_free,
	.start = fake_start,
	.follow = fake_follow,
	.admin = fake_admin,
	.adopt = fake_adopt,
	.lease = fake_lease,
	.release = fake_release,
	.drive = fake_drive,
	.ask = fake_ask,
	.log = fake_log,
	.has_image = fake_has_image,
	.get = fake_get,
	.running = fake_running_cmd,
	.link = fake_link,
	.relink = fake_relink,
};

/* ---- the target ---- */

struct fake_target *fake_target_new(struct loop *loop, const struct conf *conf,
    const struct conf_env *env)
{
	struct fake_target *ft = xcalloc(1, sizeof *ft);

	static const struct target_words words = {
		.config = "fake.env", .unit = "unit", .units = "units",
	};

	ft->base = (struct target){
		.ops = &fake_target_ops, .words = &words, .conf = conf, .env = env, .loop = loop,
	};
	ft->loop = loop;
	ft->units_len = env->hosts_len;
	ft->units = xcalloc(env->hosts_len + 1, sizeof *ft->units);
	for (size_t j = 0; j < env->hosts_len; j++)
		copy(ft->units[j].name, sizeof ft->units[j].name, env->hosts[j].address);
	return ft;
}

void fake_lock(struct fake_target *ft, size_t j, const char *run, const char *owner)
{
	struct fake_unit *u = &ft->units[j];

	u->locked = true;
	copy(u->lock_run, sizeof u->lock_run, run);
	copy(u->lock_owner, sizeof u->lock_owner, owner);
}

void fake_unlock(struct fake_target *ft, size_t j)
{
	struct fake_unit *u = &ft->units[j];

	u->locked = false;
	u->lock_owner[0] = u->lock_run[0] = '\0';
	free(u->lease_plan);
	u->lease_plan = NULL;
	memset(&u->driver, 0, sizeof u->driver);       /* they live in the lock */
	memset(&u->request, 0, sizeof u->request);
}

void fake_resume(struct fake_target *ft, size_t j)
{
	struct fake_exec *x = ft->units[j].exec;

	if (x && x->paused) {
		x->paused = false;
		exec_schedule(x);
	}
}

bool fake_paused(const struct fake_target *ft, size_t j)
{
	return ft->units[j].exec && ft->units[j].exec->paused;
}

bool fake_running(const struct fake_target *ft, size_t j)
{
	return ft->units[j].exec != NULL;
}

static void exec_free(struct fake_exec *x)
{
	if (x->timer)
		loop_timer_cancel(x->ft->loop, x->timer);
	for (int i = 0; i < FAKE_FOLLOWERS; i++)
		if (x->followers[i])
			x->followers[i]->exec = NULL;
	free(x->steps);
	free(x->back);
	free(x->events);
	json_decref(x->steps_json);
	free(x);
}

void fake_target_free(struct fake_target *ft)
{
	if (!ft)
		return;
	for (size_t j = 0; j < ft->units_len; j++) {
		if (ft->units[j].exec)
			exec_free(ft->units[j].exec);
		while (ft->units[j].ended) {
			struct fake_exec *x = ft->units[j].ended;

			ft->units[j].ended = x->next_done;
			exec_free(x);
		}
		free(ft->units[j].history);
		free(ft->units[j].lease_plan);
	}
	free(ft->units);
	free(ft);
}
