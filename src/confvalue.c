/* gantry.yml's values: URLs, secrets and headers, local files, hosts and their
 * addresses, templates and counts, each checked where it is read. */
#include "config.h"

#include "confread.h"
#include "sanitize.h"
#include "targets.h"
#include "template.h"
#include "trust.h"
#include "xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a file into memory, refusing what is too large to be a configuration. */
char *read_small_file(const char *path, size_t max, size_t *len, char *why, size_t whysz)
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
bool parse_secret_when_needed(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_headers(struct schema_ctx *ctx, const struct ynode *node, void *target,
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

const struct schema_field version_fields[] = {
	{ "path", schema_url_path, offsetof(struct conf_env, version_path), NULL, false,
	  "path that reports the running version (default " DEFAULT_VERSION_PATH ")" },
	{ "pointer", parse_json_pointer, offsetof(struct conf_env, version_pointer), NULL, false,
	  "JSON pointer to the version in that body (default " DEFAULT_VERSION_POINTER ")" },
	{ 0 }
};

/* version: a path, or {path, pointer}. */
bool parse_version(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;

	if (node->type == YNODE_SCALAR)
		return schema_url_path(ctx, node, &env->version_path, field);
	return schema_read_map(ctx, node, version_fields, env);
}

/* name: short, lower case, usable on a command line. */
bool parse_env_name(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool url_has_userinfo(const char *url)
{
	const char *h = strstr(url, "://");

	return h && memchr(h + 3, '@', strcspn(h + 3, "/"));
}

bool parse_base_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_plain_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
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

/* A string that is a template over `vars`. */
bool parse_template_of(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_log_template(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_template_of(ctx, node, target, field, conf_log_vars);
}

/* A count within the bounds a field allows (written in its doc as "N to M"). */
bool parse_count(struct schema_ctx *ctx, const struct ynode *node, int64_t *dst,
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

bool parse_target(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = schema_scalar(ctx, node, "a target");
	size_t *dst = target;
	char names[200] = "";
	int k;

	if (!s)
		return false;
	k = target_kind_find(s);
	if (k >= 0) {
		*dst = (size_t)k;
		return true;
	}
	for (size_t i = 0; i < target_kinds_len(); i++)
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
		    target_kind(i)->name);
	schema_error(ctx, node, "unknown target \"%.40s\"; gantry deploys to: %s", s, names);
	return false;
}

bool parse_parallel(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 1, CONF_MAX_HOSTS);
}

bool parse_tail(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 0, 100000);
}

bool parse_scrollback(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_count(ctx, node, target, 100, 1000000);
}

/* A directory on the host: absolute, no control characters. */
bool parse_remote_dir(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_local_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_ca_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
bool parse_address(struct schema_ctx *ctx, const struct ynode *node, struct conf_host *host)
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

const struct schema_field host_fields[] = {
	{ "address", parse_host_address, 0, NULL, true,
	  "[user@]host[:port], or a Host alias from ~/.ssh/config" },
	{ "deploy_dir", parse_remote_dir, offsetof(struct conf_host, deploy_dir), NULL, false,
	  "this host's deploy directory, when it differs from the environment's" },
	{ "app_port", parse_port, offsetof(struct conf_host, app_port), NULL, false,
	  "this host's app port, when it differs from deploy.port" },
	{ "app_url", parse_plain_url, offsetof(struct conf_host, app_url), NULL, false,
	  "the URL this host reaches its own app at, when it differs from deploy.url" },
	{ "labels", parse_labels, offsetof(struct conf_host, labels), NULL, false,
	  "words to pick this host by in the fleet pane and in rollout waves, such as [eu, canary]" },
	{ 0 }
};

void host_clear(struct conf_host *host)
{
	free(host->address);
	free(host->user);
	free(host->host);
	free(host->deploy_dir);
	free(host->app_port);
	free(host->app_url);
	free(host->labels);
	memset(host, 0, sizeof *host);
}

bool parse_port(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
