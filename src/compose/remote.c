/* SSH to environment hosts: one non-blocking libssh session per host, on the loop. */
#include "config.h"

#include "duration.h"
#include "remoteint.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


static void host_connect(struct remote_host *h);
static void host_pump(struct remote_host *h);
static void host_watch(struct remote_host *h);
static void host_defer(struct remote_host *h);

void remote_set_read_only(struct remote *remote, bool read_only)
{
	remote->read_only = read_only;
}

struct remote *remote_new(struct loop *loop)
{
	struct remote *r = xcalloc(1, sizeof *r);
	const char *home = getenv("HOME");

	ssh_init();
	r->loop = loop;
	/* $HOME first (libssh itself prefers the passwd entry): tests and sandboxes rely on it */
	snprintf(r->home, sizeof r->home, "%s", home && *home ? home : "/");
	return r;
}

void remote_set_listener(struct remote *remote, remote_listener_fn fn, void *arg)
{
	remote->listener = fn;
	remote->listener_arg = arg;
}

static void notify(struct remote_host *h)
{
	if (h->remote->listener)
		h->remote->listener(h->remote->listener_arg, h);
}

struct remote_host *remote_host_add(struct remote *remote, const struct conf_env *env,
    const struct conf_host *conf)
{
	struct remote_host *h = xcalloc(1, sizeof *h), **tail = &remote->hosts;

	h->remote = remote;
	h->env = env;
	h->conf = conf;
	h->fd = -1;
	while (*tail)
		tail = &(*tail)->next;
	*tail = h;
	return h;
}

enum link_state remote_host_state(const struct remote_host *host) { return host->state; }
const char *remote_host_message(const struct remote_host *host) { return host->message; }
const struct conf_host *remote_host_conf(const struct remote_host *host) { return host->conf; }
const struct conf_env *remote_host_env(const struct remote_host *host) { return host->env; }

int64_t remote_host_retry_in(const struct remote_host *host, int64_t now)
{
	if (!host->retry_timer)
		return -1;
	return host->next_attempt > now ? host->next_attempt - now : 0;
}

/* ---- name lookup on a helper thread ---- */

static void job_unref(struct resolve_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	if (job->res)
		freeaddrinfo(job->res);
	close(job->fds[0]);
	close(job->fds[1]);
	free(job);
}

static void *resolve_thread(void *arg)
{
	struct resolve_job *job = arg;
	struct addrinfo hints = { 0 };

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	job->err = getaddrinfo(job->host, job->port, &hints, &job->res);
	(void)!send(job->fds[1], "", 1, MSG_NOSIGNAL);
	job_unref(job);
	return NULL;
}

