/* Theme roles turned into curses attributes: colour pairs, or mono attributes. */
#include "config.h"

#include "palette.h"

static attr_t role_attrs[THEME_ROLES];

/* Theme attribute bits to curses attributes. */
static attr_t curses_attrs(unsigned bits)
{
	attr_t a = A_NORMAL;

	if (bits & THEME_BOLD)
		a |= A_BOLD;
	if (bits & THEME_DIM)
		a |= A_DIM;
	if (bits & THEME_REVERSE)
		a |= A_REVERSE;
	if (bits & THEME_UNDERLINE)
		a |= A_UNDERLINE;
	if (bits & THEME_BLINK)
		a |= A_BLINK;
#ifdef A_ITALIC
	if (bits & THEME_ITALIC)
		a |= A_ITALIC;
#endif
	return a;
}

/* Fits a theme colour to what the terminal has. */
static short fit_color(short color)
{
	if (color < 0)
		return -1;
	if (color >= COLORS)
		color = theme_color_to_8(color);
	if (color >= COLORS)
		color = (short)(color % 8);
	return color;
}

bool palette_init(const struct theme *theme, bool want_color)
{
	bool color = want_color && has_colors() && start_color() == OK && COLOR_PAIRS > THEME_ROLES;

	if (color)
		use_default_colors();
	for (int r = 0; r < THEME_ROLES; r++) {
		const struct theme_style *s = &theme->styles[r];

		if (color) {
			short fg = fit_color(s->fg);
			attr_t extra = A_NORMAL;

			/* a grey or a pale colour fitted to 8 colours becomes black or white, which is
			 * the background of a dark or a light terminal: the terminal's own foreground,
			 * dimmed for the darker ones, is readable on both */
			if (s->fg >= 8 && s->bg < 0 && (fg == COLOR_BLACK || fg == COLOR_WHITE) &&
			    COLORS < 256) {
				extra = fg == COLOR_BLACK || s->fg == 8 || s->fg >= 232 ? A_DIM : A_NORMAL;
				fg = -1;
			}
			init_pair((short)(r + 1), fg, fit_color(s->bg));
			role_attrs[r] = COLOR_PAIR(r + 1) | curses_attrs(s->attrs) | extra;
		} else {
			role_attrs[r] = curses_attrs(s->mono_attrs);
		}
	}
	return color;
}

attr_t palette_attr(enum theme_role role)
{
	return role < THEME_ROLES ? role_attrs[role] : A_NORMAL;
}
