/* The running core: configuration, loop, HTTP client, model and prober, wired once. */
#include "config.h"

#include "app.h"
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
	app->targets = xcalloc(conf->envs_len + 1, sizeof *app->targets);
	for (size_t i = 0; i < conf->envs_len; i++) {
		const struct target *t = &app->targets[i];
		size_t n;

		target_init(&app->targets[i], conf, &conf->envs[i], app->loop, app->bus);
		/* the model's units are the target's, named as it names them */
		n = t->ops->units(t);
		model_set_units(app->model, i, n);
		for (size_t j = 0; j < n; j++)
			snprintf(app->model->envs[i].hosts[j].name, sizeof app->model->envs[i].hosts[j].name,
			    "%s", t->ops->unit_name(t, j));
	}
	app->deploywatch = deploywatch_new(app->loop, app->model, app_target_of, app);
	if (conf->registry)
		app->registry = registry_new(app->loop, conf->registry);
	app->registrywatch = registrywatch_new(app->loop, app->registry, app->model);
	deploy_operator(app->operator, sizeof app->operator);
	return app;
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
	deploywatch_free(app->deploywatch);
	registrywatch_free(app->registrywatch);
	if (app->registry)
		registry_free(app->registry);
	for (size_t i = 0; app->targets && i < app->conf->envs_len; i++)
		target_fini(&app->targets[i]);
	free(app->targets);
	bus_free(app->bus);
	http_client_free(app->http);
	model_free(app->model);
	loop_free(app->loop);
	conf_free(app->conf);
	free(app);
}
