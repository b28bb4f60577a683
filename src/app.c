/* The running core: configuration, loop, HTTP client, model and prober, wired once. */
#include "config.h"

#include "app.h"
#include "remote.h"
#include "exitcode.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

struct conf *app_load_conf(const char *cli_path, FILE *err)
{
	struct conf_lookup lookup;
	struct schema_errors errs = { 0 };
	struct conf *conf;

	conf_find(cli_path, &lookup);
	if (!lookup.found) {
		fprintf(err, "gantry: no configuration found; looked for:\n");
		for (size_t i = 0; i < lookup.tried_len; i++)
			fprintf(err, "  %s\n", lookup.tried[i]);
		fprintf(err, "Create one (see gantry.yml(5) and examples/), or name it with --config FILE.\n");
		conf_lookup_free(&lookup);
		return NULL;
	}
	conf = conf_load(lookup.found, &errs);
	if (!conf) {
		schema_errors_print(&errs, err);
		fprintf(err, "gantry: %s has errors; nothing was started (see gantry.yml(5))\n",
		    lookup.found);
	}
	schema_errors_free(&errs);
	conf_lookup_free(&lookup);
	return conf;
}

/* A host's link changed: told on the bus, as every target tells it. */
static void link_changed(void *arg, struct remote_host *host)
{
	struct app *app = arg;
	const struct conf_env *env = remote_host_env(host);
	const struct conf_host *h = remote_host_conf(host);

	bus_emit(app->bus, &(struct bus_event){
		.kind = BUS_LINK_CHANGED, .env = env->name, .host = (size_t)(h - env->hosts),
		.host_name = h->address, .text = link_state_name(remote_host_state(host)),
	});
}

struct app *app_new(struct conf *conf)
{
	struct app *app = xcalloc(1, sizeof *app);

	app->conf = conf;
	app->loop = loop_new();
	app->http = http_client_new(app->loop);
	app->model = model_new(conf, loop_clock_ms());
	app->bus = bus_new();
	app->prober = prober_new(app->loop, app->http, app->model, NULL, NULL);
	/* no core dump ever: a core would hold the configuration's secrets, registry tokens
	 * and libssh's decrypted private key */
	{
		struct rlimit none = { 0, 0 };

		setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	}
	app->remote = remote_new(app->loop);
	remote_set_read_only(app->remote, conf->read_only);
	remote_set_listener(app->remote, link_changed, app);
	app->hosts = xcalloc(conf->envs_len + 1, sizeof *app->hosts);
	for (size_t i = 0; i < conf->envs_len; i++) {
		app->hosts[i] = xcalloc(conf->envs[i].hosts_len + 1, sizeof *app->hosts[i]);
		for (size_t j = 0; j < conf->envs[i].hosts_len; j++)
			app->hosts[i][j] = remote_host_add(app->remote, &conf->envs[i], &conf->envs[i].hosts[j]);
	}
	app->targets = xcalloc(conf->envs_len + 1, sizeof *app->targets);
	for (size_t i = 0; i < conf->envs_len; i++)
		target_init(&app->targets[i], &conf->envs[i], app->loop, app_host_of, app);
	app->deploywatch = deploywatch_new(app->loop, app->model, app_target_of, app);
	if (conf->registry)
		app->registry = registry_new(app->loop, conf->registry);
	app->registrywatch = registrywatch_new(app->loop, app->registry, app->model);
	deploy_operator(app->operator, sizeof app->operator);
	return app;
}

struct remote_host *app_host(struct app *app, const struct conf_env *env, size_t j)
{
	return app->hosts[env - app->conf->envs][j];
}

struct remote_host *app_host_of(void *app, const struct conf_env *env, size_t j)
{
	return app_host(app, env, j);
}

const struct target *app_target(struct app *app, const struct conf_env *env)
{
	return &app->targets[env - app->conf->envs];
}

const struct target *app_target_of(void *app, const struct conf_env *env)
{
	return app_target(app, env);
}

void app_deploy_ctx(struct app *app, struct deploy_ctx *ctx)
{
	*ctx = (struct deploy_ctx){
		.loop = app->loop, .conf = app->conf, .http = app->http, .registry = app->registry,
		.target = app_target_of, .target_arg = app, .operator = app->operator,
		.bus = app->bus,
	};
}

void app_free(struct app *app)
{
	if (!app)
		return;
	prober_free(app->prober);
	bus_free(app->bus);
	free(app->targets);
	deploywatch_free(app->deploywatch);
	registrywatch_free(app->registrywatch);
	if (app->registry)
		registry_free(app->registry);
	remote_free(app->remote);
	for (size_t i = 0; app->hosts && i < app->conf->envs_len; i++)
		free(app->hosts[i]);
	free(app->hosts);
	http_client_free(app->http);
	model_free(app->model);
	loop_free(app->loop);
	conf_free(app->conf);
	free(app);
}
