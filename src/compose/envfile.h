/* deploy.env, as a compose host holds it: KEY=VALUE lines naming the app and migrator
 * images. */
#ifndef GANTRY_COMPOSE_ENVFILE_H
#define GANTRY_COMPOSE_ENVFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "deployenv.h"

/* Reads KEY=VALUE lines ("export", quotes and comments allowed); false with `why`
 * when the text is not a deploy.env or names no APP_IMAGE. Untrusted input. */
bool deployenv_parse(const char *buf, size_t len, struct deploy_env *out, char *why, size_t whysz);

#endif
