/* The log pane: an environment's live app or migrator log, followed, searched, filtered. */
#include "config.h"

#include "draw.h"
#include "logstream.h"
#include "palette.h"
#include "prompt.h"
#include "ui.h"
#include "view.h"
#include "views.h"
#include "xmalloc.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INPUT_MAX 120

struct logview {
	struct logstream *ls;
	size_t env;
	int source;
	uint64_t anchor;                /* seq of the bottom line shown; 0: following the end */
	bool wrap;
	char search[INPUT_MAX + 1];
	char filter[INPUT_MAX + 1];
	int prompt;                     /* '/' or '&' while a text is typed, else 0 */
	struct prompt input;            /* the search or filter being typed */
	int rows;                       /* text rows at the last draw, for paging */
};

static void stream_changed(void *arg)
{
	((struct ui *)arg)->dirty = true;
}

void logview_open(struct ui *ui, int source, size_t unit)
{
	struct env_status *env = &ui->app->model->envs[ui->selected];
	const struct target *t = app_target(ui->app, env->conf);
	size_t *units;
	struct logview *lv;

	if (env->hosts_len == 0) {
		ui_message(ui, true, "%s has no hosts: add hosts and deploy_dir to it in gantry.yml (see gantry.yml(5))",
		    env->conf->name);
		return;
	}
	{
		int open = ui_find_view(ui, &logview_view_ops, ui->selected, source + 2 * (int)unit);

		if (open >= 0) {
			/* open already: go back to it, with what it gathered meanwhile */
			ui_raise_view(ui, open);
			return;
		}
	}
	lv = xcalloc(1, sizeof *lv);
	units = xcalloc(env->hosts_len, sizeof *units);
	for (size_t i = 0; i < env->hosts_len; i++)
		units[i] = i;
	if (unit > env->hosts_len)
		unit = 0;
	lv->env = ui->selected;
	lv->source = source;
	lv->ls = logstream_new(t, unit ? units + unit - 1 : units, unit ? 1 : env->hosts_len,
	    (enum log_source)source, true);
	free(units);
	logstream_set_listener(lv->ls, stream_changed, ui);
	ui_push_view(ui, &logview_view_ops, lv, lv->env, source + 2 * (int)unit);
}

/* True when a line is shown under the filter (gantry's own marks always are). */
static bool shown(const struct logview *lv, const struct log_line *l)
{
	return l->kind == LOG_MARK || !lv->filter[0] || strcasestr(l->text, lv->filter) != NULL;
}

static bool matches(const struct logview *lv, const struct log_line *l)
{
	return lv->search[0] && l->kind != LOG_MARK && strcasestr(l->text, lv->search) != NULL;
}

/* The index of the bottom line to show. */
static size_t bottom_index(const struct logview *lv)
{
	const struct logbuf *b = lv->ls->buf;

	return lv->anchor == 0 ? b->len - 1 : logbuf_index_of(b, lv->anchor);
}

/* The host prefix of a line ("prod-1 | "), or "" with one host. */
static const char *prefix_of(const struct logview *lv, const struct log_line *l)
{
	if (lv->ls->hosts_len < 2)
		return NULL;
	return logstream_unit_name(lv->ls, l->host);
}

/* Draws bytes [from, to) of a line at (y, x), search matches highlighted. */
static int draw_highlighted(struct ui *ui, const struct logview *lv, int y, int x, const char *text,
    size_t from, size_t to, attr_t attr, attr_t match_attr)
{
	size_t slen = strlen(lv->search), p = from;
	int cols = 0;

	while (p < to) {
		const char *m = lv->search[0] ? strcasestr(text + (p >= slen ? p - slen + 1 : 0), lv->search) : NULL;
		size_t ms, me;

		while (m && (size_t)(m - text) + slen <= p)
			m = strcasestr(m + 1, lv->search);
		if (!m || (size_t)(m - text) >= to) {
			cols += draw_bytes(ui, y, x + cols, text + p, to - p, attr);
			break;
		}
		ms = (size_t)(m - text) > p ? (size_t)(m - text) : p;
		me = (size_t)(m - text) + slen < to ? (size_t)(m - text) + slen : to;
		if (ms > p)
			cols += draw_bytes(ui, y, x + cols, text + p, ms - p, attr);
		cols += draw_bytes(ui, y, x + cols, text + ms, me - ms, match_attr);
		p = me;
	}
	return cols;
}

