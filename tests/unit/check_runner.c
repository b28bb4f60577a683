/* run.sh, the host-side runner, run for real by /bin/sh in a scratch deploy directory:
 * lock, freeze, history records, steps, failure, timeout, automatic rollback, cancel,
 * detaching, and names and commands full of quotes. */
#include "config.h"

#include "drive.h"
#include "compose/hostadmin.h"
#include "compose/runscript.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"
#include "compose/runner.h"
#include "suite.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char *kept[256];                 /* freed after each test (LeakSanitizer runs too) */
static size_t kept_len;

static char *keep(char *p)
{
	ck_assert_uint_lt(kept_len, 256);
	return kept[kept_len++] = p;
}

/* Runs a shell command built like printf; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	ck_assert_ptr_nonnull(cmd);
	rc = system(cmd);
	free(cmd);
	return rc;
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/gantry-runner-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	while (kept_len)
		free(kept[--kept_len]);
}

/* Reads a file under dir ("" when missing); the caller frees. */
static char *readfile(const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel), *buf = xcalloc(1, 65536);
	FILE *f = fopen(path, "r");

	if (f) {
		size_t n = fread(buf, 1, 65535, f);

		buf[n] = '\0';
		fclose(f);
	}
	free(path);
	return buf;
}

/* Reads a file under dir ("" when missing); freed after the test. */
static char *slurp(const char *rel)
{
	return keep(readfile(rel));
}

