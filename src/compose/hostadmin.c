/* Freeze, unfreeze and unlock on a host: the runner's subcommand for each, with the note
 * it records in the history (the operator and the reason, cut to one printable line). */
#include "config.h"

#include "hostadmin.h"
#include "remote.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

static char *note_json(const char *kind, const char *env, const char *operator, const char *message,
    int64_t at)
{
	char id[40];
	json_t *o;
	char *s;

	snprintf(id, sizeof id, "%s-%lld", kind, (long long)at);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", id, "event", "note", "kind", kind,
	    "env", env, "operator", operator, "at", (json_int_t)at, "message", message);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}


void hostadmin_call(enum unit_admin kind, const char *env, const char *operator,
    const char *message, int64_t at, struct hostadmin_call *c)
{
	static const char *const kinds[] = { "freeze", "unfreeze", "unlock" };
	char reason[200];

	admin_reason(message, reason, sizeof reason);
	memset(c, 0, sizeof *c);
	c->note = note_json(kinds[kind], env, operator, reason, at);
	c->reason = xstrdup(reason);
	if (kind == ADMIN_FREEZE) {
		c->sub = RUNNER_FREEZE;
		c->args[c->nargs++] = operator;
		c->args[c->nargs++] = c->reason;
	} else {
		c->sub = kind == ADMIN_UNFREEZE ? RUNNER_UNFREEZE : RUNNER_UNLOCK;
	}
	c->args[c->nargs++] = c->note;
}

void hostadmin_call_free(struct hostadmin_call *c)
{
	free(c->note);
	free(c->reason);
}

struct unit_cmd *hostadmin_run(struct remote_host *host, enum unit_admin kind,
    const char *env, const char *operator, const char *message, int64_t at,
    const struct unit_cmd_ops *ops, void *arg)
{
	struct hostadmin_call c;
	struct unit_cmd *cmd;

	hostadmin_call(kind, env, operator, message, at, &c);
	cmd = runner_run(host, c.sub, c.args, c.nargs, ops, arg);
	hostadmin_call_free(&c);
	return cmd;
}

