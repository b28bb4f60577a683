/* The terminal side of gantry: curses set up and torn down, views stacked, one draw per frame. */
#ifndef GANTRY_UI_H
#define GANTRY_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "theme.h"
#include "view.h"

#define UI_MAX_VIEWS 4
#define UI_MIN_COLS 40
#define UI_MIN_ROWS 10

struct ui {
	struct app *app;
	struct theme theme;
	bool read_only;                 /* --read-only or read_only: true; nothing turns it off */
	bool ascii;                     /* draw with ASCII glyphs only */
	bool color;                     /* colours in use (else the mono attributes) */
	const struct view_ops *views[UI_MAX_VIEWS];
	int nviews;
	size_t selected;                /* index into the model's environments */
	bool show_detail;
	char message[200];              /* the footer's message, sanitized */
	bool message_is_error;
	int64_t message_until;          /* monotonic ms */
	bool dirty;                     /* draw at the end of this loop turn */
	bool quit;
	int rows, cols;
	struct logview *log;            /* the open log pane's state, owned by ui/logview.c */
	struct deployview *deploy;      /* the deploy pane's, owned by ui/deployview.c */
	struct historyview *history;    /* the history pane's, owned by ui/historyview.c */
	bool attach_checked;            /* runs in progress were looked for once at start */
};

struct ui_options {
	bool read_only;
	bool ascii;
};

/* Runs the dashboard until the user quits; takes the app and theme, returns an exit status. */
int ui_run(struct app *app, struct theme *theme, const struct ui_options *opts);

/* Shows a message in the footer for a few seconds. */
void ui_message(struct ui *ui, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Pushes a view on top (the help); pops with VIEW_CLOSE. */
void ui_push_view(struct ui *ui, const struct view_ops *view);
/* Replaces the top view (its leave runs first). */
void ui_replace_view(struct ui *ui, const struct view_ops *view);

#endif
