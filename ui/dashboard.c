/* The dashboard: a row per environment in promotion order, and a detail pane. */
#include "config.h"

#include "draw.h"
#include "duration.h"
#include "envfmt.h"
#include "ui.h"
#include "view.h"
#include "views.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DETAIL_ROWS 8
#define DETAIL_MAX_HOSTS 4

/* One cell of a row; draws at (y, x) in `width` columns. */
typedef void (*cell_fn)(struct ui *ui, const struct env_status *env, int64_t now, int y, int x,
    int width);

typedef bool (*problem_fn)(const struct ui *ui, const struct env_status *env, int64_t now);

struct column {
	const char *title;
	int width;                      /* 0: computed (name, tag) */
	int min_screen;                 /* shown only when the screen is at least this wide */
	cell_fn draw;
	bool ssh;                       /* shown only when some environment has hosts */
	problem_fn problem;             /* what the cell would flag: marks the row when the
	                                   column is dropped for width (NULL: nothing) */
};

/* A status cell: a coloured dot and a word; stale data gets the stale role. */
static void draw_probe_cell(struct ui *ui, const struct env_status *env, int64_t now, int y,
    int x, int width, enum probe_kind kind)
{
	const struct probe_result *r = &env->probes[kind];
	enum theme_role role = envfmt_probe_role(r, kind);
	char word[24];

	if (model_is_stale(ui->app->model, env, now))
		role = THEME_ROLE_stale;
	model_probe_word(r, kind, word, sizeof word);
	draw_text(ui, y, x, 2, draw_glyph(ui, GLYPH_DOT), role, true);
	draw_text(ui, y, x + 2, width - 2, word, role, false);
}

/* True for the selected environment's row. */
static bool is_selected(const struct ui *ui, const struct env_status *env)
{
	return env == &ui->app->model->envs[ui->selected];
}

static void cell_name(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	draw_text(ui, y, x, w, env->conf->name,
	    is_selected(ui, env) ? THEME_ROLE_selected : THEME_ROLE_text, true);
}

static void cell_tag(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	bool current = env->probes[PROBE_VERSION].state == PROBE_OK;

	enum theme_role role = current ? THEME_ROLE_text : THEME_ROLE_muted;

	draw_text(ui, y, x, w, env->tag[0] ? env->tag : "-",
	    is_selected(ui, env) ? THEME_ROLE_selected : role, true);
}

static void cell_live(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	draw_probe_cell(ui, env, now, y, x, w, PROBE_LIVE);
}

static void cell_ready(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	draw_probe_cell(ui, env, now, y, x, w, PROBE_READY);
}

static void cell_latency(struct ui *ui, const struct env_status *env, int64_t now, int y, int x,
    int w)
{
	char text[16];
	const struct probe_result *r = &env->probes[PROBE_READY];

	duration_format_latency(r->http_status ? r->latency_ms : -1, text, sizeof text);
	draw_text(ui, y, x + w - 1 - draw_width(text), draw_width(text), text, THEME_ROLE_muted, false);
}

static void cell_since(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	char text[16];

	envfmt_since(env, now, text, sizeof text);
	draw_text(ui, y, x, w, text, THEME_ROLE_muted, false);
}

static void cell_checked(struct ui *ui, const struct env_status *env, int64_t now, int y, int x,
    int w)
{
	char text[32], age[16];

	if (model_is_stale(ui->app->model, env, now)) {
		duration_format(model_age(ui->app->model, env, now), age, sizeof age);
		snprintf(text, sizeof text, "STALE %s", age);
		draw_text(ui, y, x, w, text, THEME_ROLE_stale, false);
		return;
	}
	envfmt_checked(ui->app->model, env, now, text, sizeof text);
	draw_text(ui, y, x, w, text, THEME_ROLE_muted, false);
}

/* What deploy.env says on the hosts, flagged when it is not what runs. */
static void cell_deployed(struct ui *ui, const struct env_status *env, int64_t now, int y, int x,
    int w)
{
	char tag[PAYLOAD_TAG_MAX], why[300], text[PAYLOAD_TAG_MAX + 4];
	enum drift drift = model_drift(env, tag, sizeof tag, why, sizeof why);
	enum theme_role role = THEME_ROLE_text;
	bool stopped;

	if (env->hosts_len == 0) {
		draw_text(ui, y, x, w, "", THEME_ROLE_muted, false);
		return;
	}
	if (envfmt_rollout_brief(env, draw_glyph(ui, GLYPH_WARN), text, sizeof text, &stopped)) {
		/* a rollout in waves: its wave, and how many hosts took the tag */
		draw_text(ui, y, x, w, text, stopped ? THEME_ROLE_unhealthy : THEME_ROLE_degraded, false);
		return;
	}
	if (drift == DRIFT_HOSTS) {
		snprintf(text, sizeof text, "%s hosts differ", draw_glyph(ui, GLYPH_WARN));
		role = THEME_ROLE_unhealthy;
	} else if (drift == DRIFT_RUNNING || drift == DRIFT_SERVICES) {
		snprintf(text, sizeof text, "%s %s", draw_glyph(ui, GLYPH_WARN), tag);
		role = THEME_ROLE_degraded;
	} else {
		snprintf(text, sizeof text, "%s", tag[0] ? tag : "-");
		role = tag[0] ? THEME_ROLE_text : THEME_ROLE_muted;
	}
	draw_text(ui, y, x, w, text, role, false);
}

