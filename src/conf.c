/* gantry.yml: finding it, reading it, and saying exactly where it is wrong. */
#include "config.h"

#include "conf.h"
#include "confread.h"
#include "trust.h"
#include "xmalloc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What the top-level table reads into: the result and the parts read in a second pass. */
struct conf_reader {
	struct conf conf;
	struct conf_env defaults;       /* copied into every environment first */
	const struct ynode *envs_node;  /* read after `defaults`, wherever that stands */
};

const char *conf_log_source_name(enum log_source source)
{
	return source == LOG_APP ? "app" : "migrator";
}

const char *conf_host_deploy_dir(const struct conf_env *env, const struct conf_host *host)
{
	return host->deploy_dir ? host->deploy_dir : env->deploy_dir;
}

const char *conf_host_app_port(const struct conf_env *env, const struct conf_host *host)
{
	return host && host->app_port ? host->app_port : env->deploy.port;
}

const char *conf_host_app_url(const struct conf_env *env, const struct conf_host *host)
{
	if (host && host->app_url)
		return host->app_url;
	return env->deploy.url ? env->deploy.url : env->url;
}

static const struct schema_field logs_fields[] = {
	{ "app", parse_log_template, offsetof(struct conf_env, logs[LOG_APP]), NULL, false,
	  "command that prints the app's log (default \"" DEFAULT_LOG_APP "\")" },
	{ "migrator", parse_log_template, offsetof(struct conf_env, logs[LOG_MIGRATOR]), NULL, false,
	  "command that prints the migrator's log (default \"" DEFAULT_LOG_MIGRATOR "\")" },
	{ "tail", parse_tail, offsetof(struct conf_env, log_tail), NULL, false,
	  "lines of history asked for when a log opens, 0 to 100000 (default 200)" },
	{ "scrollback", parse_scrollback, offsetof(struct conf_env, scrollback), NULL, false,
	  "lines a log pane keeps, 100 to 1000000 (default 10000); older lines are dropped" },
	{ 0 }
};

static bool parse_logs(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, logs_fields, target);
}


/* The keys shared by `defaults` and each environment. */
#define PROBE_FIELDS \
	{ "health", schema_url_path, offsetof(struct conf_env, health_path), NULL, false, \
	  "liveness path: the process is up (default " DEFAULT_HEALTH_PATH ")" }, \
	{ "ready", schema_url_path, offsetof(struct conf_env, ready_path), NULL, false, \
	  "readiness path: database reachable, migrations applied (default " DEFAULT_READY_PATH ")" }, \
	{ "version", parse_version, 0, version_fields, false, \
	  "where the running version comes from: a path, or {path, pointer}" }, \
	{ "interval", schema_duration, offsetof(struct conf_env, interval_ms), NULL, false, \
	  "time between checks (default 5s)" }, \
	{ "timeout", schema_duration, offsetof(struct conf_env, timeout_ms), NULL, false, \
	  "time allowed for one request (default 3s)" }, \
	{ "headers", parse_headers, 0, NULL, false, \
	  "HTTP headers sent with every check; values may be {env: NAME} or {file: PATH}" }, \
	{ "deploy_dir", parse_remote_dir, offsetof(struct conf_env, deploy_dir), NULL, false, \
	  "directory on the hosts holding deploy.env and the compose file (required with hosts)" }, \
	{ "target", parse_target, offsetof(struct conf_env, target), NULL, false, \
	  "where and how the environment is deployed: compose-ssh (compose on each host, over SSH; the default)" }, \
	{ "compose", schema_string, offsetof(struct conf_env, compose), NULL, false, \
	  "the compose command on the hosts (default \"" DEFAULT_COMPOSE "\"; or docker-compose, podman-compose)" }, \
	{ "logs", parse_logs, 0, logs_fields, false, \
	  "where the app and migrator logs come from" }, \
	{ "ca_file", parse_ca_file, offsetof(struct conf_env, ca_file), NULL, false, \
	  "a PEM file of the CAs that an https url's certificate must verify against, instead of the system's" }, \
	{ "known_hosts", parse_local_file, offsetof(struct conf_env, known_hosts), NULL, false, \
	  "a known_hosts file checked besides ~/.ssh/known_hosts" }, \
	{ "identity_file", parse_local_file, offsetof(struct conf_env, identity_file), NULL, false, \
	  "the private key to log in with (tried before ~/.ssh/config's IdentityFile and the agent)" }, \
	{ "trust_new_host_keys", schema_bool, offsetof(struct conf_env, trust_new_host_keys), NULL, false, \
	  "true: accept and record the key of a host never seen before (default false); a changed key is always refused" }, \
	{ "connect_timeout", schema_duration, offsetof(struct conf_env, connect_timeout_ms), NULL, false, \
	  "time allowed to connect to a host and log in (default 10s)" }, \
	{ "command_timeout", schema_duration, offsetof(struct conf_env, command_timeout_ms), NULL, false, \
	  "time allowed for one host command that reads or records (default 30s); then it is stopped and reported" }, \
	{ "protected", schema_bool, offsetof(struct conf_env, deploy.protected_env), NULL, false, \
	  "true: a promotion or rollback must be confirmed by typing the environment's name (--yes on the command line)" }, \
	{ "soak", schema_duration, offsetof(struct conf_env, deploy.soak_ms), NULL, false, \
	  "how long the source must have run the tag, and be ready, before it is promoted here (default 0)" }, \
	{ "deploy", parse_deploy, 0, deploy_fields, false, \
	  "how a tag is deployed on the hosts (default: the compose plan)" }

