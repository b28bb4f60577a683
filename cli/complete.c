/* Shell completion: the words that may come next on a gantry command line, from the
 * command table, the configuration in use and the registry (gantry --complete). */
#include "config.h"

#include "cli.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The candidates for a word of kind `kind`. */
static void complete_word(FILE *out, enum cli_word kind, const char *prefix, const char *env,
    const struct conf *conf, void (*tags)(FILE *, const struct conf *, const char *))
{
	const struct conf_env *e;

	switch (kind) {
	case WORD_ENV:
		for (size_t i = 0; conf && i < conf->envs_len; i++)
			if (starts(conf->envs[i].name, prefix))
				fprintf(out, "%s\n", conf->envs[i].name);
		break;
	case WORD_TAG:
		if (conf && tags)
			tags(out, conf, prefix);
		break;
	case WORD_LOG:
		for (int i = 0; i < 2; i++)
			if (starts(i ? "migrator" : "app", prefix))
				fprintf(out, "%s\n", i ? "migrator" : "app");
		break;
	case WORD_HOST:
		e = conf && env ? conf_env_by_name(conf, env) : NULL;
		for (size_t j = 0; e && j < e->hosts_len; j++)
			if (starts(e->hosts[j].address, prefix))
				fprintf(out, "%s\n", e->hosts[j].address);
		break;
	case WORD_FILE:
		fputs(":file\n", out);  /* the shell completes file names */
		break;
	case WORD_ROLLOUT:
#define CLI_ROLLOUT_OFFER(name, word) if (starts(word, prefix)) fprintf(out, "%s\n", word);
		CLI_ROLLOUT_VERBS(CLI_ROLLOUT_OFFER)
#undef CLI_ROLLOUT_OFFER
		complete_word(out, WORD_ENV, prefix, env, conf, tags);
		break;
	case WORD_NONE:
		break;
	}
}

static void complete_opts(FILE *out, const struct cli_opt *opts, const char *prefix)
{
	for (const struct cli_opt *o = opts; o->name; o++)
		if (starts(o->name, prefix))
			fprintf(out, "%s\n", o->name);
}

void cli_complete(FILE *out, char **words, int nwords, const struct conf *conf,
    void (*tags)(FILE *, const struct conf *, const char *))
{
	const char *cur = nwords > 0 ? words[nwords - 1] : "";
	const struct cli_cmd *cmd = NULL;
	const struct cli_opt *pending = NULL;
	char *pos[2] = { NULL, NULL };
	int npos = 0, i = 0;

	/* the options before the command, then the command */
	for (; i < nwords - 1 && !cmd; i++) {
		const char *w = words[i];
		const struct cli_opt *o;

		if (pending) {
			pending = NULL;
			continue;
		}
		for (o = cli_global_opts; o->name; o++)
			if ((strcmp(w, o->name) == 0 || (o->letter && w[0] == '-' && w[1] == o->letter &&
			    !w[2])) && o->arg && o->arg[0] != '[')
				pending = o;
		if (w[0] != '-' && !(cmd = cli_cmd_named(w)))
			return;         /* not a command gantry knows: nothing to offer */
	}
	if (!cmd) {
		if (pending)
			complete_word(out, pending->completes, cur, NULL, conf, tags);
		else if (cur[0] == '-')
			complete_opts(out, cli_global_opts, cur);
		else
			for (size_t k = 0; k < cli_cmds_len; k++)
				if (starts(cli_cmds[k].name, cur))
					fprintf(out, "%s\n", cli_cmds[k].name);
		return;
	}
	/* the command's own words so far */
	for (; i < nwords - 1; i++) {
		const char *w = words[i];

		if (pending) {
			pending = NULL;
			continue;
		}
		pending = NULL;
		for (const struct cli_opt *o = cmd->opts; o->name; o++)
			if ((strcmp(w, o->name) == 0 || (o->letter && w[0] == '-' && w[1] == o->letter &&
			    !w[2])) && o->arg)
				pending = o;
		if (w[0] != '-' && npos < 2)
			pos[npos++] = words[i];
	}
	if (pending) {
		complete_word(out, pending->completes, cur, pos[0], conf, tags);
	} else if (cur[0] == '-') {
		complete_opts(out, cmd->opts, cur);
		if (starts("--help", cur))
			fputs("--help\n", out);
	} else if (npos < cmd->max_words) {
		/* promote's first word may be SRC or DST: both are environments */
		complete_word(out, cmd->words[npos], cur, pos[0], conf, tags);
	}
}
