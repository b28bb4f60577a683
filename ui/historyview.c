/* The history pane: an environment's runs, newest first, merged from all its hosts; the
 * lock and the freeze; a rollback to the selected run's tag; breaking a stale lock. */
#include "config.h"

#include "draw.h"
#include "admin.h"
#include "hostread.h"
#include "outbuf.h"
#include "duration.h"
#include "palette.h"
#include "prompt.h"
#include "ui.h"
#include "view.h"
#include "views.h"
#include "xmalloc.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REASON_MAX 120
#define HISTORY_PAGE 10                 /* runs a page key moves */

struct historyview {
	struct ui *ui;
	size_t env;
	struct hostread *rd;
	char error[700];
	struct host_state state;
	bool have_state;
	char partial[700];              /* some hosts could not be read: which, and why */
	size_t cursor;                  /* 0: the newest run */
	char cursor_id[72];             /* the selected run's id: kept across reads */
	struct prompt reason;           /* typing the reason to break the lock */
};

static void load(struct historyview *hv);

/* Remembers which run the cursor is on, so a read that adds runs keeps it there. */
static void remember_cursor(struct historyview *hv)
{
	const struct history *h = &hv->state.history;

	if (hv->have_state && hv->cursor < h->len)
		snprintf(hv->cursor_id, sizeof hv->cursor_id, "%s", h->runs[h->len - 1 - hv->cursor].id);
}

/* Puts the cursor back on the remembered run, wherever a new read placed it. */
static void restore_cursor(struct historyview *hv)
{
	const struct history *h = &hv->state.history;

	for (size_t k = 0; hv->cursor_id[0] && k < h->len; k++) {
		if (strcmp(h->runs[h->len - 1 - k].id, hv->cursor_id) == 0) {
			hv->cursor = k;
			return;
		}
	}
	if (hv->cursor >= h->len)
		hv->cursor = h->len ? h->len - 1 : 0;
	remember_cursor(hv);
}

static void hv_done(void *arg, struct hostread *r)
{
	struct historyview *hv = arg;
	struct ui *ui = hv->ui;
	const struct conf_env *env = &ui->app->conf->envs[hv->env];
	char why[600];
	size_t missing;

	if (hv->have_state)
		hoststate_free(&hv->state);
	/* a host that is down hides its own records, not the others' */
	missing = hostread_result_some(r, &hv->state, why, sizeof why);
	hv->have_state = missing < env->hosts_len;
	hv->partial[0] = '\0';
	if (!hv->have_state)
		snprintf(hv->error, sizeof hv->error, "cannot read %s's history on %s", env->name, why);
	else if (missing)
		snprintf(hv->partial, sizeof hv->partial, "%zu of %zu hosts not read, their runs missing "
		    "below: %s (r: read again)", missing, env->hosts_len, why);
	hostread_free(r);
	hv->rd = NULL;
	if (hv->have_state)
		restore_cursor(hv);
	ui->dirty = true;
}

static void load(struct historyview *hv)
{
	const struct target *t = app_target(hv->ui->app, &hv->ui->app->conf->envs[hv->env]);

	if (hv->rd || t->env->hosts_len == 0)
		return;
	hv->error[0] = '\0';
	hv->rd = hostread_start(t, hv_done, hv);
}

void historyview_push(struct ui *ui)
{
	int open = ui_find_view(ui, &historyview_view_ops, ui->selected, 0);
	struct historyview *hv;

	if (open >= 0) {
		/* open already: go back to it; it reads the history again */
		ui_raise_view(ui, open);
		return;
	}
	hv = xcalloc(1, sizeof *hv);
	hv->ui = ui;
	hv->env = ui->selected;
	if (ui->app->conf->envs[hv->env].hosts_len == 0)
		snprintf(hv->error, sizeof hv->error, "%s has no hosts: its history lives on them (add "
		    "hosts and deploy_dir in gantry.yml)", ui->app->conf->envs[hv->env].name);
	if (ui_push_view(ui, &historyview_view_ops, hv, hv->env, 0))
		load(hv);
}

/* Back on top: what happened meanwhile (a run just ended) is read again. */
static void historyview_resume(struct ui *ui, struct view *v)
{
	load(v->data);
}

/* The history pane of an environment, if one is open. */
static struct historyview *open_pane(struct ui *ui, size_t env)
{
	int i = ui_find_view(ui, &historyview_view_ops, env, 0);