/* Waits (at most 20 s) until a file under dir holds needle (any content: ""). */
static bool wait_for(const char *rel, const char *needle)
{
	for (int i = 0; i < 2000; i++) {
		char *text = readfile(rel);
		bool found = *text && strstr(text, needle);

		free(text);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static bool exists(const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel);
	struct stat st;
	bool yes = stat(path, &st) == 0;

	free(path);
	return yes;
}

/* Runs the start command in dir; returns its exit status, output in *out. */
static int start(const struct run_spec *spec, char **out)
{
	char *cmd = runscript_start_command(spec);
	char *full = xasprintf("cd '%s' && { %s\n} >start.out 2>&1", dir, cmd);
	int rc = system(full);

	*out = slurp("start.out");
	free(cmd);
	free(full);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Waits (at most 20 s) for the run's end event; returns the events. */
static char *wait_end(const char *id)
{
	char *rel = xasprintf(".gantry/runs/%s/events", id);
	bool ended = wait_for(rel, " run end ");
	char *ev = slurp(rel);

	free(rel);
	ck_assert_msg(ended, "run %s did not end: %s", id, ev);
	return ev;
}

static const struct release_step three[] = {
	{ "write deploy.env", "echo APP_IMAGE=x > deploy.env.new && mv deploy.env.new deploy.env", 5000, false, false, NULL },
	{ "it's \"quoted\" $(not run)", "printf '%s\\n' 'single '\\''quotes'\\'' survive'", 5000, false, false, NULL },
	{ "start app", "echo started", 5000, true, false, NULL },
};

static struct run_spec spec(const char *id, const struct release_step *steps, size_t n)
{
	struct run_spec s = {
		.id = id, .action = "promote", .env = "production", .source_env = "staging",
		.tag = "sha-4e1d2c9", .app_digest = "sha256:aa", .migrator_digest = "sha256:bb",
		.operator = "alice@laptop", .lock_message = "promote sha-4e1d2c9 from staging",
		.started = 1790000000, .steps = steps, .steps_len = n,
	};
	return s;
}

START_TEST(a_run_succeeds_and_is_recorded)
{
	struct run_spec s = spec("r1", three, 3);
	char *out, *ev, *hist, *output;

	ck_assert_int_eq(start(&s, &out), 0);
	ck_assert_str_eq(out, "STARTED r1\n");
	ev = wait_end("r1");
	ck_assert_msg(strstr(ev, "step 1 start") && strstr(ev, "step 3 end 0 ") && strstr(ev, "run end succeeded"), "%s", ev);
	hist = slurp(".gantry/history.jsonl");
	ck_assert_msg(strstr(hist, "{\"id\":\"r1\",\"event\":\"start\",\"started\":1790000000,") == hist, "%s", hist);
	ck_assert_msg(strstr(hist, "\"operator\":\"alice@laptop\""), "%s", hist);
	ck_assert_msg(strstr(hist, "\"source\":\"staging\""), "%s", hist);
	ck_assert_msg(strstr(hist, "\"event\":\"end\"") && strstr(hist, "\"result\":\"succeeded\""), "%s", hist);
	ck_assert_msg(strstr(hist, "\"switched\":true"), "%s", hist);
	/* the step name with quotes and $( ) is recorded as written, not run */
	ck_assert_msg(strstr(hist, "\"name\":\"it's \\\"quoted\\\" $(not run)\",\"exit\":0"), "%s", hist);
	output = slurp(".gantry/runs/r1/output");
	ck_assert_msg(strstr(output, "single 'quotes' survive\n") && strstr(output, "started\n"), "%s", output);
	ck_assert(!exists(".gantry/lock"));
	ck_assert_str_eq(slurp("deploy.env"), "APP_IMAGE=x\n");
	ck_assert_str_eq(slurp(".gantry/current"), "r1\n");
}
END_TEST

START_TEST(a_held_lock_refuses_with_its_owner)
{
	struct run_spec s = spec("r2", three, 3);
	char *out;

	ck_assert_int_eq(sh("mkdir -p '%s/.gantry/lock' && printf 'owner=bob@ops\\nsince=1\\n' "
	    ">'%s/.gantry/lock/owner'", dir, dir), 0);
	ck_assert_int_eq(start(&s, &out), 75);
	ck_assert_str_eq(out, "LOCKED\nowner=bob@ops\nsince=1\n");
	ck_assert(!exists(".gantry/history.jsonl"));
	ck_assert_str_eq(slurp(".gantry/lock/owner"), "owner=bob@ops\nsince=1\n");
	/* an empty lock directory is a lock too: a rename never takes it over (finding 10) */
	ck_assert_int_eq(sh("rm -rf '%s/.gantry/lock' && mkdir '%s/.gantry/lock'", dir, dir), 0);
	ck_assert_int_eq(start(&s, &out), 75);
	ck_assert_msg(strncmp(out, "LOCKED\n", 7) == 0, "%s", out);
	ck_assert(!exists(".gantry/lock/owner"));
	ck_assert(!exists(".gantry/history.jsonl"));
}
END_TEST

/* The runner's files are private; the steps keep the login's umask. */
START_TEST(the_runners_files_are_private)
{
	static const struct release_step steps[] = {
		{ "make a file", "echo x >made-by-a-step", 5000, true, false, NULL },
	};
	struct run_spec s = spec("r40", steps, 1);
	char *out, *path;
	struct stat st;
	mode_t old = umask(022);

	ck_assert_int_eq(start(&s, &out), 0);
	wait_end("r40");
	umask(old);
	path = keep(xasprintf("%s/.gantry", dir));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	path = keep(xasprintf("%s/.gantry/history.jsonl", dir));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	path = keep(xasprintf("%s/.gantry/runs/r40/output", dir));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	path = keep(xasprintf("%s/made-by-a-step", dir));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
}
END_TEST

/* A .gantry that is a symlink, another user's, or writable by others is not used; a
 * planted symlink at deploy.env.prev is replaced, never followed. */
START_TEST(a_planted_gantry_dir_is_refused)
{
	static const struct release_step steps[] = {
		{ "write deploy.env", "sh .gantry/runs/r50/run.sh write-env APP_IMAGE=new", 5000, true, false, NULL },
	};
	struct run_spec s = spec("r50", steps, 1);
	char *out;

	ck_assert_int_eq(sh("mkdir '%s/elsewhere' && ln -s '%s/elsewhere' '%s/.gantry'", dir, dir, dir), 0);
	ck_assert_int_eq(start(&s, &out), 70);
	ck_assert_msg(strstr(out, ".gantry is a symlink: not used"), "%s", out);
	ck_assert(!exists("elsewhere/runs"));
	ck_assert_int_eq(sh("rm '%s/.gantry' && mkdir -m 777 '%s/.gantry' && chmod 777 '%s/.gantry'",
	    dir, dir, dir), 0);
	ck_assert_int_eq(start(&s, &out), 70);
	ck_assert_msg(strstr(out, "can be written by other users (mode 777): not used"), "%s", out);
	ck_assert(!exists(".gantry/history.jsonl"));
	/* a sane .gantry, and deploy.env.prev planted as a symlink to a file outside */
	ck_assert_int_eq(sh("chmod 700 '%s/.gantry' && echo APP_IMAGE=old >'%s/deploy.env' && "
	    "echo precious >'%s/outside' && ln -s '%s/outside' '%s/deploy.env.prev'", dir, dir, dir, dir,
	    dir), 0);
	ck_assert_int_eq(start(&s, &out), 0);
	wait_end("r50");
	ck_assert_str_eq(slurp("outside"), "precious\n");
	ck_assert_str_eq(slurp("deploy.env.prev"), "APP_IMAGE=old\n");
	ck_assert_str_eq(slurp("deploy.env"), "APP_IMAGE=new\n");
}
END_TEST

START_TEST(a_freeze_blocks_promotion_not_rollback)
{
	struct run_spec s = spec("r3", three, 1);
	char *out;

	ck_assert_int_eq(sh("mkdir -p '%s/.gantry' && printf 'by=carol\\nreason=incident 42\\n' "
	    ">'%s/.gantry/freeze'", dir, dir), 0);
	ck_assert_int_eq(start(&s, &out), 76);
	ck_assert_str_eq(out, "FROZEN\nby=carol\nreason=incident 42\n");
	ck_assert(!exists(".gantry/lock"));
	/* a deploy too: a freeze blocks everything but a rollback, on the host as in gantry */
	s.action = "deploy";
	ck_assert_int_eq(start(&s, &out), 76);
	ck_assert(!exists(".gantry/lock"));
	s.action = "rollback";
	ck_assert_int_eq(start(&s, &out), 0);
	wait_end("r3");
}
END_TEST

START_TEST(a_failed_step_stops_the_run)
{
	static const struct release_step steps[] = {
		{ "pull", "true", 5000, false, false, NULL },
		{ "migrate", "echo 'migration 0042 failed' >&2; exit 3", 5000, false, false, NULL },
		{ "start app", "touch app-started", 5000, true, false, NULL },
	};
	struct run_spec s = spec("r4", steps, 3);
	char *out, *ev, *hist;

	ck_assert_int_eq(start(&s, &out), 0);
	ev = wait_end("r4");
	ck_assert_msg(strstr(ev, "step 2 end 3 ") && !strstr(ev, "step 3 start") && strstr(ev, "run end failed"), "%s", ev);
	ck_assert(!exists("app-started"));
	hist = slurp(".gantry/history.jsonl");
	ck_assert_msg(strstr(hist, "\"result\":\"failed\",\"failed_step\":2"), "%s", hist);
	ck_assert_msg(strstr(hist, "\"switched\":false"), "the app was not switched: %s", hist);
	ck_assert_msg(strstr(slurp(".gantry/runs/r4/output"), "migration 0042 failed"), "stderr is kept");
	ck_assert(!exists(".gantry/lock"));
}
END_TEST

START_TEST(a_failure_after_the_switch_rolls_back)
{
	static const struct release_step steps[] = {
		{ "start app", "echo new > running", 5000, true, false, NULL },
		{ "wait for ready", "exit 1", 5000, false, false, NULL },
	};
	static const struct release_step back[] = {
		{ "start app", "echo old > running", 5000, true, false, NULL },
		{ "wait for ready", "true", 5000, false, false, NULL },
	};
	struct run_spec s = spec("r5", steps, 2);
	char *out, *ev, *hist;

	s.rollback = back;
	s.rollback_len = 2;
	s.rollback_tag = "sha-8b03f7a";
	ck_assert_int_eq(start(&s, &out), 0);
	ev = wait_end("r5");
	ck_assert_msg(strstr(ev, "rollback start") && strstr(ev, "rollback 2 end 0") && strstr(ev, "run end rolled_back"), "%s", ev);
	ck_assert_str_eq(slurp("running"), "old\n");
	hist = slurp(".gantry/history.jsonl");
	ck_assert_msg(strstr(hist, "\"rollback_tag\":\"sha-8b03f7a\""), "%s", hist);
	ck_assert_msg(strstr(hist, "\"result\":\"rolled_back\",\"failed_step\":2"), "%s", hist);
	ck_assert_msg(strstr(hist, "{\"phase\":\"rollback\",\"name\":\"start app\",\"exit\":0"), "%s", hist);
	ck_assert_msg(strstr(slurp(".gantry/runs/r5/output"), "rolling back to sha-8b03f7a"), "said in the output");
}
END_TEST

START_TEST(a_step_times_out)
{
	static const struct release_step steps[] = { { "pull", "sleep 30", 1000, false, false, NULL } };
	struct run_spec s = spec("r6", steps, 1);
	char *out, *ev;
	time_t t0 = time(NULL);

	ck_assert_int_eq(start(&s, &out), 0);
	ev = wait_end("r6");
	ck_assert_msg(strstr(ev, "step 1 end 124 ") && strstr(ev, "run end failed"), "%s", ev);
	ck_assert_int_le(time(NULL) - t0, 5);
	ck_assert_msg(strstr(slurp(".gantry/runs/r6/output"), "timed out after 1s"), "the timeout is said");
}
END_TEST

/* the runner's pid, from the lock */
static pid_t runner_pid(void)
{
	ck_assert(wait_for(".gantry/lock/pid", ""));
	return (pid_t)atoi(slurp(".gantry/lock/pid"));
}

START_TEST(cancel_before_the_switch_only)
{
	static const struct release_step steps[] = {
		{ "pull", "sleep 30", 60000, false, false, NULL },
		{ "start app", "touch app-started", 5000, true, false, NULL },
	};
	static const struct release_step late[] = {
		{ "start app", "sleep 1; touch app-started", 60000, true, false, NULL },
	};
	struct run_spec s = spec("r7", steps, 2);
	char *out, *ev;
	time_t t0 = time(NULL);
	pid_t pid;

	ck_assert_int_eq(start(&s, &out), 0);
	ck_assert_int_le(time(NULL) - t0, 2);           /* start returned; the step runs on */
	pid = runner_pid();
	ck_assert(wait_for(".gantry/runs/r7/events", "step 1 start"));
	ck_assert_int_eq(sh("touch '%s/.gantry/runs/r7/cancel'", dir), 0);
	kill(pid, SIGUSR1);
	ev = wait_end("r7");
	ck_assert_msg(strstr(ev, "cancel accepted") && strstr(ev, "run end cancelled"), "%s", ev);
	ck_assert(!exists("app-started"));
	ck_assert_int_le(time(NULL) - t0, 10);
	ck_assert_msg(strstr(slurp(".gantry/history.jsonl"), "\"result\":\"cancelled\""), "recorded");

	/* once the app is being switched, a cancel is refused and the run goes on */
	s = spec("r8", late, 1);
	ck_assert_int_eq(start(&s, &out), 0);
	pid = runner_pid();
	ck_assert(wait_for(".gantry/runs/r8/events", "step 1 start"));
	ck_assert_int_eq(sh("touch '%s/.gantry/runs/r8/cancel'", dir), 0);
	kill(pid, SIGUSR1);
	ev = wait_end("r8");
	ck_assert_msg(strstr(ev, "cancel refused") && strstr(ev, "run end succeeded"), "%s", ev);
	ck_assert(exists("app-started"));
}
END_TEST

/* The lock appears with its owner and a live pid in one step: held inside the start (a
 * sync that waits), it cannot be broken as stale; the runner's pid replaces the start's. */
START_TEST(a_lock_being_taken_cannot_be_broken)
{
	struct run_spec s = spec("r50", three, 3);
	char *cmd = runscript_start_command(&s);
	struct hostadmin_call call;
	char *unlock, *bg;
	int rc;

	hostadmin_call(ADMIN_UNLOCK, "production", "mallory@ops", "stale", 1790000000, &call);
	unlock = runner_inline_command(call.sub, call.args, call.nargs);
	hostadmin_call_free(&call);
	/* sync, which the history append calls, waits until told to go on */
	ck_assert_int_eq(sh("mkdir '%s/shim' && printf '#!/bin/sh\\necho x >\"%s/in-sync\"\\n"
	    "while [ ! -e \"%s/go\" ]; do sleep 0.05; done\\n' >'%s/shim/sync' && "
	    "chmod +x '%s/shim/sync'", dir, dir, dir, dir, dir), 0);
	bg = xasprintf("cd '%s' && PATH='%s/shim':$PATH sh -c %s >start.out 2>&1 &", dir, dir,
	    keep(template_shell_quote(cmd)));
	ck_assert_int_eq(system(bg), 0);
	ck_assert(wait_for("in-sync", ""));
	ck_assert(exists(".gantry/lock/owner") && exists(".gantry/lock/pid"));
	rc = sh("cd '%s' && { %s\n} >unlock.out 2>&1", dir, unlock);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "unlock exit %d: %s", rc,
	    slurp("unlock.out"));
	ck_assert_msg(strstr(slurp("unlock.out"), "its run is alive"), "%s", slurp("unlock.out"));
	ck_assert(exists(".gantry/lock/owner"));
	ck_assert_int_eq(sh("touch '%s/go'", dir), 0);
	ck_assert(wait_for("start.out", "STARTED r50"));
	wait_end("r50");
	ck_assert(!exists(".gantry/lock"));
	free(bg);
	free(cmd);
	free(unlock);
}
END_TEST

/* Runs a runner subcommand (its program sent along) in dir; its status, output in *out. */
static int runner_sub(enum runner_sub sub, const char *const *args, size_t n, char **out)
{
	char *cmd = runner_inline_command(sub, args, n);
	int rc = sh("cd '%s' && { %s\n} >sub.out 2>&1", dir, cmd);

	free(cmd);
	*out = slurp("sub.out");
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A run over several hosts: the lease is the lock from before the first step to after
 * the last host, with its plan; each host's run runs under it and leaves it held; a
 * second start of the same run follows the first; only its run lets it go. */
START_TEST(a_lease_holds_the_lock_across_the_run)
{
	const char *lease[] = { "L1", "promote", "alice@laptop", "promote sha-4e1d2c9 from staging",
	    "{\"event\":\"plan\",\"id\":\"L1\"}" };
	const char *other[] = { "L2", "deploy", "bob@ops", "deploy sha-9", "{\"event\":\"plan\"}" };
	const char *release[] = { "L1" }, *release_other[] = { "L2" };
	struct run_spec s = spec("L1", three, 3), plain = spec("r60", three, 3);
	char *out, *plan;

	ck_assert_int_eq(runner_sub(RUNNER_LEASE, lease, 5, &out), 0);
	plan = slurp(".gantry/lock/plan");
	ck_assert_str_eq(plan, "{\"event\":\"plan\",\"id\":\"L1\"}\n");
	ck_assert(!exists(".gantry/lock/pid"));
	ck_assert_int_eq(runner_sub(RUNNER_LEASE, lease, 5, &out), 0);     /* a retry: its own */
	ck_assert_int_eq(runner_sub(RUNNER_LEASE, other, 5, &out), 75);
	ck_assert_msg(strstr(out, "LOCKED\nowner=alice@laptop\n") == out, "%s", out);
	/* a run that is not the lease's is refused; the lease's own runs */
	ck_assert_int_eq(start(&plain, &out), 75);
	s.lease = "L1";
	ck_assert_int_eq(start(&s, &out), 0);
	ck_assert_str_eq(out, "STARTED L1\n");
	wait_end("L1");
	ck_assert(exists(".gantry/lock/owner") && !exists(".gantry/lock/pid"));
	/* started once: a second start (a gantry carrying the run on) only follows it */
	ck_assert_int_eq(start(&s, &out), 0);
	ck_assert_str_eq(out, "STARTED L1\n");
	ck_assert_int_eq(sh("test \"$(grep -c '\"event\":\"start\"' '%s/.gantry/history.jsonl')\" = 1",
	    dir), 0);
	ck_assert_int_eq(runner_sub(RUNNER_RELEASE, release_other, 1, &out), 3);
	ck_assert(exists(".gantry/lock"));
	ck_assert_int_eq(runner_sub(RUNNER_RELEASE, release, 1, &out), 0);
	ck_assert(!exists(".gantry/lock"));
	ck_assert_int_eq(runner_sub(RUNNER_RELEASE, release, 1, &out), 3);
}
END_TEST

/* A rollout's driver beside the lease: claimed, renewed, refused to another token while
 * its beat is fresh (with its record, framed), taken once it is stale or let go; a
 * request waits beside it until the driver answers it; all of it goes with the lease. */
START_TEST(a_driver_is_named_beside_the_lease)
{
	const char *lease[] = { "L7", "deploy", "alice@laptop", "deploy sha-4e1d2c9",
	    "{\"event\":\"plan\",\"id\":\"L7\"}" };
	const char *mine[] = { "L7", "0123456789abcdef",
	    "token=0123456789abcdef\nby=alice@laptop\nstale=15\nstate=running\nwave=1\nwhy=\nbeat=1\n", "" };
	const char *theirs[] = { "L7", "fedcba9876543210",
	    "token=fedcba9876543210\nby=bob@ops\nstale=15\nstate=running\nwave=1\nwhy=\n", "" };
	const char *other_run[] = { "L8", "0123456789abcdef", "token=0123456789abcdef\n", "" };
	const char *ask[] = { "L7", "id=aaaaaaaa11111111\nask=pause\nby=carol@ops\nwhy=errors\nat=5\n" };
	const char *ack[] = { "L7", "0123456789abcdef",
	    "token=0123456789abcdef\nby=alice@laptop\nstale=15\nstate=paused\nwave=1\nwhy=asked\n",
	    "aaaaaaaa11111111" };
	const char *leave[] = { "L7", "0123456789abcdef", "token=0123456789abcdef\nstate=left\n", "" };
	const char *release[] = { "L7" };
	struct drive_record rec;
	char *out, *text;

	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, mine, 4, &out), 3);  /* no lease yet */
	ck_assert_int_eq(runner_sub(RUNNER_LEASE, lease, 5, &out), 0);
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, other_run, 4, &out), 3);
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, mine, 4, &out), 0);
	ck_assert_msg(strstr(out, "@@gantry-state@@ request\n@@gantry-state@@ end\n"), "%s", out);
	text = slurp(".gantry/lock/driver");
	ck_assert_msg(drive_record_parse(text, strlen(text), &rec), "%s", text);
	ck_assert_int_ne(rec.beat, 1);         /* the host's clock, not the one sent */
	ck_assert(drive_live(&rec, (int64_t)time(NULL)));
	/* another gantry while the beat is fresh: refused, with the record */
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, theirs, 4, &out), 75);
	ck_assert_msg(strstr(out, "@@gantry-state@@ driver\n746f6b656e3d30313233"), "%s", out);
	/* a request waits for the driver, who clears it by answering */
	ck_assert_int_eq(runner_sub(RUNNER_ASK, ask, 2, &out), 0);
	text = slurp(".gantry/lock/request");
	ck_assert_msg(strstr(text, "ask=pause\n") && strstr(text, "\nat="), "%s", text);
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, mine, 4, &out), 0);
	ck_assert_msg(strstr(out, "@@gantry-state@@ request\n69643d"), "%s", out);
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, ack, 4, &out), 0);
	ck_assert(!exists(".gantry/lock/request"));
	/* let go: another may drive at once */
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, leave, 4, &out), 0);
	ck_assert(!exists(".gantry/lock/driver"));
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, theirs, 4, &out), 0);
	/* a stale beat is taken over */
	ck_assert_int_eq(sh("cd '%s' && sed -i 's/^beat=.*/beat=1000/' .gantry/lock/driver", dir), 0);
	ck_assert_int_eq(runner_sub(RUNNER_DRIVE, mine, 4, &out), 0);
	ck_assert_msg(strstr(slurp(".gantry/lock/driver"), "by=alice@laptop\n"), "%s",
	    slurp(".gantry/lock/driver"));
	/* the state read carries both */
	ck_assert_int_eq(runner_sub(RUNNER_ASK, ask, 2, &out), 0);
	ck_assert_int_eq(runner_sub(RUNNER_WATCH, NULL, 0, &out), 0);
	ck_assert_msg(strstr(out, "@@gantry-state@@ lock-driver\n746f6b656e3d") &&
	    strstr(out, "@@gantry-state@@ lock-request\n69643d"), "%s", out);
	ck_assert_int_eq(runner_sub(RUNNER_RELEASE, release, 1, &out), 0);
	ck_assert(!exists(".gantry/lock"));
	ck_assert_int_eq(runner_sub(RUNNER_ASK, ask, 2, &out), 3);
}
END_TEST

