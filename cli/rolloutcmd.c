/* gantry rollout status: where an environment's rollout in waves stands, read from its
 * units, as text or JSON. */
#include "config.h"

#include "deployenv.h"
#include "duration.h"
#include "hostread.h"
#include "rolloutcmd.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void read_done(void *arg, struct hostread *r)
{
	(void)r;
	*(bool *)arg = true;
}

/* A unit as src/rolloutstatus.h reads it, from the reader's states. */
static void unit_of(const void *arg, size_t j, struct rollout_unit *u)
{
	const struct hostread *rd = arg;
	const char *why;
	const struct host_state *st = hostread_unit(rd, j, &why);
	static char tag[136];

	*u = (struct rollout_unit){ .read = st != NULL, .tag = "", .alive = "", .current = "",
		.lease = "" };
	if (!st)
		return;
	tag[0] = '\0';
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, tag, sizeof tag);
	u->tag = tag;
	u->alive = st->lock.held && st->lock.runner_alive ? st->lock.run : "";
	u->current = st->current;
	u->result = st->last.known ? st->last.result : RUN_RESULT_NONE;
	u->lease = st->lock.held && st->lock.leased ? st->lock.lease.id : "";
}

bool rollout_read(struct app *app, const struct conf_env *env, const bool *quit,
    struct rollout_read *out, char *why, size_t whysz)
{
	const struct target *t = app_target(app, env);
	size_t n = t->ops->units(t), missing = 0;
	struct hostread *rd;
	bool done = false;
	enum rollout_stand *stands;
	const char *unread;
	const struct host_state *first;

	memset(out, 0, sizeof *out);
	rd = hostread_start(t, read_done, &done);
	while (!done && !*quit)
		loop_run_once(app->loop, 1000);
	if (!done) {
		hostread_free(rd);
		snprintf(why, whysz, "interrupted");
		return false;
	}
	out->len = n;
	out->hosts = xcalloc(n + 1, sizeof *out->hosts);
	stands = xcalloc(n + 1, sizeof *stands);
	for (size_t j = 0; j < n; j++) {
		struct rollout_shown *h = &out->hosts[j];
		struct rollout_unit u;

		unit_of(rd, j, &u);
		snprintf(h->name, sizeof h->name, "%s", t->ops->unit_name(t, j));
		snprintf(h->tag, sizeof h->tag, "%s", u.tag);
		h->read = u.read;
		if (!u.read && missing++ == 0) {
			hostread_unit(rd, j, &unread);
			snprintf(out->unread_why, sizeof out->unread_why, "%s", unread);
		}
	}
	if (missing == n) {
		snprintf(why, whysz, "no host of %s could be read: %s", env->name, out->unread_why);
		hostread_free(rd);
		free(stands);
		rollout_read_free(out);
		return false;
	}
	first = hostread_unit(rd, 0, &unread);
	rollout_status_of(&(struct rollout_first){ .lock = first ? &first->lock : NULL,
	    .driver = first ? &first->driver : NULL, .request = first ? &first->request : NULL,
	    .host_now = first ? first->host_now : 0 }, unit_of, rd, n, stands, &out->st);
	for (size_t j = 0; j < n; j++) {
		out->hosts[j].stand = stands[j];
		out->hosts[j].wave = out->st.active ? waves_of(&out->st.lease.waves, j) + 1 : 0;
	}
	free(stands);
	hostread_free(rd);
	return true;
}

void rollout_read_free(struct rollout_read *r)
{
	free(r->hosts);
	r->hosts = NULL;
	r->len = 0;
}

/* "4 run sha-2222222, 2 run sha-3333333, 1 not read" */
static void skew_words(const struct rollout_status *s, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t k = 0; k < s->tags_len && used + 1 < outsz; k++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu run%s %s", k ? ", " : "",
		    s->tags[k].hosts, s->tags[k].hosts == 1 ? "s" : "", s->tags[k].tag);
	if (s->tags_other && used + 1 < outsz)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu run other tags",
		    used ? ", " : "", s->tags_other);
	if (s->no_tag && used + 1 < outsz)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu name%s no tag",
		    used ? ", " : "", s->no_tag, s->no_tag == 1 ? "s" : "");
	if (s->not_read && used + 1 < outsz)
		snprintf(out + used, outsz - used, "%s%zu not read", used ? ", " : "", s->not_read);
}

/* One wave's line: "1 took sha-..., 1 failed, 1 running" or "not started". */
static void wave_words(const struct rollout_status *s, size_t w, char *out, size_t outsz)
{
	size_t used = 0, waiting = s->wave_units[w] - s->wave_took[w] - s->wave_failed[w] -
	    s->wave_running[w] - s->wave_back[w];
	const struct {
		size_t n;
		const char *what;
	} parts[] = {
		{ s->wave_took[w], "took" }, { s->wave_running[w], "running" },
		{ s->wave_failed[w], "failed" }, { s->wave_back[w], "went back" },
		{ waiting, "waiting" },
	};

	out[0] = '\0';
	if (waiting == s->wave_units[w]) {
		snprintf(out, outsz, "not started");
		return;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0] && used + 1 < outsz; i++)
		if (parts[i].n)
			used += (size_t)snprintf(out + used, outsz - used, "%s%zu %s", used ? ", " : "",
			    parts[i].n, parts[i].what);
}

