/* The deploy pane: a promotion's or rollback's plan, its confirmation, then each step
 * with its state and time and the live output of the run, to its result. */
#include "config.h"

#include "draw.h"
#include "palette.h"
#include "ui.h"
#include "view.h"
#include "xmalloc.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIRM_MAX 64

struct deployview {
	struct ui *ui;
	struct deploy *deploy;
	size_t env;
	char typed[CONFIRM_MAX + 1];    /* the confirmation being typed */
	bool cancel_typing;             /* typing the run's operator to cancel their run */
	size_t typed_len;
};

static void deploy_changed(void *arg, struct deploy *d)
{
	struct deployview *dv = arg;
	const struct deploy_info *i = deploy_info(d);

	dv->ui->dirty = true;
	if (i->phase == DEPLOY_DONE || i->phase == DEPLOY_REFUSED)
		deploywatch_refresh(dv->ui->app->deploywatch);
}

/* A deploy pane already open: it is raised (a run in it goes on) and true returned. */
static bool raise_open(struct ui *ui)
{
	for (int i = ui->nviews - 1; i >= 0; i--) {
		if (ui->views[i].ops == &deployview_view_ops) {
			ui_raise_view(ui, i);
			ui_message(ui, false, "back to the deploy pane of %s: Esc closes it first",
			    ui->app->conf->envs[ui->views[i].env].name);
			return true;
		}
	}
	return false;
}

/* Pushes a pane for the selected environment: req planned, or (NULL) its run attached. */
static void open_with(struct ui *ui, const struct deploy_request *req)
{
	struct deployview *dv = xcalloc(1, sizeof *dv);
	struct deploy_ctx ctx;

	dv->ui = ui;
	dv->env = ui->selected;
	app_deploy_ctx(ui->app, &ctx);
	if (req)
		dv->deploy = deploy_new(&ctx, req, deploy_changed, dv);
	else
		dv->deploy = deploy_attach(&ctx, &ui->app->conf->envs[dv->env], deploy_changed, dv);
	ui_push_view(ui, &deployview_view_ops, dv, dv->env, 0);
}

void deployview_open(struct ui *ui, int kind, const char *tag)
{
	const struct conf_env *env = &ui->app->conf->envs[ui->selected];
	struct deploy_request req = { .kind = (enum deploy_kind)kind, .target = env, .tag = tag };

	if (raise_open(ui))
		return;
	open_with(ui, &req);
}

void deployview_attach(struct ui *ui, size_t env_index)
{
	if (raise_open(ui))
		return;
	ui->selected = env_index;
	open_with(ui, NULL);
}

static const char *step_word(const struct deploy_step *s, enum theme_role *role)
{
	switch (s->state) {
	case STEP_OK:
		*role = THEME_ROLE_healthy;
		return "done";
	case STEP_FAILED:
		*role = THEME_ROLE_unhealthy;
		return s->exit == 124 ? "timed out" : "failed";
	case STEP_RUNNING:
		*role = THEME_ROLE_degraded;
		return "running";
	case STEP_SKIPPED:
		*role = THEME_ROLE_muted;
		return "skipped";
	default:
		*role = THEME_ROLE_muted;
		return "waiting";
	}
}

/* A label and a value on one row; returns the next row. */
static int fact(struct ui *ui, int y, const char *label, const char *value, enum theme_role role)
{
	draw_text(ui, y, 2, 10, label, THEME_ROLE_header, true);
	draw_text(ui, y, 12, ui->cols - 13, value, role, false);
	return y + 1;
}

/* A promotion or deploy that failed and did not roll back by itself. */
static bool failed_forward(const struct deploy_info *i)
{
	return strcmp(i->result, "failed") == 0 && i->kind != DEPLOY_ROLLBACK;
}

