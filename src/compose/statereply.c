/* A compose host's state and history, read from the runner's state or watch reply. */
#include "config.h"

#include "deployenv.h"
#include "envfile.h"
#include "events.h"
#include "hostreply.h"
#include "hoststate.h"
#include "runner.h"
#include "sanitize.h"
#include "statereply.h"
#include "value.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of a reply, in the order the runner prints them (src/compose/runner.h). */
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

/* A number gantry's command printed (a clock, a size): the part's first line. */
static int64_t part_int(const struct hostreply_part *p)
{
	char val[32];

	if (!p->data)
		return -1;
	copy_clean(val, sizeof val, p->data, strcspn(p->data, "\n"));
	return val[0] ? hoststate_number(val) : -1;
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

/* deploy.env, or why there is none: "missing" (no file), "not-a-file", or head's exit
 * status; `dir` names where in what is said (NULL: nowhere). */
static void read_deploy_env(const struct hostreply_part *parts, const char *dir,
    struct host_state *out)
{
	const struct hostreply_part *env = &parts[PART_ENV];
	char status[16], in[300] = "";

	copy_clean(status, sizeof status, parts[PART_ENV_STATUS].data,
	    strcspn(parts[PART_ENV_STATUS].data, "\n"));
	if (dir)
		snprintf(in, sizeof in, " in %s", dir);
	if (strcmp(status, RUNNER_ENV_MISSING) == 0) {
		snprintf(out->deploy_env_error, sizeof out->deploy_env_error, "no deploy.env%s", in);
		return;
	} else if (strcmp(status, RUNNER_ENV_NOT_A_FILE) == 0) {
		snprintf(out->deploy_env_error, sizeof out->deploy_env_error, "deploy.env%s is not a "
		    "regular file: not read", in);
		return;
	} else if (strcmp(status, "0") != 0 || !env->present) {
		snprintf(out->deploy_env_error, sizeof out->deploy_env_error, "cannot read deploy.env%s "
		    "(exit %.8s)", in, status);
		return;
	}
	out->deploy_env_read = true;
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
	return hoststate_parse_in(buf, len, NULL, out, why, whysz);
}

bool hoststate_parse_in(const char *buf, size_t len, const char *dir, struct host_state *out,
    char *why, size_t whysz)
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
		/* a record that is not gantry's is no driver: read as none */
		if (parts[PART_LOCK_DRIVER].len)
			drive_record_parse(parts[PART_LOCK_DRIVER].data, parts[PART_LOCK_DRIVER].len,
			    &out->driver);
		if (parts[PART_LOCK_REQUEST].len)
			drive_request_parse(parts[PART_LOCK_REQUEST].data, parts[PART_LOCK_REQUEST].len,
			    &out->request);
	}
	if (has_flag(&parts[PART_FREEZE], RUNNER_FLAG_FROZEN)) {
		out->frozen = true;
		hoststate_read_freeze(parts[PART_FREEZE_FILE].data, parts[PART_FREEZE_FILE].len, out);
	}
	copy_clean(out->current, sizeof out->current, parts[PART_CURRENT].data,
	    strcspn(parts[PART_CURRENT].data, "\n"));
	if (!value_run_id(out->current))
		out->current[0] = '\0';        /* corrupt: never followed */
	read_deploy_env(parts, dir, out);
	read_current_run(parts, out);
	read_history(parts, out);
	hostreply_free(parts, PARTS);
	return true;
}