/* Drops whatever the host has in flight: lookup, socket, session, timers. */
static void host_teardown(struct remote_host *h)
{
	struct loop *loop = h->remote->loop;

	if (h->fd >= 0)
		loop_unwatch(loop, h->fd);
	if (h->job) {
		loop_unwatch(loop, h->job->fds[0]);
		job_unref(h->job);
		h->job = NULL;
	}
	if (h->fd_ours && h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->fd_ours = false;
	if (h->addrs)
		freeaddrinfo(h->addrs);
	h->addrs = h->addr_next = NULL;
	loop_timer_cancel(loop, h->timeout_timer);
	h->timeout_timer = 0;
	if (h->event) {
		if (h->session)
			ssh_event_remove_session(h->event, h->session);
		ssh_event_free(h->event);
		h->event = NULL;
	}
	if (h->session) {
		/* channels go with their session */
		for (struct remote_cmd *c = h->cmds; c; c = c->next)
			c->channel = NULL;
		if (h->phase == PH_UP)
			ssh_disconnect(h->session);
		ssh_free(h->session);
		h->session = NULL;
	}
	h->phase = PH_NONE;
}

static void cmd_free(struct remote_cmd *c)
{
	if (c->deadline_timer)
		loop_timer_cancel(c->host->remote->loop, c->deadline_timer);
	if (c->channel) {
		ssh_remove_channel_callbacks(c->channel, &c->cb);
		ssh_channel_free(c->channel);
	}
	free(c->command);
	free(c->instead);
	free(c);
}

/* Ends every command of a torn-down host (their channels went with the session):
 * running ones with `how`, queued ones with UNIT_FAILED. */
static void host_end_cmds(struct remote_host *h, enum unit_end running_how)
{
	struct remote_cmd *list = h->cmds, *next;

	h->cmds = NULL;               /* done callbacks may queue new commands */
	for (struct remote_cmd *c = list; c; c = next) {
		next = c->next;
		if (!c->stopped && c->ops->done)
			c->ops->done(c->arg, c->phase == CMD_RUNNING ? running_how : UNIT_FAILED, -1,
			    h->message);
		cmd_free(c);
	}
}

static void retry_fire(struct loop *loop, void *arg)
{
	struct remote_host *h = arg;

	h->retry_timer = 0;
	if (h->cmds && h->phase == PH_NONE)
		host_connect(h);
	notify(h);
}

/* Schedules the next attempt when commands wait for one. */
static void host_schedule(struct remote_host *h)
{
	int64_t now = loop_clock_ms();

	if (!h->cmds || h->phase != PH_NONE || h->retry_timer)
		return;
	if (now >= h->next_attempt)
		host_connect(h);
	else
		h->retry_timer = loop_timer_add(h->remote->loop, h->next_attempt - now, retry_fire, h);
}

/* A failed attempt or a lost session: everything in flight ends, the next waits. */
void host_fail(struct remote_host *h, enum link_state state, const char *fmt, ...)
{
	char raw[sizeof h->message];
	int64_t wait;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize_text(raw, strlen(raw), h->message, sizeof h->message, 0);
	host_teardown(h);
	h->state = state;
	wait = state == LINK_UNREACHABLE ?
	    duration_backoff(h->failures, BACKOFF_FIRST_MS, BACKOFF_MAX_MS) : BACKOFF_REFUSED_MS;
	h->failures++;
	h->next_attempt = loop_clock_ms() + wait;
	host_end_cmds(h, UNIT_LOST);
	host_schedule(h);
	notify(h);
}

static void connect_timeout(struct loop *loop, void *arg)
{
	struct remote_host *h = arg;

	h->timeout_timer = 0;
	host_fail(h, LINK_UNREACHABLE, "%s: no answer within %llds (connect_timeout)", h->target,
	    (long long)(h->env->connect_timeout_ms / 1000));
}

/* ---- connecting ---- */

static void host_auth(struct remote_host *h)
{
	int rc = ssh_userauth_publickey_auto(h->session, NULL, NULL);
	char *user = NULL;

	if (rc == SSH_AUTH_AGAIN) {
		host_watch(h);
		return;
	}
	if (rc == SSH_AUTH_SUCCESS) {
		loop_timer_cancel(h->remote->loop, h->timeout_timer);
		h->timeout_timer = 0;
		h->phase = PH_UP;
		h->state = LINK_UP;
		h->failures = 0;
		h->message[0] = '\0';
		h->event = ssh_event_new();
		ssh_event_add_session(h->event, h->session);
		notify(h);
		host_pump(h);
		return;
	}
	ssh_options_get(h->session, SSH_OPTIONS_USER, &user);
	if (rc == SSH_AUTH_ERROR)
		host_fail(h, LINK_UNREACHABLE, "%s: login failed: %s", h->target, ssh_get_error(h->session));
	else
		host_fail(h, LINK_AUTH_FAILED, "%s refused every key offered for user %s (ssh-agent, "
		    "~/.ssh/id_ed25519, id_ecdsa, id_rsa and IdentityFile in ~/.ssh/config): check the user "
		    "and that your public key is in its authorized_keys", h->target, user ? user : "?");
	ssh_string_free_char(user);
}

static void host_handshake(struct remote_host *h)
{
	int rc = ssh_connect(h->session);

	if (h->fd < 0 && rc != SSH_ERROR) {
		/* a ProxyCommand: libssh made the socket */
		h->fd = ssh_get_fd(h->session);
	}
	if (rc == SSH_AGAIN) {
		host_watch(h);
		return;
	}
	if (rc != SSH_OK) {
		host_fail(h, LINK_UNREACHABLE, "%s: SSH handshake failed: %s", h->target,
		    ssh_get_error(h->session));
		return;
	}
	if (!host_check_key(h))
		return;
	h->phase = PH_AUTH;
	host_auth(h);
}

/* Hands a connected socket to libssh and starts the handshake. */
static void start_handshake(struct remote_host *h)
{
	int one = 1, idle = 15, intvl = 5, cnt = 3;

	/* a link that dies silently is noticed within about 30 s */
	setsockopt(h->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(h->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(h->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(h->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	ssh_options_set(h->session, SSH_OPTIONS_FD, &h->fd);
	h->fd_ours = false;             /* libssh closes it with the session */
	h->phase = PH_HANDSHAKE;
	host_handshake(h);
}

/* Tries the next address of the lookup; fails the host when none is left. */
static void tcp_next(struct remote_host *h, const char *why)
{
	while (h->addr_next) {
		struct addrinfo *ai = h->addr_next;
		int fd;

		h->addr_next = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			why = strerror(errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			h->fd = fd;
			h->fd_ours = true;
			h->phase = PH_TCP;
			host_watch(h);
			return;
		}
		why = strerror(errno);
		close(fd);
	}
	host_fail(h, LINK_UNREACHABLE, "%s: %s", h->target, why);
}

static void resolved(struct loop *loop, int fd, int revents, void *arg)
{
	struct remote_host *h = arg;
	struct resolve_job *job = h->job;
	char c;

	(void)!read(fd, &c, 1);
	loop_unwatch(loop, fd);
	h->job = NULL;
	if (job->err) {
		const char *why = gai_strerror(job->err);

		job_unref(job);
		host_fail(h, LINK_UNREACHABLE, "%s: name lookup failed: %s", h->target, why);
		return;
	}
	h->addrs = h->addr_next = job->res;
	job->res = NULL;
	job_unref(job);
	tcp_next(h, "no address");
}

static void host_connect(struct remote_host *h)
{
	char *host = NULL, *proxy = NULL;
	unsigned int port = 22;
	struct in6_addr a6;
	struct in_addr a4;

	loop_timer_cancel(h->remote->loop, h->retry_timer);
	h->retry_timer = 0;
	h->state = LINK_CONNECTING;
	h->session = ssh_new();
	if (!h->session)
		die("out of memory");
	ssh_set_blocking(h->session, 0);
	if (!session_options(h))
		return;
	ssh_options_get(h->session, SSH_OPTIONS_HOST, &host);
	ssh_options_get_port(h->session, &port);
	/* the address as written, and where it led when ~/.ssh/config took part */
	if (h->conf->port && host && strcmp(host, h->conf->host) == 0)
		snprintf(h->target, sizeof h->target, "%s", h->conf->address);
	else
		snprintf(h->target, sizeof h->target, "%s (%s:%u)", h->conf->address, host ? host : "?", port);
	h->timeout_timer = loop_timer_add(h->remote->loop, h->env->connect_timeout_ms, connect_timeout, h);
	notify(h);
	if (ssh_options_get(h->session, SSH_OPTIONS_PROXYCOMMAND, &proxy) == SSH_OK && proxy && *proxy) {
		/* ProxyCommand or ProxyJump: libssh runs it and owns the socket */
		ssh_string_free_char(proxy);
		ssh_string_free_char(host);
		h->phase = PH_HANDSHAKE;
		host_handshake(h);
		return;
	}
	ssh_string_free_char(proxy);
	if (host && (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)) {
		struct addrinfo hints = { 0 };
		char portstr[8];

		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		snprintf(portstr, sizeof portstr, "%u", port);
		if (getaddrinfo(host, portstr, &hints, &h->addrs) != 0)
			h->addrs = NULL;
		h->addr_next = h->addrs;
		ssh_string_free_char(host);
		tcp_next(h, "not a usable address");
		return;
	}
	/* a name: looked up on a helper thread, the loop told through a socket */
	h->job = xcalloc(1, sizeof *h->job);
	atomic_init(&h->job->refs, 2);
	snprintf(h->job->host, sizeof h->job->host, "%s", host ? host : "");
	snprintf(h->job->port, sizeof h->job->port, "%u", port);
	ssh_string_free_char(host);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h->job->fds) != 0)
		die("socketpair: %s", strerror(errno));
	{
		pthread_t tid;
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&tid, &attr, resolve_thread, h->job) != 0)
			die("cannot start a thread for a name lookup");
		pthread_attr_destroy(&attr);
	}
	h->phase = PH_RESOLVE;
	loop_watch(h->remote->loop, h->job->fds[0], POLLIN, resolved, h);
}

/* ---- commands ---- */

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *arg)
{
	struct remote_cmd *c = arg;

	if (len && !is_stderr)
		c->had_output = true;
	if (!c->stopped && c->ops->output)
		c->ops->output(c->arg, data, len, is_stderr != 0);
	return (int)len;
}

