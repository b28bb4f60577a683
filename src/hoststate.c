/* The host's deploy state and history, read from one command's output. */
#include "config.h"

#include "hostreply.h"
#include "hoststate.h"
#include "runevent.h"
#include "sanitize.h"
#include "value.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of a reply, in the order the commands print them. */
enum {
	PART_NOW, PART_LOCK, PART_LOCK_OWNER, PART_FREEZE, PART_FREEZE_FILE, PART_CURRENT,
	PART_ENV_STATUS, PART_ENV, PART_ENV_MTIME, PART_RUN_START, PART_RUN_EVENTS, PART_HISTORY_SIZE,
	PART_HISTORY, PART_END,
	PARTS
};

static const struct hostreply_part reply_parts[PARTS] = {
	[PART_NOW] = { .name = "now", .hex = false },
	[PART_LOCK] = { .name = "lock", .hex = false },
	[PART_LOCK_OWNER] = { .name = "lock-owner", .hex = true },
	[PART_FREEZE] = { .name = "freeze", .hex = false },
	[PART_FREEZE_FILE] = { .name = "freeze-file", .hex = true },
	[PART_CURRENT] = { .name = "current", .hex = true },
	[PART_ENV_STATUS] = { .name = "deploy.env-status", .hex = false },
	[PART_ENV] = { .name = "deploy.env", .hex = true },
	[PART_ENV_MTIME] = { .name = "deploy.env-mtime", .hex = false },
	[PART_RUN_START] = { .name = "run-start", .hex = true },
	[PART_RUN_EVENTS] = { .name = "run-events", .hex = true },
	[PART_HISTORY_SIZE] = { .name = "history-size", .hex = false },
	[PART_HISTORY] = { .name = "history", .hex = true },
	[PART_END] = { .name = "end", .hex = false },
};

static void copy_clean(char *dst, size_t dstsz, const char *src, size_t len)
{
	sanitize_text(src, len, dst, dstsz, 0);
}

static void json_str(json_t *obj, const char *key, char *dst, size_t dstsz)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		copy_clean(dst, dstsz, json_string_value(v), json_string_length(v));
}

/* A number from a host's file, bounded: times, durations and counts never overflow the
 * arithmetic that shows them (ages, durations). Outside [lo, hi] it reads as lo. */
static int64_t bounded(long long v, long long lo, long long hi)
{
	return v < lo || v > hi ? lo : (int64_t)v;
}

static int64_t json_num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? bounded(json_integer_value(v), 0, HOSTSTATE_MAX_NUMBER) : 0;
}

static struct history_run *find_run(struct history *h, const char *id)
{
	for (size_t i = h->len; i-- > 0;)
		if (!h->runs[i].note && strcmp(h->runs[i].id, id) == 0)
			return &h->runs[i];
	return NULL;
}

bool history_has_runs(const struct history *h)
{
	for (size_t i = 0; i < h->len; i++)
		if (!h->runs[i].note)
			return true;
	return false;
}

const struct history_run *history_find(const struct history *h, const char *id)
{
	if (!id)
		return NULL;
	return find_run((struct history *)h, id);
}

static void read_end(struct history_run *run, json_t *rec)
{
	json_t *steps = json_object_get(rec, "steps");
	size_t n = json_is_array(steps) ? json_array_size(steps) : 0;

	json_str(rec, "result", run->result, sizeof run->result);
	if (!run->result[0])
		snprintf(run->result, sizeof run->result, "unknown");
	run->ended = json_num(rec, "ended");
	run->failed_step = (int)bounded(json_num(rec, "failed_step"), 0, HISTORY_MAX_STEPS);
	run->migrated = json_is_true(json_object_get(rec, "migrated"));
	run->switch_known = json_is_boolean(json_object_get(rec, "switched"));
	run->switched = json_is_true(json_object_get(rec, "switched"));
	run->restored = json_is_true(json_object_get(rec, "restored"));
	if (n > HISTORY_MAX_STEPS)
		n = HISTORY_MAX_STEPS;
	free(run->steps);
	run->steps = n ? xcalloc(n, sizeof *run->steps) : NULL;
	run->steps_len = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(steps, i);
		struct history_step *st = &run->steps[run->steps_len];

		if (!json_is_object(s))
			continue;
		json_str(s, "phase", st->phase, sizeof st->phase);
		json_str(s, "name", st->name, sizeof st->name);
		st->exit = (int)bounded(json_integer_value(json_object_get(s, "exit")), -1, 255);
		st->ms = json_num(s, "ms");
		run->steps_len++;
	}
}

