/* The fleet pane: every host of an environment, one row each, with the tag its
 * configuration names, its wave and how it stands in the rollout in waves that holds
 * the environment, its link and what its own app reports; ordered and filtered; a host's
 * log one key away. P, R and A ask the gantry that drives the rollout, wherever it
 * runs (this one included), as `gantry rollout pause|resume|abort` does. */
#include "config.h"

#include "app.h"
#include "deploywatch.h"
#include "draw.h"
#include "envfmt.h"
#include "outbuf.h"
#include "prompt.h"
#include "rolloutstatus.h"
#include "ui.h"
#include "views.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MAX 60

/* The orders the hosts come in: X(NAME, word) */
#define FLEET_ORDERS(X) \
	X(LISTED, "as listed") \
	X(STATE, "state") \
	X(TAG, "tag") \
	X(WAVE, "wave") \
	X(LINK, "link")

enum fleet_order {
#define FLEET_ORDER_ENUM(name, word) ORDER_##name,
	FLEET_ORDERS(FLEET_ORDER_ENUM)
#undef FLEET_ORDER_ENUM
	ORDERS
};

static const char *const order_words[] = {
#define FLEET_ORDER_WORD(name, word) word,
	FLEET_ORDERS(FLEET_ORDER_WORD)
#undef FLEET_ORDER_WORD
};

/* A request on its way to the driver. */
struct fleet_ask {
	struct ui *ui;
	struct unit_cmd *cmd;
	struct outbuf out;
	char what[16], driver[128];
};

struct fleetview {
	size_t env;
	size_t cursor;                  /* the selected row, among those shown */
	size_t top;                     /* the first row shown */
	int rows;                       /* rows of hosts the last draw had room for */
	enum fleet_order order;
	char filter[FILTER_MAX + 1];
	struct prompt input;            /* the filter being typed */
	struct prompt confirm;          /* "abort" being typed */
	struct fleet_ask *ask;          /* NULL when none is in flight */
	/* worked out at each draw */
	struct rollout_status rs;
	enum rollout_stand *stands;     /* one per host */
	size_t *shown;                  /* the hosts shown, in order */
	size_t shown_len, hosts_len;
};

/* ---- the rows ---- */

static struct fleetview *sort_fv;       /* the pane being sorted (qsort has no argument) */
static const struct env_status *sort_env;

static int link_rank(const struct ui *ui, const struct env_status *env, size_t j)
{
	enum link_state st = ui_link(ui, env, j, loop_clock_ms()).state;

	return st == LINK_UP ? 0 : (int)st + 1;
}

static const struct ui *sort_ui;

static int compare(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct host_status *hx = &sort_env->hosts[x], *hy = &sort_env->hosts[y];
	int c = 0;

	switch (sort_fv->order) {
	case ORDER_STATE:
		/* the worst first: not read, failed, running, back, waiting, took */
		c = (int)sort_fv->stands[y] - (int)sort_fv->stands[x];
		if (sort_fv->stands[x] == STAND_NOT_READ || sort_fv->stands[y] == STAND_NOT_READ)
			c = (sort_fv->stands[y] == STAND_NOT_READ) - (sort_fv->stands[x] == STAND_NOT_READ);
		break;
	case ORDER_TAG:
		c = strcmp(hx->app_tag, hy->app_tag);
		break;
	case ORDER_WAVE:
		if (sort_fv->rs.active)
			c = (int)waves_of(&sort_fv->rs.lease.waves, x) - (int)waves_of(&sort_fv->rs.lease.waves, y);
		break;
	case ORDER_LINK:
		c = link_rank(sort_ui, sort_env, y) - link_rank(sort_ui, sort_env, x);
		break;
	default:
		break;
	}
	return c ? c : x < y ? -1 : x > y;
}

static const char *stand_word(const struct fleetview *fv, const struct env_status *env, size_t j)
{
	if (fv->stands[j] == STAND_NOT_READ && !env->hosts[j].deploy_error[0])
		return "reading";       /* nothing went wrong yet: the first read is on its way */
	if (!fv->rs.active)
		return fv->stands[j] == STAND_NOT_READ ? "not read" : "idle";
	return rollout_stand_name(fv->stands[j]);
}

