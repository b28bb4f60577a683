/* Fuzz target: what a host says about its deploys: the state command's framed reply, the
 * same bytes as the content of every file the reply carries (which must always parse:
 * no content can break the framing), and the history (.gantry/history.jsonl). */
#include "config.h"

#include "deployenv.h"
#include "compose/hostreply.h"
#include "compose/statereply.h"
#include "hoststate.h"
#include "value.h"
#include "xmalloc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fails loudly unless the field is a string within its array, free of control bytes. */
static void assert_clean(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

#define CLEAN(field) assert_clean((field), sizeof(field))

static void check_history(const struct history *h, const char *running_id)
{
	for (size_t i = 0; i < h->len; i++) {
		const struct history_run *r = &h->runs[i];
		const struct history_run *found;
		const char *result;

		CLEAN(r->id);
		CLEAN(r->action);
		CLEAN(r->env);
		CLEAN(r->source);
		CLEAN(r->tag);
		CLEAN(r->app_digest);
		CLEAN(r->migrator_digest);
		CLEAN(r->operator);
		CLEAN(r->message);
		CLEAN(r->rollback_tag);
		if (r->result != RUN_RESULT_NONE && !run_result_name(r->result)[0])
			abort();        /* a result outside the table */
		if (!r->id[0])
			abort();        /* a record without an id is a bad line */
		if (r->planned > HISTORY_MAX_STEPS || r->rollback_planned > HISTORY_MAX_STEPS ||
		    r->steps_len > HISTORY_MAX_STEPS)
			abort();
		if ((r->planned && !r->step_names) || (r->rollback_planned && !r->rollback_names) ||
		    (r->steps_len && !r->steps))
			abort();
		for (size_t j = 0; j < r->planned; j++)
			CLEAN(r->step_names[j]);
		for (size_t j = 0; j < r->rollback_planned; j++)
			CLEAN(r->rollback_names[j]);
		for (size_t j = 0; j < r->steps_len; j++) {
			CLEAN(r->steps[j].phase);
			CLEAN(r->steps[j].name);
		}
		result = history_run_result(r, running_id);
		if (!result)
			abort();
		assert_clean(result, strlen(result) + 1);
		result = history_run_result(r, NULL);
		if (!result)
			abort();
		(void)history_run_healthy(r);
		/* a run is found by its id: itself or a later run of the same id */
		found = history_find(h, r->id);
		if (r->note) {
			if (found && (found->note || strcmp(found->id, r->id) != 0))
				abort();
		} else if (!found || found < r || strcmp(found->id, r->id) != 0) {
			abort();
		}
	}
	if (history_find(h, ""))
		abort();        /* no run has an empty id */
	if (running_id)
		(void)history_find(h, running_id);
}

static void check_state(struct host_state *st)
{
	char tag[80], digest[DEPLOYENV_IMAGE_MAX];

	CLEAN(st->lock.owner);
	CLEAN(st->lock.message);
	CLEAN(st->lock.run);
	CLEAN(st->lock.progress.step_name);
	if (st->lock.progress.step < 0 || st->lock.progress.step > 64 || st->lock.progress.steps < 0 ||
	    st->lock.progress.steps > HISTORY_MAX_STEPS || (st->lock.progress.known && !st->lock.held))
		abort();
	/* a lease's plan: read whole with every value's syntax, or not at all */
	CLEAN(st->lock.lease_error);
	CLEAN(st->lock.lease.id);
	CLEAN(st->lock.lease.action);
	CLEAN(st->lock.lease.env);
	CLEAN(st->lock.lease.source);
	CLEAN(st->lock.lease.tag);
	CLEAN(st->lock.lease.operator);
	CLEAN(st->lock.lease.back_tag);
	if (st->lock.lease.id[0] && !value_run_id(st->lock.lease.id))
		abort();
	if (st->lock.leased && !st->lock.lease_error[0] && (!value_tag(st->lock.lease.tag) ||
	    !value_digest(st->lock.lease.app_digest) || !value_digest(st->lock.lease.migrator_digest) ||
	    st->lock.lease.units < 1 || st->lock.lease.parallel < 1))
		abort();
	if (st->lock.leased && st->lock.lease_error[0] && st->lock.lease.tag[0])
		abort();        /* a plan that did not read leaves nothing but its id */
	CLEAN(st->freeze_by);
	CLEAN(st->freeze_reason);
	CLEAN(st->current);
	CLEAN(st->deploy_env.app_image);
	CLEAN(st->deploy_env.migrator_image);
	CLEAN(st->deploy_env_error);
	if (st->has_deploy_env) {
		deployenv_image_tag(st->deploy_env.app_image, tag, sizeof tag);
		CLEAN(tag);
		deployenv_image_digest(st->deploy_env.app_image, digest, sizeof digest);
		CLEAN(digest);
	}
	(void)hoststate_lock_stale(st);
	check_history(&st->history, st->lock.held ? st->lock.run : NULL);
	hoststate_free(st);
	if (st->history.runs || st->history.len)
		abort();
}

/* The reply gantry's command prints when every file the reply carries holds `data`. */
static char *frame_as_files(const uint8_t *data, size_t size, size_t *len)
{
	static const char *const parts[] = {
		"now", "lock", "lock-owner", "lock-plan", "lock-driver", "lock-request", "freeze", "freeze-file", "current", "deploy.env-status",
		"deploy.env", "deploy.env-mtime", "run-start", "run-events", "current-run", "history-size", "history",
		"end",
	};
	char *out = xmalloc(19 * 64 + 11 * (2 * size + 1) + 64), *p = out;

	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		const char *name = parts[i];
		bool file = strcmp(name, "lock-owner") == 0 || strcmp(name, "lock-plan") == 0 ||
		    strcmp(name, "lock-driver") == 0 || strcmp(name, "lock-request") == 0 ||
		    strcmp(name, "freeze-file") == 0 ||
		    strcmp(name, "current") == 0 || strcmp(name, "deploy.env") == 0 ||
		    strcmp(name, "history") == 0 || strcmp(name, "run-start") == 0 ||
		    strcmp(name, "run-events") == 0 || strcmp(name, "current-run") == 0;

		p += sprintf(p, HOSTREPLY_MARK "%s\n", name);
		if (file) {
			for (size_t j = 0; j < size; j++)
				p += sprintf(p, "%02x", data[j]);
			*p++ = '\n';
		} else if (strcmp(name, "now") == 0) {
			p += sprintf(p, "1790009000\n");
		} else if (strcmp(name, "lock") == 0) {
			p += sprintf(p, "held=1\npid=1\n");
		} else if (strcmp(name, "freeze") == 0) {
			p += sprintf(p, "frozen=1\n");
		} else if (strcmp(name, "deploy.env-status") == 0) {
			p += sprintf(p, "0\n");
		} else if (strcmp(name, "history-size") == 0) {
			p += sprintf(p, "%zu\n", size);
		}
	}
	*len = (size_t)(p - out);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct host_state st;
	struct history h;
	char why[200];

	why[0] = '\0';
	if (hoststate_parse(text, size, &st, why, sizeof why)) {
		check_state(&st);
	} else {
		CLEAN(why);
		if (!why[0])
			abort();        /* a refusal says why */
		hoststate_free(&st);
	}

	/* the same bytes in every file: the framing holds whatever they are */
	{
		size_t len;
		char *framed = frame_as_files(data, size, &len);

		if (!hoststate_parse(framed, len, &st, why, sizeof why))
			abort();
		if (!st.lock.held || !st.frozen)
			abort();        /* the flags are gantry's own, never a file's */
		check_state(&st);
		free(framed);
	}

	/* the same bytes as a history file, whole and cut in two */
	history_parse(text, size, &h);
	check_history(&h, h.len ? h.runs[h.len - 1].id : NULL);
	history_free(&h);
	history_parse(text, size / 2, &h);
	check_history(&h, NULL);
	history_free(&h);

	/* the whole and its second half as two hosts' histories, merged */
	{
		struct host_state one, all;

		memset(&all, 0, sizeof all);
		memset(&one, 0, sizeof one);
		history_parse(text, size, &one.history);
		hoststate_merge(&all, &one, 0, "a");
		memset(&one, 0, sizeof one);
		history_parse(text + size / 2, size - size / 2, &one.history);
		hoststate_merge(&all, &one, 1, "b");
		if (one.history.len || all.hosts != 2)
			abort();
		check_history(&all.history, NULL);
		for (size_t i = 0; i < all.history.len; i++) {
			const struct history_run *r = &all.history.runs[i];

			if (r->hosts < 1 || r->host_index > 1 || (strcmp(r->host, "a") && strcmp(r->host, "b")))
				abort();
		}
		hoststate_free(&all);
	}
	return 0;
}