/* How many hosts are up, or the worst thing about them. */
static void cell_hosts(struct ui *ui, const struct env_status *env, int64_t now, int y, int x, int w)
{
	size_t up = 0;
	enum link_state worst = LINK_UP;
	char text[32];
	enum theme_role role = THEME_ROLE_healthy;

	if (env->hosts_len == 0) {
		draw_text(ui, y, x, w, "", THEME_ROLE_muted, false);
		return;
	}
	for (size_t i = 0; i < env->hosts_len; i++) {
		enum link_state st = ui_link(ui, env, i, now).state;

		if (st == LINK_UP)
			up++;
		else if (st > LINK_UP || worst == LINK_UP)
			worst = st;
	}
	switch (worst) {
	case LINK_KEY_UNKNOWN:
	case LINK_KEY_CHANGED:
		snprintf(text, sizeof text, "%s host key", draw_glyph(ui, GLYPH_WARN));
		role = THEME_ROLE_unhealthy;
		break;
	case LINK_AUTH_FAILED:
		snprintf(text, sizeof text, "%s login", draw_glyph(ui, GLYPH_WARN));
		role = THEME_ROLE_unhealthy;
		break;
	case LINK_UNREACHABLE:
		snprintf(text, sizeof text, "%zu/%zu up", up, env->hosts_len);
		role = THEME_ROLE_unhealthy;
		break;
	case LINK_IDLE:
	case LINK_CONNECTING:
		snprintf(text, sizeof text, up ? "%zu/%zu up" : "connecting", up, env->hosts_len);
		role = THEME_ROLE_unknown;
		break;
	default:
		snprintf(text, sizeof text, "%zu/%zu up", up, env->hosts_len);
		break;
	}
	draw_text(ui, y, x, 2, draw_glyph(ui, GLYPH_DOT), role, true);
	draw_text(ui, y, x + 2, w - 2, text, role, false);
}

static bool live_problem(const struct ui *ui, const struct env_status *env, int64_t now)
{
	return env->probes[PROBE_LIVE].state != PROBE_OK && env->probes[PROBE_LIVE].state != PROBE_PENDING;
}

static bool checked_problem(const struct ui *ui, const struct env_status *env, int64_t now)
{
	return model_is_stale(ui->app->model, env, now);
}

static bool deployed_problem(const struct ui *ui, const struct env_status *env, int64_t now)
{
	char tag[PAYLOAD_TAG_MAX], why[300];

	bool stopped;

	if (!env->hosts_len)
		return false;
	if (envfmt_rollout_brief(env, "!", why, sizeof why, &stopped))
		return stopped;
	return model_drift(env, tag, sizeof tag, why, sizeof why) != DRIFT_NONE;
}

static bool hosts_problem(const struct ui *ui, const struct env_status *env, int64_t now)
{
	for (size_t i = 0; i < env->hosts_len; i++) {
		enum link_state st = ui_link(ui, env, i, now).state;

		if (st != LINK_UP && st != LINK_IDLE && st != LINK_CONNECTING)
			return true;
	}
	return false;
}

/* Columns in order; the narrower the screen, the fewer are shown. */
static const struct column columns[] = {
	{ "ENVIRONMENT", 0, 0, cell_name, false, NULL },
	{ "TAG", 0, 0, cell_tag, false, NULL },
	{ "LIVE", 11, 56, cell_live, false, live_problem },
	{ "READY", 12, 0, cell_ready, false, NULL },
	{ "LATENCY", 8, 72, cell_latency, false, NULL },
	{ "SINCE", 8, 90, cell_since, false, NULL },
	{ "CHECKED", 11, 80, cell_checked, false, checked_problem },
	{ "DEPLOYED", 16, 98, cell_deployed, true, deployed_problem },
	{ "HOSTS", 13, 112, cell_hosts, true, hosts_problem },
};

