/* The wallboard: the read-only view for an ops screen, big blocks readable across a room. */
#include "config.h"

#include "bigtext.h"
#include "draw.h"
#include "duration.h"
#include "envfmt.h"
#include "palette.h"
#include "ui.h"
#include "view.h"
#include "views.h"
#include "xmalloc.h"

#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A full-width bar in a role's colours, reversed so the colour fills the line. */
static void draw_bar(struct ui *ui, int y, enum theme_role role, const char *left, const char *right)
{
	attr_t attr = palette_attr(role) | A_REVERSE | A_BOLD;
	int rw = draw_width(right);

	attrset(attr);
	mvhline(y, 0, ' ', ui->cols);
	attrset(A_NORMAL);
	draw_text_attr(ui, y, 2, ui->cols - rw - 6, left, attr, false);
	if (ui->cols - rw - 2 > 2)
		draw_text_attr(ui, y, ui->cols - rw - 2, rw, right, attr, false);
}

/* The line above the blocks: when the data is from, and whether any is stale. */
static void draw_refreshed(struct ui *ui, int y, int64_t now)
{
	const struct model *m = ui->app->model;
	time_t refreshed = model_refreshed_wall(m);
	size_t stale = 0;
	char line[160], clock[16], age[16];
	struct tm tm;

	for (size_t i = 0; i < m->envs_len; i++)
		if (model_is_stale(m, &m->envs[i], now))
			stale++;
	if (!refreshed) {
		snprintf(line, sizeof line, "waiting for the first answers");
	} else {
		localtime_r(&refreshed, &tm);
		strftime(clock, sizeof clock, "%H:%M:%S", &tm);
		duration_format((int64_t)(time(NULL) - refreshed) * 1000, age, sizeof age);
		snprintf(line, sizeof line, "last refresh %s (%s%s)", clock, age,
		    age[0] == 'n' ? "" : " ago");
	}
	draw_text(ui, y, 2, ui->cols - 4, line, THEME_ROLE_muted, false);
	if (stale) {
		char badge[64];

		snprintf(badge, sizeof badge, " STALE DATA: %zu of %zu ", stale, m->envs_len);
		draw_text(ui, y, ui->cols - draw_width(badge) - 2, draw_width(badge), badge,
		    THEME_ROLE_stale, false);
	}
}

/* The hosts of an environment that cannot be reached or whose state cannot be read. */
static size_t hosts_unread(const struct ui *ui, const struct env_status *env, int64_t now)
{
	size_t bad = 0;

	for (size_t j = 0; j < env->hosts_len; j++) {
		enum link_state st = ui_link(ui, env, j, now).state;

		if ((st != LINK_UP && st != LINK_IDLE && st != LINK_CONNECTING) ||
		    (!env->hosts[j].state_known && env->hosts[j].deploy_error[0]))
			bad++;
	}
	return bad;
}

/* How much an environment needs eyes, worst first: what is shown first when not every
 * environment fits. */
enum band_rank { RANK_DOWN, RANK_NOT_READY, RANK_STALE, RANK_PROBLEM, RANK_CHECKING, RANK_READY };

/* What a band shows for one environment. */
struct band {
	size_t env;                     /* its index in the model */
	enum band_rank rank;
	enum theme_role role;
	char name[40];                  /* upper case */
	char word[16];                  /* the state in one word or two, for large letters */
	char state[64];                 /* the state with its age */
	const char *tag;
	char checked[40];
	char problem[300];
};

