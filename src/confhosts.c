/* An environment's hosts: listed in gantry.yml (hosts:), read from an inventory file
 * (hosts_file:), or both, up to CONF_MAX_HOSTS. The same address may hold several
 * tenants, each in its own deploy directory; the same login and directory twice is an
 * error, wherever each was written. */
#include "config.h"

#include "confread.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys an inventory line may give after the address. */
static const struct schema_field inventory_keys[] = {
	{ "deploy_dir", parse_remote_dir, offsetof(struct conf_host, deploy_dir), NULL, false, NULL },
	{ "app_port", parse_port, offsetof(struct conf_host, app_port), NULL, false, NULL },
	{ "app_url", parse_plain_url, offsetof(struct conf_host, app_url), NULL, false, NULL },
	{ "labels", parse_labels, offsetof(struct conf_host, labels), NULL, false, NULL },
	{ 0 }
};

static void add_host(struct conf_env *env, struct conf_host *host)
{
	env->hosts = xrealloc(env->hosts, (env->hosts_len + 1) * sizeof *env->hosts);
	env->hosts[env->hosts_len++] = *host;
	memset(host, 0, sizeof *host);
}

/* hosts: a list of addresses, or of {address, deploy_dir, app_port, app_url, labels}. */
bool parse_hosts(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	bool ok = true;

	(void)field;
	if (node->type != YNODE_SEQ || node->len == 0) {
		schema_error(ctx, node, "expected a list of hosts, such as [deploy@prod-1.example.com]");
		return false;
	}
	if (node->len > CONF_MAX_HOSTS) {
		schema_error(ctx, node, "at most %d hosts per environment are supported", CONF_MAX_HOSTS);
		return false;
	}
	for (size_t i = 0; i < node->len; i++) {
		const struct ynode *item = node->items[i];
		struct conf_host host = { .line = item->line, .col = item->col, .item = i };
		size_t mark = schema_path_push(ctx, "[%zu]", i);
		bool good = item->type == YNODE_MAP ? schema_read_map(ctx, item, host_fields, &host) :
		    parse_address(ctx, item, &host);

		if (good)
			add_host(env, &host);
		else
			host_clear(&host);
		ok = ok && good;
		schema_path_pop(ctx, mark);
	}
	return ok;
}

/* labels: [eu, canary], or "eu,canary" (an inventory's); words of [a-z0-9_.-]. */
bool parse_labels(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	char *out = xstrdup("");

	(void)field;
	for (size_t i = 0; i < (node->type == YNODE_SEQ ? node->len : 1); i++) {
		const struct ynode *item = node->type == YNODE_SEQ ? node->items[i] : node;
		const char *s = schema_scalar(ctx, item, "a label, such as canary");
		char *joined;

		if (!s) {
			free(out);
			return false;
		}
		if (!*s) {
			schema_error(ctx, item, "a label is a word, not empty");
			free(out);
			return false;
		}
		for (const char *p = s; *p; p++) {
			/* commas only between the words of one string (an inventory's labels=) */
			bool comma = *p == ',' && node->type != YNODE_SEQ;

			if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("_.-", *p) ||
			    comma) || (comma && (p == s || p[1] == ',' || p[1] == '\0'))) {
				schema_error(ctx, item, "\"%.40s\" is not a label: words of a-z, 0-9, '_', '.' "
				    "and '-'%s", s, node->type == YNODE_SEQ ? "" : ", separated by commas");
				free(out);
				return false;
			}
		}
		joined = xasprintf("%s%s%s", out, out[0] ? "," : "", s);
		free(out);
		out = joined;
	}
	free(*dst);
	*dst = out;
	return true;
}

/* A word of an inventory line, as a scalar node at its place in the file. */
static struct ynode word_node(char *text, size_t len, int line, int col)
{
	return (struct ynode){
		.type = YNODE_SCALAR, .line = line, .col = col, .value = text, .value_len = len,
		.plain = true,
	};
}

/* key=value after the address. */
static bool inventory_pair(struct schema_ctx *ctx, char *word, int line, int col,
    struct conf_host *host)
{
	char *eq = strchr(word, '=');
	const struct schema_field *f;
	struct ynode value;

	if (!eq) {
		struct ynode at = word_node(word, strlen(word), line, col);

		schema_error(ctx, &at, "\"%.40s\" is not key=value: a line is an address, then any of "
		    "deploy_dir=, app_port=, app_url=, labels=", word);
		return false;
	}
	*eq = '\0';
	for (f = inventory_keys; f->key && strcmp(f->key, word) != 0; f++)
		;
	if (!f->key) {
		struct ynode at = word_node(word, strlen(word), line, col);
		const char *near = schema_suggest(word, inventory_keys);

		if (near)
			schema_error(ctx, &at, "unknown key \"%.40s\"; did you mean \"%s\"?", word, near);
		else
			schema_error(ctx, &at, "unknown key \"%.40s\"; a line takes deploy_dir=, app_port=, "
			    "app_url= and labels=", word);
		return false;
	}
	value = word_node(eq + 1, strlen(eq + 1), line, col + (int)(eq + 1 - word));
	return f->parse(ctx, &value, (char *)host + f->offset, f);
}

