/* The wallboard: the read-only view for an ops screen, big blocks readable across a room. */
#include "config.h"

#include "draw.h"
#include "duration.h"
#include "envfmt.h"
#include "palette.h"
#include "ui.h"
#include "view.h"

#include <ctype.h>
#include <curses.h>
#include <stdio.h>
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
static size_t hosts_unread(const struct env_status *env)
{
	size_t bad = 0;

	for (size_t j = 0; j < env->hosts_len; j++) {
		enum remote_state st = remote_host_state(env->hosts[j].remote);

		if ((st != REMOTE_UP && st != REMOTE_IDLE && st != REMOTE_CONNECTING) ||
		    (!env->hosts[j].state_known && env->hosts[j].deploy_error[0]))
			bad++;
	}
	return bad;
}

static void wallboard_draw(struct ui *ui, struct view *v, int top, int height)
{
	const struct model *m = ui->app->model;
	int64_t now = loop_clock_ms();
	int per = 3, y;

	draw_refreshed(ui, top, now);
	top += 2;
	height -= 2;
	if ((int)m->envs_len * per > height)
		per = 2;
	if ((int)m->envs_len * per > height)
		per = 1;
	y = top;
	for (size_t i = 0; i < m->envs_len && y < top + height; i++, y += per) {
		const struct env_status *env = &m->envs[i];
		bool stale = model_is_stale(m, env, now);
		enum theme_role role = stale ? THEME_ROLE_stale : envfmt_health_role(env->health);
		char name[40], state[48], since[16], checked[32], line[320], why[300];
		size_t k;

		for (k = 0; env->conf->name[k] && k + 1 < sizeof name; k++)
			name[k] = (char)toupper((unsigned char)env->conf->name[k]);
		name[k] = '\0';
		envfmt_since(env, now, since, sizeof since);
		if (stale) {
			char age[16];

			duration_format(model_age(m, env, now), age, sizeof age);
			snprintf(state, sizeof state, "STALE %s", age);
		} else if (env->health == HEALTH_UNKNOWN) {
			snprintf(state, sizeof state, "CHECKING");
		} else {
			snprintf(state, sizeof state, "%s for %s", env->health == HEALTH_READY ? "READY" :
			    env->health == HEALTH_NOT_READY ? "NOT READY" : "DOWN", since);
		}
		/* hosts that cannot be reached or read: never a plain green READY */
		if (!stale && env->health == HEALTH_READY) {
			size_t bad = hosts_unread(env);

			if (bad) {
				snprintf(state, sizeof state, "READY, %zu of %zu host%s not read", bad,
				    env->hosts_len, env->hosts_len == 1 ? "" : "s");
				role = THEME_ROLE_degraded;
			}
		}
		if (per == 1) {
			/* one line each: name, tag and state on the bar */
			snprintf(line, sizeof line, "%-16s %s", name, env->tag[0] ? env->tag : "-");
			draw_bar(ui, y, role, line, state);
			continue;
		}
		draw_bar(ui, y, role, name, state);
		envfmt_checked(m, env, now, checked, sizeof checked);
		snprintf(line, sizeof line, "checked %s", checked);
		draw_text(ui, y + 1, 2, 24, env->tag[0] ? env->tag : "no version yet",
		    THEME_ROLE_text, true);
		draw_text(ui, y + 1, 27, 16, line, THEME_ROLE_muted, true);
		draw_text(ui, y + 1, 44, ui->cols - 45, envfmt_problem(env, why, sizeof why),
		    THEME_ROLE_error, false);
	}
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
	.actions = wallboard_actions,
	.why_not = "the wallboard shows every environment and changes nothing (the dashboard, "
	    "gantry without --read-only, has the other keys)",
};