	return i >= 0 ? ui->views[i].data : NULL;
}

/* The run under the cursor (newest first), or NULL. */
static const struct history_run *selected_run(const struct historyview *hv)
{
	const struct history *h = &hv->state.history;

	if (!hv->have_state || hv->cursor >= h->len)
		return NULL;
	return &h->runs[h->len - 1 - hv->cursor];
}

/* The colour of a run's result (running: the run holding the lock). */
static enum theme_role result_role(const struct history_run *r, const char *running)
{
	if (r->note)
		return THEME_ROLE_muted;
	if (r->corrupt)
		return THEME_ROLE_unhealthy;
	if (strcmp(history_run_result(r, running), run_result_name(RUN_PARTIAL)) == 0)
		return THEME_ROLE_degraded;     /* succeeded where it ran, not everywhere */
	if (run_result_healthy(r->result))
		return THEME_ROLE_healthy;
	if (r->result == RUN_ROLLED_BACK || r->result == RUN_CANCELLED ||
	    (r->result == RUN_RESULT_NONE && running && strcmp(running, r->id) == 0))
		return THEME_ROLE_degraded;
	return THEME_ROLE_unhealthy;
}

/* The lock and the freeze, under the title; the next free row. */
static int draw_lock_and_freeze(struct ui *ui, const struct historyview *hv,
    const struct conf_env *env, int y)
{
	const struct host_state *st = &hv->state;
	char line[600], age[32];

	if (st->lock.held) {
		duration_format((st->host_now - st->lock.since) * 1000, age, sizeof age);
		snprintf(line, sizeof line, "locked%s%s by %s for %s: %s%s", env->hosts_len > 1 ? " on " : "",
		    env->hosts_len > 1 ? st->lock.host : "", st->lock.owner, age,
		    st->lock.message, hoststate_lock_stale(st) ?
		    "   STALE: its run is gone (U breaks it, with a reason)" : "");
		draw_text(ui, y++, 2, ui->cols - 3, line, hoststate_lock_stale(st) ? THEME_ROLE_stale :
		    THEME_ROLE_degraded, false);
	} else {
		draw_text(ui, y++, 2, ui->cols - 3, "not locked", THEME_ROLE_muted, false);
	}
	if (hv->partial[0])
		draw_text(ui, y++, 2, ui->cols - 3, hv->partial, THEME_ROLE_error, false);
	if (st->frozen) {
		duration_format((st->host_now - st->freeze_since) * 1000, age, sizeof age);
		snprintf(line, sizeof line, "FROZEN by %s for %s: %s (promotions and deploys refused, rollbacks allowed)",
		    st->freeze_by, age, st->freeze_reason);
		draw_text(ui, y++, 2, ui->cols - 3, line, THEME_ROLE_degraded, false);
	}
	return y;
}

/* The runs, newest first, from row y up to row `end`, scrolled so that the cursor is
 * among the first `rows`. */
static void draw_runs(struct ui *ui, const struct historyview *hv, int y, int rows, int end,
    const char *running)
{
	const struct history *h = &hv->state.history;
	size_t n = h->len, first = hv->cursor >= (size_t)rows ? hv->cursor - (size_t)rows + 1 : 0;
	char line[600];

	if (n == 0)
		draw_text(ui, y, 4, ui->cols - 5, "no runs recorded here yet", THEME_ROLE_muted, false);
	for (size_t k = first; k < n && y < end; k++) {
		const struct history_run *r = &h->runs[n - 1 - k];
		const char *result = history_run_result(r, running);
		char when[32] = "-", took[16] = "-";
		time_t t = (time_t)r->started;
		struct tm tm;
		bool sel = k == hv->cursor;

		if (r->started) {
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		}
		if (r->ended >= r->started && r->ended)
			snprintf(took, sizeof took, "%llds", (long long)(r->ended - r->started));
		snprintf(line, sizeof line, "%-16s %-9s %-16s", when, r->action, r->note ? "-" : r->tag);
		draw_text(ui, y, 0, 2, sel ? draw_glyph(ui, GLYPH_SELECT) : " ", THEME_ROLE_selected, true);
		draw_text(ui, y, 2, 44, line, sel ? THEME_ROLE_selected : THEME_ROLE_text, true);
		draw_text(ui, y, 46, 16, r->note ? "" : result, result_role(r, running), true);
		snprintf(line, sizeof line, "%7s  %s%s%s", r->note ? "" : took, r->operator,
		    r->note ? ": " : "", r->note ? r->message : r->migrated ? "  (migrated)" : "");
		draw_text(ui, y, 62, ui->cols - 63, line, THEME_ROLE_muted, false);
		y++;
	}
}

