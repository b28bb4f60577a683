/* What a user can ask for: one table of actions, their keys, their help, whether they write. */
#include "config.h"

#include "action.h"

#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <string.h>

static const struct action_info actions[] = {
#define ACTION_INFO(id, name, keys, help, writes) { ACTION_##id, name, keys, help, writes },
	ACTION_TABLE(ACTION_INFO)
#undef ACTION_INFO
};

#define ACTION_TOTAL (sizeof actions / sizeof actions[0])

const struct action_info *action_list(size_t *count)
{
	*count = ACTION_TOTAL;
	return actions;
}

const struct action_info *action_get(enum action id)
{
	for (size_t i = 0; i < ACTION_TOTAL; i++)
		if (actions[i].id == id)
			return &actions[i];
	return NULL;
}

/* Turns one key name from the table into a curses key code; -1 if unknown. */
static int key_code(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int code;
	} named[] = {
		{ "Up", KEY_UP }, { "Down", KEY_DOWN }, { "Left", KEY_LEFT }, { "Right", KEY_RIGHT },
		{ "Home", KEY_HOME }, { "End", KEY_END }, { "PgUp", KEY_PPAGE }, { "PgDn", KEY_NPAGE },
		{ "Enter", '\n' }, { "Esc", 27 }, { "Tab", '\t' }, { "Space", ' ' },
	};

	if (len == 1)
		return (unsigned char)name[0];
	if (len == 3 && name[0] == 'C' && name[1] == '-')
		return name[2] & 0x1f;
	if (len >= 2 && name[0] == 'F' && name[1] >= '1' && name[1] <= '9') {
		int n = name[1] - '0';

		if (len == 3)
			n = n * 10 + (name[2] - '0');
		return KEY_F(n);
	}
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strlen(named[i].name) == len && strncmp(named[i].name, name, len) == 0)
			return named[i].code;
	return -1;
}

enum action action_for_key(int key)
{
	if (key == KEY_ENTER || key == '\r')
		key = '\n';
	for (size_t i = 0; i < ACTION_TOTAL; i++) {
		const char *p = actions[i].keys;

		while (*p) {
			size_t len = strcspn(p, " ");

			if (key_code(p, len) == key)
				return actions[i].id;
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	return ACTION_NONE;
}

/* How an action's key is shown in a hint: its first key, an arrow as a glyph; in ASCII,
 * its first one-character key when it has one ("k" rather than Up). */
static void hint_key(enum action id, bool ascii, char *out, size_t outsz)
{
	static const struct {
		const char *name, *glyph;
	} arrows[] = {
		{ "Up", "\xe2\x86\x91" }, { "Down", "\xe2\x86\x93" },
		{ "Left", "\xe2\x86\x90" }, { "Right", "\xe2\x86\x92" },
	};
	const struct action_info *a = action_get(id);
	const char *p = a ? a->keys : "";
	size_t len = strcspn(p, " ");

	if (ascii) {
		for (const char *q = p; *q; q += strcspn(q, " "), q += *q == ' ') {
			if (strcspn(q, " ") == 1) {
				p = q;
				len = 1;
				break;
			}
		}
	} else {
		for (size_t i = 0; i < sizeof arrows / sizeof arrows[0]; i++) {
			if (strlen(arrows[i].name) == len && strncmp(p, arrows[i].name, len) == 0) {
				snprintf(out, outsz, "%s", arrows[i].glyph);
				return;
			}
		}
	}
	if (len == 3 && p[0] == 'C' && p[1] == '-')
		snprintf(out, outsz, "^%c", toupper((unsigned char)p[2]));
	else
		snprintf(out, outsz, "%.*s", (int)len, p);
}

void action_hints(const struct action_hint *hints, bool ascii, bool read_only, char *out,
    size_t outsz)
{
	size_t n = 0;

	out[0] = '\0';
	for (const struct action_hint *h = hints; h && h->word && n + 1 < outsz; h++) {
		char key[16], other[16] = "";

		if (!action_allowed(h->action, read_only))
			continue;
		hint_key(h->action, ascii, key, sizeof key);
		if (h->pair)
			hint_key(h->pair, ascii, other, sizeof other);
		/* two arrows read as one ("↑↓"); anything else with a slash ("n/N") */
		n += (size_t)snprintf(out + n, outsz - n, " %s%s%s %s ", key,
		    other[0] && (ascii || (unsigned char)key[0] < 0x80) ? "/" : "", other, h->word);
		if (n >= outsz)
			n = outsz - 1;
	}
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

bool action_allowed(enum action id, bool read_only)
{
	const struct action_info *info = action_get(id);

	return info && !(info->writes && read_only);
}

void action_print_keys(FILE *out, bool troff)
{
	for (size_t i = 0; i < ACTION_TOTAL; i++) {
		const struct action_info *a = &actions[i];
		char keys[64];
		size_t k = 0;

		/* "Up k" becomes "Up, k" */
		for (const char *p = a->keys; *p && k + 3 < sizeof keys; p++) {
			if (*p == ' ') {
				keys[k++] = ',';
			}
			keys[k++] = *p;
		}
		keys[k] = '\0';
		if (troff)
			fprintf(out, ".TP\n.B %s\n%c%s.%s\n", keys, toupper((unsigned char)a->help[0]), a->help + 1,
			    a->writes ? " Writes: refused in read-only mode." : "");
		else
			fprintf(out, "%-14s %-14s %s%s\n", keys, a->name, a->help,
			    a->writes ? " (writes)" : "");
	}
}