/* A run whose lock was broken and taken by another run leaves that run's lock alone. */
START_TEST(a_run_releases_only_its_own_lock)
{
	static const struct release_step steps[] = {
		{ "wait", "while [ ! -e go ]; do sleep 0.05; done", 20000, false, false, NULL },
	};
	struct run_spec s = spec("r51", steps, 1);
	char *out, *ev;

	ck_assert_int_eq(start(&s, &out), 0);
	ck_assert_msg(strstr(slurp(".gantry/lock/owner"), "run=r51\n"), "%s", slurp(".gantry/lock/owner"));
	/* meanwhile the lock is broken and r52 takes it */
	ck_assert_int_eq(sh("cd '%s' && rm -rf .gantry/lock && mkdir .gantry/lock && "
	    "printf 'owner=bob@ops\\nrun=r52\\n' >.gantry/lock/owner && touch go", dir), 0);
	ev = wait_end("r51");
	ck_assert_msg(strstr(ev, "run end succeeded"), "%s", ev);
	ck_assert_str_eq(slurp(".gantry/lock/owner"), "owner=bob@ops\nrun=r52\n");
	/* and a run releases its own */
	s = spec("r53", three, 3);
	ck_assert_int_eq(sh("rm -rf '%s/.gantry/lock'", dir), 0);
	ck_assert_int_eq(start(&s, &out), 0);
	wait_end("r53");
	ck_assert(!exists(".gantry/lock"));
	ck_assert_int_eq(sh("cd '%s' && ls -a .gantry | grep -c '^lock' >count; true", dir), 0);
	ck_assert_str_eq(slurp("count"), "0\n");
}
END_TEST

