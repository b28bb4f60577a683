/* `gantry status`: the dashboard's facts printed once, as text or as JSON. */
#ifndef GANTRY_STATUS_H
#define GANTRY_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* Format version of the JSON document; bumped only on incompatible change. */
#define STATUS_JSON_FORMAT 1

void status_print_text(FILE *out, const struct model *model);
void status_print_json(FILE *out, const struct model *model);

/* 0 when every environment is ready, 1 otherwise. */
int status_exit_code(const struct model *model);

#endif
