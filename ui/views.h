/* The views, as the stack knows them: their ops and how each is opened. Only the stack
 * (ui.c) calls an opener; a view asks for another with ui_request (ui.h), and
 * tests/layout.sh holds them to it. */
#ifndef GANTRY_VIEWS_H
#define GANTRY_VIEWS_H

#include <stddef.h>

#include "view.h"

extern const struct view_ops dashboard_view_ops;
extern const struct view_ops wallboard_view_ops;
extern const struct view_ops help_view_ops;
extern const struct view_ops logview_view_ops;
extern const struct view_ops deployview_view_ops;
extern const struct view_ops historyview_view_ops;
extern const struct view_ops reasonview_view_ops;
extern const struct view_ops fleetview_view_ops;

/* Opens the help over the views, its scroll state its own. */
void help_open(struct ui *ui);
/* Opens the log pane of the selected environment (ui/logview.c): every host's lines, or
 * (unit j + 1) host j's alone. */
void logview_open(struct ui *ui, int source, size_t unit);
/* The fleet pane of the selected environment (ui/fleetview.c); an open one is raised. */
void fleetview_open(struct ui *ui);
/* The deploy pane (ui/deployview.c): plans a promotion, rollback or deploy (enum
 * deploy_kind) of the selected environment, or follows an environment's current run. */
void deployview_open(struct ui *ui, int kind, const char *tag);
void deployview_attach(struct ui *ui, size_t env_index);
/* The history pane of the selected environment (ui/historyview.c); an open one is raised. */
void historyview_push(struct ui *ui);
/* The reason for an emergency rollback of the selected environment, asked over the views
 * (ui/reasonview.c); once typed, it asks the stack for the plan. */
void reasonview_open(struct ui *ui);
/* The plan of an emergency rollback of the selected environment, for `reason`. */
void deployview_emergency(struct ui *ui, const char *reason);

#endif
