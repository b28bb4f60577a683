/* gantry.yml: the registry section (its URL and host, repositories, tag pattern,
 * credentials, token realm, CA file). */
#include "config.h"

#include "confread.h"
#include "xmalloc.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

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

const struct schema_field registry_fields[] = {
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

void conf_registry_free(struct conf_registry *r)
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

bool parse_registry(struct schema_ctx *ctx, const struct ynode *node, void *target,
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