static const struct schema_field defaults_fields[] = {
	PROBE_FIELDS,
	{ 0 }
};

static const struct schema_field env_fields[] = {
	{ "name", parse_env_name, offsetof(struct conf_env, name), NULL, true,
	  "the environment's name: lower case, digits, '-' and '_'" },
	{ "url", parse_base_url, offsetof(struct conf_env, url), NULL, true,
	  "base URL of the app, such as https://staging.example.com" },
	PROBE_FIELDS,
	{ "hosts", parse_hosts, 0, host_fields, false,
	  "SSH hosts: [user@]host[:port] or an ~/.ssh/config alias, or {address, deploy_dir}" },
	{ "hosts_file", parse_hosts_file, 0, NULL, false,
	  "an inventory: one host a line, ADDRESS [deploy_dir=] [app_port=] [app_url=] [labels=]" },
	{ "rollout", parse_rollout, offsetof(struct conf_env, rollout), rollout_fields, false,
	  "a fleet's strategy: its hosts in waves, each gated (default: as deploy.parallel says)" },
	{ 0 }
};

/* defaults: read into the reader's template environment. */
static bool parse_defaults(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, defaults_fields, target);
}

/* environments: kept for a second pass, once `defaults` is known. */
static bool parse_environments(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_reader *reader = target;

	if (node->type != YNODE_SEQ) {
		schema_error(ctx, node, "expected a list of environments in promotion order, got %s",
		    ytree_type_name(node));
		return false;
	}
	if (node->len == 0) {
		schema_error(ctx, node, "expected at least one environment");
		return false;
	}
	if (node->len > CONF_MAX_ENVS) {
		schema_error(ctx, node, "at most %d environments are supported", CONF_MAX_ENVS);
		return false;
	}
	reader->envs_node = node;
	return true;
}

/* project: a name shown in the title bar. */
static bool parse_project(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	if (!schema_string(ctx, node, target, field))
		return false;
	if (strlen(*(char **)target) > 64) {
		schema_error(ctx, node, "expected a project name of at most 64 characters");
		return false;
	}
	return true;
}