/* True when some environment has SSH hosts (and the SSH columns mean something). */
static bool any_hosts(const struct model *m)
{
	for (size_t i = 0; i < m->envs_len; i++)
		if (m->envs[i].hosts_len)
			return true;
	return false;
}

#define COLUMN_COUNT (sizeof columns / sizeof columns[0])

/* Widths for this screen: 0 for hidden columns; name and tag fit their content. */
static void layout_columns(struct ui *ui, int widths[COLUMN_COUNT])
{
	const struct model *m = ui->app->model;
	int name_w = 3, tag_w = 12, fixed = 0, room;
	bool ssh = any_hosts(m);

	for (size_t i = 0; i < m->envs_len; i++) {
		int nw = draw_width(m->envs[i].conf->name), tw = draw_width(m->envs[i].tag);

		if (nw > name_w)
			name_w = nw;
		if (tw > tag_w)
			tag_w = tw;
	}
	for (size_t c = 0; c < COLUMN_COUNT; c++) {
		widths[c] = ui->cols >= columns[c].min_screen && (ssh || !columns[c].ssh) ? columns[c].width : -1;
		if (widths[c] > 0)
			fixed += widths[c] + 1;
	}
	/* what is left goes to the name and the tag, the tag first */
	room = ui->cols - 3 - fixed;
	if (name_w + 2 > room / 2 && name_w > 20)
		name_w = 20;
	if (name_w > room - 8)
		name_w = room - 8 > 6 ? room - 8 : 6;
	if (name_w < 11 && room - name_w - 1 > tag_w + 12)
		name_w = 11;            /* room for the whole ENVIRONMENT heading */
	tag_w = tag_w + 1 < room - name_w - 1 ? tag_w + 1 : room - name_w - 1;
	widths[0] = name_w + 1;
	widths[1] = tag_w > 4 ? tag_w : 4;
}

/* Draws the table of environments; returns the rows used. */
/* The row under a table cut short: the environments above and below the rows shown, in
 * their states, red when one of them is not ready ("↓ 6 more below: 1 DOWN, 5 READY"). */
static void draw_table_more(struct ui *ui, int y, size_t first, size_t shown)
{
	static const char *const words[] = { [HEALTH_UNKNOWN] = "CHECKING", [HEALTH_READY] = "READY",
		[HEALTH_NOT_READY] = "NOT READY", [HEALTH_DOWN] = "DOWN" };
	static const enum env_health order[] = { HEALTH_DOWN, HEALTH_NOT_READY, HEALTH_UNKNOWN,
		HEALTH_READY };
	const struct model *m = ui->app->model;
	size_t count[HEALTH_DOWN + 1] = { 0 }, below = m->envs_len - first - shown;
	char line[300];
	int len;

	for (size_t i = 0; i < m->envs_len; i++)
		if (i < first || i >= first + shown)
			count[m->envs[i].health]++;
	len = snprintf(line, sizeof line, "%zu more (%zu above, %zu below; j/k scroll):", first + below,
	    first, below);
	for (size_t k = 0; k < sizeof order / sizeof order[0] && len > 0 && (size_t)len < sizeof line; k++)
		if (count[order[k]])
			len += snprintf(line + len, sizeof line - (size_t)len, "%s %zu %s",
			    line[len - 1] == ':' ? "" : ",", count[order[k]], words[order[k]]);
	draw_text(ui, y, 3, ui->cols - 4, line, count[HEALTH_DOWN] || count[HEALTH_NOT_READY] ?
	    THEME_ROLE_unhealthy : THEME_ROLE_muted, true);
}

static int draw_table(struct ui *ui, int top, int height, int64_t now)
{
	const struct model *m = ui->app->model;
	int widths[COLUMN_COUNT], x = 3, rows = height - 1;
	size_t first = 0;
	bool cut = m->envs_len > (size_t)(rows > 0 ? rows : 0);

	layout_columns(ui, widths);
	for (size_t c = 0; c < COLUMN_COUNT; c++) {
		if (widths[c] < 0)
			continue;
		draw_text(ui, top, x, widths[c], columns[c].title, THEME_ROLE_header, false);
		x += widths[c] + 1;
	}
	/* more environments than rows: the last row says what the others are */
	if (cut && rows >= 2)
		rows--;
	if (rows < 1)
		return 1;
	/* keep the selection in view */
	if (ui->selected >= (size_t)rows)
		first = ui->selected - (size_t)rows + 1;
	for (size_t i = first; i < m->envs_len && (int)(i - first) < rows; i++) {
		const struct env_status *env = &m->envs[i];
		int y = top + 1 + (int)(i - first);
		bool selected = i == ui->selected;

		bool hidden_problem = false;

		x = 3;
		if (selected)
			draw_text(ui, y, 0, 3, draw_glyph(ui, GLYPH_SELECT), THEME_ROLE_selected, true);
		for (size_t c = 0; c < COLUMN_COUNT; c++) {
			if (widths[c] < 0) {
				/* dropped for width: what it would flag still marks the row */
				hidden_problem |= columns[c].problem && columns[c].problem(ui, env, now);
				continue;
			}
			columns[c].draw(ui, env, now, y, x, widths[c]);
			x += widths[c] + 1;
		}
		if (hidden_problem)
			draw_text(ui, y, 1, 1, draw_glyph(ui, GLYPH_WARN), THEME_ROLE_unhealthy, true);
	}
	if (cut && rows + 1 < height) {
		draw_table_more(ui, top + 1 + rows, first, (size_t)rows);
		return 2 + rows;
	}
	return 1 + (int)(m->envs_len - first < (size_t)rows ? m->envs_len - first : (size_t)rows);
}

