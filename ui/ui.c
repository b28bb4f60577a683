/* The terminal side of gantry: curses set up and torn down, views stacked, one draw per frame.
 *
 * Everything waits in the core's loop: keys arrive through a stdin watcher, resizes
 * and termination signals through loop_signal, probe results through the prober's
 * callback. Handlers only mark the screen dirty; the screen is drawn once per turn. */
#include "config.h"

#include "ui.h"
#include "views.h"
#include "draw.h"
#include "exitcode.h"
#include "palette.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <curses.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define UI_TICK_MS 1000
#define UI_MESSAGE_MS 5000

static bool curses_active;

/* Puts the terminal back as it was; safe to call twice, and from die(). */
static void ui_restore_terminal(void)
{
	if (curses_active) {
		curses_active = false;
		endwin();
	}
}

/* SEGV, BUS, ABRT, FPE: the terminal is put back before the process dies of the same
 * signal (with a core where the system allows one), so the shell is usable again. */
static void ui_fatal_signal(int signo)
{
	static const char head[] = "\r\ngantry: killed by ";
	static const char tail[] = "; the terminal was restored. This is a bug: please report "
	    "what you were doing.\r\n";
	const char *name = signo == SIGSEGV ? "SIGSEGV (invalid memory access)" :
	    signo == SIGBUS ? "SIGBUS (bus error)" : signo == SIGABRT ? "SIGABRT (abort)" :
	    "SIGFPE (arithmetic error)";
	ssize_t ignored;

	if (curses_active) {
		/* not async-signal-safe, but the process is dying and a raw terminal is worse */
		curses_active = false;
		endwin();
	}
	ignored = write(STDERR_FILENO, head, sizeof head - 1);
	ignored = write(STDERR_FILENO, name, strlen(name));
	ignored = write(STDERR_FILENO, tail, sizeof tail - 1);
	(void)ignored;
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Installs ui_fatal_signal, on a stack of its own so a stack overflow reaches it too. */
static void ui_catch_fatal_signals(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ui_fatal_signal;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
		sigaction(fatal[i], &sa, NULL);
}

void ui_message_clear(struct ui *ui)
{
	ui->message[0] = '\0';
	ui->dirty = true;
}

void ui_message(struct ui *ui, bool error, const char *fmt, ...)
{
	char raw[sizeof ui->message];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize_text(raw, strlen(raw), ui->message, sizeof ui->message, 0);
	ui->message_is_error = error;
	ui->message_until = loop_clock_ms() + UI_MESSAGE_MS;
	ui->dirty = true;
}

bool ui_push_view(struct ui *ui, const struct view_ops *ops, void *data, size_t env, int kind)
{
	struct view *v;

	if (ui->nviews >= UI_MAX_VIEWS) {
		struct view gone = { ops, data, env, kind };

		if (ops->leave)
			ops->leave(ui, &gone);
		ui_message(ui, true, "%d panes are open: close one (Esc) before opening %s", ui->nviews,
		    ops->name);
		return false;
	}
	v = &ui->views[ui->nviews++];
	*v = (struct view){ .ops = ops, .data = data, .env = env, .kind = kind };
	ui->dirty = true;
	return true;
}

int ui_find_view(const struct ui *ui, const struct view_ops *ops, size_t env, int kind)
{
	for (int i = ui->nviews - 1; i >= 0; i--)
		if (ui->views[i].ops == ops && ui->views[i].env == env && ui->views[i].kind == kind)
			return i;
	return -1;
}

int ui_view_index(const struct ui *ui, const struct view *v)
{
	return (int)(v - ui->views);
}

/* Pops views down to `depth`, letting each free what it holds. */
static void ui_pop_to(struct ui *ui, int depth)
{
	while (ui->nviews > depth) {
		struct view v = ui->views[--ui->nviews];

		/* off the stack before it runs: a leave that opens or closes views sees it gone */
		memset(&ui->views[ui->nviews], 0, sizeof ui->views[0]);
		if (v.ops->leave)
			v.ops->leave(ui, &v);
	}
	ui->dirty = true;
}

void ui_close_views_from(struct ui *ui, int index)
{
	if (index >= 1)
		ui_pop_to(ui, index);
}

void ui_raise_view(struct ui *ui, int index)
{
	struct view *v;

	if (index < 0 || index >= ui->nviews)
		return;
	ui_pop_to(ui, index + 1);
	v = &ui->views[index];
	if (v->ops->resume)
		v->ops->resume(ui, v);
	ui->dirty = true;
}

/* The title bar: project, badge, clock. */
static void ui_draw_title(struct ui *ui)
{
	const struct model *m = ui->app->model;
	char right[80], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	int rw, badges, x;

	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	draw_fill(0, 0, ui->cols, THEME_ROLE_title);
	x = 1 + draw_text(ui, 0, 1, ui->cols / 2, "gantry", THEME_ROLE_title, false);
	x += draw_text(ui, 0, x, 3, " ", THEME_ROLE_title, false);
	x += draw_text(ui, 0, x, 2, draw_glyph(ui, GLYPH_SEP), THEME_ROLE_title, false);
	x += draw_text(ui, 0, x, 3, " ", THEME_ROLE_title, false);
	x += draw_text(ui, 0, x, ui->cols / 2 - x, ui->app->conf->project, THEME_ROLE_title, false);
	/* how long the last sweep of them all took: the refresh cycle, as measured here */
	if (m->sweep_ms >= 0)
		snprintf(right, sizeof right, "%zu env%s checked in %lld ms  %s ", m->envs_len,
		    m->envs_len == 1 ? "" : "s", (long long)m->sweep_ms, clock);
	else
		snprintf(right, sizeof right, "%zu env%s  %s ", m->envs_len, m->envs_len == 1 ? "" : "s",
		    clock);
	rw = draw_width(right);
	badges = rw;
	if (ui->read_only) {
		int bx = ui->cols - rw - 12;

		if (bx < x + 1)
			bx = x + 1;
		draw_text(ui, 0, bx, 11, " READ-ONLY ", THEME_ROLE_badge, false);
		badges += 12;
	}
	/* a registry that does not answer: promotions and rollbacks would fail */
	if (m->registry.health == REGISTRY_DOWN && ui->cols - badges - 17 > x + 1)
		draw_text(ui, 0, ui->cols - badges - 17, 16, " REGISTRY DOWN ", THEME_ROLE_error, false);
	if (ui->cols - rw > x + 12)
		draw_text(ui, 0, ui->cols - rw, rw, right, THEME_ROLE_title, false);
}

/* The footer: a message, or the keys that matter most. */
static void ui_draw_footer(struct ui *ui)
{
	int y = ui->rows - 1;
	const struct action_hint *table = NULL;
	char hints[300];

	if (ui->nviews > 0)
		table = ui->views[ui->nviews - 1].ops->hints ? ui->views[ui->nviews - 1].ops->hints :
		    ui->views[0].ops->hints;
	action_hints(table, ui->ascii, ui->read_only, hints, sizeof hints);
	if (ui->read_only && strlen(hints) + 40 < sizeof hints)
		strcat(hints, "   read-only: no changes can be made");
	draw_fill(y, 0, ui->cols, THEME_ROLE_footer);
	if (ui->message[0] && loop_clock_ms() < ui->message_until)
		draw_text(ui, y, 1, ui->cols - 2, ui->message,
		    ui->message_is_error ? THEME_ROLE_error : THEME_ROLE_footer, false);
	else
		draw_text(ui, y, 0, ui->cols, hints, THEME_ROLE_footer, false);
}

/* Draws the whole screen once. */
static void ui_draw(struct ui *ui)
{
	int first = 0;

	erase();
	if (ui->cols < UI_MIN_COLS || ui->rows < UI_MIN_ROWS) {
		char msg[64];

		snprintf(msg, sizeof msg, "too small: %dx%d, need %dx%d", ui->cols, ui->rows,
		    UI_MIN_COLS, UI_MIN_ROWS);
		draw_text(ui, ui->rows / 2, 0, ui->cols, msg, THEME_ROLE_error, false);
		refresh();
		return;
	}
	ui_draw_title(ui);
	/* the topmost full view and every overlay above it */
	for (int i = ui->nviews - 1; i >= 0; i--) {
		if (!ui->views[i].ops->overlay) {
			first = i;
			break;
		}
	}
	for (int i = first; i < ui->nviews; i++)
		ui->views[i].ops->draw(ui, &ui->views[i], 1, ui->rows - 2);
	ui_draw_footer(ui);
	refresh();
}

/* Runs one action: the read-only gate first, then the views from the top down. */
static void ui_dispatch(struct ui *ui, enum action action)
{
	const struct action_info *info = action_get(action);

	if (!action_allowed(action, ui->read_only)) {
		ui_message(ui, true, "read-only: %s is disabled; this gantry cannot change anything",
		    info->name);
		return;
	}
	for (int i = ui->nviews - 1; i >= 0; i--) {
		/* the handler may close its own view (ui_close_views_from): views[i] is not
		 * read again after it returns, except to pop it on VIEW_CLOSE */
		bool overlay = ui->views[i].ops->overlay;
		int r = ui->views[i].ops->action(ui, &ui->views[i], action);

		if (r & VIEW_REDRAW)
			ui->dirty = true;
		if ((r & VIEW_CLOSE) && i < ui->nviews) {
			ui_pop_to(ui, i);
			/* back on a pane: it shows what happened while it was covered */
			if (!overlay && i > 0 && ui->views[i - 1].ops->resume)
				ui->views[i - 1].ops->resume(ui, &ui->views[i - 1]);
		}
		if (r & VIEW_QUIT)
			ui->quit = true;
		if (r != VIEW_UNHANDLED)
			return;
	}
	switch (action) {
	case ACTION_QUIT:
		ui->quit = true;
		break;
	case ACTION_HELP:
		help_open(ui);
		break;
	case ACTION_REDRAW:
		clearok(curscr, TRUE);
		ui->dirty = true;
		break;
	default:
		/* no pane took it: say so, and where it works (its help line says) */
		ui_message(ui, false, "%s does nothing here: %s", info->name, info->help);
		break;
	}
}

void ui_request(struct ui *ui, const struct view_request *req)
{
	ui->request = *req;
}

/* What a view asked to open, opened now that its handler has returned. */
static void ui_run_request(struct ui *ui)
{
	struct view_request r = ui->request;

	if (r.kind == REQUEST_NONE)
		return;
	ui->request.kind = REQUEST_NONE;
	if (r.env < ui->app->model->envs_len)
		ui->selected = r.env;
	switch (r.kind) {
	case REQUEST_LOG:
		logview_open(ui, r.source, r.unit);
		break;
	case REQUEST_FLEET:
		fleetview_open(ui);
		break;
	case REQUEST_PLAN:
		deployview_open(ui, r.deploy_kind, r.tag[0] ? r.tag : NULL);
		break;
	case REQUEST_ATTACH:
		deployview_attach(ui, ui->selected);
		break;
	case REQUEST_HISTORY:
		historyview_push(ui);
		break;
	case REQUEST_EMERGENCY:
		if (r.reason[0])
			deployview_emergency(ui, r.reason);
		else
			reasonview_open(ui);
		break;
	case REQUEST_NONE:
		break;
	}
	ui->dirty = true;
}

/* Keys are ready on stdin: read every one without waiting. */
static void ui_keys_ready(struct loop *loop, int fd, int revents, void *arg)
{
	struct ui *ui = arg;
	int ch;

	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		/* the terminal went away: nobody is left to look */
		ui->quit = true;
		return;
	}
	while ((ch = getch()) != ERR) {
		enum action action;

		if (ch == KEY_RESIZE) {
			getmaxyx(stdscr, ui->rows, ui->cols);
			ui->dirty = true;
			continue;
		}
		if (ui->nviews > 0 && ui->views[ui->nviews - 1].ops->key &&
		    ui->views[ui->nviews - 1].ops->key(ui, &ui->views[ui->nviews - 1], ch)) {
			ui->dirty = true;
			ui_run_request(ui);     /* a prompt that ended may ask for a view */
			continue;
		}
		action = action_for_key(ch);
		if (action != ACTION_NONE)
			ui_dispatch(ui, action);
		ui_run_request(ui);
		if (ui->quit)
			return;
	}
}

