/* The one place gantry waits: a poll() loop with fd watchers, timers and signals. */
#ifndef GANTRY_LOOP_H
#define GANTRY_LOOP_H

#include <poll.h>
#include <stdint.h>

struct loop;

typedef void (*loop_fd_fn)(struct loop *loop, int fd, int revents, void *arg);
typedef void (*loop_timer_fn)(struct loop *loop, void *arg);
typedef void (*loop_signal_fn)(struct loop *loop, int signo, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Watches fd for POLLIN/POLLOUT (`events`); a second call replaces the first. */
void loop_watch(struct loop *loop, int fd, short events, loop_fd_fn fn, void *arg);
void loop_unwatch(struct loop *loop, int fd);

/* Calls fn once, `delay_ms` from now; returns an id for loop_timer_cancel (never 0). */
uint64_t loop_timer_add(struct loop *loop, int64_t delay_ms, loop_timer_fn fn, void *arg);
/* Cancels a pending timer; an id of 0 or one that already fired is ignored. */
void loop_timer_cancel(struct loop *loop, uint64_t id);

/* Delivers signo through the loop instead of an async handler. */
void loop_signal(struct loop *loop, int signo, loop_signal_fn fn, void *arg);

/* Reads the monotonic clock now, in milliseconds. */
int64_t loop_clock_ms(void);

/* Waits for at most max_wait_ms (-1: until something happens) and dispatches. */
void loop_run_once(struct loop *loop, int64_t max_wait_ms);

#endif