static void band_facts(struct ui *ui, const struct env_status *env, int64_t now, struct band *b)
{
	const struct model *m = ui->app->model;
	bool stale = model_is_stale(m, env, now);
	char since[16], age[16], why[300], tag[PAYLOAD_TAG_MAX];
	size_t k;

	b->role = stale ? THEME_ROLE_stale : envfmt_health_role(env->health);
	for (k = 0; env->conf->name[k] && k + 1 < sizeof b->name; k++)
		b->name[k] = (char)toupper((unsigned char)env->conf->name[k]);
	b->name[k] = '\0';
	envfmt_since(env, now, since, sizeof since);
	if (stale) {
		duration_format(model_age(m, env, now), age, sizeof age);
		snprintf(b->word, sizeof b->word, "STALE");
		snprintf(b->state, sizeof b->state, "STALE %s", age);
	} else if (env->health == HEALTH_UNKNOWN) {
		snprintf(b->word, sizeof b->word, "CHECKING");
		snprintf(b->state, sizeof b->state, "CHECKING");
	} else {
		snprintf(b->word, sizeof b->word, "%s", env->health == HEALTH_READY ? "READY" :
		    env->health == HEALTH_NOT_READY ? "NOT READY" : "DOWN");
		snprintf(b->state, sizeof b->state, "%s for %s", b->word, since);
	}
	/* hosts that cannot be reached or read: never a plain green READY */
	if (!stale && env->health == HEALTH_READY) {
		size_t bad = hosts_unread(ui, env, now);

		if (bad) {
			snprintf(b->word, sizeof b->word, "DEGRADED");
			snprintf(b->state, sizeof b->state, "READY, %zu of %zu host%s not read", bad,
			    env->hosts_len, env->hosts_len == 1 ? "" : "s");
			b->role = THEME_ROLE_degraded;
		}
	}
	b->tag = env->tag[0] ? env->tag : NULL;
	envfmt_checked(m, env, now, b->checked, sizeof b->checked);
	snprintf(b->problem, sizeof b->problem, "%s", envfmt_problem(env, why, sizeof why));
	/* hosts on different tags, or a run left half way: never a plain green READY */
	if (!stale && env->health == HEALTH_READY && b->role == envfmt_health_role(HEALTH_READY)) {
		bool partial = model_unfinished(env, why, sizeof why);
		struct rollout_status rs;

		model_rollout(env, &rs, NULL);
		if (rs.active) {
			/* a rollout in waves: its hosts differ by design; where it stands */
			snprintf(b->word, sizeof b->word, "ROLLOUT");
			snprintf(b->state, sizeof b->state, "READY, wave %zu of %zu %s, %zu of %zu took %s",
			    rs.wave, rs.lease.waves.len, rollout_state_word(&rs), rs.stands[STAND_TOOK],
			    env->hosts_len, rs.lease.tag);
			b->role = THEME_ROLE_degraded;
		} else if (partial || model_drift(env, tag, sizeof tag, why, sizeof why) == DRIFT_HOSTS) {
			snprintf(b->word, sizeof b->word, "DEGRADED");
			snprintf(b->state, sizeof b->state, "READY, %s", partial ? "a run is partial" :
			    "hosts differ");
			b->role = THEME_ROLE_degraded;
		}
	}
	b->rank = stale ? RANK_STALE : env->health == HEALTH_DOWN ? RANK_DOWN :
	    env->health == HEALTH_NOT_READY ? RANK_NOT_READY : env->health == HEALTH_UNKNOWN ?
	    RANK_CHECKING : b->problem[0] || b->role != envfmt_health_role(HEALTH_READY) ?
	    RANK_PROBLEM : RANK_READY;
}

static int band_order(const void *a, const void *b)
{
	const struct band *x = a, *y = b;

	if (x->rank != y->rank)
		return (int)x->rank - (int)y->rank;
	return x->env < y->env ? -1 : x->env > y->env;
}

/* The row under the bands when not every environment fits: how many more, in what
 * states ("+6 more: 1 DOWN, 5 READY (page 2 of 3)"). */
static void draw_more(struct ui *ui, int y, const struct band *rest, size_t n, int page,
    int pages)
{
	static const char *const words[] = { "DOWN", "NOT READY", "STALE", "with a problem",
		"CHECKING", "READY" };
	size_t count[RANK_READY + 1] = { 0 };
	char line[300];
	int len;
	enum band_rank worst = RANK_READY;

	for (size_t i = 0; i < n; i++) {
		count[rest[i].rank]++;
		if (rest[i].rank < worst)
			worst = rest[i].rank;
	}
	len = snprintf(line, sizeof line, "+%zu more:", n);
	for (int r = 0; r <= RANK_READY && len > 0 && (size_t)len < sizeof line; r++)
		if (count[r])
			len += snprintf(line + len, sizeof line - (size_t)len, "%s %zu %s",
			    line[len - 1] == ':' ? "" : ",", count[r], words[r]);
	if (pages > 1 && len > 0 && (size_t)len < sizeof line)
		snprintf(line + len, sizeof line - (size_t)len, "  (page %d of %d)", page + 1, pages);
	draw_bar(ui, y, worst <= RANK_PROBLEM ? THEME_ROLE_error : THEME_ROLE_muted, line, "");
}

