/* A live log of one environment: the same log on each of its units, lines merged. */
#include "config.h"

#include "duration.h"
#include "logstream.h"
#include "sanitize.h"
#include "target.h"
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000
#define LOG_BYTES_PER_LINE 512          /* scrollback bytes allowed per line, on average */

static void host_start(struct logstream *ls, struct logstream_host *lh);

/* A unit's name: its host's address. */
static const char *unit_name(const struct logstream *ls, const struct logstream_host *lh)
{
	return lh->unit < ls->env->hosts_len ? ls->env->hosts[lh->unit].address : "?";
}

/* A unit's link now (fed streams have none: up). */
static void unit_link(const struct logstream *ls, const struct logstream_host *lh, int64_t now,
    struct link_status *out)
{
	if (ls->target)
		ls->target->ops->link(ls->target, lh->unit, now, out);
	else
		*out = (struct link_status){ .state = LINK_UP, .message = "", .retry_in = -1 };
	out->name = unit_name(ls, lh);
}

static void changed(struct logstream *ls)
{
	if (ls->changed)
		ls->changed(ls->changed_arg);
}

/* Pushes a marker line: gantry's own words, not the host's. */
__attribute__((format(printf, 3, 4)))
static void mark(struct logstream *ls, struct logstream_host *lh, const char *fmt, ...)
{
	char raw[600], stamp[16];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	char *text;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	text = xasprintf("-- %s %s --", stamp, raw);
	logbuf_push(ls->buf, (unsigned)(lh - ls->hosts), LOG_MARK, text, strlen(text));
}

#define HELD_MAX_BYTES (8 * 1024 * 1024)      /* a resumed log's lines held at most */
#define QUIET_MS 700                            /* no line this long: the repeat is over */

/* Remembers a host's newest line: what a resumed command must repeat. */
static void remember(struct logstream_host *lh, const char *text)
{
	if (lh->last_len == LOGSTREAM_OVERLAP) {
		free(lh->last[0]);
		memmove(lh->last, lh->last + 1, (LOGSTREAM_OVERLAP - 1) * sizeof *lh->last);
		lh->last_len--;
	}
	lh->last[lh->last_len++] = xstrdup(text);
}

/* Stores a sanitized line of a host (the buffer takes it). */
static void store(struct logstream *ls, struct logstream_host *lh, char *text, size_t n,
    bool is_stderr)
{
	if (!is_stderr)
		remember(lh, text);
	logbuf_push(ls->buf, (unsigned)(lh - ls->hosts), is_stderr ? LOG_ERR : LOG_OUT, text, n);
	ls->lines++;
}

/* The held lines end with the host's newest lines: all of them were shown before. */
static bool held_meets_last(const struct logstream_host *lh)
{
	if (lh->held_len < lh->last_len)
		return false;
	for (size_t k = 0; k < lh->last_len; k++)
		if (strcmp(lh->held[lh->held_len - lh->last_len + k], lh->last[k]) != 0)
			return false;
	return true;
}

/* Ends the repeat: the held lines are dropped (seen before) or shown (new). */
static void end_skipping(struct logstream *ls, struct logstream_host *lh, bool seen)
{
	if (!seen && lh->held_len)
		mark(ls, lh, "%s: the log started over (new container?): %zu lines",
		    unit_name(ls, lh), lh->held_len);
	for (size_t k = 0; k < lh->held_len; k++) {
		if (seen)
			free(lh->held[k]);
		else
			store(ls, lh, lh->held[k], strlen(lh->held[k]), false);
	}
	free(lh->held);
	lh->held = NULL;
	lh->held_len = lh->held_cap = lh->held_bytes = 0;
	lh->skipping = false;
	loop_timer_cancel(ls->loop, lh->quiet_timer);
	lh->quiet_timer = 0;
}

static void quiet_fire(struct loop *loop, void *arg)
{
	struct logstream_host *lh = arg;

	lh->quiet_timer = 0;
	if (lh->skipping) {
		end_skipping(lh->ls, lh, false);
		changed(lh->ls);
	}
}

