/* The one place gantry waits: a poll() loop with fd watchers, timers and signals.
 *
 * Watchers live in an array indexed by fd. Callbacks may add or remove watchers
 * and timers freely: dispatch re-checks each watcher before calling it, and due
 * timers are taken out of the table before any of them runs. */
#include "config.h"

#include "loop.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watcher {
	short events;                   /* 0 when the slot is unused */
	loop_fd_fn fn;
	void *arg;
};

struct timer {
	uint64_t id;
	int64_t when;                   /* loop_clock_ms() deadline */
	loop_timer_fn fn;
	void *arg;
};

struct signal_handler {
	loop_signal_fn fn;
	void *arg;
};

struct loop {
	struct watcher *watchers;       /* indexed by fd */
	size_t watchers_cap;
	struct pollfd *pollfds;
	size_t pollfds_cap;
	struct timer *timers;           /* unordered */
	size_t timers_len, timers_cap;
	uint64_t next_timer_id;
	int64_t now;
	struct signal_handler signals[NSIG];
};

/* The self-pipe the async signal handler writes to; one per process. */
static int signal_pipe[2] = { -1, -1 };

/* Async-signal-safe: forwards the signal number into the loop. */
static void loop_signal_trampoline(int signo)
{
	unsigned char byte = (unsigned char)signo;
	int saved = errno;

	if (write(signal_pipe[1], &byte, 1) < 0) {
		/* the pipe is full: the loop already has signals to read */
	}
	errno = saved;
}

/* Drains the self-pipe and runs each registered handler. */
static void loop_signal_ready(struct loop *loop, int fd, int revents, void *arg)
{
	unsigned char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			struct signal_handler *h = &loop->signals[buf[i] % NSIG];

			if (h->fn)
				h->fn(loop, buf[i], h->arg);
		}
	}
}

int64_t loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *loop = xcalloc(1, sizeof *loop);

	loop->next_timer_id = 1;
	loop->now = loop_clock_ms();
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	for (int s = 1; s < NSIG; s++)
		if (loop->signals[s].fn)
			signal(s, SIG_DFL);
	if (signal_pipe[0] >= 0) {
		close(signal_pipe[0]);
		close(signal_pipe[1]);
		signal_pipe[0] = signal_pipe[1] = -1;
	}
	free(loop->watchers);
	free(loop->pollfds);
	free(loop->timers);
	free(loop);
}

void loop_watch(struct loop *loop, int fd, short events, loop_fd_fn fn, void *arg)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= loop->watchers_cap) {
		size_t old = loop->watchers_cap;

		loop->watchers = xreallocarray_grow(loop->watchers, &loop->watchers_cap,
		    (size_t)fd + 1, sizeof *loop->watchers);
		memset(loop->watchers + old, 0, (loop->watchers_cap - old) * sizeof *loop->watchers);
	}
	loop->watchers[fd].events = events ? events : POLLIN;
	loop->watchers[fd].fn = fn;
	loop->watchers[fd].arg = arg;
}

void loop_unwatch(struct loop *loop, int fd)
{
	if (fd >= 0 && (size_t)fd < loop->watchers_cap)
		memset(&loop->watchers[fd], 0, sizeof loop->watchers[fd]);
}

uint64_t loop_timer_add(struct loop *loop, int64_t delay_ms, loop_timer_fn fn, void *arg)
{
	struct timer *t;

	loop->timers = xreallocarray_grow(loop->timers, &loop->timers_cap,
	    loop->timers_len + 1, sizeof *loop->timers);
	t = &loop->timers[loop->timers_len++];
	t->id = loop->next_timer_id++;
	t->when = loop_clock_ms() + (delay_ms > 0 ? delay_ms : 0);
	t->fn = fn;
	t->arg = arg;
	return t->id;
}

void loop_timer_cancel(struct loop *loop, uint64_t id)
{
	if (id == 0)
		return;
	for (size_t i = 0; i < loop->timers_len; i++) {
		if (loop->timers[i].id == id) {
			loop->timers[i] = loop->timers[--loop->timers_len];
			return;
		}
	}
}

void loop_signal(struct loop *loop, int signo, loop_signal_fn fn, void *arg)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= NSIG)
		return;
	if (signal_pipe[0] < 0) {
		if (pipe(signal_pipe) < 0)
			die("cannot create the signal pipe: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			fcntl(signal_pipe[i], F_SETFL, fcntl(signal_pipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
		}
		loop_watch(loop, signal_pipe[0], POLLIN, loop_signal_ready, NULL);
	}
	loop->signals[signo].fn = fn;
	loop->signals[signo].arg = arg;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_signal_trampoline;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(signo, &sa, NULL);
}

/* Runs every due timer, oldest deadline first; timers added meanwhile wait a turn. */
static void loop_run_timers(struct loop *loop)
{
	uint64_t first_new_id = loop->next_timer_id;

	for (;;) {
		size_t best = loop->timers_len;
		struct timer due;

		for (size_t i = 0; i < loop->timers_len; i++)
			if (loop->timers[i].when <= loop->now && loop->timers[i].id < first_new_id &&
			    (best == loop->timers_len || loop->timers[i].when < loop->timers[best].when))
				best = i;
		if (best == loop->timers_len)
			return;
		due = loop->timers[best];
		loop->timers[best] = loop->timers[--loop->timers_len];
		due.fn(loop, due.arg);
	}
}

void loop_run_once(struct loop *loop, int64_t max_wait_ms)
{
	int64_t wait = max_wait_ms;
	size_t n = 0;
	int ready;

	loop->now = loop_clock_ms();
	for (size_t i = 0; i < loop->timers_len; i++) {
		int64_t left = loop->timers[i].when - loop->now;

		if (left < 0)
			left = 0;
		if (wait < 0 || left < wait)
			wait = left;
	}
	for (size_t fd = 0; fd < loop->watchers_cap; fd++) {
		if (!loop->watchers[fd].events)
			continue;
		loop->pollfds = xreallocarray_grow(loop->pollfds, &loop->pollfds_cap, n + 1,
		    sizeof *loop->pollfds);
		loop->pollfds[n].fd = (int)fd;
		loop->pollfds[n].events = loop->watchers[fd].events;
		loop->pollfds[n].revents = 0;
		n++;
	}
	if (wait > 60000)
		wait = 60000;
	ready = poll(loop->pollfds, n, (int)wait);
	if (ready < 0 && errno != EINTR)
		die("poll failed: %s", strerror(errno));
	loop->now = loop_clock_ms();
	for (size_t i = 0; ready > 0 && i < n; i++) {
		struct pollfd *p = &loop->pollfds[i];
		struct watcher *w;

		if (!p->revents)
			continue;
		/* An earlier callback may have removed or replaced this watcher. */
		w = &loop->watchers[p->fd];
		if (w->events && w->fn)
			w->fn(loop, p->fd, p->revents, w->arg);
	}
	loop_run_timers(loop);
}
