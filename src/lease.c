/* The plan an environment's lease keeps: written by the gantry that starts a run over
 * several units, read back (untrusted) by whichever gantry carries it on. */
#include "config.h"

#include "lease.h"
#include "sanitize.h"
#include "sha256.h"
#include "value.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_MAX_UNITS 100000
#define LEASE_MAX_PARALLEL 100000

void lease_units_sum(const char *const *units, size_t n, char out[20])
{
	struct sha256 s;
	unsigned char d[32];

	sha256_init(&s);
	for (size_t j = 0; j < n; j++)
		sha256_update(&s, units[j], strlen(units[j]) + 1);     /* the NUL separates */
	sha256_final(&s, d);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void lease_back_id(const char *id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.59s-back", id);
}

char *lease_record(const struct run_lease *l, const char *const *units, size_t n)
{
	json_t *names = json_array(), *rec;
	char *out;

	for (size_t j = 0; j < n; j++)
		json_array_append_new(names, json_string(units[j]));
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}",
	    "event", "plan", "id", l->id, "action", l->action, "env", l->env,
	    "tag", l->tag, "app_digest", l->app_digest, "migrator_digest", l->migrator_digest,
	    "operator", l->operator, "at", (json_int_t)l->at, "parallel", (json_int_t)l->parallel,
	    "units", names);
	if (l->source[0])
		json_object_set_new(rec, "source", json_string(l->source));
	if (l->waves.len) {
		json_t *ends = json_array(), *pauses = json_array();

		for (size_t w = 0; w < l->waves.len; w++) {
			json_array_append_new(ends, json_integer((json_int_t)l->waves.end[w]));
			if (l->waves.pause[w])
				json_array_append_new(pauses, json_integer((json_int_t)w + 1));
		}
		json_object_set_new(rec, "waves", json_pack("{s:o, s:o, s:I, s:I}", "ends", ends,
		    "go_after", pauses, "soak_ms", (json_int_t)l->waves.soak_ms,
		    "max_failures", (json_int_t)l->waves.max_failures));
	}
	if (l->back_tag[0])
		json_object_set_new(rec, "back", json_pack("{s:s, s:s, s:s}", "tag", l->back_tag,
		    "app_digest", l->back_app, "migrator_digest", l->back_migrator));
	out = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	return out;
}

/* obj[key] as text into dst; false when it is there and not a string, or too long */
static bool text(json_t *obj, const char *key, char *dst, size_t dstsz)
{
	json_t *v = json_object_get(obj, key);

	dst[0] = '\0';
	if (!v)
		return true;
	if (!json_is_string(v) || json_string_length(v) >= dstsz)
		return false;
	sanitize_text(json_string_value(v), json_string_length(v), dst, dstsz, 0);
	return true;
}

static bool fail(char *why, size_t whysz, const char *what)
{
	snprintf(why, whysz, "%s", what);
	return false;
}

/* obj[key], an integer in [lo, hi], into *out; false otherwise */
static bool count(json_t *obj, const char *key, json_int_t lo, json_int_t hi, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = json_integer_value(v);
	return true;
}

/* The plan's waves for n units, as lease_record writes them; false when they are not. */
static bool waves_parse(json_t *o, size_t n, struct wave_plan *out)
{
	json_t *ends = json_object_get(o, "ends"), *pauses = json_object_get(o, "go_after");

	if (!json_is_object(o) || !json_is_array(ends) || !json_is_array(pauses) ||
	    json_array_size(ends) < 1 || json_array_size(ends) > WAVES_MAX ||
	    json_array_size(pauses) > WAVES_MAX)
		return false;
	out->len = json_array_size(ends);
	for (size_t w = 0; w < out->len; w++) {
		json_t *e = json_array_get(ends, w);

		if (!json_is_integer(e) || json_integer_value(e) < 1 ||
		    json_integer_value(e) > LEASE_MAX_UNITS)
			return false;
		out->end[w] = (size_t)json_integer_value(e);
	}
	for (size_t i = 0; i < json_array_size(pauses); i++) {
		json_t *p = json_array_get(pauses, i);

		if (!json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > (json_int_t)out->len)
			return false;
		out->pause[json_integer_value(p) - 1] = true;
	}
	if (!count(o, "soak_ms", 0, WAVES_SOAK_MAX_MS, &out->soak_ms) ||
	    !count(o, "max_failures", 0, LEASE_MAX_UNITS, &out->max_failures))
		return false;
	return waves_valid(out, n);
}