/* Rows a line takes at this width. */
static int line_rows(struct ui *ui, const struct logview *lv, const struct log_line *l, int width)
{
	int w;

	if (!lv->wrap || width <= 0)
		return 1;
	w = draw_width(l->text);
	return w <= width ? 1 : (w + width - 1) / width;
}

/* Draws a line from row y on; rows above min_y (a wrapped line cut by the top) are skipped. */
static void draw_line(struct ui *ui, const struct logview *lv, const struct log_line *l, int y,
    int rows, int prefix_w, int min_y)
{
	const char *who = prefix_of(lv, l);
	attr_t attr = palette_attr(l->kind == LOG_MARK ? THEME_ROLE_degraded : THEME_ROLE_text);
	/* the current match (the line a search moved to) stands out from the other matches */
	bool current = lv->search[0] && lv->anchor && l->seq == lv->anchor;
	attr_t match_attr = current ? palette_attr(THEME_ROLE_selected) | A_BOLD :
	    palette_attr(THEME_ROLE_key) | A_UNDERLINE;
	int width = ui->cols - prefix_w;
	size_t p = 0;

	for (int r = 0; r < rows; r++) {
		int cols;
		size_t n;

		n = draw_fit(ui, l->text + p, l->len - p, lv->wrap ? width : width - 1, &cols);
		if (n == 0)
			break;
		if (y + r < min_y) {
			p += n;
			continue;
		}
		if (who && (r == 0 || y == min_y)) {
			draw_text(ui, y + r, 0, prefix_w - 2, who, THEME_ROLE_muted, true);
			draw_text(ui, y + r, prefix_w - 2, 2, "| ", THEME_ROLE_border, false);
		}
		draw_highlighted(ui, lv, y + r, prefix_w, l->text, p, p + n, attr, match_attr);
		p += n;
		if (!lv->wrap && p < l->len)
			draw_text(ui, y + r, ui->cols - 1, 1, draw_glyph(ui, GLYPH_ELLIPSIS), THEME_ROLE_muted, false);
		if (p >= l->len)
			break;
	}
}

/* The width of the host column: with several hosts, the longest name and " | ". */
static int prefix_width(const struct ui *ui, const struct logview *lv)
{
	int prefix_w = 0;

	if (lv->ls->hosts_len <= 1)
		return 0;
	for (size_t i = 0; i < lv->ls->hosts_len; i++) {
		int w = draw_width(logstream_unit_name(lv->ls, i));

		if (w + 3 > prefix_w)
			prefix_w = w + 3;
	}
	return prefix_w > ui->cols / 3 ? ui->cols / 3 : prefix_w;
}

/* The lines that fit in text_rows rows from row top + 1: from the bottom one up. */
static void draw_lines(struct ui *ui, struct logview *lv, int top, int text_rows, int prefix_w)
{
	const struct logbuf *b = lv->ls->buf;
	size_t bottom = bottom_index(lv), i = bottom + 1, first = i;
	int used = 0, y;

	while (i > 0 && used < text_rows) {
		const struct log_line *l = logbuf_get(b, --i);

		if (!shown(lv, l))
			continue;
		used += line_rows(ui, lv, l, ui->cols - prefix_w);
		first = i;
	}
	/* scrolled back to the oldest lines: the pane stays full, the bottom moves down
	 * (a pane never shows blank rows while there are lines to show) */
	while (used < text_rows && lv->anchor && bottom + 1 < b->len) {
		const struct log_line *l = logbuf_get(b, ++bottom);

		if (shown(lv, l))
			used += line_rows(ui, lv, l, ui->cols - prefix_w);
	}
	if (lv->anchor)
		lv->anchor = logbuf_get(b, bottom)->seq;
	if (used == 0) {
		/* from the bottom up and down to the end, no line is shown: the filter */
		char none[INPUT_MAX + 80];

		snprintf(none, sizeof none, "no line holds \"%s\" (& then Enter alone shows every "
		    "line)", lv->filter);
		draw_text(ui, top + 1, 2, ui->cols - 4, none, THEME_ROLE_muted, false);
	}
	/* the bottom line ends on the last text row; a cut line starts above the pane */
	y = top + 1 + (text_rows - used);
	for (size_t idx = first; idx <= bottom; idx++) {
		const struct log_line *l = logbuf_get(b, idx);
		int rows;

		if (!shown(lv, l))
			continue;
		rows = line_rows(ui, lv, l, ui->cols - prefix_w);
		if (y + rows > top + 1)
			draw_line(ui, lv, l, y, rows, prefix_w, top + 1);
		y += rows;
	}
}