/* One line of the detail pane for a probe. */
static void draw_detail_probe(struct ui *ui, int y, const char *label, const struct env_status *env,
    enum probe_kind kind, const char *path)
{
	const struct probe_result *r = &env->probes[kind];
	char status[24], latency[16], word[24];
	int x = 2;

	model_probe_word(r, kind, word, sizeof word);
	x += draw_text(ui, y, x, 9, label, THEME_ROLE_header, true);
	x += draw_text(ui, y, x, 2, draw_glyph(ui, GLYPH_DOT), envfmt_probe_role(r, kind), true);
	x += draw_text(ui, y, x, 11, word, envfmt_probe_role(r, kind), true);
	if (r->http_status)
		snprintf(status, sizeof status, "HTTP %ld", r->http_status);
	else
		snprintf(status, sizeof status, "-");
	x += draw_text(ui, y, x, 10, status, THEME_ROLE_muted, true);
	duration_format_latency(r->http_status ? r->latency_ms : -1, latency, sizeof latency);
	x += draw_text(ui, y, x, 8, latency, THEME_ROLE_muted, true);
	if (r->state == PROBE_OK || r->state == PROBE_PENDING)
		draw_text(ui, y, x, ui->cols - x - 1, path, THEME_ROLE_muted, false);
	else
		draw_text(ui, y, x, ui->cols - x - 1, r->detail, THEME_ROLE_error, false);
}

#define HOST_STATE_W 30                 /* "host key unknown, retry in 60s" */
#define HOST_TEXT_X (2 + 9 + 2 + 28 + HOST_STATE_W + 1)        /* a host's deploy.env or error */
#define HOST_MESSAGE_ROWS 5             /* an error (a refused key and its fix) wraps this far */

/* The error host j's line shows ("" none): its link's, else deploy.env's. */
static const char *host_error(const struct ui *ui, const struct env_status *env, size_t j)
{
	struct link_status link = ui_link(ui, env, j, loop_clock_ms());

	if (link.state != LINK_UP && link.message[0])
		return link.message;
	return env->hosts[j].deploy_error;
}

/* On a narrow screen a host's error goes under its line, at this column. */
#define HOST_NARROW_X 13

static bool host_narrow(const struct ui *ui)
{
	return ui->cols - HOST_TEXT_X < 50;
}

/* The rows one host takes: its error wraps, up to HOST_MESSAGE_ROWS (on a narrow screen,
 * under the host's line). */
static int host_rows(const struct ui *ui, const struct env_status *env, size_t j)
{
	const char *error = host_error(ui, env, j);
	bool narrow = host_narrow(ui);
	int width = ui->cols - (narrow ? HOST_NARROW_X : HOST_TEXT_X) - 1, rows;

	if (!error[0] || width < 10)
		return 1;
	rows = (draw_width(error) + width - 1) / width;
	rows = rows < 1 ? 1 : rows > HOST_MESSAGE_ROWS ? HOST_MESSAGE_ROWS : rows;
	return narrow ? rows + 1 : rows;
}

/* The host whose running services the detail pane shows: the first that listed any, or
 * failed to; NULL when none has (or the environment lists none). */
static const struct host_status *services_host(const struct env_status *env, size_t *at)
{
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];

		if (h->running_read && (h->running.len || h->running_error[0])) {
			*at = i;
			return h;
		}
	}
	return NULL;
}

/* The rows the hosts take in the detail pane: each host's (up to a few hosts), the
 * services of one, and the drift (two, as it names hosts and tags). */