static const struct schema_field top_fields[] = {
	{ "project", parse_project, offsetof(struct conf_reader, conf.project), NULL, true,
	  "the project's name, shown in the title bar" },
	{ "theme", schema_string, offsetof(struct conf_reader, conf.theme), NULL, false,
	  "colour theme: a name under the themes directory or a path (default: default)" },
	{ "read_only", schema_bool, offsetof(struct conf_reader, conf.read_only), NULL, false,
	  "true: a wallboard that no key or flag can make write (default false)" },
	{ "registry", parse_registry, offsetof(struct conf_reader, conf.registry), registry_fields, false,
	  "the OCI registry the app and migrator images come from" },
	{ "defaults", parse_defaults, offsetof(struct conf_reader, defaults), defaults_fields, false,
	  "values every environment starts from" },
	{ "environments", parse_environments, 0, env_fields, true,
	  "the environments, in promotion order" },
	{ 0 }
};

bool conf_has_secrets(const struct conf *conf)
{
	if (conf->registry && conf->registry->password.value)
		return true;
	for (size_t i = 0; i < conf->envs_len; i++)
		for (size_t h = 0; h < conf->envs[i].headers_len; h++)
			if (conf->envs[i].headers[h].value.value && conf->envs[i].headers[h].value.value[0])
				return true;
	return false;
}

void conf_print_keys(FILE *out)
{
	schema_print_keys(out, "", top_fields);
}

/* Copies a string that may be NULL. */
static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Starts an environment from the defaults (deep copy). */
static void env_copy_defaults(struct conf_env *env, const struct conf_env *d)
{
	memset(env, 0, sizeof *env);
	env->health_path = dup_or_null(d->health_path);
	env->ready_path = dup_or_null(d->ready_path);
	env->version_path = dup_or_null(d->version_path);
	env->version_pointer = dup_or_null(d->version_pointer);
	env->interval_ms = d->interval_ms;
	env->timeout_ms = d->timeout_ms;
	env->headers = xcalloc(d->headers_len + 1, sizeof *env->headers);
	for (size_t i = 0; i < d->headers_len; i++) {
		env->headers[i].name = xstrdup(d->headers[i].name);
		env->headers[i].value.value = xstrdup(d->headers[i].value.value);
		env->headers[i].value.source = xstrdup(d->headers[i].value.source);
	}
	env->headers_len = d->headers_len;
	env->deploy_dir = dup_or_null(d->deploy_dir);
	env->compose = dup_or_null(d->compose);
	for (int i = 0; i < LOG_SOURCES; i++)
		env->logs[i] = dup_or_null(d->logs[i]);
	env->log_tail = d->log_tail;
	env->scrollback = d->scrollback;
	env->known_hosts = dup_or_null(d->known_hosts);
	env->ca_file = dup_or_null(d->ca_file);
	env->identity_file = dup_or_null(d->identity_file);
	env->trust_new_host_keys = d->trust_new_host_keys;
	env->connect_timeout_ms = d->connect_timeout_ms;
	env->command_timeout_ms = d->command_timeout_ms;
	env->deploy = d->deploy;
	if (d->deploy.steps) {
		env->deploy.steps = xcalloc(d->deploy.steps_len, sizeof *env->deploy.steps);
		for (size_t i = 0; i < d->deploy.steps_len; i++) {
			env->deploy.steps[i] = d->deploy.steps[i];
			env->deploy.steps[i].name = xstrdup(d->deploy.steps[i].name);
			env->deploy.steps[i].run = xstrdup(d->deploy.steps[i].run);
		}
	}
	env->deploy.smoke = xcalloc(d->deploy.smoke_len + 1, sizeof *env->deploy.smoke);
	for (size_t i = 0; i < d->deploy.smoke_len; i++) {
		env->deploy.smoke[i].path = xstrdup(d->deploy.smoke[i].path);
		env->deploy.smoke[i].status = d->deploy.smoke[i].status;
		env->deploy.smoke[i].body = dup_or_null(d->deploy.smoke[i].body);
	}
	env->deploy.services = dup_or_null(d->deploy.services);
	env->deploy.migrator = dup_or_null(d->deploy.migrator);
	env->deploy.infra = dup_or_null(d->deploy.infra);
	env->deploy.port = dup_or_null(d->deploy.port);
	env->deploy.url = dup_or_null(d->deploy.url);
	env->deploy.image_check = dup_or_null(d->deploy.image_check);
	env->deploy.running = dup_or_null(d->deploy.running);
	env->deploy.retag = dup_or_null(d->deploy.retag);
}