/* No line yet: a host that refused us says why, in full (fingerprint, fix). */
static void draw_no_lines(struct ui *ui, const struct logview *lv, int top, int text_rows)
{
	int yy = top + 1;

	for (size_t i = 0; i < lv->ls->hosts_len && yy < top + text_rows; i++) {
		struct link_status link;

		logstream_unit_link(lv->ls, i, loop_clock_ms(), &link);
		if (link.state == LINK_IDLE || link.state == LINK_CONNECTING ||
		    link.state == LINK_UP || !link.message[0])
			continue;
		yy = draw_wrapped(ui, yy, 2, top + 1 + text_rows, link.message, THEME_ROLE_error) + 1;
	}
	if (yy == top + 1)
		draw_text(ui, top + 1, 2, ui->cols - 4, "no lines yet", THEME_ROLE_muted, false);
}

/* The status line at row y: the stream's real state (an ended one is not "following"),
 * the counts, the filter, the search and wrap. */
static void draw_status(struct ui *ui, const struct logview *lv, const struct env_status *env,
    int y)
{
	const struct logbuf *b = lv->ls->buf;
	enum logstream_state st = logstream_state(lv->ls);
	char what[64], head[700];
	int n;

	if (st == LS_ENDED || st == LS_STOPPED) {
		int code = logstream_exit_status(lv->ls);
		char how[24];

		if (code < 0)
			snprintf(how, sizeof how, "killed");
		else
			snprintf(how, sizeof how, "exit %d", code);
		snprintf(what, sizeof what, "ENDED (%s; r starts it again)%s", how,
		    lv->anchor ? ", scrolled back" : "");
	} else if (st == LS_RECONNECTING) {
		snprintf(what, sizeof what, "RECONNECTING%s", lv->anchor ? ", PAUSED (f follows)" : "");
	} else {
		snprintf(what, sizeof what, "%s", lv->anchor ? "PAUSED (f follows)" : "FOLLOWING");
	}
	n = snprintf(head, sizeof head, " %s %s %zu lines", what, draw_glyph(ui, GLYPH_SEP), b->len);
	if (b->dropped && n > 0)
		n += snprintf(head + n, sizeof head - (size_t)n, ", %llu older dropped (scrollback %lld)",
		    (unsigned long long)b->dropped, (long long)env->conf->scrollback);
	if (lv->filter[0] && n > 0)
		n += snprintf(head + n, sizeof head - (size_t)n, " %s filter: %s", draw_glyph(ui, GLYPH_SEP),
		    lv->filter);
	if (lv->search[0] && n > 0)
		n += snprintf(head + n, sizeof head - (size_t)n, " %s search: %s", draw_glyph(ui, GLYPH_SEP),
		    lv->search);
	if (n > 0)
		snprintf(head + n, sizeof head - (size_t)n, " %s wrap %s", draw_glyph(ui, GLYPH_SEP),
		    lv->wrap ? "on" : "off");
	draw_text(ui, y, 0, ui->cols, head, lv->anchor || st != LS_LIVE ? THEME_ROLE_degraded :
	    THEME_ROLE_border, false);
}

static void logview_draw(struct ui *ui, struct view *v, int top, int height)
{
	struct logview *lv = v->data;
	const struct env_status *env = &ui->app->model->envs[lv->env];
	int text_rows = height - 2, y;
	char head[700], state[500];

	/* the header: what this is and how the stream is doing */
	logstream_describe(lv->ls, loop_clock_ms(), state, sizeof state);
	snprintf(head, sizeof head, " %s %s log %s %s ", env->conf->name,
	    conf_log_source_name((enum log_source)lv->source), draw_glyph(ui, GLYPH_SEP), state);
	draw_fill(top, 0, ui->cols, THEME_ROLE_header);
	draw_text(ui, top, 0, ui->cols, head,
	    logstream_state(lv->ls) == LS_LIVE ? THEME_ROLE_header : THEME_ROLE_degraded, false);
	lv->rows = text_rows;
	if (lv->ls->buf->len > 0 && text_rows > 0)
		draw_lines(ui, lv, top, text_rows, prefix_width(ui, lv));
	else if (text_rows > 0)
		draw_no_lines(ui, lv, top, text_rows);
	/* the status line, or the prompt being typed */
	y = top + height - 1;
	draw_fill(y, 0, ui->cols, THEME_ROLE_border);
	if (lv->prompt) {
		snprintf(head, sizeof head, "%s%s_", lv->prompt == '/' ? "search: " : "filter: ",
		    lv->input.text);
		draw_text(ui, y, 1, ui->cols - 2, head, THEME_ROLE_text, true);
		return;
	}
	draw_status(ui, lv, env, y);
}

