/* The runner's contract: the tables of src/compose/runner.h made into the program's preamble,
 * and the commands that run it on a host. The only shell gantry writes is here and in
 * src/compose/runner.sh. */
#include "config.h"

#include "deployenv.h"
#include "drive.h"
#include "hostreply.h"
#include "hoststate.h"
#include "lease.h"
#include "runner.h"
#include "remote.h"
#include "sha256.h"
#include "template.h"
#include "xmalloc.h"

#include "runner_sh.h"                  /* static const char runner_sh[]: src/compose/runner.sh */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_RUN_START_TAIL 65536      /* a running run's start record: near the end */
#define STATE_RUN_START_MAX 16384

/* name, arguments it takes */
static const struct {
	const char *name;
	size_t nargs;
} subs[RUNNER_SUBS] = {
	[RUNNER_VERSION] = { "version", 0 },
	[RUNNER_STATE] = { "state", 0 },
	[RUNNER_WATCH] = { "watch", 0 },
	[RUNNER_FOLLOW] = { "follow", 1 },
	[RUNNER_CANCEL] = { "cancel", 1 },
	[RUNNER_ADOPT] = { "adopt", 1 },
	[RUNNER_FREEZE] = { "freeze", 3 },
	[RUNNER_UNFREEZE] = { "unfreeze", 1 },
	[RUNNER_UNLOCK] = { "unlock", 1 },
	[RUNNER_LEASE] = { "lease", 5 },
	[RUNNER_RELEASE] = { "release", 1 },
	[RUNNER_HTTP_GET] = { "http-get", 2 },
	[RUNNER_TIED] = { "tied", 1 },
	[RUNNER_COMPOSE_CHECK] = { "compose-check", 1 },
	[RUNNER_DRIVE] = { "drive", 4 },
	[RUNNER_ASK] = { "ask", 2 },
};