/* Frees what an environment owns. */
static void env_clear(struct conf_env *env)
{
	free(env->name);
	free(env->url);
	free(env->health_path);
	free(env->ready_path);
	free(env->version_path);
	free(env->version_pointer);
	for (size_t i = 0; i < env->headers_len; i++) {
		free(env->headers[i].name);
		free(env->headers[i].value.value);
		free(env->headers[i].value.source);
	}
	free(env->headers);
	for (size_t i = 0; i < env->hosts_len; i++)
		host_clear(&env->hosts[i]);
	free(env->hosts);
	free(env->hosts_file);
	free(env->rollout.waves);
	free(env->deploy_dir);
	free(env->compose);
	for (int i = 0; i < LOG_SOURCES; i++)
		free(env->logs[i]);
	free(env->known_hosts);
	free(env->ca_file);
	free(env->identity_file);
	steps_free(env->deploy.steps, env->deploy.steps_len);
	smoke_free(env->deploy.smoke, env->deploy.smoke_len);
	free(env->deploy.services);
	free(env->deploy.migrator);
	free(env->deploy.infra);
	free(env->deploy.port);
	free(env->deploy.url);
	free(env->deploy.image_check);
	free(env->deploy.running);
	free(env->deploy.retag);
	memset(env, 0, sizeof *env);
}

/* True when every host names its own deploy directory. */
static bool hosts_have_dirs(const struct conf_env *env)
{
	for (size_t i = 0; i < env->hosts_len; i++)
		if (!env->hosts[i].deploy_dir)
			return false;
	return true;
}

/* deploy.retag moves tags that no build is deployed by: never one the tag pattern lets
 * through, which names an immutable build. */
static bool check_retag(struct schema_ctx *ctx, const struct conf *conf, const struct conf_env *env,
    const struct ynode *env_node)
{
	const struct ynode *deploy = ytree_get(env_node, "deploy");
	const struct ynode *at = deploy ? ytree_get(deploy, "retag") : NULL;
	char *words, *save = NULL;
	regex_t re;
	bool ok = true;
	size_t mark;

	if (!env->deploy.retag || !env->deploy.retag[0])
		return true;
	/* where it is written: here, else under defaults (then the environment is named) */
	mark = schema_path_push(ctx, "%s", at ? ".deploy.retag" : "");
	if (!at)
		at = env_node;
	if (!conf->registry) {
		schema_error(ctx, at, "deploy.retag moves tags in the registry: add a registry section");
		ok = false;
	} else if (regcomp(&re, conf->registry->tag_pattern, REG_EXTENDED | REG_NOSUB) == 0) {
		words = xstrdup(env->deploy.retag);
		for (char *w = strtok_r(words, " ", &save); w && ok; w = strtok_r(NULL, " ", &save)) {
			if (regexec(&re, w, 0, NULL, 0) == 0) {
				schema_error(ctx, at, "\"%s\" matches registry.tags, so it names a build; "
				    "deploy.retag moves tags no build is deployed by (builds' tags never "
				    "move)", w);
				ok = false;
			}
		}
		free(words);
		regfree(&re);
	}
	schema_path_pop(ctx, mark);
	return ok;
}