/* A list of step names, at most HISTORY_MAX_STEPS. */
static size_t read_names(json_t *names, char (**out)[80])
{
	size_t n = json_is_array(names) ? json_array_size(names) : 0;

	if (n > HISTORY_MAX_STEPS)
		n = HISTORY_MAX_STEPS;
	free(*out);
	*out = n ? xcalloc(n, sizeof **out) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(names, i);

		if (json_is_string(v))
			copy_clean((*out)[i], sizeof (*out)[i], json_string_value(v), json_string_length(v));
	}
	return n;
}

static struct history_run *add_run(struct history *h, size_t *cap)
{
	if (h->len == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		h->runs = xrealloc(h->runs, *cap * sizeof *h->runs);
	}
	memset(&h->runs[h->len], 0, sizeof h->runs[h->len]);
	return &h->runs[h->len++];
}

/* One line; false when it is not a record. */
static bool read_line(struct history *h, size_t *cap, const char *line, size_t len)
{
	json_error_t err;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	const char *event;
	struct history_run *run;
	char id[72] = "";

	if (!json_is_object(rec)) {
		json_decref(rec);
		return false;
	}
	event = json_string_value(json_object_get(rec, "event"));
	json_str(rec, "id", id, sizeof id);
	if (!event || !id[0]) {
		json_decref(rec);
		return false;
	}
	if (strcmp(event, "start") == 0) {
		json_t *names = json_object_get(rec, "steps");

		run = add_run(h, cap);
		snprintf(run->id, sizeof run->id, "%s", id);
		json_str(rec, "action", run->action, sizeof run->action);
		json_str(rec, "env", run->env, sizeof run->env);
		json_str(rec, "source", run->source, sizeof run->source);
		json_str(rec, "tag", run->tag, sizeof run->tag);
		json_str(rec, "app_digest", run->app_digest, sizeof run->app_digest);
		json_str(rec, "migrator_digest", run->migrator_digest, sizeof run->migrator_digest);
		json_str(rec, "operator", run->operator, sizeof run->operator);
		json_str(rec, "rollback_tag", run->rollback_tag, sizeof run->rollback_tag);
		run->started = json_num(rec, "started");
		run->planned = read_names(names, &run->step_names);
		run->rollback_planned = read_names(json_object_get(rec, "rollback_steps"),
		    &run->rollback_names);
	} else if (strcmp(event, "end") == 0) {
		run = find_run(h, id);
		if (!run) {             /* its start fell before the part read */
			run = add_run(h, cap);
			snprintf(run->id, sizeof run->id, "%s", id);
			snprintf(run->action, sizeof run->action, "?");
		}
		read_end(run, rec);
	} else if (strcmp(event, "adopt") == 0) {
		/* a baseline: what ran before gantry, checked ready when it was recorded */
		run = add_run(h, cap);
		snprintf(run->id, sizeof run->id, "%s", id);
		snprintf(run->action, sizeof run->action, "adopt");
		snprintf(run->result, sizeof run->result, "adopted");
		json_str(rec, "env", run->env, sizeof run->env);
		json_str(rec, "tag", run->tag, sizeof run->tag);
		json_str(rec, "app_digest", run->app_digest, sizeof run->app_digest);
		json_str(rec, "migrator_digest", run->migrator_digest, sizeof run->migrator_digest);
		json_str(rec, "operator", run->operator, sizeof run->operator);
		json_str(rec, "message", run->message, sizeof run->message);
		run->started = run->ended = json_num(rec, "at");
		run->switch_known = run->switched = true;
	} else if (strcmp(event, "note") == 0) {
		run = add_run(h, cap);
		run->note = true;
		snprintf(run->id, sizeof run->id, "%s", id);
		json_str(rec, "kind", run->action, sizeof run->action);
		json_str(rec, "operator", run->operator, sizeof run->operator);
		json_str(rec, "message", run->message, sizeof run->message);
		json_str(rec, "env", run->env, sizeof run->env);
		run->started = json_num(rec, "at");
	} else {
		json_decref(rec);
		return false;
	}
	json_decref(rec);
	/* a value that will reach a command or a decision must have its syntax, or the run is
	 * corrupt: listed as such, never a rollback target, never followed */
	if (!run->note && (!value_run_id(run->id) || (run->tag[0] && !value_tag(run->tag)) ||
	    (run->app_digest[0] && !value_digest(run->app_digest)) ||
	    (run->migrator_digest[0] && !value_digest(run->migrator_digest))))
		run->corrupt = true;
	return true;
}

