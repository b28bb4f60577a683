/* One line of text typed into a view: a search, a filter, a reason for the history, a
 * name typed to confirm. Every view types through this, so each behaves the same:
 * UTF-8 aware (a character typed as several bytes goes in whole or not at all, Backspace
 * takes back a whole character), printable text only, bounded. */
#ifndef GANTRY_PROMPT_H
#define GANTRY_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#define PROMPT_MAX 200                  /* bytes of text, at most */

struct prompt {
	bool open;
	char text[PROMPT_MAX + 1];
	size_t len, limit;
	unsigned char part[4];          /* a character arriving byte by byte */
	size_t part_len, part_need;
};

enum prompt_result {
	PROMPT_TYPING,                  /* still typing (or the key was ignored) */
	PROMPT_DONE,                    /* Enter: the text is in `text` */
	PROMPT_CANCELLED,               /* Esc */
};

/* Opens it empty, for at most `limit` bytes (PROMPT_MAX when 0 or more). */
void prompt_open(struct prompt *p, size_t limit);
/* Takes one key; what it did. Done and cancelled close the prompt; the text stays. */
enum prompt_result prompt_key(struct prompt *p, int ch);
/* Clears the text (the prompt stays as it is). */
void prompt_clear(struct prompt *p);

#endif
