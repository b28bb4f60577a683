/* Every host of an environment read, HOSTREAD_AT_ONCE at a time, the replies merged. */
#include "config.h"

#include "hostread.h"
#include "outbuf.h"
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
	struct outbuf out;
	struct host_state st;
	bool ok;
	char why[600];
};

struct hostread {
	const struct conf_env *env;
	hostread_ask_fn ask;
	const void *ask_arg;
	hostread_done_fn done;
	void *arg;
	struct hostread_one *hosts;
	size_t len, pending;
	size_t next;                    /* the next host to ask */
};

static void ask_next(struct hostread *r);

static void one_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct hostread_one *o = arg;

	if (!is_stderr)
		outbuf_add(&o->out, data, len, HOSTSTATE_MAX_BYTES);
}

static void one_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct hostread_one *o = arg;
	struct hostread *r = o->r;
	const char *addr = r->env->hosts[o->j].address;
	char why[200];

	o->cmd = NULL;
	if (how != UNIT_EXITED)
		snprintf(o->why, sizeof o->why, "%s: %s", addr, message && *message ? message :
		    "the link dropped");
	else if (!hoststate_parse(outbuf_text(&o->out), o->out.len, &o->st, why, sizeof why))
		snprintf(o->why, sizeof o->why, "%s: %s (exit %d)", addr, why, status);
	else
		o->ok = true;
	outbuf_clear(&o->out);
	if (--r->pending == 0)
		r->done(r->arg, r);     /* last: the reader may be gone after this */
	else
		ask_next(r);
}

static const struct unit_cmd_ops one_ops = {
	.output = one_output, .done = one_done, .bounded = true,
};

struct hostread *hostread_start(const struct conf_env *env, hostread_ask_fn ask, const void *ask_arg,
    hostread_done_fn done, void *arg)
{
	struct hostread *r = xcalloc(1, sizeof *r);

	r->env = env;
	r->ask = ask;
	r->ask_arg = ask_arg;
	r->done = done;
	r->arg = arg;
	r->len = r->pending = env->hosts_len;
	r->hosts = xcalloc(env->hosts_len ? env->hosts_len : 1, sizeof *r->hosts);
	for (size_t j = 0; j < env->hosts_len && j < HOSTREAD_AT_ONCE; j++)
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
	r->hosts[j].cmd = r->ask(r->ask_arg, j, &one_ops, &r->hosts[j]);
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
		hoststate_merge(out, &r->hosts[j].st, j, r->env->hosts[j].address);
		r->hosts[j].ok = false;
		snprintf(r->hosts[j].why, sizeof r->hosts[j].why, "%s: read already",
		    r->env->hosts[j].address);
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

void hostread_free(struct hostread *r)
{
	if (!r)
		return;
	for (size_t j = 0; j < r->len; j++) {
		if (r->hosts[j].cmd)
			unit_cmd_stop(r->hosts[j].cmd);
		outbuf_clear(&r->hosts[j].out);
		hoststate_free(&r->hosts[j].st);
	}
	free(r->hosts);
	free(r);
}
