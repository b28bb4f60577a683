/* The help overlay: every action and its keys, from the same table as the man page. */
#include "config.h"

#include "draw.h"
#include "ui.h"
#include "view.h"

#include <stdio.h>
#include <string.h>

static void help_draw(struct ui *ui, struct view *v, int top, int height)
{
	size_t count;
	const struct action_info *list = action_list(&count);
	int width = ui->cols - 4 < 84 ? ui->cols - 4 : 84;
	int left = (ui->cols - width) / 2;
	int rows = (int)count + 4;
	int y;

	if (rows > height)
		rows = height;
	for (int r = 0; r < rows; r++)
		draw_fill(top + r, left, width, THEME_ROLE_text);
	draw_hline(ui, top, left, width, THEME_ROLE_border);
	draw_text(ui, top, left + 2, width - 4, " Keys (Esc or ? closes) ", THEME_ROLE_header, false);
	y = top + 1;
	for (size_t i = 0; i < count && y < top + rows - 1; i++, y++) {
		const struct action_info *a = &list[i];
		bool refused = a->writes && ui->read_only;
		char help[160];

		snprintf(help, sizeof help, "%s%s", refused ? "disabled in read-only: " : "", a->help);
		draw_text(ui, y, left + 2, 12, a->keys, THEME_ROLE_key, true);
		draw_text(ui, y, left + 15, width - 17, help,
		    refused ? THEME_ROLE_muted : THEME_ROLE_text, false);
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
