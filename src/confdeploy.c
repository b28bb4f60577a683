/* gantry.yml: an environment's deploy section (its plan's steps, smoke checks, services,
 * the commands it runs on the hosts, retag, the rollout's parallelism). */
#include "config.h"

#include "confread.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* deploy.image_check: a template over conf_image_check_vars. */
static bool parse_image_check(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_template_of(ctx, node, target, field, conf_image_check_vars);
}

/* deploy.running: a template over conf_running_vars, or null for none. */
static bool parse_running(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	if (ytree_is_null(node)) {
		free(*(char **)target);
		*(char **)target = xstrdup("");
		return true;
	}
	return parse_template_of(ctx, node, target, field, conf_running_vars);
}

/* deploy.retag: registry tags, as a string of words or a list; null for none. */
static bool parse_retag(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char *out = xstrdup(""), *s;
	const struct ynode *one = node;
	size_t n = node->type == YNODE_SEQ ? node->len : 1;

	if (ytree_is_null(node))
		n = 0;
	for (size_t i = 0; i < n; i++) {
		char *words = NULL, *save = NULL;

		if (node->type == YNODE_SEQ)
			one = node->items[i];
		if (!schema_string(ctx, one, &words, NULL)) {
			free(out);
			return false;
		}
		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (!value_tag(w)) {
				schema_error(ctx, one, "\"%s\" is not a tag: letters, digits, '_', '.' and '-', "
				    "at most 128, not starting with '.' or '-'", w);
				free(words);
				free(out);
				return false;
			}
			s = xasprintf("%s%s%s", out, *out ? " " : "", w);
			free(out);
			out = s;
		}
		free(words);
	}
	free(*(char **)target);
	*(char **)target = out;
	return true;
}

/* A step's command: a template over conf_step_vars. */
static bool parse_step_template(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char why[400];

	if (!schema_string(ctx, node, target, field))
		return false;
	if (!template_check(*(char **)target, conf_step_vars, why, sizeof why)) {
		schema_error(ctx, node, "%s", why);
		return false;
	}
	return true;
}

static const struct schema_field step_fields[] = {
	{ "name", parse_step_template, offsetof(struct conf_step, name), NULL, false,
	  "what the step does, shown and recorded (default: its command); may use the same {variables}" },
	{ "run", parse_step_template, offsetof(struct conf_step, run), NULL, true,
	  "the command, run by sh in the deploy directory; {tag}, {app_image} ... are filled in" },
	{ "timeout", schema_duration, offsetof(struct conf_step, timeout_ms), NULL, false,
	  "time the step may take before it is stopped and fails (default 10m)" },
	{ "switch", schema_bool, offsetof(struct conf_step, switch_point), NULL, false,
	  "true on the step that replaces the running app: a cancel is refused from it on" },
	{ "once", schema_bool, offsetof(struct conf_step, once), NULL, false,
	  "true: only on the first host of the environment (migrations, a scheduler)" },
	{ "migration", schema_bool, offsetof(struct conf_step, migration), NULL, false,
	  "true: the step migrates the database; a rollback skips it, and crossing it is warned of" },
	{ 0 }
};

void steps_free(struct conf_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(steps[i].name);
		free(steps[i].run);
	}
	free(steps);
}

void smoke_free(struct conf_smoke *smoke, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(smoke[i].path);
		free(smoke[i].body);
	}
	free(smoke);
}

/* deploy.steps: a list of {name, run, timeout, switch, once, migration}. */
static bool parse_steps(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	bool ok = true;

	if (node->type != YNODE_SEQ || node->len == 0) {
		schema_error(ctx, node, "expected a list of steps, such as [{name: deploy, run: ./deploy.sh {tag}}]");
		return false;
	}
	if (node->len > CONF_MAX_STEPS) {
		schema_error(ctx, node, "at most %d steps are supported", CONF_MAX_STEPS);
		return false;
	}
	steps_free(env->deploy.steps, env->deploy.steps_len);
	env->deploy.steps = xcalloc(node->len, sizeof *env->deploy.steps);
	env->deploy.steps_len = 0;
	for (size_t i = 0; i < node->len; i++) {
		struct conf_step step = { .timeout_ms = DEFAULT_STEP_TIMEOUT_MS };
		size_t mark = schema_path_push(ctx, "[%zu]", i);

		if (node->items[i]->type != YNODE_MAP) {
			schema_error(ctx, node->items[i], "expected a step: {name, run}, got %s",
			    ytree_type_name(node->items[i]));
			ok = false;
		} else if (schema_read_map(ctx, node->items[i], step_fields, &step)) {
			if (!step.name)
				step.name = xstrndup(step.run, 60);
			env->deploy.steps[env->deploy.steps_len++] = step;
		} else {
			free(step.name);
			free(step.run);
			ok = false;
		}
		schema_path_pop(ctx, mark);
	}
	return ok;
}

static bool parse_status(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	int64_t v;

	if (!parse_count(ctx, node, &v, 100, 599))
		return false;
	*(long *)target = (long)v;
	return true;
}

/* A smoke check's text: one line, not empty. */
static bool parse_smoke_body(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;

	if (!schema_string(ctx, node, target, field))
		return false;
	if (!**dst) {
		schema_error(ctx, node, "expected the text the body must contain, not an empty string");
		return false;
	}
	return true;
}

