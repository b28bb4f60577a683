/* Themes are data: a closed set of roles, each given colours and attributes. */
#include "config.h"

#include "theme.h"
#include "trust.h"
#include "xmalloc.h"
#include "yamltree.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const role_names[THEME_ROLES] = {
#define THEME_ROLE_NAME(role, fg, bg, attrs, mono, doc) #role,
	THEME_ROLE_TABLE(THEME_ROLE_NAME)
#undef THEME_ROLE_NAME
};

static const char *const color_names[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

bool theme_parse_color(const char *text, short *color)
{
	const char *name = text;
	int base = 0;

	if (strcasecmp(text, "default") == 0 || strcasecmp(text, "none") == 0) {
		*color = THEME_COLOR_DEFAULT;
		return true;
	}
	if (strcasecmp(text, "gray") == 0 || strcasecmp(text, "grey") == 0) {
		*color = 8;
		return true;
	}
	if (isdigit((unsigned char)text[0])) {
		char *end;
		long n = strtol(text, &end, 10);

		if (*end || n < 0 || n > 255)
			return false;
		*color = (short)n;
		return true;
	}
	if (text[0] == '#' && strlen(text) == 7) {
		unsigned r, g, b;
		char *end;
		unsigned long v = strtoul(text + 1, &end, 16);

		if (*end)
			return false;
		r = (unsigned)(v >> 16) & 0xff;
		g = (unsigned)(v >> 8) & 0xff;
		b = (unsigned)v & 0xff;
		if (r == g && g == b && r > 4 && r < 247) {
			*color = (short)(232 + (r - 8) / 10);    /* the grey ramp */
			return true;
		}
		/* the 6x6x6 cube: levels 0, 95, 135, 175, 215, 255 */
		r = r < 48 ? 0 : r < 115 ? 1 : (r - 35) / 40;
		g = g < 48 ? 0 : g < 115 ? 1 : (g - 35) / 40;
		b = b < 48 ? 0 : b < 115 ? 1 : (b - 35) / 40;
		*color = (short)(16 + 36 * r + 6 * g + b);
		return true;
	}
	if (strncasecmp(text, "bright-", 7) == 0) {
		name = text + 7;
		base = 8;
	}
	for (size_t i = 0; i < sizeof color_names / sizeof color_names[0]; i++) {
		if (strcasecmp(name, color_names[i]) == 0) {
			*color = (short)(base + (int)i);
			return true;
		}
	}
	return false;
}

short theme_color_to_8(short color)
{
	static const unsigned char levels[6] = { 0, 95, 135, 175, 215, 255 };
	int r, g, b;

	if (color < 0 || color < 8)
		return color;
	if (color < 16)
		return (short)(color - 8);
	if (color >= 232) {
		int grey = 8 + (color - 232) * 10;

		return grey < 128 ? 0 : 7;
	}
	color = (short)(color - 16);
	r = levels[color / 36];
	g = levels[color / 6 % 6];
	b = levels[color % 6];
	/* each channel on or off: black, red, green, yellow, blue, magenta, cyan, white */
	return (short)((r >= 128 ? 1 : 0) | (g >= 128 ? 2 : 0) | (b >= 128 ? 4 : 0));
}

void theme_default(struct theme *theme)
{
	static const struct {
		const char *fg, *bg;
		unsigned attrs, mono;
	} defaults[THEME_ROLES] = {
#define THEME_ROLE_DEFAULT(role, fg, bg, attrs, mono, doc) { fg, bg, attrs, mono },
		THEME_ROLE_TABLE(THEME_ROLE_DEFAULT)
#undef THEME_ROLE_DEFAULT
	};

	memset(theme, 0, sizeof *theme);
	theme->name = xstrdup("default");
	for (int r = 0; r < THEME_ROLES; r++) {
		if (!theme_parse_color(defaults[r].fg, &theme->styles[r].fg) ||
		    !theme_parse_color(defaults[r].bg, &theme->styles[r].bg))
			die("bad colour in the default theme for %s", role_names[r]);
		theme->styles[r].attrs = defaults[r].attrs;
		theme->styles[r].mono_attrs = defaults[r].mono;
	}
}

void theme_clear(struct theme *theme)
{
	free(theme->name);
	theme->name = NULL;
}

/* Parses a list (or one word) of attribute names into bits. */
static bool parse_attrs(struct schema_ctx *ctx, const struct ynode *node, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "bold", THEME_BOLD }, { "dim", THEME_DIM }, { "reverse", THEME_REVERSE },
		{ "underline", THEME_UNDERLINE }, { "blink", THEME_BLINK }, { "italic", THEME_ITALIC },
	};
	const struct ynode *const *items = &node;
	size_t n = 1;

	*out = 0;
	if (node->type == YNODE_SEQ) {
		items = (const struct ynode *const *)node->items;
		n = node->len;
	}
	for (size_t i = 0; i < n; i++) {
		const char *word = schema_scalar(ctx, items[i], "an attribute name");
		bool found = false;

		if (!word)
			return false;
		if (ytree_is_null(items[i]) || strcmp(word, "none") == 0)
			continue;
		for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
			if (strcmp(word, names[j].name) == 0) {
				*out |= names[j].bit;
				found = true;
			}
		}
		if (!found) {
			schema_error(ctx, items[i], "unknown attribute \"%.30s\"; expected bold, dim, reverse, underline, blink, italic or none",
			    word);
			return false;
		}
	}
	return true;
}

