/* Declarative checking of YAML documents: tables of keys, each with its parser. */
#include "config.h"

#include "schema.h"
#include "duration.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX_ERRORS 20

/* Stores one finished message, dropping what is past the cap. */
void schema_errors_add_message(struct schema_errors *errs, char *msg)
{
	if (errs->len >= SCHEMA_MAX_ERRORS) {
		free(msg);
		return;
	}
	errs->messages = xreallocarray_grow(errs->messages, &errs->cap, errs->len + 1,
	    sizeof *errs->messages);
	errs->messages[errs->len++] = msg;
}

static void schema_verror(struct schema_ctx *ctx, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Formats "file:line:col: path: message". */
static void schema_verror(struct schema_ctx *ctx, int line, int col, const char *fmt, va_list ap)
{
	char *what = xvasprintf(fmt, ap);

	if (ctx->path_len)
		schema_errors_add_message(ctx->errs, xasprintf("%s:%d:%d: %s: %s", ctx->file, line, col,
		    ctx->path, what));
	else
		schema_errors_add_message(ctx->errs, xasprintf("%s:%d:%d: %s", ctx->file, line, col, what));
	free(what);
}

void schema_error(struct schema_ctx *ctx, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	schema_verror(ctx, at ? at->line : 1, at ? at->col : 1, fmt, ap);
	va_end(ap);
}

void schema_error_at(struct schema_ctx *ctx, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	schema_verror(ctx, line, col, fmt, ap);
	va_end(ap);
}

size_t schema_path_push(struct schema_ctx *ctx, const char *fmt, ...)
{
	size_t mark = ctx->path_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ctx->path + ctx->path_len, sizeof ctx->path - ctx->path_len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		ctx->path_len += (size_t)n;
		if (ctx->path_len >= sizeof ctx->path)
			ctx->path_len = sizeof ctx->path - 1;
	}
	return mark;
}

void schema_path_pop(struct schema_ctx *ctx, size_t mark)
{
	ctx->path_len = mark;
	ctx->path[mark] = '\0';
}

size_t schema_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *schema_suggest(const char *word, const struct schema_field *fields)
{
	const char *best = NULL;
	size_t best_d = 99, limit = strlen(word) <= 4 ? 1 : 2;

	for (const struct schema_field *f = fields; f->key; f++) {
		size_t d = schema_edit_distance(word, f->key);

		if (d < best_d) {
			best_d = d;
			best = f->key;
		}
	}
	if (best && best_d <= limit)
		return best;
	/* a known key as a prefix: "health_path" for "health" */
	for (const struct schema_field *f = fields; f->key; f++)
		if (strncmp(word, f->key, strlen(f->key)) == 0 || strncmp(f->key, word, strlen(word)) == 0)
			return f->key;
	return NULL;
}

bool schema_read_map(struct schema_ctx *ctx, const struct ynode *map,
    const struct schema_field *fields, void *target)
{
	bool ok = true;

	if (map->type != YNODE_MAP) {
		schema_error(ctx, map, "expected a mapping of keys, got %s", ytree_type_name(map));
		return false;
	}
	for (size_t i = 0; i + 1 < map->len; i += 2) {
		const struct ynode *key = map->items[i], *value = map->items[i + 1];
		const struct schema_field *f;
		size_t mark;
		char shown[80];

		if (key->type != YNODE_SCALAR) {
			schema_error(ctx, key, "keys must be plain words, got %s", ytree_type_name(key));
			ok = false;
			continue;
		}
		sanitize_text(key->value, key->value_len, shown, sizeof shown, 0);
		for (f = fields; f->key; f++)
			if (strcmp(f->key, key->value) == 0)
				break;
		mark = schema_path_push(ctx, ctx->path_len ? ".%s" : "%s", shown);
		for (size_t j = 0; j < i; j += 2) {
			if (map->items[j]->type == YNODE_SCALAR &&
			    strcmp(map->items[j]->value, key->value) == 0) {
				schema_error(ctx, key, "key \"%s\" appears twice (first at line %d)",
				    shown, map->items[j]->line);
				ok = false;
				break;
			}
		}
		if (!f->key) {
			const char *hint = schema_suggest(key->value, fields);

			if (hint)
				schema_error(ctx, key, "unknown key; did you mean \"%s\"?", hint);
			else
				schema_error(ctx, key, "unknown key");
			ok = false;
		} else if (!f->parse(ctx, value, (char *)target + f->offset, f)) {
			ok = false;
		}
		schema_path_pop(ctx, mark);
	}
	for (const struct schema_field *f = fields; f->key; f++) {
		if (f->required && !ytree_get(map, f->key)) {
			schema_error(ctx, map, "missing required key \"%s\" (%s)", f->key, f->doc);
			ok = false;
		}
	}
	return ok;
}

