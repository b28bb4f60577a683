/* gantry.yml: finding it, reading it, and saying exactly where it is wrong. */
#include "config.h"

#include "conf.h"
#include "trust.h"
#include "sanitize.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"
#include "yamltree.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONF_MAX_FILE_BYTES (1024 * 1024)
#define CONF_MAX_SECRET_BYTES (64 * 1024)
#define CONF_MAX_ENVS 1000

#define DEFAULT_HEALTH_PATH "/api/health"
#define DEFAULT_READY_PATH "/api/ready"
#define DEFAULT_VERSION_PATH "/api/version"
#define DEFAULT_VERSION_POINTER "/version"
#define DEFAULT_INTERVAL_MS 5000
#define DEFAULT_TIMEOUT_MS 3000
#define DEFAULT_COMPOSE "docker compose"
#define DEFAULT_LOG_APP "{compose} logs {follow} --tail={tail} app"
#define DEFAULT_LOG_MIGRATOR "{compose} logs {follow} --tail={tail} migrator"
#define DEFAULT_LOG_TAIL 200
#define DEFAULT_IMAGE_CHECK "docker image inspect {image} >/dev/null 2>&1 || podman image exists {image}"
/* each running container of the compose project: its service and the image it was made
   from (docker's Go template: {{ is a literal brace) */
#define DEFAULT_RUNNING "{compose} ps -q | xargs -r docker inspect --format " \
	"'{{{{if .State.Running}}{{{{index .Config.Labels \"com.docker.compose.service\"}} {{{{.Config.Image}}{{{{end}}'"
#define DEFAULT_SCROLLBACK 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define CONF_MAX_HOSTS 1000
#define DEFAULT_TAG_PATTERN "^sha-[0-9a-f]{7,40}$"
#define DEFAULT_REGISTRY_TIMEOUT_MS 10000
#define DEFAULT_STEP_TIMEOUT_MS (10 * 60 * 1000)
#define DEFAULT_READY_TIMEOUT_MS (2 * 60 * 1000)
#define DEFAULT_READY_INTERVAL_MS 2000
#define DEFAULT_SERVICES "app"
#define DEFAULT_MIGRATOR_SERVICE "migrator"
#define CONF_MAX_STEPS 50
#define CONF_MAX_SMOKE 20

/* What the top-level table reads into: the result and the parts read in a second pass. */
struct conf_reader {
	struct conf conf;
	struct conf_env defaults;       /* copied into every environment first */
	const struct ynode *envs_node;  /* read after `defaults`, wherever that stands */
};