/* A colour field of a style. */
static bool parse_style_color(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	const char *s = schema_scalar(ctx, node, "a colour");

	if (!s)
		return false;
	if (!theme_parse_color(s, target)) {
		schema_error(ctx, node, "unknown colour \"%.30s\"; expected a name (red, bright-blue, default), 0-255 or #rrggbb",
		    s);
		return false;
	}
	return true;
}

/* The attrs field of a style. */
static bool parse_style_attrs(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return parse_attrs(ctx, node, target);
}

static const struct schema_field style_fields[] = {
	{ "fg", parse_style_color, offsetof(struct theme_style, fg), NULL, false, "foreground colour" },
	{ "bg", parse_style_color, offsetof(struct theme_style, bg), NULL, false, "background colour" },
	{ "attrs", parse_style_attrs, offsetof(struct theme_style, attrs), NULL, false,
	  "attributes with colour: bold, dim, reverse, underline, blink, italic" },
	{ "mono", parse_style_attrs, offsetof(struct theme_style, mono_attrs), NULL, false,
	  "attributes used without colour (NO_COLOR, mono terminals)" },
	{ 0 }
};

/* One role's style: a mapping of fg, bg, attrs, mono. */
static bool parse_style(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, style_fields, target);
}

static const struct schema_field role_fields[] = {
#define THEME_ROLE_FIELD(role, fg, bg, attrs, mono, doc) \
	{ #role, parse_style, offsetof(struct theme, styles) + THEME_ROLE_##role * sizeof(struct theme_style), \
	  style_fields, false, doc },
	THEME_ROLE_TABLE(THEME_ROLE_FIELD)
#undef THEME_ROLE_FIELD
	{ 0 }
};

/* The theme's `roles` mapping. */
static bool parse_roles(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_read_map(ctx, node, role_fields, target);
}

/* description: checked to be text, then left to readers of the file. */
static bool parse_description(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field)
{
	return schema_scalar(ctx, node, "a line of text") != NULL;
}

static const struct schema_field theme_fields[] = {
	{ "name", schema_string, offsetof(struct theme, name), NULL, false, "the theme's name" },
	{ "description", parse_description, 0, NULL, false, "a line saying what the theme is for" },
	{ "roles", parse_roles, 0, role_fields, true, "a style for each role" },
	{ 0 }
};

bool theme_parse(const char *file, const char *buf, size_t len, struct theme *theme,
    struct schema_errors *errs)
{
	struct schema_ctx ctx = { .file = file, .errs = errs };
	struct ytree_error yerr;
	struct ynode *root;
	bool ok;

	theme_default(theme);
	root = ytree_parse(buf, len, &yerr);
	if (!root) {
		schema_error_at(&ctx, yerr.line, yerr.col, "%s", yerr.message);
		return false;
	}
	ok = schema_read_map(&ctx, root, theme_fields, theme);
	ytree_free(root);
	return ok;
}