/* A line may hold several records: a record appended after one that lost its newline
 * (a host that crashed mid-write) is read on its own, not swallowed. False when part of
 * the line is not a record (the records before it are kept). */
static bool read_records(struct history *h, size_t *cap, const char *line, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		json_error_t err;
		json_t *one;
		size_t used;

		while (pos < len && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r'))
			pos++;
		if (pos == len)
			break;
		one = json_loadb(line + pos, len - pos, JSON_DISABLE_EOF_CHECK, &err);
		if (!one)
			return false;
		used = (size_t)err.position;
		json_decref(one);
		if (used == 0 || !read_line(h, cap, line + pos, used))
			return false;
		pos += used;
	}
	return true;
}

void history_parse(const char *buf, size_t len, struct history *out)
{
	size_t cap = 0, pos = 0;

	memset(out, 0, sizeof *out);
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (end > pos && !read_records(out, &cap, buf + pos, end - pos))
			out->bad_lines++;
		pos = end + 1;
	}
}

void history_free(struct history *h)
{
	for (size_t i = 0; i < h->len; i++) {
		free(h->runs[i].steps);
		free(h->runs[i].step_names);
		free(h->runs[i].rollback_names);
	}
	free(h->runs);
	memset(h, 0, sizeof *h);
}

bool history_run_healthy(const struct history_run *run)
{
	return !run->note && !run->corrupt && (strcmp(run->result, "succeeded") == 0 ||
	    strcmp(run->result, "adopted") == 0);
}

const char *history_run_result(const struct history_run *run, const char *running_id)
{
	if (run->note)
		return run->action;
	if (run->corrupt)
		return "corrupt";
	if (run->result[0])
		return run->result;
	return running_id && strcmp(running_id, run->id) == 0 ? "running" : "interrupted";
}

/* key=value from one line of a lock or freeze file */
static void read_kv(const char *line, size_t len, char *key, size_t keysz, char *val, size_t valsz)
{
	const char *eq = memchr(line, '=', len);

	key[0] = val[0] = '\0';
	if (!eq)
		return;
	copy_clean(key, keysz, line, (size_t)(eq - line));
	copy_clean(val, valsz, eq + 1, len - (size_t)(eq - line) - 1);
}

static int64_t to_int(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return end != s && *end == '\0' ? bounded(v, 0, HOSTSTATE_MAX_NUMBER) : 0;
}

/* A number gantry's command printed (a clock, a size): the part's first line. */
static int64_t part_int(const struct hostreply_part *p)
{
	char val[32];

	if (!p->data)
		return -1;
	copy_clean(val, sizeof val, p->data, strcspn(p->data, "\n"));
	return val[0] ? to_int(val) : -1;
}

/* Calls fn for each key=value line of a file's text. */
static void each_kv(const char *text, size_t len, void (*fn)(void *, const char *, const char *),
    void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		char key[32], val[200];

		read_kv(text + pos, n, key, sizeof key, val, sizeof val);
		if (key[0])
			fn(arg, key, val);
		pos += n + 1;
	}
}