/* From index `from`, `n` shown lines on in direction dir (-1 up, +1 down); the index reached. */
static size_t step(const struct logview *lv, size_t from, int n, int dir)
{
	const struct logbuf *b = lv->ls->buf;
	size_t i = from;

	while (n > 0) {
		if (dir < 0 ? i == 0 : i + 1 >= b->len)
			break;
		i = dir < 0 ? i - 1 : i + 1;
		if (shown(lv, logbuf_get(b, i)))
			n--;
	}
	return i;
}

/* Moves the bottom of the pane to index i (the end resumes following). */
static void move_to(struct logview *lv, size_t i)
{
	const struct logbuf *b = lv->ls->buf;

	lv->anchor = i + 1 >= b->len ? (lv->anchor ? logbuf_get(b, b->len - 1)->seq : 0) : logbuf_get(b, i)->seq;
}

/* The next match from index `from` in direction dir, not counting `from` itself. */
static bool find(struct ui *ui, struct logview *lv, size_t from, int dir, bool include_from)
{
	const struct logbuf *b = lv->ls->buf;
	size_t i = from;

	if (b->len == 0)
		return false;
	if (include_from && matches(lv, logbuf_get(b, i)) && shown(lv, logbuf_get(b, i))) {
		lv->anchor = logbuf_get(b, i)->seq;
		ui_message_clear(ui);       /* a "no match" from before no longer holds */
		return true;
	}
	for (;;) {
		if (dir < 0 ? i == 0 : i + 1 >= b->len)
			break;
		i = dir < 0 ? i - 1 : i + 1;
		if (matches(lv, logbuf_get(b, i)) && shown(lv, logbuf_get(b, i))) {
			lv->anchor = logbuf_get(b, i)->seq;
			ui_message_clear(ui);
			return true;
		}
	}
	ui_message(ui, true, "\"%s\": no %s match", lv->search, dir < 0 ? "older" : "newer");
	return false;
}