static void on_close(ssh_session s, ssh_channel ch, void *arg)
{
	((struct remote_cmd *)arg)->closed = true;
}

static void on_eof(ssh_session s, ssh_channel ch, void *arg)
{
	/* the close that follows ends the command */
}

static void on_exit_status(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct remote_cmd *c = arg;

	c->got_status = true;
	c->status = status;
}

static void on_exit_signal(ssh_session s, ssh_channel ch, const char *signal, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct remote_cmd *c = arg;
	size_t n = 3;

	/* the server names the signal: letters and digits only reach a message */
	snprintf(c->signal, sizeof c->signal, "SIG");
	for (const char *p = signal ? signal : "?"; *p && n + 1 < sizeof c->signal && n < 23; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			c->signal[n++] = *p;
	c->signal[n] = '\0';
}

/* Unlinks and frees a command. */
static void cmd_unlink(struct remote_cmd *c)
{
	struct remote_cmd **p = &c->host->cmds;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
}

/* Ends a command with its result and frees it. The message may carry the server's words
 * (a channel refusal, libssh's error text): it is sanitized before anyone prints it. */
static void cmd_finish(struct remote_cmd *c, enum unit_end how, int status, const char *msg)
{
	char clean[600];

	if (msg)
		sanitize_text(msg, strlen(msg), clean, sizeof clean, 0);
	cmd_unlink(c);
	if (!c->stopped && c->ops->done)
		c->ops->done(c->arg, how, status, msg ? clean : NULL);
	cmd_free(c);
}

/* Moves every command of an up host one step on: open, exec, finish, reap. */
static void host_advance(struct remote_host *h)
{
	struct remote_cmd *c, *next;
	char msg[300];

	for (c = h->cmds; c; c = next) {
		int rc;

		next = c->next;
		if (c->stopped)
			continue;
		if (c->phase == CMD_QUEUED) {
			c->channel = ssh_channel_new(h->session);
			if (!c->channel) {
				cmd_finish(c, UNIT_FAILED, -1, ssh_get_error(h->session));
				continue;
			}
			ssh_callbacks_init(&c->cb);
			c->cb.userdata = c;
			c->cb.channel_data_function = on_data;
			c->cb.channel_close_function = on_close;
			c->cb.channel_eof_function = on_eof;
			c->cb.channel_exit_status_function = on_exit_status;
			c->cb.channel_exit_signal_function = on_exit_signal;
			ssh_set_channel_callbacks(c->channel, &c->cb);
			c->phase = CMD_OPENING;
		}
		if (c->phase == CMD_OPENING) {
			rc = ssh_channel_open_session(c->channel);
			if (rc == SSH_AGAIN)
				continue;
			if (rc != SSH_OK) {
				snprintf(msg, sizeof msg, "%s: cannot open a channel: %s", h->target,
				    ssh_get_error(h->session));
				cmd_finish(c, UNIT_FAILED, -1, msg);
				continue;
			}
			c->phase = CMD_EXEC;
		}
		if (c->phase == CMD_EXEC) {
			rc = ssh_channel_request_exec(c->channel, c->command);
			if (rc == SSH_AGAIN)
				continue;
			if (rc != SSH_OK) {
				snprintf(msg, sizeof msg, "%s: the command was refused: %s", h->target,
				    ssh_get_error(h->session));
				cmd_finish(c, UNIT_FAILED, -1, msg);
				continue;
			}
			c->phase = CMD_RUNNING;
			if (c->ops->started)
				c->ops->started(c->arg);
		}
		if (c->phase == CMD_RUNNING && (c->closed || ssh_channel_is_closed(c->channel))) {
			if (c->instead && !c->signal[0] && !c->had_output && c->got_status &&
			    c->status == c->instead_status) {
				/* the other command, on a channel of its own, for the same callbacks */
				ssh_remove_channel_callbacks(c->channel, &c->cb);
				ssh_channel_free(c->channel);
				c->channel = NULL;
				free(c->command);
				c->command = c->instead;
				c->instead = NULL;
				c->closed = c->got_status = false;
				c->phase = CMD_QUEUED;
				host_defer(h);
				continue;
			}
			if (c->signal[0]) {
				snprintf(msg, sizeof msg, "killed by %s on the host", c->signal);
				cmd_finish(c, UNIT_SIGNALLED, -1, msg);
			} else {
				cmd_finish(c, UNIT_EXITED, c->got_status ? c->status : -1, "");
			}
		}
	}
}

/* Frees the stopped commands, outside any libssh callback. */
static void host_reap(struct remote_host *h)
{
	struct remote_cmd *c, *next;

	for (c = h->cmds; c; c = next) {
		next = c->next;
		if (!c->stopped)
			continue;
		cmd_unlink(c);
		if (c->channel && h->phase == PH_UP && c->phase == CMD_RUNNING && !c->closed) {
			/* not every command exits when its pipe closes: ask it to stop */
			ssh_channel_request_send_signal(c->channel, "TERM");
			ssh_channel_close(c->channel);
		}
		cmd_free(c);
	}
}

/* The deferred half of remote_run and remote_cmd_stop: callbacks only ever come from the loop. */
static void reap_fire(struct loop *loop, void *arg)
{
	struct remote_host *h = arg;

	h->reap_timer = 0;
	host_reap(h);
	if (h->phase == PH_UP) {
		host_advance(h);
		if (h->phase == PH_UP)
			host_watch(h);
	} else {
		host_schedule(h);
	}
}

/* Runs reap_fire on the next loop turn. */
static void host_defer(struct remote_host *h)
{
	if (!h->reap_timer)
		h->reap_timer = loop_timer_add(h->remote->loop, 0, reap_fire, h);
}

static void host_pump(struct remote_host *h)
{
	int rc = ssh_event_dopoll(h->event, 0);

	if (rc == SSH_ERROR || !ssh_is_connected(h->session)) {
		const char *why = ssh_get_error(h->session);

		host_fail(h, LINK_UNREACHABLE, "%s: connection lost%s%s", h->target,
		    why && *why ? ": " : "", why ? why : "");
		return;
	}
	host_advance(h);
	if (h->phase == PH_UP) {
		host_reap(h);
		host_watch(h);
	}
}

static void host_io(struct loop *loop, int fd, int revents, void *arg)
{
	struct remote_host *h = arg;

	switch (h->phase) {
	case PH_TCP: {
		int err = 0;
		socklen_t len = sizeof err;

		loop_unwatch(loop, fd);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err) {
			close(fd);
			h->fd = -1;
			h->fd_ours = false;
			tcp_next(h, strerror(err));
			return;
		}
		start_handshake(h);
		return;
	}
	case PH_HANDSHAKE:
		host_handshake(h);
		return;
	case PH_AUTH:
		host_auth(h);
		return;
	case PH_UP:
		host_pump(h);
		return;
	default:
		loop_unwatch(loop, fd);
		return;
	}
}

