/* One run on one host: the start command's reply, then the runner's follow (events on
 * stderr, output on stdout) until both the end event and the end marker came. */
#include "config.h"

#include "events.h"
#include "hostrun.h"
#include "outbuf.h"
#include "remote.h"
#include "runner.h"
#include "sanitize.h"
#include "value.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 8192
#define REFOLLOW_MS 1000

/* Splits a byte stream into lines, at most LINE_MAX_BYTES each. */
struct splitter {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

struct hostrun {
	struct unit_run base;           /* first: a unit_run is a hostrun here */
	struct loop *loop;
	struct remote_host *host;
	const struct unit_run_ops *ops;
	void *arg;
	char id[72];
	struct unit_cmd *start_cmd, *follow_cmd, *cancel_cmd;
	struct outbuf start_out;
	struct splitter out_split, ev_split;
	bool saw_end_event, saw_end_marker;
	uint64_t out_total;             /* output lines passed on so far */
	uint64_t out_replay;            /* lines of the current follow (a re-follow replays) */
	bool mark_read;                 /* the current follow's first line was seen */
	char note[RUNEVENT_NOTE_MAX];   /* the run's own lines start so on the host: "==>MARK " */
	uint64_t refollow_timer;
};

static void follow(struct hostrun *r);

/* The first line of s after skip_lines, sanitized */
static void first_line(char *dst, size_t dstsz, const char *s, size_t skip_lines)
{
	const char *p = s ? s : "";

	while (skip_lines-- > 0 && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	sanitize_text(p, strcspn(p, "\n"), dst, dstsz, 0);
}

/* ---- starting ---- */

static void start_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct hostrun *r = arg;

	if (!is_stderr)
		outbuf_add(&r->start_out, data, len, HOSTSTATE_MAX_BYTES);
}

static void start_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct hostrun *r = arg;
	const char *out = outbuf_text(&r->start_out);
	struct unit_run_not_started n = { .status = status };

	r->start_cmd = NULL;
	if (how == UNIT_EXITED && strncmp(out, RUNNER_MARK_STARTED " ",
	    strlen(RUNNER_MARK_STARTED " ")) == 0) {
		outbuf_clear(&r->start_out);
		follow(r);
		r->ops->started(r->arg);
		return;
	}
	if (how == UNIT_EXITED && status == UNIT_EXIT_LOCKED) {
		/* LOCKED, then the owner record */
		const char *owner = out + strcspn(out, "\n");

		n.why = UNIT_RUN_LOCKED;
		n.lock.held = true;
		hoststate_read_owner(owner, strlen(owner), &n.lock);
	} else if (how == UNIT_EXITED && status == UNIT_EXIT_FROZEN) {
		n.why = UNIT_RUN_FROZEN;
		first_line(n.text, sizeof n.text, out, 1);
	} else if (how == UNIT_EXITED) {
		n.why = UNIT_RUN_FAILED;
		first_line(n.text, sizeof n.text, out, 0);
	} else {
		n.why = UNIT_RUN_LINK;
		first_line(n.text, sizeof n.text, message && *message ? message : "lost", 0);
	}
	outbuf_clear(&r->start_out);
	r->ops->not_started(r->arg, &n);
}

static const struct unit_cmd_ops start_ops = {
	.output = start_output, .done = start_done, .bounded = true,
};

/* ---- following ---- */

static void split_feed(struct splitter *sp, const char *data, size_t len,
    void (*line)(struct hostrun *, const char *, size_t), struct hostrun *r)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || sp->len == sizeof sp->buf - 1) {
			line(r, sp->buf, sp->len);
			sp->len = 0;
			if (data[i] == '\n')
				continue;
		}
		sp->buf[sp->len++] = data[i];
	}
}

/* One event line, the runner's or nothing */
static void on_event(struct hostrun *r, const char *text, size_t len)
{
	struct run_event ev;

	if (!runevent_parse(text, len, &ev))
		return;
	if (ev.kind == RUNEVENT_RUN_END)
		r->saw_end_event = true;
	r->ops->event(r->arg, &ev);
}

/* One line of output: the follow's first says the run's mark, which tells the runner's
 * own lines from the steps' (src/runevent.h). */
static void on_output(struct hostrun *r, const char *text, size_t len)
{
	bool end;
	char *out;

	if (!r->mark_read) {
		r->mark_read = true;
		if (runevent_mark(text, len, r->note))
			return;
	}
	out = runevent_output_line(r->note, r->id, text, len, LINE_MAX_BYTES, &end);
	r->saw_end_marker = r->saw_end_marker || end;
	if (++r->out_replay <= r->out_total) {
		free(out);
		return;                 /* had it before the link dropped */
	}
	r->out_total++;
	r->ops->output(r->arg, out, strlen(out));
}