static void print_text(FILE *out, const struct conf_env *env, const struct rollout_read *r)
{
	const struct rollout_status *s = &r->st;
	const struct run_lease *l = &s->lease;
	char skew[600], line[300];

	skew_words(s, skew, sizeof skew);
	if (!s->active) {
		fprintf(out, "%s: no rollout in waves holds it%s%s\n", env->name,
		    s->problem[0] ? ": " : "", s->problem);
		fprintf(out, "  hosts   %s\n", skew);
		return;
	}
	fprintf(out, "%s: rollout %s (%s %s%s%s, by %s), wave %zu of %zu: %s\n", env->name, l->id,
	    l->action, l->tag, l->source[0] ? " from " : "", l->source,
	    l->operator[0] ? l->operator : "someone", s->wave, l->waves.len, rollout_state_word(s));
	if (s->driven)
		fprintf(out, "  driver  %s's gantry, heard %llds ago%s%s\n", s->driver.by[0] ?
		    s->driver.by : "someone", (long long)s->heard_s,
		    s->driver.state == DRIVE_PAUSED ? "; paused: " : "",
		    s->driver.state == DRIVE_PAUSED ? s->driver.why : "");
	else
		fprintf(out, "  driver  none: no gantry drives it now; `gantry rollout resume %s` or "
		    "`gantry rollout abort %s` carries it on\n", env->name, env->name);
	if (s->request.present)
		fprintf(out, "  asked   %s by %s%s%s, not answered yet\n", drive_ask_name(s->request.ask),
		    s->request.by[0] ? s->request.by : "someone", s->request.why[0] ? ": " : "",
		    s->request.why);
	for (size_t w = 0; w < l->waves.len && w < WAVES_MAX; w++) {
		wave_words(s, w, line, sizeof line);
		fprintf(out, "  wave %-2zu %zu host%s%s: %s\n", w + 1, s->wave_units[w],
		    s->wave_units[w] == 1 ? "" : "s", l->waves.pause[w] ? ", then a go" : "", line);
	}
	fprintf(out, "  hosts   %s\n", skew);
	for (size_t j = 0; j < r->len; j++)
		if (r->hosts[j].stand == STAND_FAILED || r->hosts[j].stand == STAND_RUNNING ||
		    r->hosts[j].stand == STAND_NOT_READ)
			fprintf(out, "  %-7s %s (wave %zu)\n", rollout_stand_name(r->hosts[j].stand),
			    r->hosts[j].name, r->hosts[j].wave);
}

static json_t *text_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static void print_json(FILE *out, const struct conf_env *env, const struct rollout_read *r)
{
	const struct rollout_status *s = &r->st;
	json_t *root = json_object(), *tags = json_array(), *hosts = json_array();

	json_object_set_new(root, "format", json_integer(1));
	json_object_set_new(root, "environment", json_string(env->name));
	for (size_t k = 0; k < s->tags_len; k++)
		json_array_append_new(tags, json_pack("{s:s, s:I}", "tag", s->tags[k].tag, "hosts",
		    (json_int_t)s->tags[k].hosts));
	json_object_set_new(root, "tags", tags);
	json_object_set_new(root, "hosts_not_read", json_integer((json_int_t)s->not_read));
	if (!s->active) {
		json_object_set_new(root, "rollout", json_null());
		json_object_set_new(root, "problem", text_or_null(s->problem));
	} else {
		const struct run_lease *l = &s->lease;
		json_t *ro = json_object(), *waves = json_array();

		json_object_set_new(ro, "id", json_string(l->id));
		json_object_set_new(ro, "action", json_string(l->action));
		json_object_set_new(ro, "tag", json_string(l->tag));
		json_object_set_new(ro, "source", text_or_null(l->source));
		json_object_set_new(ro, "operator", text_or_null(l->operator));
		json_object_set_new(ro, "wave", json_integer((json_int_t)s->wave));
		json_object_set_new(ro, "waves", json_integer((json_int_t)l->waves.len));
		json_object_set_new(ro, "state", json_string(rollout_state_word(s)));
		json_object_set_new(ro, "paused_why", s->driven && s->driver.state == DRIVE_PAUSED ?
		    json_string(s->driver.why) : json_null());
		json_object_set_new(ro, "driver", s->driven ? json_pack("{s:s, s:I}", "operator",
		    s->driver.by, "heard_s", (json_int_t)s->heard_s) : json_null());
		json_object_set_new(ro, "request", s->request.present ? json_pack("{s:s, s:s, s:s}",
		    "ask", drive_ask_name(s->request.ask), "by", s->request.by, "why",
		    s->request.why) : json_null());
		for (size_t w = 0; w < l->waves.len && w < WAVES_MAX; w++)
			json_array_append_new(waves, json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}",
			    "hosts", (json_int_t)s->wave_units[w], "took", (json_int_t)s->wave_took[w],
			    "running", (json_int_t)s->wave_running[w], "failed",
			    (json_int_t)s->wave_failed[w], "back", (json_int_t)s->wave_back[w],
			    "go_after", l->waves.pause[w]));
		json_object_set_new(ro, "wave_list", waves);
		json_object_set_new(root, "rollout", ro);
	}
	for (size_t j = 0; j < r->len; j++)
		json_array_append_new(hosts, json_pack("{s:s, s:o, s:o, s:s}", "address",
		    r->hosts[j].name, "wave", s->active ? json_integer((json_int_t)r->hosts[j].wave) :
		    json_null(), "tag", text_or_null(r->hosts[j].tag), "state",
		    s->active ? rollout_stand_name(r->hosts[j].stand) : r->hosts[j].read ? "idle" :
		    "not read"));
	json_object_set_new(root, "hosts", hosts);
	json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
}

void rollout_print(FILE *out, const struct conf_env *env, const struct rollout_read *r, bool json)
{
	if (json)
		print_json(out, env, r);
	else
		print_text(out, env, r);
	fflush(out);
}