/* The program's body (src/compose/runner.sh) without its comments: the part after the preamble. */
static char *body_code(void)
{
	const char *prog = runner_program(), *b = strstr(prog, "\nset -u\n");
	char *out, *o;

	ck_assert_ptr_nonnull(b);
	out = o = keep(xstrdup(b));
	for (const char *line = b; *line;) {
		size_t n = strcspn(line, "\n");
		size_t lead = strspn(line, " \t");

		if (line[lead] != '#') {
			memcpy(o, line, n);
			o += n;
			*o++ = '\n';
		}
		line += n + (line[n] == '\n');
	}
	*o = '\0';
	return out;
}

/* The contract is written once: the runner names its statuses, results, markers, files
 * and limits only through the preamble made from src/compose/runner.h, and every name it uses is
 * one the preamble defines. */
START_TEST(the_runner_names_the_contract_only)
{
	const char *prog = runner_program();
	char *body = body_code();
	static const char *const literals[] = {
		"echo STARTED", "echo LOCKED", "echo FROZEN", "echo \"STARTED", "echo \"LOCKED",
		"echo \"FROZEN", "'==> ", "==> exit", "==> run", "@@gantry-state", ".gantry",
		"succeeded", "rolled_back", "rollback_failed", "result=failed", "result=cancelled",
		"exit 3", "exit 4", "exit 70", "exit 75", "exit 76", "exit 79", "= 124", "65537",
		"262144", "part now", "part lock", "part deploy.env", "part history", "part end",
		"held=1", "pid=1", "alive=1", "frozen=1", "echo missing", "echo not-a-file",
		"event run", "event cancel", "event rollback", "event step", " start\"", " end ",
		"run_steps step", "run_steps rollback",
	};
	static const int statuses[] = {
#define STATUS(name, status, meaning) status,
		RUNNER_EXITS(STATUS)
#undef STATUS
	};

	for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++)
		ck_assert_msg(!strstr(body, literals[i]), "src/compose/runner.sh writes %s itself", literals[i]);
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		char word[32];

		snprintf(word, sizeof word, "exit %d", statuses[i]);
		ck_assert_msg(!strstr(body, word), "src/compose/runner.sh writes %s itself", word);
	}
	/* every $EX_, $R_, $M_, $G_, $N_, $P_ (state parts), $F_ (flags), $S_ (deploy.env's
	 * status) and $V_ (event words) name used is defined in the preamble, and the reverse */
	for (const char *p = body; (p = strpbrk(p, "$")); p++) {
		char name[40], def[48];
		size_t n = 0;

		if (p[1] == '{')
			p++;
		while (n + 1 < sizeof name && (p[1 + n] == '_' || (p[1 + n] >= 'A' && p[1 + n] <= 'Z')))
			n++;
		memcpy(name, p + 1, n);
		name[n] = '\0';
		if (n < 3 || name[1] != '_' || !strchr("ERMGNPFSV", name[0]))
			continue;
		snprintf(def, sizeof def, "\n%s=", name);
		ck_assert_msg(strstr(prog, def), "src/compose/runner.sh uses $%s, which the preamble lacks", name);
	}
	for (const char *p = prog; (p = strchr(p, '\n')) && p < strstr(prog, "\nset -u\n"); p++) {
		char name[40], use[48];
		size_t n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

		if (n == 0 || n >= sizeof name || p[1 + n] != '=')
			continue;
		memcpy(name, p + 1, n);
		name[n] = '\0';
		snprintf(use, sizeof use, "$%s", name);
		if (!strstr(body, use)) {
			snprintf(use, sizeof use, "${%s", name);
			ck_assert_msg(strstr(body, use), "the preamble's %s is never used", name);
		}
	}
}
END_TEST