/* Reads a file into memory, refusing what is too large to be a configuration. */
static char *read_small_file(const char *path, size_t max, size_t *len, char *why, size_t whysz)
{
	FILE *f = trust_open(path, why, whysz);
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		snprintf(why, whysz, "%s", strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	if (n > max) {
		snprintf(why, whysz, "larger than %zu bytes", max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A secret: inline text, {env: NAME} or {file: PATH}, resolved now so nothing half-starts;
 * *missing is set when it is well written but cannot be resolved here (the variable is not
 * set, the file cannot be read). */
static bool read_secret(struct schema_ctx *ctx, const struct ynode *node, struct conf_secret *secret,
    bool *missing)
{
	const struct ynode *env, *file;

	if (node->type == YNODE_SCALAR) {
		if (!sanitize_is_clean(node->value) || strlen(node->value) != node->value_len) {
			schema_error(ctx, node, "control characters are not allowed in a secret");
			return false;
		}
		secret->value = xstrdup(node->value);
		secret->source = xstrdup("inline");
		return true;
	}
	if (node->type != YNODE_MAP) {
		schema_error(ctx, node, "expected text, {env: NAME} or {file: PATH}, got %s",
		    ytree_type_name(node));
		return false;
	}
	env = ytree_get(node, "env");
	file = ytree_get(node, "file");
	if (node->len != 2 || (!env && !file)) {
		schema_error(ctx, node, "expected exactly one of {env: NAME} or {file: PATH}");
		return false;
	}
	if (env) {
		const char *name = schema_scalar(ctx, env, "an environment variable name");
		const char *value;

		if (!name)
			return false;
		value = getenv(name);
		if (!value) {
			*missing = true;
			schema_error(ctx, env, "environment variable %.60s is not set; export it or use {file: PATH}",
			    name);
			return false;
		}
		if (strchr(value, '\r') || strchr(value, '\n') || !sanitize_is_clean(value)) {
			schema_error(ctx, env, "environment variable %.60s holds control characters", name);
			return false;
		}
		secret->value = xstrdup(value);
		secret->source = xasprintf("env %s", name);
	} else {
		const char *path = schema_scalar(ctx, file, "a file path");
		char *full, *buf, why[300];
		size_t len;

		if (!path)
			return false;
		if (path[0] == '~' && path[1] == '/')
			full = xasprintf("%s/%s", getenv("HOME") ? getenv("HOME") : "", path + 2);
		else
			full = path[0] == '/' || !ctx->base_dir ? xstrdup(path) :
			    xasprintf("%s/%s", ctx->base_dir, path);
		buf = read_small_file(full, CONF_MAX_SECRET_BYTES, &len, why, sizeof why);
		if (!buf) {
			*missing = true;
			schema_error(ctx, file, "cannot read %.200s: %s", full, why);
			free(full);
			return false;
		}
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (strlen(buf) != len || strchr(buf, '\n') || !sanitize_is_clean(buf)) {
			schema_error(ctx, file, "%.200s holds control characters or more than one line", full);
			free(full);
			free(buf);
			return false;
		}
		secret->value = buf;
		secret->source = xasprintf("file %s", full);
		free(full);
	}
	return true;
}

static bool parse_secret(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	bool missing = false;

	(void)field;
	return read_secret(ctx, node, target, &missing);
}

/* A secret needed only for some commands (the registry's password: not for the dashboard,
 * the wallboard or the history): one that cannot be resolved now is kept as its error,
 * reported by the command that needs it. A badly written one is still an error now. */
static bool parse_secret_when_needed(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_secret *secret = target;
	struct schema_errors errs = { 0 }, *outer = ctx->errs;
	bool missing = false, ok;

	(void)field;
	ctx->errs = &errs;
	ok = read_secret(ctx, node, secret, &missing);
	ctx->errs = outer;
	if (!ok && missing && errs.len) {
		secret->unresolved = errs.messages[0];
		errs.messages[0] = NULL;
		ok = true;
	} else {
		for (size_t i = 0; i < errs.len; i++) {
			schema_errors_add_message(outer, errs.messages[i]);
			errs.messages[i] = NULL;
		}
	}
	schema_errors_free(&errs);
	return ok;
}

/* True for characters allowed in an HTTP header name (RFC 9110 token). */
static bool header_name_char(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* headers: a mapping of header names to secrets, sent with every request. */
static bool parse_headers(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	bool ok = true;

	if (node->type != YNODE_MAP) {
		schema_error(ctx, node, "expected a mapping of header names to values, got %s",
		    ytree_type_name(node));
		return false;
	}
	for (size_t i = 0; i < env->headers_len; i++) {
		free(env->headers[i].name);
		free(env->headers[i].value.value);
		free(env->headers[i].value.source);
	}
	env->headers_len = 0;
	free(env->headers);
	env->headers = xcalloc(node->len / 2 + 1, sizeof *env->headers);
	for (size_t i = 0; i + 1 < node->len; i += 2) {
		const struct ynode *key = node->items[i];
		struct conf_header *h = &env->headers[env->headers_len];
		size_t mark;
		const char *name = schema_scalar(ctx, key, "a header name");

		if (!name) {
			ok = false;
			continue;
		}
		for (const char *p = name; *p || p == name; p++) {
			if (!*p || !header_name_char((unsigned char)*p)) {
				schema_error(ctx, key, "\"%.60s\" is not a valid HTTP header name", name);
				ok = false;
				name = NULL;
				break;
			}
		}
		if (!name)
			continue;
		mark = schema_path_push(ctx, ".%s", name);
		if (parse_secret(ctx, node->items[i + 1], &h->value, field)) {
			h->name = xstrdup(name);
			env->headers_len++;
		} else {
			ok = false;
		}
		schema_path_pop(ctx, mark);
	}
	return ok;
}

/* pointer: a JSON pointer (RFC 6901), "" for the whole body. */
static bool parse_json_pointer(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	const char *s = schema_scalar(ctx, node, "a JSON pointer");

	if (!s)
		return false;
	if (s[0] != '\0' && s[0] != '/') {
		schema_error(ctx, node, "expected a JSON pointer such as /version or /build/tag, got \"%.60s\"", s);
		return false;
	}
	free(*dst);
	*dst = xstrdup(s);
	return true;
}

static const struct schema_field version_fields[] = {
	{ "path", schema_url_path, offsetof(struct conf_env, version_path), NULL, false,
	  "path that reports the running version (default " DEFAULT_VERSION_PATH ")" },
	{ "pointer", parse_json_pointer, offsetof(struct conf_env, version_pointer), NULL, false,
	  "JSON pointer to the version in that body (default " DEFAULT_VERSION_POINTER ")" },
	{ 0 }
};

/* version: a path, or {path, pointer}. */
static bool parse_version(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;

	if (node->type == YNODE_SCALAR)
		return schema_url_path(ctx, node, &env->version_path, field);
	return schema_read_map(ctx, node, version_fields, env);
}

/* name: short, lower case, usable on a command line. */
static bool parse_env_name(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	const char *s = schema_scalar(ctx, node, "a name");
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len > 32) {
		schema_error(ctx, node, "expected a name of 1 to 32 characters");
		return false;
	}
	for (const char *p = s; *p; p++) {
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_')) {
			schema_error(ctx, node, "expected lower-case letters, digits, '-' or '_', got \"%.40s\"", s);
			return false;
		}
	}
	free(*dst);
	*dst = xstrdup(s);
	return true;
}

/* url: http:// or https://, stored without a trailing slash. */
/* True when an http(s) URL names a user (and perhaps a password) before its host. */
static bool url_has_userinfo(const char *url)
{
	const char *h = strstr(url, "://");

	return h && memchr(h + 3, '@', strcspn(h + 3, "/"));
}

static bool parse_base_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	const char *s = schema_scalar(ctx, node, "a URL");
	size_t len;

	if (!s)
		return false;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		schema_error(ctx, node, "expected a URL starting with http:// or https://, got \"%.60s\"", s);
		return false;
	}
	if (url_has_userinfo(s)) {
		schema_error(ctx, node, "credentials do not belong in the URL, where they would reach "
		    "plans, screens and the hosts' command lines: send them as a header (headers: "
		    "{Authorization: {env: NAME}})");
		return false;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
			schema_error(ctx, node, "a base URL cannot hold spaces, control characters, '?' or '#'");
			return false;
		}
	}
	len = strlen(s);
	while (len > 0 && s[len - 1] == '/')
		len--;
	free(*dst);
	*dst = xstrndup(s, len);
	return true;
}

