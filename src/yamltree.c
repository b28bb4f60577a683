/* A YAML document read into a small tree whose every node knows its line and column.
 *
 * libyaml's event parser does the YAML; this file keeps the structure and the marks
 * so that configuration errors can point at file:line:col. Aliases are refused (no
 * billion laughs), and depth, node count and document size are bounded. */
#include "config.h"

#include "yamltree.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 200000

/* Appends a child to a map or sequence node. */
static void ynode_push(struct ynode *parent, struct ynode *child)
{
	parent->items = xreallocarray_grow(parent->items, &parent->cap, parent->len + 1,
	    sizeof *parent->items);
	parent->items[parent->len++] = child;
}

/* Makes a node at the event's start mark. */
static struct ynode *ynode_new(enum ynode_type type, const yaml_event_t *ev)
{
	struct ynode *n = xcalloc(1, sizeof *n);

	n->type = type;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	return n;
}

/* Fills err from a position and a message. */
static void ytree_fail(struct ytree_error *err, int line, int col, const char *msg)
{
	err->line = line;
	err->col = col;
	snprintf(err->message, sizeof err->message, "%s", msg);
}

/* The key path of the innermost node still open at a syntax error: "environments[0].deploy". */
static void open_path(struct ynode *const *stack, size_t depth, char *out, size_t outsz)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < depth && n + 1 < outsz; i++) {
		const struct ynode *node = stack[i];
		bool inner = i + 1 < depth;     /* a child of it is open too */
		const struct ynode *key = NULL;
		int w = 0;

		if (node->type == YNODE_SEQ && inner && node->len > 0)
			w = snprintf(out + n, outsz - n, "[%zu]", node->len - 1);
		else if (node->type == YNODE_MAP && inner && node->len >= 2)
			key = node->items[node->len - 2];
		else if (node->type == YNODE_MAP && !inner && node->len % 2 == 1)
			key = node->items[node->len - 1];    /* its value is what failed */
		if (key && key->type == YNODE_SCALAR)
			w = snprintf(out + n, outsz - n, "%s%.60s", n ? "." : "", key->value);
		if (w > 0)
			n += (size_t)w < outsz - n ? (size_t)w : outsz - n - 1;
	}
}

/* What to do about a libyaml syntax error, in words, from its problem and the text. */
static const char *syntax_hint(const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "";
	const char *context = p->context ? p->context : "";
	size_t at = p->problem_mark.index, line = at;

	while (line > 0 && buf[line - 1] != '\n')
		line--;
	for (size_t i = line; i < len && i <= at && (buf[i] == ' ' || buf[i] == '\t'); i++)
		if (buf[i] == '\t')
			return "a tab in the indentation: YAML indents with spaces only";
	if (at < len && buf[at] == '\t')
		return "a tab where YAML expects a token: use spaces";
	if (strstr(context, "quoted scalar"))
		return "a quoted string is never closed: add its closing quote";
	if (strstr(context, "flow sequence"))
		return "a [ list is never closed: add its ]";
	if (strstr(context, "flow mapping"))
		return "a { mapping is never closed: add its }";
	if (strstr(problem, "mapping values are not allowed"))
		return "a ':' where a value was expected: quote a value that holds ': ', or check the "
		    "indentation of the line";
	if (strstr(problem, "expected") || strstr(context, "block"))
		return "check the indentation: the keys of one mapping start at the same column, "
		    "and a list's items start with '- ' at the same column";
	return "see gantry.yml(5) for the file's shape";
}

/* Fills err for a libyaml syntax error: where (where an unclosed quote or bracket opened),
 * the key path when one is known, libyaml's words, and a hint. */
static void syntax_error(const yaml_parser_t *p, const char *buf, size_t len,
    struct ynode *const *stack, size_t depth, struct ytree_error *err)
{
	const char *context = p->context ? p->context : "";
	bool opened = strstr(context, "quoted scalar") || strstr(context, "flow ");
	const yaml_mark_t *mark = opened ? &p->context_mark : &p->problem_mark;
	char path[200], msg[sizeof err->message];

	open_path(stack, depth, path, sizeof path);
	snprintf(msg, sizeof msg, "%s%s%s %s (%s)", path, path[0] ? ": " : "",
	    p->problem ? p->problem : "malformed YAML", context, syntax_hint(p, buf, len));
	ytree_fail(err, (int)mark->line + 1, (int)mark->column + 1, msg);
}

struct ynode *ytree_parse(const char *buf, size_t len, struct ytree_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *stack[YTREE_MAX_DEPTH + 1];
	size_t depth = 0, nodes = 0;
	struct ynode *root = NULL;
	bool done = false, failed = false;

	memset(err, 0, sizeof *err);
	if (!yaml_parser_initialize(&parser))
		die("cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !failed) {
		struct ynode *node = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&parser, buf, len, stack, depth, err);
			failed = true;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root) {
				ytree_fail(err, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				    "only one YAML document is allowed in this file");
				failed = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			ytree_fail(err, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
			    "YAML aliases (*name) are not supported; write the value out");
			failed = true;
			break;
		case YAML_SCALAR_EVENT:
			node = ynode_new(YNODE_SCALAR, &ev);
			node->value = xmalloc(ev.data.scalar.length + 1);
			memcpy(node->value, ev.data.scalar.value, ev.data.scalar.length);
			node->value[ev.data.scalar.length] = '\0';
			node->value_len = ev.data.scalar.length;
			node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			break;
		case YAML_SEQUENCE_START_EVENT:
			node = ynode_new(YNODE_SEQ, &ev);
			break;
		case YAML_MAPPING_START_EVENT:
			node = ynode_new(YNODE_MAP, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (!node)
			continue;
		if (++nodes > YTREE_MAX_NODES) {
			ytree_fail(err, node->line, node->col, "document too large");
			ytree_free(node);
			failed = true;
			break;
		}
		if (depth == 0) {
			if (root)
				ytree_free(root);  /* cannot happen: one document */
			root = node;
		} else {
			ynode_push(stack[depth - 1], node);
		}
		if (node->type != YNODE_SCALAR) {
			if (depth >= YTREE_MAX_DEPTH) {
				ytree_fail(err, node->line, node->col, "nested too deeply");
				failed = true;
				break;
			}
			stack[depth++] = node;
		}
	}
	yaml_parser_delete(&parser);
	if (failed) {
		ytree_free(root);
		return NULL;
	}
	if (!root) {
		ytree_fail(err, 1, 1, "the file is empty");
		return NULL;
	}
	return root;
}

void ytree_free(struct ynode *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->len; i++)
		ytree_free(node->items[i]);
	free(node->items);
	free(node->value);
	free(node);
}

const struct ynode *ytree_get(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->len; i += 2)
		if (map->items[i]->type == YNODE_SCALAR && strcmp(map->items[i]->value, key) == 0)
			return map->items[i + 1];
	return NULL;
}

const char *ytree_type_name(const struct ynode *node)
{
	switch (node->type) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	case YNODE_SCALAR:
		return ytree_is_null(node) ? "nothing" : "a string";
	}
	return "?";
}

bool ytree_is_null(const struct ynode *node)
{
	return node->type == YNODE_SCALAR && node->plain &&
	    (node->value[0] == '\0' || strcmp(node->value, "~") == 0 ||
	    strcmp(node->value, "null") == 0 || strcmp(node->value, "Null") == 0 ||
	    strcmp(node->value, "NULL") == 0);
}
