/* `gantry status`: the dashboard's facts printed once, as text or as JSON. */
#include "config.h"

#include "status.h"
#include "app.h"
#include "commands.h"
#include "duration.h"
#include "exitcode.h"
#include "xmalloc.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

/* Column width for environment names: the longest, at least the header's. */
static int name_width(const struct model *model)
{
	int w = (int)strlen("ENVIRONMENT");

	for (size_t i = 0; i < model->envs_len; i++)
		if ((int)strlen(model->envs[i].conf->name) > w)
			w = (int)strlen(model->envs[i].conf->name);
	return w;
}

/* The hosts whose state was not read, and the first one's reason; 0 when all were. */
static size_t hosts_unread(const struct env_status *st, const char **first, size_t *at)
{
	size_t n = 0;

	for (size_t j = 0; j < st->hosts_len; j++) {
		const struct host_status *h = &st->hosts[j];

		if (h->state_known)
			continue;
		if (n++ == 0) {
			*first = h->deploy_error[0] ? h->deploy_error : "not read";
			*at = j;
		}
	}
	return n;
}

/* The hosts whose services could not be listed (deploy.running failed): no drift among
 * them is known, so none is claimed; 0 when every listing answered. */
static size_t services_unlisted(const struct env_status *st, size_t *at)
{
	size_t n = 0;

	for (size_t j = 0; j < st->hosts_len; j++)
		if (st->hosts[j].running_read && st->hosts[j].running_error[0] && n++ == 0)
			*at = j;
	return n;
}

/* The first problem worth a line: the readiness detail, else liveness, else version,
 * else hosts that could not be read (never "ok" about them), else a run left half way,
 * else what the hosts and the app disagree on (in the dashboard's words). */
static const char *status_detail(const struct env_status *st, char *buf, size_t bufsz)
{
	char tag[PAYLOAD_TAG_MAX];
	const char *why = "";
	size_t at = 0, unread;

	if (st->probes[PROBE_LIVE].state != PROBE_OK)
		return st->probes[PROBE_LIVE].detail;
	if (st->probes[PROBE_READY].state != PROBE_OK)
		return st->probes[PROBE_READY].detail;
	if (st->probes[PROBE_VERSION].state != PROBE_OK)
		return st->probes[PROBE_VERSION].detail;
	if ((unread = hosts_unread(st, &why, &at)) > 0) {
		snprintf(buf, bufsz, "%zu of %zu host%s not read: %s: %s", unread, st->hosts_len,
		    st->hosts_len == 1 ? "" : "s", st->hosts[at].name, why);
		return buf;
	}
	if (model_rollout_words(st, buf, bufsz) || model_unfinished(st, buf, bufsz))
		return buf;
	if (model_drift(st, tag, sizeof tag, buf, bufsz) != DRIFT_NONE)
		return buf;
	if ((unread = services_unlisted(st, &at)) > 0) {
		snprintf(buf, bufsz, "services not listed on %zu of %zu host%s: %s: %s", unread,
		    st->hosts_len, st->hosts_len == 1 ? "" : "s", st->hosts[at].name,
		    st->hosts[at].running_error);
		return buf;
	}
	return "";
}

void status_print_text(FILE *out, const struct model *model)
{
	int nw = name_width(model);

	fprintf(out, "%-*s  %-20s  %-10s  %-10s  %8s  %s\n", nw, "ENVIRONMENT", "TAG", "LIVE",
	    "READY", "LATENCY", "DETAIL");
	for (size_t i = 0; i < model->envs_len; i++) {
		const struct env_status *st = &model->envs[i];
		char live[24], ready[24], latency[16], why[300];

		model_probe_word(&st->probes[PROBE_LIVE], PROBE_LIVE, live, sizeof live);
		model_probe_word(&st->probes[PROBE_READY], PROBE_READY, ready, sizeof ready);
		duration_format_latency(st->probes[PROBE_READY].http_status ?
		    st->probes[PROBE_READY].latency_ms : -1, latency, sizeof latency);
		fprintf(out, "%-*s  %-20s  %-10s  %-10s  %8s  %s\n", nw, st->conf->name,
		    st->tag[0] ? st->tag : "-", live, ready, latency, status_detail(st, why, sizeof why));
	}
}

/* One probe as a JSON object. */
static json_t *probe_json(const struct probe_result *r)
{
	return json_pack("{s:s, s:o, s:o, s:o}",
	    "state", model_probe_state_name(r->state),
	    "http_status", r->http_status ? json_integer(r->http_status) : json_null(),
	    "latency_ms", r->http_status ? json_integer(r->latency_ms) : json_null(),
	    "detail", r->detail[0] ? json_string(r->detail) : json_null());
}

