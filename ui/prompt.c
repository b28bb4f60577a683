/* The text prompt shared by every view. */
#include "config.h"

#include "prompt.h"

#include <curses.h>
#include <string.h>

void prompt_open(struct prompt *p, size_t limit)
{
	memset(p, 0, sizeof *p);
	p->open = true;
	p->limit = limit && limit < PROMPT_MAX ? limit : PROMPT_MAX;
}

void prompt_clear(struct prompt *p)
{
	p->len = p->part_len = p->part_need = 0;
	p->text[0] = '\0';
}

/* The code point of a whole UTF-8 sequence, or -1 when it is not one gantry takes:
 * overlong, a surrogate, past U+10FFFF, or a C1 control (U+0080..U+009F). */
static long decode(const unsigned char *s, size_t n)
{
	long cp = n == 2 ? s[0] & 0x1f : n == 3 ? s[0] & 0x0f : s[0] & 0x07;
	static const long least[] = { 0, 0, 0xa0, 0x800, 0x10000 };

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	return cp;
}

static void append(struct prompt *p, const unsigned char *s, size_t n)
{
	if (p->len + n > p->limit)
		return;
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
}

/* A byte of a character typed in UTF-8. */
static void utf8_byte(struct prompt *p, unsigned char b)
{
	if (p->part_need == 0) {
		p->part_need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 :
		    b >= 0xf0 && b <= 0xf4 ? 4 : 0;
		p->part_len = 0;
		if (p->part_need == 0)
			return;         /* not a lead byte: dropped */
	} else if ((b & 0xc0) != 0x80) {
		p->part_need = p->part_len = 0;         /* a broken sequence goes whole */
		utf8_byte(p, b);
		return;
	}
	p->part[p->part_len++] = b;
	if (p->part_len < p->part_need)
		return;
	if (decode(p->part, p->part_len) >= 0)
		append(p, p->part, p->part_len);
	p->part_need = p->part_len = 0;
}

enum prompt_result prompt_key(struct prompt *p, int ch)
{
	if (!p->open)
		return PROMPT_TYPING;
	if (ch == 27) {
		p->open = false;
		return PROMPT_CANCELLED;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		p->open = false;
		p->part_need = p->part_len = 0;
		return PROMPT_DONE;
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		/* back over one whole character */
		p->part_need = p->part_len = 0;
		while (p->len > 0 && ((unsigned char)p->text[--p->len] & 0xc0) == 0x80)
			;
		p->text[p->len] = '\0';
		return PROMPT_TYPING;
	}
	if (ch >= 0x20 && ch < 0x7f) {
		unsigned char b = (unsigned char)ch;

		p->part_need = p->part_len = 0;
		append(p, &b, 1);
	} else if (ch >= 0x80 && ch <= 0xff) {
		utf8_byte(p, (unsigned char)ch);
	}
	return PROMPT_TYPING;
}
