/* A view: one screen of gantry, drawn from the model and driven by actions. */
#ifndef GANTRY_VIEW_H
#define GANTRY_VIEW_H

#include <stdbool.h>

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

struct view_ops {
	const char *name;
	/* Draws into rows [top, top + height) of the screen. */
	void (*draw)(struct ui *ui, int top, int height);
	/* Handles an action (already checked against read-only mode). */
	int (*action)(struct ui *ui, enum action action);
	/* True for views drawn over the one below (the help). */
	bool overlay;
	/* Optional: sees raw keys first (a prompt being typed); true when it took the key. */
	bool (*key)(struct ui *ui, int ch);
	/* Optional: the view is being popped; frees what it holds. */
	void (*leave)(struct ui *ui);
	/* Optional: the footer's key hints while this view is on top (else the dashboard's). */
	const char *hints;
};

extern const struct view_ops dashboard_view_ops;
extern const struct view_ops wallboard_view_ops;
extern const struct view_ops help_view_ops;
extern const struct view_ops logview_view_ops;
extern const struct view_ops deployview_view_ops;
extern const struct view_ops historyview_view_ops;

/* Opens the log pane of the selected environment (ui/logview.c). */
void logview_open(struct ui *ui, int source);

/* The deploy pane (ui/deployview.c): plans a promotion, rollback or deploy (enum
 * deploy_kind) of the selected environment, or follows an environment's current run. */
void deployview_open(struct ui *ui, int kind, const char *tag);
void deployview_attach(struct ui *ui, size_t env_index);

/* The history pane of the selected environment (ui/historyview.c): pushes the view. */
void historyview_push(struct ui *ui);
/* Sets up its state for a view already placed on the stack. */
void historyview_open(struct ui *ui);

#endif