static void owner_kv(void *arg, const char *key, const char *val)
{
	struct host_lock *lock = arg;

	if (strcmp(key, "owner") == 0)
		copy_clean(lock->owner, sizeof lock->owner, val, strlen(val));
	else if (strcmp(key, "message") == 0)
		copy_clean(lock->message, sizeof lock->message, val, strlen(val));
	else if (strcmp(key, "run") == 0 && value_run_id(val))
		copy_clean(lock->run, sizeof lock->run, val, strlen(val));
	else if (strcmp(key, "since") == 0)
		lock->since = to_int(val);
}

void hoststate_read_owner(const char *text, size_t len, struct host_lock *lock)
{
	each_kv(text, len, owner_kv, lock);
}

static void freeze_kv(void *arg, const char *key, const char *val)
{
	struct host_state *st = arg;

	if (strcmp(key, "by") == 0)
		copy_clean(st->freeze_by, sizeof st->freeze_by, val, strlen(val));
	else if (strcmp(key, "reason") == 0)
		copy_clean(st->freeze_reason, sizeof st->freeze_reason, val, strlen(val));
	else if (strcmp(key, "since") == 0)
		st->freeze_since = to_int(val);
}

/* True when a plain part holds this line (a flag gantry's command printed). */
static bool has_line(const struct hostreply_part *p, const char *line)
{
	size_t n = strlen(line);

	for (const char *s = p->data; s && (s = strstr(s, line)); s += n)
		if ((s == p->data || s[-1] == '\n') && (s[n] == '\n' || s[n] == '\0'))
			return true;
	return false;
}

static void read_deploy_env(const struct hostreply_part *parts, struct host_state *out)
{
	const struct hostreply_part *env = &parts[PART_ENV];

	copy_clean(out->deploy_env_status, sizeof out->deploy_env_status, parts[PART_ENV_STATUS].data,
	    strcspn(parts[PART_ENV_STATUS].data, "\n"));
	if (strcmp(out->deploy_env_status, "0") != 0 || !env->present)
		return;
	out->deploy_env_len = env->len;
	out->deploy_env_mtime = part_int(&parts[PART_ENV_MTIME]) < 0 ? 0 : part_int(&parts[PART_ENV_MTIME]);
	if (env->len > DEPLOYENV_MAX_BYTES)
		snprintf(out->deploy_env_error, sizeof out->deploy_env_error,
		    "deploy.env is larger than %d bytes", DEPLOYENV_MAX_BYTES);
	else
		out->has_deploy_env = deployenv_parse(env->data, env->len, &out->deploy_env,
		    out->deploy_env_error, sizeof out->deploy_env_error);
}

static void read_history(const struct hostreply_part *parts, struct host_state *out)
{
	const char *text = parts[PART_HISTORY].data;
	size_t len = parts[PART_HISTORY].len;
	bool cut = false;

	if (!text || !len)
		return;
	/* a history longer than the part read starts mid-line: skip to the first record */
	if (part_int(&parts[PART_HISTORY_SIZE]) > (int64_t)HISTORY_TAIL_BYTES) {
		const char *nl = memchr(text, '\n', len);
		size_t skip = nl ? (size_t)(nl - text) + 1 : len;

		text += skip;
		len -= skip;
		cut = true;
	}
	history_parse(text, len, &out->history);
	out->history.cut = cut;
}