void theme_search_dirs(const char *dirs[THEME_DIRS_MAX + 1])
{
	static char xdg_dir[1024];
	const char *env = getenv("GANTRY_THEMES_DIR");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n = 0;

	if (env && *env)
		dirs[n++] = env;
	if (xdg && *xdg) {
		snprintf(xdg_dir, sizeof xdg_dir, "%s/gantry/themes", xdg);
		dirs[n++] = xdg_dir;
	} else if (home && *home) {
		snprintf(xdg_dir, sizeof xdg_dir, "%s/.config/gantry/themes", home);
		dirs[n++] = xdg_dir;
	}
	dirs[n++] = GANTRY_THEMES_DIR;
	/* run from a build tree, before `make install`: the source tree's themes */
	if (access(GANTRY_SOURCE_THEMES_DIR, R_OK) == 0 && strcmp(GANTRY_SOURCE_THEMES_DIR,
	    GANTRY_THEMES_DIR) != 0)
		dirs[n++] = GANTRY_SOURCE_THEMES_DIR;
	dirs[n] = NULL;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the themes in dirs, sorted, without duplicates: "default, light, ...". */
static char *theme_names(const char *const *dirs)
{
	char *names[64];
	size_t n = 0, len = 0;
	char *out;

	names[n++] = xstrdup("default");
	for (int i = 0; dirs[i]; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;

		while (d && (e = readdir(d)) && n < sizeof names / sizeof *names) {
			size_t l = strlen(e->d_name);
			bool seen = false;

			if (l <= 4 || strcmp(e->d_name + l - 4, ".yml") != 0 || e->d_name[0] == '.')
				continue;
			for (size_t k = 0; k < n && !seen; k++)
				seen = strlen(names[k]) == l - 4 && strncmp(names[k], e->d_name, l - 4) == 0;
			if (!seen)
				names[n++] = xstrndup(e->d_name, l - 4);
		}
		if (d)
			closedir(d);
	}
	qsort(names, n, sizeof *names, compare_names);
	for (size_t k = 0; k < n; k++)
		len += strlen(names[k]) + 2;
	out = xmalloc(len + 1);
	out[0] = '\0';
	for (size_t k = 0; k < n; k++) {
		if (k)
			strcat(out, ", ");
		strcat(out, names[k]);
		free(names[k]);
	}
	return out;
}

/* Reads a whole theme file, bounded. */
static char *read_theme_file(const char *path, size_t *len, char *why, size_t whysz)
{
	FILE *f = trust_open(path, why, whysz);
	char *buf;

	if (!f)
		return NULL;
	buf = xmalloc(256 * 1024 + 1);
	*len = fread(buf, 1, 256 * 1024, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

bool theme_load(const char *name, struct theme *theme, struct schema_errors *errs)
{
	const char *dirs[THEME_DIRS_MAX + 1];
	char *path = NULL, *buf = NULL, why[300];
	size_t len = 0;
	bool ok;

	if (!name || strcmp(name, "default") == 0) {
		theme_default(theme);
		return true;
	}
	if (strchr(name, '/') || (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".yml") == 0)) {
		path = xstrdup(name);
		buf = read_theme_file(path, &len, why, sizeof why);
		if (!buf) {
			schema_errors_add_message(errs, xasprintf("%s: cannot read the theme: %s", path,
			    why));
			free(path);
			return false;
		}
	} else {
		theme_search_dirs(dirs);
		for (int i = 0; dirs[i] && !buf; i++) {
			free(path);
			path = xasprintf("%s/%s.yml", dirs[i], name);
			buf = read_theme_file(path, &len, why, sizeof why);
			if (!buf && errno != ENOENT) {
				/* there, but not to be trusted: said, not passed over */
				schema_errors_add_message(errs, xasprintf("%s: cannot read the theme: %s",
				    path, why));
				free(path);
				return false;
			}
		}
		if (!buf) {
			char *where = xstrdup("");

			for (int i = 0; dirs[i]; i++) {
				char *next = xasprintf("%s%s%s", where, i ? ", " : "", dirs[i]);

				free(where);
				where = next;
			}
			char *names = theme_names(dirs);

			schema_errors_add_message(errs, xasprintf("gantry: no theme named \"%s\" in %s; there "
			    "are: %s", name, where, names));
			free(names);
			free(where);
			free(path);
			return false;
		}
	}
	ok = theme_parse(path, buf, len, theme, errs);
	if (!ok)
		theme_clear(theme);
	free(buf);
	free(path);
	return ok;
}