/* One row: name, tag and state on the bar. */
static void draw_band_row(struct ui *ui, int y, const struct band *b)
{
	char line[80];

	snprintf(line, sizeof line, "%-16s %s", b->name, b->tag ? b->tag : "-");
	draw_bar(ui, y, b->role, line, b->state);
}

/* Two to eight rows: the bar, then the tag and when it was checked, then what is wrong
 * (beside them when there is no row for it). */
static void draw_band_lines(struct ui *ui, int y, int rows, const struct band *b)
{
	char line[64];

	draw_bar(ui, y, b->role, b->name, b->state);
	snprintf(line, sizeof line, "checked %s", b->checked);
	draw_text(ui, y + 1, 2, 24, b->tag ? b->tag : "no version yet", THEME_ROLE_text, true);
	draw_text(ui, y + 1, 27, 16, line, THEME_ROLE_muted, true);
	if (rows >= 4)
		draw_text(ui, y + 2, 2, ui->cols - 4, b->problem, THEME_ROLE_error, false);
	else
		draw_text(ui, y + 1, 44, ui->cols - 45, b->problem, THEME_ROLE_error, false);
}

/* True when the name and the state fit side by side in large letters at `scale`. */
static bool tile_fits_word(const struct ui *ui, int scale, const struct band *b)
{
	return (bigtext_width(b->name, 1) + bigtext_width(b->word, 1)) * scale + 8 <= ui->cols;
}

/* The largest scale at which a band of `rows` rows holds the name and the state side by
 * side in large letters; 1 when only the name fits; 0 when no large letters do. */
static int tile_scale(const struct ui *ui, int rows, const struct band *b)
{
	for (int scale = 4; scale >= 1; scale--)
		if (BIGTEXT_ROWS * scale + 3 <= rows && tile_fits_word(ui, scale, b))
			return scale;
	return BIGTEXT_ROWS + 3 <= rows && bigtext_width("MM", 1) + 4 <= ui->cols ? 1 : 0;
}

/* A tile in the state's colour, `rows` tall: the name and the state in large letters,
 * then the facts and what is wrong in plain words. */
static void draw_band_tile(struct ui *ui, int y, int rows, int scale, bool with_word,
    const struct band *b)
{
	attr_t tile = palette_attr(b->role) | A_REVERSE | A_BOLD;
	int big = BIGTEXT_ROWS * scale, pad = (rows - (big + 3)) / 2, text = y + 1 + pad;
	char line[400];
	const char *sep = draw_glyph(ui, GLYPH_SEP);

	attrset(tile);
	for (int r = 0; r < rows; r++)
		mvhline(y + r, 0, ' ', ui->cols);
	attrset(A_NORMAL);
	bigtext_draw(ui, text, 2, ui->cols - 4, b->name, scale, A_BOLD);
	if (with_word) {
		int word_w = bigtext_width(b->word, scale);

		bigtext_draw(ui, text, ui->cols - 2 - word_w, word_w, b->word, scale, A_BOLD);
	}
	snprintf(line, sizeof line, "%s  %s  %s  %s  %s  %s  checked %s", b->name, sep, b->state, sep,
	    b->tag ? b->tag : "no version yet", sep, b->checked);
	draw_text_attr(ui, text + big + 1, 2, ui->cols - 4, line, tile, false);
	if (b->problem[0]) {
		snprintf(line, sizeof line, "%s %s", draw_glyph(ui, GLYPH_WARN), b->problem);
		draw_text_attr(ui, text + big + 2, 2, ui->cols - 4, line, tile, false);
	}
}

#define WALLBOARD_PAGE_MS 8000