/* A line of a resumed command: held until the repeat of what was shown is over. */
static void hold(struct logstream *ls, struct logstream_host *lh, char *text)
{
	lh->held = xreallocarray_grow(lh->held, &lh->held_cap, lh->held_len + 1, sizeof *lh->held);
	lh->held[lh->held_len++] = text;
	lh->held_bytes += strlen(text) + 1;
	if (held_meets_last(lh)) {
		end_skipping(ls, lh, true);
		return;
	}
	if (lh->held_bytes > HELD_MAX_BYTES || lh->held_len > (size_t)ls->env->log_tail + 1) {
		end_skipping(ls, lh, false);
		return;
	}
	loop_timer_cancel(ls->loop, lh->quiet_timer);
	lh->quiet_timer = ls->loop ? loop_timer_add(ls->loop, QUIET_MS, quiet_fire, lh) : 0;
}

/* Sanitizes and stores one complete line (without its newline). */
static void push_line(struct logstream *ls, struct logstream_host *lh, const char *data, size_t len,
    bool is_stderr)
{
	char clean[LOG_LINE_MAX * 2 + 1];
	char *text;
	size_t n;

	if (len > 0 && data[len - 1] == '\r')
		len--;
	/* sanitized on the stack, then kept in a block of its own size */
	n = sanitize_text(data, len, clean, sizeof clean, 0);
	text = xmalloc(n + 1);
	memcpy(text, clean, n + 1);
	if (lh->cut) {
		char *longer = xasprintf("%s [... %zu more bytes cut]", text, lh->cut);

		free(text);
		text = longer;
		n = strlen(text);
		lh->cut = 0;
	}
	if (lh->skipping && !is_stderr)
		hold(ls, lh, text);
	else
		store(ls, lh, text, n, is_stderr);
}

/* Adds bytes to the host's unfinished line, keeping at most LOG_LINE_MAX of it. */
static void partial_add(struct logstream_host *lh, const char *data, size_t len)
{
	size_t room = LOG_LINE_MAX - lh->partial_len;

	if (!lh->partial)
		lh->partial = xmalloc(LOG_LINE_MAX);
	if (len > room) {
		lh->cut += len - room;
		len = room;
	}
	memcpy(lh->partial + lh->partial_len, data, len);
	lh->partial_len += len;
}

/* Leaves the unfinished line, if any, as a line of its own (at the end of a command). */
static void flush_partial(struct logstream_host *lh)
{
	if (lh->partial_len || lh->cut)
		push_line(lh->ls, lh, lh->partial, lh->partial_len, false);
	lh->partial_len = 0;
	lh->cut = 0;
}

void logstream_feed(struct logstream *ls, size_t host, const char *data, size_t len, bool is_stderr)
{
	struct logstream_host *lh = &ls->hosts[host];
	const char *end = data + len, *nl;

	lh->bytes += len;
	while (data < end) {
		nl = memchr(data, '\n', (size_t)(end - data));
		if (!nl) {
			partial_add(lh, data, (size_t)(end - data));
			break;
		}
		if (lh->partial_len || lh->cut) {
			partial_add(lh, data, (size_t)(nl - data));
			push_line(lh->ls, lh, lh->partial, lh->partial_len, is_stderr);
			lh->partial_len = 0;
		} else {
			push_line(lh->ls, lh, data, (size_t)(nl - data), is_stderr);
		}
		data = nl + 1;
	}
	changed(lh->ls);
}

static void on_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct logstream_host *lh = arg;

	logstream_feed(lh->ls, (size_t)(lh - lh->ls->hosts), data, len, is_stderr);
}

static void on_started(void *arg)
{
	struct logstream_host *lh = arg;
	struct logstream *ls = lh->ls;

	if (lh->lost_at) {
		mark(ls, lh, "%s: resumed after %llds", unit_name(ls, lh),
		    (long long)((loop_clock_ms() - lh->lost_at + 500) / 1000));
		lh->lost_at = 0;
	}
	/* the command asks for the whole tail again: what it repeats of this host's lines is
	 * dropped, what it wrote meanwhile shows, and a log that starts over shows whole */
	if (lh->resumed_once && lh->last_len && ls->env->log_tail > 0)
		lh->skipping = true;
	lh->state = LS_LIVE;
	lh->attempts = 0;
	lh->message[0] = '\0';
	changed(ls);
}

static void retry_fire(struct loop *loop, void *arg)
{
	struct logstream_host *lh = arg;

	lh->retry_timer = 0;
	host_start(lh->ls, lh);
	changed(lh->ls);
}

