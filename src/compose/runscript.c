/* run.sh for one run: shell variables holding the run's facts and steps (every value
 * single-quoted), then the runner itself (src/compose/runner.c's program). */
#include "config.h"

#include "runner.h"
#include "runscript.h"
#include "template.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* NAME='value' and a newline */
static void put_var(struct buf *b, const char *name, const char *value)
{
	char *q = template_shell_quote(value ? value : "");

	put(b, name);
	put(b, "=");
	put(b, q);
	put(b, "\n");
	free(q);
}

static void put_num(struct buf *b, const char *name, long long value)
{
	char line[96];

	snprintf(line, sizeof line, "%s=%lld\n", name, value);
	put(b, line);
}

/* A JSON string literal for s (quotes included), newly allocated. */
static char *json_quote(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *out;

	if (!j)                         /* not UTF-8: recorded with the bad bytes replaced */
		j = json_string("(name not valid UTF-8)");
	out = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	return out;
}

/* COUNT=n, then PREFIX_name_i, _json_i, _cmd_i, _timeout_i (s), _switch_i for each step */
static void put_steps(struct buf *b, const char *count, const char *prefix,
    const struct release_step *steps, size_t n)
{
	char name[64];

	put_num(b, count, (long long)n);
	for (size_t i = 0; i < n; i++) {
		char *json = json_quote(steps[i].name);

		snprintf(name, sizeof name, "%s_name_%zu", prefix, i + 1);
		put_var(b, name, steps[i].name);
		snprintf(name, sizeof name, "%s_json_%zu", prefix, i + 1);
		put_var(b, name, json);
		snprintf(name, sizeof name, "%s_cmd_%zu", prefix, i + 1);
		put_var(b, name, steps[i].command);
		snprintf(name, sizeof name, "%s_timeout_%zu", prefix, i + 1);
		put_num(b, name, (long long)((steps[i].timeout_ms + 999) / 1000));
		snprintf(name, sizeof name, "%s_switch_%zu", prefix, i + 1);
		put_num(b, name, steps[i].switch_point ? 1 : 0);
		snprintf(name, sizeof name, "%s_migration_%zu", prefix, i + 1);
		put_num(b, name, steps[i].migration ? 1 : 0);
		free(json);
	}
}

char *runscript_start_record(const struct run_spec *spec)
{
	json_t *names = json_array(), *rec;
	char *out;

	for (size_t i = 0; i < spec->steps_len; i++)
		json_array_append_new(names, json_string(spec->steps[i].name));
	rec = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "id", spec->id, "event", "start", "started", (json_int_t)spec->started,
	    "operator", spec->operator, "action", spec->action, "env", spec->env,
	    "tag", spec->tag, "app_digest", spec->app_digest ? spec->app_digest : "",
	    "migrator_digest", spec->migrator_digest ? spec->migrator_digest : "",
	    "steps", names);
	if (spec->source_env)
		json_object_set_new(rec, "source", json_string(spec->source_env));
	if (spec->message && *spec->message)
		json_object_set_new(rec, "message", json_string(spec->message));
	if (spec->units > 1)
		json_object_set_new(rec, "units", json_integer((json_int_t)spec->units));
	if (spec->rollback_len) {
		json_t *back = json_array();

		for (size_t i = 0; i < spec->rollback_len; i++)
			json_array_append_new(back, json_string(spec->rollback[i].name));
		json_object_set_new(rec, "rollback_tag", json_string(spec->rollback_tag));
		json_object_set_new(rec, "rollback_steps", back);
	}
	out = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	return out;
}

char *runscript_build(const struct run_spec *spec)
{
	struct buf b = { 0 };
	char *record = runscript_start_record(spec);
	char line[256];

	put(&b, "#!/bin/sh\n");
	snprintf(line, sizeof line, "# gantry run %s: %s %s on %s (written by gantry; do not edit)\n",
	    spec->id, spec->action, spec->tag, spec->env);
	put(&b, line);
	put_var(&b, "GANTRY_RUN", spec->id);
	put_var(&b, "GANTRY_ACTION", spec->action);
	put_var(&b, "GANTRY_OPERATOR", spec->operator);
	put_var(&b, "GANTRY_LOCK_MESSAGE", spec->lock_message);
	put_var(&b, "GANTRY_START_JSON", record);
	if (spec->adopt_record)
		put_var(&b, "GANTRY_ADOPT_JSON", spec->adopt_record);
	put_var(&b, "GANTRY_ROLLBACK_TAG", spec->rollback_tag);
	if (spec->lease)
		put_var(&b, "GANTRY_LEASE", spec->lease);
	/* named by their events' words: the runner's run_steps takes the word as the prefix */
	put_steps(&b, "GANTRY_STEPS", RUNNER_EV_STEP, spec->steps, spec->steps_len);
	put_steps(&b, "GANTRY_ROLLBACK_STEPS", RUNNER_EV_ROLLBACK, spec->rollback, spec->rollback_len);
	put(&b, runner_program());
	free(record);
	return b.s;
}

char *runscript_start_command(const struct run_spec *spec)
{
	char *script = runscript_build(spec);
	char *cmd = runner_start_command(spec->id, script);

	free(script);
	return cmd;
}
