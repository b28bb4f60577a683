/* Declarative checking of YAML documents: tables of keys, each with its parser. */
#ifndef GANTRY_SCHEMA_H
#define GANTRY_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "yamltree.h"

/* Errors collected while reading, each "file:line:col: key.path: what is wrong". */
struct schema_errors {
	char **messages;
	size_t len, cap;
};

struct schema_ctx {
	const char *file;               /* name used in messages */
	const char *base_dir;           /* for relative file references */
	struct schema_errors *errs;
	char path[512];                 /* key path of the node being read */
	size_t path_len;
};

struct schema_field;

/* Reads `node` into `target` (already offset to the field); false after reporting an error. */
typedef bool (*schema_parse_fn)(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);

struct schema_field {
	const char *key;
	schema_parse_fn parse;
	size_t offset;                  /* where in the target struct */
	const struct schema_field *sub; /* keys of a nested mapping (or of each list item) */
	bool required;
	const char *doc;                /* one line for `--list-config-keys` */
};

/* Reports an error at a node, prefixed with file:line:col and the current key path. */
void schema_error(struct schema_ctx *ctx, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reports an error with an explicit position. */
void schema_error_at(struct schema_ctx *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Extends the key path ("environments" + "[1]" + ".ready"); returns a mark for pop. */
size_t schema_path_push(struct schema_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void schema_path_pop(struct schema_ctx *ctx, size_t mark);

/* Reads a mapping by its field table: unknown keys (with a did-you-mean), duplicate
 * keys, missing required keys and each value's own errors are all reported. */
bool schema_read_map(struct schema_ctx *ctx, const struct ynode *map,
    const struct schema_field *fields, void *target);

/* The closest key to `word` in a table, when close enough to suggest; else NULL. */
const char *schema_suggest(const char *word, const struct schema_field *fields);

/* Prints every key path of a table tree, with its doc line. */
void schema_print_keys(FILE *out, const char *prefix, const struct schema_field *fields);

/* Field parsers for the common types. */
bool schema_string(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool schema_bool(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool schema_duration(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool schema_url_path(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);

/* Gets a scalar's text, or reports "expected WHAT, got a mapping" and returns NULL. */
const char *schema_scalar(struct schema_ctx *ctx, const struct ynode *node, const char *what);

/* Adds a finished message (takes ownership). */
void schema_errors_add_message(struct schema_errors *errs, char *msg);
void schema_errors_print(const struct schema_errors *errs, FILE *out);
void schema_errors_free(struct schema_errors *errs);

/* How many single-character edits turn a into b, for "did you mean" (short strings:
 * 99 when one is 63 characters or more). The configuration's keys use it, and the
 * command line's commands and options. */
size_t schema_edit_distance(const char *a, const char *b);

#endif