/* One host's row, as text (the filter looks at the same words). */
static void row_text(const struct ui *ui, const struct fleetview *fv, const struct env_status *env,
    size_t j, int name_w, char *out, size_t outsz)
{
	const struct host_status *h = &env->hosts[j];
	struct link_status link = ui_link(ui, env, j, loop_clock_ms());
	char name[200], wave[12] = "-";

	envfmt_unit_name(h->name, name_w, draw_glyph(ui, GLYPH_ELLIPSIS), name, sizeof name);
	if (fv->rs.active)
		snprintf(wave, sizeof wave, "%zu", waves_of(&fv->rs.lease.waves, j) + 1);
	snprintf(out, outsz, "%-*s  %-4s  %-16.16s  %-9s  %-12.12s  %s", name_w, name, wave,
	    h->app_tag[0] ? h->app_tag : "-", stand_word(fv, env, j), link_state_name(link.state),
	    h->app_version[0] ? h->app_version : h->app_version_error[0] ? "?" : "");
}

/* The rollout, the stands and the rows shown, worked out from the model now. */
static void work_out(const struct ui *ui, struct fleetview *fv, const struct env_status *env,
    int name_w)
{
	struct rollout_status *rs = &fv->rs;
	char text[600];

	if (fv->hosts_len != env->hosts_len) {
		free(fv->stands);
		free(fv->shown);
		fv->hosts_len = env->hosts_len;
		fv->stands = xcalloc(fv->hosts_len + 1, sizeof *fv->stands);
		fv->shown = xcalloc(fv->hosts_len + 1, sizeof *fv->shown);
	}
	model_rollout(env, rs, fv->stands);
	fv->shown_len = 0;
	for (size_t j = 0; j < env->hosts_len; j++) {
		row_text(ui, fv, env, j, name_w, text, sizeof text);
		if (!fv->filter[0] || strcasestr(text, fv->filter) || strcasestr(env->hosts[j].name,
		    fv->filter))
			fv->shown[fv->shown_len++] = j;
	}
	sort_fv = fv;
	sort_env = env;
	sort_ui = ui;
	if (fv->order != ORDER_LISTED)
		qsort(fv->shown, fv->shown_len, sizeof *fv->shown, compare);
	if (fv->cursor >= fv->shown_len)
		fv->cursor = fv->shown_len ? fv->shown_len - 1 : 0;
}

/* ---- drawing ---- */

/* "4 on sha-2222222, 2 on sha-3333333, 1 not read" */
static void skew_words(const struct rollout_status *rs, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t k = 0; k < rs->tags_len && used + 1 < outsz; k++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu on %s", k ? ", " : "",
		    rs->tags[k].hosts, rs->tags[k].tag);
	if (rs->tags_other && used + 1 < outsz)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu on other tags",
		    used ? ", " : "", rs->tags_other);
	if (rs->no_tag && used + 1 < outsz)
		used += (size_t)snprintf(out + used, outsz - used, "%s%zu name none", used ? ", " : "",
		    rs->no_tag);
	if (rs->not_read && used + 1 < outsz)
		snprintf(out + used, outsz - used, "%s%zu not read", used ? ", " : "", rs->not_read);
}

static enum theme_role stand_role(enum rollout_stand st, bool active)
{
	if (!active)
		return st == STAND_NOT_READ ? THEME_ROLE_unhealthy : THEME_ROLE_text;
	switch (st) {
	case STAND_TOOK:
		return THEME_ROLE_healthy;
	case STAND_RUNNING:
		return THEME_ROLE_degraded;
	case STAND_FAILED:
	case STAND_NOT_READ:
		return THEME_ROLE_unhealthy;
	default:
		return THEME_ROLE_text;
	}
}