static int detail_host_rows(const struct ui *ui, const struct env_status *env)
{
	size_t shown = env->hosts_len < DETAIL_MAX_HOSTS ? env->hosts_len : DETAIL_MAX_HOSTS, at;
	int rows = 2;

	if (env->hosts_len == 0)
		return 0;
	if (services_host(env, &at))
		rows++;
	if (env->hosts_len > shown)
		rows++;                 /* the fleet's tags */
	for (size_t i = 0; i < shown; i++)
		rows += host_rows(ui, env, i);
	return rows;
}

/* What each service runs, as one host's container runtime lists them: "backend
 * sha-2c0ffee · worker sha-2c0ffee"; a service of the app's image on another tag than
 * deploy.env's is marked. Replicas of a service on one tag are counted. */
static bool draw_detail_services(struct ui *ui, int y, const struct env_status *env)
{
	size_t at;
	const struct host_status *h = services_host(env, &at);
	int x = 11, right = ui->cols - 1;
	char item[RUNNING_NAME_MAX + PAYLOAD_TAG_MAX + 16];

	if (!h)
		return false;
	draw_text(ui, y, 2, 9, "services", THEME_ROLE_header, true);
	if (env->hosts_len > 1) {
		snprintf(item, sizeof item, "%s: ", env->hosts[at].name);
		x += draw_text(ui, y, x, right - x, item, THEME_ROLE_muted, false);
	}
	if (h->running_error[0]) {
		draw_text(ui, y, x, right - x, h->running_error, THEME_ROLE_error, false);
		return true;
	}
	for (size_t i = 0, n; i < h->running.len && x < right; i += n) {
		const struct running_service *s = &h->running.list[i];
		bool off = h->app_tag[0] && running_differs(s, h->app_repo, h->app_tag, h->app_digest);
		const char *tag = h->app_tag[0] ? running_tag(s, h->app_tag, h->app_digest) : s->tag;

		for (n = 1; i + n < h->running.len && strcmp(s->name, s[n].name) == 0 &&
		    strcmp(s->tag, s[n].tag) == 0 && strcmp(s->digest, s[n].digest) == 0; n++)
			;
		if (i) {
			snprintf(item, sizeof item, " %s ", draw_glyph(ui, GLYPH_SEP));
			x += draw_text(ui, y, x, right - x, item, THEME_ROLE_muted, false);
		}
		x += draw_text(ui, y, x, right - x, s->name, THEME_ROLE_text, false);
		if (n > 1)
			snprintf(item, sizeof item, " x%zu", n);
		else
			item[0] = '\0';
		snprintf(item + strlen(item), sizeof item - strlen(item), " %s%s%s",
		    off ? draw_glyph(ui, GLYPH_WARN) : "", off ? " " : "", tag);
		x += draw_text(ui, y, x, right - x, item, off ? THEME_ROLE_degraded : THEME_ROLE_muted, false);
	}
	return true;
}

/* One line per host: its connection and what its deploy.env names, or its error in full
 * (wrapped: a refused key's fingerprint and fix); then the drift. */
