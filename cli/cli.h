/* The command line, from one table of commands (cli.c): each with its words, options,
 * help and handler. The table drives parsing, `gantry --help`, `gantry CMD --help`, the
 * man page's synopsis (`--list-commands=man`) and shell completion (`--complete`, which
 * the bash and zsh scripts in cli/ call). Parsing has no side effects. */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

enum cli_command {
	CLI_DASHBOARD,                  /* no subcommand: the full-screen dashboard */
	CLI_STATUS,
	CLI_LOGS,
	CLI_TAGS,
	CLI_PROMOTE,
	CLI_ROLLBACK,
	CLI_EMERGENCY,                  /* emergency-rollback */
	CLI_DEPLOY,
	CLI_ATTACH,
	CLI_ROLLOUT,                    /* rollout [status|pause|resume|abort] ENV */
	CLI_HISTORY,
	CLI_FREEZE,
	CLI_UNFREEZE,
	CLI_UNLOCK,
	CLI_ADOPT,
	CLI_CHECK,
	CLI_COMMAND_HELP,               /* gantry CMD --help: print help_for's help */
	CLI_HELP,
	CLI_VERSION,
	CLI_LIST_KEYS,                  /* --list-keys[=man] */
	CLI_LIST_CONFIG_KEYS,           /* --list-config-keys */
	CLI_LIST_COMMANDS,              /* --list-commands[=man] */
	CLI_COMPLETE,                   /* --complete WORD...: candidates for the last word */
};

/* gantry rollout's verbs: X(NAME, word); START is the rollout itself (no verb). */
#define CLI_ROLLOUT_VERBS(X) \
	X(STATUS, "status") \
	X(PAUSE, "pause") \
	X(RESUME, "resume") \
	X(ABORT, "abort")

enum cli_rollout {
	ROLLOUT_START,
#define CLI_ROLLOUT_ENUM(name, word) ROLLOUT_##name,
	CLI_ROLLOUT_VERBS(CLI_ROLLOUT_ENUM)
#undef CLI_ROLLOUT_ENUM
};

struct cli_options {
	enum cli_command command;
	const char *config_path;        /* --config */
	const char *theme;              /* --theme */
	bool read_only;                 /* --read-only */
	bool ascii;                     /* --ascii */
	bool json;                      /* status, tags, history --json */
	long limit;                     /* tags, history --limit (0: all) */
	bool man;                       /* --list-keys=man, --list-commands=man */
	const char *env;                /* the environment acted on */
	int log_source;                 /* logs: enum log_source */
	bool follow;                    /* logs -f */
	const char *host;               /* logs --host */
	const char *source;             /* promote: the source environment (NULL: the one before) */
	const char *tag;                /* promote --tag, rollback --to, deploy TAG */
	bool yes;                       /* --yes: confirmed (a protected environment needs it) */
	bool dry_run;                   /* --dry-run: print the plan, run nothing */
	const char *message;            /* freeze, unlock -m */
	bool unverified;                /* rollback --unverified: to a tag never healthy here */
	enum cli_rollout rollout;       /* rollout: what of the rollout */
	const struct cli_cmd *help_for; /* CLI_COMMAND_HELP */
	char **complete;                /* CLI_COMPLETE: the words typed, the last one partial */
	int complete_len;
};

/* What a word is, for completion: an environment, a tag, a log, a host of the
 * environment named, a file, rollout's first word (what of it, or an environment). */
enum cli_word { WORD_NONE, WORD_ENV, WORD_TAG, WORD_LOG, WORD_HOST, WORD_FILE, WORD_ROLLOUT };

enum cli_value {
	VALUE_FLAG,                     /* a bool set to true */
	VALUE_TEXT,                     /* a const char *, not empty */
	VALUE_LIMIT,                    /* a long from 1 to 100000 */
};

/* One option of a command. */
struct cli_opt {
	const char *name;               /* "--tag" */
	char letter;                    /* 'y' for -y; 0 none */
	const char *arg;                /* the value's name ("TAG"); NULL for a flag */
	enum cli_value value;
	size_t field;                   /* offsetof(struct cli_options, ...) */
	enum cli_word completes;        /* what the value is */
	const char *missing;            /* why a missing value is wrong: "needs a tag" */
	const char *help;
};

struct cli_cmd {
	const char *name;
	enum cli_command command;
	const char *usage;              /* after "gantry NAME" */
	const char *summary;            /* one line: gantry --help */
	const char *help;               /* what it does: gantry NAME --help */
	const struct cli_opt *opts;
	int min_words, max_words;       /* positional words */
	enum cli_word words[2];         /* what each is */
	/* after the words and options: puts the words in place, cross-checks; 0 or an exit
	   status with err set */
	int (*finish)(const struct cli_cmd *cmd, char **words, int nwords, struct cli_options *o,
	    char *err, size_t errsz);
	/* runs it (takes the configuration); the exit status */
	int (*run)(struct conf *conf, const struct cli_options *o);
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_cmds_len;

/* Parses argv; 0 on success, else an exit status with `err` saying what is wrong. */
int cli_parse(int argc, char **argv, struct cli_options *opts, char *err, size_t errsz);
/* The command of a parsed command line; NULL for the dashboard and the global actions. */
const struct cli_cmd *cli_cmd_of(enum cli_command command);
/* The command of that name, or NULL. */
const struct cli_cmd *cli_cmd_named(const char *name);
/* The options before (or after) any command: --config, --theme, ...; ends with a zeroed
 * entry. */
extern const struct cli_opt cli_global_opts[];

/* gantry --help */
void cli_usage(FILE *out);
/* gantry CMD --help */
void cli_command_help(FILE *out, const struct cli_cmd *cmd);
/* --list-commands: each command's synopsis, plain or as man page source. */
void cli_list_commands(FILE *out, bool man);
/* --complete: the candidates for the last of `words` (the words after "gantry"), one per
 * line; an environment's names and hosts come from `conf` (NULL: none), its tags from
 * `tags` (called only when a tag is wanted). */
void cli_complete(FILE *out, char **words, int nwords, const struct conf *conf,
    void (*tags)(FILE *out, const struct conf *conf, const char *prefix));

#endif
