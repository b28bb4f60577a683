/* Themes are data: a closed set of roles, each given colours and attributes. */
#ifndef GANTRY_THEME_H
#define GANTRY_THEME_H

#include <stdbool.h>

#include "schema.h"

/* Attribute bits. */
enum theme_attr {
	THEME_BOLD = 1 << 0,
	THEME_DIM = 1 << 1,
	THEME_REVERSE = 1 << 2,
	THEME_UNDERLINE = 1 << 3,
	THEME_BLINK = 1 << 4,
	THEME_ITALIC = 1 << 5,
};

/* X(role, fg, bg, attributes, attributes without colour, meaning) for the default theme */
#define THEME_ROLE_TABLE(X) \
	X(title,     "black",  "cyan",   THEME_BOLD,    THEME_REVERSE | THEME_BOLD, "title bar: project, clock, refresh time") \
	X(header,    "cyan",   "default", THEME_BOLD,   THEME_BOLD | THEME_UNDERLINE, "column headings") \
	X(text,      "default", "default", 0,       0, "ordinary text") \
	X(muted,     "bright-black", "default", 0,  THEME_DIM, "secondary text: latencies, ages, URLs") \
	X(selected,  "black",  "white",  0,         THEME_REVERSE, "the selected row") \
	X(healthy,   "green",  "default", THEME_BOLD,   THEME_BOLD, "live and ready") \
	X(degraded,  "yellow", "default", THEME_BOLD,   THEME_BOLD | THEME_UNDERLINE, "live but not ready") \
	X(unhealthy, "red",    "default", THEME_BOLD,   THEME_BOLD | THEME_REVERSE, "down, timing out or answering garbage") \
	X(unknown,   "blue",   "default", 0,        THEME_DIM, "not checked yet") \
	X(stale,     "black",  "yellow", THEME_BOLD,    THEME_REVERSE | THEME_BLINK, "data older than three intervals") \
	X(badge,     "white",  "red",    THEME_BOLD,    THEME_REVERSE | THEME_BOLD, "the READ-ONLY badge") \
	X(error,     "red",    "default", THEME_BOLD,   THEME_BOLD, "error messages") \
	X(footer,    "black",  "cyan",   0,         THEME_REVERSE, "key hints and messages at the bottom") \
	X(key,       "yellow", "default", THEME_BOLD,   THEME_BOLD, "key names in the help") \
	X(border,    "cyan",   "default", 0,        0, "lines and frames")

enum theme_role {
#define THEME_ROLE_ENUM(role, fg, bg, attrs, mono, doc) THEME_ROLE_##role,
	THEME_ROLE_TABLE(THEME_ROLE_ENUM)
#undef THEME_ROLE_ENUM
	THEME_ROLES
};

#define THEME_COLOR_DEFAULT (-1)

struct theme_style {
	short fg, bg;                   /* 0-255, or THEME_COLOR_DEFAULT */
	unsigned attrs;                 /* theme_attr bits, used with colour */
	unsigned mono_attrs;            /* theme_attr bits, used without colour */
};

struct theme {
	char *name;
	struct theme_style styles[THEME_ROLES];
};

/* The compiled-in default theme. */
void theme_default(struct theme *theme);

/* Loads NAME (searched in the themes directories) or a file path; false with errs filled. */
bool theme_load(const char *name_or_path, struct theme *theme, struct schema_errors *errs);
/* Reads a theme from a buffer, starting from the default theme. */
bool theme_parse(const char *file, const char *buf, size_t len, struct theme *theme,
    struct schema_errors *errs);
void theme_clear(struct theme *theme);

/* Parses a colour: a name ("red", "bright-blue", "default"), 0-255, or "#rrggbb". */
bool theme_parse_color(const char *text, short *color);
/* The nearest of the 8 basic colours to a 256-colour index. */
short theme_color_to_8(short color);

/* Where themes are looked for, in order: $GANTRY_THEMES_DIR, the user's, the installed
 * ones, then the source tree's themes/ (a binary run from its build tree); NULL-terminated,
 * static strings or getenv(). */
#define THEME_DIRS_MAX 5
void theme_search_dirs(const char *dirs[THEME_DIRS_MAX + 1]);

#endif