/* The runner is installed once, where gantry first needs it; a host without it says so
 * with its own status and nothing else; a .gantry gantry may not write still gets its
 * answer, from the program sent along. */
START_TEST(the_runner_is_installed_where_missing)
{
	char *plain = keep(runner_command(RUNNER_VERSION, NULL, 0));
	char *install = keep(runner_install_command(RUNNER_VERSION, NULL, 0));
	char *path = keep(xasprintf("%s/%s", dir, runner_path()));
	char *version = keep(xasprintf("gantry-runner %d\n", RUNNER_PROTOCOL));
	struct stat st;
	int rc;

	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_NO_RUNNER, "exit %d", rc);
	ck_assert_str_eq(slurp("out"), "");
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, install);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(slurp("out"), version);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_str_eq(slurp(runner_path()), runner_program());
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(slurp("out"), version);

	/* a .gantry planted as a symlink: nothing is written through it */
	ck_assert_int_eq(sh("cd '%s' && rm -rf .gantry && mkdir elsewhere && ln -s elsewhere .gantry",
	    dir), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, install);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(slurp("out"), version);
	ck_assert(!exists("elsewhere/bin"));
}
END_TEST

/* A runner planted by another account, or changed, never runs, not even for a read-only
 * state read: the installed runner runs only when .gantry, .gantry/bin and the file are
 * the login's alone and the file is what its name's hash says (issue 23, finding 2). */
