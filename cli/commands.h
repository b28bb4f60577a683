/* The commands' handlers, as the table in cli.c names them: each takes the configuration
 * (and frees it) and returns the exit status. */
#ifndef GANTRY_COMMANDS_H
#define GANTRY_COMMANDS_H

#include <stdio.h>

#include "cli.h"
#include "conf.h"

int cmd_status(struct conf *conf, const struct cli_options *o);         /* status.c */
int cmd_logs(struct conf *conf, const struct cli_options *o);           /* logcmd.c */
int cmd_tags(struct conf *conf, const struct cli_options *o);           /* tagscmd.c */
int cmd_check(struct conf *conf, const struct cli_options *o);          /* checkcmd.c */
/* promote, rollback, deploy, attach, history, freeze, unfreeze, unlock, adopt */
int cmd_action(struct conf *conf, const struct cli_options *o);         /* deploycmd.c */
/* gantry history ENV: the exit status, or -1 when *quit was set meanwhile (historycmd.c). */
struct app;
int history_print(struct app *app, const struct conf_env *env, const struct cli_options *o,
    const bool *quit);
/* For completion: the deployable tags starting with `prefix`, as the registry lists
 * them, within a few seconds (tagscmd.c). */
void cmd_complete_tags(FILE *out, const struct conf *conf, const char *prefix);

#endif
