/* The reason of an emergency rollback, asked over the dashboard: typed, then Enter; Esc
 * gives up. The reason is recorded with the run; the plan comes next, by the stack. */
#include "config.h"

#include "draw.h"
#include "prompt.h"
#include "ui.h"
#include "view.h"
#include "views.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>

struct reasonview {
	size_t env;
	struct prompt typed;
};

void reasonview_open(struct ui *ui)
{
	struct reasonview *rv = xcalloc(1, sizeof *rv);

	rv->env = ui->selected;
	prompt_open(&rv->typed, 0);
	ui_push_view(ui, &reasonview_view_ops, rv, rv->env, 0);
}

static void reasonview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct reasonview *rv = v->data;
	const char *env = ui->app->conf->envs[rv->env].name;
	char line[400];
	int w = ui->cols - 4 > 100 ? 100 : ui->cols - 4, x = (ui->cols - w) / 2;
	int y = top + height / 3;

	if (w < 20 || height < 6)
		return;
	for (int r = y; r < y + 5; r++)
		draw_fill(r, x, w, THEME_ROLE_text);
	snprintf(line, sizeof line, " EMERGENCY ROLLBACK of %s: every host at once ", env);
	draw_text(ui, y, x, w, line, THEME_ROLE_error, false);
	draw_text(ui, y + 1, x + 1, w - 2, "to the newest tag healthy on all of them; a paused "
	    "rollout is stopped first", THEME_ROLE_muted, false);
	snprintf(line, sizeof line, "Why? (recorded with the run) %s_", rv->typed.text);
	draw_text(ui, y + 3, x + 1, w - 2, line, THEME_ROLE_text, false);
	draw_text(ui, y + 4, x + 1, w - 2, "Enter: see the plan   Esc: nothing happens",
	    THEME_ROLE_key, false);
}

static bool reasonview_key(struct ui *ui, struct view *v, int ch)
{
	struct reasonview *rv = v->data;
	struct view_request req = { .kind = REQUEST_EMERGENCY, .env = rv->env };

	switch (prompt_key(&rv->typed, ch)) {
	case PROMPT_DONE:
		if (!rv->typed.text[0]) {
			ui_message(ui, true, "an emergency rollback needs its reason: type why, or Esc");
			prompt_open(&rv->typed, 0);
			return true;
		}
		snprintf(req.reason, sizeof req.reason, "%s", rv->typed.text);
		ui_close_views_from(ui, ui_view_index(ui, v));  /* v and its state are gone */
		ui_request(ui, &req);
		return true;
	case PROMPT_CANCELLED:
		ui_message(ui, false, "no emergency rollback: nothing happened");
		ui_close_views_from(ui, ui_view_index(ui, v));
		return true;
	default:
		return true;    /* modal: every key is the reason's */
	}
}

static int reasonview_action(struct ui *ui, struct view *v, enum action action)
{
	(void)ui, (void)v;
	return action == ACTION_REDRAW ? VIEW_UNHANDLED : VIEW_HANDLED;
}

static void reasonview_leave(struct ui *ui, struct view *v)
{
	(void)ui;
	free(v->data);
	v->data = NULL;
}

const struct view_ops reasonview_view_ops = {
	.name = "reason",
	.draw = reasonview_draw,
	.action = reasonview_action,
	.overlay = true,
	.key = reasonview_key,
	.leave = reasonview_leave,
	.hints = (const struct action_hint[]){ { 0 } },
};