/* The selected run: its id and digests, its steps, and which hosts recorded it. */
static void draw_selected(struct ui *ui, const struct historyview *hv, const struct conf_env *env,
    int dy, const char *running)
{
	const struct history_run *r = selected_run(hv);
	char line[600];

	draw_hline(ui, dy++, 0, ui->cols, THEME_ROLE_border);
	if (!r || r->note)
		return;
	snprintf(line, sizeof line, "%s  %s%s  app %s  migrator %s", r->id,
	    r->source[0] ? "from " : "", r->source,
	    r->app_digest[0] ? r->app_digest : "-", r->migrator_digest[0] ? r->migrator_digest : "-");
	draw_text(ui, dy++, 2, ui->cols - 3, line, THEME_ROLE_muted, false);
	line[0] = '\0';
	for (size_t k = 0; k < r->steps_len; k++) {
		char one[140];

		snprintf(one, sizeof one, "%s%s %s %.1fs%s", k ? "  " : "",
		    strcmp(r->steps[k].phase, "rollback") == 0 ? "rollback:" : "", r->steps[k].name,
		    (double)r->steps[k].ms / 1000.0, r->steps[k].exit ? " FAILED" : "");
		if (strlen(line) + strlen(one) + 1 < sizeof line)
			strcat(line, one);
	}
	if (!r->steps_len)
		snprintf(line, sizeof line, "%s", r->result != RUN_RESULT_NONE ? "no steps recorded" :
		    "no end record: the run is running, or was cut off (interrupted)");
	draw_text(ui, dy++, 2, ui->cols - 3, line, THEME_ROLE_text, false);
	if (r->conflict) {
		draw_text(ui, dy++, 2, ui->cols - 3, "CONFLICT: its hosts' records disagree (another tag "
		    "or digest, or recorded twice): never a rollback target until someone looks",
		    THEME_ROLE_error, false);
	} else if (env->hosts_len > 1) {
		const char *result = history_run_result(r, running);

		if (r->hosts > 1 && r->result == RUN_SUCCEEDED && !r->corrupt)
			snprintf(line, sizeof line, "succeeded on %s%u hosts (the steps above are %s's)",
			    r->hosts == env->hosts_len ? "all " : "", r->hosts, r->host);
		else if (r->hosts > 1)
			snprintf(line, sizeof line, "recorded on %u of %zu hosts; the worst: %s on %s, "
			    "whose steps are above", r->hosts, env->hosts_len, result, r->host);
		else
			snprintf(line, sizeof line, "recorded on 1 of %zu hosts: %s on %s%s",
			    env->hosts_len, result, r->host, r->hosts < env->hosts_len ?
			    "; the other hosts were not reached" : "");
		draw_text(ui, dy++, 2, ui->cols - 3, line, r->hosts < env->hosts_len ||
		    r->result != RUN_SUCCEEDED || r->corrupt ? THEME_ROLE_degraded : THEME_ROLE_muted, false);
	}
}

