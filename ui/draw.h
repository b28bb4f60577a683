/* Drawing helpers: glyphs with an ASCII fallback, and text clipped to a width in columns. */
#ifndef GANTRY_DRAW_H
#define GANTRY_DRAW_H

#include <curses.h>

#include "theme.h"
#include "ui.h"

enum glyph {
	GLYPH_DOT,                      /* status dot */
	GLYPH_SELECT,                   /* selected-row marker */
	GLYPH_HLINE,                    /* rule */
	GLYPH_SEP,                      /* separator between facts */
	GLYPH_ELLIPSIS,                 /* text cut short */
	GLYPH_BLOCK,                    /* a solid cell, for wallboard bars */
	GLYPH_WARN,                     /* something disagrees */
	GLYPH_COUNT
};

const char *draw_glyph(const struct ui *ui, enum glyph glyph);

/* Display columns of a UTF-8 string. */
int draw_width(const char *s);

/* Draws s at (y, x) in at most `width` columns (cut with an ellipsis), then pads with
 * spaces up to `width` if pad is set. Returns the columns written, padding included. */
int draw_text(const struct ui *ui, int y, int x, int width, const char *s,
    enum theme_role role, bool pad);

/* The same with explicit curses attributes (a role's, plus more). */
int draw_text_attr(const struct ui *ui, int y, int x, int width, const char *s,
    attr_t attr, bool pad);

/* How many bytes of s (len bytes) fit in `width` columns; *cols gets their width. */
size_t draw_fit(const struct ui *ui, const char *s, size_t len, int width, int *cols);

/* Draws len bytes of s at (y, x), as they are (draw_fit them first); returns the columns. */
int draw_bytes(const struct ui *ui, int y, int x, const char *s, size_t len, attr_t attr);

/* Fills `width` cells with spaces in a role's attributes. */
void draw_fill(int y, int x, int width, enum theme_role role);

/* Text over rows y.. (below `bottom`) from column x to the right edge, cut at spaces and
 * at newlines; returns the next row. */
int draw_wrapped(const struct ui *ui, int y, int x, int bottom, const char *text,
    enum theme_role role);

/* The rows draw_wrapped takes for text from column x (at most 1000). */
int draw_wrapped_rows(const struct ui *ui, int x, const char *text);

/* Draws a rule across the screen. */
void draw_hline(const struct ui *ui, int y, int x, int width, enum theme_role role);

#endif
