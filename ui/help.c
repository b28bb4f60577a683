/* The help overlay: every action and its keys, from the same table as the man page. */
#include "config.h"

#include "draw.h"
#include "ui.h"
#include "view.h"
#include "views.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when the action acts on the view under the help (its `actions`, when it has some). */
static bool acts_below(const struct ui *ui, const struct view *help, enum action id)
{
	const struct view_ops *below = NULL;

	for (int i = ui_view_index(ui, help) - 1; i >= 0 && !below; i--)
		if (!ui->views[i].ops->overlay)
			below = ui->views[i].ops;
	if (!below || !below->actions)
		return true;
	for (const enum action *a = below->actions; *a != ACTION_NONE; a++)
		if (*a == id)
			return true;
	return false;
}

/* Why the view under the help answers only some keys. */
static const char *why_not_below(const struct ui *ui, const struct view *help)
{
	for (int i = ui_view_index(ui, help) - 1; i >= 0; i--)
		if (!ui->views[i].ops->overlay)
			return ui->views[i].ops->why_not ? ui->views[i].ops->why_not : "";
	return "";
}

/* The help's own state: how far it is scrolled, and how far it can be. */
struct help {
	int offset;                     /* the first key line shown */
	int max_offset;                 /* set by the last draw */
};

static void help_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct help *h = v->data;
	size_t count, shown = 0;
	const struct action_info *list = action_list(&count);
	int keyw = 8, longest = 0, width, left;
	int lines, rows, room, line = 0;
	int y;

	/* as wide as the longest line needs, up to the screen's width */
	for (size_t i = 0; i < count; i++) {
		if (!acts_below(ui, v, list[i].id))
			continue;
		shown++;
		if ((int)strlen(list[i].keys) > keyw)
			keyw = (int)strlen(list[i].keys);
		if ((int)strlen(list[i].help) + 24 > longest)
			longest = (int)strlen(list[i].help) + 24;
	}
	if (keyw > 22)
		keyw = 22;
	width = keyw + 7 + longest;
	if (width < 84)
		width = 84;
	if (width > ui->cols - 4)
		width = ui->cols - 4;
	left = (ui->cols - width) / 2;
	lines = (int)shown + (shown < count ? 1 : 0);   /* the keys, and the note */
	rows = lines + 4;
	if (rows > height)
		rows = height;
	room = rows - 2;                                /* between the two borders */
	h->max_offset = lines > room ? lines - room : 0;
	if (h->offset > h->max_offset)
		h->offset = h->max_offset;
	for (int r = 0; r < rows; r++)
		draw_fill(top + r, left, width, THEME_ROLE_text);
	draw_hline(ui, top, left, width, THEME_ROLE_border);
	draw_text(ui, top, left + 2, width - 4, h->max_offset ? " Keys (j/k, PgUp/PgDn scroll; q, "
	    "Esc or ? closes) " : " Keys (q, Esc or ? closes) ", THEME_ROLE_header, false);
	y = top + 1;
	for (size_t i = 0; i < count && y < top + rows - 1; i++) {
		const struct action_info *a = &list[i];
		bool refused = a->writes && ui->read_only;
		char help[160];

		if (!acts_below(ui, v, a->id) || line++ < h->offset)
			continue;
		snprintf(help, sizeof help, "%s%s", refused ? "disabled in read-only: " : "", a->help);
		draw_text(ui, y, left + 2, keyw, a->keys, THEME_ROLE_key, true);
		draw_text(ui, y, left + keyw + 3, width - keyw - 5, help,
		    refused ? THEME_ROLE_muted : THEME_ROLE_text, false);
		y++;
	}
	if (shown < count && y < top + rows - 1) {
		/* a view that answers only some keys says why the others do nothing */
		char note[300];

		snprintf(note, sizeof note, "Only these keys act here: %s.", why_not_below(ui, v));
		draw_text(ui, y, left + 2, width - 4, note, THEME_ROLE_muted, false);
	}
	draw_hline(ui, top + rows - 1, left, width, THEME_ROLE_border);
	if (h->max_offset) {
		char more[48];

		snprintf(more, sizeof more, " %d-%d of %d ", h->offset + 1, h->offset + room, lines);
		draw_text(ui, top + rows - 1, left + width - (int)strlen(more) - 2, (int)strlen(more), more,
		    THEME_ROLE_header, false);
	}
}

static int help_action(struct ui *ui, struct view *v, enum action action)
{
	struct help *h = v->data;

	switch (action) {
	case ACTION_HELP:
	case ACTION_CLOSE:
	case ACTION_QUIT:               /* q closes the help as it closes a pane; C-c quits */
		return VIEW_CLOSE;
	case ACTION_MOVE_DOWN:
	case ACTION_MOVE_UP:
	case ACTION_PAGE_DOWN:
	case ACTION_PAGE_UP:
	case ACTION_MOVE_FIRST:
	case ACTION_MOVE_LAST:
	{
		int page = ui->rows > 8 ? ui->rows - 8 : 1;

		h->offset += action == ACTION_MOVE_DOWN ? 1 : action == ACTION_MOVE_UP ? -1 :
		    action == ACTION_PAGE_DOWN ? page : action == ACTION_PAGE_UP ? -page :
		    action == ACTION_MOVE_FIRST ? -h->offset : h->max_offset;
		if (h->offset < 0)
			h->offset = 0;
		if (h->offset > h->max_offset)
			h->offset = h->max_offset;
		return VIEW_REDRAW;
	}
	default:
		/* the help is modal: nothing reaches the views below */
		return VIEW_HANDLED;
	}
}

static void help_leave(struct ui *ui, struct view *v)
{
	free(v->data);
	v->data = NULL;
}

void help_open(struct ui *ui)
{
	ui_push_view(ui, &help_view_ops, xcalloc(1, sizeof(struct help)), VIEW_NO_ENV, 0);
}

const struct view_ops help_view_ops = {
	.name = "help",
	.draw = help_draw,
	.action = help_action,
	.leave = help_leave,
	.overlay = true,
};
