/* Drawing helpers: glyphs with an ASCII fallback, and text clipped to a width in columns. */
#include "config.h"

#include "draw.h"
#include "palette.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const char *draw_glyph(const struct ui *ui, enum glyph glyph)
{
	static const char *const utf8[GLYPH_COUNT] = { "●", "▶", "─", "·", "…", "█", "!" };
	static const char *const ascii[GLYPH_COUNT] = { "*", ">", "-", "|", "~", "#", "!" };

	return ui->ascii ? ascii[glyph] : utf8[glyph];
}

/* Decodes one character; returns its bytes and columns (at least 1 byte). */
static size_t next_char(const char *s, int *cols)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;
	int w;

	memset(&st, 0, sizeof st);
	n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*cols = 1;
		return 1;
	}
	w = wcwidth(wc);
	*cols = w < 0 ? 1 : w;
	return n;
}

int draw_width(const char *s)
{
	int total = 0, cols;

	while (*s) {
		s += next_char(s, &cols);
		total += cols;
	}
	return total;
}

int draw_text(const struct ui *ui, int y, int x, int width, const char *s,
    enum theme_role role, bool pad)
{
	return draw_text_attr(ui, y, x, width, s, palette_attr(role), pad);
}

int draw_text_attr(const struct ui *ui, int y, int x, int width, const char *s,
    attr_t attr, bool pad)
{
	int used = 0, cols;
	int full = draw_width(s);

	if (width <= 0)
		return 0;
	attrset(attr);
	move(y, x);
	while (*s) {
		size_t n = next_char(s, &cols);
		bool ascii_only = ui->ascii && (unsigned char)*s >= 0x80;

		if (ascii_only)
			cols = 1;
		if (full > width && used + cols > width - 1) {
			addstr(draw_glyph(ui, GLYPH_ELLIPSIS));
			used++;
			break;
		}
		if (used + cols > width)
			break;
		if (ascii_only)
			addch('?');
		else
			addnstr(s, (int)n);
		used += cols;
		s += n;
	}
	while (pad && used < width) {
		addch(' ');
		used++;
	}
	attrset(A_NORMAL);
	return used;
}

size_t draw_fit(const struct ui *ui, const char *s, size_t len, int width, int *cols)
{
	size_t used = 0;
	int total = 0, c;

	while (used < len) {
		size_t n = next_char(s + used, &c);

		if (ui->ascii && (unsigned char)s[used] >= 0x80)
			c = 1;
		if (used + n > len || total + c > width)
			break;
		used += n;
		total += c;
	}
	*cols = total;
	return used;
}

int draw_bytes(const struct ui *ui, int y, int x, const char *s, size_t len, attr_t attr)
{
	int cols = 0, c;

	attrset(attr);
	move(y, x);
	for (size_t i = 0; i < len;) {
		size_t n = next_char(s + i, &c);

		if (ui->ascii && (unsigned char)s[i] >= 0x80) {
			addch('?');
			c = 1;
		} else {
			addnstr(s + i, (int)n);
		}
		cols += c;
		i += n;
	}
	attrset(A_NORMAL);
	return cols;
}

void draw_fill(int y, int x, int width, enum theme_role role)
{
	attrset(palette_attr(role));
	mvhline(y, x, ' ', width);
	attrset(A_NORMAL);
}

void draw_hline(const struct ui *ui, int y, int x, int width, enum theme_role role)
{
	attrset(palette_attr(role));
	move(y, x);
	for (int i = 0; i < width; i++)
		addstr(draw_glyph(ui, GLYPH_HLINE));
	attrset(A_NORMAL);
}

/* Text over several rows, cut at spaces; returns the next row. */
/* Wraps text at spaces and newlines over rows y.. (below bottom), drawing it when `draw`. */
static int wrap(const struct ui *ui, int y, int x, int bottom, const char *text, attr_t attr,
    bool draw)
{
	int width = ui->cols - x - 1;
	const char *p = text;

	if (width < 1)
		return y;
	while (*p && y < bottom) {
		size_t len = strcspn(p, "\n"), n = len;
		int cols;

		n = draw_fit(ui, p, len, width, &cols);
		if (n < len) {
			size_t back = n;

			while (back > 0 && p[back] != ' ')
				back--;
			if (back > 0)
				n = back;
		}
		if (draw)
			draw_bytes(ui, y, x, p, n, attr);
		y++;
		p += n;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	return y;
}

int draw_wrapped(const struct ui *ui, int y, int x, int bottom, const char *text, enum theme_role role)
{
	return wrap(ui, y, x, bottom, text, palette_attr(role), true);
}

int draw_wrapped_rows(const struct ui *ui, int x, const char *text)
{
	return wrap(ui, 0, x, 1000, text, A_NORMAL, false);
}
