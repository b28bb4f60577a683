/*
 * appserver: the sandbox's app. A real HTTP/1.1 server on loopback that answers
 * /api/health, /api/ready and /api/version the way the seeds' apps do, and can be
 * flipped by the tests into every bad state a real endpoint gets into.
 *
 *   appserver --listen 127.0.0.1:0 --port-file F --version sha-abc1234
 *
 * Control, on the same port:
 *   GET /_sandbox/set?version=sha-x&live=0|1&ready=0|1&delay=MS&mode=M[&only=health|ready|version]
 *   GET /_sandbox/state
 * Modes: ok, slow (answer after `delay`), error (500 page), garbage (escape sequences,
 * control bytes, invalid UTF-8), hang (never answer), trickle (one byte every 200 ms,
 * forever), redirect (302 to a login page), html (200 with an HTML page), huge (a 10 MB
 * body), close (hang up at once).
 * A path is matched by its ending, so any prefix works: /e17/api/ready is /api/ready.
 *
 * Single-threaded, epoll, non-blocking sockets; thousands of connections are fine (a
 * poll() loop cost it 78 ms of CPU per sweep of 600 connections, more than the client).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_OK, M_SLOW, M_ERROR, M_GARBAGE, M_HANG, M_TRICKLE, M_REDIRECT, M_HTML, M_HUGE, M_CLOSE };
static const char *const mode_names[] = {
	"ok", "slow", "error", "garbage", "hang", "trickle", "redirect", "html", "huge", "close",
};
enum endpoint { EP_HEALTH, EP_READY, EP_VERSION, EP_COUNT };
static const char *const endpoint_names[] = { "health", "ready", "version" };

struct state {
	char version[128];
	bool live, ready;
	long delay_ms;
	enum mode mode[EP_COUNT];
	unsigned long requests;
};
static struct state st = { .live = true, .ready = true };

enum conn_phase { C_READ, C_WAIT, C_WRITE, C_TRICKLE, C_HANG };
struct conn {
	int fd;
	enum conn_phase phase;
	char in[16384];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	int64_t due;                    /* C_WAIT and C_TRICKLE: when to act */
	uint32_t events;                /* what epoll watches it for */
	short revents;                  /* what epoll said of it this turn */
	bool keep_alive;
	size_t huge_left;               /* M_HUGE: body bytes still to generate */
};

#define MAX_CONNS 8192
#define MAX_EVENTS 1024
static struct conn *conns[MAX_CONNS];
static size_t nconns;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(size_t i)
{
	close(conns[i]->fd);
	free(conns[i]->out);
	free(conns[i]);
	conns[i] = conns[--nconns];
}

/* Sets the pending response: status line, headers, body. */
static void respond(struct conn *c, int status, const char *reason, const char *ctype,
    const char *extra_headers, const char *body, size_t body_len)
{
	char head[1024];
	int n = snprintf(head, sizeof head,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
	    status, reason, ctype, body_len, extra_headers ? extra_headers : "",
	    c->keep_alive ? "" : "Connection: close\r\n");

	free(c->out);
	c->out = malloc((size_t)n + body_len);
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	c->out_off = 0;
}

/* The same, for a NUL-terminated body. */
static void respond_text(struct conn *c, int status, const char *reason, const char *ctype,
    const char *extra_headers, const char *body)
{
	respond(c, status, reason, ctype, extra_headers, body, strlen(body));
}