/* Second pass: each environment from the defaults, then its own keys; names unique. */
static bool read_environments(struct schema_ctx *ctx, struct conf_reader *reader)
{
	const struct ynode *list = reader->envs_node;
	struct conf *conf = &reader->conf;
	bool ok = true;

	conf->envs = xcalloc(list->len, sizeof *conf->envs);
	for (size_t i = 0; i < list->len; i++) {
		struct conf_env *env = &conf->envs[conf->envs_len++];
		size_t mark = schema_path_push(ctx, "environments[%zu]", i);

		env_copy_defaults(env, &reader->defaults);
		env->line = list->items[i]->line;
		if (!schema_read_map(ctx, list->items[i], env_fields, env)) {
			ok = false;
		} else if (env->hosts_len > 0 && !env->deploy_dir && !hosts_have_dirs(env)) {
			schema_error(ctx, list->items[i], "deploy_dir is required with hosts: the directory on "
			    "the host that holds deploy.env (set it here or under defaults)");
			ok = false;
		} else if (!conf_hosts_check(ctx, env, list->items[i])) {
			ok = false;
		} else if (!check_retag(ctx, conf, env, list->items[i])) {
			ok = false;
		} else if (env->timeout_ms > env->interval_ms * 10) {
			schema_error(ctx, list->items[i], "timeout (%lldms) is more than ten intervals (%lldms)",
			    (long long)env->timeout_ms, (long long)env->interval_ms);
			ok = false;
		} else {
			for (size_t j = 0; j < i; j++) {
				if (conf->envs[j].name && strcmp(conf->envs[j].name, env->name) == 0) {
					const struct ynode *name = ytree_get(list->items[i], "name");

					schema_path_push(ctx, ".name");
					schema_error(ctx, name, "environment \"%s\" is already defined at line %d",
					    env->name, conf->envs[j].line);
					ok = false;
				}
			}
		}
		schema_path_pop(ctx, mark);
	}
	return ok;
}

struct conf *conf_parse(const char *name, const char *buf, size_t len, struct schema_errors *errs)
{
	struct conf_reader reader;
	struct schema_ctx ctx;
	struct ytree_error yerr;
	struct ynode *root;
	char *dir = NULL, *slash;
	bool ok;

	memset(&reader, 0, sizeof reader);
	memset(&ctx, 0, sizeof ctx);
	ctx.file = name;
	ctx.errs = errs;
	root = ytree_parse(buf, len, &yerr);
	if (!root) {
		schema_error_at(&ctx, yerr.line, yerr.col, "%s", yerr.message);
		return NULL;
	}
	dir = xstrdup(name);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	ctx.base_dir = dir;

	reader.defaults.health_path = xstrdup(DEFAULT_HEALTH_PATH);
	reader.defaults.ready_path = xstrdup(DEFAULT_READY_PATH);
	reader.defaults.version_path = xstrdup(DEFAULT_VERSION_PATH);
	reader.defaults.version_pointer = xstrdup(DEFAULT_VERSION_POINTER);
	reader.defaults.interval_ms = DEFAULT_INTERVAL_MS;
	reader.defaults.timeout_ms = DEFAULT_TIMEOUT_MS;
	reader.defaults.compose = xstrdup(DEFAULT_COMPOSE);
	reader.defaults.logs[LOG_APP] = xstrdup(DEFAULT_LOG_APP);
	reader.defaults.logs[LOG_MIGRATOR] = xstrdup(DEFAULT_LOG_MIGRATOR);
	reader.defaults.log_tail = DEFAULT_LOG_TAIL;
	reader.defaults.scrollback = DEFAULT_SCROLLBACK;
	reader.defaults.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	reader.defaults.command_timeout_ms = 30000;
	reader.defaults.deploy.services = xstrdup(DEFAULT_SERVICES);
	reader.defaults.deploy.migrator = xstrdup(DEFAULT_MIGRATOR_SERVICE);
	reader.defaults.deploy.infra = xstrdup("");
	reader.defaults.deploy.image_check = xstrdup(DEFAULT_IMAGE_CHECK);
	reader.defaults.deploy.running = xstrdup(DEFAULT_RUNNING);
	reader.defaults.deploy.ready_timeout_ms = DEFAULT_READY_TIMEOUT_MS;
	reader.defaults.deploy.ready_interval_ms = DEFAULT_READY_INTERVAL_MS;
	reader.defaults.deploy.parallel = 1;

