/* gantry history: an environment's runs, newest first, merged from all its hosts, as
 * text or JSON. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "exitcode.h"
#include "hostread.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fmt_time(char *out, size_t outsz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(out, outsz, "-");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A time as status --json gives it: RFC 3339 in UTC ("2026-12-07T18:20:05Z"), or null. */
static json_t *rfc3339(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char out[32];

	if (!t)
		return json_null();
	gmtime_r(&tt, &tm);
	strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(out);
}

static json_t *run_json(const struct history_run *r, const char *running, size_t hosts)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "id", r->id, "action", r->action,
	    "result", history_run_result(r, running), "started", (json_int_t)r->started,
	    "started_at", rfc3339(r->started));

	if (r->note) {
		json_object_set_new(o, "operator", json_string(r->operator));
		json_object_set_new(o, "message", json_string(r->message));
		return o;
	}
	json_object_set_new(o, "ended", r->ended ? json_integer(r->ended) : json_null());
	json_object_set_new(o, "ended_at", rfc3339(r->ended));
	json_object_set_new(o, "operator", json_string(r->operator));
	json_object_set_new(o, "tag", json_string(r->tag));
	json_object_set_new(o, "app_digest", json_string(r->app_digest));
	json_object_set_new(o, "migrator_digest", json_string(r->migrator_digest));
	if (r->source[0])
		json_object_set_new(o, "source", json_string(r->source));
	if (r->rollback_tag[0])
		json_object_set_new(o, "rollback_tag", json_string(r->rollback_tag));
	json_object_set_new(o, "migrated", json_boolean(r->migrated));
	json_object_set_new(o, "switched", r->switch_known ? json_boolean(r->switched) : json_null());
	json_object_set_new(o, "restored", json_boolean(r->restored));
	json_object_set_new(o, "failed_step", r->failed_step ? json_integer(r->failed_step) : json_null());
	if (r->message[0])
		json_object_set_new(o, "message", json_string(r->message));
	if (hosts > 1) {
		/* how many hosts recorded it, and the one whose result (the worst) is given */
		json_object_set_new(o, "hosts", json_integer(r->hosts));
		json_object_set_new(o, "host", json_string(r->host));
	}
	{
		json_t *steps = json_array();

		for (size_t k = 0; k < r->steps_len; k++)
			json_array_append_new(steps, json_pack("{s:s, s:s, s:i, s:I}", "phase",
			    r->steps[k].phase, "name", r->steps[k].name, "exit", r->steps[k].exit,
			    "ms", (json_int_t)r->steps[k].ms));
		json_object_set_new(o, "steps", steps);
	}
	return o;
}

static void history_read(void *arg, struct hostread *r)
{
	(void)r;
	*(bool *)arg = true;
}

/* With several hosts: where the run's result comes from, and how far it got. */
static const char *where(const struct history_run *r, const char *running,
    const struct conf_env *env, char *out, size_t outsz)
{
	const char *result = history_run_result(r, running);

	out[0] = '\0';
	if (env->hosts_len < 2)
		return out;
	if (r->note || r->corrupt || r->result != RUN_SUCCEEDED)
		snprintf(out, outsz, "  (%s on %s", result, r->host);
	if (r->hosts < env->hosts_len)
		snprintf(out + strlen(out), outsz - strlen(out), "%sreached %u of %zu hosts",
		    out[0] ? "; " : "  (", r->hosts, env->hosts_len);
	if (out[0])
		snprintf(out + strlen(out), outsz - strlen(out), ")");
	return out;
}

int history_print(struct app *app, const struct conf_env *env, const struct cli_options *o,
    const bool *quit)
{
	struct host_state st;
	char why[600];
	const char *running;
	size_t shown = 0, limit = o->limit > 0 ? (size_t)o->limit : (size_t)-1;
	bool done = false;
	size_t missing;
	const struct target *t = app_target(app, env);
	struct hostread *rd = hostread_start(t, history_read, &done);

	while (!done && !*quit)
		loop_run_once(app->loop, 1000);
	if (!done) {
		hostread_free(rd);
		return -1;
	}
	/* a host that is down hides its own records: the rest is printed, and the status says so */
	missing = hostread_result_some(rd, &st, why, sizeof why);
	hostread_free(rd);
	if (missing == env->hosts_len) {
		hoststate_free(&st);
		fprintf(stderr, "gantry: cannot read %s's history on %s\n", env->name, why);
		return EXIT_REMOTE;
	}
	if (missing)
		fprintf(stderr, "gantry: %zu of %zu hosts of %s not read, their runs are missing below: "
		    "%s\n", missing, env->hosts_len, env->name, why);
	running = st.lock.held && st.lock.runner_alive ? st.lock.run : NULL;
	if (o->json) {
		json_t *arr = json_array();
		char *s;

		for (size_t k = st.history.len; k-- > 0 && shown < limit; shown++)
			json_array_append_new(arr, run_json(&st.history.runs[k], running, env->hosts_len));
		s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else {
		if (st.lock.held)
			printf("locked%s%s by %s: %s%s\n", env->hosts_len > 1 ? " on " : "",
			    env->hosts_len > 1 ? st.lock.host : "", st.lock.owner, st.lock.message,
			    hoststate_lock_stale(&st) ? " (stale: its run is gone)" : "");
		if (st.frozen)
			printf("frozen by %s: %s\n", st.freeze_by, st.freeze_reason);
		printf("%-19s  %-8s  %-16s  %-15s  %6s  %-20s  %s\n", "STARTED", "ACTION", "TAG", "RESULT",
		    "TOOK", "OPERATOR", "ID");
		for (size_t k = st.history.len; k-- > 0 && shown < limit; shown++) {
			const struct history_run *r = &st.history.runs[k];
			char when[32], took[16] = "-", wh[200];

			fmt_time(when, sizeof when, r->started);
			if (r->ended && r->ended >= r->started)
				snprintf(took, sizeof took, "%llds", (long long)(r->ended - r->started));
			if (r->note)
				printf("%-19s  %-8s  %-16s  %-15s  %6s  %-20s  %s\n", when, r->action, "-", "-",
				    "-", r->operator, r->message);
			else
				printf("%-19s  %-8s  %-16s  %-15s  %6s  %-20s  %s%s%s\n", when, r->action, r->tag,
				    history_run_result(r, running), took, r->operator, r->id,
				    r->migrated ? "  (migrated)" : "", where(r, running, env, wh, sizeof wh));
		}
		if (st.history.len == 0)
			printf("(no runs recorded on %s yet)\n", env->name);
		if (st.history.bad_lines)
			printf("(%zu lines of the history file were not records)\n", st.history.bad_lines);
	}
	hoststate_free(&st);
	return missing ? EXIT_REMOTE : EXIT_OK;
}