static void draw_result(struct ui *ui, int y, const struct deploy_info *i)
{
	char line[300];
	enum theme_role role = THEME_ROLE_unhealthy;
	bool known;
	double took = (double)deploy_run_ms(i, &known) / 1000.0;

	if (strcmp(i->result, "succeeded") == 0) {
		role = THEME_ROLE_healthy;
		snprintf(line, sizeof line, " SUCCEEDED: %s runs %s and is ready", i->env, i->tag);
	} else if (strcmp(i->result, "rolled_back") == 0) {
		role = THEME_ROLE_degraded;
		snprintf(line, sizeof line, " ROLLED BACK: %s failed, %s runs %s again", i->tag, i->env,
		    i->rollback_tag);
	} else if (strcmp(i->result, "cancelled") == 0) {
		role = THEME_ROLE_degraded;
		snprintf(line, sizeof line, " CANCELLED before the switch: the app was not touched");
	} else {
		const struct deploy_step *failed = NULL;

		for (size_t k = 0; k < i->steps_len && !failed; k++)
			if (i->steps[k].state == STEP_FAILED)
				failed = &i->steps[k];
		if (failed)
			snprintf(line, sizeof line, " %s at %s (%s %d)%s",
			    strcmp(i->result, "rollback_failed") == 0 ? "ROLLBACK FAILED" : "FAILED",
			    failed->name, failed->exit == 124 ? "timed out, exit" : "exit", failed->exit,
			    i->switched ? "" : ": the app was not switched");
		else
			snprintf(line, sizeof line, " %s: %s", strcmp(i->result, "rollback_failed") == 0 ?
			    "ROLLBACK FAILED" : "FAILED", i->status);
	}
	if (known)
		snprintf(line + strlen(line), sizeof line - strlen(line), " (%.1fs)", took);
	draw_text(ui, y, 2, ui->cols - 3, line, role, false);
}

/* A run another operator started (as its record says), or whose starter is not known */
static bool other_operator(const struct ui *ui, const struct deploy_info *i)
{
	return i->attached && strcmp(i->operator, ui->app->operator) != 0;
}

/* What cancelling another's run asks to be typed: their name, or the environment's */
static const char *cancel_word(const struct deploy_info *i)
{
	return i->operator[0] ? i->operator : i->env;
}