static void historyview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct historyview *hv = v->data;
	const struct conf_env *env = &ui->app->conf->envs[hv->env];
	const struct host_state *st = &hv->state;
	int y = top, bottom = top + height, rows;
	char line[600];
	const char *running;

	for (int r = top; r < bottom; r++)
		draw_fill(r, 0, ui->cols, THEME_ROLE_text);
	if (env->hosts_len > 1)
		snprintf(line, sizeof line, "history of %s on its %zu hosts", env->name, env->hosts_len);
	else
		snprintf(line, sizeof line, "history of %s%s%s", env->name, env->hosts_len ? " on " : "",
		    env->hosts_len ? env->hosts[0].address : "");
	draw_hline(ui, y, 0, ui->cols, THEME_ROLE_border);
	draw_text(ui, y++, 2, ui->cols - 4, line, THEME_ROLE_header, false);
	if (hv->error[0]) {
		draw_wrapped(ui, y + 1, 2, bottom - 2, hv->error, THEME_ROLE_error);
		draw_text(ui, bottom - 1, 2, ui->cols - 3, "r: read again   Esc: close", THEME_ROLE_key, false);
		return;
	}
	if (!hv->have_state) {
		draw_text(ui, y + 1, 2, ui->cols - 3, "reading the history...", THEME_ROLE_muted, false);
		return;
	}
	y = draw_lock_and_freeze(ui, hv, env, y) + 1;
	snprintf(line, sizeof line, "%-16s %-9s %-16s %-15s %7s  %s", "STARTED", "ACTION", "TAG",
	    "RESULT", "TOOK", "OPERATOR");
	draw_text(ui, y++, 2, ui->cols - 3, line, THEME_ROLE_header, false);
	running = st->lock.held && st->lock.runner_alive ? st->lock.run : NULL;
	rows = bottom - 9 - y;
	if (rows < 1)
		rows = 1;
	draw_runs(ui, hv, y, rows, top + 4 + rows + 3, running);
	draw_selected(ui, hv, env, bottom - 8, running);
	if (hv->reason.open) {
		snprintf(line, sizeof line, "Why break the lock? (goes into the history; Enter, Esc): %s_",
		    hv->reason.text);
		draw_text(ui, bottom - 1, 2, ui->cols - 3, line, THEME_ROLE_key, false);
	} else {
		draw_text(ui, bottom - 1, 2, ui->cols - 3, ui->read_only ?
		    "j/k: select   r: read again   Esc: close" :
		    "j/k: select   b: roll back to the selected tag   U: break a stale lock   r: read again   Esc: close",
		    THEME_ROLE_key, false);
	}
}

/* Rolls back to the selected run's tag: a healthy one only. */
static void rollback_selected(struct ui *ui, struct historyview *hv)
{
	const struct history_run *r = selected_run(hv);
	struct view_request req = { 0 };

	if (!r || r->note) {
		ui_message(ui, true, "select a run to roll back to");
		return;
	}
	if (!history_run_healthy(r)) {
		ui_message(ui, true, "%s did not end healthy here (%s): pick a run that succeeded", r->tag,
		    history_run_result(r, NULL));
		return;
	}
	req.kind = REQUEST_PLAN;
	req.env = hv->env;
	req.deploy_kind = DEPLOY_ROLLBACK;
	snprintf(req.tag, sizeof req.tag, "%s", r->tag);
	ui_request(ui, &req);
}

struct unlock_job {
	struct ui *ui;
	struct outbuf out;
	size_t env_index, host;
	char env[64];
	char reason[200];
};

static void unlock_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct unlock_job *j = arg;

	/* the runner answers on stdout; stderr may be a login shell's noise */
	if (!is_stderr)
		outbuf_add(&j->out, data, len, 300);
}

static void unlock_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct unlock_job *j = arg;
	const char *out = outbuf_text(&j->out);
	char first[200];

	snprintf(first, sizeof first, "%.*s", (int)strcspn(out, "\n"), out);
	if (how != UNIT_EXITED)
		ui_message(j->ui, true, "unlock %s: %s", j->env, message ? message : "link dropped");
	else if (status == 0) {
		const struct conf_env *env = &j->ui->app->conf->envs[j->env_index];

		admin_emit(j->ui->app->bus, ADMIN_UNLOCK, j->env, j->host,
		    env->hosts[j->host].address, j->ui->app->operator, j->reason);
		ui_message(j->ui, false, "%s: lock broken (it was: %s); recorded in the history", j->env, first);
	}
	else
		ui_message(j->ui, true, "unlock %s: %s", j->env, first[0] ? first : "failed");
	if (open_pane(j->ui, j->env_index))
		load(open_pane(j->ui, j->env_index));
	outbuf_clear(&j->out);
	free(j);
}

static const struct unit_cmd_ops unlock_ops = {
	.output = unlock_output, .done = unlock_done, .bounded = true,
};