/* More environments than rows: a row each, the worst first, the last row for the rest. */
static void draw_crowded(struct ui *ui, int top, int height, struct band *bands, size_t n,
    int64_t now)
{
	size_t rows = height > 1 ? (size_t)height - 1 : 0, pinned = 0, healthy, shown = 0;
	int pages = 1, page = 0;
	struct band *rest = xcalloc(n, sizeof *rest);
	size_t rest_n = 0;

	qsort(bands, n, sizeof *bands, band_order);
	while (pinned < n && bands[pinned].rank < RANK_CHECKING)
		pinned++;
	if (pinned >= rows) {
		/* not even the broken ones all fit: the worst of them, the rest summed up */
		for (size_t i = 0; i < rows; i++)
			draw_band_row(ui, top + (int)i, &bands[i]);
		draw_more(ui, top + (int)rows, bands + rows, n - rows, 0, 1);
		free(rest);
		return;
	}
	for (size_t i = 0; i < pinned; i++)
		draw_band_row(ui, top + (int)shown++, &bands[i]);
	/* the others page through the rows left */
	healthy = n - pinned;
	{
		size_t room = rows - pinned;

		pages = (int)((healthy + room - 1) / room);
		page = (int)((now / WALLBOARD_PAGE_MS) % pages);
		for (size_t i = 0; i < healthy; i++) {
			const struct band *b = &bands[pinned + i];

			if (i / room == (size_t)page)
				draw_band_row(ui, top + (int)shown++, b);
			else
				rest[rest_n++] = *b;
		}
	}
	draw_more(ui, top + height - 1, rest, rest_n, page, pages);
	free(rest);
}

static void wallboard_draw(struct ui *ui, struct view *v, int top, int height)
{
	const struct model *m = ui->app->model;
	int64_t now = loop_clock_ms();
	struct band *bands;
	int per, y, scale = 4;
	bool with_word = true;

	(void)v;
	draw_refreshed(ui, top, now);
	top += 2;
	height -= 2;
	if (m->envs_len == 0 || height <= 0)
		return;
	bands = xcalloc(m->envs_len, sizeof *bands);
	for (size_t i = 0; i < m->envs_len; i++) {
		band_facts(ui, &m->envs[i], now, &bands[i]);
		bands[i].env = i;
	}
	/* one band per environment when every one fits; else one row each, the worst
	 * first, and the last row sums up the rest, which the rows of the healthy ones page
	 * through on a timer: a broken environment is never off the screen */
	if ((size_t)height < m->envs_len) {
		draw_crowded(ui, top, height, bands, m->envs_len, now);
		free(bands);
		return;
	}
	/* as tall as the screen allows, all at one scale: the largest at which every name
	 * (and every state beside it) fits */
	per = height / (int)m->envs_len;
	for (size_t i = 0; i < m->envs_len; i++) {
		int sc = tile_scale(ui, per - 1, &bands[i]);

		if (sc < scale)
			scale = sc;
	}
	for (size_t i = 0; i < m->envs_len; i++)
		with_word = with_word && tile_fits_word(ui, scale, &bands[i]);
	y = top;
	for (size_t i = 0; i < m->envs_len && y < top + height; i++, y += per) {
		if (scale > 0)
			draw_band_tile(ui, y, per - 1, scale, with_word, &bands[i]);
		else if (per >= 2)
			draw_band_lines(ui, y, per, &bands[i]);
		else
			draw_band_row(ui, y, &bands[i]);
	}
	free(bands);
}

/* What acts on the wallboard; the help lists only these. */
static const enum action wallboard_actions[] = {
	ACTION_REFRESH, ACTION_REDRAW, ACTION_HELP, ACTION_CLOSE, ACTION_QUIT, ACTION_NONE
};

static int wallboard_action(struct ui *ui, struct view *v, enum action action)
{
	switch (action) {
	case ACTION_REFRESH:
		prober_refresh_all(ui->app->prober);
		deploywatch_refresh(ui->app->deploywatch);
		registrywatch_refresh(ui->app->registrywatch);
		return VIEW_REDRAW;
	case ACTION_REDRAW:
	case ACTION_HELP:
	case ACTION_CLOSE:
	case ACTION_QUIT:
		return VIEW_UNHANDLED;
	default:
		ui_message(ui, false, "%s does nothing here: %s", action_get(action)->name,
		    v->ops->why_not);
		return VIEW_HANDLED;
	}
}

const struct view_ops wallboard_view_ops = {
	.name = "wallboard",
	.draw = wallboard_draw,
	.action = wallboard_action,
	.overlay = false,
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_QUIT, 0, "quit" }, { 0 },
	},
	.actions = wallboard_actions,
	.why_not = "the wallboard shows every environment and changes nothing (the dashboard, "
	    "gantry without --read-only, has the other keys)",
};
