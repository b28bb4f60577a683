/* A view: one screen of gantry, drawn from the model and driven by actions.
 *
 * The stack holds {ops, data} entries: each stacked view finds its own state through its
 * entry, never through a global pointer per kind of pane, so opening a view twice or
 * closing one from below cannot leave a pointer to freed state behind. */
#ifndef GANTRY_VIEW_H
#define GANTRY_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "action.h"

struct ui;

/* What a handler asks of the loop; flags, combined with |. */
enum view_result {
	VIEW_UNHANDLED = 0,             /* not for this view: offer it to the one below */
	VIEW_HANDLED = 1 << 0,
	VIEW_REDRAW = 1 << 1,
	VIEW_CLOSE = 1 << 2,            /* pop this view */
	VIEW_QUIT = 1 << 3,
};

#define VIEW_NO_ENV ((size_t)-1)

/* One entry of the view stack. */
struct view {
	const struct view_ops *ops;
	void *data;                     /* the view's own state; ops->leave frees it */
	size_t env;                     /* the environment it shows, or VIEW_NO_ENV */
	int kind;                       /* what it shows of it (the log pane: its source), else 0 */
};

struct view_ops {
	const char *name;
	/* Draws into rows [top, top + height) of the screen. */
	void (*draw)(struct ui *ui, struct view *v, int top, int height);
	/* Handles an action (already checked against read-only mode). */
	int (*action)(struct ui *ui, struct view *v, enum action action);
	/* True for views drawn over the one below (the help). */
	bool overlay;
	/* Optional: sees raw keys first (a prompt being typed); true when it took the key. */
	bool (*key)(struct ui *ui, struct view *v, int ch);
	/* Optional: the view is being popped; frees v->data. */
	void (*leave)(struct ui *ui, struct view *v);
	/* Optional: the view is on top again, after the views above it closed or it was
	 * opened again; it shows what happened meanwhile. */
	void (*resume)(struct ui *ui, struct view *v);
	/* Optional: the footer's key hints while this view is on top (else the dashboard's),
	   keys from the action table, ended by one with no word */
	const struct action_hint *hints;
	/* Optional: the only actions that act on this view, ended by ACTION_NONE; the help
	 * lists just these, and the others say they do nothing here. NULL: all of them. */
	const enum action *actions;
	/* With `actions`: why the others do nothing here. */
	const char *why_not;
};

/* What a view asks the stack to open for it: views never open one another; the stack
 * (ui.c) acts on the request once the view's handler has returned, as tig's views hand
 * requests back to their driver. */
enum view_request_kind {
	REQUEST_NONE,
	REQUEST_LOG,                    /* the log pane of `env` (`source`: enum log_source;
	                                   `unit`: 0 every host, else host unit - 1 alone) */
	REQUEST_PLAN,                   /* a plan of `deploy_kind` for `env` (`tag`, "" default) */
	REQUEST_ATTACH,                 /* the run pane of `env`'s current run */
	REQUEST_HISTORY,                /* the history of `env` (an open one is raised) */
	REQUEST_EMERGENCY,              /* `env`'s emergency rollback: its reason asked for,
	                                   then (with `reason`) its plan */
	REQUEST_FLEET,                  /* the fleet pane of `env` (an open one is raised) */
};

struct view_request {
	enum view_request_kind kind;
	size_t env;
	int source;
	size_t unit;                    /* REQUEST_LOG: 0 every host, else the host's index + 1 */
	int deploy_kind;                /* enum deploy_kind */
	char tag[136];
	char reason[201];               /* REQUEST_EMERGENCY: "" asks for it */
};

#endif