/* Watches the socket for what libssh waits on. */
static void host_watch(struct remote_host *h)
{
	short events = POLLIN;

	if (h->phase == PH_NONE || h->phase == PH_RESOLVE)
		return;
	if (h->fd < 0 && h->session)
		h->fd = ssh_get_fd(h->session);
	if (h->fd < 0)
		return;
	if (h->phase == PH_TCP)
		events = POLLOUT;
	else if (h->session && (ssh_get_poll_flags(h->session) & SSH_WRITE_PENDING))
		events |= POLLOUT;
	loop_watch(h->remote->loop, h->fd, events, host_io, h);
}

void remote_host_retry_now(struct remote_host *h)
{
	h->next_attempt = 0;
	h->failures = 0;
	if (h->retry_timer) {
		loop_timer_cancel(h->remote->loop, h->retry_timer);
		h->retry_timer = 0;
	}
	host_defer(h);          /* from the loop: callbacks never run inside the caller */
}

/* A bounded command's deadline: it is reported and stopped (a FIFO read, a hung disk). */
static void cmd_deadline(struct loop *loop, void *arg)
{
	struct remote_cmd *c = arg;
	char msg[300];

	c->deadline_timer = 0;
	if (c->stopped)
		return;
	snprintf(msg, sizeof msg, "%s: no answer within %llds (command_timeout): the command was "
	    "stopped; a file that never ends (a FIFO) or a hung disk on the host can do this",
	    c->host->conf->address, (long long)(c->host->env->command_timeout_ms / 1000));
	c->stopped = true;
	if (c->ops->done)
		c->ops->done(c->arg, UNIT_FAILED, -1, msg);
	host_defer(c->host);
}