/* The plan's units: how many, and the hash of their names. */
static bool units_read(json_t *units, struct run_lease *out, char *why, size_t whysz)
{
	const char *names[64];
	const char **all = names;
	size_t n = json_array_size(units);
	bool ok = true;

	if (!json_is_array(units) || n < 1 || n > LEASE_MAX_UNITS)
		return fail(why, whysz, "the plan names no units");
	if (n > sizeof names / sizeof names[0] && !(all = malloc(n * sizeof *all)))
		return fail(why, whysz, "out of memory");
	for (size_t j = 0; j < n && ok; j++) {
		json_t *v = json_array_get(units, j);

		if (!json_is_string(v))
			ok = fail(why, whysz, "the plan's units are not names");
		else
			all[j] = json_string_value(v);
	}
	if (ok) {
		out->units = n;
		lease_units_sum(all, n, out->units_sum);
	}
	if (all != names)
		free(all);
	return ok;
}

bool lease_parse(const char *buf, size_t len, struct run_lease *out, char *why, size_t whysz)
{
	json_error_t err;
	json_t *rec, *units, *back, *v;
	bool ok = false;

	memset(out, 0, sizeof *out);
	if (len > LEASE_MAX_BYTES)
		return fail(why, whysz, "the plan is larger than gantry writes");
	rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &err);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return fail(why, whysz, "the plan is not a JSON object");
	}
	v = json_object_get(rec, "event");
	units = json_object_get(rec, "units");
	back = json_object_get(rec, "back");
	if (!json_is_string(v) || strcmp(json_string_value(v), "plan") != 0) {
		fail(why, whysz, "the plan is not a plan record");
		goto out;
	}
	if (!text(rec, "id", out->id, sizeof out->id) || !value_run_id(out->id) ||
	    !text(rec, "action", out->action, sizeof out->action) ||
	    !text(rec, "env", out->env, sizeof out->env) ||
	    !text(rec, "source", out->source, sizeof out->source) ||
	    !text(rec, "operator", out->operator, sizeof out->operator)) {
		fail(why, whysz, "the plan's id, action, environment or operator is not what gantry writes");
		goto out;
	}
	if (strcmp(out->action, "deploy") != 0 && strcmp(out->action, "promote") != 0 &&
	    strcmp(out->action, "rollback") != 0) {
		fail(why, whysz, "the plan's action is not deploy, promote or rollback");
		goto out;
	}
	if (!text(rec, "tag", out->tag, sizeof out->tag) || !value_tag(out->tag) ||
	    !text(rec, "app_digest", out->app_digest, sizeof out->app_digest) ||
	    !value_digest(out->app_digest) ||
	    !text(rec, "migrator_digest", out->migrator_digest, sizeof out->migrator_digest) ||
	    !value_digest(out->migrator_digest)) {
		fail(why, whysz, "the plan's tag or digests are not what gantry writes");
		goto out;
	}
	if (back && (!json_is_object(back) || !text(back, "tag", out->back_tag, sizeof out->back_tag) ||
	    !value_tag(out->back_tag) ||
	    !text(back, "app_digest", out->back_app, sizeof out->back_app) ||
	    (out->back_app[0] && !value_digest(out->back_app)) ||
	    !text(back, "migrator_digest", out->back_migrator, sizeof out->back_migrator) ||
	    (out->back_migrator[0] && !value_digest(out->back_migrator)))) {
		fail(why, whysz, "the plan's way back is not what gantry writes");
		goto out;
	}
	v = json_object_get(rec, "at");
	out->at = json_is_integer(v) ? value_bounded(json_integer_value(v), 0, 1LL << 40) : 0;
	v = json_object_get(rec, "parallel");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > LEASE_MAX_PARALLEL) {
		fail(why, whysz, "the plan's parallel is not a count");
		goto out;
	}
	out->parallel = (unsigned)json_integer_value(v);
	if (!units_read(units, out, why, whysz))
		goto out;
	v = json_object_get(rec, "waves");
	if (v && !waves_parse(v, out->units, &out->waves)) {
		fail(why, whysz, "the plan's waves are not what gantry writes for its units");
		goto out;
	}
	ok = true;
out:
	json_decref(rec);
	if (!ok) {
		char keep[sizeof out->id];

		/* the id stays when it had its syntax: what holds the lock is still named */
		memcpy(keep, out->id, sizeof keep);
		memset(out, 0, sizeof *out);
		if (value_run_id(keep))
			memcpy(out->id, keep, sizeof keep);
	}
	return ok;
}