static const struct schema_field smoke_fields[] = {
	{ "path", schema_url_path, offsetof(struct conf_smoke, path), NULL, true,
	  "path requested from the app, such as /api/version" },
	{ "status", parse_status, offsetof(struct conf_smoke, status), NULL, false,
	  "the HTTP status it must answer (default 200)" },
	{ "body", parse_smoke_body, offsetof(struct conf_smoke, body), NULL, false,
	  "text the body must contain, anywhere in its first MiB" },
	{ 0 }
};

/* deploy.smoke: a list of paths, or of {path, status}. */
static bool parse_smoke(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	bool ok = true;

	if (node->type != YNODE_SEQ) {
		schema_error(ctx, node, "expected a list of checks, such as [/api/version, {path: /login, status: 302}]");
		return false;
	}
	if (node->len > CONF_MAX_SMOKE) {
		schema_error(ctx, node, "at most %d smoke checks are supported", CONF_MAX_SMOKE);
		return false;
	}
	smoke_free(env->deploy.smoke, env->deploy.smoke_len);
	env->deploy.smoke = xcalloc(node->len + 1, sizeof *env->deploy.smoke);
	env->deploy.smoke_len = 0;
	for (size_t i = 0; i < node->len; i++) {
		struct conf_smoke check = { .status = 200 };
		size_t mark = schema_path_push(ctx, "[%zu]", i);
		bool good = node->items[i]->type == YNODE_MAP ?
		    schema_read_map(ctx, node->items[i], smoke_fields, &check) :
		    schema_url_path(ctx, node->items[i], &check.path, NULL);

		if (good) {
			env->deploy.smoke[env->deploy.smoke_len++] = check;
		} else {
			free(check.path);
			free(check.body);
		}
		ok = ok && good;
		schema_path_pop(ctx, mark);
	}
	return ok;
}

/* Compose service names separated by spaces; "" only where `empty_ok`. */
static bool parse_service_words(struct schema_ctx *ctx, const struct ynode *node, void *target,
    bool empty_ok)
{
	const char *s;

	if (!schema_string(ctx, node, target, NULL))
		return false;
	s = *(char **)target;
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._- ", *p)) {
			schema_error(ctx, node, "expected compose service names separated by spaces, "
			    "such as \"app worker\"; '%c' is not allowed", *p);
			return false;
		}
	}
	if (!empty_ok && strspn(s, " ") == strlen(s)) {
		schema_error(ctx, node, "expected at least one compose service name");
		return false;
	}
	return true;
}

static bool parse_services(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_service_words(ctx, node, target, false);
}

static bool parse_services_or_none(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	if (ytree_is_null(node)) {
		free(*(char **)target);
		*(char **)target = xstrdup("");
		return true;
	}
	return parse_service_words(ctx, node, target, true);
}


#define DEPLOY_FIELD(m) offsetof(struct conf_env, deploy.m)
const struct schema_field deploy_fields[] = {
	{ "steps", parse_steps, 0, step_fields, false,
	  "the plan, replacing the default compose plan: a list of {name, run, timeout, switch, once, migration}" },
	{ "services", parse_services, DEPLOY_FIELD(services), NULL, false,
	  "compose services that run the app image and move with it (default \"" DEFAULT_SERVICES "\")" },
	{ "migrator", parse_services_or_none, DEPLOY_FIELD(migrator), NULL, false,
	  "compose service that runs the migrations, or null for none (default \"" DEFAULT_MIGRATOR_SERVICE "\")" },
	{ "infra", parse_services_or_none, DEPLOY_FIELD(infra), NULL, false,
	  "compose services started before migrating, such as \"postgres redis\" (default none)" },
	{ "port", parse_port, DEPLOY_FIELD(port), NULL, false,
	  "host port of the app, written to deploy.env as APP_PORT (default: deploy.env's is kept)" },
	{ "url", parse_plain_url, DEPLOY_FIELD(url), NULL, false,
	  "base URL the host reaches its own app at, for ready and smoke checks (default: the environment's url)" },
	{ "image_check", parse_image_check, DEPLOY_FIELD(image_check), NULL, false,
	  "host command that exits 0 when {image} is on the host: a rollback with the registry down "
	  "goes ahead only where it is (default \"" DEFAULT_IMAGE_CHECK "\")" },
	{ "running", parse_running, DEPLOY_FIELD(running), NULL, false,
	  "host command printing each running service and its image, one \"SERVICE IMAGE\" a line, "
	  "or null for none: the dashboard shows each service's tag and flags drift between them "
	  "(default: docker inspect of {compose} ps -q)" },
	{ "retag", parse_retag, DEPLOY_FIELD(retag), NULL, false,
	  "registry tags moved to the deployed build once every host is ready, such as stable: "
	  "a word or a list (default none; needs credentials that may push)" },
	{ "ready_timeout", schema_duration, DEPLOY_FIELD(ready_timeout_ms), NULL, false,
	  "time the new app has to pass the ready check (default 2m)" },
	{ "ready_interval", schema_duration, DEPLOY_FIELD(ready_interval_ms), NULL, false,
	  "time between ready checks while waiting (default 2s)" },
	{ "smoke", parse_smoke, 0, smoke_fields, false,
	  "HTTP checks after ready: a list of paths, or of {path, status}" },
	{ "auto_rollback", schema_bool, DEPLOY_FIELD(auto_rollback), NULL, false,
	  "true: when the new app fails ready or a smoke check, go back to the previous tag by itself" },
	{ "parallel", parse_parallel, DEPLOY_FIELD(parallel), NULL, false,
	  "how many hosts run at once, 1 to 1000, after the first host ran alone (default 1: one after another)" },
	{ 0 }
};

bool parse_deploy(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, deploy_fields, target);
}