static void follow_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct hostrun *r = arg;

	if (is_stderr)
		split_feed(&r->ev_split, data, len, on_event, r);
	else
		split_feed(&r->out_split, data, len, on_output, r);
	if (r->saw_end_event && r->saw_end_marker && r->follow_cmd) {
		unit_cmd_stop(r->follow_cmd);
		r->follow_cmd = NULL;
		r->ops->ended(r->arg);
		return;
	}
	r->ops->heard(r->arg);
}

static void refollow(struct loop *loop, void *arg)
{
	struct hostrun *r = arg;

	(void)loop;
	r->refollow_timer = 0;
	follow(r);
}

static void follow_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct hostrun *r = arg;
	char why[200];

	r->follow_cmd = NULL;
	if (r->saw_end_event) {
		r->ops->ended(r->arg);
		return;
	}
	if (how == UNIT_EXITED && status != 0) {
		r->ops->follow_failed(r->arg, status);
		return;
	}
	first_line(why, sizeof why, message && *message ? message : "the command ended", 0);
	r->refollow_timer = loop_timer_add(r->loop, REFOLLOW_MS, refollow, r);
	r->ops->lost(r->arg, why);
}

/* a follow lasts as long as its run: no deadline */
static const struct unit_cmd_ops follow_ops = { .output = follow_output, .done = follow_done };

static void follow(struct hostrun *r)
{
	/* the events and output come again from the start */
	r->saw_end_event = r->saw_end_marker = false;
	r->out_split.len = r->ev_split.len = 0;
	r->out_replay = 0;
	r->mark_read = false;
	snprintf(r->note, sizeof r->note, "%s", RUNNER_MARK_NOTE);    /* until the mark says */
	r->ops->replay(r->arg);
	r->follow_cmd = runner_run(r->host, RUNNER_FOLLOW, (const char *const[]){ r->id }, 1,
	    &follow_ops, r);
}

/* ---- cancelling ---- */

static void cancel_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct hostrun *r = arg;

	(void)message;
	r->cancel_cmd = NULL;
	if (how != UNIT_EXITED || status != 0)
		r->ops->cancel_failed(r->arg);
}

static const struct unit_cmd_ops cancel_ops = { .done = cancel_done, .bounded = true };

static bool run_cancel(struct unit_run *u)
{
	struct hostrun *r = (struct hostrun *)u;

	if (!value_run_id(r->id) || r->cancel_cmd)
		return false;
	/* only the runner of this run: the lock may be another run's by now; the answer
	 * comes as an event */
	r->cancel_cmd = runner_run(r->host, RUNNER_CANCEL, (const char *const[]){ r->id }, 1,
	    &cancel_ops, r);
	return true;
}

/* ---- life cycle ---- */

static void run_free(struct unit_run *u);
static const struct unit_run_class run_class = { .cancel = run_cancel, .free = run_free };

static struct hostrun *hostrun_new(struct loop *loop, struct remote_host *host, const char *id,
    const struct unit_run_ops *ops, void *arg)
{
	struct hostrun *r = xcalloc(1, sizeof *r);

	r->base.cls = &run_class;
	r->loop = loop;
	r->host = host;
	r->ops = ops;
	r->arg = arg;
	snprintf(r->id, sizeof r->id, "%s", id);
	return r;
}

struct unit_run *hostrun_start(struct loop *loop, struct remote_host *host,
    const struct run_spec *spec, const struct unit_run_ops *ops, void *arg)
{
	struct hostrun *r = hostrun_new(loop, host, spec->id, ops, arg);
	char *cmd = runscript_start_command(spec);

	r->start_cmd = remote_run(host, cmd, &start_ops, r);
	free(cmd);
	return &r->base;
}

struct unit_run *hostrun_follow(struct loop *loop, struct remote_host *host, const char *id,
    const struct unit_run_ops *ops, void *arg)
{
	struct hostrun *r = hostrun_new(loop, host, id, ops, arg);

	follow(r);
	return &r->base;
}

static void run_free(struct unit_run *u)
{
	struct hostrun *r = (struct hostrun *)u;

	if (r->start_cmd)
		unit_cmd_stop(r->start_cmd);
	if (r->follow_cmd)
		unit_cmd_stop(r->follow_cmd);
	if (r->cancel_cmd)
		unit_cmd_stop(r->cancel_cmd);
	if (r->refollow_timer)
		loop_timer_cancel(r->loop, r->refollow_timer);
	outbuf_clear(&r->start_out);
	free(r);
}
