/* What a user can ask for: one table of actions, their keys, their help, whether they write. */
#ifndef GANTRY_ACTION_H
#define GANTRY_ACTION_H

#include <stdbool.h>
#include <stdio.h>

/* X(id, name, keys, help, writes). Keys are space-separated: a character, C-x for
 * Ctrl, or one of Up Down Left Right Home End PgUp PgDn Enter Esc Tab F1..F12. */
#define ACTION_TABLE(X) \
	X(MOVE_UP,     "move-up",       "Up k",        "select the previous environment", false) \
	X(MOVE_DOWN,   "move-down",     "Down j",      "select the next environment", false) \
	X(MOVE_FIRST,  "move-first",    "Home g",      "select the first environment", false) \
	X(MOVE_LAST,   "move-last",     "End G",       "select the last environment", false) \
	X(DETAIL,      "toggle-detail", "Enter d",     "show or hide the detail pane of the selected environment", false) \
	X(REFRESH,     "refresh",       "r",           "check every environment now (in a log pane: start an ended log again)", false) \
	X(REDRAW,      "redraw",        "C-l",         "redraw the whole screen", false) \
	X(HELP,        "help",          "? F1",        "show or hide this help", false) \
	X(CLOSE,       "close",         "Esc",         "close the help or the log pane", false) \
	X(QUIT,        "quit",          "q C-c",       "quit gantry (q in a pane closes the pane; C-c always quits)", false) \
	X(LOG_APP,     "log-app",       "l",           "open the live app log of the selected environment (in the fleet pane: of the selected host)", false) \
	X(LOG_MIGRATOR, "log-migrator", "m",           "open the live migrator log of the selected environment (in the fleet pane: of the selected host)", false) \
	X(FOLLOW,      "follow",        "f",           "log: pause or resume following new lines", false) \
	X(SEARCH,      "search",        "/",           "log: search for a text, case-insensitive (Enter alone repeats the last one)", false) \
	X(SEARCH_NEXT, "search-older",  "n",           "log: the next older match", false) \
	X(SEARCH_PREV, "search-newer",  "N",           "log: the next newer match", false) \
	X(FILTER,      "filter",        "&",           "log: show only the lines holding a text (empty: all); fleet: only the hosts whose row holds it", false) \
	X(WRAP,        "wrap",          "w",           "log: wrap long lines on or off", false) \
	X(SAVE,        "save",          "s",           "log: save the scrollback to a file in the current directory", false) \
	X(PAGE_UP,     "page-up",       "PgUp C-b C-u", "log, history, help: one screen back", false) \
	X(PAGE_DOWN,   "page-down",     "PgDn C-f C-d Space", "log, history, help: one screen on", false) \
	X(PROMOTE,     "promote",       "p",           "promote the previous environment's tag to the selected one: shows the plan, then asks to confirm", true) \
	X(ROLLBACK,    "rollback",      "b",           "roll back: pick an earlier healthy tag in the history (in the history: roll back to the selected run's tag)", true) \
	X(HISTORY,     "history",       "h",           "show the selected environment's runs, newest first", false) \
	X(ATTACH,      "attach",        "a",           "follow the selected environment's current run, or show how the last one ended", false) \
	X(FLEET,       "fleet",         "F",           "the fleet pane: every host of the selected environment with its tag, wave, rollout state and link", false) \
	X(ORDER,       "order",         "o",           "fleet: order the hosts by another column (as listed, state, tag, wave, link)", false) \
	X(PAUSE,       "pause",         "P",           "deploy, fleet: pause a rollout in waves (no other host starts; it pauses once those running end); in the fleet pane, asks the gantry that drives it", true) \
	X(CANCEL,      "cancel",        "c",           "deploy: cancel the run (refused once the app is being switched)", true) \
	X(RESUME,      "resume",        "R",           "deploy, fleet: a rollout paused at a wave's gate goes on (the hosts that failed stay as they are); in the fleet pane, asks the gantry that drives it", true) \
	X(ABORT,       "abort",         "A",           "deploy, fleet: abort a rollout in waves: every host that took the tag goes back, newest wave first; in the fleet pane, asks the gantry that drives it", true) \
	X(UNLOCK,      "unlock",        "U",           "history: break a stale lock, with a reason for the history", true) \
	X(EMERGENCY,   "emergency-rollback", "E",      "every host of the selected environment back to the last tag healthy on all, at once, with a reason (a paused rollout is stopped first)", true)

enum action {
	ACTION_NONE = 0,
#define ACTION_ENUM(id, name, keys, help, writes) ACTION_##id,
	ACTION_TABLE(ACTION_ENUM)
#undef ACTION_ENUM
	ACTION_COUNT
};

struct action_info {
	enum action id;
	const char *name;
	const char *keys;               /* as written in the table */
	const char *help;
	bool writes;                    /* refused in read-only mode, by action_allowed() */
};

/* All actions in table order, for help screens and the man page. */
const struct action_info *action_list(size_t *count);
const struct action_info *action_get(enum action id);

/* The action bound to a curses key code, or ACTION_NONE. */
enum action action_for_key(int key);

/* The one gate for writing: false for a write action in read-only mode. */
bool action_allowed(enum action id, bool read_only);

/* A key hint in a footer: the action's first key, as the table binds it, and a word.
 * With `pair`, two actions share the word: "↑↓ select", "n/N older/newer". */
struct action_hint {
	enum action action, pair;
	const char *word;
};

/* The hints (ended by one with no word) as a footer line; write actions are left out in
 * read-only mode. */
void action_hints(const struct action_hint *hints, bool ascii, bool read_only, char *out,
    size_t outsz);

/* Prints the key list: plain text, or man page source (troff) for gantry(1). */
void action_print_keys(FILE *out, bool troff);

#endif
