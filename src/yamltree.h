/* A YAML document read into a small tree whose every node knows its line and column. */
#ifndef GANTRY_YAMLTREE_H
#define GANTRY_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ,
};

struct ynode {
	enum ynode_type type;
	int line, col;                  /* 1-based position of the node's start */
	char *value;                    /* scalars only: the text, NUL-terminated */
	size_t value_len;               /* scalars only: bytes in value (it may hold NULs) */
	bool plain;                     /* scalars only: unquoted (so "null" and "~" mean null) */
	struct ynode **items;           /* sequence items, or map keys and values alternating */
	size_t len;                     /* entries in items */
	size_t cap;
};

struct ytree_error {
	int line, col;                  /* 1-based; 0 when unknown */
	char message[512];
};

/* Parses one YAML document (aliases refused, depth and size bounded); NULL on error. */
struct ynode *ytree_parse(const char *buf, size_t len, struct ytree_error *err);
void ytree_free(struct ynode *node);

/* Looks up a key in a map node; NULL if absent or node is not a map. */
const struct ynode *ytree_get(const struct ynode *map, const char *key);

/* "a string", "a mapping", "a list": for messages. */
const char *ytree_type_name(const struct ynode *node);

/* True for a plain scalar that YAML reads as null ("", "~", "null"). */
bool ytree_is_null(const struct ynode *node);

#endif