static void draw_detail_hosts(struct ui *ui, int top, int64_t now)
{
	const struct env_status *env = &ui->app->model->envs[ui->selected];
	const char *cfg = app_target(ui->app, env->conf)->words->config;    /* "deploy.env" */
	char line[700], tag[PAYLOAD_TAG_MAX], why[300], state[48], name[sizeof env->hosts[0].name + 4];
	size_t shown = env->hosts_len < DETAIL_MAX_HOSTS ? env->hosts_len : DETAIL_MAX_HOSTS;
	enum drift drift;
	int y = top;

	for (size_t i = 0; i < shown; i++) {
		const struct host_status *h = &env->hosts[i];
		struct link_status link = ui_link(ui, env, i, now);
		enum link_state st = link.state;
		int64_t retry = link.retry_in;
		const char *error = host_error(ui, env, i);
		enum theme_role role = st == LINK_UP ? THEME_ROLE_healthy :
		    st == LINK_CONNECTING || st == LINK_IDLE ? THEME_ROLE_unknown : THEME_ROLE_unhealthy;
		int x = 2, rows = host_rows(ui, env, i);

		if (retry >= 0 && st != LINK_UP && st != LINK_CONNECTING)
			snprintf(state, sizeof state, "%s, retry in %llds", link_state_name(st),
			    (long long)((retry + 999) / 1000));
		else
			snprintf(state, sizeof state, "%s", link_state_name(st));
		x += draw_text(ui, y, x, 9, i == 0 ? "hosts" : "", THEME_ROLE_header, true);
		x += draw_text(ui, y, x, 2, draw_glyph(ui, GLYPH_DOT), role, true);
		envfmt_unit_name(env->hosts[i].name, 27, draw_glyph(ui, GLYPH_ELLIPSIS), name,
		    sizeof name);
		x += draw_text(ui, y, x, 28, name, THEME_ROLE_text, true);
		draw_text(ui, y, x, HOST_STATE_W, state, role, true);
		/* a column of its own, a space after the state: two texts never run together */
		x = HOST_TEXT_X;
		if (error[0] && host_narrow(ui) && rows > 1) {
			draw_wrapped(ui, y + 1, HOST_NARROW_X, y + rows, error, THEME_ROLE_error);
		} else if (error[0]) {
			draw_wrapped(ui, y, x, y + rows, error, THEME_ROLE_error);
		} else if (h->app_tag[0]) {
			bool differs = h->app_version[0] && strcmp(h->app_version, h->app_tag) != 0;

			/* a host with its own app_url: what its app reports, asked on the host */
			if (h->app_version[0])
				snprintf(line, sizeof line, "%s names %s; its app reports %s", cfg, h->app_tag,
				    h->app_version);
			else if (h->app_probed && h->app_version_error[0])
				snprintf(line, sizeof line, "%s names %s; its app: %s", cfg, h->app_tag,
				    h->app_version_error);
			else
				snprintf(line, sizeof line, "%s: app %s, migrator %s", cfg, h->app_tag,
				    h->migrator_tag[0] ? h->migrator_tag : "-");
			draw_text(ui, y, x, ui->cols - x - 1, line, differs ? THEME_ROLE_degraded :
			    THEME_ROLE_muted, false);
		} else {
			snprintf(line, sizeof line, "reading %s", cfg);
			draw_text(ui, y, x, ui->cols - x - 1, line, THEME_ROLE_muted, false);
		}
		y += rows;
	}
	if (draw_detail_services(ui, y, env))
		y++;
	if (env->hosts_len > shown) {
		/* a fleet: where all of them stand, tag by tag */
		size_t tags = model_skew(env, why, sizeof why);

		snprintf(line, sizeof line, "%zu more; all %zu: %s", env->hosts_len - shown,
		    env->hosts_len, why);
		draw_text(ui, y++, 11, ui->cols - 12, line, tags > 1 ? THEME_ROLE_degraded :
		    THEME_ROLE_muted, false);
	}
	drift = model_drift(env, tag, sizeof tag, why, sizeof why);
	snprintf(line, sizeof line, "%s", why);
	if (drift != DRIFT_NONE)
		draw_wrapped(ui, y, 11, y + 2, line,
		    drift == DRIFT_MIGRATOR ? THEME_ROLE_degraded : THEME_ROLE_unhealthy);
	else if (tag[0] && env->tag[0]) {
		snprintf(line, sizeof line, "%s and the running app agree", cfg);
		draw_text(ui, y, 11, ui->cols - 12, line, THEME_ROLE_muted, false);
	} else if (tag[0]) {
		/* nothing to compare with: say so rather than "agree" */
		snprintf(line, sizeof line, "%s names %s; the app has not reported its version", cfg, tag);
		draw_text(ui, y, 11, ui->cols - 12, line, THEME_ROLE_muted, false);
	}
}

/* The deploy lock (a live one first) and the freeze, from whichever hosts hold them; with
 * several hosts, the lock names its host. */
