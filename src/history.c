/* Reading the history: JSON lines from a host's file, each a start, end, adopt or note
 * record; runs are matched by id, and what is not gantry's syntax marks a run corrupt. */
#include "config.h"

#include "history.h"
#include "sanitize.h"
#include "value.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int64_t json_num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? value_bounded(json_integer_value(v), 0, HOSTSTATE_MAX_NUMBER) : 0;
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

	json_t *result = json_object_get(rec, "result");

	/* an end record says how the run ended, in one of the runner's words */
	run->result = json_is_string(result) ? run_result_parse(json_string_value(result)) :
	    RUN_UNKNOWN;
	if (run->result == RUN_RESULT_NONE || !run_result_by_runner(run->result))
		run->result = RUN_UNKNOWN;
	run->ended = json_num(rec, "ended");
	run->failed_step = (int)value_bounded(json_num(rec, "failed_step"), 0, HISTORY_MAX_STEPS);
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
		st->exit = (int)value_bounded(json_integer_value(json_object_get(s, "exit")), -1, 255);
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

/* The text fields of each kind of record: the key, and the field of the run it fills. */
struct text_field {
	const char *key;
	size_t offset, size;
};

#define TEXT(key, field) { key, offsetof(struct history_run, field), \
	sizeof ((struct history_run *)0)->field }

static const struct text_field start_texts[] = {
	TEXT("action", action), TEXT("env", env), TEXT("source", source), TEXT("tag", tag),
	TEXT("app_digest", app_digest), TEXT("migrator_digest", migrator_digest),
	TEXT("operator", operator), TEXT("rollback_tag", rollback_tag), TEXT("message", message),
	{ 0 },
};
static const struct text_field adopt_texts[] = {
	TEXT("env", env), TEXT("tag", tag), TEXT("app_digest", app_digest),
	TEXT("migrator_digest", migrator_digest), TEXT("operator", operator),
	TEXT("message", message), { 0 },
};
static const struct text_field note_texts[] = {
	TEXT("kind", action), TEXT("operator", operator), TEXT("message", message),
	TEXT("env", env), { 0 },
};

static void read_texts(json_t *rec, const struct text_field *f, struct history_run *run)
{
	for (; f->key; f++)
		json_str(rec, f->key, (char *)run + f->offset, f->size);
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

		/* the runner writes one start record per run: a second is not its word */
		if ((run = find_run(h, id)) && strcmp(run->action, "?") != 0) {
			run->conflict = true;
			json_decref(rec);
			return true;
		}
		run = add_run(h, cap);
		snprintf(run->id, sizeof run->id, "%s", id);
		read_texts(rec, start_texts, run);
		run->started = json_num(rec, "started");
		run->units = (unsigned)value_bounded(json_num(rec, "units"), 0, 1000000);
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
		/* a baseline: what ran before gantry, checked ready when it was recorded; once */
		if ((run = find_run(h, id))) {
			run->conflict = true;
			json_decref(rec);
			return true;
		}
		run = add_run(h, cap);
		snprintf(run->id, sizeof run->id, "%s", id);
		snprintf(run->action, sizeof run->action, "adopt");
		run->result = RUN_ADOPTED;
		read_texts(rec, adopt_texts, run);
		run->started = run->ended = json_num(rec, "at");
		run->switch_known = run->switched = true;
	} else if (strcmp(event, "note") == 0) {
		run = add_run(h, cap);
		run->note = true;
		snprintf(run->id, sizeof run->id, "%s", id);
		read_texts(rec, note_texts, run);
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
		free(h->runs[i].on);
	}
	free(h->runs);
	memset(h, 0, sizeof *h);
}

bool history_run_healthy(const struct history_run *run)
{
	return !run->note && !run->corrupt && run_result_healthy(run->result);
}

/* Another record gives the run's tag other digests (a tag re-pointed between builds is
 * a new tag's work, never a rollback target's). */
static const struct history_run *tag_disputed(const struct history *h, const struct history_run *run)
{
	for (size_t i = 0; i < h->len; i++) {
		const struct history_run *r = &h->runs[i];

		if (r == run || r->note || strcmp(r->tag, run->tag) != 0)
			continue;
		if ((r->app_digest[0] && run->app_digest[0] && strcmp(r->app_digest, run->app_digest) != 0) ||
		    (r->migrator_digest[0] && run->migrator_digest[0] &&
		    strcmp(r->migrator_digest, run->migrator_digest) != 0))
			return r;
	}
	return NULL;
}

