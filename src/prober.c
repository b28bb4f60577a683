/* Checks every environment on its own interval: health, readiness and version.
 *
 * A round is three GETs in parallel. The next round starts one interval after
 * the last one started, or at once if the round took longer than that, so a
 * hung endpoint never makes rounds pile up. */
#include "config.h"

#include "prober.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct prober_env;

/* One request's context: which environment, which probe. */
struct prober_call {
	struct prober_env *env;
	enum probe_kind kind;
	struct http_request *request;   /* NULL when not in flight */
};

struct prober_env {
	struct prober *prober;
	size_t index;
	uint64_t timer;                 /* next round */
	char *urls[PROBE_KINDS];
	char **headers;                 /* "Name: value", NULL-terminated; holds secrets */
	struct prober_call calls[PROBE_KINDS];
	int pending;                    /* requests of this round still in flight */
	bool in_sweep;                  /* its round ends the sweep's part for it */
};

struct prober {
	struct loop *loop;
	struct http_client *http;
	struct model *model;
	prober_change_fn changed;
	void *arg;
	struct prober_env *envs;
	int64_t sweep_started;
	size_t sweep_left;              /* environments of the sweep still in their round */
};

static void prober_round_start(struct prober_env *pe);

/* The next round's timer. */
static void prober_timer_fired(struct loop *loop, void *arg)
{
	struct prober_env *pe = arg;

	pe->timer = 0;
	prober_round_start(pe);
}

/* One of the round's answers (or failures) arrived. */
static void prober_call_done(const struct http_response *resp, void *arg)
{
	struct prober_call *call = arg;
	struct prober_env *pe = call->env;
	struct prober *p = pe->prober;
	struct env_status *st = &p->model->envs[pe->index];
	char tag[PAYLOAD_TAG_MAX];
	int64_t now, elapsed, delay;

	call->request = NULL;
	tag[0] = '\0';
	model_classify(call->kind, resp, st->conf, &st->probes[call->kind], tag, sizeof tag);
	now = loop_clock_ms();
	if (call->kind == PROBE_VERSION && st->probes[PROBE_VERSION].state == PROBE_OK) {
		memcpy(st->tag, tag, sizeof st->tag);
		st->tag_at = now;
	}
	if (--pe->pending > 0)
		return;
	elapsed = now - st->round_started;
	model_round_done(st, now, time(NULL));
	if (pe->in_sweep) {
		pe->in_sweep = false;
		if (--p->sweep_left == 0)
			p->model->sweep_ms = now - p->sweep_started;
	}
	delay = st->conf->interval_ms - elapsed;
	pe->timer = loop_timer_add(p->loop, delay > 0 ? delay : 0, prober_timer_fired, pe);
	if (p->changed)
		p->changed(pe->index, p->arg);
}

/* Sends the three requests of a round. */
static void prober_round_start(struct prober_env *pe)
{
	struct prober *p = pe->prober;
	struct env_status *st = &p->model->envs[pe->index];

	if (pe->pending > 0)
		return;
	loop_timer_cancel(p->loop, pe->timer);
	pe->timer = 0;
	st->round_started = loop_clock_ms();
	for (int k = 0; k < PROBE_KINDS; k++) {
		struct http_get_opts opts = {
			.url = pe->urls[k],
			.timeout_ms = st->conf->timeout_ms,
			.max_body = PROBER_MAX_BODY,
			.headers = (const char *const *)pe->headers,
			.ca_file = st->conf->ca_file,
		};

		pe->pending++;
		pe->calls[k].request = http_get(p->http, &opts, prober_call_done, &pe->calls[k]);
	}
}

struct prober *prober_new(struct loop *loop, struct http_client *http, struct model *model,
    prober_change_fn changed, void *arg)
{
	struct prober *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->http = http;
	p->model = model;
	p->changed = changed;
	p->arg = arg;
	p->envs = xcalloc(model->envs_len, sizeof *p->envs);
	for (size_t i = 0; i < model->envs_len; i++) {
		struct prober_env *pe = &p->envs[i];
		const struct conf_env *env = model->envs[i].conf;

		pe->prober = p;
		pe->index = i;
		pe->urls[PROBE_LIVE] = xasprintf("%s%s", env->url, env->health_path);
		pe->urls[PROBE_READY] = xasprintf("%s%s", env->url, env->ready_path);
		pe->urls[PROBE_VERSION] = xasprintf("%s%s", env->url, env->version_path);
		pe->headers = xcalloc(env->headers_len + 1, sizeof *pe->headers);
		for (size_t h = 0; h < env->headers_len; h++)
			pe->headers[h] = xasprintf("%s: %s", env->headers[h].name,
			    env->headers[h].value.value);
		for (int k = 0; k < PROBE_KINDS; k++) {
			pe->calls[k].env = pe;
			pe->calls[k].kind = (enum probe_kind)k;
		}
	}
	return p;
}

void prober_free(struct prober *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->model->envs_len; i++) {
		struct prober_env *pe = &p->envs[i];

		loop_timer_cancel(p->loop, pe->timer);
		for (int k = 0; k < PROBE_KINDS; k++) {
			http_cancel(pe->calls[k].request);
			free(pe->urls[k]);
		}
		for (char **h = pe->headers; *h; h++) {
			explicit_bzero(*h, strlen(*h));
			free(*h);
		}
		free(pe->headers);
	}
	free(p->envs);
	free(p);
}

void prober_set_listener(struct prober *p, prober_change_fn changed, void *arg)
{
	p->changed = changed;
	p->arg = arg;
}

void prober_start(struct prober *p)
{
	prober_refresh_all(p);
}

void prober_refresh_all(struct prober *p)
{
	/* a sweep still going is taken over by this one */
	p->sweep_started = loop_clock_ms();
	p->sweep_left = p->model->envs_len;
	for (size_t i = 0; i < p->model->envs_len; i++) {
		p->envs[i].in_sweep = true;
		prober_round_start(&p->envs[i]);
	}
}