/* One line of the inventory: ADDRESS [key=value ...], a comment from '#'. */
static bool inventory_line(struct schema_ctx *ctx, struct conf_env *env, char *text, int line)
{
	struct conf_host host = { .file = env->hosts_file, .line = line, .col = 1 };
	char *p = text, *hash = strchr(text, '#');
	bool good = true, first = true;

	if (hash)
		*hash = '\0';
	while (good && *p) {
		size_t skip = strspn(p, " \t\r"), n;
		int col;

		p += skip;
		if (!*p)
			break;
		n = strcspn(p, " \t\r");
		col = (int)(p - text) + 1;
		if (p[n])
			p[n++] = '\0';
		if (first) {
			struct ynode at = word_node(p, strlen(p), line, col);

			host.col = col;
			good = parse_address(ctx, &at, &host);
			first = false;
		} else {
			good = inventory_pair(ctx, p, line, col, &host);
		}
		p += n;
	}
	if (good && !first)
		add_host(env, &host);
	host_clear(&host);
	return good;
}

/* Reads the file into buf (NUL-terminated); false with why. */
static char *read_inventory(const char *path, char *why, size_t whysz)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f) {
		snprintf(why, whysz, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_INVENTORY_MAX_BYTES + 1);
	n = fread(buf, 1, CONF_INVENTORY_MAX_BYTES + 1, f);
	fclose(f);
	if (n > CONF_INVENTORY_MAX_BYTES) {
		snprintf(why, whysz, "%s is larger than %d bytes", path, CONF_INVENTORY_MAX_BYTES);
		free(buf);
		return NULL;
	}
	if (memchr(buf, '\0', n)) {
		snprintf(why, whysz, "%s is not text (it holds a NUL byte)", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* hosts_file: one host a line, read now; its errors point into it (file:line:col). */
bool parse_hosts_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	struct conf_env *env = target;
	const char *saved_file = ctx->file;
	char saved_path[sizeof ctx->path], why[400], *buf, *line;
	size_t saved_len = ctx->path_len;
	bool ok = true;
	int n = 0;

	if (!parse_local_file(ctx, node, &env->hosts_file, field))
		return false;
	buf = read_inventory(env->hosts_file, why, sizeof why);
	if (!buf) {
		schema_error(ctx, node, "%s; hosts_file names a file of one host a line (see gantry.yml(5))",
		    why);
		return false;
	}
	memcpy(saved_path, ctx->path, sizeof saved_path);
	ctx->file = env->hosts_file;
	ctx->path_len = 0;
	ctx->path[0] = '\0';
	for (line = buf; line && ok; n++) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		ok = inventory_line(ctx, env, line, n + 1) && ok;
		if (env->hosts_len > CONF_MAX_HOSTS) {
			schema_error_at(ctx, n + 1, 1, "at most %d hosts per environment are supported",
			    CONF_MAX_HOSTS);
			ok = false;
		}
		line = nl ? nl + 1 : NULL;
	}
	ctx->file = saved_file;
	ctx->path_len = saved_len;
	memcpy(ctx->path, saved_path, sizeof saved_path);
	free(buf);
	return ok;
}

/* The directory a host deploys in. */
static const char *dir_of(const struct conf_env *env, const struct conf_host *h)
{
	return h->deploy_dir ? h->deploy_dir : env->deploy_dir ? env->deploy_dir : "";
}

static bool same_login(const struct conf_host *a, const struct conf_host *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port &&
	    (a->user && b->user ? strcmp(a->user, b->user) == 0 : a->user == b->user);
}

static void where(const struct conf_host *h, const char *config, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%d", h->file ? h->file : config, h->line);
}

bool conf_hosts_check(struct schema_ctx *ctx, struct conf_env *env, const struct ynode *at)
{
	bool ok = true;

	if (env->rollout.waves_len && env->hosts_len == 0) {
		schema_error(ctx, at, "rollout: needs hosts to roll out over (hosts: or hosts_file:)");
		return false;
	}
	if (env->hosts_len > CONF_MAX_HOSTS) {
		schema_error(ctx, at, "%zu hosts: at most %d per environment are supported",
		    env->hosts_len, CONF_MAX_HOSTS);
		return false;
	}
	for (size_t i = 0; i < env->hosts_len && ok; i++) {
		const struct conf_host *h = &env->hosts[i];

		for (size_t j = 0; j < i; j++) {
			const struct conf_host *o = &env->hosts[j];
			const char *saved = ctx->file;
			char first[600];
			size_t mark = h->file ? 0 : schema_path_push(ctx, ".hosts[%zu]", h->item);
			size_t saved_len = ctx->path_len;

			if (!same_login(h, o) || strcmp(dir_of(env, h), dir_of(env, o)) != 0)
				continue;
			where(o, ctx->file, first, sizeof first);
			if (h->file) {
				ctx->file = h->file;
				ctx->path_len = 0;      /* an inventory's line needs no key path */
			}
			schema_error_at(ctx, h->line, h->col, "host %s is listed twice with deploy directory "
			    "%s (first at %s); tenants on one host need deploy_dir= of their own",
			    h->address, dir_of(env, h), first);
			ctx->file = saved;
			ctx->path_len = saved_len;
			if (!h->file)
				schema_path_pop(ctx, mark);
			ok = false;
			break;
		}
	}
	return ok;
}