/* A base URL that goes into shell commands on the host as it is written. */
static bool parse_plain_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	if (!parse_base_url(ctx, node, target, field))
		return false;
	for (const char *p = *(char **)target; *p; p++) {
		if (strchr("'\"`$\\;&|<>(){}*!", *p)) {
			schema_error(ctx, node, "'%c' is not allowed in a URL that goes into a shell command", *p);
			return false;
		}
	}
	return true;
}

const char *const conf_log_vars[] = { "compose", "follow", "tail", "env", "host", "deploy_dir", NULL };

const char *const conf_step_vars[] = {
	"tag", "app_image", "migrator_image", "app_digest", "migrator_digest", "env", "action",
	"deploy_dir", "compose", "port", "services", "migrator", "infra", "url", "ready_url",
	"gantry", NULL
};

const char *const conf_image_check_vars[] = { "image", "compose", "deploy_dir", NULL };
const char *const conf_running_vars[] = { "compose", "deploy_dir", NULL };

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

/* A string that is a template over `vars`. */
static bool parse_template_of(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field, const char *const *vars)
{
	char why[400];

	if (!schema_string(ctx, node, target, field))
		return false;
	if (!template_check(*(char **)target, vars, why, sizeof why)) {
		schema_error(ctx, node, "%s", why);
		return false;
	}
	return true;
}

/* A log command template: one line, known variables only. */
static bool parse_log_template(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_template_of(ctx, node, target, field, conf_log_vars);
}

/* A count within the bounds a field allows (written in its doc as "N to M"). */
static bool parse_count(struct schema_ctx *ctx, const struct ynode *node, int64_t *dst,
    int64_t min, int64_t max)
{
	const char *s = schema_scalar(ctx, node, "a number");
	char *end;
	long long v;

	if (!s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max) {
		schema_error(ctx, node, "expected a whole number from %lld to %lld, got \"%.40s\"",
		    (long long)min, (long long)max, s);
		return false;
	}
	*dst = v;
	return true;
}