void schema_print_keys(FILE *out, const char *prefix, const struct schema_field *fields)
{
	for (const struct schema_field *f = fields; f->key; f++) {
		char *path = *prefix ? xasprintf("%s.%s", prefix, f->key) : xstrdup(f->key);

		fprintf(out, "%-34s %s\n", path, f->doc);
		if (f->sub)
			schema_print_keys(out, path, f->sub);
		free(path);
	}
}

const char *schema_scalar(struct schema_ctx *ctx, const struct ynode *node, const char *what)
{
	if (node->type != YNODE_SCALAR) {
		schema_error(ctx, node, "expected %s, got %s", what, ytree_type_name(node));
		return NULL;
	}
	if (strlen(node->value) != node->value_len) {
		schema_error(ctx, node, "expected %s, got text with a NUL byte", what);
		return NULL;
	}
	return node->value;
}

bool schema_string(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	const char *s = schema_scalar(ctx, node, "a string");

	if (!s)
		return false;
	if (ytree_is_null(node)) {
		schema_error(ctx, node, "expected a string, got nothing");
		return false;
	}
	if (!sanitize_is_clean(s)) {
		schema_error(ctx, node, "control characters are not allowed here");
		return false;
	}
	free(*dst);
	*dst = xstrdup(s);
	return true;
}

bool schema_bool(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	bool *dst = target;
	const char *s = schema_scalar(ctx, node, "true or false");

	if (!s)
		return false;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
		*dst = true;
	} else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
		*dst = false;
	} else {
		schema_error(ctx, node, "expected true or false, got \"%.40s\"", s);
		return false;
	}
	return true;
}

bool schema_duration(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	int64_t *dst = target, ms;
	const char *s = schema_scalar(ctx, node, "a duration");

	if (!s)
		return false;
	if (!duration_parse(s, &ms) || ms <= 0) {
		schema_error(ctx, node, "expected a duration such as 500ms, 5s or 2m, got \"%.40s\"", s);
		return false;
	}
	*dst = ms;
	return true;
}

bool schema_url_path(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	char **dst = target;
	const char *s = schema_scalar(ctx, node, "a URL path");

	if (!s)
		return false;
	if (s[0] != '/') {
		schema_error(ctx, node, "expected a path starting with \"/\", got \"%.60s\"", s);
		return false;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#') {
			schema_error(ctx, node, "a path cannot hold spaces, control characters or '#'");
			return false;
		}
	}
	free(*dst);
	*dst = xstrdup(s);
	return true;
}

void schema_errors_print(const struct schema_errors *errs, FILE *out)
{
	for (size_t i = 0; i < errs->len; i++)
		fprintf(out, "%s\n", errs->messages[i]);
	if (errs->len >= SCHEMA_MAX_ERRORS)
		fprintf(out, "(more errors not shown)\n");
}

void schema_errors_free(struct schema_errors *errs)
{
	for (size_t i = 0; i < errs->len; i++)
		free(errs->messages[i]);
	free(errs->messages);
	memset(errs, 0, sizeof *errs);
}