static void fleetview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct fleetview *fv = v->data;
	const struct env_status *env = &ui->app->model->envs[fv->env];
	int name_w = ui->cols > 100 ? 44 : ui->cols > 70 ? 28 : 18, y = top;
	char line[800], skew[400];

	work_out(ui, fv, env, name_w);
	draw_fill(y, 0, ui->cols, THEME_ROLE_header);
	snprintf(line, sizeof line, " %s fleet %s %zu host%s %s order: %s%s%s", env->conf->name,
	    draw_glyph(ui, GLYPH_SEP), env->hosts_len, env->hosts_len == 1 ? "" : "s",
	    draw_glyph(ui, GLYPH_SEP), order_words[fv->order], fv->filter[0] ? " · filter: " : "",
	    fv->filter);
	draw_text(ui, y++, 0, ui->cols, line, THEME_ROLE_header, false);
	if (y >= top + height)
		return;
	if (!model_rollout_words(env, line, sizeof line))
		snprintf(line, sizeof line, "no rollout in waves holds %s%s%s", env->conf->name,
		    fv->rs.problem[0] ? ": " : "", fv->rs.problem);
	draw_text(ui, y++, 1, ui->cols - 2, line, fv->rs.active && (!fv->rs.driven ||
	    fv->rs.driver.state != DRIVE_RUNNING) ? THEME_ROLE_unhealthy : fv->rs.active ?
	    THEME_ROLE_degraded : THEME_ROLE_muted, false);
	skew_words(&fv->rs, skew, sizeof skew);
	snprintf(line, sizeof line, "tags: %s", skew[0] ? skew : "none read yet");
	if (y < top + height)
		draw_text(ui, y++, 1, ui->cols - 2, line, fv->rs.tags_len > 1 ? THEME_ROLE_degraded :
		    THEME_ROLE_muted, false);
	if (fv->input.open || fv->confirm.open) {
		snprintf(line, sizeof line, fv->input.open ? "filter: %s_" : "Type abort to ask for it "
		    "(every host that took the tag goes back), Esc to give up: %s_", fv->input.open ?
		    fv->input.text : fv->confirm.text);
		if (y < top + height)
			draw_text(ui, y++, 1, ui->cols - 2, line, THEME_ROLE_header, false);
	}
	if (y >= top + height)
		return;
	snprintf(line, sizeof line, "%-*s  %-4s  %-16s  %-9s  %-12s  %s", name_w, "HOST", "WAVE",
	    "TAG", "STATE", "LINK", "APP");
	draw_text(ui, y++, 1, ui->cols - 2, line, THEME_ROLE_header, true);
	fv->rows = top + height - y;
	if (fv->rows < 1)
		return;
	if (fv->cursor < fv->top)
		fv->top = fv->cursor;
	if (fv->cursor >= fv->top + (size_t)fv->rows)
		fv->top = fv->cursor - (size_t)fv->rows + 1;
	if (fv->shown_len == 0) {
		draw_text(ui, y, 1, ui->cols - 2, fv->filter[0] ? "no host's row holds the filter (& "
		    "and Enter alone clears it)" : "no hosts", THEME_ROLE_muted, false);
		return;
	}
	for (size_t r = fv->top; r < fv->shown_len && y < top + height; r++, y++) {
		size_t j = fv->shown[r];

		row_text(ui, fv, env, j, name_w, line, sizeof line);
		if (r == fv->cursor)
			draw_fill(y, 0, ui->cols, THEME_ROLE_selected);
		draw_text(ui, y, 1, ui->cols - 2, line, r == fv->cursor ? THEME_ROLE_selected :
		    stand_role(fv->stands[j], fv->rs.active), false);
	}
}

/* ---- asking the driver ---- */

static void ask_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct fleet_ask *a = arg;

	if (!is_stderr)
		outbuf_add(&a->out, data, len, 4096);
}

static void ask_free(struct fleet_ask *a)
{
	if (!a)
		return;
	unit_cmd_stop(a->cmd);
	outbuf_clear(&a->out);
	free(a);
}

static void ask_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct fleet_ask *a = arg;
	struct ui *ui = a->ui;
	struct fleetview *fv = NULL;

	a->cmd = NULL;
	for (int k = 0; k < ui->nviews; k++)
		if (ui->views[k].ops == &fleetview_view_ops && ((struct fleetview *)ui->views[k].data)->ask == a)
			fv = ui->views[k].data;
	if (how != UNIT_EXITED)
		ui_message(ui, true, "the request to %s could not be left: %s", a->what,
		    message && *message ? message : "the link dropped");
	else if (status == UNIT_EXIT_NOT_NEEDED)
		ui_message(ui, true, "the rollout ended meanwhile: nothing to %s", a->what);
	else if (status != 0)
		ui_message(ui, true, "the request to %s could not be left (exit %d)", a->what, status);
	else
		ui_message(ui, false, "asked %s's gantry to %s: it answers with its next beat",
		    a->driver, a->what);
	if (fv)
		fv->ask = NULL;
	ui->dirty = true;
	ask_free(a);
}

static const struct unit_cmd_ops ask_ops = {
	.output = ask_output, .done = ask_done, .bounded = true,
};

