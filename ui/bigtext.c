/* Large letters for the wallboard, readable across a room. */
#include "config.h"

#include "bigtext.h"
#include "draw.h"

#include <ctype.h>
#include <string.h>

struct bigglyph {
	char ch;
	const char *rows[BIGTEXT_ROWS];         /* '#' lit; every row as wide as the first */
};

static const struct bigglyph font[] = {
	{ 'A', { " ### ", "#   #", "#####", "#   #", "#   #" } },
	{ 'B', { "#### ", "#   #", "#### ", "#   #", "#### " } },
	{ 'C', { " ####", "#    ", "#    ", "#    ", " ####" } },
	{ 'D', { "#### ", "#   #", "#   #", "#   #", "#### " } },
	{ 'E', { "#####", "#    ", "#### ", "#    ", "#####" } },
	{ 'F', { "#####", "#    ", "#### ", "#    ", "#    " } },
	{ 'G', { " ####", "#    ", "#  ##", "#   #", " ####" } },
	{ 'H', { "#   #", "#   #", "#####", "#   #", "#   #" } },
	{ 'I', { "###", " # ", " # ", " # ", "###" } },
	{ 'J', { "  ###", "    #", "    #", "#   #", " ### " } },
	{ 'K', { "#   #", "#  # ", "###  ", "#  # ", "#   #" } },
	{ 'L', { "#    ", "#    ", "#    ", "#    ", "#####" } },
	{ 'M', { "#   #", "## ##", "# # #", "#   #", "#   #" } },
	{ 'N', { "#   #", "##  #", "# # #", "#  ##", "#   #" } },
	{ 'O', { " ### ", "#   #", "#   #", "#   #", " ### " } },
	{ 'P', { "#### ", "#   #", "#### ", "#    ", "#    " } },
	{ 'Q', { " ### ", "#   #", "# # #", "#  # ", " ## #" } },
	{ 'R', { "#### ", "#   #", "#### ", "#  # ", "#   #" } },
	{ 'S', { " ####", "#    ", " ### ", "    #", "#### " } },
	{ 'T', { "#####", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'U', { "#   #", "#   #", "#   #", "#   #", " ### " } },
	{ 'V', { "#   #", "#   #", "#   #", " # # ", "  #  " } },
	{ 'W', { "#   #", "#   #", "# # #", "## ##", "#   #" } },
	{ 'X', { "#   #", " # # ", "  #  ", " # # ", "#   #" } },
	{ 'Y', { "#   #", " # # ", "  #  ", "  #  ", "  #  " } },
	{ 'Z', { "#####", "   # ", "  #  ", " #   ", "#####" } },
	{ '0', { " ### ", "#  ##", "# # #", "##  #", " ### " } },
	{ '1', { " # ", "## ", " # ", " # ", "###" } },
	{ '2', { " ### ", "#   #", "  ## ", " #   ", "#####" } },
	{ '3', { "#### ", "    #", " ### ", "    #", "#### " } },
	{ '4', { "#   #", "#   #", "#####", "    #", "    #" } },
	{ '5', { "#####", "#    ", "#### ", "    #", "#### " } },
	{ '6', { " ### ", "#    ", "#### ", "#   #", " ### " } },
	{ '7', { "#####", "    #", "   # ", "  #  ", "  #  " } },
	{ '8', { " ### ", "#   #", " ### ", "#   #", " ### " } },
	{ '9', { " ### ", "#   #", " ####", "    #", " ### " } },
	{ '-', { "   ", "   ", "###", "   ", "   " } },
	{ '_', { "    ", "    ", "    ", "    ", "####" } },
	{ '.', { " ", " ", " ", " ", "#" } },
	{ ' ', { "  ", "  ", "  ", "  ", "  " } },
	{ '?', { " ### ", "#   #", "  ## ", "     ", "  #  " } },
};

static const struct bigglyph *glyph_of(char c)
{
	c = (char)toupper((unsigned char)c);
	for (size_t i = 0; i < sizeof font / sizeof *font; i++)
		if (font[i].ch == c)
			return &font[i];
	return glyph_of('?');
}

static int glyph_width(const struct bigglyph *g)
{
	return (int)strlen(g->rows[0]);
}

int bigtext_width(const char *s, int scale)
{
	int w = 0;

	for (; *s; s++)
		w += glyph_width(glyph_of(*s)) + (s[1] ? 1 : 0);
	return w * scale;
}

int bigtext_draw(const struct ui *ui, int y, int x, int width, const char *s, int scale,
    attr_t attr)
{
	const char *block = draw_glyph(ui, GLYPH_BLOCK);
	int used = 0;

	attrset(attr);
	for (; *s; s++) {
		const struct bigglyph *g = glyph_of(*s);
		int gw = glyph_width(g) * scale, at = x + used + (used ? scale : 0);

		if (at + gw > x + width)
			break;
		for (int r = 0; r < BIGTEXT_ROWS * scale; r++)
			for (int c = 0; c < gw; c++)
				if (g->rows[r / scale][c / scale] == '#')
					mvaddstr(y + r, at + c, block);
		used = at + gw - x;
	}
	attrset(A_NORMAL);
	return used;
}