START_TEST(a_planted_runner_is_refused)
{
	char *plain = keep(runner_command(RUNNER_VERSION, NULL, 0));
	char *install = keep(runner_install_command(RUNNER_VERSION, NULL, 0));
	char *version = keep(xasprintf("gantry-runner %d\n", RUNNER_PROTOCOL));
	const char *r = runner_path();
	static const struct release_step steps[] = {
		{ "write deploy.env", "true", 5000, true, false, NULL },
	};
	struct run_spec s = spec("r60", steps, 1);
	char *out;
	int rc;

	ck_assert_int_eq(sh("cd '%s' && { %s\n} >out 2>&1", dir, install), 0);
	ck_assert_str_eq(slurp("out"), version);
	/* changed in place, same owner and mode: its content no longer matches its name */
	ck_assert_int_eq(sh("cd '%s' && cp %s saved && printf 'touch PWNED\\n' >%s", dir, r, r), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_UNSAFE, "exit %d: %s", rc,
	    slurp("out"));
	ck_assert_msg(strstr(slurp("out"), "is not the runner its name says"), "%s", slurp("out"));
	ck_assert(!exists("PWNED"));
	ck_assert_int_eq(sh("cd '%s' && cp saved %s && chmod 600 %s", dir, r, r), 0);
	/* writable by others */
	ck_assert_int_eq(sh("cd '%s' && chmod 666 %s", dir, r), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_UNSAFE, "exit %d (666)", rc);
	ck_assert_msg(strstr(slurp("out"), "can be written by other users (mode 666): not used"), "%s",
	    slurp("out"));
	ck_assert_int_eq(sh("cd '%s' && chmod 600 %s && chmod 770 .gantry/bin", dir, r), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_UNSAFE, "exit %d (check 1)", rc);
	ck_assert_msg(strstr(slurp("out"), ".gantry/bin can be written by other users (mode 770)"),
	    "%s", slurp("out"));
	ck_assert_int_eq(sh("cd '%s' && chmod 700 .gantry/bin", dir), 0);
	ck_assert_int_eq(sh("cd '%s' && { %s\n} >out 2>&1", dir, plain), 0);
	if (geteuid() != 0)
		return;                 /* another owner needs root to make */
	/* another account's runner, .gantry/bin and .gantry: named with their owner */
	ck_assert_int_eq(sh("chown nobody '%s/%s'", dir, r), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_UNSAFE, "exit %d (check 2)", rc);
	ck_assert_msg(strstr(slurp("out"), "belongs to nobody (uid 65534), not to this login (uid 0)"),
	    "%s", slurp("out"));
	/* a .gantry/bin of another account: its runner never runs; the install refuses to write
	 * there, and the command still answers with the program sent along */
	ck_assert_int_eq(sh("cd '%s' && chown root %s && chown nobody .gantry/bin && "
	    "printf 'touch PWNED\\n' >%s", dir, r, r), 0);
	rc = sh("cd '%s' && { %s\n} >out 2>&1", dir, plain);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == UNIT_EXIT_UNSAFE, "exit %d (check 3)", rc);
	ck_assert_msg(strstr(slurp("out"), ".gantry/bin belongs to nobody"), "%s", slurp("out"));
	ck_assert_int_eq(sh("cd '%s' && { %s\n} >out 2>&1", dir, install), 0);
	ck_assert_str_eq(slurp("out"), version);
	ck_assert(!exists("PWNED"));
	ck_assert_str_eq(slurp(r), "touch PWNED\n");
	ck_assert_int_eq(sh("chown root '%s/.gantry/bin' && mkdir -p '%s/.gantry/runs' && "
	    "chown nobody '%s/.gantry/runs'", dir, dir, dir), 0);
	/* nor is a run's script written where another account could change it */
	ck_assert_int_eq(start(&s, &out), UNIT_EXIT_UNSAFE);
	ck_assert_msg(strstr(out, ".gantry/runs belongs to nobody"), "%s", out);
	ck_assert(!exists(".gantry/runs/r60/run.sh"));
}
END_TEST

