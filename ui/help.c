/* The help overlay: every action and its keys, from the same table as the man page. */
#include "config.h"

#include "draw.h"
#include "ui.h"
#include "view.h"

#include <stdio.h>
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

static void help_draw(struct ui *ui, struct view *v, int top, int height)
{
	size_t count, shown = 0;
	const struct action_info *list = action_list(&count);
	int width = ui->cols - 4 < 84 ? ui->cols - 4 : 84;
	int left = (ui->cols - width) / 2;
	int rows;
	int y;

	for (size_t i = 0; i < count; i++)
		shown += acts_below(ui, v, list[i].id);
	rows = (int)shown + 4 + (shown < count ? 1 : 0);

	if (rows > height)
		rows = height;
	for (int r = 0; r < rows; r++)
		draw_fill(top + r, left, width, THEME_ROLE_text);
	draw_hline(ui, top, left, width, THEME_ROLE_border);
	draw_text(ui, top, left + 2, width - 4, " Keys (Esc or ? closes) ", THEME_ROLE_header, false);
	y = top + 1;
	for (size_t i = 0; i < count && y < top + rows - 1; i++) {
		const struct action_info *a = &list[i];
		bool refused = a->writes && ui->read_only;
		char help[160];

		if (!acts_below(ui, v, a->id))
			continue;
		snprintf(help, sizeof help, "%s%s", refused ? "disabled in read-only: " : "", a->help);
		draw_text(ui, y, left + 2, 12, a->keys, THEME_ROLE_key, true);
		draw_text(ui, y, left + 15, width - 17, help,
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
}

static int help_action(struct ui *ui, struct view *v, enum action action)
{
	switch (action) {
	case ACTION_HELP:
	case ACTION_CLOSE:
		return VIEW_CLOSE;
	case ACTION_QUIT:
		return VIEW_QUIT;
	default:
		/* the help is modal: nothing reaches the views below */
		return VIEW_HANDLED;
	}
}

const struct view_ops help_view_ops = {
	.name = "help",
	.draw = help_draw,
	.action = help_action,
	.overlay = true,
};