/* Where the lock's run is: its start record names its steps, its last events the step. */
static void read_progress(const struct hostreply_part *parts, struct host_lock *lock)
{
	struct run_progress *pr = &lock->progress;
	struct history h;
	const struct history_run *run;
	const char *text = parts[PART_RUN_EVENTS].data;
	size_t len = parts[PART_RUN_EVENTS].len, pos = 0;

	if (!lock->run[0] || !parts[PART_RUN_START].len)
		return;
	history_parse(parts[PART_RUN_START].data, parts[PART_RUN_START].len, &h);
	run = history_find(&h, lock->run);
	if (run && !run->note && !run->corrupt) {
		pr->known = true;
		pr->steps = (int)run->planned;
	}
	while (pr->known && text && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		struct run_event ev;

		if (runevent_parse(text + pos, n, &ev)) {
			/* the rollback's first events may be all the tail holds */
			if ((ev.kind == RUNEVENT_ROLLBACK_START || (ev.kind == RUNEVENT_STEP_START &&
			    ev.rollback)) && !pr->rollback) {
				pr->rollback = true;
				pr->steps = (int)run->rollback_planned;
				pr->step = 0;
			}
			if (ev.kind == RUNEVENT_STEP_START && ev.rollback == pr->rollback) {
				pr->step = ev.step;
				pr->step_ms = ev.ms;
				pr->step_ended = false;
			} else if (ev.kind == RUNEVENT_STEP_END && ev.step == pr->step) {
				pr->step_ended = true;
			}
		}
		pos += n + 1;
	}
	if (pr->step > 0 && pr->step <= pr->steps) {
		const char (*names)[80] = pr->rollback ? run->rollback_names : run->step_names;

		if (names)
			snprintf(pr->step_name, sizeof pr->step_name, "%s", names[pr->step - 1]);
	}
	history_free(&h);
}

bool hoststate_parse(const char *buf, size_t len, struct host_state *out, char *why, size_t whysz)
{
	struct hostreply_part parts[PARTS];

	memset(out, 0, sizeof *out);
	memcpy(parts, reply_parts, sizeof parts);
	if (!hostreply_parse(buf, len, parts, PARTS, why, whysz))
		return false;
	for (size_t i = 0; i < PART_HISTORY_SIZE; i++)
		if (!parts[i].present) {
			snprintf(why, whysz, "the host's reply is not gantry's: no part %s", parts[i].name);
			hostreply_free(parts, PARTS);
			return false;
		}
	out->host_now = part_int(&parts[PART_NOW]) < 0 ? 0 : part_int(&parts[PART_NOW]);
	if (has_line(&parts[PART_LOCK], "held=1")) {
		out->lock.held = true;
		out->lock.runner_known = has_line(&parts[PART_LOCK], "pid=1");
		out->lock.runner_alive = has_line(&parts[PART_LOCK], "alive=1");
		hoststate_read_owner(parts[PART_LOCK_OWNER].data, parts[PART_LOCK_OWNER].len, &out->lock);
		read_progress(parts, &out->lock);
	}
	if (has_line(&parts[PART_FREEZE], "frozen=1")) {
		out->frozen = true;
		each_kv(parts[PART_FREEZE_FILE].data, parts[PART_FREEZE_FILE].len, freeze_kv, out);
	}
	copy_clean(out->current, sizeof out->current, parts[PART_CURRENT].data,
	    strcspn(parts[PART_CURRENT].data, "\n"));
	if (!value_run_id(out->current))
		out->current[0] = '\0';        /* corrupt: never followed */
	read_deploy_env(parts, out);
	read_history(parts, out);
	hostreply_free(parts, PARTS);
	return true;
}

void hoststate_free(struct host_state *st)
{
	history_free(&st->history);
}

/* How bad a result is: a run's merged result is its hosts' worst. */
static int result_rank(const struct history_run *run)
{
	static const char *const order[] = { "adopted", "succeeded", "cancelled", "rolled_back",
		"failed", "rollback_failed" };

	if (!run->result[0])
		return 7;               /* no end record: running, or cut off */
	for (int i = 0; i < 6; i++)
		if (strcmp(run->result, order[i]) == 0)
			return i;
	return 6;
}

/* The same run as seen by another host (freed after): the worse result wins, with its
 * steps, which change hands so that `other` frees the ones replaced. */
