/* The deploy pane: a promotion's or rollback's plan, its confirmation, then each step
 * with its state and time and the live output of the run, to its result. */
#include "config.h"

#include "draw.h"
#include "palette.h"
#include "prompt.h"
#include "runfacts.h"
#include "ui.h"
#include "view.h"
#include "views.h"
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
	struct prompt typed;            /* the confirmation being typed */
	bool cancel_typing;             /* typing the run's operator to cancel their run */
	bool abort_typing;              /* typing "abort" to abort a rollout in waves */
};

static void deploy_changed(void *arg, struct deploy *d)
{
	struct deployview *dv = arg;

	(void)d;
	dv->ui->dirty = true;   /* the dashboard hears the end on the bus (ui.c) */
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

void deployview_emergency(struct ui *ui, const char *reason)
{
	const struct conf_env *env = &ui->app->conf->envs[ui->selected];
	struct deploy_request req = { .kind = DEPLOY_ROLLBACK, .target = env, .emergency = reason };

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
		return s->exit == UNIT_EXIT_TIMEOUT ? "timed out" : "failed";
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

/* A promotion or deploy that failed and did not roll back by itself. */
static bool failed_forward(const struct deploy_info *i)
{
	return i->result == RUN_FAILED && i->kind != DEPLOY_ROLLBACK;
}

/* The run's result in one line, and the role that colours it. */
static enum theme_role result_line(const struct deploy_info *i, char *line, size_t linesz)
{
	enum theme_role role = THEME_ROLE_unhealthy;
	bool known;
	double took = (double)deploy_run_ms(i, &known) / 1000.0;

	if (i->aborted && i->result == RUN_ROLLED_BACK) {
		role = THEME_ROLE_degraded;
		snprintf(line, linesz, "ABORTED in wave %zu of %zu: every host that took %s went back, %s "
		    "runs %s again", i->wave, i->waves, i->tag, i->env, i->rollback_tag);
	} else if (i->aborted && i->result == RUN_CANCELLED) {
		role = THEME_ROLE_degraded;
		snprintf(line, linesz, "ABORTED in wave %zu of %zu before any host took %s", i->wave,
		    i->waves, i->tag);
	} else if (i->result == RUN_SUCCEEDED) {
		role = THEME_ROLE_healthy;
		snprintf(line, linesz, "SUCCEEDED: %s runs %s and is ready", i->env, i->tag);
	} else if (i->result == RUN_ROLLED_BACK) {
		role = THEME_ROLE_degraded;
		snprintf(line, linesz, "ROLLED BACK: %s failed, %s runs %s again", i->tag, i->env,
		    i->rollback_tag);
	} else if (i->result == RUN_PARTIAL) {
		role = THEME_ROLE_degraded;
		snprintf(line, linesz, "PARTIAL: %s", strncmp(i->status, "partial: ", 9) == 0 ?
		    i->status + 9 : i->status);
	} else if (i->result == RUN_CANCELLED) {
		role = THEME_ROLE_degraded;
		snprintf(line, linesz, "CANCELLED before the switch: the app was not touched");
	} else {
		const struct deploy_step *failed = NULL;

		for (size_t k = 0; k < i->steps_len && !failed; k++)
			if (i->steps[k].state == STEP_FAILED)
				failed = &i->steps[k];
		if (failed)
			snprintf(line, linesz, "%s at %s (%s %d)%s",
			    i->result == RUN_ROLLBACK_FAILED ? "ROLLBACK FAILED" : "FAILED",
			    failed->name, failed->exit == UNIT_EXIT_TIMEOUT ? "timed out, exit" : "exit",
			    failed->exit, i->switched ? "" : ": the app was not switched");
		else
			snprintf(line, linesz, "%s: %s", i->result == RUN_ROLLBACK_FAILED ?
			    "ROLLBACK FAILED" : "FAILED", i->status);
	}
	if (known)
		snprintf(line + strlen(line), linesz - strlen(line), " (%.1fs)", took);
	return role;
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

/* What the pane says at its foot: a status line and the keys (or the prompt being typed). */
struct foot {
	char status[600], keys[600];
	enum theme_role status_role, keys_role;
};

static void foot_lines(const struct deployview *dv, const struct deploy_info *i, struct foot *f)
{
	f->status_role = THEME_ROLE_muted;
	f->keys_role = THEME_ROLE_key;
	switch (i->phase) {
	case DEPLOY_PLANNED:
		if (i->emergency)
			snprintf(f->keys, sizeof f->keys, "EMERGENCY ROLLBACK of every host of %s at once. "
			    "Type its name to confirm, Esc to go back: %s_", i->env, dv->typed.text);
		else if (i->protected_env)
			snprintf(f->keys, sizeof f->keys, "%s is protected. Type its name to confirm, Esc "
			    "to go back: %s_", i->env, dv->typed.text);
		else
			snprintf(f->keys, sizeof f->keys, "Enter or y: start   Esc: go back, nothing runs");
		break;
	case DEPLOY_STARTING:
		snprintf(f->status, sizeof f->status, "%s", i->status);
		break;
	case DEPLOY_RUNNING:
	{
		bool known;
		int64_t ran = deploy_run_ms(i, &known);

		char wave[40] = "";

		if (i->waves)
			snprintf(wave, sizeof wave, "wave %zu of %zu: ", i->wave, i->waves);
		if (i->paused)
			snprintf(f->status, sizeof f->status, "PAUSED, %s", i->paused_why);
		else if (i->soaking || i->aborted)
			snprintf(f->status, sizeof f->status, "%s%s", wave, i->status);
		else if (known)
			snprintf(f->status, sizeof f->status, "%srunning on %s for %.0fs", wave, i->host,
			    (double)ran / 1000.0);
		else
			snprintf(f->status, sizeof f->status, "%srunning on %s", wave, i->host);
		if (i->paused)
			f->status_role = THEME_ROLE_degraded;
	}
		if (dv->abort_typing) {
			snprintf(f->keys, sizeof f->keys, "Abort: every host that took %s goes back to the "
			    "last healthy tag, newest wave first. Type abort to do it, Esc to leave it: %s_",
			    i->tag, dv->typed.text);
		} else if (i->paused) {
			snprintf(f->keys, sizeof f->keys, "R: resume (the failed hosts stay as they are)   "
			    "A: abort (every host that moved goes back)   Esc: close (it stays paused)");
		} else if (strstr(i->status, "lost")) {
			snprintf(f->keys, sizeof f->keys, "%s", i->status);
			f->keys_role = THEME_ROLE_error;
		} else if (i->cancel[0]) {
			snprintf(f->keys, sizeof f->keys, "cancel %s   Esc: close (the run goes on on the host)",
			    i->cancel);
		} else if (i->switched) {
			snprintf(f->keys, sizeof f->keys, "past the switch: no cancel   Esc: close (the run "
			    "goes on on the host)");
		} else if (dv->cancel_typing) {
			snprintf(f->keys, sizeof f->keys, "This run was started by %s. Type %s to cancel it, "
			    "Esc to leave it running: %s_", i->operator[0] ? i->operator : "someone else",
			    cancel_word(i), dv->typed.text);
		} else if (i->attached && i->operator[0]) {
			snprintf(f->keys, sizeof f->keys, "started by %s   c: cancel (safe until the switch)   "
			    "Esc: close (the run goes on on the host)", i->operator);
		} else if (i->waves && !i->fleet_rollback) {
			snprintf(f->keys, sizeof f->keys, "c: cancel (safe until the switch)   A: abort the "
			    "rollout   Esc: close (it goes on on the hosts)");
		} else {
			snprintf(f->keys, sizeof f->keys, "c: cancel (safe until the switch)   Esc: close (the "
			    "run goes on on the host)");
		}
		break;
	case DEPLOY_DONE:
		f->status_role = result_line(i, f->status, sizeof f->status);
		if (failed_forward(i))
			snprintf(f->keys, sizeof f->keys, "%s   h: history   Esc: close", i->hosts_differ ?
			    "b: roll every host back to the last healthy tag now" :
			    "b: roll back to the last healthy tag now");
		else
			snprintf(f->keys, sizeof f->keys, "Esc: close   h: history");
		break;
	default:
		break;
	}
}

/* A step is listed unless it belongs to an automatic rollback that has not run. */
static bool step_listed(const struct deploy_step *s)
{
	return !(s->rollback && (s->state == STEP_PENDING || s->state == STEP_SKIPPED));
}

/* The step the run is at: the one running, else the last that ended, else the first. */
static size_t step_current(const struct deploy_info *i)
{
	size_t at = 0;

	for (size_t k = 0; k < i->steps_len; k++) {
		if (i->steps[k].state == STEP_RUNNING)
			return k;
		if (i->steps[k].state == STEP_OK || i->steps[k].state == STEP_FAILED)
			at = k;
	}
	return at;
}

/* One step's row; `narrow`: its number first and the time after its name, for a small
 * pane. */
static void draw_step(struct ui *ui, struct deployview *dv, const struct deploy_info *i, size_t k,
    int y, bool narrow, int64_t now)
{
	const struct deploy_step *s = &i->steps[k];
	enum theme_role role;
	const char *word = step_word(s, &role);
	char took[32] = "", line[600];
	enum theme_role name_role = s->state == STEP_RUNNING ? THEME_ROLE_selected : THEME_ROLE_text;

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
	snprintf(line, sizeof line, "%s%s", s->rollback ? "rollback: " : "", s->name);
	if (narrow) {
		char num[16];
		int x = 2, nth = 0, of = 0, tw = i->phase == DEPLOY_PLANNED ? 0 : draw_width(took) + 1;

		/* numbered among its own kind: the steps, or the rollback's */
		for (size_t n = 0; n < i->steps_len; n++)
			if (i->steps[n].rollback == s->rollback) {
				of++;
				nth += n <= k;
			}
		if (i->phase != DEPLOY_PLANNED) {
			snprintf(num, sizeof num, "%d/%d", nth, of);
			x += draw_text(ui, y, x, 6, num, THEME_ROLE_muted, true);
		}
		x += draw_text(ui, y, x, 10, word, role, true);
		/* the whole name before its time: the time only where both fit */
		if (x + draw_width(line) + tw > ui->cols - 1)
			tw = 0;
		x += draw_text(ui, y, x, ui->cols - x - tw - 1, line, name_role, false) + 1;
		if (tw)
			draw_text(ui, y, x, ui->cols - x - 1, took, role, false);
		return;
	}
	draw_text(ui, y, 4, 10, word, role, true);
	draw_text(ui, y, 14, 30, line, name_role, true);
	if (i->phase == DEPLOY_PLANNED) {
		snprintf(line, sizeof line, "%s%s", s->switch_point ? "[switch] " : "", s->brief);
		draw_text(ui, y, 45, ui->cols - 46, line, THEME_ROLE_muted, false);
	} else {
		draw_text(ui, y, 45, 16, took, role, false);
		if (s->switch_point)
			draw_text(ui, y, 62, 10, "switch", THEME_ROLE_muted, false);
	}
}

/* The live output over rows y..bottom-1, newest at the bottom (the runner's step-end lines
 * left out), under a rule. */
static void draw_output(struct ui *ui, const struct deploy_info *i, int y, int bottom)
{
	const struct logbuf *out = i->output;
	int rows = bottom - (y + 1);
	size_t first = out->len, shown = 0;

	while (first > 0 && shown < (size_t)rows) {
		const struct log_line *ln = logbuf_get(out, --first);

		if (strncmp(ln->text, UNIT_NOTE_STEP_EXIT, strlen(UNIT_NOTE_STEP_EXIT)) != 0)
			shown++;
	}
	draw_hline(ui, y, 0, ui->cols, THEME_ROLE_border);
	draw_text(ui, y, 2, 20, " output ", THEME_ROLE_border, false);
	y++;
	for (size_t l = first; l < out->len && y < bottom; l++) {
		const struct log_line *ln = logbuf_get(out, l);
		int cols;
		size_t n;

		if (strncmp(ln->text, UNIT_NOTE_STEP_EXIT, strlen(UNIT_NOTE_STEP_EXIT)) == 0)
			continue;
		n = draw_fit(ui, ln->text, ln->len, ui->cols - 3, &cols);
		draw_bytes(ui, y++, 2, ln->text, n, palette_attr(strncmp(ln->text, UNIT_NOTE,
		    strlen(UNIT_NOTE)) == 0 ? THEME_ROLE_header : THEME_ROLE_text));
	}
}

static void deployview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct deployview *dv = v->data;
	const struct deploy_info *i = deploy_info(dv->deploy);
	int y = top, bottom = top + height, rule, keys_rows, status_rows, listed = 0;
	char line[600];
	int64_t now = loop_clock_ms();
	struct foot foot = { .status = "" };
	bool narrow = ui->cols < 72;

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
		draw_wrapped(ui, y + 3, 4, bottom - 1, i->verdict.refusal, THEME_ROLE_text);
		draw_text(ui, bottom - 1, 2, ui->cols - 3, "Esc: close", THEME_ROLE_key, false);
		return;
	}
	/* the foot first: its prompt wraps, and the steps get what is left above it */
	foot_lines(dv, i, &foot);
	keys_rows = foot.keys[0] ? draw_wrapped_rows(ui, 2, foot.keys) : 1;
	status_rows = foot.status[0] ? draw_wrapped_rows(ui, 2, foot.status) : 1;
	rule = bottom - 1 - status_rows - keys_rows;
	if (rule < y + 1)
		rule = y + 1;
	for (size_t k = 0; k < i->steps_len; k++)
		listed += step_listed(&i->steps[k]);
	if (y + runfacts_rows(ui, i) + 1 + listed <= rule) {
		/* room for it all: the plan's facts, the steps, then the output */
		y = runfacts_draw(ui, i, y, rule - 1);
		draw_text(ui, y++, 2, 10, "steps", THEME_ROLE_header, true);
		for (size_t k = 0; k < i->steps_len && y < rule; k++)
			if (step_listed(&i->steps[k]))
				draw_step(ui, dv, i, k, y++, narrow, now);
		if (i->phase != DEPLOY_PLANNED && y < rule - 1)
			draw_output(ui, i, y, rule);
	} else {
		/* a small pane: the steps around the one the run is at, nothing else */
		size_t cur = step_current(i), first = 0;
		int rows = rule - y, skip = 0, seen = 0;

		for (size_t k = 0; k < cur; k++)
			skip += step_listed(&i->steps[k]);
		/* the current step in view, as near the middle as the list allows */
		skip -= rows / 2;
		if (skip > listed - rows)
			skip = listed - rows;
		if (skip < 0)
			skip = 0;
		for (size_t k = 0; k < i->steps_len; k++)
			if (step_listed(&i->steps[k]) && seen++ == skip) {
				first = k;
				break;
			}
		for (size_t k = first; k < i->steps_len && y < rule; k++)
			if (step_listed(&i->steps[k]))
				draw_step(ui, dv, i, k, y++, true, now);
	}
	/* what happens next */
	draw_hline(ui, rule, 0, ui->cols, THEME_ROLE_border);
	if (i->phase == DEPLOY_DONE && (i->hosts_differ || i->fleet_rollback) && rule - 3 > top) {
		/* where each host stands, over the last lines of output */
		for (int r = rule - 3; r < rule; r++)
			draw_fill(r, 0, ui->cols, THEME_ROLE_text);
		draw_wrapped(ui, rule - 3, 2, rule, i->status, THEME_ROLE_degraded);
	}
	if (foot.status[0])
		draw_wrapped(ui, rule + 1, 2, bottom, foot.status, foot.status_role);
	if (foot.keys[0])
		draw_wrapped(ui, rule + 1 + status_rows, 2, bottom, foot.keys, foot.keys_role);
}

/* Once it is over, the pane gives way to the history, where a tag to go back to is picked:
 * the history pane it was opened from, or a new one. */
static int to_history(struct ui *ui, struct view *v, const struct deploy_info *i)
{
	size_t env = v->env;

	if (i->phase != DEPLOY_DONE && i->phase != DEPLOY_REFUSED)
		return VIEW_HANDLED;
	ui_close_views_from(ui, ui_view_index(ui, v));        /* v and its state are gone */
	ui_request(ui, &(struct view_request){ .kind = REQUEST_HISTORY, .env = env });
	return VIEW_REDRAW;
}

static int deployview_action(struct ui *ui, struct view *v, enum action action)
{
	struct deployview *dv = v->data;
	const struct deploy_info *i = deploy_info(dv->deploy);

	switch (action) {
	case ACTION_CLOSE:
	case ACTION_QUIT:
		if (i->paused)
			ui_message(ui, false, "the rollout of %s stays paused, %s locked: a comes back to it",
			    i->tag, i->env);
		else if (i->phase == DEPLOY_RUNNING || i->phase == DEPLOY_STARTING)
			ui_message(ui, false, "%s goes on on %s; a to follow it again", i->tag, i->host);
		return VIEW_CLOSE;
	case ACTION_RESUME:
		if (!i->paused)
			ui_message(ui, true, "%s", i->waves ? "the rollout is not paused: nothing to resume" :
			    "resume goes on with a rollout paused at a wave's gate; this run has no waves");
		else
			deploy_resume(dv->deploy);
		return VIEW_REDRAW;
	case ACTION_PAUSE: {
		struct deploy_ctx ctx;
		char why[200];

		app_deploy_ctx(ui->app, &ctx);
		snprintf(why, sizeof why, "paused here by %s", ctx.operator && ctx.operator[0] ?
		    ctx.operator : "its operator");
		if (i->paused)
			ui_message(ui, true, "the rollout is paused already: R resumes it, A aborts it");
		else if (!deploy_pause(dv->deploy, why))
			ui_message(ui, true, "pause holds a rollout in waves that this gantry drives; this "
			    "one %s", i->waves ? "is not running here (the fleet pane, F, asks its driver)" :
			    "has no waves (c cancels a run)");
		else
			ui_message(ui, false, "no other host starts; the rollout pauses once those running end");
		return VIEW_REDRAW;
	}
	case ACTION_ABORT:
		if (!i->waves || i->phase != DEPLOY_RUNNING || i->aborted || i->fleet_rollback)
			ui_message(ui, true, "abort stops a rollout in waves while it runs or is paused; "
			    "this one %s", i->waves ? "is not running" : "has no waves (c cancels a run)");
		else
			dv->abort_typing = true;
		return VIEW_REDRAW;
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
			prompt_clear(&dv->typed);
			dv->deploy = deploy_new(&ctx, &req, deploy_changed, dv);
			return VIEW_REDRAW;
		}
		return to_history(ui, v, i);
	case ACTION_HISTORY:
		return to_history(ui, v, i);
	case ACTION_FLEET:
		/* over this pane, which keeps driving its run */
		ui_request(ui, &(struct view_request){ .kind = REQUEST_FLEET, .env = dv->env });
		return VIEW_REDRAW;
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
	if (!dv->typed.open)
		prompt_open(&dv->typed, CONFIRM_MAX);
	return prompt_key(&dv->typed, ch) == PROMPT_DONE;
}

static void typed_clear(struct deployview *dv)
{
	prompt_clear(&dv->typed);
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
	if (strcmp(dv->typed.text, cancel_word(i)) == 0) {
		dv->cancel_typing = false;
		deploy_cancel(dv->deploy);
	} else {
		ui_message(ui, true, "\"%s\" is not \"%s\": type it exactly, or Esc", dv->typed.text,
		    cancel_word(i));
	}
	typed_clear(dv);
	return true;
}

/* Aborting a rollout: "abort" typed, then Enter; Esc gives up. */
static bool abort_key(struct ui *ui, struct deployview *dv, const struct deploy_info *i, int ch)
{
	char why[300];

	if (ch == 27 || i->phase != DEPLOY_RUNNING || i->aborted) {
		dv->abort_typing = false;
		typed_clear(dv);
		if (ch == 27)
			ui_message(ui, false, "the rollout goes on as it was: nothing was aborted");
		return ch == 27;
	}
	if (!type_key(dv, ch))
		return true;
	if (strcmp(dv->typed.text, "abort") == 0) {
		dv->abort_typing = false;
		if (!deploy_abort(dv->deploy, why, sizeof why))
			ui_message(ui, true, "not aborted: %s", why);
	} else {
		ui_message(ui, true, "\"%s\" is not \"abort\": type it exactly, or Esc", dv->typed.text);
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
	if (dv->abort_typing)
		return abort_key(ui, dv, i, ch);
	if (i->phase == DEPLOY_CHECKING && ch >= ' ' && ch < 0x7f && ch != '?') {
		/* typed before the plan is on screen: neither this pane's commands nor its
		   confirmation (Esc still closes, ? still helps) */
		ui_message(ui, false, "the plan is still being gathered: nothing typed counts until it "
		    "shows (Esc closes)");
		return true;
	}
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
	if (strcmp(dv->typed.text, i->env) == 0) {
		deploy_confirm(dv->deploy);
	} else {
		ui_message(ui, true, "\"%s\" is not \"%s\": type the environment's name exactly",
		    dv->typed.text, i->env);
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
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_CLOSE, 0, "close (a run goes on on its host)" },
		{ ACTION_HISTORY, 0, "history" }, { ACTION_FLEET, 0, "fleet" }, { 0 },
	},
	.leave = deployview_leave,
};