bool history_run_proven(const struct history *h, const struct history_run *run, char *why,
    size_t whysz)
{
	/* one host's own history (not merged): its word is all there is */
	unsigned hosts = h->hosts ? h->hosts : 1, have = h->hosts ? run->hosts : 1;
	const struct history_run *other;
	char none[1];

	if (!why) {
		why = none;
		whysz = sizeof none;
	}
	why[0] = '\0';
	if (!history_run_healthy(run))
		return false;
	if (run->conflict) {
		snprintf(why, whysz, "its records disagree (run %s: another tag or digest on one of "
		    "the hosts, or recorded twice)", run->id);
		return false;
	}
	if (have < hosts) {
		snprintf(why, whysz, "%s recorded run %s (%u of %u hosts): one host's word is not the "
		    "environment's", have == 1 && run->host[0] ? run->host : "not every host",
		    run->id, have, hosts);
		return false;
	}
	if ((other = tag_disputed(h, run))) {
		snprintf(why, whysz, "%s recorded %s as %.19s..., run %s as %.19s...: the records of "
		    "the tag disagree", other->host[0] ? other->host : "a host", run->tag,
		    other->app_digest, run->id, run->app_digest);
		return false;
	}
	if (run->result == RUN_ADOPTED) {
		/* a baseline is what ran before gantry: recorded before any run */
		for (size_t i = 0; i < h->len && &h->runs[i] != run; i++)
			if (!h->runs[i].note && h->runs[i].result != RUN_ADOPTED) {
				snprintf(why, whysz, "its adoption (%s) was recorded after gantry's runs: a "
				    "baseline counts only before them", run->id);
				return false;
			}
	}
	return true;
}

const char *history_run_result(const struct history_run *run, const char *running_id)
{
	if (run->note)
		return run->action;
	if (run->corrupt)
		return "corrupt";
	/* a run that did not reach every host it was meant for never succeeded */
	if (run->result == RUN_SUCCEEDED && run->units > run->hosts && run->hosts > 0)
		return run_result_name(RUN_PARTIAL);
	if (run->result != RUN_RESULT_NONE)
		return run_result_name(run->result);
	return running_id && strcmp(running_id, run->id) == 0 ? "running" : "interrupted";
}

bool history_run_on(const struct history_run *run, size_t j, enum run_result *result)
{
	if (j >= run->on_len || !run->on[j])
		return false;
	*result = (enum run_result)(run->on[j] - 1);
	return true;
}

void history_run_mark_on(struct history_run *run, size_t j)
{
	if (j >= run->on_len) {
		run->on = xrealloc(run->on, j + 1);
		memset(run->on + run->on_len, 0, j + 1 - run->on_len);
		run->on_len = j + 1;
	}
	run->on[j] = (unsigned char)(run->result + 1);
}

/* The worse result wins, with its steps, which change hands so that `other` frees the
 * ones replaced. */
void history_merge_run(struct history_run *into, struct history_run *other)
{
	if (other->units > into->units)
		into->units = other->units;
	if (other->on_len > into->on_len) {
		into->on = xrealloc(into->on, other->on_len);
		memset(into->on + into->on_len, 0, other->on_len - into->on_len);
		into->on_len = other->on_len;
	}
	for (size_t j = 0; j < other->on_len; j++)
		if (other->on[j])
			into->on[j] = other->on[j];

	if (strcmp(into->tag, other->tag) != 0 || strcmp(into->app_digest, other->app_digest) != 0 ||
	    strcmp(into->migrator_digest, other->migrator_digest) != 0 ||
	    strcmp(into->action, other->action) != 0 || other->conflict)
		into->conflict = true;
	into->hosts += other->hosts;
	into->merged_from = other->merged_from;
	into->migrated = into->migrated || other->migrated;
	if (other->ended > into->ended)
		into->ended = other->ended;
	if (run_result_rank(other->result) > run_result_rank(into->result)) {
		struct history_step *steps = into->steps;
		size_t steps_len = into->steps_len;

		into->result = other->result;
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

char *history_adopt_record(const struct adopt_spec *a)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}",
	    "id", a->id, "event", "adopt", "env", a->env, "tag", a->tag,
	    "app_digest", a->app_digest ? a->app_digest : "",
	    "migrator_digest", a->migrator_digest ? a->migrator_digest : "",
	    "operator", a->operator, "at", (json_int_t)a->at, "message", a->message ? a->message : "");
	char *out = json_dumps(rec, JSON_COMPACT);

	json_decref(rec);
	return out;
}