static void deployview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct deployview *dv = v->data;
	const struct deploy_info *i = deploy_info(dv->deploy);
	int y = top, bottom = top + height;
	char line[600];
	int64_t now = loop_clock_ms();

	for (int r = top; r < bottom; r++)
		draw_fill(r, 0, ui->cols, THEME_ROLE_text);
	if (i->kind == DEPLOY_PROMOTE && i->source[0])
		snprintf(line, sizeof line, "%s %s %s %s %s", i->action, i->tag[0] ? i->tag : "",
		    i->source, ui->ascii ? "->" : "\xe2\x86\x92", i->env);
	else
		snprintf(line, sizeof line, "%s %s %s %s", i->action, i->env,
		    ui->ascii ? "->" : "\xe2\x86\x92", i->tag[0] ? i->tag : "?");
	draw_hline(ui, y, 0, ui->cols, THEME_ROLE_border);
	draw_text(ui, y, 2, ui->cols - 4, line, THEME_ROLE_header, false);
	y++;
	if (i->phase == DEPLOY_CHECKING) {
		draw_text(ui, y + 1, 2, ui->cols - 3, "checking the hosts, the registry and the source...",
		    THEME_ROLE_muted, false);
		draw_text(ui, y + 2, 2, ui->cols - 3, i->status, THEME_ROLE_muted, false);
		return;
	}
	if (i->phase == DEPLOY_REFUSED) {
		draw_text(ui, y + 1, 2, ui->cols - 3, "Refused: nothing was started.", THEME_ROLE_error, false);
		draw_wrapped(ui, y + 3, 4, bottom - 1, i->refusal, THEME_ROLE_text);
		draw_text(ui, bottom - 1, 2, ui->cols - 3, "Esc: close", THEME_ROLE_key, false);
		return;
	}
	/* the plan */
	if (i->attached)
		snprintf(line, sizeof line, "%s   (run %s)", i->tag, i->run_id);
	else if (i->still_runs[0])
		snprintf(line, sizeof line, "%s   (%s runs %s now; deploy.env names %s, whose run stopped "
		    "before the switch)", i->tag, i->env, i->still_runs, i->current);
	else if (i->current[0])
		snprintf(line, sizeof line, "%s   (%s runs %s now%s)", i->tag, i->env, i->current,
		    i->redeploy ? ": the same tag" : "");
	else
		snprintf(line, sizeof line, "%s   (%s has no deploy.env yet)", i->tag, i->env);
	y = fact(ui, y, "tag", line, THEME_ROLE_text);
	if (i->kind == DEPLOY_PROMOTE && i->chosen[0] && !i->attached) {
		snprintf(line, sizeof line, "%s; %s's app reports %s, its deploy.env names %s", i->chosen,
		    i->source, i->source_version[0] ? i->source_version : "no version",
		    i->source_env_tag[0] ? i->source_env_tag : "nothing");
		draw_text(ui, y, 2, 10, "chosen", THEME_ROLE_header, true);
		y = draw_wrapped(ui, y, 12, y + 2, line, THEME_ROLE_muted);
	}
	if (i->adopting[0] && !i->attached) {
		snprintf(line, sizeof line, "%s has no run recorded: %s, which it runs ready, is recorded "
		    "first as its baseline", i->env, i->adopting);
		draw_text(ui, y, 2, 10, "adopt", THEME_ROLE_header, true);
		y = draw_wrapped(ui, y, 12, y + 2, line, THEME_ROLE_muted);
	}
	y = fact(ui, y, "app", i->app_image, THEME_ROLE_muted);
	y = fact(ui, y, "migrator", i->migrator_image, THEME_ROLE_muted);
	if (i->rollback_tag[0])
		snprintf(line, sizeof line, "automatic, to %s, if ready or a smoke check fails", i->rollback_tag);
	else
		snprintf(line, sizeof line, "by hand (b after a failure)");
	y = fact(ui, y, "rollback", line, THEME_ROLE_text);
	snprintf(line, sizeof line, "%s%s", i->host, i->hosts_len > 1 ? "" : "");
	if (i->hosts_len > 1)
		snprintf(line, sizeof line, "%s (host %zu of %zu, one after another)", i->host,
		    i->host_index + 1, i->hosts_len);
	y = fact(ui, y, "host", line, THEME_ROLE_text);
	for (size_t w = 0; w < i->warnings_len && y < bottom - 4; w++) {
		snprintf(line, sizeof line, "%s %s", draw_glyph(ui, GLYPH_WARN), i->warnings[w]);
		y = draw_wrapped(ui, y, 2, bottom - 4, line, THEME_ROLE_degraded);
	}
	/* the steps */
	draw_text(ui, y++, 2, 10, "steps", THEME_ROLE_header, true);
	for (size_t k = 0; k < i->steps_len && y < bottom - 2; k++) {
		const struct deploy_step *s = &i->steps[k];
		enum theme_role role;
		const char *word = step_word(s, &role);
		char took[32] = "";

		if (s->rollback && (s->state == STEP_PENDING || s->state == STEP_SKIPPED))
			continue;       /* the automatic rollback shows once it runs */
		if (s->state == STEP_RUNNING)
			snprintf(took, sizeof took, "%.0fs", (double)(now - s->started_ms) / 1000.0);
		else if (s->state == STEP_OK || s->state == STEP_FAILED)
			snprintf(took, sizeof took, "%.1fs", (double)s->ms / 1000.0);
		if (s->state == STEP_FAILED)
			snprintf(took + strlen(took), sizeof took - strlen(took), " exit %d", s->exit);
		if (i->phase == DEPLOY_PLANNED) {
			snprintf(took, sizeof took, "%zu.", k + 1);
			word = took;
			role = THEME_ROLE_muted;
		}
		draw_text(ui, y, 4, 10, word, role, true);
		snprintf(line, sizeof line, "%s%s", s->rollback ? "rollback: " : "", s->name);
		draw_text(ui, y, 14, 30, line, s->state == STEP_RUNNING ? THEME_ROLE_selected :
		    THEME_ROLE_text, true);
		if (i->phase == DEPLOY_PLANNED) {
			const char *compose = ui->app->conf->envs[dv->env].compose;
			const char *cmd = s->command;
			size_t cl = strlen(compose);

			/* "docker compose -f ... pull app" reads better as "compose: pull app" */
			if (cl > 0 && strncmp(cmd, compose, cl) == 0 && cmd[cl] == ' ')
				snprintf(line, sizeof line, "%scompose: %s", s->switch_point ? "[switch] " : "",
				    cmd + cl + 1);
			else
				snprintf(line, sizeof line, "%s%s", s->switch_point ? "[switch] " : "", cmd);
			draw_text(ui, y, 45, ui->cols - 46, line, THEME_ROLE_muted, false);
		} else {
			draw_text(ui, y, 45, 16, took, role, false);
			if (s->switch_point)
				draw_text(ui, y, 62, 10, "switch", THEME_ROLE_muted, false);
		}
		y++;
	}
	/* the live output, newest at the bottom (the runner's step-end lines left out) */
	if (i->phase != DEPLOY_PLANNED && y < bottom - 4) {
		const struct logbuf *out = i->output;
		int rows = bottom - 3 - (y + 1);
		size_t first = out->len, shown = 0;

		while (first > 0 && shown < (size_t)rows) {
			const struct log_line *ln = logbuf_get(out, --first);

			if (strncmp(ln->text, "==> exit ", 9) != 0)
				shown++;
		}
		draw_hline(ui, y, 0, ui->cols, THEME_ROLE_border);
		draw_text(ui, y, 2, 20, " output ", THEME_ROLE_border, false);
		y++;
		for (size_t l = first; l < out->len && y < bottom - 3; l++) {
			const struct log_line *ln = logbuf_get(out, l);
			int cols;
			size_t n;

			if (strncmp(ln->text, "==> exit ", 9) == 0)
				continue;
			n = draw_fit(ui, ln->text, ln->len, ui->cols - 3, &cols);
			draw_bytes(ui, y++, 2, ln->text, n, palette_attr(strncmp(ln->text, "==> ", 4) == 0 ?
			    THEME_ROLE_header : THEME_ROLE_text));
		}
	}
	/* what happens next */
	y = bottom - 3;
	draw_hline(ui, y, 0, ui->cols, THEME_ROLE_border);
	y += 2;
	switch (i->phase) {
	case DEPLOY_PLANNED:
		if (i->protected_env) {
			snprintf(line, sizeof line, "%s is protected. Type its name to confirm, Esc to go back: %s_",
			    i->env, dv->typed);
			draw_text(ui, y, 2, ui->cols - 3, line, THEME_ROLE_key, false);
		} else {
			draw_text(ui, y, 2, ui->cols - 3, "Enter or y: start   Esc: go back, nothing runs",
			    THEME_ROLE_key, false);
		}
		break;
	case DEPLOY_STARTING:
		draw_text(ui, y - 1, 2, ui->cols - 3, i->status, THEME_ROLE_muted, false);
		break;
	case DEPLOY_RUNNING:
	{
		bool known;
		int64_t ran = deploy_run_ms(i, &known);

		if (known)
			snprintf(line, sizeof line, "running on %s for %.0fs", i->host, (double)ran / 1000.0);
		else
			snprintf(line, sizeof line, "running on %s", i->host);
	}
		draw_text(ui, y - 1, 2, ui->cols - 3, line, THEME_ROLE_muted, false);
		if (strstr(i->status, "lost"))
			snprintf(line, sizeof line, "%s", i->status);
		else if (i->cancel[0])
			snprintf(line, sizeof line, "cancel %s   Esc: close (the run goes on on the host)",
			    i->cancel);
		else if (i->switched)
			snprintf(line, sizeof line, "past the switch: no cancel   Esc: close (the run goes on on the host)");
		else if (dv->cancel_typing)
			snprintf(line, sizeof line, "This run was started by %s. Type %s to cancel it, "
			    "Esc to leave it running: %s_", i->operator[0] ? i->operator : "someone else",
			    cancel_word(i), dv->typed);
		else if (i->attached && i->operator[0])
			snprintf(line, sizeof line, "started by %s   c: cancel (safe until the switch)   "
			    "Esc: close (the run goes on on the host)", i->operator);
		else
			snprintf(line, sizeof line, "c: cancel (safe until the switch)   Esc: close (the run goes on on the host)");
		draw_text(ui, y, 2, ui->cols - 3, line, strstr(i->status, "lost") ? THEME_ROLE_error :
		    THEME_ROLE_key, false);
		break;
	case DEPLOY_DONE:
		if (i->hosts_differ || i->fleet_rollback) {
			/* where each host stands, over the last lines of output */
			for (int r = bottom - 6; r < bottom - 3; r++)
				draw_fill(r, 0, ui->cols, THEME_ROLE_text);
			draw_wrapped(ui, bottom - 6, 2, bottom - 3, i->status, THEME_ROLE_degraded);
		}
		draw_result(ui, y - 1, i);
		if (failed_forward(i))
			draw_text(ui, y, 2, ui->cols - 3, i->hosts_differ ? "b: roll every host back to "
			    "the last healthy tag now   h: history   Esc: close" : "b: roll back to the last "
			    "healthy tag now   h: history   Esc: close", THEME_ROLE_key, false);
		else
			draw_text(ui, y, 2, ui->cols - 3, "Esc: close   h: history", THEME_ROLE_key, false);
		break;
	default:
		break;
	}
}

