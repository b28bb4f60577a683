/* logbench: one environment's app log streamed over SSH into the log buffer,
 * no display, through the same app, target and logstream code as the log pane.
 *
 *   logbench CONFIG ENV
 *
 * While the stream runs, a thread sends a "key" through a pipe every 5 ms and the
 * loop answers it as the UI would; the delay of each answer is measured. Prints one
 * line of key=value figures for bench.sh. Built by `make bench` only. */
#include "config.h"

#include "app.h"
#include "logstream.h"
#include "loop.h"
#include "xmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define KEY_EVERY_MS 5
#define LATENCY_SLOTS 4096              /* answers kept for the percentile */

struct keys {
	int fds[2];
	volatile bool stop;
	int64_t latency[LATENCY_SLOTS];
	size_t n;
	int64_t max;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The typist: a timestamp down the pipe every few milliseconds. */
static void *typist(void *arg)
{
	struct keys *k = arg;
	struct timespec gap = { 0, KEY_EVERY_MS * 1000000L };

	while (!k->stop) {
		int64_t t = now_us();

		if (write(k->fds[1], &t, sizeof t) != (ssize_t)sizeof t && errno != EINTR)
			break;
		nanosleep(&gap, NULL);
	}
	return NULL;
}

/* The loop's answer to a key: how long the key waited. */
static void on_key(struct loop *loop, int fd, int revents, void *arg)
{
	struct keys *k = arg;
	int64_t t;

	(void)loop;
	(void)revents;
	while (read(fd, &t, sizeof t) == (ssize_t)sizeof t) {
		int64_t waited = now_us() - t;

		if (k->n < LATENCY_SLOTS)
			k->latency[k->n] = waited;
		k->n++;
		if (waited > k->max)
			k->max = waited;
		break;                  /* one key per wakeup, as the UI reads them */
	}
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct conf *conf;
	const struct conf_env *env;
	struct app *app;
	struct loop *loop;
	size_t *units;
	struct logstream *ls;
	struct keys *k;
	pthread_t thread;
	struct rusage ru;
	int64_t start, end;
	uint64_t bytes = 0;
	size_t kept;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: logbench CONFIG ENV\n");
		return 2;
	}
	conf = app_load_conf(argv[1], stderr);
	if (!conf)
		return 3;
	env = conf_env_by_name(conf, argv[2]);
	if (!env || env->hosts_len == 0) {
		fprintf(stderr, "logbench: no environment %s with hosts\n", argv[2]);
		return 2;
	}
	app = app_new(conf);
	loop = app->loop;
	units = xcalloc(env->hosts_len, sizeof *units);
	for (size_t j = 0; j < env->hosts_len; j++)
		units[j] = j;
	k = calloc(1, sizeof *k);
	if (!k || pipe(k->fds) != 0)
		return 1;

	loop_watch(loop, k->fds[0], POLLIN, on_key, k);
	start = now_us();
	if (pthread_create(&thread, NULL, typist, k) != 0)
		return 1;
	ls = logstream_new(app_target(app, env), units, env->hosts_len, LOG_APP, false);
	while (!logstream_done(ls))
		loop_run_once(loop, 1000);
	end = now_us();
	k->stop = true;
	pthread_join(thread, NULL);

	for (size_t i = 0; i < ls->hosts_len; i++)
		bytes += ls->hosts[i].bytes;
	kept = ls->buf->len;
	status = logstream_exit_status(ls);
	getrusage(RUSAGE_SELF, &ru);
	{
		size_t n = k->n < LATENCY_SLOTS ? k->n : LATENCY_SLOTS;

		qsort(k->latency, n, sizeof k->latency[0], cmp64);
		printf("seconds=%.3f lines=%llu bytes=%llu kept=%zu dropped=%llu exit=%d "
		    "rss_kb=%ld keys=%zu key_p50_ms=%.2f key_p99_ms=%.2f key_max_ms=%.2f\n",
		    (double)(end - start) / 1e6, (unsigned long long)ls->lines,
		    (unsigned long long)bytes, kept, (unsigned long long)ls->buf->dropped, status,
		    ru.ru_maxrss, k->n,
		    n ? (double)k->latency[n / 2] / 1000 : 0.0,
		    n ? (double)k->latency[n * 99 / 100] / 1000 : 0.0,
		    (double)k->max / 1000);
	}
	logstream_free(ls);
	loop_run_once(loop, 0);
	loop_unwatch(loop, k->fds[0]);
	app_free(app);
	free(units);
	close(k->fds[0]);
	close(k->fds[1]);
	free(k);
	return status == 0 ? 0 : 1;
}