/* With hosts: what their deploy.env name and their own apps report, and the drift. */
static void hosts_json(json_t *e, const struct env_status *st)
{
	char tag[PAYLOAD_TAG_MAX], why[300];
	enum drift drift = model_drift(st, tag, sizeof tag, why, sizeof why);
	json_t *hosts = json_array();

	for (size_t j = 0; j < st->hosts_len; j++) {
		const struct host_status *h = &st->hosts[j];
		json_t *services = json_null();

		/* what each service runs, from the host's container runtime */
		if (h->running_read && !h->running_error[0]) {
			services = json_array();
			for (size_t k = 0; k < h->running.len; k++)
				json_array_append_new(services, json_pack("{s:s, s:s, s:s, s:o}",
				    "service", h->running.list[k].name, "repository", h->running.list[k].repo,
				    "tag", running_tag(&h->running.list[k], h->app_tag, h->app_digest),
				    "digest", h->running.list[k].digest[0] ?
				    json_string(h->running.list[k].digest) : json_null()));
		}
		json_array_append_new(hosts, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}",
		    "address", st->hosts[j].name,
		    "deployed", h->app_tag[0] ? json_string(h->app_tag) : json_null(),
		    "app_version", h->app_version[0] ? json_string(h->app_version) : json_null(),
		    "services", services,
		    "services_error", h->running_error[0] ? json_string(h->running_error) : json_null(),
		    "error", h->deploy_error[0] ? json_string(h->deploy_error) :
		    h->app_version_error[0] ? json_string(h->app_version_error) : json_null()));
	}
	json_object_set_new(e, "deployed", tag[0] ? json_string(tag) : json_null());
	json_object_set_new(e, "drift", json_string(model_drift_name(drift)));
	json_object_set_new(e, "drift_detail", why[0] ? json_string(why) : json_null());
	json_object_set_new(e, "hosts", hosts);
	json_object_set_new(e, "unfinished", model_unfinished(st, why, sizeof why) ?
	    json_string(why) : json_null());
	json_object_set_new(e, "rollout", model_rollout_words(st, why, sizeof why) ?
	    json_string(why) : json_null());
}

void status_print_json(FILE *out, const struct model *model)
{
	json_t *root, *envs;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	envs = json_array();
	for (size_t i = 0; i < model->envs_len; i++) {
		const struct env_status *st = &model->envs[i];

		json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
		    "name", st->conf->name,
		    "url", st->conf->url,
		    "health", model_health_name(st->health),
		    "tag", st->tag[0] ? json_string(st->tag) : json_null(),
		    "live", probe_json(&st->probes[PROBE_LIVE]),
		    "ready", probe_json(&st->probes[PROBE_READY]),
		    "version", probe_json(&st->probes[PROBE_VERSION]));

		if (st->hosts_len)
			hosts_json(e, st);
		json_array_append_new(envs, e);
	}
	root = json_pack("{s:i, s:s, s:s, s:b, s:o}",
	    "format", STATUS_JSON_FORMAT,
	    "project", model->conf->project,
	    "generated_at", stamp,
	    "ok", status_exit_code(model) == 0,
	    "environments", envs);
	if (!root)
		die("cannot build the status JSON");
	json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
}

int status_exit_code(const struct model *model)
{
	const char *why;
	size_t at;

	/* ready, and every host read: what was not read is not known to be fine */
	for (size_t i = 0; i < model->envs_len; i++)
		if (model->envs[i].health != HEALTH_READY || hosts_unread(&model->envs[i], &why, &at) ||
		    services_unlisted(&model->envs[i], &at))
			return 1;
	return 0;
}

/* After the round's deadline, a host whose state did not come is an error with its
 * reason (its link's), never a silent null. */
static void mark_unread(struct app *app, int64_t waited_ms)
{
	char secs[16];

	duration_format(waited_ms, secs, sizeof secs);
	for (size_t i = 0; i < app->model->envs_len; i++) {
		struct env_status *st = &app->model->envs[i];
		const struct target *t = app_target(app, st->conf);

		for (size_t j = 0; j < st->hosts_len; j++) {
			struct host_status *h = &st->hosts[j];
			struct link_status link;

			if (h->state_known || h->deploy_error[0])
				continue;
			t->ops->link(t, j, loop_clock_ms(), &link);
			snprintf(h->deploy_error, sizeof h->deploy_error, "not read within %s (%s%s%s)",
			    secs, link_state_name(link.state), link.message && link.message[0] ? ": " : "",
			    link.message ? link.message : "");
		}
	}
}

/* gantry status: one round of every environment, printed. */
int cmd_status(struct conf *conf, const struct cli_options *o)
{
	struct app *app = app_new(conf);
	int64_t longest = 0, deadline;
	int code;

	for (size_t i = 0; i < conf->envs_len; i++)
		if (conf->envs[i].timeout_ms > longest)
			longest = conf->envs[i].timeout_ms;
	/* every request has its own deadline; this one only guards against a bug */
	deadline = loop_clock_ms() + longest + 5000;
	prober_start(app->prober);
	/* what the hosts' deploy.env name (and their own apps report): the cross-check */
	for (size_t i = 0; i < conf->envs_len; i++) {
		for (size_t j = 0; j < conf->envs[i].hosts_len; j++) {
			int64_t t = conf->envs[i].connect_timeout_ms + conf->envs[i].timeout_ms + 5000;

			if (loop_clock_ms() + t > deadline)
				deadline = loop_clock_ms() + t;
		}
	}
	deploywatch_start(app->deploywatch);
	{
		int64_t t0 = loop_clock_ms();

		while ((!model_all_checked(app->model) || !model_hosts_read(app->model)) &&
		    loop_clock_ms() < deadline)
			loop_run_once(app->loop, 1000);
		mark_unread(app, loop_clock_ms() - t0);
	}
	if (o->json)
		status_print_json(stdout, app->model);
	else
		status_print_text(stdout, app->model);
	fflush(stdout);
	code = status_exit_code(app->model);
	app_free(app);
	return code == 0 ? EXIT_OK : EXIT_NOT_READY;
}
