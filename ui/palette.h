/* Theme roles turned into curses attributes: colour pairs, or mono attributes. */
#ifndef GANTRY_PALETTE_H
#define GANTRY_PALETTE_H

#include <curses.h>
#include <stdbool.h>

#include "theme.h"

/* Sets up colour pairs for every role; returns whether colour is in use. */
bool palette_init(const struct theme *theme, bool want_color);
/* The curses attributes of a role. */
attr_t palette_attr(enum theme_role role);

#endif