static void cmd_stop(struct unit_cmd *u);
static const struct unit_cmd_class cmd_class = { .stop = cmd_stop };

struct unit_cmd *remote_run_or(struct remote_host *h, const char *command, int status,
    const char *instead, const struct unit_cmd_ops *ops, void *arg)
{
	struct remote_cmd *c = xcalloc(1, sizeof *c), **tail = &h->cmds;

	c->base.cls = &cmd_class;
	c->host = h;
	c->ops = ops;
	c->arg = arg;
	c->command = full_command(h, command);
	if (instead) {
		c->instead = full_command(h, instead);
		c->instead_status = status;
	}
	while (*tail)
		tail = &(*tail)->next;
	*tail = c;
	if (ops->bounded && h->env->command_timeout_ms > 0)
		c->deadline_timer = loop_timer_add(h->remote->loop, h->env->command_timeout_ms,
		    cmd_deadline, c);
	host_defer(h);
	return &c->base;
}

struct unit_cmd *remote_run(struct remote_host *h, const char *command,
    const struct unit_cmd_ops *ops, void *arg)
{
	return remote_run_or(h, command, 0, NULL, ops, arg);
}

bool remote_host_read_only(const struct remote_host *h)
{
	return h->remote->read_only;
}

static void cmd_stop(struct unit_cmd *u)
{
	struct remote_cmd *c = (struct remote_cmd *)u;
	struct remote_host *h = c->host;

	c->stopped = true;
	host_defer(h);
}

void remote_free(struct remote *remote)
{
	struct remote_host *h, *next;

	if (!remote)
		return;
	for (h = remote->hosts; h; h = next) {
		next = h->next;
		loop_timer_cancel(remote->loop, h->retry_timer);
		loop_timer_cancel(remote->loop, h->reap_timer);
		/* every command stopped: the remote ones get SIGTERM, all are freed */
		for (struct remote_cmd *c = h->cmds; c; c = c->next)
			c->stopped = true;
		host_reap(h);
		host_teardown(h);
		free(h);
	}
	free(remote);
}
