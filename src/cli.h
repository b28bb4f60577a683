/* The command line: options and subcommands, parsed without side effects. */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_command {
	CLI_DASHBOARD,                  /* no subcommand: the full-screen dashboard */
	CLI_STATUS,                     /* gantry status [--json] */
	CLI_LOGS,                       /* gantry logs ENV [app|migrator] [-f] [--host H] */
	CLI_TAGS,                       /* gantry tags [--json] [--limit N] */
	CLI_PROMOTE,                    /* gantry promote [SRC] DST [--tag TAG] [--yes] [--dry-run] */
	CLI_ROLLBACK,                   /* gantry rollback ENV [--to TAG] [--yes] [--dry-run] */
	CLI_DEPLOY,                     /* gantry deploy ENV TAG [--yes] [--dry-run] */
	CLI_ATTACH,                     /* gantry attach ENV */
	CLI_HISTORY,                    /* gantry history ENV [--json] [--limit N] */
	CLI_FREEZE,                     /* gantry freeze ENV -m REASON */
	CLI_UNFREEZE,                   /* gantry unfreeze ENV */
	CLI_UNLOCK,                     /* gantry unlock ENV -m REASON */
	CLI_ADOPT,                      /* gantry adopt ENV [--yes] [--dry-run] */
	CLI_CHECK,                      /* gantry check [ENV] */
	CLI_COMMAND_HELP,               /* gantry CMD --help: print help_text */
	CLI_HELP,
	CLI_VERSION,
	CLI_LIST_KEYS,                  /* --list-keys[=man] */
	CLI_LIST_CONFIG_KEYS,           /* --list-config-keys */
};

struct cli_options {
	enum cli_command command;
	const char *config_path;        /* --config */
	const char *theme;              /* --theme */
	bool read_only;                 /* --read-only */
	bool ascii;                     /* --ascii */
	bool json;                      /* status, tags --json */
	long limit;                     /* tags --limit (0: all) */
	bool keys_man;                  /* --list-keys=man */
	const char *env;                /* logs: the environment */
	int log_source;                 /* logs: enum log_source */
	bool follow;                    /* logs -f */
	const char *host;               /* logs --host */
	const char *source;             /* promote: the source environment (NULL: the one before) */
	const char *tag;                /* promote --tag, rollback --to, deploy TAG */
	bool yes;                       /* --yes: confirmed (a protected environment needs it) */
	bool dry_run;                   /* --dry-run: print the plan, run nothing */
	const char *message;            /* freeze, unlock -m */
	bool unverified;                /* rollback --unverified: to a tag never healthy here */
	const char *help_text;          /* CLI_COMMAND_HELP: the subcommand's help */
};

/* Parses argv; 0 on success, else an exit status with `err` saying what is wrong. */
int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz);

/* The --help text. */
void cli_usage(FILE *out);

#endif