/* P, R, A: a request to the rollout's driver; with nobody driving, R and A carry the
 * rollout on in the run pane, where they are done. */
static void ask_driver(struct ui *ui, struct fleetview *fv, enum drive_ask what)
{
	const struct env_status *env = &ui->app->model->envs[fv->env];
	const struct target *t = app_target(ui->app, env->conf);
	struct drive_request req = { .ask = what };
	struct deploy_ctx ctx;
	struct fleet_ask *a;

	if (!fv->rs.active) {
		ui_message(ui, true, "no rollout in waves holds %s: nothing to %s", env->conf->name,
		    drive_ask_name(what));
		return;
	}
	if (!fv->rs.driven) {
		if (what == DRIVE_ASK_PAUSE) {
			ui_message(ui, false, "no gantry drives it, so nothing starts: it stands as it was "
			    "left; R or A carries it on");
			return;
		}
		ui_message(ui, false, "no gantry drives it: the run pane carries it on; %s there",
		    what == DRIVE_ASK_RESUME ? "R resumes it" : "A aborts it");
		ui_request(ui, &(struct view_request){ .kind = REQUEST_ATTACH, .env = fv->env });
		return;
	}
	if (fv->ask) {
		ui_message(ui, true, "a request is on its way already");
		return;
	}
	app_deploy_ctx(ui->app, &ctx);
	drive_new_token(req.id, sizeof req.id);
	snprintf(req.by, sizeof req.by, "%s", ctx.operator ? ctx.operator : "");
	snprintf(req.why, sizeof req.why, "from the fleet pane");
	a = xcalloc(1, sizeof *a);
	a->ui = ui;
	snprintf(a->what, sizeof a->what, "%s", drive_ask_name(what));
	snprintf(a->driver, sizeof a->driver, "%s", fv->rs.driver.by[0] ? fv->rs.driver.by : "its");
	a->cmd = t->ops->ask(t, 0, fv->rs.lease.id, &req, &ask_ops, a);
	if (!a->cmd) {
		ui_message(ui, true, "the request cannot be left on %s now", env->hosts[0].name);
		ask_free(a);
		return;
	}
	fv->ask = a;
	ui_message(ui, false, "asking %s's gantry to %s...", a->driver, a->what);
}

/* ---- keys ---- */

static void select_by(struct fleetview *fv, long by)
{
	long c = (long)fv->cursor + by;

	if (c < 0 || fv->shown_len == 0)
		c = 0;
	else if ((size_t)c >= fv->shown_len)
		c = (long)fv->shown_len - 1;
	fv->cursor = (size_t)c;
}

static int fleetview_action(struct ui *ui, struct view *v, enum action action)
{
	struct fleetview *fv = v->data;
	const struct env_status *env = &ui->app->model->envs[fv->env];
	long page = fv->rows > 1 ? fv->rows - 1 : 1;

	switch (action) {
	case ACTION_MOVE_UP:
		select_by(fv, -1);
		return VIEW_REDRAW;
	case ACTION_MOVE_DOWN:
		select_by(fv, 1);
		return VIEW_REDRAW;
	case ACTION_MOVE_FIRST:
		fv->cursor = 0;
		return VIEW_REDRAW;
	case ACTION_MOVE_LAST:
		select_by(fv, (long)fv->shown_len);
		return VIEW_REDRAW;
	case ACTION_PAGE_UP:
		select_by(fv, -page);
		return VIEW_REDRAW;
	case ACTION_PAGE_DOWN:
		select_by(fv, page);
		return VIEW_REDRAW;
	case ACTION_ORDER:
		fv->order = (enum fleet_order)((fv->order + 1) % ORDERS);
		fv->cursor = fv->top = 0;
		ui_message(ui, false, "hosts ordered by %s", order_words[fv->order]);
		return VIEW_REDRAW;
	case ACTION_FILTER:
		prompt_open(&fv->input, FILTER_MAX);
		return VIEW_REDRAW;
	case ACTION_LOG_APP:
	case ACTION_LOG_MIGRATOR:
		if (fv->shown_len == 0)
			return VIEW_HANDLED;
		ui_request(ui, &(struct view_request){ .kind = REQUEST_LOG, .env = fv->env,
		    .source = action == ACTION_LOG_APP ? LOG_APP : LOG_MIGRATOR,
		    .unit = fv->shown[fv->cursor] + 1 });
		return VIEW_REDRAW;
	case ACTION_PAUSE:
		ask_driver(ui, fv, DRIVE_ASK_PAUSE);
		return VIEW_REDRAW;
	case ACTION_RESUME:
		ask_driver(ui, fv, DRIVE_ASK_RESUME);
		return VIEW_REDRAW;
	case ACTION_ABORT:
		if (!fv->rs.active || !fv->rs.driven)
			ask_driver(ui, fv, DRIVE_ASK_ABORT);    /* says why, or carries it on */
		else
			prompt_open(&fv->confirm, 10);
		return VIEW_REDRAW;
	case ACTION_ATTACH:
	case ACTION_HISTORY:
		ui_request(ui, &(struct view_request){ .kind = action == ACTION_ATTACH ?
		    REQUEST_ATTACH : REQUEST_HISTORY, .env = fv->env });
		return VIEW_REDRAW;
	case ACTION_REFRESH:
		deploywatch_refresh(ui->app->deploywatch);
		ui_message(ui, false, "reading %s's %zu hosts now", env->conf->name, env->hosts_len);
		return VIEW_REDRAW;
	case ACTION_CLOSE:
	case ACTION_QUIT:
		return VIEW_CLOSE;
	case ACTION_HELP:
	case ACTION_REDRAW:
		return VIEW_UNHANDLED;
	default:
		ui_message(ui, false, "%s does nothing in the fleet pane: j/k pick a host, l its log, "
		    "o orders, & filters, P/R/A the rollout, Esc closes", action_get(action)->name);
		return VIEW_HANDLED;
	}
}