static void on_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct logstream_host *lh = arg;
	struct logstream *ls = lh->ls;
	const char *addr = unit_name(ls, lh);
	int64_t wait, now = loop_clock_ms();
	struct link_status link;

	lh->cmd = NULL;
	flush_partial(lh);
	if (lh->skipping)
		end_skipping(ls, lh, held_meets_last(lh));
	if (how == UNIT_EXITED || how == UNIT_SIGNALLED) {
		lh->state = LS_ENDED;
		lh->exit_status = how == UNIT_EXITED ? status : -1;
		if (how == UNIT_EXITED)
			snprintf(lh->message, sizeof lh->message, "exit %d", status);
		else
			snprintf(lh->message, sizeof lh->message, "%s", message);
		if (ls->follow)
			mark(ls, lh, "%s: the command ended (%s); press r to start it again", addr, lh->message);
		changed(ls);
		return;
	}
	sanitize_text(message, strlen(message), lh->message, sizeof lh->message, 0);
	if (!ls->follow) {
		lh->state = LS_ENDED;
		lh->exit_status = -1;
		changed(ls);
		return;
	}
	if (!lh->lost_at) {
		lh->lost_at = now;
		if (how == UNIT_LOST || lh->resumed_once || ls->lines > 0)
			mark(ls, lh, "%s: connection lost; reconnecting", addr);
	}
	lh->resumed_once = true;
	wait = duration_backoff(lh->attempts, RETRY_FIRST_MS, RETRY_MAX_MS);
	/* not before the unit's own next attempt */
	unit_link(ls, lh, now, &link);
	if (link.retry_in > wait)
		wait = link.retry_in;
	lh->attempts++;
	lh->state = LS_RECONNECTING;
	lh->retry_at = now + wait;
	lh->retry_timer = loop_timer_add(ls->loop, wait, retry_fire, lh);
	changed(ls);
}

static const struct unit_cmd_ops log_cmd_ops = {
	.started = on_started,
	.output = on_output,
	.done = on_done,
};

/* A log read once (not followed) ends at the environment's command_timeout, like every
 * one-shot command: a host that never answers cannot hold `gantry logs` for ever. */
static const struct unit_cmd_ops log_once_ops = {
	.started = on_started,
	.output = on_output,
	.done = on_done,
	.bounded = true,
};

static void host_start(struct logstream *ls, struct logstream_host *lh)
{
	/* after a loss the whole tail again: the repeat is dropped (see hold), so a log that
	 * started over in a new container loses nothing */
	long long tail = lh->resumed_once && !lh->last_len ? 0LL : (long long)ls->env->log_tail;

	if (lh->state != LS_RECONNECTING)
		lh->state = LS_CONNECTING;
	lh->cmd = ls->target->ops->log(ls->target, lh->unit, ls->source, ls->follow, tail,
	    ls->follow ? &log_cmd_ops : &log_once_ops, lh);
}

static struct logstream *stream_new(struct loop *loop, const struct conf_env *env,
    const struct target *t, size_t n, enum log_source source, bool follow)
{
	struct logstream *ls = xcalloc(1, sizeof *ls);

	ls->loop = loop;
	ls->env = env;
	ls->target = t;
	ls->source = source;
	ls->follow = follow;
	ls->buf = logbuf_new((size_t)env->scrollback, (size_t)env->scrollback * LOG_BYTES_PER_LINE);
	ls->hosts = xcalloc(n ? n : 1, sizeof *ls->hosts);
	ls->hosts_len = n;
	for (size_t i = 0; i < n; i++) {
		ls->hosts[i].ls = ls;
		ls->hosts[i].unit = i;
	}
	return ls;
}

struct logstream *logstream_new(const struct target *t, const size_t *units, size_t n,
    enum log_source source, bool follow)
{
	struct logstream *ls = stream_new(t->loop, t->env, t, n, source, follow);

	for (size_t i = 0; i < n; i++) {
		ls->hosts[i].unit = units[i];
		host_start(ls, &ls->hosts[i]);
	}
	return ls;
}

struct logstream *logstream_new_fed(const struct conf_env *env, size_t n, enum log_source source)
{
	return stream_new(NULL, env, NULL, n, source, false);
}

void logstream_set_listener(struct logstream *ls, logstream_changed_fn fn, void *arg)
{
	ls->changed = fn;
	ls->changed_arg = arg;
}

