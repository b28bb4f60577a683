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
			ytree_fail(err, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "malformed YAML");
			if (parser.context) {
				char msg[256];

				snprintf(msg, sizeof msg, "%s %s", parser.problem ? parser.problem :
				    "malformed YAML", parser.context);
				snprintf(err->message, sizeof err->message, "%s", msg);
			}
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