static bool fleetview_key(struct ui *ui, struct view *v, int ch)
{
	struct fleetview *fv = v->data;

	if (fv->input.open) {
		if (prompt_key(&fv->input, ch) == PROMPT_DONE) {
			snprintf(fv->filter, sizeof fv->filter, "%s", fv->input.text);
			fv->cursor = fv->top = 0;
		}
		ui->dirty = true;
		return true;
	}
	if (!fv->confirm.open)
		return false;
	switch (prompt_key(&fv->confirm, ch)) {
	case PROMPT_DONE:
		if (strcmp(fv->confirm.text, "abort") == 0)
			ask_driver(ui, fv, DRIVE_ASK_ABORT);
		else
			ui_message(ui, true, "\"%s\" is not \"abort\": nothing was asked", fv->confirm.text);
		break;
	case PROMPT_CANCELLED:
		ui_message(ui, false, "nothing was asked: the rollout goes on as it was");
		break;
	case PROMPT_TYPING:
		break;
	}
	ui->dirty = true;
	return true;
}

static void fleetview_leave(struct ui *ui, struct view *v)
{
	struct fleetview *fv = v->data;

	(void)ui;
	ask_free(fv->ask);
	free(fv->stands);
	free(fv->shown);
	free(fv);
	v->data = NULL;
}

const struct view_ops fleetview_view_ops = {
	.name = "fleet",
	.draw = fleetview_draw,
	.action = fleetview_action,
	.key = fleetview_key,
	.leave = fleetview_leave,
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_MOVE_UP, ACTION_MOVE_DOWN, "select" },
		{ ACTION_LOG_APP, 0, "host log" }, { ACTION_ORDER, 0, "order" },
		{ ACTION_FILTER, 0, "filter" }, { ACTION_PAUSE, 0, "pause" },
		{ ACTION_RESUME, 0, "resume" }, { ACTION_ABORT, 0, "abort" },
		{ ACTION_CLOSE, 0, "close" }, { 0 },
	},
};

void fleetview_open(struct ui *ui)
{
	const struct env_status *env = &ui->app->model->envs[ui->selected];
	struct fleetview *fv;
	int open;

	if (env->hosts_len == 0) {
		ui_message(ui, true, "%s has no hosts: add hosts (or hosts_file) and deploy_dir to it in "
		    "gantry.yml (see gantry.yml(5))", env->conf->name);
		return;
	}
	open = ui_find_view(ui, &fleetview_view_ops, ui->selected, 0);
	if (open >= 0) {
		ui_raise_view(ui, open);
		return;
	}
	fv = xcalloc(1, sizeof *fv);
	fv->env = ui->selected;
	ui_push_view(ui, &fleetview_view_ops, fv, fv->env, 0);
}