/* Reads one query parameter's value into out. */
static bool query_get(const char *query, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t len = strcspn(v, "& ");

			if (len >= outsz)
				len = outsz - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

/* Answers a control request. */
static void control(struct conn *c, const char *path)
{
	const char *query = strchr(path, '?');
	char v[128], body[512];
	int only = -1;
	int n;

	if (query && query_get(query + 1, "only", v, sizeof v)) {
		for (int e = 0; e < EP_COUNT; e++)
			if (strcmp(v, endpoint_names[e]) == 0)
				only = e;
	}
	if (query) {
		query++;
		if (query_get(query, "version", v, sizeof v))
			snprintf(st.version, sizeof st.version, "%s", v);
		if (query_get(query, "live", v, sizeof v))
			st.live = strcmp(v, "1") == 0;
		if (query_get(query, "ready", v, sizeof v))
			st.ready = strcmp(v, "1") == 0;
		if (query_get(query, "delay", v, sizeof v))
			st.delay_ms = atol(v);
		if (query_get(query, "mode", v, sizeof v)) {
			int m = -1;

			for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
				if (strcmp(v, mode_names[i]) == 0)
					m = (int)i;
			if (m < 0) {
				respond_text(c, 400, "Bad Request", "text/plain", NULL, "unknown mode\n");
				return;
			}
			for (int e = 0; e < EP_COUNT; e++)
				if (only < 0 || only == e)
					st.mode[e] = (enum mode)m;
		}
	}
	n = snprintf(body, sizeof body,
	    "{\"version\":\"%s\",\"live\":%s,\"ready\":%s,\"delay_ms\":%ld,"
	    "\"mode\":{\"health\":\"%s\",\"ready\":\"%s\",\"version\":\"%s\"},\"requests\":%lu}\n",
	    st.version, st.live ? "true" : "false", st.ready ? "true" : "false", st.delay_ms,
	    mode_names[st.mode[EP_HEALTH]], mode_names[st.mode[EP_READY]],
	    mode_names[st.mode[EP_VERSION]], st.requests);
	respond(c, 200, "OK", "application/json", NULL, body, (size_t)n);
}

/* True when path (without the query) ends with suffix. */
static bool path_ends(const char *path, const char *suffix)
{
	size_t plen = strcspn(path, "?"), slen = strlen(suffix);

	return plen >= slen && strncmp(path + plen - slen, suffix, slen) == 0;
}

/* Builds the answer of an app endpoint in its current mode. */
static void app_answer(struct conn *c, enum endpoint ep)
{
	static const char garbage[] =
	    "\x1b]0;owned\x07\x1b[2J\x1b[H\x1b[31;1m{\"version\": \"sha-\x1b[5m\xff\xfe\x01\x02"
	    "\x9b" "31m\xc0\xaf\x1bP+q\x1b\\\r\x08\x08\x7f\x00 not json";
	static const char html[] =
	    "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>"
	    "<body><h1>Welcome</h1></body></html>\n";
	static const char error_page[] =
	    "<html><head><title>500 Internal Server Error</title></head>"
	    "<body>database connection pool exhausted</body></html>\n";
	char body[512];
	int n;

	switch (st.mode[ep]) {
	case M_ERROR:
		respond_text(c, 500, "Internal Server Error", "text/html", NULL, error_page);
		return;
	case M_GARBAGE:
		respond(c, 200, "OK", "application/json", NULL, garbage, sizeof garbage - 1);
		return;
	case M_REDIRECT:
		respond_text(c, 302, "Found", "text/html", "Location: /login?next=%2Fapi\r\n", "");
		return;
	case M_HTML:
		respond_text(c, 200, "OK", "text/html; charset=utf-8", NULL, html);
		return;
	default:
		break;
	}
	switch (ep) {
	case EP_HEALTH:
		if (st.live)
			respond_text(c, 200, "OK", "application/json", NULL, "{\"status\":\"ok\"}\n");
		else
			respond_text(c, 500, "Internal Server Error", "application/json", NULL,
			    "{\"status\":\"error\",\"error\":\"worker crashed\"}\n");
		return;
	case EP_READY:
		if (st.ready)
			respond_text(c, 200, "OK", "application/json", NULL, "{\"status\":\"ready\"}\n");
		else
			respond_text(c, 503, "Service Unavailable", "application/json", NULL,
			    "{\"status\":\"not ready\",\"reason\":\"migrations pending\"}\n");
		return;
	case EP_VERSION:
		n = snprintf(body, sizeof body, "{\"version\":\"%s\",\"service\":\"app\"}\n", st.version);
		respond(c, 200, "OK", "application/json", NULL, body, (size_t)n);
		return;
	default:
		return;
	}
}

/* A whole request is in c->in: decide what happens next. */
static void handle_request(struct conn *c)
{
	char method[16], path[2048], proto[16];
	char *headers_end = strstr(c->in, "\r\n\r\n");
	size_t used = (size_t)(headers_end - c->in) + 4;
	int ep = -1;

	c->phase = C_WRITE;
	if (sscanf(c->in, "%15s %2047s %15s", method, path, proto) != 3) {
		c->keep_alive = false;
		respond_text(c, 400, "Bad Request", "text/plain", NULL, "bad request\n");
		return;
	}
	c->keep_alive = strcmp(proto, "HTTP/1.1") == 0 && !strcasestr(c->in, "\r\nConnection: close");
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->in[c->in_len] = '\0';
	if (strncmp(path, "/_sandbox/", 10) == 0) {
		control(c, path);
		return;
	}
	st.requests++;
	if (path_ends(path, "/api/health"))
		ep = EP_HEALTH;
	else if (path_ends(path, "/api/ready"))
		ep = EP_READY;
	else if (path_ends(path, "/api/version"))
		ep = EP_VERSION;
	if (ep < 0) {
		respond_text(c, 404, "Not Found", "text/plain", NULL, "not found\n");
		return;
	}
	switch (st.mode[ep]) {
	case M_HANG:
		c->phase = C_HANG;
		return;
	case M_CLOSE:
		c->keep_alive = false;
		c->out_len = c->out_off = 0;
		return;
	case M_TRICKLE:
		c->keep_alive = false;
		free(c->out);
		/* promise a body that never ends */
		c->out = strdup("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 100000000\r\n\r\n");
		c->out_len = strlen(c->out);
		c->out_off = 0;
		c->phase = C_TRICKLE;
		c->due = now_ms();
		return;
	case M_HUGE:
		c->keep_alive = false;
		free(c->out);
		c->out = strdup("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 10485760\r\n\r\n");
		c->out_len = strlen(c->out);
		c->out_off = 0;
		c->huge_left = 10485760;
		return;
	default:
		break;
	}
	app_answer(c, (enum endpoint)ep);
	if (st.delay_ms > 0) {
		c->phase = C_WAIT;
		c->due = now_ms() + st.delay_ms;
	}
}

/* Writes what can be written; false when the connection is done. */
static bool conn_write(struct conn *c)
{
	while (c->out_off < c->out_len || c->huge_left > 0) {
		ssize_t n;

		if (c->out_off == c->out_len) {
			size_t chunk = c->huge_left < 65536 ? c->huge_left : 65536;

			free(c->out);
			c->out = malloc(chunk);
			memset(c->out, '7', chunk);
			c->out_len = chunk;
			c->out_off = 0;
			c->huge_left -= chunk;
		}
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0)
			return errno == EAGAIN;
		c->out_off += (size_t)n;
	}
	if (!c->keep_alive)
		return false;
	c->phase = C_READ;
	c->out_len = c->out_off = 0;
	if (strstr(c->in, "\r\n\r\n"))
		handle_request(c);
	return true;
}