	if (root->type != YNODE_MAP) {
		schema_error(&ctx, root, "expected a mapping with project and environments, got %s",
		    ytree_type_name(root));
		ok = false;
	} else {
		ok = schema_read_map(&ctx, root, top_fields, &reader);
		if (ok && reader.envs_node)
			ok = read_environments(&ctx, &reader);
	}
	env_clear(&reader.defaults);
	ytree_free(root);
	free(dir);
	if (!ok) {
		struct conf *partial = xmalloc(sizeof *partial);

		*partial = reader.conf;
		conf_free(partial);
		return NULL;
	}
	{
		struct conf *conf = xmalloc(sizeof *conf);

		*conf = reader.conf;
		conf->path = xstrdup(name);
		return conf;
	}
}

struct conf *conf_load(const char *path, struct schema_errors *errs)
{
	char why[300];
	size_t len;
	char *buf = read_small_file(path, CONF_MAX_FILE_BYTES, &len, why, sizeof why);
	struct conf *conf;

	if (!buf) {
		schema_errors_add_message(errs, xasprintf("%s: cannot read the configuration: %s", path, why));
		return NULL;
	}
	conf = conf_parse(path, buf, len, errs);
	free(buf);
	return conf;
}

void conf_free(struct conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->envs_len; i++)
		env_clear(&conf->envs[i]);
	free(conf->envs);
	conf_registry_free(conf->registry);
	free(conf->path);
	free(conf->project);
	free(conf->theme);
	free(conf);
}

const struct conf_env *conf_env_by_name(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->envs_len; i++)
		if (strcmp(conf->envs[i].name, name) == 0)
			return &conf->envs[i];
	return NULL;
}

/* Adds a candidate path to the lookup list. */
static void lookup_try(struct conf_lookup *lookup, char *path)
{
	struct stat st;

	if (lookup->found || lookup->tried_len >= sizeof lookup->tried / sizeof lookup->tried[0]) {
		free(path);
		return;
	}
	lookup->tried[lookup->tried_len++] = path;
	if (stat(path, &st) == 0)
		lookup->found = xstrdup(path);
}

void conf_find(const char *cli_path, struct conf_lookup *lookup)
{
	const char *env = getenv("GANTRY_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	memset(lookup, 0, sizeof *lookup);
	if (cli_path) {
		/* an explicit file is used as given, so a missing one is reported as such */
		lookup->tried[lookup->tried_len++] = xstrdup(cli_path);
		lookup->found = xstrdup(cli_path);
		return;
	}
	if (env && *env) {
		lookup->tried[lookup->tried_len++] = xstrdup(env);
		lookup->found = xstrdup(env);
		return;
	}
	/* never from a directory others can write (a shared /tmp): anyone could plant one */
	if (trust_dir("."))
		lookup_try(lookup, xstrdup("gantry.yml"));
	else if (lookup->tried_len < sizeof lookup->tried / sizeof lookup->tried[0])
		lookup->tried[lookup->tried_len++] = xstrdup("gantry.yml (not looked for: other users "
		    "can write the current directory)");
	if (xdg && *xdg)
		lookup_try(lookup, xasprintf("%s/gantry/config.yml", xdg));
	else if (home && *home)
		lookup_try(lookup, xasprintf("%s/.config/gantry/config.yml", home));
}

void conf_lookup_free(struct conf_lookup *lookup)
{
	for (size_t i = 0; i < lookup->tried_len; i++)
		free(lookup->tried[i]);
	free(lookup->found);
	memset(lookup, 0, sizeof *lookup);
}