/* tied: the command and everything it started end when stdin (gantry's channel) ends,
 * though it writes nothing; its own status comes through when it ends first. */
START_TEST(a_tied_command_ends_with_its_channel)
{
	char *tied = keep(runner_inline_command(RUNNER_TIED,
	    (const char *const[]){ "echo up; sleep 283 & sleep 284" }, 1));
	char *quick = keep(runner_inline_command(RUNNER_TIED,
	    (const char *const[]){ "echo done; exit 9" }, 1));
	int rc, left = 1;

	rc = sh("cd '%s' && sleep 0.5 | { %s\n} >out 2>&1", dir, tied);
	ck_assert_str_eq(slurp("out"), "up\n");
	for (int i = 0; i < 300 && left; i++) {
		left = system("pgrep -f 'sleep 28[34]' >/dev/null") == 0;
		if (left)
			usleep(10000);
	}
	ck_assert_msg(!left, "the tied command's processes outlived the channel");
	ck_assert(WIFEXITED(rc));
	rc = sh("cd '%s' && sleep 5 | { %s\n} >out 2>&1", dir, quick);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 9, "exit %d", rc);
	ck_assert_str_eq(slurp("out"), "done\n");
	/* a command that ends first leaves nothing behind reading the channel */
	rc = sh("cd '%s' && mkfifo in && { sleep 37 >in & w=$!; } && ( %s\n) <in >out 2>&1; "
	    "for i in $(seq 1 100); do n=$(find /proc/[0-9]*/fd -lname \"$PWD/in\" 2>/dev/null | "
	    "wc -l); [ \"$n\" -le 1 ] && break; sleep 0.02; done; kill $w; "
	    "[ \"$n\" -le 1 ]", dir, quick);
	ck_assert_msg(rc == 0, "a process of the tied command still reads its channel");
}
END_TEST