/* Writes the scrollback to a file of its own in the current directory. */
static void save(struct ui *ui, struct logview *lv)
{
	const struct logbuf *b = lv->ls->buf;
	char path[256], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	int fd = -1;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	/* private (0600), never over another file: a second save in the same second gets -2 */
	for (int n = 1; n <= 100 && fd < 0; n++) {
		snprintf(path, sizeof path, "gantry-%s-%s-%s%s%.0d.log",
		    ui->app->model->envs[lv->env].conf->name,
		    conf_log_source_name((enum log_source)lv->source), stamp, n > 1 ? "-" : "", n > 1 ? n : 0);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		ui_message(ui, true, "cannot save to %s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < b->len; i++) {
		const struct log_line *l = logbuf_get(b, i);
		const char *who = prefix_of(lv, l);

		if (who)
			fprintf(f, "%s | ", who);
		fprintf(f, "%s\n", l->text);
	}
	if (fclose(f) != 0) {
		ui_message(ui, true, "cannot save to %s: %s", path, strerror(errno));
		return;
	}
	ui_message(ui, false, "saved %zu lines to %s", b->len, path);
}

static int logview_action(struct ui *ui, struct view *v, enum action action)
{
	struct logview *lv = v->data;
	const struct logbuf *b = lv->ls->buf;
	size_t bottom = b->len ? bottom_index(lv) : 0;

	switch (action) {
	case ACTION_CLOSE:
	case ACTION_QUIT:
		return VIEW_CLOSE;
	case ACTION_HELP:
		return VIEW_UNHANDLED;
	case ACTION_REFRESH:
		logstream_restart(lv->ls);
		return VIEW_REDRAW;
	case ACTION_FOLLOW:
		lv->anchor = lv->anchor || b->len == 0 ? 0 : logbuf_get(b, b->len - 1)->seq;
		return VIEW_REDRAW;
	case ACTION_WRAP:
		lv->wrap = !lv->wrap;
		return VIEW_REDRAW;
	case ACTION_SEARCH:
	case ACTION_FILTER:
		/* typed afresh; Enter on nothing repeats the search, or clears the filter */
		lv->prompt = action == ACTION_SEARCH ? '/' : '&';
		prompt_open(&lv->input, INPUT_MAX);
		return VIEW_REDRAW;
	case ACTION_SEARCH_NEXT:
	case ACTION_SEARCH_PREV:
		if (!lv->search[0]) {
			ui_message(ui, false, "no search yet: / starts one");
			return VIEW_REDRAW;
		}
		find(ui, lv, bottom, action == ACTION_SEARCH_NEXT ? -1 : 1, false);
		return VIEW_REDRAW;
	case ACTION_SAVE:
		save(ui, lv);
		return VIEW_REDRAW;
	default:
		break;
	}
	if (b->len == 0)
		return VIEW_HANDLED;
	switch (action) {
	case ACTION_MOVE_UP:
		move_to(lv, step(lv, bottom, 1, -1));
		if (lv->anchor == 0)
			lv->anchor = logbuf_get(b, bottom)->seq;
		return VIEW_REDRAW;
	case ACTION_MOVE_DOWN:
		move_to(lv, step(lv, bottom, 1, 1));
		return VIEW_REDRAW;
	case ACTION_PAGE_UP:
		move_to(lv, step(lv, bottom, lv->rows > 1 ? lv->rows - 1 : 1, -1));
		if (lv->anchor == 0)
			lv->anchor = logbuf_get(b, bottom)->seq;
		return VIEW_REDRAW;
	case ACTION_PAGE_DOWN:
		move_to(lv, step(lv, bottom, lv->rows > 1 ? lv->rows - 1 : 1, 1));
		return VIEW_REDRAW;
	case ACTION_MOVE_FIRST:
		/* the oldest line at the top */
		lv->anchor = logbuf_get(b, step(lv, 0, lv->rows - 1, 1))->seq;
		return VIEW_REDRAW;
	case ACTION_MOVE_LAST:
		lv->anchor = 0;
		return VIEW_REDRAW;
	default:
		/* the pane is modal: nothing reaches the dashboard below */
		return VIEW_HANDLED;
	}
}

/* Typing a search or a filter: printable keys, Backspace, Enter, Esc. */
static bool logview_key(struct ui *ui, struct view *v, int ch)
{
	struct logview *lv = v->data;
	int which;

	if (!lv->prompt)
		return false;
	switch (prompt_key(&lv->input, ch)) {
	case PROMPT_CANCELLED:
		lv->prompt = 0;
		break;
	case PROMPT_DONE:
		which = lv->prompt;
		lv->prompt = 0;
		if (which == '/') {
			if (lv->input.len)
				snprintf(lv->search, sizeof lv->search, "%s", lv->input.text);
			if (lv->search[0] && lv->ls->buf->len)
				find(ui, lv, bottom_index(lv), -1, true);
		} else {
			snprintf(lv->filter, sizeof lv->filter, "%s", lv->input.text);
		}
		break;
	case PROMPT_TYPING:
		break;
	}
	return true;
}

static void logview_leave(struct ui *ui, struct view *v)
{
	struct logview *lv = v->data;

	/* the log commands stop: their channels close, and the runner on each host ends the
	 * command's whole process group */
	logstream_free(lv->ls);
	free(lv);
	v->data = NULL;
}

const struct view_ops logview_view_ops = {
	.name = "log",
	.draw = logview_draw,
	.action = logview_action,
	.overlay = false,
	.key = logview_key,
	.leave = logview_leave,
	.hints = (const struct action_hint[]){
		{ ACTION_HELP, 0, "help" }, { ACTION_SEARCH, 0, "search" },
		{ ACTION_SEARCH_NEXT, ACTION_SEARCH_PREV, "older/newer" }, { ACTION_FILTER, 0, "filter" },
		{ ACTION_FOLLOW, 0, "follow" }, { ACTION_WRAP, 0, "wrap" }, { ACTION_SAVE, 0, "save" },
		{ ACTION_REFRESH, 0, "restart" }, { ACTION_CLOSE, 0, "close" }, { 0 },
	},
};