const char *const conf_target_names[CONF_TARGETS] = {
	[CONF_TARGET_COMPOSE_SSH] = "compose-ssh",
};

static bool parse_target(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = schema_scalar(ctx, node, "a target");
	enum conf_target *dst = target;

	if (!s)
		return false;
	for (int i = 0; i < CONF_TARGETS; i++) {
		if (strcmp(s, conf_target_names[i]) == 0) {
			*dst = (enum conf_target)i;
			return true;
		}
	}
	schema_error(ctx, node, "unknown target \"%.40s\"; gantry deploys to: compose-ssh", s);
	return false;
}

static bool parse_parallel(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 1, CONF_MAX_HOSTS);
}

static bool parse_tail(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 0, 100000);
}

static bool parse_scrollback(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 100, 1000000);
}

/* A directory on the host: absolute, no control characters. */
static bool parse_remote_dir(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;

	if (!schema_string(ctx, node, target, field))
		return false;
	if ((*dst)[0] != '/') {
		schema_error(ctx, node, "expected an absolute path on the host, such as /srv/shop");
		return false;
	}
	return true;
}

/* A local file, relative to the configuration's directory; "~/" is $HOME. */
static bool parse_local_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target, *s;
	const char *home = getenv("HOME");

	if (!schema_string(ctx, node, target, field))
		return false;
	s = *dst;
	if (s[0] == '~' && s[1] == '/') {
		*dst = xasprintf("%s/%s", home ? home : "", s + 2);
		free(s);
	} else if (s[0] != '/' && ctx->base_dir) {
		*dst = xasprintf("%s/%s", ctx->base_dir, s);
		free(s);
	}
	return true;
}

/* A local file of CA certificates: it must be there and readable now. */
static bool parse_ca_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	FILE *f;

	char why[300];

	if (!parse_local_file(ctx, node, target, field))
		return false;
	f = trust_open(*dst, why, sizeof why);
	if (!f) {
		schema_error(ctx, node, "cannot read %s: %s; ca_file names a PEM file of the CA "
		    "certificates to trust", *dst, why);
		return false;
	}
	fclose(f);
	return true;
}

/* True for the characters of a host name, an alias or an IPv4 address. */
static bool host_name_char(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* [user@]host[:port], [user@][v6addr]:port, or an alias; filled into host. */
static bool parse_address(struct schema_ctx *ctx, const struct ynode *node, struct conf_host *host)
{
	const char *s = schema_scalar(ctx, node, "a host such as deploy@prod-1.example.com:22"), *at, *h;
	const char *end, *colon;

	if (!s)
		return false;
	if (!*s || s[0] == '-' || !sanitize_is_clean(s) || strlen(s) > 255) {
		schema_error(ctx, node, "expected a host such as deploy@prod-1.example.com:22, got \"%.60s\"", s);
		return false;
	}
	at = strchr(s, '@');
	h = at ? at + 1 : s;
	if (at) {
		if (at == s) {
			schema_error(ctx, node, "the user before '@' is empty");
			return false;
		}
		for (const char *p = s; p < at; p++) {
			if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')) {
				schema_error(ctx, node, "\"%.*s\" is not a valid user name", (int)(at - s), s);
				return false;
			}
		}
	}
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end == h + 1 || strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - h - 1)) {
			schema_error(ctx, node, "expected an IPv6 address in brackets, such as [::1]:22");
			return false;
		}
		host->host = xstrndup(h + 1, (size_t)(end - h - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon) {
			schema_error(ctx, node, "expected ':PORT' after the IPv6 address");
			return false;
		}
	} else {
		colon = strchr(h, ':');
		end = colon ? colon : h + strlen(h);
		if (end == h) {
			schema_error(ctx, node, "the host name is empty");
			return false;
		}
		for (const char *p = h; p < end; p++) {
			if (!host_name_char((unsigned char)*p)) {
				schema_error(ctx, node, "\"%.*s\" is not a valid host name or alias", (int)(end - h), h);
				return false;
			}
		}
		host->host = xstrndup(h, (size_t)(end - h));
	}
	if (colon) {
		char *pend;
		long port = strtol(colon + 1, &pend, 10);

		if (pend == colon + 1 || *pend || port < 1 || port > 65535) {
			schema_error(ctx, node, "expected a port from 1 to 65535 after ':', got \"%.20s\"", colon + 1);
			free(host->host);
			host->host = NULL;
			return false;
		}
		host->port = (int)port;
	}
	host->user = at ? xstrndup(s, (size_t)(at - s)) : NULL;
	host->address = xstrdup(s);
	return true;
}