/* The preamble: every name the program uses for the contract, as shell variables. */
static void preamble(FILE *f)
{
	static const struct {
		const char *var, *value;
	} words[] = {
		{ "M_NOTE", RUNNER_MARK_NOTE },
		{ "M_NOTE_OPEN", RUNNER_MARK_NOTE_OPEN },
		{ "M_MARK_LINE", RUNNER_MARK_LINE },
		{ "M_STARTED", RUNNER_MARK_STARTED },
		{ "M_LOCKED", RUNNER_MARK_LOCKED },
		{ "M_FROZEN", RUNNER_MARK_FROZEN },
		{ "M_STEP_EXIT", RUNNER_MARK_STEP_EXIT },
		{ "M_RUN", RUNNER_MARK_RUN },
		{ "M_RUN_ENDED", RUNNER_MARK_RUN_ENDED },
		{ "M_STATE", HOSTREPLY_MARK },
		{ "F_HELD", RUNNER_FLAG_HELD },
		{ "F_PID", RUNNER_FLAG_PID },
		{ "F_ALIVE", RUNNER_FLAG_ALIVE },
		{ "F_FROZEN", RUNNER_FLAG_FROZEN },
		{ "S_MISSING", RUNNER_ENV_MISSING },
		{ "S_NOT_A_FILE", RUNNER_ENV_NOT_A_FILE },
		{ "V_RUN", RUNNER_EV_RUN },
		{ "V_STEP", RUNNER_EV_STEP },
		{ "V_ROLLBACK", RUNNER_EV_ROLLBACK },
		{ "V_START", RUNNER_EV_START },
		{ "V_END", RUNNER_EV_END },
		{ "V_CANCEL", RUNNER_EV_CANCEL },
		{ "V_ACCEPTED", RUNNER_EV_ACCEPTED },
		{ "V_REFUSED", RUNNER_EV_REFUSED },
		{ "G", ".gantry" },
		{ "G_LOCK", ".gantry/lock" },
		{ "G_DRIVER", ".gantry/lock/driver" },
		{ "G_REQUEST", ".gantry/lock/request" },
		{ "D_LEFT", "left" },
		{ "G_FREEZE", ".gantry/freeze" },
		{ "G_HISTORY", ".gantry/history.jsonl" },
		{ "G_CURRENT", ".gantry/current" },
		{ "G_RUNS", ".gantry/runs" },
		{ "G_BIN", ".gantry/bin" },
	};
	static const struct {
		const char *var;
		long long value;
	} numbers[] = {
		{ "RUNNER_PROTOCOL", RUNNER_PROTOCOL },
		{ "N_DEPLOYENV_READ", DEPLOYENV_MAX_BYTES + 1 },   /* a byte more: a larger file shows */
		{ "N_RUN_START_TAIL", STATE_RUN_START_TAIL },
		{ "N_RUN_START_MAX", STATE_RUN_START_MAX },
		{ "N_HISTORY_TAIL", HISTORY_TAIL_BYTES },
		{ "N_LEASE_MAX", LEASE_MAX_BYTES },
		{ "N_DRIVE_MAX", DRIVE_MAX_BYTES },
	};

	fputs("#!/bin/sh\n# gantry's runner (written by gantry; do not edit). The contract's names,"
	    " from src/compose/runner.h:\n", f);
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		fprintf(f, "%s=%lld\n", numbers[i].var, numbers[i].value);
#define EXIT_VAR(name, status, meaning) fprintf(f, "EX_%s=%d\n", #name, status);
	RUNNER_EXITS(EXIT_VAR)
#undef EXIT_VAR
#define RESULT_VAR(name, word, rank, runner) \
	if (runner) \
		fprintf(f, "R_%s='%s'\n", #name, word);
	RUN_RESULTS(RESULT_VAR)
#undef RESULT_VAR
#define PART_VAR(name, word, hex) fprintf(f, "P_%s='%s'\n", #name, word);
	RUNNER_STATE_PARTS(PART_VAR)
#undef PART_VAR
#define DRIVE_PART_VAR(name, word, hex) fprintf(f, "PD_%s='%s'\n", #name, word);
	RUNNER_DRIVE_PARTS(DRIVE_PART_VAR)
#undef DRIVE_PART_VAR
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		fprintf(f, "%s='%s'\n", words[i].var, words[i].value);
}

static char *program, *quoted, *path;
static char hash12[13];                 /* the program's hash, as its file's name gives it */

static void make_program(void)
{
	char *pre = NULL, digest[72];
	size_t prelen = 0;
	FILE *f = open_memstream(&pre, &prelen);

	if (!f)
		die("out of memory");
	preamble(f);
	fclose(f);
	program = xasprintf("%s%s", pre, runner_sh);
	free(pre);
	/* sent along with a command where the host lacks it: quoted once */
	quoted = template_shell_quote(program);
	sha256_digest(program, strlen(program), digest);
	/* "sha256:" then the hash: its first 12 hex digits name this program */
	snprintf(hash12, sizeof hash12, "%.12s", digest + 7);
	path = xasprintf(".gantry/bin/runner-%d-%s", RUNNER_PROTOCOL, hash12);
}

const char *runner_program(void)
{
	if (!program)
		make_program();
	return program;
}

const char *runner_path(void)
{
	if (!path)
		make_program();
	return path;
}

/* " sub 'arg' ...", newly allocated */
static char *sub_words(enum runner_sub sub, const char *const *args, size_t nargs)
{
	size_t len = strlen(subs[sub].name) + 2;
	char **q = xcalloc(nargs + 1, sizeof *q);
	char *out;

	for (size_t i = 0; i < nargs; i++) {
		q[i] = template_shell_quote(args[i] ? args[i] : "");
		len += strlen(q[i]) + 1;
	}
	out = xmalloc(len);
	snprintf(out, len, " %s", subs[sub].name);
	for (size_t i = 0; i < nargs; i++) {
		strcat(out, " ");
		strcat(out, q[i]);
		free(q[i]);
	}
	free(q);
	return out;
}

/* Shell: each of the paths given, when it exists, is no symlink, belongs to this login and
 * is not writable by group or others; else says which and whose (on stderr when `err`),
 * and exits UNSAFE. */
static char *safe_paths_check(const char *paths, bool err)
{
	const char *to = err ? " >&2" : "";

	return xasprintf("u=$(id -u); for p in %s; do "
	    "if [ -L \"$p\" ]; then echo \"$(pwd)/$p is a symlink: not used\"%s; exit %d; fi; "
	    "[ -e \"$p\" ] || continue; set -- $(stat -c '%%u %%a %%U' \"$p\"); "
	    "if [ \"$1\" != \"$u\" ]; then echo \"$(pwd)/$p belongs to $3 (uid $1), not to this "
	    "login (uid $u): not used\"%s; exit %d; fi; "
	    "case $2 in *[2367]|*[2367]?) echo \"$(pwd)/$p can be written by other users (mode $2): "
	    "not used\"%s; exit %d;; esac; done; ", paths, to, UNIT_EXIT_UNSAFE, to,
	    UNIT_EXIT_UNSAFE, to, UNIT_EXIT_UNSAFE);
}

char *runner_command(enum runner_sub sub, const char *const *args, size_t nargs)
{
	char *w = sub_words(sub, args, nargs);
	char *safe_dirs = safe_paths_check(".gantry .gantry/bin", true);
	char *safe_file = safe_paths_check(runner_path(), true);
	/* the installed runner runs only when .gantry, .gantry/bin and the file are this
	 * login's alone and the file is the program its name's hash says */
	char *cmd = xasprintf("%s[ -f %s ] || exit %d; %s"
	    "[ \"$(sha256sum <%s | cut -c 1-12)\" = %s ] || { echo \"$(pwd)/%s is not the runner its "
	    "name says (its content differs): not used\" >&2; exit %d; }; exec sh %s%s", safe_dirs,
	    runner_path(), UNIT_EXIT_NO_RUNNER, safe_file, runner_path(), hash12, runner_path(),
	    UNIT_EXIT_UNSAFE, runner_path(), w);

	free(safe_dirs);
	free(safe_file);
	free(w);
	return cmd;
}

char *runner_inline_command(enum runner_sub sub, const char *const *args, size_t nargs)
{
	char *w = sub_words(sub, args, nargs);
	char *cmd;

	runner_program();
	cmd = xasprintf("exec sh -c %s gantry-runner%s", quoted, w);
	free(w);
	return cmd;
}

char *runner_install_command(enum runner_sub sub, const char *const *args, size_t nargs)
{
	char *w = sub_words(sub, args, nargs);
	char *cmd;

	runner_program();
	/* the runner installs itself (it checks .gantry first); where it cannot, the command
	 * still runs, with the program sent along */
	cmd = xasprintf("GANTRY_PROGRAM=%s; export GANTRY_PROGRAM; sh -c \"$GANTRY_PROGRAM\" "
	    "gantry-runner install %s >/dev/null 2>&1 && exec sh %s%s; exec sh -c \"$GANTRY_PROGRAM\" "
	    "gantry-runner%s", quoted, runner_path(), runner_path(), w, w);
	free(w);
	return cmd;
}

struct unit_cmd *runner_run(struct remote_host *host, enum runner_sub sub,
    const char *const *args, size_t nargs, const struct unit_cmd_ops *ops, void *arg)
{
	char *cmd = runner_command(sub, args, nargs);
	char *instead = remote_host_read_only(host) ? runner_inline_command(sub, args, nargs) :
	    runner_install_command(sub, args, nargs);
	struct unit_cmd *c;

	if (nargs != subs[sub].nargs)
		abort();                /* a caller's mistake, never a host's */
	c = remote_run_or(host, cmd, UNIT_EXIT_NO_RUNNER, instead, ops, arg);
	free(cmd);
	free(instead);
	return c;
}

char *runner_start_command(const char *run_id, const char *script)
{
	char *dir = xasprintf(".gantry/runs/%s", run_id);
	char marker[40];
	char *cmd, *safe;

	/* a here-document marker the script cannot contain */
	for (unsigned n = 0;; n++) {
		snprintf(marker, sizeof marker, "GANTRY_RUN_SH_%u", n);
		if (!strstr(script, marker))
			break;
	}
	/* the runner's files are private (umask 077); the steps get the login's umask back */
	/* nothing is written where another user could change it before it runs */
	safe = safe_paths_check(".gantry .gantry/runs", false);
	/* written aside and renamed into place (a shell reading the one there keeps reading
	   what it opened), and not once the run started: a run carried on by a second gantry
	   keeps the run.sh its runner reads */
	cmd = xasprintf("%sGANTRY_UMASK=$(umask); export GANTRY_UMASK; umask 077; "
	    "mkdir -p %s && cat >%s/run.sh.$$ <<'%s'\n%s%s\n"
	    "[ -d %s/started ] || mv -f %s/run.sh.$$ %s/run.sh; rm -f %s/run.sh.$$; "
	    "sh %s/run.sh start", safe, dir, dir, marker, script, marker, dir, dir, dir, dir, dir);
	free(safe);
	free(dir);
	return cmd;
}