static void draw_detail_deploys(struct ui *ui, int y, const struct env_status *env)
{
	char line[700], age[32];
	enum theme_role role = THEME_ROLE_muted;
	const struct host_status *lock = NULL, *freeze = NULL;
	size_t lock_at = 0, unread = env->hosts_len;
	bool stopped;
	int n = 0;

	if (env->hosts_len == 0)
		return;
	for (size_t i = 0; i < env->hosts_len; i++) {
		const struct host_status *h = &env->hosts[i];

		if (!h->state_known) {
			if (unread == env->hosts_len)
				unread = i;
			continue;
		}
		if (h->lock.held && (!lock || (h->lock.runner_alive && !lock->lock.runner_alive))) {
			lock = h;
			lock_at = i;
		}
		if (h->frozen && !freeze)
			freeze = h;
	}
	draw_text(ui, y, 2, 9, "deploys", THEME_ROLE_header, true);
	line[0] = '\0';
	if (lock && envfmt_rollout_brief(env, "", line, sizeof line, &stopped) &&
	    model_rollout_words(env, line, sizeof line)) {
		/* a rollout in waves: where it stands, who drives it */
		n = (int)strlen(line);
		role = stopped ? THEME_ROLE_unhealthy : THEME_ROLE_degraded;
	} else if (lock && model_unfinished(env, line, sizeof line)) {
		/* a run over several hosts that no host runs now: who carries it on */
		n = (int)strlen(line);
		n += snprintf(line + n, sizeof line - (size_t)n, "   (a: carry it on)");
		role = THEME_ROLE_unhealthy;
	} else if (lock) {
		char step[160] = "";

		envfmt_host_since(lock->host_now, lock->lock.since, age, sizeof age);
		if (lock->lock.runner_alive && !lock->lock_stale)
			envfmt_run_step(&lock->lock, lock->host_now, step, sizeof step);
		n = snprintf(line, sizeof line, "LOCKED%s%s by %s%s: %s%s%s%s", env->hosts_len > 1 ? " on " : "",
		    env->hosts_len > 1 ? env->hosts[lock_at].name : "", lock->lock.owner[0] ?
		    lock->lock.owner : "someone", age, lock->lock.message, step[0] ? ", " : "", step,
		    lock->lock_stale ?
		    "   STALE: its run is gone (h, then U to break it)" : !lock->lock.runner_alive ? "" :
		    lock->lock.run[0] ? "   (a: follow the run)" : "   (its run id is corrupt: not followed)");
		role = lock->lock_stale ? THEME_ROLE_stale : THEME_ROLE_degraded;
	}
	if (freeze && n >= 0 && (size_t)n < sizeof line) {
		envfmt_host_since(freeze->host_now, freeze->freeze_since, age, sizeof age);
		snprintf(line + n, sizeof line - (size_t)n, "%sFROZEN by %s%s: %s (promotions and deploys refused; "
		    "rollbacks allowed)", lock ? "   · " : "", freeze->freeze_by[0] ? freeze->freeze_by :
		    "someone", age, freeze->freeze_reason);
		if (!lock)
			role = THEME_ROLE_degraded;
	}
	if (!lock && !freeze) {
		size_t u = unread < env->hosts_len ? unread : 0;
		enum link_state st = ui_link(ui, env, u, loop_clock_ms()).state;

		char last[300];
		bool bad;

		/* "not locked" only once every host said so; then how the last run went */
		if (unread == env->hosts_len && model_last_run(env, (int64_t)time(NULL), last,
		    sizeof last, &bad)) {
			snprintf(line, sizeof line, "not locked, not frozen · %s   h history", last);
			if (bad)
				role = THEME_ROLE_unhealthy;
		} else if (unread == env->hosts_len) {
			snprintf(line, sizeof line, "not locked, not frozen   p promote  b rollback  h history");
		} else if ((st == LINK_CONNECTING || st == LINK_IDLE || st == LINK_UP) &&
		    !env->hosts[u].deploy_error[0]) {
			snprintf(line, sizeof line, "reading the lock%s%s...", env->hosts_len > 1 ? " on " :
			    "", env->hosts_len > 1 ? env->hosts[u].name : "");
		} else {
			/* every "reading" ends: in the state, or in why it cannot be read */
			snprintf(line, sizeof line, "lock and freeze not known: %s cannot be read (see hosts)",
			    env->hosts[u].name);
			role = THEME_ROLE_unhealthy;
		}
	}
	draw_text(ui, y, 11, ui->cols - 12, line, role, false);
}

/* The pane under the table: everything known about the selected environment. */
static void draw_detail(struct ui *ui, int top, int64_t now)
{
	const struct env_status *env = &ui->app->model->envs[ui->selected];
	const struct conf_env *c = env->conf;
	char line[512], every[16], timeout[16], since[16], checked[32], tag_age[16];
	int x;

	draw_hline(ui, top, 0, ui->cols, THEME_ROLE_border);
	x = 2 + draw_text(ui, top, 2, ui->cols - 4, c->name, THEME_ROLE_header, false);
	draw_text(ui, top, 1, 1, " ", THEME_ROLE_border, false);
	draw_text(ui, top, x, 1, " ", THEME_ROLE_border, false);
	duration_format(c->interval_ms, every, sizeof every);
	duration_format_latency(c->timeout_ms, timeout, sizeof timeout);
	snprintf(line, sizeof line, "%s   every %s, timeout %s", c->url, every, timeout);
	draw_text(ui, top + 1, 2, 9, "url", THEME_ROLE_header, true);
	draw_text(ui, top + 1, 11, ui->cols - 12, line, THEME_ROLE_text, false);
	draw_detail_probe(ui, top + 2, "live", env, PROBE_LIVE, c->health_path);
	draw_detail_probe(ui, top + 3, "ready", env, PROBE_READY, c->ready_path);
	draw_detail_probe(ui, top + 4, "version", env, PROBE_VERSION, c->version_path);
	envfmt_since(env, now, since, sizeof since);
	envfmt_checked(ui->app->model, env, now, checked, sizeof checked);
	if (env->tag[0]) {
		duration_format(now - env->tag_at, tag_age, sizeof tag_age);
		snprintf(line, sizeof line, "%s for %s %s tag %s, read %s%s %s checked %s",
		    model_health_name(env->health), since, draw_glyph(ui, GLYPH_SEP), env->tag, tag_age,
		    tag_age[0] == 'n' ? "" : " ago", draw_glyph(ui, GLYPH_SEP), checked);
	} else {
		snprintf(line, sizeof line, "%s for %s %s no version read yet %s checked %s",
		    model_health_name(env->health), since, draw_glyph(ui, GLYPH_SEP),
		    draw_glyph(ui, GLYPH_SEP), checked);
	}
	draw_text(ui, top + 5, 2, 9, "state", THEME_ROLE_header, true);
	draw_text(ui, top + 5, 11, ui->cols - 12, line, envfmt_health_role(env->health), false);
	if (model_is_stale(ui->app->model, env, now))
		draw_text(ui, top + 6, 11, ui->cols - 12,
		    " STALE: no answer for more than three intervals ", THEME_ROLE_stale, false);
	draw_detail_deploys(ui, top + 7, env);
	draw_detail_hosts(ui, top + DETAIL_ROWS, now);
}