START_TEST(ids_are_checked)
{
	ck_assert(value_run_id("20261122T071500-ab12"));
	ck_assert(!value_run_id("../x"));
	ck_assert(!value_run_id(""));
	ck_assert(!value_run_id("a b"));
	ck_assert(!value_run_id(".hidden"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("runner");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_run_succeeds_and_is_recorded);
	tcase_add_test(tc, a_held_lock_refuses_with_its_owner);
	tcase_add_test(tc, a_freeze_blocks_promotion_not_rollback);
	tcase_add_test(tc, the_runners_files_are_private);
	tcase_add_test(tc, a_planted_gantry_dir_is_refused);
	tcase_add_test(tc, a_failed_step_stops_the_run);
	tcase_add_test(tc, a_failure_after_the_switch_rolls_back);
	tcase_add_test(tc, a_step_times_out);
	tcase_add_test(tc, cancel_before_the_switch_only);
	tcase_add_test(tc, a_lock_being_taken_cannot_be_broken);
	tcase_add_test(tc, a_run_releases_only_its_own_lock);
	tcase_add_test(tc, a_lease_holds_the_lock_across_the_run);
	tcase_add_test(tc, a_driver_is_named_beside_the_lease);
	tcase_add_test(tc, ids_are_checked);
	tcase_add_test(tc, the_runner_names_the_contract_only);
	tcase_add_test(tc, the_runner_is_installed_where_missing);
	tcase_add_test(tc, a_planted_runner_is_refused);
	tcase_add_test(tc, a_tied_command_ends_with_its_channel);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