/* address, inside a host mapping */
static bool parse_host_address(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_address(ctx, node, target);
}

static bool parse_port(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);

static const struct schema_field host_fields[] = {
	{ "address", parse_host_address, 0, NULL, true,
	  "[user@]host[:port], or a Host alias from ~/.ssh/config" },
	{ "deploy_dir", parse_remote_dir, offsetof(struct conf_host, deploy_dir), NULL, false,
	  "this host's deploy directory, when it differs from the environment's" },
	{ "app_port", parse_port, offsetof(struct conf_host, app_port), NULL, false,
	  "this host's app port, when it differs from deploy.port" },
	{ "app_url", parse_plain_url, offsetof(struct conf_host, app_url), NULL, false,
	  "the URL this host reaches its own app at, when it differs from deploy.url" },
	{ 0 }
};

static void host_clear(struct conf_host *host)
{
	free(host->address);
	free(host->user);
	free(host->host);
	free(host->deploy_dir);
	free(host->app_port);
	free(host->app_url);
	memset(host, 0, sizeof *host);
}

/* hosts: a list of addresses, or of {address, deploy_dir}. */
static bool parse_hosts(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	bool ok = true;

	if (node->type != YNODE_SEQ || node->len == 0) {
		schema_error(ctx, node, "expected a list of hosts, such as [deploy@prod-1.example.com]");
		return false;
	}
	if (node->len > CONF_MAX_HOSTS) {
		schema_error(ctx, node, "at most %d hosts per environment are supported", CONF_MAX_HOSTS);
		return false;
	}
	env->hosts = xcalloc(node->len, sizeof *env->hosts);
	for (size_t i = 0; i < node->len; i++) {
		const struct ynode *item = node->items[i];
		struct conf_host host = { 0 };
		size_t mark = schema_path_push(ctx, "[%zu]", i);
		bool good = item->type == YNODE_MAP ? schema_read_map(ctx, item, host_fields, &host) :
		    parse_address(ctx, item, &host);

		for (size_t j = 0; good && j < env->hosts_len; j++) {
			if (strcmp(env->hosts[j].host, host.host) == 0 && env->hosts[j].port == host.port &&
			    (host.user && env->hosts[j].user ? strcmp(host.user, env->hosts[j].user) == 0 :
			    host.user == env->hosts[j].user)) {
				schema_error(ctx, item, "host %s is listed twice", host.address);
				good = false;
			}
		}
		if (good)
			env->hosts[env->hosts_len++] = host;
		else
			host_clear(&host);
		ok = ok && good;
		schema_path_pop(ctx, mark);
	}
	return ok;
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

static void steps_free(struct conf_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(steps[i].name);
		free(steps[i].run);
	}
	free(steps);
}

static void smoke_free(struct conf_smoke *smoke, size_t n)
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

static bool parse_port(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	int64_t v;
	char buf[16];

	if (!parse_count(ctx, node, &v, 1, 65535))
		return false;
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	free(*(char **)target);
	*(char **)target = xstrdup(buf);
	return true;
}

#define DEPLOY_FIELD(m) offsetof(struct conf_env, deploy.m)
static const struct schema_field deploy_fields[] = {
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

static bool parse_deploy(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, deploy_fields, target);
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

/* A repository name as the distribution spec allows: path components of [a-z0-9._-]. */
static bool parse_repository(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = schema_scalar(ctx, node, "a repository such as shop/app");
	bool sep = true;

	if (!s)
		return false;
	for (const char *p = s; *p; p++) {
		bool is_sep = strchr("/._-", *p) != NULL;

		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || is_sep) || (is_sep && sep)) {
			schema_error(ctx, node, "expected a repository such as shop/app (lower case, digits, "
			    "'/', '.', '_', '-'), got \"%.60s\"", s);
			return false;
		}
		sep = is_sep;
	}
	if (sep || strlen(s) > 200) {
		schema_error(ctx, node, "expected a repository such as shop/app, got \"%.60s\"", s);
		return false;
	}
	return schema_string(ctx, node, target, field);
}