static void merge_run(struct history_run *into, struct history_run *other)
{
	into->hosts += other->hosts;
	into->migrated = into->migrated || other->migrated;
	if (other->ended > into->ended)
		into->ended = other->ended;
	if (result_rank(other) > result_rank(into)) {
		struct history_step *steps = into->steps;
		size_t steps_len = into->steps_len;

		memcpy(into->result, other->result, sizeof into->result);
		into->failed_step = other->failed_step;
		into->switch_known = other->switch_known;
		into->switched = other->switched;
		into->restored = other->restored;
		into->steps = other->steps;
		into->steps_len = other->steps_len;
		other->steps = steps;
		other->steps_len = steps_len;
		into->host_index = other->host_index;
		memcpy(into->host, other->host, sizeof into->host);
	}
}

static struct history_run *find_same(struct history *h, const struct history_run *run)
{
	for (size_t i = h->len; i-- > 0;)
		if (h->runs[i].note == run->note && strcmp(h->runs[i].id, run->id) == 0)
			return &h->runs[i];
	return NULL;
}

static void label_runs(struct history *h, size_t index, const char *name)
{
	for (size_t i = 0; i < h->len; i++) {
		h->runs[i].hosts = 1;
		h->runs[i].host_index = index;
		snprintf(h->runs[i].host, sizeof h->runs[i].host, "%s", name);
	}
}

/* Inserts a run keeping the history ordered by start time (stable: equal times keep
 * their order). */
static void insert_run(struct history *h, size_t *cap, struct history_run *run)
{
	size_t at = h->len;

	if (h->len == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		h->runs = xrealloc(h->runs, *cap * sizeof *h->runs);
	}
	while (at > 0 && h->runs[at - 1].started > run->started)
		at--;
	memmove(&h->runs[at + 1], &h->runs[at], (h->len - at) * sizeof *h->runs);
	h->runs[at] = *run;
	h->len++;
	memset(run, 0, sizeof *run);
}

void hoststate_merge(struct host_state *all, struct host_state *one, size_t index, const char *name)
{
	struct history *h = &all->history;
	size_t cap;

	label_runs(&one->history, index, name);
	if (one->lock.held) {
		one->lock.host_index = index;
		snprintf(one->lock.host, sizeof one->lock.host, "%s", name);
	}
	if (all->hosts++ == 0) {
		size_t hosts = all->hosts;

		*all = *one;
		all->hosts = hosts;
		all->current_host = index;
		memset(one, 0, sizeof *one);
		return;
	}
	if (one->lock.held && (!all->lock.held || (one->lock.runner_alive && !all->lock.runner_alive))) {
		all->lock = one->lock;
		/* a run alive on this host is the one to follow */
		if (one->lock.runner_alive && one->current[0]) {
			memcpy(all->current, one->current, sizeof all->current);
			all->current_host = index;
		}
	}
	if (!all->deploy_env_differs[0] && (one->has_deploy_env != all->has_deploy_env ||
	    (one->has_deploy_env && strcmp(one->deploy_env.app_image, all->deploy_env.app_image) != 0))) {
		snprintf(all->deploy_env_differs, sizeof all->deploy_env_differs, "%s", name);
		memcpy(all->differs_image, one->deploy_env.app_image, sizeof all->differs_image);
	}
	if (one->frozen && !all->frozen) {
		all->frozen = true;
		memcpy(all->freeze_by, one->freeze_by, sizeof all->freeze_by);
		memcpy(all->freeze_reason, one->freeze_reason, sizeof all->freeze_reason);
		all->freeze_since = one->freeze_since;
	}
	cap = h->len;
	for (size_t i = 0; i < one->history.len; i++) {
		struct history_run *run = &one->history.runs[i], *same = find_same(h, run);

		if (same)
			merge_run(same, run);
		else
			insert_run(h, &cap, run);
	}
	h->bad_lines += one->history.bad_lines;
	h->cut = h->cut || one->history.cut;
	hoststate_free(one);
	memset(one, 0, sizeof *one);
}

bool hoststate_lock_stale(const struct host_state *st)
{
	if (!st->lock.held)
		return false;
	if (st->lock.runner_known)
		return !st->lock.runner_alive;
	return st->lock.since > 0 && st->host_now - st->lock.since > HISTORY_STALE_LOCK_S;
}