static void unlock(struct ui *ui, struct historyview *hv)
{
	const struct conf_env *env = &ui->app->conf->envs[hv->env];
	const struct target *t = app_target(ui->app, env);
	struct unlock_job *j = xcalloc(1, sizeof *j);

	j->ui = ui;
	j->env_index = hv->env;
	snprintf(j->env, sizeof j->env, "%s", env->name);
	snprintf(j->reason, sizeof j->reason, "%s", hv->reason.text);
	/* on the host holding the lock */
	j->host = hv->state.lock.host_index < env->hosts_len ? hv->state.lock.host_index : 0;
	t->ops->admin(t, j->host, ADMIN_UNLOCK, ui->app->operator, hv->reason.text,
	    (int64_t)time(NULL), &unlock_ops, j);
}

static int historyview_action(struct ui *ui, struct view *v, enum action action)
{
	struct historyview *hv = v->data;
	size_t n = hv->have_state ? hv->state.history.len : 0;

	switch (action) {
	case ACTION_CLOSE:
	case ACTION_QUIT:
	case ACTION_HISTORY:
		return VIEW_CLOSE;
	case ACTION_MOVE_UP:
	case ACTION_MOVE_DOWN:
	case ACTION_MOVE_FIRST:
	case ACTION_MOVE_LAST:
	case ACTION_PAGE_UP:
	case ACTION_PAGE_DOWN:
		if (action == ACTION_MOVE_UP && hv->cursor > 0)
			hv->cursor--;
		else if (action == ACTION_MOVE_DOWN && hv->cursor + 1 < n)
			hv->cursor++;
		else if (action == ACTION_PAGE_UP)
			hv->cursor = hv->cursor > HISTORY_PAGE ? hv->cursor - HISTORY_PAGE : 0;
		else if (action == ACTION_PAGE_DOWN && n)
			hv->cursor = hv->cursor + HISTORY_PAGE < n ? hv->cursor + HISTORY_PAGE : n - 1;
		else if (action == ACTION_MOVE_FIRST)
			hv->cursor = 0;
		else if (action == ACTION_MOVE_LAST)
			hv->cursor = n ? n - 1 : 0;
		remember_cursor(hv);
		return VIEW_REDRAW;
	case ACTION_REFRESH:
		load(hv);
		return VIEW_REDRAW;
	case ACTION_ROLLBACK:
		rollback_selected(ui, hv);
		return VIEW_REDRAW;
	case ACTION_UNLOCK:
		if (!hv->have_state || !hv->state.lock.held) {
			ui_message(ui, true, "%s is not locked", ui->app->conf->envs[hv->env].name);
		} else if (!hoststate_lock_stale(&hv->state) && !(hv->state.lock.leased &&
		    !hv->state.lock.runner_alive)) {
			ui_message(ui, true, "the lock's run is alive: let it end, or cancel it from its pane (a)");
		} else {
			/* a stale lock, or an unfinished run's lease: broken, the run stays partial */
			prompt_open(&hv->reason, REASON_MAX);
		}
		return VIEW_REDRAW;
	case ACTION_HELP:
	case ACTION_REDRAW:
		return VIEW_UNHANDLED;
	default:
		ui_message(ui, false, "%s does nothing in the history pane: j/k pick a run, b rolls "
		    "back to it, Esc closes", action_get(action)->name);
		return VIEW_HANDLED;
	}
}

static bool historyview_key(struct ui *ui, struct view *v, int ch)
{
	struct historyview *hv = v->data;

	if (!hv->reason.open)
		return false;
	if (prompt_key(&hv->reason, ch) != PROMPT_DONE)
		return true;
	if (hv->reason.len == 0) {
		ui_message(ui, true, "a reason is needed: it goes into the history");
		hv->reason.open = true;         /* still asking */
	} else {
		unlock(ui, hv);
	}
	return true;
}

static void historyview_leave(struct ui *ui, struct view *v)
{
	struct historyview *hv = v->data;

	hostread_free(hv->rd);
	if (hv->have_state)
		hoststate_free(&hv->state);
	free(hv);
	v->data = NULL;
}

const struct view_ops historyview_view_ops = {
	.name = "history",
	.draw = historyview_draw,
	.action = historyview_action,
	.overlay = false,
	.key = historyview_key,
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_MOVE_UP, ACTION_MOVE_DOWN, "select" },
		{ ACTION_ROLLBACK, 0, "roll back" }, { ACTION_UNLOCK, 0, "unlock" },
		{ ACTION_REFRESH, 0, "read again" }, { ACTION_CLOSE, 0, "close" }, { 0 },
	},
	.leave = historyview_leave,
	.resume = historyview_resume,
};