/* A tag pattern: compiled now, so a bad one is reported with the file's position. */
static bool parse_tag_pattern(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	regex_t re;
	int rc;

	if (!schema_string(ctx, node, target, field))
		return false;
	rc = regcomp(&re, *(char **)target, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[120];

		regerror(rc, &re, why, sizeof why);
		schema_error(ctx, node, "not a valid extended regular expression: %s", why);
		return false;
	}
	regfree(&re);
	return true;
}

/* host[:port] as image references name a registry. */
static bool parse_registry_host(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = schema_scalar(ctx, node, "a registry host such as ghcr.io or 10.0.0.5:5000");

	if (!s)
		return false;
	for (const char *p = s; *p; p++) {
		if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p))) {
			schema_error(ctx, node, "expected a registry host such as ghcr.io or 10.0.0.5:5000, "
			    "got \"%.60s\"", s);
			return false;
		}
	}
	return schema_string(ctx, node, target, field);
}

/* The registry's URL: user:password@ would reach image references, commands and screens. */
static bool parse_registry_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = node->type == YNODE_SCALAR ? node->value : NULL;

	if (s && url_has_userinfo(s)) {
		schema_error(ctx, node, "credentials do not belong in the URL, where they would reach "
		    "image references and screens: use registry.username and registry.password "
		    "({env: NAME} or {file: PATH})");
		return false;
	}
	return parse_base_url(ctx, node, target, field);
}

static const struct schema_field registry_fields[] = {
	{ "url", parse_registry_url, offsetof(struct conf_registry, url), NULL, true,
	  "the registry's API address, such as https://ghcr.io or http://127.0.0.1:5000" },
	{ "host", parse_registry_host, offsetof(struct conf_registry, host), NULL, false,
	  "how the hosts name the registry in image references (default: the url's host[:port])" },
	{ "app", parse_repository, offsetof(struct conf_registry, app), NULL, true,
	  "repository of the app image, such as shop/app" },
	{ "migrator", parse_repository, offsetof(struct conf_registry, migrator), NULL, false,
	  "repository of the migrator image (default: the app's, for a role variable)" },
	{ "tags", parse_tag_pattern, offsetof(struct conf_registry, tag_pattern), NULL, false,
	  "extended regular expression of the tags that may be deployed (default " DEFAULT_TAG_PATTERN ")" },
	{ "username", schema_string, offsetof(struct conf_registry, username), NULL, false,
	  "user for basic auth and for the token service" },
	{ "token_realm", parse_base_url, offsetof(struct conf_registry, token_realm), NULL, false,
	  "the token service's URL when it is on another host than the registry (Docker Hub: "
	  "https://auth.docker.io/token): only then do the credentials go there" },
	{ "password", parse_secret_when_needed, offsetof(struct conf_registry, password), NULL, false,
	  "password or token: {env: NAME} or {file: PATH} (inline text works but is discouraged)" },
	{ "timeout", schema_duration, offsetof(struct conf_registry, timeout_ms), NULL, false,
	  "time allowed for one registry request (default 10s)" },
	{ "ca_file", parse_ca_file, offsetof(struct conf_registry, ca_file), NULL, false,
	  "a PEM file of the CAs that the registry's and its token service's certificates must verify against, instead of the system's" },
	{ 0 }
};

static void conf_registry_free(struct conf_registry *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->token_realm);
	free(r->ca_file);
	free(r->host);
	free(r->app);
	free(r->migrator);
	free(r->tag_pattern);
	free(r->username);
	free(r->password.value);
	free(r->password.source);
	free(r->password.unresolved);
	free(r);
}

static bool parse_registry(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_registry *r = xcalloc(1, sizeof *r);

	*(struct conf_registry **)target = r;
	r->line = node->line;
	r->timeout_ms = DEFAULT_REGISTRY_TIMEOUT_MS;
	if (!schema_read_map(ctx, node, registry_fields, r))
		return false;
	if ((r->password.value || r->password.unresolved) && !r->username) {
		schema_error(ctx, node, "password needs a username beside it");
		return false;
	}
	if (!r->host) {
		const char *h = strstr(r->url, "://") + 3;

		r->host = xstrndup(h, strcspn(h, "/"));
	}
	if (!r->migrator)
		r->migrator = xstrdup(r->app);
	if (!r->tag_pattern)
		r->tag_pattern = xstrdup(DEFAULT_TAG_PATTERN);
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
