/* What a user can ask for: one table of actions, their keys, their help, whether they write. */
#include "config.h"

#include "action.h"

#include <ctype.h>
#include <curses.h>
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
		{ "Enter", '\n' }, { "Esc", 27 }, { "Tab", '\t' },
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
