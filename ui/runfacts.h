/* The facts of a run above its steps, in the run pane (ui/deployview.c's alone). */
#ifndef GANTRY_UI_RUNFACTS_H
#define GANTRY_UI_RUNFACTS_H

#include "deploy.h"
#include "ui.h"

/* Draws them from row y, no lower than bottom; returns the next row. */
int runfacts_draw(struct ui *ui, const struct deploy_info *i, int y, int bottom);
/* The most rows they take. */
int runfacts_rows(const struct ui *ui, const struct deploy_info *i);

#endif