/* Once it is over, the pane gives way to the history, where a tag to go back to is picked:
 * the history pane it was opened from, or a new one. */
static int to_history(struct ui *ui, struct view *v, const struct deploy_info *i)
{
	size_t env = v->env;

	if (i->phase != DEPLOY_DONE && i->phase != DEPLOY_REFUSED)
		return VIEW_HANDLED;
	ui_close_views_from(ui, ui_view_index(ui, v));        /* v and its state are gone */
	ui->selected = env;
	historyview_push(ui);
	return VIEW_REDRAW;
}

static int deployview_action(struct ui *ui, struct view *v, enum action action)
{
	struct deployview *dv = v->data;
	const struct deploy_info *i = deploy_info(dv->deploy);

	switch (action) {
	case ACTION_CLOSE:
	case ACTION_QUIT:
		if (i->phase == DEPLOY_RUNNING || i->phase == DEPLOY_STARTING)
			ui_message(ui, false, "%s goes on on %s; a to follow it again", i->tag, i->host);
		return VIEW_CLOSE;
	case ACTION_CANCEL:
		if (i->phase != DEPLOY_RUNNING)
			return VIEW_HANDLED;
		if (i->switched)
			ui_message(ui, true, "cancel refused: the app is being switched; let the run end "
			    "(a failure rolls back)");
		else if (i->cancel_sent)
			ui_message(ui, true, "cancel already asked");
		else if (other_operator(ui, i))
			dv->cancel_typing = true;       /* someone else's run: they are named first */
		else
			deploy_cancel(dv->deploy);
		return VIEW_REDRAW;
	case ACTION_ROLLBACK:
		if (i->phase == DEPLOY_DONE && failed_forward(i)) {
			/* the one-key offer: plan going back to the last healthy tag */
			struct deploy_request req = {
				.kind = DEPLOY_ROLLBACK, .target = &ui->app->conf->envs[dv->env],
			};
			struct deploy_ctx ctx;

			app_deploy_ctx(ui->app, &ctx);
			deploy_free(dv->deploy);
			dv->typed_len = 0;
			dv->typed[0] = '\0';
			dv->deploy = deploy_new(&ctx, &req, deploy_changed, dv);
			return VIEW_REDRAW;
		}
		return to_history(ui, v, i);
	case ACTION_HISTORY:
		return to_history(ui, v, i);
	case ACTION_HELP:
	case ACTION_REDRAW:
		return VIEW_UNHANDLED;
	default:
		return VIEW_HANDLED;        /* modal: nothing below acts while it is open */
	}
}