static void dashboard_draw(struct ui *ui, struct view *v, int top, int height)
{
	int64_t now = loop_clock_ms();
	int table_rows = height;
	int detail = DETAIL_ROWS + detail_host_rows(ui, &ui->app->model->envs[ui->selected]);

	if (ui->show_detail && height >= detail + 3)
		table_rows = height - detail;
	draw_table(ui, top, table_rows, now);
	if (table_rows < height)
		draw_detail(ui, top + table_rows, now);
}

static int dashboard_action(struct ui *ui, struct view *v, enum action action)
{
	size_t n = ui->app->model->envs_len;

	switch (action) {
	case ACTION_MOVE_UP:
		if (ui->selected > 0)
			ui->selected--;
		return VIEW_REDRAW;
	case ACTION_MOVE_DOWN:
		if (ui->selected + 1 < n)
			ui->selected++;
		return VIEW_REDRAW;
	case ACTION_MOVE_FIRST:
		ui->selected = 0;
		return VIEW_REDRAW;
	case ACTION_MOVE_LAST:
		ui->selected = n - 1;
		return VIEW_REDRAW;
	case ACTION_DETAIL:
		ui->show_detail = !ui->show_detail;
		return VIEW_REDRAW;
	case ACTION_REFRESH:
		prober_refresh_all(ui->app->prober);
		deploywatch_refresh(ui->app->deploywatch);
		registrywatch_refresh(ui->app->registrywatch);
		ui_message(ui, false, "checking %zu environment%s now", n, n == 1 ? "" : "s");
		return VIEW_REDRAW;
	case ACTION_LOG_APP:
	case ACTION_LOG_MIGRATOR:
		ui_request(ui, &(struct view_request){ .kind = REQUEST_LOG, .env = ui->selected,
		    .source = action == ACTION_LOG_APP ? LOG_APP : LOG_MIGRATOR });
		return VIEW_REDRAW;
	case ACTION_PROMOTE:
		ui_request(ui, &(struct view_request){ .kind = REQUEST_PLAN, .env = ui->selected,
		    .deploy_kind = DEPLOY_PROMOTE });
		return VIEW_REDRAW;
	case ACTION_ROLLBACK:
	case ACTION_HISTORY:
		/* a rollback starts from the history: the tag to go back to is picked there */
		ui_request(ui, &(struct view_request){ .kind = REQUEST_HISTORY, .env = ui->selected });
		if (action == ACTION_ROLLBACK)
			ui_message(ui, false, "pick a run that succeeded and press b to roll back to its tag");
		return VIEW_REDRAW;
	case ACTION_ATTACH:
		ui_request(ui, &(struct view_request){ .kind = REQUEST_ATTACH, .env = ui->selected });
		return VIEW_REDRAW;
	case ACTION_FLEET:
		ui_request(ui, &(struct view_request){ .kind = REQUEST_FLEET, .env = ui->selected });
		return VIEW_REDRAW;
	case ACTION_EMERGENCY:
		ui_request(ui, &(struct view_request){ .kind = REQUEST_EMERGENCY, .env = ui->selected });
		return VIEW_REDRAW;
	default:
		return VIEW_UNHANDLED;
	}
}

const struct view_ops dashboard_view_ops = {
	.name = "dashboard",
	.draw = dashboard_draw,
	.action = dashboard_action,
	.overlay = false,
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_MOVE_UP, ACTION_MOVE_DOWN, "select" },
		{ ACTION_DETAIL, 0, "detail" }, { ACTION_REFRESH, 0, "refresh" },
		{ ACTION_QUIT, 0, "quit" }, { 0 },
	},
};
