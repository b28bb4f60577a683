/* The terminal side of gantry: curses set up and torn down, views stacked, one draw per frame. */
#ifndef GANTRY_UI_H
#define GANTRY_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "theme.h"
#include "view.h"

#define UI_MAX_VIEWS 8
#define UI_MIN_COLS 40
#define UI_MIN_ROWS 10

struct ui {
	struct app *app;
	struct theme theme;
	bool read_only;                 /* --read-only or read_only: true; nothing turns it off */
	bool ascii;                     /* draw with ASCII glyphs only */
	bool color;                     /* colours in use (else the mono attributes) */
	struct view views[UI_MAX_VIEWS];        /* the stack: views[0] at the bottom */
	int nviews;
	size_t selected;                /* index into the model's environments */
	bool show_detail;
	char message[200];              /* the footer's message, sanitized */
	bool message_is_error;
	int64_t message_until;          /* monotonic ms */
	bool dirty;                     /* draw at the end of this loop turn */
	bool quit;
	int quit_signal;                /* the signal that ended it (0: q) */
	int rows, cols;
	bool attach_checked;            /* runs in progress were looked for once at start */
	struct view_request request;    /* what a view asked to open, acted on after it returns */
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
/* Takes the message off the footer (what it said no longer holds). */
void ui_message_clear(struct ui *ui);

/* A view asks for another to be opened (views never open one another): the stack opens it
 * once the view's handler has returned. The last request of a handler wins. */
void ui_request(struct ui *ui, const struct view_request *req);

/* Pushes a view with its state (owned by the view from now on) for environment `env`
 * (VIEW_NO_ENV: none) and `kind`; pops with VIEW_CLOSE. False when the stack is full:
 * the state is freed and the user told. */
bool ui_push_view(struct ui *ui, const struct view_ops *ops, void *data, size_t env, int kind);
/* The index of the stacked view with these ops, environment and kind; -1 when none. */
int ui_find_view(const struct ui *ui, const struct view_ops *ops, size_t env, int kind);
/* Goes back to the view at `index`: the views above it close, and it resumes. */
void ui_raise_view(struct ui *ui, int index);
/* Closes the view at `index` and every view above it. A handler that closes its own view
 * this way returns without VIEW_CLOSE and no longer touches its state. */
void ui_close_views_from(struct ui *ui, int index);
/* The index of a view's entry in the stack. */
int ui_view_index(const struct ui *ui, const struct view *v);

/* Unit j of an environment: its link now, as its target tells it. */
struct link_status ui_link(const struct ui *ui, const struct env_status *env, size_t j,
    int64_t now);

#endif