/* Reads request bytes; false when the connection is done. */
static bool conn_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);

	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	if (c->phase == C_READ && strstr(c->in, "\r\n\r\n"))
		handle_request(c);
	else if (c->in_len >= sizeof c->in - 1)
		return false;
	return true;
}

static volatile sig_atomic_t stopping;
static void on_signal(int signo) { stopping = 1; }

int main(int argc, char **argv)
{
	const char *listen_at = "127.0.0.1:0", *port_file = NULL;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof addr;
	struct epoll_event ev, evs[MAX_EVENTS];
	int lfd, epfd, one = 1;
	bool listening = true;
	char host[64];
	int port;

	snprintf(st.version, sizeof st.version, "sha-0000000");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_at = argv[++i];
		else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
			snprintf(st.version, sizeof st.version, "%s", argv[++i]);
		else if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc)
			st.delay_ms = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: appserver [--listen HOST:PORT] [--port-file F] [--version V] [--delay MS]\n");
			return 2;
		}
	}
	if (sscanf(listen_at, "%63[^:]:%d", host, &port) != 2 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "appserver: bad --listen %s\n", listen_at);
		return 2;
	}
	addr.sin_port = htons((uint16_t)port);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
		fprintf(stderr, "appserver: cannot listen on %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&addr, &alen);
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", ntohs(addr.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			fprintf(stderr, "appserver: cannot write %s\n", port_file);
			return 1;
		}
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;             /* the listening socket */
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	while (!stopping) {
		int64_t now = now_ms(), wait = -1;
		bool accepting = nconns < MAX_CONNS;
		int n;

		if (accepting != listening) {
			ev.events = accepting ? EPOLLIN : 0;
			ev.data.ptr = NULL;
			epoll_ctl(epfd, EPOLL_CTL_MOD, lfd, &ev);
			listening = accepting;
		}
		for (size_t i = 0; i < nconns; i++) {
			struct conn *c = conns[i];

			if (c->phase == C_WAIT || c->phase == C_TRICKLE) {
				int64_t left = c->due > now ? c->due - now : 0;

				if (wait < 0 || left < wait)
					wait = left;
			}
		}
		n = epoll_wait(epfd, evs, MAX_EVENTS, (int)wait);
		if (n < 0 && errno != EINTR)
			break;
		now = now_ms();
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;

			if (!c) {
				int fd;

				while (nconns < MAX_CONNS &&
				    (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					c = calloc(1, sizeof *c);
					c->fd = fd;
					c->phase = C_READ;
					c->events = EPOLLIN;
					conns[nconns++] = c;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			c->revents = (short)evs[k].events;  /* EPOLLIN == POLLIN, and so on */
		}
		for (size_t i = nconns; i-- > 0;) {
			struct conn *c = conns[i];
			short re = c->revents;
			bool keep = true;

			c->revents = 0;
			if (!re && !((c->phase == C_WAIT || c->phase == C_TRICKLE) && c->due <= now))
				continue;
			if (re & (POLLERR | POLLNVAL)) {
				keep = false;
			} else if ((c->phase == C_READ || c->phase == C_HANG) && (re & (POLLIN | POLLHUP))) {
				keep = conn_read(c);
				if (keep && c->phase == C_WRITE)
					keep = conn_write(c);
			} else if (c->phase == C_WRITE && (re & POLLOUT)) {
				keep = conn_write(c);
			} else if (c->phase == C_WAIT && c->due <= now) {
				c->phase = C_WRITE;
				keep = conn_write(c);
			} else if (c->phase == C_TRICKLE && c->due <= now) {
				if (c->out_off < c->out_len) {
					ssize_t w = write(c->fd, c->out, c->out_len);

					keep = w >= 0;
					c->out_off = c->out_len;
				} else {
					keep = write(c->fd, " ", 1) == 1 || errno == EAGAIN;
				}
				c->due = now + 200;
			} else if ((c->phase == C_WAIT || c->phase == C_TRICKLE) && (re & (POLLIN | POLLHUP))) {
				char b[512];
				ssize_t r = read(c->fd, b, sizeof b);

				keep = r > 0 || (r < 0 && errno == EAGAIN);
			}
			if (!keep) {
				conn_close(i);      /* epoll forgets it with its fd */
				continue;
			}
			ev.events = c->phase == C_WRITE ? EPOLLOUT : EPOLLIN;
			if (ev.events != c->events) {
				ev.data.ptr = c;
				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				c->events = ev.events;
			}
		}
	}
	return 0;
}
