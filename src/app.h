/* The running core: configuration, loop, HTTP client, model and prober, wired once. */
#ifndef GANTRY_APP_H
#define GANTRY_APP_H

#include <stdio.h>

#include "conf.h"
#include "deploy.h"
#include "deploywatch.h"
#include "http.h"
#include "loop.h"
#include "model.h"
#include "prober.h"
#include "registrywatch.h"
#include "target.h"

struct app {
	struct conf *conf;              /* owned */
	struct loop *loop;
	struct http_client *http;
	struct model *model;
	struct prober *prober;
	struct deploywatch *deploywatch;
	struct registry *registry;      /* NULL when the configuration names none */
	struct registrywatch *registrywatch;    /* whether it answers (the dashboard's) */
	struct bus *bus;                /* deploys' and admin actions' events */
	struct target *targets;         /* each environment's, in conf->envs' order */
	char operator[128];             /* who runs this gantry: $GANTRY_OPERATOR, else user@host */
};

/* Finds and reads the configuration; prints every error to `err` and returns NULL. */
struct conf *app_load_conf(const char *cli_path, FILE *err);

/* Wires the core around a configuration (taking ownership); nothing starts yet.
 * A UI attaches itself with prober_set_listener(). */
struct app *app_new(struct conf *conf);
void app_free(struct app *app);

/* An environment's deploy target. */
const struct target *app_target(struct app *app, const struct conf_env *env);
/* The same as a callback (deploy_ctx.target), with the app as `app`. */
const struct target *app_target_of(void *app, const struct conf_env *env);

/* What a promotion, rollback or deploy needs from the app. */
void app_deploy_ctx(struct app *app, struct deploy_ctx *ctx);

#endif