/* Typing into the confirmation: false when the line is not done yet. */
static bool type_key(struct deployview *dv, int ch)
{
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (dv->typed_len > 0)
			dv->typed[--dv->typed_len] = '\0';
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		return true;
	} else if (ch >= 0x20 && ch < 0x7f && dv->typed_len < CONFIRM_MAX) {
		dv->typed[dv->typed_len++] = (char)ch;
		dv->typed[dv->typed_len] = '\0';
	}
	return false;
}

static void typed_clear(struct deployview *dv)
{
	dv->typed_len = 0;
	dv->typed[0] = '\0';
}

/* Cancelling another operator's run: their name, typed, then Enter; Esc gives up. */
static bool cancel_key(struct ui *ui, struct deployview *dv, const struct deploy_info *i, int ch)
{
	if (ch == 27 || i->phase != DEPLOY_RUNNING || i->switched) {
		dv->cancel_typing = false;
		typed_clear(dv);
		if (ch == 27)
			ui_message(ui, false, "the run goes on: nothing was cancelled");
		return ch == 27;
	}
	if (!type_key(dv, ch))
		return true;
	if (strcmp(dv->typed, cancel_word(i)) == 0) {
		dv->cancel_typing = false;
		deploy_cancel(dv->deploy);
	} else {
		ui_message(ui, true, "\"%s\" is not \"%s\": type it exactly, or Esc", dv->typed,
		    cancel_word(i));
	}
	typed_clear(dv);
	return true;
}

