/* Large letters for the wallboard: a 5-row block font of A-Z, 0-9 and a few signs,
 * drawn with the block glyph (or '#' on an ASCII terminal). */
#ifndef GANTRY_BIGTEXT_H
#define GANTRY_BIGTEXT_H

#include <curses.h>

#include "ui.h"

#define BIGTEXT_ROWS 5              /* rows of a letter at scale 1 */

/* Columns s takes in large letters at `scale` (1: 5 rows; 2: 10 rows, twice as wide...).
 * Lower case is drawn as upper case; a character the font lacks is drawn as '?'. */
int bigtext_width(const char *s, int scale);

/* Draws s in large letters over rows y..y+BIGTEXT_ROWS*scale-1 from column x, whole
 * characters only, within `width` columns; lit cells get `attr`, the others are left as
 * they are. Returns the columns drawn. */
int bigtext_draw(const struct ui *ui, int y, int x, int width, const char *s, int scale,
    attr_t attr);

#endif