/* SIGWINCH: take the new size and draw everything again. */
static void ui_resized(struct loop *loop, int signo, void *arg)
{
	struct ui *ui = arg;
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, ui->rows, ui->cols);
	clearok(curscr, TRUE);
	ui->dirty = true;
}

/* SIGINT (C-c), SIGTERM, SIGHUP: leave through the normal path so the terminal is
 * restored, and exit 128 + the signal's number, as a shell reports a killed command. */
static void ui_terminate(struct loop *loop, int signo, void *arg)
{
	struct ui *ui = arg;

	ui->quit = true;
	ui->quit_signal = signo;
}

/* Once a second: ages move, staleness appears, messages expire. */
static void ui_tick(struct loop *loop, void *arg)
{
	struct ui *ui = arg;

	ui->dirty = true;
	loop_timer_add(loop, UI_TICK_MS, ui_tick, ui);
}

/* A host's connection, deploy.env or lock changed. At start, a run in progress on an
 * environment (on any of its hosts), or one over several hosts left unfinished under its
 * lease, opens its pane, attached (once): the pane carries an unfinished run on. */
static void ui_hosts_changed(void *arg)
{
	struct ui *ui = arg;
	const struct model *m = ui->app->model;
	bool all_known = true;

	ui->dirty = true;
	if (ui->attach_checked || ui->read_only)
		return;
	for (size_t i = 0; i < m->envs_len; i++) {
		const struct env_status *env = &m->envs[i];

		if (env->hosts_len == 0)
			continue;
		for (size_t j = 0; j < env->hosts_len; j++) {
			const struct host_lock *lock = &env->hosts[j].lock;

			if (!env->hosts[j].state_known) {
				all_known = false;
				continue;
			}
			/* a lock whose run id is not one gantry writes is never followed */
			if (!lock->held || !lock->run[0] || ui->nviews != 1 ||
			    !(lock->runner_alive || lock->leased))
				continue;
			{
				/* a rollout another gantry drives is its to show: F, not a pane */
				struct rollout_status rs;

				model_rollout(env, &rs, NULL);
				if (rs.active && rs.driven)
					continue;
			}
			ui->attach_checked = true;
			deployview_attach(ui, i);
			ui_message(ui, false, lock->runner_alive ? "a run is in progress on %s: "
			    "following it (Esc closes)" : "a run over %s's hosts was left unfinished: "
			    "carrying it on (Esc stops following)", env->conf->name);
			return;
		}
	}
	if (all_known)
		ui->attach_checked = true;
}

