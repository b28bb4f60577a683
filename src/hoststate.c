/* The host's deploy state and history, read from one command's output. */
#include "config.h"

#include "hostreply.h"
#include "hoststate.h"
#include "runevent.h"
#include "runner.h"
#include "sanitize.h"
#include "value.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of a reply, in the order the runner prints them (src/runner.h). */
enum {
#define PART_ENUM(name, word, hex) PART_##name,
	RUNNER_STATE_PARTS(PART_ENUM)
#undef PART_ENUM
	PARTS
};

static const struct hostreply_part reply_parts[PARTS] = {
#define PART_ROW(part, word, is_hex) [PART_##part] = { .name = word, .hex = is_hex },
	RUNNER_STATE_PARTS(PART_ROW)
#undef PART_ROW
};

static void copy_clean(char *dst, size_t dstsz, const char *src, size_t len)
{
	sanitize_text(src, len, dst, dstsz, 0);
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

	return end != s && *end == '\0' ? value_bounded(v, 0, HOSTSTATE_MAX_NUMBER) : 0;
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

/* True when a plain part holds the line "FLAG=1" (a flag the runner printed). */
static bool has_flag(const struct hostreply_part *p, const char *flag)
{
	char line[32];
	size_t n = (size_t)snprintf(line, sizeof line, "%s=1", flag);

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

/* The current run's own records: what it was and how it ended. */
static void read_current_run(const struct hostreply_part *parts, struct host_state *out)
{
	struct history h;
	const struct history_run *run;

	if (!out->current[0] || !parts[PART_CURRENT_RUN].len)
		return;
	history_parse(parts[PART_CURRENT_RUN].data, parts[PART_CURRENT_RUN].len, &h);
	run = history_find(&h, out->current);
	if (run && !run->corrupt && strcmp(run->action, "?") != 0) {
		struct run_summary *s = &out->last;

		s->known = true;
		snprintf(s->action, sizeof s->action, "%s", run->action);
		snprintf(s->tag, sizeof s->tag, "%s", run->tag);
		s->result = run->result;
		s->failed_step = run->failed_step;
		s->started = run->started;
		s->ended = run->ended;
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
	if (has_flag(&parts[PART_LOCK], RUNNER_FLAG_HELD)) {
		out->lock.held = true;
		out->lock.runner_known = has_flag(&parts[PART_LOCK], RUNNER_FLAG_PID);
		out->lock.runner_alive = has_flag(&parts[PART_LOCK], RUNNER_FLAG_ALIVE);
		hoststate_read_owner(parts[PART_LOCK_OWNER].data, parts[PART_LOCK_OWNER].len, &out->lock);
		read_progress(parts, &out->lock);
		if (parts[PART_LOCK_PLAN].len) {
			out->lock.leased = true;
			if (!lease_parse(parts[PART_LOCK_PLAN].data, parts[PART_LOCK_PLAN].len,
			    &out->lock.lease, out->lock.lease_error, sizeof out->lock.lease_error) &&
			    !out->lock.lease_error[0])
				snprintf(out->lock.lease_error, sizeof out->lock.lease_error, "unreadable");
		}
	}
	if (has_flag(&parts[PART_FREEZE], RUNNER_FLAG_FROZEN)) {
		out->frozen = true;
		each_kv(parts[PART_FREEZE_FILE].data, parts[PART_FREEZE_FILE].len, freeze_kv, out);
	}
	copy_clean(out->current, sizeof out->current, parts[PART_CURRENT].data,
	    strcspn(parts[PART_CURRENT].data, "\n"));
	if (!value_run_id(out->current))
		out->current[0] = '\0';        /* corrupt: never followed */
	read_deploy_env(parts, out);
	read_current_run(parts, out);
	read_history(parts, out);
	hostreply_free(parts, PARTS);
	return true;
}

void hoststate_free(struct host_state *st)
{
	history_free(&st->history);
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
		h->runs[i].merged_from = index + 1;
		h->runs[i].host_index = index;
		history_run_mark_on(&h->runs[i], index);
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

/* Two app images name different builds: another tag, or the same tag pinned to other
 * digests (one that pins none is the same tag, not a difference). */
static bool images_differ(const char *a, const char *b)
{
	char ta[DEPLOYENV_IMAGE_MAX], tb[DEPLOYENV_IMAGE_MAX];
	char da[DEPLOYENV_IMAGE_MAX], db[DEPLOYENV_IMAGE_MAX];

	deployenv_image_tag(a, ta, sizeof ta);
	deployenv_image_tag(b, tb, sizeof tb);
	if (strcmp(ta, tb) != 0)
		return true;
	deployenv_image_digest(a, da, sizeof da);
	deployenv_image_digest(b, db, sizeof db);
	return da[0] && db[0] && strcmp(da, db) != 0;
}

void hoststate_merge(struct host_state *all, struct host_state *one, size_t index, const char *name)
{
	struct history *h = &all->history;
	size_t cap;

	label_runs(&one->history, index, name);
	if (one->lock.held) {
		one->lock.holders = 1;
		one->lock.host_index = index;
		snprintf(one->lock.host, sizeof one->lock.host, "%s", name);
	}
	if (all->hosts++ == 0) {
		size_t hosts = all->hosts;

		*all = *one;
		all->hosts = hosts;
		all->history.hosts = (unsigned)hosts;
		all->current_host = index;
		memset(one, 0, sizeof *one);
		return;
	}
	h->hosts = (unsigned)all->hosts;
	if (one->lock.held && all->lock.held) {
		/* a run over several hosts holds them all with one plan */
		if (strcmp(one->lock.run, all->lock.run) != 0 || one->lock.leased != all->lock.leased ||
		    memcmp(&one->lock.lease, &all->lock.lease, sizeof one->lock.lease) != 0)
			all->lock.leases_differ = one->lock.leases_differ = true;
		else
			one->lock.holders = ++all->lock.holders;
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
	    (one->has_deploy_env && images_differ(one->deploy_env.app_image,
	    all->deploy_env.app_image)))) {
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

		if (same && same->merged_from == index + 1)
			same->conflict = true;  /* one host's second record of it: counted once */
		else if (same)
			history_merge_run(same, run);
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
	/* a lease between two hosts' runs has no runner: the run is unfinished, not gone */
	if (!st->lock.held || st->lock.leased)
		return false;
	if (st->lock.runner_known)
		return !st->lock.runner_alive;
	return st->lock.since > 0 && st->host_now - st->lock.since > HISTORY_STALE_LOCK_S;
}
