/* Every host of an environment read, HOSTREAD_AT_ONCE at a time, the replies merged. */
#include "config.h"

#include "hostread.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hosts read at once: each reply may take up to HOSTSTATE_MAX_BYTES while it comes. */
#define HOSTREAD_AT_ONCE 32

struct hostread_one {
	struct hostread *r;
	size_t j;
	struct unit_cmd *cmd;
	struct host_state st;
	bool ok;
	char why[600];
};

struct hostread {
	const struct target *target;
	hostread_done_fn done;
	void *arg;
	struct hostread_one *hosts;
	size_t len, pending;
	size_t next;                    /* the next host to ask */
};

static void ask_next(struct hostread *r);

static void one_done(void *arg, struct host_state *st, const char *why)
{
	struct hostread_one *o = arg;
	struct hostread *r = o->r;

	o->cmd = NULL;
	if (st) {
		o->st = *st;            /* taken: the target frees what is left, nothing */
		memset(st, 0, sizeof *st);
		o->ok = true;
	} else {
		snprintf(o->why, sizeof o->why, "%s: %s", r->target->ops->unit_name(r->target, o->j),
		    why);
	}
	if (--r->pending == 0)
		r->done(r->arg, r);     /* last: the reader may be gone after this */
	else
		ask_next(r);
}

struct hostread *hostread_start(const struct target *t, hostread_done_fn done, void *arg)
{
	struct hostread *r = xcalloc(1, sizeof *r);
	size_t n = t->ops->units(t);

	r->target = t;
	r->done = done;
	r->arg = arg;
	r->len = r->pending = n;
	r->hosts = xcalloc(n ? n : 1, sizeof *r->hosts);
	for (size_t j = 0; j < n && j < HOSTREAD_AT_ONCE; j++)
		ask_next(r);
	return r;
}

/* Asks the next unit for its state. */
static void ask_next(struct hostread *r)
{
	size_t j = r->next;

	if (j >= r->len)
		return;
	r->next++;
	r->hosts[j].r = r;
	r->hosts[j].j = j;
	r->hosts[j].cmd = r->target->ops->state(r->target, j, false, one_done, &r->hosts[j]);
}

size_t hostread_result_some(struct hostread *r, struct host_state *out, char *why, size_t whysz)
{
	size_t missing = 0;

	memset(out, 0, sizeof *out);
	why[0] = '\0';
	for (size_t j = 0; j < r->len; j++) {
		if (!r->hosts[j].ok) {
			if (!missing++)
				snprintf(why, whysz, "%s", r->hosts[j].why[0] ? r->hosts[j].why : "not read yet");
			continue;
		}
		hoststate_merge(out, &r->hosts[j].st, j, r->target->ops->unit_name(r->target, j));
		r->hosts[j].ok = false;
		snprintf(r->hosts[j].why, sizeof r->hosts[j].why, "%s: read already",
		    r->target->ops->unit_name(r->target, j));
	}
	return missing;
}

bool hostread_result(struct hostread *r, struct host_state *out, char *why, size_t whysz)
{
	if (hostread_result_some(r, out, why, whysz) == 0)
		return true;
	hoststate_free(out);
	memset(out, 0, sizeof *out);
	return false;
}

const struct host_state *hostread_unit(const struct hostread *r, size_t j, const char **why)
{
	if (j >= r->len || !r->hosts[j].ok) {
		*why = j < r->len && r->hosts[j].why[0] ? r->hosts[j].why : "not read";
		return NULL;
	}
	*why = NULL;
	return &r->hosts[j].st;
}

void hostread_free(struct hostread *r)
{
	if (!r)
		return;
	for (size_t j = 0; j < r->len; j++) {
		unit_cmd_stop(r->hosts[j].cmd);
		hoststate_free(&r->hosts[j].st);
	}
	free(r->hosts);
	free(r);
}