/* The confirmation: typed name for a protected environment, else y or Enter; and the
 * typed name of another operator whose run is being cancelled. */
static bool deployview_key(struct ui *ui, struct view *v, int ch)
{
	struct deployview *dv = v->data;
	const struct deploy_info *i = deploy_info(dv->deploy);

	if (dv->cancel_typing)
		return cancel_key(ui, dv, i, ch);
	if (i->phase != DEPLOY_PLANNED)
		return false;
	if (ch == 27)
		return false;           /* Esc: the close action */
	if (!i->protected_env) {
		if (ch == 'y' || ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			deploy_confirm(dv->deploy);
			return true;
		}
		return ch != '?' && ch != 'q';
	}
	if (!type_key(dv, ch))
		return true;
	if (strcmp(dv->typed, i->env) == 0) {
		deploy_confirm(dv->deploy);
	} else {
		ui_message(ui, true, "\"%s\" is not \"%s\": type the environment's name exactly",
		    dv->typed, i->env);
		typed_clear(dv);
	}
	return true;
}

static void deployview_leave(struct ui *ui, struct view *v)
{
	struct deployview *dv = v->data;

	deploy_free(dv->deploy);
	free(dv);
	v->data = NULL;
}

const struct view_ops deployview_view_ops = {
	.name = "deploy",
	.draw = deployview_draw,
	.action = deployview_action,
	.overlay = false,
	.key = deployview_key,
	.hints = " ? help  Esc close (a run goes on on its host)  h history",
	.leave = deployview_leave,
};
