/* The kinds of deploy target gantry knows: one line each in src/targets.c, in the order
 * gantry.yml's `target` lists them. A new kind is a folder under src/ (its ops, its state
 * reading, its runs) and a line in that table. */
#ifndef GANTRY_TARGETS_H
#define GANTRY_TARGETS_H

#include <stddef.h>

struct target;
struct target_ops;
struct target_words;

struct target_kind {
	const char *name;               /* gantry.yml's word: "compose-ssh" */
	const struct target_ops *ops;
	const struct target_words *words;
	/* makes the kind's own part of t (t->priv: its sessions), once t's other fields are
	   set; and ends it */
	void (*open)(struct target *t);
	void (*close)(struct target *t);
};

/* The kind gantry.yml's `target` index names (conf_env's target). */
const struct target_kind *target_kind(size_t index);
size_t target_kinds_len(void);
/* The index of the kind named `name`; -1 when gantry knows none. */
int target_kind_find(const char *name);

#endif