/* A unit's link changed (BUS_LINK_CHANGED): its rows change. */
static void ui_link_changed(void *arg, const struct bus_event *ev)
{
	(void)ev;
	((struct ui *)arg)->dirty = true;
}

struct link_status ui_link(const struct ui *ui, const struct env_status *env, size_t j,
    int64_t now)
{
	const struct target *t = app_target(ui->app, env->conf);
	struct link_status link;

	t->ops->link(t, j, now, &link);
	return link;
}

/* The prober finished a round: the screen changes. */
static void ui_model_changed(size_t env_index, void *arg)
{
	struct ui *ui = arg;

	ui->dirty = true;
}

/* The registry answered, or stopped answering. */
static void ui_registry_changed(void *arg)
{
	((struct ui *)arg)->dirty = true;
}

/* What changes a host's state: the dashboard reads the hosts again. */
static void ui_heard(void *arg, const struct bus_event *ev)
{
	struct ui *ui = arg;

	(void)ev;
	deploywatch_refresh(ui->app->deploywatch);
	registrywatch_refresh(ui->app->registrywatch);
	ui->dirty = true;
}

int ui_run(struct app *app, struct theme *theme, const struct ui_options *opts)
{
	struct ui *ui = xcalloc(1, sizeof *ui);
	const char *no_color = getenv("NO_COLOR");
	unsigned listener, links;
	int code;

	ui->app = app;
	ui->theme = *theme;
	ui->read_only = opts->read_only || app->conf->read_only;
	ui->ascii = opts->ascii;
	ui->dirty = true;
	ui->show_detail = true;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "gantry: the dashboard needs a terminal; for scripts use: gantry status\n");
		free(ui);
		return EXIT_USAGE;
	}
	die_set_hook(ui_restore_terminal);
	atexit(ui_restore_terminal);
	set_escdelay(25);
	if (!initscr())
		die("cannot initialise the terminal (is TERM set?)");
	curses_active = true;
	ui_catch_fatal_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui->color = palette_init(&ui->theme, !(no_color && *no_color));
	getmaxyx(stdscr, ui->rows, ui->cols);

	ui_push_view(ui, ui->read_only ? &wallboard_view_ops : &dashboard_view_ops, NULL, VIEW_NO_ENV, 0);
	prober_set_listener(app->prober, ui_model_changed, ui);
	loop_watch(app->loop, STDIN_FILENO, POLLIN, ui_keys_ready, ui);
	loop_signal(app->loop, SIGWINCH, ui_resized, ui);
	loop_signal(app->loop, SIGINT, ui_terminate, ui);
	loop_signal(app->loop, SIGTERM, ui_terminate, ui);
	loop_signal(app->loop, SIGHUP, ui_terminate, ui);
	loop_timer_add(app->loop, UI_TICK_MS, ui_tick, ui);
	deploywatch_set_listener(app->deploywatch, ui_hosts_changed, ui);
	links = bus_listen(app->bus, BUS_MASK(BUS_LINK_CHANGED), ui_link_changed, ui);
	listener = bus_listen(app->bus, BUS_MASK(BUS_ENDED) | BUS_MASK(BUS_REFUSED) |
	    BUS_MASK(BUS_LOCK_BROKEN) | BUS_MASK(BUS_FROZEN) | BUS_MASK(BUS_UNFROZEN), ui_heard, ui);
	prober_start(app->prober);
	deploywatch_start(app->deploywatch);
	registrywatch_set_listener(app->registrywatch, ui_registry_changed, ui);
	registrywatch_start(app->registrywatch);

	while (!ui->quit) {
		if (ui->dirty) {
			ui->dirty = false;
			ui_draw(ui);
		}
		loop_run_once(app->loop, -1);
	}
	ui_pop_to(ui, 0);
	bus_unlisten(app->bus, listener);
	bus_unlisten(app->bus, links);
	ui_restore_terminal();
	die_set_hook(NULL);
	code = ui->quit_signal ? 128 + ui->quit_signal : EXIT_OK;
	free(ui);
	return code;
}