void logstream_restart(struct logstream *ls)
{
	if (!ls->target)
		return;
	for (size_t i = 0; i < ls->hosts_len; i++) {
		struct logstream_host *lh = &ls->hosts[i];

		if (lh->cmd && lh->state != LS_RECONNECTING)
			continue;
		if (lh->cmd) {
			unit_cmd_stop(lh->cmd);
			lh->cmd = NULL;
		}
		loop_timer_cancel(ls->loop, lh->retry_timer);
		lh->retry_timer = 0;
		lh->attempts = 0;
		ls->target->ops->relink(ls->target, lh->unit);
		if (lh->state == LS_ENDED)
			mark(ls, lh, "%s: started again", unit_name(ls, lh));
		lh->resumed_once = ls->lines > 0;
		lh->state = LS_CONNECTING;
		host_start(ls, lh);
	}
	changed(ls);
}

enum logstream_state logstream_state(const struct logstream *ls)
{
	enum logstream_state worst = LS_LIVE;
	bool all_ended = ls->hosts_len > 0;

	for (size_t i = 0; i < ls->hosts_len; i++) {
		enum logstream_state s = ls->hosts[i].state;

		if (s != LS_ENDED && s != LS_STOPPED)
			all_ended = false;
		if (s == LS_RECONNECTING)
			worst = LS_RECONNECTING;
		else if (s == LS_CONNECTING && worst != LS_RECONNECTING)
			worst = LS_CONNECTING;
	}
	return all_ended ? LS_ENDED : worst;
}

bool logstream_done(const struct logstream *ls)
{
	return logstream_state(ls) == LS_ENDED;
}

int logstream_exit_status(const struct logstream *ls)
{
	for (size_t i = 0; i < ls->hosts_len; i++)
		if (ls->hosts[i].state == LS_ENDED && ls->hosts[i].exit_status != 0)
			return ls->hosts[i].exit_status;
	return 0;
}

void logstream_describe(const struct logstream *ls, int64_t now, char *out, size_t outsz)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ls->hosts_len && used < outsz; i++) {
		const struct logstream_host *lh = &ls->hosts[i];
		const char *addr = unit_name(ls, lh);
		const char *sep = i ? "; " : "";
		int n = 0;

		switch (lh->state) {
		case LS_CONNECTING: {
			struct link_status link;
			enum link_state st;
			int64_t retry;

			unit_link(ls, lh, now, &link);
			st = link.state;
			retry = link.retry_in;

			/* a host that refused us (its key, the login) or is down says so, not "connecting" */
			if (st != LINK_IDLE && st != LINK_CONNECTING && st != LINK_UP) {
				char when[32] = "";

				if (retry >= 0)
					snprintf(when, sizeof when, ", retry in %llds", (long long)((retry + 999) / 1000));
				n = snprintf(out + used, outsz - used, "%s%s %s%s", sep, addr,
				    link_state_name(st), when);
			} else
				n = snprintf(out + used, outsz - used, "%s%s connecting", sep, addr);
			break;
		}
		case LS_LIVE:
			n = snprintf(out + used, outsz - used, "%s%s live", sep, addr);
			break;
		case LS_RECONNECTING:
			n = snprintf(out + used, outsz - used, "%sreconnecting in %llds: %s", sep,
			    (long long)((lh->retry_at > now ? lh->retry_at - now + 999 : 0) / 1000), lh->message);
			break;
		case LS_ENDED:
			n = snprintf(out + used, outsz - used, "%s%s ended (%s)", sep, addr,
			    lh->message[0] ? lh->message : "?");
			break;
		case LS_STOPPED:
			n = snprintf(out + used, outsz - used, "%s%s stopped", sep, addr);
			break;
		}
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void logstream_free(struct logstream *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->hosts_len; i++) {
		struct logstream_host *lh = &ls->hosts[i];

		if (lh->cmd)
			unit_cmd_stop(lh->cmd);
		loop_timer_cancel(ls->loop, lh->retry_timer);
		loop_timer_cancel(ls->loop, lh->quiet_timer);
		free(lh->partial);
		for (size_t k = 0; k < lh->last_len; k++)
			free(lh->last[k]);
		for (size_t k = 0; k < lh->held_len; k++)
			free(lh->held[k]);
		free(lh->held);
	}
	free(ls->hosts);
	logbuf_free(ls->buf);
	free(ls);
}

const char *logstream_unit_name(const struct logstream *ls, size_t i)
{
	return unit_name(ls, &ls->hosts[i]);
}

void logstream_unit_link(const struct logstream *ls, size_t i, int64_t now, struct link_status *out)
{
	unit_link(ls, &ls->hosts[i], now, out);
}
